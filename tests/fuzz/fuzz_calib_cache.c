/* libFuzzer target for builder/calibrate's calibration cache reader (TensorRT's text format):
 * feeds each input to av__calib_cache_parse for a fixed model of three tensors, once without and
 * once with an expected fingerprint, and checks what calibrate.h promises: a success gives every
 * tensor a finite scale > 0, a known method and version, and (when expected) the fingerprint; a
 * failure is FORMAT, writes no scale and names the file. The tensor names and the fingerprint are
 * those test_calibrate replays the corpus with. Build and run: tests/fuzz/README.md. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/calibrate.h"

#define NAME "fuzz.cache"
#define N 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const uint8_t *data, size_t size, const av__calib_fingerprint *fp,
                 float *scales, av__calib_cache_info *info)
{
    static const char *const names[N] = {"input_audio", "/conv_pre/Conv_output_0",
                                         "(Unnamed Layer* 4) [Fully Connected]_output"};
    char err[512];
    err[0] = 'x';
    for (int k = 0; k < N; k++)
        scales[k] = -7.0f;
    memset(info, 0x5a, sizeof *info);
    av_status st = av__calib_cache_parse((const char *)data, size, NAME, names, N, fp, scales,
                                         info, err, sizeof err);
    if (st != AV_STATUS_OK) {
        if (st != AV_STATUS_FORMAT || !memchr(err, '\0', sizeof err) ||
            strncmp(err, NAME ":", strlen(NAME ":")) != 0)
            abort(); /* a refusal is FORMAT and names the file */
        for (int k = 0; k < N; k++)
            if (scales[k] != -7.0f)
                abort(); /* nothing written on failure */
        return 0;
    }
    for (int k = 0; k < N; k++)
        if (!isfinite(scales[k]) || !(scales[k] > 0.0f))
            abort();
    if ((unsigned)info->method > AV__CALIB_METHOD_PERCENTILE || info->version < 0 ||
        info->version > 999999999 || (info->has_fingerprint != 0 && info->has_fingerprint != 1))
        abort();
    if (fp && (!info->has_fingerprint || info->fingerprint != *fp))
        abort();
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float a[N], b[N];
    av__calib_cache_info ia, ib;
    int plain = parse(data, size, NULL, a, &ia);
    /* with the fingerprint the input itself names (when it names one), else a fixed one */
    av__calib_fingerprint fp = plain && ia.has_fingerprint ? ia.fingerprint : 0x9f3c0e1d2b4a5678ull;
    int checked = parse(data, size, &fp, b, &ib);
    if (checked && (!plain || memcmp(a, b, sizeof a) != 0))
        abort(); /* expecting a fingerprint only ever refuses more */
    if (plain && ia.has_fingerprint && !checked)
        abort(); /* ... and never refuses the fingerprint the file carries */
    return 0;
}
