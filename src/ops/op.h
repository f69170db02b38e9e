/* The operator interface: one av__op per ONNX operator, each with a shape/type inference function
 * and a CPU kernel. Kernels live one family per file (src/ops/elementwise.c, reduce.c,
 * shape_ops.c, conv.c, ...); src/ops/registry.c lists them all. Internal.
 *
 * Life of a node:
 *  1. planning (once per input-shape set): infer() gets every input's dtype and shape; an input's
 *     data is present only if the input is a constant or its bit is set in `value_inputs` (then
 *     the planner computes it first). infer() checks attributes, input count and dtypes, and sets
 *     every present output's dtype, ndim and shape. Bad models get AV_STATUS_FORMAT (or
 *     AV_STATUS_UNSUPPORTED for valid but unimplemented cases) and a message in ctx->err.
 *  2. running: run() gets inputs with data and outputs with data allocated (shapes as inferred),
 *     and computes the outputs. Outputs never alias inputs, except output 0 and input 0 of an
 *     op flagged AV__OP_INPLACE. run() must not allocate memory except
 *     through ctx->scratch (see scratch_bytes) and must not fail on inputs infer() accepted,
 *     except for data-dependent checks (an out-of-range Gather index, say).
 * Both are pure functions of their arguments: no globals, thread-safe. */
#ifndef AV_OPS_OP_H
#define AV_OPS_OP_H

#include <stdarg.h>
#include <stdint.h>

#include "core/threadpool.h"
#include "graph/ir.h"

typedef struct av__op_ctx {
    const av__node *node;
    int64_t opset;                 /* the model's default-domain opset version */
    int n_in;
    const av__tensor *const *in;   /* in[i] is NULL when optional input i is omitted */
    int n_out;
    av__tensor *const *out;        /* out[i] is NULL when optional output i is omitted */
    av__threadpool *pool;          /* may be NULL: run on the calling thread */
    void *scratch;                 /* run(): scratch_bytes() bytes, 64-byte aligned, or NULL */
    uint64_t seed;                 /* random ops without a `seed` attribute use this */
    char *err;                     /* message buffer (err_size bytes) */
    size_t err_size;
    /* run() and scratch_bytes(): what the op's prepare() made for this node and these shapes
     * (NULL when the op has no prepare, or before it ran) */
    void *state;
} av__op_ctx;

enum {
    AV__OP_RANDOM = 1u << 0,       /* output depends on a generator: never constant-folded */
    /* run() stays correct when output 0 is the very buffer of input 0 (same byte size): each
     * output element is written only after the input elements at its own index are read.
     * The planner then lets output 0 take input 0's memory when input 0 dies at this node. */
    AV__OP_INPLACE = 1u << 1,
    /* the op is the `op` member of an av__op_stateful (below): it prepares per-node state */
    AV__OP_STATEFUL = 1u << 2
};

typedef struct av__op {
    const char *name;              /* ONNX op_type, default domain */
    uint32_t value_inputs;         /* bit i: infer() needs the values of input i */
    unsigned flags;
    av_status (*infer)(const av__op_ctx *ctx);
    av_status (*run)(const av__op_ctx *ctx);
    /* Optional: scratch memory run() needs for these input/output shapes (e.g. im2col). NULL
     * means none. Called after infer(); must depend on shapes and attributes only, not on
     * ctx->pool (load-time folding calls it without a pool). */
    size_t (*scratch_bytes)(const av__op_ctx *ctx);
} av__op;

/* An operator with per-node state made once per plan, after infer(), for the shapes inferred
 * (constant inputs have their data, the others do not): oneDNN primitives and weights reordered
 * for them, say. prepare() sets *state (may be NULL) or fails with a message in ctx->err;
 * release() frees it (NULL is a no-op); run() and scratch_bytes() get it in ctx->state.
 * Whoever runs such an op prepares it first: the session's planner once per plan,
 * av__engine_eval_node around its single run. Its table entry is `op`, flagged
 * AV__OP_STATEFUL; av__op_stateful_of() gets back to the hooks. */
typedef struct av__op_stateful {
    av__op op; /* first: an av__op pointer to it is a pointer to this struct */
    av_status (*prepare)(const av__op_ctx *ctx, void **state);
    void (*release)(void *state);
} av__op_stateful;

/* The hooks of a stateful op, or NULL for any other op. */
static inline const av__op_stateful *av__op_stateful_of(const av__op *op)
{
    return op && (op->flags & AV__OP_STATEFUL) ? (const av__op_stateful *)(const void *)op : NULL;
}

/* The domain of the engine's own operators, which graph passes create (fused nodes); they are
 * found by av__op_find but not listed by av__op_count / av__op_at. */
#define AV__DOMAIN_INTERNAL "ai.autovoice"

/* The operator called op_type in `domain` ("" and "ai.onnx" are the default domain,
 * AV__DOMAIN_INTERNAL the internal operators), or NULL. */
const av__op *av__op_find(const char *domain, const char *op_type);
/* Number of registered operators, and the i-th (for `inspect` and the docs). */
int av__op_count(void);
const av__op *av__op_at(int i);

/* ---- helpers shared by the op files (src/ops/op_util.c) ------------------------------------ */

/* Formats a message into ctx->err and returns `status`. */
av_status av__op_fail(const av__op_ctx *ctx, av_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks n_in within [min_in, max_in] and that inputs [0, min_in) are present. */
av_status av__op_check_inputs(const av__op_ctx *ctx, int min_in, int max_in);

/* Element i (flat, C order) of an integer or bool tensor as int64; of a float tensor truncated. */
int64_t av__tensor_get_i64(const av__tensor *t, int64_t i);
/* Element i of any numeric tensor as double (f16/bf16 converted). */
double av__tensor_get_f64(const av__tensor *t, int64_t i);
/* Stores v (converted, saturating for integers, round-to-nearest-even for f16/bf16) into
 * element i of t. */
void av__tensor_set_f64(av__tensor *t, int64_t i, double v);

/* IEEE half and bfloat16 conversions (round to nearest even; NaN and inf preserved). */
float av__f16_to_f32(uint16_t h);
uint16_t av__f32_to_f16(float f);
float av__bf16_to_f32(uint16_t h);
uint16_t av__f32_to_bf16(float f);

/* Multidirectional (numpy) broadcasting of shapes a and b into out; AV_STATUS_FORMAT when they
 * are incompatible. out may alias neither input. */
av_status av__broadcast_shapes(int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                               int64_t *out);

/* Normalises an axis in [-rank, rank) to [0, rank); returns -1 when out of range. */
int av__normalize_axis(int64_t axis, int rank);

/* Sets t's ndim and shape (copies n dims). */
void av__tensor_set_shape(av__tensor *t, int n, const int64_t *shape);

/* The counter-based generator of the Random* operators: a documented, platform-independent
 * function of (seed, index). av__rng_uniform is in [0, 1) with 24 random bits; av__rng_normal is
 * standard normal by Box-Muller over two uniforms of the counters 2i and 2i+1. */
uint64_t av__rng_u64(uint64_t seed, uint64_t index);
float av__rng_uniform(uint64_t seed, uint64_t index);
float av__rng_normal(uint64_t seed, uint64_t index);

#endif /* AV_OPS_OP_H */
