/* Decoding of ONNX protobuf with nanopb into plain temporary structures
 * (onnx_decode.h). Raw weights stay views into the caller's buffer: no copy here. */
#include "onnx_decode.h"

#include "onnx.pb.h"

#include <pb_decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 4096      /* tensor/node/graph names */
#define MAX_STRING 65536   /* string attributes */
#define MAX_ITEMS 50000000 /* elements of any repeated field */

/* ---- small helpers ---- */

static bool dfail(onnx_dec *d, ert_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool dfail(onnx_dec *d, ert_status code, const char *fmt, ...)
{
    if (d->err_set)
        return false;
    va_list ap;
    va_start(ap, fmt);
    ert_vfail(d->err, code, fmt, ap);
    va_end(ap);
    d->err_set = true;
    return false;
}

static void *vec_push(onnx_dec *d, void **arr, size_t *n, size_t *cap, size_t elem)
{
    if (*n >= MAX_ITEMS) {
        dfail(d, ERT_ENOMEM, "more than %d items in one list", MAX_ITEMS);
        return NULL;
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        void *p = realloc(*arr, nc * elem);
        if (!p) {
            dfail(d, ERT_ENOMEM, "out of memory");
            return NULL;
        }
        *arr = p;
        *cap = nc;
    }
    void *slot = (char *)*arr + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

/* Reads the whole (sub)stream as a NUL-terminated heap string of at most limit bytes. */
static bool read_string(onnx_dec *d, pb_istream_t *s, char **out, size_t limit, const char *what)
{
    size_t len = s->bytes_left;
    if (len > limit)
        return dfail(d, ERT_EFORMAT, "%s is %zu bytes long (limit %zu)", what, len, limit);
    char *p = malloc(len + 1);
    if (!p)
        return dfail(d, ERT_ENOMEM, "out of memory");
    if (!pb_read(s, (pb_byte_t *)p, len)) {
        free(p);
        return false;
    }
    p[len] = '\0';
    if (memchr(p, '\0', len)) {
        free(p);
        return dfail(d, ERT_EFORMAT, "%s contains a NUL byte", what);
    }
    free(*out);
    *out = p;
    return true;
}

static bool skip_all(pb_istream_t *s)
{
    return pb_read(s, NULL, s->bytes_left);
}

/* A zero-copy view of the rest of s. nanopb hands callbacks of a field sent with a
 * non-length-delimited wire type a copy on its own stack, so the view is only valid
 * when it lies inside the buffer being decoded: hostile wire types are refused. */
static const uint8_t *view_of(onnx_dec *d, pb_istream_t *s, const char *what)
{
    const uint8_t *p = (const uint8_t *)s->state; /* buffer streams keep their position here */
    if (p < d->buf_begin || p > d->buf_end || s->bytes_left > (size_t)(d->buf_end - p)) {
        dfail(d, ERT_EFORMAT, "%s has the wrong wire type", what);
        return NULL;
    }
    return p;
}

typedef struct str_target {
    onnx_dec *d;
    char **dst;
    const char *what;
} str_target;

static bool string_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    str_target *t = *arg;
    return read_string(t->d, s, t->dst, MAX_NAME, t->what);
}

typedef struct strlist_target {
    onnx_dec *d;
    char ***v;
    size_t *n;
    size_t cap;
    const char *what;
} strlist_target;

static bool strlist_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    strlist_target *t = *arg;
    char **slot = vec_push(t->d, (void **)t->v, t->n, &t->cap, sizeof(char *));
    if (!slot)
        return false;
    return read_string(t->d, s, slot, MAX_NAME, t->what);
}

/* ---- TensorProto ---- */

typedef struct tensor_ctx {
    onnx_dec *d;
    onnx_tensor *t;
    int64_t *iv; /* int32_data, int64_data, uint64_data (as bits) */
    size_t n_iv, cap_iv;
    double *dv;  /* float_data, double_data */
    size_t n_dv, cap_dv;
    int which;   /* which typed field delivered values (its tag), 0 none */
    bool bad_mix;
    onnx_StringStringEntryProto ext_entry;
} tensor_ctx;

static bool dims_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    tensor_ctx *c = *arg;
    uint64_t v;
    if (!pb_decode_varint(s, &v))
        return false;
    if (c->t->shape.rank >= ERT_MAX_RANK)
        return dfail(c->d, ERT_EUNSUPPORTED, "tensor has more than %d dimensions", ERT_MAX_RANK);
    if ((int64_t)v < 0)
        return dfail(c->d, ERT_EFORMAT, "tensor dimension %d is negative (%lld)", c->t->shape.rank,
                     (long long)(int64_t)v);
    c->t->shape.dims[c->t->shape.rank++] = (int64_t)v;
    return true;
}

static bool note_field(tensor_ctx *c, int tag)
{
    if (c->which && c->which != tag)
        c->bad_mix = true;
    c->which = tag;
    return true;
}

static bool float_data_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    tensor_ctx *c = *arg;
    note_field(c, f->tag);
    float v;
    if (!pb_decode_fixed32(s, &v))
        return false;
    double *slot = vec_push(c->d, (void **)&c->dv, &c->n_dv, &c->cap_dv, sizeof(double));
    if (!slot)
        return false;
    *slot = v;
    return true;
}

static bool double_data_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    tensor_ctx *c = *arg;
    note_field(c, f->tag);
    double v;
    if (!pb_decode_fixed64(s, &v))
        return false;
    double *slot = vec_push(c->d, (void **)&c->dv, &c->n_dv, &c->cap_dv, sizeof(double));
    if (!slot)
        return false;
    *slot = v;
    return true;
}

static bool int_data_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    tensor_ctx *c = *arg;
    note_field(c, f->tag);
    uint64_t v;
    if (!pb_decode_varint(s, &v))
        return false;
    int64_t *slot = vec_push(c->d, (void **)&c->iv, &c->n_iv, &c->cap_iv, sizeof(int64_t));
    if (!slot)
        return false;
    /* int32_data holds sign-extended varints of int32/int16/int8/uint8/bool/fp16 values. */
    *slot = (int64_t)v;
    return true;
}

static bool raw_data_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    tensor_ctx *c = *arg;
    note_field(c, f->tag);
    /* A zero-copy view of the bytes; unaligned, so every consumer memcpy's them. */
    c->t->raw = view_of(c->d, s, "raw_data");
    if (!c->t->raw)
        return false;
    c->t->raw_len = s->bytes_left;
    c->t->has_raw = true;
    return skip_all(s);
}

static bool unsupported_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    tensor_ctx *c = *arg;
    c->t->unsupported_field = f->tag;
    return skip_all(s);
}

static bool ext_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    tensor_ctx *c = *arg;
    onnx_StringStringEntryProto e = onnx_StringStringEntryProto_init_zero;
    if (!pb_decode(s, onnx_StringStringEntryProto_fields, &e))
        return false;
    if (strcmp(e.key, "location") == 0) {
        free(c->t->ext_location);
        c->t->ext_location = strdup(e.value);
        if (!c->t->ext_location)
            return dfail(c->d, ERT_ENOMEM, "out of memory");
    } else if (strcmp(e.key, "offset") == 0 || strcmp(e.key, "length") == 0) {
        char *end;
        long long v = strtoll(e.value, &end, 10);
        if (*e.value == '\0' || *end != '\0' || v < 0)
            return dfail(c->d, ERT_EFORMAT, "external_data %s '%s' is not a non-negative integer", e.key, e.value);
        if (e.key[0] == 'o')
            c->t->ext_offset = v;
        else
            c->t->ext_length = v, c->t->has_ext_length = true;
    }
    return true;
}

static bool finish_tensor(tensor_ctx *c, const onnx_TensorProto *tp)
{
    onnx_tensor *t = c->t;
    const char *nm = t->name ? t->name : "(unnamed)";
    t->onnx_dtype = tp->has_data_type ? tp->data_type : 0;
    t->dtype = (ert_dtype)t->onnx_dtype;
    size_t es = ert_dtype_size(t->dtype);
    if (t->unsupported_field)
        return dfail(c->d, ERT_EUNSUPPORTED, "tensor '%s': field %d (segment or string data) is not supported", nm,
                     t->unsupported_field);
    if (!es)
        return dfail(c->d, ERT_EUNSUPPORTED, "tensor '%s': data type %d is not supported (float32, float64, int64, int32, int8, uint8, bool are)",
                     nm, t->onnx_dtype);
    if (c->bad_mix)
        return dfail(c->d, ERT_EFORMAT, "tensor '%s': values in more than one data field", nm);
    size_t numel, bytes;
    if (!ert_shape_numel(&t->shape, &numel) || !ert_mul_size(numel, es, &bytes))
        return dfail(c->d, ERT_EFORMAT, "tensor '%s': element count overflows", nm);
    t->nbytes = bytes;
    if (tp->has_data_location && tp->data_location == onnx_TensorProto_DataLocation_EXTERNAL) {
        t->external = true;
        if (!t->ext_location)
            return dfail(c->d, ERT_EFORMAT, "tensor '%s': external data without a location", nm);
        if (t->has_ext_length && (uint64_t)t->ext_length != bytes)
            return dfail(c->d, ERT_EFORMAT, "tensor '%s': external length %lld, expected %zu bytes", nm,
                         (long long)t->ext_length, bytes);
        return true;
    }
    if (t->has_raw) {
        if (t->raw_len != bytes)
            return dfail(c->d, ERT_EFORMAT, "tensor '%s': raw_data has %zu bytes, shape and type need %zu", nm,
                         t->raw_len, bytes);
        return true;
    }
    size_t have = c->which == onnx_TensorProto_float_data_tag || c->which == onnx_TensorProto_double_data_tag
                      ? c->n_dv
                      : c->n_iv;
    if (have != numel)
        return dfail(c->d, ERT_EFORMAT, "tensor '%s': %zu values for %zu elements", nm, have, numel);
    /* Typed fields must match the declared type (ONNX rules per field). */
    bool ok;
    switch (c->which) {
    case 0: ok = numel == 0; break;
    case onnx_TensorProto_float_data_tag: ok = t->dtype == ERT_DT_F32; break;
    case onnx_TensorProto_double_data_tag: ok = t->dtype == ERT_DT_F64; break;
    case onnx_TensorProto_int64_data_tag: ok = t->dtype == ERT_DT_I64; break;
    case onnx_TensorProto_int32_data_tag:
        ok = t->dtype == ERT_DT_I32 || t->dtype == ERT_DT_I8 || t->dtype == ERT_DT_U8 || t->dtype == ERT_DT_BOOL;
        break;
    default: ok = false; break;
    }
    if (!ok)
        return dfail(c->d, ERT_EFORMAT, "tensor '%s': values in field %d do not fit data type %s", nm, c->which,
                     ert_dtype_name(t->dtype));
    t->owned = malloc(bytes ? bytes : 1);
    if (!t->owned)
        return dfail(c->d, ERT_ENOMEM, "tensor '%s': out of memory", nm);
    for (size_t i = 0; i < numel; i++) {
        switch (t->dtype) {
        case ERT_DT_F32: ((float *)t->owned)[i] = (float)c->dv[i]; break;
        case ERT_DT_F64: ((double *)t->owned)[i] = c->dv[i]; break;
        case ERT_DT_I64: ((int64_t *)t->owned)[i] = c->iv[i]; break;
        case ERT_DT_I32: ((int32_t *)t->owned)[i] = (int32_t)c->iv[i]; break;
        case ERT_DT_I8: ((int8_t *)t->owned)[i] = (int8_t)c->iv[i]; break;
        case ERT_DT_U8: ((uint8_t *)t->owned)[i] = (uint8_t)c->iv[i]; break;
        case ERT_DT_BOOL: ((uint8_t *)t->owned)[i] = c->iv[i] != 0; break;
        default: break;
        }
    }
    return true;
}

/* Decodes a TensorProto from s into t (zeroed by the caller). */
static bool decode_tensor(onnx_dec *d, pb_istream_t *s, onnx_tensor *t)
{
    tensor_ctx c = {.d = d, .t = t};
    str_target name = {d, &t->name, "tensor name"};
    onnx_TensorProto tp = onnx_TensorProto_init_zero;
    tp.dims.funcs.decode = dims_cb, tp.dims.arg = &c;
    tp.float_data.funcs.decode = float_data_cb, tp.float_data.arg = &c;
    tp.double_data.funcs.decode = double_data_cb, tp.double_data.arg = &c;
    tp.int32_data.funcs.decode = int_data_cb, tp.int32_data.arg = &c;
    tp.int64_data.funcs.decode = int_data_cb, tp.int64_data.arg = &c;
    tp.uint64_data.funcs.decode = unsupported_cb, tp.uint64_data.arg = &c;
    tp.string_data.funcs.decode = unsupported_cb, tp.string_data.arg = &c;
    tp.segment.funcs.decode = unsupported_cb, tp.segment.arg = &c;
    tp.raw_data.funcs.decode = raw_data_cb, tp.raw_data.arg = &c;
    tp.external_data.funcs.decode = ext_cb, tp.external_data.arg = &c;
    tp.name.funcs.decode = string_cb, tp.name.arg = &name;
    bool ok = pb_decode(s, onnx_TensorProto_fields, &tp) && finish_tensor(&c, &tp);
    free(c.iv);
    free(c.dv);
    return ok;
}

void onnx_tensor_clear(onnx_tensor *t)
{
    free(t->name);
    free(t->owned);
    free(t->ext_location);
    memset(t, 0, sizeof *t);
}

const void *onnx_tensor_bytes(const onnx_tensor *t)
{
    return t->owned ? t->owned : t->raw;
}

/* ---- AttributeProto ---- */

typedef struct attr_ctx {
    onnx_dec *d;
    onnx_attr *a;
    size_t cap_f, cap_i;
} attr_ctx;

static bool attr_s_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    attr_ctx *c = *arg;
    c->a->has_s = true;
    return read_string(c->d, s, &c->a->s, MAX_STRING, "string attribute");
}

static bool attr_t_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    attr_ctx *c = *arg;
    onnx_tensor_clear(&c->a->t);
    c->a->has_t = true;
    return decode_tensor(c->d, s, &c->a->t);
}

static bool attr_floats_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    attr_ctx *c = *arg;
    float v;
    if (!pb_decode_fixed32(s, &v))
        return false;
    float *slot = vec_push(c->d, (void **)&c->a->floats, &c->a->n_floats, &c->cap_f, sizeof(float));
    if (!slot)
        return false;
    *slot = v;
    c->a->has_floats = true;
    return true;
}

static bool attr_ints_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    attr_ctx *c = *arg;
    uint64_t v;
    if (!pb_decode_varint(s, &v))
        return false;
    int64_t *slot = vec_push(c->d, (void **)&c->a->ints, &c->a->n_ints, &c->cap_i, sizeof(int64_t));
    if (!slot)
        return false;
    *slot = (int64_t)v;
    c->a->has_ints = true;
    return true;
}

static bool attr_strings_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    attr_ctx *c = *arg;
    c->a->n_strings++;
    return skip_all(s);
}

static bool attr_unsupported_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    attr_ctx *c = *arg;
    c->a->unsupported_tag = f->tag;
    return skip_all(s);
}

typedef struct node_ctx {
    onnx_dec *d;
    onnx_node *n;
    size_t cap_attrs;
} node_ctx;

static bool attr_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    node_ctx *nc = *arg;
    onnx_attr *a = vec_push(nc->d, (void **)&nc->n->attrs, &nc->n->n_attrs, &nc->cap_attrs, sizeof *a);
    if (!a)
        return false;
    attr_ctx c = {.d = nc->d, .a = a};
    onnx_AttributeProto ap = onnx_AttributeProto_init_zero;
    ap.s.funcs.decode = attr_s_cb, ap.s.arg = &c;
    ap.t.funcs.decode = attr_t_cb, ap.t.arg = &c;
    ap.floats.funcs.decode = attr_floats_cb, ap.floats.arg = &c;
    ap.ints.funcs.decode = attr_ints_cb, ap.ints.arg = &c;
    ap.strings.funcs.decode = attr_strings_cb, ap.strings.arg = &c;
    pb_callback_t *unsup[] = {&ap.g, &ap.graphs, &ap.tensors, &ap.tp, &ap.type_protos, &ap.sparse_tensor,
                              &ap.sparse_tensors, &ap.ref_attr_name};
    for (size_t i = 0; i < sizeof unsup / sizeof unsup[0]; i++)
        unsup[i]->funcs.decode = attr_unsupported_cb, unsup[i]->arg = &c;
    if (!pb_decode(s, onnx_AttributeProto_fields, &ap))
        return false;
    snprintf(a->name, sizeof a->name, "%s", ap.name);
    a->has_f = ap.has_f, a->f = ap.f;
    a->has_i = ap.has_i, a->i = ap.i;
    a->type = ap.has_type ? (int)ap.type : 0;
    return true;
}

/* ---- NodeProto ---- */

static bool node_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    onnx_dec *d = *arg;
    onnx_graph *g = &d->graph;
    onnx_node *n = vec_push(d, (void **)&g->nodes, &g->n_nodes, &g->cap_nodes, sizeof *n);
    if (!n)
        return false;
    node_ctx nc = {.d = d, .n = n};
    strlist_target in = {d, &n->in, &n->n_in, 0, "node input name"};
    strlist_target out = {d, &n->out, &n->n_out, 0, "node output name"};
    str_target name = {d, &n->name, "node name"};
    onnx_NodeProto np = onnx_NodeProto_init_zero;
    np.input.funcs.decode = strlist_cb, np.input.arg = &in;
    np.output.funcs.decode = strlist_cb, np.output.arg = &out;
    np.name.funcs.decode = string_cb, np.name.arg = &name;
    np.attribute.funcs.decode = attr_cb, np.attribute.arg = &nc;
    if (!pb_decode(s, onnx_NodeProto_fields, &np))
        return false;
    snprintf(n->op_type, sizeof n->op_type, "%s", np.op_type);
    snprintf(n->domain, sizeof n->domain, "%s", np.domain);
    return true;
}

/* ---- ValueInfoProto ---- */

typedef struct vi_ctx {
    onnx_dec *d;
    onnx_value_info *v;
} vi_ctx;

static bool dim_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    vi_ctx *c = *arg;
    onnx_TensorShapeProto_Dimension dim = onnx_TensorShapeProto_Dimension_init_zero;
    if (!pb_decode(s, onnx_TensorShapeProto_Dimension_fields, &dim))
        return false;
    onnx_value_info *v = c->v;
    if (v->rank >= ERT_MAX_RANK)
        return dfail(c->d, ERT_EUNSUPPORTED, "value '%s' has more than %d dimensions", v->name ? v->name : "?",
                     ERT_MAX_RANK);
    int i = v->rank++;
    if (dim.which_value == onnx_TensorShapeProto_Dimension_dim_value_tag && dim.value.dim_value >= 0) {
        v->dims[i] = dim.value.dim_value;
    } else {
        v->dims[i] = -1;
        snprintf(v->dim_param[i], sizeof v->dim_param[i], "%s",
                 dim.which_value == onnx_TensorShapeProto_Dimension_dim_param_tag ? dim.value.dim_param : "?");
    }
    return true;
}

static bool vi_type_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    vi_ctx *c = *arg;
    /* TypeProto is a oneof; decode it by hand so the tensor member's shape callback
     * survives (nanopb clears oneof members before decoding them). */
    while (s->bytes_left) {
        pb_wire_type_t wt;
        uint32_t tag;
        bool eof;
        if (!pb_decode_tag(s, &wt, &tag, &eof))
            return eof;
        if (tag == onnx_TypeProto_tensor_type_tag && wt == PB_WT_STRING) {
            onnx_TypeProto_Tensor tt = onnx_TypeProto_Tensor_init_zero;
            tt.shape.dim.funcs.decode = dim_cb, tt.shape.dim.arg = c;
            pb_istream_t sub;
            if (!pb_make_string_substream(s, &sub))
                return false;
            c->v->rank = 0;
            bool ok = pb_decode(&sub, onnx_TypeProto_Tensor_fields, &tt);
            if (!pb_close_string_substream(s, &sub) || !ok)
                return false;
            c->v->is_tensor = true;
            c->v->elem_type = tt.has_elem_type ? tt.elem_type : 0;
            c->v->has_shape = tt.has_shape;
        } else {
            if (tag != 6) /* TypeProto.denotation: a label, not a type */
                c->v->is_tensor = false, c->v->non_tensor = true;
            if (!pb_skip_field(s, wt))
                return false;
        }
    }
    return true;
}

typedef struct vilist_target {
    onnx_dec *d;
    onnx_value_info **v;
    size_t *n;
    size_t cap;
} vilist_target;

static bool vi_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    vilist_target *t = *arg;
    onnx_value_info *v = vec_push(t->d, (void **)t->v, t->n, &t->cap, sizeof *v);
    if (!v)
        return false;
    vi_ctx c = {t->d, v};
    str_target name = {t->d, &v->name, "value name"};
    onnx_ValueInfoProto vp = onnx_ValueInfoProto_init_zero;
    vp.name.funcs.decode = string_cb, vp.name.arg = &name;
    vp.type.funcs.decode = vi_type_cb, vp.type.arg = &c;
    return pb_decode(s, onnx_ValueInfoProto_fields, &vp);
}

/* ---- GraphProto and ModelProto ---- */

static bool init_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    onnx_dec *d = *arg;
    onnx_graph *g = &d->graph;
    onnx_tensor *t = vec_push(d, (void **)&g->inits, &g->n_inits, &g->cap_inits, sizeof *t);
    return t && decode_tensor(d, s, t);
}

static bool sparse_init_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    onnx_dec *d = *arg;
    (void)s;
    return dfail(d, ERT_EUNSUPPORTED, "sparse initializers are not supported");
}

static bool graph_ref_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    onnx_dec *d = *arg;
    d->graph_bytes = view_of(d, s, "graph");
    if (!d->graph_bytes)
        return false;
    d->graph_len = s->bytes_left;
    d->has_graph = true;
    return skip_all(s);
}

static bool opset_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    onnx_dec *d = *arg;
    onnx_OperatorSetIdProto op = onnx_OperatorSetIdProto_init_zero;
    if (!pb_decode(s, onnx_OperatorSetIdProto_fields, &op))
        return false;
    if (op.domain[0] == '\0' || strcmp(op.domain, "ai.onnx") == 0) {
        if (op.version < 1 || op.version > 1000)
            return dfail(d, ERT_EFORMAT, "opset version %lld is out of range", (long long)op.version);
        d->opset = (int)op.version;
    }
    return true;
}

typedef struct fixed_str {
    char *buf;
    size_t cap;
} fixed_str;

static bool fixed_str_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    fixed_str *t = *arg;
    size_t len = s->bytes_left, take = len < t->cap - 1 ? len : t->cap - 1;
    if (!pb_read(s, (pb_byte_t *)t->buf, take))
        return false;
    t->buf[take] = '\0';
    return skip_all(s);
}

static ert_status finish(onnx_dec *d, bool ok, pb_istream_t *s, const char *what)
{
    if (ok)
        return ERT_OK;
    if (!d->err_set)
        ert_fail(d->err, ERT_EFORMAT, "not a valid %s (%s)", what, PB_GET_ERROR(s));
    return d->err->code;
}

ert_status onnx_decode_model(onnx_dec *d, const uint8_t *data, size_t len)
{
    /* Protobuf writers emit fields in number order, so the graph (7) precedes the
     * opset (8) that its nodes need: pass 1 finds both, pass 2 decodes the graph. */
    fixed_str pn = {d->producer_name, sizeof d->producer_name}, pv = {d->producer_version, sizeof d->producer_version};
    onnx_ModelProto mp = onnx_ModelProto_init_zero;
    mp.graph.funcs.decode = graph_ref_cb, mp.graph.arg = d;
    mp.opset_import.funcs.decode = opset_cb, mp.opset_import.arg = d;
    mp.producer_name.funcs.decode = fixed_str_cb, mp.producer_name.arg = &pn;
    mp.producer_version.funcs.decode = fixed_str_cb, mp.producer_version.arg = &pv;
    d->buf_begin = data;
    d->buf_end = data + len;
    pb_istream_t s = pb_istream_from_buffer(data, len);
    ert_status st = finish(d, pb_decode(&s, onnx_ModelProto_fields, &mp), &s, "ONNX model");
    if (st != ERT_OK)
        return st;
    d->ir_version = mp.has_ir_version ? mp.ir_version : 0;
    if (!d->has_graph)
        return ert_fail(d->err, ERT_EFORMAT, "not an ONNX model: no graph");
    if (!d->opset && d->ir_version < 3)
        d->opset = 1; /* IR < 3 predates opset_import */
    /* Still 0: no default-domain opset; only nodes of other domains can follow. */
    onnx_graph *g = &d->graph;
    str_target gname = {d, &g->name, "graph name"};
    vilist_target in = {d, &g->inputs, &g->n_inputs, 0}, out = {d, &g->outputs, &g->n_outputs, 0};
    onnx_GraphProto gp = onnx_GraphProto_init_zero;
    gp.node.funcs.decode = node_cb, gp.node.arg = d;
    gp.name.funcs.decode = string_cb, gp.name.arg = &gname;
    gp.initializer.funcs.decode = init_cb, gp.initializer.arg = d;
    gp.sparse_initializer.funcs.decode = sparse_init_cb, gp.sparse_initializer.arg = d;
    gp.input.funcs.decode = vi_cb, gp.input.arg = &in;
    gp.output.funcs.decode = vi_cb, gp.output.arg = &out;
    s = pb_istream_from_buffer(d->graph_bytes, d->graph_len);
    return finish(d, pb_decode(&s, onnx_GraphProto_fields, &gp), &s, "ONNX graph");
}

ert_status onnx_decode_tensor(onnx_dec *d, const uint8_t *data, size_t len, onnx_tensor *t)
{
    memset(t, 0, sizeof *t);
    d->buf_begin = data;
    d->buf_end = data + len;
    pb_istream_t s = pb_istream_from_buffer(data, len);
    return finish(d, decode_tensor(d, &s, t), &s, "TensorProto");
}

void onnx_dec_free(onnx_dec *d)
{
    onnx_graph *g = &d->graph;
    for (size_t i = 0; i < g->n_nodes; i++) {
        onnx_node *n = &g->nodes[i];
        for (size_t j = 0; j < n->n_in; j++)
            free(n->in[j]);
        for (size_t j = 0; j < n->n_out; j++)
            free(n->out[j]);
        for (size_t j = 0; j < n->n_attrs; j++) {
            onnx_attr *a = &n->attrs[j];
            free(a->s);
            free(a->floats);
            free(a->ints);
            onnx_tensor_clear(&a->t);
        }
        free(n->in);
        free(n->out);
        free(n->attrs);
        free(n->name);
    }
    for (size_t i = 0; i < g->n_inits; i++)
        onnx_tensor_clear(&g->inits[i]);
    for (size_t i = 0; i < g->n_inputs; i++)
        free(g->inputs[i].name);
    for (size_t i = 0; i < g->n_outputs; i++)
        free(g->outputs[i].name);
    free(g->nodes);
    free(g->inits);
    free(g->inputs);
    free(g->outputs);
    free(g->name);
    memset(g, 0, sizeof *g);
}
