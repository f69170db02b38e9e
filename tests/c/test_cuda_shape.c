/* The CUDA kernels of the shape family (src/cuda/ops_shape.cu) against the CPU operators, in
 * fp32 math (relative L2 <= 1e-5; data movement is exact) and fp16 storage
 * (tests/c/cuda_harness.h):
 * - Reshape, Flatten, Squeeze, Unsqueeze (byte copies), Shape, Size;
 * - Transpose, Slice (negative steps, clamped and extreme bounds, opset 9 attributes, an empty
 *   result), Concat, Split (split input, num_outputs, equal parts), Expand, Tile,
 *   DepthToSpace (DCR, CRD), SpaceToDepth;
 * - Gather and GatherElements (int32 / int64 indices, negative indices, a scalar index,
 *   runtime indices), Pad (constant with a runtime constant_value, reflect beyond the data,
 *   edge with a crop, wrap, opset 18 axes, opset 2 attributes);
 * - ConstantOfShape, Range, Trilu (k constant, runtime, absent), EyeLike;
 * - Resize / Upsample: nearest (every opset form), linear (half_pixel, align_corners,
 *   pytorch_half_pixel, tf_crop_and_resize with extrapolation), cubic;
 * - int64 data through the copies, and declines (runtime Slice starts) on the CPU fallback.
 * Random inputs from a fixed seed (printed). Skips (77) without the CUDA backend or a GPU.
 * Cases run through run_replay() also go through one plan three times in each math mode: the
 * plan must replay a CUDA graph (run() is capturable) and every run give the same bytes (the
 * kernels are deterministic). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#define SEED 20261203u
#include "cuda_node_tests.h"

/* ---- views ----------------------------------------------------------------------------------- */

static void test_views(cuda_harness *h)
{
    opt_node *n = node_new("Reshape", 2, 0, 1);
    run_replay(h, "Reshape 3x1x7 -> 7x-1", n, 14, 2,
        IN(rand_f32(3, SHAPE(3, 1, 7), -1, 1), LIST(7, -1)), 2, NULL);
    n = node_new("Reshape", 2, 0, 1);
    run(h, "Reshape int64 2x6 -> 3x0x... (0 copies)", n, 14, 2,
        IN(rand_int(AV__DT_I64, 2, SHAPE(2, 6), -1000, 1000), LIST(0, 3, 2)), 2, NULL);

    n = node_new("Flatten", 1, 0, 1);
    opt_attr_int(n, "axis", 2);
    run(h, "Flatten axis 2 of 2x3x5x1", n, 13, 1, IN(rand_f32(4, SHAPE(2, 3, 5, 1), -1, 1)), 0,
        NULL);

    n = node_new("Squeeze", 2, 0, 1);
    run(h, "Squeeze axes [-1] of 3x1x5x1", n, 13, 2,
        IN(rand_f32(4, SHAPE(3, 1, 5, 1), -1, 1), LIST(-1)), 2, NULL);
    n = node_new("Squeeze", 1, 0, 1);
    opt_attr_ints(n, "axes", 1, SHAPE(1));
    run(h, "Squeeze opset 11 attribute", n, 11, 1, IN(rand_f32(3, SHAPE(4, 1, 3), -1, 1)), 0,
        NULL);

    n = node_new("Unsqueeze", 2, 0, 1);
    run(h, "Unsqueeze axes [0, -1] of 4x5", n, 13, 2,
        IN(rand_f32(2, SHAPE(4, 5), -1, 1), LIST(0, -1)), 2, NULL);

    n = node_new("Shape", 1, 0, 1);
    opt_attr_int(n, "start", -2);
    run_replay(h, "Shape start -2 of 2x3x5x7", n, 15, 1,
        IN(rand_f32(4, SHAPE(2, 3, 5, 7), -1, 1)), 0, NULL);
    n = node_new("Size", 1, 0, 1);
    run(h, "Size of 2x3x5x7", n, 13, 1, IN(rand_f32(4, SHAPE(2, 3, 5, 7), -1, 1)), 0,
        NULL);
}

/* ---- strided copies -------------------------------------------------------------------------- */

static void test_transpose(cuda_harness *h)
{
    opt_node *n = node_new("Transpose", 1, 0, 1);
    opt_attr_ints(n, "perm", 3, SHAPE(2, 0, 1));
    run(h, "Transpose 5x1x33 perm [2,0,1]", n, 13, 1, IN(rand_f32(3, SHAPE(5, 1, 33), -1, 1)), 0,
        NULL);
    n = node_new("Transpose", 1, 0, 1);
    run(h, "Transpose 4x7x9 default perm", n, 13, 1, IN(rand_f32(3, SHAPE(4, 7, 9), -1, 1)), 0,
        NULL);
    n = node_new("Transpose", 1, 0, 1);
    opt_attr_ints(n, "perm", 4, SHAPE(0, 2, 3, 1));
    run_replay(h, "Transpose 2x3x5x7 NCHW -> NHWC", n, 13, 1,
        IN(rand_f32(4, SHAPE(2, 3, 5, 7), -1, 1)), 0, NULL);
    n = node_new("Transpose", 1, 0, 1);
    opt_attr_ints(n, "perm", 2, SHAPE(1, 0));
    run(h, "Transpose 64x1001", n, 13, 1, IN(rand_f32(2, SHAPE(64, 1001), -1, 1)), 0, NULL);
    n = node_new("Transpose", 1, 0, 1);
    opt_attr_ints(n, "perm", 3, SHAPE(1, 2, 0));
    run(h, "Transpose int64 3x4x5 perm [1,2,0]", n, 13, 1,
        IN(rand_int(AV__DT_I64, 3, SHAPE(3, 4, 5), INT64_MIN / 2, INT64_MAX / 2)), 0,
        NULL);
}

static void test_slice(cuda_harness *h)
{
    opt_node *n = node_new("Slice", 5, 0, 1);
    run_replay(h, "Slice 7x9x11 steps -1, 3, neg axes", n, 13, 5,
        IN(rand_f32(3, SHAPE(7, 9, 11), -1, 1), LIST(-2, 1), LIST(0, INT64_MAX), LIST(0, -1),
           LIST(-1, 3)),
        0x1e, NULL);
    n = node_new("Slice", 3, 0, 1);
    run(h, "Slice no axes/steps, clamped ends", n, 13, 3,
        IN(rand_f32(3, SHAPE(5, 6, 7), -1, 1), LIST(1, 0, 2), LIST(-1, 100, 3)), 0x6, NULL);
    n = node_new("Slice", 5, 1u << 3, 1);
    run(h, "Slice axes absent, steps 2, 1", n, 13, 5,
        IN(rand_f32(2, SHAPE(9, 4), -1, 1), LIST(1, 1), LIST(9, 3), {0}, LIST(2, 1)), 0x16,
        NULL);
    n = node_new("Slice", 1, 0, 1);
    opt_attr_ints(n, "starts", 2, SHAPE(0, 2));
    opt_attr_ints(n, "ends", 2, SHAPE(3, -1));
    opt_attr_ints(n, "axes", 2, SHAPE(1, 2));
    run(h, "Slice opset 9 attributes", n, 9, 1, IN(rand_f32(3, SHAPE(2, 5, 8), -1, 1)), 0, NULL);
    n = node_new("Slice", 5, 0, 1);
    run(h, "Slice int64 reversed step -2 (extremes)", n, 13, 5,
        IN(rand_int(AV__DT_I64, 2, SHAPE(3, 11), -50, 50), LIST(INT64_MAX), LIST(INT64_MIN),
           LIST(1), LIST(-2)),
        0x1e, NULL);
    n = node_new("Slice", 4, 0, 1);
    run(h, "Slice empty result (start == end)", n, 13, 4,
        IN(rand_f32(2, SHAPE(6, 5), -1, 1), LIST(3), LIST(3), LIST(0)), 0xe, NULL);
    /* starts not known at plan time: declined, the CPU fallback runs it */
    n = node_new("Slice", 3, 0, 1);
    run(h, "Slice runtime starts (CPU fallback)", n, 13, 3,
        IN(rand_f32(2, SHAPE(6, 5), -1, 1), LIST(1), LIST(4)), 0x4,
        &(cuda_tol){.cpu_ok = 1});
}

static void test_concat_split(cuda_harness *h)
{
    opt_node *n = node_new("Concat", 3, 0, 1);
    opt_attr_int(n, "axis", 1);
    run(h, "Concat 2x{3,1,7}x5 axis 1", n, 13, 3,
        IN(rand_f32(3, SHAPE(2, 3, 5), -1, 1), rand_f32(3, SHAPE(2, 1, 5), -1, 1),
           rand_f32(3, SHAPE(2, 7, 5), -1, 1)),
        0, NULL);
    n = node_new("Concat", 2, 0, 1);
    opt_attr_int(n, "axis", -1);
    run(h, "Concat int64 3x{2,5} axis -1", n, 13, 2,
        IN(rand_int(AV__DT_I64, 2, SHAPE(3, 2), -9, 9),
           rand_int(AV__DT_I64, 2, SHAPE(3, 5), -9, 9)),
        0, NULL);
    n = node_new("Concat", 4, 0, 1);
    opt_attr_int(n, "axis", 0);
    run_replay(h, "Concat 4 inputs axis 0 (one constant)", n, 13, 4,
        IN(rand_f32(2, SHAPE(1, 33), -1, 1), rand_f32(2, SHAPE(4, 33), -1, 1),
           rand_f32(2, SHAPE(2, 33), -1, 1), rand_f32(2, SHAPE(3, 33), -1, 1)),
        0x4, NULL);

    n = node_new("Split", 2, 0, 3);
    opt_attr_int(n, "axis", 1);
    run_replay(h, "Split 4x8x3 axis 1 split [2,5,1]", n, 13, 2,
        IN(rand_f32(3, SHAPE(4, 8, 3), -1, 1), LIST(2, 5, 1)), 2, NULL);
    n = node_new("Split", 1, 0, 3);
    opt_attr_int(n, "axis", -1);
    opt_attr_int(n, "num_outputs", 3);
    run(h, "Split opset 18 num_outputs 3 of 10", n, 18, 1, IN(rand_f32(2, SHAPE(5, 10), -1, 1)),
        0, NULL);
    n = node_new("Split", 1, 0, 2);
    run(h, "Split int64 opset 11 equal halves", n, 11, 1,
        IN(rand_int(AV__DT_I64, 2, SHAPE(6, 7), -99, 99)), 0, NULL);
}

static void test_expand_tile(cuda_harness *h)
{
    opt_node *n = node_new("Expand", 2, 0, 1);
    run(h, "Expand 3x1 -> 2x3x5", n, 13, 2, IN(rand_f32(2, SHAPE(3, 1), -1, 1), LIST(2, 3, 5)),
        2, NULL);
    n = node_new("Expand", 2, 0, 1);
    run(h, "Expand 1 -> 7", n, 13, 2, IN(rand_f32(1, SHAPE(1), -1, 1), LIST(7)), 2, NULL);
    n = node_new("Expand", 2, 0, 1);
    run(h, "Expand int64 1x4 with 3x1", n, 13, 2,
        IN(rand_int(AV__DT_I64, 2, SHAPE(1, 4), -9, 9), LIST(3, 1)), 2, NULL);

    n = node_new("Tile", 2, 0, 1);
    run(h, "Tile 2x3 repeats [3,1]", n, 13, 2, IN(rand_f32(2, SHAPE(2, 3), -1, 1), LIST(3, 1)),
        2, NULL);
    n = node_new("Tile", 2, 0, 1);
    run_replay(h, "Tile 1x5x3 repeats [2,2,2]", n, 13, 2,
        IN(rand_f32(3, SHAPE(1, 5, 3), -1, 1), LIST(2, 2, 2)), 2, NULL);
    n = node_new("Tile", 2, 0, 1);
    run(h, "Tile int64 4 repeats [3]", n, 13, 2,
        IN(rand_int(AV__DT_I64, 1, SHAPE(4), -9, 9), LIST(3)), 2, NULL);
}

static void test_depth_space(cuda_harness *h)
{
    const char *modes[2] = {"DCR", "CRD"};
    for (int m = 0; m < 2; m++) {
        opt_node *n = node_new("DepthToSpace", 1, 0, 1);
        opt_attr_int(n, "blocksize", 2);
        opt_attr_string(n, "mode", modes[m]);
        char label[64];
        snprintf(label, sizeof label, "DepthToSpace 2x8x3x5 b2 %s", modes[m]);
        run(h, label, n, 13, 1, IN(rand_f32(4, SHAPE(2, 8, 3, 5), -1, 1)), 0, NULL);
    }
    opt_node *n = node_new("SpaceToDepth", 1, 0, 1);
    opt_attr_int(n, "blocksize", 2);
    run(h, "SpaceToDepth 2x3x4x6 b2", n, 13, 1, IN(rand_f32(4, SHAPE(2, 3, 4, 6), -1, 1)), 0,
        NULL);
}

/* ---- indexed reads --------------------------------------------------------------------------- */

static void test_gather(cuda_harness *h)
{
    opt_node *n = node_new("Gather", 2, 0, 1);
    run(h, "Gather 100x16 axis 0, int64 idx (neg)", n, 13, 2,
        IN(rand_f32(2, SHAPE(100, 16), -1, 1), rand_int(AV__DT_I64, 2, SHAPE(3, 7), -100, 99)),
        2, NULL);
    n = node_new("Gather", 2, 0, 1);
    opt_attr_int(n, "axis", 1);
    run_replay(h, "Gather 4x9x5 axis 1, runtime int32 idx", n, 13, 2,
        IN(rand_f32(3, SHAPE(4, 9, 5), -1, 1), rand_int(AV__DT_I32, 2, SHAPE(2, 2), -9, 8)), 0,
        NULL);
    n = node_new("Gather", 2, 0, 1);
    opt_attr_int(n, "axis", -1);
    run(h, "Gather 6x8 axis -1, scalar index", n, 13, 2,
        IN(rand_f32(2, SHAPE(6, 8), -1, 1), scalar_i64(-3)), 2, NULL);
    n = node_new("Gather", 2, 0, 1);
    run(h, "Gather int64 data 50 x idx 31", n, 13, 2,
        IN(rand_int(AV__DT_I64, 1, SHAPE(50), INT64_MIN / 2, INT64_MAX / 2),
           rand_int(AV__DT_I64, 1, SHAPE(31), -50, 49)),
        0, NULL);

    n = node_new("GatherElements", 2, 0, 1);
    opt_attr_int(n, "axis", 1);
    run_replay(h, "GatherElements 3x7 axis 1, int64 idx", n, 13, 2,
        IN(rand_f32(2, SHAPE(3, 7), -1, 1), rand_int(AV__DT_I64, 2, SHAPE(3, 4), -7, 6)), 0,
        NULL);
    n = node_new("GatherElements", 2, 0, 1);
    run(h, "GatherElements 5x4 axis 0, int32 idx", n, 13, 2,
        IN(rand_f32(2, SHAPE(5, 4), -1, 1), rand_int(AV__DT_I32, 2, SHAPE(2, 4), -5, 4)), 2,
        NULL);
    n = node_new("GatherElements", 2, 0, 1);
    opt_attr_int(n, "axis", -1);
    run(h, "GatherElements 2x3x9 axis -1", n, 13, 2,
        IN(rand_f32(3, SHAPE(2, 3, 9), -1, 1), rand_int(AV__DT_I64, 3, SHAPE(2, 3, 11), -9, 8)),
        0, NULL);
}

static void test_pad(cuda_harness *h)
{
    opt_node *n = node_new("Pad", 3, 0, 1);
    run_replay(h, "Pad constant 3x5, runtime value 1.5", n, 13, 3,
        IN(rand_f32(2, SHAPE(3, 5), -1, 1), LIST(1, 2, 0, 3), scalar_f32(1.5f)), 2, NULL);
    n = node_new("Pad", 2, 0, 1);
    opt_attr_string(n, "mode", "reflect");
    run(h, "Pad reflect 2x3x4 beyond the data", n, 13, 2,
        IN(rand_f32(3, SHAPE(2, 3, 4), -1, 1), LIST(0, 0, 5, 0, 0, 3)), 2, NULL);
    n = node_new("Pad", 2, 0, 1);
    opt_attr_string(n, "mode", "reflect");
    run_replay(h, "Pad reflect 1x4x1000 (conv1d style)", n, 13, 2,
        IN(rand_f32(3, SHAPE(1, 4, 1000), -1, 1), LIST(0, 0, 3, 0, 0, 3)), 2, NULL);
    n = node_new("Pad", 2, 0, 1);
    opt_attr_string(n, "mode", "edge");
    run(h, "Pad edge 4x6 with a crop", n, 13, 2,
        IN(rand_f32(2, SHAPE(4, 6), -1, 1), LIST(2, -1, 1, 3)), 2, NULL);
    n = node_new("Pad", 2, 0, 1);
    opt_attr_string(n, "mode", "wrap");
    run(h, "Pad wrap 3x5", n, 19, 2, IN(rand_f32(2, SHAPE(3, 5), -1, 1), LIST(1, 7, 2, 2)), 2,
        NULL);
    n = node_new("Pad", 4, 1u << 2, 1);
    opt_attr_string(n, "mode", "reflect");
    run(h, "Pad opset 18 axes [-1] reflect", n, 18, 4,
        IN(rand_f32(2, SHAPE(2, 7), -1, 1), LIST(3, 2), {0}, LIST(-1)), 0xa, NULL);
    n = node_new("Pad", 1, 0, 1);
    opt_attr_ints(n, "pads", 4, SHAPE(1, 0, 2, 3));
    opt_attr_float(n, "value", 0.25f);
    run(h, "Pad opset 2 attributes, value 0.25", n, 2, 1, IN(rand_f32(2, SHAPE(3, 4), -1, 1)), 0,
        NULL);
    n = node_new("Pad", 3, 0, 1);
    run(h, "Pad int64 constant, runtime value", n, 13, 3,
        IN(rand_int(AV__DT_I64, 2, SHAPE(3, 4), -9, 9), LIST(0, 1, 2, 2), scalar_i64(-77)), 2,
        NULL);
}

/* ---- generators ------------------------------------------------------------------------------ */

static void test_generators(cuda_harness *h)
{
    opt_node *n = node_new("ConstantOfShape", 1, 0, 1);
    float fv = 2.5f;
    av__tensor vt = opt_f32(1, SHAPE(1), &fv);
    opt_attr_tensor(n, "value", &vt);
    opt_free_tensor_data(&vt);
    run_replay(h, "ConstantOfShape 3x4 float 2.5", n, 13, 1, IN(LIST(3, 4)), 1, NULL);
    n = node_new("ConstantOfShape", 1, 0, 1);
    int64_t iv = -7;
    vt = opt_i64(1, SHAPE(1), &iv);
    opt_attr_tensor(n, "value", &vt);
    opt_free_tensor_data(&vt);
    run(h, "ConstantOfShape 5x1x3 int64 -7", n, 13, 1, IN(LIST(5, 1, 3)), 1, NULL);
    n = node_new("ConstantOfShape", 1, 0, 1);
    run(h, "ConstantOfShape 17 default (0.0)", n, 13, 1, IN(LIST(17)), 1, NULL);

    n = node_new("Range", 3, 0, 1);
    run_replay(h, "Range float 0.5 .. 10.3 step 0.7", n, 11, 3,
        IN(scalar_f32(0.5f), scalar_f32(10.3f), scalar_f32(0.7f)), 7, NULL);
    n = node_new("Range", 3, 0, 1);
    run(h, "Range int64 10 .. -7 step -3", n, 11, 3,
        IN(scalar_i64(10), scalar_i64(-7), scalar_i64(-3)), 7, NULL);
    int32_t a = 3, b = 1000, c = 7;
    n = node_new("Range", 3, 0, 1);
    run(h, "Range int32 3 .. 1000 step 7", n, 11, 3,
        IN(opt_tensor(AV__DT_I32, 0, NULL, &a), opt_tensor(AV__DT_I32, 0, NULL, &b),
           opt_tensor(AV__DT_I32, 0, NULL, &c)),
        7, NULL);

    n = node_new("Trilu", 1, 0, 1);
    run(h, "Trilu upper 2x5x7 (k absent)", n, 14, 1, IN(rand_f32(3, SHAPE(2, 5, 7), -1, 1)), 0,
        NULL);
    n = node_new("Trilu", 2, 0, 1);
    opt_attr_int(n, "upper", 0);
    run(h, "Trilu lower k = -2 (constant)", n, 14, 2,
        IN(rand_f32(2, SHAPE(6, 4), -1, 1), scalar_i64(-2)), 2, NULL);
    n = node_new("Trilu", 2, 0, 1);
    run_replay(h, "Trilu int64 upper k = 3 (runtime)", n, 14, 2,
        IN(rand_int(AV__DT_I64, 3, SHAPE(3, 4, 9), -9, 9), scalar_i64(3)), 0, NULL);

    n = node_new("EyeLike", 1, 0, 1);
    opt_attr_int(n, "k", 2);
    run_replay(h, "EyeLike 5x7 k = 2", n, 13, 1, IN(rand_f32(2, SHAPE(5, 7), -1, 1)), 0, NULL);
    n = node_new("EyeLike", 1, 0, 1);
    opt_attr_int(n, "k", -10);
    run(h, "EyeLike int64 4x3 k = -10 (all zero)", n, 13, 1,
        IN(rand_int(AV__DT_I64, 2, SHAPE(4, 3), 0, 9)), 0, NULL);
}

/* ---- Resize ---------------------------------------------------------------------------------- */

static av__tensor floats(int n, const float *v)
{
    return opt_f32(1, (int64_t[]){n}, v);
}

static void test_resize(cuda_harness *h)
{
    /* opset 11+: X, roi, scales, sizes */
    opt_node *n = node_new("Resize", 4, 0x6, 1);
    run_replay(h, "Resize nearest 1x2x4x5 -> sizes 7x9", n, 13, 4,
        IN(rand_f32(4, SHAPE(1, 2, 4, 5), -1, 1), {0}, {0}, LIST(1, 2, 7, 9)), 0x8, NULL);
    n = node_new("Resize", 3, 0x2, 1);
    opt_attr_string(n, "mode", "linear");
    run(h, "Resize linear half_pixel x2.5, x1.5", n, 13, 3,
        IN(rand_f32(4, SHAPE(1, 3, 4, 6), -1, 1), {0},
           floats(4, (float[]){1, 1, 2.5f, 1.5f})),
        0x4, NULL);
    n = node_new("Resize", 4, 0x6, 1);
    opt_attr_string(n, "mode", "linear");
    opt_attr_string(n, "coordinate_transformation_mode", "align_corners");
    run(h, "Resize linear align_corners down 7x9->3x4", n, 13, 4,
        IN(rand_f32(4, SHAPE(1, 3, 7, 9), -1, 1), {0}, {0}, LIST(1, 3, 3, 4)), 0x8, NULL);
    n = node_new("Resize", 3, 0x2, 1);
    opt_attr_string(n, "mode", "linear");
    opt_attr_string(n, "coordinate_transformation_mode", "pytorch_half_pixel");
    run_replay(h, "Resize linear 1x4x1000 x2 (audio)", n, 13, 3,
        IN(rand_f32(3, SHAPE(1, 4, 1000), -1, 1), {0}, floats(3, (float[]){1, 1, 2})), 0x4,
        NULL);
    n = node_new("Resize", 3, 0x2, 1);
    opt_attr_string(n, "mode", "cubic");
    run(h, "Resize cubic 1x1x5x6 x2", n, 13, 3,
        IN(rand_f32(4, SHAPE(1, 1, 5, 6), -1, 1), {0}, floats(4, (float[]){1, 1, 2, 2})), 0x4,
        NULL);
    n = node_new("Resize", 3, 0, 1);
    opt_attr_string(n, "mode", "linear");
    opt_attr_string(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    opt_attr_float(n, "extrapolation_value", 0.5f);
    run(h, "Resize tf_crop_and_resize extrapolation", n, 11, 3,
        IN(rand_f32(4, SHAPE(1, 2, 5, 5), -1, 1),
           floats(8, (float[]){0, 0, -0.2f, 0.1f, 1, 1, 0.9f, 1.3f}),
           floats(4, (float[]){1, 1, 1.6f, 1.4f})),
        0x6, NULL);
    n = node_new("Resize", 4, 0x6, 1);
    opt_attr_string(n, "coordinate_transformation_mode", "asymmetric");
    opt_attr_string(n, "nearest_mode", "floor");
    run(h, "Resize nearest int64 asymmetric floor", n, 13, 4,
        IN(rand_int(AV__DT_I64, 4, SHAPE(1, 1, 3, 5), -99, 99), {0}, {0}, LIST(1, 1, 8, 4)),
        0x8, NULL);
    n = node_new("Resize", 2, 0, 1);
    run(h, "Resize opset 10 nearest scales 2x3", n, 10, 2,
        IN(rand_f32(4, SHAPE(1, 2, 3, 4), -1, 1), floats(4, (float[]){1, 1, 2, 3})), 2, NULL);
    n = node_new("Upsample", 2, 0, 1);
    run(h, "Upsample opset 9 nearest x2", n, 9, 2,
        IN(rand_f32(4, SHAPE(1, 2, 3, 4), -1, 1), floats(4, (float[]){1, 1, 2, 2})), 2, NULL);
}

int main(void)
{
    cuda_harness h;
    if (!cuda_harness_open(&h)) {
        if (check_failures)
            return check_report("test_cuda_shape");
        SKIP("%s", h.why);
    }
    printf("seed %u\n", SEED);
    test_views(&h);
    test_transpose(&h);
    test_slice(&h);
    test_concat_split(&h);
    test_expand_tile(&h);
    test_depth_space(&h);
    test_gather(&h);
    test_pad(&h);
    test_generators(&h);
    test_resize(&h);
    cuda_harness_close(&h);
    return check_report("test_cuda_shape");
}
