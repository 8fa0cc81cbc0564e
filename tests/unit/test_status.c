/* ert_error formatting: one line, bounded, prefixed. */
#include "harness.h"

#include "embedrt/status.h"

#include <string.h>

static void test_fail_records_code_and_message(void)
{
    ert_error err;
    ert_status st = ert_fail(&err, ERT_EFORMAT, "%s: section '%s' bad", "a.erb", "weights");
    CU_ASSERT_EQUAL(st, ERT_EFORMAT);
    CU_ASSERT_EQUAL(err.code, ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "a.erb: section 'weights' bad");
}

static void test_fail_with_null_error_returns_code(void)
{
    CU_ASSERT_EQUAL(ert_fail(NULL, ERT_EIO, "x"), ERT_EIO);
}

static void test_message_is_one_line(void)
{
    ert_error err;
    ert_fail(&err, ERT_EINVAL, "first\nsecond\r\nthird");
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\r'));
    CU_ASSERT_STRING_EQUAL(err.msg, "first second  third");
}

static void test_long_message_is_cut_with_ellipsis(void)
{
    ert_error err;
    char big[3 * ERT_ERROR_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ert_fail(&err, ERT_EINVAL, "%s", big);
    CU_ASSERT_EQUAL(strlen(err.msg), ERT_ERROR_MAX - 1);
    CU_ASSERT_STRING_EQUAL(err.msg + ERT_ERROR_MAX - 4, "...");
}

static void test_prefix_names_the_file(void)
{
    ert_error err;
    ert_fail(&err, ERT_EFORMAT, "bad magic");
    CU_ASSERT_EQUAL(ert_error_prefix(&err, "%s", "model.erb"), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "model.erb: bad magic");
}

static void test_status_names_are_distinct(void)
{
    for (int a = ERT_OK; a <= ERT_EINTERNAL; a++)
        for (int b = a + 1; b <= ERT_EINTERNAL; b++)
            CU_ASSERT_STRING_NOT_EQUAL(ert_status_name((ert_status)a), ert_status_name((ert_status)b));
    CU_ASSERT_STRING_EQUAL(ert_status_name(ERT_EFORMAT), "EFORMAT");
}

static const ert_test_case cases[] = {
    ERT_TEST(test_fail_records_code_and_message),
    ERT_TEST(test_fail_with_null_error_returns_code),
    ERT_TEST(test_message_is_one_line),
    ERT_TEST(test_long_message_is_cut_with_ellipsis),
    ERT_TEST(test_prefix_names_the_file),
    ERT_TEST(test_status_names_are_distinct),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_status = {"status", cases};
