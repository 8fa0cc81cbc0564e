/* Op lookup over the kernel tables, ONNX attribute getters, node-named errors. */
#include "op.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ert_op_def *const tables[] = {
    ert_ops_elementwise, ert_ops_binary, ert_ops_reduce, ert_ops_shape, ert_ops_conv, ert_ops_pool, ert_ops_linear,
    ert_ops_qlinear,
};

const ert_op_def *ert_op_find(const char *name)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const ert_op_def *d = tables[t]; d->name; d++)
            if (strcmp(d->name, name) == 0)
                return d;
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *ert_op_list(void)
{
    static char buf[1600];
    if (buf[0])
        return buf;
    const char *names[256];
    size_t n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const ert_op_def *d = tables[t]; d->name && n < 256; d++)
            names[n++] = d->name;
    qsort(names, n, sizeof names[0], cmp_str);
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof buf; i++) {
        int w = snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

ert_status ert_node_fail(ert_error *err, const ert_node *n, ert_status code, const char *fmt, ...)
{
    char msg[ERT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ert_fail(err, code, "node '%s' (%s): %s", n->name, n->def ? n->def->name : "?", msg);
}

static ert_attr *find(ert_attrs *a, const char *name)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->v[i].name, name) == 0) {
            a->v[i].used = true;
            return &a->v[i];
        }
    return NULL;
}

static ert_status wrong_type(const ert_node *n, const char *name, const char *want, ert_error *err)
{
    return ert_node_fail(err, n, ERT_EFORMAT, "attribute '%s' must be %s", name, want);
}

ert_status ert_attr_int(ert_attrs *a, const ert_node *n, const char *name, int64_t def, int64_t *out,
                        ert_error *err)
{
    ert_attr *x = find(a, name);
    if (!x) {
        *out = def;
        return ERT_OK;
    }
    if (x->type != ERT_ATTR_INT)
        return wrong_type(n, name, "an int", err);
    *out = x->i;
    return ERT_OK;
}

ert_status ert_attr_float(ert_attrs *a, const ert_node *n, const char *name, float def, float *out,
                          ert_error *err)
{
    ert_attr *x = find(a, name);
    if (!x) {
        *out = def;
        return ERT_OK;
    }
    if (x->type != ERT_ATTR_FLOAT)
        return wrong_type(n, name, "a float", err);
    *out = x->f;
    return ERT_OK;
}

ert_status ert_attr_string(ert_attrs *a, const ert_node *n, const char *name, const char *def, const char **out,
                           ert_error *err)
{
    ert_attr *x = find(a, name);
    if (!x) {
        *out = def;
        return ERT_OK;
    }
    if (x->type != ERT_ATTR_STRING)
        return wrong_type(n, name, "a string", err);
    *out = x->s;
    return ERT_OK;
}

ert_status ert_attr_ints(ert_attrs *a, const ert_node *n, const char *name, const int64_t **out, size_t *count,
                         ert_error *err)
{
    ert_attr *x = find(a, name);
    *out = NULL;
    *count = 0;
    if (!x)
        return ERT_OK;
    if (x->type != ERT_ATTR_INTS)
        return wrong_type(n, name, "a list of ints", err);
    *out = x->ints;
    *count = x->n;
    return ERT_OK;
}

ert_status ert_attr_floats(ert_attrs *a, const ert_node *n, const char *name, const float **out, size_t *count,
                           ert_error *err)
{
    ert_attr *x = find(a, name);
    *out = NULL;
    *count = 0;
    if (!x)
        return ERT_OK;
    if (x->type != ERT_ATTR_FLOATS)
        return wrong_type(n, name, "a list of floats", err);
    *out = x->floats;
    *count = x->n;
    return ERT_OK;
}

ert_status ert_attr_tensor(ert_attrs *a, const ert_node *n, const char *name, uint32_t *out, ert_error *err)
{
    ert_attr *x = find(a, name);
    *out = ERT_NO_TENSOR;
    if (!x)
        return ERT_OK;
    if (x->type != ERT_ATTR_TENSOR)
        return wrong_type(n, name, "a tensor", err);
    *out = x->t;
    return ERT_OK;
}

void ert_attr_ignore(ert_attrs *a, const char *name)
{
    find(a, name);
}

ert_status ert_node_parse(ert_graph *g, uint32_t node, ert_attrs *attrs, int opset, ert_error *err)
{
    ert_node *n = &g->nodes[node];
    if (n->def->parse) {
        ert_status st = n->def->parse(g, n, attrs, opset, err);
        if (st != ERT_OK)
            return st;
        n = &g->nodes[node]; /* parse may have grown the graph */
    }
    for (size_t i = 0; attrs && i < attrs->n; i++)
        if (!attrs->v[i].used)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "unsupported attribute '%s' (opset %d)", attrs->v[i].name,
                                 opset);
    return ERT_OK;
}

ert_status ert_node_eval(ert_graph *g, uint32_t node, ert_error *err)
{
    ert_node *n = &g->nodes[node];
    for (uint32_t i = 0; i < n->n_in; i++) {
        ert_tensor *t = ert_node_input(g, n, i);
        if (t && !t->data)
            return ert_node_fail(err, n, ERT_EINTERNAL, "input '%s' has no data to evaluate", t->name);
    }
    if (n->act != ERT_ACT_NONE && !n->def->fuses_act)
        return ert_node_fail(err, n, ERT_EFORMAT, "has a fused activation but the op cannot apply one");
    ert_status st = n->def->infer(g, n, err);
    if (st != ERT_OK)
        return st;
    for (uint32_t i = 0; i < n->n_out; i++) {
        ert_tensor *t = ert_node_output(g, n, i);
        if (t->is_const) {
            free(t->data);
            t->data = NULL;
        }
        st = ert_tensor_alloc(t, err);
        if (st != ERT_OK)
            return st;
        t->is_const = true;
    }
    size_t sb = n->def->scratch ? n->def->scratch(g, n) : 0;
    void *scratch = NULL;
    if (sb && posix_memalign(&scratch, 64, sb) != 0)
        return ert_node_fail(err, n, ERT_ENOMEM, "cannot allocate %zu bytes of scratch", sb);
    size_t pb = n->def->prepare_bytes ? n->def->prepare_bytes(g, n) : 0;
    size_t wb = n->def->workspace ? n->def->workspace(g, n) : 0;
    void *prepared = NULL, *ws = NULL;
    if ((pb && posix_memalign(&prepared, 64, pb) != 0) || (wb && posix_memalign(&ws, 64, wb) != 0)) {
        free(scratch), free(prepared);
        return ert_node_fail(err, n, ERT_ENOMEM, "cannot allocate %zu + %zu bytes of prepared data and workspace", pb,
                             wb);
    }
    if (pb)
        n->def->prepare(g, n, prepared);
    ert_ctx ctx = {.scratch = scratch, .scratch_bytes = sb, .threads = 1, .prepared = prepared, .workspace = ws,
                   .workspace_bytes = wb};
    st = n->def->run(&ctx, g, n, err);
    free(scratch), free(prepared), free(ws);
    return st;
}
