/* The thread pool covers ranges exactly once in the chunks it documents, and ert_gemm_mt
 * equals ert_gemm. */
#include "harness.h"

#include "embedrt/gemm.h"
#include "embedrt/pool.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cover {
    unsigned char *hits;
    atomic_int calls;
    atomic_int max_worker;
} cover;

static void mark(void *arg, size_t b, size_t e, int worker)
{
    cover *c = arg;
    for (size_t i = b; i < e; i++)
        c->hits[i]++;
    atomic_fetch_add(&c->calls, 1);
    int m = atomic_load(&c->max_worker);
    while (worker > m && !atomic_compare_exchange_weak(&c->max_worker, &m, worker))
        ;
}

static void check_cover(ert_pool *p, size_t n, size_t grain, int want_calls)
{
    cover c = {.hits = calloc(n ? n : 1, 1)};
    atomic_init(&c.calls, 0);
    atomic_init(&c.max_worker, 0);
    ert_pool_run(p, n, grain, mark, &c);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(c.hits[i], 1);
    if (want_calls >= 0)
        CU_ASSERT_EQUAL(atomic_load(&c.calls), want_calls);
    CU_ASSERT(atomic_load(&c.max_worker) < ert_pool_size(p));
    free(c.hits);
}

static void test_pool_covers_range_exactly_once(void)
{
    ert_pool *p;
    CU_ASSERT_EQUAL_FATAL(ert_pool_create(3, &p, NULL), ERT_OK);
    CU_ASSERT_EQUAL(ert_pool_size(p), 3);
    check_cover(p, 1000, 1, 12); /* four chunks per thread: 11 of 84 and one of 76 */
    check_cover(p, 7, 1, 7);     /* chunks of one */
    check_cover(p, 2, 1, 2);
    check_cover(p, 0, 1, 0);
    check_cover(p, 100, 60, 1);  /* grain larger than half: inline */
    check_cover(p, 100, 20, 3);  /* 4 chunks per thread would be under the grain: 34, 34, 32 */
    for (int i = 0; i < 200; i++) /* back-to-back jobs never lose a wake-up */
        check_cover(p, 64, 1, 11);
    ert_pool_destroy(p);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_pool_spins_only_during_a_run(void)
{
    ert_pool *p;
    CU_ASSERT_EQUAL_FATAL(ert_pool_create(3, &p, NULL), ERT_OK);
    ert_pool_set_active(p, true); /* a run: workers watch for the next job between these */
    for (int i = 0; i < 100; i++)
        check_cover(p, 64, 1, 11);
    ert_pool_set_active(p, false);
    /* Idle: 200 ms of wall time must cost (almost) no CPU in the two workers. The process
     * CPU clock also counts OpenBLAS's own threads, which spin for ~0.1 s after the library
     * loads before they sleep (nothing embedrt controls): let that pass first. */
    struct timespec settle = {0, 300000000}, nap = {0, 200000000};
    nanosleep(&settle, NULL);
    double c0 = cpu_seconds();
    nanosleep(&nap, NULL);
    double used = cpu_seconds() - c0;
    if (used >= 0.02)
        fprintf(stderr, "  idle pool used %.3f s of CPU in 0.2 s\n", used);
    CU_ASSERT(used < 0.02);
    check_cover(p, 64, 1, 11); /* and they still wake up for the next job */
    ert_pool_set_active(NULL, true); /* no-op */
    ert_pool_destroy(p);
}

static void test_null_pool_runs_inline(void)
{
    CU_ASSERT_EQUAL(ert_pool_size(NULL), 1);
    check_cover(NULL, 50, 1, 1);
}

static void test_pool_rejects_bad_sizes(void)
{
    ert_pool *p;
    ert_error err;
    CU_ASSERT_EQUAL(ert_pool_create(0, &p, &err), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_pool_create(1000, &p, &err), ERT_EINVAL);
}

static void test_gemm_mt_equals_gemm(void)
{
    ert_pool *p;
    CU_ASSERT_EQUAL_FATAL(ert_pool_create(2, &p, NULL), ERT_OK);
    const size_t shapes[][3] = {{64, 300, 128}, {300, 20, 128}, {1, 2048, 1024}, {5, 5, 5}};
    for (size_t s = 0; s < 4; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c1 = malloc(m * n * 4), *c2 = malloc(m * n * 4);
                for (size_t i = 0; i < m * k; i++)
                    a[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
                for (size_t i = 0; i < k * n; i++)
                    b[i] = (float)((i * 53) % 97) / 48.0f - 1.0f;
                CU_ASSERT_EQUAL(ert_gemm(ta, tb, m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c1, n, NULL), ERT_OK);
                CU_ASSERT_EQUAL(ert_gemm_mt(p, ta, tb, m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c2, n, NULL),
                                ERT_OK);
                float worst = 0;
                for (size_t i = 0; i < m * n; i++)
                    worst = fmaxf(worst, fabsf(c1[i] - c2[i]));
                CU_ASSERT(worst <= 1e-4f);
                free(a), free(b), free(c1), free(c2);
            }
    ert_pool_destroy(p);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_pool_covers_range_exactly_once),
    ERT_TEST(test_pool_spins_only_during_a_run),
    ERT_TEST(test_null_pool_runs_inline),
    ERT_TEST(test_pool_rejects_bad_sizes),
    ERT_TEST(test_gemm_mt_equals_gemm),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_pool = {"pool", cases};
