/* Internal interface of the reduce family (src/ops/reduce.c, reduce_*.c): the reductions, the
 * softmax-like ops along an axis, CumSum and the normalisations. Not used outside the family.
 *
 * Kernels of every family file stage data through small double (or int64) chunks with the
 * loaders below, so that one code path serves float16, bfloat16, float64 and the integer types;
 * float32, the type our models run in, gets direct loops where it matters (softmax, the row
 * normalisations). */
#ifndef AV_OPS_REDUCE_INTERNAL_H
#define AV_OPS_REDUCE_INTERNAL_H

#include <stdint.h>

#include "ops/op.h"

/* Elements staged at once by the chunked loops; stack buffers hold this many. */
#define AV__RD_CHUNK 256

/* True for float16, bfloat16, float32, float64. */
int av__rd_is_float(av__dtype t);
/* True for the eight integer types (not bool). */
int av__rd_is_int(av__dtype t);

/* Loads n elements of t at flat indices off, off + stride, ... converted to double (integers
 * exactly up to 2^53) or to int64 (floats truncated; uint64 keeps its bit pattern). t must hold
 * a numeric dtype. */
void av__rd_load_f64(const av__tensor *t, int64_t off, int64_t stride, int64_t n, double *dst);
void av__rd_load_i64(const av__tensor *t, int64_t off, int64_t stride, int64_t n, int64_t *dst);
/* Stores n doubles into t at off, off + stride, ... with av__tensor_set_f64's conversion. */
void av__rd_store_f64(av__tensor *t, int64_t off, int64_t stride, int64_t n, const double *src);
/* Stores the low bits of n int64 values into integer tensor t (wrapping, as numpy's integer
 * sums do); other dtypes get av__tensor_set_f64 of the value. */
void av__rd_store_i64(av__tensor *t, int64_t off, int64_t stride, int64_t n, const int64_t *src);

/* A tensor seen around one axis: outer = prod(shape[:axis]), n = shape[axis],
 * inner = prod(shape[axis+1:]). Element (o, k, i) is at flat index (o * n + k) * inner + i. */
typedef struct av__rd_axis {
    int64_t outer, n, inner;
} av__rd_axis;

av__rd_axis av__rd_axis_view(const av__tensor *t, int axis);

/* Validates an `axis` attribute against rank (range [-rank, rank - 1]) and normalises it; on
 * failure fills ctx->err naming the axis and the rank and returns AV_STATUS_FORMAT. */
av_status av__rd_axis_attr(const av__op_ctx *ctx, int64_t axis, int rank, int *out);

/* Fails with AV_STATUS_FORMAT when attribute `name` is present with a type other than `type`
 * (the getters would silently ignore it). */
av_status av__rd_attr_type(const av__op_ctx *ctx, const char *name, av__attr_type type);

/* Work per parallel_for grain: chunks of at least this many elements are worth a thread. */
#define AV__RD_GRAIN_ELEMS 16384
/* A grain (in items) for loops whose items cost `per_item` elements each. */
int64_t av__rd_grain(int64_t per_item);

/* ---- the canonical view of a multi-axis reduction ------------------------------------------ */

/* Adjacent dims with the same status (reduced or kept) merged, size-1 dims dropped. Output
 * element o (C order over the kept dims) reduces the input elements
 *   base(o) + sum_j r_j * rstride[j],  0 <= r_j < rsize[j].
 * When nr == 0 each output reduces exactly one element (itself). */
typedef struct av__rd_plan {
    int nk, nr;
    int64_t ksize[AV__MAX_DIMS], kstride[AV__MAX_DIMS];
    int64_t rsize[AV__MAX_DIMS], rstride[AV__MAX_DIMS];
    int64_t out_count;  /* product of the kept sizes (0 when any kept dim is 0) */
    int64_t red_count;  /* elements per output (0 when a reduced dim is 0) */
} av__rd_plan;

/* mask bit i set: axis i is reduced. shape holds rank (<= AV__MAX_DIMS) dims. */
void av__rd_plan_init(av__rd_plan *p, int rank, const int64_t *shape, unsigned mask);
/* Input offset of the first element output o reduces. */
int64_t av__rd_base(const av__rd_plan *p, int64_t o);
/* Calls fn(arg, off, stride, n) for each run of the innermost reduced dim that output o
 * reduces (one call with n = 1 when nr == 0), in C order. */
void av__rd_for_lines(const av__rd_plan *p, int64_t o,
                      void (*fn)(void *arg, int64_t off, int64_t stride, int64_t n), void *arg);

/* ---- op entry points of the family's other files ------------------------------------------- */

/* reduce_softmax.c: Softmax, LogSoftmax, Hardmax, CumSum */
av_status av__softmax_infer(const av__op_ctx *ctx);
av_status av__softmax_run(const av__op_ctx *ctx);
av_status av__logsoftmax_run(const av__op_ctx *ctx);
av_status av__hardmax_run(const av__op_ctx *ctx);
av_status av__cumsum_infer(const av__op_ctx *ctx);
av_status av__cumsum_run(const av__op_ctx *ctx);

/* reduce_norm.c: the normalisations */
av_status av__layernorm_infer(const av__op_ctx *ctx);
av_status av__layernorm_run(const av__op_ctx *ctx);
size_t av__layernorm_scratch(const av__op_ctx *ctx);
av_status av__instancenorm_infer(const av__op_ctx *ctx);
av_status av__instancenorm_run(const av__op_ctx *ctx);
av_status av__groupnorm_infer(const av__op_ctx *ctx);
av_status av__groupnorm_run(const av__op_ctx *ctx);
av_status av__batchnorm_infer(const av__op_ctx *ctx);
av_status av__batchnorm_run(const av__op_ctx *ctx);
av_status av__lpnorm_infer(const av__op_ctx *ctx);
av_status av__lpnorm_run(const av__op_ctx *ctx);
av_status av__mvn_infer(const av__op_ctx *ctx);
av_status av__mvn_run(const av__op_ctx *ctx);

#endif /* AV_OPS_REDUCE_INTERNAL_H */
