/* CUDA-versus-CPU checks of single operators, for the CUDA backend's kernel tests
 * (tests/c/test_cuda_*.c). Each check runs a node on the CPU (its registered op, stateful ops
 * prepared) and on the GPU through av__cuda_eval_node, once in fp32 math and once in fp16
 * storage, and compares every output:
 *   float outputs   fp32: relative L2 <= tol32 (default 1e-5); fp16: relative L2 <= tol16
 *                   (default 1e-2) and SNR >= snr16 dB (default 40)
 *   other outputs   identical
 * Inputs are the caller's host tensors; bit i of const_mask marks input i as a constant (a
 * weight: the kernel's prepare() sees it). A node the GPU declines (CPU fallback) fails the check
 * unless expect_gpu is 0. One line per check goes to stdout:
 *   label  fp32 relL2  fp16 relL2  fp16 SNR
 *
 *   cuda_harness h;
 *   if (!cuda_harness_open(&h)) SKIP("%s", h.why);
 *   cuda_check(&h, "Add broadcast 3x1x5", node, 17, 2, ins, 0, &(cuda_tol){0});
 *   cuda_harness_close(&h);
 *   return check_report("test_cuda_x");
 */
#ifndef AV_TESTS_CUDA_HARNESS_H
#define AV_TESTS_CUDA_HARNESS_H

#include <math.h>
#include <stdio.h>

#include "check.h"
#include "core/cuda_probe.h"
#include "cuda/backend.h"
#include "op_harness.h"

typedef struct cuda_harness {
    av__cuda_context *cx[2]; /* [0] fp32 math, [1] fp16 storage */
    char why[512];           /* why there is no GPU (cuda_harness_open returned 0) */
} cuda_harness;

typedef struct cuda_tol {
    double tol32, tol16, snr16; /* 0: the defaults above */
    int cpu_ok;                 /* 1: a CPU fallback is expected / allowed */
    int skip_fp16;              /* 1: check fp32 math only (integer-valued floats, indices...) */
} cuda_tol;

/* 1 with both contexts open on GPU 0; 0 with h->why set when there is no backend or no GPU. */
static inline int cuda_harness_open(cuda_harness *h)
{
    memset(h, 0, sizeof *h);
    int count = 0;
    if (!av__cuda_built()) {
        snprintf(h->why, sizeof h->why, "CUDA backend not built into this binary");
        return 0;
    }
    if (av__cuda_device_count(&count, h->why, sizeof h->why) != AV_STATUS_OK || count == 0) {
        if (!h->why[0])
            snprintf(h->why, sizeof h->why, "no CUDA device");
        return 0;
    }
    if (av__cuda_context_create(0, AV_GPU_FP32, &h->cx[0], h->why, sizeof h->why) != AV_STATUS_OK ||
        av__cuda_context_create(0, AV_GPU_FP16, &h->cx[1], h->why, sizeof h->why) != AV_STATUS_OK) {
        fprintf(stderr, "cuda_harness: %s\n", h->why);
        check_failures++;
        return 0;
    }
    return 1;
}

static inline void cuda_harness_close(cuda_harness *h)
{
    av__cuda_context_free(h->cx[0]);
    av__cuda_context_free(h->cx[1]);
}

/* The CPU result of node n (any domain; stateful ops prepared and released). */
static inline av_status cuda_cpu_run(const av__node *n, int64_t opset, int n_in,
                                     const av__tensor *const *in, int n_out, av__tensor *outs,
                                     char *err, size_t err_size)
{
    const av__op *op = av__op_find(n->domain ? n->domain : "", n->op_type);
    if (!op) {
        snprintf(err, err_size, "no CPU operator %s", n->op_type);
        return AV_STATUS_UNSUPPORTED;
    }
    av__tensor *o[16];
    for (int i = 0; i < n_out; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        o[i] = &outs[i];
    }
    av__op_ctx ctx = {.node = n, .opset = opset, .n_in = n_in, .in = in, .n_out = n_out,
                      .out = o, .seed = 1234, .err = err, .err_size = err_size};
    av_status st = op->infer(&ctx);
    if (st != AV_STATUS_OK)
        return st;
    const av__op_stateful *sop = av__op_stateful_of(op);
    void *state = NULL, *scratch = NULL;
    if (sop && (st = sop->prepare(&ctx, &state)) != AV_STATUS_OK)
        return st;
    ctx.state = state;
    for (int i = 0; i < n_out; i++) {
        size_t bytes = av__tensor_bytes(o[i]);
        o[i]->data = av__aligned_alloc(bytes ? bytes : 1);
        memset(o[i]->data, 0xA5, bytes);
    }
    if (op->scratch_bytes) {
        scratch = av__aligned_alloc(op->scratch_bytes(&ctx) + 64);
        ctx.scratch = scratch;
    }
    st = op->run(&ctx);
    av__aligned_free(scratch);
    if (sop)
        sop->release(state);
    return st;
}

/* Relative L2 error of b against a, and SNR in dB (inf when equal), over float32 tensors. */
static inline void cuda_compare_f32(const float *a, const float *b, int64_t n, double *rel,
                                    double *snr, int *nan_mismatch)
{
    double num = 0, den = 0;
    *nan_mismatch = 0;
    for (int64_t i = 0; i < n; i++) {
        int na = a[i] != a[i], nb = b[i] != b[i];
        if (na || nb) {
            if (na != nb)
                (*nan_mismatch)++;
            continue;
        }
        if (isinf(a[i]) || isinf(b[i])) {
            if (a[i] != b[i])
                (*nan_mismatch)++;
            continue;
        }
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)a[i] * a[i];
    }
    *rel = den > 0 ? sqrt(num / den) : sqrt(num);
    *snr = num == 0 ? INFINITY : 10 * log10((den > 0 ? den : 1e-300) / num);
}

/* One check (see the top of the file). Returns 1 when it passed. */
static inline int cuda_check(cuda_harness *h, const char *label, const av__node *n, int64_t opset,
                             int n_in, const av__tensor *const *in, uint32_t const_mask,
                             const cuda_tol *tol_in)
{
    cuda_tol tol = tol_in ? *tol_in : (cuda_tol){0};
    double tol32 = tol.tol32 > 0 ? tol.tol32 : 1e-5, tol16 = tol.tol16 > 0 ? tol.tol16 : 1e-2;
    double snr16 = tol.snr16 > 0 ? tol.snr16 : 40;
    char err[1024];
    int n_out = n->n_outputs;
    av__tensor ref[16], got[16];
    int ok = 1;
    av_status st = cuda_cpu_run(n, opset, n_in, in, n_out, ref, err, sizeof err);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "%s: CPU run failed: %s\n", label, err);
        check_failures++;
        return 0;
    }
    double rel[2] = {0, 0}, snr[2] = {INFINITY, INFINITY};
    for (int m = 0; m < 2; m++) {
        if (m == 1 && tol.skip_fp16)
            break;
        int on_gpu = 0;
        st = av__cuda_eval_node(h->cx[m], n, opset, n_in, in, const_mask, n_out, got, &on_gpu, err,
                                sizeof err);
        if (st != AV_STATUS_OK) {
            fprintf(stderr, "%s (%s): GPU run failed: %s\n", label, m ? "fp16" : "fp32", err);
            ok = 0;
            continue;
        }
        if (!on_gpu && !tol.cpu_ok) {
            fprintf(stderr, "%s (%s): ran on the CPU fallback, not the GPU\n", label,
                    m ? "fp16" : "fp32");
            ok = 0;
        }
        for (int o = 0; o < n_out; o++) {
            if (ref[o].dtype != got[o].dtype || ref[o].ndim != got[o].ndim ||
                memcmp(ref[o].shape, got[o].shape, sizeof(int64_t) * (size_t)ref[o].ndim) != 0) {
                fprintf(stderr, "%s (%s): output %d type or shape differs\n", label,
                        m ? "fp16" : "fp32", o);
                ok = 0;
                continue;
            }
            int64_t cnt = (int64_t)(av__tensor_bytes(&ref[o]) / sizeof(float));
            if (ref[o].dtype == AV__DT_F32) {
                double r, s;
                int bad;
                cuda_compare_f32((const float *)ref[o].data, (const float *)got[o].data, cnt, &r,
                                 &s, &bad);
                if (r > rel[m])
                    rel[m] = r;
                if (s < snr[m])
                    snr[m] = s;
                if (bad) {
                    fprintf(stderr, "%s (%s): output %d: %d NaN/inf mismatches\n", label,
                            m ? "fp16" : "fp32", o, bad);
                    ok = 0;
                }
                if (m == 0 && r > tol32) {
                    fprintf(stderr, "%s (fp32): output %d relative L2 %.3g > %.3g\n", label, o, r,
                            tol32);
                    ok = 0;
                }
                if (m == 1 && (r > tol16 || s < snr16)) {
                    fprintf(stderr, "%s (fp16): output %d relative L2 %.3g (max %.3g), SNR %.1f dB "
                            "(min %.1f)\n", label, o, r, tol16, s, snr16);
                    ok = 0;
                }
            } else if (memcmp(ref[o].data, got[o].data, av__tensor_bytes(&ref[o])) != 0) {
                fprintf(stderr, "%s (%s): output %d (%s) differs from the CPU's\n", label,
                        m ? "fp16" : "fp32", o, av__dtype_name(ref[o].dtype));
                ok = 0;
            }
        }
        for (int o = 0; o < n_out; o++)
            av__aligned_free(got[o].data);
    }
    for (int o = 0; o < n_out; o++)
        av__aligned_free(ref[o].data);
    printf("%-44s fp32 %-9.3g fp16 %-9.3g SNR %6.1f dB %s\n", label, rel[0], rel[1], snr[1],
           ok ? "ok" : "FAIL");
    if (!ok)
        check_failures++;
    return ok;
}

#endif /* AV_TESTS_CUDA_HARNESS_H */
