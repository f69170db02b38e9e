/* Audio files -> one mono float signal in memory (av_audio_read / av_audio_free). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <sndfile.h>

#include "autovoice/audio.h"
#include "core/internal.h"

/* Interleaved samples decoded per sf_readf_float call: the block holds about this many floats
 * whatever the channel count, so a many-channel file never needs a multi-channel copy of itself
 * (the down-mix happens block by block into the mono output). */
#define READ_BLOCK_SAMPLES 16384

/* First capacity when libsndfile cannot tell the length (SF_COUNT_MAX, e.g. some MP3 streams). */
#define READ_UNKNOWN_LENGTH_FRAMES ((sf_count_t)1 << 20)

void av_audio_free(av_audio *audio)
{
    if (!audio)
        return;
    av__free(audio->samples);
    memset(audio, 0, sizeof *audio);
}

/* Grows *samples to hold at least `need` frames (geometric growth). Only used when the file turns
 * out longer than libsndfile said: normally the first allocation is exact. */
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
    SNDFILE *f = NULL;
    float *samples = NULL, *block = NULL;
    f = sf_open(path, SFM_READ, &sfi);
    if (!f) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: not a readable audio file (%s)", path,
                      sf_strerror(NULL));
        goto done;
    }
    if (sfi.channels != info.channels || sfi.samplerate != info.sample_rate || sfi.frames <= 0) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: the file changed while being read", path);
        goto done;
    }

    const int channels = sfi.channels;
    const sf_count_t block_frames =
        channels >= READ_BLOCK_SAMPLES ? 1 : READ_BLOCK_SAMPLES / channels;
    block = av__mallocarray((size_t)block_frames * (size_t)channels, sizeof(float));
    sf_count_t capacity = sfi.frames == SF_COUNT_MAX ? READ_UNKNOWN_LENGTH_FRAMES : sfi.frames;
    if ((uint64_t)capacity > SIZE_MAX / sizeof(float)) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: too long (%lld frames)", path,
                      (long long)sfi.frames);
        goto done;
    }
    samples = av__mallocarray((size_t)capacity, sizeof(float));
    if (!block || !samples) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                      "%s: out of memory for %lld frames of audio", path, (long long)capacity);
        goto done;
    }

    sf_count_t frames = 0;
    for (;;) {
        sf_count_t got = sf_readf_float(f, block, block_frames);
        if (got <= 0)
            break;
        if (frames + got > capacity && !grow(&samples, &capacity, frames + got)) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                          "%s: out of memory after %lld frames of audio", path, (long long)frames);
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
                                  path, (long long)(frames + i));
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
                      path, (long long)frames, sf_strerror(f));
        goto done;
    }
    if (frames == 0) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: contains no audio (0 samples)", path);
        goto done;
    }
    if (frames < capacity) {
        /* Shorter than the header said (a truncated file, an estimated MP3 length): keep what was
         * decoded and give the rest back. A failed shrink leaves the larger block, still valid. */
        float *p = av__realloc(samples, (size_t)frames * sizeof(float));
        if (p)
            samples = p;
    }

    out->samples = samples;
    out->frames = (int64_t)frames;
    out->sample_rate = sfi.samplerate;
    samples = NULL;
    st = AV_STATUS_OK;
done:
    av__free(samples);
    av__free(block);
    if (f)
        sf_close(f);
    return st;
}
