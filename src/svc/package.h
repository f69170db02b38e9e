/* Model packages: a directory with model.yaml (docs/MODEL_PACKAGE.md), speakers.npy and the
 * component ONNX files. Internal to the conversion pipeline. */
#ifndef AV_SVC_PACKAGE_H
#define AV_SVC_PACKAGE_H

#include "autovoice/engine.h"

enum { AV__COMP_CONTENT, AV__COMP_PITCH, AV__COMP_FLOW, AV__COMP_MEL, AV__COMP_VOCODER,
       AV__COMP_COUNT };

typedef struct av__package {
    char name[128];
    char preset[32];
    /* content encoder front end */
    int content_rate;
    int content_hop; /* input samples per content frame (frames centred on multiples of it) */
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
} av__package;

/* Loads and checks DIR/model.yaml, the speaker table and every component. Messages name the file
 * and the key or component at fault. */
av_status av__package_load(const char *dir, av__package *pkg, char *err, size_t err_size);
void av__package_free(av__package *pkg);

/* Index of speaker `name`, or -1. */
int av__package_find_speaker(const av__package *pkg, const char *name);

#endif /* AV_SVC_PACKAGE_H */
