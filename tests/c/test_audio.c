/* audio/read, audio/write, audio/resample: round trips through every output format, lossy
 * formats and multi-channel files written here with libsndfile and read back as the channel mean,
 * the edge sample rates, every refusal of the reader and the writer (each message must name the
 * file; a failed write must leave no temporary file and an existing PATH untouched), clipping, and
 * libsoxr resampling measured against ideal sines (SNR, frequency, amplitude) plus exact output
 * lengths; av_audio_read_memory against av_audio_read, and a replay of the fuzz corpus
 * tests/fuzz/corpus/audio (ok_* must read, the same from memory and from the file; bad_* must be
 * refused with a message naming the input; others must not crash). Everything lives in
 * AV_TEST_TMPDIR/test_audio. */
#define _POSIX_C_SOURCE 200809L /* mkdir, truncate, setrlimit, opendir */

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "autovoice/audio.h"
#include "check.h"
#include "corpus.h"

typedef DIR dir_handle; /* DIR is taken below by the test directory's path */
#define DIR AV_TEST_TMPDIR "/test_audio"
#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/audio"
#define PI 3.14159265358979323846

/* ---- helpers --------------------------------------------------------------------------------- */

/* Deterministic noise in [-1, 1) (a 32-bit LCG): the tests need no seed to reproduce. */
static uint32_t lcg_state = 12345u;
static float noise(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)((double)(lcg_state >> 8) / (double)(1u << 23) - 1.0);
}

/* n samples of a 440 Hz sine at amplitude 0.6 plus noise at 0.3: within [-0.9, 0.9]. */
static float *test_signal(int64_t n, int rate)
{
    float *s = malloc((size_t)n * sizeof *s);
    for (int64_t i = 0; i < n; i++)
        s[i] = (float)(0.6 * sin(2 * PI * 440.0 * (double)i / rate)) + 0.3f * noise();
    return s;
}

static float *sine(int64_t n, int rate, double freq, double amp)
{
    float *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    for (int64_t i = 0; i < n; i++)
        s[i] = (float)(amp * sin(2 * PI * freq * (double)i / rate));
    return s;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The temporary file av_audio_write uses first for `path`. */
static int tmp_left(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    return exists(tmp);
}

static long read_bytes(const char *path, unsigned char *buf, long cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long n = (long)fread(buf, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

/* Writes `frames` interleaved frames of `channels` channels with libsndfile directly. */
static int sf_write_file(const char *path, int format, int rate, int channels, const float *x,
                         int64_t frames)
{
    SF_INFO sfi = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &sfi);
    if (!f) {
        fprintf(stderr, "%s: sf_open for writing failed: %s\n", path, sf_strerror(NULL));
        CHECK(f != NULL);
        return 0;
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    CHECK_INT(sf_writef_float(f, x, frames), frames);
    CHECK_INT(sf_close(f), 0);
    return 1;
}

/* The call failed with `want`, *out was left empty, and the message names `path` and contains
 * `text`. */
static void expect_read_error(const char *path, av_status want, const char *text)
{
    char err[512] = "";
    static float sentinel;
    av_audio a = {&sentinel, 99, 99};
    av_status st = av_audio_read(path, &a, err, sizeof err);
    CHECK_INT(st, want);
    CHECK(a.samples == NULL && a.frames == 0 && a.sample_rate == 0);
    if (a.samples == &sentinel)
        return;
    if (!strstr(err, path) || !strstr(err, text)) {
        fprintf(stderr, "read %s: message \"%s\" lacks the path or \"%s\"\n", path, err, text);
        CHECK(0);
    }
    av_audio_free(&a);
}

static void expect_write_error(const char *path, const av_audio *a, av_audio_format fmt,
                               av_status want, const char *text)
{
    char err[512] = "";
    av_status st = av_audio_write(path, a, fmt, NULL, err, sizeof err);
    CHECK_INT(st, want);
    if (!strstr(err, path) || !strstr(err, text)) {
        fprintf(stderr, "write %s: message \"%s\" lacks the path or \"%s\"\n", path, err, text);
        CHECK(0);
    }
    CHECK(!tmp_left(path));
}

static double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

/* ---- format_from_path ------------------------------------------------------------------------ */

static void test_format_from_path(void)
{
    static const struct {
        const char *path;
        av_status status;
        av_audio_format format;
        const char *text; /* in the message, for a refusal */
    } cases[] = {
        {"out.wav", AV_STATUS_OK, AV_AUDIO_FORMAT_WAV_PCM16, NULL},
        {"a/b.c/OUT.WAV", AV_STATUS_OK, AV_AUDIO_FORMAT_WAV_PCM16, NULL},
        {"song.flac", AV_STATUS_OK, AV_AUDIO_FORMAT_FLAC_24, NULL},
        {"x.Flac", AV_STATUS_OK, AV_AUDIO_FORMAT_FLAC_24, NULL},
        {"x.mp3", AV_STATUS_INVALID_ARGUMENT, 0, "cannot write '.mp3' files"},
        {"x.wav.tmp", AV_STATUS_INVALID_ARGUMENT, 0, "cannot write '.tmp' files"},
        {"noext", AV_STATUS_INVALID_ARGUMENT, 0, "no file extension"},
        {"dir.flac/out", AV_STATUS_INVALID_ARGUMENT, 0, "no file extension"},
        {"dir/.wav", AV_STATUS_INVALID_ARGUMENT, 0, "no file extension"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        av_audio_format f = (av_audio_format)-1;
        char err[256] = "";
        CHECK_INT(av_audio_format_from_path(cases[c].path, &f, err, sizeof err), cases[c].status);
        if (cases[c].status == AV_STATUS_OK) {
            CHECK_INT(f, cases[c].format);
        } else if (!strstr(err, cases[c].path) || !strstr(err, cases[c].text)) {
            fprintf(stderr, "%s: message \"%s\" lacks the path or \"%s\"\n", cases[c].path, err,
                    cases[c].text);
            CHECK(0);
        }
    }
    av_audio_format f;
    CHECK_INT(av_audio_format_from_path(NULL, &f, NULL, 0), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av_audio_format_from_path("x.wav", NULL, NULL, 0), AV_STATUS_INVALID_ARGUMENT);
}

/* ---- write / read round trips ---------------------------------------------------------------- */

static void test_round_trips(void)
{
    static const struct {
        av_audio_format format;
        const char *file;
        double step; /* one quantisation step; 0 = exact */
    } cases[] = {
        {AV_AUDIO_FORMAT_WAV_PCM16, DIR "/rt_pcm16.wav", 1.0 / 32768},
        {AV_AUDIO_FORMAT_WAV_PCM24, DIR "/rt_pcm24.wav", 1.0 / 8388608},
        {AV_AUDIO_FORMAT_WAV_FLOAT, DIR "/rt_float.wav", 0},
        {AV_AUDIO_FORMAT_FLAC_16, DIR "/rt_16.flac", 1.0 / 32768},
        {AV_AUDIO_FORMAT_FLAC_24, DIR "/rt_24.flac", 1.0 / 8388608},
    };
    const int64_t n = 20011; /* prime, more than one read block */
    float *x = test_signal(n, 48000);
    x[0] = 1.0f; /* the extremes survive too */
    x[1] = -1.0f;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        av_audio a = {x, n, 48000}, b;
        char err[512] = "";
        int64_t clipped = -1;
        av_status st =
            av_audio_write(cases[c].file, &a, cases[c].format, &clipped, err, sizeof err);
        CHECK_INT(st, AV_STATUS_OK);
        if (st) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        CHECK_INT(clipped, 0);
        CHECK(!tmp_left(cases[c].file));
        st = av_audio_read(cases[c].file, &b, err, sizeof err);
        CHECK_INT(st, AV_STATUS_OK);
        if (st) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        CHECK_INT(b.frames, n);
        CHECK_INT(b.sample_rate, 48000);
        /* x[0] = 1.0 comes back as the largest code, one step below: the rest within half. */
        double e = max_abs_diff(x, b.samples, n);
        double e_inner = max_abs_diff(x + 1, b.samples + 1, n - 1);
        CHECK_NEAR(e_inner, 0, cases[c].step / 2 * 1.0001);
        printf("round trip %-28s max error %.3g, %.3g without the 1.0 (step %.3g)\n",
               cases[c].file + strlen(DIR) + 1, e, e_inner, cases[c].step);
        CHECK_NEAR(e, 0, cases[c].step);
        av_audio_free(&b);
        CHECK(b.samples == NULL && b.frames == 0);
    }
    free(x);
}

/* Lossy formats (written by libsndfile here, read by av_audio_read): a 1 kHz sine keeps its
 * length (give or take codec padding), level and pitch. */
static void test_lossy_reads(void)
{
    static const struct {
        int format;
        const char *file;
    } cases[] = {
        {SF_FORMAT_OGG | SF_FORMAT_VORBIS, DIR "/lossy.ogg"},
        {SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, DIR "/lossy.mp3"},
    };
    const int rate = 44100;
    float *x = sine(rate, rate, 1000.0, 0.5);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        SF_INFO probe = {.samplerate = rate, .channels = 1, .format = cases[c].format};
        if (!sf_format_check(&probe)) {
            printf("note: this libsndfile cannot write %s; not tested\n", cases[c].file);
            continue;
        }
        if (!sf_write_file(cases[c].file, cases[c].format, rate, 1, x, rate))
            continue;
        av_audio b;
        char err[512] = "";
        av_status st = av_audio_read(cases[c].file, &b, err, sizeof err);
        CHECK_INT(st, AV_STATUS_OK);
        if (st) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        CHECK_INT(b.sample_rate, rate);
        CHECK(b.frames > rate * 95 / 100 && b.frames < rate * 105 / 100);
        double ss = 0;
        int64_t lo = b.frames / 4, hi = b.frames * 3 / 4;
        for (int64_t i = lo; i < hi; i++)
            ss += (double)b.samples[i] * b.samples[i];
        double amp = sqrt(2 * ss / (double)(hi - lo));
        printf("lossy %-10s %lld frames, amplitude %.4f (0.5)\n", cases[c].file + strlen(DIR) + 1,
               (long long)b.frames, amp);
        CHECK_NEAR(amp, 0.5, 0.02);
        av_audio_free(&b);
    }
    free(x);
}

/* Files of 2 and 5 channels read back as the mean of their channels. */
static void test_multichannel(void)
{
    static const struct {
        int channels, format;
        const char *file;
        double tol;
    } cases[] = {
        {2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, DIR "/stereo.wav", 0},
        {5, SF_FORMAT_WAV | SF_FORMAT_FLOAT, DIR "/five.wav", 0},
        {5, SF_FORMAT_WAV | SF_FORMAT_PCM_16, DIR "/five16.wav", 1.0 / 32768},
        {2, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, DIR "/stereo.flac", 1.0 / 8388608},
    };
    const int64_t n = 10007; /* several read blocks for 5 channels */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int ch = cases[c].channels;
        float *x = malloc((size_t)(n * ch) * sizeof *x), *mean = malloc((size_t)n * sizeof *mean);
        for (int64_t i = 0; i < n; i++) {
            double sum = 0;
            for (int k = 0; k < ch; k++) {
                /* each channel distinct: a different level, and noise */
                double f = 200.0 + 100 * k;
                float v = (float)((k + 1) * 0.15 * sin(2 * PI * f * (double)i / 44100)) +
                          0.05f * noise();
                x[i * ch + k] = v;
                sum += v;
            }
            mean[i] = (float)(sum / ch);
        }
        if (sf_write_file(cases[c].file, cases[c].format, 44100, ch, x, n)) {
            av_audio b;
            char err[512] = "";
            av_status st = av_audio_read(cases[c].file, &b, err, sizeof err);
            CHECK_INT(st, AV_STATUS_OK);
            if (st == AV_STATUS_OK) {
                CHECK_INT(b.frames, n);
                double e = max_abs_diff(mean, b.samples, n);
                printf("down-mix %d channels %-12s max error %.3g\n", ch,
                       cases[c].file + strlen(DIR) + 1, e);
                CHECK_NEAR(e, 0, cases[c].tol);
            } else {
                fprintf(stderr, "%s\n", err);
            }
            av_audio_free(&b);
        }
        free(x);
        free(mean);
    }
}

/* The two ends of the accepted rate range round-trip; just outside is refused. */
static void test_rate_range(void)
{
    const int rates[] = {AV_AUDIO_MIN_SAMPLE_RATE, AV_AUDIO_MAX_SAMPLE_RATE};
    const char *files[] = {DIR "/r8000.wav", DIR "/r192000.flac"};
    const av_audio_format formats[] = {AV_AUDIO_FORMAT_WAV_PCM16, AV_AUDIO_FORMAT_FLAC_24};
    for (int k = 0; k < 2; k++) {
        const int64_t n = rates[k] / 10;
        float *x = test_signal(n, rates[k]);
        av_audio a = {x, n, rates[k]}, b;
        char err[512] = "";
        CHECK_INT(av_audio_write(files[k], &a, formats[k], NULL, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(av_audio_read(files[k], &b, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(b.sample_rate, rates[k]);
        CHECK_INT(b.frames, n);
        if (b.frames == n)
            CHECK_NEAR(max_abs_diff(x, b.samples, n), 0, 1.0 / 32768);
        av_audio_free(&b);
        free(x);
    }
    float x[100] = {0};
    av_audio a = {x, 100, AV_AUDIO_MIN_SAMPLE_RATE - 1};
    expect_write_error(DIR "/r7999.wav", &a, AV_AUDIO_FORMAT_WAV_PCM16, AV_STATUS_INVALID_ARGUMENT,
                       "sample rate 7999");
    CHECK(!exists(DIR "/r7999.wav"));
    a.sample_rate = AV_AUDIO_MAX_SAMPLE_RATE + 1;
    expect_write_error(DIR "/r192001.wav", &a, AV_AUDIO_FORMAT_WAV_PCM16,
                       AV_STATUS_INVALID_ARGUMENT, "sample rate 192001");
}

/* ---- refusals of the reader ------------------------------------------------------------------ */

static void test_read_errors(void)
{
    char err[256];
    CHECK_INT(av_audio_read(DIR "/x.wav", NULL, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    av_audio a;
    CHECK_INT(av_audio_read(NULL, &a, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    av_audio_free(NULL);

    expect_read_error(DIR "/missing.wav", AV_STATUS_IO, "No such file");
    expect_read_error(DIR, AV_STATUS_IO, "directory");

    write_text(DIR "/text.wav", "This is not audio, just some words in a file called .wav\n");
    expect_read_error(DIR "/text.wav", AV_STATUS_FORMAT, "not a readable audio file");

    float one = 0.25f;
    sf_write_file(DIR "/empty.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, &one, 0);
    expect_read_error(DIR "/empty.wav", AV_STATUS_FORMAT, "no audio");

    float *x = test_signal(4000, 4000);
    sf_write_file(DIR "/r4000.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 4000, 1, x, 4000);
    expect_read_error(DIR "/r4000.wav", AV_STATUS_FORMAT, "sample rate 4000 Hz");
    free(x);

    /* NaN in a mono float file, +inf in one channel of a stereo one (and a NaN later). */
    x = test_signal(24000, 44100);
    x[1234] = NAN;
    sf_write_file(DIR "/nan.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, x, 5000);
    expect_read_error(DIR "/nan.wav", AV_STATUS_FORMAT,
                      "contains NaN or infinite samples (first at sample 1234)");
    x[1234] = 0;
    x[2 * 9000 + 1] = INFINITY; /* frame 9000: in the second read block */
    x[2 * 10000] = NAN;
    sf_write_file(DIR "/inf.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, x, 12000);
    expect_read_error(DIR "/inf.wav", AV_STATUS_FORMAT,
                      "contains NaN or infinite samples (first at sample 9000)");
    free(x);
}

/* Cuts valid files short. libsndfile reads what is there of a WAV's data (its header says more
 * than the file holds): the result is the prefix that survived. A cut inside the header, or a
 * FLAC stream cut mid-frame, must give a clean error or a shorter prefix, never a crash. */
static void test_truncated(void)
{
    const int64_t n = 20000; /* several FLAC blocks */
    float *x = test_signal(n, 44100);
    av_audio a = {x, n, 44100}, b;
    char err[512] = "";
    const char *wav = DIR "/trunc.wav", *flac = DIR "/trunc.flac";
    CHECK_INT(av_audio_write(wav, &a, AV_AUDIO_FORMAT_WAV_PCM16, NULL, err, sizeof err), 0);
    CHECK_INT(av_audio_write(flac, &a, AV_AUDIO_FORMAT_FLAC_16, NULL, err, sizeof err), 0);
    struct stat st;
    CHECK(stat(wav, &st) == 0);
    const off_t wav_size = st.st_size;

    /* 999 bytes short: the last sample torn in half. */
    CHECK(truncate(wav, wav_size - 999) == 0);
    av_status s = av_audio_read(wav, &b, err, sizeof err);
    printf("truncated WAV (%lld of %lld bytes): %s", (long long)(wav_size - 999),
           (long long)wav_size, s == AV_STATUS_OK ? "" : err);
    if (s == AV_STATUS_OK) {
        printf("read %lld of %lld frames\n", (long long)b.frames, (long long)n);
        CHECK(b.frames >= 1 && b.frames < n);
        CHECK_NEAR(max_abs_diff(x, b.samples, b.frames < n ? b.frames : n), 0, 1.0 / 32768);
    } else {
        printf("\n");
        CHECK(strstr(err, wav) != NULL);
    }
    av_audio_free(&b);

    /* Inside the header: no audio at all. */
    CHECK(truncate(wav, 30) == 0);
    s = av_audio_read(wav, &b, err, sizeof err);
    CHECK(s != AV_STATUS_OK);
    CHECK(strstr(err, wav) != NULL);
    printf("WAV cut in its header: %s\n", err);

    CHECK(stat(flac, &st) == 0);
    CHECK(truncate(flac, st.st_size / 2) == 0);
    s = av_audio_read(flac, &b, err, sizeof err);
    if (s == AV_STATUS_OK) {
        printf("FLAC cut in half: read %lld of %lld frames\n", (long long)b.frames, (long long)n);
        CHECK(b.frames >= 1 && b.frames <= n);
        CHECK_NEAR(max_abs_diff(x, b.samples, b.frames <= n ? b.frames : n), 0, 1.0 / 32768);
    } else {
        printf("FLAC cut in half: %s\n", err);
        CHECK(strstr(err, flac) != NULL);
    }
    av_audio_free(&b);
    free(x);
}

/* ---- refusals and failures of the writer ----------------------------------------------------- */

static void test_write_errors(void)
{
    const int64_t n = 44100;
    float *x = test_signal(n, 44100);
    av_audio a = {x, n, 44100};
    char err[512] = "";
    unsigned char before[4096], after[4096];

    CHECK_INT(av_audio_write(NULL, &a, AV_AUDIO_FORMAT_WAV_PCM16, NULL, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av_audio_write(DIR "/x.wav", NULL, AV_AUDIO_FORMAT_WAV_PCM16, NULL, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);

    /* A missing directory: an error naming the file, nothing created. */
    expect_write_error(DIR "/no/such/dir/out.wav", &a, AV_AUDIO_FORMAT_WAV_PCM16, AV_STATUS_IO,
                       "No such file or directory");
    CHECK(!exists(DIR "/no"));

    /* An existing PATH keeps its bytes whatever goes wrong. */
    const char *keep = DIR "/keep.wav";
    write_text(keep, "old content that must survive");
    const long old_n = read_bytes(keep, before, sizeof before);

    expect_write_error(keep, &a, (av_audio_format)99, AV_STATUS_INVALID_ARGUMENT,
                       "unknown output format 99");
    a.frames = 0;
    expect_write_error(keep, &a, AV_AUDIO_FORMAT_WAV_PCM16, AV_STATUS_INVALID_ARGUMENT,
                       "nothing to write");
    a.frames = n;
    x[777] = NAN;
    expect_write_error(keep, &a, AV_AUDIO_FORMAT_WAV_FLOAT, AV_STATUS_INVALID_ARGUMENT,
                       "sample 777 is NaN or infinite");
    x[777] = 0;
    CHECK_INT(read_bytes(keep, after, sizeof after), old_n);
    CHECK(memcmp(before, after, (size_t)old_n) == 0);

    /* A failure in the middle of writing the data (works as root too): the file-size limit stops
     * the temporary file at 16 KiB, the write fails, and both the temporary file and PATH are
     * dealt with. */
    struct rlimit saved, small;
    if (getrlimit(RLIMIT_FSIZE, &saved) == 0) {
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        small = saved;
        small.rlim_cur = 16384;
        CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
        av_status s = av_audio_write(keep, &a, AV_AUDIO_FORMAT_WAV_PCM16, NULL, err, sizeof err);
        CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
        signal(SIGXFSZ, old_handler);
        CHECK_INT(s, AV_STATUS_IO);
        CHECK(strstr(err, keep) != NULL);
        printf("write past the file-size limit: %s\n", err);
        CHECK(!tmp_left(keep));
        CHECK_INT(read_bytes(keep, after, sizeof after), old_n);
        CHECK(memcmp(before, after, (size_t)old_n) == 0);
    }

    /* A read-only directory (permissions do not stop root). */
    const char *ro_dir = DIR "/readonly", *ro = DIR "/readonly/out.wav";
    mkdir(ro_dir, 0755);
    write_text(ro, "old content that must survive");
    if (geteuid() == 0) {
        printf("note: running as root: the read-only directory check is skipped\n");
    } else {
        CHECK(chmod(ro_dir, 0555) == 0);
        expect_write_error(ro, &a, AV_AUDIO_FORMAT_WAV_PCM16, AV_STATUS_IO, "Permission denied");
        CHECK(chmod(ro_dir, 0755) == 0);
        CHECK_INT(read_bytes(ro, after, sizeof after), old_n);
        CHECK(memcmp(before, after, (size_t)old_n) == 0);
    }

    /* Special files are never replaced: a directory here (a device or FIFO alike). */
    expect_write_error(ro_dir, &a, AV_AUDIO_FORMAT_WAV_PCM16, AV_STATUS_IO,
                       "not a regular file");

    /* A leftover PATH.tmp is not ours: it is left alone, the write goes through another name. */
    const char *busy = DIR "/busy.wav";
    write_text(DIR "/busy.wav.tmp", "someone else's file");
    CHECK_INT(av_audio_write(busy, &a, AV_AUDIO_FORMAT_WAV_PCM16, NULL, err, sizeof err),
              AV_STATUS_OK);
    CHECK_INT(read_bytes(DIR "/busy.wav.tmp", after, sizeof after), 19);
    CHECK(memcmp(after, "someone else's file", 19) == 0);
    CHECK(!exists(DIR "/busy.wav.tmp.1"));
    av_audio b;
    CHECK_INT(av_audio_read(busy, &b, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(b.frames, n);
    av_audio_free(&b);

    /* And a successful write replaces an existing file. */
    CHECK_INT(av_audio_write(keep, &a, AV_AUDIO_FORMAT_WAV_PCM16, NULL, err, sizeof err),
              AV_STATUS_OK);
    CHECK_INT(av_audio_read(keep, &b, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(b.frames, n);
    av_audio_free(&b);
    free(x);
}

/* Samples beyond [-1, 1] are clipped and counted for the integer formats, kept by float WAV. */
static void test_clipping(void)
{
    float x[] = {0.5f, 1.5f, -2.0f, 1.0f, -1.0f, 0.999f, -1.0001f, 0.0f, 1e30f};
    const int64_t n = (int64_t)(sizeof x / sizeof x[0]);
    static const struct {
        av_audio_format format;
        const char *file;
        double step;
    } cases[] = {
        {AV_AUDIO_FORMAT_WAV_PCM16, DIR "/clip16.wav", 1.0 / 32768},
        {AV_AUDIO_FORMAT_WAV_PCM24, DIR "/clip24.wav", 1.0 / 8388608},
        {AV_AUDIO_FORMAT_FLAC_16, DIR "/clip16.flac", 1.0 / 32768},
        {AV_AUDIO_FORMAT_FLAC_24, DIR "/clip24.flac", 1.0 / 8388608},
        {AV_AUDIO_FORMAT_WAV_FLOAT, DIR "/clipf.wav", 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        av_audio a = {x, n, 16000}, b;
        char err[512] = "";
        int64_t clipped = -1;
        CHECK_INT(av_audio_write(cases[c].file, &a, cases[c].format, &clipped, err, sizeof err),
                  AV_STATUS_OK);
        const int integer = cases[c].format != AV_AUDIO_FORMAT_WAV_FLOAT;
        CHECK_INT(clipped, integer ? 4 : 0);
        if (av_audio_read(cases[c].file, &b, err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "%s\n", err);
            CHECK(0);
            continue;
        }
        CHECK_INT(b.frames, n);
        for (int64_t i = 0; i < n && b.frames == n; i++) {
            double want = integer ? fmax(-1.0, fmin(1.0, x[i])) : x[i];
            CHECK_NEAR(b.samples[i], want, cases[c].step);
        }
        av_audio_free(&b);
    }
}

/* ---- resampling ------------------------------------------------------------------------------ */

typedef struct {
    double snr_db, freq, amp;
} sine_fit;

/* Compares y (at `rate`) with the ideal sine amp*sin(2 pi f t) away from the edges (50 ms each
 * side): SNR of the ideal against the difference, frequency from interpolated rising zero
 * crossings, amplitude from the RMS. */
static sine_fit measure_sine(const float *y, int64_t n, int rate, double f, double amp)
{
    sine_fit r = {0, 0, 0};
    int64_t lo = rate / 20, hi = n - rate / 20;
    double sig = 0, noise_e = 0, ss = 0, t_first = -1, t_last = -1;
    int crossings = 0;
    for (int64_t i = lo; i < hi; i++) {
        double ideal = amp * sin(2 * PI * f * (double)i / rate);
        sig += ideal * ideal;
        noise_e += (y[i] - ideal) * (y[i] - ideal);
        ss += (double)y[i] * y[i];
        if (i > lo && y[i - 1] < 0 && y[i] >= 0) {
            double t = (double)(i - 1) + y[i - 1] / (y[i - 1] - y[i]);
            if (t_first < 0)
                t_first = t;
            t_last = t;
            crossings++;
        }
    }
    r.snr_db = 10 * log10(sig / (noise_e > 0 ? noise_e : 1e-300));
    r.freq = crossings > 1 ? (crossings - 1) * rate / (t_last - t_first) : 0;
    r.amp = sqrt(2 * ss / (double)(hi - lo));
    return r;
}

static void check_sine(const char *what, const av_audio *y, double f, double amp)
{
    sine_fit m = measure_sine(y->samples, y->frames, y->sample_rate, f, amp);
    printf("resample %-22s SNR %6.1f dB, frequency %.4f Hz, amplitude %.5f\n", what, m.snr_db,
           m.freq, m.amp);
    CHECK(m.snr_db >= 60.0);
    CHECK_NEAR(m.freq, f, 0.05);
    CHECK_NEAR(m.amp, amp, 1e-3);
}

static void test_resample_sine(void)
{
    const double f = 1000.0, amp = 0.5;
    float *x = sine(44100, 44100, f, amp);
    av_audio in = {x, 44100, 44100}, down, mid, back;
    char err[512] = "";

    CHECK_INT(av_audio_resample(&in, 16000, &down, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(down.frames, 16000);
    CHECK_INT(down.sample_rate, 16000);
    if (down.frames == 16000)
        check_sine("44.1 kHz -> 16 kHz", &down, f, amp);

    CHECK_INT(av_audio_resample(&in, 22050, &mid, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(mid.frames, 22050);
    if (mid.frames == 22050)
        check_sine("44.1 kHz -> 22.05 kHz", &mid, f, amp);
    CHECK_INT(av_audio_resample(&mid, 44100, &back, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(back.frames, 44100);
    if (back.frames == 44100) {
        check_sine("22.05 kHz -> 44.1 kHz", &back, f, amp);
        double e = 0, s = 0;
        for (int64_t i = 2205; i < 44100 - 2205; i++) {
            e += ((double)back.samples[i] - x[i]) * ((double)back.samples[i] - x[i]);
            s += (double)x[i] * x[i];
        }
        double snr = 10 * log10(s / (e > 0 ? e : 1e-300));
        printf("resample %-22s SNR %6.1f dB against the original\n", "round trip 44.1 kHz", snr);
        CHECK(snr >= 60.0);
    }
    av_audio_free(&down);
    av_audio_free(&mid);
    av_audio_free(&back);
    free(x);
}

static void test_resample_lengths(void)
{
    const int64_t lengths[] = {1, 7, 44099, 44101};
    const int rates[] = {8000, 16000, 22050, 44100, 48000, 192000};
    char err[512] = "";
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        float *x = test_signal(lengths[l], 44100);
        av_audio in = {x, lengths[l], 44100}, out;
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
            const int64_t want = (int64_t)floor((double)lengths[l] * rates[r] / 44100.0 + 0.5);
            av_status st = av_audio_resample(&in, rates[r], &out, err, sizeof err);
            CHECK_INT(st, AV_STATUS_OK);
            if (st) {
                fprintf(stderr, "%s\n", err);
                continue;
            }
            if (out.frames != want)
                fprintf(stderr, "%lld frames 44100 -> %d Hz\n", (long long)lengths[l], rates[r]);
            CHECK_INT(out.frames, want);
            CHECK_INT(out.sample_rate, rates[r]);
            CHECK(want == 0 || out.samples != NULL);
            int finite = 1;
            for (int64_t i = 0; i < out.frames; i++)
                finite &= isfinite(out.samples[i]) && fabsf(out.samples[i]) < 2.0f;
            CHECK(finite);
            av_audio_free(&out);
        }
        free(x);
    }

    /* The same rate copies, bit for bit, into a buffer of its own. */
    float *x = test_signal(16001, 16000);
    av_audio in = {x, 16001, 16000}, out;
    CHECK_INT(av_audio_resample(&in, 16000, &out, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(out.frames, 16001);
    CHECK(out.samples != x);
    CHECK(out.frames == 16001 && memcmp(out.samples, x, sizeof(float) * 16001) == 0);
    av_audio_free(&out);

    /* Refusals: *out stays empty. */
    out.samples = x;
    CHECK_INT(av_audio_resample(&in, 4000, &out, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(out.samples == NULL && out.frames == 0);
    CHECK(strstr(err, "4000 Hz") != NULL);
    in.sample_rate = 0;
    CHECK_INT(av_audio_resample(&in, 16000, &out, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    in.sample_rate = 16000;
    x[5] = INFINITY;
    CHECK_INT(av_audio_resample(&in, 22050, &out, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "sample 5") != NULL);
    CHECK_INT(av_audio_resample(&in, 22050, &in, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av_audio_resample(NULL, 22050, &out, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    free(x);
}

/* ---- reading from memory ---------------------------------------------------------------------- */

/* Reads `path` both ways; both must agree (status, length, rate, bits). Returns the status. */
static av_status read_both(const char *path, const char *name, char *err, size_t err_size)
{
    static unsigned char bytes[1 << 20];
    char file_err[512] = "";
    long n = read_bytes(path, bytes, (long)sizeof bytes);
    CHECK(n >= 0);
    if (n < 0)
        return AV_STATUS_IO;
    av_audio a, b;
    av_status sm = av_audio_read_memory(bytes, (size_t)n, name, &a, err, err_size);
    av_status sf = av_audio_read(path, &b, file_err, sizeof file_err);
    CHECK_INT(sm, sf);
    if (sm == AV_STATUS_OK && sf == AV_STATUS_OK) {
        CHECK_INT(a.frames, b.frames);
        CHECK_INT(a.sample_rate, b.sample_rate);
        if (a.frames == b.frames)
            CHECK(memcmp(a.samples, b.samples, (size_t)a.frames * sizeof(float)) == 0);
    } else if (sm != AV_STATUS_OK && sf != AV_STATUS_OK) {
        /* the same message, but for the name */
        const char *tail_m = err + strlen(name), *tail_f = file_err + strlen(path);
        if (strncmp(err, name, strlen(name)) != 0 || strncmp(file_err, path, strlen(path)) != 0 ||
            strcmp(tail_m, tail_f) != 0) {
            fprintf(stderr, "%s: memory says \"%s\", file says \"%s\"\n", path, err, file_err);
            CHECK(0);
        }
    }
    av_audio_free(&a);
    av_audio_free(&b);
    return sm;
}

static void test_read_memory(void)
{
    char err[512] = "";
    av_audio a;
    CHECK_INT(av_audio_read_memory("x", 1, "m", NULL, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av_audio_read_memory(NULL, 10, "m", &a, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(a.samples == NULL && a.frames == 0);
    CHECK_INT(av_audio_read_memory(NULL, 0, NULL, &a, err, sizeof err), AV_STATUS_FORMAT);
    CHECK(strstr(err, "(memory): not a readable audio file") == err);

    /* the files the other tests wrote: round trips, down-mixes, truncations, refusals */
    static const char *const files[] = {
        DIR "/rt_pcm16.wav", DIR "/rt_24.flac", DIR "/rt_float.wav", DIR "/five16.wav",
        DIR "/stereo.flac",  DIR "/lossy.ogg",  DIR "/trunc.flac",  DIR "/nan.wav",
        DIR "/inf.wav",      DIR "/text.wav",   DIR "/r4000.wav",   DIR "/empty.wav"};
    int ok = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (exists(files[i]))
            ok += read_both(files[i], "in-memory.bin", err, sizeof err) == AV_STATUS_OK;
    CHECK(ok >= 4);
}

/* Every file of the fuzz corpus, from memory and from the file. */
static av_status parse_audio(const char *path, const char *name, uint8_t *data, size_t size,
                             char *err, size_t err_size)
{
    (void)data, (void)size; /* read_both reads the file itself, from memory and from the path */
    return read_both(path, name, err, err_size);
}

static void test_corpus(void)
{
    corpus_counts n = replay_corpus(CORPUS_DIR, parse_audio, (corpus_rules){AV_STATUS_OK, 1});
    CHECK(n.files >= 20);
}

int main(void)
{
    if (mkdir(DIR, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", DIR, strerror(errno));
        return 1;
    }
    test_format_from_path();
    test_round_trips();
    test_lossy_reads();
    test_multichannel();
    test_rate_range();
    test_read_errors();
    test_truncated();
    test_read_memory();
    test_corpus();
    test_write_errors();
    test_clipping();
    test_resample_sine();
    test_resample_lengths();
    return check_report("test_audio");
}
