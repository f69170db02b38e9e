/* MatMul (numpy matmul: batched, broadcasting, 1-D operands promoted and their axis removed) and
 * Gemm (Y = alpha * op(A) op(B) + beta * C, C unidirectionally broadcast to [M, N]).
 * float32 runs on OpenBLAS (conv_blas.c), float64 on the scalar reference. */
#include <stdio.h>
#include <string.h>

#include "ops/conv_internal.h"

static av_status check_float(const av__op_ctx *ctx, const av__tensor *t)
{
    if (t->dtype != AV__DT_F32 && t->dtype != AV__DT_F64)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "element type %s is not supported (float32, float64)",
                           av__dtype_name(t->dtype));
    return AV_STATUS_OK;
}

static void format_shape(char *buf, size_t size, const av__tensor *t)
{
    size_t len = 0;
    buf[0] = 0;
    len += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? ", %lld" : "%lld",
                                (long long)t->shape[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

/* ---- MatMul ------------------------------------------------------------------------------- */

/* A [batch_a..., M, K] x B [batch_b..., K, N]; a 1-D A is [1, K] (M axis dropped from Y), a 1-D
 * B is [K, 1] (N axis dropped). */
typedef struct matmul_shape {
    int64_t m, k, n;
    int nb;                              /* broadcast batch rank */
    int64_t batch[AV__MAX_DIMS];         /* broadcast batch shape */
    int64_t a_stride[AV__MAX_DIMS];      /* element stride of A / B per batch axis; 0: broadcast */
    int64_t b_stride[AV__MAX_DIMS];
    int64_t nbatch;                      /* product of batch */
    int out_ndim;
    int64_t out_shape[AV__MAX_DIMS];
} matmul_shape;

/* Strides of the batch axes of t (its leading ndim - tail axes), right-aligned into nb axes. */
static void batch_strides(const av__tensor *t, int tail, int nb, int64_t mat, int64_t *stride)
{
    int tb = t->ndim > tail ? t->ndim - tail : 0;
    int64_t s = mat;
    for (int i = nb - 1; i >= 0; i--) {
        int ti = i - (nb - tb);
        if (ti < 0 || t->shape[ti] == 1) {
            stride[i] = 0;
        } else {
            stride[i] = s;
        }
        if (ti >= 0)
            s *= t->shape[ti];
    }
}

static av_status matmul_shape_get(const av__op_ctx *ctx, matmul_shape *s)
{
    memset(s, 0, sizeof *s);
    av_status st = av__op_check_inputs(ctx, 2, 2);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "has no output");
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    if ((st = check_float(ctx, a)) != AV_STATUS_OK)
        return st;
    if (b->dtype != a->dtype)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input types differ: A %s, B %s",
                           av__dtype_name(a->dtype), av__dtype_name(b->dtype));
    if (a->ndim < 1 || b->ndim < 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "inputs must have rank >= 1 (A %d, B %d)",
                           a->ndim, b->ndim);
    s->m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
    s->k = a->shape[a->ndim - 1];
    int64_t kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
    s->n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    char sa[128], sb[128];
    format_shape(sa, sizeof sa, a);
    format_shape(sb, sizeof sb, b);
    if (kb != s->k)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "inner dimensions differ: A %s has K = %lld, B %s has K = %lld", sa,
                           (long long)s->k, sb, (long long)kb);
    int na = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
    if (av__broadcast_shapes(na, a->shape, nbb, b->shape, &s->nb, s->batch) != AV_STATUS_OK)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "batch dimensions of A %s and B %s do not "
                           "broadcast", sa, sb);
    batch_strides(a, 2, s->nb, s->m * s->k, s->a_stride);
    batch_strides(b, 2, s->nb, s->k * s->n, s->b_stride);
    s->nbatch = 1;
    for (int i = 0; i < s->nb; i++) {
        s->nbatch *= s->batch[i];
        s->out_shape[i] = s->batch[i];
    }
    s->out_ndim = s->nb;
    if (a->ndim > 1)
        s->out_shape[s->out_ndim++] = s->m;
    if (b->ndim > 1)
        s->out_shape[s->out_ndim++] = s->n;
    return AV_STATUS_OK;
}

av_status av__matmul_infer(const av__op_ctx *ctx)
{
    matmul_shape s;
    av_status st = matmul_shape_get(ctx, &s);
    if (st != AV_STATUS_OK)
        return st;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    av__tensor_set_shape(ctx->out[0], s.out_ndim, s.out_shape);
    return AV_STATUS_OK;
}

/* element offsets of A and B for batch index i */
static void batch_offsets(const matmul_shape *s, int64_t i, int64_t *a_off, int64_t *b_off)
{
    int64_t ao = 0, bo = 0;
    for (int d = s->nb - 1; d >= 0; d--) {
        int64_t c = i % s->batch[d];
        i /= s->batch[d];
        ao += c * s->a_stride[d];
        bo += c * s->b_stride[d];
    }
    *a_off = ao;
    *b_off = bo;
}

av_status av__matmul_run_ref(const av__op_ctx *ctx)
{
    matmul_shape s;
    av_status st = matmul_shape_get(ctx, &s);
    if (st != AV_STATUS_OK)
        return st;
    av__dtype dt = ctx->in[0]->dtype;
    size_t es = av__dtype_size(dt);
    const char *a = ctx->in[0]->data, *b = ctx->in[1]->data;
    char *y = ctx->out[0]->data;
    for (int64_t i = 0; i < s.nbatch; i++) {
        int64_t ao, bo;
        batch_offsets(&s, i, &ao, &bo);
        av__gemm_ref(dt, 0, 0, s.m, s.n, s.k, 1.0, a + (size_t)ao * es, s.k, b + (size_t)bo * es,
                     s.n, 0.0, NULL, 0, 0, y + (size_t)(i * s.m * s.n) * es, s.n);
    }
    return AV_STATUS_OK;
}

typedef struct matmul_job {
    const matmul_shape *s;
    const float *a, *b;
    float *y;
} matmul_job;

static void matmul_batches(void *arg, int64_t begin, int64_t end)
{
    const matmul_job *j = arg;
    const matmul_shape *s = j->s;
    for (int64_t i = begin; i < end; i++) {
        int64_t ao, bo;
        batch_offsets(s, i, &ao, &bo);
        av__blas_sgemm(NULL, 0, 0, s->m, s->n, s->k, 1.0f, j->a + ao, s->k, j->b + bo, s->n, 0.0f,
                       j->y + i * s->m * s->n, s->n);
    }
}

av_status av__matmul_run(const av__op_ctx *ctx)
{
    if (ctx->in[0]->dtype != AV__DT_F32)
        return av__matmul_run_ref(ctx);
    matmul_shape s;
    av_status st = matmul_shape_get(ctx, &s);
    if (st != AV_STATUS_OK)
        return st;
    const float *a = ctx->in[0]->data, *b = ctx->in[1]->data;
    float *y = ctx->out[0]->data;
    int threads = av__threadpool_size(ctx->pool);
    int b_shared = 1;
    int64_t ab = 1; /* batches A really has */
    for (int d = 0; d < s.nb; d++) {
        b_shared &= s.b_stride[d] == 0;
        ab *= s.a_stride[d] ? s.batch[d] : 1;
    }
    int a_full = ab == s.nbatch;
    if (s.nbatch == 1 || (b_shared && a_full)) {
        /* one B for every batch and A's batches contiguous: [nbatch * M, K] x [K, N] */
        av__blas_sgemm(ctx->pool, 0, 0, s.nbatch * s.m, s.n, s.k, 1.0f, a, s.k, b, s.n, 0.0f, y,
                       s.n);
    } else if (s.nbatch >= 2 * threads) {
        av__blas_single_thread();
        matmul_job j = {&s, a, b, y};
        av__parallel_for(ctx->pool, s.nbatch, 1, matmul_batches, &j);
    } else {
        for (int64_t i = 0; i < s.nbatch; i++) {
            int64_t ao, bo;
            batch_offsets(&s, i, &ao, &bo);
            av__blas_sgemm(ctx->pool, 0, 0, s.m, s.n, s.k, 1.0f, a + ao, s.k, b + bo, s.n, 0.0f,
                           y + i * s.m * s.n, s.n);
        }
    }
    return AV_STATUS_OK;
}

/* ---- Gemm --------------------------------------------------------------------------------- */

typedef struct gemm_shape {
    int trans_a, trans_b;
    float alpha, beta;
    int64_t m, n, k;
    const av__tensor *c;      /* NULL when absent */
    int64_t c_rs, c_cs;       /* C's row / column strides after broadcasting to [M, N] */
} gemm_shape;

static av_status gemm_shape_get(const av__op_ctx *ctx, gemm_shape *s)
{
    memset(s, 0, sizeof *s);
    av_status st = av__op_check_inputs(ctx, 2, 3);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "has no output");
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    const av__tensor *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if ((st = check_float(ctx, a)) != AV_STATUS_OK)
        return st;
    if (b->dtype != a->dtype || (c && c->dtype != a->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input types differ: A %s, B %s%s%s",
                           av__dtype_name(a->dtype), av__dtype_name(b->dtype), c ? ", C " : "",
                           c ? av__dtype_name(c->dtype) : "");
    if (a->ndim != 2 || b->ndim != 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "A and B must be matrices (ranks %d, %d)",
                           a->ndim, b->ndim);
    s->trans_a = av__attr_int(ctx->node, "transA", 0) != 0;
    s->trans_b = av__attr_int(ctx->node, "transB", 0) != 0;
    s->alpha = av__attr_float(ctx->node, "alpha", 1.0f);
    s->beta = av__attr_float(ctx->node, "beta", 1.0f);
    s->m = a->shape[s->trans_a ? 1 : 0];
    s->k = a->shape[s->trans_a ? 0 : 1];
    int64_t kb = b->shape[s->trans_b ? 1 : 0];
    s->n = b->shape[s->trans_b ? 0 : 1];
    char sa[128], sb[128];
    format_shape(sa, sizeof sa, a);
    format_shape(sb, sizeof sb, b);
    if (kb != s->k)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "inner dimensions differ: A %s (transA %d) has K = %lld, B %s (transB "
                           "%d) has K = %lld",
                           sa, s->trans_a, (long long)s->k, sb, s->trans_b, (long long)kb);
    if (c) {
        char sc[128];
        format_shape(sc, sizeof sc, c);
        int64_t cr = c->ndim == 2 ? c->shape[0] : 1;
        int64_t cc = c->ndim >= 1 ? c->shape[c->ndim - 1] : 1;
        if (c->ndim > 2 || (cr != 1 && cr != s->m) || (cc != 1 && cc != s->n))
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "C %s does not broadcast to the output [%lld, %lld]", sc,
                               (long long)s->m, (long long)s->n);
        s->c = c;
        s->c_cs = cc == 1 ? 0 : 1;
        s->c_rs = cr == 1 ? 0 : cc;
    }
    return AV_STATUS_OK;
}

av_status av__gemm_infer(const av__op_ctx *ctx)
{
    gemm_shape s;
    av_status st = gemm_shape_get(ctx, &s);
    if (st != AV_STATUS_OK)
        return st;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    av__tensor_set_shape(ctx->out[0], 2, (int64_t[]){s.m, s.n});
    return AV_STATUS_OK;
}

av_status av__gemm_run_ref(const av__op_ctx *ctx)
{
    gemm_shape s;
    av_status st = gemm_shape_get(ctx, &s);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    av__gemm_ref(a->dtype, s.trans_a, s.trans_b, s.m, s.n, s.k, s.alpha, a->data, a->shape[1],
                 b->data, b->shape[1], s.beta, s.c ? s.c->data : NULL, s.c_rs, s.c_cs,
                 ctx->out[0]->data, s.n);
    return AV_STATUS_OK;
}

av_status av__gemm_run(const av__op_ctx *ctx)
{
    if (ctx->in[0]->dtype != AV__DT_F32)
        return av__gemm_run_ref(ctx);
    gemm_shape s;
    av_status st = gemm_shape_get(ctx, &s);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    float *y = ctx->out[0]->data;
    if (s.c) {
        const float *c = s.c->data;
        for (int64_t i = 0; i < s.m; i++)
            for (int64_t j = 0; j < s.n; j++)
                y[i * s.n + j] = s.beta * c[i * s.c_rs + j * s.c_cs];
    }
    av__blas_sgemm(ctx->pool, s.trans_a, s.trans_b, s.m, s.n, s.k, s.alpha, a->data,
                   a->shape[1], b->data, b->shape[1], s.c ? 1.0f : 0.0f, y, s.n);
    return AV_STATUS_OK;
}
