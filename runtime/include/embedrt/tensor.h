/* Tensors as embedrt stores and runs them: element types (ONNX numbering), static
 * shapes, and overflow-checked size arithmetic. */
#ifndef EMBEDRT_TENSOR_H
#define EMBEDRT_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same numbers as onnx.TensorProto.DataType, so import and blobs need no mapping. */
typedef enum ert_dtype {
    ERT_DT_UNDEFINED = 0,
    ERT_DT_F32 = 1,
    ERT_DT_U8 = 2,
    ERT_DT_I8 = 3,
    ERT_DT_I32 = 6,
    ERT_DT_I64 = 7,
    ERT_DT_BOOL = 9, /* one byte, 0 or 1 */
    ERT_DT_F64 = 11,
} ert_dtype;

#define ERT_MAX_RANK 8

typedef struct ert_shape {
    int rank; /* 0 = scalar */
    int64_t dims[ERT_MAX_RANK];
} ert_shape;

/* Bytes per element; 0 for types embedrt does not store. */
size_t ert_dtype_size(ert_dtype dt);
/* "float32", "int64", ... ; "unsupported(N)" style names are never returned: unknown -> "?" */
const char *ert_dtype_name(ert_dtype dt);

/* Element count; false when a dim is negative or the product overflows size_t. */
bool ert_shape_numel(const ert_shape *s, size_t *out);
/* Bytes of a tensor of this dtype and shape; false on overflow or unknown dtype. */
bool ert_shape_bytes(const ert_shape *s, ert_dtype dt, size_t *out);
bool ert_shape_equal(const ert_shape *a, const ert_shape *b);
/* Writes "1x3x224x224" ("scalar" for rank 0) into buf; returns buf. */
char *ert_shape_str(const ert_shape *s, char *buf, size_t cap);

/* Overflow-checked arithmetic used by every parser. */
static inline bool ert_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool ert_add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

#ifdef __cplusplus
}
#endif
#endif
