/* Element types and shape arithmetic with overflow checks. */
#include "embedrt/tensor.h"

#include <stdio.h>

size_t ert_dtype_size(ert_dtype dt)
{
    switch (dt) {
    case ERT_DT_F32: return 4;
    case ERT_DT_U8: return 1;
    case ERT_DT_I8: return 1;
    case ERT_DT_I32: return 4;
    case ERT_DT_I64: return 8;
    case ERT_DT_BOOL: return 1;
    case ERT_DT_F64: return 8;
    case ERT_DT_UNDEFINED: return 0;
    }
    return 0;
}

const char *ert_dtype_name(ert_dtype dt)
{
    switch (dt) {
    case ERT_DT_F32: return "float32";
    case ERT_DT_U8: return "uint8";
    case ERT_DT_I8: return "int8";
    case ERT_DT_I32: return "int32";
    case ERT_DT_I64: return "int64";
    case ERT_DT_BOOL: return "bool";
    case ERT_DT_F64: return "float64";
    case ERT_DT_UNDEFINED: return "undefined";
    }
    return "?";
}

bool ert_shape_numel(const ert_shape *s, size_t *out)
{
    if (s->rank < 0 || s->rank > ERT_MAX_RANK)
        return false;
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0 || (uint64_t)s->dims[i] > SIZE_MAX)
            return false;
        if (!ert_mul_size(n, (size_t)s->dims[i], &n))
            return false;
    }
    *out = n;
    return true;
}

bool ert_shape_bytes(const ert_shape *s, ert_dtype dt, size_t *out)
{
    size_t n, es = ert_dtype_size(dt);
    return es && ert_shape_numel(s, &n) && ert_mul_size(n, es, out);
}

bool ert_shape_equal(const ert_shape *a, const ert_shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

char *ert_shape_str(const ert_shape *s, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    if (s->rank <= 0) {
        snprintf(buf, cap, "%s", s->rank == 0 ? "scalar" : "?");
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->rank && i < ERT_MAX_RANK && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%lld", i ? "x" : "", (long long)s->dims[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}
