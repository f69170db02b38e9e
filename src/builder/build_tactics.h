/* Per-layer tactic choice for fp32 plans (`autovoice build --tactics`, `--onednn`;
 * docs/BUILDER.md, "Tactics and the timing cache"): for every Conv / ConvTranspose that oneDNN
 * can run, the im2col + SGEMM kernel and oneDNN's channels-last fp32 convolution are each timed
 * alone on the layer's input at the reference shapes (best of AV__TACTIC_REPS runs after one
 * warm-up, on the build's threads), and the faster is kept. SGEMM's time includes the engine's
 * Transpose of the layer's input and of its output: choosing it inside oneDNN's channels-last
 * region costs those two layout changes (neighbouring SGEMM layers share them, so the estimate
 * leans to oneDNN). Timings come from and go to the
 * timing cache (timing_cache.h). A workspace bound excludes a tactic whose scratch exceeds it.
 * The choice then feeds stage A (build_graph.h) as its `usable` flags. Internal to the builder.
 *
 * A layer's timings are cached under its signature: operator, batch, channels, group, spatial
 * input, kernel, stride, dilation, pads and output sizes, bias, precision and thread count, e.g.
 * "Conv:n1:c80:o512:g1:in862:k7:s1:d1:pb3:pe3:out862:b1:fp32:t2"; the CPU, oneDNN and library
 * versions are the cache file's own (timing_cache.h). */
#ifndef AV_BUILDER_BUILD_TACTICS_H
#define AV_BUILDER_BUILD_TACTICS_H

#include <stddef.h>

#include "builder/build_plan.h"
#include "graph/ir.h"

#define AV__TACTIC_REPS 3

/* Decides, for each node n of m's graph with usable[n] = 1 on entry (oneDNN can run it; stage
 * A's candidates), whether it runs through oneDNN (usable[n] stays 1) or im2col + SGEMM (set to
 * 0). `batch` holds one tensor per graph input (the reference inputs' first batch), `shapes`
 * every value's tensor on it (data unused; ndim -1 when unknown): layers whose timings are all
 * cached, and every layer of an untimed choice, are decided from the shapes without a run. With
 * req->o->tactics == 1 the layers are timed (or their timings taken from
 * req->o->timing_cache); with 2 oneDNN is taken untimed, except where the workspace bound
 * (req->o->workspace_bytes, else the configuration's workspace_mb) excludes it. Reports each
 * layer and a summary through req->o->report. Errors: a corrupt timing cache ("FILE:LINE: ..."),
 * a session or oneDNN failure, OUT_OF_MEMORY. */
av_status av__build_choose_tactics(const av_model *m, const av__build_request *req,
                                   const av__tensor *batch, const av__tensor *shapes,
                                   unsigned char *usable, char *err, size_t err_size);

#endif /* AV_BUILDER_BUILD_TACTICS_H */
