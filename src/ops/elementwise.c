/* The elementwise operator family: maps, broadcasting binary and variadic ops, Where, Clip,
 * Cast, Identity and Dropout. This file holds the drivers (infer() and run() per kind of op),
 * the broadcasting walk and the op table; the per-dtype kernels are in elementwise_math.c,
 * elementwise_vec.c and elementwise_cast.c.
 *
 * Type constraints follow the latest opset up to 18 (Gelu: 20) for every opset: a model that an
 * older opset forbids but a newer one allows (Add on int8 at opset 13, say) runs. Semantics that
 * changed with the opset are honoured: the legacy `broadcast`/`axis` attributes before opset 7,
 * Clip's attributes before 11, Dropout's attributes before 12 and its mask dtype before 10,
 * Cast's string `to` before 6.
 *
 * Work is split over ctx->pool in chunks of at least EW_GRAIN output elements. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/elementwise_internal.h"
#include "ops/families.h"

#define EW_GRAIN 16384

/* ---- messages and checks --------------------------------------------------------------------- */

/* Like av__op_fail, with the op type in front: "Add: input dtypes float32 and int64 differ". */
static av_status ew_fail(const av__op_ctx *ctx, av_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static av_status ew_fail(const av__op_ctx *ctx, av_status status, const char *fmt, ...)
{
    if (ctx->err && ctx->err_size) {
        int k = snprintf(ctx->err, ctx->err_size, "%s: ", ctx->node->op_type);
        if (k >= 0 && (size_t)k < ctx->err_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ctx->err + k, ctx->err_size - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return status;
}

/* "[3,4,5]" into buf. */
static const char *ew_shape_str(const av__tensor *t, char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = 0;
    k += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

static int ew_is_float(av__dtype t)
{
    return t == AV__DT_F32 || t == AV__DT_F64 || t == AV__DT_F16 || t == AV__DT_BF16;
}

static int ew_is_numeric(av__dtype t)
{
    return av__dtype_size(t) > 0 && t != AV__DT_BOOL;
}

/* Input/output counts, required inputs present, and every present input a tensor dtype the
 * engine holds (string: unsupported). Outputs past the first are optional. */
static av_status ew_check_io(const av__op_ctx *ctx, int min_in, int max_in, int max_out)
{
    if (ctx->n_in < min_in || ctx->n_in > max_in) {
        if (min_in == max_in)
            return ew_fail(ctx, AV_STATUS_FORMAT, "expects %d input(s), has %d", min_in,
                           ctx->n_in);
        if (max_in == INT_MAX)
            return ew_fail(ctx, AV_STATUS_FORMAT, "expects at least %d input(s), has %d",
                           min_in, ctx->n_in);
        return ew_fail(ctx, AV_STATUS_FORMAT, "expects %d to %d inputs, has %d", min_in, max_in,
                       ctx->n_in);
    }
    if (ctx->n_out < 1 || ctx->n_out > max_out)
        return ew_fail(ctx, AV_STATUS_FORMAT, "expects 1 to %d output(s), has %d", max_out,
                       ctx->n_out);
    for (int i = 0; i < ctx->n_in; i++) {
        const av__tensor *t = ctx->in[i];
        if (!t) {
            if (i < min_in)
                return ew_fail(ctx, AV_STATUS_FORMAT, "required input %d is missing", i);
            continue;
        }
        if (t->dtype == AV__DT_STRING)
            return ew_fail(ctx, AV_STATUS_UNSUPPORTED, "string tensors are not supported");
        if (av__dtype_size(t->dtype) == 0)
            return ew_fail(ctx, AV_STATUS_FORMAT, "input %d has unsupported dtype %d", i,
                           (int)t->dtype);
        if (t->ndim < 0 || t->ndim > AV__MAX_DIMS)
            return ew_fail(ctx, AV_STATUS_FORMAT, "input %d has rank %d", i, t->ndim);
    }
    return AV_STATUS_OK;
}

static av_status ew_bad_dtype(const av__op_ctx *ctx, av__dtype t)
{
    return ew_fail(ctx, AV_STATUS_FORMAT, "dtype %s is not supported", av__dtype_name(t));
}

static av_status ew_same_dtype(const av__op_ctx *ctx, const av__tensor *a, const av__tensor *b)
{
    if (a->dtype != b->dtype)
        return ew_fail(ctx, AV_STATUS_FORMAT, "input dtypes %s and %s differ",
                       av__dtype_name(a->dtype), av__dtype_name(b->dtype));
    return AV_STATUS_OK;
}

static void ew_set_out(const av__op_ctx *ctx, int i, av__dtype dtype, int ndim,
                       const int64_t *shape)
{
    if (i < ctx->n_out && ctx->out[i]) {
        ctx->out[i]->dtype = dtype;
        av__tensor_set_shape(ctx->out[i], ndim, shape);
    }
}

static int ew_same_shape(const av__tensor *a, const av__tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

/* Numpy broadcast of a's shape (ndim n, shape) with t's, in place. */
static av_status ew_broadcast_into(const av__op_ctx *ctx, int *n, int64_t *shape,
                                   const av__tensor *t)
{
    int64_t tmp[AV__MAX_DIMS];
    int m;
    av_status st = av__broadcast_shapes(*n, shape, t->ndim, t->shape, &m, tmp);
    if (st != AV_STATUS_OK) {
        char s1[160], s2[160];
        av__tensor a = {.ndim = *n};
        memcpy(a.shape, shape, sizeof(int64_t) * (size_t)*n);
        return ew_fail(ctx, st, "shapes %s and %s cannot be broadcast",
                       ew_shape_str(&a, s1, sizeof s1), ew_shape_str(t, s2, sizeof s2));
    }
    *n = m;
    memcpy(shape, tmp, sizeof(int64_t) * (size_t)m);
    return AV_STATUS_OK;
}

/* The output shape of a two-input op, and the tensor to read as b (*bv: b itself, or b viewed
 * with the rank of a under the legacy rules).
 * Before opset 7 (legacy != 0) Add, Pow, Equal, And, ... broadcast only when the attribute
 * broadcast=1: then b's dims line up with a's starting at `axis` (default: trailing) and the
 * output has a's shape; with broadcast=0 the shapes must match. From opset 7: numpy rules. */
static av_status ew_broadcast2(const av__op_ctx *ctx, int legacy, const av__tensor *a,
                              const av__tensor *b, av__tensor *bv, int *n, int64_t *shape)
{
    char s1[160], s2[160];
    *bv = *b;
    if (legacy && ctx->opset < 7) {
        if (av__attr_int(ctx->node, "broadcast", 0) == 0) {
            if (!ew_same_shape(a, b))
                return ew_fail(ctx, AV_STATUS_FORMAT, "shapes %s and %s differ and broadcast=0",
                               ew_shape_str(a, s1, sizeof s1), ew_shape_str(b, s2, sizeof s2));
        } else {
            int64_t axis = av__attr_int(ctx->node, "axis", a->ndim - b->ndim);
            if (axis < 0)
                axis += a->ndim;
            if (b->ndim > a->ndim || axis < 0 || axis + b->ndim > a->ndim)
                return ew_fail(ctx, AV_STATUS_FORMAT, "cannot broadcast %s onto %s at axis %lld",
                               ew_shape_str(b, s2, sizeof s2), ew_shape_str(a, s1, sizeof s1),
                               (long long)axis);
            bv->ndim = a->ndim;
            for (int k = 0; k < a->ndim; k++) {
                int64_t d = k >= axis && k < axis + b->ndim ? b->shape[k - axis] : 1;
                if (d != 1 && d != a->shape[k])
                    return ew_fail(ctx, AV_STATUS_FORMAT,
                                   "cannot broadcast %s onto %s at axis %lld",
                                   ew_shape_str(b, s2, sizeof s2),
                                   ew_shape_str(a, s1, sizeof s1), (long long)axis);
                bv->shape[k] = d;
            }
        }
        *n = a->ndim;
        memcpy(shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
        return AV_STATUS_OK;
    }
    *n = a->ndim;
    memcpy(shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
    return ew_broadcast_into(ctx, n, shape, b);
}

/* ---- broadcasting walk ----------------------------------------------------------------------- */

/* An output of `ndim` dims read from up to 3 inputs at element strides `stride` (0 on broadcast
 * dims). Built with size-1 dims dropped and dims merged where every input is contiguous across
 * them, so same-shape operands become one run and a scalar operand a stride of 0. The innermost
 * stride of every input is then 0 or 1. */
typedef struct ew_plan {
    int ndim;
    int n_in;
    int64_t shape[AV__MAX_DIMS];
    int64_t stride[3][AV__MAX_DIMS];
} ew_plan;

static void ew_plan_init(ew_plan *pl, int ndim, const int64_t *oshape, int n_in,
                         const av__tensor *const *in)
{
    int64_t st[3][AV__MAX_DIMS];
    for (int j = 0; j < n_in; j++) {
        int off = ndim - in[j]->ndim;
        int64_t s = 1;
        for (int k = ndim - 1; k >= 0; k--) {
            int64_t d = k >= off ? in[j]->shape[k - off] : 1;
            st[j][k] = d == 1 ? 0 : s;
            s *= d;
        }
    }
    int m = 0;
    for (int k = 0; k < ndim; k++) {
        if (oshape[k] == 1)
            continue;
        int merge = m > 0;
        for (int j = 0; j < n_in && merge; j++)
            merge = pl->stride[j][m - 1] == st[j][k] * oshape[k];
        if (merge) {
            pl->shape[m - 1] *= oshape[k];
            for (int j = 0; j < n_in; j++)
                pl->stride[j][m - 1] = st[j][k];
        } else {
            pl->shape[m] = oshape[k];
            for (int j = 0; j < n_in; j++)
                pl->stride[j][m] = st[j][k];
            m++;
        }
    }
    if (m == 0) {
        pl->shape[0] = 1;
        for (int j = 0; j < n_in; j++)
            pl->stride[j][0] = 0;
        m = 1;
    }
    pl->ndim = m;
    pl->n_in = n_in;
}

typedef struct ew_job ew_job;

/* Processes n outputs from flat output index o; input j starts at element off[j] and moves by
 * step[j] (0 or 1) per output. */
typedef void (*ew_row_fn)(const ew_job *job, int64_t o, const int64_t *off, const int64_t *step,
                          int64_t n);

struct ew_job {
    ew_plan plan;
    ew_row_fn row;
    char *out;
    size_t out_size;           /* bytes per output element */
    const char *in[3];
    size_t in_size[3];
    av__dtype in_dtype[3];
    av__ew_binary_fn binary;
    av__ew_unary_fn unary;
    av__ew_params params;
};

/* Walks output elements [begin, end) of the plan in runs along its innermost dim. */
static void ew_walk(void *arg, int64_t begin, int64_t end)
{
    const ew_job *job = arg;
    const ew_plan *pl = &job->plan;
    int d = pl->ndim;
    int64_t idx[AV__MAX_DIMS], off[3] = {0, 0, 0}, step[3] = {0, 0, 0};
    int64_t rem = begin;
    for (int k = d - 1; k >= 0; k--) {
        idx[k] = rem % pl->shape[k];
        rem /= pl->shape[k];
    }
    for (int j = 0; j < pl->n_in; j++) {
        step[j] = pl->stride[j][d - 1];
        for (int k = 0; k < d; k++)
            off[j] += idx[k] * pl->stride[j][k];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = pl->shape[d - 1] - idx[d - 1];
        if (n > end - pos)
            n = end - pos;
        job->row(job, pos, off, step, n);
        pos += n;
        idx[d - 1] += n;
        for (int j = 0; j < pl->n_in; j++)
            off[j] += n * step[j];
        for (int k = d - 1; k > 0 && idx[k] == pl->shape[k]; k--) {
            idx[k] = 0;
            idx[k - 1]++;
            for (int j = 0; j < pl->n_in; j++)
                off[j] += pl->stride[j][k - 1] - pl->shape[k] * pl->stride[j][k];
        }
    }
}

/* Runs job->row over an output of ndim/oshape read from in[0..n_in). */
static void ew_run_plan(const av__op_ctx *ctx, ew_job *job, int ndim, const int64_t *oshape,
                        int n_in, const av__tensor *const *in)
{
    ew_plan_init(&job->plan, ndim, oshape, n_in, in);
    int64_t total = 1;
    for (int k = 0; k < ndim; k++)
        total *= oshape[k];
    for (int j = 0; j < n_in; j++) {
        job->in[j] = in[j]->data;
        job->in_size[j] = av__dtype_size(in[j]->dtype);
        job->in_dtype[j] = in[j]->dtype;
    }
    if (total > 0)
        av__parallel_for(ctx->pool, total, EW_GRAIN, ew_walk, job);
}

static void ew_row_binary(const ew_job *job, int64_t o, const int64_t *off, const int64_t *step,
                          int64_t n)
{
    job->binary(job->out + o * (int64_t)job->out_size,
                job->in[0] + off[0] * (int64_t)job->in_size[0], step[0],
                job->in[1] + off[1] * (int64_t)job->in_size[1], step[1], n, &job->params);
}

static void ew_row_pow_mixed(const ew_job *job, int64_t o, const int64_t *off,
                             const int64_t *step, int64_t n)
{
    av__ew_pow_mixed(job->out + o * (int64_t)job->out_size, job->in_dtype[0],
                     job->in[0] + off[0] * (int64_t)job->in_size[0], step[0], job->in_dtype[1],
                     job->in[1] + off[1] * (int64_t)job->in_size[1], step[1], n);
}

#define EW_WHERE_LOOP(T)                                                                   \
    do {                                                                                   \
        T *o_ = (T *)(job->out + o * (int64_t)sizeof(T));                                  \
        const T *x_ = (const T *)job->in[1] + off[1], *y_ = (const T *)job->in[2] + off[2]; \
        for (int64_t i = 0; i < n; i++)                                                    \
            o_[i] = c[i * step[0]] ? x_[i * step[1]] : y_[i * step[2]];                    \
    } while (0)

static void ew_row_where(const ew_job *job, int64_t o, const int64_t *off, const int64_t *step,
                         int64_t n)
{
    const uint8_t *c = (const uint8_t *)job->in[0] + off[0];
    switch (job->out_size) {
    case 1: EW_WHERE_LOOP(uint8_t); break;
    case 2: EW_WHERE_LOOP(uint16_t); break;
    case 4: EW_WHERE_LOOP(uint32_t); break;
    default: EW_WHERE_LOOP(uint64_t); break;
    }
}

static void ew_flat_unary(void *arg, int64_t begin, int64_t end)
{
    const ew_job *job = arg;
    job->unary(job->out + begin * (int64_t)job->out_size,
               job->in[0] + begin * (int64_t)job->in_size[0], end - begin, &job->params);
}

/* out = f(x) elementwise, out and x of the same element count. */
static void ew_run_unary(const av__op_ctx *ctx, av__ew_unary_fn fn, const av__ew_params *p,
                         av__tensor *out, const av__tensor *x)
{
    ew_job job = {.unary = fn, .params = *p, .out = out->data,
                  .out_size = av__dtype_size(out->dtype), .in = {x->data},
                  .in_size = {av__dtype_size(x->dtype)}};
    int64_t n = av__tensor_count(x);
    if (n > 0)
        av__parallel_for(ctx->pool, n, EW_GRAIN, ew_flat_unary, &job);
}

/* out = f(a, b) with broadcasting into out's shape. */
static void ew_run_binary(const av__op_ctx *ctx, av__ew_binary_fn fn, const av__ew_params *p,
                          av__tensor *out, const av__tensor *a, const av__tensor *b)
{
    ew_job job = {.row = ew_row_binary, .binary = fn, .params = *p, .out = out->data,
                  .out_size = av__dtype_size(out->dtype)};
    const av__tensor *in[2] = {a, b};
    ew_run_plan(ctx, &job, out->ndim, out->shape, 2, in);
}

static void ew_copy(av__tensor *out, const av__tensor *x)
{
    size_t bytes = av__tensor_bytes(x);
    if (bytes)
        memcpy(out->data, x->data, bytes);
}

/* ---- unary maps ------------------------------------------------------------------------------ */

/* The kernel variant an attribute selects (Gelu's `approximate`). */
static av_status ew_unary_resolve(const av__op_ctx *ctx, av__ew_unop op, av__ew_unop *out)
{
    *out = op;
    if (op == AV__EW_GELU) {
        const char *a = av__attr_string(ctx->node, "approximate", "none");
        if (strcmp(a, "tanh") == 0)
            *out = AV__EW_GELU_TANH;
        else if (strcmp(a, "none") != 0)
            return ew_fail(ctx, AV_STATUS_FORMAT,
                           "approximate must be \"none\" or \"tanh\", is \"%s\"", a);
    }
    return AV_STATUS_OK;
}

void av__ew_unary_params(const av__node *node, av__ew_unop op, av__ew_params *p)
{
    memset(p, 0, sizeof *p);
    float alpha_default = 1.0f;
    if (op == AV__EW_LEAKY_RELU)
        alpha_default = 0.01f;
    else if (op == AV__EW_HARD_SIGMOID)
        alpha_default = 0.2f;
    else if (op == AV__EW_SELU)
        alpha_default = 1.67326319217681884765625f;
    p->alpha = av__attr_float(node, "alpha", alpha_default);
    p->beta = av__attr_float(node, "beta", 0.5f);
    p->gamma = av__attr_float(node, "gamma", 1.05070102214813232421875f);
    p->lambd = av__attr_float(node, "lambd", 0.5f);
    p->bias = av__attr_float(node, "bias", 0.0f);
    p->detect_positive = av__attr_int(node, "detect_positive", 1) != 0;
    p->detect_negative = av__attr_int(node, "detect_negative", 1) != 0;
}

static av_status ew_unary_infer(const av__op_ctx *ctx, av__ew_unop op)
{
    av_status st = ew_check_io(ctx, 1, 1, 1);
    if (st == AV_STATUS_OK)
        st = ew_unary_resolve(ctx, op, &op);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!av__ew_unary_kernel(op, x->dtype))
        return ew_bad_dtype(ctx, x->dtype);
    av__dtype dt = op == AV__EW_ISNAN || op == AV__EW_ISINF ? AV__DT_BOOL : x->dtype;
    ew_set_out(ctx, 0, dt, x->ndim, x->shape);
    return AV_STATUS_OK;
}

static av_status ew_unary_run(const av__op_ctx *ctx, av__ew_unop op)
{
    av_status st = ew_unary_resolve(ctx, op, &op);
    if (st != AV_STATUS_OK)
        return st;
    av__ew_unary_fn fn = av__ew_unary_kernel(op, ctx->in[0]->dtype);
    if (!fn)
        return ew_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    if (!ctx->out[0])
        return AV_STATUS_OK;
    av__ew_params p;
    av__ew_unary_params(ctx->node, op, &p);
    ew_run_unary(ctx, fn, &p, ctx->out[0], ctx->in[0]);
    return AV_STATUS_OK;
}

/* ---- binary ops ------------------------------------------------------------------------------ */

enum {
    EW_LEGACY = 1u << 0,   /* `broadcast`/`axis` attributes before opset 7 */
    EW_BOOL_OUT = 1u << 1  /* comparisons and logical ops */
};

/* The kernel variant attributes select (Mod's fmod, BitShift's direction). */
static av_status ew_binary_resolve(const av__op_ctx *ctx, av__ew_binop op, av__dtype t,
                                   av__ew_binop *out)
{
    *out = op;
    if (op == AV__EW_MOD) {
        int64_t fmod = av__attr_int(ctx->node, "fmod", 0);
        if (fmod != 0 && fmod != 1)
            return ew_fail(ctx, AV_STATUS_FORMAT, "fmod must be 0 or 1, is %lld",
                           (long long)fmod);
        if (fmod == 0 && ew_is_float(t))
            return ew_fail(ctx, AV_STATUS_FORMAT, "fmod must be 1 for %s inputs",
                           av__dtype_name(t));
        if (fmod)
            *out = AV__EW_FMOD;
    } else if (op == AV__EW_SHL) {
        const char *dir = av__attr_string(ctx->node, "direction", "");
        if (strcmp(dir, "RIGHT") == 0)
            *out = AV__EW_SHR;
        else if (strcmp(dir, "LEFT") != 0)
            return ew_fail(ctx, AV_STATUS_FORMAT,
                           "direction must be \"LEFT\" or \"RIGHT\", is \"%s\"", dir);
    }
    return AV_STATUS_OK;
}

static av_status ew_binary_infer(const av__op_ctx *ctx, av__ew_binop op, unsigned flags)
{
    av_status st = ew_check_io(ctx, 2, 2, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    if ((st = ew_same_dtype(ctx, a, b)) != AV_STATUS_OK ||
        (st = ew_binary_resolve(ctx, op, a->dtype, &op)) != AV_STATUS_OK)
        return st;
    if (!av__ew_binary_kernel(op, a->dtype))
        return ew_bad_dtype(ctx, a->dtype);
    int n;
    int64_t shape[AV__MAX_DIMS];
    av__tensor bv;
    if ((st = ew_broadcast2(ctx, flags & EW_LEGACY, a, b, &bv, &n, shape)) != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, flags & EW_BOOL_OUT ? AV__DT_BOOL : a->dtype, n, shape);
    return AV_STATUS_OK;
}

static av_status ew_binary_run(const av__op_ctx *ctx, av__ew_binop op, unsigned flags)
{
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    av_status st = ew_binary_resolve(ctx, op, a->dtype, &op);
    if (st != AV_STATUS_OK)
        return st;
    av__ew_binary_fn fn = av__ew_binary_kernel(op, a->dtype);
    int n;
    int64_t shape[AV__MAX_DIMS];
    av__tensor bv;
    if (!fn || ew_broadcast2(ctx, flags & EW_LEGACY, a, b, &bv, &n, shape) != AV_STATUS_OK)
        return ew_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    if (!ctx->out[0])
        return AV_STATUS_OK;
    av__ew_params p = {0};
    ew_run_binary(ctx, fn, &p, ctx->out[0], a, &bv);
    return AV_STATUS_OK;
}

/* Pow: base and exponent dtypes may differ (opset 12 on; accepted at every opset). */
static av_status ew_pow_check(const av__op_ctx *ctx)
{
    av__dtype tb = ctx->in[0]->dtype, te = ctx->in[1]->dtype;
    if (!ew_is_float(tb) && tb != AV__DT_I32 && tb != AV__DT_I64)
        return ew_fail(ctx, AV_STATUS_FORMAT, "base dtype %s is not supported",
                       av__dtype_name(tb));
    if (!ew_is_numeric(te))
        return ew_fail(ctx, AV_STATUS_FORMAT, "exponent dtype %s is not supported",
                       av__dtype_name(te));
    return AV_STATUS_OK;
}

static av_status ew_infer_Pow(const av__op_ctx *ctx)
{
    av_status st = ew_check_io(ctx, 2, 2, 1);
    if (st == AV_STATUS_OK)
        st = ew_pow_check(ctx);
    if (st != AV_STATUS_OK)
        return st;
    int n;
    int64_t shape[AV__MAX_DIMS];
    av__tensor bv;
    if ((st = ew_broadcast2(ctx, 1, ctx->in[0], ctx->in[1], &bv, &n, shape)) != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, ctx->in[0]->dtype, n, shape);
    return AV_STATUS_OK;
}

static av_status ew_run_Pow(const av__op_ctx *ctx)
{
    const av__tensor *a = ctx->in[0], *b = ctx->in[1];
    int n;
    int64_t shape[AV__MAX_DIMS];
    av__tensor bv;
    if (ew_pow_check(ctx) != AV_STATUS_OK ||
        ew_broadcast2(ctx, 1, a, b, &bv, &n, shape) != AV_STATUS_OK)
        return ew_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    av__tensor *out = ctx->out[0];
    if (!out)
        return AV_STATUS_OK;
    if (a->dtype == b->dtype) {
        av__ew_params p = {0};
        ew_run_binary(ctx, av__ew_binary_kernel(AV__EW_POW, a->dtype), &p, out, a, &bv);
        return AV_STATUS_OK;
    }
    ew_job job = {.row = ew_row_pow_mixed, .out = out->data,
                  .out_size = av__dtype_size(out->dtype)};
    const av__tensor *in[2] = {a, &bv};
    ew_run_plan(ctx, &job, out->ndim, out->shape, 2, in);
    return AV_STATUS_OK;
}

/* PRelu: slope broadcasts to X's shape (unidirectional); the output has X's shape. Before
 * opset 7 a 1-D slope of X's channel count (dim 1) also applies per channel. */
static av_status ew_prelu_slope(const av__op_ctx *ctx, av__tensor *sv)
{
    const av__tensor *x = ctx->in[0], *s = ctx->in[1];
    char s1[160], s2[160];
    int n;
    int64_t shape[AV__MAX_DIMS];
    *sv = *s;
    if (ctx->opset < 7 && s->ndim == 1 && x->ndim >= 2 && s->shape[0] == x->shape[1] &&
        s->shape[0] != 1) {
        sv->ndim = x->ndim - 1;
        for (int k = 1; k < sv->ndim; k++)
            sv->shape[k] = 1;
        return AV_STATUS_OK;
    }
    if (av__broadcast_shapes(x->ndim, x->shape, s->ndim, s->shape, &n, shape) != AV_STATUS_OK ||
        n != x->ndim || memcmp(shape, x->shape, sizeof(int64_t) * (size_t)n) != 0)
        return ew_fail(ctx, AV_STATUS_FORMAT, "slope %s does not broadcast to X %s",
                       ew_shape_str(s, s2, sizeof s2), ew_shape_str(x, s1, sizeof s1));
    return AV_STATUS_OK;
}

static av_status ew_infer_PRelu(const av__op_ctx *ctx)
{
    av_status st = ew_check_io(ctx, 2, 2, 1);
    if (st == AV_STATUS_OK)
        st = ew_same_dtype(ctx, ctx->in[0], ctx->in[1]);
    if (st != AV_STATUS_OK)
        return st;
    if (!av__ew_binary_kernel(AV__EW_PRELU, ctx->in[0]->dtype))
        return ew_bad_dtype(ctx, ctx->in[0]->dtype);
    av__tensor sv;
    if ((st = ew_prelu_slope(ctx, &sv)) != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, ctx->in[0]->shape);
    return AV_STATUS_OK;
}

static av_status ew_run_PRelu(const av__op_ctx *ctx)
{
    av__ew_binary_fn fn = av__ew_binary_kernel(AV__EW_PRELU, ctx->in[0]->dtype);
    av__tensor sv;
    if (!fn || ew_prelu_slope(ctx, &sv) != AV_STATUS_OK)
        return ew_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    if (ctx->out[0]) {
        av__ew_params p = {0};
        ew_run_binary(ctx, fn, &p, ctx->out[0], ctx->in[0], &sv);
    }
    return AV_STATUS_OK;
}

/* ---- variadic: Sum, Mean, Max, Min ----------------------------------------------------------- */

static av_status ew_variadic_infer(const av__op_ctx *ctx, av__ew_binop op, int float_only)
{
    av_status st = ew_check_io(ctx, 1, INT_MAX, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *a = ctx->in[0];
    int n = a->ndim;
    int64_t shape[AV__MAX_DIMS];
    memcpy(shape, a->shape, sizeof(int64_t) * (size_t)n);
    for (int i = 1; i < ctx->n_in; i++) {
        if (!ctx->in[i])
            return ew_fail(ctx, AV_STATUS_FORMAT, "input %d is missing", i);
        if ((st = ew_same_dtype(ctx, a, ctx->in[i])) != AV_STATUS_OK ||
            (st = ew_broadcast_into(ctx, &n, shape, ctx->in[i])) != AV_STATUS_OK)
            return st;
    }
    if (!av__ew_binary_kernel(op, a->dtype) || (float_only && !ew_is_float(a->dtype)))
        return ew_bad_dtype(ctx, a->dtype);
    ew_set_out(ctx, 0, a->dtype, n, shape);
    return AV_STATUS_OK;
}

/* Folds the inputs left to right into the output: out = in0 op in1, then out = out op in_k
 * (each step reads out[i] before writing it, so the aliasing is harmless). Mean divides last. */
static av_status ew_variadic_run(const av__op_ctx *ctx, av__ew_binop op, int mean)
{
    av__tensor *out = ctx->out[0];
    av__ew_binary_fn fn = av__ew_binary_kernel(op, ctx->in[0]->dtype);
    if (!fn)
        return ew_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    if (!out)
        return AV_STATUS_OK;
    av__ew_params p = {0};
    if (ctx->n_in == 1) {
        ew_copy(out, ctx->in[0]);
        return AV_STATUS_OK;
    }
    ew_run_binary(ctx, fn, &p, out, ctx->in[0], ctx->in[1]);
    for (int i = 2; i < ctx->n_in; i++)
        ew_run_binary(ctx, fn, &p, out, out, ctx->in[i]);
    if (mean) {
        uint64_t storage = 0;
        av__tensor count = {.dtype = out->dtype, .ndim = 0, .data = &storage};
        av__ew_store_f64(&storage, out->dtype, 0, (double)ctx->n_in);
        ew_run_binary(ctx, av__ew_binary_kernel(AV__EW_DIV, out->dtype), &p, out, out, &count);
    }
    return AV_STATUS_OK;
}

/* ---- Where ----------------------------------------------------------------------------------- */

static av_status ew_where_shape(const av__op_ctx *ctx, int *n, int64_t *shape)
{
    const av__tensor *c = ctx->in[0];
    *n = c->ndim;
    memcpy(shape, c->shape, sizeof(int64_t) * (size_t)c->ndim);
    av_status st = ew_broadcast_into(ctx, n, shape, ctx->in[1]);
    if (st == AV_STATUS_OK)
        st = ew_broadcast_into(ctx, n, shape, ctx->in[2]);
    return st;
}

static av_status ew_infer_Where(const av__op_ctx *ctx)
{
    av_status st = ew_check_io(ctx, 3, 3, 1);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->in[0]->dtype != AV__DT_BOOL)
        return ew_fail(ctx, AV_STATUS_FORMAT, "condition dtype is %s, not bool",
                       av__dtype_name(ctx->in[0]->dtype));
    if ((st = ew_same_dtype(ctx, ctx->in[1], ctx->in[2])) != AV_STATUS_OK)
        return st;
    int n;
    int64_t shape[AV__MAX_DIMS];
    if ((st = ew_where_shape(ctx, &n, shape)) != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, ctx->in[1]->dtype, n, shape);
    return AV_STATUS_OK;
}

static av_status ew_run_Where(const av__op_ctx *ctx)
{
    av__tensor *out = ctx->out[0];
    if (!out)
        return AV_STATUS_OK;
    ew_job job = {.row = ew_row_where, .out = out->data, .out_size = av__dtype_size(out->dtype)};
    ew_run_plan(ctx, &job, out->ndim, out->shape, 3, ctx->in);
    return AV_STATUS_OK;
}

/* ---- Clip ------------------------------------------------------------------------------------ */

static void ew_bound_value(av__ew_bound *b, double d, int64_t i)
{
    b->d = d;
    b->f = (float)d;
    b->i = i;
    b->u = (uint64_t)i; /* uint64 bounds load wrapped; this undoes it */
}

static void ew_bound_tensor(av__ew_bound *b, const av__tensor *t)
{
    ew_bound_value(b, av__ew_load_f64(t->data, t->dtype, 0), av__ew_load_i64(t->data, t->dtype, 0));
}

static av_status ew_infer_Clip(const av__op_ctx *ctx)
{
    int legacy = ctx->opset < 11;
    av_status st = ew_check_io(ctx, 1, legacy ? 1 : 3, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!av__ew_unary_kernel(AV__EW_CLIP, x->dtype) || (legacy && !ew_is_float(x->dtype)))
        return ew_bad_dtype(ctx, x->dtype);
    for (int i = 1; i < ctx->n_in; i++) {
        const av__tensor *b = ctx->in[i];
        if (!b)
            continue;
        if ((st = ew_same_dtype(ctx, x, b)) != AV_STATUS_OK)
            return st;
        if (av__tensor_count(b) != 1)
            return ew_fail(ctx, AV_STATUS_FORMAT, "%s must be a scalar, has %lld elements",
                           i == 1 ? "min" : "max", (long long)av__tensor_count(b));
    }
    ew_set_out(ctx, 0, x->dtype, x->ndim, x->shape);
    return AV_STATUS_OK;
}

static av_status ew_run_Clip(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0];
    av__ew_unary_fn fn = av__ew_unary_kernel(AV__EW_CLIP, x->dtype);
    if (!fn)
        return ew_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    if (!ctx->out[0])
        return AV_STATUS_OK;
    av__ew_params p = {0};
    if (ctx->opset < 11) { /* attributes, defaulting to the float range */
        ew_bound_value(&p.lo, av__attr_float(ctx->node, "min", -FLT_MAX), 0);
        ew_bound_value(&p.hi, av__attr_float(ctx->node, "max", FLT_MAX), 0);
    } else {
        ew_bound_value(&p.lo, -INFINITY, INT64_MIN);
        ew_bound_value(&p.hi, INFINITY, INT64_MAX);
        p.lo.u = 0;
        p.hi.u = UINT64_MAX;
        if (ctx->n_in > 1 && ctx->in[1])
            ew_bound_tensor(&p.lo, ctx->in[1]);
        if (ctx->n_in > 2 && ctx->in[2])
            ew_bound_tensor(&p.hi, ctx->in[2]);
    }
    ew_run_unary(ctx, fn, &p, ctx->out[0], x);
    return AV_STATUS_OK;
}

/* ---- Cast, CastLike -------------------------------------------------------------------------- */

/* TensorProto.DataType names, for Cast's string `to` before opset 6. */
static int ew_dtype_from_name(const char *s)
{
    static const struct { const char *name; av__dtype t; } names[] = {
        {"FLOAT", AV__DT_F32}, {"UINT8", AV__DT_U8}, {"INT8", AV__DT_I8},
        {"UINT16", AV__DT_U16}, {"INT16", AV__DT_I16}, {"INT32", AV__DT_I32},
        {"INT64", AV__DT_I64}, {"STRING", AV__DT_STRING}, {"BOOL", AV__DT_BOOL},
        {"FLOAT16", AV__DT_F16}, {"DOUBLE", AV__DT_F64}, {"UINT32", AV__DT_U32},
        {"UINT64", AV__DT_U64}, {"BFLOAT16", AV__DT_BF16},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].t;
    return -1;
}

static av_status ew_cast_target(const av__op_ctx *ctx, av__dtype *out)
{
    const av__attr *a = av__node_attr(ctx->node, "to");
    int64_t to = -1;
    if (a && a->type == AV__ATTR_INT)
        to = a->i;
    else if (a && a->type == AV__ATTR_STRING && a->s)
        to = ew_dtype_from_name(a->s);
    else
        return ew_fail(ctx, AV_STATUS_FORMAT, "attribute 'to' is missing");
    if (to == AV__DT_STRING)
        return ew_fail(ctx, AV_STATUS_UNSUPPORTED, "casts to string are not supported");
    if (to <= 0 || to > 22) /* 22: the highest TensorProto.DataType as of ONNX 1.16 */
        return ew_fail(ctx, AV_STATUS_FORMAT, "'to' is not a tensor dtype");
    if (av__dtype_size((av__dtype)to) == 0) /* complex, float8, 4-bit */
        return ew_fail(ctx, AV_STATUS_UNSUPPORTED, "cast to dtype %lld is not supported",
                       (long long)to);
    *out = (av__dtype)to;
    return AV_STATUS_OK;
}

static av_status ew_infer_Cast(const av__op_ctx *ctx)
{
    av__dtype to = AV__DT_UNDEFINED;
    av_status st = ew_check_io(ctx, 1, 1, 1);
    if (st == AV_STATUS_OK)
        st = ew_cast_target(ctx, &to);
    if (st != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, to, ctx->in[0]->ndim, ctx->in[0]->shape);
    return AV_STATUS_OK;
}

static void ew_cast_chunk(void *arg, int64_t begin, int64_t end)
{
    const ew_job *job = arg;
    av__ew_cast(job->out + begin * (int64_t)job->out_size, job->in_dtype[1],
                job->in[0] + begin * (int64_t)job->in_size[0], job->in_dtype[0], end - begin);
}

/* out = x converted to out's dtype. */
static void ew_cast_tensor(const av__op_ctx *ctx, av__tensor *out, const av__tensor *x)
{
    ew_job job = {.out = out->data, .out_size = av__dtype_size(out->dtype), .in = {x->data},
                  .in_size = {av__dtype_size(x->dtype)}, .in_dtype = {x->dtype, out->dtype}};
    int64_t n = av__tensor_count(x);
    if (n > 0)
        av__parallel_for(ctx->pool, n, EW_GRAIN, ew_cast_chunk, &job);
}

static av_status ew_run_Cast(const av__op_ctx *ctx)
{
    if (ctx->out[0])
        ew_cast_tensor(ctx, ctx->out[0], ctx->in[0]);
    return AV_STATUS_OK;
}

static av_status ew_infer_CastLike(const av__op_ctx *ctx)
{
    av_status st = ew_check_io(ctx, 2, 2, 1);
    if (st != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, ctx->in[1]->dtype, ctx->in[0]->ndim, ctx->in[0]->shape);
    return AV_STATUS_OK;
}

#define ew_run_CastLike ew_run_Cast

/* ---- Identity, Dropout ----------------------------------------------------------------------- */

static av_status ew_infer_Identity(const av__op_ctx *ctx)
{
    av_status st = ew_check_io(ctx, 1, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, ctx->in[0]->shape);
    return AV_STATUS_OK;
}

static av_status ew_run_Identity(const av__op_ctx *ctx)
{
    if (ctx->out[0])
        ew_copy(ctx->out[0], ctx->in[0]);
    return AV_STATUS_OK;
}

/* Dropout runs in inference mode: output = input, mask all true. From opset 12 a training_mode
 * input that is true with a non-zero ratio asks for random dropping, which is not implemented
 * (AV_STATUS_UNSUPPORTED; checked in infer() when the inputs are constants, else in run()).
 * Before opset 7 the is_test attribute is ignored: a model run for inference is in test mode. */
static av_status ew_dropout_mode(const av__op_ctx *ctx)
{
    if (ctx->opset < 12 || ctx->n_in < 3 || !ctx->in[2] || !ctx->in[2]->data ||
        av__tensor_count(ctx->in[2]) < 1 || !((const uint8_t *)ctx->in[2]->data)[0])
        return AV_STATUS_OK;
    double ratio = 0.5;
    if (ctx->in[1]) {
        if (!ctx->in[1]->data)
            return AV_STATUS_OK; /* not known yet: run() decides */
        ratio = av__ew_load_f64(ctx->in[1]->data, ctx->in[1]->dtype, 0);
    }
    if (ratio != 0)
        return ew_fail(ctx, AV_STATUS_UNSUPPORTED,
                       "training mode with ratio %g (random dropout) is not supported", ratio);
    return AV_STATUS_OK;
}

static av_status ew_infer_Dropout(const av__op_ctx *ctx)
{
    av_status st = ew_check_io(ctx, 1, ctx->opset < 12 ? 1 : 3, 2);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!ew_is_float(x->dtype))
        return ew_bad_dtype(ctx, x->dtype);
    if (ctx->n_in > 1 && ctx->in[1] &&
        (!ew_is_float(ctx->in[1]->dtype) || av__tensor_count(ctx->in[1]) != 1))
        return ew_fail(ctx, AV_STATUS_FORMAT, "ratio must be a float scalar");
    if (ctx->n_in > 2 && ctx->in[2] &&
        (ctx->in[2]->dtype != AV__DT_BOOL || av__tensor_count(ctx->in[2]) != 1))
        return ew_fail(ctx, AV_STATUS_FORMAT, "training_mode must be a bool scalar");
    if ((st = ew_dropout_mode(ctx)) != AV_STATUS_OK)
        return st;
    ew_set_out(ctx, 0, x->dtype, x->ndim, x->shape);
    ew_set_out(ctx, 1, ctx->opset < 10 ? x->dtype : AV__DT_BOOL, x->ndim, x->shape);
    return AV_STATUS_OK;
}

static av_status ew_run_Dropout(const av__op_ctx *ctx)
{
    av_status st = ew_dropout_mode(ctx);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->out[0])
        ew_copy(ctx->out[0], ctx->in[0]);
    if (ctx->n_out > 1 && ctx->out[1]) {
        av__tensor *m = ctx->out[1];
        int64_t n = av__tensor_count(m);
        if (m->dtype == AV__DT_BOOL) {
            memset(m->data, 1, (size_t)n);
        } else {
            for (int64_t i = 0; i < n; i++)
                av__ew_store_f64(m->data, m->dtype, i, 1.0);
        }
    }
    return AV_STATUS_OK;
}

/* ---- the op table ---------------------------------------------------------------------------- */

#define EW_UNARY_OP(Name, op)                                                              \
    static av_status ew_infer_##Name(const av__op_ctx *c) { return ew_unary_infer(c, op); } \
    static av_status ew_run_##Name(const av__op_ctx *c) { return ew_unary_run(c, op); }
#define EW_BINARY_OP(Name, op, flags)                                                      \
    static av_status ew_infer_##Name(const av__op_ctx *c)                                  \
    {                                                                                      \
        return ew_binary_infer(c, op, flags);                                              \
    }                                                                                      \
    static av_status ew_run_##Name(const av__op_ctx *c) { return ew_binary_run(c, op, flags); }
#define EW_VARIADIC_OP(Name, op, mean)                                                     \
    static av_status ew_infer_##Name(const av__op_ctx *c)                                  \
    {                                                                                      \
        return ew_variadic_infer(c, op, mean || op == AV__EW_ADD);                         \
    }                                                                                      \
    static av_status ew_run_##Name(const av__op_ctx *c) { return ew_variadic_run(c, op, mean); }

EW_UNARY_OP(Neg, AV__EW_NEG)
EW_UNARY_OP(Abs, AV__EW_ABS)
EW_UNARY_OP(Sign, AV__EW_SIGN)
EW_UNARY_OP(Reciprocal, AV__EW_RECIPROCAL)
EW_UNARY_OP(Sqrt, AV__EW_SQRT)
EW_UNARY_OP(Exp, AV__EW_EXP)
EW_UNARY_OP(Log, AV__EW_LOG)
EW_UNARY_OP(Sin, AV__EW_SIN)
EW_UNARY_OP(Cos, AV__EW_COS)
EW_UNARY_OP(Tan, AV__EW_TAN)
EW_UNARY_OP(Asin, AV__EW_ASIN)
EW_UNARY_OP(Acos, AV__EW_ACOS)
EW_UNARY_OP(Atan, AV__EW_ATAN)
EW_UNARY_OP(Sinh, AV__EW_SINH)
EW_UNARY_OP(Cosh, AV__EW_COSH)
EW_UNARY_OP(Asinh, AV__EW_ASINH)
EW_UNARY_OP(Acosh, AV__EW_ACOSH)
EW_UNARY_OP(Atanh, AV__EW_ATANH)
EW_UNARY_OP(Tanh, AV__EW_TANH)
EW_UNARY_OP(Sigmoid, AV__EW_SIGMOID)
EW_UNARY_OP(HardSigmoid, AV__EW_HARD_SIGMOID)
EW_UNARY_OP(HardSwish, AV__EW_HARD_SWISH)
EW_UNARY_OP(Relu, AV__EW_RELU)
EW_UNARY_OP(LeakyRelu, AV__EW_LEAKY_RELU)
EW_UNARY_OP(Elu, AV__EW_ELU)
EW_UNARY_OP(Selu, AV__EW_SELU)
EW_UNARY_OP(Celu, AV__EW_CELU)
EW_UNARY_OP(Softplus, AV__EW_SOFTPLUS)
EW_UNARY_OP(Softsign, AV__EW_SOFTSIGN)
EW_UNARY_OP(Mish, AV__EW_MISH)
EW_UNARY_OP(Erf, AV__EW_ERF)
EW_UNARY_OP(Gelu, AV__EW_GELU)
EW_UNARY_OP(Floor, AV__EW_FLOOR)
EW_UNARY_OP(Ceil, AV__EW_CEIL)
EW_UNARY_OP(Round, AV__EW_ROUND)
EW_UNARY_OP(ThresholdedRelu, AV__EW_THRESHOLDED_RELU)
EW_UNARY_OP(Shrink, AV__EW_SHRINK)
EW_UNARY_OP(IsNaN, AV__EW_ISNAN)
EW_UNARY_OP(IsInf, AV__EW_ISINF)
EW_UNARY_OP(Not, AV__EW_NOT)
EW_UNARY_OP(BitwiseNot, AV__EW_BITWISE_NOT)

EW_BINARY_OP(Add, AV__EW_ADD, EW_LEGACY)
EW_BINARY_OP(Sub, AV__EW_SUB, EW_LEGACY)
EW_BINARY_OP(Mul, AV__EW_MUL, EW_LEGACY)
EW_BINARY_OP(Div, AV__EW_DIV, EW_LEGACY)
EW_BINARY_OP(Mod, AV__EW_MOD, 0)
EW_BINARY_OP(Equal, AV__EW_EQUAL, EW_LEGACY | EW_BOOL_OUT)
EW_BINARY_OP(Less, AV__EW_LESS, EW_LEGACY | EW_BOOL_OUT)
EW_BINARY_OP(LessOrEqual, AV__EW_LESS_EQUAL, EW_BOOL_OUT)
EW_BINARY_OP(Greater, AV__EW_GREATER, EW_LEGACY | EW_BOOL_OUT)
EW_BINARY_OP(GreaterOrEqual, AV__EW_GREATER_EQUAL, EW_BOOL_OUT)
EW_BINARY_OP(And, AV__EW_AND, EW_LEGACY | EW_BOOL_OUT)
EW_BINARY_OP(Or, AV__EW_OR, EW_LEGACY | EW_BOOL_OUT)
EW_BINARY_OP(Xor, AV__EW_XOR, EW_LEGACY | EW_BOOL_OUT)
EW_BINARY_OP(BitShift, AV__EW_SHL, 0)
EW_BINARY_OP(BitwiseAnd, AV__EW_BITWISE_AND, 0)
EW_BINARY_OP(BitwiseOr, AV__EW_BITWISE_OR, 0)
EW_BINARY_OP(BitwiseXor, AV__EW_BITWISE_XOR, 0)

EW_VARIADIC_OP(Sum, AV__EW_ADD, 0)
EW_VARIADIC_OP(Mean, AV__EW_ADD, 1)
EW_VARIADIC_OP(Max, AV__EW_MAX, 0)
EW_VARIADIC_OP(Min, AV__EW_MIN, 0)

/* Every elementwise kernel reads the elements at index i before it writes output index i, so
 * output 0 may share input 0's buffer; the copies (Identity, Dropout, same-type Cast) go through
 * memcpy, which must not see overlapping buffers, so they are not in place. */
#define EW_OP(Name) {#Name, 0, AV__OP_INPLACE, ew_infer_##Name, ew_run_##Name, NULL}
#define EW_OP_COPY(Name) {#Name, 0, 0, ew_infer_##Name, ew_run_##Name, NULL}

const av__op av__ops_elementwise[] = {
    EW_OP(Abs), EW_OP(Acos), EW_OP(Acosh), EW_OP(Add), EW_OP(And), EW_OP(Asin), EW_OP(Asinh),
    EW_OP(Atan), EW_OP(Atanh), EW_OP(BitShift), EW_OP(BitwiseAnd), EW_OP(BitwiseNot),
    EW_OP(BitwiseOr), EW_OP(BitwiseXor), EW_OP_COPY(Cast), EW_OP_COPY(CastLike), EW_OP(Ceil),
    EW_OP(Celu), EW_OP(Clip), EW_OP(Cos), EW_OP(Cosh), EW_OP(Div), EW_OP_COPY(Dropout), EW_OP(Elu),
    EW_OP(Equal), EW_OP(Erf), EW_OP(Exp), EW_OP(Floor), EW_OP(Gelu), EW_OP(Greater),
    EW_OP(GreaterOrEqual), EW_OP(HardSigmoid), EW_OP(HardSwish), EW_OP_COPY(Identity), EW_OP(IsInf),
    EW_OP(IsNaN), EW_OP(LeakyRelu), EW_OP(Less), EW_OP(LessOrEqual), EW_OP(Log), EW_OP(Max),
    EW_OP(Mean), EW_OP(Min), EW_OP(Mish), EW_OP(Mod), EW_OP(Mul), EW_OP(Neg), EW_OP(Not),
    EW_OP(Or), EW_OP(Pow), EW_OP(PRelu), EW_OP(Reciprocal), EW_OP(Relu), EW_OP(Round),
    EW_OP(Selu), EW_OP(Shrink), EW_OP(Sigmoid), EW_OP(Sign), EW_OP(Sin), EW_OP(Sinh),
    EW_OP(Softplus), EW_OP(Softsign), EW_OP(Sqrt), EW_OP(Sub), EW_OP(Sum), EW_OP(Tan),
    EW_OP(Tanh), EW_OP(ThresholdedRelu), EW_OP(Where), EW_OP(Xor),
};

const int av__ops_elementwise_count = sizeof av__ops_elementwise / sizeof av__ops_elementwise[0];
