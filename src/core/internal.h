/* Internal helpers shared by every module of the library: allocation, logging, error text.
 * Not installed; nothing outside src/ includes it. */
#ifndef AV_CORE_INTERNAL_H
#define AV_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "autovoice/common.h"

/* The project allocator: every allocation of the library goes through these, so a later arena or
 * a failure-injection test has one place to hook. Semantics of malloc/calloc/realloc/free;
 * av__calloc and av__mallocarray return NULL on count*size overflow instead of wrapping. */
void *av__malloc(size_t size);
void *av__calloc(size_t count, size_t size);
void *av__mallocarray(size_t count, size_t size);
void *av__realloc(void *ptr, size_t size);
void av__free(void *ptr);

/* Sends one formatted line to the user's log callback, if any. */
void av__log(av_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* snprintf into an error buffer of `size` bytes (which may be 0 / NULL: then nothing is written).
 * Returns `status` so error paths read `return av__fail(err, n, AV_STATUS_FORMAT, "...", ...)`. */
av_status av__fail(char *err, size_t size, av_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Finishes a file written whole to `tmp` for `path` (src/core/file.c): unless `failed` (a write
 * already failed, with `errnum`), flushes f to disk and closes it, then renames tmp over path.
 * f is closed in every case; on any failure tmp is removed and AV_STATUS_IO names the file and the
 * system's reason, so a failed write never leaves a partial file at path. */
av_status av__file_commit(FILE *f, int failed, int errnum, const char *tmp, const char *path,
                          char *err, size_t err_size);

#endif /* AV_CORE_INTERNAL_H */
