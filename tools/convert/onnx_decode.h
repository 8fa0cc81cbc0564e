/* ONNX protobuf decoded into plain temporary structures (nanopb with callbacks), before
 * the importer turns them into an ert_graph. Internal to tools/convert. */
#ifndef ERT_ONNX_DECODE_H
#define ERT_ONNX_DECODE_H

#include "embedrt/graph.h"

#include <stdarg.h>

typedef struct onnx_tensor {
    char *name;
    int onnx_dtype;
    ert_dtype dtype;
    ert_shape shape;
    size_t nbytes;
    bool has_raw;
    const uint8_t *raw; /* view into the decoded buffer (unaligned) */
    size_t raw_len;
    void *owned;        /* values converted from typed fields */
    bool external;
    char *ext_location;
    int64_t ext_offset, ext_length;
    bool has_ext_length;
    int unsupported_field;
} onnx_tensor;

typedef struct onnx_attr {
    char name[128];
    int type; /* AttributeProto.AttributeType, 0 when absent (IR < 2) */
    bool has_f, has_i, has_s, has_t, has_floats, has_ints;
    float f;
    int64_t i;
    char *s;
    onnx_tensor t;
    float *floats;
    size_t n_floats;
    int64_t *ints;
    size_t n_ints;
    size_t n_strings;
    int unsupported_tag; /* graph, sparse tensor, type proto, tensors list, ref_attr_name */
} onnx_attr;

typedef struct onnx_node {
    char *name;
    char op_type[64];
    char domain[128];
    char **in, **out;
    size_t n_in, n_out;
    onnx_attr *attrs;
    size_t n_attrs;
} onnx_node;

typedef struct onnx_value_info {
    char *name;
    bool is_tensor, non_tensor, has_shape;
    int elem_type;
    int rank;
    int64_t dims[ERT_MAX_RANK]; /* -1: symbolic or unknown */
    char dim_param[ERT_MAX_RANK][128];
} onnx_value_info;

typedef struct onnx_graph {
    char *name;
    onnx_node *nodes;
    size_t n_nodes, cap_nodes;
    onnx_tensor *inits;
    size_t n_inits, cap_inits;
    onnx_value_info *inputs, *outputs;
    size_t n_inputs, n_outputs;
} onnx_graph;

typedef struct onnx_dec {
    ert_error *err; /* set by the caller */
    bool err_set;
    int opset;
    int64_t ir_version;
    char producer_name[64], producer_version[64];
    const uint8_t *buf_begin, *buf_end; /* the buffer being decoded, for zero-copy views */
    bool has_graph;
    const uint8_t *graph_bytes;
    size_t graph_len;
    onnx_graph graph;
} onnx_dec;

/* Decodes a ModelProto held in data (which must outlive the decoded views). */
ert_status onnx_decode_model(onnx_dec *d, const uint8_t *data, size_t len);
/* Decodes one TensorProto. */
ert_status onnx_decode_tensor(onnx_dec *d, const uint8_t *data, size_t len, onnx_tensor *t);
/* The tensor's bytes (converted or raw view); NULL for external data. */
const void *onnx_tensor_bytes(const onnx_tensor *t);
void onnx_tensor_clear(onnx_tensor *t);
void onnx_dec_free(onnx_dec *d);

#endif
