// CUDA kernels of the reduce family (the CPU ops are in src/ops/reduce*.c; this file mirrors
// their semantics: empty reductions, NaN rules, integer wrapping, tie-breaking).
//
// Every op here reduces "lines": a column o (an output of a Reduce*, a row of a softmax or a
// normalisation) gathers the elements base(o) + off(r), r < nred, of a canonical view made on
// the host (kept and reduced dims, size-1 dims dropped, neighbours merged). A block of 256
// threads handles cx columns with ry threads each (cx * ry = 256, ry a power of two): when the
// input's innermost dim is reduced the ry threads of a column are adjacent (coalesced along the
// line), otherwise the cx columns are (coalesced across columns). Each thread accumulates its
// strided share of a line in a fixed order, then a shared-memory tree combines the ry partials
// in a fixed order: no atomics, results are the same on every run.
//
// Float data (float32, or float16 storage in fp16 math) is read as float and accumulated in
// double where the CPU accumulates in double (sums, means, variances); outputs are rounded once
// on store. Integer reductions (int32, int64) wrap in 64 bits as the CPU's do.
//
// Not here (CPU fallback): float64 / bfloat16 data, integer ReduceL2 / LogSum / LogSumExp,
// unsigned and 8/16-bit integer types, training-mode BatchNormalization, bfloat16 LayerNorm
// statistics.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cuda/cuda_op.h"

namespace {

constexpr int THREADS = 256;

// ---- host helpers (as in ops_shape.cu) --------------------------------------------------------

const av__tensor *dev_in(const av__cuda_ctx *ctx, int i)
{
    return i < ctx->op->n_in ? ctx->op->in[i] : NULL;
}

const av__tensor *dev_out(const av__cuda_ctx *ctx, int i)
{
    return i < ctx->op->n_out ? ctx->op->out[i] : NULL;
}

const av__tensor *host_in(const av__cuda_ctx *ctx, int i)
{
    return ctx->host_in && i < ctx->op->n_in ? ctx->host_in[i] : NULL;
}

const av__node *node_of(const av__cuda_ctx *ctx) { return ctx->op->node; }

bool is_float(av__dtype t) { return t == AV__DT_F32 || t == AV__DT_F16; }

av_status need_float(const av__cuda_ctx *ctx, const av__tensor *t, const char *what)
{
    if (!is_float(t->dtype))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "%s of type %s", what,
                             av__dtype_name(t->dtype));
    return AV_STATUS_OK;
}

struct owned {
    void *host;
    void *dev;
};

void release_state(void *p)
{
    if (!p)
        return;
    owned *o = (owned *)p;
    av__free(o->host);
    if (o->dev)
        cudaFree(o->dev);
    av__free(p);
}

template <typename S, av_status (*PLAN)(const av__cuda_ctx *, S *)>
av_status supports_t(const av__cuda_ctx *ctx)
{
    S *s = (S *)av__calloc(1, sizeof(S));
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    av_status st = PLAN(ctx, s);
    release_state(s);
    return st;
}

template <typename S, av_status (*PLAN)(const av__cuda_ctx *, S *)>
av_status prepare_t(const av__cuda_ctx *ctx, void **out)
{
    *out = NULL;
    S *s = (S *)av__calloc(1, sizeof(S));
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    av_status st = PLAN(ctx, s);
    if (st != AV_STATUS_OK) {
        release_state(s);
        return st;
    }
    *out = s;
    return AV_STATUS_OK;
}

template <typename S, av_status (*RUN)(const av__cuda_ctx *, const S *)>
av_status run_t(const av__cuda_ctx *ctx)
{
    if (!ctx->state)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "%s: run before prepare",
                             node_of(ctx)->op_type);
    return RUN(ctx, (const S *)ctx->state);
}

// ---- the line view ----------------------------------------------------------------------------

struct rview {
    int nk, nr;
    int64_t ncols, nred; // columns (kept positions) and elements per column
    int64_t ksize[AV__MAX_DIMS], kstride[AV__MAX_DIMS];
    int64_t rsize[AV__MAX_DIMS], rstride[AV__MAX_DIMS];
    int cx, ry, rfast;   // block layout (see the top of the file)
};

int pow2_at_least(int64_t n, int cap)
{
    int p = 1;
    while (p < n && p < cap)
        p <<= 1;
    return p;
}

// The view of a tensor of this shape whose dims with bit i of mask set are reduced. Columns are
// numbered in C order over the kept dims.
void rv_init(rview *v, int rank, const int64_t *shape, unsigned mask)
{
    memset(v, 0, sizeof *v);
    v->ncols = 1;
    v->nred = 1;
    int64_t ks[AV__MAX_DIMS], kst[AV__MAX_DIMS], rs[AV__MAX_DIMS], rst[AV__MAX_DIMS];
    int nk = 0, nr = 0, last = -1;
    int64_t stride = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int red = (mask >> i) & 1u;
        int64_t d = shape[i];
        if (red)
            v->nred *= d;
        else
            v->ncols *= d;
        if (d == 1)
            continue;
        if (red) {
            if (last == 1) {
                rs[nr - 1] *= d;
            } else {
                rs[nr] = d;
                rst[nr] = stride;
                nr++;
            }
        } else {
            if (last == 0) {
                ks[nk - 1] *= d;
            } else {
                ks[nk] = d;
                kst[nk] = stride;
                nk++;
            }
        }
        last = red;
        stride *= d;
    }
    v->nk = nk;
    v->nr = nr;
    for (int i = 0; i < nk; i++) {
        v->ksize[i] = ks[nk - 1 - i];
        v->kstride[i] = kst[nk - 1 - i];
    }
    for (int i = 0; i < nr; i++) {
        v->rsize[i] = rs[nr - 1 - i];
        v->rstride[i] = rst[nr - 1 - i];
    }
    if (nr > 0 && v->rstride[nr - 1] == 1) { // lines are contiguous: threads along the line
        v->ry = pow2_at_least(v->nred, THREADS);
        v->cx = THREADS / v->ry;
        v->rfast = 1;
    } else { // adjacent columns are adjacent in memory: threads across columns
        int cx = pow2_at_least(v->ncols, 32);
        v->ry = pow2_at_least(v->nred, THREADS / cx);
        v->cx = THREADS / v->ry;
        v->rfast = 0;
    }
}

unsigned rv_grid(const rview &v) { return av__cuda_blocks(v.ncols, v.cx); }

__device__ __forceinline__ int64_t rv_base(const rview &v, int64_t o)
{
    int64_t off = 0;
    for (int j = v.nk - 1; j >= 0; j--) {
        int64_t q = o / v.ksize[j];
        off += (o - q * v.ksize[j]) * v.kstride[j];
        o = q;
    }
    return off;
}

__device__ __forceinline__ int64_t rv_off(const rview &v, int64_t r)
{
    if (v.nr == 1)
        return r * v.rstride[0];
    int64_t off = 0;
    for (int j = v.nr - 1; j >= 0; j--) {
        int64_t q = r / v.rsize[j];
        off += (r - q * v.rsize[j]) * v.rstride[j];
        r = q;
    }
    return off;
}

// This thread's column lane (lc < cx) and line lane (lr < ry).
__device__ __forceinline__ void rv_lanes(const rview &v, int *lc, int *lr)
{
    int t = threadIdx.x;
    if (v.rfast) {
        *lr = t % v.ry;
        *lc = t / v.ry;
    } else {
        *lc = t % v.cx;
        *lr = t / v.cx;
    }
}

// Combines the ry partials of each column (tree in a fixed order); every thread of the column
// gets the result. All threads of the block must call it. sm holds THREADS values.
template <typename V, typename F>
__device__ V col_reduce(V v, V *sm, int lc, int lr, const rview &w, F f)
{
    sm[lr * w.cx + lc] = v;
    __syncthreads();
    for (int s = w.ry / 2; s > 0; s >>= 1) {
        if (lr < s)
            sm[lr * w.cx + lc] = f(sm[lr * w.cx + lc], sm[(lr + s) * w.cx + lc]);
        __syncthreads();
    }
    V r = sm[lc];
    __syncthreads();
    return r;
}

struct add_op {
    template <typename V> __device__ V operator()(V a, V b) const { return a + b; }
};

// Column loop: c0 steps over the block's groups of cx columns (the same for every thread).
#define FOR_COLUMNS(v, c0)                                                                     \
    for (int64_t c0 = blockIdx.x * (int64_t)(v).cx; c0 < (v).ncols;                            \
         c0 += (int64_t)gridDim.x * (v).cx)

// Loads as double / as 64-bit integer accumulators, and stores back.
__device__ __forceinline__ double ld_acc(const float *p, int64_t i) { return (double)p[i]; }
__device__ __forceinline__ double ld_acc(const __half *p, int64_t i)
{
    return (double)__half2float(p[i]);
}
__device__ __forceinline__ uint64_t ld_acc(const int32_t *p, int64_t i)
{
    return (uint64_t)(int64_t)p[i];
}
__device__ __forceinline__ uint64_t ld_acc(const int64_t *p, int64_t i) { return (uint64_t)p[i]; }
__device__ __forceinline__ void st_acc(float *p, int64_t i, double v) { p[i] = (float)v; }
__device__ __forceinline__ void st_acc(__half *p, int64_t i, double v)
{
    p[i] = __float2half_rn((float)v);
}
__device__ __forceinline__ void st_acc(int32_t *p, int64_t i, uint64_t v)
{
    p[i] = (int32_t)(int64_t)v; // the low 32 bits, as the CPU stores them
}
__device__ __forceinline__ void st_acc(int64_t *p, int64_t i, uint64_t v) { p[i] = (int64_t)v; }

// A float parameter stored as float32 or float16.
__device__ __forceinline__ double ld_param(const void *p, int half, int64_t i)
{
    return half ? (double)__half2float(((const __half *)p)[i]) : (double)((const float *)p)[i];
}

// ---- Reduce* ----------------------------------------------------------------------------------

enum { RD_SUM, RD_MEAN, RD_PROD, RD_MAX, RD_MIN, RD_L1, RD_L2, RD_SUMSQ, RD_LOGSUM, RD_LSE };

__host__ __device__ double rd_init(int k)
{
    switch (k) {
    case RD_PROD: return 1.0;
    case RD_MAX: case RD_LSE: return -INFINITY;
    case RD_MIN: return INFINITY;
    default: return 0.0;
    }
}

__device__ __forceinline__ double rd_feed(int k, double a, double v)
{
    switch (k) {
    case RD_SUMSQ: case RD_L2: return a + v * v;
    case RD_L1: return a + fabs(v);
    case RD_PROD: return a * v;
    case RD_MAX: case RD_LSE: return v > a || isnan(v) ? v : a; // NaN sticks
    case RD_MIN: return v < a || isnan(v) ? v : a;
    default: return a + v;
    }
}

__device__ __forceinline__ double rd_combine(int k, double a, double b)
{
    switch (k) {
    case RD_PROD: return a * b;
    case RD_MAX: case RD_LSE: return isnan(a) ? a : b > a || isnan(b) ? b : a;
    case RD_MIN: return isnan(a) ? a : b < a || isnan(b) ? b : a;
    default: return a + b;
    }
}

__device__ __forceinline__ double rd_final(int k, double a, double mx, int64_t count)
{
    switch (k) {
    case RD_MEAN: return a / (double)count; // empty: 0 / 0 = NaN, as the CPU
    case RD_L2: return sqrt(a);
    case RD_LOGSUM: return log(a);
    case RD_LSE:
        if (count == 0)
            return -INFINITY;
        if (isinf(mx) || isnan(mx))
            return mx;
        return mx + log(a);
    default: return a;
    }
}

template <typename T> __global__ void reduce_float_kernel(T *y, const T *x, rview v, int kind)
{
    __shared__ double sm[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        double acc = rd_init(kind);
        if (ok)
            for (int64_t r = lr; r < v.nred; r += v.ry)
                acc = rd_feed(kind, acc, ld_acc(x, base + rv_off(v, r)));
        acc = col_reduce(acc, sm, lc, lr, v,
                         [kind](double a, double b) { return rd_combine(kind, a, b); });
        double mx = acc;
        if (kind == RD_LSE) { // second pass: sum of exp(x - max) where the max is finite
            double s = 0;
            if (ok && !isinf(mx) && !isnan(mx))
                for (int64_t r = lr; r < v.nred; r += v.ry)
                    s += exp(ld_acc(x, base + rv_off(v, r)) - mx);
            acc = col_reduce(s, sm, lc, lr, v, add_op());
        }
        if (ok && lr == 0)
            st_acc(y, o, rd_final(kind, acc, mx, v.nred));
    }
}

// Integers: 64-bit two's complement, wrapping; Max/Min compare signed.
template <typename I>
__global__ void reduce_int_kernel(I *y, const I *x, rview v, int kind, int64_t lo, int64_t hi)
{
    __shared__ uint64_t sm[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    uint64_t init = kind == RD_PROD ? 1 : kind == RD_MAX ? (uint64_t)INT64_MIN
                                      : kind == RD_MIN   ? (uint64_t)INT64_MAX
                                                         : 0;
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        uint64_t a = init;
        if (ok)
            for (int64_t r = lr; r < v.nred; r += v.ry) {
                uint64_t u = ld_acc(x, base + rv_off(v, r));
                switch (kind) {
                case RD_SUMSQ: a += u * u; break;
                case RD_L1: a += (int64_t)u < 0 ? 0 - u : u; break;
                case RD_PROD: a *= u; break;
                case RD_MAX: a = (int64_t)u > (int64_t)a ? u : a; break;
                case RD_MIN: a = (int64_t)u < (int64_t)a ? u : a; break;
                default: a += u; break;
                }
            }
        a = col_reduce(a, sm, lc, lr, v, [kind](uint64_t p, uint64_t q) {
            switch (kind) {
            case RD_PROD: return p * q;
            case RD_MAX: return (int64_t)q > (int64_t)p ? q : p;
            case RD_MIN: return (int64_t)q < (int64_t)p ? q : p;
            default: return p + q;
            }
        });
        if (ok && lr == 0) {
            if (kind == RD_MEAN)
                a = v.nred == 0 ? 0 : (uint64_t)((int64_t)a / v.nred);
            else if (v.nred == 0 && kind == RD_MAX)
                a = (uint64_t)lo;
            else if (v.nred == 0 && kind == RD_MIN)
                a = (uint64_t)hi;
            st_acc(y, o, a);
        }
    }
}

struct reduce_state {
    owned own;
    rview v;
    int kind;
    av__dtype dt;
};

int reduce_kind(const char *op)
{
    static const char *const names[] = {"ReduceSum", "ReduceMean", "ReduceProd", "ReduceMax",
                                        "ReduceMin", "ReduceL1",   "ReduceL2",   "ReduceSumSquare",
                                        "ReduceLogSum", "ReduceLogSumExp"};
    static const int kinds[] = {RD_SUM, RD_MEAN, RD_PROD, RD_MAX,    RD_MIN,
                                RD_L1,  RD_L2,   RD_SUMSQ, RD_LOGSUM, RD_LSE};
    for (int i = 0; i < 10; i++)
        if (strcmp(op, names[i]) == 0)
            return kinds[i];
    return -1;
}

// The reduced-axes mask, as the CPU's rd_mask (src/ops/reduce.c).
av_status reduce_mask(const av__cuda_ctx *ctx, int rank, unsigned *mask)
{
    const av__node *nd = node_of(ctx);
    int64_t opset = ctx->op->opset;
    bool from_input = opset >= 18 || (opset >= 13 && strcmp(nd->op_type, "ReduceSum") == 0);
    int count = 0;
    const int64_t *attr = av__attr_ints(nd, "axes", &count);
    const av__tensor *din = dev_in(ctx, 1), *h = NULL;
    int64_t vals[AV__MAX_DIMS];
    if (din) {
        if (av__cuda_numel(din) > AV__MAX_DIMS)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "too many axes");
        count = (int)av__cuda_numel(din);
        if (count > 0) {
            h = host_in(ctx, 1);
            if (!h || !h->data || av__tensor_count(h) != count)
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                     "axes (input 1) are not known when the plan is made");
            for (int i = 0; i < count; i++)
                vals[i] = av__tensor_get_i64(h, i);
        }
    } else {
        if (count > AV__MAX_DIMS)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "%d axes", count);
        for (int i = 0; i < count; i++)
            vals[i] = attr[i];
    }
    if (count == 0) {
        bool noop = from_input && av__attr_int(nd, "noop_with_empty_axes", 0) != 0;
        *mask = noop ? 0u : (rank ? (1u << rank) - 1u : 0u);
        return AV_STATUS_OK;
    }
    unsigned m = 0;
    for (int i = 0; i < count; i++) {
        int ax = av__normalize_axis(vals[i], rank);
        if (ax < 0 || (m & (1u << ax)))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad axes");
        m |= 1u << ax;
    }
    *mask = m;
    return AV_STATUS_OK;
}

av_status reduce_plan(const av__cuda_ctx *ctx, reduce_state *s)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    s->kind = reduce_kind(node_of(ctx)->op_type);
    s->dt = x->dtype;
    if (s->kind < 0 || !y || y->dtype != x->dtype)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected node");
    bool int_ok = s->kind != RD_L2 && s->kind != RD_LOGSUM && s->kind != RD_LSE;
    if (!is_float(x->dtype) && !(int_ok && (x->dtype == AV__DT_I32 || x->dtype == AV__DT_I64)))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "%s of %s", node_of(ctx)->op_type,
                             av__dtype_name(x->dtype));
    unsigned mask;
    av_status st = reduce_mask(ctx, x->ndim, &mask);
    if (st != AV_STATUS_OK)
        return st;
    rv_init(&s->v, x->ndim, x->shape, mask);
    if (s->v.ncols != av__cuda_numel(y))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output size disagrees with the plan");
    return AV_STATUS_OK;
}

av_status reduce_run(const av__cuda_ctx *ctx, const reduce_state *s)
{
    const rview &v = s->v;
    if (v.ncols == 0)
        return AV_STATUS_OK;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    unsigned g = rv_grid(v);
    cudaStream_t st = ctx->env->stream;
    switch (s->dt) {
    case AV__DT_F32:
        reduce_float_kernel<float><<<g, THREADS, 0, st>>>((float *)y, (const float *)x, v, s->kind);
        break;
    case AV__DT_F16:
        reduce_float_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, (const __half *)x, v,
                                                           s->kind);
        break;
    case AV__DT_I32:
        reduce_int_kernel<int32_t><<<g, THREADS, 0, st>>>((int32_t *)y, (const int32_t *)x, v,
                                                          s->kind, INT32_MIN, INT32_MAX);
        break;
    default:
        reduce_int_kernel<int64_t><<<g, THREADS, 0, st>>>((int64_t *)y, (const int64_t *)x, v,
                                                          s->kind, INT64_MIN, INT64_MAX);
        break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, node_of(ctx)->op_type);
}

// ---- ArgMax, ArgMin, Hardmax -------------------------------------------------------------------

__device__ __forceinline__ bool is_nan_v(float v) { return isnan(v); }
__device__ __forceinline__ bool is_nan_v(int64_t) { return false; }
__device__ __forceinline__ float ld_v(const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld_v(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ int64_t ld_v(const int32_t *p, int64_t i) { return p[i]; }
__device__ __forceinline__ int64_t ld_v(const int64_t *p, int64_t i) { return p[i]; }

// Whether candidate (c, ci) beats the best so far (b, bi); index -1 means none. NaN is the
// extreme (the first NaN, or the last with select_last_index); equal values go to the first
// (or last) index: the CPU's sequential rule, as a total order the tree can apply in any order.
template <typename V>
__device__ __forceinline__ bool arg_wins(V c, int64_t ci, V b, int64_t bi, int is_max, int last)
{
    if (ci < 0)
        return false;
    if (bi < 0)
        return true;
    bool cn = is_nan_v(c), bn = is_nan_v(b);
    if (cn || bn) {
        if (cn && bn)
            return last ? ci > bi : ci < bi;
        return cn;
    }
    if (c == b)
        return last ? ci > bi : ci < bi;
    return is_max ? c > b : c < b;
}

// The winning position r of column o (every thread of the column gets it). All threads of the
// block must call it.
template <typename T, typename V>
__device__ int64_t col_arg(const T *x, const rview &v, bool ok, int64_t base, int lc, int lr,
                           V *smv, int64_t *smi, int is_max, int last)
{
    V best = V(0);
    int64_t bi = -1;
    if (ok)
        for (int64_t r = lr; r < v.nred; r += v.ry) {
            V c = ld_v(x, base + rv_off(v, r));
            if (arg_wins(c, r, best, bi, is_max, last)) {
                best = c;
                bi = r;
            }
        }
    int me = lr * v.cx + lc;
    smv[me] = best;
    smi[me] = bi;
    __syncthreads();
    for (int s = v.ry / 2; s > 0; s >>= 1) {
        if (lr < s) {
            int j = me + s * v.cx;
            if (arg_wins(smv[j], smi[j], smv[me], smi[me], is_max, last)) {
                smv[me] = smv[j];
                smi[me] = smi[j];
            }
        }
        __syncthreads();
    }
    int64_t r = smi[lc];
    __syncthreads();
    return r;
}

template <typename T, typename V>
__global__ void arg_kernel(int64_t *y, const T *x, rview v, int is_max, int last)
{
    __shared__ V smv[THREADS];
    __shared__ int64_t smi[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        int64_t r = col_arg<T, V>(x, v, ok, base, lc, lr, smv, smi, is_max, last);
        if (ok && lr == 0)
            y[o] = r;
    }
}

// Hardmax: 1 at the first maximum (NaN counting as the maximum), 0 elsewhere.
template <typename T> __global__ void hardmax_kernel(T *y, const T *x, rview v)
{
    __shared__ float smv[THREADS];
    __shared__ int64_t smi[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        int64_t best = col_arg<T, float>(x, v, ok, base, lc, lr, smv, smi, 1, 0);
        if (ok)
            for (int64_t r = lr; r < v.nred; r += v.ry)
                av__st<T>(y, base + rv_off(v, r), r == best ? 1.0f : 0.0f);
    }
}

struct arg_state {
    owned own;
    rview v;
    av__dtype dt;
    int is_max, last;
};

av_status arg_plan(const av__cuda_ctx *ctx, arg_state *s)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    const av__node *nd = node_of(ctx);
    int axis = av__normalize_axis(av__attr_int(nd, "axis", 0), x->ndim);
    if (axis < 0 || !y || y->dtype != AV__DT_I64)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected node");
    s->dt = x->dtype;
    if (!is_float(x->dtype) && x->dtype != AV__DT_I32 && x->dtype != AV__DT_I64)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "%s of %s", nd->op_type,
                             av__dtype_name(x->dtype));
    s->is_max = strcmp(nd->op_type, "ArgMax") == 0;
    s->last = ctx->op->opset >= 12 && av__attr_int(nd, "select_last_index", 0) != 0;
    rv_init(&s->v, x->ndim, x->shape, 1u << axis);
    if (s->v.ncols != av__cuda_numel(y) || (s->v.nred == 0 && s->v.ncols > 0))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output size disagrees with the plan");
    return AV_STATUS_OK;
}

av_status arg_run(const av__cuda_ctx *ctx, const arg_state *s)
{
    const rview &v = s->v;
    if (v.ncols == 0)
        return AV_STATUS_OK;
    int64_t *y = (int64_t *)ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    unsigned g = rv_grid(v);
    cudaStream_t st = ctx->env->stream;
    switch (s->dt) {
    case AV__DT_F32:
        arg_kernel<float, float><<<g, THREADS, 0, st>>>(y, (const float *)x, v, s->is_max, s->last);
        break;
    case AV__DT_F16:
        arg_kernel<__half, float><<<g, THREADS, 0, st>>>(y, (const __half *)x, v, s->is_max,
                                                         s->last);
        break;
    case AV__DT_I32:
        arg_kernel<int32_t, int64_t><<<g, THREADS, 0, st>>>(y, (const int32_t *)x, v, s->is_max,
                                                            s->last);
        break;
    default:
        arg_kernel<int64_t, int64_t><<<g, THREADS, 0, st>>>(y, (const int64_t *)x, v, s->is_max,
                                                            s->last);
        break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, node_of(ctx)->op_type);
}

// ---- Softmax, LogSoftmax, Hardmax, LpNormalization, MeanVarianceNormalization -----------------

enum { LN_SOFTMAX, LN_LOGSOFTMAX, LN_HARDMAX, LN_LP1, LN_LP2, LN_MVN };

// Softmax as the CPU's float32 loops: the max ignores NaN, exp in float, the sum in double.
template <typename T> __global__ void softmax_kernel(T *y, const T *x, rview v, int log_mode)
{
    __shared__ double sm[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        float mx = -INFINITY;
        if (ok)
            for (int64_t r = lr; r < v.nred; r += v.ry) {
                float xv = av__ld<T>(x, base + rv_off(v, r));
                mx = xv > mx ? xv : mx;
            }
        mx = (float)col_reduce((double)mx, sm, lc, lr, v,
                               [](double a, double b) { return b > a ? b : a; });
        double sum = 0;
        if (ok)
            for (int64_t r = lr; r < v.nred; r += v.ry)
                sum += (double)expf(av__ld<T>(x, base + rv_off(v, r)) - mx);
        sum = col_reduce(sum, sm, lc, lr, v, add_op());
        if (!ok)
            continue; // no barrier below
        double inv = 1.0 / sum, lse = (double)mx + log(sum);
        for (int64_t r = lr; r < v.nred; r += v.ry) {
            int64_t off = base + rv_off(v, r);
            float xv = av__ld<T>(x, off);
            av__st<T>(y, off,
                      log_mode ? (float)((double)xv - lse) : (float)((double)expf(xv - mx) * inv));
        }
    }
}

// LpNormalization (p = 1, 2; a zero vector gives zeros) and MeanVarianceNormalization.
template <typename T> __global__ void lines_norm_kernel(T *y, const T *x, rview v, int kind)
{
    __shared__ double sm[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    double cnt = (double)v.nred;
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        double s = 0;
        if (ok)
            for (int64_t r = lr; r < v.nred; r += v.ry) {
                double xv = ld_acc(x, base + rv_off(v, r));
                s += kind == LN_LP1 ? fabs(xv) : kind == LN_LP2 ? xv * xv : xv;
            }
        s = col_reduce(s, sm, lc, lr, v, add_op());
        double shift = 0, scale;
        if (kind == LN_MVN) {
            shift = s / cnt;
            double q = 0;
            if (ok)
                for (int64_t r = lr; r < v.nred; r += v.ry) {
                    double d = ld_acc(x, base + rv_off(v, r)) - shift;
                    q += d * d;
                }
            q = col_reduce(q, sm, lc, lr, v, add_op());
            scale = 1.0 / (sqrt(q / cnt) + 1e-9);
        } else {
            double norm = kind == LN_LP1 ? s : sqrt(s);
            scale = norm != 0 ? 1.0 / norm : 0.0;
        }
        if (!ok)
            continue;
        for (int64_t r = lr; r < v.nred; r += v.ry) {
            int64_t off = base + rv_off(v, r);
            st_acc(y, off, (ld_acc(x, off) - shift) * scale);
        }
    }
}

struct lines_state {
    owned own;
    rview v;
    av__dtype dt;
    int kind;
};

av_status lines_begin(const av__cuda_ctx *ctx, lines_state *s)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    av_status st = need_float(ctx, x, "input");
    if (st != AV_STATUS_OK)
        return st;
    if (!y || y->dtype != x->dtype)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected output");
    s->dt = x->dtype;
    return AV_STATUS_OK;
}

av_status softmax_plan(const av__cuda_ctx *ctx, lines_state *s)
{
    const av__tensor *x = dev_in(ctx, 0);
    const char *op = node_of(ctx)->op_type;
    av_status st = lines_begin(ctx, s);
    if (st != AV_STATUS_OK)
        return st;
    s->kind = strcmp(op, "LogSoftmax") == 0 ? LN_LOGSOFTMAX
              : strcmp(op, "Hardmax") == 0  ? LN_HARDMAX
                                            : LN_SOFTMAX;
    bool old = ctx->op->opset < 13; // coerced to 2-D at axis: the line is shape[axis:]
    int axis = av__normalize_axis(av__attr_int(node_of(ctx), "axis", old ? 1 : -1), x->ndim);
    if (axis < 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
    unsigned mask = old ? ((1u << x->ndim) - 1u) & ~((1u << axis) - 1u) : 1u << axis;
    rv_init(&s->v, x->ndim, x->shape, mask);
    return AV_STATUS_OK;
}

av_status lpnorm_plan(const av__cuda_ctx *ctx, lines_state *s)
{
    const av__tensor *x = dev_in(ctx, 0);
    av_status st = lines_begin(ctx, s);
    if (st != AV_STATUS_OK)
        return st;
    int64_t p = av__attr_int(node_of(ctx), "p", 2);
    int axis = av__normalize_axis(av__attr_int(node_of(ctx), "axis", -1), x->ndim);
    if (axis < 0 || (p != 1 && p != 2))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad axis or p");
    s->kind = p == 1 ? LN_LP1 : LN_LP2;
    rv_init(&s->v, x->ndim, x->shape, 1u << axis);
    return AV_STATUS_OK;
}

av_status mvn_plan(const av__cuda_ctx *ctx, lines_state *s)
{
    const av__tensor *x = dev_in(ctx, 0);
    av_status st = lines_begin(ctx, s);
    if (st != AV_STATUS_OK)
        return st;
    static const int64_t def[] = {0, 2, 3};
    int count = 3;
    const int64_t *axes = def;
    if (av__node_attr(node_of(ctx), "axes"))
        axes = av__attr_ints(node_of(ctx), "axes", &count);
    unsigned m = 0;
    for (int i = 0; i < count; i++) {
        int a = axes ? av__normalize_axis(axes[i], x->ndim) : -1;
        if (a < 0 || (m & (1u << a)))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad axes");
        m |= 1u << a;
    }
    s->kind = LN_MVN;
    rv_init(&s->v, x->ndim, x->shape, m);
    return AV_STATUS_OK;
}

av_status lines_run(const av__cuda_ctx *ctx, const lines_state *s)
{
    const rview &v = s->v;
    if (v.ncols == 0 || v.nred == 0)
        return AV_STATUS_OK;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    unsigned g = rv_grid(v);
    cudaStream_t st = ctx->env->stream;
    bool h = s->dt == AV__DT_F16;
    switch (s->kind) {
    case LN_SOFTMAX: case LN_LOGSOFTMAX: {
        int lg = s->kind == LN_LOGSOFTMAX;
        if (h)
            softmax_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, (const __half *)x, v, lg);
        else
            softmax_kernel<float><<<g, THREADS, 0, st>>>((float *)y, (const float *)x, v, lg);
        break;
    }
    case LN_HARDMAX:
        if (h)
            hardmax_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, (const __half *)x, v);
        else
            hardmax_kernel<float><<<g, THREADS, 0, st>>>((float *)y, (const float *)x, v);
        break;
    default:
        if (h)
            lines_norm_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, (const __half *)x, v,
                                                             s->kind);
        else
            lines_norm_kernel<float><<<g, THREADS, 0, st>>>((float *)y, (const float *)x, v,
                                                            s->kind);
        break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, node_of(ctx)->op_type);
}

// ---- LayerNormalization, InstanceNormalization, GroupNormalization ----------------------------

// Where the scale / bias of element r of row o lives.
enum { PM_NONE, PM_ROW, PM_SCALAR, PM_GROUPED, PM_BCAST };

struct pmap {
    int mode;
    int half;              // stored as float16
    int64_t pdiv, pmod;    // PM_GROUPED: ((o * len + r) / pdiv) % pmod
    int nd;                // PM_BCAST: r over dims dim[], parameter strides st[] (0: broadcast)
    int64_t dim[AV__MAX_DIMS], st[AV__MAX_DIMS];
};

__device__ __forceinline__ double pm_load(const pmap &m, const void *p, int64_t o, int64_t r,
                                          int64_t len, double def)
{
    int64_t i;
    switch (m.mode) {
    case PM_ROW: i = r; break;
    case PM_SCALAR: i = 0; break;
    case PM_GROUPED: i = ((o * len + r) / m.pdiv) % m.pmod; break;
    case PM_BCAST: {
        i = 0;
        int64_t rem = r;
        for (int d = m.nd - 1; d >= 0; d--) {
            int64_t q = rem / m.dim[d];
            i += (rem - q * m.dim[d]) * m.st[d];
            rem = q;
        }
        break;
    }
    default: return def;
    }
    return ld_param(p, m.half, i);
}

struct rownorm_args {
    double eps;
    pmap ps, pb;
    int stat_half; // the Mean / InvStdDev outputs are float16
};

// Rows of nred contiguous elements: mean and biased variance in double (two passes), then
// y = (x - mean) * inv_std * scale + bias.
template <typename T>
__global__ void rownorm_kernel(T *y, const T *x, rview v, rownorm_args a, const void *scale,
                               const void *bias, void *mean_out, void *inv_out)
{
    __shared__ double sm[THREADS];
    int lc, lr;
    rv_lanes(v, &lc, &lr);
    int64_t len = v.nred;
    FOR_COLUMNS(v, c0)
    {
        int64_t o = c0 + lc;
        bool ok = o < v.ncols;
        int64_t base = ok ? rv_base(v, o) : 0;
        double s = 0;
        if (ok)
            for (int64_t r = lr; r < len; r += v.ry)
                s += ld_acc(x, base + rv_off(v, r));
        s = col_reduce(s, sm, lc, lr, v, add_op());
        double mean = s / (double)len, q = 0;
        if (ok)
            for (int64_t r = lr; r < len; r += v.ry) {
                double d = ld_acc(x, base + rv_off(v, r)) - mean;
                q += d * d;
            }
        q = col_reduce(q, sm, lc, lr, v, add_op());
        double inv = 1.0 / sqrt(q / (double)len + a.eps);
        if (!ok)
            continue;
        if (lr == 0 && mean_out) {
            if (a.stat_half)
                ((__half *)mean_out)[o] = __float2half_rn((float)mean);
            else
                ((float *)mean_out)[o] = (float)mean;
        }
        if (lr == 0 && inv_out) {
            if (a.stat_half)
                ((__half *)inv_out)[o] = __float2half_rn((float)inv);
            else
                ((float *)inv_out)[o] = (float)inv;
        }
        for (int64_t r = lr; r < len; r += v.ry) {
            int64_t off = base + rv_off(v, r);
            double sc = pm_load(a.ps, scale, o, r, len, 1.0);
            double b = pm_load(a.pb, bias, o, r, len, 0.0);
            st_acc(y, off, (ld_acc(x, off) - mean) * (inv * sc) + b);
        }
    }
}

struct rownorm_state {
    owned own;
    rview v;
    rownorm_args a;
    av__dtype dt;
    bool launch;
};

// Parameter i (NULL: none) of a LayerNormalization over the trailing n dims xs[0..n) of len
// elements, as the CPU's ln_expand reads it.
av_status ln_pmap(const av__cuda_ctx *ctx, int i, int n, const int64_t *xs, int64_t len, pmap *m)
{
    const av__tensor *p = dev_in(ctx, i);
    memset(m, 0, sizeof *m);
    if (!p)
        return AV_STATUS_OK; // PM_NONE
    av_status st = need_float(ctx, p, i == 1 ? "Scale" : "B");
    if (st != AV_STATUS_OK)
        return st;
    m->half = p->dtype == AV__DT_F16;
    int64_t cnt = av__cuda_numel(p);
    if (cnt == 1) {
        m->mode = PM_SCALAR;
    } else if (cnt == len) {
        m->mode = PM_ROW;
    } else {
        if (p->ndim > n)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "parameter rank");
        m->mode = PM_BCAST;
        m->nd = n;
        int64_t run = 1;
        for (int k = 0; k < n; k++) { // k-th dim from the last
            int d = n - 1 - k;
            m->dim[d] = xs[d];
            int64_t pd = k < p->ndim ? p->shape[p->ndim - 1 - k] : 1;
            if (pd != 1 && pd != xs[d])
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "parameter shape");
            m->st[d] = pd == 1 ? 0 : run;
            run *= pd;
        }
    }
    return AV_STATUS_OK;
}

av_status stats_out(const av__cuda_ctx *ctx, int *half)
{
    for (int i = 1; i < 3; i++) {
        const av__tensor *t = dev_out(ctx, i);
        if (!t)
            continue;
        if (!is_float(t->dtype))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "statistics of type %s",
                                 av__dtype_name(t->dtype));
        *half = t->dtype == AV__DT_F16;
    }
    const av__tensor *m = dev_out(ctx, 1), *v = dev_out(ctx, 2);
    if (m && v && m->dtype != v->dtype)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "statistics of two types");
    return AV_STATUS_OK;
}

av_status layernorm_plan(const av__cuda_ctx *ctx, rownorm_state *s)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    av_status st = need_float(ctx, x, "X");
    if (st != AV_STATUS_OK)
        return st;
    if (!y || y->dtype != x->dtype || ctx->op->n_out > 3)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected outputs");
    int axis = av__normalize_axis(av__attr_int(node_of(ctx), "axis", -1), x->ndim);
    if (axis < 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
    int64_t rows = 1, len = 1;
    for (int d = 0; d < x->ndim; d++)
        *(d < axis ? &rows : &len) *= x->shape[d];
    s->dt = x->dtype;
    s->a.eps = av__attr_float(node_of(ctx), "epsilon", 1e-5f);
    if ((st = ln_pmap(ctx, 1, x->ndim - axis, x->shape + axis, len, &s->a.ps)) != AV_STATUS_OK ||
        (st = ln_pmap(ctx, 2, x->ndim - axis, x->shape + axis, len, &s->a.pb)) != AV_STATUS_OK ||
        (st = stats_out(ctx, &s->a.stat_half)) != AV_STATUS_OK)
        return st;
    int64_t shape[2] = {rows, len};
    rv_init(&s->v, 2, shape, 2u);
    bool stats = dev_out(ctx, 1) || dev_out(ctx, 2);
    s->launch = rows > 0 && (len > 0 || stats); // empty rows: NaN statistics, as the CPU
    return AV_STATUS_OK;
}

// Instance and Group normalisation: rows of a group's (or a channel's) elements; parameter
// index ((row * len + r) / pdiv) % pmod as the CPU's rows_job.
av_status grouped_plan(const av__cuda_ctx *ctx, rownorm_state *s, int64_t groups, int64_t pdiv,
                       int64_t pmod)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    av_status st = need_float(ctx, x, "X");
    if (st != AV_STATUS_OK)
        return st;
    if (!y || y->dtype != x->dtype || ctx->op->n_out != 1)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected outputs");
    for (int i = 1; i < 3; i++)
        if ((st = need_float(ctx, dev_in(ctx, i), i == 1 ? "scale" : "bias")) != AV_STATUS_OK)
            return st;
    int64_t rows = x->shape[0] * groups, len = rows ? av__cuda_numel(x) / rows : 0;
    s->dt = x->dtype;
    s->a.eps = av__attr_float(node_of(ctx), "epsilon", 1e-5f);
    pmap *m[2] = {&s->a.ps, &s->a.pb};
    for (int i = 0; i < 2; i++) {
        m[i]->mode = PM_GROUPED;
        m[i]->half = dev_in(ctx, 1 + i)->dtype == AV__DT_F16;
        m[i]->pdiv = pdiv;
        m[i]->pmod = pmod;
    }
    int64_t shape[2] = {rows, len};
    rv_init(&s->v, 2, shape, 2u);
    s->launch = rows > 0 && len > 0 && pdiv > 0 && pmod > 0;
    return AV_STATUS_OK;
}

int64_t spatial_of(const av__tensor *x)
{
    int64_t s = 1;
    for (int d = 2; d < x->ndim; d++)
        s *= x->shape[d];
    return s;
}

av_status instancenorm_plan(const av__cuda_ctx *ctx, rownorm_state *s)
{
    const av__tensor *x = dev_in(ctx, 0);
    if (x->ndim < 2)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "rank %d", x->ndim);
    int64_t C = x->shape[1], S = spatial_of(x);
    return grouped_plan(ctx, s, C, S, C); // row n * C + c: parameter c
}

av_status groupnorm_plan(const av__cuda_ctx *ctx, rownorm_state *s)
{
    const av__tensor *x = dev_in(ctx, 0);
    int64_t G = av__attr_int(node_of(ctx), "num_groups", 0);
    if (x->ndim < 2 || G <= 0 || x->shape[1] % G != 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad num_groups or rank");
    int64_t C = x->shape[1], S = spatial_of(x), len = C / G * S;
    bool per_group = av__cuda_numel(dev_in(ctx, 1)) == G && ctx->op->opset < 21;
    return per_group ? grouped_plan(ctx, s, G, len, G) : grouped_plan(ctx, s, G, S, C);
}

av_status rownorm_run(const av__cuda_ctx *ctx, const rownorm_state *s)
{
    if (!s->launch)
        return AV_STATUS_OK;
    const rview &v = s->v;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    const void *scale = ctx->op->in[1]->data;
    const void *bias = dev_in(ctx, 2) ? ctx->op->in[2]->data : NULL;
    void *mean = dev_out(ctx, 1) ? ctx->op->out[1]->data : NULL;
    void *inv = dev_out(ctx, 2) ? ctx->op->out[2]->data : NULL;
    unsigned g = rv_grid(v);
    cudaStream_t st = ctx->env->stream;
    if (s->dt == AV__DT_F16)
        rownorm_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, (const __half *)x, v, s->a,
                                                      scale, bias, mean, inv);
    else
        rownorm_kernel<float><<<g, THREADS, 0, st>>>((float *)y, (const float *)x, v, s->a,
                                                     scale, bias, mean, inv);
    return AV__CUDA_CHECK_LAUNCH(ctx, node_of(ctx)->op_type);
}

// ---- BatchNormalization (inference) -----------------------------------------------------------

struct bn_args {
    int64_t total, pdiv, pmod;
    double eps;
    int half[4]; // scale, bias, mean, var stored as float16
};

template <typename T>
__global__ void batchnorm_kernel(T *y, const T *x, bn_args a, const void *scale, const void *bias,
                                 const void *mean, const void *var)
{
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < a.total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t p = (e / a.pdiv) % a.pmod;
        double k = ld_param(scale, a.half[0], p) / sqrt(ld_param(var, a.half[3], p) + a.eps);
        double c = ld_param(mean, a.half[2], p), b = ld_param(bias, a.half[1], p);
        st_acc(y, e, (ld_acc(x, e) - c) * k + b);
    }
}

struct bn_state {
    owned own;
    bn_args a;
    av__dtype dt;
};

av_status batchnorm_plan(const av__cuda_ctx *ctx, bn_state *s)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    av_status st = need_float(ctx, x, "X");
    if (st != AV_STATUS_OK)
        return st;
    if (!y || y->dtype != x->dtype || x->ndim < 2)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected node");
    for (int i = 1; i < ctx->op->n_out; i++)
        if (dev_out(ctx, i))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "training-mode outputs");
    if (av__attr_int(node_of(ctx), "training_mode", 0) != 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "training_mode");
    for (int i = 1; i < 5; i++) {
        if (!dev_in(ctx, i))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "input %d missing", i);
        if ((st = need_float(ctx, dev_in(ctx, i), "parameter")) != AV_STATUS_OK)
            return st;
        s->a.half[i - 1] = dev_in(ctx, i)->dtype == AV__DT_F16;
    }
    int64_t C = x->shape[1], S = spatial_of(x);
    bool spatial0 = ctx->op->opset < 9 && av__attr_int(node_of(ctx), "spatial", 1) == 0;
    s->dt = x->dtype;
    s->a.total = av__cuda_numel(x);
    s->a.pdiv = spatial0 ? 1 : S;
    s->a.pmod = spatial0 ? C * S : C;
    s->a.eps = av__attr_float(node_of(ctx), "epsilon", 1e-5f);
    return AV_STATUS_OK;
}

av_status batchnorm_run(const av__cuda_ctx *ctx, const bn_state *s)
{
    if (s->a.total == 0)
        return AV_STATUS_OK;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    unsigned g = av__cuda_blocks(s->a.total, THREADS);
    cudaStream_t st = ctx->env->stream;
    const void *sc = ctx->op->in[1]->data, *b = ctx->op->in[2]->data, *m = ctx->op->in[3]->data,
               *v = ctx->op->in[4]->data;
    if (s->dt == AV__DT_F16)
        batchnorm_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, (const __half *)x, s->a, sc, b,
                                                        m, v);
    else
        batchnorm_kernel<float><<<g, THREADS, 0, st>>>((float *)y, (const float *)x, s->a, sc, b,
                                                       m, v);
    return AV__CUDA_CHECK_LAUNCH(ctx, "BatchNormalization");
}

// ---- CumSum -----------------------------------------------------------------------------------

constexpr int SCAN_K = 8; // elements per thread per step of the row scan

// inner == 1: one block per line; each step scans THREADS * SCAN_K elements (per-thread runs,
// then a block scan of the run totals in shared memory) and carries the total on.
template <typename T, typename A>
__global__ void cumsum_rows_kernel(T *y, const T *x, int64_t lines, int64_t n, int excl, int rev)
{
    __shared__ A sm[THREADS];
    int t = threadIdx.x;
    for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
        const T *xl = x + line * n;
        T *yl = y + line * n;
        A carry = 0;
        for (int64_t s0 = 0; s0 < n; s0 += (int64_t)THREADS * SCAN_K) {
            int64_t first = s0 + (int64_t)t * SCAN_K;
            A inc[SCAN_K];
            A run = 0;
            for (int k = 0; k < SCAN_K; k++) {
                int64_t s = first + k;
                if (s < n)
                    run += ld_acc(xl, rev ? n - 1 - s : s);
                inc[k] = run;
            }
            sm[t] = run;
            __syncthreads();
            for (int off = 1; off < THREADS; off <<= 1) {
                A u = t >= off ? sm[t - off] : A(0);
                __syncthreads();
                sm[t] += u;
                __syncthreads();
            }
            A before = t > 0 ? sm[t - 1] : A(0);
            A total = sm[THREADS - 1];
            __syncthreads();
            for (int k = 0; k < SCAN_K; k++) {
                int64_t s = first + k;
                if (s < n) {
                    A local = excl ? (k > 0 ? inc[k - 1] : A(0)) : inc[k];
                    st_acc(yl, rev ? n - 1 - s : s, carry + before + local);
                }
            }
            carry += total;
        }
    }
}

// inner > 1: one thread per line, walking it in order (the CPU's own order of additions).
template <typename T, typename A>
__global__ void cumsum_cols_kernel(T *y, const T *x, int64_t outer, int64_t n, int64_t inner,
                                   int excl, int rev)
{
    int64_t lines = outer * inner;
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < lines;
         c += (int64_t)gridDim.x * blockDim.x) {
        int64_t base = (c / inner) * n * inner + c % inner;
        A acc = 0;
        for (int64_t s = 0; s < n; s++) {
            int64_t off = base + (rev ? n - 1 - s : s) * inner;
            A v = ld_acc(x, off);
            if (excl) {
                st_acc(y, off, acc);
                acc += v;
            } else {
                acc += v;
                st_acc(y, off, acc);
            }
        }
    }
}

struct cumsum_state {
    owned own;
    int64_t outer, n, inner;
    int excl, rev;
    av__dtype dt;
};

av_status cumsum_plan(const av__cuda_ctx *ctx, cumsum_state *s)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0), *h = host_in(ctx, 1);
    if (!y || y->dtype != x->dtype || x->ndim < 1)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "unexpected node");
    if (!is_float(x->dtype) && x->dtype != AV__DT_I32 && x->dtype != AV__DT_I64)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "CumSum of %s",
                             av__dtype_name(x->dtype));
    if (!h || !h->data || av__tensor_count(h) != 1 ||
        (h->dtype != AV__DT_I32 && h->dtype != AV__DT_I64))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                             "axis (input 1) is not known when the plan is made");
    int axis = av__normalize_axis(av__tensor_get_i64(h, 0), x->ndim);
    if (axis < 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
    s->outer = 1;
    s->inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (d < axis)
            s->outer *= x->shape[d];
        else if (d > axis)
            s->inner *= x->shape[d];
    }
    s->n = x->shape[axis];
    s->excl = av__attr_int(node_of(ctx), "exclusive", 0) != 0;
    s->rev = av__attr_int(node_of(ctx), "reverse", 0) != 0;
    s->dt = x->dtype;
    return AV_STATUS_OK;
}

template <typename T, typename A> void cumsum_launch(const av__cuda_ctx *ctx, const cumsum_state *s)
{
    T *y = (T *)ctx->op->out[0]->data;
    const T *x = (const T *)ctx->op->in[0]->data;
    cudaStream_t st = ctx->env->stream;
    if (s->inner == 1) {
        int64_t blocks = s->outer < 65535LL * 32 ? s->outer : 65535LL * 32;
        cumsum_rows_kernel<T, A><<<(unsigned)blocks, THREADS, 0, st>>>(y, x, s->outer, s->n,
                                                                       s->excl, s->rev);
    } else {
        cumsum_cols_kernel<T, A><<<av__cuda_blocks(s->outer * s->inner, THREADS), THREADS, 0,
                                   st>>>(y, x, s->outer, s->n, s->inner, s->excl, s->rev);
    }
}

av_status cumsum_run(const av__cuda_ctx *ctx, const cumsum_state *s)
{
    if (s->outer * s->n * s->inner == 0)
        return AV_STATUS_OK;
    switch (s->dt) {
    case AV__DT_F32: cumsum_launch<float, double>(ctx, s); break;
    case AV__DT_F16: cumsum_launch<__half, double>(ctx, s); break;
    case AV__DT_I32: cumsum_launch<int32_t, uint64_t>(ctx, s); break;
    default: cumsum_launch<int64_t, uint64_t>(ctx, s); break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "CumSum");
}

} // namespace

// ---- the table --------------------------------------------------------------------------------

#define AV__CUDA_STATEFUL(name, S, plan, run)                                                  \
    {                                                                                          \
        "", name, supports_t<S, plan>, prepare_t<S, plan>, release_state, NULL, run_t<S, run> \
    }

const av__cuda_kernel av__cuda_kernels_reduce[] = {
    AV__CUDA_STATEFUL("ReduceSum", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceMean", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceMax", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceMin", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceProd", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceL1", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceL2", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceSumSquare", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceLogSum", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ReduceLogSumExp", reduce_state, reduce_plan, reduce_run),
    AV__CUDA_STATEFUL("ArgMax", arg_state, arg_plan, arg_run),
    AV__CUDA_STATEFUL("ArgMin", arg_state, arg_plan, arg_run),
    AV__CUDA_STATEFUL("Softmax", lines_state, softmax_plan, lines_run),
    AV__CUDA_STATEFUL("LogSoftmax", lines_state, softmax_plan, lines_run),
    AV__CUDA_STATEFUL("Hardmax", lines_state, softmax_plan, lines_run),
    AV__CUDA_STATEFUL("CumSum", cumsum_state, cumsum_plan, cumsum_run),
    AV__CUDA_STATEFUL("LayerNormalization", rownorm_state, layernorm_plan, rownorm_run),
    AV__CUDA_STATEFUL("InstanceNormalization", rownorm_state, instancenorm_plan, rownorm_run),
    AV__CUDA_STATEFUL("GroupNormalization", rownorm_state, groupnorm_plan, rownorm_run),
    AV__CUDA_STATEFUL("BatchNormalization", bn_state, batchnorm_plan, batchnorm_run),
    AV__CUDA_STATEFUL("LpNormalization", lines_state, lpnorm_plan, lines_run),
    AV__CUDA_STATEFUL("MeanVarianceNormalization", lines_state, mvn_plan, lines_run),
};
const int av__cuda_kernels_reduce_count =
    (int)(sizeof av__cuda_kernels_reduce / sizeof av__cuda_kernels_reduce[0]);
