/* NumPy .npy reader and writer; contract in npy.h. */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync, XSI strerror_r */

#include "util/npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

/* Data bytes are copied as they are, so the in-memory layout is the file's little-endian one. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "util/npy.c assumes a little-endian host"
#endif
#endif

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const struct dtype_info {
    const char *name;
    const char *descr; /* as written by av__npy_save; [1] and [2] are matched when reading */
    size_t size;
} dtype_table[AV__NPY_DTYPE_COUNT] = {
    [AV__NPY_F32] = {"float32", "<f4", 4}, [AV__NPY_F64] = {"float64", "<f8", 8},
    [AV__NPY_F16] = {"float16", "<f2", 2}, [AV__NPY_I64] = {"int64", "<i8", 8},
    [AV__NPY_I32] = {"int32", "<i4", 4},   [AV__NPY_I8] = {"int8", "|i1", 1},
    [AV__NPY_U8] = {"uint8", "|u1", 1},    [AV__NPY_BOOL] = {"bool", "|b1", 1},
};

const char *av__npy_dtype_name(av__npy_dtype d)
{
    return (unsigned)d < AV__NPY_DTYPE_COUNT ? dtype_table[d].name : "unknown";
}

size_t av__npy_dtype_size(av__npy_dtype d)
{
    return (unsigned)d < AV__NPY_DTYPE_COUNT ? dtype_table[d].size : 0;
}

/* ---- error reporting -------------------------------------------------------------------- */

/* Where messages go; `name` (the file path, or NULL from memory) prefixes every message. */
typedef struct npy_ctx {
    const char *name;
    char *err;
    size_t err_size;
} npy_ctx;

static av_status npy_fail(const npy_ctx *c, av_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static av_status npy_fail(const npy_ctx *c, av_status status, const char *fmt, ...)
{
    if (!c->err || c->err_size == 0)
        return status;
    size_t used = 0;
    if (c->name) {
        int n = snprintf(c->err, c->err_size, "%s: ", c->name);
        used = n < 0 ? 0 : (size_t)n;
    }
    if (used < c->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + used, c->err_size - used, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* Most failures are about the content. */
#define BAD(c, ...) npy_fail((c), AV_STATUS_FORMAT, __VA_ARGS__)

static av_status npy_fail_errno(const npy_ctx *c, const char *what, int errnum)
{
    char msg[128];
    if (strerror_r(errnum, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "error %d", errnum);
    return npy_fail(c, AV_STATUS_IO, "%s: %s", what, msg);
}

/* "()", "(5,)", "(2, 3)"; 256 bytes hold AV__NPY_MAX_DIMS 20-character numbers. */
static void format_shape(char buf[256], int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, 256, "(");
    for (int k = 0; k < ndim; k++)
        n += (size_t)snprintf(buf + n, 256 - n, k ? ", %lld" : "%lld", (long long)shape[k]);
    snprintf(buf + n, 256 - n, ndim == 1 ? ",)" : ")");
}

/* ---- sizes -------------------------------------------------------------------------------- */

/* Sets h->item_size and h->count (1 for a scalar) from dtype and shape; refuses negative
 * dimensions and any shape whose non-zero dimensions multiply to more than PTRDIFF_MAX bytes
 * (checked before multiplying, so a zero-length dimension cannot hide an absurd one). */
static av_status compute_size(const npy_ctx *c, av__npy_array *h)
{
    const size_t item = h->item_size = dtype_table[h->dtype].size;
    const uint64_t limit = (uint64_t)PTRDIFF_MAX / item;
    uint64_t product = 1;
    int zero = 0;
    for (int k = 0; k < h->ndim; k++) {
        if (h->shape[k] < 0)
            return BAD(c, "negative dimension %lld in shape", (long long)h->shape[k]);
        uint64_t d = (uint64_t)h->shape[k];
        if (d == 0) {
            zero = 1;
        } else if (d > limit / product) {
            char s[256];
            format_shape(s, h->ndim, h->shape);
            return BAD(c, "shape %s of %s is too large (over %zu bytes)", s,
                       dtype_table[h->dtype].name, (size_t)PTRDIFF_MAX);
        } else {
            product *= d;
        }
    }
    h->count = zero ? 0 : (size_t)product;
    return AV_STATUS_OK;
}

static size_t nbytes(const av__npy_array *h)
{
    return h->count * h->item_size;
}

static av_status check_data_size(const npy_ctx *c, const av__npy_array *h, size_t present)
{
    if (present == nbytes(h))
        return AV_STATUS_OK;
    char s[256];
    format_shape(s, h->ndim, h->shape);
    return BAD(c, "%s: header says %s %s = %zu bytes, file has %zu",
               present < nbytes(h) ? "truncated data" : "trailing bytes after the data",
               dtype_table[h->dtype].name, s, nbytes(h), present);
}

static av_status check_bools(const npy_ctx *c, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] > 1)
            return BAD(c, "bool element %zu of the data is %u (only 0 and 1 are valid)", i, p[i]);
    return AV_STATUS_OK;
}

/* ---- preamble and header dict --------------------------------------------------------------- */

/* Checks magic, version and header length. Reads only p[0 .. min(total, 12)). On success the
 * header dict is bytes [*at, *at + *len) of the file, which holds `total` bytes. */
static av_status read_preamble(const npy_ctx *c, const unsigned char *p, size_t total, size_t *at,
                               size_t *len)
{
    if (total > 0 && memcmp(p, npy_magic, total < 6 ? total : 6) != 0)
        return BAD(c, "not an NPY file (bad magic)");
    if (total < 10)
        return BAD(c, "truncated header: %zu bytes, the preamble alone needs 10", total);
    if (p[6] < 1 || p[6] > 3 || p[7] != 0)
        return BAD(c, "unsupported format version %u.%u (known: 1.0, 2.0, 3.0)", p[6], p[7]);
    if (p[6] == 1) {
        *at = 10;
        *len = (size_t)p[8] | (size_t)p[9] << 8;
    } else {
        if (total < 12)
            return BAD(c, "truncated header: %zu bytes, a version %u.0 preamble needs 12", total,
                       p[6]);
        *at = 12;
        *len = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
    }
    if (*len > AV__NPY_MAX_HEADER)
        return BAD(c, "header length %zu exceeds the limit of %d bytes", *len, AV__NPY_MAX_HEADER);
    if (*len > total - *at)
        return BAD(c, "truncated header: header length says %zu bytes, file has %zu", *len,
                   total - *at);
    return AV_STATUS_OK;
}

/* A position in the header text. */
typedef struct cursor {
    const unsigned char *s;
    size_t n, i;
} cursor;

static int peek(cursor *k)
{
    while (k->i < k->n && strchr(" \t\n\r\f\v", k->s[k->i]) && k->s[k->i] != '\0')
        k->i++;
    return k->i < k->n ? k->s[k->i] : -1;
}

static int eat(cursor *k, int ch)
{
    if (peek(k) != ch)
        return 0;
    k->i++;
    return 1;
}

static av_status malformed(const npy_ctx *c, cursor *k, const char *expected)
{
    char found[16];
    int ch = peek(k);
    if (ch < 0)
        snprintf(found, sizeof found, "the end");
    else if (ch >= 0x20 && ch < 0x7f)
        snprintf(found, sizeof found, "'%c'", ch);
    else
        snprintf(found, sizeof found, "byte 0x%02x", (unsigned)ch);
    return BAD(c, "malformed header at offset %zu of the dict: expected %s, found %s", k->i,
               expected, found);
}

/* A quoted string of printable ASCII without escapes. Copies at most size-1 bytes into buf
 * (NUL-terminated) and sets *len to the full length. */
static int read_string(cursor *k, char *buf, size_t size, size_t *len)
{
    int quote = peek(k);
    if (quote != '\'' && quote != '"')
        return 0;
    size_t start = ++k->i;
    while (k->i < k->n && k->s[k->i] != quote) {
        if (k->s[k->i] < 0x20 || k->s[k->i] > 0x7e || k->s[k->i] == '\\')
            return 0;
        k->i++;
    }
    if (k->i >= k->n)
        return 0;
    *len = k->i - start;
    size_t copy = *len < size - 1 ? *len : size - 1;
    memcpy(buf, k->s + start, copy);
    buf[copy] = '\0';
    k->i++;
    return 1;
}

static av_status resolve_descr(const npy_ctx *c, const char *d, size_t len, av__npy_dtype *out)
{
    const char *more = len > strlen(d) ? "..." : "";
    if (len >= 2 && d[1] == 'O')
        return BAD(c, "object arrays are not supported (descr '%s')", d);
    for (int t = 0; len == 3 && t < AV__NPY_DTYPE_COUNT; t++) {
        if (memcmp(d + 1, dtype_table[t].descr + 1, 2) != 0 || !strchr("<>=|", d[0]))
            continue;
        if (dtype_table[t].size > 1 && d[0] == '>')
            return BAD(c, "unsupported dtype '%s' (big-endian)", d);
        if (dtype_table[t].size > 1 && d[0] == '|')
            return BAD(c, "invalid dtype '%s' (no byte order on a multi-byte type)", d);
        *out = (av__npy_dtype)t;
        return AV_STATUS_OK;
    }
    return BAD(c, "unsupported dtype '%s%s' (supported: <f4 <f8 <f2 <i8 <i4 |i1 |u1 |b1)", d, more);
}

/* A tuple of non-negative decimal integers: (), (5,), (2, 3) or (2, 3,). */
static av_status parse_shape(const npy_ctx *c, cursor *k, av__npy_array *h)
{
    if (!eat(k, '('))
        return malformed(c, k, "a tuple for 'shape'");
    h->ndim = 0;
    if (eat(k, ')'))
        return AV_STATUS_OK;
    for (;;) {
        int negative = eat(k, '-');
        if (peek(k) < '0' || peek(k) > '9')
            return malformed(c, k, "a dimension");
        uint64_t v = 0;
        while (k->i < k->n && k->s[k->i] >= '0' && k->s[k->i] <= '9') {
            unsigned digit = k->s[k->i++] - '0';
            if (v > ((uint64_t)INT64_MAX - digit) / 10)
                return BAD(c, "dimension %zu of the shape is too large", (size_t)h->ndim);
            v = v * 10 + digit;
        }
        if (k->i < k->n && (k->s[k->i] == 'L' || k->s[k->i] == 'l')) /* Python 2 long */
            k->i++;
        if (negative && v != 0)
            return BAD(c, "negative dimension -%llu in shape", (unsigned long long)v);
        if (h->ndim == AV__NPY_MAX_DIMS)
            return BAD(c, "shape has more than %d dimensions", AV__NPY_MAX_DIMS);
        h->shape[h->ndim++] = (int64_t)v;
        if (eat(k, ',')) {
            if (eat(k, ')'))
                return AV_STATUS_OK;
        } else if (eat(k, ')')) {
            if (h->ndim == 1) /* (5) is the number 5 in Python, not a tuple */
                return BAD(c, "shape (%lld) is not a tuple: a 1-D shape is written (%lld,)",
                           (long long)h->shape[0], (long long)h->shape[0]);
            return AV_STATUS_OK;
        } else {
            return malformed(c, k, "',' or ')' in the shape");
        }
    }
}

/* The dict literal with exactly the keys 'descr', 'fortran_order' and 'shape', in any order,
 * then only whitespace. Fills *h but for data and alloc, and *fortran. */
static av_status parse_header(const npy_ctx *c, const unsigned char *s, size_t n, av__npy_array *h,
                              int *fortran)
{
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    cursor k = {s, n, 0};
    int seen[3] = {0, 0, 0};
    av_status st;
    memset(h, 0, sizeof *h);
    if (!eat(&k, '{'))
        return malformed(c, &k, "'{'");
    while (!eat(&k, '}')) {
        char key[24], word[8];
        size_t len, w = 0;
        int which = 0;
        if (!read_string(&k, key, sizeof key, &len))
            return malformed(c, &k, "a quoted key or '}'");
        while (which < 3 && (len >= sizeof key || strcmp(key, keys[which]) != 0))
            which++;
        if (which == 3)
            return BAD(c, "unknown key '%s%s' in header", key, len >= sizeof key ? "..." : "");
        if (seen[which]++)
            return BAD(c, "duplicate key '%s' in header", key);
        if (!eat(&k, ':'))
            return malformed(c, &k, "':'");
        if (which == 0) {
            char descr[24];
            if (peek(&k) == '[' || peek(&k) == '{')
                return BAD(c, "structured dtypes are not supported");
            if (!read_string(&k, descr, sizeof descr, &len))
                return malformed(c, &k, "a quoted string for 'descr'");
            if ((st = resolve_descr(c, descr, len, &h->dtype)) != AV_STATUS_OK)
                return st;
        } else if (which == 1) {
            peek(&k);
            while (k.i < k.n && w < sizeof word - 1 &&
                   ((k.s[k.i] >= 'a' && k.s[k.i] <= 'z') || (k.s[k.i] >= 'A' && k.s[k.i] <= 'Z')))
                word[w++] = (char)k.s[k.i++];
            word[w] = '\0';
            if (strcmp(word, "True") != 0 && strcmp(word, "False") != 0)
                return malformed(c, &k, "True or False for 'fortran_order'");
            *fortran = word[0] == 'T';
        } else if ((st = parse_shape(c, &k, h)) != AV_STATUS_OK) {
            return st;
        }
        if (!eat(&k, ',')) {
            if (peek(&k) != '}')
                return malformed(c, &k, "',' or '}'");
        }
    }
    if (peek(&k) >= 0)
        return malformed(c, &k, "only whitespace after the header dict");
    for (int i = 0; i < 3; i++)
        if (!seen[i])
            return BAD(c, "header has no '%s' key", keys[i]);
    return compute_size(c, h);
}

/* ---- the array ---------------------------------------------------------------------------- */

/* Gives *h an uninitialised data buffer aligned to 64 bytes. */
static av_status alloc_data(const npy_ctx *c, av__npy_array *h)
{
    unsigned char *block = av__malloc(nbytes(h) + 63); /* nbytes <= PTRDIFF_MAX: no wrap */
    if (!block)
        return npy_fail(c, AV_STATUS_OUT_OF_MEMORY, "out of memory for %zu bytes", nbytes(h));
    h->alloc = block;
    h->data = block + (64 - (uintptr_t)block % 64) % 64;
    return AV_STATUS_OK;
}

/* Copies src (the file's data, Fortran order: first index fastest) to dst in C order. */
static void fortran_to_c(unsigned char *dst, const unsigned char *src, const av__npy_array *h)
{
    const size_t item = h->item_size;
    size_t stride[AV__NPY_MAX_DIMS], pos[AV__NPY_MAX_DIMS] = {0}, off = 0, s = item;
    for (int d = 0; d < h->ndim; d++) {
        stride[d] = s;
        s *= (size_t)h->shape[d];
    }
    for (size_t i = 0; i < h->count; i++) {
        memcpy(dst + i * item, src + off, item);
        for (int d = h->ndim - 1; d >= 0; d--) { /* odometer, last index fastest */
            if (++pos[d] < (size_t)h->shape[d]) {
                off += stride[d];
                break;
            }
            off -= (pos[d] - 1) * stride[d];
            pos[d] = 0;
        }
    }
}

/* Copies the file's data bytes into h->data, in C order. */
static void store(av__npy_array *h, int fortran, const unsigned char *src)
{
    if (fortran && h->ndim > 1)
        fortran_to_c(h->data, src, h);
    else if (nbytes(h))
        memcpy(h->data, src, nbytes(h));
}

void av__npy_free(av__npy_array *a)
{
    if (!a)
        return;
    av__free(a->alloc);
    memset(a, 0, sizeof *a);
}

av_status av__npy_parse(const void *bytes, size_t size, av__npy_array *out, char *err,
                        size_t err_size)
{
    const npy_ctx c = {NULL, err, err_size};
    const unsigned char *p = bytes;
    av__npy_array a = {0};
    size_t at, len;
    int fortran = 0;
    av_status st;
    if (!out || (!bytes && size))
        return npy_fail(&c, AV_STATUS_INVALID_ARGUMENT, "av__npy_parse: NULL argument");
    memset(out, 0, sizeof *out);
    if ((st = read_preamble(&c, p, size, &at, &len)) != AV_STATUS_OK ||
        (st = parse_header(&c, p + at, len, &a, &fortran)) != AV_STATUS_OK ||
        (st = check_data_size(&c, &a, size - at - len)) != AV_STATUS_OK ||
        (a.dtype == AV__NPY_BOOL &&
         (st = check_bools(&c, p + at + len, nbytes(&a))) != AV_STATUS_OK) ||
        (st = alloc_data(&c, &a)) != AV_STATUS_OK)
        return st;
    store(&a, fortran, p + at + len);
    *out = a;
    return AV_STATUS_OK;
}

/* Reads exactly n bytes at `offset` of f. */
static av_status read_at(const npy_ctx *c, FILE *f, size_t offset, void *dst, size_t n)
{
    if (fseek(f, (long)offset, SEEK_SET) != 0 || fread(dst, 1, n, f) != n)
        return ferror(f) ? npy_fail_errno(c, "read error", errno)
                         : npy_fail(c, AV_STATUS_IO, "read error (file changed while read?)");
    return AV_STATUS_OK;
}

av_status av__npy_load(const char *path, av__npy_array *out, char *err, size_t err_size)
{
    const npy_ctx c = {path, err, err_size};
    unsigned char pre[12], *header = NULL, *fortran_data = NULL;
    av__npy_array a = {0};
    size_t at, len, total;
    int fortran = 0;
    long end;
    av_status st;
    if (!path || !out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av__npy_load: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return npy_fail_errno(&c, "cannot open", errno);
    if (fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0) {
        st = npy_fail_errno(&c, "cannot determine the file size", errno);
        goto done;
    }
    total = (size_t)end;
    if ((st = read_at(&c, f, 0, pre, total < 12 ? total : 12)) != AV_STATUS_OK ||
        (st = read_preamble(&c, pre, total, &at, &len)) != AV_STATUS_OK)
        goto done;
    if (!(header = av__malloc(len))) {
        st = npy_fail(&c, AV_STATUS_OUT_OF_MEMORY, "out of memory for the header");
        goto done;
    }
    if ((st = read_at(&c, f, at, header, len)) != AV_STATUS_OK ||
        (st = parse_header(&c, header, len, &a, &fortran)) != AV_STATUS_OK ||
        (st = check_data_size(&c, &a, total - at - len)) != AV_STATUS_OK ||
        (st = alloc_data(&c, &a)) != AV_STATUS_OK)
        goto done;
    /* Fortran-order data goes through a second buffer to be reordered. */
    if (fortran && a.ndim > 1 && !(fortran_data = av__malloc(nbytes(&a)))) {
        st = npy_fail(&c, AV_STATUS_OUT_OF_MEMORY, "out of memory for %zu bytes", nbytes(&a));
        goto done;
    }
    unsigned char *raw = fortran_data ? fortran_data : a.data;
    if ((st = read_at(&c, f, at + len, raw, nbytes(&a))) != AV_STATUS_OK ||
        (a.dtype == AV__NPY_BOOL && (st = check_bools(&c, raw, nbytes(&a))) != AV_STATUS_OK))
        goto done;
    if (fortran_data)
        store(&a, fortran, fortran_data);
    *out = a;
done:
    if (st != AV_STATUS_OK)
        av__free(a.alloc);
    av__free(fortran_data);
    av__free(header);
    fclose(f);
    return st;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Checks that `a` is self-consistent. */
static av_status check_array(const npy_ctx *c, const av__npy_array *a)
{
    av__npy_array h = *a;
    if ((unsigned)a->dtype >= AV__NPY_DTYPE_COUNT || a->ndim < 0 || a->ndim > AV__NPY_MAX_DIMS)
        return npy_fail(c, AV_STATUS_INVALID_ARGUMENT, "invalid dtype %d or ndim %d", (int)a->dtype,
                        a->ndim);
    if (compute_size(c, &h) != AV_STATUS_OK)
        return AV_STATUS_INVALID_ARGUMENT;
    if (a->item_size != h.item_size || a->count != h.count || (nbytes(&h) && !a->data))
        return npy_fail(c, AV_STATUS_INVALID_ARGUMENT,
                        "inconsistent array: %s has item size %zu, count %zu (shape says %zu)%s",
                        dtype_table[a->dtype].name, a->item_size, a->count, h.count,
                        nbytes(&h) && !a->data ? ", data is NULL" : "");
    if (a->dtype == AV__NPY_BOOL && check_bools(c, a->data, nbytes(&h)) != AV_STATUS_OK)
        return AV_STATUS_INVALID_ARGUMENT;
    return AV_STATUS_OK;
}

av_status av__npy_save(const char *path, const av__npy_array *a, char *err, size_t err_size)
{
    const npy_ctx c = {path, err, err_size};
    char head[512], shape[256], *tmp = NULL;
    FILE *f = NULL;
    av_status st;
    if (!path || !a)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av__npy_save: NULL argument");
    if ((st = check_array(&c, a)) != AV_STATUS_OK)
        return st;

    /* numpy's layout: preamble, dict, spaces and '\n' up to a multiple of 64, data. The dict is
     * under 260 bytes (8 dimensions of 19 digits), so head[] holds it and 1.0 always suffices. */
    format_shape(shape, a->ndim, a->shape);
    int n = snprintf(head + 10, sizeof head - 10,
                     "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     dtype_table[a->dtype].descr, shape);
    size_t hlen = (size_t)n + 1 + (64 - (10 + (size_t)n + 1) % 64) % 64;
    memset(head + 10 + n, ' ', hlen - 1 - (size_t)n);
    head[10 + hlen - 1] = '\n';
    memcpy(head, npy_magic, 6);
    memcpy(head + 6, (const char[4]){1, 0, (char)(hlen & 0xff), (char)(hlen >> 8)}, 4);

    if (!(tmp = av__malloc(strlen(path) + 5))) {
        st = npy_fail(&c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    snprintf(tmp, strlen(path) + 5, "%s.tmp", path);
    if (!(f = fopen(tmp, "wb"))) {
        st = npy_fail_errno(&c, "cannot create the temporary file", errno);
        goto done;
    }
    int failed = fwrite(head, 1, 10 + hlen, f) != 10 + hlen ||
                 (nbytes(a) && fwrite(a->data, 1, nbytes(a), f) != nbytes(a)) || fflush(f) != 0 ||
                 fsync(fileno(f)) != 0;
    int errnum = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        errnum = errno;
    }
    if (failed) {
        st = npy_fail_errno(&c, "write error", errnum);
        remove(tmp);
    } else if (rename(tmp, path) != 0) {
        st = npy_fail_errno(&c, "cannot rename the temporary file into place", errno);
        remove(tmp);
    }
done:
    av__free(tmp);
    return st;
}
