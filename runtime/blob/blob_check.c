/* Checks on decoded blobs that need the whole graph: ids, re-inference of every node
 * against the stored shapes, the memory plan; and the preprocessing recipe rules. */
#include "blob_internal.h"

#include "../engine/op.h"
#include "embedrt/plan.h"

#include <math.h>
#include <stdlib.h>

ert_status ert_blob_check_preprocess(const ert_preprocess *p, ert_error *err)
{
    if ((unsigned)p->crop > ERT_CROP_RECT)
        return ert_fail(err, ERT_EFORMAT, "preprocess: unknown crop mode %u", (unsigned)p->crop);
    if ((unsigned)p->filter > ERT_RESIZE_NEAREST)
        return ert_fail(err, ERT_EFORMAT, "preprocess: unknown resize filter %u", (unsigned)p->filter);
    if ((unsigned)p->order > ERT_ORDER_BGR)
        return ert_fail(err, ERT_EFORMAT, "preprocess: unknown channel order %u", (unsigned)p->order);
    if ((unsigned)p->flip > ERT_FLIP_HORIZONTAL)
        return ert_fail(err, ERT_EFORMAT, "preprocess: unknown flip %u", (unsigned)p->flip);
    /* A centre crop without a size (0x0) is the largest centred square. */
    bool largest_square = p->crop == ERT_CROP_CENTER && p->crop_w == 0 && p->crop_h == 0;
    if (p->crop != ERT_CROP_NONE && !largest_square && (p->crop_w == 0 || p->crop_h == 0))
        return ert_fail(err, ERT_EFORMAT, "preprocess: crop of %ux%u pixels is empty", p->crop_w, p->crop_h);
    if ((p->resize_w == 0) != (p->resize_h == 0))
        return ert_fail(err, ERT_EFORMAT, "preprocess: resize to %ux%u needs both sizes or neither", p->resize_w,
                        p->resize_h);
    if (!isfinite(p->scale) || p->scale == 0.0f)
        return ert_fail(err, ERT_EFORMAT, "preprocess: scale %g must be finite and non-zero", (double)p->scale);
    for (int i = 0; i < 3; i++) {
        if (!isfinite(p->mean[i]))
            return ert_fail(err, ERT_EFORMAT, "preprocess: mean[%d] %g must be finite", i, (double)p->mean[i]);
        if (!isfinite(p->std[i]) || p->std[i] == 0.0f)
            return ert_fail(err, ERT_EFORMAT, "preprocess: std[%d] %g must be finite and non-zero", i,
                            (double)p->std[i]);
    }
    return ERT_OK;
}

static ert_status check_graph(ert_graph *g, ert_shape *saved_shape, ert_dtype *saved_dt, ert_error *err)
{
    for (uint32_t s = 0; s < g->n_nodes; s++) {
        const ert_node *n = &g->nodes[s];
        for (uint32_t i = 0; i < n->n_in; i++)
            if (n->in[i] != ERT_NO_TENSOR && n->in[i] >= g->n_tensors)
                return ert_fail(err, ERT_EFORMAT, "node %u '%s': input %u is tensor %u; the graph has %u tensors", s,
                                n->name, i, n->in[i], g->n_tensors);
        for (uint32_t i = 0; i < n->n_out; i++) {
            if (n->out[i] >= g->n_tensors)
                return ert_fail(err, ERT_EFORMAT, "node %u '%s': output %u is tensor %u; the graph has %u tensors", s,
                                n->name, i, n->out[i], g->n_tensors);
            if (g->tensors[n->out[i]].is_const)
                return ert_fail(err, ERT_EFORMAT, "node %u '%s': output %u '%s' is a constant", s, n->name, i,
                                g->tensors[n->out[i]].name);
        }
    }
    /* Shapes were stored by the converter; infer() re-derives them from the inputs
     * and the (hostile) params, and run() may rely only on what infer() checked. */
    for (uint32_t s = 0; s < g->n_nodes; s++) {
        ert_node *n = &g->nodes[s];
        for (uint32_t i = 0; i < n->n_out; i++) {
            saved_shape[i] = g->tensors[n->out[i]].shape;
            saved_dt[i] = g->tensors[n->out[i]].dtype;
        }
        ert_status st = n->def->infer(g, n, err);
        if (st != ERT_OK)
            return st;
        for (uint32_t i = 0; i < n->n_out; i++) {
            const ert_tensor *t = &g->tensors[n->out[i]];
            if (t->dtype != saved_dt[i] || !ert_shape_equal(&t->shape, &saved_shape[i])) {
                char a[96], b[96];
                return ert_node_fail(err, n, ERT_EFORMAT, "output %u '%s' is stored as %s %s but infers as %s %s", i,
                                     t->name, ert_dtype_name(saved_dt[i]),
                                     ert_shape_str(&saved_shape[i], a, sizeof a), ert_dtype_name(t->dtype),
                                     ert_shape_str(&t->shape, b, sizeof b));
            }
        }
    }
    return ert_plan_verify(g, err);
}

ert_status ert_blob_check_graphs(ert_blob *b, ert_error *err)
{
    const uint32_t ng = b->info.n_graphs;
    uint32_t max_out = 1;
    for (uint32_t i = 0; i < ng; i++) {
        const ert_graph *g = &b->graphs[i];
        for (uint32_t s = 0; s < g->n_nodes; s++)
            if (g->nodes[s].n_out > max_out)
                max_out = g->nodes[s].n_out;
        for (uint32_t j = 0; j < i; j++) {
            const ert_blob_graph_info *x = &b->info.graphs[i], *y = &b->info.graphs[j];
            if (strcmp(x->name, y->name) == 0)
                return ert_fail(err, ERT_EFORMAT, "meta: graphs %u and %u are both named '%s'", j, i, x->name);
            if (x->role[0] && strcmp(x->role, y->role) == 0)
                return ert_fail(err, ERT_EFORMAT, "meta: graphs %u and %u both have role '%s'", j, i, x->role);
        }
    }
    ert_shape *shapes = malloc(max_out * sizeof *shapes);
    ert_dtype *dts = malloc(max_out * sizeof *dts);
    ert_status st = ERT_OK;
    if (!shapes || !dts)
        st = ert_fail(err, ERT_ENOMEM, "meta: out of memory");
    for (uint32_t i = 0; st == ERT_OK && i < ng; i++) {
        st = check_graph(&b->graphs[i], shapes, dts, err);
        if (st != ERT_OK)
            ert_error_prefix(err, "meta: graph %u '%s'", i, b->graphs[i].name);
    }
    free(shapes);
    free(dts);
    return st;
}
