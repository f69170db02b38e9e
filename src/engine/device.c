/* Devices: parsing "cpu" / "cuda:N", the names of GPU math modes, and the stand-ins for the CUDA
 * backend's entry points (src/cuda/backend.h) in a build without it. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "cuda/backend.h"

const char *av_gpu_math_name(av_gpu_math math)
{
    switch (math) {
    case AV_GPU_FP32: return "fp32";
    case AV_GPU_TF32: return "tf32";
    case AV_GPU_FP16: return "fp16";
    }
    return "unknown";
}

av_status av_device_parse(const char *text, av_device_kind *kind, int *index, char *err,
                          size_t err_size)
{
    if (!text || !kind || !index)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_device_parse: NULL argument");
    *kind = AV_DEVICE_CPU;
    *index = 0;
    if (!strcmp(text, "cpu"))
        return AV_STATUS_OK;
    if (!strncmp(text, "cuda", 4)) {
        const char *rest = text + 4;
        if (!*rest) {
            *kind = AV_DEVICE_CUDA;
            return AV_STATUS_OK;
        }
        if (*rest == ':' && rest[1] >= '0' && rest[1] <= '9') {
            char *end;
            long n = strtol(rest + 1, &end, 10);
            if (!*end && n >= 0 && n < 1024) {
                *kind = AV_DEVICE_CUDA;
                *index = (int)n;
                return AV_STATUS_OK;
            }
        }
    }
    return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                    "unknown device '%s' (cpu, cuda or cuda:N)", text);
}

#if !AV_HAVE_CUDA
#define NOT_BUILT "CUDA backend not built into this binary (configured without nvcc and cuDNN)"

av_status av__cuda_context_create(int device, av_gpu_math math, av__cuda_context **out, char *err,
                                  size_t err_size)
{
    (void)math;
    *out = NULL;
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, "cuda:%d: " NOT_BUILT, device);
}
void av__cuda_context_free(av__cuda_context *cx) { (void)cx; }
void av__cuda_context_set_conv_impl(av__cuda_context *cx, int impl, int config)
{
    (void)cx, (void)impl, (void)config;
}
int av__cuda_conv_own_configs(void) { return 0; }
void av__cuda_context_conv_counts(const av__cuda_context *cx, int *own, int *cudnn)
{
    (void)cx;
    *own = *cudnn = 0;
}
av_status av__cuda_plan_create(av__cuda_context *cx, const av__graph *g, const av__cuda_value *values,
                               const av__cuda_step *steps, int n_steps, size_t arena_bytes,
                               uint64_t seed, av__cuda_plan **out, char *err, size_t err_size)
{
    (void)cx, (void)g, (void)values, (void)steps, (void)n_steps, (void)arena_bytes, (void)seed;
    *out = NULL;
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, NOT_BUILT);
}
void av__cuda_plan_free(av__cuda_plan *p) { (void)p; }
av_status av__cuda_plan_run(av__cuda_plan *p, const void *const *input_data, char *err,
                            size_t err_size)
{
    (void)p, (void)input_data;
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, NOT_BUILT);
}
const void *av__cuda_plan_output(const av__cuda_plan *p, int v)
{
    (void)p, (void)v;
    return NULL;
}
void av__cuda_plan_stats(const av__cuda_plan *p, size_t *device_bytes, int *cpu_steps,
                         int *graph_replay)
{
    (void)p;
    if (device_bytes)
        *device_bytes = 0;
    if (cpu_steps)
        *cpu_steps = 0;
    if (graph_replay)
        *graph_replay = 0;
}
double av__cuda_plan_last_ms(const av__cuda_plan *p)
{
    (void)p;
    return 0;
}
av_status av__cuda_plan_profile(av__cuda_plan *p, const void *const *input_data, int *nodes,
                                double *ms, int *n, char *err, size_t err_size)
{
    (void)p, (void)input_data, (void)nodes, (void)ms;
    *n = 0;
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, NOT_BUILT);
}
int av__cuda_absorbs_leaky(const char *domain, const char *op_type)
{
    (void)domain, (void)op_type;
    return 0;
}
int av__cuda_plan_folded(const av__cuda_plan *p)
{
    (void)p;
    return 0;
}
const char *av__cuda_plan_note(const av__cuda_plan *p)
{
    (void)p;
    return "";
}
int av__cuda_plan_cpu_step(const av__cuda_plan *p, int i, const char **why)
{
    (void)p, (void)i;
    *why = NOT_BUILT;
    return -1;
}
av_status av__cuda_node_plan(av__cuda_context *cx, const av__node *node, int64_t opset, int n_in,
                             const av__tensor *const *in, uint32_t const_mask, int n_out,
                             av__tensor *out_shapes, const void **input_data, av__cuda_plan **out,
                             char *err, size_t err_size)
{
    (void)cx, (void)node, (void)opset, (void)n_in, (void)in, (void)const_mask, (void)n_out;
    (void)out_shapes, (void)input_data;
    *out = NULL;
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, NOT_BUILT);
}
int av__cuda_plan_on_gpu(const av__cuda_plan *p, int step)
{
    (void)p, (void)step;
    return 0;
}
av_status av__cuda_eval_node(av__cuda_context *cx, const av__node *node, int64_t opset, int n_in,
                             const av__tensor *const *in, uint32_t const_mask, int n_out,
                             av__tensor *outs, int *on_gpu, char *err, size_t err_size)
{
    (void)cx, (void)node, (void)opset, (void)n_in, (void)in, (void)const_mask, (void)n_out;
    (void)outs;
    *on_gpu = 0;
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, NOT_BUILT);
}
#endif
