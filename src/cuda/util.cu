// Helpers shared by the CUDA kernels: error messages and float32 <-> float16 conversion.
#include <stdarg.h>
#include <stdio.h>

#include "cuda/cuda_op.h"

av_status av__cuda_fail(const av__cuda_ctx *ctx, av_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->op->err, ctx->op->err_size, fmt, ap);
    va_end(ap);
    return status;
}

av_status av__cuda_check(const av__cuda_ctx *ctx, cudaError_t e, const char *what)
{
    if (e == cudaSuccess)
        return AV_STATUS_OK;
    return av__cuda_fail(ctx, e == cudaErrorMemoryAllocation ? AV_STATUS_OUT_OF_MEMORY
                                                             : AV_STATUS_DEVICE,
                         "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

av_status av__cudnn_check(const av__cuda_ctx *ctx, cudnnStatus_t e, const char *what)
{
    if (e == CUDNN_STATUS_SUCCESS)
        return AV_STATUS_OK;
    return av__cuda_fail(ctx, e == CUDNN_STATUS_ALLOC_FAILED ? AV_STATUS_OUT_OF_MEMORY
                                                             : AV_STATUS_DEVICE,
                         "%s: cuDNN: %s", what, cudnnGetErrorString(e));
}

av_status av__cublas_check(const av__cuda_ctx *ctx, cublasStatus_t e, const char *what)
{
    if (e == CUBLAS_STATUS_SUCCESS)
        return AV_STATUS_OK;
    return av__cuda_fail(ctx, e == CUBLAS_STATUS_ALLOC_FAILED ? AV_STATUS_OUT_OF_MEMORY
                                                              : AV_STATUS_DEVICE,
                         "%s: cuBLAS: %s", what, cublasGetStatusString(e));
}

template <typename S, typename D> __global__ void convert_kernel(const S *src, D *dst, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        av__st<D>(dst, i, av__ld<S>(src, i));
}

av_status av__cuda_convert(av__cuda_env *env, const void *src, av__dtype src_type, void *dst,
                           av__dtype dst_type, int64_t n, char *err, size_t err_size)
{
    cudaError_t e = cudaSuccess;
    if (n <= 0)
        return AV_STATUS_OK;
    if (src_type == dst_type) {
        size_t bytes = (size_t)n * (src_type == AV__DT_F16 ? 2 : 4);
        e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, env->stream);
    } else if (src_type == AV__DT_F32 && dst_type == AV__DT_F16) {
        convert_kernel<float, __half><<<av__cuda_blocks(n, 256), 256, 0, env->stream>>>(
            (const float *)src, (__half *)dst, n);
        e = cudaGetLastError();
    } else if (src_type == AV__DT_F16 && dst_type == AV__DT_F32) {
        convert_kernel<__half, float><<<av__cuda_blocks(n, 256), 256, 0, env->stream>>>(
            (const __half *)src, (float *)dst, n);
        e = cudaGetLastError();
    } else {
        return av__fail(err, err_size, AV_STATUS_INTERNAL, "av__cuda_convert: %s to %s",
                        av__dtype_name(src_type), av__dtype_name(dst_type));
    }
    if (e != cudaSuccess)
        return av__fail(err, err_size, AV_STATUS_DEVICE, "float conversion: %s",
                        cudaGetErrorString(e));
    return AV_STATUS_OK;
}
