/* Microbenchmark of the vectorised float32 elementwise variants (best of 20 passes over 1 Mi
 * elements, one thread). Build and run from the repository root after `make build`:
 *   gcc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/micro_elementwise.c \
 *       build/lib/libautovoice.a $(pkg-config --libs sndfile openblas) -lpthread -lm \
 *       -o build/micro_elementwise && build/micro_elementwise
 * The references (libm, av__ew_unary_kernel_ref) are timed too, for the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ops/elementwise_internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double best_ns(av__ew_unary_fn f, float *y, const float *x, int64_t n, const av__ew_params *p)
{
    double best = 1e9;
    for (int r = 0; r < 20; r++) {
        double t = now();
        f(y, x, n, p);
        t = now() - t;
        if (t < best)
            best = t;
    }
    return best * 1e9 / (double)n;
}

int main(void)
{
    const int64_t n = 1 << 20;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!x || !y)
        return 1;
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(i % 2000 - 1000) * 0.01f;
    av__ew_params p = {0};
    p.alpha = 0.1f;
    static const struct { av__ew_unop op; const char *name; } ops[] = {
        {AV__EW_EXP, "exp"}, {AV__EW_SIGMOID, "sigmoid"}, {AV__EW_TANH, "tanh"},
        {AV__EW_LEAKY_RELU, "leaky_relu"},
    };
    printf("%-12s %14s %14s\n", "float32", "variant ns/el", "reference ns/el");
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        printf("%-12s %14.3f %14.3f\n", ops[k].name,
               best_ns(av__ew_unary_kernel(ops[k].op, AV__DT_F32), y, x, n, &p),
               best_ns(av__ew_unary_kernel_ref(ops[k].op, AV__DT_F32), y, x, n, &p));
    free(x);
    free(y);
    return 0;
}
