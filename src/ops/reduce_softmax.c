/* Softmax, LogSoftmax, Hardmax and CumSum: ops that map each line along one axis to a line.
 *
 * Softmax-like ops before opset 13 coerce the input to 2-D at `axis` (default 1) and work on
 * rows of prod(shape[axis:]) elements; from opset 13 they work along `axis` (default -1) alone.
 * Both are the (outer, n, inner) view of reduce_internal.h, the older with inner = 1.
 *
 * float32 has direct loops (rows when inner == 1, tiles of adjacent columns otherwise) with
 * expf and double sums; the other types go through double chunks. */
#include <math.h>
#include <string.h>

#include "ops/reduce_internal.h"

#define SM_TILE 64

typedef enum sm_kind { SM_SOFTMAX, SM_LOGSOFTMAX, SM_HARDMAX } sm_kind;

/* The line view of a softmax-like node at ctx->opset, after checking its axis. */
static av_status sm_view(const av__op_ctx *ctx, av__rd_axis *v)
{
    const av__tensor *x = ctx->in[0];
    av_status st = av__rd_attr_type(ctx, "axis", AV__ATTR_INT);
    if (st != AV_STATUS_OK)
        return st;
    int old = ctx->opset < 13;
    int axis;
    st = av__rd_axis_attr(ctx, av__attr_int(ctx->node, "axis", old ? 1 : -1), x->ndim, &axis);
    if (st != AV_STATUS_OK)
        return st;
    *v = av__rd_axis_view(x, axis);
    if (old) {
        v->n *= v->inner;
        v->inner = 1;
    }
    return AV_STATUS_OK;
}

av_status av__softmax_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!av__rd_is_float(x->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s takes float input, not %s",
                           ctx->node->op_type, av__dtype_name(x->dtype));
    av__rd_axis v;
    if ((st = sm_view(ctx, &v)) != AV_STATUS_OK)
        return st;
    if (ctx->n_out != 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects 1 output");
    ctx->out[0]->dtype = x->dtype;
    av__tensor_set_shape(ctx->out[0], x->ndim, x->shape);
    return AV_STATUS_OK;
}

typedef struct sm_job {
    const av__tensor *x;
    av__tensor *y;
    av__rd_axis v;
    sm_kind kind;
    int64_t tiles; /* float32 with inner > 1: column tiles per outer index */
} sm_job;

/* Index of the first maximum; NaN counts as the maximum (numpy's argmax). */
static int64_t argmax_f32(const float *x, int64_t n)
{
    int64_t b = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            return i;
        if (x[i] > x[b])
            b = i;
    }
    return b;
}

/* float32, inner == 1: contiguous rows. */
static void sm_rows_f32(void *arg, int64_t begin, int64_t end)
{
    const sm_job *j = arg;
    int64_t n = j->v.n;
    for (int64_t r = begin; r < end; r++) {
        const float *x = (const float *)j->x->data + r * n;
        float *y = (float *)j->y->data + r * n;
        if (j->kind == SM_HARDMAX) {
            memset(y, 0, (size_t)n * sizeof *y);
            if (n)
                y[argmax_f32(x, n)] = 1.0f;
            continue;
        }
        float mx = -INFINITY;
        for (int64_t i = 0; i < n; i++)
            mx = x[i] > mx ? x[i] : mx;
        double sum = 0;
        if (j->kind == SM_SOFTMAX) {
            for (int64_t i = 0; i < n; i++) {
                y[i] = expf(x[i] - mx);
                sum += y[i];
            }
            double inv = 1.0 / sum;
            for (int64_t i = 0; i < n; i++)
                y[i] = (float)(y[i] * inv);
        } else {
            for (int64_t i = 0; i < n; i++)
                sum += expf(x[i] - mx);
            double lse = (double)mx + log(sum);
            for (int64_t i = 0; i < n; i++)
                y[i] = (float)((double)x[i] - lse);
        }
    }
}

/* float32, inner > 1: SM_TILE adjacent columns of one outer index at a time. */
static void sm_tiles_f32(void *arg, int64_t begin, int64_t end)
{
    const sm_job *j = arg;
    int64_t n = j->v.n, inner = j->v.inner;
    for (int64_t u = begin; u < end; u++) {
        int64_t o = u / j->tiles, c0 = (u % j->tiles) * SM_TILE;
        int w = (int)(inner - c0 < SM_TILE ? inner - c0 : SM_TILE);
        const float *x = (const float *)j->x->data + o * n * inner + c0;
        float *y = (float *)j->y->data + o * n * inner + c0;
        float mx[SM_TILE];
        double sum[SM_TILE];
        int64_t bi[SM_TILE];
        for (int l = 0; l < w; l++) {
            mx[l] = -INFINITY;
            sum[l] = 0;
            bi[l] = -1;
        }
        if (j->kind == SM_HARDMAX) {
            for (int64_t k = 0; k < n; k++)
                for (int l = 0; l < w; l++) {
                    float xv = x[k * inner + l];
                    int nan_best = bi[l] >= 0 && isnan(mx[l]);
                    if (!nan_best && (bi[l] < 0 || isnan(xv) || xv > mx[l])) {
                        mx[l] = xv;
                        bi[l] = k;
                    }
                }
            for (int64_t k = 0; k < n; k++)
                for (int l = 0; l < w; l++)
                    y[k * inner + l] = k == bi[l] ? 1.0f : 0.0f;
            continue;
        }
        for (int64_t k = 0; k < n; k++)
            for (int l = 0; l < w; l++)
                mx[l] = x[k * inner + l] > mx[l] ? x[k * inner + l] : mx[l];
        if (j->kind == SM_SOFTMAX) {
            for (int64_t k = 0; k < n; k++)
                for (int l = 0; l < w; l++) {
                    float e = expf(x[k * inner + l] - mx[l]);
                    y[k * inner + l] = e;
                    sum[l] += e;
                }
            for (int l = 0; l < w; l++)
                sum[l] = 1.0 / sum[l];
            for (int64_t k = 0; k < n; k++)
                for (int l = 0; l < w; l++)
                    y[k * inner + l] = (float)(y[k * inner + l] * sum[l]);
        } else {
            for (int64_t k = 0; k < n; k++)
                for (int l = 0; l < w; l++)
                    sum[l] += expf(x[k * inner + l] - mx[l]);
            for (int l = 0; l < w; l++)
                sum[l] = (double)mx[l] + log(sum[l]);
            for (int64_t k = 0; k < n; k++)
                for (int l = 0; l < w; l++)
                    y[k * inner + l] = (float)((double)x[k * inner + l] - sum[l]);
        }
    }
}

/* Any float type: one line (o, i) at a time through double chunks. */
static void sm_lines_generic(void *arg, int64_t begin, int64_t end)
{
    const sm_job *j = arg;
    int64_t n = j->v.n, inner = j->v.inner;
    double buf[AV__RD_CHUNK];
    for (int64_t line = begin; line < end; line++) {
        int64_t off = (line / inner) * n * inner + line % inner;
        double mx = -INFINITY;
        int64_t bi = 0;
        int nan_seen = 0;
        for (int64_t k0 = 0; k0 < n; k0 += AV__RD_CHUNK) {
            int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
            av__rd_load_f64(j->x, off + k0 * inner, inner, m, buf);
            for (int64_t k = 0; k < m && !nan_seen; k++) {
                if (isnan(buf[k])) {
                    nan_seen = 1;
                    mx = buf[k];
                    bi = k0 + k;
                } else if (buf[k] > mx || k0 + k == 0) {
                    mx = buf[k];
                    bi = k0 + k;
                }
            }
        }
        double sum = 0;
        if (j->kind != SM_HARDMAX)
            for (int64_t k0 = 0; k0 < n; k0 += AV__RD_CHUNK) {
                int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
                av__rd_load_f64(j->x, off + k0 * inner, inner, m, buf);
                for (int64_t k = 0; k < m; k++)
                    sum += exp(buf[k] - mx);
            }
        double lse = mx + log(sum);
        for (int64_t k0 = 0; k0 < n; k0 += AV__RD_CHUNK) {
            int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
            av__rd_load_f64(j->x, off + k0 * inner, inner, m, buf);
            for (int64_t k = 0; k < m; k++) {
                switch (j->kind) {
                case SM_SOFTMAX: buf[k] = exp(buf[k] - mx) / sum; break;
                case SM_LOGSOFTMAX: buf[k] = buf[k] - lse; break;
                case SM_HARDMAX: buf[k] = k0 + k == bi ? 1.0 : 0.0; break;
                }
            }
            av__rd_store_f64(j->y, off + k0 * inner, inner, m, buf);
        }
    }
}

static av_status sm_run(const av__op_ctx *ctx, sm_kind kind)
{
    sm_job j = {ctx->in[0], ctx->out[0], {0, 0, 0}, kind, 0};
    av_status st = sm_view(ctx, &j.v);
    if (st != AV_STATUS_OK)
        return st;
    if (j.v.outer * j.v.n * j.v.inner == 0)
        return AV_STATUS_OK;
    if (j.x->dtype == AV__DT_F32 && j.v.inner == 1) {
        av__parallel_for(ctx->pool, j.v.outer, av__rd_grain(j.v.n), sm_rows_f32, &j);
    } else if (j.x->dtype == AV__DT_F32) {
        j.tiles = (j.v.inner + SM_TILE - 1) / SM_TILE;
        int64_t lanes = j.v.inner < SM_TILE ? j.v.inner : SM_TILE;
        av__parallel_for(ctx->pool, j.v.outer * j.tiles, av__rd_grain(j.v.n * lanes),
                         sm_tiles_f32, &j);
    } else {
        av__parallel_for(ctx->pool, j.v.outer * j.v.inner, av__rd_grain(j.v.n),
                         sm_lines_generic, &j);
    }
    return AV_STATUS_OK;
}

av_status av__softmax_run(const av__op_ctx *ctx) { return sm_run(ctx, SM_SOFTMAX); }
av_status av__logsoftmax_run(const av__op_ctx *ctx) { return sm_run(ctx, SM_LOGSOFTMAX); }
av_status av__hardmax_run(const av__op_ctx *ctx) { return sm_run(ctx, SM_HARDMAX); }

/* ---- CumSum ---------------------------------------------------------------------------------- */

/* Reads and checks the axis input (a 0-d or 1-element int32/int64 tensor). */
static av_status cumsum_axis(const av__op_ctx *ctx, int *axis)
{
    const av__tensor *a = ctx->in[1];
    int rank = ctx->in[0]->ndim;
    if (a->dtype != AV__DT_I32 && a->dtype != AV__DT_I64)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axis input must be int32 or int64, not %s",
                           av__dtype_name(a->dtype));
    if (a->ndim > 1 || av__tensor_count(a) != 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "axis input must hold one value (rank %d, %lld elements)", a->ndim,
                           (long long)av__tensor_count(a));
    if (!a->data) {
        *axis = -1;
        return AV_STATUS_OK;
    }
    return av__rd_axis_attr(ctx, av__tensor_get_i64(a, 0), rank, axis);
}

av_status av__cumsum_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 2, 2);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!av__rd_is_float(x->dtype) && !av__rd_is_int(x->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "CumSum does not take %s input",
                           av__dtype_name(x->dtype));
    if (x->ndim == 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "CumSum needs an input of rank >= 1");
    if ((st = av__rd_attr_type(ctx, "exclusive", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "reverse", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    int axis;
    if ((st = cumsum_axis(ctx, &axis)) != AV_STATUS_OK) /* range checked when known */
        return st;
    if (ctx->n_out != 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects 1 output");
    ctx->out[0]->dtype = x->dtype;
    av__tensor_set_shape(ctx->out[0], x->ndim, x->shape);
    return AV_STATUS_OK;
}

typedef struct cs_job {
    const av__tensor *x;
    av__tensor *y;
    av__rd_axis v;
    int exclusive, reverse;
    int64_t tiles;
} cs_job;

/* float32: tiles of adjacent columns (one column when inner == 1), double running sums. */
static void cs_f32(void *arg, int64_t begin, int64_t end)
{
    const cs_job *j = arg;
    int64_t n = j->v.n, inner = j->v.inner;
    for (int64_t u = begin; u < end; u++) {
        int64_t o = u / j->tiles, c0 = (u % j->tiles) * SM_TILE;
        int w = (int)(inner - c0 < SM_TILE ? inner - c0 : SM_TILE);
        const float *x = (const float *)j->x->data + o * n * inner + c0;
        float *y = (float *)j->y->data + o * n * inner + c0;
        double acc[SM_TILE] = {0};
        for (int64_t s = 0; s < n; s++) {
            int64_t k = j->reverse ? n - 1 - s : s;
            const float *xr = x + k * inner;
            float *yr = y + k * inner;
            if (j->exclusive) {
                for (int l = 0; l < w; l++) {
                    yr[l] = (float)acc[l];
                    acc[l] += xr[l];
                }
            } else {
                for (int l = 0; l < w; l++) {
                    acc[l] += xr[l];
                    yr[l] = (float)acc[l];
                }
            }
        }
    }
}

/* Other types: one line at a time through chunks (double for floats, wrapping int64 for
 * integers), chunks visited from the end when reverse. */
static void cs_generic(void *arg, int64_t begin, int64_t end)
{
    const cs_job *j = arg;
    int64_t n = j->v.n, inner = j->v.inner;
    int is_int = av__rd_is_int(j->x->dtype);
    double fb[AV__RD_CHUNK];
    int64_t ib[AV__RD_CHUNK];
    int64_t nchunks = (n + AV__RD_CHUNK - 1) / AV__RD_CHUNK;
    for (int64_t line = begin; line < end; line++) {
        int64_t off = (line / inner) * n * inner + line % inner;
        double facc = 0;
        uint64_t iacc = 0;
        for (int64_t c = 0; c < nchunks; c++) {
            int64_t k0 = (j->reverse ? nchunks - 1 - c : c) * AV__RD_CHUNK;
            int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
            if (is_int)
                av__rd_load_i64(j->x, off + k0 * inner, inner, m, ib);
            else
                av__rd_load_f64(j->x, off + k0 * inner, inner, m, fb);
            for (int64_t s = 0; s < m; s++) {
                int64_t k = j->reverse ? m - 1 - s : s;
                if (is_int) {
                    uint64_t v = (uint64_t)ib[k];
                    if (j->exclusive) {
                        ib[k] = (int64_t)iacc;
                        iacc += v;
                    } else {
                        iacc += v;
                        ib[k] = (int64_t)iacc;
                    }
                } else {
                    double v = fb[k];
                    if (j->exclusive) {
                        fb[k] = facc;
                        facc += v;
                    } else {
                        facc += v;
                        fb[k] = facc;
                    }
                }
            }
            if (is_int)
                av__rd_store_i64(j->y, off + k0 * inner, inner, m, ib);
            else
                av__rd_store_f64(j->y, off + k0 * inner, inner, m, fb);
        }
    }
}

av_status av__cumsum_run(const av__op_ctx *ctx)
{
    int axis;
    av_status st = cumsum_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    if (axis < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "CumSum axis input has no data");
    cs_job j = {ctx->in[0], ctx->out[0], av__rd_axis_view(ctx->in[0], axis),
                av__attr_int(ctx->node, "exclusive", 0) != 0,
                av__attr_int(ctx->node, "reverse", 0) != 0, 0};
    if (j.v.outer * j.v.n * j.v.inner == 0)
        return AV_STATUS_OK;
    if (j.x->dtype == AV__DT_F32) {
        j.tiles = (j.v.inner + SM_TILE - 1) / SM_TILE;
        int64_t lanes = j.v.inner < SM_TILE ? j.v.inner : SM_TILE;
        av__parallel_for(ctx->pool, j.v.outer * j.tiles, av__rd_grain(j.v.n * lanes), cs_f32, &j);
    } else {
        av__parallel_for(ctx->pool, j.v.outer * j.v.inner, av__rd_grain(j.v.n), cs_generic, &j);
    }
    return AV_STATUS_OK;
}
