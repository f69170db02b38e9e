/* The engine builder's configuration: the `tensorrt:` block of config/model_config.yaml (or of a
 * package's model.yaml), kept under the original system's name and nesting. docs/BUILDER.md
 * lists every key for users; the schema in short:
 *
 *   tensorrt:
 *     voice_conversion:
 *       precision: {fp16: BOOL, bf16: BOOL, int8: BOOL, strict_types: BOOL}
 *       workspace_mb: INT                       1 .. 1048576
 *       dynamic_shapes:
 *         COMPONENT: {INPUT: {min: [INT, ...], opt: [...], max: [...]}, ...}
 *       int8_calibration: {method: entropy|minmax|percentile, percentile: NUMBER in (0, 100],
 *                          data: PATH, cache_dir: PATH, batches: INT 1 .. 1000000}
 *       keep_precision: {COMPONENT: [LAYER or first_conv|upsamplers|last_conv, ...]}
 *
 * COMPONENT is content_encoder, pitch_encoder, flow_decoder, mel_projection or vocoder; INPUT one
 * of that component's graph inputs (docs/MODEL_PACKAGE.md). Every key is optional (a missing one
 * keeps av__build_config_default()'s value) except min/opt/max of a profile. Keys outside the
 * `tensorrt` block belong to other readers and are ignored; inside it, an unknown or repeated key,
 * a wrong type or an out-of-range value is an error whose message starts "FILE:LINE:COLUMN: " and
 * names the key path (e.g. tensorrt.voice_conversion.dynamic_shapes.vocoder.mel_input.max[2]).
 * Types: booleans and integers must be plain (unquoted) YAML scalars; BOOL is true/false (also
 * True/TRUE/False/FALSE); strings may be quoted or not and must be non-empty.
 *
 * Profiles: 1 to AV__BUILD_MAX_RANK dimensions, min/opt/max of the same rank, every dimension
 * >= 1 and min <= opt <= max per dimension. The rank against the model's input is the builder's
 * check (it knows the graph). Paths (data, cache_dir) are kept as written; the builder resolves
 * relative ones against the working directory, as the original did. */
#ifndef AV_BUILDER_BUILD_CONFIG_H
#define AV_BUILDER_BUILD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"
#include "builder/calibrate.h"

#define AV__BUILD_MAX_RANK 8

/* One optimisation profile: the shapes a dynamic input may take. */
typedef struct av__build_profile {
    const char *component; /* static strings: one of the COMPONENT and INPUT names above */
    const char *input;
    int rank;
    int64_t min[AV__BUILD_MAX_RANK], opt[AV__BUILD_MAX_RANK], max[AV__BUILD_MAX_RANK];
} av__build_profile;

/* Layers of one component that must stay in higher precision (not int8; fp32 or bf16). */
typedef struct av__build_keep {
    const char *component; /* static string */
    size_t count;
    char **layers; /* ONNX node names or the groups first_conv, upsamplers, last_conv */
} av__build_keep;

typedef struct av__build_config {
    /* precisions the builder may use besides fp32 */
    int fp16, bf16, int8;
    int strict_types;     /* 1: layers keep the precision they are given (no faster fallback) */
    int64_t workspace_mb; /* scratch memory limit in MiB; 0 = not set (the builder's default) */

    av__build_profile *profiles; /* profile_count entries, in file order */
    size_t profile_count;

    struct {
        av__calib_method method;
        double percentile; /* used by PERCENTILE */
        char *data;        /* NPZ file or audio directory; NULL = not set */
        char *cache_dir;   /* where calibration caches go; NULL = not set */
        int batches;       /* calibration batches to use */
    } calib;

    av__build_keep *keep; /* keep_count entries, in file order */
    size_t keep_count;
} av__build_config;

/* Everything off or empty: no fp16/bf16/int8, no strict types, workspace 0 (not set), no
 * profiles, calibration entropy / 99.99 / no data / no cache_dir / 32 batches, nothing kept. */
av__build_config av__build_config_default(void);

/* Parses the YAML file `path` into *cfg (which need not be initialised; on failure it is left
 * as av__build_config_default()). Errors: IO (cannot read), NOT_FOUND (valid YAML without a
 * `tensorrt` key: the caller may fall back to another file), FORMAT ("path:line:column: ..."),
 * OUT_OF_MEMORY, INVALID_ARGUMENT (NULL). */
av_status av__build_config_load(const char *path, av__build_config *cfg, char *err,
                                size_t err_size);

/* The same from memory: text[0..len), `name` standing for the file in messages. */
av_status av__build_config_parse(const char *text, size_t len, const char *name,
                                 av__build_config *cfg, char *err, size_t err_size);

/* Frees what a successful load/parse allocated and leaves *cfg as the default. NULL is a no-op. */
void av__build_config_free(av__build_config *cfg);

/* The profile of `input` of `component`, or NULL when the configuration has none. The pointer
 * lives as long as *cfg. */
const av__build_profile *av__build_config_profile(const av__build_config *cfg,
                                                  const char *component, const char *input);

/* The keep_precision list of `component`, or NULL. */
const av__build_keep *av__build_config_keep(const av__build_config *cfg, const char *component);

/* 1 when `layer` is one of the named groups first_conv, upsamplers, last_conv, else 0. */
int av__build_keep_is_group(const char *layer);

#endif /* AV_BUILDER_BUILD_CONFIG_H */
