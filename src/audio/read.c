/* Audio files or in-memory audio files -> one mono float signal in memory (av_audio_read,
 * av_audio_read_memory / av_audio_free). Both open a SNDFILE (from a path, or through
 * libsndfile's virtual I/O over the caller's bytes) and share the checks and the decoding. */
#include <math.h>
#include <stdint.h>
#include <stdio.h> /* SEEK_SET */
#include <string.h>

#include <sndfile.h>

#include "autovoice/audio.h"
#include "core/internal.h"

/* Interleaved samples decoded per sf_readf_float call: the block holds about this many floats
 * whatever the channel count, so a many-channel file never needs a multi-channel copy of itself
 * (the down-mix happens block by block into the mono output). */
#define READ_BLOCK_SAMPLES 16384

/* Largest first allocation, in frames (16 MiB of floats). A header may claim any length (a
 * truncated or hostile file, or SF_COUNT_MAX when libsndfile cannot tell, e.g. some MP3
 * streams): longer files grow the buffer geometrically as they decode, so memory follows what is
 * really decoded, never what a header says. */
#define READ_FIRST_CAPACITY_FRAMES ((sf_count_t)1 << 22)

void av_audio_free(av_audio *audio)
{
    if (!audio)
        return;
    av__free(audio->samples);
    memset(audio, 0, sizeof *audio);
}

/* Grows *samples to hold at least `need` frames (geometric growth). Used for files longer than
 * READ_FIRST_CAPACITY_FRAMES, and when a file turns out longer than libsndfile said. */
static int grow(float **samples, sf_count_t *capacity, sf_count_t need)
{
    sf_count_t cap = *capacity;
    while (cap < need)
        cap = cap > INT64_MAX / 2 ? need : cap + cap / 2 + 1;
    if ((uint64_t)cap > SIZE_MAX / sizeof(float))
        return 0;
    float *p = av__realloc(*samples, (size_t)cap * sizeof(float));
    if (!p)
        return 0;
    *samples = p;
    *capacity = cap;
    return 1;
}

/* The checks av_audio_probe makes on a header, with its messages. */
static av_status check_header(const SF_INFO *sfi, const char *name, char *err, size_t err_size)
{
    if (sfi->frames <= 0)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: contains no audio (0 samples)", name);
    if (sfi->channels <= 0)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: invalid channel count %d", name,
                        sfi->channels);
    if (sfi->samplerate < AV_AUDIO_MIN_SAMPLE_RATE || sfi->samplerate > AV_AUDIO_MAX_SAMPLE_RATE)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: sample rate %d Hz is outside the supported %d-%d Hz", name,
                        sfi->samplerate, AV_AUDIO_MIN_SAMPLE_RATE, AV_AUDIO_MAX_SAMPLE_RATE);
    return AV_STATUS_OK;
}

/* Decodes the open file `f` (header `sfi`, already checked) into *out: down-mix, finiteness,
 * truncation. `name` goes into the messages. Does not close f. */
static av_status decode(SNDFILE *f, const SF_INFO *sfi, const char *name, av_audio *out, char *err,
                        size_t err_size)
{
    av_status st;
    float *samples = NULL, *block = NULL;
    const int channels = sfi->channels;
    const sf_count_t block_frames =
        channels >= READ_BLOCK_SAMPLES ? 1 : READ_BLOCK_SAMPLES / channels;
    block = av__mallocarray((size_t)block_frames * (size_t)channels, sizeof(float));
    sf_count_t capacity = sfi->frames < READ_FIRST_CAPACITY_FRAMES ? sfi->frames
                                                                   : READ_FIRST_CAPACITY_FRAMES;
    samples = av__mallocarray((size_t)capacity, sizeof(float));
    if (!block || !samples) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                      "%s: out of memory for %lld frames of audio", name, (long long)capacity);
        goto done;
    }

    sf_count_t frames = 0;
    for (;;) {
        sf_count_t got = sf_readf_float(f, block, block_frames);
        if (got <= 0)
            break;
        if (got > block_frames) { /* a decoder that overran our block: never trust it */
            st = av__fail(err, err_size, AV_STATUS_INTERNAL,
                          "%s: libsndfile returned more frames than asked for", name);
            goto done;
        }
        if (frames + got > capacity && !grow(&samples, &capacity, frames + got)) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                          "%s: out of memory after %lld frames of audio", name, (long long)frames);
            goto done;
        }
        for (sf_count_t i = 0; i < got; i++) {
            const float *frame = block + i * channels;
            /* Every channel sample is checked, not just the mean: two huge finite samples can sum
             * to infinity, and +inf / -inf in two channels cancel to NaN. */
            double sum = 0.0;
            for (int c = 0; c < channels; c++) {
                if (!isfinite(frame[c])) {
                    st = av__fail(err, err_size, AV_STATUS_FORMAT,
                                  "%s: contains NaN or infinite samples (first at sample %lld)",
                                  name, (long long)(frames + i));
                    goto done;
                }
                sum += frame[c];
            }
            samples[frames + i] = channels == 1 ? frame[0] : (float)(sum / channels);
        }
        frames += got;
    }
    if (sf_error(f) != SF_ERR_NO_ERROR) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: corrupt audio after %lld frames (%s)",
                      name, (long long)frames, sf_strerror(f));
        goto done;
    }
    if (frames == 0) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: contains no audio (0 samples)", name);
        goto done;
    }
    if (frames < capacity) {
        /* Shorter than the header said (a truncated file, an estimated MP3 length) or than the
         * grown buffer: keep what was decoded and give the rest back. A failed shrink leaves the
         * larger block, still valid. */
        float *p = av__realloc(samples, (size_t)frames * sizeof(float));
        if (p)
            samples = p;
    }

    out->samples = samples;
    out->frames = (int64_t)frames;
    out->sample_rate = sfi->samplerate;
    samples = NULL;
    st = AV_STATUS_OK;
done:
    av__free(samples);
    av__free(block);
    return st;
}

av_status av_audio_read(const char *path, av_audio *out, char *err, size_t err_size)
{
    if (!out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_audio_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_audio_read: path is NULL");

    /* The probe gives the missing-file / not-audio / empty / rate messages, the same ones the CLI's
     * `info` prints; the open below re-checks what the reading relies on. */
    av_audio_info info;
    av_status st = av_audio_probe(path, &info, err, err_size);
    if (st != AV_STATUS_OK)
        return st;

    SF_INFO sfi = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &sfi);
    if (!f)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: not a readable audio file (%s)", path,
                        sf_strerror(NULL));
    if (sfi.channels != info.channels || sfi.samplerate != info.sample_rate)
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: the file changed while being read", path);
    else if ((st = check_header(&sfi, path, err, err_size)) == AV_STATUS_OK)
        st = decode(f, &sfi, path, out, err, err_size);
    sf_close(f);
    return st;
}

/* ---- libsndfile virtual I/O over a read-only buffer --------------------------------------------- */

typedef struct memory_file {
    const unsigned char *data;
    sf_count_t size, pos;
} memory_file;

static sf_count_t vio_length(void *user)
{
    return ((memory_file *)user)->size;
}

/* Positions past the end are allowed (reads there return nothing), as with a file. */
static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
    memory_file *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos
                      : whence == SEEK_END ? m->size : -1;
    if (base < 0 || (offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
        return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *user)
{
    memory_file *m = user;
    if (count <= 0 || m->pos >= m->size)
        return 0;
    sf_count_t n = m->size - m->pos < count ? m->size - m->pos : count;
    memcpy(ptr, m->data + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0;
}

static sf_count_t vio_tell(void *user)
{
    return ((memory_file *)user)->pos;
}

av_status av_audio_read_memory(const void *data, size_t size, const char *name, av_audio *out,
                               char *err, size_t err_size)
{
    if (!out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_read_memory: out is NULL");
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(memory)";
    if (!data && size)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_read_memory: data is NULL");
    if ((uint64_t)size > (uint64_t)INT64_MAX)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: too large", name);
    SF_VIRTUAL_IO vio = {.get_filelen = vio_length, .seek = vio_seek, .read = vio_read,
                         .write = vio_write, .tell = vio_tell};
    memory_file m = {.data = data, .size = (sf_count_t)size, .pos = 0};
    SF_INFO sfi = {0};
    SNDFILE *f = sf_open_virtual(&vio, SFM_READ, &sfi, &m);
    if (!f)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: not a readable audio file (%s)", name,
                        sf_strerror(NULL));
    av_status st = check_header(&sfi, name, err, err_size);
    if (st == AV_STATUS_OK)
        st = decode(f, &sfi, name, out, err, err_size);
    sf_close(f);
    return st;
}
