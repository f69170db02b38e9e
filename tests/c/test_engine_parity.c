/* Reference-model parity: every fixture case of a model package, run through the public engine
 * API, matches PyTorch's output with relative L2 error <= 1e-5.
 * usage: test_engine_parity PACKAGE_DIR FIXTURE_DIR [--device cuda[:N] [--precision P]]
 * (FIXTURE_DIR holds MANIFEST). On a GPU every case runs three times (eager launches, the run
 * that captures a CUDA graph, a replay), each checked; fp32 and tf32 hold the 1e-5 bound
 * (tf32: 1e-2), fp16 relative L2 <= 1e-2 and SNR >= 40 dB. */
#include <math.h>
#include <string.h>

#include "autovoice/engine.h"
#include "check.h"

#define MAX_CASES 64
#define TOLERANCE 1e-5

static double rel_l2(const float *got, const float *want, size_t n, double *snr_db)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    *snr_db = num > 0 ? 10 * log10((den > 0 ? den : 1e-300) / num) : INFINITY;
    if (num != num) /* NaN anywhere */
        return INFINITY;
    return sqrt(num) / (den > 0 ? sqrt(den) : 1.0);
}

int main(int argc, char **argv)
{
    const char *device = "cpu", *precision = "fp32";
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--device"))
            device = argv[i + 1];
        else if (!strcmp(argv[i], "--precision"))
            precision = argv[i + 1];
        else
            argc = -1;
    }
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: test_engine_parity PACKAGE_DIR FIXTURE_DIR [--device cuda[:N] "
                        "[--precision fp32|tf32|fp16]]\n");
        return 2;
    }
    const char *pkg = argv[1], *fx = argv[2];
    char err0[256];
    av_device_kind kind;
    int index;
    if (av_device_parse(device, &kind, &index, err0, sizeof err0) != AV_STATUS_OK) {
        fprintf(stderr, "%s\n", err0);
        return 2;
    }
    av_gpu_math math = !strcmp(precision, "fp16")   ? AV_GPU_FP16
                       : !strcmp(precision, "tf32") ? AV_GPU_TF32
                                                    : AV_GPU_FP32;
    double tolerance = math == AV_GPU_FP32 ? TOLERANCE : 1e-2, min_snr = math == AV_GPU_FP16 ? 40 : 0;
    int runs = kind == AV_DEVICE_CUDA ? 3 : 1;
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/MANIFEST", fx);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    char comp[64], cas[64], role[16], name[64], dtype[16], shape[128];
    char cur_comp[64] = "", cur_case[64] = "";
    av_model *model = NULL;
    av_session *s = NULL;
    av_tensor loaded[16];
    int n_loaded = 0, cases = 0;
    /* MANIFEST lists a case's inputs, then its output: run the case when the output line comes */
    while (fscanf(f, "%63s %63s %15s %63s %15s %127s", comp, cas, role, name, dtype, shape) == 6) {
        if (strcmp(comp, cur_comp) != 0) {
            av_session_free(s);
            av_model_free(model);
            s = NULL;
            model = NULL;
            snprintf(cur_comp, sizeof cur_comp, "%s", comp);
            snprintf(path, sizeof path, "%s/%s.onnx", pkg, comp);
            if (av_model_load(path, &model, err, sizeof err) != AV_STATUS_OK) {
                fprintf(stderr, "%s\n", err);
                check_failures++;
                break;
            }
            av_session_config cfg = av_session_config_default();
            cfg.threads = 2;
            cfg.device = kind;
            cfg.device_index = index;
            cfg.gpu_math = math;
            if (av_session_create(model, &cfg, &s, err, sizeof err) != AV_STATUS_OK) {
                fprintf(stderr, "%s\n", err);
                check_failures++;
                break;
            }
        }
        snprintf(cur_case, sizeof cur_case, "%s", cas);
        snprintf(path, sizeof path, "%s/%s/%s/%s.npy", fx, comp, cas, name);
        av_tensor t;
        if (av_npy_read(path, &t, err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "%s\n", err);
            check_failures++;
            break;
        }
        if (!strcmp(role, "input")) {
            loaded[n_loaded++] = t;
            if (av_session_set_input(s, name, t.dtype, t.ndim, t.shape, t.data) != AV_STATUS_OK) {
                fprintf(stderr, "%s/%s: %s\n", comp, cas, av_session_last_error(s));
                check_failures++;
            }
            continue;
        }
        /* the output line: run and compare */
        for (int r = 0; r < runs; r++) {
            av_tensor got;
            if (av_session_run(s) != AV_STATUS_OK) {
                fprintf(stderr, "%s/%s: run: %s\n", comp, cas, av_session_last_error(s));
                check_failures++;
            } else if (av_session_get_output(s, name, &got) != AV_STATUS_OK) {
                fprintf(stderr, "%s/%s: %s\n", comp, cas, av_session_last_error(s));
                check_failures++;
            } else {
                int same_shape = got.ndim == t.ndim && got.dtype == t.dtype;
                for (int d = 0; same_shape && d < t.ndim; d++)
                    same_shape = got.shape[d] == t.shape[d];
                if (!same_shape) {
                    fprintf(stderr, "%s/%s: output shape or dtype differs from %s\n", comp, cas, shape);
                    check_failures++;
                } else {
                    size_t n = 1;
                    for (int d = 0; d < t.ndim; d++)
                        n *= (size_t)t.shape[d];
                    double snr;
                    double e = rel_l2(got.data, t.data, n, &snr);
                    int ok = e <= tolerance && snr >= min_snr;
                    printf("%s %-16s %-14s relative L2 %.3g  SNR %.1f dB%s\n", ok ? "ok  " : "FAIL",
                           comp, cas, e, snr,
                           runs == 1 ? "" : r == 0 ? "  (eager)" : r == 1 ? "  (capture)" : "  (replay)");
                    if (!ok)
                        check_failures++;
                }
            }
        }
        cases++;
        av_npy_free(&t);
        for (int i = 0; i < n_loaded; i++)
            av_npy_free(&loaded[i]);
        n_loaded = 0;
    }
    fclose(f);
    for (int i = 0; i < n_loaded; i++)
        av_npy_free(&loaded[i]);
    av_session_free(s);
    av_model_free(model);
    CHECK(cases >= 15);
    printf("%d cases\n", cases);
    return check_report("test_engine_parity");
}
