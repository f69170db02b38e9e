/* Loading a model: import, operator check, load-time constant folding, dead-node and
 * common-subexpression elimination, the graph rewriting passes (graph/passes.h), and the
 * analysis of which values decide shapes. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "engine/engine_internal.h"
#include "engine/plan_format.h"
#include "graph/passes.h"
#include "onnx/import.h"

/* Folding a constant bigger than this would trade file size for memory; such nodes stay. */
#define FOLD_MAX_BYTES ((size_t)64 << 20)

void av__engine_node_label(const av__graph *g, int n, char *out, size_t size)
{
    const av__node *node = &g->nodes[n];
    if (node->name && node->name[0])
        snprintf(out, size, "'%s' (%s)", node->name, node->op_type);
    else
        snprintf(out, size, "#%d (%s)", n, node->op_type);
}

av_status av__engine_eval_node(const av__graph *g, int n, const av__op *op,
                               const av__tensor *const *in, av__tensor *outs, uint64_t seed,
                               char *err, size_t err_size)
{
    const av__node *node = &g->nodes[n];
    av__tensor *out_ptrs[64];
    if (node->n_outputs > 64)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, "more than 64 outputs");
    for (int i = 0; i < node->n_outputs; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        out_ptrs[i] = node->outputs[i] >= 0 ? &outs[i] : NULL;
    }
    av__op_ctx ctx = {.node = node, .opset = g->opset, .n_in = node->n_inputs, .in = in,
                      .n_out = node->n_outputs, .out = out_ptrs, .seed = seed,
                      .err = err, .err_size = err_size};
    void *scratch = NULL;
    const av__op_stateful *sop = av__op_stateful_of(op);
    av_status st = op->infer(&ctx);
    if (st == AV_STATUS_OK && sop)
        st = sop->prepare(&ctx, &ctx.state);
    if (st != AV_STATUS_OK)
        goto fail;
    for (int i = 0; i < node->n_outputs; i++) {
        if (!out_ptrs[i])
            continue;
        size_t bytes = av__tensor_bytes(&outs[i]);
        if (bytes == SIZE_MAX || !(outs[i].data = av__aligned_alloc(bytes))) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "output %d: cannot allocate", i);
            goto fail;
        }
    }
    if (op->scratch_bytes) {
        size_t bytes = op->scratch_bytes(&ctx);
        if (bytes && !(scratch = ctx.scratch = av__aligned_alloc(bytes))) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "cannot allocate scratch");
            goto fail;
        }
    }
    st = op->run(&ctx);
    av__aligned_free(scratch);
    if (sop)
        sop->release(ctx.state);
    ctx.state = NULL;
    if (st == AV_STATUS_OK)
        return AV_STATUS_OK;
fail:
    if (sop)
        sop->release(ctx.state); /* NULL once released above: a no-op */
    for (int i = 0; i < node->n_outputs; i++) {
        av__aligned_free(outs[i].data);
        outs[i].data = NULL;
    }
    return st;
}

static int is_const(const av__graph *g, int v)
{
    return v >= 0 && (g->values[v].flags & AV__VALUE_CONST);
}

/* Folds every node whose inputs are all constants (Constant nodes included) into constant
 * values, in topological order, so chains fold completely. Folded nodes get op_type "" and are
 * removed by remove_dead_nodes. */
static av_status fold_constants(av_model *m, char *err, size_t err_size)
{
    av__graph *g = m->g;
    for (int n = 0; n < g->n_nodes; n++) {
        av__node *node = &g->nodes[n];
        const av__op *op = m->ops[n];
        if (op->flags & AV__OP_RANDOM)
            continue;
        int foldable = 1;
        for (int i = 0; i < node->n_inputs && foldable; i++)
            if (node->inputs[i] >= 0 && !is_const(g, node->inputs[i]))
                foldable = 0;
        for (int o = 0; o < node->n_outputs && foldable; o++)
            if (node->outputs[o] >= 0 && (g->values[node->outputs[o]].flags & AV__VALUE_INPUT))
                foldable = 0;
        if (!foldable)
            continue;
        const av__tensor *in[64];
        if (node->n_inputs > 64 || node->n_outputs > 64)
            continue;
        for (int i = 0; i < node->n_inputs; i++)
            in[i] = node->inputs[i] >= 0 ? &g->values[node->inputs[i]].constant : NULL;
        av__tensor outs[64];
        char msg[512];
        av_status st = av__engine_eval_node(g, n, op, in, outs, 0, msg, sizeof msg);
        if (st != AV_STATUS_OK) {
            char label[256];
            av__engine_node_label(g, n, label, sizeof label);
            return av__fail(err, err_size, st, "node %s: %s", label, msg);
        }
        size_t total = 0;
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0)
                total += av__tensor_bytes(&outs[o]);
        if (total > FOLD_MAX_BYTES) {
            for (int o = 0; o < node->n_outputs; o++)
                av__aligned_free(outs[o].data);
            continue;
        }
        for (int o = 0; o < node->n_outputs; o++) {
            int v = node->outputs[o];
            if (v < 0)
                continue;
            av__value *val = &g->values[v];
            val->flags |= AV__VALUE_CONST;
            val->constant = outs[o];
            val->dtype = outs[o].dtype;
            val->ndim = outs[o].ndim;
            for (int d = 0; d < outs[o].ndim; d++)
                val->dims[d].value = outs[o].shape[d];
            val->producer = -1;
        }
        node->op_type[0] = '\0'; /* marked dead */
    }
    return AV_STATUS_OK;
}

/* Removes folded nodes and nodes none of whose outputs is used (repeatedly, backwards), then
 * compacts the node array keeping the order. */
static av_status remove_dead_nodes(av_model *m)
{
    av__graph *g = m->g;
    unsigned char *used = av__calloc((size_t)g->n_values, 1);
    if (!used)
        return AV_STATUS_OUT_OF_MEMORY;
    for (int i = 0; i < g->n_outputs; i++)
        used[g->outputs[i]] = 1;
    for (int n = g->n_nodes - 1; n >= 0; n--) {
        av__node *node = &g->nodes[n];
        int live = node->op_type[0] != '\0';
        if (live) {
            live = 0;
            for (int o = 0; o < node->n_outputs; o++)
                if (node->outputs[o] >= 0 && used[node->outputs[o]])
                    live = 1;
        }
        if (!live) {
            node->op_type[0] = '\0';
            continue;
        }
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0)
                used[node->inputs[i]] = 1;
    }
    int kept = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        if (g->nodes[n].op_type[0] == '\0') {
            av__node_clear(&g->nodes[n]);
            continue;
        }
        g->nodes[kept] = g->nodes[n];
        m->ops[kept] = m->ops[n];
        kept++;
    }
    g->n_nodes = kept;
    /* constants nothing uses any more: free their data */
    for (int v = 0; v < g->n_values; v++) {
        if (!used[v] && (g->values[v].flags & AV__VALUE_CONST) && !(g->values[v].flags & AV__VALUE_OUTPUT)) {
            av__aligned_free(g->values[v].constant.data);
            g->values[v].constant.data = NULL;
            g->values[v].flags &= ~(unsigned)AV__VALUE_CONST;
        }
    }
    for (int n = 0; n < g->n_nodes; n++)
        for (int o = 0; o < g->nodes[n].n_outputs; o++)
            if (g->nodes[n].outputs[o] >= 0)
                g->values[g->nodes[n].outputs[o]].producer = n;
    av__free(used);
    return AV_STATUS_OK;
}

static int attrs_equal(const av__attr *a, const av__attr *b)
{
    if (strcmp(a->name, b->name) != 0 || a->type != b->type)
        return 0;
    switch (a->type) {
    case AV__ATTR_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
    case AV__ATTR_INT: return a->i == b->i;
    case AV__ATTR_STRING: return a->s_len == b->s_len && memcmp(a->s, b->s, a->s_len) == 0;
    case AV__ATTR_INTS:
        return a->count == b->count && memcmp(a->ints, b->ints, (size_t)a->count * sizeof *a->ints) == 0;
    case AV__ATTR_FLOATS:
        return a->count == b->count && memcmp(a->floats, b->floats, (size_t)a->count * sizeof *a->floats) == 0;
    default: return 0; /* tensors, graphs, strings lists: never considered equal */
    }
}

static int nodes_equal(const av__node *a, const av__node *b)
{
    if (strcmp(a->op_type, b->op_type) != 0 || strcmp(a->domain, b->domain) != 0 ||
        a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs || a->n_attrs != b->n_attrs)
        return 0;
    for (int i = 0; i < a->n_inputs; i++)
        if (a->inputs[i] != b->inputs[i])
            return 0;
    for (int i = 0; i < a->n_attrs; i++)
        if (!attrs_equal(&a->attrs[i], &b->attrs[i]))
            return 0;
    return 1;
}

/* Common-subexpression elimination: a node computing exactly what an earlier node computes
 * (same operator, inputs and attributes; not random) is dropped and its consumers read the
 * earlier node's outputs. Graph outputs keep their producers. Quadratic in the node count
 * within one operator type, which is fine for graphs of a few thousand nodes. */
static void eliminate_common_subexpressions(av_model *m)
{
    av__graph *g = m->g;
    for (int b = 0; b < g->n_nodes; b++) {
        av__node *nb = &g->nodes[b];
        if (nb->op_type[0] == '\0' || (m->ops[b]->flags & AV__OP_RANDOM))
            continue;
        int is_graph_output = 0;
        for (int o = 0; o < nb->n_outputs; o++)
            if (nb->outputs[o] >= 0 && (g->values[nb->outputs[o]].flags & AV__VALUE_OUTPUT))
                is_graph_output = 1;
        if (is_graph_output)
            continue;
        for (int a = 0; a < b; a++) {
            av__node *na = &g->nodes[a];
            if (na->op_type[0] == '\0' || !nodes_equal(na, nb))
                continue;
            /* redirect every use of b's outputs to a's */
            for (int o = 0; o < nb->n_outputs; o++) {
                int from = nb->outputs[o], to = na->outputs[o];
                if (from < 0)
                    continue;
                if (to < 0)
                    goto next_candidate;
            }
            for (int n = b + 1; n < g->n_nodes; n++)
                for (int i = 0; i < g->nodes[n].n_inputs; i++)
                    for (int o = 0; o < nb->n_outputs; o++)
                        if (nb->outputs[o] >= 0 && g->nodes[n].inputs[i] == nb->outputs[o])
                            g->nodes[n].inputs[i] = na->outputs[o];
            nb->op_type[0] = '\0';
            break;
        next_candidate:;
        }
    }
}

/* needs_value[v] = 1 when planning must know the data of v: v feeds an operator input whose
 * values decide output shapes (Reshape's shape, ...), directly or through other nodes. Shape
 * and Size need only their input's shape, which stops the propagation. */
static void analyse_shape_values(av_model *m)
{
    av__graph *g = m->g;
    for (int n = g->n_nodes - 1; n >= 0; n--) {
        const av__node *node = &g->nodes[n];
        const av__op *op = m->ops[n];
        for (int i = 0; i < node->n_inputs && i < 32; i++)
            if ((op->value_inputs >> i) & 1u && node->inputs[i] >= 0)
                m->needs_value[node->inputs[i]] = 1;
        int needed = 0;
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0 && m->needs_value[node->outputs[o]])
                needed = 1;
        if (!needed || !strcmp(node->op_type, "Shape") || !strcmp(node->op_type, "Size"))
            continue;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0)
                m->needs_value[node->inputs[i]] = 1;
    }
}

static void record_pass(av_model *m, const char *name, int removed, int added, int rewrites)
{
    if (m->n_passes < AV__MAX_LOAD_PASSES)
        m->passes[m->n_passes++] = (av_model_pass_info){name, removed, added, rewrites};
}

/* The graph rewriting passes (graph/passes.h), in order, then every node's operator found
 * again (a pass may add internal operators). A pass that fuses adds one node per rewrite. */
static av_status rewrite_graph(av_model *m, char *err, size_t err_size)
{
    static const struct {
        const char *name;
        av_status (*run)(av__graph *, int *, char *, size_t);
        int fuses;
    } passes[] = {
        {"weight-norm folding", av__pass_fold_weight_norm, 0},
        {"BatchNorm folding", av__pass_fold_batchnorm, 0},
        {"pad folding", av__pass_fold_pad, 0},
        {"pointwise-chain fusion", av__pass_fuse_pointwise, 1},
    };
    for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
        int before = m->g->n_nodes, rewrites = 0;
        av_status st = passes[i].run(m->g, &rewrites, err, err_size);
        if (st != AV_STATUS_OK)
            return st;
        int added = passes[i].fuses ? rewrites : 0;
        record_pass(m, passes[i].name, before - m->g->n_nodes + added, added, rewrites);
    }
    for (int n = 0; n < m->g->n_nodes; n++)
        if (!(m->ops[n] = av__op_find(m->g->nodes[n].domain, m->g->nodes[n].op_type)))
            return av__fail(err, err_size, AV_STATUS_INTERNAL, "a pass made node %d unknown", n);
    return AV_STATUS_OK;
}

static void describe_value(const av__value *v, av_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->name = v->name;
    t->dtype = (av_dtype)v->dtype;
    t->ndim = v->ndim;
    for (int d = 0; d < v->ndim && d < AV_MAX_DIMS; d++) {
        t->shape[d] = v->dims[d].value;
        t->dim_names[d] = v->dims[d].param;
    }
}

av_status av__model_from_graph(av__graph *g, struct av__plan *plan, int optimise,
                               av_model **out, char *err, size_t err_size)
{
    av_status st;
    av_model *m = av__calloc(1, sizeof *m);
    if (!m) {
        av__plan_free(plan, g);
        av__graph_free(g);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    m->g = g;
    m->plan = plan;
    if (g->opset > AV__MAX_OPSET) {
        st = av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                      "opset %lld is newer than this engine implements (up to %d)",
                      (long long)g->opset, AV__MAX_OPSET);
        goto fail;
    }
    m->ops = av__calloc((size_t)g->n_nodes + 1, sizeof *m->ops);
    if (!m->ops) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    for (int n = 0; n < g->n_nodes; n++) {
        m->ops[n] = av__op_find(g->nodes[n].domain, g->nodes[n].op_type);
        if (!m->ops[n]) {
            char label[256];
            av__engine_node_label(g, n, label, sizeof label);
            st = av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                          "unsupported operator '%s'%s%s%s in node %s", g->nodes[n].op_type,
                          g->nodes[n].domain[0] ? " (domain '" : "", g->nodes[n].domain,
                          g->nodes[n].domain[0] ? "')" : "", label);
            goto fail;
        }
    }
    if (optimise) {
        int before = g->n_nodes;
        if ((st = fold_constants(m, err, err_size)) != AV_STATUS_OK)
            goto fail;
        if ((st = remove_dead_nodes(m)) != AV_STATUS_OK)
            goto fail_oom;
        record_pass(m, "constant folding and dead nodes", before - g->n_nodes, 0,
                    before - g->n_nodes);
        before = g->n_nodes;
        eliminate_common_subexpressions(m);
        if ((st = remove_dead_nodes(m)) != AV_STATUS_OK)
            goto fail_oom;
        record_pass(m, "common subexpressions", before - g->n_nodes, 0, before - g->n_nodes);
        if ((st = rewrite_graph(m, err, err_size)) != AV_STATUS_OK)
            goto fail;
    }
    m->needs_value = av__calloc((size_t)g->n_values + 1, 1);
    m->input_info = av__calloc((size_t)g->n_inputs + 1, sizeof *m->input_info);
    m->output_info = av__calloc((size_t)g->n_outputs + 1, sizeof *m->output_info);
    if (!m->needs_value || !m->input_info || !m->output_info)
        goto fail_oom;
    analyse_shape_values(m);
    for (int i = 0; i < g->n_inputs; i++)
        describe_value(&g->values[g->inputs[i]], &m->input_info[i]);
    for (int i = 0; i < g->n_outputs; i++)
        describe_value(&g->values[g->outputs[i]], &m->output_info[i]);
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].flags & AV__VALUE_CONST)
            m->parameters += av__tensor_count(&g->values[v].constant);
    *out = m;
    return AV_STATUS_OK;
fail_oom:
    st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
fail:
    av_model_free(m);
    return st;
}

av_status av_model_load(const char *path, av_model **out, char *err, size_t err_size)
{
    if (!out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_model_load: out is NULL");
    *out = NULL;
    if (!path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_model_load: path is NULL");
    /* a plan is known by its magic; a file named *.plan is one, damaged or not */
    unsigned char head[AV__PLAN_MAGIC_SIZE] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    size_t len = strlen(path);
    if (av__plan_sniff(head, got) || (len > 5 && !strcmp(path + len - 5, ".plan")))
        return av__plan_load_file(path, out, err, err_size);
    av__graph *g = NULL;
    av_status st = av__onnx_load_file(path, &g, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    char msg[768];
    st = av__model_from_graph(g, NULL, 1, out, msg, sizeof msg);
    if (st != AV_STATUS_OK)
        av__fail(err, err_size, st, "%s: %s", path, msg);
    return st;
}

av_status av_model_load_memory(const void *data, size_t size, const char *base_dir,
                               av_model **out, char *err, size_t err_size)
{
    if (!out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_model_load_memory: out is NULL");
    *out = NULL;
    if (av__plan_sniff(data, size))
        return av__plan_load_memory(data, size, "plan", out, err, err_size);
    av__graph *g = NULL;
    av_status st = av__onnx_load_memory(data, size, base_dir, &g, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    return av__model_from_graph(g, NULL, 1, out, err, err_size);
}

void av_model_free(av_model *m)
{
    if (!m)
        return;
    av__plan_free(m->plan, m->g); /* first: its weights are not the graph's to free */
    av__graph_free(m->g);
    av__free(m->ops);
    av__free(m->needs_value);
    av__free(m->input_info);
    av__free(m->output_info);
    av__free(m);
}

int av_model_input_count(const av_model *m) { return m ? m->g->n_inputs : 0; }
int av_model_output_count(const av_model *m) { return m ? m->g->n_outputs : 0; }

av_status av_model_input(const av_model *m, int i, av_tensor *info)
{
    if (!m || !info || i < 0 || i >= m->g->n_inputs)
        return AV_STATUS_INVALID_ARGUMENT;
    *info = m->input_info[i];
    return AV_STATUS_OK;
}

av_status av_model_output(const av_model *m, int i, av_tensor *info)
{
    if (!m || !info || i < 0 || i >= m->g->n_outputs)
        return AV_STATUS_INVALID_ARGUMENT;
    *info = m->output_info[i];
    return AV_STATUS_OK;
}

av_status av_model_get_stats(const av_model *m, av_model_stats *s)
{
    if (!m || !s)
        return AV_STATUS_INVALID_ARGUMENT;
    s->nodes = m->g->n_nodes;
    s->parameters = m->parameters;
    s->opset = m->g->opset;
    s->ir_version = m->g->ir_version;
    s->producer = m->g->producer_name ? m->g->producer_name : "";
    return AV_STATUS_OK;
}

int av_model_pass_count(const av_model *m) { return m ? m->n_passes : 0; }

av_status av_model_pass(const av_model *m, int i, av_model_pass_info *info)
{
    if (!m || !info || i < 0 || i >= m->n_passes)
        return AV_STATUS_INVALID_ARGUMENT;
    *info = m->passes[i];
    return AV_STATUS_OK;
}

void av_model_op_histogram(const av_model *m, void (*fn)(const char *, int, void *), void *user)
{
    if (!m || !fn)
        return;
    int n = m->g->n_nodes;
    int *count = av__calloc((size_t)n + 1, sizeof *count);
    if (!count)
        return;
    for (int i = 0; i < n; i++) { /* count[i] > 0 at the first node of each op type */
        int first = 1;
        for (int j = 0; j < i && first; j++)
            if (!strcmp(m->g->nodes[j].op_type, m->g->nodes[i].op_type))
                first = 0;
        if (!first)
            continue;
        for (int j = i; j < n; j++)
            count[i] += !strcmp(m->g->nodes[j].op_type, m->g->nodes[i].op_type);
    }
    for (;;) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (count[i] > 0 && (best < 0 || count[i] > count[best]))
                best = i;
        if (best < 0)
            break;
        fn(m->g->nodes[best].op_type, count[best], user);
        count[best] = 0;
    }
    av__free(count);
}

const char *av_dtype_name(av_dtype t) { return av__dtype_name((av__dtype)t); }
size_t av_dtype_size(av_dtype t) { return av__dtype_size((av__dtype)t); }
