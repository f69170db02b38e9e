/* ElementwiseChain (domain AV__DOMAIN_INTERNAL): several elementwise steps applied in one pass
 * over memory. Made by the pointwise-chain pass (graph/passes.h, av__pass_fuse_pointwise); never
 * written by exporters. Kernel in src/ops/elementwise_chain.c.
 *
 * Node layout:
 *   input 0     X, the chain's input (any dtype the steps' kernels take)
 *   inputs 1..  operands, each of X's dtype: count 1 (rank <= X's), or one non-1 dimension that
 *               equals X's along the same axis for every such operand ("per channel"); they
 *               never make the output bigger than X
 *   output 0    Y, X's dtype and shape
 *   attributes  ops       STRINGS, one ONNX op type per step ("Div", "Erf", ...), in order
 *               operands  INTS, 2 per step: for a binary step, the input holding the other
 *                         operand (0: X itself), then -1; for Clip, the inputs holding min and
 *                         max (-1: none); -1, -1 for other unary steps
 *               swap      INTS, 1 per step: 1 when the running value is the binary step's right
 *                         operand (c - x), else 0
 *               params    FLOATS, AV__EW_CHAIN_PARAMS per step: alpha, beta, gamma, lambd, bias
 *                         (defaults resolved) and 1 for Gelu's approximate="tanh"
 * Each step computes with the kernel its own node would have used (av__ew_unary_kernel,
 * av__ew_binary_kernel), so the output is bit-identical to the unfused nodes. */
#ifndef AV_OPS_ELEMENTWISE_CHAIN_H
#define AV_OPS_ELEMENTWISE_CHAIN_H

#include "ops/op.h"

#define AV__EW_CHAIN_OP "ElementwiseChain"
#define AV__EW_CHAIN_MAX_STEPS 64
#define AV__EW_CHAIN_PARAMS 6

/* One step as the pass sees it, in terms of the original node. */
typedef struct av__ew_chain_step {
    const char *op;        /* ONNX op type (a static string) */
    int binary;            /* 1: binary op of the running value and `a` */
    int a, b;              /* value indices: binary: the other operand; Clip: min, max (-1 none) */
    int swap;              /* binary: the running value is the right operand */
    float params[AV__EW_CHAIN_PARAMS];
} av__ew_chain_step;

/* When node (in a graph of default-domain opset `opset`) can be a chain step whose running
 * value is value `x`, fills *step (operands as value indices) and returns 1; else 0. Checks the
 * op type, its attributes and which input is x; not whether the operands are constants (the
 * pass decides that). A binary node with x on both sides gets a = x. */
int av__ew_chain_step_of(const av__node *node, int64_t opset, int x, av__ew_chain_step *step);

#endif /* AV_OPS_ELEMENTWISE_CHAIN_H */
