/* The convolution / matrix family (src/ops/conv*.c): Conv, ConvTranspose, MatMul, Gemm.
 * - known answers from the official ONNX node tests;
 * - the fast float32 kernels against the scalar references on random data of awkward sizes
 *   (relative L2 error <= 1e-5), including every auto_pad mode, groups, depthwise, 2-D and 3-D;
 * - threaded runs bit-identical to single-threaded ones;
 * - MatMul broadcasting and Gemm's attributes against loops written here;
 * - error cases and their messages.
 * Failures print the seed and the case. `test_ops_conv perf [threads] [reps]` instead times the
 * kernels on model-sized shapes and prints GFLOP/s (nothing asserted). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "op_harness.h"
#include "ops/conv_internal.h"

#define SEED 20240611u
#define TOL 1e-5

static uint64_t rng_counter;
static av__threadpool *pool2, *pool3;

/* uniform integer in [0, n) */
static int64_t rnd(int64_t n) { return (int64_t)(av__rng_u64(SEED, rng_counter++) % (uint64_t)n); }

static int64_t pick(int n, const int64_t *v) { return v[rnd(n)]; }

static const av__op *ref_op(const char *name)
{
    for (int i = 0; i < av__ops_conv_ref_count; i++)
        if (!strcmp(av__ops_conv_ref[i].name, name))
            return &av__ops_conv_ref[i];
    return NULL;
}

/* opt_run_pool for an explicit operator (the reference table); one output. */
static av_status run_op(const av__op *op, const opt_node *n, int64_t opset, int n_in,
                        const av__tensor *const *in, av__tensor **out, av__threadpool *pool,
                        char *err, size_t err_size)
{
    *out = NULL;
    av__tensor *o = calloc(1, sizeof *o);
    av__tensor *outs[1] = {o};
    av__op_ctx ctx = {.node = n, .opset = opset, .n_in = n_in, .in = in, .n_out = 1,
                      .out = outs, .pool = pool, .seed = 1, .err = err, .err_size = err_size};
    av_status st = op->infer(&ctx);
    void *scratch = NULL;
    if (st == AV_STATUS_OK) {
        size_t bytes = av__tensor_bytes(o);
        o->data = av__aligned_alloc(bytes);
        memset(o->data, 0xA5, bytes);
        if (op->scratch_bytes)
            ctx.scratch = scratch = av__aligned_alloc(op->scratch_bytes(&ctx));
        st = op->run(&ctx);
    }
    av__aligned_free(scratch);
    if (st == AV_STATUS_OK) {
        *out = o;
    } else {
        av__aligned_free(o->data);
        free(o);
    }
    return st;
}

/* sqrt(sum (a - ref)^2 / sum ref^2); absolute when ref is all zeros */
static double rel_l2(const float *a, const float *ref, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    if (num != num)
        return INFINITY;
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static int same_shape(const av__tensor *a, const av__tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

static void print_values(const char *what, const float *v, int64_t n)
{
    fprintf(stderr, "  %s:", what);
    for (int64_t i = 0; i < n && i < 12; i++)
        fprintf(stderr, " %.7g", v[i]);
    fprintf(stderr, n > 12 ? " ...\n" : "\n");
}

/* Runs node n on inputs with the fast kernels (no pool, pool of 2, pool of 3) and the reference;
 * checks they agree. Returns the status (both must agree on it); `desc` names the case. */
static av_status compare_fast_ref(const opt_node *n, int n_in, const av__tensor *const *in,
                                  const char *desc, char *err, size_t err_size)
{
    av__tensor *fast = NULL, *ref = NULL, *t2 = NULL, *t3 = NULL;
    char err_ref[256] = "";
    av_status st = opt_run_pool(n, 18, n_in, in, 1, &fast, NULL, err, err_size);
    av_status st_ref = run_op(ref_op(n->op_type), n, 18, n_in, in, &ref, NULL, err_ref,
                              sizeof err_ref);
    if (st != st_ref) {
        fprintf(stderr, "seed %u, %s: fast status %d (%s), reference %d (%s)\n", SEED, desc, st,
                err, st_ref, err_ref);
        check_failures++;
        goto done;
    }
    if (st != AV_STATUS_OK)
        goto done;
    CHECK(same_shape(fast, ref));
    int64_t cnt = av__tensor_count(ref);
    double e = rel_l2(fast->data, ref->data, cnt);
    if (!(e <= TOL)) {
        fprintf(stderr, "seed %u, %s: relative L2 error %g > %g\n", SEED, desc, e, TOL);
        print_values("fast", fast->data, cnt);
        print_values("ref ", ref->data, cnt);
        check_failures++;
    }
    CHECK_INT(opt_run_pool(n, 18, n_in, in, 1, &t2, pool2, err, err_size), AV_STATUS_OK);
    CHECK_INT(opt_run_pool(n, 18, n_in, in, 1, &t3, pool3, err, err_size), AV_STATUS_OK);
    if (t2 && t3 && (memcmp(t2->data, fast->data, (size_t)cnt * sizeof(float)) != 0 ||
                     memcmp(t3->data, fast->data, (size_t)cnt * sizeof(float)) != 0)) {
        fprintf(stderr, "seed %u, %s: threaded result differs from single-threaded (%g, %g)\n",
                SEED, desc, rel_l2(t2->data, fast->data, cnt), rel_l2(t3->data, fast->data, cnt));
        check_failures++;
    }
done:
    opt_free_tensor(fast);
    opt_free_tensor(ref);
    opt_free_tensor(t2);
    opt_free_tensor(t3);
    return st;
}

/* ---- Conv / ConvTranspose case description --------------------------------------------------- */

typedef struct conv_case {
    int transpose, nsp;
    int64_t batch, cin, cout, group;
    int64_t in_sp[3], k[3], s[3], d[3], pads[6], out_pad[3], out_shape[3];
    int has_k, has_s, has_d, has_pads, has_out_pad, has_out_shape, bias;
    const char *auto_pad; /* NULL: no attribute */
} conv_case;

static void describe(const conv_case *c, char *buf, size_t size)
{
    size_t len = 0;
#define ADD(...) len += (size_t)snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__)
    ADD("%s N=%lld C=%lld M=%lld group=%lld in=", c->transpose ? "ConvTranspose" : "Conv",
        (long long)c->batch, (long long)c->cin, (long long)c->cout, (long long)c->group);
    for (int i = 0; i < c->nsp; i++)
        ADD("%s%lld", i ? "x" : "", (long long)c->in_sp[i]);
    ADD(" k=");
    for (int i = 0; i < c->nsp; i++)
        ADD("%s%lld", i ? "x" : "", (long long)c->k[i]);
    ADD(" s=");
    for (int i = 0; i < c->nsp; i++)
        ADD("%s%lld", i ? "x" : "", (long long)c->s[i]);
    ADD(" d=");
    for (int i = 0; i < c->nsp; i++)
        ADD("%s%lld", i ? "x" : "", (long long)c->d[i]);
    ADD(" pads=");
    for (int i = 0; i < 2 * c->nsp; i++)
        ADD("%s%lld", i ? "," : "", (long long)c->pads[i]);
    if (c->has_out_pad) {
        ADD(" output_padding=");
        for (int i = 0; i < c->nsp; i++)
            ADD("%s%lld", i ? "," : "", (long long)c->out_pad[i]);
    }
    if (c->has_out_shape) {
        ADD(" output_shape=");
        for (int i = 0; i < c->nsp; i++)
            ADD("%s%lld", i ? "," : "", (long long)c->out_shape[i]);
    }
    ADD(" auto_pad=%s bias=%d", c->auto_pad ? c->auto_pad : "-", c->bias);
#undef ADD
}

static opt_node *conv_node(const conv_case *c)
{
    opt_node *n = opt_node_new(c->transpose ? "ConvTranspose" : "Conv");
    if (c->group != 1 || rnd(2))
        opt_attr_int(n, "group", c->group);
    if (c->has_k)
        opt_attr_ints(n, "kernel_shape", c->nsp, c->k);
    if (c->has_s)
        opt_attr_ints(n, "strides", c->nsp, c->s);
    if (c->has_d)
        opt_attr_ints(n, "dilations", c->nsp, c->d);
    if (c->has_pads)
        opt_attr_ints(n, "pads", 2 * c->nsp, c->pads);
    if (c->has_out_pad)
        opt_attr_ints(n, "output_padding", c->nsp, c->out_pad);
    if (c->has_out_shape)
        opt_attr_ints(n, "output_shape", c->nsp, c->out_shape);
    if (c->auto_pad)
        opt_attr_string(n, "auto_pad", c->auto_pad);
    return n;
}

/* Random inputs for the case, fast vs reference. Returns the status. */
static av_status run_conv_case(const conv_case *c, uint64_t data_seed)
{
    int64_t xs[5] = {c->batch, c->cin}, ws[5], bs[1] = {c->cout};
    ws[0] = c->transpose ? c->cin : c->cout;
    ws[1] = c->transpose ? c->cout / c->group : c->cin / c->group;
    for (int i = 0; i < c->nsp; i++) {
        xs[2 + i] = c->in_sp[i];
        ws[2 + i] = c->k[i];
    }
    av__tensor x = opt_f32(c->nsp + 2, xs, NULL), w = opt_f32(c->nsp + 2, ws, NULL);
    av__tensor b = opt_f32(1, bs, NULL);
    opt_fill_random(x.data, av__tensor_count(&x), data_seed, -1, 1);
    opt_fill_random(w.data, av__tensor_count(&w), data_seed + 1, -1, 1);
    opt_fill_random(b.data, av__tensor_count(&b), data_seed + 2, -1, 1);
    opt_node *n = conv_node(c);
    char desc[512], err[256] = "";
    describe(c, desc, sizeof desc);
    av_status st = compare_fast_ref(n, c->bias ? 3 : 2, (const av__tensor *[]){&x, &w, &b}, desc,
                                    err, sizeof err);
    if (st != AV_STATUS_OK && st != AV_STATUS_FORMAT) {
        fprintf(stderr, "seed %u, %s: status %d: %s\n", SEED, desc, st, err);
        check_failures++;
    }
    opt_node_free(n);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&w);
    opt_free_tensor_data(&b);
    return st;
}

static const char *const auto_pads[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

/* Random Conv cases of nsp spatial axes; channel, size and attribute values from the lists. */
static void random_conv_cases(int transpose, int nsp, int count)
{
    static const int64_t lens1[] = {1, 7, 31, 257}, lens2[] = {1, 5, 7, 12}, lens3[] = {1, 3, 6};
    static const int64_t chans[] = {1, 3, 5, 17}, kern1[] = {1, 3, 5, 7, 11, 16};
    static const int64_t kern2[] = {1, 2, 3, 5}, strides[] = {1, 2, 3, 8}, dils[] = {1, 2, 3, 5};
    static const int64_t mults[] = {1, 2, 3};
    int ok = 0, rejected = 0, wide = 0;
    for (int i = 0; i < count; i++) {
        conv_case c = {.transpose = transpose, .nsp = nsp};
        c.batch = 1 + rnd(2);
        c.cin = pick(4, chans);
        int gk = (int)rnd(3);
        if (gk == 1) { /* group 2 needs even channels */
            c.group = 2;
            c.cin *= 2;
        } else {
            c.group = gk == 2 ? c.cin : 1;
        }
        c.cout = c.group == 1 ? pick(4, chans) : c.group * pick(3, mults);
        for (int a = 0; a < nsp; a++) {
            c.in_sp[a] = nsp == 1 ? pick(4, lens1) : nsp == 2 ? pick(4, lens2) : pick(3, lens3);
            c.k[a] = nsp == 1 ? pick(6, kern1) : pick(4, kern2);
            c.s[a] = nsp == 1 ? pick(4, strides) : pick(3, strides);
            c.d[a] = nsp == 1 ? pick(4, dils) : pick(2, dils);
            int64_t extent = (c.k[a] - 1) * c.d[a] + 1;
            c.pads[a] = rnd(extent + 1);
            c.pads[nsp + a] = rnd(extent + 1);
            c.out_pad[a] = rnd(c.s[a]);
        }
        if (transpose && c.in_sp[0] == 257 && c.cin * c.cout > 40) /* keep the reference quick */
            c.in_sp[0] = 31;
        c.has_k = rnd(3) == 0;
        c.has_s = 1;
        c.has_d = rnd(4) != 0;
        if (!c.has_d)
            for (int a = 0; a < nsp; a++)
                c.d[a] = 1;
        c.bias = (int)rnd(2);
        int mode = (int)rnd(8);
        if (mode < 4) {
            c.has_pads = 1;
            if (mode == 1)
                c.auto_pad = "NOTSET";
        } else {
            c.auto_pad = auto_pads[mode - 4];
            c.has_pads = mode == 4;
        }
        if (transpose) {
            c.has_out_pad = rnd(2) == 0;
            if (!c.has_out_pad)
                for (int a = 0; a < nsp; a++)
                    c.out_pad[a] = 0;
            if (rnd(4) == 0) {
                c.has_out_shape = 1;
                for (int a = 0; a < nsp; a++) {
                    int64_t full = c.s[a] * (c.in_sp[a] - 1) + c.out_pad[a] +
                                   (c.k[a] - 1) * c.d[a] + 1;
                    c.out_shape[a] = full - 3 + rnd(6);
                    if (c.out_shape[a] < 1)
                        c.out_shape[a] = 1;
                }
            }
        }
        av_status st = run_conv_case(&c, SEED + 1000u * (unsigned)i + (unsigned)nsp);
        ok += st == AV_STATUS_OK;
        rejected += st == AV_STATUS_FORMAT;
        /* many channels per group: Conv takes im2col + GEMM rather than the direct loops */
        wide += st == AV_STATUS_OK && (c.cin / c.group) * (c.cout / c.group) > 16;
    }
    /* most random cases must be valid and a good share must reach the GEMM kernels, or the
     * test tests little */
    if (ok < count * 2 / 3 || wide < ok / 4) {
        fprintf(stderr, "random %s %dD: %d of %d cases valid (%d rejected), %d with > 16 "
                "channel pairs per group\n",
                transpose ? "ConvTranspose" : "Conv", nsp, ok, count, rejected, wide);
        check_failures++;
    }
}

/* 1-D case with explicit pads */
static conv_case conv1d(int transpose, int64_t batch, int64_t cin, int64_t cout, int64_t group,
                        int64_t len, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe)
{
    conv_case c = {.transpose = transpose, .nsp = 1, .batch = batch, .cin = cin, .cout = cout,
                   .group = group, .in_sp = {len}, .k = {k}, .s = {s}, .d = {d},
                   .pads = {pb, pe}, .has_s = 1, .has_d = 1, .has_pads = 1, .bias = 1};
    return c;
}

/* The shapes our models use, scaled down, and the kernel paths they take. */
static void model_like_cases(void)
{
    conv_case cases[] = {
        /* vocoder resblock convs: k 3/7/11, dilations 1/3/5, "same" padding (im2col + GEMM) */
        conv1d(0, 1, 24, 24, 1, 300, 3, 1, 5, 5, 5),
        conv1d(0, 2, 17, 17, 1, 257, 11, 1, 3, 15, 15),
        conv1d(0, 1, 32, 1, 1, 500, 7, 1, 1, 3, 3),       /* conv_post: one output channel */
        /* flow: depthwise dilated k5 (direct loop) and 1x1 (pointwise GEMM) */
        conv1d(0, 1, 40, 40, 40, 301, 5, 1, 3, 6, 6),
        conv1d(0, 2, 17, 34, 17, 100, 5, 2, 1, 2, 2),     /* depthwise, multiplier 2, stride 2 */
        conv1d(0, 1, 20, 36, 1, 333, 1, 1, 1, 0, 0),      /* pointwise */
        conv1d(0, 2, 20, 36, 2, 333, 1, 1, 1, 0, 0),      /* grouped pointwise */
        conv1d(0, 1, 20, 36, 1, 333, 1, 3, 1, 0, 0),      /* k1 stride 3: im2col */
        /* content encoder's first conv: 1 channel, long kernel, large stride */
        conv1d(0, 1, 1, 66, 1, 8000, 256, 80, 1, 88, 88),
        /* several tiles of the capped im2col buffer (rows 16384 -> 128 columns a tile) */
        conv1d(0, 1, 4, 5, 1, 5000, 4096, 13, 1, 0, 0),
        /* vocoder upsamplers: stride 8 k16, stride 2 k4 */
        conv1d(1, 1, 32, 16, 1, 40, 16, 8, 1, 4, 4),
        conv1d(1, 2, 16, 8, 1, 77, 4, 2, 1, 1, 1),
        conv1d(1, 1, 12, 12, 12, 50, 5, 3, 2, 1, 0),      /* depthwise transposed */
        /* several tiles of ConvTranspose's col buffer (rows 16384 -> 128 inputs a tile) */
        conv1d(1, 1, 1, 16, 1, 260, 1024, 1, 1, 0, 0),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(run_conv_case(&cases[i], SEED + 77u * (unsigned)i), AV_STATUS_OK);
}

/* Empty batch, no input channels (the output is the bias), no input positions. */
static void empty_cases(void)
{
    conv_case cases[] = {
        conv1d(0, 0, 3, 4, 1, 9, 3, 1, 1, 1, 1),
        conv1d(0, 2, 0, 4, 1, 9, 3, 2, 1, 1, 1),
        conv1d(0, 1, 0, 24, 1, 9, 3, 2, 1, 1, 1),
        conv1d(0, 1, 2, 3, 1, 0, 3, 1, 1, 2, 1),          /* all padding */
        conv1d(1, 0, 3, 4, 1, 9, 3, 1, 1, 1, 1),
        conv1d(1, 2, 0, 4, 1, 9, 3, 2, 1, 1, 1),
        conv1d(1, 1, 3, 0, 1, 9, 3, 2, 1, 1, 1),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(run_conv_case(&cases[i], SEED + 55u * (unsigned)i), AV_STATUS_OK);
    /* ConvTranspose of an empty input given an output_shape: only the bias */
    conv_case c = conv1d(1, 1, 3, 4, 1, 0, 3, 2, 1, 0, 0);
    c.has_pads = 0;
    c.has_out_shape = 1;
    c.out_shape[0] = 5;
    CHECK_INT(run_conv_case(&c, SEED), AV_STATUS_OK);
}

/* Larger shapes where the pool really splits the work: threaded == single-threaded, and both
 * near the reference on one of them. */
static void threaded_cases(void)
{
    conv_case cases[] = {
        conv1d(0, 1, 64, 64, 1, 700, 7, 1, 1, 3, 3),      /* im2col columns split */
        conv1d(0, 1, 64, 48, 1, 1500, 1, 1, 1, 0, 0),     /* pointwise split */
        conv1d(0, 2, 64, 64, 64, 4000, 5, 1, 5, 10, 10),  /* depthwise channels split */
        conv1d(1, 1, 64, 32, 1, 60, 16, 8, 1, 4, 4),      /* transposed channels split */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(run_conv_case(&cases[i], SEED + 31u * (unsigned)i), AV_STATUS_OK);
}

/* ---- known answers (official ONNX node tests) ------------------------------------------------ */

/* values 0, 1, 2, ... */
static av__tensor iota(int ndim, const int64_t *shape)
{
    av__tensor t = opt_f32(ndim, shape, NULL);
    for (int64_t i = 0; i < av__tensor_count(&t); i++)
        ((float *)t.data)[i] = (float)i;
    return t;
}

static av__tensor ones(int ndim, const int64_t *shape)
{
    av__tensor t = opt_f32(ndim, shape, NULL);
    for (int64_t i = 0; i < av__tensor_count(&t); i++)
        ((float *)t.data)[i] = 1.0f;
    return t;
}

static void check_output(const char *name, av_status st, const av__tensor *y, int ndim,
                         const int64_t *shape, const float *want, const char *err)
{
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "%s: status %d: %s\n", name, st, err);
        check_failures++;
        return;
    }
    int ok = y->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = y->shape[i] == shape[i];
    if (!ok) {
        fprintf(stderr, "%s: wrong output shape (rank %d)\n", name, y->ndim);
        check_failures++;
        return;
    }
    int64_t cnt = av__tensor_count(y);
    double d = opt_max_abs_diff(y->data, want, cnt);
    if (!(d <= 1e-5)) {
        fprintf(stderr, "%s: max |diff| %g\n", name, d);
        print_values("got ", y->data, cnt);
        print_values("want", want, cnt);
        check_failures++;
    }
}

/* Runs a node on X = iota, W = ones (the official conv tests' inputs) with both kernels. */
static void known_iota_ones(const char *name, opt_node *n, int64_t opset, int xnd,
                            const int64_t *xs, const int64_t *ws, int ynd, const int64_t *ys,
                            const float *want)
{
    av__tensor x = iota(xnd, xs), w = ones(xnd, ws), *y = NULL;
    char err[256] = "";
    av_status st = opt_run(n, opset, 2, (const av__tensor *[]){&x, &w}, 1, &y, err, sizeof err);
    check_output(name, st, y, ynd, ys, want, err);
    opt_free_tensor(y);
    st = run_op(ref_op(n->op_type), n, opset, 2, (const av__tensor *[]){&x, &w}, &y, NULL, err,
                sizeof err);
    check_output(name, st, y, ynd, ys, want, err);
    opt_free_tensor(y);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&w);
    opt_node_free(n);
}

static void test_known_answers(void)
{
    { /* test_conv_with_strides_and_asymmetric_padding */
        opt_node *n = opt_node_new("Conv");
        opt_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
        opt_attr_ints(n, "pads", 4, (int64_t[]){1, 0, 1, 0});
        opt_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
        static const float want[] = {21, 33, 99, 117, 189, 207, 171, 183};
        known_iota_ones("conv_with_strides_and_asymmetric_padding", n, 11,
                        4, (int64_t[]){1, 1, 7, 5}, (int64_t[]){1, 1, 3, 3}, 4,
                        (int64_t[]){1, 1, 4, 2}, want);
    }
    { /* test_conv_with_autopad_same (SAME_LOWER, stride 2) */
        opt_node *n = opt_node_new("Conv");
        opt_attr_string(n, "auto_pad", "SAME_LOWER");
        opt_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
        opt_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
        static const float want[] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
        known_iota_ones("conv_with_autopad_same", n, 11, 4, (int64_t[]){1, 1, 5, 5},
                        (int64_t[]){1, 1, 3, 3}, 4, (int64_t[]){1, 1, 3, 3}, want);
    }
    { /* test_convtranspose_pads */
        opt_node *n = opt_node_new("ConvTranspose");
        opt_attr_ints(n, "strides", 2, (int64_t[]){3, 2});
        opt_attr_ints(n, "pads", 4, (int64_t[]){1, 2, 1, 2});
        static const float ch[] = {1, 1, 3, 1, 1, 3, 7,  4, 9,  7, 4,
                                   9, 7, 4, 9, 13, 7, 15, 13, 7, 15};
        float want[42];
        memcpy(want, ch, sizeof ch);
        memcpy(want + 21, ch, sizeof ch);
        known_iota_ones("convtranspose_pads", n, 11, 4, (int64_t[]){1, 1, 3, 3},
                        (int64_t[]){1, 2, 3, 3}, 4, (int64_t[]){1, 2, 7, 3}, want);
    }
    { /* test_convtranspose_autopad_same (SAME_UPPER, stride 2) */
        opt_node *n = opt_node_new("ConvTranspose");
        opt_attr_string(n, "auto_pad", "SAME_UPPER");
        opt_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
        static const float ch[] = {0, 0, 1, 1, 3, 2, 0, 0, 1,  1,  3,  2,  3, 3, 8, 5, 12, 7,
                                   3, 3, 7, 4, 9, 5, 9, 9, 20, 11, 24, 13, 6, 6, 13, 7, 15, 8};
        float want[72];
        memcpy(want, ch, sizeof ch);
        memcpy(want + 36, ch, sizeof ch);
        known_iota_ones("convtranspose_autopad_same", n, 11, 4, (int64_t[]){1, 1, 3, 3},
                        (int64_t[]){1, 2, 3, 3}, 4, (int64_t[]){1, 2, 6, 6}, want);
    }
    { /* test_convtranspose_output_shape: output_shape beyond the natural size (negative pads:
       * the extra row and column hold only the bias, here 0) */
        opt_node *n = opt_node_new("ConvTranspose");
        opt_attr_ints(n, "strides", 2, (int64_t[]){3, 2});
        opt_attr_ints(n, "output_shape", 2, (int64_t[]){10, 8});
        static const float rows[3][8] = {{0, 0, 1, 1, 3, 2, 2, 0},
                                         {3, 3, 7, 4, 9, 5, 5, 0},
                                         {6, 6, 13, 7, 15, 8, 8, 0}};
        float want[160] = {0};
        for (int c = 0; c < 2; c++)
            for (int r = 0; r < 9; r++)
                memcpy(want + c * 80 + r * 8, rows[r / 3], sizeof rows[0]);
        known_iota_ones("convtranspose_output_shape", n, 11, 4, (int64_t[]){1, 1, 3, 3},
                        (int64_t[]){1, 2, 3, 3}, 4, (int64_t[]){1, 2, 10, 8}, want);
    }
    { /* test_gemm_all_attributes */
        static const float a[] = {0.54881352186203f,  0.7151893377304077f, 0.6027633547782898f,
                                  0.5448831915855408f, 0.42365479469299316f, 0.6458941102027893f,
                                  0.4375872015953064f, 0.891772985458374f, 0.9636627435684204f,
                                  0.3834415078163147f, 0.7917250394821167f, 0.5288949012756348f};
        static const float b[] = {
            0.5680445432662964f,  0.9255966544151306f, 0.07103605568408966f, 0.08712930232286453f,
            0.020218396559357643f, 0.832619845867157f, 0.7781567573547363f,  0.8700121641159058f,
            0.978618323802948f,   0.7991585731506348f, 0.4614793658256531f,  0.7805292010307312f,
            0.11827442795038223f, 0.6399210095405579f, 0.14335328340530396f, 0.9446688890457153f,
            0.5218483209609985f,  0.4146619439125061f, 0.26455560326576233f, 0.7742336988449097f};
        static const float c[] = {0.4561503231525421f, 0.568433940410614f, 0.018789799883961678f,
                                  0.6176354885101318f, 0.6120957136154175f};
        static const float want[] = {
            0.37979912757873535f, 0.4836736023426056f, 0.37501436471939087f, 0.4258093237876892f,
            0.44547832012176514f, 0.392333447933197f,  0.6364401578903198f,  0.5235674381256104f,
            0.5240350961685181f,  0.5636829137802124f, 0.42334532737731934f, 0.6389510631561279f,
            0.49747031927108765f, 0.4967692494392395f, 0.5259358286857605f};
        opt_node *n = opt_node_new("Gemm");
        opt_attr_float(n, "alpha", 0.25f);
        opt_attr_float(n, "beta", 0.35f);
        opt_attr_int(n, "transA", 1);
        opt_attr_int(n, "transB", 1);
        av__tensor ta = opt_f32(2, (int64_t[]){4, 3}, a), tb = opt_f32(2, (int64_t[]){5, 4}, b);
        av__tensor tc = opt_f32(2, (int64_t[]){1, 5}, c), *y = NULL;
        char err[256] = "";
        const av__tensor *in[] = {&ta, &tb, &tc};
        av_status st = opt_run(n, 13, 3, in, 1, &y, err, sizeof err);
        check_output("gemm_all_attributes", st, y, 2, (int64_t[]){3, 5}, want, err);
        opt_free_tensor(y);
        st = run_op(ref_op("Gemm"), n, 13, 3, in, &y, NULL, err, sizeof err);
        check_output("gemm_all_attributes (reference)", st, y, 2, (int64_t[]){3, 5}, want, err);
        opt_free_tensor(y);
        opt_free_tensor_data(&ta);
        opt_free_tensor_data(&tb);
        opt_free_tensor_data(&tc);
        opt_node_free(n);
    }
}

/* ---- MatMul ------------------------------------------------------------------------------ */

/* A and B given as up to 4-D shapes; expected values from loops written out here with explicit
 * numpy broadcasting (a 1-D A is [1, K], a 1-D B is [K, 1]). */
static void matmul_case(int na, const int64_t *as, int nb, const int64_t *bs, int ny,
                        const int64_t *ys)
{
    av__tensor a = opt_f32(na, as, NULL), b = opt_f32(nb, bs, NULL);
    opt_fill_random(a.data, av__tensor_count(&a), SEED + 5, -1, 1);
    opt_fill_random(b.data, av__tensor_count(&b), SEED + 6, -1, 1);
    /* pad both to 4-D: [b0, b1, M, K] and [b0, b1, K, N] */
    int64_t a4[4] = {1, 1, 1, 1}, b4[4] = {1, 1, 1, 1};
    if (na == 1) {
        a4[3] = as[0];
    } else {
        for (int i = 0; i < na; i++)
            a4[4 - na + i] = as[i];
    }
    if (nb == 1) {
        b4[2] = bs[0];
    } else {
        for (int i = 0; i < nb; i++)
            b4[4 - nb + i] = bs[i];
    }
    int64_t m = a4[2], k = a4[3], n = b4[3];
    int64_t o0 = a4[0] > b4[0] ? a4[0] : b4[0], o1 = a4[1] > b4[1] ? a4[1] : b4[1];
    float *want = calloc((size_t)(o0 * o1 * m * n), sizeof *want);
    const float *ad = a.data, *bd = b.data;
    for (int64_t i0 = 0; i0 < o0; i0++)
        for (int64_t i1 = 0; i1 < o1; i1++)
            for (int64_t r = 0; r < m; r++)
                for (int64_t c = 0; c < n; c++) {
                    double acc = 0;
                    int64_t ab = ((a4[0] > 1 ? i0 : 0) * a4[1] + (a4[1] > 1 ? i1 : 0)) * m * k;
                    int64_t bb = ((b4[0] > 1 ? i0 : 0) * b4[1] + (b4[1] > 1 ? i1 : 0)) * k * n;
                    for (int64_t l = 0; l < k; l++)
                        acc += (double)ad[ab + r * k + l] * bd[bb + l * n + c];
                    want[((i0 * o1 + i1) * m + r) * n + c] = (float)acc;
                }
    opt_node *nd = opt_node_new("MatMul");
    av__tensor *y = NULL;
    char err[256] = "", name[64];
    snprintf(name, sizeof name, "MatMul rank %d x rank %d (%lld x %lld)", na, nb,
             (long long)as[0], (long long)bs[0]);
    av_status st = opt_run(nd, 13, 2, (const av__tensor *[]){&a, &b}, 1, &y, err, sizeof err);
    check_output(name, st, y, ny, ys, want, err);
    opt_free_tensor(y);
    compare_fast_ref(nd, 2, (const av__tensor *[]){&a, &b}, name, err, sizeof err);
    free(want);
    opt_node_free(nd);
    opt_free_tensor_data(&a);
    opt_free_tensor_data(&b);
}

static void test_matmul(void)
{
    matmul_case(3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){4, 5}, 3, (int64_t[]){2, 3, 5});
    matmul_case(1, (int64_t[]){4}, 2, (int64_t[]){4, 5}, 1, (int64_t[]){5});
    matmul_case(2, (int64_t[]){3, 4}, 1, (int64_t[]){4}, 1, (int64_t[]){3});
    matmul_case(1, (int64_t[]){7}, 1, (int64_t[]){7}, 0, (int64_t[]){0});
    matmul_case(4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){5, 4, 2}, 4, (int64_t[]){2, 5, 3, 2});
    matmul_case(2, (int64_t[]){3, 4}, 4, (int64_t[]){2, 3, 4, 6}, 4, (int64_t[]){2, 3, 3, 6});
    matmul_case(1, (int64_t[]){4}, 3, (int64_t[]){3, 4, 2}, 2, (int64_t[]){3, 2});
    matmul_case(3, (int64_t[]){3, 5, 4}, 1, (int64_t[]){4}, 2, (int64_t[]){3, 5});
    matmul_case(4, (int64_t[]){1, 3, 17, 33}, 4, (int64_t[]){2, 1, 33, 9}, 4,
                (int64_t[]){2, 3, 17, 9});
    /* large enough to thread: batched over the pool, split within one GEMM, folded batch */
    matmul_case(3, (int64_t[]){8, 64, 48}, 3, (int64_t[]){8, 48, 72}, 3, (int64_t[]){8, 64, 72});
    matmul_case(3, (int64_t[]){2, 150, 64}, 3, (int64_t[]){2, 64, 130}, 3,
                (int64_t[]){2, 150, 130});
    matmul_case(3, (int64_t[]){3, 100, 96}, 2, (int64_t[]){96, 80}, 3, (int64_t[]){3, 100, 80});
    /* empty: K = 0 gives zeros, M = 0 an empty output */
    matmul_case(2, (int64_t[]){3, 0}, 2, (int64_t[]){0, 4}, 2, (int64_t[]){3, 4});
    matmul_case(3, (int64_t[]){2, 0, 5}, 2, (int64_t[]){5, 4}, 3, (int64_t[]){2, 0, 4});
}

/* ---- Gemm -------------------------------------------------------------------------------- */

static void test_gemm(void)
{
    const int64_t m = 5, k = 7, n = 3;
    /* C shapes: none, scalar, [1], [N], [1, N], [M, 1], [M, N] */
    const int c_nd[] = {-1, 0, 1, 1, 2, 2, 2};
    const int64_t c_shape[][2] = {{0, 0}, {0, 0}, {1, 0}, {n, 0}, {1, n}, {m, 1}, {m, n}};
    const float alphas[] = {1.0f, 0.5f, -2.0f}, betas[] = {1.0f, 0.0f, 0.25f};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int ci = 0; ci < 7; ci++)
                for (int ab = 0; ab < 3; ab++) {
                    float alpha = alphas[ab], beta = betas[(ab + ci) % 3];
                    av__tensor a = opt_f32(2, ta ? (int64_t[]){k, m} : (int64_t[]){m, k}, NULL);
                    av__tensor b = opt_f32(2, tb ? (int64_t[]){n, k} : (int64_t[]){k, n}, NULL);
                    av__tensor c = opt_f32(c_nd[ci] < 0 ? 0 : c_nd[ci], c_shape[ci], NULL);
                    opt_fill_random(a.data, m * k, SEED + 11, -1, 1);
                    opt_fill_random(b.data, k * n, SEED + 12, -1, 1);
                    opt_fill_random(c.data, av__tensor_count(&c), SEED + 13, -1, 1);
                    float want[5 * 3];
                    const float *ad = a.data, *bd = b.data, *cd = c.data;
                    for (int64_t i = 0; i < m; i++)
                        for (int64_t j = 0; j < n; j++) {
                            double acc = 0;
                            for (int64_t l = 0; l < k; l++)
                                acc += (double)(ta ? ad[l * m + i] : ad[i * k + l]) *
                                       (tb ? bd[j * k + l] : bd[l * n + j]);
                            double cv = 0;
                            if (c_nd[ci] >= 0) {
                                int64_t rows = c_nd[ci] == 2 ? c_shape[ci][0] : 1;
                                int64_t cols = c_nd[ci] == 0 ? 1 : c_shape[ci][c_nd[ci] - 1];
                                cv = cd[(rows > 1 ? i : 0) * cols + (cols > 1 ? j : 0)];
                            }
                            want[i * n + j] = (float)(alpha * acc + beta * cv);
                        }
                    opt_node *nd = opt_node_new("Gemm");
                    opt_attr_int(nd, "transA", ta);
                    opt_attr_int(nd, "transB", tb);
                    opt_attr_float(nd, "alpha", alpha);
                    opt_attr_float(nd, "beta", beta);
                    av__tensor *y = NULL;
                    char err[256] = "", name[96];
                    snprintf(name, sizeof name, "Gemm transA %d transB %d C#%d alpha %g beta %g",
                             ta, tb, ci, alpha, beta);
                    int n_in = c_nd[ci] < 0 ? 2 : 3;
                    const av__tensor *in[] = {&a, &b, &c};
                    av_status st = opt_run(nd, 13, n_in, in, 1, &y, err, sizeof err);
                    check_output(name, st, y, 2, (int64_t[]){m, n}, want, err);
                    opt_free_tensor(y);
                    compare_fast_ref(nd, n_in, in, name, err, sizeof err);
                    opt_node_free(nd);
                    opt_free_tensor_data(&a);
                    opt_free_tensor_data(&b);
                    opt_free_tensor_data(&c);
                }
    /* large enough to split over the pool */
    {
        av__tensor a = opt_f32(2, (int64_t[]){130, 96}, NULL);
        av__tensor b = opt_f32(2, (int64_t[]){96, 200}, NULL);
        av__tensor c = opt_f32(1, (int64_t[]){200}, NULL);
        opt_fill_random(a.data, 130 * 96, SEED + 21, -1, 1);
        opt_fill_random(b.data, 96 * 200, SEED + 22, -1, 1);
        opt_fill_random(c.data, 200, SEED + 23, -1, 1);
        opt_node *nd = opt_node_new("Gemm");
        char err[256] = "";
        CHECK_INT(compare_fast_ref(nd, 3, (const av__tensor *[]){&a, &b, &c}, "Gemm 130x96x200",
                                   err, sizeof err),
                  AV_STATUS_OK);
        opt_node_free(nd);
        opt_free_tensor_data(&a);
        opt_free_tensor_data(&b);
        opt_free_tensor_data(&c);
    }
}

/* ---- float64 goes through the reference ---------------------------------------------------- */

/* The node on float64 inputs must match the float32 fast kernels on the same values. */
static void float64_case(const char *name, opt_node *n, int n_in, const int *nd,
                         const int64_t shapes[][3])
{
    av__tensor f32[3], f64[3], *y32 = NULL, *y64 = NULL;
    const av__tensor *in32[3], *in64[3];
    for (int i = 0; i < n_in; i++) {
        f32[i] = opt_f32(nd[i], shapes[i], NULL);
        f64[i] = opt_tensor(AV__DT_F64, nd[i], shapes[i], NULL);
        int64_t cnt = av__tensor_count(&f32[i]);
        opt_fill_random(f32[i].data, cnt, SEED + 40 + (unsigned)i, -1, 1);
        for (int64_t e = 0; e < cnt; e++)
            ((double *)f64[i].data)[e] = ((float *)f32[i].data)[e];
        in32[i] = &f32[i];
        in64[i] = &f64[i];
    }
    char err[256] = "";
    CHECK_INT(opt_run(n, 18, n_in, in64, 1, &y64, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(opt_run(n, 18, n_in, in32, 1, &y32, err, sizeof err), AV_STATUS_OK);
    if (y64 && y32) {
        CHECK_INT(y64->dtype, AV__DT_F64);
        CHECK(same_shape(y64, y32));
        for (int64_t i = 0; i < av__tensor_count(y32); i++) {
            double a = ((double *)y64->data)[i], b = ((float *)y32->data)[i];
            if (!(fabs(a - b) <= 1e-5)) {
                fprintf(stderr, "%s float64: element %lld = %.9g, float32 %.9g\n", name,
                        (long long)i, a, b);
                check_failures++;
                break;
            }
        }
    }
    opt_free_tensor(y64);
    opt_free_tensor(y32);
    for (int i = 0; i < n_in; i++) {
        opt_free_tensor_data(&f32[i]);
        opt_free_tensor_data(&f64[i]);
    }
    opt_node_free(n);
}

static void test_float64(void)
{
    opt_node *n = opt_node_new("Conv");
    opt_attr_ints(n, "pads", 2, (int64_t[]){1, 2});
    opt_attr_ints(n, "strides", 1, (int64_t[]){2});
    float64_case("Conv", n, 3, (const int[]){3, 3, 1},
                 (const int64_t[][3]){{1, 3, 20}, {4, 3, 3}, {4}});
    n = opt_node_new("ConvTranspose");
    opt_attr_ints(n, "strides", 1, (int64_t[]){3});
    opt_attr_ints(n, "output_padding", 1, (int64_t[]){1});
    float64_case("ConvTranspose", n, 2, (const int[]){3, 3},
                 (const int64_t[][3]){{2, 3, 9}, {3, 2, 4}});
    float64_case("MatMul", opt_node_new("MatMul"), 2, (const int[]){3, 2},
                 (const int64_t[][3]){{2, 3, 5}, {5, 4}});
    n = opt_node_new("Gemm");
    opt_attr_int(n, "transB", 1);
    opt_attr_float(n, "beta", 0.5f);
    float64_case("Gemm", n, 3, (const int[]){2, 2, 1}, (const int64_t[][3]){{3, 5}, {4, 5}, {4}});
}

/* ---- errors --------------------------------------------------------------------------------- */

/* Runs node n on tensors of the given shapes (float32 unless dt says otherwise) and checks the
 * status and that the message contains `needle`. */
static void expect_error(const char *op, void (*attrs)(opt_node *), av__dtype dt, int n_in,
                         const int *nd, const int64_t shapes[][5], av_status want,
                         const char *needle)
{
    opt_node *n = opt_node_new(op);
    if (attrs)
        attrs(n);
    av__tensor t[3];
    const av__tensor *in[3];
    for (int i = 0; i < n_in; i++) {
        t[i] = opt_tensor(dt, nd[i], shapes[i], NULL);
        in[i] = &t[i];
    }
    av__tensor *y = NULL;
    char err[256] = "";
    av_status st = opt_run(n, 18, n_in, in, 1, &y, err, sizeof err);
    if (st != want || !strstr(err, needle)) {
        fprintf(stderr, "%s error case: status %d (want %d), message \"%s\" (want \"%s\")\n", op,
                st, want, err, needle);
        check_failures++;
    }
    opt_free_tensor(y);
    for (int i = 0; i < n_in; i++)
        opt_free_tensor_data(&t[i]);
    opt_node_free(n);
}

static void attrs_none(opt_node *n) { (void)n; }
static void attrs_group2(opt_node *n) { opt_attr_int(n, "group", 2); }
static void attrs_bad_autopad(opt_node *n) { opt_attr_string(n, "auto_pad", "SAME"); }
static void attrs_bad_pads(opt_node *n) { opt_attr_ints(n, "pads", 3, (int64_t[]){1, 1, 1}); }
static void attrs_zero_stride(opt_node *n) { opt_attr_ints(n, "strides", 1, (int64_t[]){0}); }
static void attrs_kshape(opt_node *n) { opt_attr_ints(n, "kernel_shape", 1, (int64_t[]){5}); }
static void attrs_dil3(opt_node *n) { opt_attr_ints(n, "dilations", 1, (int64_t[]){3}); }
static void attrs_big_pads(opt_node *n) { opt_attr_ints(n, "pads", 2, (int64_t[]){4, 4}); }

static void test_errors(void)
{
    const int nd3[] = {3, 3, 1}, nd2[] = {2, 2, 2};
    /* kernel (dilated) larger than the padded input */
    expect_error("Conv", attrs_dil3, AV__DT_F32, 2, nd3, (const int64_t[][5]){{1, 2, 6}, {3, 2, 3}},
                 AV_STATUS_FORMAT, "kernel 3 (dilation 3, extent 7) is larger than the padded "
                                   "input 6");
    expect_error("Conv", attrs_none, AV__DT_F32, 2, nd3, (const int64_t[][5]){{1, 2, 4}, {3, 2, 5}},
                 AV_STATUS_FORMAT, "larger than the padded input 4 (size 4 + pads 0 + 0)");
    /* channels */
    expect_error("Conv", attrs_none, AV__DT_F32, 2, nd3, (const int64_t[][5]){{1, 4, 9}, {3, 2, 3}},
                 AV_STATUS_FORMAT, "input channels of X");
    expect_error("Conv", attrs_group2, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 4, 9}, {3, 2, 3}}, AV_STATUS_FORMAT,
                 "not divisible by group 2");
    expect_error("ConvTranspose", attrs_group2, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 3, 9}, {3, 2, 3}}, AV_STATUS_FORMAT,
                 "3 input channels are not divisible by group 2");
    expect_error("ConvTranspose", attrs_none, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 3, 9}, {4, 2, 3}}, AV_STATUS_FORMAT,
                 "W dim 0 is 4, X has 3 channels");
    expect_error("ConvTranspose", attrs_big_pads, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 3, 2}, {3, 2, 3}}, AV_STATUS_FORMAT,
                 "output size -4 <= 0");
    /* ranks, bias, attributes */
    expect_error("Conv", attrs_none, AV__DT_F32, 2, (const int[]){2, 2},
                 (const int64_t[][5]){{1, 2}, {3, 2}}, AV_STATUS_FORMAT, "rank >= 3");
    expect_error("Conv", attrs_none, AV__DT_F32, 2, (const int[]){3, 4},
                 (const int64_t[][5]){{1, 2, 5}, {3, 2, 1, 1}}, AV_STATUS_FORMAT, "W has rank 4");
    expect_error("Conv", attrs_none, AV__DT_F32, 3, nd3,
                 (const int64_t[][5]){{1, 2, 5}, {3, 2, 1}, {2}}, AV_STATUS_FORMAT,
                 "B must have shape [3]");
    expect_error("Conv", attrs_bad_autopad, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 2, 5}, {3, 2, 1}}, AV_STATUS_FORMAT,
                 "unknown auto_pad \"SAME\"");
    expect_error("Conv", attrs_bad_pads, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 2, 5}, {3, 2, 1}}, AV_STATUS_FORMAT,
                 "pads has 3 values, expected 2");
    expect_error("Conv", attrs_zero_stride, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 2, 5}, {3, 2, 1}}, AV_STATUS_FORMAT,
                 "strides[0] = 0 is out of range");
    expect_error("Conv", attrs_kshape, AV__DT_F32, 2, nd3,
                 (const int64_t[][5]){{1, 2, 5}, {3, 2, 3}}, AV_STATUS_FORMAT,
                 "kernel_shape[0] = 5 differs from W's kernel size 3");
    expect_error("Conv", attrs_none, AV__DT_F32, 1, nd3, (const int64_t[][5]){{1, 2, 5}},
                 AV_STATUS_FORMAT, "expects 2 to 3 inputs");
    /* element types */
    expect_error("Conv", attrs_none, AV__DT_F16, 2, nd3, (const int64_t[][5]){{1, 2, 5}, {3, 2, 1}},
                 AV_STATUS_UNSUPPORTED, "float16 is not supported");
    expect_error("MatMul", attrs_none, AV__DT_I64, 2, nd2, (const int64_t[][5]){{2, 3}, {3, 2}},
                 AV_STATUS_UNSUPPORTED, "int64 is not supported");
    /* MatMul / Gemm shapes */
    expect_error("MatMul", attrs_none, AV__DT_F32, 2, nd2, (const int64_t[][5]){{2, 3}, {4, 2}},
                 AV_STATUS_FORMAT, "inner dimensions differ: A [2, 3] has K = 3, B [4, 2] has "
                                   "K = 4");
    expect_error("MatMul", attrs_none, AV__DT_F32, 2, (const int[]){3, 3},
                 (const int64_t[][5]){{2, 2, 3}, {3, 3, 2}}, AV_STATUS_FORMAT,
                 "batch dimensions of A [2, 2, 3] and B [3, 3, 2] do not broadcast");
    expect_error("MatMul", attrs_none, AV__DT_F32, 2, (const int[]){0, 2},
                 (const int64_t[][5]){{0}, {3, 2}}, AV_STATUS_FORMAT, "rank >= 1");
    expect_error("Gemm", attrs_none, AV__DT_F32, 3, (const int[]){2, 2, 1},
                 (const int64_t[][5]){{2, 3}, {3, 4}, {2}}, AV_STATUS_FORMAT,
                 "C [2] does not broadcast to the output [2, 4]");
    expect_error("Gemm", attrs_none, AV__DT_F32, 2, (const int[]){3, 2},
                 (const int64_t[][5]){{1, 2, 3}, {3, 4}}, AV_STATUS_FORMAT, "must be matrices");
    expect_error("Gemm", attrs_none, AV__DT_F32, 2, nd2, (const int64_t[][5]){{2, 3}, {4, 5}},
                 AV_STATUS_FORMAT, "inner dimensions differ");
}

/* ---- perf mode: `test_ops_conv perf [threads] [reps]` prints GFLOP/s, asserts nothing ------ */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Best run() time of the op on prepared inputs (infer, output and scratch set up once). */
static double time_run(const av__op *op, const opt_node *n, int n_in, const av__tensor *const *in,
                       av__threadpool *pool, int reps)
{
    av__tensor o = {0}, *outs[1] = {&o};
    char err[256] = "";
    av__op_ctx ctx = {.node = n, .opset = 18, .n_in = n_in, .in = in, .n_out = 1, .out = outs,
                      .pool = pool, .err = err, .err_size = sizeof err};
    if (op->infer(&ctx) != AV_STATUS_OK) {
        printf("  %s: %s\n", n->op_type, err);
        return 0;
    }
    o.data = av__aligned_alloc(av__tensor_bytes(&o));
    ctx.scratch = op->scratch_bytes ? av__aligned_alloc(op->scratch_bytes(&ctx)) : NULL;
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t = now_s();
        op->run(&ctx);
        t = now_s() - t;
        best = t < best ? t : best;
    }
    av__aligned_free(o.data);
    av__aligned_free(ctx.scratch);
    return best;
}

static void perf_line(const char *name, opt_node *n, int n_in, av__tensor *in, double flops,
                      av__threadpool *pool, int reps)
{
    const av__tensor *inp[3];
    for (int i = 0; i < n_in; i++) {
        opt_fill_random(in[i].data, av__tensor_count(&in[i]), SEED + (unsigned)i, -1, 1);
        inp[i] = &in[i];
    }
    const av__op *op = av__op_find("", n->op_type);
    double t1 = time_run(op, n, n_in, inp, NULL, reps), tn = time_run(op, n, n_in, inp, pool, reps);
    printf("%-42s %8.2f ms %6.1f GFLOP/s | %d threads %8.2f ms %6.1f GFLOP/s\n", name, t1 * 1e3,
           flops / t1 * 1e-9, av__threadpool_size(pool), tn * 1e3, flops / tn * 1e-9);
    for (int i = 0; i < n_in; i++)
        opt_free_tensor_data(&in[i]);
    opt_node_free(n);
}

/* 1-D Conv (transpose 0) or ConvTranspose (1), batch 1, "same"-style symmetric pads */
static void perf_conv(const char *name, int transpose, int64_t cin, int64_t cout, int64_t group,
                      int64_t len, int64_t k, int64_t s, int64_t d, int64_t pad,
                      av__threadpool *pool, int reps)
{
    conv_case c = conv1d(transpose, 1, cin, cout, group, len, k, s, d, pad, pad);
    opt_node *n = conv_node(&c);
    av__tensor in[3] = {
        opt_f32(3, (int64_t[]){1, cin, len}, NULL),
        opt_f32(3,
                transpose ? (int64_t[]){cin, cout / group, k} : (int64_t[]){cout, cin / group, k},
                NULL),
        opt_f32(1, (int64_t[]){cout}, NULL)};
    int64_t out = transpose ? len : (len + 2 * pad - (k - 1) * d - 1) / s + 1;
    /* multiply-adds actually done: transposed convs per input position */
    double flops = 2.0 * (double)(transpose ? cin : cout) * (double)((transpose ? cout : cin) /
                   group) * (double)k * (double)out;
    perf_line(name, n, 3, in, flops, pool, reps);
}

static int perf_main(int threads, int reps)
{
    av__threadpool *pool;
    if (av__threadpool_create(threads, &pool) != AV_STATUS_OK)
        return 1;
    printf("best of %d runs; 1 thread | pool\n", reps);
    perf_conv("Conv1d 128->128 k7 L11136 (vocoder)", 0, 128, 128, 1, 11136, 7, 1, 1, 3, pool,
              reps);
    perf_conv("Conv1d 128->128 k7 d5 L11136", 0, 128, 128, 1, 11136, 7, 1, 5, 15, pool, reps);
    perf_conv("Conv1d 256->256 k11 L2784", 0, 256, 256, 1, 2784, 11, 1, 1, 5, pool, reps);
    perf_conv("Conv1d 32->1 k7 L11136 (conv_post)", 0, 32, 1, 1, 11136, 7, 1, 1, 3, pool, reps);
    perf_conv("Conv1d 192->384 k1 L11136 (1x1)", 0, 192, 384, 1, 11136, 1, 1, 1, 0, pool, reps);
    perf_conv("Conv1d dw 192 k5 d3 L11136", 0, 192, 192, 192, 11136, 5, 1, 3, 6, pool, reps);
    perf_conv("Conv1d 1->1026 k1024 s320 10 s (encoder)", 0, 1, 1026, 1, 160000, 1024, 320, 1,
              352, pool, reps);
    perf_conv("ConvT 512->256 k16 s8 L348", 1, 512, 256, 1, 348, 16, 8, 1, 4, pool, reps);
    perf_conv("ConvT 256->128 k16 s8 L2784", 1, 256, 128, 1, 2784, 16, 8, 1, 4, pool, reps);
    perf_conv("ConvT 128->64 k4 s2 L11136", 1, 128, 64, 1, 11136, 4, 2, 1, 1, pool, reps);
    av__tensor mm[2] = {opt_f32(3, (int64_t[]){4, 500, 64}, NULL),
                        opt_f32(3, (int64_t[]){4, 64, 500}, NULL)};
    perf_line("MatMul [4,500,64] x [4,64,500]", opt_node_new("MatMul"), 2, mm,
              2.0 * 4 * 500 * 64 * 500, pool, reps);
    av__tensor gm[2] = {opt_f32(2, (int64_t[]){500, 768}, NULL),
                        opt_f32(2, (int64_t[]){768, 768}, NULL)};
    perf_line("Gemm [500,768] x [768,768]", opt_node_new("Gemm"), 2, gm, 2.0 * 500 * 768 * 768,
              pool, reps);
    av__threadpool_free(pool);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "perf"))
        return perf_main(argc > 2 ? atoi(argv[2]) : 0, argc > 3 ? atoi(argv[3]) : 10);
    if (av__threadpool_create(2, &pool2) != AV_STATUS_OK ||
        av__threadpool_create(3, &pool3) != AV_STATUS_OK) {
        fprintf(stderr, "cannot create thread pools\n");
        return 1;
    }
    test_known_answers();
    random_conv_cases(0, 1, 300);
    random_conv_cases(0, 2, 120);
    random_conv_cases(0, 3, 20);
    random_conv_cases(1, 1, 200);
    random_conv_cases(1, 2, 80);
    random_conv_cases(1, 3, 15);
    model_like_cases();
    empty_cases();
    threaded_cases();
    test_matmul();
    test_gemm();
    test_float64();
    test_errors();
    av__threadpool_free(pool2);
    av__threadpool_free(pool3);
    return check_report("test_ops_conv");
}
