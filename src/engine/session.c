/* Sessions: binding inputs, planning for the current input shapes, running the plan.
 *
 * A plan is made for one set of input shapes (and for the data of the inputs that decide shapes,
 * such as a Reshape target fed as an input). Planning walks the nodes in topological order,
 * infers every shape, evaluates at once the nodes that compute shapes (Shape, Size, and whatever
 * feeds an operator's shape-deciding inputs, plus anything computable from those), and schedules
 * the rest. Every scheduled intermediate gets an offset in one arena: values whose lifetimes
 * [producer step, last consumer step] overlap never share bytes; the others reuse memory
 * (greedy placement, largest first). A scratch region for im2col-style buffers follows the arena.
 * Running a plan allocates nothing. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "cuda/backend.h"
#include "engine/engine_internal.h"
#include "engine/plan_format.h"

enum value_kind { KIND_NONE, KIND_CONST, KIND_INPUT, KIND_PLANNED, KIND_ARENA };

typedef struct plan_value {
    av__tensor t;
    int kind;
    int first, last;       /* KIND_ARENA: steps that produce / last read it */
    size_t offset, bytes;
    int alias;             /* KIND_ARENA: value whose memory this one takes over, or -1 */
} plan_value;

typedef struct plan_step {
    int node;
    int in_start, out_start; /* into plan.in_ptrs / plan.out_ptrs */
    void *state;             /* a stateful op's prepared state (ops/op.h), or NULL */
    void (*release)(void *state);
} plan_step;

typedef struct plan {
    plan_value *vals;
    plan_step *steps;
    int n_steps;
    const av__tensor **in_ptrs;
    av__tensor **out_ptrs;
    void *arena;
    size_t arena_bytes, scratch_bytes, planned_bytes, naive_bytes;
    double gflop;
    int in_place;
    void **owned;          /* data of KIND_PLANNED values */
    int n_owned;
    av__cuda_plan *cuda;   /* a CUDA session's device side (then `arena` is NULL) */
} plan;

typedef struct bound_input {
    int bound;
    av__dtype dtype;
    int ndim;
    int64_t shape[AV__MAX_DIMS];
    const void *data;
} bound_input;

struct av_session {
    const av_model *model;
    av__threadpool *pool;
    av__cuda_context *cuda; /* a CUDA session's device, stream and constants, else NULL */
    int device_index;
    av_gpu_math gpu_math;
    uint64_t seed;
    bound_input *inputs;
    plan *plan;
    /* the plan's key: shapes of every input and copies of shape-deciding inputs' data */
    bound_input *key;
    void **key_data;
    int ran;               /* outputs hold the results of a successful run */
    av__session_observer observer; /* called after every step of a run (the builder's), or NULL */
    void *observer_user;
    char err[1024];
};

av_session_config av_session_config_default(void)
{
    av_session_config c = {.threads = 0, .seed = 0x5eed, .device = AV_DEVICE_CPU,
                           .device_index = 0, .gpu_math = AV_GPU_FP32};
    return c;
}

static void plan_free(plan *p)
{
    if (!p)
        return;
    av__cuda_plan_free(p->cuda);
    for (int k = 0; k < p->n_steps; k++)
        if (p->steps[k].release)
            p->steps[k].release(p->steps[k].state);
    for (int i = 0; i < p->n_owned; i++)
        av__aligned_free(p->owned[i]);
    av__free(p->owned);
    av__aligned_free(p->arena);
    av__free(p->vals);
    av__free(p->steps);
    av__free(p->in_ptrs);
    av__free(p->out_ptrs);
    av__free(p);
}

static void clear_key(av_session *s)
{
    int n = s->model->g->n_inputs;
    for (int i = 0; i < n; i++) {
        av__free(s->key_data[i]);
        s->key_data[i] = NULL;
        s->key[i].bound = 0;
    }
}

av_status av_session_create(const av_model *model, const av_session_config *config,
                            av_session **out, char *err, size_t err_size)
{
    if (!out || !model)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_session_create: NULL argument");
    *out = NULL;
    av_session_config cfg = config ? *config : av_session_config_default();
    av_session *s = av__calloc(1, sizeof *s);
    if (!s)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    s->model = model;
    s->seed = cfg.seed;
    int n = model->g->n_inputs;
    s->inputs = av__calloc((size_t)n + 1, sizeof *s->inputs);
    s->key = av__calloc((size_t)n + 1, sizeof *s->key);
    s->key_data = av__calloc((size_t)n + 1, sizeof *s->key_data);
    if (!s->inputs || !s->key || !s->key_data) {
        av_session_free(s);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    av_status st = av__threadpool_create(cfg.threads, &s->pool);
    if (st != AV_STATUS_OK) {
        av_session_free(s);
        return av__fail(err, err_size, st, "cannot start %d threads", cfg.threads);
    }
    if (cfg.device == AV_DEVICE_CUDA) {
        s->device_index = cfg.device_index;
        s->gpu_math = cfg.gpu_math;
        st = av__cuda_context_create(cfg.device_index, cfg.gpu_math, &s->cuda, err, err_size);
        if (st != AV_STATUS_OK) {
            av_session_free(s);
            return st;
        }
    } else if (cfg.device != AV_DEVICE_CPU) {
        av_session_free(s);
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "unknown device kind %d",
                        (int)cfg.device);
    }
    *out = s;
    return AV_STATUS_OK;
}

void av_session_free(av_session *s)
{
    if (!s)
        return;
    plan_free(s->plan);
    if (s->key_data)
        clear_key(s);
    av__free(s->key);
    av__free(s->key_data);
    av__free(s->inputs);
    av__threadpool_free(s->pool);
    av__cuda_context_free(s->cuda);
    av__free(s);
}

const char *av_session_last_error(const av_session *s) { return s ? s->err : "no session"; }

void av__session_set_observer(av_session *s, av__session_observer fn, void *user)
{
    s->observer = fn;
    s->observer_user = user;
}

static av_status session_fail(av_session *s, av_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static av_status session_fail(av_session *s, av_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

static int find_input(const av__graph *g, const char *name)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->values[g->inputs[i]].name, name))
            return i;
    return -1;
}

av_status av_session_set_input(av_session *s, const char *name, av_dtype dtype, int ndim,
                               const int64_t *shape, const void *data)
{
    if (!s || !name || (ndim > 0 && !shape) || ndim < 0 || ndim > AV__MAX_DIMS)
        return s ? session_fail(s, AV_STATUS_INVALID_ARGUMENT, "set_input: invalid arguments")
                 : AV_STATUS_INVALID_ARGUMENT;
    const av__graph *g = s->model->g;
    int i = find_input(g, name);
    if (i < 0) {
        char names[512] = "";
        for (int k = 0; k < g->n_inputs; k++) {
            strncat(names, k ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, g->values[g->inputs[k]].name, sizeof names - strlen(names) - 1);
        }
        return session_fail(s, AV_STATUS_NOT_FOUND, "no input named '%s' (inputs: %s)", name, names);
    }
    const av__value *v = &g->values[g->inputs[i]];
    if (v->dtype != AV__DT_UNDEFINED && (av__dtype)dtype != v->dtype)
        return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s' is %s, got %s", name,
                            av__dtype_name(v->dtype), av__dtype_name((av__dtype)dtype));
    if (av__dtype_size((av__dtype)dtype) == 0)
        return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s': unsupported dtype %d",
                            name, (int)dtype);
    if (v->ndim >= 0 && ndim != v->ndim)
        return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s' has rank %d, got rank %d",
                            name, v->ndim, ndim);
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s': negative dimension",
                                name);
        if (v->ndim >= 0 && v->dims[d].value >= 0 && !v->dims[d].param &&
            v->dims[d].value != shape[d])
            return session_fail(s, AV_STATUS_INVALID_ARGUMENT,
                                "input '%s': dimension %d must be %lld, got %lld", name, d,
                                (long long)v->dims[d].value, (long long)shape[d]);
    }
    av_status st = av__plan_check_input(s->model->plan, i, name, ndim, shape, s->err, sizeof s->err);
    if (st != AV_STATUS_OK) /* outside the plan's optimisation profile */
        return st;
    av__tensor t = {.dtype = (av__dtype)dtype, .ndim = ndim};
    for (int d = 0; d < ndim; d++)
        t.shape[d] = shape[d];
    size_t bytes = av__tensor_bytes(&t);
    if (bytes == SIZE_MAX)
        return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s': shape too large", name);
    if (!data && bytes != 0)
        return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s': data is NULL", name);
    bound_input *b = &s->inputs[i];
    b->bound = 1;
    b->dtype = (av__dtype)dtype;
    b->ndim = ndim;
    memcpy(b->shape, t.shape, sizeof b->shape);
    b->data = data;
    return AV_STATUS_OK;
}

/* ---- planning ------------------------------------------------------------------------------ */

static int plan_known(const plan_value *pv)
{
    return pv->kind == KIND_CONST || pv->kind == KIND_PLANNED;
}

static av_status place_in_arena(plan *p, int n_values)
{
    /* order ARENA values by size, largest first */
    int count = 0;
    for (int v = 0; v < n_values; v++)
        if (p->vals[v].kind == KIND_ARENA && p->vals[v].alias < 0)
            count++;
    int *order = av__calloc((size_t)count + 1, sizeof *order);
    int *placed = av__calloc((size_t)count + 1, sizeof *placed);
    if (!order || !placed) {
        av__free(order);
        av__free(placed);
        return AV_STATUS_OUT_OF_MEMORY;
    }
    int k = 0;
    for (int v = 0; v < n_values; v++)
        if (p->vals[v].kind == KIND_ARENA && p->vals[v].alias < 0)
            order[k++] = v;
    for (int i = 1; i < count; i++) { /* insertion sort: a few thousand values at most */
        int x = order[i], j = i - 1;
        while (j >= 0 && p->vals[order[j]].bytes < p->vals[x].bytes) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = x;
    }
    size_t top = 0;
    int n_placed = 0;
    for (int i = 0; i < count; i++) {
        plan_value *a = &p->vals[order[i]];
        size_t need = (a->bytes + 63) / 64 * 64;
        p->naive_bytes += need;
        /* lowest offset that does not overlap a live-at-the-same-time placed value: try 0 and
         * the end of every conflicting block, keep the lowest that fits */
        size_t best = SIZE_MAX;
        for (int c = -1; c < n_placed; c++) {
            size_t cand = c < 0 ? 0 : (p->vals[placed[c]].offset + (p->vals[placed[c]].bytes + 63) / 64 * 64);
            if (cand >= best)
                continue;
            int ok = 1;
            for (int j = 0; j < n_placed && ok; j++) {
                plan_value *b = &p->vals[placed[j]];
                if (a->first > b->last || b->first > a->last)
                    continue; /* not alive together */
                size_t b_end = b->offset + (b->bytes + 63) / 64 * 64;
                if (cand < b_end && b->offset < cand + need)
                    ok = 0;
            }
            if (ok)
                best = cand;
        }
        a->offset = best;
        placed[n_placed++] = order[i];
        if (best + need > top)
            top = best + need;
    }
    p->arena_bytes = top;
    for (int v = 0; v < n_values; v++) /* roots are placed: aliases share their offset */
        if (p->vals[v].kind == KIND_ARENA && p->vals[v].alias >= 0) {
            p->vals[v].offset = p->vals[p->vals[v].alias].offset;
            p->naive_bytes += (p->vals[v].bytes + 63) / 64 * 64;
        }
    av__free(order);
    av__free(placed);
    return AV_STATUS_OK;
}

/* In-place execution: output 0 of an AV__OP_INPLACE node takes over input 0's memory when input
 * 0 is an intermediate of the same byte size whose last reader is this node. Chains (a -> b ->
 * c) share one buffer; its lifetime becomes the union, and at any step only one value of the
 * chain is alive, so placing the chain's root covers them all. */
static void assign_in_place(plan *p, const av_model *m)
{
    const av__graph *g = m->g;
    for (int k = 0; k < p->n_steps; k++) {
        const av__node *node = &g->nodes[p->steps[k].node];
        if (!(m->ops[p->steps[k].node]->flags & AV__OP_INPLACE) || node->n_inputs < 1 ||
            node->n_outputs < 1 || node->inputs[0] < 0 || node->outputs[0] < 0)
            continue;
        plan_value *in = &p->vals[node->inputs[0]], *out = &p->vals[node->outputs[0]];
        if (in->kind != KIND_ARENA || in->last != k || in->bytes != out->bytes || in->bytes == 0)
            continue;
        int root = in->alias >= 0 ? in->alias : node->inputs[0];
        out->alias = root;
        p->in_place++;
        if (out->last > p->vals[root].last)
            p->vals[root].last = out->last;
    }
}

/* A CUDA session folds a LeakyRelu into the epilogue of the convolution that produces its input
 * (src/cuda/backend.cu): the LeakyRelu's output is then written at the convolution's step, so its
 * memory must not be shared with anything alive from that step on. Extends its lifetime back. */
static void reserve_for_folding(plan *p, const av_model *m)
{
    const av__graph *g = m->g;
    for (int j = 0; j < p->n_steps; j++) {
        const av__node *ln = &g->nodes[p->steps[j].node];
        if (strcmp(ln->op_type, "LeakyRelu") != 0 || ln->n_inputs != 1 || ln->n_outputs != 1 ||
            ln->inputs[0] < 0 || ln->outputs[0] < 0)
            continue;
        for (int k = j - 1; k >= 0; k--) {
            const av__node *cn = &g->nodes[p->steps[k].node];
            if (cn->n_outputs < 1 || cn->outputs[0] != ln->inputs[0])
                continue;
            if (av__cuda_absorbs_leaky(cn->domain, cn->op_type)) {
                plan_value *y = &p->vals[ln->outputs[0]];
                if (y->kind == KIND_ARENA && y->first > k)
                    y->first = k;
            }
            break;
        }
    }
}

/* The device side of plan p for a CUDA session: which values the runtime steps use and how
 * they get to the GPU, then av__cuda_plan_create. */
static av_status make_cuda_plan(av_session *s, plan *p)
{
    const av__graph *g = s->model->g;
    av__cuda_value *values = av__calloc((size_t)g->n_values + 1, sizeof *values);
    av__cuda_step *steps = av__calloc((size_t)p->n_steps + 1, sizeof *steps);
    if (!values || !steps) {
        av__free(values);
        av__free(steps);
        return session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    for (int k = 0; k < p->n_steps; k++) {
        const av__node *node = &g->nodes[p->steps[k].node];
        steps[k] = (av__cuda_step){.node = p->steps[k].node, .op = s->model->ops[p->steps[k].node]};
        for (int j = 0; j < node->n_inputs + node->n_outputs; j++) {
            int v = j < node->n_inputs ? node->inputs[j] : node->outputs[j - node->n_inputs];
            if (v < 0)
                continue;
            const plan_value *pv = &p->vals[v];
            av__cuda_value *cv = &values[v];
            cv->host = &pv->t;
            cv->kind = pv->kind == KIND_CONST     ? AV__CUDA_VALUE_CONST
                       : pv->kind == KIND_PLANNED ? AV__CUDA_VALUE_PLANNED
                       : pv->kind == KIND_INPUT   ? AV__CUDA_VALUE_INPUT
                                                  : AV__CUDA_VALUE_ARENA;
            cv->offset = pv->offset;
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (values[g->outputs[i]].kind == AV__CUDA_VALUE_ARENA)
            values[g->outputs[i]].graph_output = 1;
    av_status st = av__cuda_plan_create(s->cuda, g, values, steps, p->n_steps, p->arena_bytes,
                                        s->seed, &p->cuda, s->err, sizeof s->err);
    av__free(values);
    av__free(steps);
    return st;
}

static av_status make_plan(av_session *s, plan **out)
{
    const av_model *m = s->model;
    const av__graph *g = m->g;
    plan *p = av__calloc(1, sizeof *p);
    if (!p)
        return session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    int total_in = 0, total_out = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        total_in += g->nodes[n].n_inputs;
        total_out += g->nodes[n].n_outputs;
    }
    p->vals = av__calloc((size_t)g->n_values + 1, sizeof *p->vals);
    p->steps = av__calloc((size_t)g->n_nodes + 1, sizeof *p->steps);
    p->in_ptrs = av__calloc((size_t)total_in + 1, sizeof *p->in_ptrs);
    p->out_ptrs = av__calloc((size_t)total_out + 1, sizeof *p->out_ptrs);
    p->owned = av__calloc((size_t)total_out + (size_t)g->n_inputs + 1, sizeof *p->owned);
    av_status st = AV_STATUS_OK;
    if (!p->vals || !p->steps || !p->in_ptrs || !p->out_ptrs || !p->owned) {
        st = session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    for (int v = 0; v < g->n_values; v++) {
        if (g->values[v].flags & AV__VALUE_CONST) {
            p->vals[v].kind = KIND_CONST;
            p->vals[v].t = g->values[v].constant;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        plan_value *pv = &p->vals[g->inputs[i]];
        const bound_input *b = &s->inputs[i];
        pv->kind = KIND_INPUT;
        pv->t.dtype = b->dtype;
        pv->t.ndim = b->ndim;
        memcpy(pv->t.shape, b->shape, sizeof pv->t.shape);
        pv->t.data = (void *)(uintptr_t)b->data; /* kernels get inputs as const */
        if (!m->needs_value[g->inputs[i]])
            continue;
        /* An input whose data decides shapes is a constant of this plan (its bytes are part of
         * the plan's key): the plan keeps its own copy. */
        size_t bytes = av__tensor_bytes(&pv->t);
        void *copy = av__aligned_alloc(bytes);
        if (!copy) {
            st = session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto fail;
        }
        memcpy(copy, b->data ? b->data : "", b->data ? bytes : 0);
        pv->t.data = copy;
        pv->kind = KIND_PLANNED;
        p->owned[p->n_owned++] = copy;
    }

    int in_pos = 0, out_pos = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        const av__op *op = m->ops[n];
        const av__tensor **in = p->in_ptrs + in_pos;
        av__tensor **outs = p->out_ptrs + out_pos;
        int all_known = 1;
        for (int i = 0; i < node->n_inputs; i++) {
            int v = node->inputs[i];
            in[i] = v >= 0 ? &p->vals[v].t : NULL;
            if (v >= 0 && !plan_known(&p->vals[v]))
                all_known = 0;
        }
        int needed = 0;
        for (int o = 0; o < node->n_outputs; o++) {
            int v = node->outputs[o];
            outs[o] = v >= 0 ? &p->vals[v].t : NULL;
            if (v >= 0 && m->needs_value[v])
                needed = 1;
        }
        int at_plan_time = needed || !strcmp(node->op_type, "Shape") ||
                           !strcmp(node->op_type, "Size") ||
                           (all_known && !(op->flags & AV__OP_RANDOM));
        char label[256], msg[768];
        if (at_plan_time) {
            av__tensor res[64];
            if (node->n_outputs > 64) {
                st = session_fail(s, AV_STATUS_UNSUPPORTED, "node with more than 64 outputs");
                goto fail;
            }
            /* inputs of a plan-time node that are computed at run time (possible for Shape of a
             * runtime value): only their shapes are used, data stays NULL */
            st = av__engine_eval_node(g, n, op, in, res, s->seed, msg, sizeof msg);
            if (st != AV_STATUS_OK) {
                av__engine_node_label(g, n, label, sizeof label);
                st = session_fail(s, st, "node %s: %s", label, msg);
                goto fail;
            }
            for (int o = 0; o < node->n_outputs; o++) {
                int v = node->outputs[o];
                if (v < 0)
                    continue;
                p->vals[v].t = res[o];
                p->vals[v].kind = KIND_PLANNED;
                p->owned[p->n_owned++] = res[o].data;
                p->planned_bytes += av__tensor_bytes(&res[o]);
            }
            continue;
        }
        av__tensor *out_ptrs[64];
        for (int o = 0; o < node->n_outputs && o < 64; o++)
            out_ptrs[o] = outs[o];
        av__op_ctx ctx = {.node = node, .opset = g->opset, .n_in = node->n_inputs, .in = in,
                          .n_out = node->n_outputs, .out = out_ptrs, .pool = s->pool,
                          .seed = s->seed, .err = msg, .err_size = sizeof msg};
        /* runtime values have no data yet (the arena does not exist while planning) */
        st = op->infer(&ctx);
        if (st != AV_STATUS_OK) {
            av__engine_node_label(g, n, label, sizeof label);
            st = session_fail(s, st, "node %s: %s", label, msg);
            goto fail;
        }
        int step = p->n_steps++;
        p->steps[step] = (plan_step){.node = n, .in_start = in_pos, .out_start = out_pos};
        const av__op_stateful *sop = s->cuda ? NULL : av__op_stateful_of(op);
        if (sop) { /* once per plan: e.g. oneDNN primitives and their weights */
            p->steps[step].release = sop->release;
            st = sop->prepare(&ctx, &p->steps[step].state);
            if (st != AV_STATUS_OK) {
                av__engine_node_label(g, n, label, sizeof label);
                st = session_fail(s, st, "node %s: %s", label, msg);
                goto fail;
            }
            ctx.state = p->steps[step].state;
        }
        for (int i = 0; i < node->n_inputs; i++) {
            int v = node->inputs[i];
            if (v >= 0 && p->vals[v].kind == KIND_ARENA)
                p->vals[v].last = step;
        }
        for (int o = 0; o < node->n_outputs; o++) {
            int v = node->outputs[o];
            if (v < 0)
                continue;
            plan_value *pv = &p->vals[v];
            pv->kind = KIND_ARENA;
            pv->alias = -1;
            pv->first = pv->last = step;
            pv->bytes = av__tensor_bytes(&pv->t);
            if (pv->bytes == SIZE_MAX) {
                av__engine_node_label(g, n, label, sizeof label);
                st = session_fail(s, AV_STATUS_OUT_OF_MEMORY, "node %s: output %d is too large",
                                  label, o);
                goto fail;
            }
        }
        if (op->scratch_bytes && !s->cuda) {
            size_t sb = op->scratch_bytes(&ctx);
            if (sb > p->scratch_bytes)
                p->scratch_bytes = sb;
        }
        p->gflop += av__engine_node_flops(node, in, (const av__tensor *const *)outs) * 1e-9;
        in_pos += node->n_inputs;
        out_pos += node->n_outputs;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        plan_value *pv = &p->vals[g->outputs[i]];
        if (pv->kind == KIND_ARENA)
            pv->last = p->n_steps; /* outputs stay until the next run */
    }
    if (!s->cuda) /* CUDA kernels write outputs apart from their inputs */
        assign_in_place(p, m);
    else
        reserve_for_folding(p, m);
    if ((st = place_in_arena(p, g->n_values)) != AV_STATUS_OK) {
        st = session_fail(s, st, "out of memory");
        goto fail;
    }
    if (s->cuda) {
        if ((st = make_cuda_plan(s, p)) != AV_STATUS_OK)
            goto fail;
        *out = p;
        return AV_STATUS_OK;
    }
    size_t scratch_off = (p->arena_bytes + 63) / 64 * 64;
    if (scratch_off > SIZE_MAX - p->scratch_bytes ||
        !(p->arena = av__aligned_alloc(scratch_off + p->scratch_bytes))) {
        st = session_fail(s, AV_STATUS_OUT_OF_MEMORY, "cannot allocate the %zu-byte arena",
                          scratch_off + p->scratch_bytes);
        goto fail;
    }
    for (int v = 0; v < g->n_values; v++)
        if (p->vals[v].kind == KIND_ARENA)
            p->vals[v].t.data = (char *)p->arena + p->vals[v].offset;
    *out = p;
    return AV_STATUS_OK;
fail:
    plan_free(p);
    return st;
}

/* Does the current plan fit the bound inputs? */
static int plan_matches(const av_session *s)
{
    const av__graph *g = s->model->g;
    if (!s->plan)
        return 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const bound_input *a = &s->inputs[i], *k = &s->key[i];
        if (!k->bound || a->dtype != k->dtype || a->ndim != k->ndim ||
            memcmp(a->shape, k->shape, (size_t)a->ndim * sizeof a->shape[0]) != 0)
            return 0;
        if (s->key_data[i]) {
            av__tensor t = {.dtype = a->dtype, .ndim = a->ndim};
            memcpy(t.shape, a->shape, sizeof t.shape);
            if (memcmp(s->key_data[i], a->data, av__tensor_bytes(&t)) != 0)
                return 0;
        }
    }
    return 1;
}

static av_status remember_key(av_session *s)
{
    const av__graph *g = s->model->g;
    clear_key(s);
    for (int i = 0; i < g->n_inputs; i++) {
        s->key[i] = s->inputs[i];
        if (!s->model->needs_value[g->inputs[i]])
            continue;
        av__tensor t = {.dtype = s->inputs[i].dtype, .ndim = s->inputs[i].ndim};
        memcpy(t.shape, s->inputs[i].shape, sizeof t.shape);
        size_t bytes = av__tensor_bytes(&t);
        s->key_data[i] = av__malloc(bytes);
        if (!s->key_data[i])
            return AV_STATUS_OUT_OF_MEMORY;
        memcpy(s->key_data[i], s->inputs[i].data, bytes);
    }
    return AV_STATUS_OK;
}

av_status av_session_prepare(av_session *s)
{
    if (!s)
        return AV_STATUS_INVALID_ARGUMENT;
    s->err[0] = '\0';
    const av__graph *g = s->model->g;
    for (int i = 0; i < g->n_inputs; i++)
        if (!s->inputs[i].bound)
            return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "input '%s' was not set",
                                g->values[g->inputs[i]].name);
    if (!plan_matches(s)) {
        s->ran = 0;
        plan_free(s->plan);
        s->plan = NULL;
        clear_key(s);
        plan *p;
        av_status st = make_plan(s, &p);
        if (st != AV_STATUS_OK)
            return st;
        s->plan = p;
        if (remember_key(s) != AV_STATUS_OK) {
            plan_free(s->plan);
            s->plan = NULL;
            return session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        }
    }
    return AV_STATUS_OK;
}

/* A CUDA session's run: the device plan runs; graph outputs computed there point into its host
 * buffers afterwards. */
static av_status run_cuda(av_session *s, plan *p)
{
    const av__graph *g = s->model->g;
    const void *stack_data[16];
    const void **data = g->n_inputs <= 16 ? stack_data
                                          : av__calloc((size_t)g->n_inputs, sizeof *data);
    if (!data)
        return session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < g->n_inputs; i++)
        data[i] = s->inputs[i].data;
    av_status st = av__cuda_plan_run(p->cuda, data, s->err, sizeof s->err);
    if (data != stack_data)
        av__free(data);
    if (st != AV_STATUS_OK)
        return st;
    for (int i = 0; i < g->n_outputs; i++) {
        plan_value *pv = &p->vals[g->outputs[i]];
        if (pv->kind == KIND_ARENA)
            pv->t.data = (void *)(uintptr_t)av__cuda_plan_output(p->cuda, g->outputs[i]);
    }
    s->ran = 1;
    return AV_STATUS_OK;
}

/* The CPU step loop of a run; with `times`, each step's wall time in ms (CLOCK_MONOTONIC). */
static av_status run_cpu_steps(av_session *s, plan *p, double *times)
{
    const av_model *m = s->model;
    const av__graph *g = m->g;
    av_status st;
    void *scratch = p->scratch_bytes ? (char *)p->arena + (p->arena_bytes + 63) / 64 * 64 : NULL;
    char msg[768];
    for (int k = 0; k < p->n_steps; k++) {
        const plan_step *step = &p->steps[k];
        const av__node *node = &g->nodes[step->node];
        av__op_ctx ctx = {.node = node, .opset = g->opset, .n_in = node->n_inputs,
                          .in = p->in_ptrs + step->in_start, .n_out = node->n_outputs,
                          .out = p->out_ptrs + step->out_start, .pool = s->pool,
                          .scratch = scratch, .seed = s->seed, .err = msg, .err_size = sizeof msg,
                          .state = step->state};
        struct timespec t0, t1;
        if (times)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        st = m->ops[step->node]->run(&ctx);
        if (times) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            times[k] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
        }
        if (st != AV_STATUS_OK) {
            char label[256];
            av__engine_node_label(g, step->node, label, sizeof label);
            return session_fail(s, st, "node %s: %s", label, msg);
        }
        if (s->observer && (st = s->observer(s->observer_user, step->node, ctx.n_in, ctx.in,
                                             ctx.n_out, ctx.out, s->err, sizeof s->err)) !=
                               AV_STATUS_OK)
            return st;
    }
    return AV_STATUS_OK;
}

av_status av_session_profile(av_session *s, av_node_time_fn fn, void *user)
{
    if (!s || !fn)
        return AV_STATUS_INVALID_ARGUMENT;
    av_status st = av_session_prepare(s);
    if (st != AV_STATUS_OK)
        return st;
    const av__graph *g = s->model->g;
    plan *p = s->plan;
    s->ran = 0;
    double *ms = av__calloc((size_t)p->n_steps + 1, sizeof *ms);
    int *nodes = av__calloc((size_t)p->n_steps + 1, sizeof *nodes);
    const void **data = av__calloc((size_t)g->n_inputs + 1, sizeof *data);
    if (!ms || !nodes || !data) {
        st = session_fail(s, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    int n = p->n_steps;
    for (int i = 0; i < g->n_inputs; i++) {
        plan_value *pv = &p->vals[g->inputs[i]];
        data[i] = s->inputs[i].data;
        if (pv->kind == KIND_INPUT)
            pv->t.data = (void *)(uintptr_t)s->inputs[i].data;
    }
    if (p->cuda) {
        st = av__cuda_plan_profile(p->cuda, data, nodes, ms, &n, s->err, sizeof s->err);
    } else {
        for (int k = 0; k < p->n_steps; k++)
            nodes[k] = p->steps[k].node;
        st = run_cpu_steps(s, p, ms);
    }
    for (int k = 0; st == AV_STATUS_OK && k < n; k++) {
        const av__node *node = &g->nodes[nodes[k]];
        char label[32];
        snprintf(label, sizeof label, "#%d", nodes[k]);
        fn(node->name && node->name[0] ? node->name : label, node->op_type, ms[k], user);
    }
done:
    av__free(ms);
    av__free(nodes);
    av__free(data);
    return st;
}

av_status av_session_run(av_session *s)
{
    av_status st = av_session_prepare(s);
    if (st != AV_STATUS_OK)
        return st;
    s->ran = 0;
    const av_model *m = s->model;
    const av__graph *g = m->g;
    plan *p = s->plan;
    for (int i = 0; i < g->n_inputs; i++) {
        plan_value *pv = &p->vals[g->inputs[i]];
        if (pv->kind == KIND_INPUT)
            pv->t.data = (void *)(uintptr_t)s->inputs[i].data;
    }
    if (p->cuda)
        return run_cuda(s, p);
    if ((st = run_cpu_steps(s, p, NULL)) != AV_STATUS_OK)
        return st;
    s->ran = 1;
    return AV_STATUS_OK;
}

av_status av_session_get_output(av_session *s, const char *name, av_tensor *info)
{
    if (!s || !name || !info)
        return AV_STATUS_INVALID_ARGUMENT;
    const av__graph *g = s->model->g;
    if (!s->plan || !s->ran)
        return session_fail(s, AV_STATUS_INVALID_ARGUMENT, "no successful run yet");
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        if (strcmp(g->values[v].name, name) != 0)
            continue;
        const plan_value *pv = &s->plan->vals[v];
        memset(info, 0, sizeof *info);
        info->name = g->values[v].name;
        info->dtype = (av_dtype)pv->t.dtype;
        info->ndim = pv->t.ndim;
        memcpy(info->shape, pv->t.shape, sizeof info->shape);
        info->data = pv->t.data;
        return AV_STATUS_OK;
    }
    return session_fail(s, AV_STATUS_NOT_FOUND, "no output named '%s'", name);
}

av_status av_session_get_memory(const av_session *s, av_session_memory *mem)
{
    if (!s || !mem)
        return AV_STATUS_INVALID_ARGUMENT;
    memset(mem, 0, sizeof *mem);
    if (!s->plan)
        return AV_STATUS_OK;
    mem->arena_bytes = s->plan->arena_bytes + s->plan->scratch_bytes;
    mem->planned_bytes = s->plan->planned_bytes;
    mem->naive_bytes = s->plan->naive_bytes + s->plan->scratch_bytes;
    mem->runtime_nodes = s->plan->n_steps;
    mem->gflop = s->plan->gflop;
    mem->in_place_nodes = s->plan->in_place;
    if (s->plan->cuda) {
        av__cuda_plan_stats(s->plan->cuda, &mem->device_bytes, &mem->cpu_fallback_nodes,
                            &mem->graph_replay);
        mem->device_ms = av__cuda_plan_last_ms(s->plan->cuda);
    }
    return AV_STATUS_OK;
}

av_status av_session_describe_device(const av_session *s, char *out, size_t size)
{
    if (!s || !out || size == 0)
        return AV_STATUS_INVALID_ARGUMENT;
    size_t len = 0;
    out[0] = '\0';
#define APPEND(...)                                                                              \
    do {                                                                                         \
        if (len < size) {                                                                        \
            int n_ = snprintf(out + len, size - len, __VA_ARGS__);                               \
            len += n_ > 0 ? (size_t)n_ : 0;                                                      \
        }                                                                                        \
    } while (0)
    if (!s->cuda) {
        int threads = av__threadpool_size(s->pool);
        APPEND("cpu, %d thread%s\n", threads, threads == 1 ? "" : "s");
        return AV_STATUS_OK;
    }
    APPEND("cuda:%d, %s", s->device_index, av_gpu_math_name(s->gpu_math));
    if (!s->plan || !s->plan->cuda) {
        APPEND(" (not planned yet)\n");
        return AV_STATUS_OK;
    }
    size_t dev = 0;
    int cpu = 0, replay = 0;
    av__cuda_plan_stats(s->plan->cuda, &dev, &cpu, &replay);
    APPEND(", %.1f MiB on the GPU, %s, %d node%s on the CPU fallback\n", dev / 1048576.0,
           replay ? "runs replay a CUDA graph" : "eager launches", cpu, cpu == 1 ? "" : "s");
    int folded = av__cuda_plan_folded(s->plan->cuda);
    if (folded)
        APPEND("  %d LeakyRelu node%s folded into the epilogue of the convolution feeding %s\n",
               folded, folded == 1 ? "" : "s", folded == 1 ? "it" : "them");
    const char *note = av__cuda_plan_note(s->plan->cuda);
    if (note[0])
        APPEND("  %s\n", note);
    const char *why;
    int node;
    for (int i = 0; (node = av__cuda_plan_cpu_step(s->plan->cuda, i, &why)) >= 0; i++) {
        char label[256];
        av__engine_node_label(s->model->g, node, label, sizeof label);
        APPEND("  on the CPU: %s: %s\n", label, why);
    }
#undef APPEND
    return AV_STATUS_OK;
}
