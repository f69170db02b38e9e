/* builder/calibrate: the three methods on synthetic data whose answer is known (uniform |x| ->
 * entropy threshold near its end; a Gaussian with huge outliers -> a threshold far below them,
 * equal bin for bin to a plain reference implementation of the KL search written here from the
 * description in calibrate.h; minmax and percentile exact), the two-pass contract, NaN/Inf/empty/
 * all-zero input, and the TensorRT calibration cache (known bit patterns, exact bytes, round
 * trips, every refusal with its file:line), the fuzz corpus tests/fuzz/corpus/calib_cache (read
 * for the tensors FUZZ_CACHE_NAMES below, as tests/fuzz/fuzz_calib_cache.c does). Files live in
 * AV_TEST_TMPDIR/test_calibrate*. Also the tactic timing cache (builder/timing_cache.h): round
 * trip, order, stale files, refusals with their line, and its corpus tests/fuzz/corpus/timing_cache.
 *
 * With a model package as argument (test_calibrate MODEL_DIR: ctest's test_calibrate_audio on the
 * fixture package), it tests calibration from audio instead (builder/calib_audio.h): a directory
 * of two short generated files through the conversion pipeline, one batch per component run, the
 * shapes the converter gives, the batch limit, and the refusals (no audio, unreadable audio). */
#define _POSIX_C_SOURCE 200809L /* unlink, mkdir */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autovoice/autovoice.h"
#include "builder/calib_audio.h"
#include "builder/calibrate.h"
#include "builder/timing_cache.h"
#include "check.h"
#include "core/internal.h"
#include "corpus.h"
#include "engine/engine_internal.h"

#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/calib_cache"
/* The model's tensors a corpus cache is read for, and the fingerprint (tests/fuzz/README.md). */
#define FUZZ_CACHE_NAMES {"input_audio", "/conv_pre/Conv_output_0", "(Unnamed Layer* 4) [Fully Connected]_output"}
#define FUZZ_CACHE_FINGERPRINT 0x9f3c0e1d2b4a5678ull

#define CACHE AV_TEST_TMPDIR "/test_calibrate.cache"

static char err[512];

/* ---- data ------------------------------------------------------------------------------------ */

static uint64_t rng_state;
static uint64_t rng_seed;

static void rng_init(uint64_t seed)
{
    rng_seed = rng_state = seed;
}

/* splitmix64 */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double rng_uniform(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static double rng_gauss(void)
{
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Batch sizes that do not divide anything: the collector must not care how data is split. */
static const size_t batch_sizes[] = {1, 7, 997, 4096, 13, 65537, 2};

/* Feeds x[0..n) in awkward batches to pass `pass` (1 = range, 2 = histogram). */
static av_status feed(av__calib_collector *c, int pass, const float *x, size_t n)
{
    size_t at = 0, b = 0;
    while (at < n) {
        size_t k = batch_sizes[b++ % (sizeof batch_sizes / sizeof batch_sizes[0])];
        if (k > n - at)
            k = n - at;
        av_status st = pass == 1 ? av__calib_collector_observe_range(c, x + at, k, err, sizeof err)
                                 : av__calib_collector_observe_histogram(c, x + at, k, err,
                                                                         sizeof err);
        if (st != AV_STATUS_OK)
            return st;
        at += k;
    }
    return AV_STATUS_OK;
}

/* A collector of `method` run over x in both passes; result in *r. */
static av_status calibrate(av__calib_method method, double percentile, const float *x, size_t n,
                           av__calib_result *r)
{
    av__calib_options o = av__calib_options_default();
    o.method = method;
    o.percentile = percentile;
    av__calib_collector *c = NULL;
    av_status st = av__calib_collector_create("t", &o, &c, err, sizeof err);
    if (st == AV_STATUS_OK)
        st = feed(c, 1, x, n);
    if (st == AV_STATUS_OK && av__calib_collector_passes(c) == 2)
        st = feed(c, 2, x, n);
    if (st == AV_STATUS_OK)
        st = av__calib_collector_finish(c, r, err, sizeof err);
    if (st != AV_STATUS_OK)
        fprintf(stderr, "calibrate(%d): %s\n", (int)method, err);
    av__calib_collector_free(c);
    return st;
}

/* ---- a plain reference of the KL search, written from the description in calibrate.h --------- */

/* KL(P||Q) for candidate i over a histogram of nb bins; INFINITY where Q = 0 < P. */
static double ref_divergence(const uint64_t *h, int nb, int i)
{
    static double p[AV__CALIB_BINS], q[AV__CALIB_BINS];
    double level_sum[AV__CALIB_LEVELS] = {0}, level_nonzero[AV__CALIB_LEVELS] = {0};
    double outliers = 0.0, ps = 0.0, qs = 0.0;
    for (int j = i; j < nb; j++)
        outliers += (double)h[j];
    for (int j = 0; j < i; j++) {
        int lv = (int)((long long)j * AV__CALIB_LEVELS / i);
        level_sum[lv] += (double)h[j];
        level_nonzero[lv] += h[j] ? 1.0 : 0.0;
        p[j] = (double)h[j];
    }
    p[i - 1] += outliers;
    for (int j = 0; j < i; j++) {
        int lv = (int)((long long)j * AV__CALIB_LEVELS / i);
        q[j] = h[j] ? level_sum[lv] / level_nonzero[lv] : 0.0;
        ps += p[j];
        qs += q[j];
    }
    double kl = 0.0;
    for (int j = 0; j < i; j++) {
        if (p[j] == 0.0)
            continue;
        if (q[j] == 0.0)
            return INFINITY;
        kl += p[j] / ps * log((p[j] / ps) / (q[j] / qs));
    }
    return kl;
}

static int ref_search(const uint64_t *h, int nb, double *best_kl)
{
    int best = -1;
    for (int i = AV__CALIB_START_BIN; i <= nb; i++) {
        double kl = ref_divergence(h, nb, i);
        if (best < 0 || kl < *best_kl) {
            best = i;
            *best_kl = kl;
        }
    }
    return best;
}

/* The histogram as documented: bin floor(|x| * 2048 / max) in double, clamped to 2047. */
static void ref_histogram(const float *x, size_t n, float max, uint64_t *h)
{
    memset(h, 0, AV__CALIB_BINS * sizeof *h);
    for (size_t k = 0; k < n; k++) {
        double t = (double)fabsf(x[k]) * AV__CALIB_BINS / (double)max;
        h[t >= AV__CALIB_BINS - 1 ? AV__CALIB_BINS - 1 : (int)t]++;
    }
}

/* ---- the methods ----------------------------------------------------------------------------- */

static void test_uniform(void)
{
    const size_t n = 1000000;
    const float a = 3.7f;
    float *x = malloc(n * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    rng_init(0x5eed0001);
    for (size_t k = 0; k < n; k++)
        x[k] = (float)((2.0 * rng_uniform() - 1.0) * a);
    av__calib_result r;
    CHECK_INT(calibrate(AV__CALIB_METHOD_ENTROPY, 0, x, n, &r), AV_STATUS_OK);
    /* Nothing to clip: the best candidate keeps (nearly) every bin. */
    if (!(fabsf(r.threshold - r.max_abs) <= 0.01f * r.max_abs))
        fprintf(stderr, "uniform: seed %#llx, threshold %g, max %g, bin %d\n",
                (unsigned long long)rng_seed, (double)r.threshold, (double)r.max_abs, r.bin);
    CHECK_NEAR(r.threshold, r.max_abs, 0.01 * r.max_abs);
    printf("uniform |x| on [0, %g]: entropy threshold %.5f (bin %d, max %.5f)\n", (double)a,
           (double)r.threshold, r.bin, (double)r.max_abs);
    CHECK(r.max_abs <= a && r.max_abs > 0.999f * a);
    CHECK(r.bin >= 2028);
    CHECK(r.scale == r.threshold / 127.0f);
    CHECK_INT(r.count, n);
    CHECK_INT(r.fallback, 0);
    free(x);
}

static void test_gaussian_outliers(void)
{
    const size_t n = 200000, n_out = 4;
    float *x = malloc((n + n_out) * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    rng_init(0x5eed0002);
    for (size_t k = 0; k < n; k++)
        x[k] = (float)rng_gauss();
    /* The outliers go in the middle so batches before and after them both matter. */
    memmove(x + n / 2 + n_out, x + n / 2, (n - n / 2) * sizeof *x);
    const float outliers[] = {40.0f, -39.5f, 38.0f, -40.0f};
    memcpy(x + n / 2, outliers, sizeof outliers);

    av__calib_options o = av__calib_options_default();
    av__calib_collector *c = NULL;
    CHECK_INT(av__calib_collector_create("gauss", &o, &c, err, sizeof err), AV_STATUS_OK);
    if (!c) {
        free(x);
        return;
    }
    CHECK(av__calib_collector_histogram(c, NULL) == NULL);
    CHECK_INT(feed(c, 1, x, n + n_out), AV_STATUS_OK);
    CHECK_INT(feed(c, 2, x, n + n_out), AV_STATUS_OK);
    av__calib_result r;
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_OK);
    float max = 0.0f;
    const uint64_t *h = av__calib_collector_histogram(c, &max);
    CHECK(h != NULL);
    CHECK(max == 40.0f);

    static uint64_t ref_h[AV__CALIB_BINS];
    ref_histogram(x, n + n_out, 40.0f, ref_h);
    int same = h && memcmp(h, ref_h, sizeof ref_h) == 0;
    CHECK(same);
    double ref_kl = 0.0;
    int ref_bin = ref_search(ref_h, AV__CALIB_BINS, &ref_kl);
    float ref_threshold = (float)((ref_bin + 0.5) * 40.0 / AV__CALIB_BINS);
    if (r.bin != ref_bin || r.threshold != ref_threshold)
        fprintf(stderr, "gaussian: seed %#llx: bin %d (kl %.17g) vs reference %d (kl %.17g)\n",
                (unsigned long long)rng_seed, r.bin, r.divergence, ref_bin, ref_kl);
    CHECK_INT(r.bin, ref_bin);
    CHECK(r.threshold == ref_threshold);
    CHECK_NEAR(r.divergence, ref_kl, 1e-12 * fabs(ref_kl) + 1e-15);
    CHECK(r.scale == ref_threshold / 127.0f);
    /* Far below the outliers, and where a clipped Gaussian of 200k samples ends up: a few sigma.
     * (The search cannot go below bin 128 = 2.5 here: the outliers set the histogram's range.) */
    CHECK(r.threshold > 2.5f && r.threshold < 8.0f);
    printf("gaussian + outliers at 40: entropy threshold %.4f (bin %d, KL %.6g)\n",
           (double)r.threshold, r.bin, r.divergence);

    /* Every candidate's divergence agrees with the reference (spot check across the range). */
    for (int i = AV__CALIB_START_BIN; i <= AV__CALIB_BINS; i += 97) {
        double a = av__calib_entropy_divergence(h, AV__CALIB_BINS, (size_t)i);
        double b = ref_divergence(ref_h, AV__CALIB_BINS, i);
        if (isinf(b))
            CHECK(isinf(a));
        else
            CHECK_NEAR(a, b, 1e-12 * fabs(b) + 1e-15);
    }
    av__calib_collector_free(c);
    free(x);
}

/* Divergences computed by hand on tiny histograms. */
static void test_divergence_by_hand(void)
{
    static uint64_t h[256];
    for (int j = 0; j < 256; j++)
        h[j] = 1;
    /* i = 256: levels of 2 bins, Q = P. */
    CHECK_NEAR(av__calib_entropy_divergence(h, 256, 256), 0.0, 1e-15);
    /* i = 128: one bin per level; P = (1, ..., 1, 129) / 256, Q = 1/128 everywhere. */
    double want = 127.0 / 256.0 * log(0.5) + 129.0 / 256.0 * log(129.0 / 2.0);
    CHECK_NEAR(av__calib_entropy_divergence(h, 256, 128), want, 1e-12);
    size_t best = 0;
    double kl = -1.0;
    CHECK_INT(av__calib_entropy_search(h, 256, &best, &kl, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(best, 256);
    CHECK_NEAR(kl, 0.0, 1e-15);

    /* An empty last kept bin with outliers beyond it: P > 0 = Q -> infinite, never chosen. */
    h[199] = 0;
    CHECK(isinf(av__calib_entropy_divergence(h, 256, 200)));
    /* Zero bins stay zero in Q: level 99 of i = 200 holds bins 198, 199; 199 is empty, so bin
     * 198 carries the level's whole mass and KL stays finite. */
    CHECK(isfinite(av__calib_entropy_divergence(h, 256, 201)));
    /* Everything in the outliers: Q is all zero. */
    static uint64_t tail[256];
    tail[255] = 10;
    CHECK(isinf(av__calib_entropy_divergence(tail, 256, 128)));
    CHECK(isfinite(av__calib_entropy_divergence(tail, 256, 256)));
    CHECK_INT(av__calib_entropy_search(tail, 256, &best, &kl, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(best, 256);

    static uint64_t zero[256];
    CHECK(isnan(av__calib_entropy_divergence(zero, 256, 200)));
    CHECK(isnan(av__calib_entropy_divergence(h, 256, 0)));
    CHECK(isnan(av__calib_entropy_divergence(h, 256, 257)));
    CHECK_INT(av__calib_entropy_search(zero, 256, &best, &kl, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__calib_entropy_search(h, 100, &best, &kl, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
}

static void test_minmax(void)
{
    float x[1001];
    for (int k = 0; k < 1001; k++)
        x[k] = (float)(k % 17) * 0.25f - 2.0f;
    x[500] = -5.25f;
    av__calib_result r;
    CHECK_INT(calibrate(AV__CALIB_METHOD_MINMAX, 0, x, 1001, &r), AV_STATUS_OK);
    CHECK(r.threshold == 5.25f);
    CHECK(r.scale == 5.25f / 127.0f);
    CHECK(r.max_abs == 5.25f);
    CHECK_INT(r.bin, -1);

    /* One pass is enough. */
    av__calib_options o = {AV__CALIB_METHOD_MINMAX, 0};
    av__calib_collector *c = NULL;
    CHECK_INT(av__calib_collector_create("mm", &o, &c, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_passes(c), 1);
    CHECK_INT(feed(c, 1, x, 1001), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_OK);
    CHECK(r.threshold == 5.25f);
    /* reset forgets everything */
    av__calib_collector_reset(c);
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(feed(c, 1, x, 10), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_OK);
    CHECK(r.threshold == 2.0f);
    av__calib_collector_free(c);
}

static void test_percentile(void)
{
    /* 1..10000 with alternating signs, shuffled: the k-th smallest |x| is k. */
    enum { N = 10000 };
    static float x[N];
    for (int k = 0; k < N; k++)
        x[k] = (float)(k + 1) * (k % 2 ? -1.0f : 1.0f);
    rng_init(0x5eed0003);
    for (int k = N - 1; k > 0; k--) {
        int j = (int)(rng_next() % (uint64_t)(k + 1));
        float t = x[k];
        x[k] = x[j];
        x[j] = t;
    }
    static const struct {
        double p;
        float want;
    } cases[] = {{99.99, 9999.0f}, {50.0, 5000.0f}, {100.0, 10000.0f}, {0.01, 1.0f},
                 {99.995, 10000.0f}, {0.005, 1.0f}, {12.345, 1235.0f}, {99.9, 9990.0f}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        av__calib_result r;
        CHECK_INT(calibrate(AV__CALIB_METHOD_PERCENTILE, cases[t].p, x, N, &r), AV_STATUS_OK);
        if (r.threshold != cases[t].want)
            fprintf(stderr, "percentile %g: got %g, want %g (seed %#llx)\n", cases[t].p,
                    (double)r.threshold, (double)cases[t].want, (unsigned long long)rng_seed);
        CHECK(r.threshold == cases[t].want);
        CHECK(r.scale == cases[t].want / 127.0f);
    }
    /* the default is 99.99 */
    CHECK(av__calib_options_default().percentile == 99.99);
    /* out of range */
    av__calib_options o = {AV__CALIB_METHOD_PERCENTILE, 0.0};
    av__calib_collector *c = NULL;
    CHECK_INT(av__calib_collector_create("p", &o, &c, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(c == NULL);
    CHECK(strstr(err, "'p'") && strstr(err, "(0, 100]"));
    o.percentile = 100.5;
    CHECK_INT(av__calib_collector_create("p", &o, &c, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    o.percentile = NAN;
    CHECK_INT(av__calib_collector_create("p", &o, &c, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    o.method = (av__calib_method)7;
    o.percentile = 50;
    CHECK_INT(av__calib_collector_create("p", &o, &c, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__calib_collector_create(NULL, &o, &c, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
}

static void test_names(void)
{
    CHECK_STR(av__calib_method_name(AV__CALIB_METHOD_ENTROPY), "entropy");
    CHECK_STR(av__calib_method_name(AV__CALIB_METHOD_MINMAX), "minmax");
    CHECK_STR(av__calib_method_name(AV__CALIB_METHOD_PERCENTILE), "percentile");
    CHECK(av__calib_method_name((av__calib_method)3) == NULL);
    CHECK_INT(av__calib_method_from_name("percentile"), AV__CALIB_METHOD_PERCENTILE);
    CHECK_INT(av__calib_method_from_name("Entropy"), -1);
    CHECK_INT(av__calib_method_from_name(NULL), -1);
}

/* ---- degenerate input and the two-pass contract ---------------------------------------------- */

static void test_degenerate(void)
{
    static float zeros[3000];
    for (int m = 0; m < 3; m++) {
        av__calib_result r;
        CHECK_INT(calibrate((av__calib_method)m, 99.99, zeros, 3000, &r), AV_STATUS_OK);
        CHECK(r.threshold == 1.0f);
        CHECK(r.scale == 1.0f / 127.0f);
        CHECK(r.max_abs == 0.0f);
        CHECK_INT(r.fallback, 1);
        CHECK(isfinite(r.divergence));
    }
    /* A percentile that lands on zeros falls back to max|x|. */
    zeros[1234] = -5.0f;
    av__calib_result r;
    CHECK_INT(calibrate(AV__CALIB_METHOD_PERCENTILE, 50.0, zeros, 3000, &r), AV_STATUS_OK);
    CHECK(r.threshold == 5.0f);
    CHECK_INT(r.fallback, 1);
    /* ... but entropy on mostly zeros is a normal search (its threshold is >= 128.5 bins). */
    CHECK_INT(calibrate(AV__CALIB_METHOD_ENTROPY, 0, zeros, 3000, &r), AV_STATUS_OK);
    CHECK_INT(r.fallback, 0);
    CHECK(r.threshold > 0.0f && r.threshold <= 5.0f);

    /* Empty input: empty batches are fine (NULL allowed), finishing with nothing is not. */
    av__calib_options o = av__calib_options_default();
    av__calib_collector *c = NULL;
    CHECK_INT(av__calib_collector_create("empty", &o, &c, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_observe_range(c, NULL, 0, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "'empty'") && strstr(err, "no values"));
    CHECK_INT(av__calib_collector_observe_histogram(c, NULL, 0, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT); /* pass 2 before any pass-1 value */
    CHECK_INT(av__calib_collector_observe_range(c, NULL, 5, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    av__calib_collector_free(c);
    av__calib_collector_free(NULL);
}

static void test_nonfinite(void)
{
    float x[8] = {1, 2, -3, 0.5f, 0, 0, 0, 0};
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++) {
        av__calib_options o = {AV__CALIB_METHOD_PERCENTILE, 50};
        av__calib_collector *c = NULL;
        CHECK_INT(av__calib_collector_create("act", &o, &c, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(av__calib_collector_observe_range(c, x, 4, err, sizeof err), AV_STATUS_OK);
        float y[4] = {100.0f, 1.0f, 1.0f, bad[b]};
        /* refused whole: the 100 before the bad value is not counted */
        CHECK_INT(av__calib_collector_observe_range(c, y, 4, err, sizeof err),
                  AV_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(err, "'act'") && strstr(err, "index 3") && strstr(err, "non-finite"));
        CHECK_INT(av__calib_collector_observe_histogram(c, x, 4, err, sizeof err), AV_STATUS_OK);
        av__calib_result r;
        CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(r.count, 4);
        CHECK(r.max_abs == 3.0f);
        CHECK(r.threshold == 1.0f); /* rank ceil(0.5 * 4) = 2 of {0.5, 1, 2, 3} */
        av__calib_collector_free(c);

        /* in pass 2 as well */
        CHECK_INT(av__calib_collector_create("act", &o, &c, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(av__calib_collector_observe_range(c, x, 8, err, sizeof err), AV_STATUS_OK);
        x[5] = bad[b];
        CHECK_INT(av__calib_collector_observe_histogram(c, x, 8, err, sizeof err),
                  AV_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(err, "index 5"));
        x[5] = 0;
        CHECK_INT(av__calib_collector_observe_histogram(c, x, 8, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_OK);
        av__calib_collector_free(c);
    }
}

static void test_two_pass_contract(void)
{
    float x[6] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
    av__calib_options o = av__calib_options_default();
    av__calib_collector *c = NULL;
    av__calib_result r;
    CHECK_INT(av__calib_collector_create("two", &o, &c, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_passes(c), 2);
    CHECK_INT(av__calib_collector_observe_range(c, x, 6, err, sizeof err), AV_STATUS_OK);
    /* finishing without pass 2 */
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "pass 2") && strstr(err, "0 values") && strstr(err, "6"));
    /* a value beyond pass 1's max */
    float big[2] = {0.5f, -2.5f};
    CHECK_INT(av__calib_collector_observe_histogram(c, big, 2, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "exceeds") && strstr(err, "index 1"));
    CHECK_INT(av__calib_collector_observe_histogram(c, x, 4, err, sizeof err), AV_STATUS_OK);
    /* pass 1 is over */
    CHECK_INT(av__calib_collector_observe_range(c, x, 1, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    /* incomplete pass 2 */
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "4 values"));
    /* too many values */
    CHECK_INT(av__calib_collector_observe_histogram(c, x, 3, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__calib_collector_observe_histogram(c, x + 4, 2, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av__calib_collector_finish(c, &r, err, sizeof err), AV_STATUS_OK);
    CHECK(r.threshold > 0.0f && r.threshold <= 2.0f);
    /* finish does not change the collector */
    av__calib_result r2;
    CHECK_INT(av__calib_collector_finish(c, &r2, err, sizeof err), AV_STATUS_OK);
    CHECK(memcmp(&r, &r2, sizeof r) == 0);
    /* the bin of max itself is the last one */
    float m = 0;
    const uint64_t *h = av__calib_collector_histogram(c, &m);
    CHECK(h && m == 2.0f && h[AV__CALIB_BINS - 1] == 1 && h[256] == 1 && h[1536] == 1);
    av__calib_collector_free(c);
}

/* ---- the cache ------------------------------------------------------------------------------- */

static char *read_text(const char *path)
{
    static char text[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
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

static void test_cache_known_bits(void)
{
    const char *names[] = {"data", "conv1"};
    float s2[2] = {1.0f / 127.0f, 0.0f};
    uint32_t u = 0x3c010a14u; /* 0.00787594: a range of 1.000244 */
    memcpy(&s2[1], &u, sizeof u);
    CHECK_INT(av__calib_cache_write(CACHE, 8601, AV__CALIB_METHOD_ENTROPY, names, s2, 2, NULL, err,
                                    sizeof err),
              AV_STATUS_OK);
    CHECK_STR(read_text(CACHE), "TRT-8601-EntropyCalibration2\ndata: 3c010204\nconv1: 3c010a14\n");

    /* TensorRT's MNIST sample lines; upper-case hex and CRLF are read too */
    write_text(CACHE, "TRT-7103-EntropyCalibration2\r\ndata: 3C008912\r\nconv1: 3c60dd38\r\n");
    float got[2] = {0, 0};
    av__calib_cache_info info;
    CHECK_INT(av__calib_cache_read(CACHE, names, 2, NULL, got, &info, err, sizeof err),
              AV_STATUS_OK);
    uint32_t b0, b1;
    memcpy(&b0, &got[0], 4);
    memcpy(&b1, &got[1], 4);
    CHECK_INT(b0, 0x3c008912u);
    CHECK_INT(b1, 0x3c60dd38u);
    CHECK_NEAR(got[0] * 127.0, 0.996338, 1e-6); /* MNIST inputs in [0, 1] */
    CHECK_INT(info.version, 7103);
    CHECK_INT(info.method, AV__CALIB_METHOD_ENTROPY);
    CHECK_INT(info.has_fingerprint, 0);
}

static void test_cache_round_trip(void)
{
    const char *names[] = {"input_audio", "(Unnamed Layer* 4) [Fully Connected]_output",
                           "odd: name: with colons", "/conv_pre/Conv_output_0", " spaced "};
    enum { N = 5 };
    float scales[N];
    rng_init(0x5eed0004);
    for (int k = 0; k < N; k++)
        scales[k] = (float)(rng_uniform() * 10.0 + 1e-6) / 127.0f;
    scales[4] = 1e-30f; /* denormal-adjacent: still exact */
    av__calib_fingerprint fp = av__calib_fingerprint_update(AV__CALIB_FINGERPRINT_INIT, "model", 5);
    CHECK(fp != AV__CALIB_FINGERPRINT_INIT);
    /* FNV-1a 64 test vectors */
    CHECK(av__calib_fingerprint_update(AV__CALIB_FINGERPRINT_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
    CHECK(av__calib_fingerprint_update(AV__CALIB_FINGERPRINT_INIT, "", 0) == 0xcbf29ce484222325ull);
    for (int m = 0; m < 3; m++) {
        CHECK_INT(av__calib_cache_write(CACHE, AV__CALIB_CACHE_TRT_VERSION, (av__calib_method)m,
                                        names, scales, N, &fp, err, sizeof err),
                  AV_STATUS_OK);
        const char *text = read_text(CACHE);
        static const char *const heads[] = {"TRT-8601-EntropyCalibration2\n",
                                            "TRT-8601-MinMaxCalibration\n",
                                            "TRT-8601-LegacyCalibration\n"};
        CHECK(text && strncmp(text, heads[m], strlen(heads[m])) == 0);
        char fpline[64];
        snprintf(fpline, sizeof fpline, "\n__autovoice_fingerprint_%016llx: 3f800000\n",
                 (unsigned long long)fp);
        CHECK(text && strstr(text, fpline) == text + strlen(heads[m]) - 1);
        /* read back in another order: scales follow the caller's names */
        const char *rev[N];
        for (int k = 0; k < N; k++)
            rev[k] = names[N - 1 - k];
        float got[N];
        av__calib_cache_info info;
        CHECK_INT(av__calib_cache_read(CACHE, rev, N, &fp, got, &info, err, sizeof err),
                  AV_STATUS_OK);
        for (int k = 0; k < N; k++)
            CHECK(memcmp(&got[k], &scales[N - 1 - k], sizeof(float)) == 0);
        CHECK_INT(info.method, m);
        CHECK_INT(info.version, 8601);
        CHECK_INT(info.has_fingerprint, 1);
        CHECK(info.fingerprint == fp);
    }
    /* a cache with no tensors at all */
    CHECK_INT(av__calib_cache_write(CACHE, 8601, AV__CALIB_METHOD_MINMAX, NULL, NULL, 0, NULL, err,
                                    sizeof err),
              AV_STATUS_OK);
    CHECK_INT(av__calib_cache_read(CACHE, NULL, 0, NULL, NULL, NULL, err, sizeof err), AV_STATUS_OK);
    CHECK(access(CACHE ".tmp", F_OK) != 0);
}

/* The reader refuses `text` with a message that contains `want` (e.g. "cache:3:"). */
static void expect_refused(const char *text, const char *const *names, size_t n,
                           const av__calib_fingerprint *fp, const char *want, int line)
{
    write_text(CACHE, text);
    float got[4] = {-7.0f, -7.0f, -7.0f, -7.0f};
    err[0] = '\0';
    av_status st = av__calib_cache_read(CACHE, names, n, fp, got, NULL, err, sizeof err);
    if (st != AV_STATUS_FORMAT || !strstr(err, want)) {
        fprintf(stderr, "test_calibrate.c:%d: expected FORMAT with \"%s\", got %d \"%s\"\n", line,
                want, (int)st, err);
        check_failures++;
    }
    for (int k = 0; k < 4; k++)
        CHECK(got[k] == -7.0f); /* nothing written on failure */
}

#define REFUSED(text, n, fp, want) expect_refused(text, names, n, fp, want, __LINE__)

static void test_cache_refusals(void)
{
    const char *names[] = {"a", "b"};
    av__calib_fingerprint fp = 0x0123456789abcdefull, other = 0x0123456789abcdeeull;
    const char *ok_head = "TRT-8601-EntropyCalibration2\n";
    char text[512];

    /* the valid base case */
    snprintf(text, sizeof text, "%sa: 3c010204\nb: 3c010204\n", ok_head);
    write_text(CACHE, text);
    float got[2];
    CHECK_INT(av__calib_cache_read(CACHE, names, 2, NULL, got, NULL, err, sizeof err), AV_STATUS_OK);

    REFUSED("", 2, NULL, CACHE ":1: empty file");
    REFUSED("TRT-8601\na: 3c010204\nb: 3c010204\n", 2, NULL, CACHE ":1: bad header");
    REFUSED("TRT--EntropyCalibration2\n", 2, NULL, CACHE ":1: bad header");
    REFUSED("trt-8601-EntropyCalibration2\n", 2, NULL, CACHE ":1: bad header");
    REFUSED("TRT-8601-EntropyCalibration\na: 3c010204\nb: 3c010204\n", 2, NULL,
            CACHE ":1: unsupported calibration algorithm");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c01020\nb: 3c010204\n", 2, NULL,
            CACHE ":2: malformed line 'a: 3c01020'");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c0102040\n", 2, NULL,
            CACHE ":3: malformed line");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c01020g\nb: 3c010204\n", 2, NULL,
            CACHE ":2: malformed line");
    REFUSED("TRT-8601-EntropyCalibration2\na:3c010204\nb: 3c010204\n", 2, NULL,
            CACHE ":2: malformed line");
    REFUSED("TRT-8601-EntropyCalibration2\n: 3c010204\n", 2, NULL, CACHE ":2: malformed line");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c010204\n\nb: 3c010204\n", 2, NULL,
            CACHE ":3: malformed line ''");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c010204 \nb: 3c010204\n", 2, NULL,
            CACHE ":2: malformed line");
    REFUSED("TRT-8601-EntropyCalibration2\na: 7fc00000\nb: 3c010204\n", 2, NULL,
            CACHE ":2: tensor 'a': scale 7fc00000");
    REFUSED("TRT-8601-EntropyCalibration2\na: 7f800000\nb: 3c010204\n", 2, NULL, CACHE ":2:");
    REFUSED("TRT-8601-EntropyCalibration2\na: 00000000\nb: 3c010204\n", 2, NULL,
            "must be finite and > 0");
    REFUSED("TRT-8601-EntropyCalibration2\na: bc010204\nb: 3c010204\n", 2, NULL,
            CACHE ":2: tensor 'a'");
    /* the tensor set */
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c010204\n", 2, NULL, "no scale for the model's "
                                                                    "tensor 'b'");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c010204\nc: 3c010204\n", 2, NULL,
            CACHE ":4: tensor 'c' is not one of the model's 2");
    REFUSED("TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c010204\na: 3c010204\n", 2, NULL,
            CACHE ":4: tensor 'a' appears twice (first on line 2)");
    REFUSED("TRT-8601-EntropyCalibration2\nA: 3c010204\nb: 3c010204\n", 2, NULL,
            CACHE ":2: tensor 'A' is not"); /* names are case-sensitive */
    /* the fingerprint */
    snprintf(text, sizeof text, "%s__autovoice_fingerprint_%016llx: 3f800000\na: 3c010204\n"
             "b: 3c010204\n", ok_head, (unsigned long long)other);
    REFUSED(text, 2, &fp, CACHE ":2: calibration cache made for another model");
    snprintf(text, sizeof text, "%sa: 3c010204\nb: 3c010204\n", ok_head);
    REFUSED(text, 2, &fp, "no __autovoice_fingerprint_ entry");
    REFUSED("TRT-8601-EntropyCalibration2\n__autovoice_fingerprint_0123: 3f800000\n", 2, &fp,
            CACHE ":2: malformed fingerprint entry");
    snprintf(text, sizeof text, "%s__autovoice_fingerprint_%016llx: 3f800001\n", ok_head,
             (unsigned long long)fp);
    REFUSED(text, 2, &fp, CACHE ":2: malformed fingerprint entry");
    snprintf(text, sizeof text,
             "%s__autovoice_fingerprint_%016llx: 3f800000\na: 3c010204\n"
             "__autovoice_fingerprint_%016llx: 3f800000\nb: 3c010204\n",
             ok_head, (unsigned long long)fp, (unsigned long long)fp);
    REFUSED(text, 2, &fp, CACHE ":4: second fingerprint entry (the first is on line 2)");
    REFUSED("TRT-8601-EntropyCalibration2\n__autovoice_other: 3c010204\n", 2, NULL,
            CACHE ":2: '__autovoice_other' uses the reserved prefix");
    /* a fingerprinted cache read without expecting one: accepted, fingerprint reported */
    snprintf(text, sizeof text, "%s__autovoice_fingerprint_%016llx: 3f800000\na: 3c010204\n"
             "b: 3c010204", ok_head, (unsigned long long)other); /* no final newline */
    write_text(CACHE, text);
    av__calib_cache_info info;
    CHECK_INT(av__calib_cache_read(CACHE, names, 2, NULL, got, &info, err, sizeof err),
              AV_STATUS_OK);
    CHECK(info.has_fingerprint && info.fingerprint == other);
    /* binary junk */
    FILE *f = fopen(CACHE, "wb");
    if (f) {
        fwrite("TRT-1-MinMaxCalibration\na\0: 3c010204\n", 1, 37, f);
        fclose(f);
    }
    CHECK_INT(av__calib_cache_read(CACHE, names, 2, NULL, got, NULL, err, sizeof err),
              AV_STATUS_FORMAT);
    CHECK(strstr(err, CACHE ":2: NUL byte"));
    /* no file */
    unlink(CACHE);
    CHECK_INT(av__calib_cache_read(CACHE, names, 2, NULL, got, NULL, err, sizeof err), AV_STATUS_IO);
    CHECK(strstr(err, CACHE));
    /* the model's own list must not repeat a name */
    const char *dup[] = {"a", "a"};
    CHECK_INT(av__calib_cache_read(CACHE, dup, 2, NULL, got, NULL, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
}

static void test_cache_write_refusals(void)
{
    const float s[2] = {0.01f, 0.02f};
    const char *dup[] = {"x", "x"}, *reserved[] = {"x", "__autovoice_fingerprint_1"},
               *nl[] = {"x", "y\nz"}, *empty[] = {"x", ""};
    const char *const *bad_names[] = {dup, reserved, nl, empty};
    write_text(CACHE, "previous\n");
    for (int b = 0; b < 4; b++) {
        CHECK_INT(av__calib_cache_write(CACHE, 8601, AV__CALIB_METHOD_ENTROPY, bad_names[b], s, 2,
                                        NULL, err, sizeof err),
                  AV_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(err, CACHE) != NULL);
    }
    const char *ok[] = {"x", "y"};
    const float bad_scales[][2] = {{0.01f, 0.0f}, {0.01f, -1.0f}, {NAN, 1.0f}, {INFINITY, 1.0f}};
    for (int b = 0; b < 4; b++)
        CHECK_INT(av__calib_cache_write(CACHE, 8601, AV__CALIB_METHOD_ENTROPY, ok, bad_scales[b], 2,
                                        NULL, err, sizeof err),
                  AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__calib_cache_write(CACHE, -1, AV__CALIB_METHOD_ENTROPY, ok, s, 2, NULL, err,
                                    sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__calib_cache_write(CACHE, 1, (av__calib_method)9, ok, s, 2, NULL, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_STR(read_text(CACHE), "previous\n"); /* untouched */
    /* an unwritable place: IO, no temporary left */
    const char *nowhere = AV_TEST_TMPDIR "/no_such_dir/x.cache";
    CHECK_INT(av__calib_cache_write(nowhere, 8601, AV__CALIB_METHOD_ENTROPY, ok, s, 2, NULL, err,
                                    sizeof err),
              AV_STATUS_IO);
    CHECK(strstr(err, "no_such_dir") != NULL);
    unlink(CACHE);
}

/* ---- the fuzz corpus -------------------------------------------------------------------------- */

/* Files named *_fp* are read expecting the fingerprint, the others without one. */
static av_status parse_cache_file(const char *path, const char *name, uint8_t *data, size_t size,
                                  char *e, size_t e_size)
{
    (void)path;
    const char *names[] = FUZZ_CACHE_NAMES;
    av__calib_fingerprint fp = FUZZ_CACHE_FINGERPRINT;
    float scales[3];
    return av__calib_cache_parse((const char *)data, size, name, names, 3,
                                 strstr(name, "_fp") ? &fp : NULL, scales, NULL, e, e_size);
}

static void test_corpus(void)
{
    corpus_counts c = replay_corpus(CORPUS_DIR, parse_cache_file, (corpus_rules){AV_STATUS_FORMAT, 1});
    CHECK(c.ok >= 3 && c.bad >= 10);
}

/* ---- the timing cache ---------------------------------------------------------------------- */

#define TIMING AV_TEST_TMPDIR "/test_calibrate.timing"
#define TIMING_CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/timing_cache"

/* The machine the timing corpus was written for (tests/fuzz/fuzz_timing_cache.c). */
static av__timing_env corpus_env(void)
{
    av__timing_env env;
    memset(&env, 0, sizeof env);
    snprintf(env.library, sizeof env.library, "0.1.0");
    snprintf(env.onednn, sizeof env.onednn, "2.6.3");
    env.cpu = 0x3ff;
    snprintf(env.cpu_model, sizeof env.cpu_model, "AMD EPYC");
    return env;
}

/* ok_stale_* files must parse as stale, other ok_ files as current. */
static av_status parse_timing_file(const char *path, const char *name, uint8_t *data, size_t size,
                                   char *e, size_t e_size)
{
    (void)path;
    av__timing_env env = corpus_env();
    av__timing_cache c;
    int stale;
    char why[256];
    av_status st = av__timing_cache_parse((const char *)data, size, name, &env, &c, &stale, why,
                                          sizeof why, e, e_size);
    if (st == AV_STATUS_OK && stale != (strncmp(name, "ok_stale", 8) == 0)) {
        fprintf(stderr, "%s: stale %d (%s)\n", name, stale, why);
        check_failures++;
    }
    av__timing_cache_free(&c);
    return st;
}

static void test_timing_cache(void)
{
    av__timing_env env = corpus_env();
    av__timing_cache c = {0}, back;
    int stale;
    char why[256];
    /* put keeps keys sorted and unique; a second put replaces */
    char keys[][16] = {"Conv:b", "ConvTranspose:a", "Conv:a", "Conv:b"};
    for (int i = 0; i < 4; i++) {
        av__timing_entry e = {keys[i], 100u + (unsigned)i, 10, 200u + (unsigned)i, 20};
        CHECK_INT(av__timing_cache_put(&c, &e, err, sizeof err), AV_STATUS_OK);
    }
    CHECK_INT(c.n, 3);
    CHECK_STR(c.e[0].key, "Conv:a");
    CHECK_STR(c.e[1].key, "Conv:b");
    CHECK_STR(c.e[2].key, "ConvTranspose:a");
    const av__timing_entry *hit = av__timing_cache_find(&c, "Conv:b");
    CHECK(hit && hit->gemm_ns == 103 && hit->onednn_ns == 203);
    CHECK(av__timing_cache_find(&c, "Conv:c") == NULL);
    char space[] = "has space", k[] = "k";
    av__timing_entry bad = {space, 1, 0, 1, 0};
    CHECK_INT(av__timing_cache_put(&c, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    bad.key = k;
    bad.gemm_ns = 0;
    CHECK_INT(av__timing_cache_put(&c, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);

    /* round trip, and the exact text */
    CHECK_INT(av__timing_cache_write(TIMING, &env, &c, err, sizeof err), AV_STATUS_OK);
    CHECK_STR(read_text(TIMING), "autovoice-timing-cache 1\nlibrary 0.1.0\nonednn 2.6.3\n"
                                 "cpu 00000000000003ff AMD EPYC\n"
                                 "layer Conv:a gemm 102 10 onednn 202 20\n"
                                 "layer Conv:b gemm 103 10 onednn 203 20\n"
                                 "layer ConvTranspose:a gemm 101 10 onednn 201 20\n");
    CHECK_INT(av__timing_cache_load(TIMING, &env, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_OK);
    CHECK_INT(stale, 0);
    CHECK_INT(back.n, 3);
    for (size_t i = 0; i < back.n && i < 3; i++)
        CHECK(!strcmp(back.e[i].key, c.e[i].key) && back.e[i].gemm_ns == c.e[i].gemm_ns &&
              back.e[i].onednn_bytes == c.e[i].onednn_bytes);
    av__timing_cache_free(&back);

    /* stale: another library, oneDNN, CPU; the reason says which */
    av__timing_env other = env;
    snprintf(other.library, sizeof other.library, "0.2.0");
    CHECK_INT(av__timing_cache_load(TIMING, &other, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_OK);
    CHECK(stale == 1 && back.n == 0);
    CHECK_STR(why, "measured with autovoice 0.1.0; this is autovoice 0.2.0");
    other = env;
    other.cpu = 0x1ff;
    CHECK_INT(av__timing_cache_load(TIMING, &other, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_OK);
    CHECK(stale == 1);
    CHECK_STR(why, "measured on another CPU (AMD EPYC)");
    other = env;
    snprintf(other.onednn, sizeof other.onednn, "3.0.0");
    CHECK_INT(av__timing_cache_load(TIMING, &other, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_OK);
    CHECK_STR(why, "measured with oneDNN 2.6.3; this is oneDNN 3.0.0");

    /* refusals name the file and line */
    write_text(TIMING, "autovoice-timing-cache 1\nlibrary 0.1.0\nonednn 2.6.3\n"
                       "cpu 00000000000003ff AMD EPYC\nlayer Conv:b gemm 1 1 onednn 1 1\n"
                       "layer Conv:a gemm 1 1 onednn 1 1\n");
    CHECK_INT(av__timing_cache_load(TIMING, &env, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_FORMAT);
    CHECK_STR(err, TIMING ":6: layer 'Conv:a' is out of order or repeated (keys are sorted and "
                   "unique)");
    write_text(TIMING, "autovoice-timing-cache 1\nlibrary 0.1.0\n");
    CHECK_INT(av__timing_cache_load(TIMING, &env, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_FORMAT);
    CHECK_STR(err, TIMING ":3: expected 'onednn <version>'");
    write_text(TIMING, "TRT-8601-EntropyCalibration2\n");
    CHECK_INT(av__timing_cache_load(TIMING, &env, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_FORMAT);
    CHECK(strstr(err, TIMING ":1: not an autovoice timing cache") == err);
    unlink(TIMING);
    CHECK_INT(av__timing_cache_load(TIMING, &env, &back, &stale, why, sizeof why, err, sizeof err),
              AV_STATUS_NOT_FOUND);
    av__timing_cache_free(&c);

    corpus_counts n = replay_corpus(TIMING_CORPUS_DIR, parse_timing_file,
                                    (corpus_rules){AV_STATUS_FORMAT, 1});
    CHECK(n.ok >= 5 && n.bad >= 20);
}

/* ---- calibration from audio (with a model package) ---------------------------------------- */

#define AUDIO_DIR AV_TEST_TMPDIR "/test_calibrate_audio"

/* A sung-like tone: f0 gliding from f1 to f2 Hz over `seconds`, with a little noise. */
static void write_tone(const char *path, int rate, double seconds, double f1, double f2,
                       av_audio_format format)
{
    av_audio a = {.frames = (int64_t)(seconds * rate), .sample_rate = rate};
    a.samples = malloc((size_t)a.frames * sizeof *a.samples);
    CHECK(a.samples != NULL);
    if (!a.samples)
        return;
    rng_init(7);
    double phase = 0;
    for (int64_t i = 0; i < a.frames; i++) {
        double f = f1 + (f2 - f1) * (double)i / (double)a.frames;
        phase += 2 * 3.14159265358979 * f / rate;
        a.samples[i] = (float)(0.5 * sin(phase) + 0.01 * (rng_uniform() - 0.5));
    }
    CHECK_INT(av_audio_write(path, &a, format, NULL, err, sizeof err), AV_STATUS_OK);
    free(a.samples);
}

static av_model *load_component(const char *pkg, const char *component)
{
    char path[4096];
    av_model *m = NULL;
    snprintf(path, sizeof path, "%s/%s.onnx", pkg, component);
    if (av_model_load(path, &m, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, err);
        check_failures++;
    }
    return m;
}

/* Collects `component`'s batches from dir; *n gets the count (-1 on failure, err says why). */
static av__tensor *collect(const char *pkg, const char *dir, const char *component,
                           const av_model *m, int max_batches, int *n, int *files, av_status *st)
{
    av__calib_audio_request r = {.audio_dir = dir, .package_dir = pkg, .component = component,
                                 .g = m->g, .max_batches = max_batches, .threads = 2};
    av__tensor *t = NULL;
    *st = av__calib_audio_collect(&r, &t, n, files, err, sizeof err);
    return t;
}

static void free_batches(av__tensor *t, int n, int n_in)
{
    for (int i = 0; t && i < n * n_in; i++)
        av__aligned_free(t[i].data);
    av__free(t);
}

static void test_audio(const char *pkg)
{
    char audio[512], empty[512], broken[512], path[600];
    snprintf(audio, sizeof audio, "%s/audio", AUDIO_DIR);
    snprintf(empty, sizeof empty, "%s/empty", AUDIO_DIR);
    snprintf(broken, sizeof broken, "%s/broken", AUDIO_DIR);
    mkdir(AUDIO_DIR, 0755);
    mkdir(audio, 0755);
    mkdir(empty, 0755);
    mkdir(broken, 0755);
    /* 1 s at 22050 Hz (WAV) and 0.7 s at 44100 Hz (FLAC); names that must be skipped */
    snprintf(path, sizeof path, "%s/b.flac", audio);
    write_tone(path, 44100, 0.7, 330, 250, AV_AUDIO_FORMAT_FLAC_16);
    snprintf(path, sizeof path, "%s/a.WAV", audio);
    write_tone(path, 22050, 1.0, 200, 400, AV_AUDIO_FORMAT_WAV_PCM16);
    snprintf(path, sizeof path, "%s/notes.txt", audio);
    write_text(path, "not audio\n");
    snprintf(path, sizeof path, "%s/.hidden.wav", audio);
    write_text(path, "not audio either\n");
    snprintf(path, sizeof path, "%s/readme.md", empty);
    write_text(path, "no audio here\n");
    snprintf(path, sizeof path, "%s/x.wav", broken);
    write_text(path, "RIFF but not really\n");

    char **paths = NULL;
    size_t n_paths = 0;
    CHECK_INT(av__calib_audio_list(audio, &paths, &n_paths, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(n_paths, 2);
    if (n_paths == 2) { /* sorted by name (strcmp: upper case first) */
        CHECK(strstr(paths[0], "/audio/a.WAV") != NULL);
        CHECK(strstr(paths[1], "/audio/b.flac") != NULL);
    }
    av__calib_audio_list_free(paths, n_paths);

    /* every component: one batch per file (each is one chunk), the converter's shapes */
    static const char *const components[] = {"content_encoder", "pitch_encoder", "flow_decoder",
                                             "mel_projection", "vocoder"};
    /* decoder frames: ceil(1.0 * 22050 / 256) = 87, ceil(0.7 * 22050 / 256) = 61 */
    const int64_t frames[2] = {87, 61};
    for (int c = 0; c < 5; c++) {
        av_model *m = load_component(pkg, components[c]);
        if (!m)
            continue;
        int n = -1, files = 0;
        av_status st;
        av__tensor *t = collect(pkg, audio, components[c], m, 32, &n, &files, &st);
        if (st != AV_STATUS_OK)
            fprintf(stderr, "%s: %s\n", components[c], err);
        CHECK_INT(st, AV_STATUS_OK);
        CHECK_INT(n, 2);
        CHECK_INT(files, 2);
        const av__graph *g = m->g;
        for (int b = 0; st == AV_STATUS_OK && b < n; b++)
            for (int i = 0; i < g->n_inputs; i++) {
                const av__tensor *x = &t[b * g->n_inputs + i];
                CHECK_INT(x->dtype, g->values[g->inputs[i]].dtype);
                CHECK(x->data != NULL);
                int64_t last = x->shape[x->ndim - 1];
                if (c == 0) /* 16 kHz samples: 16000 and 11200 */
                    CHECK_INT(last, b ? 11200 : 16000);
                else if (c >= 2) /* the decoder-side components run over all frames */
                    CHECK_INT(last, frames[b]);
                else /* the F0 frames (100 / s) the decoder frames interpolate from: all 101
                      * of 1 s; 70 of the 71 of 0.7 s (the last decoder frame maps before it) */
                    CHECK_INT(last, b ? 70 : 101);
            }
        if (c == 2 && st == AV_STATUS_OK) { /* the flow decoder's three inputs, in graph order */
            for (int i = 0; i < g->n_inputs; i++) {
                const char *name = g->values[g->inputs[i]].name;
                const float *x = t[i].data;
                if (!strcmp(name, "mask"))
                    CHECK(x[0] == 1.0f && x[frames[0] - 1] == 1.0f);
                CHECK_INT(t[i].shape[1], !strcmp(name, "mask") ? 1 : !strcmp(name, "conditioning") ? 704 : 192);
            }
        }
        free_batches(t, n, g->n_inputs);
        /* the batch limit: the first file only */
        t = collect(pkg, audio, components[c], m, 1, &n, &files, &st);
        CHECK_INT(st, AV_STATUS_OK);
        CHECK_INT(n, 1);
        CHECK_INT(files, 1);
        free_batches(t, n, g->n_inputs);
        av_model_free(m);
    }

    /* refusals */
    av_model *m = load_component(pkg, "vocoder");
    if (!m)
        return;
    int n, files;
    av_status st;
    collect(pkg, empty, "vocoder", m, 32, &n, &files, &st);
    CHECK_INT(st, AV_STATUS_INVALID_ARGUMENT);
    CHECK(strncmp(err, empty, strlen(empty)) == 0 && strstr(err, ": no audio files") != NULL);
    printf("no audio: %s\n", err);
    collect(pkg, AUDIO_DIR "/missing", "vocoder", m, 32, &n, &files, &st);
    CHECK_INT(st, AV_STATUS_IO);
    CHECK(strstr(err, AUDIO_DIR "/missing: cannot read the calibration directory") != NULL);
    collect(pkg, broken, "vocoder", m, 32, &n, &files, &st);
    CHECK(st != AV_STATUS_OK && strstr(err, "/broken/x.wav") != NULL);
    printf("broken audio: %s\n", err);
    collect(AUDIO_DIR, audio, "vocoder", m, 32, &n, &files, &st);
    CHECK(st != AV_STATUS_OK && strstr(err, "needs the model package " AUDIO_DIR) != NULL);
    printf("no package: %s\n", err);
    av_model *flow = load_component(pkg, "flow_decoder");
    if (flow) { /* a model whose inputs the component's run does not give */
        collect(pkg, audio, "vocoder", flow, 32, &n, &files, &st);
        CHECK_INT(st, AV_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(err, "has input 'latent_input', the converter gives mel_input") != NULL);
        printf("other inputs: %s\n", err);
        av_model_free(flow);
    }
    av_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_audio(argv[1]);
        return check_report("test_calibrate (audio)");
    }
    test_names();
    test_uniform();
    test_gaussian_outliers();
    test_divergence_by_hand();
    test_minmax();
    test_percentile();
    test_degenerate();
    test_nonfinite();
    test_two_pass_contract();
    test_cache_known_bits();
    test_cache_round_trip();
    test_cache_refusals();
    test_cache_write_refusals();
    test_corpus();
    test_timing_cache();
    return check_report("test_calibrate");
}
