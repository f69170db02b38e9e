/* Test harness for single operators: build a node with attributes, feed tensors, run the op's
 * infer() and run() the way the executor does, and compare outputs.
 *
 *   opt_node *n = opt_node_new("Conv");
 *   opt_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
 *   av__tensor x = opt_f32(3, (int64_t[]){1, 2, 5}, data);    // data copied
 *   av__tensor *outs[1];
 *   av_status st = opt_run(n, 17, 2, (const av__tensor *[]){&x, &w}, 1, outs, err, sizeof err);
 *   ... outs[0] is allocated by the harness (shape from infer) ...
 *   opt_free_tensor(outs[0]); opt_node_free(n);
 */
#ifndef AV_TESTS_OP_HARNESS_H
#define AV_TESTS_OP_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/op.h"

typedef av__node opt_node;

static inline opt_node *opt_node_new(const char *op_type)
{
    av__node *n = av__calloc(1, sizeof *n);
    n->op_type = strdup(op_type);
    n->domain = strdup("");
    n->name = strdup("test_node");
    return n;
}

static inline av__attr *opt_attr_add(opt_node *n, const char *name, av__attr_type type)
{
    n->attrs = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
    av__attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static inline void opt_attr_int(opt_node *n, const char *name, int64_t v)
{
    opt_attr_add(n, name, AV__ATTR_INT)->i = v;
}

static inline void opt_attr_float(opt_node *n, const char *name, float v)
{
    opt_attr_add(n, name, AV__ATTR_FLOAT)->f = v;
}

static inline void opt_attr_string(opt_node *n, const char *name, const char *v)
{
    av__attr *a = opt_attr_add(n, name, AV__ATTR_STRING);
    a->s = strdup(v);
    a->s_len = strlen(v);
}

static inline void opt_attr_ints(opt_node *n, const char *name, int count, const int64_t *v)
{
    av__attr *a = opt_attr_add(n, name, AV__ATTR_INTS);
    a->count = count;
    a->ints = malloc((size_t)(count ? count : 1) * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)count * sizeof *v);
}

static inline void opt_attr_floats(opt_node *n, const char *name, int count, const float *v)
{
    av__attr *a = opt_attr_add(n, name, AV__ATTR_FLOATS);
    a->count = count;
    a->floats = malloc((size_t)(count ? count : 1) * sizeof *a->floats);
    memcpy(a->floats, v, (size_t)count * sizeof *v);
}

/* A tensor attribute; takes a copy of t (data included). */
static inline void opt_attr_tensor(opt_node *n, const char *name, const av__tensor *t)
{
    av__attr *a = opt_attr_add(n, name, AV__ATTR_TENSOR);
    a->t = malloc(sizeof *a->t);
    *a->t = *t;
    size_t bytes = av__tensor_bytes(t);
    a->t->data = av__aligned_alloc(bytes);
    memcpy(a->t->data, t->data, bytes);
}

static inline void opt_node_free(opt_node *n)
{
    av__node_clear(n);
    av__free(n);
}

/* A tensor of `dtype` and shape, data copied from `data` (NULL: zero-filled). Free with
 * opt_free_tensor_data. */
static inline av__tensor opt_tensor(av__dtype dtype, int ndim, const int64_t *shape, const void *data)
{
    av__tensor t = {.dtype = dtype, .ndim = ndim};
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    size_t bytes = av__tensor_bytes(&t);
    t.data = av__aligned_alloc(bytes);
    if (data)
        memcpy(t.data, data, bytes);
    else
        memset(t.data, 0, bytes);
    return t;
}

static inline av__tensor opt_f32(int ndim, const int64_t *shape, const float *data)
{
    return opt_tensor(AV__DT_F32, ndim, shape, data);
}

static inline av__tensor opt_i64(int ndim, const int64_t *shape, const int64_t *data)
{
    return opt_tensor(AV__DT_I64, ndim, shape, data);
}

static inline void opt_free_tensor_data(av__tensor *t)
{
    av__aligned_free(t->data);
    t->data = NULL;
}

static inline void opt_free_tensor(av__tensor *t)
{
    if (t) {
        av__aligned_free(t->data);
        free(t);
    }
}

/* Runs infer() then run() of the registered op n->op_type at `opset`. Inputs may be NULL
 * (omitted optional inputs). On success outs[i] are heap tensors with data (free each with
 * opt_free_tensor); on failure outs[i] are NULL and err says why. `pool` may be NULL. */
static inline av_status opt_run_pool(const opt_node *n, int64_t opset, int n_in,
                                     const av__tensor *const *in, int n_out, av__tensor **outs,
                                     av__threadpool *pool, char *err, size_t err_size)
{
    const av__op *op = av__op_find("", n->op_type);
    for (int i = 0; i < n_out; i++)
        outs[i] = NULL;
    if (!op) {
        snprintf(err, err_size, "no operator %s", n->op_type);
        return AV_STATUS_UNSUPPORTED;
    }
    av__tensor *o[16];
    for (int i = 0; i < n_out; i++)
        o[i] = calloc(1, sizeof(av__tensor));
    av__op_ctx ctx = {.node = n, .opset = opset, .n_in = n_in, .in = in, .n_out = n_out,
                      .out = o, .pool = pool, .seed = 1234, .err = err, .err_size = err_size};
    av_status st = op->infer(&ctx);
    void *scratch = NULL;
    if (st == AV_STATUS_OK) {
        for (int i = 0; i < n_out; i++) {
            size_t bytes = av__tensor_bytes(o[i]);
            o[i]->data = av__aligned_alloc(bytes);
            /* poison: a kernel that leaves elements unwritten shows up */
            if (o[i]->data)
                memset(o[i]->data, 0xA5, bytes);
        }
        if (op->scratch_bytes) {
            scratch = av__aligned_alloc(op->scratch_bytes(&ctx));
            ctx.scratch = scratch;
        }
        st = op->run(&ctx);
    }
    av__aligned_free(scratch);
    for (int i = 0; i < n_out; i++) {
        if (st == AV_STATUS_OK) {
            outs[i] = o[i];
        } else {
            av__aligned_free(o[i]->data);
            free(o[i]);
        }
    }
    return st;
}

static inline av_status opt_run(const opt_node *n, int64_t opset, int n_in,
                                const av__tensor *const *in, int n_out, av__tensor **outs,
                                char *err, size_t err_size)
{
    return opt_run_pool(n, opset, n_in, in, n_out, outs, NULL, err, err_size);
}

/* max |a - b| over two float32 buffers of n elements (NaN in either counts as infinite unless
 * both are NaN). */
static inline double opt_max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (a[i] != a[i] || b[i] != b[i]) {
            if (!(a[i] != a[i] && b[i] != b[i]))
                return 1.0 / 0.0;
            continue;
        }
        double d = a[i] > b[i] ? (double)a[i] - b[i] : (double)b[i] - a[i];
        if (d > m)
            m = d;
    }
    return m;
}

/* Deterministic pseudo-random floats in [lo, hi) for kernel tests (prints nothing; tests print
 * the seed on failure). */
static inline void opt_fill_random(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * av__rng_uniform(seed, (uint64_t)i);
}

#endif /* AV_TESTS_OP_HARNESS_H */
