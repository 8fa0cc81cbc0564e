/* CUnit runner for all unit suites: `unit_tests [SUITE...]` runs the named suites
 * (all without arguments) and ends with "<suites>: N passed, N failed". */
#include "harness.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#define SUITE(s) extern const ert_test_suite s;
#include "suites.def"
#undef SUITE

static const ert_test_suite *all_suites[] = {
#define SUITE(s) &s,
#include "suites.def"
#undef SUITE
};

const char *ert_test_fixture(const char *rel)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", ERT_FIXTURE_DIR, rel);
    return path;
}

static int wanted(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "unit_tests: CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    int registered = 0;
    for (size_t i = 0; i < sizeof all_suites / sizeof all_suites[0]; i++) {
        const ert_test_suite *s = all_suites[i];
        if (!wanted(s->name, argc, argv))
            continue;
        CU_pSuite suite = CU_add_suite(s->name, NULL, NULL);
        for (const ert_test_case *c = s->cases; suite && c->name; c++)
            CU_add_test(suite, c->name, c->fn);
        registered++;
    }
    if (registered != (argc < 2 ? (int)(sizeof all_suites / sizeof all_suites[0]) : argc - 1)) {
        fprintf(stderr, "unit_tests: unknown suite name among the arguments\n");
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned run = CU_get_number_of_tests_run(), failed = CU_get_number_of_tests_failed();
    unsigned asserts_failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    printf("\n%s: %u passed, %u failed\n", argc < 2 ? "unit" : argv[1], run - failed, failed);
    return (failed || asserts_failed) ? 1 : 0;
}
