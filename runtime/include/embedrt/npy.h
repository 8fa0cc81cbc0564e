/* NumPy .npy files (format 1.0, 2.0 and 3.0 read; 1.0/2.0 written): the tensor
 * exchange format of `embedrt run`, fixtures and demonstrations. Little-endian, C order. */
#ifndef EMBEDRT_NPY_H
#define EMBEDRT_NPY_H

#include "embedrt/status.h"
#include "embedrt/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ert_npy {
    ert_dtype dtype; /* float32, float64, int64, int32, int8, uint8, bool */
    ert_shape shape;
    void *data;      /* malloc'd, nbytes long */
    size_t nbytes;
} ert_npy;

ert_status ert_npy_read(const char *path, ert_npy *out, ert_error *err);
/* Parses an in-memory .npy; label names it in messages. */
ert_status ert_npy_parse(const void *buf, size_t len, const char *label, ert_npy *out, ert_error *err);
/* Writes atomically (temp file + rename). */
ert_status ert_npy_write(const char *path, ert_dtype dt, const ert_shape *shape, const void *data, ert_error *err);
void ert_npy_free(ert_npy *n);

#ifdef __cplusplus
}
#endif
#endif
