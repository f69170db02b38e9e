/* The elementwise operator family (src/ops/elementwise*.c) through the op harness: a known
 * answer per op, broadcasting, dtype semantics (integer wrap and division, Mod signs, Cast
 * rounding and saturation), opset differences, infer() errors, and threaded == single-threaded.
 * Every op of the family's table must have run at least once (checked at the end). */
#define _POSIX_C_SOURCE 200809L /* strdup in op_harness.h */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/threadpool.h"
#include "op_harness.h"
#include "ops/elementwise_internal.h"
#include "ops/families.h"

/* ---- helpers -------------------------------------------------------------------------------- */

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define NO_SHAPE SHAPE(0) /* for rank-0 tensors */
#define LIST(...) ((const av__tensor *[]){__VA_ARGS__})
#define COUNT(...) ((int)(sizeof((const av__tensor *[]){__VA_ARGS__}) / sizeof(av__tensor *)))

/* Input tensors live until reset_inputs() (end of each test function). */
static av__tensor g_inputs[256];
static int g_n_inputs;

static const av__tensor *mk(av__dtype dt, int ndim, const int64_t *shape, const void *data)
{
    if (g_n_inputs == 256) {
        fprintf(stderr, "test: too many inputs\n");
        exit(1);
    }
    g_inputs[g_n_inputs] = opt_tensor(dt, ndim, shape, data);
    return &g_inputs[g_n_inputs++];
}

static void reset_inputs(void)
{
    for (int i = 0; i < g_n_inputs; i++)
        opt_free_tensor_data(&g_inputs[i]);
    g_n_inputs = 0;
}

#define F32(ndim, shape, ...) mk(AV__DT_F32, ndim, shape, (const float[]){__VA_ARGS__})
#define F64(ndim, shape, ...) mk(AV__DT_F64, ndim, shape, (const double[]){__VA_ARGS__})
#define I8(ndim, shape, ...) mk(AV__DT_I8, ndim, shape, (const int8_t[]){__VA_ARGS__})
#define I16(ndim, shape, ...) mk(AV__DT_I16, ndim, shape, (const int16_t[]){__VA_ARGS__})
#define I32(ndim, shape, ...) mk(AV__DT_I32, ndim, shape, (const int32_t[]){__VA_ARGS__})
#define I64(ndim, shape, ...) mk(AV__DT_I64, ndim, shape, (const int64_t[]){__VA_ARGS__})
#define U8(ndim, shape, ...) mk(AV__DT_U8, ndim, shape, (const uint8_t[]){__VA_ARGS__})
#define U16(ndim, shape, ...) mk(AV__DT_U16, ndim, shape, (const uint16_t[]){__VA_ARGS__})
#define U32(ndim, shape, ...) mk(AV__DT_U32, ndim, shape, (const uint32_t[]){__VA_ARGS__})
#define U64(ndim, shape, ...) mk(AV__DT_U64, ndim, shape, (const uint64_t[]){__VA_ARGS__})
#define BOOL(ndim, shape, ...) mk(AV__DT_BOOL, ndim, shape, (const uint8_t[]){__VA_ARGS__})

/* float16 / bfloat16 inputs from float values */
static const av__tensor *mk16(av__dtype dt, int ndim, const int64_t *shape, const float *v)
{
    av__tensor tmp = {.ndim = ndim};
    for (int i = 0; i < ndim; i++)
        tmp.shape[i] = shape[i];
    int64_t n = av__tensor_count(&tmp);
    uint16_t h[64];
    for (int64_t i = 0; i < n && i < 64; i++)
        h[i] = dt == AV__DT_F16 ? av__f32_to_f16(v[i]) : av__f32_to_bf16(v[i]);
    return mk(dt, ndim, shape, h);
}
#define F16(ndim, shape, ...) mk16(AV__DT_F16, ndim, shape, (const float[]){__VA_ARGS__})
#define BF16(ndim, shape, ...) mk16(AV__DT_BF16, ndim, shape, (const float[]){__VA_ARGS__})

/* Ops that ran successfully at least once. */
static char g_seen[256][32];
static int g_n_seen;

static void mark_seen(const char *op)
{
    for (int i = 0; i < g_n_seen; i++)
        if (!strcmp(g_seen[i], op))
            return;
    if (g_n_seen < 256)
        snprintf(g_seen[g_n_seen++], sizeof g_seen[0], "%s", op);
}

/* Runs node n at `opset` with n_out outputs; returns the status. On success outs[] are heap
 * tensors (free with opt_free_tensor). */
static av_status run_outs(const opt_node *n, int64_t opset, int n_in, const av__tensor *const *in,
                          int n_out, av__tensor **outs, av__threadpool *pool, int line)
{
    char err[256] = "";
    av_status st = opt_run_pool(n, opset, n_in, in, n_out, outs, pool, err, sizeof err);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "line %d: %s (opset %lld) failed: %s: %s\n", line, n->op_type,
                (long long)opset, av_status_string(st), err);
        check_failures++;
    } else {
        mark_seen(n->op_type);
    }
    return st;
}

static av__tensor *run_node(const opt_node *n, int64_t opset, int n_in,
                            const av__tensor *const *in, av__threadpool *pool, int line)
{
    av__tensor *out[1];
    run_outs(n, opset, n_in, in, 1, out, pool, line);
    return out[0];
}

static av__tensor *run_op(const char *op, int64_t opset, int n_in, const av__tensor *const *in,
                          int line)
{
    opt_node *n = opt_node_new(op);
    av__tensor *out = run_node(n, opset, n_in, in, NULL, line);
    opt_node_free(n);
    return out;
}

/* RUN(node, opset, inputs...) and OP("Name", opset, inputs...) return output 0 or NULL. */
#define RUN(node, opset, ...)                                                              \
    run_node(node, opset, COUNT(__VA_ARGS__), LIST(__VA_ARGS__), NULL, __LINE__)
#define OP(name, opset, ...) run_op(name, opset, COUNT(__VA_ARGS__), LIST(__VA_ARGS__), __LINE__)

/* Expects node n to fail with `want` status and a non-empty message containing `substr`. */
static void expect_error(const opt_node *n, int64_t opset, int n_in, const av__tensor *const *in,
                         av_status want, const char *substr, int line)
{
    av__tensor *out[1];
    char err[256] = "";
    av_status st = opt_run(n, opset, n_in, in, 1, out, err, sizeof err);
    if (st != want || !err[0] || (substr && !strstr(err, substr))) {
        fprintf(stderr, "line %d: %s: status %s (want %s), message \"%s\" (want \"%s\")\n",
                line, n->op_type, av_status_string(st), av_status_string(want), err,
                substr ? substr : "");
        check_failures++;
    }
    if (st == AV_STATUS_OK)
        opt_free_tensor(out[0]);
}
#define EXPECT_ERROR(node, opset, want, substr, ...)                                       \
    expect_error(node, opset, COUNT(__VA_ARGS__), LIST(__VA_ARGS__), want, substr, __LINE__)

static int check_meta(const av__tensor *out, av__dtype dt, int ndim, const int64_t *shape,
                      int line)
{
    if (!out)
        return 0;
    int ok = out->dtype == dt && out->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = out->shape[i] == shape[i];
    if (!ok) {
        fprintf(stderr, "line %d: output dtype %s rank %d (shape[0] %lld), want %s rank %d\n",
                line, av__dtype_name(out->dtype), out->ndim,
                (long long)(out->ndim ? out->shape[0] : -1), av__dtype_name(dt), ndim);
        check_failures++;
    }
    return ok;
}

/* Checks dtype, shape and values (|got - want| <= tol * (1 + |want|); NaN matches NaN, inf must
 * be equal), then frees out. */
static void expect_f(av__tensor *out, av__dtype dt, int ndim, const int64_t *shape,
                     const double *want, double tol, int line)
{
    if (check_meta(out, dt, ndim, shape, line)) {
        int64_t n = av__tensor_count(out);
        for (int64_t i = 0; i < n; i++) {
            double got = av__tensor_get_f64(out, i), w = want[i];
            int ok = isnan(w)   ? isnan(got)
                     : isinf(w) ? got == w
                                : fabs(got - w) <= tol * (1 + fabs(w));
            if (!ok) {
                fprintf(stderr, "line %d: %s element %lld = %.9g, want %.9g (tol %g)\n", line,
                        av__dtype_name(dt), (long long)i, got, w, tol);
                check_failures++;
            }
        }
    }
    opt_free_tensor(out);
}

/* Checks dtype, shape and exact integer / bool values (float16/bfloat16: bit patterns), then
 * frees out. */
static void expect_i(av__tensor *out, av__dtype dt, int ndim, const int64_t *shape,
                     const int64_t *want, int line)
{
    if (check_meta(out, dt, ndim, shape, line)) {
        int64_t n = av__tensor_count(out);
        for (int64_t i = 0; i < n; i++) {
            int64_t got = av__tensor_get_i64(out, i);
            if (dt == AV__DT_U64)
                got = (int64_t)((const uint64_t *)out->data)[i];
            else if (dt == AV__DT_F16 || dt == AV__DT_BF16) /* the bit pattern */
                got = ((const uint16_t *)out->data)[i];
            if (got != want[i]) {
                fprintf(stderr, "line %d: %s element %lld = %lld, want %lld\n", line,
                        av__dtype_name(dt), (long long)i, (long long)got, (long long)want[i]);
                check_failures++;
            }
        }
    }
    opt_free_tensor(out);
}

#define EXPECT_F(out, dt, ndim, shape, tol, ...)                                           \
    expect_f(out, dt, ndim, shape, (const double[]){__VA_ARGS__}, tol, __LINE__)
#define EXPECT_I(out, dt, ndim, shape, ...)                                                \
    expect_i(out, dt, ndim, shape, (const int64_t[]){__VA_ARGS__}, __LINE__)

#define TOL 1e-6 /* float32 results of libm functions and short formulas */

/* ---- binary arithmetic and broadcasting ----------------------------------------------------- */

static void test_arithmetic(void)
{
    const av__tensor *a = F32(2, SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
    const av__tensor *b = F32(2, SHAPE(2, 3), 6, 5, 4, 3, 2, 1);
    EXPECT_F(OP("Add", 14, a, b), AV__DT_F32, 2, SHAPE(2, 3), 0, 7, 7, 7, 7, 7, 7);
    EXPECT_F(OP("Sub", 14, a, b), AV__DT_F32, 2, SHAPE(2, 3), 0, -5, -3, -1, 1, 3, 5);
    EXPECT_F(OP("Mul", 14, a, b), AV__DT_F32, 2, SHAPE(2, 3), 0, 6, 10, 12, 12, 10, 6);
    EXPECT_F(OP("Div", 14, a, b), AV__DT_F32, 2, SHAPE(2, 3), TOL, 1 / 6.0, 0.4, 0.75,
             4 / 3.0, 2.5, 6);

    /* scalar (rank 0) on either side */
    const av__tensor *s = F32(0, NO_SHAPE, 10);
    EXPECT_F(OP("Sub", 14, a, s), AV__DT_F32, 2, SHAPE(2, 3), 0, -9, -8, -7, -6, -5, -4);
    EXPECT_F(OP("Sub", 14, s, a), AV__DT_F32, 2, SHAPE(2, 3), 0, 9, 8, 7, 6, 5, 4);
    EXPECT_F(OP("Mul", 14, s, s), AV__DT_F32, 0, NO_SHAPE, 0, 100);

    /* [3,1] x [1,4] -> [3,4] */
    const av__tensor *col = F32(2, SHAPE(3, 1), 1, 2, 3);
    const av__tensor *row = F32(2, SHAPE(1, 4), 10, 20, 30, 40);
    EXPECT_F(OP("Add", 14, col, row), AV__DT_F32, 2, SHAPE(3, 4), 0, 11, 21, 31, 41, 12, 22,
             32, 42, 13, 23, 33, 43);
    EXPECT_F(OP("Sub", 14, row, col), AV__DT_F32, 2, SHAPE(3, 4), 0, 9, 19, 29, 39, 8, 18, 28,
             38, 7, 17, 27, 37);

    /* rank mismatch: [2,1,3] * [2,1] -> [2,2,3]; [2,3] + [3] */
    const av__tensor *x3 = F32(3, SHAPE(2, 1, 3), 1, 2, 3, 4, 5, 6);
    const av__tensor *y2 = F32(2, SHAPE(2, 1), 10, 100);
    EXPECT_F(OP("Mul", 14, x3, y2), AV__DT_F32, 3, SHAPE(2, 2, 3), 0, 10, 20, 30, 100, 200, 300,
             40, 50, 60, 400, 500, 600);
    const av__tensor *v3 = F32(1, SHAPE(3), 1, 0, -1);
    EXPECT_F(OP("Add", 14, a, v3), AV__DT_F32, 2, SHAPE(2, 3), 0, 2, 2, 2, 5, 5, 5);

    /* empty tensors: [0,3] + [1,3] -> [0,3]; [0] + scalar */
    const av__tensor *e = mk(AV__DT_F32, 2, SHAPE(0, 3), NULL);
    const av__tensor *r3 = F32(2, SHAPE(1, 3), 1, 2, 3);
    EXPECT_F(OP("Add", 14, e, r3), AV__DT_F32, 2, SHAPE(0, 3), 0, 0);
    EXPECT_F(OP("Relu", 14, e), AV__DT_F32, 2, SHAPE(0, 3), 0, 0);

    /* other float dtypes: float64, float16 and bfloat16 computed in float32 */
    EXPECT_F(OP("Div", 14, F64(1, SHAPE(2), 1, 2), F64(1, SHAPE(2), 3, 3)), AV__DT_F64, 1,
             SHAPE(2), 1e-15, 1 / 3.0, 2 / 3.0);
    EXPECT_F(OP("Add", 14, F16(1, SHAPE(2), 1, 0.5f), F16(1, SHAPE(2), 2048, 0.25f)), AV__DT_F16,
             1, SHAPE(2), 0, 2048, 0.75); /* 2049 is a tie in float16: to even */
    EXPECT_F(OP("Mul", 14, BF16(1, SHAPE(2), 3, -1.5f), BF16(1, SHAPE(2), 0.5f, 4)), AV__DT_BF16,
             1, SHAPE(2), 0, 1.5, -6);

    /* integers: wrap-around, truncating division, division by zero gives 0 */
    EXPECT_I(OP("Add", 14, U8(1, SHAPE(2), 250, 1), U8(1, SHAPE(2), 10, 2)), AV__DT_U8, 1,
             SHAPE(2), 4, 3);
    EXPECT_I(OP("Add", 14, I8(1, SHAPE(2), 127, -128), I8(1, SHAPE(2), 1, -1)), AV__DT_I8, 1,
             SHAPE(2), -128, 127);
    EXPECT_I(OP("Sub", 14, U16(1, SHAPE(1), 0), U16(1, SHAPE(1), 1)), AV__DT_U16, 1, SHAPE(1),
             65535);
    EXPECT_I(OP("Mul", 14, I16(1, SHAPE(1), 300), I16(1, SHAPE(1), 300)), AV__DT_I16, 1,
             SHAPE(1), 90000 - 65536);
    EXPECT_I(OP("Mul", 14, I64(1, SHAPE(1), INT64_MAX), I64(1, SHAPE(1), 2)), AV__DT_I64, 1,
             SHAPE(1), -2);
    EXPECT_I(OP("Div", 14, I32(1, SHAPE(6), 7, -7, 7, -7, 5, INT32_MIN),
                I32(1, SHAPE(6), 2, 2, -2, -2, 0, -1)),
             AV__DT_I32, 1, SHAPE(6), 3, -3, -3, 3, 0, INT32_MIN);
    EXPECT_I(OP("Div", 14, U32(1, SHAPE(2), 4000000000u, 9), U32(1, SHAPE(2), 3, 0)), AV__DT_U32,
             1, SHAPE(2), 1333333333, 0);
    EXPECT_I(OP("Sub", 14, U64(1, SHAPE(1), 0), U64(1, SHAPE(1), 1)), AV__DT_U64, 1, SHAPE(1),
             -1 /* UINT64_MAX */);

    /* opset < 7: legacy broadcast attribute, b aligned at `axis` */
    opt_node *n = opt_node_new("Add");
    opt_attr_int(n, "broadcast", 1);
    opt_attr_int(n, "axis", 0);
    EXPECT_F(RUN(n, 6, a, F32(1, SHAPE(2), 100, 200)), AV__DT_F32, 2, SHAPE(2, 3), 0, 101, 102,
             103, 204, 205, 206);
    opt_node_free(n);
    reset_inputs();
}

static void test_pow_mod(void)
{
    EXPECT_F(OP("Pow", 15, F32(1, SHAPE(3), 2, 4, -2), F32(1, SHAPE(3), 3, 0.5f, 2)),
             AV__DT_F32, 1, SHAPE(3), TOL, 8, 2, 4);
    EXPECT_F(OP("Pow", 15, F32(1, SHAPE(3), 1, 2, 3), F32(0, NO_SHAPE, 2)), AV__DT_F32, 1,
             SHAPE(3), 0, 1, 4, 9);
    /* mixed dtypes: float base with integer exponent, integer base with float exponent */
    EXPECT_F(OP("Pow", 15, F32(1, SHAPE(2), 2, 4), I64(1, SHAPE(2), 3, -1)), AV__DT_F32, 1,
             SHAPE(2), TOL, 8, 0.25);
    EXPECT_I(OP("Pow", 15, I64(1, SHAPE(3), 2, 3, 10), F32(1, SHAPE(3), 0.5f, 2, -1)), AV__DT_I64,
             1, SHAPE(3), 1, 9, 0);
    /* integer powers: exact, wrapping; negative exponents truncate toward zero */
    EXPECT_I(OP("Pow", 15, I32(1, SHAPE(6), 2, 3, -2, 2, -1, 1),
                I32(1, SHAPE(6), 10, 3, 3, -1, -3, -5)),
             AV__DT_I32, 1, SHAPE(6), 1024, 27, -8, 0, -1, 1);
    EXPECT_I(OP("Pow", 15, I64(1, SHAPE(1), 3), I64(1, SHAPE(1), 40)), AV__DT_I64, 1, SHAPE(1),
             (int64_t)12157665459056928801ull);
    EXPECT_I(OP("Pow", 15, I32(1, SHAPE(1), 7), U8(1, SHAPE(1), 2)), AV__DT_I32, 1, SHAPE(1), 49);

    /* Mod: integer remainder with the divisor's sign (the ONNX test's mixed-sign values) */
    const av__tensor *x = I32(1, SHAPE(6), -4, 7, 5, 4, -7, 8);
    const av__tensor *y = I32(1, SHAPE(6), 2, -3, 8, -2, 3, 5);
    EXPECT_I(OP("Mod", 13, x, y), AV__DT_I32, 1, SHAPE(6), 0, -2, 5, 0, 2, 3);
    opt_node *n = opt_node_new("Mod");
    opt_attr_int(n, "fmod", 1);
    EXPECT_I(RUN(n, 13, x, y), AV__DT_I32, 1, SHAPE(6), 0, 1, 5, 0, -1, 3);
    EXPECT_F(RUN(n, 13, F32(1, SHAPE(4), -4.5f, 7.5f, 5, -7), F32(1, SHAPE(4), 2, -2, 0, 3)),
             AV__DT_F32, 1, SHAPE(4), TOL, -0.5, 1.5, NAN, -1);
    EXPECT_F(RUN(n, 13, F16(1, SHAPE(2), -4.5f, 7.5f), F16(1, SHAPE(2), 2, -2)), AV__DT_F16, 1,
             SHAPE(2), 0, -0.5, 1.5);
    opt_node_free(n);
    EXPECT_I(OP("Mod", 13, I8(1, SHAPE(3), -128, -128, 5), I8(1, SHAPE(3), -1, 0, -3)), AV__DT_I8,
             1, SHAPE(3), 0, 0, -1);
    EXPECT_I(OP("Mod", 13, U8(1, SHAPE(2), 255, 7), U8(1, SHAPE(2), 10, 0)), AV__DT_U8, 1,
             SHAPE(2), 5, 0);
    EXPECT_I(OP("Mod", 13, I64(2, SHAPE(2, 1), -7, 7), I64(1, SHAPE(2), 3, -3)), AV__DT_I64, 2,
             SHAPE(2, 2), 2, -1, 1, -2);
    reset_inputs();
}

static void test_variadic(void)
{
    const av__tensor *a = F32(1, SHAPE(3), 1, 5, 3);
    const av__tensor *b = F32(2, SHAPE(2, 1), 2, 4);
    const av__tensor *c = F32(0, NO_SHAPE, 3);
    EXPECT_F(OP("Sum", 13, a), AV__DT_F32, 1, SHAPE(3), 0, 1, 5, 3);
    EXPECT_F(OP("Sum", 13, a, b, c), AV__DT_F32, 2, SHAPE(2, 3), 0, 6, 10, 8, 8, 12, 10);
    EXPECT_F(OP("Mean", 13, a, b, c), AV__DT_F32, 2, SHAPE(2, 3), TOL, 2, 10 / 3.0, 8 / 3.0,
             8 / 3.0, 4, 10 / 3.0);
    EXPECT_F(OP("Max", 13, a, b, c), AV__DT_F32, 2, SHAPE(2, 3), 0, 3, 5, 3, 4, 5, 4);
    EXPECT_F(OP("Min", 13, a, b), AV__DT_F32, 2, SHAPE(2, 3), 0, 1, 2, 2, 1, 4, 3);
    EXPECT_F(OP("Max", 13, F32(1, SHAPE(2), NAN, 1), F32(1, SHAPE(2), 1, NAN)), AV__DT_F32, 1,
             SHAPE(2), 0, NAN, NAN);
    EXPECT_I(OP("Max", 13, U64(1, SHAPE(2), UINT64_MAX, 1), U64(1, SHAPE(2), 0, 2)), AV__DT_U64,
             1, SHAPE(2), -1, 2);
    EXPECT_I(OP("Min", 13, I8(1, SHAPE(2), -128, 1), I8(1, SHAPE(2), 0, 2), I8(1, SHAPE(2), 5, -3)),
             AV__DT_I8, 1, SHAPE(2), -128, -3);
    EXPECT_F(OP("Mean", 13, F16(1, SHAPE(2), 1, 2), F16(1, SHAPE(2), 2, 5)), AV__DT_F16, 1,
             SHAPE(2), 0, 1.5, 3.5);
    reset_inputs();
}

/* ---- unary maps ----------------------------------------------------------------------------- */

typedef struct unary_case {
    const char *op;
    double (*ref)(double);
    float x[4];
} unary_case;

static double r_neg(double x) { return -x; }
static double r_recip(double x) { return 1 / x; }
static double r_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double r_softplus(double x) { return log(1 + exp(x)); }
static double r_softsign(double x) { return x / (1 + fabs(x)); }
static double r_mish(double x) { return x * tanh(log(1 + exp(x))); }
static double r_gelu(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
/* float attributes and constants as the op holds them */
static double r_hardswish(double x) { return x * fmax(0, fmin(1, x * (double)(1.0f / 6) + 0.5)); }
static double r_hardsigmoid(double x) { return fmax(0, fmin(1, (double)0.2f * x + 0.5)); }
static double r_selu(double x)
{
    return 1.05070102214813232421875 * (x > 0 ? x : 1.67326319217681884765625 * (exp(x) - 1));
}
static double r_elu(double x) { return x > 0 ? x : exp(x) - 1; }
static double r_celu(double x) { return x > 0 ? x : exp(x) - 1; }
static double r_leaky(double x) { return x > 0 ? x : (double)0.01f * x; }
static double r_relu(double x) { return x > 0 ? x : 0; }
static double r_sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
static double r_thresholded(double x) { return x > 1 ? x : 0; }
static double r_shrink(double x) { return x < -0.5 ? x : x > 0.5 ? x : 0; }

static void test_unary(void)
{
    static const unary_case cases[] = {
        {"Neg", r_neg, {-2, 0, 0.5f, 3}},
        {"Abs", fabs, {-2, 0, 0.5f, -3}},
        {"Sign", r_sign, {-2, 0, 0.5f, -0.1f}},
        {"Reciprocal", r_recip, {-2, 4, 0.5f, 3}},
        {"Sqrt", sqrt, {0, 4, 0.5f, 2}},
        {"Exp", exp, {-2, 0, 0.5f, 10}},
        {"Log", log, {0.1f, 1, 2.5f, 100}},
        {"Sin", sin, {-2, 0, 0.5f, 3}},
        {"Cos", cos, {-2, 0, 0.5f, 3}},
        {"Tan", tan, {-1, 0, 0.5f, 1.2f}},
        {"Asin", asin, {-1, 0, 0.5f, 0.9f}},
        {"Acos", acos, {-1, 0, 0.5f, 0.9f}},
        {"Atan", atan, {-20, 0, 0.5f, 3}},
        {"Sinh", sinh, {-2, 0, 0.5f, 3}},
        {"Cosh", cosh, {-2, 0, 0.5f, 3}},
        {"Asinh", asinh, {-2, 0, 0.5f, 3}},
        {"Acosh", acosh, {1, 1.5f, 2, 30}},
        {"Atanh", atanh, {-0.9f, 0, 0.5f, 0.99f}},
        {"Tanh", tanh, {-20, 0, 0.5f, 3}},
        {"Sigmoid", r_sigmoid, {-30, 0, 0.5f, 30}},
        {"HardSigmoid", r_hardsigmoid, {-3, 0, 0.5f, 3}},
        {"HardSwish", r_hardswish, {-4, -1, 0.5f, 4}},
        {"Relu", r_relu, {-2, 0, 0.5f, 3}},
        {"LeakyRelu", r_leaky, {-2, 0, 0.5f, 3}},
        {"Elu", r_elu, {-2, 0, 0.5f, 3}},
        {"Selu", r_selu, {-2, 0, 0.5f, 3}},
        {"Celu", r_celu, {-2, 0, 0.5f, 3}},
        {"Softplus", r_softplus, {-20, 0, 0.5f, 30}},
        {"Softsign", r_softsign, {-2, 0, 0.5f, 3}},
        {"Mish", r_mish, {-2, 0, 0.5f, 3}},
        {"Erf", erf, {-2, 0, 0.5f, 3}},
        {"Gelu", r_gelu, {-2, 0, 0.5f, 3}},
        {"Floor", floor, {-2.5f, -0.5f, 0.5f, 3}},
        {"Ceil", ceil, {-2.5f, -0.5f, 0.5f, 3}},
        {"Round", rint, {-2.5f, -0.5f, 1.5f, 2.5f}},
        {"ThresholdedRelu", r_thresholded, {-2, 1, 1.5f, 3}},
        {"Shrink", r_shrink, {-2, 0.3f, 0.5f, 3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const unary_case *c = &cases[i];
        double want[4];
        for (int k = 0; k < 4; k++)
            want[k] = c->ref(c->x[k]);
        const av__tensor *x = mk(AV__DT_F32, 1, SHAPE(4), c->x);
        int64_t opset = strcmp(c->op, "Gelu") ? 13 : 20;
        expect_f(run_op(c->op, opset, 1, LIST(x), __LINE__), AV__DT_F32, 1, SHAPE(4), want, 2e-6,
                 __LINE__);
        /* the same op on float64 where its table has it */
        const av__tensor *xd = F64(1, SHAPE(4), c->x[0], c->x[1], c->x[2], c->x[3]);
        expect_f(run_op(c->op, opset, 1, LIST(xd), __LINE__), AV__DT_F64, 1, SHAPE(4), want,
                 1e-12, __LINE__);
    }
    /* round to nearest even, exactly */
    EXPECT_F(OP("Round", 11, F32(1, SHAPE(6), 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4999998f)),
             AV__DT_F32, 1, SHAPE(6), 0, 0, 2, 2, 0, -2, 2);
    /* float16 / bfloat16 compute in float32 */
    EXPECT_F(OP("Exp", 13, F16(1, SHAPE(2), 0, 1)), AV__DT_F16, 1, SHAPE(2), 1e-3, 1,
             2.718281828459045);
    EXPECT_F(OP("Tanh", 13, BF16(1, SHAPE(2), 0, 1)), AV__DT_BF16, 1, SHAPE(2), 4e-3, 0,
             0.76159416);
    /* attributes */
    opt_node *n = opt_node_new("LeakyRelu");
    opt_attr_float(n, "alpha", 0.1f);
    EXPECT_F(RUN(n, 16, F32(1, SHAPE(3), -1, 0, 1)), AV__DT_F32, 1, SHAPE(3), TOL, -0.1, 0, 1);
    opt_node_free(n);
    n = opt_node_new("Elu");
    opt_attr_float(n, "alpha", 2);
    EXPECT_F(RUN(n, 6, F32(1, SHAPE(3), -1, 0, 1)), AV__DT_F32, 1, SHAPE(3), TOL, -1.2642411, 0,
             1);
    opt_node_free(n);
    n = opt_node_new("Selu");
    opt_attr_float(n, "alpha", 2);
    opt_attr_float(n, "gamma", 3);
    EXPECT_F(RUN(n, 6, F32(1, SHAPE(3), -1, 0, 1)), AV__DT_F32, 1, SHAPE(3), TOL, -3.7927232, 0,
             3);
    opt_node_free(n);
    n = opt_node_new("HardSigmoid");
    opt_attr_float(n, "alpha", 0.5f);
    opt_attr_float(n, "beta", 0.6f);
    EXPECT_F(RUN(n, 6, F32(1, SHAPE(3), -1, 0, 1)), AV__DT_F32, 1, SHAPE(3), TOL, 0.1, 0.6, 1);
    opt_node_free(n);
    n = opt_node_new("Celu");
    opt_attr_float(n, "alpha", 2);
    EXPECT_F(RUN(n, 12, F32(1, SHAPE(2), -1, 1)), AV__DT_F32, 1, SHAPE(2), TOL, -0.7869387, 1);
    opt_node_free(n);
    n = opt_node_new("ThresholdedRelu");
    opt_attr_float(n, "alpha", 2);
    EXPECT_F(RUN(n, 10, F32(1, SHAPE(4), -1.5f, 2, 2.2f, 5)), AV__DT_F32, 1, SHAPE(4), TOL, 0, 0,
             2.2, 5);
    opt_node_free(n);
    n = opt_node_new("Shrink");
    opt_attr_float(n, "lambd", 1.5f);
    opt_attr_float(n, "bias", 1.5f);
    EXPECT_F(RUN(n, 9, F32(1, SHAPE(5), -2, -1, 0, 1, 2)), AV__DT_F32, 1, SHAPE(5), TOL, -0.5, 0,
             0, 0, 0.5);
    EXPECT_I(RUN(n, 9, I32(1, SHAPE(3), -5, 1, 7)), AV__DT_I32, 1, SHAPE(3), -3, 0, 5);
    opt_node_free(n);
    n = opt_node_new("Gelu");
    opt_attr_string(n, "approximate", "tanh");
    EXPECT_F(RUN(n, 20, F32(1, SHAPE(2), 1, -2)), AV__DT_F32, 1, SHAPE(2), TOL, 0.841191991,
             -0.0454023059);
    opt_node_free(n);
    /* integer maps: wrapping negation and abs of the minimum */
    EXPECT_I(OP("Neg", 13, I32(1, SHAPE(3), INT32_MIN, -5, 7)), AV__DT_I32, 1, SHAPE(3),
             INT32_MIN, 5, -7);
    EXPECT_I(OP("Abs", 13, I8(1, SHAPE(3), -128, -5, 7)), AV__DT_I8, 1, SHAPE(3), -128, 5, 7);
    EXPECT_I(OP("Abs", 13, U16(1, SHAPE(2), 65535, 1)), AV__DT_U16, 1, SHAPE(2), 65535, 1);
    EXPECT_I(OP("Sign", 13, I64(1, SHAPE(3), -9, 0, 9)), AV__DT_I64, 1, SHAPE(3), -1, 0, 1);
    EXPECT_I(OP("Relu", 14, I16(1, SHAPE(2), -9, 9)), AV__DT_I16, 1, SHAPE(2), 0, 9);
    EXPECT_I(OP("Erf", 13, I32(1, SHAPE(2), -3, 0)), AV__DT_I32, 1, SHAPE(2), 0, 0);
    reset_inputs();
}

static void test_predicates_logic(void)
{
    const av__tensor *x = F32(1, SHAPE(6), -INFINITY, -1, 0, 1, INFINITY, NAN);
    EXPECT_I(OP("IsNaN", 13, x), AV__DT_BOOL, 1, SHAPE(6), 0, 0, 0, 0, 0, 1);
    EXPECT_I(OP("IsInf", 10, x), AV__DT_BOOL, 1, SHAPE(6), 1, 0, 0, 0, 1, 0);
    opt_node *n = opt_node_new("IsInf");
    opt_attr_int(n, "detect_negative", 0);
    EXPECT_I(RUN(n, 10, x), AV__DT_BOOL, 1, SHAPE(6), 0, 0, 0, 0, 1, 0);
    opt_node_free(n);
    n = opt_node_new("IsInf");
    opt_attr_int(n, "detect_positive", 0);
    EXPECT_I(RUN(n, 10, F64(1, SHAPE(3), -INFINITY, INFINITY, 0)), AV__DT_BOOL, 1, SHAPE(3), 1,
             0, 0);
    opt_node_free(n);

    const av__tensor *a = F32(1, SHAPE(4), 1, 2, NAN, 4);
    const av__tensor *b = F32(1, SHAPE(4), 2, 2, NAN, 3);
    EXPECT_I(OP("Equal", 13, a, b), AV__DT_BOOL, 1, SHAPE(4), 0, 1, 0, 0);
    EXPECT_I(OP("Less", 13, a, b), AV__DT_BOOL, 1, SHAPE(4), 1, 0, 0, 0);
    EXPECT_I(OP("LessOrEqual", 16, a, b), AV__DT_BOOL, 1, SHAPE(4), 1, 1, 0, 0);
    EXPECT_I(OP("Greater", 13, a, b), AV__DT_BOOL, 1, SHAPE(4), 0, 0, 0, 1);
    EXPECT_I(OP("GreaterOrEqual", 16, a, b), AV__DT_BOOL, 1, SHAPE(4), 0, 1, 0, 1);
    EXPECT_I(OP("Equal", 13, I32(2, SHAPE(2, 1), 3, 5), I32(1, SHAPE(3), 3, 4, 5)), AV__DT_BOOL, 2,
             SHAPE(2, 3), 1, 0, 0, 0, 0, 1);
    EXPECT_I(OP("Less", 13, U64(1, SHAPE(2), UINT64_MAX, 0), U64(1, SHAPE(2), 1, 1)), AV__DT_BOOL,
             1, SHAPE(2), 0, 1);
    EXPECT_I(OP("Greater", 13, I8(1, SHAPE(2), -1, 1), I8(0, NO_SHAPE, 0)), AV__DT_BOOL, 1,
             SHAPE(2), 0, 1);

    const av__tensor *p = BOOL(2, SHAPE(2, 2), 0, 0, 1, 1);
    const av__tensor *q = BOOL(1, SHAPE(2), 0, 1);
    EXPECT_I(OP("And", 7, p, q), AV__DT_BOOL, 2, SHAPE(2, 2), 0, 0, 0, 1);
    EXPECT_I(OP("Or", 7, p, q), AV__DT_BOOL, 2, SHAPE(2, 2), 0, 1, 1, 1);
    EXPECT_I(OP("Xor", 7, p, q), AV__DT_BOOL, 2, SHAPE(2, 2), 0, 1, 1, 0);
    EXPECT_I(OP("Equal", 11, p, q), AV__DT_BOOL, 2, SHAPE(2, 2), 1, 0, 0, 1);
    EXPECT_I(OP("Not", 1, q), AV__DT_BOOL, 1, SHAPE(2), 1, 0);

    n = opt_node_new("BitShift");
    opt_attr_string(n, "direction", "LEFT");
    EXPECT_I(RUN(n, 11, U8(1, SHAPE(4), 16, 4, 1, 255), U8(1, SHAPE(4), 1, 2, 8, 1)), AV__DT_U8, 1,
             SHAPE(4), 32, 16, 0, 254);
    opt_node_free(n);
    n = opt_node_new("BitShift");
    opt_attr_string(n, "direction", "RIGHT");
    EXPECT_I(RUN(n, 11, U64(1, SHAPE(3), 16, 1ull << 63, 5), U64(1, SHAPE(3), 1, 63, 64)),
             AV__DT_U64, 1, SHAPE(3), 8, 1, 0);
    opt_node_free(n);
    EXPECT_I(OP("BitwiseAnd", 18, I32(1, SHAPE(2), 12, -1), I32(1, SHAPE(2), 10, 7)), AV__DT_I32,
             1, SHAPE(2), 8, 7);
    EXPECT_I(OP("BitwiseOr", 18, U8(1, SHAPE(2), 12, 1), U8(1, SHAPE(2), 10, 2)), AV__DT_U8, 1,
             SHAPE(2), 14, 3);
    EXPECT_I(OP("BitwiseXor", 18, I16(1, SHAPE(2), 12, -1), I16(1, SHAPE(2), 10, 1)), AV__DT_I16,
             1, SHAPE(2), 6, -2);
    EXPECT_I(OP("BitwiseNot", 18, U8(1, SHAPE(2), 0, 15)), AV__DT_U8, 1, SHAPE(2), 255, 240);
    reset_inputs();
}

/* ---- Where, Clip, PRelu --------------------------------------------------------------------- */

static void test_where_clip_prelu(void)
{
    /* three-way broadcasting: [2,1] x [1,3] x scalar -> [2,3] */
    const av__tensor *c = BOOL(2, SHAPE(2, 1), 1, 0);
    EXPECT_F(OP("Where", 16, c, F32(2, SHAPE(1, 3), 1, 2, 3), F32(0, NO_SHAPE, -1)), AV__DT_F32,
             2, SHAPE(2, 3), 0, 1, 2, 3, -1, -1, -1);
    EXPECT_I(OP("Where", 16, BOOL(1, SHAPE(3), 1, 0, 1), I64(1, SHAPE(3), 1, 2, 3),
                I64(1, SHAPE(3), -1, -2, -3)),
             AV__DT_I64, 1, SHAPE(3), 1, -2, 3);
    EXPECT_I(OP("Where", 16, BOOL(1, SHAPE(2), 0, 1), BOOL(0, NO_SHAPE, 1),
                BOOL(1, SHAPE(2), 0, 0)),
             AV__DT_BOOL, 1, SHAPE(2), 0, 1);
    EXPECT_F(OP("Where", 16, BOOL(1, SHAPE(2), 0, 1), F16(1, SHAPE(2), 1, 2),
                F16(1, SHAPE(2), 3, 4)),
             AV__DT_F16, 1, SHAPE(2), 0, 3, 2);

    const av__tensor *x = F32(1, SHAPE(5), -3, -1, 0, 1, INFINITY);
    EXPECT_F(OP("Clip", 13, x, F32(0, NO_SHAPE, -2), F32(0, NO_SHAPE, 0.5f)), AV__DT_F32, 1,
             SHAPE(5), 0, -2, -1, 0, 0.5, 0.5);
    EXPECT_F(OP("Clip", 13, x, NULL, F32(0, NO_SHAPE, 0.5f)), AV__DT_F32, 1, SHAPE(5), 0, -3, -1,
             0, 0.5, 0.5);
    EXPECT_F(OP("Clip", 13, x), AV__DT_F32, 1, SHAPE(5), 0, -3, -1, 0, 1, INFINITY);
    /* min > max: everything becomes max */
    EXPECT_F(OP("Clip", 13, x, F32(0, NO_SHAPE, 2), F32(0, NO_SHAPE, 1)), AV__DT_F32, 1, SHAPE(5),
             0, 1, 1, 1, 1, 1);
    EXPECT_I(OP("Clip", 13, I8(1, SHAPE(3), -128, 0, 127), I8(0, NO_SHAPE, -5)), AV__DT_I8, 1,
             SHAPE(3), -5, 0, 127);
    EXPECT_I(OP("Clip", 13, U64(1, SHAPE(2), UINT64_MAX, 3), NULL,
                U64(0, NO_SHAPE, UINT64_MAX - 1)),
             AV__DT_U64, 1, SHAPE(2), -2, 3);
    /* opset 6: attributes, defaulting to the float range */
    opt_node *n = opt_node_new("Clip");
    opt_attr_float(n, "min", -1);
    EXPECT_F(RUN(n, 6, x), AV__DT_F32, 1, SHAPE(5), 0, -1, -1, 0, 1, FLT_MAX);
    opt_node_free(n);

    EXPECT_F(OP("PRelu", 16, F32(2, SHAPE(2, 3), -1, -2, 3, -4, 5, -6),
                F32(1, SHAPE(3), 0.1f, 0.2f, 0.3f)),
             AV__DT_F32, 2, SHAPE(2, 3), TOL, -0.1, -0.4, 3, -0.4, 5, -1.8);
    EXPECT_I(OP("PRelu", 16, I32(1, SHAPE(2), -3, 3), I32(0, NO_SHAPE, 2)), AV__DT_I32, 1,
             SHAPE(2), -6, 3);
    /* opset 6: a 1-D slope of the channel count applies per channel */
    EXPECT_F(OP("PRelu", 6, F32(3, SHAPE(1, 2, 2), -1, -1, -1, 1), F32(1, SHAPE(2), 0.5f, 2)),
             AV__DT_F32, 3, SHAPE(1, 2, 2), 0, -0.5, -0.5, -2, 1);
    reset_inputs();
}

/* ---- Cast, CastLike, Identity, Dropout ------------------------------------------------------ */

static av__tensor *cast(const av__tensor *x, av__dtype to, int line)
{
    opt_node *n = opt_node_new("Cast");
    opt_attr_int(n, "to", to);
    av__tensor *out = run_node(n, 13, 1, LIST(x), NULL, line);
    opt_node_free(n);
    return out;
}

static void test_cast(void)
{
    /* float32 -> float16 -> float32: exact values, rounding ties to even, overflow to inf,
     * subnormals, signed zero, NaN */
    const float v[] = {1.0f, 65504.0f, 65520.0f, INFINITY, -INFINITY, NAN, 0x1p-24f, 0x1p-25f,
                       0x3p-25f, -0.0f, 0.1f, 1e-3f, 0x1.002p0f, 0x1.006p0f};
    const uint16_t bits[] = {0x3c00, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x7e00, 0x0001, 0x0000,
                             0x0002, 0x8000, 0x2e66, 0x1419, 0x3c00, 0x3c02};
    const av__tensor *x = mk(AV__DT_F32, 1, SHAPE(14), v);
    av__tensor *h = cast(x, AV__DT_F16, __LINE__);
    if (check_meta(h, AV__DT_F16, 1, SHAPE(14), __LINE__)) {
        const uint16_t *got = h->data;
        for (int i = 0; i < 14; i++) {
            int ok = i == 5 ? (got[i] & 0x7c00) == 0x7c00 && (got[i] & 0x3ff) : got[i] == bits[i];
            if (!ok) {
                fprintf(stderr, "Cast f32->f16 of %a: 0x%04x, want 0x%04x\n", v[i], got[i],
                        bits[i]);
                check_failures++;
            }
        }
        av__tensor *back = cast(h, AV__DT_F32, __LINE__);
        EXPECT_F(back, AV__DT_F32, 1, SHAPE(14), 0, 1, 65504, INFINITY, INFINITY, -INFINITY, NAN,
                 0x1p-24, 0, 0x1p-23, -0.0, 0.0999755859375, 0.0010004043579101562, 1, 0x1.008p0);
    }
    opt_free_tensor(h);

    /* float64 -> float16 rounds once: 1 + 2^-11 + 2^-40 is above the tie, so it rounds up
     * (via float32 it would become the tie and round to even, down) */
    EXPECT_I(cast(F64(1, SHAPE(2), 1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-11), AV__DT_F16, __LINE__),
             AV__DT_F16, 1, SHAPE(2), 0x3c01, 0x3c00);
    /* bfloat16: ties to even, NaN stays NaN */
    EXPECT_F(cast(F32(1, SHAPE(4), 0x1.01p0f, 0x1.03p0f, NAN, -2.5f), AV__DT_BF16, __LINE__),
             AV__DT_BF16, 1, SHAPE(4), 0, 1, 0x1.04p0, NAN, -2.5);
    EXPECT_F(cast(BF16(1, SHAPE(2), 3, -0.5f), AV__DT_F64, __LINE__), AV__DT_F64, 1, SHAPE(2), 0,
             3, -0.5);

    /* float -> int: truncation toward zero, saturation, NaN -> 0 */
    const av__tensor *f = F32(1, SHAPE(7), 1.9f, -1.9f, 300, -300, NAN, 127.5f, -0.5f);
    EXPECT_I(cast(f, AV__DT_I8, __LINE__), AV__DT_I8, 1, SHAPE(7), 1, -1, 127, -128, 0, 127, 0);
    EXPECT_I(cast(f, AV__DT_U8, __LINE__), AV__DT_U8, 1, SHAPE(7), 1, 0, 255, 0, 0, 127, 0);
    EXPECT_I(cast(f, AV__DT_I32, __LINE__), AV__DT_I32, 1, SHAPE(7), 1, -1, 300, -300, 0, 127, 0);
    EXPECT_I(cast(F32(1, SHAPE(3), 1e30f, -1e30f, 123456792.0f), AV__DT_I64, __LINE__), AV__DT_I64, 1,
             SHAPE(3), INT64_MAX, INT64_MIN, 123456792);
    EXPECT_I(cast(F64(1, SHAPE(2), 1e300, -1), AV__DT_U64, __LINE__), AV__DT_U64, 1, SHAPE(2), -1,
             0);
    /* int -> int keeps the low bits; int -> float rounds once */
    EXPECT_I(cast(I64(1, SHAPE(3), 300, -129, 65536 + 7), AV__DT_I8, __LINE__), AV__DT_I8, 1,
             SHAPE(3), 44, 127, 7);
    EXPECT_I(cast(I32(1, SHAPE(2), -1, 70000), AV__DT_U16, __LINE__), AV__DT_U16, 1, SHAPE(2),
             65535, 70000 - 65536);
    EXPECT_F(cast(U64(1, SHAPE(1), UINT64_MAX), AV__DT_F32, __LINE__), AV__DT_F32, 1, SHAPE(1), 0,
             0x1p64);
    EXPECT_F(cast(I64(1, SHAPE(2), 70000, (1ll << 53) + 1), AV__DT_F16, __LINE__), AV__DT_F16, 1,
             SHAPE(2), 0, INFINITY, INFINITY);
    EXPECT_F(cast(I64(1, SHAPE(1), 16777217), AV__DT_F32, __LINE__), AV__DT_F32, 1, SHAPE(1), 0,
             16777216);
    /* bool both ways: any non-zero (NaN too) is true */
    EXPECT_I(cast(F32(1, SHAPE(4), 0, -0.0f, 2.5f, NAN), AV__DT_BOOL, __LINE__), AV__DT_BOOL, 1,
             SHAPE(4), 0, 0, 1, 1);
    EXPECT_F(cast(BOOL(1, SHAPE(2), 1, 0), AV__DT_F64, __LINE__), AV__DT_F64, 1, SHAPE(2), 0, 1,
             0);
    EXPECT_I(cast(I16(1, SHAPE(2), 0, -7), AV__DT_BOOL, __LINE__), AV__DT_BOOL, 1, SHAPE(2), 0, 1);
    EXPECT_I(cast(I32(1, SHAPE(2), 5, -5), AV__DT_I32, __LINE__), AV__DT_I32, 1, SHAPE(2), 5, -5);

    /* opset 1: `to` is a type name */
    opt_node *n = opt_node_new("Cast");
    opt_attr_string(n, "to", "INT32");
    EXPECT_I(RUN(n, 1, F32(1, SHAPE(2), 2.7f, -2.7f)), AV__DT_I32, 1, SHAPE(2), 2, -2);
    opt_node_free(n);

    EXPECT_I(OP("CastLike", 15, F32(1, SHAPE(2), 2.7f, -2.7f), I64(1, SHAPE(1), 0)), AV__DT_I64, 1,
             SHAPE(2), 2, -2);
    EXPECT_F(OP("CastLike", 15, F64(1, SHAPE(1), 0.1), F16(0, NO_SHAPE, 0)), AV__DT_F16, 1,
             SHAPE(1), 0, 0.0999755859375);

    EXPECT_I(OP("Identity", 16, BOOL(1, SHAPE(3), 1, 0, 1)), AV__DT_BOOL, 1, SHAPE(3), 1, 0, 1);
    EXPECT_F(OP("Identity", 16, F64(0, NO_SHAPE, 2.5)), AV__DT_F64, 0, NO_SHAPE, 0, 2.5);
    reset_inputs();
}

static void test_dropout(void)
{
    const av__tensor *x = F32(2, SHAPE(2, 2), 1, -2, 3, -4);
    av__tensor *outs[2];
    opt_node *n = opt_node_new("Dropout");
    /* opset 13: ratio input, mask output all true */
    if (run_outs(n, 13, 2, LIST(x, F32(0, NO_SHAPE, 0.5f)), 2, outs, NULL, __LINE__) ==
        AV_STATUS_OK) {
        EXPECT_F(outs[0], AV__DT_F32, 2, SHAPE(2, 2), 0, 1, -2, 3, -4);
        EXPECT_I(outs[1], AV__DT_BOOL, 2, SHAPE(2, 2), 1, 1, 1, 1);
    }
    /* training mode with ratio 0 is the identity; with a non-zero ratio it is unsupported */
    if (run_outs(n, 13, 3, LIST(x, F32(0, NO_SHAPE, 0), BOOL(0, NO_SHAPE, 1)), 2, outs, NULL,
                 __LINE__) == AV_STATUS_OK) {
        EXPECT_F(outs[0], AV__DT_F32, 2, SHAPE(2, 2), 0, 1, -2, 3, -4);
        EXPECT_I(outs[1], AV__DT_BOOL, 2, SHAPE(2, 2), 1, 1, 1, 1);
    }
    EXPECT_ERROR(n, 13, AV_STATUS_UNSUPPORTED, "training", x, F32(0, NO_SHAPE, 0.5f),
                 BOOL(0, NO_SHAPE, 1));
    /* opset 7: the mask has the input's dtype */
    if (run_outs(n, 7, 1, LIST(x), 2, outs, NULL, __LINE__) == AV_STATUS_OK) {
        EXPECT_F(outs[0], AV__DT_F32, 2, SHAPE(2, 2), 0, 1, -2, 3, -4);
        EXPECT_F(outs[1], AV__DT_F32, 2, SHAPE(2, 2), 0, 1, 1, 1, 1);
    }
    EXPECT_F(RUN(n, 12, F16(1, SHAPE(2), 1, 2)), AV__DT_F16, 1, SHAPE(2), 0, 1, 2);
    opt_node_free(n);
    reset_inputs();
}

/* ---- errors --------------------------------------------------------------------------------- */

static void test_errors(void)
{
    const av__tensor *f = F32(1, SHAPE(3), 1, 2, 3);
    const av__tensor *f4 = F32(1, SHAPE(4), 1, 2, 3, 4);
    const av__tensor *i = I64(1, SHAPE(3), 1, 2, 3);
    const av__tensor *b = BOOL(1, SHAPE(3), 1, 0, 1);
    const av__tensor *s = mk(AV__DT_STRING, 1, SHAPE(3), NULL);
    opt_node *n;

#define ERR(op, opset, status, substr, ...)                                                \
    do {                                                                                   \
        n = opt_node_new(op);                                                              \
        EXPECT_ERROR(n, opset, status, substr, __VA_ARGS__);                               \
        opt_node_free(n);                                                                  \
    } while (0)
    ERR("Add", 14, AV_STATUS_FORMAT, "Add: input dtypes float32 and int64 differ", f, i);
    ERR("Add", 14, AV_STATUS_FORMAT, "expects 2 input(s), has 1", f);
    ERR("Add", 14, AV_STATUS_FORMAT, "Add: shapes [3] and [4] cannot be broadcast", f, f4);
    ERR("Add", 14, AV_STATUS_FORMAT, "bool", b, b);
    ERR("Add", 14, AV_STATUS_UNSUPPORTED, "string", s, s);
    ERR("Add", 6, AV_STATUS_FORMAT, "broadcast=0", f, F32(1, SHAPE(1), 1));
    ERR("Where", 16, AV_STATUS_FORMAT, "cannot be broadcast", b, f, f4);
    ERR("Where", 16, AV_STATUS_FORMAT, "condition", f, f, f);
    ERR("Where", 16, AV_STATUS_FORMAT, "differ", b, f, i);
    ERR("Sum", 13, AV_STATUS_FORMAT, "int64", i, i);
    ERR("Max", 13, AV_STATUS_FORMAT, "differ", f, f, i);
    ERR("Relu", 14, AV_STATUS_FORMAT, "bool", b);
    ERR("Exp", 13, AV_STATUS_FORMAT, "int64", i);
    ERR("Neg", 13, AV_STATUS_FORMAT, "uint8", U8(1, SHAPE(1), 1));
    ERR("Not", 1, AV_STATUS_FORMAT, "float32", f);
    ERR("And", 7, AV_STATUS_FORMAT, "float32", f, f);
    ERR("Less", 13, AV_STATUS_FORMAT, "bool", b, b);
    ERR("Pow", 15, AV_STATUS_FORMAT, "base", U8(1, SHAPE(1), 2), F32(1, SHAPE(1), 2));
    ERR("Pow", 15, AV_STATUS_FORMAT, "exponent", f, b);
    ERR("Mod", 13, AV_STATUS_FORMAT, "fmod", f, f);
    ERR("PRelu", 16, AV_STATUS_FORMAT, "slope", f, f4);
    ERR("PRelu", 16, AV_STATUS_FORMAT, "slope", f, F32(2, SHAPE(2, 3), 1, 2, 3, 4, 5, 6));
    ERR("Clip", 13, AV_STATUS_FORMAT, "scalar", f, f, NULL);
    ERR("Clip", 13, AV_STATUS_FORMAT, "differ", f, I64(0, NO_SHAPE, 1), NULL);
    ERR("Clip", 6, AV_STATUS_FORMAT, "int64", i);
    ERR("Cast", 13, AV_STATUS_FORMAT, "'to'", f);
    ERR("Identity", 16, AV_STATUS_UNSUPPORTED, "string", s);
    ERR("Dropout", 13, AV_STATUS_FORMAT, "ratio", f, i);
    ERR("Dropout", 13, AV_STATUS_FORMAT, "int64", i);
    ERR("IsNaN", 13, AV_STATUS_FORMAT, "int64", i);
#undef ERR

    n = opt_node_new("Add");
    {
        av__tensor *outs[2];
        char err[256] = "";
        av_status st = opt_run(n, 14, 2, LIST(f, f), 2, outs, err, sizeof err);
        CHECK(st == AV_STATUS_FORMAT && strstr(err, "output"));
    }
    opt_node_free(n);
    n = opt_node_new("Sum");
    expect_error(n, 13, 0, NULL, AV_STATUS_FORMAT, "at least 1", __LINE__);
    opt_node_free(n);
    n = opt_node_new("Cast");
    opt_attr_int(n, "to", AV__DT_STRING);
    EXPECT_ERROR(n, 13, AV_STATUS_UNSUPPORTED, "string", f);
    opt_node_free(n);
    n = opt_node_new("Cast");
    opt_attr_int(n, "to", 14); /* complex64 */
    EXPECT_ERROR(n, 13, AV_STATUS_UNSUPPORTED, "14", f);
    opt_node_free(n);
    n = opt_node_new("Cast");
    opt_attr_int(n, "to", 99);
    EXPECT_ERROR(n, 13, AV_STATUS_FORMAT, "'to'", f);
    opt_node_free(n);
    n = opt_node_new("Gelu");
    opt_attr_string(n, "approximate", "erf");
    EXPECT_ERROR(n, 20, AV_STATUS_FORMAT, "approximate", f);
    opt_node_free(n);
    n = opt_node_new("BitShift");
    opt_attr_string(n, "direction", "UP");
    EXPECT_ERROR(n, 11, AV_STATUS_FORMAT, "direction", U8(1, SHAPE(1), 1), U8(1, SHAPE(1), 1));
    opt_node_free(n);
    n = opt_node_new("Mod");
    opt_attr_int(n, "fmod", 2);
    EXPECT_ERROR(n, 13, AV_STATUS_FORMAT, "fmod", i, i);
    opt_node_free(n);
    n = opt_node_new("Add");
    opt_attr_int(n, "broadcast", 1);
    opt_attr_int(n, "axis", 1);
    EXPECT_ERROR(n, 6, AV_STATUS_FORMAT, "axis", F32(2, SHAPE(2, 3), 1, 2, 3, 4, 5, 6), f4);
    opt_node_free(n);
    reset_inputs();
}

/* ---- threads -------------------------------------------------------------------------------- */

/* Same op on the same inputs with a 2-thread pool and without one: identical bytes. Sizes
 * straddle the 16384-element grain with rows that the chunks cut in the middle. */
static void threaded_equal(av__threadpool *pool, const opt_node *n, int64_t opset, int n_in,
                           const av__tensor *const *in, const char *what)
{
    av__tensor *a = run_node(n, opset, n_in, in, NULL, __LINE__);
    av__tensor *b = run_node(n, opset, n_in, in, pool, __LINE__);
    if (a && b) {
        size_t bytes = av__tensor_bytes(a);
        if (bytes != av__tensor_bytes(b) || memcmp(a->data, b->data, bytes) != 0) {
            fprintf(stderr, "%s: threaded output differs (seed 7)\n", what);
            check_failures++;
        }
    }
    opt_free_tensor(a);
    opt_free_tensor(b);
}

static void test_threads(void)
{
    av__threadpool *pool = NULL;
    if (av__threadpool_create(2, &pool) != AV_STATUS_OK) {
        fprintf(stderr, "cannot create a thread pool\n");
        check_failures++;
        return;
    }
    const int64_t rows = 301, cols = 257; /* 77357 elements: five grains, rows cut mid-way */
    av__tensor x = opt_f32(2, SHAPE(rows, cols), NULL), y = opt_f32(2, SHAPE(rows, cols), NULL);
    av__tensor r = opt_f32(1, SHAPE(cols), NULL), c = opt_f32(3, SHAPE(rows, 1, 1), NULL);
    av__tensor m = opt_tensor(AV__DT_BOOL, 2, SHAPE(rows, 1), NULL);
    opt_fill_random(x.data, rows * cols, 7, -4, 4);
    opt_fill_random(y.data, rows * cols, 8, -4, 4);
    opt_fill_random(r.data, cols, 9, -1, 1);
    opt_fill_random(c.data, rows, 10, -1, 1);
    for (int64_t i = 0; i < rows; i++)
        ((uint8_t *)m.data)[i] = av__rng_u64(11, (uint64_t)i) & 1;

    opt_node *n = opt_node_new("Mul");
    threaded_equal(pool, n, 14, 2, LIST(&x, &y), "Mul same shape");
    threaded_equal(pool, n, 14, 2, LIST(&x, &r), "Mul row broadcast");
    av__tensor c2 = c; /* c viewed as [301,1] */
    c2.ndim = 2;
    threaded_equal(pool, n, 14, 2, LIST(&c2, &x), "Mul [301,1] x [301,257]");
    threaded_equal(pool, n, 14, 2, LIST(&r, &c), "Mul outer product [301,1,257]");
    opt_node_free(n);
    n = opt_node_new("Sigmoid");
    threaded_equal(pool, n, 13, 1, LIST(&x), "Sigmoid");
    opt_node_free(n);
    n = opt_node_new("Where");
    threaded_equal(pool, n, 16, 3, LIST(&m, &x, &r), "Where");
    opt_node_free(n);
    n = opt_node_new("Sum");
    threaded_equal(pool, n, 13, 3, LIST(&x, &r, &y), "Sum");
    opt_node_free(n);
    n = opt_node_new("Cast");
    opt_attr_int(n, "to", AV__DT_F16);
    threaded_equal(pool, n, 13, 1, LIST(&x), "Cast");
    opt_node_free(n);

    /* the broadcast walk against a naive index computation: [301,1,1] - [257] */
    n = opt_node_new("Sub");
    av__tensor *o = run_node(n, 14, 2, LIST(&c, &r), pool, __LINE__);
    if (check_meta(o, AV__DT_F32, 3, SHAPE(rows, 1, cols), __LINE__)) {
        const float *ov = o->data, *cv = c.data, *rv = r.data;
        int64_t bad = 0;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                bad += ov[i * cols + j] != cv[i] - rv[j];
        CHECK_INT(bad, 0);
    }
    opt_free_tensor(o);
    opt_node_free(n);

    opt_free_tensor_data(&x);
    opt_free_tensor_data(&y);
    opt_free_tensor_data(&r);
    opt_free_tensor_data(&c);
    opt_free_tensor_data(&m);
    av__threadpool_free(pool);
}

/* ---- vectorised variants against the libm reference ---------------------------------------- */

/* Spacing of float32 at r (the subnormal step below the normal range). */
static double ulp_at(float r)
{
    int e;
    frexpf(fabsf(r), &e);
    double u = ldexp(1, e - 24);
    return r == 0 || u < 0x1p-149 ? 0x1p-149 : u;
}

/* Tolerance: 4 ulp of the libm result (measured over dense sweeps: exp 1, sigmoid 3, tanh 2);
 * inf, NaN and signed zeros must match exactly. */
static void test_vector_variants(void)
{
    static const struct { av__ew_unop op; const char *name; } ops[] = {
        {AV__EW_EXP, "exp"}, {AV__EW_SIGMOID, "sigmoid"}, {AV__EW_TANH, "tanh"},
        {AV__EW_LEAKY_RELU, "leaky_relu"},
    };
    static const int64_t sizes[] = {1, 7, 1023, 65537};
    static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 0x1p-149f, -0x1p-149f,
                                    88.72283f, 88.7228394f, 89.0f, -87.5f, -103.9f, -104.0f,
                                    -200.0f, 0.625f, -0.625f, 9.0f, 1e30f, -1e30f};
    const int n_special = (int)(sizeof special / sizeof special[0]);
    float *x = malloc(65537 * sizeof *x), *got = malloc(65537 * sizeof *got),
          *want = malloc(65537 * sizeof *want);
    av__ew_params p = {0};
    p.alpha = 0.1f; /* LeakyRelu's slope; the other variants take no attribute */
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        av__ew_unary_fn fast = av__ew_unary_kernel(ops[k].op, AV__DT_F32);
        av__ew_unary_fn ref = av__ew_unary_kernel_ref(ops[k].op, AV__DT_F32);
        CHECK(fast && ref && fast != ref);
        if (!fast || !ref)
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int64_t n = sizes[s];
            uint64_t seed = 100 + k * 10 + s;
            /* half the values in [-10, 10], half in [-120, 120]: overflow and subnormals */
            for (int64_t i = 0; i < n; i++)
                x[i] = (i & 1 ? 120.0f : 10.0f) * (2 * av__rng_uniform(seed, (uint64_t)i) - 1);
            for (int64_t i = 0; i < n && i < n_special; i++)
                x[i * 7 % n] = special[i];
            fast(got, x, n, &p);
            ref(want, x, n, &p);
            for (int64_t i = 0; i < n; i++) {
                int ok = isnan(want[i]) || isinf(want[i]) || want[i] == 0
                             ? memcmp(&got[i], &want[i], sizeof(float)) == 0 ||
                                   (isnan(got[i]) && isnan(want[i]))
                             : fabs((double)got[i] - want[i]) <= 4 * ulp_at(want[i]);
                if (!ok) {
                    fprintf(stderr, "%s(%.9g) = %.9g, libm %.9g (n %lld, seed %llu)\n",
                            ops[k].name, x[i], got[i], want[i], (long long)n,
                            (unsigned long long)seed);
                    check_failures++;
                    break;
                }
            }
        }
    }
    free(x);
    free(got);
    free(want);
}

static void test_coverage(void)
{
    for (int i = 0; i < av__ops_elementwise_count; i++) {
        const char *name = av__ops_elementwise[i].name;
        int seen = 0;
        for (int k = 0; k < g_n_seen && !seen; k++)
            seen = !strcmp(g_seen[k], name);
        if (!seen) {
            fprintf(stderr, "op %s has no passing test\n", name);
            check_failures++;
        }
    }
}

int main(void)
{
    test_arithmetic();
    test_pow_mod();
    test_variadic();
    test_unary();
    test_predicates_logic();
    test_where_clip_prelu();
    test_cast();
    test_dropout();
    test_errors();
    test_threads();
    test_vector_variants();
    test_coverage();
    return check_report("test_ops_elementwise");
}
