// CUDA kernels of the conv family (placeholder table: being written).
#include "cuda/cuda_op.h"

const av__cuda_kernel av__cuda_kernels_conv[] = {{NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
const int av__cuda_kernels_conv_count = 0;
