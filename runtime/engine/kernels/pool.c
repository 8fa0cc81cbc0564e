/* Kernels: MaxPool (float32/uint8/int8, optional Indices), AveragePool, LpPool (1-D..3-D)
 * and GlobalAveragePool / GlobalMaxPool. Window bounds come from per-run range tables. */
#include "../op.h"
#include "embedrt/pool.h"
#include "simd.h"
#include "spatial.h"

#include <math.h>
#include <string.h>

/* MaxPool / AveragePool / LpPool params (ints, POOL_INTS): the window block of spatial.h,
 * then [17] ceil_mode (0/1) and [18] storage_order (MaxPool, 0/1), count_include_pad
 * (AveragePool, 0/1) or p (LpPool, >= 1). No float params.
 * GlobalAveragePool / GlobalMaxPool: no params. */
#define POOL_INTS (ERT_SP_INTS + 2)
#define P_CEIL ERT_SP_INTS
#define P_EXTRA (ERT_SP_INTS + 1)

enum { POOL_MAX, POOL_AVG, POOL_LP };

typedef struct pool_plan {
    ert_sp_geom g;
    int kind;
    ert_dtype dt;
    size_t NC;
    int64_t extra;   /* storage_order / count_include_pad / p */
    bool indices;    /* MaxPool's second output is wanted */
    bool separable;  /* float Max/AveragePool: row pass + column pass (pool_rows_f32) */
    size_t n_ranges; /* OD + OH + OW */
    size_t scratch;  /* range table (2 int64 per output position per dim), avg divisors,
                        separable: one row-reduced plane (D*H x OW floats) */
    ert_shape out;
} pool_plan;

/* ---- parse ---- */

static ert_status pool_parse(ert_node *n, ert_attrs *a, int opset, int kind, ert_error *err)
{
    int64_t p[POOL_INTS];
    /* MaxPool has dilations since opset 10, AveragePool since 19 and LpPool since 18. */
    bool dil = kind == POOL_MAX || (kind == POOL_AVG && opset >= 19) || (kind == POOL_LP && opset >= 18);
    ert_status st = ert_sp_parse(a, n, true, dil, p, err);
    if (st != ERT_OK)
        return st;
    st = ert_attr_int(a, n, "ceil_mode", 0, &p[P_CEIL], err);
    if (st != ERT_OK)
        return st;
    if (kind == POOL_MAX) {
        st = ert_attr_int(a, n, "storage_order", 0, &p[P_EXTRA], err);
    } else if (kind == POOL_AVG) {
        st = ert_attr_int(a, n, "count_include_pad", 0, &p[P_EXTRA], err);
    } else if (opset < 2) {
        float pf;
        st = ert_attr_float(a, n, "p", 2.0f, &pf, err);
        if (st == ERT_OK && (pf != floorf(pf) || pf < 1.0f || pf > 64.0f))
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "p = %g: only integer p >= 1 is supported", (double)pf);
        p[P_EXTRA] = (int64_t)pf;
    } else {
        st = ert_attr_int(a, n, "p", 2, &p[P_EXTRA], err);
    }
    if (st != ERT_OK)
        return st;
    if (p[P_CEIL] != 0 && p[P_CEIL] != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "ceil_mode must be 0 or 1");
    if (kind != POOL_LP && p[P_EXTRA] != 0 && p[P_EXTRA] != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "%s must be 0 or 1", kind == POOL_MAX ? "storage_order" : "count_include_pad");
    if (kind == POOL_LP && (p[P_EXTRA] < 1 || p[P_EXTRA] > 64))
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "p = %lld: only 1..64 supported", (long long)p[P_EXTRA]);
    return ert_node_set_params(n, p, POOL_INTS, NULL, 0, err);
}

static ert_status maxpool_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr;
    return pool_parse(n, a, opset, POOL_MAX, err);
}
static ert_status avgpool_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr;
    return pool_parse(n, a, opset, POOL_AVG, err);
}
static ert_status lppool_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr;
    return pool_parse(n, a, opset, POOL_LP, err);
}

/* ---- planning ---- */

static ert_status pool_plan_make(const ert_graph *gr, const ert_node *n, int kind, pool_plan *p, ert_error *err)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    uint32_t max_out = kind == POOL_MAX ? 2 : 1;
    if (n->n_in != 1 || n->n_out < 1 || n->n_out > max_out)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs 1 input and %s output, got %u and %u", max_out == 2 ? "1 or 2" : "1",
                             n->n_in, n->n_out);
    if (n->n_ints != POOL_INTS || !n->ints || n->n_floats != 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int / %u float params, expected %d / 0", n->n_ints, n->n_floats,
                             POOL_INTS);
    ert_status st = ert_sp_check(n, n->ints, true, err);
    if (st != ERT_OK)
        return st;
    int64_t ceil = n->ints[P_CEIL];
    p->extra = n->ints[P_EXTRA];
    if (ceil != 0 && ceil != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "ceil_mode must be 0 or 1");
    if (kind != POOL_LP ? (p->extra != 0 && p->extra != 1) : (p->extra < 1 || p->extra > 64))
        return ert_node_fail(err, n, ERT_EFORMAT, "bad %s %lld",
                             kind == POOL_MAX ? "storage_order" : kind == POOL_AVG ? "count_include_pad" : "p",
                             (long long)p->extra);
    const ert_tensor *x = ert_node_input(gr, n, 0);
    if (!x)
        return ert_node_fail(err, n, ERT_EFORMAT, "input X is required");
    p->dt = x->dtype;
    bool dt_ok = x->dtype == ERT_DT_F32 || (kind == POOL_MAX && (x->dtype == ERT_DT_U8 || x->dtype == ERT_DT_I8));
    if (!dt_ok)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported", ert_dtype_name(x->dtype));
    p->indices = n->n_out == 2 && n->out[1] != ERT_NO_TENSOR;
    if (p->indices && x->dtype != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "the Indices output is only supported for float32");
    if (x->shape.rank < 3 || x->shape.rank > 2 + ERT_SP_MAXDIM)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input rank %d: only 1-D, 2-D and 3-D (rank 3..5) supported",
                             x->shape.rank);
    for (int i = 0; i < x->shape.rank; i++)
        if (x->shape.dims[i] < 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "input X has a negative dim");
    st = ert_sp_resolve(n, n->ints, &x->shape, NULL, ceil != 0, &p->g, err);
    if (st != ERT_OK)
        return st;
    if (!ert_mul_size((size_t)x->shape.dims[0], (size_t)x->shape.dims[1], &p->NC))
        return ert_node_fail(err, n, ERT_EFORMAT, "input too large");
    p->out.rank = x->shape.rank;
    p->out.dims[0] = x->shape.dims[0];
    p->out.dims[1] = x->shape.dims[1];
    for (int i = 0; i < p->g.nsp; i++)
        p->out.dims[2 + i] = p->g.out[ERT_SP_MAXDIM - p->g.nsp + i];
    size_t bytes;
    if (!ert_shape_bytes(&p->out, ERT_DT_I64, &bytes))
        return ert_node_fail(err, n, ERT_EINVAL, "output is too large");
    /* Output dims are below 2^50 (inputs and pads are bounded): their sum cannot overflow. */
    p->n_ranges = (size_t)(p->g.out[0] + p->g.out[1] + p->g.out[2]);
    size_t div = 0, rows = 0;
    p->separable = p->dt == ERT_DT_F32 && !p->indices && kind != POOL_LP;
    if (!ert_mul_size(p->n_ranges, 2 * sizeof(int64_t), &p->scratch) ||
        (kind == POOL_AVG && !ert_mul_size(p->g.out_size, sizeof(float), &div)) ||
        !ert_add_size(p->scratch, div, &p->scratch) ||
        (p->separable && (!ert_mul_size((size_t)p->g.in[0] * (size_t)p->g.in[1], (size_t)p->g.out[2], &rows) ||
                          !ert_mul_size(rows, sizeof(float), &rows))) ||
        !ert_add_size(p->scratch, rows, &p->scratch))
        return ert_node_fail(err, n, ERT_EINVAL, "scratch size overflows");
    return ERT_OK;
}

static ert_status pool_infer_kind(ert_graph *gr, ert_node *n, int kind, ert_error *err)
{
    pool_plan p;
    ert_status st = pool_plan_make(gr, n, kind, &p, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = p.dt;
    y->shape = p.out;
    if (p.indices) {
        ert_tensor *ix = ert_node_output(gr, n, 1);
        ix->dtype = ERT_DT_I64;
        ix->shape = p.out;
    }
    return ERT_OK;
}

/* Per dim j and output position o: the kernel taps [lo, hi) that land inside the input. */
static void build_ranges(const ert_sp_geom *g, int64_t *rng)
{
    for (int j = 0; j < ERT_SP_MAXDIM; j++)
        for (int64_t o = 0; o < g->out[j]; o++, rng += 2)
            ert_sp_range(g->k[j], g->d[j], o * g->s[j] - g->pb[j], g->in[j], &rng[0], &rng[1]);
}

/* ---- max ---- */

#define DEFINE_MAXPOOL(NAME, T, LOWEST)                                                                            \
    static void NAME(const T *restrict x, T *restrict y, const ert_sp_geom *g, size_t nc, const int64_t *rng)     \
    {                                                                                                              \
        const int64_t H = g->in[1], W = g->in[2];                                                                  \
        const int64_t *rd = rng, *rh = rd + 2 * g->out[0], *rw = rh + 2 * g->out[1];                               \
        for (size_t c = 0; c < nc; c++) {                                                                          \
            const T *xc = x + c * g->in_size;                                                                      \
            T *yo = y + c * g->out_size;                                                                           \
            for (int64_t od = 0; od < g->out[0]; od++)                                                             \
                for (int64_t oh = 0; oh < g->out[1]; oh++, yo += g->out[2]) {                                      \
                    const int64_t d0 = od * g->s[0] - g->pb[0], h0 = oh * g->s[1] - g->pb[1];                      \
                    for (int64_t ow = 0; ow < g->out[2]; ow++) {                                                   \
                        const int64_t klo = rw[2 * ow], khi = rw[2 * ow + 1];                                      \
                        const int64_t w0 = ow * g->s[2] - g->pb[2] + klo * g->d[2], dw = g->d[2];                  \
                        T m = LOWEST;                                                                              \
                        for (int64_t kd = rd[2 * od]; kd < rd[2 * od + 1]; kd++)                                   \
                            for (int64_t kh = rh[2 * oh]; kh < rh[2 * oh + 1]; kh++) {                             \
                                const T *row =                                                                     \
                                    xc + ((size_t)(d0 + kd * g->d[0]) * (size_t)H + (size_t)(h0 + kh * g->d[1])) * \
                                             (size_t)W;                                                            \
                                int64_t iw = w0;                                                                   \
                                for (int64_t kw = klo; kw < khi; kw++, iw += dw)                                   \
                                    m = row[iw] > m ? row[iw] : m;                                                 \
                            }                                                                                      \
                        yo[ow] = m;                                                                                \
                    }                                                                                              \
                }                                                                                                  \
        }                                                                                                          \
    }

DEFINE_MAXPOOL(maxpool_u8, uint8_t, 0)
DEFINE_MAXPOOL(maxpool_i8, int8_t, INT8_MIN)

/* With Indices: the flat input index (batch and channel included) of the first maximum;
 * storage_order 1 numbers the spatial positions column-major. */
static void maxpool_f32_indices(const float *restrict x, float *restrict y, int64_t *restrict ix, const ert_sp_geom *g,
                                size_t nc, const int64_t *rng, bool col_major)
{
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    const int64_t *rd = rng, *rh = rd + 2 * g->out[0], *rw = rh + 2 * g->out[1];
    size_t o = 0;
    for (size_t c = 0; c < nc; c++) {
        const float *xc = x + c * g->in_size;
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++)
                for (int64_t ow = 0; ow < g->out[2]; ow++, o++) {
                    float m = -INFINITY;
                    int64_t bd = 0, bh = 0, bw = 0;
                    bool found = false;
                    for (int64_t kd = rd[2 * od]; kd < rd[2 * od + 1]; kd++)
                        for (int64_t kh = rh[2 * oh]; kh < rh[2 * oh + 1]; kh++)
                            for (int64_t kw = rw[2 * ow]; kw < rw[2 * ow + 1]; kw++) {
                                int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
                                int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
                                int64_t iw = ow * g->s[2] - g->pb[2] + kw * g->d[2];
                                float v = xc[((size_t)id * (size_t)H + (size_t)ih) * (size_t)W + (size_t)iw];
                                if (!found || v > m) {
                                    m = v, bd = id, bh = ih, bw = iw;
                                    found = true;
                                }
                            }
                    y[o] = m;
                    int64_t sp = col_major ? bd + bh * D + bw * D * H : (bd * H + bh) * W + bw;
                    ix[o] = (int64_t)(c * g->in_size) + sp;
                }
    }
}

/* ---- average / Lp ---- */

/* 1 / (window size) per output position, computed once per run: count_include_pad counts
 * the window clipped to the padded input, otherwise only the taps inside the input. */
static void build_divisors(const ert_sp_geom *g, const int64_t *rng, bool include_pad, float *inv)
{
    const int64_t *rd = rng, *rh = rd + 2 * g->out[0], *rw = rh + 2 * g->out[1];
    const int64_t *r[3] = {rd, rh, rw};
    size_t o = 0;
    for (int64_t od = 0; od < g->out[0]; od++)
        for (int64_t oh = 0; oh < g->out[1]; oh++)
            for (int64_t ow = 0; ow < g->out[2]; ow++, o++) {
                const int64_t pos[3] = {od, oh, ow};
                double cnt = 1.0;
                for (int j = 0; j < 3; j++) {
                    int64_t c;
                    if (include_pad) {
                        int64_t start = pos[j] * g->s[j] - g->pb[j];
                        int64_t end = start + (g->k[j] - 1) * g->d[j] + 1;
                        if (end > g->in[j] + g->pe[j])
                            end = g->in[j] + g->pe[j];
                        c = g->d[j] > 1 ? (end - start + g->d[j] - 1) / g->d[j] : end - start;
                    } else {
                        c = r[j][2 * pos[j] + 1] - r[j][2 * pos[j]];
                    }
                    cnt *= (double)c;
                }
                inv[o] = cnt > 0.0 ? (float)(1.0 / cnt) : 0.0f;
            }
}

/* LpPool: (sum |x|^p)^(1/p) over each window; pads contribute nothing. */
static void lppool_f32(const float *restrict x, float *restrict y, const ert_sp_geom *g, size_t nc,
                       const int64_t *rng, int64_t lp)
{
    const int64_t H = g->in[1], W = g->in[2];
    const int64_t *rd = rng, *rh = rd + 2 * g->out[0], *rw = rh + 2 * g->out[1];
    const float pf = (float)lp, inv_p = 1.0f / (float)lp;
    for (size_t c = 0; c < nc; c++) {
        const float *xc = x + c * g->in_size;
        float *yo = y + c * g->out_size;
        size_t o = 0;
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                const int64_t d0 = od * g->s[0] - g->pb[0], h0 = oh * g->s[1] - g->pb[1];
                for (int64_t ow = 0; ow < g->out[2]; ow++, o++) {
                    const int64_t klo = rw[2 * ow], khi = rw[2 * ow + 1], dw = g->d[2];
                    const int64_t w0 = ow * g->s[2] - g->pb[2] + klo * dw;
                    float s = 0.0f;
                    for (int64_t kd = rd[2 * od]; kd < rd[2 * od + 1]; kd++)
                        for (int64_t kh = rh[2 * oh]; kh < rh[2 * oh + 1]; kh++) {
                            const float *row =
                                xc + ((size_t)(d0 + kd * g->d[0]) * (size_t)H + (size_t)(h0 + kh * g->d[1])) * (size_t)W;
                            int64_t iw = w0;
                            for (int64_t kw = klo; kw < khi; kw++, iw += dw) {
                                float v = fabsf(row[iw]);
                                s += lp == 1 ? v : lp == 2 ? v * v : powf(v, pf);
                            }
                        }
                    yo[o] = lp == 1 ? s : lp == 2 ? sqrtf(s) : powf(s, inv_p);
                }
            }
    }
}

/* Row-pass kernels up to this width run tap by tap (vectorised); wider ones (and hostile
 * kernel_shape values) output by output over the valid taps only. */
#define POOL_TAPS_MAX 16

/* Separable float Max/AveragePool: each input row is first reduced over the W taps into
 * h (D*H rows of OW), then each output row over its valid (D, H) taps of h. Both passes
 * are contiguous per tap range, so they vectorise; pads are skipped through the ranges. */
static void pool_rows_f32(const float *restrict x, float *restrict y, const ert_sp_geom *g, size_t nc,
                          const int64_t *rng, const float *inv, float *restrict h, bool is_max)
{
    const int64_t W = g->in[2], OW = g->out[2], sw = g->s[2], dw = g->d[2];
    const size_t in_rows = (size_t)g->in[0] * (size_t)g->in[1];
    const int64_t *rd = rng, *rh = rd + 2 * g->out[0], *rw = rh + 2 * g->out[1];
    const float ident = is_max ? -INFINITY : 0.0f;
    const ert_f4 vid = f4_splat(ident);
    const bool by_tap = g->k[2] <= POOL_TAPS_MAX;
    int64_t tlo[POOL_TAPS_MAX], thi[POOL_TAPS_MAX];
    for (int64_t kw = 0; by_tap && kw < g->k[2]; kw++)
        ert_sp_range(OW, sw, kw * dw - g->pb[2], W, &tlo[kw], &thi[kw]);
    for (size_t c = 0; c < nc; c++) {
        const float *xc = x + c * g->in_size;
        float *yc = y + c * g->out_size;
        for (size_t r = 0; r < in_rows; r++) {
            const float *xr = xc + r * (size_t)W;
            float *hr = h + r * (size_t)OW;
            if (!by_tap) {
                for (int64_t ow = 0; ow < OW; ow++) {
                    int64_t iw = ow * sw - g->pb[2] + rw[2 * ow] * dw;
                    float a = ident;
                    for (int64_t kw = rw[2 * ow]; kw < rw[2 * ow + 1]; kw++, iw += dw)
                        a = is_max ? (xr[iw] > a ? xr[iw] : a) : a + xr[iw];
                    hr[ow] = a;
                }
                continue;
            }
            int64_t o = 0;
            for (; o + 4 <= OW; o += 4)
                f4_store(hr + o, vid);
            for (; o < OW; o++)
                hr[o] = ident;
            for (int64_t kw = 0; kw < g->k[2]; kw++) {
                const int64_t lo = tlo[kw], hi = thi[kw], off = kw * dw - g->pb[2];
                if (lo == hi)
                    continue;
                const float *xs = xr + (lo * sw + off);
                float *hd = hr + lo;
                const int64_t cnt = hi - lo;
                int64_t i = 0;
                if (sw == 1) {
                    if (is_max)
                        for (; i + 4 <= cnt; i += 4)
                            f4_store(hd + i, f4_max(f4_load(xs + i), f4_load(hd + i)));
                    else
                        for (; i + 4 <= cnt; i += 4)
                            f4_store(hd + i, f4_load(hd + i) + f4_load(xs + i));
                }
#ifdef ERT_HAVE_SHUFFLE
                else if (sw == 2) {
                    const int64_t avail = W - (lo * sw + off);
                    for (; i + 4 <= cnt && 2 * i + 8 <= avail; i += 4) {
                        ert_f4 v = f4_even(f4_load(xs + 2 * i), f4_load(xs + 2 * i + 4));
                        f4_store(hd + i, is_max ? f4_max(v, f4_load(hd + i)) : f4_load(hd + i) + v);
                    }
                }
#endif
                if (is_max)
                    for (; i < cnt; i++)
                        hd[i] = xs[i * sw] > hd[i] ? xs[i * sw] : hd[i];
                else
                    for (; i < cnt; i++)
                        hd[i] += xs[i * sw];
            }
        }
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                float *yr = yc + (size_t)(od * g->out[1] + oh) * (size_t)OW;
                int64_t o = 0;
                for (; o + 4 <= OW; o += 4)
                    f4_store(yr + o, vid);
                for (; o < OW; o++)
                    yr[o] = ident;
                for (int64_t kd = rd[2 * od]; kd < rd[2 * od + 1]; kd++) {
                    const int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
                    for (int64_t kh = rh[2 * oh]; kh < rh[2 * oh + 1]; kh++) {
                        const int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
                        const float *hr = h + (size_t)(id * g->in[1] + ih) * (size_t)OW;
                        o = 0;
                        if (is_max) {
                            for (; o + 4 <= OW; o += 4)
                                f4_store(yr + o, f4_max(f4_load(hr + o), f4_load(yr + o)));
                            for (; o < OW; o++)
                                yr[o] = hr[o] > yr[o] ? hr[o] : yr[o];
                        } else {
                            for (; o + 4 <= OW; o += 4)
                                f4_store(yr + o, f4_load(yr + o) + f4_load(hr + o));
                            for (; o < OW; o++)
                                yr[o] += hr[o];
                        }
                    }
                }
                if (!is_max) {
                    const float *ir = inv + (size_t)(od * g->out[1] + oh) * (size_t)OW;
                    for (o = 0; o + 4 <= OW; o += 4)
                        f4_store(yr + o, f4_load(yr + o) * f4_load(ir + o));
                    for (; o < OW; o++)
                        yr[o] *= ir[o];
                }
            }
    }
}

/* ---- the op entries ---- */

typedef struct pool_job {
    const pool_plan *p;
    const ert_ctx *ctx;
    const float *x;
    float *y;
} pool_job;

/* Channels [c0, c1) of a separable float Max/AveragePool. */
static void pool_channels(void *arg, size_t c0, size_t c1, int worker)
{
    const pool_job *j = arg;
    const pool_plan *p = j->p;
    int64_t *rng = ert_ctx_scratch(j->ctx, worker);
    build_ranges(&p->g, rng);
    float *after = (float *)(rng + 2 * p->n_ranges);
    const float *x = j->x + c0 * p->g.in_size;
    float *y = j->y + c0 * p->g.out_size;
    if (p->kind == POOL_MAX) {
        pool_rows_f32(x, y, &p->g, c1 - c0, rng, NULL, after, true);
    } else {
        build_divisors(&p->g, rng, p->extra == 1, after);
        pool_rows_f32(x, y, &p->g, c1 - c0, rng, after, after + p->g.out_size, false);
    }
}

static ert_status pool_run_kind(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, int kind, ert_error *err)
{
    pool_plan p;
    ert_status st = pool_plan_make(gr, n, kind, &p, err);
    if (st != ERT_OK)
        return st;
    if (p.scratch > ctx->scratch_bytes || !ctx->scratch)
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch of %zu bytes given, %zu needed", ctx->scratch_bytes, p.scratch);
    const void *x = ert_node_input(gr, n, 0)->data;
    void *y = ert_node_output(gr, n, 0)->data;
    if ((kind == POOL_MAX && !p.indices && p.dt == ERT_DT_F32) || kind == POOL_AVG) {
        /* The separable float pools: channels split across the pool from 64K outputs,
         * each worker with its own range table, divisors and row buffer. */
        pool_job j = {.p = &p, .ctx = ctx, .x = x, .y = y};
        size_t outs = p.NC * p.g.out_size;
        ert_pool_run(outs >= ((size_t)1 << 16) ? ctx->pool : NULL, p.NC, 1, pool_channels, &j);
        return ERT_OK;
    }
    int64_t *rng = ctx->scratch;
    build_ranges(&p.g, rng);
    if (kind == POOL_MAX) {
        if (p.indices)
            maxpool_f32_indices(x, y, ert_node_output(gr, n, 1)->data, &p.g, p.NC, rng, p.extra == 1);
        else if (p.dt == ERT_DT_U8)
            maxpool_u8(x, y, &p.g, p.NC, rng);
        else
            maxpool_i8(x, y, &p.g, p.NC, rng);
    } else {
        lppool_f32(x, y, &p.g, p.NC, rng, p.extra);
    }
    return ERT_OK;
}

#define POOL_ENTRY_FNS(PFX, KIND)                                                                                  \
    static ert_status PFX##_infer(ert_graph *gr, ert_node *n, ert_error *err)                                      \
    {                                                                                                              \
        return pool_infer_kind(gr, n, KIND, err);                                                                  \
    }                                                                                                              \
    static size_t PFX##_scratch(const ert_graph *gr, const ert_node *n)                                            \
    {                                                                                                              \
        pool_plan p;                                                                                               \
        return pool_plan_make(gr, n, KIND, &p, NULL) == ERT_OK ? p.scratch : 0;                                    \
    }                                                                                                              \
    static ert_status PFX##_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)        \
    {                                                                                                              \
        return pool_run_kind(ctx, gr, n, KIND, err);                                                               \
    }

POOL_ENTRY_FNS(maxpool, POOL_MAX)
POOL_ENTRY_FNS(avgpool, POOL_AVG)
POOL_ENTRY_FNS(lppool, POOL_LP)

/* ---- global pools ---- */

static ert_status global_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    if (n->n_in != 1 || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs 1 input and 1 output, got %u and %u", n->n_in, n->n_out);
    if (n->n_ints || n->n_floats)
        return ert_node_fail(err, n, ERT_EFORMAT, "takes no params, got %u int / %u float", n->n_ints, n->n_floats);
    const ert_tensor *x = ert_node_input(gr, n, 0);
    if (!x)
        return ert_node_fail(err, n, ERT_EFORMAT, "input X is required");
    if (x->dtype != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported", ert_dtype_name(x->dtype));
    if (x->shape.rank < 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "input rank %d: need [N, C, ...]", x->shape.rank);
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = x->shape;
    for (int i = 2; i < x->shape.rank; i++)
        y->shape.dims[i] = 1;
    size_t nb;
    if (!ert_shape_bytes(&x->shape, ERT_DT_F32, &nb) || !ert_shape_bytes(&y->shape, ERT_DT_F32, &nb))
        return ert_node_fail(err, n, ERT_EFORMAT, "input shape %s is invalid", ert_shape_str(&x->shape, (char[96]){0}, 96));
    return ERT_OK;
}

static void global_sizes(const ert_graph *gr, const ert_node *n, size_t *nc, size_t *sp)
{
    const ert_shape *s = &ert_node_input(gr, n, 0)->shape;
    *nc = (size_t)s->dims[0] * (size_t)s->dims[1]; /* the output's numel: infer checked it fits */
    *sp = 1;
    for (int i = 2; i < s->rank; i++)
        *sp *= (size_t)s->dims[i];
}

static ert_status gavg_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    size_t nc, sp;
    global_sizes(gr, n, &nc, &sp);
    const float *x = ert_node_input(gr, n, 0)->data;
    float *y = ert_node_output(gr, n, 0)->data;
    for (size_t c = 0; c < nc; c++) {
        const float *restrict xc = x + c * sp;
        /* Eight partial sums: vectorizable and more accurate on large planes. */
        float acc[8] = {0};
        size_t i = 0;
        for (; i + 8 <= sp; i += 8)
            for (int l = 0; l < 8; l++)
                acc[l] += xc[i + l];
        float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < sp; i++)
            s += xc[i];
        y[c] = sp ? s / (float)sp : NAN;
    }
    return ERT_OK;
}

static ert_status gmax_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    size_t nc, sp;
    global_sizes(gr, n, &nc, &sp);
    const float *x = ert_node_input(gr, n, 0)->data;
    float *y = ert_node_output(gr, n, 0)->data;
    for (size_t c = 0; c < nc; c++) {
        const float *restrict xc = x + c * sp;
        float acc[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
        size_t i = 0;
        for (; i + 8 <= sp; i += 8)
            for (int l = 0; l < 8; l++)
                acc[l] = xc[i + l] > acc[l] ? xc[i + l] : acc[l];
        float m = acc[0];
        for (int l = 1; l < 8; l++)
            m = acc[l] > m ? acc[l] : m;
        for (; i < sp; i++)
            m = xc[i] > m ? xc[i] : m;
        y[c] = m;
    }
    return ERT_OK;
}

const ert_op_def ert_ops_pool[] = {
    ERT_OP("MaxPool", maxpool_parse, maxpool_infer, maxpool_scratch, maxpool_run, false),
    ERT_OP("AveragePool", avgpool_parse, avgpool_infer, avgpool_scratch, avgpool_run, false),
    ERT_OP("LpPool", lppool_parse, lppool_infer, lppool_scratch, lppool_run, false),
    ERT_OP("GlobalAveragePool", NULL, global_infer, NULL, gavg_run, false),
    ERT_OP("GlobalMaxPool", NULL, global_infer, NULL, gmax_run, false),
    ERT_OP_END,
};
