/* libFuzzer target for onnx/import: feeds each input to av__onnx_load_memory (no base directory,
 * so external data is refused) and checks what a successful import promises (import.h, ir.h):
 * indices in range, flags consistent, nodes in topological order with producers set, constants
 * 64-byte aligned with a supported dtype, a valid shape and bool bytes 0 / 1. A failure must
 * leave *out NULL and say why. Build and run: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned char sink;

/* Reads every byte of t (so ASan sees an overrun) and checks its shape. */
static void check_tensor(const av__tensor *t)
{
    if (av__dtype_size(t->dtype) == 0 || t->ndim < 0 || t->ndim > AV__MAX_DIMS || !t->data ||
        (uintptr_t)t->data % 64 != 0)
        abort();
    for (int k = 0; k < t->ndim; k++)
        if (t->shape[k] < 0)
            abort();
    size_t bytes = av__tensor_bytes(t);
    if (bytes == SIZE_MAX)
        abort();
    const unsigned char *b = t->data;
    for (size_t i = 0; i < bytes; i++) {
        if (t->dtype == AV__DT_BOOL && b[i] > 1)
            abort();
        sink ^= b[i];
    }
}

static void check_graph(const av__graph *g)
{
    for (int v = 0; v < g->n_values; v++) {
        const av__value *val = &g->values[v];
        if (!val->name || val->ndim < -1 || val->ndim > AV__MAX_DIMS ||
            val->producer < -1 || val->producer >= g->n_nodes)
            abort();
        if (val->flags & AV__VALUE_CONST) {
            check_tensor(&val->constant);
            if (val->constant.dtype != val->dtype || val->constant.ndim != val->ndim ||
                val->producer != -1 || (val->flags & AV__VALUE_INPUT))
                abort();
        }
        if ((val->flags & AV__VALUE_INPUT) && val->producer != -1)
            abort();
    }
    for (int k = 0; k < g->n_inputs; k++)
        if (g->inputs[k] < 0 || g->inputs[k] >= g->n_values ||
            !(g->values[g->inputs[k]].flags & AV__VALUE_INPUT))
            abort();
    for (int k = 0; k < g->n_outputs; k++) {
        if (g->outputs[k] < 0 || g->outputs[k] >= g->n_values)
            abort();
        const av__value *val = &g->values[g->outputs[k]];
        if (!(val->flags & AV__VALUE_OUTPUT) ||
            (val->producer < 0 && !(val->flags & (AV__VALUE_INPUT | AV__VALUE_CONST))))
            abort();
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const av__node *n = &g->nodes[i];
        if (!n->name || !n->op_type || !n->op_type[0] || !n->domain)
            abort();
        for (int k = 0; k < n->n_inputs; k++) {
            int v = n->inputs[k];
            if (v < -1 || v >= g->n_values)
                abort();
            if (v < 0)
                continue;
            const av__value *val = &g->values[v];
            if (val->producer >= i || /* topological order */
                (val->producer < 0 && !(val->flags & (AV__VALUE_INPUT | AV__VALUE_CONST))))
                abort();
        }
        for (int k = 0; k < n->n_outputs; k++) {
            int v = n->outputs[k];
            if (v < -1 || v >= g->n_values || (v >= 0 && g->values[v].producer != i))
                abort();
        }
        for (int k = 0; k < n->n_attrs; k++) {
            const av__attr *a = &n->attrs[k];
            if (!a->name || a->count < 0 || (unsigned)a->type > AV__ATTR_STRINGS)
                abort();
            if (a->type == AV__ATTR_TENSOR) {
                if (!a->t)
                    abort();
                check_tensor(a->t);
            }
            if (a->type == AV__ATTR_STRING && (!a->s || a->s[a->s_len] != '\0'))
                abort();
            for (int j = 0; a->type == AV__ATTR_INTS && j < a->count; j++)
                sink ^= (unsigned char)a->ints[j];
            for (int j = 0; a->type == AV__ATTR_FLOATS && j < a->count; j++)
                sink ^= (unsigned char)(a->floats[j] > 0);
            for (int j = 0; a->type == AV__ATTR_STRINGS && j < a->count; j++)
                if (!a->strings[j])
                    abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    av__graph *g = (av__graph *)(uintptr_t)1;
    err[0] = '\0';
    if (av__onnx_load_memory(data, size, NULL, &g, err, sizeof err) != AV_STATUS_OK) {
        if (g || !memchr(err, '\0', sizeof err) || !err[0])
            abort(); /* a failure leaves *out NULL and says why */
        return 0;
    }
    if (!g)
        abort();
    check_graph(g);
    av__graph_free(g);
    return 0;
}
