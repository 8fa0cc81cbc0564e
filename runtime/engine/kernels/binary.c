/* Kernels: numpy-broadcasting binary ops (arithmetic, Pow, PRelu, comparisons, logic),
 * variadic Max/Min/Sum/Mean, Where and Expand. */
#include "ew_common.h"
#include "embedrt/pool.h"

#include <math.h>
#include <string.h>

/* A row kernel: o[i] = f(a[i], b[i]) for i < n. mode bit 1: b is one value for the
 * whole row; bit 2: a is. Four plain loops, so same-shape, scalar and per-channel
 * operands all reach a contiguous loop the compiler vectorises. */
typedef void (*bin_fn)(void *o, const void *a, const void *b, size_t n, int mode);

#define BIN_KERNEL(NAME, TA, TB, TO, EXPR)                                                                     \
    static void NAME(void *o_, const void *a_, const void *b_, size_t n, int mode)                             \
    {                                                                                                          \
        TO *restrict o = o_;                                                                                   \
        const TA *restrict a = a_;                                                                             \
        const TB *restrict b = b_;                                                                             \
        switch (mode) {                                                                                        \
        case 0:                                                                                                \
            for (size_t i = 0; i < n; i++) {                                                                   \
                const TA x = a[i];                                                                             \
                const TB y = b[i];                                                                             \
                o[i] = (EXPR);                                                                                 \
            }                                                                                                  \
            break;                                                                                             \
        case 1: {                                                                                              \
            const TB y = b[0];                                                                                 \
            for (size_t i = 0; i < n; i++) {                                                                   \
                const TA x = a[i];                                                                             \
                o[i] = (EXPR);                                                                                 \
            }                                                                                                  \
        } break;                                                                                               \
        case 2: {                                                                                              \
            const TA x = a[0];                                                                                 \
            for (size_t i = 0; i < n; i++) {                                                                   \
                const TB y = b[i];                                                                             \
                o[i] = (EXPR);                                                                                 \
            }                                                                                                  \
        } break;                                                                                               \
        default: {                                                                                             \
            const TA x = a[0];                                                                                 \
            const TB y = b[0];                                                                                 \
            const TO v = (EXPR);                                                                               \
            for (size_t i = 0; i < n; i++)                                                                     \
                o[i] = v;                                                                                      \
        } break;                                                                                               \
        }                                                                                                      \
    }

/* Signed integer arithmetic wraps through the unsigned type (numpy behaviour, no C
 * overflow UB). Division truncates toward zero; x / 0 is defined as 0, and
 * MIN / -1 wraps to MIN. */
#define INT_OPS(SUF, T, U)                                                                                     \
    static inline T add_##SUF(T x, T y) { return (T)((U)x + (U)y); }                                           \
    static inline T sub_##SUF(T x, T y) { return (T)((U)x - (U)y); }                                           \
    static inline T mul_##SUF(T x, T y) { return (T)((U)x * (U)y); }                                           \
    static inline T div_##SUF(T x, T y) { return y == 0 ? (T)0 : y == -1 ? (T)(0 - (U)x) : (T)(x / y); }
INT_OPS(i64, int64_t, uint64_t)
INT_OPS(i32, int32_t, uint32_t)
INT_OPS(i8, int8_t, uint8_t)
static inline uint8_t div_u8(uint8_t x, uint8_t y) { return y == 0 ? 0 : (uint8_t)(x / y); }

/* max/min propagate NaN like numpy.maximum */
#define FMAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define FMIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define IMAX(x, y) ((x) > (y) ? (x) : (y))
#define IMIN(x, y) ((x) < (y) ? (x) : (y))

#define FLOAT_KERNELS(SUF, T)                                                                                  \
    BIN_KERNEL(add_##SUF##_k, T, T, T, x + y)                                                                  \
    BIN_KERNEL(sub_##SUF##_k, T, T, T, x - y)                                                                  \
    BIN_KERNEL(mul_##SUF##_k, T, T, T, x * y)                                                                  \
    BIN_KERNEL(div_##SUF##_k, T, T, T, x / y)                                                                  \
    BIN_KERNEL(max_##SUF##_k, T, T, T, FMAX(x, y))                                                             \
    BIN_KERNEL(min_##SUF##_k, T, T, T, FMIN(x, y))
FLOAT_KERNELS(f32, float)
FLOAT_KERNELS(f64, double)
BIN_KERNEL(prelu_f32_k, float, float, float, x < 0.0f ? x * y : x)

#define INT_KERNELS(SUF, T)                                                                                    \
    BIN_KERNEL(add_##SUF##_k, T, T, T, add_##SUF(x, y))                                                        \
    BIN_KERNEL(sub_##SUF##_k, T, T, T, sub_##SUF(x, y))                                                        \
    BIN_KERNEL(mul_##SUF##_k, T, T, T, mul_##SUF(x, y))                                                        \
    BIN_KERNEL(div_##SUF##_k, T, T, T, div_##SUF(x, y))                                                        \
    BIN_KERNEL(max_##SUF##_k, T, T, T, IMAX(x, y))                                                             \
    BIN_KERNEL(min_##SUF##_k, T, T, T, IMIN(x, y))
INT_KERNELS(i64, int64_t)
INT_KERNELS(i32, int32_t)
INT_KERNELS(i8, int8_t)
BIN_KERNEL(add_u8_k, uint8_t, uint8_t, uint8_t, (uint8_t)(x + y))
BIN_KERNEL(sub_u8_k, uint8_t, uint8_t, uint8_t, (uint8_t)(x - y))
BIN_KERNEL(mul_u8_k, uint8_t, uint8_t, uint8_t, (uint8_t)(x * y))
BIN_KERNEL(div_u8_k, uint8_t, uint8_t, uint8_t, div_u8(x, y))
BIN_KERNEL(max_u8_k, uint8_t, uint8_t, uint8_t, IMAX(x, y))
BIN_KERNEL(min_u8_k, uint8_t, uint8_t, uint8_t, IMIN(x, y))

#define CMP_KERNELS(SUF, T)                                                                                    \
    BIN_KERNEL(eq_##SUF##_k, T, T, uint8_t, (uint8_t)(x == y))                                                 \
    BIN_KERNEL(lt_##SUF##_k, T, T, uint8_t, (uint8_t)(x < y))                                                  \
    BIN_KERNEL(gt_##SUF##_k, T, T, uint8_t, (uint8_t)(x > y))                                                  \
    BIN_KERNEL(le_##SUF##_k, T, T, uint8_t, (uint8_t)(x <= y))                                                 \
    BIN_KERNEL(ge_##SUF##_k, T, T, uint8_t, (uint8_t)(x >= y))
CMP_KERNELS(f32, float)
CMP_KERNELS(f64, double)
CMP_KERNELS(i64, int64_t)
CMP_KERNELS(i32, int32_t)
CMP_KERNELS(i8, int8_t)
CMP_KERNELS(u8, uint8_t)
/* bool bytes are normalised: a hostile byte may hold any value */
BIN_KERNEL(eq_b8_k, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) == (y != 0)))
BIN_KERNEL(and_b8_k, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) & (y != 0)))
BIN_KERNEL(or_b8_k, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) | (y != 0)))
BIN_KERNEL(xor_b8_k, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) ^ (y != 0)))

/* Integer powers by squaring with wrap-around; a negative exponent truncates
 * 1/x^|y| toward zero (x = 0 gives 0 rather than a division by zero). */
static inline int64_t ipow(int64_t x, int64_t y)
{
    if (y < 0)
        return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    for (uint64_t e = (uint64_t)y; e; e >>= 1) {
        if (e & 1)
            r *= b;
        b *= b;
    }
    return (int64_t)r;
}
#define POW_FLOAT_BASE(SUF, T, POWF)                                                                           \
    BIN_KERNEL(pow_##SUF##_f32_k, T, float, T, POWF(x, (T)y))                                                  \
    BIN_KERNEL(pow_##SUF##_f64_k, T, double, T, POWF(x, (T)y))                                                 \
    BIN_KERNEL(pow_##SUF##_i64_k, T, int64_t, T, POWF(x, (T)y))                                                \
    BIN_KERNEL(pow_##SUF##_i32_k, T, int32_t, T, POWF(x, (T)y))
POW_FLOAT_BASE(f32, float, powf)
POW_FLOAT_BASE(f64, double, pow)
BIN_KERNEL(pow_i64_f32_k, int64_t, float, int64_t, ert_sat_i64(pow((double)x, (double)y)))
BIN_KERNEL(pow_i64_f64_k, int64_t, double, int64_t, ert_sat_i64(pow((double)x, y)))
BIN_KERNEL(pow_i64_i64_k, int64_t, int64_t, int64_t, ipow(x, y))
BIN_KERNEL(pow_i64_i32_k, int64_t, int32_t, int64_t, ipow(x, y))
BIN_KERNEL(pow_i32_f32_k, int32_t, float, int32_t, ert_sat_i32(pow((double)x, (double)y)))
BIN_KERNEL(pow_i32_f64_k, int32_t, double, int32_t, ert_sat_i32(pow((double)x, y)))
BIN_KERNEL(pow_i32_i64_k, int32_t, int64_t, int32_t, (int32_t)(uint32_t)ipow(x, y))
BIN_KERNEL(pow_i32_i32_k, int32_t, int32_t, int32_t, (int32_t)(uint32_t)ipow(x, y))

/* Pow's result has the base's type; the exponent may have another (opset 12+). */
static bin_fn pow_pick(ert_dtype base, ert_dtype ex)
{
#define POW_ROW(SUF)                                                                                           \
    switch (ex) {                                                                                              \
    case ERT_DT_F32: return pow_##SUF##_f32_k;                                                                 \
    case ERT_DT_F64: return pow_##SUF##_f64_k;                                                                 \
    case ERT_DT_I64: return pow_##SUF##_i64_k;                                                                 \
    case ERT_DT_I32: return pow_##SUF##_i32_k;                                                                 \
    default: return NULL;                                                                                      \
    }
    switch (base) {
    case ERT_DT_F32: POW_ROW(f32)
    case ERT_DT_F64: POW_ROW(f64)
    case ERT_DT_I64: POW_ROW(i64)
    case ERT_DT_I32: POW_ROW(i32)
    default: return NULL;
    }
#undef POW_ROW
}

typedef struct bin_desc {
    bool to_bool;  /* comparison: bool output */
    bool fuses;    /* float op that applies n->act itself */
    bool unidir;   /* PRelu: b broadcasts onto a, the output keeps a's shape */
    bool pow;      /* mixed base/exponent types: see pow_pick */
    bin_fn f32, f64, i64, i32, i8, u8, b8;
} bin_desc;

static bin_fn bin_pick(const bin_desc *d, ert_dtype a, ert_dtype b)
{
    if (d->pow)
        return pow_pick(a, b);
    if (a != b)
        return NULL;
    switch (a) {
    case ERT_DT_F32: return d->f32;
    case ERT_DT_F64: return d->f64;
    case ERT_DT_I64: return d->i64;
    case ERT_DT_I32: return d->i32;
    case ERT_DT_I8: return d->i8;
    case ERT_DT_U8: return d->u8;
    case ERT_DT_BOOL: return d->b8;
    default: return NULL;
    }
}

/* Elements from which a binary op is split across the pool (a memory-bound pass of
 * 64K floats takes ~10 us, a wake-up a few), and the piece of a single row a worker takes. */
#define BIN_PAR_MIN ((size_t)1 << 16)
#define BIN_CHUNK ((size_t)1 << 14)

typedef struct bin_job {
    bin_fn f;
    char *o;
    const char *a, *b;
    size_t eo, ea, eb;
    ert_bplan p;
    int mode;
    const ert_node *act;
} bin_job;

/* Rows [r0, r1) of the plan; a plan of one row is split into BIN_CHUNK pieces instead. */
static void bin_rows(void *arg, size_t r0, size_t r1, int worker)
{
    (void)worker;
    const bin_job *j = arg;
    const ert_bplan *p = &j->p;
    if (p->rows == 1) {
        size_t lo = r0 * BIN_CHUNK, hi = r1 * BIN_CHUNK < p->inner ? r1 * BIN_CHUNK : p->inner;
        size_t la = j->mode & 2 ? 0 : lo, lb = j->mode & 1 ? 0 : lo;
        j->f(j->o + lo * j->eo, j->a + la * j->ea, j->b + lb * j->eb, hi - lo, j->mode);
        if (j->act)
            ert_act_apply((float *)j->o + lo, hi - lo, j->act->act, j->act->act_alpha, j->act->act_beta);
        return;
    }
    size_t idx[ERT_MAX_RANK] = {0}, off[3] = {0, 0, 0}, r = r0;
    for (int d = p->rank - 2; d >= 0; d--) { /* seek row r0 */
        idx[d] = r % p->dims[d];
        r /= p->dims[d];
        for (int k = 0; k < 3; k++)
            off[k] += idx[d] * p->str[k][d];
    }
    for (size_t row = r0; row < r1; row++) {
        j->f(j->o + off[0] * j->eo, j->a + off[1] * j->ea, j->b + off[2] * j->eb, p->inner, j->mode);
        if (j->act)
            ert_act_apply((float *)j->o + off[0], p->inner, j->act->act, j->act->act_alpha, j->act->act_beta);
        ert_bplan_next(p, idx, off);
    }
}

/* Runs f over the broadcast of a (shape sa) and b (shape sb) into o (shape so);
 * shapes were checked by infer. e*: element sizes. act: a node whose fused
 * activation is applied to each float row while it is still in cache, or NULL.
 * Large outputs are split across the pool by rows (or pieces of a single row). */
static void bin_apply(ert_pool *pool, bin_fn f, void *o, size_t eo, const ert_shape *so, const void *a, size_t ea,
                      const ert_shape *sa, const void *b, size_t eb, const ert_shape *sb, const ert_node *act)
{
    size_t count = 0;
    ert_shape_numel(so, &count);
    if (!count)
        return;
    size_t str[3][ERT_MAX_RANK];
    ert_bcast_strides(so, so, str[0]);
    ert_bcast_strides(sa, so, str[1]);
    ert_bcast_strides(sb, so, str[2]);
    bin_job j = {.f = f, .o = o, .a = a, .b = b, .eo = eo, .ea = ea, .eb = eb, .act = act};
    ert_bplan_init(&j.p, so, (const size_t(*)[ERT_MAX_RANK])str, 3);
    int last = j.p.rank - 1;
    j.mode = (j.p.str[2][last] == 0 ? 1 : 0) | (j.p.str[1][last] == 0 ? 2 : 0);
    if (count < BIN_PAR_MIN)
        pool = NULL;
    if (j.p.rows == 1)
        ert_pool_run(pool, (j.p.inner + BIN_CHUNK - 1) / BIN_CHUNK, 1, bin_rows, &j);
    else
        ert_pool_run(pool, j.p.rows, j.p.inner >= BIN_CHUNK ? 1 : BIN_CHUNK / j.p.inner, bin_rows, &j);
}

/* Opset < 7 broadcast=1 with an axis: b's dims line up with a's starting at axis
 * (PRelu-6 puts a per-channel slope on axis 1). Re-expressed as a numpy shape. */
static bool legacy_align(const ert_shape *a, const ert_shape *b, int64_t axis, ert_shape *out)
{
    if (axis < 0)
        axis += a->rank;
    if (b->rank > a->rank || axis < 0 || axis > a->rank - b->rank)
        return false;
    out->rank = a->rank;
    for (int i = 0; i < a->rank; i++)
        out->dims[i] = 1;
    for (int i = 0; i < b->rank; i++)
        out->dims[axis + i] = b->dims[i];
    return true;
}

/* The shape b is iterated with: its own, or the legacy alignment (params [axis]). */
static const ert_shape *b_shape(const ert_node *n, const ert_tensor *a, const ert_tensor *b, ert_shape *tmp)
{
    if (n->n_ints == 1 && legacy_align(&a->shape, &b->shape, n->ints[0], tmp))
        return tmp;
    return &b->shape;
}

/* Params of the two-input ops: none, or ints = [axis] for an opset < 7 node with
 * broadcast=1 and an axis (and PRelu before opset 7: [1]). */
static ert_status bin_parse(ert_node *n, ert_attrs *attrs, int opset, bool prelu, ert_error *err)
{
    if (opset < 6)
        ert_attr_ignore(attrs, "consumed_inputs");
    if (opset >= 7)
        return ERT_OK;
    int64_t axis = 1;
    if (prelu)
        return ert_node_set_params(n, &axis, 1, NULL, 0, err);
    int64_t bcast;
    ert_status st = ert_attr_int(attrs, n, "broadcast", 0, &bcast, err);
    if (st == ERT_OK)
        st = ert_attr_int(attrs, n, "axis", INT64_MIN, &axis, err);
    if (st != ERT_OK || !bcast || axis == INT64_MIN)
        return st;
    return ert_node_set_params(n, &axis, 1, NULL, 0, err);
}

static ert_status bin_infer(const bin_desc *d, ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *a, *b;
    ert_status st = ert_ew_arity(g, n, 2, 2, 1, 1, n->n_ints > 1 ? 0 : n->n_ints, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &a, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 1, true, &b, err);
    if (st != ERT_OK)
        return st;
    if (!bin_pick(d, a->dtype, b->dtype)) {
        if (!d->pow && a->dtype != b->dtype)
            return ert_node_fail(err, n, ERT_EFORMAT, "inputs '%s' (%s) and '%s' (%s) differ in dtype", a->name,
                                 ert_dtype_name(a->dtype), b->name, ert_dtype_name(b->dtype));
        if (d->pow && pow_pick(a->dtype, ERT_DT_F32))
            return ert_ew_bad_dtype(n, b->name, b->dtype, err);
        return ert_ew_bad_dtype(n, a->name, a->dtype, err);
    }
    ert_shape bs, out;
    char s1[96], s2[96];
    if (n->n_ints == 1 && !legacy_align(&a->shape, &b->shape, n->ints[0], &bs))
        return ert_node_fail(err, n, ERT_EFORMAT, "legacy broadcast axis %lld does not fit shapes %s and %s",
                             (long long)n->ints[0], ert_shape_str(&a->shape, s1, sizeof s1),
                             ert_shape_str(&b->shape, s2, sizeof s2));
    const ert_shape *pb = n->n_ints == 1 ? &bs : &b->shape;
    bool ok = d->unidir || n->n_ints == 1 ? ert_bcast_onto(pb, &a->shape) : ert_bcast_shapes(&a->shape, pb, &out);
    if (!ok)
        return ert_node_fail(err, n, ERT_EFORMAT, "shapes %s and %s do not broadcast%s",
                             ert_shape_str(&a->shape, s1, sizeof s1), ert_shape_str(&b->shape, s2, sizeof s2),
                             d->unidir ? " (the second must broadcast onto the first)" : "");
    if (d->unidir || n->n_ints == 1)
        out = a->shape;
    ert_dtype odt = d->to_bool ? ERT_DT_BOOL : a->dtype;
    if (!d->fuses && n->act != ERT_ACT_NONE)
        return ert_node_fail(err, n, ERT_EFORMAT, "cannot apply a fused activation");
    st = ert_ew_check_act(n, odt, err);
    if (st != ERT_OK)
        return st;
    return ert_ew_output(g, n, 0, odt, &out, err);
}

static ert_status bin_run(const bin_desc *d, const ert_ctx *ctx, const ert_graph *g, const ert_node *n)
{
    const ert_tensor *a = &g->tensors[n->in[0]], *b = &g->tensors[n->in[1]], *y = &g->tensors[n->out[0]];
    ert_shape tmp;
    bin_apply(ctx->pool, bin_pick(d, a->dtype, b->dtype), y->data, ert_dtype_size(y->dtype), &y->shape, a->data,
              ert_dtype_size(a->dtype), &a->shape, b->data, ert_dtype_size(b->dtype), b_shape(n, a, b, &tmp),
              d->fuses && n->act != ERT_ACT_NONE ? n : NULL);
    return ERT_OK;
}

#define BINARY_OP(ID, PRELU, ...)                                                                              \
    static const bin_desc bd_##ID = {__VA_ARGS__};                                                             \
    static ert_status parse_##ID(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)       \
    {                                                                                                          \
        (void)g;                                                                                               \
        return bin_parse(n, attrs, opset, PRELU, err);                                                         \
    }                                                                                                          \
    static ert_status infer_##ID(ert_graph *g, ert_node *n, ert_error *err)                                    \
    {                                                                                                          \
        return bin_infer(&bd_##ID, g, n, err);                                                                 \
    }                                                                                                          \
    static ert_status run_##ID(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)      \
    {                                                                                                          \
        (void)err;                                                                                             \
        return bin_run(&bd_##ID, ctx, g, n);                                                                   \
    }

#define ARITH(OP)                                                                                              \
    .fuses = true, .f32 = OP##_f32_k, .f64 = OP##_f64_k, .i64 = OP##_i64_k, .i32 = OP##_i32_k,                 \
    .i8 = OP##_i8_k, .u8 = OP##_u8_k
#define CMP(OP)                                                                                                \
    .to_bool = true, .f32 = OP##_f32_k, .f64 = OP##_f64_k, .i64 = OP##_i64_k, .i32 = OP##_i32_k,               \
    .i8 = OP##_i8_k, .u8 = OP##_u8_k
BINARY_OP(add, false, ARITH(add))
BINARY_OP(sub, false, ARITH(sub))
BINARY_OP(mul, false, ARITH(mul))
BINARY_OP(div, false, ARITH(div))
BINARY_OP(pow, false, .fuses = true, .pow = true)
BINARY_OP(prelu, true, .fuses = true, .unidir = true, .f32 = prelu_f32_k)
BINARY_OP(eq, false, CMP(eq), .b8 = eq_b8_k)
BINARY_OP(lt, false, CMP(lt))
BINARY_OP(gt, false, CMP(gt))
BINARY_OP(le, false, CMP(le))
BINARY_OP(ge, false, CMP(ge))
BINARY_OP(and, false, .to_bool = true, .b8 = and_b8_k)
BINARY_OP(or, false, .to_bool = true, .b8 = or_b8_k)
BINARY_OP(xor, false, .to_bool = true, .b8 = xor_b8_k)

/* ================= variadic Max, Min, Sum, Mean ================= */

/* No params. With three or more inputs the partial results alternate between the
 * scratch buffer and the output (kernels never read the buffer they write). */
static const bin_desc vd_max = {ARITH(max)}, vd_min = {ARITH(min)}, vd_sum = {ARITH(add)},
                      vd_mean = {.fuses = true, .f32 = add_f32_k, .f64 = add_f64_k};

static ert_status var_infer(const bin_desc *d, ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *a;
    ert_status st = ert_ew_arity(g, n, 1, UINT32_MAX, 1, 1, 0, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &a, err);
    if (st != ERT_OK)
        return st;
    if (!bin_pick(d, a->dtype, a->dtype))
        return ert_ew_bad_dtype(n, a->name, a->dtype, err);
    ert_shape out = a->shape;
    for (uint32_t i = 1; i < n->n_in; i++) {
        ert_tensor *b;
        char s1[96], s2[96];
        st = ert_ew_input(g, n, i, true, &b, err);
        if (st != ERT_OK)
            return st;
        if (b->dtype != a->dtype)
            return ert_node_fail(err, n, ERT_EFORMAT, "inputs '%s' (%s) and '%s' (%s) differ in dtype", a->name,
                                 ert_dtype_name(a->dtype), b->name, ert_dtype_name(b->dtype));
        ert_shape prev = out;
        if (!ert_bcast_shapes(&prev, &b->shape, &out))
            return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' (%s) does not broadcast with shape %s", b->name,
                                 ert_shape_str(&b->shape, s1, sizeof s1), ert_shape_str(&prev, s2, sizeof s2));
    }
    st = ert_ew_check_act(n, a->dtype, err);
    if (st != ERT_OK)
        return st;
    return ert_ew_output(g, n, 0, a->dtype, &out, err);
}

static size_t var_scratch(const ert_graph *g, const ert_node *n)
{
    size_t bytes = 0;
    const ert_tensor *y = &g->tensors[n->out[0]];
    if (n->n_in >= 3)
        ert_shape_bytes(&y->shape, y->dtype, &bytes);
    return bytes;
}

static ert_status var_run(const bin_desc *d, const ert_ctx *ctx, const ert_graph *g, const ert_node *n, bool mean)
{
    const ert_tensor *y = &g->tensors[n->out[0]], *a = &g->tensors[n->in[0]];
    size_t es = ert_dtype_size(y->dtype), count = 0;
    ert_shape_numel(&y->shape, &count);
    bin_fn f = bin_pick(d, y->dtype, y->dtype);
    uint32_t steps = n->n_in - 1;
    if (steps == 0) {
        /* one input: broadcast-copy it (it has the output's shape) */
        if (count)
            memcpy(y->data, a->data, count * es);
    }
    const void *src = a->data;
    const ert_shape *src_shape = &a->shape;
    for (uint32_t j = 1; j <= steps; j++) {
        const ert_tensor *b = &g->tensors[n->in[j]];
        void *dst = (steps - j) % 2 == 0 ? y->data : ctx->scratch;
        bin_apply(ctx->pool, f, dst, es, &y->shape, src, es, src_shape, b->data, es, &b->shape,
                  j == steps && !mean && n->act != ERT_ACT_NONE ? n : NULL);
        src = dst;
        src_shape = &y->shape;
    }
    if (mean && y->dtype == ERT_DT_F32) {
        float *o = y->data, k = (float)n->n_in;
        for (size_t i = 0; i < count; i++)
            o[i] /= k;
    } else if (mean) {
        double *o = y->data, k = (double)n->n_in;
        for (size_t i = 0; i < count; i++)
            o[i] /= k;
    }
    if (n->act != ERT_ACT_NONE && (mean || steps == 0))
        ert_act_apply(y->data, count, n->act, n->act_alpha, n->act_beta);
    return ERT_OK;
}

#define VARIADIC_OP(ID, MEAN)                                                                                  \
    static ert_status infer_##ID(ert_graph *g, ert_node *n, ert_error *err)                                    \
    {                                                                                                          \
        return var_infer(&vd_##ID, g, n, err);                                                                 \
    }                                                                                                          \
    static ert_status run_##ID(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)      \
    {                                                                                                          \
        (void)err;                                                                                             \
        return var_run(&vd_##ID, ctx, g, n, MEAN);                                                             \
    }
VARIADIC_OP(max, false)
VARIADIC_OP(min, false)
VARIADIC_OP(sum, false)
VARIADIC_OP(mean, true)

static ert_status parse_variadic(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    (void)g, (void)n, (void)err;
    if (opset < 6)
        ert_attr_ignore(attrs, "consumed_inputs");
    return ERT_OK;
}

/* ================= Where, Expand (any dtype) ================= */

static ert_status infer_where(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *c, *x, *y;
    ert_status st = ert_ew_arity(g, n, 3, 3, 1, 1, 0, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &c, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 1, true, &x, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 2, true, &y, err);
    if (st != ERT_OK)
        return st;
    if (c->dtype != ERT_DT_BOOL)
        return ert_node_fail(err, n, ERT_EFORMAT, "condition '%s' must be bool, is %s", c->name,
                             ert_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs '%s' (%s) and '%s' (%s) differ in dtype", x->name,
                             ert_dtype_name(x->dtype), y->name, ert_dtype_name(y->dtype));
    ert_shape t, out;
    char s1[96], s2[96], s3[96];
    if (!ert_bcast_shapes(&c->shape, &x->shape, &t) || !ert_bcast_shapes(&t, &y->shape, &out))
        return ert_node_fail(err, n, ERT_EFORMAT, "shapes %s, %s and %s do not broadcast",
                             ert_shape_str(&c->shape, s1, sizeof s1), ert_shape_str(&x->shape, s2, sizeof s2),
                             ert_shape_str(&y->shape, s3, sizeof s3));
    return ert_ew_output(g, n, 0, x->dtype, &out, err);
}

#define WHERE_ROW(T)                                                                                           \
    do {                                                                                                       \
        T *restrict o_ = (T *)o + off[0];                                                                      \
        const uint8_t *restrict c_ = (const uint8_t *)c + off[1];                                              \
        const T *restrict x_ = (const T *)x + off[2], *restrict y_ = (const T *)y + off[3];                    \
        for (size_t i = 0; i < p.inner; i++)                                                                   \
            o_[i] = c_[i * sc] ? x_[i * sx] : y_[i * sy];                                                      \
    } while (0)

static ert_status run_where(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *tc = &g->tensors[n->in[0]], *tx = &g->tensors[n->in[1]], *ty = &g->tensors[n->in[2]];
    const ert_tensor *to = &g->tensors[n->out[0]];
    size_t count = 0;
    ert_shape_numel(&to->shape, &count);
    if (!count)
        return ERT_OK;
    size_t str[4][ERT_MAX_RANK];
    ert_bcast_strides(&to->shape, &to->shape, str[0]);
    ert_bcast_strides(&tc->shape, &to->shape, str[1]);
    ert_bcast_strides(&tx->shape, &to->shape, str[2]);
    ert_bcast_strides(&ty->shape, &to->shape, str[3]);
    ert_bplan p;
    ert_bplan_init(&p, &to->shape, (const size_t(*)[ERT_MAX_RANK])str, 4);
    int last = p.rank - 1;
    size_t sc = p.str[1][last], sx = p.str[2][last], sy = p.str[3][last];
    size_t idx[ERT_MAX_RANK] = {0}, off[4] = {0, 0, 0, 0};
    void *o = to->data;
    const void *c = tc->data, *x = tx->data, *y = ty->data;
    size_t es = ert_dtype_size(to->dtype);
    for (size_t r = 0; r < p.rows; r++) {
        if (es == 8)
            WHERE_ROW(uint64_t);
        else if (es == 4)
            WHERE_ROW(uint32_t);
        else
            WHERE_ROW(uint8_t);
        ert_bplan_next(&p, idx, off);
    }
    return ERT_OK;
}

/* No params: the target shape is input 1, which must be a constant int64 vector. */
static ert_status infer_expand(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x, *s;
    ert_status st = ert_ew_arity(g, n, 2, 2, 1, 1, 0, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st == ERT_OK)
        st = ert_ew_const_input(g, n, 1, ERT_DT_I64, "shape", &s, err);
    if (st != ERT_OK)
        return st;
    if (s->shape.rank != 1 || s->shape.dims[0] > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "input 'shape' must be a vector of at most %d dims",
                             ERT_MAX_RANK);
    ert_shape want = {.rank = (int)s->shape.dims[0]}, out;
    const int64_t *v = s->data;
    for (int i = 0; i < want.rank; i++) {
        if (v[i] < 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "input 'shape' has negative dim %lld", (long long)v[i]);
        want.dims[i] = v[i];
    }
    char s1[96], s2[96];
    if (!ert_bcast_shapes(&x->shape, &want, &out))
        return ert_node_fail(err, n, ERT_EFORMAT, "cannot expand %s to %s", ert_shape_str(&x->shape, s1, sizeof s1),
                             ert_shape_str(&want, s2, sizeof s2));
    return ert_ew_output(g, n, 0, x->dtype, &out, err);
}

#define FILL_ROW(T)                                                                                            \
    do {                                                                                                       \
        T *restrict o_ = (T *)o + off[0];                                                                      \
        const T v_ = ((const T *)x)[off[1]];                                                                   \
        for (size_t i = 0; i < p.inner; i++)                                                                   \
            o_[i] = v_;                                                                                        \
    } while (0)

static ert_status run_expand(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *tx = &g->tensors[n->in[0]], *to = &g->tensors[n->out[0]];
    size_t count = 0;
    ert_shape_numel(&to->shape, &count);
    if (!count)
        return ERT_OK;
    size_t str[2][ERT_MAX_RANK];
    ert_bcast_strides(&to->shape, &to->shape, str[0]);
    ert_bcast_strides(&tx->shape, &to->shape, str[1]);
    ert_bplan p;
    ert_bplan_init(&p, &to->shape, (const size_t(*)[ERT_MAX_RANK])str, 2);
    bool contiguous = p.str[1][p.rank - 1] != 0;
    size_t es = ert_dtype_size(to->dtype);
    size_t idx[ERT_MAX_RANK] = {0}, off[2] = {0, 0};
    char *o = to->data;
    const char *x = tx->data;
    for (size_t r = 0; r < p.rows; r++) {
        if (contiguous)
            memcpy(o + off[0] * es, x + off[1] * es, p.inner * es);
        else if (es == 8)
            FILL_ROW(uint64_t);
        else if (es == 4)
            FILL_ROW(uint32_t);
        else
            FILL_ROW(uint8_t);
        ert_bplan_next(&p, idx, off);
    }
    return ERT_OK;
}

const ert_op_def ert_ops_binary[] = {
    ERT_OP("Add", parse_add, infer_add, NULL, run_add, true),
    ERT_OP("Sub", parse_sub, infer_sub, NULL, run_sub, true),
    ERT_OP("Mul", parse_mul, infer_mul, NULL, run_mul, true),
    ERT_OP("Div", parse_div, infer_div, NULL, run_div, true),
    ERT_OP("Pow", parse_pow, infer_pow, NULL, run_pow, true),
    ERT_OP("PRelu", parse_prelu, infer_prelu, NULL, run_prelu, true),
    ERT_OP("Equal", parse_eq, infer_eq, NULL, run_eq, false),
    ERT_OP("Less", parse_lt, infer_lt, NULL, run_lt, false),
    ERT_OP("Greater", parse_gt, infer_gt, NULL, run_gt, false),
    ERT_OP("LessOrEqual", parse_le, infer_le, NULL, run_le, false),
    ERT_OP("GreaterOrEqual", parse_ge, infer_ge, NULL, run_ge, false),
    ERT_OP("And", parse_and, infer_and, NULL, run_and, false),
    ERT_OP("Or", parse_or, infer_or, NULL, run_or, false),
    ERT_OP("Xor", parse_xor, infer_xor, NULL, run_xor, false),
    ERT_OP("Max", parse_variadic, infer_max, var_scratch, run_max, true),
    ERT_OP("Min", parse_variadic, infer_min, var_scratch, run_min, true),
    ERT_OP("Sum", parse_variadic, infer_sum, var_scratch, run_sum, true),
    ERT_OP("Mean", parse_variadic, infer_mean, var_scratch, run_mean, true),
    ERT_OP("Where", NULL, infer_where, NULL, run_where, false),
    ERT_OP("Expand", NULL, infer_expand, NULL, run_expand, false),
    ERT_OP_END,
};
