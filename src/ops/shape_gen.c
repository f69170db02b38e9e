/* Ops that make tensors from attributes or scalars: Constant, ConstantOfShape, Range, EyeLike,
 * and Trilu (a mask over the input). */
#include <math.h>
#include <string.h>

#include "ops/shape_internal.h"

/* Fills `count` elements of esize bytes at dst with the element at `value`. */
static void fill_elements(void *dst, int64_t count, const void *value, size_t esize)
{
    if (count <= 0)
        return;
    size_t total = (size_t)count * esize;
    const unsigned char *v = value;
    int zero = 1;
    for (size_t i = 0; i < esize; i++)
        zero &= v[i] == 0;
    if (zero) {
        memset(dst, 0, total);
        return;
    }
    /* one element, then double the filled prefix */
    char *d = dst;
    memcpy(d, value, esize);
    size_t done = esize;
    while (done < total) {
        size_t n = done < total - done ? done : total - done;
        memcpy(d + done, d, n);
        done += n;
    }
}

/* ---- Constant -------------------------------------------------------------------------------- */

/* The value a Constant node holds: a tensor attribute or one of the value_float(s)/value_int(s)
 * forms (opset 12), described as a tensor whose data points into the attribute or, for the
 * scalar forms, into *scalar. */
static av_status constant_value(const av__op_ctx *ctx, av__tensor *v, int64_t *scalar)
{
    static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (av__node_attr(ctx->node, unsupported[i]))
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                               "Constant with attribute '%s' is not supported", unsupported[i]);
    int found = 0;
    memset(v, 0, sizeof *v);
    const av__attr *a;
    if ((a = av__node_attr(ctx->node, "value")) != NULL) {
        found++;
        if (a->type != AV__ATTR_TENSOR || !a->t)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'value' is not a tensor");
        *v = *a->t;
        if (av__dtype_size(v->dtype) == 0)
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                               "Constant of element type %s is not supported",
                               av__dtype_name(v->dtype));
    }
    if ((a = av__node_attr(ctx->node, "value_float")) != NULL) {
        found++;
        if (a->type != AV__ATTR_FLOAT)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'value_float' is not a float");
        memcpy(scalar, &a->f, sizeof a->f);
        *v = (av__tensor){.dtype = AV__DT_F32, .ndim = 0, .data = scalar};
    }
    if ((a = av__node_attr(ctx->node, "value_floats")) != NULL) {
        found++;
        if (a->type != AV__ATTR_FLOATS)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "attribute 'value_floats' is not a float list");
        *v = (av__tensor){.dtype = AV__DT_F32, .ndim = 1, .shape = {a->count}, .data = a->floats};
    }
    if ((a = av__node_attr(ctx->node, "value_int")) != NULL) {
        found++;
        if (a->type != AV__ATTR_INT)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'value_int' is not an int");
        *scalar = a->i;
        *v = (av__tensor){.dtype = AV__DT_I64, .ndim = 0, .data = scalar};
    }
    if ((a = av__node_attr(ctx->node, "value_ints")) != NULL) {
        found++;
        if (a->type != AV__ATTR_INTS)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'value_ints' is not an int list");
        *v = (av__tensor){.dtype = AV__DT_I64, .ndim = 1, .shape = {a->count}, .data = a->ints};
    }
    if (found != 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "Constant needs exactly one value attribute, has %d", found);
    return AV_STATUS_OK;
}

av_status av__shape_constant_infer(const av__op_ctx *ctx)
{
    av__tensor v;
    int64_t scalar;
    av_status st = av__op_check_inputs(ctx, 0, 0);
    if (st == AV_STATUS_OK && (ctx->n_out < 1 || !ctx->out[0]))
        st = av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    if (st == AV_STATUS_OK)
        st = constant_value(ctx, &v, &scalar);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, v.dtype, v.ndim, v.shape);
}

av_status av__shape_constant_run(const av__op_ctx *ctx)
{
    av__tensor v;
    int64_t scalar;
    av_status st = constant_value(ctx, &v, &scalar);
    if (st != AV_STATUS_OK)
        return st;
    size_t bytes = av__tensor_bytes(&v);
    if (bytes)
        memcpy(ctx->out[0]->data, v.data, bytes);
    return AV_STATUS_OK;
}

/* ---- ConstantOfShape ------------------------------------------------------------------------- */

static const float zero_f32 = 0.0f;

/* The fill value: the one-element `value` tensor, float32 0 by default. */
static av_status fill_value(const av__op_ctx *ctx, av__dtype *dtype, const void **data)
{
    const av__attr *a = av__node_attr(ctx->node, "value");
    *dtype = AV__DT_F32;
    *data = &zero_f32;
    if (!a)
        return AV_STATUS_OK;
    if (a->type != AV__ATTR_TENSOR || !a->t || av__tensor_count(a->t) != 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'value' must be a one-element tensor");
    if (av__dtype_size(a->t->dtype) == 0)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "value of element type %s is not supported",
                           av__dtype_name(a->t->dtype));
    *dtype = a->t->dtype;
    *data = a->t->data;
    return AV_STATUS_OK;
}

av_status av__shape_constant_of_shape_infer(const av__op_ctx *ctx)
{
    int64_t shape[AV__MAX_DIMS];
    int n;
    av__dtype dt;
    const void *val;
    av_status st = av__shape_begin(ctx, 1, 1);
    if (st == AV_STATUS_OK)
        st = fill_value(ctx, &dt, &val);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->in[0]->ndim != 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "the shape input must be 1-D, has rank %d",
                           ctx->in[0]->ndim);
    if (ctx->in[0]->shape[0] > AV__MAX_DIMS)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "output rank %lld (at most %d supported)",
                           (long long)ctx->in[0]->shape[0], AV__MAX_DIMS);
    st = av__shape_read_ints(ctx, 0, "shape", shape, AV__MAX_DIMS, &n);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, dt, n, shape);
}

av_status av__shape_constant_of_shape_run(const av__op_ctx *ctx)
{
    av__dtype dt;
    const void *val;
    av_status st = fill_value(ctx, &dt, &val);
    if (st != AV_STATUS_OK)
        return st;
    fill_elements(ctx->out[0]->data, av__tensor_count(ctx->out[0]), val, av__dtype_size(dt));
    return AV_STATUS_OK;
}

/* ---- Range ----------------------------------------------------------------------------------- */

/* Element count max(ceil((limit - start) / delta), 0), computed in the inputs' type as the spec
 * does (float32 arithmetic for the 16/32-bit float types, exact for integers). */
static av_status range_count(const av__op_ctx *ctx, int64_t *count)
{
    const av__tensor *s = ctx->in[0], *l = ctx->in[1], *d = ctx->in[2];
    for (int i = 0; i < 3; i++) {
        const av__tensor *t = ctx->in[i];
        if (t->dtype != s->dtype)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "input %d is %s, input 0 is %s", i,
                               av__dtype_name(t->dtype), av__dtype_name(s->dtype));
        if (av__tensor_count(t) != 1)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "input %d must be a scalar", i);
        if (!t->data)
            return av__op_fail(ctx, AV_STATUS_INTERNAL, "input %d has no value at planning time",
                               i);
    }
    if (av__shape_is_float(s->dtype)) {
        double n;
        if (s->dtype == AV__DT_F64) {
            double a = av__tensor_get_f64(s, 0), b = av__tensor_get_f64(l, 0),
                   c = av__tensor_get_f64(d, 0);
            if (c == 0)
                return av__op_fail(ctx, AV_STATUS_FORMAT, "delta is 0");
            n = ceil((b - a) / c);
        } else {
            float a = (float)av__tensor_get_f64(s, 0), b = (float)av__tensor_get_f64(l, 0);
            float c = (float)av__tensor_get_f64(d, 0);
            if (c == 0)
                return av__op_fail(ctx, AV_STATUS_FORMAT, "delta is 0");
            n = ceilf((b - a) / c);
        }
        if (!(n <= 4611686018427387904.0)) /* also catches NaN */
            return av__op_fail(ctx, AV_STATUS_FORMAT, "range has too many (or NaN) elements");
        *count = n > 0 ? (int64_t)n : 0;
        return AV_STATUS_OK;
    }
    if (!av__shape_is_int(s->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "Range of %s is not defined",
                           av__dtype_name(s->dtype));
    int64_t a = av__tensor_get_i64(s, 0), b = av__tensor_get_i64(l, 0),
            c = av__tensor_get_i64(d, 0);
    if (c == 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "delta is 0");
    uint64_t diff, step;
    if (c > 0) {
        if (b <= a) {
            *count = 0;
            return AV_STATUS_OK;
        }
        diff = (uint64_t)b - (uint64_t)a;
        step = (uint64_t)c;
    } else {
        if (b >= a) {
            *count = 0;
            return AV_STATUS_OK;
        }
        diff = (uint64_t)a - (uint64_t)b;
        step = (uint64_t)0 - (uint64_t)c;
    }
    uint64_t n = diff / step + (diff % step != 0);
    if (n > ((uint64_t)1 << 62))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "range has too many elements");
    *count = (int64_t)n;
    return AV_STATUS_OK;
}

av_status av__shape_range_infer(const av__op_ctx *ctx)
{
    int64_t n;
    av_status st = av__shape_begin(ctx, 3, 3);
    if (st == AV_STATUS_OK)
        st = range_count(ctx, &n);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, 1, &n);
}

static void store_i64(av__tensor *t, int64_t i, int64_t v)
{
    switch (t->dtype) {
    case AV__DT_I64: ((int64_t *)t->data)[i] = v; break;
    case AV__DT_U64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    case AV__DT_I32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case AV__DT_U32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    case AV__DT_I16: ((int16_t *)t->data)[i] = (int16_t)v; break;
    case AV__DT_U16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case AV__DT_I8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case AV__DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    default: break;
    }
}

av_status av__shape_range_run(const av__op_ctx *ctx)
{
    int64_t n;
    av_status st = range_count(ctx, &n);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *s = ctx->in[0], *d = ctx->in[2];
    av__tensor *y = ctx->out[0];
    if (s->dtype == AV__DT_F64) {
        double a = av__tensor_get_f64(s, 0), c = av__tensor_get_f64(d, 0);
        for (int64_t i = 0; i < n; i++)
            ((double *)y->data)[i] = a + (double)i * c;
    } else if (s->dtype == AV__DT_F32) {
        float a = (float)av__tensor_get_f64(s, 0), c = (float)av__tensor_get_f64(d, 0);
        for (int64_t i = 0; i < n; i++)
            ((float *)y->data)[i] = a + (float)i * c;
    } else if (av__shape_is_float(s->dtype)) {
        float a = (float)av__tensor_get_f64(s, 0), c = (float)av__tensor_get_f64(d, 0);
        for (int64_t i = 0; i < n; i++)
            av__tensor_set_f64(y, i, a + (float)i * c);
    } else {
        /* unsigned arithmetic: every value lies in [start, limit), intermediate wraps cancel */
        uint64_t a = (uint64_t)av__tensor_get_i64(s, 0), c = (uint64_t)av__tensor_get_i64(d, 0);
        for (int64_t i = 0; i < n; i++)
            store_i64(y, i, (int64_t)(a + (uint64_t)i * c));
    }
    return AV_STATUS_OK;
}

/* ---- EyeLike --------------------------------------------------------------------------------- */

static av_status eye_dtype(const av__op_ctx *ctx, av__dtype *dt)
{
    *dt = ctx->in[0]->dtype;
    const av__attr *a = av__node_attr(ctx->node, "dtype");
    if (a) {
        if (a->type != AV__ATTR_INT)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'dtype' is not an int");
        *dt = (av__dtype)a->i;
    }
    if (av__dtype_size(*dt) == 0)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "output element type %s (%d) is not supported", av__dtype_name(*dt),
                           (int)*dt);
    return AV_STATUS_OK;
}

av_status av__shape_eye_like_infer(const av__op_ctx *ctx)
{
    av__dtype dt;
    av_status st = av__shape_begin(ctx, 1, 1);
    if (st == AV_STATUS_OK)
        st = eye_dtype(ctx, &dt);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->in[0]->ndim != 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input must be 2-D, has rank %d",
                           ctx->in[0]->ndim);
    return av__shape_set_out(ctx, 0, dt, 2, ctx->in[0]->shape);
}

av_status av__shape_eye_like_run(const av__op_ctx *ctx)
{
    av__tensor *y = ctx->out[0];
    int64_t rows = y->shape[0], cols = y->shape[1];
    int64_t k = av__attr_int(ctx->node, "k", 0);
    memset(y->data, 0, av__tensor_bytes(y));
    if (k >= cols || k <= -rows) /* no diagonal element inside; also keeps i + k from overflowing */
        return AV_STATUS_OK;
    for (int64_t i = 0; i < rows; i++) {
        int64_t c = i + k;
        if (c >= 0 && c < cols)
            av__tensor_set_f64(y, i * cols + c, 1.0);
    }
    return AV_STATUS_OK;
}

/* ---- Trilu ----------------------------------------------------------------------------------- */

av_status av__shape_trilu_infer(const av__op_ctx *ctx)
{
    av_status st = av__shape_begin(ctx, 1, 2);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (x->ndim < 2)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "input must have rank >= 2, has %d", x->ndim);
    if (ctx->n_in > 1 && ctx->in[1]) {
        const av__tensor *k = ctx->in[1];
        if (!av__shape_is_int(k->dtype) || av__tensor_count(k) != 1)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "k must be an integer scalar");
    }
    return av__shape_set_out(ctx, 0, x->dtype, x->ndim, x->shape);
}

av_status av__shape_trilu_run(const av__op_ctx *ctx)
{
    const av__tensor *x = ctx->in[0];
    av__tensor *y = ctx->out[0];
    int upper = av__attr_int(ctx->node, "upper", 1) != 0;
    int64_t k = ctx->n_in > 1 && ctx->in[1] ? av__tensor_get_i64(ctx->in[1], 0) : 0;
    int64_t rows = x->shape[x->ndim - 2], cols = x->shape[x->ndim - 1];
    int64_t mats = av__tensor_count(x) / (rows * cols > 0 ? rows * cols : 1);
    if (rows * cols == 0)
        return AV_STATUS_OK;
    /* beyond +-(rows + cols) every k keeps everything or nothing: clamp to avoid overflow */
    int64_t lim = rows + cols;
    k = k < -lim ? -lim : k > lim ? lim : k;
    size_t es = av__dtype_size(x->dtype);
    for (int64_t m = 0; m < mats; m++) {
        for (int64_t i = 0; i < rows; i++) {
            const char *src = (const char *)x->data + (size_t)((m * rows + i) * cols) * es;
            char *dst = (char *)y->data + (size_t)((m * rows + i) * cols) * es;
            /* kept columns [lo, hi): upper keeps j >= i + k, lower keeps j <= i + k */
            int64_t lo = upper ? i + k : 0, hi = upper ? cols : i + k + 1;
            lo = lo < 0 ? 0 : lo > cols ? cols : lo;
            hi = hi < 0 ? 0 : hi > cols ? cols : hi;
            if (hi < lo)
                hi = lo;
            memset(dst, 0, (size_t)lo * es);
            memcpy(dst + (size_t)lo * es, src + (size_t)lo * es, (size_t)(hi - lo) * es);
            memset(dst + (size_t)hi * es, 0, (size_t)(cols - hi) * es);
        }
    }
    return AV_STATUS_OK;
}
