/* libFuzzer target for util/npy: feeds each input to av__npy_parse and checks the invariants a
 * successful parse promises (npy.h). Build and run: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    av__npy_array a;
    if (av__npy_parse(data, size, &a, err, sizeof err) != AV_STATUS_OK) {
        if (a.data || a.alloc || !memchr(err, '\0', sizeof err) || !err[0])
            abort(); /* a failure leaves *out zeroed and says why */
        return 0;
    }
    size_t count = 1;
    for (int k = 0; k < a.ndim; k++) {
        if (a.shape[k] < 0)
            abort();
        count *= (size_t)a.shape[k];
    }
    if (a.ndim < 0 || a.ndim > AV__NPY_MAX_DIMS || count != a.count ||
        a.item_size != av__npy_dtype_size(a.dtype) || (uintptr_t)a.data % 64 != 0 ||
        a.count * a.item_size > size)
        abort();
    const unsigned char *bytes = a.data;
    for (size_t i = 0; a.dtype == AV__NPY_BOOL && i < a.count; i++)
        if (bytes[i] > 1)
            abort();
    volatile unsigned char sink = 0; /* touch every byte so ASan sees any overrun */
    for (size_t i = 0; i < a.count * a.item_size; i++)
        sink ^= bytes[i];
    (void)sink;
    av__npy_free(&a);
    return 0;
}
