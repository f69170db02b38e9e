/* Graph passes: functions that check or rewrite an av__graph in place (graph/ir.h). Each returns
 * AV_STATUS_OK or an error with a message in `err` (err_size bytes, may be NULL / 0); a pass that
 * fails leaves the graph valid to free, but not necessarily as it was. */
#ifndef AV_GRAPH_PASSES_H
#define AV_GRAPH_PASSES_H

#include <stddef.h>

#include "autovoice/common.h"
#include "graph/ir.h"

/* Reorders g->nodes into a topological order: every node comes after the producers of its
 * inputs. Stable: among the nodes ready to run it always takes the one that came first, so a
 * graph already in a valid order keeps it. Sets every value's `producer` from the nodes' outputs
 * (-1 for values no node writes). Errors: AV_STATUS_FORMAT "graph has a cycle through node NAME
 * (OpType)" (the node is on the cycle; "node #i (OpType)" when unnamed, i its index before the
 * call) and a value written by two nodes (the graph is then unchanged apart from producers);
 * AV_STATUS_OUT_OF_MEMORY. O(nodes log nodes + edges). */
av_status av__graph_toposort(av__graph *g, char *err, size_t err_size);

/* Removes nodes marked dead (op_type "") and nodes none of whose outputs is used (a graph
 * output, or read by a live node), keeping the order of the rest; frees the data of constants
 * nothing reads any more and sets every value's producer. Errors: AV_STATUS_OUT_OF_MEMORY. */
av_status av__graph_remove_dead(av__graph *g, char *err, size_t err_size);

/* ---- rewriting passes (src/graph/pass_*.c) ---------------------------------------------------
 * Each takes a topologically sorted graph (as model loading leaves it after constant folding and
 * dead-node removal), rewrites matching patterns in place, keeps a topological order, removes
 * what the rewrite left unused (av__graph_remove_dead) and adds the number of rewrites it made
 * to *rewrites (may be NULL). Patterns are rewritten only when everything the rewrite depends on
 * is visible in the graph (constants of the right dtype and shape, single consumers); anything
 * else stays as it was. Outputs are unchanged up to float32 rounding (each pass says how). */

/* Weight norm left as nodes (constant folding folds it when every intermediate is under its
 * size limit): a Conv/ConvTranspose weight computed as g * v / ||v|| or v * (g / ||v||) from
 * constant float32 v and g, where ||v|| is ReduceL2(v), Sqrt(ReduceSum(Pow(v, 2))),
 * Sqrt(ReduceSum(Mul(v, v))) or Sqrt(ReduceSumSquare(v)) with keepdims=1 over every axis but
 * at most one (the channel axis of g), becomes a constant weight. Norms are summed in double. */
av_status av__pass_fold_weight_norm(av__graph *g, int *rewrites, char *err, size_t err_size);

/* BatchNormalization (inference mode: training_mode 0, no extra outputs; before opset 9
 * spatial=1) whose input is the only use of a Conv/ConvTranspose output, with constant float32
 * weight, bias (or none), scale, B, mean and var: folded into a new weight and bias,
 * w' = w * s and b' = (b - mean) * s + B per output channel, s = scale / sqrt(var + epsilon),
 * computed in double. The Conv then writes the BatchNormalization's output. */
av_status av__pass_fold_batchnorm(av__graph *g, int *rewrites, char *err, size_t err_size);

/* A constant-mode Pad with value 0 (attribute, or constant input absent or 0), constant
 * non-negative pads on spatial axes only (axes >= 2), whose output is read only by one Conv as
 * its data input (auto_pad NOTSET): the pads are added to the Conv's `pads` and the Pad goes.
 * Other modes (reflect, edge, wrap) stay. Exact: zero padding is what Conv pads mean. */
av_status av__pass_fold_pad(av__graph *g, int *rewrites, char *err, size_t err_size);

/* Pointwise chains: two or more elementwise nodes in a row, each intermediate read only by the
 * next, every step a unary map or a binary op whose other operand is a constant (count 1, or a
 * per-channel constant on a channel axis whose size the graph shows) or the chain's own input,
 * become one ElementwiseChain node (domain AV__DOMAIN_INTERNAL; src/ops/elementwise_chain.c)
 * that applies every step to a block of elements while it is in cache. Each step runs the
 * same kernel as the node it replaces, so results are bit-identical. */
av_status av__pass_fuse_pointwise(av__graph *g, int *rewrites, char *err, size_t err_size);

#endif /* AV_GRAPH_PASSES_H */
