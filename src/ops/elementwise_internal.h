/* Shared by the elementwise family's files. Internal to src/ops/elementwise*.c.
 *
 *   elementwise.c        the op table, infer() and run() drivers, broadcasting and threading
 *   elementwise_math.c   per-dtype kernels of the unary and binary maps (one table each)
 *   elementwise_cast.c   dtype conversion: Cast, and element load/store by dtype
 *   elementwise_vec.c    vectorisable float32 exp, sigmoid, tanh and leaky relu
 *   elementwise_chain.c  ElementwiseChain, fused runs of steps (internal; elementwise_chain.h)
 *
 * Kernels are plain functions over contiguous runs; they never fail and never allocate. The
 * drivers choose them once per run() from the op and the input dtype. */
#ifndef AV_OPS_ELEMENTWISE_INTERNAL_H
#define AV_OPS_ELEMENTWISE_INTERNAL_H

#include <stdint.h>

#include "ops/op.h"

/* o[i] = VAL for i in [0, n), with o in scope and VAL an expression of i. Blocks of 8 through a
 * temporary: gcc and clang vectorise these fixed-length inner loops at -O2 (gcc 12 leaves a
 * plain loop of unknown length scalar below -O3; measured 2.5x on an in-cache float32 Add).
 * Every block reads before it writes, so o may be exactly one of the operands (Sum folds into
 * its output). */
#define AV__EW_LOOP(OT, n, VAL)                                                            \
    do {                                                                                   \
        int64_t blk_ = 0;                                                                  \
        for (; blk_ + 8 <= (n); blk_ += 8) {                                               \
            OT t_[8];                                                                      \
            for (int k_ = 0; k_ < 8; k_++) {                                               \
                const int64_t i = blk_ + k_;                                               \
                t_[k_] = VAL;                                                              \
            }                                                                              \
            for (int k_ = 0; k_ < 8; k_++)                                                 \
                o[blk_ + k_] = t_[k_];                                                     \
        }                                                                                  \
        for (int64_t i = blk_; i < (n); i++)                                               \
            o[i] = VAL;                                                                    \
    } while (0)

/* One bound of Clip, held in every compute domain so each kernel reads its own field: `f` for
 * float32/float16/bfloat16, `d` for float64, `i` for signed integers, `u` for unsigned. */
typedef struct av__ew_bound {
    float f;
    double d;
    int64_t i;
    uint64_t u;
} av__ew_bound;

/* Attribute values a kernel needs, read once per run() (defaults as in the ONNX spec). */
typedef struct av__ew_params {
    float alpha;          /* LeakyRelu, Elu, Celu, ThresholdedRelu, HardSigmoid, Selu */
    float beta;           /* HardSigmoid */
    float gamma;          /* Selu */
    float lambd, bias;    /* Shrink */
    int detect_positive;  /* IsInf */
    int detect_negative;
    av__ew_bound lo, hi;  /* Clip: no bound is -inf / +inf, or the integer extremes */
} av__ew_params;

/* Unary maps: out[i] = f(x[i]) for i in [0, n). out has the input's dtype, except for
 * ISNAN and ISINF (bool). */
typedef enum av__ew_unop {
    AV__EW_NEG, AV__EW_ABS, AV__EW_SIGN, AV__EW_RECIPROCAL, AV__EW_SQRT, AV__EW_EXP, AV__EW_LOG,
    AV__EW_SIN, AV__EW_COS, AV__EW_TAN, AV__EW_ASIN, AV__EW_ACOS, AV__EW_ATAN,
    AV__EW_SINH, AV__EW_COSH, AV__EW_ASINH, AV__EW_ACOSH, AV__EW_ATANH, AV__EW_TANH,
    AV__EW_SIGMOID, AV__EW_HARD_SIGMOID, AV__EW_HARD_SWISH, AV__EW_RELU, AV__EW_LEAKY_RELU,
    AV__EW_ELU, AV__EW_SELU, AV__EW_CELU, AV__EW_SOFTPLUS, AV__EW_SOFTSIGN, AV__EW_MISH,
    AV__EW_ERF, AV__EW_GELU, AV__EW_GELU_TANH, AV__EW_FLOOR, AV__EW_CEIL, AV__EW_ROUND,
    AV__EW_THRESHOLDED_RELU, AV__EW_SHRINK, AV__EW_CLIP, AV__EW_ISNAN, AV__EW_ISINF,
    AV__EW_NOT, AV__EW_BITWISE_NOT,
    AV__EW_UNOP_COUNT
} av__ew_unop;

/* Binary maps with the two operands walked at element strides sa, sb (each 0 or 1):
 * out[i] = f(a[i * sa], b[i * sb]) for i in [0, n). Both operands have the same dtype; out has
 * it too, except for the comparisons and logical ops (bool). */
typedef enum av__ew_binop {
    AV__EW_ADD, AV__EW_SUB, AV__EW_MUL, AV__EW_DIV,
    AV__EW_MOD,   /* integer remainder with the divisor's sign (Python %) */
    AV__EW_FMOD,  /* remainder with the dividend's sign (C fmod / %) */
    AV__EW_POW, AV__EW_MAX, AV__EW_MIN, AV__EW_PRELU,
    AV__EW_EQUAL, AV__EW_LESS, AV__EW_LESS_EQUAL, AV__EW_GREATER, AV__EW_GREATER_EQUAL,
    AV__EW_AND, AV__EW_OR, AV__EW_XOR,
    AV__EW_SHL, AV__EW_SHR,
    AV__EW_BITWISE_AND, AV__EW_BITWISE_OR, AV__EW_BITWISE_XOR,
    AV__EW_BINOP_COUNT
} av__ew_binop;

typedef void (*av__ew_unary_fn)(void *out, const void *x, int64_t n, const av__ew_params *p);
typedef void (*av__ew_binary_fn)(void *out, const void *a, int64_t sa, const void *b, int64_t sb,
                                 int64_t n, const av__ew_params *p);

/* The attribute values of a unary map's node (alpha, beta, gamma, lambd, bias, IsInf's
 * detect_*), ONNX defaults where absent (elementwise.c; ElementwiseChain uses them too). */
void av__ew_unary_params(const av__node *node, av__ew_unop op, av__ew_params *p);

/* The kernel of op for operands of dtype t, or NULL when the op does not take that dtype (the
 * tables follow the ONNX type constraints, so NULL means "reject the model"). */
av__ew_unary_fn av__ew_unary_kernel(av__ew_unop op, av__dtype t);
av__ew_binary_fn av__ew_binary_kernel(av__ew_binop op, av__dtype t);

/* The plain libm-based kernel of op for dtype t: the reference that the vectorised variants
 * are tested against. Equals av__ew_unary_kernel(op, t) where there is no variant. */
av__ew_unary_fn av__ew_unary_kernel_ref(av__ew_unop op, av__dtype t);

/* ---- elementwise_vec.c: vectorisable float32 variants (see there for their accuracy) --------- */
void av__ew_exp_f32(void *out, const void *x, int64_t n, const av__ew_params *p);
void av__ew_sigmoid_f32(void *out, const void *x, int64_t n, const av__ew_params *p);
void av__ew_tanh_f32(void *out, const void *x, int64_t n, const av__ew_params *p);
void av__ew_leaky_relu_f32(void *out, const void *x, int64_t n, const av__ew_params *p);

/* Pow for any pair of numeric dtypes (base dtype tb = out dtype, exponent dtype te): float
 * bases compute in double; integer bases with integer exponents exactly (wrapping); integer
 * bases with float exponents in double, truncated toward zero and saturated. Strides as above. */
void av__ew_pow_mixed(void *out, av__dtype tb, const void *a, int64_t sa, av__dtype te,
                      const void *b, int64_t sb, int64_t n);

/* ---- elementwise_cast.c ---------------------------------------------------------------------- */

/* Element i of the buffer p holding dtype t: as double (float dtypes exact, integers rounded to
 * nearest for |v| > 2^53), and as int64 (integers exact, uint64 wrapping; floats truncated toward
 * zero and saturated, NaN 0). Bool is 0/1. */
double av__ew_load_f64(const void *p, av__dtype t, int64_t i);
int64_t av__ew_load_i64(const void *p, av__dtype t, int64_t i);
/* Stores v into element i: floats rounded to nearest even (float64 -> float16/bfloat16 rounded
 * once, not via float32), integers truncated toward zero and saturated (NaN 0), bool v != 0. */
void av__ew_store_f64(void *p, av__dtype t, int64_t i, double v);
/* Stores integer v: integer dtypes keep its low bits (wrapping, as C casts do on two's
 * complement), float dtypes round it to nearest, bool v != 0. */
void av__ew_store_i64(void *p, av__dtype t, int64_t i, int64_t v);

/* Converts n elements from src (dtype ts) to dst (dtype td) with ONNX Cast semantics: as the
 * store functions above, and uint64 sources converted from their unsigned value. Both dtypes
 * must have av__dtype_size() > 0. */
void av__ew_cast(void *dst, av__dtype td, const void *src, av__dtype ts, int64_t n);

#endif /* AV_OPS_ELEMENTWISE_INTERNAL_H */
