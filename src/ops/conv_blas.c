/* The family's one door to OpenBLAS: a guarded row-major SGEMM, optionally split over the pool.
 *
 * Threading model: OpenBLAS is kept single-threaded and the kernels share their GEMMs (blocks of
 * output columns, rows, batches or channels) out over the session's av__threadpool. On the
 * 2-core build machine this beat OpenBLAS's own threads on a vocoder Conv1d (128 -> 128
 * channels, kernel 7, 11136 steps): 217 GFLOP/s against 184 GFLOP/s for one full im2col
 * followed by one 2-thread cblas_sgemm (whose GEMM alone ran at 232 GFLOP/s), since the im2col
 * copy runs in parallel too and is read back from cache. It also needs no per-call
 * thread-count changes.
 * openblas_set_num_threads() is process-global: a program that also uses OpenBLAS for its own
 * work finds it single-threaded once an autovoice kernel has run. */
#include <cblas.h>
#include <limits.h>

#include "ops/conv_internal.h"

void av__blas_single_thread(void)
{
    /* cheap when already 1: OpenBLAS returns early */
    if (openblas_get_num_threads() != 1)
        openblas_set_num_threads(1);
}

/* One GEMM on the calling thread. */
static void sgemm1(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0 || m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX ||
        ldc > INT_MAX) {
        /* outside what cblas can be asked (k == 0 makes lda 0 invalid): plain loops */
        for (int64_t i = 0; i < m; i++) {
            for (int64_t j = 0; j < n; j++) {
                float acc = 0;
                for (int64_t l = 0; l < k; l++)
                    acc += (ta ? a[l * lda + i] : a[i * lda + l]) *
                           (tb ? b[j * ldb + l] : b[l * ldb + j]);
                float *cp = &c[i * ldc + j];
                *cp = alpha * acc + (beta == 0 ? 0.0f : beta * *cp);
            }
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

typedef struct sgemm_job {
    int ta, tb, split_rows;
    int64_t m, n, k, block;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int64_t lda, ldb, ldc;
} sgemm_job;

/* items: blocks of j->block rows or columns of C */
static void sgemm_chunk(void *arg, int64_t begin, int64_t end)
{
    const sgemm_job *j = arg;
    int64_t dim = j->split_rows ? j->m : j->n;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t lo = blk * j->block, cnt = dim - lo < j->block ? dim - lo : j->block;
        if (j->split_rows)
            sgemm1(j->ta, j->tb, cnt, j->n, j->k, j->alpha,
                   j->ta ? j->a + lo : j->a + lo * j->lda, j->lda, j->b, j->ldb, j->beta,
                   j->c + lo * j->ldc, j->ldc);
        else
            sgemm1(j->ta, j->tb, j->m, cnt, j->k, j->alpha, j->a, j->lda,
                   j->tb ? j->b + lo * j->ldb : j->b + lo, j->ldb, j->beta, j->c + lo, j->ldc);
    }
}

/* Below AV__CONV_PAR_MIN_FLOPS a GEMM is one call. Above it the larger of M and N is cut into
 * blocks (at most MAX_BLOCKS, at least MIN_BLOCK wide) that the pool shares. The cut depends on
 * the shapes only, so the result does not depend on the thread count. */
#define MAX_BLOCKS 32
#define MIN_BLOCK 64

void av__blas_sgemm(av__threadpool *pool, int trans_a, int trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc)
{
    av__blas_single_thread();
    if (2.0 * (double)m * (double)n * (double)k < AV__CONV_PAR_MIN_FLOPS) {
        sgemm1(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    sgemm_job j = {trans_a, trans_b, m >= n, m, n, k, 0, alpha, beta, a, b, c, lda, ldb, ldc};
    int64_t dim = j.split_rows ? m : n;
    int64_t block = (dim + MAX_BLOCKS - 1) / MAX_BLOCKS;
    block = (block + 15) / 16 * 16;
    j.block = block < MIN_BLOCK ? MIN_BLOCK : block;
    int64_t blocks = (dim + j.block - 1) / j.block;
    int threads = av__threadpool_size(pool);
    av__parallel_for(pool, blocks, (blocks + threads - 1) / threads, sgemm_chunk, &j);
}
