/* libFuzzer target for builder/npz: feeds each input to av__npz_parse and checks what a
 * successful parse promises (npz.h): named members, each a valid .npy array. Build and run:
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    av__npz_entry *e = NULL;
    size_t n = 0;
    if (av__npz_parse(data, size, "fuzz.npz", &e, &n, err, sizeof err) != AV_STATUS_OK) {
        if (e || n || !memchr(err, '\0', sizeof err) || strncmp(err, "fuzz.npz: ", 10) != 0)
            abort(); /* a failure returns nothing and says why, naming the file */
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const av__npy_array *a = &e[i].array;
        if (!e[i].name || !e[i].name[0] || a->item_size != av__npy_dtype_size(a->dtype) ||
            (uintptr_t)a->data % 64 != 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(e[i].name, e[j].name))
                abort(); /* names are unique */
        volatile unsigned char sink = 0; /* touch every byte so ASan sees any overrun */
        for (size_t k = 0; k < a->count * a->item_size; k++)
            sink ^= ((const unsigned char *)a->data)[k];
        (void)sink;
    }
    av__npz_free(e, n);
    return 0;
}
