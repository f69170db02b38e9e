// The CUDA backend's sessions and plans (src/cuda/backend.h): device memory, uploads, the step
// loop with its CPU fallback, CUDA-graph capture and replay.
//
// Memory: a plan takes the CPU planner's arena layout (offsets computed for the graph's logical
// dtypes; float16 storage uses the first half of each slot) in one cudaMalloc, plus one device
// scratch region shared by all steps (the largest any kernel asks for). Constants are uploaded
// once per context (keyed by their host address: a context serves one model), plan-time values
// once per plan. Graph inputs go through pinned staging buffers; outputs come back into pinned
// host buffers the session hands out.
//
// Runs: the first run of a plan launches its steps one by one (cuDNN and cuBLAS initialise
// lazily there); the second captures them into a CUDA graph, which every later run replays.
// A plan with a step on the CPU fallback is never captured (the step synchronises the stream).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/backend.h"
#include "cuda/conv_igemm.h"
#include "cuda/cuda_op.h"

extern "C" {
#include "engine/engine_internal.h"
}

#define CUBLAS_WORKSPACE_BYTES ((size_t)32 << 20)

namespace {

struct const_entry {
    const void *host;
    size_t host_bytes;
    av__dtype host_dtype, dev_dtype;
    void *dev;
};

av_status fail_cuda(char *err, size_t n, cudaError_t e, const char *what)
{
    return av__fail(err, n, e == cudaErrorMemoryAllocation ? AV_STATUS_OUT_OF_MEMORY : AV_STATUS_DEVICE,
                    "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

} // namespace

struct av__cuda_context {
    av__cuda_env env;
    void *cublas_workspace;
    const_entry *consts;
    int n_consts, cap_consts;
};

/* ---- contexts --------------------------------------------------------------------------------- */

av_status av__cuda_context_create(int device, av_gpu_math math, av__cuda_context **out, char *err,
                                  size_t err_size)
{
    *out = NULL;
    if (math != AV_GPU_FP32 && math != AV_GPU_TF32 && math != AV_GPU_FP16)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "unknown GPU math %d", (int)math);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        const char *why = e == cudaSuccess ? "no CUDA device" : cudaGetErrorString(e);
        cudaGetLastError();
        return av__fail(err, err_size, AV_STATUS_DEVICE, "cuda:%d: no usable GPU (%s)", device, why);
    }
    if (device < 0 || device >= count)
        return av__fail(err, err_size, AV_STATUS_NOT_FOUND,
                        "cuda:%d: no such GPU (this machine has %d: cuda:0%s)", device, count,
                        count > 1 ? " .. cuda:N-1" : "");
    if ((e = cudaSetDevice(device)) != cudaSuccess)
        return fail_cuda(err, err_size, e, "cudaSetDevice");
    av__cuda_context *cx = (av__cuda_context *)av__calloc(1, sizeof *cx);
    if (!cx)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    cx->env.device = device;
    cx->env.math = (av__cuda_math)math;
    cx->env.conv_own_config = -1;
    {
        const char *impl = getenv("AV_CUDA_CONV");
        if (impl && !strcmp(impl, "cudnn"))
            cx->env.conv_impl = AV__CUDA_CONV_CUDNN;
        else if (impl && !strcmp(impl, "own"))
            cx->env.conv_impl = AV__CUDA_CONV_OWN;
        else if (impl && impl[0] && strcmp(impl, "auto")) {
            av__free(cx);
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "AV_CUDA_CONV=%s: expected auto, cudnn or own", impl);
        }
    }
    cudaDeviceProp prop;
    av_status st = AV_STATUS_OK;
    if ((e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess ||
        (e = cudaStreamCreateWithFlags(&cx->env.stream, cudaStreamNonBlocking)) != cudaSuccess) {
        st = fail_cuda(err, err_size, e, "opening the GPU");
        goto fail;
    }
    cx->env.sm = prop.major * 10 + prop.minor;
    if (!(cx->env.conv_algos = (av__cuda_algo_cache *)av__calloc(1, sizeof *cx->env.conv_algos))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    cx->env.multiprocessors = prop.multiProcessorCount;
    {
        cublasStatus_t cb = cublasCreate(&cx->env.cublas);
        if (cb != CUBLAS_STATUS_SUCCESS) {
            cx->env.cublas = NULL;
            st = av__fail(err, err_size, AV_STATUS_DEVICE, "cuBLAS: %s", cublasGetStatusString(cb));
            goto fail;
        }
        cb = cublasLtCreate(&cx->env.cublaslt);
        if (cb != CUBLAS_STATUS_SUCCESS) {
            cx->env.cublaslt = NULL;
            st = av__fail(err, err_size, AV_STATUS_DEVICE, "cuBLASLt: %s", cublasGetStatusString(cb));
            goto fail;
        }
        // One stream for the context's life; an explicit workspace so that cuBLAS allocates
        // nothing while a run is being captured into a CUDA graph. (cublasSetStream resets the
        // workspace, so the stream is set first and never again.)
        if ((e = cudaMalloc(&cx->cublas_workspace, CUBLAS_WORKSPACE_BYTES)) != cudaSuccess) {
            cx->cublas_workspace = NULL;
            st = fail_cuda(err, err_size, e, "cuBLAS workspace");
            goto fail;
        }
        if ((cb = cublasSetStream(cx->env.cublas, cx->env.stream)) != CUBLAS_STATUS_SUCCESS ||
            (cb = cublasSetWorkspace(cx->env.cublas, cx->cublas_workspace,
                                     CUBLAS_WORKSPACE_BYTES)) != CUBLAS_STATUS_SUCCESS ||
            (cb = cublasSetMathMode(cx->env.cublas,
                                    math == AV_GPU_FP32 ? CUBLAS_PEDANTIC_MATH
                                    : math == AV_GPU_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                          : CUBLAS_DEFAULT_MATH)) !=
                CUBLAS_STATUS_SUCCESS) {
            st = av__fail(err, err_size, AV_STATUS_DEVICE, "cuBLAS: %s", cublasGetStatusString(cb));
            goto fail;
        }
    }
    {
        cudnnStatus_t cs = cudnnCreate(&cx->env.cudnn);
        if (cs != CUDNN_STATUS_SUCCESS) {
            cx->env.cudnn = NULL;
            st = av__fail(err, err_size, AV_STATUS_DEVICE, "cuDNN: %s", cudnnGetErrorString(cs));
            goto fail;
        }
        if ((cs = cudnnSetStream(cx->env.cudnn, cx->env.stream)) != CUDNN_STATUS_SUCCESS) {
            st = av__fail(err, err_size, AV_STATUS_DEVICE, "cuDNN: %s", cudnnGetErrorString(cs));
            goto fail;
        }
    }
    *out = cx;
    return AV_STATUS_OK;
fail:
    av__cuda_context_free(cx);
    return st;
}

void av__cuda_context_set_conv_impl(av__cuda_context *cx, int impl, int config)
{
    cx->env.conv_impl = (av__cuda_conv_impl)impl;
    cx->env.conv_own_config = impl == AV__CUDA_CONV_OWN ? config : -1;
    if (cx->env.conv_algos)
        cx->env.conv_algos->n = 0;
}

int av__cuda_conv_own_configs(void) { return AV__IGEMM_CONFIGS; }

void av__cuda_context_conv_counts(const av__cuda_context *cx, int *own, int *cudnn)
{
    *own = cx->env.conv_algos ? cx->env.conv_algos->own_layers : 0;
    *cudnn = cx->env.conv_algos ? cx->env.conv_algos->cudnn_layers : 0;
}

void av__cuda_context_free(av__cuda_context *cx)
{
    if (!cx)
        return;
    if (cx->env.stream)
        cudaStreamSynchronize(cx->env.stream);
    for (int i = 0; i < cx->n_consts; i++)
        cudaFree(cx->consts[i].dev);
    av__free(cx->consts);
    if (cx->env.conv_algos)
        av__free(cx->env.conv_algos->e);
    av__free(cx->env.conv_algos);
    if (cx->env.cudnn)
        cudnnDestroy(cx->env.cudnn);
    if (cx->env.cublaslt)
        cublasLtDestroy(cx->env.cublaslt);
    if (cx->env.cublas)
        cublasDestroy(cx->env.cublas);
    cudaFree(cx->cublas_workspace);
    if (cx->env.stream)
        cudaStreamDestroy(cx->env.stream);
    av__free(cx);
}

/* The dtype a value of logical dtype t is stored in on the device under `math`. */
static av__dtype storage_dtype(av__cuda_math math, av__dtype t)
{
    return t == AV__DT_F32 && math == AV__CUDA_MATH_FP16 ? AV__DT_F16 : t;
}

static size_t dtype_bytes(av__dtype t)
{
    av__tensor one = {};
    one.dtype = t;
    return av__tensor_bytes(&one);
}

/* Uploads host tensor h (its logical dtype) into new device memory as st_type (h's dtype, or
 * float16 for a float32 h), synchronously. */
static av_status upload_new(const av__tensor *h, av__dtype st_type, void **dev, char *err,
                            size_t err_size)
{
    *dev = NULL;
    size_t bytes = av__tensor_bytes(h);
    int64_t n = av__tensor_count(h);
    size_t dev_bytes = (size_t)n * dtype_bytes(st_type);
    cudaError_t e = cudaMalloc(dev, dev_bytes ? dev_bytes : 256);
    if (e != cudaSuccess) {
        *dev = NULL;
        return fail_cuda(err, err_size, e, "device memory for a constant");
    }
    if (bytes == 0)
        return AV_STATUS_OK;
    if (st_type == h->dtype) {
        e = cudaMemcpy(*dev, h->data, bytes, cudaMemcpyHostToDevice);
    } else { /* float32 -> float16 on the host, then up */
        uint16_t *tmp = (uint16_t *)av__mallocarray((size_t)n, sizeof *tmp);
        if (!tmp) {
            cudaFree(*dev);
            *dev = NULL;
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        }
        const float *f = (const float *)h->data;
        for (int64_t i = 0; i < n; i++)
            tmp[i] = av__f32_to_f16(f[i]);
        e = cudaMemcpy(*dev, tmp, dev_bytes, cudaMemcpyHostToDevice);
        av__free(tmp);
    }
    if (e != cudaSuccess) {
        cudaFree(*dev);
        *dev = NULL;
        return fail_cuda(err, err_size, e, "uploading a constant");
    }
    return AV_STATUS_OK;
}

/* The context's device copy of constant h stored as st_type (uploaded on first use). */
static av_status const_device(av__cuda_context *cx, const av__tensor *h, av__dtype st_type,
                              void **dev, char *err, size_t err_size)
{
    size_t bytes = av__tensor_bytes(h);
    for (int i = 0; i < cx->n_consts; i++) {
        const const_entry *c = &cx->consts[i];
        if (c->host == h->data && c->host_bytes == bytes && c->host_dtype == h->dtype &&
            c->dev_dtype == st_type) {
            *dev = c->dev;
            return AV_STATUS_OK;
        }
    }
    if (cx->n_consts == cx->cap_consts) {
        int cap = cx->cap_consts ? 2 * cx->cap_consts : 64;
        const_entry *more = (const_entry *)av__mallocarray((size_t)cap, sizeof *more);
        if (!more)
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        if (cx->n_consts)
            memcpy(more, cx->consts, (size_t)cx->n_consts * sizeof *more);
        av__free(cx->consts);
        cx->consts = more;
        cx->cap_consts = cap;
    }
    av_status st = upload_new(h, st_type, dev, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    cx->consts[cx->n_consts++] = const_entry{h->data, bytes, h->dtype, st_type, *dev};
    return AV_STATUS_OK;
}

/* ---- plans ------------------------------------------------------------------------------------ */

namespace {

struct run_step {
    int node;
    const av__op *op;
    const av__cuda_kernel *kernel; /* NULL: the CPU fallback runs it */
    void *state;                   /* kernel state, or the CPU op's prepared state */
    void (*release)(void *);
    int cpu;
    int folded;                    /* a LeakyRelu written by an earlier step's epilogue: skipped */
    char why[200];                 /* CPU fallback: why */
    /* GPU: the contexts run() gets; CPU: host tensors for the op */
    av__op_ctx octx;
    av__cuda_ctx cctx;
    const av__tensor **in;         /* device tensors (GPU) or host tensors (CPU) */
    av__tensor **out;
    const av__tensor **host_in;    /* GPU: host tensors of plan-time inputs, else NULL entries */
    size_t cpu_scratch_bytes;
};

struct io_buffer {
    int value;                     /* graph value */
    size_t host_bytes;             /* logical (float32) bytes */
    void *pinned;                  /* pinned host staging, logical dtype */
    void *dev_f32;                 /* device float32 staging when the storage is float16 */
};

} // namespace

struct av__cuda_plan {
    av__cuda_context *cx;
    av__cuda_env env;              /* the context's, with this plan's math (see fp16_declined) */
    char fp16_declined[160];       /* why an fp16 context runs this graph in fp32, or "" */
    char note[400];                /* fp16_declined, and advice on the layout (plan_note) */
    const av__graph *g;
    int n_values;
    av__tensor *dev;               /* per value: device view (storage dtype, device data) */
    av__tensor *host;              /* per value: host view (logical dtype; data for CPU steps) */
    unsigned char *kind;
    run_step *steps;
    int n_steps;
    const av__tensor **ptr_pool;   /* in / out / host_in pointer arrays of all steps */
    void *arena;
    size_t arena_bytes;
    void *scratch;
    size_t scratch_bytes;
    void *cpu_scratch;             /* CPU fallback scratch (host) */
    void **dev_owned;              /* plan-time values, input buffers */
    int n_dev_owned;
    void **host_owned;             /* host buffers of values CPU steps touch */
    int n_host_owned;
    io_buffer *inputs;             /* one per graph input */
    int n_inputs;
    io_buffer *outputs;            /* one per graph output computed by a step */
    int n_outputs;
    int cpu_steps;
    int folded_steps;              /* LeakyRelu nodes folded into convolution epilogues */
    int runs;
    int capture_failed;            /* capturing failed once: runs stay eager */
    cudaGraphExec_t exec;
    cudaEvent_t ev_start, ev_end;  /* around the steps of a run (not the transfers) */
    void *owned_graph;             /* av__cuda_node_plan's one-node graph, else NULL */
    double last_steps_ms;
    char op_err[768];
    uint64_t seed;
};

void av__cuda_plan_free(av__cuda_plan *p)
{
    if (!p)
        return;
    cudaStreamSynchronize(p->cx->env.stream);
    if (p->exec)
        cudaGraphExecDestroy(p->exec);
    if (p->ev_start)
        cudaEventDestroy(p->ev_start);
    if (p->ev_end)
        cudaEventDestroy(p->ev_end);
    for (int k = 0; k < p->n_steps; k++)
        if (p->steps[k].release)
            p->steps[k].release(p->steps[k].state);
    for (int i = 0; i < p->n_inputs; i++) {
        cudaFreeHost(p->inputs[i].pinned);
        cudaFree(p->inputs[i].dev_f32);
    }
    for (int i = 0; i < p->n_outputs; i++) {
        cudaFreeHost(p->outputs[i].pinned);
        cudaFree(p->outputs[i].dev_f32);
    }
    for (int i = 0; i < p->n_dev_owned; i++)
        cudaFree(p->dev_owned[i]);
    for (int i = 0; i < p->n_host_owned; i++)
        av__aligned_free(p->host_owned[i]);
    cudaFree(p->arena);
    cudaFree(p->scratch);
    av__aligned_free(p->cpu_scratch);
    av__free(p->dev_owned);
    av__free(p->host_owned);
    av__free(p->inputs);
    av__free(p->outputs);
    av__free(p->ptr_pool);
    av__free(p->steps);
    av__free(p->dev);
    av__free(p->host);
    av__free(p->kind);
    av__free(p->owned_graph);
    av__free(p);
}

static void label_of(const av__graph *g, int n, char *out, size_t size)
{
    av__engine_node_label(g, n, out, size);
}

/* Host buffer for value v's logical data (CPU fallback steps read and write these). */
static av_status ensure_host(av__cuda_plan *p, int v, char *err, size_t err_size)
{
    av__tensor *h = &p->host[v];
    if (h->data)
        return AV_STATUS_OK;
    size_t bytes = av__tensor_bytes(h);
    void *buf = av__aligned_alloc(bytes ? bytes : 64);
    if (!buf)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    p->host_owned[p->n_host_owned++] = buf;
    h->data = buf;
    return AV_STATUS_OK;
}

/* Bytes value v takes on the device. */
static size_t device_bytes_of(const av__cuda_plan *p, int v)
{
    return (size_t)av__tensor_count(&p->dev[v]) * dtype_bytes(p->dev[v].dtype);
}

/* 1 when the device memory of value v overlaps that of value w. */
static int overlaps(const av__cuda_plan *p, int v, int w)
{
    const char *a = (const char *)p->dev[v].data, *b = (const char *)p->dev[w].data;
    size_t na = device_bytes_of(p, v), nb = device_bytes_of(p, w);
    return a && b && na && nb && a < b + nb && b < a + na;
}

/* Folds each LeakyRelu whose input is output 0 of a convolution step into that step's epilogue
 * (the kernel's absorb_leaky hook): the epilogue writes the LeakyRelu's output in the same pass
 * and the LeakyRelu step is skipped, saving a read and a write of the tensor. Writing the output
 * early is safe when its memory overlaps nothing any step from the convolution up to the
 * LeakyRelu reads or writes (the planner reused that memory only for values dead by then). */
static void fold_leaky_relus(av__cuda_plan *p)
{
    const av__graph *g = p->g;
    for (int j = 0; j < p->n_steps; j++) {
        run_step *lr = &p->steps[j];
        const av__node *ln = &g->nodes[lr->node];
        if (lr->cpu || strcmp(ln->op_type, "LeakyRelu") != 0 || (ln->domain && ln->domain[0] &&
            strcmp(ln->domain, "ai.onnx") != 0) || ln->n_inputs != 1 || ln->n_outputs != 1)
            continue;
        int x = ln->inputs[0], y = ln->outputs[0];
        if (x < 0 || y < 0 || p->kind[y] != AV__CUDA_VALUE_ARENA ||
            p->kind[x] != AV__CUDA_VALUE_ARENA || p->dev[x].dtype != p->dev[y].dtype)
            continue;
        int k = j - 1; /* the producer of x */
        while (k >= 0 && !(g->nodes[p->steps[k].node].n_outputs > 0 &&
                           g->nodes[p->steps[k].node].outputs[0] == x))
            k--;
        if (k < 0 || p->steps[k].cpu || p->steps[k].folded || !p->steps[k].kernel->absorb_leaky)
            continue;
        int safe = 1;
        for (int m = k; m < j && safe; m++) {
            const av__node *mn = &g->nodes[p->steps[m].node];
            for (int i = 0; i < mn->n_inputs + mn->n_outputs && safe; i++) {
                int v = i < mn->n_inputs ? mn->inputs[i] : mn->outputs[i - mn->n_inputs];
                if (v >= 0 && p->kind[v] == AV__CUDA_VALUE_ARENA && overlaps(p, v, y))
                    safe = 0;
            }
        }
        float alpha = 0.01f; /* the ONNX default */
        for (int a = 0; a < ln->n_attrs; a++)
            if (!strcmp(ln->attrs[a].name, "alpha"))
                alpha = ln->attrs[a].f;
        if (safe && p->steps[k].kernel->absorb_leaky(p->steps[k].state, p->dev[y].data, alpha)) {
            lr->folded = 1;
            p->folded_steps++;
        }
    }
}

av_status av__cuda_plan_create(av__cuda_context *cx, const av__graph *g, const av__cuda_value *values,
                               const av__cuda_step *steps, int n_steps, size_t arena_bytes,
                               uint64_t seed, av__cuda_plan **out, char *err, size_t err_size)
{
    *out = NULL;
    cudaError_t e = cudaSetDevice(cx->env.device);
    if (e != cudaSuccess)
        return fail_cuda(err, err_size, e, "cudaSetDevice");
    av__cuda_plan *p = (av__cuda_plan *)av__calloc(1, sizeof *p);
    char label[256];
    if (!p)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    p->cx = cx;
    p->env = cx->env;
    p->g = g;
    p->seed = seed;
    /* float16 storage would change integer results where the graph turns floats into integers
     * or booleans (the pitch encoder's bin index is floor() of a float expression), and lose
     * what a float64 computation keeps: such a graph runs in float32 on an fp16 context */
    if (p->env.math == AV__CUDA_MATH_FP16) {
        for (int k = 0; k < n_steps && !p->fp16_declined[0]; k++) {
            const av__node *node = &g->nodes[steps[k].node];
            int float_in = 0, other_out = 0;
            for (int i = 0; i < node->n_inputs; i++)
                if (node->inputs[i] >= 0 && values[node->inputs[i]].host &&
                    values[node->inputs[i]].host->dtype == AV__DT_F32)
                    float_in = 1;
            for (int o = 0; o < node->n_outputs; o++)
                if (node->outputs[o] >= 0 && values[node->outputs[o]].host &&
                    values[node->outputs[o]].host->dtype != AV__DT_F32)
                    other_out = 1;
            int rounding = !strcmp(node->op_type, "Floor") || !strcmp(node->op_type, "Ceil") ||
                           !strcmp(node->op_type, "Round");
            if (rounding || (float_in && other_out)) {
                label_of(g, steps[k].node, label, sizeof label);
                snprintf(p->fp16_declined, sizeof p->fp16_declined,
                         "fp16 declined: node %.100s turns float32 into another type", label);
                p->env.math = AV__CUDA_MATH_FP32;
            }
        }
    }
    p->n_values = g->n_values;
    int nv = g->n_values, total_io = 0;
    for (int k = 0; k < n_steps; k++)
        total_io += g->nodes[steps[k].node].n_inputs * 2 + g->nodes[steps[k].node].n_outputs;
    p->dev = (av__tensor *)av__calloc((size_t)nv + 1, sizeof *p->dev);
    p->host = (av__tensor *)av__calloc((size_t)nv + 1, sizeof *p->host);
    p->kind = (unsigned char *)av__calloc((size_t)nv + 1, 1);
    p->steps = (run_step *)av__calloc((size_t)n_steps + 1, sizeof *p->steps);
    p->ptr_pool = (const av__tensor **)av__calloc((size_t)total_io + 1, sizeof *p->ptr_pool);
    p->dev_owned = (void **)av__calloc((size_t)nv + 1, sizeof *p->dev_owned);
    p->host_owned = (void **)av__calloc((size_t)nv + 1, sizeof *p->host_owned);
    p->inputs = (io_buffer *)av__calloc((size_t)g->n_inputs + 1, sizeof *p->inputs);
    p->outputs = (io_buffer *)av__calloc((size_t)g->n_outputs + 1, sizeof *p->outputs);
    av_status st = AV_STATUS_OK;
    if (!p->dev || !p->host || !p->kind || !p->steps || !p->ptr_pool || !p->dev_owned ||
        !p->host_owned || !p->inputs || !p->outputs) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    if ((e = cudaEventCreate(&p->ev_start)) != cudaSuccess ||
        (e = cudaEventCreate(&p->ev_end)) != cudaSuccess) {
        st = fail_cuda(err, err_size, e, "cudaEventCreate");
        goto fail;
    }
    /* device memory: arena (offsets of the CPU planner) */
    p->arena_bytes = arena_bytes;
    if (arena_bytes && (e = cudaMalloc(&p->arena, arena_bytes)) != cudaSuccess) {
        p->arena = NULL;
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                      "cannot allocate the %zu-byte device arena: %s", arena_bytes,
                      cudaGetErrorString(e));
        goto fail;
    }
    /* values: device views, uploads */
    for (int v = 0; v < nv; v++) {
        p->kind[v] = (unsigned char)values[v].kind;
        if (values[v].kind == AV__CUDA_VALUE_NONE)
            continue;
        p->host[v] = *values[v].host;
        if (values[v].kind != AV__CUDA_VALUE_CONST && values[v].kind != AV__CUDA_VALUE_PLANNED)
            p->host[v].data = NULL; /* the session's buffer; CPU steps get their own */
        p->dev[v] = *values[v].host;
        p->dev[v].dtype = storage_dtype(p->env.math, values[v].host->dtype);
        p->dev[v].data = NULL;
        switch (values[v].kind) {
        case AV__CUDA_VALUE_CONST:
            st = const_device(cx, values[v].host, p->dev[v].dtype, &p->dev[v].data, err, err_size);
            break;
        case AV__CUDA_VALUE_PLANNED:
            st = upload_new(values[v].host, p->dev[v].dtype, &p->dev[v].data, err, err_size);
            if (st == AV_STATUS_OK)
                p->dev_owned[p->n_dev_owned++] = p->dev[v].data;
            break;
        case AV__CUDA_VALUE_INPUT: {
            size_t bytes = (size_t)av__tensor_count(&p->dev[v]) * dtype_bytes(p->dev[v].dtype);
            if ((e = cudaMalloc(&p->dev[v].data, bytes ? bytes : 256)) != cudaSuccess) {
                p->dev[v].data = NULL;
                st = fail_cuda(err, err_size, e, "device memory for an input");
            } else {
                p->dev_owned[p->n_dev_owned++] = p->dev[v].data;
            }
            break;
        }
        case AV__CUDA_VALUE_ARENA:
            p->dev[v].data = (char *)p->arena + values[v].offset;
            break;
        default:
            break;
        }
        if (st != AV_STATUS_OK)
            goto fail;
    }
    /* graph inputs and outputs: pinned staging */
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        io_buffer *b = &p->inputs[p->n_inputs++];
        b->value = v;
        if (p->kind[v] != AV__CUDA_VALUE_INPUT)
            continue; /* unused by runtime steps, or decided at plan time */
        b->host_bytes = av__tensor_bytes(&p->host[v]);
        if ((e = cudaMallocHost(&b->pinned, b->host_bytes ? b->host_bytes : 64)) != cudaSuccess) {
            b->pinned = NULL;
            st = fail_cuda(err, err_size, e, "pinned memory for an input");
            goto fail;
        }
        if (p->dev[v].dtype != p->host[v].dtype &&
            (e = cudaMalloc(&b->dev_f32, b->host_bytes ? b->host_bytes : 256)) != cudaSuccess) {
            b->dev_f32 = NULL;
            st = fail_cuda(err, err_size, e, "device memory for an input");
            goto fail;
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        if (p->kind[v] != AV__CUDA_VALUE_ARENA)
            continue;
        io_buffer *b = &p->outputs[p->n_outputs++];
        b->value = v;
        b->host_bytes = av__tensor_bytes(&p->host[v]);
        if ((e = cudaMallocHost(&b->pinned, b->host_bytes ? b->host_bytes : 64)) != cudaSuccess) {
            b->pinned = NULL;
            st = fail_cuda(err, err_size, e, "pinned memory for an output");
            goto fail;
        }
        if (p->dev[v].dtype != p->host[v].dtype &&
            (e = cudaMalloc(&b->dev_f32, b->host_bytes ? b->host_bytes : 256)) != cudaSuccess) {
            b->dev_f32 = NULL;
            st = fail_cuda(err, err_size, e, "device memory for an output");
            goto fail;
        }
    }
    /* steps: kernel or CPU fallback, prepared */
    {
        const av__tensor **pool = p->ptr_pool;
        for (int k = 0; k < n_steps; k++) {
            run_step *rs = &p->steps[p->n_steps++];
            const av__node *node = &g->nodes[steps[k].node];
            rs->node = steps[k].node;
            rs->op = steps[k].op;
            rs->in = pool;
            pool += node->n_inputs;
            rs->host_in = pool;
            pool += node->n_inputs;
            rs->out = (av__tensor **)pool;
            pool += node->n_outputs;
            for (int i = 0; i < node->n_inputs; i++) {
                int v = node->inputs[i];
                rs->in[i] = v >= 0 ? &p->dev[v] : NULL;
                rs->host_in[i] = v >= 0 && (p->kind[v] == AV__CUDA_VALUE_CONST ||
                                            p->kind[v] == AV__CUDA_VALUE_PLANNED)
                                     ? &p->host[v]
                                     : NULL;
            }
            for (int o = 0; o < node->n_outputs; o++) {
                int v = node->outputs[o];
                rs->out[o] = v >= 0 ? &p->dev[v] : NULL;
            }
            rs->octx = av__op_ctx{};
            rs->octx.node = node;
            rs->octx.opset = g->opset;
            rs->octx.n_in = node->n_inputs;
            rs->octx.in = rs->in;
            rs->octx.n_out = node->n_outputs;
            rs->octx.out = rs->out;
            rs->octx.seed = seed;
            rs->octx.err = p->op_err;
            rs->octx.err_size = sizeof p->op_err;
            rs->cctx = av__cuda_ctx{};
            rs->cctx.op = &rs->octx;
            rs->cctx.host_in = rs->host_in;
            rs->cctx.env = &p->env;
            rs->kernel = av__cuda_kernel_find(node->domain, node->op_type);
            p->op_err[0] = '\0';
            if (!rs->kernel) {
                snprintf(rs->why, sizeof rs->why, "no CUDA kernel for %s", node->op_type);
            } else if (rs->kernel->supports) {
                st = rs->kernel->supports(&rs->cctx);
                if (st == AV_STATUS_UNSUPPORTED) {
                    snprintf(rs->why, sizeof rs->why, "%.190s", p->op_err);
                    rs->kernel = NULL;
                    st = AV_STATUS_OK;
                } else if (st != AV_STATUS_OK) {
                    label_of(g, rs->node, label, sizeof label);
                    st = av__fail(err, err_size, st, "node %s: %s", label, p->op_err);
                    goto fail;
                }
            }
            if (rs->kernel) {
                if (rs->kernel->prepare) {
                    st = rs->kernel->prepare(&rs->cctx, &rs->state);
                    rs->release = rs->kernel->release;
                    if (st != AV_STATUS_OK) {
                        label_of(g, rs->node, label, sizeof label);
                        st = av__fail(err, err_size, st, "node %s: %s", label, p->op_err);
                        goto fail;
                    }
                    rs->cctx.state = rs->state;
                }
                if (rs->kernel->scratch_bytes) {
                    size_t sb = rs->kernel->scratch_bytes(&rs->cctx);
                    if (sb > p->scratch_bytes)
                        p->scratch_bytes = sb;
                }
                continue;
            }
            /* CPU fallback: host tensors for every input and output */
            rs->cpu = 1;
            p->cpu_steps++;
            for (int i = 0; i < node->n_inputs; i++) {
                int v = node->inputs[i];
                if (v < 0)
                    continue;
                if (p->kind[v] != AV__CUDA_VALUE_CONST && p->kind[v] != AV__CUDA_VALUE_PLANNED &&
                    (st = ensure_host(p, v, err, err_size)) != AV_STATUS_OK)
                    goto fail;
                rs->in[i] = &p->host[v];
            }
            for (int o = 0; o < node->n_outputs; o++) {
                int v = node->outputs[o];
                if (v < 0)
                    continue;
                if ((st = ensure_host(p, v, err, err_size)) != AV_STATUS_OK)
                    goto fail;
                rs->out[o] = &p->host[v];
            }
            const av__op_stateful *sop = av__op_stateful_of(rs->op);
            if (sop) {
                st = sop->prepare(&rs->octx, &rs->state);
                rs->release = sop->release;
                if (st != AV_STATUS_OK) {
                    label_of(g, rs->node, label, sizeof label);
                    st = av__fail(err, err_size, st, "node %s: %s", label, p->op_err);
                    goto fail;
                }
                rs->octx.state = rs->state;
            }
            if (rs->op->scratch_bytes) {
                size_t sb = rs->op->scratch_bytes(&rs->octx);
                if (sb > rs->cpu_scratch_bytes)
                    rs->cpu_scratch_bytes = sb;
            }
        }
    }
    fold_leaky_relus(p);
    /* what inspect / run say about the plan: fp16 declined, and channels-last convolutions in
     * float32, which the conv kernels stage through NCHW (docs/CUDA.md, "Layout") */
    {
        int staged = 0;
        for (int k = 0; k < p->n_steps; k++) {
            const av__node *node = &g->nodes[p->steps[k].node];
            if (p->steps[k].cpu || p->env.math == AV__CUDA_MATH_FP16 ||
                strcmp(node->op_type, "FusedConv") != 0)
                continue;
            for (int a = 0; a < node->n_attrs; a++)
                if (!strcmp(node->attrs[a].name, "channels_last") && node->attrs[a].i)
                    staged++;
        }
        snprintf(p->note, sizeof p->note, "%s%s", p->fp16_declined,
                 p->fp16_declined[0] && staged ? "\n  " : "");
        if (staged) {
            size_t len = strlen(p->note);
            snprintf(p->note + len, sizeof p->note - len,
                     "%d channels-last convolution%s staged through NCHW in %s: for fp32 / tf32 on "
                     "the GPU the ONNX file runs faster than this plan",
                     staged, staged == 1 ? "" : "s",
                     p->env.math == AV__CUDA_MATH_TF32 ? "tf32" : "fp32");
        }
    }
    if (p->scratch_bytes && (e = cudaMalloc(&p->scratch, p->scratch_bytes)) != cudaSuccess) {
        p->scratch = NULL;
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                      "cannot allocate %zu bytes of device scratch: %s", p->scratch_bytes,
                      cudaGetErrorString(e));
        goto fail;
    }
    {
        size_t cpu_scratch = 0;
        for (int k = 0; k < p->n_steps; k++)
            if (p->steps[k].cpu_scratch_bytes > cpu_scratch)
                cpu_scratch = p->steps[k].cpu_scratch_bytes;
        if (cpu_scratch && !(p->cpu_scratch = av__aligned_alloc(cpu_scratch))) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto fail;
        }
    }
    for (int k = 0; k < p->n_steps; k++) {
        p->steps[k].cctx.scratch = p->scratch;
        p->steps[k].octx.scratch = p->steps[k].cpu ? p->cpu_scratch : NULL;
    }
    *out = p;
    return AV_STATUS_OK;
fail:
    av__cuda_plan_free(p);
    return st;
}

/* Copies device value v into its host buffer (logical dtype), synchronously. */
static av_status download_value(av__cuda_plan *p, int v, char *err, size_t err_size)
{
    const av__tensor *d = &p->dev[v];
    av__tensor *h = &p->host[v];
    cudaStream_t s = p->cx->env.stream;
    int64_t n = av__tensor_count(h);
    cudaError_t e;
    if (d->dtype == h->dtype) {
        e = cudaMemcpyAsync(h->data, d->data, av__tensor_bytes(h), cudaMemcpyDeviceToHost, s);
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(s);
        return e == cudaSuccess ? AV_STATUS_OK : fail_cuda(err, err_size, e, "download");
    }
    /* float16 storage: down into a temporary, widened on the host */
    uint16_t *tmp = (uint16_t *)av__mallocarray((size_t)n + 1, sizeof *tmp);
    if (!tmp)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    e = cudaMemcpyAsync(tmp, d->data, (size_t)n * 2, cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(s);
    if (e == cudaSuccess) {
        float *f = (float *)h->data;
        for (int64_t i = 0; i < n; i++)
            f[i] = av__f16_to_f32(tmp[i]);
    }
    av__free(tmp);
    return e == cudaSuccess ? AV_STATUS_OK : fail_cuda(err, err_size, e, "download");
}

/* Copies host value v up into its device memory (storage dtype), synchronously. */
static av_status upload_value(av__cuda_plan *p, int v, char *err, size_t err_size)
{
    const av__tensor *h = &p->host[v];
    av__tensor *d = &p->dev[v];
    cudaStream_t s = p->cx->env.stream;
    int64_t n = av__tensor_count(h);
    cudaError_t e;
    if (d->dtype == h->dtype) {
        e = cudaMemcpyAsync(d->data, h->data, av__tensor_bytes(h), cudaMemcpyHostToDevice, s);
    } else {
        uint16_t *tmp = (uint16_t *)av__mallocarray((size_t)n + 1, sizeof *tmp);
        if (!tmp)
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        const float *f = (const float *)h->data;
        for (int64_t i = 0; i < n; i++)
            tmp[i] = av__f32_to_f16(f[i]);
        e = cudaMemcpyAsync(d->data, tmp, (size_t)n * 2, cudaMemcpyHostToDevice, s);
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(s);
        av__free(tmp);
        return e == cudaSuccess ? AV_STATUS_OK : fail_cuda(err, err_size, e, "upload");
    }
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(s);
    return e == cudaSuccess ? AV_STATUS_OK : fail_cuda(err, err_size, e, "upload");
}

/* Runs steps one by one (enqueueing GPU steps; CPU steps synchronise). */
static av_status run_steps(av__cuda_plan *p, char *err, size_t err_size)
{
    const av__graph *g = p->g;
    char label[256];
    for (int k = 0; k < p->n_steps; k++) {
        run_step *rs = &p->steps[k];
        const av__node *node = &g->nodes[rs->node];
        av_status st;
        p->op_err[0] = '\0';
        if (rs->folded)
            continue;
        if (!rs->cpu) {
            st = rs->kernel->run(&rs->cctx);
        } else {
            for (int i = 0; i < node->n_inputs; i++) {
                int v = node->inputs[i];
                if (v >= 0 && p->kind[v] != AV__CUDA_VALUE_CONST &&
                    p->kind[v] != AV__CUDA_VALUE_PLANNED &&
                    (st = download_value(p, v, err, err_size)) != AV_STATUS_OK)
                    return st;
            }
            st = rs->op->run(&rs->octx);
            for (int o = 0; st == AV_STATUS_OK && o < node->n_outputs; o++) {
                int v = node->outputs[o];
                if (v >= 0 && (st = upload_value(p, v, err, err_size)) != AV_STATUS_OK)
                    return st;
            }
        }
        if (st != AV_STATUS_OK) {
            label_of(g, rs->node, label, sizeof label);
            return av__fail(err, err_size, st, "node %s: %s", label, p->op_err);
        }
    }
    return AV_STATUS_OK;
}

/* Captures the steps into a CUDA graph (p->exec). On failure the plan keeps running eagerly. */
static av_status capture(av__cuda_plan *p, char *err, size_t err_size)
{
    cudaStream_t s = p->cx->env.stream;
    cudaGraph_t graph = NULL;
    cudaError_t e = cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    if (e != cudaSuccess)
        return fail_cuda(err, err_size, e, "starting CUDA graph capture");
    av_status st = run_steps(p, err, err_size);
    e = cudaStreamEndCapture(s, &graph);
    if (st != AV_STATUS_OK) {
        if (graph)
            cudaGraphDestroy(graph);
        cudaGetLastError();
        return st;
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        return fail_cuda(err, err_size, e, "CUDA graph capture");
    }
    e = cudaGraphInstantiate(&p->exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) {
        p->exec = NULL;
        cudaGetLastError();
        return fail_cuda(err, err_size, e, "instantiating the CUDA graph");
    }
    return AV_STATUS_OK;
}

/* Enqueues the graph inputs' upload: caller memory -> pinned -> device (-> float16). */
static av_status upload_inputs(av__cuda_plan *p, const void *const *input_data, char *err,
                               size_t err_size)
{
    av__cuda_env *env = &p->env;
    cudaStream_t s = env->stream;
    cudaError_t e;
    for (int i = 0; i < p->n_inputs; i++) {
        io_buffer *b = &p->inputs[i];
        if (!b->pinned)
            continue;
        av__tensor *d = &p->dev[b->value];
        if (b->host_bytes)
            memcpy(b->pinned, input_data[i], b->host_bytes);
        void *target = b->dev_f32 ? b->dev_f32 : d->data;
        if ((e = cudaMemcpyAsync(target, b->pinned, b->host_bytes, cudaMemcpyHostToDevice, s)) !=
            cudaSuccess)
            return fail_cuda(err, err_size, e, "uploading an input");
        if (b->dev_f32) {
            av_status st = av__cuda_convert(env, b->dev_f32, AV__DT_F32, d->data, d->dtype,
                                            av__tensor_count(d), err, err_size);
            if (st != AV_STATUS_OK)
                return st;
        }
    }
    return AV_STATUS_OK;
}

av_status av__cuda_plan_run(av__cuda_plan *p, const void *const *input_data, char *err,
                            size_t err_size)
{
    av__cuda_env *env = &p->env;
    cudaStream_t s = env->stream;
    cudaError_t e = cudaSetDevice(env->device);
    if (e != cudaSuccess)
        return fail_cuda(err, err_size, e, "cudaSetDevice");
    av_status st = upload_inputs(p, input_data, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    if (!p->exec && !p->capture_failed && p->cpu_steps == 0 && p->runs >= 1) {
        /* second run: capture (the first one let the libraries initialise) */
        char why[512];
        if (capture(p, why, sizeof why) != AV_STATUS_OK) {
            p->capture_failed = 1;
            av__log(AV_LOG_LEVEL_INFO, "CUDA graph capture failed (%s): runs stay eager", why);
        }
    }
    cudaEventRecord(p->ev_start, s);
    if (p->exec) {
        if ((e = cudaGraphLaunch(p->exec, s)) != cudaSuccess)
            return fail_cuda(err, err_size, e, "replaying the CUDA graph");
    } else if ((st = run_steps(p, err, err_size)) != AV_STATUS_OK) {
        cudaStreamSynchronize(s);
        return st;
    }
    cudaEventRecord(p->ev_end, s);
    /* outputs: device (-> float32) -> pinned */
    for (int i = 0; i < p->n_outputs; i++) {
        io_buffer *b = &p->outputs[i];
        const av__tensor *d = &p->dev[b->value];
        const void *src = d->data;
        if (b->dev_f32) {
            st = av__cuda_convert(env, d->data, d->dtype, b->dev_f32, AV__DT_F32,
                                  av__tensor_count(d), err, err_size);
            if (st != AV_STATUS_OK)
                return st;
            src = b->dev_f32;
        }
        if ((e = cudaMemcpyAsync(b->pinned, src, b->host_bytes, cudaMemcpyDeviceToHost, s)) !=
            cudaSuccess)
            return fail_cuda(err, err_size, e, "downloading an output");
    }
    if ((e = cudaStreamSynchronize(s)) != cudaSuccess)
        return fail_cuda(err, err_size, e, "running the plan on the GPU");
    float ms = 0;
    p->last_steps_ms = cudaEventElapsedTime(&ms, p->ev_start, p->ev_end) == cudaSuccess ? ms : 0;
    p->runs++;
    return AV_STATUS_OK;
}

const void *av__cuda_plan_output(const av__cuda_plan *p, int v)
{
    if (!p || p->runs == 0)
        return NULL;
    for (int i = 0; i < p->n_outputs; i++)
        if (p->outputs[i].value == v)
            return p->outputs[i].pinned;
    return NULL;
}

double av__cuda_plan_last_ms(const av__cuda_plan *p) { return p->last_steps_ms; }

av_status av__cuda_plan_profile(av__cuda_plan *p, const void *const *input_data, int *nodes,
                                double *ms, int *n, char *err, size_t err_size)
{
    av__cuda_env *env = &p->env;
    cudaStream_t s = env->stream;
    cudaError_t e = cudaSetDevice(env->device);
    if (e != cudaSuccess)
        return fail_cuda(err, err_size, e, "cudaSetDevice");
    *n = 0;
    cudaEvent_t *ev = (cudaEvent_t *)av__calloc((size_t)p->n_steps + 1, sizeof *ev);
    if (!ev)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av_status st = AV_STATUS_OK;
    int made = 0;
    for (; made <= p->n_steps; made++)
        if ((e = cudaEventCreate(&ev[made])) != cudaSuccess) {
            st = fail_cuda(err, err_size, e, "cudaEventCreate");
            break;
        }
    if (st == AV_STATUS_OK)
        st = upload_inputs(p, input_data, err, err_size);
    if (st == AV_STATUS_OK) {
        const av__graph *g = p->g;
        char label[256];
        cudaEventRecord(ev[0], s);
        for (int k = 0; k < p->n_steps && st == AV_STATUS_OK; k++) {
            run_step *rs = &p->steps[k];
            p->op_err[0] = '\0';
            if (rs->folded) {
                /* done by an earlier step's epilogue */
            } else if (rs->cpu) {
                /* the fallback alone: its transfers are part of its cost */
                const av__node *node = &g->nodes[rs->node];
                for (int i = 0; i < node->n_inputs && st == AV_STATUS_OK; i++) {
                    int v = node->inputs[i];
                    if (v >= 0 && p->kind[v] != AV__CUDA_VALUE_CONST &&
                        p->kind[v] != AV__CUDA_VALUE_PLANNED)
                        st = download_value(p, v, err, err_size);
                }
                if (st == AV_STATUS_OK && (st = rs->op->run(&rs->octx)) != AV_STATUS_OK) {
                    label_of(g, rs->node, label, sizeof label);
                    st = av__fail(err, err_size, st, "node %s: %s", label, p->op_err);
                }
                for (int o = 0; o < node->n_outputs && st == AV_STATUS_OK; o++)
                    if (node->outputs[o] >= 0)
                        st = upload_value(p, node->outputs[o], err, err_size);
            } else if ((st = rs->kernel->run(&rs->cctx)) != AV_STATUS_OK) {
                label_of(g, rs->node, label, sizeof label);
                st = av__fail(err, err_size, st, "node %s: %s", label, p->op_err);
            }
            cudaEventRecord(ev[k + 1], s);
        }
        if ((e = cudaStreamSynchronize(s)) != cudaSuccess && st == AV_STATUS_OK)
            st = fail_cuda(err, err_size, e, "profiling the plan on the GPU");
        for (int k = 0; k < p->n_steps && st == AV_STATUS_OK; k++) {
            float t = 0;
            cudaEventElapsedTime(&t, ev[k], ev[k + 1]);
            nodes[k] = p->steps[k].node;
            ms[k] = t;
            *n = k + 1;
        }
    }
    for (int i = 0; i < made; i++)
        cudaEventDestroy(ev[i]);
    av__free(ev);
    return st;
}

void av__cuda_plan_stats(const av__cuda_plan *p, size_t *device_bytes, int *cpu_steps,
                         int *graph_replay)
{
    size_t bytes = p->arena_bytes + p->scratch_bytes;
    for (int v = 0; v < p->n_values; v++)
        if (p->kind[v] == AV__CUDA_VALUE_PLANNED || p->kind[v] == AV__CUDA_VALUE_INPUT)
            bytes += (size_t)av__tensor_count(&p->dev[v]) * dtype_bytes(p->dev[v].dtype);
    if (device_bytes)
        *device_bytes = bytes;
    int cpu = 0;
    for (int k = 0; k < p->n_steps; k++)
        cpu += p->steps[k].cpu;
    if (cpu_steps)
        *cpu_steps = cpu;
    if (graph_replay)
        *graph_replay = p->exec != NULL;
}

const char *av__cuda_plan_note(const av__cuda_plan *p) { return p->note; }

int av__cuda_plan_folded(const av__cuda_plan *p) { return p->folded_steps; }

int av__cuda_absorbs_leaky(const char *domain, const char *op_type)
{
    const av__cuda_kernel *k = av__cuda_kernel_find(domain, op_type);
    return k && k->absorb_leaky;
}

int av__cuda_plan_cpu_step(const av__cuda_plan *p, int i, const char **why)
{
    for (int k = 0; k < p->n_steps; k++)
        if (p->steps[k].cpu && i-- == 0) {
            *why = p->steps[k].why;
            return p->steps[k].node;
        }
    return -1;
}

/* ---- one node, for the tests ------------------------------------------------------------------ */

namespace {
enum { NODE_MAX_IO = 32 };
/* The one-node graph a node plan runs: owned by the plan. */
struct node_graph {
    av__graph g;
    av__node node;
    int in_idx[NODE_MAX_IO], out_idx[NODE_MAX_IO], graph_inputs[NODE_MAX_IO],
        graph_outputs[NODE_MAX_IO];
};
} // namespace

av_status av__cuda_node_plan(av__cuda_context *cx, const av__node *node, int64_t opset, int n_in,
                             const av__tensor *const *in, uint32_t const_mask, int n_out,
                             av__tensor *out_shapes, const void **input_data, av__cuda_plan **out,
                             char *err, size_t err_size)
{
    *out = NULL;
    for (int o = 0; o < n_out; o++)
        memset(&out_shapes[o], 0, sizeof out_shapes[o]);
    if (n_in > NODE_MAX_IO || n_out > NODE_MAX_IO || n_in != node->n_inputs ||
        n_out != node->n_outputs)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "node plan: bad input counts");
    const av__op *op = av__op_find(node->domain ? node->domain : "", node->op_type);
    if (!op)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, "no operator %s", node->op_type);
    /* shapes from the CPU operator */
    av__tensor *out_ptrs[NODE_MAX_IO];
    for (int o = 0; o < n_out; o++)
        out_ptrs[o] = &out_shapes[o];
    char msg[768];
    av__op_ctx ictx = {};
    ictx.node = node;
    ictx.opset = opset;
    ictx.n_in = n_in;
    ictx.in = in;
    ictx.n_out = n_out;
    ictx.out = out_ptrs;
    ictx.err = msg;
    ictx.err_size = sizeof msg;
    av_status st = op->infer(&ictx);
    if (st != AV_STATUS_OK)
        return av__fail(err, err_size, st, "infer: %s", msg);
    node_graph *ng = (node_graph *)av__calloc(1, sizeof *ng);
    if (!ng)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    /* values 0..n_in-1 the inputs, then the outputs */
    av__cuda_value values[2 * NODE_MAX_IO];
    int n_graph_inputs = 0;
    memset(values, 0, sizeof values);
    for (int i = 0; i < n_in; i++) {
        ng->in_idx[i] = in[i] ? i : -1;
        if (!in[i])
            continue;
        values[i].host = in[i];
        if (const_mask & (1u << i)) {
            values[i].kind = AV__CUDA_VALUE_PLANNED; /* per plan: test buffers get reused */
        } else {
            values[i].kind = AV__CUDA_VALUE_INPUT;
            input_data[n_graph_inputs] = in[i]->data;
            ng->graph_inputs[n_graph_inputs++] = i;
        }
    }
    size_t arena = 0;
    for (int o = 0; o < n_out; o++) {
        ng->out_idx[o] = n_in + o;
        values[n_in + o].kind = AV__CUDA_VALUE_ARENA;
        values[n_in + o].host = &out_shapes[o];
        values[n_in + o].graph_output = 1;
        values[n_in + o].offset = arena;
        ng->graph_outputs[o] = n_in + o;
        arena += (av__tensor_bytes(&out_shapes[o]) + 255) / 256 * 256;
    }
    ng->node = *node;
    ng->node.inputs = ng->in_idx;
    ng->node.outputs = ng->out_idx;
    ng->g.opset = opset;
    ng->g.n_values = n_in + n_out;
    ng->g.n_nodes = 1;
    ng->g.nodes = &ng->node;
    ng->g.n_inputs = n_graph_inputs;
    ng->g.inputs = ng->graph_inputs;
    ng->g.n_outputs = n_out;
    ng->g.outputs = ng->graph_outputs;
    av__cuda_step step = {0, op};
    st = av__cuda_plan_create(cx, &ng->g, values, &step, 1, arena, 1234, out, err, err_size);
    if (st != AV_STATUS_OK) {
        av__free(ng);
        return st;
    }
    (*out)->owned_graph = ng;
    /* poison the outputs: unwritten elements show up */
    if (arena && cudaMemset((*out)->arena, 0xA5, arena) != cudaSuccess)
        cudaGetLastError();
    return AV_STATUS_OK;
}

int av__cuda_plan_on_gpu(const av__cuda_plan *p, int step)
{
    return step >= 0 && step < p->n_steps && !p->steps[step].cpu;
}

av_status av__cuda_eval_node(av__cuda_context *cx, const av__node *node, int64_t opset, int n_in,
                             const av__tensor *const *in, uint32_t const_mask, int n_out,
                             av__tensor *outs, int *on_gpu, char *err, size_t err_size)
{
    av__tensor shapes[NODE_MAX_IO];
    const void *input_data[NODE_MAX_IO];
    av__cuda_plan *p = NULL;
    *on_gpu = 0;
    for (int o = 0; o < n_out; o++)
        memset(&outs[o], 0, sizeof outs[o]);
    av_status st = av__cuda_node_plan(cx, node, opset, n_in, in, const_mask, n_out, shapes,
                                      input_data, &p, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    st = av__cuda_plan_run(p, input_data, err, err_size);
    if (st == AV_STATUS_OK) {
        *on_gpu = av__cuda_plan_on_gpu(p, 0);
        for (int o = 0; o < n_out && st == AV_STATUS_OK; o++) {
            outs[o] = shapes[o];
            size_t bytes = av__tensor_bytes(&shapes[o]);
            outs[o].data = av__aligned_alloc(bytes ? bytes : 64);
            if (!outs[o].data) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                break;
            }
            memcpy(outs[o].data, av__cuda_plan_output(p, n_in + o), bytes);
        }
    }
    if (st != AV_STATUS_OK)
        for (int o = 0; o < n_out; o++) {
            av__aligned_free(outs[o].data);
            outs[o].data = NULL;
        }
    av__cuda_plan_free(p);
    return st;
}
