/* Kernels: ErtQConv and ErtQGemm, convolution and matrix product on the int8 GEMM kernels
 * (qgemm.h), float32 in and out. Numerics and params: proto/blob-format.md, "int8 ops".
 *
 * ErtQConv: X is quantized once per node (all threads) into the shared workspace; then
 * each pool worker takes (image, group, column tile) units and, in its own scratch,
 * gathers the tile's uint8 im2col columns (padding = z_x, i.e. real zero), packs them for
 * the kernel and runs a single-threaded product whose epilogue writes y (scale, residual,
 * clamp) straight into the output. 1x1 stride-1 convolutions have no quantize pass: each
 * packing quantizes its own columns, straight into the packed panels when the kernel can
 * (ert_qgemm_pack_x_f32), else into the workspace just before packing them. Small maps (few columns, deep reductions: 7x7, 14x14) instead gather
 * and pack each (image, group) once and let ert_qgemm split the product over the pool.
 * Integer sums are exact, so every split and thread count gives the same bits.
 *
 * Weights are packed per group when the model is bound (prepare hook). Without prepared
 * weights run() computes the same bits with plain loops (slow: tests and odd callers). */
#include "../op.h"
#include "../qgemm_impl.h"
#include "embedrt/pool.h"
#include "embedrt/qgemm.h"
#include "qconv_wino.h"
#include "spatial.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* ErtQConv ints: the window block of spatial.h, [17] group, [18] z_x, optional [19] q_max
 * (127 or 255; absent: 255). floats: [inv_s_x]. */
#define QC_GROUP ERT_SP_INTS
#define QC_ZX (ERT_SP_INTS + 1)
#define QC_INTS (ERT_SP_INTS + 2)

/* Bytes of a wide-mode tile (uint8 columns + packed columns): about L2. */
#define QC_TILE_BYTES ((size_t)512 << 10)
/* Maps with at most this many output positions per image go the narrow way when the whole
 * (image, group) column matrix and its packing fit QC_NARROW_BYTES. */
#define QC_NARROW_COLS 256
#define QC_NARROW_BYTES ((size_t)8 << 20)

static size_t ru(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

/* Upper bound of ert_qgemm_x_size_q(k, p, *) over every kernel (ref, avx2, avx2u7, neon, sdot): the
 * scratch is sized when the blob is planned, maybe on another machine than the one that
 * runs it. 0 on overflow. */
static size_t xbound(size_t k, size_t p)
{
    size_t a = ru(k, 8), b = ru(p, 16), v;
    if (k > ERT_QGEMM_K_MAX || p > SIZE_MAX / 64 || !ert_mul_size(a, b, &v) || !ert_mul_size(v, 2, &v))
        return 0;
    return v;
}

/* Clamp bounds of the fused activation; false for one the int8 epilogue cannot apply. */
static bool act_bounds(const ert_node *n, float *lo, float *hi)
{
    switch (n->act) {
    case ERT_ACT_NONE:
        *lo = -INFINITY, *hi = INFINITY;
        return true;
    case ERT_ACT_RELU:
        *lo = 0.0f, *hi = INFINITY;
        return true;
    case ERT_ACT_CLIP:
        *lo = n->act_alpha, *hi = n->act_beta;
        return *lo <= *hi;
    default:
        return false;
    }
}

static const char *act_name(ert_act a)
{
    static const char *const names[] = {"none", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh"};
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "unknown";
}

/* Checks shared by both ops: params (n_ints, or n_ints + 1 with q_max last), quantization
 * parameters, activation. */
static ert_status check_q_params(const ert_node *n, uint32_t n_ints, size_t zx_slot, uint8_t *qmax, float *lo,
                                 float *hi, ert_error *err)
{
    if ((n->n_ints != n_ints && n->n_ints != n_ints + 1) || !n->ints || n->n_floats != 1 || !n->floats)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int / %u float params, expected %u or %u / 1 (z_x[, q_max], "
                             "inv_s_x)", n->n_ints, n->n_floats, n_ints, n_ints + 1);
    int64_t qm = n->n_ints > n_ints ? n->ints[n_ints] : 255;
    if (qm != 127 && qm != 255)
        return ert_node_fail(err, n, ERT_EFORMAT, "activation maximum q_max = %lld must be 127 (7-bit) or 255 (8-bit)",
                             (long long)qm);
    *qmax = (uint8_t)qm;
    int64_t zx = n->ints[zx_slot];
    if (zx < 0 || zx > qm)
        return ert_node_fail(err, n, ERT_EFORMAT, "input zero point z_x = %lld is outside [0, q_max = %lld]",
                             (long long)zx, (long long)qm);
    float inv = n->floats[0];
    if (!(inv > 0.0f) || !isfinite(inv))
        return ert_node_fail(err, n, ERT_EFORMAT, "input scale inverse inv_s_x = %g must be finite and > 0",
                             (double)inv);
    if (!act_bounds(n, lo, hi)) {
        if (n->act == ERT_ACT_CLIP)
            return ert_node_fail(err, n, ERT_EFORMAT, "fused Clip bounds [%g, %g] are empty or NaN",
                                 (double)n->act_alpha, (double)n->act_beta);
        return ert_node_fail(err, n, ERT_EUNSUPPORTED,
                             "fused activation %s is not supported (int8 ops fuse Relu and Clip only)",
                             act_name(n->act));
    }
    return ERT_OK;
}

/* Wq: a constant int8 tensor with values in [-127, 127] (scanned by infer only: it runs
 * on every load, before any run); Bq (optional) int32 [m]; S float32 [m]. */
static ert_status check_q_weights(const ert_graph *gr, const ert_node *n, size_t m, bool scan, ert_error *err)
{
    const ert_tensor *w = ert_node_input(gr, n, 1), *b = ert_node_input(gr, n, 2), *s = ert_node_input(gr, n, 3);
    if (w->dtype != ERT_DT_I8)
        return ert_node_fail(err, n, ERT_EFORMAT, "weight '%s' is %s, expected int8", w->name, ert_dtype_name(w->dtype));
    if (!w->is_const || !w->data)
        return ert_node_fail(err, n, ERT_EFORMAT, "weight '%s' must be a constant", w->name);
    size_t count;
    if (!ert_shape_numel(&w->shape, &count))
        return ert_node_fail(err, n, ERT_EFORMAT, "weight '%s' has an invalid shape", w->name);
    const int8_t *wd = w->data;
    for (size_t i = 0; scan && i < count; i++)
        if (wd[i] == INT8_MIN)
            return ert_node_fail(err, n, ERT_EFORMAT, "weight '%s' element %zu is -128; int8 weights must be in "
                                 "[-127, 127]", w->name, i);
    if (b && (b->dtype != ERT_DT_I32 || b->shape.rank != 1 || b->shape.dims[0] != (int64_t)m))
        return ert_node_fail(err, n, ERT_EFORMAT, "bias '%s' must be int32 of shape [%zu]", b->name, m);
    if (!s)
        return ert_node_fail(err, n, ERT_EFORMAT, "input 4 (per-channel scales S) is required");
    if (s->dtype != ERT_DT_F32 || s->shape.rank != 1 || s->shape.dims[0] != (int64_t)m)
        return ert_node_fail(err, n, ERT_EFORMAT, "scales '%s' must be float32 of shape [%zu] (one per output channel)",
                             s->name, m);
    return ERT_OK;
}

/* Whether run() can use the packing kernels (an unusable ERT_QGEMM_KERNEL fails here with
 * qgemm's message instead of silently taking the plain loops). */
static ert_status kernel_usable(const ert_node *n, ert_error *err)
{
    uint8_t one = 0;
    uint8_t buf[256] __attribute__((aligned(64)));
    ert_status st = ert_qgemm_pack_x(&one, 1, 1, 1, buf, sizeof buf, err);
    return st == ERT_OK ? ERT_OK : ert_error_prefix(err, "node '%s' (%s)", n->name, n->def->name);
}

/* ======================================================================== ErtQConv */

typedef struct qc_plan {
    ert_sp_geom g;
    size_t N, C, M, group, Cg, Mg, K, S, IS;
    uint8_t zx, qmax;  /* quantized input in [0, qmax] */
    float inv, lo, hi;
    bool direct;      /* 1x1, stride 1, no pads: pack straight from the quantized input */
    bool narrow;      /* one (image, group) at a time, product split by ert_qgemm */
    size_t t;         /* wide: columns per tile (multiple of 16 unless the whole map) */
    size_t col_bytes; /* uint8 columns, K x t (wide) or K x S (narrow); 0 when direct */
    size_t pk_bytes;  /* packed columns (bound over kernels) */
    size_t scratch;   /* the larger of both paths' (planned into blobs) */
    size_t dscratch;  /* the direct path's */
    size_t xq_bytes;  /* quantized input, N x C x IS, in the workspace */
    size_t wpack;     /* bytes per group of packed weights (current kernel), 64-aligned */
    bool wino_shape;  /* the int8 Winograd F(2x2,3x3) path can run this shape (qconv_wino.h) */
    bool wino4_shape; /* ... and F(4x4,3x3) too, within the planned scratch */
    ert_qwino wg;     /* F(2x2); in qc_run, the prepared tile size's */
    ert_qwino wg4;    /* F(4x4) */
    ert_shape out;
} qc_plan;

static ert_status qc_plan_make(const ert_graph *gr, const ert_node *n, qc_plan *p, bool scan, ert_error *err)
{
    memset(p, 0, sizeof *p);
    if (n->n_in < 4 || n->n_in > 5 || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs inputs (X, Wq, Bq or none, S[, R]) and one output, got %u "
                             "inputs and %u outputs", n->n_in, n->n_out);
    ert_status st = check_q_params(n, QC_INTS, QC_ZX, &p->qmax, &p->lo, &p->hi, err);
    if (st == ERT_OK)
        st = ert_sp_check(n, n->ints, false, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *x = ert_node_input(gr, n, 0), *w = ert_node_input(gr, n, 1);
    if (!x || !w)
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs X and Wq are required");
    if (x->dtype != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EFORMAT, "input X is %s, expected float32", ert_dtype_name(x->dtype));
    if (x->shape.rank < 3 || x->shape.rank > 2 + ERT_SP_MAXDIM)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input X has rank %d: only 1-D, 2-D and 3-D (rank 3..5) supported",
                             x->shape.rank);
    if (w->shape.rank != x->shape.rank)
        return ert_node_fail(err, n, ERT_EFORMAT, "weight Wq has rank %d but X has rank %d", w->shape.rank, x->shape.rank);
    for (int i = 0; i < x->shape.rank; i++) {
        if (x->shape.dims[i] < 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "input X has a negative dim");
        if (w->shape.dims[i] < 1 || w->shape.dims[i] > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "weight Wq dim %d is %lld", i, (long long)w->shape.dims[i]);
    }
    int64_t group = n->ints[QC_GROUP];
    if (group < 1 || group > ERT_SP_LIMIT)
        return ert_node_fail(err, n, ERT_EFORMAT, "group = %lld must be >= 1", (long long)group);
    int64_t C = x->shape.dims[1], M = w->shape.dims[0], Cg = w->shape.dims[1];
    if (C % group != 0 || M % group != 0 || C / group != Cg)
        return ert_node_fail(err, n, ERT_EINVAL, "X has %lld channels, Wq is [%lld, %lld, ...] and group is %lld: "
                             "expected C = group * W dim 1 and group dividing W dim 0", (long long)C, (long long)M,
                             (long long)Cg, (long long)group);
    st = check_q_weights(gr, n, (size_t)M, scan, err);
    if (st == ERT_OK)
        st = ert_sp_resolve(n, n->ints, &x->shape, &w->shape.dims[2], false, &p->g, err);
    if (st != ERT_OK)
        return st;
    const ert_sp_geom *g = &p->g;
    p->N = (size_t)x->shape.dims[0];
    p->C = (size_t)C, p->M = (size_t)M, p->group = (size_t)group, p->Cg = (size_t)Cg, p->Mg = (size_t)(M / group);
    p->S = g->out_size, p->IS = g->in_size;
    p->zx = (uint8_t)n->ints[QC_ZX];
    p->inv = n->floats[0];
    if (!ert_mul_size(p->Cg, g->k_size, &p->K) || p->K > ERT_QGEMM_K_MAX)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "reduction C/group x kernel = %zu x %zu exceeds %u: the int32 "
                             "accumulator could overflow", p->Cg, g->k_size, ERT_QGEMM_K_MAX);
    p->out.rank = 2 + g->nsp;
    p->out.dims[0] = (int64_t)p->N;
    p->out.dims[1] = (int64_t)p->M;
    for (int i = 0; i < g->nsp; i++)
        p->out.dims[2 + i] = g->out[ERT_SP_MAXDIM - g->nsp + i];
    size_t bytes;
    if (!ert_shape_bytes(&p->out, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EINVAL, "output is too large");
    const ert_tensor *r = ert_node_input(gr, n, 4);
    if (r && (r->dtype != ERT_DT_F32 || !ert_shape_equal(&r->shape, &p->out)))
        return ert_node_fail(err, n, ERT_EFORMAT, "residual input '%s' must be float32 with the output's shape", r->name);
    if (!ert_mul_size(p->N, p->C, &p->xq_bytes) || !ert_mul_size(p->xq_bytes, p->IS, &p->xq_bytes))
        return ert_node_fail(err, n, ERT_EINVAL, "quantized input size overflows");

    bool unit = g->k_size == 1;
    for (int j = 0; j < ERT_SP_MAXDIM; j++)
        unit = unit && g->s[j] == 1 && g->pb[j] == 0 && g->pe[j] == 0;
    p->direct = unit;
    if (p->S == 0 || p->N == 0)
        return ERT_OK;
    size_t colb = p->direct ? 0 : p->K, pkb = 2 * ru(p->K, 8); /* bytes per column */
    size_t narrow_bytes = SIZE_MAX;
    if (p->S <= QC_NARROW_COLS) {
        size_t xb = xbound(p->K, p->S);
        if (xb && ert_add_size(xb, colb * p->S, &narrow_bytes) && narrow_bytes <= QC_NARROW_BYTES)
            p->narrow = true;
    }
    if (p->narrow) {
        p->col_bytes = ru(colb * p->S, 64);
        p->pk_bytes = xbound(p->K, p->S);
    } else {
        size_t t = QC_TILE_BYTES / (colb + pkb);
        t = t / 16 * 16;
        if (t < 32)
            t = 32;
        if (t >= p->S)
            t = p->S;
        p->t = t;
        p->col_bytes = ru(colb * t, 64);
        p->pk_bytes = xbound(p->K, t);
    }
    if (!p->pk_bytes || !ert_add_size(p->col_bytes, p->pk_bytes, &p->scratch))
        return ert_node_fail(err, n, ERT_EINVAL, "column buffer size overflows");
    /* Scratch for either path: the choice is made at bind time, maybe on another CPU. */
    p->dscratch = p->scratch;
    p->wino_shape = ert_qwino_init(&p->wg, g, p->C, p->M, p->group, 2);
    if (p->wino_shape && ert_qwino_scratch(&p->wg) > p->scratch)
        p->scratch = ert_qwino_scratch(&p->wg);
    /* F(4x4) within that scratch (ert_qwino_plan4): blobs planned before it load and plan
     * the same. */
    p->wino4_shape = p->wino_shape && ert_qwino_init(&p->wg4, g, p->C, p->M, p->group, 4) &&
                     ert_qwino_plan4(&p->wg4, &p->scratch);
    return ERT_OK;
}

/* The int8 Winograd tile size this bind takes (shape, kernel, switch, measured rule, the
 * F(4x4) bound on the weights w): 2, 4, or 0 for the direct path. */
static size_t qc_wino(const qc_plan *p, const int8_t *w)
{
    if (!p->wino_shape || !ert_qwino_wanted(&p->wg))
        return 0;
    return ert_qwino_pick(&p->wg, p->wino4_shape ? &p->wg4 : NULL, w, p->zx, p->qmax);
}

static ert_status qc_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    qc_plan p;
    ert_status st = qc_plan_make(gr, n, &p, true, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = p.out;
    return ERT_OK;
}

static size_t qc_scratch(const ert_graph *gr, const ert_node *n)
{
    qc_plan p;
    return qc_plan_make(gr, n, &p, false, NULL) == ERT_OK ? p.scratch : 0;
}

static size_t qc_workspace(const ert_graph *gr, const ert_node *n)
{
    qc_plan p;
    return qc_plan_make(gr, n, &p, false, NULL) == ERT_OK ? p.xq_bytes : 0;
}

static size_t qc_wpack(const qc_plan *p)
{
    size_t b = ert_qgemm_packed_size_q(p->Mg, p->K, p->qmax);
    return b ? ru(b, 64) : 0;
}

static size_t qc_prepare_bytes(const ert_graph *gr, const ert_node *n)
{
    qc_plan p;
    size_t per, total;
    if (qc_plan_make(gr, n, &p, false, NULL) != ERT_OK)
        return 0;
    size_t wn = qc_wino(&p, ert_node_input(gr, n, 1)->data);
    if (wn)
        return ert_qwino_prepared_bytes(wn == 4 ? &p.wg4 : &p.wg);
    if (!(per = qc_wpack(&p)) || !ert_mul_size(per, p.group, &total))
        return 0;
    return total;
}

static void qc_prepare(const ert_graph *gr, const ert_node *n, void *out)
{
    qc_plan p;
    if (qc_plan_make(gr, n, &p, false, NULL) != ERT_OK)
        return;
    const int8_t *w = ert_node_input(gr, n, 1)->data;
    size_t wn = qc_wino(&p, w);
    if (wn) {
        ert_qwino_prepare(wn == 4 ? &p.wg4 : &p.wg, w, out);
        return;
    }
    size_t per = qc_wpack(&p);
    for (size_t gi = 0; gi < p.group; gi++)
        if (ert_qgemm_pack_q(w + gi * p.Mg * p.K, p.Mg, p.K, p.qmax, (char *)out + gi * per, per, NULL) != ERT_OK)
            memset((char *)out + gi * per, 0, per); /* bad magic: ert_qgemm reports it at run */
}

/* d[i] = s[2 i] for i < n (stride-2 windows), reading s[0 .. avail) only (avail >= 2 n - 1:
 * the rest of the input row): the vector step reads 32 bytes for 16 outputs. */
static void gather_even(const uint8_t *restrict s, size_t n, size_t avail, uint8_t *restrict d)
{
    size_t i = 0;
#if defined(__x86_64__)
    const __m128i lowb = _mm_set1_epi16(0x00ff);
    for (; i + 16 <= n && 2 * i + 32 <= avail; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s + 2 * i));
        __m128i b = _mm_loadu_si128((const __m128i *)(s + 2 * i + 16));
        _mm_storeu_si128((__m128i *)(d + i), _mm_packus_epi16(_mm_and_si128(a, lowb), _mm_and_si128(b, lowb)));
    }
#endif
    for (; i < n; i++)
        d[i] = s[2 * i];
}

/* uint8 im2col of output positions [p0, p1) of one (image, group), channels [c0, c1): col
 * is K x (p1 - p0) (rows of other channels untouched), padding positions hold z. */
static void qc_im2col(const uint8_t *restrict x, const qc_plan *p, size_t c0, size_t c1, size_t p0, size_t p1,
                      uint8_t *restrict col)
{
    const ert_sp_geom *g = &p->g;
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    const int64_t OH = g->out[1], OW = g->out[2];
    const size_t t = p1 - p0;
    uint8_t *dst = col + c0 * g->k_size * t;
    for (size_t c = c0; c < c1; c++) {
        const uint8_t *xc = x + c * p->IS;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
            for (int64_t kh = 0; kh < g->k[1]; kh++)
                for (int64_t kw = 0; kw < g->k[2]; kw++, dst += t) {
                    const int64_t offd = kd * g->d[0] - g->pb[0], offh = kh * g->d[1] - g->pb[1];
                    const int64_t offw = kw * g->d[2] - g->pb[2], sw = g->s[2];
                    int64_t lo, hi;
                    ert_sp_range(OW, sw, offw, W, &lo, &hi);
                    size_t pos = p0;
                    uint8_t *d = dst;
                    while (pos < p1) {
                        int64_t row = (int64_t)(pos / (size_t)OW), ow0 = (int64_t)(pos % (size_t)OW);
                        int64_t ow1 = OW;
                        if ((size_t)(ow1 - ow0) > p1 - pos)
                            ow1 = ow0 + (int64_t)(p1 - pos);
                        int64_t od = row / OH, oh = row % OH;
                        int64_t id = od * g->s[0] + offd, ih = oh * g->s[1] + offh;
                        size_t len = (size_t)(ow1 - ow0);
                        if (id < 0 || id >= D || ih < 0 || ih >= H || lo == hi) {
                            memset(d, p->zx, len);
                        } else {
                            const uint8_t *srow = xc + ((size_t)id * (size_t)H + (size_t)ih) * (size_t)W;
                            int64_t a = ow0 > lo ? ow0 : lo, b = ow1 < hi ? ow1 : hi;
                            if (a >= b) {
                                memset(d, p->zx, len);
                            } else {
                                if (a > ow0)
                                    memset(d, p->zx, (size_t)(a - ow0));
                                if (b < ow1)
                                    memset(d + (b - ow0), p->zx, (size_t)(ow1 - b));
                                uint8_t *dd = d + (a - ow0);
                                if (sw == 1) {
                                    memcpy(dd, srow + a + offw, (size_t)(b - a));
                                } else if (sw == 2) {
                                    gather_even(srow + a * 2 + offw, (size_t)(b - a), (size_t)(W - (a * 2 + offw)), dd);
                                } else {
                                    const uint8_t *s0 = srow + a * sw + offw;
                                    for (int64_t i = 0; i < b - a; i++)
                                        dd[i] = s0[i * sw];
                                }
                            }
                        }
                        d += len;
                        pos += len;
                    }
                }
    }
}

/* ert_qquantize, step for step (same operations, same order, one rounding each), 32
 * values per iteration with AVX2: max_ps(v, -1024) is `v > -1024 ? v : -1024` (NaN gives
 * -1024), min_ps(v, 1024) is `v < 1024 ? v : 1024`, cvtps2dq rounds to nearest-even like
 * the magic-number rounding on [-1024, 1024], NaN lanes take z. ert_qquantize itself
 * stays the portable form (and does the tail). */
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void quantize_avx2(const float *x, size_t count, float inv, uint8_t z,
                                                        uint8_t qmax, uint8_t *q)
{
    const __m256 iv = _mm256_set1_ps(inv);
    const __m256i zv = _mm256_set1_epi32(z), top = _mm256_set1_epi32(qmax);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i r[4];
        for (int j = 0; j < 4; j++)
            r[j] = ert_q_quant8_avx2(x + i + 8 * (size_t)j, iv, zv, top);
        __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(r[0], r[1]), _mm256_packus_epi32(r[2], r[3]));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(b, order));
    }
    /* Short runs (the column blocks of 1x1 convolutions) and tails: 8 at a time, the last
     * 8 overlapping the ones before (each byte depends on its own input only). */
    if (count >= 8 && i < count) {
        for (;;) {
            if (i + 8 > count)
                i = count - 8;
            __m256i t = ert_q_quant8_avx2(x + i, iv, zv, top);
            __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
            _mm_storel_epi64((__m128i *)(q + i), _mm_packus_epi16(w, w));
            i += 8;
            if (i >= count)
                return;
        }
    }
    ert_qquantize_q(x + i, count - i, inv, z, qmax, q + i);
}
#endif

/* X -> uint8 in [0, qmax] (ert_qquantize_q's bits, faster where the CPU allows). */
static void quantize(const float *x, size_t count, float inv, uint8_t z, uint8_t qmax, uint8_t *q)
{
#if defined(__x86_64__)
    static int avx2 = -1;
    if (avx2 < 0) {
        __builtin_cpu_init();
        avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    if (avx2) {
        quantize_avx2(x, count, inv, z, qmax, q);
        return;
    }
#endif
    ert_qquantize_q(x, count, inv, z, qmax, q);
}

typedef struct qc_job {
    const qc_plan *p;
    const ert_ctx *ctx;
    const ert_node *n;
    const float *x, *s, *r;
    const int32_t *b;
    const uint8_t *xq;
    const uint8_t *wp; /* prepared: group blocks of p->wpack bytes */
    float *y;
    size_t tiles, span;
    size_t mparts;         /* int8 Winograd: parts of the output channels per tile block */
    size_t bn, gi, chunks; /* narrow path with threads: the (image, group) in progress */
    bool lazy;             /* direct path: each packing quantizes its own columns first */
    bool fused;            /* ... straight into the packed panels (ert_qgemm_pack_x_f32) */
    volatile int failed;
    ert_error err;
} qc_job;

static void qc_quant_part(void *arg, size_t begin, size_t end, int worker)
{
    (void)worker;
    qc_job *j = arg;
    const size_t chunk = 16384;
    size_t lo = begin * chunk, hi = end * chunk < j->p->xq_bytes ? end * chunk : j->p->xq_bytes;
    quantize(j->x + lo, hi - lo, j->p->inv, j->p->zx, j->p->qmax, (uint8_t *)j->xq + lo);
}

/* Direct path: quantizes columns [c0, c1) of every input row of (image bn, group gi) into
 * the workspace, where qc_block / qc_pack_part then pack them. The packing that reads
 * these bytes is the only one, and it runs right after in the same worker, so the bytes
 * are still in cache, and the node needs no separate quantize pass (nor its barrier). */
static void qc_quant_cols(const qc_job *j, size_t bn, size_t gi, size_t c0, size_t c1)
{
    const qc_plan *p = j->p;
    size_t base = (bn * p->C + gi * p->Cg) * p->IS;
    if (c0 == 0 && c1 == p->IS) {
        quantize(j->x + base, p->Cg * p->IS, p->inv, p->zx, p->qmax, (uint8_t *)j->xq + base);
        return;
    }
    for (size_t k = 0; k < p->Cg; k++)
        quantize(j->x + base + k * p->IS + c0, c1 - c0, p->inv, p->zx, p->qmax,
                 (uint8_t *)j->xq + base + k * p->IS + c0);
}

/* Direct path: packs columns [c0, c1) of (image bn, group gi) into pk, from the float input
 * in one pass when the kernel can (same bytes as quantizing then packing). */
static ert_status qc_pack_direct(const qc_job *j, size_t bn, size_t gi, size_t c0, size_t c1, void *pk, size_t cap,
                                 ert_error *err)
{
    const qc_plan *p = j->p;
    size_t base = (bn * p->C + gi * p->Cg) * p->IS;
    if (j->fused && c1 - c0 >= 2)
        return ert_qgemm_pack_x_f32(j->x + base + c0, p->K, c1 - c0, p->IS, p->inv, p->zx, p->qmax, pk, cap, err);
    if (j->lazy)
        qc_quant_cols(j, bn, gi, c0, c1);
    return ert_qgemm_pack_x_q(j->xq + base + c0, p->K, c1 - c0, p->IS, p->qmax, pk, cap, err);
}

/* The product of columns [p0, p0 + t) of (image bn, group gi), packed in pk. */
static ert_status qc_product(qc_job *j, size_t bn, size_t gi, size_t p0, size_t t, const uint8_t *pk, ert_pool *pool,
                             ert_error *err)
{
    const qc_plan *p = j->p;
    size_t yo = (bn * p->M + gi * p->Mg) * p->S + p0;
    ert_qgemm_call c = {
        .n = p->Mg, .k = p->K, .p = t,
        .w = j->wp + gi * p->wpack,
        .x = pk,
        .z_x = p->zx,
        .q_max = p->qmax,
        .bias = j->b ? j->b + gi * p->Mg : NULL,
        .epilogue = ERT_QEPI_F32,
        .scale = j->s + gi * p->Mg,
        .residual = j->r ? j->r + yo : NULL,
        .ldr = p->S,
        .lo = p->lo, .hi = p->hi,
        .y = j->y + yo,
        .ldc = p->S,
        .pool = pool,
    };
    return ert_qgemm(&c, err);
}

/* Gathers and packs columns [p0, p0 + t) of (image bn, group gi) into pk, then runs their
 * product. */
static ert_status qc_block(qc_job *j, size_t bn, size_t gi, size_t p0, size_t t, uint8_t *col, uint8_t *pk,
                           ert_pool *pool, ert_error *err)
{
    const qc_plan *p = j->p;
    const uint8_t *xg = j->xq + (bn * p->C + gi * p->Cg) * p->IS;
    ert_status st;
    if (p->direct) {
        st = qc_pack_direct(j, bn, gi, p0, p0 + t, pk, p->pk_bytes, err);
    } else {
        qc_im2col(xg, p, 0, p->Cg, p0, p0 + t, col);
        st = ert_qgemm_pack_x_q(col, p->K, t, t, p->qmax, pk, p->pk_bytes, err);
    }
    return st != ERT_OK ? st : qc_product(j, bn, gi, p0, t, pk, pool, err);
}

/* Narrow path with threads: channels [begin, end) of (j->bn, j->gi) into the columns. */
static void qc_gather_part(void *arg, size_t begin, size_t end, int worker)
{
    (void)worker;
    qc_job *j = arg;
    const qc_plan *p = j->p;
    qc_im2col(j->xq + (j->bn * p->C + j->gi * p->Cg) * p->IS, p, begin, end, 0, p->S, j->ctx->scratch);
}

/* ... and column panels [begin, end) (16 columns each, the last one to S) packed. */
static void qc_pack_part(void *arg, size_t begin, size_t end, int worker)
{
    (void)worker;
    qc_job *j = arg;
    const qc_plan *p = j->p;
    uint8_t *col = j->ctx->scratch, *pk = col + p->col_bytes;
    size_t c0 = begin * 16, c1 = end == j->chunks ? p->S : end * 16;
    size_t off = ert_qgemm_x_size_q(p->K, c0, p->qmax); /* 0 for c0 = 0 */
    const uint8_t *src = p->direct ? j->xq + (j->bn * p->C + j->gi * p->Cg) * p->IS + c0 : col + c0;
    ert_error e;
    ert_status st;
    if ((c0 && !off) || off > p->pk_bytes) {
        st = ert_fail(&e, ERT_EINTERNAL, "packed columns from %zu do not fit the %zu-byte scratch", c0, p->pk_bytes);
    } else {
        if (p->direct)
            st = qc_pack_direct(j, j->bn, j->gi, c0, c1, pk + off, p->pk_bytes - off, &e);
        else
            st = ert_qgemm_pack_x_q(src, p->K, c1 - c0, p->S, p->qmax, pk + off, p->pk_bytes - off, &e);
    }
    if (st != ERT_OK && !j->failed) {
        j->err = e;
        j->failed = 1;
    }
}

static void qc_units(void *arg, size_t begin, size_t end, int worker)
{
    qc_job *j = arg;
    const qc_plan *p = j->p;
    uint8_t *scr = ert_ctx_scratch(j->ctx, worker);
    for (size_t u = begin; u < end && !j->failed; u++) {
        size_t tile = u % j->tiles, bg = u / j->tiles;
        size_t p0 = tile * j->span, t = p->S - p0 < j->span ? p->S - p0 : j->span;
        ert_error e;
        if (qc_block(j, bg / p->group, bg % p->group, p0, t, scr, scr + p->col_bytes, NULL, &e) != ERT_OK &&
            !j->failed) {
            j->err = e;
            j->failed = 1;
        }
    }
}

/* int8 Winograd: units are (image, block of j->span tiles, part of the 6-channel panels),
 * each in its worker's scratch. */
static void qc_wino_units(void *arg, size_t begin, size_t end, int worker)
{
    qc_job *j = arg;
    const qc_plan *p = j->p;
    void *scr = ert_ctx_scratch(j->ctx, worker);
    const size_t rps = (p->M + 5) / 6, parts = j->mparts;
    for (size_t u = begin; u < end; u++) {
        size_t part = u % parts, bt = u / parts;
        size_t bn = bt / j->tiles, t0 = bt % j->tiles * j->span;
        size_t nt = p->wg.T - t0 < j->span ? p->wg.T - t0 : j->span;
        size_t yo = bn * p->M * p->S;
        ert_qwino_block(&p->wg, j->wp, j->xq + bn * p->C * p->IS, p->zx, t0, nt, part * rps / parts,
                        (part + 1) * rps / parts, j->b, j->s, j->r ? j->r + yo : NULL, p->lo, p->hi, j->y + yo, scr);
    }
}

/* The specification as plain loops: used when no weights were prepared. */
static void qc_naive(const qc_plan *p, const float *x, const int8_t *w, const int32_t *b, const float *s,
                     const float *r, float *y)
{
    const ert_sp_geom *g = &p->g;
    for (size_t bn = 0; bn < p->N; bn++)
        for (size_t m = 0; m < p->M; m++) {
            size_t gi = m / p->Mg;
            for (size_t pos = 0; pos < p->S; pos++) {
                int64_t od = (int64_t)(pos / ((size_t)g->out[1] * (size_t)g->out[2]));
                int64_t oh = (int64_t)(pos / (size_t)g->out[2] % (size_t)g->out[1]), ow = (int64_t)(pos % (size_t)g->out[2]);
                uint32_t acc = b ? (uint32_t)b[m] : 0u;
                const int8_t *wm = w + m * p->K;
                size_t k = 0;
                for (size_t c = 0; c < p->Cg; c++)
                    for (int64_t kd = 0; kd < g->k[0]; kd++)
                        for (int64_t kh = 0; kh < g->k[1]; kh++)
                            for (int64_t kw = 0; kw < g->k[2]; kw++, k++) {
                                int64_t id = od * g->s[0] + kd * g->d[0] - g->pb[0];
                                int64_t ih = oh * g->s[1] + kh * g->d[1] - g->pb[1];
                                int64_t iw = ow * g->s[2] + kw * g->d[2] - g->pb[2];
                                uint8_t q = p->zx;
                                if (id >= 0 && id < g->in[0] && ih >= 0 && ih < g->in[1] && iw >= 0 && iw < g->in[2]) {
                                    size_t off = ((size_t)id * (size_t)g->in[1] + (size_t)ih) * (size_t)g->in[2] + (size_t)iw;
                                    ert_qquantize_q(x + (bn * p->C + gi * p->Cg + c) * p->IS + off, 1, p->inv, p->zx,
                                                    p->qmax, &q);
                                }
                                acc += (uint32_t)(((int32_t)q - (int32_t)p->zx) * (int32_t)wm[k]);
                            }
                size_t o = (bn * p->M + m) * p->S + pos;
                y[o] = epi_f32_one((int32_t)acc, s[m], r ? r + o : NULL, p->lo, p->hi);
            }
        }
}

static ert_status qc_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    qc_plan p;
    ert_status st = qc_plan_make(gr, n, &p, false, err);
    if (st != ERT_OK)
        return st;
    const float *x = ert_node_input(gr, n, 0)->data;
    const ert_tensor *bt = ert_node_input(gr, n, 2), *rt = ert_node_input(gr, n, 4);
    qc_job j = {
        .p = &p, .ctx = ctx, .n = n, .x = x,
        .s = ert_node_input(gr, n, 3)->data,
        .r = rt ? rt->data : NULL,
        .b = bt ? bt->data : NULL,
        .y = ert_node_output(gr, n, 0)->data,
    };
    if (p.N == 0 || p.S == 0 || p.M == 0)
        return ERT_OK;
    if ((st = kernel_usable(n, err)) != ERT_OK)
        return st;
    p.wpack = qc_wpack(&p);
    if (!ctx->prepared || !ctx->workspace || ctx->workspace_bytes < p.xq_bytes) {
        qc_naive(&p, x, ert_node_input(gr, n, 1)->data, j.b, j.s, j.r, j.y);
        return ERT_OK;
    }
    j.wp = ctx->prepared;
    bool wino_ok = false;
    if (p.wino_shape && ert_qwino_prepared_n(j.wp) == 4)
        p.wg = p.wg4; /* its block fitted to the scratch given below */
    if (p.wino_shape && ert_qwino_is_prepared(j.wp, &p.wg, &wino_ok) && !wino_ok)
        return ert_node_fail(err, n, ERT_EINVAL, "weights were prepared for the int8 Winograd path of another int8 "
                             "kernel than the active '%s'; bind the model again", ert_qgemm_kernel_name());
    if (wino_ok && (!ctx->scratch || !ert_qwino_fit(&p.wg, ctx->scratch_bytes)))
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch of %zu bytes given, %zu needed (int8 Winograd)",
                             ctx->scratch_bytes, ert_qwino_scratch(&p.wg));
    if (!wino_ok && (p.dscratch > ctx->scratch_bytes || !ctx->scratch))
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch of %zu bytes given, %zu needed", ctx->scratch_bytes,
                             p.dscratch);
    j.xq = ctx->workspace;
    double macs = (double)p.N * (double)p.M * (double)p.S * (double)p.K;
    ert_pool *pool = macs < 2e6 ? NULL : ctx->pool;
    const int threads = ert_pool_size(pool);
    /* 1. Quantize X once, in chunks of 16 kB over the threads; 1x1 convolutions instead
     * quantize each block of columns right before packing it (qc_quant_cols). */
    j.lazy = p.direct && !wino_ok;
    j.fused = j.lazy && ert_qgemm_has_pack_x_f32(p.qmax);
    if (!j.lazy)
        ert_pool_run(pool, (p.xq_bytes + 16383) / 16384, 1, qc_quant_part, &j);
    if (wino_ok) {
        /* 2w. Blocks of tiles (whole 16-tile panels). With threads, the block size that
         * gives the busiest thread the fewest panels (each unit costs its panels), ties to
         * the larger block: 49 panels on 2 threads take blocks of 5 (25 per thread), not
         * 7 (7 blocks, 28 on one thread). */
        size_t span = p.wg.tb;
        if (threads > 1) {
            size_t P = (p.wg.T + 15) / 16, best = SIZE_MAX, th = (size_t)threads;
            size_t most = p.wg.tb / 16, start = (P + th * 4 - 1) / (th * 4);
            if (start > most)
                start = most;
            for (size_t sp = start; sp >= 1; sp--) {
                size_t units = p.N * ((P + sp - 1) / sp), cost = (units + th - 1) / th * sp;
                if (cost < best)
                    best = cost, span = sp * 16;
            }
        }
        j.span = span < p.wg.tb ? span : p.wg.tb;
        j.tiles = (p.wg.T + j.span - 1) / j.span;
        /* Fewer blocks than keep every thread busy (F(4x4) on 14x14: one block): each block
         * also splits its output channels over the threads, every part transforming the
         * same input tiles (a small share: the products are split). */
        size_t units = p.N * j.tiles, th = (size_t)threads;
        j.mparts = 1;
        if (th > 1 && units % th && units < 4 * th && (p.M + 5) / 6 >= th)
            j.mparts = th;
        ert_pool_run(pool, units * j.mparts, 1, qc_wino_units, &j);
        return ERT_OK;
    }
    if (p.narrow) {
        /* 2a. Few columns: gather and pack each (image, group) once, split the product.
         * With threads, the gather splits over channels and the packing over whole
         * kernel panels (16 columns; the layouts of qgemm_impl.h are column panels
         * placed one after another, except the reference kernel's plain copy). */
        uint8_t *col = ctx->scratch;
        bool split = threads > 1 && ert_qgemm_kernel() != ERT_QK_REF && p.S >= 32;
        for (size_t bn = 0; bn < p.N; bn++)
            for (size_t gi = 0; gi < p.group; gi++) {
                if (!split) {
                    if ((st = qc_block(&j, bn, gi, 0, p.S, col, col + p.col_bytes, pool, err)) != ERT_OK)
                        return ert_error_prefix(err, "node '%s' (ErtQConv)", n->name);
                    continue;
                }
                j.bn = bn, j.gi = gi;
                if (!p.direct)
                    ert_pool_run(pool, p.Cg, 1, qc_gather_part, &j);
                size_t chunks = (p.S + 15) / 16;
                if (p.S % 16 == 1)
                    chunks--; /* no 1-column chunk: its packing would be the GEMV layout */
                j.chunks = chunks;
                ert_pool_run(pool, chunks, 1, qc_pack_part, &j);
                if (j.failed) {
                    if (err)
                        *err = j.err;
                    return ert_error_prefix(err, "node '%s' (ErtQConv)", n->name);
                }
                if ((st = qc_product(&j, bn, gi, 0, p.S, col + p.col_bytes, pool, err)) != ERT_OK)
                    return ert_error_prefix(err, "node '%s' (ErtQConv)", n->name);
            }
        return ERT_OK;
    }
    /* 2b. (image, group, column tile) units, each gathered, packed and multiplied by one
     * worker in its own scratch; tiles stay multiples of 16 columns (whole kernel panels)
     * and their count a multiple of the threads when there are few. */
    size_t tiles = (p.S + p.t - 1) / p.t, per_image = p.N * p.group;
    if (per_image * tiles < (size_t)threads * 8)
        while ((per_image * tiles) % (size_t)threads && tiles < p.S)
            tiles++;
    size_t span = ru((p.S + tiles - 1) / tiles, 16);
    if (span > p.t)
        span = p.t;
    j.span = span;
    j.tiles = (p.S + span - 1) / span;
    ert_pool_run(pool, per_image * j.tiles, 1, qc_units, &j);
    if (j.failed) {
        if (err)
            *err = j.err;
        return ert_error_prefix(err, "node '%s' (ErtQConv)", n->name);
    }
    return ERT_OK;
}

/* ======================================================================== ErtQGemm */

/* ErtQGemm ints: [0] z_x, optional [1] q_max (127 or 255; absent: 255). floats: [inv_s_x].
 * X [R, K] float32, Wq [N, K] int8. */
typedef struct qg_plan {
    size_t R, K, N;
    uint8_t zx, qmax;
    float inv, lo, hi;
    size_t xq_off, xt_off, pk_off, c_off, scratch;
} qg_plan;

static ert_status qg_plan_make(const ert_graph *gr, const ert_node *n, qg_plan *p, bool scan, ert_error *err)
{
    memset(p, 0, sizeof *p);
    if (n->n_in != 4 || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs inputs (X, Wq, Bq or none, S) and one output, got %u inputs "
                             "and %u outputs", n->n_in, n->n_out);
    ert_status st = check_q_params(n, 1, 0, &p->qmax, &p->lo, &p->hi, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *x = ert_node_input(gr, n, 0), *w = ert_node_input(gr, n, 1);
    if (!x || !w)
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs X and Wq are required");
    if (x->dtype != ERT_DT_F32 || x->shape.rank != 2 || x->shape.dims[0] < 0 || x->shape.dims[1] < 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "input X must be float32 [rows, K]");
    if (w->shape.rank != 2 || w->shape.dims[0] < 1 || w->shape.dims[1] != x->shape.dims[1])
        return ert_node_fail(err, n, ERT_EFORMAT, "weight Wq must be [N, K] with K = %lld (X's columns)",
                             (long long)x->shape.dims[1]);
    p->R = (size_t)x->shape.dims[0], p->K = (size_t)x->shape.dims[1], p->N = (size_t)w->shape.dims[0];
    if (p->K > ERT_QGEMM_K_MAX)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "reduction K = %zu exceeds %u: the int32 accumulator could "
                             "overflow", p->K, ERT_QGEMM_K_MAX);
    if ((st = check_q_weights(gr, n, p->N, scan, err)) != ERT_OK)
        return st;
    p->zx = (uint8_t)n->ints[0];
    p->inv = n->floats[0];
    size_t xq, pk = 0, c, total;
    if (!ert_mul_size(p->R, p->K, &xq) || !ert_mul_size(p->R, p->N, &c) || !ert_mul_size(c, sizeof(float), &c) ||
        (p->R && !(pk = xbound(p->K, p->R))))
        return ert_node_fail(err, n, ERT_EINVAL, "product of %zu x %zu by %zu x %zu is too large", p->R, p->K, p->N,
                             p->K);
    if (p->R == 0)
        return ERT_OK;
    xq = ru(xq, 64);
    p->xq_off = 0;
    p->xt_off = xq;
    p->pk_off = p->R > 1 ? 2 * xq : xq;
    if (xq > SIZE_MAX / 4 || pk > SIZE_MAX / 4 || c > SIZE_MAX / 4)
        return ert_node_fail(err, n, ERT_EINVAL, "scratch size overflows");
    p->c_off = p->pk_off + ru(pk, 64);
    total = p->c_off + (p->R > 1 ? ru(c, 64) : 0);
    p->scratch = total;
    return ERT_OK;
}

static ert_status qg_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    qg_plan p;
    ert_status st = qg_plan_make(gr, n, &p, true, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = (ert_shape){2, {(int64_t)p.R, (int64_t)p.N}};
    return ERT_OK;
}

static size_t qg_scratch(const ert_graph *gr, const ert_node *n)
{
    qg_plan p;
    return qg_plan_make(gr, n, &p, false, NULL) == ERT_OK ? p.scratch : 0;
}

static size_t qg_prepare_bytes(const ert_graph *gr, const ert_node *n)
{
    qg_plan p;
    return qg_plan_make(gr, n, &p, false, NULL) == ERT_OK ? ert_qgemm_packed_size_q(p.N, p.K, p.qmax) : 0;
}

static void qg_prepare(const ert_graph *gr, const ert_node *n, void *out)
{
    qg_plan p;
    if (qg_plan_make(gr, n, &p, false, NULL) != ERT_OK)
        return;
    size_t bytes = ert_qgemm_packed_size_q(p.N, p.K, p.qmax);
    if (ert_qgemm_pack_q(ert_node_input(gr, n, 1)->data, p.N, p.K, p.qmax, out, bytes, NULL) != ERT_OK)
        memset(out, 0, bytes < ERT_QW_HEADER ? bytes : ERT_QW_HEADER);
}

static ert_status qg_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    qg_plan p;
    ert_status st = qg_plan_make(gr, n, &p, false, err);
    if (st != ERT_OK)
        return st;
    if (p.R == 0)
        return ERT_OK;
    const float *x = ert_node_input(gr, n, 0)->data, *s = ert_node_input(gr, n, 3)->data;
    const ert_tensor *bt = ert_node_input(gr, n, 2);
    const int32_t *b = bt ? bt->data : NULL;
    float *y = ert_node_output(gr, n, 0)->data;
    if ((st = kernel_usable(n, err)) != ERT_OK)
        return st;
    if (!ctx->prepared) {
        const int8_t *w = ert_node_input(gr, n, 1)->data;
        for (size_t r = 0; r < p.R; r++)
            for (size_t o = 0; o < p.N; o++) {
                uint32_t acc = b ? (uint32_t)b[o] : 0u;
                for (size_t k = 0; k < p.K; k++) {
                    uint8_t q;
                    ert_qquantize_q(x + r * p.K + k, 1, p.inv, p.zx, p.qmax, &q);
                    acc += (uint32_t)(((int32_t)q - (int32_t)p.zx) * (int32_t)w[o * p.K + k]);
                }
                y[r * p.N + o] = epi_f32_one((int32_t)acc, s[o], NULL, p.lo, p.hi);
            }
        return ERT_OK;
    }
    if (p.scratch > ctx->scratch_bytes || !ctx->scratch)
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch of %zu bytes given, %zu needed", ctx->scratch_bytes,
                             p.scratch);
    uint8_t *scr = ctx->scratch, *xq = scr + p.xq_off, *xt = scr + p.xt_off, *pk = scr + p.pk_off;
    quantize(x, p.R * p.K, p.inv, p.zx, p.qmax, xq);
    if (p.R > 1) {
        for (size_t r = 0; r < p.R; r++)
            for (size_t k = 0; k < p.K; k++)
                xt[k * p.R + r] = xq[r * p.K + k];
    } else {
        xt = xq;
    }
    if ((st = ert_qgemm_pack_x_q(xt, p.K, p.R, p.R, p.qmax, pk, p.c_off - p.pk_off, err)) != ERT_OK)
        return ert_error_prefix(err, "node '%s' (ErtQGemm)", n->name);
    float *c = p.R > 1 ? (float *)(scr + p.c_off) : y;
    double macs = (double)p.R * (double)p.N * (double)p.K;
    ert_qgemm_call call = {
        .n = p.N, .k = p.K, .p = p.R, .w = ctx->prepared, .x = pk, .z_x = p.zx, .q_max = p.qmax, .bias = b,
        .epilogue = ERT_QEPI_F32, .scale = s, .lo = p.lo, .hi = p.hi, .y = c, .ldc = p.R,
        .pool = macs < 2e6 ? NULL : ctx->pool,
    };
    if ((st = ert_qgemm(&call, err)) != ERT_OK)
        return ert_error_prefix(err, "node '%s' (ErtQGemm)", n->name);
    if (p.R > 1)
        for (size_t o = 0; o < p.N; o++)
            for (size_t r = 0; r < p.R; r++)
                y[r * p.N + o] = c[o * p.R + r];
    return ERT_OK;
}

const ert_op_def ert_ops_qlinear[] = {
    {.name = "ErtQConv", .infer = qc_infer, .scratch = qc_scratch, .run = qc_run, .fuses_act = true,
     .prepare_bytes = qc_prepare_bytes,
     .prepare = qc_prepare, .workspace = qc_workspace},
    {.name = "ErtQGemm", .infer = qg_infer, .scratch = qg_scratch, .run = qg_run, .fuses_act = true,
     .prepare_bytes = qg_prepare_bytes,
     .prepare = qg_prepare},
    ERT_OP_END,
};
