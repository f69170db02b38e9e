/* autovoice: singing voice conversion with a model package (docs/MODEL_PACKAGE.md).
 *
 * Path (SPEC §2): input -> content-encoder rate -> peak normalisation over the whole signal ->
 * content_encoder; F0 (tracked, or supplied) -> pitch shift by 2^(s/12), clamped to the model's
 * range, unvoiced stays 0 -> pitch_encoder; both linearly interpolated to decoder frames;
 * conditioning = [content, pitch, speaker]; flow_decoder on noise x temperature from the
 * counter-based generator (frame t, channel c draws index t * latent + c: a frame's noise does not
 * depend on anything but the seed and its absolute position); mel_projection; vocoder; output
 * rate. The whole signal is converted at once in this version (no chunking yet: memory grows
 * with the input).
 *
 * A converter holds the loaded package and one engine session per component: one thread at a
 * time. */
#ifndef AUTOVOICE_SVC_H
#define AUTOVOICE_SVC_H

#include <stdint.h>

#include "autovoice/audio.h"
#include "autovoice/common.h"
#include "autovoice/f0.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct av_converter av_converter;

/* Loads the package in `model_dir`; `threads` as av_session_config (<= 0: one per CPU). */
av_status av_converter_create(const char *model_dir, int threads, av_converter **out, char *err,
                              size_t err_size);
void av_converter_free(av_converter *converter);

/* Named speakers of the package, and the sizes conversion needs. Strings live as long as the
 * converter. */
int av_converter_speaker_count(const av_converter *converter);
const char *av_converter_speaker_name(const av_converter *converter, int index);
int av_converter_speaker_dim(const av_converter *converter);
int av_converter_output_rate(const av_converter *converter);

typedef struct av_convert_config {
    const char *speaker;            /* a speaker name of the package (default: the first) ... */
    const float *speaker_embedding; /* ... or an embedding of av_converter_speaker_dim floats */
    double pitch_shift;             /* semitones, [-48, 48]; default 0 */
    double temperature;             /* noise scale; < 0 means the package's default */
    uint64_t seed;                  /* noise generator seed; default 0 */
    int output_rate;                /* Hz; 0 means the package's output rate */
    av_f0_method f0_method;         /* tracker when no contour is supplied; default pYIN */
    const av_f0_frame *f0;          /* optional supplied contour (times in s, any spacing) */
    int64_t n_f0;
} av_convert_config;
av_convert_config av_convert_config_default(void);

/* Converts `in` into a new signal *out (release with av_audio_free). On failure *out is empty
 * and av_converter_last_error says why. */
av_status av_convert(av_converter *converter, const av_audio *in, const av_convert_config *cfg,
                     av_audio *out);
const char *av_converter_last_error(const av_converter *converter);

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_SVC_H */
