/* Version reporting names all linked libraries with real version strings. */
#include "harness.h"

#include "embedrt/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *find(const ert_component *c, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].name, name) == 0)
            return c[i].version ? c[i].version : "(null)";
    return NULL;
}

static void test_components_name_all_dependencies(void)
{
    ert_component c[8];
    size_t n = ert_version_components(c, 8);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    const char *blas = find(c, n, "openblas");
    CU_ASSERT_PTR_NOT_NULL_FATAL(blas);
    CU_ASSERT_PTR_NOT_NULL(strstr(blas, "OpenBLAS"));
    CU_ASSERT_STRING_EQUAL(find(c, n, "zlib"), ZLIB_VERSION);
    CU_ASSERT_STRING_EQUAL(find(c, n, "nanopb"), "nanopb-0.4.7");
    CU_ASSERT_PTR_NOT_NULL(find(c, n, "libcamera"));
}

static void test_components_respect_capacity(void)
{
    ert_component c[2];
    memset(c, 0, sizeof c);
    CU_ASSERT_EQUAL(ert_version_components(c, 1), 4);
    CU_ASSERT_STRING_EQUAL(c[0].name, "openblas");
    CU_ASSERT_PTR_NULL(c[1].name);
}

static void test_version_print_lists_every_component(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ert_version_print(f, "embedrt");
    fclose(f);
    CU_ASSERT_EQUAL(strncmp(buf, "embedrt 0.1.0 (git ", 19), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  openblas: OpenBLAS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  zlib: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  nanopb: nanopb-"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n  libcamera: "));
    free(buf);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_components_name_all_dependencies),
    ERT_TEST(test_components_respect_capacity),
    ERT_TEST(test_version_print_lists_every_component),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_version = {"version", cases};
