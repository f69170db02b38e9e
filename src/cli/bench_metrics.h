/* Accuracy metrics and latency percentiles of `autovoice bench` (src/cli/bench_metrics.c).
 * Plain C, no library state: tests/c/test_bench_metrics.c checks them on inputs with known
 * answers, and bench/benchlib.py computes the same definitions for the peers. */
#ifndef AV_CLI_BENCH_METRICS_H
#define AV_CLI_BENCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* How far `x` is from the reference `ref`, element by element (both n floats). Sums are in
 * double. Positions where either value is NaN or infinite are counted in `nonfinite` and left
 * out of every other figure.
 *   max_abs, mean_abs  max and mean of |x - ref|
 *   rmse               sqrt(mean((x - ref)^2))
 *   pearson            Pearson correlation of x and ref; 1 when both are the same constant,
 *                      NaN when only one of them is constant (undefined)
 *   snr_db             10 log10(sum ref^2 / sum (x - ref)^2): +inf when x == ref everywhere,
 *                      -inf when ref is all zeros and x is not, NaN when nothing is finite */
typedef struct av_cli_accuracy {
    int64_t n;          /* positions compared (finite in both) */
    int64_t nonfinite;  /* positions left out */
    double max_abs;
    double mean_abs;
    double rmse;
    double pearson;
    double snr_db;
} av_cli_accuracy;

void av_cli_accuracy_compute(const float *ref, const float *x, int64_t n, av_cli_accuracy *acc);

/* The p-th percentile (0 <= p <= 100) of n >= 1 values sorted in increasing order, by linear
 * interpolation between the closest ranks (numpy.percentile's default): rank p/100 * (n - 1). */
double av_cli_percentile(const double *sorted, size_t n, double p);

#endif
