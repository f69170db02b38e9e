// CUDA kernels of the elementwise family: unary maps, broadcasting binary and variadic ops,
// Where, Clip, Cast, Identity, Dropout, the Random* generators and ElementwiseChain.
//
// Semantics are the CPU kernels' (src/ops/elementwise*.c, src/ops/shape_random.c), op by op:
// integers compute in 64 bits and wrap to their storage width, integer division and remainder
// by 0 give 0, Cast truncates and saturates, Max/Min propagate NaN, Round is half to even.
// Float math runs in float registers whatever the storage (float32, or float16 under
// AV__CUDA_MATH_FP16); sums, differences and products use the _rn intrinsics so that nvcc
// contracts nothing into FMA, as the CPU build does not. Transcendentals are CUDA's libdevice
// functions (a few ulp from glibc, within the tests' fp32 tolerance).
//
// Design: one scalar definition per op and compute domain (un_f / un_i / un_b, bin_f / bin_i /
// bin_b), switched on the op code; the kernels are templates over (op, storage type), so each
// instantiation folds the switch away. prepare() picks the instantiation and precomputes what a
// launch needs (broadcast strides, attribute values, the chain program) into a host-side state;
// run() only reads the device pointers of the step and launches on ctx->env->stream.
//
// Declined (the node runs on the CPU): dtypes other than float32/float16 for float math,
// int32/int64 for integer math, bool for logic (Cast also takes bfloat16, int8, uint8; the pure
// copies Identity, Dropout and Where take any fixed-size dtype; Random* write float32, float16
// or bfloat16); Dropout in training mode or with a training_mode known only at run time; Pow
// with a base or exponent dtype outside float32/float16/int32/int64. BitShift (unsigned types
// only on the CPU) has no kernel.
//
// ElementwiseChain keeps its running float value in registers between steps, where the CPU,
// on a float16 graph, rounds it to float16 after each step: there the GPU result is the more
// accurate one (float32 chains and integer chains are step for step the CPU's).
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cuda/cuda_op.h"

extern "C" {
#include "ops/elementwise_chain.h"
#include "ops/elementwise_internal.h"
}

namespace {

constexpr int EW_THREADS = 256;

#define EW_LOOP(i, n)                                                                      \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);              \
         i += (int64_t)gridDim.x * blockDim.x)

/* ---- storage types ---------------------------------------------------------------------------
 * tr<T>: how storage type T loads into its compute domain C and stores back.
 *   float, __half   C = float
 *   int32, int64    C = int64_t (int32 stores wrap to 32 bits)
 *   uint8_t         bool: C = uint64_t, stores v != 0 */
template <typename T> struct tr;
template <> struct tr<float> {
    typedef float C;
    static constexpr bool is_float = true;
    static __device__ __forceinline__ float ld(const float *p, int64_t i) { return p[i]; }
    template <typename V> static __device__ __forceinline__ void st(float *p, int64_t i, V v)
    {
        p[i] = (float)v;
    }
    static __device__ __forceinline__ float narrow(float v) { return v; }
};
template <> struct tr<__half> {
    typedef float C;
    static constexpr bool is_float = true;
    static __device__ __forceinline__ float ld(const __half *p, int64_t i)
    {
        return __half2float(p[i]);
    }
    template <typename V> static __device__ __forceinline__ void st(__half *p, int64_t i, V v)
    {
        p[i] = __float2half_rn((float)v);
    }
    static __device__ __forceinline__ float narrow(float v) { return v; }
};
template <> struct tr<int32_t> {
    typedef int64_t C;
    static constexpr bool is_float = false;
    static __device__ __forceinline__ int64_t ld(const int32_t *p, int64_t i) { return p[i]; }
    template <typename V> static __device__ __forceinline__ void st(int32_t *p, int64_t i, V v)
    {
        p[i] = (int32_t)(uint32_t)(uint64_t)(int64_t)v;
    }
    static __device__ __forceinline__ int64_t narrow(int64_t v)
    {
        return (int32_t)(uint32_t)(uint64_t)v;
    }
};
template <> struct tr<int64_t> {
    typedef int64_t C;
    static constexpr bool is_float = false;
    static __device__ __forceinline__ int64_t ld(const int64_t *p, int64_t i) { return p[i]; }
    template <typename V> static __device__ __forceinline__ void st(int64_t *p, int64_t i, V v)
    {
        p[i] = (int64_t)v;
    }
    static __device__ __forceinline__ int64_t narrow(int64_t v) { return v; }
};
template <> struct tr<uint8_t> {
    typedef uint64_t C;
    static __device__ __forceinline__ uint64_t ld(const uint8_t *p, int64_t i) { return p[i]; }
    template <typename V> static __device__ __forceinline__ void st(uint8_t *p, int64_t i, V v)
    {
        p[i] = v != (V)0;
    }
    static __device__ __forceinline__ uint64_t narrow(uint64_t v) { return v; }
};

/* ---- scalar ops ------------------------------------------------------------------------------ */

/* Attribute values of a unary map (av__ew_params without Clip's bounds). */
struct ew_dp {
    float alpha, beta, gamma, lambd, bias;
    int detect_pos, detect_neg;
};

__device__ __forceinline__ float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

/* log(1 + e^x) without overflow, as the CPU's Softplus and Mish. */
__device__ __forceinline__ float softplus(float x)
{
    return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

__device__ __forceinline__ float un_f(int op, float x, const ew_dp &p)
{
    switch (op) {
    case AV__EW_NEG: return -x;
    case AV__EW_ABS: return fabsf(x);
    case AV__EW_SIGN: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;
    case AV__EW_RECIPROCAL: return __fdiv_rn(1.0f, x);
    case AV__EW_SQRT: return __fsqrt_rn(x);
    case AV__EW_EXP: return expf(x);
    case AV__EW_LOG: return logf(x);
    case AV__EW_SIN: return sinf(x);
    case AV__EW_COS: return cosf(x);
    case AV__EW_TAN: return tanf(x);
    case AV__EW_ASIN: return asinf(x);
    case AV__EW_ACOS: return acosf(x);
    case AV__EW_ATAN: return atanf(x);
    case AV__EW_SINH: return sinhf(x);
    case AV__EW_COSH: return coshf(x);
    case AV__EW_ASINH: return asinhf(x);
    case AV__EW_ACOSH: return acoshf(x);
    case AV__EW_ATANH: return atanhf(x);
    case AV__EW_TANH: return tanhf(x);
    case AV__EW_SIGMOID:
        if (x >= 0.0f)
            return __fdiv_rn(1.0f, 1.0f + expf(-x));
        else {
            const float e = expf(x);
            return __fdiv_rn(e, 1.0f + e);
        }
    case AV__EW_HARD_SIGMOID: return clamp01(__fadd_rn(__fmul_rn(p.alpha, x), p.beta));
    case AV__EW_HARD_SWISH:
        return __fmul_rn(x, clamp01(__fadd_rn(__fmul_rn(x, 1.0f / 6.0f), 0.5f)));
    case AV__EW_RELU: return x < 0.0f ? 0.0f : x;
    case AV__EW_LEAKY_RELU: return x < 0.0f ? __fmul_rn(p.alpha, x) : x;
    case AV__EW_ELU: return x < 0.0f ? __fmul_rn(p.alpha, expm1f(x)) : x;
    case AV__EW_SELU:
        return x <= 0.0f ? __fmul_rn(__fmul_rn(p.gamma, p.alpha), expm1f(x))
                         : __fmul_rn(p.gamma, x);
    case AV__EW_CELU: return x > 0.0f ? x : __fmul_rn(p.alpha, expm1f(__fdiv_rn(x, p.alpha)));
    case AV__EW_SOFTPLUS: return softplus(x);
    case AV__EW_SOFTSIGN: return __fdiv_rn(x, 1.0f + fabsf(x));
    case AV__EW_MISH: return __fmul_rn(x, tanhf(softplus(x)));
    case AV__EW_ERF: return erff(x);
    case AV__EW_GELU:
        return __fmul_rn(__fmul_rn(0.5f, x),
                         1.0f + erff(__fmul_rn(x, (float)0.70710678118654752440)));
    case AV__EW_GELU_TANH: {
        const float cube = __fmul_rn(__fmul_rn(__fmul_rn((float)0.044715, x), x), x);
        const float inner = __fmul_rn((float)0.79788456080286535588, __fadd_rn(x, cube));
        return __fmul_rn(__fmul_rn(0.5f, x), 1.0f + tanhf(inner));
    }
    case AV__EW_FLOOR: return floorf(x);
    case AV__EW_CEIL: return ceilf(x);
    case AV__EW_ROUND: return rintf(x); /* half to even */
    case AV__EW_THRESHOLDED_RELU: return x > p.alpha ? x : 0.0f;
    case AV__EW_SHRINK:
        return x < -p.lambd ? __fadd_rn(x, p.bias) : x > p.lambd ? __fsub_rn(x, p.bias) : 0.0f;
    case AV__EW_ISNAN: return isnan(x) ? 1.0f : 0.0f;
    case AV__EW_ISINF:
        return isinf(x) && (x > 0.0f ? p.detect_pos : p.detect_neg) ? 1.0f : 0.0f;
    default: return x;
    }
}

__device__ __forceinline__ int64_t wrap_neg(int64_t x) { return (int64_t)(0ull - (uint64_t)x); }

/* double -> int64: truncated toward zero, saturated, NaN 0 (the CPU's ew_sat_i64). */
__device__ __forceinline__ int64_t sat_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 9223372036854775808.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

__device__ __forceinline__ int64_t un_i(int op, int64_t x, const ew_dp &p)
{
    switch (op) {
    case AV__EW_NEG: return wrap_neg(x);
    case AV__EW_ABS: return x < 0 ? wrap_neg(x) : x;
    case AV__EW_SIGN: return (x > 0) - (x < 0);
    case AV__EW_RELU: return x < 0 ? 0 : x;
    /* the CPU's trunc(erf((double)x)): glibc's erf is exactly +-1 from |x| = 6 on, and below 1
     * in magnitude at every integer under 6 */
    case AV__EW_ERF: return x >= 6 ? 1 : x <= -6 ? -1 : 0;
    case AV__EW_SHRINK: {
        const double d = (double)x, l = (double)p.lambd, b = (double)p.bias;
        return sat_i64(d < -l ? __dadd_rn(d, b) : d > l ? __dsub_rn(d, b) : 0.0);
    }
    case AV__EW_BITWISE_NOT: return ~x;
    default: return x;
    }
}

__device__ __forceinline__ uint64_t un_b(int op, uint64_t x)
{
    return op == AV__EW_NOT ? (uint64_t)!x : x;
}

__device__ __forceinline__ float un(int op, float x, const ew_dp &p) { return un_f(op, x, p); }
__device__ __forceinline__ int64_t un(int op, int64_t x, const ew_dp &p) { return un_i(op, x, p); }
__device__ __forceinline__ uint64_t un(int op, uint64_t x, const ew_dp &) { return un_b(op, x); }

__device__ __forceinline__ float bin_f(int op, float x, float y)
{
    switch (op) {
    case AV__EW_ADD: return __fadd_rn(x, y);
    case AV__EW_SUB: return __fsub_rn(x, y);
    case AV__EW_MUL: return __fmul_rn(x, y);
    case AV__EW_DIV: return __fdiv_rn(x, y);
    case AV__EW_FMOD: return fmodf(x, y);
    case AV__EW_POW: return powf(x, y);
    case AV__EW_MAX: return x > y || x != x ? x : y;
    case AV__EW_MIN: return x < y || x != x ? x : y;
    case AV__EW_PRELU: return x < 0.0f ? __fmul_rn(x, y) : x;
    case AV__EW_EQUAL: return x == y ? 1.0f : 0.0f;
    case AV__EW_LESS: return x < y ? 1.0f : 0.0f;
    case AV__EW_LESS_EQUAL: return x <= y ? 1.0f : 0.0f;
    case AV__EW_GREATER: return x > y ? 1.0f : 0.0f;
    case AV__EW_GREATER_EQUAL: return x >= y ? 1.0f : 0.0f;
    default: return x;
    }
}

__device__ __forceinline__ uint64_t ipow(uint64_t base, uint64_t e)
{
    uint64_t r = 1;
    while (e) {
        if (e & 1)
            r *= base;
        base *= base;
        e >>= 1;
    }
    return r;
}

__device__ __forceinline__ int64_t pow_i(int64_t x, int64_t y)
{
    /* negative exponents truncate 1 / x^-y toward zero */
    if (y < 0)
        return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    return (int64_t)ipow((uint64_t)x, (uint64_t)y);
}

__device__ __forceinline__ int64_t bin_i(int op, int64_t x, int64_t y)
{
    switch (op) {
    case AV__EW_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
    case AV__EW_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
    case AV__EW_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
    case AV__EW_DIV: return y == 0 ? 0 : y == -1 ? wrap_neg(x) : x / y;
    case AV__EW_MOD: {
        if (y == 0 || y == -1)
            return 0;
        const int64_t r = x % y;
        return r != 0 && (r < 0) != (y < 0) ? r + y : r;
    }
    case AV__EW_FMOD: return y == 0 || y == -1 ? 0 : x % y;
    case AV__EW_POW: return pow_i(x, y);
    case AV__EW_MAX: return x > y ? x : y;
    case AV__EW_MIN: return x < y ? x : y;
    case AV__EW_PRELU: return x < 0 ? (int64_t)((uint64_t)x * (uint64_t)y) : x;
    case AV__EW_EQUAL: return x == y;
    case AV__EW_LESS: return x < y;
    case AV__EW_LESS_EQUAL: return x <= y;
    case AV__EW_GREATER: return x > y;
    case AV__EW_GREATER_EQUAL: return x >= y;
    case AV__EW_BITWISE_AND: return x & y;
    case AV__EW_BITWISE_OR: return x | y;
    case AV__EW_BITWISE_XOR: return x ^ y;
    default: return x;
    }
}

/* bool operands: any non-zero byte is true */
__device__ __forceinline__ uint64_t bin_b(int op, uint64_t x, uint64_t y)
{
    switch (op) {
    case AV__EW_EQUAL: return (x != 0) == (y != 0);
    case AV__EW_AND: return x && y;
    case AV__EW_OR: return x || y;
    case AV__EW_XOR: return (x != 0) != (y != 0);
    default: return x;
    }
}

__device__ __forceinline__ float bin(int op, float x, float y) { return bin_f(op, x, y); }
__device__ __forceinline__ int64_t bin(int op, int64_t x, int64_t y) { return bin_i(op, x, y); }
__device__ __forceinline__ uint64_t bin(int op, uint64_t x, uint64_t y) { return bin_b(op, x, y); }

/* ---- exact conversions (ports of src/ops/op_util.c and elementwise_cast.c) ------------------ */

__device__ __forceinline__ float f16_to_f32(uint16_t h)
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
    return __uint_as_float(bits);
}

__device__ __forceinline__ uint16_t f32_to_f16(float f)
{
    const uint32_t x = __float_as_uint(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff) /* inf or NaN (NaN kept quiet and non-zero) */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    const int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 0x1f)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) { /* subnormal or zero in half */
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        const uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift;
        const uint32_t rem = man & ((1u << shift) - 1);
        const uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (man >> 13);
    const uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
        half++; /* may carry into the exponent, up to inf */
    return (uint16_t)half;
}

__device__ __forceinline__ float bf16_to_f32(uint16_t h)
{
    return __uint_as_float((uint32_t)h << 16);
}

__device__ __forceinline__ uint16_t f32_to_bf16(float f)
{
    uint32_t x = __float_as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a quiet NaN */
        return (uint16_t)((x >> 16) | 0x40u);
    const uint32_t lsb = (x >> 16) & 1u;
    x += 0x7fffu + lsb;
    return (uint16_t)(x >> 16);
}

/* v rounded to float "to odd" (the last bit set when inexact): rounding that once more to
 * float16 or bfloat16 equals rounding v directly (the CPU's ew_f64_to_f32_odd). */
__device__ __forceinline__ float f64_to_f32_odd(double v)
{
    float f = __double2float_rz(v);
    if (v == v && (double)f != v)
        f = __uint_as_float(__float_as_uint(f) | 1u);
    return f;
}

/* Truncation toward zero saturated to [lo, hi] (both exact), NaN 0. */
__device__ __forceinline__ int64_t trunc_sat(double v, double lo, double hi)
{
    if (v != v)
        return 0;
    if (v <= lo)
        return (int64_t)lo;
    if (v >= hi)
        return (int64_t)hi;
    return (int64_t)v;
}

/* ---- broadcasting ---------------------------------------------------------------------------
 * An output walked in C order, read from K inputs at element strides (0 along broadcast dims);
 * size-1 dims dropped and dims merged where every input is contiguous across them (the CPU's
 * ew_plan), so equal shapes become one dim and the offsets need no division. */
template <int K> struct bc_plan {
    int ndim;
    int64_t shape[AV__MAX_DIMS];
    int64_t stride[K][AV__MAX_DIMS];
};

template <int K>
__device__ __forceinline__ void bc_offsets(const bc_plan<K> &pl, int64_t i, int64_t (&off)[K])
{
#pragma unroll
    for (int j = 0; j < K; j++)
        off[j] = 0;
    for (int d = pl.ndim - 1; d > 0; d--) {
        const int64_t s = pl.shape[d];
        const int64_t q = i / s, c = i - q * s;
#pragma unroll
        for (int j = 0; j < K; j++)
            off[j] += c * pl.stride[j][d];
        i = q;
    }
#pragma unroll
    for (int j = 0; j < K; j++)
        off[j] += i * pl.stride[j][0];
}

/* ---- kernels --------------------------------------------------------------------------------- */

template <int OP, typename T, typename TO>
__global__ void k_unary(const T *x, TO *y, int64_t n, ew_dp p)
{
    EW_LOOP(i, n)
    tr<TO>::st(y, i, un(OP, tr<T>::ld(x, i), p));
}

/* Clip: min(max(x, lo), hi) (all hi when lo > hi; NaN passes); a bound is element 0 of its
 * tensor when given, else the default. */
template <typename T>
__global__ void k_clip(const T *x, T *y, int64_t n, const T *lo_p, const T *hi_p,
                       typename tr<T>::C lo_d, typename tr<T>::C hi_d)
{
    typedef typename tr<T>::C C;
    const C lo = lo_p ? tr<T>::ld(lo_p, 0) : lo_d, hi = hi_p ? tr<T>::ld(hi_p, 0) : hi_d;
    EW_LOOP(i, n)
    {
        C v = tr<T>::ld(x, i);
        v = v < lo ? lo : v;
        tr<T>::st(y, i, v > hi ? hi : v);
    }
}

/* o may be a (the variadic ops fold into their output): element i is read before it is
 * written, by the same thread. */
template <int OP, typename T, typename TO>
__global__ void k_binary(const T *a, const T *b, TO *o, bc_plan<2> pl, int64_t n)
{
    EW_LOOP(i, n)
    {
        int64_t off[2];
        bc_offsets<2>(pl, i, off);
        tr<TO>::st(o, i, bin(OP, tr<T>::ld(a, off[0]), tr<T>::ld(b, off[1])));
    }
}

/* Stores of a double result into a Pow base dtype, as the CPU's av__ew_store_f64. */
__device__ __forceinline__ void st_f64(float *p, int64_t i, double v) { p[i] = (float)v; }
__device__ __forceinline__ void st_f64(__half *p, int64_t i, double v)
{
    p[i] = __ushort_as_half(f32_to_f16(f64_to_f32_odd(v)));
}
__device__ __forceinline__ void st_f64(int32_t *p, int64_t i, double v)
{
    p[i] = (int32_t)trunc_sat(v, -2147483648.0, 2147483647.0);
}
__device__ __forceinline__ void st_f64(int64_t *p, int64_t i, double v) { p[i] = sat_i64(v); }

/* Pow with base dtype TB != exponent dtype TE: in double when either is a float type (result
 * stored rounded, or truncated and saturated), else exactly in integers (wrapping). */
template <typename TB, typename TE>
__global__ void k_pow_mixed(const TB *a, const TE *b, TB *o, bc_plan<2> pl, int64_t n)
{
    EW_LOOP(i, n)
    {
        int64_t off[2];
        bc_offsets<2>(pl, i, off);
        if constexpr (tr<TB>::is_float || tr<TE>::is_float) {
            const double x = (double)tr<TB>::ld(a, off[0]), y = (double)tr<TE>::ld(b, off[1]);
            st_f64(o, i, pow(x, y));
        } else {
            const int64_t x = (int64_t)tr<TB>::ld(a, off[0]), y = (int64_t)tr<TE>::ld(b, off[1]);
            tr<TB>::st(o, i, pow_i(x, y));
        }
    }
}

/* out = out / c (Mean's last step; c is the input count, exact in every float dtype). */
template <typename T> __global__ void k_div_scalar(T *o, int64_t n, float c)
{
    EW_LOOP(i, n)
    tr<T>::st(o, i, __fdiv_rn(tr<T>::ld(o, i), c));
}

template <typename E>
__global__ void k_where(const uint8_t *c, const E *x, const E *y, E *o, bc_plan<3> pl, int64_t n)
{
    EW_LOOP(i, n)
    {
        int64_t off[3];
        bc_offsets<3>(pl, i, off);
        o[i] = c[off[0]] ? x[off[1]] : y[off[2]];
    }
}

template <typename E> __global__ void k_copy(const E *x, E *y, int64_t n)
{
    EW_LOOP(i, n)
    y[i] = x[i];
}

template <typename E> __global__ void k_fill(E *y, int64_t n, E v)
{
    EW_LOOP(i, n)
    y[i] = v;
}

/* ---- Cast -------------------------------------------------------------------------------------
 * Tag types keep the storage formats apart; a float source loads as float (exact for float16
 * and bfloat16), an integer or bool source as int64, and each store converts as the CPU's
 * av__ew_store_f64 / av__ew_store_i64 do. */
struct f16b { uint16_t u; };
struct bf16b { uint16_t u; };
struct boolb { uint8_t u; };

__device__ __forceinline__ float cast_ld(const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float cast_ld(const f16b *p, int64_t i) { return f16_to_f32(p[i].u); }
__device__ __forceinline__ float cast_ld(const bf16b *p, int64_t i) { return bf16_to_f32(p[i].u); }
__device__ __forceinline__ int64_t cast_ld(const int64_t *p, int64_t i) { return p[i]; }
__device__ __forceinline__ int64_t cast_ld(const int32_t *p, int64_t i) { return p[i]; }
__device__ __forceinline__ int64_t cast_ld(const int8_t *p, int64_t i) { return p[i]; }
__device__ __forceinline__ int64_t cast_ld(const uint8_t *p, int64_t i) { return p[i]; }
__device__ __forceinline__ int64_t cast_ld(const boolb *p, int64_t i) { return p[i].u != 0; }

__device__ __forceinline__ void cast_st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void cast_st(float *p, int64_t i, int64_t v) { p[i] = (float)v; }
__device__ __forceinline__ void cast_st(f16b *p, int64_t i, float v) { p[i].u = f32_to_f16(v); }
__device__ __forceinline__ void cast_st(f16b *p, int64_t i, int64_t v)
{
    p[i].u = f32_to_f16(f64_to_f32_odd((double)v));
}
__device__ __forceinline__ void cast_st(bf16b *p, int64_t i, float v) { p[i].u = f32_to_bf16(v); }
__device__ __forceinline__ void cast_st(bf16b *p, int64_t i, int64_t v)
{
    p[i].u = f32_to_bf16(f64_to_f32_odd((double)v));
}
__device__ __forceinline__ void cast_st(int64_t *p, int64_t i, float v) { p[i] = sat_i64(v); }
__device__ __forceinline__ void cast_st(int64_t *p, int64_t i, int64_t v) { p[i] = v; }
__device__ __forceinline__ void cast_st(int32_t *p, int64_t i, float v)
{
    p[i] = (int32_t)trunc_sat(v, -2147483648.0, 2147483647.0);
}
__device__ __forceinline__ void cast_st(int32_t *p, int64_t i, int64_t v)
{
    p[i] = (int32_t)(uint32_t)(uint64_t)v;
}
__device__ __forceinline__ void cast_st(int8_t *p, int64_t i, float v)
{
    p[i] = (int8_t)trunc_sat(v, -128.0, 127.0);
}
__device__ __forceinline__ void cast_st(int8_t *p, int64_t i, int64_t v)
{
    p[i] = (int8_t)(uint8_t)(uint64_t)v;
}
__device__ __forceinline__ void cast_st(uint8_t *p, int64_t i, float v)
{
    p[i] = (uint8_t)trunc_sat(v, 0.0, 255.0);
}
__device__ __forceinline__ void cast_st(uint8_t *p, int64_t i, int64_t v)
{
    p[i] = (uint8_t)(uint64_t)v;
}
__device__ __forceinline__ void cast_st(boolb *p, int64_t i, float v) { p[i].u = v != 0.0f; }
__device__ __forceinline__ void cast_st(boolb *p, int64_t i, int64_t v) { p[i].u = v != 0; }

/* float64: loads as double; stores from double as av__ew_store_f64, into double exactly */
__device__ __forceinline__ double cast_ld(const double *p, int64_t i) { return p[i]; }
__device__ __forceinline__ void cast_st(double *p, int64_t i, float v) { p[i] = (double)v; }
__device__ __forceinline__ void cast_st(double *p, int64_t i, int64_t v) { p[i] = (double)v; }
__device__ __forceinline__ void cast_st(double *p, int64_t i, double v) { p[i] = v; }
__device__ __forceinline__ void cast_st(float *p, int64_t i, double v) { p[i] = (float)v; }
__device__ __forceinline__ void cast_st(f16b *p, int64_t i, double v)
{
    p[i].u = f32_to_f16(f64_to_f32_odd(v));
}
__device__ __forceinline__ void cast_st(bf16b *p, int64_t i, double v)
{
    p[i].u = f32_to_bf16(f64_to_f32_odd(v));
}
__device__ __forceinline__ void cast_st(int64_t *p, int64_t i, double v) { p[i] = sat_i64(v); }
__device__ __forceinline__ void cast_st(int32_t *p, int64_t i, double v)
{
    p[i] = (int32_t)trunc_sat(v, -2147483648.0, 2147483647.0);
}
__device__ __forceinline__ void cast_st(int8_t *p, int64_t i, double v)
{
    p[i] = (int8_t)trunc_sat(v, -128.0, 127.0);
}
__device__ __forceinline__ void cast_st(uint8_t *p, int64_t i, double v)
{
    p[i] = (uint8_t)trunc_sat(v, 0.0, 255.0);
}
__device__ __forceinline__ void cast_st(boolb *p, int64_t i, double v) { p[i].u = v != 0.0; }

/* IsNaN / IsInf of float64 (the float kernels compute in float, which would keep a NaN but turn
 * a finite double beyond float's range into inf) */
__global__ void k_isnan_f64(const double *x, uint8_t *y, int64_t n)
{
    EW_LOOP(i, n)
    y[i] = isnan(x[i]);
}

__global__ void k_isinf_f64(const double *x, uint8_t *y, int64_t n, int pos, int neg)
{
    EW_LOOP(i, n)
    y[i] = isinf(x[i]) && (x[i] > 0.0 ? pos : neg);
}

template <typename S, typename D> __global__ void k_cast(const S *x, D *y, int64_t n)
{
    EW_LOOP(i, n)
    cast_st(y, i, cast_ld(x, i));
}

/* ---- Random* (the CPU's av__rng_*, bit for bit) ---------------------------------------------- */

__device__ __forceinline__ uint64_t rng_u64(uint64_t seed, uint64_t index)
{
    uint64_t z =
        seed * 0x9e3779b97f4a7c15ull + index * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

__device__ __forceinline__ float rng_uniform(uint64_t seed, uint64_t index)
{
    return __fmul_rn((float)(rng_u64(seed, index) >> 40), 1.0f / 16777216.0f);
}

__device__ __forceinline__ float rng_normal(uint64_t seed, uint64_t index)
{
    const double u1 = __dmul_rn((double)(rng_u64(seed, 2 * index) >> 11) + 1.0,
                                1.0 / 9007199254740992.0);
    const double u2 = __dmul_rn((double)(rng_u64(seed, 2 * index + 1) >> 11),
                                1.0 / 9007199254740992.0);
    return (float)__dmul_rn(sqrt(__dmul_rn(-2.0, log(u1))), cos(__dmul_rn(6.283185307179586, u2)));
}

/* Stores as the CPU's random_fill: float32 directly, the others via av__tensor_set_f64 (through
 * float32). */
__device__ __forceinline__ void rnd_st(float *p, int64_t i, double v) { p[i] = (float)v; }
__device__ __forceinline__ void rnd_st(f16b *p, int64_t i, double v)
{
    p[i].u = f32_to_f16((float)v);
}
__device__ __forceinline__ void rnd_st(bf16b *p, int64_t i, double v)
{
    p[i].u = f32_to_bf16((float)v);
}

/* normal: mean a + scale b * N(0, 1); uniform: low a + (high - low) b * U[0, 1) */
template <typename D>
__global__ void k_random(D *y, int64_t n, uint64_t seed, int normal, double a, double b)
{
    EW_LOOP(i, n)
    {
        const double r = normal ? (double)rng_normal(seed, (uint64_t)i)
                                : (double)rng_uniform(seed, (uint64_t)i);
        rnd_st(y, i, __dadd_rn(a, __dmul_rn(b, r)));
    }
}

/* ---- ElementwiseChain ------------------------------------------------------------------------
 * The program travels by value (about 3.4 KiB of kernel parameters). Operand a of a binary step
 * is X itself when 0, else input a: element 0, or the element of the current channel when the
 * operand is per channel. Clip bounds are element 0 of inputs a (min) and b (max), -1 none. */
constexpr int CHAIN_MAX_IN = 2 * AV__EW_CHAIN_MAX_STEPS + 1;

struct chain_step_d {
    int16_t op;      /* av__ew_unop or av__ew_binop */
    int8_t binary;
    int8_t swap;     /* binary: the running value is the right operand */
    int16_t a, b;
    ew_dp p;
};

struct chain_args {
    int n_steps;
    int64_t inner, channels;   /* X as [outer][channels][inner] around the operands' axis */
    uint32_t per_channel[(CHAIN_MAX_IN + 31) / 32];  /* bit i: input i is per channel */
    const void *opnd[CHAIN_MAX_IN];
    chain_step_d s[AV__EW_CHAIN_MAX_STEPS];
};

template <typename C> __device__ __forceinline__ C lowest();
template <> __device__ __forceinline__ float lowest<float>() { return -INFINITY; }
template <> __device__ __forceinline__ int64_t lowest<int64_t>() { return INT64_MIN; }
template <typename C> __device__ __forceinline__ C highest();
template <> __device__ __forceinline__ float highest<float>() { return INFINITY; }
template <> __device__ __forceinline__ int64_t highest<int64_t>() { return INT64_MAX; }

template <typename T> __global__ void k_chain(const T *x, T *y, int64_t n, chain_args ca)
{
    typedef typename tr<T>::C C;
    EW_LOOP(i, n)
    {
        const C x0 = tr<T>::ld(x, i);
        const int64_t c = ca.channels > 1 ? (i / ca.inner) % ca.channels : 0;
        C v = x0;
        for (int k = 0; k < ca.n_steps; k++) {
            const chain_step_d &s = ca.s[k];
            if (s.binary) {
                C o = x0;
                if (s.a > 0) {
                    const bool pc = (ca.per_channel[s.a >> 5] >> (s.a & 31)) & 1u;
                    o = tr<T>::ld((const T *)ca.opnd[s.a], pc ? c : 0);
                }
                v = s.swap ? bin(s.op, o, v) : bin(s.op, v, o);
            } else if (s.op == AV__EW_CLIP) {
                const C lo = s.a > 0 ? tr<T>::ld((const T *)ca.opnd[s.a], 0) : lowest<C>();
                const C hi = s.b > 0 ? tr<T>::ld((const T *)ca.opnd[s.b], 0) : highest<C>();
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
            } else {
                v = un(s.op, v, s.p);
            }
            v = tr<T>::narrow(v); /* int32 steps wrap as the CPU's per-step stores do */
        }
        tr<T>::st(y, i, v);
    }
}

/* ---- host side: per-node state --------------------------------------------------------------- */

struct ew_state;
typedef av_status (*ew_launch_fn)(const av__cuda_ctx *ctx, const ew_state *s);

/* Every state starts with this header (the derived structs hold it as their first member). */
struct ew_state {
    ew_launch_fn launch;
    int64_t n;       /* output elements */
    void *extra;     /* freed with the state (variadic plans) */
};

struct unary_state {
    ew_state h;
    ew_dp p;
};
struct clip_state {
    ew_state h;
    int attr;        /* bounds from attributes (before opset 11) */
    float lo, hi;
};
struct binary_state {
    ew_state h;
    bc_plan<2> pl;
};
struct variadic_state {
    ew_state h;
    int n_in;
    int mean;
    const bc_plan<2> *pl;   /* n_in - 1 plans (in extra) */
};
struct where_state {
    ew_state h;
    bc_plan<3> pl;
};
struct dropout_state {
    ew_state h;
    int esz;         /* bytes per element of X and Y */
    int mask_size;   /* bytes per mask element; 0: no mask output */
    uint64_t mask_one;
};
struct random_state {
    ew_state h;
    uint64_t seed;
    int normal;
    double a, b;
};
struct chain_state {
    ew_state h;
    chain_args args; /* opnd filled by run() */
};
struct plain_state {
    ew_state h;
};

template <typename S> const S *as(const ew_state *s) { return reinterpret_cast<const S *>(s); }

unsigned blocks_for(int64_t n) { return av__cuda_blocks(n, EW_THREADS); }

av_status launched(const av__cuda_ctx *ctx)
{
    return AV__CUDA_CHECK_LAUNCH(ctx, ctx->op->node->op_type);
}

const void *in_data(const av__cuda_ctx *ctx, int i) { return ctx->op->in[i]->data; }
void *out_data(const av__cuda_ctx *ctx, int i) { return ctx->op->out[i]->data; }

av_status launch_nothing(const av__cuda_ctx *, const ew_state *) { return AV_STATUS_OK; }

av_status launch_isnan_f64(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_isnan_f64<<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const double *)in_data(ctx, 0), (uint8_t *)out_data(ctx, 0), s->n);
    return launched(ctx);
}

av_status launch_isinf_f64(const av__cuda_ctx *ctx, const ew_state *s)
{
    const ew_dp &p = as<unary_state>(s)->p;
    k_isinf_f64<<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const double *)in_data(ctx, 0), (uint8_t *)out_data(ctx, 0), s->n, p.detect_pos,
        p.detect_neg);
    return launched(ctx);
}

template <int OP, typename T, typename TO>
av_status launch_unary(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_unary<OP, T, TO><<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const T *)in_data(ctx, 0), (TO *)out_data(ctx, 0), s->n, as<unary_state>(s)->p);
    return launched(ctx);
}

template <typename T> av_status launch_clip(const av__cuda_ctx *ctx, const ew_state *s_)
{
    typedef typename tr<T>::C C;
    const clip_state *s = as<clip_state>(s_);
    const av__op_ctx *op = ctx->op;
    const T *lo = NULL, *hi = NULL;
    C lo_d, hi_d;
    if constexpr (tr<T>::is_float) {
        lo_d = s->attr ? (C)s->lo : (C)-INFINITY;
        hi_d = s->attr ? (C)s->hi : (C)INFINITY;
    } else {
        lo_d = (C)INT64_MIN;
        hi_d = (C)INT64_MAX;
    }
    if (!s->attr) {
        if (op->n_in > 1 && op->in[1])
            lo = (const T *)op->in[1]->data;
        if (op->n_in > 2 && op->in[2])
            hi = (const T *)op->in[2]->data;
    }
    k_clip<T><<<blocks_for(s->h.n), EW_THREADS, 0, ctx->env->stream>>>(
        (const T *)in_data(ctx, 0), (T *)out_data(ctx, 0), s->h.n, lo, hi, lo_d, hi_d);
    return launched(ctx);
}

template <int OP, typename T, typename TO>
av_status launch_binary(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_binary<OP, T, TO><<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const T *)in_data(ctx, 0), (const T *)in_data(ctx, 1), (TO *)out_data(ctx, 0),
        as<binary_state>(s)->pl, s->n);
    return launched(ctx);
}

template <typename TB, typename TE>
av_status launch_pow_mixed(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_pow_mixed<TB, TE><<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const TB *)in_data(ctx, 0), (const TE *)in_data(ctx, 1), (TB *)out_data(ctx, 0),
        as<binary_state>(s)->pl, s->n);
    return launched(ctx);
}

/* The CPU's fold: out = in0 op in1, then out = out op in_k; Mean divides last. */
template <int OP, typename T>
av_status launch_variadic(const av__cuda_ctx *ctx, const ew_state *s_)
{
    const variadic_state *s = as<variadic_state>(s_);
    T *out = (T *)out_data(ctx, 0);
    for (int k = 1; k < s->n_in; k++) {
        const T *a = k == 1 ? (const T *)in_data(ctx, 0) : out;
        k_binary<OP, T, T><<<blocks_for(s->h.n), EW_THREADS, 0, ctx->env->stream>>>(
            a, (const T *)in_data(ctx, k), out, s->pl[k - 1], s->h.n);
        av_status st = launched(ctx);
        if (st != AV_STATUS_OK)
            return st;
    }
    if constexpr (tr<T>::is_float) {
        if (!s->mean)
            return AV_STATUS_OK;
        k_div_scalar<T><<<blocks_for(s->h.n), EW_THREADS, 0, ctx->env->stream>>>(
            out, s->h.n, (float)s->n_in);
        return launched(ctx);
    }
    return AV_STATUS_OK;
}

template <typename E> av_status launch_where(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_where<E><<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const uint8_t *)in_data(ctx, 0), (const E *)in_data(ctx, 1), (const E *)in_data(ctx, 2),
        (E *)out_data(ctx, 0), as<where_state>(s)->pl, s->n);
    return launched(ctx);
}

template <typename E> av_status launch_copy(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_copy<E><<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const E *)in_data(ctx, 0), (E *)out_data(ctx, 0), s->n);
    return launched(ctx);
}

template <typename S, typename D> av_status launch_cast(const av__cuda_ctx *ctx, const ew_state *s)
{
    k_cast<S, D><<<blocks_for(s->n), EW_THREADS, 0, ctx->env->stream>>>(
        (const S *)in_data(ctx, 0), (D *)out_data(ctx, 0), s->n);
    return launched(ctx);
}

template <typename E> void copy_any(const av__cuda_ctx *ctx, const void *x, void *y, int64_t n)
{
    k_copy<E><<<blocks_for(n), EW_THREADS, 0, ctx->env->stream>>>((const E *)x, (E *)y, n);
}

template <typename E> void fill_any(const av__cuda_ctx *ctx, void *y, int64_t n, uint64_t bits)
{
    k_fill<E><<<blocks_for(n), EW_THREADS, 0, ctx->env->stream>>>((E *)y, n, (E)bits);
}

/* Y = X; the mask (when asked for) all true, or all 1.0 in X's dtype before opset 10. */
av_status launch_dropout(const av__cuda_ctx *ctx, const ew_state *s_)
{
    const dropout_state *s = as<dropout_state>(s_);
    const av__op_ctx *op = ctx->op;
    if (op->out[0]) {
        const void *x = in_data(ctx, 0);
        void *y = out_data(ctx, 0);
        switch (s->esz) {
        case 1: copy_any<uint8_t>(ctx, x, y, s->h.n); break;
        case 2: copy_any<uint16_t>(ctx, x, y, s->h.n); break;
        case 4: copy_any<uint32_t>(ctx, x, y, s->h.n); break;
        default: copy_any<uint64_t>(ctx, x, y, s->h.n); break;
        }
        av_status st = launched(ctx);
        if (st != AV_STATUS_OK)
            return st;
    }
    if (s->mask_size) {
        void *m = out_data(ctx, 1);
        switch (s->mask_size) {
        case 1: fill_any<uint8_t>(ctx, m, s->h.n, s->mask_one); break;
        case 2: fill_any<uint16_t>(ctx, m, s->h.n, s->mask_one); break;
        case 4: fill_any<uint32_t>(ctx, m, s->h.n, s->mask_one); break;
        default: fill_any<uint64_t>(ctx, m, s->h.n, s->mask_one); break;
        }
        return launched(ctx);
    }
    return AV_STATUS_OK;
}

template <typename D> av_status launch_random(const av__cuda_ctx *ctx, const ew_state *s_)
{
    const random_state *s = as<random_state>(s_);
    k_random<D><<<blocks_for(s->h.n), EW_THREADS, 0, ctx->env->stream>>>(
        (D *)out_data(ctx, 0), s->h.n, s->seed, s->normal, s->a, s->b);
    return launched(ctx);
}

template <typename T> av_status launch_chain(const av__cuda_ctx *ctx, const ew_state *s_)
{
    const chain_state *s = as<chain_state>(s_);
    chain_args args = s->args;
    for (int i = 1; i < ctx->op->n_in && i < CHAIN_MAX_IN; i++)
        args.opnd[i] = ctx->op->in[i]->data;
    k_chain<T><<<blocks_for(s->h.n), EW_THREADS, 0, ctx->env->stream>>>(
        (const T *)in_data(ctx, 0), (T *)out_data(ctx, 0), s->h.n, args);
    return launched(ctx);
}

/* ---- choosing the instantiation ------------------------------------------------------------ */

#define EW_UNARY_FLOAT_OPS(X)                                                              \
    X(AV__EW_NEG) X(AV__EW_ABS) X(AV__EW_SIGN) X(AV__EW_RECIPROCAL) X(AV__EW_SQRT)         \
    X(AV__EW_EXP) X(AV__EW_LOG) X(AV__EW_SIN) X(AV__EW_COS) X(AV__EW_TAN) X(AV__EW_ASIN)   \
    X(AV__EW_ACOS) X(AV__EW_ATAN) X(AV__EW_SINH) X(AV__EW_COSH) X(AV__EW_ASINH)            \
    X(AV__EW_ACOSH) X(AV__EW_ATANH) X(AV__EW_TANH) X(AV__EW_SIGMOID)                       \
    X(AV__EW_HARD_SIGMOID) X(AV__EW_HARD_SWISH) X(AV__EW_RELU) X(AV__EW_LEAKY_RELU)        \
    X(AV__EW_ELU) X(AV__EW_SELU) X(AV__EW_CELU) X(AV__EW_SOFTPLUS) X(AV__EW_SOFTSIGN)      \
    X(AV__EW_MISH) X(AV__EW_ERF) X(AV__EW_GELU) X(AV__EW_GELU_TANH) X(AV__EW_FLOOR)        \
    X(AV__EW_CEIL) X(AV__EW_ROUND) X(AV__EW_THRESHOLDED_RELU) X(AV__EW_SHRINK)
#define EW_UNARY_INT_OPS(X)                                                                \
    X(AV__EW_NEG) X(AV__EW_ABS) X(AV__EW_SIGN) X(AV__EW_RELU) X(AV__EW_ERF)                \
    X(AV__EW_SHRINK) X(AV__EW_BITWISE_NOT)
#define EW_BINARY_FLOAT_OPS(X)                                                             \
    X(AV__EW_ADD) X(AV__EW_SUB) X(AV__EW_MUL) X(AV__EW_DIV) X(AV__EW_FMOD) X(AV__EW_POW)   \
    X(AV__EW_MAX) X(AV__EW_MIN) X(AV__EW_PRELU)
#define EW_BINARY_INT_OPS(X)                                                               \
    X(AV__EW_ADD) X(AV__EW_SUB) X(AV__EW_MUL) X(AV__EW_DIV) X(AV__EW_MOD) X(AV__EW_FMOD)   \
    X(AV__EW_POW) X(AV__EW_MAX) X(AV__EW_MIN) X(AV__EW_PRELU) X(AV__EW_BITWISE_AND)        \
    X(AV__EW_BITWISE_OR) X(AV__EW_BITWISE_XOR)
#define EW_COMPARE_OPS(X)                                                                  \
    X(AV__EW_EQUAL) X(AV__EW_LESS) X(AV__EW_LESS_EQUAL) X(AV__EW_GREATER)                  \
    X(AV__EW_GREATER_EQUAL)
#define EW_BINARY_BOOL_OPS(X) X(AV__EW_EQUAL) X(AV__EW_AND) X(AV__EW_OR) X(AV__EW_XOR)

template <typename T> ew_launch_fn pick_unary_float(int op)
{
    switch (op) {
#define EW_CASE(OP) case OP: return launch_unary<OP, T, T>;
        EW_UNARY_FLOAT_OPS(EW_CASE)
#undef EW_CASE
    case AV__EW_ISNAN: return launch_unary<AV__EW_ISNAN, T, uint8_t>;
    case AV__EW_ISINF: return launch_unary<AV__EW_ISINF, T, uint8_t>;
    default: return NULL;
    }
}

template <typename T> ew_launch_fn pick_unary_int(int op)
{
    switch (op) {
#define EW_CASE(OP) case OP: return launch_unary<OP, T, T>;
        EW_UNARY_INT_OPS(EW_CASE)
#undef EW_CASE
    default: return NULL;
    }
}

ew_launch_fn pick_unary(int op, av__dtype t)
{
    switch (t) {
    case AV__DT_F32: return pick_unary_float<float>(op);
    case AV__DT_F16: return pick_unary_float<__half>(op);
    case AV__DT_I32: return pick_unary_int<int32_t>(op);
    case AV__DT_I64: return pick_unary_int<int64_t>(op);
    case AV__DT_BOOL: return op == AV__EW_NOT ? launch_unary<AV__EW_NOT, uint8_t, uint8_t> : NULL;
    case AV__DT_F64:
        return op == AV__EW_ISNAN ? launch_isnan_f64 : op == AV__EW_ISINF ? launch_isinf_f64 : NULL;
    default: return NULL;
    }
}

template <typename T> ew_launch_fn pick_binary_float(int op)
{
    switch (op) {
#define EW_CASE(OP) case OP: return launch_binary<OP, T, T>;
        EW_BINARY_FLOAT_OPS(EW_CASE)
#undef EW_CASE
#define EW_CASE(OP) case OP: return launch_binary<OP, T, uint8_t>;
        EW_COMPARE_OPS(EW_CASE)
#undef EW_CASE
    default: return NULL;
    }
}

template <typename T> ew_launch_fn pick_binary_int(int op)
{
    switch (op) {
#define EW_CASE(OP) case OP: return launch_binary<OP, T, T>;
        EW_BINARY_INT_OPS(EW_CASE)
#undef EW_CASE
#define EW_CASE(OP) case OP: return launch_binary<OP, T, uint8_t>;
        EW_COMPARE_OPS(EW_CASE)
#undef EW_CASE
    default: return NULL;
    }
}

ew_launch_fn pick_binary(int op, av__dtype t)
{
    switch (t) {
    case AV__DT_F32: return pick_binary_float<float>(op);
    case AV__DT_F16: return pick_binary_float<__half>(op);
    case AV__DT_I32: return pick_binary_int<int32_t>(op);
    case AV__DT_I64: return pick_binary_int<int64_t>(op);
    case AV__DT_BOOL:
        switch (op) {
#define EW_CASE(OP) case OP: return launch_binary<OP, uint8_t, uint8_t>;
            EW_BINARY_BOOL_OPS(EW_CASE)
#undef EW_CASE
        default: return NULL;
        }
    default: return NULL;
    }
}

template <typename TB> ew_launch_fn pick_pow_exponent(av__dtype te)
{
    switch (te) {
    case AV__DT_F32: return launch_pow_mixed<TB, float>;
    case AV__DT_F16: return launch_pow_mixed<TB, __half>;
    case AV__DT_I32: return launch_pow_mixed<TB, int32_t>;
    case AV__DT_I64: return launch_pow_mixed<TB, int64_t>;
    default: return NULL;
    }
}

ew_launch_fn pick_pow_mixed(av__dtype tb, av__dtype te)
{
    switch (tb) {
    case AV__DT_F32: return pick_pow_exponent<float>(te);
    case AV__DT_F16: return pick_pow_exponent<__half>(te);
    case AV__DT_I32: return pick_pow_exponent<int32_t>(te);
    case AV__DT_I64: return pick_pow_exponent<int64_t>(te);
    default: return NULL;
    }
}

ew_launch_fn pick_variadic(int op, av__dtype t)
{
    switch (op) {
    case AV__EW_ADD:
        return t == AV__DT_F32 ? launch_variadic<AV__EW_ADD, float>
             : t == AV__DT_F16 ? launch_variadic<AV__EW_ADD, __half> : NULL;
    case AV__EW_MAX:
        switch (t) {
        case AV__DT_F32: return launch_variadic<AV__EW_MAX, float>;
        case AV__DT_F16: return launch_variadic<AV__EW_MAX, __half>;
        case AV__DT_I32: return launch_variadic<AV__EW_MAX, int32_t>;
        case AV__DT_I64: return launch_variadic<AV__EW_MAX, int64_t>;
        default: return NULL;
        }
    case AV__EW_MIN:
        switch (t) {
        case AV__DT_F32: return launch_variadic<AV__EW_MIN, float>;
        case AV__DT_F16: return launch_variadic<AV__EW_MIN, __half>;
        case AV__DT_I32: return launch_variadic<AV__EW_MIN, int32_t>;
        case AV__DT_I64: return launch_variadic<AV__EW_MIN, int64_t>;
        default: return NULL;
        }
    default: return NULL;
    }
}

/* A plain copy of elements of `size` bytes (Identity, same-dtype Cast, one-input variadics). */
ew_launch_fn pick_copy(size_t size)
{
    switch (size) {
    case 1: return launch_copy<uint8_t>;
    case 2: return launch_copy<uint16_t>;
    case 4: return launch_copy<uint32_t>;
    case 8: return launch_copy<uint64_t>;
    default: return NULL;
    }
}

template <typename S> ew_launch_fn pick_cast_to(av__dtype d)
{
    switch (d) {
    case AV__DT_F32: return launch_cast<S, float>;
    case AV__DT_F16: return launch_cast<S, f16b>;
    case AV__DT_BF16: return launch_cast<S, bf16b>;
    case AV__DT_I64: return launch_cast<S, int64_t>;
    case AV__DT_I32: return launch_cast<S, int32_t>;
    case AV__DT_I8: return launch_cast<S, int8_t>;
    case AV__DT_U8: return launch_cast<S, uint8_t>;
    case AV__DT_BOOL: return launch_cast<S, boolb>;
    case AV__DT_F64: return launch_cast<S, double>;
    default: return NULL;
    }
}

ew_launch_fn pick_cast(av__dtype s, av__dtype d)
{
    switch (s) {
    case AV__DT_F32: return pick_cast_to<float>(d);
    case AV__DT_F16: return pick_cast_to<f16b>(d);
    case AV__DT_BF16: return pick_cast_to<bf16b>(d);
    case AV__DT_I64: return pick_cast_to<int64_t>(d);
    case AV__DT_I32: return pick_cast_to<int32_t>(d);
    case AV__DT_I8: return pick_cast_to<int8_t>(d);
    case AV__DT_U8: return pick_cast_to<uint8_t>(d);
    case AV__DT_BOOL: return pick_cast_to<boolb>(d);
    case AV__DT_F64: return pick_cast_to<double>(d);
    default: return NULL;
    }
}

ew_launch_fn pick_where(size_t size)
{
    switch (size) {
    case 1: return launch_where<uint8_t>;
    case 2: return launch_where<uint16_t>;
    case 4: return launch_where<uint32_t>;
    case 8: return launch_where<uint64_t>;
    default: return NULL;
    }
}

ew_launch_fn pick_random(av__dtype t)
{
    switch (t) {
    case AV__DT_F32: return launch_random<float>;
    case AV__DT_F16: return launch_random<f16b>;
    case AV__DT_BF16: return launch_random<bf16b>;
    default: return NULL;
    }
}

ew_launch_fn pick_chain(av__dtype t)
{
    switch (t) {
    case AV__DT_F32: return launch_chain<float>;
    case AV__DT_F16: return launch_chain<__half>;
    case AV__DT_I32: return launch_chain<int32_t>;
    case AV__DT_I64: return launch_chain<int64_t>;
    default: return NULL;
    }
}

/* ---- the op table ------------------------------------------------------------------------- */

enum ew_kind {
    EW_K_UNARY, EW_K_CLIP, EW_K_BINARY, EW_K_PRELU, EW_K_POW, EW_K_VARIADIC, EW_K_WHERE,
    EW_K_CAST, EW_K_IDENTITY, EW_K_DROPOUT, EW_K_RANDOM, EW_K_CHAIN
};

enum {
    EW_F_LEGACY = 1u << 0,    /* binary: `broadcast`/`axis` attributes before opset 7 */
    EW_F_BOOL_OUT = 1u << 1,  /* binary: comparisons and logic */
    EW_F_MEAN = 1u << 2,      /* variadic: divide by the input count */
    EW_F_FLOAT = 1u << 3      /* variadic: float dtypes only (Sum, Mean) */
};

struct ew_def {
    const char *name;
    ew_kind kind;
    int op;
    unsigned flags;
};

const ew_def ew_defs[] = {
    {"Abs", EW_K_UNARY, AV__EW_ABS, 0}, {"Acos", EW_K_UNARY, AV__EW_ACOS, 0},
    {"Acosh", EW_K_UNARY, AV__EW_ACOSH, 0}, {"Asin", EW_K_UNARY, AV__EW_ASIN, 0},
    {"Asinh", EW_K_UNARY, AV__EW_ASINH, 0}, {"Atan", EW_K_UNARY, AV__EW_ATAN, 0},
    {"Atanh", EW_K_UNARY, AV__EW_ATANH, 0}, {"BitwiseNot", EW_K_UNARY, AV__EW_BITWISE_NOT, 0},
    {"Ceil", EW_K_UNARY, AV__EW_CEIL, 0}, {"Celu", EW_K_UNARY, AV__EW_CELU, 0},
    {"Cos", EW_K_UNARY, AV__EW_COS, 0}, {"Cosh", EW_K_UNARY, AV__EW_COSH, 0},
    {"Elu", EW_K_UNARY, AV__EW_ELU, 0}, {"Erf", EW_K_UNARY, AV__EW_ERF, 0},
    {"Exp", EW_K_UNARY, AV__EW_EXP, 0}, {"Floor", EW_K_UNARY, AV__EW_FLOOR, 0},
    {"Gelu", EW_K_UNARY, AV__EW_GELU, 0}, {"HardSigmoid", EW_K_UNARY, AV__EW_HARD_SIGMOID, 0},
    {"HardSwish", EW_K_UNARY, AV__EW_HARD_SWISH, 0}, {"IsInf", EW_K_UNARY, AV__EW_ISINF, 0},
    {"IsNaN", EW_K_UNARY, AV__EW_ISNAN, 0}, {"LeakyRelu", EW_K_UNARY, AV__EW_LEAKY_RELU, 0},
    {"Log", EW_K_UNARY, AV__EW_LOG, 0}, {"Mish", EW_K_UNARY, AV__EW_MISH, 0},
    {"Neg", EW_K_UNARY, AV__EW_NEG, 0}, {"Not", EW_K_UNARY, AV__EW_NOT, 0},
    {"Reciprocal", EW_K_UNARY, AV__EW_RECIPROCAL, 0}, {"Relu", EW_K_UNARY, AV__EW_RELU, 0},
    {"Round", EW_K_UNARY, AV__EW_ROUND, 0}, {"Selu", EW_K_UNARY, AV__EW_SELU, 0},
    {"Shrink", EW_K_UNARY, AV__EW_SHRINK, 0}, {"Sigmoid", EW_K_UNARY, AV__EW_SIGMOID, 0},
    {"Sign", EW_K_UNARY, AV__EW_SIGN, 0}, {"Sin", EW_K_UNARY, AV__EW_SIN, 0},
    {"Sinh", EW_K_UNARY, AV__EW_SINH, 0}, {"Softplus", EW_K_UNARY, AV__EW_SOFTPLUS, 0},
    {"Softsign", EW_K_UNARY, AV__EW_SOFTSIGN, 0}, {"Sqrt", EW_K_UNARY, AV__EW_SQRT, 0},
    {"Tan", EW_K_UNARY, AV__EW_TAN, 0}, {"Tanh", EW_K_UNARY, AV__EW_TANH, 0},
    {"ThresholdedRelu", EW_K_UNARY, AV__EW_THRESHOLDED_RELU, 0},
    {"Clip", EW_K_CLIP, AV__EW_CLIP, 0},
    {"Add", EW_K_BINARY, AV__EW_ADD, EW_F_LEGACY}, {"Sub", EW_K_BINARY, AV__EW_SUB, EW_F_LEGACY},
    {"Mul", EW_K_BINARY, AV__EW_MUL, EW_F_LEGACY}, {"Div", EW_K_BINARY, AV__EW_DIV, EW_F_LEGACY},
    {"Mod", EW_K_BINARY, AV__EW_MOD, 0},
    {"Equal", EW_K_BINARY, AV__EW_EQUAL, EW_F_LEGACY | EW_F_BOOL_OUT},
    {"Less", EW_K_BINARY, AV__EW_LESS, EW_F_LEGACY | EW_F_BOOL_OUT},
    {"LessOrEqual", EW_K_BINARY, AV__EW_LESS_EQUAL, EW_F_BOOL_OUT},
    {"Greater", EW_K_BINARY, AV__EW_GREATER, EW_F_LEGACY | EW_F_BOOL_OUT},
    {"GreaterOrEqual", EW_K_BINARY, AV__EW_GREATER_EQUAL, EW_F_BOOL_OUT},
    {"And", EW_K_BINARY, AV__EW_AND, EW_F_LEGACY | EW_F_BOOL_OUT},
    {"Or", EW_K_BINARY, AV__EW_OR, EW_F_LEGACY | EW_F_BOOL_OUT},
    {"Xor", EW_K_BINARY, AV__EW_XOR, EW_F_LEGACY | EW_F_BOOL_OUT},
    {"BitwiseAnd", EW_K_BINARY, AV__EW_BITWISE_AND, 0},
    {"BitwiseOr", EW_K_BINARY, AV__EW_BITWISE_OR, 0},
    {"BitwiseXor", EW_K_BINARY, AV__EW_BITWISE_XOR, 0},
    {"PRelu", EW_K_PRELU, AV__EW_PRELU, 0},
    {"Pow", EW_K_POW, AV__EW_POW, EW_F_LEGACY},
    {"Sum", EW_K_VARIADIC, AV__EW_ADD, EW_F_FLOAT},
    {"Mean", EW_K_VARIADIC, AV__EW_ADD, EW_F_FLOAT | EW_F_MEAN},
    {"Max", EW_K_VARIADIC, AV__EW_MAX, 0}, {"Min", EW_K_VARIADIC, AV__EW_MIN, 0},
    {"Where", EW_K_WHERE, 0, 0},
    {"Cast", EW_K_CAST, 0, 0}, {"CastLike", EW_K_CAST, 0, 0},
    {"Identity", EW_K_IDENTITY, 0, 0}, {"Dropout", EW_K_DROPOUT, 0, 0},
    {"RandomNormal", EW_K_RANDOM, 1, 0}, {"RandomUniform", EW_K_RANDOM, 0, 0},
    {"RandomNormalLike", EW_K_RANDOM, 1, 0}, {"RandomUniformLike", EW_K_RANDOM, 0, 0},
    {AV__EW_CHAIN_OP, EW_K_CHAIN, 0, 0},
};

const ew_def *ew_def_find(const char *op_type)
{
    for (const ew_def &d : ew_defs)
        if (!strcmp(d.name, op_type))
            return &d;
    return NULL;
}

/* ---- prepare: checks and state ------------------------------------------------------------ */

/* "Op: why" into ctx->op->err; UNSUPPORTED sends the node to the CPU. */
__attribute__((format(printf, 2, 3))) av_status ew_decline(const av__cuda_ctx *ctx,
                                                           const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "%s: %s", ctx->op->node->op_type, msg);
}

const char *dt_name(av__dtype t) { return av__dtype_name(t); }

const av__tensor *in_t(const av__cuda_ctx *ctx, int i)
{
    return i < ctx->op->n_in ? ctx->op->in[i] : NULL;
}

const av__tensor *out_t(const av__cuda_ctx *ctx, int i)
{
    return i < ctx->op->n_out ? ctx->op->out[i] : NULL;
}

const av__tensor *host_t(const av__cuda_ctx *ctx, int i)
{
    return ctx->host_in && i < ctx->op->n_in ? ctx->host_in[i] : NULL;
}

template <typename S>
av_status state_new(const av__cuda_ctx *ctx, S **out, ew_launch_fn fn, int64_t n)
{
    S *s = (S *)av__calloc(1, sizeof(S));
    *out = s;
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory",
                             ctx->op->node->op_type);
    s->h.launch = n > 0 ? fn : launch_nothing;
    s->h.n = n;
    return AV_STATUS_OK;
}

void state_free(void *p)
{
    ew_state *s = (ew_state *)p;
    if (s) {
        av__free(s->extra);
        av__free(s);
    }
}

template <int K>
bool bc_build(bc_plan<K> *pl, const av__tensor *out, const av__tensor *const *in)
{
    const int nd = out->ndim;
    int64_t st[K][AV__MAX_DIMS];
    memset(pl, 0, sizeof *pl);
    for (int j = 0; j < K; j++) {
        const int off = nd - in[j]->ndim;
        if (off < 0)
            return false;
        int64_t s = 1;
        for (int k = nd - 1; k >= 0; k--) {
            const int64_t d = k >= off ? in[j]->shape[k - off] : 1;
            if (d != 1 && d != out->shape[k])
                return false;
            st[j][k] = d == 1 ? 0 : s;
            s *= d;
        }
    }
    int m = 0;
    for (int k = 0; k < nd; k++) {
        if (out->shape[k] == 1)
            continue;
        bool merge = m > 0;
        for (int j = 0; j < K && merge; j++)
            merge = pl->stride[j][m - 1] == st[j][k] * out->shape[k];
        if (merge) {
            pl->shape[m - 1] *= out->shape[k];
            for (int j = 0; j < K; j++)
                pl->stride[j][m - 1] = st[j][k];
        } else {
            pl->shape[m] = out->shape[k];
            for (int j = 0; j < K; j++)
                pl->stride[j][m] = st[j][k];
            m++;
        }
    }
    if (m == 0) {
        pl->shape[0] = 1;
        for (int j = 0; j < K; j++)
            pl->stride[j][0] = 0;
        m = 1;
    }
    pl->ndim = m;
    return true;
}

bool is_float_dt(av__dtype t) { return t == AV__DT_F32 || t == AV__DT_F16; }
bool is_int_dt(av__dtype t) { return t == AV__DT_I32 || t == AV__DT_I64; }

/* Input i present. */
av_status need_input(const av__cuda_ctx *ctx, int i)
{
    if (!in_t(ctx, i))
        return ew_decline(ctx, "input %d is missing", i);
    return AV_STATUS_OK;
}

av_status prep_unary(const av__cuda_ctx *ctx, const ew_def *def, ew_state **out)
{
    av_status st = need_input(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = in_t(ctx, 0), *y = out_t(ctx, 0);
    int op = def->op;
    if (op == AV__EW_GELU) {
        const char *a = av__attr_string(ctx->op->node, "approximate", "none");
        if (!strcmp(a, "tanh"))
            op = AV__EW_GELU_TANH;
        else if (strcmp(a, "none") != 0)
            return ew_decline(ctx, "approximate=\"%s\"", a);
    }
    ew_launch_fn fn = pick_unary(op, x->dtype);
    if (!fn)
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(x->dtype));
    const av__dtype yt = op == AV__EW_ISNAN || op == AV__EW_ISINF ? AV__DT_BOOL : x->dtype;
    if (y && (y->dtype != yt || av__cuda_numel(y) != av__cuda_numel(x)))
        return ew_decline(ctx, "output dtype %s or size differs", dt_name(y->dtype));
    unary_state *s;
    if ((st = state_new(ctx, &s, fn, y ? av__cuda_numel(y) : 0)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    av__ew_params p;
    av__ew_unary_params(ctx->op->node, (av__ew_unop)op, &p);
    s->p = ew_dp{p.alpha, p.beta, p.gamma, p.lambd, p.bias, p.detect_positive, p.detect_negative};
    return AV_STATUS_OK;
}

av_status prep_clip(const av__cuda_ctx *ctx, ew_state **out)
{
    av_status st = need_input(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = in_t(ctx, 0), *y = out_t(ctx, 0);
    const int attr = ctx->op->opset < 11;
    ew_launch_fn fn = NULL;
    switch (x->dtype) {
    case AV__DT_F32: fn = launch_clip<float>; break;
    case AV__DT_F16: fn = launch_clip<__half>; break;
    case AV__DT_I32: fn = attr ? NULL : launch_clip<int32_t>; break;
    case AV__DT_I64: fn = attr ? NULL : launch_clip<int64_t>; break;
    default: break;
    }
    if (!fn)
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(x->dtype));
    for (int i = 1; !attr && i < 3; i++) {
        const av__tensor *b = in_t(ctx, i);
        if (b && (b->dtype != x->dtype || av__cuda_numel(b) != 1))
            return ew_decline(ctx, "bound %d is not a scalar of X's dtype", i);
    }
    if (y && (y->dtype != x->dtype || av__cuda_numel(y) != av__cuda_numel(x)))
        return ew_decline(ctx, "output dtype %s or size differs", dt_name(y->dtype));
    clip_state *s;
    if ((st = state_new(ctx, &s, fn, y ? av__cuda_numel(y) : 0)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    s->attr = attr;
    s->lo = av__attr_float(ctx->op->node, "min", -FLT_MAX);
    s->hi = av__attr_float(ctx->op->node, "max", FLT_MAX);
    return AV_STATUS_OK;
}

/* b viewed as the CPU's ew_broadcast2 reads it before opset 7: with broadcast=1, b's dims line
 * up with a's from `axis` (default: trailing). */
av_status legacy_view(const av__cuda_ctx *ctx, const av__tensor *a, const av__tensor *b,
                      av__tensor *bv)
{
    *bv = *b;
    if (av__attr_int(ctx->op->node, "broadcast", 0) == 0)
        return AV_STATUS_OK; /* shapes equal: plain broadcasting reads them the same */
    int64_t axis = av__attr_int(ctx->op->node, "axis", a->ndim - b->ndim);
    if (axis < 0)
        axis += a->ndim;
    if (b->ndim > a->ndim || axis < 0 || axis + b->ndim > a->ndim)
        return ew_decline(ctx, "legacy broadcast at axis %lld", (long long)axis);
    bv->ndim = a->ndim;
    for (int k = 0; k < a->ndim; k++)
        bv->shape[k] = k >= axis && k < axis + b->ndim ? b->shape[k - axis] : 1;
    return AV_STATUS_OK;
}

/* Binary ops, PRelu and Pow: out = f(a, b) broadcast to out's shape. */
av_status prep_binary(const av__cuda_ctx *ctx, const ew_def *def, ew_state **out)
{
    av_status st;
    if ((st = need_input(ctx, 0)) != AV_STATUS_OK || (st = need_input(ctx, 1)) != AV_STATUS_OK)
        return st;
    const av__tensor *a = in_t(ctx, 0), *b = in_t(ctx, 1), *y = out_t(ctx, 0);
    int op = def->op;
    if (op == AV__EW_MOD) {
        const int64_t fmod = av__attr_int(ctx->op->node, "fmod", 0);
        if (fmod == 1)
            op = AV__EW_FMOD;
        else if (fmod != 0)
            return ew_decline(ctx, "fmod=%lld", (long long)fmod);
    }
    av__tensor bv = *b;
    if ((def->flags & EW_F_LEGACY) && ctx->op->opset < 7 &&
        (st = legacy_view(ctx, a, b, &bv)) != AV_STATUS_OK)
        return st;
    if (def->kind == EW_K_PRELU && ctx->op->opset < 7 && b->ndim == 1 && a->ndim >= 2 &&
        b->shape[0] == a->shape[1] && b->shape[0] != 1) {
        /* a 1-D slope of X's channel count applies per channel */
        bv.ndim = a->ndim - 1;
        for (int k = 1; k < bv.ndim; k++)
            bv.shape[k] = 1;
    }
    ew_launch_fn fn = NULL;
    if (def->kind == EW_K_POW && a->dtype != b->dtype)
        fn = pick_pow_mixed(a->dtype, b->dtype);
    else if (a->dtype == b->dtype)
        fn = pick_binary(op, a->dtype);
    if (!fn)
        return ew_decline(ctx, "dtypes %s and %s are not supported on the GPU", dt_name(a->dtype),
                          dt_name(b->dtype));
    int64_t n = 0;
    binary_state *s;
    if (y) {
        const av__dtype yt = def->flags & EW_F_BOOL_OUT ? AV__DT_BOOL : a->dtype;
        if (y->dtype != yt)
            return ew_decline(ctx, "output dtype %s, expected %s", dt_name(y->dtype), dt_name(yt));
        n = av__cuda_numel(y);
    }
    if ((st = state_new(ctx, &s, fn, n)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    const av__tensor *ins[2] = {a, &bv};
    if (y && !bc_build<2>(&s->pl, y, ins))
        return ew_decline(ctx, "inputs do not broadcast to the output shape");
    return AV_STATUS_OK;
}

av_status prep_variadic(const av__cuda_ctx *ctx, const ew_def *def, ew_state **out)
{
    av_status st;
    const int n_in = ctx->op->n_in;
    if (n_in < 1)
        return ew_decline(ctx, "no inputs");
    for (int i = 0; i < n_in; i++)
        if ((st = need_input(ctx, i)) != AV_STATUS_OK)
            return st;
    const av__tensor *a = in_t(ctx, 0), *y = out_t(ctx, 0);
    const av__dtype t = a->dtype;
    for (int i = 1; i < n_in; i++)
        if (in_t(ctx, i)->dtype != t)
            return ew_decline(ctx, "input dtypes differ");
    if (!is_float_dt(t) && ((def->flags & EW_F_FLOAT) || !is_int_dt(t)))
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(t));
    if (y && y->dtype != t)
        return ew_decline(ctx, "output dtype %s differs", dt_name(y->dtype));
    const int64_t n = y ? av__cuda_numel(y) : 0;
    variadic_state *s;
    if (n_in == 1) { /* a copy, as the CPU's */
        if (y && av__cuda_numel(a) != n)
            return ew_decline(ctx, "output size differs");
        if ((st = state_new(ctx, &s, pick_copy(av__dtype_size(t)), n)) != AV_STATUS_OK)
            return st;
        *out = &s->h;
        return AV_STATUS_OK;
    }
    if ((st = state_new(ctx, &s, pick_variadic(def->op, t), n)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    s->n_in = n_in;
    s->mean = (def->flags & EW_F_MEAN) != 0;
    if (!y)
        return AV_STATUS_OK;
    bc_plan<2> *pl = (bc_plan<2> *)av__calloc((size_t)(n_in - 1), sizeof *pl);
    s->h.extra = pl;
    s->pl = pl;
    if (!pl)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory",
                             ctx->op->node->op_type);
    for (int k = 1; k < n_in; k++) {
        const av__tensor *ins[2] = {k == 1 ? a : y, in_t(ctx, k)};
        if (!bc_build<2>(&pl[k - 1], y, ins))
            return ew_decline(ctx, "inputs do not broadcast to the output shape");
    }
    return AV_STATUS_OK;
}

av_status prep_where(const av__cuda_ctx *ctx, ew_state **out)
{
    av_status st;
    for (int i = 0; i < 3; i++)
        if ((st = need_input(ctx, i)) != AV_STATUS_OK)
            return st;
    const av__tensor *c = in_t(ctx, 0), *x = in_t(ctx, 1), *yv = in_t(ctx, 2), *o = out_t(ctx, 0);
    if (c->dtype != AV__DT_BOOL || x->dtype != yv->dtype || x->dtype == AV__DT_STRING)
        return ew_decline(ctx, "dtypes %s, %s, %s", dt_name(c->dtype), dt_name(x->dtype),
                          dt_name(yv->dtype));
    ew_launch_fn fn = pick_where(av__dtype_size(x->dtype));
    if (!fn)
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(x->dtype));
    if (o && o->dtype != x->dtype)
        return ew_decline(ctx, "output dtype %s differs", dt_name(o->dtype));
    where_state *s;
    if ((st = state_new(ctx, &s, fn, o ? av__cuda_numel(o) : 0)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    const av__tensor *ins[3] = {c, x, yv};
    if (o && !bc_build<3>(&s->pl, o, ins))
        return ew_decline(ctx, "inputs do not broadcast to the output shape");
    return AV_STATUS_OK;
}

/* Cast and CastLike: the target is the output's device dtype (a float32 target is float16
 * under fp16 storage, where the cast becomes a copy). */
av_status prep_cast(const av__cuda_ctx *ctx, ew_state **out)
{
    av_status st = need_input(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = in_t(ctx, 0), *y = out_t(ctx, 0);
    plain_state *p;
    if (!y) {
        st = state_new(ctx, &p, launch_nothing, 0);
        *out = p ? &p->h : NULL;
        return st;
    }
    if (av__cuda_numel(y) != av__cuda_numel(x))
        return ew_decline(ctx, "output size differs");
    ew_launch_fn fn = x->dtype == y->dtype && x->dtype != AV__DT_STRING
                          ? pick_copy(av__dtype_size(x->dtype))
                          : pick_cast(x->dtype, y->dtype);
    if (!fn)
        return ew_decline(ctx, "%s to %s is not supported on the GPU", dt_name(x->dtype),
                          dt_name(y->dtype));
    if ((st = state_new(ctx, &p, fn, av__cuda_numel(y))) != AV_STATUS_OK)
        return st;
    *out = &p->h;
    return AV_STATUS_OK;
}

av_status prep_identity(const av__cuda_ctx *ctx, ew_state **out)
{
    av_status st = need_input(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = in_t(ctx, 0), *y = out_t(ctx, 0);
    ew_launch_fn fn = x->dtype == AV__DT_STRING ? NULL : pick_copy(av__dtype_size(x->dtype));
    if (!fn)
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(x->dtype));
    if (y && (y->dtype != x->dtype || av__cuda_numel(y) != av__cuda_numel(x)))
        return ew_decline(ctx, "output differs from the input");
    plain_state *p;
    if ((st = state_new(ctx, &p, fn, y ? av__cuda_numel(y) : 0)) != AV_STATUS_OK)
        return st;
    *out = &p->h;
    return AV_STATUS_OK;
}

/* Dropout runs in inference mode. From opset 12 a training_mode input that is true asks for
 * random dropping (or, with ratio 0, a copy): such nodes, and those whose training_mode is known
 * only at run time, stay on the CPU, which checks it per run. */
av_status prep_dropout(const av__cuda_ctx *ctx, ew_state **out)
{
    av_status st = need_input(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = in_t(ctx, 0), *y = out_t(ctx, 0), *m = out_t(ctx, 1);
    const av__tensor *tm = in_t(ctx, 2);
    if (ctx->op->opset >= 12 && tm) {
        const av__tensor *h = host_t(ctx, 2);
        if (!h || !h->data)
            return ew_decline(ctx, "training_mode is known only at run time");
        if (av__cuda_numel(h) >= 1 && ((const uint8_t *)h->data)[0])
            return ew_decline(ctx, "training mode");
    }
    const size_t esz = av__dtype_size(x->dtype);
    if (x->dtype == AV__DT_STRING || !pick_copy(esz))
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(x->dtype));
    if (y && (y->dtype != x->dtype || av__cuda_numel(y) != av__cuda_numel(x)))
        return ew_decline(ctx, "output differs from the input");
    uint64_t one = 0;
    int mask_size = 0;
    if (m) {
        switch (m->dtype) {
        case AV__DT_BOOL: one = 1; break;
        case AV__DT_F32: one = 0x3f800000u; break;
        case AV__DT_F16: one = 0x3c00u; break;
        case AV__DT_BF16: one = 0x3f80u; break;
        case AV__DT_F64: one = 0x3ff0000000000000ull; break;
        default: return ew_decline(ctx, "mask dtype %s", dt_name(m->dtype));
        }
        mask_size = (int)av__dtype_size(m->dtype);
        if (av__cuda_numel(m) != av__cuda_numel(x))
            return ew_decline(ctx, "mask size differs");
    }
    dropout_state *s;
    const int64_t n = av__cuda_numel(x);
    if ((st = state_new(ctx, &s, launch_dropout, n)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    s->esz = (int)esz;
    s->mask_size = mask_size;
    s->mask_one = one;
    return AV_STATUS_OK;
}

/* The node's `seed` as the CPU's node_seed() reads it, else the plan's. */
uint64_t node_seed(const av__cuda_ctx *ctx)
{
    const av__attr *a = av__node_attr(ctx->op->node, "seed");
    if (!a)
        return ctx->op->seed;
    if (a->type == AV__ATTR_INT)
        return (uint64_t)a->i;
    const double v = a->f;
    if (isnan(v))
        return 0;
    if (v >= 9223372036854775807.0)
        return (uint64_t)INT64_MAX;
    if (v <= -9223372036854775808.0)
        return (uint64_t)INT64_MIN;
    return (uint64_t)(int64_t)v;
}

av_status prep_random(const av__cuda_ctx *ctx, const ew_def *def, ew_state **out)
{
    const av__tensor *y = out_t(ctx, 0);
    av_status st;
    random_state *s;
    if (!y) {
        st = state_new(ctx, &s, launch_nothing, 0);
        *out = s ? &s->h : NULL;
        return st;
    }
    ew_launch_fn fn = pick_random(y->dtype);
    if (!fn)
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(y->dtype));
    if ((st = state_new(ctx, &s, fn, av__cuda_numel(y))) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    const av__node *node = ctx->op->node;
    s->seed = node_seed(ctx);
    s->normal = def->op;
    if (s->normal) {
        s->a = av__attr_float(node, "mean", 0.0f);
        s->b = av__attr_float(node, "scale", 1.0f);
    } else {
        const double low = av__attr_float(node, "low", 0.0f);
        s->a = low;
        s->b = av__attr_float(node, "high", 1.0f) - low;
    }
    return AV_STATUS_OK;
}

/* ---- ElementwiseChain program (the CPU's chain_decode, bounds read on the device) ---------- */

struct chain_kind {
    const char *name;
    int binary;
    int op;
    int ints;   /* the step has an int32/int64 kernel */
};

const chain_kind chain_kinds[] = {
    {"Neg", 0, AV__EW_NEG, 1}, {"Abs", 0, AV__EW_ABS, 1}, {"Sign", 0, AV__EW_SIGN, 1},
    {"Reciprocal", 0, AV__EW_RECIPROCAL, 0}, {"Sqrt", 0, AV__EW_SQRT, 0},
    {"Exp", 0, AV__EW_EXP, 0}, {"Log", 0, AV__EW_LOG, 0}, {"Sin", 0, AV__EW_SIN, 0},
    {"Cos", 0, AV__EW_COS, 0}, {"Tan", 0, AV__EW_TAN, 0}, {"Asin", 0, AV__EW_ASIN, 0},
    {"Acos", 0, AV__EW_ACOS, 0}, {"Atan", 0, AV__EW_ATAN, 0}, {"Sinh", 0, AV__EW_SINH, 0},
    {"Cosh", 0, AV__EW_COSH, 0}, {"Asinh", 0, AV__EW_ASINH, 0}, {"Acosh", 0, AV__EW_ACOSH, 0},
    {"Atanh", 0, AV__EW_ATANH, 0}, {"Tanh", 0, AV__EW_TANH, 0},
    {"Sigmoid", 0, AV__EW_SIGMOID, 0}, {"HardSigmoid", 0, AV__EW_HARD_SIGMOID, 0},
    {"HardSwish", 0, AV__EW_HARD_SWISH, 0}, {"Relu", 0, AV__EW_RELU, 1},
    {"LeakyRelu", 0, AV__EW_LEAKY_RELU, 0}, {"Elu", 0, AV__EW_ELU, 0},
    {"Selu", 0, AV__EW_SELU, 0}, {"Celu", 0, AV__EW_CELU, 0},
    {"Softplus", 0, AV__EW_SOFTPLUS, 0}, {"Softsign", 0, AV__EW_SOFTSIGN, 0},
    {"Mish", 0, AV__EW_MISH, 0}, {"Erf", 0, AV__EW_ERF, 1}, {"Gelu", 0, AV__EW_GELU, 0},
    {"Floor", 0, AV__EW_FLOOR, 0}, {"Ceil", 0, AV__EW_CEIL, 0}, {"Round", 0, AV__EW_ROUND, 0},
    {"ThresholdedRelu", 0, AV__EW_THRESHOLDED_RELU, 0}, {"Shrink", 0, AV__EW_SHRINK, 1},
    {"Clip", 0, AV__EW_CLIP, 1},
    {"Add", 1, AV__EW_ADD, 1}, {"Sub", 1, AV__EW_SUB, 1}, {"Mul", 1, AV__EW_MUL, 1},
    {"Div", 1, AV__EW_DIV, 1}, {"Max", 1, AV__EW_MAX, 1}, {"Min", 1, AV__EW_MIN, 1},
    {"PRelu", 1, AV__EW_PRELU, 1},
};

const chain_kind *chain_kind_find(const char *name)
{
    for (const chain_kind &k : chain_kinds)
        if (!strcmp(k.name, name))
            return &k;
    return NULL;
}

av_status prep_chain(const av__cuda_ctx *ctx, ew_state **out)
{
    av_status st = need_input(ctx, 0);
    if (st != AV_STATUS_OK)
        return st;
    const av__op_ctx *op = ctx->op;
    const av__tensor *x = in_t(ctx, 0), *y = out_t(ctx, 0);
    const av__dtype dt = x->dtype;
    ew_launch_fn fn = pick_chain(dt);
    if (!fn)
        return ew_decline(ctx, "dtype %s is not supported on the GPU", dt_name(dt));
    if (op->n_in > CHAIN_MAX_IN || op->n_out != 1)
        return ew_decline(ctx, "expects at most %d inputs and one output", CHAIN_MAX_IN);
    if (y && (y->dtype != dt || av__cuda_numel(y) != av__cuda_numel(x)))
        return ew_decline(ctx, "output differs from X");
    chain_state *s;
    if ((st = state_new(ctx, &s, fn, y ? av__cuda_numel(y) : 0)) != AV_STATUS_OK)
        return st;
    *out = &s->h;
    chain_args *ca = &s->args;
    int axis = -1;
    for (int i = 1; i < op->n_in; i++) {
        const av__tensor *t = in_t(ctx, i);
        if (!t || t->dtype != dt || t->ndim > x->ndim)
            return ew_decline(ctx, "operand %d is missing, of another dtype or of higher rank", i);
        int ax = -1;
        for (int d = 0; d < t->ndim; d++) {
            const int xd = x->ndim - t->ndim + d;
            if (t->shape[d] == 1)
                continue;
            if (t->shape[d] != x->shape[xd] || ax >= 0)
                return ew_decline(ctx, "operand %d is neither a scalar nor per channel", i);
            ax = xd;
        }
        if (ax >= 0 && axis >= 0 && ax != axis)
            return ew_decline(ctx, "per-channel operands on different axes");
        if (ax >= 0) {
            axis = ax;
            ca->per_channel[i >> 5] |= 1u << (i & 31);
        }
    }
    ca->inner = 1;
    ca->channels = 1;
    if (axis >= 0) {
        ca->channels = x->shape[axis];
        for (int d = axis + 1; d < x->ndim; d++)
            ca->inner *= x->shape[d];
    }
    if (ca->inner < 1)
        ca->inner = 1;
    int n_operands = 0, n_swap = 0, n_params = 0;
    const av__attr *ops = av__node_attr(op->node, "ops");
    const int64_t *operands = av__attr_ints(op->node, "operands", &n_operands);
    const int64_t *swap = av__attr_ints(op->node, "swap", &n_swap);
    const float *params = av__attr_floats(op->node, "params", &n_params);
    const int n_ops = ops && ops->type == AV__ATTR_STRINGS ? ops->count : 0;
    if (n_ops < 1 || n_ops > AV__EW_CHAIN_MAX_STEPS || n_operands != 2 * n_ops ||
        n_swap != n_ops || n_params != AV__EW_CHAIN_PARAMS * n_ops)
        return ew_decline(ctx, "attributes ops, operands, swap and params do not agree");
    ca->n_steps = n_ops;
    const bool ints = is_int_dt(dt);
    for (int k = 0; k < n_ops; k++) {
        chain_step_d *cs = &ca->s[k];
        const chain_kind *kind = chain_kind_find(ops->strings[k]);
        const int64_t a = operands[2 * k], b = operands[2 * k + 1];
        const float *pk = params + AV__EW_CHAIN_PARAMS * k;
        if (!kind)
            return ew_decline(ctx, "unknown step %s", ops->strings[k]);
        if (ints && !kind->ints)
            return ew_decline(ctx, "step %s on %s", kind->name, dt_name(dt));
        if (swap[k] != 0 && (swap[k] != 1 || !kind->binary || kind->op == AV__EW_PRELU))
            return ew_decline(ctx, "bad swap");
        cs->op = (int16_t)kind->op;
        cs->binary = (int8_t)kind->binary;
        cs->swap = (int8_t)swap[k];
        cs->a = cs->b = -1;
        if (kind->binary) {
            if (a < 0 || a >= op->n_in || b != -1)
                return ew_decline(ctx, "bad operand of a binary step");
            cs->a = (int16_t)a;
            continue;
        }
        if (kind->op == AV__EW_CLIP) {
            if (a == 0 || b == 0 || a < -1 || b < -1 || a >= op->n_in || b >= op->n_in ||
                (a > 0 && av__cuda_numel(in_t(ctx, (int)a)) != 1) ||
                (b > 0 && av__cuda_numel(in_t(ctx, (int)b)) != 1))
                return ew_decline(ctx, "bad Clip bounds");
            cs->a = (int16_t)a;
            cs->b = (int16_t)b;
        } else if (a != -1 || b != -1) {
            return ew_decline(ctx, "operands on a unary step");
        }
        if (kind->op == AV__EW_GELU && pk[5] != 0.0f)
            cs->op = AV__EW_GELU_TANH;
        cs->p = ew_dp{pk[0], pk[1], pk[2], pk[3], pk[4], 0, 0};
    }
    return AV_STATUS_OK;
}

/* ---- the kernel interface ------------------------------------------------------------------ */

av_status ew_prepare(const av__cuda_ctx *ctx, void **state)
{
    *state = NULL;
    const ew_def *def = ew_def_find(ctx->op->node->op_type);
    if (!def)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "%s: not an elementwise op",
                             ctx->op->node->op_type);
    ew_state *s = NULL;
    av_status st;
    switch (def->kind) {
    case EW_K_UNARY: st = prep_unary(ctx, def, &s); break;
    case EW_K_CLIP: st = prep_clip(ctx, &s); break;
    case EW_K_BINARY:
    case EW_K_PRELU:
    case EW_K_POW: st = prep_binary(ctx, def, &s); break;
    case EW_K_VARIADIC: st = prep_variadic(ctx, def, &s); break;
    case EW_K_WHERE: st = prep_where(ctx, &s); break;
    case EW_K_CAST: st = prep_cast(ctx, &s); break;
    case EW_K_IDENTITY: st = prep_identity(ctx, &s); break;
    case EW_K_DROPOUT: st = prep_dropout(ctx, &s); break;
    case EW_K_RANDOM: st = prep_random(ctx, def, &s); break;
    case EW_K_CHAIN: st = prep_chain(ctx, &s); break;
    default: st = av__cuda_fail(ctx, AV_STATUS_INTERNAL, "elementwise: bad kind"); break;
    }
    if (st != AV_STATUS_OK) {
        state_free(s);
        return st;
    }
    *state = s;
    return AV_STATUS_OK;
}

/* The same checks as prepare(), whose state is thrown away: both decline the same nodes. */
av_status ew_supports(const av__cuda_ctx *ctx)
{
    void *s = NULL;
    av_status st = ew_prepare(ctx, &s);
    state_free(s);
    return st;
}

av_status ew_run(const av__cuda_ctx *ctx)
{
    const ew_state *s = (const ew_state *)ctx->state;
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "%s: run() without prepare()",
                             ctx->op->node->op_type);
    return s->launch(ctx, s);
}

} // namespace

#define EW_KERNEL(name) {"", name, ew_supports, ew_prepare, state_free, NULL, ew_run}

const av__cuda_kernel av__cuda_kernels_elementwise[] = {
    EW_KERNEL("Abs"), EW_KERNEL("Acos"), EW_KERNEL("Acosh"), EW_KERNEL("Add"), EW_KERNEL("And"),
    EW_KERNEL("Asin"), EW_KERNEL("Asinh"), EW_KERNEL("Atan"), EW_KERNEL("Atanh"),
    EW_KERNEL("BitwiseAnd"), EW_KERNEL("BitwiseNot"), EW_KERNEL("BitwiseOr"),
    EW_KERNEL("BitwiseXor"), EW_KERNEL("Cast"), EW_KERNEL("CastLike"), EW_KERNEL("Ceil"),
    EW_KERNEL("Celu"), EW_KERNEL("Clip"), EW_KERNEL("Cos"), EW_KERNEL("Cosh"), EW_KERNEL("Div"),
    EW_KERNEL("Dropout"), EW_KERNEL("Elu"), EW_KERNEL("Equal"), EW_KERNEL("Erf"),
    EW_KERNEL("Exp"), EW_KERNEL("Floor"), EW_KERNEL("Gelu"), EW_KERNEL("Greater"),
    EW_KERNEL("GreaterOrEqual"), EW_KERNEL("HardSigmoid"), EW_KERNEL("HardSwish"),
    EW_KERNEL("Identity"), EW_KERNEL("IsInf"), EW_KERNEL("IsNaN"), EW_KERNEL("LeakyRelu"),
    EW_KERNEL("Less"), EW_KERNEL("LessOrEqual"), EW_KERNEL("Log"), EW_KERNEL("Max"),
    EW_KERNEL("Mean"), EW_KERNEL("Min"), EW_KERNEL("Mish"), EW_KERNEL("Mod"), EW_KERNEL("Mul"),
    EW_KERNEL("Neg"), EW_KERNEL("Not"), EW_KERNEL("Or"), EW_KERNEL("Pow"), EW_KERNEL("PRelu"),
    EW_KERNEL("RandomNormal"), EW_KERNEL("RandomNormalLike"), EW_KERNEL("RandomUniform"),
    EW_KERNEL("RandomUniformLike"), EW_KERNEL("Reciprocal"), EW_KERNEL("Relu"),
    EW_KERNEL("Round"), EW_KERNEL("Selu"), EW_KERNEL("Shrink"), EW_KERNEL("Sigmoid"),
    EW_KERNEL("Sign"), EW_KERNEL("Sin"), EW_KERNEL("Sinh"), EW_KERNEL("Softplus"),
    EW_KERNEL("Softsign"), EW_KERNEL("Sqrt"), EW_KERNEL("Sub"), EW_KERNEL("Sum"),
    EW_KERNEL("Tan"), EW_KERNEL("Tanh"), EW_KERNEL("ThresholdedRelu"), EW_KERNEL("Where"),
    EW_KERNEL("Xor"),
    {AV__DOMAIN_INTERNAL, AV__EW_CHAIN_OP, ew_supports, ew_prepare, state_free, NULL, ew_run},
};

const int av__cuda_kernels_elementwise_count =
    (int)(sizeof av__cuda_kernels_elementwise / sizeof av__cuda_kernels_elementwise[0]);
