/* autovoice: status codes, version and build information shared by every public header.
 *
 * Contract for the whole API: functions return av_status (0 = ok, negative = error) unless they
 * say otherwise; the library never aborts, exits or prints on its own. Detail about an error goes
 * to the per-handle last-error message of the object involved, and log lines go to the callback
 * set with av_log_set_callback(). */
#ifndef AUTOVOICE_COMMON_H
#define AUTOVOICE_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum av_status {
    AV_STATUS_OK = 0,
    AV_STATUS_INVALID_ARGUMENT = -1, /* a caller-supplied value is out of range or NULL */
    AV_STATUS_IO = -2,               /* a file could not be opened, read or written */
    AV_STATUS_FORMAT = -3,           /* a file's content is malformed or unsupported */
    AV_STATUS_OUT_OF_MEMORY = -4,
    AV_STATUS_UNSUPPORTED = -5,      /* valid request this build or backend cannot do */
    AV_STATUS_NOT_FOUND = -6,        /* a named thing (tensor, speaker, device) does not exist */
    AV_STATUS_DEVICE = -7,           /* a GPU/driver error; the message carries the driver's text */
    AV_STATUS_INTERNAL = -8,         /* a broken invariant inside the library: a bug, please report */
    AV_STATUS_CANCELLED = -9         /* the caller's progress callback asked to stop */
} av_status;

/* A static, human-readable name for a status ("ok", "invalid argument", ...). Never NULL. */
const char *av_status_string(av_status status);

/* Library version, e.g. "0.1.0". Static string. */
const char *av_version_string(void);

/* Capabilities of this build, one "key: value" per line (backends, CPU features, GPU
 * architectures, devices found). Static string, filled on first call; thread-safe. */
const char *av_build_info(void);

typedef enum av_log_level {
    AV_LOG_LEVEL_ERROR = 0,
    AV_LOG_LEVEL_WARNING = 1,
    AV_LOG_LEVEL_INFO = 2,
    AV_LOG_LEVEL_DEBUG = 3
} av_log_level;

/* Receives every log line the library produces (no trailing newline). user_data is passed back
 * untouched. The default is no callback: the library is silent. The callback may be called from
 * any thread that is inside a library call. */
typedef void (*av_log_callback)(av_log_level level, const char *message, void *user_data);
void av_log_set_callback(av_log_callback callback, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_COMMON_H */
