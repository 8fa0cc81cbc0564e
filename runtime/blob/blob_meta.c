/* Decoding of the "meta" section (embedrt.v1.BlobMeta) into one allocation, and the
 * checks that make a hostile blob safe to run: two nanopb passes, then re-inference. */
#include "blob_internal.h"

#include "embedrt/v1/blob.pb.h"
#include "../engine/op.h"

#include <pb_decode.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* Element counts: pass 1 totals them, pass 2 reuses the struct as fill cursors. */
typedef struct counts {
    size_t graphs, tensors, nodes, gin, gout, nin, nout, ints, floats, str;
    size_t dq, dq_bytes; /* constants stored as int8 and their float32 bytes (64-aligned each) */
    size_t qr;           /* bytes of BlobMeta.quant_report (kept as is for `embedrt inspect`) */
} counts;

/* A constant stored as int8 (TensorDef.storage_*), dequantized once every graph is read. */
typedef struct dq_entry {
    ert_tensor *t;
    size_t graph;
    const int8_t *q;
    uint32_t scales;
    int axis;
} dq_entry;

typedef struct mctx {
    bool fill; /* pass 2 */
    counts total, cur;
    const uint8_t *weights;
    uint64_t weights_len;
    /* pass 2 destinations, carved from the block */
    ert_graph *graphs;
    ert_blob_graph_info *ginfo;
    ert_tensor *tensors;
    ert_node *nodes;
    uint32_t *gin, *gout, *nin, *nout;
    int64_t *ints;
    float *floats;
    char *str;
    dq_entry *dq;
    uint8_t *dq_data;
    uint8_t *qr;
    /* where decoding is, for messages */
    const embedrt_v1_GraphDef *gd; /* the graph being decoded (its name may not be read yet) */
    size_t gi, tensor_at, node_at;  /* graph index; its first tensor and node */
    char where[192];                /* innermost element that failed to decode */
    const char *pb_err;             /* and nanopb's reason (0.4.7 does not pass it up) */
    bool failed;                    /* err holds our own message */
    ert_error *err;
} mctx;

static counts *cursor(mctx *c)
{
    return c->fill ? &c->cur : &c->total;
}

/* A name fit for a one-line message: hostile names may hold any byte. */
static const char *printable(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

/* Names go into messages and logs: control characters are refused. */
static bool name_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static bool fail(mctx *c, ert_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(mctx *c, ert_status code, const char *fmt, ...)
{
    if (c->failed)
        return false;
    char msg[ERT_ERROR_MAX], gname[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->gd)
        ert_fail(c->err, code, "meta: graph %zu '%s': %s", c->gi, printable(c->gd->name, gname, sizeof gname), msg);
    else
        ert_fail(c->err, code, "meta: %s", msg);
    c->failed = true;
    return false;
}

/* Keeps the first (innermost) nanopb error: outer streams only say "callback failed". */
static bool pb_failed(mctx *c, const pb_istream_t *s)
{
    if (!c->pb_err && s->errmsg)
        c->pb_err = s->errmsg;
    return false;
}

/* Records the innermost element whose nanopb decode failed (outer ones return later). */
static bool where(mctx *c, const pb_istream_t *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool where(mctx *c, const pb_istream_t *s, const char *fmt, ...)
{
    pb_failed(c, s);
    if (c->where[0] || c->failed)
        return false;
    char what[64], gname[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->gd)
        snprintf(c->where, sizeof c->where, "graph %zu '%s': %s", c->gi, printable(c->gd->name, gname, sizeof gname),
                 what);
    else
        snprintf(c->where, sizeof c->where, "%s", what);
    return false;
}

static bool internal(mctx *c)
{
    return fail(c, ERT_EINTERNAL, "the second decoding pass disagrees with the first");
}

/* Pass 1 sums string bytes, pass 2 copies into the block's string area. */
static char *put_str(mctx *c, const char *s)
{
    size_t n = strlen(s) + 1;
    counts *k = cursor(c);
    if (!c->fill) {
        k->str += n; /* bounded: every byte came from the (<= 1 GiB) meta section */
        return NULL;
    }
    if (n > c->total.str - k->str) {
        internal(c);
        return NULL;
    }
    char *p = c->str + k->str;
    memcpy(p, s, n);
    k->str += n;
    return p;
}

static bool dtype_known(int32_t v)
{
    switch (v) {
    case ERT_DT_F32: case ERT_DT_U8: case ERT_DT_I8: case ERT_DT_I32: case ERT_DT_I64: case ERT_DT_BOOL:
    case ERT_DT_F64:
        return true;
    default:
        return false;
    }
}

/* ---- repeated scalars: one element per call (nanopb loops over packed data) ---- */

static bool push_u32(mctx *c, pb_istream_t *s, size_t *at, size_t total, uint32_t *dst)
{
    if (s->bytes_left == 0)
        return true; /* an empty packed list */
    uint32_t v;
    if (!pb_decode_varint32(s, &v))
        return pb_failed(c, s);
    if (c->fill) {
        if (*at >= total)
            return internal(c);
        dst[*at] = v;
    }
    (*at)++;
    return true;
}

static bool node_in_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    return push_u32(c, s, &cursor(c)->nin, c->total.nin, c->nin);
}

static bool node_out_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    return push_u32(c, s, &cursor(c)->nout, c->total.nout, c->nout);
}

static bool graph_in_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    return push_u32(c, s, &cursor(c)->gin, c->total.gin, c->gin);
}

static bool graph_out_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    return push_u32(c, s, &cursor(c)->gout, c->total.gout, c->gout);
}

static bool ints_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    if (s->bytes_left == 0)
        return true;
    int64_t v;
    if (!pb_decode_svarint(s, &v))
        return pb_failed(c, s);
    counts *k = cursor(c);
    if (c->fill) {
        if (k->ints >= c->total.ints)
            return internal(c);
        c->ints[k->ints] = v;
    }
    k->ints++;
    return true;
}

static bool floats_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    if (s->bytes_left == 0)
        return true;
    float v;
    if (!pb_decode_fixed32(s, &v))
        return pb_failed(c, s);
    counts *k = cursor(c);
    if (c->fill) {
        if (k->floats >= c->total.floats)
            return internal(c);
        c->floats[k->floats] = v;
    }
    k->floats++;
    return true;
}

/* ---- tensors ---- */

static bool check_tensor(mctx *c, size_t idx, const embedrt_v1_TensorDef *td)
{
    if (!name_ok(td->name))
        return fail(c, ERT_EFORMAT, "tensor %zu: name holds control characters", idx);
    if (!dtype_known(td->dtype))
        return fail(c, ERT_EFORMAT, "tensor %zu '%s': unknown dtype %d", idx, td->name, (int)td->dtype);
    ert_shape sh = {.rank = (int)td->dims_count};
    for (pb_size_t i = 0; i < td->dims_count; i++) {
        if (td->dims[i] < 0)
            return fail(c, ERT_EFORMAT, "tensor %zu '%s': dimension %u is negative (%lld)", idx, td->name, i,
                        (long long)td->dims[i]);
        sh.dims[i] = td->dims[i];
    }
    size_t nb;
    char shs[96];
    ert_shape_str(&sh, shs, sizeof shs);
    ert_dtype stored = (ert_dtype)td->dtype;
    if (td->storage_dtype != 0) {
        if (td->storage_dtype != ERT_DT_I8 || td->dtype != ERT_DT_F32 || !td->is_const)
            return fail(c, ERT_EFORMAT, "tensor %zu '%s': storage dtype %d is not int8 for a float32 constant", idx,
                        td->name, (int)td->storage_dtype);
        if (td->storage_axis < 0 || td->storage_axis >= (int32_t)td->dims_count)
            return fail(c, ERT_EFORMAT, "tensor %zu '%s': storage axis %d is not a dimension of %s", idx, td->name,
                        (int)td->storage_axis, shs);
        stored = ERT_DT_I8;
    }
    if (!ert_shape_bytes(&sh, stored, &nb) || (td->storage_dtype != 0 && nb > SIZE_MAX / 4 - ERT_BLOB_ALIGN))
        return fail(c, ERT_EFORMAT, "tensor %zu '%s': shape %s is too large", idx, td->name, shs);
    if (nb != td->nbytes)
        return fail(c, ERT_EFORMAT, "tensor %zu '%s': nbytes %llu but %s %s is %zu bytes", idx, td->name,
                    (unsigned long long)td->nbytes, ert_dtype_name(stored), shs, nb);
    if (td->is_const) {
        if (td->offset % ERT_BLOB_ALIGN != 0)
            return fail(c, ERT_EFORMAT, "tensor %zu '%s': weights offset %llu is not a multiple of %d", idx, td->name,
                        (unsigned long long)td->offset, ERT_BLOB_ALIGN);
        if (td->offset > c->weights_len || td->nbytes > c->weights_len - td->offset)
            return fail(c, ERT_EFORMAT, "tensor %zu '%s': offset+nbytes %llu+%llu exceeds the weights section (%llu bytes)",
                        idx, td->name, (unsigned long long)td->offset, (unsigned long long)td->nbytes,
                        (unsigned long long)c->weights_len);
    }
    return true;
}

static bool tensor_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    counts *k = cursor(c);
    size_t idx = k->tensors - c->tensor_at;
    embedrt_v1_TensorDef td = embedrt_v1_TensorDef_init_zero;
    if (!pb_decode(s, embedrt_v1_TensorDef_fields, &td))
        return where(c, s, "tensor %zu", idx);
    if (!c->fill) {
        if (!check_tensor(c, idx, &td))
            return false;
        put_str(c, td.name);
        if (td.storage_dtype != 0) {
            /* bounded: nbytes fits the weights section; 4x of it was checked above */
            k->dq++;
            k->dq_bytes += ((size_t)td.nbytes * 4 + ERT_BLOB_ALIGN - 1) & ~(size_t)(ERT_BLOB_ALIGN - 1);
        }
        k->tensors++;
        return true;
    }
    if (k->tensors >= c->total.tensors)
        return internal(c);
    ert_tensor *t = &c->tensors[k->tensors];
    if (!(t->name = put_str(c, td.name)))
        return false;
    t->dtype = (ert_dtype)td.dtype;
    t->shape.rank = (int)td.dims_count;
    for (pb_size_t i = 0; i < td.dims_count; i++)
        t->shape.dims[i] = td.dims[i];
    t->is_const = td.is_const;
    t->offset = td.offset;
    t->nbytes = td.nbytes;
    t->data = td.is_const ? (void *)(uintptr_t)(c->weights + td.offset) : NULL; /* read-only mapping */
    if (td.storage_dtype != 0) {
        if (k->dq >= c->total.dq || td.nbytes * 4 > c->total.dq_bytes - k->dq_bytes)
            return internal(c);
        c->dq[k->dq] = (dq_entry){t, c->gi, (const int8_t *)t->data, td.storage_scales, (int)td.storage_axis};
        t->data = c->dq_data + k->dq_bytes; /* filled by dequantize() */
        t->nbytes = td.nbytes * 4;
        k->dq++;
        k->dq_bytes += ((size_t)td.nbytes * 4 + ERT_BLOB_ALIGN - 1) & ~(size_t)(ERT_BLOB_ALIGN - 1);
    }
    k->tensors++;
    return true;
}

/* value = q * scales[c]: the scales tensor must be a finite, positive float32 constant
 * [dims[axis]] of the same graph, read from the weights like any constant. */
static ert_status dequantize(const mctx *c, const ert_blob *b, ert_error *err)
{
    for (size_t i = 0; i < c->total.dq; i++) {
        const dq_entry *e = &c->dq[i];
        const ert_graph *g = &b->graphs[e->graph];
        ert_tensor *t = e->t;
        const ert_tensor *sc = e->scales < g->n_tensors ? &g->tensors[e->scales] : NULL;
        int64_t ch = t->shape.dims[e->axis];
        if (!sc || !sc->is_const || sc->dtype != ERT_DT_F32 || sc->shape.rank != 1 || sc->shape.dims[0] != ch ||
            sc == t)
            return ert_fail(err, ERT_EFORMAT, "meta: graph %zu '%s': tensor '%s': storage scales %u must be a float32 "
                            "constant [%lld] of the graph", e->graph, g->name, t->name, e->scales, (long long)ch);
        const float *s = sc->data;
        for (int64_t k = 0; k < ch; k++)
            if (!(s[k] > 0.0f) || !isfinite(s[k]))
                return ert_fail(err, ERT_EFORMAT, "meta: graph %zu '%s': tensor '%s': storage scale %lld is %g, not "
                                "a finite positive number", e->graph, g->name, t->name, (long long)k, (double)s[k]);
        /* [outer, ch, inner] around the axis */
        size_t inner = 1, outer = 1;
        for (int d = e->axis + 1; d < t->shape.rank; d++)
            inner *= (size_t)t->shape.dims[d];
        for (int d = 0; d < e->axis; d++)
            outer *= (size_t)t->shape.dims[d];
        float *out = t->data;
        const int8_t *q = e->q;
        size_t at = 0;
        for (size_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < ch; k++)
                for (size_t j = 0; j < inner; j++, at++)
                    out[at] = (float)q[at] * s[k];
    }
    return ERT_OK;
}

/* ---- nodes ---- */

static bool node_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    counts *k = cursor(c);
    const counts before = *k;
    size_t idx = k->nodes - c->node_at;
    embedrt_v1_NodeDef nd = embedrt_v1_NodeDef_init_zero;
    nd.inputs = (pb_callback_t){.funcs.decode = node_in_cb, .arg = c};
    nd.outputs = (pb_callback_t){.funcs.decode = node_out_cb, .arg = c};
    nd.ints = (pb_callback_t){.funcs.decode = ints_cb, .arg = c};
    nd.floats = (pb_callback_t){.funcs.decode = floats_cb, .arg = c};
    if (!pb_decode(s, embedrt_v1_NodeDef_fields, &nd))
        return where(c, s, "node %zu", idx);
    const ert_op_def *def = ert_op_find(nd.op_type);
    if (!c->fill) {
        if (!name_ok(nd.name))
            return fail(c, ERT_EFORMAT, "node %zu: name holds control characters", idx);
        char op[40];
        if (!def)
            return fail(c, ERT_EUNSUPPORTED, "node %zu '%s': op '%s' is not supported by this embedrt", idx, nd.name,
                        printable(nd.op_type, op, sizeof op));
        if ((uint32_t)nd.act > ERT_ACT_TANH)
            return fail(c, ERT_EFORMAT, "node %zu '%s' (%s): unknown fused activation %u", idx, nd.name, nd.op_type,
                        (unsigned)nd.act);
        if (nd.act != embedrt_v1_Activation_ACT_NONE && !def->fuses_act)
            return fail(c, ERT_EFORMAT, "node %zu '%s' (%s): has a fused activation but the op cannot apply one", idx,
                        nd.name, nd.op_type);
        put_str(c, nd.name);
        k->nodes++;
        return true;
    }
    if (k->nodes >= c->total.nodes || !def)
        return internal(c);
    ert_node *n = &c->nodes[k->nodes];
    if (!(n->name = put_str(c, nd.name)))
        return false;
    n->def = def;
    n->in = c->nin + before.nin;
    n->n_in = (uint32_t)(k->nin - before.nin); /* every count is below 2^24 (meta size limit) */
    n->out = c->nout + before.nout;
    n->n_out = (uint32_t)(k->nout - before.nout);
    n->n_ints = (uint32_t)(k->ints - before.ints);
    n->ints = n->n_ints ? c->ints + before.ints : NULL;
    n->n_floats = (uint32_t)(k->floats - before.floats);
    n->floats = n->n_floats ? c->floats + before.floats : NULL;
    n->act = (ert_act)nd.act;
    n->act_alpha = nd.act_alpha;
    n->act_beta = nd.act_beta;
    k->nodes++;
    return true;
}

/* ---- preprocessing recipe ---- */

static void preprocess_from_pb(const embedrt_v1_Preprocess *q, ert_preprocess *p)
{
    *p = (ert_preprocess){
        .crop = (ert_crop_mode)q->crop,
        .crop_x = q->crop_x,
        .crop_y = q->crop_y,
        .crop_w = q->crop_w,
        .crop_h = q->crop_h,
        .resize_w = q->resize_w,
        .resize_h = q->resize_h,
        .filter = (ert_resize_filter)q->filter,
        .scale = q->scale,
        .order = (ert_channel_order)q->order,
        .flip = (ert_flip)q->flip,
    };
    for (int i = 0; i < 3; i++) {
        p->mean[i] = i < q->mean_count ? q->mean[i] : 0.0f;
        p->std[i] = i < q->std_count ? q->std[i] : 0.0f;
    }
}

/* ---- graphs ---- */

static bool graph_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    counts *k = cursor(c);
    const counts before = *k;
    embedrt_v1_GraphDef gd = embedrt_v1_GraphDef_init_zero;
    gd.tensors = (pb_callback_t){.funcs.decode = tensor_cb, .arg = c};
    gd.nodes = (pb_callback_t){.funcs.decode = node_cb, .arg = c};
    gd.inputs = (pb_callback_t){.funcs.decode = graph_in_cb, .arg = c};
    gd.outputs = (pb_callback_t){.funcs.decode = graph_out_cb, .arg = c};
    c->gd = &gd;
    c->gi = k->graphs;
    c->tensor_at = k->tensors;
    c->node_at = k->nodes;
    if (!pb_decode(s, embedrt_v1_GraphDef_fields, &gd)) {
        where(c, s, "cannot decode");
        c->gd = NULL;
        return false;
    }
    bool ok = true;
    if (!c->fill) {
        if (!name_ok(gd.name) || !name_ok(gd.role))
            ok = fail(c, ERT_EFORMAT, "name or role holds control characters");
        else if (gd.opset < 0 || gd.opset > INT32_MAX)
            ok = fail(c, ERT_EFORMAT, "opset %lld out of range", (long long)gd.opset);
        else if (gd.has_preprocess && (gd.preprocess.mean_count != 3 || gd.preprocess.std_count != 3))
            ok = fail(c, ERT_EFORMAT, "preprocess: mean and std need 3 values each (got %u and %u)",
                      (unsigned)gd.preprocess.mean_count, (unsigned)gd.preprocess.std_count);
        else if (gd.has_preprocess) {
            ert_preprocess p;
            ert_error e;
            preprocess_from_pb(&gd.preprocess, &p);
            if (ert_blob_check_preprocess(&p, &e) != ERT_OK)
                ok = fail(c, e.code, "%s", e.msg);
        }
        if (ok && k->graphs >= ERT_BLOB_MAX_GRAPHS)
            ok = fail(c, ERT_EFORMAT, "more than %d graphs", ERT_BLOB_MAX_GRAPHS);
        if (ok) {
            put_str(c, gd.name);
            put_str(c, gd.role);
            k->graphs++;
        }
        c->gd = NULL;
        return ok;
    }
    if (k->graphs >= c->total.graphs) {
        internal(c);
        c->gd = NULL;
        return false;
    }
    ert_graph *g = &c->graphs[k->graphs];
    ert_blob_graph_info *gi = &c->ginfo[k->graphs];
    g->name = put_str(c, gd.name);
    gi->role = put_str(c, gd.role);
    c->gd = NULL;
    if (!g->name || !gi->role)
        return false;
    gi->name = g->name;
    g->opset = (int)gd.opset;
    g->tensors = c->tensors + before.tensors;
    g->n_tensors = g->cap_tensors = (uint32_t)(k->tensors - before.tensors);
    g->nodes = c->nodes + before.nodes;
    g->n_nodes = g->cap_nodes = (uint32_t)(k->nodes - before.nodes);
    g->inputs = c->gin + before.gin;
    g->n_inputs = (uint32_t)(k->gin - before.gin);
    g->outputs = c->gout + before.gout;
    g->n_outputs = (uint32_t)(k->gout - before.gout);
    g->arena_bytes = gd.arena_bytes;
    g->scratch_offset = gd.scratch_offset;
    g->scratch_bytes = gd.scratch_bytes;
    g->heap_owned = false;
    gi->has_preprocess = gd.has_preprocess;
    if (gd.has_preprocess)
        preprocess_from_pb(&gd.preprocess, &gi->preprocess);
    k->graphs++;
    return true;
}

/* The quantization report is not interpreted here: its bytes are kept for inspect. */
static bool quant_report_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    mctx *c = *arg;
    size_t n = s->bytes_left;
    counts *k = cursor(c);
    if (c->fill) {
        if (n != c->total.qr || k->qr != 0)
            return internal(c);
        if (!pb_read(s, c->qr, n))
            return pb_failed(c, s);
    } else {
        if (k->qr != 0)
            return fail(c, ERT_EFORMAT, "more than one quantization report");
        if (!pb_read(s, NULL, n))
            return pb_failed(c, s);
    }
    k->qr = n;
    return true;
}

static bool decode_pass(mctx *c, const uint8_t *meta, size_t len, embedrt_v1_BlobMeta *m)
{
    *m = (embedrt_v1_BlobMeta)embedrt_v1_BlobMeta_init_zero;
    m->graphs = (pb_callback_t){.funcs.decode = graph_cb, .arg = c};
    m->quant_report = (pb_callback_t){.funcs.decode = quant_report_cb, .arg = c};
    pb_istream_t s = pb_istream_from_buffer(meta, len);
    if (pb_decode(&s, embedrt_v1_BlobMeta_fields, m))
        return true;
    if (!c->failed) {
        const char *why = c->pb_err ? c->pb_err : PB_GET_ERROR(&s);
        if (c->where[0])
            ert_fail(c->err, ERT_EFORMAT, "meta: %s (%s)", c->where, why);
        else
            ert_fail(c->err, ERT_EFORMAT, "meta: cannot decode (%s)", why);
        c->failed = true;
    }
    return false;
}

/* ---- the block ---- */

/* Reserves count * elem bytes at the next multiple of align; false on overflow. */
static bool carve(size_t *top, size_t count, size_t elem, size_t align, size_t *at)
{
    size_t bytes, start;
    if (!ert_mul_size(count, elem, &bytes) || !ert_add_size(*top, align - 1, &start))
        return false;
    start &= ~(align - 1);
    if (!ert_add_size(start, bytes, top))
        return false;
    *at = start;
    return true;
}

typedef struct layout {
    size_t blob, sections, graphs, ginfo, tensors, nodes, gin, gout, nin, nout, ints, floats, str, dq, dq_data, qr,
        total;
} layout;

static bool plan_block(const counts *t, uint32_t n_sections, layout *l)
{
    const size_t A = alignof(max_align_t);
    size_t top = 0;
    return carve(&top, 1, sizeof(ert_blob), A, &l->blob) &&
           carve(&top, n_sections, sizeof(ert_blob_section_info), A, &l->sections) &&
           carve(&top, t->graphs, sizeof(ert_graph), A, &l->graphs) &&
           carve(&top, t->graphs, sizeof(ert_blob_graph_info), A, &l->ginfo) &&
           carve(&top, t->tensors, sizeof(ert_tensor), A, &l->tensors) &&
           carve(&top, t->nodes, sizeof(ert_node), A, &l->nodes) &&
           carve(&top, t->gin, sizeof(uint32_t), A, &l->gin) && carve(&top, t->gout, sizeof(uint32_t), A, &l->gout) &&
           carve(&top, t->nin, sizeof(uint32_t), A, &l->nin) && carve(&top, t->nout, sizeof(uint32_t), A, &l->nout) &&
           carve(&top, t->ints, sizeof(int64_t), A, &l->ints) &&
           carve(&top, t->floats, sizeof(float), A, &l->floats) && carve(&top, t->str, 1, A, &l->str) &&
           carve(&top, t->dq, sizeof(dq_entry), A, &l->dq) &&
           carve(&top, t->dq_bytes, 1, ERT_BLOB_ALIGN, &l->dq_data) && carve(&top, t->qr, 1, A, &l->qr) &&
           ((l->total = top), true);
}

ert_status ert_blob_meta_decode(const uint8_t *meta, size_t meta_len, const uint8_t *weights, uint64_t weights_len,
                                uint32_t n_sections, const char *label, ert_blob **out, ert_error *err)
{
    *out = NULL;
    mctx c = {.weights = weights, .weights_len = weights_len, .err = err};
    embedrt_v1_BlobMeta m;
    if (!decode_pass(&c, meta, meta_len, &m))
        return err->code;
    if (c.total.graphs == 0)
        return ert_fail(err, ERT_EFORMAT, "meta: the blob holds no graphs");
    const embedrt_v1_Provenance *p = &m.provenance;
    const char *top_strings[] = {label, m.family, p->source_name, p->converter_version, p->converter_git,
                                 p->options, p->producer_name, p->producer_version};
    for (size_t i = 1; i < sizeof top_strings / sizeof top_strings[0]; i++)
        if (!name_ok(top_strings[i]))
            return ert_fail(err, ERT_EFORMAT, "meta: the family or provenance holds control characters");
    for (size_t i = 0; i < sizeof top_strings / sizeof top_strings[0]; i++)
        c.total.str += strlen(top_strings[i]) + 1;

    layout l;
    if (!plan_block(&c.total, n_sections, &l))
        return ert_fail(err, ERT_ENOMEM, "meta: the graphs need more memory than can be addressed");
    /* 64-aligned: dequantized constants live in the block, aligned like mapped ones */
    uint8_t *block = NULL;
    if (posix_memalign((void **)&block, ERT_BLOB_ALIGN, l.total) != 0)
        block = NULL;
    if (block)
        memset(block, 0, l.total);
    if (!block)
        return ert_fail(err, ERT_ENOMEM, "meta: cannot allocate %zu bytes for the graphs", l.total);
    ert_blob *b = (ert_blob *)(block + l.blob);
    b->info.sections = (const ert_blob_section_info *)(block + l.sections);
    b->graphs = (ert_graph *)(block + l.graphs);
    b->info.graphs = (const ert_blob_graph_info *)(block + l.ginfo);
    c.fill = true;
    c.graphs = b->graphs;
    c.ginfo = (ert_blob_graph_info *)(block + l.ginfo);
    c.tensors = (ert_tensor *)(block + l.tensors);
    c.nodes = (ert_node *)(block + l.nodes);
    c.gin = (uint32_t *)(block + l.gin);
    c.gout = (uint32_t *)(block + l.gout);
    c.nin = (uint32_t *)(block + l.nin);
    c.nout = (uint32_t *)(block + l.nout);
    c.ints = (int64_t *)(block + l.ints);
    c.floats = (float *)(block + l.floats);
    c.str = (char *)(block + l.str);
    c.dq = (dq_entry *)(block + l.dq);
    c.dq_data = block + l.dq_data;
    c.qr = block + l.qr;
    if (!decode_pass(&c, meta, meta_len, &m)) {
        free(block);
        return err->code;
    }
    b->info.label = put_str(&c, label);
    b->info.family = put_str(&c, m.family);
    ert_blob_provenance *bp = &b->info.provenance;
    bp->source_name = put_str(&c, p->source_name);
    bp->converter_version = put_str(&c, p->converter_version);
    bp->converter_git = put_str(&c, p->converter_git);
    bp->options = put_str(&c, p->options);
    bp->producer_name = put_str(&c, p->producer_name);
    bp->producer_version = put_str(&c, p->producer_version);
    bp->source_size = p->source_size;
    bp->opset = p->opset;
    if (memcmp(&c.cur, &c.total, sizeof c.cur) != 0 || !bp->producer_version) {
        internal(&c);
        free(block);
        return err->code;
    }
    b->info.n_graphs = (uint32_t)c.total.graphs;
    b->info.quantized_constants = (uint32_t)c.total.dq;
    b->info.quant_report = c.total.qr ? c.qr : NULL;
    b->info.quant_report_len = c.total.qr;
    ert_status st = dequantize(&c, b, err);
    if (st == ERT_OK)
        st = ert_blob_check_graphs(b, err);
    if (st != ERT_OK) {
        free(block);
        return st;
    }
    *out = b;
    return ERT_OK;
}
