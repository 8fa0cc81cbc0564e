/* Unit tests: tcn. */
#include "harness.h"

static const ert_test_case cases[] = {
    ERT_TEST_END,
};
const ert_test_suite ert_suite_tcn = {"tcn", cases};
