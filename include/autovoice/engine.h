/* autovoice: the inference engine. Loads ONNX models and runs them on the CPU.
 *
 * An av_model is read-only once loaded: one model may be shared by any number of threads, each
 * with its own av_session. A session holds the per-run state (the execution plan for the current
 * input shapes, one memory arena, the thread pool) and is used by one thread at a time.
 *
 * Typical use:
 *   av_model *m; av_session *s; char err[512];
 *   if (av_model_load("vocoder.onnx", &m, err, sizeof err)) { fprintf(stderr, "%s\n", err); ... }
 *   av_session_config cfg = av_session_config_default();
 *   av_session_create(m, &cfg, &s, err, sizeof err);
 *   av_session_set_input(s, "mel_input", AV_DTYPE_FLOAT32, 3, (int64_t[]){1, 80, 87}, mel);
 *   if (av_session_run(s)) fprintf(stderr, "%s\n", av_session_last_error(s));
 *   av_session_get_output(s, "audio_output", &out);
 *   av_session_free(s); av_model_free(m);
 */
#ifndef AUTOVOICE_ENGINE_H
#define AUTOVOICE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum av_dtype {
    AV_DTYPE_UNDEFINED = 0,
    AV_DTYPE_FLOAT32 = 1,
    AV_DTYPE_UINT8 = 2,
    AV_DTYPE_INT8 = 3,
    AV_DTYPE_UINT16 = 4,
    AV_DTYPE_INT16 = 5,
    AV_DTYPE_INT32 = 6,
    AV_DTYPE_INT64 = 7,
    AV_DTYPE_BOOL = 9,
    AV_DTYPE_FLOAT16 = 10,
    AV_DTYPE_FLOAT64 = 11,
    AV_DTYPE_UINT32 = 12,
    AV_DTYPE_UINT64 = 13,
    AV_DTYPE_BFLOAT16 = 16
} av_dtype;

/* "float32", "int64", ...; "unknown" otherwise. Bytes per element: av_dtype_size (0 if unknown). */
const char *av_dtype_name(av_dtype dtype);
size_t av_dtype_size(av_dtype dtype);

#define AV_MAX_DIMS 8

/* A tensor as the API exchanges it: dense, C order. Pointers are borrowed (see each function). */
typedef struct av_tensor {
    const char *name;
    av_dtype dtype;
    int ndim;                      /* -1: rank unknown (model description only) */
    int64_t shape[AV_MAX_DIMS];    /* -1: size not fixed by the model (symbolic or unknown) */
    const char *dim_names[AV_MAX_DIMS]; /* symbolic names ("batch", "time_steps") or NULL */
    const void *data;              /* NULL in model descriptions */
} av_tensor;

typedef struct av_model av_model;
typedef struct av_session av_session;

/* Loads an ONNX model (IR version >= 3, default-domain opset <= 18) from a file; external data
 * files are looked up beside it. Checks that every operator is supported, folds constants,
 * removes dead and duplicate nodes, folds weight norm, BatchNormalization and zero Pads into
 * convolutions and fuses pointwise chains (av_model_pass says what each pass did). A plan file
 * (see "plans" below; recognised by its first bytes, or refused as a damaged plan when its name
 * ends in ".plan") is loaded instead, mapped read-only. On failure *out is NULL and err gets
 * one line naming the file and the problem (for an unsupported operator: the operator and the
 * node). */
av_status av_model_load(const char *path, av_model **out, char *err, size_t err_size);
/* The same from memory (ONNX or a plan); base_dir locates external data (NULL: external data
 * refused). The bytes are not referenced after the call. */
av_status av_model_load_memory(const void *data, size_t size, const char *base_dir,
                               av_model **out, char *err, size_t err_size);
void av_model_free(av_model *model);

/* The model's graph inputs and outputs, with declared dtypes and shapes. The name and dim_names
 * strings live as long as the model. */
int av_model_input_count(const av_model *model);
int av_model_output_count(const av_model *model);
av_status av_model_input(const av_model *model, int index, av_tensor *info);
av_status av_model_output(const av_model *model, int index, av_tensor *info);

/* Facts for `autovoice inspect`: node count after optimisation, parameters (elements of all
 * constant tensors), and per-operator node counts through av_model_op_histogram. */
typedef struct av_model_stats {
    int nodes;
    int64_t parameters;
    int64_t opset;
    int64_t ir_version;
    const char *producer;
} av_model_stats;
av_status av_model_get_stats(const av_model *model, av_model_stats *stats);
/* Calls fn(op_type, count, user) for each operator type present, most frequent first. */
void av_model_op_histogram(const av_model *model,
                           void (*fn)(const char *op_type, int count, void *user), void *user);

/* What each load pass did, in the order they ran (docs/ENGINE.md, "Load-time passes"): nodes it
 * removed, nodes it added (fused nodes) and places it rewrote (constants folded, weights
 * folded, chains fused, ...). A plan reports none: its passes ran when it was built. The name
 * is a static string. */
typedef struct av_model_pass_info {
    const char *name;
    int nodes_removed;
    int nodes_added;
    int rewrites;
} av_model_pass_info;
int av_model_pass_count(const av_model *model);
av_status av_model_pass(const av_model *model, int index, av_model_pass_info *info);

/* Where a session runs. */
typedef enum av_device_kind {
    AV_DEVICE_CPU = 0,
    AV_DEVICE_CUDA = 1             /* an NVIDIA GPU through the CUDA backend (when built) */
} av_device_kind;

/* How a CUDA session does float math. */
typedef enum av_gpu_math {
    AV_GPU_FP32 = 0,               /* float32 storage and arithmetic */
    AV_GPU_TF32 = 1,               /* float32 storage; convolutions / products on TF32 cores */
    AV_GPU_FP16 = 2                /* float16 storage; products in fp16 with float32
                                      accumulation; pointwise math in float32 registers */
} av_gpu_math;
/* "fp32", "tf32", "fp16"; "unknown" otherwise. */
const char *av_gpu_math_name(av_gpu_math math);

/* Parses "cpu", "cuda" or "cuda:N" into *kind and *index (0 for "cpu" and "cuda").
 * AV_STATUS_INVALID_ARGUMENT with a message for anything else. Does not look for the device. */
av_status av_device_parse(const char *text, av_device_kind *kind, int *index, char *err,
                          size_t err_size);

typedef struct av_session_config {
    int threads;       /* worker threads for this session; <= 0 means one per online CPU */
    uint64_t seed;     /* generator seed for random operators that carry no seed attribute */
    av_device_kind device;  /* AV_DEVICE_CPU (default) or AV_DEVICE_CUDA */
    int device_index;       /* CUDA: which GPU (cuda:N); default 0 */
    av_gpu_math gpu_math;   /* CUDA: default AV_GPU_FP32 */
} av_session_config;
av_session_config av_session_config_default(void);

av_status av_session_create(const av_model *model, const av_session_config *config,
                            av_session **out, char *err, size_t err_size);
void av_session_free(av_session *session);

/* Binds input `name` to caller memory: dtype and shape must agree with the model's declaration
 * (fixed dimensions must match; symbolic ones are free). The session keeps the pointer, not a
 * copy: the data must stay valid and unchanged until av_session_run returns. */
av_status av_session_set_input(av_session *session, const char *name, av_dtype dtype, int ndim,
                               const int64_t *shape, const void *data);

/* Runs the model on the bound inputs. Plans (shape inference, folding, memory layout) only when
 * input shapes, or the values of inputs that decide shapes, changed since the last run. */
av_status av_session_run(av_session *session);

/* Plans for the bound inputs (as av_session_run does before its first run, or after shapes
 * change) without running: for `inspect`, and to move planning out of a timed loop. */
av_status av_session_prepare(av_session *session);

/* Output `name` of the last successful run. info->data points into the session and stays valid
 * until the next run or av_session_free. */
av_status av_session_get_output(av_session *session, const char *name, av_tensor *info);

/* One line describing the last error of this session ("" if none). Valid until the next call. */
const char *av_session_last_error(const av_session *session);

/* Memory facts of the current plan: the arena holding every intermediate tensor, plus tensors
 * computed once at planning time. 0 before the first run. */
typedef struct av_session_memory {
    size_t arena_bytes;
    size_t planned_bytes;       /* tensors folded at plan time (shape computations) */
    size_t naive_bytes;         /* what the intermediates would take without reuse */
    int runtime_nodes;          /* nodes executed per run */
    double gflop;               /* estimated GFLOP per run (convolutions and matrix products) */
    int in_place_nodes;         /* nodes that write their output over their dying input */
    /* CUDA sessions (0 on the CPU): */
    size_t device_bytes;        /* GPU memory the plan holds (arena, scratch, plan-time values) */
    int cpu_fallback_nodes;     /* runtime nodes that run on the CPU for want of a GPU kernel */
    int graph_replay;           /* 1 once runs replay one captured CUDA graph */
    double device_ms;           /* GPU time of the last run's nodes (CUDA events; without the
                                   input upload and output download), 0 before a run */
} av_session_memory;
av_status av_session_get_memory(const av_session *session, av_session_memory *memory);

/* Runs the model once node by node and reports each runtime node's time, in execution order:
 * GPU time by CUDA events around each node on a CUDA session (launched one by one, not as the
 * captured graph), wall time on the CPU. `node` is the node's name ("#index" when unnamed). For
 * finding where the time goes (`autovoice run --profile`); outputs are not valid afterwards. */
typedef void (*av_node_time_fn)(const char *node, const char *op_type, double ms, void *user);
av_status av_session_profile(av_session *session, av_node_time_fn fn, void *user);

/* One line about where a session runs ("cpu, 2 threads" or "cuda:0, fp16, CUDA graph"), then,
 * for a planned CUDA session, one line per node that runs on the CPU fallback and why. */
av_status av_session_describe_device(const av_session *session, char *out, size_t size);

/* ---- plans: models built ahead of time (`autovoice build`; docs/BUILDER.md) -------------------
 *
 * A plan file holds a model after the load passes, the target it was built for (CPU features),
 * a precision per node and optimisation profiles; its weights are mapped read-only and used in
 * place. av_model_load takes a plan wherever it takes ONNX (it looks at the first bytes); a plan
 * built by another library or format version, for a CPU feature this machine lacks, or damaged
 * is refused with a message that says how to rebuild it. */

typedef enum av_precision {
    AV_PRECISION_FP32 = 1,
    AV_PRECISION_FP16 = 2,
    AV_PRECISION_BF16 = 3,
    AV_PRECISION_INT8 = 4,
    AV_PRECISION_BEST = 5          /* a build request: the fastest the build allows, per layer */
} av_precision;
/* "fp32", "fp16", "bf16", "int8", "best"; "unknown" otherwise. */
const char *av_precision_name(av_precision precision);

/* An optimisation profile: the shapes input `input` may take in a session on the plan. */
typedef struct av_plan_profile {
    const char *input;
    int ndim;                      /* 1 .. AV_MAX_DIMS */
    int64_t min[AV_MAX_DIMS], opt[AV_MAX_DIMS], max[AV_MAX_DIMS]; /* 1 <= min <= opt <= max */
} av_plan_profile;

typedef struct av_plan_options {
    av_precision precision;        /* FP32, BF16 or INT8 (BEST: INT8); FP16: UNSUPPORTED */
    /* The ONNX file the model was loaded from: its size, mtime and a hash of its bytes go into
     * the plan so a package can tell whether the plan is still fresh. NULL: none recorded (when
     * re-saving a plan, its own record is kept). */
    const char *source_path;
    /* A build configuration with a `tensorrt` block (config/model_config.yaml's schema) and the
     * component whose dynamic_shapes profiles apply ("vocoder", ...). Both NULL: none. A file
     * without a `tensorrt` block is AV_STATUS_NOT_FOUND. */
    const char *config_path;
    const char *component;
    /* Explicit profiles; each replaces the configuration's profile of the same input. */
    const av_plan_profile *profiles;
    int n_profiles;
    /* ---- reduced precision, tactics and the build report (docs/BUILDER.md) ----
     * Inputs for calibration and for the accuracy report: an .npz file whose keys are
     * COMPONENT/INPUT (or INPUT), or a directory of audio files, converted by the float32
     * pipeline of the model package source_path is in, whose inputs to `component` are kept;
     * NULL: the configuration's int8_calibration.data, else deterministic synthetic inputs at
     * each profile's opt shape. */
    const char *calib_path;
    /* "entropy", "minmax" or "percentile"; NULL: the configuration's method (entropy). */
    const char *calib_method;
    /* A calibration cache (TensorRT's text format, docs/BUILDER.md): used when it was made for
     * this model and these settings, written after calibrating otherwise. NULL: none. */
    const char *calib_cache;
    /* Threads for calibration, tactic timing and the report; <= 0: one per online CPU. */
    int threads;
    /* fp32 convolutions: 0 im2col + SGEMM (outputs bit-identical to the ONNX file's); 1 time
     * each convolution both ways at the profiles' opt shapes and keep the faster per layer
     * (oneDNN: channels-last, fused); 2 oneDNN without timing. bf16 and int8 plans always use
     * oneDNN. */
    int tactics;
    /* int8: a layer whose int8 output, on the first calibration batch with float32 inputs, has
     * an SNR below this many dB against float32 stays bf16 (fp32 without AVX512-BF16). <= 0:
     * 30 dB. */
    double int8_min_snr_db;
    /* Receives the build's report, one line per call, no newline: which layer runs in which
     * precision and why, and the accuracy of the plan against the float32 model. NULL: none. */
    void (*report)(void *user, const char *line);
    void *report_user;
    /* tactics 1: a timing cache file (docs/BUILDER.md, "Tactics and the timing cache"): the
     * per-layer timings it holds for this CPU, oneDNN and library version are reused instead of
     * measured, and the file is rewritten with every timing of the build; a file made elsewhere
     * is replaced, a corrupt one is an error. NULL: none. */
    const char *timing_cache;
    /* tactics 1 or 2: the most scratch memory, in bytes, a layer's kernel may use; a tactic
     * that needs more is not chosen. 0: the configuration's workspace_mb, else no bound. */
    int64_t workspace_bytes;
    /* bf16 / int8: after the per-layer choices, the plan's worst float output on the first
     * calibration batch must reach this SNR (dB) against the float32 model; when it does not,
     * the fewest leading reduced-precision convolutions (in graph order, found by bisection) go
     * back to fp32 until it does, and the report names them. 0: 35 dB for bf16, 30 dB for
     * int8; < 0: no end-to-end check. */
    double min_output_snr_db;
} av_plan_options;
/* fp32, nothing recorded, no configuration, no profiles, synthetic inputs, no cache, all CPUs,
 * no tactics, 30 dB, no report, no timing cache, no workspace bound, the default end-to-end
 * bound. */
av_plan_options av_plan_options_default(void);

/* Writes `model` as a plan to `path` (through PATH.tmp, fsync'ed and renamed into place, so a
 * reader never sees half a plan and a failed build leaves the old one). Profiles must name graph
 * inputs, match their rank, and keep dimensions the model fixes at that value. The model may
 * itself come from a plan. err names the file or the profile at fault. */
av_status av_model_save_plan(const av_model *model, const char *path,
                             const av_plan_options *options, char *err, size_t err_size);

/* 1 when the model was loaded from a plan, else 0. */
int av_model_is_plan(const av_model *model);

/* What a plan records, for `autovoice inspect`. Strings live as long as the model. */
typedef struct av_plan_info {
    int format_version;
    const char *library_version;   /* of the build */
    const char *target;            /* "cpu x86-64" */
    const char *cpu_needed;        /* feature names, "none" when the plan runs on any x86-64 */
    const char *cpu_built_on;
    av_precision precision;        /* the precision the build was asked for */
    int nodes_by_precision[6];     /* nodes per av_precision (index AV_PRECISION_FP32, ...) */
    const char *component;         /* "" for a standalone model */
    const char *source_path;       /* "" when not recorded */
    int64_t source_size;
    int64_t source_mtime_ns;
    uint64_t source_hash;
    int n_profiles;
    int64_t file_bytes, weight_bytes;
} av_plan_info;
/* AV_STATUS_NOT_FOUND for a model loaded from ONNX. */
av_status av_model_plan_info(const av_model *model, av_plan_info *info);
/* Profile `index` (0 .. n_profiles - 1) of a plan; the name lives as long as the model. */
av_status av_model_plan_profile(const av_model *model, int index, av_plan_profile *profile);

/* Checks a build configuration file: AV_STATUS_OK when it has a valid `tensorrt` block,
 * AV_STATUS_NOT_FOUND when it is valid YAML without one (a model.yaml may have none), otherwise
 * the parse error ("FILE:LINE:COLUMN: ...") in err. */
av_status av_build_config_check(const char *path, char *err, size_t err_size);

/* NumPy .npy files as tensors (little-endian numeric dtypes, any rank up to AV_MAX_DIMS).
 * av_npy_read fills *out with a new buffer (release with av_npy_free; name is NULL);
 * av_npy_write writes PATH.tmp and renames it over PATH. Errors name the file. */
av_status av_npy_read(const char *path, av_tensor *out, char *err, size_t err_size);
av_status av_npy_write(const char *path, const av_tensor *tensor, char *err, size_t err_size);
void av_npy_free(av_tensor *tensor);

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_ENGINE_H */
