/* Private to the shape kernels (shape.c, shape_move.c, shape_resize.c): checks of node
 * inputs/outputs, readers for constant shape inputs, axis handling, the op functions. */
#ifndef ERT_KERNELS_SHAPE_COMMON_H
#define ERT_KERNELS_SHAPE_COMMON_H

#include "../op.h"

/* n_in in [min_in, max_in], n_out in [min_out, max_out], inputs below min_in present,
 * every tensor id in range. */
ert_status ert_shape_check_io(const ert_graph *g, const ert_node *n, uint32_t min_in, uint32_t max_in,
                              uint32_t min_out, uint32_t max_out, ert_error *err);
/* Input i with a storable dtype and a valid shape (rank 0..ERT_MAX_RANK, dims >= 0,
 * byte size representable). NULL when omitted and !required. */
ert_status ert_shape_data_input(const ert_graph *g, const ert_node *n, uint32_t i, const char *role, bool required,
                                const ert_tensor **out, ert_error *err);
/* Input i as a constant vector (rank 0 or 1) whose data covers its shape; integer
 * (int64/int32) unless want_float (float32). *out NULL when omitted. */
ert_status ert_shape_const_vec(const ert_graph *g, const ert_node *n, uint32_t i, const char *role, bool want_float,
                               const ert_tensor **out, size_t *count, ert_error *err);
/* Element k of a vector ert_shape_const_vec accepted as integer. */
int64_t ert_shape_vec_at(const ert_tensor *t, size_t k);
/* axis in [-rank, rank) -> [0, rank). */
ert_status ert_shape_axis(const ert_node *n, const char *what, int64_t axis, int rank, int *out, ert_error *err);
/* Reads an int attribute (INT64_MIN default: required) into params [value]. */
ert_status ert_shape_parse_axis(ert_node *n, ert_attrs *a, const char *name, int64_t def, ert_error *err);
/* Sets output i's dtype and shape after checking its byte size is representable. */
ert_status ert_shape_set_out(ert_graph *g, const ert_node *n, uint32_t i, ert_dtype dt, const ert_shape *s,
                             ert_error *err);
/* Product of dims [from, to), no overflow check (the shape was validated). */
size_t ert_shape_span(const ert_shape *s, int from, int to);
/* Fills count elements of size es at dst with the element at val. */
void ert_shape_fill(void *dst, size_t count, const void *val, size_t es);
/* Permutes a dense row-major array of dims (rank <= ERT_MAX_RANK) into dims[perm[i]]
 * order, with merged axes, a tiled 2-D path and memcpy of contiguous runs. */
void ert_shape_permute(const void *src, void *dst, size_t es, int rank, const int64_t *dims, const int *perm);

/* Op functions listed in shape.c's table. */
#define ERT_SHAPE_OP(name)                                                                                       \
    ert_status ert_shape_parse_##name(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err);      \
    ert_status ert_shape_infer_##name(ert_graph *g, ert_node *n, ert_error *err);                               \
    ert_status ert_shape_run_##name(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err);
ERT_SHAPE_OP(transpose)
ERT_SHAPE_OP(concat)
ERT_SHAPE_OP(split)
ERT_SHAPE_OP(slice)
ERT_SHAPE_OP(gather)
ERT_SHAPE_OP(gather_elements)
ERT_SHAPE_OP(tile)
ERT_SHAPE_OP(depth_to_space)
ERT_SHAPE_OP(space_to_depth)
ERT_SHAPE_OP(pad)
ERT_SHAPE_OP(resize)
ERT_SHAPE_OP(upsample)
#undef ERT_SHAPE_OP
size_t ert_shape_scratch_resize(const ert_graph *g, const ert_node *n);

#endif
