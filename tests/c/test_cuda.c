/* The CUDA backend's device probe and kernel self-test. Skips (exit 77) without the backend or
 * without a GPU; on a GPU machine it proves the compiled kernels run on the device. */
#include "check.h"
#include "core/cuda_probe.h"

int main(void)
{
    char msg[512] = "";
    int count = -1;
    CHECK_INT(av__cuda_device_count(&count, msg, sizeof msg), AV_STATUS_OK);
    CHECK(count >= 0);
    if (!av__cuda_built()) {
        CHECK_INT(count, 0);
        CHECK_INT(av__cuda_selftest(0, msg, sizeof msg), AV_STATUS_UNSUPPORTED);
        CHECK(strstr(msg, "not built") != NULL);
        if (check_failures)
            return check_report("test_cuda");
        SKIP("CUDA backend not built into this binary (configured without nvcc or AV_CUDA=OFF)");
    }
    CHECK(strlen(av__cuda_architectures()) > 0);
    if (count == 0) {
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
