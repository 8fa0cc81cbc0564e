/* Minimal glue over CUnit: each test file exports one ert_test_suite; the runner
 * registers them all and runs the ones named on its command line. */
#ifndef ERT_TEST_HARNESS_H
#define ERT_TEST_HARNESS_H

#include <CUnit/CUnit.h>

typedef struct ert_test_case {
    const char *name;
    void (*fn)(void);
} ert_test_case;

typedef struct ert_test_suite {
    const char *name;
    const ert_test_case *cases; /* terminated by {NULL, NULL} */
} ert_test_suite;

#define ERT_TEST(fn) {#fn, fn}
#define ERT_TEST_END {NULL, NULL}

/* Path of a committed fixture: tests/fixtures/<rel> (ERT_FIXTURE_DIR set by meson). */
const char *ert_test_fixture(const char *rel);

#endif
