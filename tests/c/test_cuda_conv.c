/* The CUDA kernels of the convolution / matrix family (src/cuda/ops_conv.cu) against the CPU
 * operators, in fp32 math (relative L2 <= 1e-5) and fp16 storage (tests/c/cuda_harness.h):
 * - Conv: HiFi-GAN's dilated conv1d, kernel 1, strides, groups and depthwise, asymmetric and
 *   oversized pads, auto_pad, 2-D and 3-D, without bias, with runtime (non-constant) W and B;
 * - ConvTranspose: HiFi-GAN's stride-8 upsampler, output_padding, asymmetric pads,
 *   output_shape beyond the natural size, groups with dilation, depthwise, 2-D, auto_pad;
 * - MatMul: plain, 1-D operands, batches shared / strided / broadcast irregularly;
 * - Gemm: every transA / transB, alpha and beta, C of every broadcast shape or none;
 * - FusedConv (precision FP32) with post steps (leaky_relu, add with an addend, tanh, sigmoid,
 *   linear, relu) in both layouts, without bias, with a runtime W, transposed;
 * - autovoice's own fp16 convolution kernel (forced), on vocoder and awkward shapes, and the
 *   layers it leaves to cuDNN;
 * - declines: a BF16 FusedConv and a float64 Conv run on the CPU fallback;
 * - TF32 math on a few cases of each op (relative L2 <= 5e-3).
 * Random inputs from a fixed seed (printed). Skips (77) without the CUDA backend or a GPU. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cuda_harness.h"
#include "ops/conv_dnnl.h"

#define SEED 20261201u

static uint64_t seed_next = SEED;

static void fill(av__tensor *t, float lo, float hi)
{
    opt_fill_random(t->data, av__tensor_count(t), seed_next++, lo, hi);
}

/* A node of op_type in `domain` with n_in inputs (values 0..n_in-1, -1 where `absent` has the
 * bit) and one output, as the backend's single-node plans want it. */
static opt_node *node_new(const char *op_type, const char *domain, int n_in, uint32_t absent)
{
    opt_node *n = opt_node_new(op_type);
    if (domain) {
        free(n->domain);
        n->domain = strdup(domain);
    }
    n->n_inputs = n_in;
    n->inputs = av__malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    for (int i = 0; i < n_in; i++)
        n->inputs[i] = (absent >> i) & 1 ? -1 : i;
    n->n_outputs = 1;
    n->outputs = av__malloc(sizeof(int));
    n->outputs[0] = n_in;
    return n;
}

/* TF32 checks (test_tf32): while set, verify() compares this context's result with the CPU's
 * instead of running the harness's fp32 / fp16 pair. */
static av__cuda_context *tf32_cx;
#define TF32_TOL 5e-3

static void verify(cuda_harness *h, const char *label, const av__node *n, int n_in,
                   const av__tensor *const *in, uint32_t const_mask)
{
    if (!tf32_cx) {
        cuda_check(h, label, n, 18, n_in, in, const_mask, NULL);
        return;
    }
    char err[1024];
    av__tensor ref, got;
    int on_gpu = 0;
    if (cuda_cpu_run(n, 18, n_in, in, 1, &ref, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s: CPU run failed: %s\n", label, err);
        check_failures++;
        return;
    }
    if (av__cuda_eval_node(tf32_cx, n, 18, n_in, in, const_mask, 1, &got, &on_gpu, err,
                           sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s (tf32): GPU run failed: %s\n", label, err);
        check_failures++;
        av__aligned_free(ref.data);
        return;
    }
    double rel, snr;
    int bad;
    cuda_compare_f32(ref.data, got.data, av__tensor_count(&ref), &rel, &snr, &bad);
    int ok = on_gpu && !bad && rel <= TF32_TOL;
    printf("%-44s tf32 %-9.3g%s %s\n", label, rel, on_gpu ? "" : " (CPU fallback)",
           ok ? "ok" : "FAIL");
    if (!ok) {
        fprintf(stderr, "%s (tf32): relative L2 %.3g (max %.3g), %d NaN/inf mismatches, on GPU "
                "%d\n", label, rel, TF32_TOL, bad, on_gpu);
        check_failures++;
    }
    av__aligned_free(ref.data);
    av__aligned_free(got.data);
}

/* ---- Conv / ConvTranspose ------------------------------------------------------------------- */

typedef struct conv_spec {
    const char *label;
    int transpose, nsp;
    int64_t n, c, o, g;                    /* batch (0: 1), in / out channels, group (0: 1) */
    int64_t len[3], k[3], s[3], d[3];      /* s, d: 0 means 1 */
    int64_t pb[3], pe[3], op[3];
    const char *auto_pad;                  /* NULL: explicit pads */
    int64_t out_shape[3];                  /* ConvTranspose output_shape when [0] > 0 */
    int no_bias;
} conv_spec;

static int64_t or1(int64_t v) { return v ? v : 1; }

static void set_conv_attrs(opt_node *n, const conv_spec *cs)
{
    int64_t v[6];
    opt_attr_int(n, "group", or1(cs->g));
    for (int i = 0; i < cs->nsp; i++)
        v[i] = cs->k[i];
    opt_attr_ints(n, "kernel_shape", cs->nsp, v);
    for (int i = 0; i < cs->nsp; i++)
        v[i] = or1(cs->s[i]);
    opt_attr_ints(n, "strides", cs->nsp, v);
    for (int i = 0; i < cs->nsp; i++)
        v[i] = or1(cs->d[i]);
    opt_attr_ints(n, "dilations", cs->nsp, v);
    if (cs->auto_pad) {
        opt_attr_string(n, "auto_pad", cs->auto_pad);
    } else if (!cs->out_shape[0]) {
        for (int i = 0; i < cs->nsp; i++) {
            v[i] = cs->pb[i];
            v[cs->nsp + i] = cs->pe[i];
        }
        opt_attr_ints(n, "pads", 2 * cs->nsp, v);
    }
    if (cs->transpose) {
        for (int i = 0; i < cs->nsp; i++)
            v[i] = cs->op[i];
        opt_attr_ints(n, "output_padding", cs->nsp, v);
        if (cs->out_shape[0])
            opt_attr_ints(n, "output_shape", cs->nsp, cs->out_shape);
    }
}

/* X (channels-last when x_last), W and B of a spec, random. */
static void conv_tensors(const conv_spec *cs, int x_last, av__tensor *x, av__tensor *w,
                         av__tensor *b)
{
    int64_t xs[5], ws[5];
    xs[0] = or1(cs->n);
    xs[x_last ? cs->nsp + 1 : 1] = cs->c;
    for (int i = 0; i < cs->nsp; i++)
        xs[(x_last ? 1 : 2) + i] = cs->len[i];
    int64_t g = or1(cs->g);
    ws[0] = cs->transpose ? cs->c : cs->o;
    ws[1] = cs->transpose ? cs->o / g : cs->c / g;
    int64_t fan = ws[1];
    for (int i = 0; i < cs->nsp; i++) {
        ws[2 + i] = cs->k[i];
        fan *= cs->k[i];
    }
    *x = opt_f32(cs->nsp + 2, xs, NULL);
    *w = opt_f32(cs->nsp + 2, ws, NULL);
    *b = opt_f32(1, (int64_t[]){cs->o}, NULL);
    float ws_range = 1.5f / sqrtf((float)fan);
    fill(x, -1.0f, 1.0f);
    fill(w, -ws_range, ws_range);
    fill(b, -0.3f, 0.3f);
}

static void check_conv(cuda_harness *h, const conv_spec *cs, uint32_t const_mask)
{
    int n_in = cs->no_bias ? 2 : 3;
    opt_node *n = node_new(cs->transpose ? "ConvTranspose" : "Conv", NULL, n_in, 0);
    set_conv_attrs(n, cs);
    av__tensor x, w, b;
    conv_tensors(cs, 0, &x, &w, &b);
    const av__tensor *in[3] = {&x, &w, &b};
    verify(h, cs->label, n, n_in, in, const_mask);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&w);
    opt_free_tensor_data(&b);
    opt_node_free(n);
}

#define C1(...) {.nsp = 1, __VA_ARGS__}
#define T1(...) {.transpose = 1, .nsp = 1, __VA_ARGS__}

static const conv_spec conv_cases[] = {
    C1(.label = "Conv1d hifigan 64->64 k7 d3 p9 L1001", .c = 64, .o = 64, .len = {1001},
       .k = {7}, .d = {3}, .pb = {9}, .pe = {9}),
    C1(.label = "Conv1d kernel 1 80->192 L257 n2", .n = 2, .c = 80, .o = 192, .len = {257},
       .k = {1}),
    C1(.label = "Conv1d stride 3 17->33 k5 p2 L97 n2", .n = 2, .c = 17, .o = 33, .len = {97},
       .k = {5}, .s = {3}, .pb = {2}, .pe = {2}),
    C1(.label = "Conv1d group 4 32->48 k3 p1 L128", .c = 32, .o = 48, .g = 4, .len = {128},
       .k = {3}, .pb = {1}, .pe = {1}),
    C1(.label = "Conv1d depthwise 24 k5 d2 p4 L131", .c = 24, .o = 24, .g = 24, .len = {131},
       .k = {5}, .d = {2}, .pb = {4}, .pe = {4}),
    C1(.label = "Conv1d asym pads 3/0 k4 s2 L50", .c = 8, .o = 12, .len = {50}, .k = {4},
       .s = {2}, .pb = {3}, .pe = {0}),
    C1(.label = "Conv1d asym pads 0/3 k4 s3 L50", .c = 8, .o = 12, .len = {50}, .k = {4},
       .s = {3}, .pb = {0}, .pe = {3}),
    C1(.label = "Conv1d pads 2/2 beyond kernel 1", .c = 5, .o = 7, .len = {19}, .k = {1},
       .pb = {2}, .pe = {2}),
    C1(.label = "Conv1d SAME_UPPER k4 s2 L11", .c = 6, .o = 5, .len = {11}, .k = {4}, .s = {2},
       .auto_pad = "SAME_UPPER"),
    C1(.label = "Conv1d SAME_LOWER k4 s2 L11", .c = 6, .o = 5, .len = {11}, .k = {4}, .s = {2},
       .auto_pad = "SAME_LOWER"),
    C1(.label = "Conv1d VALID k3 s2 L11", .c = 6, .o = 5, .len = {11}, .k = {3}, .s = {2},
       .auto_pad = "VALID"),
    C1(.label = "Conv1d no bias 16->8 k3 p1 L64", .c = 16, .o = 8, .len = {64}, .k = {3},
       .pb = {1}, .pe = {1}, .no_bias = 1),
    C1(.label = "Conv1d length 1 n3 7->5 k3 p1", .n = 3, .c = 7, .o = 5, .len = {1}, .k = {3},
       .pb = {1}, .pe = {1}),
    {.label = "Conv2d 3->8 k5x4 s2x1 d1x2 17x19 n2", .nsp = 2, .n = 2, .c = 3, .o = 8,
     .len = {17, 19}, .k = {5, 4}, .s = {2, 1}, .d = {1, 2}, .pb = {2, 1}, .pe = {2, 1}},
    {.label = "Conv2d asym pads 1,0/2,1 k3x3", .nsp = 2, .n = 1, .c = 4, .o = 6, .len = {9, 11},
     .k = {3, 3}, .s = {1, 2}, .pb = {1, 0}, .pe = {2, 1}},
    {.label = "Conv2d group 2 8->8 k3x3 p1", .nsp = 2, .n = 1, .c = 8, .o = 8, .g = 2,
     .len = {10, 7}, .k = {3, 3}, .pb = {1, 1}, .pe = {1, 1}},
    {.label = "Conv3d 3->4 k3x2x3 asym pads", .nsp = 3, .n = 1, .c = 3, .o = 4, .len = {5, 6, 7},
     .k = {3, 2, 3}, .s = {1, 2, 1}, .pb = {1, 0, 2}, .pe = {1, 1, 0}},
    T1(.label = "ConvT1d hifigan up 64->32 k16 s8 p4 L37", .c = 64, .o = 32, .len = {37},
       .k = {16}, .s = {8}, .pb = {4}, .pe = {4}),
    T1(.label = "ConvT1d output_padding 1 k3 s2 p1 L23", .c = 8, .o = 6, .len = {23}, .k = {3},
       .s = {2}, .pb = {1}, .pe = {1}, .op = {1}),
    T1(.label = "ConvT1d asym pads 2/0 k4 s2 L20", .c = 8, .o = 6, .len = {20}, .k = {4},
       .s = {2}, .pb = {2}, .pe = {0}),
    T1(.label = "ConvT1d asym pads 0/3 k5 s3 L13 n2", .n = 2, .c = 5, .o = 7, .len = {13},
       .k = {5}, .s = {3}, .pb = {0}, .pe = {3}),
    T1(.label = "ConvT1d output_shape 26 k3 s2 L11", .c = 4, .o = 5, .len = {11}, .k = {3},
       .s = {2}, .out_shape = {26}),
    T1(.label = "ConvT1d group 3 d2 s3 p2 12->9 L17", .c = 12, .o = 9, .g = 3, .len = {17},
       .k = {3}, .s = {3}, .d = {2}, .pb = {2}, .pe = {2}),
    T1(.label = "ConvT1d depthwise 16 k4 s2 p1 L30", .c = 16, .o = 16, .g = 16, .len = {30},
       .k = {4}, .s = {2}, .pb = {1}, .pe = {1}),
    T1(.label = "ConvT1d SAME_UPPER k4 s2 L15", .c = 6, .o = 4, .len = {15}, .k = {4}, .s = {2},
       .auto_pad = "SAME_UPPER"),
    {.label = "ConvT2d 8->4 k3x3 s2 p1 op1 9x7", .transpose = 1, .nsp = 2, .n = 1, .c = 8,
     .o = 4, .len = {9, 7}, .k = {3, 3}, .s = {2, 2}, .pb = {1, 1}, .pe = {1, 1}, .op = {1, 1}},
    {.label = "ConvT2d asym pads 1,0/0,2 k4x3", .transpose = 1, .nsp = 2, .n = 1, .c = 3,
     .o = 5, .len = {6, 5}, .k = {4, 3}, .s = {2, 1}, .pb = {1, 0}, .pe = {0, 2}},
};

/* ---- FusedConv ------------------------------------------------------------------------------ */

typedef struct fused_spec {
    conv_spec cv;
    int channels_last;
    int n_post;
    const char *post[4];
    float alpha[4], beta[4];
} fused_spec;

/* Y's shape of the spec's convolution in the node's layout, from the CPU operator. */
static int conv_out_shape(const conv_spec *cs, int channels_last, int64_t *shape)
{
    opt_node *n = node_new(cs->transpose ? "ConvTranspose" : "Conv", NULL, 2, 0);
    set_conv_attrs(n, cs);
    av__tensor x, w, b, y = {0};
    conv_tensors(cs, 0, &x, &w, &b);
    av__tensor *outs[1] = {&y};
    char err[256];
    av__op_ctx ctx = {.node = n, .opset = 18, .n_in = 2,
                      .in = (const av__tensor *[]){&x, &w}, .n_out = 1, .out = outs,
                      .err = err, .err_size = sizeof err};
    av_status st = av__op_find("", n->op_type)->infer(&ctx);
    if (st != AV_STATUS_OK)
        fprintf(stderr, "%s: shape inference: %s\n", cs->label, err);
    shape[0] = y.shape[0];
    shape[channels_last ? y.ndim - 1 : 1] = y.shape[1];
    for (int i = 2; i < y.ndim; i++)
        shape[channels_last ? i - 1 : i] = y.shape[i];
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&w);
    opt_free_tensor_data(&b);
    opt_node_free(n);
    return st == AV_STATUS_OK ? y.ndim : -1;
}

static opt_node *fused_node(const fused_spec *fs, int n_in, av_precision precision)
{
    opt_node *n = node_new(AV__FUSED_CONV_OP, AV__DOMAIN_INTERNAL, n_in, fs->cv.no_bias ? 4u : 0u);
    set_conv_attrs(n, &fs->cv);
    opt_attr_int(n, "transpose", fs->cv.transpose);
    opt_attr_int(n, "channels_last", fs->channels_last);
    opt_attr_int(n, "precision", precision);
    if (fs->n_post) {
        av__attr *a = opt_attr_add(n, "post", AV__ATTR_STRINGS);
        a->count = fs->n_post;
        a->strings = calloc((size_t)fs->n_post + 1, sizeof *a->strings);
        for (int i = 0; i < fs->n_post; i++)
            a->strings[i] = strdup(fs->post[i]);
        opt_attr_floats(n, "post_alpha", fs->n_post, fs->alpha);
        opt_attr_floats(n, "post_beta", fs->n_post, fs->beta);
    }
    return n;
}

static void check_fused(cuda_harness *h, const fused_spec *fs, uint32_t const_mask)
{
    int adds = 0;
    for (int i = 0; i < fs->n_post; i++)
        adds += !strcmp(fs->post[i], "add");
    int n_in = 3 + adds;
    int64_t yshape[5];
    int yrank = conv_out_shape(&fs->cv, fs->channels_last, yshape);
    if (yrank < 0) {
        check_failures++;
        return;
    }
    opt_node *n = fused_node(fs, n_in, AV_PRECISION_FP32);
    av__tensor x, w, b, add[4];
    conv_tensors(&fs->cv, fs->channels_last, &x, &w, &b);
    const av__tensor *in[7] = {&x, &w, fs->cv.no_bias ? NULL : &b};
    for (int i = 0; i < adds; i++) {
        add[i] = opt_f32(yrank, yshape, NULL);
        fill(&add[i], -1.0f, 1.0f);
        in[3 + i] = &add[i];
    }
    char label[64];
    snprintf(label, sizeof label, "Fused %s %s", fs->channels_last ? "cl" : "cf", fs->cv.label);
    verify(h, label, n, n_in, in, const_mask);
    for (int i = 0; i < adds; i++)
        opt_free_tensor_data(&add[i]);
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&w);
    opt_free_tensor_data(&b);
    opt_node_free(n);
}

#define HIFI(name)                                                                           \
    C1(.label = name, .c = 64, .o = 64, .len = {301}, .k = {7}, .d = {3}, .pb = {9}, .pe = {9})

static const fused_spec fused_cases[] = {
    {.cv = HIFI("hifigan k7 d3 +leaky"), .n_post = 1, .post = {"leaky_relu"}, .alpha = {0.1f}},
    {.cv = HIFI("hifigan k7 d3 +add"), .n_post = 1, .post = {"add"}},
    {.cv = C1(.label = "k7 d3 L304 +leaky +add +tanh", .c = 64, .o = 64, .len = {304}, .k = {7},
              .d = {3}, .pb = {9}, .pe = {9}),
     .n_post = 3, .post = {"leaky_relu", "add", "tanh"}, .alpha = {0.1f}},
    {.cv = {.label = "2d k3x3 +linear +sigmoid +relu", .nsp = 2, .n = 2, .c = 6, .o = 10,
            .len = {9, 8}, .k = {3, 3}, .s = {1, 2}, .pb = {1, 1}, .pe = {1, 1}},
     .n_post = 3, .post = {"linear", "sigmoid", "relu"}, .alpha = {1.5f}, .beta = {-0.2f}},
    {.cv = T1(.label = "T up k16 s8 p4 +leaky", .c = 32, .o = 16, .len = {29}, .k = {16},
              .s = {8}, .pb = {4}, .pe = {4}),
     .n_post = 1, .post = {"leaky_relu"}, .alpha = {0.1f}},
    {.cv = C1(.label = "no bias 12->12 k5 p2 +add", .c = 12, .o = 12, .len = {77}, .k = {5},
              .pb = {2}, .pe = {2}, .no_bias = 1),
     .n_post = 1, .post = {"add"}},
    {.cv = C1(.label = "depthwise 16 k3 p1 +leaky", .c = 16, .o = 16, .g = 16, .len = {60},
              .k = {3}, .pb = {1}, .pe = {1}),
     .n_post = 1, .post = {"leaky_relu"}, .alpha = {0.2f}},
    {.cv = C1(.label = "asym pads 2/0 k3 +tanh", .c = 9, .o = 11, .len = {40}, .k = {3},
              .pb = {2}, .pe = {0}),
     .n_post = 1, .post = {"tanh"}},
};

/* ---- MatMul and Gemm ------------------------------------------------------------------------ */

static void check_matmul(cuda_harness *h, const char *label, int na, const int64_t *as, int nb,
                         const int64_t *bs, uint32_t const_mask)
{
    opt_node *n = node_new("MatMul", NULL, 2, 0);
    av__tensor a = opt_f32(na, as, NULL), b = opt_f32(nb, bs, NULL);
    fill(&a, -1.0f, 1.0f);
    fill(&b, -1.0f, 1.0f);
    verify(h, label, n, 2, (const av__tensor *[]){&a, &b}, const_mask);
    opt_free_tensor_data(&a);
    opt_free_tensor_data(&b);
    opt_node_free(n);
}

/* c_rank -1: no C; otherwise C of shape c_shape. */
static void check_gemm(cuda_harness *h, const char *label, int ta, int tb, float alpha,
                       float beta, int64_t m, int64_t nn, int64_t k, int c_rank,
                       const int64_t *c_shape, uint32_t const_mask)
{
    int n_in = c_rank >= 0 ? 3 : 2;
    opt_node *n = node_new("Gemm", NULL, n_in, 0);
    opt_attr_int(n, "transA", ta);
    opt_attr_int(n, "transB", tb);
    opt_attr_float(n, "alpha", alpha);
    opt_attr_float(n, "beta", beta);
    int64_t as[2] = {ta ? k : m, ta ? m : k}, bs[2] = {tb ? nn : k, tb ? k : nn};
    av__tensor a = opt_f32(2, as, NULL), b = opt_f32(2, bs, NULL), c = {0};
    fill(&a, -1.0f, 1.0f);
    fill(&b, -1.0f, 1.0f);
    if (c_rank >= 0) {
        c = opt_f32(c_rank, c_shape, NULL);
        fill(&c, -1.0f, 1.0f);
    }
    verify(h, label, n, n_in, (const av__tensor *[]){&a, &b, &c}, const_mask);
    opt_free_tensor_data(&a);
    opt_free_tensor_data(&b);
    if (c_rank >= 0)
        opt_free_tensor_data(&c);
    opt_node_free(n);
}

static void test_products(cuda_harness *h)
{
    check_matmul(h, "MatMul [3,5]x[5,7]", 2, (int64_t[]){3, 5}, 2, (int64_t[]){5, 7}, 0);
    check_matmul(h, "MatMul [3,5]x[5,7] constant B", 2, (int64_t[]){3, 5}, 2, (int64_t[]){5, 7},
                 2);
    check_matmul(h, "MatMul [2,1,4,5]x[3,5,6] broadcast", 4, (int64_t[]){2, 1, 4, 5}, 3,
                 (int64_t[]){3, 5, 6}, 0);
    check_matmul(h, "MatMul [5]x[5,7]", 1, (int64_t[]){5}, 2, (int64_t[]){5, 7}, 0);
    check_matmul(h, "MatMul [3,5]x[5]", 2, (int64_t[]){3, 5}, 1, (int64_t[]){5}, 0);
    check_matmul(h, "MatMul [5]x[5]", 1, (int64_t[]){5}, 1, (int64_t[]){5}, 0);
    check_matmul(h, "MatMul [2,3,5]x[5] 1-D B", 3, (int64_t[]){2, 3, 5}, 1, (int64_t[]){5}, 0);
    check_matmul(h, "MatMul [5]x[2,5,7] 1-D A", 1, (int64_t[]){5}, 3, (int64_t[]){2, 5, 7}, 0);
    check_matmul(h, "MatMul [4,3,5]x[5,7] shared B", 3, (int64_t[]){4, 3, 5}, 2,
                 (int64_t[]){5, 7}, 2);
    check_matmul(h, "MatMul [4,3,5]x[4,5,7] strided", 3, (int64_t[]){4, 3, 5}, 3,
                 (int64_t[]){4, 5, 7}, 0);
    check_matmul(h, "MatMul [3,5]x[2,5,7] shared A", 2, (int64_t[]){3, 5}, 3,
                 (int64_t[]){2, 5, 7}, 0);
    check_matmul(h, "MatMul [2,3,4,5]x[2,3,5,6]", 4, (int64_t[]){2, 3, 4, 5}, 4,
                 (int64_t[]){2, 3, 5, 6}, 0);
    check_matmul(h, "MatMul [3,1,4,5]x[1,2,5,6] both bcast", 4, (int64_t[]){3, 1, 4, 5}, 4,
                 (int64_t[]){1, 2, 5, 6}, 0);
    check_matmul(h, "MatMul [1,257,192]x[192,80]", 3, (int64_t[]){1, 257, 192}, 2,
                 (int64_t[]){192, 80}, 2);

    static const int64_t m = 7, n = 9, k = 13;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char label[64];
            snprintf(label, sizeof label, "Gemm transA %d transB %d C [N]", ta, tb);
            check_gemm(h, label, ta, tb, 0.7f, 1.3f, m, n, k, 1, (int64_t[]){n}, 0);
        }
    check_gemm(h, "Gemm C [M,1]", 0, 1, 1.0f, 0.5f, m, n, k, 2, (int64_t[]){m, 1}, 0);
    check_gemm(h, "Gemm C [M,N]", 1, 0, -0.5f, 2.0f, m, n, k, 2, (int64_t[]){m, n}, 0);
    check_gemm(h, "Gemm C [1] scalar-like", 0, 0, 1.0f, 1.0f, m, n, k, 1, (int64_t[]){1}, 0);
    check_gemm(h, "Gemm C [1,N]", 0, 1, 1.0f, 1.0f, m, n, k, 2, (int64_t[]){1, n}, 6);
    check_gemm(h, "Gemm no C", 1, 1, 2.0f, 1.0f, m, n, k, -1, NULL, 0);
    check_gemm(h, "Gemm linear 33x256 W^T const", 0, 1, 1.0f, 1.0f, 33, 80, 256, 1,
               (int64_t[]){80}, 6);
}

/* ---- declines ------------------------------------------------------------------------------- */

/* A BF16 FusedConv and a float64 Conv: the GPU declines, the CPU fallback gives the CPU's
 * result. */
static void test_declines(cuda_harness *h)
{
    if (av__dnnl_cpu_has_bf16()) {
        fused_spec fs = {.cv = HIFI("bf16"), .n_post = 1, .post = {"leaky_relu"}, .alpha = {0.1f}};
        opt_node *n = fused_node(&fs, 3, AV_PRECISION_BF16);
        av__tensor x, w, b, out[1];
        conv_tensors(&fs.cv, 0, &x, &w, &b);
        char err[512] = "";
        int on_gpu = -1;
        av_status st = av__cuda_eval_node(h->cx[0], n, 18, 3, (const av__tensor *[]){&x, &w, &b},
                                          6, 1, out, &on_gpu, err, sizeof err);
        if (st != AV_STATUS_OK)
            fprintf(stderr, "bf16 FusedConv: %s\n", err);
        CHECK_INT(st, AV_STATUS_OK);
        CHECK_INT(on_gpu, 0);
        if (st == AV_STATUS_OK)
            av__aligned_free(out[0].data);
        opt_free_tensor_data(&x);
        opt_free_tensor_data(&w);
        opt_free_tensor_data(&b);
        opt_node_free(n);
        printf("%-44s declined (CPU fallback)\n", "FusedConv precision bf16");
    } else {
        printf("(bf16 FusedConv decline not checked: this CPU lacks AVX512-BF16)\n");
    }

    opt_node *n = node_new("Conv", NULL, 3, 0);
    conv_spec cs = C1(.label = "f64", .c = 3, .o = 4, .len = {10}, .k = {3}, .pb = {1}, .pe = {1});
    set_conv_attrs(n, &cs);
    av__tensor x = opt_tensor(AV__DT_F64, 3, (int64_t[]){1, 3, 10}, NULL);
    av__tensor w = opt_tensor(AV__DT_F64, 3, (int64_t[]){4, 3, 3}, NULL);
    av__tensor b = opt_tensor(AV__DT_F64, 1, (int64_t[]){4}, NULL);
    for (int64_t i = 0; i < 30; i++)
        ((double *)x.data)[i] = av__rng_uniform(seed_next, (uint64_t)i) - 0.5;
    for (int64_t i = 0; i < 36; i++)
        ((double *)w.data)[i] = av__rng_uniform(seed_next + 1, (uint64_t)i) - 0.5;
    seed_next += 2;
    cuda_check(h, "Conv float64 (CPU fallback)", n, 18, 3, (const av__tensor *[]){&x, &w, &b}, 6,
               &(cuda_tol){.cpu_ok = 1});
    opt_free_tensor_data(&x);
    opt_free_tensor_data(&w);
    opt_free_tensor_data(&b);
    opt_node_free(n);
}

/* ---- autovoice's own fp16 convolution kernel (src/cuda/conv_igemm.cu) ----------------------- */

/* Layers the own kernel runs (forced with AV__CUDA_CONV_OWN on the fp16 context): the vocoder's
 * shapes and awkward ones (channels that fill no tile, a partial 32-channel chunk, lengths
 * shorter than a tile, asymmetric and oversized pads, batches, several output tiles). */
static const fused_spec own_cases[] = {
    {.cv = HIFI("own hifigan k7 d3 +leaky"), .n_post = 1, .post = {"leaky_relu"}, .alpha = {0.1f}},
    {.cv = C1(.label = "own 32->32 k3 p1 L1000 +add", .c = 32, .o = 32, .len = {1000}, .k = {3},
              .pb = {1}, .pe = {1}),
     .n_post = 1, .post = {"add"}},
    {.cv = C1(.label = "own 128 k11 d5 p25 L77 +leaky +add", .c = 128, .o = 128, .len = {77},
              .k = {11}, .d = {5}, .pb = {25}, .pe = {25}),
     .n_post = 2, .post = {"leaky_relu", "add"}, .alpha = {0.1f}},
    {.cv = C1(.label = "own pre 80->512 k7 p3 L86", .c = 80, .o = 512, .len = {86}, .k = {7},
              .pb = {3}, .pe = {3})},
    {.cv = C1(.label = "own 24->40 k4 pads 2/5 L129 +tanh", .c = 24, .o = 40, .len = {129},
              .k = {4}, .pb = {2}, .pe = {5}),
     .n_post = 1, .post = {"tanh"}},
    {.cv = C1(.label = "own N3 16->8 k5 d2 p4 L50 no bias", .n = 3, .c = 16, .o = 8, .len = {50},
              .k = {5}, .d = {2}, .pb = {4}, .pe = {4}, .no_bias = 1)},
    {.cv = C1(.label = "own 256->264 k3 d3 p3 L130 +sigmoid", .c = 256, .o = 264, .len = {130},
              .k = {3}, .d = {3}, .pb = {3}, .pe = {3}),
     .n_post = 1, .post = {"sigmoid"}},
    {.cv = C1(.label = "own valid 64->32 k9 L40 +linear", .c = 64, .o = 32, .len = {40}, .k = {9}),
     .n_post = 1, .post = {"linear"}, .alpha = {0.5f}, .beta = {0.25f}},
    {.cv = C1(.label = "own oversized pads 8->16 k3 p4 L5", .c = 8, .o = 16, .len = {5}, .k = {3},
              .pb = {4}, .pe = {4})},
    {.cv = C1(.label = "own 64->64 k1 L3001 +add +add", .c = 64, .o = 64, .len = {3001}, .k = {1}),
     .n_post = 2, .post = {"add", "add"}},
    /* ConvTranspose by phases: HiFi-GAN's upsamplers, stride 1, asymmetric pads with
     * output_padding */
    {.cv = T1(.label = "own T 32->16 k16 s8 p4 L29 +leaky", .c = 32, .o = 16, .len = {29},
              .k = {16}, .s = {8}, .pb = {4}, .pe = {4}),
     .n_post = 1, .post = {"leaky_relu"}, .alpha = {0.1f}},
    {.cv = T1(.label = "own T 64->32 k4 s2 p1 L100 +add", .c = 64, .o = 32, .len = {100},
              .k = {4}, .s = {2}, .pb = {1}, .pe = {1}),
     .n_post = 1, .post = {"add"}},
    {.cv = T1(.label = "own T 24->16 k3 s1 p1 L50", .c = 24, .o = 16, .len = {50}, .k = {3},
              .pb = {1}, .pe = {1})},
    {.cv = T1(.label = "own T 16->8 k5 s3 pads 3/1 op2 L20", .c = 16, .o = 8, .len = {20},
              .k = {5}, .s = {3}, .pb = {3}, .pe = {1}, .op = {2})},
};

/* Layers it leaves to cuDNN even when forced: a Conv of stride 2, groups, channels not a
 * multiple of 8, a dilated ConvTranspose, a runtime W. */
static const fused_spec own_declined[] = {
    {.cv = C1(.label = "own? stride 2", .c = 32, .o = 32, .len = {100}, .k = {3}, .s = {2},
              .pb = {1}, .pe = {1})},
    {.cv = C1(.label = "own? groups 2", .c = 32, .o = 32, .g = 2, .len = {100}, .k = {3},
              .pb = {1}, .pe = {1})},
    {.cv = C1(.label = "own? 12 channels", .c = 12, .o = 16, .len = {100}, .k = {3}, .pb = {1},
              .pe = {1})},
    {.cv = T1(.label = "own? T dilation 2", .c = 16, .o = 16, .len = {30}, .k = {3}, .s = {2},
              .d = {2}, .pb = {1}, .pe = {1})},
};

/* check_fused (channels-last) on the fp16 context, and which kernel ran the layer there: 1 the
 * own kernel, 0 cuDNN, -1 neither counter moved. */
static int check_fused_where(cuda_harness *h, fused_spec fs, uint32_t const_mask)
{
    int own0, cudnn0, own1, cudnn1;
    fs.channels_last = 1;
    av__cuda_context_conv_counts(h->cx[1], &own0, &cudnn0);
    check_fused(h, &fs, const_mask);
    av__cuda_context_conv_counts(h->cx[1], &own1, &cudnn1);
    return own1 > own0 && cudnn1 == cudnn0 ? 1 : cudnn1 > cudnn0 && own1 == own0 ? 0 : -1;
}

static void test_own_kernel(cuda_harness *h)
{
    av__cuda_context_set_conv_impl(h->cx[1], 2, -1);
    for (size_t i = 0; i < sizeof own_cases / sizeof own_cases[0]; i++)
        if (check_fused_where(h, own_cases[i], 6) != 1) {
            fprintf(stderr, "%s: not run by the own kernel\n", own_cases[i].cv.label);
            check_failures++;
        }
    for (size_t i = 0; i < sizeof own_declined / sizeof own_declined[0]; i++)
        if (check_fused_where(h, own_declined[i], 6) != 0) {
            fprintf(stderr, "%s: expected on cuDNN\n", own_declined[i].cv.label);
            check_failures++;
        }
    fused_spec rt = own_cases[0]; /* a runtime W: no packed weights, so cuDNN */
    rt.cv.label = "own? runtime W";
    if (check_fused_where(h, rt, 0) != 0) {
        fprintf(stderr, "%s: expected on cuDNN\n", rt.cv.label);
        check_failures++;
    }
    /* every configuration on a few of the cases (the fastest one above is only one of them) */
    static const int pick[] = {0, 2, 3, 5, 8, 10};
    for (int cfg = 0; cfg < av__cuda_conv_own_configs(); cfg++) {
        av__cuda_context_set_conv_impl(h->cx[1], 2, cfg);
        for (size_t i = 0; i < sizeof pick / sizeof pick[0]; i++) {
            fused_spec fs = own_cases[pick[i]];
            char label[64];
            snprintf(label, sizeof label, "cfg %d %.36s", cfg, fs.cv.label + 4);
            fs.cv.label = label;
            /* a window configuration needs shared memory for (tile + (k - 1) * dil) rows and
             * k taps of weights: the k11 d5 case may exceed a device's per-block limit (then
             * cuDNN runs it) */
            int where = check_fused_where(h, fs, 6);
            if (where != 1 && !(where == 0 && pick[i] == 2)) {
                fprintf(stderr, "%s: configuration %d did not run it\n", label, cfg);
                check_failures++;
            }
        }
    }
    av__cuda_context_set_conv_impl(h->cx[1], 0, -1);
}

/* TF32 math (TF32 tensor-core products, float32 storage) on a few cases of each op. */
static void test_tf32(cuda_harness *h)
{
    char err[512];
    if (av__cuda_context_create(0, AV_GPU_TF32, &tf32_cx, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "TF32 context: %s\n", err);
        check_failures++;
        tf32_cx = NULL;
        return;
    }
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        if (strstr(conv_cases[i].label, "hifigan") || strstr(conv_cases[i].label, "asym"))
            check_conv(h, &conv_cases[i], 6);
    for (int cl = 0; cl < 2; cl++) {
        fused_spec fs = fused_cases[2];
        fs.channels_last = cl;
        check_fused(h, &fs, 6);
    }
    check_matmul(h, "MatMul [1,257,192]x[192,80]", 3, (int64_t[]){1, 257, 192}, 2,
                 (int64_t[]){192, 80}, 2);
    check_matmul(h, "MatMul [3,1,4,5]x[1,2,5,6] both bcast", 4, (int64_t[]){3, 1, 4, 5}, 4,
                 (int64_t[]){1, 2, 5, 6}, 0);
    check_gemm(h, "Gemm linear 33x256 W^T const", 0, 1, 1.0f, 1.0f, 33, 80, 256, 1,
               (int64_t[]){80}, 6);
    av__cuda_context_free(tf32_cx);
    tf32_cx = NULL;
}

int main(void)
{
    cuda_harness h;
    if (!cuda_harness_open(&h)) {
        if (check_failures)
            return check_report("test_cuda_conv");
        SKIP("%s", h.why);
    }
    printf("seed %u\n", SEED);
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        check_conv(&h, &conv_cases[i], 6);

    /* runtime W and B (inputs of the step, not constants) */
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        if (!strstr(conv_cases[i].label, "hifigan"))
            continue;
        conv_spec rt = conv_cases[i];
        char label[64];
        snprintf(label, sizeof label, "%.22s runtime W, B", conv_cases[i].label);
        rt.label = label;
        check_conv(&h, &rt, 0);
    }

    for (size_t i = 0; i < sizeof fused_cases / sizeof fused_cases[0]; i++)
        for (int cl = 0; cl < 2; cl++) {
            fused_spec fs = fused_cases[i];
            fs.channels_last = cl;
            check_fused(&h, &fs, 6);
        }
    /* channels-last with a runtime W: no KRSC weights, staged through NCHW */
    fused_spec fs = fused_cases[2];
    fs.channels_last = 1;
    fs.cv.label = "runtime W +leaky +add +tanh";
    check_fused(&h, &fs, 0);

    test_own_kernel(&h);
    test_products(&h);
    test_declines(&h);
    test_tf32(&h);
    cuda_harness_close(&h);
    return check_report("test_cuda_conv");
}
