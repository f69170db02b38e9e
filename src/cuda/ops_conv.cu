// CUDA kernels of the convolution / matrix family: Conv, ConvTranspose and the internal FusedConv
// through cuDNN's legacy convolution API, MatMul and Gemm through cuBLAS.
//
// Convolutions. The CPU's checks resolve every attribute (av__conv_params_get,
// av__fused_conv_desc, fed float32 views of the inputs whatever the device stores). A node's
// spatial axes become the last of three, so that every tensor is [N, C, D, H, W] for the two
// kernels here (1-D: D = H = 1; 2-D: D = 1); cuDNN gets 4-D descriptors (1-D as H = 1) or 5-D
// ones (3-D). cuDNN pads symmetrically, so:
//   Conv           cuDNN pads min(pad_begin, pad_end) (at most extent - 1) on both sides; what is
//                  left of an asymmetric pad is written out by stage_kernel, which copies X into
//                  scratch with the extra zeros (exact: the same sums over the same values).
//   ConvTranspose  cuDNN (backward data of the convolution whose filter is W) computes the
//                  transposed convolution cropped by q = min(pad_begin, pad_end) on both sides
//                  into scratch, and the epilogue crops pad_begin - q more at the start and reads
//                  zeros where output_padding / output_shape reach past what any input touches.
//                  When pad_begin == q and the output is at most stride - 1 longer than cuDNN's
//                  natural size (symmetric pads, output_padding < stride: the HiFi-GAN
//                  upsamplers), cuDNN writes Y directly.
// Layout: FusedConv's channels_last X / Y run as NHWC convolutions (weights transposed to KRSC
// once, in prepare) when W is a constant and cuDNN has an NHWC algorithm for the case; otherwise
// X is staged to NCHW and the epilogue writes Y back channels-last.
// Epilogue: one kernel adds the bias and applies every post step (relu / leaky_relu / tanh /
// sigmoid / linear / add) in float32 registers, in place on Y (16 bytes per thread step when
// the layout allows: about DRAM bandwidth), or while copying cuDNN's output from scratch to Y
// (crop, layout). A convolution without bias, post steps or staging has none.
// Algorithms: cuDNN's timed Find over temporary buffers (heuristics instead when they cannot be
// allocated or would exceed FIND_BYTES), workspace <= WS_CAP, the fastest algorithm or a
// deterministic one at most DET_SLACK slower. FP32 math allows only FMA kernels of the
// implicit-GEMM / GEMM / direct families (no Winograd, FFT or tensor-core rounding), so results
// follow the CPU to float32 rounding.
//
// Products. MatMul maps onto one cuBLAS GEMM (a single batch, or a shared B under a contiguous
// A: rows of all batches at once), a strided-batched GEMM when the broadcast batch offsets of A
// and B are each linear in the flat batch index, and otherwise a batched GEMM over pointer
// arrays that a small kernel writes into scratch from offsets uploaded in prepare. Gemm writes
// beta * C broadcast into Y first and accumulates alpha * op(A) op(B) onto it. Row-major
// products run as the column-major Y^T = op(B)^T op(A)^T.
//
// Weights are read from the node's device inputs (the backend keeps constants on the device in
// the storage type) except the KRSC copies of channels-last FusedConv weights, which prepare()
// uploads from host_in and release() frees.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/conv_igemm.h"
#include "cuda/conv_post.h"
#include "cuda/cuda_op.h"

namespace {

constexpr size_t WS_CAP = (size_t)256 << 20;     // largest cuDNN workspace an algorithm may use
constexpr size_t FIND_BYTES = (size_t)1 << 30;   // X + Y + W above this: heuristics, no Find
constexpr int MAX_IN = 3 + AV__DNNL_MAX_POST;
constexpr int64_t INT_LIMIT = ((int64_t)1 << 31) - 1;

size_t align256(size_t n) { return (n + 255) & ~(size_t)255; }

// The dtype float32 values of the graph are stored in on the device.
av__dtype float_storage(const av__cuda_ctx *ctx)
{
    return ctx->env->math == AV__CUDA_MATH_FP16 ? AV__DT_F16 : AV__DT_F32;
}

size_t storage_size(av__dtype dt) { return dt == AV__DT_F16 ? 2 : 4; }

// The node's inputs with float16 read as float32: the CPU's attribute and shape checks want
// float32 tensors and look at nothing but dtypes and shapes.
struct f32_view {
    av__tensor t[MAX_IN];
    const av__tensor *p[MAX_IN];
    av__op_ctx op;
};

void f32_view_make(const av__cuda_ctx *ctx, f32_view *v)
{
    const av__op_ctx *o = ctx->op;
    int n = o->n_in < MAX_IN ? o->n_in : MAX_IN;
    v->op = *o;
    for (int i = 0; i < n; i++) {
        v->p[i] = NULL;
        if (!o->in[i])
            continue;
        v->t[i] = *o->in[i];
        if (v->t[i].dtype == AV__DT_F16)
            v->t[i].dtype = AV__DT_F32;
        v->p[i] = &v->t[i];
    }
    v->op.in = v->p;
    v->op.n_in = n;
}

// ---- device kernels --------------------------------------------------------------------------

// A logical [N, C, D, H, W] tensor in NCDHW (last 0) or NDHWC (last 1) memory order.
struct lay5 {
    int64_t n, c, sp[3];
    int last;
};

struct off3 {
    int64_t v[3];
};

int64_t lay_count(const lay5 &g) { return g.n * g.c * g.sp[0] * g.sp[1] * g.sp[2]; }

// The kernels' view of a lay5. Every tensor a convolution stages or writes has fewer than 2^31
// elements (conv_geo_fits), so index arithmetic is 32-bit: unsigned division costs a fraction
// of a 64-bit one, which matters in these memory-bound passes.
struct dlay {
    unsigned c, sp[3], area;
    int last;
};

struct doff3 {
    int v[3];
};

dlay dlay_of(const lay5 &g)
{
    return {(unsigned)g.c,
            {(unsigned)g.sp[0], (unsigned)g.sp[1], (unsigned)g.sp[2]},
            (unsigned)(g.sp[0] * g.sp[1] * g.sp[2]),
            g.last};
}

doff3 doff3_of(const off3 &o) { return {{(int)o.v[0], (int)o.v[1], (int)o.v[2]}}; }

__device__ __forceinline__ unsigned dl_at(const dlay &g, unsigned n, unsigned c, const int *p)
{
    unsigned s = ((unsigned)p[0] * g.sp[1] + (unsigned)p[1]) * g.sp[2] + (unsigned)p[2];
    return g.last ? (n * g.area + s) * g.c + c : (n * g.c + c) * g.area + s;
}

__device__ __forceinline__ void dl_coords(const dlay &g, unsigned i, unsigned *n, unsigned *c,
                                          int *p)
{
    if (g.last) {
        *c = i % g.c;
        i /= g.c;
    }
    p[2] = (int)(i % g.sp[2]);
    i /= g.sp[2];
    p[1] = (int)(i % g.sp[1]);
    i /= g.sp[1];
    p[0] = (int)(i % g.sp[0]);
    i /= g.sp[0];
    if (g.last) {
        *n = i;
    } else {
        *c = i % g.c;
        *n = i / g.c;
    }
}

// dst[n, c, p] = src[n, c, p - shift] (zero outside src): explicit padding and layout change.
template <typename T>
__global__ void stage_kernel(const T *__restrict__ src, dlay sg, T *__restrict__ dst, dlay dg,
                             doff3 shift, int64_t total)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        unsigned n, c;
        int p[3];
        dl_coords(dg, (unsigned)i, &n, &c, p);
        bool inside = true;
        for (int a = 0; a < 3; a++) {
            p[a] -= shift.v[a];
            inside = inside && p[a] >= 0 && p[a] < (int)sg.sp[a];
        }
        av__st<T>(dst, i, inside ? av__ld<T>(src, dl_at(sg, n, c, p)) : 0.0f);
    }
}

using post_args = av__conv_post;

__device__ __forceinline__ float post_step(int act, float alpha, float beta, float v)
{
    return av__conv_post_step(act, alpha, beta, v);
}

// dst[i] = post(src value + bias[c]). GENERAL: src is another tensor, read at dst's coordinates
// + crop (zero outside it); otherwise src has dst's geometry (it may be dst itself).
template <typename T, bool GENERAL>
__global__ void epilogue_kernel(const T *src, dlay sg, doff3 crop, T *dst, dlay dg,
                                const T *__restrict__ bias, post_args pa, int64_t total)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        float v;
        unsigned c;
        if (GENERAL) {
            unsigned n;
            int p[3];
            dl_coords(dg, (unsigned)i, &n, &c, p);
            bool inside = true;
            for (int a = 0; a < 3; a++) {
                p[a] += crop.v[a];
                inside = inside && p[a] >= 0 && p[a] < (int)sg.sp[a];
            }
            v = inside ? av__ld<T>(src, dl_at(sg, n, c, p)) : 0.0f;
        } else {
            v = av__ld<T>(src, i);
            c = dg.last ? (unsigned)i % dg.c : ((unsigned)i / dg.area) % dg.c;
        }
        if (bias)
            v += av__ld<T>(bias, c);
        for (int s = 0, k = 0; s < pa.n; s++)
            v = pa.act[s] == AV__DNNL_ACT_ADD ? v + av__ld<T>((const T *)pa.add[k++], i)
                                              : post_step(pa.act[s], pa.alpha[s], pa.beta[s], v);
        av__st<T>(dst, i, v);
        if (pa.leaky) /* the stored value, as the LeakyRelu node would have read it */
            av__st<T>((T *)pa.leaky, i,
                      post_step(AV__DNNL_ACT_RELU, pa.leaky_alpha, 0.0f, av__ld<T>(dst, i)));
    }
}

// 16 bytes of T.
template <typename T> struct alignas(16) pack16 {
    T v[16 / sizeof(T)];
};

// The in-place epilogue 16 bytes at a time: Y and the addends 16-byte aligned, and the elements
// of a pack share their channel (channels-first, area % V == 0) or are consecutive channels
// (channels-last, C % V == 0). The scalar kernel above is several times slower per byte.
template <typename T>
__global__ void epilogue_vec_kernel(T *y, dlay g, const T *__restrict__ bias, post_args pa,
                                    int64_t packs)
{
    constexpr int V = 16 / sizeof(T);
    for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < packs;
         j += (int64_t)gridDim.x * blockDim.x) {
        const unsigned i0 = (unsigned)(j * V);
        pack16<T> p = *(const pack16<T> *)(y + i0);
        float f[V];
#pragma unroll
        for (int k = 0; k < V; k++)
            f[k] = av__ld<T>(p.v, k);
        if (bias) {
            const unsigned c0 = g.last ? i0 % g.c : (i0 / g.area) % g.c;
#pragma unroll
            for (int k = 0; k < V; k++)
                f[k] += av__ld<T>(bias, g.last ? c0 + k : c0);
        }
        for (int s = 0, a = 0; s < pa.n; s++) {
            if (pa.act[s] == AV__DNNL_ACT_ADD) {
                const pack16<T> q = *(const pack16<T> *)((const T *)pa.add[a++] + i0);
#pragma unroll
                for (int k = 0; k < V; k++)
                    f[k] += av__ld<T>(q.v, k);
            } else {
#pragma unroll
                for (int k = 0; k < V; k++)
                    f[k] = post_step(pa.act[s], pa.alpha[s], pa.beta[s], f[k]);
            }
        }
#pragma unroll
        for (int k = 0; k < V; k++)
            av__st<T>(p.v, k, f[k]);
        *(pack16<T> *)(y + i0) = p;
        if (pa.leaky) { /* the stored values, as the LeakyRelu node would have read them */
            pack16<T> q;
#pragma unroll
            for (int k = 0; k < V; k++)
                av__st<T>(q.v, k, post_step(AV__DNNL_ACT_RELU, pa.leaky_alpha, 0.0f,
                                            av__ld<T>(p.v, k)));
            *(pack16<T> *)((T *)pa.leaky + i0) = q;
        }
    }
}

// y[i, j] = beta * c[i * rs + j * cs] for an m x n row-major y.
template <typename T>
__global__ void gemm_fill_kernel(const T *__restrict__ c, int64_t rs, int64_t cs, float beta,
                                 T *__restrict__ y, int64_t n, int64_t total)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x)
        av__st<T>(y, i, beta * av__ld<T>(c, (i / n) * rs + (i % n) * cs));
}

// Pointer arrays of a batched GEMM: batch i reads A at a + off[2i], B at b + off[2i + 1] and
// writes y + i * y_step (offsets in elements of `es` bytes).
__global__ void gemm_ptrs_kernel(const char *a, const char *b, char *y, const int64_t *off,
                                 int64_t y_step, int64_t es, int64_t batch, const void **pa,
                                 const void **pb, void **py)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < batch;
         i += (int64_t)gridDim.x * blockDim.x) {
        pa[i] = a + off[2 * i] * es;
        pb[i] = b + off[2 * i + 1] * es;
        py[i] = y + i * y_step * es;
    }
}

// ---- convolutions: geometry ------------------------------------------------------------------

// How one convolution runs: the node's tensors, the staged copies and cuDNN's view of them.
struct conv_geo {
    int transpose, nsp;
    int c_last;               // cuDNN's layout: 1 NHWC, 0 NCHW
    lay5 x, y;                // X and Y as the node has them
    lay5 xs;                  // what cuDNN reads as its input (X, or X staged)
    off3 x_shift;             // explicit leading pads of the staged X
    int stage_x;
    lay5 ys;                  // what cuDNN writes (Y, or scratch for the epilogue)
    off3 crop;                // Y[p] = ys[p + crop]
    int stage_y;
    int64_t k[3], stride[3], dil[3], pad[3];   // cuDNN's (symmetric) pads
    int64_t w_k, w_c;         // cuDNN filter dims K, C (per group)
    int64_t group;
};

// Right-aligns an ONNX per-axis array of nsp values into three, filling the front with `fill`.
void to3(int nsp, const int64_t *v, int64_t fill, int64_t *out)
{
    for (int a = 0; a < 3; a++)
        out[a] = a < 3 - nsp ? fill : v[a - (3 - nsp)];
}

void conv_geo_make(const av__conv_params *p, int x_last, int y_last, int c_last, conv_geo *g)
{
    memset(g, 0, sizeof *g);
    g->transpose = p->transpose;
    g->nsp = p->nsp;
    g->c_last = c_last;
    g->group = p->group;
    int64_t in[3], out[3], pb[3], pe[3];
    to3(p->nsp, p->in_sp, 1, in);
    to3(p->nsp, p->out_sp, 1, out);
    to3(p->nsp, p->kernel, 1, g->k);
    to3(p->nsp, p->stride, 1, g->stride);
    to3(p->nsp, p->dilation, 1, g->dil);
    to3(p->nsp, p->pad_begin, 0, pb);
    to3(p->nsp, p->pad_end, 0, pe);
    g->x = {p->batch, p->in_ch, {in[0], in[1], in[2]}, x_last};
    g->y = {p->batch, p->out_ch, {out[0], out[1], out[2]}, y_last};
    g->xs = g->x;
    g->xs.last = c_last;
    g->ys = g->y;
    g->ys.last = c_last;
    g->stage_x = x_last != c_last;
    g->stage_y = y_last != c_last;
    for (int a = 0; a < 3; a++) {
        int64_t extent = (g->k[a] - 1) * g->dil[a] + 1;
        if (!p->transpose) {
            int64_t m = pb[a] < pe[a] ? pb[a] : pe[a];
            if (m > extent - 1)
                m = extent - 1;
            g->pad[a] = m;
            g->x_shift.v[a] = pb[a] - m;
            g->xs.sp[a] = in[a] + (pb[a] - m) + (pe[a] - m);
            if (g->xs.sp[a] != in[a])
                g->stage_x = 1;
        } else {
            int64_t full = (in[a] - 1) * g->stride[a] + extent; // every position an input reaches
            // what the output leaves out of the full result at each end: pb at the start,
            // full - pb - out (pe - output_padding, negative when output_padding reaches past
            // the last position an input touches) at the end; cuDNN crops q from both
            int64_t end = full - pb[a] - out[a];
            int64_t q = pb[a] < end ? pb[a] : end;
            if (q < 0)
                q = 0;
            if (q > extent - 1)
                q = extent - 1;
            if (q > (full - 1) / 2)
                q = (full - 1) / 2;
            int64_t t = full - 2 * q;
            g->pad[a] = q;
            if (pb[a] == q && out[a] - t >= 0 && out[a] - t < g->stride[a]) {
                g->ys.sp[a] = out[a]; // cuDNN's own size for this output: no crop
            } else {
                g->ys.sp[a] = t;
                g->crop.v[a] = pb[a] - q;
                g->stage_y = 1;
            }
        }
    }
    if (!p->transpose) {
        g->w_k = p->out_ch;
        g->w_c = p->in_ch / p->group;
    } else {
        g->w_k = p->in_ch;
        g->w_c = p->out_ch / p->group;
    }
}

// cuDNN's limits (int dims, fewer than 2^31 elements per tensor), which the kernels here rely
// on too (32-bit indices; shifts and crops within +-2^30).
bool conv_geo_fits(const conv_geo *g)
{
    for (int a = 0; a < 3; a++)
        if (g->x_shift.v[a] > (1 << 30) || g->crop.v[a] > (1 << 30) ||
            g->crop.v[a] < -(1 << 30))
            return false;
    const lay5 *t[2] = {&g->xs, &g->ys};
    for (int i = 0; i < 2; i++) {
        if (lay_count(*t[i]) > INT_LIMIT || t[i]->n > INT_LIMIT || t[i]->c > INT_LIMIT)
            return false;
        for (int a = 0; a < 3; a++)
            if (t[i]->sp[a] > INT_LIMIT)
                return false;
    }
    if (lay_count(g->x) > INT_LIMIT || lay_count(g->y) > INT_LIMIT)
        return false;
    double w = (double)g->w_k * (double)g->w_c * (double)g->k[0] * (double)g->k[1] *
               (double)g->k[2];
    for (int a = 0; a < 3; a++)
        if (g->k[a] > INT_LIMIT || g->stride[a] > INT_LIMIT || g->dil[a] > INT_LIMIT ||
            g->pad[a] > INT_LIMIT)
            return false;
    return w <= (double)INT_LIMIT && g->group <= INT_LIMIT;
}

// ---- convolutions: the step's state ----------------------------------------------------------

struct conv_state {
    conv_geo g;
    av__dtype dt;                  // storage type of X, W, Y, B, addends
    int empty;                     // Y has no elements: run does nothing
    int has_bias;
    post_args post;                // add[] filled per run
    int n_add;
    int epilogue;                  // run the epilogue kernel
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    int algo;                      // cudnnConvolutionFwdAlgo_t / cudnnConvolutionBwdDataAlgo_t
    size_t ws_bytes;
    uint64_t algo_key;             // layer signature for the context's algorithm cache
    void *w_own;                   // KRSC weights (NHWC runs), else NULL: W input as it is
    size_t off_xs, off_ys, scratch;
    int own;                       // configuration + 1 of autovoice's kernel (conv_igemm.h)
                                   // when it runs this layer, 0: cuDNN and the epilogue pass
    av__igemm_geo ig;              // its geometry
    void *w_igemm;                 // its packed weights, or NULL
    int cached;                    // the choice came from the context's cache
};

void conv_teardown(conv_state *s)
{
    if (s->xd)
        cudnnDestroyTensorDescriptor(s->xd);
    if (s->yd)
        cudnnDestroyTensorDescriptor(s->yd);
    if (s->wd)
        cudnnDestroyFilterDescriptor(s->wd);
    if (s->cd)
        cudnnDestroyConvolutionDescriptor(s->cd);
    if (s->w_own)
        cudaFree(s->w_own);
    if (s->w_igemm)
        cudaFree(s->w_igemm);
    s->w_igemm = NULL;
    s->own = 0;
    s->xd = NULL;
    s->yd = NULL;
    s->wd = NULL;
    s->cd = NULL;
    s->w_own = NULL;
}

void conv_release(void *state)
{
    conv_state *s = (conv_state *)state;
    if (!s)
        return;
    conv_teardown(s);
    av__free(s);
}

// What the node asks for, read through the CPU's checks. fused: FusedConv, else Conv (transpose
// 0) or ConvTranspose (1).
struct conv_node {
    av__conv_params p;
    int channels_last;
    int n_post;
    av__dnnl_step post[AV__DNNL_MAX_POST];
};

av_status conv_node_read(const av__cuda_ctx *ctx, int fused, int transpose, conv_node *cn)
{
    memset(cn, 0, sizeof *cn);
    const av__op_ctx *o = ctx->op;
    av__dtype st = float_storage(ctx);
    if (o->n_in > MAX_IN || o->n_in < 2 || !o->in[0] || !o->in[1] || o->n_out < 1 || !o->out[0])
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected inputs / outputs");
    for (int i = 0; i < o->n_in; i++)
        if (o->in[i] && o->in[i]->dtype != st)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "input %d is %s (the CUDA kernel takes float32 stored as %s)", i,
                                 av__dtype_name(o->in[i]->dtype), av__dtype_name(st));
    if (o->out[0]->dtype != st)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output is %s",
                             av__dtype_name(o->out[0]->dtype));
    f32_view v;
    f32_view_make(ctx, &v);
    av_status status;
    if (fused) {
        av__dnnl_conv_desc d;
        if ((status = av__fused_conv_desc(&v.op, &d)) != AV_STATUS_OK)
            return status;
        if (d.precision != AV_PRECISION_FP32)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "FusedConv of precision %s runs on the CPU (oneDNN)",
                                 av_precision_name(d.precision));
        if (d.y_type != AV__DT_F32 || d.pre.act != AV__DNNL_ACT_NONE)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "FusedConv with a %s Y or a pre step runs on the CPU",
                                 av__dtype_name(d.y_type));
        cn->p = d.p;
        cn->channels_last = d.channels_last;
        cn->n_post = d.n_post;
        memcpy(cn->post, d.post, sizeof d.post);
    } else {
        if ((status = av__conv_params_get(&v.op, transpose, &cn->p)) != AV_STATUS_OK)
            return status;
    }
    if (cn->p.nsp > 3)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "%d spatial axes (at most 3)",
                             cn->p.nsp);
    return AV_STATUS_OK;
}

bool conv_empty(const av__conv_params *p)
{
    return p->batch == 0 || p->out_ch == 0 || p->out_size == 0;
}

av_status conv_supports_common(const av__cuda_ctx *ctx, int fused, int transpose)
{
    conv_node cn;
    av_status st = conv_node_read(ctx, fused, transpose, &cn);
    if (st != AV_STATUS_OK)
        return st;
    if (conv_empty(&cn.p))
        return AV_STATUS_OK;
    if (cn.p.in_ch == 0 || cn.p.in_size == 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "empty input with a non-empty output");
    conv_geo g;
    conv_geo_make(&cn.p, cn.channels_last, cn.channels_last, 0, &g);
    if (!conv_geo_fits(&g))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                             "tensors beyond cuDNN's 2^31-element limit");
    return AV_STATUS_OK;
}

cudnnDataType_t cudnn_type(av__dtype dt) { return dt == AV__DT_F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT; }

// cuDNN's dims of a lay5 (4-D for 1-D and 2-D convolutions, 5-D for 3-D), NCHW order.
int cudnn_dims(const conv_geo *g, const lay5 &t, int *dims)
{
    int nd = g->nsp == 3 ? 5 : 4;
    dims[0] = (int)t.n;
    dims[1] = (int)t.c;
    for (int i = 2; i < nd; i++)
        dims[i] = (int)t.sp[3 - (nd - i)];
    return nd;
}

// The spatial entries of a 3-array cuDNN takes (the last 2, or 3).
void cudnn_spatial(const conv_geo *g, const int64_t *v, int *out)
{
    int ns = g->nsp == 3 ? 3 : 2;
    for (int i = 0; i < ns; i++)
        out[i] = (int)v[3 - ns + i];
}

cudnnMathType_t conv_math(av__cuda_math m)
{
    switch (m) {
    case AV__CUDA_MATH_TF32: return CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    case AV__CUDA_MATH_FP16: return CUDNN_TENSOR_OP_MATH;
    default: return CUDNN_FMA_MATH;
    }
}

// Whether an algorithm cuDNN offers may run in this math mode: FP32 takes FMA kernels of the
// implicit-GEMM, GEMM and direct families only (float32 products, summed like the CPU's).
bool algo_allowed(av__cuda_math m, int transpose, int algo, cudnnMathType_t mt)
{
    if (m != AV__CUDA_MATH_FP32)
        return true;
    if (mt == CUDNN_TENSOR_OP_MATH || mt == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
        return false;
    if (!transpose)
        return algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
               algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
               algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM ||
               algo == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
    return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
}

// One algorithm offer, forward or backward data.
struct algo_offer {
    int algo;
    cudnnStatus_t status;
    size_t memory;
    cudnnDeterminism_t determinism;
    cudnnMathType_t math;
    float ms;                     // Find's time (heuristics: -1)
};

// Offers come best first (Find: fastest first). The pick is the first usable offer, unless a
// deterministic one is no more than DET_SLACK times slower (heuristics, without times: unless
// any deterministic one is usable): bitwise-repeatable runs are worth a little speed, not the
// tenfold that cuDNN's deterministic float32 backward-data kernel can cost. -1 when none.
constexpr float DET_SLACK = 1.25f;

int algo_pick(av__cuda_math m, int transpose, const algo_offer *o, int n, size_t ws_limit)
{
    int first = -1;
    for (int i = 0; i < n; i++) {
        if (o[i].status != CUDNN_STATUS_SUCCESS || o[i].memory > ws_limit ||
            !algo_allowed(m, transpose, o[i].algo, o[i].math))
            continue;
        if (first < 0)
            first = i;
        if (o[i].determinism == CUDNN_DETERMINISTIC)
            return o[i].ms < 0 || o[first].ms < 0 || o[i].ms <= DET_SLACK * o[first].ms ? i
                                                                                        : first;
    }
    return first;
}

// cuDNN's ranked offers for the descriptors: heuristics (find 0) or timed runs on the buffers.
cudnnStatus_t algo_offers(const av__cuda_ctx *ctx, conv_state *s, int find, void *x, void *w,
                          void *y, void *ws, size_t ws_bytes, algo_offer *o, int cap, int *n)
{
    cudnnHandle_t h = ctx->env->cudnn;
    cudnnStatus_t e;
    *n = 0;
    if (!s->g.transpose) {
        cudnnConvolutionFwdAlgoPerf_t perf[32];
        int want = cap < 32 ? cap : 32;
        e = find ? cudnnFindConvolutionForwardAlgorithmEx(h, s->xd, x, s->wd, w, s->cd, s->yd, y,
                                                          want, n, perf, ws, ws_bytes)
                 : cudnnGetConvolutionForwardAlgorithm_v7(h, s->xd, s->wd, s->cd, s->yd, want, n,
                                                          perf);
        for (int i = 0; e == CUDNN_STATUS_SUCCESS && i < *n; i++)
            o[i] = {(int)perf[i].algo, perf[i].status, perf[i].memory, perf[i].determinism,
                    perf[i].mathType, find ? perf[i].time : -1.0f};
    } else {
        cudnnConvolutionBwdDataAlgoPerf_t perf[32];
        int want = cap < 32 ? cap : 32;
        e = find ? cudnnFindConvolutionBackwardDataAlgorithmEx(h, s->wd, w, s->xd, x, s->cd, s->yd,
                                                               y, want, n, perf, ws, ws_bytes)
                 : cudnnGetConvolutionBackwardDataAlgorithm_v7(h, s->wd, s->xd, s->cd, s->yd,
                                                               want, n, perf);
        for (int i = 0; e == CUDNN_STATUS_SUCCESS && i < *n; i++)
            o[i] = {(int)perf[i].algo, perf[i].status, perf[i].memory, perf[i].determinism,
                    perf[i].mathType, find ? perf[i].time : -1.0f};
    }
    if (e != CUDNN_STATUS_SUCCESS)
        *n = 0;
    return e;
}

// The chosen algorithm's workspace for these descriptors into s->ws_bytes (at least `least`).
cudnnStatus_t conv_workspace(const av__cuda_ctx *ctx, conv_state *s, size_t least)
{
    cudnnHandle_t h = ctx->env->cudnn;
    size_t ws = 0;
    cudnnStatus_t e;
    if (!s->g.transpose)
        e = cudnnGetConvolutionForwardWorkspaceSize(h, s->xd, s->wd, s->cd, s->yd,
                                                    (cudnnConvolutionFwdAlgo_t)s->algo, &ws);
    else
        e = cudnnGetConvolutionBackwardDataWorkspaceSize(h, s->wd, s->xd, s->cd, s->yd,
                                                         (cudnnConvolutionBwdDataAlgo_t)s->algo,
                                                         &ws);
    s->ws_bytes = ws > least ? ws : least;
    return e;
}

// The context's earlier choice for this layer signature (s->algo_key): algorithm and math set
// and the workspace sized for these descriptors. 0 when there is none or it does not apply.
int conv_reuse(const av__cuda_ctx *ctx, conv_state *s)
{
    const av__cuda_algo_cache *c = ctx->env->conv_algos;
    for (int i = 0; c && i < c->n; i++) {
        if (c->e[i].key != s->algo_key)
            continue;
        s->algo = c->e[i].algo;
        if (cudnnSetConvolutionMathType(s->cd, (cudnnMathType_t)c->e[i].math) !=
                CUDNN_STATUS_SUCCESS ||
            conv_workspace(ctx, s, 0) != CUDNN_STATUS_SUCCESS || s->ws_bytes > WS_CAP)
            return 0;
        s->own = c->e[i].own;
        s->cached = 1;
        return 1;
    }
    return 0;
}

// Remembers the choice just made for s->algo_key (nothing when out of memory).
void conv_remember(const av__cuda_ctx *ctx, const conv_state *s, cudnnMathType_t math)
{
    av__cuda_algo_cache *c = ctx->env->conv_algos;
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        if (c->e[i].key == s->algo_key) { /* an earlier choice that did not apply here */
            c->e[i] = {s->algo_key, s->algo, (int)math, s->own};
            return;
        }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        void *more = av__mallocarray((size_t)cap, sizeof *c->e);
        if (!more)
            return;
        if (c->n)
            memcpy(more, c->e, (size_t)c->n * sizeof *c->e);
        av__free(c->e);
        c->e = (decltype(c->e))more;
        c->cap = cap;
    }
    c->e[c->n++] = {s->algo_key, s->algo, (int)math, s->own};
}

// Chooses the algorithm and sizes its workspace. *found = 0 (and OK) when cuDNN offers nothing
// usable for this layout.
av_status conv_choose(const av__cuda_ctx *ctx, conv_state *s, int *found)
{
    av__cuda_math m = ctx->env->math;
    algo_offer offers[32];
    int n = 0;
    *found = 0;
    if (conv_reuse(ctx, s)) {
        *found = 1;
        return AV_STATUS_OK;
    }
    cudnnStatus_t e = algo_offers(ctx, s, 0, NULL, NULL, NULL, NULL, 0, offers, 32, &n);
    if (e != CUDNN_STATUS_SUCCESS)
        return AV_STATUS_OK; // this layout / configuration is not supported
    size_t need = 0;
    for (int i = 0; i < n; i++)
        if (offers[i].status == CUDNN_STATUS_SUCCESS && offers[i].memory <= WS_CAP &&
            algo_allowed(m, s->g.transpose, offers[i].algo, offers[i].math) &&
            offers[i].memory > need)
            need = offers[i].memory;
    int pick = algo_pick(m, s->g.transpose, offers, n, WS_CAP);

    // timed: temporary buffers of the descriptors' sizes (zeroed: no NaN in the timings)
    size_t es = storage_size(s->dt);
    size_t xb = (size_t)lay_count(s->g.xs) * es, yb = (size_t)lay_count(s->g.ys) * es;
    size_t wb = (size_t)(s->g.w_k * s->g.w_c * s->g.k[0] * s->g.k[1] * s->g.k[2]) * es;
    if (xb + yb + wb <= FIND_BYTES) {
        void *x = NULL, *y = NULL, *w = NULL, *ws = NULL;
        cudaStream_t stream = ctx->env->stream; // cuDNN's stream: the timings follow the zeros
        bool ok = cudaMalloc(&x, xb) == cudaSuccess && cudaMalloc(&y, yb) == cudaSuccess &&
                  (s->w_own || cudaMalloc(&w, wb) == cudaSuccess) &&
                  (!need || cudaMalloc(&ws, need) == cudaSuccess) &&
                  cudaMemsetAsync(x, 0, xb, stream) == cudaSuccess &&
                  (s->w_own || cudaMemsetAsync(w, 0, wb, stream) == cudaSuccess);
        algo_offer timed[32];
        int nt = 0;
        if (ok && algo_offers(ctx, s, 1, x, s->w_own ? s->w_own : w, y, ws, need, timed, 32,
                              &nt) == CUDNN_STATUS_SUCCESS) {
            int t = algo_pick(m, s->g.transpose, timed, nt, need);
            if (t >= 0) {
                memcpy(offers, timed, sizeof timed);
                n = nt;
                pick = t;
            }
        }
        cudaFree(x);
        cudaFree(y);
        cudaFree(w);
        cudaFree(ws);
        (void)cudaGetLastError(); // a failed temporary allocation only means no timing
    }
    if (pick < 0)
        return AV_STATUS_OK;

    // the descriptor takes the chosen kernel's math; its exact workspace
    cudnnMathType_t mt = m == AV__CUDA_MATH_FP32 ? CUDNN_FMA_MATH : offers[pick].math;
    av_status st = av__cudnn_check(ctx, cudnnSetConvolutionMathType(s->cd, mt), "cuDNN math type");
    if (st != AV_STATUS_OK)
        return st;
    s->algo = offers[pick].algo;
    if ((st = av__cudnn_check(ctx, conv_workspace(ctx, s, offers[pick].memory),
                              "cuDNN workspace size")) != AV_STATUS_OK)
        return st;
    conv_remember(ctx, s, mt);
    *found = 1;
    return AV_STATUS_OK;
}

// W (host float32, ONNX layout [K, C, k...]) as KRSC ([K, k..., C]) in the storage type, on the
// device.
av_status conv_upload_krsc(const av__cuda_ctx *ctx, conv_state *s, const float *w)
{
    const int64_t kk = s->g.w_k, cc = s->g.w_c, ks = s->g.k[0] * s->g.k[1] * s->g.k[2];
    const int64_t count = kk * cc * ks;
    size_t es = storage_size(s->dt);
    void *host = av__malloc((size_t)count * es);
    if (!host)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "weights: out of host memory");
    for (int64_t o = 0; o < kk; o++)
        for (int64_t c = 0; c < cc; c++)
            for (int64_t r = 0; r < ks; r++) {
                float v = w[(o * cc + c) * ks + r];
                int64_t j = (o * ks + r) * cc + c;
                if (s->dt == AV__DT_F16)
                    ((uint16_t *)host)[j] = av__f32_to_f16(v);
                else
                    ((float *)host)[j] = v;
            }
    av_status st = av__cuda_check(ctx, cudaMalloc(&s->w_own, (size_t)count * es), "weights");
    if (st == AV_STATUS_OK)
        st = av__cuda_check(ctx, cudaMemcpy(s->w_own, host, (size_t)count * es,
                                            cudaMemcpyHostToDevice),
                            "weights upload");
    av__free(host);
    return st;
}

// Descriptors, weights and algorithm for cuDNN layout c_last. *found = 0 when cuDNN has no
// algorithm for it (the caller tries the other layout).
av_status conv_build(const av__cuda_ctx *ctx, conv_state *s, const conv_node *cn, int c_last,
                     int *found)
{
    *found = 0;
    conv_geo_make(&cn->p, cn->channels_last, cn->channels_last, c_last, &s->g);
    const conv_geo *g = &s->g;
    cudnnDataType_t dt = cudnn_type(s->dt);
    cudnnTensorFormat_t fmt = c_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    int xdims[5], ydims[5], wdims[5], pad[3], stride[3], dil[3];
    int nd = cudnn_dims(g, g->xs, xdims);
    cudnn_dims(g, g->ys, ydims);
    wdims[0] = (int)g->w_k;
    wdims[1] = (int)g->w_c;
    int ns = nd - 2;
    int kk[3];
    cudnn_spatial(g, g->k, kk);
    cudnn_spatial(g, g->pad, pad);
    cudnn_spatial(g, g->stride, stride);
    cudnn_spatial(g, g->dil, dil);
    for (int i = 0; i < ns; i++)
        wdims[2 + i] = kk[i];
    av_status st;
    if ((st = av__cudnn_check(ctx, cudnnCreateTensorDescriptor(&s->xd), "cuDNN descriptor")) ||
        (st = av__cudnn_check(ctx, cudnnCreateTensorDescriptor(&s->yd), "cuDNN descriptor")) ||
        (st = av__cudnn_check(ctx, cudnnCreateFilterDescriptor(&s->wd), "cuDNN descriptor")) ||
        (st = av__cudnn_check(ctx, cudnnCreateConvolutionDescriptor(&s->cd), "cuDNN descriptor")))
        return st;
    cudnnStatus_t e = cudnnSetTensorNdDescriptorEx(s->xd, fmt, dt, nd, xdims);
    if (e == CUDNN_STATUS_SUCCESS)
        e = cudnnSetTensorNdDescriptorEx(s->yd, fmt, dt, nd, ydims);
    if (e == CUDNN_STATUS_SUCCESS)
        e = cudnnSetFilterNdDescriptor(s->wd, dt, fmt, nd, wdims);
    if (e == CUDNN_STATUS_SUCCESS)
        e = cudnnSetConvolutionNdDescriptor(s->cd, ns, pad, stride, dil, CUDNN_CROSS_CORRELATION,
                                            CUDNN_DATA_FLOAT);
    if (e == CUDNN_STATUS_SUCCESS)
        e = cudnnSetConvolutionGroupCount(s->cd, (int)g->group);
    if (e == CUDNN_STATUS_SUCCESS)
        e = cudnnSetConvolutionMathType(s->cd, conv_math(ctx->env->math));
    if (e != CUDNN_STATUS_SUCCESS) {
        if (c_last)
            return AV_STATUS_OK; // no NHWC for this case: the caller tries NCHW
        return av__cudnn_check(ctx, e, "cuDNN convolution descriptors");
    }
    // cuDNN's forward output of (input, filter) must be the convolution's output: Y for Conv,
    // X for ConvTranspose (whose output is the forward convolution's input)
    int od[5];
    const cudnnTensorDescriptor_t fin = g->transpose ? s->yd : s->xd;
    const int *want = g->transpose ? xdims : ydims;
    if ((st = av__cudnn_check(ctx, cudnnGetConvolutionNdForwardOutputDim(s->cd, fin, s->wd, nd, od),
                              "cuDNN output dims")) != AV_STATUS_OK)
        return st;
    for (int i = 0; i < nd; i++)
        if (od[i] != want[i])
            return av__cuda_fail(ctx, AV_STATUS_INTERNAL,
                                 "cuDNN geometry: dim %d is %d, expected %d (transpose %d)", i,
                                 od[i], want[i], g->transpose);
    if (c_last && (st = conv_upload_krsc(ctx, s, (const float *)ctx->host_in[1]->data)) !=
                      AV_STATUS_OK)
        return st;
    // the signature: everything that decides the kernels but the spatial lengths of X and Y
    // (FNV-1a over the values)
    int sig[32], ns_sig = 0;
    sig[ns_sig++] = g->transpose;
    sig[ns_sig++] = (int)dt;
    sig[ns_sig++] = (int)fmt;
    sig[ns_sig++] = (int)ctx->env->math;
    sig[ns_sig++] = ctx->host_in && ctx->host_in[1]; // constant W: the own kernel may run it
    sig[ns_sig++] = nd;
    sig[ns_sig++] = (int)g->group;
    sig[ns_sig++] = xdims[0];
    sig[ns_sig++] = xdims[1];
    sig[ns_sig++] = ydims[1];
    for (int i = 0; i < nd; i++)
        sig[ns_sig++] = wdims[i];
    for (int i = 0; i < ns; i++) {
        sig[ns_sig++] = pad[i];
        sig[ns_sig++] = stride[i];
        sig[ns_sig++] = dil[i];
    }
    uint64_t key = 1469598103934665603ull;
    for (int i = 0; i < ns_sig; i++) {
        key ^= (uint32_t)sig[i];
        key *= 1099511628211ull;
    }
    s->algo_key = key;
    return conv_choose(ctx, s, found);
}

av_status own_choose(const av__cuda_ctx *ctx, conv_state *s, const conv_node *cn);

av_status conv_prepare_common(const av__cuda_ctx *ctx, void **state, int fused, int transpose)
{
    *state = NULL;
    conv_node cn;
    av_status st = conv_node_read(ctx, fused, transpose, &cn);
    if (st != AV_STATUS_OK)
        return st;
    conv_state *s = (conv_state *)av__calloc(1, sizeof *s);
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    const av__op_ctx *o = ctx->op;
    s->dt = float_storage(ctx);
    s->has_bias = o->n_in > 2 && o->in[2] != NULL;
    s->post.n = cn.n_post;
    for (int i = 0; i < cn.n_post; i++) {
        s->post.act[i] = cn.post[i].act;
        s->post.alpha[i] = cn.post[i].alpha;
        s->post.beta[i] = cn.post[i].beta;
        s->n_add += cn.post[i].act == AV__DNNL_ACT_ADD;
    }
    if (conv_empty(&cn.p)) {
        s->empty = 1;
        *state = s;
        return AV_STATUS_OK;
    }
    // NHWC needs the weights transposed once: constants only. And only in fp16: cuDNN's NHWC
    // float32 / TF32 algorithms are far slower than its NCHW ones (H100, the seed vocoder at
    // 60 s built channels-last: 1922 ms fp32 and 973 ms TF32 in NHWC against 119 ms and 82 ms
    // in NCHW; fp16: 15.8 ms NHWC against 37.0 ms NCHW), so float32 channels-last data is staged
    // through NCHW instead.
    const av__tensor *hw = ctx->host_in ? ctx->host_in[1] : NULL;
    int try_last = cn.channels_last && hw && hw->data && hw->dtype == AV__DT_F32 &&
                   ctx->env->math == AV__CUDA_MATH_FP16;
    int found = 0;
    cudnnHandle_t h = ctx->env->cudnn;
    st = av__cudnn_check(ctx, cudnnSetStream(h, ctx->env->stream), "cudnnSetStream");
    for (int c_last = try_last; st == AV_STATUS_OK && c_last >= 0 && !found; c_last--) {
        conv_teardown(s);
        st = conv_build(ctx, s, &cn, c_last, &found);
    }
    if (st == AV_STATUS_OK && !found)
        st = av__cuda_fail(ctx, AV_STATUS_DEVICE, "cuDNN has no algorithm for this convolution");
    if (st != AV_STATUS_OK) {
        conv_release(s);
        return st;
    }
    size_t es = storage_size(s->dt);
    s->off_xs = align256(s->ws_bytes);
    s->off_ys = s->off_xs + (s->g.stage_x ? align256((size_t)lay_count(s->g.xs) * es) : 0);
    s->scratch = s->off_ys + (s->g.stage_y ? (size_t)lay_count(s->g.ys) * es : 0);
    s->epilogue = s->g.stage_y || s->has_bias || s->post.n > 0;
    if ((st = own_choose(ctx, s, &cn)) != AV_STATUS_OK) {
        conv_release(s);
        return st;
    }
    if (ctx->env->conv_algos) // the context's (a plan's env is a copy of the context's)
        (s->own ? ctx->env->conv_algos->own_layers : ctx->env->conv_algos->cudnn_layers)++;
    *state = s;
    return AV_STATUS_OK;
}

size_t conv_scratch(const av__cuda_ctx *ctx)
{
    const conv_state *s = (const conv_state *)ctx->state;
    return s ? s->scratch : 0;
}

// The node's buffers for one run: X, W, the bias (or NULL), the addends, Y and scratch (device).
struct conv_io {
    const void *x, *w, *bias;
    const void *add[AV__DNNL_MAX_POST];
    void *y;
    char *scratch;
};

conv_io conv_io_of(const av__cuda_ctx *ctx, const conv_state *s)
{
    const av__op_ctx *o = ctx->op;
    conv_io io = {};
    io.x = o->in[0]->data;
    io.w = s->w_own ? s->w_own : o->in[1]->data;
    io.bias = s->has_bias ? o->in[2]->data : NULL;
    for (int i = 0; i < s->n_add; i++)
        io.add[i] = o->in[3 + i]->data;
    io.y = o->out[0]->data;
    io.scratch = (char *)ctx->scratch;
    return io;
}

// The cuDNN path: staging, cuDNN's convolution, the epilogue pass.
template <typename T> av_status conv_enqueue_cudnn(const av__cuda_ctx *ctx, conv_state *s,
                                                   const conv_io &io)
{
    const conv_geo *g = &s->g;
    cudaStream_t stream = ctx->env->stream;
    cudnnHandle_t h = ctx->env->cudnn;
    char *scratch = io.scratch;
    if (s->scratch && !scratch)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "scratch buffer missing");
    const T *x = (const T *)io.x;
    const void *w = io.w;
    T *y = (T *)io.y;
    T *xs = g->stage_x ? (T *)(scratch + s->off_xs) : NULL;
    T *ys = g->stage_y ? (T *)(scratch + s->off_ys) : y;
    av_status st;
    if (g->stage_x) {
        int64_t total = lay_count(g->xs);
        stage_kernel<T><<<av__cuda_blocks(total, 256), 256, 0, stream>>>(
            x, dlay_of(g->x), xs, dlay_of(g->xs), doff3_of(g->x_shift), total);
        if ((st = AV__CUDA_CHECK_LAUNCH(ctx, "conv staging")) != AV_STATUS_OK)
            return st;
    }
    const float one = 1.0f, zero = 0.0f;
    void *ws = s->ws_bytes ? scratch : NULL;
    if ((st = av__cudnn_check(ctx, cudnnSetStream(h, stream), "cudnnSetStream")) != AV_STATUS_OK)
        return st;
    cudnnStatus_t e;
    if (!g->transpose)
        e = cudnnConvolutionForward(h, &one, s->xd, g->stage_x ? xs : x, s->wd, w, s->cd,
                                    (cudnnConvolutionFwdAlgo_t)s->algo, ws, s->ws_bytes, &zero,
                                    s->yd, ys);
    else
        e = cudnnConvolutionBackwardData(h, &one, s->wd, w, s->xd, g->stage_x ? xs : x, s->cd,
                                         (cudnnConvolutionBwdDataAlgo_t)s->algo, ws, s->ws_bytes,
                                         &zero, s->yd, ys);
    if ((st = av__cudnn_check(ctx, e, g->transpose ? "cuDNN transposed convolution"
                                                   : "cuDNN convolution")) != AV_STATUS_OK)
        return st;
    if (!s->epilogue)
        return AV_STATUS_OK;
    post_args pa = s->post;
    for (int i = 0; i < s->n_add; i++)
        pa.add[i] = io.add[i];
    const T *bias = (const T *)io.bias;
    int64_t total = lay_count(g->y);
    unsigned blocks = av__cuda_blocks(total, 256);
    const dlay yg = dlay_of(g->y), sg = dlay_of(g->ys);
    constexpr int V = 16 / sizeof(T);
    bool vec = !g->stage_y && (yg.last ? yg.c % V == 0 : yg.area % V == 0) &&
               (uintptr_t)y % 16 == 0;
    for (int i = 0; i < s->n_add; i++)
        vec = vec && (uintptr_t)pa.add[i] % 16 == 0;
    vec = vec && (uintptr_t)pa.leaky % 16 == 0;
    if (vec)
        epilogue_vec_kernel<T><<<av__cuda_blocks(total / V, 256), 256, 0, stream>>>(
            y, yg, bias, pa, total / V);
    else if (g->stage_y)
        epilogue_kernel<T, true><<<blocks, 256, 0, stream>>>(ys, sg, doff3_of(g->crop), y, yg,
                                                             bias, pa, total);
    else
        epilogue_kernel<T, false><<<blocks, 256, 0, stream>>>(y, yg, doff3_of(g->crop), y, yg,
                                                              bias, pa, total);
    return AV__CUDA_CHECK_LAUNCH(ctx, "conv epilogue");
}

// ---- autovoice's own fp16 kernel (conv_igemm.h) ----------------------------------------------

av_status own_enqueue(const av__cuda_ctx *ctx, const conv_state *s, int cfg, const conv_io &io,
                      const post_args &pa)
{
    cudaError_t e = av__igemm_launch(cfg, &s->ig, (const __half *)io.x, s->w_igemm,
                                     (const __half *)io.bias, &pa, (__half *)io.y,
                                     ctx->env->stream);
    return av__cuda_check(ctx, e, "convolution kernel");
}

// The own kernel's geometry of the node, when it can run it: float16 storage, channels-last,
// one spatial axis that varies (any others of extent 1 with a kernel of 1 and no pads), one
// group, a constant W, sizes within conv_igemm.h's limits; a Conv of stride 1, or a
// ConvTranspose of dilation 1 (any stride: by phases, conv_igemm.h).
bool own_geo(const av__cuda_ctx *ctx, const conv_state *s, const conv_node *cn,
             av__igemm_geo *ig)
{
    const av__conv_params *p = &cn->p;
    const av__tensor *hw = ctx->host_in ? ctx->host_in[1] : NULL;
    if (ctx->env->conv_impl == AV__CUDA_CONV_CUDNN || s->dt != AV__DT_F16 ||
        !cn->channels_last || p->group != 1 || p->nsp < 1 || !hw || !hw->data ||
        hw->dtype != AV__DT_F32)
        return false;
    const int last = p->nsp - 1;
    for (int a = 0; a < last; a++)
        if (p->stride[a] != 1 || p->in_sp[a] != 1 || p->kernel[a] != 1 || p->pad_begin[a] ||
            p->pad_end[a])
            return false;
    if ((!p->transpose && p->stride[last] != 1) || (p->transpose && p->dilation[last] != 1))
        return false;
    const int64_t v[9] = {p->batch,  p->in_sp[last],    p->out_sp[last],
                          p->in_ch,  p->out_ch,         p->kernel[last],
                          p->dilation[last], p->pad_begin[last], p->stride[last]};
    for (int i = 0; i < 9; i++)
        if (v[i] < 0 || v[i] > INT_LIMIT / 64)
            return false;
    const int n = (int)v[0], t_in = (int)v[1], t_out = (int)v[2], c = (int)v[3], o = (int)v[4];
    const int k = (int)v[5], dil = (int)v[6], pb = (int)v[7], st = (int)v[8];
    if (!p->transpose) {
        *ig = {n, t_in, t_out, c, o, k, dil, pb, 1, 0, t_out, o, 0};
    } else {
        const int m = (k + st - 1) / st;
        *ig = {n, t_in, (t_out + pb + st - 1) / st, c, st * o, m, 1, m - 1, st, pb, t_out, o, k};
    }
    return av__igemm_fits(ig);
}

// GPU time of one launch() in ms: a warm-up run, then `reps` runs captured into a CUDA graph
// and timed by CUDA events over one replay, as the plan's own replays run (timing eager
// launches would count cuDNN's host-side overhead of tens of microseconds per call, which a
// replayed graph does not have). < 0 when a launch or the capture fails (errors cleared).
template <typename F> float time_ms(cudaStream_t stream, int reps, F launch)
{
    cudaEvent_t a = NULL, b = NULL;
    cudaGraph_t graph = NULL;
    cudaGraphExec_t exec = NULL;
    float ms = -1.0f;
    bool ok = cudaEventCreate(&a) == cudaSuccess && cudaEventCreate(&b) == cudaSuccess &&
              launch() && cudaStreamSynchronize(stream) == cudaSuccess;
    if (ok && cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
        for (int r = 0; r < reps && ok; r++)
            ok = launch();
        ok = cudaStreamEndCapture(stream, &graph) == cudaSuccess && ok;
        ok = ok && cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess &&
             cudaGraphLaunch(exec, stream) == cudaSuccess &&
             cudaEventRecord(a, stream) == cudaSuccess &&
             cudaGraphLaunch(exec, stream) == cudaSuccess &&
             cudaEventRecord(b, stream) == cudaSuccess && cudaEventSynchronize(b) == cudaSuccess &&
             cudaEventElapsedTime(&ms, a, b) == cudaSuccess;
        ms = ok ? ms / (float)reps : -1.0f;
    }
    if (exec)
        cudaGraphExecDestroy(exec);
    if (graph)
        cudaGraphDestroy(graph);
    if (a)
        cudaEventDestroy(a);
    if (b)
        cudaEventDestroy(b);
    cudaStreamSynchronize(stream);
    (void)cudaGetLastError();
    return ms;
}

// Records s->own in the context's cache entry of s->algo_key (made by conv_choose).
void own_remember(const av__cuda_ctx *ctx, const conv_state *s)
{
    av__cuda_algo_cache *c = ctx->env->conv_algos;
    for (int i = 0; c && i < c->n; i++)
        if (c->e[i].key == s->algo_key)
            c->e[i].own = s->own;
}

// After cuDNN's algorithm is chosen: whether the own kernel runs this layer instead, and with
// which configuration (s->own). AUTO times every configuration and cuDNN's path (its
// convolution, staging and epilogue pass, as run() enqueues them) on temporary buffers of the
// layer's sizes and keeps the fastest; OWN keeps the fastest configuration. A choice the context
// remembered for this layer signature is reused without timing.
av_status own_choose(const av__cuda_ctx *ctx, conv_state *s, const conv_node *cn)
{
    const int cached_own = s->cached ? s->own : -1;
    s->own = 0;
    av__igemm_geo ig;
    if (!own_geo(ctx, s, cn, &ig) || cached_own == 0)
        return AV_STATUS_OK;
    s->ig = ig;
    av_status st = av__cuda_check(
        ctx, av__igemm_upload_weights(&ig, (const float *)ctx->host_in[1]->data, &s->w_igemm),
        "convolution weights");
    if (st != AV_STATUS_OK)
        return st;
    if (cached_own > 0) {
        s->own = cached_own;
        return AV_STATUS_OK;
    }
    const size_t xb = (size_t)ig.n * ig.t_in * ig.c * 2, yb = (size_t)ig.n * ig.t_out * ig.o * 2;
    cudaStream_t stream = ctx->env->stream;
    conv_io io = {};
    void *x = NULL, *y = NULL, *add = NULL, *scratch = NULL;
    bool ok = cudaMalloc(&x, xb) == cudaSuccess && cudaMalloc(&y, yb) == cudaSuccess &&
              (!s->n_add || cudaMalloc(&add, yb) == cudaSuccess) &&
              (!s->scratch || cudaMalloc(&scratch, s->scratch) == cudaSuccess) &&
              cudaMemsetAsync(x, 0, xb, stream) == cudaSuccess &&
              (!add || cudaMemsetAsync(add, 0, yb, stream) == cudaSuccess);
    float best = -1.0f, cudnn_ms = -1.0f;
    int best_cfg = -1;
    if (ok) {
        io.x = x;
        io.w = s->w_own ? s->w_own : ctx->op->in[1]->data;
        io.bias = s->has_bias ? ctx->op->in[2]->data : NULL;
        for (int i = 0; i < s->n_add; i++)
            io.add[i] = add;
        io.y = y;
        io.scratch = (char *)scratch;
        post_args pa = s->post;
        for (int i = 0; i < s->n_add; i++)
            pa.add[i] = add;
        const int reps = 5;
        const int forced = ctx->env->conv_impl == AV__CUDA_CONV_OWN ? ctx->env->conv_own_config
                                                                    : -1;
        for (int cfg = 0; cfg < AV__IGEMM_CONFIGS; cfg++) {
            if (forced >= 0 && cfg != forced)
                continue;
            float ms = time_ms(stream, reps, [&] {
                return av__igemm_launch(cfg, &ig, (const __half *)x, s->w_igemm,
                                        (const __half *)io.bias, &pa, (__half *)y,
                                        stream) == cudaSuccess;
            });
            if (ms >= 0 && (best < 0 || ms < best)) {
                best = ms;
                best_cfg = cfg;
            }
        }
        if (ctx->env->conv_impl == AV__CUDA_CONV_AUTO && best_cfg >= 0)
            cudnn_ms = time_ms(stream, reps, [&] {
                return conv_enqueue_cudnn<__half>(ctx, s, io) == AV_STATUS_OK;
            });
    }
    cudaFree(x);
    cudaFree(y);
    cudaFree(add);
    cudaFree(scratch);
    (void)cudaGetLastError(); // a failed temporary allocation only means no own kernel
    ctx->op->err[0] = '\0';
    if (best_cfg >= 0 && (ctx->env->conv_impl == AV__CUDA_CONV_OWN || cudnn_ms < 0 ||
                          best < cudnn_ms))
        s->own = best_cfg + 1;
    if (getenv("AV_CUDA_CONV_VERBOSE"))
        fprintf(stderr, "conv %s: T %d->%d C %d->%d k %d d %d: cuDNN %.4f ms, own %s %.4f ms: %s\n",
                ctx->op->node && ctx->op->node->name ? ctx->op->node->name : "?", ig.t_in,
                ig.t_out, ig.c, ig.o, ig.k, ig.dil, cudnn_ms, av__igemm_config_name(best_cfg),
                best, s->own ? "own" : "cuDNN");
    if (!s->own) {
        cudaFree(s->w_igemm);
        s->w_igemm = NULL;
    }
    own_remember(ctx, s);
    return AV_STATUS_OK;
}

// The absorb_leaky hook of Conv, ConvTranspose and FusedConv (cuda_op.h): the epilogue pass
// also writes the LeakyRelu of what it stores.
int conv_absorb_leaky(void *state, void *dst, float alpha)
{
    conv_state *s = (conv_state *)state;
    if (!s || s->empty || s->post.leaky)
        return 0;
    s->post.leaky = dst;
    s->post.leaky_alpha = alpha;
    s->epilogue = 1;
    return 1;
}

av_status conv_run(const av__cuda_ctx *ctx)
{
    conv_state *s = (conv_state *)ctx->state;
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "not prepared");
    if (s->empty)
        return AV_STATUS_OK;
    const conv_io io = conv_io_of(ctx, s);
    if (s->own) {
        post_args pa = s->post;
        for (int i = 0; i < s->n_add; i++)
            pa.add[i] = io.add[i];
        if (av__igemm_aligned(io.x, io.y, &pa))
            return own_enqueue(ctx, s, s->own - 1, io, pa);
        // buffers of a plan are 256-byte aligned; anything else runs the prepared cuDNN path
    }
    return s->dt == AV__DT_F16 ? conv_enqueue_cudnn<__half>(ctx, s, io)
                               : conv_enqueue_cudnn<float>(ctx, s, io);
}

av_status conv_supports(const av__cuda_ctx *ctx) { return conv_supports_common(ctx, 0, 0); }
av_status convt_supports(const av__cuda_ctx *ctx) { return conv_supports_common(ctx, 0, 1); }
av_status fused_supports(const av__cuda_ctx *ctx) { return conv_supports_common(ctx, 1, 0); }
av_status conv_prepare(const av__cuda_ctx *ctx, void **state)
{
    return conv_prepare_common(ctx, state, 0, 0);
}
av_status convt_prepare(const av__cuda_ctx *ctx, void **state)
{
    return conv_prepare_common(ctx, state, 0, 1);
}
av_status fused_prepare(const av__cuda_ctx *ctx, void **state)
{
    return conv_prepare_common(ctx, state, 1, 0);
}

// ---- MatMul and Gemm -------------------------------------------------------------------------

enum gemm_kind {
    GEMM_EMPTY = 0,   // Y has no elements
    GEMM_NO_PRODUCT,  // K == 0: Y = beta * C or zeros
    GEMM_ONE,         // one GEMM
    GEMM_STRIDED,     // strided-batched GEMM
    GEMM_ARRAY        // batched GEMM over pointer arrays (MatMul's irregular broadcasts)
};

// One cuBLAS call, column-major: Yt[m x n] = op1(first)[m x k] op2(second)[k x n], first = B,
// second = A of the row-major product.
struct gemm_state {
    gemm_kind kind;
    av__dtype dt;
    cublasOperation_t op1, op2;
    int m, n, k, ld1, ld2, ldc, batch;
    long long stride1, stride2, stride_c;    // GEMM_STRIDED, elements
    int64_t *offsets;                        // GEMM_ARRAY: device [batch][2] (A, B) offsets
    float alpha, beta;
    int has_c;                               // Gemm: Y = beta * C first
    int64_t c_rs, c_cs, y_rows, y_cols;
    size_t scratch;
};

void gemm_release(void *state)
{
    gemm_state *s = (gemm_state *)state;
    if (!s)
        return;
    if (s->offsets)
        cudaFree(s->offsets);
    av__free(s);
}

bool int_fits(int64_t v) { return v >= 0 && v <= INT_LIMIT; }

av_status gemm_check_types(const av__cuda_ctx *ctx, int min_in, int max_in)
{
    const av__op_ctx *o = ctx->op;
    av__dtype st = float_storage(ctx);
    if (o->n_in < min_in || o->n_in > max_in || o->n_out < 1 || !o->out[0])
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected inputs / outputs");
    for (int i = 0; i < o->n_in; i++) {
        if (!o->in[i]) {
            if (i < min_in)
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "input %d missing", i);
            continue;
        }
        if (o->in[i]->dtype != st)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "input %d is %s (the CUDA kernel takes float32 stored as %s)", i,
                                 av__dtype_name(o->in[i]->dtype), av__dtype_name(st));
    }
    if (o->out[0]->dtype != st)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output is %s",
                             av__dtype_name(o->out[0]->dtype));
    return AV_STATUS_OK;
}

// MatMul's product (numpy semantics) as one of the gemm kinds. offsets: host [nbatch][2] A / B
// element offsets for GEMM_ARRAY (allocated here, the caller frees), else NULL.
av_status matmul_plan(const av__cuda_ctx *ctx, gemm_state *s, int64_t **offsets)
{
    *offsets = NULL;
    const av__tensor *a = ctx->op->in[0], *b = ctx->op->in[1];
    if (a->ndim < 1 || b->ndim < 1)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "rank-0 operand");
    int64_t m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
    int64_t k = a->shape[a->ndim - 1];
    int64_t n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    int64_t kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
    if (kb != k)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "inner dimensions differ");
    int na = a->ndim > 2 ? a->ndim - 2 : 0, nb_ = b->ndim > 2 ? b->ndim - 2 : 0, nb = 0;
    int64_t batch[AV__MAX_DIMS], sa[AV__MAX_DIMS], sb[AV__MAX_DIMS];
    if (av__broadcast_shapes(na, a->shape, nb_, b->shape, &nb, batch) != AV_STATUS_OK)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "batch dimensions do not broadcast");
    // element strides of A's / B's batch axes, right-aligned; 0 where broadcast
    const av__tensor *t2[2] = {a, b};
    int64_t *st2[2] = {sa, sb};
    int64_t mat[2] = {m * k, k * n};
    int nt[2] = {na, nb_};
    for (int t = 0; t < 2; t++) {
        int64_t step = mat[t];
        for (int i = nb - 1; i >= 0; i--) {
            int ti = i - (nb - nt[t]);
            st2[t][i] = ti < 0 || t2[t]->shape[ti] == 1 ? 0 : step;
            if (ti >= 0)
                step *= t2[t]->shape[ti];
        }
    }
    int64_t nbatch = 1;
    for (int i = 0; i < nb; i++)
        nbatch *= batch[i];
    s->y_rows = nbatch * m;
    s->y_cols = n;
    s->op1 = CUBLAS_OP_N;
    s->op2 = CUBLAS_OP_N;
    s->alpha = 1.0f;
    s->beta = 0.0f;
    if (m == 0 || n == 0 || nbatch == 0) {
        s->kind = GEMM_EMPTY;
        return AV_STATUS_OK;
    }
    if (k == 0) {
        s->kind = GEMM_NO_PRODUCT;
        return AV_STATUS_OK;
    }
    // each batch's offsets, and whether they are linear in the flat batch index
    int64_t *off = (int64_t *)av__mallocarray((size_t)nbatch * 2, sizeof(int64_t));
    if (!off)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int64_t i = 0; i < nbatch; i++) {
        int64_t r = i, oa = 0, ob = 0;
        for (int d = nb - 1; d >= 0; d--) {
            int64_t c = r % batch[d];
            r /= batch[d];
            oa += c * sa[d];
            ob += c * sb[d];
        }
        off[2 * i] = oa;
        off[2 * i + 1] = ob;
    }
    int64_t step_a = nbatch > 1 ? off[2] : 0, step_b = nbatch > 1 ? off[3] : 0;
    bool lin_a = true, lin_b = true;
    for (int64_t i = 0; i < nbatch; i++) {
        lin_a = lin_a && off[2 * i] == i * step_a;
        lin_b = lin_b && off[2 * i + 1] == i * step_b;
    }
    int64_t rows = m, batches = nbatch;
    if (nbatch == 1) {
        s->kind = GEMM_ONE;
    } else if (lin_a && step_a == m * k && lin_b && step_b == 0) {
        s->kind = GEMM_ONE; // B shared, A contiguous: all rows of all batches in one product
        rows = nbatch * m;
        batches = 1;
    } else if (lin_a && lin_b) {
        s->kind = GEMM_STRIDED;
    } else {
        s->kind = GEMM_ARRAY;
    }
    if (!int_fits(rows) || !int_fits(n) || !int_fits(k) || !int_fits(batches)) {
        av__free(off);
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "dimensions beyond cuBLAS's int range");
    }
    s->m = (int)n;
    s->n = (int)rows;
    s->k = (int)k;
    s->ld1 = (int)n;
    s->ld2 = (int)k;
    s->ldc = (int)n;
    s->batch = (int)batches;
    s->stride1 = step_b;
    s->stride2 = step_a;
    s->stride_c = m * n;
    if (s->kind == GEMM_ARRAY)
        *offsets = off;
    else
        av__free(off);
    return AV_STATUS_OK;
}

// Gemm's product: Y[M, N] = alpha op(A) op(B) + beta C.
av_status gemm_plan(const av__cuda_ctx *ctx, gemm_state *s)
{
    const av__node *node = ctx->op->node;
    const av__tensor *a = ctx->op->in[0], *b = ctx->op->in[1];
    const av__tensor *c = ctx->op->n_in > 2 ? ctx->op->in[2] : NULL;
    if (a->ndim != 2 || b->ndim != 2)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "A and B must be matrices");
    int ta = av__attr_int(node, "transA", 0) != 0, tb = av__attr_int(node, "transB", 0) != 0;
    int64_t m = a->shape[ta ? 1 : 0], k = a->shape[ta ? 0 : 1];
    int64_t n = b->shape[tb ? 0 : 1], kb = b->shape[tb ? 1 : 0];
    if (kb != k)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "inner dimensions differ");
    s->alpha = av__attr_float(node, "alpha", 1.0f);
    s->beta = av__attr_float(node, "beta", 1.0f);
    s->y_rows = m;
    s->y_cols = n;
    if (c) {
        int64_t cr = c->ndim == 2 ? c->shape[0] : 1;
        int64_t cc = c->ndim >= 1 ? c->shape[c->ndim - 1] : 1;
        if (c->ndim > 2 || (cr != 1 && cr != m) || (cc != 1 && cc != n))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "C does not broadcast to Y");
        s->has_c = 1;
        s->c_cs = cc == 1 ? 0 : 1;
        s->c_rs = cr == 1 ? 0 : cc;
    }
    if (m == 0 || n == 0) {
        s->kind = GEMM_EMPTY;
        return AV_STATUS_OK;
    }
    if (k == 0) {
        s->kind = GEMM_NO_PRODUCT;
        return AV_STATUS_OK;
    }
    if (!int_fits(m) || !int_fits(n) || !int_fits(k) || !int_fits(a->shape[1]) ||
        !int_fits(b->shape[1]))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "dimensions beyond cuBLAS's int range");
    s->kind = GEMM_ONE;
    s->op1 = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    s->op2 = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    s->m = (int)n;
    s->n = (int)m;
    s->k = (int)k;
    s->ld1 = (int)b->shape[1];
    s->ld2 = (int)a->shape[1];
    s->ldc = (int)n;
    s->batch = 1;
    return AV_STATUS_OK;
}

av_status matmul_supports(const av__cuda_ctx *ctx)
{
    av_status st = gemm_check_types(ctx, 2, 2);
    if (st != AV_STATUS_OK)
        return st;
    gemm_state s;
    memset(&s, 0, sizeof s);
    int64_t *off = NULL;
    st = matmul_plan(ctx, &s, &off);
    av__free(off);
    return st;
}

av_status gemm_supports(const av__cuda_ctx *ctx)
{
    av_status st = gemm_check_types(ctx, 2, 3);
    if (st != AV_STATUS_OK)
        return st;
    gemm_state s;
    memset(&s, 0, sizeof s);
    return gemm_plan(ctx, &s);
}

av_status gemm_prepare_common(const av__cuda_ctx *ctx, void **state, int is_gemm)
{
    *state = NULL;
    gemm_state *s = (gemm_state *)av__calloc(1, sizeof *s);
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    s->dt = float_storage(ctx);
    int64_t *off = NULL;
    av_status st = is_gemm ? gemm_plan(ctx, s) : matmul_plan(ctx, s, &off);
    if (st == AV_STATUS_OK && off) {
        size_t bytes = (size_t)s->batch * 2 * sizeof(int64_t);
        st = av__cuda_check(ctx, cudaMalloc(&s->offsets, bytes), "MatMul batch offsets");
        if (st == AV_STATUS_OK)
            st = av__cuda_check(ctx, cudaMemcpy(s->offsets, off, bytes, cudaMemcpyHostToDevice),
                                "MatMul batch offsets upload");
        s->scratch = 3 * (size_t)s->batch * sizeof(void *);
    }
    av__free(off);
    if (st != AV_STATUS_OK) {
        gemm_release(s);
        return st;
    }
    *state = s;
    return AV_STATUS_OK;
}

av_status matmul_prepare(const av__cuda_ctx *ctx, void **state)
{
    return gemm_prepare_common(ctx, state, 0);
}
av_status gemm_prepare(const av__cuda_ctx *ctx, void **state)
{
    return gemm_prepare_common(ctx, state, 1);
}

size_t gemm_scratch(const av__cuda_ctx *ctx)
{
    const gemm_state *s = (const gemm_state *)ctx->state;
    return s ? s->scratch : 0;
}

// The env's cuBLAS handle on our stream with host scalars. The math mode stays the context's;
// the compute type of each call decides TF32. cublasSetStream also resets the handle's
// workspace to cuBLAS's own pool, so it is called only when the stream differs.
av_status cublas_ready(const av__cuda_ctx *ctx)
{
    cublasHandle_t h = ctx->env->cublas;
    cudaStream_t cur = NULL;
    av_status st = av__cublas_check(ctx, cublasGetStream(h, &cur), "cublasGetStream");
    if (st == AV_STATUS_OK && cur != ctx->env->stream)
        st = av__cublas_check(ctx, cublasSetStream(h, ctx->env->stream), "cublasSetStream");
    if (st == AV_STATUS_OK)
        st = av__cublas_check(ctx, cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST),
                              "cublasSetPointerMode");
    return st;
}

av_status gemm_run(const av__cuda_ctx *ctx)
{
    const gemm_state *s = (const gemm_state *)ctx->state;
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "not prepared");
    if (s->kind == GEMM_EMPTY)
        return AV_STATUS_OK;
    const av__op_ctx *o = ctx->op;
    cudaStream_t stream = ctx->env->stream;
    void *y = o->out[0]->data;
    const void *a = o->in[0]->data, *b = o->in[1]->data;
    size_t es = storage_size(s->dt);
    int64_t total = s->y_rows * s->y_cols;
    float beta = 0.0f; // Y is write-only unless beta * C was written into it first
    av_status st;
    if (s->has_c) {
        const void *c = o->in[2]->data;
        unsigned blocks = av__cuda_blocks(total, 256);
        if (s->dt == AV__DT_F16)
            gemm_fill_kernel<__half><<<blocks, 256, 0, stream>>>(
                (const __half *)c, s->c_rs, s->c_cs, s->beta, (__half *)y, s->y_cols, total);
        else
            gemm_fill_kernel<float><<<blocks, 256, 0, stream>>>(
                (const float *)c, s->c_rs, s->c_cs, s->beta, (float *)y, s->y_cols, total);
        if ((st = AV__CUDA_CHECK_LAUNCH(ctx, "Gemm C")) != AV_STATUS_OK)
            return st;
        beta = 1.0f;
    }
    if (s->kind == GEMM_NO_PRODUCT) {
        if (s->has_c)
            return AV_STATUS_OK;
        return av__cuda_check(ctx, cudaMemsetAsync(y, 0, (size_t)total * es, stream),
                              "MatMul zeros");
    }
    if ((st = cublas_ready(ctx)) != AV_STATUS_OK)
        return st;
    cublasHandle_t h = ctx->env->cublas;
    cudaDataType_t dt = s->dt == AV__DT_F16 ? CUDA_R_16F : CUDA_R_32F;
    cublasComputeType_t ct = ctx->env->math == AV__CUDA_MATH_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                                  : CUBLAS_COMPUTE_32F;
    cublasStatus_t e;
    switch (s->kind) {
    case GEMM_ONE:
        e = cublasGemmEx(h, s->op1, s->op2, s->m, s->n, s->k, &s->alpha, b, dt, s->ld1, a, dt,
                         s->ld2, &beta, y, dt, s->ldc, ct, CUBLAS_GEMM_DEFAULT);
        break;
    case GEMM_STRIDED:
        e = cublasGemmStridedBatchedEx(h, s->op1, s->op2, s->m, s->n, s->k, &s->alpha, b, dt,
                                       s->ld1, s->stride1, a, dt, s->ld2, s->stride2, &beta, y, dt,
                                       s->ldc, s->stride_c, s->batch, ct, CUBLAS_GEMM_DEFAULT);
        break;
    default: {
        if (!ctx->scratch)
            return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "scratch buffer missing");
        const void **pa = (const void **)ctx->scratch;
        const void **pb = pa + s->batch;
        void **py = (void **)(pb + s->batch);
        gemm_ptrs_kernel<<<av__cuda_blocks(s->batch, 256), 256, 0, stream>>>(
            (const char *)a, (const char *)b, (char *)y, s->offsets, s->stride_c, (int64_t)es,
            s->batch, pa, pb, py);
        if ((st = AV__CUDA_CHECK_LAUNCH(ctx, "MatMul pointers")) != AV_STATUS_OK)
            return st;
        e = cublasGemmBatchedEx(h, s->op1, s->op2, s->m, s->n, s->k, &s->alpha, pb, dt, s->ld1,
                                pa, dt, s->ld2, &beta, py, dt, s->ldc, s->batch, ct,
                                CUBLAS_GEMM_DEFAULT);
        break;
    }
    }
    return av__cublas_check(ctx, e, "cuBLAS GEMM");
}

} // namespace

const av__cuda_kernel av__cuda_kernels_conv[] = {
    {"", "Conv", conv_supports, conv_prepare, conv_release, conv_scratch, conv_run,
     conv_absorb_leaky},
    {"", "ConvTranspose", convt_supports, convt_prepare, conv_release, conv_scratch, conv_run,
     conv_absorb_leaky},
    {AV__DOMAIN_INTERNAL, AV__FUSED_CONV_OP, fused_supports, fused_prepare, conv_release,
     conv_scratch, conv_run, conv_absorb_leaky},
    {"", "MatMul", matmul_supports, matmul_prepare, gemm_release, gemm_scratch, gemm_run},
    {"", "Gemm", gemm_supports, gemm_prepare, gemm_release, gemm_scratch, gemm_run},
};
const int av__cuda_kernels_conv_count = sizeof av__cuda_kernels_conv / sizeof av__cuda_kernels_conv[0];
