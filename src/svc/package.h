/* Model packages: a directory with model.yaml (docs/MODEL_PACKAGE.md), speakers.npy and the
 * component ONNX files. Internal to the conversion pipeline. */
#ifndef AV_SVC_PACKAGE_H
#define AV_SVC_PACKAGE_H

#include <stddef.h>

#include "autovoice/engine.h"
#include "dsp/mel.h"

enum { AV__COMP_CONTENT, AV__COMP_PITCH, AV__COMP_FLOW, AV__COMP_MEL, AV__COMP_VOCODER,
       AV__COMP_COUNT };

typedef struct av__package {
    char name[128];
    char preset[32];
    /* content encoder front end */
    int content_rate;
    int content_hop; /* input samples per content frame (frames centred on multiples of it);
                        = content_mel.hop_length */
    /* decoder / vocoder */
    int decoder_rate;
    int hop_length;
    /* pitch */
    double f0_min, f0_max, f0_frame_rate;
    /* dimensions */
    int dim_content, dim_pitch, dim_speaker, dim_cond, dim_latent, dim_mel;
    double temperature;
    int output_rate;
    /* speakers: count rows of dim_speaker floats, names in order */
    int n_speakers;
    char (*speaker_names)[64];
    float *speakers;
    /* components (the vocoder may be absent) */
    av_model *models[AV__COMP_COUNT];
    /* the mel blocks: content_encoder.mel (sample_rate = content_rate) and decoder.mel
     * (sample_rate = decoder_rate, hop_length = hop_length, n_mels = dim_mel); both pass
     * av__mel_spec_check */
    av__mel_spec content_mel, decoder_mel;
    /* files named by model.yaml, relative to the package directory and checked to stay inside
     * it (no absolute path, no ".." component); "" for an absent vocoder */
    char component_files[AV__COMP_COUNT][256];
    char speakers_file[256];
} av__package;

/* model.yaml texts longer than this are refused (a real one is about 2 KB). */
#define AV__PACKAGE_YAML_MAX_BYTES (1 << 20)

/* Parses and checks the text of a model.yaml (docs/MODEL_PACKAGE.md) of `len` bytes, touching no
 * file: fills every field of *pkg except `speakers` and `models` (speaker_names and n_speakers
 * come from speakers.names; component_files and speakers_file are recorded, not opened). Every
 * key is checked: a missing key, a wrong type (a list or mapping where a value belongs, a value
 * that is not a number, not an integer, not true/false), an unknown enum value, a number out of
 * range, an inconsistent combination. Messages start with `name` (the file, for the user; NULL
 * reads "model.yaml") and quote the key, e.g. "pkg/model.yaml: 'decoder.mel.mel_scale' is 'mel',
 * expected one of htk, slaney". On error *pkg is left empty (nothing to free); on success release
 * it with av__package_free. Any bytes are safe to pass. Thread-safe. */
av_status av__package_parse_yaml(const char *text, size_t len, const char *name, av__package *pkg,
                                 char *err, size_t err_size);

/* Loads and checks DIR/model.yaml (through av__package_parse_yaml), the speaker table and every
 * component. Messages name the file and the key or component at fault. */
av_status av__package_load(const char *dir, av__package *pkg, char *err, size_t err_size);
void av__package_free(av__package *pkg);

/* Index of speaker `name`, or -1. */
int av__package_find_speaker(const av__package *pkg, const char *name);

#endif /* AV_SVC_PACKAGE_H */
