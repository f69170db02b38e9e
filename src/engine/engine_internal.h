/* Internals of the engine (src/engine/): the loaded model and the session's execution plan. */
#ifndef AV_ENGINE_INTERNAL_H
#define AV_ENGINE_INTERNAL_H

#include "autovoice/engine.h"
#include "core/threadpool.h"
#include "graph/ir.h"
#include "ops/op.h"

/* Highest default-domain opset whose operator semantics the kernels implement. */
#define AV__MAX_OPSET 18

/* Load passes av__model_from_graph records (av_model_pass). */
#define AV__MAX_LOAD_PASSES 8

struct av_model {
    av__graph *g;
    const av__op **ops;           /* per node: its operator (all non-NULL after load) */
    unsigned char *needs_value;   /* per value: planning must compute its data (shape inputs) */
    av_tensor *input_info;        /* per graph input / output, for av_model_input/_output */
    av_tensor *output_info;
    int64_t parameters;
    struct av__plan *plan;        /* loaded from a plan file (engine/plan_format.h), else NULL */
    int n_passes;                 /* what the load passes did (av_model_pass) */
    av_model_pass_info passes[AV__MAX_LOAD_PASSES];
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

/* Called by av_session_run after each node it runs (not after the nodes planning evaluated):
 * the node's index in the model's graph and its tensors, outputs freshly computed. A non-OK
 * return stops the run with that status (the message goes to err, err_size bytes, the
 * session's). For the builder: calibration statistics, per-layer errors, shapes. */
typedef av_status (*av__session_observer)(void *user, int node, int n_in,
                                          const av__tensor *const *in, int n_out,
                                          av__tensor *const *out, char *err, size_t err_size);
/* Sets (fn NULL: removes) the observer of session s. */
void av__session_set_observer(av_session *s, av__session_observer fn, void *user);

/* "name (OpType)" or "#index (OpType)" for messages. */
void av__engine_node_label(const av__graph *g, int n, char *out, size_t size);

/* Estimated floating-point operations of one node with these input/output tensors (0 for
 * everything but convolutions and matrix products). */
double av__engine_node_flops(const av__node *node, const av__tensor *const *in,
                             const av__tensor *const *out);

#endif /* AV_ENGINE_INTERNAL_H */
