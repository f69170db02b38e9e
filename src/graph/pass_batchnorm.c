/* BatchNormalization folded into the Conv/ConvTranspose before it (contract in passes.h).
 *
 * Output channel o of a Conv is row o of its weight [O, I/group, k...]. A ConvTranspose's weight
 * is [I, O/group, k...]: input channel i belongs to group i / (I/group), and column j of it
 * feeds output channel (i / (I/group)) * (O/group) + j. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "graph/pass_internal.h"
#include "graph/passes.h"

/* Whether BatchNormalization node bn runs in inference mode with only Y read. */
static int bn_inference(const av__graph *g, const av__node *bn, const int *uses)
{
    if (bn->n_inputs != 5 || bn->n_outputs < 1 || bn->outputs[0] < 0)
        return 0;
    for (int o = 1; o < bn->n_outputs; o++)
        if (bn->outputs[o] >= 0 && uses[bn->outputs[o]] > 0)
            return 0;
    if (g->opset >= 14 && av__attr_int(bn, "training_mode", 0) != 0)
        return 0;
    if (g->opset < 9 && av__attr_int(bn, "spatial", 1) != 1)
        return 0;
    if (g->opset < 14 && bn->n_outputs > 1)
        return 0; /* the extra outputs ask for training mode: leave it to the operator */
    return 1;
}

/* Folds BatchNormalization node b into Conv node c. 1 done, 0 not applicable, -1 no memory. */
static int fold_one(av__graph *g, int c, int b, const int *uses)
{
    av__node *conv = &g->nodes[c], *bn = &g->nodes[b];
    const int transposed = av__pass_is_op(conv, "ConvTranspose");
    const av__tensor *w = conv->n_inputs > 1 ? av__pass_const(g, conv->inputs[1], AV__DT_F32)
                                             : NULL;
    const av__tensor *bias = conv->n_inputs > 2 && conv->inputs[2] >= 0
                                 ? av__pass_const(g, conv->inputs[2], AV__DT_F32) : NULL;
    if (!w || w->ndim < 3 || (conv->n_inputs > 2 && conv->inputs[2] >= 0 && !bias))
        return 0;
    int64_t group = av__attr_int(conv, "group", 1);
    int64_t out_ch = transposed ? w->shape[1] * group : w->shape[0];
    if (group < 1 || w->shape[0] % group != 0 || out_ch <= 0 ||
        (bias && av__tensor_count(bias) != out_ch))
        return 0;
    const av__tensor *p[4]; /* scale, B, mean, var */
    for (int i = 0; i < 4; i++)
        if (!(p[i] = av__pass_const(g, bn->inputs[i + 1], AV__DT_F32)) ||
            av__tensor_count(p[i]) != out_ch)
            return 0;
    if (!bn_inference(g, bn, uses))
        return 0;
    double eps = av__attr_float(bn, "epsilon", 1e-5f);

    const char *wname = g->values[conv->inputs[1]].name;
    int nw = av__pass_add_const(g, wname, "/bn_folded", AV__DT_F32, w->ndim, w->shape);
    int nb = nw < 0 ? -1 : av__pass_add_const(g, g->values[bn->outputs[0]].name, "/bias",
                                              AV__DT_F32, 1, &out_ch);
    if (nw < 0 || nb < 0)
        return -1;
    /* values may have moved */
    conv = &g->nodes[c];
    bn = &g->nodes[b];
    w = &g->values[conv->inputs[1]].constant;
    bias = conv->n_inputs > 2 && conv->inputs[2] >= 0 ? &g->values[conv->inputs[2]].constant
                                                     : NULL;
    for (int i = 0; i < 4; i++)
        p[i] = &g->values[bn->inputs[i + 1]].constant;
    const float *scale = p[0]->data, *beta = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
    const float *wv = w->data;
    float *nwv = g->values[nw].constant.data, *nbv = g->values[nb].constant.data;
    double *s = av__mallocarray((size_t)out_ch, sizeof *s);
    if (!s)
        return -1;
    for (int64_t o = 0; o < out_ch; o++) {
        s[o] = (double)scale[o] / sqrt((double)var[o] + eps);
        double b0 = bias ? (double)((const float *)bias->data)[o] : 0.0;
        nbv[o] = (float)((b0 - (double)mean[o]) * s[o] + (double)beta[o]);
    }
    int64_t taps = 1;
    for (int d = 2; d < w->ndim; d++)
        taps *= w->shape[d];
    const int64_t rows = w->shape[0], cols = w->shape[1];
    const int64_t in_per_group = rows / group;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++) {
            int64_t o = transposed ? (r / in_per_group) * cols + j : r;
            const int64_t at = (r * cols + j) * taps;
            for (int64_t t = 0; t < taps; t++)
                nwv[at + t] = (float)((double)wv[at + t] * s[o]);
        }
    av__free(s);

    if (av__pass_set_input(conv, 2, nb) != 0)
        return -1;
    conv->inputs[1] = nw;
    conv->outputs[0] = bn->outputs[0];
    bn->op_type[0] = '\0';
    return 1;
}

av_status av__pass_fold_batchnorm(av__graph *g, int *rewrites, char *err, size_t err_size)
{
    int *uses = av__pass_use_counts(g);
    int folded = 0;
    if (!uses)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int b = 0; b < g->n_nodes; b++) {
        const av__node *bn = &g->nodes[b];
        if (!av__pass_is_op(bn, "BatchNormalization") || bn->n_inputs < 1 || bn->inputs[0] < 0)
            continue;
        int y = bn->inputs[0], c = g->values[y].producer;
        if (c < 0 || uses[y] != 1 || g->nodes[c].n_outputs != 1 ||
            (!av__pass_is_op(&g->nodes[c], "Conv") &&
             !av__pass_is_op(&g->nodes[c], "ConvTranspose")))
            continue;
        int r = fold_one(g, c, b, uses);
        if (r < 0) {
            av__free(uses);
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        }
        folded += r;
    }
    av__free(uses);
    if (rewrites)
        *rewrites += folded;
    return av__graph_remove_dead(g, err, err_size);
}
