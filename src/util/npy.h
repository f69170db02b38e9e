/* NumPy .npy files: a strict reader (from memory or from a file) and a writer.
 *
 * Internal to the library (not installed). Format reference: numpy/lib/format.py. A file is
 *   "\x93NUMPY", major, minor (1.0, 2.0 or 3.0),
 *   header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0),
 *   a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with
 *   spaces and ended by '\n' (latin-1 for 1.0/2.0, UTF-8 for 3.0; all this reader accepts is
 *   ASCII, so the three versions differ only in the width of the length field),
 *   then exactly product(shape) * item_size bytes of data.
 *
 * Accepted: the dtypes of av__npy_dtype in little-endian ('<', or '=' which is little-endian on
 * every host this builds for; one-byte types with any byte-order mark), any shape of at most
 * AV__NPY_MAX_DIMS dimensions, fortran_order True (the data is reordered into C order).
 * Refused with AV_STATUS_FORMAT: big-endian, other dtypes (u2, c8, strings, ...), structured and
 * object arrays, malformed headers, size mismatches (truncated data or trailing bytes), bool bytes
 * other than 0 and 1, headers longer than AV__NPY_MAX_HEADER bytes.
 *
 * Every function is thread-safe (no global state); an av__npy_array is owned by one thread at a
 * time. Error messages go to `err` (err_size bytes, may be NULL/0), never to stdout/stderr. */
#ifndef AV_UTIL_NPY_H
#define AV_UTIL_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

typedef enum av__npy_dtype {
    AV__NPY_F32, /* '<f4' float32 */
    AV__NPY_F64, /* '<f8' float64 */
    AV__NPY_F16, /* '<f2' float16, IEEE binary16 bits, not converted */
    AV__NPY_I64, /* '<i8' */
    AV__NPY_I32, /* '<i4' */
    AV__NPY_I8,  /* '|i1' */
    AV__NPY_U8,  /* '|u1' */
    AV__NPY_BOOL /* '|b1' one byte per element, 0 or 1 */
} av__npy_dtype;

#define AV__NPY_DTYPE_COUNT 8
#define AV__NPY_MAX_DIMS 8
/* Longest header the reader accepts (numpy itself refuses more than 10000 bytes by default). */
#define AV__NPY_MAX_HEADER 65536

typedef struct av__npy_array {
    av__npy_dtype dtype;
    int ndim;                        /* 0 for a scalar, at most AV__NPY_MAX_DIMS */
    int64_t shape[AV__NPY_MAX_DIMS]; /* shape[0..ndim-1], each >= 0; the rest are 0 */
    size_t count;                    /* product of shape (1 for a scalar, 0 if a dimension is 0) */
    size_t item_size;                /* bytes per element: 2, 4 or 8 for floats, ... */
    void *data;  /* count * item_size bytes, C order, little-endian, aligned to 64 bytes */
    void *alloc; /* the allocation `data` points into; owned; NULL for arrays built by a caller
                  * around its own buffer (av__npy_save only reads data) */
} av__npy_array;

/* Parses a whole .npy file held in memory (`size` bytes; `bytes` may be NULL when size is 0).
 * On success fills *out (which the caller releases with av__npy_free); on failure *out is zeroed
 * and `err` says why. Returns AV_STATUS_FORMAT for bad content, AV_STATUS_OUT_OF_MEMORY,
 * AV_STATUS_INVALID_ARGUMENT for a NULL out. Never allocates more than `size` + 64 bytes. */
av_status av__npy_parse(const void *bytes, size_t size, av__npy_array *out, char *err,
                        size_t err_size);

/* Reads the .npy file at `path`, with the same rules and messages as av__npy_parse, each message
 * prefixed with "PATH: ". AV_STATUS_IO when it cannot be opened or read (it must be seekable).
 * Reads the data straight into the result: allocates the data size + 64 bytes and the header
 * (twice the data size for a fortran_order file), never more than the file holds. */
av_status av__npy_load(const char *path, av__npy_array *out, char *err, size_t err_size);

/* Frees a->alloc and zeroes *a. NULL and zeroed arrays are fine; calling it twice is fine. */
void av__npy_free(av__npy_array *a);

/* "float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"; "unknown" for an
 * out-of-range value. Static strings. */
const char *av__npy_dtype_name(av__npy_dtype d);

/* Bytes per element of `d` (0 for an out-of-range value). */
size_t av__npy_dtype_size(av__npy_dtype d);

/* Writes `a` (dtype, ndim, shape, count, item_size and data must agree; bool bytes must be 0/1)
 * as a version 1.0 file, header padded like numpy's so the data starts at a multiple of 64.
 * (Version 2.0 exists for headers over 65535 bytes; ours is under 300.) Writes PATH.tmp, syncs
 * it, then renames it over `path`: on failure `path` is untouched and PATH.tmp removed. Two
 * concurrent saves to the same path race on PATH.tmp: callers must not do that.
 * AV_STATUS_INVALID_ARGUMENT for an inconsistent array, AV_STATUS_IO for write failures. */
av_status av__npy_save(const char *path, const av__npy_array *a, char *err, size_t err_size);

#endif /* AV_UTIL_NPY_H */
