/* F0 trackers: the difference function against a double-precision loop, the post-filters, bad
 * arguments, pure tones at every rate, and the accuracy of both trackers on synthetic singing
 * with known F0 (clean and with white noise at 20 dB SNR), at 16 kHz and 44.1 kHz. The accuracy table printed here is the one in docs/F0.md.
 *
 * Synthetic singing: 10 harmonics with amplitudes 1/h (band-limited below 0.45 of the rate),
 * random fixed phases, notes with 5.5 Hz +-50 cent vibrato across 87-950 Hz, an octave glide
 * up and one down, octave leaps up and down, silences, and high-passed noise bursts (one alone,
 * one right before a note, like "sa"). Notes have 20 ms linear attack/release ramps; every
 * boundary lies 5 ms off the 10 ms frame grid, so no frame centre sits on one. Ground truth per
 * frame: voiced where a note sounds at the frame centre, F0 its instantaneous frequency there.
 * Noise: white Gaussian, power = mean power of the voiced samples / 100.
 * Metrics: RPA = fraction of truly voiced frames estimated voiced and within 50 cents;
 * voicing precision/recall/F1 of the voiced decision. Seeds are fixed (printed). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autovoice/autovoice.h"
#include "check.h"
#include "dsp/f0_internal.h"

static const double two_pi = 6.283185307179586476925286766559;

/* ---- deterministic random numbers ------------------------------------------------------------ */

static uint64_t rng_state;

static void rng_seed(uint64_t seed) { rng_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

static double rng_uniform(void) /* [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_gauss(void)
{
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(two_pi * v);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- difference function against a double loop ----------------------------------------------- */

static void test_difference(void)
{
    static const int sizes[][2] = {{1, 1}, {1, 2}, {3, 2}, {7, 5}, {8, 8}, {13, 17},
                                   {101, 102}, {257, 258}, {499, 500}, {1103, 1104}};
    rng_seed(12);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0], top = sizes[s][1], len = w + top;
        float *f = malloc(sizeof(float) * (size_t)len);
        float *d = malloc(sizeof(float) * (size_t)(top + 1));
        /* a periodic part plus noise, like a voiced frame */
        for (int i = 0; i < len; i++)
            f[i] = (float)(sin(two_pi * i / 37.3) + 0.3 * (2.0 * rng_uniform() - 1.0));
        av__f0_diff(f, w, top, d);
        double err = 0.0, e_max = 0.0;
        for (int tau = 0; tau <= top; tau++) {
            int o = len / 2 - (w + tau) / 2; /* the window of lag tau, centred on the frame */
            CHECK(o >= 0 && o + w + tau <= len);
            double ref = 0.0, e = 0.0;
            for (int j = 0; j < w; j++) {
                double x = (double)f[o + j] - f[o + j + tau];
                ref += x * x;
                e += (double)f[o + j] * f[o + j] + (double)f[o + j + tau] * f[o + j + tau];
            }
            err = fmax(err, fabs(d[tau] - ref));
            e_max = fmax(e_max, e);
        }
        if (!(err <= 1e-5 * (e_max + 1.0)))
            fprintf(stderr, "diff w=%d tau_top=%d: max error %g (frame energy %g)\n", w, top, err,
                    e_max);
        CHECK(err <= 1e-5 * (e_max + 1.0));
        free(f);
        free(d);
    }
    /* CMND of silence is flat 1; parabolic vertex of a sampled parabola is exact */
    float d[6] = {0}, c[6];
    av__f0_cmnd(d, 5, c);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(c[i], 1.0, 0);
    float par[5];
    for (int i = 0; i < 5; i++)
        par[i] = (float)((i - 2.3) * (i - 2.3));
    CHECK_NEAR(av__f0_parabolic(par, 2), 2.3, 1e-5);
    CHECK_NEAR(av__f0_parabolic(par, 3), 2.3, 1e-5);
}

/* ---- post-filters ---------------------------------------------------------------------------- */

static void test_post_filter(void)
{
    /* voicing: majority of 3, ends repeated; a frame without an estimate stays unvoiced */
    {
        const int v_in[] = {1, 0, 1, 1, 0, 0, 1, 0, 0};
        const int v_out[] = {1, 1, 1, 1, 0, 0, 0, 0, 0};
        av_f0_frame fr[9];
        memset(fr, 0, sizeof fr);
        for (int i = 0; i < 9; i++) {
            fr[i].voiced = v_in[i];
            fr[i].f0 = 200.0f;
        }
        av__f0_post_filter(fr, 9);
        for (int i = 0; i < 9; i++)
            CHECK_INT(fr[i].voiced, v_out[i]);
        av_f0_frame g[3];
        memset(g, 0, sizeof g);
        g[0].voiced = g[2].voiced = 1;
        g[0].f0 = g[2].f0 = 300.0f;
        g[1].f0 = 0.0f;
        av__f0_post_filter(g, 3);
        CHECK_INT(g[1].voiced, 0);
    }
    /* confidence: median of 3 */
    {
        const float c_in[] = {0.9f, 0.1f, 0.8f, 0.7f, 0.2f};
        const float c_out[] = {0.9f, 0.8f, 0.7f, 0.7f, 0.2f};
        av_f0_frame fr[5];
        memset(fr, 0, sizeof fr);
        for (int i = 0; i < 5; i++)
            fr[i].confidence = c_in[i];
        av__f0_post_filter(fr, 5);
        for (int i = 0; i < 5; i++)
            CHECK_NEAR(fr[i].confidence, c_out[i], 0);
    }
    /* F0: mean of the voiced neighbours within 100 cents, from the unfiltered values */
    {
        const float f_in[] = {200, 202, 204, 400, 402, 0, 404, 406};
        const int v_in[] = {1, 1, 1, 1, 1, 0, 1, 1};
        /* after voicing: frame 5 has no estimate -> stays unvoiced */
        const float f_out[] = {201, 202, 203, 401, 401, 0, 405, 405};
        av_f0_frame fr[8];
        memset(fr, 0, sizeof fr);
        for (int i = 0; i < 8; i++) {
            fr[i].f0 = f_in[i];
            fr[i].voiced = v_in[i];
        }
        av__f0_post_filter(fr, 8);
        for (int i = 0; i < 8; i++) {
            CHECK_INT(fr[i].voiced, v_in[i]);
            CHECK_NEAR(fr[i].f0, f_out[i], 1e-3);
        }
    }
    /* one frame */
    {
        av_f0_frame one = {0.0, 150.0f, 1, 0.5f};
        av__f0_post_filter(&one, 1);
        CHECK_INT(one.voiced, 1);
        CHECK_NEAR(one.f0, 150.0, 0);
        CHECK_NEAR(one.confidence, 0.5, 0);
    }
}

/* ---- bad arguments ------------------------------------------------------------------------- */

static void expect_invalid(const float *x, int64_t n, int rate, const av_f0_config *cfg,
                           const char *what)
{
    av_f0_frame *fr = (av_f0_frame *)(uintptr_t)1;
    int64_t nf = 99;
    char err[256] = "";
    av_status st = av_f0_track(x, n, rate, cfg, &fr, &nf, err, sizeof err);
    if (st != AV_STATUS_INVALID_ARGUMENT || fr != NULL || nf != 0 || err[0] == '\0')
        fprintf(stderr, "bad argument case '%s': status %d, message \"%s\"\n", what, (int)st, err);
    CHECK_INT(st, AV_STATUS_INVALID_ARGUMENT);
    CHECK(fr == NULL);
    CHECK_INT(nf, 0);
    CHECK(err[0] != '\0');
}

static void test_errors(void)
{
    enum { N = 16000 };
    float *x = calloc(N, sizeof *x);
    for (int i = 0; i < N; i++)
        x[i] = (float)sin(two_pi * 220.0 * i / 16000.0);
    av_f0_config c = av_f0_config_default();
    av_f0_frame *fr = NULL;
    int64_t nf = 0;
    char err[256];

    CHECK_INT(av_f0_track(NULL, N, 16000, &c, &fr, &nf, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av_f0_track(x, N, 16000, &c, NULL, &nf, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av_f0_track(x, N, 16000, &c, &fr, NULL, NULL, 0), AV_STATUS_INVALID_ARGUMENT);
    expect_invalid(x, 0, 16000, &c, "n = 0");
    expect_invalid(x, -5, 16000, &c, "n < 0");
    expect_invalid(x, 399, 16000, &c, "shorter than a frame");
    expect_invalid(x, N, 7999, &c, "rate too low");
    expect_invalid(x, N, 192001, &c, "rate too high");
    x[1234] = NAN;
    expect_invalid(x, N, 16000, &c, "NaN sample");
    x[1234] = INFINITY;
    expect_invalid(x, N, 16000, &c, "inf sample");
    x[1234] = 0.0f;

    av_f0_config b = c;
    b.f0_min = 500.0f;
    b.f0_max = 500.0f;
    expect_invalid(x, N, 16000, &b, "f0_min == f0_max");
    b.f0_min = 600.0f;
    expect_invalid(x, N, 16000, &b, "f0_min > f0_max");
    b = c;
    b.f0_min = 10.0f;
    expect_invalid(x, N, 16000, &b, "f0_min < 20");
    b = c;
    b.f0_min = NAN;
    expect_invalid(x, N, 16000, &b, "f0_min NaN");
    b = c;
    b.f0_max = 4001.0f;
    expect_invalid(x, N, 16000, &b, "f0_max > rate / 4");
    b = c;
    b.hop_seconds = 0.0;
    expect_invalid(x, N, 16000, &b, "hop 0");
    b.hop_seconds = 1e-5; /* under one sample at 16 kHz */
    expect_invalid(x, N, 16000, &b, "hop < 1 sample");
    b.hop_seconds = 2.0;
    expect_invalid(x, N, 16000, &b, "hop > 1 s");
    b = c;
    b.threshold = 0.0f;
    expect_invalid(x, N, 16000, &b, "threshold 0");
    b.threshold = 0.6f;
    expect_invalid(x, N, 16000, &b, "threshold 0.6");
    b = c;
    b.yin_fallback = 0.05f;
    expect_invalid(x, N, 16000, &b, "yin_fallback < threshold");
    b = c;
    b.method = (av_f0_method)7;
    expect_invalid(x, N, 16000, &b, "method");
    b = c;
    b.post_filter = 2;
    expect_invalid(x, N, 16000, &b, "post_filter");

    /* NULL config = defaults; NULL err is fine */
    CHECK_INT(av_f0_track(x, N, 16000, NULL, &fr, &nf, NULL, 0), AV_STATUS_OK);
    CHECK_INT(nf, 100); /* floor(15999 / 160) + 1 */
    av_f0_free(fr);
    av_f0_free(NULL);
    CHECK_STR(av_f0_method_name(AV_F0_METHOD_YIN), "yin");
    CHECK_STR(av_f0_method_name(AV_F0_METHOD_PYIN), "pyin");
    CHECK(av_f0_method_name((av_f0_method)9) == NULL);
    av_f0_config d = av_f0_config_default();
    CHECK_INT(d.method, AV_F0_METHOD_PYIN);
    CHECK_NEAR(d.f0_min, 80.0, 0);
    CHECK_NEAR(d.f0_max, 1000.0, 0);
    CHECK_NEAR(d.hop_seconds, 0.010, 0);
    CHECK_NEAR(d.threshold, 0.1, 1e-7);
    CHECK_NEAR(d.yin_fallback, 0.35, 1e-7);
    CHECK_INT(d.post_filter, 1);
    free(x);
}

/* ---- pure tones at every rate ------------------------------------------------------------- */

static double cents(double f, double ref) { return 1200.0 * log2(f / ref); }

static void test_tones(void)
{
    static const int rates[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000};
    static const double freqs[] = {82.0, 440.0, 990.0};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        int rate = rates[r];
        int64_t n = rate / 2 + 7; /* 0.5 s and an odd tail */
        float *x = malloc(sizeof(float) * (size_t)n);
        for (size_t fi = 0; fi < sizeof freqs / sizeof freqs[0]; fi++) {
            double f = freqs[fi];
            for (int64_t i = 0; i < n; i++) {
                double ph = two_pi * f * i / rate, s = 0.0;
                for (int h = 1; h <= 5 && h * f < 0.45 * rate; h++)
                    s += sin(h * ph) / h;
                x[i] = (float)(0.3 * s);
            }
            for (int m = 0; m < 2; m++) {
                av_f0_config c = av_f0_config_default();
                c.method = m ? AV_F0_METHOD_PYIN : AV_F0_METHOD_YIN;
                av_f0_frame *fr = NULL;
                int64_t nf = 0;
                char err[256] = "";
                av_status st = av_f0_track(x, n, rate, &c, &fr, &nf, err, sizeof err);
                CHECK_INT(st, AV_STATUS_OK);
                if (st != AV_STATUS_OK) {
                    fprintf(stderr, "tone %g Hz at %d Hz: %s\n", f, rate, err);
                    continue;
                }
                CHECK_INT(nf, (int64_t)floor((n - 1) / (0.01 * rate)) + 1);
                int good = 0, inner = 0;
                double worst = 0.0;
                for (int64_t t = 0; t < nf; t++) {
                    CHECK(fr[t].confidence >= 0.0f && fr[t].confidence <= 1.0f);
                    CHECK(fabs(fr[t].time - 0.01 * t) <= 0.5 / 8000.0 + 1e-9);
                    CHECK(fr[t].voiced ? fr[t].f0 >= 80.0f && fr[t].f0 <= 1000.0f
                                       : fr[t].f0 == 0.0f);
                    if (fr[t].time < 0.03 || fr[t].time > 0.47) /* frames reaching the ends */
                        continue;
                    inner++;
                    if (fr[t].voiced && fabs(cents(fr[t].f0, f)) <= 10.0)
                        good++;
                    if (fr[t].voiced)
                        worst = fmax(worst, fabs(cents(fr[t].f0, f)));
                }
                if (good != inner)
                    fprintf(stderr, "tone %g Hz at %d Hz (%s): %d of %d inner frames within 10 "
                            "cents, worst %.1f cents\n", f, rate, av_f0_method_name(c.method),
                            good, inner, worst);
                CHECK_INT(good, inner);
                av_f0_free(fr);
            }
        }
        free(x);
    }
    /* scale invariance: the same frames (to a cent) at any level; silence is unvoiced */
    {
        int rate = 22050;
        int64_t n = rate / 4;
        float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)(0.5 * sin(two_pi * 311.0 * i / rate) + 0.2 * sin(two_pi * 622.0 * i / rate));
        static const float scales[] = {3e37f, 1e-25f, 32768.0f};
        for (int m = 0; m < 2; m++) {
            av_f0_config c = av_f0_config_default();
            c.method = m ? AV_F0_METHOD_PYIN : AV_F0_METHOD_YIN;
            av_f0_frame *ref = NULL, *fr = NULL;
            int64_t nr = 0, nf = 0;
            CHECK_INT(av_f0_track(x, n, rate, &c, &ref, &nr, NULL, 0), AV_STATUS_OK);
            for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
                for (int64_t i = 0; i < n; i++)
                    y[i] = x[i] * scales[k];
                CHECK_INT(av_f0_track(y, n, rate, &c, &fr, &nf, NULL, 0), AV_STATUS_OK);
                CHECK_INT(nf, nr);
                for (int64_t t = 0; t < nf && t < nr; t++) {
                    CHECK_INT(fr[t].voiced, ref[t].voiced);
                    if (fr[t].voiced && ref[t].voiced)
                        CHECK(fabs(cents(fr[t].f0, ref[t].f0)) < 1.0);
                }
                av_f0_free(fr);
            }
            for (int64_t i = 0; i < n; i++) /* silence: zeros, then a subnormal-level tone */
                y[i] = 0.0f;
            for (int pass = 0; pass < 2; pass++) {
                CHECK_INT(av_f0_track(y, n, rate, &c, &fr, &nf, NULL, 0), AV_STATUS_OK);
                for (int64_t t = 0; t < nf; t++) {
                    CHECK_INT(fr[t].voiced, 0);
                    CHECK(fr[t].f0 == 0.0f);
                    CHECK(fr[t].confidence == 0.0f);
                }
                av_f0_free(fr);
                for (int64_t i = 0; i < n; i++)
                    y[i] = x[i] * 1e-39f;
            }
            av_f0_free(ref);
        }
        free(x);
        free(y);
    }
    /* a low range: long frames (w = 640 at 16 kHz) */
    {
        int rate = 16000;
        int64_t n = rate;
        float *x = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)(0.5 * sin(two_pi * 41.0 * i / rate) + 0.25 * sin(two_pi * 82.0 * i / rate));
        av_f0_config c = av_f0_config_default();
        c.f0_min = 25.0f;
        c.f0_max = 300.0f;
        av__f0_geom g;
        CHECK_INT(av__f0_geom_init(&g, n, rate, &c, NULL, 0), AV_STATUS_OK);
        CHECK_INT(g.window, 640);
        av_f0_frame *fr = NULL;
        int64_t nf = 0;
        CHECK_INT(av_f0_track(x, n, rate, &c, &fr, &nf, NULL, 0), AV_STATUS_OK);
        int good = 0, inner = 0;
        for (int64_t t = 0; t < nf; t++) {
            if (fr[t].time < 0.05 || fr[t].time > 0.95)
                continue;
            inner++;
            good += fr[t].voiced && fabs(cents(fr[t].f0, 41.0)) <= 10.0;
        }
        CHECK_INT(good, inner);
        av_f0_free(fr);
        free(x);
    }
}

/* ---- synthetic singing ------------------------------------------------------------------- */

enum { SEG_SILENCE, SEG_TONE, SEG_NOISE };

typedef struct seg {
    int kind;
    double dur;        /* s */
    double f_start;    /* Hz; the F0 moves exponentially to f_end over the segment */
    double f_end;
    double vib_cents;  /* 5.5 Hz vibrato depth, +- cents */
    double amp;
    int attack;        /* ramp up over 20 ms at the start (0: legato from the previous note) */
    int release;       /* ramp down over 20 ms at the end */
} seg;

static const seg melody[] = {
    {SEG_SILENCE, 0.305, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 1.00, 220.0, 220.0, 50.0, 0.50, 1, 1},   /* A3, vibrato */
    {SEG_SILENCE, 0.15, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 1.00, 150.0, 300.0, 0.0, 0.45, 1, 1},    /* octave glide up over 1 s */
    {SEG_SILENCE, 0.10, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.50, 330.0, 330.0, 50.0, 0.40, 1, 0},   /* octave leap up ... */
    {SEG_TONE, 0.50, 660.0, 660.0, 50.0, 0.35, 0, 0},
    {SEG_TONE, 0.40, 330.0, 330.0, 50.0, 0.40, 0, 1},   /* ... and down */
    {SEG_SILENCE, 0.15, 0, 0, 0, 0, 0, 0},
    {SEG_NOISE, 0.15, 0, 0, 0, 0.15, 1, 1},             /* consonant alone */
    {SEG_SILENCE, 0.10, 0, 0, 0, 0, 0, 0},
    {SEG_NOISE, 0.12, 0, 0, 0, 0.12, 1, 0},             /* "sa": consonant into a vowel */
    {SEG_TONE, 0.60, 392.0, 392.0, 50.0, 0.45, 0, 1},
    {SEG_SILENCE, 0.10, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 87.3, 87.3, 50.0, 0.60, 1, 1},     /* notes across the range */
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 130.8, 130.8, 50.0, 0.50, 1, 1},
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 196.0, 196.0, 50.0, 0.20, 1, 1},   /* a quiet one */
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 293.7, 293.7, 50.0, 0.50, 1, 1},
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 440.0, 440.0, 50.0, 0.50, 1, 1},
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 587.3, 587.3, 50.0, 0.40, 1, 1},
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 784.0, 784.0, 50.0, 0.35, 1, 1},
    {SEG_SILENCE, 0.06, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.40, 950.0, 950.0, 50.0, 0.30, 1, 1},
    {SEG_SILENCE, 0.15, 0, 0, 0, 0, 0, 0},
    {SEG_TONE, 0.80, 800.0, 400.0, 0.0, 0.40, 1, 1},    /* octave glide down over 0.8 s */
    {SEG_SILENCE, 0.20, 0, 0, 0, 0, 0, 0},
};
enum { N_SEGS = sizeof melody / sizeof melody[0] };
static const double ramp_s = 0.020, vib_hz = 5.5;

static double melody_seconds(void)
{
    double s = 0.0;
    for (int i = 0; i < N_SEGS; i++)
        s += melody[i].dur;
    return s;
}

/* Truth at time t (s): F0 in Hz (0 = unvoiced) and the note envelope; *kind the segment kind. */
static double truth_at(double t, double *env, int *kind)
{
    double start = 0.0;
    for (int i = 0; i < N_SEGS; i++) {
        const seg *s = &melody[i];
        if (t < start + s->dur || i == N_SEGS - 1) {
            double u = t - start;
            double e = 1.0;
            if (s->attack && u < ramp_s)
                e = u / ramp_s;
            if (s->release && s->dur - u < ramp_s)
                e = fmin(e, (s->dur - u) / ramp_s);
            *env = s->kind == SEG_SILENCE ? 0.0 : fmax(e, 0.0);
            *kind = s->kind;
            if (s->kind != SEG_TONE)
                return 0.0;
            double f = s->f_start * pow(s->f_end / s->f_start, u / s->dur);
            return f * pow(2.0, s->vib_cents / 1200.0 * sin(two_pi * vib_hz * u));
        }
        start += s->dur;
    }
    *env = 0.0;
    *kind = SEG_SILENCE;
    return 0.0;
}

enum { TIMBRE_PLAIN, TIMBRE_VOWEL_I };

/* Harmonic amplitude at frequency fh for harmonic h. PLAIN: 1/h, 10 harmonics. VOWEL_I: 1/h
 * times an /i/-like formant envelope (peaks at 300, 2300, 3000 Hz over a -20 dB floor), up to
 * 40 harmonics: for low notes the 2nd-4th harmonics outweigh the fundamental. */
static double harmonic_amp(int timbre, int h, double fh)
{
    if (timbre == TIMBRE_PLAIN)
        return h <= 10 ? 1.0 / h : 0.0;
    static const double fc[3] = {300.0, 2300.0, 3000.0}, bw[3] = {60.0, 150.0, 200.0},
                        g[3] = {1.0, 0.5, 0.4};
    double r = 0.1;
    for (int i = 0; i < 3; i++) {
        double u = (fh - fc[i]) / bw[i];
        r += g[i] / (1.0 + u * u);
    }
    return h <= 40 ? r / h : 0.0;
}

/* Renders `seconds` of the melody (repeated if longer) at `rate` in `timbre`, with white noise
 * at `snr_db` (none when snr_db <= 0). */
static float *render(int rate, double seconds, double snr_db, int timbre, uint64_t seed,
                     int64_t *n_out)
{
    enum { MAX_H = 40 };
    int64_t n = (int64_t)(seconds * rate);
    float *x = malloc(sizeof(float) * (size_t)n);
    double len = melody_seconds(), phase = 0.0, prev_noise = 0.0, voiced_power = 0.0;
    int64_t voiced_count = 0;
    double pc[MAX_H], ps[MAX_H]; /* cos, sin of each harmonic's fixed phase */
    rng_seed(seed);
    for (int h = 0; h < MAX_H; h++) {
        double ph = two_pi * rng_uniform();
        pc[h] = cos(ph);
        ps[h] = sin(ph);
    }
    for (int64_t i = 0; i < n; i++) {
        double t = fmod((double)i / rate, len), env;
        int kind;
        double f = truth_at(t, &env, &kind);
        double v = 0.0;
        double wn = rng_gauss();
        if (kind == SEG_TONE) {
            phase = fmod(phase + two_pi * f / rate, two_pi);
            /* sin(h phase + ph_h) from powers of e^(i phase) */
            double c1 = cos(phase), s1 = sin(phase), ch = 1.0, sh = 0.0;
            for (int h = 1; h <= MAX_H; h++) {
                double c = ch * c1 - sh * s1;
                sh = sh * c1 + ch * s1;
                ch = c;
                double fh = h * f, gain = harmonic_amp(timbre, h, fh);
                if (fh >= 0.45 * rate || gain == 0.0)
                    break;
                if (fh > 0.40 * rate) /* fade harmonics out near Nyquist: no clicks in glides */
                    gain *= (0.45 * rate - fh) / (0.05 * rate);
                v += gain * (sh * pc[h - 1] + ch * ps[h - 1]);
            }
            v *= 0.6;
        } else if (kind == SEG_NOISE) {
            v = 2.0 * (wn - prev_noise); /* high-passed: a fricative */
        }
        prev_noise = wn;
        int idx = 0;
        for (double acc = 0.0; idx < N_SEGS; idx++) {
            if (t < acc + melody[idx].dur)
                break;
            acc += melody[idx].dur;
        }
        double amp = idx < N_SEGS ? melody[idx].amp : 0.0;
        x[i] = (float)(amp * env * v);
        if (kind == SEG_TONE && env > 0.0) {
            voiced_power += (double)x[i] * x[i];
            voiced_count++;
        }
    }
    if (snr_db > 0.0 && voiced_count > 0) {
        double sigma = sqrt(voiced_power / voiced_count / pow(10.0, snr_db / 10.0));
        for (int64_t i = 0; i < n; i++)
            x[i] += (float)(sigma * rng_gauss());
    }
    *n_out = n;
    return x;
}

typedef struct metrics {
    double rpa, precision, recall, f1;
    int64_t frames, truly_voiced;
} metrics;

static metrics score(const av_f0_frame *fr, int64_t nf)
{
    int64_t tv = 0, ev = 0, tp = 0, good = 0;
    double len = melody_seconds();
    for (int64_t t = 0; t < nf; t++) {
        double env;
        int kind;
        double f = truth_at(fmod(fr[t].time, len), &env, &kind);
        int truth_voiced = kind == SEG_TONE && env > 0.0;
        tv += truth_voiced;
        ev += fr[t].voiced != 0;
        tp += truth_voiced && fr[t].voiced;
        if (truth_voiced && fr[t].voiced && fabs(cents(fr[t].f0, f)) <= 50.0)
            good++;
    }
    metrics m;
    m.frames = nf;
    m.truly_voiced = tv;
    m.rpa = tv ? (double)good / tv : 0.0;
    m.precision = ev ? (double)tp / ev : 0.0;
    m.recall = tv ? (double)tp / tv : 0.0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
    return m;
}

/* Accuracy conditions. `level`: 2 = the project's requirement (pYIN) / measured minus a margin
 * (YIN), asserted; 1 = loosely asserted; 0 = printed only. */
typedef struct condition {
    int rate;
    double snr_db; /* 0 = clean */
    int timbre;
    int level;
} condition;

static const condition conditions[] = {
    {16000, 0.0, TIMBRE_PLAIN, 2},  {16000, 20.0, TIMBRE_PLAIN, 1},
    {44100, 0.0, TIMBRE_PLAIN, 2},  {44100, 20.0, TIMBRE_PLAIN, 1},
    {16000, 10.0, TIMBRE_PLAIN, 0}, {16000, 3.0, TIMBRE_PLAIN, 0},
    {16000, 0.0, TIMBRE_VOWEL_I, 1}, {16000, 20.0, TIMBRE_VOWEL_I, 0},
};

static void test_accuracy(void)
{
    const uint64_t seed = 2024;
    printf("\nSynthetic singing, %.2f s, seed %llu (RPA: within 50 cents; V: voicing)\n",
           melody_seconds(), (unsigned long long)seed);
    printf("| tracker | rate | timbre | noise | RPA | V precision | V recall | V F1 |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < sizeof conditions / sizeof conditions[0]; k++) {
        const condition *cd = &conditions[k];
        int64_t n;
        float *x = render(cd->rate, melody_seconds(), cd->snr_db, cd->timbre, seed, &n);
        for (int m = 0; m < 2; m++) {
            av_f0_config c = av_f0_config_default();
            c.method = m ? AV_F0_METHOD_PYIN : AV_F0_METHOD_YIN;
            av_f0_frame *fr = NULL;
            int64_t nf = 0;
            char err[256] = "";
            av_status st = av_f0_track(x, n, cd->rate, &c, &fr, &nf, err, sizeof err);
            CHECK_INT(st, AV_STATUS_OK);
            if (st != AV_STATUS_OK) {
                fprintf(stderr, "%s\n", err);
                continue;
            }
            metrics mt = score(fr, nf);
            char noise[32];
            if (cd->snr_db > 0.0)
                snprintf(noise, sizeof noise, "white, %g dB SNR", cd->snr_db);
            else
                snprintf(noise, sizeof noise, "clean");
            printf("| %s | %.1f kHz | %s | %s | %.3f | %.3f | %.3f | %.3f |\n",
                   av_f0_method_name(c.method), cd->rate / 1000.0,
                   cd->timbre == TIMBRE_PLAIN ? "1/h, 10 harmonics" : "vowel /i/", noise, mt.rpa,
                   mt.precision, mt.recall, mt.f1);
            double need_rpa = 0.0, need_f1 = 0.0;
            if (cd->level == 2 && m == 1) { /* pYIN: the project's requirement */
                need_rpa = 0.97;
                need_f1 = 0.95;
            } else if (cd->level == 2) { /* YIN: measured 0.990-0.993 / 0.996-0.997, less margin */
                need_rpa = 0.97;
                need_f1 = 0.97;
            } else if (cd->level == 1) {
                need_rpa = 0.90;
                need_f1 = 0.90;
            }
            if (mt.rpa < need_rpa || mt.f1 < need_f1)
                fprintf(stderr, "accuracy below the bar (RPA >= %.2f, F1 >= %.2f), seed %llu\n",
                        need_rpa, need_f1, (unsigned long long)seed);
            CHECK(mt.rpa >= need_rpa);
            CHECK(mt.f1 >= need_f1);
            if (k == 0) { /* deterministic: a second run gives the same frames */
                av_f0_frame *fr2 = NULL;
                int64_t nf2 = 0;
                CHECK_INT(av_f0_track(x, n, cd->rate, &c, &fr2, &nf2, NULL, 0), AV_STATUS_OK);
                CHECK(nf2 == nf && fr2 && memcmp(fr, fr2, sizeof *fr * (size_t)nf) == 0);
                av_f0_free(fr2);
            }
            av_f0_free(fr);
        }
        free(x);
    }
}

/* ---- timing (printed, never asserted) ------------------------------------------------------- */

static void report_timing(void)
{
    static const int rates[] = {16000, 44100};
    for (size_t r = 0; r < 2; r++) {
        int64_t n;
        float *x = render(rates[r], 10.0, 0.0, TIMBRE_PLAIN, 7, &n);
        for (int m = 0; m < 2; m++) {
            av_f0_config c = av_f0_config_default();
            c.method = m ? AV_F0_METHOD_PYIN : AV_F0_METHOD_YIN;
            av_f0_frame *fr = NULL;
            int64_t nf = 0;
            double t0 = now_seconds();
            av_status st = av_f0_track(x, n, rates[r], &c, &fr, &nf, NULL, 0);
            double t1 = now_seconds();
            CHECK_INT(st, AV_STATUS_OK);
            printf("timing: %-4s on 10 s of %.1f kHz audio: %6.1f ms (%lld frames; informational, "
                   "not asserted; sanitizer builds are slower)\n",
                   av_f0_method_name(c.method), rates[r] / 1000.0, (t1 - t0) * 1e3,
                   (long long)nf);
            av_f0_free(fr);
        }
        free(x);
    }
}

int main(void)
{
    test_difference();
    test_post_filter();
    test_errors();
    test_tones();
    test_accuracy();
    report_timing();
    return check_report("test_f0");
}
