/* Helpers for op tests: build a one-node graph from constants, parse ONNX-style
 * attributes, evaluate it on the heap (the converter's constant-folding path). */
#ifndef ERT_OP_UTIL_H
#define ERT_OP_UTIL_H

#include "harness.h"
#include "op.h"

/* Constant inputs; dims has rank entries. Abort the test (CU_FAIL_FATAL) on error. */
uint32_t tu_const(ert_graph *g, const char *name, ert_dtype dt, const void *data, int rank, const int64_t *dims);
uint32_t tu_f32(ert_graph *g, const char *name, const float *data, int rank, const int64_t *dims);
uint32_t tu_i64(ert_graph *g, const char *name, const int64_t *data, int rank, const int64_t *dims);
/* A tensor with unknown shape, to be an output. */
uint32_t tu_out(ert_graph *g, const char *name);

/* Attribute constructors. */
ert_attr tu_attr_int(const char *name, int64_t v);
ert_attr tu_attr_float(const char *name, float v);
ert_attr tu_attr_string(const char *name, const char *v);
ert_attr tu_attr_ints(const char *name, const int64_t *v, size_t n);
ert_attr tu_attr_floats(const char *name, const float *v, size_t n);

/* Adds op with inputs/outputs, parses attrs at opset, evaluates. Returns the status;
 * err gets the message. */
ert_status tu_run(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                  uint32_t n_out, ert_attr *attrs, size_t n_attrs, int opset, ert_error *err);

/* Asserts that tensor id has the given shape and float values within tol (abs). */
void tu_expect_f32(const ert_graph *g, uint32_t id, int rank, const int64_t *dims, const float *want, float tol);
void tu_expect_i64(const ert_graph *g, uint32_t id, int rank, const int64_t *dims, const int64_t *want);

#endif
