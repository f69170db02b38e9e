#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"

av_status av__op_fail(const av__op_ctx *ctx, av_status status, const char *fmt, ...)
{
    if (ctx->err && ctx->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err, ctx->err_size, fmt, ap);
        va_end(ap);
    }
    return status;
}

av_status av__op_check_inputs(const av__op_ctx *ctx, int min_in, int max_in)
{
    if (ctx->n_in < min_in || ctx->n_in > max_in) {
        if (min_in == max_in)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "expects %d input(s), has %d", min_in,
                               ctx->n_in);
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects %d to %d inputs, has %d", min_in,
                           max_in, ctx->n_in);
    }
    for (int i = 0; i < min_in; i++)
        if (!ctx->in[i])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "required input %d is missing", i);
    return AV_STATUS_OK;
}

float av__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t av__f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff) /* inf or NaN (keep NaN quiet and non-zero) */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 0x1f)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) { /* subnormal or zero in half */
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
        half++; /* may carry into the exponent, up to inf: correct rounding */
    return (uint16_t)half;
}

float av__bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t av__f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((x >> 16) | 0x40u);
    uint32_t lsb = (x >> 16) & 1u;
    x += 0x7fffu + lsb;
    return (uint16_t)(x >> 16);
}

int64_t av__tensor_get_i64(const av__tensor *t, int64_t i)
{
    switch (t->dtype) {
    case AV__DT_I64: return ((const int64_t *)t->data)[i];
    case AV__DT_I32: return ((const int32_t *)t->data)[i];
    case AV__DT_I16: return ((const int16_t *)t->data)[i];
    case AV__DT_I8: return ((const int8_t *)t->data)[i];
    case AV__DT_U8: return ((const uint8_t *)t->data)[i];
    case AV__DT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    case AV__DT_U16: return ((const uint16_t *)t->data)[i];
    case AV__DT_U32: return ((const uint32_t *)t->data)[i];
    case AV__DT_U64: return (int64_t)((const uint64_t *)t->data)[i];
    default: {
        double v = av__tensor_get_f64(t, i); /* float types: truncate, saturate, NaN -> 0 */
        if (v != v)
            return 0;
        if (v >= 9223372036854775807.0)
            return INT64_MAX;
        if (v <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)v;
    }
    }
}

double av__tensor_get_f64(const av__tensor *t, int64_t i)
{
    switch (t->dtype) {
    case AV__DT_F32: return ((const float *)t->data)[i];
    case AV__DT_F64: return ((const double *)t->data)[i];
    case AV__DT_F16: return av__f16_to_f32(((const uint16_t *)t->data)[i]);
    case AV__DT_BF16: return av__bf16_to_f32(((const uint16_t *)t->data)[i]);
    case AV__DT_U64: return (double)((const uint64_t *)t->data)[i];
    default: return (double)av__tensor_get_i64(t, i);
    }
}

static int64_t clamp_round(double v, double lo, double hi)
{
    if (isnan(v))
        return 0;
    if (v <= lo)
        return (int64_t)lo;
    if (v >= hi)
        return (int64_t)hi;
    return (int64_t)v; /* truncation toward zero, as C and ONNX Cast do for in-range values */
}

void av__tensor_set_f64(av__tensor *t, int64_t i, double v)
{
    switch (t->dtype) {
    case AV__DT_F32: ((float *)t->data)[i] = (float)v; break;
    case AV__DT_F64: ((double *)t->data)[i] = v; break;
    case AV__DT_F16: ((uint16_t *)t->data)[i] = av__f32_to_f16((float)v); break;
    case AV__DT_BF16: ((uint16_t *)t->data)[i] = av__f32_to_bf16((float)v); break;
    case AV__DT_I64:
        ((int64_t *)t->data)[i] = clamp_round(v, -9223372036854775808.0, 9223372036854774784.0);
        break;
    case AV__DT_I32: ((int32_t *)t->data)[i] = (int32_t)clamp_round(v, -2147483648.0, 2147483647.0); break;
    case AV__DT_I16: ((int16_t *)t->data)[i] = (int16_t)clamp_round(v, -32768.0, 32767.0); break;
    case AV__DT_I8: ((int8_t *)t->data)[i] = (int8_t)clamp_round(v, -128.0, 127.0); break;
    case AV__DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)clamp_round(v, 0.0, 255.0); break;
    case AV__DT_U16: ((uint16_t *)t->data)[i] = (uint16_t)clamp_round(v, 0.0, 65535.0); break;
    case AV__DT_U32: ((uint32_t *)t->data)[i] = (uint32_t)clamp_round(v, 0.0, 4294967295.0); break;
    case AV__DT_U64:
        ((uint64_t *)t->data)[i] = isnan(v) || v <= 0 ? 0 : v >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)v;
        break;
    case AV__DT_BOOL: ((uint8_t *)t->data)[i] = v != 0.0; break;
    default: break;
    }
}

av_status av__broadcast_shapes(int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                               int64_t *out)
{
    int n = na > nb ? na : nb;
    if (n > AV__MAX_DIMS)
        return AV_STATUS_UNSUPPORTED;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da == db || db == 1)
            out[i] = da;
        else if (da == 1)
            out[i] = db;
        else
            return AV_STATUS_FORMAT;
    }
    *nout = n;
    return AV_STATUS_OK;
}

int av__normalize_axis(int64_t axis, int rank)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return -1;
    return (int)(axis < 0 ? axis + rank : axis);
}

void av__tensor_set_shape(av__tensor *t, int n, const int64_t *shape)
{
    t->ndim = n;
    for (int i = 0; i < n; i++)
        t->shape[i] = shape[i];
}

/* SplitMix64's finaliser over seed and index: a bijective mix, so distinct (seed, index) pairs
 * give independent-looking outputs. Documented in docs/ENGINE.md; changing it changes outputs. */
uint64_t av__rng_u64(uint64_t seed, uint64_t index)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + index * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float av__rng_uniform(uint64_t seed, uint64_t index)
{
    return (float)(av__rng_u64(seed, index) >> 40) * (1.0f / 16777216.0f);
}

float av__rng_normal(uint64_t seed, uint64_t index)
{
    double u1 = ((double)(av__rng_u64(seed, 2 * index) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(av__rng_u64(seed, 2 * index + 1) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
