/* Weight quantization of the converter (see quantize.h). */
#include "quantize.h"

#include "../../runtime/engine/op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ert_quant_weight_axis(const ert_graph *g, const ert_node *n)
{
    const ert_tensor *w = ert_node_input(g, n, 1);
    if (!w || !w->is_const || w->dtype != ERT_DT_F32 || !w->data)
        return -1;
    const char *op = n->def->name;
    if (strcmp(op, "Conv") == 0)
        return w->shape.rank >= 3 ? 0 : -1;           /* [Cout, Cin/group, k...] */
    if (strcmp(op, "Gemm") == 0)
        return w->shape.rank == 2 ? (n->n_ints >= 2 && n->ints[1] ? 0 : 1) : -1; /* B^T [N,K] or B [K,N] */
    if (strcmp(op, "MatMul") == 0)
        return w->shape.rank == 2 ? 1 : -1;           /* B [K,N] */
    return -1;
}

static bool kept(const char *name, const char *const *keep, size_t n_keep)
{
    for (size_t i = 0; i < n_keep; i++)
        if (strcmp(keep[i], name) == 0)
            return true;
    return false;
}

/* Scales and error statistics of one weight along axis; false on a non-finite value. */
static bool channel_scales(const ert_tensor *w, int axis, float *scales, ert_quant_weight *q)
{
    const float *v = w->data;
    size_t inner = 1, outer = 1, ch = (size_t)w->shape.dims[axis];
    for (int d = axis + 1; d < w->shape.rank; d++)
        inner *= (size_t)w->shape.dims[d];
    for (int d = 0; d < axis; d++)
        outer *= (size_t)w->shape.dims[d];
    for (size_t c = 0; c < ch; c++)
        scales[c] = 0.0f;
    for (size_t o = 0, at = 0; o < outer; o++)
        for (size_t c = 0; c < ch; c++)
            for (size_t j = 0; j < inner; j++, at++) {
                if (!isfinite(v[at]))
                    return false;
                scales[c] = fmaxf(scales[c], fabsf(v[at]));
            }
    for (size_t c = 0; c < ch; c++) {
        scales[c] /= 127.0f;
        /* an all-zero channel (or one so small the scale underflows): any scale stores it
         * exactly as zeros; 1 keeps the reader's "finite and > 0" */
        if (!(scales[c] > 0.0f) || !isfinite(1.0f / scales[c]))
            scales[c] = scales[c] > 0.0f ? scales[c] : 1.0f;
    }
    /* What the loader will see: q * s, q = round_half_even(v / s) in [-127, 127]. */
    double sig = 0, noise = 0;
    float maxe = 0;
    for (size_t o = 0, at = 0; o < outer; o++)
        for (size_t c = 0; c < ch; c++)
            for (size_t j = 0; j < inner; j++, at++) {
                float x = v[at] / scales[c];
                float qv = x >= 127.0f ? 127.0f : x <= -127.0f ? -127.0f : rintf(x);
                float e = fabsf(v[at] - qv * scales[c]);
                sig += (double)v[at] * v[at];
                noise += (double)e * e;
                maxe = fmaxf(maxe, e);
            }
    q->axis = axis;
    q->channels = ch;
    q->elems = outer * ch * inner;
    q->sqnr_db = noise > 0 ? 10.0 * log10(sig / noise) : INFINITY;
    q->max_abs_err = maxe;
    return true;
}

ert_status ert_quant_mark_weights(ert_graph *g, const char *const *keep, size_t n_keep, size_t min_elems,
                                  ert_quant_weights_report *report, ert_error *err)
{
    ert_quant_weights_report r = {0};
    bool *mark = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *mark);
    int *axis_of = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *axis_of);
    uint32_t *node_of = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *node_of);
    uint32_t *sid_of = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *sid_of);
    r.w = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *r.w);
    ert_status st = ERT_OK;
    if (!mark || !axis_of || !node_of || !sid_of || !r.w)
        st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory");
    /* 1. Decide, without touching the graph. */
    for (uint32_t i = 0; st == ERT_OK && i < g->n_nodes; i++) {
        const ert_node *n = &g->nodes[i];
        int axis = ert_quant_weight_axis(g, n);
        if (axis < 0)
            continue;
        uint32_t wid = n->in[1];
        const ert_tensor *w = &g->tensors[wid];
        size_t elems = (size_t)(w->nbytes / 4);
        if (mark[wid])
            continue;
        if (kept(n->name, keep, n_keep) || elems < min_elems || w->store_int8) {
            r.kept++;
            continue;
        }
        mark[wid] = true;
        axis_of[wid] = axis;
        node_of[wid] = i;
    }
    /* A weight shared with a kept node stays float32 for both. */
    for (uint32_t i = 0; st == ERT_OK && i < g->n_nodes; i++) {
        const ert_node *n = &g->nodes[i];
        if (ert_quant_weight_axis(g, n) >= 0 && mark[n->in[1]] && kept(n->name, keep, n_keep)) {
            mark[n->in[1]] = false;
            r.kept++;
        }
    }
    /* 2. Scales into new constants; the weights only get marked once all succeeded. */
    uint32_t n_before = g->n_tensors;
    for (uint32_t t = 0; st == ERT_OK && t < n_before; t++) {
        if (!mark[t])
            continue;
        const ert_tensor *w = &g->tensors[t];
        size_t ch = (size_t)w->shape.dims[axis_of[t]];
        float *scales = malloc(ch * sizeof *scales);
        ert_quant_weight *q = &r.w[r.n];
        if (!scales) {
            st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory");
            break;
        }
        if (!channel_scales(w, axis_of[t], scales, q)) {
            free(scales);
            st = ert_fail(err, ERT_EINVAL, "quantize: weight '%s' of node '%s' holds NaN or infinity", w->name,
                          g->nodes[node_of[t]].name);
            break;
        }
        q->node = node_of[t];
        q->tensor = t;
        char name[300];
        snprintf(name, sizeof name, "%s.scales", w->name);
        ert_shape sh = {1, {(int64_t)ch}};
        uint32_t sid;
        st = ert_graph_add_tensor(g, name, ERT_DT_F32, &sh, scales, false, &sid, err); /* takes scales */
        if (st != ERT_OK) {
            free(scales);
            break;
        }
        g->tensors[sid].is_const = true;
        sid_of[t] = sid;
        r.n++;
    }
    if (st != ERT_OK) {
        /* Drop the scales added so far: they are the last tensors. */
        for (uint32_t t = n_before; t < g->n_tensors; t++) {
            free(g->tensors[t].name);
            free(g->tensors[t].data);
        }
        g->n_tensors = n_before;
        free(r.w);
        r.w = NULL;
    } else {
        for (uint32_t t = 0; t < n_before; t++) {
            ert_tensor *w = &g->tensors[t];
            r.bytes_before += w->is_const ? w->nbytes : 0;
            if (!mark[t])
                continue;
            w->store_int8 = true;
            w->store_axis = axis_of[t];
            w->store_scales = sid_of[t];
        }
        for (uint32_t t = 0; t < g->n_tensors; t++) {
            const ert_tensor *w = &g->tensors[t];
            if (w->is_const)
                r.bytes_after += w->store_int8 ? w->nbytes / 4 : w->nbytes;
        }
    }
    free(mark);
    free(axis_of);
    free(node_of);
    free(sid_of);
    if (report && st == ERT_OK)
        *report = r;
    else
        free(r.w);
    return st;
}

void ert_quant_weights_report_free(ert_quant_weights_report *r)
{
    if (!r)
        return;
    free(r->w);
    r->w = NULL;
    r->n = 0;
}
