/* The daemon's wire format: varint length-prefixed frames of nanopb-encoded Envelopes,
 * with the bulk fields (Image.data, DemoEmbeddings.values, Heatmap.values) as zero-copy
 * views on decode and streamed from the caller's arrays on encode. */
#include "embedrt/wire.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- framing */

ert_status ert_wire_rx_init(ert_wire_rx *rx, size_t max_frame, ert_error *err)
{
    memset(rx, 0, sizeof *rx);
    if (max_frame == 0)
        max_frame = ERT_WIRE_MAX_FRAME;
    if (max_frame > ERT_WIRE_MAX_FRAME)
        return ert_fail(err, ERT_EINVAL, "wire: maximum frame of %zu bytes is above the limit of %u", max_frame,
                        ERT_WIRE_MAX_FRAME);
    /* A whole frame (5-byte prefix at most) always fits after compaction. */
    rx->cap = max_frame + 10;
    rx->buf = malloc(rx->cap);
    if (!rx->buf)
        return ert_fail(err, ERT_ENOMEM, "wire: cannot allocate a %zu-byte receive buffer", rx->cap);
    rx->max_frame = max_frame;
    return ERT_OK;
}

void ert_wire_rx_free(ert_wire_rx *rx)
{
    free(rx->buf);
    memset(rx, 0, sizeof *rx);
}

void ert_wire_rx_reset(ert_wire_rx *rx)
{
    rx->len = rx->consumed = 0;
}

uint8_t *ert_wire_rx_space(ert_wire_rx *rx, size_t *avail)
{
    /* Frames handed out so far die here: move the unfinished rest to the front. Each byte
     * moves at most once after the frames before it were taken. */
    if (rx->consumed == rx->len) {
        rx->len = rx->consumed = 0;
    } else if (rx->consumed > 0) {
        memmove(rx->buf, rx->buf + rx->consumed, rx->len - rx->consumed);
        rx->len -= rx->consumed;
        rx->consumed = 0;
    }
    *avail = rx->cap - rx->len;
    return rx->buf + rx->len;
}

void ert_wire_rx_commit(ert_wire_rx *rx, size_t n)
{
    if (n > rx->cap - rx->len)
        n = rx->cap - rx->len; /* a caller bug; never write past the buffer */
    rx->len += n;
}

ert_status ert_wire_rx_frame(ert_wire_rx *rx, const uint8_t **payload, size_t *len, bool *have, ert_error *err)
{
    *have = false;
    *payload = NULL;
    *len = 0;
    const uint8_t *p = rx->buf + rx->consumed;
    size_t n = rx->len - rx->consumed;
    uint64_t value = 0;
    size_t hdr = 0;
    for (;;) {
        if (hdr == n)
            return ERT_OK; /* prefix incomplete */
        uint8_t b = p[hdr];
        value |= (uint64_t)(b & 0x7f) << (7 * hdr);
        hdr++;
        if (!(b & 0x80))
            break;
        if (hdr == 5)
            return ert_fail(err, ERT_EFORMAT,
                            "wire: frame length prefix longer than 5 bytes (not a varint32 length)");
    }
    if (value > rx->max_frame)
        return ert_fail(err, ERT_EFORMAT, "wire: frame of %llu bytes exceeds the maximum of %zu",
                        (unsigned long long)value, rx->max_frame);
    if (n - hdr < value)
        return ERT_OK;
    *payload = p + hdr;
    *len = (size_t)value;
    *have = true;
    rx->consumed += hdr + (size_t)value;
    return ERT_OK;
}

size_t ert_wire_put_prefix(uint8_t out[5], size_t n)
{
    size_t i = 0;
    uint32_t v = (uint32_t)n;
    while (v >= 0x80 && i < 4) {
        out[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[i++] = (uint8_t)v;
    return i;
}

/* ---------------------------------------------------------------- bodies */

typedef struct body_info {
    pb_size_t tag;
    const char *name;
    const pb_msgdesc_t *fields;
} body_info;

static const body_info bodies[] = {
    {embedrt_v1_Envelope_client_hello_tag, "client_hello", embedrt_v1_ClientHello_fields},
    {embedrt_v1_Envelope_subscribe_tag, "subscribe", embedrt_v1_Subscribe_fields},
    {embedrt_v1_Envelope_unsubscribe_tag, "unsubscribe", embedrt_v1_Unsubscribe_fields},
    {embedrt_v1_Envelope_set_goal_tag, "set_goal", embedrt_v1_SetGoal_fields},
    {embedrt_v1_Envelope_clear_goal_tag, "clear_goal", embedrt_v1_ClearGoal_fields},
    {embedrt_v1_Envelope_reset_episode_tag, "reset_episode", embedrt_v1_ResetEpisode_fields},
    {embedrt_v1_Envelope_load_demo_tag, "load_demo", embedrt_v1_LoadDemo_fields},
    {embedrt_v1_Envelope_grasp_event_tag, "grasp_event", embedrt_v1_GraspEvent_fields},
    {embedrt_v1_Envelope_load_model_tag, "load_model", embedrt_v1_LoadModel_fields},
    {embedrt_v1_Envelope_get_stats_tag, "get_stats", embedrt_v1_GetStats_fields},
    {embedrt_v1_Envelope_capabilities_tag, "capabilities", embedrt_v1_Capabilities_fields},
    {embedrt_v1_Envelope_goal_set_tag, "goal_set", embedrt_v1_GoalSet_fields},
    {embedrt_v1_Envelope_ack_tag, "ack", embedrt_v1_Ack_fields},
    {embedrt_v1_Envelope_error_tag, "error", embedrt_v1_Error_fields},
    {embedrt_v1_Envelope_embedding_tag, "embedding", embedrt_v1_Embedding_fields},
    {embedrt_v1_Envelope_reward_tag, "reward", embedrt_v1_Reward_fields},
    {embedrt_v1_Envelope_heatmap_tag, "heatmap", embedrt_v1_Heatmap_fields},
    {embedrt_v1_Envelope_stats_tag, "stats", embedrt_v1_Stats_fields},
    {embedrt_v1_Envelope_notice_tag, "notice", embedrt_v1_Notice_fields},
};

static const body_info *body_find(pb_size_t tag)
{
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        if (bodies[i].tag == tag)
            return &bodies[i];
    return NULL;
}

const char *ert_wire_body_name(pb_size_t which_body)
{
    if (which_body == 0)
        return "none";
    const body_info *b = body_find(which_body);
    return b ? b->name : "unknown";
}

/* ---------------------------------------------------------------- decoding */

typedef struct dec_ctx {
    const uint8_t *payload;
    size_t len;
    ert_wire_views *views;
    bool image_seen, demo_seen, heatmap_seen;
    char msg[200]; /* the precise reason when a bulk check failed */
} dec_ctx;

/* Records the callback's substream as a view into the payload, after the checks. A
 * bulk field must be length-delimited in the payload itself: nanopb hands unpacked
 * scalars (and any field sent with a scalar wire type) to callbacks through a copy on
 * its stack, which is refused since a view cannot point there. */
static bool take_view(pb_istream_t *s, dec_ctx *c, const char *field, size_t unit, size_t max, bool *seen,
                      const uint8_t **data, size_t *count)
{
    const uint8_t *p = (const uint8_t *)s->state;
    size_t n = s->bytes_left;
    uintptr_t lo = (uintptr_t)c->payload, at = (uintptr_t)p;
    if (at < lo || n > c->len || at - lo > c->len - n) {
        snprintf(c->msg, sizeof c->msg, "%s: not a length-delimited field (%s)", field,
                 unit == 4 ? "repeated floats must be packed, as proto3 encoders write them" : "wrong wire type");
        PB_RETURN_ERROR(s, "bulk field");
    }
    if (*seen) {
        snprintf(c->msg, sizeof c->msg, "%s: appears twice in one message (send it once)", field);
        PB_RETURN_ERROR(s, "bulk field");
    }
    if (n % unit) {
        snprintf(c->msg, sizeof c->msg, "%s: %zu bytes is not a whole number of float32s", field, n);
        PB_RETURN_ERROR(s, "bulk field");
    }
    if (n / unit > max) {
        snprintf(c->msg, sizeof c->msg, "%s: %zu %s exceed the maximum of %zu", field, n / unit,
                 unit == 4 ? "floats" : "bytes", max);
        PB_RETURN_ERROR(s, "bulk field");
    }
    *seen = true;
    *data = p;
    *count = n / unit;
    return pb_read(s, NULL, n);
}

static bool dec_image_data(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    dec_ctx *c = *arg;
    return take_view(s, c, "SetGoal.image.data", 1, ERT_WIRE_MAX_IMAGE, &c->image_seen, &c->views->image.data,
                     &c->views->image.len);
}

static bool dec_demo_values(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    dec_ctx *c = *arg;
    return take_view(s, c, "LoadDemo.embeddings.values", 4, ERT_WIRE_MAX_DEMO_FLOATS, &c->demo_seen,
                     &c->views->demo.data, &c->views->demo.count);
}

static bool dec_heatmap_values(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    dec_ctx *c = *arg;
    return take_view(s, c, "Heatmap.values", 4, ERT_WIRE_MAX_HEATMAP_FLOATS, &c->heatmap_seen,
                     &c->views->heatmap.data, &c->views->heatmap.count);
}

/* Message-level callbacks (daemon.options: submsg_callback): called after nanopb zeroed
 * the selected oneof member and before it is decoded, they install the next callback. */
static bool dec_set_goal_source(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)s;
    if (f->tag == embedrt_v1_SetGoal_image_tag) {
        embedrt_v1_Image *im = f->pData;
        im->data.funcs.decode = dec_image_data;
        im->data.arg = *arg;
    }
    return true;
}

static bool dec_load_demo_source(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)s;
    if (f->tag == embedrt_v1_LoadDemo_embeddings_tag) {
        embedrt_v1_DemoEmbeddings *d = f->pData;
        d->values.funcs.decode = dec_demo_values;
        d->values.arg = *arg;
    }
    return true;
}

static bool dec_body(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)s;
    if (f->tag == embedrt_v1_Envelope_set_goal_tag) {
        embedrt_v1_SetGoal *g = f->pData;
        g->cb_source.funcs.decode = dec_set_goal_source;
        g->cb_source.arg = *arg;
    } else if (f->tag == embedrt_v1_Envelope_load_demo_tag) {
        embedrt_v1_LoadDemo *d = f->pData;
        d->cb_source.funcs.decode = dec_load_demo_source;
        d->cb_source.arg = *arg;
    } else if (f->tag == embedrt_v1_Envelope_heatmap_tag) {
        embedrt_v1_Heatmap *h = f->pData;
        h->values.funcs.decode = dec_heatmap_values;
        h->values.arg = *arg;
    }
    return true;
}

/* A decoded envelope must re-encode safely: no decode callback may stay behind (the
 * callback union would be taken for an encode function). */
static void clear_callbacks(embedrt_v1_Envelope *env)
{
    memset(&env->cb_body, 0, sizeof env->cb_body);
    switch (env->which_body) {
    case embedrt_v1_Envelope_set_goal_tag:
        memset(&env->body.set_goal.cb_source, 0, sizeof env->body.set_goal.cb_source);
        if (env->body.set_goal.which_source == embedrt_v1_SetGoal_image_tag)
            memset(&env->body.set_goal.source.image.data, 0, sizeof(pb_callback_t));
        break;
    case embedrt_v1_Envelope_load_demo_tag:
        memset(&env->body.load_demo.cb_source, 0, sizeof env->body.load_demo.cb_source);
        if (env->body.load_demo.which_source == embedrt_v1_LoadDemo_embeddings_tag)
            memset(&env->body.load_demo.source.embeddings.values, 0, sizeof(pb_callback_t));
        break;
    case embedrt_v1_Envelope_heatmap_tag:
        memset(&env->body.heatmap.values, 0, sizeof(pb_callback_t));
        break;
    default:
        break;
    }
}

static bool mul_eq(uint32_t a, uint32_t b, size_t want)
{
    return (uint64_t)a * b == (uint64_t)want;
}

ert_status ert_wire_decode(const uint8_t *payload, size_t len, embedrt_v1_Envelope *env, ert_wire_views *views,
                           ert_error *err)
{
    ert_wire_views scratch;
    if (!views)
        views = &scratch;
    memset(env, 0, sizeof *env);
    memset(views, 0, sizeof *views);
    dec_ctx c = {.payload = payload, .len = len, .views = views};
    env->cb_body.funcs.decode = dec_body;
    env->cb_body.arg = &c;
    static const uint8_t empty[1];
    pb_istream_t is = pb_istream_from_buffer(payload ? payload : empty, payload ? len : 0);
    ert_status st = ERT_OK;
    if (!pb_decode_ex(&is, embedrt_v1_Envelope_fields, env, PB_DECODE_NOINIT)) {
        const char *where = ert_wire_body_name(env->which_body);
        if (c.msg[0])
            st = ert_fail(err, ERT_EFORMAT, "wire: %s", c.msg);
        else
            st = ert_fail(err, ERT_EFORMAT, "wire: Envelope of %zu bytes does not parse%s%s: %s", len,
                          env->which_body ? " in body " : "", env->which_body ? where : "", PB_GET_ERROR(&is));
        goto fail;
    }
    clear_callbacks(env);
    if (env->which_body == 0) {
        st = ert_fail(err, ERT_EFORMAT,
                      "wire: Envelope of %zu bytes (seq %u, request_id %llu) has no body (unknown to this "
                      "protocol version, or missing)",
                      len, (unsigned)env->seq, (unsigned long long)env->request_id);
        goto fail;
    }
    /* Keep only the views of the members that were finally selected (a later oneof member
     * replaces an earlier one, as in every protobuf decoder). */
    bool image = env->which_body == embedrt_v1_Envelope_set_goal_tag &&
                 env->body.set_goal.which_source == embedrt_v1_SetGoal_image_tag;
    bool demo = env->which_body == embedrt_v1_Envelope_load_demo_tag &&
                env->body.load_demo.which_source == embedrt_v1_LoadDemo_embeddings_tag;
    bool heat = env->which_body == embedrt_v1_Envelope_heatmap_tag;
    if (!image)
        views->image = (ert_wire_bytes){0};
    if (!demo)
        views->demo = (ert_wire_floats){0};
    if (!heat)
        views->heatmap = (ert_wire_floats){0};
    if (demo) {
        const embedrt_v1_DemoEmbeddings *d = &env->body.load_demo.source.embeddings;
        if (!mul_eq(d->frames, d->dim, views->demo.count)) {
            st = ert_fail(err, ERT_EFORMAT,
                          "wire: LoadDemo.embeddings: frames x dim = %u x %u but values holds %zu floats",
                          (unsigned)d->frames, (unsigned)d->dim, views->demo.count);
            goto fail;
        }
    }
    if (heat) {
        const embedrt_v1_Heatmap *h = &env->body.heatmap;
        if (!mul_eq(h->height, h->width, views->heatmap.count)) {
            st = ert_fail(err, ERT_EFORMAT, "wire: Heatmap: height x width = %u x %u but values holds %zu floats",
                          (unsigned)h->height, (unsigned)h->width, views->heatmap.count);
            goto fail;
        }
    }
    return ERT_OK;
fail:
    memset(env, 0, sizeof *env);
    memset(views, 0, sizeof *views);
    return st;
}

/* ---------------------------------------------------------------- encoding */

static bool enc_image_data(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const ert_wire_out *b = *arg;
    if (!b || !b->image_len)
        return true;
    return pb_encode_tag_for_field(s, f) && pb_encode_string(s, b->image, b->image_len);
}

/* Packed float32s, little-endian on the wire whatever the host. */
static bool enc_floats(pb_ostream_t *s, const pb_field_t *f, const float *v, size_t n)
{
    if (!n)
        return true;
    if (!pb_encode_tag(s, PB_WT_STRING, f->tag) || !pb_encode_varint(s, (uint64_t)n * 4))
        return false;
    if (!s->callback) /* sizing pass */
        return pb_write(s, NULL, n * 4);
    uint8_t chunk[256];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; i < n && k < sizeof chunk; i++, k += 4) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            chunk[k] = (uint8_t)u;
            chunk[k + 1] = (uint8_t)(u >> 8);
            chunk[k + 2] = (uint8_t)(u >> 16);
            chunk[k + 3] = (uint8_t)(u >> 24);
        }
        if (!pb_write(s, chunk, k))
            return false;
    }
    return true;
}

static bool enc_demo_values(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const ert_wire_out *b = *arg;
    return b ? enc_floats(s, f, b->demo, b->demo_count) : true;
}

static bool enc_heatmap_values(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const ert_wire_out *b = *arg;
    return b ? enc_floats(s, f, b->heatmap, b->heatmap_count) : true;
}

static ert_status check_encodable(const embedrt_v1_Envelope *env, const ert_wire_out *bulk, ert_error *err)
{
    if (env->which_body == 0)
        return ert_fail(err, ERT_EINVAL, "wire: envelope to encode has no body (which_body = 0)");
    if (!body_find(env->which_body))
        return ert_fail(err, ERT_EINVAL, "wire: envelope to encode has an unknown body tag %u",
                        (unsigned)env->which_body);
    if (bulk) {
        if ((bulk->image_len && !bulk->image) || (bulk->demo_count && !bulk->demo) ||
            (bulk->heatmap_count && !bulk->heatmap))
            return ert_fail(err, ERT_EINVAL, "wire: ert_wire_out has a count without its array");
        if (bulk->image_len > ERT_WIRE_MAX_IMAGE)
            return ert_fail(err, ERT_EINVAL, "wire: SetGoal.image.data: %zu bytes exceed the maximum of %u",
                            bulk->image_len, ERT_WIRE_MAX_IMAGE);
        if (bulk->demo_count > ERT_WIRE_MAX_DEMO_FLOATS)
            return ert_fail(err, ERT_EINVAL,
                            "wire: LoadDemo.embeddings.values: %zu floats exceed the maximum of %u",
                            bulk->demo_count, ERT_WIRE_MAX_DEMO_FLOATS);
        if (bulk->heatmap_count > ERT_WIRE_MAX_HEATMAP_FLOATS)
            return ert_fail(err, ERT_EINVAL, "wire: Heatmap.values: %zu floats exceed the maximum of %u",
                            bulk->heatmap_count, ERT_WIRE_MAX_HEATMAP_FLOATS);
    }
    return ERT_OK;
}

/* Writes the envelope exactly as pb_encode(Envelope) would (fields in tag order, proto3
 * zeros omitted), but encodes the body from a copy whose callbacks point at bulk: the
 * caller's envelope stays const and may even be a decoded one. */
static bool encode_env(pb_ostream_t *s, const embedrt_v1_Envelope *env, const ert_wire_out *bulk)
{
    const body_info *bi = body_find(env->which_body);
    if (!bi)
        return false;
    if (env->seq && (!pb_encode_tag(s, PB_WT_VARINT, embedrt_v1_Envelope_seq_tag) || !pb_encode_varint(s, env->seq)))
        return false;
    if (env->request_id && (!pb_encode_tag(s, PB_WT_VARINT, embedrt_v1_Envelope_request_id_tag) ||
                            !pb_encode_varint(s, env->request_id)))
        return false;
    union {
        embedrt_v1_SetGoal set_goal;
        embedrt_v1_LoadDemo load_demo;
        embedrt_v1_Heatmap heatmap;
    } copy;
    const void *body = &env->body;
    void *arg = (void *)(uintptr_t)bulk;
    switch (env->which_body) {
    case embedrt_v1_Envelope_set_goal_tag:
        copy.set_goal = env->body.set_goal;
        memset(&copy.set_goal.cb_source, 0, sizeof(pb_callback_t));
        if (copy.set_goal.which_source == embedrt_v1_SetGoal_image_tag) {
            copy.set_goal.source.image.data.funcs.encode = enc_image_data;
            copy.set_goal.source.image.data.arg = arg;
        }
        body = &copy.set_goal;
        break;
    case embedrt_v1_Envelope_load_demo_tag:
        copy.load_demo = env->body.load_demo;
        memset(&copy.load_demo.cb_source, 0, sizeof(pb_callback_t));
        if (copy.load_demo.which_source == embedrt_v1_LoadDemo_embeddings_tag) {
            copy.load_demo.source.embeddings.values.funcs.encode = enc_demo_values;
            copy.load_demo.source.embeddings.values.arg = arg;
        }
        body = &copy.load_demo;
        break;
    case embedrt_v1_Envelope_heatmap_tag:
        copy.heatmap = env->body.heatmap;
        copy.heatmap.values.funcs.encode = enc_heatmap_values;
        copy.heatmap.values.arg = arg;
        body = &copy.heatmap;
        break;
    default:
        break;
    }
    return pb_encode_tag(s, PB_WT_STRING, bi->tag) && pb_encode_submessage(s, bi->fields, body);
}

static bool payload_size(const embedrt_v1_Envelope *env, const ert_wire_out *bulk, size_t *size)
{
    pb_ostream_t sizing = PB_OSTREAM_SIZING;
    if (!encode_env(&sizing, env, bulk))
        return false;
    *size = sizing.bytes_written;
    return true;
}

size_t ert_wire_encoded_size(const embedrt_v1_Envelope *env, const ert_wire_out *bulk)
{
    size_t n;
    if (check_encodable(env, bulk, NULL) != ERT_OK || !payload_size(env, bulk, &n) || n > ERT_WIRE_MAX_FRAME)
        return 0;
    uint8_t pre[5];
    return ert_wire_put_prefix(pre, n) + n;
}

ert_status ert_wire_encode(const embedrt_v1_Envelope *env, const ert_wire_out *bulk, uint8_t *out, size_t cap,
                           size_t *len, ert_error *err)
{
    *len = 0;
    ert_status st = check_encodable(env, bulk, err);
    if (st)
        return st;
    const char *name = ert_wire_body_name(env->which_body);
    size_t n;
    if (!payload_size(env, bulk, &n))
        return ert_fail(err, ERT_EINVAL, "wire: %s envelope does not encode (a field over its bound?)", name);
    if (n > ERT_WIRE_MAX_FRAME)
        return ert_fail(err, ERT_EINVAL, "wire: %s envelope of %zu bytes exceeds the maximum frame of %u", name, n,
                        ERT_WIRE_MAX_FRAME);
    uint8_t pre[5];
    size_t p = ert_wire_put_prefix(pre, n);
    if (cap < p || cap - p < n)
        return ert_fail(err, ERT_ENOMEM, "wire: %s frame of %zu bytes does not fit the %zu-byte buffer", name, p + n,
                        cap);
    memcpy(out, pre, p);
    pb_ostream_t os = pb_ostream_from_buffer(out + p, n);
    if (!encode_env(&os, env, bulk) || os.bytes_written != n)
        return ert_fail(err, ERT_EINTERNAL, "wire: %s envelope encoded to %zu bytes, sized %zu: %s", name,
                        os.bytes_written, n, PB_GET_ERROR(&os));
    *len = p + n;
    return ERT_OK;
}

const char *ert_wire_grasp_phase_name(int phase)
{
    static const char *const names[] = {"UNSPECIFIED", "PRE", "POST", "OUTCOME", "CLOSED", "LIFTED", "RELEASED"};
    return phase >= 0 && phase <= 6 ? names[phase] : "unknown";
}
