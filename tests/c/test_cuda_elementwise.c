/* The CUDA kernels of the elementwise family (src/cuda/ops_elementwise.cu) against the CPU
 * operators, through tests/c/cuda_harness.h: every op on random data of awkward sizes (1, 7,
 * 1000003 elements, scalars), numpy broadcasting, integer and bool dtypes, the Cast pairs, the
 * random generators (bit-exact in fp32) and ElementwiseChain built the way the pointwise-chain
 * pass builds it. Skips (exit 77) without the backend or a GPU.
 *
 * Float inputs are drawn exactly representable in float16, so that the fp16-storage run sees
 * the very values the CPU sees: bool and integer outputs of float inputs (comparisons, IsNaN,
 * Cast) must then be identical in both runs, and float outputs differ by the float16 rounding
 * of the result only (input ranges keep results out of float16's subnormals, where that
 * rounding is coarse). Every label names its op, dtypes and shapes; the data seeds are fixed. */
#define _POSIX_C_SOURCE 200809L /* strdup in op_harness.h */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_harness.h"
#include "ops/elementwise_chain.h"

static cuda_harness H;
static uint64_t data_seed = 20240601;

/* ---- shapes and tensors ---------------------------------------------------------------------- */

typedef struct shp {
    int n;
    int64_t d[AV__MAX_DIMS];
} shp;

static const shp S_SCALAR = {0, {0}};
static const shp S_1 = {1, {1}};
static const shp S_7 = {1, {7}};
static const shp S_BIG = {1, {1000003}};

static const char *shp_str(const shp *s, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->n && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ",%lld" : "%lld", (long long)s->d[i]);
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

/* The quantum of float16-exact values up to magnitude m: 2^k with m / 2^k <= 2048. */
static float f16_step(float m)
{
    float step = 1.0f / 16777216.0f;
    while (step * 2048.0f < m)
        step *= 2.0f;
    return step;
}

/* float32 values in [lo, hi], each exactly representable in float16. */
static av__tensor t_f32(const shp *s, float lo, float hi)
{
    av__tensor t = opt_tensor(AV__DT_F32, s->n, s->d, NULL);
    float *x = t.data;
    const float step = f16_step(fmaxf(fabsf(lo), fabsf(hi)));
    const uint64_t seed = data_seed++;
    for (int64_t i = 0; i < av__tensor_count(&t); i++) {
        float v = lo + (hi - lo) * av__rng_uniform(seed, (uint64_t)i);
        v = rintf(v / step) * step;
        if (v < lo)
            v += step;
        if (v > hi)
            v -= step;
        x[i] = v;
    }
    return t;
}

/* Elements with |x| < m moved to +-m (divisors). */
static void away_from_zero(av__tensor *t, float m)
{
    float *x = t->data;
    for (int64_t i = 0; i < av__tensor_count(t); i++)
        if (fabsf(x[i]) < m)
            x[i] = x[i] < 0 ? -m : m;
}

/* Integers uniform in [lo, hi] (the full int64 range when lo = INT64_MIN, hi = INT64_MAX). */
static av__tensor t_int(av__dtype dt, const shp *s, int64_t lo, int64_t hi)
{
    av__tensor t = opt_tensor(dt, s->n, s->d, NULL);
    const uint64_t seed = data_seed++;
    const uint64_t range = (uint64_t)hi - (uint64_t)lo + 1; /* 0: the whole 64-bit range */
    for (int64_t i = 0; i < av__tensor_count(&t); i++) {
        uint64_t r = av__rng_u64(seed, (uint64_t)i);
        int64_t v = (int64_t)((uint64_t)lo + (range ? r % range : r));
        switch (dt) {
        case AV__DT_I64: ((int64_t *)t.data)[i] = v; break;
        case AV__DT_I32: ((int32_t *)t.data)[i] = (int32_t)v; break;
        case AV__DT_I8: ((int8_t *)t.data)[i] = (int8_t)v; break;
        case AV__DT_U8: ((uint8_t *)t.data)[i] = (uint8_t)v; break;
        case AV__DT_BOOL: ((uint8_t *)t.data)[i] = v != 0; break;
        default: break;
        }
    }
    return t;
}

static av__tensor t_bool(const shp *s) { return t_int(AV__DT_BOOL, s, 0, 1); }

/* A tensor of dtype dt (float32, float16, bfloat16) holding the n values v (rounded). */
static av__tensor t_from(av__dtype dt, int64_t n, const float *v)
{
    const int64_t shape[1] = {n};
    av__tensor t = opt_tensor(dt, 1, shape, NULL);
    for (int64_t i = 0; i < n; i++) {
        if (dt == AV__DT_F32)
            ((float *)t.data)[i] = v[i];
        else if (dt == AV__DT_F16)
            ((uint16_t *)t.data)[i] = av__f32_to_f16(v[i]);
        else
            ((uint16_t *)t.data)[i] = av__f32_to_bf16(v[i]);
    }
    return t;
}

/* The values of t converted to dtype dt (the harness's own Cast: for building inputs). */
static av__tensor t_as(const av__tensor *src, av__dtype dt)
{
    av__tensor t = opt_tensor(dt, src->ndim, src->shape, NULL);
    for (int64_t i = 0; i < av__tensor_count(src); i++)
        av__tensor_set_f64(&t, i, av__tensor_get_f64(src, i));
    return t;
}

static void t_free(av__tensor *t, int n)
{
    for (int i = 0; i < n; i++)
        opt_free_tensor_data(&t[i]);
}

/* ---- nodes ----------------------------------------------------------------------------------- */

static opt_node *node_new(const char *op, int n_in, int n_out)
{
    opt_node *n = opt_node_new(op);
    n->n_inputs = n_in;
    n->inputs = av__malloc(sizeof(int) * (size_t)(n_in > 0 ? n_in : 1));
    for (int i = 0; i < n_in; i++)
        n->inputs[i] = i;
    n->n_outputs = n_out;
    n->outputs = av__malloc(sizeof(int) * (size_t)n_out);
    for (int i = 0; i < n_out; i++)
        n->outputs[i] = n_in + i;
    return n;
}

/* cuda_check on inputs in[0..n_in) (NULL: omitted); the node's input list follows them. */
static void check(const char *label, opt_node *n, int64_t opset, int n_in, av__tensor *const *in,
                  uint32_t const_mask, const cuda_tol *tol)
{
    const av__tensor *ins[16];
    for (int i = 0; i < n_in; i++) {
        ins[i] = in[i];
        if (i < n->n_inputs)
            n->inputs[i] = in[i] ? i : -1;
    }
    cuda_check(&H, label, n, opset, n_in, ins, const_mask, tol);
}

/* ---- ElementwiseChain, built as src/graph/pass_fuse.c builds it ---------------------------- */

/* A map and its attributes (unary tests and chain steps). */
typedef struct unary_case {
    const char *op;
    float lo, hi;
    const char *fa;   /* optional float attributes */
    float fv;
    const char *fb;
    float fw;
    const char *sa;   /* optional string attribute */
    const char *sv;
} unary_case;

static void unary_attrs(opt_node *n, const unary_case *c)
{
    if (c->fa)
        opt_attr_float(n, c->fa, c->fv);
    if (c->fb)
        opt_attr_float(n, c->fb, c->fw);
    if (c->sa)
        opt_attr_string(n, c->sa, c->sv);
}


typedef struct chain_b {
    int n;
    const char *ops[AV__EW_CHAIN_MAX_STEPS];
    int64_t operands[2 * AV__EW_CHAIN_MAX_STEPS], swap[AV__EW_CHAIN_MAX_STEPS];
    float params[AV__EW_CHAIN_PARAMS * AV__EW_CHAIN_MAX_STEPS];
} chain_b;

/* Appends step `op` on the running value (X is chain input 0). Binary steps read chain input
 * `a` (0: X itself), as the right operand, or the left one when swap; Clip reads min from input
 * a and max from input b (-1: none); attributes from `at` (may be NULL). The step (its resolved
 * params included) comes from av__ew_chain_step_of on the node the step replaces, as in the
 * pass. */
static void chain_add(chain_b *cb, const char *op, int a, int b, int swap, const unary_case *at)
{
    opt_node *t = opt_node_new(op);
    int binary = strcmp(op, "Clip") != 0 && a >= 0;
    if (!strcmp(op, "Clip")) {
        t->n_inputs = 3;
        t->inputs = av__malloc(3 * sizeof(int));
        t->inputs[0] = 0;
        t->inputs[1] = a;
        t->inputs[2] = b;
    } else if (binary) {
        t->n_inputs = 2;
        t->inputs = av__malloc(2 * sizeof(int));
        t->inputs[0] = swap ? a : 0;
        t->inputs[1] = swap ? 0 : a;
    } else {
        t->n_inputs = 1;
        t->inputs = av__malloc(sizeof(int));
        t->inputs[0] = 0;
    }
    t->n_outputs = 1;
    t->outputs = av__malloc(sizeof(int));
    t->outputs[0] = 1000;
    if (at)
        unary_attrs(t, at);
    av__ew_chain_step step;
    int ok = av__ew_chain_step_of(t, 17, 0, &step);
    CHECK(ok);
    if (ok && cb->n < AV__EW_CHAIN_MAX_STEPS) {
        int k = cb->n++;
        cb->ops[k] = step.op;
        cb->operands[2 * k] = step.a;
        cb->operands[2 * k + 1] = step.b;
        /* X on both sides reads as unswapped there; the op takes swap with operand 0 too */
        cb->swap[k] = binary && a == 0 ? swap : step.swap;
        memcpy(cb->params + AV__EW_CHAIN_PARAMS * k, step.params, sizeof step.params);
    }
    opt_node_free(t);
}

static opt_node *chain_node(const chain_b *cb, int n_in)
{
    opt_node *n = node_new(AV__EW_CHAIN_OP, n_in, 1);
    free(n->domain);
    n->domain = strdup(AV__DOMAIN_INTERNAL);
    av__attr *a = opt_attr_add(n, "ops", AV__ATTR_STRINGS);
    a->count = cb->n;
    a->strings = malloc(sizeof(char *) * (size_t)cb->n);
    for (int k = 0; k < cb->n; k++)
        a->strings[k] = strdup(cb->ops[k]);
    opt_attr_ints(n, "operands", 2 * cb->n, cb->operands);
    opt_attr_ints(n, "swap", cb->n, cb->swap);
    opt_attr_floats(n, "params", AV__EW_CHAIN_PARAMS * cb->n, cb->params);
    return n;
}

/* ---- unary maps ------------------------------------------------------------------------------ */

static const unary_case unary_cases[] = {
    {"Abs", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Neg", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Sign", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Reciprocal", 0.25f, 4, 0, 0, 0, 0, 0, 0},
    {"Reciprocal", -4, -0.25f, 0, 0, 0, 0, 0, 0},
    {"Sqrt", 0, 100, 0, 0, 0, 0, 0, 0},
    {"Exp", -5, 5, 0, 0, 0, 0, 0, 0},
    {"Log", 0.05f, 20, 0, 0, 0, 0, 0, 0},
    {"Sin", -6, 6, 0, 0, 0, 0, 0, 0},
    {"Cos", -6, 6, 0, 0, 0, 0, 0, 0},
    {"Tan", -1.2f, 1.2f, 0, 0, 0, 0, 0, 0},
    {"Asin", -0.95f, 0.95f, 0, 0, 0, 0, 0, 0},
    {"Acos", -0.95f, 0.95f, 0, 0, 0, 0, 0, 0},
    {"Atan", -10, 10, 0, 0, 0, 0, 0, 0},
    {"Sinh", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Cosh", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Asinh", -10, 10, 0, 0, 0, 0, 0, 0},
    {"Acosh", 1.5f, 10, 0, 0, 0, 0, 0, 0},
    {"Atanh", -0.9f, 0.9f, 0, 0, 0, 0, 0, 0},
    {"Tanh", -5, 5, 0, 0, 0, 0, 0, 0},
    {"Sigmoid", -10, 10, 0, 0, 0, 0, 0, 0},
    {"HardSigmoid", -6, 6, 0, 0, 0, 0, 0, 0},
    {"HardSigmoid", -6, 6, "alpha", 0.3f, "beta", 0.4f, 0, 0},
    {"HardSwish", -6, 6, 0, 0, 0, 0, 0, 0},
    {"Relu", -4, 4, 0, 0, 0, 0, 0, 0},
    {"LeakyRelu", -4, 4, 0, 0, 0, 0, 0, 0},
    {"LeakyRelu", -4, 4, "alpha", 0.1f, 0, 0, 0, 0},
    {"Elu", -4, 4, "alpha", 0.7f, 0, 0, 0, 0},
    {"Selu", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Selu", -4, 4, "alpha", 1.5f, "gamma", 1.2f, 0, 0},
    {"Celu", -4, 4, "alpha", 0.6f, 0, 0, 0, 0},
    {"Softplus", -10, 20, 0, 0, 0, 0, 0, 0},
    {"Softsign", -10, 10, 0, 0, 0, 0, 0, 0},
    {"Mish", -10, 10, 0, 0, 0, 0, 0, 0},
    {"Erf", -3, 3, 0, 0, 0, 0, 0, 0},
    {"Gelu", -4, 4, 0, 0, 0, 0, 0, 0},
    {"Gelu", -4, 4, 0, 0, 0, 0, "approximate", "tanh"},
    {"Floor", -40, 40, 0, 0, 0, 0, 0, 0},
    {"Ceil", -40, 40, 0, 0, 0, 0, 0, 0},
    {"Round", -40, 40, 0, 0, 0, 0, 0, 0},
    {"ThresholdedRelu", -2, 2, "alpha", 0.5f, 0, 0, 0, 0},
    {"Shrink", -2, 2, "lambd", 0.75f, "bias", 0.25f, 0, 0},
    {"Shrink", -2, 2, 0, 0, 0, 0, 0, 0},
};

static void test_unary_float(void)
{
    const shp shapes[] = {S_1, S_7, S_BIG, {3, {2, 3, 7}}};
    char label[160], sb[64];
    for (size_t k = 0; k < sizeof unary_cases / sizeof unary_cases[0]; k++) {
        const unary_case *c = &unary_cases[k];
        opt_node *n = node_new(c->op, 1, 1);
        unary_attrs(n, c);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            av__tensor x = t_f32(&shapes[s], c->lo, c->hi);
            snprintf(label, sizeof label, "%s%s%s f32 %s", c->op, c->sv ? " " : "",
                     c->sv ? c->sv : "", shp_str(&shapes[s], sb, sizeof sb));
            check(label, n, 17, 1, (av__tensor *[]){&x}, 0, NULL);
            t_free(&x, 1);
        }
        opt_node_free(n);

        /* the same map as a chain step, after a per-channel Mul by 1 on [2,3,7] */
        chain_b cb = {0};
        chain_add(&cb, "Mul", 1, -1, 0, NULL);
        chain_add(&cb, c->op, -1, -1, 0, c);
        const shp xs = {3, {2, 3, 7}}, os = {3, {1, 3, 1}};
        av__tensor x = t_f32(&xs, c->lo, c->hi);
        av__tensor one = opt_tensor(AV__DT_F32, os.n, os.d, NULL);
        for (int i = 0; i < 3; i++)
            ((float *)one.data)[i] = 1.0f;
        opt_node *cn = chain_node(&cb, 2);
        snprintf(label, sizeof label, "Chain Mul,%s%s%s f32 [2,3,7]", c->op, c->sv ? " " : "",
                 c->sv ? c->sv : "");
        check(label, cn, 17, 2, (av__tensor *[]){&x, &one}, 2, NULL);
        opt_node_free(cn);
        t_free(&x, 1);
        t_free(&one, 1);
    }
    /* a scalar */
    opt_node *n = node_new("Exp", 1, 1);
    av__tensor x = t_f32(&S_SCALAR, -3, 3);
    check("Exp f32 []", n, 17, 1, (av__tensor *[]){&x}, 0, NULL);
    t_free(&x, 1);
    opt_node_free(n);
}

/* Integer maps on int32 and int64: full-range values (with the extremes) and small ones. */
static void test_unary_int(void)
{
    static const char *ops[] = {"Neg", "Abs", "Sign", "Relu", "BitwiseNot", "Erf", "Shrink"};
    const av__dtype dts[] = {AV__DT_I32, AV__DT_I64};
    const shp s = {2, {7, 143}};
    char label[160];
    for (size_t d = 0; d < 2; d++) {
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            opt_node *n = node_new(ops[k], 1, 1);
            if (!strcmp(ops[k], "Shrink")) {
                opt_attr_float(n, "lambd", 2.5f);
                opt_attr_float(n, "bias", 1.5f);
            }
            int small = !strcmp(ops[k], "Erf") || !strcmp(ops[k], "Shrink");
            av__tensor x = small ? t_int(dts[d], &s, -10, 10)
                                 : t_int(dts[d], &s, dts[d] == AV__DT_I32 ? INT32_MIN : INT64_MIN,
                                         dts[d] == AV__DT_I32 ? INT32_MAX : INT64_MAX);
            if (!small) { /* the extremes, where negation wraps */
                if (dts[d] == AV__DT_I32) {
                    ((int32_t *)x.data)[0] = INT32_MIN;
                    ((int32_t *)x.data)[1] = INT32_MAX;
                    ((int32_t *)x.data)[2] = 0;
                } else {
                    ((int64_t *)x.data)[0] = INT64_MIN;
                    ((int64_t *)x.data)[1] = INT64_MAX;
                    ((int64_t *)x.data)[2] = 0;
                }
            }
            snprintf(label, sizeof label, "%s %s [7,143]", ops[k], av__dtype_name(dts[d]));
            check(label, n, 18, 1, (av__tensor *[]){&x}, 0, NULL);
            t_free(&x, 1);
            opt_node_free(n);
        }
    }
    opt_node *n = node_new("Not", 1, 1);
    av__tensor b = t_bool(&S_BIG);
    check("Not bool [1000003]", n, 17, 1, (av__tensor *[]){&b}, 0, NULL);
    t_free(&b, 1);
    opt_node_free(n);
}

/* IsNaN and IsInf on data with NaN and infinities. */
static void test_isnan_isinf(void)
{
    const shp s = {2, {3, 1001}};
    av__tensor x = t_f32(&s, -100, 100);
    float *v = x.data;
    for (int64_t i = 0; i < av__tensor_count(&x); i += 7)
        v[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
    opt_node *n = node_new("IsNaN", 1, 1);
    check("IsNaN f32 [3,1001]", n, 17, 1, (av__tensor *[]){&x}, 0, NULL);
    opt_node_free(n);
    for (int pos = 0; pos < 2; pos++)
        for (int neg = 0; neg < 2; neg++) {
            char label[96];
            n = node_new("IsInf", 1, 1);
            opt_attr_int(n, "detect_positive", pos);
            opt_attr_int(n, "detect_negative", neg);
            snprintf(label, sizeof label, "IsInf +%d -%d f32 [3,1001]", pos, neg);
            check(label, n, 17, 1, (av__tensor *[]){&x}, 0, NULL);
            opt_node_free(n);
        }
    /* float64 (the pitch encoder's IsInf reads a Cast to float64): 1e300 is finite there */
    av__tensor d = t_as(&x, AV__DT_F64);
    double *dv = d.data;
    for (int64_t i = 3; i < av__tensor_count(&d); i += 11)
        dv[i] = i % 2 ? 1e300 : -1e300;
    n = node_new("IsNaN", 1, 1);
    check("IsNaN f64 [3,1001]", n, 17, 1, (av__tensor *[]){&d}, 0, NULL);
    opt_node_free(n);
    for (int pos = 0; pos < 2; pos++) {
        char label[96];
        n = node_new("IsInf", 1, 1);
        opt_attr_int(n, "detect_positive", pos);
        opt_attr_int(n, "detect_negative", 1 - pos);
        snprintf(label, sizeof label, "IsInf +%d -%d f64 [3,1001]", pos, 1 - pos);
        check(label, n, 17, 1, (av__tensor *[]){&d}, 0, NULL);
        opt_node_free(n);
    }
    t_free(&d, 1);
    t_free(&x, 1);
}

/* ---- Clip ------------------------------------------------------------------------------------ */

static av__tensor scalar_f32(float v)
{
    return opt_tensor(AV__DT_F32, 0, NULL, &v);
}

static av__tensor scalar_int(av__dtype dt, int64_t v)
{
    av__tensor t = opt_tensor(dt, 0, NULL, NULL);
    av__tensor_set_f64(&t, 0, (double)v);
    return t;
}

static void test_clip(void)
{
    av__tensor x = t_f32(&S_BIG, -5, 5);
    ((float *)x.data)[3] = NAN;
    av__tensor lo = scalar_f32(-1.5f), hi = scalar_f32(2.25f);
    av__tensor lo2 = scalar_f32(2.0f), hi2 = scalar_f32(-1.0f);
    opt_node *n = node_new("Clip", 3, 1);
    check("Clip f32 min max (constants)", n, 13, 3, (av__tensor *[]){&x, &lo, &hi}, 6, NULL);
    check("Clip f32 min max (runtime)", n, 13, 3, (av__tensor *[]){&x, &lo, &hi}, 0, NULL);
    check("Clip f32 max only", n, 13, 3, (av__tensor *[]){&x, NULL, &hi}, 0, NULL);
    check("Clip f32 min > max", n, 13, 3, (av__tensor *[]){&x, &lo2, &hi2}, 0, NULL);
    opt_node_free(n);
    n = node_new("Clip", 2, 1);
    check("Clip f32 min only", n, 13, 2, (av__tensor *[]){&x, &lo}, 0, NULL);
    opt_node_free(n);
    n = node_new("Clip", 1, 1);
    check("Clip f32 no bounds", n, 13, 1, (av__tensor *[]){&x}, 0, NULL);
    check("Clip f32 opset 6 defaults", n, 6, 1, (av__tensor *[]){&x}, 0, NULL);
    opt_attr_float(n, "min", -0.5f);
    opt_attr_float(n, "max", 0.75f);
    check("Clip f32 opset 6 attributes", n, 6, 1, (av__tensor *[]){&x}, 0, NULL);
    opt_node_free(n);
    t_free(&x, 1);
    t_free(&lo, 1);
    t_free(&hi, 1);
    t_free(&lo2, 1);
    t_free(&hi2, 1);

    const av__dtype dts[] = {AV__DT_I32, AV__DT_I64};
    for (int d = 0; d < 2; d++) {
        char label[96];
        const shp s = {3, {3, 7, 11}};
        av__tensor xi = t_int(dts[d], &s, -1000, 1000);
        av__tensor li = scalar_int(dts[d], -100), hi_ = scalar_int(dts[d], 250);
        n = node_new("Clip", 3, 1);
        snprintf(label, sizeof label, "Clip %s min max", av__dtype_name(dts[d]));
        check(label, n, 13, 3, (av__tensor *[]){&xi, &li, &hi_}, 0, NULL);
        snprintf(label, sizeof label, "Clip %s max only", av__dtype_name(dts[d]));
        check(label, n, 13, 3, (av__tensor *[]){&xi, NULL, &hi_}, 6, NULL);
        opt_node_free(n);
        t_free(&xi, 1);
        t_free(&li, 1);
        t_free(&hi_, 1);
    }
}

/* ---- binary ops ---------------------------------------------------------------------------- */

typedef struct shp2 {
    shp a, b;
} shp2;

static const shp2 pairs[] = {
    {{1, {1}}, {1, {1}}},
    {{1, {7}}, {1, {7}}},
    {{1, {1000003}}, {1, {1000003}}},
    {{3, {3, 1, 5}}, {3, {1, 4, 1}}},
    {{4, {2, 3, 4, 5}}, {1, {5}}},
    {{1, {7}}, {0, {0}}},
    {{0, {0}}, {2, {3, 7}}},
    {{3, {2, 1, 3}}, {2, {4, 1}}},
    {{4, {2, 3, 4, 5}}, {4, {2, 1, 4, 1}}},
    {{5, {2, 1, 3, 1, 2}}, {5, {1, 4, 1, 5, 2}}},
};

static void pair_label(char *buf, size_t size, const char *op, const char *dt, const shp2 *p)
{
    char s1[64], s2[64];
    snprintf(buf, size, "%s %s %s %s", op, dt, shp_str(&p->a, s1, sizeof s1),
             shp_str(&p->b, s2, sizeof s2));
}

static void test_binary_float(void)
{
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod"};
    static const char *cmps[] = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"};
    char label[192];
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        opt_node *n = node_new(ops[k], 2, 1);
        if (!strcmp(ops[k], "Mod"))
            opt_attr_int(n, "fmod", 1);
        for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
            int is_pow = !strcmp(ops[k], "Pow");
            av__tensor a = is_pow ? t_f32(&pairs[p].a, 0.25f, 3) : t_f32(&pairs[p].a, -10, 10);
            av__tensor b = is_pow ? t_f32(&pairs[p].b, -2, 2) : t_f32(&pairs[p].b, -4, 4);
            if (!strcmp(ops[k], "Div") || !strcmp(ops[k], "Mod"))
                away_from_zero(&b, 0.5f);
            if ((!strcmp(ops[k], "Max") || !strcmp(ops[k], "Min")) && av__tensor_count(&a) > 2)
                ((float *)a.data)[1] = NAN; /* propagates */
            pair_label(label, sizeof label, ops[k], "f32", &pairs[p]);
            check(label, n, 17, 2, (av__tensor *[]){&a, &b}, 0, NULL);
            t_free(&a, 1);
            t_free(&b, 1);
        }
        opt_node_free(n);
    }
    for (size_t k = 0; k < sizeof cmps / sizeof cmps[0]; k++) {
        opt_node *n = node_new(cmps[k], 2, 1);
        for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
            /* small integers: many ties */
            av__tensor a = t_f32(&pairs[p].a, -3, 3), b = t_f32(&pairs[p].b, -3, 3);
            for (int64_t i = 0; i < av__tensor_count(&a); i++)
                ((float *)a.data)[i] = rintf(((float *)a.data)[i]);
            for (int64_t i = 0; i < av__tensor_count(&b); i++)
                ((float *)b.data)[i] = rintf(((float *)b.data)[i]);
            pair_label(label, sizeof label, cmps[k], "f32", &pairs[p]);
            check(label, n, 17, 2, (av__tensor *[]){&a, &b}, 0, NULL);
            t_free(&a, 1);
            t_free(&b, 1);
        }
        opt_node_free(n);
    }
}

static void set_int(av__tensor *t, int64_t i, int64_t v)
{
    if (t->dtype == AV__DT_I32)
        ((int32_t *)t->data)[i] = (int32_t)v;
    else
        ((int64_t *)t->data)[i] = v;
}

static void test_binary_int(void)
{
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Mod", "Mod fmod", "Pow", "Max",
                                "Min", "Equal", "Less", "LessOrEqual", "Greater",
                                "GreaterOrEqual", "BitwiseAnd", "BitwiseOr", "BitwiseXor"};
    const av__dtype dts[] = {AV__DT_I32, AV__DT_I64};
    const shp2 ipairs[] = {
        {{1, {7}}, {1, {7}}},
        {{2, {31, 97}}, {2, {31, 97}}},
        {{3, {3, 1, 5}}, {3, {1, 4, 1}}},
        {{1, {1000003}}, {0, {0}}},
    };
    char label[192];
    for (int d = 0; d < 2; d++) {
        const av__dtype dt = dts[d];
        const int64_t big = dt == AV__DT_I32 ? INT32_MAX : INT64_MAX;
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s", ops[k]);
            char *sp = strchr(name, ' ');
            if (sp)
                *sp = 0;
            opt_node *n = node_new(name, 2, 1);
            if (!strcmp(ops[k], "Mod fmod"))
                opt_attr_int(n, "fmod", 1);
            for (size_t p = 0; p < sizeof ipairs / sizeof ipairs[0]; p++) {
                const int wide = !strcmp(name, "Add") || !strcmp(name, "Sub") ||
                                 !strcmp(name, "Mul") || !strncmp(name, "Bitwise", 7);
                av__tensor a, b;
                if (!strcmp(name, "Pow")) {
                    a = t_int(dt, &ipairs[p].a, -4, 4);
                    b = t_int(dt, &ipairs[p].b, -3, 40);
                } else if (wide) { /* overflowing: the results wrap */
                    a = t_int(dt, &ipairs[p].a, -big - 1, big);
                    b = t_int(dt, &ipairs[p].b, -big - 1, big);
                } else {
                    a = t_int(dt, &ipairs[p].a, -50, 50);
                    b = t_int(dt, &ipairs[p].b, -7, 7); /* 0 and -1 included */
                }
                if (p == 0 && !wide) { /* INT_MIN / -1 and friends */
                    set_int(&a, 0, -big - 1);
                    set_int(&b, 0, -1);
                    set_int(&a, 1, big);
                    set_int(&b, 1, 0);
                }
                pair_label(label, sizeof label, ops[k], av__dtype_name(dt), &ipairs[p]);
                check(label, n, 18, 2, (av__tensor *[]){&a, &b}, 0, NULL);
                t_free(&a, 1);
                t_free(&b, 1);
            }
            opt_node_free(n);
        }
    }
    static const char *bops[] = {"And", "Or", "Xor", "Equal"};
    for (size_t k = 0; k < sizeof bops / sizeof bops[0]; k++) {
        opt_node *n = node_new(bops[k], 2, 1);
        for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
            av__tensor a = t_bool(&pairs[p].a), b = t_bool(&pairs[p].b);
            pair_label(label, sizeof label, bops[k], "bool", &pairs[p]);
            check(label, n, 17, 2, (av__tensor *[]){&a, &b}, 0, NULL);
            t_free(&a, 1);
            t_free(&b, 1);
        }
        opt_node_free(n);
    }
}

/* Before opset 7: b broadcast onto a from `axis` when broadcast=1. */
static void test_binary_legacy(void)
{
    const shp sa = {4, {2, 3, 4, 5}}, s34 = {2, {3, 4}}, s45 = {2, {4, 5}}, s5 = {1, {5}};
    av__tensor a = t_f32(&sa, -3, 3), b34 = t_f32(&s34, -3, 3), b45 = t_f32(&s45, 0.5f, 2);
    av__tensor b5 = t_f32(&s5, -2, 2), a2 = t_f32(&sa, -3, 3), ap = t_f32(&sa, 0.5f, 2);
    opt_node *n = node_new("Add", 2, 1);
    opt_attr_int(n, "broadcast", 1);
    opt_attr_int(n, "axis", 1);
    check("Add opset 6 broadcast axis 1 [2,3,4,5] [3,4]", n, 6, 2, (av__tensor *[]){&a, &b34},
          0, NULL);
    opt_node_free(n);
    n = node_new("Div", 2, 1);
    opt_attr_int(n, "broadcast", 1);
    check("Div opset 6 broadcast trailing [2,3,4,5] [4,5]", n, 6, 2, (av__tensor *[]){&a, &b45},
          0, NULL);
    opt_node_free(n);
    n = node_new("Sub", 2, 1);
    check("Sub opset 6 no broadcast", n, 6, 2, (av__tensor *[]){&a, &a2}, 0, NULL);
    opt_node_free(n);
    n = node_new("Pow", 2, 1);
    opt_attr_int(n, "broadcast", 1);
    check("Pow opset 6 broadcast [2,3,4,5] [5]", n, 6, 2, (av__tensor *[]){&ap, &b5}, 0, NULL);
    opt_node_free(n);
    n = node_new("Greater", 2, 1);
    opt_attr_int(n, "broadcast", 1);
    opt_attr_int(n, "axis", 1);
    check("Greater opset 6 broadcast axis 1", n, 6, 2, (av__tensor *[]){&a, &b34}, 0, NULL);
    opt_node_free(n);
    t_free(&a, 1);
    t_free(&b34, 1);
    t_free(&b45, 1);
    t_free(&b5, 1);
    t_free(&a2, 1);
    t_free(&ap, 1);
}

static void test_prelu(void)
{
    const shp sx = {3, {2, 3, 5}}, s31 = {2, {3, 1}}, s5 = {1, {5}}, s3 = {1, {3}};
    av__tensor x = t_f32(&sx, -4, 4), k31 = t_f32(&s31, -1, 1), k5 = t_f32(&s5, -1, 1);
    av__tensor k1 = t_f32(&S_1, 0.125f, 0.5f), k3 = t_f32(&s3, 0, 1);
    av__tensor xb = t_f32(&S_BIG, -4, 4);
    opt_node *n = node_new("PRelu", 2, 1);
    check("PRelu f32 [2,3,5] slope [3,1]", n, 16, 2, (av__tensor *[]){&x, &k31}, 2, NULL);
    check("PRelu f32 [2,3,5] slope [5]", n, 16, 2, (av__tensor *[]){&x, &k5}, 0, NULL);
    check("PRelu f32 [1000003] slope [1]", n, 16, 2, (av__tensor *[]){&xb, &k1}, 2, NULL);
    check("PRelu f32 opset 6 slope [3] per channel", n, 6, 2, (av__tensor *[]){&x, &k3}, 2, NULL);
    av__tensor xi = t_int(AV__DT_I64, &sx, -100, 100), ki = t_int(AV__DT_I64, &s31, -3, 3);
    check("PRelu i64 [2,3,5] slope [3,1]", n, 16, 2, (av__tensor *[]){&xi, &ki}, 0, NULL);
    opt_node_free(n);
    t_free(&x, 1);
    t_free(&k31, 1);
    t_free(&k5, 1);
    t_free(&k1, 1);
    t_free(&k3, 1);
    t_free(&xb, 1);
    t_free(&xi, 1);
    t_free(&ki, 1);
}

/* Pow with base and exponent of different dtypes. */
static void test_pow_mixed(void)
{
    const shp sa = {3, {3, 1, 5}}, sb = {3, {1, 4, 1}};
    char label[160];
    struct {
        av__dtype tb, te;
    } combos[] = {
        {AV__DT_F32, AV__DT_I64}, {AV__DT_F32, AV__DT_I32}, {AV__DT_I64, AV__DT_I32},
        {AV__DT_I32, AV__DT_I64}, {AV__DT_I64, AV__DT_F32}, {AV__DT_I32, AV__DT_F32},
    };
    opt_node *n = node_new("Pow", 2, 1);
    for (size_t k = 0; k < sizeof combos / sizeof combos[0]; k++) {
        av__tensor a, b;
        if (combos[k].tb == AV__DT_F32)
            a = t_f32(&sa, 0.5f, 2);
        else
            a = t_int(combos[k].tb, &sa, -5, 5);
        if (combos[k].te == AV__DT_F32) {
            /* multiples of 2^-9 (negative bases give NaN, stored as 0), none a multiple of 1/2:
             * no integer power is exact, so no result sits on a truncation boundary */
            b = t_f32(&sb, 0, 3);
            for (int64_t i = 0; i < av__tensor_count(&b); i++) {
                float *e = (float *)b.data + i;
                if (fmodf(*e, 0.5f) == 0.0f)
                    *e += 1.0f / 512.0f;
            }
        } else {
            b = t_int(combos[k].te, &sb, combos[k].tb == AV__DT_F32 ? -4 : 0, 12);
        }
        snprintf(label, sizeof label, "Pow %s ^ %s [3,1,5] [1,4,1]",
                 av__dtype_name(combos[k].tb), av__dtype_name(combos[k].te));
        check(label, n, 15, 2, (av__tensor *[]){&a, &b}, 0, NULL);
        t_free(&a, 1);
        t_free(&b, 1);
    }
    opt_node_free(n);
}

/* ---- variadic ops ---------------------------------------------------------------------------- */

static void test_variadic(void)
{
    const shp s1 = {3, {3, 1, 5}}, s2 = {3, {1, 4, 1}}, s3 = {1, {5}}, s4 = {2, {4, 5}};
    char label[96];
    static const char *ops[] = {"Sum", "Mean", "Max", "Min"};
    for (size_t k = 0; k < 4; k++) {
        av__tensor t[4] = {t_f32(&s1, -4, 4), t_f32(&s2, -4, 4), t_f32(&s3, -4, 4),
                           t_f32(&s4, -4, 4)};
        if (k >= 2)
            ((float *)t[0].data)[2] = NAN;
        for (int m = 1; m <= 4; m++) {
            opt_node *n = node_new(ops[k], m, 1);
            snprintf(label, sizeof label, "%s f32 of %d", ops[k], m);
            check(label, n, 13, m, (av__tensor *[]){&t[0], &t[1], &t[2], &t[3]}, m == 3 ? 2 : 0,
                  NULL);
            opt_node_free(n);
        }
        t_free(t, 4);
    }
    av__tensor big[3] = {t_f32(&S_BIG, -4, 4), t_f32(&S_BIG, -4, 4), t_f32(&S_1, -4, 4)};
    opt_node *n = node_new("Mean", 3, 1);
    check("Mean f32 [1000003] x2 [1]", n, 13, 3, (av__tensor *[]){&big[0], &big[1], &big[2]}, 0,
          NULL);
    opt_node_free(n);
    t_free(big, 3);
    const av__dtype dts[] = {AV__DT_I32, AV__DT_I64};
    for (int d = 0; d < 2; d++)
        for (int k = 2; k < 4; k++) {
            av__tensor t[3] = {t_int(dts[d], &s1, -1000, 1000), t_int(dts[d], &s2, -1000, 1000),
                               t_int(dts[d], &s3, -1000, 1000)};
            n = node_new(ops[k], 3, 1);
            snprintf(label, sizeof label, "%s %s of 3", ops[k], av__dtype_name(dts[d]));
            check(label, n, 13, 3, (av__tensor *[]){&t[0], &t[1], &t[2]}, 0, NULL);
            opt_node_free(n);
            t_free(t, 3);
        }
}

/* ---- Where ----------------------------------------------------------------------------------- */

static void test_where(void)
{
    const shp sc = {3, {3, 1, 5}}, sx = {3, {1, 4, 1}}, sy = {1, {5}};
    av__tensor c = t_bool(&sc), cb = t_bool(&S_BIG), c0 = t_bool(&S_SCALAR);
    av__tensor xf = t_f32(&sx, -4, 4), yf = t_f32(&sy, -4, 4);
    av__tensor xi = t_int(AV__DT_I64, &sx, INT64_MIN, INT64_MAX);
    av__tensor yi = t_int(AV__DT_I64, &sy, INT64_MIN, INT64_MAX);
    av__tensor xb = t_bool(&sx), yb = t_bool(&sy);
    av__tensor xi32 = t_int(AV__DT_I32, &sy, -9, 9), yi32 = t_int(AV__DT_I32, &sc, -9, 9);
    av__tensor bigx = t_f32(&S_BIG, -4, 4), bigy = t_f32(&S_BIG, -4, 4);
    opt_node *n = node_new("Where", 3, 1);
    check("Where f32 [3,1,5] [1,4,1] [5]", n, 16, 3, (av__tensor *[]){&c, &xf, &yf}, 0, NULL);
    check("Where i64 [3,1,5] [1,4,1] [5]", n, 16, 3, (av__tensor *[]){&c, &xi, &yi}, 0, NULL);
    check("Where bool [3,1,5] [1,4,1] [5]", n, 16, 3, (av__tensor *[]){&c, &xb, &yb}, 0, NULL);
    check("Where i32 [3,1,5] [5] [3,1,5]", n, 16, 3, (av__tensor *[]){&c, &xi32, &yi32}, 0,
          NULL);
    check("Where f32 [1000003] x3", n, 16, 3, (av__tensor *[]){&cb, &bigx, &bigy}, 0, NULL);
    check("Where f32 [] [1000003] [1000003]", n, 16, 3, (av__tensor *[]){&c0, &bigx, &bigy}, 0,
          NULL);
    opt_node_free(n);
    av__tensor all[] = {c, cb, c0, xf, yf, xi, yi, xb, yb, xi32, yi32, bigx, bigy};
    t_free(all, (int)(sizeof all / sizeof all[0]));
}

/* ---- Cast ------------------------------------------------------------------------------------ */

static const av__dtype cast_dts[] = {AV__DT_F32, AV__DT_F16, AV__DT_BF16, AV__DT_I64,
                                     AV__DT_I32, AV__DT_I8, AV__DT_U8, AV__DT_BOOL,
                                     AV__DT_F64};

/* Casts x to every dtype; skip_f32: check a float32 target in fp32 math only (values that
 * float16 storage of the result cannot hold). */
static void cast_all(const char *what, av__tensor *x, int skip_f32, int fp32_only)
{
    char label[160];
    for (size_t d = 0; d < sizeof cast_dts / sizeof cast_dts[0]; d++) {
        opt_node *n = node_new("Cast", 1, 1);
        opt_attr_int(n, "to", cast_dts[d]);
        cuda_tol tol = {0};
        tol.skip_fp16 = fp32_only || (skip_f32 && cast_dts[d] == AV__DT_F32);
        snprintf(label, sizeof label, "Cast %s %s -> %s", what, av__dtype_name(x->dtype),
                 av__dtype_name(cast_dts[d]));
        check(label, n, 19, 1, (av__tensor *[]){x}, 0, &tol);
        opt_node_free(n);
    }
}

static void test_cast(void)
{
    /* values float16 holds exactly, halves and out-of-range integers included */
    const shp s = {2, {9, 113}};
    av__tensor f = t_f32(&s, -300, 300);
    float *v = f.data;
    v[0] = 0.5f, v[1] = -0.5f, v[2] = 1.5f, v[3] = 2.5f, v[4] = -2.5f, v[5] = 255.5f;
    v[6] = 256.0f, v[7] = -129.0f, v[8] = 127.5f, v[9] = -0.0f, v[10] = INFINITY;
    v[11] = -INFINITY, v[12] = 65504.0f, v[13] = -65504.0f;
    cast_all("f16-exact", &f, 0, 0);
    av__tensor h = t_as(&f, AV__DT_F16), b = t_as(&f, AV__DT_BF16);
    cast_all("f16-exact", &h, 0, 0);
    cast_all("f16-exact", &b, 1, 0); /* bfloat16 rounding of 300-ish values is fine; large: no */

    /* special values: fp32 math only (float16 storage would round them first) */
    static const float sp[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-8f, -1e-8f,
                               1e-40f, 0.49999997f, 65519.0f, 65520.0f, 1e5f, -1e5f, 3e9f,
                               -3e9f, 2147483520.0f, -2147483648.0f, 2147483648.0f, 9.2e18f,
                               9.3e18f, -9.3e18f, 1e30f, FLT_MAX, -FLT_MAX, 3.3895314e38f,
                               1.00390625f, 1.01171875f, 255.99f, -128.99f};
    const int nsp = (int)(sizeof sp / sizeof sp[0]);
    av__tensor fs = t_from(AV__DT_F32, nsp, sp), hs = t_from(AV__DT_F16, nsp, sp);
    av__tensor bs = t_from(AV__DT_BF16, nsp, sp);
    cast_all("special", &fs, 1, 1);
    cast_all("special", &hs, 1, 0);
    cast_all("special", &bs, 1, 1);

    /* integers: small ones in both maths, wide ones (wrapping, rounding to float) */
    const shp si = {1, {1001}};
    const av__dtype its[] = {AV__DT_I64, AV__DT_I32, AV__DT_I8, AV__DT_U8, AV__DT_BOOL};
    for (size_t k = 0; k < sizeof its / sizeof its[0]; k++) {
        int64_t lo = its[k] == AV__DT_U8 ? 0 : its[k] == AV__DT_BOOL ? 0 : -128;
        int64_t hi = its[k] == AV__DT_BOOL ? 1 : 255;
        if (its[k] == AV__DT_I8)
            hi = 127;
        av__tensor x = t_int(its[k], &si, lo, hi);
        cast_all("small", &x, 0, 0);
        t_free(&x, 1);
    }
    av__tensor w64 = t_int(AV__DT_I64, &si, INT64_MIN, INT64_MAX);
    av__tensor w32 = t_int(AV__DT_I32, &si, INT32_MIN, INT32_MAX);
    av__tensor m64 = t_int(AV__DT_I64, &si, -70000, 70000); /* around float16's range */
    int64_t *w = w64.data;
    w[0] = INT64_MIN, w[1] = INT64_MAX, w[2] = (1LL << 53) + 1, w[3] = (1LL << 24) + 1;
    w[4] = 4294967296LL + 5, w[5] = -4294967296LL - 300, w[6] = 16777217, w[7] = 65520;
    cast_all("wide", &w64, 1, 0);
    cast_all("wide", &w32, 1, 0);
    cast_all("mid", &m64, 1, 0);

    /* float64 sources: beyond float's range and precision, specials (fp32 math only: a float32
     * target in float16 storage could not hold them) */
    static const double dv[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e300, -1e300, 1e-300,
                                3.4028235677973366e38, 3.4028236e38, 2.5, -2.5, 0.1,
                                1.0000000000000002, 65519.99, 65520.0, 255.5, -128.5, 3e9,
                                -3e9, 9.3e18, -9.3e18, 2147483647.5, 16777217.0, 1e-45,
                                (double)(1LL << 53) + 2.0};
    const int64_t nd = (int64_t)(sizeof dv / sizeof dv[0]);
    av__tensor d64 = opt_tensor(AV__DT_F64, 1, &nd, dv);
    cast_all("f64", &d64, 1, 1);
    t_free(&d64, 1);

    /* CastLike takes the target dtype from its second input */
    av__tensor like = t_int(AV__DT_I32, &S_1, 0, 1);
    opt_node *n = node_new("CastLike", 2, 1);
    check("CastLike f32 -> i32", n, 19, 2, (av__tensor *[]){&f, &like}, 0, NULL);
    opt_node_free(n);

    av__tensor all[] = {f, h, b, fs, hs, bs, w64, w32, m64, like};
    t_free(all, (int)(sizeof all / sizeof all[0]));
}

/* ---- Identity, Dropout ----------------------------------------------------------------------- */

static void test_identity_dropout(void)
{
    av__tensor x = t_f32(&S_BIG, -4, 4), xi = t_int(AV__DT_I64, &S_7, INT64_MIN, INT64_MAX);
    av__tensor xb = t_bool(&S_7), x0 = t_f32(&S_SCALAR, -1, 1);
    opt_node *n = node_new("Identity", 1, 1);
    check("Identity f32 [1000003]", n, 17, 1, (av__tensor *[]){&x}, 0, NULL);
    check("Identity i64 [7]", n, 17, 1, (av__tensor *[]){&xi}, 0, NULL);
    check("Identity bool [7]", n, 17, 1, (av__tensor *[]){&xb}, 0, NULL);
    check("Identity f32 []", n, 17, 1, (av__tensor *[]){&x0}, 0, NULL);
    opt_node_free(n);

    n = node_new("Dropout", 1, 1);
    check("Dropout opset 13", n, 13, 1, (av__tensor *[]){&x}, 0, NULL);
    opt_node_free(n);
    n = node_new("Dropout", 1, 2);
    check("Dropout opset 13 with mask", n, 13, 1, (av__tensor *[]){&x}, 0, NULL);
    check("Dropout opset 7 with float mask", n, 7, 1, (av__tensor *[]){&x}, 0, NULL);
    opt_node_free(n);
    av__tensor ratio = scalar_f32(0.25f), ratio0 = scalar_f32(0.0f);
    av__tensor off = scalar_int(AV__DT_BOOL, 0), on = scalar_int(AV__DT_BOOL, 1);
    n = node_new("Dropout", 3, 2);
    check("Dropout opset 13 training_mode false (constant)", n, 13, 3,
          (av__tensor *[]){&x, &ratio, &off}, 6, NULL);
    /* declined: the CPU decides per run */
    check("Dropout opset 13 training_mode at run time (CPU)", n, 13, 3,
          (av__tensor *[]){&x, &ratio, &off}, 0, &(cuda_tol){.cpu_ok = 1});
    check("Dropout opset 13 training ratio 0 (CPU)", n, 13, 3,
          (av__tensor *[]){&x, &ratio0, &on}, 6, &(cuda_tol){.cpu_ok = 1});
    opt_node_free(n);
    av__tensor all[] = {x, xi, xb, x0, ratio, ratio0, off, on};
    t_free(all, (int)(sizeof all / sizeof all[0]));
}

/* ---- Random* --------------------------------------------------------------------------------- */

/* The node's output in fp32 math must equal the CPU's bit for bit. */
static void random_bits(const char *label, const opt_node *n)
{
    char err[512];
    av__tensor ref, got;
    int on_gpu = 0;
    const av__tensor *none[1] = {NULL};
    if (cuda_cpu_run(n, 17, 0, none, 1, &ref, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s: CPU: %s\n", label, err);
        check_failures++;
        return;
    }
    if (av__cuda_eval_node(H.cx[0], n, 17, 0, none, 0, 1, &got, &on_gpu, err, sizeof err) !=
        AV_STATUS_OK) {
        fprintf(stderr, "%s: GPU: %s\n", label, err);
        check_failures++;
        av__aligned_free(ref.data);
        return;
    }
    CHECK(on_gpu);
    CHECK_INT(got.dtype, ref.dtype);
    const size_t esz = av__dtype_size(ref.dtype);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < av__tensor_count(&ref); i++)
        if (memcmp((char *)ref.data + i * (int64_t)esz, (char *)got.data + i * (int64_t)esz,
                   esz)) {
            if (first < 0)
                first = i;
            bad++;
        }
    if (bad) {
        fprintf(stderr, "%s: %lld of %lld elements differ from the CPU's (first at %lld)\n", label,
                (long long)bad, (long long)av__tensor_count(&ref), (long long)first);
        check_failures++;
    }
    printf("%-44s bit-exact %s\n", label, bad ? "FAIL" : "ok");
    av__aligned_free(ref.data);
    av__aligned_free(got.data);
}

static void test_random(void)
{
    opt_node *n = node_new("RandomNormal", 0, 1);
    opt_attr_ints(n, "shape", 2, (int64_t[]){3, 1001});
    opt_attr_float(n, "seed", 7.9f);
    opt_attr_float(n, "mean", 1.5f);
    opt_attr_float(n, "scale", 2.0f);
    check("RandomNormal f32 [3,1001] seed 7.9", n, 17, 0, NULL, 0, NULL);
    random_bits("RandomNormal f32 [3,1001] seed 7.9", n);
    opt_node_free(n);

    n = node_new("RandomUniform", 0, 1);
    opt_attr_ints(n, "shape", 1, (int64_t[]){1000003});
    opt_attr_float(n, "seed", -3.0f);
    opt_attr_float(n, "low", -2.0f);
    opt_attr_float(n, "high", 3.0f);
    check("RandomUniform f32 [1000003] seed -3", n, 17, 0, NULL, 0, NULL);
    random_bits("RandomUniform f32 [1000003] seed -3", n);
    opt_node_free(n);

    n = node_new("RandomNormal", 0, 1);
    opt_attr_ints(n, "shape", 2, (int64_t[]){17, 19});
    opt_attr_float(n, "seed", 11.0f);
    opt_attr_int(n, "dtype", AV__DT_F16);
    check("RandomNormal f16 [17,19]", n, 17, 0, NULL, 0, NULL);
    random_bits("RandomNormal f16 [17,19]", n);
    opt_node_free(n);

    n = node_new("RandomUniform", 0, 1);
    opt_attr_ints(n, "shape", 1, (int64_t[]){4099});
    opt_attr_float(n, "seed", 5.0f);
    opt_attr_int(n, "dtype", AV__DT_BF16);
    check("RandomUniform bf16 [4099]", n, 17, 0, NULL, 0, NULL);
    random_bits("RandomUniform bf16 [4099]", n);
    opt_node_free(n);

    /* no seed attribute: the session's seed (the harness's 1234 on both sides) */
    n = node_new("RandomNormal", 0, 1);
    opt_attr_ints(n, "shape", 1, (int64_t[]){777});
    check("RandomNormal f32 [777] session seed", n, 17, 0, NULL, 0, NULL);
    opt_node_free(n);

    const shp s = {2, {5, 7}};
    av__tensor like = t_f32(&s, -1, 1);
    n = node_new("RandomUniformLike", 1, 1);
    opt_attr_float(n, "seed", 2.0f);
    check("RandomUniformLike f32 [5,7]", n, 17, 1, (av__tensor *[]){&like}, 0, NULL);
    opt_node_free(n);
    n = node_new("RandomNormalLike", 1, 1);
    opt_attr_float(n, "seed", 2.0f);
    opt_attr_int(n, "dtype", AV__DT_F16);
    check("RandomNormalLike -> f16 [5,7]", n, 17, 1, (av__tensor *[]){&like}, 0, NULL);
    opt_node_free(n);
    t_free(&like, 1);
}

/* ---- ElementwiseChain ------------------------------------------------------------------------ */

static void test_chain(void)
{
    /* float: per-channel and scalar operands, X itself as an operand, swapped steps, Clip
     * with one bound, attributes */
    {
        const shp sx = {3, {2, 3, 50}}, sc = {3, {1, 3, 1}}, sc2 = {2, {3, 1}}, s1 = {1, {1}};
        av__tensor x = t_f32(&sx, -3, 3), scale = t_f32(&sc, -2, 2), bias = t_f32(&S_SCALAR, -1, 1);
        av__tensor div = t_f32(&sc2, 0.5f, 2), lo = t_f32(&s1, -0.5f, -0.25f);
        chain_b cb = {0};
        chain_add(&cb, "Mul", 1, -1, 0, NULL);
        chain_add(&cb, "Add", 2, -1, 0, NULL);
        chain_add(&cb, "Sigmoid", -1, -1, 0, NULL);
        chain_add(&cb, "Mul", 0, -1, 0, NULL);
        chain_add(&cb, "Sub", 2, -1, 1, NULL);
        chain_add(&cb, "Clip", 4, -1, 0, NULL);
        chain_add(&cb, "Gelu", -1, -1, 0, &(unary_case){.sa = "approximate", .sv = "tanh"});
        chain_add(&cb, "LeakyRelu", -1, -1, 0, &(unary_case){.fa = "alpha", .fv = 0.1f});
        chain_add(&cb, "Div", 3, -1, 0, NULL);
        chain_add(&cb, "Add", 3, -1, 1, NULL);
        chain_add(&cb, "Max", 2, -1, 0, NULL);
        chain_add(&cb, "Tanh", -1, -1, 0, NULL);
        chain_add(&cb, "PRelu", 1, -1, 0, NULL);
        chain_add(&cb, "Abs", -1, -1, 0, NULL);
        chain_add(&cb, "Sqrt", -1, -1, 0, NULL);
        chain_add(&cb, "Min", 0, -1, 1, NULL);
        chain_add(&cb, "Clip", 4, 2, 0, NULL);
        opt_node *n = chain_node(&cb, 5);
        av__tensor *in[] = {&x, &scale, &bias, &div, &lo};
        check("Chain f32 17 steps [2,3,50] (constants)", n, 17, 5, in, 0x1e, NULL);
        check("Chain f32 17 steps [2,3,50] (runtime)", n, 17, 5, in, 0, NULL);
        opt_node_free(n);
        t_free(&x, 1);
        t_free(&scale, 1);
        t_free(&bias, 1);
        t_free(&div, 1);
        t_free(&lo, 1);
    }
    /* large, per channel on the outer axis */
    {
        const shp sx = {2, {4, 250001}}, sc = {2, {4, 1}};
        av__tensor x = t_f32(&sx, -3, 3), a = t_f32(&sc, -2, 2), b = t_f32(&S_1, -1, 1);
        chain_b cb = {0};
        chain_add(&cb, "Mul", 1, -1, 0, NULL);
        chain_add(&cb, "Add", 2, -1, 0, NULL);
        chain_add(&cb, "Softplus", -1, -1, 0, NULL);
        chain_add(&cb, "Sub", 1, -1, 1, NULL);
        chain_add(&cb, "Relu", -1, -1, 0, NULL);
        opt_node *n = chain_node(&cb, 3);
        check("Chain f32 5 steps [4,250001] per channel [4,1]", n, 17, 3,
              (av__tensor *[]){&x, &a, &b}, 6, NULL);
        opt_node_free(n);
        t_free(&x, 1);
        t_free(&a, 1);
        t_free(&b, 1);
    }
    /* integers: int64 every integer step; int32 with wrapping */
    {
        const shp sx = {3, {3, 4, 5}}, sc = {2, {4, 1}};
        av__tensor x = t_int(AV__DT_I64, &sx, -100, 100), c = t_int(AV__DT_I64, &sc, 1, 9);
        av__tensor s = scalar_int(AV__DT_I64, -7), hi = scalar_int(AV__DT_I64, 400);
        chain_b cb = {0};
        chain_add(&cb, "Add", 2, -1, 0, NULL);
        chain_add(&cb, "Mul", 1, -1, 0, NULL);
        chain_add(&cb, "Neg", -1, -1, 0, NULL);
        chain_add(&cb, "Div", 1, -1, 0, NULL);
        chain_add(&cb, "Sub", 0, -1, 1, NULL);
        chain_add(&cb, "Max", 2, -1, 0, NULL);
        chain_add(&cb, "Abs", -1, -1, 0, NULL);
        chain_add(&cb, "Clip", 2, 3, 0, NULL);
        chain_add(&cb, "PRelu", 2, -1, 0, NULL);
        chain_add(&cb, "Div", 1, -1, 1, NULL);
        chain_add(&cb, "Sign", -1, -1, 0, NULL);
        chain_add(&cb, "Relu", -1, -1, 0, NULL);
        chain_add(&cb, "Min", 2, -1, 1, NULL);
        chain_add(&cb, "Shrink", -1, -1, 0, &(unary_case){.fa = "lambd", .fv = 2.0f});
        chain_add(&cb, "Erf", -1, -1, 0, NULL);
        opt_node *n = chain_node(&cb, 4);
        check("Chain i64 15 steps [3,4,5]", n, 17, 4, (av__tensor *[]){&x, &c, &s, &hi}, 0,
              NULL);
        opt_node_free(n);
        av__tensor x32 = t_int(AV__DT_I32, &sx, INT32_MIN, INT32_MAX);
        av__tensor c32 = t_int(AV__DT_I32, &sc, -5, 5), s32 = scalar_int(AV__DT_I32, 1 << 20);
        chain_b cb2 = {0};
        chain_add(&cb2, "Mul", 1, -1, 0, NULL);
        chain_add(&cb2, "Add", 2, -1, 0, NULL);
        chain_add(&cb2, "Mul", 2, -1, 1, NULL);
        chain_add(&cb2, "Div", 1, -1, 0, NULL);
        chain_add(&cb2, "Neg", -1, -1, 0, NULL);
        n = chain_node(&cb2, 3);
        check("Chain i32 wrapping [3,4,5]", n, 17, 3, (av__tensor *[]){&x32, &c32, &s32}, 6,
              NULL);
        opt_node_free(n);
        av__tensor all[] = {x, c, s, hi, x32, c32, s32};
        t_free(all, (int)(sizeof all / sizeof all[0]));
    }
}

/* ---- what the GPU declines runs on the CPU, correctly ---------------------------------------- */

static void test_declined(void)
{
    const shp s = {2, {3, 5}};
    av__tensor a = t_f32(&s, -2, 2), b = t_f32(&s, -2, 2);
    av__tensor a64 = t_as(&a, AV__DT_F64), b64 = t_as(&b, AV__DT_F64);
    av__tensor i8 = t_int(AV__DT_I8, &s, -100, 100);
    opt_node *n = node_new("Add", 2, 1);
    check("Add f64 (CPU fallback)", n, 17, 2, (av__tensor *[]){&a64, &b64}, 0,
          &(cuda_tol){.cpu_ok = 1});
    opt_node_free(n);
    n = node_new("Abs", 1, 1);
    check("Abs i8 (CPU fallback)", n, 17, 1, (av__tensor *[]){&i8}, 0, &(cuda_tol){.cpu_ok = 1});
    opt_node_free(n);
    av__tensor all[] = {a, b, a64, b64, i8};
    t_free(all, 5);
}

int main(void)
{
    if (!cuda_harness_open(&H)) {
        if (check_failures)
            return check_report("test_cuda_elementwise");
        SKIP("%s", H.why);
    }
    test_unary_float();
    test_unary_int();
    test_isnan_isinf();
    test_clip();
    test_binary_float();
    test_binary_int();
    test_binary_legacy();
    test_prelu();
    test_pow_mixed();
    test_variadic();
    test_where();
    test_cast();
    test_identity_dropout();
    test_random();
    test_chain();
    test_declined();
    cuda_harness_close(&H);
    return check_report("test_cuda_elementwise");
}
