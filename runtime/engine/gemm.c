/* ert_gemm: checked row-major sgemm on OpenBLAS. */
#include "embedrt/gemm.h"

#include <cblas.h>
#include <limits.h>

static bool fits_blasint(size_t v)
{
    return v <= (size_t)INT_MAX;
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
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
                (blasint)ldc);
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
