/* The conversion API (include/autovoice/svc.h) end to end.
 *   test_convert FIXTURE_PACKAGE PITCH_PACKAGE SCRATCH_DIR
 * FIXTURE_PACKAGE: the `small` fixture model (random weights); PITCH_PACKAGE: the F0
 * pass-through package of tools/make_pitch_package.py, whose output is a sine at the F0 the
 * pipeline gave the pitch encoder. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <unistd.h>

#include "autovoice/autovoice.h"
#include "check.h"

static const char *example_path = AV_FIXTURES_DIR "/../../examples/example-sung.wav";

/* The example twice over: 14 s, so that 5-s chunks make 3 chunks and 2 seams. */
static av_audio long_input(void)
{
    av_audio one = {0}, two = {0};
    char err[512];
    if (av_audio_read(example_path, &one, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    two.sample_rate = one.sample_rate;
    two.frames = 2 * one.frames;
    two.samples = malloc((size_t)two.frames * sizeof(float));
    if (!two.samples)
        exit(1);
    memcpy(two.samples, one.samples, (size_t)one.frames * sizeof(float));
    memcpy(two.samples + one.frames, one.samples, (size_t)one.frames * sizeof(float));
    av_audio_free(&one);
    return two;
}

static double snr_db(const av_audio *ref, const av_audio *x)
{
    double sig = 0, noise = 0;
    int64_t n = ref->frames < x->frames ? ref->frames : x->frames;
    for (int64_t i = 0; i < n; i++) {
        sig += (double)ref->samples[i] * ref->samples[i];
        noise += ((double)ref->samples[i] - x->samples[i]) * ((double)ref->samples[i] - x->samples[i]);
    }
    return noise > 0 ? 10 * log10(sig / noise) : INFINITY;
}

/* Largest |x[i+1] - x[i]| within `radius` samples of a seam, and elsewhere. */
static void jumps(const av_audio *y, const int64_t *seams, int n_seams, int64_t radius, double *near,
                  double *far)
{
    *near = *far = 0;
    for (int64_t i = 0; i + 1 < y->frames; i++) {
        double j = fabs((double)y->samples[i + 1] - y->samples[i]);
        int is_near = 0;
        for (int k = 0; k < n_seams; k++)
            is_near |= i >= seams[k] - radius && i <= seams[k] + radius;
        if (is_near)
            *near = j > *near ? j : *near;
        else
            *far = j > *far ? j : *far;
    }
}

typedef struct progress_log {
    int calls, monotonic, cancel_after;
    double last;
} progress_log;

static int log_progress(void *user, double fraction)
{
    progress_log *p = user;
    if (fraction < p->last || fraction < 0 || fraction > 1)
        p->monotonic = 0;
    p->last = fraction;
    p->calls++;
    return p->cancel_after > 0 && p->calls >= p->cancel_after;
}

static void test_chunking(const char *pkg)
{
    char err[1024];
    av_converter *cv = NULL;
    if (av_converter_create(pkg, 2, &cv, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s\n", err);
        check_failures++;
        return;
    }
    av_audio in = long_input();
    av_convert_config cfg = av_convert_config_default();
    cfg.seed = 3;
    av_audio whole = {0}, chunked = {0}, again = {0}, wide = {0};
    av_convert_stats st;

    cfg.chunk_seconds = 0;
    CHECK_INT(av_convert(cv, &in, &cfg, &whole), AV_STATUS_OK);
    CHECK_INT(av_converter_last_stats(cv, &st), AV_STATUS_OK);
    CHECK_INT(st.chunks, 1);

    /* 5-s chunks: 3 chunks, each stage timed, receptive fields measured */
    cfg.chunk_seconds = 5;
    progress_log pl = {.monotonic = 1};
    cfg.progress = log_progress;
    cfg.progress_user = &pl;
    CHECK_INT(av_convert(cv, &in, &cfg, &chunked), AV_STATUS_OK);
    CHECK_INT(av_converter_last_stats(cv, &st), AV_STATUS_OK);
    CHECK_INT(st.chunks, 3);
    CHECK(st.flow_context_frames > 0 && st.flow_context_frames < 512);
    CHECK(st.vocoder_context_frames > 0 && st.vocoder_context_frames < 512);
    CHECK(st.content > 0 && st.pitch > 0 && st.flow > 0 && st.mel > 0 && st.vocoder > 0 && st.f0 > 0);
    CHECK(st.total >= st.content + st.flow + st.vocoder);
    CHECK_NEAR(st.input_seconds, (double)in.frames / in.sample_rate, 1e-9);
    CHECK(pl.monotonic && pl.calls >= 5);
    CHECK_NEAR(pl.last, 1.0, 0);
    printf("contexts (decoder frames): flow %d, mel %d, vocoder %d\n", st.flow_context_frames,
           st.mel_context_frames, st.vocoder_context_frames);

    CHECK_INT(chunked.frames, whole.frames);
    CHECK_INT(chunked.sample_rate, 44100);
    double snr = snr_db(&whole, &chunked);
    printf("chunked (5 s, 1 s context) vs whole: SNR %.1f dB\n", snr);
    CHECK(snr > 20);

    /* with context covering the whole signal the content features are the whole-signal ones, and
     * the flow, mel projection and vocoder are local within their measured receptive fields: the
     * chunks then reproduce the whole-signal output up to float rounding */
    cfg.context_seconds = 10;
    CHECK_INT(av_convert(cv, &in, &cfg, &wide), AV_STATUS_OK);
    double snr_wide = snr_db(&whole, &wide);
    printf("chunked (5 s, 10 s context) vs whole: SNR %.1f dB\n", snr_wide);
    CHECK(snr_wide > 60);
    cfg.context_seconds = AV_CONVERT_DEFAULT_CONTEXT_SECONDS;

    /* deterministic */
    pl = (progress_log){.monotonic = 1};
    CHECK_INT(av_convert(cv, &in, &cfg, &again), AV_STATUS_OK);
    CHECK(again.frames == chunked.frames &&
          memcmp(again.samples, chunked.samples, (size_t)again.frames * sizeof(float)) == 0);

    /* click-free seams: the largest sample-to-sample jump within 10 ms of a seam is at most twice
     * the largest elsewhere. Seams at decoder frames T * k / chunks (svc.h's chunk layout). */
    int64_t n_dec = (int64_t)llround((double)in.frames * 22050 / in.sample_rate);
    int64_t T = (n_dec + 255) / 256, seams[2];
    for (int k = 1; k <= 2; k++)
        seams[k - 1] = (int64_t)llround((double)(T * k / 3) * 256 * 44100.0 / 22050.0);
    double near, far;
    jumps(&chunked, seams, 2, 441, &near, &far);
    printf("largest jump near a seam %.4f, elsewhere %.4f\n", near, far);
    CHECK(near <= 2 * far);
    CHECK(far > 0);

    /* cancellation: stops with AV_STATUS_CANCELLED and no output */
    av_audio cancelled = {0};
    pl = (progress_log){.monotonic = 1, .cancel_after = 3};
    CHECK_INT(av_convert(cv, &in, &cfg, &cancelled), AV_STATUS_CANCELLED);
    CHECK(cancelled.frames == 0 && cancelled.samples == NULL);
    CHECK_INT(pl.calls, 3);
    CHECK_INT(av_converter_last_stats(cv, &st), AV_STATUS_NOT_FOUND);

    /* argument checks */
    cfg.progress = NULL;
    cfg.chunk_seconds = 0.5;
    CHECK_INT(av_convert(cv, &in, &cfg, &cancelled), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(av_converter_last_error(cv), "chunk length") != NULL);
    cfg.chunk_seconds = 31;
    CHECK_INT(av_convert(cv, &in, &cfg, &cancelled), AV_STATUS_INVALID_ARGUMENT);

    av_audio_free(&in);
    av_audio_free(&whole);
    av_audio_free(&chunked);
    av_audio_free(&again);
    av_audio_free(&wide);
    av_converter_free(cv);
}

/* A tone of `hz` (with a silent gap from 1.0 to 1.5 s) at 22.05 kHz. */
static av_audio tone(double hz, double seconds)
{
    av_audio a = {.sample_rate = 22050, .frames = (int64_t)(seconds * 22050)};
    a.samples = malloc((size_t)a.frames * sizeof(float));
    if (!a.samples)
        exit(1);
    for (int64_t i = 0; i < a.frames; i++) {
        double t = (double)i / a.sample_rate;
        a.samples[i] = t >= 1.0 && t < 1.5 ? 0.0f : (float)(0.4 * sin(2 * 3.14159265358979 * hz * t));
    }
    return a;
}

/* Median F0 (Hz) of the voiced frames of y between t0 and t1, and how many frames there are
 * voiced / all. */
static double median_f0(const av_audio *y, double t0, double t1, int *voiced, int *total)
{
    av_f0_frame *fr = NULL;
    int64_t n = 0;
    char err[256];
    *voiced = *total = 0;
    if (av_f0_track(y->samples, y->frames, y->sample_rate, NULL, &fr, &n, err, sizeof err) != AV_STATUS_OK)
        return 0;
    double vals[4096];
    int k = 0;
    for (int64_t i = 0; i < n; i++)
        if (fr[i].time >= t0 && fr[i].time <= t1) {
            (*total)++;
            if (fr[i].voiced && k < 4096)
                vals[k++] = fr[i].f0;
        }
    av_f0_free(fr);
    *voiced = k;
    for (int i = 1; i < k; i++) /* insertion sort: a few hundred values */
        for (int j = i; j > 0 && vals[j] < vals[j - 1]; j--) {
            double t = vals[j];
            vals[j] = vals[j - 1];
            vals[j - 1] = t;
        }
    return k ? vals[k / 2] : 0;
}

static void test_pitch_path(const char *pkg)
{
    char err[1024];
    av_converter *cv = NULL;
    if (av_converter_create(pkg, 1, &cv, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s\n", err);
        check_failures++;
        return;
    }
    av_audio in = tone(220.0, 3.0);
    const struct { double shift, expect; } cases[] = {
        {0, 220.0}, {3, 261.6256}, {-12, 110.0}, {7.5, 220.0 * 1.5422108}, {48, 1000.0}, {-24, 80.0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        av_convert_config cfg = av_convert_config_default();
        cfg.pitch_shift = cases[i].shift;
        av_audio out = {0};
        CHECK_INT(av_convert(cv, &in, &cfg, &out), AV_STATUS_OK);
        int voiced, total;
        double f = median_f0(&out, 0.2, 0.9, &voiced, &total);
        double cents = f > 0 ? 1200 * log2(f / cases[i].expect) : 1e9;
        printf("pitch shift %+5.1f: output F0 %.2f Hz, expected %.2f (%+.1f cents)\n", cases[i].shift,
               f, cases[i].expect, cents);
        CHECK(fabs(cents) < 10);
        CHECK(voiced > total * 9 / 10);
        /* the silent gap stays unvoiced: F0 0 makes the pass-through vocoder hold its phase */
        median_f0(&out, 1.1, 1.4, &voiced, &total);
        CHECK(voiced < total / 10);
        av_audio_free(&out);
    }
    /* the running phase of this vocoder is not local: a long input converts whole */
    av_audio longer = tone(220.0, 40.0);
    av_convert_config cfg = av_convert_config_default();
    av_audio out = {0};
    av_convert_stats st;
    CHECK_INT(av_convert(cv, &longer, &cfg, &out), AV_STATUS_OK);
    CHECK_INT(av_converter_last_stats(cv, &st), AV_STATUS_OK);
    CHECK_INT(st.chunks, 1);
    CHECK_INT(st.vocoder_context_frames, INT32_MAX);
    av_audio_free(&out);
    av_audio_free(&longer);
    av_audio_free(&in);
    av_converter_free(cv);
}

static void test_convert_file(const char *pkg, const char *scratch)
{
    char err[1024], out_path[1024];
    av_converter *cv = NULL;
    if (av_converter_create(pkg, 1, &cv, err, sizeof err) != AV_STATUS_OK) {
        check_failures++;
        return;
    }
    snprintf(out_path, sizeof out_path, "%s/convert_file.flac", scratch);
    unlink(out_path);
    av_convert_config cfg = av_convert_config_default();
    CHECK_INT(av_convert_file(cv, example_path, out_path, AV_AUDIO_FORMAT_FLAC_16, 0, &cfg), AV_STATUS_OK);
    av_audio_info info;
    CHECK_INT(av_audio_probe(out_path, &info, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(info.sample_rate, 44100);
    /* an existing output needs overwrite; the input is never an output */
    CHECK_INT(av_convert_file(cv, example_path, out_path, AV_AUDIO_FORMAT_FLAC_16, 0, &cfg),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(av_converter_last_error(cv), "exists") != NULL);
    CHECK_INT(av_convert_file(cv, example_path, out_path, AV_AUDIO_FORMAT_FLAC_16, 1, &cfg), AV_STATUS_OK);
    CHECK_INT(av_convert_file(cv, example_path, example_path, AV_AUDIO_FORMAT_WAV_PCM16, 1, &cfg),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(av_converter_last_error(cv), "overwrite the input") != NULL);
    CHECK_INT(av_convert_file(cv, "/nonexistent/in.wav", out_path, AV_AUDIO_FORMAT_FLAC_16, 1, &cfg),
              AV_STATUS_IO);
    CHECK(strstr(av_converter_last_error(cv), "/nonexistent/in.wav") != NULL);
    av_converter_free(cv);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_convert FIXTURE_PACKAGE PITCH_PACKAGE SCRATCH_DIR\n");
        return 2;
    }
    test_chunking(argv[1]);
    test_pitch_path(argv[2]);
    test_convert_file(argv[2], argv[3]);
    return check_failures > 100 ? 100 : check_failures;
}
