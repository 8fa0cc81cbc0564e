/* Status names and bounded, truncation-safe error message formatting. */
#include "embedrt/status.h"

#include <stdio.h>
#include <string.h>

const char *ert_status_name(ert_status s)
{
    switch (s) {
    case ERT_OK: return "OK";
    case ERT_EINVAL: return "EINVAL";
    case ERT_ENOTFOUND: return "ENOTFOUND";
    case ERT_EFORMAT: return "EFORMAT";
    case ERT_EUNSUPPORTED: return "EUNSUPPORTED";
    case ERT_EIO: return "EIO";
    case ERT_ENOMEM: return "ENOMEM";
    case ERT_EINTERNAL: return "EINTERNAL";
    }
    return "EUNKNOWN";
}

static void mark_truncated(char *buf, size_t cap, int wanted)
{
    if (wanted >= (int)cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
}

ert_status ert_vfail(ert_error *err, ert_status code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
    else
        mark_truncated(err->msg, sizeof err->msg, n);
    /* One line only: messages end up in logs and protocol Status fields. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

ert_status ert_fail(ert_error *err, ert_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ert_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

ert_status ert_error_prefix(ert_error *err, const char *fmt, ...)
{
    if (!err)
        return ERT_EINTERNAL;
    char prefix[ERT_ERROR_MAX], old[ERT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    int n = snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    if (n >= 0)
        mark_truncated(err->msg, sizeof err->msg, n);
    return err->code;
}

void ert_error_clear(ert_error *err)
{
    if (err) {
        err->code = ERT_OK;
        err->msg[0] = '\0';
    }
}
