/* Kernels: Conv (1x1 straight to gemm, depthwise direct, Winograd F(4x4,3x3) / F(2x2,3x3) for 3x3
 * stride-1 convolutions on maps of 14x14 and more, im2col + gemm otherwise) and
 * ConvTranspose (gemm + col2im), float32, 1-D to 3-D, groups, fused activation. */
#include "../op.h"
#include "conv_kernels.h"
#include "embedrt/gemm.h"
#include "embedrt/pool.h"

#include <string.h>

/* Conv params (ints, CONV_INTS): the window block of spatial.h, then [17] group.
 * ConvTranspose params (ints, CT_INTS): the window block, [17] group,
 * [18..21) output_padding per spatial dim, [21] number of output_shape values given
 * (0, r or r + 2 for spatial rank r), [22..27) those values. No float params. */
#define CONV_INTS (ERT_SP_INTS + 1)
#define CT_INTS (ERT_SP_INTS + 10)
#define CT_OPAD (ERT_SP_INTS + 1)
#define CT_OSN (ERT_SP_INTS + 4)
#define CT_OS (ERT_SP_INTS + 5)

enum { PATH_GEMM, PATH_DEPTHWISE, PATH_IM2COL };

/* Channels (input and output) from which a 3x3 stride-1 convolution goes to Winograd. */
#define WINO_MIN_CHANNELS 16
/* ... and has at least this many output tiles per image. The transformed weights are
 * (m+2)^2/9 the size of the originals and each product repacks its share, so the tiles
 * must amortise that: F(4x4) where it has >= 36 tiles (56x56, 28x28 maps: 1.4-1.6x faster
 * than im2col on the grasp2vec tower, no gain at 14x14 with 16 tiles), else F(2x2) where
 * it has >= 36 (14x14: 49 tiles). */
#define WINO_MIN_TILES 36

typedef struct conv_plan {
    ert_sp_geom g;
    size_t N, C, M, group, Cg, Mg;
    size_t K;         /* Conv: gemm depth Cg*k; ConvTranspose: col rows Mg*k */
    int path;
    size_t rows;      /* Conv: output rows OD*OH; ConvTranspose: input rows ID*IH */
    size_t row_len;   /* OW / IW */
    size_t tile_rows; /* rows per column-buffer tile */
    size_t scratch;   /* bytes */
    ert_shape out;
    bool wino;        /* 3x3 stride-1 2-D with constant weights: Winograd when prepared */
    ert_wino_geom wg;
} conv_plan;

/* ---- parse ---- */

static ert_status parse_group(ert_attrs *a, const ert_node *n, int64_t *group, ert_error *err)
{
    ert_status st = ert_attr_int(a, n, "group", 1, group, err);
    if (st != ERT_OK)
        return st;
    if (*group < 1 || *group > ERT_SP_LIMIT)
        return ert_node_fail(err, n, ERT_EFORMAT, "group = %lld must be >= 1", (long long)*group);
    return ERT_OK;
}

static ert_status conv_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr, (void)opset;
    int64_t p[CONV_INTS];
    ert_status st = ert_sp_parse(a, n, false, true, p, err);
    if (st == ERT_OK)
        st = parse_group(a, n, &p[ERT_SP_INTS], err);
    if (st != ERT_OK)
        return st;
    return ert_node_set_params(n, p, CONV_INTS, NULL, 0, err);
}

static ert_status ct_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr, (void)opset;
    int64_t p[CT_INTS];
    ert_status st = ert_sp_parse(a, n, false, true, p, err);
    if (st == ERT_OK)
        st = parse_group(a, n, &p[ERT_SP_INTS], err);
    const int64_t *op = NULL, *os = NULL;
    size_t nop = 0, nos = 0;
    if (st == ERT_OK)
        st = ert_attr_ints(a, n, "output_padding", &op, &nop, err);
    if (st == ERT_OK)
        st = ert_attr_ints(a, n, "output_shape", &os, &nos, err);
    if (st != ERT_OK)
        return st;
    if (op) {
        if (nop == 0 || nop > ERT_SP_MAXDIM || (p[1] && (int64_t)nop != p[1]))
            return ert_node_fail(err, n, ERT_EFORMAT, "output_padding has %zu values, inconsistent with the window", nop);
        p[1] = (int64_t)nop;
    }
    if (os && (nos == 0 || nos > ERT_SP_MAXDIM + 2 || (p[1] && (int64_t)nos != p[1] && (int64_t)nos != p[1] + 2)))
        return ert_node_fail(err, n, ERT_EFORMAT, "output_shape has %zu values, inconsistent with the window", nos);
    for (int i = 0; i < ERT_SP_MAXDIM; i++)
        p[CT_OPAD + i] = (size_t)i < nop ? op[i] : 0;
    p[CT_OSN] = (int64_t)nos;
    for (int i = 0; i < ERT_SP_MAXDIM + 2; i++)
        p[CT_OS + i] = (size_t)i < nos ? os[i] : 0;
    return ert_node_set_params(n, p, CT_INTS, NULL, 0, err);
}

/* ---- planning: every check run() relies on, shared by infer, scratch and run ---- */

/* Inputs common to Conv and ConvTranspose: X, W (same rank 3..5), optional bias [bias_len]. */
static ert_status check_io(const ert_graph *gr, const ert_node *n, uint32_t n_ints, uint32_t max_in, ert_error *err)
{
    if (n->n_in < 2 || n->n_in > max_in || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs inputs (X, W[, B]%s) and one output, got %u inputs and %u outputs",
                             max_in > 3 ? "[, R]" : "", n->n_in, n->n_out);
    if (n->n_ints != n_ints || !n->ints || n->n_floats != 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int / %u float params, expected %u / 0", n->n_ints,
                             n->n_floats, n_ints);
    const ert_tensor *x = ert_node_input(gr, n, 0), *w = ert_node_input(gr, n, 1), *b = ert_node_input(gr, n, 2);
    if (!x || !w)
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs X and W are required");
    if (x->dtype != ERT_DT_F32 || w->dtype != ERT_DT_F32 || (b && b->dtype != ERT_DT_F32))
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported (float32 only)",
                             ert_dtype_name(x->dtype != ERT_DT_F32 ? x->dtype : w->dtype != ERT_DT_F32 ? w->dtype : b->dtype));
    if (x->shape.rank < 3 || x->shape.rank > 2 + ERT_SP_MAXDIM)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input X has rank %d: only 1-D, 2-D and 3-D (rank 3..5) supported",
                             x->shape.rank);
    if (w->shape.rank != x->shape.rank)
        return ert_node_fail(err, n, ERT_EFORMAT, "weight W has rank %d but X has rank %d", w->shape.rank, x->shape.rank);
    for (int i = 0; i < x->shape.rank; i++) {
        if (x->shape.dims[i] < 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "input X has a negative dim");
        if (w->shape.dims[i] < 1 || w->shape.dims[i] > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "weight W dim %d is %lld", i, (long long)w->shape.dims[i]);
    }
    return ERT_OK;
}

static ert_status check_bias(const ert_graph *gr, const ert_node *n, size_t m, ert_error *err)
{
    const ert_tensor *b = ert_node_input(gr, n, 2);
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != (int64_t)m))
        return ert_node_fail(err, n, ERT_EFORMAT, "bias B must have shape [%zu]", m);
    return ERT_OK;
}

/* Output shape [N, M, out...] must be allocatable. */
static ert_status set_out_shape(const ert_node *n, conv_plan *p, ert_error *err)
{
    p->out.rank = 2 + p->g.nsp;
    p->out.dims[0] = (int64_t)p->N;
    p->out.dims[1] = (int64_t)p->M;
    for (int i = 0; i < p->g.nsp; i++)
        p->out.dims[2 + i] = p->g.out[ERT_SP_MAXDIM - p->g.nsp + i];
    size_t bytes;
    if (!ert_shape_bytes(&p->out, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EINVAL, "output is too large");
    return ERT_OK;
}

/* Column-buffer tiling in whole rows: a tile stays cache-sized (ERT_SP_COL_CAP) so im2col
 * output is still hot when gemm packs it, but spans at least ERT_SP_COL_MIN columns so
 * each gemm call stays efficient. */
static ert_status plan_tiles(const ert_node *n, conv_plan *p, ert_error *err)
{
    size_t per_row;
    if (!ert_mul_size(p->K, p->row_len, &per_row) || !ert_mul_size(per_row, sizeof(float), &per_row))
        return ert_node_fail(err, n, ERT_EINVAL, "column buffer size overflows");
    size_t t = per_row ? ERT_SP_COL_CAP / per_row : p->rows;
    size_t min_rows = p->row_len ? (ERT_SP_COL_MIN + p->row_len - 1) / p->row_len : 1;
    if (t < min_rows)
        t = min_rows;
    if (t < 1)
        t = 1;
    if (t > p->rows)
        t = p->rows;
    p->tile_rows = t;
    if (!ert_mul_size(t, per_row, &p->scratch))
        return ert_node_fail(err, n, ERT_EINVAL, "column buffer size overflows");
    return ERT_OK;
}

/* Winograd tile for this convolution (see WINO_MIN_TILES), with every size it implies
 * checked against overflow; false: im2col. */
static bool wino_pick(conv_plan *p, const ert_sp_geom *g)
{
    static const int tiles[] = {4, 2};
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
        size_t u, ws;
        if (!ert_wino_geom_init(&p->wg, g, p->C, p->M, tiles[i]) || p->wg.T < WINO_MIN_TILES)
            continue;
        if (ert_mul_size(p->C, p->M, &u) && ert_mul_size(u, p->wg.pos * sizeof(float), &u) &&
            ert_mul_size(p->C + p->M, p->wg.pos * p->wg.block, &ws) && ws <= SIZE_MAX / sizeof(float))
            return true;
    }
    return false;
}

static ert_status conv_plan_make(const ert_graph *gr, const ert_node *n, conv_plan *p, ert_error *err)
{
    memset(p, 0, sizeof *p);
    ert_status st = check_io(gr, n, CONV_INTS, 4, err);
    if (st == ERT_OK)
        st = ert_sp_check(n, n->ints, false, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *x = ert_node_input(gr, n, 0), *w = ert_node_input(gr, n, 1);
    int64_t group = n->ints[ERT_SP_INTS];
    if (group < 1 || group > ERT_SP_LIMIT)
        return ert_node_fail(err, n, ERT_EFORMAT, "group = %lld must be >= 1", (long long)group);
    int64_t C = x->shape.dims[1], M = w->shape.dims[0], Cg = w->shape.dims[1];
    if (C % group != 0)
        return ert_node_fail(err, n, ERT_EINVAL, "group %lld does not divide the %lld input channels", (long long)group,
                             (long long)C);
    if (M % group != 0)
        return ert_node_fail(err, n, ERT_EINVAL, "group %lld does not divide the %lld output channels (W dim 0)",
                             (long long)group, (long long)M);
    if (C / group != Cg)
        return ert_node_fail(err, n, ERT_EINVAL, "X has %lld channels but W expects %lld per group x %lld groups",
                             (long long)C, (long long)Cg, (long long)group);
    st = check_bias(gr, n, (size_t)M, err);
    if (st == ERT_OK)
        st = ert_sp_resolve(n, n->ints, &x->shape, &w->shape.dims[2], false, &p->g, err);
    if (st != ERT_OK)
        return st;
    p->N = (size_t)x->shape.dims[0];
    p->C = (size_t)C, p->M = (size_t)M, p->group = (size_t)group, p->Cg = (size_t)Cg, p->Mg = (size_t)(M / group);
    st = set_out_shape(n, p, err);
    if (st != ERT_OK)
        return st;
    /* embedrt's fourth input R (the converter fuses a following residual Add): y = act(conv + B + R). */
    const ert_tensor *r = ert_node_input(gr, n, 3);
    if (r) {
        if (r->dtype != ERT_DT_F32 || r->shape.rank != p->out.rank ||
            memcmp(r->shape.dims, p->out.dims, (size_t)p->out.rank * sizeof r->shape.dims[0]) != 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "residual input '%s' must be float32 with the output's shape",
                                 r->name);
        if (group > 1 && Cg == 1)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "a residual input on a depthwise convolution is not supported");
    }
    const ert_sp_geom *g = &p->g;
    if (!ert_mul_size(p->Cg, g->k_size, &p->K))
        return ert_node_fail(err, n, ERT_EINVAL, "kernel size overflows");
    bool unit = g->k_size == 1;
    for (int j = 0; j < ERT_SP_MAXDIM; j++)
        unit = unit && g->s[j] == 1 && g->pb[j] == 0 && g->pe[j] == 0;
    if (unit) {
        p->path = PATH_GEMM;
    } else if (group > 1 && Cg == 1 && g->nsp <= 2) {
        p->path = PATH_DEPTHWISE;
        p->scratch = (size_t)g->in[2] * sizeof(float); /* the 3x3 kernel's zero row */
    } else {
        p->path = PATH_IM2COL;
        p->rows = (size_t)g->out[0] * (size_t)g->out[1]; /* <= out_size, checked */
        p->row_len = (size_t)g->out[2];
        st = plan_tiles(n, p, err);
        if (st == ERT_OK && group == 1 && w->is_const && w->data && p->C >= WINO_MIN_CHANNELS &&
            p->M >= WINO_MIN_CHANNELS)
            p->wino = wino_pick(p, g);
    }
    return st;
}

static ert_status conv_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    conv_plan p;
    ert_status st = conv_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = p.out;
    return ERT_OK;
}

static size_t conv_scratch(const ert_graph *gr, const ert_node *n)
{
    conv_plan p;
    return conv_plan_make(gr, n, &p, NULL) == ERT_OK ? p.scratch : 0;
}

static size_t conv_prepare_bytes(const ert_graph *gr, const ert_node *n)
{
    conv_plan p;
    return conv_plan_make(gr, n, &p, NULL) == ERT_OK && p.wino ? p.wg.pos * p.C * p.M * sizeof(float) : 0;
}

static void conv_prepare(const ert_graph *gr, const ert_node *n, void *out)
{
    conv_plan p;
    if (conv_plan_make(gr, n, &p, NULL) == ERT_OK && p.wino)
        ert_wino_prepare(&p.wg, ert_node_input(gr, n, 1)->data, out);
}

static size_t conv_workspace(const ert_graph *gr, const ert_node *n)
{
    conv_plan p;
    return conv_plan_make(gr, n, &p, NULL) == ERT_OK && p.wino ? ert_wino_workspace_floats(&p.wg) * sizeof(float)
                                                                : 0;
}

typedef struct conv_job {
    const conv_plan *p;
    const ert_node *n;
    const ert_ctx *ctx;
    const float *x, *w, *b;
    const float *r;   /* residual input, or NULL */
    float *y;
    size_t tiles;     /* column tiles per (image, group) */
    size_t tile_span; /* output rows (im2col) or columns (1x1) per tile */
    volatile int failed;
} conv_job;

static void conv_units(void *arg, size_t begin, size_t end, int worker)
{
    conv_job *j = arg;
    const conv_plan *p = j->p;
    const ert_sp_geom *g = &p->g;
    const size_t S = g->out_size, IS = g->in_size;
    float *scratch = ert_ctx_scratch(j->ctx, worker);
    for (size_t u = begin; u < end; u++) {
        if (p->path == PATH_DEPTHWISE) {
            size_t bn = u / (p->C * p->Mg), rem = u % (p->C * p->Mg), c = rem / p->Mg;
            size_t m = c * p->Mg + rem % p->Mg;
            ert_conv_depthwise_plane(j->x + (bn * p->C + c) * IS, j->w + m * g->k_size, j->b ? j->b[m] : 0.0f, g,
                                     p->scratch ? scratch : NULL, j->y + (bn * p->M + m) * S, j->n);
            continue;
        }
        size_t tile = u % j->tiles, bg_idx = u / j->tiles;
        size_t bn = bg_idx / p->group, gi = bg_idx % p->group;
        const float *xg = j->x + (bn * p->C + gi * p->Cg) * IS;
        const float *wg = j->w + gi * p->Mg * p->K;
        float *yg = j->y + (bn * p->M + gi * p->Mg) * S;
        const float *bg = j->b ? j->b + gi * p->Mg : NULL;
        const float *rg = j->r ? j->r + (bn * p->M + gi * p->Mg) * S : NULL;
        size_t lo = tile * j->tile_span;
        /* With a residual, y starts as R and the product accumulates onto it (beta = 1):
         * the sum costs no pass of its own, and OpenBLAS skips its zeroing pass. */
        const float beta = rg ? 1.0f : 0.0f;
        if (p->path == PATH_GEMM) {
            size_t hi = lo + j->tile_span < S ? lo + j->tile_span : S, t = hi - lo;
            for (size_t m = 0; rg && m < p->Mg; m++)
                memcpy(yg + m * S + lo, rg + m * S + lo, t * sizeof(float));
            if (ert_gemm(false, false, p->Mg, t, p->Cg, 1.0f, wg, p->Cg, xg + lo, S, beta, yg + lo, S, NULL) != ERT_OK)
                j->failed = 1;
            for (size_t m = 0; m < p->Mg; m++)
                ert_sp_bias_act(yg + m * S + lo, t, bg ? bg[m] : 0.0f, j->n);
            continue;
        }
        size_t r1 = lo + j->tile_span < p->rows ? lo + j->tile_span : p->rows;
        size_t t = (r1 - lo) * p->row_len;
        ert_conv_im2col(xg, g, p->Cg, lo, r1, scratch);
        float *yt = yg + lo * p->row_len;
        for (size_t m = 0; rg && m < p->Mg; m++)
            memcpy(yt + m * S, rg + lo * p->row_len + m * S, t * sizeof(float));
        if (ert_gemm(false, false, p->Mg, t, p->K, 1.0f, wg, p->K, scratch, t, beta, yt, S, NULL) != ERT_OK)
            j->failed = 1;
        for (size_t m = 0; m < p->Mg; m++)
            ert_sp_bias_act(yt + m * S, t, bg ? bg[m] : 0.0f, j->n);
    }
}

static ert_status conv_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    conv_plan p;
    ert_status st = conv_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    if (p.scratch > ctx->scratch_bytes || (p.scratch && !ctx->scratch))
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch of %zu bytes given, %zu needed", ctx->scratch_bytes, p.scratch);
    const float *x = ert_node_input(gr, n, 0)->data, *w = ert_node_input(gr, n, 1)->data;
    const ert_tensor *bt = ert_node_input(gr, n, 2);
    const float *b = bt ? bt->data : NULL;
    float *y = ert_node_output(gr, n, 0)->data;
    const size_t S = p.g.out_size;

    /* One pool job per convolution: every worker takes a contiguous range of work units
     * (depthwise planes, or (image, group, column tile) triples) with its own scratch,
     * and runs im2col, a single-threaded gemm and the bias/activation epilogue on data
     * still in its cache. */
    const ert_tensor *rt = ert_node_input(gr, n, 3);
    const float *r = rt ? rt->data : NULL;
    conv_job job = {.p = &p, .n = n, .ctx = ctx, .x = x, .w = w, .b = b, .r = r, .y = y};
    /* Below ~2 MMAC waking a worker costs more than it saves (the 48 px encoders). */
    double macs = (double)p.N * (double)p.M * (double)S * (double)(p.path == PATH_DEPTHWISE ? p.g.k_size : p.K);
    ert_pool *pool = macs < 2e6 ? NULL : ctx->pool;
    if (p.wino && ctx->prepared && ctx->workspace &&
        ctx->workspace_bytes >= ert_wino_workspace_floats(&p.wg) * sizeof(float)) {
        for (size_t i = 0; i < p.N; i++)
            ert_wino_conv(&p.wg, x + i * p.C * p.g.in_size, ctx->prepared, b, r ? r + i * p.M * S : NULL,
                          y + i * p.M * S, ctx->workspace, pool, n);
        return ERT_OK;
    }
    const int threads = ert_pool_size(pool);
    size_t units;
    if (p.path == PATH_DEPTHWISE) {
        units = p.N * p.C * p.Mg;
    } else {
        /* Column tiles: whole output rows (im2col) or column ranges (1x1), at least one
         * per thread when the images and groups alone cannot keep every thread busy. */
        size_t span = p.path == PATH_GEMM ? S : p.rows;
        size_t tiles = p.path == PATH_GEMM ? (S >= 2 * 784 ? S / 784 : 1) : (p.rows + p.tile_rows - 1) / p.tile_rows;
        size_t per_image = p.N * p.group;
        /* Few units: make their count a multiple of the threads so none waits on a
         * straggler (5 tiles on 2 threads would leave one idle for a fifth of the time). */
        if (per_image * tiles < (size_t)threads * 8 && span >= (size_t)threads)
            while ((per_image * tiles) % (size_t)threads)
                tiles++;
        if (tiles > span)
            tiles = span ? span : 1;
        job.tiles = tiles;
        job.tile_span = (span + tiles - 1) / tiles;
        job.tiles = (span + job.tile_span - 1) / job.tile_span;
        units = per_image * job.tiles;
    }
    if (p.path == PATH_DEPTHWISE && p.scratch)
        for (int t = 0; t < threads; t++)
            memset(ert_ctx_scratch(ctx, t), 0, p.scratch); /* each worker's zero row */
    ert_pool_run(pool, units, 1, conv_units, &job);
    if (job.failed)
        return ert_node_fail(err, n, ERT_EINTERNAL, "gemm refused its arguments");
    return ERT_OK;
}

/* ---- ConvTranspose ---- */

/* Output size per spatial dim: s*(in-1) + output_padding + ((k-1)*d+1) - pads, with the
 * pads derived from output_shape or SAME_* when given (total padding floored at 0). */
static ert_status ct_plan_make(const ert_graph *gr, const ert_node *n, conv_plan *p, ert_error *err)
{
    memset(p, 0, sizeof *p);
    ert_status st = check_io(gr, n, CT_INTS, 3, err);
    if (st == ERT_OK)
        st = ert_sp_check(n, n->ints, false, err);
    if (st != ERT_OK)
        return st;
    const int64_t *q = n->ints;
    const ert_tensor *x = ert_node_input(gr, n, 0), *w = ert_node_input(gr, n, 1);
    int64_t group = q[ERT_SP_INTS];
    if (group < 1 || group > ERT_SP_LIMIT)
        return ert_node_fail(err, n, ERT_EFORMAT, "group = %lld must be >= 1", (long long)group);
    int64_t C = x->shape.dims[1], Mg = w->shape.dims[1];
    if (C % group != 0)
        return ert_node_fail(err, n, ERT_EINVAL, "group %lld does not divide the %lld input channels", (long long)group,
                             (long long)C);
    if (w->shape.dims[0] != C)
        return ert_node_fail(err, n, ERT_EINVAL, "X has %lld channels but W has %lld (W is [C, M/group, k...])",
                             (long long)C, (long long)w->shape.dims[0]);
    int64_t M = Mg * group; /* both <= 2^31 */
    st = check_bias(gr, n, (size_t)M, err);
    if (st != ERT_OK)
        return st;
    int nsp = x->shape.rank - 2;
    int64_t osn = q[CT_OSN];
    if (q[1] != 0 && q[1] != nsp)
        return ert_node_fail(err, n, ERT_EFORMAT, "window attributes are %lld-D but X has %d spatial dims", (long long)q[1], nsp);
    if (osn != 0 && osn != nsp && osn != nsp + 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "output_shape has %lld values for %d spatial dims", (long long)osn, nsp);
    const int64_t *os = osn ? &q[CT_OS + (osn - nsp)] : NULL;

    ert_sp_geom *g = &p->g;
    g->nsp = nsp;
    g->in_size = g->out_size = g->k_size = 1;
    for (int j = 0; j < ERT_SP_MAXDIM; j++) {
        g->in[j] = g->k[j] = g->out[j] = g->s[j] = g->d[j] = 1;
        g->pb[j] = g->pe[j] = 0;
    }
    int lead = ERT_SP_MAXDIM - nsp;
    for (int i = 0; i < nsp; i++) {
        int64_t in = x->shape.dims[2 + i], k = w->shape.dims[2 + i];
        int64_t s = q[5 + i], d = q[8 + i], pb = q[11 + i], pe = q[14 + i], opad = q[CT_OPAD + i];
        if (q[2 + i] != 0 && q[2 + i] != k)
            return ert_node_fail(err, n, ERT_EFORMAT, "kernel_shape[%d] = %lld does not match the weight's %lld", i,
                                 (long long)q[2 + i], (long long)k);
        if (opad < 0 || opad > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "output_padding[%d] = %lld is out of range", i, (long long)opad);
        if (in < 1 || in > ERT_SP_DIM_MAX)
            return ert_node_fail(err, n, ERT_EINVAL, "input spatial dim %d has size %lld", i, (long long)in);
        int64_t natural;
        if (__builtin_mul_overflow(in - 1, s, &natural) || __builtin_add_overflow(natural, opad + (k - 1) * d + 1, &natural))
            return ert_node_fail(err, n, ERT_EINVAL, "output size overflows in spatial dim %d", i);
        int64_t out, target = -1;
        if (os) {
            target = os[i];
            if (target < 1 || target > ERT_SP_DIM_MAX)
                return ert_node_fail(err, n, ERT_EFORMAT, "output_shape[%d] = %lld is out of range", i, (long long)target);
        } else if (q[0] == ERT_SP_SAME_UPPER || q[0] == ERT_SP_SAME_LOWER) {
            if (__builtin_mul_overflow(in, s, &target))
                return ert_node_fail(err, n, ERT_EINVAL, "output size overflows in spatial dim %d", i);
        }
        if (target > 0) {
            int64_t total = natural - target > 0 ? natural - target : 0;
            pb = q[0] == ERT_SP_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
            out = target;
        } else {
            if (q[0] == ERT_SP_VALID)
                pb = pe = 0;
            out = natural - pb - pe;
            if (out < 1)
                return ert_node_fail(err, n, ERT_EINVAL, "pads (%lld, %lld) leave no output in spatial dim %d",
                                     (long long)pb, (long long)pe, i);
        }
        int j = lead + i;
        g->in[j] = in, g->k[j] = k, g->s[j] = s, g->d[j] = d, g->pb[j] = pb, g->pe[j] = pe, g->out[j] = out;
        if (!ert_mul_size(g->in_size, (size_t)in, &g->in_size) || !ert_mul_size(g->out_size, (size_t)out, &g->out_size) ||
            !ert_mul_size(g->k_size, (size_t)k, &g->k_size))
            return ert_node_fail(err, n, ERT_EINVAL, "geometry overflows");
    }
    p->N = (size_t)x->shape.dims[0];
    p->C = (size_t)C, p->M = (size_t)M, p->group = (size_t)group, p->Cg = (size_t)(C / group), p->Mg = (size_t)Mg;
    st = set_out_shape(n, p, err);
    if (st != ERT_OK)
        return st;
    if (!ert_mul_size(p->Mg, g->k_size, &p->K))
        return ert_node_fail(err, n, ERT_EINVAL, "kernel size overflows");
    p->path = PATH_IM2COL;
    p->rows = (size_t)g->in[0] * (size_t)g->in[1]; /* <= in_size, checked */
    p->row_len = (size_t)g->in[2];
    return plan_tiles(n, p, err);
}

static ert_status ct_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    conv_plan p;
    ert_status st = ct_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = p.out;
    return ERT_OK;
}

static size_t ct_scratch(const ert_graph *gr, const ert_node *n)
{
    conv_plan p;
    return ct_plan_make(gr, n, &p, NULL) == ERT_OK ? p.scratch : 0;
}

static ert_status ct_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    conv_plan p;
    ert_status st = ct_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    if (p.scratch > ctx->scratch_bytes || (p.scratch && !ctx->scratch))
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch of %zu bytes given, %zu needed", ctx->scratch_bytes, p.scratch);
    const float *x = ert_node_input(gr, n, 0)->data, *w = ert_node_input(gr, n, 1)->data;
    const ert_tensor *bt = ert_node_input(gr, n, 2);
    const float *b = bt ? bt->data : NULL;
    float *y = ert_node_output(gr, n, 0)->data;
    const ert_sp_geom *g = &p.g;
    const size_t S = g->out_size, IS = g->in_size;
    float *col = ctx->scratch;
    for (size_t bn = 0; bn < p.N; bn++)
        for (size_t gi = 0; gi < p.group; gi++) {
            const float *xg = x + (bn * p.C + gi * p.Cg) * IS;
            const float *wg = w + gi * p.Cg * p.K;
            float *yg = y + (bn * p.M + gi * p.Mg) * S;
            for (size_t m = 0; m < p.Mg; m++) {
                float bv = b ? b[gi * p.Mg + m] : 0.0f;
                float *ym = yg + m * S;
                for (size_t i = 0; i < S; i++)
                    ym[i] = bv;
            }
            for (size_t r0 = 0; r0 < p.rows; r0 += p.tile_rows) {
                size_t r1 = r0 + p.tile_rows < p.rows ? r0 + p.tile_rows : p.rows;
                size_t t = (r1 - r0) * p.row_len;
                /* col[Mg*k, t] = W_g^T [Mg*k, Cg] x X_g[Cg, t] */
                st = ert_gemm_mt(ctx->pool, true, false, p.K, t, p.Cg, 1.0f, wg, p.K, xg + r0 * p.row_len, IS, 0.0f, col, t, err);
                if (st != ERT_OK)
                    return ert_error_prefix(err, "node '%s' (ConvTranspose)", n->name);
                ert_conv_col2im(col, g, p.Mg, r0, r1, yg);
            }
            if (n->act != ERT_ACT_NONE)
                ert_sp_bias_act(yg, p.Mg * S, 0.0f, n);
        }
    return ERT_OK;
}

const ert_op_def ert_ops_conv[] = {
    {.name = "Conv", .parse = conv_parse, .infer = conv_infer, .scratch = conv_scratch, .run = conv_run,
     .fuses_act = true, .prepare_bytes = conv_prepare_bytes, .prepare = conv_prepare, .workspace = conv_workspace},
    ERT_OP("ConvTranspose", ct_parse, ct_infer, ct_scratch, ct_run, true),
    ERT_OP_END,
};
