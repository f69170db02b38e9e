/* The reduce family: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,SumSquare,LogSum,LogSumExp}, ArgMax,
 * ArgMin, and the table of every op of the family (the softmax-like ops and CumSum are in
 * reduce_softmax.c, the normalisations in reduce_norm.c).
 *
 * Reductions run on the canonical view of reduce_internal.h. Floating-point data accumulates in
 * double (exact enough for any row length we meet: the error grows as n * 1e-16); integer data
 * accumulates in 64-bit two's complement (wrapping like numpy's sum with dtype=x.dtype) except
 * for L2, LogSum and LogSumExp, which are computed in double and truncated.
 *
 * Empty reductions follow the ONNX reference: Sum, SumSquare, L1, L2 give 0, Prod 1, Max -inf
 * (the type's minimum for integers), Min +inf (maximum), LogSum and LogSumExp -inf, Mean NaN
 * (0 for integers). With noop_with_empty_axes and no axes, every output "reduces" its own
 * element: the elementwise part of the op is applied (ReduceSumSquare gives x*x, ReduceL1 |x|),
 * as the ONNX reference implementation does. */
#include <math.h>
#include <string.h>

#include "ops/families.h"
#include "ops/reduce_internal.h"

typedef enum rd_kind {
    RD_SUM, RD_MEAN, RD_PROD, RD_MAX, RD_MIN, RD_L1, RD_L2, RD_SUMSQ, RD_LOGSUM, RD_LSE
} rd_kind;

/* Lanes of a tile: outputs that are adjacent in the input and reduced together. */
#define RD_TILE 64

/* ---- axes ------------------------------------------------------------------------------------ */

static int axes_from_input(const av__op_ctx *ctx)
{
    return ctx->opset >= 18 || (ctx->opset >= 13 && strcmp(ctx->node->op_type, "ReduceSum") == 0);
}

/* The reduced-axes mask of a Reduce* node (bit i: axis i), from the axes attribute or input;
 * 0 when noop_with_empty_axes applies. Checks the input count, axes dtype, range, repeats. */
static av_status rd_mask(const av__op_ctx *ctx, int rank, unsigned *mask)
{
    int from_input = axes_from_input(ctx);
    av_status st = av__op_check_inputs(ctx, 1, from_input ? 2 : 1);
    if (st != AV_STATUS_OK)
        return st;
    if ((st = av__rd_attr_type(ctx, "axes", AV__ATTR_INTS)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "keepdims", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "noop_with_empty_axes", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    int count = 0;
    const int64_t *attr = av__attr_ints(ctx->node, "axes", &count);
    const av__tensor *in = ctx->n_in > 1 ? ctx->in[1] : NULL;
    if (in) {
        if (av__node_attr(ctx->node, "axes"))
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axes given both as attribute and input");
        if (in->dtype != AV__DT_I64 && in->dtype != AV__DT_I32)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axes input must be int64, not %s",
                               av__dtype_name(in->dtype));
        if (in->ndim > 1)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axes input must be 1-D, has rank %d",
                               in->ndim);
        if (!in->data)
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                               "axes input must be known when the graph is planned");
        int64_t n = av__tensor_count(in);
        if (n > AV__MAX_DIMS)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "%lld axes for an input of rank %d",
                               (long long)n, rank);
        count = (int)n;
    }
    if (count == 0) {
        int noop = from_input && av__attr_int(ctx->node, "noop_with_empty_axes", 0) != 0;
        *mask = noop ? 0u : (rank ? (1u << rank) - 1u : 0u);
        return AV_STATUS_OK;
    }
    unsigned m = 0;
    for (int i = 0; i < count; i++) {
        int64_t a = in ? av__tensor_get_i64(in, i) : attr[i];
        int ax = av__normalize_axis(a, rank);
        if (ax < 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT,
                               "axes[%d] = %lld is out of range [%d, %d] for an input of rank %d",
                               i, (long long)a, -rank, rank - 1, rank);
        if (m & (1u << ax))
            return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld is repeated in axes",
                               (long long)a);
        m |= 1u << ax;
    }
    *mask = m;
    return AV_STATUS_OK;
}

static av_status reduce_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 2);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!av__rd_is_float(x->dtype) && !av__rd_is_int(x->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s does not take %s input",
                           ctx->node->op_type, av__dtype_name(x->dtype));
    unsigned mask;
    if ((st = rd_mask(ctx, x->ndim, &mask)) != AV_STATUS_OK)
        return st;
    if (ctx->n_out != 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects 1 output");
    int keep = av__attr_int(ctx->node, "keepdims", 1) != 0;
    int64_t shape[AV__MAX_DIMS];
    int n = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (!(mask & (1u << i)))
            shape[n++] = x->shape[i];
        else if (keep)
            shape[n++] = 1;
    }
    ctx->out[0]->dtype = x->dtype;
    av__tensor_set_shape(ctx->out[0], n, shape);
    return AV_STATUS_OK;
}

/* ---- floating-point accumulation (double) ---------------------------------------------------- */

static double rd_init(rd_kind k)
{
    switch (k) {
    case RD_PROD: return 1.0;
    case RD_MAX: case RD_LSE: return -INFINITY; /* LSE: the running max of its first pass */
    case RD_MIN: return INFINITY;
    default: return 0.0;
    }
}

/* acc <- acc (op) v[0..n) for the accumulating part of kind k. NaN sticks in Max and Min. */
static double rd_feed(rd_kind k, double a, const double *v, int64_t n)
{
    switch (k) {
    case RD_SUM: case RD_MEAN: case RD_LOGSUM:
        for (int64_t i = 0; i < n; i++)
            a += v[i];
        break;
    case RD_SUMSQ: case RD_L2:
        for (int64_t i = 0; i < n; i++)
            a += v[i] * v[i];
        break;
    case RD_L1:
        for (int64_t i = 0; i < n; i++)
            a += fabs(v[i]);
        break;
    case RD_PROD:
        for (int64_t i = 0; i < n; i++)
            a *= v[i];
        break;
    case RD_MAX: case RD_LSE:
        for (int64_t i = 0; i < n; i++)
            if (v[i] > a || isnan(v[i]))
                a = v[i];
        break;
    case RD_MIN:
        for (int64_t i = 0; i < n; i++)
            if (v[i] < a || isnan(v[i]))
                a = v[i];
        break;
    }
    return a;
}

/* The second pass of LogSumExp: sum of exp(v - mx). */
static double rd_feed_exp(double a, double mx, const double *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a += exp(v[i] - mx);
    return a;
}

/* mx: LogSumExp's max (ignored by the other kinds). */
static double rd_final(rd_kind k, double a, double mx, int64_t count)
{
    switch (k) {
    case RD_MEAN: return a / (double)count; /* 0 / 0: NaN for an empty mean */
    case RD_L2: return sqrt(a);
    case RD_LOGSUM: return log(a);
    case RD_LSE:
        if (count == 0)
            return -INFINITY;
        if (isinf(mx) || isnan(mx)) /* all -inf, some +inf, or a NaN: exp would give NaN */
            return mx;
        return mx + log(a);
    default: return a;
    }
}

static int lse_second_pass(double mx)
{
    return !isinf(mx) && !isnan(mx);
}

typedef struct rd_job {
    const av__rd_plan *p;
    const av__tensor *x;
    av__tensor *y;
    rd_kind kind;
    int64_t tiles_per_run; /* tile mode: tiles along the last kept dim */
} rd_job;

typedef struct rd_line_state {
    const av__tensor *x;
    rd_kind kind;
    int exp_pass;
    double acc, mx;
} rd_line_state;

static void rd_line_cb(void *arg, int64_t off, int64_t stride, int64_t n)
{
    rd_line_state *s = arg;
    double buf[AV__RD_CHUNK];
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_f64(s->x, off + i * stride, stride, m, buf);
        if (s->exp_pass)
            s->acc = rd_feed_exp(s->acc, s->mx, buf, m);
        else
            s->acc = rd_feed(s->kind, s->acc, buf, m);
    }
}

/* Line mode: each output walks its runs of the innermost reduced dim. Works for every plan. */
static void rd_lines_worker(void *arg, int64_t begin, int64_t end)
{
    const rd_job *j = arg;
    double res[AV__RD_CHUNK];
    int nres = 0;
    int64_t first = begin;
    for (int64_t o = begin; o < end; o++) {
        rd_line_state s = {j->x, j->kind, 0, rd_init(j->kind), 0};
        av__rd_for_lines(j->p, o, rd_line_cb, &s);
        double mx = s.acc;
        if (j->kind == RD_LSE) {
            s.exp_pass = 1;
            s.mx = mx;
            s.acc = 0;
            if (lse_second_pass(mx))
                av__rd_for_lines(j->p, o, rd_line_cb, &s);
        }
        res[nres++] = rd_final(j->kind, s.acc, mx, j->p->red_count);
        if (nres == AV__RD_CHUNK || o + 1 == end) {
            av__rd_store_f64(j->y, first, 1, nres, res);
            first += nres;
            nres = 0;
        }
    }
}

/* Steps the odometer over every reduced dim; returns 0 after the last position. */
static int rd_next(const av__rd_plan *p, int64_t *idx, int64_t *off)
{
    for (int d = p->nr - 1; d >= 0; d--) {
        *off += p->rstride[d];
        if (++idx[d] < p->rsize[d])
            return 1;
        *off -= p->rstride[d] * p->rsize[d];
        idx[d] = 0;
    }
    return 0;
}

/* Tile mode (last canonical dim kept, contiguous): up to RD_TILE adjacent outputs advance
 * together through the reduced positions, each step loading one contiguous row. */
static void rd_tiles_worker(void *arg, int64_t begin, int64_t end)
{
    const rd_job *j = arg;
    const av__rd_plan *p = j->p;
    int64_t K = p->ksize[p->nk - 1];
    double acc[RD_TILE], mx[RD_TILE], row[RD_TILE];
    for (int64_t u = begin; u < end; u++) {
        int64_t run = u / j->tiles_per_run, t = u % j->tiles_per_run;
        int64_t o0 = run * K + t * RD_TILE;
        int w = (int)(K - t * RD_TILE < RD_TILE ? K - t * RD_TILE : RD_TILE);
        int64_t base = av__rd_base(p, o0);
        for (int l = 0; l < w; l++)
            acc[l] = rd_init(j->kind);
        int64_t idx[AV__MAX_DIMS] = {0}, off = base;
        do {
            av__rd_load_f64(j->x, off, 1, w, row);
            for (int l = 0; l < w; l++)
                acc[l] = rd_feed(j->kind, acc[l], &row[l], 1);
        } while (rd_next(p, idx, &off));
        if (j->kind == RD_LSE) {
            int any = 0;
            for (int l = 0; l < w; l++) {
                mx[l] = acc[l];
                acc[l] = 0;
                any |= lse_second_pass(mx[l]);
            }
            off = base;
            while (any) {
                av__rd_load_f64(j->x, off, 1, w, row);
                for (int l = 0; l < w; l++)
                    if (lse_second_pass(mx[l]))
                        acc[l] += exp(row[l] - mx[l]);
                if (!rd_next(p, idx, &off))
                    break;
            }
        }
        for (int l = 0; l < w; l++)
            row[l] = rd_final(j->kind, acc[l], mx[l], p->red_count);
        av__rd_store_f64(j->y, o0, 1, w, row);
    }
}

/* ---- integer accumulation (64-bit two's complement) ----------------------------------------- */

static int64_t int_lo(av__dtype t)
{
    switch (t) {
    case AV__DT_I8: return INT8_MIN;
    case AV__DT_I16: return INT16_MIN;
    case AV__DT_I32: return INT32_MIN;
    case AV__DT_I64: return INT64_MIN;
    default: return 0;
    }
}

static int64_t int_hi(av__dtype t)
{
    switch (t) {
    case AV__DT_I8: return INT8_MAX;
    case AV__DT_U8: return UINT8_MAX;
    case AV__DT_I16: return INT16_MAX;
    case AV__DT_U16: return UINT16_MAX;
    case AV__DT_I32: return INT32_MAX;
    case AV__DT_U32: return UINT32_MAX;
    case AV__DT_I64: return INT64_MAX;
    default: return -1; /* uint64: all ones */
    }
}

typedef struct rd_int_state {
    const av__tensor *x;
    rd_kind kind;
    int unsig;
    uint64_t acc;
} rd_int_state;

static void rd_int_cb(void *arg, int64_t off, int64_t stride, int64_t n)
{
    rd_int_state *s = arg;
    int64_t buf[AV__RD_CHUNK];
    uint64_t a = s->acc;
    for (int64_t i = 0; i < n; i += AV__RD_CHUNK) {
        int64_t m = n - i < AV__RD_CHUNK ? n - i : AV__RD_CHUNK;
        av__rd_load_i64(s->x, off + i * stride, stride, m, buf);
        for (int64_t k = 0; k < m; k++) {
            uint64_t v = (uint64_t)buf[k];
            switch (s->kind) {
            case RD_SUMSQ: a += v * v; break;
            case RD_L1: a += (!s->unsig && buf[k] < 0) ? 0 - v : v; break;
            case RD_PROD: a *= v; break;
            case RD_MAX:
                if (s->unsig ? v > a : buf[k] > (int64_t)a)
                    a = v;
                break;
            case RD_MIN:
                if (s->unsig ? v < a : buf[k] < (int64_t)a)
                    a = v;
                break;
            default: a += v; break; /* Sum, Mean */
            }
        }
    }
    s->acc = a;
}

static void rd_int_worker(void *arg, int64_t begin, int64_t end)
{
    const rd_job *j = arg;
    int unsig = j->x->dtype == AV__DT_U64;
    int64_t count = j->p->red_count;
    for (int64_t o = begin; o < end; o++) {
        rd_int_state s = {j->x, j->kind, unsig, 0};
        switch (j->kind) {
        case RD_PROD: s.acc = 1; break;
        case RD_MAX: s.acc = unsig ? 0 : (uint64_t)INT64_MIN; break;
        case RD_MIN: s.acc = unsig ? UINT64_MAX : (uint64_t)INT64_MAX; break;
        default: break;
        }
        av__rd_for_lines(j->p, o, rd_int_cb, &s);
        uint64_t r = s.acc;
        if (j->kind == RD_MEAN)
            r = count == 0 ? 0
                : unsig ? r / (uint64_t)count : (uint64_t)((int64_t)r / count);
        else if (count == 0 && j->kind == RD_MAX)
            r = (uint64_t)int_lo(j->y->dtype);
        else if (count == 0 && j->kind == RD_MIN)
            r = (uint64_t)int_hi(j->y->dtype);
        int64_t v = (int64_t)r;
        av__rd_store_i64(j->y, o, 1, 1, &v);
    }
}

static av_status reduce_run(const av__op_ctx *ctx, rd_kind kind)
{
    const av__tensor *x = ctx->in[0];
    av__tensor *y = ctx->out[0];
    unsigned mask;
    av_status st = rd_mask(ctx, x->ndim, &mask);
    if (st != AV_STATUS_OK)
        return st;
    av__rd_plan p;
    av__rd_plan_init(&p, x->ndim, x->shape, mask);
    if (p.out_count == 0)
        return AV_STATUS_OK;
    rd_job job = {&p, x, y, kind, 0};
    int64_t per = p.red_count ? p.red_count : 1;
    if (av__rd_is_int(x->dtype) && kind != RD_L2 && kind != RD_LOGSUM && kind != RD_LSE) {
        av__parallel_for(ctx->pool, p.out_count, av__rd_grain(per), rd_int_worker, &job);
    } else if (p.nk > 0 && p.nr > 0 && p.red_count > 0 && p.kstride[p.nk - 1] == 1) {
        int64_t K = p.ksize[p.nk - 1];
        job.tiles_per_run = (K + RD_TILE - 1) / RD_TILE;
        int64_t units = p.out_count / K * job.tiles_per_run;
        int64_t lanes = K < RD_TILE ? K : RD_TILE;
        av__parallel_for(ctx->pool, units, av__rd_grain(per * lanes), rd_tiles_worker, &job);
    } else {
        av__parallel_for(ctx->pool, p.out_count, av__rd_grain(per), rd_lines_worker, &job);
    }
    return AV_STATUS_OK;
}

#define REDUCE_RUN(fn, kind)                                                                \
    static av_status fn(const av__op_ctx *ctx) { return reduce_run(ctx, kind); }
REDUCE_RUN(reduce_sum_run, RD_SUM)
REDUCE_RUN(reduce_mean_run, RD_MEAN)
REDUCE_RUN(reduce_prod_run, RD_PROD)
REDUCE_RUN(reduce_max_run, RD_MAX)
REDUCE_RUN(reduce_min_run, RD_MIN)
REDUCE_RUN(reduce_l1_run, RD_L1)
REDUCE_RUN(reduce_l2_run, RD_L2)
REDUCE_RUN(reduce_sumsq_run, RD_SUMSQ)
REDUCE_RUN(reduce_logsum_run, RD_LOGSUM)
REDUCE_RUN(reduce_lse_run, RD_LSE)

/* ---- ArgMax / ArgMin ------------------------------------------------------------------------- */

static av_status arg_axis(const av__op_ctx *ctx, int *axis)
{
    av_status st;
    if ((st = av__rd_attr_type(ctx, "axis", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "keepdims", AV__ATTR_INT)) != AV_STATUS_OK ||
        (st = av__rd_attr_type(ctx, "select_last_index", AV__ATTR_INT)) != AV_STATUS_OK)
        return st;
    return av__rd_axis_attr(ctx, av__attr_int(ctx->node, "axis", 0), ctx->in[0]->ndim, axis);
}

static av_status arg_infer(const av__op_ctx *ctx)
{
    av_status st = av__op_check_inputs(ctx, 1, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = ctx->in[0];
    if (!av__rd_is_float(x->dtype) && !av__rd_is_int(x->dtype))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s does not take %s input",
                           ctx->node->op_type, av__dtype_name(x->dtype));
    int axis;
    if ((st = arg_axis(ctx, &axis)) != AV_STATUS_OK)
        return st;
    if (ctx->n_out != 1 || !ctx->out[0])
        return av__op_fail(ctx, AV_STATUS_FORMAT, "expects 1 output");
    int keep = av__attr_int(ctx->node, "keepdims", 1) != 0;
    int64_t shape[AV__MAX_DIMS], others = 1;
    int n = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (i != axis) {
            shape[n++] = x->shape[i];
            others *= x->shape[i];
        } else if (keep) {
            shape[n++] = 1;
        }
    }
    if (x->shape[axis] == 0 && others > 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s over axis %d of size 0",
                           ctx->node->op_type, axis);
    ctx->out[0]->dtype = AV__DT_I64;
    av__tensor_set_shape(ctx->out[0], n, shape);
    return AV_STATUS_OK;
}

typedef struct arg_job {
    const av__tensor *x;
    int64_t *y;
    av__rd_axis v;
    int is_max, last;
    int64_t tiles; /* tiles of RD_TILE columns per outer index (inner > 1) */
} arg_job;

/* Whether candidate c replaces the best b. NaN counts as the extreme (numpy's argmax). */
static int arg_better_f(double c, double b, int is_max, int last)
{
    if (isnan(c))
        return last || !isnan(b);
    if (isnan(b))
        return 0;
    if (is_max)
        return last ? c >= b : c > b;
    return last ? c <= b : c < b;
}

static int arg_better_i(int64_t c, int64_t b, int unsig, int is_max, int last)
{
    int gt = unsig ? (uint64_t)c > (uint64_t)b : c > b;
    int lt = unsig ? (uint64_t)c < (uint64_t)b : c < b;
    if (is_max)
        return gt || (last && !lt);
    return lt || (last && !gt);
}

/* One lane per column of a tile: best value and its index along the axis. Columns j0.. j0+w of
 * outer index o; each step k loads w elements (contiguous when inner > 1, a chunk of the line
 * when inner == 1 and w == 1). */
static void arg_worker(void *arg, int64_t begin, int64_t end)
{
    const arg_job *j = arg;
    int is_int = av__rd_is_int(j->x->dtype);
    int unsig = j->x->dtype == AV__DT_U64;
    int64_t n = j->v.n, inner = j->v.inner;
    for (int64_t u = begin; u < end; u++) {
        int64_t o = u / j->tiles, j0 = (u % j->tiles) * RD_TILE;
        int w = (int)(inner - j0 < RD_TILE ? inner - j0 : RD_TILE);
        int64_t base = o * n * inner + j0;
        int64_t bi[RD_TILE] = {0};
        if (is_int) {
            int64_t best[RD_TILE], row[RD_TILE];
            av__rd_load_i64(j->x, base, 1, w, best);
            for (int64_t k = 1; k < n; k++) {
                av__rd_load_i64(j->x, base + k * inner, 1, w, row);
                for (int l = 0; l < w; l++)
                    if (arg_better_i(row[l], best[l], unsig, j->is_max, j->last)) {
                        best[l] = row[l];
                        bi[l] = k;
                    }
            }
        } else if (w == 1) { /* one column: stream the line in chunks */
            double buf[AV__RD_CHUNK], best = 0;
            for (int64_t k0 = 0; k0 < n; k0 += AV__RD_CHUNK) {
                int64_t m = n - k0 < AV__RD_CHUNK ? n - k0 : AV__RD_CHUNK;
                av__rd_load_f64(j->x, base + k0 * inner, inner, m, buf);
                for (int64_t k = 0; k < m; k++)
                    if (k0 + k == 0 || arg_better_f(buf[k], best, j->is_max, j->last)) {
                        best = buf[k];
                        bi[0] = k0 + k;
                    }
            }
        } else {
            double best[RD_TILE], row[RD_TILE];
            av__rd_load_f64(j->x, base, 1, w, best);
            for (int64_t k = 1; k < n; k++) {
                av__rd_load_f64(j->x, base + k * inner, 1, w, row);
                for (int l = 0; l < w; l++)
                    if (arg_better_f(row[l], best[l], j->is_max, j->last)) {
                        best[l] = row[l];
                        bi[l] = k;
                    }
            }
        }
        memcpy(j->y + o * inner + j0, bi, (size_t)w * sizeof *bi);
    }
}

static av_status arg_run(const av__op_ctx *ctx, int is_max)
{
    int axis;
    av_status st = arg_axis(ctx, &axis);
    if (st != AV_STATUS_OK)
        return st;
    arg_job j = {ctx->in[0], ctx->out[0]->data, av__rd_axis_view(ctx->in[0], axis), is_max,
                 ctx->opset >= 12 && av__attr_int(ctx->node, "select_last_index", 0) != 0, 0};
    if (j.v.outer * j.v.inner == 0)
        return AV_STATUS_OK;
    j.tiles = (j.v.inner + RD_TILE - 1) / RD_TILE;
    int64_t lanes = j.v.inner < RD_TILE ? j.v.inner : RD_TILE;
    av__parallel_for(ctx->pool, j.v.outer * j.tiles, av__rd_grain(j.v.n * lanes), arg_worker, &j);
    return AV_STATUS_OK;
}

static av_status argmax_run(const av__op_ctx *ctx) { return arg_run(ctx, 1); }
static av_status argmin_run(const av__op_ctx *ctx) { return arg_run(ctx, 0); }

/* ---- the family's table ---------------------------------------------------------------------- */

const av__op av__ops_reduce[] = {
    {"ReduceSum", 1u << 1, 0, reduce_infer, reduce_sum_run, NULL},
    {"ReduceMean", 1u << 1, 0, reduce_infer, reduce_mean_run, NULL},
    {"ReduceMax", 1u << 1, 0, reduce_infer, reduce_max_run, NULL},
    {"ReduceMin", 1u << 1, 0, reduce_infer, reduce_min_run, NULL},
    {"ReduceProd", 1u << 1, 0, reduce_infer, reduce_prod_run, NULL},
    {"ReduceL1", 1u << 1, 0, reduce_infer, reduce_l1_run, NULL},
    {"ReduceL2", 1u << 1, 0, reduce_infer, reduce_l2_run, NULL},
    {"ReduceSumSquare", 1u << 1, 0, reduce_infer, reduce_sumsq_run, NULL},
    {"ReduceLogSum", 1u << 1, 0, reduce_infer, reduce_logsum_run, NULL},
    {"ReduceLogSumExp", 1u << 1, 0, reduce_infer, reduce_lse_run, NULL},
    {"ArgMax", 0, 0, arg_infer, argmax_run, NULL},
    {"ArgMin", 0, 0, arg_infer, argmin_run, NULL},
    {"Softmax", 0, 0, av__softmax_infer, av__softmax_run, NULL},
    {"LogSoftmax", 0, 0, av__softmax_infer, av__logsoftmax_run, NULL},
    {"Hardmax", 0, 0, av__softmax_infer, av__hardmax_run, NULL},
    {"CumSum", 0, 0, av__cumsum_infer, av__cumsum_run, NULL},
    {"LayerNormalization", 0, 0, av__layernorm_infer, av__layernorm_run, av__layernorm_scratch},
    {"InstanceNormalization", 0, 0, av__instancenorm_infer, av__instancenorm_run, NULL},
    {"BatchNormalization", 0, 0, av__batchnorm_infer, av__batchnorm_run, NULL},
    {"GroupNormalization", 0, 0, av__groupnorm_infer, av__groupnorm_run, NULL},
    {"LpNormalization", 0, 0, av__lpnorm_infer, av__lpnorm_run, NULL},
    {"MeanVarianceNormalization", 0, 0, av__mvn_infer, av__mvn_run, NULL},
};
const int av__ops_reduce_count = sizeof av__ops_reduce / sizeof av__ops_reduce[0];
