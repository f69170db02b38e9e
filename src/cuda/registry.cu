// The CUDA backend's kernel registry: every family's table, looked up by (domain, op_type).
#include <string.h>

#include "cuda/cuda_op.h"

namespace {
struct family {
    const av__cuda_kernel *table;
    const int *count;
};
const family families[] = {
    {av__cuda_kernels_elementwise, &av__cuda_kernels_elementwise_count},
    {av__cuda_kernels_shape, &av__cuda_kernels_shape_count},
    {av__cuda_kernels_reduce, &av__cuda_kernels_reduce_count},
    {av__cuda_kernels_conv, &av__cuda_kernels_conv_count},
};

bool default_domain(const char *d) { return !d || !d[0] || !strcmp(d, "ai.onnx"); }
} // namespace

const av__cuda_kernel *av__cuda_kernel_find(const char *domain, const char *op_type)
{
    for (const family &f : families)
        for (int i = 0; i < *f.count; i++) {
            const av__cuda_kernel *k = &f.table[i];
            bool same_domain = default_domain(domain) ? default_domain(k->domain)
                                                      : (k->domain && !strcmp(k->domain, domain));
            if (same_domain && !strcmp(k->op_type, op_type))
                return k;
        }
    return NULL;
}
