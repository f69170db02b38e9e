/* Operation counts for `inspect` and benchmark tables: multiply-accumulates x 2 of the
 * operators that carry the compute. Everything else counts 0. */
#include <string.h>

#include "engine/engine_internal.h"

static double count(const av__tensor *t)
{
    return t ? (double)av__tensor_count(t) : 0.0;
}

double av__engine_node_flops(const av__node *node, const av__tensor *const *in,
                             const av__tensor *const *out)
{
    const char *op = node->op_type;
    if (node->n_inputs < 2 || !in[0] || !in[1] || node->n_outputs < 1 || !out[0])
        return 0.0;
    const av__tensor *w = in[1];
    if (!strcmp(op, "FusedConv") && av__attr_int(node, "transpose", 0)) {
        double per_in = w->ndim > 0 && w->shape[0] > 0 ? count(w) / (double)w->shape[0] : 0.0;
        return 2.0 * count(in[0]) * per_in; /* as ConvTranspose (layout does not matter) */
    }
    if (!strcmp(op, "Conv") || !strcmp(op, "FusedConv")) {
        /* each output element: (C_in / group) x kernel taps, i.e. W's elements per out channel */
        double per_out = w->ndim > 0 && w->shape[0] > 0 ? count(w) / (double)w->shape[0] : 0.0;
        return 2.0 * count(out[0]) * per_out;
    }
    if (!strcmp(op, "ConvTranspose")) {
        /* each input element meets (C_out / group) x kernel taps */
        double per_in = w->ndim > 0 && w->shape[0] > 0 ? count(w) / (double)w->shape[0] : 0.0;
        return 2.0 * count(in[0]) * per_in;
    }
    if (!strcmp(op, "MatMul") || !strcmp(op, "Gemm")) {
        /* K = shared dimension: A's last (or first, transposed Gemm) */
        const av__tensor *a = in[0];
        if (a->ndim < 1)
            return 0.0;
        int64_t k = a->shape[a->ndim - 1];
        if (!strcmp(op, "Gemm") && av__attr_int(node, "transA", 0) && a->ndim == 2)
            k = a->shape[0];
        return 2.0 * count(out[0]) * (double)k;
    }
    return 0.0;
}
