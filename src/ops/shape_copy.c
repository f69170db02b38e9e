/* Ops whose output is a strided view of their input(s): Transpose, Slice, Concat, Split, Expand,
 * Tile, DepthToSpace, SpaceToDepth (each builds the view and hands it to av__shape_copy), and
 * ReverseSequence (block copies). */
#include <string.h>

#include "ops/shape_internal.h"

static char *elem_ptr(const av__tensor *t, int64_t offset)
{
    return (char *)t->data + (ptrdiff_t)offset * (ptrdiff_t)av__dtype_size(t->dtype);
}

/* ---- Transpose ------------------------------------------------------------------------------- */

/* perm (attribute, default reversed), checked to be a permutation of the rank. */
static av_status transpose_perm(const av__op_ctx *ctx, int *perm)
{
    int rank = ctx->in[0]->ndim, n;
    const int64_t *p = av__attr_ints(ctx->node, "perm", &n);
    if (!p) {
        for (int d = 0; d < rank; d++)
            perm[d] = rank - 1 - d;
        return AV_STATUS_OK;
    }
    if (n != rank)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "perm has %d values for rank %d", n, rank);
    int seen[AV__MAX_DIMS] = {0};
    for (int d = 0; d < n; d++) {
        int a = av__normalize_axis(p[d], rank);
        if (a < 0 || seen[a])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "perm is not a permutation (value %lld)",
                               (long long)p[d]);
        seen[a] = 1;
        perm[d] = a;
    }
    return AV_STATUS_OK;
}

av_status av__shape_transpose_infer(const av__op_ctx *ctx)
{
    int perm[AV__MAX_DIMS];
    av_status st = av__shape_begin(ctx, 1, 1);
    if (st == AV_STATUS_OK)
        st = transpose_perm(ctx, perm);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t out[AV__MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        out[d] = x->shape[perm[d]];
    return av__shape_set_out(ctx, 0, x->dtype, x->ndim, out);
}

av_status av__shape_transpose_run(const av__op_ctx *ctx)
{
    int perm[AV__MAX_DIMS];
    av_status st = transpose_perm(ctx, perm);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t xs[AV__MAX_DIMS], ss[AV__MAX_DIMS];
    av__shape_strides(x->ndim, x->shape, xs);
    for (int d = 0; d < x->ndim; d++)
        ss[d] = xs[perm[d]];
    av__shape_copy(ctx->pool, av__dtype_size(x->dtype), x->ndim, ctx->out[0]->shape,
                   ctx->out[0]->data, NULL, x->data, ss);
    return AV_STATUS_OK;
}

/* ---- Slice ----------------------------------------------------------------------------------- */

/* Per input dimension: first index, step and output length. Dimensions not sliced get
 * (0, 1, dim). Clamping follows the spec exactly: negative starts/ends count from the end, then
 * starts clamp to [0, dim] (step > 0) or [0, dim - 1] (step < 0) and ends to [0, dim] or
 * [-1, dim - 1]; any int64 value (INT64_MAX, INT64_MIN) is valid. */
static av_status slice_params(const av__op_ctx *ctx, int64_t *start, int64_t *step, int64_t *len)
{
    const av__tensor *x = ctx->in[0];
    int64_t starts[AV__MAX_DIMS], ends[AV__MAX_DIMS], axes[AV__MAX_DIMS], steps[AV__MAX_DIMS];
    int ns, ne, na = -1, nst = -1;
    av_status st;
    if (ctx->opset < 10) { /* opsets 1-9: attributes, no steps */
        const int64_t *a = av__attr_ints(ctx->node, "starts", &ns);
        const int64_t *b = av__attr_ints(ctx->node, "ends", &ne);
        if (!a || !b)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "attributes 'starts' and 'ends' are required");
        if (ns > AV__MAX_DIMS || ne > AV__MAX_DIMS)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "more starts/ends than dimensions");
        memcpy(starts, a, (size_t)ns * sizeof *a);
        memcpy(ends, b, (size_t)ne * sizeof *b);
        const int64_t *c = av__attr_ints(ctx->node, "axes", &na);
        if (!c) {
            na = -1;
        } else if (na > AV__MAX_DIMS) {
            return av__op_fail(ctx, AV_STATUS_FORMAT, "more axes than dimensions");
        } else {
            memcpy(axes, c, (size_t)na * sizeof *c);
        }
    } else {
        st = av__shape_read_ints(ctx, 1, "starts", starts, AV__MAX_DIMS, &ns);
        if (st == AV_STATUS_OK)
            st = av__shape_read_ints(ctx, 2, "ends", ends, AV__MAX_DIMS, &ne);
        if (st == AV_STATUS_OK && ctx->n_in > 3 && ctx->in[3])
            st = av__shape_read_ints(ctx, 3, "axes", axes, AV__MAX_DIMS, &na);
        if (st == AV_STATUS_OK && ctx->n_in > 4 && ctx->in[4])
            st = av__shape_read_ints(ctx, 4, "steps", steps, AV__MAX_DIMS, &nst);
        if (st != AV_STATUS_OK)
            return st;
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "starts, ends, axes and steps differ in length (%d, %d, %d, %d)", ns,
                           ne, na, nst);
    for (int d = 0; d < x->ndim; d++) {
        start[d] = 0;
        step[d] = 1;
        len[d] = x->shape[d];
    }
    int seen[AV__MAX_DIMS] = {0};
    for (int i = 0; i < ns; i++) {
        int64_t ax = na >= 0 ? axes[i] : i;
        int a = av__normalize_axis(ax, x->ndim);
        if (a < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                               (long long)ax, x->ndim);
        if (seen[a])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld given twice", (long long)ax);
        seen[a] = 1;
        int64_t dim = x->shape[a], s = starts[i], e = ends[i];
        int64_t k = nst >= 0 ? steps[i] : 1;
        if (k == 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "step of axis %d is 0", a);
        if (k == INT64_MIN)
            k = -INT64_MAX; /* the same slice: at most one element is taken either way */
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        int64_t n;
        if (dim == 0) {
            n = 0;
        } else if (k > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
            n = e > s ? (e - s - 1) / k + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            n = s > e ? (s - e - 1) / -k + 1 : 0;
        }
        start[a] = n > 0 ? s : 0;
        step[a] = k;
        len[a] = n;
    }
    return AV_STATUS_OK;
}

av_status av__shape_slice_infer(const av__op_ctx *ctx)
{
    int64_t start[AV__MAX_DIMS], step[AV__MAX_DIMS], len[AV__MAX_DIMS];
    av_status st = ctx->opset < 10 ? av__shape_begin(ctx, 1, 1) : av__shape_begin(ctx, 3, 5);
    if (st == AV_STATUS_OK)
        st = slice_params(ctx, start, step, len);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, len);
}

av_status av__shape_slice_run(const av__op_ctx *ctx)
{
    int64_t start[AV__MAX_DIMS], step[AV__MAX_DIMS], len[AV__MAX_DIMS];
    av_status st = slice_params(ctx, start, step, len);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t xs[AV__MAX_DIMS], ss[AV__MAX_DIMS], off = 0;
    av__shape_strides(x->ndim, x->shape, xs);
    for (int d = 0; d < x->ndim; d++) {
        if (len[d] == 0)
            return AV_STATUS_OK;
        off += start[d] * xs[d];
        /* a huge step takes one element: its stride is never used (and could overflow) */
        ss[d] = len[d] > 1 ? step[d] * xs[d] : 0;
    }
    av__shape_copy(ctx->pool, av__dtype_size(x->dtype), x->ndim, len, ctx->out[0]->data, NULL,
                   elem_ptr(x, off), ss);
    return AV_STATUS_OK;
}

/* ---- Concat ---------------------------------------------------------------------------------- */

static av_status concat_axis(const av__op_ctx *ctx, int *axis)
{
    const av__attr *a = av__node_attr(ctx->node, "axis");
    if (!a && ctx->opset >= 4)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'axis' is missing");
    int64_t v = av__attr_int(ctx->node, "axis", 1); /* opsets 1-3 default to 1 */
    *axis = av__normalize_axis(v, ctx->in[0]->ndim);
    if (*axis < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                           (long long)v, ctx->in[0]->ndim);
    return AV_STATUS_OK;
}

av_status av__shape_concat_infer(const av__op_ctx *ctx)
{
    int axis;
    av_status st =
        av__shape_begin(ctx, ctx->n_in > 0 ? ctx->n_in : 1, ctx->n_in > 0 ? ctx->n_in : 1);
    if (st == AV_STATUS_OK)
        st = concat_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t out[AV__MAX_DIMS];
    memcpy(out, x->shape, sizeof out);
    out[axis] = 0;
    for (int i = 0; i < ctx->n_in; i++) {
        const av__tensor *t = ctx->in[i];
        if (t->dtype != x->dtype)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "input %d is %s, input 0 is %s", i,
                               av__dtype_name(t->dtype), av__dtype_name(x->dtype));
        if (t->ndim != x->ndim)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "input %d has rank %d, input 0 has rank %d",
                               i, t->ndim, x->ndim);
        for (int d = 0; d < x->ndim; d++)
            if (d != axis && t->shape[d] != x->shape[d])
                return av__op_fail(ctx, AV_STATUS_FORMAT,
                                   "input %d: dimension %d is %lld, input 0 has %lld", i, d,
                                   (long long)t->shape[d], (long long)x->shape[d]);
        if (out[axis] > INT64_MAX - t->shape[axis])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "output too large");
        out[axis] += t->shape[axis];
    }
    return av__shape_set_out(ctx, 0, x->dtype, x->ndim, out);
}

av_status av__shape_concat_run(const av__op_ctx *ctx)
{
    int axis;
    av_status st = concat_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *y = ctx->out[0];
    int64_t ys[AV__MAX_DIMS], off = 0;
    av__shape_strides(y->ndim, y->shape, ys);
    for (int i = 0; i < ctx->n_in; i++) {
        const av__tensor *t = ctx->in[i];
        int64_t ts[AV__MAX_DIMS];
        av__shape_strides(t->ndim, t->shape, ts);
        av__shape_copy(ctx->pool, av__dtype_size(t->dtype), t->ndim, t->shape,
                       elem_ptr(y, off * ys[axis]), ys, t->data, ts);
        off += t->shape[axis];
    }
    return AV_STATUS_OK;
}

/* ---- Split ----------------------------------------------------------------------------------- */

#define SPLIT_MAX_OUTPUTS 1024

/* The axis and the size of each output along it. */
static av_status split_sizes(const av__op_ctx *ctx, int *axis, int64_t *sizes)
{
    const av__tensor *x = ctx->in[0];
    int n_out = ctx->n_out;
    int64_t ax = av__attr_int(ctx->node, "axis", 0);
    *axis = av__normalize_axis(ax, x->ndim);
    if (*axis < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                           (long long)ax, x->ndim);
    int64_t dim = x->shape[*axis];
    int n = -1;
    const av__attr *num = av__node_attr(ctx->node, "num_outputs");
    if (ctx->n_in > 1 && ctx->in[1]) { /* the `split` input: opset 13+ (and opset 1) */
        av_status st = av__shape_read_ints(ctx, 1, "split", sizes, SPLIT_MAX_OUTPUTS, &n);
        if (st != AV_STATUS_OK)
            return st;
    } else if (ctx->opset < 13 && av__node_attr(ctx->node, "split")) {
        const int64_t *a = av__attr_ints(ctx->node, "split", &n);
        if (n > SPLIT_MAX_OUTPUTS)
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "more than %d outputs",
                               SPLIT_MAX_OUTPUTS);
        if (a)
            memcpy(sizes, a, (size_t)n * sizeof *a);
    } else if (ctx->opset >= 18 && num) {
        /* opset 18: ceil(dim / num_outputs) each, the last one what is left */
        if (num->type != AV__ATTR_INT || num->i < 1 || num->i != n_out)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "num_outputs %lld does not match %d outputs",
                               (long long)num->i, n_out);
        int64_t chunk = dim / n_out + (dim % n_out != 0);
        for (int i = 0; i < n_out; i++)
            sizes[i] = i < n_out - 1 ? chunk : dim - chunk * (n_out - 1);
        if (sizes[n_out - 1] < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "cannot split a dimension of %lld into %d chunks of %lld",
                               (long long)dim, n_out, (long long)chunk);
        n = n_out;
    } else {
        if (dim % n_out != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "cannot split a dimension of %lld into %d equal parts",
                               (long long)dim, n_out);
        for (int i = 0; i < n_out; i++)
            sizes[i] = dim / n_out;
        n = n_out;
    }
    if (n != n_out)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "split has %d values for %d outputs", n, n_out);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0 || sizes[i] > dim - sum)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "split sizes must be >= 0 and sum to %lld (dimension %d)",
                               (long long)dim, *axis);
        sum += sizes[i];
    }
    if (sum != dim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "split sizes sum to %lld, dimension %d is %lld",
                           (long long)sum, *axis, (long long)dim);
    return AV_STATUS_OK;
}

av_status av__shape_split_infer(const av__op_ctx *ctx)
{
    int64_t sizes[SPLIT_MAX_OUTPUTS];
    int axis;
    av_status st = av__op_check_inputs(ctx, 1, 2);
    if (st != AV_STATUS_OK)
        return st;
    st = av__shape_check_dtype(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || ctx->n_out > SPLIT_MAX_OUTPUTS)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "%d outputs (1 to %d supported)", ctx->n_out,
                           SPLIT_MAX_OUTPUTS);
    st = split_sizes(ctx, &axis, sizes);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t shape[AV__MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    for (int i = 0; i < ctx->n_out; i++) {
        shape[axis] = sizes[i];
        st = av__shape_set_out(ctx, i, x->dtype, x->ndim, shape);
        if (st != AV_STATUS_OK)
            return st;
    }
    return AV_STATUS_OK;
}

av_status av__shape_split_run(const av__op_ctx *ctx)
{
    int64_t sizes[SPLIT_MAX_OUTPUTS];
    int axis;
    av_status st = split_sizes(ctx, &axis, sizes);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t xs[AV__MAX_DIMS], off = 0;
    av__shape_strides(x->ndim, x->shape, xs);
    for (int i = 0; i < ctx->n_out; i++) {
        if (ctx->out[i])
            av__shape_copy(ctx->pool, av__dtype_size(x->dtype), x->ndim, ctx->out[i]->shape,
                           ctx->out[i]->data, NULL, elem_ptr(x, off * xs[axis]), xs);
        off += sizes[i];
    }
    return AV_STATUS_OK;
}

/* ---- Expand ---------------------------------------------------------------------------------- */

av_status av__shape_expand_infer(const av__op_ctx *ctx)
{
    int64_t shape[AV__MAX_DIMS], out[AV__MAX_DIMS];
    int n, nout;
    av_status st = av__shape_begin(ctx, 2, 2);
    if (st == AV_STATUS_OK)
        st = av__shape_read_ints(ctx, 1, "shape", shape, AV__MAX_DIMS, &n);
    if (st != AV_STATUS_OK)
        return st;
    for (int i = 0; i < n; i++)
        if (shape[i] < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "shape[%d] = %lld is negative", i,
                               (long long)shape[i]);
    const av__tensor *x = ctx->in[0];
    if (av__broadcast_shapes(x->ndim, x->shape, n, shape, &nout, out) != AV_STATUS_OK)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "input shape does not broadcast to the target shape");
    return av__shape_set_out(ctx, 0, x->dtype, nout, out);
}

av_status av__shape_expand_run(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0], *y = ctx->out[0];
    int64_t xs[AV__MAX_DIMS], ss[AV__MAX_DIMS];
    av__shape_strides(x->ndim, x->shape, xs);
    int lead = y->ndim - x->ndim;
    for (int d = 0; d < y->ndim; d++) {
        int xd = d - lead;
        ss[d] = xd < 0 || x->shape[xd] == 1 ? 0 : xs[xd];
    }
    av__shape_copy(ctx->pool, av__dtype_size(x->dtype), y->ndim, y->shape, y->data, NULL, x->data,
                   ss);
    return AV_STATUS_OK;
}

/* ---- Tile ------------------------------------------------------------------------------------ */

av_status av__shape_tile_infer(const av__op_ctx *ctx)
{
    int64_t reps[AV__MAX_DIMS], out[AV__MAX_DIMS];
    int n;
    av_status st = av__shape_begin(ctx, 2, 2);
    if (st == AV_STATUS_OK)
        st = av__shape_read_ints(ctx, 1, "repeats", reps, AV__MAX_DIMS, &n);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (n != x->ndim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "repeats has %d values for rank %d", n, x->ndim);
    for (int d = 0; d < n; d++) {
        if (reps[d] < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "repeats[%d] = %lld is negative", d,
                               (long long)reps[d]);
        if (x->shape[d] != 0 && reps[d] > INT64_MAX / x->shape[d])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "output too large");
        out[d] = x->shape[d] * reps[d];
    }
    return av__shape_set_out(ctx, 0, x->dtype, n, out);
}

av_status av__shape_tile_run(const av__op_ctx *ctx)
{
    /* the output as [r_0, n_0, r_1, n_1, ...]: each repeat dim reads the input with stride 0 */
    const av__tensor *x = ctx->in[0], *y = ctx->out[0];
    int64_t xs[AV__MAX_DIMS], ys[AV__MAX_DIMS];
    int64_t shape[AV__SHAPE_VIEW_DIMS], ds[AV__SHAPE_VIEW_DIMS], ss[AV__SHAPE_VIEW_DIMS];
    av__shape_strides(x->ndim, x->shape, xs);
    av__shape_strides(y->ndim, y->shape, ys);
    for (int d = 0; d < x->ndim; d++) {
        if (x->shape[d] == 0)
            return AV_STATUS_OK;
        shape[2 * d] = y->shape[d] / x->shape[d];
        ds[2 * d] = x->shape[d] * ys[d];
        ss[2 * d] = 0;
        shape[2 * d + 1] = x->shape[d];
        ds[2 * d + 1] = ys[d];
        ss[2 * d + 1] = xs[d];
    }
    av__shape_copy(ctx->pool, av__dtype_size(x->dtype), 2 * x->ndim, shape, y->data, ds, x->data,
                   ss);
    return AV_STATUS_OK;
}

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------------------------- */

/* blocksize and the DepthToSpace mode (1 = CRD, 0 = DCR) after checking a 4-D input. */
static av_status block_params(const av__op_ctx *ctx, int64_t *b, int *crd)
{
    av_status st = av__shape_begin(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->in[0]->ndim != 4)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input must be 4-D (N, C, H, W), has rank %d",
                           ctx->in[0]->ndim);
    *b = av__attr_int(ctx->node, "blocksize", 0);
    if (*b <= 0 || *b > (1 << 20))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "blocksize %lld is invalid or missing",
                           (long long)*b);
    const char *mode = av__attr_string(ctx->node, "mode", "DCR");
    *crd = strcmp(mode, "CRD") == 0;
    if (!*crd && strcmp(mode, "DCR") != 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown mode '%s'", mode);
    return AV_STATUS_OK;
}

av_status av__shape_depth_to_space_infer(const av__op_ctx *ctx)
{
    int64_t b;
    int crd;
    av_status st = block_params(ctx, &b, &crd);
    if (st != AV_STATUS_OK)
        return st;
    const int64_t *s = ctx->in[0]->shape;
    if (s[1] % (b * b) != 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "channels %lld not divisible by blocksize^2 = %lld", (long long)s[1],
                           (long long)(b * b));
    if ((s[2] != 0 && b > INT64_MAX / s[2]) || (s[3] != 0 && b > INT64_MAX / s[3]))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "output too large");
    int64_t out[4] = {s[0], s[1] / (b * b), s[2] * b, s[3] * b};
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, 4, out);
}

av_status av__shape_depth_to_space_run(const av__op_ctx *ctx)
{
    int64_t b;
    int crd;
    av_status st = block_params(ctx, &b, &crd);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t n = x->shape[0], c = x->shape[1] / (b * b), h = x->shape[2], w = x->shape[3];
    int64_t hw = h * w;
    /* output viewed as [N, C', H, b1, W, b2]; the input channel is b1*b*C' + b2*C' + c (DCR) or
     * c*b*b + b1*b + b2 (CRD) */
    int64_t shape[6] = {n, c, h, b, w, b};
    int64_t ss[6] = {c * b * b * hw, crd ? b * b * hw : hw, w, crd ? b * hw : b * c * hw, 1,
                     crd ? hw : c * hw};
    av__shape_copy(ctx->pool, av__dtype_size(x->dtype), 6, shape, ctx->out[0]->data, NULL, x->data,
                   ss);
    return AV_STATUS_OK;
}

av_status av__shape_space_to_depth_infer(const av__op_ctx *ctx)
{
    int64_t b;
    int crd;
    av_status st = block_params(ctx, &b, &crd);
    if (st != AV_STATUS_OK)
        return st;
    const int64_t *s = ctx->in[0]->shape;
    if (s[2] % b != 0 || s[3] % b != 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "height %lld and width %lld must be multiples of blocksize %lld",
                           (long long)s[2], (long long)s[3], (long long)b);
    if (s[1] != 0 && b * b > INT64_MAX / s[1])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "output too large");
    int64_t out[4] = {s[0], s[1] * b * b, s[2] / b, s[3] / b};
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, 4, out);
}

av_status av__shape_space_to_depth_run(const av__op_ctx *ctx)
{
    int64_t b;
    int crd;
    av_status st = block_params(ctx, &b, &crd);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    /* input [N, C, H', b1, W', b2] -> output [N, b1, b2, C, H', W'] */
    int64_t shape[6] = {n, b, b, c, h / b, w / b};
    int64_t ss[6] = {c * h * w, w, 1, h * w, b * w, b};
    av__shape_copy(ctx->pool, av__dtype_size(x->dtype), 6, shape, ctx->out[0]->data, NULL, x->data,
                   ss);
    return AV_STATUS_OK;
}

/* ---- ReverseSequence ------------------------------------------------------------------------- */

/* time_axis and batch_axis: 0 and 1 in either order; input of rank >= 2, sequence_lens [batch]. */
static av_status reverse_axes(const av__op_ctx *ctx, int *t_axis, int *b_axis)
{
    int64_t t = av__attr_int(ctx->node, "time_axis", 0),
            b = av__attr_int(ctx->node, "batch_axis", 1);
    if (!((t == 0 && b == 1) || (t == 1 && b == 0)))
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "time_axis %lld and batch_axis %lld must be 0 and 1", (long long)t,
                           (long long)b);
    *t_axis = (int)t;
    *b_axis = (int)b;
    return AV_STATUS_OK;
}

av_status av__shape_reverse_sequence_infer(const av__op_ctx *ctx)
{
    int t, b;
    av_status st = av__shape_begin(ctx, 2, 2);
    if (st == AV_STATUS_OK)
        st = reverse_axes(ctx, &t, &b);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *lens = ctx->in[1];
    if (x->ndim < 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input must have rank >= 2, has %d", x->ndim);
    if (!av__shape_is_int(lens->dtype) || lens->ndim != 1 || lens->shape[0] != x->shape[b])
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "sequence_lens must be an integer vector of the batch size %lld",
                           (long long)x->shape[b]);
    return av__shape_set_out(ctx, 0, x->dtype, x->ndim, x->shape);
}

av_status av__shape_reverse_sequence_run(const av__op_ctx *ctx)
{
    int t, b;
    av_status st = reverse_axes(ctx, &t, &b);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0], *lens = ctx->in[1];
    int64_t nt = x->shape[t], nb = x->shape[b], xs[AV__MAX_DIMS];
    av__shape_strides(x->ndim, x->shape, xs);
    size_t block = (size_t)xs[1] * av__dtype_size(x->dtype); /* the dims after the first two */
    for (int64_t i = 0; i < nb; i++) {
        int64_t len = av__tensor_get_i64(lens, i);
        if (len < 0 || len > nt)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "sequence_lens[%lld] = %lld out of range [0, %lld]", (long long)i,
                               (long long)len, (long long)nt);
    }
    for (int64_t i = 0; i < nb; i++) {
        int64_t len = av__tensor_get_i64(lens, i);
        for (int64_t k = 0; k < nt; k++) {
            int64_t from = k < len ? len - 1 - k : k;
            int64_t dst = t == 0 ? k * nb + i : i * nt + k,
                    src = t == 0 ? from * nb + i : i * nt + from;
            memcpy((char *)ctx->out[0]->data + (size_t)dst * block,
                   (const char *)x->data + (size_t)src * block, block);
        }
    }
    return AV_STATUS_OK;
}
