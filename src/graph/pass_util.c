/* Shared pieces of the rewriting passes: use counts, constants, attribute setters and the
 * removal of dead nodes (pass_internal.h, passes.h). */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "graph/pass_internal.h"
#include "graph/passes.h"

int *av__pass_use_counts(const av__graph *g)
{
    int *uses = av__calloc((size_t)g->n_values + 1, sizeof *uses);
    if (!uses)
        return NULL;
    for (int n = 0; n < g->n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        if (node->op_type[0] == '\0')
            continue;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0)
                uses[node->inputs[i]]++;
    }
    for (int i = 0; i < g->n_outputs; i++)
        uses[g->outputs[i]]++;
    return uses;
}

int av__pass_is_op(const av__node *n, const char *op_type)
{
    return (!n->domain[0] || !strcmp(n->domain, "ai.onnx")) && !strcmp(n->op_type, op_type);
}

const av__tensor *av__pass_const(const av__graph *g, int v, av__dtype dtype)
{
    if (v < 0 || v >= g->n_values || !(g->values[v].flags & AV__VALUE_CONST))
        return NULL;
    const av__tensor *t = &g->values[v].constant;
    if (!t->data || (dtype != AV__DT_UNDEFINED && t->dtype != dtype))
        return NULL;
    return t;
}

int av__pass_add_const(av__graph *g, const char *base, const char *suffix, av__dtype dtype,
                       int ndim, const int64_t *shape)
{
    char name[512];
    snprintf(name, sizeof name, "%.400s%.60s", base, suffix);
    for (int k = 2; av__graph_find_value(g, name) >= 0; k++)
        snprintf(name, sizeof name, "%.400s%.60s#%d", base, suffix, k);
    av__tensor t = {.dtype = dtype, .ndim = ndim};
    for (int d = 0; d < ndim; d++)
        t.shape[d] = shape[d];
    size_t bytes = av__tensor_bytes(&t);
    if (bytes == SIZE_MAX || !(t.data = av__aligned_alloc(bytes)))
        return -1;
    memset(t.data, 0, bytes);
    int v = av__graph_value(g, name);
    if (v < 0) {
        av__aligned_free(t.data);
        return -1;
    }
    av__value *val = &g->values[v];
    val->flags = AV__VALUE_CONST;
    val->constant = t;
    val->dtype = dtype;
    val->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        val->dims[d].value = shape[d];
    val->producer = -1;
    return v;
}

int av__pass_set_input(av__node *n, int slot, int value)
{
    if (slot >= n->n_inputs) {
        int *in = av__realloc(n->inputs, (size_t)(slot + 1) * sizeof *in);
        if (!in)
            return -1;
        for (int i = n->n_inputs; i <= slot; i++)
            in[i] = -1;
        n->inputs = in;
        n->n_inputs = slot + 1;
    }
    n->inputs[slot] = value;
    return 0;
}

/* The attribute slot called `name` on n, appended (empty) when absent; NULL when out of memory.
 * The caller fills it completely. */
static av__attr *attr_slot(av__node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name))
            return &n->attrs[i];
    av__attr *a = av__realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *a);
    if (!a)
        return NULL;
    n->attrs = a;
    memset(&a[n->n_attrs], 0, sizeof *a);
    size_t len = strlen(name) + 1;
    if (!(a[n->n_attrs].name = av__malloc(len)))
        return NULL;
    memcpy(a[n->n_attrs].name, name, len);
    return &a[n->n_attrs++];
}

/* Replaces a's value by the prepared one, keeping its name. */
static void attr_replace(av__attr *a, const av__attr *value)
{
    char *name = a->name;
    a->name = NULL;
    av__attr_clear(a);
    *a = *value;
    a->name = name;
}

int av__pass_set_ints(av__node *n, const char *name, const int64_t *v, int count)
{
    av__attr value = {.type = AV__ATTR_INTS, .count = count};
    if (!(value.ints = av__mallocarray((size_t)count + 1, sizeof *v)))
        return -1;
    memcpy(value.ints, v, (size_t)count * sizeof *v);
    av__attr *a = attr_slot(n, name);
    if (!a) {
        av__free(value.ints);
        return -1;
    }
    attr_replace(a, &value);
    return 0;
}

int av__pass_set_floats(av__node *n, const char *name, const float *v, int count)
{
    av__attr value = {.type = AV__ATTR_FLOATS, .count = count};
    if (!(value.floats = av__mallocarray((size_t)count + 1, sizeof *v)))
        return -1;
    memcpy(value.floats, v, (size_t)count * sizeof *v);
    av__attr *a = attr_slot(n, name);
    if (!a) {
        av__free(value.floats);
        return -1;
    }
    attr_replace(a, &value);
    return 0;
}

int av__pass_set_strings(av__node *n, const char *name, const char *const *v, int count)
{
    av__attr value = {.type = AV__ATTR_STRINGS, .count = count};
    if (!(value.strings = av__calloc((size_t)count + 1, sizeof *value.strings)))
        return -1;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(v[i]) + 1;
        if (!(value.strings[i] = av__malloc(len))) {
            av__attr_clear(&value);
            return -1;
        }
        memcpy(value.strings[i], v[i], len);
    }
    av__attr *a = attr_slot(n, name);
    if (!a) {
        av__attr_clear(&value);
        return -1;
    }
    attr_replace(a, &value);
    return 0;
}

av_status av__graph_remove_dead(av__graph *g, char *err, size_t err_size)
{
    unsigned char *used = av__calloc((size_t)g->n_values + 1, 1);
    if (!used)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < g->n_outputs; i++)
        used[g->outputs[i]] = 1;
    for (int n = g->n_nodes - 1; n >= 0; n--) {
        av__node *node = &g->nodes[n];
        int live = 0;
        for (int o = 0; o < node->n_outputs && node->op_type[0]; o++)
            live |= node->outputs[o] >= 0 && used[node->outputs[o]];
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
        g->nodes[kept++] = g->nodes[n];
    }
    g->n_nodes = kept;
    for (int v = 0; v < g->n_values; v++) {
        av__value *val = &g->values[v];
        val->producer = -1;
        if (!used[v] && (val->flags & AV__VALUE_CONST) && !(val->flags & AV__VALUE_OUTPUT)) {
            av__aligned_free(val->constant.data);
            val->constant.data = NULL;
            val->flags &= ~(unsigned)AV__VALUE_CONST;
        }
    }
    for (int n = 0; n < g->n_nodes; n++)
        for (int o = 0; o < g->nodes[n].n_outputs; o++)
            if (g->nodes[n].outputs[o] >= 0)
                g->values[g->nodes[n].outputs[o]].producer = n;
    av__free(used);
    return AV_STATUS_OK;
}
