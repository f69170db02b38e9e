/* A small radix-2 FFT for real signals (float32), used by the F0 trackers' difference function.
 * Not a general FFT library: power-of-two sizes only, no SIMD. Its reference is the naive DFT in
 * tests/c/test_f0.c. */
#ifndef AV_DSP_FFT_H
#define AV_DSP_FFT_H

/* A plan for real transforms of one size n (a power of two, 2 <= n <= 2^24). Read-only after
 * creation: one plan may be used by several threads at once, each with its own buffers. */
typedef struct av__rfft av__rfft;

/* NULL when n is not a power of two in range, or when memory runs out. */
av__rfft *av__rfft_create(int n);
void av__rfft_free(av__rfft *plan);
int av__rfft_size(const av__rfft *plan);

/* Forward transform: X[k] = sum_j x[j] e^(-2 pi i jk/n), k = 0..n/2.
 * `x`: n real samples. `spec`: n + 2 floats, (re, im) of X[0..n/2] interleaved; X[0] and X[n/2]
 * have zero imaginary parts. `x` and `spec` may be the same buffer (of n + 2 floats). */
void av__rfft_forward(const av__rfft *plan, const float *x, float *spec);

/* Inverse of av__rfft_forward, scaled by 1/n so that inverse(forward(x)) == x. `spec` holds
 * X[0..n/2] (the imaginary parts of X[0] and X[n/2] are ignored) and is overwritten; `x`
 * receives n samples and may be the same buffer as `spec`. */
void av__rfft_inverse(const av__rfft *plan, float *spec, float *x);

#endif /* AV_DSP_FFT_H */
