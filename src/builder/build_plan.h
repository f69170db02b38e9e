/* The builder's driver for reduced-precision and tactic-timed plans (docs/BUILDER.md,
 * "Precision"): from a loaded model to the graph a plan stores.
 *
 *   1. reference inputs: the .npz calibration file's batches, those an audio directory gives
 *      through the conversion pipeline (calib_audio.h), or synthetic ones at the profiles'
 *      opt shapes;
 *   2. one float32 run on the first batch records every value's shape and tries oneDNN on every
 *      Conv / ConvTranspose;
 *   3. stage A (build_graph.h): FusedConv nodes, channels-last;
 *   4. fp32: with tactics, each convolution timed with im2col + SGEMM and with oneDNN and the
 *      faster kept (build_tactics.h), then stage A on the oneDNN ones;
 *      bf16: every FusedConv but the keep_precision ones in bf16;
 *      int8: calibration of every int8 convolution's input (collectors of calibrate.h, two
 *      passes for entropy / percentile, or the cache), then each layer tried alone in int8 on
 *      the first batch: below the SNR bound it stays bf16; kept layers are bf16;
 *   5. stage C; sessions planned at the profiles' min and max check that every primitive exists;
 *   6. the report: layers and precisions, the accuracy of the new graph against the float32
 *      model on the reference inputs (max / mean abs diff, RMSE, Pearson, SNR per output).
 * The model is only read: other threads may use it meanwhile. */
#ifndef AV_BUILDER_BUILD_PLAN_H
#define AV_BUILDER_BUILD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/engine.h"
#include "builder/build_config.h"
#include "graph/ir.h"

typedef struct av__build_shape {
    const char *input;
    int ndim;
    int64_t min[AV_MAX_DIMS], opt[AV_MAX_DIMS], max[AV_MAX_DIMS];
} av__build_shape;

typedef struct av__build_request {
    av_precision precision;          /* FP32 (with o->tactics), BF16, INT8 */
    const char *component;           /* NULL or "" for a standalone model */
    const av__build_config *cfg;     /* keep_precision, int8_calibration; never NULL */
    const av__build_shape *profiles; /* the plan's profiles, checked against the model */
    int n_profiles;
    const av_plan_options *o;        /* calibration, cache, threads, tactics, bound, report */
} av__build_request;

/* The graph a plan of m should store (a new graph the caller frees with av__graph_free). FP32
 * without tactics is a plain copy. Errors name the input, file or layer at fault. */
av_status av__build_graph(const av_model *m, const av__build_request *req, av__graph **out,
                          char *err, size_t err_size);

#endif /* AV_BUILDER_BUILD_PLAN_H */
