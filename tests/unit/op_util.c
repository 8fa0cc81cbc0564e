/* Op test helpers (see op_util.h). */
#include "op_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

uint32_t tu_const(ert_graph *g, const char *name, ert_dtype dt, const void *data, int rank, const int64_t *dims)
{
    ert_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++)
        s.dims[i] = dims[i];
    uint32_t id = ERT_NO_TENSOR;
    ert_error err;
    if (ert_graph_add_tensor(g, name, dt, &s, (void *)data, true, &id, &err) != ERT_OK) {
        fprintf(stderr, "tu_const: %s\n", err.msg);
        CU_FAIL_FATAL("tu_const");
    }
    return id;
}

uint32_t tu_f32(ert_graph *g, const char *name, const float *data, int rank, const int64_t *dims)
{
    return tu_const(g, name, ERT_DT_F32, data, rank, dims);
}

uint32_t tu_i64(ert_graph *g, const char *name, const int64_t *data, int rank, const int64_t *dims)
{
    return tu_const(g, name, ERT_DT_I64, data, rank, dims);
}

uint32_t tu_out(ert_graph *g, const char *name)
{
    uint32_t id = ERT_NO_TENSOR;
    ert_error err;
    if (ert_graph_add_tensor(g, name, ERT_DT_UNDEFINED, NULL, NULL, false, &id, &err) != ERT_OK)
        CU_FAIL_FATAL("tu_out");
    return id;
}

ert_attr tu_attr_int(const char *name, int64_t v)
{
    return (ert_attr){.name = name, .type = ERT_ATTR_INT, .i = v};
}
ert_attr tu_attr_float(const char *name, float v)
{
    return (ert_attr){.name = name, .type = ERT_ATTR_FLOAT, .f = v};
}
ert_attr tu_attr_string(const char *name, const char *v)
{
    return (ert_attr){.name = name, .type = ERT_ATTR_STRING, .s = v};
}
ert_attr tu_attr_ints(const char *name, const int64_t *v, size_t n)
{
    return (ert_attr){.name = name, .type = ERT_ATTR_INTS, .ints = v, .n = n};
}
ert_attr tu_attr_floats(const char *name, const float *v, size_t n)
{
    return (ert_attr){.name = name, .type = ERT_ATTR_FLOATS, .floats = v, .n = n};
}

ert_status tu_run(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                  uint32_t n_out, ert_attr *attrs, size_t n_attrs, int opset, ert_error *err)
{
    uint32_t node;
    ert_status st = ert_graph_add_node(g, op, op, in, n_in, out, n_out, &node, err);
    if (st != ERT_OK)
        return st;
    ert_attrs a = {attrs, n_attrs};
    st = ert_node_parse(g, node, &a, opset, err);
    if (st != ERT_OK)
        return st;
    return ert_node_eval(g, node, err);
}

static void expect_shape(const ert_tensor *t, int rank, const int64_t *dims)
{
    CU_ASSERT_EQUAL_FATAL(t->shape.rank, rank);
    for (int i = 0; i < rank; i++)
        CU_ASSERT_EQUAL_FATAL(t->shape.dims[i], dims[i]);
}

void tu_expect_f32(const ert_graph *g, uint32_t id, int rank, const int64_t *dims, const float *want, float tol)
{
    const ert_tensor *t = &g->tensors[id];
    CU_ASSERT_EQUAL_FATAL(t->dtype, ERT_DT_F32);
    expect_shape(t, rank, dims);
    size_t n;
    CU_ASSERT_FATAL(ert_shape_numel(&t->shape, &n));
    const float *got = t->data;
    for (size_t i = 0; i < n; i++) {
        bool ok = (isnan(want[i]) && isnan(got[i])) || fabsf(got[i] - want[i]) <= tol ||
                  (isinf(want[i]) && got[i] == want[i]);
        if (!ok)
            fprintf(stderr, "  %s[%zu]: got %.9g want %.9g\n", t->name, i, got[i], want[i]);
        CU_ASSERT(ok);
    }
}

void tu_expect_i64(const ert_graph *g, uint32_t id, int rank, const int64_t *dims, const int64_t *want)
{
    const ert_tensor *t = &g->tensors[id];
    CU_ASSERT_EQUAL_FATAL(t->dtype, ERT_DT_I64);
    expect_shape(t, rank, dims);
    size_t n;
    CU_ASSERT_FATAL(ert_shape_numel(&t->shape, &n));
    const int64_t *got = t->data;
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], want[i]);
}
