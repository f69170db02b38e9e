/* Dtype conversion for the elementwise family: element load/store by dtype and Cast.
 *
 * Rounding: every conversion rounds once, to nearest even. float64 -> float16/bfloat16 goes
 * through float32 rounded to odd, which makes the second rounding exact (float32 has more than
 * twice the needed precision plus two bits), so no double-rounding error. Float -> integer
 * truncates toward zero and saturates at the type's range, NaN giving 0 (ONNX leaves
 * out-of-range casts undefined; this is the defined choice). Integer -> integer keeps the low
 * bits, as numpy's astype and C casts on two's complement do. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/elementwise_internal.h"

/* v rounded to a float32 whose last mantissa bit is set whenever the rounding was inexact
 * ("round to odd"): rounding that to any format with at most 22 mantissa bits gives the same
 * result as rounding v directly. */
static float ew_f64_to_f32_odd(double v)
{
    float f = (float)v;
    if ((double)f != v && isfinite(f)) {
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        if (!(bits & 1u))
            f = nextafterf(f, v > (double)f ? INFINITY : -INFINITY);
    }
    return f;
}

static uint16_t ew_f64_to_f16(double v) { return av__f32_to_f16(ew_f64_to_f32_odd(v)); }
static uint16_t ew_f64_to_bf16(double v) { return av__f32_to_bf16(ew_f64_to_f32_odd(v)); }

/* Truncation toward zero, saturated to [lo, hi] (both exactly representable), NaN 0. */
static int64_t ew_trunc_sat(double v, double lo, double hi)
{
    if (v != v)
        return 0;
    if (v <= lo)
        return (int64_t)lo;
    if (v >= hi)
        return (int64_t)hi;
    return (int64_t)v;
}

static int64_t ew_trunc_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 0x1p63)
        return INT64_MAX;
    if (v <= -0x1p63)
        return INT64_MIN;
    return (int64_t)v;
}

static uint64_t ew_trunc_u64(double v)
{
    if (!(v > 0))
        return 0;
    if (v >= 0x1p64)
        return UINT64_MAX;
    return (uint64_t)v;
}

double av__ew_load_f64(const void *p, av__dtype t, int64_t i)
{
    switch (t) {
    case AV__DT_F32: return ((const float *)p)[i];
    case AV__DT_F64: return ((const double *)p)[i];
    case AV__DT_F16: return av__f16_to_f32(((const uint16_t *)p)[i]);
    case AV__DT_BF16: return av__bf16_to_f32(((const uint16_t *)p)[i]);
    case AV__DT_I8: return ((const int8_t *)p)[i];
    case AV__DT_I16: return ((const int16_t *)p)[i];
    case AV__DT_I32: return ((const int32_t *)p)[i];
    case AV__DT_I64: return (double)((const int64_t *)p)[i];
    case AV__DT_U8: return ((const uint8_t *)p)[i];
    case AV__DT_U16: return ((const uint16_t *)p)[i];
    case AV__DT_U32: return ((const uint32_t *)p)[i];
    case AV__DT_U64: return (double)((const uint64_t *)p)[i];
    case AV__DT_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return 0;
    }
}

int64_t av__ew_load_i64(const void *p, av__dtype t, int64_t i)
{
    switch (t) {
    case AV__DT_I8: return ((const int8_t *)p)[i];
    case AV__DT_I16: return ((const int16_t *)p)[i];
    case AV__DT_I32: return ((const int32_t *)p)[i];
    case AV__DT_I64: return ((const int64_t *)p)[i];
    case AV__DT_U8: return ((const uint8_t *)p)[i];
    case AV__DT_U16: return ((const uint16_t *)p)[i];
    case AV__DT_U32: return ((const uint32_t *)p)[i];
    case AV__DT_U64: return (int64_t)((const uint64_t *)p)[i];
    case AV__DT_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return ew_trunc_i64(av__ew_load_f64(p, t, i));
    }
}

void av__ew_store_f64(void *p, av__dtype t, int64_t i, double v)
{
    switch (t) {
    case AV__DT_F32: ((float *)p)[i] = (float)v; break;
    case AV__DT_F64: ((double *)p)[i] = v; break;
    case AV__DT_F16: ((uint16_t *)p)[i] = ew_f64_to_f16(v); break;
    case AV__DT_BF16: ((uint16_t *)p)[i] = ew_f64_to_bf16(v); break;
    case AV__DT_I8: ((int8_t *)p)[i] = (int8_t)ew_trunc_sat(v, -128.0, 127.0); break;
    case AV__DT_I16: ((int16_t *)p)[i] = (int16_t)ew_trunc_sat(v, -32768.0, 32767.0); break;
    case AV__DT_I32:
        ((int32_t *)p)[i] = (int32_t)ew_trunc_sat(v, -2147483648.0, 2147483647.0);
        break;
    case AV__DT_I64: ((int64_t *)p)[i] = ew_trunc_i64(v); break;
    case AV__DT_U8: ((uint8_t *)p)[i] = (uint8_t)ew_trunc_sat(v, 0.0, 255.0); break;
    case AV__DT_U16: ((uint16_t *)p)[i] = (uint16_t)ew_trunc_sat(v, 0.0, 65535.0); break;
    case AV__DT_U32: ((uint32_t *)p)[i] = (uint32_t)ew_trunc_sat(v, 0.0, 4294967295.0); break;
    case AV__DT_U64: ((uint64_t *)p)[i] = ew_trunc_u64(v); break;
    case AV__DT_BOOL: ((uint8_t *)p)[i] = v != 0; break; /* NaN is true, as numpy */
    default: break;
    }
}

void av__ew_store_i64(void *p, av__dtype t, int64_t i, int64_t v)
{
    switch (t) {
    case AV__DT_F32: ((float *)p)[i] = (float)v; break;
    case AV__DT_F64: ((double *)p)[i] = (double)v; break;
    case AV__DT_F16: ((uint16_t *)p)[i] = ew_f64_to_f16((double)v); break;
    case AV__DT_BF16: ((uint16_t *)p)[i] = ew_f64_to_bf16((double)v); break;
    case AV__DT_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case AV__DT_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case AV__DT_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case AV__DT_I64: ((int64_t *)p)[i] = v; break;
    case AV__DT_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case AV__DT_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case AV__DT_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case AV__DT_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case AV__DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

/* A uint64 value into any dtype (its own path: via int64 it would be negative, via double it
 * would round twice on the way to float32). */
static void ew_store_u64(void *p, av__dtype t, int64_t i, uint64_t v)
{
    switch (t) {
    case AV__DT_F32: ((float *)p)[i] = (float)v; break;
    case AV__DT_F64: ((double *)p)[i] = (double)v; break;
    case AV__DT_F16: ((uint16_t *)p)[i] = ew_f64_to_f16((double)v); break;
    case AV__DT_BF16: ((uint16_t *)p)[i] = ew_f64_to_bf16((double)v); break;
    default: av__ew_store_i64(p, t, i, (int64_t)v); break;
    }
}

static int ew_is_float(av__dtype t)
{
    return t == AV__DT_F32 || t == AV__DT_F64 || t == AV__DT_F16 || t == AV__DT_BF16;
}

#define EW_CAST_LOOP(ST, DT, CONV)                                                         \
    do {                                                                                   \
        const ST *s_ = src;                                                                \
        DT *d_ = dst;                                                                      \
        for (int64_t i = 0; i < n; i++)                                                    \
            d_[i] = CONV(s_[i]);                                                           \
    } while (0)
#define EW_CONV_C(v) (v) /* C's own conversion is the right one for this pair */
#define EW_CONV_BOOL(v) ((v) != 0)
#define EW_CONV_F32_I64(v) ew_trunc_i64(v)
#define EW_CONV_F32_I32(v) ((int32_t)ew_trunc_sat((v), -2147483648.0, 2147483647.0))

void av__ew_cast(void *dst, av__dtype td, const void *src, av__dtype ts, int64_t n)
{
    if (n <= 0)
        return;
    if (td == ts) {
        memcpy(dst, src, (size_t)n * av__dtype_size(ts));
        return;
    }
    /* the pairs models use on large tensors get straight loops */
#define EW_PAIR(a, b) ((unsigned)(a) << 8 | (unsigned)(b))
    switch (EW_PAIR(ts, td)) {
    case EW_PAIR(AV__DT_F32, AV__DT_F16): EW_CAST_LOOP(float, uint16_t, av__f32_to_f16); return;
    case EW_PAIR(AV__DT_F16, AV__DT_F32): EW_CAST_LOOP(uint16_t, float, av__f16_to_f32); return;
    case EW_PAIR(AV__DT_F32, AV__DT_BF16): EW_CAST_LOOP(float, uint16_t, av__f32_to_bf16); return;
    case EW_PAIR(AV__DT_BF16, AV__DT_F32): EW_CAST_LOOP(uint16_t, float, av__bf16_to_f32); return;
    case EW_PAIR(AV__DT_F32, AV__DT_F64): EW_CAST_LOOP(float, double, EW_CONV_C); return;
    case EW_PAIR(AV__DT_F64, AV__DT_F32): EW_CAST_LOOP(double, float, EW_CONV_C); return;
    case EW_PAIR(AV__DT_I64, AV__DT_F32): EW_CAST_LOOP(int64_t, float, EW_CONV_C); return;
    case EW_PAIR(AV__DT_I32, AV__DT_F32): EW_CAST_LOOP(int32_t, float, EW_CONV_C); return;
    case EW_PAIR(AV__DT_BOOL, AV__DT_F32): EW_CAST_LOOP(uint8_t, float, EW_CONV_BOOL); return;
    case EW_PAIR(AV__DT_F32, AV__DT_BOOL): EW_CAST_LOOP(float, uint8_t, EW_CONV_BOOL); return;
    case EW_PAIR(AV__DT_F32, AV__DT_I64): EW_CAST_LOOP(float, int64_t, EW_CONV_F32_I64); return;
    case EW_PAIR(AV__DT_F32, AV__DT_I32): EW_CAST_LOOP(float, int32_t, EW_CONV_F32_I32); return;
    case EW_PAIR(AV__DT_I32, AV__DT_I64): EW_CAST_LOOP(int32_t, int64_t, EW_CONV_C); return;
    case EW_PAIR(AV__DT_I64, AV__DT_I32): EW_CAST_LOOP(int64_t, int32_t, (int32_t)EW_CONV_C);
        return;
    default: break;
    }
#undef EW_PAIR
    if (ew_is_float(ts)) {
        for (int64_t i = 0; i < n; i++)
            av__ew_store_f64(dst, td, i, av__ew_load_f64(src, ts, i));
    } else if (ts == AV__DT_U64) {
        const uint64_t *s = src;
        for (int64_t i = 0; i < n; i++)
            ew_store_u64(dst, td, i, s[i]);
    } else {
        for (int64_t i = 0; i < n; i++)
            av__ew_store_i64(dst, td, i, av__ew_load_i64(src, ts, i));
    }
}
