/* Fast float32 Conv and ConvTranspose (any number of spatial axes).
 *
 * Conv, per (batch, group), as Y_g [Mg, out] = W_g [Mg, Cg*K] x col [Cg*K, out]:
 *   - pointwise (kernel 1, stride 1, no pads): col is X_g itself, no copy;
 *   - few channels per group (depthwise and the like: Cg * Mg <= DIRECT_MAX): direct loops, one
 *     output channel per task, each kernel tap a vectorised pass over output rows;
 *   - otherwise im2col + SGEMM by blocks of output columns: a block is filled and multiplied at
 *     once, small enough that the im2col copy is read back from cache.
 * ConvTranspose, per (batch, group), as col [Mg*K, in] = W_g^T [Mg*K, Cg] x X_g [Cg, in], then a
 * col2im scatter-add into Y, by blocks of output channels (and tiles of input positions within
 * a block): a block's col rows land only in its own output rows.
 *
 * The pool shares the blocks of every (batch, group) in one parallel loop. The scratch holds a
 * fixed number of block buffers ("slots") sized from the shapes alone, since the executor sizes
 * it once, possibly without a pool; a loop uses at most that many threads. Blocks depend on the
 * shapes only, so results are bit-identical for any thread count. */
#include <string.h>

#include "ops/conv_internal.h"

/* Channels-per-group products up to this take the direct loops instead of im2col + GEMM. */
#define DIRECT_MAX 16
/* Target bytes of the im2col (Conv) / col (ConvTranspose) block one thread fills and consumes
 * at a time; the fewest output columns of a Conv block and output channels of a ConvTranspose
 * block (GEMMs narrower than that lose speed). Measured on the 2-core build machine (Zen,
 * OpenBLAS 0.3.21 Haswell kernels) over the vocoder's and content encoder's shapes. */
#define CONV_BLOCK_BYTES ((int64_t)512 << 10)
#define CONV_BLOCK_MIN_COLS 128
#define CONVT_BLOCK_BYTES ((int64_t)1 << 20)
#define CONVT_MIN_CHANNELS 32

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The j in [0, n) with 0 <= (l0 + j) * s + off < len form [*lo, *hi) (s >= 1). */
static void valid_range(int64_t len, int64_t l0, int64_t n, int64_t s, int64_t off, int64_t *lo,
                        int64_t *hi)
{
    int64_t a = -floor_div(off, s) - l0;            /* ceil(-off / s) - l0 */
    int64_t b = floor_div(len - 1 - off, s) - l0 + 1;
    a = a < 0 ? 0 : a > n ? n : a;
    b = b < a ? a : b > n ? n : b;
    *lo = a;
    *hi = b;
}

static void unflatten(int64_t i, int n, const int64_t *shape, int64_t *coords)
{
    for (int d = n - 1; d >= 0; d--) {
        coords[d] = i % shape[d];
        i /= shape[d];
    }
}

/* Offset of the row of `to` (all but the last spatial axis) reached from row coordinates `from`
 * by kernel position kc: to[d] = from[d] * stride + kc[d] * dilation + sign * pad_begin[d]
 * (sign -1: Conv, input from output; ConvTranspose, output from input). -1 when outside. */
static int64_t row_offset(const av__conv_params *p, const int64_t *from, const int64_t *kc,
                          const int64_t *to_sp)
{
    int64_t off = 0;
    for (int d = 0; d < p->nsp - 1; d++) {
        int64_t c = from[d] * p->stride[d] + kc[d] * p->dilation[d] - p->pad_begin[d];
        if (c < 0 || c >= to_sp[d])
            return -1;
        off = off * to_sp[d] + c;
    }
    return off * to_sp[p->nsp - 1];
}

static int is_pointwise(const av__conv_params *p)
{
    for (int d = 0; d < p->nsp; d++)
        if (p->kernel[d] != 1 || p->stride[d] != 1 || p->pad_begin[d] || p->pad_end[d])
            return 0;
    return 1;
}

static int is_direct(const av__conv_params *p)
{
    return (p->in_ch / p->group) * (p->out_ch / p->group) <= DIRECT_MAX;
}

/* Columns of a tile whose `rows` x columns float32 buffer stays within the cap. */
static int64_t tile_cols(int64_t rows, int64_t total)
{
    int64_t cols = (int64_t)(AV__CONV_SCRATCH_CAP / sizeof(float)) / (rows > 0 ? rows : 1);
    if (cols < 1)
        cols = 1;
    return cols < total ? cols : total;
}

/* ConvTranspose's tile of input positions: within the cap, and narrow enough that a block of
 * CONVT_BLOCK_BYTES holds CONVT_MIN_CHANNELS output channels (a GEMM of few rows is slow). */
static int64_t convt_tile(const av__conv_params *p)
{
    const int64_t mg = p->out_ch / p->group;
    int64_t tile = tile_cols(mg * p->kernel_size, p->in_size);
    if (mg == 0)
        return tile;
    int64_t narrow = CONVT_BLOCK_BYTES / (int64_t)sizeof(float) /
                     (p->kernel_size * (mg < CONVT_MIN_CHANNELS ? mg : CONVT_MIN_CHANNELS));
    return narrow >= 1 && narrow < tile ? narrow : tile;
}

size_t av__conv_fast_scratch(const av__conv_params *p)
{
    if (p->transpose)
        return (size_t)(p->out_ch / p->group * p->kernel_size) * (size_t)convt_tile(p) *
               sizeof(float);
    if (is_pointwise(p) || is_direct(p))
        return 0;
    int64_t rows = p->in_ch / p->group * p->kernel_size;
    return (size_t)rows * (size_t)tile_cols(rows, p->out_size) * sizeof(float);
}

/* Grain for splitting n items of `flops_each` over the pool: one chunk per thread, or everything
 * at once when the loop is too small to share. */
static int64_t split_grain(av__threadpool *pool, int64_t n, double flops_each)
{
    int threads = av__threadpool_size(pool);
    if (threads <= 1 || (double)n * flops_each < AV__CONV_PAR_MIN_FLOPS)
        return n > 0 ? n : 1;
    return (n + threads - 1) / threads;
}

/* fn(arg, begin, end, slot) over a partition of items [0, n) on the pool, where `slot` is in
 * [0, slots) and no two concurrently running calls share one: each call owns scratch region
 * `slot`. At most `slots` threads take part. */
typedef void (*slot_fn)(void *arg, int64_t begin, int64_t end, int64_t slot);

typedef struct slot_job {
    slot_fn fn;
    void *arg;
    int64_t grain;
} slot_job;

static void slot_chunk(void *arg, int64_t begin, int64_t end)
{
    const slot_job *sj = arg;
    /* av__parallel_for's chunks start at multiples of the grain */
    sj->fn(sj->arg, begin, end, begin / sj->grain);
}

static void parallel_slots(av__threadpool *pool, int64_t n, int64_t slots, double flops_each,
                           slot_fn fn, void *arg)
{
    int64_t ways = av__threadpool_size(pool);
    ways = ways < slots ? ways : slots;
    int64_t grain = n > 0 ? n : 1;
    if (ways > 1 && (double)n * flops_each >= AV__CONV_PAR_MIN_FLOPS)
        grain = (n + ways - 1) / ways; /* at most `ways` chunks, so slots below `ways` */
    slot_job sj = {fn, arg, grain};
    av__parallel_for(pool, n, grain, slot_chunk, &sj);
}

/* y[i] += a * x[i], i in [0, n): eight lanes at a time through GCC/Clang vector types (the
 * build's -O2 does not vectorise loops of unknown trip count). Same rounding as the scalar loop
 * (ISO C mode: no contraction into FMA). */
typedef float v4f __attribute__((vector_size(16)));

static void axpy(float *restrict y, const float *restrict x, float a, int64_t n)
{
    const v4f va = {a, a, a, a};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f y0, y1, x0, x1;
        memcpy(&y0, y + i, sizeof y0);
        memcpy(&y1, y + i + 4, sizeof y1);
        memcpy(&x0, x + i, sizeof x0);
        memcpy(&x1, x + i + 4, sizeof x1);
        y0 += va * x0;
        y1 += va * x1;
        memcpy(y + i, &y0, sizeof y0);
        memcpy(y + i + 4, &y1, sizeof y1);
    }
    for (; i < n; i++)
        y[i] += a * x[i];
}

static void fill(float *y, float v, int64_t n)
{
    const v4f vv = {v, v, v, v};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        memcpy(y + i, &vv, sizeof vv);
    for (; i < n; i++)
        y[i] = v;
}

/* ---- Conv: im2col + GEMM ------------------------------------------------------------------- */

/* dst[j] = src[(l0 + j) * s + off] where that index is in [0, len), else 0; j in [0, n). */
static void fill_row(float *dst, const float *src, int64_t len, int64_t l0, int64_t n, int64_t s,
                     int64_t off)
{
    int64_t lo, hi;
    valid_range(len, l0, n, s, off, &lo, &hi);
    memset(dst, 0, (size_t)lo * sizeof *dst);
    if (hi > lo) {
        const float *sp = src + (l0 + lo) * s + off; /* first valid input */
        if (s == 1)
            memcpy(dst + lo, sp, (size_t)(hi - lo) * sizeof *dst);
        else
            for (int64_t j = lo; j < hi; j++, sp += s)
                dst[j] = *sp;
    }
    memset(dst + hi, 0, (size_t)(n - hi) * sizeof *dst);
}

/* col[(c * K + k) * ld + j] = the input under kernel position k for output position o0 + j,
 * channel c of xg (0 in the padding), for j in [0, cols). */
static void im2col(const av__conv_params *p, const float *xg, int64_t cg, int64_t o0,
                   int64_t cols, float *col, int64_t ld)
{
    const int last = p->nsp - 1;
    const int64_t lout = p->out_sp[last], lin = p->in_sp[last];
    int64_t kc[AV__CONV_MAX_SPATIAL], oc[AV__CONV_MAX_SPATIAL];
    for (int64_t k = 0; k < p->kernel_size; k++) {
        unflatten(k, p->nsp, p->kernel, kc);
        const int64_t off = kc[last] * p->dilation[last] - p->pad_begin[last];
        for (int64_t o = o0; o < o0 + cols;) {
            int64_t l0 = o % lout, n = min64(lout - l0, o0 + cols - o);
            unflatten(o / lout, last, p->out_sp, oc);
            int64_t base = row_offset(p, oc, kc, p->in_sp);
            for (int64_t c = 0; c < cg; c++) {
                float *dst = col + (c * p->kernel_size + k) * ld + (o - o0);
                if (base < 0)
                    memset(dst, 0, (size_t)n * sizeof *dst);
                else
                    fill_row(dst, xg + c * p->in_size + base, lin, l0, n, p->stride[last], off);
            }
            o += n;
        }
    }
}

typedef struct conv_job {
    const av__conv_params *p;
    const float *x, *w, *bias;
    float *y, *col;
    int64_t cg, mg, rows;        /* channels per group in / out; rows = cg * kernel_size */
    int64_t block, blocks;       /* output columns per block; blocks per (batch, group) */
    int pointwise;
} conv_job;

/* items: (batch, group, block of output columns); each block is filled (im2col into the slot's
 * region of the scratch) and multiplied while that region is in cache. */
static void conv_blocks(void *arg, int64_t begin, int64_t end, int64_t slot)
{
    const conv_job *j = arg;
    const av__conv_params *p = j->p;
    float *col = j->col ? j->col + slot * j->rows * j->block : NULL; /* NULL: pointwise */
    for (int64_t item = begin; item < end; item++) {
        const int64_t ng = item / j->blocks, n = ng / p->group, g = ng % p->group;
        const int64_t o = item % j->blocks * j->block, cols = min64(p->out_size - o, j->block);
        const float *xg = j->x + (n * p->in_ch + g * j->cg) * p->in_size;
        float *yg = j->y + (n * p->out_ch + g * j->mg) * p->out_size;
        if (j->bias)
            for (int64_t m = 0; m < j->mg; m++)
                fill(yg + m * p->out_size + o, j->bias[g * j->mg + m], cols);
        const float *bm = xg + o;
        int64_t ldb = p->in_size;
        if (!j->pointwise) {
            im2col(p, xg, j->cg, o, cols, col, cols);
            bm = col;
            ldb = cols;
        }
        av__blas_sgemm(NULL, 0, 0, j->mg, cols, j->rows, 1.0f, j->w + g * j->mg * j->rows,
                       j->rows, bm, ldb, j->bias ? 1.0f : 0.0f, yg + o, p->out_size);
    }
}

/* ---- Conv: direct loops for few channels per group ----------------------------------------- */

typedef struct direct_job {
    const av__conv_params *p;
    const float *x, *w, *bias;
    float *y;
    int64_t cg, mg;
} direct_job;

/* items: (batch, output channel) pairs */
static void direct_chunk(void *arg, int64_t begin, int64_t end)
{
    const direct_job *j = arg;
    const av__conv_params *p = j->p;
    const int last = p->nsp - 1;
    const int64_t lout = p->out_sp[last], lin = p->in_sp[last], s = p->stride[last];
    const int64_t rows = p->out_size / lout;
    int64_t kc[AV__CONV_MAX_SPATIAL], oc[AV__CONV_MAX_SPATIAL];
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->out_ch, m = item % p->out_ch, g = m / j->mg;
        float *yc = j->y + item * p->out_size;
        fill(yc, j->bias ? j->bias[m] : 0.0f, p->out_size);
        for (int64_t c = 0; c < j->cg; c++) {
            const float *xc = j->x + (n * p->in_ch + g * j->cg + c) * p->in_size;
            const float *wc = j->w + (m * j->cg + c) * p->kernel_size;
            for (int64_t k = 0; k < p->kernel_size; k++) {
                const float wv = wc[k];
                unflatten(k, p->nsp, p->kernel, kc);
                const int64_t off = kc[last] * p->dilation[last] - p->pad_begin[last];
                int64_t lo, hi;
                valid_range(lin, 0, lout, s, off, &lo, &hi);
                if (hi <= lo)
                    continue;
                for (int64_t r = 0; r < rows; r++) {
                    unflatten(r, last, p->out_sp, oc);
                    int64_t base = row_offset(p, oc, kc, p->in_sp);
                    if (base < 0)
                        continue;
                    float *yr = yc + r * lout + lo;
                    const float *xr = xc + base + lo * s + off; /* first valid input */
                    const int64_t cnt = hi - lo;
                    if (s == 1)
                        axpy(yr, xr, wv, cnt);
                    else
                        for (int64_t t = 0; t < cnt; t++)
                            yr[t] += wv * xr[t * s];
                }
            }
        }
    }
}

void av__conv_fast(const av__conv_params *p, const float *x, const float *w, const float *bias,
                   float *y, void *scratch, av__threadpool *pool)
{
    const int64_t cg = p->in_ch / p->group, mg = p->out_ch / p->group;
    if (is_direct(p)) {
        direct_job j = {p, x, w, bias, y, cg, mg};
        int64_t items = p->batch * p->out_ch;
        av__parallel_for(pool, items,
                         split_grain(pool, items, 2.0 * (double)(cg * p->kernel_size) *
                                                      (double)p->out_size),
                         direct_chunk, &j);
        return;
    }
    av__blas_single_thread();
    conv_job j = {p, x, w, bias, y, scratch, cg, mg, cg * p->kernel_size, 0, 0, 0};
    j.pointwise = is_pointwise(p);
    int64_t block = CONV_BLOCK_BYTES / (int64_t)sizeof(float) / (j.rows > 0 ? j.rows : 1);
    j.block = block < CONV_BLOCK_MIN_COLS ? CONV_BLOCK_MIN_COLS : block / 16 * 16;
    /* the scratch holds `slots` blocks (av__conv_fast_scratch sized it from the shapes alone) */
    int64_t slots = INT64_MAX;
    if (!j.pointwise) {
        int64_t scratch_cols = tile_cols(j.rows, p->out_size);
        j.block = min64(j.block, scratch_cols);
        slots = scratch_cols / j.block;
    }
    j.blocks = (p->out_size + j.block - 1) / j.block;
    parallel_slots(pool, p->batch * p->group * j.blocks, slots,
                   2.0 * (double)mg * (double)j.rows * (double)j.block, conv_blocks, &j);
}

/* ---- ConvTranspose: GEMM + col2im ---------------------------------------------------------- */

typedef struct convt_job {
    const av__conv_params *p;
    const float *x, *w, *bias;
    float *y, *col;
    int64_t cg, mg, rows;        /* channels per group in / out; rows = mg * kernel_size */
    int64_t tile;                /* input positions per GEMM (the col buffer's columns) */
    int64_t block, blocks;       /* output channels per block; blocks per (batch, group) */
} convt_job;

/* y rows of channels [c0, c1) of the group += col (rows (c - c0) * K + k, `cols` columns)
 * scattered: input position i0 + t under kernel position k lands on output
 * (i0 + t) * stride + k * dilation - pad_begin. */
static void col2im(const av__conv_params *p, const float *col, int64_t i0, int64_t cols,
                   int64_t c0, int64_t c1, float *yg)
{
    const int last = p->nsp - 1;
    const int64_t lout = p->out_sp[last], lin = p->in_sp[last], s = p->stride[last];
    int64_t kc[AV__CONV_MAX_SPATIAL], ic[AV__CONV_MAX_SPATIAL];
    for (int64_t k = 0; k < p->kernel_size; k++) {
        unflatten(k, p->nsp, p->kernel, kc);
        const int64_t off = kc[last] * p->dilation[last] - p->pad_begin[last];
        for (int64_t i = i0; i < i0 + cols;) {
            int64_t l0 = i % lin, n = min64(lin - l0, i0 + cols - i);
            unflatten(i / lin, last, p->in_sp, ic);
            int64_t base = row_offset(p, ic, kc, p->out_sp);
            int64_t lo = 0, hi = 0;
            if (base >= 0)
                valid_range(lout, l0, n, s, off, &lo, &hi);
            for (int64_t c = c0; c < c1 && hi > lo; c++) {
                const float *cr = col + ((c - c0) * p->kernel_size + k) * cols + (i - i0) + lo;
                float *yr = yg + c * p->out_size + base + (l0 + lo) * s + off; /* first valid */
                const int64_t cnt = hi - lo;
                if (s == 1)
                    axpy(yr, cr, 1.0f, cnt);
                else
                    for (int64_t t = 0; t < cnt; t++)
                        yr[t * s] += cr[t];
            }
            i += n;
        }
    }
}

/* items: (batch, group, block of output channels); for each tile of input positions the block's
 * col rows are computed into the slot's region of the scratch and scattered into its output
 * rows, which no other item touches. */
static void convt_blocks(void *arg, int64_t begin, int64_t end, int64_t slot)
{
    const convt_job *j = arg;
    const av__conv_params *p = j->p;
    const int64_t ks = p->kernel_size;
    float *col = j->col ? j->col + slot * j->block * ks * j->tile : NULL; /* NULL: no input */
    for (int64_t item = begin; item < end; item++) {
        const int64_t ng = item / j->blocks, n = ng / p->group, g = ng % p->group;
        const int64_t c0 = item % j->blocks * j->block, c1 = min64(j->mg, c0 + j->block);
        const float *xg = j->x + (n * p->in_ch + g * j->cg) * p->in_size;
        float *yg = j->y + (n * p->out_ch + g * j->mg) * p->out_size;
        for (int64_t c = c0; c < c1; c++)
            fill(yg + c * p->out_size, j->bias ? j->bias[g * j->mg + c] : 0.0f, p->out_size);
        for (int64_t i0 = 0; i0 < p->in_size; i0 += j->tile) {
            int64_t cols = min64(j->tile, p->in_size - i0);
            av__blas_sgemm(NULL, 1, 0, (c1 - c0) * ks, cols, j->cg, 1.0f,
                           j->w + g * j->cg * j->rows + c0 * ks, j->rows, xg + i0, p->in_size,
                           0.0f, col, cols);
            col2im(p, col, i0, cols, c0, c1, yg);
        }
    }
}

void av__conv_transpose_fast(const av__conv_params *p, const float *x, const float *w,
                             const float *bias, float *y, void *scratch, av__threadpool *pool)
{
    av__blas_single_thread();
    const int64_t cg = p->in_ch / p->group, mg = p->out_ch / p->group;
    convt_job j = {p, x, w, bias, y, scratch, cg, mg, mg * p->kernel_size, 0, 0, 0};
    if (mg == 0)
        return;
    /* the scratch holds mg * K x tile floats (av__conv_fast_scratch): `slots` blocks */
    j.tile = convt_tile(p);
    int64_t block = CONVT_BLOCK_BYTES / (int64_t)sizeof(float) /
                    (p->kernel_size * (j.tile > 0 ? j.tile : 1));
    j.block = block < 1 ? 1 : block > mg ? mg : block;
    j.blocks = (mg + j.block - 1) / j.block;
    parallel_slots(pool, p->batch * p->group * j.blocks, mg / j.block,
                   2.0 * (double)cg * (double)p->kernel_size * (double)j.block *
                       (double)p->in_size,
                   convt_blocks, &j);
}
