/* Sample-rate conversion of a mono float signal with libsoxr (av_audio_resample). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <soxr.h>

#include "autovoice/audio.h"
#include "core/internal.h"

static int rate_ok(int rate)
{
    return rate >= AV_AUDIO_MIN_SAMPLE_RATE && rate <= AV_AUDIO_MAX_SAMPLE_RATE;
}

av_status av_audio_resample(const av_audio *in, int rate, av_audio *out, char *err,
                            size_t err_size)
{
    if (!out || !in || out == in)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_resample: %s", !out || !in ? "in or out is NULL"
                                                             : "out must not be the input");
    memset(out, 0, sizeof *out);
    if (in->frames < 0 || (in->frames > 0 && !in->samples))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_resample: invalid input (%lld frames, samples %s)",
                        (long long)in->frames, in->samples ? "set" : "NULL");
    if (!rate_ok(in->sample_rate) || !rate_ok(rate))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_resample: %d Hz -> %d Hz: rates must be within %d-%d Hz",
                        in->sample_rate, rate, AV_AUDIO_MIN_SAMPLE_RATE,
                        AV_AUDIO_MAX_SAMPLE_RATE);

    /* round(frames * rate / in_rate), halves rounded up, in exact integer arithmetic. */
    const int64_t in_rate = in->sample_rate;
    if (in->frames > (INT64_MAX - in_rate) / (2 * (int64_t)rate))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_resample: %lld frames are too many to resample",
                        (long long)in->frames);
    const int64_t n_out = (in->frames * 2 * rate + in_rate) / (2 * in_rate);
    if ((uint64_t)n_out > SIZE_MAX / sizeof(float))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                        "av_audio_resample: %lld output frames do not fit in memory",
                        (long long)n_out);

    /* soxr would spread one NaN over the filter length; refuse it at its index instead. */
    for (int64_t i = 0; i < in->frames; i++)
        if (!isfinite(in->samples[i]))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "av_audio_resample: sample %lld is NaN or infinite", (long long)i);

    if (n_out == 0) {
        out->sample_rate = rate;
        return AV_STATUS_OK;
    }
    float *samples = av__mallocarray((size_t)n_out, sizeof(float));
    if (!samples)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                        "av_audio_resample: out of memory for %lld frames", (long long)n_out);

    if (rate == in->sample_rate) {
        memcpy(samples, in->samples, (size_t)n_out * sizeof(float));
    } else {
        /* One shot over the whole signal: soxr aligns its output with the input (the filter delay
         * is removed) and flushes the tail. Its natural length can differ from n_out by a sample
         * or so: it stops when `samples` is full (trim), and a shortfall is padded with zeros, as
         * if the input continued in silence. Single-threaded (runtime spec 1): reproducible. */
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        size_t used = 0, made = 0;
        soxr_error_t e = soxr_oneshot((double)in->sample_rate, (double)rate, 1, in->samples,
                                      (size_t)in->frames, &used, samples, (size_t)n_out, &made,
                                      &io, &q, &rt);
        if (e) {
            av__free(samples);
            return av__fail(err, err_size, AV_STATUS_INTERNAL,
                            "av_audio_resample: %d Hz -> %d Hz: soxr failed: %s",
                            in->sample_rate, rate, e);
        }
        if (made < (size_t)n_out)
            memset(samples + made, 0, ((size_t)n_out - made) * sizeof(float));
    }
    out->samples = samples;
    out->frames = n_out;
    out->sample_rate = rate;
    return AV_STATUS_OK;
}
