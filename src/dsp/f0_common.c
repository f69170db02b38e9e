/* F0 tracking: the public entry point, argument checks, and the front end both trackers share
 * (decimation, framing, difference function, CMND) plus the post-filters. */
#include <math.h>
#include <string.h>

#include "autovoice/audio.h"
#include "core/internal.h"
#include "dsp/f0_internal.h"

av_f0_config av_f0_config_default(void)
{
    av_f0_config c;
    memset(&c, 0, sizeof c);
    c.method = AV_F0_METHOD_PYIN;
    c.f0_min = 80.0f;
    c.f0_max = 1000.0f;
    c.hop_seconds = 0.010;
    c.threshold = 0.1f;
    c.yin_fallback = 0.35f;
    c.post_filter = 1;
    return c;
}

const char *av_f0_method_name(av_f0_method method)
{
    switch (method) {
    case AV_F0_METHOD_YIN: return "yin";
    case AV_F0_METHOD_PYIN: return "pyin";
    }
    return NULL;
}

void av_f0_free(av_f0_frame *frames) { av__free(frames); }

/* ---- geometry and decimation ------------------------------------------------------------- */

/* The analysis rate is brought down to [16, 32) kHz (but never below 8 * f0_max): above that
 * the lag resolution gains nothing that parabolic interpolation does not already give, while
 * the difference function's cost grows with the square of the rate. */
static int decimation_factor(int sample_rate, double f0_max)
{
    double floor_rate = 8.0 * f0_max > 16000.0 ? 8.0 * f0_max : 16000.0;
    int d = (int)floor((double)sample_rate / floor_rate);
    return d < 1 ? 1 : d;
}

av_status av__f0_geom_init(av__f0_geom *g, int64_t n, int sample_rate, const av_f0_config *cfg,
                           char *err, size_t err_size)
{
    memset(g, 0, sizeof *g);
    g->decim = decimation_factor(sample_rate, cfg->f0_max);
    g->rate = (double)sample_rate / g->decim;
    g->tau_min = (int)floor(g->rate / cfg->f0_max);
    if (g->tau_min < 2)
        g->tau_min = 2;
    g->tau_max = (int)ceil(g->rate / cfg->f0_min);
    g->window = g->tau_max;
    g->frame_len = g->window + g->tau_max + 1;
    g->hop = cfg->hop_seconds * g->rate;
    int64_t need = (int64_t)g->frame_len * g->decim;
    if (n < need)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: %lld samples is shorter than one analysis frame (%lld samples = 2 "
                        "periods of f0_min %.1f Hz at %d Hz)",
                        (long long)n, (long long)need, cfg->f0_min, sample_rate);
    g->n = (n + g->decim - 1) / g->decim;
    /* every centre t * hop_seconds within the input; after decimation the last centre may
     * round to one sample past the analysed signal, which reads as zero like any edge */
    g->n_frames = (int64_t)floor((double)(n - 1) / (cfg->hop_seconds * sample_rate)) + 1;
    return AV_STATUS_OK;
}

int64_t av__f0_frame_centre(const av__f0_geom *g, int64_t t) { return llround((double)t * g->hop); }

enum { DECIM_HALF = 12 }; /* filter half-length, in output samples */

void av__f0_decimate(const float *x, int64_t n, const av__f0_geom *g, float gain, float *y)
{
    const int d = g->decim;
    if (d == 1) {
        for (int64_t i = 0; i < n; i++)
            y[i] = gain * x[i];
        return;
    }
    /* h[k], k = 0..2M: Blackman-windowed sinc, cut-off fc = 0.45 / d cycles per input sample,
     * normalised to a DC gain of `gain`. At most 2 * 12 * 12 + 1 taps (d <= 12 since the rate is
     * at most 192 kHz and the analysis rate at least 16 kHz). */
    const int m = DECIM_HALF * d, taps = 2 * m + 1;
    float h[2 * DECIM_HALF * 12 + 1];
    const double pi = 3.14159265358979323846, fc = 0.45 / d;
    double hd[2 * DECIM_HALF * 12 + 1], sum = 0.0;
    for (int k = 0; k < taps; k++) {
        double t = k - m;
        double s = t == 0.0 ? 2.0 * fc : sin(2.0 * pi * fc * t) / (pi * t);
        double w = 0.42 - 0.5 * cos(2.0 * pi * k / (taps - 1)) + 0.08 * cos(4.0 * pi * k / (taps - 1));
        hd[k] = s * w;
        sum += hd[k];
    }
    for (int k = 0; k < taps; k++)
        h[k] = (float)(hd[k] * gain / sum);
    for (int64_t i = 0; i < g->n; i++) {
        int64_t start = i * d - m;
        int k0 = start < 0 ? (int)-start : 0;
        int k1 = start + taps > n ? (int)(n - start) : taps;
        float acc = 0.0f;
        for (int k = k0; k < k1; k++)
            acc += h[k] * x[start + k];
        y[i] = acc;
    }
}

/* ---- difference function ------------------------------------------------------------------ */

void av__f0_diff(const float *f, int w, int tau_top, float *d)
{
    const int half = (w + tau_top) / 2;
    for (int tau = 0; tau <= tau_top; tau++) {
        const float *a = f + (half - (w + tau) / 2), *b = a + tau;
        /* Eight partial sums: independent chains that gcc keeps in vector registers at -O2
         * without reassociation flags, 4-5x faster than one running sum. */
        float s[8] = {0};
        int j = 0;
        for (; j + 8 <= w; j += 8)
            for (int l = 0; l < 8; l++) {
                float e = a[j + l] - b[j + l];
                s[l] += e * e;
            }
        float r = 0.0f;
        for (; j < w; j++) {
            float e = a[j] - b[j];
            r += e * e;
        }
        d[tau] = r + ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
}

void av__f0_cmnd(const float *d, int tau_top, float *c)
{
    c[0] = 1.0f;
    double sum = 0.0;
    for (int tau = 1; tau <= tau_top; tau++) {
        sum += d[tau];
        c[tau] = sum > 0.0 ? (float)(d[tau] * (double)tau / sum) : 1.0f;
    }
}

double av__f0_parabolic(const float *v, int tau)
{
    double a = v[tau - 1], b = v[tau], e = v[tau + 1];
    double den = a - 2.0 * b + e;
    if (!(den > 0.0))
        return tau;
    double shift = 0.5 * (a - e) / den;
    if (shift > 1.0)
        shift = 1.0;
    if (shift < -1.0)
        shift = -1.0;
    return tau + shift;
}

/* ---- per-frame engine ----------------------------------------------------------------------- */

struct av__f0_frames {
    const av__f0_geom *g;
    float *frame;       /* [frame_len] */
    float *d;           /* [tau_max + 2] */
    float *c;           /* [tau_max + 2] */
};

av__f0_frames *av__f0_frames_create(const av__f0_geom *g)
{
    av__f0_frames *fr = av__calloc(1, sizeof *fr);
    if (!fr)
        return NULL;
    fr->g = g;
    fr->frame = av__mallocarray((size_t)g->frame_len, sizeof *fr->frame);
    fr->d = av__mallocarray((size_t)g->tau_max + 2, sizeof *fr->d);
    fr->c = av__mallocarray((size_t)g->tau_max + 2, sizeof *fr->c);
    if (!fr->frame || !fr->d || !fr->c) {
        av__f0_frames_free(fr);
        return NULL;
    }
    return fr;
}

void av__f0_frames_free(av__f0_frames *fr)
{
    if (!fr)
        return;
    av__free(fr->frame);
    av__free(fr->d);
    av__free(fr->c);
    av__free(fr);
}

const float *av__f0_frames_cmnd(av__f0_frames *fr, const float *y, int64_t t, const float **d)
{
    const av__f0_geom *g = fr->g;
    const int len = g->frame_len, tau_top = g->tau_max + 1;
    int64_t start = av__f0_frame_centre(g, t) - len / 2;
    if (start >= 0 && start + len <= g->n) {
        memcpy(fr->frame, y + start, (size_t)len * sizeof *fr->frame);
    } else {
        for (int j = 0; j < len; j++) {
            int64_t i = start + j;
            fr->frame[j] = i >= 0 && i < g->n ? y[i] : 0.0f;
        }
    }
    av__f0_diff(fr->frame, g->window, tau_top, fr->d);
    av__f0_cmnd(fr->d, tau_top, fr->c);
    if (d)
        *d = fr->d;
    return fr->c;
}

/* ---- post-filters ------------------------------------------------------------------------- */

static float median3(float a, float b, float c)
{
    if (a > b) {
        float t = a;
        a = b;
        b = t;
    }
    /* a <= b */
    if (c <= a)
        return a;
    return c < b ? c : b;
}

void av__f0_post_filter(av_f0_frame *frames, int64_t n)
{
    if (n <= 0)
        return;
    /* One pass with a three-frame history of the unfiltered values. */
    av_f0_frame prev = frames[0], cur = frames[0];
    for (int64_t t = 0; t < n; t++) {
        av_f0_frame next = t + 1 < n ? frames[t + 1] : frames[t];
        frames[t].confidence = median3(prev.confidence, cur.confidence, next.confidence);
        int votes = (prev.voiced != 0) + (cur.voiced != 0) + (next.voiced != 0);
        frames[t].voiced = votes >= 2 && cur.f0 > 0.0f;
        prev = cur;
        cur = next;
    }
    /* Mean filter over the voiced frames (voicing as filtered above), unfiltered F0. */
    float f_prev = frames[0].f0, f_cur = frames[0].f0;
    int v_prev = 0;
    for (int64_t t = 0; t < n; t++) {
        float f_next = t + 1 < n ? frames[t + 1].f0 : 0.0f;
        int v_next = t + 1 < n ? frames[t + 1].voiced : 0;
        if (frames[t].voiced) {
            /* within 100 cents: ratio in [2^(-1/12), 2^(1/12)] */
            const float lo = 0.94387431f, hi = 1.05946309f;
            double sum = f_cur;
            int count = 1;
            if (v_prev && f_prev >= lo * f_cur && f_prev <= hi * f_cur) {
                sum += f_prev;
                count++;
            }
            if (v_next && f_next >= lo * f_cur && f_next <= hi * f_cur) {
                sum += f_next;
                count++;
            }
            frames[t].f0 = (float)(sum / count);
        }
        v_prev = frames[t].voiced;
        f_prev = f_cur;
        f_cur = f_next;
    }
}

/* ---- entry point ---------------------------------------------------------------------------- */

static av_status check_config(const av_f0_config *c, int sample_rate, char *err, size_t err_size)
{
    if (c->method != AV_F0_METHOD_YIN && c->method != AV_F0_METHOD_PYIN)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "f0: unknown method %d",
                        (int)c->method);
    if (!isfinite(c->f0_min) || !isfinite(c->f0_max) || c->f0_min < 20.0f ||
        c->f0_min >= c->f0_max)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: need 20 <= f0_min < f0_max, got f0_min %g Hz, f0_max %g Hz",
                        (double)c->f0_min, (double)c->f0_max);
    if (c->f0_max > sample_rate / 4.0f)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: f0_max %g Hz is above a quarter of the sample rate (%d Hz)",
                        (double)c->f0_max, sample_rate);
    if (!isfinite(c->hop_seconds) || c->hop_seconds * sample_rate < 1.0 || c->hop_seconds > 1.0)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: hop_seconds %g is outside [1 sample, 1 s]", c->hop_seconds);
    if (!(c->threshold > 0.0f && c->threshold <= 0.5f))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: threshold %g is outside (0, 0.5]", (double)c->threshold);
    if (!(c->yin_fallback >= c->threshold && c->yin_fallback <= 1.0f))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: yin_fallback %g is outside [threshold %g, 1]",
                        (double)c->yin_fallback, (double)c->threshold);
    if (c->post_filter != 0 && c->post_filter != 1)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: post_filter must be 0 or 1, got %d", c->post_filter);
    return AV_STATUS_OK;
}

av_status av_f0_track(const float *samples, int64_t n, int sample_rate, const av_f0_config *cfg,
                      av_f0_frame **frames, int64_t *n_frames, char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (frames)
        *frames = NULL;
    if (n_frames)
        *n_frames = 0;
    if (!samples || !frames || !n_frames)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: samples, frames and n_frames must not be NULL");
    if (n <= 0)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: no samples (n = %lld)", (long long)n);
    if (sample_rate < AV_AUDIO_MIN_SAMPLE_RATE || sample_rate > AV_AUDIO_MAX_SAMPLE_RATE)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "f0: sample rate %d Hz is outside [%d, %d]", sample_rate,
                        AV_AUDIO_MIN_SAMPLE_RATE, AV_AUDIO_MAX_SAMPLE_RATE);
    av_f0_config def = av_f0_config_default();
    if (!cfg)
        cfg = &def;
    av_status st = check_config(cfg, sample_rate, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    float peak = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(samples[i]))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "f0: sample %lld is not finite (%g)", (long long)i,
                            (double)samples[i]);
        float a = fabsf(samples[i]);
        if (a > peak)
            peak = a;
    }
    av__f0_geom g;
    st = av__f0_geom_init(&g, n, sample_rate, cfg, err, err_size);
    if (st != AV_STATUS_OK)
        return st;

    float *y = av__mallocarray((size_t)g.n, sizeof *y);
    av_f0_frame *out = av__calloc((size_t)g.n_frames, sizeof *out);
    if (!y || !out) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                      "f0: out of memory for %lld samples", (long long)n);
        goto done;
    }
    /* The trackers are scale-invariant; bringing the peak to 1 keeps the sums of squares away
     * from overflow (samples near FLT_MAX) and underflow. A peak below 1e-30 is silence. */
    av__f0_decimate(samples, n, &g, peak > 1e-30f ? 1.0f / peak : 0.0f, y);
    if (cfg->method == AV_F0_METHOD_YIN)
        st = av__f0_yin_run(y, &g, cfg, out, err, err_size);
    else
        st = av__f0_pyin_run(y, &g, cfg, out, err, err_size);
    if (st != AV_STATUS_OK)
        goto done;
    if (cfg->post_filter)
        av__f0_post_filter(out, g.n_frames);
    for (int64_t t = 0; t < g.n_frames; t++) {
        if (!out[t].voiced)
            out[t].f0 = 0.0f;
        else if (out[t].f0 < cfg->f0_min)
            out[t].f0 = cfg->f0_min;
        else if (out[t].f0 > cfg->f0_max)
            out[t].f0 = cfg->f0_max;
    }
    *frames = out;
    *n_frames = g.n_frames;
    out = NULL;
done:
    av__free(y);
    av__free(out);
    return st;
}
