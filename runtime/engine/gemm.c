/* ert_gemm: checked row-major sgemm on OpenBLAS. */
#include "embedrt/gemm.h"

#include "embedrt/pool.h"

#include <cblas.h>
#include <limits.h>

static bool fits_blasint(size_t v)
{
    return v <= (size_t)INT_MAX;
}

/* One validated product. A single row of C (a fully connected layer on one frame) goes to
 * sgemv: OpenBLAS's sgemm would first pack all of B, which for M = 1 costs as much as the
 * product itself. */
static void gemm_raw(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                     size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    if (m == 1) {
        /* x = row 0 of op(A): contiguous, or column 0 of the stored KxM matrix. */
        blasint incx = trans_a ? (blasint)lda : 1;
        if (beta == 0.0f) /* the arena may hold NaN; 0 * NaN must not leak into C */
            for (size_t j = 0; j < n; j++)
                c[j] = 0.0f;
        if (trans_b) /* B stored NxK: c = B x */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, alpha, b, (blasint)ldb, a, incx, beta,
                        c, 1);
        else /* B stored KxN: c = B^T x */
            cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, alpha, b, (blasint)ldb, a, incx, beta,
                        c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
                (blasint)ldc);
}

ert_status ert_gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                    const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                    size_t ldc, ert_error *err)
{
    if (!fits_blasint(m) || !fits_blasint(n) || !fits_blasint(k) || !fits_blasint(lda) ||
        !fits_blasint(ldb) || !fits_blasint(ldc))
        return ert_fail(err, ERT_EINVAL, "gemm: dimension exceeds INT_MAX (m=%zu n=%zu k=%zu)", m, n, k);
    if (m == 0 || n == 0)
        return ERT_OK;
    /* Stored shapes: A is MxK (or KxM when transposed), B is KxN (or NxK). */
    size_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < (a_cols ? a_cols : 1) || ldb < (b_cols ? b_cols : 1) || ldc < n)
        return ert_fail(err, ERT_EINVAL,
                        "gemm: leading dimension too small (lda=%zu need %zu, ldb=%zu need %zu, ldc=%zu need %zu)",
                        lda, a_cols, ldb, b_cols, ldc, n);
    if (!c || (k > 0 && (!a || !b)))
        return ert_fail(err, ERT_EINVAL, "gemm: NULL matrix pointer");
    if (k == 0) {
        /* cblas handles K = 0 but some builds read A/B anyway; do it here. */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return ERT_OK;
    }
    gemm_raw(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return ERT_OK;
}

void ert_gemm_set_threads(int threads)
{
    openblas_set_num_threads(threads < 1 ? 1 : threads);
}

int ert_gemm_get_threads(void)
{
    return openblas_get_num_threads();
}

typedef struct gemm_job {
    bool ta, tb, split_n;
    size_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
} gemm_job;

static void gemm_part(void *arg, size_t begin, size_t end, int worker)
{
    (void)worker;
    const gemm_job *j = arg;
    size_t cnt = end - begin;
    if (j->split_n) {
        /* Columns [begin, end) of C need columns of op(B): B + begin (or rows when transposed). */
        const float *b = j->tb ? j->b + begin * j->ldb : j->b + begin;
        gemm_raw(j->ta, j->tb, j->m, cnt, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->beta, j->c + begin, j->ldc);
    } else {
        const float *a = j->ta ? j->a + begin : j->a + begin * j->lda;
        cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans,
                    (blasint)cnt, (blasint)j->n, (blasint)j->k, j->alpha, a, (blasint)j->lda, j->b, (blasint)j->ldb,
                    j->beta, j->c + begin * j->ldc, (blasint)j->ldc);
    }
}

ert_status ert_gemm_mt(struct ert_pool *pool, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                       ert_error *err)
{
    /* Below ~2 MFLOP a condition-variable wake-up costs more than it saves. */
    double flops = 2.0 * (double)m * (double)n * (double)k;
    if (ert_pool_size(pool) < 2 || flops < 2e6 || k == 0)
        return ert_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, err);
    /* Validate the whole product once; the parts then run unchecked. */
    if (!fits_blasint(m) || !fits_blasint(n) || !fits_blasint(k) || !fits_blasint(lda) || !fits_blasint(ldb) ||
        !fits_blasint(ldc))
        return ert_fail(err, ERT_EINVAL, "gemm: dimension exceeds INT_MAX (m=%zu n=%zu k=%zu)", m, n, k);
    size_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < (a_cols ? a_cols : 1) || ldb < (b_cols ? b_cols : 1) || ldc < n || !a || !b || !c)
        return ert_fail(err, ERT_EINVAL, "gemm: bad leading dimension or NULL matrix");
    gemm_job j = {trans_a, trans_b, n >= m, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c};
    /* Parts of at least 16 columns/rows keep OpenBLAS's micro-kernels efficient. */
    ert_pool_run(pool, j.split_n ? n : m, 16, gemm_part, &j);
    return ERT_OK;
}
