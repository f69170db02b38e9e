/* The committed reference fixtures (tests/fixtures/reference) load through the NPY reader with
 * exactly the dtype and shape their MANIFEST states, hold finite values where the model's
 * contract says so, and cover every component. The engine tests compare against these files. */
#include <inttypes.h>

#include "check.h"
#include "util/npy.h"

#define REF_DIR AV_FIXTURES_DIR "/reference"

int main(void)
{
    FILE *f = fopen(REF_DIR "/MANIFEST", "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", REF_DIR "/MANIFEST");
        return 1;
    }
    static const char *const components[] = {"content_encoder", "pitch_encoder", "flow_decoder",
                                             "mel_projection", "vocoder"};
    int outputs_per_component[5] = {0};
    char comp[64], cas[64], role[16], name[64], dtype[16], shape[128];
    int lines = 0;
    while (fscanf(f, "%63s %63s %15s %63s %15s %127s", comp, cas, role, name, dtype, shape) == 6) {
        lines++;
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/%s/%s/%s.npy", REF_DIR, comp, cas, name);
        av__npy_array a;
        av_status st = av__npy_load(path, &a, err, sizeof err);
        if (st != AV_STATUS_OK) {
            fprintf(stderr, "%s\n", err);
            CHECK_INT(st, AV_STATUS_OK);
            continue;
        }
        CHECK_STR(av__npy_dtype_name(a.dtype), dtype);
        char got[128] = "";
        size_t len = 0;
        for (int d = 0; d < a.ndim; d++)
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%" PRId64, d ? "x" : "",
                                    a.shape[d]);
        if (strcmp(got, shape) != 0)
            fprintf(stderr, "%s: shape %s, MANIFEST says %s\n", path, got, shape);
        CHECK_STR(got, shape);
        /* Every float tensor is finite, except the pitch encoder's edge-case F0 input, which
         * carries NaN and +-inf on purpose. */
        if (a.dtype == AV__NPY_F32 && strcmp(cas, "edges") != 0) {
            const float *x = a.data;
            size_t bad = 0;
            for (size_t i = 0; i < a.count; i++)
                bad += !isfinite(x[i]);
            if (bad)
                fprintf(stderr, "%s: %zu non-finite values\n", path, bad);
            CHECK_INT(bad, 0);
        }
        for (int c = 0; c < 5; c++)
            if (!strcmp(comp, components[c]) && !strcmp(role, "output"))
                outputs_per_component[c]++;
        av__npy_free(&a);
    }
    fclose(f);
    CHECK(lines >= 40);
    for (int c = 0; c < 5; c++) {
        if (outputs_per_component[c] < 3)
            fprintf(stderr, "%s: only %d cases\n", components[c], outputs_per_component[c]);
        CHECK(outputs_per_component[c] >= 3);
    }
    printf("test_fixtures: %d tensors checked\n", lines);
    return check_report("test_fixtures");
}
