/* Mel spectrogram definitions, as a model package's model.yaml states them (docs/MODEL_PACKAGE.md:
 * the `mel` blocks of `content_encoder` and `decoder`). Shared by the package loader, which fills
 * them, and the signal code that needs them (Griffin-Lim). */
#ifndef AV_DSP_MEL_H
#define AV_DSP_MEL_H

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

#endif /* AV_DSP_MEL_H */
