// CUDA kernels of the reduce family (placeholder table: being written).
#include "cuda/cuda_op.h"

const av__cuda_kernel av__cuda_kernels_reduce[] = {{NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
const int av__cuda_kernels_reduce_count = 0;
