/* Unit tests: ops_shape. */
#include "op_util.h"

static const ert_test_case cases[] = {
    ERT_TEST_END,
};
const ert_test_suite ert_suite_ops_shape = {"ops_shape", cases};
