// CUDA kernels of the shape family (placeholder table: being written).
#include "cuda/cuda_op.h"

const av__cuda_kernel av__cuda_kernels_shape[] = {{NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
const int av__cuda_kernels_shape_count = 0;
