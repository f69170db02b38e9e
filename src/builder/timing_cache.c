/* The tactic timing cache; format and contract in timing_cache.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/timing_cache.h"
#include "core/internal.h"

#define MAGIC "autovoice-timing-cache"
#define MAX_BYTES (16u << 20)
#define MAX_NS 1000000000000000ull    /* 10^15 ns: 11.6 days */
#define MAX_SCRATCH (1ull << 62)

/* ---- entries --------------------------------------------------------------------------------- */

static int key_ok(const char *k, size_t len)
{
    if (len < 1 || len > AV__TIMING_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return 0;
    return 1;
}

/* Index of the first entry whose key is >= key. */
static size_t lower_bound(const av__timing_cache *c, const char *key)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->e[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const av__timing_entry *av__timing_cache_find(const av__timing_cache *c, const char *key)
{
    if (!c || !key)
        return NULL;
    size_t i = lower_bound(c, key);
    return i < c->n && !strcmp(c->e[i].key, key) ? &c->e[i] : NULL;
}

av_status av__timing_cache_put(av__timing_cache *c, const av__timing_entry *e, char *err,
                               size_t err_size)
{
    if (!c || !e || !e->key)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__timing_cache_put: NULL argument");
    size_t len = strlen(e->key);
    if (!key_ok(e->key, len) || e->gemm_ns < 1 || e->gemm_ns > MAX_NS || e->onednn_ns < 1 ||
        e->onednn_ns > MAX_NS || e->gemm_bytes > MAX_SCRATCH || e->onednn_bytes > MAX_SCRATCH)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "timing cache entry '%.100s': bad key, time or size", e->key);
    size_t i = lower_bound(c, e->key);
    char *key = av__malloc(len + 1);
    if (!key)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    memcpy(key, e->key, len + 1);
    if (i < c->n && !strcmp(c->e[i].key, e->key)) {
        av__free(c->e[i].key);
        c->e[i] = *e;
        c->e[i].key = key;
        return AV_STATUS_OK;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        av__timing_entry *bigger = av__realloc(c->e, cap * sizeof *bigger);
        if (!bigger) {
            av__free(key);
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        }
        c->e = bigger;
        c->cap = cap;
    }
    memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof *c->e);
    c->e[i] = *e;
    c->e[i].key = key;
    c->n++;
    return AV_STATUS_OK;
}

void av__timing_cache_free(av__timing_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        av__free(c->e[i].key);
    av__free(c->e);
    memset(c, 0, sizeof *c);
}

/* ---- reading --------------------------------------------------------------------------------- */

/* A decimal number of 1 to 19 digits in s[0..len), at most max. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len < 1 || len > 19)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return 0;
    *out = v;
    return 1;
}

/* Splits line[0..len) at single spaces into at most `max` tokens; the count, or -1 when an
 * empty token (two spaces, a leading or trailing space) or more tokens than max. */
static int split(const char *line, size_t len, const char **tok, size_t *tlen, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ' ')
            continue;
        if (i == start || n == max)
            return -1;
        tok[n] = line + start;
        tlen[n++] = i - start;
        start = i + 1;
    }
    return n;
}

/* "WORD value..." with value the rest of the line (non-empty, printable); 0 when not so. */
static int header_value(const char *line, size_t len, const char *word, const char **v,
                        size_t *vlen)
{
    size_t w = strlen(word);
    if (len < w + 2 || memcmp(line, word, w) != 0 || line[w] != ' ')
        return 0;
    *v = line + w + 1;
    *vlen = len - w - 1;
    for (size_t i = 0; i < *vlen; i++)
        if ((unsigned char)(*v)[i] < 0x20 || (*v)[i] == 0x7f)
            return 0;
    return 1;
}

static int same(const char *v, size_t vlen, const char *s)
{
    return strlen(s) == vlen && memcmp(v, s, vlen) == 0;
}

av_status av__timing_cache_parse(const char *text, size_t len, const char *name,
                                 const av__timing_env *env, av__timing_cache *out, int *stale,
                                 char *why, size_t why_size, char *err, size_t err_size)
{
    if (!out || !stale || !name || !env || (len && !text))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__timing_cache_parse: NULL argument");
    memset(out, 0, sizeof *out);
    *stale = 0;
    if (why && why_size)
        why[0] = '\0';
    if (len > MAX_BYTES)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: larger than %u MiB: not a timing cache", name, MAX_BYTES >> 20);
    av__timing_cache c = {0};
    av_status st = AV_STATUS_OK;
    size_t line_no = 0;
    const char *prev = NULL; /* the previous layer's key (in c) */
    for (size_t pos = 0; pos < len || line_no < 4;) {
        const char *line = text + pos;
        const char *nl = pos < len ? memchr(line, '\n', len - pos) : NULL;
        size_t ll = pos < len ? (nl ? (size_t)(nl - line) : len - pos) : 0;
        int at_end = pos >= len;
        pos += ll + (nl ? 1 : 0);
        line_no++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (ll && memchr(line, '\0', ll)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:%zu: NUL byte: not a timing "
                          "cache", name, line_no);
            goto done;
        }
        const char *v;
        size_t vlen;
        if (line_no == 1) {
            size_t m = strlen(MAGIC);
            uint64_t version;
            if (ll < m + 2 || memcmp(line, MAGIC " ", m + 1) != 0 ||
                !parse_u64(line + m + 1, ll - m - 1, 1000000000, &version)) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:1: not an autovoice timing "
                              "cache (expected '" MAGIC " %d')", name, AV__TIMING_CACHE_VERSION);
                goto done;
            }
            if (version != AV__TIMING_CACHE_VERSION) {
                *stale = 1;
                if (why)
                    snprintf(why, why_size, "timing cache format %llu; this build reads "
                             "format %d", (unsigned long long)version, AV__TIMING_CACHE_VERSION);
                goto done;
            }
            continue;
        }
        if (line_no == 2 || line_no == 3) {
            const char *word = line_no == 2 ? "library" : "onednn";
            const char *mine = line_no == 2 ? env->library : env->onednn;
            if (at_end || !header_value(line, ll, word, &v, &vlen)) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:%zu: expected '%s "
                              "<version>'", name, line_no, word);
                goto done;
            }
            if (!same(v, vlen, mine)) {
                *stale = 1;
                if (why)
                    snprintf(why, why_size, "measured with %s %.*s; this is %s %s",
                             line_no == 2 ? "autovoice" : "oneDNN", (int)(vlen > 64 ? 64 : vlen),
                             v, line_no == 2 ? "autovoice" : "oneDNN", mine);
                goto done;
            }
            continue;
        }
        if (line_no == 4) {
            uint64_t features = 0;
            int ok = !at_end && header_value(line, ll, "cpu", &v, &vlen) && vlen >= 18 &&
                     v[16] == ' ';
            for (int i = 0; ok && i < 16; i++) {
                char ch = v[i];
                int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                                                                    : -1;
                ok = d >= 0;
                features = features << 4 | (uint64_t)(d < 0 ? 0 : d);
            }
            if (!ok) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:4: expected 'cpu <16 hex "
                              "digits> <model>'", name);
                goto done;
            }
            if (features != env->cpu || !same(v + 17, vlen - 17, env->cpu_model)) {
                *stale = 1;
                if (why)
                    snprintf(why, why_size, "measured on another CPU (%.*s)",
                             (int)(vlen - 17 > 96 ? 96 : vlen - 17), v + 17);
                goto done;
            }
            continue;
        }
        /* layer <key> gemm <ns> <bytes> onednn <ns> <bytes> */
        const char *tok[8];
        size_t tl[8];
        uint64_t num[4];
        int nt = split(line, ll, tok, tl, 8);
        int ok = nt == 8 && same(tok[0], tl[0], "layer") && key_ok(tok[1], tl[1]) &&
                 same(tok[2], tl[2], "gemm") && same(tok[5], tl[5], "onednn") &&
                 parse_u64(tok[3], tl[3], MAX_NS, &num[0]) && num[0] >= 1 &&
                 parse_u64(tok[4], tl[4], MAX_SCRATCH, &num[1]) &&
                 parse_u64(tok[6], tl[6], MAX_NS, &num[2]) && num[2] >= 1 &&
                 parse_u64(tok[7], tl[7], MAX_SCRATCH, &num[3]);
        if (!ok) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s:%zu: malformed line '%.*s', expected 'layer <key> gemm <ns> "
                          "<bytes> onednn <ns> <bytes>'", name, line_no,
                          (int)(ll > 120 ? 120 : ll), line);
            goto done;
        }
        char key[AV__TIMING_KEY_MAX + 1];
        memcpy(key, tok[1], tl[1]);
        key[tl[1]] = '\0';
        if (prev && strcmp(prev, key) >= 0) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s:%zu: layer '%s' is out of order "
                          "or repeated (keys are sorted and unique)", name, line_no, key);
            goto done;
        }
        av__timing_entry e = {.key = key, .gemm_ns = num[0], .gemm_bytes = num[1],
                              .onednn_ns = num[2], .onednn_bytes = num[3]};
        if ((st = av__timing_cache_put(&c, &e, err, err_size)) != AV_STATUS_OK)
            goto done;
        prev = c.e[c.n - 1].key; /* sorted input: the new entry is the last */
    }
    *out = c;
    memset(&c, 0, sizeof c);
done:
    av__timing_cache_free(&c);
    return st;
}

av_status av__timing_cache_load(const char *path, const av__timing_env *env,
                                av__timing_cache *out, int *stale, char *why, size_t why_size,
                                char *err, size_t err_size)
{
    if (!path || !out || !stale)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__timing_cache_load: NULL argument");
    memset(out, 0, sizeof *out);
    *stale = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return av__fail(err, err_size, errno == ENOENT ? AV_STATUS_NOT_FOUND : AV_STATUS_IO,
                        "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    av_status st = AV_STATUS_OK;
    for (;;) {
        if (n == cap) {
            if (cap > MAX_BYTES) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: larger than %u MiB: not a "
                              "timing cache", path, MAX_BYTES >> 20);
                break;
            }
            size_t c2 = cap ? 2 * cap : 8192;
            char *bigger = av__realloc(buf, c2);
            if (!bigger) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                break;
            }
            buf = bigger;
            cap = c2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = av__fail(err, err_size, AV_STATUS_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == AV_STATUS_OK)
        st = av__timing_cache_parse(buf, n, path, env, out, stale, why, why_size, err, err_size);
    av__free(buf);
    return st;
}

/* ---- writing --------------------------------------------------------------------------------- */

static int env_string_ok(const char *s)
{
    if (!s || !s[0])
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

av_status av__timing_cache_write(const char *path, const av__timing_env *env,
                                 const av__timing_cache *c, char *err, size_t err_size)
{
    if (!path || !env || !c)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__timing_cache_write: NULL argument");
    if (!env_string_ok(env->library) || !env_string_ok(env->onednn) ||
        !env_string_ok(env->cpu_model) || strchr(env->library, ' ') ||
        strchr(env->onednn, ' '))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: bad library, oneDNN or CPU description", path);
    size_t plen = strlen(path);
    char *tmp = av__malloc(plen + 5);
    if (!tmp)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    snprintf(tmp, plen + 5, "%s.tmp", path);
    av_status st = AV_STATUS_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: cannot create the temporary file: %s",
                      tmp, strerror(errno));
        goto done;
    }
    int failed = fprintf(f, MAGIC " %d\nlibrary %s\nonednn %s\ncpu %016llx %s\n",
                         AV__TIMING_CACHE_VERSION, env->library, env->onednn,
                         (unsigned long long)env->cpu, env->cpu_model) < 0;
    for (size_t i = 0; i < c->n && !failed; i++)
        failed = fprintf(f, "layer %s gemm %llu %llu onednn %llu %llu\n", c->e[i].key,
                         (unsigned long long)c->e[i].gemm_ns,
                         (unsigned long long)c->e[i].gemm_bytes,
                         (unsigned long long)c->e[i].onednn_ns,
                         (unsigned long long)c->e[i].onednn_bytes) < 0;
    st = av__file_commit(f, failed, errno, tmp, path, err, err_size);
done:
    av__free(tmp);
    return st;
}
