/* FFTW wrapper (one real FFT size per object, buffers included), window, reflect indexing. */
#define _POSIX_C_SOURCE 200809L /* pthread mutex initialiser */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <fftw3.h>

#include "core/internal.h"
#include "dsp/stft.h"

/* FFTW's planner (and plan destruction) touch global state; fftwf_execute does not. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

#define FFT_ALIGN 64

static float *align_up(void *p)
{
    uintptr_t a = ((uintptr_t)p + FFT_ALIGN - 1) & ~(uintptr_t)(FFT_ALIGN - 1);
    return (float *)a;
}

av_status av__fft_init(av__fft *fft, int n, char *err, size_t err_size)
{
    memset(fft, 0, sizeof *fft);
    if (n < 2 || n > (1 << 24))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "FFT size %d is outside [2, 16777216]", n);
    const int bins = n / 2 + 1;
    /* time [n] then freq [2 * bins], each starting on a 64-byte boundary */
    const size_t time_floats = ((size_t)n + FFT_ALIGN / sizeof(float) - 1) /
                               (FFT_ALIGN / sizeof(float)) * (FFT_ALIGN / sizeof(float));
    fft->alloc = av__mallocarray(time_floats + 2 * (size_t)bins + FFT_ALIGN / sizeof(float),
                                 sizeof(float));
    if (!fft->alloc)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory for an FFT of %d", n);
    fft->n = n;
    fft->bins = bins;
    fft->time = align_up(fft->alloc);
    fft->freq = fft->time + time_floats;
    memset(fft->time, 0, (time_floats + 2 * (size_t)bins) * sizeof(float));

    pthread_mutex_lock(&planner_lock);
    fftwf_plan fwd = fftwf_plan_dft_r2c_1d(n, fft->time, (fftwf_complex *)(void *)fft->freq,
                                           FFTW_ESTIMATE);
    fftwf_plan inv = fftwf_plan_dft_c2r_1d(n, (fftwf_complex *)(void *)fft->freq, fft->time,
                                           FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner_lock);
    fft->fwd = fwd;
    fft->inv = inv;
    if (!fwd || !inv) {
        av__fft_free(fft);
        return av__fail(err, err_size, AV_STATUS_INTERNAL, "FFTW could not plan an FFT of %d", n);
    }
    return AV_STATUS_OK;
}

void av__fft_free(av__fft *fft)
{
    if (!fft)
        return;
    if (fft->fwd || fft->inv) {
        pthread_mutex_lock(&planner_lock);
        if (fft->fwd)
            fftwf_destroy_plan((fftwf_plan)fft->fwd);
        if (fft->inv)
            fftwf_destroy_plan((fftwf_plan)fft->inv);
        pthread_mutex_unlock(&planner_lock);
    }
    av__free(fft->alloc);
    memset(fft, 0, sizeof *fft);
}

void av__fft_forward(av__fft *fft)
{
    fftwf_execute((fftwf_plan)fft->fwd);
}

void av__fft_inverse(av__fft *fft)
{
    fftwf_execute((fftwf_plan)fft->inv);
}

void av__stft_window(int n_fft, int win_length, float *w)
{
    const int offset = (n_fft - win_length) / 2;
    for (int j = 0; j < n_fft; j++)
        w[j] = 0.0f;
    for (int j = 0; j < win_length; j++)
        w[offset + j] = (float)(0.5 - 0.5 * cos(2.0 * 3.14159265358979323846 * j / win_length));
}

int64_t av__reflect_index(int64_t i, int64_t n)
{
    if (n <= 1)
        return 0;
    const int64_t period = 2 * (n - 1);
    int64_t r = i % period;
    if (r < 0)
        r += period;
    return r < n ? r : period - r;
}
