/* Unit tests: ops_conv. */
#include "op_util.h"

static const ert_test_case cases[] = {
    ERT_TEST_END,
};
const ert_test_suite ert_suite_ops_conv = {"ops_conv", cases};
