/* ElementwiseChain: a run of elementwise steps applied block by block, so the intermediate
 * values stay in a small buffer in L1 instead of travelling through memory once per step.
 * Node layout and semantics: elementwise_chain.h.
 *
 * Each block of up to CHAIN_BLOCK elements lies within one channel, so a per-channel operand is
 * a single element for the whole block and goes to the binary kernel with stride 0, exactly as
 * the broadcasting walk of the unfused node passes it. The first step reads X and the last
 * writes Y directly; the steps between work in place in the block buffer (every elementwise
 * kernel allows its output to be one of its operands). Y may be X's own buffer (in place):
 * block k of Y is written only after every step of block k has read X there. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/elementwise_chain.h"
#include "ops/elementwise_internal.h"
#include "ops/families.h"

#define CHAIN_GRAIN 16384
#define CHAIN_BLOCK 512

/* The ops a step may be, with their kernel enums. */
typedef struct chain_kind {
    const char *name;
    int binary;
    int op;          /* av__ew_unop or av__ew_binop */
} chain_kind;

static const chain_kind chain_kinds[] = {
    {"Neg", 0, AV__EW_NEG}, {"Abs", 0, AV__EW_ABS}, {"Sign", 0, AV__EW_SIGN},
    {"Reciprocal", 0, AV__EW_RECIPROCAL}, {"Sqrt", 0, AV__EW_SQRT}, {"Exp", 0, AV__EW_EXP},
    {"Log", 0, AV__EW_LOG}, {"Sin", 0, AV__EW_SIN}, {"Cos", 0, AV__EW_COS},
    {"Tan", 0, AV__EW_TAN}, {"Asin", 0, AV__EW_ASIN}, {"Acos", 0, AV__EW_ACOS},
    {"Atan", 0, AV__EW_ATAN}, {"Sinh", 0, AV__EW_SINH}, {"Cosh", 0, AV__EW_COSH},
    {"Asinh", 0, AV__EW_ASINH}, {"Acosh", 0, AV__EW_ACOSH}, {"Atanh", 0, AV__EW_ATANH},
    {"Tanh", 0, AV__EW_TANH}, {"Sigmoid", 0, AV__EW_SIGMOID},
    {"HardSigmoid", 0, AV__EW_HARD_SIGMOID}, {"HardSwish", 0, AV__EW_HARD_SWISH},
    {"Relu", 0, AV__EW_RELU}, {"LeakyRelu", 0, AV__EW_LEAKY_RELU}, {"Elu", 0, AV__EW_ELU},
    {"Selu", 0, AV__EW_SELU}, {"Celu", 0, AV__EW_CELU}, {"Softplus", 0, AV__EW_SOFTPLUS},
    {"Softsign", 0, AV__EW_SOFTSIGN}, {"Mish", 0, AV__EW_MISH}, {"Erf", 0, AV__EW_ERF},
    {"Gelu", 0, AV__EW_GELU}, {"Floor", 0, AV__EW_FLOOR}, {"Ceil", 0, AV__EW_CEIL},
    {"Round", 0, AV__EW_ROUND}, {"ThresholdedRelu", 0, AV__EW_THRESHOLDED_RELU},
    {"Shrink", 0, AV__EW_SHRINK}, {"Clip", 0, AV__EW_CLIP},
    {"Add", 1, AV__EW_ADD}, {"Sub", 1, AV__EW_SUB}, {"Mul", 1, AV__EW_MUL},
    {"Div", 1, AV__EW_DIV}, {"Max", 1, AV__EW_MAX}, {"Min", 1, AV__EW_MIN},
    {"PRelu", 1, AV__EW_PRELU},
};

static const chain_kind *chain_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof chain_kinds / sizeof chain_kinds[0]; i++)
        if (!strcmp(chain_kinds[i].name, name))
            return &chain_kinds[i];
    return NULL;
}

int av__ew_chain_step_of(const av__node *node, int64_t opset, int x, av__ew_chain_step *step)
{
    if ((node->domain[0] && strcmp(node->domain, "ai.onnx") != 0) || !node->op_type[0])
        return 0;
    const chain_kind *k = chain_kind_find(node->op_type);
    /* before opset 7 binary ops broadcast by attributes and some unary ops had others: left
     * alone; Max/Min broadcast from opset 8, Clip takes its bounds as inputs from 11 */
    if (!k || opset < 7 || node->n_outputs != 1 || node->outputs[0] < 0 || node->n_inputs < 1)
        return 0;
    memset(step, 0, sizeof *step);
    step->op = k->name;
    step->binary = k->binary;
    step->a = step->b = -1;
    if (k->binary) {
        if (node->n_inputs != 2 || node->inputs[0] < 0 || node->inputs[1] < 0)
            return 0;
        if ((k->op == AV__EW_MAX || k->op == AV__EW_MIN) && opset < 8)
            return 0;
        if (node->inputs[0] == x) {
            step->a = node->inputs[1];
        } else if (node->inputs[1] == x && k->op != AV__EW_PRELU) {
            step->a = node->inputs[0];
            step->swap = 1;
        } else {
            return 0;
        }
        return 1;
    }
    if (node->inputs[0] != x)
        return 0;
    if (k->op == AV__EW_CLIP) {
        if (opset < 11 || node->n_inputs > 3)
            return 0;
        step->a = node->n_inputs > 1 ? node->inputs[1] : -1;
        step->b = node->n_inputs > 2 ? node->inputs[2] : -1;
        return step->a != x && step->b != x;
    }
    if (node->n_inputs != 1)
        return 0;
    av__ew_params p;
    av__ew_unary_params(node, (av__ew_unop)k->op, &p);
    step->params[0] = p.alpha;
    step->params[1] = p.beta;
    step->params[2] = p.gamma;
    step->params[3] = p.lambd;
    step->params[4] = p.bias;
    if (k->op == AV__EW_GELU) {
        const char *a = av__attr_string(node, "approximate", "none");
        if (!strcmp(a, "tanh"))
            step->params[5] = 1.0f;
        else if (strcmp(a, "none") != 0)
            return 0; /* the unfused node reports it */
    }
    return 1;
}

/* ---- the operator ---------------------------------------------------------------------------- */

typedef struct chain_step {
    av__ew_unary_fn unary;     /* unary steps and Clip */
    av__ew_binary_fn binary;
    int a;                     /* binary: operand input (0: X) */
    int swap;
    av__ew_params p;
} chain_step;

typedef struct chain_prog {
    int n;
    chain_step s[AV__EW_CHAIN_MAX_STEPS];
    int axis;                  /* the per-channel operands' axis of X, -1 when there are none */
    unsigned char per_channel[AV__EW_CHAIN_MAX_STEPS * 2 + 1]; /* by input index */
} chain_prog;

static av_status chain_fail(const av__op_ctx *ctx, const char *what)
{
    return av__op_fail(ctx, AV_STATUS_FORMAT, "ElementwiseChain: %s", what);
}

/* A Clip bound from its operand, as Clip's own run() reads it (elementwise.c). */
static void chain_bound(av__ew_bound *b, const av__tensor *t, int hi)
{
    if (!t) {
        b->d = hi ? INFINITY : -INFINITY;
        b->i = hi ? INT64_MAX : INT64_MIN;
        b->u = hi ? UINT64_MAX : 0;
    } else {
        b->d = av__ew_load_f64(t->data, t->dtype, 0);
        b->i = av__ew_load_i64(t->data, t->dtype, 0);
        b->u = (uint64_t)b->i;
    }
    b->f = (float)b->d;
}

/* Checks the node against X and its operands and builds the program. Operand data is read
 * (Clip bounds) only when `with_data`. */
static av_status chain_decode(const av__op_ctx *ctx, int with_data, chain_prog *pr)
{
    if (ctx->n_in < 1 || !ctx->in[0] || ctx->n_out != 1)
        return chain_fail(ctx, "expects X and one output");
    if (ctx->n_in > AV__EW_CHAIN_MAX_STEPS * 2 + 1)
        return chain_fail(ctx, "too many inputs");
    const av__tensor *x = ctx->in[0];
    av__dtype dt = x->dtype;
    if (av__dtype_size(dt) == 0 || dt == AV__DT_STRING || x->ndim < 0 || x->ndim > AV__MAX_DIMS)
        return chain_fail(ctx, "X has an unsupported dtype or rank");
    pr->axis = -1;
    for (int i = 1; i < ctx->n_in; i++) {
        const av__tensor *t = ctx->in[i];
        if (!t || t->dtype != dt || t->ndim < 0 || t->ndim > x->ndim)
            return chain_fail(ctx, "an operand is missing, of another dtype or of higher rank");
        int axis = -1;
        for (int d = 0; d < t->ndim; d++) {
            int xd = x->ndim - t->ndim + d;
            if (t->shape[d] == 1)
                continue;
            if (t->shape[d] != x->shape[xd] || axis >= 0)
                return chain_fail(ctx, "an operand is neither a scalar nor per channel of X");
            axis = xd;
        }
        if (axis >= 0 && pr->axis >= 0 && axis != pr->axis)
            return chain_fail(ctx, "per-channel operands on different axes");
        if (axis >= 0)
            pr->axis = axis;
        pr->per_channel[i] = axis >= 0;
    }
    int n_ops, n_operands, n_swap, n_params;
    const av__attr *ops = av__node_attr(ctx->node, "ops");
    const int64_t *operands = av__attr_ints(ctx->node, "operands", &n_operands);
    const int64_t *swap = av__attr_ints(ctx->node, "swap", &n_swap);
    const float *params = av__attr_floats(ctx->node, "params", &n_params);
    n_ops = ops && ops->type == AV__ATTR_STRINGS ? ops->count : 0;
    if (n_ops < 1 || n_ops > AV__EW_CHAIN_MAX_STEPS || n_operands != 2 * n_ops ||
        n_swap != n_ops || n_params != AV__EW_CHAIN_PARAMS * n_ops)
        return chain_fail(ctx, "attributes ops, operands, swap and params do not agree");
    pr->n = n_ops;
    for (int k = 0; k < n_ops; k++) {
        chain_step *s = &pr->s[k];
        const chain_kind *kind = chain_kind_find(ops->strings[k]);
        int64_t a = operands[2 * k], b = operands[2 * k + 1];
        const float *pk = params + AV__EW_CHAIN_PARAMS * k;
        memset(s, 0, sizeof *s);
        if (!kind)
            return chain_fail(ctx, "unknown step");
        if (swap[k] != 0 && (swap[k] != 1 || !kind->binary || kind->op == AV__EW_PRELU))
            return chain_fail(ctx, "bad swap");
        s->swap = (int)swap[k];
        if (kind->binary) {
            if (a < 0 || a >= ctx->n_in || b != -1)
                return chain_fail(ctx, "bad operand of a binary step");
            s->a = (int)a;
            s->binary = av__ew_binary_kernel((av__ew_binop)kind->op, dt);
            if (!s->binary)
                return av__op_fail(ctx, AV_STATUS_FORMAT, "ElementwiseChain: %s on %s",
                                   kind->name, av__dtype_name(dt));
            continue;
        }
        av__ew_unop op = (av__ew_unop)kind->op;
        if (op == AV__EW_CLIP) {
            if (a == 0 || b == 0 || a < -1 || b < -1 || a >= ctx->n_in || b >= ctx->n_in ||
                (a > 0 && av__tensor_count(ctx->in[a]) != 1) ||
                (b > 0 && av__tensor_count(ctx->in[b]) != 1))
                return chain_fail(ctx, "bad Clip bounds");
            if (with_data) {
                chain_bound(&s->p.lo, a > 0 ? ctx->in[a] : NULL, 0);
                chain_bound(&s->p.hi, b > 0 ? ctx->in[b] : NULL, 1);
            }
        } else if (a != -1 || b != -1) {
            return chain_fail(ctx, "operands on a unary step");
        }
        if (op == AV__EW_GELU && pk[5] != 0.0f)
            op = AV__EW_GELU_TANH;
        s->p.alpha = pk[0];
        s->p.beta = pk[1];
        s->p.gamma = pk[2];
        s->p.lambd = pk[3];
        s->p.bias = pk[4];
        s->a = -1;
        s->unary = av__ew_unary_kernel(op, dt);
        if (!s->unary)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "ElementwiseChain: %s on %s", kind->name,
                               av__dtype_name(dt));
    }
    return AV_STATUS_OK;
}

static av_status chain_infer(const av__op_ctx *ctx)
{
    chain_prog pr;
    av_status st = chain_decode(ctx, 0, &pr);
    if (st != AV_STATUS_OK)
        return st;
    if (ctx->out[0]) {
        ctx->out[0]->dtype = ctx->in[0]->dtype;
        av__tensor_set_shape(ctx->out[0], ctx->in[0]->ndim, ctx->in[0]->shape);
    }
    return AV_STATUS_OK;
}

typedef struct chain_job {
    const chain_prog *pr;
    const char *x;
    char *y;
    size_t esz;
    int64_t inner, channels;   /* X as [outer][channels][inner] around the operands' axis */
    const char *operand[AV__EW_CHAIN_MAX_STEPS * 2 + 1];
} chain_job;

static void chain_worker(void *arg, int64_t begin, int64_t end)
{
    const chain_job *j = arg;
    const chain_prog *pr = j->pr;
    _Alignas(64) unsigned char buf[CHAIN_BLOCK * 8];
    const int64_t esz = (int64_t)j->esz;
    for (int64_t pos = begin; pos < end;) {
        int64_t row = pos / j->inner, c = row % j->channels;
        int64_t n = (row + 1) * j->inner - pos;
        if (n > end - pos)
            n = end - pos;
        if (n > CHAIN_BLOCK)
            n = CHAIN_BLOCK;
        const char *xb = j->x + pos * esz;
        for (int k = 0; k < pr->n; k++) {
            const chain_step *s = &pr->s[k];
            const void *src = k == 0 ? (const void *)xb : buf;
            void *dst = k == pr->n - 1 ? (void *)(j->y + pos * esz) : buf;
            if (s->unary) {
                s->unary(dst, src, n, &s->p);
                continue;
            }
            const void *opnd = s->a == 0 ? (const void *)xb
                             : j->operand[s->a] + (pr->per_channel[s->a] ? c * esz : 0);
            int64_t so = s->a == 0 ? 1 : 0;
            if (s->swap)
                s->binary(dst, opnd, so, src, 1, n, &s->p);
            else
                s->binary(dst, src, 1, opnd, so, n, &s->p);
        }
        pos += n;
    }
}

static av_status chain_run(const av__op_ctx *ctx)
{
    chain_prog pr;
    if (chain_decode(ctx, 1, &pr) != AV_STATUS_OK)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "run() without a successful infer()");
    const av__tensor *x = ctx->in[0];
    av__tensor *y = ctx->out[0];
    if (!y)
        return AV_STATUS_OK;
    chain_job job = {.pr = &pr, .x = x->data, .y = y->data, .esz = av__dtype_size(x->dtype),
                     .inner = 1, .channels = 1};
    int64_t total = av__tensor_count(x);
    if (pr.axis >= 0) {
        job.channels = x->shape[pr.axis];
        for (int d = pr.axis + 1; d < x->ndim; d++)
            job.inner *= x->shape[d];
    } else {
        job.inner = total > 0 ? total : 1;
    }
    for (int i = 1; i < ctx->n_in; i++)
        job.operand[i] = ctx->in[i]->data;
    if (total > 0)
        av__parallel_for(ctx->pool, total, CHAIN_GRAIN, chain_worker, &job);
    return AV_STATUS_OK;
}

/* Internal operators of the elementwise family (domain AV__DOMAIN_INTERNAL). */
const av__op av__ops_elementwise_internal[] = {
    {.name = AV__EW_CHAIN_OP, .flags = AV__OP_INPLACE, .infer = chain_infer, .run = chain_run},
};
const int av__ops_elementwise_internal_count =
    sizeof av__ops_elementwise_internal / sizeof av__ops_elementwise_internal[0];
