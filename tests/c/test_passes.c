/* The graph rewriting passes (src/graph/passes.h): each test builds a small graph through
 * graph/ir.h, prints its node list before and after the pass, checks the rewrite, and runs the
 * graph as built and as rewritten on random inputs of awkward sizes: outputs must agree within
 * 1e-6 relative (max |a - b| / max |a|), and bit for bit where the pass promises it. The whole
 * load pipeline (av__model_from_graph with its passes) is run on the same graphs too. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autovoice/engine.h"
#include "check.h"
#include "core/internal.h"
#include "engine/engine_internal.h"
#include "graph/passes.h"
#include "ops/elementwise_chain.h"

#define SEED 20261124u

/* ---- building graphs ------------------------------------------------------------------------- */

static char *dup(const char *s)
{
    char *d = av__malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

static void add_io(av__graph *g, const char *name, int output, int ndim, const int64_t *dims)
{
    int v = av__graph_value(g, name);
    av__value *val = &g->values[v];
    val->flags |= output ? AV__VALUE_OUTPUT : AV__VALUE_INPUT;
    val->dtype = AV__DT_F32;
    val->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        val->dims[d].value = dims ? dims[d] : -1;
        if (val->dims[d].value < 0)
            val->dims[d].param = dup(d == ndim - 1 ? "T" : "N");
    }
    int **list = output ? &g->outputs : &g->inputs;
    int *count = output ? &g->n_outputs : &g->n_inputs;
    *list = av__realloc(*list, (size_t)(*count + 1) * sizeof **list);
    (*list)[(*count)++] = v;
}

static void add_const(av__graph *g, const char *name, av__dtype dt, int ndim, const int64_t *shape,
                      const void *data)
{
    int v = av__graph_value(g, name);
    av__value *val = &g->values[v];
    av__tensor *t = &val->constant;
    t->dtype = dt;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    size_t bytes = av__tensor_bytes(t);
    t->data = av__aligned_alloc(bytes);
    memcpy(t->data, data, bytes);
    val->flags |= AV__VALUE_CONST;
    val->dtype = dt;
    val->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        val->dims[d].value = shape[d];
}

static void add_const_f32(av__graph *g, const char *name, int ndim, const int64_t *shape,
                          const float *data)
{
    add_const(g, name, AV__DT_F32, ndim, shape, data);
}

static void add_const_i64(av__graph *g, const char *name, int n, const int64_t *data)
{
    add_const(g, name, AV__DT_I64, 1, (int64_t[]){n}, data);
}

/* Adds node OP(ins...) -> outs...; names separated by spaces, "-" for an omitted input. */
static av__node *add_node(av__graph *g, const char *op, const char *ins, const char *outs)
{
    static int counter;
    char name[64];
    snprintf(name, sizeof name, "%s_%d", op, counter++);
    int n = av__graph_add_node(g, op, "", name);
    av__node *node = &g->nodes[n];
    for (int pass = 0; pass < 2; pass++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", pass ? outs : ins);
        int *list = av__mallocarray(16, sizeof *list), count = 0;
        for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " "))
            list[count++] = strcmp(tok, "-") ? av__graph_value(g, tok) : -1;
        node = &g->nodes[n];
        if (pass) {
            node->outputs = list;
            node->n_outputs = count;
        } else {
            node->inputs = list;
            node->n_inputs = count;
        }
    }
    return node;
}

static av__attr *attr(av__node *n, const char *name, av__attr_type type)
{
    n->attrs = av__realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
    av__attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = dup(name);
    a->type = type;
    return a;
}

static void attr_int(av__node *n, const char *name, int64_t v)
{
    attr(n, name, AV__ATTR_INT)->i = v;
}

static void attr_float(av__node *n, const char *name, float v)
{
    attr(n, name, AV__ATTR_FLOAT)->f = v;
}

static void attr_ints(av__node *n, const char *name, int count, const int64_t *v)
{
    av__attr *a = attr(n, name, AV__ATTR_INTS);
    a->ints = av__mallocarray((size_t)count + 1, sizeof *v);
    memcpy(a->ints, v, (size_t)count * sizeof *v);
    a->count = count;
}

static void attr_string(av__node *n, const char *name, const char *s)
{
    av__attr *a = attr(n, name, AV__ATTR_STRING);
    a->s = dup(s);
    a->s_len = strlen(s);
}

static av__graph *new_graph(void)
{
    av__graph *g = av__graph_create();
    g->opset = 17;
    g->ir_version = 8;
    return g;
}

static void finish(av__graph *g)
{
    char err[256];
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_OK);
}

/* ---- random data ----------------------------------------------------------------------------- */

static uint64_t rng_state;

static float frand(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * (1.0 / (1 << 23)) - 1.0);
}

static void fill(float *p, int64_t n, float scale, float offset)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = frand() * scale + offset;
}

/* ---- inspecting and running ------------------------------------------------------------------ */

/* "Conv Mul ElementwiseChain" */
static const char *ops_of(const av__graph *g, char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = 0;
    for (int n = 0; n < g->n_nodes && k < size; n++)
        k += (size_t)snprintf(buf + k, size - k, "%s%s", n ? " " : "", g->nodes[n].op_type);
    return buf;
}

static void print_graph(const char *title, const av__graph *g)
{
    printf("  %s (%d nodes):\n", title, g->n_nodes);
    for (int n = 0; n < g->n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        printf("    %s%s%s(", node->domain[0] ? node->domain : "", node->domain[0] ? "." : "",
               node->op_type);
        for (int i = 0; i < node->n_inputs; i++)
            printf("%s%s", i ? ", " : "",
                   node->inputs[i] >= 0 ? g->values[node->inputs[i]].name : "-");
        printf(") -> %s", g->values[node->outputs[0]].name);
        const av__attr *ops = av__node_attr(node, "ops");
        if (ops && ops->type == AV__ATTR_STRINGS) {
            printf("  [");
            for (int k = 0; k < ops->count; k++)
                printf("%s%s", k ? " " : "", ops->strings[k]);
            printf("]");
        }
        int np = 0;
        const int64_t *pads = av__attr_ints(node, "pads", &np);
        for (int k = 0; k < np; k++)
            printf("%s%lld%s", k ? "," : "  pads=[", (long long)pads[k], k == np - 1 ? "]" : "");
        printf("\n");
    }
}

/* Runs graph g (taking it over) on input x of the given shape; returns output y's data
 * (malloc'd, *count elements), NULL on failure. optimise: run the load passes. */
static float *run(av__graph *g, int optimise, int ndim, const int64_t *shape, const float *x,
                  int64_t *count, av_model **keep)
{
    char err[512];
    av_model *m = NULL;
    av_session *s = NULL;
    float *y = NULL;
    if (av__model_from_graph(g, NULL, optimise, &m, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "load: %s\n", err);
        return NULL;
    }
    av_session_config cfg = av_session_config_default();
    cfg.threads = 2;
    av_tensor out;
    if (av_session_create(m, &cfg, &s, err, sizeof err) != AV_STATUS_OK ||
        av_session_set_input(s, "x", AV_DTYPE_FLOAT32, ndim, shape, x) != AV_STATUS_OK ||
        av_session_run(s) != AV_STATUS_OK || av_session_get_output(s, "y", &out) != AV_STATUS_OK) {
        fprintf(stderr, "run: %s\n", s ? av_session_last_error(s) : err);
        goto done;
    }
    *count = 1;
    for (int d = 0; d < out.ndim; d++)
        *count *= out.shape[d];
    y = malloc((size_t)*count * sizeof *y + 1);
    memcpy(y, out.data, (size_t)*count * sizeof *y);
done:
    av_session_free(s);
    if (keep)
        *keep = m;
    else
        av_model_free(m);
    return y;
}

/* max |a - b| / max |a| */
static double rel_err(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - (double)b[i]));
        den = fmax(den, fabs((double)a[i]));
    }
    return den > 0 ? num / den : num;
}

typedef av__graph *(*builder)(void);
typedef av_status (*pass_fn)(av__graph *, int *, char *, size_t);

/* The common test: builds the graph three times; applies `pass` to the second copy and checks
 * its rewrites and op list; runs the graph as built (no passes), as rewritten, and through the
 * whole load pipeline on inputs [batch, channels, T] for each T; outputs within 1e-6 relative,
 * and identical bits when `exact`. */
static void check_pass(const char *title, builder build, pass_fn pass, int want_rewrites,
                       const char *want_ops, int channels, int exact, int *pipeline_nodes)
{
    printf("%s\n", title);
    char err[256], ops[512];
    static const int64_t lengths[] = {1, 7, 113, 4099};
    av__graph *g = build();
    print_graph("before", g);
    int rewrites = 0;
    CHECK_INT(pass(g, &rewrites, err, sizeof err), AV_STATUS_OK);
    print_graph("after", g);
    CHECK_INT(rewrites, want_rewrites);
    CHECK_STR(ops_of(g, ops, sizeof ops), want_ops);
    av__graph_free(g);
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        int64_t shape[3] = {k == 3 ? 2 : 1, channels, lengths[k]};
        int64_t n = shape[0] * shape[1] * shape[2], na = 0, nb = 0, nc = 0;
        float *x = malloc((size_t)n * sizeof *x);
        rng_state = SEED + k;
        fill(x, n, 3.0f, 0.0f);
        av__graph *ga = build(), *gb = build(), *gc = build();
        pass(gb, NULL, err, sizeof err);
        av_model *mc = NULL;
        float *a = run(ga, 0, 3, shape, x, &na, NULL);
        float *b = run(gb, 0, 3, shape, x, &nb, NULL);
        float *c = run(gc, 1, 3, shape, x, &nc, &mc);
        CHECK(a && b && c);
        if (a && b && c) {
            CHECK_INT(na, nb);
            CHECK_INT(na, nc);
            double eb = rel_err(a, b, na), ec = rel_err(a, c, na);
            printf("  T=%-5lld %lld outputs: pass %.3g, load pipeline %.3g relative%s\n",
                   (long long)lengths[k], (long long)na, eb, ec,
                   exact && memcmp(a, b, (size_t)na * sizeof *a) == 0 ? " (bit-identical)" : "");
            if (!(eb <= 1e-6) || !(ec <= 1e-6))
                fprintf(stderr, "  seed %u, T=%lld: relative error %g / %g > 1e-6\n",
                        SEED + (unsigned)k, (long long)lengths[k], eb, ec);
            CHECK(eb <= 1e-6);
            CHECK(ec <= 1e-6);
            if (exact)
                CHECK(memcmp(a, b, (size_t)na * sizeof *a) == 0);
        }
        if (mc && pipeline_nodes) {
            av_model_stats st;
            av_model_get_stats(mc, &st);
            *pipeline_nodes = st.nodes;
        }
        av_model_free(mc);
        free(a);
        free(b);
        free(c);
        free(x);
    }
}

/* ---- 1. weight norm -------------------------------------------------------------------------- */

enum { WN_OUT = 6, WN_IN = 5, WN_K = 3 };

static void wn_params(float *v, float *gv, float *bias)
{
    rng_state = SEED * 7;
    fill(v, WN_OUT * WN_IN * WN_K, 1.0f, 0.0f);
    fill(gv, WN_OUT, 0.5f, 1.0f);
    fill(bias, WN_OUT, 0.2f, 0.0f);
}

/* Conv(x, g * v / ReduceL2(v, axes 1,2)): what torch.onnx exports for weight_norm(Conv1d). */
static av__graph *build_wn_reduce_l2(void)
{
    av__graph *g = new_graph();
    float v[WN_OUT * WN_IN * WN_K], gv[WN_OUT], bias[WN_OUT];
    wn_params(v, gv, bias);
    add_io(g, "x", 0, 3, (int64_t[]){-1, WN_IN, -1});
    add_const_f32(g, "v", 3, (int64_t[]){WN_OUT, WN_IN, WN_K}, v);
    add_const_f32(g, "g", 3, (int64_t[]){WN_OUT, 1, 1}, gv);
    add_const_f32(g, "b", 1, (int64_t[]){WN_OUT}, bias);
    attr_ints(add_node(g, "ReduceL2", "v", "n"), "axes", 2, (int64_t[]){1, 2});
    add_node(g, "Div", "v n", "v_unit");
    add_node(g, "Mul", "g v_unit", "w");
    attr_ints(add_node(g, "Conv", "x w b", "y"), "pads", 2, (int64_t[]){1, 1});
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

/* ConvTranspose(x, v * (g / Sqrt(ReduceSum(Pow(v, 2), axes input [1, 2])))), weight [in, out, k]
 * normalised per input channel (weight_norm's dim=0), group 1. */
static av__graph *build_wn_pow_transpose(void)
{
    av__graph *g = new_graph();
    float v[WN_OUT * WN_IN * WN_K], gv[WN_OUT], bias[WN_OUT];
    wn_params(v, gv, bias);
    add_io(g, "x", 0, 3, (int64_t[]){-1, WN_OUT, -1});
    add_const_f32(g, "v", 3, (int64_t[]){WN_OUT, WN_IN, WN_K}, v);
    add_const_f32(g, "g", 3, (int64_t[]){WN_OUT, 1, 1}, gv);
    add_const_f32(g, "two", 0, NULL, (float[]){2.0f});
    add_const_i64(g, "axes", 2, (int64_t[]){1, 2});
    add_node(g, "Pow", "v two", "v2");
    add_node(g, "ReduceSum", "v2 axes", "s");
    add_node(g, "Sqrt", "s", "n");
    add_node(g, "Div", "g n", "g_over_n");
    add_node(g, "Mul", "v g_over_n", "w");
    av__node *ct = add_node(g, "ConvTranspose", "x w", "y");
    attr_ints(ct, "strides", 1, (int64_t[]){2});
    attr_ints(ct, "pads", 2, (int64_t[]){1, 0});
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

/* The same with Mul(v, v) and ReduceSum over every axis but 0 given as an attribute (opset 11),
 * the weight read by two convolutions. */
static av__graph *build_wn_mul_opset11(void)
{
    av__graph *g = new_graph();
    g->opset = 11;
    float v[WN_OUT * WN_IN * WN_K], gv[WN_OUT], bias[WN_OUT];
    wn_params(v, gv, bias);
    add_io(g, "x", 0, 3, (int64_t[]){-1, WN_IN, -1});
    add_const_f32(g, "v", 3, (int64_t[]){WN_OUT, WN_IN, WN_K}, v);
    add_const_f32(g, "g", 3, (int64_t[]){WN_OUT, 1, 1}, gv);
    add_node(g, "Mul", "v v", "v2");
    attr_ints(add_node(g, "ReduceSum", "v2", "s"), "axes", 2, (int64_t[]){-2, -1});
    add_node(g, "Sqrt", "s", "n");
    add_node(g, "Div", "v n", "v_unit");
    add_node(g, "Mul", "v_unit g", "w");
    attr_ints(add_node(g, "Conv", "x w", "y1"), "pads", 2, (int64_t[]){1, 1});
    av__node *c2 = add_node(g, "Conv", "x w", "y2");
    attr_ints(c2, "dilations", 1, (int64_t[]){2});
    attr_ints(c2, "pads", 2, (int64_t[]){2, 2});
    add_node(g, "Add", "y1 y2", "y");
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

static void test_weight_norm(void)
{
    int nodes = -1;
    /* Constant folding does the common case when the model loads: check_pass's load-pipeline
     * run leaves only the Conv. The pass on its own (no folding first) does it too. */
    check_pass("weight norm, ReduceL2 form (pass alone; the load pipeline folds it as constants)",
               build_wn_reduce_l2, av__pass_fold_weight_norm, 1, "Conv", WN_IN, 0, &nodes);
    CHECK_INT(nodes, 1);
    {
        av__graph *g = build_wn_reduce_l2();
        av_model *m = NULL;
        char err[256];
        CHECK_INT(av__model_from_graph(g, NULL, 1, &m, err, sizeof err), AV_STATUS_OK);
        if (m) {
            av_model_pass_info p, q;
            CHECK_INT(av_model_pass(m, 0, &p), AV_STATUS_OK);
            CHECK_INT(av_model_pass(m, 2, &q), AV_STATUS_OK);
            printf("  load pipeline: %s removed %d nodes; %s then had %d to do\n", p.name,
                   p.nodes_removed, q.name, q.rewrites);
            CHECK_INT(p.nodes_removed, 3);
            CHECK_INT(q.rewrites, 0);
            CHECK_INT(m->g->n_nodes, 1);
            CHECK_STR(m->g->nodes[0].op_type, "Conv");
            /* the folded weight is g * v / ||v|| per output channel */
            float v[WN_OUT * WN_IN * WN_K], gv[WN_OUT], bias[WN_OUT];
            wn_params(v, gv, bias);
            const av__tensor *w = &m->g->values[m->g->nodes[0].inputs[1]].constant;
            double worst = 0;
            for (int o = 0; o < WN_OUT; o++) {
                double ss = 0;
                for (int i = 0; i < WN_IN * WN_K; i++)
                    ss += (double)v[o * WN_IN * WN_K + i] * v[o * WN_IN * WN_K + i];
                for (int i = 0; i < WN_IN * WN_K; i++) {
                    double want = gv[o] * v[o * WN_IN * WN_K + i] / sqrt(ss);
                    float got = ((const float *)w->data)[o * WN_IN * WN_K + i];
                    worst = fmax(worst, fabs(got - want) / fabs(want));
                }
            }
            printf("  folded weight against g * v / ||v||: %.3g relative\n", worst);
            CHECK(worst <= 1e-6);
        }
        av_model_free(m);
    }
    check_pass("weight norm, v * (g / sqrt(ReduceSum(Pow(v, 2)))), ConvTranspose, axes input",
               build_wn_pow_transpose, av__pass_fold_weight_norm, 1, "ConvTranspose", WN_OUT, 0,
               &nodes);
    CHECK_INT(nodes, 1);
    check_pass("weight norm, Mul(v, v), ReduceSum axes attribute (opset 11), weight read twice",
               build_wn_mul_opset11, av__pass_fold_weight_norm, 1, "Conv Conv Add",
               WN_IN, 0, NULL);
}

/* ---- 2. BatchNormalization ------------------------------------------------------------------- */

enum { BN_IN = 4, BN_OUT = 6, BN_K = 3 };

static void add_bn_params(av__graph *g, int channels)
{
    float scale[16], beta[16], mean[16], var[16];
    rng_state = SEED * 11;
    fill(scale, channels, 0.5f, 1.0f);
    fill(beta, channels, 0.3f, 0.0f);
    fill(mean, channels, 0.3f, 0.0f);
    fill(var, channels, 0.4f, 0.6f);
    add_const_f32(g, "scale", 1, (int64_t[]){channels}, scale);
    add_const_f32(g, "beta", 1, (int64_t[]){channels}, beta);
    add_const_f32(g, "mean", 1, (int64_t[]){channels}, mean);
    add_const_f32(g, "var", 1, (int64_t[]){channels}, var);
}

/* Conv (with bias) -> BatchNormalization (epsilon 1e-3). */
static av__graph *build_bn_conv(void)
{
    av__graph *g = new_graph();
    float w[BN_OUT * BN_IN * BN_K], b[BN_OUT];
    rng_state = SEED * 13;
    fill(w, BN_OUT * BN_IN * BN_K, 0.5f, 0.0f);
    fill(b, BN_OUT, 0.2f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, BN_IN, -1});
    add_const_f32(g, "w", 3, (int64_t[]){BN_OUT, BN_IN, BN_K}, w);
    add_const_f32(g, "b", 1, (int64_t[]){BN_OUT}, b);
    add_bn_params(g, BN_OUT);
    attr_ints(add_node(g, "Conv", "x w b", "c"), "pads", 2, (int64_t[]){2, 0});
    attr_float(add_node(g, "BatchNormalization", "c scale beta mean var", "y"), "epsilon", 1e-3f);
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

/* ConvTranspose (groups 2, no bias, weight [in 4, out/group 3, k 3]) -> BatchNormalization. */
static av__graph *build_bn_convtranspose(void)
{
    av__graph *g = new_graph();
    float w[BN_IN * (BN_OUT / 2) * BN_K];
    rng_state = SEED * 17;
    fill(w, BN_IN * (BN_OUT / 2) * BN_K, 0.5f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, BN_IN, -1});
    add_const_f32(g, "w", 3, (int64_t[]){BN_IN, BN_OUT / 2, BN_K}, w);
    add_bn_params(g, BN_OUT);
    av__node *ct = add_node(g, "ConvTranspose", "x w", "c");
    attr_int(ct, "group", 2);
    attr_ints(ct, "strides", 1, (int64_t[]){3});
    add_node(g, "BatchNormalization", "c scale beta mean var", "y");
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

static av__graph *build_bn_shared_fixed(void)
{
    /* Conv -> BatchNormalization, the Conv's output also added to the result: BN stays */
    av__graph *g = new_graph();
    float w[BN_OUT * BN_IN * BN_K];
    rng_state = SEED * 13;
    fill(w, BN_OUT * BN_IN * BN_K, 0.5f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, BN_IN, -1});
    add_const_f32(g, "w", 3, (int64_t[]){BN_OUT, BN_IN, BN_K}, w);
    add_bn_params(g, BN_OUT);
    attr_ints(add_node(g, "Conv", "x w", "c"), "pads", 2, (int64_t[]){1, 1});
    add_node(g, "BatchNormalization", "c scale beta mean var", "bn");
    add_node(g, "Add", "bn c", "y");
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

static void test_batchnorm(void)
{
    check_pass("BatchNormalization after Conv with bias", build_bn_conv, av__pass_fold_batchnorm,
               1, "Conv", BN_IN, 0, NULL);
    check_pass("BatchNormalization after a grouped ConvTranspose without bias",
               build_bn_convtranspose, av__pass_fold_batchnorm, 1, "ConvTranspose", BN_IN, 0,
               NULL);
    check_pass("BatchNormalization whose Conv output is read twice: stays",
               build_bn_shared_fixed, av__pass_fold_batchnorm, 0, "Conv BatchNormalization Add",
               BN_IN, 1, NULL);
}

/* ---- 3. Pad ---------------------------------------------------------------------------------- */

enum { PD_IN = 3, PD_OUT = 4, PD_K = 5 };

/* Pad(x, mode, pads [0, 0, 2, 0, 0, 3] as input (opset 17), value `value`) -> Conv(pads 1,1). */
static av__graph *build_pad(const char *mode, float value, const int64_t *pads)
{
    av__graph *g = new_graph();
    float w[PD_OUT * PD_IN * PD_K];
    rng_state = SEED * 19;
    fill(w, PD_OUT * PD_IN * PD_K, 0.5f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, PD_IN, -1});
    add_const_f32(g, "w", 3, (int64_t[]){PD_OUT, PD_IN, PD_K}, w);
    add_const_i64(g, "pads", 6, pads);
    add_const_f32(g, "value", 0, NULL, &value);
    attr_string(add_node(g, "Pad", "x pads value", "xp"), "mode", mode);
    attr_ints(add_node(g, "Conv", "xp w", "y"), "pads", 2, (int64_t[]){1, 1});
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

static const int64_t pads_spatial[6] = {0, 0, 2, 0, 0, 3};
static const int64_t pads_batch[6] = {1, 0, 2, 0, 0, 3};
static av__graph *build_pad_zero(void) { return build_pad("constant", 0.0f, pads_spatial); }
static av__graph *build_pad_reflect(void) { return build_pad("reflect", 0.0f, pads_spatial); }
static av__graph *build_pad_one(void) { return build_pad("constant", 1.0f, pads_spatial); }
static av__graph *build_pad_batch(void) { return build_pad("constant", 0.0f, pads_batch); }

/* opset 10: pads and value as attributes, on a 2-D convolution's input [N, C, 5, T] */
static av__graph *build_pad_opset10(void)
{
    av__graph *g = new_graph();
    g->opset = 10;
    float w[PD_OUT * PD_IN * 3 * 3];
    rng_state = SEED * 23;
    fill(w, PD_OUT * PD_IN * 9, 0.5f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, PD_IN, -1});
    add_const_f32(g, "w", 4, (int64_t[]){PD_OUT, PD_IN, 3, 3}, w);
    av__node *u = add_node(g, "Unsqueeze", "x", "x4");
    attr_ints(u, "axes", 1, (int64_t[]){2});
    av__node *p = add_node(g, "Pad", "x4", "xp");
    attr_ints(p, "pads", 8, (int64_t[]){0, 0, 1, 2, 0, 0, 1, 1});
    attr_float(p, "value", 0.0f);
    add_node(g, "Conv", "xp w", "c");
    attr_ints(add_node(g, "ReduceSum", "c", "y"), "axes", 1, (int64_t[]){2});
    add_io(g, "y", 1, 4, NULL);
    finish(g);
    return g;
}

static void test_pad(void)
{
    check_pass("zero Pad on spatial axes before Conv: folded into its pads", build_pad_zero,
               av__pass_fold_pad, 1, "Conv", PD_IN, 0, NULL);
    check_pass("zero Pad (opset 10 attributes) before a 2-D Conv", build_pad_opset10,
               av__pass_fold_pad, 1, "Unsqueeze Conv ReduceSum", PD_IN, 0, NULL);
    check_pass("reflect Pad: stays", build_pad_reflect, av__pass_fold_pad, 0, "Pad Conv", PD_IN,
               1, NULL);
    check_pass("Pad with value 1: stays", build_pad_one, av__pass_fold_pad, 0, "Pad Conv", PD_IN, 1,
               NULL);
    check_pass("Pad on the batch axis: stays", build_pad_batch, av__pass_fold_pad, 0,
               "Pad Conv", PD_IN, 1, NULL);
}

/* ---- 4. pointwise chains --------------------------------------------------------------------- */

enum { CH_C = 5 };

/* Conv -> GELU as torch exports it (Div by sqrt 2, Erf, Add 1, Mul by the Conv output, Mul 0.5)
 * -> Add of a per-channel constant [C, 1] -> LeakyRelu -> Sub from 1 (swapped) -> Clip(-2, 2);
 * then Mul by a non-constant (x * sigmoid(x)) that ends the chain. */
static av__graph *build_chain(void)
{
    av__graph *g = new_graph();
    float w[CH_C * CH_C], bias_c[CH_C];
    rng_state = SEED * 29;
    fill(w, CH_C * CH_C, 0.6f, 0.0f);
    fill(bias_c, CH_C, 1.0f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, CH_C, -1});
    add_const_f32(g, "w", 3, (int64_t[]){CH_C, CH_C, 1}, w);
    add_const_f32(g, "sqrt2", 0, NULL, (float[]){1.41421354f});
    add_const_f32(g, "one", 0, NULL, (float[]){1.0f});
    add_const_f32(g, "half", 0, NULL, (float[]){0.5f});
    add_const_f32(g, "bias_c", 2, (int64_t[]){CH_C, 1}, bias_c);
    add_const_f32(g, "lo", 0, NULL, (float[]){-2.0f});
    add_const_f32(g, "hi", 0, NULL, (float[]){2.0f});
    add_node(g, "Conv", "x w", "c");
    add_node(g, "Div", "c sqrt2", "d");
    add_node(g, "Erf", "d", "e");
    add_node(g, "Add", "e one", "e1");
    add_node(g, "Mul", "c e1", "m");
    add_node(g, "Mul", "m half", "gelu");
    add_node(g, "Add", "gelu bias_c", "biased");
    attr_float(add_node(g, "LeakyRelu", "biased", "lr"), "alpha", 0.1f);
    add_node(g, "Sub", "one lr", "s");
    add_node(g, "Clip", "s lo hi", "cl");
    add_node(g, "Sigmoid", "x", "sx");     /* a chain of one: not fused */
    add_node(g, "Mul", "cl sx", "y");      /* two non-constant inputs: not a step */
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

/* Chains on a graph input with a declared channel count: Mul by a per-channel [1, C, 1]
 * constant, Exp; Exp's output is read twice, so the first chain ends there, and Neg -> Tanh ->
 * Add of Exp's output (the second chain's own input) is the second. */
static av__graph *build_chain_input(void)
{
    av__graph *g = new_graph();
    float sc[CH_C];
    rng_state = SEED * 31;
    fill(sc, CH_C, 0.5f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, CH_C, -1});
    add_const_f32(g, "sc", 3, (int64_t[]){1, CH_C, 1}, sc);
    add_node(g, "Mul", "sc x", "m");
    add_node(g, "Exp", "m", "e");
    add_node(g, "Neg", "e", "n");
    add_node(g, "Tanh", "n", "t");
    add_node(g, "Add", "t e", "y");
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

/* Per-channel constant where the graph does not show X's channels (X is a MatMul output): the
 * Add must stay outside the chain (it could broadcast X up); Relu -> Sqrt fuse. */
static av__graph *build_chain_unknown(void)
{
    av__graph *g = new_graph();
    float m[CH_C * CH_C], bc[CH_C];
    rng_state = SEED * 37;
    fill(m, CH_C * CH_C, 0.5f, 0.0f);
    fill(bc, CH_C, 0.5f, 0.0f);
    add_io(g, "x", 0, 3, (int64_t[]){-1, CH_C, -1});
    add_const_f32(g, "mm", 2, (int64_t[]){CH_C, CH_C}, m);
    add_const_f32(g, "bc", 2, (int64_t[]){CH_C, 1}, bc);
    add_node(g, "MatMul", "mm x", "p");
    add_node(g, "Add", "p bc", "a");
    add_node(g, "Relu", "a", "r");
    add_node(g, "Sqrt", "r", "y");
    add_io(g, "y", 1, 3, NULL);
    finish(g);
    return g;
}

/* The chain of build_chain on a graph input [N, C, T] (channels declared), ending at y. */
static av__graph *build_chain_alone(void)
{
    av__graph *g = build_chain();
    /* the chain reads x instead of the Conv's output, and its end is the output */
    for (int n = 0; n < g->n_nodes; n++) {
        av__node *node = &g->nodes[n];
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] == av__graph_find_value(g, "c"))
                node->inputs[i] = av__graph_find_value(g, "x");
        if (!strcmp(node->op_type, "Conv") || !strcmp(node->op_type, "Sigmoid") ||
            (!strcmp(node->op_type, "Mul") && node->outputs[0] == av__graph_find_value(g, "y")))
            node->op_type[0] = '\0';
        if (!strcmp(node->op_type, "Clip"))
            node->outputs[0] = av__graph_find_value(g, "y");
    }
    char err[256];
    av__graph_remove_dead(g, err, sizeof err);
    finish(g);
    return g;
}

/* The chain computed step by step in float32 with libm. */
static void chain_reference(const float *x, int64_t n, int64_t t, const float *bias_c, float *out)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float gl = v * (erff(v / 1.41421354f) + 1.0f) * 0.5f;
        float b = gl + bias_c[(i / t) % CH_C];
        float lr = b < 0 ? b * 0.1f : b;
        float s = 1.0f - lr;
        out[i] = s < -2.0f ? -2.0f : s > 2.0f ? 2.0f : s;
    }
}

static void test_chain_reference(void)
{
    char err[256];
    av__graph *g = build_chain_alone();
    CHECK_INT(av__pass_fuse_pointwise(g, NULL, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(g->n_nodes, 1);
    float bias_c[CH_C], w[CH_C * CH_C];
    rng_state = SEED * 29;
    fill(w, CH_C * CH_C, 0.6f, 0.0f);
    fill(bias_c, CH_C, 1.0f, 0.0f);
    int64_t shape[3] = {3, CH_C, 1031}, n = 3 * CH_C * 1031, count = 0;
    float *in = malloc((size_t)n * sizeof *in), *want = malloc((size_t)n * sizeof *want);
    rng_state = SEED + 99;
    fill(in, n, 4.0f, 0.0f);
    chain_reference(in, n, shape[2], bias_c, want);
    float *got = run(g, 0, 3, shape, in, &count, NULL);
    CHECK(got != NULL && count == n);
    if (got) {
        double e = rel_err(want, got, n);
        printf("  the fused node against a scalar reference (libm erff), [3, 5, 1031]: %.3g "
               "relative\n", e);
        CHECK(e <= 1e-6);
    }
    free(got);
    free(in);
    free(want);
}

static void test_chains(void)
{
    check_pass("pointwise chain after Conv: GELU, per-channel Add, LeakyRelu, 1 - x, Clip",
               build_chain, av__pass_fuse_pointwise, 1, "Conv ElementwiseChain Sigmoid Mul", CH_C,
               1, NULL);
    check_pass("the same chain on a graph input with declared channels", build_chain_alone,
               av__pass_fuse_pointwise, 1, "ElementwiseChain", CH_C, 1, NULL);
    test_chain_reference();
    check_pass("two chains: an intermediate read twice ends the first", build_chain_input,
               av__pass_fuse_pointwise, 2, "ElementwiseChain ElementwiseChain", CH_C, 1, NULL);
    check_pass("per-channel constant on a value of unknown shape: not fused", build_chain_unknown,
               av__pass_fuse_pointwise, 1, "MatMul Add ElementwiseChain", CH_C, 1, NULL);
}

int main(void)
{
    test_weight_norm();
    test_batchnorm();
    test_pad();
    test_chains();
    if (check_failures)
        fprintf(stderr, "test_passes: %d check(s) failed (seed %u)\n", check_failures, SEED);
    else
        printf("test_passes: all checks passed\n");
    return check_failures > 100 ? 100 : check_failures;
}
