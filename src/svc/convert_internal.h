/* Internal hooks of the conversion pipeline (src/svc/convert.c) for the engine builder, which
 * calibrates int8 plans on the inputs the converter gives each component (docs/BUILDER.md,
 * "Calibration from audio"). Not part of the public API. */
#ifndef AV_SVC_CONVERT_INTERNAL_H
#define AV_SVC_CONVERT_INTERNAL_H

#include <stddef.h>

#include "autovoice/engine.h"
#include "autovoice/svc.h"

/* Called once per component run of av_convert, just before the run, with the component's name
 * ("content_encoder", "pitch_encoder", "flow_decoder", "mel_projection", "vocoder") and its
 * n_inputs bound inputs (name, dtype, ndim, shape, data), exactly what the session is given. The
 * tensors are valid during the call only. Not called for the receptive-field probes (synthetic
 * inputs the converter makes to measure each decoder-side component's context). A non-OK return
 * stops the conversion with that status (AV_STATUS_CANCELLED to stop early on purpose); the
 * message (err, err_size bytes) becomes the converter's last error, after the component name. */
typedef av_status (*av__convert_observer)(void *user, const char *component, int n_inputs,
                                          const av_tensor *inputs, char *err, size_t err_size);

/* A converter on the package in model_dir whose components always run their ONNX files (never
 * the package's plans: calibration needs the float32 models' activations), with `observer`
 * (NULL: none) called as above. Otherwise as av_converter_create_with. */
av_status av__converter_create_observed(const char *model_dir, const av_session_config *cfg,
                                        av__convert_observer observer, void *user,
                                        av_converter **out, char *err, size_t err_size);

#endif /* AV_SVC_CONVERT_INTERNAL_H */
