/* Mel spectrogram definitions, as a model package's model.yaml states them (docs/MODEL_PACKAGE.md:
 * the `mel` blocks of `content_encoder` and `decoder`). Shared by the package loader, which fills
 * them, and the signal code that needs them (Griffin-Lim). */
#ifndef AV_DSP_MEL_H
#define AV_DSP_MEL_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

typedef enum av__mel_scale { AV__MEL_SCALE_HTK, AV__MEL_SCALE_SLANEY } av__mel_scale;
typedef enum av__mel_norm { AV__MEL_NORM_NONE, AV__MEL_NORM_SLANEY } av__mel_norm;
/* log: ADD is ln(mel + floor), CLAMP is ln(max(mel, floor)) */
typedef enum av__mel_log { AV__MEL_LOG_ADD, AV__MEL_LOG_CLAMP } av__mel_log;

typedef struct av__mel_spec {
    int sample_rate;   /* Hz */
    int n_fft;
    int win_length;    /* periodic Hann of this length, centred in n_fft */
    int hop_length;
    int center;        /* 1: frames centred on t * hop (reflect padding); 0: frames start there */
    int n_mels;
    double f_min, f_max;
    av__mel_scale scale;
    av__mel_norm norm;
    int power;         /* 1: magnitude, 2: power */
    av__mel_log log;
    double log_floor;
} av__mel_spec;

/* Limits av__mel_spec_check enforces (the package loader reports the same ranges per key). */
#define AV__MEL_MIN_RATE 1000
#define AV__MEL_MAX_RATE 768000
#define AV__MEL_MIN_FFT 16
#define AV__MEL_MAX_FFT 65536
#define AV__MEL_MAX_MELS 2048

/* Checks every field of `spec`: sample_rate in [AV__MEL_MIN_RATE, AV__MEL_MAX_RATE], n_fft in
 * [AV__MEL_MIN_FFT, AV__MEL_MAX_FFT] and even, 1 <= win_length <= n_fft, 1 <= hop_length <= win_length,
 * center 0 or 1, n_mels in [1, AV__MEL_MAX_MELS], 0 <= f_min < f_max <= sample_rate / 2, known
 * scale / norm / log values, power 1 or 2, log_floor in (0, 1]. On error the message names the
 * field (e.g. "win_length 2048 exceeds n_fft 1024"); callers prefix where the spec came from. */
av_status av__mel_spec_check(const av__mel_spec *spec, char *err, size_t err_size);

/* Reflect padding on each side of the signal: n_fft / 2 when centred, else (n_fft - hop) / 2
 * (HiFi-GAN, integer division). Frame t reads padded samples [t * hop, t * hop + n_fft). */
int64_t av__mel_pad(const av__mel_spec *spec);

/* Frames of a signal of n samples: 1 + (n + 2 pad - n_fft) / hop, or 0 when n < 1 or the padded
 * signal is shorter than n_fft. Centred: 1 + n / hop. HiFi-GAN (center 0): n / hop when
 * n_fft - hop is even. */
int64_t av__mel_frames(const av__mel_spec *spec, int64_t n);

/* The triangular filters as float [n_mels][n_fft / 2 + 1] (row-major), computed in double as
 * tools/autovoice_ref/melfront.py's mel_filterbank (and torchaudio's melscale_fbanks, librosa's
 * mel for slaney/slaney): n_mels + 2 edges equally spaced on the mel scale over [f_min, f_max],
 * FFT bin k at k * sample_rate / n_fft Hz; slaney norm scales filter i by 2 / (edge[i + 2] -
 * edge[i]). The spec must pass av__mel_spec_check. */
void av__mel_filterbank(const av__mel_spec *spec, float *fb);

/* Log-mel of x[0..n) into out, channel-major [n_mels][frames] (frames = av__mel_frames(spec, n),
 * >= 1 or AV_STATUS_INVALID_ARGUMENT): reflect padding by av__mel_pad (repeated reflection where
 * the padding exceeds the signal; torch refuses those), periodic-Hann frames, |FFT|^power,
 * filterbank, then ln(mel + floor) or ln(max(mel, floor)). FFT in float, sums in double. Same
 * numbers as the mel_projection/content-encoder conventions of docs/MODEL_PACKAGE.md. Allocates
 * its own scratch; thread-safe. */
av_status av__log_mel(const av__mel_spec *spec, const float *x, int64_t n, float *out, char *err,
                      size_t err_size);

#endif /* AV_DSP_MEL_H */
