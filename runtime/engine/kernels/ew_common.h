/* Shared by the elementwise, binary and reduction kernels: infer-time checks of node
 * arity and tensors, numpy broadcasting, and coalesced iteration plans for run(). */
#ifndef ERT_KERNELS_EW_COMMON_H
#define ERT_KERNELS_EW_COMMON_H

#include "../op.h"

#define ERT_BPLAN_MAX_OPS 4

/* ---- infer helpers: each fails with the node name and one clear reason ---- */

/* n_in in [min_in, max_in], n_out in [min_out, max_out], every listed tensor id
 * in range, params counts exactly n_ints/n_floats. */
ert_status ert_ew_arity(const ert_graph *g, const ert_node *n, uint32_t min_in, uint32_t max_in, uint32_t min_out,
                        uint32_t max_out, uint32_t n_ints, uint32_t n_floats, ert_error *err);
/* Input i with a valid shape and a dtype embedrt stores; *t = NULL when the input
 * is omitted and !required. */
ert_status ert_ew_input(const ert_graph *g, const ert_node *n, uint32_t i, bool required, ert_tensor **t,
                        ert_error *err);
/* Input i must be a constant whose data covers its shape, of dtype dt (any when
 * ERT_DT_UNDEFINED); what: the ONNX input name for the message. */
ert_status ert_ew_const_input(const ert_graph *g, const ert_node *n, uint32_t i, ert_dtype dt, const char *what,
                              ert_tensor **t, ert_error *err);
/* Sets output i (skipped when the output is omitted) after checking its byte size. */
ert_status ert_ew_output(ert_graph *g, const ert_node *n, uint32_t i, ert_dtype dt, const ert_shape *s,
                         ert_error *err);
/* "'what': dtype float16 not supported" (dt: an ONNX TensorProto.DataType number). */
ert_status ert_ew_bad_dtype(const ert_node *n, const char *what, int64_t dt, ert_error *err);
/* The fused activation is one ert_act_apply knows and the output is float32. */
ert_status ert_ew_check_act(const ert_node *n, ert_dtype out, ert_error *err);

/* Float to integer, truncating toward zero like C, but out-of-range values saturate
 * and NaN becomes 0: ONNX leaves both undefined, and in C they would be UB. */
static inline int64_t ert_sat_i64(double v)
{
    if (!(v == v))
        return 0;
    if (v >= 9223372036854775808.0)
        return INT64_MAX;
    if (v < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}
static inline int32_t ert_sat_i32(double v)
{
    return !(v == v) ? 0 : v >= 2147483648.0 ? INT32_MAX : v <= -2147483649.0 ? INT32_MIN : (int32_t)v;
}

/* ---- broadcasting ---- */

/* An iteration space of rows of `inner` contiguous steps. Operand k advances by
 * str[k][d] elements along dim d; after coalescing, str[k][rank-1] is 0 or 1. */
typedef struct ert_bplan {
    int rank; /* >= 1 */
    int n_ops;
    size_t dims[ERT_MAX_RANK];
    size_t str[ERT_BPLAN_MAX_OPS][ERT_MAX_RANK];
    size_t rows;  /* product of dims[0 .. rank-2] */
    size_t inner; /* dims[rank-1] */
} ert_bplan;

/* numpy multidirectional broadcast of a and b into out; false when incompatible. */
bool ert_bcast_shapes(const ert_shape *a, const ert_shape *b, ert_shape *out);
/* True when s broadcasts onto out without changing out (unidirectional). */
bool ert_bcast_onto(const ert_shape *s, const ert_shape *out);
/* Element strides of a contiguous tensor of shape s seen through the broadcast to
 * out (right-aligned; 0 on broadcast dims). s must satisfy ert_bcast_onto(s, out)
 * and both shapes must have passed ert_shape_numel. */
void ert_bcast_strides(const ert_shape *s, const ert_shape *out, size_t str[ERT_MAX_RANK]);
/* Builds the plan over `space` (validated shape) for n_ops operands with the given
 * strides: drops size-1 dims and merges dims that are contiguous for every operand. */
void ert_bplan_init(ert_bplan *p, const ert_shape *space, const size_t (*str)[ERT_MAX_RANK], int n_ops);

/* Moves the row cursor (idx: rank-1 counters, off: per-operand element offsets)
 * to the next row. Offsets only grow and shrink by exact multiples, never wrap. */
static inline void ert_bplan_next(const ert_bplan *p, size_t *idx, size_t *off)
{
    for (int d = p->rank - 2; d >= 0; d--) {
        for (int k = 0; k < p->n_ops; k++)
            off[k] += p->str[k][d];
        if (++idx[d] < p->dims[d])
            return;
        for (int k = 0; k < p->n_ops; k++)
            off[k] -= p->str[k][d] * p->dims[d];
        idx[d] = 0;
    }
}

#endif
