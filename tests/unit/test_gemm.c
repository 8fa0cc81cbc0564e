/* ert_gemm against a naive triple loop, every transpose combination, odd sizes and
 * strides; argument checks that cblas itself would answer with abort(). */
#include "harness.h"

#include "embedrt/gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float at(const float *x, size_t ld, bool trans, size_t r, size_t c)
{
    return trans ? x[c * ld + r] : x[r * ld + c];
}

static void naive(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                  const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++)
                s += (double)at(a, lda, ta, i, p) * at(b, ldb, tb, p, j);
            c[i * ldc + j] = (float)(alpha * s + beta * c[i * ldc + j]);
        }
}

static void fill(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 9) % 2001) / 1000.0f - 1.0f;
    }
}

static void check(bool ta, bool tb, size_t m, size_t n, size_t k, size_t pad, float alpha, float beta)
{
    size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t a_rows = ta ? k : m, b_rows = tb ? n : k;
    float *a = malloc(a_rows * lda * sizeof *a), *b = malloc(b_rows * ldb * sizeof *b);
    float *c = malloc(m * ldc * sizeof *c), *r = malloc(m * ldc * sizeof *r);
    fill(a, a_rows * lda, 1), fill(b, b_rows * ldb, 2), fill(c, m * ldc, 3);
    for (size_t i = 0; i < m * ldc; i++)
        r[i] = c[i];
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, &err), ERT_OK);
    naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, r, ldc);
    float worst = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float d = fabsf(c[i * ldc + j] - r[i * ldc + j]);
            if (d > worst)
                worst = d;
        }
    /* Values in [-1,1]: a sum of k products has error ~ k * eps. */
    CU_ASSERT(worst <= 1e-6f * (float)(k + 1) * 4);
    /* Padding columns of C are never written. */
    for (size_t i = 0; i < m; i++)
        for (size_t j = n; j < ldc; j++)
            CU_ASSERT_EQUAL(c[i * ldc + j], r[i * ldc + j]);
    free(a), free(b), free(c), free(r);
}

static void test_gemm_matches_naive_all_transposes(void)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check(ta, tb, 17, 23, 31, 0, 1.0f, 0.0f);
            check(ta, tb, 64, 48, 96, 0, 1.0f, 0.0f);
            check(ta, tb, 5, 7, 3, 3, 0.5f, 2.0f);
        }
}

static void test_gemm_vector_shapes(void)
{
    check(false, false, 1, 1000, 333, 0, 1.0f, 0.0f); /* a fully-connected layer on one frame */
    check(false, true, 1000, 1, 333, 0, 1.0f, 1.0f);
    check(false, false, 1, 1, 1, 0, 1.0f, 0.0f);
    /* M = 1 goes to sgemv: every transpose, strided A/B rows, alpha and beta. */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check(ta, tb, 1, 577, 129, 0, 1.0f, 0.0f);
            check(ta, tb, 1, 33, 65, 5, 0.5f, 2.0f);
        }
}

static void test_gemm_single_row_ignores_nan_in_c_when_beta_is_zero(void)
{
    /* The arena holds whatever the previous node left; with beta = 0 it must not leak. */
    float a[3] = {1, 2, 3}, b[6] = {1, 0, 0, 1, 1, 1}, c[2] = {NAN, INFINITY};
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_gemm(false, false, 1, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2, &err), ERT_OK);
    CU_ASSERT_DOUBLE_EQUAL(c[0], 4.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c[1], 5.0, 0);
}

static void test_gemm_k_zero_scales_c(void)
{
    float c[6] = {1, 2, 3, 4, 5, 6};
    ert_error err;
    CU_ASSERT_EQUAL(ert_gemm(false, false, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 0.5f, c, 3, &err), ERT_OK);
    CU_ASSERT_DOUBLE_EQUAL(c[0], 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(c[5], 3.0, 0);
    CU_ASSERT_EQUAL(ert_gemm(false, false, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 0.0f, c, 3, &err), ERT_OK);
    CU_ASSERT_DOUBLE_EQUAL(c[5], 0.0, 0);
}

static void test_gemm_rejects_short_leading_dimension(void)
{
    float a[12] = {0}, b[12] = {0}, c[12] = {0};
    ert_error err;
    CU_ASSERT_EQUAL(ert_gemm(false, false, 3, 4, 3, 1.0f, a, 2, b, 4, 0.0f, c, 4, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lda=2 need 3"));
    CU_ASSERT_EQUAL(ert_gemm(false, false, 3, 4, 3, 1.0f, a, 3, b, 4, 0.0f, c, 3, &err), ERT_EINVAL);
}

static void test_gemm_rejects_huge_dimensions(void)
{
    float x = 0;
    ert_error err;
    CU_ASSERT_EQUAL(ert_gemm(false, false, (size_t)1 << 31, 1, 1, 1.0f, &x, 1, &x, 1, 0.0f, &x, 1, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "INT_MAX"));
}

static void test_gemm_threads_setting_round_trips(void)
{
    int before = ert_gemm_get_threads();
    ert_gemm_set_threads(1);
    CU_ASSERT_EQUAL(ert_gemm_get_threads(), 1);
    ert_gemm_set_threads(0); /* clamped, never 0 threads */
    CU_ASSERT_EQUAL(ert_gemm_get_threads(), 1);
    ert_gemm_set_threads(before);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_gemm_matches_naive_all_transposes),
    ERT_TEST(test_gemm_vector_shapes),
    ERT_TEST(test_gemm_single_row_ignores_nan_in_c_when_beta_is_zero),
    ERT_TEST(test_gemm_k_zero_scales_c),
    ERT_TEST(test_gemm_rejects_short_leading_dimension),
    ERT_TEST(test_gemm_rejects_huge_dimensions),
    ERT_TEST(test_gemm_threads_setting_round_trips),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_gemm = {"gemm", cases};
