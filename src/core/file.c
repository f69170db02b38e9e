/* Files written whole: to PATH.tmp, flushed to disk, then renamed over PATH (core/internal.h). */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

av_status av__file_commit(FILE *f, int failed, int errnum, const char *tmp, const char *path,
                          char *err, size_t err_size)
{
    if (!failed && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        failed = 1;
        errnum = errno;
    }
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        errnum = errno;
    }
    if (failed) {
        remove(tmp);
        return av__fail(err, err_size, AV_STATUS_IO, "%s: write error: %s", tmp,
                        strerror(errnum));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return av__fail(err, err_size, AV_STATUS_IO,
                        "%s: cannot rename the temporary file %s into place: %s", path, tmp,
                        strerror(e));
    }
    return AV_STATUS_OK;
}
