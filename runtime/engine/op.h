/* The operator contract: every op is one ert_op_def (parse ONNX attributes, infer
 * shapes, size scratch, run). Kernel files export tables of them; op_registry.c
 * lists the tables. Adding an op is adding one entry. */
#ifndef ERT_OP_H
#define ERT_OP_H

#include "embedrt/graph.h"

#include <math.h>

/* ---- ONNX attributes as the importer hands them to parse() ---- */
typedef enum ert_attr_type {
    ERT_ATTR_FLOAT = 1,
    ERT_ATTR_INT = 2,
    ERT_ATTR_STRING = 3,
    ERT_ATTR_TENSOR = 4, /* t: a tensor id the importer added to the graph as a constant */
    ERT_ATTR_FLOATS = 6,
    ERT_ATTR_INTS = 7,
    ERT_ATTR_STRINGS = 8,
} ert_attr_type;

typedef struct ert_attr {
    const char *name;
    ert_attr_type type;
    int64_t i;
    float f;
    const char *s; /* NUL-terminated copy */
    uint32_t t;    /* tensor id */
    const int64_t *ints;
    const float *floats;
    size_t n; /* count of ints/floats/strings */
    bool used; /* set by the getters; the importer fails on attributes no getter read */
} ert_attr;

typedef struct ert_attrs {
    ert_attr *v;
    size_t n;
} ert_attrs;

/* Getters mark the attribute used and check its type; a missing attribute yields the
 * default (present = false). Errors name the node and op: "node 'c1' (Conv): ...". */
ert_status ert_attr_int(ert_attrs *a, const ert_node *n, const char *name, int64_t def, int64_t *out,
                        ert_error *err);
ert_status ert_attr_float(ert_attrs *a, const ert_node *n, const char *name, float def, float *out,
                          ert_error *err);
ert_status ert_attr_string(ert_attrs *a, const ert_node *n, const char *name, const char *def, const char **out,
                           ert_error *err);
/* ints/floats lists: *out points into the attribute (valid during parse), *count its length;
 * both NULL/0 when absent. */
ert_status ert_attr_ints(ert_attrs *a, const ert_node *n, const char *name, const int64_t **out, size_t *count,
                         ert_error *err);
ert_status ert_attr_floats(ert_attrs *a, const ert_node *n, const char *name, const float **out, size_t *count,
                           ert_error *err);
ert_status ert_attr_tensor(ert_attrs *a, const ert_node *n, const char *name, uint32_t *out, ert_error *err);
/* Marks an attribute read without interpreting it (documented no-ops such as Dropout's seed). */
void ert_attr_ignore(ert_attrs *a, const char *name);

/* ---- execution ---- */
struct ert_pool;
typedef struct ert_ctx {
    void *scratch; /* at least the node's scratch_bytes(), 64-byte aligned */
    size_t scratch_bytes;
    int threads;   /* threads this run may use */
    struct ert_pool *pool; /* split work with ert_pool_run / ert_gemm_mt; NULL = one thread */
    /* One scratch buffer of scratch_bytes per pool worker (worker 0's is `scratch`), for
     * kernels that give each worker its own tile; NULL when there is one thread. */
    void *const *worker_scratch;
    /* This node's load-time data (op_def.prepare), or NULL when the executor has none:
     * run() must then compute without it. */
    const void *prepared;
    /* Transient memory shared by all nodes (op_def.workspace), 64-byte aligned; run() uses
     * it only when workspace_bytes covers what it asked for, else takes another path. */
    void *workspace;
    size_t workspace_bytes;
} ert_ctx;

/* The scratch buffer of pool worker w (inside an ert_pool_run job). */
static inline void *ert_ctx_scratch(const ert_ctx *ctx, int w)
{
    return (w > 0 && ctx->worker_scratch) ? ctx->worker_scratch[w] : ctx->scratch;
}

typedef struct ert_op_def {
    const char *name; /* ONNX op_type in the default domain, e.g. "Conv" */
    /* Reads ONNX attributes into node->ints/floats (via ert_node_set_params). May also
     * rewrite node->in (e.g. an attribute that later opsets pass as an input). opset is
     * the model's default-domain opset. NULL: the op takes no attributes. */
    ert_status (*parse)(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err);
    /* Checks everything run() relies on -- input count, dtypes, ranks, params count and
     * ranges, constant shape inputs -- and sets each output's dtype and shape. It runs
     * at conversion and again when a blob is loaded, on hostile data: it must never
     * read params or constant data it has not bounds-checked first. */
    ert_status (*infer)(ert_graph *g, ert_node *n, ert_error *err);
    /* Scratch bytes run() needs for this node (NULL: none). Called after infer. */
    size_t (*scratch)(const ert_graph *g, const ert_node *n);
    /* Computes the outputs from the inputs. Never allocates, never blocks. */
    ert_status (*run)(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err);
    /* The op can apply node->act to its output itself (the converter fuses into it). */
    bool fuses_act;
    /* Optional: the node is a pure elementwise activation expressible as ert_act (Relu,
     * Clip with constant bounds...): fills act/alpha/beta and returns true. */
    bool (*as_act)(const ert_graph *g, const ert_node *n, ert_act *act, float *alpha, float *beta);
    /* Optional: the node is y = x * scale[c] + shift[c] over channel axis 1 with constant
     * parameters (inference BatchNormalization): fills c floats each and returns true. */
    bool (*channel_affine)(const ert_graph *g, const ert_node *n, float *scale, float *shift, size_t c);
    /* run() reads only its first input's static shape, never its data (Shape, Size): the
     * converter can evaluate it on an activation whose shape is known. */
    bool shape_only;
    /* Optional load-time preparation, outside the blob and the planned arena (so blobs stay
     * small and independent of it): bytes of data derived from constant inputs (e.g.
     * Winograd-transformed weights), 0 for none; prepare() fills them once when a model
     * is bound. workspace(): transient bytes run() would like, shared between nodes. */
    size_t (*prepare_bytes)(const ert_graph *g, const ert_node *n);
    void (*prepare)(const ert_graph *g, const ert_node *n, void *out);
    size_t (*workspace)(const ert_graph *g, const ert_node *n);
} ert_op_def;

/* A table entry for the common fields (the optional hooks stay NULL; set them with a
 * designated initializer where an op has them). */
#define ERT_OP(nm, parse_fn, infer_fn, scratch_fn, run_fn, fuses)                                             \
    {.name = (nm), .parse = (parse_fn), .infer = (infer_fn), .scratch = (scratch_fn), .run = (run_fn),          \
     .fuses_act = (fuses)}
#define ERT_OP_END {.name = NULL}

/* Lookup by ONNX name; NULL when unsupported. */
const ert_op_def *ert_op_find(const char *name);
/* Comma-separated sorted list of supported op names (static buffer), for error messages. */
const char *ert_op_list(void);

/* Runs def->parse for node n with the given attributes, then fails with the node name,
 * op type and opset on any attribute the op did not read ("unsupported attribute"). */
ert_status ert_node_parse(ert_graph *g, uint32_t node, ert_attrs *attrs, int opset, ert_error *err);

/* Host-side evaluation of one node whose inputs all have data (constant folding,
 * op tests): infer, allocate every output on the heap as a constant, run with a
 * heap scratch buffer. */
ert_status ert_node_eval(ert_graph *g, uint32_t node, ert_error *err);

/* "node 'name' (Op): <message>" */
ert_status ert_node_fail(ert_error *err, const ert_node *n, ert_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Applies a fused activation in place. */
static inline void ert_act_apply(float *x, size_t count, ert_act act, float alpha, float beta)
{
    switch (act) {
    case ERT_ACT_NONE:
        break;
    case ERT_ACT_RELU:
        for (size_t i = 0; i < count; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ERT_ACT_LEAKY_RELU:
        for (size_t i = 0; i < count; i++)
            x[i] = x[i] >= 0.0f ? x[i] : x[i] * alpha;
        break;
    case ERT_ACT_CLIP:
        for (size_t i = 0; i < count; i++)
            x[i] = x[i] < alpha ? alpha : (x[i] > beta ? beta : x[i]);
        break;
    case ERT_ACT_SIGMOID:
        for (size_t i = 0; i < count; i++)
            x[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case ERT_ACT_TANH:
        for (size_t i = 0; i < count; i++)
            x[i] = tanhf(x[i]);
        break;
    }
}

/* Kernel tables (one per kernel file), terminated by a {NULL} entry. */
extern const ert_op_def ert_ops_elementwise[]; /* kernels/elementwise.c: unary, Clip, Cast, Identity, Dropout */
extern const ert_op_def ert_ops_binary[];      /* kernels/binary.c: broadcasting binary ops, Max/Min/Sum/Mean, Where, Expand */
extern const ert_op_def ert_ops_reduce[];      /* kernels/reduce.c: Reduce*, Softmax, LogSoftmax */
extern const ert_op_def ert_ops_shape[];       /* kernels/shape.c: Reshape, Transpose, Concat, Slice, Gather, ... */
extern const ert_op_def ert_ops_conv[];        /* kernels/conv.c: Conv, ConvTranspose */
extern const ert_op_def ert_ops_pool[];        /* kernels/pool.c: MaxPool, AveragePool, Global*Pool */
extern const ert_op_def ert_ops_linear[];      /* kernels/linear.c: MatMul, Gemm, BatchNormalization */
extern const ert_op_def ert_ops_qlinear[];     /* kernels/qconv.c: ErtQConv, ErtQGemm (int8 compute) */

#endif
