/* Lets test_qgemm.c run as a CUnit suite on the host and as a plain static executable
 * under qemu-aarch64 (tests/arm64, ERT_QGEMM_STANDALONE: no CUnit for the cross target). */
#ifndef ERT_QGEMM_TEST_H
#define ERT_QGEMM_TEST_H

#include <stdio.h>

#define qt_report(...) (fprintf(stderr, "qgemm: " __VA_ARGS__), fputc('\n', stderr))

#ifndef ERT_QGEMM_STANDALONE
#include "harness.h"

#define QT_ASSERT(cond) CU_ASSERT(cond)
#define QT_ASSERT_MSG(cond, msg)                                                                                       \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            qt_report("%s", msg);                                                                                      \
        CU_ASSERT(cond);                                                                                               \
    } while (0)
typedef ert_test_case qt_case;
#define QT_CASE(fn) ERT_TEST(fn)
#define QT_END ERT_TEST_END
#define QT_SUITE(sym, name, cases) const ert_test_suite sym = {name, cases};

#else
#include <stdlib.h>
#include <string.h>

static unsigned qt_failed_asserts;
#define QT_ASSERT(cond)                                                                                                \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            qt_failed_asserts++;                                                                                       \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);                              \
        }                                                                                                              \
    } while (0)
#define QT_ASSERT_MSG(cond, msg)                                                                                       \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            qt_report("%s", msg);                                                                                      \
        QT_ASSERT(cond);                                                                                               \
    } while (0)
typedef struct qt_case {
    const char *name;
    void (*fn)(void);
} qt_case;
#define QT_CASE(fn) {#fn, fn}
#define QT_END {NULL, NULL}
/* `prog [--expect KERNEL]...`: runs every case; an expected kernel the CPU lacks fails. */
#define QT_SUITE(sym, sname, cases)                                                                                     \
    int main(int argc, char **argv)                                                                                    \
    {                                                                                                                  \
        unsigned passed = 0, failed = 0;                                                                               \
        for (int i = 1; i + 1 < argc; i += 2)                                                                          \
            if (strcmp(argv[i], "--expect") == 0) {                                                                    \
                int found = 0;                                                                                         \
                for (size_t k = 0; k < NKERNELS; k++)                                                                  \
                    if (strcmp(kname(all_kernels[k]), argv[i + 1]) == 0 && ert_qgemm_supported(all_kernels[k]))        \
                        found = 1;                                                                                     \
                if (!found) {                                                                                          \
                    fprintf(stderr, sname ": expected kernel %s is not available on this CPU\n", argv[i + 1]);          \
                    failed++;                                                                                          \
                }                                                                                                      \
            }                                                                                                          \
        printf(sname ": kernels on this CPU:");                                                                        \
        for (size_t k = 0; k < NKERNELS; k++)                                                                          \
            if (ert_qgemm_supported(all_kernels[k]))                                                                   \
                printf(" %s", kname(all_kernels[k]));                                                                  \
        printf(" (auto: %s)\n", ert_qgemm_kernel_name());                                                             \
        for (const qt_case *c = cases; c->name; c++) {                                                                 \
            unsigned before = qt_failed_asserts;                                                                       \
            c->fn();                                                                                                   \
            int ok = qt_failed_asserts == before;                                                                      \
            printf("  %-50s %s\n", c->name, ok ? "passed" : "FAILED");                                                 \
            ok ? passed++ : failed++;                                                                                  \
        }                                                                                                              \
        printf(sname ": %zu outputs compared bit for bit\n", g_compared);                                               \
        printf(sname ": %u passed, %u failed\n", passed, failed);                                                      \
        return failed ? 1 : 0;                                                                                         \
    }
#endif

#endif
