/* Blob writing for the converter: lays out the weights, encodes BlobMeta with nanopb
 * callbacks, builds header + section table + sections, and replaces the file atomically. */
#include "blob_internal.h"

#include <math.h>

#include "embedrt/compress.h"
#include "embedrt/v1/blob.pb.h"
#include "embedrt/version.h"
#include "../engine/op.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- checks: only what encoding needs; the reader is the gate for everything else ---- */

static ert_status check_len(const char *what, const char *s, size_t max, ert_error *err)
{
    size_t n = strlen(str_or_empty(s));
    if (n > max)
        return ert_fail(err, ERT_EINVAL, "%s is %zu bytes long; the blob format allows %zu", what, n, max);
    return ERT_OK;
}

static ert_status check_graph(const ert_graph *g, uint32_t gi, ert_error *err)
{
    char what[96];
    snprintf(what, sizeof what, "graph %u name", gi);
    ert_status st = check_len(what, g->name, ERT_BLOB_MAX_GRAPH_NAME, err);
    for (uint32_t i = 0; st == ERT_OK && i < g->n_tensors; i++) {
        const ert_tensor *t = &g->tensors[i];
        snprintf(what, sizeof what, "graph %u tensor %u name", gi, i);
        st = check_len(what, t->name, ERT_BLOB_MAX_NAME, err);
        if (st != ERT_OK)
            break;
        if (t->shape.rank < 0 || t->shape.rank > ERT_MAX_RANK || ert_dtype_size(t->dtype) == 0)
            return ert_fail(err, ERT_EINVAL, "graph %u '%s': tensor %u '%s' has no known dtype and shape (run infer)", gi,
                            str_or_empty(g->name), i, str_or_empty(t->name));
        size_t nb;
        if (t->is_const && (!ert_shape_bytes(&t->shape, t->dtype, &nb) || nb != t->nbytes || (nb && !t->data)))
            return ert_fail(err, ERT_EINVAL, "graph %u '%s': constant %u '%s' has no data matching its shape", gi,
                            str_or_empty(g->name), i, str_or_empty(t->name));
        if (t->store_int8) {
            const ert_tensor *sc = t->store_scales < g->n_tensors ? &g->tensors[t->store_scales] : NULL;
            bool ok = t->is_const && t->dtype == ERT_DT_F32 && t->store_axis >= 0 && t->store_axis < t->shape.rank &&
                      sc && sc != t && sc->is_const && !sc->store_int8 && sc->dtype == ERT_DT_F32 &&
                      sc->shape.rank == 1 && sc->shape.dims[0] == t->shape.dims[t->store_axis];
            for (int64_t k = 0; ok && k < sc->shape.dims[0]; k++)
                ok = ((const float *)sc->data)[k] > 0.0f && isfinite(((const float *)sc->data)[k]);
            if (!ok)
                return ert_fail(err, ERT_EINVAL, "graph %u '%s': constant '%s' is to be stored as int8 but its "
                                "scales are not a positive float32 constant along a dimension", gi,
                                str_or_empty(g->name), str_or_empty(t->name));
        }
    }
    for (uint32_t i = 0; st == ERT_OK && i < g->n_nodes; i++) {
        const ert_node *n = &g->nodes[i];
        snprintf(what, sizeof what, "graph %u node %u name", gi, i);
        st = check_len(what, n->name, ERT_BLOB_MAX_NAME, err);
        if (st == ERT_OK && (!n->def || !n->def->name))
            return ert_fail(err, ERT_EINVAL, "graph %u '%s': node %u '%s' has no op", gi, str_or_empty(g->name), i,
                            str_or_empty(n->name));
        if (st == ERT_OK)
            st = check_len("an op type", n->def->name, ERT_BLOB_MAX_OP_TYPE, err);
    }
    return st;
}

static ert_status check_inputs(ert_graph *const *graphs, uint32_t n, const ert_blob_write_opts *o, ert_error *err)
{
    if (!graphs || n == 0)
        return ert_fail(err, ERT_EINVAL, "no graphs to write");
    ert_status st = ERT_OK;
    const struct {
        const char *what, *s;
        size_t max;
    } strs[] = {
        {"the source name", o->source_name, ERT_BLOB_MAX_NAME},
        {"the conversion options", o->options, ERT_BLOB_MAX_OPTIONS},
        {"the producer name", o->producer_name, ERT_BLOB_MAX_SHORT},
        {"the producer version", o->producer_version, ERT_BLOB_MAX_SHORT},
        {"the family", o->family, ERT_BLOB_MAX_ROLE},
        {"the converter version", ert_version(), ERT_BLOB_MAX_VERSION},
        {"the converter git describe", ert_version_git(), ERT_BLOB_MAX_SHORT},
    };
    for (size_t i = 0; st == ERT_OK && i < sizeof strs / sizeof strs[0]; i++)
        st = check_len(strs[i].what, strs[i].s, strs[i].max, err);
    for (uint32_t i = 0; st == ERT_OK && i < n; i++) {
        if (!graphs[i])
            return ert_fail(err, ERT_EINVAL, "graph %u is NULL", i);
        st = check_graph(graphs[i], i, err);
        if (st == ERT_OK && o->roles)
            st = check_len("a role", o->roles[i], ERT_BLOB_MAX_ROLE, err);
        if (st == ERT_OK && o->preprocess && o->preprocess[i] &&
            ert_blob_check_preprocess(o->preprocess[i], err) != ERT_OK) {
            err->code = ERT_EINVAL; /* the caller's recipe, not a file */
            st = ert_error_prefix(err, "graph %u '%s'", i, str_or_empty(graphs[i]->name));
        }
    }
    if (st == ERT_OK && o->n_extra && !o->extra)
        return ert_fail(err, ERT_EINVAL, "n_extra is %u but extra is NULL", o->n_extra);
    if (st == ERT_OK && o->n_extra > ERT_BLOB_MAX_SECTIONS - 2)
        return ert_fail(err, ERT_EINVAL, "too many extra sections (%u)", o->n_extra);
    for (uint32_t i = 0; st == ERT_OK && i < o->n_extra; i++) {
        const ert_blob_extra_section *x = &o->extra[i];
        const char *nm = str_or_empty(x->name);
        if (!ert_blob_name_ok(nm, strlen(nm)) || strcmp(nm, "meta") == 0 || strcmp(nm, "weights") == 0)
            return ert_fail(err, ERT_EINVAL, "extra section name '%s' is not allowed", nm);
        if (x->size && !x->data)
            return ert_fail(err, ERT_EINVAL, "extra section '%s' has no data", nm);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(str_or_empty(o->extra[j].name), nm) == 0)
                return ert_fail(err, ERT_EINVAL, "extra section '%s' appears twice", nm);
    }
    return st;
}

/* ---- nanopb encoding through callbacks (nothing is copied into big structs) ---- */

typedef struct wctx {
    ert_graph *const *graphs;
    uint32_t n;
    const ert_blob_write_opts *o;
} wctx;

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", str_or_empty(src)); /* lengths were checked */
}

static bool enc_packed_u32(pb_ostream_t *s, const pb_field_iter_t *f, const uint32_t *v, uint32_t n)
{
    if (n == 0)
        return true;
    pb_ostream_t sz = PB_OSTREAM_SIZING;
    for (uint32_t i = 0; i < n; i++)
        if (!pb_encode_varint(&sz, v[i]))
            return false;
    if (!pb_encode_tag(s, PB_WT_STRING, f->tag) || !pb_encode_varint(s, sz.bytes_written))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!pb_encode_varint(s, v[i]))
            return false;
    return true;
}

static bool enc_node_in(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_node *n = *arg;
    return enc_packed_u32(s, f, n->in, n->n_in);
}

static bool enc_node_out(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_node *n = *arg;
    return enc_packed_u32(s, f, n->out, n->n_out);
}

static bool enc_node_ints(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_node *n = *arg;
    if (n->n_ints == 0)
        return true;
    pb_ostream_t sz = PB_OSTREAM_SIZING;
    for (uint32_t i = 0; i < n->n_ints; i++)
        if (!pb_encode_svarint(&sz, n->ints[i]))
            return false;
    if (!pb_encode_tag(s, PB_WT_STRING, f->tag) || !pb_encode_varint(s, sz.bytes_written))
        return false;
    for (uint32_t i = 0; i < n->n_ints; i++)
        if (!pb_encode_svarint(s, n->ints[i]))
            return false;
    return true;
}

static bool enc_node_floats(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_node *n = *arg;
    if (n->n_floats == 0)
        return true;
    if (!pb_encode_tag(s, PB_WT_STRING, f->tag) || !pb_encode_varint(s, (uint64_t)n->n_floats * 4))
        return false;
    for (uint32_t i = 0; i < n->n_floats; i++)
        if (!pb_encode_fixed32(s, &n->floats[i]))
            return false;
    return true;
}

static bool enc_graph_in(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_graph *g = *arg;
    return enc_packed_u32(s, f, g->inputs, g->n_inputs);
}

static bool enc_graph_out(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_graph *g = *arg;
    return enc_packed_u32(s, f, g->outputs, g->n_outputs);
}

static bool enc_tensors(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_graph *g = *arg;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        const ert_tensor *t = &g->tensors[i];
        embedrt_v1_TensorDef td = embedrt_v1_TensorDef_init_zero;
        copy_str(td.name, sizeof td.name, t->name);
        td.dtype = (int32_t)t->dtype;
        td.dims_count = (pb_size_t)t->shape.rank;
        for (int d = 0; d < t->shape.rank; d++)
            td.dims[d] = t->shape.dims[d];
        td.is_const = t->is_const;
        td.offset = t->offset;
        td.nbytes = t->store_int8 ? t->nbytes / 4 : t->nbytes;
        if (t->store_int8) {
            td.storage_dtype = ERT_DT_I8;
            td.storage_scales = t->store_scales;
            td.storage_axis = t->store_axis;
        }
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_TensorDef_fields, &td))
            return false;
    }
    return true;
}

static bool enc_nodes(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_graph *g = *arg;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ert_node *n = &g->nodes[i];
        embedrt_v1_NodeDef nd = embedrt_v1_NodeDef_init_zero;
        copy_str(nd.name, sizeof nd.name, n->name);
        copy_str(nd.op_type, sizeof nd.op_type, n->def->name);
        nd.inputs = (pb_callback_t){.funcs.encode = enc_node_in, .arg = n};
        nd.outputs = (pb_callback_t){.funcs.encode = enc_node_out, .arg = n};
        nd.ints = (pb_callback_t){.funcs.encode = enc_node_ints, .arg = n};
        nd.floats = (pb_callback_t){.funcs.encode = enc_node_floats, .arg = n};
        nd.act = (embedrt_v1_Activation)n->act;
        nd.act_alpha = n->act_alpha;
        nd.act_beta = n->act_beta;
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_NodeDef_fields, &nd))
            return false;
    }
    return true;
}

static void preprocess_to_pb(const ert_preprocess *p, embedrt_v1_Preprocess *q)
{
    q->crop = (embedrt_v1_CropMode)p->crop;
    q->crop_x = p->crop_x;
    q->crop_y = p->crop_y;
    q->crop_w = p->crop_w;
    q->crop_h = p->crop_h;
    q->resize_w = p->resize_w;
    q->resize_h = p->resize_h;
    q->filter = (embedrt_v1_ResizeFilter)p->filter;
    q->scale = p->scale;
    q->mean_count = q->std_count = 3;
    for (int i = 0; i < 3; i++) {
        q->mean[i] = p->mean[i];
        q->std[i] = p->std[i];
    }
    q->order = (embedrt_v1_ChannelOrder)p->order;
    q->flip = (embedrt_v1_Flip)p->flip;
}

static bool enc_graphs(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const wctx *w = *arg;
    for (uint32_t i = 0; i < w->n; i++) {
        ert_graph *g = w->graphs[i];
        embedrt_v1_GraphDef gd = embedrt_v1_GraphDef_init_zero;
        copy_str(gd.name, sizeof gd.name, g->name);
        copy_str(gd.role, sizeof gd.role, w->o->roles ? w->o->roles[i] : NULL);
        gd.opset = g->opset;
        gd.tensors = (pb_callback_t){.funcs.encode = enc_tensors, .arg = g};
        gd.nodes = (pb_callback_t){.funcs.encode = enc_nodes, .arg = g};
        gd.inputs = (pb_callback_t){.funcs.encode = enc_graph_in, .arg = g};
        gd.outputs = (pb_callback_t){.funcs.encode = enc_graph_out, .arg = g};
        gd.arena_bytes = g->arena_bytes;
        gd.scratch_offset = g->scratch_offset;
        gd.scratch_bytes = g->scratch_bytes;
        if (w->o->preprocess && w->o->preprocess[i]) {
            gd.has_preprocess = true;
            preprocess_to_pb(w->o->preprocess[i], &gd.preprocess);
        }
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_GraphDef_fields, &gd))
            return false;
    }
    return true;
}

/* BlobMeta.quant_report: the caller's encoded embedrt.v1.QuantReport, as is. */
static bool enc_quant_report(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_blob_write_opts *o = *arg;
    return pb_encode_tag_for_field(s, f) && pb_encode_string(s, o->quant_report, o->quant_report_len);
}

static ert_status encode_meta(const wctx *w, uint8_t **out, size_t *out_len, ert_error *err)
{
    const ert_blob_write_opts *o = w->o;
    embedrt_v1_BlobMeta m = embedrt_v1_BlobMeta_init_zero;
    m.has_provenance = true;
    embedrt_v1_Provenance *p = &m.provenance;
    copy_str(p->source_name, sizeof p->source_name, o->source_name);
    p->source_size = o->source_size;
    copy_str(p->converter_version, sizeof p->converter_version, ert_version());
    copy_str(p->converter_git, sizeof p->converter_git, ert_version_git());
    copy_str(p->options, sizeof p->options, o->options);
    copy_str(p->producer_name, sizeof p->producer_name, o->producer_name);
    copy_str(p->producer_version, sizeof p->producer_version, o->producer_version);
    p->opset = o->opset;
    copy_str(m.family, sizeof m.family, o->family);
    m.graphs = (pb_callback_t){.funcs.encode = enc_graphs, .arg = (void *)(uintptr_t)w};
    if (o->quant_report && o->quant_report_len)
        m.quant_report = (pb_callback_t){.funcs.encode = enc_quant_report, .arg = (void *)(uintptr_t)o};
    size_t size;
    if (!pb_get_encoded_size(&size, embedrt_v1_BlobMeta_fields, &m))
        return ert_fail(err, ERT_EINTERNAL, "meta: cannot encode");
    if (size > ERT_BLOB_MAX_META)
        return ert_fail(err, ERT_EINVAL, "meta: %zu bytes exceed the format's limit of %u", size, ERT_BLOB_MAX_META);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return ert_fail(err, ERT_ENOMEM, "meta: cannot allocate %zu bytes", size);
    pb_ostream_t s = pb_ostream_from_buffer(buf, size);
    if (!pb_encode(&s, embedrt_v1_BlobMeta_fields, &m) || s.bytes_written != size) {
        free(buf);
        return ert_fail(err, ERT_EINTERNAL, "meta: encoding failed (%s)", PB_GET_ERROR(&s));
    }
    *out = buf;
    *out_len = size;
    return ERT_OK;
}

/* ---- weights and container ---- */

static uint64_t align64(uint64_t x)
{
    return (x + ERT_BLOB_ALIGN - 1) & ~(uint64_t)(ERT_BLOB_ALIGN - 1);
}

/* q = round(v / scale[c]) in [-127, 127] along the axis (blob 1.1 storage quantization). */
static void quantize_store(const ert_graph *g, const ert_tensor *t, int8_t *q)
{
    const float *v = t->data, *s = g->tensors[t->store_scales].data;
    size_t inner = 1, outer = 1, at = 0;
    int64_t ch = t->shape.dims[t->store_axis];
    for (int d = t->store_axis + 1; d < t->shape.rank; d++)
        inner *= (size_t)t->shape.dims[d];
    for (int d = 0; d < t->store_axis; d++)
        outer *= (size_t)t->shape.dims[d];
    for (size_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < ch; k++)
            for (size_t j = 0; j < inner; j++, at++) {
                float x = v[at] / s[k];
                q[at] = (int8_t)(x != x ? 0 : x >= 127.0f ? 127 : x <= -127.0f ? -127 : lrintf(x));
            }
}

/* Each constant at the next 64-byte boundary, in graph then tensor order. */
static ert_status build_weights(ert_graph *const *graphs, uint32_t n, uint8_t **out, size_t *out_len, ert_error *err)
{
    uint64_t top = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < graphs[i]->n_tensors; k++) {
            ert_tensor *t = &graphs[i]->tensors[k];
            if (!t->is_const)
                continue;
            uint64_t stored = t->store_int8 ? t->nbytes / 4 : t->nbytes;
            if (top > SIZE_MAX - ERT_BLOB_ALIGN || stored > SIZE_MAX - align64(top))
                return ert_fail(err, ERT_ENOMEM, "weights do not fit in memory");
            t->offset = align64(top);
            top = t->offset + stored;
        }
    uint8_t *buf = calloc(1, top ? (size_t)top : 1);
    if (!buf)
        return ert_fail(err, ERT_ENOMEM, "cannot allocate %llu bytes of weights", (unsigned long long)top);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < graphs[i]->n_tensors; k++) {
            const ert_tensor *t = &graphs[i]->tensors[k];
            if (t->is_const && t->store_int8)
                quantize_store(graphs[i], t, (int8_t *)(buf + t->offset));
            else if (t->is_const && t->nbytes)
                memcpy(buf + t->offset, t->data, (size_t)t->nbytes);
        }
    *out = buf;
    *out_len = (size_t)top;
    return ERT_OK;
}

typedef struct section {
    const char *name;
    const uint8_t *data; /* stored bytes (compressed when zlib) */
    size_t stored, size;
    uint32_t flags, crc;
    uint64_t offset;
    uint8_t *owned;
} section;

static ert_status store_section(section *s, const char *name, const void *data, size_t size, bool compress,
                                bool required, int level, ert_error *err)
{
    *s = (section){.name = name, .data = data, .stored = size, .size = size};
    s->flags = required ? ERT_BLOB_SECTION_REQUIRED : 0;
    if (compress) {
        size_t cap = ert_deflate_bound(size);
        if (cap == 0 || !(s->owned = malloc(cap)))
            return ert_fail(err, ERT_ENOMEM, "section '%s': cannot allocate %zu bytes to compress", name, cap);
        ert_status st = ert_deflate(data, size, s->owned, cap, &s->stored, level, err);
        if (st != ERT_OK)
            return ert_error_prefix(err, "section '%s'", name);
        s->data = s->owned;
        s->flags |= ERT_BLOB_SECTION_ZLIB;
    }
    s->crc = ert_crc32(0, s->data, s->stored);
    return ERT_OK;
}

static ert_status assemble(section *secs, uint32_t ns, uint32_t flags, uint8_t **out, size_t *out_len,
                           ert_error *err)
{
    uint64_t top = align64(ERT_HDR_SIZE + (uint64_t)ns * ERT_SEC_ENTRY_SIZE);
    for (uint32_t i = 0; i < ns; i++) {
        secs[i].offset = align64(top);
        if (secs[i].stored > SIZE_MAX - secs[i].offset - ERT_BLOB_ALIGN)
            return ert_fail(err, ERT_ENOMEM, "the blob does not fit in memory");
        top = secs[i].offset + secs[i].stored;
    }
    uint8_t *f = calloc(1, (size_t)top);
    if (!f)
        return ert_fail(err, ERT_ENOMEM, "cannot allocate %llu bytes for the blob", (unsigned long long)top);
    memcpy(f, ert_blob_magic, sizeof ert_blob_magic);
    ert_put16(f + ERT_HDR_MAJOR, ERT_BLOB_FORMAT_MAJOR);
    ert_put16(f + ERT_HDR_MINOR, ERT_BLOB_FORMAT_MINOR);
    ert_put32(f + ERT_HDR_HEADER_SIZE, ERT_HDR_SIZE);
    ert_put32(f + ERT_HDR_SECTION_COUNT, ns);
    ert_put32(f + ERT_HDR_ENTRY_SIZE, ERT_SEC_ENTRY_SIZE);
    ert_put64(f + ERT_HDR_TABLE_OFFSET, ERT_HDR_SIZE);
    ert_put64(f + ERT_HDR_FILE_SIZE, top);
    ert_put32(f + ERT_HDR_FLAGS, flags);
    for (uint32_t i = 0; i < ns; i++) {
        uint8_t *e = f + ERT_HDR_SIZE + (size_t)i * ERT_SEC_ENTRY_SIZE;
        memcpy(e + ERT_SEC_NAME, secs[i].name, strlen(secs[i].name)); /* 1..15 chars, rest stays zero */
        ert_put32(e + ERT_SEC_FLAGS, secs[i].flags);
        ert_put32(e + ERT_SEC_CRC, secs[i].crc);
        ert_put64(e + ERT_SEC_OFFSET, secs[i].offset);
        ert_put64(e + ERT_SEC_STORED_SIZE, secs[i].stored);
        ert_put64(e + ERT_SEC_SIZE, secs[i].size);
        if (secs[i].stored)
            memcpy(f + secs[i].offset, secs[i].data, secs[i].stored);
    }
    /* the CRC field is still zero here, as the reader zeroes it */
    uint32_t crc = ert_crc32(0, f, ERT_HDR_SIZE + (size_t)ns * ERT_SEC_ENTRY_SIZE);
    ert_put32(f + ERT_HDR_CRC, crc);
    *out = f;
    *out_len = (size_t)top;
    return ERT_OK;
}

ert_status ert_blob_write_mem(ert_graph *const *graphs, uint32_t n, const ert_blob_write_opts *opts, void **out,
                              size_t *out_len, ert_error *err)
{
    ert_error local;
    if (!err)
        err = &local;
    ert_error_clear(err);
    static const ert_blob_write_opts defaults = {0};
    const ert_blob_write_opts *o = opts ? opts : &defaults;
    if (!out || !out_len)
        return ert_fail(err, ERT_EINVAL, "blob write: out is NULL");
    *out = NULL;
    *out_len = 0;
    ert_status st = check_inputs(graphs, n, o, err);
    if (st != ERT_OK)
        return st;
    uint8_t *weights = NULL, *meta = NULL;
    size_t wlen = 0, mlen = 0;
    const uint32_t ns = 2 + o->n_extra;
    section *secs = calloc(ns, sizeof *secs);
    if (!secs)
        return ert_fail(err, ERT_ENOMEM, "out of memory");
    wctx w = {graphs, n, o};
    /* Old readers must refuse int8-stored constants rather than misread them. */
    bool quant = false;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < graphs[i]->n_tensors; k++)
            quant |= graphs[i]->tensors[k].store_int8;
    st = build_weights(graphs, n, &weights, &wlen, err); /* sets offsets before meta records them */
    if (st == ERT_OK)
        st = encode_meta(&w, &meta, &mlen, err);
    if (st == ERT_OK)
        st = store_section(&secs[0], "meta", meta, mlen, o->compress, true, o->level, err);
    if (st == ERT_OK)
        st = store_section(&secs[1], "weights", weights, wlen, o->compress, true, o->level, err);
    if (st == ERT_OK && o->n_extra && !o->extra)
        return ert_fail(err, ERT_EINVAL, "n_extra is %u but extra is NULL", o->n_extra);
    if (st == ERT_OK && o->n_extra > ERT_BLOB_MAX_SECTIONS - 2)
        return ert_fail(err, ERT_EINVAL, "too many extra sections (%u)", o->n_extra);
    for (uint32_t i = 0; st == ERT_OK && i < o->n_extra; i++) {
        const ert_blob_extra_section *x = &o->extra[i];
        st = store_section(&secs[2 + i], x->name, x->data, x->size, x->compress, x->required, o->level, err);
    }
    uint8_t *file = NULL;
    size_t flen = 0;
    if (st == ERT_OK)
        st = assemble(secs, ns, quant ? ERT_HDR_FLAG_QUANT_STORAGE : 0, &file, &flen, err);
    for (uint32_t i = 0; i < ns; i++)
        free(secs[i].owned);
    free(secs);
    free(weights);
    free(meta);
    if (st != ERT_OK)
        return st;
    *out = file;
    *out_len = flen;
    return ERT_OK;
}

static ert_status fsync_dir(const char *path, ert_error *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ert_fail(err, ERT_EIO, "%s: cannot open its directory to sync: %s", path, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return ert_fail(err, ERT_EIO, "%s: fsync of its directory: %s", path, strerror(e));
    return ERT_OK;
}

ert_status ert_blob_write(const char *path, ert_graph *const *graphs, uint32_t n, const ert_blob_write_opts *opts,
                          ert_error *err)
{
    ert_error local;
    if (!err)
        err = &local;
    if (!path)
        return ert_fail(err, ERT_EINVAL, "blob write: path is NULL");
    void *data;
    size_t len;
    ert_status st = ert_blob_write_mem(graphs, n, opts, &data, &len, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "%s", path);
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof ".tmp.XXXXXX");
    if (!tmp) {
        free(data);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        st = ert_fail(err, ERT_EIO, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        free(tmp);
        free(data);
        return st;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0 && st == ERT_OK) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            st = ert_fail(err, ERT_EIO, "%s: write failed: %s", tmp, w < 0 ? strerror(errno) : "no progress");
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    free(data);
    if (st == ERT_OK && opts && opts->fsync && fsync(fd) != 0)
        st = ert_fail(err, ERT_EIO, "%s: fsync: %s", tmp, strerror(errno));
    if (st == ERT_OK && fchmod(fd, 0644) != 0)
        st = ert_fail(err, ERT_EIO, "%s: chmod: %s", tmp, strerror(errno));
    if (close(fd) != 0 && st == ERT_OK)
        st = ert_fail(err, ERT_EIO, "%s: close: %s", tmp, strerror(errno));
    if (st == ERT_OK && rename(tmp, path) != 0)
        st = ert_fail(err, ERT_EIO, "%s: cannot rename the temporary file into place: %s", path, strerror(errno));
    if (st != ERT_OK)
        unlink(tmp);
    free(tmp);
    if (st == ERT_OK && opts && opts->fsync)
        st = fsync_dir(path, err);
    return st;
}
