/* The CUDA backend's operator interface (C++ / nvcc only; internal to src/cuda/).
 *
 * The CPU engine plans a session (shapes, plan-time values, arena offsets: src/engine/session.c);
 * the CUDA backend (src/cuda/backend.cu) then puts every runtime value in device memory and runs
 * each step with the av__cuda_kernel registered for its (domain, op_type). A node whose op has no
 * CUDA kernel, or whose kernel's supports() declines the node, runs on the CPU between a download
 * of its inputs and an upload of its outputs (correct, slow, and it keeps the plan from being
 * captured as one CUDA graph; `autovoice inspect --device cuda` lists such nodes).
 *
 * Tensors a kernel sees (ctx->op->in / ctx->op->out) have DEVICE data pointers, the logical
 * shapes the planner inferred, and the dtype they are STORED in on the device: with
 * AV__CUDA_MATH_FP16 every float32 value of the graph (activations, weights, graph inputs and
 * outputs) is stored as float16 and the kernels see AV__DT_F16; any other math stores float32 as
 * float32. Other dtypes are stored as they are (bool as one byte 0/1, int64 as int64).
 *
 * Life of a step:
 *  1. supports() (optional): whether this kernel runs this node with these dtypes / shapes /
 *     attributes. UNSUPPORTED with a message sends the node to the CPU fallback; any other
 *     failure fails the plan.
 *  2. prepare() (optional), once per plan, never during graph capture: descriptors, algorithm
 *     choice, transformed weights (device memory it allocates itself and frees in release()).
 *     Constant and plan-time inputs have their host tensor in ctx->host_in[i] (float32 weights
 *     as float32, whatever the device stores); runtime inputs have NULL there.
 *  3. scratch_bytes() (optional), after prepare(): device scratch run() needs (one region
 *     shared by all steps, 256-byte aligned).
 *  4. run(): enqueues the node's work on ctx->env->stream and returns. It must not allocate,
 *     synchronise, copy to or from the host, or read device data on the host: the backend
 *     captures a whole plan's runs into one CUDA graph and replays it. Check launches with
 *     AV__CUDA_CHECK_LAUNCH. Outputs never alias inputs.
 * Kernels are pure functions of their arguments and the state prepare() made. */
#ifndef AV_CUDA_CUDA_OP_H
#define AV_CUDA_CUDA_OP_H

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdint.h>

extern "C" {
#include "core/internal.h"
#include "ops/op.h"
}

/* How float math runs (the session's choice; av_session_config.cuda_math). */
typedef enum av__cuda_math {
    AV__CUDA_MATH_FP32 = 0, /* float32 storage, float32 arithmetic (no tensor-core rounding) */
    AV__CUDA_MATH_TF32 = 1, /* float32 storage; convolutions and products may use TF32 cores */
    AV__CUDA_MATH_FP16 = 2  /* float16 storage; products in fp16 with float32 accumulation,
                               pointwise math and reductions in float32 registers */
} av__cuda_math;

/* Which kernels run a convolution that autovoice's own fp16 kernel (conv_igemm.h) can run:
 * AUTO times it against cuDNN's choice when the plan is prepared and keeps the faster; CUDNN
 * never uses it; OWN always does (its fastest configuration). The environment variable
 * AV_CUDA_CONV=auto|cudnn|own sets it for new contexts (a diagnostic; tests force each). */
typedef enum av__cuda_conv_impl {
    AV__CUDA_CONV_AUTO = 0,
    AV__CUDA_CONV_CUDNN = 1,
    AV__CUDA_CONV_OWN = 2
} av__cuda_conv_impl;

/* Convolution algorithms a context has chosen, by layer signature (everything but the spatial
 * lengths): a plan for another input length (each chunk of a conversion) reuses the choice
 * instead of timing cuDNN's algorithms again. Owned by the context. */
typedef struct av__cuda_algo_cache {
    int n, cap;
    int own_layers, cudnn_layers; /* convolutions prepared so far with autovoice's own kernel /
                                     with cuDNN (av__cuda_context_conv_counts) */
    struct av__cuda_algo_entry {
        uint64_t key;
        int algo;
        int math;                 /* cudnnMathType_t */
        int own;                  /* configuration + 1 of autovoice's own kernel
                                     (conv_igemm.h) when it won, 0: cuDNN's algorithm */
    } *e;
} av__cuda_algo_cache;

/* Per session: the device, its stream and library handles, shared by every step. */
typedef struct av__cuda_env {
    int device;
    cudaStream_t stream;
    cublasHandle_t cublas;
    cublasLtHandle_t cublaslt;
    cudnnHandle_t cudnn;
    av__cuda_math math;
    int sm;                 /* compute capability * 10 + minor (90 for an H100) */
    int multiprocessors;
    av__cuda_algo_cache *conv_algos; /* shared by the plans of the context */
    av__cuda_conv_impl conv_impl;    /* which convolution kernels may run */
    int conv_own_config;             /* OWN: this configuration only (tests), or -1 */
} av__cuda_env;

typedef struct av__cuda_ctx {
    const av__op_ctx *op;                 /* node, opset, in/out (device data), err */
    const av__tensor *const *host_in;     /* per input: host tensor when known at plan time */
    av__cuda_env *env;
    void *scratch;                        /* run(): scratch_bytes() device bytes, or NULL */
    void *state;                          /* what prepare() made (NULL before / without it) */
} av__cuda_ctx;

typedef struct av__cuda_kernel {
    const char *domain;                   /* "" (default ONNX domain) or AV__DOMAIN_INTERNAL */
    const char *op_type;
    av_status (*supports)(const av__cuda_ctx *ctx);
    av_status (*prepare)(const av__cuda_ctx *ctx, void **state);
    void (*release)(void *state);
    size_t (*scratch_bytes)(const av__cuda_ctx *ctx);
    av_status (*run)(const av__cuda_ctx *ctx);
    /* Optional, after prepare(): from now on also write LeakyRelu(output 0, alpha) to dst (a
     * device buffer of output 0's shape and storage type, written in the same pass as output 0).
     * Returns 1 when the kernel took it on, 0 when it cannot (then nothing changes). The
     * backend uses it to fold a LeakyRelu node into the convolution that feeds it. */
    int (*absorb_leaky)(void *state, void *dst, float alpha);
} av__cuda_kernel;

/* The kernel for (domain, op_type) ("" and "ai.onnx" are the default domain), or NULL. */
const av__cuda_kernel *av__cuda_kernel_find(const char *domain, const char *op_type);

/* Kernel tables of the families (each file defines its array and count). */
extern const av__cuda_kernel av__cuda_kernels_elementwise[];
extern const int av__cuda_kernels_elementwise_count;
extern const av__cuda_kernel av__cuda_kernels_shape[];
extern const int av__cuda_kernels_shape_count;
extern const av__cuda_kernel av__cuda_kernels_reduce[];
extern const int av__cuda_kernels_reduce_count;
extern const av__cuda_kernel av__cuda_kernels_conv[];
extern const int av__cuda_kernels_conv_count;

/* ---- helpers (src/cuda/util.cu) ------------------------------------------------------------- */

/* Message into ctx->op->err, returns status. */
av_status av__cuda_fail(const av__cuda_ctx *ctx, av_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* AV_STATUS_OK, or AV_STATUS_DEVICE with "what: CUDA's error text" in ctx->op->err. */
av_status av__cuda_check(const av__cuda_ctx *ctx, cudaError_t e, const char *what);
av_status av__cudnn_check(const av__cuda_ctx *ctx, cudnnStatus_t e, const char *what);
av_status av__cublas_check(const av__cuda_ctx *ctx, cublasStatus_t e, const char *what);

/* After a kernel launch: the launch's error (cudaGetLastError) as a status. */
#define AV__CUDA_CHECK_LAUNCH(ctx, what) av__cuda_check((ctx), cudaGetLastError(), (what))

/* Number of elements of t. */
static inline int64_t av__cuda_numel(const av__tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

/* Blocks of `threads` threads covering n items, capped for grid-stride loops. */
static inline unsigned av__cuda_blocks(int64_t n, int threads)
{
    int64_t b = (n + threads - 1) / threads;
    if (b < 1)
        b = 1;
    if (b > 65535LL * 32)
        b = 65535LL * 32;
    return (unsigned)b;
}

/* Device-side loads and stores of a float stored as float32 or float16 (read as float). */
template <typename T> __device__ __forceinline__ float av__ld(const T *p, int64_t i);
template <> __device__ __forceinline__ float av__ld<float>(const float *p, int64_t i) { return p[i]; }
template <> __device__ __forceinline__ float av__ld<__half>(const __half *p, int64_t i)
{
    return __half2float(p[i]);
}
template <typename T> __device__ __forceinline__ void av__st(T *p, int64_t i, float v);
template <> __device__ __forceinline__ void av__st<float>(float *p, int64_t i, float v) { p[i] = v; }
template <> __device__ __forceinline__ void av__st<__half>(__half *p, int64_t i, float v)
{
    p[i] = __float2half_rn(v);
}

/* Converts n floats between float32 and float16 on the stream (dtype of src / dst: F32 or F16;
 * same dtype copies). */
av_status av__cuda_convert(av__cuda_env *env, const void *src, av__dtype src_type, void *dst,
                           av__dtype dst_type, int64_t n, char *err, size_t err_size);

#endif /* AV_CUDA_CUDA_OP_H */
