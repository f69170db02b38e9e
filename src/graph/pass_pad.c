/* Zero Pad folded into the Conv that reads it (contract in passes.h). Pads follow the Pad
 * operator (ops/shape_pad.c): the `paddings` (opset 1) or `pads` (2-10) attribute with `value`,
 * or from opset 11 the pads, constant_value and axes (18) inputs; pads list the begins of every
 * padded axis, then the ends. */
#include <string.h>

#include "core/internal.h"
#include "graph/pass_internal.h"
#include "graph/passes.h"

/* Element i of an integer constant (int64 or int32). */
static int64_t int_at(const av__tensor *t, int64_t i)
{
    return t->dtype == AV__DT_I64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

static int all_zero(const av__tensor *t)
{
    size_t bytes = av__tensor_bytes(t);
    for (size_t i = 0; i < bytes; i++)
        if (((const unsigned char *)t->data)[i])
            return 0;
    return 1;
}

/* The Pad's begin/end per axis of a rank-r input, when it is a zero constant pad with pads
 * known at load time. 1 known, 0 not. */
static int zero_pads(const av__graph *g, const av__node *pad, int r, int64_t *begin, int64_t *end)
{
    if (strcmp(av__attr_string(pad, "mode", "constant"), "constant") != 0)
        return 0;
    int64_t pads[2 * AV__MAX_DIMS], axes[AV__MAX_DIMS];
    int np = 0, na = -1;
    if (g->opset < 11) {
        const int64_t *a = av__attr_ints(pad, g->opset < 2 ? "paddings" : "pads", &np);
        if (!a || np > 2 * AV__MAX_DIMS || av__attr_float(pad, "value", 0.0f) != 0.0f)
            return 0;
        memcpy(pads, a, (size_t)np * sizeof *a);
    } else {
        const av__tensor *p =
            pad->n_inputs > 1 ? av__pass_const(g, pad->inputs[1], AV__DT_UNDEFINED) : NULL;
        if (!p || (p->dtype != AV__DT_I64 && p->dtype != AV__DT_I32) || p->ndim != 1 ||
            p->shape[0] > 2 * AV__MAX_DIMS)
            return 0;
        np = (int)p->shape[0];
        for (int i = 0; i < np; i++)
            pads[i] = int_at(p, i);
        if (pad->n_inputs > 2 && pad->inputs[2] >= 0) {
            const av__tensor *v = av__pass_const(g, pad->inputs[2], AV__DT_UNDEFINED);
            if (!v || av__tensor_count(v) != 1 || !all_zero(v))
                return 0;
        }
        if (pad->n_inputs > 3 && pad->inputs[3] >= 0) {
            const av__tensor *a = av__pass_const(g, pad->inputs[3], AV__DT_UNDEFINED);
            if (!a || (a->dtype != AV__DT_I64 && a->dtype != AV__DT_I32) || a->ndim != 1 ||
                a->shape[0] > AV__MAX_DIMS)
                return 0;
            na = (int)a->shape[0];
            for (int i = 0; i < na; i++)
                axes[i] = int_at(a, i);
        }
        if (pad->n_inputs > 4)
            return 0;
    }
    int n_axes = na >= 0 ? na : r;
    if (np != 2 * n_axes)
        return 0;
    for (int d = 0; d < r; d++)
        begin[d] = end[d] = 0;
    for (int i = 0; i < n_axes; i++) {
        int64_t a = na >= 0 ? axes[i] : i;
        if (a < 0)
            a += r;
        if (a < 0 || a >= r || begin[a] || end[a])
            return 0; /* out of range or given twice: the operator reports it */
        begin[a] = pads[i];
        end[a] = pads[i + n_axes];
    }
    for (int d = 0; d < r; d++)
        if (begin[d] < 0 || end[d] < 0 || (d < 2 && (begin[d] || end[d])))
            return 0;
    return 1;
}

av_status av__pass_fold_pad(av__graph *g, int *rewrites, char *err, size_t err_size)
{
    int *uses = av__pass_use_counts(g);
    int folded = 0;
    if (!uses)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int c = 0; c < g->n_nodes; c++) {
        av__node *conv = &g->nodes[c];
        if (!av__pass_is_op(conv, "Conv") || conv->n_inputs < 2 || conv->inputs[0] < 0)
            continue;
        int y = conv->inputs[0], p = g->values[y].producer;
        if (p < 0 || uses[y] != 1 || !av__pass_is_op(&g->nodes[p], "Pad") ||
            g->nodes[p].n_inputs < 1 || g->nodes[p].inputs[0] < 0)
            continue;
        const char *ap = av__attr_string(conv, "auto_pad", "NOTSET");
        if (strcmp(ap, "NOTSET") != 0)
            continue;
        /* the rank: from the weight, else kernel_shape */
        int nk = 0, r = -1;
        const av__tensor *w = av__pass_const(g, conv->inputs[1], AV__DT_UNDEFINED);
        av__attr_ints(conv, "kernel_shape", &nk);
        r = w ? w->ndim : nk > 0 ? nk + 2 : -1;
        if (r < 3 || r > AV__MAX_DIMS)
            continue;
        int64_t begin[AV__MAX_DIMS], end[AV__MAX_DIMS], pads[2 * AV__MAX_DIMS];
        if (!zero_pads(g, &g->nodes[p], r, begin, end))
            continue;
        int nsp = r - 2, n_old = 0;
        const int64_t *old = av__attr_ints(conv, "pads", &n_old);
        if (old && n_old != 2 * nsp)
            continue;
        for (int i = 0; i < nsp; i++) {
            pads[i] = (old ? old[i] : 0) + begin[2 + i];
            pads[nsp + i] = (old ? old[nsp + i] : 0) + end[2 + i];
        }
        if (av__pass_set_ints(conv, "pads", pads, 2 * nsp) != 0) {
            av__free(uses);
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        }
        conv->inputs[0] = g->nodes[p].inputs[0];
        g->nodes[p].op_type[0] = '\0';
        folded++;
    }
    av__free(uses);
    if (rewrites)
        *rewrites += folded;
    return av__graph_remove_dead(g, err, err_size);
}
