/* The post steps of a FusedConv as the CUDA convolution kernels apply them (C++ / nvcc only;
 * internal to src/cuda/): shared by the cuDNN path's epilogue pass (ops_conv.cu) and the fused
 * epilogue of autovoice's own convolution kernel (conv_igemm.cu). */
#ifndef AV_CUDA_CONV_POST_H
#define AV_CUDA_CONV_POST_H

#include "cuda/cuda_op.h"

extern "C" {
#include "ops/conv_dnnl.h"
}

/* Post steps of a FusedConv, applied in order to conv + bias in float32 registers; add[] holds
 * the addend of each "add" step in order (device pointers of Y's shape and layout). */
typedef struct av__conv_post {
    int n;
    int act[AV__DNNL_MAX_POST];
    float alpha[AV__DNNL_MAX_POST], beta[AV__DNNL_MAX_POST];
    const void *add[AV__DNNL_MAX_POST];
    void *leaky;                   /* also write leaky_relu(stored result, leaky_alpha) here (a
                                      folded LeakyRelu node), or NULL */
    float leaky_alpha;
} av__conv_post;

/* One post step other than "add". */
__device__ __forceinline__ float av__conv_post_step(int act, float alpha, float beta, float v)
{
    switch (act) {
    case AV__DNNL_ACT_RELU: return v > 0.0f ? v : alpha * v;
    case AV__DNNL_ACT_TANH: return tanhf(v);
    case AV__DNNL_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case AV__DNNL_ACT_LINEAR: return alpha * v + beta;
    default: return v;
    }
}

#endif /* AV_CUDA_CONV_POST_H */
