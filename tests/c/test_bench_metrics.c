/* src/cli/bench_metrics.c: the accuracy metrics and percentiles of `autovoice bench` on inputs
 * whose answers are known in closed form: identical signals, a known added noise, a constant
 * offset, a sign flip, silence, non-finite values, lengths 1 and primes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "cli/bench_metrics.h"

#define PI 3.14159265358979323846

static uint64_t rng_state;

/* splitmix64, then Box-Muller: a standard normal that does not depend on the C library */
static double uniform01(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    double u = uniform01(), v = uniform01();
    return sqrt(-2.0 * log(u)) * cos(2.0 * PI * v);
}

static float *sine(int64_t n, double amp)
{
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2.0 * PI * 441.0 * (double)i / 22050.0 + 0.3));
    return x;
}

static void test_identical(void)
{
    static const int64_t lengths[] = {1, 2, 7, 97, 4801};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        int64_t n = lengths[k];
        float *x = sine(n, 0.8);
        if (n == 1)
            x[0] = 0.25f;
        av_cli_accuracy a;
        av_cli_accuracy_compute(x, x, n, &a);
        CHECK_INT(a.n, n);
        CHECK_INT(a.nonfinite, 0);
        CHECK(a.max_abs == 0 && a.mean_abs == 0 && a.rmse == 0);
        CHECK(isinf(a.snr_db) && a.snr_db > 0);
        CHECK(a.pearson == 1.0); /* also for n = 1: both are the same constant */
        if (!(isinf(a.snr_db) && a.pearson == 1.0))
            fprintf(stderr, "  n = %lld: snr %g, pearson %g\n", (long long)n, a.snr_db, a.pearson);
        free(x);
    }
}

/* A sine of amplitude A (power A^2 / 2) plus white noise of standard deviation s: SNR
 * 10 log10(A^2 / (2 s^2)), correlation 1 / sqrt(1 + 1 / snr). */
static void test_known_noise(void)
{
    static const double snrs[] = {0.0, 10.0, 20.0, 40.0, 60.0};
    static const uint64_t seeds[] = {1, 20261124};
    const int64_t n = 48001; /* prime-ish, odd */
    const double amp = 0.5;
    for (size_t si = 0; si < sizeof seeds / sizeof seeds[0]; si++) {
        for (size_t k = 0; k < sizeof snrs / sizeof snrs[0]; k++) {
            rng_state = seeds[si];
            double s = sqrt(amp * amp / 2.0 / pow(10.0, snrs[k] / 10.0));
            float *ref = sine(n, amp), *x = malloc((size_t)n * sizeof *x);
            for (int64_t i = 0; i < n; i++)
                x[i] = (float)(ref[i] + s * normal());
            av_cli_accuracy a;
            av_cli_accuracy_compute(ref, x, n, &a);
            double lin = pow(10.0, snrs[k] / 10.0);
            if (fabs(a.snr_db - snrs[k]) > 0.5 || fabs(a.rmse - s) > 0.02 * s)
                fprintf(stderr, "  seed %llu: noise for %g dB gave %g dB, rmse %g (want %g)\n",
                        (unsigned long long)seeds[si], snrs[k], a.snr_db, a.rmse, s);
            CHECK_NEAR(a.snr_db, snrs[k], 0.5);
            CHECK_NEAR(a.rmse, s, 0.02 * s);
            CHECK_NEAR(a.mean_abs, s * sqrt(2.0 / PI), 0.02 * s); /* E|N(0, s^2)| */
            CHECK_NEAR(a.pearson, 1.0 / sqrt(1.0 + 1.0 / lin), 0.01);
            CHECK(a.max_abs > 3 * s && a.max_abs < 6 * s);
            free(ref);
            free(x);
        }
    }
}

/* x = ref + c: every difference is c; correlation stays 1 (an offset does not change shape). */
static void test_offset(void)
{
    const int64_t n = 1009;
    const double amp = 1.0, c = 0.01;
    float *ref = sine(n, amp), *x = malloc((size_t)n * sizeof *x);
    double energy = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = (float)((double)ref[i] + c);
        energy += (double)ref[i] * ref[i];
    }
    av_cli_accuracy a;
    av_cli_accuracy_compute(ref, x, n, &a);
    /* the float rounding of ref + c is at most half an ulp of 1 (6e-8) */
    CHECK_NEAR(a.max_abs, c, 1e-7);
    CHECK_NEAR(a.mean_abs, c, 1e-7);
    CHECK_NEAR(a.rmse, c, 1e-7);
    CHECK_NEAR(a.pearson, 1.0, 1e-9);
    CHECK_NEAR(a.snr_db, 10 * log10(energy / ((double)n * c * c)), 1e-3);
    free(ref);
    free(x);
}

/* x = -ref: correlation -1, the difference is twice the signal: SNR -6.02 dB. x = 2 ref: +1,
 * SNR 0 dB. */
static void test_scale(void)
{
    const int64_t n = 211;
    float *ref = sine(n, 0.3), *neg = malloc((size_t)n * sizeof *neg), *dbl = malloc((size_t)n * sizeof *dbl);
    for (int64_t i = 0; i < n; i++) {
        neg[i] = -ref[i];
        dbl[i] = 2 * ref[i];
    }
    av_cli_accuracy a;
    av_cli_accuracy_compute(ref, neg, n, &a);
    CHECK_NEAR(a.pearson, -1.0, 1e-9);
    CHECK_NEAR(a.snr_db, -20 * log10(2.0), 1e-6);
    av_cli_accuracy_compute(ref, dbl, n, &a);
    CHECK_NEAR(a.pearson, 1.0, 1e-9);
    CHECK_NEAR(a.snr_db, 0.0, 1e-6);
    free(ref);
    free(neg);
    free(dbl);
}

/* Silence as reference: SNR -inf against anything else; a constant against a varying signal has
 * no correlation (NaN); two different constants neither. Hand-computed small case. */
static void test_degenerate(void)
{
    const float zeros[5] = {0}, ones[5] = {1, 1, 1, 1, 1}, ramp[5] = {0, 1, 2, 3, 4};
    const float twos[5] = {2, 2, 2, 2, 2};
    av_cli_accuracy a;
    av_cli_accuracy_compute(zeros, ramp, 5, &a);
    CHECK(isinf(a.snr_db) && a.snr_db < 0);
    CHECK(isnan(a.pearson));
    CHECK_NEAR(a.max_abs, 4, 0);
    CHECK_NEAR(a.mean_abs, 2, 0);
    CHECK_NEAR(a.rmse, sqrt(6.0), 1e-12); /* (0 + 1 + 4 + 9 + 16) / 5 */
    av_cli_accuracy_compute(ones, twos, 5, &a);
    CHECK(isnan(a.pearson));
    CHECK_NEAR(a.snr_db, 0.0, 1e-12);
    av_cli_accuracy_compute(zeros, zeros, 5, &a);
    CHECK(isinf(a.snr_db) && a.snr_db > 0);
    CHECK(a.pearson == 1.0);
}

/* NaN and infinities are counted and left out; with nothing finite every figure is NaN. */
static void test_nonfinite(void)
{
    float ref[6] = {1, 2, 3, 4, 5, 6}, x[6] = {1, 2, 3, 4, 5, 6};
    x[1] = NAN;
    ref[4] = INFINITY;
    av_cli_accuracy a;
    av_cli_accuracy_compute(ref, x, 6, &a);
    CHECK_INT(a.nonfinite, 2);
    CHECK_INT(a.n, 4);
    CHECK(isinf(a.snr_db) && a.snr_db > 0);
    CHECK(a.pearson == 1.0);
    float bad[2] = {NAN, -INFINITY};
    av_cli_accuracy_compute(bad, bad, 2, &a);
    CHECK_INT(a.n, 0);
    CHECK(isnan(a.snr_db) && isnan(a.pearson) && isnan(a.rmse));
    av_cli_accuracy_compute(ref, x, 0, &a);
    CHECK_INT(a.n, 0);
    CHECK(isnan(a.snr_db));
}

/* numpy.percentile(v, p) for v = [1, 2, 3, 4, 10]: 50 -> 3, 90 -> 7.6, 99 -> 9.76, 0 -> 1,
 * 100 -> 10; for [5]: 5 at every p; for [1, 2]: 50 -> 1.5, 99 -> 1.99. */
static void test_percentile(void)
{
    const double v[] = {1, 2, 3, 4, 10}, one[] = {5}, two[] = {1, 2};
    CHECK_NEAR(av_cli_percentile(v, 5, 50), 3.0, 1e-12);
    CHECK_NEAR(av_cli_percentile(v, 5, 90), 7.6, 1e-12);
    CHECK_NEAR(av_cli_percentile(v, 5, 99), 9.76, 1e-12);
    CHECK_NEAR(av_cli_percentile(v, 5, 0), 1.0, 0);
    CHECK_NEAR(av_cli_percentile(v, 5, 100), 10.0, 0);
    CHECK_NEAR(av_cli_percentile(one, 1, 50), 5.0, 0);
    CHECK_NEAR(av_cli_percentile(one, 1, 99), 5.0, 0);
    CHECK_NEAR(av_cli_percentile(two, 2, 50), 1.5, 1e-12);
    CHECK_NEAR(av_cli_percentile(two, 2, 99), 1.99, 1e-12);
    CHECK(isnan(av_cli_percentile(v, 0, 50)));
}

int main(void)
{
    test_identical();
    test_known_noise();
    test_offset();
    test_scale();
    test_degenerate();
    test_nonfinite();
    test_percentile();
    return check_report("test_bench_metrics");
}
