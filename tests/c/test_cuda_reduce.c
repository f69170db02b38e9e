/* The CUDA kernels of the reduce family (src/cuda/ops_reduce.cu) against the CPU operators, in
 * fp32 math (relative L2 <= 1e-5) and fp16 storage (tests/c/cuda_harness.h):
 * - Reduce{Sum,Mean,Max,Min,Prod,L1,L2,SumSquare,LogSum,LogSumExp}: axes as attribute and as
 *   input, negative axes, keepdims 0/1, noop_with_empty_axes, all axes, rows of 100003, few
 *   long columns, split reduced dims, an all -inf LogSumExp row; int64 / int32 Sum, Mean
 *   (truncating), Max, Min, Prod, L1, SumSquare;
 * - ArgMax / ArgMin (select_last_index, ties, NaN, int64 / int32 data), Hardmax;
 * - Softmax / LogSoftmax along rows, along a middle axis, in the opset 11 2-D coercion;
 * - CumSum (exclusive, reverse, rows of 100003, along a middle axis, int64 / int32);
 * - Layer (broadcast Scale, scalar Scale, no B, Mean / InvStdDev outputs, runtime Scale),
 *   Instance, Group (per-group opset 18, per-channel opset 21), Batch (opset 7 spatial = 0,
 *   runtime parameters), Lp (p = 1, 2, a zero line) and MeanVariance normalisation;
 * - declines (integer ReduceL2, float64 Softmax, runtime CumSum axis) on the CPU fallback.
 * Float data for ArgMax / Hardmax sits on a grid of float16 values, so that fp16 storage keeps
 * every value (and every tie) of the float32 reference. Random inputs from a fixed seed
 * (printed). Skips (77) without the CUDA backend or a GPU.
 * Cases run through run_replay() also go through one plan three times in each math mode: the
 * plan must replay a CUDA graph (run() is capturable) and every run give the same bytes (the
 * kernels are deterministic). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SEED 20261204u
#include "cuda_node_tests.h"

/* Random multiples of 1/16 in [-4, 4]: exact in float16, with many ties. */
static av__tensor grid_f32(int nd, const int64_t *shape)
{
    av__tensor t = opt_tensor(AV__DT_F32, nd, shape, NULL);
    uint64_t s = seed_next++;
    for (int64_t i = 0; i < av__tensor_count(&t); i++)
        ((float *)t.data)[i] = (float)((int64_t)(av__rng_u64(s, (uint64_t)i) % 129) - 64) / 16;
    return t;
}

static const cuda_tol on_cpu = {.cpu_ok = 1};

/* ---- Reduce* --------------------------------------------------------------------------------- */

/* ReduceX with axes as an input (opset 18; ReduceSum from 13). */
static opt_node *reduce_in(const char *op, int keepdims)
{
    opt_node *n = node_new(op, 2, 0, 1);
    opt_attr_int(n, "keepdims", keepdims);
    return n;
}

/* ReduceX with an axes attribute (opset 13 and before; not ReduceSum). */
static opt_node *reduce_attr(const char *op, int keepdims, int na, const int64_t *axes)
{
    opt_node *n = node_new(op, 1, 0, 1);
    opt_attr_int(n, "keepdims", keepdims);
    if (na > 0)
        opt_attr_ints(n, "axes", na, axes);
    return n;
}

static void test_reduce_float(cuda_harness *h)
{
    run_replay(h, "ReduceSum 2x100003 axis 1", reduce_in("ReduceSum", 1), 13, 2,
        IN(rand_f32(2, SHAPE(2, 100003), -1, 1), LIST(1)), 2, NULL);
    run(h, "ReduceSum 5x7x9 axes [0,2] keepdims 0", reduce_in("ReduceSum", 0), 13, 2,
        IN(rand_f32(3, SHAPE(5, 7, 9), -1, 1), LIST(0, 2)), 2, NULL);
    opt_node *n = node_new("ReduceSum", 1, 0, 1);
    opt_attr_int(n, "noop_with_empty_axes", 1);
    run(h, "ReduceSum noop_with_empty_axes", n, 13, 1, IN(rand_f32(2, SHAPE(4, 9), -1, 1)), 0,
        NULL);
    run(h, "ReduceSum opset 11 all axes 17x33", reduce_attr("ReduceSum", 1, 0, NULL), 11, 1,
        IN(rand_f32(2, SHAPE(17, 33), -1, 1)), 0, NULL);
    run_replay(h, "ReduceMean 100003x3 axis 0 (long columns)", reduce_in("ReduceMean", 0), 18, 2,
        IN(rand_f32(2, SHAPE(100003, 3), 0, 1), LIST(0)), 2, NULL);
    run(h, "ReduceMean 3x4x5x6 axes [1,3]", reduce_in("ReduceMean", 1), 18, 2,
        IN(rand_f32(4, SHAPE(3, 4, 5, 6), -1, 1), LIST(3, 1)), 2, NULL);
    run(h, "ReduceMax 6x1x77 axes [-1]", reduce_attr("ReduceMax", 1, 1, SHAPE(-1)), 13, 1,
        IN(rand_f32(3, SHAPE(6, 1, 77), -1, 1)), 0, NULL);
    run(h, "ReduceMin 4x129x3 axis 1 (columns)", reduce_attr("ReduceMin", 0, 1, SHAPE(1)), 13, 1,
        IN(rand_f32(3, SHAPE(4, 129, 3), -1, 1)), 0, NULL);
    run(h, "ReduceProd 3x20 axis 1", reduce_attr("ReduceProd", 1, 1, SHAPE(1)), 13, 1,
        IN(rand_f32(2, SHAPE(3, 20), 0.9f, 1.1f)), 0, NULL);
    run(h, "ReduceL1 3x4x5 axes [0,1]", reduce_attr("ReduceL1", 0, 2, SHAPE(0, 1)), 13, 1,
        IN(rand_f32(3, SHAPE(3, 4, 5), -1, 1)), 0, NULL);
    run(h, "ReduceL2 7x300 axis -1 (opset 18)", reduce_in("ReduceL2", 1), 18, 2,
        IN(rand_f32(2, SHAPE(7, 300), -1, 1), LIST(-1)), 2, NULL);
    run(h, "ReduceSumSquare 2x3x1000 axis 2", reduce_attr("ReduceSumSquare", 1, 1, SHAPE(2)), 13,
        1, IN(rand_f32(3, SHAPE(2, 3, 1000), -1, 1)), 0, NULL);
    run(h, "ReduceLogSum 5x64 axis 1", reduce_attr("ReduceLogSum", 1, 1, SHAPE(1)), 13, 1,
        IN(rand_f32(2, SHAPE(5, 64), 0.5f, 2)), 0, NULL);
    run(h, "ReduceLogSumExp 5x64 axis 1", reduce_attr("ReduceLogSumExp", 1, 1, SHAPE(1)), 13, 1,
        IN(rand_f32(2, SHAPE(5, 64), -5, 5)), 0, NULL);
    av__tensor x = rand_f32(2, SHAPE(3, 40), -5, 5);
    for (int i = 0; i < 40; i++)
        ((float *)x.data)[40 + i] = -INFINITY; /* row 1: all -inf, the result -inf */
    run(h, "ReduceLogSumExp with an all -inf row", reduce_attr("ReduceLogSumExp", 1, 1, SHAPE(1)),
        13, 1, IN(x), 0, NULL);
}

static void test_reduce_int(cuda_harness *h)
{
    run(h, "ReduceSum int64 4x9 axis 1", reduce_in("ReduceSum", 1), 13, 2,
        IN(rand_int(AV__DT_I64, 2, SHAPE(4, 9), -1000, 1000), LIST(1)), 2, NULL);
    run_replay(h, "ReduceSum int32 3x5000 axis 1", reduce_in("ReduceSum", 0), 13, 2,
        IN(rand_int(AV__DT_I32, 2, SHAPE(3, 5000), -100000, 100000), LIST(1)), 2, NULL);
    run(h, "ReduceMax int64 37x5 axis 0", reduce_attr("ReduceMax", 1, 1, SHAPE(0)), 13, 1,
        IN(rand_int(AV__DT_I64, 2, SHAPE(37, 5), INT64_MIN / 2, INT64_MAX / 2)), 0, NULL);
    run(h, "ReduceMin int32 6x33 axis -1", reduce_attr("ReduceMin", 0, 1, SHAPE(-1)), 13, 1,
        IN(rand_int(AV__DT_I32, 2, SHAPE(6, 33), -99999, 99999)), 0, NULL);
    run(h, "ReduceProd int64 4x9 axis 1", reduce_attr("ReduceProd", 1, 1, SHAPE(1)), 13, 1,
        IN(rand_int(AV__DT_I64, 2, SHAPE(4, 9), -3, 3)), 0, NULL);
    run(h, "ReduceMean int64 5x7 axis 1 (truncating)", reduce_attr("ReduceMean", 1, 1, SHAPE(1)),
        13, 1, IN(rand_int(AV__DT_I64, 2, SHAPE(5, 7), -50, 50)), 0, NULL);
    run(h, "ReduceL1 int64 3x11 all axes", reduce_attr("ReduceL1", 0, 0, NULL), 13, 1,
        IN(rand_int(AV__DT_I64, 2, SHAPE(3, 11), -50, 50)), 0, NULL);
    run(h, "ReduceSumSquare int32 2x3x4 axis 2", reduce_attr("ReduceSumSquare", 1, 1, SHAPE(2)),
        13, 1, IN(rand_int(AV__DT_I32, 3, SHAPE(2, 3, 4), -99, 99)), 0, NULL);
    /* declined: integer L2 goes through double on the CPU */
    run(h, "ReduceL2 int64 (CPU fallback)", reduce_attr("ReduceL2", 1, 1, SHAPE(1)), 13, 1,
        IN(rand_int(AV__DT_I64, 2, SHAPE(3, 4), -9, 9)), 0, &on_cpu);
}

/* ---- ArgMax, ArgMin, Hardmax ----------------------------------------------------------------- */

static opt_node *arg_node(const char *op, int64_t axis, int keepdims, int last)
{
    opt_node *n = node_new(op, 1, 0, 1);
    opt_attr_int(n, "axis", axis);
    opt_attr_int(n, "keepdims", keepdims);
    opt_attr_int(n, "select_last_index", last);
    return n;
}

static void test_arg(cuda_harness *h)
{
    run(h, "ArgMax 3x1000 axis 1 (ties: first)", arg_node("ArgMax", 1, 1, 0), 13, 1,
        IN(grid_f32(2, SHAPE(3, 1000))), 0, NULL);
    run_replay(h, "ArgMax 3x1000 axis 1 select_last_index", arg_node("ArgMax", 1, 1, 1), 13, 1,
        IN(grid_f32(2, SHAPE(3, 1000))), 0, NULL);
    run(h, "ArgMin 37x5 axis 0 select_last keepdims 0", arg_node("ArgMin", 0, 0, 1), 13, 1,
        IN(grid_f32(2, SHAPE(37, 5))), 0, NULL);
    run(h, "ArgMin 2x300x7 axis -2", arg_node("ArgMin", -2, 1, 0), 13, 1,
        IN(grid_f32(3, SHAPE(2, 300, 7))), 0, NULL);
    av__tensor x = grid_f32(2, SHAPE(2, 50));
    float *xv = x.data;
    xv[10] = xv[30] = xv[50 + 7] = NAN;
    run(h, "ArgMax with NaN (first NaN wins)", arg_node("ArgMax", 1, 1, 0), 13, 1, IN(x), 0, NULL);
    x = grid_f32(2, SHAPE(2, 50));
    xv = x.data;
    xv[10] = xv[30] = xv[50 + 7] = NAN;
    run(h, "ArgMin with NaN, select_last_index", arg_node("ArgMin", 1, 1, 1), 13, 1, IN(x), 0,
        NULL);
    run(h, "ArgMax int64 4x6x9 axis -1 select_last", arg_node("ArgMax", -1, 0, 1), 13, 1,
        IN(rand_int(AV__DT_I64, 3, SHAPE(4, 6, 9), -3, 3)), 0, NULL);
    run(h, "ArgMin int32 5x300 axis 1", arg_node("ArgMin", 1, 1, 0), 13, 1,
        IN(rand_int(AV__DT_I32, 2, SHAPE(5, 300), -1000, 1000)), 0, NULL);

    opt_node *n = node_new("Hardmax", 1, 0, 1);
    run(h, "Hardmax 6x40 axis -1 (ties: first)", n, 13, 1, IN(grid_f32(2, SHAPE(6, 40))), 0,
        NULL);
    n = node_new("Hardmax", 1, 0, 1);
    opt_attr_int(n, "axis", 1);
    run_replay(h, "Hardmax 3x17x5 axis 1", n, 13, 1, IN(grid_f32(3, SHAPE(3, 17, 5))), 0, NULL);
}

/* ---- Softmax, LogSoftmax --------------------------------------------------------------------- */

static opt_node *sm_node(const char *op, int64_t axis)
{
    opt_node *n = node_new(op, 1, 0, 1);
    opt_attr_int(n, "axis", axis);
    return n;
}

static void test_softmax(cuda_harness *h)
{
    run_replay(h, "Softmax 7x1000 axis -1", sm_node("Softmax", -1), 13, 1,
        IN(rand_f32(2, SHAPE(7, 1000), -3, 3)), 0, NULL);
    run(h, "Softmax 2x37x11 axis 1 (columns)", sm_node("Softmax", 1), 13, 1,
        IN(rand_f32(3, SHAPE(2, 37, 11), -3, 3)), 0, NULL);
    run(h, "Softmax opset 11 axis 1 of 3x4x5 (2-D)", sm_node("Softmax", 1), 11, 1,
        IN(rand_f32(3, SHAPE(3, 4, 5), -3, 3)), 0, NULL);
    run(h, "Softmax 1000x3 axis -1 (tiny rows)", sm_node("Softmax", -1), 13, 1,
        IN(rand_f32(2, SHAPE(1000, 3), -3, 3)), 0, NULL);
    run_replay(h, "LogSoftmax 5x100003 axis -1", sm_node("LogSoftmax", -1), 13, 1,
        IN(rand_f32(2, SHAPE(5, 100003), -3, 3)), 0, NULL);
    run(h, "LogSoftmax 9x4 axis 0", sm_node("LogSoftmax", 0), 13, 1,
        IN(rand_f32(2, SHAPE(9, 4), -3, 3)), 0, NULL);
    av__tensor x = opt_tensor(AV__DT_F64, 2, SHAPE(3, 8), NULL);
    for (int i = 0; i < 24; i++)
        ((double *)x.data)[i] = i * 0.1 - 1;
    run(h, "Softmax float64 (CPU fallback)", sm_node("Softmax", -1), 13, 1, IN(x), 0, &on_cpu);
}

/* ---- CumSum ---------------------------------------------------------------------------------- */

static opt_node *cumsum_node(int exclusive, int reverse)
{
    opt_node *n = node_new("CumSum", 2, 0, 1);
    opt_attr_int(n, "exclusive", exclusive);
    opt_attr_int(n, "reverse", reverse);
    return n;
}

static void test_cumsum(cuda_harness *h)
{
    for (int ex = 0; ex < 2; ex++)
        for (int rev = 0; rev < 2; rev++) {
            char label[64];
            snprintf(label, sizeof label, "CumSum 3x5000 axis 1 exclusive %d reverse %d", ex,
                     rev);
            run(h, label, cumsum_node(ex, rev), 14, 2,
                IN(rand_f32(2, SHAPE(3, 5000), -1, 1), scalar_i64(1)), 2, NULL);
        }
    run_replay(h, "CumSum 1x100003 axis -1", cumsum_node(0, 0), 14, 2,
        IN(rand_f32(2, SHAPE(1, 100003), -1, 1), scalar_i64(-1)), 2, NULL);
    run_replay(h, "CumSum 5x7x3 axis 1 reverse (columns)", cumsum_node(0, 1), 14, 2,
        IN(rand_f32(3, SHAPE(5, 7, 3), -1, 1), scalar_i64(1)), 2, NULL);
    run_replay(h, "CumSum int64 4x5000 axis 1 exclusive", cumsum_node(1, 0), 14, 2,
        IN(rand_int(AV__DT_I64, 2, SHAPE(4, 5000), -1000000, 1000000), scalar_i64(1)), 2, NULL);
    run(h, "CumSum int32 6x9x2 axis 0", cumsum_node(0, 0), 14, 2,
        IN(rand_int(AV__DT_I32, 3, SHAPE(6, 9, 2), -1000, 1000), scalar_i64(0)), 2, NULL);
    run(h, "CumSum runtime axis (CPU fallback)", cumsum_node(0, 0), 14, 2,
        IN(rand_f32(2, SHAPE(3, 7), -1, 1), scalar_i64(1)), 0, &on_cpu);
}

/* ---- normalisations -------------------------------------------------------------------------- */

static void test_norms(cuda_harness *h)
{
    opt_node *n = node_new("LayerNormalization", 3, 0, 1);
    run(h, "LayerNorm 4x50x192 axis -1", n, 17, 3,
        IN(rand_f32(3, SHAPE(4, 50, 192), -1, 3), rand_f32(1, SHAPE(192), 0.5f, 1.5f),
           rand_f32(1, SHAPE(192), -0.5f, 0.5f)),
        6, NULL);
    n = node_new("LayerNormalization", 2, 0, 1);
    opt_attr_float(n, "epsilon", 1e-3f);
    run(h, "LayerNorm 2x100003, runtime Scale, no B", n, 17, 2,
        IN(rand_f32(2, SHAPE(2, 100003), -1, 3), rand_f32(1, SHAPE(100003), 0.5f, 1.5f)), 0,
        NULL);
    n = node_new("LayerNormalization", 3, 0, 3);
    opt_attr_int(n, "axis", 1);
    run_replay(h, "LayerNorm axis 1, Scale 1x8, Mean, InvStd", n, 17, 3,
        IN(rand_f32(3, SHAPE(3, 5, 8), -1, 3), rand_f32(2, SHAPE(1, 8), 0.5f, 1.5f),
           rand_f32(2, SHAPE(5, 8), -0.5f, 0.5f)),
        6, NULL);
    n = node_new("LayerNormalization", 3, 0, 1);
    run(h, "LayerNorm 6x33, scalar Scale", n, 17, 3,
        IN(rand_f32(2, SHAPE(6, 33), -1, 1), rand_f32(1, SHAPE(1), 0.5f, 1.5f),
           rand_f32(1, SHAPE(33), -0.5f, 0.5f)),
        6, NULL);

    n = node_new("InstanceNormalization", 3, 0, 1);
    opt_attr_float(n, "epsilon", 1e-3f);
    run_replay(h, "InstanceNorm 2x5x999", n, 13, 3,
        IN(rand_f32(3, SHAPE(2, 5, 999), -1, 3), rand_f32(1, SHAPE(5), 0.5f, 1.5f),
           rand_f32(1, SHAPE(5), -0.5f, 0.5f)),
        6, NULL);
    n = node_new("InstanceNormalization", 3, 0, 1);
    run(h, "InstanceNorm 3x4x2x7, runtime params", n, 13, 3,
        IN(rand_f32(4, SHAPE(3, 4, 2, 7), -1, 3), rand_f32(1, SHAPE(4), 0.5f, 1.5f),
           rand_f32(1, SHAPE(4), -0.5f, 0.5f)),
        0, NULL);

    n = node_new("GroupNormalization", 3, 0, 1);
    opt_attr_int(n, "num_groups", 3);
    run_replay(h, "GroupNorm 2x6x7x11 3 groups (opset 18)", n, 18, 3,
        IN(rand_f32(4, SHAPE(2, 6, 7, 11), -1, 3), rand_f32(1, SHAPE(3), 0.5f, 1.5f),
           rand_f32(1, SHAPE(3), -0.5f, 0.5f)),
        6, NULL);
    n = node_new("GroupNormalization", 3, 0, 1);
    opt_attr_int(n, "num_groups", 2);
    run(h, "GroupNorm 2x6x50 per channel (opset 21)", n, 21, 3,
        IN(rand_f32(3, SHAPE(2, 6, 50), -1, 3), rand_f32(1, SHAPE(6), 0.5f, 1.5f),
           rand_f32(1, SHAPE(6), -0.5f, 0.5f)),
        6, NULL);

    n = node_new("BatchNormalization", 5, 0, 1);
    run_replay(h, "BatchNorm 3x4x50", n, 15, 5,
        IN(rand_f32(3, SHAPE(3, 4, 50), -1, 1), rand_f32(1, SHAPE(4), 0.5f, 1.5f),
           rand_f32(1, SHAPE(4), -0.5f, 0.5f), rand_f32(1, SHAPE(4), -0.5f, 0.5f),
           rand_f32(1, SHAPE(4), 0.5f, 2)),
        0x1e, NULL);
    n = node_new("BatchNormalization", 5, 0, 1);
    opt_attr_int(n, "spatial", 0);
    run(h, "BatchNorm opset 7 spatial 0, runtime", n, 7, 5,
        IN(rand_f32(3, SHAPE(2, 3, 5), -1, 1), rand_f32(2, SHAPE(3, 5), 0.5f, 1.5f),
           rand_f32(2, SHAPE(3, 5), -0.5f, 0.5f), rand_f32(2, SHAPE(3, 5), -0.5f, 0.5f),
           rand_f32(2, SHAPE(3, 5), 0.5f, 2)),
        0, NULL);

    n = node_new("LpNormalization", 1, 0, 1);
    opt_attr_int(n, "p", 1);
    opt_attr_int(n, "axis", 0);
    run(h, "LpNormalization p 1 axis 0 of 7x5", n, 13, 1, IN(rand_f32(2, SHAPE(7, 5), -1, 1)), 0,
        NULL);
    av__tensor x = rand_f32(2, SHAPE(4, 33), -1, 1);
    memset((float *)x.data + 33, 0, 33 * sizeof(float)); /* row 1 is zero: maps to zeros */
    n = node_new("LpNormalization", 1, 0, 1);
    run_replay(h, "LpNormalization p 2 axis -1, a zero row", n, 13, 1, IN(x), 0, NULL);

    n = node_new("MeanVarianceNormalization", 1, 0, 1);
    run_replay(h, "MVN 2x3x5x7 default axes", n, 13, 1,
        IN(rand_f32(4, SHAPE(2, 3, 5, 7), -1, 3)), 0, NULL);
    n = node_new("MeanVarianceNormalization", 1, 0, 1);
    opt_attr_ints(n, "axes", 1, SHAPE(2));
    run(h, "MVN 3x4x50 axes [2]", n, 13, 1, IN(rand_f32(3, SHAPE(3, 4, 50), -1, 3)), 0, NULL);
}

int main(void)
{
    cuda_harness h;
    if (!cuda_harness_open(&h)) {
        if (check_failures)
            return check_report("test_cuda_reduce");
        SKIP("%s", h.why);
    }
    printf("seed %u\n", SEED);
    test_reduce_float(&h);
    test_reduce_int(&h);
    test_arg(&h);
    test_softmax(&h);
    test_cumsum(&h);
    test_norms(&h);
    cuda_harness_close(&h);
    return check_report("test_cuda_reduce");
}
