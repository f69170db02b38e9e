/* The public .npy functions, over the strict reader/writer of src/util/npy.c. */
#include <string.h>

#include "autovoice/engine.h"
#include "core/internal.h"
#include "graph/ir.h"
#include "util/npy.h"

static const struct {
    av__npy_dtype npy;
    av_dtype dtype;
} dtype_map[] = {
    {AV__NPY_F32, AV_DTYPE_FLOAT32}, {AV__NPY_F64, AV_DTYPE_FLOAT64},
    {AV__NPY_F16, AV_DTYPE_FLOAT16}, {AV__NPY_I64, AV_DTYPE_INT64},
    {AV__NPY_I32, AV_DTYPE_INT32},   {AV__NPY_I8, AV_DTYPE_INT8},
    {AV__NPY_U8, AV_DTYPE_UINT8},    {AV__NPY_BOOL, AV_DTYPE_BOOL},
};

av_status av_npy_read(const char *path, av_tensor *out, char *err, size_t err_size)
{
    if (!out || !path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_npy_read: NULL argument");
    memset(out, 0, sizeof *out);
    av__npy_array a;
    av_status st = av__npy_load(path, &a, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    if (a.ndim > AV_MAX_DIMS) {
        av__npy_free(&a);
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, "%s: %d dimensions (at most %d)",
                        path, a.ndim, AV_MAX_DIMS);
    }
    for (size_t i = 0; i < sizeof dtype_map / sizeof dtype_map[0]; i++)
        if (dtype_map[i].npy == a.dtype)
            out->dtype = dtype_map[i].dtype;
    void *data = av__aligned_alloc(a.count * a.item_size);
    if (!data) {
        av__npy_free(&a);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    memcpy(data, a.data, a.count * a.item_size);
    out->ndim = a.ndim;
    for (int d = 0; d < a.ndim; d++)
        out->shape[d] = a.shape[d];
    out->data = data;
    av__npy_free(&a);
    return AV_STATUS_OK;
}

av_status av_npy_write(const char *path, const av_tensor *t, char *err, size_t err_size)
{
    if (!t || !path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_npy_write: NULL argument");
    av__npy_array a = {0};
    int found = 0;
    for (size_t i = 0; i < sizeof dtype_map / sizeof dtype_map[0]; i++)
        if (dtype_map[i].dtype == t->dtype) {
            a.dtype = dtype_map[i].npy;
            found = 1;
        }
    if (!found || t->ndim < 0 || t->ndim > AV__NPY_MAX_DIMS)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, "%s: cannot write %s tensors as .npy",
                        path, av_dtype_name(t->dtype));
    a.ndim = t->ndim;
    a.count = 1;
    for (int d = 0; d < t->ndim; d++) {
        a.shape[d] = t->shape[d];
        a.count *= (size_t)t->shape[d];
    }
    a.item_size = av__npy_dtype_size(a.dtype);
    a.data = (void *)(uintptr_t)t->data; /* only read */
    return av__npy_save(path, &a, err, err_size);
}

void av_npy_free(av_tensor *t)
{
    if (!t)
        return;
    av__aligned_free((void *)(uintptr_t)t->data);
    memset(t, 0, sizeof *t);
}
