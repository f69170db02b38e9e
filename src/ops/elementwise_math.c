/* Kernels of the elementwise maps, generated per dtype from one scalar definition per op.
 *
 * Each op is written once per compute domain as a static inline scalar function:
 *   s_<Op>_f (float) and s_<Op>_d (double)  one type-generic body (tgmath.h) gives both
 *   s_<Op>_i (int64_t)                      the signed integer dtypes
 *   s_<Op>_u (uint64_t)                     the unsigned integer dtypes and bool
 * and EW_*_KERNEL generates a loop per storage dtype, k_<Op>_<dt>, that loads each element into
 * its domain (float16 and bfloat16 compute in float32), applies the scalar function and stores
 * the result (float16/bfloat16 rounded to nearest even). Integers compute in 64 bits and are
 * truncated to the storage width on store: for +, -, *, negation and integer powers that is the
 * narrow type's arithmetic modulo 2^bits (what ONNX Runtime and numpy give on overflow), without
 * C's undefined signed overflow.
 *
 * The tables at the end say which dtypes each op takes; they follow the ONNX type constraints of
 * the latest opset (<= 18, Gelu 20), so a NULL entry means the model is invalid.
 *
 * Defined results where C has none: integer division and remainder by zero give 0 (numpy's
 * answer), INT_MIN / -1 wraps to INT_MIN, shifts by >= 64 give 0. */
#include <stdint.h>
#include <tgmath.h>

#include "ops/elementwise_internal.h"

#define EW_NDT 17 /* table width: av__dtype values are < 17 */

/* ---- storage dtypes, as X-macro rows: X(op, dt, T, CT, LD, ST, dom, okind) --------------------
 * T storage type, CT compute type, LD/ST load and store conversions, dom the scalar function
 * suffix, okind SAME (output has the input dtype) or BOOL (output is bool). */
#define EW_ID(v) (v)
#define EW_FLOATS(X, op, okind)                                                            \
    X(op, f32, float, float, EW_ID, (float), f, okind)                                     \
    X(op, f64, double, double, EW_ID, (double), d, okind)                                  \
    X(op, f16, uint16_t, float, av__f16_to_f32, av__f32_to_f16, f, okind)                  \
    X(op, bf16, uint16_t, float, av__bf16_to_f32, av__f32_to_bf16, f, okind)
#define EW_SINTS(X, op, okind)                                                             \
    X(op, i8, int8_t, int64_t, EW_ID, (int8_t), i, okind)                                  \
    X(op, i16, int16_t, int64_t, EW_ID, (int16_t), i, okind)                               \
    X(op, i32, int32_t, int64_t, EW_ID, (int32_t), i, okind)                               \
    X(op, i64, int64_t, int64_t, EW_ID, (int64_t), i, okind)
#define EW_UINTS(X, op, okind)                                                             \
    X(op, u8, uint8_t, uint64_t, EW_ID, (uint8_t), u, okind)                               \
    X(op, u16, uint16_t, uint64_t, EW_ID, (uint16_t), u, okind)                            \
    X(op, u32, uint32_t, uint64_t, EW_ID, (uint32_t), u, okind)                            \
    X(op, u64, uint64_t, uint64_t, EW_ID, (uint64_t), u, okind)
#define EW_BOOLS(X, op, okind) X(op, b, uint8_t, uint64_t, EW_ID, (uint8_t), u, okind)

#define EW_DT_f32 AV__DT_F32
#define EW_DT_f64 AV__DT_F64
#define EW_DT_f16 AV__DT_F16
#define EW_DT_bf16 AV__DT_BF16
#define EW_DT_i8 AV__DT_I8
#define EW_DT_i16 AV__DT_I16
#define EW_DT_i32 AV__DT_I32
#define EW_DT_i64 AV__DT_I64
#define EW_DT_u8 AV__DT_U8
#define EW_DT_u16 AV__DT_U16
#define EW_DT_u32 AV__DT_U32
#define EW_DT_u64 AV__DT_U64
#define EW_DT_b AV__DT_BOOL

#define EW_OUT_T_SAME(T) T
#define EW_OUT_T_BOOL(T) uint8_t
#define EW_OUT_ST_SAME(ST) ST
#define EW_OUT_ST_BOOL(ST) (uint8_t)

/* ---- kernel loops ---------------------------------------------------------------------------- */

#define EW_UNARY_KERNEL(op, dt, T, CT, LD, ST, dom, okind)                                 \
    static void k_##op##_##dt(void *out_, const void *x_, int64_t n, const av__ew_params *pp) \
    {                                                                                      \
        /* a local copy: stores through o cannot alias it, so the loop vectorises */           \
        const av__ew_params pl_ = *pp, *p = &pl_;                                           \
        EW_OUT_T_##okind(T) *o = out_;                                                     \
        const T *x = x_;                                                                   \
        AV__EW_LOOP(EW_OUT_T_##okind(T), n,                                                    \
                EW_OUT_ST_##okind(ST)(s_##op##_##dom((CT)LD(x[i]), p)));                   \
    }

/* Four loops so that the common cases (same shapes, one operand a scalar) are straight loops. */
#define EW_BINARY_KERNEL(op, dt, T, CT, LD, ST, dom, okind)                                \
    static void k_##op##_##dt(void *out_, const void *a_, int64_t sa, const void *b_,      \
                              int64_t sb, int64_t n, const av__ew_params *pp)              \
    {                                                                                      \
        const av__ew_params pl_ = *pp, *p = &pl_; /* see EW_UNARY_KERNEL */                 \
        typedef EW_OUT_T_##okind(T) ot;                                                    \
        ot *o = out_;                                                                      \
        const T *a = a_, *b = b_;                                                          \
        if (sa && sb) {                                                                    \
            AV__EW_LOOP(ot, n, EW_OUT_ST_##okind(ST)(s_##op##_##dom((CT)LD(a[i]), (CT)LD(b[i]), p))); \
        } else if (sa) {                                                                   \
            const CT y = (CT)LD(b[0]);                                                     \
            AV__EW_LOOP(ot, n, EW_OUT_ST_##okind(ST)(s_##op##_##dom((CT)LD(a[i]), y, p)));     \
        } else if (sb) {                                                                   \
            const CT x = (CT)LD(a[0]);                                                     \
            AV__EW_LOOP(ot, n, EW_OUT_ST_##okind(ST)(s_##op##_##dom(x, (CT)LD(b[i]), p)));     \
        } else {                                                                           \
            const ot r = EW_OUT_ST_##okind(ST)(s_##op##_##dom((CT)LD(a[0]), (CT)LD(b[0]), p)); \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = r;                                                                  \
        }                                                                                  \
    }

#define EW_ENTRY(op, dt, T, CT, LD, ST, dom, okind) [EW_DT_##dt] = k_##op##_##dt,

/* ---- scalar definitions ----------------------------------------------------------------------
 * EW_F1 / EW_F2: unary / binary float+double pair from one body; `ct` is the compute type, the
 * operands are x (and y), the attributes p. R is VAL (returns ct) or BOOL (returns int). */
#define EW_R_VAL(t) t
#define EW_R_BOOL(t) int
#define EW_F1(op, R, ...)                                                                  \
    static inline EW_R_##R(float) s_##op##_f(float x, const av__ew_params *p)              \
    {                                                                                      \
        typedef float ct;                                                                  \
        (void)sizeof(ct);                                                                  \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }                                                                                      \
    static inline EW_R_##R(double) s_##op##_d(double x, const av__ew_params *p)            \
    {                                                                                      \
        typedef double ct;                                                                 \
        (void)sizeof(ct);                                                                  \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }
#define EW_F2(op, R, ...)                                                                  \
    static inline EW_R_##R(float) s_##op##_f(float x, float y, const av__ew_params *p)     \
    {                                                                                      \
        typedef float ct;                                                                  \
        (void)sizeof(ct);                                                                  \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }                                                                                      \
    static inline EW_R_##R(double) s_##op##_d(double x, double y, const av__ew_params *p)  \
    {                                                                                      \
        typedef double ct;                                                                 \
        (void)sizeof(ct);                                                                  \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }
#define EW_I1(op, R, ...)                                                                  \
    static inline EW_R_##R(int64_t) s_##op##_i(int64_t x, const av__ew_params *p)          \
    {                                                                                      \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }
#define EW_U1(op, R, ...)                                                                  \
    static inline EW_R_##R(uint64_t) s_##op##_u(uint64_t x, const av__ew_params *p)        \
    {                                                                                      \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }
#define EW_I2(op, R, ...)                                                                  \
    static inline EW_R_##R(int64_t) s_##op##_i(int64_t x, int64_t y, const av__ew_params *p) \
    {                                                                                      \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }
#define EW_U2(op, R, ...)                                                                  \
    static inline EW_R_##R(uint64_t) s_##op##_u(uint64_t x, uint64_t y,                    \
                                                const av__ew_params *p)                    \
    {                                                                                      \
        (void)p;                                                                           \
        __VA_ARGS__                                                                        \
    }

/* Wrapping signed arithmetic (the conversion back to int64_t is modular on every target this
 * library supports: two's complement, as C23 requires). */
#define EW_WRAP(expr) ((int64_t)(uint64_t)(expr))

/* A Clip bound's field for the compute type ct. */
#define EW_BOUND(b) _Generic((ct)0, float: (b).f, default: (b).d)

/* Saturating double -> integer for the integer variants computed through double. */
static inline int64_t ew_sat_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 0x1p63)
        return INT64_MAX;
    if (v <= -0x1p63)
        return INT64_MIN;
    return (int64_t)v;
}

static inline uint64_t ew_sat_u64(double v)
{
    if (!(v > 0))
        return 0;
    if (v >= 0x1p64)
        return UINT64_MAX;
    return (uint64_t)v;
}

/* Unary ops on integers computed through their double definition. */
#define EW_IU1_VIA_D(op)                                                                   \
    static inline int64_t s_##op##_i(int64_t x, const av__ew_params *p)                    \
    {                                                                                      \
        return ew_sat_i64(s_##op##_d((double)x, p));                                       \
    }                                                                                      \
    static inline uint64_t s_##op##_u(uint64_t x, const av__ew_params *p)                  \
    {                                                                                      \
        return ew_sat_u64(s_##op##_d((double)x, p));                                       \
    }

static inline uint64_t ew_ipow(uint64_t base, uint64_t e)
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

/* ---- unary ops ------------------------------------------------------------------------------- */

EW_F1(Neg, VAL, return -x;)
EW_I1(Neg, VAL, return EW_WRAP(0 - (uint64_t)x);)
EW_F1(Abs, VAL, return fabs(x);)
EW_I1(Abs, VAL, return x < 0 ? EW_WRAP(0 - (uint64_t)x) : x;)
EW_U1(Abs, VAL, return x;)
EW_F1(Sign, VAL, return x > 0 ? (ct)1 : x < 0 ? (ct)-1 : x;) /* NaN stays NaN, as numpy */
EW_I1(Sign, VAL, return (x > 0) - (x < 0);)
EW_U1(Sign, VAL, return x > 0;)
EW_F1(Reciprocal, VAL, return (ct)1 / x;)
EW_F1(Sqrt, VAL, return sqrt(x);)
EW_F1(Exp, VAL, return exp(x);)
EW_F1(Log, VAL, return log(x);)
EW_F1(Sin, VAL, return sin(x);)
EW_F1(Cos, VAL, return cos(x);)
EW_F1(Tan, VAL, return tan(x);)
EW_F1(Asin, VAL, return asin(x);)
EW_F1(Acos, VAL, return acos(x);)
EW_F1(Atan, VAL, return atan(x);)
EW_F1(Sinh, VAL, return sinh(x);)
EW_F1(Cosh, VAL, return cosh(x);)
EW_F1(Asinh, VAL, return asinh(x);)
EW_F1(Acosh, VAL, return acosh(x);)
EW_F1(Atanh, VAL, return atanh(x);)
EW_F1(Tanh, VAL, return tanh(x);)
/* exp of a non-positive argument only: no overflow, full relative precision for x << 0 */
EW_F1(Sigmoid, VAL,
      if (x >= 0)
          return (ct)1 / ((ct)1 + exp(-x));
      ct e = exp(x);
      return e / ((ct)1 + e);)
EW_F1(HardSigmoid, VAL,
      ct v = (ct)p->alpha * x + (ct)p->beta;
      return v < 0 ? (ct)0 : v > 1 ? (ct)1 : v;)
EW_F1(HardSwish, VAL, /* x * HardSigmoid(x) with alpha 1/6, beta 0.5 */
      ct v = x * (ct)(1.0f / 6.0f) + (ct)0.5;
      return x * (v < 0 ? (ct)0 : v > 1 ? (ct)1 : v);)
EW_F1(Relu, VAL, return x < 0 ? (ct)0 : x;) /* NaN passes, as numpy's maximum */
EW_I1(Relu, VAL, return x < 0 ? 0 : x;)
EW_F1(LeakyRelu, VAL, return x < 0 ? (ct)p->alpha * x : x;)
EW_F1(Elu, VAL, return x < 0 ? (ct)p->alpha * expm1(x) : x;)
EW_F1(Selu, VAL,
      return x <= 0 ? (ct)p->gamma * (ct)p->alpha * expm1(x) : (ct)p->gamma * x;)
EW_F1(Celu, VAL, return x > 0 ? x : (ct)p->alpha * expm1(x / (ct)p->alpha);)
/* log(1 + e^x) without overflow for large x */
EW_F1(Softplus, VAL, return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));)
EW_F1(Softsign, VAL, return x / ((ct)1 + fabs(x));)
EW_F1(Mish, VAL,
      ct sp = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
      return x * tanh(sp);)
EW_F1(Erf, VAL, return erf(x);)
EW_IU1_VIA_D(Erf)
EW_F1(Gelu, VAL, return (ct)0.5 * x * ((ct)1 + erf(x * (ct)0.70710678118654752440));)
EW_F1(GeluTanh, VAL,
      ct inner = (ct)0.79788456080286535588 * (x + (ct)0.044715 * x * x * x);
      return (ct)0.5 * x * ((ct)1 + tanh(inner));)
EW_F1(Floor, VAL, return floor(x);)
EW_F1(Ceil, VAL, return ceil(x);)
EW_F1(Round, VAL, return rint(x);) /* half to even in the default rounding mode */
EW_F1(ThresholdedRelu, VAL, return x > (ct)p->alpha ? x : (ct)0;)
EW_F1(Shrink, VAL,
      ct l = (ct)p->lambd;
      ct b = (ct)p->bias;
      return x < -l ? x + b : x > l ? x - b : (ct)0;)
EW_IU1_VIA_D(Shrink)
/* min(max(x, lo), hi): all values become hi when lo > hi, as the spec says; NaN passes */
EW_F1(Clip, VAL,
      ct v = x < EW_BOUND(p->lo) ? EW_BOUND(p->lo) : x;
      return v > EW_BOUND(p->hi) ? EW_BOUND(p->hi) : v;)
EW_I1(Clip, VAL,
      int64_t v = x < p->lo.i ? p->lo.i : x;
      return v > p->hi.i ? p->hi.i : v;)
EW_U1(Clip, VAL,
      uint64_t v = x < p->lo.u ? p->lo.u : x;
      return v > p->hi.u ? p->hi.u : v;)
EW_F1(IsNaN, BOOL, return isnan(x);)
EW_F1(IsInf, BOOL, return isinf(x) && (x > 0 ? p->detect_positive : p->detect_negative);)
EW_U1(Not, VAL, return !x;)
EW_I1(BitwiseNot, VAL, return ~x;)
EW_U1(BitwiseNot, VAL, return ~x;)

EW_FLOATS(EW_UNARY_KERNEL, Neg, SAME)
EW_SINTS(EW_UNARY_KERNEL, Neg, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Abs, SAME)
EW_SINTS(EW_UNARY_KERNEL, Abs, SAME)
EW_UINTS(EW_UNARY_KERNEL, Abs, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Sign, SAME)
EW_SINTS(EW_UNARY_KERNEL, Sign, SAME)
EW_UINTS(EW_UNARY_KERNEL, Sign, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Reciprocal, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Sqrt, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Exp, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Log, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Sin, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Cos, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Tan, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Asin, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Acos, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Atan, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Sinh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Cosh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Asinh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Acosh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Atanh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Tanh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Sigmoid, SAME)
EW_FLOATS(EW_UNARY_KERNEL, HardSigmoid, SAME)
EW_FLOATS(EW_UNARY_KERNEL, HardSwish, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Relu, SAME)
EW_SINTS(EW_UNARY_KERNEL, Relu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, LeakyRelu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Elu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Selu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Celu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Softplus, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Softsign, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Mish, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Erf, SAME)
EW_SINTS(EW_UNARY_KERNEL, Erf, SAME)
EW_UINTS(EW_UNARY_KERNEL, Erf, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Gelu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, GeluTanh, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Floor, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Ceil, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Round, SAME)
EW_FLOATS(EW_UNARY_KERNEL, ThresholdedRelu, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Shrink, SAME)
EW_SINTS(EW_UNARY_KERNEL, Shrink, SAME)
EW_UINTS(EW_UNARY_KERNEL, Shrink, SAME)
EW_FLOATS(EW_UNARY_KERNEL, Clip, SAME)
EW_SINTS(EW_UNARY_KERNEL, Clip, SAME)
EW_UINTS(EW_UNARY_KERNEL, Clip, SAME)
EW_FLOATS(EW_UNARY_KERNEL, IsNaN, BOOL)
EW_FLOATS(EW_UNARY_KERNEL, IsInf, BOOL)
EW_BOOLS(EW_UNARY_KERNEL, Not, SAME)
EW_SINTS(EW_UNARY_KERNEL, BitwiseNot, SAME)
EW_UINTS(EW_UNARY_KERNEL, BitwiseNot, SAME)

#define EW_TAB_F(op) EW_FLOATS(EW_ENTRY, op, SAME)
#define EW_TAB_I(op) EW_SINTS(EW_ENTRY, op, SAME)
#define EW_TAB_U(op) EW_UINTS(EW_ENTRY, op, SAME)
#define EW_TAB_B(op) EW_BOOLS(EW_ENTRY, op, SAME)

static const av__ew_unary_fn unary_table[AV__EW_UNOP_COUNT][EW_NDT] = {
    [AV__EW_NEG] = {EW_TAB_F(Neg) EW_TAB_I(Neg)},
    [AV__EW_ABS] = {EW_TAB_F(Abs) EW_TAB_I(Abs) EW_TAB_U(Abs)},
    [AV__EW_SIGN] = {EW_TAB_F(Sign) EW_TAB_I(Sign) EW_TAB_U(Sign)},
    [AV__EW_RECIPROCAL] = {EW_TAB_F(Reciprocal)},
    [AV__EW_SQRT] = {EW_TAB_F(Sqrt)},
    [AV__EW_EXP] = {EW_TAB_F(Exp)},
    [AV__EW_LOG] = {EW_TAB_F(Log)},
    [AV__EW_SIN] = {EW_TAB_F(Sin)},
    [AV__EW_COS] = {EW_TAB_F(Cos)},
    [AV__EW_TAN] = {EW_TAB_F(Tan)},
    [AV__EW_ASIN] = {EW_TAB_F(Asin)},
    [AV__EW_ACOS] = {EW_TAB_F(Acos)},
    [AV__EW_ATAN] = {EW_TAB_F(Atan)},
    [AV__EW_SINH] = {EW_TAB_F(Sinh)},
    [AV__EW_COSH] = {EW_TAB_F(Cosh)},
    [AV__EW_ASINH] = {EW_TAB_F(Asinh)},
    [AV__EW_ACOSH] = {EW_TAB_F(Acosh)},
    [AV__EW_ATANH] = {EW_TAB_F(Atanh)},
    [AV__EW_TANH] = {EW_TAB_F(Tanh)},
    [AV__EW_SIGMOID] = {EW_TAB_F(Sigmoid)},
    [AV__EW_HARD_SIGMOID] = {EW_TAB_F(HardSigmoid)},
    [AV__EW_HARD_SWISH] = {EW_TAB_F(HardSwish)},
    [AV__EW_RELU] = {EW_TAB_F(Relu) EW_TAB_I(Relu)},
    [AV__EW_LEAKY_RELU] = {EW_TAB_F(LeakyRelu)},
    [AV__EW_ELU] = {EW_TAB_F(Elu)},
    [AV__EW_SELU] = {EW_TAB_F(Selu)},
    [AV__EW_CELU] = {EW_TAB_F(Celu)},
    [AV__EW_SOFTPLUS] = {EW_TAB_F(Softplus)},
    [AV__EW_SOFTSIGN] = {EW_TAB_F(Softsign)},
    [AV__EW_MISH] = {EW_TAB_F(Mish)},
    [AV__EW_ERF] = {EW_TAB_F(Erf) EW_TAB_I(Erf) EW_TAB_U(Erf)},
    [AV__EW_GELU] = {EW_TAB_F(Gelu)},
    [AV__EW_GELU_TANH] = {EW_TAB_F(GeluTanh)},
    [AV__EW_FLOOR] = {EW_TAB_F(Floor)},
    [AV__EW_CEIL] = {EW_TAB_F(Ceil)},
    [AV__EW_ROUND] = {EW_TAB_F(Round)},
    [AV__EW_THRESHOLDED_RELU] = {EW_TAB_F(ThresholdedRelu)},
    [AV__EW_SHRINK] = {EW_TAB_F(Shrink) EW_TAB_I(Shrink) EW_TAB_U(Shrink)},
    [AV__EW_CLIP] = {EW_TAB_F(Clip) EW_TAB_I(Clip) EW_TAB_U(Clip)},
    [AV__EW_ISNAN] = {EW_TAB_F(IsNaN)},
    [AV__EW_ISINF] = {EW_TAB_F(IsInf)},
    [AV__EW_NOT] = {EW_TAB_B(Not)},
    [AV__EW_BITWISE_NOT] = {EW_TAB_I(BitwiseNot) EW_TAB_U(BitwiseNot)},
};

/* ---- binary ops ------------------------------------------------------------------------------ */

EW_F2(Add, VAL, return x + y;)
EW_I2(Add, VAL, return EW_WRAP((uint64_t)x + (uint64_t)y);)
EW_U2(Add, VAL, return x + y;)
EW_F2(Sub, VAL, return x - y;)
EW_I2(Sub, VAL, return EW_WRAP((uint64_t)x - (uint64_t)y);)
EW_U2(Sub, VAL, return x - y;)
EW_F2(Mul, VAL, return x * y;)
EW_I2(Mul, VAL, return EW_WRAP((uint64_t)x * (uint64_t)y);)
EW_U2(Mul, VAL, return x * y;)
EW_F2(Div, VAL, return x / y;)
/* truncating, as C and ONNX Runtime; x / -1 is a wrapping negation (INT_MIN / -1) */
EW_I2(Div, VAL, return y == 0 ? 0 : y == -1 ? EW_WRAP(0 - (uint64_t)x) : x / y;)
EW_U2(Div, VAL, return y == 0 ? 0 : x / y;)
EW_I2(Mod, VAL,
      if (y == 0 || y == -1)
          return 0;
      int64_t r = x % y;
      return r != 0 && (r < 0) != (y < 0) ? r + y : r;)
EW_U2(Mod, VAL, return y == 0 ? 0 : x % y;)
EW_F2(Fmod, VAL, return fmod(x, y);)
EW_I2(Fmod, VAL, return y == 0 || y == -1 ? 0 : x % y;)
EW_U2(Fmod, VAL, return y == 0 ? 0 : x % y;)
EW_F2(Pow, VAL, return pow(x, y);)
/* Negative exponents truncate 1 / x^-y toward zero (0 unless |x| == 1; 0^-y gives 0). */
EW_I2(Pow, VAL,
      if (y < 0)
          return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
      return EW_WRAP(ew_ipow((uint64_t)x, (uint64_t)y));)
EW_U2(Pow, VAL, return ew_ipow(x, y);)
/* NaN in either operand gives NaN, as numpy's maximum / minimum */
EW_F2(Max, VAL, return x > y || x != x ? x : y;)
EW_I2(Max, VAL, return x > y ? x : y;)
EW_U2(Max, VAL, return x > y ? x : y;)
EW_F2(Min, VAL, return x < y || x != x ? x : y;)
EW_I2(Min, VAL, return x < y ? x : y;)
EW_U2(Min, VAL, return x < y ? x : y;)
EW_F2(PRelu, VAL, return x < 0 ? x * y : x;)
EW_I2(PRelu, VAL, return x < 0 ? EW_WRAP((uint64_t)x * (uint64_t)y) : x;)
EW_U2(PRelu, VAL, (void)y; return x;)
EW_F2(Equal, BOOL, return x == y;)
EW_I2(Equal, BOOL, return x == y;)
EW_U2(Equal, BOOL, return x == y;)
EW_F2(Less, BOOL, return x < y;)
EW_I2(Less, BOOL, return x < y;)
EW_U2(Less, BOOL, return x < y;)
EW_F2(LessEqual, BOOL, return x <= y;)
EW_I2(LessEqual, BOOL, return x <= y;)
EW_U2(LessEqual, BOOL, return x <= y;)
EW_F2(Greater, BOOL, return x > y;)
EW_I2(Greater, BOOL, return x > y;)
EW_U2(Greater, BOOL, return x > y;)
EW_F2(GreaterEqual, BOOL, return x >= y;)
EW_I2(GreaterEqual, BOOL, return x >= y;)
EW_U2(GreaterEqual, BOOL, return x >= y;)
/* bool operands: any non-zero byte is true */
EW_U2(BoolEqual, BOOL, return (x != 0) == (y != 0);)
EW_U2(And, BOOL, return x && y;)
EW_U2(Or, BOOL, return x || y;)
EW_U2(Xor, BOOL, return (x != 0) != (y != 0);)
EW_U2(Shl, VAL, return y >= 64 ? 0 : x << y;) /* truncation on store drops the high bits */
EW_U2(Shr, VAL, return y >= 64 ? 0 : x >> y;)
EW_I2(BitwiseAnd, VAL, return x & y;)
EW_U2(BitwiseAnd, VAL, return x & y;)
EW_I2(BitwiseOr, VAL, return x | y;)
EW_U2(BitwiseOr, VAL, return x | y;)
EW_I2(BitwiseXor, VAL, return x ^ y;)
EW_U2(BitwiseXor, VAL, return x ^ y;)

#define EW_BINARY_NUMERIC(op, okind)                                                       \
    EW_FLOATS(EW_BINARY_KERNEL, op, okind)                                                 \
    EW_SINTS(EW_BINARY_KERNEL, op, okind)                                                  \
    EW_UINTS(EW_BINARY_KERNEL, op, okind)
#define EW_TAB_NUMERIC(op) EW_TAB_F(op) EW_TAB_I(op) EW_TAB_U(op)

EW_BINARY_NUMERIC(Add, SAME)
EW_BINARY_NUMERIC(Sub, SAME)
EW_BINARY_NUMERIC(Mul, SAME)
EW_BINARY_NUMERIC(Div, SAME)
EW_SINTS(EW_BINARY_KERNEL, Mod, SAME)
EW_UINTS(EW_BINARY_KERNEL, Mod, SAME)
EW_BINARY_NUMERIC(Fmod, SAME)
EW_BINARY_NUMERIC(Pow, SAME)
EW_BINARY_NUMERIC(Max, SAME)
EW_BINARY_NUMERIC(Min, SAME)
EW_BINARY_NUMERIC(PRelu, SAME)
EW_BINARY_NUMERIC(Equal, BOOL)
EW_BOOLS(EW_BINARY_KERNEL, BoolEqual, BOOL)
EW_BINARY_NUMERIC(Less, BOOL)
EW_BINARY_NUMERIC(LessEqual, BOOL)
EW_BINARY_NUMERIC(Greater, BOOL)
EW_BINARY_NUMERIC(GreaterEqual, BOOL)
EW_BOOLS(EW_BINARY_KERNEL, And, BOOL)
EW_BOOLS(EW_BINARY_KERNEL, Or, BOOL)
EW_BOOLS(EW_BINARY_KERNEL, Xor, BOOL)
EW_UINTS(EW_BINARY_KERNEL, Shl, SAME)
EW_UINTS(EW_BINARY_KERNEL, Shr, SAME)
EW_SINTS(EW_BINARY_KERNEL, BitwiseAnd, SAME)
EW_UINTS(EW_BINARY_KERNEL, BitwiseAnd, SAME)
EW_SINTS(EW_BINARY_KERNEL, BitwiseOr, SAME)
EW_UINTS(EW_BINARY_KERNEL, BitwiseOr, SAME)
EW_SINTS(EW_BINARY_KERNEL, BitwiseXor, SAME)
EW_UINTS(EW_BINARY_KERNEL, BitwiseXor, SAME)

static const av__ew_binary_fn binary_table[AV__EW_BINOP_COUNT][EW_NDT] = {
    [AV__EW_ADD] = {EW_TAB_NUMERIC(Add)},
    [AV__EW_SUB] = {EW_TAB_NUMERIC(Sub)},
    [AV__EW_MUL] = {EW_TAB_NUMERIC(Mul)},
    [AV__EW_DIV] = {EW_TAB_NUMERIC(Div)},
    [AV__EW_MOD] = {EW_TAB_I(Mod) EW_TAB_U(Mod)},
    [AV__EW_FMOD] = {EW_TAB_NUMERIC(Fmod)},
    /* Pow's base dtypes are narrower than this (the driver checks them); the integer entries
     * serve equal base and exponent dtypes */
    [AV__EW_POW] = {EW_TAB_NUMERIC(Pow)},
    [AV__EW_MAX] = {EW_TAB_NUMERIC(Max)},
    [AV__EW_MIN] = {EW_TAB_NUMERIC(Min)},
    [AV__EW_PRELU] = {EW_TAB_NUMERIC(PRelu)},
    [AV__EW_EQUAL] = {EW_TAB_NUMERIC(Equal) EW_TAB_B(BoolEqual)},
    [AV__EW_LESS] = {EW_TAB_NUMERIC(Less)},
    [AV__EW_LESS_EQUAL] = {EW_TAB_NUMERIC(LessEqual)},
    [AV__EW_GREATER] = {EW_TAB_NUMERIC(Greater)},
    [AV__EW_GREATER_EQUAL] = {EW_TAB_NUMERIC(GreaterEqual)},
    [AV__EW_AND] = {EW_TAB_B(And)},
    [AV__EW_OR] = {EW_TAB_B(Or)},
    [AV__EW_XOR] = {EW_TAB_B(Xor)},
    [AV__EW_SHL] = {EW_TAB_U(Shl)},
    [AV__EW_SHR] = {EW_TAB_U(Shr)},
    [AV__EW_BITWISE_AND] = {EW_TAB_I(BitwiseAnd) EW_TAB_U(BitwiseAnd)},
    [AV__EW_BITWISE_OR] = {EW_TAB_I(BitwiseOr) EW_TAB_U(BitwiseOr)},
    [AV__EW_BITWISE_XOR] = {EW_TAB_I(BitwiseXor) EW_TAB_U(BitwiseXor)},
};

av__ew_unary_fn av__ew_unary_kernel_ref(av__ew_unop op, av__dtype t)
{
    if ((unsigned)op >= AV__EW_UNOP_COUNT || (unsigned)t >= EW_NDT)
        return NULL;
    return unary_table[op][t];
}

av__ew_unary_fn av__ew_unary_kernel(av__ew_unop op, av__dtype t)
{
    if (t == AV__DT_F32) {
        switch (op) {
        case AV__EW_EXP: return av__ew_exp_f32;
        case AV__EW_SIGMOID: return av__ew_sigmoid_f32;
        case AV__EW_TANH: return av__ew_tanh_f32;
        case AV__EW_LEAKY_RELU: return av__ew_leaky_relu_f32;
        default: break;
        }
    }
    return av__ew_unary_kernel_ref(op, t);
}

av__ew_binary_fn av__ew_binary_kernel(av__ew_binop op, av__dtype t)
{
    if ((unsigned)op >= AV__EW_BINOP_COUNT || (unsigned)t >= EW_NDT)
        return NULL;
    return binary_table[op][t];
}

static int ew_is_float(av__dtype t)
{
    return t == AV__DT_F32 || t == AV__DT_F64 || t == AV__DT_F16 || t == AV__DT_BF16;
}

void av__ew_pow_mixed(void *out, av__dtype tb, const void *a, int64_t sa, av__dtype te,
                      const void *b, int64_t sb, int64_t n)
{
    if (ew_is_float(tb) || ew_is_float(te)) {
        for (int64_t i = 0; i < n; i++) {
            double x = av__ew_load_f64(a, tb, i * sa), y = av__ew_load_f64(b, te, i * sb);
            av__ew_store_f64(out, tb, i, pow(x, y));
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            int64_t x = av__ew_load_i64(a, tb, i * sa), y = av__ew_load_i64(b, te, i * sb);
            /* a uint64 exponent >= 2^63 loads as negative: it is a (huge) positive power */
            int64_t r = te == AV__DT_U64 ? EW_WRAP(ew_ipow((uint64_t)x, (uint64_t)y))
                                         : s_Pow_i(x, y, NULL);
            av__ew_store_i64(out, tb, i, r);
        }
    }
}
