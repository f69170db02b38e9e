/* The operator tables, one per family file. Each file defines its array and its count:
 *   const av__op av__ops_<family>[] = {...};
 *   const int av__ops_<family>_count = sizeof av__ops_<family> / sizeof av__ops_<family>[0];
 */
#ifndef AV_OPS_FAMILIES_H
#define AV_OPS_FAMILIES_H

#include "ops/op.h"

extern const av__op av__ops_elementwise[];   /* src/ops/elementwise.c */
extern const int av__ops_elementwise_count;
extern const av__op av__ops_reduce[];        /* src/ops/reduce.c, normalisations, softmax */
extern const int av__ops_reduce_count;
extern const av__op av__ops_shape[];         /* src/ops/shape*.c: views, copies, gather/scatter, pad, resize, random */
extern const int av__ops_shape_count;
extern const av__op av__ops_conv[];          /* src/ops/conv.c, matmul.c */
extern const int av__ops_conv_count;
/* Internal operators that graph passes create (domain AV__DOMAIN_INTERNAL, never ONNX's). */
extern const av__op av__ops_elementwise_internal[];  /* src/ops/elementwise_chain.c */
extern const int av__ops_elementwise_internal_count;
extern const av__op_stateful av__ops_conv_internal[];         /* src/ops/conv_fused.c (FusedConv) */
extern const int av__ops_conv_internal_count;

#endif /* AV_OPS_FAMILIES_H */
