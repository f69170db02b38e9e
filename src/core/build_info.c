#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "autovoice/common.h"
#include "core/cuda_probe.h"
#include "core/internal.h"

#ifndef AV_VERSION
#error "AV_VERSION must be defined by the build"
#endif

const char *av_version_string(void) { return AV_VERSION; }

#if !AV_HAVE_CUDA
/* CPU-only build: the CUDA probe reports nothing present. */
int av__cuda_built(void) { return 0; }
const char *av__cuda_architectures(void) { return ""; }
av_status av__cuda_device_count(int *count, char *err, size_t err_size)
{
    *count = 0;
    return av__fail(err, err_size, AV_STATUS_OK, "CUDA backend not built");
}
av_status av__cuda_device_describe(int index, char *out, size_t out_size)
{
    return av__fail(out, out_size, AV_STATUS_UNSUPPORTED,
                    "device %d: CUDA backend not built into this binary", index);
}
av_status av__cuda_selftest(int index, char *err, size_t err_size)
{
    return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                    "device %d: CUDA backend not built into this binary", index);
}
#endif

static char g_info[2048];
static once_flag g_info_once = ONCE_FLAG_INIT;

__attribute__((format(printf, 2, 3))) static void append(size_t *len, const char *fmt, ...)
{
    if (*len >= sizeof g_info)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g_info + *len, sizeof g_info - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

static void fill_info(void)
{
    size_t len = 0;
    append(&len, "version: %s\n", AV_VERSION);
    append(&len, "backends: cpu%s\n", av__cuda_built() ? " cuda" : "");

    char features[256] = "";
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports needs string literals, hence the two parallel lists. */
    static const char *const names[] = {"sse4.2", "avx2", "fma", "f16c",
                                        "avx512f", "avx512vnni", "avx512bf16"};
    const int present[sizeof names / sizeof names[0]] = {
        __builtin_cpu_supports("sse4.2"), __builtin_cpu_supports("avx2"),
        __builtin_cpu_supports("fma"), __builtin_cpu_supports("f16c"),
        __builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx512vnni"),
        __builtin_cpu_supports("avx512bf16"),
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (present[i]) {
            strncat(features, features[0] ? " " : "", sizeof features - strlen(features) - 1);
            strncat(features, names[i], sizeof features - strlen(features) - 1);
        }
    }
#endif
    append(&len, "cpu features: %s\n", features[0] ? features : "(baseline only)");

    if (!av__cuda_built()) {
        append(&len, "cuda: not built (configured without nvcc, or AV_CUDA=OFF)\n");
        return;
    }
    append(&len, "cuda: built for sm %s\n", av__cuda_architectures());
    int count = 0;
    char msg[256] = "";
    av_status st = av__cuda_device_count(&count, msg, sizeof msg);
    if (st != AV_STATUS_OK) {
        append(&len, "cuda devices: error: %s\n", msg);
    } else if (count == 0) {
        append(&len, "cuda devices: none (%s)\n", msg);
    } else {
        for (int i = 0; i < count; i++) {
            char desc[256];
            av__cuda_device_describe(i, desc, sizeof desc);
            append(&len, "cuda:%d: %s\n", i, desc);
        }
    }
}

const char *av_build_info(void)
{
    call_once(&g_info_once, fill_info);
    return g_info;
}
