/* Converter graph rewrites (rewrite.h). Each pass marks nodes dead and rewires tensor
 * ids; one compaction at the end frees dead nodes and unreferenced tensors. */
#include "rewrite.h"

#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct uses {
    uint32_t *count;    /* live consumers per tensor */
    uint32_t *producer; /* node index per tensor, UINT32_MAX: none */
    bool *graph_out;
} uses;

static ert_status uses_build(const ert_graph *g, const bool *dead, uses *u, ert_error *err)
{
    u->count = calloc(g->n_tensors + 1, sizeof *u->count);
    u->producer = malloc((g->n_tensors + 1) * sizeof *u->producer);
    u->graph_out = calloc(g->n_tensors + 1, sizeof *u->graph_out);
    if (!u->count || !u->producer || !u->graph_out)
        return ert_fail(err, ERT_ENOMEM, "converter: out of memory");
    for (uint32_t t = 0; t < g->n_tensors; t++)
        u->producer[t] = UINT32_MAX;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        if (dead[i])
            continue;
        const ert_node *n = &g->nodes[i];
        for (uint32_t k = 0; k < n->n_in; k++)
            if (n->in[k] != ERT_NO_TENSOR)
                u->count[n->in[k]]++;
        for (uint32_t k = 0; k < n->n_out; k++)
            u->producer[n->out[k]] = i;
    }
    for (uint32_t k = 0; k < g->n_outputs; k++)
        u->graph_out[g->outputs[k]] = true;
    return ERT_OK;
}

static void uses_free(uses *u)
{
    free(u->count), free(u->producer), free(u->graph_out);
    memset(u, 0, sizeof *u);
}

static ert_status pass_fold(ert_graph *g, bool *dead, ert_rewrite_stats *stats, ert_error *err)
{
    static const uint8_t shape_only_dummy[64] __attribute__((aligned(64)));
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ert_node *n = &g->nodes[i];
        bool all_const = true;
        for (uint32_t k = 0; k < n->n_in; k++) {
            ert_tensor *t = ert_node_input(g, n, k);
            if (t && !t->is_const)
                all_const = false;
        }
        ert_tensor *x = ert_node_input(g, n, 0);
        bool shape_only = !all_const && n->def->shape_only && x && x->shape.rank >= 0 && !x->data;
        ert_status st;
        if (all_const || shape_only) {
            if (shape_only)
                x->data = (void *)shape_only_dummy;
            st = ert_node_eval(g, i, err);
            if (shape_only)
                x->data = NULL;
            if (st == ERT_OK) {
                dead[i] = true;
                stats->folded++;
            }
        } else {
            st = n->def->infer(g, n, err);
        }
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

static void replace_uses(ert_graph *g, const bool *dead, uint32_t from, uint32_t to)
{
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        if (dead[i])
            continue;
        ert_node *n = &g->nodes[i];
        for (uint32_t k = 0; k < n->n_in; k++)
            if (n->in[k] == from)
                n->in[k] = to;
    }
}

static ert_status pass_identity(ert_graph *g, bool *dead, ert_rewrite_stats *stats, ert_error *err)
{
    uses u;
    ert_status st = uses_build(g, dead, &u, err);
    for (uint32_t i = 0; i < g->n_nodes && st == ERT_OK; i++) {
        ert_node *n = &g->nodes[i];
        if (dead[i] || (strcmp(n->def->name, "Identity") != 0 && strcmp(n->def->name, "Dropout") != 0))
            continue;
        if (n->n_in < 1 || n->in[0] == ERT_NO_TENSOR || n->n_out < 1 || u.graph_out[n->out[0]])
            continue;
        if (n->n_out > 1 && (u.count[n->out[1]] || u.graph_out[n->out[1]]))
            continue; /* Dropout's mask is used */
        replace_uses(g, dead, n->out[0], n->in[0]);
        dead[i] = true;
        stats->identities++;
    }
    uses_free(&u);
    return st;
}

/* Weights w of the producer scaled per output channel: Conv W is [M, ...] (rows),
 * Gemm B is [N, K] with transB (rows) or [K, N] (columns), MatMul B is [K, N]. */
typedef struct affine_target {
    uint32_t w, b;       /* tensor ids of the weight and the bias (ERT_NO_TENSOR: none) */
    size_t m;            /* output channels */
    bool columns;        /* scale columns of a [K, m] matrix instead of rows of [m, ...] */
    float bias_scale;    /* the bias enters the output multiplied by this (Gemm beta) */
} affine_target;

static bool const_f32(const ert_tensor *t)
{
    return t && t->is_const && t->dtype == ERT_DT_F32;
}

/* Can BN's per-channel affine be folded into producer p? Fills the target. */
static bool bn_target(const ert_graph *g, const ert_node *p, affine_target *t)
{
    const char *op = p->def->name;
    const ert_tensor *w = ert_node_input(g, p, 1), *b = ert_node_input(g, p, 2);
    const ert_tensor *y = ert_node_output(g, p, 0);
    if (p->act != ERT_ACT_NONE || p->n_out != 1 || !const_f32(w) || (b && !const_f32(b)))
        return false;
    t->w = p->in[1];
    t->b = b ? p->in[2] : ERT_NO_TENSOR;
    t->bias_scale = 1.0f;
    t->columns = false;
    if (strcmp(op, "Conv") == 0 && w->shape.rank >= 2) {
        t->m = (size_t)w->shape.dims[0];
        return true;
    }
    if (y->shape.rank != 2 || w->shape.rank != 2)
        return false;
    t->m = (size_t)y->shape.dims[1];
    if (strcmp(op, "Gemm") == 0 && p->n_ints == 2 && p->n_floats == 2 && p->ints[0] == 0) {
        size_t nb;
        /* The bias must be per output column ([m] or [1, m]) to absorb the shift. */
        if (b && (!ert_shape_numel(&b->shape, &nb) || nb != t->m || (b->shape.rank == 2 && b->shape.dims[0] != 1)))
            return false;
        t->columns = p->ints[1] == 0;
        t->bias_scale = p->floats[1];
        return true;
    }
    if (strcmp(op, "MatMul") == 0 && !b) {
        t->columns = true;
        return true;
    }
    return false;
}

static ert_status pass_bn_fold(ert_graph *g, bool *dead, ert_rewrite_stats *stats, ert_error *err)
{
    uses u;
    ert_status st = uses_build(g, dead, &u, err);
    for (uint32_t i = 0; i < g->n_nodes && st == ERT_OK; i++) {
        ert_node *bn = &g->nodes[i];
        if (dead[i] || !bn->def->channel_affine || bn->n_in < 1 || bn->in[0] == ERT_NO_TENSOR)
            continue;
        uint32_t x = bn->in[0], pi = u.producer[x];
        if (pi == UINT32_MAX || u.count[x] != 1 || u.graph_out[x])
            continue;
        ert_node *p = &g->nodes[pi];
        affine_target t;
        if (!bn_target(g, p, &t) || t.m == 0)
            continue;
        const ert_tensor *w = &g->tensors[t.w];
        size_t nw;
        if (!ert_shape_numel(&w->shape, &nw) || nw % t.m)
            continue;
        float *scale = malloc(t.m * sizeof *scale), *shift = malloc(t.m * sizeof *shift);
        float *nwd = malloc(nw * sizeof *nwd), *nbd = malloc(t.m * sizeof *nbd);
        if (!scale || !shift || !nwd || !nbd) {
            free(scale), free(shift), free(nwd), free(nbd);
            st = ert_fail(err, ERT_ENOMEM, "converter: out of memory");
            break;
        }
        if (!bn->def->channel_affine(g, bn, scale, shift, t.m)) {
            free(scale), free(shift), free(nwd), free(nbd);
            continue;
        }
        const float *wd = w->data;
        const float *bd = t.b != ERT_NO_TENSOR ? g->tensors[t.b].data : NULL;
        size_t per = nw / t.m;
        for (size_t k = 0; k < nw; k++)
            nwd[k] = wd[k] * scale[t.columns ? k % t.m : k / per];
        /* y' = s*(W x + beta*b) + o = (s W) x + (s*beta*b + o): the new bias enters with beta 1. */
        for (size_t o = 0; o < t.m; o++)
            nbd[o] = (bd ? bd[o] * t.bias_scale : 0.0f) * scale[o] + shift[o];
        free(scale), free(shift);
        /* New tensors: the originals may be shared with other nodes. */
        char name[600];
        uint32_t wid, bid;
        ert_shape wshape = w->shape, bshape = {.rank = 1, .dims = {(int64_t)t.m}};
        snprintf(name, sizeof name, "%s/weight_bn", p->name);
        st = ert_graph_add_tensor(g, name, ERT_DT_F32, &wshape, nwd, false, &wid, err);
        if (st != ERT_OK) {
            free(nwd), free(nbd);
            break;
        }
        snprintf(name, sizeof name, "%s/bias_bn", p->name);
        st = ert_graph_add_tensor(g, name, ERT_DT_F32, &bshape, nbd, false, &bid, err);
        if (st != ERT_OK) {
            free(nbd);
            break;
        }
        if (p->n_in < 3) {
            uint32_t *nin = realloc(p->in, 3 * sizeof *nin);
            if (!nin) {
                st = ert_fail(err, ERT_ENOMEM, "converter: out of memory");
                break;
            }
            p->in = nin;
            p->n_in = 3;
        }
        if (strcmp(p->def->name, "MatMul") == 0) {
            /* A 2-D MatMul plus bias is a Gemm. */
            const int64_t ints[2] = {0, 0};
            const float floats[2] = {1.0f, 1.0f};
            p->def = ert_op_find("Gemm");
            st = ert_node_set_params(p, ints, 2, floats, 2, err);
        } else if (strcmp(p->def->name, "Gemm") == 0) {
            p->floats[1] = 1.0f;
        }
        if (st != ERT_OK)
            break;
        p->in[1] = wid;
        p->in[2] = bid;
        p->out[0] = bn->out[0];
        dead[i] = true;
        stats->bn_folded++;
        st = p->def->infer(g, p, err);
    }
    uses_free(&u);
    return st;
}

static ert_status pass_act_fuse(ert_graph *g, bool *dead, ert_rewrite_stats *stats, ert_error *err)
{
    uses u;
    ert_status st = uses_build(g, dead, &u, err);
    for (uint32_t i = 0; i < g->n_nodes && st == ERT_OK; i++) {
        ert_node *a = &g->nodes[i];
        ert_act act;
        float alpha = 0, beta = 0;
        if (dead[i] || !a->def->as_act || a->n_in < 1 || a->in[0] == ERT_NO_TENSOR || a->n_out != 1 ||
            !a->def->as_act(g, a, &act, &alpha, &beta))
            continue;
        uint32_t x = a->in[0], pi = u.producer[x];
        if (pi == UINT32_MAX || u.count[x] != 1 || u.graph_out[x] || g->tensors[x].dtype != ERT_DT_F32)
            continue;
        ert_node *p = &g->nodes[pi];
        if (!p->def->fuses_act || p->act != ERT_ACT_NONE || p->n_out != 1)
            continue;
        p->act = act;
        p->act_alpha = alpha;
        p->act_beta = beta;
        p->out[0] = a->out[0];
        dead[i] = true;
        stats->act_fused++;
        st = p->def->infer(g, p, err);
    }
    uses_free(&u);
    return st;
}

static bool same_shape(const ert_tensor *a, const ert_tensor *b)
{
    if (a->shape.rank != b->shape.rank)
        return false;
    for (int d = 0; d < a->shape.rank; d++)
        if (a->shape.dims[d] != b->shape.dims[d])
            return false;
    return true;
}

/* Add(Conv(x), R) with R of the output's shape (a residual connection): the Conv takes R
 * as its fourth input, y = act(conv(x) + B + R), and its GEMM accumulates onto R instead
 * of a separate pass adding it. The fused node runs where the Add ran (R exists by then;
 * the Conv's own inputs existed earlier and nothing else read its output). */
static ert_status pass_residual_fuse(ert_graph *g, bool *dead, ert_rewrite_stats *stats, ert_error *err)
{
    const ert_op_def *add_def = ert_op_find("Add"), *conv_def = ert_op_find("Conv");
    uses u;
    ert_status st = uses_build(g, dead, &u, err);
    for (uint32_t i = 0; i < g->n_nodes && st == ERT_OK; i++) {
        ert_node *a = &g->nodes[i];
        if (dead[i] || a->def != add_def || a->n_in != 2 || a->n_out != 1 || a->n_ints != 0)
            continue;
        for (int side = 0; side < 2; side++) {
            uint32_t c = a->in[side], r = a->in[1 - side];
            if (c == ERT_NO_TENSOR || r == ERT_NO_TENSOR || c == r)
                continue;
            uint32_t pi = u.producer[c];
            if (pi == UINT32_MAX || pi >= i || dead[pi] || u.count[c] != 1 || u.graph_out[c])
                continue;
            ert_node *p = &g->nodes[pi];
            const ert_tensor *ct = &g->tensors[c], *rt = &g->tensors[r], *w = ert_node_input(g, p, 1);
            if (p->def != conv_def || p->n_in > 3 || p->n_out != 1 || p->act != ERT_ACT_NONE || !w ||
                w->shape.rank < 2 || ct->dtype != ERT_DT_F32 || rt->dtype != ERT_DT_F32 || !same_shape(ct, rt))
                continue;
            const ert_tensor *x = ert_node_input(g, p, 0);
            if (!x || x->shape.rank < 2 || (w->shape.dims[1] == 1 && x->shape.dims[1] > 1))
                continue; /* depthwise (group = C, one channel each): its direct kernel takes no residual */
            uint32_t *in = realloc(p->in, 4 * sizeof *in);
            if (!in) {
                st = ert_fail(err, ERT_ENOMEM, "converter: out of memory");
                break;
            }
            for (uint32_t k = p->n_in; k < 3; k++)
                in[k] = ERT_NO_TENSOR;
            in[3] = r;
            p->in = in;
            p->n_in = 4;
            p->out[0] = a->out[0];
            p->act = a->act, p->act_alpha = a->act_alpha, p->act_beta = a->act_beta;
            ert_node add = *a;
            g->nodes[i] = *p; /* the Conv moves into the Add's slot ... */
            g->nodes[pi] = add; /* ... and the Add, now dead, into the Conv's (compact frees it) */
            dead[pi] = true;
            stats->residual_fused++;
            st = g->nodes[i].def->infer(g, &g->nodes[i], err);
            break;
        }
    }
    uses_free(&u);
    return st;
}

static ert_status pass_dead(ert_graph *g, bool *dead, ert_rewrite_stats *stats, ert_error *err)
{
    uses u;
    ert_status st = uses_build(g, dead, &u, err);
    if (st != ERT_OK) {
        uses_free(&u);
        return st;
    }
    for (uint32_t i = g->n_nodes; i-- > 0;) {
        if (dead[i])
            continue;
        ert_node *n = &g->nodes[i];
        bool used = false;
        for (uint32_t k = 0; k < n->n_out; k++)
            if (u.count[n->out[k]] || u.graph_out[n->out[k]])
                used = true;
        if (used)
            continue;
        dead[i] = true;
        stats->dead++;
        for (uint32_t k = 0; k < n->n_in; k++)
            if (n->in[k] != ERT_NO_TENSOR)
                u.count[n->in[k]]--;
    }
    uses_free(&u);
    return ERT_OK;
}

/* Frees dead nodes and tensors nothing references; renumbers tensor ids. */
static ert_status compact(ert_graph *g, const bool *dead, ert_error *err)
{
    uint32_t *remap = malloc((g->n_tensors + 1) * sizeof *remap);
    bool *ref = calloc(g->n_tensors + 1, sizeof *ref);
    if (!remap || !ref) {
        free(remap), free(ref);
        return ert_fail(err, ERT_ENOMEM, "converter: out of memory");
    }
    uint32_t nn = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ert_node *n = &g->nodes[i];
        if (dead[i]) {
            free(n->name), free(n->in), free(n->out), free(n->ints), free(n->floats);
            continue;
        }
        for (uint32_t k = 0; k < n->n_in; k++)
            if (n->in[k] != ERT_NO_TENSOR)
                ref[n->in[k]] = true;
        for (uint32_t k = 0; k < n->n_out; k++)
            ref[n->out[k]] = true;
        g->nodes[nn++] = *n;
    }
    g->n_nodes = nn;
    for (uint32_t k = 0; k < g->n_inputs; k++)
        ref[g->inputs[k]] = true;
    for (uint32_t k = 0; k < g->n_outputs; k++)
        ref[g->outputs[k]] = true;
    for (uint32_t t = 0; t < g->n_tensors; t++)
        if (ref[t] && g->tensors[t].store_int8)
            ref[g->tensors[t].store_scales] = true;
    uint32_t nt = 0;
    for (uint32_t t = 0; t < g->n_tensors; t++) {
        if (!ref[t]) {
            free(g->tensors[t].name);
            if (g->tensors[t].is_const)
                free(g->tensors[t].data);
            remap[t] = ERT_NO_TENSOR;
            continue;
        }
        remap[t] = nt;
        g->tensors[nt++] = g->tensors[t];
    }
    g->n_tensors = nt;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ert_node *n = &g->nodes[i];
        for (uint32_t k = 0; k < n->n_in; k++)
            if (n->in[k] != ERT_NO_TENSOR)
                n->in[k] = remap[n->in[k]];
        for (uint32_t k = 0; k < n->n_out; k++)
            n->out[k] = remap[n->out[k]];
    }
    for (uint32_t t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].store_int8)
            g->tensors[t].store_scales = remap[g->tensors[t].store_scales];
    for (uint32_t k = 0; k < g->n_inputs; k++)
        g->inputs[k] = remap[g->inputs[k]];
    for (uint32_t k = 0; k < g->n_outputs; k++)
        g->outputs[k] = remap[g->outputs[k]];
    free(remap), free(ref);
    return ERT_OK;
}

ert_status ert_graph_prune(ert_graph *g, ert_error *err)
{
    bool *dead = calloc(g->n_nodes + 1, sizeof *dead);
    if (!dead)
        return ert_fail(err, ERT_ENOMEM, "converter: out of memory");
    ert_status st = compact(g, dead, err);
    free(dead);
    return st;
}

ert_status ert_graph_infer(ert_graph *g, ert_error *err)
{
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ert_status st = g->nodes[i].def->infer(g, &g->nodes[i], err);
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

ert_status ert_graph_optimize(ert_graph *g, ert_rewrite_stats *stats, ert_error *err)
{
    ert_rewrite_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    stats->nodes_in = g->n_nodes;
    bool *dead = calloc(g->n_nodes + 1, sizeof *dead);
    if (!dead)
        return ert_fail(err, ERT_ENOMEM, "converter: out of memory");
    ert_status st = pass_fold(g, dead, stats, err);
    if (st == ERT_OK)
        st = pass_identity(g, dead, stats, err);
    if (st == ERT_OK)
        st = pass_bn_fold(g, dead, stats, err);
    if (st == ERT_OK)
        st = pass_act_fuse(g, dead, stats, err);
    if (st == ERT_OK)
        st = pass_residual_fuse(g, dead, stats, err);
    if (st == ERT_OK)
        st = pass_dead(g, dead, stats, err);
    if (st == ERT_OK)
        st = compact(g, dead, err);
    free(dead);
    if (st == ERT_OK)
        st = ert_graph_infer(g, err);
    for (uint32_t k = 0; st == ERT_OK && k < g->n_outputs; k++) {
        const ert_tensor *t = &g->tensors[g->outputs[k]];
        if (t->shape.rank < 0)
            st = ert_fail(err, ERT_EINTERNAL, "converter: output '%s' has no inferred shape", t->name);
    }
    stats->nodes_out = g->n_nodes;
    return st;
}
