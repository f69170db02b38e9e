/* The shape / data-movement family: its op table, the helpers its files share and the strided
 * copy engine most of its kernels reduce to (see shape_internal.h for the contracts). */
#include <string.h>

#include "ops/families.h"
#include "ops/shape_internal.h"

/* Inputs whose values shape inference needs, by op (see av__op.value_inputs). */
#define IN(i) (1u << (i))

const av__op av__ops_shape[] = {
    {"Reshape", IN(1), 0, av__shape_reshape_infer, av__shape_reshape_run, NULL},
    {"Flatten", 0, 0, av__shape_flatten_infer, av__shape_flatten_run, NULL},
    {"Squeeze", IN(1), 0, av__shape_squeeze_infer, av__shape_squeeze_run, NULL},
    {"Unsqueeze", IN(1), 0, av__shape_unsqueeze_infer, av__shape_unsqueeze_run, NULL},
    {"Shape", 0, 0, av__shape_shape_infer, av__shape_shape_run, NULL},
    {"Size", 0, 0, av__shape_size_infer, av__shape_size_run, NULL},
    {"Transpose", 0, 0, av__shape_transpose_infer, av__shape_transpose_run, NULL},
    {"Slice", IN(1) | IN(2) | IN(3) | IN(4), 0, av__shape_slice_infer, av__shape_slice_run, NULL},
    {"Concat", 0, 0, av__shape_concat_infer, av__shape_concat_run, NULL},
    {"Split", IN(1), 0, av__shape_split_infer, av__shape_split_run, NULL},
    {"Expand", IN(1), 0, av__shape_expand_infer, av__shape_expand_run, NULL},
    {"Tile", IN(1), 0, av__shape_tile_infer, av__shape_tile_run, NULL},
    {"DepthToSpace", 0, 0, av__shape_depth_to_space_infer, av__shape_depth_to_space_run, NULL},
    {"SpaceToDepth", 0, 0, av__shape_space_to_depth_infer, av__shape_space_to_depth_run, NULL},
    {"ReverseSequence", 0, 0, av__shape_reverse_sequence_infer, av__shape_reverse_sequence_run,
     NULL},
    {"Constant", 0, 0, av__shape_constant_infer, av__shape_constant_run, NULL},
    {"ConstantOfShape", IN(0), 0, av__shape_constant_of_shape_infer,
     av__shape_constant_of_shape_run, NULL},
    {"Range", IN(0) | IN(1) | IN(2), 0, av__shape_range_infer, av__shape_range_run, NULL},
    {"EyeLike", 0, 0, av__shape_eye_like_infer, av__shape_eye_like_run, NULL},
    {"Trilu", 0, 0, av__shape_trilu_infer, av__shape_trilu_run, NULL},
    {"Gather", 0, 0, av__shape_gather_infer, av__shape_gather_run, NULL},
    {"GatherElements", 0, 0, av__shape_gather_elements_infer, av__shape_gather_elements_run,
     NULL},
    {"GatherND", 0, 0, av__shape_gather_nd_infer, av__shape_gather_nd_run, NULL},
    {"ScatterND", 0, 0, av__shape_scatter_nd_infer, av__shape_scatter_nd_run, NULL},
    {"ScatterElements", 0, 0, av__shape_scatter_elements_infer, av__shape_scatter_elements_run,
     NULL},
    /* Scatter (opsets 9-10) is ScatterElements without `reduction` */
    {"Scatter", 0, 0, av__shape_scatter_elements_infer, av__shape_scatter_elements_run, NULL},
    {"OneHot", IN(1), 0, av__shape_one_hot_infer, av__shape_one_hot_run, NULL},
    /* pads (1) and axes (3) fix the shape; constant_value (2) is read by run() only */
    {"Pad", IN(1) | IN(3), 0, av__shape_pad_infer, av__shape_pad_run, NULL},
    /* opset 10: X, scales; opset 11+: X, roi, scales, sizes */
    {"Resize", IN(1) | IN(2) | IN(3), 0, av__shape_resize_infer, av__shape_resize_run,
     av__shape_resize_scratch},
    {"Upsample", IN(1), 0, av__shape_upsample_infer, av__shape_upsample_run,
     av__shape_resize_scratch},
    {"RandomNormal", 0, AV__OP_RANDOM, av__shape_random_infer, av__shape_random_run, NULL},
    {"RandomUniform", 0, AV__OP_RANDOM, av__shape_random_infer, av__shape_random_run, NULL},
    {"RandomNormalLike", 0, AV__OP_RANDOM, av__shape_random_like_infer, av__shape_random_run,
     NULL},
    {"RandomUniformLike", 0, AV__OP_RANDOM, av__shape_random_like_infer, av__shape_random_run,
     NULL},
};
const int av__ops_shape_count = sizeof av__ops_shape / sizeof av__ops_shape[0];

/* ---- helpers --------------------------------------------------------------------------------- */

int av__shape_is_int(av__dtype t)
{
    switch (t) {
    case AV__DT_U8: case AV__DT_I8: case AV__DT_U16: case AV__DT_I16: case AV__DT_I32:
    case AV__DT_I64: case AV__DT_U32: case AV__DT_U64:
        return 1;
    default:
        return 0;
    }
}

int av__shape_is_float(av__dtype t)
{
    return t == AV__DT_F32 || t == AV__DT_F64 || t == AV__DT_F16 || t == AV__DT_BF16;
}

av_status av__shape_check_dtype(const av__op_ctx *ctx, int i)
{
    av__dtype t = ctx->in[i]->dtype;
    if (av__dtype_size(t) == 0)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "input %d: element type %s (%d) is not supported", i, av__dtype_name(t),
                           (int)t);
    return AV_STATUS_OK;
}

av_status av__shape_begin(const av__op_ctx *ctx, int min_in, int max_in)
{
    av_status st = av__op_check_inputs(ctx, min_in, max_in);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->n_out < 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "output 0 is missing");
    return av__shape_check_dtype(ctx, 0);
}

av_status av__shape_set_out(const av__op_ctx *ctx, int i, av__dtype dtype, int ndim,
                            const int64_t *shape)
{
    if (ndim > AV__MAX_DIMS)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "output %d would have rank %d (at most %d supported)", i, ndim,
                           AV__MAX_DIMS);
    /* the bytes of the non-zero dims stay below 2^62, so the count, the byte size and every
     * stride are representable even for empty tensors (a [0, 2^62] shape is refused) */
    uint64_t bytes = av__dtype_size(dtype) ? av__dtype_size(dtype) : 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "output %d: dimension %d is negative (%lld)",
                               i, d, (long long)shape[d]);
        if (shape[d] != 0 && bytes > ((uint64_t)1 << 62) / (uint64_t)shape[d])
            return av__op_fail(ctx, AV_STATUS_FORMAT, "output %d: shape too large", i);
        if (shape[d] != 0)
            bytes *= (uint64_t)shape[d];
    }
    if (i < ctx->n_out && ctx->out[i]) {
        ctx->out[i]->dtype = dtype;
        av__tensor_set_shape(ctx->out[i], ndim, shape);
    }
    return AV_STATUS_OK;
}

av_status av__shape_read_ints(const av__op_ctx *ctx, int i, const char *what, int64_t *vals,
                              int max, int *n)
{
    const av__tensor *t = ctx->in[i];
    *n = 0;
    if (!av__shape_is_int(t->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s (input %d) must be an integer tensor, is %s",
                           what, i, av__dtype_name(t->dtype));
    if (t->ndim > 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s (input %d) must be 1-D, has rank %d", what, i,
                           t->ndim);
    int64_t count = av__tensor_count(t);
    if (count > max)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "%s (input %d) has %lld values, at most %d allowed", what, i,
                           (long long)count, max);
    if (!t->data && count > 0)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "%s (input %d) has no values at planning time",
                           what, i);
    for (int64_t k = 0; k < count; k++)
        vals[k] = av__tensor_get_i64(t, k);
    *n = (int)count;
    return AV_STATUS_OK;
}

void av__shape_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d];
    }
}

typedef struct memcpy_job {
    char *dst;
    const char *src;
    size_t bytes;
} memcpy_job;

#define MEMCPY_CHUNK ((size_t)1 << 20)

static void memcpy_chunks(void *arg, int64_t begin, int64_t end)
{
    const memcpy_job *j = arg;
    size_t b = (size_t)begin * MEMCPY_CHUNK;
    size_t e = (size_t)end * MEMCPY_CHUNK;
    if (e > j->bytes)
        e = j->bytes;
    memcpy(j->dst + b, j->src + b, e - b);
}

void av__shape_memcpy(av__threadpool *pool, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0)
        return;
    memcpy_job j = {dst, src, bytes};
    av__parallel_for(pool, (int64_t)((bytes + MEMCPY_CHUNK - 1) / MEMCPY_CHUNK), 1, memcpy_chunks,
                     &j);
}

/* ---- the strided copy engine ----------------------------------------------------------------- */

enum copy_kind {
    COPY_BLOCK,    /* innermost dim contiguous on both sides: memcpy rows */
    COPY_FILL,     /* innermost dim broadcast from one source element */
    COPY_TILE,     /* a transpose: some other dim is contiguous in src; copy in cache tiles */
    COPY_STRIDED   /* anything else: element loop along the innermost dim */
};

#define TILE 32

typedef struct copy_plan {
    int ndim;                          /* after dropping size-1 dims and merging */
    int64_t shape[AV__SHAPE_VIEW_DIMS];
    int64_t ds[AV__SHAPE_VIEW_DIMS], ss[AV__SHAPE_VIEW_DIMS];
    size_t esize;
    char *dst;
    const char *src;
    enum copy_kind kind;
    int tile_dim;                      /* COPY_TILE: the dim with src stride 1 */
    int n_outer;                       /* dims walked around the inner kernel, outermost first */
    int outer[AV__SHAPE_VIEW_DIMS];
    int64_t tiles;                     /* COPY_TILE: tiles along tile_dim per outer index */
    int64_t tile_rows;                 /* COPY_TILE: rows (along tile_dim) per tile */
} copy_plan;

/* Offsets (in elements) of outer index u, and its multi-index in idx. */
static void plan_seek(const copy_plan *p, int64_t u, int64_t *idx, int64_t *doff, int64_t *soff)
{
    int64_t d = 0, s = 0;
    for (int j = p->n_outer - 1; j >= 0; j--) {
        int dim = p->outer[j];
        idx[j] = u % p->shape[dim];
        u /= p->shape[dim];
        d += idx[j] * p->ds[dim];
        s += idx[j] * p->ss[dim];
    }
    *doff = d;
    *soff = s;
}

static void plan_next(const copy_plan *p, int64_t *idx, int64_t *doff, int64_t *soff)
{
    for (int j = p->n_outer - 1; j >= 0; j--) {
        int dim = p->outer[j];
        idx[j]++;
        *doff += p->ds[dim];
        *soff += p->ss[dim];
        if (idx[j] < p->shape[dim])
            return;
        *doff -= idx[j] * p->ds[dim];
        *soff -= idx[j] * p->ss[dim];
        idx[j] = 0;
    }
}

#define STRIDED_LOOP(T)                                                                        \
    do {                                                                                       \
        T *d_ = (T *)(void *)dst;                                                              \
        const T *s_ = (const T *)(const void *)src;                                            \
        for (int64_t j = 0; j < n; j++)                                                        \
            d_[j * dstride] = s_[j * sstride];                                                 \
    } while (0)

/* n elements from src (stride sstride) to dst (stride dstride); strides in elements. */
static void copy_strided_run(char *dst, int64_t dstride, const char *src, int64_t sstride,
                             int64_t n, size_t esize)
{
    switch (esize) {
    case 1: STRIDED_LOOP(uint8_t); break;
    case 2: STRIDED_LOOP(uint16_t); break;
    case 4: STRIDED_LOOP(uint32_t); break;
    case 8: STRIDED_LOOP(uint64_t); break;
    default:
        for (int64_t j = 0; j < n; j++)
            memcpy(dst + (ptrdiff_t)(j * dstride) * (ptrdiff_t)esize,
                   src + (ptrdiff_t)(j * sstride) * (ptrdiff_t)esize, esize);
        break;
    }
}

static void copy_tile(const copy_plan *p, char *dst, const char *src, int64_t rows)
{
    int k = p->tile_dim, last = p->ndim - 1;
    int64_t dk = p->ds[k], sl = p->ss[last], cols = p->shape[last];
    ptrdiff_t es = (ptrdiff_t)p->esize;
    if (cols < TILE) { /* few columns: one long contiguous read per column */
        for (int64_t j = 0; j < cols; j++)
            copy_strided_run(dst + (ptrdiff_t)j * es, dk, src + (ptrdiff_t)(j * sl) * es, 1, rows,
                             p->esize);
        return;
    }
    for (int64_t j0 = 0; j0 < cols; j0 += TILE) {
        int64_t nj = cols - j0 < TILE ? cols - j0 : TILE;
        for (int64_t i = 0; i < rows; i++)
            copy_strided_run(dst + (ptrdiff_t)(i * dk + j0) * es, 1,
                             src + (ptrdiff_t)(i + j0 * sl) * es, sl, nj, p->esize);
    }
}

static void copy_units(void *arg, int64_t begin, int64_t end)
{
    const copy_plan *p = arg;
    int last = p->ndim - 1;
    int64_t n = p->shape[last];
    size_t es = p->esize;
    int64_t idx[AV__SHAPE_VIEW_DIMS];
    int64_t doff, soff;
    if (p->kind == COPY_TILE) {
        int k = p->tile_dim;
        for (int64_t u = begin; u < end; u++) {
            int64_t t = u % p->tiles;
            plan_seek(p, u / p->tiles, idx, &doff, &soff);
            int64_t i0 = t * p->tile_rows;
            int64_t rows = p->shape[k] - i0 < p->tile_rows ? p->shape[k] - i0 : p->tile_rows;
            copy_tile(p, p->dst + (ptrdiff_t)(doff + i0 * p->ds[k]) * (ptrdiff_t)es,
                      p->src + (ptrdiff_t)(soff + i0 * p->ss[k]) * (ptrdiff_t)es, rows);
        }
        return;
    }
    plan_seek(p, begin, idx, &doff, &soff);
    for (int64_t u = begin; u < end; u++) {
        char *dst = p->dst + (ptrdiff_t)doff * (ptrdiff_t)es;
        const char *src = p->src + (ptrdiff_t)soff * (ptrdiff_t)es;
        switch (p->kind) {
        case COPY_BLOCK:
            memcpy(dst, src, (size_t)n * es);
            break;
        case COPY_FILL:
            if (es == 4) {
                uint32_t v;
                memcpy(&v, src, 4);
                uint32_t *d32 = (uint32_t *)(void *)dst;
                for (int64_t j = 0; j < n; j++)
                    d32[j] = v;
            } else {
                for (int64_t j = 0; j < n; j++)
                    memcpy(dst + (size_t)j * es, src, es);
            }
            break;
        default:
            copy_strided_run(dst, p->ds[last], src, p->ss[last], n, es);
            break;
        }
        plan_next(p, idx, &doff, &soff);
    }
}

void av__shape_copy(av__threadpool *pool, size_t esize, int ndim, const int64_t *shape,
                    void *dst, const int64_t *dst_stride, const void *src,
                    const int64_t *src_stride)
{
    int64_t cstride[AV__SHAPE_VIEW_DIMS];
    int64_t total = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] == 0)
            return;
    for (int d = 0; d < ndim; d++)
        total *= shape[d];
    if (!dst_stride) {
        av__shape_strides(ndim, shape, cstride);
        dst_stride = cstride;
    }

    /* drop size-1 dims and merge neighbours contiguous on both sides, innermost first */
    copy_plan p = {.esize = esize, .dst = dst, .src = src};
    int64_t rs[AV__SHAPE_VIEW_DIMS], rd[AV__SHAPE_VIEW_DIMS], rn[AV__SHAPE_VIEW_DIMS];
    int m = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] == 1)
            continue;
        if (m > 0 && src_stride[d] == rs[m - 1] * rn[m - 1] &&
            dst_stride[d] == rd[m - 1] * rn[m - 1]) {
            rn[m - 1] *= shape[d];
            continue;
        }
        rn[m] = shape[d];
        rs[m] = src_stride[d];
        rd[m] = dst_stride[d];
        m++;
    }
    if (m == 0) {
        memcpy(dst, src, esize);
        return;
    }
    p.ndim = m;
    for (int d = 0; d < m; d++) {
        p.shape[d] = rn[m - 1 - d];
        p.ss[d] = rs[m - 1 - d];
        p.ds[d] = rd[m - 1 - d];
    }

    int last = m - 1;
    p.kind = COPY_STRIDED;
    p.tile_dim = -1;
    if (p.ss[last] == 1 && p.ds[last] == 1) {
        p.kind = COPY_BLOCK;
    } else if (p.ss[last] == 0 && p.ds[last] == 1) {
        p.kind = COPY_FILL;
    } else if (p.ds[last] == 1) {
        for (int d = 0; d < last; d++)
            if (p.ss[d] == 1)
                p.tile_dim = d;
        if (p.tile_dim >= 0)
            p.kind = COPY_TILE;
    }
    p.n_outer = 0;
    int64_t units = 1;
    for (int d = 0; d < last; d++) {
        if (p.kind == COPY_TILE && d == p.tile_dim)
            continue;
        p.outer[p.n_outer++] = d;
        units *= p.shape[d];
    }
    int64_t per_unit = p.shape[last];
    if (p.kind == COPY_TILE) {
        /* square tiles; with few columns, taller ones so each unit still moves ~1k elements */
        p.tile_rows =
            p.shape[last] >= TILE ? TILE : (1024 / p.shape[last] + TILE - 1) / TILE * TILE;
        p.tiles = (p.shape[p.tile_dim] + p.tile_rows - 1) / p.tile_rows;
        units *= p.tiles;
        per_unit *= p.tile_rows;
    }
    /* small copies stay on this thread: waking workers costs more than the copy */
    if ((uint64_t)total * esize < (1u << 18))
        pool = NULL;
    int64_t grain = (1 << 15) / (per_unit > 0 ? per_unit : 1);
    av__parallel_for(pool, units, grain > 0 ? grain : 1, copy_units, &p);
}
