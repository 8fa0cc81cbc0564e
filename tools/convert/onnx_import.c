/* ONNX model -> ert_graph: initializers become constants, graph inputs get static
 * shapes, nodes are resolved in the op registry and their attributes parsed. */
#include "onnx_import.h"

#include "onnx_decode.h"
#include "op.h"

#include "embedrt/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- name -> tensor id (open addressing; names are unique per graph) ---- */

typedef struct name_map {
    const char **keys;
    uint32_t *vals;
    size_t cap, n;
} name_map;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool map_grow(name_map *m)
{
    size_t nc = m->cap ? m->cap * 2 : 256;
    const char **k = calloc(nc, sizeof *k);
    uint32_t *v = calloc(nc, sizeof *v);
    if (!k || !v) {
        free(k), free(v);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = hash_str(m->keys[i]) & (nc - 1);
            while (k[j])
                j = (j + 1) & (nc - 1);
            k[j] = m->keys[i];
            v[j] = m->vals[i];
        }
    free(m->keys), free(m->vals);
    m->keys = k, m->vals = v, m->cap = nc;
    return true;
}

static uint32_t map_get(const name_map *m, const char *key)
{
    if (!m->cap)
        return ERT_NO_TENSOR;
    for (size_t j = hash_str(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (strcmp(m->keys[j], key) == 0)
            return m->vals[j];
    return ERT_NO_TENSOR;
}

/* key must outlive the map (tensor names owned by the graph do). */
static bool map_put(name_map *m, const char *key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap && !map_grow(m))
        return false;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) {
            m->vals[j] = val;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return true;
}

static void map_free(name_map *m)
{
    free(m->keys), free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- building ---- */

typedef struct builder {
    const char *label; /* file name for messages */
    bool lenient_shapes; /* shapes naming no input are someone else's (family conversions) */
    const char *dir;   /* model directory for external data, NULL: refuse */
    ert_graph *g;
    name_map names;
    ert_error *err;
    int opset;
} builder;

/* Reads external data for t, confined to the model's directory. *out is malloc'd. */
static ert_status load_external(builder *b, const onnx_tensor *t, void **out)
{
    const char *loc = t->ext_location;
    if (!b->dir)
        return ert_fail(b->err, ERT_EUNSUPPORTED, "%s: tensor '%s' uses external data, not allowed here", b->label,
                        t->name);
    if (loc[0] == '/' || strstr(loc, "..") || strchr(loc, '\\'))
        return ert_fail(b->err, ERT_EFORMAT,
                        "%s: tensor '%s': external data location '%s' leaves the model's folder", b->label, t->name,
                        loc);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", b->dir, loc) >= (int)sizeof path)
        return ert_fail(b->err, ERT_EFORMAT, "%s: tensor '%s': external data path too long", b->label, t->name);
    ert_file_map m;
    ert_status st = ert_file_map_open(path, &m, b->err);
    if (st != ERT_OK)
        return st;
    size_t end;
    if ((uint64_t)t->ext_offset > m.size || !ert_add_size((size_t)t->ext_offset, t->nbytes, &end) || end > m.size) {
        ert_file_map_close(&m);
        return ert_fail(b->err, ERT_EFORMAT, "%s: tensor '%s': external data %lld+%zu exceeds '%s' (%zu bytes)",
                        b->label, t->name, (long long)t->ext_offset, t->nbytes, loc, m.size);
    }
    void *p = malloc(t->nbytes ? t->nbytes : 1);
    if (!p) {
        ert_file_map_close(&m);
        return ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label);
    }
    memcpy(p, m.data + t->ext_offset, t->nbytes);
    ert_file_map_close(&m);
    *out = p;
    return ERT_OK;
}

/* Adds a decoded tensor as a graph constant (one copy out of the file mapping). */
static ert_status add_const(builder *b, const onnx_tensor *t, const char *name, uint32_t *id)
{
    void *data = NULL;
    ert_status st;
    if (t->external) {
        st = load_external(b, t, &data);
        if (st != ERT_OK)
            return st;
    } else {
        data = malloc(t->nbytes ? t->nbytes : 1);
        if (!data)
            return ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label);
        if (t->nbytes)
            memcpy(data, onnx_tensor_bytes(t), t->nbytes);
    }
    st = ert_graph_add_tensor(b->g, name, t->dtype, &t->shape, data, false, id, b->err);
    if (st != ERT_OK) {
        free(data);
        return st;
    }
    return ERT_OK;
}

static ert_status add_inputs(builder *b, const onnx_graph *og, const ert_input_shape *shapes, size_t n_shapes)
{
    bool *used = calloc(n_shapes ? n_shapes : 1, sizeof *used);
    uint32_t *ids = malloc((og->n_inputs ? og->n_inputs : 1) * sizeof *ids);
    if (!used || !ids) {
        free(used), free(ids);
        return ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label);
    }
    uint32_t n = 0;
    ert_status st = ERT_OK;
    for (size_t i = 0; i < og->n_inputs && st == ERT_OK; i++) {
        const onnx_value_info *v = &og->inputs[i];
        const char *name = v->name ? v->name : "";
        if (map_get(&b->names, name) != ERT_NO_TENSOR)
            continue; /* an initializer listed as input (IR < 4): a constant */
        if (!v->is_tensor) {
            st = ert_fail(b->err, ERT_EUNSUPPORTED, "%s: input '%s' is not a tensor (sequence/map/optional)",
                          b->label, name);
            break;
        }
        ert_dtype dt = (ert_dtype)v->elem_type;
        if (!ert_dtype_size(dt)) {
            st = ert_fail(b->err, ERT_EUNSUPPORTED, "%s: input '%s' has data type %d, not supported", b->label, name,
                          v->elem_type);
            break;
        }
        ert_shape shape = {.rank = v->rank};
        const ert_input_shape *ov = NULL;
        for (size_t k = 0; k < n_shapes; k++)
            if (strcmp(shapes[k].name, name) == 0)
                ov = &shapes[k], used[k] = true;
        if (ov) {
            shape = ov->shape;
        } else if (!v->has_shape) {
            st = ert_fail(b->err, ERT_EINVAL, "%s: input '%s' has no shape in the model; pass --input-shape %s=DIMS",
                          b->label, name, name);
            break;
        } else {
            for (int d = 0; d < v->rank; d++) {
                if (v->dims[d] >= 0) {
                    shape.dims[d] = v->dims[d];
                } else if (d == 0) {
                    shape.dims[d] = 1; /* symbolic batch: one frame at a time */
                } else {
                    st = ert_fail(b->err, ERT_EINVAL,
                                  "%s: input '%s' dimension %d is symbolic ('%s'); pass --input-shape %s=DIMS",
                                  b->label, name, d, v->dim_param[d], name);
                    break;
                }
            }
        }
        if (st != ERT_OK)
            break;
        uint32_t id;
        st = ert_graph_add_tensor(b->g, name, dt, &shape, NULL, false, &id, b->err);
        if (st == ERT_OK && !map_put(&b->names, b->g->tensors[id].name, id))
            st = ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label);
        ids[n++] = id;
    }
    for (size_t k = 0; k < n_shapes && st == ERT_OK && !b->lenient_shapes; k++)
        if (!used[k])
            st = ert_fail(b->err, ERT_EINVAL, "%s: --input-shape names '%s', which is not a graph input", b->label,
                          shapes[k].name);
    free(used);
    if (st != ERT_OK) {
        free(ids);
        return st;
    }
    b->g->inputs = ids;
    b->g->n_inputs = n;
    return ERT_OK;
}

/* Converts the decoded attributes of node index ni into ert_attr entries. */
static ert_status make_attrs(builder *b, const onnx_node *on, const char *node_name, ert_attr *out)
{
    for (size_t i = 0; i < on->n_attrs; i++) {
        const onnx_attr *a = &on->attrs[i];
        ert_attr *x = &out[i];
        memset(x, 0, sizeof *x);
        x->name = a->name;
        int type = a->type;
        if (!type) /* IR < 2: the field that is present decides */
            type = a->has_f ? 1 : a->has_i ? 2 : a->has_s ? 3 : a->has_t ? 4 : a->has_floats ? 6 : a->has_ints ? 7
                   : a->n_strings ? 8 : 0;
        if (a->unsupported_tag || (type != 1 && type != 2 && type != 3 && type != 4 && type != 6 && type != 7 &&
                                   type != 8))
            return ert_fail(b->err, ERT_EUNSUPPORTED,
                            "%s: node '%s' (%s, opset %d): attribute '%s' has a type embedrt does not support "
                            "(graph, sparse tensor, type or tensor list)",
                            b->label, node_name, on->op_type, b->opset, a->name);
        x->type = (ert_attr_type)type;
        x->i = a->i;
        x->f = a->f;
        x->s = a->s ? a->s : "";
        x->ints = a->ints;
        x->floats = a->floats;
        x->n = type == 6 ? a->n_floats : type == 7 ? a->n_ints : type == 8 ? a->n_strings : 0;
        x->t = ERT_NO_TENSOR;
        if (type == 4) {
            char tname[700];
            snprintf(tname, sizeof tname, "%s/%s", node_name, a->name);
            ert_status st = add_const(b, &a->t, tname, &x->t);
            if (st != ERT_OK)
                return st;
        }
    }
    return ERT_OK;
}

static ert_status add_nodes(builder *b, const onnx_graph *og)
{
    ert_graph *g = b->g;
    for (size_t ni = 0; ni < og->n_nodes; ni++) {
        const onnx_node *on = &og->nodes[ni];
        char node_name[512];
        if (on->name && on->name[0])
            snprintf(node_name, sizeof node_name, "%s", on->name);
        else
            snprintf(node_name, sizeof node_name, "%s_%zu", on->op_type, ni);
        if (on->domain[0] && strcmp(on->domain, "ai.onnx") != 0)
            return ert_fail(b->err, ERT_EUNSUPPORTED, "%s: node '%s' op '%s' is in domain '%s'; only the default ONNX domain is supported",
                            b->label, node_name, on->op_type, on->domain);
        if (b->opset == 0)
            return ert_fail(b->err, ERT_EFORMAT, "%s: node '%s' (%s) is in the default domain, but the model imports no default-domain opset",
                            b->label, node_name, on->op_type);
        if (!ert_op_find(on->op_type))
            return ert_fail(b->err, ERT_EUNSUPPORTED,
                            "%s: node '%s': op '%s' (opset %d) is not supported; supported ops: %s", b->label,
                            node_name, on->op_type, b->opset, ert_op_list());
        uint32_t *in = malloc((on->n_in + 1) * sizeof *in), *out = malloc((on->n_out + 1) * sizeof *out);
        ert_attr *attrs = calloc(on->n_attrs + 1, sizeof *attrs);
        ert_status st = (!in || !out || !attrs) ? ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label) : ERT_OK;
        for (size_t i = 0; i < on->n_in && st == ERT_OK; i++) {
            if (on->in[i][0] == '\0') {
                in[i] = ERT_NO_TENSOR;
                continue;
            }
            in[i] = map_get(&b->names, on->in[i]);
            if (in[i] == ERT_NO_TENSOR)
                st = ert_fail(b->err, ERT_EFORMAT,
                              "%s: node '%s' reads '%s', which no earlier node, initializer or input produces",
                              b->label, node_name, on->in[i]);
        }
        /* Trailing omitted outputs are dropped; inner ones get a placeholder tensor. */
        uint32_t n_out = (uint32_t)on->n_out;
        while (n_out > 0 && on->out[n_out - 1][0] == '\0')
            n_out--;
        for (uint32_t i = 0; i < n_out && st == ERT_OK; i++) {
            char oname[600];
            const char *nm = on->out[i];
            if (!nm[0]) {
                snprintf(oname, sizeof oname, "%s/unused_output_%u", node_name, i);
                nm = oname;
            } else if (map_get(&b->names, nm) != ERT_NO_TENSOR) {
                st = ert_fail(b->err, ERT_EFORMAT, "%s: node '%s' writes '%s', which already has a producer",
                              b->label, node_name, nm);
                break;
            }
            st = ert_graph_add_tensor(g, nm, ERT_DT_UNDEFINED, NULL, NULL, false, &out[i], b->err);
            if (st == ERT_OK && !map_put(&b->names, g->tensors[out[i]].name, out[i]))
                st = ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label);
        }
        if (st == ERT_OK)
            st = make_attrs(b, on, node_name, attrs);
        uint32_t node_id = 0;
        if (st == ERT_OK)
            st = ert_graph_add_node(g, node_name, on->op_type, in, (uint32_t)on->n_in, out, n_out, &node_id, b->err);
        if (st == ERT_OK) {
            ert_attrs al = {attrs, on->n_attrs};
            st = ert_node_parse(g, node_id, &al, b->opset, b->err);
            if (st != ERT_OK)
                ert_error_prefix(b->err, "%s", b->label);
        }
        free(in), free(out), free(attrs);
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

static ert_status add_outputs(builder *b, const onnx_graph *og)
{
    uint32_t *ids = malloc((og->n_outputs ? og->n_outputs : 1) * sizeof *ids);
    if (!ids)
        return ert_fail(b->err, ERT_ENOMEM, "%s: out of memory", b->label);
    for (size_t i = 0; i < og->n_outputs; i++) {
        const char *name = og->outputs[i].name ? og->outputs[i].name : "";
        ids[i] = map_get(&b->names, name);
        if (ids[i] == ERT_NO_TENSOR) {
            free(ids);
            return ert_fail(b->err, ERT_EFORMAT, "%s: graph output '%s' is produced by nothing", b->label, name);
        }
    }
    if (og->n_outputs == 0) {
        free(ids);
        return ert_fail(b->err, ERT_EFORMAT, "%s: the graph has no outputs", b->label);
    }
    b->g->outputs = ids;
    b->g->n_outputs = (uint32_t)og->n_outputs;
    return ERT_OK;
}

static ert_status import_buffer(const uint8_t *data, size_t len, const char *label, const char *dir,
                                const ert_input_shape *shapes, size_t n_shapes, bool lenient, ert_graph **out,
                                ert_onnx_info *info, ert_error *err)
{
    *out = NULL;
    onnx_dec d = {.err = err};
    ert_status st = onnx_decode_model(&d, data, len);
    if (st != ERT_OK) {
        ert_error_prefix(err, "%s", label);
        onnx_dec_free(&d);
        return st;
    }
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->producer_name, sizeof info->producer_name, "%s", d.producer_name);
        snprintf(info->producer_version, sizeof info->producer_version, "%s", d.producer_version);
        info->ir_version = d.ir_version;
        info->opset = d.opset;
        info->file_size = len;
    }
    builder b = {.label = label, .dir = dir, .err = err, .opset = d.opset, .lenient_shapes = lenient};
    b.g = ert_graph_new(d.graph.name);
    if (!b.g) {
        onnx_dec_free(&d);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", label);
    }
    b.g->opset = d.opset;
    const onnx_graph *og = &d.graph;
    for (size_t i = 0; i < og->n_inits && st == ERT_OK; i++) {
        const onnx_tensor *t = &og->inits[i];
        const char *name = t->name ? t->name : "";
        uint32_t id;
        if (map_get(&b.names, name) != ERT_NO_TENSOR) {
            st = ert_fail(err, ERT_EFORMAT, "%s: initializer '%s' is defined twice", label, name);
            break;
        }
        st = add_const(&b, t, name, &id);
        if (st == ERT_OK && !map_put(&b.names, b.g->tensors[id].name, id))
            st = ert_fail(err, ERT_ENOMEM, "%s: out of memory", label);
    }
    if (st == ERT_OK)
        st = add_inputs(&b, og, shapes, n_shapes);
    if (st == ERT_OK)
        st = add_nodes(&b, og);
    if (st == ERT_OK)
        st = add_outputs(&b, og);
    map_free(&b.names);
    onnx_dec_free(&d);
    if (st != ERT_OK) {
        ert_graph_free(b.g);
        return st;
    }
    *out = b.g;
    return ERT_OK;
}

static ert_status import_file(const char *path, const ert_input_shape *shapes, size_t n_shapes, bool lenient,
                              ert_graph **out, ert_onnx_info *info, ert_error *err)
{
    ert_file_map m;
    ert_status st = ert_file_map_open(path, &m, err);
    if (st != ERT_OK)
        return st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    st = import_buffer(m.data, m.size, path, dir, shapes, n_shapes, lenient, out, info, err);
    ert_file_map_close(&m);
    return st;
}

ert_status ert_onnx_import_mem(const void *data, size_t len, const char *label, const ert_input_shape *shapes,
                               size_t n_shapes, ert_graph **out, ert_onnx_info *info, ert_error *err)
{
    return import_buffer(data, len, label, NULL, shapes, n_shapes, false, out, info, err);
}

ert_status ert_onnx_import(const char *path, const ert_input_shape *shapes, size_t n_shapes, ert_graph **out,
                           ert_onnx_info *info, ert_error *err)
{
    return import_file(path, shapes, n_shapes, false, out, info, err);
}

ert_status ert_onnx_import_some_shapes(const char *path, const ert_input_shape *shapes, size_t n_shapes,
                                       ert_graph **out, ert_onnx_info *info, ert_error *err)
{
    return import_file(path, shapes, n_shapes, true, out, info, err);
}

ert_status ert_onnx_read_tensor(const char *path, ert_dtype *dtype, ert_shape *shape, void **data, char *name,
                                size_t name_cap, ert_error *err)
{
    ert_file_map m;
    ert_status st = ert_file_map_open(path, &m, err);
    if (st != ERT_OK)
        return st;
    onnx_dec d = {.err = err};
    onnx_tensor t;
    st = onnx_decode_tensor(&d, m.data, m.size, &t);
    if (st == ERT_OK && t.external)
        st = ert_fail(err, ERT_EUNSUPPORTED, "external data in a tensor file");
    if (st == ERT_OK) {
        void *p = malloc(t.nbytes ? t.nbytes : 1);
        if (!p) {
            st = ert_fail(err, ERT_ENOMEM, "out of memory");
        } else {
            if (t.nbytes)
                memcpy(p, onnx_tensor_bytes(&t), t.nbytes);
            *data = p;
            *dtype = t.dtype;
            *shape = t.shape;
            if (name && name_cap)
                snprintf(name, name_cap, "%s", t.name ? t.name : "");
        }
    }
    if (st != ERT_OK)
        ert_error_prefix(err, "%s", path);
    onnx_tensor_clear(&t);
    ert_file_map_close(&m);
    return st;
}

ert_status ert_parse_dims(const char *s, ert_shape *shape, ert_error *err)
{
    memset(shape, 0, sizeof *shape);
    const char *p = s;
    if (!*p)
        return ert_fail(err, ERT_EINVAL, "empty shape (expected e.g. 1x3x224x224)");
    while (*p) {
        if (shape->rank == ERT_MAX_RANK)
            return ert_fail(err, ERT_EINVAL, "shape '%s' has more than %d dimensions", s, ERT_MAX_RANK);
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || v > (1ll << 40))
            return ert_fail(err, ERT_EINVAL, "shape '%s': '%s' is not a dimension (expected e.g. 1x3x224x224)", s, p);
        shape->dims[shape->rank++] = v;
        p = end;
        if (*p == 'x' || *p == ',')
            p++;
        else if (*p)
            return ert_fail(err, ERT_EINVAL, "shape '%s': unexpected '%c' (expected e.g. 1x3x224x224)", s, *p);
    }
    return ERT_OK;
}
