/* Host-side construction of ert_graph: growable arrays, each piece on the heap. */
#include "embedrt/graph.h"

#include "op.h"

#include <stdlib.h>
#include <string.h>

ert_graph *ert_graph_new(const char *name)
{
    ert_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->heap_owned = true;
    g->name = strdup(name ? name : "");
    if (!g->name) {
        free(g);
        return NULL;
    }
    return g;
}

void ert_graph_free(ert_graph *g)
{
    if (!g || !g->heap_owned)
        return;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].name);
        if (g->tensors[i].is_const)
            free(g->tensors[i].data);
    }
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ert_node *n = &g->nodes[i];
        free(n->name);
        free(n->in);
        free(n->out);
        free(n->ints);
        free(n->floats);
    }
    free(g->tensors);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->name);
    free(g);
}

static void *dup_bytes(const void *src, size_t n, bool *ok)
{
    if (!src || n == 0)
        return NULL;
    void *p = malloc(n);
    if (!p)
        *ok = false;
    else
        memcpy(p, src, n);
    return p;
}

ert_graph *ert_graph_clone(const ert_graph *src)
{
    ert_graph *g = ert_graph_new(src->name);
    if (!g)
        return NULL;
    bool ok = true;
    g->opset = src->opset;
    g->arena_bytes = src->arena_bytes;
    g->scratch_offset = src->scratch_offset;
    g->scratch_bytes = src->scratch_bytes;
    g->tensors = calloc(src->n_tensors ? src->n_tensors : 1, sizeof *g->tensors);
    g->nodes = calloc(src->n_nodes ? src->n_nodes : 1, sizeof *g->nodes);
    ok = g->tensors && g->nodes;
    for (uint32_t i = 0; ok && i < src->n_tensors; i++) {
        const ert_tensor *t = &src->tensors[i];
        ert_tensor *d = &g->tensors[i];
        *d = *t;
        d->name = t->name ? strdup(t->name) : NULL;
        d->data = t->is_const ? dup_bytes(t->data, (size_t)t->nbytes, &ok) : NULL;
        ok = ok && (!t->name || d->name);
        g->n_tensors = i + 1; /* freed on failure */
    }
    g->cap_tensors = g->n_tensors;
    for (uint32_t i = 0; ok && i < src->n_nodes; i++) {
        const ert_node *n = &src->nodes[i];
        ert_node *d = &g->nodes[i];
        *d = *n;
        d->name = n->name ? strdup(n->name) : NULL;
        d->in = dup_bytes(n->in, n->n_in * sizeof *n->in, &ok);
        d->out = dup_bytes(n->out, n->n_out * sizeof *n->out, &ok);
        d->ints = dup_bytes(n->ints, n->n_ints * sizeof *n->ints, &ok);
        d->floats = dup_bytes(n->floats, n->n_floats * sizeof *n->floats, &ok);
        ok = ok && (!n->name || d->name);
        g->n_nodes = i + 1;
    }
    g->cap_nodes = g->n_nodes;
    g->inputs = dup_bytes(src->inputs, src->n_inputs * sizeof *src->inputs, &ok);
    g->outputs = dup_bytes(src->outputs, src->n_outputs * sizeof *src->outputs, &ok);
    g->n_inputs = src->n_inputs;
    g->n_outputs = src->n_outputs;
    if (!ok) {
        ert_graph_free(g);
        return NULL;
    }
    return g;
}

static bool grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > UINT32_MAX / 2)
            return false;
        nc *= 2;
    }
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p)
        return false;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return true;
}

ert_status ert_graph_add_tensor(ert_graph *g, const char *name, ert_dtype dt, const ert_shape *shape, void *data,
                                bool copy_data, uint32_t *id, ert_error *err)
{
    if (g->n_tensors >= ERT_NO_TENSOR - 1 || !grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1,
                                                   sizeof *g->tensors))
        return ert_fail(err, ERT_ENOMEM, "graph: cannot add tensor '%s'", name);
    ert_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name ? name : "");
    if (!t->name)
        return ert_fail(err, ERT_ENOMEM, "graph: out of memory");
    t->dtype = dt;
    if (shape)
        t->shape = *shape;
    else
        t->shape.rank = -1; /* unknown until inferred */
    if (data) {
        size_t nb;
        if (!shape || !ert_shape_bytes(shape, dt, &nb)) {
            free(t->name);
            return ert_fail(err, ERT_EFORMAT, "graph: constant '%s' has an invalid shape or dtype", name);
        }
        t->is_const = true;
        t->nbytes = nb;
        if (copy_data) {
            t->data = malloc(nb ? nb : 1);
            if (!t->data) {
                free(t->name);
                return ert_fail(err, ERT_ENOMEM, "graph: cannot allocate %zu bytes for '%s'", nb, name);
            }
            memcpy(t->data, data, nb);
        } else {
            t->data = data;
        }
    }
    *id = g->n_tensors++;
    return ERT_OK;
}

ert_status ert_graph_add_node(ert_graph *g, const char *name, const char *op_type, const uint32_t *in, uint32_t n_in,
                              const uint32_t *out, uint32_t n_out, uint32_t *node_id, ert_error *err)
{
    const ert_op_def *def = ert_op_find(op_type);
    if (!def)
        return ert_fail(err, ERT_EUNSUPPORTED, "node '%s': unsupported op '%s'", name, op_type);
    for (uint32_t i = 0; i < n_in; i++)
        if (in[i] != ERT_NO_TENSOR && in[i] >= g->n_tensors)
            return ert_fail(err, ERT_EINVAL, "node '%s': input %u refers to no tensor", name, i);
    for (uint32_t i = 0; i < n_out; i++)
        if (out[i] >= g->n_tensors)
            return ert_fail(err, ERT_EINVAL, "node '%s': output %u refers to no tensor", name, i);
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
        return ert_fail(err, ERT_ENOMEM, "graph: cannot add node '%s'", name);
    ert_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->def = def;
    n->name = strdup(name ? name : "");
    n->in = malloc((n_in ? n_in : 1) * sizeof *n->in);
    n->out = malloc((n_out ? n_out : 1) * sizeof *n->out);
    if (!n->name || !n->in || !n->out) {
        free(n->name), free(n->in), free(n->out);
        return ert_fail(err, ERT_ENOMEM, "graph: out of memory");
    }
    if (n_in)
        memcpy(n->in, in, n_in * sizeof *in);
    if (n_out)
        memcpy(n->out, out, n_out * sizeof *out);
    n->n_in = n_in;
    n->n_out = n_out;
    if (node_id)
        *node_id = g->n_nodes;
    g->n_nodes++;
    return ERT_OK;
}

ert_status ert_node_set_params(ert_node *n, const int64_t *ints, uint32_t n_ints, const float *floats,
                               uint32_t n_floats, ert_error *err)
{
    int64_t *ni = NULL;
    float *nf = NULL;
    if (n_ints) {
        ni = malloc(n_ints * sizeof *ni);
        if (!ni)
            return ert_fail(err, ERT_ENOMEM, "graph: out of memory");
        memcpy(ni, ints, n_ints * sizeof *ni);
    }
    if (n_floats) {
        nf = malloc(n_floats * sizeof *nf);
        if (!nf) {
            free(ni);
            return ert_fail(err, ERT_ENOMEM, "graph: out of memory");
        }
        memcpy(nf, floats, n_floats * sizeof *nf);
    }
    free(n->ints);
    free(n->floats);
    n->ints = ni;
    n->n_ints = n_ints;
    n->floats = nf;
    n->n_floats = n_floats;
    return ERT_OK;
}

uint32_t ert_graph_find_tensor(const ert_graph *g, const char *name)
{
    for (uint32_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return i;
    return ERT_NO_TENSOR;
}

ert_status ert_tensor_alloc(ert_tensor *t, ert_error *err)
{
    size_t nb;
    if (!ert_shape_bytes(&t->shape, t->dtype, &nb))
        return ert_fail(err, ERT_EFORMAT, "tensor '%s': invalid shape or dtype", t->name);
    void *p = calloc(1, nb ? nb : 1);
    if (!p)
        return ert_fail(err, ERT_ENOMEM, "tensor '%s': cannot allocate %zu bytes", t->name, nb);
    t->data = p;
    t->nbytes = nb;
    return ERT_OK;
}

ert_status ert_graph_freeze_input(ert_graph *g, uint32_t i, const void *data, ert_error *err)
{
    if (i >= g->n_inputs)
        return ert_fail(err, ERT_EINVAL, "graph: no input %u", i);
    ert_tensor *t = &g->tensors[g->inputs[i]];
    ert_status st = ert_tensor_alloc(t, err);
    if (st != ERT_OK)
        return st;
    if (t->nbytes)
        memcpy(t->data, data, t->nbytes);
    t->is_const = true;
    memmove(&g->inputs[i], &g->inputs[i + 1], (g->n_inputs - i - 1) * sizeof *g->inputs);
    g->n_inputs--;
    return ERT_OK;
}
