/* The builder's graph rewrites for the oneDNN convolution path (docs/BUILDER.md, "Precision"):
 *
 *   stage A  av__build_fuse_convs: every Conv / ConvTranspose oneDNN can run becomes a FusedConv
 *            (ops/conv_dnnl.h) in fp32, channels-last, with the elementwise nodes that follow it
 *            (activations, scalar affine maps, residual adds, pointwise chains of those) as its
 *            post steps; the elementwise nodes between such convolutions run channels-last too,
 *            and Transposes convert at the region's edges;
 *   keep     av__build_keep_nodes: the config's keep_precision entries as FusedConv nodes;
 *   stage C  av__build_set_precision: precisions and int8 scales per FusedConv, then a
 *            LeakyRelu / Relu whose only readers are bf16 / int8 convolutions becomes their pre
 *            step (applied while X is converted), and a bf16 / int8 convolution whose only
 *            reader is a convolution of the same precision writes that type directly (int8 with
 *            the reader's X scale).
 *
 * Each edits the graph in place, keeps the names of every graph input and output, leaves a
 * topological order and no dead nodes. Outputs are unchanged up to float32 rounding (oneDNN's
 * accumulation order; tanh / sigmoid within a few ulp; x / c becomes x * (1 / c)). */
#ifndef AV_BUILDER_BUILD_GRAPH_H
#define AV_BUILDER_BUILD_GRAPH_H

#include <stddef.h>

#include "autovoice/engine.h"
#include "builder/build_config.h"
#include "graph/ir.h"

typedef struct av__build_fuse_stats {
    int convs;       /* FusedConv nodes made */
    int steps;       /* elementwise nodes absorbed as post steps */
    int transposes;  /* Transposes added at the channels-last region's edges */
} av__build_fuse_stats;

/* Stage A. `shapes[v]` is value v's tensor (dtype, shape; data unused) at a reference input,
 * ndim -1 when unknown: a residual add is fused only when both operands are known to be float32
 * of one shape. `usable[n]` (may be NULL: all) says whether oneDNN can run Conv / ConvTranspose
 * node n (the builder tries at the reference shapes). Errors: OUT_OF_MEMORY, INTERNAL. */
av_status av__build_fuse_convs(av__graph *g, const av__tensor *shapes,
                               const unsigned char *usable, av__build_fuse_stats *stats,
                               char *err, size_t err_size);

/* Stage A's conditions on a Conv / ConvTranspose node without shapes: default domain,
 * constant float32 weights (and bias) of rank 3 to 5, no ConvTranspose output_shape or SAME
 * padding. */
int av__build_conv_candidate(const av__graph *g, const av__node *node);

/* keep[n] = 1 for the FusedConv nodes of a stage-A graph that `keep` names: first_conv (the
 * first one fed by a graph input, through Transposes), upsamplers (every ConvTranspose),
 * last_conv (the last one before a graph output, through Transposes and elementwise nodes), or
 * node names. keep may be NULL (nothing kept). INVALID_ARGUMENT names an entry that matches no
 * node; `why[n]` (may be NULL) gets the entry that kept node n (a static or keep's string). */
av_status av__build_keep_nodes(const av__graph *g, const av__build_keep *keep,
                               unsigned char *kept, const char **why, char *err,
                               size_t err_size);

/* Stage C. prec[n], x_scale[n] and x_zero[n] for the FusedConv nodes n of g (the rest ignored):
 * FP32, BF16 or INT8 (with x_scale > 0, and x_zero 0..255 for a uint8 X or -1). *chained counts
 * the convolutions that now write bf16 / int8 for the next one, *pre the LeakyRelu / Relu nodes
 * folded into pre steps (either may be NULL). A convolution with a uint8 X keeps a float32 X. */
av_status av__build_set_precision(av__graph *g, const av_precision *prec, const float *x_scale,
                                  const int *x_zero, int *chained, int *pre, char *err,
                                  size_t err_size);

/* A deep copy of g (values, constants, nodes, attributes). NULL when out of memory. */
av__graph *av__build_graph_clone(const av__graph *g);

/* A copy of FusedConv node `src` computing in precision p (INT8: with x_scale, and x_zero when
 * >= 0), for trying a layer in another precision on its own. Free with av__build_node_free.
 * NULL when out of memory. */
av__node *av__build_node_variant(const av__node *src, av_precision p, float x_scale, int x_zero);
void av__build_node_free(av__node *node);

#endif /* AV_BUILDER_BUILD_GRAPH_H */
