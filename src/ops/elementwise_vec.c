/* Vectorisable float32 exp, sigmoid and tanh: the Exp, Sigmoid and Tanh kernels for float32.
 *
 * Plain branch-free C (selects, no calls, no intrinsics) that gcc and clang vectorise at -O2
 * for whatever vector unit the target has, so there is nothing to choose at run time. The libm
 * kernels in elementwise_math.c are the reference; tests/c/test_ops_elementwise.c compares the
 * two on random data of awkward lengths and on the special values (tolerance 4 ulp). Measured
 * against glibc over dense sweeps of |x| <= 120: exp 1 ulp, sigmoid 3 ulp, tanh 2 ulp, subnormal
 * results within 1 subnormal step; NaN, +-inf, +-0 and the overflow threshold exact. Speed on
 * the dev machine (SSE2, one thread): Sigmoid 7.3 -> 1.9 ns, Tanh 13 -> 2.2 ns per element.
 *
 * The same scalar function serves the vector blocks and the tail, so an element's result does
 * not depend on where a thread chunk starts (gcc in ISO C mode contracts nothing into FMA;
 * clang decides contraction per expression, the same for both). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/elementwise_internal.h"

/* The float32 variants are compiled three times (AVX-512, AVX2, baseline x86-64) and the best
 * one for the CPU is chosen once, when the library is loaded (GCC function multiversioning via
 * an ifunc resolver). Elsewhere only the baseline is built. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AV__EW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define AV__EW_CLONES
#endif

static inline float ew_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t ew_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* c ? a : b through an integer mask: gcc if-converts float ?: only partly, even at -O3, while
 * this form vectorises at -O2. */
static inline float ew_sel(int c, float a, float b)
{
    uint32_t m = 0u - (uint32_t)c;
    return ew_from_bits((ew_to_bits(a) & m) | (ew_to_bits(b) & ~m));
}

static inline float ew_abs(float x) { return ew_from_bits(ew_to_bits(x) & 0x7fffffffu); }

/* e^x: x = n ln2 + r with |r| <= ln2/2, e^r by Cephes' degree-6 polynomial (1.7e-7 relative),
 * times 2^n applied in two halves so that subnormal results come out right. */
static inline float ew_exp(float x)
{
    /* clamp, NaN going to the low end; the selects at the end restore NaN and inf */
    float xc = ew_sel(x >= -104.0f, ew_sel(x <= 89.0f, x, 89.0f), -104.0f);
    float t = xc * 1.44269504088896341f;
    float fn = (t + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    float r = xc - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * (r * r) + r + 1.0f;
    int32_t n = (int32_t)fn; /* in [-150, 129] */
    int32_t n1 = n / 2, n2 = n - n1;
    y = y * ew_from_bits((uint32_t)(n1 + 127) << 23);
    y = y * ew_from_bits((uint32_t)(n2 + 127) << 23);
    y = ew_sel(x > 88.72283935546875f, (float)INFINITY, y);
    return ew_sel(x != x, x, y);
}

/* 1 / (1 + e^-x), from e^-|x| so the exponential never overflows. */
static inline float ew_sigmoid(float x)
{
    float e = ew_exp(-ew_abs(x));
    float s = 1.0f / (1.0f + e);
    return ew_sel(x >= 0, s, e * s);
}

/* Cephes' tanhf on |x|: an odd polynomial below 0.625, 1 - 2 / (e^2|x| + 1) above; then x's
 * sign (so tanh(-0) = -0). */
static inline float ew_tanh(float x)
{
    float ax = ew_abs(x);
    float z = ax * ax;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * ax + ax;
    float big = 1.0f - 2.0f / (ew_exp(2.0f * ax) + 1.0f);
    float r = ew_sel(ax < 0.625f, small, big);
    return ew_from_bits(ew_to_bits(r) | (ew_to_bits(x) & 0x80000000u));
}

AV__EW_CLONES void av__ew_exp_f32(void *out, const void *in, int64_t n, const av__ew_params *p)
{
    float *o = out;
    const float *x = in;
    (void)p;
    AV__EW_LOOP(float, n, ew_exp(x[i]));
}

AV__EW_CLONES void av__ew_sigmoid_f32(void *out, const void *in, int64_t n, const av__ew_params *p)
{
    float *o = out;
    const float *x = in;
    (void)p;
    AV__EW_LOOP(float, n, ew_sigmoid(x[i]));
}

AV__EW_CLONES void av__ew_tanh_f32(void *out, const void *in, int64_t n, const av__ew_params *p)
{
    float *o = out;
    const float *x = in;
    (void)p;
    AV__EW_LOOP(float, n, ew_tanh(x[i]));
}

/* LeakyRelu: the product is computed for every element and selected by mask, so the loop
 * vectorises (the generic kernel's x < 0 ? a x : x stays a compare-and-branch). Bit-identical to
 * the reference: the same single multiply where x < 0, x itself (NaN, -0 included) elsewhere. */
AV__EW_CLONES void av__ew_leaky_relu_f32(void *out, const void *in, int64_t n, const av__ew_params *p)
{
    float *o = out;
    const float *x = in;
    const float alpha = p->alpha;
    AV__EW_LOOP(float, n, ew_sel(x[i] < 0.0f, x[i] * alpha, x[i]));
}
