/* Kernels: shape and data-movement ops (table ert_ops_shape). This file holds the shared
 * checks and the ops that only rewrite metadata; shape_move.c and shape_resize.c the rest. */
#include "shape_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

ert_status ert_shape_check_io(const ert_graph *g, const ert_node *n, uint32_t min_in, uint32_t max_in,
                              uint32_t min_out, uint32_t max_out, ert_error *err)
{
    if (n->n_in < min_in || n->n_in > max_in)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects %u to %u inputs, has %u", min_in, max_in, n->n_in);
    if (n->n_out < min_out || n->n_out > max_out)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects %u to %u outputs, has %u", min_out, max_out, n->n_out);
    for (uint32_t i = 0; i < n->n_in; i++) {
        if (n->in[i] == ERT_NO_TENSOR) {
            if (i < min_in)
                return ert_node_fail(err, n, ERT_EFORMAT, "input %u is required", i);
        } else if (n->in[i] >= g->n_tensors) {
            return ert_node_fail(err, n, ERT_EFORMAT, "input %u refers to no tensor", i);
        }
    }
    for (uint32_t i = 0; i < n->n_out; i++)
        if (n->out[i] >= g->n_tensors)
            return ert_node_fail(err, n, ERT_EFORMAT, "output %u refers to no tensor", i);
    return ERT_OK;
}

ert_status ert_shape_data_input(const ert_graph *g, const ert_node *n, uint32_t i, const char *role, bool required,
                                const ert_tensor **out, ert_error *err)
{
    const ert_tensor *t = ert_node_input(g, n, i);
    *out = t;
    if (!t) {
        if (required)
            return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' is required", role);
        return ERT_OK;
    }
    size_t nb;
    if (ert_dtype_size(t->dtype) == 0)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input '%s': dtype %s not supported", role,
                             ert_dtype_name(t->dtype));
    if (t->shape.rank < 0 || t->shape.rank > ERT_MAX_RANK || !ert_shape_bytes(&t->shape, t->dtype, &nb))
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' (tensor '%s') has an invalid shape", role, t->name);
    return ERT_OK;
}

ert_status ert_shape_const_vec(const ert_graph *g, const ert_node *n, uint32_t i, const char *role, bool want_float,
                               const ert_tensor **out, size_t *count, ert_error *err)
{
    const ert_tensor *t;
    *out = NULL;
    *count = 0;
    ert_status st = ert_shape_data_input(g, n, i, role, false, &t, err);
    if (st != ERT_OK || !t)
        return st;
    if (!t->is_const || !t->data)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED,
                             "input '%s' (tensor '%s') must be a constant (embedrt needs static shapes)", role, t->name);
    bool ok = want_float ? t->dtype == ERT_DT_F32 : (t->dtype == ERT_DT_I64 || t->dtype == ERT_DT_I32);
    if (!ok)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input '%s': dtype %s not supported (want %s)", role,
                             ert_dtype_name(t->dtype), want_float ? "float32" : "int64");
    if (t->shape.rank > 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' must be a 1-D tensor, has rank %d", role, t->shape.rank);
    size_t numel, nb;
    if (!ert_shape_numel(&t->shape, &numel) || !ert_shape_bytes(&t->shape, t->dtype, &nb) || nb > t->nbytes)
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s': constant data is shorter than its shape", role);
    *out = t;
    *count = numel;
    return ERT_OK;
}

int64_t ert_shape_vec_at(const ert_tensor *t, size_t k)
{
    if (t->dtype == ERT_DT_I32)
        return ((const int32_t *)t->data)[k];
    return ((const int64_t *)t->data)[k];
}

ert_status ert_shape_axis(const ert_node *n, const char *what, int64_t axis, int rank, int *out, ert_error *err)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return ert_node_fail(err, n, ERT_EFORMAT, "%s %lld out of range for rank %d", what, (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return ERT_OK;
}

ert_status ert_shape_set_out(ert_graph *g, const ert_node *n, uint32_t i, ert_dtype dt, const ert_shape *s,
                             ert_error *err)
{
    size_t nb;
    char buf[160];
    if (s->rank < 0 || s->rank > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "output rank %d exceeds %d", s->rank, ERT_MAX_RANK);
    if (!ert_shape_bytes(s, dt, &nb))
        return ert_node_fail(err, n, ERT_EFORMAT, "output %u shape %s (%s) is invalid or too large", i,
                             ert_shape_str(s, buf, sizeof buf), ert_dtype_name(dt));
    ert_tensor *t = &g->tensors[n->out[i]];
    t->dtype = dt;
    t->shape = *s;
    return ERT_OK;
}

size_t ert_shape_span(const ert_shape *s, int from, int to)
{
    size_t p = 1;
    for (int i = from; i < to; i++)
        p *= (size_t)s->dims[i];
    return p;
}

void ert_shape_fill(void *dst, size_t count, const void *val, size_t es)
{
    switch (es) {
    case 1:
        memset(dst, *(const unsigned char *)val, count);
        return;
    case 4: {
        uint32_t v, *d = dst;
        memcpy(&v, val, 4);
        for (size_t i = 0; i < count; i++)
            d[i] = v;
        return;
    }
    case 8: {
        uint64_t v, *d = dst;
        memcpy(&v, val, 8);
        for (size_t i = 0; i < count; i++)
            d[i] = v;
        return;
    }
    default:
        for (size_t i = 0; i < count; i++)
            memcpy((char *)dst + i * es, val, es);
    }
}

ert_status ert_shape_parse_axis(ert_node *n, ert_attrs *a, const char *name, int64_t def, ert_error *err)
{
    int64_t axis;
    ert_status st = ert_attr_int(a, n, name, def, &axis, err);
    if (st != ERT_OK)
        return st;
    if (axis == INT64_MIN)
        return ert_node_fail(err, n, ERT_EFORMAT, "attribute '%s' is required", name);
    return ert_node_set_params(n, &axis, 1, NULL, 0, err);
}

/* Input 0 -> output 0 unchanged (Constant, Reshape, Flatten, Squeeze, Unsqueeze): the
 * output was sized by infer to the same byte count. */
static ert_status run_copy(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *x = ert_node_input(g, n, 0);
    const ert_tensor *y = ert_node_output(g, n, 0);
    size_t nb;
    if (ert_shape_bytes(&y->shape, y->dtype, &nb) && nb)
        memcpy(y->data, x->data, nb);
    return ERT_OK;
}

/* ---- Constant: parse makes the value the node's single input; run copies it ---- */

static ert_status constant_parse(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)opset;
    static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < 3; k++)
            if (strcmp(a->v[i].name, unsupported[k]) == 0)
                return ert_node_fail(err, n, ERT_EUNSUPPORTED, "attribute '%s' is not supported", unsupported[k]);
    uint32_t tid;
    float f;
    int64_t iv;
    const float *fs;
    const int64_t *is;
    size_t nf, ni;
    ert_status st;
    if ((st = ert_attr_tensor(a, n, "value", &tid, err)) != ERT_OK ||
        (st = ert_attr_float(a, n, "value_float", NAN, &f, err)) != ERT_OK ||
        (st = ert_attr_int(a, n, "value_int", INT64_MIN, &iv, err)) != ERT_OK ||
        (st = ert_attr_floats(a, n, "value_floats", &fs, &nf, err)) != ERT_OK ||
        (st = ert_attr_ints(a, n, "value_ints", &is, &ni, err)) != ERT_OK)
        return st;
    const ert_attr *val = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (strncmp(a->v[i].name, "value", 5) == 0) {
            if (val)
                return ert_node_fail(err, n, ERT_EFORMAT, "needs exactly one value attribute, has several");
            val = &a->v[i];
        }
    if (!val)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs a value attribute");
    if (n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects 1 output, has %u", n->n_out);
    if (tid == ERT_NO_TENSOR) {
        /* The value_* forms become a constant tensor named after the (unique) output. */
        const ert_tensor *y = &g->tensors[n->out[0]];
        char name[256];
        snprintf(name, sizeof name, "%s#value", y->name);
        bool is_float = val->type == ERT_ATTR_FLOAT || val->type == ERT_ATTR_FLOATS;
        bool is_list = val->type == ERT_ATTR_FLOATS || val->type == ERT_ATTR_INTS;
        ert_shape s = {.rank = is_list, .dims = {(int64_t)(is_float ? nf : ni)}};
        ert_dtype dt = is_float ? ERT_DT_F32 : ERT_DT_I64;
        const void *data = is_float ? (is_list ? (const void *)fs : (const void *)&f)
                                    : (is_list ? (const void *)is : (const void *)&iv);
        /* An empty list still needs a non-NULL pointer to be stored as a constant. */
        static const int64_t empty = 0;
        if (s.rank == 1 && s.dims[0] == 0)
            data = &empty;
        if ((st = ert_graph_add_tensor(g, name, dt, &s, (void *)data, true, &tid, err)) != ERT_OK)
            return st;
    } else if (tid >= g->n_tensors) {
        return ert_node_fail(err, n, ERT_EINTERNAL, "attribute 'value' refers to no tensor");
    }
    uint32_t *in = realloc(n->in, sizeof *in);
    if (!in)
        return ert_node_fail(err, n, ERT_ENOMEM, "out of memory");
    in[0] = tid;
    n->in = in;
    n->n_in = 1;
    return ERT_OK;
}

/* Params: none; input 0 is the value (set by parse). */
static ert_status constant_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "value", true, &x, err)) != ERT_OK)
        return st;
    return ert_shape_set_out(g, n, 0, x->dtype, &x->shape, err);
}

/* ---- Shape / Size ---- */

static ert_status shape_parse(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    int64_t p[2];
    ert_status st;
    if ((st = ert_attr_int(a, n, "start", 0, &p[0], err)) != ERT_OK ||
        (st = ert_attr_int(a, n, "end", INT64_MAX, &p[1], err)) != ERT_OK)
        return st;
    return ert_node_set_params(n, p, 2, NULL, 0, err);
}

static void shape_range(const ert_node *n, int rank, int64_t *start, int64_t *end)
{
    int64_t s = n->ints[0], e = n->ints[1];
    s = s < 0 ? s + rank : s;
    e = e < 0 ? e + rank : e;
    *start = s < 0 ? 0 : (s > rank ? rank : s);
    *end = e < 0 ? 0 : (e > rank ? rank : e);
    if (*end < *start)
        *end = *start;
}

/* Params: [start, end] as in ONNX (clamped here, defaults 0 and INT64_MAX). */
static ert_status shape_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK)
        return st;
    if (n->n_ints != 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects 2 int params, has %u", n->n_ints);
    int64_t s, e;
    shape_range(n, x->shape.rank, &s, &e);
    ert_shape out = {.rank = 1, .dims = {e - s}};
    return ert_shape_set_out(g, n, 0, ERT_DT_I64, &out, err);
}

static ert_status shape_run(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *x = ert_node_input(g, n, 0);
    int64_t s, e, *y = ert_node_output(g, n, 0)->data;
    shape_range(n, x->shape.rank, &s, &e);
    for (int64_t i = s; i < e; i++)
        y[i - s] = x->shape.dims[i];
    return ERT_OK;
}

static ert_status size_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK)
        return st;
    ert_shape out = {.rank = 0};
    return ert_shape_set_out(g, n, 0, ERT_DT_I64, &out, err);
}

static ert_status size_run(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    size_t numel = 1;
    ert_shape_numel(&ert_node_input(g, n, 0)->shape, &numel);
    *(int64_t *)ert_node_output(g, n, 0)->data = (int64_t)numel;
    return ERT_OK;
}

/* ---- Reshape / Flatten ---- */

static ert_status reshape_parse(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    int64_t allowzero;
    ert_status st = ert_attr_int(a, n, "allowzero", 0, &allowzero, err);
    if (st != ERT_OK)
        return st;
    return ert_node_set_params(n, &allowzero, 1, NULL, 0, err);
}

static ert_status size_mismatch(const ert_node *n, const ert_shape *from, const ert_shape *to, ert_error *err)
{
    char a[160], b[160];
    return ert_node_fail(err, n, ERT_EFORMAT, "size mismatch: cannot reshape %s to %s",
                         ert_shape_str(from, a, sizeof a), ert_shape_str(to, b, sizeof b));
}

/* Params: [allowzero]. Input 1 'shape' must be constant. */
static ert_status reshape_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x, *sh;
    size_t k, total;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 2, 2, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK ||
        (st = ert_shape_const_vec(g, n, 1, "shape", false, &sh, &k, err)) != ERT_OK)
        return st;
    if (n->n_ints != 1 || (n->ints[0] != 0 && n->ints[0] != 1))
        return ert_node_fail(err, n, ERT_EFORMAT, "expects params [allowzero 0|1]");
    if (k > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "target rank %zu exceeds %d", k, ERT_MAX_RANK);
    bool allowzero = n->ints[0] == 1, has_zero = false;
    ert_shape out = {.rank = (int)k};
    int infer_at = -1;
    size_t known = 1;
    ert_shape_numel(&x->shape, &total);
    for (int i = 0; i < (int)k; i++) {
        int64_t v = ert_shape_vec_at(sh, (size_t)i);
        if (v == -1) {
            if (infer_at >= 0)
                return ert_node_fail(err, n, ERT_EFORMAT, "shape has -1 more than once");
            infer_at = i;
            out.dims[i] = 1;
            continue;
        }
        if (v < -1)
            return ert_node_fail(err, n, ERT_EFORMAT, "shape[%d] = %lld is invalid", i, (long long)v);
        if (v == 0 && !allowzero) {
            if (i >= x->shape.rank)
                return ert_node_fail(err, n, ERT_EFORMAT, "shape[%d] = 0 copies a dim the input (rank %d) lacks", i,
                                     x->shape.rank);
            v = x->shape.dims[i];
        }
        has_zero |= v == 0;
        out.dims[i] = v;
        if ((uint64_t)v > SIZE_MAX || !ert_mul_size(known, (size_t)v, &known))
            return ert_node_fail(err, n, ERT_EFORMAT, "shape[%d] = %lld overflows", i, (long long)v);
    }
    if (infer_at >= 0) {
        if (known == 0) {
            if (allowzero || has_zero)
                return ert_node_fail(err, n, ERT_EFORMAT, "cannot infer the -1 dim next to a zero-size dim");
        }
        if (known == 0 || total % known != 0) {
            out.dims[infer_at] = -1;
            return size_mismatch(n, &x->shape, &out, err);
        }
        out.dims[infer_at] = (int64_t)(total / known);
    } else if (known != total) {
        return size_mismatch(n, &x->shape, &out, err);
    }
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

static ert_status flatten_parse(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    int64_t axis;
    ert_status st = ert_attr_int(a, n, "axis", 1, &axis, err);
    if (st != ERT_OK)
        return st;
    return ert_node_set_params(n, &axis, 1, NULL, 0, err);
}

/* Params: [axis] in [-rank, rank]. */
static ert_status flatten_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "input", true, &x, err)) != ERT_OK)
        return st;
    if (n->n_ints != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects 1 int param (axis), has %u", n->n_ints);
    int r = x->shape.rank;
    int64_t axis = n->ints[0];
    if (axis < -(int64_t)r || axis > r)
        return ert_node_fail(err, n, ERT_EFORMAT, "axis %lld out of range for rank %d", (long long)axis, r);
    int ax = (int)(axis < 0 ? axis + r : axis);
    ert_shape out = {.rank = 2,
                     .dims = {(int64_t)ert_shape_span(&x->shape, 0, ax), (int64_t)ert_shape_span(&x->shape, ax, r)}};
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

/* ---- Squeeze / Unsqueeze: axes as an attribute (< 13, kept in params) or input 1 ---- */

static ert_status axes_parse(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g;
    if (opset >= 13)
        return ERT_OK;
    const int64_t *axes;
    size_t k;
    ert_status st = ert_attr_ints(a, n, "axes", &axes, &k, err);
    if (st != ERT_OK)
        return st;
    if (k > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "%zu axes exceed rank limit %d", k, ERT_MAX_RANK);
    return ert_node_set_params(n, axes, (uint32_t)k, NULL, 0, err);
}

/* Reads the axes from params or input 1 (never both) into axes[0..*k), normalized
 * against rank, rejecting repeats. */
static ert_status read_axes(const ert_graph *g, const ert_node *n, int rank, int *axes, int *k, ert_error *err)
{
    const ert_tensor *t;
    size_t cnt;
    ert_status st = ert_shape_const_vec(g, n, 1, "axes", false, &t, &cnt, err);
    if (st != ERT_OK)
        return st;
    if (t && n->n_ints)
        return ert_node_fail(err, n, ERT_EFORMAT, "axes given both as params and as input");
    if (!t)
        cnt = n->n_ints;
    if (cnt > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "%zu axes exceed rank limit %d", cnt, ERT_MAX_RANK);
    bool seen[ERT_MAX_RANK] = {false};
    for (size_t i = 0; i < cnt; i++) {
        int ax = 0;
        if ((st = ert_shape_axis(n, "axis", t ? ert_shape_vec_at(t, i) : n->ints[i], rank, &ax, err)) != ERT_OK)
            return st;
        if (seen[ax])
            return ert_node_fail(err, n, ERT_EFORMAT, "axis %d repeated", ax);
        seen[ax] = true;
        axes[i] = ax;
    }
    *k = (int)cnt;
    return ERT_OK;
}

/* Params: axes (opset < 13) or none (axes from input 1, or every size-1 dim). */
static ert_status squeeze_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    int axes[ERT_MAX_RANK], k;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 2, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK ||
        (st = read_axes(g, n, x->shape.rank, axes, &k, err)) != ERT_OK)
        return st;
    bool drop[ERT_MAX_RANK] = {false};
    for (int i = 0; i < k; i++) {
        if (x->shape.dims[axes[i]] != 1)
            return ert_node_fail(err, n, ERT_EFORMAT, "cannot squeeze axis %d of size %lld", axes[i],
                                 (long long)x->shape.dims[axes[i]]);
        drop[axes[i]] = true;
    }
    ert_shape out = {.rank = 0};
    for (int i = 0; i < x->shape.rank; i++)
        if (!(k ? drop[i] : x->shape.dims[i] == 1))
            out.dims[out.rank++] = x->shape.dims[i];
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

/* Params: axes (opset < 13) or none (axes from input 1). */
static ert_status unsqueeze_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    int axes[ERT_MAX_RANK], k;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 2, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK)
        return st;
    size_t cnt = n->n_ints;
    const ert_tensor *t;
    if ((st = ert_shape_const_vec(g, n, 1, "axes", false, &t, &cnt, err)) != ERT_OK)
        return st;
    if (!t)
        cnt = n->n_ints;
    if (cnt == 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs axes");
    if (cnt > ERT_MAX_RANK || (size_t)x->shape.rank + cnt > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "output rank %zu exceeds %d", (size_t)x->shape.rank + cnt,
                             ERT_MAX_RANK);
    int r = x->shape.rank + (int)cnt;
    if ((st = read_axes(g, n, r, axes, &k, err)) != ERT_OK)
        return st;
    bool ins[ERT_MAX_RANK] = {false};
    for (int i = 0; i < k; i++)
        ins[axes[i]] = true;
    ert_shape out = {.rank = r};
    for (int i = 0, j = 0; i < r; i++)
        out.dims[i] = ins[i] ? 1 : x->shape.dims[j++];
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

/* ---- ConstantOfShape ---- */

static ert_status cos_parse(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)opset;
    uint32_t tid;
    ert_status st = ert_attr_tensor(a, n, "value", &tid, err);
    if (st != ERT_OK)
        return st;
    int64_t p[2] = {ERT_DT_F32, 0};
    if (tid != ERT_NO_TENSOR) {
        size_t numel;
        const ert_tensor *v = tid < g->n_tensors ? &g->tensors[tid] : NULL;
        if (!v || !v->data || ert_dtype_size(v->dtype) == 0 || !ert_shape_numel(&v->shape, &numel) || numel != 1)
            return ert_node_fail(err, n, ERT_EFORMAT, "attribute 'value' must be a one-element tensor");
        p[0] = v->dtype;
        memcpy(&p[1], v->data, ert_dtype_size(v->dtype));
    }
    return ert_node_set_params(n, p, 2, NULL, 0, err);
}

/* Params: [dtype, value bits] (the element's bytes at the start of the int64). */
static ert_status cos_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *sh;
    size_t k;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_const_vec(g, n, 0, "input", false, &sh, &k, err)) != ERT_OK)
        return st;
    if (n->n_ints != 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects 2 int params, has %u", n->n_ints);
    ert_dtype dt = (ert_dtype)n->ints[0];
    if (n->ints[0] < 0 || n->ints[0] > 64 || ert_dtype_size(dt) == 0)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "value dtype %lld not supported", (long long)n->ints[0]);
    if (k > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "output rank %zu exceeds %d", k, ERT_MAX_RANK);
    ert_shape out = {.rank = (int)k};
    for (size_t i = 0; i < k; i++) {
        out.dims[i] = ert_shape_vec_at(sh, i);
        if (out.dims[i] < 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "shape[%zu] = %lld is negative", i, (long long)out.dims[i]);
    }
    return ert_shape_set_out(g, n, 0, dt, &out, err);
}

static ert_status cos_run(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *y = ert_node_output(g, n, 0);
    size_t numel = 0;
    ert_shape_numel(&y->shape, &numel);
    ert_shape_fill(y->data, numel, &n->ints[1], ert_dtype_size(y->dtype));
    return ERT_OK;
}

/* ---- Range: start, limit, delta are constant scalars ---- */

static ert_status range_scalar(const ert_graph *g, const ert_node *n, uint32_t i, const char *role, ert_dtype dt,
                               double *d, int64_t *iv, ert_error *err)
{
    const ert_tensor *t;
    ert_status st = ert_shape_data_input(g, n, i, role, true, &t, err);
    if (st != ERT_OK)
        return st;
    if (!t->is_const || !t->data)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED,
                             "input '%s' (tensor '%s') must be a constant (embedrt needs static shapes)", role, t->name);
    size_t numel;
    ert_shape_numel(&t->shape, &numel);
    if (t->dtype != dt || numel != 1 || t->shape.rank > 1 || t->nbytes < ert_dtype_size(dt))
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' must be a %s scalar like 'start'", role,
                             ert_dtype_name(dt));
    switch (dt) {
    case ERT_DT_F32: *d = *(const float *)t->data; break;
    case ERT_DT_F64: *d = *(const double *)t->data; break;
    case ERT_DT_I32: *iv = *(const int32_t *)t->data; break;
    default: *iv = *(const int64_t *)t->data; break;
    }
    return ERT_OK;
}

/* Reads the three scalars and the element count; shared by infer and run. */
static ert_status range_plan(const ert_graph *g, const ert_node *n, double d[3], int64_t iv[3], int64_t *count,
                             ert_error *err)
{
    static const char *const roles[3] = {"start", "limit", "delta"};
    const ert_tensor *s = ert_node_input(g, n, 0);
    ert_dtype dt = s ? s->dtype : ERT_DT_UNDEFINED;
    if (dt != ERT_DT_F32 && dt != ERT_DT_F64 && dt != ERT_DT_I32 && dt != ERT_DT_I64)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported", ert_dtype_name(dt));
    for (int i = 0; i < 3; i++) {
        ert_status st = range_scalar(g, n, (uint32_t)i, roles[i], dt, &d[i], &iv[i], err);
        if (st != ERT_OK)
            return st;
    }
    if (dt == ERT_DT_F32 || dt == ERT_DT_F64) {
        if (!isfinite(d[0]) || !isfinite(d[1]) || !isfinite(d[2]) || d[2] == 0.0)
            return ert_node_fail(err, n, ERT_EFORMAT, "start/limit/delta must be finite with delta != 0");
        double c = ceil((d[1] - d[0]) / d[2]);
        if (!(c < 9.0e18))
            return ert_node_fail(err, n, ERT_EFORMAT, "range of %g elements is too large", c);
        *count = c > 0 ? (int64_t)c : 0;
        return ERT_OK;
    }
    if (iv[2] == 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "delta must be != 0");
    /* Count in uint64: the span of two int64 values always fits. */
    uint64_t span = 0, mag;
    if (iv[2] > 0 && iv[1] > iv[0])
        span = (uint64_t)iv[1] - (uint64_t)iv[0];
    else if (iv[2] < 0 && iv[0] > iv[1])
        span = (uint64_t)iv[0] - (uint64_t)iv[1];
    mag = iv[2] > 0 ? (uint64_t)iv[2] : 0 - (uint64_t)iv[2];
    uint64_t c = span / mag + (span % mag != 0);
    if (c > (uint64_t)INT64_MAX)
        return ert_node_fail(err, n, ERT_EFORMAT, "range is too large");
    *count = (int64_t)c;
    return ERT_OK;
}

/* Params: none. */
static ert_status range_infer(ert_graph *g, ert_node *n, ert_error *err)
{
    double d[3];
    int64_t iv[3], count;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 3, 3, 1, 1, err)) != ERT_OK ||
        (st = range_plan(g, n, d, iv, &count, err)) != ERT_OK)
        return st;
    ert_shape out = {.rank = 1, .dims = {count}};
    return ert_shape_set_out(g, n, 0, ert_node_input(g, n, 0)->dtype, &out, err);
}

static ert_status range_run(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    double d[3];
    int64_t iv[3], count;
    ert_status st = range_plan(g, n, d, iv, &count, err);
    if (st != ERT_OK)
        return st;
    void *y = ert_node_output(g, n, 0)->data;
    switch (ert_node_input(g, n, 0)->dtype) {
    case ERT_DT_F32:
        for (int64_t i = 0; i < count; i++)
            ((float *)y)[i] = (float)(d[0] + (double)i * d[2]);
        break;
    case ERT_DT_F64:
        for (int64_t i = 0; i < count; i++)
            ((double *)y)[i] = d[0] + (double)i * d[2];
        break;
    case ERT_DT_I32:
        for (int64_t i = 0; i < count; i++)
            ((int32_t *)y)[i] = (int32_t)(iv[0] + i * iv[2]); /* stays within [start, limit) */
        break;
    default:
        for (int64_t i = 0; i < count; i++)
            ((int64_t *)y)[i] = (int64_t)((uint64_t)iv[0] + (uint64_t)i * (uint64_t)iv[2]);
        break;
    }
    return ERT_OK;
}

/* Default-domain ops; Identity lives with the elementwise kernels. */
const ert_op_def ert_ops_shape[] = {
    ERT_OP("Constant", constant_parse, constant_infer, NULL, run_copy, false),
    {.name = "Shape", .parse = shape_parse, .infer = shape_infer, .run = shape_run, .shape_only = true},
    {.name = "Size", .infer = size_infer, .run = size_run, .shape_only = true},
    ERT_OP("Reshape", reshape_parse, reshape_infer, NULL, run_copy, false),
    ERT_OP("Flatten", flatten_parse, flatten_infer, NULL, run_copy, false),
    ERT_OP("Squeeze", axes_parse, squeeze_infer, NULL, run_copy, false),
    ERT_OP("Unsqueeze", axes_parse, unsqueeze_infer, NULL, run_copy, false),
    ERT_OP("ConstantOfShape", cos_parse, cos_infer, NULL, cos_run, false),
    ERT_OP("Range", NULL, range_infer, NULL, range_run, false),
    ERT_OP("Transpose", ert_shape_parse_transpose, ert_shape_infer_transpose, NULL, ert_shape_run_transpose, false),
    ERT_OP("Concat", ert_shape_parse_concat, ert_shape_infer_concat, NULL, ert_shape_run_concat, false),
    ERT_OP("Split", ert_shape_parse_split, ert_shape_infer_split, NULL, ert_shape_run_split, false),
    ERT_OP("Slice", ert_shape_parse_slice, ert_shape_infer_slice, NULL, ert_shape_run_slice, false),
    ERT_OP("Gather", ert_shape_parse_gather, ert_shape_infer_gather, NULL, ert_shape_run_gather, false),
    ERT_OP("GatherElements", ert_shape_parse_gather_elements, ert_shape_infer_gather_elements, NULL,
     ert_shape_run_gather_elements, false),
    ERT_OP("Tile", NULL, ert_shape_infer_tile, NULL, ert_shape_run_tile, false),
    ERT_OP("DepthToSpace", ert_shape_parse_depth_to_space, ert_shape_infer_depth_to_space, NULL,
     ert_shape_run_depth_to_space, false),
    ERT_OP("SpaceToDepth", ert_shape_parse_space_to_depth, ert_shape_infer_space_to_depth, NULL,
     ert_shape_run_space_to_depth, false),
    ERT_OP("Pad", ert_shape_parse_pad, ert_shape_infer_pad, NULL, ert_shape_run_pad, false),
    ERT_OP("Resize", ert_shape_parse_resize, ert_shape_infer_resize, ert_shape_scratch_resize, ert_shape_run_resize, false),
    ERT_OP("Upsample", ert_shape_parse_upsample, ert_shape_infer_resize, ert_shape_scratch_resize, ert_shape_run_resize,
     false),
    ERT_OP_END,
};
