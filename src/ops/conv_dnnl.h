/* Convolutions through oneDNN (Debian libdnnl 2.6, C API), the second implementation of Conv and
 * ConvTranspose beside the im2col + SGEMM kernels of conv_gemm.c, and the internal operator
 * FusedConv that runs them. Internal to src/ops/conv*.c, the builder and the tests.
 *
 * ---- FusedConv (domain AV__DOMAIN_INTERNAL) --------------------------------------------------
 * Made by the builder (src/builder/build_graph.c), never by exporters. A Conv or ConvTranspose
 * with what follows it fused, run by one oneDNN primitive created once per plan:
 *
 *   input 0     X: [N, C, spatial...], or [N, spatial..., C] with channels_last; float32, or
 *               bfloat16 (precision BF16) / int8 (precision INT8, scaled by x_scale) when the
 *               producer already wrote that type
 *   input 1     W: constant float32 in the ONNX layout of Conv ([O, C/group, k...]) or
 *               ConvTranspose ([C, O/group, k...])
 *   input 2     B: optional constant float32 [O] ("" when absent)
 *   inputs 3..  one float32 addend per "add" post step, in order, of Y's shape and layout
 *   output 0    Y: X's layout; float32, or y_type
 *   attributes  transpose      INT 0 | 1: ConvTranspose semantics (default 0)
 *               group, dilations, strides, pads, kernel_shape, auto_pad, output_padding,
 *               output_shape: as the ONNX operator (in logical [N, C, spatial...] terms)
 *               channels_last  INT 0 | 1 (default 0)
 *               precision      INT av_precision of the multiply: FP32 (default), BF16 (bf16
 *                              src and weights, float32 accumulation), INT8 (int8 src and
 *                              weights, int32 accumulation, float32 rescaling)
 *               x_scale        FLOAT > 0, INT8 only: X = round(x / x_scale) clipped to
 *                              [-127, 127] (done here when X is float32)
 *               x_zero         INT in [0, 255], INT8 with a float32 X only: X is quantised
 *                              asymmetrically instead, to uint8 round(x / x_scale) + x_zero
 *                              clipped to [0, 255] (oneDNN's source zero point): twice the
 *                              resolution for a LeakyRelu's output, whose negative side is
 *                              small
 *               y_type         INT av__dtype of Y: float32 (default), bfloat16 (BF16), int8
 *                              (INT8, with y_scale; post steps then only relu / leaky_relu)
 *               y_scale        FLOAT > 0: Y = round(y / y_scale) clipped, for y_type int8
 *               pre            STRING "" | "relu" | "leaky_relu" (slope pre_alpha): applied to
 *                              a float32 X while it is converted to bfloat16 / int8 (BF16 and
 *                              INT8 only: FP32 reads X as it is)
 *               pre_alpha      FLOAT
 *               post           STRINGS, applied in order to conv + bias: "relu",
 *                              "leaky_relu" (slope alpha), "tanh", "sigmoid", "linear"
 *                              (alpha * y + beta), "add" (+ the next addend input)
 *               post_alpha, post_beta   FLOATS, one per post step
 *
 * Weights per output channel o of an INT8 node: w_scale[o] = max|W[o]| / 127 (1 when W[o] is
 * all zero), quantised to round(w / w_scale[o]) by oneDNN's reorder (round to nearest even).
 *
 * Threads: a convolution runs in tiles along its first spatial axis (channels-last only;
 * channels-first data is one tile), each tile a single-threaded oneDNN execution on the
 * session's pool, its X slice converted (bfloat16 / int8 / uint8, with the pre step) by the same
 * thread just before. Tiles are cut from the shapes alone: results do not depend on the thread
 * count. A prepared convolution runs on pools of at most the size it was prepared for. */
#ifndef AV_OPS_CONV_DNNL_H
#define AV_OPS_CONV_DNNL_H

#include <stddef.h>

#include "autovoice/engine.h"
#include "ops/conv_internal.h"

#define AV__FUSED_CONV_OP "FusedConv"
#define AV__DNNL_MAX_POST 8

typedef enum av__dnnl_act {
    AV__DNNL_ACT_NONE = 0,
    AV__DNNL_ACT_RELU,       /* x > 0 ? x : alpha * x (LeakyRelu; Relu with alpha 0) */
    AV__DNNL_ACT_TANH,
    AV__DNNL_ACT_SIGMOID,
    AV__DNNL_ACT_LINEAR,     /* alpha * x + beta */
    AV__DNNL_ACT_ADD         /* + the next addend (post steps only) */
} av__dnnl_act;

typedef struct av__dnnl_step {
    av__dnnl_act act;
    float alpha, beta;
} av__dnnl_step;

/* Everything that decides a primitive. */
typedef struct av__dnnl_conv_desc {
    av__conv_params p;          /* logical [N, C, spatial...] sizes, float32 */
    int channels_last;
    av_precision precision;     /* FP32, BF16, INT8 */
    av__dtype x_type, y_type;   /* F32, BF16 or I8 */
    float x_scale, y_scale;     /* INT8 */
    int x_zero;                 /* INT8, float32 X: 0..255 (uint8 with this zero point), or -1 */
    av__dnnl_step pre;          /* NONE, or RELU (BF16 / INT8 with float32 X) */
    int n_post;
    av__dnnl_step post[AV__DNNL_MAX_POST];
} av__dnnl_conv_desc;

/* A ready primitive with its weights (reordered and, for INT8, quantised) and bias. */
typedef struct av__dnnl_conv av__dnnl_conv;

/* Checks d, creates the primitives (one per tile shape, single-threaded) and reorders the
 * weights w (float32, ONNX layout) and bias (float32 [O] or NULL) for them. `threads`: the
 * largest pool runs will use (each thread gets its own memory objects and scratch region).
 * UNSUPPORTED when oneDNN has no implementation (the message says which), INVALID_ARGUMENT for a
 * desc FusedConv forbids, OUT_OF_MEMORY, INTERNAL for other oneDNN errors (with oneDNN's status
 * text). *out is NULL on failure. */
av_status av__dnnl_conv_create(const av__dnnl_conv_desc *d, const float *w, const float *bias,
                               int threads, av__dnnl_conv **out, char *err, size_t err_size);
void av__dnnl_conv_free(av__dnnl_conv *c);

/* Scratch bytes a run needs (converted X, oneDNN's scratchpad), 64-byte aligned regions. */
size_t av__dnnl_conv_scratch(const av__dnnl_conv *c);

/* oneDNN's name of the implementation it chose ("brgconv:avx512_core", ...). */
const char *av__dnnl_conv_impl(const av__dnnl_conv *c);

/* Y = the fused convolution of X. addends[i] for the i-th "add" step. scratch holds
 * av__dnnl_conv_scratch(c) bytes, 64-byte aligned. Not thread-safe on one c (its memory
 * objects get the buffers of this call). */
av_status av__dnnl_conv_run(av__dnnl_conv *c, const void *x, const float *const *addends,
                            void *y, void *scratch, av__threadpool *pool, char *err,
                            size_t err_size);

/* ---- helpers shared with the builder --------------------------------------------------------- */

/* 1 when this CPU runs oneDNN's bf16 / int8 convolutions at speed (AVX512-BF16 / AVX512-VNNI
 * with AVX-512 BW, VL, DQ), else 0. */
int av__dnnl_cpu_has_bf16(void);
int av__dnnl_cpu_has_int8(void);

/* Reads a FusedConv node (ctx->in as given) into *d. FORMAT / UNSUPPORTED with a message. */
av_status av__fused_conv_desc(const av__op_ctx *ctx, av__dnnl_conv_desc *d);

/* The precision a node computes in: a FusedConv's `precision`, FP32 for every other node. */
av_precision av__node_precision(const av__node *node);

/* The internal operators of the convolution family (FusedConv), for the registry. */
extern const av__op_stateful av__ops_conv_internal[];
extern const int av__ops_conv_internal_count;

#endif /* AV_OPS_CONV_DNNL_H */
