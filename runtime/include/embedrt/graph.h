/* The graph IR shared by the converter (which builds and rewrites it) and the engine
 * (which loads it from a blob and runs it): tensors with static shapes, nodes in
 * execution order, per-op integer/float parameters, and an optional fused activation. */
#ifndef EMBEDRT_GRAPH_H
#define EMBEDRT_GRAPH_H

#include "embedrt/status.h"
#include "embedrt/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ERT_NO_TENSOR UINT32_MAX /* an omitted optional input (ONNX empty name) */

typedef struct ert_tensor {
    char *name;
    ert_dtype dtype;
    ert_shape shape;
    bool is_const;   /* weights and folded constants: data is always set */
    uint64_t offset; /* arena offset (activations) or weight-section offset (constants) */
    uint64_t nbytes;
    void *data;      /* constants: the values; activations: bound arena address or NULL */
    /* Converter only: write this float32 constant as int8 (blob 1.1 storage quantization,
     * proto/blob-format.md): q = round(v / scale[c]) clamped to [-127, 127], c = the index
     * along store_axis, scales in tensor store_scales (float32 [dims[store_axis]], > 0).
     * A loaded blob has dequantized such tensors and never sets this. */
    bool store_int8;
    int store_axis;
    uint32_t store_scales;
} ert_tensor;

/* Activations an op may apply to its own output (fused by the converter). */
typedef enum ert_act {
    ERT_ACT_NONE = 0,
    ERT_ACT_RELU = 1,
    ERT_ACT_LEAKY_RELU = 2, /* alpha */
    ERT_ACT_CLIP = 3,       /* alpha = min, beta = max */
    ERT_ACT_SIGMOID = 4,
    ERT_ACT_TANH = 5,
} ert_act;

struct ert_op_def;

typedef struct ert_node {
    char *name;
    const struct ert_op_def *def; /* resolved from op_type */
    uint32_t n_in, n_out;
    uint32_t *in, *out;           /* tensor ids; in[i] may be ERT_NO_TENSOR */
    uint32_t n_ints, n_floats;
    int64_t *ints;                /* op-specific parameters, layout documented per op */
    float *floats;
    ert_act act;
    float act_alpha, act_beta;
} ert_node;

typedef struct ert_graph {
    char *name;
    int opset;                    /* default-domain opset of the source model */
    ert_tensor *tensors;
    uint32_t n_tensors, cap_tensors;
    ert_node *nodes;
    uint32_t n_nodes, cap_nodes;
    uint32_t *inputs, n_inputs;   /* graph inputs (tensor ids) */
    uint32_t *outputs, n_outputs; /* graph outputs (tensor ids) */
    uint64_t arena_bytes;         /* activations + scratch, from the memory plan */
    uint64_t scratch_offset;      /* start of the shared kernel scratch inside the arena */
    uint64_t scratch_bytes;
    bool heap_owned;              /* true: every piece is malloc'd (converter); false: one block (loader) */
} ert_graph;

/* ---- building (host side; all pieces malloc'd, freed by ert_graph_free) ---- */
ert_graph *ert_graph_new(const char *name);
void ert_graph_free(ert_graph *g);
/* A deep copy (heap-owned; constants copied, activation data pointers cleared), NULL when
 * out of memory. The converter's quantization tries variants of one graph with it. */
ert_graph *ert_graph_clone(const ert_graph *src);
/* Adds a tensor and returns its id in *id. data (may be NULL) is copied when
 * copy_data, else owned by the graph from now on (must come from malloc). */
ert_status ert_graph_add_tensor(ert_graph *g, const char *name, ert_dtype dt, const ert_shape *shape, void *data,
                                bool copy_data, uint32_t *id, ert_error *err);
/* Adds a node for op_type (resolved in the op registry) with the given tensors. */
ert_status ert_graph_add_node(ert_graph *g, const char *name, const char *op_type, const uint32_t *in, uint32_t n_in,
                              const uint32_t *out, uint32_t n_out, uint32_t *node_id, ert_error *err);
/* Replaces a node's parameters with copies of ints/floats. */
ert_status ert_node_set_params(ert_node *n, const int64_t *ints, uint32_t n_ints, const float *floats,
                               uint32_t n_floats, ert_error *err);
/* Tensor id by name, or ERT_NO_TENSOR. Linear scan: build-time only. */
uint32_t ert_graph_find_tensor(const ert_graph *g, const char *name);
/* Turns graph input i into a constant holding a copy of data (nbytes of the input's
 * shape and dtype) and removes it from the inputs: values known at conversion. */
ert_status ert_graph_freeze_input(ert_graph *g, uint32_t i, const void *data, ert_error *err);
/* Allocates (zeroed) data for a tensor whose shape is known; converter constant folding. */
ert_status ert_tensor_alloc(ert_tensor *t, ert_error *err);

/* Input i of a node, or NULL when omitted; output i. */
static inline ert_tensor *ert_node_input(const ert_graph *g, const ert_node *n, uint32_t i)
{
    return (i < n->n_in && n->in[i] != ERT_NO_TENSOR) ? &g->tensors[n->in[i]] : NULL;
}
static inline ert_tensor *ert_node_output(const ert_graph *g, const ert_node *n, uint32_t i)
{
    return i < n->n_out ? &g->tensors[n->out[i]] : NULL;
}

#ifdef __cplusplus
}
#endif
#endif
