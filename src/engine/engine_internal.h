/* Internals of the engine (src/engine/): the loaded model and the session's execution plan. */
#ifndef AV_ENGINE_INTERNAL_H
#define AV_ENGINE_INTERNAL_H

#include "autovoice/engine.h"
#include "core/threadpool.h"
#include "graph/ir.h"
#include "ops/op.h"

/* Highest default-domain opset whose operator semantics the kernels implement. */
#define AV__MAX_OPSET 18

struct av_model {
    av__graph *g;
    const av__op **ops;           /* per node: its operator (all non-NULL after load) */
    unsigned char *needs_value;   /* per value: planning must compute its data (shape inputs) */
    av_tensor *input_info;        /* per graph input / output, for av_model_input/_output */
    av_tensor *output_info;
    int64_t parameters;
    struct av__plan *plan;        /* loaded from a plan file (engine/plan_format.h), else NULL */
};

/* Makes a model of graph g and, for a plan, its plan record (both owned by the model from then
 * on, released on failure too): checks the opset and that every operator exists, runs the load
 * passes when `optimise` is non-zero (a plan's graph had them when it was built), then the
 * shape-value analysis. Messages are unprefixed. */
av_status av__model_from_graph(av__graph *g, struct av__plan *plan, int optimise,
                               av_model **out, char *err, size_t err_size);

/* Runs node `n` of graph g eagerly: infer then run, outputs allocated with av__aligned_alloc
 * into outs[] (count = node's n_outputs; an omitted output gets no data). `in` holds the input
 * tensors (NULL for omitted ones). On failure outs are freed and err says why (without the node
 * name: callers prefix it). */
av_status av__engine_eval_node(const av__graph *g, int n, const av__op *op,
                               const av__tensor *const *in, av__tensor *outs, uint64_t seed,
                               char *err, size_t err_size);

/* "name (OpType)" or "#index (OpType)" for messages. */
void av__engine_node_label(const av__graph *g, int n, char *out, size_t size);

/* Estimated floating-point operations of one node with these input/output tensors (0 for
 * everything but convolutions and matrix products). */
double av__engine_node_flops(const av__node *node, const av__tensor *const *in,
                             const av__tensor *const *out);

#endif /* AV_ENGINE_INTERNAL_H */
