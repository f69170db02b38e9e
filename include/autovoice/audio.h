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

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_AUDIO_H */
