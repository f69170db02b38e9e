/* Calibration inputs from audio files (docs/BUILDER.md, "Calibration from audio"): every audio
 * file of a directory is converted by the model package's float32 pipeline (src/svc/convert.c,
 * its ONNX files, never its plans), and the inputs the converter gives one component are kept,
 * one batch per run of that component (a file of several chunks gives several). Internal to the
 * builder. */
#ifndef AV_BUILDER_CALIB_AUDIO_H
#define AV_BUILDER_CALIB_AUDIO_H

#include <stddef.h>

#include "autovoice/common.h"
#include "graph/ir.h"

/* The audio files of `dir`, by name: regular files, not hidden, whose extension (any case) is
 * wav, wave, flac, ogg, oga, mp3, aif or aiff; sorted by strcmp of their names. *paths gets
 * *count "dir/name" strings (free with av__calib_audio_list_free). A directory without one is
 * INVALID_ARGUMENT with "DIR: no audio files ...". Errors: IO (cannot open DIR), OUT_OF_MEMORY. */
av_status av__calib_audio_list(const char *dir, char ***paths, size_t *count, char *err,
                               size_t err_size);
void av__calib_audio_list_free(char **paths, size_t count);

typedef struct av__calib_audio_request {
    const char *audio_dir;   /* the audio files (av__calib_audio_list) */
    const char *package_dir; /* the model package whose pipeline converts them */
    const char *component;   /* whose inputs are kept: "content_encoder", ..., "vocoder" */
    const av__graph *g;      /* the model being built: its graph inputs, in order, are what a
                                batch holds (matched by name; dtype and rank must agree) */
    int max_batches;         /* stop once this many batches are kept (>= 1) */
    int threads;             /* the converter's threads; <= 0: one per online CPU */
} av__calib_audio_request;

/* Runs the files in order until r->max_batches batches are kept or the files run out. *batches
 * gets (*n_batches) * g->n_inputs tensors, [batch * n_inputs + input], each with its own shape
 * and av__aligned_alloc'ed data (free each data with av__aligned_free, then the array with
 * av__free); *n_files the files used. The converter's settings are av_convert_config_default()'s
 * (the package's first speaker and temperature, noise seed 0, 10-s chunks). Errors name the
 * audio file at fault (unreadable, too short, a conversion failure), the directory (no audio),
 * the package (cannot load) or the input (the converter gives none of that name or another
 * dtype or rank); a component the pipeline never ran (a package without that component) is
 * INVALID_ARGUMENT. */
av_status av__calib_audio_collect(const av__calib_audio_request *r, av__tensor **batches,
                                  int *n_batches, int *n_files, char *err, size_t err_size);

#endif /* AV_BUILDER_CALIB_AUDIO_H */
