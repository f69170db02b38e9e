/* Pad: modes constant, reflect, edge (and wrap, opset 19's, at no cost). Pads come from the
 * `paddings` (opset 1) or `pads` (opsets 2-10) attribute with the `value` attribute, or from
 * inputs from opset 11: pads, constant_value (optional) and axes (optional, opset 18).
 *
 * Negative pads crop. A dimension is first cropped by its negative pads, then padded by its
 * positive ones from the cropped data; reflect repeats the mirror image as numpy does when a pad
 * exceeds the data (period 2 * (len - 1); a length-1 dimension repeats its element). */
#include <string.h>

#include "ops/shape_internal.h"

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

typedef struct pad_params {
    int mode;
    int ndim;
    int64_t begin[AV__MAX_DIMS], end[AV__MAX_DIMS]; /* signed pads per dimension */
    int64_t crop0[AV__MAX_DIMS];                    /* first input index kept */
    int64_t len[AV__MAX_DIMS];                      /* input elements kept */
    int64_t lead[AV__MAX_DIMS];                     /* positive begin pad */
    int64_t out[AV__MAX_DIMS];
} pad_params;

static av_status read_pads(const av__op_ctx *ctx, pad_params *p)
{
    const av__tensor *x = ctx->in[0];
    int r = x->ndim;
    int64_t pads[2 * AV__MAX_DIMS], axes[AV__MAX_DIMS];
    int np = 0, na = -1;
    av_status st;
    if (ctx->opset < 11) {
        const char *name = ctx->opset < 2 ? "paddings" : "pads";
        const int64_t *a = av__attr_ints(ctx->node, name, &np);
        if (!a)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute '%s' is missing", name);
        if (np > 2 * AV__MAX_DIMS)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "'%s' has %d values for rank %d", name, np,
                               r);
        memcpy(pads, a, (size_t)np * sizeof *a);
    } else {
        st = av__shape_read_ints(ctx, 1, "pads", pads, 2 * AV__MAX_DIMS, &np);
        if (st == AV_STATUS_OK && ctx->n_in > 3 && ctx->in[3])
            st = av__shape_read_ints(ctx, 3, "axes", axes, AV__MAX_DIMS, &na);
        if (st != AV_STATUS_OK)
            return st;
    }
    int n_axes = na >= 0 ? na : r;
    if (np != 2 * n_axes)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "pads has %d values, expected %d", np,
                           2 * n_axes);
    p->ndim = r;
    for (int d = 0; d < r; d++)
        p->begin[d] = p->end[d] = 0;
    int seen[AV__MAX_DIMS] = {0};
    for (int i = 0; i < n_axes; i++) {
        int a = i;
        if (na >= 0) {
            a = av__normalize_axis(axes[i], r);
            if (a < 0)
                return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range for rank %d",
                                   (long long)axes[i], r);
            if (seen[a])
                return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld given twice",
                                   (long long)axes[i]);
            seen[a] = 1;
        }
        p->begin[a] = pads[i];
        p->end[a] = pads[i + n_axes];
    }
    return AV_STATUS_OK;
}

static av_status pad_setup(const av__op_ctx *ctx, pad_params *p)
{
    const char *mode = av__attr_string(ctx->node, "mode", "constant");
    if (strcmp(mode, "constant") == 0)
        p->mode = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p->mode = PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p->mode = PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0)
        p->mode = PAD_WRAP;
    else
        return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown mode '%s'", mode);
    av_status st = read_pads(ctx, p);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    for (int d = 0; d < p->ndim; d++) {
        int64_t b = p->begin[d], e = p->end[d], dim = x->shape[d];
        /* |pads| beyond 2^40 cannot make a tensor that fits anyway; this bounds the sums below */
        if (b > ((int64_t)1 << 40) || e > ((int64_t)1 << 40) || b < -dim || e < -dim)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "pads %lld, %lld invalid for dimension %d of size %lld",
                               (long long)b, (long long)e, d, (long long)dim);
        p->crop0[d] = b < 0 ? -b : 0;
        p->len[d] = dim - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
        p->lead[d] = b > 0 ? b : 0;
        if (p->len[d] < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "pads crop more than dimension %d holds (%lld)", d, (long long)dim);
        p->out[d] = p->len[d] + (b > 0 ? b : 0) + (e > 0 ? e : 0);
        if (p->mode != PAD_CONSTANT && p->len[d] == 0 && p->out[d] > 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "cannot pad empty dimension %d in mode '%s'",
                               d, mode);
    }
    return AV_STATUS_OK;
}

av_status av__shape_pad_infer(const av__op_ctx *ctx)
{
    pad_params p;
    av_status st = ctx->opset < 11 ? av__shape_begin(ctx, 1, 1) : av__shape_begin(ctx, 2, 4);
    if (st == AV_STATUS_OK)
        st = pad_setup(ctx, &p);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->opset >= 11 && ctx->n_in > 2 && ctx->in[2]) {
        const av__tensor *c = ctx->in[2];
        if (c->dtype != ctx->in[0]->dtype)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "constant_value is %s, data is %s",
                               av__dtype_name(c->dtype), av__dtype_name(ctx->in[0]->dtype));
        if (av__tensor_count(c) > 1)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "constant_value must be a scalar");
    }
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, p.ndim, p.out);
}

/* Input index read for output index o along dimension d, or -1 for the constant. */
static int64_t pad_map(const pad_params *p, int d, int64_t o)
{
    int64_t n = p->len[d], j = o - p->lead[d];
    if (j >= 0 && j < n)
        return p->crop0[d] + j;
    switch (p->mode) {
    case PAD_EDGE:
        j = j < 0 ? 0 : n - 1;
        break;
    case PAD_REFLECT:
        if (n == 1) {
            j = 0;
        } else {
            int64_t period = 2 * (n - 1);
            j %= period;
            if (j < 0)
                j += period;
            if (j >= n)
                j = period - j;
        }
        break;
    case PAD_WRAP:
        j %= n;
        if (j < 0)
            j += n;
        break;
    default:
        return -1;
    }
    return p->crop0[d] + j;
}

typedef struct pad_job {
    const pad_params *p;
    const char *x;
    char *y;
    size_t es;
    const void *cval;       /* one element */
    int64_t xs[AV__MAX_DIMS];
} pad_job;

static void fill_value(char *dst, int64_t n, const void *v, size_t es)
{
    for (int64_t i = 0; i < n; i++)
        memcpy(dst + (size_t)i * es, v, es);
}

/* Output rows [begin, end): every index except the last dimension's. */
static void pad_rows(void *arg, int64_t begin, int64_t end)
{
    const pad_job *j = arg;
    const pad_params *p = j->p;
    int last = p->ndim - 1;
    int64_t w = p->out[last];
    size_t es = j->es;
    for (int64_t r = begin; r < end; r++) {
        char *dst = j->y + (size_t)(r * w) * es;
        int64_t off = 0, rem = r;
        int constant = 0;
        for (int d = last - 1; d >= 0; d--) {
            int64_t o = rem % p->out[d];
            rem /= p->out[d];
            int64_t i = pad_map(p, d, o);
            if (i < 0) {
                constant = 1;
                break;
            }
            off += i * j->xs[d];
        }
        if (constant) {
            fill_value(dst, w, j->cval, es);
            continue;
        }
        const char *src = j->x + (size_t)off * es;
        int64_t lead = p->lead[last], n = p->len[last];
        for (int64_t o = 0; o < lead; o++) {
            int64_t i = pad_map(p, last, o);
            memcpy(dst + (size_t)o * es, i < 0 ? j->cval : src + (size_t)i * es, es);
        }
        memcpy(dst + (size_t)lead * es, src + (size_t)p->crop0[last] * es, (size_t)n * es);
        for (int64_t o = lead + n; o < w; o++) {
            int64_t i = pad_map(p, last, o);
            memcpy(dst + (size_t)o * es, i < 0 ? j->cval : src + (size_t)i * es, es);
        }
    }
}

av_status av__shape_pad_run(const av__op_ctx *ctx)
{
    pad_params p;
    av_status st = pad_setup(ctx, &p);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    av__tensor *y = ctx->out[0];
    size_t es = av__dtype_size(x->dtype);
    /* the constant as one element of the data's type */
    uint64_t cbuf = 0;
    if (ctx->opset >= 11) {
        const av__tensor *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
        if (c && av__tensor_count(c) == 1)
            memcpy(&cbuf, c->data, es);
    } else {
        av__tensor ct = {.dtype = x->dtype, .ndim = 0, .data = &cbuf};
        av__tensor_set_f64(&ct, 0, av__attr_float(ctx->node, "value", 0.0f));
    }
    if (x->ndim == 0) {
        memcpy(y->data, x->data, es);
        return AV_STATUS_OK;
    }
    int64_t total = av__tensor_count(y);
    if (total == 0)
        return AV_STATUS_OK;
    pad_job j = {.p = &p, .x = x->data, .y = y->data, .es = es, .cval = &cbuf};
    av__shape_strides(x->ndim, x->shape, j.xs);
    int64_t w = p.out[p.ndim - 1], rows = total / w;
    int64_t grain = (1 << 15) / w + 1;
    av__parallel_for((uint64_t)total * es >= (1u << 18) ? ctx->pool : NULL, rows, grain, pad_rows,
                     &j);
    return AV_STATUS_OK;
}
