/* Unit tests: grasp2vec. */
#include "harness.h"

static const ert_test_case cases[] = {
    ERT_TEST_END,
};
const ert_test_suite ert_suite_grasp2vec = {"grasp2vec", cases};
