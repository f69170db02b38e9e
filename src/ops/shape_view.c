/* Ops that only reinterpret the shape (Reshape, Flatten, Squeeze, Unsqueeze: run() is a copy of
 * the bytes) and the ops that report a shape (Shape, Size). */
#include <string.h>

#include "ops/shape_internal.h"

/* run() of every op here whose output holds the input's bytes unchanged */
static av_status copy_input(const av__op_ctx *ctx)
{
    av__shape_memcpy(ctx->pool, ctx->out[0]->data, ctx->in[0]->data, av__tensor_bytes(ctx->in[0]));
    return AV_STATUS_OK;
}

/* ---- Reshape --------------------------------------------------------------------------------- */

av_status av__shape_reshape_infer(const av__op_ctx *ctx)
{
    int64_t req[AV__MAX_DIMS];
    int n = 0;
    av_status st;
    if (ctx->opset < 5) { /* opsets 1-4: the `shape` attribute */
        st = av__shape_begin(ctx, 1, 1);
        if (st != AV_STATUS_OK)
            return st;
        const int64_t *a = av__attr_ints(ctx->node, "shape", &n);
        if (!a)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'shape' is missing");
        if (n > AV__MAX_DIMS)
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "target rank %d (at most %d supported)",
                               n, AV__MAX_DIMS);
        memcpy(req, a, (size_t)n * sizeof *a);
    } else {
        st = av__shape_begin(ctx, 2, 2);
        if (st == AV_STATUS_OK)
            st = av__shape_read_ints(ctx, 1, "shape", req, AV__MAX_DIMS, &n);
        if (st != AV_STATUS_OK)
            return st;
    }
    const av__tensor *x = ctx->in[0];
    int allowzero = ctx->opset >= 14 && av__attr_int(ctx->node, "allowzero", 0) != 0;
    int64_t out[AV__MAX_DIMS];
    int infer_at = -1, has_zero = 0;
    int64_t known = 1, count = av__tensor_count(x);
    for (int i = 0; i < n; i++) {
        int64_t v = req[i];
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return av__op_fail(
                    ctx, AV_STATUS_FORMAT,
                    "shape[%d] = 0 copies input dimension %d, but the input has rank %d", i, i,
                    x->ndim);
            v = x->shape[i];
        } else if (v == -1) {
            if (infer_at >= 0)
                return av__op_fail(ctx, AV_STATUS_FORMAT, "shape has more than one -1 (%d and %d)",
                                   infer_at, i);
            infer_at = i;
            out[i] = -1;
            continue;
        } else if (v < 0) {
            return av__op_fail(ctx, AV_STATUS_FORMAT, "shape[%d] = %lld is invalid", i,
                               (long long)v);
        }
        if (v == 0)
            has_zero = 1;
        if (v > 0 && known > INT64_MAX / v)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "shape is too large");
        known *= v;
        out[i] = v;
    }
    if (allowzero && has_zero && infer_at >= 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "allowzero shape has both 0 and -1");
    if (infer_at >= 0) {
        if (known == 0)
            return av__op_fail(
                ctx, AV_STATUS_FORMAT,
                "cannot infer the -1 dimension: the other dimensions hold 0 elements");
        if (count % known != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "cannot reshape %lld elements: not a multiple of %lld",
                               (long long)count, (long long)known);
        out[infer_at] = count / known;
        known = count;
    }
    if (known != count)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "cannot reshape %lld elements into a shape of %lld elements",
                           (long long)count, (long long)known);
    return av__shape_set_out(ctx, 0, x->dtype, n, out);
}

av_status av__shape_reshape_run(const av__op_ctx *ctx)
{
    return copy_input(ctx);
}

/* ---- Flatten --------------------------------------------------------------------------------- */

av_status av__shape_flatten_infer(const av__op_ctx *ctx)
{
    av_status st = av__shape_begin(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t axis = av__attr_int(ctx->node, "axis", 1);
    if (axis < -(int64_t)x->ndim || axis > x->ndim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                           (long long)axis, x->ndim);
    if (axis < 0)
        axis += x->ndim;
    int64_t out[2] = {1, 1};
    for (int d = 0; d < x->ndim; d++)
        out[d < axis ? 0 : 1] *= x->shape[d];
    return av__shape_set_out(ctx, 0, x->dtype, 2, out);
}

av_status av__shape_flatten_run(const av__op_ctx *ctx)
{
    return copy_input(ctx);
}

/* ---- Squeeze / Unsqueeze --------------------------------------------------------------------- */

/* The axes of Squeeze/Unsqueeze: the `axes` input from opset 13, the attribute before. Sets
 * *given = 0 when there are none. */
static av_status read_axes(const av__op_ctx *ctx, int64_t *axes, int *n, int *given)
{
    *n = 0;
    *given = 0;
    if (ctx->n_in > 1 && ctx->in[1]) {
        *given = 1;
        return av__shape_read_ints(ctx, 1, "axes", axes, AV__MAX_DIMS, n);
    }
    const int64_t *a = av__attr_ints(ctx->node, "axes", n);
    if (!a)
        return AV_STATUS_OK;
    if (*n > AV__MAX_DIMS)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "attribute 'axes' has %d values, more than the rank", *n);
    memcpy(axes, a, (size_t)*n * sizeof *a);
    *given = 1;
    return AV_STATUS_OK;
}

av_status av__shape_squeeze_infer(const av__op_ctx *ctx)
{
    int64_t axes[AV__MAX_DIMS];
    int n, given;
    av_status st = av__shape_begin(ctx, 1, ctx->opset >= 13 ? 2 : 1);
    if (st == AV_STATUS_OK)
        st = read_axes(ctx, axes, &n, &given);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int drop[AV__MAX_DIMS] = {0};
    if (!given) {
        for (int d = 0; d < x->ndim; d++)
            drop[d] = x->shape[d] == 1;
    }
    for (int i = 0; i < n; i++) {
        int a = av__normalize_axis(axes[i], x->ndim);
        if (a < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                               (long long)axes[i], x->ndim);
        if (drop[a])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld given twice", (long long)axes[i]);
        if (x->shape[a] != 1)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "cannot squeeze axis %d of size %lld", a,
                               (long long)x->shape[a]);
        drop[a] = 1;
    }
    int64_t out[AV__MAX_DIMS];
    int m = 0;
    for (int d = 0; d < x->ndim; d++)
        if (!drop[d])
            out[m++] = x->shape[d];
    return av__shape_set_out(ctx, 0, x->dtype, m, out);
}

av_status av__shape_squeeze_run(const av__op_ctx *ctx)
{
    return copy_input(ctx);
}

av_status av__shape_unsqueeze_infer(const av__op_ctx *ctx)
{
    int64_t axes[AV__MAX_DIMS];
    int n, given;
    av_status st = av__shape_begin(ctx, ctx->opset >= 13 ? 2 : 1, ctx->opset >= 13 ? 2 : 1);
    if (st == AV_STATUS_OK)
        st = read_axes(ctx, axes, &n, &given);
    if (st != AV_STATUS_OK)
        return st;
    if (!given)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axes are missing");
    const av__tensor *x = ctx->in[0];
    int rank = x->ndim + n;
    if (rank > AV__MAX_DIMS)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "output rank %d (at most %d supported)",
                           rank, AV__MAX_DIMS);
    int ins[AV__MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int a = av__normalize_axis(axes[i], rank);
        if (a < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for output rank %d",
                               (long long)axes[i], rank);
        if (ins[a])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld given twice", (long long)axes[i]);
        ins[a] = 1;
    }
    int64_t out[AV__MAX_DIMS];
    for (int d = 0, j = 0; d < rank; d++)
        out[d] = ins[d] ? 1 : x->shape[j++];
    return av__shape_set_out(ctx, 0, x->dtype, rank, out);
}

av_status av__shape_unsqueeze_run(const av__op_ctx *ctx)
{
    return copy_input(ctx);
}

/* ---- Shape / Size ---------------------------------------------------------------------------- */

/* [start, end) of Shape (opset 15 attributes), clamped to [0, rank] as the spec says. */
static void shape_range(const av__op_ctx *ctx, int rank, int64_t *start, int64_t *end)
{
    int64_t s = 0, e = rank;
    if (ctx->opset >= 15) {
        s = av__attr_int(ctx->node, "start", 0);
        e = av__attr_int(ctx->node, "end", rank);
    }
    if (s < 0)
        s += rank;
    if (e < 0)
        e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = s;
    *end = e > s ? e : s;
}

av_status av__shape_shape_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    int64_t s, e;
    shape_range(ctx, ctx->in[0]->ndim, &s, &e);
    int64_t len = e - s;
    return av__shape_set_out(ctx, 0, AV__DT_I64, 1, &len);
}

av_status av__shape_shape_run(const av__op_ctx *ctx)
{
    int64_t s, e;
    shape_range(ctx, ctx->in[0]->ndim, &s, &e);
    int64_t *y = ctx->out[0]->data;
    for (int64_t i = s; i < e; i++)
        y[i - s] = ctx->in[0]->shape[i];
    return AV_STATUS_OK;
}

av_status av__shape_size_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    return av__shape_set_out(ctx, 0, AV__DT_I64, 0, NULL);
}

av_status av__shape_size_run(const av__op_ctx *ctx)
{
    *(int64_t *)ctx->out[0]->data = av__tensor_count(ctx->in[0]);
    return AV_STATUS_OK;
}
