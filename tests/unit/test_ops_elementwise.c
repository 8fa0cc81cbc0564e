/* Unit tests: ops_elementwise -- unary, Clip, Cast, Dropout, broadcasting binary ops,
 * Where/Expand, reductions, Softmax and ArgMax, including hostile nodes and params. */
#include "op_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define FV(...) ((const float[]){__VA_ARGS__})
#define IV(...) ((const int64_t[]){__VA_ARGS__})
#define NARG(a) (sizeof(a) / sizeof((a)[0]))

static ert_graph *new_graph(void)
{
    ert_graph *g = ert_graph_new("t");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    return g;
}

/* Runs op (node named after it) and requires success. */
static void run_ok(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                   uint32_t n_out, ert_attr *attrs, size_t n_attrs, int opset)
{
    ert_error err = {0};
    ert_status st = tu_run(g, op, in, n_in, out, n_out, attrs, n_attrs, opset, &err);
    if (st != ERT_OK)
        fprintf(stderr, "  %s: %s\n", op, err.msg);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
}

/* Requires a failure whose message names the node and contains needle. */
static void expect_fail(ert_status st, const ert_error *err, const char *node, const char *needle)
{
    char want[96];
    snprintf(want, sizeof want, "node '%s'", node);
    CU_ASSERT_NOT_EQUAL(st, ERT_OK);
    bool ok = strstr(err->msg, want) && strstr(err->msg, needle);
    if (!ok)
        fprintf(stderr, "  message '%s' lacks '%s' or '%s'\n", err->msg, want, needle);
    CU_ASSERT(ok);
}

static void run_fail(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                     uint32_t n_out, ert_attr *attrs, size_t n_attrs, int opset, const char *needle)
{
    ert_error err = {0};
    ert_status st = tu_run(g, op, in, n_in, out, n_out, attrs, n_attrs, opset, &err);
    expect_fail(st, &err, op, needle);
}

/* A node whose params are set directly (as a hostile blob could), then evaluated. */
static void raw_fail(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                     uint32_t n_out, const int64_t *ints, uint32_t n_ints, const float *floats, uint32_t n_floats,
                     const char *needle)
{
    ert_error err = {0};
    uint32_t node;
    ert_status st = ert_graph_add_node(g, "hostile", op, in, n_in, out, n_out, &node, &err);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    st = ert_node_set_params(&g->nodes[node], ints, n_ints, floats, n_floats, &err);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    st = ert_node_eval(g, node, &err);
    expect_fail(st, &err, "hostile", needle);
}

static void expect_bool(const ert_graph *g, uint32_t id, int rank, const int64_t *dims, const uint8_t *want)
{
    const ert_tensor *t = &g->tensors[id];
    CU_ASSERT_EQUAL_FATAL(t->dtype, ERT_DT_BOOL);
    CU_ASSERT_EQUAL_FATAL(t->shape.rank, rank);
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        CU_ASSERT_EQUAL_FATAL(t->shape.dims[i], dims[i]);
        n *= (size_t)dims[i];
    }
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(((const uint8_t *)t->data)[i], want[i]);
}

static uint32_t unary_f32(ert_graph *g, const char *op, const float *x, int64_t n, ert_attr *attrs, size_t n_attrs)
{
    uint32_t in = tu_f32(g, "x", x, 1, &n), out = tu_out(g, "y");
    run_ok(g, op, &in, 1, &out, 1, attrs, n_attrs, 17);
    return out;
}

/* Deterministic test data in [-4, 4) with a few exact zeros. */
static void fill(float *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 16) % 64) / 8.0f - 4.0f;
    }
}

/* ======================= unary ======================= */

static void test_unary_activations_match_reference_values(void)
{
    static const float x[] = {-2.0f, -0.5f, 0.0f, 0.5f, 2.0f};
    /* expected values: numpy float64 of the ONNX formulas, rounded to float */
    static const struct {
        const char *op;
        float want[5];
    } cases[] = {
        {"Relu", {0, 0, 0, 0.5f, 2}},
        {"Sigmoid", {0.11920292f, 0.37754067f, 0.5f, 0.62245933f, 0.88079708f}},
        {"Tanh", {-0.96402758f, -0.46211716f, 0, 0.46211716f, 0.96402758f}},
        {"Softplus", {0.12692801f, 0.47407698f, 0.69314718f, 0.97407698f, 2.126928f}},
        {"Exp", {0.13533528f, 0.60653066f, 1, 1.6487213f, 7.3890561f}},
        {"Erf", {-0.99532227f, -0.52049988f, 0, 0.52049988f, 0.99532227f}},
        {"HardSigmoid", {0.1f, 0.4f, 0.5f, 0.6f, 0.9f}},
        {"HardSwish", {-0.33333331f, -0.20833333f, 0, 0.29166666f, 1.6666667f}},
        {"Selu", {-1.5201665f, -0.69175819f, 0, 0.52535051f, 2.101402f}},
        {"Softsign", {-0.66666669f, -0.33333334f, 0, 0.33333334f, 0.66666669f}},
        {"Abs", {2, 0.5f, 0, 0.5f, 2}},
        {"Neg", {2, 0.5f, 0, -0.5f, -2}},
        {"Sign", {-1, -1, 0, 1, 1}},
    };
    for (size_t i = 0; i < NARG(cases); i++) {
        ert_graph *g = new_graph();
        uint32_t y = unary_f32(g, cases[i].op, x, 5, NULL, 0);
        tu_expect_f32(g, y, 1, DIMS(5), cases[i].want, 1e-6f);
        ert_graph_free(g);
    }
}

static void test_unary_alpha_attributes_are_used(void)
{
    static const float x[] = {-2.0f, -0.5f, 0.0f, 0.5f, 2.0f};
    ert_graph *g = new_graph();
    ert_attr a = tu_attr_float("alpha", 0.1f);
    uint32_t y = unary_f32(g, "LeakyRelu", x, 5, &a, 1);
    tu_expect_f32(g, y, 1, DIMS(5), FV(-0.2f, -0.05f, 0, 0.5f, 2), 1e-7f);
    ert_graph_free(g);

    g = new_graph();
    a = tu_attr_float("alpha", 2.0f);
    y = unary_f32(g, "Elu", x, 5, &a, 1);
    tu_expect_f32(g, y, 1, DIMS(5), FV(-1.7293294f, -0.78693868f, 0, 0.5f, 2), 1e-6f);
    ert_graph_free(g);

    g = new_graph(); /* LeakyRelu default alpha is 0.01 */
    y = unary_f32(g, "LeakyRelu", x, 5, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(5), FV(-0.02f, -0.005f, 0, 0.5f, 2), 1e-7f);
    ert_graph_free(g);
}

static void test_unary_math_and_rounding(void)
{
    ert_graph *g = new_graph();
    static const float pos[] = {0.25f, 1.0f, 4.0f};
    uint32_t y = unary_f32(g, "Log", pos, 3, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(3), FV(-1.3862944f, 0, 1.3862944f), 1e-6f);
    y = unary_f32(g, "Sqrt", pos, 3, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(3), FV(0.5f, 1, 2), 0);
    y = unary_f32(g, "Reciprocal", pos, 3, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(3), FV(4, 1, 0.25f), 0);
    static const float r[] = {-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.7f};
    y = unary_f32(g, "Round", r, 6, NULL, 0); /* half to even */
    tu_expect_f32(g, y, 1, DIMS(6), FV(-2, -0.0f, 0, 2, 2, 3), 0);
    y = unary_f32(g, "Floor", r, 6, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(6), FV(-2, -1, 0, 1, 2, 2), 0);
    y = unary_f32(g, "Ceil", r, 6, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(6), FV(-1, 0, 1, 2, 3, 3), 0);
    ert_graph_free(g);
}

static void test_unary_relu_propagates_nan(void)
{
    ert_graph *g = new_graph();
    float x[2] = {NAN, -1.0f};
    uint32_t y = unary_f32(g, "Relu", x, 2, NULL, 0);
    tu_expect_f32(g, y, 1, DIMS(2), FV(NAN, 0), 0);
    ert_graph_free(g);
}

static void test_unary_int64_abs_neg_wrap_at_min(void)
{
    ert_graph *g = new_graph();
    static const int64_t x[] = {INT64_MIN, -5, 0, 7};
    uint32_t in = tu_i64(g, "x", x, 1, DIMS(4)), ya = tu_out(g, "ya"), yn = tu_out(g, "yn"), yr = tu_out(g, "yr");
    run_ok(g, "Abs", &in, 1, &ya, 1, NULL, 0, 13);
    run_ok(g, "Neg", &in, 1, &yn, 1, NULL, 0, 13);
    run_ok(g, "Relu", &in, 1, &yr, 1, NULL, 0, 14);
    /* -INT64_MIN is not representable: it wraps (numpy does the same) instead of being UB */
    tu_expect_i64(g, ya, 1, DIMS(4), IV(INT64_MIN, 5, 0, 7));
    tu_expect_i64(g, yn, 1, DIMS(4), IV(INT64_MIN, 5, 0, -7));
    tu_expect_i64(g, yr, 1, DIMS(4), IV(0, 0, 0, 7));
    ert_graph_free(g);
}

static void test_unary_int32_abs(void)
{
    ert_graph *g = new_graph();
    static const int32_t x[] = {-3, 4, INT32_MIN};
    uint32_t in = tu_const(g, "x", ERT_DT_I32, x, 1, DIMS(3)), y = tu_out(g, "y");
    run_ok(g, "Abs", &in, 1, &y, 1, NULL, 0, 13);
    const int32_t *got = g->tensors[y].data;
    CU_ASSERT_EQUAL(g->tensors[y].dtype, ERT_DT_I32);
    CU_ASSERT(got[0] == 3 && got[1] == 4 && got[2] == INT32_MIN);
    ert_graph_free(g);
}

static void test_not_inverts_bool(void)
{
    ert_graph *g = new_graph();
    static const uint8_t x[] = {0, 1, 1, 0};
    uint32_t in = tu_const(g, "x", ERT_DT_BOOL, x, 2, DIMS(2, 2)), y = tu_out(g, "y");
    run_ok(g, "Not", &in, 1, &y, 1, NULL, 0, 1);
    expect_bool(g, y, 2, DIMS(2, 2), (const uint8_t[]){1, 0, 0, 1});
    ert_graph_free(g);
}

static void test_unary_rejects_bad_nodes(void)
{
    ert_graph *g = new_graph();
    static const float x[] = {1, 2};
    static const int64_t xi[] = {1, 2};
    uint32_t a = tu_f32(g, "a", x, 1, DIMS(2)), b = tu_f32(g, "b", x, 1, DIMS(2)), ai = tu_i64(g, "ai", xi, 1, DIMS(2));
    uint32_t y = tu_out(g, "y"), ins[2] = {a, b};
    run_fail(g, "Sigmoid", ins, 2, &y, 1, NULL, 0, 13, "expects 1 input");
    run_fail(g, "Sigmoid", &ai, 1, &y, 1, NULL, 0, 13, "dtype int64 not supported");
    ert_attr bad = tu_attr_int("alpha", 3);
    run_fail(g, "LeakyRelu", &a, 1, &y, 1, &bad, 1, 16, "attribute 'alpha' must be a float");
    ert_attr extra = tu_attr_float("beta", 1.0f);
    run_fail(g, "Relu", &a, 1, &y, 1, &extra, 1, 14, "unsupported attribute 'beta'");
    /* LeakyRelu carries one float param; a blob with none must not be read past */
    raw_fail(g, "LeakyRelu", &a, 1, &y, 1, NULL, 0, NULL, 0, "float params");
    raw_fail(g, "Relu", &a, 1, &y, 1, IV(1), 1, NULL, 0, "int");
    /* kernels never run in place: an output aliasing an input is refused */
    run_fail(g, "Relu", &a, 1, &a, 1, NULL, 0, 14, "output 0 is also input 0");
    run_fail(g, "Dropout", &a, 1, (uint32_t[]){y, y}, 2, NULL, 0, 13, "outputs 0 and 1 are the same tensor");
    ert_graph_free(g);
}

/* ======================= Clip ======================= */

static void test_clip_opset6_uses_min_max_attributes(void)
{
    ert_graph *g = new_graph();
    uint32_t in = tu_f32(g, "x", FV(-3, -0.5f, 0.2f, 4), 1, DIMS(4)), y = tu_out(g, "y");
    ert_attr attrs[2] = {tu_attr_float("min", -0.5f), tu_attr_float("max", 0.5f)};
    run_ok(g, "Clip", &in, 1, &y, 1, attrs, 2, 6);
    tu_expect_f32(g, y, 1, DIMS(4), FV(-0.5f, -0.5f, 0.2f, 0.5f), 0);
    ert_graph_free(g);
}

static void test_clip_opset11_reads_min_max_inputs(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(-3, -0.5f, 0.2f, 4), 1, DIMS(4));
    uint32_t mn = tu_f32(g, "min", FV(-1), 0, NULL), mx = tu_f32(g, "max", FV(1), 0, NULL);
    uint32_t y = tu_out(g, "y"), in[3] = {x, mn, mx};
    run_ok(g, "Clip", in, 3, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 1, DIMS(4), FV(-1, -0.5f, 0.2f, 1), 0);

    /* min omitted: only the maximum applies */
    uint32_t y2 = tu_out(g, "y2"), in2[3] = {x, ERT_NO_TENSOR, mx};
    run_ok(g, "Clip", in2, 3, &y2, 1, NULL, 0, 13);
    tu_expect_f32(g, y2, 1, DIMS(4), FV(-3, -0.5f, 0.2f, 1), 0);

    /* no bounds: a copy */
    uint32_t y3 = tu_out(g, "y3");
    run_ok(g, "Clip", &x, 1, &y3, 1, NULL, 0, 12);
    tu_expect_f32(g, y3, 1, DIMS(4), FV(-3, -0.5f, 0.2f, 4), 0);
    ert_graph_free(g);
}

static void test_clip_min_above_max_gives_max(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(-3, 0, 4), 1, DIMS(3));
    uint32_t mn = tu_f32(g, "min", FV(2), 1, DIMS(1)), mx = tu_f32(g, "max", FV(1), 0, NULL);
    uint32_t y = tu_out(g, "y"), in[3] = {x, mn, mx};
    run_ok(g, "Clip", in, 3, &y, 1, NULL, 0, 13); /* numpy.clip: min(max(x, lo), hi) */
    tu_expect_f32(g, y, 1, DIMS(3), FV(1, 1, 1), 0);
    ert_graph_free(g);
}

static void test_clip_runtime_min_input_is_read_at_run_time(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(-3, 0, 4), 1, DIMS(3));
    uint32_t mn = tu_f32(g, "min", FV(-1), 0, NULL);
    g->tensors[mn].is_const = false; /* an activation: infer must not need its value */
    uint32_t y = tu_out(g, "y"), in[2] = {x, mn};
    run_ok(g, "Clip", in, 2, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 1, DIMS(3), FV(-1, 0, 4), 0);
    free(g->tensors[mn].data);
    g->tensors[mn].data = NULL;
    ert_graph_free(g);
}

static void test_clip_int64_bounds(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_i64(g, "x", IV(-9, 3, 12), 1, DIMS(3)), mn = tu_i64(g, "min", IV(0), 0, NULL);
    uint32_t mx = tu_i64(g, "max", IV(10), 0, NULL), y = tu_out(g, "y"), in[3] = {x, mn, mx};
    run_ok(g, "Clip", in, 3, &y, 1, NULL, 0, 13);
    tu_expect_i64(g, y, 1, DIMS(3), IV(0, 3, 10));
    ert_graph_free(g);
}

static void test_clip_rejects_bad_bounds(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(1, 2), 1, DIMS(2)), two = tu_f32(g, "two", FV(0, 1), 1, DIMS(2));
    uint32_t i = tu_i64(g, "i", IV(0), 0, NULL), y = tu_out(g, "y");
    run_fail(g, "Clip", (uint32_t[]){x, two}, 2, &y, 1, NULL, 0, 13, "input 'min' must be a scalar");
    run_fail(g, "Clip", (uint32_t[]){x, ERT_NO_TENSOR, i}, 3, &y, 1, NULL, 0, 13, "input 'max' is int64");
    run_fail(g, "Clip", (uint32_t[]){x, i, i, i}, 4, &y, 1, NULL, 0, 13, "expects 1 to 3 inputs");
    /* legacy params with bound inputs as well */
    raw_fail(g, "Clip", (uint32_t[]){x, i}, 2, &y, 1, NULL, 0, FV(0, 1), 2, "expects 1 input");
    raw_fail(g, "Clip", &x, 1, &y, 1, NULL, 0, FV(0), 1, "float params");
    ert_graph_free(g);
}

/* ======================= Cast ======================= */

static void test_cast_float_to_int_truncates_and_saturates(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(2.7f, -2.7f, 1e10f, -1e10f, NAN, INFINITY), 1, DIMS(6));
    uint32_t y32 = tu_out(g, "y32"), y64 = tu_out(g, "y64"), y8 = tu_out(g, "y8"), yu8 = tu_out(g, "yu8");
    ert_attr to = tu_attr_int("to", ERT_DT_I32);
    run_ok(g, "Cast", &x, 1, &y32, 1, &to, 1, 13);
    to = tu_attr_int("to", ERT_DT_I64);
    run_ok(g, "Cast", &x, 1, &y64, 1, &to, 1, 13);
    to = tu_attr_int("to", ERT_DT_I8);
    run_ok(g, "Cast", &x, 1, &y8, 1, &to, 1, 13);
    to = tu_attr_int("to", ERT_DT_U8);
    run_ok(g, "Cast", &x, 1, &yu8, 1, &to, 1, 13);
    /* out of range saturates and NaN gives 0: defined here, undefined in ONNX and C */
    const int32_t *a = g->tensors[y32].data;
    CU_ASSERT(a[0] == 2 && a[1] == -2 && a[2] == INT32_MAX && a[3] == INT32_MIN && a[4] == 0 && a[5] == INT32_MAX);
    tu_expect_i64(g, y64, 1, DIMS(6), IV(2, -2, 10000000000, -10000000000, 0, INT64_MAX));
    const int8_t *b = g->tensors[y8].data;
    CU_ASSERT(b[0] == 2 && b[1] == -2 && b[2] == 127 && b[3] == -128 && b[4] == 0 && b[5] == 127);
    const uint8_t *c = g->tensors[yu8].data;
    CU_ASSERT(c[0] == 2 && c[1] == 0 && c[2] == 255 && c[3] == 0 && c[4] == 0 && c[5] == 255);
    ert_graph_free(g);
}

static void test_cast_integer_narrowing_wraps(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_i64(g, "x", IV(300, -129, 4294967297LL), 1, DIMS(3)), y8 = tu_out(g, "y8"), y32 = tu_out(g, "y32");
    ert_attr to = tu_attr_int("to", ERT_DT_I8);
    run_ok(g, "Cast", &x, 1, &y8, 1, &to, 1, 13);
    to = tu_attr_int("to", ERT_DT_I32);
    run_ok(g, "Cast", &x, 1, &y32, 1, &to, 1, 13);
    const int8_t *a = g->tensors[y8].data; /* numpy astype: modulo 2^8 */
    CU_ASSERT(a[0] == 44 && a[1] == 127 && a[2] == 1);
    const int32_t *b = g->tensors[y32].data;
    CU_ASSERT(b[0] == 300 && b[1] == -129 && b[2] == 1);
    ert_graph_free(g);
}

static void test_cast_uint8_bool_float_roundtrip(void)
{
    ert_graph *g = new_graph();
    static const uint8_t px[] = {0, 1, 128, 255};
    uint32_t x = tu_const(g, "x", ERT_DT_U8, px, 1, DIMS(4)), yf = tu_out(g, "yf"), yb = tu_out(g, "yb");
    uint32_t yi = tu_out(g, "yi"), yd = tu_out(g, "yd");
    ert_attr to = tu_attr_int("to", ERT_DT_F32);
    run_ok(g, "Cast", &x, 1, &yf, 1, &to, 1, 13);
    tu_expect_f32(g, yf, 1, DIMS(4), FV(0, 1, 128, 255), 0);
    to = tu_attr_int("to", ERT_DT_BOOL);
    run_ok(g, "Cast", &yf, 1, &yb, 1, &to, 1, 13);
    expect_bool(g, yb, 1, DIMS(4), (const uint8_t[]){0, 1, 1, 1});
    to = tu_attr_int("to", ERT_DT_I64);
    run_ok(g, "Cast", &yb, 1, &yi, 1, &to, 1, 13);
    tu_expect_i64(g, yi, 1, DIMS(4), IV(0, 1, 1, 1));
    to = tu_attr_int("to", ERT_DT_F64);
    run_ok(g, "Cast", &yi, 1, &yd, 1, &to, 1, 13);
    const double *d = g->tensors[yd].data;
    CU_ASSERT(g->tensors[yd].dtype == ERT_DT_F64 && d[0] == 0.0 && d[3] == 1.0);
    ert_graph_free(g);
}

static void test_cast_rejects_unsupported_types(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(1), 1, DIMS(1)), y = tu_out(g, "y");
    ert_attr to = tu_attr_int("to", 10);
    run_fail(g, "Cast", &x, 1, &y, 1, &to, 1, 13, "dtype float16 not supported");
    run_fail(g, "Cast", &x, 1, &y, 1, NULL, 0, 13, "attribute 'to' is required");
    raw_fail(g, "Cast", &x, 1, &y, 1, IV(99999), 1, NULL, 0, "dtype 99999 not supported");
    raw_fail(g, "Cast", &x, 1, &y, 1, NULL, 0, NULL, 0, "int and 0 float params");
    ert_graph_free(g);
}

/* ======================= Identity, Dropout ======================= */

static void test_identity_copies_any_dtype(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_i64(g, "x", IV(1, -2, 3), 1, DIMS(3)), y = tu_out(g, "y");
    run_ok(g, "Identity", &x, 1, &y, 1, NULL, 0, 16);
    tu_expect_i64(g, y, 1, DIMS(3), IV(1, -2, 3));
    ert_graph_free(g);
}

static void test_dropout_inference_passes_input_with_true_mask(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(1, 2, 3, 4), 2, DIMS(2, 2)), ratio = tu_f32(g, "r", FV(0.3f), 0, NULL);
    uint8_t f = 0;
    uint32_t mode = tu_const(g, "t", ERT_DT_BOOL, &f, 0, NULL);
    uint32_t y = tu_out(g, "y"), m = tu_out(g, "m"), in[3] = {x, ratio, mode}, out[2] = {y, m};
    ert_attr seed = tu_attr_int("seed", 42);
    run_ok(g, "Dropout", in, 3, out, 2, &seed, 1, 13);
    tu_expect_f32(g, y, 2, DIMS(2, 2), FV(1, 2, 3, 4), 0);
    expect_bool(g, m, 2, DIMS(2, 2), (const uint8_t[]){1, 1, 1, 1});
    ert_graph_free(g);
}

static void test_dropout_opset7_mask_has_input_dtype(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(5, 6), 1, DIMS(2)), y = tu_out(g, "y"), m = tu_out(g, "m"), out[2] = {y, m};
    ert_attr ratio = tu_attr_float("ratio", 0.2f);
    run_ok(g, "Dropout", &x, 1, out, 2, &ratio, 1, 7);
    tu_expect_f32(g, y, 1, DIMS(2), FV(5, 6), 0);
    tu_expect_f32(g, m, 1, DIMS(2), FV(1, 1), 0);
    ert_graph_free(g);
}

static void test_dropout_rejects_training_mode(void)
{
    ert_graph *g = new_graph();
    uint8_t t = 1;
    uint32_t x = tu_f32(g, "x", FV(1), 1, DIMS(1)), mode = tu_const(g, "t", ERT_DT_BOOL, &t, 0, NULL);
    uint32_t y = tu_out(g, "y");
    run_fail(g, "Dropout", (uint32_t[]){x, ERT_NO_TENSOR, mode}, 3, &y, 1, NULL, 0, 13, "training_mode is true");
    uint8_t f = 0;
    uint32_t dyn = tu_const(g, "dyn", ERT_DT_BOOL, &f, 0, NULL);
    g->tensors[dyn].is_const = false; /* an activation: its value is unknown at conversion */
    run_fail(g, "Dropout", (uint32_t[]){x, ERT_NO_TENSOR, dyn}, 3, &y, 1, NULL, 0, 13,
             "input 'training_mode' must be a constant");
    free(g->tensors[dyn].data);
    g->tensors[dyn].data = NULL;
    ert_graph_free(g);
}

/* ======================= binary ======================= */

/* Reference broadcasting with plain index arithmetic. */
static size_t ref_index(const ert_shape *s, const ert_shape *out, size_t flat)
{
    int64_t coord[ERT_MAX_RANK];
    for (int d = out->rank - 1; d >= 0; d--) {
        coord[d] = (int64_t)(flat % (size_t)out->dims[d]);
        flat /= (size_t)out->dims[d];
    }
    size_t idx = 0, stride = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        int64_t c = s->dims[d] == 1 ? 0 : coord[d + out->rank - s->rank];
        idx += (size_t)c * stride;
        stride *= (size_t)s->dims[d];
    }
    return idx;
}

static void test_binary_broadcast_patterns_match_reference(void)
{
    static const struct {
        int ra, rb, ro;
        int64_t a[4], b[4], o[4];
    } cases[] = {
        {3, 3, 3, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}},          /* same shape: flat loop */
        {3, 0, 3, {2, 3, 4}, {0}, {2, 3, 4}},                /* scalar right */
        {0, 3, 3, {0}, {2, 3, 4}, {2, 3, 4}},                /* scalar left */
        {4, 4, 4, {2, 3, 4, 5}, {1, 3, 1, 1}, {2, 3, 4, 5}}, /* per-channel */
        {4, 3, 4, {2, 3, 4, 5}, {3, 1, 1}, {2, 3, 4, 5}},    /* per-channel, lower rank */
        {3, 2, 3, {4, 1, 5}, {3, 1}, {4, 3, 5}},             /* general, both sides grow */
        {4, 4, 4, {1, 4, 1, 6}, {3, 1, 5, 6}, {3, 4, 5, 6}},
        {2, 2, 2, {2, 1}, {1, 3}, {2, 3}},                   /* outer product */
        {1, 3, 3, {5}, {2, 3, 5}, {2, 3, 5}},                /* row vector */
        {4, 4, 4, {2, 3, 4, 5}, {2, 1, 4, 1}, {2, 3, 4, 5}},
        {2, 2, 2, {3, 1}, {3, 1}, {3, 1}},                   /* size-1 inner dims */
    };
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div"};
    for (size_t c = 0; c < NARG(cases); c++) {
        for (size_t k = 0; k < NARG(ops); k++) {
            ert_graph *g = new_graph();
            ert_shape sa = {.rank = cases[c].ra}, sb = {.rank = cases[c].rb}, so = {.rank = cases[c].ro};
            memcpy(sa.dims, cases[c].a, sizeof cases[c].a);
            memcpy(sb.dims, cases[c].b, sizeof cases[c].b);
            memcpy(so.dims, cases[c].o, sizeof cases[c].o);
            size_t na, nb, no;
            ert_shape_numel(&sa, &na);
            ert_shape_numel(&sb, &nb);
            ert_shape_numel(&so, &no);
            float *va = malloc(na * sizeof *va), *vb = malloc(nb * sizeof *vb), *want = malloc(no * sizeof *want);
            fill(va, na, 7u + (unsigned)c);
            fill(vb, nb, 99u + (unsigned)c);
            for (size_t i = 0; i < nb; i++)
                vb[i] = vb[i] == 0.0f ? 0.5f : vb[i]; /* keep Div finite */
            for (size_t i = 0; i < no; i++) {
                float x = va[ref_index(&sa, &so, i)], y = vb[ref_index(&sb, &so, i)];
                want[i] = k == 0 ? x + y : k == 1 ? x - y : k == 2 ? x * y : x / y;
            }
            uint32_t a = tu_f32(g, "a", va, sa.rank, sa.dims), b = tu_f32(g, "b", vb, sb.rank, sb.dims);
            uint32_t y = tu_out(g, "y"), in[2] = {a, b};
            run_ok(g, ops[k], in, 2, &y, 1, NULL, 0, 14);
            tu_expect_f32(g, y, so.rank, so.dims, want, 1e-6f);
            free(va), free(vb), free(want);
            ert_graph_free(g);
        }
    }
}

static void test_add_fuses_relu_activation(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_f32(g, "a", FV(-1, 2, -3, 4), 2, DIMS(2, 2)), b = tu_f32(g, "b", FV(0.5f, -3), 1, DIMS(2));
    uint32_t y = tu_out(g, "y"), in[2] = {a, b}, node;
    ert_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, "add_relu", "Add", in, 2, &y, 1, &node, &err), ERT_OK);
    g->nodes[node].act = ERT_ACT_RELU;
    CU_ASSERT_EQUAL_FATAL(ert_node_eval(g, node, &err), ERT_OK);
    tu_expect_f32(g, y, 2, DIMS(2, 2), FV(0, 0, 0, 1), 0);
    /* clip activation with bounds, per-row application on a broadcast */
    uint32_t y2 = tu_out(g, "y2");
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, "add_clip", "Add", in, 2, &y2, 1, &node, &err), ERT_OK);
    g->nodes[node].act = ERT_ACT_CLIP;
    g->nodes[node].act_alpha = -1.0f;
    g->nodes[node].act_beta = 1.0f;
    CU_ASSERT_EQUAL_FATAL(ert_node_eval(g, node, &err), ERT_OK);
    tu_expect_f32(g, y2, 2, DIMS(2, 2), FV(-0.5f, -1, -1, 1), 0);
    ert_graph_free(g);
}

static void test_fused_activation_rejected_where_it_cannot_apply(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_i64(g, "a", IV(1, 2), 1, DIMS(2)), y = tu_out(g, "y"), in[2] = {a, a}, node;
    ert_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, "int_relu", "Add", in, 2, &y, 1, &node, &err), ERT_OK);
    g->nodes[node].act = ERT_ACT_RELU;
    expect_fail(ert_node_eval(g, node, &err), &err, "int_relu", "float32 only");
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, "bad_act", "Add", in, 2, &y, 1, &node, &err), ERT_OK);
    g->nodes[node].act = (ert_act)77;
    expect_fail(ert_node_eval(g, node, &err), &err, "bad_act", "unknown fused activation");
    ert_graph_free(g);
}

static void test_int64_arithmetic_wraps_and_division_is_defined(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_i64(g, "a", IV(7, -7, 5, INT64_MIN, INT64_MAX), 1, DIMS(5));
    uint32_t b = tu_i64(g, "b", IV(-2, 2, 0, -1, 1), 1, DIMS(5));
    uint32_t in[2] = {a, b}, yd = tu_out(g, "yd"), ya = tu_out(g, "ya"), ym = tu_out(g, "ym"), ys = tu_out(g, "ys");
    run_ok(g, "Div", in, 2, &yd, 1, NULL, 0, 14);
    run_ok(g, "Add", in, 2, &ya, 1, NULL, 0, 14);
    run_ok(g, "Mul", in, 2, &ym, 1, NULL, 0, 14);
    run_ok(g, "Sub", in, 2, &ys, 1, NULL, 0, 14);
    /* truncation toward zero; x / 0 = 0; INT64_MIN / -1 wraps to INT64_MIN */
    tu_expect_i64(g, yd, 1, DIMS(5), IV(-3, -3, 0, INT64_MIN, INT64_MAX));
    tu_expect_i64(g, ya, 1, DIMS(5), IV(5, -5, 5, INT64_MAX, INT64_MIN));
    tu_expect_i64(g, ym, 1, DIMS(5), IV(-14, -14, 0, INT64_MIN, INT64_MAX));
    tu_expect_i64(g, ys, 1, DIMS(5), IV(9, -9, 5, INT64_MIN + 1, INT64_MAX - 1));
    ert_graph_free(g);
}

static void test_int32_add_scalar_broadcast(void)
{
    ert_graph *g = new_graph();
    static const int32_t va[] = {1, 2, 3, 4, 5, 6}, vb[] = {10};
    uint32_t a = tu_const(g, "a", ERT_DT_I32, va, 2, DIMS(2, 3)), b = tu_const(g, "b", ERT_DT_I32, vb, 0, NULL);
    uint32_t y = tu_out(g, "y"), in[2] = {b, a};
    run_ok(g, "Sub", in, 2, &y, 1, NULL, 0, 14);
    const int32_t *o = g->tensors[y].data;
    CU_ASSERT_EQUAL(g->tensors[y].dtype, ERT_DT_I32);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(o[i], 10 - va[i]);
    ert_graph_free(g);
}

static void test_pow_float_and_integer_exponents(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(2, 4, 9), 1, DIMS(3)), ef = tu_f32(g, "ef", FV(0.5f), 0, NULL);
    uint32_t ei = tu_i64(g, "ei", IV(3, -1, 2), 1, DIMS(3)), y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2");
    run_ok(g, "Pow", (uint32_t[]){x, ef}, 2, &y1, 1, NULL, 0, 15);
    tu_expect_f32(g, y1, 1, DIMS(3), FV(1.4142135f, 2, 3), 1e-6f);
    run_ok(g, "Pow", (uint32_t[]){x, ei}, 2, &y2, 1, NULL, 0, 15);
    tu_expect_f32(g, y2, 1, DIMS(3), FV(8, 0.25f, 81), 0);
    /* integer base: exact by squaring; negative exponents truncate toward zero */
    uint32_t b = tu_i64(g, "b", IV(3, 2, -1, 0), 1, DIMS(4)), e = tu_i64(g, "e", IV(39, -1, -3, -2), 1, DIMS(4));
    uint32_t y3 = tu_out(g, "y3");
    run_ok(g, "Pow", (uint32_t[]){b, e}, 2, &y3, 1, NULL, 0, 15);
    tu_expect_i64(g, y3, 1, DIMS(4), IV(4052555153018976267LL, 0, -1, 0));
    ert_graph_free(g);
}

static void test_add_legacy_broadcast_axis(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_f32(g, "a", FV(1, 2, 3, 4, 5, 6), 2, DIMS(2, 3)), b = tu_f32(g, "b", FV(10, 20), 1, DIMS(2));
    uint32_t y = tu_out(g, "y"), in[2] = {a, b};
    ert_attr attrs[2] = {tu_attr_int("broadcast", 1), tu_attr_int("axis", 0)};
    run_ok(g, "Add", in, 2, &y, 1, attrs, 2, 6); /* opset 6: b aligned with a's axis 0 */
    tu_expect_f32(g, y, 2, DIMS(2, 3), FV(11, 12, 13, 24, 25, 26), 0);
    /* the same attributes are not ONNX at opset 7+ */
    uint32_t y2 = tu_out(g, "y2");
    ert_attr again[2] = {tu_attr_int("broadcast", 1), tu_attr_int("axis", 0)}; /* fresh 'used' flags */
    run_fail(g, "Add", in, 2, &y2, 1, again, 2, 7, "unsupported attribute 'broadcast'");
    ert_graph_free(g);
}

static void test_prelu_per_channel_slope(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(-1, 2, -3, 4, -5, 6, -7, 8), 4, DIMS(1, 2, 2, 2));
    uint32_t s = tu_f32(g, "s", FV(0.1f, 0.5f), 3, DIMS(2, 1, 1)), y = tu_out(g, "y");
    run_ok(g, "PRelu", (uint32_t[]){x, s}, 2, &y, 1, NULL, 0, 16);
    tu_expect_f32(g, y, 4, DIMS(1, 2, 2, 2), FV(-0.1f, 2, -0.3f, 4, -2.5f, 6, -3.5f, 8), 1e-6f);
    /* opset 6: a 1-D slope applies to axis 1 */
    uint32_t s1 = tu_f32(g, "s1", FV(0.1f, 0.5f), 1, DIMS(2)), y1 = tu_out(g, "y1");
    run_ok(g, "PRelu", (uint32_t[]){x, s1}, 2, &y1, 1, NULL, 0, 6);
    tu_expect_f32(g, y1, 4, DIMS(1, 2, 2, 2), FV(-0.1f, 2, -0.3f, 4, -2.5f, 6, -3.5f, 8), 1e-6f);
    /* the slope must not grow the output */
    uint32_t big = tu_f32(g, "big", FV(1, 2, 3, 4), 2, DIMS(2, 2)), small = tu_f32(g, "small", FV(1, 2), 1, DIMS(2));
    uint32_t y2 = tu_out(g, "y2");
    run_fail(g, "PRelu", (uint32_t[]){small, big}, 2, &y2, 1, NULL, 0, 16, "must broadcast onto the first");
    ert_graph_free(g);
}

static void test_comparisons_and_logic_output_bool(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_f32(g, "a", FV(1, 2, 3, 4, 5, 6), 2, DIMS(2, 3)), b = tu_f32(g, "b", FV(2, 2, 5), 1, DIMS(3));
    uint32_t in[2] = {a, b}, ye = tu_out(g, "ye"), yl = tu_out(g, "yl"), yg = tu_out(g, "yg"), yle = tu_out(g, "yle");
    run_ok(g, "Equal", in, 2, &ye, 1, NULL, 0, 13);
    run_ok(g, "Less", in, 2, &yl, 1, NULL, 0, 13);
    run_ok(g, "Greater", in, 2, &yg, 1, NULL, 0, 13);
    run_ok(g, "LessOrEqual", in, 2, &yle, 1, NULL, 0, 16);
    expect_bool(g, ye, 2, DIMS(2, 3), (const uint8_t[]){0, 1, 0, 0, 0, 0});
    expect_bool(g, yl, 2, DIMS(2, 3), (const uint8_t[]){1, 0, 1, 0, 0, 0});
    expect_bool(g, yg, 2, DIMS(2, 3), (const uint8_t[]){0, 0, 0, 1, 1, 1});
    expect_bool(g, yle, 2, DIMS(2, 3), (const uint8_t[]){1, 1, 1, 0, 0, 0});

    uint32_t ia = tu_i64(g, "ia", IV(3, 4), 1, DIMS(2)), ib = tu_i64(g, "ib", IV(4), 0, NULL), yi = tu_out(g, "yi");
    run_ok(g, "Equal", (uint32_t[]){ia, ib}, 2, &yi, 1, NULL, 0, 13);
    expect_bool(g, yi, 1, DIMS(2), (const uint8_t[]){0, 1});

    static const uint8_t p[] = {0, 0, 1, 1}, q[] = {0, 1, 0, 1};
    uint32_t bp = tu_const(g, "p", ERT_DT_BOOL, p, 2, DIMS(2, 2)), bq = tu_const(g, "q", ERT_DT_BOOL, q, 2, DIMS(2, 2));
    uint32_t ya = tu_out(g, "ya"), yo = tu_out(g, "yo"), yx = tu_out(g, "yx");
    run_ok(g, "And", (uint32_t[]){bp, bq}, 2, &ya, 1, NULL, 0, 7);
    run_ok(g, "Or", (uint32_t[]){bp, bq}, 2, &yo, 1, NULL, 0, 7);
    run_ok(g, "Xor", (uint32_t[]){bp, bq}, 2, &yx, 1, NULL, 0, 7);
    expect_bool(g, ya, 2, DIMS(2, 2), (const uint8_t[]){0, 0, 0, 1});
    expect_bool(g, yo, 2, DIMS(2, 2), (const uint8_t[]){0, 1, 1, 1});
    expect_bool(g, yx, 2, DIMS(2, 2), (const uint8_t[]){0, 1, 1, 0});
    run_fail(g, "And", in, 2, &ya, 1, NULL, 0, 7, "dtype float32 not supported");
    ert_graph_free(g);
}

static void test_binary_rejects_bad_nodes(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_f32(g, "a", FV(1, 2, 3), 1, DIMS(3)), b = tu_f32(g, "b", FV(1, 2), 1, DIMS(2));
    uint32_t i = tu_i64(g, "i", IV(1, 2, 3), 1, DIMS(3)), y = tu_out(g, "y");
    run_fail(g, "Add", (uint32_t[]){a, b}, 2, &y, 1, NULL, 0, 14, "shapes 3 and 2 do not broadcast");
    run_fail(g, "Add", &a, 1, &y, 1, NULL, 0, 14, "expects 2 input(s), has 1");
    run_fail(g, "Mul", (uint32_t[]){a, a, a}, 3, &y, 1, NULL, 0, 14, "expects 2 input(s), has 3");
    run_fail(g, "Sub", (uint32_t[]){a, i}, 2, &y, 1, NULL, 0, 14, "differ in dtype");
    run_fail(g, "Add", (uint32_t[]){a, ERT_NO_TENSOR}, 2, &y, 1, NULL, 0, 14, "input 1 is required");
    /* hostile params: too many ints, a legacy axis that does not fit */
    raw_fail(g, "Add", (uint32_t[]){a, a}, 2, &y, 1, IV(0, 0), 2, NULL, 0, "int and 0 float params");
    raw_fail(g, "Add", (uint32_t[]){a, a}, 2, &y, 1, IV(INT64_MIN), 1, NULL, 0, "legacy broadcast axis");
    raw_fail(g, "Add", (uint32_t[]){a, a}, 2, &y, 1, IV(5), 1, NULL, 0, "legacy broadcast axis");
    /* an input whose shape is hostile (a blob could say anything) */
    uint32_t bad = tu_f32(g, "bad", FV(1, 2), 1, DIMS(2));
    g->tensors[bad].shape.rank = 2;
    g->tensors[bad].shape.dims[0] = INT64_MAX;
    g->tensors[bad].shape.dims[1] = 4;
    run_fail(g, "Add", (uint32_t[]){bad, a}, 2, &y, 1, NULL, 0, 14, "too many elements");
    ert_graph_free(g);
}

static void test_variadic_max_min_sum_mean_broadcast(void)
{
    ert_graph *g = new_graph();
    uint32_t a = tu_f32(g, "a", FV(1, 5, 3), 1, DIMS(3)), b = tu_f32(g, "b", FV(4, 2), 2, DIMS(2, 1));
    uint32_t c = tu_f32(g, "c", FV(0), 0, NULL), in[3] = {a, b, c};
    uint32_t ymax = tu_out(g, "ymax"), ymin = tu_out(g, "ymin"), ysum = tu_out(g, "ysum"), ymean = tu_out(g, "ymean");
    run_ok(g, "Max", in, 3, &ymax, 1, NULL, 0, 13);
    run_ok(g, "Min", in, 3, &ymin, 1, NULL, 0, 13);
    run_ok(g, "Sum", in, 3, &ysum, 1, NULL, 0, 13);
    run_ok(g, "Mean", in, 3, &ymean, 1, NULL, 0, 13);
    tu_expect_f32(g, ymax, 2, DIMS(2, 3), FV(4, 5, 4, 2, 5, 3), 0);
    tu_expect_f32(g, ymin, 2, DIMS(2, 3), FV(0, 0, 0, 0, 0, 0), 0);
    tu_expect_f32(g, ysum, 2, DIMS(2, 3), FV(5, 9, 7, 3, 7, 5), 0);
    tu_expect_f32(g, ymean, 2, DIMS(2, 3), FV(5 / 3.0f, 3, 7 / 3.0f, 1, 7 / 3.0f, 5 / 3.0f), 1e-6f);
    /* four inputs (two scratch round trips) and one input */
    uint32_t y4 = tu_out(g, "y4"), y1 = tu_out(g, "y1");
    run_ok(g, "Sum", (uint32_t[]){a, b, c, a}, 4, &y4, 1, NULL, 0, 13);
    tu_expect_f32(g, y4, 2, DIMS(2, 3), FV(6, 14, 10, 4, 12, 8), 0);
    run_ok(g, "Max", &a, 1, &y1, 1, NULL, 0, 13);
    tu_expect_f32(g, y1, 1, DIMS(3), FV(1, 5, 3), 0);
    uint32_t i = tu_i64(g, "i", IV(7, -1, 2), 1, DIMS(3)), yi = tu_out(g, "yi");
    run_ok(g, "Max", (uint32_t[]){i, i}, 2, &yi, 1, NULL, 0, 13);
    tu_expect_i64(g, yi, 1, DIMS(3), IV(7, -1, 2));
    run_fail(g, "Mean", (uint32_t[]){i, i}, 2, &yi, 1, NULL, 0, 13, "dtype int64 not supported");
    uint32_t bad = tu_f32(g, "bad", FV(1, 2), 1, DIMS(2));
    run_fail(g, "Sum", (uint32_t[]){a, b, bad}, 3, &yi, 1, NULL, 0, 13, "does not broadcast");
    run_fail(g, "Sum", NULL, 0, &yi, 1, NULL, 0, 13, "expects 1 to");
    ert_graph_free(g);
}

/* ======================= Where, Expand ======================= */

static void test_where_broadcasts_three_inputs(void)
{
    ert_graph *g = new_graph();
    static const uint8_t cond[] = {1, 0};
    uint32_t c = tu_const(g, "c", ERT_DT_BOOL, cond, 2, DIMS(2, 1)), x = tu_f32(g, "x", FV(1, 2, 3), 2, DIMS(1, 3));
    uint32_t yv = tu_f32(g, "yv", FV(-1), 0, NULL), y = tu_out(g, "y");
    run_ok(g, "Where", (uint32_t[]){c, x, yv}, 3, &y, 1, NULL, 0, 16);
    tu_expect_f32(g, y, 2, DIMS(2, 3), FV(1, 2, 3, -1, -1, -1), 0);
    /* int64 payload, same shapes */
    static const uint8_t c2[] = {0, 1, 1, 0};
    uint32_t cc = tu_const(g, "cc", ERT_DT_BOOL, c2, 1, DIMS(4)), xi = tu_i64(g, "xi", IV(1, 2, 3, 4), 1, DIMS(4));
    uint32_t yi = tu_i64(g, "yi", IV(-1, -2, -3, -4), 1, DIMS(4)), o = tu_out(g, "o");
    run_ok(g, "Where", (uint32_t[]){cc, xi, yi}, 3, &o, 1, NULL, 0, 16);
    tu_expect_i64(g, o, 1, DIMS(4), IV(-1, 2, 3, -4));
    run_fail(g, "Where", (uint32_t[]){x, x, x}, 3, &o, 1, NULL, 0, 16, "must be bool");
    run_fail(g, "Where", (uint32_t[]){c, x, yi}, 3, &o, 1, NULL, 0, 16, "differ in dtype");
    run_fail(g, "Where", (uint32_t[]){cc, x, yv}, 3, &o, 1, NULL, 0, 16, "do not broadcast");
    ert_graph_free(g);
}

static void test_expand_bidirectional_broadcast(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(1, 2, 3), 2, DIMS(3, 1)), s = tu_i64(g, "s", IV(2, 1, 4), 1, DIMS(3));
    uint32_t y = tu_out(g, "y");
    run_ok(g, "Expand", (uint32_t[]){x, s}, 2, &y, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 3, DIMS(2, 3, 4), FV(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), 0);
    /* a shape smaller than the input keeps the input's dims */
    uint32_t xr = tu_i64(g, "xr", IV(5, 6), 2, DIMS(1, 2)), s2 = tu_i64(g, "s2", IV(3, 1), 1, DIMS(2));
    uint32_t y2 = tu_out(g, "y2");
    run_ok(g, "Expand", (uint32_t[]){xr, s2}, 2, &y2, 1, NULL, 0, 13);
    tu_expect_i64(g, y2, 2, DIMS(3, 2), IV(5, 6, 5, 6, 5, 6));
    ert_graph_free(g);
}

static void test_expand_rejects_bad_shapes(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(1, 2, 3), 1, DIMS(3)), y = tu_out(g, "y");
    uint32_t dyn = tu_i64(g, "dyn", IV(2, 3), 1, DIMS(2));
    g->tensors[dyn].is_const = false;
    run_fail(g, "Expand", (uint32_t[]){x, dyn}, 2, &y, 1, NULL, 0, 13, "input 'shape' must be a constant");
    free(g->tensors[dyn].data);
    g->tensors[dyn].data = NULL;
    uint32_t neg = tu_i64(g, "neg", IV(-1, 3), 1, DIMS(2)), bad = tu_i64(g, "bad", IV(2, 4), 1, DIMS(2));
    run_fail(g, "Expand", (uint32_t[]){x, neg}, 2, &y, 1, NULL, 0, 13, "negative dim");
    run_fail(g, "Expand", (uint32_t[]){x, bad}, 2, &y, 1, NULL, 0, 13, "cannot expand 3 to 2x4");
    uint32_t fs = tu_f32(g, "fs", FV(2, 3), 1, DIMS(2));
    run_fail(g, "Expand", (uint32_t[]){x, fs}, 2, &y, 1, NULL, 0, 13, "must be int64");
    static const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 3};
    uint32_t deep = tu_i64(g, "deep", nine, 1, DIMS(9));
    run_fail(g, "Expand", (uint32_t[]){x, deep}, 2, &y, 1, NULL, 0, 13, "at most 8 dims");
    uint32_t huge = tu_i64(g, "huge", IV(INT64_MAX / 2, 1 << 20, 3), 1, DIMS(3));
    run_fail(g, "Expand", (uint32_t[]){x, huge}, 2, &y, 1, NULL, 0, 13, "too many elements");
    ert_graph_free(g);
}

/* ======================= reductions ======================= */

/* The [3, 2, 2] example of the ONNX Reduce* documentation. */
static const float red_data[12] = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2};

static uint32_t reduce(ert_graph *g, const char *op, const int64_t *axes, size_t n_axes, int keep, int opset)
{
    uint32_t x = tu_f32(g, "x", red_data, 3, DIMS(3, 2, 2)), y = tu_out(g, "y");
    ert_attr attrs[2] = {tu_attr_int("keepdims", keep), tu_attr_ints("axes", axes, n_axes)};
    run_ok(g, op, &x, 1, &y, 1, attrs, axes ? 2 : 1, opset);
    return y;
}

static void test_reduce_keepdims_both_ways_and_negative_axes(void)
{
    ert_graph *g = new_graph();
    uint32_t y = reduce(g, "ReduceMean", IV(1), 1, 1, 13);
    tu_expect_f32(g, y, 3, DIMS(3, 1, 2), FV(12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f), 1e-5f);
    y = reduce(g, "ReduceMean", IV(1), 1, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(3, 2), FV(12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f), 1e-5f);
    y = reduce(g, "ReduceMean", IV(-2), 1, 1, 13);
    tu_expect_f32(g, y, 3, DIMS(3, 1, 2), FV(12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f), 1e-5f);
    y = reduce(g, "ReduceMax", IV(0, -1), 2, 0, 13);
    tu_expect_f32(g, y, 1, DIMS(2), FV(55, 60), 0);
    y = reduce(g, "ReduceL2", NULL, 0, 1, 13); /* no axes: everything */
    tu_expect_f32(g, y, 3, DIMS(1, 1, 1), FV(97.800818f), 1e-4f);
    y = reduce(g, "ReduceL2", NULL, 0, 0, 13);
    tu_expect_f32(g, y, 0, NULL, FV(97.800818f), 1e-4f);
    ert_graph_free(g);
}

static void test_reduce_kinds_match_reference_values(void)
{
    /* expected: numpy float64 on red_data */
    ert_graph *g = new_graph();
    uint32_t y = reduce(g, "ReduceL1", IV(2), 1, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(3, 2), FV(6, 22, 31, 42, 56, 62), 0);
    y = reduce(g, "ReduceProd", IV(0), 1, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(2, 2), FV(8250, 1, 48000, 8), 0);
    y = reduce(g, "ReduceSumSquare", IV(2), 1, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(3, 2), FV(26, 404, 901, 1604, 3026, 3604), 0);
    y = reduce(g, "ReduceLogSumExp", IV(2), 1, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(3, 2), FV(5.0181499f, 20, 30, 40, 55, 60), 1e-5f);
    y = reduce(g, "ReduceLogSum", IV(1), 1, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(3, 2), FV(3.2188758f, 1.0986123f, 4.2484952f, 1.0986123f, 4.7449321f, 1.0986123f),
                  1e-6f);
    y = reduce(g, "ReduceMin", IV(1), 1, 1, 13);
    tu_expect_f32(g, y, 3, DIMS(3, 1, 2), FV(5, 1, 30, 1, 55, 1), 0);
    ert_graph_free(g);
}

static void test_reduce_logsumexp_is_stable_for_large_values(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(1000, 1000, -INFINITY, -INFINITY), 2, DIMS(2, 2)), y = tu_out(g, "y");
    ert_attr attrs[2] = {tu_attr_int("keepdims", 0), tu_attr_ints("axes", IV(1), 1)};
    run_ok(g, "ReduceLogSumExp", &x, 1, &y, 1, attrs, 2, 13);
    tu_expect_f32(g, y, 1, DIMS(2), FV(1000.6931472f, -INFINITY), 1e-3f);
    ert_graph_free(g);
}

/* Sum and max over every subset of the axes of a [2,3,4,5] tensor against loops. */
static void test_reduce_every_axis_subset_matches_reference(void)
{
    static const int64_t dims[4] = {2, 3, 4, 5};
    float x[120];
    fill(x, 120, 5u);
    for (unsigned mask = 1; mask < 16; mask++) {
        for (int kind = 0; kind < 2; kind++) {
            ert_graph *g = new_graph();
            int64_t axes[4], kdims[4];
            size_t n_axes = 0;
            for (int d = 0; d < 4; d++) {
                if (mask & (1u << d))
                    axes[n_axes++] = d - ((mask + (unsigned)d) % 2 ? 4 : 0); /* mix negative axes in */
                kdims[d] = mask & (1u << d) ? 1 : dims[d];
            }
            float want[120];
            size_t no = (size_t)(kdims[0] * kdims[1] * kdims[2] * kdims[3]);
            for (size_t i = 0; i < no; i++)
                want[i] = kind ? -INFINITY : 0.0f;
            for (int64_t a = 0; a < 2; a++)
                for (int64_t b = 0; b < 3; b++)
                    for (int64_t c = 0; c < 4; c++)
                        for (int64_t d = 0; d < 5; d++) {
                            int64_t o[4] = {kdims[0] == 1 ? 0 : a, kdims[1] == 1 ? 0 : b, kdims[2] == 1 ? 0 : c,
                                            kdims[3] == 1 ? 0 : d};
                            size_t oi = (size_t)(((o[0] * kdims[1] + o[1]) * kdims[2] + o[2]) * kdims[3] + o[3]);
                            float v = x[((a * 3 + b) * 4 + c) * 5 + d];
                            want[oi] = kind ? fmaxf(want[oi], v) : want[oi] + v;
                        }
            uint32_t in = tu_f32(g, "x", x, 4, dims), y = tu_out(g, "y");
            ert_attr attrs[2] = {tu_attr_int("keepdims", 1), tu_attr_ints("axes", axes, n_axes)};
            run_ok(g, kind ? "ReduceMax" : "ReduceSum", &in, 1, &y, 1, attrs, 2, 11);
            tu_expect_f32(g, y, 4, kdims, want, 1e-4f);
            ert_graph_free(g);
        }
    }
}

static void test_reduce_sum_axes_input_and_noop(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", red_data, 3, DIMS(3, 2, 2)), ax = tu_i64(g, "axes", IV(-2), 1, DIMS(1));
    uint32_t none = tu_i64(g, "none", IV(0), 1, DIMS(0)), y = tu_out(g, "y"), y2 = tu_out(g, "y2"), y3 = tu_out(g, "y3");
    ert_attr keep0 = tu_attr_int("keepdims", 0);
    run_ok(g, "ReduceSum", (uint32_t[]){x, ax}, 2, &y, 1, &keep0, 1, 13);
    tu_expect_f32(g, y, 2, DIMS(3, 2), FV(25, 3, 70, 3, 115, 3), 0);
    /* empty axes reduce everything ... */
    run_ok(g, "ReduceSum", (uint32_t[]){x, none}, 2, &y2, 1, &keep0, 1, 13);
    tu_expect_f32(g, y2, 0, NULL, FV(219), 0);
    /* ... unless noop_with_empty_axes */
    ert_attr noop[2] = {tu_attr_int("keepdims", 1), tu_attr_int("noop_with_empty_axes", 1)};
    run_ok(g, "ReduceSum", (uint32_t[]){x, none}, 2, &y3, 1, noop, 2, 13);
    tu_expect_f32(g, y3, 3, DIMS(3, 2, 2), red_data, 0);
    /* opset 13 ReduceSum has no axes attribute; ReduceMean still does until 18 */
    ert_attr axes_attr = tu_attr_ints("axes", IV(0), 1);
    run_fail(g, "ReduceSum", &x, 1, &y, 1, &axes_attr, 1, 13, "unsupported attribute 'axes'");
    uint32_t y4 = tu_out(g, "y4");
    run_ok(g, "ReduceMean", (uint32_t[]){x, ax}, 2, &y4, 1, &keep0, 1, 18);
    tu_expect_f32(g, y4, 2, DIMS(3, 2), FV(12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f), 0);
    ert_graph_free(g);
}

static void test_reduce_int64_sum_max_prod(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_i64(g, "x", IV(1, -2, 3, INT64_MAX, 1, 2), 2, DIMS(2, 3)), ys = tu_out(g, "ys");
    uint32_t ym = tu_out(g, "ym"), yp = tu_out(g, "yp");
    ert_attr attrs[2] = {tu_attr_int("keepdims", 0), tu_attr_ints("axes", IV(1), 1)};
    run_ok(g, "ReduceSum", &x, 1, &ys, 1, attrs, 2, 11);
    run_ok(g, "ReduceMax", &x, 1, &ym, 1, attrs, 2, 13);
    run_ok(g, "ReduceProd", &x, 1, &yp, 1, attrs, 2, 13);
    tu_expect_i64(g, ys, 1, DIMS(2), IV(2, INT64_MIN + 2)); /* wraps, no UB */
    tu_expect_i64(g, ym, 1, DIMS(2), IV(3, INT64_MAX));
    tu_expect_i64(g, yp, 1, DIMS(2), IV(-6, -2));
    run_fail(g, "ReduceMean", &x, 1, &ys, 1, attrs, 2, 13, "dtype int64 not supported");
    ert_graph_free(g);
}

static void test_reduce_rejects_bad_axes(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", red_data, 3, DIMS(3, 2, 2)), y = tu_out(g, "y");
    ert_attr a = tu_attr_ints("axes", IV(3), 1);
    run_fail(g, "ReduceMax", &x, 1, &y, 1, &a, 1, 13, "axis 3 out of range for rank 3");
    a = tu_attr_ints("axes", IV(-4), 1);
    run_fail(g, "ReduceMax", &x, 1, &y, 1, &a, 1, 13, "axis -4 out of range");
    a = tu_attr_ints("axes", IV(1, -2), 2);
    run_fail(g, "ReduceMax", &x, 1, &y, 1, &a, 1, 13, "listed twice");
    uint32_t dyn = tu_i64(g, "dyn", IV(0), 1, DIMS(1));
    g->tensors[dyn].is_const = false;
    run_fail(g, "ReduceSum", (uint32_t[]){x, dyn}, 2, &y, 1, NULL, 0, 13, "input 'axes' must be a constant");
    free(g->tensors[dyn].data);
    g->tensors[dyn].data = NULL;
    /* hostile params: no keepdims slot, a keepdims of 7, too many axes, a huge axis */
    raw_fail(g, "ReduceSum", &x, 1, &y, 1, IV(1), 1, NULL, 0, "int params, expected 2");
    raw_fail(g, "ReduceSum", &x, 1, &y, 1, IV(7, 0), 2, NULL, 0, "must be 0 or 1");
    raw_fail(g, "ReduceL1", &x, 1, &y, 1, IV(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 11, NULL, 0, "int params");
    raw_fail(g, "ReduceL1", &x, 1, &y, 1, IV(1, 0, INT64_MIN), 3, NULL, 0, "out of range");
    uint32_t ax = tu_i64(g, "ax", IV(0), 1, DIMS(1));
    raw_fail(g, "ReduceSum", (uint32_t[]){x, ax}, 2, &y, 1, IV(1, 0, 1), 3, NULL, 0, "both an 'axes' attribute");
    ert_graph_free(g);
}

/* ======================= Softmax, LogSoftmax ======================= */

static void test_softmax_opset11_coerces_to_2d_opset13_uses_one_axis(void)
{
    static const float x[6] = {1, 2, 3, 4, 5, 6};
    ert_graph *g = new_graph();
    uint32_t in = tu_f32(g, "x", x, 3, DIMS(1, 2, 3)), y11 = tu_out(g, "y11"), y13 = tu_out(g, "y13");
    ert_attr axis = tu_attr_int("axis", 1);
    run_ok(g, "Softmax", &in, 1, &y11, 1, &axis, 1, 11);
    run_ok(g, "Softmax", &in, 1, &y13, 1, &axis, 1, 13);
    /* numpy: softmax of x.reshape(1, 6) over axis 1, and of x over axis 1 */
    tu_expect_f32(g, y11, 3, DIMS(1, 2, 3),
                  FV(0.0042697785f, 0.011606461f, 0.031549633f, 0.085760795f, 0.23312201f, 0.63369132f), 1e-6f);
    tu_expect_f32(g, y13, 3, DIMS(1, 2, 3),
                  FV(0.047425873f, 0.047425873f, 0.047425873f, 0.95257413f, 0.95257413f, 0.95257413f), 1e-6f);
    /* defaults: axis 1 before 13 (the whole row of a 2-D view here), -1 from 13 */
    uint32_t d11 = tu_out(g, "d11"), d13 = tu_out(g, "d13");
    run_ok(g, "Softmax", &in, 1, &d11, 1, NULL, 0, 11);
    run_ok(g, "LogSoftmax", &in, 1, &d13, 1, NULL, 0, 13);
    tu_expect_f32(g, d11, 3, DIMS(1, 2, 3),
                  FV(0.0042697785f, 0.011606461f, 0.031549633f, 0.085760795f, 0.23312201f, 0.63369132f), 1e-6f);
    tu_expect_f32(g, d13, 3, DIMS(1, 2, 3), FV(-2.4076059f, -1.4076059f, -0.40760596f, -2.4076059f, -1.4076059f,
                                               -0.40760596f), 1e-6f);
    uint32_t l13 = tu_out(g, "l13");
    run_ok(g, "LogSoftmax", &in, 1, &l13, 1, &axis, 1, 13);
    tu_expect_f32(g, l13, 3, DIMS(1, 2, 3),
                  FV(-3.0485874f, -3.0485874f, -3.0485874f, -0.048587352f, -0.048587352f, -0.048587352f), 1e-6f);
    ert_graph_free(g);
}

static void test_softmax_strided_axis_matches_reference(void)
{
    float x[2 * 3 * 4], want[2 * 3 * 4];
    fill(x, 24, 11u);
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) {
            float m = -INFINITY, s = 0;
            for (int b = 0; b < 3; b++)
                m = fmaxf(m, x[(a * 3 + b) * 4 + c]);
            for (int b = 0; b < 3; b++)
                s += expf(x[(a * 3 + b) * 4 + c] - m);
            for (int b = 0; b < 3; b++)
                want[(a * 3 + b) * 4 + c] = expf(x[(a * 3 + b) * 4 + c] - m) / s;
        }
    ert_graph *g = new_graph();
    uint32_t in = tu_f32(g, "x", x, 3, DIMS(2, 3, 4)), y = tu_out(g, "y");
    ert_attr axis = tu_attr_int("axis", -2);
    run_ok(g, "Softmax", &in, 1, &y, 1, &axis, 1, 13);
    tu_expect_f32(g, y, 3, DIMS(2, 3, 4), want, 1e-6f);
    ert_graph_free(g);
}

static void test_logsoftmax_large_numbers_stay_finite(void)
{
    ert_graph *g = new_graph();
    uint32_t in = tu_f32(g, "x", FV(0, 1, 2, 3, 10000, 10001, 10002, 10003), 2, DIMS(2, 4)), y = tu_out(g, "y");
    uint32_t s = tu_out(g, "s");
    run_ok(g, "LogSoftmax", &in, 1, &y, 1, NULL, 0, 13);
    run_ok(g, "Softmax", &in, 1, &s, 1, NULL, 0, 13);
    tu_expect_f32(g, y, 2, DIMS(2, 4),
                  FV(-3.4401897f, -2.4401897f, -1.4401897f, -0.4401897f, -3.4401897f, -2.4401897f, -1.4401897f,
                     -0.4401897f),
                  1e-5f);
    tu_expect_f32(g, s, 2, DIMS(2, 4),
                  FV(0.032058604f, 0.087144318f, 0.23688282f, 0.64391426f, 0.032058604f, 0.087144318f, 0.23688282f,
                     0.64391426f),
                  1e-6f);
    ert_graph_free(g);
}

static void test_softmax_rejects_bad_axis_and_params(void)
{
    ert_graph *g = new_graph();
    uint32_t in = tu_f32(g, "x", FV(1, 2), 1, DIMS(2)), y = tu_out(g, "y");
    ert_attr axis = tu_attr_int("axis", 1);
    run_fail(g, "Softmax", &in, 1, &y, 1, &axis, 1, 13, "axis 1 out of range for rank 1");
    axis = tu_attr_int("axis", -2);
    run_fail(g, "LogSoftmax", &in, 1, &y, 1, &axis, 1, 13, "axis -2 out of range");
    raw_fail(g, "Softmax", &in, 1, &y, 1, IV(0), 1, NULL, 0, "int and 0 float params");
    raw_fail(g, "Softmax", &in, 1, &y, 1, IV(0, 5), 2, NULL, 0, "must be 0 or 1");
    uint32_t i = tu_i64(g, "i", IV(1), 1, DIMS(1));
    run_fail(g, "Softmax", &i, 1, &y, 1, NULL, 0, 13, "dtype int64 not supported");
    ert_graph_free(g);
}

/* ======================= ArgMax, ArgMin ======================= */

static void test_argmax_keepdims_and_select_last_index(void)
{
    ert_graph *g = new_graph();
    uint32_t x = tu_f32(g, "x", FV(2, 2, 1, 3, 3, 0), 2, DIMS(2, 3));
    uint32_t y1 = tu_out(g, "y1"), y2 = tu_out(g, "y2"), y3 = tu_out(g, "y3"), y4 = tu_out(g, "y4");
    ert_attr a1[2] = {tu_attr_int("axis", 1), tu_attr_int("keepdims", 1)};
    run_ok(g, "ArgMax", &x, 1, &y1, 1, a1, 2, 13);
    tu_expect_i64(g, y1, 2, DIMS(2, 1), IV(0, 0));
    ert_attr a2[3] = {tu_attr_int("axis", -1), tu_attr_int("keepdims", 0), tu_attr_int("select_last_index", 1)};
    run_ok(g, "ArgMax", &x, 1, &y2, 1, a2, 3, 13);
    tu_expect_i64(g, y2, 1, DIMS(2), IV(1, 1));
    ert_attr a3 = tu_attr_int("keepdims", 0); /* axis 0 by default */
    run_ok(g, "ArgMin", &x, 1, &y3, 1, &a3, 1, 13);
    tu_expect_i64(g, y3, 1, DIMS(3), IV(0, 0, 1));
    run_ok(g, "ArgMin", &x, 1, &y4, 1, a2, 3, 13);
    tu_expect_i64(g, y4, 1, DIMS(2), IV(2, 2));
    ert_attr bad = tu_attr_int("axis", 2);
    run_fail(g, "ArgMax", &x, 1, &y1, 1, &bad, 1, 13, "axis 2 out of range");
    raw_fail(g, "ArgMax", &x, 1, &y1, 1, IV(0, 1), 2, NULL, 0, "int and 0 float params");
    ert_graph_free(g);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_unary_activations_match_reference_values),
    ERT_TEST(test_unary_alpha_attributes_are_used),
    ERT_TEST(test_unary_math_and_rounding),
    ERT_TEST(test_unary_relu_propagates_nan),
    ERT_TEST(test_unary_int64_abs_neg_wrap_at_min),
    ERT_TEST(test_unary_int32_abs),
    ERT_TEST(test_not_inverts_bool),
    ERT_TEST(test_unary_rejects_bad_nodes),
    ERT_TEST(test_clip_opset6_uses_min_max_attributes),
    ERT_TEST(test_clip_opset11_reads_min_max_inputs),
    ERT_TEST(test_clip_min_above_max_gives_max),
    ERT_TEST(test_clip_runtime_min_input_is_read_at_run_time),
    ERT_TEST(test_clip_int64_bounds),
    ERT_TEST(test_clip_rejects_bad_bounds),
    ERT_TEST(test_cast_float_to_int_truncates_and_saturates),
    ERT_TEST(test_cast_integer_narrowing_wraps),
    ERT_TEST(test_cast_uint8_bool_float_roundtrip),
    ERT_TEST(test_cast_rejects_unsupported_types),
    ERT_TEST(test_identity_copies_any_dtype),
    ERT_TEST(test_dropout_inference_passes_input_with_true_mask),
    ERT_TEST(test_dropout_opset7_mask_has_input_dtype),
    ERT_TEST(test_dropout_rejects_training_mode),
    ERT_TEST(test_binary_broadcast_patterns_match_reference),
    ERT_TEST(test_add_fuses_relu_activation),
    ERT_TEST(test_fused_activation_rejected_where_it_cannot_apply),
    ERT_TEST(test_int64_arithmetic_wraps_and_division_is_defined),
    ERT_TEST(test_int32_add_scalar_broadcast),
    ERT_TEST(test_pow_float_and_integer_exponents),
    ERT_TEST(test_add_legacy_broadcast_axis),
    ERT_TEST(test_prelu_per_channel_slope),
    ERT_TEST(test_comparisons_and_logic_output_bool),
    ERT_TEST(test_binary_rejects_bad_nodes),
    ERT_TEST(test_variadic_max_min_sum_mean_broadcast),
    ERT_TEST(test_where_broadcasts_three_inputs),
    ERT_TEST(test_expand_bidirectional_broadcast),
    ERT_TEST(test_expand_rejects_bad_shapes),
    ERT_TEST(test_reduce_keepdims_both_ways_and_negative_axes),
    ERT_TEST(test_reduce_kinds_match_reference_values),
    ERT_TEST(test_reduce_logsumexp_is_stable_for_large_values),
    ERT_TEST(test_reduce_every_axis_subset_matches_reference),
    ERT_TEST(test_reduce_sum_axes_input_and_noop),
    ERT_TEST(test_reduce_int64_sum_max_prod),
    ERT_TEST(test_reduce_rejects_bad_axes),
    ERT_TEST(test_softmax_opset11_coerces_to_2d_opset13_uses_one_axis),
    ERT_TEST(test_softmax_strided_axis_matches_reference),
    ERT_TEST(test_logsoftmax_large_numbers_stay_finite),
    ERT_TEST(test_softmax_rejects_bad_axis_and_params),
    ERT_TEST(test_argmax_keepdims_and_select_last_index),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_ops_elementwise = {"ops_elementwise", cases};
