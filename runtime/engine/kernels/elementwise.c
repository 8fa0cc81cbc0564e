/* Kernels: unary elementwise ops (activations, math, Not), Clip, Cast, Identity and
 * inference-mode Dropout. The broadcasting binary ops live in binary.c. */
#include "ew_common.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ONNX opsets before 6 carried a meaningless 'consumed_inputs' on most math ops. */
static void ignore_legacy(ert_attrs *attrs, int opset)
{
    if (opset < 6)
        ert_attr_ignore(attrs, "consumed_inputs");
}

/* ================= unary ================= */

/* a, b: the op's float attributes (alpha, beta/gamma), 0 when it has none. */
typedef void (*un_fn)(void *o, const void *x, size_t n, float a, float b);

#define UN_KERNEL(NAME, T, EXPR)                                                                               \
    static void NAME(void *o_, const void *x_, size_t n, float a, float b)                                     \
    {                                                                                                          \
        T *restrict o = o_;                                                                                    \
        const T *restrict x = x_;                                                                              \
        (void)a, (void)b;                                                                                      \
        for (size_t i = 0; i < n; i++) {                                                                       \
            const T v = x[i];                                                                                  \
            o[i] = (EXPR);                                                                                     \
        }                                                                                                      \
    }

static inline float clamp01(float t)
{
    t = t < 0.0f ? 0.0f : t;
    return t > 1.0f ? 1.0f : t;
}

/* NaN passes through Relu/Sign/Clip-like ops as numpy does (the comparisons are false). */
UN_KERNEL(relu_f32, float, v < 0.0f ? 0.0f : v)
UN_KERNEL(leaky_f32, float, v < 0.0f ? v * a : v)
UN_KERNEL(elu_f32, float, v < 0.0f ? a * expm1f(v) : v)
UN_KERNEL(sigmoid_f32, float, 1.0f / (1.0f + expf(-v)))
UN_KERNEL(tanh_f32, float, tanhf(v))
/* log(1 + e^v) without overflowing e^v for large v */
UN_KERNEL(softplus_f32, float, v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v)))
UN_KERNEL(exp_f32, float, expf(v))
UN_KERNEL(log_f32, float, logf(v))
UN_KERNEL(abs_f32, float, fabsf(v))
UN_KERNEL(sqrt_f32, float, sqrtf(v))
UN_KERNEL(neg_f32, float, -v)
UN_KERNEL(erf_f32, float, erff(v))
UN_KERNEL(recip_f32, float, 1.0f / v)
UN_KERNEL(hsigmoid_f32, float, clamp01(a * v + b))
UN_KERNEL(hswish_f32, float, v * clamp01(v * (1.0f / 6.0f) + 0.5f))
/* gamma * (alpha * e^v - alpha) for v <= 0 */
UN_KERNEL(selu_f32, float, v > 0.0f ? b * v : b * a * expm1f(v))
UN_KERNEL(softsign_f32, float, v / (1.0f + fabsf(v)))
UN_KERNEL(floor_f32, float, floorf(v))
UN_KERNEL(ceil_f32, float, ceilf(v))
/* ONNX Round is half-to-even: the default rounding mode */
UN_KERNEL(round_f32, float, nearbyintf(v))
UN_KERNEL(sign_f32, float, v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v))
UN_KERNEL(sin_f32, float, sinf(v))
UN_KERNEL(cos_f32, float, cosf(v))

UN_KERNEL(relu_f64, double, v < 0.0 ? 0.0 : v)
UN_KERNEL(abs_f64, double, fabs(v))
UN_KERNEL(neg_f64, double, -v)
UN_KERNEL(sign_f64, double, v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : v))

/* Integer negation goes through the unsigned type: -INT_MIN wraps to INT_MIN
 * (as numpy does) instead of being undefined behaviour. */
#define UN_INT_KERNELS(SUF, T, U)                                                                              \
    UN_KERNEL(relu_##SUF, T, v < 0 ? (T)0 : v)                                                                 \
    UN_KERNEL(abs_##SUF, T, v < 0 ? (T)(0 - (U)v) : v)                                                         \
    UN_KERNEL(neg_##SUF, T, (T)(0 - (U)v))                                                                     \
    UN_KERNEL(sign_##SUF, T, (T)((v > 0) - (v < 0)))
UN_INT_KERNELS(i64, int64_t, uint64_t)
UN_INT_KERNELS(i32, int32_t, uint32_t)
UN_INT_KERNELS(i8, int8_t, uint8_t)

UN_KERNEL(not_b8, uint8_t, (uint8_t)(v == 0))

typedef struct un_desc {
    const char *attr[2]; /* float attributes, stored in this order in n->floats */
    float def[2];
    uint32_t n_attr;
    un_fn f32, f64, i64, i32, i8, b8;
} un_desc;

static un_fn un_pick(const un_desc *d, ert_dtype dt)
{
    switch (dt) {
    case ERT_DT_F32: return d->f32;
    case ERT_DT_F64: return d->f64;
    case ERT_DT_I64: return d->i64;
    case ERT_DT_I32: return d->i32;
    case ERT_DT_I8: return d->i8;
    case ERT_DT_BOOL: return d->b8;
    default: return NULL;
    }
}

/* Params of every unary op: floats = its float attributes in un_desc order
 * (LeakyRelu/Elu [alpha], HardSigmoid [alpha, beta], Selu [alpha, gamma]); no ints. */
static ert_status un_parse(const un_desc *d, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    float v[2] = {0.0f, 0.0f};
    ignore_legacy(attrs, opset);
    for (uint32_t i = 0; i < d->n_attr; i++) {
        ert_status st = ert_attr_float(attrs, n, d->attr[i], d->def[i], &v[i], err);
        if (st != ERT_OK)
            return st;
    }
    return ert_node_set_params(n, NULL, 0, v, d->n_attr, err);
}

static ert_status un_infer(const un_desc *d, ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x;
    ert_status st = ert_ew_arity(g, n, 1, 1, 1, 1, 0, d->n_attr, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st != ERT_OK)
        return st;
    if (!un_pick(d, x->dtype))
        return ert_ew_bad_dtype(n, x->name, x->dtype, err);
    return ert_ew_output(g, n, 0, x->dtype, &x->shape, err);
}

static ert_status un_run(const un_desc *d, const ert_graph *g, const ert_node *n)
{
    const ert_tensor *x = &g->tensors[n->in[0]];
    const ert_tensor *y = &g->tensors[n->out[0]];
    size_t count = 0;
    ert_shape_numel(&y->shape, &count);
    float a = d->n_attr > 0 ? n->floats[0] : 0.0f, b = d->n_attr > 1 ? n->floats[1] : 0.0f;
    un_pick(d, x->dtype)(y->data, x->data, count, a, b);
    return ERT_OK;
}

#define UNARY_OP(ID, ...)                                                                                      \
    static const un_desc ud_##ID = {__VA_ARGS__};                                                              \
    static ert_status parse_##ID(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)       \
    {                                                                                                          \
        (void)g;                                                                                               \
        return un_parse(&ud_##ID, n, attrs, opset, err);                                                       \
    }                                                                                                          \
    static ert_status infer_##ID(ert_graph *g, ert_node *n, ert_error *err)                                    \
    {                                                                                                          \
        return un_infer(&ud_##ID, g, n, err);                                                                  \
    }                                                                                                          \
    static ert_status run_##ID(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)      \
    {                                                                                                          \
        (void)ctx, (void)err;                                                                                  \
        return un_run(&ud_##ID, g, n);                                                                         \
    }

UNARY_OP(relu, .f32 = relu_f32, .f64 = relu_f64, .i64 = relu_i64, .i32 = relu_i32, .i8 = relu_i8)
UNARY_OP(leaky, .attr = {"alpha"}, .def = {0.01f}, .n_attr = 1, .f32 = leaky_f32)
UNARY_OP(elu, .attr = {"alpha"}, .def = {1.0f}, .n_attr = 1, .f32 = elu_f32)
UNARY_OP(sigmoid, .f32 = sigmoid_f32)
UNARY_OP(tanh, .f32 = tanh_f32)
UNARY_OP(softplus, .f32 = softplus_f32)
UNARY_OP(exp, .f32 = exp_f32)
UNARY_OP(log, .f32 = log_f32)
UNARY_OP(abs, .f32 = abs_f32, .f64 = abs_f64, .i64 = abs_i64, .i32 = abs_i32, .i8 = abs_i8)
UNARY_OP(sqrt, .f32 = sqrt_f32)
UNARY_OP(neg, .f32 = neg_f32, .f64 = neg_f64, .i64 = neg_i64, .i32 = neg_i32, .i8 = neg_i8)
UNARY_OP(erf, .f32 = erf_f32)
UNARY_OP(recip, .f32 = recip_f32)
UNARY_OP(hsigmoid, .attr = {"alpha", "beta"}, .def = {0.2f, 0.5f}, .n_attr = 2, .f32 = hsigmoid_f32)
UNARY_OP(hswish, .f32 = hswish_f32)
UNARY_OP(selu, .attr = {"alpha", "gamma"}, .def = {1.67326319217681884765625f, 1.05070102214813232421875f},
         .n_attr = 2, .f32 = selu_f32)
UNARY_OP(softsign, .f32 = softsign_f32)
UNARY_OP(floor, .f32 = floor_f32)
UNARY_OP(ceil, .f32 = ceil_f32)
UNARY_OP(round, .f32 = round_f32)
UNARY_OP(sign, .f32 = sign_f32, .f64 = sign_f64, .i64 = sign_i64, .i32 = sign_i32, .i8 = sign_i8)
UNARY_OP(sin, .f32 = sin_f32)
UNARY_OP(cos, .f32 = cos_f32)
UNARY_OP(not, .b8 = not_b8)

/* ================= Clip ================= */

#define CLIP_KERNEL(NAME, T)                                                                                   \
    static void NAME(void *o_, const void *x_, size_t n, T lo, T hi)                                           \
    {                                                                                                          \
        T *restrict o = o_;                                                                                    \
        const T *restrict x = x_;                                                                              \
        for (size_t i = 0; i < n; i++) {                                                                       \
            T v = x[i] < lo ? lo : x[i];                                                                       \
            o[i] = v > hi ? hi : v;                                                                            \
        }                                                                                                      \
    }
/* min(max(x, lo), hi) like numpy: with lo > hi every output is hi. */
CLIP_KERNEL(clip_f32, float)
CLIP_KERNEL(clip_f64, double)
CLIP_KERNEL(clip_i64, int64_t)
CLIP_KERNEL(clip_i32, int32_t)
CLIP_KERNEL(clip_i8, int8_t)
CLIP_KERNEL(clip_u8, uint8_t)

/* Params: opset < 11: floats = [min, max] (attributes; float32/float64 input only);
 * opset >= 11: none, min/max are optional scalar inputs 1 and 2 read at run time. */
static ert_status parse_clip(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    (void)g;
    ignore_legacy(attrs, opset);
    if (opset >= 11)
        return ERT_OK;
    float v[2];
    ert_status st = ert_attr_float(attrs, n, "min", -FLT_MAX, &v[0], err);
    if (st == ERT_OK)
        st = ert_attr_float(attrs, n, "max", FLT_MAX, &v[1], err);
    if (st != ERT_OK)
        return st;
    return ert_node_set_params(n, NULL, 0, v, 2, err);
}

static ert_status infer_clip(ert_graph *g, ert_node *n, ert_error *err)
{
    bool legacy = n->n_floats == 2;
    ert_tensor *x;
    ert_status st = ert_ew_arity(g, n, 1, legacy ? 1 : 3, 1, 1, 0, legacy ? 2 : 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st != ERT_OK)
        return st;
    switch (x->dtype) {
    case ERT_DT_F32:
    case ERT_DT_F64:
        break;
    case ERT_DT_I64:
    case ERT_DT_I32:
    case ERT_DT_I8:
    case ERT_DT_U8:
        if (!legacy)
            break;
        /* fallthrough */
    default:
        return ert_ew_bad_dtype(n, x->name, x->dtype, err);
    }
    for (uint32_t i = 1; i < n->n_in; i++) {
        ert_tensor *b;
        size_t count;
        st = ert_ew_input(g, n, i, false, &b, err);
        if (st != ERT_OK)
            return st;
        if (!b)
            continue;
        if (b->dtype != x->dtype)
            return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' is %s, input '%s' is %s", i == 1 ? "min" : "max",
                                 ert_dtype_name(b->dtype), x->name, ert_dtype_name(x->dtype));
        if (!ert_shape_numel(&b->shape, &count) || count != 1)
            return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' must be a scalar", i == 1 ? "min" : "max");
    }
    return ert_ew_output(g, n, 0, x->dtype, &x->shape, err);
}

static ert_status run_clip(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
    const ert_tensor *mn = ert_node_input(g, n, 1), *mx = ert_node_input(g, n, 2);
    const void *lo = mn ? mn->data : NULL, *hi = mx ? mx->data : NULL;
    size_t count = 0;
    ert_shape_numel(&y->shape, &count);
    bool legacy = n->n_floats == 2;
    switch (x->dtype) {
    case ERT_DT_F32:
        clip_f32(y->data, x->data, count, legacy ? n->floats[0] : lo ? *(const float *)lo : -INFINITY,
                 legacy ? n->floats[1] : hi ? *(const float *)hi : INFINITY);
        break;
    case ERT_DT_F64:
        clip_f64(y->data, x->data, count, legacy ? n->floats[0] : lo ? *(const double *)lo : -INFINITY,
                 legacy ? n->floats[1] : hi ? *(const double *)hi : INFINITY);
        break;
    case ERT_DT_I64:
        clip_i64(y->data, x->data, count, lo ? *(const int64_t *)lo : INT64_MIN, hi ? *(const int64_t *)hi : INT64_MAX);
        break;
    case ERT_DT_I32:
        clip_i32(y->data, x->data, count, lo ? *(const int32_t *)lo : INT32_MIN, hi ? *(const int32_t *)hi : INT32_MAX);
        break;
    case ERT_DT_I8:
        clip_i8(y->data, x->data, count, lo ? *(const int8_t *)lo : INT8_MIN, hi ? *(const int8_t *)hi : INT8_MAX);
        break;
    case ERT_DT_U8:
        clip_u8(y->data, x->data, count, lo ? *(const uint8_t *)lo : 0, hi ? *(const uint8_t *)hi : UINT8_MAX);
        break;
    default:
        break;
    }
    return ERT_OK;
}

/* ================= Cast ================= */

/* Float to integer: see ert_sat_*; integer narrowing wraps modulo 2^bits as numpy's
 * astype does. */
static inline int64_t f_to_i64(double v) { return ert_sat_i64(v); }
static inline int32_t f_to_i32(double v) { return ert_sat_i32(v); }
static inline int8_t f_to_i8(double v)
{
    return !(v == v) ? 0 : v >= 128.0 ? INT8_MAX : v <= -129.0 ? INT8_MIN : (int8_t)v;
}
static inline uint8_t f_to_u8(double v)
{
    return !(v == v) ? 0 : v >= 256.0 ? UINT8_MAX : v <= -1.0 ? 0 : (uint8_t)v;
}
static inline float f_to_f32(double v) { return (float)v; } /* IEEE: out of range -> inf */
static inline double f_to_f64(double v) { return v; }
static inline uint8_t f_to_b(double v) { return v != 0.0; }
static inline float i_to_f32(int64_t v) { return (float)v; }
static inline double i_to_f64(int64_t v) { return (double)v; }
static inline int64_t i_to_i64(int64_t v) { return v; }
static inline int32_t i_to_i32(int64_t v) { return (int32_t)(uint32_t)v; }
static inline int8_t i_to_i8(int64_t v) { return (int8_t)(uint8_t)v; }
static inline uint8_t i_to_u8(int64_t v) { return (uint8_t)v; }
static inline uint8_t i_to_b(int64_t v) { return v != 0; }

#define LD_F(v) ((double)(v))
#define LD_I(v) ((int64_t)(v))
#define LD_B(v) ((int64_t)((v) != 0)) /* a hostile bool byte may be anything */
#define CAST_LOOP(TS, TD, CONV, LD)                                                                            \
    do {                                                                                                       \
        const TS *restrict s_ = x;                                                                             \
        TD *restrict d_ = o;                                                                                   \
        for (size_t i = 0; i < n; i++)                                                                         \
            d_[i] = CONV(LD(s_[i]));                                                                           \
    } while (0)
#define CAST_FROM(TS, LD, K)                                                                                   \
    switch (to) {                                                                                              \
    case ERT_DT_F32: CAST_LOOP(TS, float, K##_to_f32, LD); break;                                              \
    case ERT_DT_F64: CAST_LOOP(TS, double, K##_to_f64, LD); break;                                             \
    case ERT_DT_I64: CAST_LOOP(TS, int64_t, K##_to_i64, LD); break;                                            \
    case ERT_DT_I32: CAST_LOOP(TS, int32_t, K##_to_i32, LD); break;                                            \
    case ERT_DT_I8: CAST_LOOP(TS, int8_t, K##_to_i8, LD); break;                                               \
    case ERT_DT_U8: CAST_LOOP(TS, uint8_t, K##_to_u8, LD); break;                                              \
    case ERT_DT_BOOL: CAST_LOOP(TS, uint8_t, K##_to_b, LD); break;                                             \
    default: break;                                                                                            \
    }

static bool cast_type_ok(int64_t dt)
{
    switch (dt) {
    case ERT_DT_F32:
    case ERT_DT_F64:
    case ERT_DT_I64:
    case ERT_DT_I32:
    case ERT_DT_I8:
    case ERT_DT_U8:
    case ERT_DT_BOOL:
        return true;
    default:
        return false;
    }
}

static void cast_run(void *o, const void *x, size_t n, ert_dtype from, ert_dtype to)
{
    if (from == ERT_DT_U8 && to == ERT_DT_F32) { /* camera frames: keep it a plain loop */
        const uint8_t *restrict s = x;
        float *restrict d = o;
        for (size_t i = 0; i < n; i++)
            d[i] = (float)s[i];
        return;
    }
    switch (from) {
    case ERT_DT_F32: CAST_FROM(float, LD_F, f); break;
    case ERT_DT_F64: CAST_FROM(double, LD_F, f); break;
    case ERT_DT_I64: CAST_FROM(int64_t, LD_I, i); break;
    case ERT_DT_I32: CAST_FROM(int32_t, LD_I, i); break;
    case ERT_DT_I8: CAST_FROM(int8_t, LD_I, i); break;
    case ERT_DT_U8: CAST_FROM(uint8_t, LD_I, i); break;
    case ERT_DT_BOOL: CAST_FROM(uint8_t, LD_B, i); break;
    default: break;
    }
}

/* Params: ints = [to] (ONNX TensorProto.DataType number). */
static ert_status parse_cast(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    (void)g, (void)opset;
    int64_t to;
    ert_status st = ert_attr_int(attrs, n, "to", -1, &to, err);
    if (st != ERT_OK)
        return st;
    if (to < 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "attribute 'to' is required");
    return ert_node_set_params(n, &to, 1, NULL, 0, err);
}

static ert_status infer_cast(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x;
    ert_status st = ert_ew_arity(g, n, 1, 1, 1, 1, 1, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st != ERT_OK)
        return st;
    if (!cast_type_ok(x->dtype))
        return ert_ew_bad_dtype(n, x->name, x->dtype, err);
    int64_t to = n->ints[0];
    if (!cast_type_ok(to))
        return ert_ew_bad_dtype(n, "to", to, err);
    return ert_ew_output(g, n, 0, (ert_dtype)to, &x->shape, err);
}

static ert_status run_cast(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
    size_t count = 0, bytes = 0;
    ert_shape_numel(&y->shape, &count);
    ert_shape_bytes(&y->shape, y->dtype, &bytes);
    if (x->dtype == y->dtype && x->dtype != ERT_DT_BOOL) {
        if (bytes)
            memcpy(y->data, x->data, bytes);
        return ERT_OK;
    }
    cast_run(y->data, x->data, count, x->dtype, y->dtype);
    return ERT_OK;
}

/* ================= Identity, Dropout ================= */

static ert_status infer_identity(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x;
    ert_status st = ert_ew_arity(g, n, 1, 1, 1, 1, 0, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st != ERT_OK)
        return st;
    return ert_ew_output(g, n, 0, x->dtype, &x->shape, err);
}

static void copy_input0(const ert_graph *g, const ert_node *n)
{
    const ert_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
    size_t bytes = 0;
    ert_shape_bytes(&y->shape, y->dtype, &bytes);
    if (bytes)
        memcpy(y->data, x->data, bytes);
}

static ert_status run_identity(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    copy_input0(g, n);
    return ERT_OK;
}

/* Params: ints = [mask_is_bool]: opset >= 10 gives the optional mask output dtype
 * bool, older opsets the input's dtype. Inference only: ratio and seed are read and
 * ignored; a constant true training_mode is refused. */
static ert_status parse_dropout(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    (void)g;
    ignore_legacy(attrs, opset);
    if (opset < 7)
        ert_attr_ignore(attrs, "is_test");
    if (opset < 12) {
        float ratio;
        ert_status st = ert_attr_float(attrs, n, "ratio", 0.5f, &ratio, err);
        if (st != ERT_OK)
            return st;
    } else {
        ert_attr_ignore(attrs, "seed");
    }
    int64_t mask_bool = opset >= 10;
    return ert_node_set_params(n, &mask_bool, 1, NULL, 0, err);
}

static ert_status infer_dropout(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x, *ratio, *mode;
    ert_status st = ert_ew_arity(g, n, 1, 3, 1, 2, 1, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 1, false, &ratio, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 2, false, &mode, err);
    if (st != ERT_OK)
        return st;
    if (n->ints[0] != 0 && n->ints[0] != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "param mask_is_bool must be 0 or 1, is %lld",
                             (long long)n->ints[0]);
    if (mode) {
        size_t count;
        if (!mode->is_const || !mode->data)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED,
                                 "input 'training_mode' must be a constant (embedrt runs inference only)");
        st = ert_ew_const_input(g, n, 2, ERT_DT_BOOL, "training_mode", &mode, err);
        if (st != ERT_OK)
            return st;
        if (!ert_shape_numel(&mode->shape, &count) || count != 1)
            return ert_node_fail(err, n, ERT_EFORMAT, "input 'training_mode' must be a scalar");
        if (*(const uint8_t *)mode->data)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED,
                                 "training_mode is true: embedrt runs inference only (export the model in eval mode)");
    }
    st = ert_ew_output(g, n, 0, x->dtype, &x->shape, err);
    if (st == ERT_OK)
        st = ert_ew_output(g, n, 1, n->ints[0] ? ERT_DT_BOOL : x->dtype, &x->shape, err);
    return st;
}

static ert_status run_dropout(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    copy_input0(g, n);
    const ert_tensor *m = n->n_out > 1 && n->out[1] != ERT_NO_TENSOR ? &g->tensors[n->out[1]] : NULL;
    if (!m)
        return ERT_OK;
    size_t count = 0;
    ert_shape_numel(&m->shape, &count);
    /* Every element is kept. */
    switch (m->dtype) {
    case ERT_DT_F32:
        for (size_t i = 0; i < count; i++)
            ((float *)m->data)[i] = 1.0f;
        break;
    case ERT_DT_F64:
        for (size_t i = 0; i < count; i++)
            ((double *)m->data)[i] = 1.0;
        break;
    case ERT_DT_I64:
        for (size_t i = 0; i < count; i++)
            ((int64_t *)m->data)[i] = 1;
        break;
    case ERT_DT_I32:
        for (size_t i = 0; i < count; i++)
            ((int32_t *)m->data)[i] = 1;
        break;
    default: /* one-byte types */
        if (count)
            memset(m->data, 1, count);
        break;
    }
    return ERT_OK;
}


/* ================= Fusion hooks ================= */

/* The converter folds these into the producing Conv/Gemm/Add (op.h as_act): only
 * float32 and, for Clip, bounds known at conversion. */
static bool f32_in(const ert_graph *g, const ert_node *n)
{
    const ert_tensor *x = ert_node_input(g, n, 0);
    return x && x->dtype == ERT_DT_F32;
}

static bool relu_as_act(const ert_graph *g, const ert_node *n, ert_act *act, float *alpha, float *beta)
{
    (void)alpha, (void)beta;
    *act = ERT_ACT_RELU;
    return f32_in(g, n);
}

static bool leaky_as_act(const ert_graph *g, const ert_node *n, ert_act *act, float *alpha, float *beta)
{
    (void)beta;
    if (n->n_floats != 1 || !f32_in(g, n))
        return false;
    *act = ERT_ACT_LEAKY_RELU;
    *alpha = n->floats[0];
    return true;
}

static bool sigmoid_as_act(const ert_graph *g, const ert_node *n, ert_act *act, float *alpha, float *beta)
{
    (void)alpha, (void)beta;
    *act = ERT_ACT_SIGMOID;
    return f32_in(g, n);
}

static bool tanh_as_act(const ert_graph *g, const ert_node *n, ert_act *act, float *alpha, float *beta)
{
    (void)alpha, (void)beta;
    *act = ERT_ACT_TANH;
    return f32_in(g, n);
}

static bool clip_as_act(const ert_graph *g, const ert_node *n, ert_act *act, float *alpha, float *beta)
{
    if (!f32_in(g, n))
        return false;
    float lo = -INFINITY, hi = INFINITY;
    if (n->n_floats == 2) {
        lo = n->floats[0], hi = n->floats[1];
    } else {
        for (uint32_t i = 1; i < n->n_in && i < 3; i++) {
            const ert_tensor *b = ert_node_input(g, n, i);
            size_t count;
            if (!b)
                continue;
            if (!b->is_const || b->dtype != ERT_DT_F32 || !ert_shape_numel(&b->shape, &count) || count != 1)
                return false;
            *(i == 1 ? &lo : &hi) = *(const float *)b->data;
        }
    }
    if (lo == 0.0f && hi == INFINITY) {
        *act = ERT_ACT_RELU;
        return true;
    }
    *act = ERT_ACT_CLIP;
    *alpha = lo;
    *beta = hi;
    return true;
}

const ert_op_def ert_ops_elementwise[] = {
    {.name = "Relu", .parse = parse_relu, .infer = infer_relu, .scratch = NULL, .run = run_relu, .fuses_act = false,
     .as_act = relu_as_act},
    {.name = "LeakyRelu", .parse = parse_leaky, .infer = infer_leaky, .scratch = NULL, .run = run_leaky, .fuses_act = false,
     .as_act = leaky_as_act},
    ERT_OP("Elu", parse_elu, infer_elu, NULL, run_elu, false),
    {.name = "Sigmoid", .parse = parse_sigmoid, .infer = infer_sigmoid, .scratch = NULL, .run = run_sigmoid, .fuses_act = false,
     .as_act = sigmoid_as_act},
    {.name = "Tanh", .parse = parse_tanh, .infer = infer_tanh, .scratch = NULL, .run = run_tanh, .fuses_act = false,
     .as_act = tanh_as_act},
    ERT_OP("Softplus", parse_softplus, infer_softplus, NULL, run_softplus, false),
    ERT_OP("Exp", parse_exp, infer_exp, NULL, run_exp, false),
    ERT_OP("Log", parse_log, infer_log, NULL, run_log, false),
    ERT_OP("Abs", parse_abs, infer_abs, NULL, run_abs, false),
    ERT_OP("Sqrt", parse_sqrt, infer_sqrt, NULL, run_sqrt, false),
    ERT_OP("Neg", parse_neg, infer_neg, NULL, run_neg, false),
    ERT_OP("Erf", parse_erf, infer_erf, NULL, run_erf, false),
    ERT_OP("Reciprocal", parse_recip, infer_recip, NULL, run_recip, false),
    ERT_OP("HardSigmoid", parse_hsigmoid, infer_hsigmoid, NULL, run_hsigmoid, false),
    ERT_OP("HardSwish", parse_hswish, infer_hswish, NULL, run_hswish, false),
    ERT_OP("Selu", parse_selu, infer_selu, NULL, run_selu, false),
    ERT_OP("Softsign", parse_softsign, infer_softsign, NULL, run_softsign, false),
    ERT_OP("Floor", parse_floor, infer_floor, NULL, run_floor, false),
    ERT_OP("Ceil", parse_ceil, infer_ceil, NULL, run_ceil, false),
    ERT_OP("Round", parse_round, infer_round, NULL, run_round, false),
    ERT_OP("Sign", parse_sign, infer_sign, NULL, run_sign, false),
    ERT_OP("Sin", parse_sin, infer_sin, NULL, run_sin, false),
    ERT_OP("Cos", parse_cos, infer_cos, NULL, run_cos, false),
    ERT_OP("Not", parse_not, infer_not, NULL, run_not, false),
    {.name = "Clip", .parse = parse_clip, .infer = infer_clip, .scratch = NULL, .run = run_clip, .fuses_act = false,
     .as_act = clip_as_act},
    ERT_OP("Cast", parse_cast, infer_cast, NULL, run_cast, false),
    ERT_OP("Identity", NULL, infer_identity, NULL, run_identity, false),
    ERT_OP("Dropout", parse_dropout, infer_dropout, NULL, run_dropout, false),
    ERT_OP_END,
};
