/* The CUDA backend as the engine (src/engine/session.c) and the tests see it: plain C. Implemented
 * in src/cuda/backend.cu when the backend is built; without it (src/core/build_info.c) every
 * entry point answers AV_STATUS_UNSUPPORTED "CUDA backend not built into this binary".
 *
 * A CUDA session context owns the device, one stream, the cuBLAS / cuBLASLt / cuDNN handles and
 * the device copies of the model's constants (uploaded once, on first use). A CUDA plan is made
 * from the CPU planner's result (shapes, plan-time values, arena offsets) and owns the device
 * arena, the per-step kernel states, pinned staging buffers and, once captured, the CUDA graph
 * of a run. */
#ifndef AV_CUDA_BACKEND_H
#define AV_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "autovoice/engine.h"
#include "graph/ir.h"
#include "ops/op.h"

typedef struct av__cuda_context av__cuda_context;
typedef struct av__cuda_plan av__cuda_plan;

/* Opens GPU `device` with `math`. UNSUPPORTED when the backend is not built; DEVICE when there
 * is no such GPU or the driver fails (message names the device and CUDA's error text). */
av_status av__cuda_context_create(int device, av_gpu_math math, av__cuda_context **out,
                                  char *err, size_t err_size);
void av__cuda_context_free(av__cuda_context *cx);

/* Which kernels run the convolutions autovoice's own fp16 kernel can run, in plans made from
 * now on: 0 auto (timed against cuDNN, the faster kept; the default, or AV_CUDA_CONV=auto),
 * 1 cuDNN only (AV_CUDA_CONV=cudnn), 2 the own kernel wherever it fits (AV_CUDA_CONV=own), in
 * its fastest configuration, or with impl 2 and config >= 0 in that configuration (for tests;
 * a configuration that cannot run a layer leaves it to cuDNN). Forgets the convolution choices
 * the context remembered. */
void av__cuda_context_set_conv_impl(av__cuda_context *cx, int impl, int config);

/* How many configurations (tile shapes) the own convolution kernel has; 0 without the backend. */
int av__cuda_conv_own_configs(void);

/* How many convolutions the context's plans have prepared so far with autovoice's own kernel
 * (*own) and with cuDNN (*cudnn). */
void av__cuda_context_conv_counts(const av__cuda_context *cx, int *own, int *cudnn);

/* How a value of the planned graph reaches the CUDA plan. */
typedef enum av__cuda_value_kind {
    AV__CUDA_VALUE_NONE = 0,      /* not used by any runtime step */
    AV__CUDA_VALUE_CONST,         /* graph constant: host data, uploaded once per context */
    AV__CUDA_VALUE_PLANNED,       /* computed at plan time: host data, uploaded once per plan */
    AV__CUDA_VALUE_INPUT,         /* graph input: host data bound before each run */
    AV__CUDA_VALUE_ARENA          /* computed by a runtime step, at arena offset `offset` */
} av__cuda_value_kind;

typedef struct av__cuda_value {
    av__cuda_value_kind kind;
    const av__tensor *host;       /* dtype, shape; data for CONST / PLANNED (host memory) */
    size_t offset;                /* ARENA */
    int graph_output;             /* 1: the run downloads it (host buffer owned by the plan) */
} av__cuda_value;

typedef struct av__cuda_step {
    int node;                     /* index in g->nodes */
    const av__op *op;             /* the CPU operator (fallback, infer) */
} av__cuda_step;

/* Makes the device side of a plan: values[v] for every value of g (n = g->n_values), the runtime
 * steps in order, the CPU plan's arena size. Prepares every step's kernel (or marks it for the
 * CPU fallback), allocates the device arena and scratch, uploads constants and plan-time values.
 * Messages name the node. */
av_status av__cuda_plan_create(av__cuda_context *cx, const av__graph *g, const av__cuda_value *values,
                               const av__cuda_step *steps, int n_steps, size_t arena_bytes,
                               uint64_t seed, av__cuda_plan **out, char *err, size_t err_size);
void av__cuda_plan_free(av__cuda_plan *p);

/* Runs the plan: uploads the graph inputs (input_data[i] for the i-th graph input, shaped as
 * planned), runs every step (replaying the captured CUDA graph after the first run when no step
 * falls back to the CPU), downloads the graph outputs and waits for the stream. */
av_status av__cuda_plan_run(av__cuda_plan *p, const void *const *input_data, char *err,
                            size_t err_size);

/* Host data of value v (a graph output) after a successful run, else NULL. Float32 outputs are
 * float32 here whatever the device stored. */
const void *av__cuda_plan_output(const av__cuda_plan *p, int v);

/* Device bytes the plan holds (arena + scratch + plan-time values), steps run on the CPU, and
 * whether runs replay a CUDA graph. */
void av__cuda_plan_stats(const av__cuda_plan *p, size_t *device_bytes, int *cpu_steps,
                         int *graph_replay);
/* GPU time of the last run's steps in ms, by CUDA events (without the transfers), or 0. */
double av__cuda_plan_last_ms(const av__cuda_plan *p);
/* Runs the plan once step by step (never the captured graph) with a CUDA event after each step
 * and writes, for each runtime step k in order, its node index nodes[k] and GPU time ms[k]
 * (arrays of at least the plan's step count; *n gets the count). Outputs are not downloaded. */
av_status av__cuda_plan_profile(av__cuda_plan *p, const void *const *input_data, int *nodes,
                                double *ms, int *n, char *err, size_t err_size);
/* 1 when the CUDA kernel of (domain, op_type) can write a following LeakyRelu in its own pass
 * (the planner keeps such a LeakyRelu's memory from the producer's step on), else 0. */
int av__cuda_absorbs_leaky(const char *domain, const char *op_type);
/* LeakyRelu nodes folded into the epilogue of the convolution that feeds them. */
int av__cuda_plan_folded(const av__cuda_plan *p);
/* Why the plan runs in another math than its context's ("fp16 declined: ..."), or "". */
const char *av__cuda_plan_note(const av__cuda_plan *p);
/* The i-th runtime step that runs on the CPU: its node index, and why (static or plan-owned
 * text). Returns -1 past the end. */
int av__cuda_plan_cpu_step(const av__cuda_plan *p, int i, const char **why);

/* ---- for the tests: one node, host tensors in and out ---------------------------------------- */

/* A plan of node alone on host tensors, as a session would make it: values 0..n_in-1 are its
 * inputs (bit i of const_mask: a plan-time constant whose host tensor the kernel's prepare()
 * sees; else a graph input, whose data goes to input_data in order for av__cuda_plan_run), then
 * its outputs, shaped by the CPU operator's infer() into out_shapes (n_out, data NULL) and read
 * after a run with av__cuda_plan_output(p, n_in + o). The arena is poisoned (0xA5 bytes) so
 * unwritten elements show. The plan owns the one-node graph; the inputs must outlive it. */
av_status av__cuda_node_plan(av__cuda_context *cx, const av__node *node, int64_t opset, int n_in,
                             const av__tensor *const *in, uint32_t const_mask, int n_out,
                             av__tensor *out_shapes, const void **input_data, av__cuda_plan **out,
                             char *err, size_t err_size);
/* 1 when runtime step `step` of p runs on the GPU (0: on the CPU fallback). */
int av__cuda_plan_on_gpu(const av__cuda_plan *p, int step);

/* Runs one node on the device the way a plan would: CPU infer() for the output shapes, inputs
 * uploaded (those with bit i of const_mask set are "constants": the kernel's prepare() gets their
 * host tensor), supports / prepare / run, outputs downloaded into outs (allocated with
 * av__aligned_alloc, float32 outputs as float32). *on_gpu = 0 when the node fell back to the CPU
 * (outs are then the CPU's result). */
av_status av__cuda_eval_node(av__cuda_context *cx, const av__node *node, int64_t opset, int n_in,
                             const av__tensor *const *in, uint32_t const_mask, int n_out,
                             av__tensor *outs, int *on_gpu, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* AV_CUDA_BACKEND_H */
