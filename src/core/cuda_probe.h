/* What the library knows about NVIDIA GPUs. Implemented in src/cuda/ when the CUDA backend is
 * built, and by a CPU-only stand-in in src/core/build_info.c otherwise. */
#ifndef AV_CORE_CUDA_PROBE_H
#define AV_CORE_CUDA_PROBE_H

#include <stddef.h>

#include "autovoice/common.h"

/* 1 when the CUDA backend is compiled in, else 0. */
int av__cuda_built(void);

/* Space-separated SM architectures compiled in ("80 90"), or "" without CUDA. */
const char *av__cuda_architectures(void);

/* Number of usable CUDA devices into *count (0 when none, or the backend is not built).
 * On a driver error returns AV_STATUS_DEVICE with the driver's text in err. */
av_status av__cuda_device_count(int *count, char *err, size_t err_size);

/* Name and compute capability of device `index`, written as "NAME (sm_XY, N MiB)". */
av_status av__cuda_device_describe(int index, char *out, size_t out_size);

/* Runs a small kernel on device `index` and checks its result on the host: proves the compiled
 * code matches the device and the driver works. AV_STATUS_UNSUPPORTED without CUDA. */
av_status av__cuda_selftest(int index, char *err, size_t err_size);

#endif /* AV_CORE_CUDA_PROBE_H */
