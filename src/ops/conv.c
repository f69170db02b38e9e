/* The convolution / matrix family: Conv, ConvTranspose, MatMul, Gemm (ONNX opsets 1-18).
 * This file checks Conv / ConvTranspose nodes, infers their shapes, and sends float32 to the fast
 * kernels (conv_gemm.c) and float64 to the scalar references (conv_ref.c). MatMul and Gemm live
 * in conv_matmul.c. */
#include <string.h>

#include "ops/conv_internal.h"
#include "ops/families.h"

/* floor(a / b) for b > 0 */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Attribute values beyond this are rejected: it keeps every size expression below far from
 * int64 overflow (kernel extents are products of a tensor dimension and a dilation). */
#define ATTR_MAX ((int64_t)1 << 31)

typedef enum auto_pad { PAD_NOTSET, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID } auto_pad;

/* Reads an optional INTS attribute of exactly `want` values into out[] (def when absent),
 * checking each against [lo, ATTR_MAX]. `alt_want` > 0 also accepts that many values, of which
 * the last `want` are used (ConvTranspose's output_shape may include batch and channels). */
static av_status get_ints(const av__op_ctx *ctx, const char *name, int want, int alt_want,
                          int64_t lo, int64_t def, int64_t *out, int *present)
{
    const av__attr *a = av__node_attr(ctx->node, name);
    *present = 0;
    for (int i = 0; i < want; i++)
        out[i] = def;
    if (!a)
        return AV_STATUS_OK;
    if (a->type != AV__ATTR_INTS)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute %s must be a list of ints", name);
    int skip = 0;
    if (a->count == alt_want && alt_want > 0)
        skip = alt_want - want;
    else if (a->count != want)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute %s has %d values, expected %d",
                           name, a->count, want);
    for (int i = 0; i < want; i++) {
        int64_t v = a->ints[skip + i];
        if (v < lo || v > ATTR_MAX)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute %s[%d] = %lld is out of range",
                               name, skip + i, (long long)v);
        out[i] = v;
    }
    *present = 1;
    return AV_STATUS_OK;
}

static av_status get_auto_pad(const av__op_ctx *ctx, auto_pad *out)
{
    const av__attr *a = av__node_attr(ctx->node, "auto_pad");
    *out = PAD_NOTSET;
    if (!a)
        return AV_STATUS_OK;
    if (a->type != AV__ATTR_STRING)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute auto_pad must be a string");
    if (!strcmp(a->s, "NOTSET") || !a->s[0])
        *out = PAD_NOTSET;
    else if (!strcmp(a->s, "SAME_UPPER"))
        *out = PAD_SAME_UPPER;
    else if (!strcmp(a->s, "SAME_LOWER"))
        *out = PAD_SAME_LOWER;
    else if (!strcmp(a->s, "VALID"))
        *out = PAD_VALID;
    else
        return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown auto_pad \"%s\"", a->s);
    return AV_STATUS_OK;
}

/* Conv: output sizes and pads per spatial axis. */
static av_status conv_spatial(const av__op_ctx *ctx, av__conv_params *p, auto_pad ap,
                              const int64_t *pads)
{
    for (int d = 0; d < p->nsp; d++) {
        int64_t in = p->in_sp[d], s = p->stride[d];
        int64_t extent = (p->kernel[d] - 1) * p->dilation[d] + 1;
        int64_t pb = 0, pe = 0;
        if (ap == PAD_NOTSET) {
            pb = pads[d];
            pe = pads[p->nsp + d];
        } else if (ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
            int64_t out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + extent - in;
            if (total < 0)
                total = 0;
            pb = ap == PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
        }
        if (in + pb + pe < extent)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "kernel %lld (dilation %lld, extent %lld) is larger than the padded "
                               "input %lld (size %lld + pads %lld + %lld) on spatial axis %d",
                               (long long)p->kernel[d], (long long)p->dilation[d],
                               (long long)extent, (long long)(in + pb + pe), (long long)in,
                               (long long)pb, (long long)pe, d);
        p->pad_begin[d] = pb;
        p->pad_end[d] = pe;
        p->out_sp[d] = (in + pb + pe - extent) / s + 1;
    }
    return AV_STATUS_OK;
}

/* ConvTranspose: output sizes and pads per spatial axis (ONNX's formulas; pads derived from
 * output_shape or SAME may be negative, see av__conv_params). */
static av_status conv_transpose_spatial(const av__op_ctx *ctx, av__conv_params *p, auto_pad ap,
                                        const int64_t *pads)
{
    int64_t out_pad[AV__CONV_MAX_SPATIAL], out_shape[AV__CONV_MAX_SPATIAL];
    int has_out_pad, has_out_shape;
    av_status st = get_ints(ctx, "output_padding", p->nsp, 0, 0, 0, out_pad, &has_out_pad);
    if (st == AV_STATUS_OK)
        st = get_ints(ctx, "output_shape", p->nsp, p->nsp + 2, 1, 0, out_shape, &has_out_shape);
    if (st != AV_STATUS_OK)
        return st;
    for (int d = 0; d < p->nsp; d++) {
        int64_t in = p->in_sp[d], s = p->stride[d];
        int64_t extent = (p->kernel[d] - 1) * p->dilation[d] + 1;
        if (in > ((int64_t)1 << 60) / s)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "input size %lld x stride %lld is too large",
                               (long long)in, (long long)s);
        int64_t full = s * (in - 1) + out_pad[d] + extent; /* size before cropping by pads */
        int64_t out = 0, pb = 0, pe = 0;
        if (has_out_shape || ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
            out = has_out_shape ? out_shape[d] : in * s;
            int64_t total = full - out;
            int64_t half = floor_div(total, 2);
            pb = ap == PAD_SAME_UPPER ? half : total - half;
            pe = total - pb;
        } else {
            if (ap == PAD_NOTSET) {
                pb = pads[d];
                pe = pads[p->nsp + d];
            }
            out = full - pb - pe;
            if (out <= 0)
                return av__op_fail(ctx, AV_STATUS_FORMAT,
                                   "output size %lld <= 0 on spatial axis %d (input %lld, stride "
                                   "%lld, kernel extent %lld, output_padding %lld, pads %lld + "
                                   "%lld)",
                                   (long long)out, d, (long long)in, (long long)s,
                                   (long long)extent, (long long)out_pad[d], (long long)pb,
                                   (long long)pe);
        }
        p->pad_begin[d] = pb;
        p->pad_end[d] = pe;
        p->out_sp[d] = out;
    }
    return AV_STATUS_OK;
}

av_status av__conv_params_get(const av__op_ctx *ctx, int transpose, av__conv_params *p)
{
    memset(p, 0, sizeof *p);
    p->transpose = transpose;
    av_status st = av__op_check_inputs(ctx, 2, 3);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "has no output");
    const av__tensor *x = ctx->in[0], *w = ctx->in[1];
    const av__tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (x->dtype != AV__DT_F32 && x->dtype != AV__DT_F64)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "element type %s is not supported (float32, float64)",
                           av__dtype_name(x->dtype));
    if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input types differ: X %s, W %s%s%s",
                           av__dtype_name(x->dtype), av__dtype_name(w->dtype), b ? ", B " : "",
                           b ? av__dtype_name(b->dtype) : "");
    p->dtype = x->dtype;
    if (x->ndim < 3)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "X has rank %d; expected [batch, channels, spatial...] (rank >= 3)",
                           x->ndim);
    if (w->ndim != x->ndim)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "W has rank %d, X has rank %d: must be equal",
                           w->ndim, x->ndim);
    p->nsp = x->ndim - 2;

    int64_t group = av__attr_int(ctx->node, "group", 1);
    if (group < 1 || group > ATTR_MAX)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "group %lld must be >= 1", (long long)group);
    p->group = group;
    p->batch = x->shape[0];
    p->in_ch = x->shape[1];
    if (!transpose) {
        if (w->shape[1] * group != p->in_ch)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "W has %lld input channels per group x group %lld != %lld input "
                               "channels of X",
                               (long long)w->shape[1], (long long)group, (long long)p->in_ch);
        if (w->shape[0] % group != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "%lld output channels (W dim 0) are not divisible by group %lld",
                               (long long)w->shape[0], (long long)group);
        p->out_ch = w->shape[0];
    } else {
        if (w->shape[0] != p->in_ch)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "W dim 0 is %lld, X has %lld channels: must be equal",
                               (long long)w->shape[0], (long long)p->in_ch);
        if (p->in_ch % group != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "%lld input channels are not divisible by group %lld",
                               (long long)p->in_ch, (long long)group);
        p->out_ch = w->shape[1] * group;
    }
    if (b && (b->ndim != 1 || b->shape[0] != p->out_ch))
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "B must have shape [%lld] (output channels), has rank %d, first dim "
                           "%lld",
                           (long long)p->out_ch, b->ndim, (long long)(b->ndim ? b->shape[0] : 0));

    int present;
    int64_t ks[AV__CONV_MAX_SPATIAL], pads[2 * AV__CONV_MAX_SPATIAL];
    if ((st = get_ints(ctx, "kernel_shape", p->nsp, 0, 1, 0, ks, &present)) != AV_STATUS_OK)
        return st;
    p->in_size = p->out_size = p->kernel_size = 1;
    for (int d = 0; d < p->nsp; d++) {
        p->in_sp[d] = x->shape[2 + d];
        p->kernel[d] = w->shape[2 + d];
        if (p->kernel[d] < 1 || p->kernel[d] > ATTR_MAX)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "W has kernel size %lld on spatial axis %d",
                               (long long)p->kernel[d], d);
        if (present && ks[d] != p->kernel[d])
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "kernel_shape[%d] = %lld differs from W's kernel size %lld", d,
                               (long long)ks[d], (long long)p->kernel[d]);
        p->in_size *= p->in_sp[d];
        p->kernel_size *= p->kernel[d];
    }
    if ((st = get_ints(ctx, "strides", p->nsp, 0, 1, 1, p->stride, &present)) != AV_STATUS_OK ||
        (st = get_ints(ctx, "dilations", p->nsp, 0, 1, 1, p->dilation, &present)) !=
            AV_STATUS_OK ||
        (st = get_ints(ctx, "pads", 2 * p->nsp, 0, 0, 0, pads, &present)) != AV_STATUS_OK)
        return st;
    auto_pad ap;
    if ((st = get_auto_pad(ctx, &ap)) != AV_STATUS_OK)
        return st;
    st = transpose ? conv_transpose_spatial(ctx, p, ap, pads) : conv_spatial(ctx, p, ap, pads);
    if (st != AV_STATUS_OK)
        return st;
    /* in doubles: the products below may not fit int64 */
    double positions = 1;
    for (int d = 0; d < p->nsp; d++)
        positions *= (double)p->out_sp[d];
    double elems = positions * (double)p->batch * (double)p->out_ch;
    if (positions > 0x1p60 || elems > 0x1p60)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "output of %.0f elements is too large", elems);
    for (int d = 0; d < p->nsp; d++)
        p->out_size *= p->out_sp[d];
    return AV_STATUS_OK;
}

static void set_output(const av__op_ctx *ctx, const av__conv_params *p)
{
    int64_t shape[AV__MAX_DIMS];
    shape[0] = p->batch;
    shape[1] = p->out_ch;
    for (int d = 0; d < p->nsp; d++)
        shape[2 + d] = p->out_sp[d];
    ctx->out[0]->dtype = p->dtype;
    av__tensor_set_shape(ctx->out[0], p->nsp + 2, shape);
}

static av_status infer_common(const av__op_ctx *ctx, int transpose)
{
    av__conv_params p;
    av_status st = av__conv_params_get(ctx, transpose, &p);
    if (st == AV_STATUS_OK)
        set_output(ctx, &p);
    return st;
}

static av_status conv_infer(const av__op_ctx *ctx) { return infer_common(ctx, 0); }
static av_status conv_transpose_infer(const av__op_ctx *ctx) { return infer_common(ctx, 1); }

static size_t scratch_common(const av__op_ctx *ctx, int transpose)
{
    av__conv_params p;
    if (av__conv_params_get(ctx, transpose, &p) != AV_STATUS_OK || p.dtype != AV__DT_F32)
        return 0;
    return av__conv_fast_scratch(&p);
}

static size_t conv_scratch(const av__op_ctx *ctx) { return scratch_common(ctx, 0); }
static size_t conv_transpose_scratch(const av__op_ctx *ctx) { return scratch_common(ctx, 1); }

static const void *bias_data(const av__op_ctx *ctx)
{
    return ctx->n_in > 2 && ctx->in[2] ? ctx->in[2]->data : NULL;
}

/* `ref` forces the scalar reference; float64 always takes it. */
static av_status run_common(const av__op_ctx *ctx, int transpose, int ref)
{
    av__conv_params p;
    av_status st = av__conv_params_get(ctx, transpose, &p);
    if (st != AV_STATUS_OK)
        return st;
    const void *x = ctx->in[0]->data, *w = ctx->in[1]->data, *b = bias_data(ctx);
    void *y = ctx->out[0]->data;
    if (ref || p.dtype != AV__DT_F32) {
        if (transpose)
            av__conv_transpose_ref(&p, x, w, b, y);
        else
            av__conv_ref(&p, x, w, b, y);
        return AV_STATUS_OK;
    }
    if (av__conv_fast_scratch(&p) && !ctx->scratch)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "scratch buffer missing");
    if (transpose)
        av__conv_transpose_fast(&p, x, w, b, y, ctx->scratch, ctx->pool);
    else
        av__conv_fast(&p, x, w, b, y, ctx->scratch, ctx->pool);
    return AV_STATUS_OK;
}

static av_status conv_run(const av__op_ctx *ctx) { return run_common(ctx, 0, 0); }
static av_status conv_transpose_run(const av__op_ctx *ctx) { return run_common(ctx, 1, 0); }
static av_status conv_run_ref(const av__op_ctx *ctx) { return run_common(ctx, 0, 1); }
static av_status conv_transpose_run_ref(const av__op_ctx *ctx) { return run_common(ctx, 1, 1); }

const av__op av__ops_conv[] = {
    {"Conv", 0, 0, conv_infer, conv_run, conv_scratch},
    {"ConvTranspose", 0, 0, conv_transpose_infer, conv_transpose_run, conv_transpose_scratch},
    {"MatMul", 0, 0, av__matmul_infer, av__matmul_run, NULL},
    {"Gemm", 0, 0, av__gemm_infer, av__gemm_run, NULL},
};
const int av__ops_conv_count = sizeof av__ops_conv / sizeof av__ops_conv[0];

const av__op av__ops_conv_ref[] = {
    {"Conv", 0, 0, conv_infer, conv_run_ref, NULL},
    {"ConvTranspose", 0, 0, conv_transpose_infer, conv_transpose_run_ref, NULL},
    {"MatMul", 0, 0, av__matmul_infer, av__matmul_run_ref, NULL},
    {"Gemm", 0, 0, av__gemm_infer, av__gemm_run_ref, NULL},
};
const int av__ops_conv_ref_count = sizeof av__ops_conv_ref / sizeof av__ops_conv_ref[0];
