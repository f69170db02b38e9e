/* The small pieces plans need besides their reader and writer (engine/plan_format.h): the CPU
 * feature bits, XXH64, and the record of a plan's source file. */
#define _DEFAULT_SOURCE /* struct stat's st_mtim */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "core/internal.h"
#include "engine/plan_format.h"

/* ---- CPU features --------------------------------------------------------------------------- */

static const char *const cpu_feature_names[] = {"sse4.2",  "avx2",     "fma",      "f16c",
                                                "avx512f", "avx512bw", "avx512dq", "avx512vl",
                                                "avx512_vnni", "avx512_bf16"};

#if defined(__x86_64__)
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

uint64_t av__plan_cpu_features(void)
{
    uint64_t f = 0;
#if defined(__x86_64__)
    /* cpuid, plus the OS's consent (XCR0) for the AVX and AVX-512 register states */
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int avx_os = (xcr0 & 0x6) == 0x6, avx512_os = avx_os && (xcr0 & 0xe0) == 0xe0;
    f |= (c >> 20) & 1 ? AV__PLAN_CPU_SSE42 : 0;
    if (avx_os && ((c >> 28) & 1)) { /* AVX */
        f |= (c >> 12) & 1 ? AV__PLAN_CPU_FMA : 0;
        f |= (c >> 29) & 1 ? AV__PLAN_CPU_F16C : 0;
    }
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 7 && avx_os && ((c >> 28) & 1)) {
        __cpuid_count(7, 0, a, b, c, d);
        unsigned max_sub = a;
        f |= (b >> 5) & 1 ? AV__PLAN_CPU_AVX2 : 0;
        if (avx512_os) {
            f |= (b >> 16) & 1 ? AV__PLAN_CPU_AVX512F : 0;
            f |= (b >> 17) & 1 ? AV__PLAN_CPU_AVX512DQ : 0;
            f |= (b >> 30) & 1 ? AV__PLAN_CPU_AVX512BW : 0;
            f |= (b >> 31) & 1 ? AV__PLAN_CPU_AVX512VL : 0;
            f |= (c >> 11) & 1 ? AV__PLAN_CPU_AVX512_VNNI : 0;
            if (max_sub >= 1) {
                __cpuid_count(7, 1, a, b, c, d);
                f |= (a >> 5) & 1 ? AV__PLAN_CPU_AVX512_BF16 : 0;
            }
        }
    }
#endif
    return f;
}

void av__plan_cpu_feature_names(uint64_t features, char *out, size_t size)
{
    size_t at = 0;
    if (!size)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof cpu_feature_names / sizeof cpu_feature_names[0]; i++)
        if ((features >> i) & 1u) {
            int n = snprintf(out + at, size - at, "%s%s", at ? " " : "", cpu_feature_names[i]);
            at = n > 0 && (size_t)n < size - at ? at + (size_t)n : size - 1;
        }
    if (features & ~(uint64_t)AV__PLAN_CPU_KNOWN)
        snprintf(out + at, size - at, "%sunknown bits 0x%llx", at ? " " : "",
                 (unsigned long long)(features & ~(uint64_t)AV__PLAN_CPU_KNOWN));
    else if (!features)
        snprintf(out, size, "none");
}

/* ---- XXH64 ------------------------------------------------------------------------------------ */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* XXH64 reads little-endian words: plans exist on little-endian hosts only */
    return v;
}
static uint32_t le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t xxh_round(uint64_t acc, uint64_t input)
{
    acc += input * P2;
    return rotl64(acc, 31) * P1;
}
static uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
    acc ^= xxh_round(0, v);
    return acc * P1 + P4;
}

void av__xxh64_init(av__xxh64 *h, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->seed = seed;
    h->v[0] = seed + P1 + P2;
    h->v[1] = seed + P2;
    h->v[2] = seed;
    h->v[3] = seed - P1;
}

void av__xxh64_update(av__xxh64 *h, const void *data, size_t size)
{
    const unsigned char *p = data, *end = p + size;
    h->total += size;
    if (h->buffered + size < 32) {
        if (size)
            memcpy(h->buf + h->buffered, p, size);
        h->buffered += (unsigned)size;
        return;
    }
    if (h->buffered) {
        size_t fill = 32 - h->buffered;
        memcpy(h->buf + h->buffered, p, fill);
        for (int i = 0; i < 4; i++)
            h->v[i] = xxh_round(h->v[i], le64(h->buf + 8 * i));
        p += fill;
        h->buffered = 0;
    }
    uint64_t v0 = h->v[0], v1 = h->v[1], v2 = h->v[2], v3 = h->v[3];
    for (; end - p >= 32; p += 32) {
        v0 = xxh_round(v0, le64(p));
        v1 = xxh_round(v1, le64(p + 8));
        v2 = xxh_round(v2, le64(p + 16));
        v3 = xxh_round(v3, le64(p + 24));
    }
    h->v[0] = v0, h->v[1] = v1, h->v[2] = v2, h->v[3] = v3;
    h->buffered = (unsigned)(end - p);
    if (h->buffered)
        memcpy(h->buf, p, h->buffered);
}

uint64_t av__xxh64_digest(const av__xxh64 *h)
{
    uint64_t acc;
    if (h->total >= 32) {
        acc = rotl64(h->v[0], 1) + rotl64(h->v[1], 7) + rotl64(h->v[2], 12) + rotl64(h->v[3], 18);
        for (int i = 0; i < 4; i++)
            acc = xxh_merge(acc, h->v[i]);
    } else {
        acc = h->seed + P5;
    }
    acc += h->total;
    const unsigned char *p = h->buf, *end = h->buf + h->buffered;
    for (; end - p >= 8; p += 8)
        acc = rotl64(acc ^ xxh_round(0, le64(p)), 27) * P1 + P4;
    if (end - p >= 4) {
        acc = rotl64(acc ^ (uint64_t)le32(p) * P1, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++)
        acc = rotl64(acc ^ *p * P5, 11) * P1;
    acc ^= acc >> 33;
    acc *= P2;
    acc ^= acc >> 29;
    acc *= P3;
    acc ^= acc >> 32;
    return acc;
}

uint64_t av__xxh64_once(const void *data, size_t size, uint64_t seed)
{
    av__xxh64 h;
    av__xxh64_init(&h, seed);
    av__xxh64_update(&h, data, size);
    return av__xxh64_digest(&h);
}

uint64_t av__plan_checksum(const uint8_t *data, size_t size)
{
    static const unsigned char zeros[8];
    av__xxh64 h;
    av__xxh64_init(&h, 0);
    av__xxh64_update(&h, data, AV__PLAN_OFF_CHECKSUM);
    av__xxh64_update(&h, zeros, 8);
    av__xxh64_update(&h, data + AV__PLAN_OFF_CHECKSUM + 8, size - AV__PLAN_OFF_CHECKSUM - 8);
    return av__xxh64_digest(&h);
}

av_status av__plan_source_stat(const char *path, av__plan_source *src, char *err, size_t err_size)
{
    memset(src, 0, sizeof *src);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(e));
    }
    src->size = (uint64_t)sb.st_size;
    src->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    av__xxh64 h;
    av__xxh64_init(&h, 0);
    unsigned char *chunk = av__malloc(1 << 20);
    av_status st = AV_STATUS_OK;
    if (!chunk) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        av__xxh64_update(&h, chunk, (size_t)n);
    }
    src->hash = av__xxh64_digest(&h);
done:
    av__free(chunk);
    close(fd);
    return st;
}
