#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/internal.h"

const char *av_status_string(av_status status)
{
    switch (status) {
    case AV_STATUS_OK: return "ok";
    case AV_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case AV_STATUS_IO: return "input/output error";
    case AV_STATUS_FORMAT: return "malformed or unsupported file";
    case AV_STATUS_OUT_OF_MEMORY: return "out of memory";
    case AV_STATUS_UNSUPPORTED: return "unsupported";
    case AV_STATUS_NOT_FOUND: return "not found";
    case AV_STATUS_DEVICE: return "device error";
    case AV_STATUS_INTERNAL: return "internal error";
    case AV_STATUS_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

static av_log_callback g_log_callback;
static void *g_log_user_data;

void av_log_set_callback(av_log_callback callback, void *user_data)
{
    g_log_callback = callback;
    g_log_user_data = user_data;
}

void av__log(av_log_level level, const char *fmt, ...)
{
    if (!g_log_callback)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_log_callback(level, line, g_log_user_data);
}

av_status av__fail(char *err, size_t size, av_status status, const char *fmt, ...)
{
    if (err && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
    return status;
}

void *av__malloc(size_t size) { return malloc(size ? size : 1); }

void *av__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *av__mallocarray(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return av__malloc(count * size);
}

void *av__realloc(void *ptr, size_t size) { return realloc(ptr, size ? size : 1); }

void av__free(void *ptr) { free(ptr); }
