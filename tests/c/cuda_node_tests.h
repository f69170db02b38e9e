/* Shared by the CUDA kernel tests of the shape and reduce families (tests/c/test_cuda_shape.c,
 * test_cuda_reduce.c): nodes as the backend's single-node plans want them, random inputs from a
 * seed sequence, and run() / run_replay(): one CPU-versus-GPU check (cuda_harness.h), and for
 * run_replay() also three runs of one plan in each math mode, which must replay a CUDA graph and
 * give the same bytes every time. Include once per test program, after defining SEED. */
#ifndef AV_TESTS_CUDA_NODE_TESTS_H
#define AV_TESTS_CUDA_NODE_TESTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_harness.h"

#ifndef SEED
#error "define SEED before including cuda_node_tests.h"
#endif

static uint64_t seed_next = SEED;

#define MAX_IN 8

/* A node of op_type with n_in inputs (values 0..n_in-1, -1 where `absent` has the bit) and
 * n_out outputs, as the backend's single-node plans want it. */
static inline opt_node *node_new(const char *op_type, int n_in, uint32_t absent, int n_out)
{
    opt_node *n = opt_node_new(op_type);
    n->n_inputs = n_in;
    n->inputs = av__malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    for (int i = 0; i < n_in; i++)
        n->inputs[i] = (absent >> i) & 1 ? -1 : i;
    n->n_outputs = n_out;
    n->outputs = av__malloc(sizeof(int) * (size_t)n_out);
    for (int o = 0; o < n_out; o++)
        n->outputs[o] = n_in + o;
    return n;
}

/* Random float32 in [lo, hi). */
static inline av__tensor rand_f32(int nd, const int64_t *shape, float lo, float hi)
{
    av__tensor t = opt_tensor(AV__DT_F32, nd, shape, NULL);
    opt_fill_random(t.data, av__tensor_count(&t), seed_next++, lo, hi);
    return t;
}

/* Random int64 (or int32) in [lo, hi]. */
static inline av__tensor rand_int(av__dtype dt, int nd, const int64_t *shape, int64_t lo,
                                  int64_t hi)
{
    av__tensor t = opt_tensor(dt, nd, shape, NULL);
    uint64_t s = seed_next++;
    for (int64_t i = 0; i < av__tensor_count(&t); i++) {
        int64_t v = lo + (int64_t)(av__rng_u64(s, (uint64_t)i) % (uint64_t)(hi - lo + 1));
        if (dt == AV__DT_I64)
            ((int64_t *)t.data)[i] = v;
        else
            ((int32_t *)t.data)[i] = (int32_t)v;
    }
    return t;
}

/* A 1-D int64 tensor of n values. */
static inline av__tensor ints(int n, const int64_t *v)
{
    return opt_i64(1, (int64_t[]){n}, v);
}

static inline av__tensor scalar_f32(float v)
{
    return opt_f32(0, NULL, &v);
}

static inline av__tensor scalar_i64(int64_t v)
{
    return opt_i64(0, NULL, &v);
}

/* Runs node n three times through one plan in each math mode, as a session does: the second run
 * captures the step into a CUDA graph, the third replays it. Checks that the plan replays a
 * graph (the kernel's run() is capturable) and that every run gives the bytes of the first,
 * eager one (the kernel is deterministic). */
static inline void replay_check(cuda_harness *h, const char *label, const av__node *n,
                                int64_t opset, int n_in, const av__tensor *const *in,
                                uint32_t const_mask)
{
    enum { MAXV = 16 };
    char err[1024] = "";
    int n_out = n->n_outputs;
    for (int m = 0; m < 2; m++) {
        const char *mode = m ? "fp16" : "fp32";
        av__tensor shapes[MAXV];
        const void *data[MAXV] = {0};
        av__cuda_plan *p = NULL;
        void *first[MAXV] = {0};
        int ok = 1, replay = 0, cpu = 0;
        av_status st = av__cuda_node_plan(h->cx[m], n, opset, n_in, in, const_mask, n_out, shapes,
                                          data, &p, err, sizeof err);
        for (int r = 0; st == AV_STATUS_OK && r < 3; r++) {
            st = av__cuda_plan_run(p, data, err, sizeof err);
            for (int o = 0; st == AV_STATUS_OK && o < n_out; o++) {
                size_t bytes = av__tensor_bytes(&shapes[o]);
                const void *got = av__cuda_plan_output(p, n_in + o);
                if (r == 0) {
                    first[o] = malloc(bytes ? bytes : 1);
                    memcpy(first[o], got, bytes);
                } else if (memcmp(first[o], got, bytes) != 0) {
                    fprintf(stderr, "%s (%s): output %d of run %d differs from run 1\n", label,
                            mode, o, r + 1);
                    ok = 0;
                }
            }
        }
        if (st != AV_STATUS_OK) {
            fprintf(stderr, "%s (%s): %s\n", label, mode, err);
            ok = 0;
        } else {
            av__cuda_plan_stats(p, NULL, &cpu, &replay);
            if (!replay || cpu) {
                fprintf(stderr, "%s (%s): no CUDA graph replay (%d CPU steps)\n", label, mode,
                        cpu);
                ok = 0;
            }
        }
        for (int o = 0; o < n_out; o++)
            free(first[o]);
        av__cuda_plan_free(p);
        printf("%-44s %s graph replay, 3 runs equal %s\n", label, mode, ok ? "ok" : "FAIL");
        if (!ok)
            check_failures++;
    }
}

/* One check of node n on inputs in[0..n_in) (those the node marks absent are passed as NULL),
 * and the replay check when `replay`; frees the node and the inputs. */
static inline void run_check(cuda_harness *h, const char *label, opt_node *n, int64_t opset,
                             int n_in, av__tensor *in, uint32_t const_mask, const cuda_tol *tol,
                             int replay)
{
    const av__tensor *ptrs[MAX_IN];
    for (int i = 0; i < n_in; i++)
        ptrs[i] = n->inputs[i] >= 0 ? &in[i] : NULL;
    cuda_check(h, label, n, opset, n_in, ptrs, const_mask, tol);
    if (replay)
        replay_check(h, label, n, opset, n_in, ptrs, const_mask);
    for (int i = 0; i < n_in; i++)
        if (n->inputs[i] >= 0)
            opt_free_tensor_data(&in[i]);
    opt_node_free(n);
}

static inline void run(cuda_harness *h, const char *label, opt_node *n, int64_t opset, int n_in,
                       av__tensor *in, uint32_t const_mask, const cuda_tol *tol)
{
    run_check(h, label, n, opset, n_in, in, const_mask, tol, 0);
}

/* run(), plus the CUDA graph replay check. */
static inline void run_replay(cuda_harness *h, const char *label, opt_node *n, int64_t opset,
                              int n_in, av__tensor *in, uint32_t const_mask, const cuda_tol *tol)
{
    run_check(h, label, n, opset, n_in, in, const_mask, tol, 1);
}

#define IN(...) ((av__tensor[]){__VA_ARGS__})
#define SHAPE(...) ((int64_t[]){__VA_ARGS__})
#define COUNT(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
/* An int64 list value (starts, axes, pads, ...). */
#define LIST(...) ints(COUNT(__VA_ARGS__), SHAPE(__VA_ARGS__))

#endif /* AV_TESTS_CUDA_NODE_TESTS_H */
