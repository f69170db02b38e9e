// CUDA device discovery and a kernel self-test; compiled only when nvcc is found.
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

extern "C" {
#include "core/cuda_probe.h"
#include "core/internal.h"
}

#ifndef AV_CUDA_ARCH_LIST
#define AV_CUDA_ARCH_LIST ""
#endif

extern "C" int av__cuda_built(void) { return 1; }

extern "C" const char *av__cuda_architectures(void) { return AV_CUDA_ARCH_LIST; }

static av_status cuda_fail(cudaError_t e, const char *what, char *err, size_t n)
{
    return av__fail(err, n, AV_STATUS_DEVICE, "%s: %s (%s)", what, cudaGetErrorString(e),
                    cudaGetErrorName(e));
}

extern "C" av_status av__cuda_device_count(int *count, char *err, size_t err_size)
{
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) {
        // No GPU, or no driver: a normal state for a CPU machine, not an error.
        *count = 0;
        cudaGetLastError();
        return av__fail(err, err_size, AV_STATUS_OK, "%s", cudaGetErrorString(e));
    }
    if (e != cudaSuccess)
        return cuda_fail(e, "cudaGetDeviceCount", err, err_size);
    return AV_STATUS_OK;
}

extern "C" av_status av__cuda_device_describe(int index, char *out, size_t out_size)
{
    cudaDeviceProp prop;
    cudaError_t e = cudaGetDeviceProperties(&prop, index);
    if (e != cudaSuccess)
        return cuda_fail(e, "cudaGetDeviceProperties", out, out_size);
    snprintf(out, out_size, "%s (sm_%d%d, %zu MiB)", prop.name, prop.major, prop.minor,
             (size_t)(prop.totalGlobalMem >> 20));
    return AV_STATUS_OK;
}

__global__ void selftest_axpy(int n, float a, const float *x, float *y)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = a * x[i] + y[i];
}

extern "C" av_status av__cuda_selftest(int index, char *err, size_t err_size)
{
    enum { N = 1000 };  // not a multiple of the block size: the bounds check is exercised
    static float hx[N], hy[N];
    float *dx = NULL, *dy = NULL;
    av_status st = AV_STATUS_OK;
    cudaError_t e;

    for (int i = 0; i < N; i++) {
        hx[i] = (float)i;
        hy[i] = 1.0f;
    }
    if ((e = cudaSetDevice(index)) != cudaSuccess) {
        st = cuda_fail(e, "cudaSetDevice", err, err_size);
        goto done;
    }
    if ((e = cudaMalloc(&dx, sizeof hx)) != cudaSuccess ||
        (e = cudaMalloc(&dy, sizeof hy)) != cudaSuccess) {
        st = cuda_fail(e, "cudaMalloc", err, err_size);
        goto done;
    }
    if ((e = cudaMemcpy(dx, hx, sizeof hx, cudaMemcpyHostToDevice)) != cudaSuccess ||
        (e = cudaMemcpy(dy, hy, sizeof hy, cudaMemcpyHostToDevice)) != cudaSuccess) {
        st = cuda_fail(e, "cudaMemcpy to device", err, err_size);
        goto done;
    }
    selftest_axpy<<<(N + 255) / 256, 256>>>(N, 2.0f, dx, dy);
    if ((e = cudaGetLastError()) != cudaSuccess) {
        st = cuda_fail(e, "kernel launch", err, err_size);
        goto done;
    }
    if ((e = cudaMemcpy(hy, dy, sizeof hy, cudaMemcpyDeviceToHost)) != cudaSuccess) {
        st = cuda_fail(e, "cudaMemcpy to host", err, err_size);
        goto done;
    }
    for (int i = 0; i < N; i++) {
        if (hy[i] != 2.0f * (float)i + 1.0f) {
            st = av__fail(err, err_size, AV_STATUS_DEVICE,
                          "self-test kernel gave y[%d] = %g, expected %g", i, (double)hy[i],
                          2.0 * i + 1.0);
            goto done;
        }
    }
done:
    cudaFree(dx);
    cudaFree(dy);
    return st;
}
