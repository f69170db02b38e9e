// CUDA kernels of the elementwise family (placeholder table: being written).
#include "cuda/cuda_op.h"

const av__cuda_kernel av__cuda_kernels_elementwise[] = {{NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
const int av__cuda_kernels_elementwise_count = 0;
