/* Scalar references of the conv / matrix family: the definitions written out as loops, one output
 * element at a time with a double accumulator. They are what the fast kernels are tested against
 * and what runs float64. Deliberately unoptimised. */
#include "ops/conv_internal.h"

static double load(av__dtype dt, const void *p, int64_t i)
{
    return dt == AV__DT_F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void store(av__dtype dt, void *p, int64_t i, double v)
{
    if (dt == AV__DT_F32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* coords of flat index i in a C-order shape of n dims */
static void unflatten(int64_t i, int n, const int64_t *shape, int64_t *coords)
{
    for (int d = n - 1; d >= 0; d--) {
        coords[d] = i % shape[d];
        i /= shape[d];
    }
}

void av__conv_ref(const av__conv_params *p, const void *x, const void *w, const void *bias,
                  void *y)
{
    const av__dtype dt = p->dtype;
    const int nsp = p->nsp;
    const int64_t cg = p->in_ch / p->group, mg = p->out_ch / p->group;
    int64_t oc[AV__CONV_MAX_SPATIAL], kc[AV__CONV_MAX_SPATIAL];
    for (int64_t n = 0; n < p->batch; n++) {
        for (int64_t m = 0; m < p->out_ch; m++) {
            const int64_t g = m / mg;
            for (int64_t o = 0; o < p->out_size; o++) {
                unflatten(o, nsp, p->out_sp, oc);
                double acc = bias ? load(dt, bias, m) : 0.0;
                for (int64_t c = 0; c < cg; c++) {
                    for (int64_t k = 0; k < p->kernel_size; k++) {
                        unflatten(k, nsp, p->kernel, kc);
                        int64_t in_idx = 0;
                        int inside = 1;
                        for (int d = 0; d < nsp && inside; d++) {
                            int64_t ic = oc[d] * p->stride[d] + kc[d] * p->dilation[d] -
                                         p->pad_begin[d];
                            inside = ic >= 0 && ic < p->in_sp[d];
                            in_idx = in_idx * p->in_sp[d] + ic;
                        }
                        if (!inside)
                            continue;
                        acc += load(dt, x, (n * p->in_ch + g * cg + c) * p->in_size + in_idx) *
                               load(dt, w, (m * cg + c) * p->kernel_size + k);
                    }
                }
                store(dt, y, (n * p->out_ch + m) * p->out_size + o, acc);
            }
        }
    }
}

/* Written as a gather (each output sums the inputs that reach it: out = in * stride +
 * k * dilation - pad_begin) so that every output has its own double accumulator. */
void av__conv_transpose_ref(const av__conv_params *p, const void *x, const void *w,
                            const void *bias, void *y)
{
    const av__dtype dt = p->dtype;
    const int nsp = p->nsp;
    const int64_t cg = p->in_ch / p->group, mg = p->out_ch / p->group;
    int64_t oc[AV__CONV_MAX_SPATIAL], kc[AV__CONV_MAX_SPATIAL];
    for (int64_t n = 0; n < p->batch; n++) {
        for (int64_t m = 0; m < p->out_ch; m++) {
            const int64_t g = m / mg, mo = m % mg;
            for (int64_t o = 0; o < p->out_size; o++) {
                unflatten(o, nsp, p->out_sp, oc);
                double acc = bias ? load(dt, bias, m) : 0.0;
                for (int64_t c = 0; c < cg; c++) {
                    const int64_t ci = g * cg + c;
                    for (int64_t k = 0; k < p->kernel_size; k++) {
                        unflatten(k, nsp, p->kernel, kc);
                        int64_t in_idx = 0;
                        int inside = 1;
                        for (int d = 0; d < nsp && inside; d++) {
                            int64_t t = oc[d] + p->pad_begin[d] - kc[d] * p->dilation[d];
                            inside = t >= 0 && t % p->stride[d] == 0 &&
                                     t / p->stride[d] < p->in_sp[d];
                            in_idx = in_idx * p->in_sp[d] + t / p->stride[d];
                        }
                        if (!inside)
                            continue;
                        acc += load(dt, x, (n * p->in_ch + ci) * p->in_size + in_idx) *
                               load(dt, w, (ci * mg + mo) * p->kernel_size + k);
                    }
                }
                store(dt, y, (n * p->out_ch + m) * p->out_size + o, acc);
            }
        }
    }
}

void av__gemm_ref(av__dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                  double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                  double beta, const void *cin, int64_t cin_rs, int64_t cin_cs, void *c,
                  int64_t ldc)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t l = 0; l < k; l++)
                acc += load(dt, a, trans_a ? l * lda + i : i * lda + l) *
                       load(dt, b, trans_b ? j * ldb + l : l * ldb + j);
            double v = alpha * acc;
            if (cin)
                v += beta * load(dt, cin, i * cin_rs + j * cin_cs);
            store(dt, c, i * ldc + j, v);
        }
    }
}
