// CUDA kernels of the shape family (the CPU ops are in src/ops/shape*.c; this file mirrors their
// semantics exactly, data errors aside: see Gather).
//
// Every data-movement op is dtype-generic: elements are moved as 1-, 2-, 4- or 8-byte words.
// The per-node index math (shapes, strides, slice starts, pad maps, resize taps) is worked out on
// the host by a plan function, once in supports() (to decide) and once in prepare() (to keep);
// run() only launches. Most ops reduce to one or more strided copies of a "view": element
// (i_0, ..., i_{n-1}) goes from src + sum(i_d * ss[d]) to dst + sum(i_d * ds[d]) (strides in
// elements, src strides may be 0 or negative), with size-1 dims dropped and contiguous
// neighbours merged on the host.
//
// Values the CPU reads from value inputs (Slice starts/ends/axes/steps, Pad pads/axes, Split's
// split, Tile's repeats, Range's scalars, Resize's scales/sizes/roi) come from ctx->host_in; a
// node whose such input is not known at plan time is declined (CPU fallback). Inputs the CPU
// reads only at run time (Pad's constant_value, Trilu's k) are read on the device.
//
// Not here (CPU fallback): Constant, ReverseSequence, GatherND, ScatterND, ScatterElements,
// Scatter, OneHot, Random*; float64 / bfloat16 interpolation in Resize.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cuda/cuda_op.h"

namespace {

constexpr int THREADS = 256;
constexpr int VD = 2 * AV__MAX_DIMS; // dims of a copy view (Tile uses two per tensor dim)

// ---- host helpers ---------------------------------------------------------------------------

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

bool is_int_type(av__dtype t)
{
    switch (t) {
    case AV__DT_U8: case AV__DT_I8: case AV__DT_U16: case AV__DT_I16: case AV__DT_I32:
    case AV__DT_I64: case AV__DT_U32: case AV__DT_U64:
        return true;
    default:
        return false;
    }
}

// The host tensor of value input i, or UNSUPPORTED when it is not known at plan time.
av_status need_host(const av__cuda_ctx *ctx, int i, const char *what, const av__tensor **t)
{
    *t = host_in(ctx, i);
    if (!*t || (!(*t)->data && av__tensor_count(*t) > 0))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                             "%s (input %d) is not known when the plan is made", what, i);
    return AV_STATUS_OK;
}

// Values of integer value input i (rank <= 1, at most max of them).
av_status read_ints(const av__cuda_ctx *ctx, int i, const char *what, int64_t *v, int max, int *n)
{
    const av__tensor *t;
    *n = 0;
    av_status st = need_host(ctx, i, what, &t);
    if (st != AV_STATUS_OK)
        return st;
    int64_t count = av__tensor_count(t);
    if (!is_int_type(t->dtype) || t->ndim > 1 || count > max)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                             "%s (input %d) is not a short integer list", what, i);
    for (int64_t k = 0; k < count; k++)
        v[k] = av__tensor_get_i64(t, k);
    *n = (int)count;
    return AV_STATUS_OK;
}

void strides_of(int nd, const int64_t *shape, int64_t *st)
{
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        st[d] = s;
        s *= shape[d];
    }
}

// Element sizes the kernels move.
av_status check_esize(const av__cuda_ctx *ctx, av__dtype t)
{
    size_t es = av__dtype_size(t);
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "element type %s is not supported",
                             av__dtype_name(t));
    return AV_STATUS_OK;
}

// One element of dtype t holding v (converted as the CPU converts), as raw bits.
uint64_t value_bits(av__dtype t, double v)
{
    uint64_t bits = 0;
    av__tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.dtype = t;
    tmp.data = &bits;
    av__tensor_set_f64(&tmp, 0, v);
    return bits;
}

// ---- state: a plan made on the host, plus what it owns -------------------------------------

// First member of every state struct: what release_state() frees.
struct owned {
    void *host; // av__malloc'd
    void *dev;  // cudaMalloc'd
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

// supports(): the plan is made and thrown away (prepare = false: no device memory).
template <typename S, av_status (*PLAN)(const av__cuda_ctx *, S *, bool)>
av_status supports_t(const av__cuda_ctx *ctx)
{
    S *s = (S *)av__calloc(1, sizeof(S));
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    av_status st = PLAN(ctx, s, false);
    release_state(s);
    return st;
}

template <typename S, av_status (*PLAN)(const av__cuda_ctx *, S *, bool)>
av_status prepare_t(const av__cuda_ctx *ctx, void **out)
{
    *out = NULL;
    S *s = (S *)av__calloc(1, sizeof(S));
    if (!s)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    av_status st = PLAN(ctx, s, true);
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

unsigned grid_for(int64_t n) { return av__cuda_blocks(n, THREADS); }

// Calls f(E()) with E the unsigned word of es bytes (1, 2, 4, else 8): the kernels move
// elements as words.
template <typename F> void by_esize(size_t es, F f)
{
    switch (es) {
    case 1: f(uint8_t()); break;
    case 2: f(uint16_t()); break;
    case 4: f(uint32_t()); break;
    default: f(uint64_t()); break;
    }
}

// ---- strided copies -------------------------------------------------------------------------

struct view {
    int nd;
    int64_t total; // elements (0: nothing to do)
    int64_t shape[VD], ss[VD], ds[VD];
};

// A view of nd dims; ds NULL means the contiguous strides of shape. Size-1 dims are dropped and
// neighbours contiguous on both sides merged (innermost first), as the CPU's copy engine does.
void view_make(view *v, int nd, const int64_t *shape, const int64_t *ds, const int64_t *ss)
{
    int64_t cs[VD];
    if (!ds) {
        strides_of(nd, shape, cs);
        ds = cs;
    }
    v->nd = 0;
    v->total = 1;
    for (int d = 0; d < nd; d++)
        v->total *= shape[d];
    if (v->total == 0)
        return;
    int64_t rn[VD], rs[VD], rd[VD];
    int m = 0;
    for (int d = nd - 1; d >= 0; d--) {
        if (shape[d] == 1)
            continue;
        if (m > 0 && ss[d] == rs[m - 1] * rn[m - 1] && ds[d] == rd[m - 1] * rn[m - 1]) {
            rn[m - 1] *= shape[d];
            continue;
        }
        rn[m] = shape[d];
        rs[m] = ss[d];
        rd[m] = ds[d];
        m++;
    }
    v->nd = m;
    for (int d = 0; d < m; d++) {
        v->shape[d] = rn[m - 1 - d];
        v->ss[d] = rs[m - 1 - d];
        v->ds[d] = rd[m - 1 - d];
    }
}

template <typename E> __global__ void copy_view_kernel(E *dst, const E *src, view v)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < v.total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, so = 0, dof = 0;
        for (int d = v.nd - 1; d >= 0; d--) {
            int64_t q = rem / v.shape[d];
            int64_t k = rem - q * v.shape[d];
            rem = q;
            so += k * v.ss[d];
            dof += k * v.ds[d];
        }
        dst[dof] = src[so];
    }
}

av_status launch_copy(const av__cuda_ctx *ctx, size_t es, void *dst, const void *src,
                      const view &v)
{
    if (v.total == 0)
        return AV_STATUS_OK;
    cudaStream_t s = ctx->env->stream;
    if (v.nd == 0 || (v.nd == 1 && v.ss[0] == 1 && v.ds[0] == 1))
        return av__cuda_check(ctx,
                              cudaMemcpyAsync(dst, src, (size_t)v.total * es,
                                              cudaMemcpyDeviceToDevice, s),
                              "strided copy");
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return av__cuda_fail(ctx, AV_STATUS_INTERNAL, "copy of %zu-byte elements", es);
    by_esize(es, [&](auto w) {
        typedef decltype(w) E;
        copy_view_kernel<E><<<grid_for(v.total), THREADS, 0, s>>>((E *)dst, (const E *)src, v);
    });
    return AV__CUDA_CHECK_LAUNCH(ctx, "strided copy");
}

// One copy of a node: view v from input `in` (at element offset src_off) to output `out` (at
// dst_off).
struct copy_part {
    int in, out;
    int64_t src_off, dst_off;
    view v;
};

struct copy_state {
    owned own; // own.host = parts
    int n;
    size_t es;
    copy_part *parts;
};

copy_part *copy_alloc(const av__cuda_ctx *ctx, copy_state *s, int n)
{
    s->parts = (copy_part *)av__calloc(n > 0 ? (size_t)n : 1, sizeof(copy_part));
    s->own.host = s->parts;
    s->n = 0;
    if (!s->parts)
        av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    return s->parts;
}

// Common start of a copy plan: input 0's element size, room for n parts.
av_status copy_begin(const av__cuda_ctx *ctx, copy_state *s, int n)
{
    av_status st = check_esize(ctx, dev_in(ctx, 0)->dtype);
    if (st != AV_STATUS_OK)
        return st;
    s->es = av__dtype_size(dev_in(ctx, 0)->dtype);
    return copy_alloc(ctx, s, n) ? AV_STATUS_OK : AV_STATUS_OUT_OF_MEMORY;
}

void copy_add(copy_state *s, int in, int out, int64_t src_off, int64_t dst_off, int nd,
              const int64_t *shape, const int64_t *ds, const int64_t *ss)
{
    copy_part *p = &s->parts[s->n];
    p->in = in;
    p->out = out;
    p->src_off = src_off;
    p->dst_off = dst_off;
    view_make(&p->v, nd, shape, ds, ss);
    if (p->v.total > 0)
        s->n++;
}

av_status copy_run(const av__cuda_ctx *ctx, const copy_state *s)
{
    for (int i = 0; i < s->n; i++) {
        const copy_part *p = &s->parts[i];
        int64_t es = (int64_t)s->es;
        const char *src = (const char *)ctx->op->in[p->in]->data + (ptrdiff_t)(p->src_off * es);
        char *dst = (char *)ctx->op->out[p->out]->data + (ptrdiff_t)(p->dst_off * es);
        av_status st = launch_copy(ctx, s->es, dst, src, p->v);
        if (st != AV_STATUS_OK)
            return st;
    }
    return AV_STATUS_OK;
}

// ---- Reshape, Flatten, Squeeze, Unsqueeze: the bytes unchanged -------------------------------

av_status bytes_run(const av__cuda_ctx *ctx)
{
    size_t bytes = (size_t)av__cuda_numel(ctx->op->in[0]) * av__dtype_size(ctx->op->in[0]->dtype);
    if (bytes == 0)
        return AV_STATUS_OK;
    return av__cuda_check(ctx,
                          cudaMemcpyAsync(ctx->op->out[0]->data, ctx->op->in[0]->data, bytes,
                                          cudaMemcpyDeviceToDevice, ctx->env->stream),
                          "copy");
}

// ---- Transpose ------------------------------------------------------------------------------

av_status transpose_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    int r = x->ndim, n, perm[AV__MAX_DIMS];
    const int64_t *p = av__attr_ints(node_of(ctx), "perm", &n);
    if (p && n != r)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "perm has %d values for rank %d", n, r);
    for (int d = 0; d < r; d++) {
        perm[d] = p ? av__normalize_axis(p[d], r) : r - 1 - d;
        if (perm[d] < 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad perm");
    }
    av_status st = copy_begin(ctx, s, 1);
    if (st != AV_STATUS_OK)
        return st;
    int64_t xs[AV__MAX_DIMS], ss[AV__MAX_DIMS];
    strides_of(r, x->shape, xs);
    for (int d = 0; d < r; d++)
        ss[d] = xs[perm[d]];
    copy_add(s, 0, 0, 0, 0, r, y->shape, NULL, ss);
    return AV_STATUS_OK;
}

// ---- Slice ----------------------------------------------------------------------------------

av_status slice_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    const av__node *nd = node_of(ctx);
    int r = x->ndim;
    int64_t starts[AV__MAX_DIMS], ends[AV__MAX_DIMS], axes[AV__MAX_DIMS], steps[AV__MAX_DIMS];
    int ns = 0, ne = 0, na = -1, nst = -1;
    av_status st;
    if (ctx->op->opset < 10) {
        const int64_t *a = av__attr_ints(nd, "starts", &ns);
        const int64_t *b = av__attr_ints(nd, "ends", &ne);
        int nc = 0;
        const int64_t *c = av__attr_ints(nd, "axes", &nc);
        if (!a || !b || ns > AV__MAX_DIMS || ne > AV__MAX_DIMS || nc > AV__MAX_DIMS)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad starts/ends/axes attributes");
        memcpy(starts, a, (size_t)ns * sizeof *a);
        memcpy(ends, b, (size_t)ne * sizeof *b);
        if (c) {
            na = nc;
            memcpy(axes, c, (size_t)nc * sizeof *c);
        }
    } else {
        st = read_ints(ctx, 1, "starts", starts, AV__MAX_DIMS, &ns);
        if (st == AV_STATUS_OK)
            st = read_ints(ctx, 2, "ends", ends, AV__MAX_DIMS, &ne);
        if (st == AV_STATUS_OK && dev_in(ctx, 3))
            st = read_ints(ctx, 3, "axes", axes, AV__MAX_DIMS, &na);
        if (st == AV_STATUS_OK && dev_in(ctx, 4))
            st = read_ints(ctx, 4, "steps", steps, AV__MAX_DIMS, &nst);
        if (st != AV_STATUS_OK)
            return st;
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "starts/ends/axes/steps differ in length");
    int64_t start[AV__MAX_DIMS], step[AV__MAX_DIMS], len[AV__MAX_DIMS];
    for (int d = 0; d < r; d++) {
        start[d] = 0;
        step[d] = 1;
        len[d] = x->shape[d];
    }
    // clamping exactly as the CPU's slice_params (src/ops/shape_copy.c)
    for (int i = 0; i < ns; i++) {
        int a = av__normalize_axis(na >= 0 ? axes[i] : i, r);
        if (a < 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
        int64_t dim = x->shape[a], s0 = starts[i], e = ends[i];
        int64_t k = nst >= 0 ? steps[i] : 1;
        if (k == 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "step 0");
        if (k == INT64_MIN)
            k = -INT64_MAX;
        if (s0 < 0)
            s0 += dim;
        if (e < 0)
            e += dim;
        int64_t n;
        if (dim == 0) {
            n = 0;
        } else if (k > 0) {
            s0 = s0 < 0 ? 0 : s0 > dim ? dim : s0;
            e = e < 0 ? 0 : e > dim ? dim : e;
            n = e > s0 ? (e - s0 - 1) / k + 1 : 0;
        } else {
            s0 = s0 < 0 ? 0 : s0 > dim - 1 ? dim - 1 : s0;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            n = s0 > e ? (s0 - e - 1) / -k + 1 : 0;
        }
        start[a] = n > 0 ? s0 : 0;
        step[a] = k;
        len[a] = n;
    }
    for (int d = 0; d < r; d++)
        if (len[d] != y->shape[d])
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "slice plan disagrees with the planned shape (dim %d)", d);
    st = copy_begin(ctx, s, 1);
    if (st != AV_STATUS_OK)
        return st;
    int64_t xs[AV__MAX_DIMS], ss[AV__MAX_DIMS], off = 0;
    strides_of(r, x->shape, xs);
    for (int d = 0; d < r; d++) {
        if (len[d] == 0)
            return AV_STATUS_OK; // empty output: no parts
        off += start[d] * xs[d];
        ss[d] = len[d] > 1 ? step[d] * xs[d] : 0; // one element: its stride is never used
    }
    copy_add(s, 0, 0, off, 0, r, len, NULL, ss);
    return AV_STATUS_OK;
}

// ---- Concat ---------------------------------------------------------------------------------

av_status concat_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    const av__tensor *y = dev_out(ctx, 0);
    int n = ctx->op->n_in;
    int64_t v = av__attr_int(node_of(ctx), "axis", 1);
    int axis = av__normalize_axis(v, y->ndim);
    if (axis < 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
    for (int i = 0; i < n; i++)
        if (!dev_in(ctx, i) || dev_in(ctx, i)->dtype != y->dtype)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "input %d missing or of another type",
                                 i);
    av_status st = copy_begin(ctx, s, n);
    if (st != AV_STATUS_OK)
        return st;
    int64_t ys[AV__MAX_DIMS], off = 0;
    strides_of(y->ndim, y->shape, ys);
    for (int i = 0; i < n; i++) {
        const av__tensor *t = dev_in(ctx, i);
        int64_t ts[AV__MAX_DIMS];
        strides_of(t->ndim, t->shape, ts);
        copy_add(s, i, 0, 0, off * ys[axis], t->ndim, t->shape, ys, ts);
        off += t->shape[axis];
    }
    if (off != y->shape[axis])
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "concat sizes disagree with the plan");
    return AV_STATUS_OK;
}

// ---- Split ----------------------------------------------------------------------------------

av_status split_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0);
    const av__node *nd = node_of(ctx);
    int n_out = ctx->op->n_out;
    int axis = av__normalize_axis(av__attr_int(nd, "axis", 0), x->ndim);
    if (axis < 0 || n_out < 1)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
    int64_t dim = x->shape[axis];
    int64_t *sizes = (int64_t *)av__calloc((size_t)n_out, sizeof(int64_t));
    if (!sizes)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    int n = -1;
    av_status st = AV_STATUS_OK;
    const av__attr *num = av__node_attr(nd, "num_outputs");
    if (dev_in(ctx, 1)) {
        st = read_ints(ctx, 1, "split", sizes, n_out, &n);
    } else if (ctx->op->opset < 13 && av__node_attr(nd, "split")) {
        const int64_t *a = av__attr_ints(nd, "split", &n);
        if (a && n == n_out)
            memcpy(sizes, a, (size_t)n * sizeof *a);
    } else if (ctx->op->opset >= 18 && num) {
        int64_t chunk = dim / n_out + (dim % n_out != 0);
        for (int i = 0; i < n_out; i++)
            sizes[i] = i < n_out - 1 ? chunk : dim - chunk * (n_out - 1);
        n = n_out;
    } else {
        for (int i = 0; i < n_out; i++)
            sizes[i] = dim / n_out;
        n = n_out;
    }
    if (st == AV_STATUS_OK && n != n_out)
        st = av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "split has %d sizes for %d outputs", n,
                           n_out);
    int64_t sum = 0;
    for (int i = 0; st == AV_STATUS_OK && i < n_out; i++) {
        const av__tensor *o = dev_out(ctx, i);
        if (sizes[i] < 0 || (o && o->shape[axis] != sizes[i]))
            st = av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "split sizes disagree with the plan");
        sum += sizes[i];
    }
    if (st == AV_STATUS_OK && sum != dim)
        st = av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "split sizes do not sum to the dimension");
    if (st == AV_STATUS_OK)
        st = copy_begin(ctx, s, n_out);
    if (st == AV_STATUS_OK) {
        int64_t xs[AV__MAX_DIMS], off = 0;
        strides_of(x->ndim, x->shape, xs);
        for (int i = 0; i < n_out; i++) {
            const av__tensor *o = dev_out(ctx, i);
            if (o)
                copy_add(s, 0, i, off * xs[axis], 0, x->ndim, o->shape, NULL, xs);
            off += sizes[i];
        }
    }
    av__free(sizes);
    return st;
}

// ---- Expand, Tile ---------------------------------------------------------------------------

av_status expand_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    int lead = y->ndim - x->ndim;
    if (lead < 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output rank below input rank");
    av_status st = copy_begin(ctx, s, 1);
    if (st != AV_STATUS_OK)
        return st;
    int64_t xs[AV__MAX_DIMS], ss[AV__MAX_DIMS];
    strides_of(x->ndim, x->shape, xs);
    for (int d = 0; d < y->ndim; d++) {
        int xd = d - lead;
        ss[d] = xd < 0 || x->shape[xd] == 1 ? 0 : xs[xd];
    }
    copy_add(s, 0, 0, 0, 0, y->ndim, y->shape, NULL, ss);
    return AV_STATUS_OK;
}

// The output as [r_0, n_0, r_1, n_1, ...]: each repeat dim reads the input with stride 0.
av_status tile_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    if (x->ndim != y->ndim)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "rank mismatch");
    av_status st = copy_begin(ctx, s, 1);
    if (st != AV_STATUS_OK)
        return st;
    int64_t xs[AV__MAX_DIMS], ys[AV__MAX_DIMS], shape[VD], ds[VD], ss[VD];
    strides_of(x->ndim, x->shape, xs);
    strides_of(y->ndim, y->shape, ys);
    for (int d = 0; d < x->ndim; d++) {
        if (x->shape[d] == 0)
            return AV_STATUS_OK; // empty output
        shape[2 * d] = y->shape[d] / x->shape[d];
        ds[2 * d] = x->shape[d] * ys[d];
        ss[2 * d] = 0;
        shape[2 * d + 1] = x->shape[d];
        ds[2 * d + 1] = ys[d];
        ss[2 * d + 1] = xs[d];
    }
    copy_add(s, 0, 0, 0, 0, 2 * x->ndim, shape, ds, ss);
    return AV_STATUS_OK;
}

// ---- DepthToSpace, SpaceToDepth -------------------------------------------------------------

av_status block_params(const av__cuda_ctx *ctx, int64_t *b, bool *crd)
{
    const av__tensor *x = dev_in(ctx, 0);
    *b = av__attr_int(node_of(ctx), "blocksize", 0);
    const char *mode = av__attr_string(node_of(ctx), "mode", "DCR");
    *crd = strcmp(mode, "CRD") == 0;
    if (x->ndim != 4 || *b <= 0 || (!*crd && strcmp(mode, "DCR") != 0))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad input rank, blocksize or mode");
    return AV_STATUS_OK;
}

av_status depth_to_space_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    int64_t b;
    bool crd;
    av_status st = block_params(ctx, &b, &crd);
    if (st == AV_STATUS_OK)
        st = copy_begin(ctx, s, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = dev_in(ctx, 0);
    int64_t n = x->shape[0], c = x->shape[1] / (b * b), h = x->shape[2], w = x->shape[3];
    int64_t hw = h * w;
    // output viewed as [N, C', H, b1, W, b2]; the input channel is b1*b*C' + b2*C' + c (DCR) or
    // c*b*b + b1*b + b2 (CRD)
    int64_t shape[6] = {n, c, h, b, w, b};
    int64_t ss[6] = {c * b * b * hw, crd ? b * b * hw : hw, w, crd ? b * hw : b * c * hw, 1,
                     crd ? hw : c * hw};
    copy_add(s, 0, 0, 0, 0, 6, shape, NULL, ss);
    return AV_STATUS_OK;
}

av_status space_to_depth_plan(const av__cuda_ctx *ctx, copy_state *s, bool)
{
    int64_t b;
    bool crd;
    av_status st = block_params(ctx, &b, &crd);
    if (st == AV_STATUS_OK)
        st = copy_begin(ctx, s, 1);
    if (st != AV_STATUS_OK)
        return st;
    const av__tensor *x = dev_in(ctx, 0);
    int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    // input [N, C, H', b1, W', b2] -> output [N, b1, b2, C, H', W']
    int64_t shape[6] = {n, b, b, c, h / b, w / b};
    int64_t ss[6] = {c * h * w, w, 1, h * w, b * w, b};
    copy_add(s, 0, 0, 0, 0, 6, shape, NULL, ss);
    return AV_STATUS_OK;
}

// ---- Gather ---------------------------------------------------------------------------------

struct gather_args {
    int64_t total, nidx, dim, inner;
};

struct gather_state {
    owned own;
    gather_args a;
    size_t es;
    bool idx64;
};

// An index out of range (the CPU's data error) reads as zero here: the kernel cannot report it.
template <typename E, typename I>
__global__ void gather_kernel(E *y, const E *x, const I *ind, gather_args a)
{
    for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; u < a.total;
         u += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = u % a.inner, t = u / a.inner;
        int64_t j = t % a.nidx, o = t / a.nidx;
        int64_t v = (int64_t)ind[j];
        if (v < 0)
            v += a.dim;
        y[u] = v >= 0 && v < a.dim ? x[(o * a.dim + v) * a.inner + i] : E(0);
    }
}

// Constant indices are checked here: a node with one out of range goes to the CPU, which
// reports it.
av_status check_const_indices(const av__cuda_ctx *ctx, int i, int64_t dim)
{
    const av__tensor *h = host_in(ctx, i);
    if (!h || !h->data)
        return AV_STATUS_OK;
    int64_t n = av__tensor_count(h);
    for (int64_t k = 0; k < n; k++) {
        int64_t v = av__tensor_get_i64(h, k);
        if (v < -dim || v >= dim)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "index %lld out of range (left to the CPU, which reports it)",
                                 (long long)v);
    }
    return AV_STATUS_OK;
}

av_status index_type(const av__cuda_ctx *ctx, int i, bool *idx64)
{
    av__dtype t = dev_in(ctx, i)->dtype;
    if (t != AV__DT_I64 && t != AV__DT_I32)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "indices of type %s", av__dtype_name(t));
    *idx64 = t == AV__DT_I64;
    return AV_STATUS_OK;
}

av_status gather_plan(const av__cuda_ctx *ctx, gather_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *ind = dev_in(ctx, 1);
    int axis = av__normalize_axis(av__attr_int(node_of(ctx), "axis", 0), x->ndim);
    if (axis < 0)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
    av_status st = check_esize(ctx, x->dtype);
    if (st == AV_STATUS_OK)
        st = index_type(ctx, 1, &s->idx64);
    if (st == AV_STATUS_OK)
        st = check_const_indices(ctx, 1, x->shape[axis]);
    if (st != AV_STATUS_OK)
        return st;
    s->es = av__dtype_size(x->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++)
        inner *= x->shape[d];
    s->a.dim = x->shape[axis];
    s->a.nidx = av__cuda_numel(ind);
    s->a.inner = inner;
    s->a.total = outer * s->a.nidx * inner;
    return AV_STATUS_OK;
}

template <typename I>
void gather_launch(const av__cuda_ctx *ctx, const gather_state *s, unsigned g)
{
    cudaStream_t st = ctx->env->stream;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    const I *ind = (const I *)ctx->op->in[1]->data;
    by_esize(s->es, [&](auto w) {
        typedef decltype(w) E;
        gather_kernel<E, I><<<g, THREADS, 0, st>>>((E *)y, (const E *)x, ind, s->a);
    });
}

av_status gather_run(const av__cuda_ctx *ctx, const gather_state *s)
{
    if (s->a.total == 0)
        return AV_STATUS_OK;
    unsigned g = grid_for(s->a.total);
    if (s->idx64)
        gather_launch<int64_t>(ctx, s, g);
    else
        gather_launch<int32_t>(ctx, s, g);
    return AV__CUDA_CHECK_LAUNCH(ctx, "Gather");
}

// ---- GatherElements -------------------------------------------------------------------------

struct gather_el_args {
    int nd, axis;
    int64_t total, dim;
    int64_t ishape[AV__MAX_DIMS], xs[AV__MAX_DIMS];
};

struct gather_el_state {
    owned own;
    gather_el_args a;
    size_t es;
    bool idx64;
};

template <typename E, typename I>
__global__ void gather_el_kernel(E *y, const E *x, const I *ind, gather_el_args a)
{
    for (int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; p < a.total;
         p += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = p, off = 0;
        for (int d = a.nd - 1; d >= 0; d--) {
            int64_t q = rem / a.ishape[d];
            if (d != a.axis)
                off += (rem - q * a.ishape[d]) * a.xs[d];
            rem = q;
        }
        int64_t v = (int64_t)ind[p];
        if (v < 0)
            v += a.dim;
        y[p] = v >= 0 && v < a.dim ? x[off + v * a.xs[a.axis]] : E(0);
    }
}

av_status gather_el_plan(const av__cuda_ctx *ctx, gather_el_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *ind = dev_in(ctx, 1);
    int axis = av__normalize_axis(av__attr_int(node_of(ctx), "axis", 0), x->ndim);
    if (axis < 0 || ind->ndim != x->ndim)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis or rank mismatch");
    av_status st = check_esize(ctx, x->dtype);
    if (st == AV_STATUS_OK)
        st = index_type(ctx, 1, &s->idx64);
    if (st == AV_STATUS_OK)
        st = check_const_indices(ctx, 1, x->shape[axis]);
    if (st != AV_STATUS_OK)
        return st;
    s->es = av__dtype_size(x->dtype);
    s->a.nd = x->ndim;
    s->a.axis = axis;
    s->a.dim = x->shape[axis];
    s->a.total = av__cuda_numel(ind);
    memcpy(s->a.ishape, ind->shape, sizeof s->a.ishape);
    strides_of(x->ndim, x->shape, s->a.xs);
    return AV_STATUS_OK;
}

template <typename I>
void gather_el_launch(const av__cuda_ctx *ctx, const gather_el_state *s, unsigned g)
{
    cudaStream_t st = ctx->env->stream;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    const I *ind = (const I *)ctx->op->in[1]->data;
    by_esize(s->es, [&](auto w) {
        typedef decltype(w) E;
        gather_el_kernel<E, I><<<g, THREADS, 0, st>>>((E *)y, (const E *)x, ind, s->a);
    });
}

av_status gather_el_run(const av__cuda_ctx *ctx, const gather_el_state *s)
{
    if (s->a.total == 0)
        return AV_STATUS_OK;
    unsigned g = grid_for(s->a.total);
    if (s->idx64)
        gather_el_launch<int64_t>(ctx, s, g);
    else
        gather_el_launch<int32_t>(ctx, s, g);
    return AV__CUDA_CHECK_LAUNCH(ctx, "GatherElements");
}

// ---- Pad ------------------------------------------------------------------------------------

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

struct pad_args {
    int nd, mode;
    int64_t total;
    int64_t out[AV__MAX_DIMS], lead[AV__MAX_DIMS], len[AV__MAX_DIMS], crop0[AV__MAX_DIMS],
        xs[AV__MAX_DIMS];
};

struct pad_state {
    owned own;
    pad_args a;
    size_t es;
    uint64_t cbits;  // the constant when it does not come from input 2
    bool cinput;     // the constant is input 2 (one element, on the device)
};

// Input index read for output index o along dim d (the CPU's pad_map), or -1: the constant.
__device__ int64_t pad_map(const pad_args &a, int d, int64_t o)
{
    int64_t n = a.len[d], j = o - a.lead[d];
    if (j >= 0 && j < n)
        return a.crop0[d] + j;
    switch (a.mode) {
    case PAD_EDGE:
        j = j < 0 ? 0 : n - 1;
        break;
    case PAD_REFLECT:
        if (n == 1) {
            j = 0;
        } else {
            int64_t period = 2 * (n - 1);
            j %= period;
            if (j < 0)
                j += period;
            if (j >= n)
                j = period - j;
        }
        break;
    case PAD_WRAP:
        j %= n;
        if (j < 0)
            j += n;
        break;
    default:
        return -1;
    }
    return a.crop0[d] + j;
}

template <typename E>
__global__ void pad_kernel(E *y, const E *x, const E *cptr, E cval, pad_args a)
{
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < a.total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = e, off = 0;
        bool constant = false;
        for (int d = a.nd - 1; d >= 0; d--) {
            int64_t q = rem / a.out[d];
            int64_t i = pad_map(a, d, rem - q * a.out[d]);
            rem = q;
            if (i < 0) {
                constant = true;
                break;
            }
            off += i * a.xs[d];
        }
        y[e] = constant ? (cptr ? *cptr : cval) : x[off];
    }
}

av_status pad_plan(const av__cuda_ctx *ctx, pad_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    const av__node *nd = node_of(ctx);
    int r = x->ndim;
    av_status st = check_esize(ctx, x->dtype);
    if (st != AV_STATUS_OK)
        return st;
    s->es = av__dtype_size(x->dtype);
    const char *mode = av__attr_string(nd, "mode", "constant");
    if (strcmp(mode, "constant") == 0)
        s->a.mode = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        s->a.mode = PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        s->a.mode = PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0)
        s->a.mode = PAD_WRAP;
    else
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "mode '%s'", mode);
    int64_t pads[2 * AV__MAX_DIMS], axes[AV__MAX_DIMS];
    int np = 0, na = -1;
    if (ctx->op->opset < 11) {
        const char *name = ctx->op->opset < 2 ? "paddings" : "pads";
        const int64_t *a = av__attr_ints(nd, name, &np);
        if (!a || np > 2 * AV__MAX_DIMS)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad '%s' attribute", name);
        memcpy(pads, a, (size_t)np * sizeof *a);
        s->cbits = value_bits(x->dtype, av__attr_float(nd, "value", 0.0f));
    } else {
        st = read_ints(ctx, 1, "pads", pads, 2 * AV__MAX_DIMS, &np);
        if (st == AV_STATUS_OK && dev_in(ctx, 3))
            st = read_ints(ctx, 3, "axes", axes, AV__MAX_DIMS, &na);
        if (st != AV_STATUS_OK)
            return st;
        const av__tensor *c = dev_in(ctx, 2);
        if (c && c->dtype != x->dtype)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "constant_value of another type");
        s->cinput = c && av__cuda_numel(c) == 1;
        s->cbits = 0;
    }
    int n_axes = na >= 0 ? na : r;
    if (np != 2 * n_axes)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "pads has %d values", np);
    int64_t begin[AV__MAX_DIMS] = {0}, end[AV__MAX_DIMS] = {0};
    for (int i = 0; i < n_axes; i++) {
        int a = na >= 0 ? av__normalize_axis(axes[i], r) : i;
        if (a < 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
        begin[a] = pads[i];
        end[a] = pads[i + n_axes];
    }
    s->a.nd = r;
    s->a.total = av__cuda_numel(y);
    strides_of(r, x->shape, s->a.xs);
    for (int d = 0; d < r; d++) {
        int64_t b = begin[d], e = end[d], dim = x->shape[d];
        s->a.crop0[d] = b < 0 ? -b : 0;
        s->a.len[d] = dim - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
        s->a.lead[d] = b > 0 ? b : 0;
        s->a.out[d] = s->a.len[d] + (b > 0 ? b : 0) + (e > 0 ? e : 0);
        if (s->a.len[d] < 0 || s->a.out[d] != y->shape[d] ||
            (s->a.mode != PAD_CONSTANT && s->a.len[d] == 0 && s->a.out[d] > 0))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "pads disagree with the plan");
    }
    return AV_STATUS_OK;
}

template <typename E> void pad_launch(const av__cuda_ctx *ctx, const pad_state *s)
{
    const E *cptr = s->cinput ? (const E *)ctx->op->in[2]->data : NULL;
    E cval;
    memcpy(&cval, &s->cbits, sizeof cval); // little-endian: the low bytes hold the element
    pad_kernel<E><<<grid_for(s->a.total), THREADS, 0, ctx->env->stream>>>(
        (E *)ctx->op->out[0]->data, (const E *)ctx->op->in[0]->data, cptr, cval, s->a);
}

av_status pad_run(const av__cuda_ctx *ctx, const pad_state *s)
{
    if (s->a.total == 0)
        return AV_STATUS_OK;
    if (s->a.nd == 0)
        return av__cuda_check(ctx,
                              cudaMemcpyAsync(ctx->op->out[0]->data, ctx->op->in[0]->data, s->es,
                                              cudaMemcpyDeviceToDevice, ctx->env->stream),
                              "Pad");
    switch (s->es) {
    case 1: pad_launch<uint8_t>(ctx, s); break;
    case 2: pad_launch<uint16_t>(ctx, s); break;
    case 4: pad_launch<uint32_t>(ctx, s); break;
    default: pad_launch<uint64_t>(ctx, s); break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "Pad");
}

// ---- ConstantOfShape, EyeLike ---------------------------------------------------------------

struct fill_state {
    owned own;
    int64_t total;
    size_t es;
    uint64_t bits;  // ConstantOfShape: the value; EyeLike: the one
    int64_t rows, cols, k;  // EyeLike
};

template <typename E> __global__ void fill_kernel(E *y, E v, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = v;
}

av_status constant_of_shape_plan(const av__cuda_ctx *ctx, fill_state *s, bool)
{
    const av__tensor *y = dev_out(ctx, 0);
    av_status st = check_esize(ctx, y->dtype);
    if (st != AV_STATUS_OK)
        return st;
    s->es = av__dtype_size(y->dtype);
    s->total = av__cuda_numel(y);
    s->bits = 0; // float32 0 by default: all-zero bits in any storage
    const av__attr *a = av__node_attr(node_of(ctx), "value");
    if (!a)
        return AV_STATUS_OK;
    if (a->type != AV__ATTR_TENSOR || !a->t || av__tensor_count(a->t) != 1)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad 'value' attribute");
    if (a->t->dtype == y->dtype)
        memcpy(&s->bits, a->t->data, s->es);
    else if (a->t->dtype == AV__DT_F32 && y->dtype == AV__DT_F16)
        s->bits = value_bits(AV__DT_F16, *(const float *)a->t->data);
    else
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "value of type %s stored as %s",
                             av__dtype_name(a->t->dtype), av__dtype_name(y->dtype));
    return AV_STATUS_OK;
}

template <typename E> void fill_launch(const av__cuda_ctx *ctx, const fill_state *s)
{
    E v;
    memcpy(&v, &s->bits, sizeof v);
    fill_kernel<E><<<grid_for(s->total), THREADS, 0, ctx->env->stream>>>(
        (E *)ctx->op->out[0]->data, v, s->total);
}

av_status fill_run(const av__cuda_ctx *ctx, const fill_state *s)
{
    if (s->total == 0)
        return AV_STATUS_OK;
    switch (s->es) {
    case 1: fill_launch<uint8_t>(ctx, s); break;
    case 2: fill_launch<uint16_t>(ctx, s); break;
    case 4: fill_launch<uint32_t>(ctx, s); break;
    default: fill_launch<uint64_t>(ctx, s); break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "fill");
}

template <typename E>
__global__ void eye_kernel(E *y, E one, int64_t rows, int64_t cols, int64_t k)
{
    int64_t n = rows * cols;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = e / cols, j = e - i * cols;
        y[e] = j - i == k ? one : E(0);
    }
}

av_status eye_like_plan(const av__cuda_ctx *ctx, fill_state *s, bool)
{
    const av__tensor *y = dev_out(ctx, 0);
    av_status st = check_esize(ctx, y->dtype);
    if (st != AV_STATUS_OK)
        return st;
    if (y->ndim != 2)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output rank %d", y->ndim);
    s->es = av__dtype_size(y->dtype);
    s->total = av__cuda_numel(y);
    s->rows = y->shape[0];
    s->cols = y->shape[1];
    s->k = av__attr_int(node_of(ctx), "k", 0);
    // beyond the matrix no element is on the diagonal (and j - i cannot reach such k)
    if (s->k >= s->cols || s->k <= -s->rows)
        s->k = s->cols;
    s->bits = value_bits(y->dtype, 1.0);
    return AV_STATUS_OK;
}

template <typename E> void eye_launch(const av__cuda_ctx *ctx, const fill_state *s)
{
    E one;
    memcpy(&one, &s->bits, sizeof one);
    eye_kernel<E><<<grid_for(s->total), THREADS, 0, ctx->env->stream>>>(
        (E *)ctx->op->out[0]->data, one, s->rows, s->cols, s->k);
}

av_status eye_like_run(const av__cuda_ctx *ctx, const fill_state *s)
{
    if (s->total == 0)
        return AV_STATUS_OK;
    switch (s->es) {
    case 1: eye_launch<uint8_t>(ctx, s); break;
    case 2: eye_launch<uint16_t>(ctx, s); break;
    case 4: eye_launch<uint32_t>(ctx, s); break;
    default: eye_launch<uint64_t>(ctx, s); break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "EyeLike");
}

// ---- Trilu ----------------------------------------------------------------------------------

struct trilu_state {
    owned own;
    int64_t total, rows, cols;
    size_t es;
    int upper;
    int kdt; // 0: no k input; 1: int32; 2: int64
};

// k is read on the device (a runtime input on the CPU too), clamped as the CPU clamps it.
template <typename E>
__global__ void trilu_kernel(E *y, const E *x, const void *kp, int kdt, int upper, int64_t total,
                             int64_t rows, int64_t cols)
{
    int64_t k = kdt == 1 ? (int64_t) * (const int32_t *)kp : kdt == 2 ? *(const int64_t *)kp : 0;
    int64_t lim = rows + cols;
    k = k < -lim ? -lim : k > lim ? lim : k;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t j = e % cols, i = (e / cols) % rows;
        bool keep = upper ? j >= i + k : j <= i + k;
        y[e] = keep ? x[e] : E(0);
    }
}

av_status trilu_plan(const av__cuda_ctx *ctx, trilu_state *s, bool)
{
    const av__tensor *x = dev_in(ctx, 0), *k = dev_in(ctx, 1);
    av_status st = check_esize(ctx, x->dtype);
    if (st != AV_STATUS_OK)
        return st;
    if (x->ndim < 2)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "rank %d", x->ndim);
    s->kdt = 0;
    if (k) {
        if (av__cuda_numel(k) != 1 || (k->dtype != AV__DT_I64 && k->dtype != AV__DT_I32))
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "k of type %s",
                                 av__dtype_name(k->dtype));
        s->kdt = k->dtype == AV__DT_I32 ? 1 : 2;
    }
    s->es = av__dtype_size(x->dtype);
    s->rows = x->shape[x->ndim - 2];
    s->cols = x->shape[x->ndim - 1];
    s->total = av__cuda_numel(x);
    s->upper = av__attr_int(node_of(ctx), "upper", 1) != 0;
    return AV_STATUS_OK;
}

template <typename E> void trilu_launch(const av__cuda_ctx *ctx, const trilu_state *s)
{
    const void *kp = s->kdt ? ctx->op->in[1]->data : NULL;
    trilu_kernel<E><<<grid_for(s->total), THREADS, 0, ctx->env->stream>>>(
        (E *)ctx->op->out[0]->data, (const E *)ctx->op->in[0]->data, kp, s->kdt, s->upper,
        s->total, s->rows, s->cols);
}

av_status trilu_run(const av__cuda_ctx *ctx, const trilu_state *s)
{
    if (s->total == 0)
        return AV_STATUS_OK;
    switch (s->es) {
    case 1: trilu_launch<uint8_t>(ctx, s); break;
    case 2: trilu_launch<uint16_t>(ctx, s); break;
    case 4: trilu_launch<uint32_t>(ctx, s); break;
    default: trilu_launch<uint64_t>(ctx, s); break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "Trilu");
}

// ---- Range ----------------------------------------------------------------------------------

struct range_state {
    owned own;
    av__dtype dt;
    int64_t n;
    double fa, fc;    // float types: start, delta
    int64_t ia, ic;   // integer types
};

// a + i * c rounded per operation as the CPU rounds it (no fused multiply-add).
template <typename T> __global__ void range_float_kernel(T *y, float a, float c, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        av__st<T>(y, i, __fadd_rn(a, __fmul_rn((float)i, c)));
}

__global__ void range_double_kernel(double *y, double a, double c, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __dadd_rn(a, __dmul_rn((double)i, c));
}

// Unsigned arithmetic: every value lies in [start, limit), intermediate wraps cancel.
template <typename I> __global__ void range_int_kernel(I *y, uint64_t a, uint64_t c, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = (I)(int64_t)(a + (uint64_t)i * c);
}

av_status range_plan(const av__cuda_ctx *ctx, range_state *s, bool)
{
    const av__tensor *h[3];
    for (int i = 0; i < 3; i++) {
        av_status st = need_host(ctx, i, i == 0 ? "start" : i == 1 ? "limit" : "delta", &h[i]);
        if (st != AV_STATUS_OK)
            return st;
        if (av__tensor_count(h[i]) != 1)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "input %d is not a scalar", i);
    }
    s->dt = dev_out(ctx, 0)->dtype;
    s->n = av__cuda_numel(dev_out(ctx, 0));
    switch (s->dt) {
    case AV__DT_F32: case AV__DT_F16:
        s->fa = (float)av__tensor_get_f64(h[0], 0);
        s->fc = (float)av__tensor_get_f64(h[2], 0);
        break;
    case AV__DT_F64:
        s->fa = av__tensor_get_f64(h[0], 0);
        s->fc = av__tensor_get_f64(h[2], 0);
        break;
    case AV__DT_I32: case AV__DT_I64:
        s->ia = av__tensor_get_i64(h[0], 0);
        s->ic = av__tensor_get_i64(h[2], 0);
        break;
    default:
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "Range of %s", av__dtype_name(s->dt));
    }
    return AV_STATUS_OK;
}

av_status range_run(const av__cuda_ctx *ctx, const range_state *s)
{
    if (s->n == 0)
        return AV_STATUS_OK;
    unsigned g = grid_for(s->n);
    cudaStream_t st = ctx->env->stream;
    void *y = ctx->op->out[0]->data;
    float fa = (float)s->fa, fc = (float)s->fc;
    uint64_t ia = (uint64_t)s->ia, ic = (uint64_t)s->ic;
    switch (s->dt) {
    case AV__DT_F32:
        range_float_kernel<float><<<g, THREADS, 0, st>>>((float *)y, fa, fc, s->n);
        break;
    case AV__DT_F16:
        range_float_kernel<__half><<<g, THREADS, 0, st>>>((__half *)y, fa, fc, s->n);
        break;
    case AV__DT_F64:
        range_double_kernel<<<g, THREADS, 0, st>>>((double *)y, s->fa, s->fc, s->n);
        break;
    case AV__DT_I32:
        range_int_kernel<int32_t><<<g, THREADS, 0, st>>>((int32_t *)y, ia, ic, s->n);
        break;
    default:
        range_int_kernel<int64_t><<<g, THREADS, 0, st>>>((int64_t *)y, ia, ic, s->n);
        break;
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "Range");
}

// ---- Shape, Size: values known at plan time, kept on the device -----------------------------

struct shape_state {
    owned own; // own.dev: the int64 values
    int64_t n;
};

av_status shape_plan(const av__cuda_ctx *ctx, shape_state *s, bool prepare)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    int64_t vals[AV__MAX_DIMS];
    bool is_size = strcmp(node_of(ctx)->op_type, "Size") == 0;
    if (y->dtype != AV__DT_I64)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output type %s",
                             av__dtype_name(y->dtype));
    if (is_size) {
        vals[0] = av__cuda_numel(x);
        s->n = 1;
    } else {
        int rank = x->ndim;
        int64_t b = 0, e = rank;
        if (ctx->op->opset >= 15) {
            b = av__attr_int(node_of(ctx), "start", 0);
            e = av__attr_int(node_of(ctx), "end", rank);
        }
        b = b < 0 ? b + rank : b;
        e = e < 0 ? e + rank : e;
        b = b < 0 ? 0 : b > rank ? rank : b;
        e = e < 0 ? 0 : e > rank ? rank : e;
        s->n = e > b ? e - b : 0;
        for (int64_t i = 0; i < s->n; i++)
            vals[i] = x->shape[b + i];
    }
    if (s->n != av__cuda_numel(y))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output size disagrees with the plan");
    if (!prepare || s->n == 0)
        return AV_STATUS_OK;
    av_status st = av__cuda_check(ctx, cudaMalloc(&s->own.dev, (size_t)s->n * sizeof(int64_t)),
                                  "Shape: device memory");
    if (st == AV_STATUS_OK)
        st = av__cuda_check(ctx,
                            cudaMemcpy(s->own.dev, vals, (size_t)s->n * sizeof(int64_t),
                                       cudaMemcpyHostToDevice),
                            "Shape: upload");
    return st;
}

av_status shape_run(const av__cuda_ctx *ctx, const shape_state *s)
{
    if (s->n == 0)
        return AV_STATUS_OK;
    return av__cuda_check(ctx,
                          cudaMemcpyAsync(ctx->op->out[0]->data, s->own.dev,
                                          (size_t)s->n * sizeof(int64_t),
                                          cudaMemcpyDeviceToDevice, ctx->env->stream),
                          "Shape");
}

// ---- Resize, Upsample -----------------------------------------------------------------------
//
// The per-axis source taps are worked out on the host exactly as the CPU does
// (src/ops/shape_resize.c) and uploaded once; a kernel then mixes, per output element, the
// product of its axes' taps. Nearest copies elements of any type; linear and cubic interpolate
// float32 / float16 in float.

enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC };
enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
       CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

struct rs_params {
    int mode, coord, nearest, ndim;
    int64_t in[AV__MAX_DIMS], out[AV__MAX_DIMS];
    double scale[AV__MAX_DIMS], len[AV__MAX_DIMS], roi0[AV__MAX_DIMS], roi1[AV__MAX_DIMS];
    double extrapolation, cubic_a;
    int exclude_outside;
};

// Taps of one output index along one axis; n = 0: outside the input (extrapolation_value).
struct axis_map {
    int64_t idx[4];
    float w[4];
    int n;
};

struct resize_args {
    int nd, mode;
    int64_t total;
    int64_t out[AV__MAX_DIMS], xs[AV__MAX_DIMS], moff[AV__MAX_DIMS];
    const axis_map *maps; // device
    float extrap;
    uint64_t extrap_bits;
};

struct resize_state {
    owned own; // own.dev = maps
    resize_args a;
    size_t es;
    av__dtype dt;
};

int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

// Float values of value input i (scales, roi); *n = 0 when absent or empty.
av_status read_floats(const av__cuda_ctx *ctx, int i, const char *what, double *v, int max,
                      int *n)
{
    *n = 0;
    const av__tensor *d = dev_in(ctx, i), *t;
    if (!d || av__cuda_numel(d) == 0)
        return AV_STATUS_OK;
    av_status st = need_host(ctx, i, what, &t);
    if (st != AV_STATUS_OK)
        return st;
    int64_t count = av__tensor_count(t);
    if (t->ndim != 1 || count > max ||
        (t->dtype != AV__DT_F32 && t->dtype != AV__DT_F16 && t->dtype != AV__DT_F64))
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad %s", what);
    for (int64_t k = 0; k < count; k++)
        v[k] = av__tensor_get_f64(t, k);
    *n = (int)count;
    return AV_STATUS_OK;
}

av_status rs_setup(const av__cuda_ctx *ctx, rs_params *p, bool upsample)
{
    const av__tensor *x = dev_in(ctx, 0);
    const av__node *nd = node_of(ctx);
    int64_t opset = ctx->op->opset;
    bool modern = !upsample && opset >= 11;
    const char *mode = av__attr_string(nd, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        p->mode = MODE_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        p->mode = MODE_LINEAR;
    else if (strcmp(mode, "cubic") == 0 && modern)
        p->mode = MODE_CUBIC;
    else
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "mode '%s'", mode);
    p->coord = CT_ASYMMETRIC;
    p->nearest = NM_SIMPLE;
    p->extrapolation = 0;
    p->cubic_a = -0.75;
    p->exclude_outside = 0;
    if (modern) {
        static const char *const coords[] = {"half_pixel",           "pytorch_half_pixel",
                                             "align_corners",        "asymmetric",
                                             "tf_half_pixel_for_nn", "tf_crop_and_resize"};
        static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil",
                                               "floor", "ceil"};
        p->coord = pick(av__attr_string(nd, "coordinate_transformation_mode", "half_pixel"),
                        coords, 6);
        p->nearest = pick(av__attr_string(nd, "nearest_mode", "round_prefer_floor"), nearests, 4);
        if (p->coord < 0 || p->nearest < 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED,
                                 "coordinate_transformation_mode or nearest_mode");
        p->extrapolation = av__attr_float(nd, "extrapolation_value", 0.0f);
        p->cubic_a = av__attr_float(nd, "cubic_coeff_a", -0.75f);
        p->exclude_outside = av__attr_int(nd, "exclude_outside", 0) != 0;
    }
    int r = x->ndim;
    p->ndim = r;
    int axes[AV__MAX_DIMS], na = r;
    for (int d = 0; d < r; d++) {
        axes[d] = d;
        p->in[d] = p->out[d] = x->shape[d];
        p->scale[d] = 1.0;
        p->len[d] = (double)x->shape[d];
        p->roi0[d] = 0.0;
        p->roi1[d] = 1.0;
    }
    if (modern && opset >= 18 && av__node_attr(nd, "axes")) {
        const int64_t *a = av__attr_ints(nd, "axes", &na);
        if (na > r)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "too many axes");
        for (int i = 0; i < na; i++) {
            axes[i] = av__normalize_axis(a[i], r);
            if (axes[i] < 0)
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "axis out of range");
        }
    }
    double scales[AV__MAX_DIMS], roi[2 * AV__MAX_DIMS];
    int64_t sizes[AV__MAX_DIMS];
    int ns = 0, nz = 0, nr = 0;
    av_status st = AV_STATUS_OK;
    if (upsample && opset < 9) {
        const float *f = av__attr_floats(nd, "scales", &ns);
        if (!f || ns > AV__MAX_DIMS)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad 'scales' attribute");
        for (int i = 0; i < ns; i++)
            scales[i] = f[i];
    } else if (!modern) {
        st = read_floats(ctx, 1, "scales", scales, AV__MAX_DIMS, &ns);
    } else {
        st = read_floats(ctx, 1, "roi", roi, 2 * AV__MAX_DIMS, &nr);
        if (st == AV_STATUS_OK)
            st = read_floats(ctx, 2, "scales", scales, AV__MAX_DIMS, &ns);
        if (st == AV_STATUS_OK && dev_in(ctx, 3) && av__cuda_numel(dev_in(ctx, 3)) > 0)
            st = read_ints(ctx, 3, "sizes", sizes, AV__MAX_DIMS, &nz);
    }
    if (st != AV_STATUS_OK)
        return st;
    if ((ns > 0) == (nz > 0) || (ns ? ns : nz) != na)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "scales/sizes do not match the axes");
    if (p->coord == CT_TF_CROP_AND_RESIZE && nr > 0) {
        if (nr != 2 * na)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "roi length");
        for (int i = 0; i < na; i++) {
            p->roi0[axes[i]] = roi[i];
            p->roi1[axes[i]] = roi[i + na];
        }
    }
    if (ns > 0) {
        for (int i = 0; i < na; i++) {
            int d = axes[i];
            double sc = scales[i];
            if (!(sc > 0) || isinf(sc))
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "bad scale");
            double len = (double)x->shape[d] * sc;
            if (p->coord == CT_TF_CROP_AND_RESIZE)
                len *= p->roi1[d] - p->roi0[d];
            double o = floor(len);
            if (!(o >= 0 && o < 4.6e18))
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "output size out of range");
            p->out[d] = (int64_t)o;
            p->scale[d] = sc;
            p->len[d] = len;
        }
    } else {
        const char *policy = modern && opset >= 18
                                 ? av__attr_string(nd, "keep_aspect_ratio_policy", "stretch")
                                 : "stretch";
        int keep = strcmp(policy, "not_larger") == 0    ? 1
                   : strcmp(policy, "not_smaller") == 0 ? 2
                                                        : 0;
        if (!keep && strcmp(policy, "stretch") != 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "keep_aspect_ratio_policy");
        double common = keep == 1 ? INFINITY : 0;
        for (int i = 0; i < na; i++) {
            int d = axes[i];
            if (sizes[i] < 0)
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "negative size");
            p->out[d] = sizes[i];
            p->len[d] = (double)sizes[i];
            p->scale[d] = x->shape[d] > 0 ? (double)sizes[i] / (double)x->shape[d] : 1.0;
            if (keep == 1 && p->scale[d] < common)
                common = p->scale[d];
            if (keep == 2 && p->scale[d] > common)
                common = p->scale[d];
        }
        if (keep) {
            for (int i = 0; i < na; i++) {
                int d = axes[i];
                p->scale[d] = common;
                p->out[d] = (int64_t)floor(common * (double)x->shape[d] + 0.5);
                p->len[d] = common * (double)x->shape[d];
            }
        }
    }
    for (int d = 0; d < r; d++)
        if (p->in[d] == 0 && p->out[d] > 0)
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "resize of an empty dimension");
    if (modern && opset >= 18 && av__attr_int(nd, "antialias", 0) != 0 &&
        p->mode != MODE_NEAREST)
        for (int d = 0; d < r; d++)
            if (p->out[d] < p->in[d])
                return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "antialiased downsampling");
    return AV_STATUS_OK;
}

double rs_source_coord(const rs_params *p, int d, int64_t x)
{
    double s = p->scale[d], in = (double)p->in[d], out = p->len[d], xd = (double)x;
    switch (p->coord) {
    case CT_HALF_PIXEL: return (xd + 0.5) / s - 0.5;
    case CT_PYTORCH_HALF_PIXEL: return out != 1 ? (xd + 0.5) / s - 0.5 : 0.0;
    case CT_ALIGN_CORNERS: return out != 1 ? xd * (in - 1) / (out - 1) : 0.0;
    case CT_TF_HALF_PIXEL_FOR_NN: return (xd + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE:
        return out != 1
                   ? p->roi0[d] * (in - 1) + xd * (p->roi1[d] - p->roi0[d]) * (in - 1) / (out - 1)
                   : 0.5 * (p->roi0[d] + p->roi1[d]) * (in - 1);
    default: return xd / s;
    }
}

int64_t rs_nearest_index(const rs_params *p, int d, double x)
{
    double f = floor(x);
    switch (p->nearest) {
    case NM_ROUND_PREFER_FLOOR: return (int64_t)(x - f == 0.5 ? f : floor(x + 0.5));
    case NM_ROUND_PREFER_CEIL: return (int64_t)(x - f == 0.5 ? f + 1 : floor(x + 0.5));
    case NM_FLOOR: return (int64_t)f;
    case NM_CEIL: return (int64_t)ceil(x);
    default: return (int64_t)(p->scale[d] < 1 ? ceil(x) : trunc(x));
    }
}

void rs_cubic_taps(const rs_params *p, int64_t in, double x, axis_map *m)
{
    x = x < -4.0 ? -4.0 : x > (double)in + 3.0 ? (double)in + 3.0 : x;
    double f = floor(x), t = x - f, a = p->cubic_a;
    if (t == 0 && f >= 0 && f <= (double)(in - 1)) {
        m->idx[0] = (int64_t)f;
        m->w[0] = 1.0f;
        m->n = 1;
        return;
    }
    double s[4] = {t + 1, t, 1 - t, 2 - t};
    double w[4], sum = 0;
    for (int k = 0; k < 4; k++) {
        double z = s[k];
        w[k] = z <= 1 ? ((a + 2) * z - (a + 3)) * z * z + 1
                      : ((a * z - 5 * a) * z + 8 * a) * z - 4 * a;
        int64_t i = (int64_t)f - 1 + k;
        if (p->exclude_outside && (i < 0 || i >= in))
            w[k] = 0;
        sum += w[k];
    }
    m->n = 0;
    for (int k = 0; k < 4; k++) {
        int64_t i = (int64_t)f - 1 + k;
        if (w[k] == 0)
            continue;
        m->idx[m->n] = i < 0 ? 0 : i > in - 1 ? in - 1 : i;
        m->w[m->n] = (float)(p->exclude_outside && sum != 0 ? w[k] / sum : w[k]);
        m->n++;
    }
    if (m->n == 0) {
        m->idx[0] = f < 0 ? 0 : in - 1;
        m->w[0] = 1.0f;
        m->n = 1;
    }
}

// The taps of every output index along axis d (the CPU's build_map), zero-weight taps dropped
// (one kept, weighing 0, when all weigh 0, so that the output is 0, not extrapolated).
void rs_build_map(const rs_params *p, int d, axis_map *m)
{
    int64_t in = p->in[d];
    for (int64_t o = 0; o < p->out[d]; o++) {
        axis_map *t = &m[o];
        memset(t, 0, sizeof *t);
        double x = rs_source_coord(p, d, o);
        if (p->coord == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1)))
            continue;
        if (p->mode == MODE_CUBIC) {
            rs_cubic_taps(p, in, x, t);
        } else {
            x = x < 0 ? 0 : x > (double)(in - 1) ? (double)(in - 1) : x;
            if (p->mode == MODE_NEAREST) {
                int64_t i = rs_nearest_index(p, d, x);
                t->idx[0] = i < 0 ? 0 : i > in - 1 ? in - 1 : i;
                t->w[0] = 1.0f;
                t->n = 1;
            } else {
                int64_t lo = (int64_t)x;
                float w = (float)(x - (double)lo);
                t->idx[0] = lo;
                t->idx[1] = lo + 1 < in ? lo + 1 : in - 1;
                t->w[0] = 1.0f - w;
                t->w[1] = w;
                t->n = 2;
            }
        }
        int k = 0;
        for (int j = 0; j < t->n; j++)
            if (t->w[j] != 0.0f) {
                t->idx[k] = t->idx[j];
                t->w[k] = t->w[j];
                k++;
            }
        if (k == 0) {
            t->w[0] = 0.0f;
            k = 1;
        }
        t->n = k;
    }
}

template <typename E>
__global__ void resize_nearest_kernel(E *y, const E *x, E extrap, resize_args a)
{
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < a.total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = e, off = 0;
        bool outside = false;
        for (int d = a.nd - 1; d >= 0; d--) {
            int64_t q = rem / a.out[d];
            const axis_map &m = a.maps[a.moff[d] + (rem - q * a.out[d])];
            rem = q;
            if (m.n == 0) {
                outside = true;
                break;
            }
            off += m.idx[0] * a.xs[d];
        }
        y[e] = outside ? extrap : x[off];
    }
}

template <typename T> __global__ void resize_interp_kernel(T *y, const T *x, resize_args a)
{
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < a.total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const axis_map *m[AV__MAX_DIMS];
        int64_t rem = e;
        bool outside = false;
        for (int d = a.nd - 1; d >= 0; d--) {
            int64_t q = rem / a.out[d];
            m[d] = &a.maps[a.moff[d] + (rem - q * a.out[d])];
            rem = q;
            outside |= m[d]->n == 0;
        }
        if (outside) {
            av__st<T>(y, e, a.extrap);
            continue;
        }
        // every combination of the axes' taps (odometer c over the dims)
        int c[AV__MAX_DIMS];
        for (int d = 0; d < a.nd; d++)
            c[d] = 0;
        float acc = 0.0f;
        for (;;) {
            float w = 1.0f;
            int64_t off = 0;
            for (int d = 0; d < a.nd; d++) {
                w *= m[d]->w[c[d]];
                off += m[d]->idx[c[d]] * a.xs[d];
            }
            acc += w * av__ld<T>(x, off);
            int d = a.nd - 1;
            for (; d >= 0; d--) {
                if (++c[d] < m[d]->n)
                    break;
                c[d] = 0;
            }
            if (d < 0)
                break;
        }
        av__st<T>(y, e, acc);
    }
}

av_status resize_plan_common(const av__cuda_ctx *ctx, resize_state *s, bool prepare,
                             bool upsample)
{
    const av__tensor *x = dev_in(ctx, 0), *y = dev_out(ctx, 0);
    rs_params p;
    memset(&p, 0, sizeof p);
    av_status st = check_esize(ctx, x->dtype);
    if (st == AV_STATUS_OK)
        st = rs_setup(ctx, &p, upsample);
    if (st != AV_STATUS_OK)
        return st;
    if (p.mode != MODE_NEAREST && x->dtype != AV__DT_F32 && x->dtype != AV__DT_F16)
        return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "interpolating %s",
                             av__dtype_name(x->dtype));
    for (int d = 0; d < p.ndim; d++)
        if (p.out[d] != y->shape[d])
            return av__cuda_fail(ctx, AV_STATUS_UNSUPPORTED, "sizes disagree with the plan");
    s->es = av__dtype_size(x->dtype);
    s->dt = x->dtype;
    s->a.nd = p.ndim;
    s->a.mode = p.mode;
    s->a.total = av__cuda_numel(y);
    s->a.extrap = (float)p.extrapolation;
    s->a.extrap_bits = value_bits(x->dtype, p.extrapolation);
    strides_of(p.ndim, x->shape, s->a.xs);
    int64_t nmaps = 0;
    for (int d = 0; d < p.ndim; d++) {
        s->a.out[d] = p.out[d];
        s->a.moff[d] = nmaps;
        nmaps += p.out[d];
    }
    if (!prepare || s->a.total == 0 || p.ndim == 0)
        return AV_STATUS_OK;
    axis_map *maps = (axis_map *)av__mallocarray((size_t)nmaps, sizeof(axis_map));
    if (!maps)
        return av__cuda_fail(ctx, AV_STATUS_OUT_OF_MEMORY, "out of host memory");
    for (int d = 0; d < p.ndim; d++)
        rs_build_map(&p, d, maps + s->a.moff[d]);
    size_t bytes = (size_t)nmaps * sizeof(axis_map);
    st = av__cuda_check(ctx, cudaMalloc(&s->own.dev, bytes), "Resize: device memory");
    if (st == AV_STATUS_OK)
        st = av__cuda_check(ctx, cudaMemcpy(s->own.dev, maps, bytes, cudaMemcpyHostToDevice),
                            "Resize: upload");
    av__free(maps);
    s->a.maps = (const axis_map *)s->own.dev;
    return st;
}

av_status resize_plan(const av__cuda_ctx *ctx, resize_state *s, bool prepare)
{
    return resize_plan_common(ctx, s, prepare, false);
}

av_status upsample_plan(const av__cuda_ctx *ctx, resize_state *s, bool prepare)
{
    return resize_plan_common(ctx, s, prepare, true);
}

template <typename E> void resize_nearest_launch(const av__cuda_ctx *ctx, const resize_state *s)
{
    E extrap;
    memcpy(&extrap, &s->a.extrap_bits, sizeof extrap);
    resize_nearest_kernel<E><<<grid_for(s->a.total), THREADS, 0, ctx->env->stream>>>(
        (E *)ctx->op->out[0]->data, (const E *)ctx->op->in[0]->data, extrap, s->a);
}

av_status resize_run(const av__cuda_ctx *ctx, const resize_state *s)
{
    if (s->a.total == 0)
        return AV_STATUS_OK;
    void *y = ctx->op->out[0]->data;
    const void *x = ctx->op->in[0]->data;
    if (s->a.nd == 0)
        return av__cuda_check(ctx,
                              cudaMemcpyAsync(y, x, s->es, cudaMemcpyDeviceToDevice,
                                              ctx->env->stream),
                              "Resize");
    unsigned g = grid_for(s->a.total);
    if (s->a.mode != MODE_NEAREST) {
        if (s->dt == AV__DT_F16)
            resize_interp_kernel<__half><<<g, THREADS, 0, ctx->env->stream>>>(
                (__half *)y, (const __half *)x, s->a);
        else
            resize_interp_kernel<float><<<g, THREADS, 0, ctx->env->stream>>>(
                (float *)y, (const float *)x, s->a);
    } else {
        switch (s->es) {
        case 1: resize_nearest_launch<uint8_t>(ctx, s); break;
        case 2: resize_nearest_launch<uint16_t>(ctx, s); break;
        case 4: resize_nearest_launch<uint32_t>(ctx, s); break;
        default: resize_nearest_launch<uint64_t>(ctx, s); break;
        }
    }
    return AV__CUDA_CHECK_LAUNCH(ctx, "Resize");
}

} // namespace

// ---- the table ------------------------------------------------------------------------------

#define AV__CUDA_STATEFUL(name, S, plan, run)                                                  \
    {                                                                                          \
        "", name, supports_t<S, plan>, prepare_t<S, plan>, release_state, NULL, run_t<S, run> \
    }

const av__cuda_kernel av__cuda_kernels_shape[] = {
    {"", "Reshape", NULL, NULL, NULL, NULL, bytes_run},
    {"", "Flatten", NULL, NULL, NULL, NULL, bytes_run},
    {"", "Squeeze", NULL, NULL, NULL, NULL, bytes_run},
    {"", "Unsqueeze", NULL, NULL, NULL, NULL, bytes_run},
    AV__CUDA_STATEFUL("Shape", shape_state, shape_plan, shape_run),
    AV__CUDA_STATEFUL("Size", shape_state, shape_plan, shape_run),
    AV__CUDA_STATEFUL("Transpose", copy_state, transpose_plan, copy_run),
    AV__CUDA_STATEFUL("Slice", copy_state, slice_plan, copy_run),
    AV__CUDA_STATEFUL("Concat", copy_state, concat_plan, copy_run),
    AV__CUDA_STATEFUL("Split", copy_state, split_plan, copy_run),
    AV__CUDA_STATEFUL("Expand", copy_state, expand_plan, copy_run),
    AV__CUDA_STATEFUL("Tile", copy_state, tile_plan, copy_run),
    AV__CUDA_STATEFUL("DepthToSpace", copy_state, depth_to_space_plan, copy_run),
    AV__CUDA_STATEFUL("SpaceToDepth", copy_state, space_to_depth_plan, copy_run),
    AV__CUDA_STATEFUL("ConstantOfShape", fill_state, constant_of_shape_plan, fill_run),
    AV__CUDA_STATEFUL("Range", range_state, range_plan, range_run),
    AV__CUDA_STATEFUL("EyeLike", fill_state, eye_like_plan, eye_like_run),
    AV__CUDA_STATEFUL("Trilu", trilu_state, trilu_plan, trilu_run),
    AV__CUDA_STATEFUL("Gather", gather_state, gather_plan, gather_run),
    AV__CUDA_STATEFUL("GatherElements", gather_el_state, gather_el_plan, gather_el_run),
    AV__CUDA_STATEFUL("Pad", pad_state, pad_plan, pad_run),
    AV__CUDA_STATEFUL("Resize", resize_state, resize_plan, resize_run),
    AV__CUDA_STATEFUL("Upsample", resize_state, upsample_plan, resize_run),
};
const int av__cuda_kernels_shape_count =
    (int)(sizeof av__cuda_kernels_shape / sizeof av__cuda_kernels_shape[0]);
