/* ONNX import: decodes an ONNX model (nanopb code generated from Debian's onnx.proto)
 * from an mmap'd file into an ert_graph, with static input shapes. */
#ifndef ERT_ONNX_IMPORT_H
#define ERT_ONNX_IMPORT_H

#include "embedrt/graph.h"

typedef struct ert_input_shape {
    const char *name;
    ert_shape shape;
} ert_input_shape;

typedef struct ert_onnx_info {
    char producer_name[64];
    char producer_version[64];
    int64_t ir_version;
    int opset;           /* default-domain opset */
    uint64_t file_size;
} ert_onnx_info;

/* Imports path. shapes (may be NULL) override graph input shapes by name; an override
 * naming no input is an error. Symbolic dims without an override are an error, except a
 * leading (batch) dim, which becomes 1. Unsupported ops, attributes, dtypes and
 * domains fail with the node name, op type and opset. */
ert_status ert_onnx_import(const char *path, const ert_input_shape *shapes, size_t n_shapes, ert_graph **out,
                           ert_onnx_info *info, ert_error *err);

/* The same, but shapes naming no input of this model are ignored: a family conversion
 * passes every --input-shape to each of its graphs. */
ert_status ert_onnx_import_some_shapes(const char *path, const ert_input_shape *shapes, size_t n_shapes,
                                       ert_graph **out, ert_onnx_info *info, ert_error *err);

/* Same from memory; label names the source in messages; external data is refused. */
ert_status ert_onnx_import_mem(const void *data, size_t len, const char *label, const ert_input_shape *shapes,
                               size_t n_shapes, ert_graph **out, ert_onnx_info *info, ert_error *err);

/* Reads one serialized TensorProto file (the ONNX test-data input_N.pb/output_N.pb).
 * *data is malloc'd; name (may be NULL) receives the tensor name. */
ert_status ert_onnx_read_tensor(const char *path, ert_dtype *dtype, ert_shape *shape, void **data, char *name,
                                size_t name_cap, ert_error *err);

/* Parses "1x3x224x224" into shape. */
ert_status ert_parse_dims(const char *s, ert_shape *shape, ert_error *err);

#endif
