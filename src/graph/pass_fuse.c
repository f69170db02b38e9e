/* Pointwise-chain fusion (contract in passes.h; the fused operator in ops/elementwise_chain.h).
 *
 * Nodes are visited in topological order. A node that can be a chain step starts a chain on its
 * non-constant input X (the chain's input); the chain grows while the running value has exactly
 * one reader, that reader is not dead or fused already and can be a step on the running value,
 * and its other operand is acceptable: X itself, or a constant that cannot make the output
 * bigger than X. The fused node takes the place of the chain's last node (all its inputs come
 * earlier) and writes that node's output value. */
#include <string.h>

#include "core/internal.h"
#include "graph/pass_internal.h"
#include "graph/passes.h"
#include "ops/elementwise_chain.h"

/* What the graph shows of value x's shape: *rank (-1 unknown) and dims (-1 unknown). Declared
 * shapes first; else a Conv/ConvTranspose output with a constant weight, whose rank and
 * channel count (dim 1) the weight gives. */
static void known_shape(const av__graph *g, int x, int *rank, int64_t *dims)
{
    const av__value *v = &g->values[x];
    *rank = -1;
    if (v->ndim >= 0) {
        *rank = v->ndim;
        for (int d = 0; d < v->ndim; d++)
            dims[d] = v->dims[d].param ? -1 : v->dims[d].value;
        return;
    }
    if (v->producer < 0)
        return;
    const av__node *p = &g->nodes[v->producer];
    int conv = av__pass_is_op(p, "Conv"), convt = av__pass_is_op(p, "ConvTranspose");
    const av__tensor *w = p->n_inputs > 1 ? av__pass_const(g, p->inputs[1], AV__DT_UNDEFINED)
                                          : NULL;
    if ((!conv && !convt) || !w || w->ndim < 3 || p->outputs[0] != x)
        return;
    *rank = w->ndim;
    for (int d = 0; d < w->ndim; d++)
        dims[d] = -1;
    dims[1] = conv ? w->shape[0] : w->shape[1] * av__attr_int(p, "group", 1);
}

/* Whether constant value c can be an operand of a chain on X (known shape rank/dims): count 1
 * with a rank X is known to have, or one non-1 dimension matching X's known size there. The
 * chain's operand dtype is *dtype (AV__DT_UNDEFINED until the first constant sets it). */
static int operand_ok(const av__graph *g, int c, int rank, const int64_t *dims, av__dtype *dtype)
{
    const av__tensor *t = av__pass_const(g, c, AV__DT_UNDEFINED);
    if (!t || (*dtype != AV__DT_UNDEFINED && t->dtype != *dtype))
        return 0;
    if (t->ndim > 0 && (rank < 0 || t->ndim > rank))
        return 0;
    for (int d = 0; d < t->ndim; d++) {
        int xd = rank - t->ndim + d;
        if (t->shape[d] != 1 && t->shape[d] != dims[xd])
            return 0;
    }
    *dtype = t->dtype;
    return 1;
}

static int step_ok(const av__graph *g, const av__ew_chain_step *s, int x, int rank,
                   const int64_t *dims, av__dtype *dtype)
{
    if (s->binary)
        return s->a == x || operand_ok(g, s->a, rank, dims, dtype);
    if (!strcmp(s->op, "Clip"))
        return (s->a < 0 || operand_ok(g, s->a, 0, dims, dtype)) &&
               (s->b < 0 || operand_ok(g, s->b, 0, dims, dtype));
    return 1;
}

/* The fused node for chain[0..len) on X, in place of chain[len - 1]. 0 or -1 (out of memory). */
static int fuse(av__graph *g, const int *chain, const av__ew_chain_step *steps, int len, int x)
{
    int last = chain[len - 1];
    int inputs[2 * AV__EW_CHAIN_MAX_STEPS + 1], n_in = 0;
    int64_t operands[2 * AV__EW_CHAIN_MAX_STEPS], swap[AV__EW_CHAIN_MAX_STEPS];
    float params[AV__EW_CHAIN_PARAMS * AV__EW_CHAIN_MAX_STEPS];
    const char *ops[AV__EW_CHAIN_MAX_STEPS];
    inputs[n_in++] = x;
    for (int k = 0; k < len; k++) {
        int v[2] = {steps[k].a, steps[k].b};
        for (int j = 0; j < 2; j++) {
            int slot = -1;
            for (int i = 0; i < n_in && v[j] >= 0 && slot < 0; i++)
                if (inputs[i] == v[j])
                    slot = i;
            if (v[j] >= 0 && slot < 0) {
                slot = n_in;
                inputs[n_in++] = v[j];
            }
            operands[2 * k + j] = slot;
        }
        swap[k] = steps[k].swap;
        memcpy(params + AV__EW_CHAIN_PARAMS * k, steps[k].params, sizeof steps[k].params);
        ops[k] = steps[k].op;
    }
    int f = av__graph_add_node(g, AV__EW_CHAIN_OP, AV__DOMAIN_INTERNAL, g->nodes[last].name);
    if (f < 0)
        return -1;
    av__node *node = &g->nodes[f];
    node->inputs = av__mallocarray((size_t)n_in, sizeof *node->inputs);
    node->outputs = av__malloc(sizeof *node->outputs);
    if (!node->inputs || !node->outputs || av__pass_set_strings(node, "ops", ops, len) ||
        av__pass_set_ints(node, "operands", operands, 2 * len) ||
        av__pass_set_ints(node, "swap", swap, len) ||
        av__pass_set_floats(node, "params", params, AV__EW_CHAIN_PARAMS * len)) {
        node->op_type[0] = '\0'; /* av__graph_remove_dead frees it */
        return -1;
    }
    memcpy(node->inputs, inputs, (size_t)n_in * sizeof *inputs);
    node->n_inputs = n_in;
    node->outputs[0] = g->nodes[last].outputs[0];
    node->n_outputs = 1;
    /* the fused node takes the last step's slot; the steps die */
    av__node tmp = g->nodes[last];
    g->nodes[last] = g->nodes[f];
    g->nodes[f] = tmp;
    for (int k = 0; k < len - 1; k++)
        g->nodes[chain[k]].op_type[0] = '\0';
    g->nodes[f].op_type[0] = '\0';
    return 0;
}

av_status av__pass_fuse_pointwise(av__graph *g, int *rewrites, char *err, size_t err_size)
{
    int *uses = av__pass_use_counts(g);
    int *reader = av__mallocarray((size_t)g->n_values + 1, sizeof *reader);
    av_status st = AV_STATUS_OK;
    int fused = 0;
    if (!uses || !reader) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int v = 0; v < g->n_values; v++)
        reader[v] = -1;
    for (int n = 0; n < g->n_nodes; n++)
        for (int i = 0; i < g->nodes[n].n_inputs; i++)
            if (g->nodes[n].inputs[i] >= 0)
                reader[g->nodes[n].inputs[i]] = n;

    const int n_nodes = g->n_nodes; /* fusing appends (dead) nodes past this */
    for (int n = 0; n < n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        av__ew_chain_step steps[AV__EW_CHAIN_MAX_STEPS];
        int chain[AV__EW_CHAIN_MAX_STEPS], len = 0, x = -1, rank = -1;
        int64_t dims[AV__MAX_DIMS];
        av__dtype dtype = AV__DT_UNDEFINED;
        if (node->op_type[0] == '\0')
            continue;
        for (int i = 0; i < node->n_inputs && len == 0; i++) {
            int in = node->inputs[i];
            if (in < 0 || (g->values[in].flags & AV__VALUE_CONST) ||
                !av__ew_chain_step_of(node, g->opset, in, &steps[0]))
                continue;
            known_shape(g, in, &rank, dims);
            dtype = AV__DT_UNDEFINED;
            if (step_ok(g, &steps[0], in, rank, dims, &dtype)) {
                x = in;
                chain[len++] = n;
            }
        }
        if (len == 0)
            continue;
        for (int cur = node->outputs[0]; len < AV__EW_CHAIN_MAX_STEPS;) {
            int c = reader[cur];
            if (uses[cur] != 1 || c < 0 || g->nodes[c].op_type[0] == '\0' ||
                !av__ew_chain_step_of(&g->nodes[c], g->opset, cur, &steps[len]) ||
                !step_ok(g, &steps[len], x, rank, dims, &dtype))
                break;
            chain[len++] = c;
            cur = g->nodes[c].outputs[0];
        }
        if (len < 2)
            continue;
        if (fuse(g, chain, steps, len, x) != 0) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        fused++;
    }
    st = av__graph_remove_dead(g, err, err_size);
done:
    if (rewrites)
        *rewrites += fused;
    av__free(uses);
    av__free(reader);
    return st;
}
