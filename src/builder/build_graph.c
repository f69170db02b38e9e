/* The builder's graph rewrites for oneDNN convolutions; contract in build_graph.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "builder/build_graph.h"
#include "core/internal.h"
#include "graph/passes.h"
#include "ops/conv_dnnl.h"
#include "ops/elementwise_chain.h"

/* ---- small graph-editing helpers ------------------------------------------------------------ */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = av__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int is_op(const av__node *n, const char *op)
{
    return (!n->domain[0] || !strcmp(n->domain, "ai.onnx")) && !strcmp(n->op_type, op);
}

static int is_fused(const av__node *n)
{
    return !strcmp(n->domain, AV__DOMAIN_INTERNAL) && !strcmp(n->op_type, AV__FUSED_CONV_OP);
}

static int is_chain(const av__node *n)
{
    return !strcmp(n->domain, AV__DOMAIN_INTERNAL) && !strcmp(n->op_type, "ElementwiseChain");
}

/* The attribute `name` of n, emptied for a new value, or a new one; NULL when out of memory. */
static av__attr *attr_slot(av__node *n, const char *name, av__attr_type type)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].name && !strcmp(n->attrs[i].name, name)) {
            av__attr_clear(&n->attrs[i]);
            if (!(n->attrs[i].name = dupstr(name)))
                return NULL;
            n->attrs[i].type = type;
            return &n->attrs[i];
        }
    av__attr *a = av__realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *a);
    if (!a)
        return NULL;
    n->attrs = a;
    a = &n->attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    if (!(a->name = dupstr(name)))
        return NULL;
    a->type = type;
    n->n_attrs++;
    return a;
}

static int set_int(av__node *n, const char *name, int64_t v)
{
    av__attr *a = attr_slot(n, name, AV__ATTR_INT);
    if (a)
        a->i = v;
    return a ? 0 : -1;
}

static int set_float(av__node *n, const char *name, float v)
{
    av__attr *a = attr_slot(n, name, AV__ATTR_FLOAT);
    if (a)
        a->f = v;
    return a ? 0 : -1;
}

static int set_string(av__node *n, const char *name, const char *v)
{
    av__attr *a = attr_slot(n, name, AV__ATTR_STRING);
    if (!a || !(a->s = dupstr(v)))
        return -1;
    a->s_len = strlen(v);
    return 0;
}

static int set_floats(av__node *n, const char *name, const float *v, int count)
{
    av__attr *a = attr_slot(n, name, AV__ATTR_FLOATS);
    if (!a || !(a->floats = av__malloc((size_t)(count ? count : 1) * sizeof *v)))
        return -1;
    memcpy(a->floats, v, (size_t)count * sizeof *v);
    a->count = count;
    return 0;
}

static int set_ints(av__node *n, const char *name, const int64_t *v, int count)
{
    av__attr *a = attr_slot(n, name, AV__ATTR_INTS);
    if (!a || !(a->ints = av__malloc((size_t)(count ? count : 1) * sizeof *v)))
        return -1;
    memcpy(a->ints, v, (size_t)count * sizeof *v);
    a->count = count;
    return 0;
}

static int set_strings(av__node *n, const char *name, const char *const *v, int count)
{
    av__attr *a = attr_slot(n, name, AV__ATTR_STRINGS);
    if (!a || !(a->strings = av__calloc((size_t)count + 1, sizeof *a->strings)))
        return -1;
    a->count = count;
    for (int i = 0; i < count; i++)
        if (!(a->strings[i] = dupstr(v[i])))
            return -1;
    return 0;
}

static int set_inputs(av__node *n, const int *v, int count)
{
    int *in = av__malloc((size_t)(count ? count : 1) * sizeof *in);
    if (!in)
        return -1;
    memcpy(in, v, (size_t)count * sizeof *v);
    av__free(n->inputs);
    n->inputs = in;
    n->n_inputs = count;
    return 0;
}

/* A new value named base + suffix (+ "#k" until unique); its index, -1 when out of memory. */
static int new_value(av__graph *g, const char *base, const char *suffix)
{
    char name[512];
    for (int k = 0; k < 1000000; k++) {
        if (k)
            snprintf(name, sizeof name, "%.400s%s#%d", base, suffix, k);
        else
            snprintf(name, sizeof name, "%.400s%s", base, suffix);
        if (av__graph_find_value(g, name) < 0)
            return av__graph_value(g, name);
    }
    return -1;
}

/* The float32 count-1 constant held by v, in *c; 0 when v is not one. */
static int scalar_const(const av__graph *g, int v, float *c)
{
    if (v < 0 || !(g->values[v].flags & AV__VALUE_CONST))
        return 0;
    const av__tensor *t = &g->values[v].constant;
    if (t->dtype != AV__DT_F32 || av__tensor_count(t) != 1 || !t->data)
        return 0;
    *c = *(const float *)t->data;
    return 1;
}

static int is_const(const av__graph *g, int v)
{
    return v >= 0 && (g->values[v].flags & AV__VALUE_CONST);
}

/* Per value: node inputs reading it among the live nodes, + 1 for a graph output. */
static int *count_uses(const av__graph *g, const unsigned char *dead, int *consumer)
{
    int *uses = av__calloc((size_t)g->n_values + 1, sizeof *uses);
    if (!uses)
        return NULL;
    for (int n = 0; n < g->n_nodes; n++) {
        if (dead && dead[n])
            continue;
        const av__node *node = &g->nodes[n];
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0) {
                uses[node->inputs[i]]++;
                if (consumer)
                    consumer[node->inputs[i]] = n;
            }
    }
    for (int i = 0; i < g->n_outputs; i++)
        uses[g->outputs[i]]++;
    return uses;
}

static int is_graph_output(const av__graph *g, int v)
{
    return v >= 0 && (g->values[v].flags & AV__VALUE_OUTPUT);
}

/* Drops the dead nodes (keeping the order of the rest), then sorts. */
static av_status compact(av__graph *g, const unsigned char *dead, int n_marked, char *err,
                         size_t err_size)
{
    int k = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        if (n < n_marked && dead[n]) {
            av__node_clear(&g->nodes[n]);
            continue;
        }
        if (k != n)
            g->nodes[k] = g->nodes[n];
        k++;
    }
    g->n_nodes = k;
    return av__graph_toposort(g, err, err_size);
}

/* ---- clone ----------------------------------------------------------------------------------- */

static int copy_attr(av__attr *d, const av__attr *s)
{
    memset(d, 0, sizeof *d);
    d->type = s->type;
    d->f = s->f;
    d->i = s->i;
    d->count = s->count;
    d->s_len = s->s_len;
    if (!(d->name = dupstr(s->name ? s->name : "")))
        return -1;
    if (s->s) {
        if (!(d->s = av__malloc(s->s_len + 1)))
            return -1;
        memcpy(d->s, s->s, s->s_len + 1);
    }
    if (s->ints) {
        if (!(d->ints = av__malloc((size_t)(s->count ? s->count : 1) * sizeof *d->ints)))
            return -1;
        memcpy(d->ints, s->ints, (size_t)s->count * sizeof *d->ints);
    }
    if (s->floats) {
        if (!(d->floats = av__malloc((size_t)(s->count ? s->count : 1) * sizeof *d->floats)))
            return -1;
        memcpy(d->floats, s->floats, (size_t)s->count * sizeof *d->floats);
    }
    if (s->strings) {
        if (!(d->strings = av__calloc((size_t)s->count + 1, sizeof *d->strings)))
            return -1;
        for (int i = 0; i < s->count; i++)
            if (s->strings[i] && !(d->strings[i] = dupstr(s->strings[i])))
                return -1;
    }
    if (s->t) {
        size_t bytes = av__tensor_bytes(s->t);
        if (!(d->t = av__malloc(sizeof *d->t)))
            return -1;
        *d->t = *s->t;
        if (!(d->t->data = av__aligned_alloc(bytes)))
            return -1;
        if (bytes)
            memcpy(d->t->data, s->t->data, bytes);
    }
    return 0;
}

static int *dup_ints(const int *v, int n)
{
    int *d = av__malloc((size_t)(n ? n : 1) * sizeof *d);
    if (d && n)
        memcpy(d, v, (size_t)n * sizeof *d);
    return d;
}

av__graph *av__build_graph_clone(const av__graph *s)
{
    av__graph *g = av__graph_create();
    if (!g)
        return NULL;
    g->ir_version = s->ir_version;
    g->opset = s->opset;
    if ((s->name && !(g->name = dupstr(s->name))) ||
        (s->producer_name && !(g->producer_name = dupstr(s->producer_name))))
        goto oom;
    for (int v = 0; v < s->n_values; v++) {
        const av__value *sv = &s->values[v];
        if (av__graph_value(g, sv->name) != v)
            goto oom; /* names are unique: indices match */
        av__value *dv = &g->values[v];
        dv->flags = sv->flags;
        dv->dtype = sv->dtype;
        dv->ndim = sv->ndim;
        dv->producer = sv->producer;
        for (int d = 0; d < AV__MAX_DIMS; d++) {
            dv->dims[d].value = sv->dims[d].value;
            if (sv->dims[d].param && !(dv->dims[d].param = dupstr(sv->dims[d].param)))
                goto oom;
        }
        if (sv->flags & AV__VALUE_CONST) {
            size_t bytes = av__tensor_bytes(&sv->constant);
            dv->constant = sv->constant;
            if (!(dv->constant.data = av__aligned_alloc(bytes)))
                goto oom;
            if (bytes)
                memcpy(dv->constant.data, sv->constant.data, bytes);
        }
    }
    if (!(g->inputs = dup_ints(s->inputs, s->n_inputs)) ||
        !(g->outputs = dup_ints(s->outputs, s->n_outputs)))
        goto oom;
    g->n_inputs = s->n_inputs;
    g->n_outputs = s->n_outputs;
    for (int n = 0; n < s->n_nodes; n++) {
        const av__node *sn = &s->nodes[n];
        int k = av__graph_add_node(g, sn->op_type, sn->domain, sn->name ? sn->name : "");
        if (k < 0)
            goto oom;
        av__node *dn = &g->nodes[k];
        if (!(dn->inputs = dup_ints(sn->inputs, sn->n_inputs)) ||
            !(dn->outputs = dup_ints(sn->outputs, sn->n_outputs)) ||
            !(dn->attrs = av__calloc((size_t)sn->n_attrs + 1, sizeof *dn->attrs)))
            goto oom;
        dn->n_inputs = sn->n_inputs;
        dn->n_outputs = sn->n_outputs;
        for (int a = 0; a < sn->n_attrs; a++) {
            dn->n_attrs = a + 1;
            if (copy_attr(&dn->attrs[a], &sn->attrs[a]) != 0)
                goto oom;
        }
    }
    return g;
oom:
    av__graph_free(g);
    return NULL;
}

av__node *av__build_node_variant(const av__node *src, av_precision p, float x_scale, int x_zero)
{
    av__node *n = av__calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (!(n->name = dupstr(src->name ? src->name : "")) || !(n->op_type = dupstr(src->op_type)) ||
        !(n->domain = dupstr(src->domain)) || !(n->inputs = dup_ints(src->inputs, src->n_inputs)) ||
        !(n->outputs = dup_ints(src->outputs, src->n_outputs)) ||
        !(n->attrs = av__calloc((size_t)src->n_attrs + 1, sizeof *n->attrs)))
        goto oom;
    n->n_inputs = src->n_inputs;
    n->n_outputs = src->n_outputs;
    for (int a = 0; a < src->n_attrs; a++) {
        n->n_attrs = a + 1;
        if (copy_attr(&n->attrs[a], &src->attrs[a]) != 0)
            goto oom;
    }
    if (set_int(n, "precision", p) != 0 ||
        (p == AV_PRECISION_INT8 && set_float(n, "x_scale", x_scale) != 0) ||
        (p == AV_PRECISION_INT8 && x_zero >= 0 && set_int(n, "x_zero", x_zero) != 0))
        goto oom;
    return n;
oom:
    av__build_node_free(n);
    return NULL;
}

void av__build_node_free(av__node *node)
{
    if (node) {
        av__node_clear(node);
        av__free(node);
    }
}

/* ---- stage A: fusion ---------------------------------------------------------------------- */

int av__build_conv_candidate(const av__graph *g, const av__node *node)
{
    int transpose = is_op(node, "ConvTranspose");
    if (!transpose && !is_op(node, "Conv"))
        return 0;
    if (node->n_inputs < 2 || node->n_outputs != 1 || node->outputs[0] < 0)
        return 0;
    int w = node->inputs[1], b = node->n_inputs > 2 ? node->inputs[2] : -1;
    if (node->inputs[0] < 0 || !is_const(g, w) || g->values[w].constant.dtype != AV__DT_F32 ||
        g->values[w].constant.ndim < 3 || g->values[w].constant.ndim > 5)
        return 0;
    if (b >= 0 && (!is_const(g, b) || g->values[b].constant.dtype != AV__DT_F32))
        return 0;
    if (transpose) {
        const char *ap = av__attr_string(node, "auto_pad", "NOTSET");
        if (av__node_attr(node, "output_shape") || !strncmp(ap, "SAME", 4))
            return 0; /* may need negative leading padding */
    }
    return 1;
}

static int same_f32_shape(const av__tensor *a, const av__tensor *b)
{
    return a->ndim >= 0 && a->ndim == b->ndim && a->dtype == AV__DT_F32 &&
           b->dtype == AV__DT_F32 &&
           !memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]);
}

/* One elementwise op on the running value as a post step: ONNX type `op` with its other operand
 * a constant c (has_c) or value `other` (>= 0), `swapped` when the running value is the right
 * operand. 1 with *step (and *addend for "add") filled, 0 when it does not map. */
static int binary_step(const char *op, int has_c, float c, int other, int swapped,
                       av__dnnl_step *step, int *addend)
{
    memset(step, 0, sizeof *step);
    *addend = -1;
    if (has_c) {
        step->act = AV__DNNL_ACT_LINEAR;
        if (!strcmp(op, "Add")) {
            step->alpha = 1.0f;
            step->beta = c;
        } else if (!strcmp(op, "Sub")) {
            step->alpha = swapped ? -1.0f : 1.0f;
            step->beta = swapped ? c : -c;
        } else if (!strcmp(op, "Mul")) {
            step->alpha = c;
        } else if (!strcmp(op, "Div") && !swapped && c != 0.0f && isfinite(1.0f / c)) {
            step->alpha = 1.0f / c;
        } else {
            return 0;
        }
        return 1;
    }
    if (other >= 0 && !strcmp(op, "Add")) {
        step->act = AV__DNNL_ACT_ADD;
        *addend = other;
        return 1;
    }
    return 0;
}

static int unary_step(const char *op, float alpha, av__dnnl_step *step)
{
    memset(step, 0, sizeof *step);
    if (!strcmp(op, "Relu")) {
        step->act = AV__DNNL_ACT_RELU;
    } else if (!strcmp(op, "LeakyRelu")) {
        step->act = AV__DNNL_ACT_RELU;
        step->alpha = alpha;
    } else if (!strcmp(op, "Tanh")) {
        step->act = AV__DNNL_ACT_TANH;
    } else if (!strcmp(op, "Sigmoid")) {
        step->act = AV__DNNL_ACT_SIGMOID;
    } else {
        return 0;
    }
    return 1;
}

/* Node u (reading the running value x) as post steps: *n steps into steps[], addends into
 * adds[] (*n_adds of them). 0 when it does not map. */
static int node_steps(const av__graph *g, const av__node *u, int x, const av__tensor *shapes,
                      av__dnnl_step *steps, int *n, int *adds, int *n_adds)
{
    *n = *n_adds = 0;
    if (u->n_outputs != 1 || u->outputs[0] < 0)
        return 0;
    int y = u->outputs[0];
    if (!same_f32_shape(&shapes[x], &shapes[y]))
        return 0; /* the step must keep the conv's shape and type */
    if (is_chain(u)) {
        int n_ops = 0, n_operands = 0, n_swap = 0, n_params = 0;
        const av__attr *ops = av__node_attr(u, "ops");
        const int64_t *operands = av__attr_ints(u, "operands", &n_operands);
        const int64_t *swap = av__attr_ints(u, "swap", &n_swap);
        const float *params = av__attr_floats(u, "params", &n_params);
        if (!ops || ops->type != AV__ATTR_STRINGS || u->n_inputs < 1 || u->inputs[0] != x)
            return 0;
        n_ops = ops->count;
        if (n_ops > AV__DNNL_MAX_POST || n_operands != 2 * n_ops || n_swap != n_ops ||
            n_params != n_ops * AV__EW_CHAIN_PARAMS)
            return 0;
        for (int k = 0; k < n_ops; k++) {
            const char *op = ops->strings[k] ? ops->strings[k] : "";
            int64_t a = operands[2 * k];
            if (unary_step(op, params[k * AV__EW_CHAIN_PARAMS], &steps[k]))
                continue;
            float c;
            int addend;
            if (a < 1 || a >= u->n_inputs || !scalar_const(g, u->inputs[a], &c) ||
                !binary_step(op, 1, c, -1, (int)swap[k], &steps[k], &addend))
                return 0;
        }
        *n = n_ops;
        return 1;
    }
    if (u->domain[0] && strcmp(u->domain, "ai.onnx") != 0)
        return 0;
    if (u->n_inputs == 1 && u->inputs[0] == x) {
        *n = unary_step(u->op_type, av__attr_float(u, "alpha", 0.01f), &steps[0]);
        return *n;
    }
    if (u->n_inputs != 2 || (u->inputs[0] == x) == (u->inputs[1] == x))
        return 0;
    int swapped = u->inputs[1] == x, other = u->inputs[swapped ? 0 : 1];
    float c = 0;
    int has_c = scalar_const(g, other, &c);
    if (!has_c && (is_const(g, other) || !same_f32_shape(&shapes[other], &shapes[x])))
        return 0;
    int addend;
    if (!binary_step(u->op_type, has_c, c, has_c ? -1 : other, swapped, &steps[0], &addend))
        return 0;
    *n = 1;
    if (addend >= 0)
        adds[(*n_adds)++] = addend;
    return 1;
}

static const char *act_name(av__dnnl_act a, float alpha)
{
    switch (a) {
    case AV__DNNL_ACT_RELU: return alpha != 0.0f ? "leaky_relu" : "relu";
    case AV__DNNL_ACT_TANH: return "tanh";
    case AV__DNNL_ACT_SIGMOID: return "sigmoid";
    case AV__DNNL_ACT_LINEAR: return "linear";
    case AV__DNNL_ACT_ADD: return "add";
    default: return "";
    }
}

static int set_post(av__node *node, const av__dnnl_step *steps, int n)
{
    const char *names[AV__DNNL_MAX_POST];
    float alpha[AV__DNNL_MAX_POST], beta[AV__DNNL_MAX_POST];
    for (int i = 0; i < n; i++) {
        names[i] = act_name(steps[i].act, steps[i].alpha);
        alpha[i] = steps[i].alpha;
        beta[i] = steps[i].beta;
    }
    return set_strings(node, "post", names, n) || set_floats(node, "post_alpha", alpha, n) ||
                   set_floats(node, "post_beta", beta, n)
               ? -1
               : 0;
}

/* Reads a FusedConv's post steps back. */
static int get_post(const av__node *node, av__dnnl_step *steps)
{
    const av__attr *post = av__node_attr(node, "post");
    int na = 0, nb = 0;
    const float *alpha = av__attr_floats(node, "post_alpha", &na);
    const float *beta = av__attr_floats(node, "post_beta", &nb);
    if (!post || post->type != AV__ATTR_STRINGS || na != post->count || nb != post->count)
        return 0;
    for (int i = 0; i < post->count && i < AV__DNNL_MAX_POST; i++) {
        const char *s = post->strings[i] ? post->strings[i] : "";
        steps[i].alpha = alpha[i];
        steps[i].beta = beta[i];
        steps[i].act = !strcmp(s, "relu") || !strcmp(s, "leaky_relu") ? AV__DNNL_ACT_RELU
                       : !strcmp(s, "tanh")                           ? AV__DNNL_ACT_TANH
                       : !strcmp(s, "sigmoid")                        ? AV__DNNL_ACT_SIGMOID
                       : !strcmp(s, "linear")                         ? AV__DNNL_ACT_LINEAR
                                                                      : AV__DNNL_ACT_ADD;
    }
    return post->count;
}

/* Turns Conv / ConvTranspose node n into a FusedConv with these post steps and addends, writing
 * value y. */
static int make_fused(av__node *node, const av__dnnl_step *steps, int n_steps, const int *adds,
                      int n_adds, int y)
{
    int transpose = is_op(node, "ConvTranspose");
    int in[3 + AV__DNNL_MAX_POST];
    in[0] = node->inputs[0];
    in[1] = node->inputs[1];
    in[2] = node->n_inputs > 2 ? node->inputs[2] : -1;
    for (int i = 0; i < n_adds; i++)
        in[3 + i] = adds[i];
    char *op = dupstr(AV__FUSED_CONV_OP), *domain = dupstr(AV__DOMAIN_INTERNAL);
    if (!op || !domain) {
        av__free(op);
        av__free(domain);
        return -1;
    }
    av__free(node->op_type);
    av__free(node->domain);
    node->op_type = op;
    node->domain = domain;
    node->outputs[0] = y;
    if (set_inputs(node, in, 3 + n_adds) || set_int(node, "transpose", transpose) ||
        set_int(node, "channels_last", 1) || set_int(node, "precision", AV_PRECISION_FP32))
        return -1;
    return n_steps ? set_post(node, steps, n_steps) : 0;
}

/* ---- stage A: channels-last ------------------------------------------------------------------ */

/* Elementwise operators that give the same result whatever the memory order of their operands,
 * when every non-scalar operand has the same layout. */
static int layout_free(const av__graph *g, const av__node *node)
{
    static const char *const ops[] = {
        "Relu", "LeakyRelu", "Tanh", "Sigmoid", "Elu", "Selu", "Abs", "Neg", "Exp", "Log",
        "Sqrt", "Reciprocal", "Softplus", "Softsign", "HardSigmoid", "Identity", "Erf", "Sin",
        "Cos", "Floor", "Ceil", "Round", "Sign", "Clip", "Add", "Sub", "Mul", "Div", "Pow",
        "Max", "Min"};
    if (is_chain(node)) {
        for (int i = 1; i < node->n_inputs; i++) {
            float c;
            if (node->inputs[i] >= 0 && !scalar_const(g, node->inputs[i], &c))
                return 0;
        }
        return 1;
    }
    if (node->domain[0] && strcmp(node->domain, "ai.onnx") != 0)
        return 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(node->op_type, ops[i]))
            return node->n_outputs == 1;
    return 0;
}

typedef struct layout {
    av__graph *g;
    unsigned char *produced_cl; /* per value: its producer writes the channels-last version */
    unsigned char *ncw_made;    /* the channels-first version was made by a Transpose */
    int *cl;                    /* per value: its channels-last version, -1 none yet */
    int *rank;                  /* rank of a channels-last value */
    int cap;
    int transposes;
} layout;

static int add_transpose(layout *L, int from, int to, int rank, int to_cl, const char *base)
{
    int64_t perm[AV__MAX_DIMS];
    perm[0] = 0;
    for (int i = 1; i < rank; i++)
        perm[i] = to_cl ? (i == rank - 1 ? 1 : i + 1) : (i == 1 ? rank - 1 : i - 1);
    char name[512];
    snprintf(name, sizeof name, "%.400s/%s", base,
             to_cl ? "to_channels_last" : "to_channels_first");
    int n = av__graph_add_node(L->g, "Transpose", "", name);
    if (n < 0)
        return -1;
    av__node *node = &L->g->nodes[n];
    if (!(node->outputs = av__malloc(sizeof *node->outputs)) || set_inputs(node, &from, 1) ||
        set_ints(node, "perm", perm, rank))
        return -1;
    node->outputs[0] = to;
    node->n_outputs = 1;
    L->transposes++;
    return 0;
}

/* The channels-last version of value v (rank `rank`), made by a Transpose when v's producer
 * writes channels-first. -1 when out of memory. */
static int get_cl(layout *L, int v, int rank)
{
    if (L->cl[v] >= 0)
        return L->cl[v];
    char base[512];
    snprintf(base, sizeof base, "%s", L->g->values[v].name);
    int c = new_value(L->g, base, "#cl");
    if (c < 0 || c >= L->cap || add_transpose(L, v, c, rank, 1, base) != 0)
        return -1;
    L->g->values[c].dtype = AV__DT_F32;
    L->g->values[c].ndim = -1;
    L->cl[v] = c;
    L->rank[c] = rank;
    return c;
}

/* The channels-first version of v (v itself), made by a Transpose when v's producer writes
 * channels-last. */
static int get_ncw(layout *L, int v)
{
    if (!L->produced_cl[v] || L->ncw_made[v])
        return v;
    if (add_transpose(L, L->cl[v], v, L->rank[L->cl[v]], 0, L->g->values[v].name) != 0)
        return -1;
    L->ncw_made[v] = 1;
    return v;
}

static int rank_of_cl_inputs(const layout *L, const av__graph *g, const av__node *node)
{
    int rank = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        int v = node->inputs[i];
        float c;
        if (v < 0 || scalar_const(g, v, &c))
            continue;
        if (!L->produced_cl[v])
            return 0;
        int r = L->rank[L->cl[v]];
        if (rank && r != rank)
            return 0;
        rank = r;
    }
    return rank;
}

static av_status channels_last(av__graph *g, const unsigned char *dead, int n_nodes,
                               av__build_fuse_stats *stats)
{
    layout L = {.g = g, .cap = 3 * g->n_values + 1};
    av_status st = AV_STATUS_OUT_OF_MEMORY;
    L.produced_cl = av__calloc((size_t)L.cap, 1);
    L.ncw_made = av__calloc((size_t)L.cap, 1);
    L.cl = av__malloc((size_t)L.cap * sizeof *L.cl);
    L.rank = av__calloc((size_t)L.cap, sizeof *L.rank);
    if (!L.produced_cl || !L.ncw_made || !L.cl || !L.rank)
        goto done;
    for (int v = 0; v < L.cap; v++)
        L.cl[v] = -1;
    for (int n = 0; n < n_nodes; n++) {
        if (dead[n])
            continue;
        av__node *node = &g->nodes[n];
        int fused = is_fused(node);
        int rank = 0;
        if (fused) {
            rank = g->values[node->inputs[1]].constant.ndim;
        } else if (layout_free(g, node)) {
            rank = rank_of_cl_inputs(&L, g, node);
        }
        if (rank) { /* this node runs channels-last */
            for (int i = 0; i < node->n_inputs; i++) {
                int v = node->inputs[i];
                float c;
                if (v < 0 || is_const(g, v) || (!fused && scalar_const(g, v, &c)))
                    continue;
                int c_in = get_cl(&L, v, rank);
                if (c_in < 0)
                    goto done;
                node = &g->nodes[n]; /* get_cl may move the node array */
                node->inputs[i] = c_in;
            }
            int y = node->outputs[0];
            char base[512];
            snprintf(base, sizeof base, "%s", g->values[y].name);
            int c = new_value(g, base, "#cl");
            if (c < 0 || c >= L.cap)
                goto done;
            node = &g->nodes[n];
            g->values[c].dtype = AV__DT_F32;
            g->values[c].ndim = -1;
            L.cl[y] = c;
            L.rank[c] = rank;
            L.produced_cl[y] = 1;
            node->outputs[0] = c;
        } else {
            for (int i = 0; i < node->n_inputs; i++) {
                int v = node->inputs[i];
                if (v < 0 || is_const(g, v))
                    continue;
                int w = get_ncw(&L, v);
                if (w < 0)
                    goto done;
                node = &g->nodes[n];
                node->inputs[i] = w;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (get_ncw(&L, g->outputs[i]) < 0)
            goto done;
    stats->transposes += L.transposes;
    st = AV_STATUS_OK;
done:
    av__free(L.produced_cl);
    av__free(L.ncw_made);
    av__free(L.cl);
    av__free(L.rank);
    return st;
}

av_status av__build_fuse_convs(av__graph *g, const av__tensor *shapes,
                               const unsigned char *usable, av__build_fuse_stats *stats,
                               char *err, size_t err_size)
{
    const int nn = g->n_nodes;
    memset(stats, 0, sizeof *stats);
    unsigned char *dead = av__calloc((size_t)nn + 1, 1);
    int *consumer = av__malloc(((size_t)g->n_values + 1) * sizeof *consumer);
    int *uses = consumer ? count_uses(g, NULL, consumer) : NULL;
    av_status st = AV_STATUS_OK;
    if (!dead || !consumer || !uses) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int n = 0; n < nn; n++) {
        av__node *node = &g->nodes[n];
        if (dead[n] || !av__build_conv_candidate(g, node) || (usable && !usable[n]))
            continue;
        av__dnnl_step steps[AV__DNNL_MAX_POST];
        int adds[AV__DNNL_MAX_POST], n_steps = 0, n_adds = 0;
        int cur = node->outputs[0];
        while (!is_graph_output(g, cur) && uses[cur] == 1) {
            int u = consumer[cur];
            av__dnnl_step s[AV__DNNL_MAX_POST];
            int k = 0, a[AV__DNNL_MAX_POST], ka = 0;
            if (dead[u] || !node_steps(g, &g->nodes[u], cur, shapes, s, &k, a, &ka) ||
                n_steps + k > AV__DNNL_MAX_POST)
                break;
            memcpy(steps + n_steps, s, (size_t)k * sizeof *s);
            memcpy(adds + n_adds, a, (size_t)ka * sizeof *a);
            n_steps += k;
            n_adds += ka;
            dead[u] = 1;
            stats->steps++;
            cur = g->nodes[u].outputs[0];
        }
        if (make_fused(node, steps, n_steps, adds, n_adds, cur) != 0) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        stats->convs++;
    }
    /* sorted first: a fused node may read an addend that a later node wrote, and the layout
     * pass must see every producer before its readers */
    if ((st = compact(g, dead, nn, err, err_size)) != AV_STATUS_OK)
        goto done;
    memset(dead, 0, (size_t)nn + 1);
    if ((st = channels_last(g, dead, g->n_nodes, stats)) != AV_STATUS_OK) {
        av__fail(err, err_size, st, "out of memory");
        goto done;
    }
    st = av__graph_toposort(g, err, err_size);
done:
    av__free(dead);
    av__free(consumer);
    av__free(uses);
    return st;
}

/* ---- keep_precision ------------------------------------------------------------------------ */

static int producer_of(const av__graph *g, int v) { return v >= 0 ? g->values[v].producer : -1; }

av_status av__build_keep_nodes(const av__graph *g, const av__build_keep *keep,
                               unsigned char *kept, const char **why, char *err,
                               size_t err_size)
{
    memset(kept, 0, (size_t)g->n_nodes);
    for (size_t k = 0; keep && k < keep->count; k++) {
        const char *entry = keep->layers[k];
        int found = 0;
        if (!strcmp(entry, "upsamplers")) {
            for (int n = 0; n < g->n_nodes; n++)
                if (is_fused(&g->nodes[n]) && av__attr_int(&g->nodes[n], "transpose", 0)) {
                    kept[n] = 1;
                    if (why)
                        why[n] = "upsamplers";
                    found = 1;
                }
            found = 1; /* a vocoder without upsamplers keeps none: not an error */
        } else if (!strcmp(entry, "first_conv")) {
            for (int n = 0; n < g->n_nodes && !found; n++) {
                if (!is_fused(&g->nodes[n]))
                    continue;
                int v = g->nodes[n].inputs[0], p;
                while ((p = producer_of(g, v)) >= 0 && is_op(&g->nodes[p], "Transpose"))
                    v = g->nodes[p].inputs[0];
                if (v >= 0 && (g->values[v].flags & AV__VALUE_INPUT)) {
                    kept[n] = 1;
                    if (why)
                        why[n] = "first_conv";
                    found = 1;
                }
            }
            found = 1;
        } else if (!strcmp(entry, "last_conv")) {
            for (int i = 0; i < g->n_outputs; i++) {
                int v = g->outputs[i], p;
                while ((p = producer_of(g, v)) >= 0 && !is_fused(&g->nodes[p]) &&
                       (is_op(&g->nodes[p], "Transpose") || layout_free(g, &g->nodes[p]))) {
                    /* through unary maps and ops whose other operands are constants */
                    const av__node *pn = &g->nodes[p];
                    int next = -1, runtime = 0;
                    for (int j = 0; j < pn->n_inputs; j++)
                        if (pn->inputs[j] >= 0 && !is_const(g, pn->inputs[j])) {
                            next = pn->inputs[j];
                            runtime++;
                        }
                    if (runtime != 1)
                        break;
                    v = next;
                }
                if (p >= 0 && is_fused(&g->nodes[p])) {
                    kept[p] = 1;
                    if (why)
                        why[p] = "last_conv";
                }
            }
            found = 1;
        } else {
            for (int n = 0; n < g->n_nodes; n++)
                if (g->nodes[n].name && !strcmp(g->nodes[n].name, entry)) {
                    kept[n] = 1;
                    if (why)
                        why[n] = entry;
                    found = 1;
                }
        }
        if (!found)
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "keep_precision.%s: no node named '%s'", keep->component, entry);
    }
    return AV_STATUS_OK;
}

/* ---- stage C: precision, pre steps, chaining ------------------------------------------------- */

av_status av__build_set_precision(av__graph *g, const av_precision *prec, const float *x_scale,
                                  const int *x_zero, int *chained, int *pre, char *err,
                                  size_t err_size)
{
    const int nn = g->n_nodes;
    int n_chained = 0, n_pre = 0;
    unsigned char *dead = av__calloc((size_t)nn + 1, 1);
    int *consumer = av__malloc(((size_t)g->n_values + 1) * sizeof *consumer);
    int *uses = NULL;
    av_status st = AV_STATUS_OK;
    if (!dead || !consumer)
        goto oom;
    for (int n = 0; n < nn; n++) {
        av__node *node = &g->nodes[n];
        if (!is_fused(node))
            continue;
        if (set_int(node, "precision", prec[n]) != 0)
            goto oom;
        if (prec[n] == AV_PRECISION_INT8) {
            if (!(x_scale[n] > 0) || !isfinite(x_scale[n]))
                return av__fail(err, err_size, AV_STATUS_INTERNAL, "node '%s': no int8 scale",
                                node->name);
            if (set_float(node, "x_scale", x_scale[n]) != 0 ||
                (x_zero[n] >= 0 && set_int(node, "x_zero", x_zero[n]) != 0))
                goto oom;
        }
    }
    /* pre steps: a LeakyRelu / Relu read only as X of reduced-precision convolutions */
    if (!(uses = count_uses(g, NULL, consumer)))
        goto oom;
    for (int n = 0; n < nn; n++) {
        av__node *node = &g->nodes[n];
        int leaky = is_op(node, "LeakyRelu");
        if ((!leaky && !is_op(node, "Relu")) || node->n_inputs != 1 || node->n_outputs != 1)
            continue;
        int x = node->inputs[0], y = node->outputs[0], ok = y >= 0 && !is_graph_output(g, y);
        for (int m = 0; m < nn && ok; m++) {
            const av__node *c = &g->nodes[m];
            for (int i = 0; i < c->n_inputs && ok; i++)
                if (c->inputs[i] == y)
                    ok = is_fused(c) && i == 0 && prec[m] != AV_PRECISION_FP32 &&
                         !av__node_attr(c, "pre");
        }
        if (!ok)
            continue;
        float alpha = leaky ? av__attr_float(node, "alpha", 0.01f) : 0.0f;
        for (int m = 0; m < nn; m++) {
            av__node *c = &g->nodes[m];
            if (c->n_inputs > 0 && c->inputs[0] == y && is_fused(c)) {
                c->inputs[0] = x;
                if (set_string(c, "pre", "leaky_relu") || set_float(c, "pre_alpha", alpha))
                    goto oom;
            }
        }
        dead[n] = 1;
        n_pre++;
    }
    /* chaining: A's only reader is B's X, same reduced precision */
    av__free(uses);
    if (!(uses = count_uses(g, dead, consumer)))
        goto oom;
    for (int n = 0; n < nn; n++) {
        av__node *a = &g->nodes[n];
        if (dead[n] || !is_fused(a) || prec[n] == AV_PRECISION_FP32)
            continue;
        int y = a->outputs[0];
        if (is_graph_output(g, y) || uses[y] != 1)
            continue;
        int m = consumer[y];
        av__node *b = &g->nodes[m];
        if (!is_fused(b) || prec[m] != prec[n] || b->inputs[0] != y || x_zero[m] >= 0)
            continue;
        av__dnnl_step steps[AV__DNNL_MAX_POST + 1];
        int n_steps = av__node_attr(a, "post") ? get_post(a, steps) : 0;
        int b_pre = av__node_attr(b, "pre") != NULL;
        if (b_pre) { /* B's pre step becomes A's last post step */
            if (n_steps == AV__DNNL_MAX_POST)
                continue;
            steps[n_steps].act = AV__DNNL_ACT_RELU;
            steps[n_steps].alpha = av__attr_float(b, "pre_alpha", 0.0f);
            steps[n_steps].beta = 0;
            n_steps++;
        }
        int relu_only = 1;
        for (int i = 0; i < n_steps; i++)
            relu_only &= steps[i].act == AV__DNNL_ACT_RELU;
        if (prec[n] == AV_PRECISION_INT8 && !relu_only)
            continue;
        if (b_pre) {
            if (set_post(a, steps, n_steps) != 0)
                goto oom;
            for (int i = 0; i < b->n_attrs; i++) /* drop B's pre step */
                if (!strcmp(b->attrs[i].name, "pre"))
                    if (set_string(b, "pre", "") != 0)
                        goto oom;
        }
        av__dtype t = prec[n] == AV_PRECISION_INT8 ? AV__DT_I8 : AV__DT_BF16;
        if (set_int(a, "y_type", t) != 0 ||
            (t == AV__DT_I8 && set_float(a, "y_scale", x_scale[m]) != 0))
            goto oom;
        g->values[y].dtype = t;
        n_chained++;
    }
    /* a FusedConv whose pre step was moved keeps an empty "pre": remove it for clarity */
    for (int n = 0; n < nn; n++) {
        av__node *c = &g->nodes[n];
        for (int i = 0; i < c->n_attrs; i++)
            if (is_fused(c) && !strcmp(c->attrs[i].name, "pre") && c->attrs[i].s &&
                !c->attrs[i].s[0]) {
                av__attr_clear(&c->attrs[i]);
                c->attrs[i] = c->attrs[c->n_attrs - 1];
                c->n_attrs--;
                i--;
            }
    }
    st = compact(g, dead, nn, err, err_size);
    if (chained)
        *chained = n_chained;
    if (pre)
        *pre = n_pre;
    goto done;
oom:
    st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
done:
    av__free(dead);
    av__free(consumer);
    av__free(uses);
    return st;
}
