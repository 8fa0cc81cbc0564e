/* Single-precision matrix multiply over OpenBLAS's cblas_sgemm, row-major, with the
 * argument checks cblas leaves to its callers (it aborts the process on bad input). */
#ifndef EMBEDRT_GEMM_H
#define EMBEDRT_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C[MxN] = alpha * op(A)[MxK] * op(B)[KxN] + beta * C, all row-major.
 * op(X) is X or X^T; lda/ldb/ldc are row strides of the stored matrices (in elements).
 * Fails with ERT_EINVAL on negative sizes, strides too small for the stored shape,
 * or sizes beyond OpenBLAS's 32-bit index range. With M, N == 0 nothing happens. */
ert_status ert_gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                    const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                    size_t ldc, ert_error *err);

struct ert_pool;
/* ert_gemm split across a thread pool (embedrt/pool.h) along the larger of M and N, each
 * part one single-threaded cblas_sgemm call. With a NULL or one-thread pool, or a product
 * too small to be worth waking threads for, it is exactly ert_gemm. */
ert_status ert_gemm_mt(struct ert_pool *pool, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                       ert_error *err);

/* Threads OpenBLAS may use inside one call. embedrt owns threads: when it runs work in
 * parallel itself it sets this to 1 so the two never oversubscribe the cores. */
void ert_gemm_set_threads(int threads);
int ert_gemm_get_threads(void);

#ifdef __cplusplus
}
#endif
#endif
