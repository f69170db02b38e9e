/* The convolution / matrix family, shared between its files (internal to src/ops/conv*.c and the
 * family's unit test):
 *   conv.c         the operator table, attribute checking and shape inference of Conv and
 *                  ConvTranspose, dispatch between the fast and the reference kernels
 *   conv_matmul.c  MatMul and Gemm (inference, fast float32 kernels over OpenBLAS)
 *   conv_gemm.c    fast float32 Conv / ConvTranspose: im2col + SGEMM, col2im, depthwise loops
 *   conv_blas.c    the guarded, pool-splitting SGEMM every fast kernel goes through
 *   conv_ref.c     plain scalar references of all four (float32 and float64)
 *
 * Threading: the fast kernels split their work over ctx->pool with av__parallel_for and call
 * OpenBLAS single-threaded from inside the chunks (see av__blas_sgemm). */
#ifndef AV_OPS_CONV_INTERNAL_H
#define AV_OPS_CONV_INTERNAL_H

#include <stdint.h>

#include "ops/op.h"

#define AV__CONV_MAX_SPATIAL (AV__MAX_DIMS - 2)

/* Largest scratch (bytes) the fast conv kernels ask for: their im2col / col buffers cover tiles
 * of output (Conv) or input (ConvTranspose) positions chosen to stay below it (only a single
 * position of an enormous channels x kernel product can exceed it). A 10-minute input to the
 * content encoder's first conv would need ~120 MB untiled. */
#define AV__CONV_SCRATCH_CAP ((size_t)8 << 20)

/* Work below this many flops is not shared with the pool (waking it costs more). */
#define AV__CONV_PAR_MIN_FLOPS 4e6

/* Everything a Conv or ConvTranspose kernel needs, resolved from attributes and shapes.
 * Tensors: X [batch, in_ch, in_sp...], Y [batch, out_ch, out_sp...];
 * Conv W [out_ch, in_ch / group, kernel...], ConvTranspose W [in_ch, out_ch / group, kernel...];
 * optional bias [out_ch].
 * Conv:          in  = out * stride + k * dilation - pad_begin
 * ConvTranspose: out = in  * stride + k * dilation - pad_begin
 * (per spatial axis; positions outside [0, size) are zero padding / dropped). pad_begin and
 * pad_end are >= 0 except for a ConvTranspose whose output_shape asks for more than the natural
 * size: then they may be negative (the extra positions get only the bias). */
typedef struct av__conv_params {
    int transpose;                 /* 0: Conv, 1: ConvTranspose */
    int nsp;                       /* spatial axes, 1 .. AV__CONV_MAX_SPATIAL */
    av__dtype dtype;               /* float32 or float64 */
    int64_t batch, in_ch, out_ch, group;
    int64_t in_sp[AV__CONV_MAX_SPATIAL], out_sp[AV__CONV_MAX_SPATIAL];
    int64_t kernel[AV__CONV_MAX_SPATIAL], stride[AV__CONV_MAX_SPATIAL];
    int64_t dilation[AV__CONV_MAX_SPATIAL];
    int64_t pad_begin[AV__CONV_MAX_SPATIAL], pad_end[AV__CONV_MAX_SPATIAL];
    int64_t in_size, out_size, kernel_size;   /* products over the spatial axes */
} av__conv_params;

/* Checks a Conv (transpose 0) or ConvTranspose (1) node against its inputs and fills *p.
 * AV_STATUS_FORMAT / AV_STATUS_UNSUPPORTED with a message in ctx->err. Reads no tensor data. */
av_status av__conv_params_get(const av__op_ctx *ctx, int transpose, av__conv_params *p);

/* ---- scalar references (conv_ref.c): direct loops, double accumulators; float32 or float64
 * (p->dtype) data; bias may be NULL. No scratch, single-threaded. ----------------------------- */
void av__conv_ref(const av__conv_params *p, const void *x, const void *w, const void *bias,
                  void *y);
void av__conv_transpose_ref(const av__conv_params *p, const void *x, const void *w,
                            const void *bias, void *y);
/* C[m, n] = alpha * sum_k op(A)[m, k] op(B)[k, n] + beta * Cin[m, n], row-major, element type
 * `dt`; ld* in elements; cin may be NULL (no addend) and otherwise is read with row stride
 * cin_rs and column stride cin_cs (0 for a broadcast axis). */
void av__gemm_ref(av__dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                  double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                  double beta, const void *cin, int64_t cin_rs, int64_t cin_cs, void *c,
                  int64_t ldc);

/* ---- fast float32 kernels (conv_gemm.c) ---------------------------------------------------- */
/* Scratch bytes av__conv_fast / av__conv_transpose_fast need for p; independent of the pool. */
size_t av__conv_fast_scratch(const av__conv_params *p);
void av__conv_fast(const av__conv_params *p, const float *x, const float *w, const float *bias,
                   float *y, void *scratch, av__threadpool *pool);
void av__conv_transpose_fast(const av__conv_params *p, const float *x, const float *w,
                             const float *bias, float *y, void *scratch, av__threadpool *pool);

/* Row-major SGEMM through OpenBLAS: C = alpha * op(A) op(B) + beta * C for an m x n C, with
 * beta == 0 meaning C is write-only; ld* in elements. Handles empty and k == 0 products and
 * dimensions beyond OpenBLAS's int range (plain loops) so it never reaches OpenBLAS's error
 * handler. A large product is cut into blocks of rows or columns of C by its shape alone and the
 * blocks are shared by the pool (NULL: the calling thread), so the result does not depend on the
 * thread count. OpenBLAS itself runs single-threaded here (see av__blas_single_thread). Must not
 * be given a pool from inside av__parallel_for on that pool (pass NULL there). */
void av__blas_sgemm(av__threadpool *pool, int trans_a, int trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc);
/* Puts OpenBLAS in single-threaded mode (process-global: openblas_set_num_threads(1)); every
 * fast kernel calls it before its GEMMs, since parallelism comes from ctx->pool. */
void av__blas_single_thread(void);

/* ---- MatMul and Gemm (conv_matmul.c) -------------------------------------------------------- */
av_status av__matmul_infer(const av__op_ctx *ctx);
av_status av__matmul_run(const av__op_ctx *ctx);
av_status av__matmul_run_ref(const av__op_ctx *ctx);
av_status av__gemm_infer(const av__op_ctx *ctx);
av_status av__gemm_run(const av__op_ctx *ctx);
av_status av__gemm_run_ref(const av__op_ctx *ctx);

/* The family's operators with their run() replaced by the scalar references (same infer, no
 * scratch): for tests comparing the fast kernels with the references. */
extern const av__op av__ops_conv_ref[];
extern const int av__ops_conv_ref_count;

#endif /* AV_OPS_CONV_INTERNAL_H */
