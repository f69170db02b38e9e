// autovoice's own fp16 implicit-GEMM convolution with a fused epilogue (contract in
// conv_igemm.h).
//
// A block owns BM output rows (time steps t0 .. t0 + BM - 1 of batch n) and BN output channels
// (o0 .. o0 + BN - 1). Its K loop runs over (32-channel chunk, tap) pairs, taps innermost so
// that consecutive steps read mostly the same rows of X (shifted by the dilation) and find them
// in L1. Each step loads
//   A  BM x 32 halves: X rows t0 + k * dil - pad + r, channels c0 .. c0 + 31 (zero-filled
//      outside X by cp.async's source size 0)
//   B  32 x BN halves: the packed weights [k][c0 .. c0 + 31][o0 .. o0 + BN - 1] (padded with
//      zeros on the host, so never out of range)
// into one of STAGES shared-memory buffers, STAGES - 1 steps ahead of the tensor cores. Warps
// tile the block WM x WN; each warp accumulates (BM / WM) x (BN / WN) in 16 x 16 float32
// fragments. The epilogue stores the fragments to shared memory (reusing the pipeline's
// buffers), and each thread then finishes 8 consecutive channels of a row: + bias, the post
// steps in order (an "add" reads 16 bytes of its addend), rounding to float16, one 16-byte store
// of Y and, with a folded LeakyRelu, one of its output, computed from the stored (rounded)
// value as the separate node would have read it.
//
// Shared-memory row pitches are padded (A: 40 halves, B: BN + 8 halves, C: BN + 4 floats) to
// spread rows over banks while keeping every fragment pointer 32-byte aligned, as WMMA requires.
#include <mma.h>
#include <string.h>

#include "cuda/conv_igemm.h"

namespace {

using namespace nvcuda;

constexpr int BK = 32;      // input channels per K-step
constexpr int STAGES = 3;
constexpr int LA = BK + 8;  // halves per A row in shared memory
constexpr int C_ROUND = 32; // packed weights: C rounded up to this
constexpr int O_ROUND = 128; // ... and O to this (the widest BN)

__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int bytes = valid ? 16 : 0; // 0: nothing is read, the 16 bytes are zero-filled
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem),
                 "r"(bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N> __device__ __forceinline__ void cp_async_wait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

template <int BM, int BN> constexpr int smem_bytes()
{
    constexpr int pipe = STAGES * (BM * LA + BK * (BN + 8)) * 2;
    constexpr int epi = BM * (BN + 4) * 4;
    return pipe > epi ? pipe : epi;
}

struct alignas(16) half8 {
    __half v[8];
};

// The epilogue of both kernels: the block's BM x BN float32 sums in cs (row pitch BN + 4), each
// thread finishing 8 consecutive channels of a row at a time (contract in the file comment).
template <int BM, int BN, int NT>
__device__ __forceinline__ void epilogue(const av__igemm_geo &g, const float *cs, int t0, int o0,
                                         int nb, const __half *__restrict__ bias,
                                         const av__conv_post &post, __half *__restrict__ y)
{
    constexpr int LC = BN + 4;
    const int tid = threadIdx.x;
    for (int i = tid; i < BM * (BN / 8); i += NT) {
        const int r = i / (BN / 8), c8 = (i % (BN / 8)) * 8;
        const int t = t0 + r, o = o0 + c8;
        if (t >= g.t_out || o >= g.o)
            continue;
        const int phase = o / g.y_ch, co = o - phase * g.y_ch; // phase 0 but for ConvTranspose
        const int ty = t * g.up + phase - g.crop;
        if (ty < 0 || ty >= g.y_len)
            continue;
        const size_t at = ((size_t)nb * g.y_len + ty) * g.y_ch + co;
        float v[8];
#pragma unroll
        for (int e = 0; e < 8; e++)
            v[e] = cs[r * LC + c8 + e] + (bias ? __half2float(bias[co + e]) : 0.0f);
        for (int s = 0, a = 0; s < post.n; s++) {
            if (post.act[s] == AV__DNNL_ACT_ADD) {
                const half8 q = *(const half8 *)((const __half *)post.add[a++] + at);
#pragma unroll
                for (int e = 0; e < 8; e++)
                    v[e] += __half2float(q.v[e]);
            } else {
#pragma unroll
                for (int e = 0; e < 8; e++)
                    v[e] = av__conv_post_step(post.act[s], post.alpha[s], post.beta[s], v[e]);
            }
        }
        half8 out;
#pragma unroll
        for (int e = 0; e < 8; e++)
            out.v[e] = __float2half_rn(v[e]);
        *(half8 *)(y + at) = out;
        if (post.leaky) {
            half8 lk;
#pragma unroll
            for (int e = 0; e < 8; e++)
                lk.v[e] = __float2half_rn(av__conv_post_step(
                    AV__DNNL_ACT_RELU, post.leaky_alpha, 0.0f, __half2float(out.v[e])));
            *(half8 *)((__half *)post.leaky + at) = lk;
        }
    }
}

template <int BM, int BN, int WM, int WN>
__global__ void __launch_bounds__(WM * WN * 32)
    igemm_kernel(av__igemm_geo g, const __half *__restrict__ x, const __half *__restrict__ w,
                 int o_pad, const __half *__restrict__ bias, av__conv_post post,
                 __half *__restrict__ y)
{
    constexpr int NT = WM * WN * 32;
    constexpr int TM = BM / WM, TN = BN / WN;
    constexpr int FM = TM / 16, FN = TN / 16;
    constexpr int LB = BN + 8, LC = BN + 4;
    static_assert(FM >= 1 && FN >= 1 && TM % 16 == 0 && TN % 16 == 0, "warp tile");
    extern __shared__ __align__(128) unsigned char smem[];
    __half *as = (__half *)smem;
    __half *bs = as + STAGES * BM * LA;

    const int tid = threadIdx.x, warp = tid / 32;
    const int wm = warp / WN, wn = warp % WN;
    const int t0 = blockIdx.x * BM, o0 = blockIdx.y * BN, nb = blockIdx.z;
    const __half *xb = x + (size_t)nb * g.t_in * g.c;
    const int chunks = (g.c + BK - 1) / BK;
    const int steps = chunks * g.k;

    auto load = [&](int step, int buf) {
        const int cc = step / g.k, tap = step % g.k;
        const int c0 = cc * BK;
        __half *a = as + buf * BM * LA;
        const int shift = tap * g.dil - g.pad;
        for (int i = tid; i < BM * (BK / 8); i += NT) {
            const int r = i / (BK / 8), v = i % (BK / 8);
            const int row = t0 + r + shift, ch = c0 + v * 8;
            const bool ok = row >= 0 && row < g.t_in && ch < g.c;
            cp_async16(a + r * LA + v * 8, ok ? xb + (size_t)row * g.c + ch : x, ok);
        }
        __half *b = bs + buf * BK * LB;
        const __half *wsrc = w + ((size_t)tap * chunks * BK + c0) * o_pad + o0;
        for (int i = tid; i < BK * (BN / 8); i += NT) {
            const int r = i / (BN / 8), v = i % (BN / 8);
            cp_async16(b + r * LB + v * 8, wsrc + (size_t)r * o_pad + v * 8, true);
        }
    };

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++)
            wmma::fill_fragment(acc[i][j], 0.0f);

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < steps)
            load(s, s);
        cp_async_commit();
    }
    for (int s = 0; s < steps; s++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads(); // step s has landed; every warp is done with step s - 1's buffer
        const int next = s + STAGES - 1;
        if (next < steps)
            load(next, next % STAGES);
        cp_async_commit();
        const __half *a = as + (s % STAGES) * BM * LA;
        const __half *b = bs + (s % STAGES) * BK * LB;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb[FN];
#pragma unroll
            for (int i = 0; i < FM; i++)
                wmma::load_matrix_sync(fa[i], a + (wm * TM + i * 16) * LA + kk, LA);
#pragma unroll
            for (int j = 0; j < FN; j++)
                wmma::load_matrix_sync(fb[j], b + kk * LB + wn * TN + j * 16, LB);
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++)
                    wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
    }
    cp_async_wait<0>();
    __syncthreads(); // the pipeline's buffers become the epilogue's

    float *cs = (float *)smem;
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++)
            wmma::store_matrix_sync(cs + (wm * TM + i * 16) * LC + wn * TN + j * 16, acc[i][j],
                                    LC, wmma::mem_row_major);
    __syncthreads();

    epilogue<BM, BN, NT>(g, cs, t0, o0, nb, bias, post, y);
}

// ---- the window kernel: every tap of a 32-channel chunk per K-step ---------------------------
//
// For short inputs the kernel above spends most of its time waiting: each of its K-steps (one
// tap, 32 channels) carries 2 x (FM x FN) MMAs per warp between barriers. Here a K-step is one
// 32-channel chunk with all K taps: the block loads the X rows its outputs need under every tap
// (a window of BM + (K - 1) * dil rows) and the chunk's weights of every tap, double-buffered
// by cp.async, then runs K x 2 x (FM x FN8) MMAs per warp on them. The window is read at a row
// offset of tap * dil, which WMMA's 32-byte pointer alignment does not allow, so the fragments
// come from ldmatrix (16-byte row addresses) into mma.sync.m16n8k16 (float32 accumulators).
// Shared memory grows with K * dil, so a layer runs a configuration only when it fits the
// device's per-block limit (window_smem).

__device__ __forceinline__ void ldsm_x4(unsigned *r, const __half *p)
{
    unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

__device__ __forceinline__ void ldsm_x4_trans(unsigned *r, const __half *p)
{
    unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

// c += a (16 x 16, row) * b (16 x 8, col)
__device__ __forceinline__ void mma_16816(float *c, const unsigned *a, const unsigned *b)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
                 "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Shared memory of a window-kernel block: two stages of (window, weights), or the epilogue's
// float tile, whichever is larger.
int window_smem(int bm, int bn, int k, int dil)
{
    const long rows = bm + (long)(k - 1) * dil;
    const long stage = (rows * LA + (long)k * BK * (bn + 8)) * 2;
    const long epi = (long)bm * (bn + 4) * 4;
    const long need = 2 * stage > epi ? 2 * stage : epi;
    return need > (1L << 30) ? (1 << 30) : (int)need;
}

template <int BM, int BN, int WM, int WN>
__global__ void __launch_bounds__(WM * WN * 32)
    window_kernel(av__igemm_geo g, const __half *__restrict__ x, const __half *__restrict__ w,
                  int o_pad, const __half *__restrict__ bias, av__conv_post post,
                  __half *__restrict__ y)
{
    constexpr int NT = WM * WN * 32;
    constexpr int TM = BM / WM, TN = BN / WN;
    constexpr int FM = TM / 16, FN = TN / 8;
    constexpr int LB = BN + 8, LC = BN + 4;
    static_assert(FM >= 1 && FN >= 2 && FN % 2 == 0 && TM % 16 == 0, "warp tile");
    extern __shared__ __align__(128) unsigned char smem[];
    const int rows = BM + (g.k - 1) * g.dil;
    const int a_stage = rows * LA, b_stage = g.k * BK * LB; // halves
    __half *as = (__half *)smem;
    __half *bs = as + 2 * a_stage;

    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int wm = warp / WN, wn = warp % WN;
    const int t0 = blockIdx.x * BM, o0 = blockIdx.y * BN, nb = blockIdx.z;
    const __half *xb = x + (size_t)nb * g.t_in * g.c;
    const int chunks = (g.c + BK - 1) / BK;

    auto load = [&](int cc, int buf) {
        const int c0 = cc * BK;
        __half *a = as + buf * a_stage;
        for (int i = tid; i < rows * (BK / 8); i += NT) {
            const int r = i / (BK / 8), v = i % (BK / 8);
            const int row = t0 - g.pad + r, ch = c0 + v * 8;
            const bool ok = row >= 0 && row < g.t_in && ch < g.c;
            cp_async16(a + r * LA + v * 8, ok ? xb + (size_t)row * g.c + ch : x, ok);
        }
        __half *b = bs + buf * b_stage;
        for (int i = tid; i < g.k * BK * (BN / 8); i += NT) {
            const int tap = i / (BK * (BN / 8)), rem = i % (BK * (BN / 8));
            const int r = rem / (BN / 8), v = rem % (BN / 8);
            cp_async16(b + (tap * BK + r) * LB + v * 8,
                       w + ((size_t)tap * chunks * BK + c0 + r) * o_pad + o0 + v * 8, true);
        }
    };

    float acc[FM][FN][4];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                acc[i][j][e] = 0.0f;

    load(0, 0);
    cp_async_commit();
    for (int cc = 0; cc < chunks; cc++) {
        if (cc + 1 < chunks)
            load(cc + 1, (cc + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads(); // chunk cc has landed
        const __half *a = as + (cc & 1) * a_stage;
        const __half *b = bs + (cc & 1) * b_stage;
        for (int tap = 0; tap < g.k; tap++) {
            const __half *aw = a + (wm * TM + tap * g.dil + (lane & 15)) * LA + (lane >> 4) * 8;
            const __half *bw = b + (tap * BK + (lane & 15)) * LB + wn * TN + (lane >> 4) * 8;
#pragma unroll
            for (int kk = 0; kk < BK; kk += 16) {
                unsigned af[FM][4], bf[FN][2];
#pragma unroll
                for (int i = 0; i < FM; i++)
                    ldsm_x4(af[i], aw + i * 16 * LA + kk);
#pragma unroll
                for (int j = 0; j < FN; j += 2) {
                    unsigned r[4];
                    ldsm_x4_trans(r, bw + kk * LB + j * 8);
                    bf[j][0] = r[0];
                    bf[j][1] = r[1];
                    bf[j + 1][0] = r[2];
                    bf[j + 1][1] = r[3];
                }
#pragma unroll
                for (int i = 0; i < FM; i++)
#pragma unroll
                    for (int j = 0; j < FN; j++)
                        mma_16816(acc[i][j], af[i], bf[j]);
            }
        }
        __syncthreads(); // every warp is done with this buffer before it is loaded again
    }
    cp_async_wait<0>();

    float *cs = (float *)smem;
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) {
            const int r = wm * TM + i * 16 + lane / 4, c = wn * TN + j * 8 + (lane % 4) * 2;
            cs[r * LC + c] = acc[i][j][0];
            cs[r * LC + c + 1] = acc[i][j][1];
            cs[(r + 8) * LC + c] = acc[i][j][2];
            cs[(r + 8) * LC + c + 1] = acc[i][j][3];
        }
    __syncthreads();
    epilogue<BM, BN, NT>(g, cs, t0, o0, nb, bias, post, y);
}

// One configuration: its tile, its kernel instance; window configurations size their shared
// memory per layer (window_smem), the others have a fixed size.
struct config {
    const char *name;
    int bm, bn, threads, smem, window;
    void (*kernel)(av__igemm_geo, const __half *, const __half *, int, const __half *,
                   av__conv_post, __half *);
};

#define CONFIG(BM, BN, WM, WN)                                                                 \
    {#BM "x" #BN "/" #WM "x" #WN, BM, BN, WM * WN * 32, smem_bytes<BM, BN>(), 0,               \
     igemm_kernel<BM, BN, WM, WN>}
#define WINDOW(BM, BN, WM, WN)                                                                 \
    {"window " #BM "x" #BN "/" #WM "x" #WN, BM, BN, WM * WN * 32, 0, 1,                        \
     window_kernel<BM, BN, WM, WN>}

const config configs[AV__IGEMM_CONFIGS] = {
    CONFIG(128, 64, 4, 2),  CONFIG(64, 64, 2, 2),   CONFIG(128, 32, 4, 1),
    CONFIG(64, 128, 2, 4),  CONFIG(256, 32, 8, 1),  CONFIG(128, 128, 2, 4),
    CONFIG(64, 32, 2, 1),   WINDOW(64, 64, 2, 2),   WINDOW(32, 64, 1, 2),
    WINDOW(64, 32, 2, 1),   WINDOW(128, 32, 4, 1),  WINDOW(64, 128, 2, 2),
    WINDOW(128, 64, 2, 2),  WINDOW(32, 32, 1, 2),   WINDOW(32, 16, 2, 1),
};

// The device's per-block shared-memory limit (opt-in), 0 when it cannot be read.
int smem_limit()
{
    int dev = 0, v = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
        return 0;
    return v;
}

int round_up(int v, int m) { return (v + m - 1) / m * m; }

} // namespace

bool av__igemm_fits(const av__igemm_geo *g)
{
    const int64_t lim = ((int64_t)1 << 31) - 1;
    if (g->n < 1 || g->t_in < 1 || g->t_out < 1 || g->c < 1 || g->o < 1 || g->k < 1 ||
        g->dil < 1 || g->pad < 0 || g->c % 8 || g->o % 8 || g->n > 65535 || g->up < 1 ||
        g->crop < 0 || g->y_len < 1 || g->y_ch < 1 || g->y_ch % 8 || g->o % g->y_ch ||
        g->o / g->y_ch > g->up || g->transposed_k < 0)
        return false;
    return (int64_t)g->n * g->t_in * g->c <= lim && (int64_t)g->n * g->t_out * g->o <= lim &&
           (int64_t)g->n * g->y_len * g->y_ch <= lim &&
           (int64_t)g->k * round_up(g->c, C_ROUND) * round_up(g->o, O_ROUND) <= lim &&
           (int64_t)(g->k - 1) * g->dil + g->t_out + 256 <= lim &&
           (int64_t)g->t_out * g->up + g->up + 256 <= lim;
}

const char *av__igemm_config_name(int cfg)
{
    return cfg >= 0 && cfg < AV__IGEMM_CONFIGS ? configs[cfg].name : "?";
}

cudaError_t av__igemm_upload_weights(const av__igemm_geo *g, const float *w, void **dev)
{
    *dev = NULL;
    const int limit = smem_limit();
    for (int i = 0; i < AV__IGEMM_CONFIGS; i++) { // per device, so on every call (cheap)
        cudaError_t e = cudaFuncSetAttribute(configs[i].kernel,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             configs[i].window ? limit : configs[i].smem);
        if (e != cudaSuccess)
            return e;
    }
    const int cp = round_up(g->c, C_ROUND), op = round_up(g->o, O_ROUND);
    const size_t count = (size_t)g->k * cp * op;
    uint16_t *host = (uint16_t *)av__calloc(count, sizeof *host);
    if (!host)
        return cudaErrorMemoryAllocation;
    if (!g->transposed_k) { /* Conv: W [o][c][k] */
        for (int o = 0; o < g->o; o++)
            for (int c = 0; c < g->c; c++)
                for (int k = 0; k < g->k; k++)
                    host[((size_t)k * cp + c) * op + o] =
                        av__f32_to_f16(w[((size_t)o * g->c + c) * g->k + k]);
    } else { /* ConvTranspose: W [c][y_ch][K]; tap k of the GEMM is m = M - 1 - k */
        const int s = g->up, kt = g->transposed_k;
        for (int k = 0; k < g->k; k++)
            for (int c = 0; c < g->c; c++)
                for (int p = 0; p * g->y_ch < g->o; p++)
                    for (int co = 0; co < g->y_ch; co++) {
                        const int tap = p + s * (g->k - 1 - k);
                        if (tap < kt)
                            host[((size_t)k * cp + c) * op + p * g->y_ch + co] =
                                av__f32_to_f16(w[((size_t)c * g->y_ch + co) * kt + tap]);
                    }
    }
    cudaError_t e = cudaMalloc(dev, count * sizeof *host);
    if (e == cudaSuccess)
        e = cudaMemcpy(*dev, host, count * sizeof *host, cudaMemcpyHostToDevice);
    if (e != cudaSuccess && *dev) {
        cudaFree(*dev);
        *dev = NULL;
    }
    av__free(host);
    return e;
}

bool av__igemm_aligned(const void *x, const void *y, const av__conv_post *post)
{
    uintptr_t bits = (uintptr_t)x | (uintptr_t)y | (uintptr_t)post->leaky;
    for (int s = 0, a = 0; s < post->n; s++)
        if (post->act[s] == AV__DNNL_ACT_ADD)
            bits |= (uintptr_t)post->add[a++];
    return bits % 16 == 0;
}

cudaError_t av__igemm_launch(int cfg, const av__igemm_geo *g, const __half *x, const void *w,
                             const __half *bias, const av__conv_post *post, __half *y,
                             cudaStream_t stream)
{
    if (cfg < 0 || cfg >= AV__IGEMM_CONFIGS)
        return cudaErrorInvalidValue;
    const config &c = configs[cfg];
    const int smem = c.window ? window_smem(c.bm, c.bn, g->k, g->dil) : c.smem;
    if (smem > smem_limit())
        return cudaErrorInvalidValue; // this layer's window does not fit this configuration
    dim3 grid((unsigned)((g->t_out + c.bm - 1) / c.bm), (unsigned)((g->o + c.bn - 1) / c.bn),
              (unsigned)g->n);
    c.kernel<<<grid, c.threads, smem, stream>>>(*g, x, (const __half *)w, round_up(g->o, O_ROUND),
                                                bias, *post, y);
    return cudaGetLastError();
}
