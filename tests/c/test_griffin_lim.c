/* dsp/mel and dsp/griffin_lim: the filterbank against torchaudio and against a scalar definition,
 * the forward log-mel against torchaudio (fixtures from tools/make_gl_fixture.py), and Griffin-Lim:
 * convergence (spectral convergence of the re-analysed log-mel), exact output length,
 * determinism across runs and thread counts, refusals of bad arguments. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/internal.h"
#include "dsp/griffin_lim.h"
#include "dsp/mel.h"
#include "util/npy.h"

#define GL_FIXTURES AV_FIXTURES_DIR "/griffin_lim"

/* docs/MODEL_PACKAGE.md: the decoder (HiFi-GAN) and content-encoder mels. */
static av__mel_spec decoder_spec(void)
{
    av__mel_spec s = {.sample_rate = 22050, .n_fft = 1024, .win_length = 1024, .hop_length = 256,
                      .center = 0, .n_mels = 80, .f_min = 0, .f_max = 8000,
                      .scale = AV__MEL_SCALE_SLANEY, .norm = AV__MEL_NORM_SLANEY, .power = 1,
                      .log = AV__MEL_LOG_CLAMP, .log_floor = 1e-5};
    return s;
}

static av__mel_spec content_spec(void)
{
    av__mel_spec s = {.sample_rate = 16000, .n_fft = 1024, .win_length = 1024, .hop_length = 320,
                      .center = 1, .n_mels = 80, .f_min = 0, .f_max = 8000,
                      .scale = AV__MEL_SCALE_HTK, .norm = AV__MEL_NORM_NONE, .power = 2,
                      .log = AV__MEL_LOG_ADD, .log_floor = 1e-8};
    return s;
}

/* Loads a float32 fixture; its shape must be [d0] (d1 < 0) or [d0, d1]. */
static int load_f32(const char *name, int64_t d0, int64_t d1, av__npy_array *a)
{
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/%s", GL_FIXTURES, name);
    if (av__npy_load(path, a, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, err);
        check_failures++;
        return 0;
    }
    if (a->dtype != AV__NPY_F32 || a->ndim != (d1 < 0 ? 1 : 2) || a->shape[0] != d0 ||
        (d1 >= 0 && a->shape[1] != d1)) {
        fprintf(stderr, "%s: unexpected dtype or shape\n", path);
        check_failures++;
        av__npy_free(a);
        return 0;
    }
    return 1;
}

/* ---- filterbank ------------------------------------------------------------------------------- */

/* The definition written out plainly (docs/MODEL_PACKAGE.md, librosa/torchaudio): bin k at
 * k * sr / n_fft Hz, n_mels + 2 edges equally spaced in mel over [f_min, f_max], triangles,
 * slaney norm 2 / (right - left). */
static double ref_hz_to_mel(double f, int slaney)
{
    if (!slaney)
        return 2595.0 * log10(1.0 + f / 700.0);
    return f < 1000.0 ? f / (200.0 / 3.0) : 15.0 + log(f / 1000.0) / (log(6.4) / 27.0);
}

static double ref_mel_to_hz(double m, int slaney)
{
    if (!slaney)
        return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
    return m < 15.0 ? m * (200.0 / 3.0) : 1000.0 * exp((m - 15.0) * (log(6.4) / 27.0));
}

static double ref_filter(const av__mel_spec *s, int i, int k)
{
    int slaney = s->scale == AV__MEL_SCALE_SLANEY;
    double lo = ref_hz_to_mel(s->f_min, slaney), hi = ref_hz_to_mel(s->f_max, slaney);
    double e0 = ref_mel_to_hz(lo + (hi - lo) * i / (s->n_mels + 1), slaney);
    double e1 = ref_mel_to_hz(lo + (hi - lo) * (i + 1) / (s->n_mels + 1), slaney);
    double e2 = ref_mel_to_hz(lo + (hi - lo) * (i + 2) / (s->n_mels + 1), slaney);
    double f = (double)k * s->sample_rate / s->n_fft, v = 0.0;
    if (f > e0 && f < e2)
        v = f <= e1 ? (f - e0) / (e1 - e0) : (e2 - f) / (e2 - e1);
    return s->norm == AV__MEL_NORM_SLANEY ? v * 2.0 / (e2 - e0) : v;
}

/* max |a - b| / max |b| over [rows][cols] */
static double rel_max_err(const float *a, const float *b, size_t count)
{
    double err = 0.0, top = 0.0;
    for (size_t i = 0; i < count; i++) {
        err = fmax(err, fabs((double)a[i] - b[i]));
        top = fmax(top, fabs((double)b[i]));
    }
    return top > 0.0 ? err / top : err;
}

static void test_filterbank(void)
{
    /* against torchaudio's melscale_fbanks */
    struct {
        const char *file;
        av__mel_spec spec;
    } cases[2] = {{"fb_slaney.npy", decoder_spec()}, {"fb_htk.npy", content_spec()}};
    cases[0].spec.n_fft = 256, cases[0].spec.win_length = 256, cases[0].spec.n_mels = 24;
    cases[1].spec.n_fft = 256, cases[1].spec.win_length = 256, cases[1].spec.hop_length = 64;
    cases[1].spec.n_mels = 20, cases[1].spec.f_min = 50, cases[1].spec.f_max = 7000;
    for (int c = 0; c < 2; c++) {
        av__npy_array ref;
        const av__mel_spec *s = &cases[c].spec;
        CHECK_INT(av__mel_spec_check(s, NULL, 0), AV_STATUS_OK);
        if (!load_f32(cases[c].file, s->n_mels, s->n_fft / 2 + 1, &ref))
            continue;
        float fb[24 * 129];
        av__mel_filterbank(s, fb);
        double e = rel_max_err(fb, ref.data, ref.count);
        if (e > 1e-5)
            fprintf(stderr, "%s: relative max error %.3g\n", cases[c].file, e);
        CHECK(e <= 1e-5);
        av__npy_free(&ref);
    }

    /* the full decoder and content banks against the plain definition */
    av__mel_spec specs[2] = {decoder_spec(), content_spec()};
    for (int c = 0; c < 2; c++) {
        const av__mel_spec *s = &specs[c];
        const int bins = s->n_fft / 2 + 1;
        float *fb = av__mallocarray((size_t)s->n_mels * bins, sizeof(float));
        float *ref = av__mallocarray((size_t)s->n_mels * bins, sizeof(float));
        CHECK(fb && ref);
        if (fb && ref) {
            av__mel_filterbank(s, fb);
            for (int i = 0; i < s->n_mels; i++)
                for (int k = 0; k < bins; k++)
                    ref[(size_t)i * bins + k] = (float)ref_filter(s, i, k);
            double e = rel_max_err(fb, ref, (size_t)s->n_mels * bins);
            if (e > 1e-6)
                fprintf(stderr, "filterbank %d vs definition: relative max error %.3g\n", c, e);
            CHECK(e <= 1e-6);
        }
        av__free(fb);
        av__free(ref);
    }
}

/* ---- forward log-mel -------------------------------------------------------------------------- */

static void test_logmel_vs_torchaudio(void)
{
    av__npy_array sig;
    if (!load_f32("signal.npy", 3001, -1, &sig))
        return;
    struct {
        const char *file;
        av__mel_spec spec;
        int64_t frames;
    } cases[2] = {{"logmel_decoder.npy", decoder_spec(), 3001 / 256},
                  {"logmel_content.npy", content_spec(), 1 + 3001 / 320}};
    for (int c = 0; c < 2; c++) {
        const av__mel_spec *s = &cases[c].spec;
        av__npy_array ref;
        CHECK_INT(av__mel_frames(s, 3001), cases[c].frames);
        if (!load_f32(cases[c].file, s->n_mels, cases[c].frames, &ref))
            continue;
        float out[80 * 11];
        char err[256] = "";
        CHECK_INT(av__log_mel(s, sig.data, 3001, out, err, sizeof err), AV_STATUS_OK);
        /* |difference of the logs| is the relative error of the mel. Measured: 6.2e-6 (decoder),
         * 6.9e-6 (content). */
        const float *r = ref.data;
        double worst = 0.0;
        size_t at = 0;
        for (size_t i = 0; i < ref.count; i++)
            if (fabs((double)out[i] - r[i]) > worst) {
                worst = fabs((double)out[i] - r[i]);
                at = i;
            }
        if (worst > 1e-4)
            fprintf(stderr, "%s: log-mel differs by %.3g at mel %zu frame %zu (%g vs %g)\n",
                    cases[c].file, worst, at / (size_t)cases[c].frames,
                    at % (size_t)cases[c].frames, (double)out[at], (double)r[at]);
        else
            printf("%s: max |log-mel difference| %.3g\n", cases[c].file, worst);
        CHECK(worst <= 1e-4);
        av__npy_free(&ref);
    }
    av__npy_free(&sig);
}

/* ---- Griffin-Lim ------------------------------------------------------------------------------- */

/* A sung-like test tone: partials of a gliding f0 with decaying amplitudes. */
static void harmonic(float *x, int64_t n, int rate)
{
    double phase = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double f0 = 180.0 + 60.0 * (double)i / n + 3.0 * sin(6.28318530718 * 5.0 * i / rate);
        phase += 6.28318530718 * f0 / rate;
        double v = 0.0;
        for (int k = 1; k <= 6; k++)
            v += 0.25 / k * sin(k * phase + 0.3 * k);
        x[i] = (float)(v * (0.6 + 0.4 * sin(3.14159265 * (double)i / n)));
    }
}

/* Spectral convergence ||mel(a) - mel(b)|| / ||mel(b)|| over linear mel values (exp of logs). */
static double spectral_convergence(const float *log_a, const float *log_b, size_t count)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < count; i++) {
        double a = exp((double)log_a[i]), b = exp((double)log_b[i]);
        num += (a - b) * (a - b);
        den += b * b;
    }
    return sqrt(num / den);
}

/* Runs Griffin-Lim on the log-mel of a harmonic signal with `spec` and returns the spectral
 * convergence of the result's log-mel against the input's; *out_audio gets the audio. */
static double gl_round_trip(const av__mel_spec *spec, int64_t n, const av__griffin_lim_config *cfg,
                            float **out_audio, int64_t *out_frames)
{
    double sc = INFINITY;
    char err[256] = "";
    int64_t frames = av__mel_frames(spec, n), m = spec->n_mels, hop = spec->hop_length;
    float *x = av__mallocarray((size_t)n, sizeof(float));
    float *mel = av__mallocarray((size_t)(m * frames), sizeof(float));
    float *back = av__mallocarray((size_t)(m * frames), sizeof(float));
    /* 16 guard samples after the promised length must stay untouched */
    float *y = av__mallocarray((size_t)(frames * hop + 16), sizeof(float));
    *out_audio = NULL;
    CHECK(x && mel && back && y);
    if (!x || !mel || !back || !y)
        goto done;
    harmonic(x, n, spec->sample_rate);
    CHECK_INT(av__log_mel(spec, x, n, mel, err, sizeof err), AV_STATUS_OK);
    for (int i = 0; i < 16; i++)
        y[frames * hop + i] = 1234.5f;
    av_status st = av__griffin_lim(spec, mel, frames, cfg, y, err, sizeof err);
    CHECK_INT(st, AV_STATUS_OK);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "griffin-lim: %s\n", err);
        goto done;
    }
    for (int i = 0; i < 16; i++)
        CHECK(y[frames * hop + i] == 1234.5f);
    int finite = 1;
    for (int64_t i = 0; i < frames * hop; i++)
        finite &= isfinite(y[i]) != 0;
    CHECK(finite);
    /* the output, frames * hop samples long, has exactly `frames` frames again (centred specs
     * give one more, which is left out of the comparison) */
    int64_t frames_back = av__mel_frames(spec, frames * hop);
    CHECK(frames_back >= frames);
    float *tmp = av__mallocarray((size_t)(m * frames_back), sizeof(float));
    CHECK(tmp != NULL);
    if (!tmp)
        goto done;
    CHECK_INT(av__log_mel(spec, y, frames * hop, tmp, err, sizeof err), AV_STATUS_OK);
    for (int64_t i = 0; i < m; i++)
        memcpy(back + i * frames, tmp + i * frames_back, (size_t)frames * sizeof(float));
    av__free(tmp);
    sc = spectral_convergence(back, mel, (size_t)(m * frames));
    *out_audio = y;
    *out_frames = frames;
    y = NULL;
done:
    av__free(x);
    av__free(mel);
    av__free(back);
    av__free(y);
    return sc;
}

static void test_griffin_lim_convergence(void)
{
    av__mel_spec dec = decoder_spec(), con = content_spec();
    av__griffin_lim_config cfg = av__griffin_lim_config_default();
    float *y = NULL, *y0 = NULL, *y2 = NULL;
    int64_t frames = 0, frames0 = 0, frames2 = 0;

    /* 40 frames plus an awkward remainder of samples the mel ignores */
    const int64_t n = 40 * 256 + 77;
    double sc = gl_round_trip(&dec, n, &cfg, &y, &frames);
    av__griffin_lim_config none = cfg;
    none.iterations = 0;
    double sc0 = gl_round_trip(&dec, n, &none, &y0, &frames0);
    printf("decoder mel: spectral convergence %.4f after %d iterations, %.4f with the random "
           "initial phase\n", sc, cfg.iterations, sc0);
    /* Measured: 0.0742 after 32 iterations; 0.610 with the random initial phase only. Broken
     * variants measured on the same input: zero phase 0.908, the good output delayed by half a
     * hop 0.127, stretched as if the hop were 240 0.690, white noise 1.000. */
    CHECK(sc < 0.10);
    CHECK(sc < 0.2 * sc0);
    CHECK_INT(frames, 40);

    /* determinism: the same bits again, and with two threads */
    av__griffin_lim_config two = cfg;
    two.threads = 2;
    double sc2 = gl_round_trip(&dec, n, &two, &y2, &frames2);
    CHECK(sc2 == sc);
    if (y && y2)
        CHECK(memcmp(y, y2, (size_t)frames * 256 * sizeof(float)) == 0);
    av__free(y2);
    y2 = NULL;
    gl_round_trip(&dec, n, &cfg, &y2, &frames2);
    if (y && y2)
        CHECK(memcmp(y, y2, (size_t)frames * 256 * sizeof(float)) == 0);
    av__free(y2);
    av__free(y0);
    av__free(y);

    /* a centred power-2 htk spec (the content encoder's) */
    y = NULL;
    sc = gl_round_trip(&con, 25 * 320 + 111, &cfg, &y, &frames);
    printf("content mel: spectral convergence %.4f\n", sc);
    /* Measured: 0.0765. */
    CHECK(sc < 0.10);
    CHECK_INT(frames, 1 + (25 * 320 + 111) / 320);
    av__free(y);
}

static void expect_gl_error(const av__mel_spec *spec, const float *mel, int64_t frames,
                            const av__griffin_lim_config *cfg, float *out, const char *text)
{
    char err[256] = "";
    av_status st = av__griffin_lim(spec, mel, frames, cfg, out, err, sizeof err);
    CHECK_INT(st, AV_STATUS_INVALID_ARGUMENT);
    if (!strstr(err, text)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err, text);
        check_failures++;
    }
}

static void test_griffin_lim_errors(void)
{
    av__mel_spec s = decoder_spec();
    av__griffin_lim_config cfg = av__griffin_lim_config_default();
    static float mel[80 * 4], out[4 * 256];
    for (int i = 0; i < 80 * 4; i++)
        mel[i] = -3.0f;
    expect_gl_error(NULL, mel, 4, &cfg, out, "spec is NULL");
    expect_gl_error(&s, NULL, 4, &cfg, out, "log_mel is NULL");
    expect_gl_error(&s, mel, 4, NULL, out, "cfg is NULL");
    expect_gl_error(&s, mel, 4, &cfg, NULL, "out is NULL");
    expect_gl_error(&s, mel, 0, &cfg, out, "frames 0");
    expect_gl_error(&s, mel, -5, &cfg, out, "frames -5");
    av__mel_spec bad = s;
    bad.n_fft = 1023;
    expect_gl_error(&bad, mel, 4, &cfg, out, "n_fft 1023");
    bad = s;
    bad.win_length = 2048;
    expect_gl_error(&bad, mel, 4, &cfg, out, "win_length 2048");
    bad = s;
    bad.hop_length = 0;
    expect_gl_error(&bad, mel, 4, &cfg, out, "hop_length 0");
    bad = s;
    bad.f_max = 12000;
    expect_gl_error(&bad, mel, 4, &cfg, out, "f_max");
    bad = s;
    bad.power = 3;
    expect_gl_error(&bad, mel, 4, &cfg, out, "power 3");
    av__griffin_lim_config c = cfg;
    c.momentum = 1.5f;
    expect_gl_error(&s, mel, 4, &c, out, "momentum");
    c = cfg;
    c.iterations = -1;
    expect_gl_error(&s, mel, 4, &c, out, "iterations -1");
    mel[7] = NAN;
    expect_gl_error(&s, mel, 4, &cfg, out, "NaN");
    mel[7] = 60.0f;
    expect_gl_error(&s, mel, 4, &cfg, out, "above");
    mel[7] = -3.0f;

    /* short inputs work: one frame (padding beyond the signal reflects repeatedly), silence */
    char err[256] = "";
    CHECK_INT(av__griffin_lim(&s, mel, 1, &cfg, out, err, sizeof err), AV_STATUS_OK);
    for (int i = 0; i < 80 * 4; i++)
        mel[i] = (float)log(1e-5);
    CHECK_INT(av__griffin_lim(&s, mel, 4, &cfg, out, err, sizeof err), AV_STATUS_OK);
    int zero = 1;
    for (int i = 0; i < 4 * 256; i++)
        zero &= out[i] == 0.0f;
    CHECK(zero); /* every value at the clamp floor: silence */

    /* the forward log-mel refuses what it cannot frame */
    float x[8] = {0};
    CHECK_INT(av__log_mel(&s, x, 0, mel, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__log_mel(&s, NULL, 8, mel, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__mel_frames(&s, 255), 0);
    CHECK_INT(av__mel_frames(&s, 256), 1);
}

int main(void)
{
    test_filterbank();
    test_logmel_vs_torchaudio();
    test_griffin_lim_convergence();
    test_griffin_lim_errors();
    return check_report("test_griffin_lim");
}
