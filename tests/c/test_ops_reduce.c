/* The reduce family: Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, CumSum and the
 * normalisations, through op_harness.h (infer() then run(), as the executor calls them).
 * Known answers per op and opset variant, kernels against plain double references on awkward
 * random shapes, error cases, and threaded runs equal to single-threaded ones. */
#define _POSIX_C_SOURCE 200809L /* op_harness.h uses strdup */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "op_harness.h"

static char err[512];

#define SEED 20240611u

/* Compares n floats; on failure prints the label, the first bad index, both values. */
static void near_f32(const char *label, const float *got, const float *want, int64_t n,
                     double atol, double rtol)
{
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        int ok = (isnan(g) && isnan(w)) || (isinf(w) && g == w) ||
                 fabs(g - w) <= atol + rtol * fabs(w);
        if (!ok) {
            fprintf(stderr, "%s: element %lld = %.9g, want %.9g (seed %u)\n", label, (long long)i,
                    g, w, SEED);
            check_failures++;
            return;
        }
    }
}

static void near_f64(const char *label, const double *got, const double *want, int64_t n,
                     double atol, double rtol)
{
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        int ok = (isnan(g) && isnan(w)) || (isinf(w) && g == w) ||
                 fabs(g - w) <= atol + rtol * fabs(w);
        if (!ok) {
            fprintf(stderr, "%s: element %lld = %.17g, want %.17g\n", label, (long long)i, g, w);
            check_failures++;
            return;
        }
    }
}

static void check_shape(const char *label, const av__tensor *t, int ndim, const int64_t *shape)
{
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    if (!ok) {
        fprintf(stderr, "%s: shape (", label);
        for (int i = 0; i < t->ndim; i++)
            fprintf(stderr, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        fprintf(stderr, "), want rank %d\n", ndim);
        check_failures++;
    }
}

/* Runs a one-output node; returns the output or NULL (and prints err) on failure. */
static av__tensor *run1(const opt_node *n, int64_t opset, int n_in, const av__tensor *const *in,
                        av__threadpool *pool)
{
    av__tensor *out[1];
    err[0] = 0;
    av_status st = opt_run_pool(n, opset, n_in, in, 1, out, pool, err, sizeof err);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "%s (opset %lld) failed: %s: %s\n", n->op_type, (long long)opset,
                av_status_string(st), err);
        check_failures++;
        return NULL;
    }
    return out[0];
}

/* Expects a one-output node to fail with `want` and a non-empty message. */
static void expect_fail(const char *label, const opt_node *n, int64_t opset, int n_in,
                        const av__tensor *const *in, av_status want, const char *must_contain)
{
    av__tensor *out[5];
    err[0] = 0;
    av_status st = opt_run(n, opset, n_in, in, 1, out, err, sizeof err);
    if (st != want) {
        fprintf(stderr, "%s: status %s, want %s (%s)\n", label, av_status_string(st),
                av_status_string(want), err);
        check_failures++;
        if (st == AV_STATUS_OK)
            opt_free_tensor(out[0]);
        return;
    }
    if (!err[0] || (must_contain && !strstr(err, must_contain))) {
        fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", label, err,
                must_contain ? must_contain : "(anything)");
        check_failures++;
    }
}

static const float *F(const av__tensor *t) { return (const float *)t->data; }

/* ---- reference reductions in double ---------------------------------------------------------- */

enum { K_SUM, K_MEAN, K_MAX, K_MIN, K_PROD, K_L1, K_L2, K_SUMSQ, K_LOGSUM, K_LSE, K_COUNT };
static const char *const kind_op[K_COUNT] = {
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
    "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"};

/* Reduces x (rank, shape) over the axes in mask; out in C order over the kept dims. */
static void ref_reduce(int kind, const float *x, int rank, const int64_t *shape, unsigned mask,
                       double *out, int64_t out_count)
{
    int64_t total = 1;
    for (int i = 0; i < rank; i++)
        total *= shape[i];
    double *acc = calloc((size_t)out_count, sizeof *acc);
    double *mx = calloc((size_t)out_count, sizeof *mx);
    int64_t *cnt = calloc((size_t)out_count, sizeof *cnt);
    for (int64_t o = 0; o < out_count; o++) {
        acc[o] = kind == K_PROD ? 1 : kind == K_MAX ? -INFINITY : kind == K_MIN ? INFINITY : 0;
        mx[o] = -INFINITY;
    }
    for (int pass = 0; pass < (kind == K_LSE ? 2 : 1); pass++)
        for (int64_t e = 0; e < total; e++) {
            int64_t rem = e, o = 0, ostride = 1;
            for (int d = rank - 1; d >= 0; d--) {
                int64_t idx = rem % shape[d];
                rem /= shape[d];
                if (!(mask & (1u << d))) {
                    o += idx * ostride;
                    ostride *= shape[d];
                }
            }
            double v = x[e];
            if (pass == 0)
                cnt[o]++;
            switch (kind) {
            case K_SUM: case K_MEAN: case K_LOGSUM: acc[o] += v; break;
            case K_MAX: acc[o] = v > acc[o] ? v : acc[o]; break;
            case K_MIN: acc[o] = v < acc[o] ? v : acc[o]; break;
            case K_PROD: acc[o] *= v; break;
            case K_L1: acc[o] += fabs(v); break;
            case K_L2: case K_SUMSQ: acc[o] += v * v; break;
            case K_LSE:
                if (pass == 0)
                    mx[o] = v > mx[o] ? v : mx[o];
                else
                    acc[o] += exp(v - mx[o]);
                break;
            }
        }
    for (int64_t o = 0; o < out_count; o++) {
        double a = acc[o];
        switch (kind) {
        case K_MEAN: a /= (double)cnt[o]; break;
        case K_L2: a = sqrt(a); break;
        case K_LOGSUM: a = log(a); break;
        case K_LSE: a = mx[o] + log(a); break;
        default: break;
        }
        out[o] = a;
    }
    free(acc);
    free(mx);
    free(cnt);
}

/* ---- Reduce*: known answers ------------------------------------------------------------------ */

static const float data_3x2x2[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* Reduce over axes at `opset`: axes as attribute (< 18, or < 13 for ReduceSum) or as input. */
static av__tensor *reduce_case(const char *op, int64_t opset, const av__tensor *x, int naxes,
                               const int64_t *axes, int keepdims, int noop)
{
    opt_node *n = opt_node_new(op);
    if (keepdims >= 0)
        opt_attr_int(n, "keepdims", keepdims);
    if (noop)
        opt_attr_int(n, "noop_with_empty_axes", 1);
    int as_input = opset >= 18 || (opset >= 13 && strcmp(op, "ReduceSum") == 0);
    av__tensor a = opt_i64(1, (int64_t[]){naxes > 0 ? naxes : 0}, naxes > 0 ? axes : NULL);
    if (!as_input && naxes >= 0)
        opt_attr_ints(n, "axes", naxes, axes);
    const av__tensor *in[2] = {x, &a};
    av__tensor *y = run1(n, opset, as_input && naxes >= 0 ? 2 : 1, in, NULL);
    opt_free_tensor_data(&a);
    opt_node_free(n);
    return y;
}

static void test_reduce_known(void)
{
    av__tensor x = opt_f32(3, (int64_t[]){3, 2, 2}, data_3x2x2);
    static const struct {
        const char *op;
        int naxes;
        int64_t axes[2];
        float want[6];
        int nwant;
    } cases[] = {
        {"ReduceSum", 1, {1}, {4, 6, 12, 14, 20, 22}, 6},
        {"ReduceMean", 1, {1}, {2, 3, 6, 7, 10, 11}, 6},
        {"ReduceMax", 1, {1}, {3, 4, 7, 8, 11, 12}, 6},
        {"ReduceMin", 1, {1}, {1, 2, 5, 6, 9, 10}, 6},
        {"ReduceProd", 1, {1}, {3, 8, 35, 48, 99, 120}, 6},
        {"ReduceL1", 1, {2}, {3, 7, 11, 15, 19, 23}, 6},
        {"ReduceL2", 1, {2}, {2.2360680f, 5, 7.8102497f, 10.630146f, 13.453624f, 16.278821f}, 6},
        {"ReduceSumSquare", 1, {1}, {10, 20, 74, 100, 202, 244}, 6},
        {"ReduceLogSum", 2, {2, 1}, {2.3025851f, 3.2580965f, 3.7376696f}, 3},
        {"ReduceLogSumExp", 1, {-2}, {3.1269280f, 4.1269280f, 7.1269280f, 8.1269280f,
                                      11.126928f, 12.126928f}, 6},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* each at an attribute opset and at opset 18 (axes as input) */
        const int64_t opsets[] = {11, 13, 18};
        for (int k = 0; k < 3; k++) {
            char label[96];
            snprintf(label, sizeof label, "%s opset %lld", cases[c].op, (long long)opsets[k]);
            av__tensor *y = reduce_case(cases[c].op, opsets[k], &x, cases[c].naxes, cases[c].axes,
                                        1, 0);
            if (!y)
                continue;
            if (cases[c].nwant == 6)
                check_shape(label, y, 3, cases[c].axes[0] == 2 ? (int64_t[]){3, 2, 1}
                                                               : (int64_t[]){3, 1, 2});
            else
                check_shape(label, y, 3, (int64_t[]){3, 1, 1});
            near_f32(label, F(y), cases[c].want, cases[c].nwant, 1e-5, 1e-6);
            opt_free_tensor(y);
        }
    }

    /* keepdims 0 drops the axis; default axes reduce everything */
    av__tensor *y = reduce_case("ReduceSum", 11, &x, 1, (int64_t[]){1}, 0, 0);
    if (y) {
        check_shape("ReduceSum keepdims=0", y, 2, (int64_t[]){3, 2});
        near_f32("ReduceSum keepdims=0", F(y), (float[]){4, 6, 12, 14, 20, 22}, 6, 0, 0);
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceMean", 13, &x, -1, NULL, 1, 0);
    if (y) {
        check_shape("ReduceMean all keepdims", y, 3, (int64_t[]){1, 1, 1});
        CHECK_NEAR(F(y)[0], 6.5, 1e-6);
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceSum", 13, &x, -1, NULL, 0, 0);
    if (y) {
        CHECK_INT(y->ndim, 0);
        CHECK_NEAR(F(y)[0], 78, 0);
        opt_free_tensor(y);
    }
    /* opset 13 ReduceSum: an empty axes input reduces all, or nothing with noop_with_empty_axes */
    y = reduce_case("ReduceSum", 13, &x, 0, NULL, 1, 0);
    if (y) {
        check_shape("ReduceSum empty axes", y, 3, (int64_t[]){1, 1, 1});
        CHECK_NEAR(F(y)[0], 78, 0);
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceSum", 13, &x, 0, NULL, 1, 1);
    if (y) {
        check_shape("ReduceSum noop", y, 3, x.shape);
        near_f32("ReduceSum noop", F(y), data_3x2x2, 12, 0, 0);
        opt_free_tensor(y);
    }
    /* opset 18: noop applies the elementwise part (ONNX reference): SumSquare gives x*x */
    y = reduce_case("ReduceSumSquare", 18, &x, 0, NULL, 1, 1);
    if (y) {
        float sq[12];
        for (int i = 0; i < 12; i++)
            sq[i] = data_3x2x2[i] * data_3x2x2[i];
        near_f32("ReduceSumSquare noop", F(y), sq, 12, 0, 0);
        opt_free_tensor(y);
    }
    /* opset 13 ReduceSum with the axes input omitted: reduce all */
    {
        opt_node *n = opt_node_new("ReduceSum");
        opt_attr_int(n, "keepdims", 0);
        av__tensor *yy = run1(n, 13, 1, (const av__tensor *[]){&x}, NULL);
        if (yy) {
            CHECK_INT(yy->ndim, 0);
            CHECK_NEAR(F(yy)[0], 78, 0);
            opt_free_tensor(yy);
        }
        opt_node_free(n);
    }
    opt_free_tensor_data(&x);

    /* empty reductions: Sum 0, Prod 1, Max -inf, Min +inf, LogSumExp -inf, Mean NaN */
    av__tensor e = opt_f32(3, (int64_t[]){2, 0, 3}, NULL);
    static const struct {
        const char *op;
        float want;
    } empty[] = {{"ReduceSum", 0}, {"ReduceProd", 1}, {"ReduceMax", -INFINITY},
                 {"ReduceMin", INFINITY}, {"ReduceLogSumExp", -INFINITY},
                 {"ReduceLogSum", -INFINITY}, {"ReduceL2", 0}, {"ReduceMean", NAN}};
    for (size_t c = 0; c < sizeof empty / sizeof empty[0]; c++) {
        y = reduce_case(empty[c].op, 18, &e, 1, (int64_t[]){1}, 1, 0);
        if (!y)
            continue;
        check_shape(empty[c].op, y, 3, (int64_t[]){2, 1, 3});
        float want[6];
        for (int i = 0; i < 6; i++)
            want[i] = empty[c].want;
        near_f32(empty[c].op, F(y), want, 6, 0, 0);
        opt_free_tensor(y);
    }
    /* reducing a non-empty axis of an empty tensor gives an empty output */
    y = reduce_case("ReduceSum", 18, &e, 1, (int64_t[]){2}, 0, 0);
    if (y) {
        check_shape("ReduceSum of empty", y, 2, (int64_t[]){2, 0});
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&e);
}

static void test_reduce_types(void)
{
    /* int32 and int64: exact integer arithmetic */
    int32_t xi[6] = {1, -2, 3, 4, 5, -6};
    av__tensor x32 = opt_tensor(AV__DT_I32, 2, (int64_t[]){2, 3}, xi);
    av__tensor *y = reduce_case("ReduceSum", 13, &x32, 1, (int64_t[]){1}, 0, 0);
    if (y) {
        CHECK_INT(y->dtype, AV__DT_I32);
        CHECK_INT(((int32_t *)y->data)[0], 2);
        CHECK_INT(((int32_t *)y->data)[1], 3);
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceMean", 13, &x32, 1, (int64_t[]){0}, 0, 0);
    if (y) { /* (1+4)/2, (-2+5)/2, (3-6)/2 truncated */
        CHECK_INT(((int32_t *)y->data)[0], 2);
        CHECK_INT(((int32_t *)y->data)[1], 1);
        CHECK_INT(((int32_t *)y->data)[2], -1);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&x32);
    int64_t xl[4] = {INT64_C(9007199254740993), 2, -5, INT64_C(-9007199254740993)};
    av__tensor x64 = opt_i64(1, (int64_t[]){4}, xl);
    y = reduce_case("ReduceMax", 13, &x64, -1, NULL, 0, 0);
    if (y) { /* beyond 2^53: integers must not go through double */
        CHECK(((int64_t *)y->data)[0] == INT64_C(9007199254740993));
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceMin", 18, &x64, -1, NULL, 1, 0);
    if (y) {
        CHECK(((int64_t *)y->data)[0] == INT64_C(-9007199254740993));
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceProd", 13, &x64, 1, (int64_t[]){0}, 1, 0);
    if (y) {
        int64_t want = (int64_t)((uint64_t)xl[0] * 2u * (uint64_t)-5 * (uint64_t)xl[3]);
        CHECK(((int64_t *)y->data)[0] == want);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&x64);
    /* an empty int ReduceMax gives the type's minimum */
    av__tensor xe = opt_tensor(AV__DT_I32, 2, (int64_t[]){2, 0}, NULL);
    y = reduce_case("ReduceMax", 13, &xe, 1, (int64_t[]){1}, 0, 0);
    if (y) {
        CHECK_INT(((int32_t *)y->data)[0], INT32_MIN);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xe);

    /* float64 and float16 */
    double xd[6] = {1e-3, 2.5, -1, 1e15, 1, 1e-15};
    av__tensor xdt = opt_tensor(AV__DT_F64, 2, (int64_t[]){2, 3}, xd);
    y = reduce_case("ReduceSum", 13, &xdt, 1, (int64_t[]){1}, 0, 0);
    if (y) {
        CHECK_INT(y->dtype, AV__DT_F64);
        near_f64("ReduceSum f64", y->data, (double[]){1.501, 1e15 + 1 + 1e-15}, 2, 0, 1e-15);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xdt);
    uint16_t xh[4];
    const float hv[4] = {0.5f, -1.25f, 3.0f, 2.0f};
    for (int i = 0; i < 4; i++)
        xh[i] = av__f32_to_f16(hv[i]);
    av__tensor xht = opt_tensor(AV__DT_F16, 1, (int64_t[]){4}, xh);
    y = reduce_case("ReduceL1", 13, &xht, -1, NULL, 0, 0);
    if (y) {
        CHECK_INT(y->dtype, AV__DT_F16);
        CHECK_NEAR(av__f16_to_f32(((uint16_t *)y->data)[0]), 6.75, 0);
        opt_free_tensor(y);
    }
    y = reduce_case("ReduceMax", 18, &xht, -1, NULL, 0, 0);
    if (y) {
        CHECK_NEAR(av__f16_to_f32(((uint16_t *)y->data)[0]), 3.0, 0);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xht);
}

/* Every kind, on awkward shapes and axis sets that exercise both kernels (runs of the
 * innermost reduced dim, and tiles of kept columns), against the double reference. */
static void test_reduce_random(void)
{
    static const struct {
        int rank;
        int64_t shape[4];
        unsigned mask;
    } cases[] = {
        {2, {7, 131}, 0x2},       /* rows */
        {2, {131, 7}, 0x1},       /* columns: one tile */
        {2, {5, 70}, 0x1},        /* columns: two tiles, the second partial */
        {3, {3, 4, 5}, 0x5},      /* axes 0 and 2: strided runs */
        {3, {3, 67, 2}, 0x2},     /* middle axis, short kept tail */
        {4, {2, 3, 1, 13}, 0xA},  /* size-1 dim inside a reduced block */
        {4, {2, 3, 5, 7}, 0x9},   /* outer and inner axes */
        {3, {1, 1, 1}, 0x7},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        av__tensor x = opt_f32(cases[c].rank, cases[c].shape, NULL);
        int64_t total = av__tensor_count(&x), out_count = 1;
        float *xf = x.data;
        opt_fill_random(xf, total, SEED + (uint64_t)c, 0.2f, 1.5f);
        int64_t axes[4];
        int naxes = 0;
        for (int d = 0; d < cases[c].rank; d++) {
            if (cases[c].mask & (1u << d))
                axes[naxes++] = d - (d % 2 ? cases[c].rank : 0); /* mix negative axes in */
            else
                out_count *= cases[c].shape[d];
        }
        double *want = malloc((size_t)out_count * sizeof *want);
        float *wantf = malloc((size_t)out_count * sizeof *wantf);
        for (int k = 0; k < K_COUNT; k++) {
            ref_reduce(k, xf, cases[c].rank, cases[c].shape, cases[c].mask, want, out_count);
            for (int64_t o = 0; o < out_count; o++)
                wantf[o] = (float)want[o];
            av__tensor *y = reduce_case(kind_op[k], 18, &x, naxes, axes, 0, 0);
            if (!y)
                continue;
            char label[96];
            snprintf(label, sizeof label, "%s random case %zu", kind_op[k], c);
            CHECK_INT(av__tensor_count(y), out_count);
            near_f32(label, F(y), wantf, out_count, 1e-6, 2e-6);
            opt_free_tensor(y);
        }
        free(want);
        free(wantf);
        opt_free_tensor_data(&x);
    }
}

/* ---- ArgMax / ArgMin ------------------------------------------------------------------------- */

static av__tensor *arg_case(const char *op, int64_t opset, const av__tensor *x, int64_t axis,
                            int keepdims, int last)
{
    opt_node *n = opt_node_new(op);
    opt_attr_int(n, "axis", axis);
    opt_attr_int(n, "keepdims", keepdims);
    if (last)
        opt_attr_int(n, "select_last_index", 1);
    av__tensor *y = run1(n, opset, 1, (const av__tensor *[]){x}, NULL);
    opt_node_free(n);
    return y;
}

static void check_i64(const char *label, const av__tensor *t, const int64_t *want, int64_t n)
{
    CHECK_INT(t->dtype, AV__DT_I64);
    for (int64_t i = 0; i < n; i++)
        if (((const int64_t *)t->data)[i] != want[i]) {
            fprintf(stderr, "%s: element %lld = %lld, want %lld\n", label, (long long)i,
                    (long long)((const int64_t *)t->data)[i], (long long)want[i]);
            check_failures++;
            return;
        }
}

static void test_argmax(void)
{
    av__tensor x = opt_f32(2, (int64_t[]){2, 2}, (float[]){2, 2, 3, 10});
    av__tensor *y = arg_case("ArgMax", 13, &x, 1, 1, 0);
    if (y) {
        check_shape("ArgMax keepdims", y, 2, (int64_t[]){2, 1});
        check_i64("ArgMax keepdims", y, (int64_t[]){0, 1}, 2);
        opt_free_tensor(y);
    }
    y = arg_case("ArgMax", 13, &x, -1, 0, 1);
    if (y) {
        check_shape("ArgMax last", y, 1, (int64_t[]){2});
        check_i64("ArgMax last", y, (int64_t[]){1, 1}, 2);
        opt_free_tensor(y);
    }
    y = arg_case("ArgMin", 13, &x, 0, 0, 0);
    if (y) {
        check_i64("ArgMin axis 0", y, (int64_t[]){0, 0}, 2);
        opt_free_tensor(y);
    }
    /* select_last_index does not exist before opset 12: ignored there */
    y = arg_case("ArgMax", 11, &x, 1, 0, 1);
    if (y) {
        check_i64("ArgMax opset 11", y, (int64_t[]){0, 1}, 2);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&x);

    /* NaN counts as the maximum (first NaN wins) */
    av__tensor xn = opt_f32(1, (int64_t[]){4}, (float[]){1, NAN, 5, NAN});
    y = arg_case("ArgMax", 13, &xn, 0, 0, 0);
    if (y) {
        check_i64("ArgMax NaN", y, (int64_t[]){1}, 1);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xn);

    /* int input, axis with inner > 1 (column tiles), against brute force */
    int64_t shape[3] = {3, 5, 70};
    av__tensor xi = opt_tensor(AV__DT_I32, 3, shape, NULL);
    av__tensor xf = opt_f32(3, shape, NULL);
    for (int64_t i = 0; i < 3 * 5 * 70; i++) {
        ((int32_t *)xi.data)[i] = (int32_t)(av__rng_u64(SEED, (uint64_t)i) % 7) - 3;
        ((float *)xf.data)[i] = (float)((int32_t *)xi.data)[i];
    }
    for (int last = 0; last < 2; last++)
        for (int is_max = 0; is_max < 2; is_max++) {
            int64_t want[3 * 70];
            for (int o = 0; o < 3; o++)
                for (int j = 0; j < 70; j++) {
                    int64_t b = 0;
                    for (int k = 1; k < 5; k++) {
                        int32_t v = ((int32_t *)xi.data)[(o * 5 + k) * 70 + j];
                        int32_t bv = ((int32_t *)xi.data)[(o * 5 + b) * 70 + j];
                        if (is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv)))
                            b = k;
                    }
                    want[o * 70 + j] = b;
                }
            const char *op = is_max ? "ArgMax" : "ArgMin";
            y = arg_case(op, 13, &xi, 1, 1, last);
            if (y) {
                check_shape("Arg int", y, 3, (int64_t[]){3, 1, 70});
                check_i64("Arg int tiles", y, want, 3 * 70);
                opt_free_tensor(y);
            }
            y = arg_case(op, 13, &xf, -2, 0, last);
            if (y) {
                check_i64("Arg float tiles", y, want, 3 * 70);
                opt_free_tensor(y);
            }
        }
    opt_free_tensor_data(&xi);
    opt_free_tensor_data(&xf);
}

/* ---- Softmax family -------------------------------------------------------------------------- */

/* Reference softmax over lines (outer, n, inner). mode 0 softmax, 1 log, 2 hard. */
static void ref_softmax(int mode, const float *x, int64_t outer, int64_t n, int64_t inner,
                        float *y)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xl = x + o * n * inner + i;
            float *yl = y + o * n * inner + i;
            double mx = -INFINITY, s = 0;
            int64_t b = 0;
            for (int64_t k = 0; k < n; k++) {
                if (xl[k * inner] > mx)
                    b = k;
                mx = xl[k * inner] > mx ? xl[k * inner] : mx;
            }
            for (int64_t k = 0; k < n; k++)
                s += exp(xl[k * inner] - mx);
            for (int64_t k = 0; k < n; k++)
                yl[k * inner] = mode == 0 ? (float)(exp(xl[k * inner] - mx) / s)
                              : mode == 1 ? (float)(xl[k * inner] - mx - log(s))
                                          : (float)(k == b);
        }
}

static av__tensor *sm_case(const char *op, int64_t opset, const av__tensor *x, int has_axis,
                           int64_t axis, av__threadpool *pool)
{
    opt_node *n = opt_node_new(op);
    if (has_axis)
        opt_attr_int(n, "axis", axis);
    av__tensor *y = run1(n, opset, 1, (const av__tensor *[]){x}, pool);
    opt_node_free(n);
    return y;
}

static void test_softmax(void)
{
    /* the ONNX example: [[-1, 0, 1]] */
    av__tensor x1 = opt_f32(2, (int64_t[]){1, 3}, (float[]){-1, 0, 1});
    av__tensor *y = sm_case("Softmax", 13, &x1, 0, 0, NULL);
    if (y) {
        near_f32("Softmax example", F(y), (float[]){0.09003057f, 0.24472848f, 0.66524094f}, 3,
                 1e-7, 1e-6);
        opt_free_tensor(y);
    }
    y = sm_case("LogSoftmax", 13, &x1, 0, 0, NULL);
    if (y) {
        near_f32("LogSoftmax example", F(y), (float[]){-2.4076061f, -1.4076061f, -0.40760612f},
                 3, 1e-6, 1e-6);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&x1);
    /* large numbers stay finite */
    av__tensor xl = opt_f32(1, (int64_t[]){4}, (float[]){10000, 10001, 10002, 10003});
    y = sm_case("Softmax", 13, &xl, 0, 0, NULL);
    if (y) {
        near_f32("Softmax large", F(y),
                 (float[]){0.0320586f, 0.08714432f, 0.2368828f, 0.6439143f}, 4, 1e-7, 1e-5);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xl);

    /* 3-D input, axis 1: opset 11 normalises rows of 3*4 (coerced to 2-D), opset 13 along the
     * axis alone: different numbers */
    int64_t shape[3] = {2, 3, 4};
    av__tensor x = opt_f32(3, shape, NULL);
    opt_fill_random(x.data, 24, SEED, -2, 2);
    float want[24];
    const char *ops[3] = {"Softmax", "LogSoftmax", "Hardmax"};
    for (int m = 0; m < 3; m++) {
        char label[64];
        ref_softmax(m, F(&x), 2, 12, 1, want);
        y = sm_case(ops[m], 11, &x, 1, 1, NULL);
        if (y) {
            snprintf(label, sizeof label, "%s opset 11 axis 1", ops[m]);
            near_f32(label, F(y), want, 24, 1e-6, 1e-5);
            opt_free_tensor(y);
        }
        y = sm_case(ops[m], 11, &x, 0, 0, NULL); /* default axis 1 */
        if (y) {
            snprintf(label, sizeof label, "%s opset 11 default axis", ops[m]);
            near_f32(label, F(y), want, 24, 1e-6, 1e-5);
            opt_free_tensor(y);
        }
        ref_softmax(m, F(&x), 2, 3, 4, want);
        y = sm_case(ops[m], 13, &x, 1, 1, NULL);
        if (y) {
            snprintf(label, sizeof label, "%s opset 13 axis 1", ops[m]);
            near_f32(label, F(y), want, 24, 1e-6, 1e-5);
            opt_free_tensor(y);
        }
        ref_softmax(m, F(&x), 6, 4, 1, want);
        y = sm_case(ops[m], 13, &x, 0, 0, NULL); /* default axis -1 */
        if (y) {
            snprintf(label, sizeof label, "%s opset 13 default axis", ops[m]);
            near_f32(label, F(y), want, 24, 1e-6, 1e-5);
            opt_free_tensor(y);
        }
    }
    /* the two opsets really differ on this input */
    av__tensor *a = sm_case("Softmax", 11, &x, 1, 1, NULL);
    av__tensor *b = sm_case("Softmax", 13, &x, 1, 1, NULL);
    if (a && b)
        CHECK(opt_max_abs_diff(F(a), F(b), 24) > 0.05);
    opt_free_tensor(a);
    opt_free_tensor(b);
    opt_free_tensor_data(&x);

    /* Hardmax ties: the first maximum */
    av__tensor xt = opt_f32(2, (int64_t[]){2, 4}, (float[]){3, 3, 1, 3, 0, 1, 1, 0});
    y = sm_case("Hardmax", 13, &xt, 0, 0, NULL);
    if (y) {
        near_f32("Hardmax ties", F(y), (float[]){1, 0, 0, 0, 0, 1, 0, 0}, 8, 0, 0);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xt);

    /* wide column tiles (float32, inner 130 > 64) and the float64 / float16 paths */
    int64_t s2[3] = {2, 17, 130};
    av__tensor xw = opt_f32(3, s2, NULL);
    opt_fill_random(xw.data, 2 * 17 * 130, SEED + 1, -4, 4);
    float *w2 = malloc(2 * 17 * 130 * sizeof *w2);
    av__tensor xd = opt_tensor(AV__DT_F64, 3, s2, NULL), xh = opt_tensor(AV__DT_F16, 3, s2, NULL);
    for (int i = 0; i < 2 * 17 * 130; i++) {
        ((double *)xd.data)[i] = F(&xw)[i];
        ((uint16_t *)xh.data)[i] = av__f32_to_f16(F(&xw)[i]);
    }
    for (int m = 0; m < 3; m++) {
        ref_softmax(m, F(&xw), 2, 17, 130, w2);
        y = sm_case(ops[m], 13, &xw, 1, 1, NULL);
        if (y) {
            near_f32("softmax f32 tiles", F(y), w2, 2 * 17 * 130, 1e-6, 1e-5);
            opt_free_tensor(y);
        }
        y = sm_case(ops[m], 13, &xd, 1, -2, NULL);
        if (y) {
            float *g = malloc(2 * 17 * 130 * sizeof *g);
            for (int i = 0; i < 2 * 17 * 130; i++)
                g[i] = (float)((double *)y->data)[i];
            near_f32("softmax f64", g, w2, 2 * 17 * 130, 1e-6, 1e-6);
            free(g);
            opt_free_tensor(y);
        }
        y = sm_case(ops[m], 13, &xh, 1, 1, NULL);
        if (y) {
            CHECK_INT(y->dtype, AV__DT_F16);
            float *g = malloc(2 * 17 * 130 * sizeof *g);
            for (int i = 0; i < 2 * 17 * 130; i++)
                g[i] = av__f16_to_f32(((uint16_t *)y->data)[i]);
            /* inputs rounded to half: compare loosely (hardmax could flip on near ties) */
            if (m != 2)
                near_f32("softmax f16", g, w2, 2 * 17 * 130, 5e-3, 2e-2);
            free(g);
            opt_free_tensor(y);
        }
    }
    free(w2);
    opt_free_tensor_data(&xw);
    opt_free_tensor_data(&xd);
    opt_free_tensor_data(&xh);
}

/* ---- CumSum ---------------------------------------------------------------------------------- */

static av__tensor *cumsum_case(const av__tensor *x, const av__tensor *axis, int exclusive,
                               int reverse)
{
    opt_node *n = opt_node_new("CumSum");
    if (exclusive)
        opt_attr_int(n, "exclusive", 1);
    if (reverse)
        opt_attr_int(n, "reverse", 1);
    av__tensor *y = run1(n, 14, 2, (const av__tensor *[]){x, axis}, NULL);
    opt_node_free(n);
    return y;
}

static void test_cumsum(void)
{
    av__tensor x = opt_f32(1, (int64_t[]){5}, (float[]){1, 2, 3, 4, 5});
    int32_t zero = 0;
    av__tensor ax0 = opt_tensor(AV__DT_I32, 0, NULL, &zero);
    static const float want[4][5] = {
        {1, 3, 6, 10, 15}, {0, 1, 3, 6, 10}, {15, 14, 12, 9, 5}, {14, 12, 9, 5, 0}};
    for (int v = 0; v < 4; v++) {
        av__tensor *y = cumsum_case(&x, &ax0, v & 1, v >> 1);
        if (y) {
            near_f32("CumSum 1-D", F(y), want[v], 5, 0, 0);
            opt_free_tensor(y);
        }
    }
    opt_free_tensor_data(&x);

    av__tensor x2 = opt_f32(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    av__tensor ax1 = opt_i64(1, (int64_t[]){1}, (int64_t[]){1});
    av__tensor axm1 = opt_i64(0, NULL, (int64_t[]){-1});
    av__tensor axz = opt_i64(0, NULL, (int64_t[]){0});
    av__tensor *y = cumsum_case(&x2, &axz, 0, 0);
    if (y) {
        near_f32("CumSum axis 0", F(y), (float[]){1, 2, 3, 5, 7, 9}, 6, 0, 0);
        opt_free_tensor(y);
    }
    y = cumsum_case(&x2, &ax1, 0, 0);
    if (y) {
        near_f32("CumSum axis 1", F(y), (float[]){1, 3, 6, 4, 9, 15}, 6, 0, 0);
        opt_free_tensor(y);
    }
    y = cumsum_case(&x2, &axm1, 1, 1);
    if (y) {
        near_f32("CumSum axis -1 excl rev", F(y), (float[]){5, 3, 0, 11, 6, 0}, 6, 0, 0);
        opt_free_tensor(y);
    }
    /* float64, int32 and int64 paths, chunked lines (n > 256) in both directions */
    int64_t n = 600;
    av__tensor xd = opt_tensor(AV__DT_F64, 2, (int64_t[]){2, n}, NULL);
    av__tensor xi = opt_tensor(AV__DT_I32, 2, (int64_t[]){2, n}, NULL);
    av__tensor xl = opt_tensor(AV__DT_I64, 2, (int64_t[]){2, n}, NULL);
    for (int64_t i = 0; i < 2 * n; i++) {
        ((double *)xd.data)[i] = 0.5 * (double)(i % 7) - 1;
        ((int32_t *)xi.data)[i] = (int32_t)(i % 7) - 3;
        ((int64_t *)xl.data)[i] = (int64_t)(i % 7) * INT64_C(1000000000000);
    }
    for (int v = 0; v < 4; v++) {
        int excl = v & 1, rev = v >> 1;
        av__tensor *yd = cumsum_case(&xd, &ax1, excl, rev);
        av__tensor *yi = cumsum_case(&xi, &ax1, excl, rev);
        av__tensor *yl = cumsum_case(&xl, &axm1, excl, rev);
        if (!yd || !yi || !yl) {
            opt_free_tensor(yd);
            opt_free_tensor(yi);
            opt_free_tensor(yl);
            continue;
        }
        for (int r = 0; r < 2; r++) {
            double sd = 0;
            int64_t si = 0, sl = 0;
            int bad = 0;
            for (int64_t s = 0; s < n; s++) {
                int64_t k = r * n + (rev ? n - 1 - s : s);
                if (!excl) {
                    sd += ((double *)xd.data)[k];
                    si += ((int32_t *)xi.data)[k];
                    sl += ((int64_t *)xl.data)[k];
                }
                bad |= ((double *)yd->data)[k] != sd || ((int32_t *)yi->data)[k] != si ||
                       ((int64_t *)yl->data)[k] != sl;
                if (excl) {
                    sd += ((double *)xd.data)[k];
                    si += ((int32_t *)xi.data)[k];
                    sl += ((int64_t *)xl.data)[k];
                }
            }
            if (bad) {
                fprintf(stderr, "CumSum typed excl=%d rev=%d row %d wrong\n", excl, rev, r);
                check_failures++;
            }
        }
        opt_free_tensor(yd);
        opt_free_tensor(yi);
        opt_free_tensor(yl);
    }
    opt_free_tensor_data(&xd);
    opt_free_tensor_data(&xi);
    opt_free_tensor_data(&xl);
    opt_free_tensor_data(&x2);
    opt_free_tensor_data(&ax0);
    opt_free_tensor_data(&ax1);
    opt_free_tensor_data(&axm1);
    opt_free_tensor_data(&axz);
}

/* ---- normalisations -------------------------------------------------------------------------- */

/* Reference layer norm over rows of len with per-position scale/bias (NULL: 1, 0). */
static void ref_norm_rows(const float *x, int64_t rows, int64_t len, double eps, const float *s,
                          const float *b, int64_t pdiv, int64_t pmod, double *y, double *mean,
                          double *inv)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * len;
        double m = 0, v = 0;
        for (int64_t i = 0; i < len; i++)
            m += xr[i];
        m /= (double)len;
        for (int64_t i = 0; i < len; i++)
            v += (xr[i] - m) * (xr[i] - m);
        v /= (double)len;
        double iv = 1.0 / sqrt(v + eps);
        if (mean)
            mean[r] = m;
        if (inv)
            inv[r] = iv;
        for (int64_t i = 0; i < len; i++) {
            int64_t p = ((r * len + i) / pdiv) % pmod;
            y[r * len + i] = (xr[i] - m) * iv * (s ? s[p] : 1.0) + (b ? b[p] : 0.0);
        }
    }
}

static void to_f32(const double *d, float *f, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)d[i];
}

static void test_layernorm(void)
{
    int64_t shape[3] = {3, 5, 7};
    av__tensor x = opt_f32(3, shape, NULL);
    opt_fill_random(x.data, 105, SEED + 2, -3, 5);
    float sc[105], bi[105]; /* Scale and B for up to all 3 x 5 x 7 positions (axis 0) */
    opt_fill_random(sc, 105, SEED + 3, 0.5f, 2);
    opt_fill_random(bi, 105, SEED + 4, -1, 1);
    double yd[105], md[15], id[15];
    float yf[105], mf[15], iff[15];
    for (int axis = -2; axis <= 2; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        int64_t len = 1, rows = 1;
        for (int i = 0; i < 3; i++)
            *(i < ax ? &rows : &len) *= shape[i];
        av__tensor s = opt_f32(3 - ax, shape + ax, sc), b = opt_f32(3 - ax, shape + ax, bi);
        for (int with_b = 0; with_b < 2; with_b++) {
            opt_node *n = opt_node_new("LayerNormalization");
            opt_attr_int(n, "axis", axis);
            opt_attr_float(n, "epsilon", 1e-3f);
            av__tensor *out[3];
            err[0] = 0;
            av_status st = opt_run(n, 17, with_b ? 3 : 2, (const av__tensor *[]){&x, &s, &b}, 3,
                                   out, err, sizeof err);
            CHECK_INT(st, AV_STATUS_OK);
            if (st == AV_STATUS_OK) {
                char label[64];
                snprintf(label, sizeof label, "LayerNorm axis %d B %d", axis, with_b);
                ref_norm_rows(F(&x), rows, len, (double)1e-3f, sc, with_b ? bi : NULL, 1, len,
                              yd, md, id);
                to_f32(yd, yf, 105);
                to_f32(md, mf, rows);
                to_f32(id, iff, rows);
                near_f32(label, F(out[0]), yf, 105, 1e-6, 1e-6);
                near_f32(label, F(out[1]), mf, rows, 1e-7, 1e-6);
                near_f32(label, F(out[2]), iff, rows, 1e-7, 1e-6);
                int64_t ss[3];
                for (int i = 0; i < 3; i++)
                    ss[i] = i < ax ? shape[i] : 1;
                check_shape(label, out[1], 3, ss);
                CHECK_INT(out[2]->dtype, AV__DT_F32);
                for (int i = 0; i < 3; i++)
                    opt_free_tensor(out[i]);
            }
            opt_node_free(n);
        }
        opt_free_tensor_data(&s);
        opt_free_tensor_data(&b);
    }
    /* default axis -1, Scale broadcast from a [1, 7] tensor and a scalar B */
    {
        av__tensor s = opt_f32(2, (int64_t[]){1, 7}, sc), b = opt_f32(0, NULL, (float[]){0.25f});
        opt_node *n = opt_node_new("LayerNormalization");
        av__tensor *y = run1(n, 17, 3, (const av__tensor *[]){&x, &s, &b}, NULL);
        if (y) {
            float bb[7];
            for (int i = 0; i < 7; i++)
                bb[i] = 0.25f;
            ref_norm_rows(F(&x), 15, 7, (double)1e-5f, sc, bb, 1, 7, yd, NULL, NULL);
            to_f32(yd, yf, 105);
            near_f32("LayerNorm broadcast", F(y), yf, 105, 1e-6, 1e-6);
            opt_free_tensor(y);
        }
        /* Scale that broadcasts to the normalised dims ([5, 1] for [5, 7] from axis 1) */
        av__tensor s51 = opt_f32(2, (int64_t[]){5, 1}, sc);
        opt_attr_int(n, "axis", 1);
        y = run1(n, 17, 2, (const av__tensor *[]){&x, &s51}, NULL);
        if (y) {
            float se[35];
            for (int i = 0; i < 35; i++)
                se[i] = sc[i / 7];
            ref_norm_rows(F(&x), 3, 35, (double)1e-5f, se, NULL, 1, 35, yd, NULL, NULL);
            to_f32(yd, yf, 105);
            near_f32("LayerNorm broadcast [5,1]", F(y), yf, 105, 1e-6, 1e-6);
            opt_free_tensor(y);
        }
        opt_node_free(n);
        opt_free_tensor_data(&s);
        opt_free_tensor_data(&s51);
        opt_free_tensor_data(&b);
    }
    /* float16 input (statistics still float32) */
    {
        av__tensor xh = opt_tensor(AV__DT_F16, 3, shape, NULL);
        av__tensor sh = opt_tensor(AV__DT_F16, 1, (int64_t[]){7}, NULL);
        float xr[105], sr[7];
        for (int i = 0; i < 105; i++) {
            ((uint16_t *)xh.data)[i] = av__f32_to_f16(F(&x)[i]);
            xr[i] = av__f16_to_f32(((uint16_t *)xh.data)[i]);
        }
        for (int i = 0; i < 7; i++) {
            ((uint16_t *)sh.data)[i] = av__f32_to_f16(sc[i]);
            sr[i] = av__f16_to_f32(((uint16_t *)sh.data)[i]);
        }
        opt_node *n = opt_node_new("LayerNormalization");
        av__tensor *out[2];
        av_status st = opt_run(n, 17, 2, (const av__tensor *[]){&xh, &sh}, 2, out, err, sizeof err);
        CHECK_INT(st, AV_STATUS_OK);
        if (st == AV_STATUS_OK) {
            CHECK_INT(out[0]->dtype, AV__DT_F16);
            CHECK_INT(out[1]->dtype, AV__DT_F32);
            ref_norm_rows(xr, 15, 7, (double)1e-5f, sr, NULL, 1, 7, yd, md, NULL);
            for (int i = 0; i < 105; i++)
                yf[i] = av__f16_to_f32(((uint16_t *)out[0]->data)[i]);
            float want[105];
            to_f32(yd, want, 105);
            near_f32("LayerNorm f16", yf, want, 105, 2e-3, 2e-3);
            to_f32(md, mf, 15);
            near_f32("LayerNorm f16 mean", F(out[1]), mf, 15, 1e-6, 1e-6);
            opt_free_tensor(out[0]);
            opt_free_tensor(out[1]);
        }
        opt_node_free(n);
        opt_free_tensor_data(&xh);
        opt_free_tensor_data(&sh);
    }
    opt_free_tensor_data(&x);
}

static void test_instancenorm(void)
{
    /* the ONNX example */
    av__tensor x = opt_f32(4, (int64_t[]){1, 2, 1, 3}, (float[]){-1, 0, 1, 2, 3, 4});
    av__tensor s = opt_f32(1, (int64_t[]){2}, (float[]){1, 1.5f});
    av__tensor b = opt_f32(1, (int64_t[]){2}, (float[]){0, 1});
    opt_node *n = opt_node_new("InstanceNormalization");
    av__tensor *y = run1(n, 6, 3, (const av__tensor *[]){&x, &s, &b}, NULL);
    if (y) {
        near_f32("InstanceNorm example", F(y),
                 (float[]){-1.2247357f, 0, 1.2247357f, -0.83710355f, 1, 2.8371036f}, 6, 1e-6, 1e-6);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&x);

    /* long rows with an offset: relative error vs a double reference <= 1e-6 */
    int64_t T = 20000;
    av__tensor xl = opt_f32(3, (int64_t[]){1, 2, T}, NULL);
    opt_fill_random(xl.data, 2 * T, SEED + 5, 2.5f, 3.5f);
    y = run1(n, 6, 3, (const av__tensor *[]){&xl, &s, &b}, NULL);
    if (y) {
        double *ref = malloc((size_t)(2 * T) * sizeof *ref);
        ref_norm_rows(F(&xl), 2, T, (double)1e-5f, (float[]){1, 1.5f}, (float[]){0, 1}, T, 2,
                      ref, NULL, NULL);
        double max_err = 0, max_ref = 0;
        for (int64_t i = 0; i < 2 * T; i++) {
            double e = fabs(F(y)[i] - ref[i]);
            max_err = e > max_err ? e : max_err;
            max_ref = fabs(ref[i]) > max_ref ? fabs(ref[i]) : max_ref;
        }
        if (!(max_err / max_ref <= 1e-6)) {
            fprintf(stderr, "InstanceNorm long row: relative error %.3g (seed %u)\n",
                    max_err / max_ref, SEED);
            check_failures++;
        }
        free(ref);
        opt_free_tensor(y);
    }
    /* float64 on the same data */
    av__tensor xd = opt_tensor(AV__DT_F64, 3, (int64_t[]){1, 2, T}, NULL);
    av__tensor sd = opt_tensor(AV__DT_F64, 1, (int64_t[]){2}, (double[]){1, 1.5});
    av__tensor bd = opt_tensor(AV__DT_F64, 1, (int64_t[]){2}, (double[]){0, 1});
    for (int64_t i = 0; i < 2 * T; i++)
        ((double *)xd.data)[i] = F(&xl)[i];
    y = run1(n, 6, 3, (const av__tensor *[]){&xd, &sd, &bd}, NULL);
    if (y) {
        double *ref = malloc((size_t)(2 * T) * sizeof *ref);
        ref_norm_rows(F(&xl), 2, T, (double)1e-5f, (float[]){1, 1.5f}, (float[]){0, 1}, T, 2,
                      ref, NULL, NULL);
        near_f64("InstanceNorm f64", y->data, ref, 2 * T, 1e-12, 1e-12);
        free(ref);
        opt_free_tensor(y);
    }
    opt_free_tensor_data(&xd);
    opt_free_tensor_data(&sd);
    opt_free_tensor_data(&bd);
    opt_free_tensor_data(&xl);
    opt_free_tensor_data(&s);
    opt_free_tensor_data(&b);
    opt_node_free(n);
}

static void test_groupnorm(void)
{
    int64_t shape[3] = {2, 6, 5};
    av__tensor x = opt_f32(3, shape, NULL);
    opt_fill_random(x.data, 60, SEED + 6, -1, 3);
    float sg[3] = {1, 2, 0.5f}, bg[3] = {0, -1, 1};
    float sc[6] = {1, 2, 3, 0.5f, 0.25f, -1}, bc[6] = {0, 1, 2, 3, 4, 5};
    double yd[60];
    float yf[60];
    opt_node *n = opt_node_new("GroupNormalization");
    opt_attr_int(n, "num_groups", 3);
    opt_attr_float(n, "epsilon", 1e-4f);
    /* opset 18: one scale and bias per group */
    av__tensor s = opt_f32(1, (int64_t[]){3}, sg), b = opt_f32(1, (int64_t[]){3}, bg);
    av__tensor *y = run1(n, 18, 3, (const av__tensor *[]){&x, &s, &b}, NULL);
    if (y) {
        ref_norm_rows(F(&x), 6, 10, (double)1e-4f, sg, bg, 10, 3, yd, NULL, NULL);
        to_f32(yd, yf, 60);
        near_f32("GroupNorm per group", F(y), yf, 60, 1e-6, 1e-6);
        opt_free_tensor(y);
    }
    /* per channel (the opset-21 form, unambiguous when num_groups != channels) */
    av__tensor s6 = opt_f32(1, (int64_t[]){6}, sc), b6 = opt_f32(1, (int64_t[]){6}, bc);
    y = run1(n, 18, 3, (const av__tensor *[]){&x, &s6, &b6}, NULL);
    if (y) {
        ref_norm_rows(F(&x), 6, 10, (double)1e-4f, sc, bc, 5, 6, yd, NULL, NULL);
        to_f32(yd, yf, 60);
        near_f32("GroupNorm per channel", F(y), yf, 60, 1e-6, 1e-6);
        opt_free_tensor(y);
    }
    opt_node_free(n);
    /* num_groups that does not divide the channels */
    n = opt_node_new("GroupNormalization");
    opt_attr_int(n, "num_groups", 4);
    expect_fail("GroupNorm 4 groups of 6", n, 18, 3, (const av__tensor *[]){&x, &s, &b},
                AV_STATUS_FORMAT, "num_groups");
    opt_node_free(n);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&s);
    opt_free_tensor_data(&b);
    opt_free_tensor_data(&s6);
    opt_free_tensor_data(&b6);
}

static void test_batchnorm(void)
{
    av__tensor x = opt_f32(3, (int64_t[]){2, 3, 2},
                           (float[]){1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6});
    av__tensor s = opt_f32(1, (int64_t[]){3}, (float[]){1, 2, 0.5f});
    av__tensor b = opt_f32(1, (int64_t[]){3}, (float[]){0, 1, -1});
    av__tensor m = opt_f32(1, (int64_t[]){3}, (float[]){1, 0, -2});
    av__tensor v = opt_f32(1, (int64_t[]){3}, (float[]){4, 1, 0.25f});
    float want[12];
    const float *xv = x.data;
    const float sv[3] = {1, 2, 0.5f}, bv[3] = {0, 1, -1}, mv[3] = {1, 0, -2}, vv[3] = {4, 1, 0.25f};
    for (int i = 0; i < 12; i++) {
        int c = (i / 2) % 3;
        want[i] = (float)((xv[i] - mv[c]) / sqrt(vv[c] + (double)1e-2f) * sv[c] + bv[c]);
    }
    const av__tensor *in[5] = {&x, &s, &b, &m, &v};
    const int64_t opsets[] = {6, 9, 15};
    for (int k = 0; k < 3; k++) {
        opt_node *n = opt_node_new("BatchNormalization");
        opt_attr_float(n, "epsilon", 1e-2f);
        if (opsets[k] == 6)
            opt_attr_int(n, "is_test", 1);
        av__tensor *y = run1(n, opsets[k], 5, in, NULL);
        if (y) {
            near_f32("BatchNorm", F(y), want, 12, 1e-6, 1e-6);
            opt_free_tensor(y);
        }
        /* extra outputs mean training mode: unsupported before 14, invalid after */
        av__tensor *out[5];
        av_status st = opt_run(n, opsets[k], 5, in, opsets[k] >= 14 ? 3 : 5, out, err, sizeof err);
        CHECK_INT(st, opsets[k] == 6 ? AV_STATUS_FORMAT
                      : opsets[k] >= 14 ? AV_STATUS_FORMAT : AV_STATUS_UNSUPPORTED);
        CHECK(err[0] != 0);
        opt_node_free(n);
    }
    /* float64 input with float32 parameters (opset 15 allows different types) */
    av__tensor xd = opt_tensor(AV__DT_F64, 3, (int64_t[]){2, 3, 2}, NULL);
    for (int i = 0; i < 12; i++)
        ((double *)xd.data)[i] = xv[i];
    opt_node *n = opt_node_new("BatchNormalization");
    opt_attr_float(n, "epsilon", 1e-2f);
    av__tensor *y = run1(n, 15, 5, (const av__tensor *[]){&xd, &s, &b, &m, &v}, NULL);
    if (y) {
        float g[12];
        for (int i = 0; i < 12; i++)
            g[i] = (float)((double *)y->data)[i];
        near_f32("BatchNorm f64", g, want, 12, 1e-6, 1e-6);
        opt_free_tensor(y);
    }
    opt_attr_int(n, "training_mode", 1);
    expect_fail("BatchNorm training", n, 15, 5, in, AV_STATUS_UNSUPPORTED, "training");
    opt_node_free(n);
    opt_free_tensor_data(&xd);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&s);
    opt_free_tensor_data(&b);
    opt_free_tensor_data(&m);
    opt_free_tensor_data(&v);
}

static void test_lpnorm_mvn(void)
{
    av__tensor x = opt_f32(2, (int64_t[]){3, 2}, (float[]){3, 4, 0, 0, -1, 1});
    opt_node *n = opt_node_new("LpNormalization");
    av__tensor *y = run1(n, 1, 1, (const av__tensor *[]){&x}, NULL);
    if (y) { /* p = 2 along the last axis; a zero vector stays zero */
        near_f32("LpNorm p2", F(y), (float[]){0.6f, 0.8f, 0, 0, -0.70710678f, 0.70710678f}, 6,
                 1e-7, 1e-6);
        opt_free_tensor(y);
    }
    opt_attr_int(n, "p", 1);
    opt_attr_int(n, "axis", 0);
    y = run1(n, 1, 1, (const av__tensor *[]){&x}, NULL);
    if (y) {
        near_f32("LpNorm p1 axis 0", F(y), (float[]){0.75f, 0.8f, 0, 0, -0.25f, 0.2f}, 6, 1e-7,
                 1e-6);
        opt_free_tensor(y);
    }
    opt_node_free(n);
    n = opt_node_new("LpNormalization");
    opt_attr_int(n, "p", 3);
    expect_fail("LpNorm p=3", n, 1, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT, "p");
    opt_node_free(n);
    opt_free_tensor_data(&x);

    /* MVN, default axes [0, 2, 3]: statistics per channel */
    int64_t shape[4] = {2, 3, 4, 5};
    av__tensor xm = opt_f32(4, shape, NULL);
    opt_fill_random(xm.data, 120, SEED + 7, -2, 6);
    float want[120];
    for (int c = 0; c < 3; c++) {
        double s = 0, q = 0;
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 20; k++)
                s += F(&xm)[(b * 3 + c) * 20 + k];
        s /= 40;
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 20; k++)
                q += (F(&xm)[(b * 3 + c) * 20 + k] - s) * (F(&xm)[(b * 3 + c) * 20 + k] - s);
        double sd = sqrt(q / 40) + 1e-9;
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 20; k++)
                want[(b * 3 + c) * 20 + k] = (float)((F(&xm)[(b * 3 + c) * 20 + k] - s) / sd);
    }
    n = opt_node_new("MeanVarianceNormalization");
    y = run1(n, 13, 1, (const av__tensor *[]){&xm}, NULL);
    if (y) {
        near_f32("MVN", F(y), want, 120, 1e-6, 1e-6);
        opt_free_tensor(y);
    }
    opt_node_free(n);
    /* default axes need rank 4 */
    av__tensor x3 = opt_f32(3, (int64_t[]){2, 3, 4}, NULL);
    n = opt_node_new("MeanVarianceNormalization");
    expect_fail("MVN rank 3", n, 13, 1, (const av__tensor *[]){&x3}, AV_STATUS_FORMAT, "rank 3");
    opt_node_free(n);
    opt_free_tensor_data(&x3);
    opt_free_tensor_data(&xm);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_errors(void)
{
    av__tensor x = opt_f32(3, (int64_t[]){2, 3, 4}, NULL);
    av__tensor ax = opt_i64(1, (int64_t[]){1}, (int64_t[]){3});
    opt_node *n = opt_node_new("ReduceSum");
    opt_attr_ints(n, "axes", 1, (int64_t[]){3});
    expect_fail("ReduceSum axis 3", n, 11, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT,
                "rank 3");
    opt_node_free(n);
    n = opt_node_new("ReduceSum");
    expect_fail("ReduceSum axes input 3", n, 13, 2, (const av__tensor *[]){&x, &ax},
                AV_STATUS_FORMAT, "rank 3");
    expect_fail("ReduceSum 2 inputs at opset 11", n, 11, 2, (const av__tensor *[]){&x, &ax},
                AV_STATUS_FORMAT, NULL);
    opt_node_free(n);
    n = opt_node_new("ReduceMean");
    opt_attr_ints(n, "axes", 2, (int64_t[]){1, -2});
    expect_fail("ReduceMean repeated axis", n, 13, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT,
                "repeated");
    expect_fail("ReduceMean axes input at 13", n, 13, 2, (const av__tensor *[]){&x, &ax},
                AV_STATUS_FORMAT, NULL);
    opt_node_free(n);
    n = opt_node_new("ReduceMax");
    opt_attr_int(n, "axes", 1); /* INT instead of INTS */
    expect_fail("ReduceMax axes wrong type", n, 13, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT,
                "axes");
    opt_node_free(n);

    n = opt_node_new("Softmax");
    opt_attr_int(n, "axis", 3);
    expect_fail("Softmax axis 3", n, 13, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT, "rank 3");
    expect_fail("Softmax axis 3 opset 11", n, 11, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT,
                "axis 3");
    opt_node_free(n);
    n = opt_node_new("ArgMax");
    opt_attr_int(n, "axis", -4);
    expect_fail("ArgMax axis -4", n, 13, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT, "-4");
    opt_node_free(n);
    av__tensor xe = opt_f32(2, (int64_t[]){2, 0}, NULL);
    n = opt_node_new("ArgMin");
    opt_attr_int(n, "axis", 1);
    expect_fail("ArgMin over empty axis", n, 13, 1, (const av__tensor *[]){&xe}, AV_STATUS_FORMAT,
                NULL);
    opt_node_free(n);
    opt_free_tensor_data(&xe);

    av__tensor xi = opt_i64(1, (int64_t[]){2}, (int64_t[]){1, 2});
    n = opt_node_new("Softmax");
    expect_fail("Softmax int64", n, 13, 1, (const av__tensor *[]){&xi}, AV_STATUS_FORMAT, "int64");
    opt_node_free(n);
    opt_free_tensor_data(&xi);

    n = opt_node_new("CumSum");
    av__tensor axf = opt_f32(0, NULL, (float[]){0});
    expect_fail("CumSum float axis", n, 14, 2, (const av__tensor *[]){&x, &axf}, AV_STATUS_FORMAT,
                "axis");
    expect_fail("CumSum axis 3", n, 14, 2, (const av__tensor *[]){&x, &ax}, AV_STATUS_FORMAT,
                "rank 3");
    opt_free_tensor_data(&axf);
    opt_node_free(n);

    n = opt_node_new("LayerNormalization");
    expect_fail("LayerNorm without Scale", n, 17, 1, (const av__tensor *[]){&x}, AV_STATUS_FORMAT,
                NULL);
    av__tensor s5 = opt_f32(1, (int64_t[]){5}, NULL);
    expect_fail("LayerNorm Scale of 5 for 4", n, 17, 2, (const av__tensor *[]){&x, &s5},
                AV_STATUS_FORMAT, "Scale");
    opt_node_free(n);
    n = opt_node_new("InstanceNormalization");
    expect_fail("InstanceNorm scale of 5 for 3 channels", n, 6, 3,
                (const av__tensor *[]){&x, &s5, &s5}, AV_STATUS_FORMAT, "scale");
    opt_node_free(n);
    opt_free_tensor_data(&s5);
    opt_free_tensor_data(&ax);
    opt_free_tensor_data(&x);
}

/* ---- threads --------------------------------------------------------------------------------- */

static void same_bytes(const char *label, const av__tensor *a, const av__tensor *b)
{
    if (!a || !b)
        return;
    if (av__tensor_bytes(a) != av__tensor_bytes(b) ||
        memcmp(a->data, b->data, av__tensor_bytes(a)) != 0) {
        fprintf(stderr, "%s: threaded result differs from single-threaded\n", label);
        check_failures++;
    }
}

static void test_threads(void)
{
    av__threadpool *pool = NULL;
    CHECK_INT(av__threadpool_create(2, &pool), AV_STATUS_OK);
    if (!pool)
        return;
    /* InstanceNorm and LayerNorm rows */
    av__tensor x = opt_f32(3, (int64_t[]){2, 8, 3001}, NULL);
    opt_fill_random(x.data, 2 * 8 * 3001, SEED + 8, -1, 2);
    av__tensor s = opt_f32(1, (int64_t[]){8}, NULL), b = opt_f32(1, (int64_t[]){8}, NULL);
    opt_fill_random(s.data, 8, SEED + 9, 0.5f, 1.5f);
    opt_fill_random(b.data, 8, SEED + 10, -1, 1);
    opt_node *n = opt_node_new("InstanceNormalization");
    const av__tensor *in3[3] = {&x, &s, &b};
    av__tensor *y1 = run1(n, 6, 3, in3, NULL), *y2 = run1(n, 6, 3, in3, pool);
    same_bytes("InstanceNorm", y1, y2);
    opt_free_tensor(y1);
    opt_free_tensor(y2);
    opt_node_free(n);

    av__tensor xl = opt_f32(2, (int64_t[]){257, 191}, NULL);
    opt_fill_random(xl.data, 257 * 191, SEED + 11, -1, 2);
    av__tensor ls = opt_f32(1, (int64_t[]){191}, NULL);
    opt_fill_random(ls.data, 191, SEED + 12, 0.5f, 1.5f);
    n = opt_node_new("LayerNormalization");
    y1 = run1(n, 17, 2, (const av__tensor *[]){&xl, &ls}, NULL);
    y2 = run1(n, 17, 2, (const av__tensor *[]){&xl, &ls}, pool);
    same_bytes("LayerNorm", y1, y2);
    opt_free_tensor(y1);
    opt_free_tensor(y2);
    opt_node_free(n);

    /* softmax along a middle axis (column tiles), reductions in both kernels, ArgMax, CumSum */
    av__tensor xs = opt_f32(3, (int64_t[]){3, 67, 130}, NULL);
    opt_fill_random(xs.data, 3 * 67 * 130, SEED + 13, -3, 3);
    const char *sm_ops[3] = {"Softmax", "LogSoftmax", "Hardmax"};
    for (int m = 0; m < 3; m++) {
        y1 = sm_case(sm_ops[m], 13, &xs, 1, 1, NULL);
        y2 = sm_case(sm_ops[m], 13, &xs, 1, 1, pool);
        same_bytes(sm_ops[m], y1, y2);
        opt_free_tensor(y1);
        opt_free_tensor(y2);
    }
    for (int k = 0; k < K_COUNT; k++)
        for (int axis = 0; axis < 3; axis++) {
            opt_node *r = opt_node_new(kind_op[k]);
            opt_attr_ints(r, "axes", 1, (int64_t[]){axis});
            y1 = run1(r, 13, 1, (const av__tensor *[]){&xs}, NULL);
            y2 = run1(r, 13, 1, (const av__tensor *[]){&xs}, pool);
            same_bytes(kind_op[k], y1, y2);
            opt_free_tensor(y1);
            opt_free_tensor(y2);
            opt_node_free(r);
        }
    y1 = arg_case("ArgMax", 13, &xs, 1, 0, 0);
    {
        opt_node *r = opt_node_new("ArgMax");
        opt_attr_int(r, "axis", 1);
        opt_attr_int(r, "keepdims", 0);
        y2 = run1(r, 13, 1, (const av__tensor *[]){&xs}, pool);
        opt_node_free(r);
    }
    same_bytes("ArgMax", y1, y2);
    opt_free_tensor(y1);
    opt_free_tensor(y2);
    {
        av__tensor a1 = opt_i64(0, NULL, (int64_t[]){1});
        opt_node *c = opt_node_new("CumSum");
        y1 = run1(c, 14, 2, (const av__tensor *[]){&xs, &a1}, NULL);
        y2 = run1(c, 14, 2, (const av__tensor *[]){&xs, &a1}, pool);
        same_bytes("CumSum", y1, y2);
        opt_free_tensor(y1);
        opt_free_tensor(y2);
        opt_node_free(c);
        opt_free_tensor_data(&a1);
    }
    opt_free_tensor_data(&xs);
    opt_free_tensor_data(&xl);
    opt_free_tensor_data(&ls);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&s);
    opt_free_tensor_data(&b);
    av__threadpool_free(pool);
}

int main(void)
{
    test_reduce_known();
    test_reduce_types();
    test_reduce_random();
    test_argmax();
    test_softmax();
    test_cumsum();
    test_layernorm();
    test_instancenorm();
    test_groupnorm();
    test_batchnorm();
    test_lpnorm_mvn();
    test_errors();
    test_threads();
    return check_report("test_ops_reduce");
}
