/* Status strings, version, build info, the allocator's overflow guards, the log callback. */
#include <stdint.h>

#include "autovoice/autovoice.h"
#include "check.h"
#include "core/internal.h"

static int log_calls;
static char last_line[256];

static void on_log(av_log_level level, const char *message, void *user)
{
    (void)level;
    log_calls += *(int *)user;
    snprintf(last_line, sizeof last_line, "%s", message);
}

int main(void)
{
    const av_status all[] = {AV_STATUS_OK, AV_STATUS_INVALID_ARGUMENT, AV_STATUS_IO,
                             AV_STATUS_FORMAT, AV_STATUS_OUT_OF_MEMORY, AV_STATUS_UNSUPPORTED,
                             AV_STATUS_NOT_FOUND, AV_STATUS_DEVICE, AV_STATUS_INTERNAL,
                             AV_STATUS_CANCELLED};
    CHECK_STR(av_status_string(AV_STATUS_OK), "ok");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(av_status_string(all[i]) != NULL);
        CHECK(strcmp(av_status_string(all[i]), "unknown status") != 0);
        for (size_t j = 0; j < i; j++)  /* every status has its own text */
            CHECK(strcmp(av_status_string(all[i]), av_status_string(all[j])) != 0);
        CHECK(all[i] <= 0);
    }
    CHECK_STR(av_status_string((av_status)-999), "unknown status");

    CHECK(strlen(av_version_string()) >= 5);
    const char *info = av_build_info();
    CHECK(strstr(info, "version: ") != NULL);
    CHECK(strstr(info, "backends: cpu") != NULL);
    CHECK(strstr(info, "cuda: ") != NULL);
    CHECK(av_build_info() == info); /* computed once */

    CHECK(av__calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(av__mallocarray(SIZE_MAX / 8 + 1, 16) == NULL);
    void *p = av__calloc(0, 0); /* a valid, freeable pointer, never NULL for size 0 */
    CHECK(p != NULL);
    av__free(p);

    char err[32];
    CHECK_INT(av__fail(err, sizeof err, AV_STATUS_FORMAT, "x=%d and a long tail %s", 7,
                       "that does not fit in the buffer"),
              AV_STATUS_FORMAT);
    CHECK(strncmp(err, "x=7 and a long tail", 19) == 0);
    CHECK_INT(strlen(err), sizeof err - 1);
    CHECK_INT(av__fail(NULL, 0, AV_STATUS_IO, "ignored"), AV_STATUS_IO);

    av__log(AV_LOG_LEVEL_INFO, "silent without a callback");
    int weight = 1;
    av_log_set_callback(on_log, &weight);
    av__log(AV_LOG_LEVEL_WARNING, "value %d", 42);
    CHECK_INT(log_calls, 1);
    CHECK_STR(last_line, "value 42");
    av_log_set_callback(NULL, NULL);
    av__log(AV_LOG_LEVEL_WARNING, "dropped");
    CHECK_INT(log_calls, 1);

    return check_report("test_status");
}
