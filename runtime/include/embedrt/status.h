/* Status codes and error messages shared by every embedrt module.
 * A fallible call returns ert_status and, given an ert_error, fills one actionable line. */
#ifndef EMBEDRT_STATUS_H
#define EMBEDRT_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ert_status {
    ERT_OK = 0,
    ERT_EINVAL,       /* bad argument or option from the caller */
    ERT_ENOTFOUND,    /* a named file, camera, model, role or tensor does not exist */
    ERT_EFORMAT,      /* input data (file, message, stream) is malformed */
    ERT_EUNSUPPORTED, /* well-formed, but not something this build supports */
    ERT_EIO,          /* an operating-system read/write/device call failed */
    ERT_ENOMEM,       /* allocation failed or a configured limit was reached */
    ERT_EINTERNAL,    /* a broken invariant inside embedrt: a bug */
} ert_status;

#define ERT_ERROR_MAX 2048

/* One error: the code plus a single line such as
 * "g2v.erb: section 'weights' CRC mismatch (expected 0x1234abcd, got 0x0badf00d)". */
typedef struct ert_error {
    ert_status code;
    char msg[ERT_ERROR_MAX];
} ert_error;

/* Short stable name of a status ("EFORMAT"...). */
const char *ert_status_name(ert_status s);

/* Records code and a printf-formatted message into err (which may be NULL) and
 * returns code, so callers write `return ert_fail(err, ERT_EFORMAT, "...", ...)`.
 * Messages longer than ERT_ERROR_MAX are cut with "...". */
ert_status ert_fail(ert_error *err, ert_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ert_status ert_vfail(ert_error *err, ert_status code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefixes an existing message with "prefix: " (e.g. a file name known only to the caller). */
ert_status ert_error_prefix(ert_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears err to ERT_OK with an empty message. */
void ert_error_clear(ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
