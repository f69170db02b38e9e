#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "graph/ir.h"

size_t av__dtype_size(av__dtype t)
{
    switch (t) {
    case AV__DT_F32: case AV__DT_I32: case AV__DT_U32: return 4;
    case AV__DT_U8: case AV__DT_I8: case AV__DT_BOOL: return 1;
    case AV__DT_U16: case AV__DT_I16: case AV__DT_F16: case AV__DT_BF16: return 2;
    case AV__DT_I64: case AV__DT_F64: case AV__DT_U64: return 8;
    default: return 0;
    }
}

const char *av__dtype_name(av__dtype t)
{
    switch (t) {
    case AV__DT_F32: return "float32";
    case AV__DT_U8: return "uint8";
    case AV__DT_I8: return "int8";
    case AV__DT_U16: return "uint16";
    case AV__DT_I16: return "int16";
    case AV__DT_I32: return "int32";
    case AV__DT_I64: return "int64";
    case AV__DT_STRING: return "string";
    case AV__DT_BOOL: return "bool";
    case AV__DT_F16: return "float16";
    case AV__DT_F64: return "float64";
    case AV__DT_U32: return "uint32";
    case AV__DT_U64: return "uint64";
    case AV__DT_BF16: return "bfloat16";
    default: return "unknown";
    }
}

int64_t av__tensor_count(const av__tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

size_t av__tensor_bytes(const av__tensor *t)
{
    size_t n = av__dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0)
            return SIZE_MAX;
        if (t->shape[i] != 0 && n > SIZE_MAX / (size_t)t->shape[i])
            return SIZE_MAX;
        n *= (size_t)t->shape[i];
    }
    return n;
}

void *av__aligned_alloc(size_t size)
{
    /* Rounded up to a multiple of 64 (aligned_alloc requires it) plus one line, so vector loops
     * may read a little past the end of a tensor without faulting. */
    if (size > SIZE_MAX - 128)
        return NULL;
    size_t rounded = (size + 63) / 64 * 64 + 64;
    return aligned_alloc(64, rounded);
}

void av__aligned_free(void *p) { free(p); }

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = av__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

av__graph *av__graph_create(void)
{
    av__graph *g = av__calloc(1, sizeof *g);
    if (g)
        g->opset = 1;
    return g;
}

void av__attr_clear(av__attr *a)
{
    av__free(a->name);
    av__free(a->s);
    av__free(a->ints);
    av__free(a->floats);
    if (a->strings) {
        for (int i = 0; i < a->count; i++)
            av__free(a->strings[i]);
        av__free(a->strings);
    }
    if (a->t) {
        av__aligned_free(a->t->data);
        av__free(a->t);
    }
    memset(a, 0, sizeof *a);
}

void av__node_clear(av__node *n)
{
    av__free(n->name);
    av__free(n->op_type);
    av__free(n->domain);
    av__free(n->inputs);
    av__free(n->outputs);
    for (int i = 0; i < n->n_attrs; i++)
        av__attr_clear(&n->attrs[i]);
    av__free(n->attrs);
    memset(n, 0, sizeof *n);
}

void av__graph_free(av__graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_values; i++) {
        av__value *v = &g->values[i];
        av__free(v->name);
        for (int d = 0; d < AV__MAX_DIMS; d++)
            av__free(v->dims[d].param);
        av__aligned_free(v->constant.data);
    }
    for (int i = 0; i < g->n_nodes; i++)
        av__node_clear(&g->nodes[i]);
    av__free(g->values);
    av__free(g->nodes);
    av__free(g->inputs);
    av__free(g->outputs);
    av__free(g->name);
    av__free(g->producer_name);
    av__free(g->name_index);
    av__free(g);
}

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int av__graph_find_value(const av__graph *g, const char *name)
{
    if (!g->name_index_cap)
        return -1;
    uint32_t mask = (uint32_t)g->name_index_cap - 1;
    for (uint32_t h = hash_name(name) & mask;; h = (h + 1) & mask) {
        int i = g->name_index[h];
        if (i < 0)
            return -1;
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    }
}

/* Inserts value i into the index, growing it to keep the load factor at most 1/2. */
static int index_value(av__graph *g, int i)
{
    if (2 * (g->n_values + 1) > g->name_index_cap) {
        int cap = g->name_index_cap ? g->name_index_cap * 2 : 256;
        int *idx = av__mallocarray((size_t)cap, sizeof *idx);
        if (!idx)
            return -1;
        memset(idx, 0xff, (size_t)cap * sizeof *idx);
        av__free(g->name_index);
        g->name_index = idx;
        g->name_index_cap = cap;
        for (int k = 0; k < g->n_values; k++)
            if (k != i)
                index_value(g, k);
    }
    uint32_t mask = (uint32_t)g->name_index_cap - 1;
    uint32_t h = hash_name(g->values[i].name) & mask;
    while (g->name_index[h] >= 0)
        h = (h + 1) & mask;
    g->name_index[h] = i;
    return 0;
}

int av__graph_value(av__graph *g, const char *name)
{
    int found = av__graph_find_value(g, name);
    if (found >= 0)
        return found;
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        av__value *v = av__realloc(g->values, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        g->values = v;
        g->cap_values = cap;
    }
    av__value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = dup_string(name);
    if (!v->name)
        return -1;
    v->ndim = -1;
    v->producer = -1;
    if (index_value(g, g->n_values) != 0) {
        av__free(v->name);
        return -1;
    }
    return g->n_values++;
}

int av__graph_add_node(av__graph *g, const char *op_type, const char *domain, const char *name)
{
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        av__node *n = av__realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return -1;
        g->nodes = n;
        g->cap_nodes = cap;
    }
    av__node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op_type = dup_string(op_type);
    n->domain = dup_string(domain ? domain : "");
    n->name = dup_string(name ? name : "");
    if (!n->op_type || !n->domain || !n->name) {
        av__node_clear(n);
        return -1;
    }
    return g->n_nodes++;
}

const av__attr *av__node_attr(const av__node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t av__attr_int(const av__node *n, const char *name, int64_t def)
{
    const av__attr *a = av__node_attr(n, name);
    return a && a->type == AV__ATTR_INT ? a->i : def;
}

float av__attr_float(const av__node *n, const char *name, float def)
{
    const av__attr *a = av__node_attr(n, name);
    return a && a->type == AV__ATTR_FLOAT ? a->f : def;
}

const char *av__attr_string(const av__node *n, const char *name, const char *def)
{
    const av__attr *a = av__node_attr(n, name);
    return a && a->type == AV__ATTR_STRING && a->s ? a->s : def;
}

const int64_t *av__attr_ints(const av__node *n, const char *name, int *count)
{
    const av__attr *a = av__node_attr(n, name);
    if (a && a->type == AV__ATTR_INTS) {
        *count = a->count;
        return a->ints;
    }
    *count = 0;
    return NULL;
}

const float *av__attr_floats(const av__node *n, const char *name, int *count)
{
    const av__attr *a = av__node_attr(n, name);
    if (a && a->type == AV__ATTR_FLOATS) {
        *count = a->count;
        return a->floats;
    }
    *count = 0;
    return NULL;
}

const av__tensor *av__attr_tensor(const av__node *n, const char *name)
{
    const av__attr *a = av__node_attr(n, name);
    return a && a->type == AV__ATTR_TENSOR ? a->t : NULL;
}
