/* Indexed reads and writes: Gather, GatherElements, GatherND, ScatterND, ScatterElements (and
 * its opset 9-10 name Scatter), OneHot. Indices may be negative (counted from the end); an index
 * out of range is a data error: run() returns AV_STATUS_FORMAT naming it. */
#include <string.h>

#include "ops/shape_internal.h"

static av_status check_indices_dtype(const av__op_ctx *ctx, int i)
{
    if (!av__shape_is_int(ctx->in[i]->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "indices (input %d) must be int32 or int64, is %s", i,
                           av__dtype_name(ctx->in[i]->dtype));
    return AV_STATUS_OK;
}

/* Index value i of t, made non-negative against dim; -1 (and a message) when out of range. */
static int64_t fetch_index(const av__op_ctx *ctx, const av__tensor *t, int64_t i, int64_t dim,
                           av_status *st)
{
    int64_t v = av__tensor_get_i64(t, i);
    int64_t w = v < 0 ? v + dim : v;
    if (w < 0 || w >= dim) {
        *st = av__op_fail(ctx, AV_STATUS_FORMAT,
                          "index %lld (at position %lld) out of range for a dimension of %lld",
                          (long long)v, (long long)i, (long long)dim);
        return -1;
    }
    return w;
}

static int64_t prod(const int64_t *s, int from, int to)
{
    int64_t p = 1;
    for (int d = from; d < to; d++)
        p *= s[d];
    return p;
}

/* Copy of `bytes` with the common element sizes inlined. */
static inline void copy_bytes(char *dst, const char *src, size_t bytes)
{
    switch (bytes) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, bytes); break;
    }
}

/* ---- Gather ---------------------------------------------------------------------------------- */

static av_status gather_axis(const av__op_ctx *ctx, int *axis)
{
    int64_t a = av__attr_int(ctx->node, "axis", 0);
    *axis = av__normalize_axis(a, ctx->in[0]->ndim);
    if (*axis < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                           (long long)a, ctx->in[0]->ndim);
    return AV_STATUS_OK;
}

av_status av__shape_gather_infer(const av__op_ctx *ctx)
{
    int axis;
    av_status st = av__shape_begin(ctx, 2, 2);
    if (st == AV_STATUS_OK)
        st = check_indices_dtype(ctx, 1);
    if (st == AV_STATUS_OK)
        st = gather_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1];
    int rank = x->ndim - 1 + ind->ndim;
    if (rank > AV__MAX_DIMS)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "output rank %d (at most %d supported)",
                           rank, AV__MAX_DIMS);
    int64_t out[AV__MAX_DIMS];
    int n = 0;
    for (int d = 0; d < axis; d++)
        out[n++] = x->shape[d];
    for (int d = 0; d < ind->ndim; d++)
        out[n++] = ind->shape[d];
    for (int d = axis + 1; d < x->ndim; d++)
        out[n++] = x->shape[d];
    return av__shape_set_out(ctx, 0, x->dtype, n, out);
}

typedef struct gather_job {
    const av__tensor *x, *ind;
    char *y;
    int64_t dim, nidx;
    size_t block;          /* bytes per gathered slice */
} gather_job;

static void gather_units(void *arg, int64_t begin, int64_t end)
{
    const gather_job *g = arg;
    const char *x = g->x->data;
    for (int64_t u = begin; u < end; u++) {
        int64_t o = u / g->nidx, j = u % g->nidx;
        int64_t v = av__tensor_get_i64(g->ind, j);
        if (v < 0)
            v += g->dim;
        copy_bytes(g->y + (size_t)u * g->block, x + (size_t)(o * g->dim + v) * g->block, g->block);
    }
}

av_status av__shape_gather_run(const av__op_ctx *ctx)
{
    int axis;
    av_status st = gather_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1];
    int64_t dim = x->shape[axis], nidx = av__tensor_count(ind);
    for (int64_t j = 0; j < nidx; j++) { /* all indices are checked before anything is copied */
        fetch_index(ctx, ind, j, dim, &st);
        if (st != AV_STATUS_OK)
            return st;
    }
    gather_job g = {x, ind, ctx->out[0]->data, dim, nidx,
                    (size_t)prod(x->shape, axis + 1, x->ndim) * av__dtype_size(x->dtype)};
    int64_t units = prod(x->shape, 0, axis) * nidx;
    int64_t grain = (int64_t)((1u << 16) / (g.block ? g.block : 1)) + 1;
    av__parallel_for((uint64_t)units * g.block >= (1u << 18) ? ctx->pool : NULL, units, grain,
                     gather_units, &g);
    return AV_STATUS_OK;
}

/* ---- GatherElements -------------------------------------------------------------------------- */

/* Shared checks of GatherElements and ScatterElements: data (0) and indices (1) of the same
 * rank, indices no larger than data off the axis. */
static av_status elements_check(const av__op_ctx *ctx, int *axis)
{
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1];
    av_status st = check_indices_dtype(ctx, 1);
    if (st == AV_STATUS_OK)
        st = gather_axis(ctx, axis);
    if (st != AV_STATUS_OK)
        return st;
    if (ind->ndim != x->ndim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "indices have rank %d, data has rank %d",
                           ind->ndim, x->ndim);
    for (int d = 0; d < x->ndim; d++)
        if (d != *axis && ind->shape[d] > x->shape[d])
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "indices dimension %d (%lld) exceeds the data's (%lld)", d,
                               (long long)ind->shape[d], (long long)x->shape[d]);
    return AV_STATUS_OK;
}

/* For every position p of `ind` (C order), calls fn with the flat position and the flat data
 * offset of p with p[axis] replaced by the index. Stops at the first bad index. */
typedef void (*elements_fn)(void *arg, int64_t pos, int64_t data_off);

static av_status elements_walk(const av__op_ctx *ctx, const av__tensor *x, const av__tensor *ind,
                               int axis, elements_fn fn, void *arg)
{
    int64_t xs[AV__MAX_DIMS], idx[AV__MAX_DIMS] = {0};
    av__shape_strides(x->ndim, x->shape, xs);
    int64_t n = av__tensor_count(ind), base = 0; /* base: data offset of p without the axis */
    av_status st = AV_STATUS_OK;
    for (int64_t p = 0; p < n; p++) {
        int64_t v = fetch_index(ctx, ind, p, x->shape[axis], &st);
        if (st != AV_STATUS_OK)
            return st;
        fn(arg, p, base + v * xs[axis]);
        for (int d = ind->ndim - 1; d >= 0; d--) {
            idx[d]++;
            if (d != axis)
                base += xs[d];
            if (idx[d] < ind->shape[d])
                break;
            if (d != axis)
                base -= idx[d] * xs[d];
            idx[d] = 0;
        }
    }
    return AV_STATUS_OK;
}

typedef struct elements_job {
    char *dst;
    const char *src;
    size_t es;
    av__dtype dtype;
    int reduction;
} elements_job;

static void gather_elements_fn(void *arg, int64_t pos, int64_t off)
{
    const elements_job *j = arg;
    copy_bytes(j->dst + (size_t)pos * j->es, j->src + (size_t)off * j->es, j->es);
}

av_status av__shape_gather_elements_infer(const av__op_ctx *ctx)
{
    int axis;
    av_status st = av__shape_begin(ctx, 2, 2);
    if (st == AV_STATUS_OK)
        st = elements_check(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, ctx->in[1]->ndim, ctx->in[1]->shape);
}

av_status av__shape_gather_elements_run(const av__op_ctx *ctx)
{
    int axis;
    av_status st = gather_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    elements_job j = {ctx->out[0]->data, ctx->in[0]->data, av__dtype_size(ctx->in[0]->dtype),
                      ctx->in[0]->dtype, 0};
    return elements_walk(ctx, ctx->in[0], ctx->in[1], axis, gather_elements_fn, &j);
}

/* ---- GatherND -------------------------------------------------------------------------------- */

static av_status gather_nd_params(const av__op_ctx *ctx, int *b, int *m)
{
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1];
    av_status st = check_indices_dtype(ctx, 1);
    if (st != AV_STATUS_OK)
        return st;
    int64_t bd = ctx->opset >= 12 ? av__attr_int(ctx->node, "batch_dims", 0) : 0;
    if (x->ndim < 1 || ind->ndim < 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "data and indices must have rank >= 1");
    if (bd < 0 || bd >= x->ndim || bd >= ind->ndim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "batch_dims %lld must be in [0, min(%d, %d))",
                           (long long)bd, x->ndim, ind->ndim);
    *b = (int)bd;
    int64_t mm = ind->shape[ind->ndim - 1];
    if (mm < 1 || mm > x->ndim - *b)
        return av__op_fail(
            ctx, AV_STATUS_FORMAT,
            "indices' last dimension %lld must be in [1, %d] (data rank - batch_dims)",
            (long long)mm, x->ndim - *b);
    *m = (int)mm;
    for (int d = 0; d < *b; d++)
        if (ind->shape[d] != x->shape[d])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "batch dimension %d differs: %lld vs %lld",
                               d, (long long)ind->shape[d], (long long)x->shape[d]);
    return AV_STATUS_OK;
}

av_status av__shape_gather_nd_infer(const av__op_ctx *ctx)
{
    int b, m;
    av_status st = av__shape_begin(ctx, 2, 2);
    if (st == AV_STATUS_OK)
        st = gather_nd_params(ctx, &b, &m);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1];
    int64_t out[2 * AV__MAX_DIMS];
    int n = 0;
    for (int d = 0; d < ind->ndim - 1; d++)
        out[n++] = ind->shape[d];
    for (int d = b + m; d < x->ndim; d++)
        out[n++] = x->shape[d];
    return av__shape_set_out(ctx, 0, x->dtype, n, out);
}

/* Flat slice offset (in slices of prod(data.shape[b+m:])) of index tuple t within a batch. */
static av_status nd_tuple_offset(const av__op_ctx *ctx, const av__tensor *x, const av__tensor *ind,
                                 int b, int m, int64_t t, int64_t *off)
{
    av_status st = AV_STATUS_OK;
    int64_t o = 0;
    for (int k = 0; k < m; k++) {
        int64_t v = fetch_index(ctx, ind, t * m + k, x->shape[b + k], &st);
        if (st != AV_STATUS_OK)
            return st;
        o = o * x->shape[b + k] + v;
    }
    *off = o;
    return AV_STATUS_OK;
}

av_status av__shape_gather_nd_run(const av__op_ctx *ctx)
{
    int b, m;
    av_status st = gather_nd_params(ctx, &b, &m);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1];
    size_t slice = (size_t)prod(x->shape, b + m, x->ndim) * av__dtype_size(x->dtype);
    int64_t batches = prod(x->shape, 0, b);
    int64_t per_batch = prod(ind->shape, b, ind->ndim - 1); /* tuples per batch */
    int64_t slices_per_batch = prod(x->shape, b, b + m);
    char *y = ctx->out[0]->data;
    const char *src = x->data;
    for (int64_t bi = 0; bi < batches; bi++) {
        for (int64_t t = 0; t < per_batch; t++) {
            int64_t off;
            st = nd_tuple_offset(ctx, x, ind, b, m, bi * per_batch + t, &off);
            if (st != AV_STATUS_OK)
                return st;
            memcpy(y + (size_t)(bi * per_batch + t) * slice,
                   src + (size_t)(bi * slices_per_batch + off) * slice, slice);
        }
    }
    return AV_STATUS_OK;
}

/* ---- reductions of the Scatter ops ----------------------------------------------------------- */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static av_status scatter_reduction(const av__op_ctx *ctx, int *red)
{
    const char *r = av__attr_string(ctx->node, "reduction", "none");
    *red = RED_NONE;
    if (strcmp(r, "none") == 0)
        return AV_STATUS_OK;
    if (strcmp(r, "add") == 0)
        *red = RED_ADD;
    else if (strcmp(r, "mul") == 0)
        *red = RED_MUL;
    else if (strcmp(r, "max") == 0)
        *red = RED_MAX;
    else if (strcmp(r, "min") == 0)
        *red = RED_MIN;
    else
        return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown reduction '%s'", r);
    return AV_STATUS_OK;
}

/* Integer arithmetic through uint64_t: wraps like two's complement instead of overflowing. */
#define RED_INT(T)                                                                             \
    do {                                                                                       \
        T *d_ = dst;                                                                           \
        const T *s_ = src;                                                                     \
        for (int64_t k = 0; k < n; k++) {                                                      \
            T a_ = d_[k], b_ = s_[k];                                                          \
            switch (red) {                                                                     \
            case RED_ADD: d_[k] = (T)((uint64_t)a_ + (uint64_t)b_); break;                     \
            case RED_MUL: d_[k] = (T)((uint64_t)a_ * (uint64_t)b_); break;                     \
            case RED_MAX: d_[k] = a_ > b_ ? a_ : b_; break;                                    \
            default: d_[k] = a_ < b_ ? a_ : b_; break;                                         \
            }                                                                                  \
        }                                                                                      \
    } while (0)

#define RED_FLOAT(T)                                                                           \
    do {                                                                                       \
        T *d_ = dst;                                                                           \
        const T *s_ = src;                                                                     \
        for (int64_t k = 0; k < n; k++) {                                                      \
            T a_ = d_[k], b_ = s_[k];                                                          \
            switch (red) {                                                                     \
            case RED_ADD: d_[k] = a_ + b_; break;                                              \
            case RED_MUL: d_[k] = a_ * b_; break;                                              \
            case RED_MAX: d_[k] = a_ > b_ || a_ != a_ ? a_ : b_; break;                        \
            default: d_[k] = a_ < b_ || a_ != a_ ? a_ : b_; break;                             \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* dst[k] = red(dst[k], src[k]) for k < n (red != RED_NONE). bool: add/max = or, mul/min = and. */
static void reduce_into(av__dtype dt, void *dst, const void *src, int64_t n, int red)
{
    switch (dt) {
    case AV__DT_F32: RED_FLOAT(float); break;
    case AV__DT_F64: RED_FLOAT(double); break;
    case AV__DT_I8: RED_INT(int8_t); break;
    case AV__DT_U8: RED_INT(uint8_t); break;
    case AV__DT_I16: RED_INT(int16_t); break;
    case AV__DT_U16: RED_INT(uint16_t); break;
    case AV__DT_I32: RED_INT(int32_t); break;
    case AV__DT_U32: RED_INT(uint32_t); break;
    case AV__DT_I64: RED_INT(int64_t); break;
    case AV__DT_U64: RED_INT(uint64_t); break;
    case AV__DT_BOOL: {
        uint8_t *d = dst;
        const uint8_t *s = src;
        for (int64_t k = 0; k < n; k++)
            d[k] = red == RED_ADD || red == RED_MAX ? (d[k] || s[k]) : (d[k] && s[k]);
        break;
    }
    case AV__DT_F16:
    case AV__DT_BF16: {
        uint16_t *d = dst;
        const uint16_t *s = src;
        int half = dt == AV__DT_F16;
        for (int64_t k = 0; k < n; k++) {
            float a = half ? av__f16_to_f32(d[k]) : av__bf16_to_f32(d[k]);
            float b = half ? av__f16_to_f32(s[k]) : av__bf16_to_f32(s[k]);
            float r = red == RED_ADD ? a + b
                      : red == RED_MUL ? a * b
                      : red == RED_MAX ? (a > b || a != a ? a : b)
                                       : (a < b || a != a ? a : b);
            d[k] = half ? av__f32_to_f16(r) : av__f32_to_bf16(r);
        }
        break;
    }
    default:
        break;
    }
}

static void scatter_apply(void *dst, const void *src, size_t bytes, av__dtype dt, int red)
{
    if (red == RED_NONE)
        copy_bytes(dst, src, bytes);
    else
        reduce_into(dt, dst, src, (int64_t)(bytes / av__dtype_size(dt)), red);
}

/* ---- ScatterND ------------------------------------------------------------------------------- */

static av_status scatter_nd_check(const av__op_ctx *ctx, int *m, int *red)
{
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1], *upd = ctx->in[2];
    av_status st = check_indices_dtype(ctx, 1);
    if (st == AV_STATUS_OK)
        st = scatter_reduction(ctx, red);
    if (st != AV_STATUS_OK)
        return st;
    if (upd->dtype != x->dtype)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "updates are %s, data is %s",
                           av__dtype_name(upd->dtype), av__dtype_name(x->dtype));
    if (x->ndim < 1 || ind->ndim < 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "data and indices must have rank >= 1");
    int64_t mm = ind->shape[ind->ndim - 1];
    if (mm < 1 || mm > x->ndim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "indices' last dimension %lld must be in [1, %d]",
                           (long long)mm, x->ndim);
    *m = (int)mm;
    /* updates: indices.shape[:-1] + data.shape[m:] */
    int want = ind->ndim - 1 + x->ndim - *m;
    int ok = upd->ndim == want;
    for (int d = 0; ok && d < ind->ndim - 1; d++)
        ok = upd->shape[d] == ind->shape[d];
    for (int d = *m; ok && d < x->ndim; d++)
        ok = upd->shape[ind->ndim - 1 + d - *m] == x->shape[d];
    if (!ok)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "updates must have shape indices.shape[:-1] + data.shape[%d:]", *m);
    if (*red != RED_NONE && !av__shape_is_float(x->dtype) && !av__shape_is_int(x->dtype) &&
        x->dtype != AV__DT_BOOL)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "reduction on %s", av__dtype_name(x->dtype));
    return AV_STATUS_OK;
}

av_status av__shape_scatter_nd_infer(const av__op_ctx *ctx)
{
    int m, red;
    av_status st = av__shape_begin(ctx, 3, 3);
    if (st == AV_STATUS_OK)
        st = scatter_nd_check(ctx, &m, &red);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, ctx->in[0]->shape);
}

av_status av__shape_scatter_nd_run(const av__op_ctx *ctx)
{
    int m, red;
    av_status st = scatter_nd_check(ctx, &m, &red);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1], *upd = ctx->in[2];
    char *y = ctx->out[0]->data;
    av__shape_memcpy(ctx->pool, y, x->data, av__tensor_bytes(x));
    size_t slice = (size_t)prod(x->shape, m, x->ndim) * av__dtype_size(x->dtype);
    int64_t tuples = prod(ind->shape, 0, ind->ndim - 1);
    const char *u = upd->data;
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off;
        st = nd_tuple_offset(ctx, x, ind, 0, m, t, &off);
        if (st != AV_STATUS_OK)
            return st;
        scatter_apply(y + (size_t)off * slice, u + (size_t)t * slice, slice, x->dtype, red);
    }
    return AV_STATUS_OK;
}

/* ---- ScatterElements / Scatter --------------------------------------------------------------- */

static av_status scatter_elements_check(const av__op_ctx *ctx, int *axis, int *red)
{
    const av__tensor *x = ctx->in[0], *ind = ctx->in[1], *upd = ctx->in[2];
    av_status st = elements_check(ctx, axis);
    if (st == AV_STATUS_OK)
        st = scatter_reduction(ctx, red);
    if (st != AV_STATUS_OK)
        return st;
    if (upd->dtype != x->dtype)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "updates are %s, data is %s",
                           av__dtype_name(upd->dtype), av__dtype_name(x->dtype));
    if (upd->ndim != ind->ndim ||
        memcmp(upd->shape, ind->shape, (size_t)ind->ndim * sizeof(int64_t)))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "updates and indices differ in shape");
    return AV_STATUS_OK;
}

av_status av__shape_scatter_elements_infer(const av__op_ctx *ctx)
{
    int axis, red;
    av_status st = av__shape_begin(ctx, 3, 3);
    if (st == AV_STATUS_OK)
        st = scatter_elements_check(ctx, &axis, &red);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, ctx->in[0]->shape);
}

static void scatter_elements_fn(void *arg, int64_t pos, int64_t off)
{
    const elements_job *j = arg;
    scatter_apply(j->dst + (size_t)off * j->es, j->src + (size_t)pos * j->es, j->es, j->dtype,
                  j->reduction);
}

av_status av__shape_scatter_elements_run(const av__op_ctx *ctx)
{
    int axis, red;
    av_status st = scatter_elements_check(ctx, &axis, &red);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    av__shape_memcpy(ctx->pool, ctx->out[0]->data, x->data, av__tensor_bytes(x));
    elements_job j = {ctx->out[0]->data, ctx->in[2]->data, av__dtype_size(x->dtype), x->dtype, red};
    return elements_walk(ctx, x, ctx->in[1], axis, scatter_elements_fn, &j);
}

/* ---- OneHot ---------------------------------------------------------------------------------- */

static av_status one_hot_params(const av__op_ctx *ctx, int *axis, int64_t *depth)
{
    const av__tensor *ind = ctx->in[0], *dep = ctx->in[1], *val = ctx->in[2];
    if (!av__shape_is_int(ind->dtype) && !av__shape_is_float(ind->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "indices must be numeric, are %s",
                           av__dtype_name(ind->dtype));
    if (av__tensor_count(dep) != 1 || dep->ndim > 1 ||
        (!av__shape_is_int(dep->dtype) && !av__shape_is_float(dep->dtype)))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "depth must be a numeric scalar");
    if (!dep->data)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "depth has no value at planning time");
    if (av__tensor_count(val) != 2 || val->ndim != 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "values must hold 2 elements [off, on]");
    if (av__dtype_size(val->dtype) == 0)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "values of type %s",
                           av__dtype_name(val->dtype));
    double dv = av__tensor_get_f64(dep, 0);
    if (!(dv >= 0 && dv < 4611686018427387904.0))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "depth %g is invalid", dv);
    *depth = av__tensor_get_i64(dep, 0);
    int64_t a = av__attr_int(ctx->node, "axis", -1);
    *axis = av__normalize_axis(a, ind->ndim + 1);
    if (*axis < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for output rank %d",
                           (long long)a, ind->ndim + 1);
    return AV_STATUS_OK;
}

av_status av__shape_one_hot_infer(const av__op_ctx *ctx)
{
    int axis;
    int64_t depth;
    av_status st = av__op_check_inputs(ctx, 3, 3);
    if (st == AV_STATUS_OK && (ctx->n_out < 1 || !ctx->out[0]))
        st = av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    if (st == AV_STATUS_OK)
        st = one_hot_params(ctx, &axis, &depth);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *ind = ctx->in[0];
    int64_t out[AV__MAX_DIMS + 1];
    for (int d = 0, j = 0; d <= ind->ndim; d++)
        out[d] = d == axis ? depth : ind->shape[j++];
    return av__shape_set_out(ctx, 0, ctx->in[2]->dtype, ind->ndim + 1, out);
}

av_status av__shape_one_hot_run(const av__op_ctx *ctx)
{
    int axis;
    int64_t depth;
    av_status st = one_hot_params(ctx, &axis, &depth);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *ind = ctx->in[0], *val = ctx->in[2];
    size_t es = av__dtype_size(val->dtype);
    const char *off_v = val->data, *on_v = off_v + es;
    char *y = ctx->out[0]->data;
    int64_t total = av__tensor_count(ctx->out[0]);
    for (int64_t i = 0; i < total; i++)
        copy_bytes(y + (size_t)i * es, off_v, es);
    int64_t inner = prod(ind->shape, axis, ind->ndim), n = av__tensor_count(ind);
    for (int64_t p = 0; p < n; p++) {
        int64_t v;
        if (av__shape_is_float(ind->dtype)) { /* truncated; far out of range stays out */
            double f = av__tensor_get_f64(ind, p);
            if (!(f > -2.0 * (double)depth - 2 && f < 2.0 * (double)depth + 2))
                continue;
            v = (int64_t)f;
        } else {
            v = av__tensor_get_i64(ind, p);
        }
        if (v < 0)
            v += depth;
        if (v < 0 || v >= depth) /* out of range: the row stays all `off` */
            continue;
        int64_t o = p / (inner ? inner : 1), i = p % (inner ? inner : 1);
        copy_bytes(y + (size_t)((o * depth + v) * inner + i) * es, on_v, es);
    }
    return AV_STATUS_OK;
}
