/* Kernels: Reduce* over any set of axes, Softmax/LogSoftmax (both opset semantics)
 * and ArgMax/ArgMin. */
#include "ew_common.h"

#include "embedrt/pool.h"

#include <math.h>
#include <string.h>

/* ================= Reduce* ================= */

/* What is accumulated per element; MEAN, L2, LOGSUM and LOGSUMEXP post-process. */
enum { K_SUM, K_SUMSQ, K_L1, K_MAX, K_MIN, K_PROD, K_EXPSUM, K_COUNT };
enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_SUMSQ, R_L1, R_L2, R_LOGSUM, R_LSE };

#define ADD_(a, v) ((a) + (v))
#define MUL_(a, v) ((a) * (v))
#define FMAX_(a, v) (((v) > (a) || (v) != (v)) ? (v) : (a)) /* NaN propagates like numpy */
#define FMIN_(a, v) (((v) < (a) || (v) != (v)) ? (v) : (a))
#define ID_(v, m) (v)
#define SQ_(v, m) ((v) * (v))

/* Per float type and kind: h_ folds one contiguous row into a single value
 * (eight partial lanes so the compiler can vectorise without reassociating), v_
 * folds a row elementwise into an output row. m: the row maxima for EXPSUM. */
#define FRED(SUF, T, KIND, INIT, XF, COMB)                                                                     \
    static T h_##KIND##_##SUF(const T *restrict x, size_t n, T init, T m)                                      \
    {                                                                                                          \
        T acc[8];                                                                                              \
        for (int k = 0; k < 8; k++)                                                                            \
            acc[k] = (INIT);                                                                                   \
        size_t i = 0;                                                                                          \
        for (; i + 8 <= n; i += 8)                                                                             \
            for (int k = 0; k < 8; k++) {                                                                      \
                const T v = XF(x[i + k], m);                                                                   \
                acc[k] = COMB(acc[k], v);                                                                      \
            }                                                                                                  \
        T r = init;                                                                                            \
        for (; i < n; i++) {                                                                                   \
            const T v = XF(x[i], m);                                                                           \
            r = COMB(r, v);                                                                                    \
        }                                                                                                      \
        for (int k = 0; k < 8; k++)                                                                            \
            r = COMB(r, acc[k]);                                                                               \
        (void)m;                                                                                               \
        return r;                                                                                              \
    }                                                                                                          \
    static void v_##KIND##_##SUF(T *restrict o, const T *restrict x, size_t n, const T *restrict m)           \
    {                                                                                                          \
        for (size_t i = 0; i < n; i++) {                                                                       \
            const T v = XF(x[i], m[i]);                                                                        \
            o[i] = COMB(o[i], v);                                                                              \
        }                                                                                                      \
        (void)m;                                                                                               \
    }

#define ABSF_(v, m) fabsf(v)
#define EXPF_(v, m) expf((v) - (m))
#define ABSD_(v, m) fabs(v)
#define EXPD_(v, m) exp((v) - (m))
FRED(f32, float, sum, 0.0f, ID_, ADD_)
FRED(f32, float, sumsq, 0.0f, SQ_, ADD_)
FRED(f32, float, l1, 0.0f, ABSF_, ADD_)
FRED(f32, float, max, -INFINITY, ID_, FMAX_)
FRED(f32, float, min, INFINITY, ID_, FMIN_)
FRED(f32, float, prod, 1.0f, ID_, MUL_)
FRED(f32, float, expsum, 0.0f, EXPF_, ADD_)
FRED(f64, double, sum, 0.0, ID_, ADD_)
FRED(f64, double, sumsq, 0.0, SQ_, ADD_)
FRED(f64, double, l1, 0.0, ABSD_, ADD_)
FRED(f64, double, max, -INFINITY, ID_, FMAX_)
FRED(f64, double, min, INFINITY, ID_, FMIN_)
FRED(f64, double, prod, 1.0, ID_, MUL_)
FRED(f64, double, expsum, 0.0, EXPD_, ADD_)

/* Integer sums and products wrap through the unsigned type (no overflow UB). */
#define IRED(SUF, T, KIND, COMB)                                                                               \
    static T h_##KIND##_##SUF(const T *restrict x, size_t n, T init, T m)                                      \
    {                                                                                                          \
        T r = init;                                                                                            \
        for (size_t i = 0; i < n; i++)                                                                         \
            r = COMB(r, x[i]);                                                                                 \
        (void)m;                                                                                               \
        return r;                                                                                              \
    }                                                                                                          \
    static void v_##KIND##_##SUF(T *restrict o, const T *restrict x, size_t n, const T *restrict m)           \
    {                                                                                                          \
        for (size_t i = 0; i < n; i++)                                                                         \
            o[i] = COMB(o[i], x[i]);                                                                           \
        (void)m;                                                                                               \
    }
#define IMAX_(a, v) ((v) > (a) ? (v) : (a))
#define IMIN_(a, v) ((v) < (a) ? (v) : (a))
#define WADD64_(a, v) ((int64_t)((uint64_t)(a) + (uint64_t)(v)))
#define WMUL64_(a, v) ((int64_t)((uint64_t)(a) * (uint64_t)(v)))
#define WADD32_(a, v) ((int32_t)((uint32_t)(a) + (uint32_t)(v)))
#define WMUL32_(a, v) ((int32_t)((uint32_t)(a) * (uint32_t)(v)))
IRED(i64, int64_t, sum, WADD64_)
IRED(i64, int64_t, max, IMAX_)
IRED(i64, int64_t, min, IMIN_)
IRED(i64, int64_t, prod, WMUL64_)
IRED(i32, int32_t, sum, WADD32_)
IRED(i32, int32_t, max, IMAX_)
IRED(i32, int32_t, min, IMIN_)
IRED(i32, int32_t, prod, WMUL32_)

/* The row loop of one type: out (operand 0 of the plan) += f(x (operand 1)). */
#define RED_DRIVER(SUF, T)                                                                                     \
    typedef struct {                                                                                           \
        T (*h)(const T *restrict, size_t, T, T);                                                               \
        void (*v)(T *restrict, const T *restrict, size_t, const T *restrict);                                  \
    } rk_##SUF;                                                                                                \
    static void red_rows_##SUF(const ert_bplan *p, rk_##SUF k, T *o, const T *x, const T *m)                   \
    {                                                                                                          \
        size_t idx[ERT_MAX_RANK] = {0}, off[2] = {0, 0};                                                       \
        bool horiz = p->str[0][p->rank - 1] == 0;                                                              \
        for (size_t r = 0; r < p->rows; r++) {                                                                 \
            if (horiz)                                                                                         \
                o[off[0]] = k.h(x + off[1], p->inner, o[off[0]], m ? m[off[0]] : (T)0);                        \
            else                                                                                               \
                k.v(o + off[0], x + off[1], p->inner, m ? m + off[0] : x + off[1]);                            \
            ert_bplan_next(p, idx, off);                                                                       \
        }                                                                                                      \
    }
RED_DRIVER(f32, float)
RED_DRIVER(f64, double)
RED_DRIVER(i64, int64_t)
RED_DRIVER(i32, int32_t)

static const rk_f32 rk_f32_tab[K_COUNT] = {
    [K_SUM] = {h_sum_f32, v_sum_f32},       [K_SUMSQ] = {h_sumsq_f32, v_sumsq_f32}, [K_L1] = {h_l1_f32, v_l1_f32},
    [K_MAX] = {h_max_f32, v_max_f32},       [K_MIN] = {h_min_f32, v_min_f32},       [K_PROD] = {h_prod_f32, v_prod_f32},
    [K_EXPSUM] = {h_expsum_f32, v_expsum_f32},
};
static const rk_f64 rk_f64_tab[K_COUNT] = {
    [K_SUM] = {h_sum_f64, v_sum_f64},       [K_SUMSQ] = {h_sumsq_f64, v_sumsq_f64}, [K_L1] = {h_l1_f64, v_l1_f64},
    [K_MAX] = {h_max_f64, v_max_f64},       [K_MIN] = {h_min_f64, v_min_f64},       [K_PROD] = {h_prod_f64, v_prod_f64},
    [K_EXPSUM] = {h_expsum_f64, v_expsum_f64},
};
static const rk_i64 rk_i64_tab[K_COUNT] = {
    [K_SUM] = {h_sum_i64, v_sum_i64}, [K_MAX] = {h_max_i64, v_max_i64},
    [K_MIN] = {h_min_i64, v_min_i64}, [K_PROD] = {h_prod_i64, v_prod_i64},
};
static const rk_i32 rk_i32_tab[K_COUNT] = {
    [K_SUM] = {h_sum_i32, v_sum_i32}, [K_MAX] = {h_max_i32, v_max_i32},
    [K_MIN] = {h_min_i32, v_min_i32}, [K_PROD] = {h_prod_i32, v_prod_i32},
};

static int red_kind(int op)
{
    switch (op) {
    case R_MAX: return K_MAX;
    case R_MIN: return K_MIN;
    case R_PROD: return K_PROD;
    case R_SUMSQ:
    case R_L2: return K_SUMSQ;
    case R_L1: return K_L1;
    case R_LSE: return K_EXPSUM;
    default: return K_SUM;
    }
}

static bool red_dtype_ok(int op, ert_dtype dt)
{
    if (dt == ERT_DT_F32 || dt == ERT_DT_F64)
        return true;
    if (dt == ERT_DT_I64 || dt == ERT_DT_I32)
        return op == R_SUM || op == R_MAX || op == R_MIN || op == R_PROD;
    return false;
}

typedef struct red_desc {
    int op;
    int axes_input_opset; /* from this opset on, axes is input 1 (ReduceSum 13, the others 18) */
} red_desc;

/* Params: ints = [keepdims, noop_with_empty_axes, axes...] (axes from the attribute;
 * none when they come from input 1, which must then be a constant int64 vector).
 * Empty axes reduce everything, or nothing with noop_with_empty_axes. */
static ert_status red_parse(const red_desc *d, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    int64_t p[2 + ERT_MAX_RANK];
    const int64_t *axes = NULL;
    size_t n_axes = 0;
    int64_t keep, noop = 0;
    ert_status st = ert_attr_int(attrs, n, "keepdims", 1, &keep, err);
    if (st == ERT_OK && opset >= d->axes_input_opset)
        st = ert_attr_int(attrs, n, "noop_with_empty_axes", 0, &noop, err);
    if (st == ERT_OK && opset < d->axes_input_opset)
        st = ert_attr_ints(attrs, n, "axes", &axes, &n_axes, err);
    if (st != ERT_OK)
        return st;
    if (n_axes > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "attribute 'axes' has %zu entries (max %d)", n_axes, ERT_MAX_RANK);
    p[0] = keep != 0;
    p[1] = noop != 0;
    for (size_t i = 0; i < n_axes; i++)
        p[2 + i] = axes[i];
    return ert_node_set_params(n, p, (uint32_t)(2 + n_axes), NULL, 0, err);
}

/* Bit d of *mask set: dim d is reduced. Trusted after infer checked it once. */
static ert_status red_mask(const ert_graph *g, const ert_node *n, int rank, unsigned *mask, ert_error *err)
{
    const int64_t *axes = n->ints + 2;
    size_t n_axes = n->n_ints - 2;
    const ert_tensor *t = ert_node_input(g, n, 1);
    if (t) {
        axes = t->data;
        n_axes = (size_t)t->shape.dims[0];
    }
    *mask = 0;
    for (size_t i = 0; i < n_axes; i++) {
        int64_t a = axes[i];
        if (a < -rank || a >= rank)
            return ert_node_fail(err, n, ERT_EFORMAT, "axis %lld out of range for rank %d", (long long)a, rank);
        if (a < 0)
            a += rank;
        if (*mask & (1u << a))
            return ert_node_fail(err, n, ERT_EFORMAT, "axis %lld listed twice", (long long)axes[i]);
        *mask |= 1u << a;
    }
    if (n_axes == 0 && !n->ints[1])
        *mask = (1u << rank) - 1;
    return ERT_OK;
}

static void red_shapes(const ert_shape *in, unsigned mask, bool keep, ert_shape *out, ert_shape *kept)
{
    out->rank = 0;
    kept->rank = in->rank;
    for (int d = 0; d < in->rank; d++) {
        bool r = mask & (1u << d);
        kept->dims[d] = r ? 1 : in->dims[d];
        if (!r || keep)
            out->dims[out->rank++] = kept->dims[d];
    }
}

static ert_status red_infer(const red_desc *d, ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x, *axes;
    if (n->n_ints < 2 || n->n_ints > 2 + ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int params, expected 2 to %d", n->n_ints, 2 + ERT_MAX_RANK);
    ert_status st = ert_ew_arity(g, n, 1, 2, 1, 1, n->n_ints, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 1, false, &axes, err);
    if (st != ERT_OK)
        return st;
    if (!red_dtype_ok(d->op, x->dtype))
        return ert_ew_bad_dtype(n, x->name, x->dtype, err);
    if ((n->ints[0] != 0 && n->ints[0] != 1) || (n->ints[1] != 0 && n->ints[1] != 1))
        return ert_node_fail(err, n, ERT_EFORMAT, "params keepdims/noop_with_empty_axes must be 0 or 1");
    if (axes) {
        if (n->n_ints != 2)
            return ert_node_fail(err, n, ERT_EFORMAT, "has both an 'axes' attribute and an axes input");
        st = ert_ew_const_input(g, n, 1, ERT_DT_I64, "axes", &axes, err);
        if (st != ERT_OK)
            return st;
        if (axes->shape.rank != 1 || axes->shape.dims[0] > ERT_MAX_RANK)
            return ert_node_fail(err, n, ERT_EFORMAT, "input 'axes' must be a vector of at most %d entries",
                                 ERT_MAX_RANK);
    }
    unsigned mask;
    st = red_mask(g, n, x->shape.rank, &mask, err);
    if (st != ERT_OK)
        return st;
    ert_shape out, kept;
    red_shapes(&x->shape, mask, n->ints[0], &out, &kept);
    return ert_ew_output(g, n, 0, x->dtype, &out, err);
}

static size_t red_scratch_for(const red_desc *d, const ert_graph *g, const ert_node *n)
{
    size_t bytes = 0;
    const ert_tensor *y = &g->tensors[n->out[0]];
    if (d->op == R_LSE)
        ert_shape_bytes(&y->shape, y->dtype, &bytes);
    return bytes;
}

/* Fills with the identity of the accumulation. */
#define RED_INIT(T, o, count, kind, TMAX, TLOW)                                                                \
    do {                                                                                                       \
        T v0 = (kind) == K_MAX ? (TLOW) : (kind) == K_MIN ? (TMAX) : (kind) == K_PROD ? (T)1 : (T)0;           \
        for (size_t i = 0; i < (count); i++)                                                                   \
            ((T *)(o))[i] = v0;                                                                                \
    } while (0)

/* Divides, roots or logs the accumulated sums in place. */
#define RED_POST(T, o, m, count, op, per, SQRT, LOG)                                                           \
    do {                                                                                                       \
        T *o_ = (o);                                                                                           \
        const T *m_ = (m);                                                                                     \
        for (size_t i = 0; i < (count); i++) {                                                                 \
            if ((op) == R_MEAN)                                                                                \
                o_[i] = o_[i] / (T)(per);                                                                      \
            else if ((op) == R_L2)                                                                             \
                o_[i] = SQRT(o_[i]);                                                                           \
            else if ((op) == R_LOGSUM)                                                                         \
                o_[i] = LOG(o_[i]);                                                                            \
            else if ((op) == R_LSE)                                                                            \
                o_[i] = m_[i] + LOG(o_[i]);                                                                    \
        }                                                                                                      \
    } while (0)

static ert_status red_run(const red_desc *d, const ert_ctx *ctx, const ert_graph *g, const ert_node *n)
{
    const ert_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
    unsigned mask = 0;
    red_mask(g, n, x->shape.rank, &mask, NULL);
    size_t in_count = 0, out_count = 0;
    ert_shape_numel(&x->shape, &in_count);
    ert_shape_numel(&y->shape, &out_count);
    if (n->ints[1] && mask == 0) { /* noop_with_empty_axes with no axes: a copy */
        if (out_count)
            memcpy(y->data, x->data, out_count * ert_dtype_size(y->dtype));
        return ERT_OK;
    }
    ert_shape out, kept;
    red_shapes(&x->shape, mask, n->ints[0], &out, &kept);
    size_t str[2][ERT_MAX_RANK];
    ert_bcast_strides(&kept, &x->shape, str[0]);
    ert_bcast_strides(&x->shape, &x->shape, str[1]);
    ert_bplan p;
    ert_bplan_init(&p, &x->shape, (const size_t(*)[ERT_MAX_RANK])str, 2);
    if (!in_count)
        p.rows = 0; /* nothing to fold: outputs keep the identity */
    int kind = red_kind(d->op);
    size_t per = out_count ? in_count / out_count : 0;
    switch (x->dtype) {
    case ERT_DT_F32: {
        float *m = NULL;
        if (d->op == R_LSE) {
            /* max first so exp never overflows; non-finite maxima shift by 0 instead */
            m = ctx->scratch;
            RED_INIT(float, m, out_count, K_MAX, INFINITY, -INFINITY);
            red_rows_f32(&p, rk_f32_tab[K_MAX], m, x->data, NULL);
            for (size_t i = 0; i < out_count; i++)
                m[i] = isfinite(m[i]) ? m[i] : 0.0f;
        }
        RED_INIT(float, y->data, out_count, kind, INFINITY, -INFINITY);
        red_rows_f32(&p, rk_f32_tab[kind], y->data, x->data, m);
        RED_POST(float, y->data, m, out_count, d->op, per, sqrtf, logf);
    } break;
    case ERT_DT_F64: {
        double *m = NULL;
        if (d->op == R_LSE) {
            m = ctx->scratch;
            RED_INIT(double, m, out_count, K_MAX, INFINITY, -INFINITY);
            red_rows_f64(&p, rk_f64_tab[K_MAX], m, x->data, NULL);
            for (size_t i = 0; i < out_count; i++)
                m[i] = isfinite(m[i]) ? m[i] : 0.0;
        }
        RED_INIT(double, y->data, out_count, kind, INFINITY, -INFINITY);
        red_rows_f64(&p, rk_f64_tab[kind], y->data, x->data, m);
        RED_POST(double, y->data, m, out_count, d->op, per, sqrt, log);
    } break;
    case ERT_DT_I64:
        RED_INIT(int64_t, y->data, out_count, kind, INT64_MAX, INT64_MIN);
        red_rows_i64(&p, rk_i64_tab[kind], y->data, x->data, NULL);
        break;
    case ERT_DT_I32:
        RED_INIT(int32_t, y->data, out_count, kind, INT32_MAX, INT32_MIN);
        red_rows_i32(&p, rk_i32_tab[kind], y->data, x->data, NULL);
        break;
    default:
        break;
    }
    return ERT_OK;
}

#define REDUCE_OP(ID, OP, OPSET)                                                                               \
    static const red_desc rd_##ID = {OP, OPSET};                                                               \
    static ert_status parse_##ID(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)       \
    {                                                                                                          \
        (void)g;                                                                                               \
        return red_parse(&rd_##ID, n, attrs, opset, err);                                                      \
    }                                                                                                          \
    static ert_status infer_##ID(ert_graph *g, ert_node *n, ert_error *err)                                    \
    {                                                                                                          \
        return red_infer(&rd_##ID, g, n, err);                                                                 \
    }                                                                                                          \
    static size_t scratch_##ID(const ert_graph *g, const ert_node *n)                                          \
    {                                                                                                          \
        return red_scratch_for(&rd_##ID, g, n);                                                                \
    }                                                                                                          \
    static ert_status run_##ID(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)      \
    {                                                                                                          \
        (void)err;                                                                                             \
        return red_run(&rd_##ID, ctx, g, n);                                                                   \
    }
REDUCE_OP(rsum, R_SUM, 13)
REDUCE_OP(rmean, R_MEAN, 18)
REDUCE_OP(rmax, R_MAX, 18)
REDUCE_OP(rmin, R_MIN, 18)
REDUCE_OP(rprod, R_PROD, 18)
REDUCE_OP(rsumsq, R_SUMSQ, 18)
REDUCE_OP(rl1, R_L1, 18)
REDUCE_OP(rl2, R_L2, 18)
REDUCE_OP(rlogsum, R_LOGSUM, 18)
REDUCE_OP(rlse, R_LSE, 18)

/* ================= Softmax, LogSoftmax ================= */

/* Params: ints = [axis, legacy]. legacy (opset < 13): the input is seen as 2-D
 * [prod(dims[:axis]), prod(dims[axis:])] and normalised along the second (default
 * axis 1); otherwise along the single axis (default -1). */
static ert_status parse_softmax_any(ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    int64_t p[2] = {0, opset < 13};
    ert_status st = ert_attr_int(attrs, n, "axis", p[1] ? 1 : -1, &p[0], err);
    if (st != ERT_OK)
        return st;
    return ert_node_set_params(n, p, 2, NULL, 0, err);
}

/* [outer, len, inner] of the normalised axis; valid after infer. */
static void softmax_dims(const ert_shape *s, int64_t axis, bool legacy, size_t *outer, size_t *len, size_t *inner)
{
    int a = (int)(axis < 0 ? axis + s->rank : axis);
    *outer = *len = *inner = 1;
    for (int d = 0; d < s->rank; d++) {
        size_t v = (size_t)s->dims[d];
        if (d < a)
            *outer *= v;
        else if (d == a || legacy)
            *len *= v;
        else
            *inner *= v;
    }
}

static ert_status infer_softmax_any(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x;
    ert_status st = ert_ew_arity(g, n, 1, 1, 1, 1, 2, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st != ERT_OK)
        return st;
    if (x->dtype != ERT_DT_F32)
        return ert_ew_bad_dtype(n, x->name, x->dtype, err);
    int r = x->shape.rank;
    int64_t axis = n->ints[0];
    if (n->ints[1] != 0 && n->ints[1] != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "param legacy must be 0 or 1");
    if (axis < -r || axis >= r)
        return ert_node_fail(err, n, ERT_EFORMAT, "axis %lld out of range for rank %d", (long long)axis, r);
    size_t outer, len, inner, scratch;
    softmax_dims(&x->shape, axis, n->ints[1], &outer, &len, &inner);
    if (!ert_mul_size(inner, 2 * sizeof(float), &scratch))
        return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' is too large", x->name);
    return ert_ew_output(g, n, 0, x->dtype, &x->shape, err);
}

static size_t scratch_softmax_any(const ert_graph *g, const ert_node *n)
{
    const ert_tensor *x = &g->tensors[n->in[0]];
    size_t outer, len, inner;
    softmax_dims(&x->shape, n->ints[0], n->ints[1], &outer, &len, &inner);
    return inner > 1 ? 2 * inner * sizeof(float) : 0;
}

static inline float row_max(const float *restrict x, size_t n)
{
    return h_max_f32(x, n, -INFINITY, 0.0f);
}

static void softmax_rows(float *restrict o, const float *restrict x, size_t rows, size_t len, bool log_)
{
    for (size_t r = 0; r < rows; r++, x += len, o += len) {
        const float m = row_max(x, len);
        if (log_) {
            /* (x - m) - log(s): subtracting m first keeps large inputs exact */
            const float ls = logf(h_expsum_f32(x, len, 0.0f, m));
            for (size_t i = 0; i < len; i++)
                o[i] = (x[i] - m) - ls;
        } else {
            float s = 0.0f;
            for (size_t i = 0; i < len; i++) {
                o[i] = expf(x[i] - m);
                s += o[i];
            }
            const float inv = 1.0f / s;
            for (size_t i = 0; i < len; i++)
                o[i] *= inv;
        }
    }
}

/* Strided axis: work on whole [len, inner] blocks so every loop runs along inner. */
static void softmax_blocks(float *restrict o, const float *restrict x, size_t outer, size_t len, size_t inner,
                           float *restrict mx, float *restrict acc, bool log_)
{
    for (size_t b = 0; b < outer; b++, x += len * inner, o += len * inner) {
        for (size_t j = 0; j < inner; j++) {
            mx[j] = -INFINITY;
            acc[j] = 0.0f;
        }
        for (size_t d = 0; d < len; d++)
            v_max_f32(mx, x + d * inner, inner, x + d * inner); /* m: unused by max */
        for (size_t d = 0; d < len; d++)
            for (size_t j = 0; j < inner; j++) {
                const float e = expf(x[d * inner + j] - mx[j]);
                o[d * inner + j] = e;
                acc[j] += e;
            }
        if (log_) {
            for (size_t j = 0; j < inner; j++)
                acc[j] = logf(acc[j]);
            for (size_t d = 0; d < len; d++)
                for (size_t j = 0; j < inner; j++)
                    o[d * inner + j] = (x[d * inner + j] - mx[j]) - acc[j];
        } else {
            for (size_t j = 0; j < inner; j++)
                acc[j] = 1.0f / acc[j];
            for (size_t d = 0; d < len; d++)
                for (size_t j = 0; j < inner; j++)
                    o[d * inner + j] *= acc[j];
        }
    }
}

typedef struct softmax_job {
    float *o;
    const float *x;
    size_t len;
    bool log_;
} softmax_job;

static void softmax_rows_part(void *arg, size_t begin, size_t end, int worker)
{
    (void)worker;
    const softmax_job *j = arg;
    softmax_rows(j->o + begin * j->len, j->x + begin * j->len, end - begin, j->len, j->log_);
}

static ert_status softmax_run(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, bool log_)
{
    const ert_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
    size_t outer, len, inner;
    softmax_dims(&x->shape, n->ints[0], n->ints[1], &outer, &len, &inner);
    if (!outer || !len || !inner)
        return ERT_OK;
    if (inner == 1) {
        /* Rows are independent: split them across the pool (exp dominates). */
        softmax_job j = {y->data, x->data, len, log_};
        ert_pool_run(ctx->pool, outer, len >= 4096 ? 1 : 4096 / len + 1, softmax_rows_part, &j);
    } else {
        float *mx = ctx->scratch;
        softmax_blocks(y->data, x->data, outer, len, inner, mx, mx + inner, log_);
    }
    return ERT_OK;
}

static ert_status parse_softmax(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    (void)g;
    return parse_softmax_any(n, attrs, opset, err);
}
static ert_status run_softmax(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)err;
    return softmax_run(ctx, g, n, false);
}
static ert_status run_logsoftmax(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)err;
    return softmax_run(ctx, g, n, true);
}

/* ================= ArgMax, ArgMin ================= */

/* Params: ints = [axis, keepdims, select_last_index]. Output int64. A NaN wins
 * (the first one, or the last with select_last_index), like numpy. */
static ert_status parse_arg(ert_graph *g, ert_node *n, ert_attrs *attrs, int opset, ert_error *err)
{
    (void)g;
    int64_t p[3];
    ert_status st = ert_attr_int(attrs, n, "axis", 0, &p[0], err);
    if (st == ERT_OK)
        st = ert_attr_int(attrs, n, "keepdims", 1, &p[1], err);
    p[2] = 0;
    if (st == ERT_OK && opset >= 12)
        st = ert_attr_int(attrs, n, "select_last_index", 0, &p[2], err);
    if (st != ERT_OK)
        return st;
    p[1] = p[1] != 0;
    p[2] = p[2] != 0;
    return ert_node_set_params(n, p, 3, NULL, 0, err);
}

static ert_status infer_arg(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_tensor *x;
    ert_status st = ert_ew_arity(g, n, 1, 1, 1, 1, 3, 0, err);
    if (st == ERT_OK)
        st = ert_ew_input(g, n, 0, true, &x, err);
    if (st != ERT_OK)
        return st;
    switch (x->dtype) {
    case ERT_DT_F32: case ERT_DT_F64: case ERT_DT_I64: case ERT_DT_I32: case ERT_DT_I8: case ERT_DT_U8:
        break;
    default:
        return ert_ew_bad_dtype(n, x->name, x->dtype, err);
    }
    int r = x->shape.rank;
    int64_t axis = n->ints[0];
    if (axis < -r || axis >= r)
        return ert_node_fail(err, n, ERT_EFORMAT, "axis %lld out of range for rank %d", (long long)axis, r);
    if ((n->ints[1] != 0 && n->ints[1] != 1) || (n->ints[2] != 0 && n->ints[2] != 1))
        return ert_node_fail(err, n, ERT_EFORMAT, "params keepdims/select_last_index must be 0 or 1");
    int a = (int)(axis < 0 ? axis + r : axis);
    if (x->shape.dims[a] == 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "axis %d of '%s' is empty", a, x->name);
    ert_shape out, kept;
    red_shapes(&x->shape, 1u << a, n->ints[1], &out, &kept);
    return ert_ew_output(g, n, 0, ERT_DT_I64, &out, err);
}

static size_t scratch_arg(const ert_graph *g, const ert_node *n)
{
    const ert_tensor *x = &g->tensors[n->in[0]];
    size_t outer, len, inner;
    softmax_dims(&x->shape, n->ints[0], false, &outer, &len, &inner);
    return inner * ert_dtype_size(x->dtype);
}

/* Walks each [len, inner] block along len, tracking the best value per inner lane. */
#define ARG_KERNEL(NAME, T, BETTER)                                                                            \
    static void NAME(int64_t *restrict o, const T *restrict x, size_t outer, size_t len, size_t inner,        \
                     T *restrict best, bool last)                                                              \
    {                                                                                                          \
        for (size_t b = 0; b < outer; b++, x += len * inner, o += inner) {                                     \
            for (size_t j = 0; j < inner; j++) {                                                               \
                best[j] = x[j];                                                                                \
                o[j] = 0;                                                                                      \
            }                                                                                                  \
            for (size_t d = 1; d < len; d++)                                                                   \
                for (size_t j = 0; j < inner; j++) {                                                           \
                    const T v = x[d * inner + j], c = best[j];                                                 \
                    if ((BETTER) || (last && v == c)) {                                                        \
                        best[j] = v;                                                                           \
                        o[j] = (int64_t)d;                                                                     \
                    }                                                                                          \
                }                                                                                              \
        }                                                                                                      \
    }
#define ARG_KERNELS(SUF, T, NAN_WINS)                                                                          \
    ARG_KERNEL(argmax_##SUF, T, v > c || (NAN_WINS))                                                           \
    ARG_KERNEL(argmin_##SUF, T, v < c || (NAN_WINS))
ARG_KERNELS(f32, float, v != v && c == c)
ARG_KERNELS(f64, double, v != v && c == c)
ARG_KERNELS(i64, int64_t, false)
ARG_KERNELS(i32, int32_t, false)
ARG_KERNELS(i8, int8_t, false)
ARG_KERNELS(u8, uint8_t, false)

static ert_status arg_run(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, bool max)
{
    const ert_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
    size_t outer, len, inner;
    softmax_dims(&x->shape, n->ints[0], false, &outer, &len, &inner);
    if (!outer || !inner)
        return ERT_OK;
    bool last = n->ints[2];
    int64_t *o = y->data;
    void *s = ctx->scratch;
#define ARG_CASE(DT, SUF, T)                                                                                   \
    case DT:                                                                                                   \
        (max ? argmax_##SUF : argmin_##SUF)(o, x->data, outer, len, inner, (T *)s, last);                      \
        break;
    switch (x->dtype) {
        ARG_CASE(ERT_DT_F32, f32, float)
        ARG_CASE(ERT_DT_F64, f64, double)
        ARG_CASE(ERT_DT_I64, i64, int64_t)
        ARG_CASE(ERT_DT_I32, i32, int32_t)
        ARG_CASE(ERT_DT_I8, i8, int8_t)
        ARG_CASE(ERT_DT_U8, u8, uint8_t)
    default:
        break;
    }
#undef ARG_CASE
    return ERT_OK;
}

static ert_status run_argmax(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)err;
    return arg_run(ctx, g, n, true);
}
static ert_status run_argmin(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)err;
    return arg_run(ctx, g, n, false);
}

const ert_op_def ert_ops_reduce[] = {
    ERT_OP("ReduceSum", parse_rsum, infer_rsum, scratch_rsum, run_rsum, false),
    ERT_OP("ReduceMean", parse_rmean, infer_rmean, scratch_rmean, run_rmean, false),
    ERT_OP("ReduceMax", parse_rmax, infer_rmax, scratch_rmax, run_rmax, false),
    ERT_OP("ReduceMin", parse_rmin, infer_rmin, scratch_rmin, run_rmin, false),
    ERT_OP("ReduceProd", parse_rprod, infer_rprod, scratch_rprod, run_rprod, false),
    ERT_OP("ReduceSumSquare", parse_rsumsq, infer_rsumsq, scratch_rsumsq, run_rsumsq, false),
    ERT_OP("ReduceL1", parse_rl1, infer_rl1, scratch_rl1, run_rl1, false),
    ERT_OP("ReduceL2", parse_rl2, infer_rl2, scratch_rl2, run_rl2, false),
    ERT_OP("ReduceLogSum", parse_rlogsum, infer_rlogsum, scratch_rlogsum, run_rlogsum, false),
    ERT_OP("ReduceLogSumExp", parse_rlse, infer_rlse, scratch_rlse, run_rlse, false),
    ERT_OP("Softmax", parse_softmax, infer_softmax_any, scratch_softmax_any, run_softmax, false),
    ERT_OP("LogSoftmax", parse_softmax, infer_softmax_any, scratch_softmax_any, run_logsoftmax, false),
    ERT_OP("ArgMax", parse_arg, infer_arg, scratch_arg, run_argmax, false),
    ERT_OP("ArgMin", parse_arg, infer_arg, scratch_arg, run_argmin, false),
    ERT_OP_END,
};
