/* Unit tests: ops_qconv. ErtQConv and ErtQGemm (proto/blob-format.md, "int8 ops") bit for
 * bit against plain loops over the same int8 numbers (every geometry, activation, zero
 * point, the wide and narrow paths, 1 and 2 threads, the reference and the SIMD kernel,
 * the unprepared fallback), close to the fp32 ops on the dequantized weights, infer()
 * refusals naming the node, and a blob round trip. */
#include "op_util.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "embedrt/plan.h"
#include "embedrt/qgemm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- data ---- */

static unsigned next(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static float *rnd_f(size_t n, unsigned seed, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)(next(&seed) % 10001) / 10000.0f;
    return x;
}

static int8_t *rnd_w(size_t n, unsigned seed)
{
    int8_t *w = malloc(n ? n : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (size_t i = 0; i < n; i++)
        w[i] = (int8_t)((int)(next(&seed) % 255) - 127);
    return w;
}

static int32_t *rnd_b(size_t n, unsigned seed)
{
    int32_t *b = malloc((n ? n : 1) * sizeof *b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (int32_t)(next(&seed) % 20001) - 10000;
    return b;
}

/* ---- the specification, written out ---- */

static float epi(int64_t acc, float s, const float *r, float lo, float hi)
{
    volatile float y = (float)(int32_t)acc * s; /* volatile: no FMA with the residual */
    float v = y;
    if (r) {
        volatile float t = v + *r;
        v = t;
    }
    v = lo > v ? lo : v;
    return hi < v ? hi : v;
}

typedef struct qcfg {
    int nsp;
    size_t N, C, M, group;
    int64_t in[3], k[3], s[3], d[3], pads[6];
    bool bias, resid;
    ert_act act;
    float alpha, beta;
    int zx;
    float inv;
    int qmax; /* 0: 19 ints (8-bit, q_max 255); else the 20th int q_max (127: 7-bit) */
} qcfg;

static void out_dims(const qcfg *c, int64_t *out)
{
    for (int i = 0; i < c->nsp; i++)
        out[i] = (c->in[i] + c->pads[i] + c->pads[c->nsp + i] - ((c->k[i] - 1) * c->d[i] + 1)) / c->s[i] + 1;
}

static size_t numel(const int64_t *d, int n)
{
    size_t p = 1;
    for (int i = 0; i < n; i++)
        p *= (size_t)d[i];
    return p;
}

static void bounds(const qcfg *c, float *lo, float *hi)
{
    *lo = c->act == ERT_ACT_RELU ? 0.0f : c->act == ERT_ACT_CLIP ? c->alpha : -INFINITY;
    *hi = c->act == ERT_ACT_CLIP ? c->beta : INFINITY;
}

static void ref_qconv(const qcfg *c, const float *x, const int8_t *w, const int32_t *b, const float *s, const float *r,
                      float *y)
{
    int64_t out[3];
    out_dims(c, out);
    size_t IS = numel(c->in, c->nsp), S = numel(out, c->nsp), Cg = c->C / c->group, Mg = c->M / c->group;
    size_t ks = numel(c->k, c->nsp);
    uint8_t *xq = malloc(c->N * c->C * IS);
    ert_qquantize_q(x, c->N * c->C * IS, c->inv, (uint8_t)c->zx, (uint8_t)(c->qmax ? c->qmax : 255), xq);
    float lo, hi;
    bounds(c, &lo, &hi);
    int64_t in3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, s3[3] = {1, 1, 1}, d3[3] = {1, 1, 1}, p3[3] = {0, 0, 0};
    int lead = 3 - c->nsp;
    for (int i = 0; i < c->nsp; i++)
        in3[lead + i] = c->in[i], o3[lead + i] = out[i], k3[lead + i] = c->k[i], s3[lead + i] = c->s[i],
                  d3[lead + i] = c->d[i], p3[lead + i] = c->pads[i];
    for (size_t n = 0; n < c->N; n++)
        for (size_t m = 0; m < c->M; m++) {
            size_t gi = m / Mg;
            for (int64_t a = 0; a < o3[0]; a++)
                for (int64_t bb = 0; bb < o3[1]; bb++)
                    for (int64_t cc = 0; cc < o3[2]; cc++) {
                        int64_t acc = b ? b[m] : 0;
                        for (size_t ci = 0; ci < Cg; ci++)
                            for (int64_t i = 0; i < k3[0]; i++)
                                for (int64_t j = 0; j < k3[1]; j++)
                                    for (int64_t l = 0; l < k3[2]; l++) {
                                        int64_t z0 = a * s3[0] + i * d3[0] - p3[0], z1 = bb * s3[1] + j * d3[1] - p3[1];
                                        int64_t z2 = cc * s3[2] + l * d3[2] - p3[2];
                                        int q = c->zx; /* padding is real zero */
                                        if (z0 >= 0 && z0 < in3[0] && z1 >= 0 && z1 < in3[1] && z2 >= 0 && z2 < in3[2])
                                            q = xq[(n * c->C + gi * Cg + ci) * IS + (size_t)((z0 * in3[1] + z1) * in3[2] + z2)];
                                        size_t widx = ((m * Cg + ci) * (size_t)k3[0] + (size_t)i) * (size_t)k3[1] + (size_t)j;
                                        widx = widx * (size_t)k3[2] + (size_t)l;
                                        acc += (int64_t)(q - c->zx) * w[widx];
                                    }
                        (void)ks;
                        size_t o = (n * c->M + m) * S + (size_t)((a * o3[1] + bb) * o3[2] + cc);
                        y[o] = epi(acc, s[m], r ? r + o : NULL, lo, hi);
                    }
        }
    free(xq);
}

/* ---- building and running one node ---- */

typedef struct qdata {
    float *x, *s, *r;
    int8_t *w;
    int32_t *b;
    size_t nx, nw, ny;
    int64_t xd[5], wd[5], yd[5];
} qdata;

static void qdata_make(const qcfg *c, unsigned seed, qdata *d)
{
    memset(d, 0, sizeof *d);
    int64_t out[3];
    out_dims(c, out);
    int r = 2 + c->nsp;
    d->xd[0] = (int64_t)c->N, d->xd[1] = (int64_t)c->C;
    d->wd[0] = (int64_t)c->M, d->wd[1] = (int64_t)(c->C / c->group);
    d->yd[0] = (int64_t)c->N, d->yd[1] = (int64_t)c->M;
    for (int i = 0; i < c->nsp; i++)
        d->xd[2 + i] = c->in[i], d->wd[2 + i] = c->k[i], d->yd[2 + i] = out[i];
    d->nx = numel(d->xd, r), d->nw = numel(d->wd, r), d->ny = numel(d->yd, r);
    d->x = rnd_f(d->nx, seed, -1.5f, 1.5f); /* some values clamp at every zero point */
    d->w = rnd_w(d->nw, seed + 1);
    d->b = c->bias ? rnd_b(c->M, seed + 2) : NULL;
    d->s = rnd_f(c->M, seed + 3, 1e-5f, 3e-5f);
    d->r = c->resid ? rnd_f(d->ny, seed + 4, -1.0f, 1.0f) : NULL;
}

static void qdata_free(qdata *d)
{
    free(d->x), free(d->s), free(d->r), free(d->w), free(d->b);
}

/* One ErtQConv node in a graph; x is a graph input when as_input, else a constant. */
static ert_graph *qconv_graph(const qcfg *c, const qdata *d, bool as_input, uint32_t *node_out, ert_error *err)
{
    int r = 2 + c->nsp;
    ert_graph *g = ert_graph_new("qconv");
    uint32_t xin;
    ert_shape xs = {.rank = r};
    memcpy(xs.dims, d->xd, (size_t)r * sizeof xs.dims[0]);
    if (as_input) {
        CU_ASSERT_EQUAL_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &xin, err), ERT_OK);
    } else {
        xin = tu_f32(g, "x", d->x, r, d->xd);
    }
    int64_t m = (int64_t)c->M;
    uint32_t in[5] = {xin, tu_const(g, "wq", ERT_DT_I8, d->w, r, d->wd),
                      d->b ? tu_const(g, "bq", ERT_DT_I32, d->b, 1, &m) : ERT_NO_TENSOR, tu_f32(g, "s", d->s, 1, &m),
                      d->r ? tu_f32(g, "r", d->r, r, d->yd) : ERT_NO_TENSOR};
    uint32_t y = tu_out(g, "y"), node;
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, "qc", "ErtQConv", in, d->r ? 5 : 4, &y, 1, &node, err), ERT_OK);
    int64_t ints[20] = {0};
    ints[1] = c->nsp;
    for (int i = 0; i < 3; i++) {
        ints[2 + i] = i < c->nsp ? c->k[i] : 0;
        ints[5 + i] = i < c->nsp ? c->s[i] : 1;
        ints[8 + i] = i < c->nsp ? c->d[i] : 1;
        ints[11 + i] = i < c->nsp ? c->pads[i] : 0;
        ints[14 + i] = i < c->nsp ? c->pads[c->nsp + i] : 0;
    }
    ints[17] = (int64_t)c->group;
    ints[18] = c->zx;
    ints[19] = c->qmax;
    CU_ASSERT_EQUAL_FATAL(ert_node_set_params(&g->nodes[node], ints, c->qmax ? 20 : 19, &c->inv, 1, err), ERT_OK);
    g->nodes[node].act = c->act;
    g->nodes[node].act_alpha = c->alpha;
    g->nodes[node].act_beta = c->beta;
    *node_out = node;
    if (as_input) {
        g->inputs = malloc(sizeof *g->inputs), g->outputs = malloc(sizeof *g->outputs);
        g->inputs[0] = xin, g->outputs[0] = y, g->n_inputs = 1, g->n_outputs = 1;
    }
    return g;
}

/* Through ert_model (prepared weights, shared workspace, pool of `threads`). */
static float *run_model(ert_graph *g, const float *x, size_t nx, int threads, ert_error *err)
{
    ert_node *nd = &g->nodes[0];
    if (nd->def->infer(g, nd, err) != ERT_OK)
        return NULL;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, err), ERT_OK);
    ert_model_options opt = {.threads = threads};
    ert_model *m = NULL;
    CU_ASSERT_EQUAL_FATAL(ert_model_from_graphs(&g, 1, true, &opt, &m, err), ERT_OK);
    memcpy(ert_model_input(m, 0, 0)->data, x, nx * sizeof *x);
    float *out = NULL;
    if (ert_model_run(m, 0, err) == ERT_OK) {
        const ert_tensor *y = ert_model_output(m, 0, 0);
        size_t n;
        CU_ASSERT_FATAL(ert_shape_numel(&y->shape, &n));
        out = malloc((n ? n : 1) * sizeof *out);
        memcpy(out, y->data, n * sizeof *out);
    }
    ert_model_free(m);
    return out;
}

static float *run_qconv_model(const qcfg *c, const qdata *d, int threads)
{
    ert_error err;
    uint32_t node;
    ert_graph *g = qconv_graph(c, d, true, &node, &err);
    float *y = run_model(g, d->x, d->nx, threads, &err);
    if (!y)
        fprintf(stderr, "\n  qconv model: %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    return y;
}

/* Same bits: memcmp, with the first difference printed. */
static bool same_bits(const float *a, const float *b, size_t n, const char *what)
{
    if (memcmp(a, b, n * sizeof *a) == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, sizeof *a) != 0) {
            fprintf(stderr, "\n  %s: element %zu: %.9g vs %.9g\n", what, i, (double)a[i], (double)b[i]);
            break;
        }
    return false;
}

static void check_qconv(const qcfg *c, unsigned seed)
{
    qdata d;
    qdata_make(c, seed, &d);
    float *want = malloc(d.ny * sizeof *want);
    ref_qconv(c, d.x, d.w, d.b, d.s, d.r, want);
    /* 1. ert_node_eval: prepared, workspace, one thread, no pool. */
    ert_error err;
    uint32_t node;
    ert_graph *g = qconv_graph(c, &d, false, &node, &err);
    ert_status st = ert_node_eval(g, node, &err);
    if (st != ERT_OK)
        fprintf(stderr, "\n  eval: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    const ert_tensor *y = ert_node_output(g, &g->nodes[node], 0);
    CU_ASSERT(y->shape.rank == 2 + c->nsp && memcmp(y->shape.dims, d.yd, (size_t)y->shape.rank * 8) == 0);
    CU_ASSERT(same_bits(y->data, want, d.ny, "eval vs reference"));
    /* 2. Unprepared: run() with neither prepared weights nor workspace takes plain loops. */
    memset(y->data, 0, d.ny * sizeof(float));
    ert_ctx ctx = {.threads = 1};
    CU_ASSERT_EQUAL(g->nodes[node].def->run(&ctx, g, &g->nodes[node], &err), ERT_OK);
    CU_ASSERT(same_bits(y->data, want, d.ny, "unprepared vs reference"));
    ert_graph_free(g);
    /* 3. Models at 1 and 2 threads. */
    for (int t = 1; t <= 2; t++) {
        float *got = run_qconv_model(c, &d, t);
        CU_ASSERT(same_bits(got, want, d.ny, t == 1 ? "model 1 thread" : "model 2 threads"));
        free(got);
    }
    free(want);
    qdata_free(&d);
}

/* ---- ErtQConv bit-exactness ---- */

static void test_qconv_geometries_match_reference(void)
{
    qcfg cs[] = {
        /* 1x1 stride 1: packed straight from the quantized input; with residual and bias */
        {.nsp = 2, .N = 1, .C = 24, .M = 20, .group = 1, .in = {9, 11}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .zx = 128, .inv = 100.0f},
        /* 3x3 stride 1, pads 1 */
        {.nsp = 2, .N = 1, .C = 16, .M = 13, .group = 1, .in = {12, 10}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .act = ERT_ACT_RELU, .zx = 0, .inv = 90.0f},
        /* 3x3 stride 2, asymmetric pads */
        {.nsp = 2, .N = 1, .C = 8, .M = 9, .group = 1, .in = {13, 14}, .k = {3, 3}, .s = {2, 2}, .d = {1, 1},
         .pads = {0, 1, 2, 0}, .act = ERT_ACT_CLIP, .alpha = -0.25f, .beta = 0.5f, .zx = 255, .inv = 80.0f},
        /* dilation 2, rectangular kernel, different strides per dim */
        {.nsp = 2, .N = 1, .C = 5, .M = 7, .group = 1, .in = {15, 17}, .k = {3, 2}, .s = {1, 2}, .d = {2, 3},
         .pads = {2, 1, 1, 2}, .bias = true, .resid = true, .zx = 77, .inv = 120.0f},
        /* groups */
        {.nsp = 2, .N = 1, .C = 12, .M = 18, .group = 3, .in = {10, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
        /* depthwise (group = C, one channel each), stride 2 */
        {.nsp = 2, .N = 1, .C = 8, .M = 8, .group = 8, .in = {11, 12}, .k = {3, 3}, .s = {2, 2}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .zx = 128, .inv = 100.0f},
        /* 1-D */
        {.nsp = 1, .N = 1, .C = 6, .M = 10, .group = 1, .in = {40}, .k = {5}, .s = {2}, .d = {1}, .pads = {2, 1},
         .bias = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
        /* 1-D 1x1 */
        {.nsp = 1, .N = 2, .C = 6, .M = 10, .group = 1, .in = {33}, .k = {1}, .s = {1}, .d = {1}, .zx = 3, .inv = 100.0f},
        /* batch 2, 3x3 */
        {.nsp = 2, .N = 2, .C = 7, .M = 11, .group = 1, .in = {8, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_CLIP, .alpha = 0.0f, .beta = 6.0f,
         .zx = 128, .inv = 100.0f},
        /* 1x1 stride 2: not direct, goes through the gather */
        {.nsp = 2, .N = 1, .C = 9, .M = 5, .group = 1, .in = {10, 10}, .k = {1, 1}, .s = {2, 2}, .d = {1, 1},
         .zx = 128, .inv = 100.0f},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        check_qconv(&cs[i], 100 + (unsigned)i);
}

static void test_qconv_wide_maps_split_in_tiles_match_reference(void)
{
    /* Wide path (more than 256 positions): several column tiles per image, tiles spread
     * over two threads, a tile boundary inside an output row; narrow path: 14x14 deep. */
    qcfg cs[] = {
        {.nsp = 2, .N = 2, .C = 64, .M = 40, .group = 1, .in = {30, 29}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 96, .M = 30, .group = 1, .in = {33, 31}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .zx = 17, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 128, .M = 70, .group = 1, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 128, .inv = 100.0f},
        /* narrow, 7x7: 49 columns = 3 panels of 16 and one column, packed with the third */
        {.nsp = 2, .N = 2, .C = 128, .M = 64, .group = 1, .in = {7, 7}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
        /* narrow 1x1, packed straight from the quantized input by column panels */
        {.nsp = 2, .N = 1, .C = 256, .M = 64, .group = 1, .in = {14, 14}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .zx = 128, .inv = 100.0f},
        /* narrow grouped */
        {.nsp = 2, .N = 1, .C = 128, .M = 96, .group = 2, .in = {9, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .zx = 128, .inv = 100.0f},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        check_qconv(&cs[i], 200 + (unsigned)i);
}

static void test_qconv_stride2_gather_rows_match_reference(void)
{
    /* Stride-2 windows are gathered 16 outputs per vector step while the step's 32-byte read
     * stays on needed bytes, then one at a time: rows of 16, 17, 33 and 34 outputs, left
     * and right padding cut into the span, and a 1x1 whose last output reads the last byte
     * of the quantized input (an over-read would show under ASan). */
    qcfg cs[] = {
        /* the 7x7 stride-2 stem shape on 3 channels, 35 x 34 outputs */
        {.nsp = 2, .N = 1, .C = 3, .M = 16, .group = 1, .in = {70, 67}, .k = {7, 7}, .s = {2, 2}, .d = {1, 1},
         .pads = {3, 3, 3, 3}, .bias = true, .act = ERT_ACT_RELU, .zx = 0, .inv = 90.0f},
        /* 3x3 stride 2, pads 1: 17 x 17 outputs */
        {.nsp = 2, .N = 2, .C = 8, .M = 9, .group = 1, .in = {34, 33}, .k = {3, 3}, .s = {2, 2}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 128, .inv = 100.0f},
        /* 3x3 stride 2, no pads: 16 and 33 outputs per row */
        {.nsp = 2, .N = 1, .C = 5, .M = 7, .group = 1, .in = {33, 68}, .k = {3, 3}, .s = {2, 2}, .d = {1, 1},
         .zx = 255, .inv = 80.0f},
        /* 1x1 stride 2 to the map's last byte: 34 outputs per row from 67 columns */
        {.nsp = 2, .N = 1, .C = 4, .M = 6, .group = 1, .in = {9, 67}, .k = {1, 1}, .s = {2, 2}, .d = {1, 1},
         .bias = true, .zx = 3, .inv = 100.0f},
        /* 1x1 stride 2 on 31 and 32 columns: 16 outputs per row, the last one the input's last byte */
        {.nsp = 2, .N = 1, .C = 3, .M = 4, .group = 1, .in = {5, 31}, .k = {1, 1}, .s = {2, 2}, .d = {1, 1},
         .zx = 9, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 3, .M = 4, .group = 1, .in = {5, 32}, .k = {1, 1}, .s = {2, 2}, .d = {1, 1},
         .zx = 9, .inv = 100.0f},
        /* stride 2 in width only, dilation 2 */
        {.nsp = 2, .N = 1, .C = 6, .M = 5, .group = 1, .in = {12, 80}, .k = {3, 3}, .s = {1, 2}, .d = {2, 2},
         .pads = {2, 2, 2, 2}, .bias = true, .zx = 40, .inv = 100.0f},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        check_qconv(&cs[i], 250 + (unsigned)i);
}

static void test_qconv_quantizes_ties_nan_inf_like_ert_qquantize(void)
{
    /* The op's own (vectorized) quantizer against ert_qquantize in the reference: exact
     * ties at inv_s_x = 4 (x = k / 8), NaN, +-inf, huge values, for every zero point. */
    const int zs[3] = {0, 128, 255};
    for (int zi = 0; zi < 6; zi++) {
        /* 1x1 (quantized per column block) and 3x3 (one pass over X: 1144 values, a tail of 24) */
        int64_t kk = zi < 3 ? 1 : 3, pd = zi < 3 ? 0 : 1;
        qcfg c = {.nsp = 2, .N = 1, .C = 8, .M = 6, .group = 1, .in = {13, 11}, .k = {kk, kk}, .s = {1, 1},
                  .d = {1, 1}, .pads = {pd, pd, pd, pd}, .bias = true, .zx = zs[zi % 3], .inv = 4.0f};
        qdata d;
        qdata_make(&c, 350 + (unsigned)zi, &d);
        unsigned seed = 351;
        for (size_t i = 0; i < d.nx; i++) {
            unsigned r = next(&seed) % 16;
            d.x[i] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY : r == 3 ? 1e30f : r == 4 ? -3e38f
                   : (float)((int)(next(&seed) % 2049) - 1024) / 8.0f;
        }
        float *want = malloc(d.ny * sizeof *want);
        ref_qconv(&c, d.x, d.w, d.b, d.s, NULL, want);
        for (int t = 1; t <= 2; t++) {
            float *got = run_qconv_model(&c, &d, t);
            CU_ASSERT(same_bits(got, want, d.ny, "special values"));
            free(got);
        }
        free(want);
        qdata_free(&d);
    }
}

/* 1x1 stride-1 convolutions quantize each block of columns right before packing it (no
 * separate quantize pass): wide maps with several column tiles per (image, group) and a
 * tile boundary inside a row, two images, two groups, residual; narrow maps split over
 * column panels at 2 threads (S % 16 == 1 folds the last column into the panel before)
 * and too small to split (S < 32); inputs with NaN, +-inf and exact ties; 1 and 2 threads,
 * against the reference, bit for bit. */
static void test_qconv_1x1_quantizes_per_column_block_exactly(void)
{
    qcfg cs[] = {
        /* K = 320 per group: tiles of 816 columns, 1517 positions: 2 tiles per (image, group) */
        {.nsp = 2, .N = 2, .C = 640, .M = 36, .group = 2, .in = {37, 41}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 4.0f},
        /* K = 700: tiles of 368 columns, 4 tiles per image */
        {.nsp = 2, .N = 1, .C = 700, .M = 20, .group = 1, .in = {30, 40}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .zx = 0, .inv = 4.0f},
        /* narrow, split over panels at 2 threads: 49 = 3 panels + 1 column, two groups, two images */
        {.nsp = 2, .N = 2, .C = 96, .M = 40, .group = 2, .in = {7, 7}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .zx = 255, .inv = 4.0f},
        /* narrow, 25 positions: not split, one block per (image, group) */
        {.nsp = 2, .N = 2, .C = 48, .M = 24, .group = 3, .in = {5, 5}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .act = ERT_ACT_CLIP, .alpha = -0.5f, .beta = 0.5f, .zx = 77, .inv = 4.0f},
        /* 1-D, 3 images */
        {.nsp = 1, .N = 3, .C = 40, .M = 17, .group = 1, .in = {300}, .k = {1}, .s = {1}, .d = {1}, .zx = 128,
         .inv = 4.0f},
        /* K = 320: tiles of 816, so rows of 821 leave runs of 816 and 5 (shorter than a vector) */
        {.nsp = 1, .N = 1, .C = 320, .M = 9, .group = 1, .in = {821}, .k = {1}, .s = {1}, .d = {1}, .bias = true,
         .zx = 200, .inv = 4.0f},
        /* 6 positions */
        {.nsp = 2, .N = 1, .C = 5, .M = 3, .group = 1, .in = {3, 2}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .zx = 1, .inv = 4.0f},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        qdata d;
        qdata_make(&cs[i], 500 + (unsigned)i, &d);
        unsigned seed = 501 + (unsigned)i;
        for (size_t e = 0; e < d.nx; e++) {
            unsigned r = next(&seed) % 64;
            d.x[e] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY
                   : (float)((int)(next(&seed) % 2049) - 1024) / 8.0f; /* ties at inv 4 */
        }
        float *want = malloc(d.ny * sizeof *want);
        ref_qconv(&cs[i], d.x, d.w, d.b, d.s, d.r, want);
        for (int t = 1; t <= 2; t++) {
            float *got = run_qconv_model(&cs[i], &d, t);
            CU_ASSERT(same_bits(got, want, d.ny, t == 1 ? "1x1 per block, 1 thread" : "1x1 per block, 2 threads"));
            free(got);
        }
        free(want);
        qdata_free(&d);
    }
}

/* Bytes the op prepares for c (int8 Winograd weights or packed direct weights). */
static size_t qconv_prepared_bytes(const qcfg *c, const qdata *d)
{
    ert_error err;
    uint32_t node;
    ert_graph *g = qconv_graph(c, d, false, &node, &err);
    ert_node *nd = &g->nodes[node];
    CU_ASSERT_EQUAL_FATAL(nd->def->infer(g, nd, &err), ERT_OK);
    size_t b = nd->def->prepare_bytes(g, nd);
    ert_graph_free(g);
    return b;
}

/* Bytes of int8 Winograd F(n x n, 3x3) weights (qconv_wino.c): a 64-byte header, then per
 * 6 output channels (n + 2)^2 panels of 6 x C int16, C rounded up to 8. */
static size_t wino_bytes(size_t n, size_t C, size_t M)
{
    return 64 + (M + 5) / 6 * (n + 2) * (n + 2) * 6 * ((C + 7) / 8 * 8) * 2;
}

/* int8 Winograd F(2x2,3x3) (qconv_wino.h; forced by =f2) against the int64 reference, bit
 * for bit: edge tiles (odd maps), pads 0/1/2 and asymmetric, one channel, C not a multiple of 8,
 * residual, Relu/Clip, z_x 0/128/255, batch 2, threads 1 and 2 (check_qconv); extreme
 * values (all weights +-127, inputs clamped to 0 or 255) up to C = 1841, the largest
 * channel count whose 4 x sum fits int32; with AVX2 it must be the path taken, and the
 * same bits as ERT_QCONV_WINOGRAD=off (direct path) and the reference kernel. */
static void test_qconv_int8_winograd_same_bits_as_direct(void)
{
    qcfg cs[] = {
        {.nsp = 2, .N = 2, .C = 40, .M = 13, .group = 1, .in = {11, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 1, .M = 7, .group = 1, .in = {5, 6}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .zx = 0, .inv = 90.0f},
        {.nsp = 2, .N = 1, .C = 13, .M = 19, .group = 1, .in = {10, 13}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {2, 0, 1, 2}, .act = ERT_ACT_CLIP, .alpha = -0.25f, .beta = 0.5f, .zx = 255, .inv = 80.0f},
        {.nsp = 2, .N = 1, .C = 70, .M = 33, .group = 1, .in = {35, 35}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 77, .inv = 120.0f},
        {.nsp = 2, .N = 1, .C = 9, .M = 6, .group = 1, .in = {3, 3}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {3, 3, 3, 3}, .bias = true, .zx = 128, .inv = 100.0f},
    };
    bool avx2 = ert_qgemm_kernel() == ERT_QK_AVX2 || ert_qgemm_kernel() == ERT_QK_AVX2U7;
    setenv("ERT_QCONV_WINOGRAD", "f2", 1); /* also below 32 channels, F(2x2) only */
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        check_qconv(&cs[i], 500 + (unsigned)i);
        qdata d;
        qdata_make(&cs[i], 500 + (unsigned)i, &d);
        size_t on = qconv_prepared_bytes(&cs[i], &d);
        setenv("ERT_QCONV_WINOGRAD", "off", 1);
        size_t off = qconv_prepared_bytes(&cs[i], &d);
        float *direct = run_qconv_model(&cs[i], &d, 2);
        setenv("ERT_QCONV_WINOGRAD", "f2", 1);
        float *wino = run_qconv_model(&cs[i], &d, 2);
        CU_ASSERT(same_bits(wino, direct, d.ny, "winograd vs direct"));
        if (avx2)
            CU_ASSERT(on != off); /* the Winograd weights were prepared */
        free(direct), free(wino);
        qdata_free(&d);
    }
    /* Extreme values at the channel bound: every weight +-127, every input at 0 or 255. */
    const size_t chans[2] = {1841, 1842};
    for (int ci = 0; ci < 2; ci++) {
        for (int sign = 0; sign < 2; sign++) {
            qcfg c = {.nsp = 2, .N = 1, .C = chans[ci], .M = 2, .group = 1, .in = {5, 4}, .k = {3, 3}, .s = {1, 1},
                      .d = {1, 1}, .pads = {1, 0, 0, 1}, .zx = sign ? 255 : 0, .inv = 100.0f};
            qdata d;
            qdata_make(&c, 600, &d);
            for (size_t i = 0; i < d.nw; i++)
                d.w[i] = (int8_t)(i < d.nw / 2 ? 127 : -127);
            for (size_t i = 0; i < d.nx; i++)
                d.x[i] = sign ? -10.0f : 10.0f;
            for (size_t m = 0; m < c.M; m++)
                d.s[m] = 1.0f;
            float *want = malloc(d.ny * sizeof *want);
            ref_qconv(&c, d.x, d.w, d.b, d.s, NULL, want);
            float *got = run_qconv_model(&c, &d, 1);
            CU_ASSERT(same_bits(got, want, d.ny, "extreme values"));
            /* the centre output of channel 0 sums 9 * C * 255 * 127 */
            CU_ASSERT_DOUBLE_EQUAL(fabs(want[1 * 3 + 1]), 9.0 * (double)c.C * 255 * 127, 0.5 * 9 * c.C * 255 * 127 * 1e-7);
            free(want), free(got);
            qdata_free(&d);
        }
    }
    unsetenv("ERT_QCONV_WINOGRAD");
    /* The default rule: 32 channels and more. */
    qcfg c31 = cs[0], c32 = cs[0];
    c31.C = 31, c32.C = 32;
    qdata d31, d32;
    qdata_make(&c31, 700, &d31), qdata_make(&c32, 701, &d32);
    size_t b31 = qconv_prepared_bytes(&c31, &d31), b32 = qconv_prepared_bytes(&c32, &d32);
    setenv("ERT_QCONV_WINOGRAD", "off", 1);
    CU_ASSERT_EQUAL(b31, qconv_prepared_bytes(&c31, &d31));
    if (avx2)
        CU_ASSERT_NOT_EQUAL(b32, qconv_prepared_bytes(&c32, &d32));
    unsetenv("ERT_QCONV_WINOGRAD");
    qdata_free(&d31), qdata_free(&d32);
}

static void test_qconv_int8_winograd_border_groups_match_direct(void)
{
    /* Groups of 8 tiles that touch a map border or span two tile rows are read through
     * per-row runs (qconv_wino.c load_d8): tile rows of 7 (14x14), 29 (58 wide, a group
     * starting on every residue), asymmetric pads that cut the first or last column, an
     * odd output size with a half tile, at 1 and 2 threads, against the direct path; for
     * F(2x2) (=f2) and F(4x4) (=f4, tf4_body's groups of 8 tiles at stride 4). */
    qcfg cs[] = {
        {.nsp = 2, .N = 1, .C = 33, .M = 14, .group = 1, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 128, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 16, .M = 7, .group = 1, .in = {9, 58}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .act = ERT_ACT_RELU, .zx = 3, .inv = 90.0f},
        {.nsp = 2, .N = 2, .C = 8, .M = 6, .group = 1, .in = {13, 37}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {0, 1, 2, 0}, .bias = true, .zx = 250, .inv = 80.0f},
        {.nsp = 2, .N = 1, .C = 5, .M = 6, .group = 1, .in = {20, 41}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {2, 2, 1, 1}, .resid = true, .zx = 0, .inv = 100.0f},
    };
    for (size_t i = 0; i < 2 * sizeof cs / sizeof cs[0]; i++) {
        const char *mode = i & 1 ? "f4" : "f2";
        const qcfg *c = &cs[i / 2];
        setenv("ERT_QCONV_WINOGRAD", mode, 1);
        check_qconv(c, 550 + (unsigned)i);
        qdata d;
        qdata_make(c, 550 + (unsigned)i, &d);
        CU_ASSERT_EQUAL(qconv_prepared_bytes(c, &d), wino_bytes(i & 1 ? 4 : 2, c->C, c->M));
        for (int t = 1; t <= 2; t++) {
            setenv("ERT_QCONV_WINOGRAD", "off", 1);
            float *direct = run_qconv_model(c, &d, t);
            setenv("ERT_QCONV_WINOGRAD", mode, 1);
            float *wino = run_qconv_model(c, &d, t);
            CU_ASSERT(same_bits(wino, direct, d.ny, "winograd vs direct at a border"));
            free(direct), free(wino);
        }
        qdata_free(&d);
    }
    unsetenv("ERT_QCONV_WINOGRAD");
}

/* int8 Winograd F(4x4,3x3) (ERT_QCONV_WINOGRAD=f4: any kernel, wherever its bound holds)
 * against the int64 reference and the direct path, bit for bit: output maps 1x1, 3x5, 5x4,
 * 5x5, 10x13, 14x14, 17x19 and 20x74 (whole 8-tile groups inside the map), pads 0/1/2/3
 * and asymmetric, one channel, C not a multiple of 8, bias, residual, Relu/Clip, z_x 0 /
 * 77 / 128 / 255 (8-bit) and 0 / 64 / 127 (7-bit, q_max 127), batch 2, threads 1 and 2
 * (check_qconv; batch 2 and one block split over the threads by output channels on the
 * pool); the weights prepared are F(4x4)'s. */
static void test_qconv_int8_winograd4_same_bits_as_reference_and_direct(void)
{
    qcfg cs[] = {
        {.nsp = 2, .N = 1, .C = 40, .M = 13, .group = 1, .in = {1, 1}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .zx = 128, .inv = 100.0f},
        {.nsp = 2, .N = 2, .C = 13, .M = 7, .group = 1, .in = {3, 5}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .resid = true, .act = ERT_ACT_RELU, .zx = 0, .inv = 90.0f},
        {.nsp = 2, .N = 1, .C = 33, .M = 19, .group = 1, .in = {5, 4}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .act = ERT_ACT_CLIP, .alpha = -0.25f, .beta = 0.5f, .zx = 255, .inv = 80.0f},
        {.nsp = 2, .N = 2, .C = 8, .M = 6, .group = 1, .in = {7, 7}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .zx = 77, .inv = 120.0f},
        {.nsp = 2, .N = 1, .C = 70, .M = 33, .group = 1, .in = {9, 13}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {2, 0, 1, 2}, .bias = true, .resid = true, .zx = 64, .inv = 60.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 1, .M = 7, .group = 1, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .zx = 0, .inv = 60.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 21, .M = 14, .group = 1, .in = {17, 19}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .resid = true, .act = ERT_ACT_RELU, .zx = 127, .inv = 60.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 16, .M = 7, .group = 1, .in = {20, 74}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 128, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 9, .M = 6, .group = 1, .in = {3, 3}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {3, 3, 3, 3}, .bias = true, .zx = 128, .inv = 100.0f},
        /* batch 2 large enough for the pool (2 x 20 x 667 x 360 MACs), 7-bit, z_x 0 */
        {.nsp = 2, .N = 2, .C = 40, .M = 20, .group = 1, .in = {23, 29}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 0, .inv = 60.0f, .qmax = 127},
        /* one 16-tile block (14x14) on 2 threads: its 8 channel panels split between them */
        {.nsp = 2, .N = 1, .C = 64, .M = 47, .group = 1, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        setenv("ERT_QCONV_WINOGRAD", "f4", 1);
        check_qconv(&cs[i], 900 + (unsigned)i);
        qdata d;
        qdata_make(&cs[i], 900 + (unsigned)i, &d);
        CU_ASSERT_EQUAL(qconv_prepared_bytes(&cs[i], &d), wino_bytes(4, cs[i].C, cs[i].M));
        float *wino = run_qconv_model(&cs[i], &d, 2);
        setenv("ERT_QCONV_WINOGRAD", "off", 1);
        float *direct = run_qconv_model(&cs[i], &d, 2);
        CU_ASSERT(same_bits(wino, direct, d.ny, "winograd F(4x4) vs direct"));
        free(direct), free(wino);
        qdata_free(&d);
    }
    unsetenv("ERT_QCONV_WINOGRAD");
}

/* F(4x4) recovers S from 576 S modulo 2^32 while |S| < 2^25: every weight +-127 and every
 * input at the far end from z_x put the centre sum at 9 C 127 max(z_x, q_max - z_x), so
 * F(4x4) is taken up to C = 115 (8-bit: 33518475 < 2^25) and 231 (7-bit), refused from
 * 116 and 232 where F(2x2) runs; every case the reference's bits. */
static void test_qconv_int8_winograd4_refused_beyond_its_bound(void)
{
    const struct {
        size_t C;
        int qmax;
        size_t n;
    } cases[] = {{115, 0, 4}, {116, 0, 2}, {231, 127, 4}, {232, 127, 2}};
    setenv("ERT_QCONV_WINOGRAD", "f4", 1);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int sign = 0; sign < 2; sign++) {
            int top = cases[ci].qmax ? cases[ci].qmax : 255;
            qcfg c = {.nsp = 2, .N = 1, .C = cases[ci].C, .M = 2, .group = 1, .in = {5, 4}, .k = {3, 3},
                      .s = {1, 1}, .d = {1, 1}, .pads = {1, 0, 0, 1}, .bias = true, .zx = sign ? top : 0,
                      .inv = 100.0f, .qmax = cases[ci].qmax};
            qdata d;
            qdata_make(&c, 950, &d);
            for (size_t i = 0; i < d.nw; i++)
                d.w[i] = (int8_t)(i < d.nw / 2 ? 127 : -127);
            for (size_t i = 0; i < d.nx; i++)
                d.x[i] = sign ? -10.0f : 10.0f;
            for (size_t m = 0; m < c.M; m++)
                d.s[m] = 1.0f, d.b[m] = 0;
            CU_ASSERT_EQUAL(qconv_prepared_bytes(&c, &d), wino_bytes(cases[ci].n, c.C, c.M));
            float *want = malloc(d.ny * sizeof *want);
            ref_qconv(&c, d.x, d.w, d.b, d.s, NULL, want);
            for (int t = 1; t <= 2; t++) {
                float *got = run_qconv_model(&c, &d, t);
                CU_ASSERT(same_bits(got, want, d.ny, "F(4x4) bound"));
                free(got);
            }
            /* the centre output of channel 0: +-9 C 127 top, exactly (float of an int32) */
            CU_ASSERT_EQUAL(fabs((double)want[1 * 3 + 1]), (double)(float)(9.0 * (double)c.C * 127 * top));
            free(want);
            qdata_free(&d);
        }
    unsetenv("ERT_QCONV_WINOGRAD");
}

/* F(4x4) never grows a shape's planned scratch (blobs planned before it must still load):
 * 512->512 @35x35 plans 442368 bytes (the direct path's 32-column tile: 4608 x 32 uint8 +
 * 4608 x 32 int16), less than F(4x4)'s 16 tiles (36 x 16 x 512 int16 + 36 x 6 x 16 int32 =
 * 603648), so F(2x2) is prepared there; ERT_QCONV_WINOGRAD=f4 plans the 603648 instead. */
static void test_qconv_int8_winograd4_keeps_the_planned_scratch(void)
{
    qcfg c = {.nsp = 2, .N = 1, .C = 512, .M = 6, .group = 1, .in = {35, 35}, .k = {3, 3}, .s = {1, 1},
              .d = {1, 1}, .pads = {1, 1, 1, 1}, .bias = true, .zx = 0, .inv = 100.0f};
    qdata d;
    qdata_make(&c, 970, &d);
    for (size_t i = 0; i < d.nw; i++) /* well inside the F(4x4) bound */
        d.w[i] = (int8_t)(i % 3 - 1);
    const char *modes[2] = {"on", "f4"};
    const size_t scratch[2] = {442368, 603648}, n[2] = {2, 4};
    for (int i = 0; i < 2; i++) {
        setenv("ERT_QCONV_WINOGRAD", modes[i], 1);
        ert_error err;
        uint32_t node;
        ert_graph *g = qconv_graph(&c, &d, false, &node, &err);
        ert_node *nd = &g->nodes[node];
        CU_ASSERT_EQUAL_FATAL(nd->def->infer(g, nd, &err), ERT_OK);
        CU_ASSERT_EQUAL(nd->def->scratch(g, nd), scratch[i]);
        CU_ASSERT_EQUAL(nd->def->prepare_bytes(g, nd), wino_bytes(n[i], 512, 6));
        ert_graph_free(g);
    }
    unsetenv("ERT_QCONV_WINOGRAD");
    qdata_free(&d);
}

/* The default rule on AVX2: Winograd from 32 input channels, F(4x4) where 5 x its 16-tile
 * panels are at most 2 x F(2x2)'s (qconv_wino.c; 20x20: 2 vs 7, 7x7: 1 vs 1) and the bound
 * holds, else F(2x2); ERT_QCONV_WINOGRAD=f2 keeps F(2x2). */
static void test_qconv_int8_winograd_default_rule_picks_tile_size(void)
{
    if (ert_qgemm_kernel() != ERT_QK_AVX2 && ert_qgemm_kernel() != ERT_QK_AVX2U7)
        return;
    unsetenv("ERT_QCONV_WINOGRAD");
    qcfg big = {.nsp = 2, .N = 1, .C = 32, .M = 8, .group = 1, .in = {20, 20}, .k = {3, 3}, .s = {1, 1},
                .d = {1, 1}, .pads = {1, 1, 1, 1}, .bias = true, .zx = 128, .inv = 100.0f};
    qcfg small = big;
    small.in[0] = small.in[1] = 7;
    qdata d1, d2;
    qdata_make(&big, 960, &d1), qdata_make(&small, 961, &d2);
    CU_ASSERT_EQUAL(qconv_prepared_bytes(&big, &d1), wino_bytes(4, 32, 8));
    CU_ASSERT_EQUAL(qconv_prepared_bytes(&small, &d2), wino_bytes(2, 32, 8));
    qcfg deep = big; /* past the bound (9 x 120 x 127 x 255 >= 2^25): F(2x2) */
    deep.C = 120, deep.zx = 0;
    qdata d3;
    qdata_make(&deep, 962, &d3);
    for (size_t i = 0; i < d3.nw; i++)
        d3.w[i] = 127;
    CU_ASSERT_EQUAL(qconv_prepared_bytes(&deep, &d3), wino_bytes(2, 120, 8));
    setenv("ERT_QCONV_WINOGRAD", "f2", 1);
    CU_ASSERT_EQUAL(qconv_prepared_bytes(&big, &d1), wino_bytes(2, 32, 8));
    unsetenv("ERT_QCONV_WINOGRAD");
    qdata_free(&d1), qdata_free(&d2), qdata_free(&d3);
}

/* A blob planned before the int8 Winograd path gives less scratch: the op lowers its tile
 * block to fit (same bits), and refuses with a message when not even 16 tiles fit; F(2x2)
 * and F(4x4) (36 positions per tile). */
static void fits_smaller_scratch(const char *mode, size_t np)
{
    setenv("ERT_QCONV_WINOGRAD", mode, 1);
    qcfg c = {.nsp = 2, .N = 1, .C = 64, .M = 20, .group = 1, .in = {40, 37}, .k = {3, 3}, .s = {1, 1},
              .d = {1, 1}, .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 128, .inv = 100.0f};
    qdata d;
    qdata_make(&c, 800, &d);
    float *want = malloc(d.ny * sizeof *want);
    ref_qconv(&c, d.x, d.w, d.b, d.s, d.r, want);
    ert_error err;
    uint32_t node;
    ert_graph *g = qconv_graph(&c, &d, false, &node, &err);
    ert_node *nd = &g->nodes[node];
    CU_ASSERT_EQUAL_FATAL(ert_node_eval(g, node, &err), ERT_OK);
    size_t pb = nd->def->prepare_bytes(g, nd), wb = nd->def->workspace(g, nd), full = nd->def->scratch(g, nd);
    size_t small = np * 16 * 64 * 2 + np * 6 * 16 * 4; /* 16 tiles: V (np x kp x 16 int16) + sums */
    CU_ASSERT_FATAL(full > small);
    void *prep = aligned_alloc(64, (pb + 63) / 64 * 64), *ws = aligned_alloc(64, (wb + 63) / 64 * 64);
    void *scr = aligned_alloc(64, full);
    nd->def->prepare(g, nd, prep);
    float *y = ert_node_output(g, nd, 0)->data;
    const size_t sizes[3] = {full, small, small - 64};
    for (int i = 0; i < 3; i++) {
        memset(y, 0, d.ny * sizeof *y);
        ert_ctx ctx = {.scratch = scr, .scratch_bytes = sizes[i], .threads = 1, .prepared = prep, .workspace = ws,
                       .workspace_bytes = wb};
        ert_status st = nd->def->run(&ctx, g, nd, &err);
        if (i < 2) {
            CU_ASSERT_EQUAL(st, ERT_OK);
            CU_ASSERT(same_bits(y, want, d.ny, "winograd in a smaller scratch"));
        } else {
            CU_ASSERT_EQUAL(st, ERT_EINTERNAL);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needed (int8 Winograd)"));
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'qc'"));
        }
    }
    /* Winograd weights with another kernel active: refused, naming the fix. */
    CU_ASSERT_EQUAL_FATAL(ert_qgemm_force(ERT_QK_REF, &err), ERT_OK);
    ert_ctx ctx = {.scratch = scr, .scratch_bytes = full, .threads = 1, .prepared = prep, .workspace = ws,
                   .workspace_bytes = wb};
    CU_ASSERT_EQUAL(nd->def->run(&ctx, g, nd, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "than the active 'ref'; bind the model again"));
    ert_qgemm_force(ERT_QK_AUTO, &err);
    unsetenv("ERT_QCONV_WINOGRAD");
    free(prep), free(ws), free(scr), free(want);
    ert_graph_free(g);
    qdata_free(&d);
}

static void test_qconv_int8_winograd_fits_smaller_scratch(void)
{
    if (ert_qgemm_kernel() != ERT_QK_AVX2 && ert_qgemm_kernel() != ERT_QK_AVX2U7)
        return;
    fits_smaller_scratch("f2", 16);
    fits_smaller_scratch("f4", 36);
}

/* ERT_QCONV_WINOGRAD=f2 / f4 with the reference kernel: the portable C tile and transforms
 * (the path other CPUs would take) on the same panels, the same bits as the direct path. */
static void test_qconv_int8_winograd_portable_tile_same_bits(void)
{
    qcfg cs[] = {
        {.nsp = 2, .N = 2, .C = 40, .M = 13, .group = 1, .in = {11, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f},
        {.nsp = 2, .N = 1, .C = 13, .M = 19, .group = 1, .in = {10, 13}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {2, 0, 1, 2}, .act = ERT_ACT_CLIP, .alpha = -0.25f, .beta = 0.5f, .zx = 255, .inv = 80.0f},
    };
    ert_error err;
    for (size_t i = 0; i < 2 * sizeof cs / sizeof cs[0]; i++) {
        size_t n = i & 1 ? 4 : 2;
        const qcfg *c = &cs[i / 2];
        qdata d;
        qdata_make(c, 800 + (unsigned)i, &d);
        setenv("ERT_QCONV_WINOGRAD", "off", 1);
        float *direct = run_qconv_model(c, &d, 2);
        CU_ASSERT_EQUAL_FATAL(ert_qgemm_force(ERT_QK_REF, &err), ERT_OK);
        size_t off = qconv_prepared_bytes(c, &d);
        setenv("ERT_QCONV_WINOGRAD", n == 4 ? "f4" : "f2", 1);
        CU_ASSERT_EQUAL(qconv_prepared_bytes(c, &d), wino_bytes(n, c->C, c->M)); /* Winograd weights prepared */
        float *wino = run_qconv_model(c, &d, 2);
        CU_ASSERT(same_bits(wino, direct, d.ny, "portable winograd tile vs direct"));
        setenv("ERT_QCONV_WINOGRAD", "off", 1);
        CU_ASSERT_EQUAL(qconv_prepared_bytes(c, &d), off);
        ert_qgemm_force(ERT_QK_AUTO, &err);
        unsetenv("ERT_QCONV_WINOGRAD");
        free(direct), free(wino);
        qdata_free(&d);
    }
}

static void test_qconv_reference_kernel_and_simd_kernel_same_bits(void)
{
    qcfg c = {.nsp = 2, .N = 1, .C = 32, .M = 27, .group = 1, .in = {20, 19}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
              .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f};
    qdata d;
    qdata_make(&c, 300, &d);
    ert_qkernel best = ert_qgemm_kernel();
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_qgemm_force(ERT_QK_REF, &err), ERT_OK);
    float *ref = run_qconv_model(&c, &d, 2);
    CU_ASSERT_EQUAL_FATAL(ert_qgemm_force(best, &err), ERT_OK);
    float *simd = run_qconv_model(&c, &d, 2);
    ert_qgemm_force(ERT_QK_AUTO, &err);
    CU_ASSERT(same_bits(ref, simd, d.ny, "ref kernel vs the best kernel"));
    free(ref), free(simd);
    qdata_free(&d);
}

static void test_qconv_close_to_fp32_conv_on_dequantized_weights(void)
{
    /* W = Wq * s_w[m], B = Bq * S[m], S[m] = s_x * s_w[m]. With every x inside the
     * quantization range, only x's rounding differs: |y_int8 - y_fp32| <= s_x / 2 *
     * sum_k |W[m][k]| (plus float rounding, 1e-4 here). */
    qcfg c = {.nsp = 2, .N = 1, .C = 16, .M = 12, .group = 1, .in = {10, 11}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
              .pads = {1, 1, 1, 1}, .bias = true, .zx = 128, .inv = 100.0f};
    qdata d;
    qdata_make(&c, 400, &d);
    for (size_t i = 0; i < d.nx; i++)
        d.x[i] *= 0.8f; /* within [-1.2, 1.2] of [-1.28, 1.27] */
    float sx = 1.0f / c.inv;
    size_t K = d.nw / c.M;
    float *wf = malloc(d.nw * sizeof *wf), *bf = malloc(c.M * sizeof *bf), *tol = malloc(c.M * sizeof *tol);
    for (size_t m = 0; m < c.M; m++) {
        float sw = d.s[m] / sx;
        double a = 0;
        for (size_t k = 0; k < K; k++) {
            wf[m * K + k] = (float)d.w[m * K + k] * sw;
            a += fabs(wf[m * K + k]);
        }
        bf[m] = (float)d.b[m] * d.s[m];
        tol[m] = (float)(a * sx / 2) + 1e-4f;
    }
    float *want = run_qconv_model(&c, &d, 1);
    ert_graph *g = ert_graph_new("f");
    int64_t m = (int64_t)c.M;
    uint32_t in[3] = {tu_f32(g, "x", d.x, 4, d.xd), tu_f32(g, "w", wf, 4, d.wd), tu_f32(g, "b", bf, 1, &m)};
    uint32_t y = tu_out(g, "y");
    const int64_t pads[4] = {1, 1, 1, 1};
    ert_attr at[1] = {tu_attr_ints("pads", pads, 4)};
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(tu_run(g, "Conv", in, 3, &y, 1, at, 1, 13, &err), ERT_OK);
    const float *f = g->tensors[y].data;
    size_t S = d.ny / c.M, bad = 0;
    float worst = 0;
    for (size_t i = 0; i < d.ny; i++) {
        float e = fabsf(f[i] - want[i]);
        worst = e / tol[i / S] > worst ? e / tol[i / S] : worst;
        bad += e > tol[i / S];
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(worst > 0.0f); /* quantization does change the numbers */
    ert_graph_free(g);
    free(wf), free(bf), free(tol), free(want);
    qdata_free(&d);
}

/* ---- ErtQGemm ---- */

static int g_qgemm_qmax; /* qgemm_graph: 0 writes ints [z_x], else [z_x, q_max] */

static ert_graph *qgemm_graph(size_t R, size_t K, size_t N, const int8_t *w, const int32_t *b, const float *s, int zx,
                              float inv, ert_act act, uint32_t *xin, ert_error *err)
{
    ert_graph *g = ert_graph_new("qgemm");
    ert_shape xs = {.rank = 2, .dims = {(int64_t)R, (int64_t)K}};
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, xin, err), ERT_OK);
    int64_t wd[2] = {(int64_t)N, (int64_t)K}, n = (int64_t)N;
    uint32_t in[4] = {*xin, tu_const(g, "wq", ERT_DT_I8, w, 2, wd),
                      b ? tu_const(g, "bq", ERT_DT_I32, b, 1, &n) : ERT_NO_TENSOR, tu_f32(g, "s", s, 1, &n)};
    uint32_t y = tu_out(g, "y"), node;
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_node(g, "fc", "ErtQGemm", in, 4, &y, 1, &node, err), ERT_OK);
    int64_t z[2] = {zx, g_qgemm_qmax};
    CU_ASSERT_EQUAL_FATAL(ert_node_set_params(&g->nodes[node], z, g_qgemm_qmax ? 2 : 1, &inv, 1, err), ERT_OK);
    g->nodes[node].act = act;
    g->inputs = malloc(sizeof *g->inputs), g->outputs = malloc(sizeof *g->outputs);
    g->inputs[0] = *xin, g->outputs[0] = y, g->n_inputs = 1, g->n_outputs = 1;
    return g;
}

static void test_qgemm_op_matches_reference_and_fp32_gemm(void)
{
    const size_t Rs[2] = {1, 5}, K = 300, N = 70;
    for (int ri = 0; ri < 2; ri++)
        for (int zi = 0; zi < 3; zi++) {
            size_t R = Rs[ri];
            int zx = zi == 0 ? 0 : zi == 1 ? 128 : 255;
            ert_act act = zi == 0 ? ERT_ACT_NONE : zi == 1 ? ERT_ACT_RELU : ERT_ACT_NONE;
            float inv = 100.0f, sx = 1.0f / inv;
            float *x = rnd_f(R * K, 500 + (unsigned)zi, -1.2f, 1.2f), *s = rnd_f(N, 510, 1e-5f, 3e-5f);
            int8_t *w = rnd_w(N * K, 520);
            int32_t *b = zi == 2 ? NULL : rnd_b(N, 530);
            float *want = malloc(R * N * sizeof *want);
            uint8_t *xq = malloc(R * K);
            ert_qquantize(x, R * K, inv, (uint8_t)zx, xq);
            for (size_t r = 0; r < R; r++)
                for (size_t o = 0; o < N; o++) {
                    int64_t acc = b ? b[o] : 0;
                    for (size_t k = 0; k < K; k++)
                        acc += (int64_t)((int)xq[r * K + k] - zx) * w[o * K + k];
                    want[r * N + o] = epi(acc, s[o], NULL, act == ERT_ACT_RELU ? 0.0f : -INFINITY, INFINITY);
                }
            for (int t = 1; t <= 2; t++) {
                ert_error err;
                uint32_t xin;
                ert_graph *g = qgemm_graph(R, K, N, w, b, s, zx, inv, act, &xin, &err);
                float *got = run_model(g, x, R * K, t, &err);
                CU_ASSERT_PTR_NOT_NULL_FATAL(got);
                CU_ASSERT(same_bits(got, want, R * N, "ErtQGemm vs reference"));
                free(got);
            }
            /* unprepared fallback */
            {
                ert_error err;
                uint32_t xin;
                ert_graph *g = qgemm_graph(R, K, N, w, b, s, zx, inv, act, &xin, &err);
                ert_node *nd = &g->nodes[0];
                CU_ASSERT_EQUAL_FATAL(nd->def->infer(g, nd, &err), ERT_OK);
                float *yb = malloc(R * N * sizeof *yb);
                g->tensors[xin].data = x;
                g->tensors[nd->out[0]].data = yb;
                ert_ctx ctx = {.threads = 1};
                CU_ASSERT_EQUAL(nd->def->run(&ctx, g, nd, &err), ERT_OK);
                CU_ASSERT(same_bits(yb, want, R * N, "ErtQGemm unprepared"));
                g->tensors[xin].data = NULL;
                g->tensors[nd->out[0]].data = NULL;
                ert_graph_free(g);
                free(yb);
            }
            /* Close to fp32 Gemm on the dequantized weights (zero point 128: nothing clamps). */
            if (zx == 128) {
                ert_graph *g = ert_graph_new("f");
                float *wf = malloc(N * K * sizeof *wf), *bf = malloc(N * sizeof *bf);
                float worst = 0;
                for (size_t o = 0; o < N; o++) {
                    for (size_t k = 0; k < K; k++)
                        wf[o * K + k] = (float)w[o * K + k] * (s[o] / sx);
                    bf[o] = (float)b[o] * s[o];
                }
                int64_t xd[2] = {(int64_t)R, (int64_t)K}, wd[2] = {(int64_t)N, (int64_t)K}, nn = (int64_t)N;
                uint32_t in[3] = {tu_f32(g, "x", x, 2, xd), tu_f32(g, "w", wf, 2, wd), tu_f32(g, "b", bf, 1, &nn)};
                uint32_t y = tu_out(g, "y");
                ert_attr at[1] = {tu_attr_int("transB", 1)};
                ert_error err;
                CU_ASSERT_EQUAL_FATAL(tu_run(g, "Gemm", in, 3, &y, 1, at, 1, 13, &err), ERT_OK);
                const float *f = g->tensors[y].data;
                for (size_t r = 0; r < R; r++)
                    for (size_t o = 0; o < N; o++) {
                        double a = 0;
                        for (size_t k = 0; k < K; k++)
                            a += fabs(wf[o * K + k]);
                        float tol = (float)(a * sx / 2) + 1e-4f, ff = f[r * N + o];
                        float e = fabsf((act == ERT_ACT_RELU ? fmaxf(ff, 0.0f) : ff) - want[r * N + o]);
                        worst = e / tol > worst ? e / tol : worst;
                    }
                CU_ASSERT(worst <= 1.0f && worst > 0.0f);
                ert_graph_free(g);
                free(wf), free(bf);
            }
            free(x), free(s), free(w), free(b), free(want), free(xq);
        }
}

/* ---- refusals ---- */

static void expect_refusal(ert_graph *g, uint32_t node, const char *needle)
{
    ert_error err = {0};
    ert_node *n = &g->nodes[node];
    ert_status st = n->def->infer(g, n, &err);
    CU_ASSERT_NOT_EQUAL(st, ERT_OK);
    if (!strstr(err.msg, needle) || !strstr(err.msg, "node 'qc'")) {
        fprintf(stderr, "\n  message '%s' lacks '%s' or the node name\n", err.msg, needle);
        CU_FAIL("refusal message");
    }
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
}

static void test_qconv_infer_refusals_name_node_and_problem(void)
{
    qcfg c = {.nsp = 2, .N = 1, .C = 4, .M = 3, .group = 1, .in = {6, 6}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
              .bias = true, .zx = 128, .inv = 100.0f};
    qdata d;
    qdata_make(&c, 600, &d);
    ert_error err;
    uint32_t node;
    /* Baseline passes. */
    ert_graph *g = qconv_graph(&c, &d, false, &node, &err);
    CU_ASSERT_EQUAL(g->nodes[node].def->infer(g, &g->nodes[node], &err), ERT_OK);
    /* bad ints count */
    g->nodes[node].n_ints = 18;
    expect_refusal(g, node, "expected 19 or 20 / 1");
    g->nodes[node].n_ints = 19;
    /* z_x out of range */
    g->nodes[node].ints[18] = 256;
    expect_refusal(g, node, "z_x = 256");
    g->nodes[node].ints[18] = -1;
    expect_refusal(g, node, "z_x = -1");
    g->nodes[node].ints[18] = 128;
    /* inv_s_x <= 0, NaN, inf */
    const float bad_inv[3] = {0.0f, -1.0f, NAN};
    for (int i = 0; i < 3; i++) {
        g->nodes[node].floats[0] = bad_inv[i];
        expect_refusal(g, node, "inv_s_x");
    }
    g->nodes[node].floats[0] = INFINITY;
    expect_refusal(g, node, "inv_s_x");
    g->nodes[node].floats[0] = 100.0f;
    /* sigmoid act */
    g->nodes[node].act = ERT_ACT_SIGMOID;
    expect_refusal(g, node, "fused activation Sigmoid is not supported");
    g->nodes[node].act = ERT_ACT_CLIP, g->nodes[node].act_alpha = 1.0f, g->nodes[node].act_beta = 0.0f;
    expect_refusal(g, node, "Clip bounds");
    g->nodes[node].act = ERT_ACT_NONE;
    /* S wrong shape */
    ert_tensor *s = &g->tensors[g->nodes[node].in[3]];
    s->shape.dims[0] = 2;
    expect_refusal(g, node, "must be float32 of shape [3]");
    s->shape.dims[0] = 3;
    /* Wq not int8 */
    ert_tensor *w = &g->tensors[g->nodes[node].in[1]];
    w->dtype = ERT_DT_U8;
    expect_refusal(g, node, "expected int8");
    w->dtype = ERT_DT_I8;
    /* -128 in Wq */
    int8_t keep = ((int8_t *)w->data)[5];
    ((int8_t *)w->data)[5] = -128;
    expect_refusal(g, node, "element 5 is -128");
    ((int8_t *)w->data)[5] = keep;
    /* bias not int32 */
    g->tensors[g->nodes[node].in[2]].dtype = ERT_DT_F32;
    expect_refusal(g, node, "must be int32");
    g->tensors[g->nodes[node].in[2]].dtype = ERT_DT_I32;
    CU_ASSERT_EQUAL(g->nodes[node].def->infer(g, &g->nodes[node], &err), ERT_OK);
    ert_graph_free(g);

    /* q_max (the 20th int): 127 or 255 only, and z_x at most q_max */
    c.qmax = 127, c.zx = 127;
    g = qconv_graph(&c, &d, false, &node, &err);
    CU_ASSERT_EQUAL(g->nodes[node].def->infer(g, &g->nodes[node], &err), ERT_OK);
    g->nodes[node].ints[19] = 200;
    expect_refusal(g, node, "q_max = 200 must be 127 (7-bit) or 255 (8-bit)");
    g->nodes[node].ints[19] = 0;
    expect_refusal(g, node, "q_max = 0");
    g->nodes[node].ints[19] = 127;
    g->nodes[node].ints[18] = 128;
    expect_refusal(g, node, "z_x = 128 is outside [0, q_max = 127]");
    g->nodes[node].ints[19] = 255; /* the same blob with q_max 255 is today's format */
    CU_ASSERT_EQUAL(g->nodes[node].def->infer(g, &g->nodes[node], &err), ERT_OK);
    ert_graph_free(g);
    qdata_free(&d);

    /* K > 65535: C = 8192 x 3x3 = 73728. The shapes alone trip it (no data read past infer). */
    qcfg big = {.nsp = 2, .N = 1, .C = 8192, .M = 1, .group = 1, .in = {3, 3}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
                .zx = 128, .inv = 100.0f};
    qdata_make(&big, 601, &d);
    g = qconv_graph(&big, &d, false, &node, &err);
    expect_refusal(g, node, "exceeds 65535");
    ert_graph_free(g);
    qdata_free(&d);
}

static void test_qgemm_infer_refusals_name_node(void)
{
    const size_t K = 8, N = 3;
    int8_t w[24] = {0};
    float s[3] = {1, 1, 1};
    ert_error err;
    uint32_t xin;
    ert_graph *g = qgemm_graph(2, K, N, w, NULL, s, 128, 10.0f, ERT_ACT_NONE, &xin, &err);
    free(g->nodes[0].name);
    g->nodes[0].name = strdup("qc");
    CU_ASSERT_EQUAL(g->nodes[0].def->infer(g, &g->nodes[0], &err), ERT_OK);
    CU_ASSERT_EQUAL(g->tensors[g->nodes[0].out[0]].shape.dims[0], 2);
    CU_ASSERT_EQUAL(g->tensors[g->nodes[0].out[0]].shape.dims[1], 3);
    g->nodes[0].ints[0] = 300;
    expect_refusal(g, 0, "z_x = 300");
    g->nodes[0].ints[0] = 128;
    g->nodes[0].floats[0] = NAN;
    expect_refusal(g, 0, "inv_s_x");
    g->nodes[0].floats[0] = 10.0f;
    g->nodes[0].act = ERT_ACT_TANH;
    expect_refusal(g, 0, "Tanh is not supported");
    g->nodes[0].act = ERT_ACT_NONE;
    g->tensors[g->nodes[0].in[3]].shape.dims[0] = 4;
    expect_refusal(g, 0, "shape [3]");
    g->tensors[g->nodes[0].in[3]].shape.dims[0] = 3;
    g->tensors[xin].shape.dims[1] = 9;
    expect_refusal(g, 0, "K = 9");
    g->tensors[xin].shape.dims[1] = 70000;
    g->tensors[g->nodes[0].in[1]].shape.dims[1] = 70000;
    expect_refusal(g, 0, "exceeds 65535");
    ert_graph_free(g);
    /* ints [z_x, q_max]: q_max 127 or 255, z_x <= q_max; three ints refused */
    g_qgemm_qmax = 127;
    g = qgemm_graph(2, K, N, w, NULL, s, 127, 10.0f, ERT_ACT_NONE, &xin, &err);
    free(g->nodes[0].name);
    g->nodes[0].name = strdup("qc");
    CU_ASSERT_EQUAL(g->nodes[0].def->infer(g, &g->nodes[0], &err), ERT_OK);
    g->nodes[0].ints[1] = 128;
    expect_refusal(g, 0, "q_max = 128 must be 127 (7-bit) or 255 (8-bit)");
    g->nodes[0].ints[1] = 127;
    g->nodes[0].ints[0] = 130;
    expect_refusal(g, 0, "z_x = 130 is outside [0, q_max = 127]");
    g->nodes[0].ints[0] = 0;
    g->nodes[0].n_ints = 0;
    expect_refusal(g, 0, "expected 1 or 2 / 1");
    g->nodes[0].n_ints = 2;
    ert_graph_free(g);
    g_qgemm_qmax = 0;
}

/* ---- 7-bit activations (q_max = 127) ---- */

/* ErtQConv with q_max 127 against the reference (ert_qquantize_q), bit for bit, through
 * every path: direct 1x1 (wide, narrow split over panels), gathered 3x3 wide and narrow,
 * stride 2, groups, 1-D, int8 Winograd (C >= 32 on AVX2), NaN/inf/ties in X, z_x 0, 64 and
 * 127, 1 and 2 threads (check_qconv); then the same conv on ref, avx2 (vpmaddwd) and
 * avx2u7 (vpmaddubsw) kernels, same bits; and 7 bits are not 8 bits (the rail moved). */
static void test_qconv_7bit_activations_match_reference_on_every_path(void)
{
    qcfg cs[] = {
        {.nsp = 2, .N = 1, .C = 96, .M = 30, .group = 1, .in = {33, 31}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .zx = 17, .inv = 4.0f, .qmax = 127},
        {.nsp = 2, .N = 2, .C = 96, .M = 40, .group = 2, .in = {7, 7}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1},
         .bias = true, .resid = true, .zx = 127, .inv = 4.0f, .qmax = 127},
        {.nsp = 2, .N = 2, .C = 13, .M = 19, .group = 1, .in = {30, 29}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .act = ERT_ACT_RELU, .zx = 64, .inv = 4.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 128, .M = 70, .group = 1, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 0, .inv = 4.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 3, .M = 16, .group = 1, .in = {70, 67}, .k = {7, 7}, .s = {2, 2}, .d = {1, 1},
         .pads = {3, 3, 3, 3}, .bias = true, .act = ERT_ACT_RELU, .zx = 64, .inv = 4.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 12, .M = 18, .group = 3, .in = {10, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .act = ERT_ACT_CLIP, .alpha = -0.5f, .beta = 0.5f, .zx = 100, .inv = 4.0f,
         .qmax = 127},
        {.nsp = 1, .N = 1, .C = 6, .M = 10, .group = 1, .in = {40}, .k = {5}, .s = {2}, .d = {1}, .pads = {2, 1},
         .bias = true, .zx = 64, .inv = 4.0f, .qmax = 127},
        {.nsp = 2, .N = 1, .C = 40, .M = 13, .group = 1, .in = {11, 9}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1},
         .pads = {1, 1, 1, 1}, .bias = true, .resid = true, .zx = 64, .inv = 4.0f, .qmax = 127},
    };
    ert_error err;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        qdata d;
        qdata_make(&cs[i], 900 + (unsigned)i, &d);
        unsigned seed = 901 + (unsigned)i;
        for (size_t e = 0; e < d.nx; e++) {
            unsigned r = next(&seed) % 64;
            d.x[e] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY
                   : (float)((int)(next(&seed) % 1025) - 512) / 8.0f; /* ties at inv 4, past both rails */
        }
        float *want = malloc(d.ny * sizeof *want);
        ref_qconv(&cs[i], d.x, d.w, d.b, d.s, d.r, want);
        for (int t = 1; t <= 2; t++) {
            float *got = run_qconv_model(&cs[i], &d, t);
            CU_ASSERT(same_bits(got, want, d.ny, t == 1 ? "7-bit, 1 thread" : "7-bit, 2 threads"));
            free(got);
        }
        static const ert_qkernel ks[] = {ERT_QK_REF, ERT_QK_AVX2, ERT_QK_AVX2U7};
        for (size_t k = 0; k < 3; k++) {
            if (!ert_qgemm_supported(ks[k]))
                continue;
            CU_ASSERT_EQUAL_FATAL(ert_qgemm_force(ks[k], &err), ERT_OK);
            float *got = run_qconv_model(&cs[i], &d, 2);
            CU_ASSERT(same_bits(got, want, d.ny, ert_qgemm_kernel_name()));
            free(got);
        }
        ert_qgemm_force(ERT_QK_AUTO, &err);
        qcfg c8 = cs[i];
        c8.qmax = 0;
        float *y8 = run_qconv_model(&c8, &d, 1);
        CU_ASSERT(memcmp(y8, want, d.ny * sizeof *want) != 0);
        free(y8);
        free(want);
        qdata_free(&d);
    }
    /* the general geometries again at 7 bits (seeds of test_qconv_geometries_match_reference) */
    qcfg g = {.nsp = 2, .N = 1, .C = 8, .M = 9, .group = 1, .in = {13, 14}, .k = {3, 3}, .s = {2, 2}, .d = {1, 1},
              .pads = {0, 1, 2, 0}, .act = ERT_ACT_CLIP, .alpha = -0.25f, .beta = 0.5f, .zx = 127, .inv = 80.0f,
              .qmax = 127};
    check_qconv(&g, 102);
}

/* ErtQGemm with ints [z_x, 127]: K off the groups of 4, rows 1 (GEMV), 5 and 33, z_x 0, 64,
 * 127, 1 and 2 threads and the unprepared fallback, against ert_qquantize_q + int64 sums. */
static void test_qgemm_op_7bit_matches_reference(void)
{
    const size_t Rs[3] = {1, 5, 33}, K = 301, N = 70;
    g_qgemm_qmax = 127;
    for (int ri = 0; ri < 3; ri++)
        for (int zi = 0; zi < 3; zi++) {
            size_t R = Rs[ri];
            int zx = zi * 64 - (zi == 2);
            float inv = 60.0f;
            float *x = rnd_f(R * K, 700 + (unsigned)zi, -1.2f, 1.2f), *s = rnd_f(N, 710, 1e-5f, 3e-5f);
            int8_t *w = rnd_w(N * K, 720);
            int32_t *b = rnd_b(N, 730);
            float *want = malloc(R * N * sizeof *want);
            uint8_t *xq = malloc(R * K);
            ert_qquantize_q(x, R * K, inv, (uint8_t)zx, 127, xq);
            for (size_t r = 0; r < R; r++)
                for (size_t o = 0; o < N; o++) {
                    int64_t acc = b[o];
                    for (size_t k = 0; k < K; k++)
                        acc += (int64_t)((int)xq[r * K + k] - zx) * w[o * K + k];
                    want[r * N + o] = epi(acc, s[o], NULL, -INFINITY, INFINITY);
                }
            for (int t = 1; t <= 2; t++) {
                ert_error err;
                uint32_t xin;
                ert_graph *g = qgemm_graph(R, K, N, w, b, s, zx, inv, ERT_ACT_NONE, &xin, &err);
                float *got = run_model(g, x, R * K, t, &err);
                CU_ASSERT_PTR_NOT_NULL_FATAL(got);
                CU_ASSERT(same_bits(got, want, R * N, "ErtQGemm 7-bit vs reference"));
                free(got);
            }
            ert_error err;
            uint32_t xin;
            ert_graph *g = qgemm_graph(R, K, N, w, b, s, zx, inv, ERT_ACT_NONE, &xin, &err);
            ert_node *nd = &g->nodes[0];
            CU_ASSERT_EQUAL_FATAL(nd->def->infer(g, nd, &err), ERT_OK);
            float *yb = malloc(R * N * sizeof *yb);
            g->tensors[xin].data = x;
            g->tensors[nd->out[0]].data = yb;
            ert_ctx ctx = {.threads = 1};
            CU_ASSERT_EQUAL(nd->def->run(&ctx, g, nd, &err), ERT_OK);
            CU_ASSERT(same_bits(yb, want, R * N, "ErtQGemm 7-bit unprepared"));
            g->tensors[xin].data = NULL;
            g->tensors[nd->out[0]].data = NULL;
            ert_graph_free(g);
            free(yb);
            free(x), free(s), free(w), free(b), free(want), free(xq);
        }
    g_qgemm_qmax = 0;
}

/* ---- blob round trip ---- */

static void test_qconv_blob_round_trip_runs(void)
{
    qcfg c = {.nsp = 2, .N = 1, .C = 16, .M = 24, .group = 1, .in = {20, 18}, .k = {3, 3}, .s = {2, 1}, .d = {1, 1},
              .pads = {1, 1, 1, 1}, .bias = true, .act = ERT_ACT_RELU, .zx = 128, .inv = 100.0f};
    qdata d;
    qdata_make(&c, 700, &d);
    float *want = malloc(d.ny * sizeof *want);
    ref_qconv(&c, d.x, d.w, d.b, d.s, NULL, want);
    ert_error err;
    uint32_t node;
    ert_graph *g = qconv_graph(&c, &d, true, &node, &err);
    CU_ASSERT_EQUAL_FATAL(g->nodes[node].def->infer(g, &g->nodes[node], &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    char path[] = "/tmp/ert_qconv_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    ert_status st = ert_blob_write(path, &g, 1, NULL, &err);
    if (st != ERT_OK)
        fprintf(stderr, "\n  write: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    ert_graph_free(g);
    for (int t = 1; t <= 2; t++) {
        ert_model_options opt = {.threads = t};
        ert_model *m = NULL;
        st = ert_model_load(path, &opt, &m, &err);
        if (st != ERT_OK)
            fprintf(stderr, "\n  load: %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
        CU_ASSERT_STRING_EQUAL(ert_model_graph(m, 0)->nodes[0].def->name, "ErtQConv");
        CU_ASSERT_EQUAL(ert_graph_macs(ert_model_graph(m, 0)), 24u * (10 * 18) * (16 * 9)); /* M x out x K */
        memcpy(ert_model_input(m, 0, 0)->data, d.x, d.nx * sizeof(float));
        CU_ASSERT_EQUAL_FATAL(ert_model_run(m, 0, &err), ERT_OK);
        CU_ASSERT(same_bits(ert_model_output(m, 0, 0)->data, want, d.ny, "blob round trip"));
        ert_model_free(m);
    }
    unlink(path);
    free(want);
    qdata_free(&d);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_qconv_geometries_match_reference),
    ERT_TEST(test_qconv_wide_maps_split_in_tiles_match_reference),
    ERT_TEST(test_qconv_stride2_gather_rows_match_reference),
    ERT_TEST(test_qconv_quantizes_ties_nan_inf_like_ert_qquantize),
    ERT_TEST(test_qconv_1x1_quantizes_per_column_block_exactly),
    ERT_TEST(test_qconv_int8_winograd_same_bits_as_direct),
    ERT_TEST(test_qconv_int8_winograd_border_groups_match_direct),
    ERT_TEST(test_qconv_int8_winograd4_same_bits_as_reference_and_direct),
    ERT_TEST(test_qconv_int8_winograd4_refused_beyond_its_bound),
    ERT_TEST(test_qconv_int8_winograd4_keeps_the_planned_scratch),
    ERT_TEST(test_qconv_int8_winograd_default_rule_picks_tile_size),
    ERT_TEST(test_qconv_int8_winograd_fits_smaller_scratch),
    ERT_TEST(test_qconv_int8_winograd_portable_tile_same_bits),
    ERT_TEST(test_qconv_reference_kernel_and_simd_kernel_same_bits),
    ERT_TEST(test_qconv_close_to_fp32_conv_on_dequantized_weights),
    ERT_TEST(test_qgemm_op_matches_reference_and_fp32_gemm),
    ERT_TEST(test_qconv_infer_refusals_name_node_and_problem),
    ERT_TEST(test_qgemm_infer_refusals_name_node),
    ERT_TEST(test_qconv_7bit_activations_match_reference_on_every_path),
    ERT_TEST(test_qgemm_op_7bit_matches_reference),
    ERT_TEST(test_qconv_blob_round_trip_runs),
    ERT_TEST_END,
};

const ert_test_suite ert_suite_ops_qconv = {"ops_qconv", cases};
