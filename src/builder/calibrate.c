/* Calibration collectors, the entropy (KL) search and the TensorRT calibration cache. The
 * contracts and the pinned variant of the algorithm are in calibrate.h. */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/calibrate.h"
#include "core/internal.h"

#define FP_PREFIX "__autovoice_fingerprint_"
#define RESERVED_PREFIX "__autovoice_"
#define FP_SCALE_BITS 0x3f800000u /* 1.0f */
#define CACHE_MAX_BYTES (64u << 20)

static const char *const method_names[] = {"entropy", "minmax", "percentile"};
/* TensorRT's algorithm names, in the order of av__calib_method. */
static const char *const algo_names[] = {"EntropyCalibration2", "MinMaxCalibration",
                                         "LegacyCalibration"};
#define METHOD_COUNT 3

const char *av__calib_method_name(av__calib_method method)
{
    return (unsigned)method < METHOD_COUNT ? method_names[method] : NULL;
}

int av__calib_method_from_name(const char *name)
{
    for (int m = 0; name && m < METHOD_COUNT; m++)
        if (strcmp(name, method_names[m]) == 0)
            return m;
    return -1;
}

av__calib_options av__calib_options_default(void)
{
    av__calib_options o = {AV__CALIB_METHOD_ENTROPY, AV__CALIB_DEFAULT_PERCENTILE};
    return o;
}

/* ---- collectors ------------------------------------------------------------------------------ */

struct av__calib_collector {
    char *name;
    av__calib_options opt;
    /* pass 1 */
    uint64_t count;
    float max_abs;
    /* pass 2 */
    int pass2;
    uint64_t count2;
    uint64_t hist[AV__CALIB_BINS];
    /* PERCENTILE: min-heap of the tail_cap largest |x| of pass 2 (root = the smallest of them =
     * the rank-k value once pass 2 is complete); allocated on the first pass-2 call. */
    float *tail;
    size_t tail_len, tail_cap;
};

av_status av__calib_collector_create(const char *name, const av__calib_options *options,
                                     av__calib_collector **out, char *err, size_t err_size)
{
    if (out)
        *out = NULL;
    if (!name || !options || !out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_collector_create: NULL argument");
    if ((unsigned)options->method >= METHOD_COUNT)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': unknown calibration method %d", name, (int)options->method);
    if (options->method == AV__CALIB_METHOD_PERCENTILE &&
        !(options->percentile > 0.0 && options->percentile <= 100.0))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': percentile %g is outside (0, 100]", name, options->percentile);
    av__calib_collector *c = av__calloc(1, sizeof *c);
    size_t len = strlen(name);
    if (c)
        c->name = av__malloc(len + 1);
    if (!c || !c->name) {
        av__free(c);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    memcpy(c->name, name, len + 1);
    c->opt = *options;
    *out = c;
    return AV_STATUS_OK;
}

void av__calib_collector_free(av__calib_collector *c)
{
    if (!c)
        return;
    av__free(c->tail);
    av__free(c->name);
    av__free(c);
}

void av__calib_collector_reset(av__calib_collector *c)
{
    if (!c)
        return;
    av__free(c->tail);
    c->tail = NULL;
    c->tail_len = c->tail_cap = 0;
    c->count = c->count2 = 0;
    c->max_abs = 0.0f;
    c->pass2 = 0;
    memset(c->hist, 0, sizeof c->hist);
}

int av__calib_collector_passes(const av__calib_collector *c)
{
    return c && c->opt.method == AV__CALIB_METHOD_MINMAX ? 1 : 2;
}

/* The index of the first non-finite value of x[0..n), or n. */
static size_t find_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return n;
}

static av_status refuse_nonfinite(const av__calib_collector *c, const float *x, size_t at,
                                  char *err, size_t err_size)
{
    return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                    "tensor '%s': non-finite value %f at index %zu of the batch; calibration "
                    "needs finite activations (check the model and the calibration data)",
                    c->name, (double)x[at], at);
}

av_status av__calib_collector_observe_range(av__calib_collector *c, const float *x, size_t n,
                                            char *err, size_t err_size)
{
    if (!c || (!x && n))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_collector_observe_range: NULL argument");
    if (c->pass2)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': pass 1 (range) is over once pass 2 (histogram) has started",
                        c->name);
    size_t bad = find_nonfinite(x, n);
    if (bad < n)
        return refuse_nonfinite(c, x, bad, err, err_size);
    float m = c->max_abs;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > m)
            m = a;
    }
    c->max_abs = m;
    c->count += n;
    return AV_STATUS_OK;
}

/* Nearest rank k (1-based) of percentile p among count values; see finish in calibrate.h. */
static uint64_t percentile_rank(double p, uint64_t count)
{
    double t = p / 100.0 * (double)count;
    double k = ceil(t - t * 1e-12);
    if (k < 1.0)
        return 1;
    if (k > (double)count)
        return count;
    return (uint64_t)k;
}

static void heap_sift_down(float *h, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < len && h[l] < h[s])
            s = l;
        if (r < len && h[r] < h[s])
            s = r;
        if (s == i)
            return;
        float t = h[i];
        h[i] = h[s];
        h[s] = t;
        i = s;
    }
}

static void heap_push(float *h, size_t *len, float v)
{
    size_t i = (*len)++;
    h[i] = v;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h[parent] <= h[i])
            break;
        float t = h[parent];
        h[parent] = h[i];
        h[i] = t;
        i = parent;
    }
}

static size_t bin_of(float a, float max)
{
    if (max == 0.0f)
        return 0;
    double t = (double)a * (double)AV__CALIB_BINS / (double)max;
    return t >= (double)(AV__CALIB_BINS - 1) ? AV__CALIB_BINS - 1 : (size_t)t;
}

av_status av__calib_collector_observe_histogram(av__calib_collector *c, const float *x, size_t n,
                                                char *err, size_t err_size)
{
    if (!c || (!x && n))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_collector_observe_histogram: NULL argument");
    if (c->count == 0)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': pass 2 (histogram) before any value was seen in pass 1 "
                        "(range)", c->name);
    size_t bad = find_nonfinite(x, n);
    if (bad < n)
        return refuse_nonfinite(c, x, bad, err, err_size);
    if (n > c->count - c->count2)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': pass 2 got %llu values so far plus %zu now, but pass 1 saw "
                        "%llu: both passes must see the same batches", c->name,
                        (unsigned long long)c->count2, n, (unsigned long long)c->count);
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > c->max_abs)
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "tensor '%s': |x| = %g at index %zu of the batch exceeds max|x| = %g "
                            "of pass 1: both passes must see the same batches", c->name,
                            (double)fabsf(x[i]), i, (double)c->max_abs);

    if (c->opt.method == AV__CALIB_METHOD_PERCENTILE && !c->tail) {
        uint64_t cap = c->count - percentile_rank(c->opt.percentile, c->count) + 1;
        if (cap > SIZE_MAX / sizeof(float) || !(c->tail = av__mallocarray((size_t)cap, sizeof(float))))
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                            "tensor '%s': out of memory for the %llu largest values the percentile "
                            "needs", c->name, (unsigned long long)cap);
        c->tail_cap = (size_t)cap;
        c->tail_len = 0;
    }
    c->pass2 = 1;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        c->hist[bin_of(a, c->max_abs)]++;
        if (c->tail) {
            if (c->tail_len < c->tail_cap) {
                heap_push(c->tail, &c->tail_len, a);
            } else if (a > c->tail[0]) {
                c->tail[0] = a;
                heap_sift_down(c->tail, c->tail_len, 0);
            }
        }
    }
    c->count2 += n;
    return AV_STATUS_OK;
}

const uint64_t *av__calib_collector_histogram(const av__calib_collector *c, float *max_abs)
{
    if (!c || !c->pass2)
        return NULL;
    if (max_abs)
        *max_abs = c->max_abs;
    return c->hist;
}

av_status av__calib_collector_finish(const av__calib_collector *c, av__calib_result *out,
                                     char *err, size_t err_size)
{
    if (!c || !out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_collector_finish: NULL argument");
    memset(out, 0, sizeof *out);
    out->bin = -1;
    if (c->count == 0)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': no values were observed; nothing to calibrate", c->name);
    if (av__calib_collector_passes(c) == 2 && c->count2 != c->count)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "tensor '%s': pass 2 (histogram) saw %llu values, pass 1 (range) %llu: "
                        "method %s needs both passes over the same batches", c->name,
                        (unsigned long long)c->count2, (unsigned long long)c->count,
                        av__calib_method_name(c->opt.method));
    out->max_abs = c->max_abs;
    out->count = c->count;

    float threshold = 0.0f;
    switch (c->opt.method) {
    case AV__CALIB_METHOD_MINMAX:
        threshold = c->max_abs;
        break;
    case AV__CALIB_METHOD_PERCENTILE:
        threshold = c->tail[0];
        break;
    case AV__CALIB_METHOD_ENTROPY: {
        size_t best;
        double kl;
        av_status st = av__calib_entropy_search(c->hist, AV__CALIB_BINS, &best, &kl, err, err_size);
        if (st != AV_STATUS_OK)
            return st;
        double t = ((double)best + 0.5) * (double)c->max_abs / AV__CALIB_BINS;
        threshold = (float)(t < (double)c->max_abs ? t : (double)c->max_abs);
        out->bin = (int)best;
        out->divergence = kl;
        break;
    }
    }
    if (threshold == 0.0f) {
        threshold = c->max_abs > 0.0f ? c->max_abs : 1.0f;
        out->fallback = 1;
    }
    out->threshold = threshold;
    out->scale = threshold / 127.0f;
    return AV_STATUS_OK;
}

/* ---- the entropy search ---------------------------------------------------------------------- */

double av__calib_entropy_divergence(const uint64_t *hist, size_t nbins, size_t i)
{
    if (!hist || i == 0 || i > nbins)
        return NAN;
    uint64_t outliers = 0, kept = 0;
    for (size_t j = i; j < nbins; j++)
        outliers += hist[j];
    for (size_t j = 0; j < i; j++)
        kept += hist[j];
    if (kept + outliers == 0)
        return NAN;
    if (kept == 0)
        return INFINITY;
    const double sum_p = (double)(kept + outliers), sum_q = (double)kept;
    double kl = 0.0;
    /* Walk the levels: the bins of level l are the consecutive j with j * LEVELS / i == l. */
    for (size_t start = 0; start < i;) {
        size_t level = start * AV__CALIB_LEVELS / i, end = start, nonzero = 0;
        uint64_t mass = 0;
        for (; end < i && end * AV__CALIB_LEVELS / i == level; end++) {
            mass += hist[end];
            nonzero += hist[end] != 0;
        }
        for (size_t j = start; j < end; j++) {
            uint64_t p = hist[j] + (j == i - 1 ? outliers : 0);
            if (p == 0)
                continue;
            if (hist[j] == 0)
                return INFINITY; /* P > 0 where Q = 0: only the last bin with outliers */
            double pj = (double)p / sum_p;
            double qj = (double)mass / (double)nonzero / sum_q;
            kl += pj * log(pj / qj);
        }
        start = end;
    }
    return kl;
}

av_status av__calib_entropy_search(const uint64_t *hist, size_t nbins, size_t *best_i,
                                   double *best_divergence, char *err, size_t err_size)
{
    if (!hist || !best_i || nbins < AV__CALIB_START_BIN)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "entropy search: need a histogram of at least %d bins",
                        AV__CALIB_START_BIN);
    size_t best = 0;
    double best_kl = INFINITY;
    for (size_t i = AV__CALIB_START_BIN; i <= nbins; i++) {
        double kl = av__calib_entropy_divergence(hist, nbins, i);
        if (isnan(kl))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "entropy search: the histogram is empty");
        if (best == 0 || kl < best_kl) {
            best = i;
            best_kl = kl;
        }
    }
    *best_i = best;
    if (best_divergence)
        *best_divergence = best_kl;
    return AV_STATUS_OK;
}

/* ---- calibration cache ----------------------------------------------------------------------- */

av__calib_fingerprint av__calib_fingerprint_update(av__calib_fingerprint h, const void *data,
                                                   size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

typedef struct name_ref {
    const char *name;
    size_t len;
    size_t index;
} name_ref;

static int name_ref_cmp(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* refs[k] = names[k], sorted; NULL on allocation failure. */
static name_ref *sorted_names(const char *const *names, size_t n)
{
    name_ref *refs = av__mallocarray(n, sizeof *refs);
    if (!refs)
        return NULL;
    for (size_t k = 0; k < n; k++)
        refs[k] = (name_ref){names[k], strlen(names[k]), k};
    qsort(refs, n, sizeof *refs, name_ref_cmp);
    return refs;
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

av_status av__calib_cache_write(const char *path, int version, av__calib_method method,
                                const char *const *names, const float *scales, size_t n,
                                const av__calib_fingerprint *fingerprint, char *err,
                                size_t err_size)
{
    if (!path || (n && (!names || !scales)))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_cache_write: NULL argument");
    if ((unsigned)method >= METHOD_COUNT || version < 0)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: bad calibration method %d or version %d", path, (int)method, version);
    for (size_t k = 0; k < n; k++) {
        const char *nm = names[k];
        if (!nm || !*nm || strpbrk(nm, "\r\n") || has_prefix(nm, strlen(nm), RESERVED_PREFIX))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "%s: tensor name %zu ('%.200s') cannot be written: empty, with a line "
                            "break, or starting with the reserved '" RESERVED_PREFIX "'",
                            path, k, nm ? nm : "(null)");
        if (!isfinite(scales[k]) || !(scales[k] > 0.0f))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "%s: tensor '%.200s': scale %g must be finite and > 0", path, nm,
                            (double)scales[k]);
    }

    av_status st = AV_STATUS_OK;
    name_ref *refs = NULL;
    char *tmp = NULL;
    FILE *f = NULL;
    if (n && !(refs = sorted_names(names, n))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (size_t k = 1; k < n; k++)
        if (name_ref_cmp(&refs[k - 1], &refs[k]) == 0) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "%s: tensor '%.200s' is given twice", path, refs[k].name);
            goto done;
        }
    size_t plen = strlen(path);
    if (!(tmp = av__malloc(plen + 5))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    snprintf(tmp, plen + 5, "%s.tmp", path);
    if (!(f = fopen(tmp, "wb"))) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: cannot create the temporary file: %s",
                      tmp, strerror(errno));
        goto done;
    }
    int failed = fprintf(f, "TRT-%d-%s\n", version, algo_names[method]) < 0;
    if (fingerprint)
        failed |= fprintf(f, FP_PREFIX "%016llx: %08x\n", (unsigned long long)*fingerprint,
                          FP_SCALE_BITS) < 0;
    for (size_t k = 0; k < n && !failed; k++)
        failed = fprintf(f, "%s: %08lx\n", names[k], (unsigned long)float_bits(scales[k])) < 0;
    st = av__file_commit(f, failed, errno, tmp, path, err, err_size);
done:
    av__free(tmp);
    av__free(refs);
    return st;
}

/* The whole file, NUL-terminated (for the error paths only; lines are parsed by length). */
static av_status slurp(const char *path, char **out, size_t *len, char *err, size_t err_size)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = av__malloc(cap);
    av_status st = AV_STATUS_OK;
    while (buf) {
        if (n > CACHE_MAX_BYTES) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s: larger than %u MiB: not a calibration cache", path,
                          CACHE_MAX_BYTES >> 20);
            goto fail;
        }
        if (n + 1 >= cap) {
            char *bigger = av__realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                st = av__fail(err, err_size, AV_STATUS_IO, "%s: read error", path);
                goto fail;
            }
            buf[n] = '\0';
            fclose(f);
            *out = buf;
            *len = n;
            return AV_STATUS_OK;
        }
    }
    st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
fail:
    av__free(buf);
    fclose(f);
    return st;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses exactly `digits` hex digits of s[0..len); 0 when len differs or a digit is bad. */
static int parse_hex(const char *s, size_t len, size_t digits, uint64_t *out)
{
    if (len != digits)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = hexval(s[i]);
        if (d < 0)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 1;
}

/* Header "TRT-<1..9 digits>-<algorithm>" -> version, method; 0 when malformed, -1 when the
 * algorithm is not one of ours. */
static int parse_header(const char *s, size_t len, int *version, av__calib_method *method)
{
    if (len < 4 || memcmp(s, "TRT-", 4) != 0)
        return 0;
    size_t i = 4;
    long v = 0;
    for (; i < len && i < 4 + 9 && s[i] >= '0' && s[i] <= '9'; i++)
        v = v * 10 + (s[i] - '0');
    if (i == 4 || i >= len || s[i] != '-')
        return 0;
    i++;
    for (int m = 0; m < METHOD_COUNT; m++)
        if (len - i == strlen(algo_names[m]) && memcmp(s + i, algo_names[m], len - i) == 0) {
            *version = (int)v;
            *method = (av__calib_method)m;
            return 1;
        }
    return -1;
}

/* The model's tensor list: no NULL, no name twice (the caller's mistake, not the file's). */
static av_status check_names(const char *const *names, size_t n, char *err, size_t err_size)
{
    for (size_t k = 0; k < n; k++)
        if (!names[k])
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "av__calib_cache_read: names[%zu] is NULL", k);
    name_ref *refs = n ? sorted_names(names, n) : NULL;
    if (n && !refs)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av_status st = AV_STATUS_OK;
    for (size_t k = 1; k < n && st == AV_STATUS_OK; k++)
        if (name_ref_cmp(&refs[k - 1], &refs[k]) == 0)
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "av__calib_cache_read: the model's tensor '%.200s' is listed twice",
                          refs[k].name);
    av__free(refs);
    return st;
}

av_status av__calib_cache_read(const char *path, const char *const *names, size_t n,
                               const av__calib_fingerprint *expected_fingerprint, float *scales,
                               av__calib_cache_info *info, char *err, size_t err_size)
{
    if (!path || (n && (!names || !scales)))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_cache_read: NULL argument");
    av_status st = check_names(names, n, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    char *buf = NULL;
    size_t len = 0;
    st = slurp(path, &buf, &len, err, err_size);
    if (st == AV_STATUS_OK)
        st = av__calib_cache_parse(buf, len, path, names, n, expected_fingerprint, scales, info,
                                   err, err_size);
    av__free(buf);
    return st;
}

av_status av__calib_cache_parse(const char *buf, size_t len, const char *path,
                                const char *const *names, size_t n,
                                const av__calib_fingerprint *expected_fingerprint, float *scales,
                                av__calib_cache_info *info, char *err, size_t err_size)
{
    if (!path || (len && !buf) || (n && (!names || !scales)))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_cache_read: NULL argument");
    av_status st = check_names(names, n, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    if (len > CACHE_MAX_BYTES)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: larger than %u MiB: not a calibration cache", path,
                        CACHE_MAX_BYTES >> 20);
    name_ref *refs = NULL;
    size_t *seen_line = NULL; /* per names[] index: the line it was found on, 0 = not yet */
    float *found = NULL;
    av__calib_cache_info got = {0};
    size_t fp_line = 0;
    if (n && (!(refs = sorted_names(names, n)) || !(seen_line = av__calloc(n, sizeof *seen_line)) ||
              !(found = av__mallocarray(n, sizeof *found)))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if (len == 0) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:1: empty file, expected a "
                      "'TRT-<version>-<algorithm>' header", path);
        goto done;
    }

    size_t line_no = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        line_no++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (memchr(line, '\0', ll)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:%zu: NUL byte: not a text "
                          "calibration cache", path, line_no);
            goto done;
        }
        if (line_no == 1) {
            int h = parse_header(line, ll, &got.version, &got.method);
            if (h <= 0) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT,
                              h < 0 ? "%s:1: unsupported calibration algorithm in '%.*s' (expected "
                                      "EntropyCalibration2, MinMaxCalibration or LegacyCalibration)"
                                    : "%s:1: bad header '%.*s', expected "
                                      "'TRT-<version>-<algorithm>'",
                              path, (int)(ll > 200 ? 200 : ll), line);
                goto done;
            }
            continue;
        }
        /* name ": " hex, split at the last ": " */
        size_t sep = ll;
        for (size_t i = ll; i >= 2; i--)
            if (line[i - 2] == ':' && line[i - 1] == ' ') {
                sep = i - 2;
                break;
            }
        uint64_t bits;
        if (sep == ll || sep == 0 || !parse_hex(line + sep + 2, ll - sep - 2, 8, &bits)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s:%zu: malformed line '%.*s', expected '<tensor name>: <8 hex "
                          "digits>'", path, line_no, (int)(ll > 200 ? 200 : ll), line);
            goto done;
        }
        if (has_prefix(line, sep, FP_PREFIX)) {
            uint64_t fp;
            if (!parse_hex(line + strlen(FP_PREFIX), sep - strlen(FP_PREFIX), 16, &fp) ||
                bits != FP_SCALE_BITS) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT,
                              "%s:%zu: malformed fingerprint entry '%.*s'", path, line_no,
                              (int)(ll > 200 ? 200 : ll), line);
                goto done;
            }
            if (fp_line) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT,
                              "%s:%zu: second fingerprint entry (the first is on line %zu)", path,
                              line_no, fp_line);
                goto done;
            }
            fp_line = line_no;
            got.has_fingerprint = 1;
            got.fingerprint = fp;
            if (expected_fingerprint && fp != *expected_fingerprint) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT,
                              "%s:%zu: calibration cache made for another model or other "
                              "calibration settings (fingerprint %016llx, this build's "
                              "%016llx); delete it or use another cache file",
                              path, line_no, (unsigned long long)fp,
                              (unsigned long long)*expected_fingerprint);
                goto done;
            }
            continue;
        }
        if (has_prefix(line, sep, RESERVED_PREFIX)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s:%zu: '%.*s' uses the reserved prefix '" RESERVED_PREFIX "'", path,
                          line_no, (int)(sep > 200 ? 200 : sep), line);
            goto done;
        }
        float scale = bits_float((uint32_t)bits);
        if (!isfinite(scale) || !(scale > 0.0f)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s:%zu: tensor '%.*s': scale %08llx (%g) must be finite and > 0", path,
                          line_no, (int)(sep > 200 ? 200 : sep), line, (unsigned long long)bits,
                          (double)scale);
            goto done;
        }
        name_ref key = {line, sep, 0};
        const name_ref *hit = n ? bsearch(&key, refs, n, sizeof *refs, name_ref_cmp) : NULL;
        if (!hit) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s:%zu: tensor '%.*s' is not one of the model's %zu calibrated "
                          "tensors (a cache for another model?)", path, line_no,
                          (int)(sep > 200 ? 200 : sep), line, n);
            goto done;
        }
        if (seen_line[hit->index]) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s:%zu: tensor '%.*s' appears twice (first on line %zu)", path, line_no,
                          (int)(sep > 200 ? 200 : sep), line, seen_line[hit->index]);
            goto done;
        }
        seen_line[hit->index] = line_no;
        found[hit->index] = scale;
    }
    for (size_t k = 0; k < n; k++)
        if (!seen_line[k]) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s: no scale for the model's tensor '%.200s' (a cache for another "
                          "model?)", path, names[k]);
            goto done;
        }
    if (expected_fingerprint && !got.has_fingerprint) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT,
                      "%s: no " FP_PREFIX " entry, so it cannot be checked against this model; "
                      "delete it or use another cache file", path);
        goto done;
    }
    if (n)
        memcpy(scales, found, n * sizeof *scales);
    if (info)
        *info = got;
done:
    av__free(found);
    av__free(seen_line);
    av__free(refs);
    return st;
}
