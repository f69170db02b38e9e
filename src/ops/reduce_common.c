/* Shared helpers of the reduce family: chunked dtype conversion, axis views and the canonical
 * view of multi-axis reductions. See reduce_internal.h. */
#include <string.h>

#include "ops/reduce_internal.h"

int av__rd_is_float(av__dtype t)
{
    return t == AV__DT_F32 || t == AV__DT_F64 || t == AV__DT_F16 || t == AV__DT_BF16;
}

int av__rd_is_int(av__dtype t)
{
    switch (t) {
    case AV__DT_I8: case AV__DT_U8: case AV__DT_I16: case AV__DT_U16:
    case AV__DT_I32: case AV__DT_U32: case AV__DT_I64: case AV__DT_U64:
        return 1;
    default:
        return 0;
    }
}

#define RD_LOAD_LOOP(type, expr)                                                            \
    do {                                                                                    \
        const type *p_ = (const type *)t->data + off;                                       \
        for (int64_t i_ = 0; i_ < n; i_++) {                                                \
            type v_ = p_[i_ * stride];                                                      \
            dst[i_] = (expr);                                                               \
        }                                                                                   \
    } while (0)

void av__rd_load_f64(const av__tensor *t, int64_t off, int64_t stride, int64_t n, double *dst)
{
    switch (t->dtype) {
    case AV__DT_F32: RD_LOAD_LOOP(float, (double)v_); break;
    case AV__DT_F64: RD_LOAD_LOOP(double, v_); break;
    case AV__DT_F16: RD_LOAD_LOOP(uint16_t, (double)av__f16_to_f32(v_)); break;
    case AV__DT_BF16: RD_LOAD_LOOP(uint16_t, (double)av__bf16_to_f32(v_)); break;
    case AV__DT_I8: RD_LOAD_LOOP(int8_t, (double)v_); break;
    case AV__DT_U8: RD_LOAD_LOOP(uint8_t, (double)v_); break;
    case AV__DT_BOOL: RD_LOAD_LOOP(uint8_t, v_ != 0); break;
    case AV__DT_I16: RD_LOAD_LOOP(int16_t, (double)v_); break;
    case AV__DT_U16: RD_LOAD_LOOP(uint16_t, (double)v_); break;
    case AV__DT_I32: RD_LOAD_LOOP(int32_t, (double)v_); break;
    case AV__DT_U32: RD_LOAD_LOOP(uint32_t, (double)v_); break;
    case AV__DT_I64: RD_LOAD_LOOP(int64_t, (double)v_); break;
    case AV__DT_U64: RD_LOAD_LOOP(uint64_t, (double)v_); break;
    default:
        for (int64_t i = 0; i < n; i++)
            dst[i] = 0;
        break;
    }
}

void av__rd_load_i64(const av__tensor *t, int64_t off, int64_t stride, int64_t n, int64_t *dst)
{
    switch (t->dtype) {
    case AV__DT_I8: RD_LOAD_LOOP(int8_t, v_); break;
    case AV__DT_U8: RD_LOAD_LOOP(uint8_t, v_); break;
    case AV__DT_BOOL: RD_LOAD_LOOP(uint8_t, v_ != 0); break;
    case AV__DT_I16: RD_LOAD_LOOP(int16_t, v_); break;
    case AV__DT_U16: RD_LOAD_LOOP(uint16_t, v_); break;
    case AV__DT_I32: RD_LOAD_LOOP(int32_t, v_); break;
    case AV__DT_U32: RD_LOAD_LOOP(uint32_t, v_); break;
    case AV__DT_I64: RD_LOAD_LOOP(int64_t, v_); break;
    case AV__DT_U64: RD_LOAD_LOOP(uint64_t, (int64_t)v_); break;
    default:
        for (int64_t i = 0; i < n; i++)
            dst[i] = av__tensor_get_i64(t, off + i * stride);
        break;
    }
}

void av__rd_store_f64(av__tensor *t, int64_t off, int64_t stride, int64_t n, const double *src)
{
    switch (t->dtype) {
    case AV__DT_F32: {
        float *p = (float *)t->data + off;
        for (int64_t i = 0; i < n; i++)
            p[i * stride] = (float)src[i];
        break;
    }
    case AV__DT_F64: {
        double *p = (double *)t->data + off;
        for (int64_t i = 0; i < n; i++)
            p[i * stride] = src[i];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            av__tensor_set_f64(t, off + i * stride, src[i]);
        break;
    }
}

#define RD_STORE_LOOP(type)                                                                 \
    do {                                                                                    \
        type *p_ = (type *)t->data + off;                                                   \
        for (int64_t i_ = 0; i_ < n; i_++)                                                  \
            p_[i_ * stride] = (type)(uint64_t)src[i_];                                      \
    } while (0)

void av__rd_store_i64(av__tensor *t, int64_t off, int64_t stride, int64_t n, const int64_t *src)
{
    switch (t->dtype) {
    case AV__DT_I8: RD_STORE_LOOP(int8_t); break;
    case AV__DT_U8: RD_STORE_LOOP(uint8_t); break;
    case AV__DT_I16: RD_STORE_LOOP(int16_t); break;
    case AV__DT_U16: RD_STORE_LOOP(uint16_t); break;
    case AV__DT_I32: RD_STORE_LOOP(int32_t); break;
    case AV__DT_U32: RD_STORE_LOOP(uint32_t); break;
    case AV__DT_I64: RD_STORE_LOOP(int64_t); break;
    case AV__DT_U64: RD_STORE_LOOP(uint64_t); break;
    default:
        for (int64_t i = 0; i < n; i++)
            av__tensor_set_f64(t, off + i * stride, (double)src[i]);
        break;
    }
}

av__rd_axis av__rd_axis_view(const av__tensor *t, int axis)
{
    av__rd_axis v = {1, 1, 1};
    for (int i = 0; i < t->ndim; i++) {
        if (i < axis)
            v.outer *= t->shape[i];
        else if (i == axis)
            v.n = t->shape[i];
        else
            v.inner *= t->shape[i];
    }
    return v;
}

av_status av__rd_axis_attr(const av__op_ctx *ctx, int64_t axis, int rank, int *out)
{
    int a = av__normalize_axis(axis, rank);
    if (a < 0)
        return av__op_fail(ctx, AV_STATUS_FORMAT,
                           "axis %lld is out of range [%d, %d] for an input of rank %d",
                           (long long)axis, -rank, rank - 1, rank);
    *out = a;
    return AV_STATUS_OK;
}

av_status av__rd_attr_type(const av__op_ctx *ctx, const char *name, av__attr_type type)
{
    const av__attr *a = av__node_attr(ctx->node, name);
    if (a && a->type != type)
        return av__op_fail(ctx, AV_STATUS_FORMAT, "attribute '%s' has type %d, expected %d",
                           name, (int)a->type, (int)type);
    return AV_STATUS_OK;
}

int64_t av__rd_grain(int64_t per_item)
{
    if (per_item < 1)
        per_item = 1;
    int64_t g = AV__RD_GRAIN_ELEMS / per_item;
    return g < 1 ? 1 : g;
}

void av__rd_plan_init(av__rd_plan *p, int rank, const int64_t *shape, unsigned mask)
{
    memset(p, 0, sizeof *p);
    p->out_count = 1;
    p->red_count = 1;
    int64_t stride = 1;
    int last = -1; /* status of the dim most recently added (going from the innermost out) */
    /* Walk from the innermost dim outwards so strides are known, then reverse. */
    int64_t ks[AV__MAX_DIMS], kst[AV__MAX_DIMS], rs[AV__MAX_DIMS], rst[AV__MAX_DIMS];
    int nk = 0, nr = 0;
    for (int i = rank - 1; i >= 0; i--) {
        int red = (mask >> i) & 1u;
        int64_t d = shape[i];
        if (red)
            p->red_count *= d;
        else
            p->out_count *= d;
        if (d == 1) {
            continue;
        }
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
    for (int i = 0; i < nk; i++) {
        p->ksize[i] = ks[nk - 1 - i];
        p->kstride[i] = kst[nk - 1 - i];
    }
    for (int i = 0; i < nr; i++) {
        p->rsize[i] = rs[nr - 1 - i];
        p->rstride[i] = rst[nr - 1 - i];
    }
    p->nk = nk;
    p->nr = nr;
}

int64_t av__rd_base(const av__rd_plan *p, int64_t o)
{
    int64_t off = 0;
    for (int j = p->nk - 1; j >= 0; j--) {
        off += (o % p->ksize[j]) * p->kstride[j];
        o /= p->ksize[j];
    }
    return off;
}

void av__rd_for_lines(const av__rd_plan *p, int64_t o,
                      void (*fn)(void *arg, int64_t off, int64_t stride, int64_t n), void *arg)
{
    int64_t base = av__rd_base(p, o);
    if (p->nr == 0) {
        fn(arg, base, 1, 1);
        return;
    }
    if (p->red_count == 0)
        return;
    int nouter = p->nr - 1;
    int64_t idx[AV__MAX_DIMS] = {0};
    int64_t off = base;
    for (;;) {
        fn(arg, off, p->rstride[nouter], p->rsize[nouter]);
        int j = nouter - 1;
        for (; j >= 0; j--) {
            off += p->rstride[j];
            if (++idx[j] < p->rsize[j])
                break;
            off -= p->rstride[j] * p->rsize[j];
            idx[j] = 0;
        }
        if (j < 0)
            return;
    }
}
