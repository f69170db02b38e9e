/* autovoice: singing voice conversion with a model package (docs/MODEL_PACKAGE.md).
 *
 * Path (SPEC §2): input -> content-encoder rate -> peak normalisation over the whole signal ->
 * content_encoder; F0 (tracked, or supplied) -> pitch shift by 2^(s/12), clamped to the model's
 * range, unvoiced stays 0 -> pitch_encoder; both linearly interpolated to decoder frames;
 * conditioning = [content, pitch, speaker]; flow_decoder on noise x temperature from the
 * counter-based generator (frame t, channel c draws index t * latent + c: a frame's noise depends
 * on nothing but the seed and its absolute position); mel_projection; vocoder (Griffin-Lim when
 * the package has none); output rate.
 *
 * Long signals are converted in chunks of about `chunk_seconds` of decoder frames, so memory does
 * not grow with the length beyond a few floats per input sample. Each chunk runs the flow, mel
 * projection and vocoder over its frames plus their measured receptive fields (docs/CONVERSION.md),
 * so those stages give the same samples as a whole-signal run; the content encoder sees the chunk
 * plus `context_seconds` on each side, and its instance normalisation over that window is the one
 * difference from a whole-signal run. Neighbouring chunks overlap by `crossfade_seconds` and are
 * blended with a raised-cosine crossfade. F0 tracking and peak normalisation always see the whole
 * signal.
 *
 * A converter holds the loaded package and one engine session per component: one thread at a
 * time. Output is deterministic: the same input, package, configuration and thread count give
 * bit-identical samples. */
#ifndef AUTOVOICE_SVC_H
#define AUTOVOICE_SVC_H

#include <stdint.h>

#include "autovoice/audio.h"
#include "autovoice/common.h"
#include "autovoice/engine.h"
#include "autovoice/f0.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct av_converter av_converter;

/* Loads the package in `model_dir`; `threads` as av_session_config (<= 0: one per CPU). */
av_status av_converter_create(const char *model_dir, int threads, av_converter **out, char *err,
                              size_t err_size);
/* The same with every component's session made from session_cfg (threads, and device / GPU math
 * for a converter on a GPU: then the package's ONNX components run there, not its CPU plans).
 * GPU fp16 applies to the vocoder only; the other components run in fp32: they are small (tens
 * to hundreds of microseconds a chunk) and gain nothing from fp16 (measured on an H100), and the
 * content encoder's power spectrum overflows float16 on real audio (inf, then NaN output). */
av_status av_converter_create_with(const char *model_dir, const av_session_config *session_cfg,
                                   av_converter **out, char *err, size_t err_size);
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
    double chunk_seconds;           /* decoder-side chunk length; 0: the whole signal at once */
    double context_seconds;         /* content-encoder context on each side of a chunk */
    double crossfade_seconds;       /* overlap of neighbouring chunks */
    /* Called with the fraction done (0..1) after each stage and chunk; a non-zero return stops
     * the conversion with AV_STATUS_CANCELLED. Optional. */
    int (*progress)(void *user, double fraction);
    void *progress_user;
} av_convert_config;
av_convert_config av_convert_config_default(void);

/* Defaults of av_convert_config_default(): 10 s chunks (the `opt` profile of the builder), 1 s of
 * content context, 0.2 s crossfades. Chunks are at most AV_CONVERT_MAX_CHUNK_SECONDS long. */
#define AV_CONVERT_DEFAULT_CHUNK_SECONDS 10.0
#define AV_CONVERT_DEFAULT_CONTEXT_SECONDS 1.0
#define AV_CONVERT_DEFAULT_CROSSFADE_SECONDS 0.2
#define AV_CONVERT_MAX_CHUNK_SECONDS 30.0

/* Converts `in` into a new signal *out (release with av_audio_free). On failure *out is empty
 * and av_converter_last_error says why. */
av_status av_convert(av_converter *converter, const av_audio *in, const av_convert_config *cfg,
                     av_audio *out);
const char *av_converter_last_error(const av_converter *converter);

/* Reads `in_path` (any format av_audio_read takes), converts it and writes `out_path` in
 * `format` through av_audio_write (temporary file, then rename). Refuses to write over the input
 * (same path or same file) and, unless `overwrite` is non-zero, over an existing file. The
 * message of av_converter_last_error names the file at fault. */
av_status av_convert_file(av_converter *converter, const char *in_path, const char *out_path,
                          av_audio_format format, int overwrite, const av_convert_config *cfg);

/* Where the time of the last successful av_convert / av_convert_file went, in seconds of wall
 * time. */
typedef struct av_convert_stats {
    double input_seconds;         /* length of the input signal */
    double total;                 /* whole conversion (reading and writing files excluded) */
    double resample_in;           /* input to the content encoder's rate, peak normalisation */
    double f0;                    /* F0 tracking (0 with a supplied contour) */
    double content, pitch, flow, mel, vocoder; /* the components, summed over chunks */
    double assemble;              /* conditioning, noise, crossfades */
    double resample_out;          /* decoder rate to the output rate */
    int chunks;
    int flow_context_frames;      /* measured receptive fields used for the chunk margins */
    int mel_context_frames;
    int vocoder_context_frames;
    int griffin_lim;              /* 1 when the package has no vocoder */
    int64_t clipped;              /* samples clipped when writing (av_convert_file only) */
} av_convert_stats;
av_status av_converter_last_stats(const av_converter *converter, av_convert_stats *stats);

/* Components of a model package, in pipeline order: content_encoder, pitch_encoder, flow_decoder,
 * mel_projection, vocoder. av_package_component names component `index` (0 ..
 * AV_PACKAGE_COMPONENTS - 1) of the package in model_dir (reading its model.yaml only): *name
 * (a static string), its ONNX file and the plan file `autovoice build --package` writes for it
 * (DIR/<name>.plan), each in path_size bytes. The converter loads that plan instead of the ONNX
 * file when it was built by this library version from the very same ONNX bytes.
 * AV_STATUS_NOT_FOUND: the package has no such component (a package without a vocoder). */
#define AV_PACKAGE_COMPONENTS 5
av_status av_package_component(const char *model_dir, int index, const char **name,
                               char *onnx_path, char *plan_path, size_t path_size, char *err,
                               size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_SVC_H */
