/* RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike.
 *
 * Values come from the counter-based generator of op.h: element i (flat, C order) is
 *   RandomUniform*: low + (high - low) * av__rng_uniform(seed, i)
 *   RandomNormal*:  mean + scale * av__rng_normal(seed, i)
 * computed in double and stored in the output type. The seed is the node's `seed` attribute
 * converted to an integer, seed = (uint64_t)(int64_t)value (truncated toward zero, saturated at
 * the int64 range, NaN -> 0; so 1.0 and 1.7 give the same stream), and ctx->seed when the node has
 * no `seed`. The same seed and shape therefore give the same tensor on every platform and thread
 * count; different elements read different counters. */
#include <math.h>
#include <string.h>

#include "ops/shape_internal.h"

static uint64_t node_seed(const av__op_ctx *ctx)
{
    const av__attr *a = av__node_attr(ctx->node, "seed");
    if (!a)
        return ctx->seed;
    if (a->type == AV__ATTR_INT) /* not the spec's type, but unambiguous */
        return (uint64_t)a->i;
    double v = a->f;
    if (isnan(v))
        return 0;
    if (v >= 9223372036854775807.0)
        return (uint64_t)INT64_MAX;
    if (v <= -9223372036854775808.0)
        return (uint64_t)INT64_MIN;
    return (uint64_t)(int64_t)v;
}

static av_status random_dtype(const av__op_ctx *ctx, av__dtype def, av__dtype *dt)
{
    const av__attr *a = av__node_attr(ctx->node, "dtype");
    *dt = def;
    if (a) {
        if (a->type != AV__ATTR_INT)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'dtype' is not an int");
        *dt = (av__dtype)a->i;
    }
    if (!av__shape_is_float(*dt))
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "random output type must be a float type, is %s (%d)",
                           av__dtype_name(*dt), (int)*dt);
    return AV_STATUS_OK;
}

av_status av__shape_random_infer(const av__op_ctx *ctx)
{
    av__dtype dt;
    av_status st = av__op_check_inputs(ctx, 0, 0);
    if (st == AV_STATUS_OK && (ctx->n_out < 1 || !ctx->out[0]))
        st = av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    if (st == AV_STATUS_OK)
        st = random_dtype(ctx, AV__DT_F32, &dt);
    if (st != AV_STATUS_OK)
        return st;
    int n;
    const int64_t *shape = av__attr_ints(ctx->node, "shape", &n);
    if (!shape)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'shape' is missing");
    return av__shape_set_out(ctx, 0, dt, n, shape);
}

av_status av__shape_random_like_infer(const av__op_ctx *ctx)
{
    av__dtype dt;
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st == AV_STATUS_OK && (ctx->n_out < 1 || !ctx->out[0]))
        st = av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    if (st == AV_STATUS_OK)
        st = random_dtype(ctx, ctx->in[0]->dtype, &dt);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, dt, ctx->in[0]->ndim, ctx->in[0]->shape);
}

typedef struct random_job {
    av__tensor *y;
    uint64_t seed;
    int normal;
    double a, b;     /* normal: mean, scale; uniform: low, high - low */
} random_job;

static void random_fill(void *arg, int64_t begin, int64_t end)
{
    const random_job *j = arg;
    for (int64_t i = begin; i < end; i++) {
        double r = j->normal ? (double)av__rng_normal(j->seed, (uint64_t)i)
                             : (double)av__rng_uniform(j->seed, (uint64_t)i);
        double v = j->a + j->b * r;
        if (j->y->dtype == AV__DT_F32)
            ((float *)j->y->data)[i] = (float)v;
        else
            av__tensor_set_f64(j->y, i, v);
    }
}

av_status av__shape_random_run(const av__op_ctx *ctx)
{
    random_job j = {.y = ctx->out[0], .seed = node_seed(ctx)};
    j.normal = strstr(ctx->node->op_type, "Normal") != NULL;
    if (j.normal) {
        j.a = av__attr_float(ctx->node, "mean", 0.0f);
        j.b = av__attr_float(ctx->node, "scale", 1.0f);
    } else {
        double low = av__attr_float(ctx->node, "low", 0.0f);
        j.a = low;
        j.b = av__attr_float(ctx->node, "high", 1.0f) - low;
    }
    int64_t n = av__tensor_count(j.y);
    av__parallel_for(n >= (1 << 16) ? ctx->pool : NULL, n, 1 << 14, random_fill, &j);
    return AV_STATUS_OK;
}
