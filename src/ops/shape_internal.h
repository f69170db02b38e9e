/* The shape / data-movement family: what its files (src/ops/shape.c, shape_*.c) share.
 * Internal to the family: nothing outside src/ops/shape*.c includes it.
 *
 * shape.c holds the op table and the helpers below; each shape_*.c defines the infer/run pair
 * of its ops, declared here so the table can name them. */
#ifndef AV_OPS_SHAPE_INTERNAL_H
#define AV_OPS_SHAPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ops/op.h"

/* Dimensions a copy view may have: a Tile view has two per tensor dimension. */
#define AV__SHAPE_VIEW_DIMS (2 * AV__MAX_DIMS)

/* ---- helpers (shape.c) ----------------------------------------------------------------------- */

/* 1 for the integer types (bool excluded), 0 otherwise. */
int av__shape_is_int(av__dtype t);
/* 1 for float16, bfloat16, float32, float64. */
int av__shape_is_float(av__dtype t);

/* AV_STATUS_UNSUPPORTED with a message when input i's dtype has no element size here (string,
 * complex, unknown); AV_STATUS_OK otherwise. Input i must be present. */
av_status av__shape_check_dtype(const av__op_ctx *ctx, int i);

/* The checks every op with a data input 0 starts with: between min_in and max_in inputs (the
 * first min_in present), output 0 present, and input 0 of a dtype held here. */
av_status av__shape_begin(const av__op_ctx *ctx, int min_in, int max_in);

/* Sets output i (skipped when omitted) to dtype and shape after checking: ndim within
 * AV__MAX_DIMS (else AV_STATUS_UNSUPPORTED), every dim >= 0, and the bytes of the non-zero dims
 * below 2^62 (else AV_STATUS_FORMAT), so that counts, byte sizes and strides of the output fit
 * in int64 even when it is empty. */
av_status av__shape_set_out(const av__op_ctx *ctx, int i, av__dtype dtype, int ndim,
                            const int64_t *shape);

/* Reads the values of input i, a 0-d or 1-d integer tensor whose data is present (a
 * value_inputs input), into vals[0..*n). Fails with AV_STATUS_FORMAT naming `what` when the
 * input is not an integer tensor of rank <= 1 or holds more than `max` values;
 * AV_STATUS_INTERNAL when its data is missing (a planner bug). */
av_status av__shape_read_ints(const av__op_ctx *ctx, int i, const char *what, int64_t *vals,
                              int max, int *n);

/* C-order strides (in elements) of a contiguous tensor of this shape. */
void av__shape_strides(int ndim, const int64_t *shape, int64_t *strides);

/* Copies an ndim-dimensional view (ndim <= AV__SHAPE_VIEW_DIMS) of elements of esize bytes:
 * element (i_0, ..., i_{n-1}) goes from src + sum(i_d * src_stride[d]) * esize to
 * dst + sum(i_d * dst_stride[d]) * esize. Strides are in elements; src strides may be negative
 * (reversed slices) or 0 (broadcast). dst_stride NULL means the contiguous strides of `shape`.
 * dst elements must not overlap each other or src. Dimensions are merged where both views
 * allow; contiguous inner runs are copied with memcpy, transposes in cache tiles, and large
 * copies are split over `pool` (may be NULL). Nothing is done for an empty shape. */
void av__shape_copy(av__threadpool *pool, size_t esize, int ndim, const int64_t *shape,
                    void *dst, const int64_t *dst_stride, const void *src,
                    const int64_t *src_stride);

/* memcpy of `bytes`, split over `pool` (may be NULL) when large. */
void av__shape_memcpy(av__threadpool *pool, void *dst, const void *src, size_t bytes);

/* ---- the ops: infer/run pairs, by file ------------------------------------------------------- */

#define AV__SHAPE_DECLARE(op)                                                                  \
    av_status av__shape_##op##_infer(const av__op_ctx *ctx);                                   \
    av_status av__shape_##op##_run(const av__op_ctx *ctx)

/* shape_view.c: ops that only change the shape, plus Shape and Size */
AV__SHAPE_DECLARE(reshape);
AV__SHAPE_DECLARE(flatten);
AV__SHAPE_DECLARE(squeeze);
AV__SHAPE_DECLARE(unsqueeze);
AV__SHAPE_DECLARE(shape);
AV__SHAPE_DECLARE(size);

/* shape_copy.c: strided copies, ReverseSequence */
AV__SHAPE_DECLARE(transpose);
AV__SHAPE_DECLARE(slice);
AV__SHAPE_DECLARE(concat);
AV__SHAPE_DECLARE(split);
AV__SHAPE_DECLARE(expand);
AV__SHAPE_DECLARE(tile);
AV__SHAPE_DECLARE(depth_to_space);
AV__SHAPE_DECLARE(space_to_depth);
AV__SHAPE_DECLARE(reverse_sequence);

/* shape_gen.c: tensors made from attributes or scalars */
AV__SHAPE_DECLARE(constant);
AV__SHAPE_DECLARE(constant_of_shape);
AV__SHAPE_DECLARE(range);
AV__SHAPE_DECLARE(eye_like);
AV__SHAPE_DECLARE(trilu);

/* shape_gather.c: indexed reads and writes */
AV__SHAPE_DECLARE(gather);
AV__SHAPE_DECLARE(gather_elements);
AV__SHAPE_DECLARE(gather_nd);
AV__SHAPE_DECLARE(scatter_nd);
AV__SHAPE_DECLARE(scatter_elements);
AV__SHAPE_DECLARE(one_hot);

/* shape_pad.c */
AV__SHAPE_DECLARE(pad);

/* shape_resize.c */
AV__SHAPE_DECLARE(resize);
AV__SHAPE_DECLARE(upsample);
size_t av__shape_resize_scratch(const av__op_ctx *ctx);

/* shape_random.c */
AV__SHAPE_DECLARE(random);
av_status av__shape_random_like_infer(const av__op_ctx *ctx); /* runs av__shape_random_run */

#endif /* AV_OPS_SHAPE_INTERNAL_H */
