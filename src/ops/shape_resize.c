/* Resize (opsets 10, 11, 13, 18) and its deprecated form Upsample (opsets 7, 9): nearest,
 * and N-D separable linear and cubic (cubic_coeff_a, exclude_outside) interpolation.
 * Not implemented (AV_STATUS_UNSUPPORTED): antialias (opset 18) when downsampling with linear or
 * cubic, opset 19's half_pixel_symmetric, cubic over more than 5 interpolated outer axes.
 *
 * Where the spec leaves room, the ONNX reference implementation (whose outputs the official
 * node tests hold) decides, unless noted:
 *  - output sizes from scales are floor(in * scale) (tf_crop_and_resize: floor(in * (roi_end -
 *    roi_start) * scale)) computed exactly (in double; ORT rounds the product to float32 first);
 *  - the coordinate transforms use the given scale, or out/in when sizes are given, and as
 *    "length_resized" in * scale (the exact, unfloored product, as the ONNX reference does) when
 *    scales are given, the output size when sizes are;
 *  - pytorch_half_pixel maps an output of length 1 to coordinate 0 as the spec and ORT do (the
 *    ONNX 1.12 reference uses -0.5; only cubic can tell the difference);
 *  - before opset 11 (and in Upsample) coordinates are asymmetric and nearest picks
 *    floor(x) when upsampling, ceil(x) when downsampling (ORT's "simple" mode);
 *  - linear clamps the source coordinate to [0, in - 1] and cubic clamps its tap indices (the
 *    edge padding of the ONNX reference); tf_crop_and_resize writes extrapolation_value where
 *    the coordinate falls outside [0, in - 1] instead. */
#include <math.h>
#include <string.h>

#include "ops/shape_internal.h"

enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC };
enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
       CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

typedef struct resize_params {
    int mode, coord, nearest, ndim;
    int64_t in[AV__MAX_DIMS], out[AV__MAX_DIMS];
    double scale[AV__MAX_DIMS];
    double len[AV__MAX_DIMS];      /* length_resized of the coordinate transforms */
    double roi0[AV__MAX_DIMS], roi1[AV__MAX_DIMS];
    double extrapolation;
    double cubic_a;                /* cubic_coeff_a */
    int exclude_outside;
} resize_params;

static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static av_status parse_modes(const av__op_ctx *ctx, resize_params *p, int modern)
{
    const char *mode = av__attr_string(ctx->node, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        p->mode = MODE_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        p->mode = MODE_LINEAR;
    else if (strcmp(mode, "cubic") == 0 && modern)
        p->mode = MODE_CUBIC;
    else
        return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown mode '%s'", mode);
    p->coord = CT_ASYMMETRIC;
    p->nearest = NM_SIMPLE;
    p->extrapolation = 0;
    if (!modern)
        return AV_STATUS_OK;
    static const char *const coords[] = {"half_pixel",           "pytorch_half_pixel",
                                         "align_corners",        "asymmetric",
                                         "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                           "ceil"};
    const char *c = av__attr_string(ctx->node, "coordinate_transformation_mode", "half_pixel");
    const char *n = av__attr_string(ctx->node, "nearest_mode", "round_prefer_floor");
    p->coord = pick(c, coords, 6);
    p->nearest = pick(n, nearests, 4);
    if (p->coord < 0)
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                           "coordinate_transformation_mode '%s' is not supported", c);
    if (p->nearest < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown nearest_mode '%s'", n);
    p->extrapolation = av__attr_float(ctx->node, "extrapolation_value", 0.0f);
    p->cubic_a = av__attr_float(ctx->node, "cubic_coeff_a", -0.75f);
    p->exclude_outside = av__attr_int(ctx->node, "exclude_outside", 0) != 0;
    return AV_STATUS_OK;
}

/* Reads up to `max` float values of a value input (scales, roi); *n = 0 when absent or empty. */
static av_status read_floats(const av__op_ctx *ctx, int i, const char *what, double *v, int max,
                             int *n)
{
    *n = 0;
    if (i >= ctx->n_in || !ctx->in[i])
        return AV_STATUS_OK;
    const av__tensor *t = ctx->in[i];
    int64_t count = av__tensor_count(t);
    if (count == 0)
        return AV_STATUS_OK;
    if (!av__shape_is_float(t->dtype) || t->ndim != 1)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s must be a 1-D float tensor", what);
    if (count > max)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s has %lld values, expected at most %d", what,
                           (long long)count, max);
    if (!t->data)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "%s has no values at planning time", what);
    for (int64_t k = 0; k < count; k++)
        v[k] = av__tensor_get_f64(t, k);
    *n = (int)count;
    return AV_STATUS_OK;
}

/* Fills p's sizes and scales from the scales/sizes (and opset 18 axes, keep_aspect_ratio_policy,
 * antialias) of a Resize or Upsample node. */
static av_status resize_setup(const av__op_ctx *ctx, resize_params *p, int upsample)
{
    const av__tensor *x = ctx->in[0];
    int modern = !upsample && ctx->opset >= 11;
    av_status st = parse_modes(ctx, p, modern);
    if (st != AV_STATUS_OK)
        return st;
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
    if (modern && ctx->opset >= 18 && av__node_attr(ctx->node, "axes")) {
        const int64_t *a = av__attr_ints(ctx->node, "axes", &na);
        int seen[AV__MAX_DIMS] = {0};
        if (na > r)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "more axes than dimensions");
        for (int i = 0; i < na; i++) {
            axes[i] = av__normalize_axis(a[i], r);
            if (axes[i] < 0 || seen[axes[i]])
                return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %lld out of range or repeated",
                                   (long long)a[i]);
            seen[axes[i]] = 1;
        }
    }

    double scales[AV__MAX_DIMS], roi[2 * AV__MAX_DIMS];
    int64_t sizes[AV__MAX_DIMS];
    int ns = 0, nz = 0, nr = 0;
    if (upsample && ctx->opset < 9) {
        const float *f = av__attr_floats(ctx->node, "scales", &ns);
        if (!f || ns > AV__MAX_DIMS)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute 'scales' is missing or too long");
        for (int i = 0; i < ns; i++)
            scales[i] = f[i];
    } else if (!modern) {
        st = read_floats(ctx, 1, "scales", scales, AV__MAX_DIMS, &ns);
    } else {
        st = read_floats(ctx, 1, "roi", roi, 2 * AV__MAX_DIMS, &nr);
        if (st == AV_STATUS_OK)
            st = read_floats(ctx, 2, "scales", scales, AV__MAX_DIMS, &ns);
        if (st == AV_STATUS_OK && ctx->n_in > 3 && ctx->in[3] && av__tensor_count(ctx->in[3]) > 0)
            st = av__shape_read_ints(ctx, 3, "sizes", sizes, AV__MAX_DIMS, &nz);
    }
    if (st != AV_STATUS_OK)
        return st;
    if ((ns > 0) == (nz > 0))
        return av__op_fail(ctx, AV_STATUS_FORMAT, "exactly one of scales and sizes must be given");
    if ((ns ? ns : nz) != na)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "%s has %d values for %d axes",
                           ns ? "scales" : "sizes", ns ? ns : nz, na);
    if (p->coord == CT_TF_CROP_AND_RESIZE && nr > 0) {
        if (nr != 2 * na)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "roi has %d values, expected %d", nr, 2 * na);
        for (int i = 0; i < na; i++) {
            p->roi0[axes[i]] = roi[i];
            p->roi1[axes[i]] = roi[i + na];
        }
    }

    if (ns > 0) {
        for (int i = 0; i < na; i++) {
            int d = axes[i];
            double s = scales[i];
            if (!(s > 0) || isinf(s))
                return av__op_fail(ctx, AV_STATUS_FORMAT, "scale %g of axis %d must be positive", s,
                                   d);
            double len = (double)x->shape[d] * s;
            if (p->coord == CT_TF_CROP_AND_RESIZE)
                len *= p->roi1[d] - p->roi0[d];
            double o = floor(len);
            if (!(o >= 0 && o < 4.6e18))
                return av__op_fail(ctx, AV_STATUS_FORMAT, "axis %d: output size out of range", d);
            p->out[d] = (int64_t)o;
            p->scale[d] = s;
            p->len[d] = len;
        }
    } else {
        const char *policy = modern && ctx->opset >= 18
            ? av__attr_string(ctx->node, "keep_aspect_ratio_policy", "stretch") : "stretch";
        int keep = strcmp(policy, "not_larger") == 0    ? 1
                   : strcmp(policy, "not_smaller") == 0 ? 2
                                                        : 0;
        if (!keep && strcmp(policy, "stretch") != 0)
            return av__op_fail(ctx, AV_STATUS_FORMAT, "unknown keep_aspect_ratio_policy '%s'",
                               policy);
        double common = keep == 1 ? INFINITY : 0;
        for (int i = 0; i < na; i++) {
            int d = axes[i];
            if (sizes[i] < 0)
                return av__op_fail(ctx, AV_STATUS_FORMAT, "size %lld of axis %d is negative",
                                   (long long)sizes[i], d);
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
            return av__op_fail(ctx, AV_STATUS_FORMAT, "cannot resize empty dimension %d to %lld", d,
                               (long long)p->out[d]);
    if (modern && ctx->opset >= 18 && av__attr_int(ctx->node, "antialias", 0) != 0 &&
        p->mode != MODE_NEAREST) {
        for (int d = 0; d < r; d++)
            if (p->out[d] < p->in[d])
                return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                                   "antialiased downsampling is not implemented");
    }
    if (p->mode != MODE_NEAREST && !av__shape_is_float(x->dtype))
        return av__op_fail(ctx, AV_STATUS_UNSUPPORTED, "%s resize of %s is not implemented",
                           p->mode == MODE_LINEAR ? "linear" : "cubic", av__dtype_name(x->dtype));
    if (p->mode == MODE_CUBIC) { /* the kernels mix at most MAX_CORNERS source rows */
        int resized = 0;
        for (int d = 0; d + 1 < r; d++)
            resized += p->out[d] != p->in[d] || p->scale[d] != 1.0 ||
                       p->coord == CT_TF_CROP_AND_RESIZE;
        if (resized > 5)
            return av__op_fail(ctx, AV_STATUS_UNSUPPORTED,
                               "cubic resize of more than 6 axes is not implemented");
    }
    return AV_STATUS_OK;
}

static av_status resize_infer_common(const av__op_ctx *ctx, int upsample)
{
    resize_params p;
    int max_in = upsample ? (ctx->opset >= 9 ? 2 : 1) : ctx->opset >= 11 ? 4 : 2;
    /* opsets 11-12 list roi and scales as required, but exporters leave roi out ("") */
    int min_in = upsample ? max_in : ctx->opset >= 11 ? 1 : 2;
    av_status st = av__shape_begin(ctx, min_in, max_in);
    if (st == AV_STATUS_OK)
        st = resize_setup(ctx, &p, upsample);
    if (st != AV_STATUS_OK)
        return st;
    return av__shape_set_out(ctx, 0, ctx->in[0]->dtype, p.ndim, p.out);
}

av_status av__shape_resize_infer(const av__op_ctx *ctx)
{
    return resize_infer_common(ctx, 0);
}

av_status av__shape_upsample_infer(const av__op_ctx *ctx)
{
    return resize_infer_common(ctx, 1);
}

/* ---- coordinate tables ----------------------------------------------------------------------- */

/* Per output index of one dimension: the source indices (taps) and their weights. Nearest has
 * one tap, linear always two (the second may weigh 0), cubic up to four (zero weights dropped);
 * n = 0 marks a coordinate outside the input (tf_crop_and_resize: extrapolation_value). */
typedef struct axis_map {
    int64_t idx[4];
    float w[4];
    int n;
} axis_map;

/* Scratch: an axis_map per output index of every dim, then the last dim's taps again as flat
 * arrays (lo, hi: int64; t: float), the layout the nearest and linear row loops read. */
size_t av__shape_resize_scratch(const av__op_ctx *ctx)
{
    const av__tensor *y = ctx->out[0];
    int64_t n = 0;
    for (int d = 0; d < y->ndim; d++)
        n += y->shape[d];
    int64_t w = y->ndim > 0 ? y->shape[y->ndim - 1] : 0;
    return (size_t)n * sizeof(axis_map) + (size_t)w * (2 * sizeof(int64_t) + sizeof(float));
}

static double source_coord(const resize_params *p, int d, int64_t x)
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

static int64_t nearest_index(const resize_params *p, int d, double x)
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

/* The four cubic taps around x (at floor(x) - 1 .. floor(x) + 2) as the ONNX reference weighs
 * them: Keys' kernel with coefficient a, outside taps dropped and the rest renormalised when
 * exclude_outside, indices clamped to the edge. */
static void cubic_taps(const resize_params *p, int64_t in, double x, axis_map *m)
{
    /* past these bounds every tap clamps to the same edge element: keeps floor() in range */
    x = x < -4.0 ? -4.0 : x > (double)in + 3.0 ? (double)in + 3.0 : x;
    double f = floor(x), t = x - f, a = p->cubic_a;
    if (t == 0 && f >= 0 && f <= (double)(in - 1)) { /* on a sample: weights 0, 1, 0, 0 */
        m->idx[0] = (int64_t)f;
        m->w[0] = 1.0f;
        m->n = 1;
        return;
    }
    double s[4] = {t + 1, t, 1 - t, 2 - t}; /* distances to the taps */
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
    if (m->n == 0) { /* every tap excluded: the reference divides 0 by 0; keep the edge value */
        m->idx[0] = f < 0 ? 0 : in - 1;
        m->w[0] = 1.0f;
        m->n = 1;
    }
}

static void build_map(const resize_params *p, int d, axis_map *m)
{
    int64_t in = p->in[d];
    for (int64_t o = 0; o < p->out[d]; o++) {
        double x = source_coord(p, d, o);
        m[o].n = 0;
        if (p->coord == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1)))
            continue;
        if (p->mode == MODE_CUBIC) {
            cubic_taps(p, in, x, &m[o]);
            continue;
        }
        /* bounded before conversion: any finite or infinite x lands in [0, in - 1] */
        x = x < 0 ? 0 : x > (double)(in - 1) ? (double)(in - 1) : x;
        if (p->mode == MODE_NEAREST) {
            int64_t i = nearest_index(p, d, x);
            m[o].idx[0] = i < 0 ? 0 : i > in - 1 ? in - 1 : i;
            m[o].w[0] = 1.0f;
            m[o].n = 1;
        } else {
            int64_t lo = (int64_t)x;
            float t = (float)(x - (double)lo);
            m[o].idx[0] = lo;
            m[o].idx[1] = lo + 1 < in ? lo + 1 : in - 1;
            m[o].w[0] = 1.0f - t;
            m[o].w[1] = t;
            m[o].n = 2;
        }
    }
}

/* ---- kernels --------------------------------------------------------------------------------- */

typedef struct resize_job {
    const resize_params *p;
    const axis_map *map[AV__MAX_DIMS];
    const av__tensor *x;
    av__tensor *y;
    int64_t xs[AV__MAX_DIMS];
    uint64_t extrap;         /* extrapolation_value as one element of the data type */
    /* the last dim's first two taps and the second's weight; lo = -1: outside */
    const int64_t *lo, *hi;
    const float *t;
} resize_job;

/* Source row offset (elements) of output row r over the outer dims of a nearest resize; -1
 * when some outer coordinate is outside (tf_crop_and_resize). */
static int64_t nearest_row_offset(const resize_job *j, int64_t r)
{
    const resize_params *p = j->p;
    int64_t off = 0;
    for (int d = p->ndim - 2; d >= 0; d--) {
        int64_t o = r % p->out[d];
        r /= p->out[d];
        if (j->map[d][o].n == 0)
            return -1;
        off += j->map[d][o].idx[0] * j->xs[d];
    }
    return off;
}

#define NEAREST_ROW(T)                                                                         \
    do {                                                                                       \
        T *d_ = (T *)(void *)dst;                                                              \
        const T *s_ = (const T *)(const void *)src;                                            \
        T e_;                                                                                  \
        memcpy(&e_, &j->extrap, sizeof e_);                                                    \
        for (int64_t o = 0; o < w; o++)                                                        \
            d_[o] = lo[o] < 0 ? e_ : s_[lo[o]];                                                \
    } while (0)

/* Output rows [begin, end) (all dims but the last). Nearest: each row reads one source row; a
 * row reading the same source row as the one before it is a copy of that output row. */
static void nearest_rows(void *arg, int64_t begin, int64_t end)
{
    const resize_job *j = arg;
    const resize_params *p = j->p;
    int64_t w = p->out[p->ndim - 1];
    size_t es = av__dtype_size(j->x->dtype);
    const int64_t *lo = j->lo;
    int64_t prev = -2;
    for (int64_t r = begin; r < end; r++) {
        char *dst = (char *)j->y->data + (size_t)(r * w) * es;
        int64_t off = nearest_row_offset(j, r);
        if (off == prev && r > begin) {
            memcpy(dst, dst - (size_t)w * es, (size_t)w * es);
            continue;
        }
        prev = off;
        if (off < 0) {
            for (int64_t o = 0; o < w; o++)
                memcpy(dst + (size_t)o * es, &j->extrap, es);
            continue;
        }
        const char *src = (const char *)j->x->data + (size_t)off * es;
        switch (es) {
        case 1: NEAREST_ROW(uint8_t); break;
        case 2: NEAREST_ROW(uint16_t); break;
        case 4: NEAREST_ROW(uint32_t); break;
        case 8: NEAREST_ROW(uint64_t); break;
        default:
            for (int64_t o = 0; o < w; o++)
                memcpy(dst + (size_t)o * es,
                       lo[o] < 0 ? (const void *)&j->extrap
                                 : (const void *)(src + (size_t)lo[o] * es),
                       es);
            break;
        }
    }
}

/* Source rows one output row mixes: 2^k (linear) or up to 4^k (cubic, k <= 5) over the k outer
 * axes that interpolate. */
#define MAX_CORNERS 1024

/* The source rows (offsets, weights) of output row r over the outer dims; 0 when some outer
 * coordinate is outside (tf_crop_and_resize). Zero-weight taps are skipped. */
static int interp_corners(const resize_job *j, int64_t r, int64_t *roff, float *rw)
{
    const resize_params *p = j->p;
    int nr = 1;
    roff[0] = 0;
    rw[0] = 1.0f;
    for (int d = p->ndim - 2; d >= 0; d--) {
        int64_t o = r % p->out[d];
        r /= p->out[d];
        const axis_map *m = &j->map[d][o];
        if (m->n == 0)
            return 0;
        int taps = 0, first = -1;
        for (int t = 0; t < m->n; t++)
            if (m->w[t] != 0.0f) {
                taps++;
                first = first < 0 ? t : first;
            }
        if (taps <= 1) { /* one source index along d: every corner just moves */
            int t = first < 0 ? 0 : first;
            for (int c = 0; c < nr; c++) {
                roff[c] += m->idx[t] * j->xs[d];
                rw[c] *= first < 0 ? 0.0f : m->w[t];
            }
            continue;
        }
        /* every corner splits into one per tap: tap t's copies go to [t' * nr, (t' + 1) * nr) */
        int k = 0;
        for (int t = 0; t < m->n; t++) {
            if (m->w[t] == 0.0f)
                continue;
            if (k > 0)
                for (int c = 0; c < nr; c++) {
                    roff[k * nr + c] = roff[c] + m->idx[t] * j->xs[d];
                    rw[k * nr + c] = rw[c] * m->w[t];
                }
            k++;
        }
        /* the first tap reuses the original slots (after the copies read them) */
        for (int t = 0; t < m->n; t++) {
            if (m->w[t] == 0.0f)
                continue;
            for (int c = 0; c < nr; c++) {
                roff[c] += m->idx[t] * j->xs[d];
                rw[c] *= m->w[t];
            }
            break;
        }
        nr *= taps;
    }
    return nr;
}

/* Linear and cubic: each output row mixes its corner rows; along the last dim each corner row
 * is read at that index's taps. */
static void interp_rows(void *arg, int64_t begin, int64_t end)
{
    const resize_job *j = arg;
    const resize_params *p = j->p;
    int64_t w = p->out[p->ndim - 1];
    const axis_map *ml = j->map[p->ndim - 1];
    int f32 = j->x->dtype == AV__DT_F32, linear = p->mode == MODE_LINEAR;
    int64_t roff[MAX_CORNERS];
    float rw[MAX_CORNERS];
    for (int64_t r = begin; r < end; r++) {
        int64_t base = r * w;
        int nr = interp_corners(j, r, roff, rw);
        if (f32 && linear && (nr == 1 || nr == 2)) {
            const float *s0 = (const float *)j->x->data + roff[0];
            const float *s1 = (const float *)j->x->data + roff[nr - 1];
            float *y = (float *)j->y->data + base;
            float e = (float)p->extrapolation, w0 = rw[0], w1 = nr == 2 ? rw[1] : 0.0f;
            const int64_t *lo = j->lo, *hi = j->hi;
            const float *tt = j->t;
            for (int64_t o = 0; o < w; o++) {
                if (lo[o] < 0) {
                    y[o] = e;
                    continue;
                }
                float t = tt[o];
                float a0 = s0[lo[o]], b0 = s0[hi[o]];
                float v = w0 * (a0 + t * (b0 - a0));
                if (nr == 2) {
                    float a1 = s1[lo[o]], b1 = s1[hi[o]];
                    v += w1 * (a1 + t * (b1 - a1));
                }
                y[o] = v;
            }
            continue;
        }
        for (int64_t o = 0; o < w; o++) {
            double v = p->extrapolation;
            if (nr > 0 && ml[o].n > 0) {
                double acc = 0.0;
                for (int c = 0; c < nr; c++) {
                    double row = 0.0;
                    for (int t = 0; t < ml[o].n; t++)
                        row += (double)ml[o].w[t] *
                               (f32 ? (double)((const float *)j->x->data)[roff[c] + ml[o].idx[t]]
                                    : av__tensor_get_f64(j->x, roff[c] + ml[o].idx[t]));
                    acc += (double)rw[c] * row;
                }
                v = acc;
            }
            if (f32)
                ((float *)j->y->data)[base + o] = (float)v;
            else
                av__tensor_set_f64(j->y, base + o, v);
        }
    }
}

static av_status resize_run_common(const av__op_ctx *ctx, int upsample)
{
    resize_params p;
    av_status st = resize_setup(ctx, &p, upsample);
    if (st != AV_STATUS_OK)
        return st;
    av__tensor *y = ctx->out[0];
    const av__tensor *x = ctx->in[0];
    int64_t total = av__tensor_count(y);
    size_t es = av__dtype_size(x->dtype);
    if (total == 0)
        return AV_STATUS_OK;
    if (p.ndim == 0) {
        memcpy(y->data, x->data, es);
        return AV_STATUS_OK;
    }
    if (!ctx->scratch)
        return av__op_fail(ctx, AV_STATUS_INTERNAL, "resize needs scratch memory");
    resize_job j = {.p = &p, .x = x, .y = y};
    axis_map *m = ctx->scratch;
    for (int d = 0; d < p.ndim; d++) {
        j.map[d] = m;
        build_map(&p, d, m);
        m += p.out[d];
    }
    int64_t w = p.out[p.ndim - 1];
    int64_t *lo = (int64_t *)(void *)m, *hi = lo + w;
    float *t = (float *)(void *)(hi + w);
    const axis_map *ml = j.map[p.ndim - 1];
    for (int64_t o = 0; o < w; o++) {
        lo[o] = ml[o].n > 0 ? ml[o].idx[0] : -1;
        hi[o] = ml[o].n > 1 ? ml[o].idx[1] : lo[o];
        t[o] = ml[o].n > 1 ? ml[o].w[1] : 0.0f;
    }
    j.lo = lo;
    j.hi = hi;
    j.t = t;
    av__shape_strides(x->ndim, x->shape, j.xs);
    av__tensor et = {.dtype = x->dtype, .ndim = 0, .data = &j.extrap};
    av__tensor_set_f64(&et, 0, p.extrapolation);
    int64_t rows = total / w;
    int64_t grain = (1 << 14) / w + 1;
    av__parallel_for((uint64_t)total * es >= (1u << 18) ? ctx->pool : NULL, rows, grain,
                     p.mode == MODE_NEAREST ? nearest_rows : interp_rows, &j);
    return AV_STATUS_OK;
}

av_status av__shape_resize_run(const av__op_ctx *ctx)
{
    return resize_run_common(ctx, 0);
}

av_status av__shape_upsample_run(const av__op_ctx *ctx)
{
    return resize_run_common(ctx, 1);
}
