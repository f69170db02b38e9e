/* Mel spectrogram definitions: checks, filterbank, forward log-mel. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "dsp/mel.h"
#include "dsp/stft.h"

av_status av__mel_spec_check(const av__mel_spec *s, char *err, size_t err_size)
{
    if (!s)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "mel spec is NULL");
#define BAD(...) return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, __VA_ARGS__)
    if (s->sample_rate < AV__MEL_MIN_RATE || s->sample_rate > AV__MEL_MAX_RATE)
        BAD("sample_rate %d is outside [%d, %d]", s->sample_rate, AV__MEL_MIN_RATE,
            AV__MEL_MAX_RATE);
    if (s->n_fft < AV__MEL_MIN_FFT || s->n_fft > AV__MEL_MAX_FFT || s->n_fft % 2 != 0)
        BAD("n_fft %d is not an even number in [%d, %d]", s->n_fft, AV__MEL_MIN_FFT,
            AV__MEL_MAX_FFT);
    if (s->win_length < 1 || s->win_length > s->n_fft)
        BAD("win_length %d is outside [1, n_fft %d]", s->win_length, s->n_fft);
    if (s->hop_length < 1 || s->hop_length > s->win_length)
        BAD("hop_length %d is outside [1, win_length %d]", s->hop_length, s->win_length);
    if (s->center != 0 && s->center != 1)
        BAD("center %d is neither 0 nor 1", s->center);
    if (s->n_mels < 1 || s->n_mels > AV__MEL_MAX_MELS)
        BAD("n_mels %d is outside [1, %d]", s->n_mels, AV__MEL_MAX_MELS);
    if (!(s->f_min >= 0.0) || !(s->f_max <= s->sample_rate / 2.0) || !(s->f_min < s->f_max))
        BAD("need 0 <= f_min < f_max <= sample_rate / 2, have f_min %g, f_max %g, sample_rate %d",
            s->f_min, s->f_max, s->sample_rate);
    if (s->scale != AV__MEL_SCALE_HTK && s->scale != AV__MEL_SCALE_SLANEY)
        BAD("unknown mel scale %d", (int)s->scale);
    if (s->norm != AV__MEL_NORM_NONE && s->norm != AV__MEL_NORM_SLANEY)
        BAD("unknown mel norm %d", (int)s->norm);
    if (s->power != 1 && s->power != 2)
        BAD("power %d is neither 1 nor 2", s->power);
    if (s->log != AV__MEL_LOG_ADD && s->log != AV__MEL_LOG_CLAMP)
        BAD("unknown log mode %d", (int)s->log);
    if (!(s->log_floor > 0.0 && s->log_floor <= 1.0))
        BAD("log_floor %g is outside (0, 1]", s->log_floor);
#undef BAD
    return AV_STATUS_OK;
}

int64_t av__mel_pad(const av__mel_spec *spec)
{
    return spec->center ? spec->n_fft / 2 : (spec->n_fft - spec->hop_length) / 2;
}

int64_t av__mel_frames(const av__mel_spec *spec, int64_t n)
{
    if (n < 1 || n > INT64_MAX / 4)
        return 0;
    const int64_t padded = n + 2 * av__mel_pad(spec);
    return padded < spec->n_fft ? 0 : 1 + (padded - spec->n_fft) / spec->hop_length;
}

/* Slaney: 3 mels per 200 Hz below 1 kHz, 27 mels per factor 6.4 above. */
#define SLANEY_LOGSTEP (1.8562979903656263 / 27.0) /* ln(6.4) / 27 */

static double hz_to_mel(double f, av__mel_scale scale)
{
    if (scale == AV__MEL_SCALE_HTK)
        return 2595.0 * log10(1.0 + f / 700.0);
    return f >= 1000.0 ? 15.0 + log(f / 1000.0) / SLANEY_LOGSTEP : 3.0 * f / 200.0;
}

static double mel_to_hz(double m, av__mel_scale scale)
{
    if (scale == AV__MEL_SCALE_HTK)
        return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
    return m >= 15.0 ? 1000.0 * exp(SLANEY_LOGSTEP * (m - 15.0)) : 200.0 * m / 3.0;
}

void av__mel_filterbank(const av__mel_spec *spec, float *fb)
{
    const int bins = spec->n_fft / 2 + 1, n_mels = spec->n_mels;
    const double nyquist = spec->sample_rate / 2.0;
    const double m_lo = hz_to_mel(spec->f_min, spec->scale);
    const double m_hi = hz_to_mel(spec->f_max, spec->scale);
    /* Edges as numpy.linspace gives them: start + i * step, the last one exactly the end. */
    const double m_step = (m_hi - m_lo) / (n_mels + 1);
    for (int i = 0; i < n_mels; i++) {
        double e[3];
        for (int j = 0; j < 3; j++) {
            int at = i + j;
            e[j] = mel_to_hz(at == n_mels + 1 ? m_hi : m_lo + at * m_step, spec->scale);
        }
        const double norm = spec->norm == AV__MEL_NORM_SLANEY ? 2.0 / (e[2] - e[0]) : 1.0;
        for (int k = 0; k < bins; k++) {
            double f = k == bins - 1 ? nyquist : k * (nyquist / (bins - 1));
            double rising = (f - e[0]) / (e[1] - e[0]);
            double falling = (e[2] - f) / (e[2] - e[1]);
            double v = rising < falling ? rising : falling;
            fb[(size_t)i * bins + k] = (float)(v > 0.0 ? v * norm : 0.0);
        }
    }
}

av_status av__log_mel(const av__mel_spec *spec, const float *x, int64_t n, float *out, char *err,
                      size_t err_size)
{
    av_status st = av__mel_spec_check(spec, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    if (!x || !out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "log-mel: %s is NULL",
                        x ? "out" : "x");
    const int64_t frames = av__mel_frames(spec, n);
    if (frames < 1)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "log-mel: %lld samples are shorter than one frame", (long long)n);
    const int n_fft = spec->n_fft, bins = n_fft / 2 + 1, hop = spec->hop_length;
    const int64_t pad = av__mel_pad(spec);
    av__fft fft;
    float *fb = av__mallocarray((size_t)spec->n_mels * bins, sizeof(float));
    float *w = av__mallocarray((size_t)n_fft, sizeof(float));
    double *mag = av__mallocarray((size_t)bins, sizeof(double));
    if ((st = av__fft_init(&fft, n_fft, err, err_size)) != AV_STATUS_OK)
        goto done;
    if (!fb || !w || !mag) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "log-mel: out of memory");
        goto done;
    }
    av__mel_filterbank(spec, fb);
    av__stft_window(n_fft, spec->win_length, w);
    for (int64_t t = 0; t < frames; t++) {
        const int64_t start = t * hop - pad;
        for (int j = 0; j < n_fft; j++) {
            int64_t i = start + j;
            fft.time[j] = w[j] * x[i >= 0 && i < n ? i : av__reflect_index(i, n)];
        }
        av__fft_forward(&fft);
        for (int k = 0; k < bins; k++) {
            double re = fft.freq[2 * k], im = fft.freq[2 * k + 1];
            double p = re * re + im * im;
            mag[k] = spec->power == 2 ? p : sqrt(p);
        }
        for (int m = 0; m < spec->n_mels; m++) {
            const float *row = fb + (size_t)m * bins;
            double mel = 0.0;
            for (int k = 0; k < bins; k++)
                mel += row[k] * mag[k];
            double v = spec->log == AV__MEL_LOG_ADD ? mel + spec->log_floor
                       : (mel > spec->log_floor ? mel : spec->log_floor);
            out[(size_t)m * (size_t)frames + (size_t)t] = (float)log(v);
        }
    }
    st = AV_STATUS_OK;
done:
    av__fft_free(&fft);
    av__free(fb);
    av__free(w);
    av__free(mag);
    return st;
}
