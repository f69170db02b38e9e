/* autovoice: audio files. */
#ifndef AUTOVOICE_AUDIO_H
#define AUTOVOICE_AUDIO_H

#include <stdint.h>

#include "autovoice/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sample rates autovoice accepts, in Hz (inclusive). */
#define AV_AUDIO_MIN_SAMPLE_RATE 8000
#define AV_AUDIO_MAX_SAMPLE_RATE 192000

typedef struct av_audio_info {
    int sample_rate;    /* Hz */
    int channels;
    int64_t frames;     /* samples per channel */
    double seconds;     /* frames / sample_rate */
    char format[64];    /* container and encoding, e.g. "WAV, signed 16-bit PCM" */
} av_audio_info;

/* Reads the header of the audio file at `path` (any format libsndfile reads: WAV, FLAC,
 * OGG/Vorbis, MP3, ...) and checks what can be checked without decoding: the file exists and is
 * audio, it is not empty, and its sample rate is within [AV_AUDIO_MIN_SAMPLE_RATE,
 * AV_AUDIO_MAX_SAMPLE_RATE]. On error, `err` (err_size bytes, may be NULL) receives one line that
 * names the file and the problem, and *info is zeroed. Thread-safe. */
av_status av_audio_probe(const char *path, av_audio_info *info, char *err, size_t err_size);

/* A mono signal in memory: `frames` float samples in [-1, 1] nominal at `sample_rate` Hz.
 * `samples` is owned by the struct: release with av_audio_free. An empty signal has frames 0
 * and samples NULL. */
typedef struct av_audio {
    float *samples;
    int64_t frames;
    int sample_rate;
} av_audio;

/* Reads a whole audio file (any format libsndfile reads: WAV, FLAC, OGG/Vorbis, MP3, ...) into
 * *out, down-mixed to mono (mean of the channels, taken block by block: memory is one float per
 * frame), as float. A file shorter than its header says (truncated) gives the frames that could be
 * decoded. Refuses with a one-line message naming the file, and *out empty: a missing or
 * unreadable file, an unsupported or corrupt format (libsndfile's text in the message),
 * zero-length audio, NaN or infinite samples ("PATH: contains NaN or infinite samples (first at
 * sample N)", N the 0-based frame), a sample rate outside [AV_AUDIO_MIN_SAMPLE_RATE,
 * AV_AUDIO_MAX_SAMPLE_RATE]. Thread-safe for different `out`. */
av_status av_audio_read(const char *path, av_audio *out, char *err, size_t err_size);

/* av_audio_read for a whole audio file held in memory: `size` bytes at `data` (read only, not
 * kept after the call) are decoded through libsndfile's virtual I/O, with the same formats,
 * down-mix, checks and messages, the file name in them replaced by `name` (NULL reads
 * "(memory)"). `data` may be NULL only when size is 0 (refused as not audio). Any bytes are safe
 * to pass: memory use follows the audio actually decoded, not the length a header claims.
 * Thread-safe for different `out`. */
av_status av_audio_read_memory(const void *data, size_t size, const char *name, av_audio *out,
                               char *err, size_t err_size);

/* Releases audio->samples and empties *audio. NULL and empty signals are fine. */
void av_audio_free(av_audio *audio);

typedef enum av_audio_format {
    AV_AUDIO_FORMAT_WAV_PCM16 = 0,
    AV_AUDIO_FORMAT_WAV_PCM24 = 1,
    AV_AUDIO_FORMAT_WAV_FLOAT = 2,
    AV_AUDIO_FORMAT_FLAC_16 = 3,
    AV_AUDIO_FORMAT_FLAC_24 = 4
} av_audio_format;

/* Chooses a format from a file name's extension, case-insensitive: .wav -> WAV PCM 16-bit,
 * .flac -> FLAC 24-bit. Any other extension, or none, is AV_STATUS_INVALID_ARGUMENT with a
 * message naming the file. */
av_status av_audio_format_from_path(const char *path, av_audio_format *format, char *err,
                                    size_t err_size);

/* Writes `audio` (1 or more finite frames at a rate within [AV_AUDIO_MIN_SAMPLE_RATE,
 * AV_AUDIO_MAX_SAMPLE_RATE]) to `path` in `format`. The data goes to a new temporary file in the
 * same directory (PATH.tmp, or PATH.tmp.1, ... when that exists: an existing file is never
 * reused), is fsync'ed, and is renamed over PATH at the end; any failure removes the temporary
 * file, so PATH is either untouched or the complete new file. PATH must not exist as anything
 * but a regular file (a symbolic link to one is replaced by the new file itself). The caller
 * checks that PATH is not an input. Samples beyond [-1, 1] are clipped for the integer formats;
 * the number of samples clipped goes to *clipped when it is not NULL (always 0 for WAV float,
 * which stores samples as they are). NaN or infinite samples are refused before anything is
 * created. WAV is limited to 4 GiB of data. */
av_status av_audio_write(const char *path, const av_audio *audio, av_audio_format format,
                         int64_t *clipped, char *err, size_t err_size);

/* Resamples `in` to `rate` Hz with libsoxr at its high-quality setting (SOXR_HQ, linear phase,
 * delay compensated) into a new signal *out (the same rate copies). Both rates must lie within
 * [AV_AUDIO_MIN_SAMPLE_RATE, AV_AUDIO_MAX_SAMPLE_RATE] and the samples be finite. The output
 * length is exactly round(in->frames * rate / in->sample_rate), halves rounded up: soxr's own
 * output is trimmed, or padded with zeros at the end, to that length (it differs by a sample at
 * most). `out` must not be `in`; on error *out is empty. Thread-safe for different `out`. */
av_status av_audio_resample(const av_audio *in, int rate, av_audio *out, char *err,
                            size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_AUDIO_H */
