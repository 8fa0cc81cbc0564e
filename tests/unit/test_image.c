/* Unit tests: image. */
#include "harness.h"

static const ert_test_case cases[] = {
    ERT_TEST_END,
};
const ert_test_suite ert_suite_image = {"image", cases};
