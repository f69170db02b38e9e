/* Unit tests of the shape / data-movement operators (src/ops/shape*.c): known answers for every
 * op and opset variant (many taken from the official ONNX node tests), error cases with their
 * messages, and the copy kernels (Transpose, Slice, Concat, Expand, Pad, Gather, Resize) against
 * naive references on random data of awkward shapes, with and without a thread pool. Failures
 * print the values and the seed of the random data. */
#define _POSIX_C_SOURCE 200809L /* op_harness.h uses strdup */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/threadpool.h"
#include "op_harness.h"

/* ---- small harness on top of op_harness.h ---------------------------------------------------- */

static char err[512];
static av__tensor *reg[512];
static int nreg;
static opt_node *nodes[64];
static int nnodes;

/* Registers a tensor (copied to the heap) for release(); returns it. */
static const av__tensor *keep(av__tensor t)
{
    av__tensor *p = malloc(sizeof *p);
    *p = t;
    reg[nreg++] = p;
    return p;
}

static opt_node *node(const char *op)
{
    opt_node *n = opt_node_new(op);
    nodes[nnodes++] = n;
    return n;
}

static void release(void)
{
    for (int i = 0; i < nreg; i++)
        opt_free_tensor(reg[i]);
    nreg = 0;
    for (int i = 0; i < nnodes; i++)
        opt_node_free(nodes[i]);
    nnodes = 0;
}

#define S(...) ((const int64_t[]){__VA_ARGS__})
#define VF(...) ((const float[]){__VA_ARGS__})
#define VI(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((const av__tensor *const[]){__VA_ARGS__})
#define F32(nd, shape, data) keep(opt_tensor(AV__DT_F32, nd, shape, data))
#define I64(nd, shape, data) keep(opt_tensor(AV__DT_I64, nd, shape, data))
#define I32(nd, shape, ...) keep(opt_tensor(AV__DT_I32, nd, shape, (const int32_t[]){__VA_ARGS__}))
#define SCALAR_I64(v) I64(0, NULL, VI(v))
#define SCALAR_F32(v) F32(0, NULL, VF(v))

/* Runs n at opset; outputs are registered for release(). */
static av_status run_pool(const opt_node *n, int64_t opset, int n_in, const av__tensor *const *in,
                          int n_out, av__tensor **outs, av__threadpool *pool)
{
    err[0] = 0;
    av_status st = opt_run_pool(n, opset, n_in, in, n_out, outs, pool, err, sizeof err);
    for (int i = 0; i < n_out; i++)
        if (outs[i])
            reg[nreg++] = outs[i];
    return st;
}

static av_status run_n(const opt_node *n, int64_t opset, int n_in, const av__tensor *const *in,
                       int n_out, av__tensor **outs)
{
    return run_pool(n, opset, n_in, in, n_out, outs, NULL);
}

/* The single output, or NULL (and a recorded failure naming err) when the op failed. */
static av__tensor *run1_at(int line, const opt_node *n, int64_t opset, int n_in,
                           const av__tensor *const *in)
{
    av__tensor *out = NULL;
    av_status st = run_n(n, opset, n_in, in, 1, &out);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, line, n->op_type,
                av_status_string(st), err);
        check_failures++;
        return NULL;
    }
    return out;
}
#define RUN1(n, opset, n_in, in) run1_at(__LINE__, n, opset, n_in, in)

static int expect_shape(int line, const av__tensor *t, av__dtype dt, int nd, const int64_t *shape)
{
    if (!t)
        return 0;
    int ok = t->dtype == dt && t->ndim == nd;
    for (int d = 0; ok && d < nd; d++)
        ok = t->shape[d] == shape[d];
    if (!ok) {
        fprintf(stderr, "%s:%d: shape mismatch: got %s rank %d [", __FILE__, line,
                av__dtype_name(t->dtype), t->ndim);
        for (int d = 0; d < t->ndim; d++)
            fprintf(stderr, " %lld", (long long)t->shape[d]);
        fprintf(stderr, " ], want %s rank %d [", av__dtype_name(dt), nd);
        for (int d = 0; d < nd; d++)
            fprintf(stderr, " %lld", (long long)shape[d]);
        fprintf(stderr, " ]\n");
        check_failures++;
    }
    return ok;
}

static void expect_f32(int line, const av__tensor *t, int nd, const int64_t *shape,
                       const float *want, double tol)
{
    if (!expect_shape(line, t, AV__DT_F32, nd, shape))
        return;
    const float *got = t->data;
    for (int64_t i = 0; i < av__tensor_count(t); i++) {
        if (!(fabs((double)got[i] - want[i]) <= tol)) {
            fprintf(stderr, "%s:%d: element %lld: got %.9g, want %.9g (tol %g)\n", __FILE__, line,
                    (long long)i, got[i], want[i], tol);
            check_failures++;
            return;
        }
    }
}

static void expect_i64(int line, const av__tensor *t, av__dtype dt, int nd, const int64_t *shape,
                       const int64_t *want)
{
    if (!expect_shape(line, t, dt, nd, shape))
        return;
    for (int64_t i = 0; i < av__tensor_count(t); i++) {
        if (av__tensor_get_i64(t, i) != want[i]) {
            fprintf(stderr, "%s:%d: element %lld: got %lld, want %lld\n", __FILE__, line,
                    (long long)i, (long long)av__tensor_get_i64(t, i), (long long)want[i]);
            check_failures++;
            return;
        }
    }
}

#define EXPECT_F32(t, nd, shape, want) expect_f32(__LINE__, t, nd, shape, want, 1e-5)
#define EXPECT_F32_TOL(t, nd, shape, want, tol) expect_f32(__LINE__, t, nd, shape, want, tol)
#define EXPECT_I64(t, nd, shape, want) expect_i64(__LINE__, t, AV__DT_I64, nd, shape, want)
#define EXPECT_INT(t, dt, nd, shape, want) expect_i64(__LINE__, t, dt, nd, shape, want)

/* Expects the op to fail with `status` and a non-empty message. */
static void expect_fail_at(int line, const opt_node *n, int64_t opset, int n_in,
                           const av__tensor *const *in, int n_out, av_status status)
{
    av__tensor *outs[16];
    av_status st = run_n(n, opset, n_in, in, n_out, outs);
    if (st != status || err[0] == 0) {
        fprintf(stderr, "%s:%d: %s: want status %s with a message, got %s \"%s\"\n", __FILE__,
                line, n->op_type, av_status_string(status), av_status_string(st), err);
        check_failures++;
    }
}
#define EXPECT_FAIL(n, opset, n_in, in, status)                                                    \
    expect_fail_at(__LINE__, n, opset, n_in, in, 1, status)

static const float *iota_f32(int64_t n, float start)
{
    static float buf[4096];
    for (int64_t i = 0; i < n; i++)
        buf[i] = start + (float)i;
    return buf;
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size --------------------------------------- */

static void test_reshape(void)
{
    const av__tensor *x = F32(3, S(2, 3, 4), iota_f32(24, 0));
    opt_node *n = node("Reshape");
    av__tensor *y = RUN1(n, 14, 2, IN(x, I64(1, S(4), VI(2, 0, 1, -1))));
    EXPECT_F32(y, 4, S(2, 3, 1, 4), iota_f32(24, 0));
    y = RUN1(n, 14, 2, IN(x, I64(1, S(3), VI(-1, 2, 2))));
    expect_shape(__LINE__, y, AV__DT_F32, 3, S(6, 2, 2));
    y = RUN1(n, 13, 2, IN(x, I64(1, S(1), VI(24))));
    EXPECT_F32(y, 1, S(24), iota_f32(24, 0));

    /* allowzero: 0 is a literal zero (test_reshape_allowzero_reordered) */
    opt_node *az = node("Reshape");
    opt_attr_int(az, "allowzero", 1);
    y = RUN1(az, 14, 2, IN(F32(3, S(0, 3, 4), NULL), I64(1, S(3), VI(3, 4, 0))));
    expect_shape(__LINE__, y, AV__DT_F32, 3, S(3, 4, 0));
    /* before opset 14 allowzero does not exist: 0 copies */
    y = RUN1(az, 13, 2, IN(x, I64(1, S(3), VI(0, 0, 4))));
    expect_shape(__LINE__, y, AV__DT_F32, 3, S(2, 3, 4));

    /* opsets 1-4: the shape attribute */
    opt_node *old = node("Reshape");
    opt_attr_ints(old, "shape", 2, VI(4, -1));
    y = RUN1(old, 4, 1, IN(x));
    EXPECT_F32(y, 2, S(4, 6), iota_f32(24, 0));

    /* scalar <-> [1] */
    y = RUN1(n, 14, 2, IN(SCALAR_F32(7.0f), I64(1, S(1), VI(1))));
    EXPECT_F32(y, 1, S(1), VF(7.0f));
    y = RUN1(n, 14, 2, IN(F32(1, S(1), VF(7.0f)), I64(1, S(0), NULL)));
    EXPECT_F32(y, 0, NULL, VF(7.0f));

    EXPECT_FAIL(n, 14, 2, IN(x, I64(1, S(2), VI(5, 5))), AV_STATUS_FORMAT);      /* 25 != 24 */
    EXPECT_FAIL(n, 14, 2, IN(x, I64(1, S(2), VI(-1, -1))), AV_STATUS_FORMAT);    /* two -1 */
    EXPECT_FAIL(n, 14, 2, IN(x, I64(1, S(2), VI(5, -1))), AV_STATUS_FORMAT);     /* 24 % 5 */
    EXPECT_FAIL(n, 14, 2, IN(x, I64(1, S(2), VI(-2, 12))), AV_STATUS_FORMAT);    /* -2 */
    EXPECT_FAIL(n, 14, 2, IN(x, I64(1, S(4), VI(1, 1, 1, 0))), AV_STATUS_FORMAT); /* 0 past rank */
    EXPECT_FAIL(az, 14, 2, IN(x, I64(1, S(2), VI(0, -1))), AV_STATUS_FORMAT);    /* 0 and -1 */
    EXPECT_FAIL(n, 14, 2, IN(x, F32(1, S(1), VF(24))), AV_STATUS_FORMAT);        /* float shape */
    release();
}

static void test_flatten(void)
{
    const av__tensor *x = F32(4, S(2, 3, 4, 5), iota_f32(120, 0));
    static const struct { int64_t axis; int64_t a, b; } cases[] = {
        {0, 1, 120}, {1, 2, 60}, {2, 6, 20}, {3, 24, 5}, {4, 120, 1}, {-1, 24, 5}, {-4, 1, 120}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opt_node *n = node("Flatten");
        opt_attr_int(n, "axis", cases[i].axis);
        av__tensor *y = RUN1(n, 13, 1, IN(x));
        EXPECT_F32(y, 2, S(cases[i].a, cases[i].b), iota_f32(120, 0));
    }
    opt_node *d = node("Flatten"); /* default axis 1 */
    expect_shape(__LINE__, RUN1(d, 13, 1, IN(x)), AV__DT_F32, 2, S(2, 60));
    opt_node *bad = node("Flatten");
    opt_attr_int(bad, "axis", 5);
    EXPECT_FAIL(bad, 13, 1, IN(x), AV_STATUS_FORMAT);
    release();
}

static void test_squeeze_unsqueeze(void)
{
    const av__tensor *x = F32(4, S(1, 3, 1, 5), iota_f32(15, 0));
    /* opset 13: axes input (test_squeeze_negative_axes) */
    opt_node *sq = node("Squeeze");
    av__tensor *y = RUN1(sq, 13, 2, IN(x, I64(1, S(1), VI(-2))));
    EXPECT_F32(y, 3, S(1, 3, 5), iota_f32(15, 0));
    /* no axes: every 1 goes */
    y = RUN1(sq, 13, 1, IN(x));
    EXPECT_F32(y, 2, S(3, 5), iota_f32(15, 0));
    /* opset 11: axes attribute */
    opt_node *sq11 = node("Squeeze");
    opt_attr_ints(sq11, "axes", 2, VI(0, 2));
    y = RUN1(sq11, 11, 1, IN(x));
    expect_shape(__LINE__, y, AV__DT_F32, 2, S(3, 5));
    EXPECT_FAIL(sq, 13, 2, IN(x, I64(1, S(1), VI(1))), AV_STATUS_FORMAT);  /* size 3 */
    EXPECT_FAIL(sq, 13, 2, IN(x, I64(1, S(1), VI(4))), AV_STATUS_FORMAT);  /* out of range */
    EXPECT_FAIL(sq, 13, 2, IN(x, I64(1, S(2), VI(0, -4))), AV_STATUS_FORMAT); /* repeated */

    const av__tensor *z = F32(3, S(3, 4, 5), iota_f32(60, 0));
    opt_node *un = node("Unsqueeze");
    /* test_unsqueeze_unsorted_axes */
    y = RUN1(un, 13, 2, IN(z, I64(1, S(3), VI(5, 4, 2))));
    EXPECT_F32(y, 6, S(3, 4, 1, 5, 1, 1), iota_f32(60, 0));
    y = RUN1(un, 13, 2, IN(z, I64(1, S(1), VI(-1))));
    expect_shape(__LINE__, y, AV__DT_F32, 4, S(3, 4, 5, 1));
    opt_node *un11 = node("Unsqueeze");
    opt_attr_ints(un11, "axes", 1, VI(3)); /* test_unsqueeze_axis_3 (opset 11) */
    expect_shape(__LINE__, RUN1(un11, 11, 1, IN(z)), AV__DT_F32, 4, S(3, 4, 5, 1));
    y = RUN1(un, 13, 2, IN(SCALAR_F32(2.0f), I64(1, S(1), VI(0))));
    EXPECT_F32(y, 1, S(1), VF(2.0f));
    EXPECT_FAIL(un, 13, 2, IN(z, I64(1, S(1), VI(4))), AV_STATUS_FORMAT);
    EXPECT_FAIL(un, 13, 2, IN(z, I64(1, S(2), VI(1, 1))), AV_STATUS_FORMAT);
    EXPECT_FAIL(un, 13, 1, IN(z), AV_STATUS_FORMAT); /* axes missing */
    release();
}

static void test_shape_size(void)
{
    const av__tensor *x = F32(3, S(3, 4, 5), NULL);
    av__tensor *y = RUN1(node("Shape"), 15, 1, IN(x));
    EXPECT_I64(y, 1, S(3), VI(3, 4, 5));
    static const struct { int64_t start, end; int has_s, has_e; int n; int64_t v[3]; } cases[] = {
        {1, 0, 1, 0, 2, {4, 5}},     {0, 1, 0, 1, 1, {3}},       {0, -1, 0, 1, 2, {3, 4}},
        {1, 2, 1, 1, 1, {4}},        {-1, 0, 1, 0, 1, {5}},      {-10, 0, 1, 0, 3, {3, 4, 5}},
        {0, 10, 0, 1, 3, {3, 4, 5}}, {2, 1, 1, 1, 0, {0}}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opt_node *n = node("Shape");
        if (cases[i].has_s)
            opt_attr_int(n, "start", cases[i].start);
        if (cases[i].has_e)
            opt_attr_int(n, "end", cases[i].end);
        EXPECT_I64(RUN1(n, 15, 1, IN(x)), 1, S(cases[i].n), cases[i].v);
    }
    opt_node *s13 = node("Shape"); /* start/end ignored before opset 15 */
    opt_attr_int(s13, "start", 1);
    EXPECT_I64(RUN1(s13, 13, 1, IN(x)), 1, S(3), VI(3, 4, 5));
    EXPECT_I64(RUN1(node("Shape"), 15, 1, IN(SCALAR_F32(1))), 1, S(0), NULL);
    EXPECT_I64(RUN1(node("Size"), 13, 1, IN(x)), 0, NULL, VI(60));
    EXPECT_I64(RUN1(node("Size"), 13, 1, IN(F32(2, S(0, 7), NULL))), 0, NULL, VI(0));
    release();
}

/* ---- Transpose, Slice, Concat, Split, Expand, Tile ------------------------------------------- */

/* y = transpose(x, perm) element by element. */
static void naive_transpose(const float *x, const int64_t *shape, int nd, const int *perm, float *y)
{
    int64_t xs[8], ys[8], oshape[8], n = 1;
    for (int d = nd - 1, s = 1; d >= 0; d--) {
        xs[d] = s;
        s *= (int)shape[d];
    }
    for (int d = 0; d < nd; d++) {
        oshape[d] = shape[perm[d]];
        n *= oshape[d];
    }
    for (int d = nd - 1, s = 1; d >= 0; d--) {
        ys[d] = s;
        s *= (int)oshape[d];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++)
            off += (i / ys[d] % oshape[d]) * xs[perm[d]];
        y[i] = x[off];
    }
}

static void test_transpose(av__threadpool *pool)
{
    /* default: reversed dims */
    const av__tensor *x = F32(2, S(2, 3), VF(1, 2, 3, 4, 5, 6));
    av__tensor *y = RUN1(node("Transpose"), 13, 1, IN(x));
    EXPECT_F32(y, 2, S(3, 2), VF(1, 4, 2, 5, 3, 6));
    /* int64 and scalar */
    EXPECT_I64(RUN1(node("Transpose"), 13, 1, IN(I64(2, S(1, 3), VI(7, 8, 9)))), 2, S(3, 1),
               VI(7, 8, 9));
    EXPECT_F32(RUN1(node("Transpose"), 13, 1, IN(SCALAR_F32(4))), 0, NULL, VF(4));

    /* all permutations of awkward 3-D and 4-D shapes against the naive reference, with the
     * tiled path (big enough dims), merges (size-1 dims) and the pool */
    static const int64_t shapes[][4] = {
        {3, 67, 129, 1}, {5, 1, 33, 17}, {2, 3, 4, 5}, {64, 64, 3, 2}, {3, 257, 130, 1}};
    static const int perms4[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 1, 3}, {0, 3, 1, 2},
                                    {2, 0, 3, 1}, {1, 3, 2, 0}, {0, 1, 3, 2}};
    static float xb[110000], want[110000];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t n = shapes[s][0] * shapes[s][1] * shapes[s][2] * shapes[s][3];
        opt_fill_random(xb, n, 11 + s, -1, 1);
        const av__tensor *xt = F32(4, shapes[s], xb);
        for (size_t p = 0; p < sizeof perms4 / sizeof perms4[0]; p++) {
            opt_node *tn = node("Transpose");
            int64_t perm64[4];
            for (int d = 0; d < 4; d++)
                perm64[d] = perms4[p][d];
            opt_attr_ints(tn, "perm", 4, perm64);
            naive_transpose(xb, shapes[s], 4, perms4[p], want);
            av__tensor *out = NULL;
            CHECK_INT(run_pool(tn, 13, 1, IN(xt), 1, &out, p % 2 ? pool : NULL), AV_STATUS_OK);
            if (out && memcmp(out->data, want, (size_t)n * sizeof(float)) != 0) {
                fprintf(stderr, "transpose shape %zu perm %zu (seed %zu) differs from reference\n",
                        s, p, 11 + s);
                check_failures++;
            }
        }
        release();
    }
    /* 2-byte elements through the tiled path */
    static uint16_t h[40 * 50];
    for (int i = 0; i < 40 * 50; i++)
        h[i] = (uint16_t)i;
    const av__tensor *ht = keep(opt_tensor(AV__DT_F16, 2, S(40, 50), h));
    av__tensor *ho = RUN1(node("Transpose"), 13, 1, IN(ht));
    int bad = 0;
    for (int i = 0; ho && i < 50; i++)
        for (int j = 0; j < 40; j++)
            bad += ((uint16_t *)ho->data)[i * 40 + j] != h[j * 50 + i];
    CHECK_INT(bad, 0);

    x = F32(2, S(2, 3), VF(1, 2, 3, 4, 5, 6));
    opt_node *bp = node("Transpose");
    opt_attr_ints(bp, "perm", 2, VI(0, 0));
    EXPECT_FAIL(bp, 13, 1, IN(x), AV_STATUS_FORMAT);
    opt_node *bl = node("Transpose");
    opt_attr_ints(bl, "perm", 3, VI(0, 1, 2));
    EXPECT_FAIL(bl, 13, 1, IN(x), AV_STATUS_FORMAT);
    release();
}

/* Reference Slice on one axis of a 3-D tensor, all four values given. */
static int64_t naive_slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *idx)
{
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    int64_t n = 0;
    if (step > 0) {
        start = start < 0 ? 0 : start > dim ? dim : start;
        end = end < 0 ? 0 : end > dim ? dim : end;
        for (int64_t i = start; i < end; i += step) {
            idx[n++] = i;
            if (i > INT64_MAX - step)
                break;
        }
    } else {
        start = start < 0 ? 0 : start > dim - 1 ? dim - 1 : start;
        end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
        for (int64_t i = start; i > end; i += step) {
            idx[n++] = i;
            if (i < INT64_MIN - step)
                break;
        }
    }
    return n;
}

static void test_slice(av__threadpool *pool)
{
    const av__tensor *x = F32(2, S(3, 4), iota_f32(12, 0));
    opt_node *n = node("Slice");
    /* opset 13 inputs: rows 0..2, columns 3 down to 1 (negative step) */
    av__tensor *y = RUN1(n, 13, 5, IN(x, I64(1, S(2), VI(0, 3)), I64(1, S(2), VI(2, 0)),
                                      I64(1, S(2), VI(0, 1)), I64(1, S(2), VI(1, -1))));
    EXPECT_F32(y, 2, S(2, 3), VF(3, 2, 1, 7, 6, 5));
    /* INT64_MAX end, negative axis, default steps */
    y = RUN1(n, 13, 4,
             IN(x, I64(1, S(1), VI(1)), I64(1, S(1), VI(INT64_MAX)), I64(1, S(1), VI(-1))));
    EXPECT_F32(y, 2, S(3, 3), VF(1, 2, 3, 5, 6, 7, 9, 10, 11));
    /* reverse everything: start -1, end INT64_MIN, step -1 */
    y = RUN1(n, 13, 5, IN(x, I64(1, S(1), VI(-1)), I64(1, S(1), VI(INT64_MIN)), I64(1, S(1), VI(1)),
                          I64(1, S(1), VI(-1))));
    EXPECT_F32(y, 2, S(3, 4), VF(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8));
    /* step -2 from the end, int32 parameters */
    y = RUN1(n, 13, 5,
             IN(x, I32(1, S(1), 100), I32(1, S(1), -100), I32(1, S(1), 1), I32(1, S(1), -2)));
    EXPECT_F32(y, 2, S(3, 2), VF(3, 1, 7, 5, 11, 9));
    /* start out of bounds: empty (test_slice_start_out_of_bounds) */
    y = RUN1(n, 13, 4, IN(x, I64(1, S(1), VI(1000)), I64(1, S(1), VI(1000)), I64(1, S(1), VI(1))));
    expect_shape(__LINE__, y, AV__DT_F32, 2, S(3, 0));
    /* test_slice_neg_steps shape */
    y = RUN1(n, 13, 5, IN(F32(3, S(20, 10, 5), NULL), I64(1, S(3), VI(20, 10, 4)),
                          I64(1, S(3), VI(0, 0, 1)), I64(1, S(3), VI(0, 1, 2)),
                          I64(1, S(3), VI(-1, -3, -2))));
    expect_shape(__LINE__, y, AV__DT_F32, 3, S(19, 3, 2));

    /* opsets 1-9: attributes */
    opt_node *o1 = node("Slice");
    opt_attr_ints(o1, "starts", 2, VI(1, 0));
    opt_attr_ints(o1, "ends", 2, VI(1000, -1));
    y = RUN1(o1, 9, 1, IN(x));
    EXPECT_F32(y, 2, S(2, 3), VF(4, 5, 6, 8, 9, 10));
    opt_node *o2 = node("Slice");
    opt_attr_ints(o2, "starts", 1, VI(2));
    opt_attr_ints(o2, "ends", 1, VI(4));
    opt_attr_ints(o2, "axes", 1, VI(1));
    EXPECT_F32(RUN1(o2, 1, 1, IN(x)), 2, S(3, 2), VF(2, 3, 6, 7, 10, 11));

    EXPECT_FAIL(n, 13, 5, IN(x, I64(1, S(1), VI(0)), I64(1, S(1), VI(2)), I64(1, S(1), VI(0)),
                             I64(1, S(1), VI(0))), AV_STATUS_FORMAT); /* step 0 */
    EXPECT_FAIL(n, 13, 4, IN(x, I64(1, S(1), VI(0)), I64(1, S(1), VI(2)), I64(1, S(1), VI(2))),
                AV_STATUS_FORMAT); /* axis 2 of rank 2 */
    EXPECT_FAIL(n, 13, 3, IN(x, I64(1, S(2), VI(0, 0)), I64(1, S(1), VI(2))), AV_STATUS_FORMAT);
    release();

    /* random slices of a 3-D tensor against the reference, with the pool on odd trials */
    static float xb[13 * 17 * 19], want[13 * 17 * 19];
    const int64_t shape[3] = {13, 17, 19};
    opt_fill_random(xb, 13 * 17 * 19, 5, -1, 1);
    uint64_t seed = 77;
    for (int trial = 0; trial < 150; trial++) {
        const av__tensor *xt = F32(3, shape, xb);
        int64_t st[3], en[3], sp[3], idx[3][64], len[3];
        for (int d = 0; d < 3; d++) {
            uint64_t r = av__rng_u64(seed, (uint64_t)(trial * 3 + d));
            int64_t dim = shape[d];
            st[d] = (int64_t)(r % (uint64_t)(3 * dim)) - dim - 3;
            en[d] = (int64_t)((r >> 16) % (uint64_t)(3 * dim)) - dim - 3;
            sp[d] = (int64_t)((r >> 32) % 7) - 3;
            if (sp[d] == 0)
                sp[d] = (r >> 40) & 1 ? INT64_MAX : INT64_MIN + 1;
            if ((r >> 48) % 5 == 0)
                en[d] = sp[d] > 0 ? INT64_MAX : INT64_MIN;
            len[d] = naive_slice_axis(dim, st[d], en[d], sp[d], idx[d]);
        }
        int64_t k = 0;
        for (int64_t a = 0; a < len[0]; a++)
            for (int64_t b = 0; b < len[1]; b++)
                for (int64_t c = 0; c < len[2]; c++)
                    want[k++] = xb[(idx[0][a] * 17 + idx[1][b]) * 19 + idx[2][c]];
        opt_node *sn = node("Slice");
        av__tensor *out = NULL;
        av_status s = run_pool(sn, 13, 5, IN(xt, I64(1, S(3), st), I64(1, S(3), en),
                                             I64(1, S(3), VI(0, 1, 2)), I64(1, S(3), sp)),
                               1, &out, trial % 2 ? pool : NULL);
        CHECK_INT(s, AV_STATUS_OK);
        if (out && (out->shape[0] != len[0] || out->shape[1] != len[1] || out->shape[2] != len[2] ||
                    memcmp(out->data, want, (size_t)k * sizeof(float)) != 0)) {
            fprintf(stderr, "slice trial %d (seed %llu) differs from reference\n", trial,
                    (unsigned long long)seed);
            check_failures++;
        }
        release();
    }

    /* one big slice (step 2 on rows, reversed columns) through the pool */
    static float big[2 * 300 * 257], bwant[2 * 150 * 257];
    opt_fill_random(big, 2 * 300 * 257, 6, -1, 1);
    int64_t k = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 1; b < 300; b += 2)
            for (int c = 256; c >= 0; c--)
                bwant[k++] = big[(a * 300 + b) * 257 + c];
    av__tensor *out = NULL;
    CHECK_INT(run_pool(node("Slice"), 13, 5,
                       IN(F32(3, S(2, 300, 257), big), I64(1, S(2), VI(1, -1)),
                          I64(1, S(2), VI(300, INT64_MIN)), I64(1, S(2), VI(1, 2)),
                          I64(1, S(2), VI(2, -1))),
                       1, &out, pool),
              AV_STATUS_OK);
    EXPECT_F32_TOL(out, 3, S(2, 150, 257), bwant, 0);
    release();
}

static void test_concat(av__threadpool *pool)
{
    const av__tensor *a = F32(2, S(2, 2), VF(1, 2, 3, 4)), *b = F32(2, S(2, 2), VF(5, 6, 7, 8));
    opt_node *c0 = node("Concat");
    opt_attr_int(c0, "axis", 0);
    EXPECT_F32(RUN1(c0, 13, 2, IN(a, b)), 2, S(4, 2), VF(1, 2, 3, 4, 5, 6, 7, 8));
    opt_node *c1 = node("Concat");
    opt_attr_int(c1, "axis", -1);
    EXPECT_F32(RUN1(c1, 13, 2, IN(a, b)), 2, S(2, 4), VF(1, 2, 5, 6, 3, 4, 7, 8));
    /* an empty input, three inputs, int64 */
    EXPECT_F32(RUN1(c1, 13, 3, IN(a, F32(2, S(2, 0), NULL), b)), 2, S(2, 4),
               VF(1, 2, 5, 6, 3, 4, 7, 8));
    EXPECT_I64(RUN1(c0, 13, 3, IN(I64(1, S(1), VI(1)), I64(1, S(0), NULL), I64(1, S(2), VI(2, 3)))),
               1, S(3), VI(1, 2, 3));
    /* all empty */
    expect_shape(__LINE__, RUN1(c0, 13, 2, IN(F32(1, S(0), NULL), F32(1, S(0), NULL))), AV__DT_F32,
                 1, S(0));

    EXPECT_FAIL(c0, 13, 2, IN(a, F32(2, S(2, 3), NULL)), AV_STATUS_FORMAT);       /* dims differ */
    EXPECT_FAIL(c0, 13, 2, IN(a, I64(2, S(2, 2), VI(1, 2, 3, 4))), AV_STATUS_FORMAT); /* dtypes */
    EXPECT_FAIL(c0, 13, 2, IN(a, F32(1, S(4), NULL)), AV_STATUS_FORMAT);          /* ranks */
    EXPECT_FAIL(node("Concat"), 13, 2, IN(a, b), AV_STATUS_FORMAT);               /* no axis */
    opt_node *c3 = node("Concat");
    opt_attr_int(c3, "axis", 2);
    EXPECT_FAIL(c3, 13, 2, IN(a, b), AV_STATUS_FORMAT);
    release();

    /* big concat along each axis with the pool, against a naive reference */
    static float xa[40 * 50 * 60], xb2[40 * 50 * 60], got_ref[2 * 40 * 50 * 60];
    opt_fill_random(xa, 40 * 50 * 60, 1, -1, 1);
    opt_fill_random(xb2, 40 * 50 * 60, 2, -1, 1);
    for (int axis = 0; axis < 3; axis++) {
        int64_t sa[3] = {40, 50, 60};
        const av__tensor *ta = F32(3, sa, xa), *tb = F32(3, sa, xb2);
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < axis; d++)
            outer *= sa[d];
        for (int d = axis; d < 3; d++)
            inner *= sa[d];
        for (int64_t o = 0; o < outer; o++) {
            memcpy(got_ref + o * 2 * inner, xa + o * inner, (size_t)inner * sizeof(float));
            memcpy(got_ref + o * 2 * inner + inner, xb2 + o * inner, (size_t)inner * sizeof(float));
        }
        opt_node *cn = node("Concat");
        opt_attr_int(cn, "axis", axis);
        av__tensor *out = NULL;
        CHECK_INT(run_pool(cn, 13, 2, IN(ta, tb), 1, &out, pool), AV_STATUS_OK);
        CHECK(out && memcmp(out->data, got_ref, sizeof got_ref) == 0);
        release();
    }
}

static void test_split(void)
{
    const av__tensor *x = F32(2, S(2, 6), iota_f32(12, 1));
    av__tensor *o[3];
    /* opset 13: equal parts and the split input (test_split_variable_parts_2d) */
    opt_node *eq = node("Split");
    opt_attr_int(eq, "axis", 1);
    CHECK_INT(run_n(eq, 13, 1, IN(x), 2, o), AV_STATUS_OK);
    EXPECT_F32(o[0], 2, S(2, 3), VF(1, 2, 3, 7, 8, 9));
    EXPECT_F32(o[1], 2, S(2, 3), VF(4, 5, 6, 10, 11, 12));
    CHECK_INT(run_n(eq, 13, 2, IN(x, I64(1, S(2), VI(2, 4))), 2, o), AV_STATUS_OK);
    EXPECT_F32(o[0], 2, S(2, 2), VF(1, 2, 7, 8));
    EXPECT_F32(o[1], 2, S(2, 4), VF(3, 4, 5, 6, 9, 10, 11, 12));
    /* opset 11: the split attribute, default axis 0 */
    const av__tensor *v = F32(1, S(6), iota_f32(6, 1));
    opt_node *at = node("Split");
    opt_attr_ints(at, "split", 3, VI(1, 0, 5));
    CHECK_INT(run_n(at, 11, 1, IN(v), 3, o), AV_STATUS_OK);
    EXPECT_F32(o[0], 1, S(1), VF(1));
    expect_shape(__LINE__, o[1], AV__DT_F32, 1, S(0));
    EXPECT_F32(o[2], 1, S(5), VF(2, 3, 4, 5, 6));
    /* opset 18: num_outputs with an uneven last chunk: 7 -> 3, 3, 1 */
    const av__tensor *v7 = F32(1, S(7), iota_f32(7, 1));
    opt_node *no = node("Split");
    opt_attr_int(no, "num_outputs", 3);
    CHECK_INT(run_n(no, 18, 1, IN(v7), 3, o), AV_STATUS_OK);
    EXPECT_F32(o[0], 1, S(3), VF(1, 2, 3));
    EXPECT_F32(o[1], 1, S(3), VF(4, 5, 6));
    EXPECT_F32(o[2], 1, S(1), VF(7));
    /* empty input, zero splits (test_split_zero_size_splits) */
    CHECK_INT(run_n(node("Split"), 13, 2, IN(F32(1, S(0), NULL), I64(1, S(3), VI(0, 0, 0))), 3, o),
              AV_STATUS_OK);
    expect_shape(__LINE__, o[2], AV__DT_F32, 1, S(0));

    av__tensor *bad[3];
    CHECK_INT(run_n(eq, 13, 1, IN(F32(2, S(2, 5), NULL)), 2, bad), AV_STATUS_FORMAT); /* 5 / 2 */
    CHECK(err[0] != 0);
    CHECK_INT(run_n(eq, 13, 2, IN(x, I64(1, S(2), VI(2, 3))), 2, bad),
              AV_STATUS_FORMAT); /* sum 5 */
    CHECK_INT(run_n(eq, 13, 2, IN(x, I64(1, S(2), VI(7, -1))), 2, bad), AV_STATUS_FORMAT);
    CHECK_INT(run_n(eq, 13, 2, IN(x, I64(1, S(3), VI(2, 2, 2))), 2, bad),
              AV_STATUS_FORMAT);                                   /* count */
    CHECK_INT(run_n(no, 18, 1, IN(v7), 2, bad), AV_STATUS_FORMAT); /* num_outputs != outputs */
    CHECK_INT(run_n(no, 18, 1, IN(F32(1, S(1), VF(1))), 3, bad), AV_STATUS_FORMAT); /* 1 into 3 */
    release();
}

static void test_expand_tile(av__threadpool *pool)
{
    /* test_expand_dim_changed: [3,1] to [2,1,6] */
    const av__tensor *x = F32(2, S(3, 1), VF(1, 2, 3));
    av__tensor *y = RUN1(node("Expand"), 13, 2, IN(x, I64(1, S(3), VI(2, 1, 6))));
    float want[36];
    for (int i = 0; i < 36; i++)
        want[i] = (float)(1 + (i / 6) % 3);
    EXPECT_F32(y, 3, S(2, 3, 6), want);
    /* test_expand_dim_unchanged: shape [3,4] */
    y = RUN1(node("Expand"), 13, 2, IN(x, I64(1, S(2), VI(3, 4))));
    EXPECT_F32(y, 2, S(3, 4), VF(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    /* a smaller target: the input's dims stay; a middle broadcast */
    y = RUN1(node("Expand"), 13, 2, IN(F32(3, S(2, 1, 2), VF(1, 2, 3, 4)), I64(1, S(1), VI(1))));
    EXPECT_F32(y, 3, S(2, 1, 2), VF(1, 2, 3, 4));
    y = RUN1(node("Expand"), 13, 2,
             IN(F32(3, S(2, 1, 2), VF(1, 2, 3, 4)), I64(1, S(3), VI(2, 3, 2))));
    EXPECT_F32(y, 3, S(2, 3, 2), VF(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4));
    EXPECT_FAIL(node("Expand"), 13, 2, IN(x, I64(1, S(2), VI(2, 2))), AV_STATUS_FORMAT);
    EXPECT_FAIL(node("Expand"), 13, 2, IN(x, I64(1, S(2), VI(3, -4))), AV_STATUS_FORMAT);

    /* a big broadcast through the pool: [B,1,N] -> [B,8,N] */
    static float big[3 * 5000];
    opt_fill_random(big, 3 * 5000, 9, -1, 1);
    av__tensor *yb = NULL;
    CHECK_INT(run_pool(node("Expand"), 13, 2,
                       IN(F32(3, S(3, 1, 5000), big), I64(1, S(3), VI(3, 8, 5000))), 1, &yb, pool),
              AV_STATUS_OK);
    int bad = 0;
    for (int b = 0; yb && b < 3; b++)
        for (int c = 0; c < 8; c++)
            bad += memcmp((float *)yb->data + (b * 8 + c) * 5000, big + b * 5000,
                          5000 * sizeof(float)) != 0;
    CHECK_INT(bad, 0);

    /* Tile: test_tile_precomputed and an int64 case with a zero repeat */
    y = RUN1(node("Tile"), 13, 2, IN(F32(2, S(2, 2), VF(0, 1, 2, 3)), I64(1, S(2), VI(2, 2))));
    EXPECT_F32(y, 2, S(4, 4), VF(0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3));
    y = RUN1(node("Tile"), 13, 2, IN(F32(2, S(2, 3), iota_f32(6, 0)), I64(1, S(2), VI(1, 3))));
    EXPECT_F32(y, 2, S(2, 9), VF(0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5));
    av__tensor *yi = RUN1(node("Tile"), 13, 2, IN(I64(1, S(2), VI(5, 6)), I64(1, S(1), VI(0))));
    expect_shape(__LINE__, yi, AV__DT_I64, 1, S(0));
    EXPECT_FAIL(node("Tile"), 13, 2, IN(x, I64(1, S(1), VI(2))), AV_STATUS_FORMAT); /* length */
    EXPECT_FAIL(node("Tile"), 13, 2, IN(x, I64(1, S(2), VI(2, -1))),
                AV_STATUS_FORMAT); /* negative */
    release();
}

static void test_reverse_sequence(void)
{
    /* test_reversesequence_batch and _time */
    const av__tensor *x = F32(2, S(4, 4), iota_f32(16, 0));
    opt_node *rb = node("ReverseSequence");
    opt_attr_int(rb, "batch_axis", 0);
    opt_attr_int(rb, "time_axis", 1);
    EXPECT_F32(RUN1(rb, 10, 2, IN(x, I64(1, S(4), VI(1, 2, 3, 4)))), 2, S(4, 4),
               VF(0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12));
    const av__tensor *xt = F32(2, S(4, 4), VF(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    EXPECT_F32(RUN1(node("ReverseSequence"), 10, 2, IN(xt, I64(1, S(4), VI(4, 3, 2, 1)))), 2, S(4, 4),
               VF(3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15));
    EXPECT_FAIL(rb, 10, 2, IN(x, I64(1, S(4), VI(1, 2, 3, 5))), AV_STATUS_FORMAT); /* len > 4 */
    EXPECT_FAIL(rb, 10, 2, IN(x, I64(1, S(3), VI(1, 2, 3))), AV_STATUS_FORMAT);
    release();
}

static void test_depth_space(void)
{
    /* test_depthtospace_example (DCR) and _crd_mode_example */
    float x[48];
    for (int c = 0; c < 8; c++)
        for (int i = 0; i < 6; i++)
            x[c * 6 + i] = (float)(c * 9 + i);
    const av__tensor *xt = F32(4, S(1, 8, 2, 3), x);
    opt_node *dcr = node("DepthToSpace");
    opt_attr_int(dcr, "blocksize", 2);
    opt_attr_string(dcr, "mode", "DCR");
    EXPECT_F32(RUN1(dcr, 13, 1, IN(xt)), 4, S(1, 2, 4, 6),
               VF(0, 18, 1, 19, 2, 20, 36, 54, 37, 55, 38, 56, 3, 21, 4, 22, 5, 23, 39, 57, 40, 58,
                  41, 59, 9, 27, 10, 28, 11, 29, 45, 63, 46, 64, 47, 65, 12, 30, 13, 31, 14, 32, 48,
                  66, 49, 67, 50, 68));
    opt_node *crd = node("DepthToSpace");
    opt_attr_int(crd, "blocksize", 2);
    opt_attr_string(crd, "mode", "CRD");
    EXPECT_F32(RUN1(crd, 13, 1, IN(xt)), 4, S(1, 2, 4, 6),
               VF(0, 9, 1, 10, 2, 11, 18, 27, 19, 28, 20, 29, 3, 12, 4, 13, 5, 14, 21, 30, 22, 31,
                  23, 32, 36, 45, 37, 46, 38, 47, 54, 63, 55, 64, 56, 65, 39, 48, 40, 49, 41, 50,
                  57, 66, 58, 67, 59, 68));
    /* test_spacetodepth_example */
    opt_node *s2d = node("SpaceToDepth");
    opt_attr_int(s2d, "blocksize", 2);
    av__tensor *y = RUN1(s2d, 13, 1,
                         IN(F32(4, S(1, 1, 4, 6),
                                VF(0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15,
                                   21, 16, 22, 17, 23))));
    EXPECT_F32(y, 4, S(1, 4, 2, 3), iota_f32(24, 0));
    /* SpaceToDepth inverts DepthToSpace (DCR) */
    av__tensor *back = RUN1(s2d, 13, 1, IN(RUN1(dcr, 13, 1, IN(xt))));
    EXPECT_F32(back, 4, S(1, 8, 2, 3), x);
    EXPECT_FAIL(s2d, 13, 1, IN(F32(4, S(1, 1, 3, 4), NULL)), AV_STATUS_FORMAT);
    EXPECT_FAIL(dcr, 13, 1, IN(F32(4, S(1, 6, 2, 2), NULL)), AV_STATUS_FORMAT);
    EXPECT_FAIL(dcr, 13, 1, IN(F32(3, S(8, 2, 2), NULL)), AV_STATUS_FORMAT);
    release();
}

/* ---- Constant, ConstantOfShape, Range, EyeLike, Trilu ---------------------------------------- */

static void test_constants(void)
{
    av__tensor v = opt_tensor(AV__DT_I32, 2, S(2, 2), (const int32_t[]){1, 2, 3, 4});
    opt_node *c = node("Constant");
    opt_attr_tensor(c, "value", &v);
    opt_free_tensor_data(&v);
    EXPECT_INT(RUN1(c, 13, 0, NULL), AV__DT_I32, 2, S(2, 2), VI(1, 2, 3, 4));
    opt_node *cf = node("Constant");
    opt_attr_float(cf, "value_float", 2.5f);
    EXPECT_F32(RUN1(cf, 13, 0, NULL), 0, NULL, VF(2.5f));
    opt_node *cfs = node("Constant");
    opt_attr_floats(cfs, "value_floats", 3, VF(1, 2, 3));
    EXPECT_F32(RUN1(cfs, 13, 0, NULL), 1, S(3), VF(1, 2, 3));
    opt_node *ci = node("Constant");
    opt_attr_int(ci, "value_int", -7);
    EXPECT_I64(RUN1(ci, 13, 0, NULL), 0, NULL, VI(-7));
    opt_node *cis = node("Constant");
    opt_attr_ints(cis, "value_ints", 2, VI(4, 5));
    EXPECT_I64(RUN1(cis, 13, 0, NULL), 1, S(2), VI(4, 5));
    opt_node *sp = node("Constant");
    opt_attr_add(sp, "sparse_value", AV__ATTR_UNDEFINED);
    EXPECT_FAIL(sp, 13, 0, NULL, AV_STATUS_UNSUPPORTED);
    opt_node *st = node("Constant");
    opt_attr_string(st, "value_string", "hello");
    EXPECT_FAIL(st, 13, 0, NULL, AV_STATUS_UNSUPPORTED);
    EXPECT_FAIL(node("Constant"), 13, 0, NULL, AV_STATUS_FORMAT); /* no value */
    opt_node *two = node("Constant");
    opt_attr_int(two, "value_int", 1);
    opt_attr_float(two, "value_float", 1);
    EXPECT_FAIL(two, 13, 0, NULL, AV_STATUS_FORMAT);

    /* ConstantOfShape: default float 0; an int32 value; [0] shape -> scalar; a zero dim */
    EXPECT_F32(RUN1(node("ConstantOfShape"), 9, 1, IN(I64(1, S(2), VI(2, 3)))), 2, S(2, 3),
               VF(0, 0, 0, 0, 0, 0));
    av__tensor one = opt_tensor(AV__DT_I32, 1, S(1), (const int32_t[]){7});
    opt_node *cs = node("ConstantOfShape");
    opt_attr_tensor(cs, "value", &one);
    opt_free_tensor_data(&one);
    EXPECT_INT(RUN1(cs, 9, 1, IN(I64(1, S(3), VI(1, 2, 2)))), AV__DT_I32, 3, S(1, 2, 2),
               VI(7, 7, 7, 7));
    EXPECT_INT(RUN1(cs, 9, 1, IN(I64(1, S(0), NULL))), AV__DT_I32, 0, NULL, VI(7));
    expect_shape(__LINE__, RUN1(cs, 9, 1, IN(I64(1, S(1), VI(0)))), AV__DT_I32, 1, S(0));
    av__tensor f1 = opt_tensor(AV__DT_F32, 1, S(1), VF(1.5f));
    opt_node *cs2 = node("ConstantOfShape");
    opt_attr_tensor(cs2, "value", &f1);
    opt_free_tensor_data(&f1);
    EXPECT_F32(RUN1(cs2, 9, 1, IN(I64(1, S(1), VI(3)))), 1, S(3), VF(1.5f, 1.5f, 1.5f));
    EXPECT_FAIL(cs, 9, 1, IN(I64(1, S(2), VI(2, -1))), AV_STATUS_FORMAT);
    release();
}

static void test_range(void)
{
    /* test_range_float_type_positive_delta, test_range_int32_type_negative_delta */
    EXPECT_F32(RUN1(node("Range"), 11, 3, IN(SCALAR_F32(1), SCALAR_F32(5), SCALAR_F32(2))), 1, S(2),
               VF(1, 3));
    EXPECT_INT(RUN1(node("Range"), 11, 3,
                    IN(I32(0, NULL, 10), I32(0, NULL, 6), I32(0, NULL, -3))),
               AV__DT_I32, 1, S(2), VI(10, 7));
    EXPECT_I64(RUN1(node("Range"), 11, 3, IN(SCALAR_I64(0), SCALAR_I64(5), SCALAR_I64(1))), 1, S(5),
               VI(0, 1, 2, 3, 4));
    EXPECT_I64(RUN1(node("Range"), 11, 3, IN(SCALAR_I64(5), SCALAR_I64(0), SCALAR_I64(1))), 1, S(0),
               NULL);
    EXPECT_F32(RUN1(node("Range"), 11, 3, IN(SCALAR_F32(0), SCALAR_F32(1), SCALAR_F32(0.25f))), 1,
               S(4), VF(0, 0.25f, 0.5f, 0.75f));
    /* extreme int64 bounds: no overflow */
    EXPECT_I64(RUN1(node("Range"), 11, 3,
                    IN(SCALAR_I64(INT64_MIN), SCALAR_I64(INT64_MAX), SCALAR_I64(INT64_MAX))),
               1, S(3), VI(INT64_MIN, -1, INT64_MAX - 1));
    EXPECT_FAIL(node("Range"), 11, 3, IN(SCALAR_I64(0), SCALAR_I64(5), SCALAR_I64(0)),
                AV_STATUS_FORMAT);
    EXPECT_FAIL(node("Range"), 11, 3, IN(SCALAR_I64(0), SCALAR_F32(5), SCALAR_I64(1)),
                AV_STATUS_FORMAT);
    release();
}

static void test_eye_trilu(void)
{
    /* test_eyelike_populate_off_main_diagonal: int32 input, float output, k = 1 */
    opt_node *e = node("EyeLike");
    opt_attr_int(e, "dtype", AV__DT_F32);
    opt_attr_int(e, "k", 1);
    EXPECT_F32(RUN1(e, 9, 1, IN(keep(opt_tensor(AV__DT_I32, 2, S(4, 5), NULL)))), 2, S(4, 5),
               VF(0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1));
    opt_node *e2 = node("EyeLike");
    opt_attr_int(e2, "k", -2);
    EXPECT_I64(RUN1(e2, 9, 1, IN(I64(2, S(3, 2), NULL))), 2, S(3, 2), VI(0, 0, 0, 0, 1, 0));
    opt_node *e3 = node("EyeLike");
    opt_attr_int(e3, "k", INT64_MAX);
    EXPECT_I64(RUN1(e3, 9, 1, IN(I64(2, S(2, 2), NULL))), 2, S(2, 2), VI(0, 0, 0, 0));
    EXPECT_FAIL(node("EyeLike"), 9, 1, IN(F32(1, S(3), NULL)), AV_STATUS_FORMAT);

    /* Trilu: the official 4x5 matrix with k = 2 (triu) and k = -1 (tril) */
    const av__tensor *m =
        I64(2, S(4, 5), VI(5, 0, 3, 3, 7, 9, 3, 5, 2, 4, 7, 6, 8, 8, 1, 6, 7, 7, 8, 1));
    EXPECT_I64(RUN1(node("Trilu"), 14, 2, IN(m, SCALAR_I64(2))), 2, S(4, 5),
               VI(0, 0, 3, 3, 7, 0, 0, 0, 2, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0));
    opt_node *lo = node("Trilu");
    opt_attr_int(lo, "upper", 0);
    EXPECT_I64(RUN1(lo, 14, 2, IN(m, SCALAR_I64(-1))), 2, S(4, 5),
               VI(0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 7, 6, 0, 0, 0, 6, 7, 7, 0, 0));
    EXPECT_I64(RUN1(lo, 14, 1, IN(m)), 2, S(4, 5),
               VI(5, 0, 0, 0, 0, 9, 3, 0, 0, 0, 7, 6, 8, 0, 0, 6, 7, 7, 8, 0));
    static const int64_t zeros[20] = {0};
    EXPECT_I64(RUN1(lo, 14, 2, IN(m, SCALAR_I64(INT64_MIN))), 2, S(4, 5), zeros);
    /* batched 2x3x3 triu */
    EXPECT_F32(RUN1(node("Trilu"), 14, 1, IN(F32(3, S(2, 3, 3), iota_f32(18, 1)))), 3, S(2, 3, 3),
               VF(1, 2, 3, 0, 5, 6, 0, 0, 9, 10, 11, 12, 0, 14, 15, 0, 0, 18));
    expect_shape(__LINE__, RUN1(node("Trilu"), 14, 1, IN(F32(3, S(3, 0, 5), NULL))), AV__DT_F32, 3,
                 S(3, 0, 5));
    EXPECT_FAIL(node("Trilu"), 14, 1, IN(F32(1, S(3), NULL)), AV_STATUS_FORMAT);
    release();
}

/* ---- Gather, Scatter, OneHot ----------------------------------------------------------------- */

static void test_gather(av__threadpool *pool)
{
    const av__tensor *x = F32(2, S(3, 2), VF(1, 2, 3, 4, 5, 6));
    opt_node *g = node("Gather");
    EXPECT_F32(RUN1(g, 13, 2, IN(x, I64(2, S(2, 2), VI(0, 1, 1, 2)))), 3, S(2, 2, 2),
               VF(1, 2, 3, 4, 3, 4, 5, 6));
    /* negative index, scalar index (rank drops), int32 indices */
    EXPECT_F32(RUN1(g, 13, 2, IN(x, I64(1, S(2), VI(-1, 0)))), 2, S(2, 2), VF(5, 6, 1, 2));
    EXPECT_F32(RUN1(g, 13, 2, IN(x, SCALAR_I64(-3))), 1, S(2), VF(1, 2));
    opt_node *g1 = node("Gather");
    opt_attr_int(g1, "axis", 1);
    EXPECT_F32(RUN1(g1, 13, 2, IN(x, I32(1, S(3), 1, -2, 1))), 2, S(3, 3),
               VF(2, 1, 2, 4, 3, 4, 6, 5, 6));
    expect_shape(__LINE__, RUN1(g, 13, 2, IN(x, I64(1, S(0), NULL))), AV__DT_F32, 2, S(0, 2));
    /* out of range: a data error from run(), not a crash */
    EXPECT_FAIL(g, 13, 2, IN(x, I64(1, S(2), VI(0, 3))), AV_STATUS_FORMAT);
    CHECK(strstr(err, "3") != NULL);
    EXPECT_FAIL(g, 13, 2, IN(x, I64(1, S(1), VI(-4))), AV_STATUS_FORMAT);
    EXPECT_FAIL(g, 13, 2, IN(x, F32(1, S(1), VF(0))), AV_STATUS_FORMAT); /* float indices */
    opt_node *g2 = node("Gather");
    opt_attr_int(g2, "axis", 2);
    EXPECT_FAIL(g2, 13, 2, IN(x, SCALAR_I64(0)), AV_STATUS_FORMAT);

    /* embedding-like gather through the pool */
    static float table[1000 * 64];
    opt_fill_random(table, 1000 * 64, 3, -1, 1);
    int64_t idx[5000];
    for (int i = 0; i < 5000; i++)
        idx[i] = (int64_t)(av__rng_u64(4, (uint64_t)i) % 2000) - 1000;
    av__tensor *y = NULL;
    CHECK_INT(run_pool(g, 13, 2, IN(F32(2, S(1000, 64), table), I64(1, S(5000), idx)), 1, &y, pool),
              AV_STATUS_OK);
    int bad = 0;
    for (int i = 0; y && i < 5000; i++) {
        int64_t r = idx[i] < 0 ? idx[i] + 1000 : idx[i];
        bad += memcmp((float *)y->data + i * 64, table + r * 64, 64 * sizeof(float)) != 0;
    }
    CHECK_INT(bad, 0);

    /* GatherElements: test_gather_elements_negative_indices and axis 1 */
    const av__tensor *x3 = F32(2, S(3, 3), iota_f32(9, 1));
    opt_node *ge = node("GatherElements");
    EXPECT_F32(RUN1(ge, 13, 2, IN(x3, I64(2, S(2, 3), VI(-1, -2, 0, -2, 0, 0)))), 2, S(2, 3),
               VF(7, 5, 3, 4, 2, 3));
    opt_node *ge1 = node("GatherElements");
    opt_attr_int(ge1, "axis", 1);
    EXPECT_F32(
        RUN1(ge1, 13, 2, IN(F32(2, S(2, 2), VF(1, 2, 3, 4)), I64(2, S(2, 2), VI(0, 0, 1, 0)))), 2,
        S(2, 2), VF(1, 1, 4, 3));
    EXPECT_FAIL(ge, 13, 2, IN(x3, I64(2, S(1, 1), VI(3))), AV_STATUS_FORMAT);
    EXPECT_FAIL(ge, 13, 2, IN(x3, I64(1, S(1), VI(0))), AV_STATUS_FORMAT); /* rank */

    /* GatherND: examples of the spec, incl. batch_dims 1 */
    opt_node *nd = node("GatherND");
    EXPECT_INT(RUN1(nd, 13, 2, IN(I32(2, S(2, 2), 0, 1, 2, 3), I64(2, S(2, 2), VI(0, 0, 1, 1)))),
               AV__DT_I32, 1, S(2), VI(0, 3));
    EXPECT_INT(RUN1(nd, 13, 2, IN(I32(2, S(2, 2), 0, 1, 2, 3), I64(2, S(2, 1), VI(1, 0)))),
               AV__DT_I32, 2, S(2, 2), VI(2, 3, 0, 1));
    EXPECT_INT(
        RUN1(nd, 13, 2,
             IN(I32(3, S(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7), I64(3, S(2, 1, 2), VI(0, 1, 1, 0)))),
        AV__DT_I32, 3, S(2, 1, 2), VI(2, 3, 4, 5));
    opt_node *ndb = node("GatherND");
    opt_attr_int(ndb, "batch_dims", 1);
    EXPECT_INT(
        RUN1(ndb, 13, 2, IN(I32(3, S(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7), I64(2, S(2, 1), VI(1, 0)))),
        AV__DT_I32, 2, S(2, 2), VI(2, 3, 4, 5));
    EXPECT_FAIL(nd, 13, 2, IN(I32(2, S(2, 2), 0, 1, 2, 3), I64(2, S(1, 2), VI(0, 2))),
                AV_STATUS_FORMAT);
    EXPECT_FAIL(nd, 13, 2, IN(I32(2, S(2, 2), 0, 1, 2, 3), I64(2, S(1, 3), VI(0, 0, 0))),
                AV_STATUS_FORMAT);
    release();
}

static void test_scatter(void)
{
    /* ScatterND: the spec's example 1 and reductions (opset 16 add/mul, 18 max/min) */
    const av__tensor *d = F32(1, S(8), iota_f32(8, 1));
    const av__tensor *ind = I64(2, S(4, 1), VI(4, 3, 1, 7));
    const av__tensor *upd = F32(1, S(4), VF(9, 10, 11, 12));
    EXPECT_F32(RUN1(node("ScatterND"), 13, 3, IN(d, ind, upd)), 1, S(8),
               VF(1, 11, 3, 10, 9, 6, 7, 12));
    static const char *const reds[] = {"add", "mul", "max", "min"};
    static const float want[4][8] = {{1, 13, 3, 14, 14, 6, 7, 20},
                                     {1, 22, 3, 40, 45, 6, 7, 96},
                                     {1, 11, 3, 10, 9, 6, 7, 12},
                                     {1, 2, 3, 4, 5, 6, 7, 8}};
    for (int r = 0; r < 4; r++) {
        opt_node *n = node("ScatterND");
        opt_attr_string(n, "reduction", reds[r]);
        EXPECT_F32(RUN1(n, 18, 3, IN(d, ind, upd)), 1, S(8), want[r]);
    }
    /* duplicate indices with add; int64 data; slices (test_scatternd_multiply shape) */
    opt_node *add = node("ScatterND");
    opt_attr_string(add, "reduction", "add");
    EXPECT_I64(RUN1(add, 16, 3, IN(I64(2, S(2, 2), VI(1, 2, 3, 4)), I64(2, S(2, 1), VI(0, 0)),
                                  I64(2, S(2, 2), VI(10, 20, 30, 40)))),
               2, S(2, 2), VI(41, 62, 3, 4));
    EXPECT_FAIL(node("ScatterND"), 13, 3, IN(d, I64(2, S(1, 1), VI(8)), F32(1, S(1), VF(0))),
                AV_STATUS_FORMAT);
    EXPECT_FAIL(node("ScatterND"), 13, 3, IN(d, ind, F32(1, S(3), NULL)), AV_STATUS_FORMAT);
    opt_node *badr = node("ScatterND");
    opt_attr_string(badr, "reduction", "avg");
    EXPECT_FAIL(badr, 18, 3, IN(d, ind, upd), AV_STATUS_FORMAT);

    /* ScatterElements: test_scatter_elements_with_axis, _with_duplicate_indices, negative */
    opt_node *se = node("ScatterElements");
    opt_attr_int(se, "axis", 1);
    const av__tensor *d5 = F32(2, S(1, 5), VF(1, 2, 3, 4, 5));
    EXPECT_F32(RUN1(se, 13, 3, IN(d5, I64(2, S(1, 2), VI(1, 3)), F32(2, S(1, 2), VF(1.1f, 2.1f)))),
               2, S(1, 5), VF(1, 1.1f, 3, 2.1f, 5));
    EXPECT_F32(RUN1(se, 13, 3, IN(d5, I64(2, S(1, 2), VI(1, -3)), F32(2, S(1, 2), VF(1.1f, 2.1f)))),
               2, S(1, 5), VF(1, 1.1f, 2.1f, 4, 5));
    opt_node *sea = node("ScatterElements");
    opt_attr_int(sea, "axis", 1);
    opt_attr_string(sea, "reduction", "add");
    EXPECT_F32(RUN1(sea, 16, 3, IN(d5, I64(2, S(1, 2), VI(1, 1)), F32(2, S(1, 2), VF(1.1f, 2.1f)))),
               2, S(1, 5), VF(1, 5.2f, 3, 4, 5));
    opt_node *sem = node("ScatterElements");
    opt_attr_string(sem, "reduction", "max");
    EXPECT_F32(RUN1(sem, 18, 3, IN(F32(2, S(2, 2), VF(1, 2, 3, 4)), I64(2, S(1, 2), VI(1, 0)),
                                  F32(2, S(1, 2), VF(5, 0)))),
               2, S(2, 2), VF(1, 2, 5, 4));
    /* the opset 9-10 name */
    opt_node *sc = node("Scatter");
    EXPECT_F32(RUN1(sc, 10, 3, IN(F32(2, S(3, 3), NULL), I64(2, S(2, 3), VI(1, 0, 2, 0, 2, 1)),
                                 F32(2, S(2, 3), VF(1, 1.1f, 1.2f, 2, 2.1f, 2.2f)))),
               2, S(3, 3), VF(2, 1.1f, 0, 1, 0, 2.2f, 0, 2.1f, 1.2f));
    EXPECT_FAIL(se, 13, 3, IN(d5, I64(2, S(1, 1), VI(5)), F32(2, S(1, 1), VF(0))),
                AV_STATUS_FORMAT);
    EXPECT_FAIL(se, 13, 3, IN(d5, I64(2, S(1, 2), VI(0, 0)), F32(2, S(1, 1), VF(0))),
                AV_STATUS_FORMAT);
    release();
}

static void test_one_hot(void)
{
    /* test_onehot_with_axis (float indices), _negative_indices, _without_axis (int32 values) */
    opt_node *a1 = node("OneHot");
    opt_attr_int(a1, "axis", 1);
    av__tensor *y = RUN1(
        a1, 11, 3, IN(F32(2, S(2, 2), VF(1, 9, 2, 4)), SCALAR_F32(10), F32(1, S(2), VF(1, 3))));
    float want[40];
    for (int i = 0; i < 40; i++)
        want[i] = 1;
    want[1 * 2 + 0] = 3;           /* [0][1][0] */
    want[9 * 2 + 1] = 3;           /* [0][9][1] */
    want[20 + 2 * 2 + 0] = 3;      /* [1][2][0] */
    want[20 + 4 * 2 + 1] = 3;      /* [1][4][1] */
    EXPECT_F32(y, 3, S(2, 10, 2), want);
    y = RUN1(a1, 11, 3, IN(I64(1, S(3), VI(0, -7, -8)), SCALAR_F32(10), F32(1, S(2), VF(1, 3))));
    float w2[30];
    for (int i = 0; i < 30; i++)
        w2[i] = 1;
    w2[0] = w2[10 + 3] = w2[20 + 2] = 3;
    EXPECT_F32(y, 2, S(3, 10), w2);
    /* out of range stays `off`; int32 values */
    y = RUN1(node("OneHot"), 11, 3,
             IN(I64(1, S(3), VI(0, 7, 12)), SCALAR_F32(4), I32(1, S(2), 2, 5)));
    EXPECT_INT(y, AV__DT_I32, 2, S(3, 4), VI(5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2));
    EXPECT_FAIL(node("OneHot"), 11, 3, IN(I64(1, S(1), VI(0)), SCALAR_F32(4), F32(1, S(3), NULL)),
                AV_STATUS_FORMAT);
    EXPECT_FAIL(node("OneHot"), 11, 3, IN(I64(1, S(1), VI(0)), SCALAR_F32(-1), F32(1, S(2), NULL)),
                AV_STATUS_FORMAT);
    release();
}

/* ---- Pad ------------------------------------------------------------------------------------- */

static void naive_reflect_1d(const float *x, int64_t n, int64_t pb, int64_t pe, float *y)
{
    for (int64_t o = 0; o < n + pb + pe; o++) {
        int64_t j = o - pb;
        if (n > 1) {
            int64_t p = 2 * (n - 1);
            j %= p;
            if (j < 0)
                j += p;
            if (j >= n)
                j = p - j;
        } else {
            j = 0;
        }
        y[o] = x[j];
    }
}

static void test_pad(av__threadpool *pool)
{
    const av__tensor *v = F32(1, S(4), VF(1, 2, 3, 4));
    opt_node *refl = node("Pad");
    opt_attr_string(refl, "mode", "reflect");
    EXPECT_F32(RUN1(refl, 13, 2, IN(v, I64(1, S(2), VI(2, 3)))), 1, S(9),
               VF(3, 2, 1, 2, 3, 4, 3, 2, 1));
    /* pads beyond the length reflect again, as numpy */
    EXPECT_F32(RUN1(refl, 13, 2, IN(F32(1, S(3), VF(1, 2, 3)), I64(1, S(2), VI(7, 2)))), 1, S(12),
               VF(2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1));
    opt_node *edge = node("Pad");
    opt_attr_string(edge, "mode", "edge");
    EXPECT_F32(RUN1(edge, 13, 2, IN(v, I64(1, S(2), VI(2, 1)))), 1, S(7), VF(1, 1, 1, 2, 3, 4, 4));
    opt_node *cst = node("Pad");
    EXPECT_F32(RUN1(cst, 13, 3, IN(v, I64(1, S(2), VI(1, 2)), SCALAR_F32(9))), 1, S(7),
               VF(9, 1, 2, 3, 4, 9, 9));
    EXPECT_F32(RUN1(cst, 13, 2, IN(v, I64(1, S(2), VI(1, 0)))), 1, S(5), VF(0, 1, 2, 3, 4));
    /* negative pads crop */
    EXPECT_F32(RUN1(cst, 13, 2, IN(v, I64(1, S(2), VI(-1, 2)))), 1, S(5), VF(2, 3, 4, 0, 0));
    EXPECT_F32(RUN1(refl, 13, 2, IN(v, I64(1, S(2), VI(-1, 1)))), 1, S(4), VF(2, 3, 4, 3));

    /* 2-D: reflect and edge on both axes (as test_reflect_pad / test_edge_pad on one plane) */
    const av__tensor *m = F32(2, S(2, 3), VF(1, 2, 3, 4, 5, 6));
    EXPECT_F32(RUN1(refl, 13, 2, IN(m, I64(1, S(4), VI(1, 1, 1, 1)))), 2, S(4, 5),
               VF(5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2));
    EXPECT_F32(RUN1(edge, 13, 2, IN(m, I64(1, S(4), VI(1, 0, 0, 2)))), 2, S(3, 5),
               VF(1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6));
    EXPECT_F32(RUN1(cst, 13, 3, IN(m, I64(1, S(4), VI(0, 1, 1, 0)), SCALAR_F32(-1))), 2, S(3, 4),
               VF(-1, 1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1));
    /* int32 data (test_constant_pad on ints) */
    EXPECT_INT(RUN1(cst, 13, 3, IN(I32(1, S(2), 5, 6), I64(1, S(2), VI(1, 1)), I32(0, NULL, 7))),
               AV__DT_I32, 1, S(4), VI(7, 5, 6, 7));
    /* opset 18: axes */
    EXPECT_F32(RUN1(cst, 18, 4, IN(m, I64(1, S(2), VI(1, 2)), NULL, I64(1, S(1), VI(-1)))), 2,
               S(2, 6), VF(0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0));
    /* opset 2: attributes pads and value; opset 1: paddings */
    opt_node *o2 = node("Pad");
    opt_attr_ints(o2, "pads", 2, VI(1, 1));
    opt_attr_float(o2, "value", 2.5f);
    EXPECT_F32(RUN1(o2, 2, 1, IN(v)), 1, S(6), VF(2.5f, 1, 2, 3, 4, 2.5f));
    opt_node *o1 = node("Pad");
    opt_attr_ints(o1, "paddings", 2, VI(0, 1));
    opt_attr_string(o1, "mode", "edge");
    EXPECT_F32(RUN1(o1, 1, 1, IN(v)), 1, S(5), VF(1, 2, 3, 4, 4));

    EXPECT_FAIL(cst, 13, 2, IN(v, I64(1, S(3), VI(1, 1, 1))), AV_STATUS_FORMAT);
    EXPECT_FAIL(cst, 13, 2, IN(v, I64(1, S(2), VI(-3, -3))), AV_STATUS_FORMAT);
    EXPECT_FAIL(edge, 13, 2, IN(F32(1, S(0), NULL), I64(1, S(2), VI(1, 1))), AV_STATUS_FORMAT);
    EXPECT_FAIL(cst, 13, 3, IN(v, I64(1, S(2), VI(1, 1)), SCALAR_I64(0)), AV_STATUS_FORMAT);
    opt_node *bm = node("Pad");
    opt_attr_string(bm, "mode", "mirror");
    EXPECT_FAIL(bm, 13, 2, IN(v, I64(1, S(2), VI(1, 1))), AV_STATUS_FORMAT);

    /* reflect on [B,1,N] audio through the pool, against the 1-D reference */
    enum { B = 3, N = 20011, PB = 517, PE = 1021 };
    static float audio[B * N], want[B * (N + PB + PE)];
    opt_fill_random(audio, B * N, 21, -1, 1);
    for (int b = 0; b < B; b++)
        naive_reflect_1d(audio + b * N, N, PB, PE, want + b * (N + PB + PE));
    av__tensor *y = NULL;
    CHECK_INT(run_pool(refl, 13, 2,
                       IN(F32(3, S(B, 1, N), audio), I64(1, S(6), VI(0, 0, PB, 0, 0, PE))), 1, &y,
                       pool),
              AV_STATUS_OK);
    EXPECT_F32_TOL(y, 3, S(B, 1, N + PB + PE), want, 0);
    release();
}

/* ---- Resize, Upsample ------------------------------------------------------------------------ */

/* The 8x8 output of a 4x4 input 1..16 is row r, column c -> 1 + 4 * idx[r] + idx[c]. */
static void expect_nearest_8x8(int line, const av__tensor *y, const int *idx)
{
    float want[64];
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            want[r * 8 + c] = (float)(1 + 4 * idx[r] + idx[c]);
    expect_f32(line, y, 4, S(1, 1, 8, 8), want, 0);
}

static opt_node *resize_node(const char *mode, const char *coord, const char *nearest)
{
    opt_node *n = node("Resize");
    opt_attr_string(n, "mode", mode);
    if (coord)
        opt_attr_string(n, "coordinate_transformation_mode", coord);
    if (nearest)
        opt_attr_string(n, "nearest_mode", nearest);
    return n;
}

static void test_resize(av__threadpool *pool)
{
    const av__tensor *x22 = F32(4, S(1, 1, 2, 2), VF(1, 2, 3, 4));
    const av__tensor *x24 = F32(4, S(1, 1, 2, 4), VF(1, 2, 3, 4, 5, 6, 7, 8));
    const av__tensor *x44 = F32(4, S(1, 1, 4, 4), iota_f32(16, 1));

    /* nearest: test_resize_upsample_scales_nearest, _downsample_scales_nearest,
     * _downsample_sizes_nearest */
    opt_node *nn = resize_node("nearest", NULL, NULL);
    EXPECT_F32(RUN1(nn, 13, 3, IN(x22, NULL, F32(1, S(4), VF(1, 1, 2, 3)))), 4, S(1, 1, 4, 6),
               VF(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4));
    EXPECT_F32(RUN1(nn, 13, 3, IN(x24, NULL, F32(1, S(4), VF(1, 1, 0.6f, 0.6f)))), 4, S(1, 1, 1, 2),
               VF(1, 3));
    EXPECT_F32(RUN1(nn, 13, 4, IN(x24, NULL, NULL, I64(1, S(4), VI(1, 1, 1, 3)))), 4, S(1, 1, 1, 3),
               VF(1, 2, 4));
    /* nearest modes x coordinate modes on 4x4 -> 8x8 (the official _sizes_nearest_* tests) */
    const av__tensor *s88 = I64(1, S(4), VI(1, 1, 8, 8));
    expect_nearest_8x8(
        __LINE__,
        RUN1(resize_node("nearest", "half_pixel", "ceil"), 13, 4, IN(x44, NULL, NULL, s88)),
        (const int[]){0, 1, 1, 2, 2, 3, 3, 3});
    expect_nearest_8x8(
        __LINE__,
        RUN1(resize_node("nearest", "align_corners", "floor"), 13, 4, IN(x44, NULL, NULL, s88)),
        (const int[]){0, 0, 0, 1, 1, 2, 2, 3});
    expect_nearest_8x8(__LINE__,
                       RUN1(resize_node("nearest", "asymmetric", "round_prefer_ceil"), 13, 4,
                            IN(x44, NULL, NULL, s88)),
                       (const int[]){0, 1, 1, 2, 2, 3, 3, 3});
    /* opset 11's tf_half_pixel_for_nn (test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn) */
    EXPECT_F32(RUN1(resize_node("nearest", "tf_half_pixel_for_nn", NULL), 11, 4,
                    IN(x44, F32(1, S(0), NULL), F32(1, S(0), NULL), I64(1, S(4), VI(1, 1, 3, 2)))),
               4, S(1, 1, 3, 2), VF(6, 8, 10, 12, 14, 16));
    /* round_prefer_floor (default) with half_pixel: x.5 goes down */
    expect_nearest_8x8(__LINE__, RUN1(nn, 13, 4, IN(x44, NULL, NULL, s88)),
                       (const int[]){0, 0, 1, 1, 2, 2, 3, 3});
    EXPECT_F32(RUN1(resize_node("nearest", "half_pixel", NULL), 13, 4,
                    IN(F32(1, S(4), VF(1, 2, 3, 4)), NULL, NULL, I64(1, S(1), VI(2)))),
               1, S(2), VF(1, 3)); /* x = 0.5, 2.5: round_prefer_floor picks 0 and 2 */
    EXPECT_F32(RUN1(resize_node("nearest", "half_pixel", "round_prefer_ceil"), 13, 4,
                    IN(F32(1, S(4), VF(1, 2, 3, 4)), NULL, NULL, I64(1, S(1), VI(2)))),
               1, S(2), VF(2, 4));

    /* linear: test_resize_upsample_scales_linear (half_pixel), _align_corners,
     * _downsample_scales_linear, _downsample_scales_linear_align_corners (length_resized = 2.4) */
    opt_node *lin = resize_node("linear", NULL, NULL);
    EXPECT_F32(RUN1(lin, 13, 3, IN(x22, NULL, F32(1, S(4), VF(1, 1, 2, 2)))), 4, S(1, 1, 4, 4),
               VF(1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f,
                  3.75f, 4));
    EXPECT_F32(RUN1(resize_node("linear", "align_corners", NULL), 13, 3,
                    IN(x22, NULL, F32(1, S(4), VF(1, 1, 2, 2)))),
               4, S(1, 1, 4, 4),
               VF(1, 4 / 3.f, 5 / 3.f, 2, 5 / 3.f, 2, 7 / 3.f, 8 / 3.f, 7 / 3.f, 8 / 3.f, 3,
                  10 / 3.f, 3, 10 / 3.f, 11 / 3.f, 4));
    EXPECT_F32(RUN1(lin, 13, 3, IN(x24, NULL, F32(1, S(4), VF(1, 1, 0.6f, 0.6f)))), 4,
               S(1, 1, 1, 2), VF(2.6666665f, 4.333333f));
    EXPECT_F32(RUN1(resize_node("linear", "align_corners", NULL), 13, 3,
                    IN(x24, NULL, F32(1, S(4), VF(1, 1, 0.6f, 0.6f)))),
               4, S(1, 1, 1, 2), VF(1, 3.142857f));
    /* pytorch_half_pixel with sizes (test_resize_downsample_sizes_linear_pytorch_half_pixel) */
    EXPECT_F32(RUN1(resize_node("linear", "pytorch_half_pixel", NULL), 13, 4,
                    IN(x44, NULL, NULL, I64(1, S(4), VI(1, 1, 3, 1)))),
               4, S(1, 1, 3, 1), VF(1.6666666f, 7, 12.333333f));
    /* asymmetric linear upsampling of 1-D audio-like data: x / 2 */
    EXPECT_F32(RUN1(resize_node("linear", "asymmetric", NULL), 13, 3,
                    IN(F32(3, S(1, 1, 3), VF(0, 2, 4)), NULL, F32(1, S(3), VF(1, 1, 2)))),
               3, S(1, 1, 6), VF(0, 1, 2, 3, 4, 4));
    /* tf_crop_and_resize with extrapolation (test_resize_tf_crop_and_resize) */
    opt_node *tf = resize_node("linear", "tf_crop_and_resize", NULL);
    opt_attr_float(tf, "extrapolation_value", 10);
    EXPECT_F32(RUN1(tf, 13, 4, IN(x44, F32(1, S(8), VF(0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f)), NULL,
                                  I64(1, S(4), VI(1, 1, 3, 3)))),
               4, S(1, 1, 3, 3), VF(7.6f, 10, 10, 12.4f, 10, 10, 10, 10, 10));
    /* 1-D crops (no outer dims): x = 1.5, 3, 4.5 -> the last one extrapolates */
    opt_node *tf1 = resize_node("linear", "tf_crop_and_resize", NULL);
    opt_attr_float(tf1, "extrapolation_value", -5);
    const av__tensor *v4 = F32(1, S(4), VF(1, 2, 3, 4));
    EXPECT_F32(RUN1(tf1, 13, 4, IN(v4, F32(1, S(2), VF(0.5f, 1.5f)), NULL, I64(1, S(1), VI(3)))), 1,
               S(3), VF(2.5f, 4, -5));
    opt_node *tf2 = resize_node("nearest", "tf_crop_and_resize", NULL);
    opt_attr_float(tf2, "extrapolation_value", -5);
    EXPECT_F32(RUN1(tf2, 13, 4, IN(v4, F32(1, S(2), VF(0.5f, 1.5f)), NULL, I64(1, S(1), VI(3)))), 1,
               S(3), VF(2, 4, -5));
    /* 3-D separable linear: [2,2,2] cube -> [3,3,3] align_corners; the centre is the mean */
    av__tensor *cube = RUN1(
        resize_node("linear", "align_corners", NULL), 13, 4,
        IN(F32(3, S(2, 2, 2), VF(0, 1, 2, 3, 4, 5, 6, 7)), NULL, NULL, I64(1, S(3), VI(3, 3, 3))));
    if (expect_shape(__LINE__, cube, AV__DT_F32, 3, S(3, 3, 3)))
        CHECK_NEAR(((float *)cube->data)[13], 3.5, 1e-6);

    /* opset 10: X, scales; asymmetric */
    opt_node *r10 = resize_node("nearest", NULL, NULL);
    EXPECT_F32(RUN1(r10, 10, 2, IN(x22, F32(1, S(4), VF(1, 1, 2, 2)))), 4, S(1, 1, 4, 4),
               VF(1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4));
    /* opset 11 (roi given empty) */
    EXPECT_F32(RUN1(lin, 11, 3, IN(x22, F32(1, S(0), NULL), F32(1, S(4), VF(1, 1, 2, 2)))), 4,
               S(1, 1, 4, 4),
               VF(1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f,
                  3.75f, 4));
    /* opset 18: axes and keep_aspect_ratio_policy */
    opt_node *ax = resize_node("nearest", "asymmetric", "floor");
    opt_attr_ints(ax, "axes", 2, VI(3, 2));
    EXPECT_F32(RUN1(ax, 18, 3, IN(x22, NULL, F32(1, S(2), VF(3, 1)))), 4, S(1, 1, 2, 6),
               VF(1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4));
    opt_node *kar = resize_node("nearest", "asymmetric", "floor");
    opt_attr_ints(kar, "axes", 2, VI(2, 3));
    opt_attr_string(kar, "keep_aspect_ratio_policy", "not_larger");
    expect_shape(__LINE__, RUN1(kar, 18, 4, IN(x24, NULL, NULL, I64(1, S(2), VI(7, 4)))),
                 AV__DT_F32, 4, S(1, 1, 2, 4));
    opt_node *kas = resize_node("nearest", "asymmetric", "floor");
    opt_attr_ints(kas, "axes", 2, VI(2, 3));
    opt_attr_string(kas, "keep_aspect_ratio_policy", "not_smaller");
    expect_shape(__LINE__, RUN1(kas, 18, 4, IN(x24, NULL, NULL, I64(1, S(2), VI(7, 4)))),
                 AV__DT_F32, 4, S(1, 1, 7, 14));
    /* nearest on int64 data (byte copies) */
    EXPECT_I64(RUN1(nn, 13, 4, IN(I64(1, S(2), VI(5, 6)), NULL, NULL, I64(1, S(1), VI(4)))), 1,
               S(4), VI(5, 5, 6, 6));

    /* Upsample opset 9 (test_upsample_nearest) and opset 7 (scales attribute, linear) */
    EXPECT_F32(RUN1(node("Upsample"), 9, 2, IN(x22, F32(1, S(4), VF(1, 1, 2, 3)))), 4,
               S(1, 1, 4, 6),
               VF(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4));
    opt_node *u7 = node("Upsample");
    opt_attr_string(u7, "mode", "linear");
    opt_attr_floats(u7, "scales", 2, VF(1, 2));
    EXPECT_F32(RUN1(u7, 7, 1, IN(F32(2, S(1, 3), VF(0, 2, 4)))), 2, S(1, 6), VF(0, 1, 2, 3, 4, 4));

    /* big nearest x2 along time through the pool matches the single-thread result */
    static float sig[4 * 30001];
    opt_fill_random(sig, 4 * 30001, 31, -1, 1);
    const av__tensor *st = F32(3, S(4, 1, 30001), sig);
    av__tensor *a = NULL, *b = NULL;
    const av__tensor *sc = F32(1, S(3), VF(1, 1, 2.5f));
    CHECK_INT(run_pool(lin, 13, 3, IN(st, NULL, sc), 1, &a, pool), AV_STATUS_OK);
    CHECK_INT(run_pool(lin, 13, 3, IN(st, NULL, sc), 1, &b, NULL), AV_STATUS_OK);
    CHECK(a && b && a->shape[2] == 75002 && memcmp(a->data, b->data, av__tensor_bytes(a)) == 0);

    /* unsupported and malformed */
    /* cubic: test_resize_downsample_scales_cubic and _cubic_A_n0p5_exclude_outside */
    const av__tensor *s08 = F32(1, S(4), VF(1, 1, 0.8f, 0.8f));
    EXPECT_F32_TOL(RUN1(resize_node("cubic", NULL, NULL), 13, 3, IN(x44, NULL, s08)), 4,
                   S(1, 1, 3, 3),
                   VF(1.47119140625f, 2.78125f, 4.08251953125f, 6.71142578125f, 8.021484375f,
                      9.32275390625f, 11.91650390625f, 13.2265625f, 14.52783203125f),
                   1e-4);
    opt_node *cx = resize_node("cubic", NULL, NULL);
    opt_attr_float(cx, "cubic_coeff_a", -0.5f);
    opt_attr_int(cx, "exclude_outside", 1);
    EXPECT_F32_TOL(RUN1(cx, 13, 3, IN(x44, NULL, s08)), 4, S(1, 1, 3, 3),
                   VF(1.3681267f, 2.6695013f, 4.0133367f, 6.5736251f, 7.875f, 9.2188349f,
                      11.948966f, 13.250341f, 14.594176f),
                   1e-4);
    /* cubic on a sample point reproduces it: x2 asymmetric upsampling keeps the even outputs */
    av__tensor *cu = RUN1(resize_node("cubic", "asymmetric", NULL), 13, 3,
                          IN(F32(1, S(5), VF(3, -1, 4, 1, 5)), NULL, F32(1, S(1), VF(2))));
    if (expect_shape(__LINE__, cu, AV__DT_F32, 1, S(10)))
        for (int i = 0; i < 5; i++)
            CHECK_NEAR(((float *)cu->data)[2 * i], ((const float[]){3, -1, 4, 1, 5})[i], 1e-6);
    /* antialiased linear downsampling (opset 18) is not implemented */
    opt_node *aa = resize_node("linear", NULL, NULL);
    opt_attr_int(aa, "antialias", 1);
    EXPECT_FAIL(aa, 18, 3, IN(x44, NULL, s08), AV_STATUS_UNSUPPORTED);
    CHECK(strstr(err, "antialias") != NULL);
    EXPECT_FAIL(resize_node("cubic", NULL, NULL), 10, 2, IN(x22, F32(1, S(4), VF(1, 1, 2, 2))),
                AV_STATUS_FORMAT); /* no cubic before opset 11 */
    EXPECT_FAIL(nn, 13, 4,
                IN(x22, NULL, F32(1, S(4), VF(1, 1, 2, 2)), I64(1, S(4), VI(1, 1, 4, 4))),
                AV_STATUS_FORMAT); /* both scales and sizes */
    EXPECT_FAIL(nn, 13, 1, IN(x22), AV_STATUS_FORMAT);                        /* neither */
    EXPECT_FAIL(nn, 13, 3, IN(x22, NULL, F32(1, S(3), VF(1, 2, 2))), AV_STATUS_FORMAT);
    EXPECT_FAIL(nn, 13, 3, IN(x22, NULL, F32(1, S(4), VF(1, 1, -2, 2))), AV_STATUS_FORMAT);
    EXPECT_FAIL(lin, 13, 3, IN(I64(1, S(2), VI(1, 2)), NULL, F32(1, S(1), VF(2))),
                AV_STATUS_UNSUPPORTED);
    release();
}

/* ---- Random* --------------------------------------------------------------------------------- */

static void test_random(av__threadpool *pool)
{
    /* same seed, same output, whatever the pool; another seed, another output */
    opt_node *rn = node("RandomNormal");
    opt_attr_ints(rn, "shape", 2, VI(400, 250));
    opt_attr_float(rn, "seed", 42.0f);
    av__tensor *a = NULL, *b = NULL, *c = NULL;
    CHECK_INT(run_pool(rn, 13, 0, NULL, 1, &a, NULL), AV_STATUS_OK);
    CHECK_INT(run_pool(rn, 13, 0, NULL, 1, &b, pool), AV_STATUS_OK);
    CHECK(a && b && memcmp(a->data, b->data, av__tensor_bytes(a)) == 0);
    /* the documented formula: element i is av__rng_normal(seed, i) */
    CHECK(a && ((float *)a->data)[7] == av__rng_normal(42, 7));
    CHECK(a && ((float *)a->data)[0] != ((float *)a->data)[1]);
    /* mean and standard deviation of 100k standard normals within 1% */
    double s = 0, s2 = 0;
    for (int i = 0; a && i < 100000; i++) {
        double v = ((float *)a->data)[i];
        s += v;
        s2 += v * v;
    }
    double mean = s / 100000, sd = sqrt(s2 / 100000 - mean * mean);
    CHECK_NEAR(mean, 0.0, 0.01);
    CHECK_NEAR(sd, 1.0, 0.01);
    opt_node *rn2 = node("RandomNormal");
    opt_attr_ints(rn2, "shape", 1, VI(16));
    opt_attr_float(rn2, "seed", 43.0f);
    CHECK_INT(run_n(rn2, 13, 0, NULL, 1, &c), AV_STATUS_OK);
    CHECK(a && c && memcmp(a->data, c->data, 16 * sizeof(float)) != 0);

    /* mean/scale, float64 output, no seed: ctx->seed (the harness uses 1234) */
    opt_node *rn3 = node("RandomNormal");
    opt_attr_ints(rn3, "shape", 1, VI(100000));
    opt_attr_float(rn3, "mean", 5.0f);
    opt_attr_float(rn3, "scale", 2.0f);
    opt_attr_int(rn3, "dtype", AV__DT_F64);
    av__tensor *d = NULL;
    CHECK_INT(run_n(rn3, 13, 0, NULL, 1, &d), AV_STATUS_OK);
    if (expect_shape(__LINE__, d, AV__DT_F64, 1, S(100000))) {
        s = s2 = 0;
        for (int i = 0; i < 100000; i++) {
            double v = ((double *)d->data)[i];
            s += v;
            s2 += v * v;
        }
        mean = s / 100000;
        sd = sqrt(s2 / 100000 - mean * mean);
        CHECK_NEAR(mean, 5.0, 0.05);
        CHECK_NEAR(sd, 2.0, 0.02);
        CHECK_NEAR(((double *)d->data)[3], 5.0 + 2.0 * (double)av__rng_normal(1234, 3), 1e-6);
    }

    /* RandomUniform in [low, high); RandomUniformLike takes the input's shape and dtype */
    opt_node *ru = node("RandomUniform");
    opt_attr_ints(ru, "shape", 1, VI(100000));
    opt_attr_float(ru, "low", -2.0f);
    opt_attr_float(ru, "high", 3.0f);
    opt_attr_float(ru, "seed", 7.0f);
    av__tensor *u = NULL;
    CHECK_INT(run_n(ru, 13, 0, NULL, 1, &u), AV_STATUS_OK);
    if (u) {
        float lo = 1e9f, hi = -1e9f;
        s = 0;
        for (int i = 0; i < 100000; i++) {
            float v = ((float *)u->data)[i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            s += v;
        }
        CHECK(lo >= -2.0f && hi < 3.0f);
        CHECK_NEAR(s / 100000, 0.5, 0.025);
        CHECK(((float *)u->data)[5] == (float)(-2.0 + 5.0 * (double)av__rng_uniform(7, 5)));
    }
    opt_node *rul = node("RandomUniformLike");
    av__tensor *ul = RUN1(rul, 13, 1, IN(F32(2, S(3, 5), NULL)));
    expect_shape(__LINE__, ul, AV__DT_F32, 2, S(3, 5));
    opt_node *rnl = node("RandomNormalLike");
    opt_attr_int(rnl, "dtype", AV__DT_F16);
    expect_shape(__LINE__, RUN1(rnl, 13, 1, IN(I64(1, S(4), NULL))), AV__DT_F16, 1, S(4));
    /* a non-float input needs a float dtype */
    EXPECT_FAIL(node("RandomNormalLike"), 13, 1, IN(I64(1, S(4), NULL)), AV_STATUS_FORMAT);
    EXPECT_FAIL(node("RandomNormal"), 13, 0, NULL, AV_STATUS_FORMAT); /* no shape */
    /* flagged random so the planner never folds them */
    CHECK(av__op_find("", "RandomNormal")->flags & AV__OP_RANDOM);
    CHECK(av__op_find("", "RandomUniformLike")->flags & AV__OP_RANDOM);
    CHECK(!(av__op_find("", "Reshape")->flags & AV__OP_RANDOM));
    release();
}

/* ---- odds and ends --------------------------------------------------------------------------- */

static void test_misc(void)
{
    /* value_inputs advertise what infer() reads */
    CHECK_INT(av__op_find("", "Reshape")->value_inputs, 1u << 1);
    CHECK_INT(av__op_find("", "Slice")->value_inputs, 0x1eu);
    CHECK_INT(av__op_find("", "Range")->value_inputs, 0x7u);
    CHECK_INT(av__op_find("", "Pad")->value_inputs & (1u << 1), 1u << 1);
    CHECK_INT(av__op_find("", "Gather")->value_inputs, 0);
    /* string tensors are unsupported, not crashes */
    av__tensor str = {.dtype = AV__DT_STRING, .ndim = 1, .shape = {2}};
    EXPECT_FAIL(node("Transpose"), 13, 1, IN(&str), AV_STATUS_UNSUPPORTED);
    /* wrong input counts */
    EXPECT_FAIL(node("Reshape"), 14, 1, IN(F32(1, S(2), NULL)), AV_STATUS_FORMAT);
    EXPECT_FAIL(node("Gather"), 13, 2, IN(F32(1, S(2), NULL), NULL), AV_STATUS_FORMAT);
    /* empty data through the copy ops */
    const av__tensor *e = F32(3, S(2, 0, 3), NULL);
    expect_shape(__LINE__, RUN1(node("Transpose"), 13, 1, IN(e)), AV__DT_F32, 3, S(3, 0, 2));
    expect_shape(__LINE__, RUN1(node("Expand"), 13, 2, IN(e, I64(1, S(3), VI(2, 1, 3)))),
                 AV__DT_F32, 3, S(2, 0, 3));
    expect_shape(__LINE__, RUN1(node("Tile"), 13, 2, IN(e, I64(1, S(3), VI(2, 2, 2)))), AV__DT_F32,
                 3, S(4, 0, 6));
    opt_node *pe = node("Pad");
    expect_shape(__LINE__, RUN1(pe, 13, 2, IN(e, I64(1, S(6), VI(0, 1, 0, 0, 1, 0)))), AV__DT_F32,
                 3, S(2, 2, 3));
    release();
}

int main(void)
{
    av__threadpool *pool = NULL;
    if (av__threadpool_create(4, &pool) != AV_STATUS_OK) {
        fprintf(stderr, "cannot create a thread pool\n");
        return 1;
    }
    test_reshape();
    test_flatten();
    test_squeeze_unsqueeze();
    test_shape_size();
    test_transpose(pool);
    test_slice(pool);
    test_concat(pool);
    test_split();
    test_expand_tile(pool);
    test_depth_space();
    test_reverse_sequence();
    test_constants();
    test_range();
    test_eye_trilu();
    test_gather(pool);
    test_scatter();
    test_one_hot();
    test_pad(pool);
    test_resize(pool);
    test_random(pool);
    test_misc();
    av__threadpool_free(pool);
    return check_report("test_ops_shape");
}
