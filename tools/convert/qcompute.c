/* int8 compute rewrites (see qcompute.h). */
#include "qcompute.h"

#include "../../runtime/engine/kernels/qconv_wino.h"
#include "../../runtime/engine/kernels/spatial.h"
#include "../../runtime/engine/op.h"
#include "embedrt/qgemm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The accumulator must hold bias + K * 255 * 127 with room: the bias stays within 2^30. */
#define BIAS_MAX 1073741824.0

static bool act_ok(const ert_node *n)
{
    return n->act == ERT_ACT_NONE || n->act == ERT_ACT_RELU || n->act == ERT_ACT_CLIP;
}

/* Gemm/MatMul: the weight as [N, K] (transposed when stored [K, N]). */
static bool linear_shape(const ert_graph *g, const ert_node *n, size_t *N, size_t *K, bool *transposed)
{
    const ert_tensor *x = ert_node_input(g, n, 0), *w = ert_node_input(g, n, 1);
    if (!x || !w || w->shape.rank != 2 || x->shape.rank != 2)
        return false;
    bool is_gemm = strcmp(n->def->name, "Gemm") == 0;
    bool tb = is_gemm && n->n_ints >= 2 && n->ints[1];
    *transposed = !tb;
    *N = (size_t)w->shape.dims[tb ? 0 : 1];
    *K = (size_t)w->shape.dims[tb ? 1 : 0];
    return true;
}

const char *ert_qc_why_not(const ert_graph *g, const ert_node *n)
{
    const char *op = n->def->name;
    bool conv = strcmp(op, "Conv") == 0, gemm = strcmp(op, "Gemm") == 0, mm = strcmp(op, "MatMul") == 0;
    if (!conv && !gemm && !mm)
        return "not a Conv, Gemm or MatMul";
    const ert_tensor *x = ert_node_input(g, n, 0), *w = ert_node_input(g, n, 1);
    if (!x || x->dtype != ERT_DT_F32 || x->is_const)
        return "input is not a float32 activation";
    if (!w || !w->is_const || w->dtype != ERT_DT_F32 || !w->data)
        return "weight is not a float32 constant";
    if (!act_ok(n))
        return "fused activation other than Relu/Clip";
    if (conv) {
        if (w->shape.rank < 3 || n->n_ints <= ERT_SP_INTS)
            return "unexpected Conv parameters";
        int64_t group = n->ints[ERT_SP_INTS];
        size_t k = 1;
        for (int d = 1; d < w->shape.rank; d++)
            k *= (size_t)w->shape.dims[d];
        if (group > 1 && w->shape.dims[1] == 1)
            return "depthwise (stays float32: 9 multiplies per output gain nothing)";
        if (k > ERT_QGEMM_K_MAX)
            return "reduction longer than 65535";
        if (k < 16)
            return "reduction shorter than 16";
        const ert_tensor *b = ert_node_input(g, n, 2);
        if (b && (!b->is_const || b->dtype != ERT_DT_F32))
            return "bias is not a float32 constant";
        const ert_tensor *r = ert_node_input(g, n, 3);
        if (r && r->dtype != ERT_DT_F32)
            return "residual is not float32";
        return NULL;
    }
    size_t N, K;
    bool tr;
    if (!linear_shape(g, n, &N, &K, &tr))
        return "not a 2-D product with a 2-D constant weight";
    if (K > ERT_QGEMM_K_MAX)
        return "reduction longer than 65535";
    if (gemm) {
        if (n->n_ints < 2 || n->ints[0] != 0)
            return "Gemm with transA";
        if (n->n_floats < 2 || n->floats[0] != 1.0f || (ert_node_input(g, n, 2) && n->floats[1] != 1.0f))
            return "Gemm with alpha or beta other than 1";
        const ert_tensor *c = ert_node_input(g, n, 2);
        size_t nc;
        if (c && (!c->is_const || c->dtype != ERT_DT_F32 || !ert_shape_numel(&c->shape, &nc) || nc != N ||
                  c->shape.dims[c->shape.rank - 1] != (int64_t)N))
            return "Gemm bias is not a float32 constant of N values";
    }
    return NULL;
}

/* Which float32 Winograd layers int8 beats. With the exact int8 Winograd F(2x2,3x3) of
 * ErtQConv (runtime/engine/kernels/qconv_wino.c: 3x3 stride-1 2-D, one group, AVX2 kernel)
 * int8 wins on every measured 3x3 stride-1 layer (qconv_bench --cpu-time --threads 1,
 * int8/fp32 op time, medians of 5 alternating rounds, 2-core AMD EPYC, AVX2): 64->64 @56x56
 * 0.69, 128->128 @28x28 0.82, 256->256 @14x14 0.44, 512->512 @7x7 0.31, 80->192 @71x71
 * 0.65, 64->96 / 96->96 @35x35 0.71 / 0.77, 288->512 / 512->512 @35x35 0.53 / 0.63, and
 * with direct int8 (C <= 32, where the int8 Winograd path does not pay): 32->32 / 32->64
 * @147x147 0.57 / 0.62. Before it, direct int8 lost to float32 F(4x4,3x3) above 32 input
 * channels (64->64 @56x56 1.07, 512->512 @35x35 1.09). Float32 stays only where neither
 * int8 path applies well: F(4x4) layers with more than ERT_QWINO_MAX_C input channels (the
 * int8 Winograd sums would not fit int32). The choice is for the x86 host the rule was
 * measured on: Arm kernels have no int8 Winograd path (yet). */
#define QC_WINO_INT8_MAX_C 32

bool ert_qc_float_faster(const ert_graph *g, const ert_node *n)
{
    if (strcmp(n->def->name, "Conv") != 0 || !n->def->prepare_bytes)
        return false;
    size_t prep = n->def->prepare_bytes(g, n);
    const ert_tensor *w = ert_node_input(g, n, 1);
    if (prep == 0 || !w || w->shape.rank != 4 || w->shape.dims[0] < 1 || w->shape.dims[1] < 1)
        return false;
    size_t c = (size_t)w->shape.dims[1], m = (size_t)w->shape.dims[0];
    /* Prepared weights are (tile + 2)^2 transformed positions x C x M floats. */
    size_t pos = prep / (c * m * sizeof(float));
    return c > QC_WINO_INT8_MAX_C && c > ERT_QWINO_MAX_C && pos != 16;
}

/* Per-row int8 weights of W viewed as [N, K] (stored [N, K], or [K, N] when transposed). */
static void quantize_rows(const float *w, size_t N, size_t K, bool transposed, int8_t *q, float *sw)
{
    for (size_t r = 0; r < N; r++) {
        float m = 0;
        for (size_t k = 0; k < K; k++)
            m = fmaxf(m, fabsf(transposed ? w[k * N + r] : w[r * K + k]));
        sw[r] = m > 0 && isfinite(127.0f / m) ? m / 127.0f : 1.0f;
        for (size_t k = 0; k < K; k++) {
            float x = (transposed ? w[k * N + r] : w[r * K + k]) / sw[r];
            q[r * K + k] = (int8_t)(x >= 127.0f ? 127 : x <= -127.0f ? -127 : lrintf(x));
        }
    }
}

ert_status ert_qc_rewrite(ert_graph *g, uint32_t node, const ert_qparams *xp, ert_error *err)
{
    ert_node *n = &g->nodes[node];
    const char *why = ert_qc_why_not(g, n);
    if (why)
        return ert_fail(err, ERT_EINVAL, "quantize: node '%s' (%s) stays float32: %s", n->name, n->def->name, why);
    bool conv = strcmp(n->def->name, "Conv") == 0;
    const ert_op_def *qdef = ert_op_find(conv ? "ErtQConv" : "ErtQGemm");
    if (!qdef)
        return ert_fail(err, ERT_EUNSUPPORTED, "quantize: this embedrt has no %s op",
                        conv ? "ErtQConv" : "ErtQGemm");
    const ert_tensor *w = ert_node_input(g, n, 1);
    size_t N, K;
    bool transposed = false;
    if (conv) {
        N = (size_t)w->shape.dims[0];
        K = 1;
        for (int d = 1; d < w->shape.rank; d++)
            K *= (size_t)w->shape.dims[d];
    } else {
        linear_shape(g, n, &N, &K, &transposed);
    }
    const ert_tensor *b = ert_node_input(g, n, 2);
    int8_t *q = malloc(N * K);
    float *sw = malloc(N * sizeof *sw), *s = malloc(N * sizeof *s);
    int32_t *bq = b ? malloc(N * sizeof *bq) : NULL;
    ert_status st = ERT_OK;
    if (!q || !sw || !s || (b && !bq)) {
        st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory for node '%s'", n->name);
        goto fail;
    }
    quantize_rows(w->data, N, K, transposed, q, sw);
    for (size_t r = 0; r < N; r++) {
        s[r] = xp->scale * sw[r];
        if (!(s[r] > 0) || !isfinite(s[r])) {
            st = ert_fail(err, ERT_EINVAL, "quantize: node '%s': output scale of channel %zu is not finite", n->name,
                          r);
            goto fail;
        }
        if (b) {
            double v = rint((double)((const float *)b->data)[r] / (double)s[r]);
            if (!(fabs(v) <= BIAS_MAX)) {
                st = ert_fail(err, ERT_EINVAL, "quantize: node '%s' stays float32: its bias %g does not fit int32 "
                              "at input scale %g", n->name, (double)((const float *)b->data)[r], (double)xp->scale);
                goto fail;
            }
            bq[r] = (int32_t)v;
        }
    }
    /* New constants, then the node (only once everything is in place). */
    char name[300];
    uint32_t tq, tb = ERT_NO_TENSOR, ts;
    uint32_t n_before = g->n_tensors;
    snprintf(name, sizeof name, "%s.int8", w->name);
    ert_shape wsh = w->shape;
    if (!conv)
        wsh = (ert_shape){2, {(int64_t)N, (int64_t)K}};
    st = ert_graph_add_tensor(g, name, ERT_DT_I8, &wsh, q, false, &tq, err);
    if (st != ERT_OK)
        goto fail;
    q = NULL;
    snprintf(name, sizeof name, "%s.int8_scales", g->tensors[n->in[1]].name);
    ert_shape ssh = {1, {(int64_t)N}};
    if ((st = ert_graph_add_tensor(g, name, ERT_DT_F32, &ssh, s, false, &ts, err)) != ERT_OK)
        goto undo;
    s = NULL;
    if (bq) {
        snprintf(name, sizeof name, "%s.int32", g->tensors[n->in[2]].name);
        if ((st = ert_graph_add_tensor(g, name, ERT_DT_I32, &ssh, bq, false, &tb, err)) != ERT_OK)
            goto undo;
        bq = NULL;
    }
    n = &g->nodes[node];
    uint32_t r_in = conv && n->n_in > 3 ? n->in[3] : ERT_NO_TENSOR;
    uint32_t in[5] = {n->in[0], tq, tb, ts, r_in};
    uint32_t n_in = r_in != ERT_NO_TENSOR ? 5 : 4;
    uint32_t *nin = malloc(n_in * sizeof *nin);
    int64_t *ints = malloc((conv ? n->n_ints + 2 : 2) * sizeof *ints);
    float inv = xp->inv_scale;
    if (!nin || !ints) {
        free(nin);
        free(ints);
        st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory for node '%s'", n->name);
        goto undo;
    }
    memcpy(nin, in, n_in * sizeof *nin);
    uint32_t n_ints = 0;
    if (conv) {
        memcpy(ints, n->ints, n->n_ints * sizeof *ints);
        n_ints = n->n_ints;
    }
    ints[n_ints++] = xp->zero_point;
    if (xp->q_max && xp->q_max != 255) /* 8-bit blobs keep today's params (q_max 255 implied) */
        ints[n_ints++] = xp->q_max;
    ert_node saved = *n;
    n->def = qdef;
    n->in = nin;
    n->n_in = n_in;
    n->ints = NULL;
    n->floats = NULL;
    n->n_ints = n->n_floats = 0;
    st = ert_node_set_params(n, ints, n_ints, &inv, 1, err);
    free(ints);
    if (st == ERT_OK)
        st = n->def->infer(g, n, err);
    if (st != ERT_OK) {
        free(n->in);
        free(n->ints);
        free(n->floats);
        *n = saved;
        ert_error_prefix(err, "quantize: node '%s'", saved.name);
        goto undo;
    }
    free(saved.in);
    free(saved.ints);
    free(saved.floats);
    free(sw);
    return ERT_OK;
undo:
    for (uint32_t t = n_before; t < g->n_tensors; t++) {
        free(g->tensors[t].name);
        free(g->tensors[t].data);
    }
    g->n_tensors = n_before;
fail:
    free(q);
    free(sw);
    free(s);
    free(bq);
    return st;
}
