/* autovoice's own fp16 convolution kernel (C++ / nvcc only; internal to src/cuda/): a 1-D,
 * stride-1, ungrouped convolution of channels-last float16 data as an implicit GEMM on the tensor
 * cores (float32 accumulation), with the FusedConv epilogue (bias, post steps, residual adds, a
 * folded LeakyRelu) applied to the accumulators before the only store. It exists for the
 * vocoder's dilated resblock convolutions, where cuDNN needs a second pass over memory for the
 * epilogue and, at short inputs, two launches per layer; ops_conv.cu times it against cuDNN's
 * choice when it prepares a convolution and keeps the faster.
 *
 *   Y[n, t, o] = post(bias[o] + sum over k < K, c < C of X[n, t + k * dil - pad, c] * W[o, c, k])
 *
 * X is [N, T_in, C], Y [N, T_out, O] (channels-last, C and O contiguous), rows of X outside
 * [0, T_in) read as zeros. GEMM view: M = T_out rows per batch, N = O, K = K * C, each K-step one
 * tap and 32 input channels, loaded by cp.async into a 3-stage shared-memory pipeline; WMMA
 * 16x16x16 fragments. A block computes BM x BN outputs; the configurations (tile shapes and warp
 * layouts) are numbered 0 .. AV__IGEMM_CONFIGS - 1 and timed per layer. */
#ifndef AV_CUDA_CONV_IGEMM_H
#define AV_CUDA_CONV_IGEMM_H

#include "cuda/conv_post.h"

/* The geometry the kernel runs: batch, lengths, channels, taps, dilation, leading pad of the
 * convolution the GEMM computes (t_out rows, o columns), and where its results go:
 *   convolution    up 1, crop 0, y_len = t_out, y_ch = o, transposed_k 0
 *   ConvTranspose  (stride s, kernel K, dilation 1, leading pad pb) by phases: with
 *                  M = ceil(K / s) taps, GEMM row q and column p * y_ch + co (phase p < s) hold
 *                  Y[q * s + p - pb, co] = sum over m < M, c of X[q - m, c] W[c, co, p + s m]
 *                  (the convolution with k M, dil 1, pad M - 1, o s * y_ch and weights
 *                  W'[M - 1 - m][c][p * y_ch + co] = W[c, co, p + s m], zero past K); up s,
 *                  crop pb, t_out = ceil((y_len + pb) / s), transposed_k K.
 * Rows of Y no (row, phase) reaches are not written (none, for these t_out). */
typedef struct av__igemm_geo {
    int n, t_in, t_out, c, o, k, dil, pad;
    int up, crop, y_len, y_ch, transposed_k;
} av__igemm_geo;

#define AV__IGEMM_CONFIGS 15

/* Whether the kernel computes this geometry: C and O multiples of 8 (16-byte vectors), every
 * size positive, every index below 2^31. */
bool av__igemm_fits(const av__igemm_geo *g);

/* Configuration cfg's name ("128x64/8w"). */
const char *av__igemm_config_name(int cfg);

/* Weights for the kernel: w (host float32 in ONNX layout: Conv [O, C, K], ConvTranspose
 * [C, y_ch, transposed_k]) as float16 [k][C rounded up to 32][o rounded up to 128] (zeros in
 * the padding) in new device memory *dev (cudaFree it). Also raises the configurations'
 * shared-memory limits on the current device. */
cudaError_t av__igemm_upload_weights(const av__igemm_geo *g, const float *w, void **dev);

/* Whether the pointers a launch would get are aligned as it needs (16 bytes: x, y, every
 * addend, leaky). */
bool av__igemm_aligned(const void *x, const void *y, const av__conv_post *post);

/* Enqueues configuration cfg on stream: y = the convolution of x (float16, geometry g) with the
 * weights of av__igemm_upload_weights, bias (float16 [O] or NULL) and post (addends and leaky of
 * y's shape, float16). The launch's error, as cudaGetLastError gives it. */
cudaError_t av__igemm_launch(int cfg, const av__igemm_geo *g, const __half *x, const void *w,
                             const __half *bias, const av__conv_post *post, __half *y,
                             cudaStream_t stream);

#endif /* AV_CUDA_CONV_IGEMM_H */
