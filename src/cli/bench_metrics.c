/* Accuracy metrics and percentiles of `autovoice bench`; contracts in bench_metrics.h. */
#include "bench_metrics.h"

#include <math.h>

void av_cli_accuracy_compute(const float *ref, const float *x, int64_t n, av_cli_accuracy *acc)
{
    av_cli_accuracy a = {0};
    double sum_abs = 0, sum_sq = 0, sum_ref = 0, sum_x = 0, energy = 0;
    for (int64_t i = 0; i < n; i++) {
        double r = ref[i], v = x[i];
        if (!isfinite(r) || !isfinite(v)) {
            a.nonfinite++;
            continue;
        }
        double d = fabs(v - r);
        a.max_abs = d > a.max_abs ? d : a.max_abs;
        sum_abs += d;
        sum_sq += d * d;
        sum_ref += r;
        sum_x += v;
        energy += r * r;
        a.n++;
    }
    if (a.n == 0) {
        a.mean_abs = a.rmse = a.pearson = a.snr_db = NAN;
        *acc = a;
        return;
    }
    a.mean_abs = sum_abs / (double)a.n;
    a.rmse = sqrt(sum_sq / (double)a.n);

    /* second pass about the means: the one-pass formula cancels badly for signals with a large
     * offset (a mel in log units sits around -4) */
    double mr = sum_ref / (double)a.n, mx = sum_x / (double)a.n, cov = 0, vr = 0, vx = 0;
    for (int64_t i = 0; i < n; i++) {
        double r = ref[i], v = x[i];
        if (!isfinite(r) || !isfinite(v))
            continue;
        cov += (r - mr) * (v - mx);
        vr += (r - mr) * (r - mr);
        vx += (v - mx) * (v - mx);
    }
    if (vr > 0 && vx > 0) {
        a.pearson = cov / sqrt(vr * vx);
        a.pearson = a.pearson > 1 ? 1 : a.pearson < -1 ? -1 : a.pearson;
    } else {
        a.pearson = (vr == 0 && vx == 0 && sum_sq == 0) ? 1.0 : NAN;
    }

    if (sum_sq == 0)
        a.snr_db = INFINITY;
    else if (energy == 0)
        a.snr_db = -INFINITY;
    else
        a.snr_db = 10.0 * log10(energy / sum_sq);
    *acc = a;
}

double av_cli_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(rank);
    if (lo >= n - 1)
        return sorted[n - 1];
    double frac = rank - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}
