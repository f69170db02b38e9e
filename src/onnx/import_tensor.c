/* ONNX TensorProto decoding (initializers, tensor attributes, .pb files) and external data;
 * contract in import.h. */
#define _POSIX_C_SOURCE 200809L /* fseeko, ftello, XSI strerror_r */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "core/internal.h"
#include "onnx/import.h"
#include "onnx/wire.h"

/* Typed data is stored through uintN_t stores and packed float/double runs are memcpy'd: both
 * give the file's little-endian layout only on a little-endian host. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnx/import_tensor.c assumes a little-endian host"
#endif
#endif

/* TensorProto field numbers. */
enum {
    TP_DIMS = 1, TP_DATA_TYPE = 2, TP_SEGMENT = 3, TP_FLOAT_DATA = 4, TP_INT32_DATA = 5,
    TP_STRING_DATA = 6, TP_INT64_DATA = 7, TP_NAME = 8, TP_RAW_DATA = 9, TP_DOUBLE_DATA = 10,
    TP_UINT64_DATA = 11, TP_EXTERNAL_DATA = 13, TP_DATA_LOCATION = 14
};

static const char *const type_names[] = {
    "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64",
    "string", "bool", "float16", "float64", "uint32", "uint64", "complex64", "complex128",
    "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",
    "int4", "float4e2m1",
};

const char *av__onnx_type_name(int64_t t)
{
    if (t >= 0 && t < (int64_t)(sizeof type_names / sizeof type_names[0]))
        return type_names[t];
    return "unknown";
}

int av__onnx_type_supported(int64_t t)
{
    return t > 0 && t <= AV__DT_BF16 && av__dtype_size((av__dtype)t) > 0;
}

/* ---- messages ----------------------------------------------------------------------------- */

/* Every message reads "WHAT 'NAME': ..." (or "WHAT: ..." for an unnamed tensor). */
typedef struct tensor_ctx {
    const char *what;
    const uint8_t *name;
    size_t name_len;
    char *err;
    size_t err_size;
} tensor_ctx;

static av_status tfail(const tensor_ctx *c, av_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static av_status tfail(const tensor_ctx *c, av_status status, const char *fmt, ...)
{
    if (!c->err || c->err_size == 0)
        return status;
    int len = c->name_len > 200 ? 200 : (int)c->name_len;
    int n = c->name_len ? snprintf(c->err, c->err_size, "%s '%.*s': ", c->what, len,
                                   (const char *)c->name)
                        : snprintf(c->err, c->err_size, "%s: ", c->what);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < c->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + used, c->err_size - used, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* "float32 [2, 3]"; 256 bytes hold AV__MAX_DIMS 20-digit numbers. */
static void format_type(char buf[256], int64_t dtype, int ndim, const int64_t *dims)
{
    size_t n = (size_t)snprintf(buf, 256, "%s [", av__onnx_type_name(dtype));
    for (int k = 0; k < ndim && n < 256; k++)
        n += (size_t)snprintf(buf + n, 256 - n, k ? ", %lld" : "%lld", (long long)dims[k]);
    if (n < 256)
        snprintf(buf + n, 256 - n, "]");
}

/* ---- the fields of one TensorProto ------------------------------------------------------ */

typedef struct tensor_fields {
    int64_t dims[AV__MAX_DIMS];
    int64_t n_dims;            /* may exceed AV__MAX_DIMS: then dims[] holds the first ones */
    int64_t data_type;
    const uint8_t *raw;        /* raw_data (the last one, as protobuf merges bytes fields) */
    size_t raw_len;
    int has_raw;
    int64_t n_typed[16];       /* elements per typed field, indexed by field number */
    int64_t n_strings;
    int64_t data_location;
    const uint8_t *location, *offset, *length; /* external_data values (not NUL-terminated) */
    size_t location_len, offset_len, length_len;
} tensor_fields;

static const char *typed_field_name(int number)
{
    switch (number) {
    case TP_FLOAT_DATA: return "float_data";
    case TP_INT32_DATA: return "int32_data";
    case TP_INT64_DATA: return "int64_data";
    case TP_DOUBLE_DATA: return "double_data";
    case TP_UINT64_DATA: return "uint64_data";
    default: return "?";
    }
}

/* The typed field that carries elements of `t` (onnx.proto's comments on each field). */
static int typed_field_for(int64_t t)
{
    switch (t) {
    case AV__DT_F32: return TP_FLOAT_DATA;
    case AV__DT_F64: return TP_DOUBLE_DATA;
    case AV__DT_I64: return TP_INT64_DATA;
    case AV__DT_U32: case AV__DT_U64: return TP_UINT64_DATA;
    default: return TP_INT32_DATA; /* int32/16/8, uint16/8, bool, float16, bfloat16 */
    }
}

/* One StringStringEntryProto (key = 1, value = 2) of external_data. */
static av_status read_external_entry(const tensor_ctx *c, const av__wire_field *f,
                                     tensor_fields *tf)
{
    av__wire r = av__wire_reader(f->data, f->len);
    av__wire_field e;
    const uint8_t *key = NULL, *value = NULL;
    size_t key_len = 0, value_len = 0;
    int rc;
    while ((rc = av__wire_next(&r, &e)) == 1) {
        if ((e.number == 1 || e.number == 2) && e.type != AV__WIRE_LEN)
            return tfail(c, AV_STATUS_FORMAT, "malformed external_data entry");
        if (e.number == 1) {
            key = e.data;
            key_len = e.len;
        } else if (e.number == 2) {
            value = e.data;
            value_len = e.len;
        }
    }
    if (rc < 0)
        return tfail(c, AV_STATUS_FORMAT, "malformed external_data entry");
    if (!key)
        return AV_STATUS_OK;
    if (!value)
        value = (const uint8_t *)"";
#define KEY_IS(s) (key_len == sizeof(s) - 1 && memcmp(key, s, key_len) == 0)
    if (KEY_IS("location")) {
        tf->location = value;
        tf->location_len = value_len;
    } else if (KEY_IS("offset")) {
        tf->offset = value;
        tf->offset_len = value_len;
    } else if (KEY_IS("length")) {
        tf->length = value;
        tf->length_len = value_len;
    }
#undef KEY_IS
    return AV_STATUS_OK; /* other keys (checksum, ...) are not needed */
}

/* Pass 1: every field except the typed data, which is only counted. */
static av_status read_fields(const tensor_ctx *c, const uint8_t *bytes, size_t size,
                             tensor_fields *tf, const uint8_t **name, size_t *name_len)
{
    av__wire r = av__wire_reader(bytes, size);
    av__wire_field f;
    int rc;
    while ((rc = av__wire_next(&r, &f)) == 1) {
        int64_t n;
        switch (f.number) {
        case TP_DIMS: {
            if ((n = av__wire_varints_count(&f)) < 0)
                return tfail(c, AV_STATUS_FORMAT, "malformed dims");
            av__wire_varints it = av__wire_varints_begin(&f);
            uint64_t v;
            while (av__wire_varints_next(&it, &v)) {
                if (tf->n_dims < AV__MAX_DIMS)
                    tf->dims[tf->n_dims] = (int64_t)v;
                tf->n_dims++;
            }
            break;
        }
        case TP_DATA_TYPE:
        case TP_DATA_LOCATION:
            if (f.type != AV__WIRE_VARINT)
                return tfail(c, AV_STATUS_FORMAT, "malformed field %u", (unsigned)f.number);
            if (f.number == TP_DATA_TYPE)
                tf->data_type = (int64_t)f.value;
            else
                tf->data_location = (int64_t)f.value;
            break;
        case TP_SEGMENT:
            return tfail(c, AV_STATUS_UNSUPPORTED, "segmented tensors are not supported");
        case TP_FLOAT_DATA:
        case TP_DOUBLE_DATA:
            n = av__wire_fixed_count(&f, f.number == TP_FLOAT_DATA ? 4 : 8);
            if (n < 0)
                return tfail(c, AV_STATUS_FORMAT, "malformed %s", typed_field_name((int)f.number));
            tf->n_typed[f.number] += n;
            break;
        case TP_INT32_DATA:
        case TP_INT64_DATA:
        case TP_UINT64_DATA:
            if ((n = av__wire_varints_count(&f)) < 0)
                return tfail(c, AV_STATUS_FORMAT, "malformed %s", typed_field_name((int)f.number));
            tf->n_typed[f.number] += n;
            break;
        case TP_STRING_DATA:
        case TP_NAME:
        case TP_RAW_DATA:
        case TP_EXTERNAL_DATA:
            if (f.type != AV__WIRE_LEN)
                return tfail(c, AV_STATUS_FORMAT, "malformed field %u", (unsigned)f.number);
            if (f.number == TP_STRING_DATA) {
                tf->n_strings++;
            } else if (f.number == TP_NAME) {
                *name = f.data;
                *name_len = f.len;
            } else if (f.number == TP_RAW_DATA) {
                tf->raw = f.data;
                tf->raw_len = f.len;
                tf->has_raw = 1;
            } else {
                av_status st = read_external_entry(c, &f, tf);
                if (st != AV_STATUS_OK)
                    return st;
            }
            break;
        default:
            break; /* doc_string, metadata_props, fields of later versions */
        }
    }
    if (rc < 0)
        return tfail(c, AV_STATUS_FORMAT, "malformed protobuf (truncated or corrupt)");
    return AV_STATUS_OK;
}

/* Checks dtype and shape, fills out->dtype / ndim / shape, and sets *count and *bytes. Refuses
 * any shape whose non-zero dimensions multiply to more than PTRDIFF_MAX bytes (checked before
 * multiplying, so a zero-length dimension cannot hide an absurd one). */
static av_status check_shape(const tensor_ctx *c, const tensor_fields *tf, av__tensor *out,
                             int64_t *count, size_t *bytes)
{
    int64_t t = tf->data_type;
    if (t == AV__DT_STRING)
        return tfail(c, AV_STATUS_UNSUPPORTED, "string tensors are not supported");
    if (!av__onnx_type_supported(t)) {
        if (t > 0 && strcmp(av__onnx_type_name(t), "unknown") != 0)
            return tfail(c, AV_STATUS_UNSUPPORTED, "%s tensors are not supported",
                         av__onnx_type_name(t));
        return tfail(c, AV_STATUS_FORMAT, "unknown data_type %lld", (long long)t);
    }
    if (tf->n_dims > AV__MAX_DIMS)
        return tfail(c, AV_STATUS_FORMAT, "%lld dimensions (at most %d are supported)",
                     (long long)tf->n_dims, AV__MAX_DIMS);
    const size_t item = av__dtype_size((av__dtype)t);
    const uint64_t limit = (uint64_t)PTRDIFF_MAX / item;
    uint64_t product = 1;
    int zero = 0;
    for (int k = 0; k < (int)tf->n_dims; k++) {
        char s[256];
        if (tf->dims[k] < 0) {
            format_type(s, t, (int)tf->n_dims, tf->dims);
            return tfail(c, AV_STATUS_FORMAT, "negative dimension in %s", s);
        }
        uint64_t d = (uint64_t)tf->dims[k];
        if (d == 0) {
            zero = 1;
        } else if (d > limit / product) {
            format_type(s, t, (int)tf->n_dims, tf->dims);
            return tfail(c, AV_STATUS_FORMAT, "shape %s is too large", s);
        } else {
            product *= d;
        }
    }
    out->dtype = (av__dtype)t;
    out->ndim = (int)tf->n_dims;
    memcpy(out->shape, tf->dims, sizeof out->shape);
    *count = zero ? 0 : (int64_t)product;
    *bytes = (size_t)*count * item;
    return AV_STATUS_OK;
}

/* Pass 2: the typed field `number` into data (count elements of out->dtype, checked). */
static void read_typed(const uint8_t *bytes, size_t size, int number, const av__tensor *out,
                       void *data)
{
    const size_t item = av__dtype_size(out->dtype);
    av__wire r = av__wire_reader(bytes, size);
    av__wire_field f;
    size_t i = 0;
    while (av__wire_next(&r, &f) == 1) {
        if ((int)f.number != number)
            continue;
        if (number == TP_FLOAT_DATA || number == TP_DOUBLE_DATA) {
            i += av__wire_fixed_read(&f, (int)item, (uint8_t *)data + i * item);
            continue;
        }
        av__wire_varints it = av__wire_varints_begin(&f);
        uint64_t v;
        while (av__wire_varints_next(&it, &v)) {
            /* Narrowing keeps the low bits: the two's-complement value of the signed types. */
            switch (item) {
            case 1: ((uint8_t *)data)[i] = out->dtype == AV__DT_BOOL ? v != 0 : (uint8_t)v; break;
            case 2: ((uint16_t *)data)[i] = (uint16_t)v; break;
            case 4: ((uint32_t *)data)[i] = (uint32_t)v; break;
            default: ((uint64_t *)data)[i] = v; break;
            }
            i++;
        }
    }
}

/* A decimal external_data value (offset, length). */
static int parse_decimal(const uint8_t *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

/* A location is a relative path whose components are never "..": it cannot leave base_dir
 * (short of symbolic links placed there). '\\' counts as a separator too. */
static int location_is_safe(const uint8_t *s, size_t n)
{
    if (n == 0 || memchr(s, '\0', n) || s[0] == '/' || s[0] == '\\' ||
        (n >= 2 && s[1] == ':')) /* "C:..." */
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/' || s[i] == '\\') {
            if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

static av_status errno_fail(const tensor_ctx *c, const char *what, const char *path, int errnum)
{
    char msg[128];
    if (strerror_r(errnum, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "error %d", errnum);
    return tfail(c, AV_STATUS_IO, "external data: %s %s: %s", what, path, msg);
}

/* Reads the external data of tf (bytes bytes) into a new aligned buffer *data. */
static av_status read_external(const tensor_ctx *c, const tensor_fields *tf, const char *base_dir,
                               const char *shape, size_t bytes, void **data)
{
    uint64_t offset = 0, length = 0;
    char *path = NULL;
    FILE *f = NULL;
    av_status st = AV_STATUS_OK;
    *data = NULL;
    if (!base_dir)
        return tfail(c, AV_STATUS_UNSUPPORTED,
                     "external data is not available here (model loaded from memory)");
    if (!tf->location)
        return tfail(c, AV_STATUS_FORMAT, "external data without a location");
    int loc_len = tf->location_len > 200 ? 200 : (int)tf->location_len;
    if (!location_is_safe(tf->location, tf->location_len))
        return tfail(c, AV_STATUS_FORMAT,
                     "external data location '%.*s' must be a relative path without '..'",
                     loc_len, (const char *)tf->location);
    if ((tf->offset && parse_decimal(tf->offset, tf->offset_len, &offset) != 0) ||
        (tf->length && parse_decimal(tf->length, tf->length_len, &length) != 0))
        return tfail(c, AV_STATUS_FORMAT, "external data offset or length is not a number");
    size_t dir_len = strlen(base_dir);
    if (!(path = av__malloc(dir_len + 1 + tf->location_len + 1)))
        return tfail(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    memcpy(path, base_dir, dir_len);
    path[dir_len] = '/';
    memcpy(path + dir_len + 1, tf->location, tf->location_len);
    path[dir_len + 1 + tf->location_len] = '\0';
    off_t end;
    if (!(f = fopen(path, "rb"))) {
        st = errno_fail(c, "cannot open", path, errno);
        goto done;
    }
    if (fseeko(f, 0, SEEK_END) != 0 || (end = ftello(f)) < 0) {
        st = errno_fail(c, "cannot determine the size of", path, errno);
        goto done;
    }
    uint64_t file_size = (uint64_t)end;
    if (offset > file_size) {
        st = tfail(c, AV_STATUS_FORMAT,
                   "external data offset %llu is past the end of %s (%llu bytes)",
                   (unsigned long long)offset, path, (unsigned long long)file_size);
        goto done;
    }
    if (!tf->length)
        length = file_size - offset;
    if (length > file_size - offset) {
        st = tfail(c, AV_STATUS_FORMAT,
                   "external data [%llu, +%llu) runs past the end of %s (%llu bytes)",
                   (unsigned long long)offset, (unsigned long long)length, path,
                   (unsigned long long)file_size);
        goto done;
    }
    if (length != bytes) {
        st = tfail(c, AV_STATUS_FORMAT, "external data has %llu bytes, %s needs %zu",
                   (unsigned long long)length, shape, bytes);
        goto done;
    }
    if (!(*data = av__aligned_alloc(bytes))) {
        st = tfail(c, AV_STATUS_OUT_OF_MEMORY, "out of memory for %zu bytes", bytes);
        goto done;
    }
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(*data, 1, bytes, f) != bytes) {
        st = ferror(f) ? errno_fail(c, "cannot read", path, errno)
                       : tfail(c, AV_STATUS_IO, "external data: short read from %s", path);
        goto done;
    }
done:
    if (st != AV_STATUS_OK) {
        av__aligned_free(*data);
        *data = NULL;
    }
    if (f)
        fclose(f);
    av__free(path);
    return st;
}

av_status av__onnx_parse_tensor(const uint8_t *bytes, size_t size, const char *base_dir,
                                const char *what, av__tensor *out, const uint8_t **name,
                                size_t *name_len, char *err, size_t err_size)
{
    tensor_fields tf;
    tensor_ctx c = {what, NULL, 0, err, err_size};
    int64_t count = 0;
    size_t nbytes = 0;
    void *data = NULL;
    av_status st;
    char shape[256];
    memset(&tf, 0, sizeof tf);
    memset(out, 0, sizeof *out);
    *name = NULL;
    *name_len = 0;
    if ((st = read_fields(&c, bytes, size, &tf, name, name_len)) != AV_STATUS_OK) {
        /* The name may come after the bad field: messages then go without it. */
        return st;
    }
    c.name = *name;
    c.name_len = *name_len;
    if (tf.n_strings > 0)
        return tfail(&c, AV_STATUS_UNSUPPORTED, "string tensors are not supported");
    if ((st = check_shape(&c, &tf, out, &count, &nbytes)) != AV_STATUS_OK)
        goto fail;
    format_type(shape, tf.data_type, out->ndim, out->shape);

    const int want = typed_field_for(tf.data_type);
    int64_t typed = 0;
    for (int k = 0; k < 16; k++) {
        if (!tf.n_typed[k])
            continue;
        if (k != want) {
            st = tfail(&c, AV_STATUS_FORMAT, "%s given for a %s tensor", typed_field_name(k),
                       av__onnx_type_name(tf.data_type));
            goto fail;
        }
        typed = tf.n_typed[k];
    }
    if (tf.data_location != 0 && tf.data_location != 1) {
        st = tfail(&c, AV_STATUS_FORMAT, "unknown data_location %lld", (long long)tf.data_location);
        goto fail;
    }
    if ((tf.has_raw && typed) || (tf.data_location == 1 && (tf.has_raw || typed))) {
        st = tfail(&c, AV_STATUS_FORMAT, "data given in more than one form (raw_data, %s%s)",
                   typed_field_name(want), tf.data_location == 1 ? ", external" : "");
        goto fail;
    }

    if (tf.data_location == 1) {
        if ((st = read_external(&c, &tf, base_dir, shape, nbytes, &data)) != AV_STATUS_OK)
            goto fail;
    } else if (tf.has_raw) {
        if (tf.raw_len != nbytes) {
            st = tfail(&c, AV_STATUS_FORMAT, "raw_data has %zu bytes, %s needs %zu", tf.raw_len,
                       shape, nbytes);
            goto fail;
        }
        if (!(data = av__aligned_alloc(nbytes))) {
            st = tfail(&c, AV_STATUS_OUT_OF_MEMORY, "out of memory for %zu bytes", nbytes);
            goto fail;
        }
        if (nbytes)
            memcpy(data, tf.raw, nbytes);
    } else {
        if (typed != count) {
            st = tfail(&c, AV_STATUS_FORMAT, "%s has %lld elements, %s needs %lld",
                       typed_field_name(want), (long long)typed, shape, (long long)count);
            goto fail;
        }
        if (!(data = av__aligned_alloc(nbytes))) {
            st = tfail(&c, AV_STATUS_OUT_OF_MEMORY, "out of memory for %zu bytes", nbytes);
            goto fail;
        }
        if (count)
            read_typed(bytes, size, want, out, data);
    }
    if (out->dtype == AV__DT_BOOL) { /* the engine relies on bool bytes being 0 or 1 */
        uint8_t *b = data;
        for (size_t i = 0; i < nbytes; i++)
            b[i] = b[i] != 0;
    }
    out->data = data;
    return AV_STATUS_OK;
fail:
    av__aligned_free(data);
    memset(out, 0, sizeof *out);
    return st;
}

/* ---- files -------------------------------------------------------------------------------- */

av_status av__onnx_read_file(const char *path, uint8_t **data, size_t *size, char *err,
                             size_t err_size)
{
    const char *what = "cannot open";
    char msg[128];
    uint8_t *buf = NULL;
    av_status st = AV_STATUS_OK;
    off_t end;
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        goto io_error;
    what = "cannot determine the file size";
    if (fseeko(f, 0, SEEK_END) != 0 || (end = ftello(f)) < 0 || fseeko(f, 0, SEEK_SET) != 0)
        goto io_error;
    if ((uint64_t)end > (uint64_t)PTRDIFF_MAX - 64) {
        st = av__fail(err, err_size, AV_STATUS_IO, "file too large (%lld bytes)", (long long)end);
        goto done;
    }
    if (!(buf = av__malloc((size_t)end))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory for %lld bytes",
                      (long long)end);
        goto done;
    }
    what = "read error";
    if (fread(buf, 1, (size_t)end, f) != (size_t)end) {
        if (ferror(f))
            goto io_error;
        st = av__fail(err, err_size, AV_STATUS_IO, "short read (file changed while read?)");
        goto done;
    }
    *data = buf;
    *size = (size_t)end;
    buf = NULL;
    goto done;
io_error:
    if (strerror_r(errno, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "error %d", errno);
    st = av__fail(err, err_size, AV_STATUS_IO, "%s: %s", what, msg);
done:
    av__free(buf);
    if (f)
        fclose(f);
    return st;
}
