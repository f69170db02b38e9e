/* The normalisations: LayerNormalization, InstanceNormalization, GroupNormalization,
 * BatchNormalization (inference), LpNormalization, MeanVarianceNormalization.
 *
 * Layer, Instance and Group normalisation all normalise contiguous rows: a row's mean and
 * variance are computed in double with two passes (sum, then the sum of squared deviations), so
 * rows of any length we meet keep a relative error far below float32's resolution; then
 *   y = (x - mean) * inv_std * scale[p] + bias[p]
 * is evaluated in double per element. Rows run in parallel on ctx->pool. float32 rows have
 * direct loops; other float types go through double chunks. */
#include <math.h>
#include <string.h>

#include "ops/reduce_internal.h"

static av_status check_float(const av__op_ctx *ctx, const av__tensor *t, const char *what)
{
    if (!av__rd_is_float(t->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s: %s must be float, not %s",
                           ctx->node->op_type, what, av__dtype_name(t->dtype));
    return AV_STATUS_OK;
}

static av_status check_same_type(const av__op_ctx *ctx, const av__tensor *t, av__dtype want,
                                 const char *what)
{
    if (t->dtype != want)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s: %s is %s, input is %s",
                           ctx->node->op_type, what, av__dtype_name(t->dtype),
                           av__dtype_name(want));
    return AV_STATUS_OK;
}

static av_status check_one_output(const av__op_ctx *ctx)
{
    if (ctx->n_out != 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s expects 1 output, has %d",
                           ctx->node->op_type, ctx->n_out);
    return AV_STATUS_OK;
}

static void same_as_input(const av__op_ctx *ctx)
{
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    av__tensor_set_shape(ctx->out[0], ctx->in[0]->ndim, ctx->in[0]->shape);
}

/* ---- row statistics and the affine map ------------------------------------------------------- */

static void stats_f32(const float *x, int64_t n, double *mean, double *var)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i];
    double m = (s0 + s1 + s2 + s3) / (double)n;
    s0 = s1 = s2 = s3 = 0;
    for (i = 0; i + 4 <= n; i += 4) {
        double d0 = x[i] - m, d1 = x[i + 1] - m, d2 = x[i + 2] - m, d3 = x[i + 3] - m;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < n; i++)
        s0 += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = (s0 + s1 + s2 + s3) / (double)n;
}

/* Mean and (biased) variance of n elements of x from flat index off (stride 1). */
static void stats_row(const av__tensor *x, int64_t off, int64_t n, double *mean, double *var)
{
    if (x->dtype == AV__DT_F32) {
        stats_f32((const float *)x->data + off, n, mean, var);
        return;
    }
    double buf[AV__RD_CHUNK], s = 0, q = 0;
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_f64(x, off + i, 1, m, buf);
        for (int64_t k = 0; k < m; k++)
            s += buf[k];
    }
    double mu = s / (double)n;
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_f64(x, off + i, 1, m, buf);
        for (int64_t k = 0; k < m; k++)
            q += (buf[k] - mu) * (buf[k] - mu);
    }
    *mean = mu;
    *var = q / (double)n;
}

/* y[off + i] = (x[off + i] - c) * a + b for i < n (stride 1). */
static void affine_seg(const av__tensor *x, av__tensor *y, int64_t off, int64_t n, double c,
                       double a, double b)
{
    if (x->dtype == AV__DT_F32 && y->dtype == AV__DT_F32) {
        const float *xp = (const float *)x->data + off;
        float *yp = (float *)y->data + off;
        for (int64_t i = 0; i < n; i++)
            yp[i] = (float)(((double)xp[i] - c) * a + b);
        return;
    }
    double buf[AV__RD_CHUNK];
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_f64(x, off + i, 1, m, buf);
        for (int64_t k = 0; k < m; k++)
            buf[k] = (buf[k] - c) * a + b;
        av__rd_store_f64(y, off + i, 1, m, buf);
    }
}

/* y = (x - c) * a * s[i] + t[i] over a row of n elements with per-position parameters. */
static void affine_vec(const av__tensor *x, av__tensor *y, int64_t off, int64_t n, double c,
                       double a, const double *s, const double *t)
{
    if (x->dtype == AV__DT_F32 && y->dtype == AV__DT_F32) {
        const float *xp = (const float *)x->data + off;
        float *yp = (float *)y->data + off;
        for (int64_t i = 0; i < n; i++)
            yp[i] = (float)(((double)xp[i] - c) * a * s[i] + t[i]);
        return;
    }
    double buf[AV__RD_CHUNK];
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_f64(x, off + i, 1, m, buf);
        for (int64_t k = 0; k < m; k++)
            buf[k] = (buf[k] - c) * a * s[i + k] + t[i + k];
        av__rd_store_f64(y, off + i, 1, m, buf);
    }
}

/* Normalises rows [begin, end) of `len` elements. The parameters of element e = r * len + i are
 * scale[p] and bias[p] with p = (e / pdiv) % pmod (NULL tensors: 1 and 0), or vscale[i] and
 * vbias[i] when those are set. */
typedef struct rows_job {
    const av__tensor *x;
    av__tensor *y;
    int64_t len;
    double eps;
    const av__tensor *scale, *bias;
    int64_t pdiv, pmod;
    const double *vscale, *vbias;
    av__tensor *mean_out, *inv_out; /* optional: one element per row */
} rows_job;

static void rows_worker(void *arg, int64_t begin, int64_t end)
{
    const rows_job *j = arg;
    int64_t len = j->len;
    for (int64_t r = begin; r < end; r++) {
        int64_t off = r * len;
        double mean, var;
        stats_row(j->x, off, len, &mean, &var);
        double inv = 1.0 / sqrt(var + j->eps);
        if (j->mean_out)
            av__tensor_set_f64(j->mean_out, r, mean);
        if (j->inv_out)
            av__tensor_set_f64(j->inv_out, r, inv);
        if (j->vscale) {
            affine_vec(j->x, j->y, off, len, mean, inv, j->vscale, j->vbias);
            continue;
        }
        for (int64_t i = 0; i < len;) {
            int64_t e = off + i;
            int64_t p = (e / j->pdiv) % j->pmod;
            int64_t seg = j->pdiv - e % j->pdiv;
            if (seg > len - i)
                seg = len - i;
            double s = j->scale ? av__tensor_get_f64(j->scale, p) : 1.0;
            double b = j->bias ? av__tensor_get_f64(j->bias, p) : 0.0;
            affine_seg(j->x, j->y, e, seg, mean, inv * s, b);
            i += seg;
        }
    }
}

static void run_rows(const av__op_ctx *ctx, rows_job *j, int64_t rows)
{
    if (rows == 0 || (j->len == 0 && !j->mean_out && !j->inv_out))
        return;
    av__parallel_for(ctx->pool, rows, av__rd_grain(j->len), rows_worker, j);
}

/* ---- LayerNormalization ---------------------------------------------------------------------- */

/* Whether shape p broadcasts unidirectionally to the trailing dims xs[0..n). */
static int broadcasts_to(const av__tensor *p, int n, const int64_t *xs)
{
    if (p->ndim > n)
        return 0;
    for (int i = 0; i < p->ndim; i++) {
        int64_t d = p->shape[p->ndim - 1 - i];
        if (d != 1 && d != xs[n - 1 - i])
            return 0;
    }
    return 1;
}

static av_status ln_axis(const av__op_ctx *ctx, int *axis)
{
    av_status st = av__rd_attr_type(ctx, "axis", AV__ATTR_INT);
    if (st != AV_STATUS_OK)
        return st;
    return av__rd_axis_attr(ctx, av__attr_int(ctx->node, "axis", -1), ctx->in[0]->ndim, axis);
}

av_status av__layernorm_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 2, 3);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    int axis;
    if ((st = check_float(ctx, x, "X")) != AV_STATUS_OK ||
        (st = ln_axis(ctx, &axis)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "epsilon", AV__ATTR_FLOAT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "stash_type", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    int64_t stash = av__attr_int(ctx->node, "stash_type", AV__DT_F32);
    if (stash != AV__DT_F32 && stash != AV__DT_BF16)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "stash_type %lld is not float or bfloat16",
                           (long long)stash);
    int n = x->ndim - axis;
    int64_t len = 1;
    for (int i = axis; i < x->ndim; i++)
        len *= x->shape[i];
    for (int i = 1; i < ctx->n_in; i++) {
        const av__tensor *p = ctx->in[i];
        const char *what = i == 1 ? "Scale" : "B";
        if (!p)
            continue;
        if ((st = check_same_type(ctx, p, x->dtype, what)) != AV_STATUS_OK)
            return st;
        int64_t cnt = av__tensor_count(p);
        if (cnt != len && cnt != 1 && !broadcasts_to(p, n, x->shape + axis))
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "%s (rank %d, %lld elements) does not broadcast to the %lld "
                               "normalised elements from axis %d",
                               what, p->ndim, (long long)cnt, (long long)len, axis);
    }
    if (ctx->n_out < 1 || ctx->n_out > 3 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects 1 to 3 outputs, has %d", ctx->n_out);
    same_as_input(ctx);
    int64_t stat_shape[AV__MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        stat_shape[i] = i < axis ? x->shape[i] : 1;
    for (int i = 1; i < ctx->n_out; i++)
        if (ctx->out[i]) {
            ctx->out[i]->dtype = (av__dtype)stash;
            av__tensor_set_shape(ctx->out[i], x->ndim, stat_shape);
        }
    return AV_STATUS_OK;
}

static int64_t ln_len(const av__op_ctx *ctx, int axis)
{
    int64_t len = 1;
    for (int i = axis; i < ctx->in[0]->ndim; i++)
        len *= ctx->in[0]->shape[i];
    return len;
}

size_t av__layernorm_scratch(const av__op_ctx *ctx)
{
    int axis = av__normalize_axis(av__attr_int(ctx->node, "axis", -1), ctx->in[0]->ndim);
    if (axis < 0)
        return 0;
    return 2 * (size_t)ln_len(ctx, axis) * sizeof(double);
}

/* Expands Scale or B (NULL: `def`) to one double per normalised position. */
static void ln_expand(const av__tensor *p, double def, int n, const int64_t *xs, int64_t len,
                      double *out)
{
    int64_t cnt = p ? av__tensor_count(p) : 0;
    if (!p || cnt == 1) {
        double v = p ? av__tensor_get_f64(p, 0) : def;
        for (int64_t i = 0; i < len; i++)
            out[i] = v;
    } else if (cnt == len) {
        av__rd_load_f64(p, 0, 1, len, out);
    } else { /* unidirectional broadcast to xs[0..n) */
        for (int64_t i = 0; i < len; i++) {
            int64_t rem = i, pi = 0, pstride = 1;
            for (int d = 0; d < n; d++) {
                int64_t xd = xs[n - 1 - d], idx = rem % xd;
                rem /= xd;
                if (d < p->ndim) {
                    int64_t pd = p->shape[p->ndim - 1 - d];
                    pi += (pd == 1 ? 0 : idx) * pstride;
                    pstride *= pd;
                }
            }
            out[i] = av__tensor_get_f64(p, pi);
        }
    }
}

av_status av__layernorm_run(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0];
    int axis;
    av_status st = ln_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    int64_t len = ln_len(ctx, axis), rows = av__tensor_count(x) / (len ? len : 1);
    if (len == 0) { /* rows are empty: their statistics are NaN */
        rows = 1;
        for (int i = 0; i < axis; i++)
            rows *= x->shape[i];
    }
    rows_job j = {x, ctx->out[0], len, av__attr_float(ctx->node, "epsilon", 1e-5f), NULL, NULL,
                  1, 1, NULL, NULL, ctx->n_out > 1 ? ctx->out[1] : NULL,
                  ctx->n_out > 2 ? ctx->out[2] : NULL};
    if (len > 0) {
        if (!ctx->scratch)
            return av__op_fail(ctx, AV_STATUS_INTERNAL, "LayerNormalization ran without scratch");
        double *vs = ctx->scratch, *vb = vs + len;
        ln_expand(ctx->in[1], 1.0, x->ndim - axis, x->shape + axis, len, vs);
        ln_expand(ctx->n_in > 2 ? ctx->in[2] : NULL, 0.0, x->ndim - axis, x->shape + axis, len, vb);
        j.vscale = vs;
        j.vbias = vb;
    }
    run_rows(ctx, &j, rows);
    return AV_STATUS_OK;
}

/* ---- InstanceNormalization and GroupNormalization -------------------------------------------- */

static int64_t spatial_size(const av__tensor *x)
{
    int64_t s = 1;
    for (int i = 2; i < x->ndim; i++)
        s *= x->shape[i];
    return s;
}

av_status av__instancenorm_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 3, 3);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if ((st = check_float(ctx, x, "input")) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "epsilon", AV__ATTR_FLOAT)) != AV_STATUS_OK)
        return st;
    if (x->ndim < 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input must be N x C x ..., has rank %d",
                           x->ndim);
    for (int i = 1; i < 3; i++) {
        const char *what = i == 1 ? "scale" : "B";
        if ((st = check_same_type(ctx, ctx->in[i], x->dtype, what)) != AV_STATUS_OK)
            return st;
        if (av__tensor_count(ctx->in[i]) != x->shape[1])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "%s has %lld elements, channels are %lld",
                               what, (long long)av__tensor_count(ctx->in[i]),
                               (long long)x->shape[1]);
    }
    if ((st = check_one_output(ctx)) != AV_STATUS_OK)
        return st;
    same_as_input(ctx);
    return AV_STATUS_OK;
}

av_status av__instancenorm_run(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0];
    int64_t C = x->shape[1], S = spatial_size(x);
    /* row r = n * C + c; its element e has p = (e / S) % C = c */
    rows_job j = {x, ctx->out[0], S, av__attr_float(ctx->node, "epsilon", 1e-5f), ctx->in[1],
                  ctx->in[2], S, C, NULL, NULL, NULL, NULL};
    run_rows(ctx, &j, x->shape[0] * C);
    return AV_STATUS_OK;
}

av_status av__groupnorm_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 3, 3);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if ((st = check_float(ctx, x, "X")) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "epsilon", AV__ATTR_FLOAT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "num_groups", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    if (x->ndim < 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "X must be N x C x ..., has rank %d", x->ndim);
    if (!av__node_attr(ctx->node, "num_groups"))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute num_groups is required");
    int64_t G = av__attr_int(ctx->node, "num_groups", 0), C = x->shape[1];
    if (G <= 0 || C % G != 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "num_groups %lld does not divide %lld channels",
                           (long long)G, (long long)C);
    for (int i = 1; i < 3; i++) {
        const char *what = i == 1 ? "scale" : "bias";
        if ((st = check_same_type(ctx, ctx->in[i], x->dtype, what)) != AV_STATUS_OK)
            return st;
        int64_t cnt = av__tensor_count(ctx->in[i]);
        /* opset 18: one per group; opset 21: one per channel. With G == C they agree. */
        if ((cnt != G || ctx->opset >= 21) && cnt != C)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "%s has %lld elements; expected num_groups (%lld) or channels "
                               "(%lld)", what, (long long)cnt, (long long)G, (long long)C);
    }
    if ((st = check_one_output(ctx)) != AV_STATUS_OK)
        return st;
    same_as_input(ctx);
    return AV_STATUS_OK;
}

av_status av__groupnorm_run(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0];
    int64_t G = av__attr_int(ctx->node, "num_groups", 1), C = x->shape[1], S = spatial_size(x);
    int64_t len = C / G * S;
    int per_group = av__tensor_count(ctx->in[1]) == G && ctx->opset < 21;
    /* row r = n * G + g; per group p = (e / len) % G, per channel p = (e / S) % C */
    rows_job j = {x, ctx->out[0], len, av__attr_float(ctx->node, "epsilon", 1e-5f), ctx->in[1],
                  ctx->in[2], per_group ? len : S, per_group ? G : C, NULL, NULL, NULL, NULL};
    run_rows(ctx, &j, x->shape[0] * G);
    return AV_STATUS_OK;
}

/* ---- BatchNormalization (inference) ---------------------------------------------------------- */

av_status av__batchnorm_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 5, 5);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if ((st = check_float(ctx, x, "X")) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "epsilon", AV__ATTR_FLOAT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "training_mode", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "is_test", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "spatial", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    int max_out = ctx->opset >= 14 ? 3 : 5;
    if (ctx->n_out < 1 || ctx->n_out > max_out || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects 1 to %d outputs at opset %lld, has %d",
                           max_out, (long long)ctx->opset, ctx->n_out);
    int extra = 0;
    for (int i = 1; i < ctx->n_out; i++)
        extra |= ctx->out[i] != NULL;
    if (ctx->opset >= 14) {
        if (av__attr_int(ctx->node, "training_mode", 0) != 0)
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                               "training_mode=1 is not supported (inference only)");
        if (extra)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "outputs running_mean/running_var exist only in training mode");
    } else if (extra) {
        /* Before opset 14 the extra outputs (mean, var, saved_mean, saved_var) are those of
         * training mode; only Y is defined in test mode. */
        if (ctx->opset <= 6 && av__attr_int(ctx->node, "is_test", 0) != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "is_test=1 but training-mode outputs (mean, var, ...) requested");
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "training mode (outputs mean, var, saved_mean, saved_var) is not "
                           "supported (inference only)");
    }
    if (x->ndim < 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "X must be N x C x ..., has rank %d", x->ndim);
    int64_t C = x->shape[1], feat = C * spatial_size(x);
    int spatial0 = ctx->opset < 9 && av__attr_int(ctx->node, "spatial", 1) == 0;
    static const char *const names[] = {"", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++) {
        if ((st = check_float(ctx, ctx->in[i], names[i])) != AV_STATUS_OK)
            return st;
        int64_t cnt = av__tensor_count(ctx->in[i]);
        if (cnt != (spatial0 ? feat : C))
            return av__op_fail(ctx, AV_STATUS_FORMAT, "%s has %lld elements, expected %lld",
                               names[i], (long long)cnt, (long long)(spatial0 ? feat : C));
    }
    same_as_input(ctx);
    return AV_STATUS_OK;
}

typedef struct bn_job {
    const av__tensor *x, *scale, *bias, *mean, *var;
    av__tensor *y;
    int64_t len, pdiv, pmod; /* as in rows_job */
    double eps;
} bn_job;

static void bn_worker(void *arg, int64_t begin, int64_t end)
{
    const bn_job *j = arg;
    for (int64_t r = begin; r < end; r++) {
        for (int64_t i = 0; i < j->len;) {
            int64_t e = r * j->len + i;
            int64_t p = (e / j->pdiv) % j->pmod;
            int64_t seg = j->pdiv - e % j->pdiv;
            if (seg > j->len - i)
                seg = j->len - i;
            double a = av__tensor_get_f64(j->scale, p) /
                       sqrt(av__tensor_get_f64(j->var, p) + j->eps);
            affine_seg(j->x, j->y, e, seg, av__tensor_get_f64(j->mean, p), a,
                       av__tensor_get_f64(j->bias, p));
            i += seg;
        }
    }
}

av_status av__batchnorm_run(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0];
    int64_t C = x->shape[1], S = spatial_size(x);
    int spatial0 = ctx->opset < 9 && av__attr_int(ctx->node, "spatial", 1) == 0;
    bn_job j = {x, ctx->in[1], ctx->in[2], ctx->in[3], ctx->in[4], ctx->out[0], S,
                spatial0 ? 1 : S, spatial0 ? C * S : C,
                av__attr_float(ctx->node, "epsilon", 1e-5f)};
    int64_t rows = x->shape[0] * C;
    if (rows == 0 || S == 0)
        return AV_STATUS_OK;
    av__parallel_for(ctx->pool, rows, av__rd_grain(S), bn_worker, &j);
    return AV_STATUS_OK;
}

/* ---- LpNormalization ------------------------------------------------------------------------- */

static av_status lp_params(const av__op_ctx *ctx, int *axis, int *p)
{
    av_status st;
    if ((st = av__rd_attr_type(ctx, "axis", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "p", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    int64_t pv = av__attr_int(ctx->node, "p", 2);
    if (pv != 1 && pv != 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "p = %lld; LpNormalization takes 1 or 2",
                           (long long)pv);
    *p = (int)pv;
    return av__rd_axis_attr(ctx, av__attr_int(ctx->node, "axis", -1), ctx->in[0]->ndim, axis);
}

av_status av__lpnorm_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    int axis, p;
    if ((st = check_float(ctx, ctx->in[0], "input")) != AV_STATUS_OK ||
        (st = lp_params(ctx, &axis, &p)) != AV_STATUS_OK ||
        (st = check_one_output(ctx)) != AV_STATUS_OK)
        return st;
    same_as_input(ctx);
    return AV_STATUS_OK;
}

typedef struct lp_job {
    const av__tensor *x;
    av__tensor *y;
    av__rd_axis v;
    int p;
} lp_job;

/* A zero vector maps to zeros (as onnxruntime does) rather than to 0/0. */
static void lp_worker(void *arg, int64_t begin, int64_t end)
{
    const lp_job *j = arg;
    int64_t n = j->v.n, inner = j->v.inner;
    double buf[AV__RD_CHUNK];
    for (int64_t line = begin; line < end; line++) {
        int64_t off = (line / inner) * n * inner + line % inner;
        double s = 0;
        for (int64_t k0 = 0; k0 < n; k0 += AV__RD_CHUNK) {
            int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
            av__rd_load_f64(j->x, off + k0 * inner, inner, m, buf);
            for (int64_t k = 0; k < m; k++)
                s += j->p == 1 ? fabs(buf[k]) : buf[k] * buf[k];
        }
        double norm = j->p == 1 ? s : sqrt(s);
        double inv = norm != 0 ? 1.0 / norm : 0.0;
        for (int64_t k0 = 0; k0 < n; k0 += AV__RD_CHUNK) {
            int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
            av__rd_load_f64(j->x, off + k0 * inner, inner, m, buf);
            for (int64_t k = 0; k < m; k++)
                buf[k] *= inv;
            av__rd_store_f64(j->y, off + k0 * inner, inner, m, buf);
        }
    }
}

av_status av__lpnorm_run(const av__op_ctx *ctx)
{
    int axis, p;
    av_status st = lp_params(ctx, &axis, &p);
    if (st != AV_STATUS_OK)
        return st;
    lp_job j = {ctx->in[0], ctx->out[0], av__rd_axis_view(ctx->in[0], axis), p};
    if (j.v.outer * j.v.n * j.v.inner == 0)
        return AV_STATUS_OK;
    av__parallel_for(ctx->pool, j.v.outer * j.v.inner, av__rd_grain(j.v.n), lp_worker, &j);
    return AV_STATUS_OK;
}

/* ---- MeanVarianceNormalization --------------------------------------------------------------- */

/* Y = (X - mean) / (sqrt(var) + 1e-9) over `axes` (default [0, 2, 3]), as the ONNX function
 * body, with the variance computed as the mean squared deviation (two passes) rather than
 * E[X^2] - E[X]^2, which can go negative. */
static av_status mvn_mask(const av__op_ctx *ctx, unsigned *mask)
{
    av_status st = av__rd_attr_type(ctx, "axes", AV__ATTR_INTS);
    if (st != AV_STATUS_OK)
        return st;
    static const int64_t def[] = {0, 2, 3};
    int count = 0, rank = ctx->in[0]->ndim;
    const int64_t *axes = av__attr_ints(ctx->node, "axes", &count);
    if (!av__node_attr(ctx->node, "axes")) {
        axes = def;
        count = 3;
    }
    unsigned m = 0;
    for (int i = 0; i < count; i++) {
        int a = av__normalize_axis(axes[i], rank);
        if (a < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "axes[%d] = %lld is out of range [%d, %d] for an input of rank %d",
                               i, (long long)axes[i], -rank, rank - 1, rank);
        if (m & (1u << a))
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld is repeated in axes",
                               (long long)axes[i]);
        m |= 1u << a;
    }
    *mask = m;
    return AV_STATUS_OK;
}

av_status av__mvn_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    unsigned mask;
    if ((st = check_float(ctx, ctx->in[0], "X")) != AV_STATUS_OK ||
        (st = mvn_mask(ctx, &mask)) != AV_STATUS_OK || (st = check_one_output(ctx)) != AV_STATUS_OK)
        return st;
    same_as_input(ctx);
    return AV_STATUS_OK;
}

typedef struct mvn_state {
    const av__tensor *x;
    av__tensor *y;
    int pass;          /* 0: sum, 1: squared deviations, 2: write y */
    double acc, mean, scale;
} mvn_state;

static void mvn_line(void *arg, int64_t off, int64_t stride, int64_t n)
{
    mvn_state *s = arg;
    double buf[AV__RD_CHUNK];
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_f64(s->x, off + i * stride, stride, m, buf);
        if (s->pass == 0) {
            for (int64_t k = 0; k < m; k++)
                s->acc += buf[k];
        } else if (s->pass == 1) {
            for (int64_t k = 0; k < m; k++)
                s->acc += (buf[k] - s->mean) * (buf[k] - s->mean);
        } else {
            for (int64_t k = 0; k < m; k++)
                buf[k] = (buf[k] - s->mean) * s->scale;
            av__rd_store_f64(s->y, off + i * stride, stride, m, buf);
        }
    }
}

typedef struct mvn_job {
    const av__rd_plan *p;
    const av__tensor *x;
    av__tensor *y;
} mvn_job;

static void mvn_worker(void *arg, int64_t begin, int64_t end)
{
    const mvn_job *j = arg;
    double cnt = (double)j->p->red_count;
    for (int64_t o = begin; o < end; o++) {
        mvn_state s = {j->x, j->y, 0, 0, 0, 0};
        av__rd_for_lines(j->p, o, mvn_line, &s);
        s.mean = s.acc / cnt;
        s.pass = 1;
        s.acc = 0;
        av__rd_for_lines(j->p, o, mvn_line, &s);
        s.scale = 1.0 / (sqrt(s.acc / cnt) + 1e-9);
        s.pass = 2;
        av__rd_for_lines(j->p, o, mvn_line, &s);
    }
}

av_status av__mvn_run(const av__op_ctx *ctx)
{
    unsigned mask;
    av_status st = mvn_mask(ctx, &mask);
    if (st != AV_STATUS_OK)
        return st;
    av__rd_plan p;
    av__rd_plan_init(&p, ctx->in[0]->ndim, ctx->in[0]->shape, mask);
    if (p.out_count == 0 || p.red_count == 0)
        return AV_STATUS_OK;
    mvn_job j = {&p, ctx->in[0], ctx->out[0]};
    av__parallel_for(ctx->pool, p.out_count, av__rd_grain(3 * p.red_count), mvn_worker, &j);
    return AV_STATUS_OK;
}
