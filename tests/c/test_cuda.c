/* The CUDA backend's device probe and kernel self-test, and what a session asking for a GPU gets
 * where there is none. Skips (exit 77) the GPU part without the backend or without a GPU; on a GPU
 * machine it proves the compiled kernels run on the device. */
#include "autovoice/engine.h"
#include "check.h"
#include "core/cuda_probe.h"

/* av_device_parse: the forms the command line takes, and the errors. */
static void check_device_parse(void)
{
    char err[256];
    av_device_kind kind;
    int index = -1;
    CHECK_INT(av_device_parse("cpu", &kind, &index, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(kind, AV_DEVICE_CPU);
    CHECK_INT(index, 0);
    CHECK_INT(av_device_parse("cuda", &kind, &index, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(kind, AV_DEVICE_CUDA);
    CHECK_INT(index, 0);
    CHECK_INT(av_device_parse("cuda:3", &kind, &index, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(kind, AV_DEVICE_CUDA);
    CHECK_INT(index, 3);
    const char *bad[] = {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "CUDA", "", "cuda:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_INT(av_device_parse(bad[i], &kind, &index, err, sizeof err),
                  AV_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(err, "unknown device") != NULL);
    }
    CHECK_STR(av_gpu_math_name(AV_GPU_FP32), "fp32");
    CHECK_STR(av_gpu_math_name(AV_GPU_TF32), "tf32");
    CHECK_STR(av_gpu_math_name(AV_GPU_FP16), "fp16");
}

/* A CUDA session where the backend or the GPU is missing: a clear error, no session. */
static void check_session_without_gpu(int built)
{
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/../../models/default/mel_projection.onnx", AV_FIXTURES_DIR);
    av_model *m = NULL;
    if (av_model_load(path, &m, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s\n", err);
        check_failures++;
        return;
    }
    av_session_config cfg = av_session_config_default();
    cfg.device = AV_DEVICE_CUDA;
    av_session *s = (av_session *)1;
    av_status st = av_session_create(m, &cfg, &s, err, sizeof err);
    CHECK(st != AV_STATUS_OK);
    CHECK(s == NULL);
    if (built)
        CHECK(strstr(err, "no usable GPU") != NULL || strstr(err, "no such GPU") != NULL);
    else
        CHECK(strstr(err, "not built") != NULL);
    printf("cuda session without a GPU: %s\n", err);
    av_model_free(m);
}

int main(void)
{
    check_device_parse();
    char msg[512] = "";
    int count = -1;
    CHECK_INT(av__cuda_device_count(&count, msg, sizeof msg), AV_STATUS_OK);
    CHECK(count >= 0);
    if (!av__cuda_built()) {
        CHECK_INT(count, 0);
        CHECK_INT(av__cuda_selftest(0, msg, sizeof msg), AV_STATUS_UNSUPPORTED);
        CHECK(strstr(msg, "not built") != NULL);
        check_session_without_gpu(0);
        if (check_failures)
            return check_report("test_cuda");
        SKIP("CUDA backend not built into this binary (configured without nvcc or AV_CUDA=OFF)");
    }
    CHECK(strlen(av__cuda_architectures()) > 0);
    if (count == 0) {
        check_session_without_gpu(1);
        if (check_failures)
            return check_report("test_cuda");
        SKIP("CUDA backend built (sm %s) but no GPU here: %s", av__cuda_architectures(), msg);
    }
    for (int i = 0; i < count; i++) {
        char desc[256];
        CHECK_INT(av__cuda_device_describe(i, desc, sizeof desc), AV_STATUS_OK);
        printf("cuda:%d %s\n", i, desc);
        av_status st = av__cuda_selftest(i, msg, sizeof msg);
        if (st != AV_STATUS_OK)
            fprintf(stderr, "cuda:%d self-test: %s\n", i, msg);
        CHECK_INT(st, AV_STATUS_OK);
    }
    CHECK(av__cuda_device_describe(count + 5, msg, sizeof msg) != AV_STATUS_OK);
    return check_report("test_cuda");
}
