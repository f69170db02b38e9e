/* FusedConv (domain AV__DOMAIN_INTERNAL; node layout in conv_dnnl.h): attribute checking, shape
 * inference, and the per-plan oneDNN primitive (prepare / run / release). */
#include <string.h>

#include "ops/conv_dnnl.h"

static av__dnnl_act act_of(const char *s, float *alpha)
{
    if (!strcmp(s, "relu")) {
        *alpha = 0.0f;
        return AV__DNNL_ACT_RELU;
    }
    if (!strcmp(s, "leaky_relu"))
        return AV__DNNL_ACT_RELU;
    if (!strcmp(s, "tanh"))
        return AV__DNNL_ACT_TANH;
    if (!strcmp(s, "sigmoid"))
        return AV__DNNL_ACT_SIGMOID;
    if (!strcmp(s, "linear"))
        return AV__DNNL_ACT_LINEAR;
    if (!strcmp(s, "add"))
        return AV__DNNL_ACT_ADD;
    return AV__DNNL_ACT_NONE;
}

av_precision av__node_precision(const av__node *node)
{
    if (node->domain && !strcmp(node->domain, AV__DOMAIN_INTERNAL) &&
        !strcmp(node->op_type, AV__FUSED_CONV_OP))
        return (av_precision)av__attr_int(node, "precision", AV_PRECISION_FP32);
    return AV_PRECISION_FP32;
}

av_status av__fused_conv_desc(const av__op_ctx *ctx, av__dnnl_conv_desc *d)
{
    memset(d, 0, sizeof *d);
    const av__node *node = ctx->node;
    if (ctx->n_in < 2 || !ctx->in[0] || !ctx->in[1])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "needs inputs X and W");
    d->channels_last = (int)av__attr_int(node, "channels_last", 0);
    int64_t transpose = av__attr_int(node, "transpose", 0);
    int64_t prec = av__attr_int(node, "precision", AV_PRECISION_FP32);
    int64_t yt = av__attr_int(node, "y_type", AV__DT_F32);
    if ((d->channels_last != 0 && d->channels_last != 1) || (transpose != 0 && transpose != 1))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "channels_last and transpose are 0 or 1");
    if (prec != AV_PRECISION_FP32 && prec != AV_PRECISION_BF16 && prec != AV_PRECISION_INT8)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "precision %lld (fp32 1, bf16 3, int8 4)",
                           (long long)prec);
    if (yt != AV__DT_F32 && yt != AV__DT_BF16 && yt != AV__DT_I8)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "y_type %lld (float32, bfloat16, int8)",
                           (long long)yt);
    d->precision = (av_precision)prec;
    d->y_type = (av__dtype)yt;
    d->x_type = ctx->in[0]->dtype;
    d->x_scale = av__attr_float(node, "x_scale", 0.0f);
    int64_t zero = av__attr_int(node, "x_zero", -1);
    if (zero < -1 || zero > 255)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "x_zero %lld (0 to 255)", (long long)zero);
    d->x_zero = (int)zero;
    d->y_scale = av__attr_float(node, "y_scale", 0.0f);

    /* the convolution itself, through the ONNX operators' checks on a [N, C, sp...] float32 view
     * of X */
    const av__tensor *x = ctx->in[0];
    if (x->ndim < 3 || x->ndim > 5)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "X has rank %d (3 to 5)", x->ndim);
    av__tensor view = *x;
    view.dtype = AV__DT_F32;
    if (d->channels_last) {
        view.shape[1] = x->shape[x->ndim - 1];
        for (int i = 2; i < x->ndim; i++)
            view.shape[i] = x->shape[i - 1];
    }
    const av__tensor *in3[3] = {&view, ctx->in[1], ctx->n_in > 2 ? ctx->in[2] : NULL};
    av__op_ctx vctx = *ctx;
    vctx.in = in3;
    vctx.n_in = ctx->n_in > 2 ? 3 : 2;
    av_status st = av__conv_params_get(&vctx, (int)transpose, &d->p);
    if (st != AV_STATUS_OK)
        return st;

    const char *pre = av__attr_string(node, "pre", "");
    if (pre[0]) {
        d->pre.alpha = av__attr_float(node, "pre_alpha", 0.0f);
        d->pre.act = act_of(pre, &d->pre.alpha);
        if (d->pre.act != AV__DNNL_ACT_RELU)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "pre step \"%s\" (relu, leaky_relu)", pre);
    }
    const av__attr *post = av__node_attr(node, "post");
    int n_alpha = 0, n_beta = 0;
    const float *alpha = av__attr_floats(node, "post_alpha", &n_alpha);
    const float *beta = av__attr_floats(node, "post_beta", &n_beta);
    if (post) {
        if (post->type != AV__ATTR_STRINGS || post->count > AV__DNNL_MAX_POST)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "post must be at most %d strings",
                               AV__DNNL_MAX_POST);
        if (n_alpha != post->count || n_beta != post->count)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "post_alpha and post_beta need %d values each", post->count);
        d->n_post = post->count;
    }
    int adds = 0;
    for (int i = 0; i < d->n_post; i++) {
        d->post[i].alpha = alpha[i];
        d->post[i].beta = beta[i];
        d->post[i].act = act_of(post->strings[i] ? post->strings[i] : "", &d->post[i].alpha);
        if (d->post[i].act == AV__DNNL_ACT_NONE)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown post step \"%s\"",
                               post->strings[i] ? post->strings[i] : "");
        adds += d->post[i].act == AV__DNNL_ACT_ADD;
    }
    if (ctx->n_in != 3 + adds && !(adds == 0 && ctx->n_in == 2))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%d inputs; X, W, B and %d addends make %d",
                           ctx->n_in, adds, 3 + adds);
    return AV_STATUS_OK;
}

/* Y's shape in the node's layout. */
static void out_shape(const av__dnnl_conv_desc *d, int64_t *shape)
{
    const av__conv_params *p = &d->p;
    shape[0] = p->batch;
    for (int i = 0; i < p->nsp; i++)
        shape[(d->channels_last ? 1 : 2) + i] = p->out_sp[i];
    shape[d->channels_last ? p->nsp + 1 : 1] = p->out_ch;
}

static av_status fused_infer(const av__op_ctx *ctx)
{
    av__dnnl_conv_desc d;
    av_status st = av__fused_conv_desc(ctx, &d);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out != 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "has one output");
    int64_t shape[AV__MAX_DIMS];
    out_shape(&d, shape);
    for (int i = 3; i < ctx->n_in; i++) {
        const av__tensor *a = ctx->in[i];
        if (!a || a->dtype != AV__DT_F32 || a->ndim != d.p.nsp + 2 ||
            memcmp(a->shape, shape, (size_t)a->ndim * sizeof shape[0]) != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "addend %d must be float32 of the output's shape", i - 3);
    }
    ctx->out[0]->dtype = d.y_type;
    av__tensor_set_shape(ctx->out[0], d.p.nsp + 2, shape);
    return AV_STATUS_OK;
}

static av_status fused_prepare(const av__op_ctx *ctx, void **state)
{
    *state = NULL;
    av__dnnl_conv_desc d;
    av_status st = av__fused_conv_desc(ctx, &d);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (!ctx->in[1]->data || (b && !b->data))
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "W and B must be constants");
    av__dnnl_conv *c;
    st = av__dnnl_conv_create(&d, ctx->in[1]->data, b ? b->data : NULL,
                              av__threadpool_size(ctx->pool), &c, ctx->err, ctx->err_size);
    if (st == AV_STATUS_OK)
        *state = c;
    return st;
}

static void fused_release(void *state) { av__dnnl_conv_free(state); }

static size_t fused_scratch(const av__op_ctx *ctx)
{
    return ctx->state ? av__dnnl_conv_scratch(ctx->state) : 0;
}

static av_status fused_run(const av__op_ctx *ctx)
{
    if (!ctx->state)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "not prepared");
    const float *addends[AV__DNNL_MAX_POST];
    for (int i = 3; i < ctx->n_in && i - 3 < AV__DNNL_MAX_POST; i++)
        addends[i - 3] = ctx->in[i]->data;
    return av__dnnl_conv_run(ctx->state, ctx->in[0]->data, addends, ctx->out[0]->data,
                             ctx->scratch, ctx->pool, ctx->err, ctx->err_size);
}

const av__op_stateful av__ops_conv_internal[] = {
    {{AV__FUSED_CONV_OP, 0, AV__OP_STATEFUL, fused_infer, fused_run, fused_scratch}, fused_prepare,
     fused_release},
};
const int av__ops_conv_internal_count =
    sizeof av__ops_conv_internal / sizeof av__ops_conv_internal[0];
