/* Weight norm (w = g * v / ||v||, PyTorch's weight_norm as exported) folded into a constant
 * Conv/ConvTranspose weight (contract in passes.h).
 *
 * Constant folding already turns the pattern into a constant when every intermediate stays
 * under its size limit; this pass covers what is left, and computes the weight in one buffer
 * instead of one tensor per node. The float32 steps are done as the nodes do them (v / n, then
 * times g; or g / n, then times v) with the norm summed in double and rounded once. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "graph/pass_internal.h"
#include "graph/passes.h"

/* The producer node of value v, or NULL. */
static const av__node *producer(const av__graph *g, int v)
{
    return v >= 0 && g->values[v].producer >= 0 ? &g->nodes[g->values[v].producer] : NULL;
}

/* Reduced axes of a Reduce* node over a rank-r input as a bit mask, from the `axes` attribute
 * or (from opset `axes_input_from`) input 1; keepdims must be 1. 0 when not known. */
static unsigned reduced_axes(const av__graph *g, const av__node *n, int r, int axes_input_from)
{
    if (av__attr_int(n, "keepdims", 1) != 1)
        return 0;
    int64_t axes[AV__MAX_DIMS];
    int na = 0;
    if (g->opset >= axes_input_from) {
        if (n->n_inputs > 1 && n->inputs[1] >= 0) {
            const av__tensor *a = av__pass_const(g, n->inputs[1], AV__DT_I64);
            if (!a || a->ndim != 1 || a->shape[0] > AV__MAX_DIMS)
                return 0;
            na = (int)a->shape[0];
            memcpy(axes, a->data, (size_t)na * sizeof *axes);
        }
        if (na == 0 && av__attr_int(n, "noop_with_empty_axes", 0) != 0)
            return 0;
    } else {
        const int64_t *a = av__attr_ints(n, "axes", &na);
        if (na > AV__MAX_DIMS || n->n_inputs > 1)
            return 0;
        if (na)
            memcpy(axes, a, (size_t)na * sizeof *axes);
    }
    unsigned mask = 0;
    if (na == 0)
        return (1u << r) - 1; /* every axis */
    for (int i = 0; i < na; i++) {
        int64_t d = axes[i] < 0 ? axes[i] + r : axes[i];
        if (d < 0 || d >= r)
            return 0;
        mask |= 1u << d;
    }
    return mask;
}

/* When value nv is ||v|| over some axes of constant v (see passes.h), the reduced axes mask. */
static unsigned norm_of(const av__graph *g, int nv, int v, int r)
{
    const av__node *n = producer(g, nv);
    if (!n || n->n_inputs < 1)
        return 0;
    if (av__pass_is_op(n, "ReduceL2"))
        return n->inputs[0] == v ? reduced_axes(g, n, r, 18) : 0;
    if (!av__pass_is_op(n, "Sqrt") || !(n = producer(g, n->inputs[0])) || n->n_inputs < 1)
        return 0;
    if (av__pass_is_op(n, "ReduceSumSquare"))
        return n->inputs[0] == v ? reduced_axes(g, n, r, 18) : 0;
    if (!av__pass_is_op(n, "ReduceSum"))
        return 0;
    unsigned mask = reduced_axes(g, n, r, 13);
    const av__node *sq = producer(g, n->inputs[0]);
    if (!sq || sq->n_inputs != 2 || sq->inputs[0] != v)
        return 0;
    if (av__pass_is_op(sq, "Mul"))
        return sq->inputs[1] == v ? mask : 0;
    if (av__pass_is_op(sq, "Pow")) {
        const av__tensor *e = av__pass_const(g, sq->inputs[1], AV__DT_UNDEFINED);
        if (!e || av__tensor_count(e) != 1)
            return 0;
        double two = e->dtype == AV__DT_F32 ? ((const float *)e->data)[0]
                   : e->dtype == AV__DT_F64 ? ((const double *)e->data)[0]
                   : e->dtype == AV__DT_I64 ? (double)((const int64_t *)e->data)[0] : 0.0;
        return two == 2.0 ? mask : 0;
    }
    return 0;
}

/* Whether g_ (count and shape) is a per-kept-axis (or scalar, kept < 0) factor for v. */
static int factor_fits(const av__tensor *f, const av__tensor *v, int kept)
{
    if (f->ndim > v->ndim)
        return 0;
    for (int d = 0; d < f->ndim; d++) {
        int vd = v->ndim - f->ndim + d;
        if (f->shape[d] != 1 && (vd != kept || f->shape[d] != v->shape[vd]))
            return 0;
    }
    return 1;
}

/* Folds the weight of conv node c when it is weight norm. 1 done, 0 not, -1 no memory. */
static int fold_one(av__graph *g, int c)
{
    const av__node *conv = &g->nodes[c];
    const av__node *mul = producer(g, conv->inputs[1]);
    if (!mul || !av__pass_is_op(mul, "Mul") || mul->n_inputs != 2)
        return 0;
    for (int side = 0; side < 2; side++) {
        int kv = mul->inputs[side], dv = mul->inputs[1 - side];
        const av__node *div = producer(g, dv);
        const av__tensor *k = av__pass_const(g, kv, AV__DT_F32);
        if (!k || !div || !av__pass_is_op(div, "Div") || div->n_inputs != 2)
            continue;
        int num = div->inputs[0], den = div->inputs[1];
        const av__tensor *nt = av__pass_const(g, num, AV__DT_F32);
        /* g * (v / n): the numerator is v; v * (g / n): the Mul's constant is v */
        int g_first = nt && nt->ndim >= 1 && nt->ndim <= 16 &&
                      norm_of(g, den, num, nt->ndim) != 0;
        int v_value = g_first ? num : kv;
        const av__tensor *v = g_first ? nt : k, *gt = g_first ? k : nt;
        if (!gt || v->ndim < 1 || v->ndim > 16)
            continue;
        unsigned mask = norm_of(g, den, v_value, v->ndim);
        if (!mask || (!g_first && num == kv))
            continue;
        int kept = -1, n_kept = 0;
        for (int d = 0; d < v->ndim; d++)
            if (!(mask >> d & 1u)) {
                kept = d;
                n_kept++;
            }
        if (n_kept > 1 || !factor_fits(gt, v, kept))
            continue;

        int64_t groups = kept < 0 ? 1 : v->shape[kept], inner = 1;
        for (int d = kept + 1; d < v->ndim && kept >= 0; d++)
            inner *= v->shape[d];
        if (kept < 0)
            inner = av__tensor_count(v);
        const int64_t total = av__tensor_count(v);
        int nw = av__pass_add_const(g, g->values[v_value].name, "/weight_norm", AV__DT_F32,
                                    v->ndim, v->shape);
        if (nw < 0)
            return -1;
        /* values may have moved */
        v = &g->values[v_value].constant;
        gt = &g->values[g_first ? kv : num].constant;
        const float *vv = v->data, *gv = gt->data;
        float *w = g->values[nw].constant.data;
        double *sum = av__calloc((size_t)groups, sizeof *sum);
        if (!sum)
            return -1;
        for (int64_t i = 0; i < total; i++) {
            int64_t q = (i / inner) % groups;
            sum[q] += (double)vv[i] * (double)vv[i];
        }
        const int scalar_g = av__tensor_count(gt) == 1;
        for (int64_t i = 0; i < total; i++) {
            int64_t q = (i / inner) % groups;
            float n = (float)sqrt(sum[q]), gq = gv[scalar_g ? 0 : q];
            w[i] = g_first ? gq * (vv[i] / n) : vv[i] * (gq / n);
        }
        av__free(sum);
        /* every convolution reading this weight reads the folded one */
        int old = g->nodes[c].inputs[1];
        for (int n = c; n < g->n_nodes; n++)
            if ((av__pass_is_op(&g->nodes[n], "Conv") ||
                 av__pass_is_op(&g->nodes[n], "ConvTranspose")) &&
                g->nodes[n].n_inputs > 1 && g->nodes[n].inputs[1] == old)
                g->nodes[n].inputs[1] = nw;
        return 1;
    }
    return 0;
}

av_status av__pass_fold_weight_norm(av__graph *g, int *rewrites, char *err, size_t err_size)
{
    int folded = 0;
    for (int c = 0; c < g->n_nodes; c++) {
        const av__node *conv = &g->nodes[c];
        if ((!av__pass_is_op(conv, "Conv") && !av__pass_is_op(conv, "ConvTranspose")) ||
            conv->n_inputs < 2 || conv->inputs[1] < 0 ||
            (g->values[conv->inputs[1]].flags & AV__VALUE_CONST))
            continue;
        int r = fold_one(g, c);
        if (r < 0)
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        folded += r;
    }
    if (rewrites)
        *rewrites += folded;
    return av__graph_remove_dead(g, err, err_size);
}
