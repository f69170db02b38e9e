/* Griffin-Lim: audio from a log-mel spectrogram, for model packages without a vocoder
 * (docs/MODEL_PACKAGE.md, components.vocoder absent). Internal. */
#ifndef AV_DSP_GRIFFIN_LIM_H
#define AV_DSP_GRIFFIN_LIM_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"
#include "dsp/mel.h"

typedef struct av__griffin_lim_config {
    int iterations;     /* phase-retrieval iterations, >= 0 (0: the initial random phase only) */
    float momentum;     /* fast Griffin-Lim momentum alpha in [0, 1]; 0 is classic Griffin-Lim */
    uint64_t seed;      /* initial phase of bin k of frame t: 2 pi av__rng_uniform(seed, t * bins + k) */
    int threads;        /* threads for the FFTs: 1 (the default) runs on the caller's thread,
                           <= 0 uses every online CPU. The result does not depend on it. */
    int nnls_iterations; /* multiplicative NNLS refinements of the mel -> linear inversion, >= 0 */
} av__griffin_lim_config;

/* iterations 32, momentum 0.99, seed 0, threads 1, nnls_iterations 50 (measured on a sung-like
 * tone: spectral convergence 0.098 with 10, 0.076 with 50, 0.072 with 100; 50 adds about a
 * third to the time of 32 Griffin-Lim iterations). */
av__griffin_lim_config av__griffin_lim_config_default(void);

/* Audio from a log-mel spectrogram.
 *  spec     the mel definition the spectrogram was made with (av__mel_spec_check must pass)
 *  log_mel  channel-major [spec->n_mels][frames], natural log as spec->log says (the layout of
 *           mel_projection's [1, n_mels, T] output)
 *  out      exactly frames * spec->hop_length samples (the vocoder's [1, 1, hop * T] output)
 * Steps:
 *  1. mel = exp(log_mel), floor undone: ln(mel + floor) gives max(e^v - floor, 0); ln(max(mel,
 *     floor)) gives 0 where the value sits at the floor.
 *  2. Linear spectrum per frame, a non-negative least-squares fit of  fb s = mel  (fb the
 *     filterbank): the regularised pseudo-inverse  s0 = fb^T (fb fb^T + lambda I)^-1 mel  clipped
 *     at 0 (plus a tiny positive floor on bins some filter covers, so that they can grow), then
 *     cfg->nnls_iterations multiplicative NNLS updates  s <- s * (fb^T mel) / (fb^T fb s)  (Lee
 *     and Seung), which keep s >= 0 and never increase the squared error. Bins no filter covers
 *     (above f_max) stay 0. Magnitude = s (power 1) or sqrt(s) (power 2).
 *  3. Fast Griffin-Lim (Perraudin, Balazs, Sondergaard 2013) in torchaudio's formulation:
 *     rebuilt = STFT(ISTFT(c)); a = rebuilt - momentum / (1 + momentum) * previous rebuilt;
 *     c = magnitude * a / |a|. The STFT is the spec's own (reflect padding, window, hop), and the
 *     ISTFT is its exact least-squares inverse: overlap-add of the windowed inverse FFTs divided by
 *     the summed squared window, with the reflect-padded parts folded back onto the samples they
 *     mirror, so every signal the iteration sees is a padded N-sample signal as in the forward
 *     mel. N = frames * hop; STFT frames of it that the spectrogram has no column for (centred
 *     specs have one more) keep their rebuilt value.
 * Deterministic: the same input and config give the same bits, whatever cfg->threads. Memory:
 * about 20 bytes per frequency bin per frame (bins = n_fft / 2 + 1). Errors (message in err):
 * NULL arguments, frames < 1, a spec that fails the check, a spectrogram with NaN, a config out
 * of range (all AV_STATUS_INVALID_ARGUMENT), out of memory. Thread-safe. */
av_status av__griffin_lim(const av__mel_spec *spec, const float *log_mel, int64_t frames,
                          const av__griffin_lim_config *cfg, float *out, char *err, size_t err_size);

#endif /* AV_DSP_GRIFFIN_LIM_H */
