/* Infer-time node checks, broadcast shapes and coalesced iteration plans (see
 * ew_common.h), shared by the elementwise, binary and reduction kernels. */
#include "ew_common.h"

ert_status ert_ew_arity(const ert_graph *g, const ert_node *n, uint32_t min_in, uint32_t max_in, uint32_t min_out,
                        uint32_t max_out, uint32_t n_ints, uint32_t n_floats, ert_error *err)
{
    if (n->n_in < min_in || n->n_in > max_in) {
        if (min_in == max_in)
            return ert_node_fail(err, n, ERT_EFORMAT, "expects %u input(s), has %u", min_in, n->n_in);
        return ert_node_fail(err, n, ERT_EFORMAT, "expects %u to %u inputs, has %u", min_in, max_in, n->n_in);
    }
    if (n->n_out < min_out || n->n_out > max_out) {
        if (min_out == max_out)
            return ert_node_fail(err, n, ERT_EFORMAT, "expects %u output(s), has %u", min_out, n->n_out);
        return ert_node_fail(err, n, ERT_EFORMAT, "expects %u to %u outputs, has %u", min_out, max_out, n->n_out);
    }
    for (uint32_t i = 0; i < n->n_in; i++)
        if (n->in[i] != ERT_NO_TENSOR && n->in[i] >= g->n_tensors)
            return ert_node_fail(err, n, ERT_EFORMAT, "input %u refers to no tensor", i);
    for (uint32_t i = 0; i < n->n_out; i++)
        if (n->out[i] != ERT_NO_TENSOR && n->out[i] >= g->n_tensors)
            return ert_node_fail(err, n, ERT_EFORMAT, "output %u refers to no tensor", i);
    if (n->n_out > 0 && n->out[0] == ERT_NO_TENSOR)
        return ert_node_fail(err, n, ERT_EFORMAT, "output 0 is missing");
    /* kernels read inputs while writing outputs (restrict pointers): no aliasing */
    for (uint32_t o = 0; o < n->n_out; o++) {
        if (n->out[o] == ERT_NO_TENSOR)
            continue;
        for (uint32_t i = 0; i < n->n_in; i++)
            if (n->in[i] == n->out[o])
                return ert_node_fail(err, n, ERT_EFORMAT, "output %u is also input %u", o, i);
        for (uint32_t p = 0; p < o; p++)
            if (n->out[p] == n->out[o])
                return ert_node_fail(err, n, ERT_EFORMAT, "outputs %u and %u are the same tensor", p, o);
    }
    if (n->n_ints != n_ints || n->n_floats != n_floats)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int and %u float params, expected %u and %u", n->n_ints,
                             n->n_floats, n_ints, n_floats);
    return ERT_OK;
}

ert_status ert_ew_input(const ert_graph *g, const ert_node *n, uint32_t i, bool required, ert_tensor **t,
                        ert_error *err)
{
    *t = ert_node_input(g, n, i);
    if (!*t) {
        if (required)
            return ert_node_fail(err, n, ERT_EFORMAT, "input %u is required", i);
        return ERT_OK;
    }
    size_t bytes;
    if ((*t)->shape.rank < 0 || (*t)->shape.rank > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' has no valid shape (rank %d)", (*t)->name,
                             (*t)->shape.rank);
    if (!ert_dtype_size((*t)->dtype))
        return ert_ew_bad_dtype(n, (*t)->name, (*t)->dtype, err);
    if (!ert_shape_bytes(&(*t)->shape, (*t)->dtype, &bytes))
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' has a negative dim or too many elements", (*t)->name);
    if ((*t)->is_const && (!(*t)->data || (*t)->nbytes < bytes))
        return ert_node_fail(err, n, ERT_EFORMAT, "constant input '%s' has %llu bytes of data, needs %zu", (*t)->name,
                             (unsigned long long)((*t)->data ? (*t)->nbytes : 0), bytes);
    return ERT_OK;
}

ert_status ert_ew_const_input(const ert_graph *g, const ert_node *n, uint32_t i, ert_dtype dt, const char *what,
                              ert_tensor **t, ert_error *err)
{
    ert_status st = ert_ew_input(g, n, i, true, t, err);
    if (st != ERT_OK)
        return st;
    if (!(*t)->is_const || !(*t)->data)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input '%s' must be a constant (embedrt needs static shapes)",
                             what);
    if (dt != ERT_DT_UNDEFINED && (*t)->dtype != dt)
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' must be %s, is %s", what, ert_dtype_name(dt),
                             ert_dtype_name((*t)->dtype));
    return ERT_OK;
}

ert_status ert_ew_output(ert_graph *g, const ert_node *n, uint32_t i, ert_dtype dt, const ert_shape *s,
                         ert_error *err)
{
    if (i >= n->n_out || n->out[i] == ERT_NO_TENSOR)
        return ERT_OK;
    size_t bytes;
    if (!ert_shape_bytes(s, dt, &bytes))
        return ert_node_fail(err, n, ERT_EFORMAT, "output %u would have too many elements", i);
    ert_tensor *t = &g->tensors[n->out[i]];
    t->dtype = dt;
    t->shape = *s;
    return ERT_OK;
}

ert_status ert_ew_bad_dtype(const ert_node *n, const char *what, int64_t dt, ert_error *err)
{
    /* ONNX names of the types embedrt does not store, for the message */
    static const char *const onnx_names[] = {
        [4] = "uint16", [5] = "int16", [8] = "string", [10] = "float16", [12] = "uint32",
        [13] = "uint64", [14] = "complex64", [15] = "complex128", [16] = "bfloat16",
    };
    const char *name = ert_dtype_size((ert_dtype)(dt >= 0 && dt < 64 ? dt : 0)) ? ert_dtype_name((ert_dtype)dt) : NULL;
    if (!name && dt >= 0 && dt < (int64_t)(sizeof onnx_names / sizeof onnx_names[0]))
        name = onnx_names[dt];
    if (!name)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "'%s': dtype %lld not supported", what, (long long)dt);
    return ert_node_fail(err, n, ERT_EUNSUPPORTED, "'%s': dtype %s not supported", what, name);
}

ert_status ert_ew_check_act(const ert_node *n, ert_dtype out, ert_error *err)
{
    if (n->act == ERT_ACT_NONE)
        return ERT_OK;
    if ((unsigned)n->act > (unsigned)ERT_ACT_TANH)
        return ert_node_fail(err, n, ERT_EFORMAT, "unknown fused activation %d", (int)n->act);
    if (out != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EFORMAT, "fused activation on a %s output (float32 only)",
                             ert_dtype_name(out));
    return ERT_OK;
}

bool ert_bcast_shapes(const ert_shape *a, const ert_shape *b, ert_shape *out)
{
    if (a->rank < 0 || a->rank > ERT_MAX_RANK || b->rank < 0 || b->rank > ERT_MAX_RANK)
        return false;
    int r = a->rank > b->rank ? a->rank : b->rank;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            out->dims[i] = da;
        else if (da == 1)
            out->dims[i] = db;
        else
            return false;
    }
    return true;
}

bool ert_bcast_onto(const ert_shape *s, const ert_shape *out)
{
    if (s->rank < 0 || s->rank > out->rank)
        return false;
    int off = out->rank - s->rank;
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] != 1 && s->dims[i] != out->dims[off + i])
            return false;
    return true;
}

void ert_bcast_strides(const ert_shape *s, const ert_shape *out, size_t str[ERT_MAX_RANK])
{
    int off = out->rank - s->rank;
    size_t step = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
        int j = i - off;
        if (j < 0 || s->dims[j] == 1) {
            str[i] = 0;
        } else {
            str[i] = step;
            step *= (size_t)s->dims[j]; /* bounded by s's element count */
        }
    }
}

void ert_bplan_init(ert_bplan *p, const ert_shape *space, const size_t (*str)[ERT_MAX_RANK], int n_ops)
{
    p->n_ops = n_ops;
    p->rank = 0;
    /* Size-1 dims contribute nothing; dims that step every operand contiguously
     * (or not at all) fold into the dim after them. */
    for (int d = 0; d < space->rank; d++) {
        size_t n = (size_t)space->dims[d];
        if (n == 1)
            continue;
        int r = p->rank;
        bool merge = r > 0;
        for (int k = 0; merge && k < n_ops; k++)
            merge = p->str[k][r - 1] == str[k][d] * n;
        if (merge) {
            p->dims[r - 1] *= n;
            for (int k = 0; k < n_ops; k++)
                p->str[k][r - 1] = str[k][d];
        } else {
            p->dims[r] = n;
            for (int k = 0; k < n_ops; k++)
                p->str[k][r] = str[k][d];
            p->rank++;
        }
    }
    if (p->rank == 0) {
        p->rank = 1;
        p->dims[0] = 1;
        for (int k = 0; k < n_ops; k++)
            p->str[k][0] = 0;
    }
    p->inner = p->dims[p->rank - 1];
    p->rows = 1;
    for (int d = 0; d < p->rank - 1; d++)
        p->rows *= p->dims[d];
}
