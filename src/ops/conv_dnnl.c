/* oneDNN convolutions (contract in conv_dnnl.h): primitive creation, weight reordering and
 * quantisation, the conversions of X to bfloat16 / int8, execution.
 *
 * Measured on the 2-core development machine (AVX-512 + VNNI + BF16), one 128 -> 128 channel
 * Conv1d, kernel 7, 11136 steps, 2 threads: channels-last (nwc) src/dst get oneDNN's brgconv
 * kernels at 530 (fp32), 1050 (bf16) and 1830 (int8) GFLOP/s; the plain ncw layout gets
 * gemm-based kernels (300 / 460 GFLOP/s) and, for int8, only the reference loops (< 1 GFLOP/s).
 * (Those are oneDNN's own 2-thread rates; here each primitive is single-threaded and the pool
 * runs tiles, below.) So the builder runs these convolutions channels-last; ncw works, for tests
 * and odd graphs. A binary "add" post-op costs 10-20 % of the convolution (it takes oneDNN's jit
 * kernels instead of brgconv) and needs no copy of the addend, unlike the sum post-op. */
#include <dnnl.h>
#include <dnnl_debug.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "ops/conv_dnnl.h"

/* The convolution runs in tiles along the first spatial axis (time, for 1-D), each tile one
 * execution of a single-threaded oneDNN primitive on a slice of X and Y (channels-last slices
 * of that axis are contiguous), the tiles shared by the session's pool. Why not oneDNN's own
 * threading: (1) Debian's oneDNN runs on OpenMP, whose threads spin between parallel regions and
 * fight the pool's on 2 cores (measured: a bf16 vocoder 3x slower on a loaded 2-core machine);
 * (2) a brgconv primitive precomputes tables per output position: one over 220000 steps took
 * 250 MB and 0.8 s to create; (3) creation (JIT) cost then depends on the tile, not on the
 * input length, and interior tiles of every length share one primitive. Tiles are cut from the
 * shapes alone, so results do not depend on the thread count; they are bit-identical to an
 * untiled run as far as oneDNN computes every output point the same way wherever it sits. */
#define MAX_PRIMS 4  /* first, interior, last, and the single tile of a short input */
#define TILE_MIN 128 /* output positions per tile along the tiled axis: a power of two in */
#define TILE_MAX 256 /* [TILE_MIN, TILE_MAX] near length / 8 */

typedef struct prim {
    int64_t src_len, dst_len, pl, pr; /* along the tiled axis */
    dnnl_primitive_t prim;
    dnnl_memory_t wei;                /* its weights (shared with prim 0 when the format agrees) */
    int own_wei;
    size_t pad_bytes;                 /* its scratchpad */
} prim;

typedef struct tile {
    int64_t o0, i0;                   /* first output / input position along the tiled axis */
    int prim;
} tile;

typedef struct slot { /* what one thread of the pool uses */
    dnnl_stream_t stream;
    dnnl_memory_t src[MAX_PRIMS], dst[MAX_PRIMS], pad[MAX_PRIMS];
    dnnl_memory_t add[MAX_PRIMS][AV__DNNL_MAX_POST];
} slot;

struct av__dnnl_conv {
    av__dnnl_conv_desc d;
    int n_prims, n_tiles, n_add, threads;
    prim prims[MAX_PRIMS];
    tile *tiles;
    slot *slots;
    dnnl_memory_t bias;
    void *wei_data[MAX_PRIMS];        /* reordered (and quantised) weights */
    float *bias_data;                 /* divided by x_scale * w_scale[o] for INT8 */
    int64_t in_inner, out_inner;      /* elements per position of the tiled axis */
    int64_t in_batch, out_batch;      /* elements per batch item */
    size_t x_size, y_size;            /* bytes per element of X and Y */
    size_t conv_bytes, pad_bytes;     /* per slot: converted X tile, scratchpad (64-aligned) */
    float inv_x_scale, pre_alpha;
    int32_t x_zero;                   /* uint8 X's zero point, or -1 (int8 X) */
    char impl[96];
};

/* ---- the engine: one per process, created on first use ------------------------------------- */

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status;

static void engine_init(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

static av_status dnnl_fail(char *err, size_t err_size, dnnl_status_t s, const char *what)
{
    av_status st = s == dnnl_out_of_memory ? AV_STATUS_OUT_OF_MEMORY
                   : s == dnnl_unimplemented ? AV_STATUS_UNSUPPORTED
                                             : AV_STATUS_INTERNAL;
    return av__fail(err, err_size, st, "oneDNN: %s: %s", what, dnnl_status2str(s));
}

int av__dnnl_cpu_has_bf16(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

int av__dnnl_cpu_has_int8(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

/* ---- conversions of X --------------------------------------------------------------------- *
 * A scalar definition of each, and an AVX-512 loop that gives the same bits (chosen at run time;
 * -O2 does not vectorise the scalar loops: measured 42 % of an int8 vocoder run before). */

static inline uint32_t f_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* bf16(x > 0 ? x : alpha * x) (alpha 1: no pre step), rounded to nearest even, NaN kept quiet
 * (as av__f32_to_bf16) */
static inline uint16_t bf16_of(float x, float alpha)
{
    uint32_t u = f_bits(x > 0.0f ? x : x * alpha);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* round((x > 0 ? x : alpha * x) * inv) clipped to [-127, 127], ties to even; NaN -> 0 */
static inline int8_t s8_of(float x, float alpha, float inv)
{
    float v = (x > 0.0f ? x : x * alpha) * inv;
    if (v != v)
        return 0;
    v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
    return (int8_t)(int32_t)nearbyintf(v);
}

/* round((x > 0 ? x : alpha * x) * inv) + zero clipped to [0, 255], ties to even; NaN -> zero */
static inline uint8_t u8_of(float x, float alpha, float inv, float zero)
{
    float v = (x > 0.0f ? x : x * alpha) * inv;
    if (v != v)
        return (uint8_t)zero;
    v = nearbyintf(v) + zero; /* exact: integers below 2^24 */
    return (uint8_t)(v > 255.0f ? 255.0f : v < 0.0f ? 0.0f : v);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_PATH 1

__attribute__((target("avx512f"))) static int64_t to_bf16_avx512(const float *x, uint16_t *y,
                                                                  int64_t n, float alpha)
{
    const __m512 zero = _mm512_setzero_ps(), va = _mm512_set1_ps(alpha);
    const __m512i round = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1),
                  abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000),
                  quiet = _mm512_set1_epi32(0x40);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        v = _mm512_mask_mov_ps(_mm512_mul_ps(v, va), _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
        __m512i u = _mm512_castps_si512(v);
        __m512i r = _mm512_srli_epi32(
            _mm512_add_epi32(_mm512_add_epi32(u, round),
                             _mm512_and_si512(_mm512_srli_epi32(u, 16), one)),
            16);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
        r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), quiet));
        _mm256_storeu_si256((__m256i *)(void *)(y + i), _mm512_cvtepi32_epi16(r));
    }
    return i;
}

__attribute__((target("avx512f"))) static int64_t to_s8_avx512(const float *x, int8_t *y,
                                                                int64_t n, float alpha, float inv)
{
    const __m512 zero = _mm512_setzero_ps(), va = _mm512_set1_ps(alpha), vi = _mm512_set1_ps(inv),
                 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        v = _mm512_mask_mov_ps(_mm512_mul_ps(v, va), _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
        v = _mm512_mul_ps(v, vi);
        __mmask16 ord = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
        v = _mm512_maskz_mov_ps(ord, _mm512_min_ps(_mm512_max_ps(v, lo), hi));
        /* cvtps rounds by MXCSR: to nearest even unless a caller changed it, like nearbyintf */
        _mm_storeu_si128((__m128i *)(void *)(y + i), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
    }
    return i;
}

__attribute__((target("avx512f"))) static int64_t to_u8_avx512(const float *x, uint8_t *y,
                                                                int64_t n, float alpha, float inv,
                                                                float zero)
{
    const __m512 vz = _mm512_setzero_ps(), va = _mm512_set1_ps(alpha), vi = _mm512_set1_ps(inv),
                 zp = _mm512_set1_ps(zero), lo = _mm512_setzero_ps(), hi = _mm512_set1_ps(255.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        v = _mm512_mask_mov_ps(_mm512_mul_ps(v, va), _mm512_cmp_ps_mask(v, vz, _CMP_GT_OQ), v);
        v = _mm512_mul_ps(v, vi);
        __mmask16 ord = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
        /* round to nearest even first (as nearbyintf), then shift and clip */
        v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, zp), lo), hi);
        v = _mm512_mask_mov_ps(zp, ord, v);
        _mm_storeu_si128((__m128i *)(void *)(y + i), _mm512_cvtusepi32_epi8(_mm512_cvtps_epu32(v)));
    }
    return i;
}

static int has_avx512f(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#else
#define HAVE_AVX512_PATH 0
#endif

static void to_bf16(const float *x, uint16_t *y, int64_t n, float alpha)
{
    int64_t i = 0;
#if HAVE_AVX512_PATH
    if (has_avx512f())
        i = to_bf16_avx512(x, y, n, alpha);
#endif
    for (; i < n; i++)
        y[i] = bf16_of(x[i], alpha);
}

static void to_u8(const float *x, uint8_t *y, int64_t n, float alpha, float inv, float zero)
{
    int64_t i = 0;
#if HAVE_AVX512_PATH
    if (has_avx512f())
        i = to_u8_avx512(x, y, n, alpha, inv, zero);
#endif
    for (; i < n; i++)
        y[i] = u8_of(x[i], alpha, inv, zero);
}

static void to_s8(const float *x, int8_t *y, int64_t n, float alpha, float inv)
{
    int64_t i = 0;
#if HAVE_AVX512_PATH
    if (has_avx512f())
        i = to_s8_avx512(x, y, n, alpha, inv);
#endif
    for (; i < n; i++)
        y[i] = s8_of(x[i], alpha, inv);
}

/* ---- creation ------------------------------------------------------------------------------ */

static dnnl_data_type_t dt_of(av__dtype t)
{
    switch (t) {
    case AV__DT_F32: return dnnl_f32;
    case AV__DT_BF16: return dnnl_bf16;
    case AV__DT_I8: return dnnl_s8;
    default: return dnnl_data_type_undef;
    }
}

/* Plain activation tags: [N, C, sp...] or [N, sp..., C] for 1 to 3 spatial axes. */
static dnnl_format_tag_t act_tag(int nsp, int channels_last)
{
    static const dnnl_format_tag_t plain[] = {dnnl_abc, dnnl_abcd, dnnl_abcde};
    static const dnnl_format_tag_t last[] = {dnnl_acb, dnnl_acdb, dnnl_acdeb};
    return channels_last ? last[nsp - 1] : plain[nsp - 1];
}

/* The ONNX weight layout as a oneDNN tag over oneDNN's weight dims ([G,] O, I, k...). Conv:
 * [O, I/g, k...] is oi.. / goi... as is. ConvTranspose: [I, O/g, k...] holds i before o. */
static dnnl_format_tag_t wei_tag(int nsp, int grouped, int transpose)
{
    static const dnnl_format_tag_t conv[2][3] = {{dnnl_abc, dnnl_abcd, dnnl_abcde},
                                                 {dnnl_abcd, dnnl_abcde, dnnl_abcdef}};
    static const dnnl_format_tag_t deconv[2][3] = {{dnnl_bac, dnnl_bacd, dnnl_bacde},
                                                   {dnnl_acbd, dnnl_acbde, dnnl_acbdef}};
    return transpose ? deconv[grouped][nsp - 1] : conv[grouped][nsp - 1];
}

static av_status check_desc(const av__dnnl_conv_desc *d, char *err, size_t err_size)
{
    const av__conv_params *p = &d->p;
    if (p->dtype != AV__DT_F32 || p->nsp < 1 || p->nsp > 3)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "oneDNN convolutions take float32 with 1 to 3 spatial axes");
    if (d->precision != AV_PRECISION_FP32 && d->precision != AV_PRECISION_BF16 &&
        d->precision != AV_PRECISION_INT8)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "precision %s",
                        av_precision_name(d->precision));
    av__dtype native = d->precision == AV_PRECISION_BF16   ? AV__DT_BF16
                       : d->precision == AV_PRECISION_INT8 ? AV__DT_I8
                                                           : AV__DT_F32;
    if (d->x_type != AV__DT_F32 && d->x_type != native)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "X of type %s in a %s node",
                        av__dtype_name(d->x_type), av_precision_name(d->precision));
    if (d->y_type != AV__DT_F32 && d->y_type != native)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "Y of type %s in a %s node",
                        av__dtype_name(d->y_type), av_precision_name(d->precision));
    if (d->precision == AV_PRECISION_INT8 &&
        (!(d->x_scale > 0) || !isfinite(d->x_scale) ||
         (d->y_type == AV__DT_I8 && (!(d->y_scale > 0) || !isfinite(d->y_scale)))))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "int8 needs finite positive x_scale (and y_scale for int8 Y)");
    if (d->x_zero > 255 || (d->x_zero >= 0 && (d->precision != AV_PRECISION_INT8 ||
                                               d->x_type != AV__DT_F32)))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "x_zero needs an int8 node with a float32 X, and is 0 to 255");
    if (d->pre.act != AV__DNNL_ACT_NONE &&
        (d->pre.act != AV__DNNL_ACT_RELU || d->precision == AV_PRECISION_FP32 ||
         d->x_type != AV__DT_F32))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "a pre step needs a float32 X converted to bfloat16 or int8, and is "
                        "relu or leaky_relu");
    if (d->n_post < 0 || d->n_post > AV__DNNL_MAX_POST)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%d post steps (at most %d)",
                        d->n_post, AV__DNNL_MAX_POST);
    for (int i = 0; i < d->n_post; i++) {
        av__dnnl_act a = d->post[i].act;
        if (a <= AV__DNNL_ACT_NONE || a > AV__DNNL_ACT_ADD)
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "post step %d unknown", i);
        if (d->y_type == AV__DT_I8 && a != AV__DNNL_ACT_RELU)
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "an int8 Y allows only relu / leaky_relu post steps");
    }
    return AV_STATUS_OK;
}

/* Per output channel max|W| / 127 (1 for an all-zero channel), for either weight layout. */
static void weight_scales(const av__conv_params *p, const float *w, float *scales)
{
    const int64_t k = p->kernel_size, og = p->out_ch / p->group, cg = p->in_ch / p->group;
    for (int64_t o = 0; o < p->out_ch; o++) {
        float m = 0;
        int64_t g = o / og, j = o % og;
        for (int64_t c = 0; c < cg; c++) {
            const float *row = p->transpose ? w + ((g * cg + c) * og + j) * k
                                            : w + (o * cg + c) * k;
            for (int64_t t = 0; t < k; t++)
                m = fabsf(row[t]) > m ? fabsf(row[t]) : m;
        }
        scales[o] = m > 0 ? m / 127.0f : 1.0f;
    }
}

/* One reorder of w (plain float32) into the memory `to` (scaled per output channel by
 * inv_scales when given). */
static av_status reorder_weights(av__dnnl_conv *c, dnnl_stream_t stream,
                                 const dnnl_memory_desc_t *from, const float *w, dnnl_memory_t to,
                                 const float *inv_scales, int scale_mask, char *err,
                                 size_t err_size)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t mfrom = NULL;
    const dnnl_memory_desc_t *to_md = NULL;
    av_status st = AV_STATUS_OK;
    dnnl_status_t s = dnnl_memory_get_memory_desc(to, &to_md);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success && inv_scales)
        s = dnnl_primitive_attr_set_output_scales(attr, c->d.p.out_ch, scale_mask, inv_scales);
    if (s == dnnl_success)
        s = dnnl_reorder_primitive_desc_create(&pd, from, engine, to_md, engine, attr);
    if (s == dnnl_success)
        s = dnnl_primitive_create(&reorder, pd);
    if (s == dnnl_success)
        s = dnnl_memory_create(&mfrom, from, engine, (void *)(uintptr_t)w);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mfrom}, {DNNL_ARG_TO, to}};
        s = dnnl_primitive_execute(reorder, stream, 2, args);
        if (s == dnnl_success)
            s = dnnl_stream_wait(stream);
    }
    if (s != dnnl_success)
        st = dnnl_fail(err, err_size, s, "reordering the weights");
    dnnl_memory_destroy(mfrom);
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* The first implementation oneDNN offers, except that with `no_gemm` the gemm-based ones are
 * passed over: in oneDNN 2.6 they compute wrong results for channels-last data with a binary
 * post-op (1x1 convolutions with padding, grouped ones; tests/c/test_ops_dnnl.c has the case).
 * Those shapes then get the next implementation (the reference one at worst). */
static dnnl_status_t create_pd(dnnl_primitive_desc_t *pd, const void *op,
                               const_dnnl_primitive_attr_t attr, int no_gemm)
{
    dnnl_primitive_desc_iterator_t it = NULL;
    dnnl_status_t s = dnnl_primitive_desc_iterator_create(&it, op, attr, engine, NULL);
    *pd = NULL;
    while (s == dnnl_success) {
        dnnl_primitive_desc_t cand = dnnl_primitive_desc_iterator_fetch(it);
        const char *impl = "";
        if (!cand) {
            s = dnnl_out_of_memory;
            break;
        }
        dnnl_primitive_desc_query(cand, dnnl_query_impl_info_str, 0, &impl);
        if (!no_gemm || !impl || !strstr(impl, "gemm")) {
            *pd = cand;
            break;
        }
        dnnl_primitive_desc_destroy(cand);
        s = dnnl_primitive_desc_iterator_next(it);
        if (s == dnnl_iterator_ends)
            s = dnnl_unimplemented;
    }
    dnnl_primitive_desc_iterator_destroy(it);
    return s;
}

static void describe(const av__dnnl_conv_desc *d, char *out, size_t size)
{
    const av__conv_params *p = &d->p;
    snprintf(out, size, "%s %lld -> %lld channels, group %lld, kernel %lld, %s, %s",
             p->transpose ? "ConvTranspose" : "Conv", (long long)p->in_ch, (long long)p->out_ch,
             (long long)p->group, (long long)p->kernel[0],
             d->channels_last ? "channels-last" : "channels-first",
             av_precision_name(d->precision));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* The tiles: output positions [o0, o0 + len) of the tiled axis, the input slice they read and
 * its padding. Interior tiles of one conv all have the same shape. Channels-first data cannot
 * be sliced this way: one tile. */
static av_status plan_tiles(av__dnnl_conv *c, char *err, size_t err_size)
{
    const av__conv_params *p = &c->d.p;
    const int64_t out = p->out_sp[0], in = p->in_sp[0], s = p->stride[0];
    const int64_t ext = (p->kernel[0] - 1) * p->dilation[0] + 1;
    int64_t n = out;
    if (c->d.channels_last) {
        n = TILE_MIN;
        while (n * 2 <= TILE_MAX && n * 2 * 8 <= out)
            n *= 2;
        if (p->transpose)
            n = (n + s - 1) / s * s; /* interior ConvTranspose tiles start on a stride */
    }
    int64_t count = out / n > 0 ? out / n : 1; /* the last tile takes the rest: [n, 2n) */
    if (!(c->tiles = av__calloc((size_t)count + 1, sizeof *c->tiles)))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int64_t t = 0; t < count; t++) {
        int64_t o0 = t * n, len = t == count - 1 ? out - o0 : n, i0, i1, pl, pr;
        if (!p->transpose) {
            /* output o reads inputs o * s - pad + k * d */
            int64_t lo = o0 * s - p->pad_begin[0], hi = (o0 + len - 1) * s - p->pad_begin[0] + ext;
            i0 = lo > 0 ? lo : 0;
            i1 = hi < in ? hi : in;
            pl = i0 - lo;
            pr = hi - i1;
        } else {
            /* input i writes outputs i * s - pad + k * d: the first input reaching o0, one
             * earlier when that would need a negative leading padding (stride > extent) */
            i0 = -floor_div(-(o0 + p->pad_begin[0] - (ext - 1)), s);
            if (o0 + p->pad_begin[0] - i0 * s < 0)
                i0--;
            i0 = i0 > 0 ? i0 : 0;
            i1 = floor_div(o0 + len - 1 + p->pad_begin[0], s) + 1;
            i1 = i1 < in ? i1 : in;
            pl = o0 + p->pad_begin[0] - i0 * s;
            pr = (i1 - 1 - i0) * s + ext - pl - len;
        }
        if (!c->d.channels_last) { /* the whole input: its rows have their full length */
            i0 = 0;
            i1 = in;
            pl = p->pad_begin[0];
            pr = p->transpose ? (in - 1) * s + ext - pl - out : p->pad_end[0];
        }
        if (i1 <= i0 || pl < 0)
            return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                            "oneDNN: a tile of output positions %lld..%lld reads no input",
                            (long long)o0, (long long)(o0 + len));
        int k = 0;
        while (k < c->n_prims &&
               (c->prims[k].src_len != i1 - i0 || c->prims[k].dst_len != len ||
                c->prims[k].pl != pl || c->prims[k].pr != pr))
            k++;
        if (k == c->n_prims) {
            if (k == MAX_PRIMS)
                return av__fail(err, err_size, AV_STATUS_INTERNAL, "oneDNN: too many tile shapes");
            c->prims[k] = (prim){.src_len = i1 - i0, .dst_len = len, .pl = pl, .pr = pr};
            c->n_prims++;
        }
        c->tiles[t] = (tile){.o0 = o0, .i0 = i0, .prim = k};
    }
    c->n_tiles = (int)count;
    return AV_STATUS_OK;
}

/* The primitive of tile shape k. */
static av_status make_prim(av__dnnl_conv *c, int k, const_dnnl_primitive_attr_t attr,
                           dnnl_data_type_t cdt, dnnl_data_type_t sdt, dnnl_memory_desc_t *wmd_out,
                           const dnnl_memory_desc_t **q_wei, dnnl_primitive_desc_t *pd_out,
                           char *err, size_t err_size)
{
    const av__dnnl_conv_desc *d = &c->d;
    const av__conv_params *p = &d->p;
    prim *pr = &c->prims[k];
    const int nsp = p->nsp, grouped = p->group > 1, nd = nsp + 2;
    dnnl_dims_t sdims, ddims, wdims, bdims = {p->out_ch}, strides, dil, pl, prr;
    sdims[0] = ddims[0] = 1;
    sdims[1] = p->in_ch;
    ddims[1] = p->out_ch;
    int wd = 0;
    if (grouped)
        wdims[wd++] = p->group;
    wdims[wd++] = p->out_ch / p->group;
    wdims[wd++] = p->in_ch / p->group;
    for (int i = 0; i < nsp; i++) {
        sdims[2 + i] = i ? p->in_sp[i] : pr->src_len;
        ddims[2 + i] = i ? p->out_sp[i] : pr->dst_len;
        wdims[wd++] = p->kernel[i];
        strides[i] = p->stride[i];
        dil[i] = p->dilation[i] - 1;
        int64_t extent = (p->kernel[i] - 1) * p->dilation[i] + 1;
        pl[i] = i ? p->pad_begin[i] : pr->pl;
        prr[i] = i ? (p->transpose ? (p->in_sp[i] - 1) * p->stride[i] + extent - pl[i] -
                                         p->out_sp[i]
                                   : p->pad_end[i])
                   : pr->pr;
        if (pl[i] < 0)
            return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                            "oneDNN: negative leading padding (ConvTranspose output_shape larger "
                            "than the natural size)");
    }
    dnnl_memory_desc_t smd, bmd, dmd, amd;
    dnnl_format_tag_t tag = act_tag(nsp, d->channels_last);
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_tag(&smd, nd, sdims, sdt, tag)) != dnnl_success ||
        (s = dnnl_memory_desc_init_by_tag(wmd_out, wd, wdims, cdt, dnnl_format_tag_any)) !=
            dnnl_success ||
        (s = dnnl_memory_desc_init_by_tag(&bmd, 1, bdims, dnnl_f32, dnnl_a)) != dnnl_success ||
        (s = dnnl_memory_desc_init_by_tag(&dmd, nd, ddims, dt_of(d->y_type), tag)) !=
            dnnl_success ||
        (s = dnnl_memory_desc_init_by_tag(&amd, nd, ddims, dnnl_f32, tag)) != dnnl_success)
        return dnnl_fail(err, err_size, s, "memory descriptors");
    union {
        dnnl_convolution_desc_t conv;
        dnnl_deconvolution_desc_t deconv;
    } op;
    if (p->transpose)
        s = dnnl_dilated_deconvolution_forward_desc_init(&op.deconv, dnnl_forward_inference,
                                                         dnnl_deconvolution_direct, &smd, wmd_out,
                                                         &bmd, &dmd, strides, dil, pl, prr);
    else
        s = dnnl_dilated_convolution_forward_desc_init(&op.conv, dnnl_forward_inference,
                                                       dnnl_convolution_direct, &smd, wmd_out,
                                                       &bmd, &dmd, strides, dil, pl, prr);
    if (s != dnnl_success)
        return dnnl_fail(err, err_size, s, "operation descriptor");
    /* post-op binary descriptors must be of the tile's dst: attr is per shape */
    dnnl_primitive_attr_t a2 = NULL;
    dnnl_post_ops_t post = NULL;
    if ((s = dnnl_primitive_attr_clone(&a2, attr)) != dnnl_success ||
        (s = dnnl_post_ops_create(&post)) != dnnl_success)
        goto fail;
    for (int i = 0; i < d->n_post && s == dnnl_success; i++) {
        const av__dnnl_step *e = &d->post[i];
        switch (e->act) {
        case AV__DNNL_ACT_RELU:
            s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, e->alpha, 0.0f);
            break;
        case AV__DNNL_ACT_TANH:
            s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_tanh, 0.0f, 0.0f);
            break;
        case AV__DNNL_ACT_SIGMOID:
            s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_logistic, 0.0f, 0.0f);
            break;
        case AV__DNNL_ACT_LINEAR:
            s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_linear, e->alpha, e->beta);
            break;
        default: /* ADD */
            s = dnnl_post_ops_append_binary(post, dnnl_binary_add, &amd);
            break;
        }
    }
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(a2, post);
    if (s == dnnl_success)
        s = create_pd(pd_out, &op, a2, d->channels_last && c->n_add > 0 && !p->transpose);
    if (s == dnnl_success)
        s = dnnl_primitive_create(&pr->prim, *pd_out);
fail:
    dnnl_post_ops_destroy(post);
    dnnl_primitive_attr_destroy(a2);
    if (s != dnnl_success) {
        char name[160];
        describe(d, name, sizeof name);
        if (s == dnnl_unimplemented)
            return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                            "oneDNN has no implementation of this convolution (%s)", name);
        return dnnl_fail(err, err_size, s, name);
    }
    *q_wei = dnnl_primitive_desc_query_md(*pd_out, dnnl_query_weights_md, 0);
    pr->pad_bytes = dnnl_memory_desc_get_size(
        dnnl_primitive_desc_query_md(*pd_out, dnnl_query_scratchpad_md, 0));
    return AV_STATUS_OK;
}

/* Memory objects of slot `sl` for prim k (no buffers yet). */
static dnnl_status_t make_slot_mems(av__dnnl_conv *c, slot *sl, int k,
                                    const_dnnl_primitive_desc_t pd)
{
    const dnnl_memory_desc_t *q_src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *q_dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *q_pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    dnnl_status_t s;
    if ((s = dnnl_memory_create(&sl->src[k], q_src, engine, DNNL_MEMORY_NONE)) != dnnl_success ||
        (s = dnnl_memory_create(&sl->dst[k], q_dst, engine, DNNL_MEMORY_NONE)) != dnnl_success ||
        (s = dnnl_memory_create(&sl->pad[k], q_pad, engine, DNNL_MEMORY_NONE)) != dnnl_success)
        return s;
    for (int i = 0, a = 0; i < c->d.n_post; i++) {
        if (c->d.post[i].act != AV__DNNL_ACT_ADD)
            continue;
        const dnnl_memory_desc_t *q_add = dnnl_primitive_desc_query_md(
            pd, dnnl_query_exec_arg_md, DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1);
        if ((s = dnnl_memory_create(&sl->add[k][a], q_add, engine, DNNL_MEMORY_NONE)) !=
            dnnl_success)
            return s;
        a++;
    }
    return dnnl_success;
}

av_status av__dnnl_conv_create(const av__dnnl_conv_desc *d, const float *w, const float *bias,
                               int threads, av__dnnl_conv **out, char *err, size_t err_size)
{
    *out = NULL;
    av_status st = check_desc(d, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    pthread_once(&engine_once, engine_init);
    if (engine_status != dnnl_success)
        return dnnl_fail(err, err_size, engine_status, "creating the CPU engine");
    const av__conv_params *p = &d->p;
    av__dnnl_conv *c = av__calloc(1, sizeof *c);
    if (!c)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    float *wscale = NULL, *inv = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pds[MAX_PRIMS] = {0};
    dnnl_status_t s = dnnl_success;
    const char *what = "";
    c->d = *d;
    c->threads = threads > 0 ? threads : 1;
    for (int i = 0; i < d->n_post; i++)
        c->n_add += d->post[i].act == AV__DNNL_ACT_ADD;
    c->in_inner = p->in_size / p->in_sp[0] * p->in_ch;
    c->out_inner = p->out_size / p->out_sp[0] * p->out_ch;
    c->in_batch = p->in_size * p->in_ch;
    c->out_batch = p->out_size * p->out_ch;
    c->x_size = av__dtype_size(d->x_type);
    c->y_size = av__dtype_size(d->y_type);
    c->pre_alpha = d->pre.act == AV__DNNL_ACT_RELU ? d->pre.alpha : 1.0f;
    /* every primitive is single-threaded: the pool runs the tiles */
    omp_set_num_threads(1);
    if ((st = plan_tiles(c, err, err_size)) != AV_STATUS_OK)
        goto fail;
    if (!(c->slots = av__calloc((size_t)c->threads, sizeof *c->slots)))
        goto oom;

    what = "attributes";
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success ||
        (s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)) !=
            dnnl_success)
        goto dnnl_error;
    if (d->precision == AV_PRECISION_INT8) {
        wscale = av__malloc((size_t)p->out_ch * sizeof *wscale);
        inv = av__malloc((size_t)p->out_ch * sizeof *inv);
        if (!wscale || !inv)
            goto oom;
        weight_scales(p, w, wscale);
        float ys = d->y_type == AV__DT_I8 ? d->y_scale : 1.0f;
        for (int64_t o = 0; o < p->out_ch; o++)
            inv[o] = d->x_scale * wscale[o] / ys; /* the output scales, for now */
        if ((s = dnnl_primitive_attr_set_output_scales(attr, p->out_ch, 1 << 1, inv)) !=
            dnnl_success)
            goto dnnl_error;
        c->inv_x_scale = 1.0f / d->x_scale;
        if (d->x_type == AV__DT_F32 && d->x_zero >= 0) {
            int32_t zp = d->x_zero;
            if ((s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &zp)) !=
                dnnl_success)
                goto dnnl_error;
        }
    }
    c->x_zero = d->precision == AV_PRECISION_INT8 && d->x_type == AV__DT_F32 ? d->x_zero : -1;
    dnnl_data_type_t cdt = d->precision == AV_PRECISION_BF16   ? dnnl_bf16
                           : d->precision == AV_PRECISION_INT8 ? dnnl_s8
                                                               : dnnl_f32;
    const int grouped = p->group > 1;
    dnnl_dims_t wdims;
    int wd = 0;
    if (grouped)
        wdims[wd++] = p->group;
    wdims[wd++] = p->out_ch / p->group;
    wdims[wd++] = p->in_ch / p->group;
    for (int i = 0; i < p->nsp; i++)
        wdims[wd++] = p->kernel[i];
    dnnl_memory_desc_t wplain;
    if ((s = dnnl_memory_desc_init_by_tag(&wplain, wd, wdims, dnnl_f32,
                                          wei_tag(p->nsp, grouped, p->transpose))) !=
        dnnl_success) {
        what = "weight descriptor";
        goto dnnl_error;
    }
    if (d->precision == AV_PRECISION_INT8)
        for (int64_t o = 0; o < p->out_ch; o++)
            inv[o] = 1.0f / wscale[o];
    for (int k = 0; k < c->n_prims; k++) {
        dnnl_memory_desc_t wmd;
        const dnnl_memory_desc_t *q_wei = NULL;
        if ((st = make_prim(c, k, attr, cdt, c->x_zero >= 0 ? dnnl_u8 : cdt, &wmd, &q_wei,
                            &pds[k], err, err_size)) !=
            AV_STATUS_OK)
            goto fail;
        const char *impl = "";
        dnnl_primitive_desc_query(pds[k], dnnl_query_impl_info_str, 0, &impl);
        if (k == 0 || !strstr(c->impl, impl ? impl : ""))
            snprintf(c->impl + strlen(c->impl), sizeof c->impl - strlen(c->impl), "%s%s",
                     k ? " + " : "", impl ? impl : "");
        c->pad_bytes = c->pad_bytes > c->prims[k].pad_bytes ? c->pad_bytes : c->prims[k].pad_bytes;
        /* weights: one reordered copy per distinct format */
        int same = -1;
        for (int j = 0; j < k && same < 0; j++) {
            const dnnl_memory_desc_t *jm = NULL;
            if (dnnl_memory_get_memory_desc(c->prims[j].wei, &jm) == dnnl_success &&
                dnnl_memory_desc_equal(jm, q_wei))
                same = j;
        }
        if (same >= 0) {
            c->prims[k].wei = c->prims[same].wei;
            continue;
        }
        if (!(c->wei_data[k] = av__aligned_alloc(dnnl_memory_desc_get_size(q_wei))))
            goto oom;
        if ((s = dnnl_memory_create(&c->prims[k].wei, q_wei, engine, c->wei_data[k])) !=
            dnnl_success) {
            what = "weights";
            goto dnnl_error;
        }
        c->prims[k].own_wei = 1;
        /* f32 ONNX layout -> the primitive's format (INT8: times 1 / w_scale[o], rounded to
         * nearest even by the reorder) */
        if (!c->slots[0].stream &&
            (s = dnnl_stream_create(&c->slots[0].stream, engine, dnnl_stream_default_flags)) !=
                dnnl_success) {
            what = "stream";
            goto dnnl_error;
        }
        st = reorder_weights(c, c->slots[0].stream, &wplain, w, c->prims[k].wei,
                             d->precision == AV_PRECISION_INT8 ? inv : NULL, grouped ? 3 : 1,
                             err, err_size);
        if (st != AV_STATUS_OK)
            goto fail;
    }
    what = "memory objects";
    for (int t = 0; t < c->threads; t++) {
        slot *sl = &c->slots[t];
        if (!sl->stream &&
            (s = dnnl_stream_create(&sl->stream, engine, dnnl_stream_default_flags)) !=
                dnnl_success)
            goto dnnl_error;
        for (int k = 0; k < c->n_prims; k++)
            if ((s = make_slot_mems(c, sl, k, pds[k])) != dnnl_success)
                goto dnnl_error;
    }
    if (!(c->bias_data = av__aligned_alloc((size_t)p->out_ch * sizeof(float))))
        goto oom;
    {
        dnnl_memory_desc_t bmd;
        dnnl_dims_t bdims = {p->out_ch};
        if ((s = dnnl_memory_desc_init_by_tag(&bmd, 1, bdims, dnnl_f32, dnnl_a)) !=
                dnnl_success ||
            (s = dnnl_memory_create(&c->bias, &bmd, engine, c->bias_data)) != dnnl_success)
            goto dnnl_error;
    }
    for (int64_t o = 0; o < p->out_ch; o++) {
        float b = bias ? bias[o] : 0.0f;
        /* oneDNN adds an int8 convolution's bias before the output scale */
        c->bias_data[o] = d->precision == AV_PRECISION_INT8 ? b / (d->x_scale * wscale[o]) : b;
    }
    if (d->precision != AV_PRECISION_FP32 && d->x_type == AV__DT_F32) {
        int64_t longest = 0;
        for (int k = 0; k < c->n_prims; k++)
            longest = c->prims[k].src_len > longest ? c->prims[k].src_len : longest;
        c->conv_bytes = ((size_t)(longest * c->in_inner) *
                             (d->precision == AV_PRECISION_BF16 ? 2 : 1) + 63) / 64 * 64;
    }
    c->pad_bytes = (c->pad_bytes + 63) / 64 * 64;
    av__free(wscale);
    av__free(inv);
    for (int k = 0; k < MAX_PRIMS; k++)
        dnnl_primitive_desc_destroy(pds[k]);
    dnnl_primitive_attr_destroy(attr);
    *out = c;
    return AV_STATUS_OK;

oom:
    st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    goto fail;
dnnl_error:
    {
        char name[160], msg[256];
        describe(d, name, sizeof name);
        snprintf(msg, sizeof msg, "%s (%s)", what, name);
        st = dnnl_fail(err, err_size, s, msg);
    }
fail:
    av__free(wscale);
    av__free(inv);
    for (int k = 0; k < MAX_PRIMS; k++)
        dnnl_primitive_desc_destroy(pds[k]);
    dnnl_primitive_attr_destroy(attr);
    av__dnnl_conv_free(c);
    return st;
}

void av__dnnl_conv_free(av__dnnl_conv *c)
{
    if (!c)
        return;
    for (int t = 0; c->slots && t < c->threads; t++) {
        slot *sl = &c->slots[t];
        for (int k = 0; k < MAX_PRIMS; k++) {
            dnnl_memory_destroy(sl->src[k]);
            dnnl_memory_destroy(sl->dst[k]);
            dnnl_memory_destroy(sl->pad[k]);
            for (int a = 0; a < AV__DNNL_MAX_POST; a++)
                dnnl_memory_destroy(sl->add[k][a]);
        }
        dnnl_stream_destroy(sl->stream);
    }
    for (int k = 0; k < c->n_prims; k++) {
        dnnl_primitive_destroy(c->prims[k].prim);
        if (c->prims[k].own_wei)
            dnnl_memory_destroy(c->prims[k].wei);
        av__aligned_free(c->wei_data[k]);
    }
    dnnl_memory_destroy(c->bias);
    av__aligned_free(c->bias_data);
    av__free(c->slots);
    av__free(c->tiles);
    av__free(c);
}

size_t av__dnnl_conv_scratch(const av__dnnl_conv *c)
{
    return (size_t)c->threads * (c->conv_bytes + c->pad_bytes);
}

const char *av__dnnl_conv_impl(const av__dnnl_conv *c) { return c->impl; }

typedef struct run_job {
    av__dnnl_conv *c;
    const char *x;
    const float *const *addends;
    char *y, *scratch;
    int64_t grain;
    av_status *status; /* per slot */
    dnnl_status_t *dnnl_status;
} run_job;

/* items: (batch, tile) pairs; the chunk's slot owns its memory objects and scratch region */
static void run_chunk(void *arg, int64_t begin, int64_t end)
{
    const run_job *j = arg;
    av__dnnl_conv *c = j->c;
    const int si = (int)(begin / j->grain);
    slot *sl = &c->slots[si];
    char *conv = j->scratch + (size_t)si * (c->conv_bytes + c->pad_bytes);
    char *pad = conv + c->conv_bytes;
    omp_set_num_threads(1); /* per thread in libgomp: no OpenMP team */
    for (int64_t item = begin; item < end; item++) {
        const int64_t b = item / c->n_tiles;
        const tile *t = &c->tiles[item % c->n_tiles];
        const prim *pr = &c->prims[t->prim];
        const int k = t->prim;
        const char *src = j->x + (size_t)(b * c->in_batch + t->i0 * c->in_inner) * c->x_size;
        const size_t out_off = (size_t)(b * c->out_batch + t->o0 * c->out_inner);
        if (c->conv_bytes) {
            int64_t n = pr->src_len * c->in_inner;
            if (c->d.precision == AV_PRECISION_BF16)
                to_bf16((const float *)src, (uint16_t *)conv, n, c->pre_alpha);
            else if (c->x_zero >= 0)
                to_u8((const float *)src, (uint8_t *)conv, n, c->pre_alpha, c->inv_x_scale,
                      (float)c->x_zero);
            else
                to_s8((const float *)src, (int8_t *)conv, n, c->pre_alpha, c->inv_x_scale);
            src = conv;
        }
        dnnl_status_t s = dnnl_memory_set_data_handle(sl->src[k], (void *)(uintptr_t)src);
        if (s == dnnl_success)
            s = dnnl_memory_set_data_handle(sl->dst[k], j->y + out_off * c->y_size);
        if (s == dnnl_success && pr->pad_bytes)
            s = dnnl_memory_set_data_handle(sl->pad[k], pad);
        dnnl_exec_arg_t args[5 + AV__DNNL_MAX_POST];
        int n = 0;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, sl->src[k]};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, pr->wei};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, c->bias};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, sl->dst[k]};
        if (pr->pad_bytes)
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sl->pad[k]};
        for (int i = 0, a = 0; i < c->d.n_post && s == dnnl_success; i++) {
            if (c->d.post[i].act != AV__DNNL_ACT_ADD)
                continue;
            s = dnnl_memory_set_data_handle(sl->add[k][a],
                                            (void *)(uintptr_t)(j->addends[a] + out_off));
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1,
                                          sl->add[k][a]};
            a++;
        }
        if (s == dnnl_success)
            s = dnnl_primitive_execute(pr->prim, sl->stream, n, args);
        if (s == dnnl_success)
            s = dnnl_stream_wait(sl->stream);
        if (s != dnnl_success) {
            j->dnnl_status[si] = s;
            j->status[si] = AV_STATUS_INTERNAL;
            return;
        }
    }
}

av_status av__dnnl_conv_run(av__dnnl_conv *c, const void *x, const float *const *addends,
                            void *y, void *scratch, av__threadpool *pool, char *err,
                            size_t err_size)
{
    if (av__dnnl_conv_scratch(c) && !scratch)
        return av__fail(err, err_size, AV_STATUS_INTERNAL, "scratch buffer missing");
    int threads = av__threadpool_size(pool);
    if (threads > c->threads)
        return av__fail(err, err_size, AV_STATUS_INTERNAL, "prepared for %d threads, run on %d",
                        c->threads, threads);
    av_status status[64] = {AV_STATUS_OK};
    dnnl_status_t dstat[64] = {dnnl_success};
    if (threads > 64)
        threads = 64;
    const int64_t items = c->d.p.batch * c->n_tiles;
    int64_t grain = (items + threads - 1) / threads;
    run_job j = {c, x, addends, y, scratch, grain > 0 ? grain : 1, status, dstat};
    av__parallel_for(pool, items, j.grain, run_chunk, &j);
    for (int t = 0; t < threads; t++)
        if (status[t] != AV_STATUS_OK)
            return dnnl_fail(err, err_size, dstat[t], "running the convolution");
    return AV_STATUS_OK;
}
