/* Short-time Fourier transform helpers over FFTW single precision: a real FFT of one size with
 * its inverse, the periodic Hann window, and the reflect padding of the mel front ends.
 * Internal to src/dsp. */
#ifndef AV_DSP_STFT_H
#define AV_DSP_STFT_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

/* A real FFT of n points (forward r2c and unnormalised inverse c2r) with the buffers one thread
 * uses. Plans are made with FFTW_ESTIMATE (no timing: the same plan, and the same bits, on every
 * run) under a process-wide mutex, since FFTW's planner is not thread-safe; destruction takes
 * the same mutex. Execution is thread-safe for different av__fft objects. Anything else in the
 * process that calls FFTW's planner must not do so concurrently (FFTW has one global planner).
 * Note: FFTW itself aborts when its own internal allocations fail while planning; every
 * allocation of ours is checked. */
typedef struct av__fft {
    int n;         /* transform size */
    int bins;      /* n / 2 + 1 */
    float *time;   /* [n], 64-byte aligned: input of forward, output of inverse */
    float *freq;   /* [2 * bins] interleaved re, im, 64-byte aligned */
    void *fwd, *inv;   /* fftwf_plan */
    void *alloc;   /* block holding time and freq */
} av__fft;

av_status av__fft_init(av__fft *fft, int n, char *err, size_t err_size);
/* Releases what av__fft_init made; a zeroed or failed-init struct is fine. */
void av__fft_free(av__fft *fft);
/* freq <- FFT(time) (bins complex values; time is preserved). */
void av__fft_forward(av__fft *fft);
/* time <- sum_k freq[k] e^{+2 pi i k j / n} over the full Hermitian spectrum: n times the inverse
 * DFT (freq is overwritten). Imaginary parts of bin 0 and, for even n, bin n/2 are ignored. */
void av__fft_inverse(av__fft *fft);

/* w[0..n_fft): periodic Hann of win_length (0.5 - 0.5 cos(2 pi j / win_length)) centred in n_fft
 * (starting at (n_fft - win_length) / 2), zero elsewhere. Computed in double. */
void av__stft_window(int n_fft, int win_length, float *w);

/* Index into x[0..n) of position i (any integer) of x reflect-padded on both sides, reflecting as
 * often as needed (numpy's "reflect": x[-1] = x[1], x[n] = x[n - 2]). n >= 1; n == 1 gives 0.
 * Equal to torch.nn.functional.pad(mode="reflect") wherever torch accepts the padding (< n). */
int64_t av__reflect_index(int64_t i, int64_t n);

#endif /* AV_DSP_STFT_H */
