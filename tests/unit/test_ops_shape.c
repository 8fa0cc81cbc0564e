/* Unit tests: ops_shape. Shape and data-movement kernels on hand-computed values, opset
 * variants, the PyTorch flatten idiom, and rejection of bad or hostile graphs. */
#include "op_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define I64(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((const float[]){__VA_ARGS__})

static ert_graph *new_graph(void)
{
    ert_graph *g = ert_graph_new("t");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    return g;
}

/* A non-constant tensor (an activation) with a known shape. */
static uint32_t act(ert_graph *g, const char *name, ert_dtype dt, int rank, const int64_t *dims)
{
    ert_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++)
        s.dims[i] = dims[i];
    uint32_t id = ERT_NO_TENSOR;
    ert_error err;
    if (ert_graph_add_tensor(g, name, dt, &s, NULL, false, &id, &err) != ERT_OK)
        CU_FAIL_FATAL("act");
    return id;
}

static uint32_t const_i32(ert_graph *g, const char *name, const int32_t *data, int rank, const int64_t *dims)
{
    return tu_const(g, name, ERT_DT_I32, data, rank, dims);
}

/* Runs op and asserts success, printing the error otherwise. */
static void run_ok(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                   uint32_t n_out, ert_attr *attrs, size_t n_attrs, int opset)
{
    ert_error err = {0};
    ert_status st = tu_run(g, op, in, n_in, out, n_out, attrs, n_attrs, opset, &err);
    if (st != ERT_OK)
        fprintf(stderr, "  %s: %s\n", op, err.msg);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
}

/* Asserts a failure whose message names the node and contains what. */
static void expect_error(ert_status st, const ert_error *err, const char *node, const char *what)
{
    char want[96];
    snprintf(want, sizeof want, "node '%s'", node);
    CU_ASSERT_NOT_EQUAL(st, ERT_OK);
    bool ok = strstr(err->msg, want) && (!what || strstr(err->msg, what));
    if (!ok)
        fprintf(stderr, "  unexpected error text: '%s' (want %s, %s)\n", err->msg, want, what ? what : "");
    CU_ASSERT(ok);
}

static void run_fails(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, uint32_t n_out,
                      ert_attr *attrs, size_t n_attrs, int opset, const char *what)
{
    uint32_t out[4];
    for (uint32_t i = 0; i < n_out; i++)
        out[i] = tu_out(g, "y");
    ert_error err = {0};
    ert_status st = tu_run(g, op, in, n_in, out, n_out, attrs, n_attrs, opset, &err);
    expect_error(st, &err, op, what);
}

/* Adds and parses a node, then runs only infer (for inputs without data). */
static ert_status infer_only(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, ert_attr *attrs,
                             size_t n_attrs, int opset, ert_error *err)
{
    uint32_t out = tu_out(g, "y"), node;
    ert_status st = ert_graph_add_node(g, op, op, in, n_in, &out, 1, &node, err);
    ert_attrs a = {attrs, n_attrs};
    if (st == ERT_OK)
        st = ert_node_parse(g, node, &a, opset, err);
    if (st == ERT_OK)
        st = g->nodes[node].def->infer(g, &g->nodes[node], err);
    return st;
}

static void iota_f32(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)i;
}

static void iota_i64(int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (int64_t)i;
}

/* ---- Constant, Shape, Size ---- */

static void test_constant_value_tensor_is_copied(void)
{
    ert_graph *g = new_graph();
    uint32_t v = tu_f32(g, "v", F32(1.5f, -2.0f, 3.25f), 1, I64(3)), y = tu_out(g, "y");
    ert_attr a = {.name = "value", .type = ERT_ATTR_TENSOR, .t = v};
    run_ok(g, "Constant", NULL, 0, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, 1, I64(3), F32(1.5f, -2.0f, 3.25f), 0.0f);
    ert_graph_free(g);
}

static void test_constant_value_ints_and_value_float_forms(void)
{
    ert_graph *g = new_graph();
    uint32_t y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    ert_attr a1 = tu_attr_ints("value_ints", I64(4, -1, 7), 3);
    run_ok(g, "Constant", NULL, 0, &y1, 1, &a1, 1, 13);
    tu_expect_i64(g, y1, 1, I64(3), I64(4, -1, 7));
    ert_attr a2 = tu_attr_float("value_float", 0.5f);
    run_ok(g, "Constant", NULL, 0, &y2, 1, &a2, 1, 13);
    tu_expect_f32(g, y2, 0, NULL, F32(0.5f), 0.0f);
    ert_graph_free(g);
}

static void test_constant_sparse_value_is_unsupported(void)
{
    ert_graph *g = new_graph();
    ert_attr a = tu_attr_string("value_string", "hello");
    run_fails(g, "Constant", NULL, 0, 1, &a, 1, 13, "not supported");
    ert_graph_free(g);
}

static void test_shape_returns_dims_and_start_end_slice(void)
{
    ert_graph *g = new_graph();
    float x[60] = {0};
    uint32_t in = tu_f32(g, "x", x, 3, I64(3, 4, 5)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    run_ok(g, "Shape", &in, 1, &y1, 1, NULL, 0, 13);
    tu_expect_i64(g, y1, 1, I64(3), I64(3, 4, 5));
    ert_attr a[2] = {tu_attr_int("start", 1), tu_attr_int("end", -1)};
    run_ok(g, "Shape", &in, 1, &y2, 1, a, 2, 15);
    tu_expect_i64(g, y2, 1, I64(1), I64(4));
    ert_graph_free(g);
}

static void test_size_counts_elements_as_int64_scalar(void)
{
    ert_graph *g = new_graph();
    int64_t x[6] = {0};
    uint32_t in = tu_i64(g, "x", x, 2, I64(2, 3)), y = tu_out(g, "y");
    run_ok(g, "Size", &in, 1, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 0, NULL, I64(6));
    ert_graph_free(g);
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze ---- */

static void test_reshape_copies_zero_and_infers_minus_one(void)
{
    ert_graph *g = new_graph();
    float x[24];
    iota_f32(x, 24);
    uint32_t in[2] = {tu_f32(g, "x", x, 3, I64(2, 3, 4)), tu_i64(g, "s", I64(0, -1, 2), 1, I64(3))};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Reshape", in, 2, &y, 1, NULL, 0, 14);
    tu_expect_f32(g, y, 3, I64(2, 6, 2), x, 0.0f);
    ert_graph_free(g);
}

static void test_reshape_int64_data_and_allowzero(void)
{
    ert_graph *g = new_graph();
    int64_t x[6] = {1, 2, 3, 4, 5, 6};
    uint32_t in[2] = {tu_i64(g, "x", x, 2, I64(2, 3)), tu_i64(g, "s", I64(3, -1), 1, I64(2))};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Reshape", in, 2, &y, 1, NULL, 0, 14);
    tu_expect_i64(g, y, 2, I64(3, 2), x);
    /* allowzero keeps a literal 0 as a zero-size dim. */
    uint32_t in2[2] = {tu_f32(g, "e", F32(0), 3, I64(0, 3, 4)), tu_i64(g, "s2", I64(3, 4, 0), 1, I64(3))};
    uint32_t y2 = tu_out(g, "y2");
    ert_attr a = tu_attr_int("allowzero", 1);
    run_ok(g, "Reshape", in2, 2, &y2, 1, &a, 1, 14);
    tu_expect_f32(g, y2, 3, I64(3, 4, 0), NULL, 0.0f);
    ert_graph_free(g);
}

static void test_reshape_rejects_two_minus_ones_and_size_mismatch(void)
{
    ert_graph *g = new_graph();
    float x[24] = {0};
    uint32_t in[2] = {tu_f32(g, "x", x, 3, I64(2, 3, 4)), tu_i64(g, "s", I64(-1, 2, -1), 1, I64(3))};
    run_fails(g, "Reshape", in, 2, 1, NULL, 0, 14, "-1 more than once");
    in[1] = tu_i64(g, "s2", I64(5, 5), 1, I64(2));
    run_fails(g, "Reshape", in, 2, 1, NULL, 0, 14, "size mismatch");
    in[1] = tu_i64(g, "s3", I64(7, -1), 1, I64(2));
    run_fails(g, "Reshape", in, 2, 1, NULL, 0, 14, "size mismatch");
    ert_graph_free(g);
}

static void test_reshape_rejects_non_constant_shape(void)
{
    ert_graph *g = new_graph();
    float x[6] = {0};
    uint32_t in[2] = {tu_f32(g, "x", x, 2, I64(2, 3)), act(g, "s", ERT_DT_I64, 1, I64(2))};
    ert_error err = {0};
    ert_status st = infer_only(g, "Reshape", in, 2, NULL, 0, 14, &err);
    expect_error(st, &err, "Reshape", "must be a constant (embedrt needs static shapes)");
    ert_graph_free(g);
}

static void test_flatten_positive_and_negative_axis(void)
{
    ert_graph *g = new_graph();
    float x[120];
    iota_f32(x, 120);
    uint32_t in = tu_f32(g, "x", x, 4, I64(2, 3, 4, 5)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2"),
             y3 = tu_out(g, "y3");
    ert_attr a = tu_attr_int("axis", -1);
    run_ok(g, "Flatten", &in, 1, &y1, 1, &a, 1, 13);
    tu_expect_f32(g, y1, 2, I64(24, 5), x, 0.0f);
    a = tu_attr_int("axis", 0);
    run_ok(g, "Flatten", &in, 1, &y2, 1, &a, 1, 13);
    tu_expect_f32(g, y2, 2, I64(1, 120), x, 0.0f);
    run_ok(g, "Flatten", &in, 1, &y3, 1, NULL, 0, 13);
    tu_expect_f32(g, y3, 2, I64(2, 60), x, 0.0f);
    ert_graph_free(g);
}

static void test_squeeze_axes_attribute_opset11_and_input_opset13(void)
{
    ert_graph *g = new_graph();
    float x[6] = {1, 2, 3, 4, 5, 6};
    uint32_t in = tu_f32(g, "x", x, 4, I64(1, 2, 1, 3)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    ert_attr a = tu_attr_ints("axes", I64(-2), 1);
    run_ok(g, "Squeeze", &in, 1, &y1, 1, &a, 1, 11);
    tu_expect_f32(g, y1, 3, I64(1, 2, 3), x, 0.0f);
    uint32_t in2[2] = {in, tu_i64(g, "axes", I64(0, 2), 1, I64(2))};
    run_ok(g, "Squeeze", in2, 2, &y2, 1, NULL, 0, 13);
    tu_expect_f32(g, y2, 2, I64(2, 3), x, 0.0f);
    /* The attribute form is not accepted from opset 13 on. */
    a = tu_attr_ints("axes", I64(-2), 1);
    run_fails(g, "Squeeze", &in, 1, 1, &a, 1, 13, "unsupported attribute 'axes'");
    ert_graph_free(g);
}

static void test_squeeze_without_axes_removes_all_ones(void)
{
    ert_graph *g = new_graph();
    int64_t x[3] = {7, 8, 9};
    uint32_t in = tu_i64(g, "x", x, 4, I64(1, 3, 1, 1)), y = tu_out(g, "y");
    run_ok(g, "Squeeze", &in, 1, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 1, I64(3), x);
    ert_attr a = tu_attr_ints("axes", I64(1), 1);
    run_fails(g, "Squeeze", &in, 1, 1, &a, 1, 11, "cannot squeeze axis 1");
    ert_graph_free(g);
}

static void test_unsqueeze_negative_unsorted_axes_both_opsets(void)
{
    ert_graph *g = new_graph();
    float x[12];
    iota_f32(x, 12);
    uint32_t in[2] = {tu_f32(g, "x", x, 2, I64(3, 4)), tu_i64(g, "axes", I64(-1, 0), 1, I64(2))};
    uint32_t y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    run_ok(g, "Unsqueeze", in, 2, &y1, 1, NULL, 0, 13);
    tu_expect_f32(g, y1, 4, I64(1, 3, 4, 1), x, 0.0f);
    ert_attr a = tu_attr_ints("axes", I64(3, 1), 2);
    run_ok(g, "Unsqueeze", in, 1, &y2, 1, &a, 1, 11);
    tu_expect_f32(g, y2, 4, I64(3, 1, 4, 1), x, 0.0f);
    ert_graph_free(g);
}

/* ---- Transpose ---- */

/* Reference transpose by unravelling every output index. */
static void naive_transpose(const float *x, float *y, int rank, const int64_t *dims, const int *perm)
{
    int64_t od[ERT_MAX_RANK], is[ERT_MAX_RANK], n = 1;
    for (int i = rank - 1; i >= 0; i--) {
        is[i] = i == rank - 1 ? 1 : is[i + 1] * dims[i + 1];
        od[i] = dims[perm[i]];
        n *= dims[i];
    }
    for (int64_t o = 0; o < n; o++) {
        int64_t rem = o, src = 0;
        for (int i = rank - 1; i >= 0; i--) {
            src += (rem % od[i]) * is[perm[i]];
            rem /= od[i];
        }
        y[o] = x[src];
    }
}

static void check_transpose(int rank, const int64_t *dims, const int *perm)
{
    ert_graph *g = new_graph();
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 7919) % 1000) - 500.0f;
    int64_t p64[ERT_MAX_RANK], od[ERT_MAX_RANK];
    for (int i = 0; i < rank; i++)
        p64[i] = perm[i], od[i] = dims[perm[i]];
    naive_transpose(x, want, rank, dims, perm);
    uint32_t in = tu_f32(g, "x", x, rank, dims), y = tu_out(g, "y");
    ert_attr a = tu_attr_ints("perm", p64, (size_t)rank);
    run_ok(g, "Transpose", &in, 1, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, rank, od, want, 0.0f);
    free(x);
    free(want);
    ert_graph_free(g);
}

static void test_transpose_default_reverses_axes_int64(void)
{
    ert_graph *g = new_graph();
    int64_t x[24];
    iota_i64(x, 24);
    uint32_t in = tu_i64(g, "x", x, 3, I64(2, 3, 4)), y = tu_out(g, "y");
    run_ok(g, "Transpose", &in, 1, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 3, I64(4, 3, 2),
                  I64(0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23));
    ert_graph_free(g);
}

static void test_transpose_all_3d_perms_match_naive(void)
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int i = 0; i < 6; i++)
        check_transpose(3, I64(2, 3, 4), perms[i]);
}

static void test_transpose_nchw_nhwc_and_tiled_2d_match_naive(void)
{
    check_transpose(4, I64(2, 3, 5, 7), (const int[]){0, 2, 3, 1});
    check_transpose(4, I64(2, 5, 7, 3), (const int[]){0, 3, 1, 2});
    check_transpose(2, I64(67, 45), (const int[]){1, 0});
    check_transpose(4, I64(3, 1, 40, 33), (const int[]){2, 1, 3, 0});
    check_transpose(6, I64(1, 2, 3, 2, 2, 3), (const int[]){0, 1, 4, 2, 5, 3});
}

static void test_transpose_rejects_bad_perm(void)
{
    ert_graph *g = new_graph();
    float x[6] = {0};
    uint32_t in = tu_f32(g, "x", x, 2, I64(2, 3));
    ert_attr a = tu_attr_ints("perm", I64(0, 0), 2);
    run_fails(g, "Transpose", &in, 1, 1, &a, 1, 13, "permutation");
    a = tu_attr_ints("perm", I64(1, 0, 2), 3);
    run_fails(g, "Transpose", &in, 1, 1, &a, 1, 13, "rank 2");
    ert_graph_free(g);
}

/* ---- Concat, Split ---- */

static void test_concat_negative_axis_float(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "a", F32(1, 2, 3, 4), 2, I64(2, 2)),
                      tu_f32(g, "b", F32(5, 6, 7, 8, 9, 10), 2, I64(2, 3))};
    uint32_t y = tu_out(g, "y");
    ert_attr a = tu_attr_int("axis", -1);
    run_ok(g, "Concat", in, 2, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, 2, I64(2, 5), F32(1, 2, 5, 6, 7, 3, 4, 8, 9, 10), 0.0f);
    ert_graph_free(g);
}

static void test_concat_int64_many_inputs_with_zero_size(void)
{
    ert_graph *g = new_graph();
    uint32_t in[4] = {tu_i64(g, "a", I64(1, 2), 1, I64(2)), tu_i64(g, "b", I64(0), 1, I64(0)),
                      tu_i64(g, "c", I64(3), 1, I64(1)), tu_i64(g, "d", I64(4, 5, 6), 1, I64(3))};
    uint32_t y = tu_out(g, "y");
    ert_attr a = tu_attr_int("axis", 0);
    run_ok(g, "Concat", in, 4, &y, 1, &a, 1, 13);
    tu_expect_i64(g, y, 1, I64(6), I64(1, 2, 3, 4, 5, 6));
    /* Zero-size along the concat axis of a 2-D input, and the legacy empty 1-D one. */
    uint32_t in2[3] = {tu_i64(g, "e", I64(0), 2, I64(2, 0)), tu_i64(g, "f", I64(7, 8), 2, I64(2, 1)),
                       tu_i64(g, "z", I64(0), 1, I64(0))};
    uint32_t y2 = tu_out(g, "y2");
    a = tu_attr_int("axis", 1);
    run_ok(g, "Concat", in2, 3, &y2, 1, &a, 1, 13);
    tu_expect_i64(g, y2, 2, I64(2, 1), I64(7, 8));
    ert_graph_free(g);
}

static void test_concat_rejects_shape_mismatch(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "a", F32(1, 2, 3, 4), 2, I64(2, 2)), tu_f32(g, "b", F32(5, 6, 7), 2, I64(3, 1))};
    ert_attr a = tu_attr_int("axis", 1);
    run_fails(g, "Concat", in, 2, 1, &a, 1, 13, "does not match");
    ert_graph_free(g);
}

static void test_split_attribute_opset11_and_input_opset13(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", F32(1, 2, 3, 4, 5, 6), 1, I64(6));
    uint32_t y[2] = {tu_out(g, "y0"), tu_out(g, "y1")};
    ert_attr a = tu_attr_ints("split", I64(2, 4), 2);
    run_ok(g, "Split", &x, 1, y, 2, &a, 1, 11);
    tu_expect_f32(g, y[0], 1, I64(2), F32(1, 2), 0.0f);
    tu_expect_f32(g, y[1], 1, I64(4), F32(3, 4, 5, 6), 0.0f);
    uint32_t in[2] = {x, tu_i64(g, "split", I64(4, 2), 1, I64(2))};
    uint32_t z[2] = {tu_out(g, "z0"), tu_out(g, "z1")};
    run_ok(g, "Split", in, 2, z, 2, NULL, 0, 13);
    tu_expect_f32(g, z[0], 1, I64(4), F32(1, 2, 3, 4), 0.0f);
    tu_expect_f32(g, z[1], 1, I64(2), F32(5, 6), 0.0f);
    ert_graph_free(g);
}

static void test_split_equal_parts_negative_axis_int64(void)
{
    ert_graph *g = new_graph();
    int64_t x[12];
    iota_i64(x, 12);
    uint32_t in = tu_i64(g, "x", x, 2, I64(2, 6));
    uint32_t y[3] = {tu_out(g, "y0"), tu_out(g, "y1"), tu_out(g, "y2")};
    ert_attr a = tu_attr_int("axis", -1);
    run_ok(g, "Split", &in, 1, y, 3, &a, 1, 13);
    tu_expect_i64(g, y[0], 2, I64(2, 2), I64(0, 1, 6, 7));
    tu_expect_i64(g, y[1], 2, I64(2, 2), I64(2, 3, 8, 9));
    tu_expect_i64(g, y[2], 2, I64(2, 2), I64(4, 5, 10, 11));
    ert_graph_free(g);
}

static void test_split_rejects_sizes_not_matching_axis(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3, 4, 5, 6), 1, I64(6)), tu_i64(g, "s", I64(2, 2), 1, I64(2))};
    run_fails(g, "Split", in, 2, 2, NULL, 0, 13, "sum to 4");
    run_fails(g, "Split", in, 1, 4, NULL, 0, 13, "equal parts");
    ert_graph_free(g);
}

/* ---- Slice ---- */

static void test_slice_opset9_attributes(void)
{
    ert_graph *g = new_graph();
    float x[12];
    iota_f32(x, 12);
    uint32_t in = tu_f32(g, "x", x, 2, I64(3, 4)), y = tu_out(g, "y");
    ert_attr a[3] = {tu_attr_ints("starts", I64(1, 0), 2), tu_attr_ints("ends", I64(3, -1), 2),
                     tu_attr_ints("axes", I64(0, 1), 2)};
    run_ok(g, "Slice", &in, 1, &y, 1, a, 3, 9);
    tu_expect_f32(g, y, 2, I64(2, 3), F32(4, 5, 6, 8, 9, 10), 0.0f);
    ert_graph_free(g);
}

static void test_slice_negative_step_int64_min_end_and_int64_max_end(void)
{
    ert_graph *g = new_graph();
    int64_t x[12];
    iota_i64(x, 12);
    uint32_t in[5] = {tu_i64(g, "x", x, 2, I64(3, 4)), tu_i64(g, "st", I64(-1), 1, I64(1)),
                      tu_i64(g, "en", I64(INT64_MIN), 1, I64(1)), tu_i64(g, "ax", I64(1), 1, I64(1)),
                      tu_i64(g, "sp", I64(-2), 1, I64(1))};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Slice", in, 5, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 2, I64(3, 2), I64(3, 1, 7, 5, 11, 9));
    uint32_t in2[4] = {in[0], tu_i64(g, "st2", I64(1), 1, I64(1)), tu_i64(g, "en2", I64(INT64_MAX), 1, I64(1)),
                       tu_i64(g, "ax2", I64(0), 1, I64(1))};
    uint32_t y2 = tu_out(g, "y2");
    run_ok(g, "Slice", in2, 4, &y2, 1, NULL, 0, 10);
    tu_expect_i64(g, y2, 2, I64(2, 4), x + 4);
    ert_graph_free(g);
}

static void test_slice_negative_axis_with_step_float(void)
{
    ert_graph *g = new_graph();
    float x[10];
    iota_f32(x, 10);
    uint32_t in[5] = {tu_f32(g, "x", x, 2, I64(2, 5)), tu_i64(g, "st", I64(0), 1, I64(1)),
                      tu_i64(g, "en", I64(5), 1, I64(1)), tu_i64(g, "ax", I64(-1), 1, I64(1)),
                      tu_i64(g, "sp", I64(2), 1, I64(1))};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Slice", in, 5, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 2, I64(2, 3), F32(0, 2, 4, 5, 7, 9), 0.0f);
    ert_graph_free(g);
}

static void test_slice_rejects_zero_step_and_non_constant_starts(void)
{
    ert_graph *g = new_graph();
    float x[4] = {0};
    uint32_t in[5] = {tu_f32(g, "x", x, 1, I64(4)), tu_i64(g, "st", I64(0), 1, I64(1)),
                      tu_i64(g, "en", I64(4), 1, I64(1)), tu_i64(g, "ax", I64(0), 1, I64(1)),
                      tu_i64(g, "sp", I64(0), 1, I64(1))};
    run_fails(g, "Slice", in, 5, 1, NULL, 0, 13, "step for axis 0 is 0");
    in[1] = act(g, "dyn", ERT_DT_I64, 1, I64(1));
    ert_error err = {0};
    ert_status st = infer_only(g, "Slice", in, 3, NULL, 0, 13, &err);
    expect_error(st, &err, "Slice", "must be a constant");
    ert_graph_free(g);
}

/* ---- Gather, GatherElements ---- */

static void test_gather_axis1_negative_indices_float(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3, 4, 5, 6), 2, I64(2, 3)),
                      tu_i64(g, "i", I64(-1, 0, 1, -1), 2, I64(2, 2))};
    uint32_t y = tu_out(g, "y");
    ert_attr a = tu_attr_int("axis", -1);
    run_ok(g, "Gather", in, 2, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, 3, I64(2, 2, 2), F32(3, 1, 2, 3, 6, 4, 5, 6), 0.0f);
    ert_graph_free(g);
}

static void test_gather_int32_scalar_index_drops_axis(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_i64(g, "x", I64(10, 11, 20, 21, 30, 31), 2, I64(3, 2)),
                      const_i32(g, "i", (const int32_t[]){2}, 0, NULL)};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Gather", in, 2, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 1, I64(2), I64(30, 31));
    ert_graph_free(g);
}

static void test_gather_out_of_range_index_fails_at_run(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3), 1, I64(3)), tu_i64(g, "i", I64(0, 3), 1, I64(2))};
    run_fails(g, "Gather", in, 2, 1, NULL, 0, 13, "index 3 at position 1 is out of range");
    in[1] = tu_i64(g, "i2", I64(-4), 1, I64(1));
    run_fails(g, "GatherElements", in, 2, 1, NULL, 0, 13, "out of range");
    ert_graph_free(g);
}

static void test_gather_elements_both_axes_negative_index(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3, 4, 5, 6, 7, 8, 9), 2, I64(3, 3)),
                      tu_i64(g, "i", I64(-1, -2, 0, -2, 0, 0), 2, I64(2, 3))};
    uint32_t y = tu_out(g, "y"), y2 = tu_out(g, "y2");
    run_ok(g, "GatherElements", in, 2, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 2, I64(2, 3), F32(7, 5, 3, 4, 2, 3), 0.0f);
    uint32_t in2[2] = {tu_i64(g, "x2", I64(1, 2, 3, 4), 2, I64(2, 2)),
                       tu_i64(g, "i2", I64(0, 0, 1, 0), 2, I64(2, 2))};
    ert_attr a = tu_attr_int("axis", 1);
    run_ok(g, "GatherElements", in2, 2, &y2, 1, &a, 1, 13);
    tu_expect_i64(g, y2, 2, I64(2, 2), I64(1, 1, 4, 3));
    ert_graph_free(g);
}

/* ---- ConstantOfShape, Range, Tile ---- */

static void test_constant_of_shape_default_and_int64_value(void)
{
    ert_graph *g = new_graph();
    uint32_t s = tu_i64(g, "s", I64(2, 3), 1, I64(2)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    run_ok(g, "ConstantOfShape", &s, 1, &y1, 1, NULL, 0, 9);
    tu_expect_f32(g, y1, 2, I64(2, 3), F32(0, 0, 0, 0, 0, 0), 0.0f);
    ert_attr a = {.name = "value", .type = ERT_ATTR_TENSOR, .t = tu_i64(g, "v", I64(7), 1, I64(1))};
    run_ok(g, "ConstantOfShape", &s, 1, &y2, 1, &a, 1, 9);
    tu_expect_i64(g, y2, 2, I64(2, 3), I64(7, 7, 7, 7, 7, 7));
    ert_graph_free(g);
}

static void test_range_int64_float_and_int32(void)
{
    ert_graph *g = new_graph();
    uint32_t in[3] = {tu_i64(g, "a", I64(10), 0, NULL), tu_i64(g, "b", I64(4), 0, NULL),
                      tu_i64(g, "c", I64(-3), 0, NULL)};
    uint32_t y = tu_out(g, "y"), y2 = tu_out(g, "y2"), y3 = tu_out(g, "y3");
    run_ok(g, "Range", in, 3, &y, 1, NULL, 0, 11);
    tu_expect_i64(g, y, 1, I64(2), I64(10, 7));
    uint32_t fin[3] = {tu_f32(g, "fa", F32(1.0f), 0, NULL), tu_f32(g, "fb", F32(2.0f), 0, NULL),
                       tu_f32(g, "fc", F32(0.25f), 0, NULL)};
    run_ok(g, "Range", fin, 3, &y2, 1, NULL, 0, 11);
    tu_expect_f32(g, y2, 1, I64(4), F32(1.0f, 1.25f, 1.5f, 1.75f), 0.0f);
    uint32_t iin[3] = {const_i32(g, "ia", (const int32_t[]){0}, 0, NULL),
                       const_i32(g, "ib", (const int32_t[]){5}, 0, NULL),
                       const_i32(g, "ic", (const int32_t[]){2}, 0, NULL)};
    run_ok(g, "Range", iin, 3, &y3, 1, NULL, 0, 11);
    const ert_tensor *t = &g->tensors[y3];
    CU_ASSERT_EQUAL(t->dtype, ERT_DT_I32);
    CU_ASSERT_EQUAL_FATAL(t->shape.dims[0], 3);
    CU_ASSERT(((int32_t *)t->data)[0] == 0 && ((int32_t *)t->data)[1] == 2 && ((int32_t *)t->data)[2] == 4);
    ert_graph_free(g);
}

static void test_range_rejects_zero_delta(void)
{
    ert_graph *g = new_graph();
    uint32_t in[3] = {tu_i64(g, "a", I64(0), 0, NULL), tu_i64(g, "b", I64(4), 0, NULL),
                      tu_i64(g, "c", I64(0), 0, NULL)};
    run_fails(g, "Range", in, 3, 1, NULL, 0, 11, "delta");
    ert_graph_free(g);
}

static void test_tile_repeats_each_axis_float_and_uint8(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3, 4), 2, I64(2, 2)), tu_i64(g, "r", I64(2, 3), 1, I64(2))};
    uint32_t y = tu_out(g, "y"), y2 = tu_out(g, "y2");
    run_ok(g, "Tile", in, 2, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 2, I64(4, 6),
                  F32(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4), 0.0f);
    uint32_t in2[2] = {tu_const(g, "u", ERT_DT_U8, (const uint8_t[]){5, 6}, 3, I64(1, 2, 1)),
                       tu_i64(g, "r2", I64(2, 1, 2), 1, I64(3))};
    run_ok(g, "Tile", in2, 2, &y2, 1, NULL, 0, 13);
    const ert_tensor *t = &g->tensors[y2];
    CU_ASSERT_EQUAL_FATAL(t->shape.rank, 3);
    CU_ASSERT(t->shape.dims[0] == 2 && t->shape.dims[1] == 2 && t->shape.dims[2] == 2);
    CU_ASSERT_EQUAL(memcmp(t->data, (const uint8_t[]){5, 5, 6, 6, 5, 5, 6, 6}, 8), 0);
    ert_graph_free(g);
}

/* ---- Pad ---- */

static void test_pad_opset2_attributes_constant_value(void)
{
    ert_graph *g = new_graph();
    uint32_t in = tu_f32(g, "x", F32(1, 2, 3, 4), 2, I64(2, 2)), y = tu_out(g, "y");
    ert_attr a[2] = {tu_attr_ints("pads", I64(1, 0, 0, 1), 4), tu_attr_float("value", 9.0f)};
    run_ok(g, "Pad", &in, 1, &y, 1, a, 2, 2);
    tu_expect_f32(g, y, 2, I64(3, 3), F32(9, 9, 9, 1, 2, 9, 3, 4, 9), 0.0f);
    ert_graph_free(g);
}

static void test_pad_opset11_reflect_edge_and_wide_reflect(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3), 2, I64(1, 3)), tu_i64(g, "p", I64(0, 2, 0, 1), 1, I64(4))};
    uint32_t y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2"), y3 = tu_out(g, "y3");
    ert_attr a = tu_attr_string("mode", "reflect");
    run_ok(g, "Pad", in, 2, &y1, 1, &a, 1, 11);
    tu_expect_f32(g, y1, 2, I64(1, 6), F32(3, 2, 1, 2, 3, 2), 0.0f);
    a = tu_attr_string("mode", "edge");
    run_ok(g, "Pad", in, 2, &y2, 1, &a, 1, 13);
    tu_expect_f32(g, y2, 2, I64(1, 6), F32(1, 1, 1, 2, 3, 3), 0.0f);
    /* Pads wider than the axis reflect back and forth, as numpy does. */
    uint32_t in3[2] = {in[0], tu_i64(g, "p3", I64(0, 5, 0, 0), 1, I64(4))};
    a = tu_attr_string("mode", "reflect");
    run_ok(g, "Pad", in3, 2, &y3, 1, &a, 1, 13);
    tu_expect_f32(g, y3, 2, I64(1, 8), F32(2, 1, 2, 3, 2, 1, 2, 3), 0.0f);
    ert_graph_free(g);
}

static void test_pad_negative_pads_crop_and_outer_axis_fill(void)
{
    ert_graph *g = new_graph();
    float x[8];
    iota_f32(x, 8);
    uint32_t in[2] = {tu_f32(g, "x", x, 2, I64(2, 4)), tu_i64(g, "p", I64(1, -1, 0, 1), 1, I64(4))};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Pad", in, 2, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 2, I64(3, 4), F32(0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7, 0), 0.0f);
    ert_graph_free(g);
}

static void test_pad_reflect_after_crop_reflects_the_cropped_axis(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3, 4), 1, I64(4)), tu_i64(g, "p", I64(-2, 3), 1, I64(2))};
    uint32_t y = tu_out(g, "y");
    ert_attr a = tu_attr_string("mode", "reflect");
    run_ok(g, "Pad", in, 2, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, 1, I64(5), F32(3, 4, 3, 4, 3), 0.0f);
    ert_graph_free(g);
}

static void test_pad_int64_constant_value_input(void)
{
    ert_graph *g = new_graph();
    uint32_t in[3] = {tu_i64(g, "x", I64(1, 2), 1, I64(2)), tu_i64(g, "p", I64(1, 2), 1, I64(2)),
                      tu_i64(g, "v", I64(-5), 0, NULL)};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Pad", in, 3, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 1, I64(5), I64(-5, 1, 2, -5, -5));
    ert_graph_free(g);
}

/* ---- Resize, Upsample ---- */

static const float up2x2_nearest[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};

static void test_resize_opset10_nearest_scales_is_asymmetric_floor(void)
{
    ert_graph *g = new_graph();
    uint32_t in[2] = {tu_f32(g, "x", F32(1, 2, 3, 4), 4, I64(1, 1, 2, 2)),
                      tu_f32(g, "s", F32(1, 1, 2, 2), 1, I64(4))};
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Resize", in, 2, &y, 1, NULL, 0, 10);
    tu_expect_f32(g, y, 4, I64(1, 1, 4, 4), up2x2_nearest, 0.0f);
    ert_graph_free(g);
}

static void test_resize_linear_half_pixel_upsample(void)
{
    ert_graph *g = new_graph();
    uint32_t in[3] = {tu_f32(g, "x", F32(1, 2, 3, 4), 4, I64(1, 1, 2, 2)), ERT_NO_TENSOR,
                      tu_f32(g, "s", F32(1, 1, 2, 2), 1, I64(4))};
    uint32_t y = tu_out(g, "y");
    ert_attr a = tu_attr_string("mode", "linear");
    run_ok(g, "Resize", in, 3, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, 4, I64(1, 1, 4, 4),
                  F32(1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4),
                  1e-6f);
    ert_graph_free(g);
}

static void test_resize_linear_align_corners_sizes_opset11(void)
{
    ert_graph *g = new_graph();
    /* Opset 11 passes an empty roi and scales next to sizes. */
    uint32_t in[4] = {tu_f32(g, "x", F32(1, 2, 3, 4), 4, I64(1, 1, 2, 2)), tu_f32(g, "roi", F32(0), 1, I64(0)),
                      tu_f32(g, "s", F32(0), 1, I64(0)), tu_i64(g, "sz", I64(1, 1, 3, 3), 1, I64(4))};
    uint32_t y = tu_out(g, "y");
    ert_attr a[2] = {tu_attr_string("mode", "linear"), tu_attr_string("coordinate_transformation_mode", "align_corners")};
    run_ok(g, "Resize", in, 4, &y, 1, a, 2, 11);
    tu_expect_f32(g, y, 4, I64(1, 1, 3, 3), F32(1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4), 1e-6f);
    ert_graph_free(g);
}

static void test_resize_pytorch_half_pixel_differs_at_size_one(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", F32(1, 2, 3, 4), 2, I64(1, 4));
    uint32_t in[4] = {x, ERT_NO_TENSOR, ERT_NO_TENSOR, tu_i64(g, "sz", I64(1, 2), 1, I64(2))};
    uint32_t y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2"), y3 = tu_out(g, "y3");
    ert_attr a[2] = {tu_attr_string("mode", "linear"),
                     tu_attr_string("coordinate_transformation_mode", "pytorch_half_pixel")};
    run_ok(g, "Resize", in, 4, &y1, 1, a, 2, 13);
    tu_expect_f32(g, y1, 2, I64(1, 2), F32(1.5f, 3.5f), 1e-6f);
    in[3] = tu_i64(g, "sz1", I64(1, 1), 1, I64(2));
    run_ok(g, "Resize", in, 4, &y2, 1, a, 2, 13);
    tu_expect_f32(g, y2, 2, I64(1, 1), F32(1), 1e-6f);
    a[1] = tu_attr_string("coordinate_transformation_mode", "half_pixel");
    run_ok(g, "Resize", in, 4, &y3, 1, a, 2, 13);
    tu_expect_f32(g, y3, 2, I64(1, 1), F32(2.5f), 1e-6f);
    ert_graph_free(g);
}

static void test_resize_nearest_int64_rounding_modes(void)
{
    ert_graph *g = new_graph();
    uint32_t in[4] = {tu_i64(g, "x", I64(10, 20, 30), 2, I64(1, 3)), ERT_NO_TENSOR, ERT_NO_TENSOR,
                      tu_i64(g, "sz", I64(1, 5), 1, I64(2))};
    uint32_t y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    ert_attr a[2] = {tu_attr_string("coordinate_transformation_mode", "asymmetric"),
                     tu_attr_string("nearest_mode", "round_prefer_ceil")};
    run_ok(g, "Resize", in, 4, &y1, 1, a, 2, 13);
    tu_expect_i64(g, y1, 2, I64(1, 5), I64(10, 20, 20, 30, 30));
    a[1] = tu_attr_string("nearest_mode", "floor");
    run_ok(g, "Resize", in, 4, &y2, 1, a, 2, 13);
    tu_expect_i64(g, y2, 2, I64(1, 5), I64(10, 10, 20, 20, 30));
    ert_graph_free(g);
}

static void test_resize_cubic_scale_one_is_identity(void)
{
    ert_graph *g = new_graph();
    float x[12];
    iota_f32(x, 12);
    uint32_t in[3] = {tu_f32(g, "x", x, 4, I64(1, 1, 3, 4)), ERT_NO_TENSOR,
                      tu_f32(g, "s", F32(1, 1, 1, 1), 1, I64(4))};
    uint32_t y = tu_out(g, "y");
    ert_attr a = tu_attr_string("mode", "cubic");
    run_ok(g, "Resize", in, 3, &y, 1, &a, 1, 13);
    tu_expect_f32(g, y, 4, I64(1, 1, 3, 4), x, 1e-6f);
    ert_graph_free(g);
}

static void test_resize_rejects_bad_inputs_and_antialias(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", F32(1, 2, 3, 4), 4, I64(1, 1, 2, 2));
    uint32_t both[4] = {x, ERT_NO_TENSOR, tu_f32(g, "s", F32(1, 1, 2, 2), 1, I64(4)),
                        tu_i64(g, "sz", I64(1, 1, 4, 4), 1, I64(4))};
    run_fails(g, "Resize", both, 4, 1, NULL, 0, 13, "exactly one of 'scales' and 'sizes'");
    ert_attr a = tu_attr_int("antialias", 1);
    run_fails(g, "Resize", both, 3, 1, &a, 1, 18, "antialias not supported");
    ert_attr m = tu_attr_string("mode", "linear");
    uint32_t ints[3] = {tu_i64(g, "xi", I64(1, 2), 4, I64(1, 1, 1, 2)), ERT_NO_TENSOR, both[2]};
    run_fails(g, "Resize", ints, 3, 1, &m, 1, 13, "dtype int64 not supported");
    uint32_t dyn[3] = {x, ERT_NO_TENSOR, act(g, "ds", ERT_DT_F32, 1, I64(4))};
    ert_error err = {0};
    ert_status st = infer_only(g, "Resize", dyn, 3, NULL, 0, 13, &err);
    expect_error(st, &err, "Resize", "must be a constant");
    ert_graph_free(g);
}

static void test_upsample_opset7_attribute_and_opset9_input(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", F32(1, 2, 3, 4), 4, I64(1, 1, 2, 2)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    ert_attr a = tu_attr_floats("scales", F32(1, 1, 2, 2), 4);
    run_ok(g, "Upsample", &x, 1, &y1, 1, &a, 1, 7);
    tu_expect_f32(g, y1, 4, I64(1, 1, 4, 4), up2x2_nearest, 0.0f);
    uint32_t in[2] = {x, tu_f32(g, "s", F32(1, 1, 1, 3), 1, I64(4))};
    run_ok(g, "Upsample", in, 2, &y2, 1, NULL, 0, 9);
    tu_expect_f32(g, y2, 4, I64(1, 1, 2, 6), F32(1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4), 0.0f);
    ert_graph_free(g);
}

/* ---- DepthToSpace, SpaceToDepth ---- */

static void test_depth_to_space_dcr_and_crd(void)
{
    ert_graph *g = new_graph();
    float x[8];
    iota_f32(x, 8);
    uint32_t in = tu_f32(g, "x", x, 4, I64(1, 8, 1, 1)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    ert_attr a[2] = {tu_attr_int("blocksize", 2), tu_attr_string("mode", "DCR")};
    run_ok(g, "DepthToSpace", &in, 1, &y1, 1, a, 2, 13);
    tu_expect_f32(g, y1, 4, I64(1, 2, 2, 2), F32(0, 2, 4, 6, 1, 3, 5, 7), 0.0f);
    a[1] = tu_attr_string("mode", "CRD");
    run_ok(g, "DepthToSpace", &in, 1, &y2, 1, a, 2, 13);
    tu_expect_f32(g, y2, 4, I64(1, 2, 2, 2), x, 0.0f);
    ert_graph_free(g);
}

static void test_space_to_depth_inverts_depth_to_space_dcr(void)
{
    ert_graph *g = new_graph();
    float x[96];
    iota_f32(x, 96);
    uint32_t in = tu_f32(g, "x", x, 4, I64(2, 2, 4, 6)), mid = tu_out(g, "mid"), back = tu_out(g, "back");
    ert_attr a = tu_attr_int("blocksize", 2);
    run_ok(g, "SpaceToDepth", &in, 1, &mid, 1, &a, 1, 13);
    const ert_tensor *m = &g->tensors[mid];
    CU_ASSERT(m->shape.dims[1] == 8 && m->shape.dims[2] == 2 && m->shape.dims[3] == 3);
    /* out[n, (i*b + j)*C + c, h, w] = in[n, c, h*b + i, w*b + j]: channel 5 is i=1, j=0, c=1. */
    CU_ASSERT_EQUAL(((const float *)m->data)[5 * 6 + 1 * 3 + 2], x[1 * 24 + (1 * 2 + 1) * 6 + 2 * 2 + 0]);
    run_ok(g, "DepthToSpace", &mid, 1, &back, 1, &a, 1, 13);
    tu_expect_f32(g, back, 4, I64(2, 2, 4, 6), x, 0.0f);
    ert_graph_free(g);
}

/* ---- The PyTorch x.view(x.size(0), -1) export, one node at a time ---- */

static void test_pytorch_flatten_idiom_node_by_node(void)
{
    ert_graph *g = new_graph();
    float x[24];
    iota_f32(x, 24);
    uint32_t xi = tu_f32(g, "x", x, 3, I64(2, 3, 4));
    uint32_t shape = tu_out(g, "shape"), dim0 = tu_out(g, "dim0"), dim0v = tu_out(g, "dim0v"),
             target = tu_out(g, "target"), y = tu_out(g, "y");
    run_ok(g, "Shape", &xi, 1, &shape, 1, NULL, 0, 13);
    uint32_t gin[2] = {shape, tu_i64(g, "zero", I64(0), 0, NULL)};
    ert_attr ax = tu_attr_int("axis", 0);
    run_ok(g, "Gather", gin, 2, &dim0, 1, &ax, 1, 13);
    tu_expect_i64(g, dim0, 0, NULL, I64(2));
    uint32_t uin[2] = {dim0, tu_i64(g, "axes", I64(0), 1, I64(1))};
    run_ok(g, "Unsqueeze", uin, 2, &dim0v, 1, NULL, 0, 13);
    uint32_t cin[2] = {dim0v, tu_i64(g, "minus1", I64(-1), 1, I64(1))};
    run_ok(g, "Concat", cin, 2, &target, 1, &ax, 1, 13);
    tu_expect_i64(g, target, 1, I64(2), I64(2, -1));
    uint32_t rin[2] = {xi, target};
    run_ok(g, "Reshape", rin, 2, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 2, I64(2, 12), x, 0.0f);
    ert_graph_free(g);
}

/* ---- Hostile params (as from a corrupt blob): infer fails naming the node ---- */

static void expect_infer_rejects(ert_graph *g, const char *name, const char *op, const uint32_t *in, uint32_t n_in,
                                 const int64_t *ints, uint32_t n_ints)
{
    uint32_t out = tu_out(g, "y"), node;
    ert_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, name, op, in, n_in, &out, 1, &node, &err), ERT_OK);
    ert_node *n = &g->nodes[node];
    CU_ASSERT_EQUAL_FATAL(ert_node_set_params(n, ints, n_ints, NULL, 0, &err), ERT_OK);
    expect_error(n->def->infer(g, n, &err), &err, name, NULL);
}

static void test_hostile_params_fail_naming_the_node(void)
{
    ert_graph *g = new_graph();
    float xv[6] = {0};
    uint32_t x = tu_f32(g, "x", xv, 2, I64(2, 3));
    uint32_t xs[2] = {x, tu_i64(g, "s", I64(3, 2), 1, I64(2))};
    expect_infer_rejects(g, "t1", "Transpose", &x, 1, I64(0, 0), 2);
    expect_infer_rejects(g, "t2", "Transpose", &x, 1, I64(0, 1, 2, 3, 4, 5, 6, 7, 8), 9);
    expect_infer_rejects(g, "f1", "Flatten", &x, 1, I64(INT64_MAX), 1);
    expect_infer_rejects(g, "c1", "Concat", &x, 1, NULL, 0);
    expect_infer_rejects(g, "c2", "Concat", &x, 1, I64(INT64_MIN), 1);
    expect_infer_rejects(g, "r1", "Reshape", xs, 2, NULL, 0);
    expect_infer_rejects(g, "r2", "Reshape", xs, 2, I64(5), 1);
    expect_infer_rejects(g, "s1", "Slice", &x, 1, I64(1000000000000LL, 0, 1, 0), 4);
    expect_infer_rejects(g, "s2", "Slice", &x, 1, I64(1, 0, 1), 3);
    expect_infer_rejects(g, "sp1", "Split", &x, 1, I64(0), 1);
    expect_infer_rejects(g, "sp2", "Split", &x, 1, I64(0, 0, 1, 1), 4);
    expect_infer_rejects(g, "g1", "Gather", xs, 2, I64(5), 1);
    expect_infer_rejects(g, "p1", "Pad", &x, 1, I64(7, 0, 0, 0, 0), 5);
    expect_infer_rejects(g, "p2", "Pad", &x, 1, I64(0, 0, 0), 3);
    expect_infer_rejects(g, "sh1", "Shape", &x, 1, I64(0), 1);
    expect_infer_rejects(g, "co1", "ConstantOfShape", &xs[1], 1, I64(99, 0), 2);
    expect_infer_rejects(g, "co2", "ConstantOfShape", &xs[1], 1, I64(-1, 0), 2);
    expect_infer_rejects(g, "sq1", "Squeeze", &x, 1, I64(0, 1, 2, 3, 4, 5, 6, 7, 8), 9);
    expect_infer_rejects(g, "u1", "Unsqueeze", &x, 1, I64(100), 1);
    expect_infer_rejects(g, "rs1", "Resize", &x, 1, I64(0, 0, 0), 3);
    uint32_t x4 = tu_f32(g, "x4", F32(0, 0, 0, 0), 4, I64(1, 4, 1, 1));
    expect_infer_rejects(g, "d1", "DepthToSpace", &x4, 1, I64(INT64_MAX, 0), 2);
    expect_infer_rejects(g, "d2", "DepthToSpace", &x4, 1, I64(0, 0), 2);
    expect_infer_rejects(g, "d3", "SpaceToDepth", &x4, 1, I64(2, 0), 2);
    ert_graph_free(g);
}

static void test_huge_values_fail_without_overflow(void)
{
    ert_graph *g = new_graph();
    float xv[6] = {0};
    uint32_t x = tu_f32(g, "x", xv, 2, I64(2, 3));
    uint32_t r[2] = {x, tu_i64(g, "s", I64(INT64_MAX, INT64_MAX), 1, I64(2))};
    run_fails(g, "Reshape", r, 2, 1, NULL, 0, 14, "overflows");
    uint32_t t[2] = {x, tu_i64(g, "rep", I64(INT64_MAX, 2), 1, I64(2))};
    run_fails(g, "Tile", t, 2, 1, NULL, 0, 13, "overflows");
    uint32_t c = tu_i64(g, "big", I64(1LL << 40, 1LL << 40, 1LL << 40), 1, I64(3));
    run_fails(g, "ConstantOfShape", &c, 1, 1, NULL, 0, 9, "too large");
    uint32_t p[2] = {x, tu_i64(g, "pads", I64(0, INT64_MAX, 0, INT64_MAX), 1, I64(4))};
    run_fails(g, "Pad", p, 2, 1, NULL, 0, 13, "invalid");
    uint32_t rg[3] = {tu_i64(g, "a", I64(INT64_MIN), 0, NULL), tu_i64(g, "b", I64(INT64_MAX), 0, NULL),
                      tu_i64(g, "c", I64(1), 0, NULL)};
    run_fails(g, "Range", rg, 3, 1, NULL, 0, 11, "too large");
    uint32_t rs[3] = {tu_f32(g, "xr", F32(1), 2, I64(1, 1)), ERT_NO_TENSOR,
                      tu_f32(g, "sc", F32(1e30f, 1e30f), 1, I64(2))};
    run_fails(g, "Resize", rs, 3, 1, NULL, 0, 13, "invalid");
    ert_graph_free(g);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_constant_value_tensor_is_copied),
    ERT_TEST(test_constant_value_ints_and_value_float_forms),
    ERT_TEST(test_constant_sparse_value_is_unsupported),
    ERT_TEST(test_shape_returns_dims_and_start_end_slice),
    ERT_TEST(test_size_counts_elements_as_int64_scalar),
    ERT_TEST(test_reshape_copies_zero_and_infers_minus_one),
    ERT_TEST(test_reshape_int64_data_and_allowzero),
    ERT_TEST(test_reshape_rejects_two_minus_ones_and_size_mismatch),
    ERT_TEST(test_reshape_rejects_non_constant_shape),
    ERT_TEST(test_flatten_positive_and_negative_axis),
    ERT_TEST(test_squeeze_axes_attribute_opset11_and_input_opset13),
    ERT_TEST(test_squeeze_without_axes_removes_all_ones),
    ERT_TEST(test_unsqueeze_negative_unsorted_axes_both_opsets),
    ERT_TEST(test_transpose_default_reverses_axes_int64),
    ERT_TEST(test_transpose_all_3d_perms_match_naive),
    ERT_TEST(test_transpose_nchw_nhwc_and_tiled_2d_match_naive),
    ERT_TEST(test_transpose_rejects_bad_perm),
    ERT_TEST(test_concat_negative_axis_float),
    ERT_TEST(test_concat_int64_many_inputs_with_zero_size),
    ERT_TEST(test_concat_rejects_shape_mismatch),
    ERT_TEST(test_split_attribute_opset11_and_input_opset13),
    ERT_TEST(test_split_equal_parts_negative_axis_int64),
    ERT_TEST(test_split_rejects_sizes_not_matching_axis),
    ERT_TEST(test_slice_opset9_attributes),
    ERT_TEST(test_slice_negative_step_int64_min_end_and_int64_max_end),
    ERT_TEST(test_slice_negative_axis_with_step_float),
    ERT_TEST(test_slice_rejects_zero_step_and_non_constant_starts),
    ERT_TEST(test_gather_axis1_negative_indices_float),
    ERT_TEST(test_gather_int32_scalar_index_drops_axis),
    ERT_TEST(test_gather_out_of_range_index_fails_at_run),
    ERT_TEST(test_gather_elements_both_axes_negative_index),
    ERT_TEST(test_constant_of_shape_default_and_int64_value),
    ERT_TEST(test_range_int64_float_and_int32),
    ERT_TEST(test_range_rejects_zero_delta),
    ERT_TEST(test_tile_repeats_each_axis_float_and_uint8),
    ERT_TEST(test_pad_opset2_attributes_constant_value),
    ERT_TEST(test_pad_opset11_reflect_edge_and_wide_reflect),
    ERT_TEST(test_pad_negative_pads_crop_and_outer_axis_fill),
    ERT_TEST(test_pad_reflect_after_crop_reflects_the_cropped_axis),
    ERT_TEST(test_pad_int64_constant_value_input),
    ERT_TEST(test_resize_opset10_nearest_scales_is_asymmetric_floor),
    ERT_TEST(test_resize_linear_half_pixel_upsample),
    ERT_TEST(test_resize_linear_align_corners_sizes_opset11),
    ERT_TEST(test_resize_pytorch_half_pixel_differs_at_size_one),
    ERT_TEST(test_resize_nearest_int64_rounding_modes),
    ERT_TEST(test_resize_cubic_scale_one_is_identity),
    ERT_TEST(test_resize_rejects_bad_inputs_and_antialias),
    ERT_TEST(test_upsample_opset7_attribute_and_opset9_input),
    ERT_TEST(test_depth_to_space_dcr_and_crd),
    ERT_TEST(test_space_to_depth_inverts_depth_to_space_dcr),
    ERT_TEST(test_pytorch_flatten_idiom_node_by_node),
    ERT_TEST(test_hostile_params_fail_naming_the_node),
    ERT_TEST(test_huge_values_fail_without_overflow),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_ops_shape = {"ops_shape", cases};
