/* The daemon wire format (runtime/wire/wire.c): framing under every read split, limits
 * on the length prefix, round trips of every envelope body, zero-copy bulk views and
 * the refusals of hostile bulk fields. Byte-exact checks against Python's protobuf are
 * in tests/integration/test_proto_python.py. */
#include "harness.h"

#include "embedrt/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- framing */

/* Three frames: 1-byte prefix, 2-byte prefix (300 bytes), empty payload. */
static size_t three_frames(uint8_t *out, size_t *ends)
{
    static const size_t sizes[3] = {5, 300, 0};
    size_t n = 0;
    for (int f = 0; f < 3; f++) {
        n += ert_wire_put_prefix(out + n, sizes[f]);
        for (size_t i = 0; i < sizes[f]; i++)
            out[n++] = (uint8_t)(f * 50 + i);
        ends[f] = n;
    }
    return n;
}

static void check_three(const uint8_t *p[3], const size_t len[3])
{
    CU_ASSERT_EQUAL(len[0], 5);
    CU_ASSERT_EQUAL(len[1], 300);
    CU_ASSERT_EQUAL(len[2], 0);
    CU_ASSERT_EQUAL(p[0][4], 4);
    CU_ASSERT_EQUAL(p[1][0], 50);
    CU_ASSERT_EQUAL(p[1][299], (uint8_t)(50 + 299));
}

static void feed(ert_wire_rx *rx, const uint8_t *data, size_t n)
{
    while (n) {
        size_t avail;
        uint8_t *dst = ert_wire_rx_space(rx, &avail);
        CU_ASSERT_FATAL(avail > 0);
        size_t k = n < avail ? n : avail;
        memcpy(dst, data, k);
        ert_wire_rx_commit(rx, k);
        data += k;
        n -= k;
    }
}

/* Takes every complete frame; copies payloads so they outlive the next rx call. */
static int take_all(ert_wire_rx *rx, uint8_t copies[][400], size_t *lens, int have_already)
{
    int got = have_already;
    for (;;) {
        const uint8_t *p;
        size_t len;
        bool have;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_wire_rx_frame(rx, &p, &len, &have, &err), ERT_OK);
        if (!have)
            return got;
        CU_ASSERT_FATAL(got < 3 && len <= 400);
        memcpy(copies[got], p, len);
        lens[got++] = len;
    }
}

static void test_wire_rx_frames_at_every_split_point(void)
{
    uint8_t stream[400];
    size_t ends[3];
    size_t n = three_frames(stream, ends);
    CU_ASSERT_EQUAL_FATAL(n, 1 + 5 + 2 + 300 + 1);
    for (size_t split = 0; split <= n; split++) {
        ert_wire_rx rx;
        CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 1000, NULL), ERT_OK);
        uint8_t copies[3][400];
        size_t lens[3] = {0};
        feed(&rx, stream, split);
        int got = take_all(&rx, copies, lens, 0);
        int want_first = (split >= ends[0]) + (split >= ends[1]) + (split >= ends[2]);
        CU_ASSERT_EQUAL(got, want_first);
        feed(&rx, stream + split, n - split);
        got = take_all(&rx, copies, lens, got);
        CU_ASSERT_EQUAL_FATAL(got, 3);
        const uint8_t *p[3] = {copies[0], copies[1], copies[2]};
        check_three(p, lens);
        ert_wire_rx_free(&rx);
    }
}

static void test_wire_rx_byte_by_byte(void)
{
    uint8_t stream[400];
    size_t ends[3];
    size_t n = three_frames(stream, ends);
    ert_wire_rx rx;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 1000, NULL), ERT_OK);
    uint8_t copies[3][400];
    size_t lens[3] = {0};
    int got = 0;
    for (size_t i = 0; i < n; i++) {
        feed(&rx, stream + i, 1);
        got = take_all(&rx, copies, lens, got);
        CU_ASSERT_EQUAL(got, (i + 1 >= ends[0]) + (i + 1 >= ends[1]) + (i + 1 >= ends[2]));
    }
    const uint8_t *p[3] = {copies[0], copies[1], copies[2]};
    check_three(p, lens);
    ert_wire_rx_free(&rx);
}

static void test_wire_rx_several_frames_in_one_read_are_views(void)
{
    uint8_t stream[400];
    size_t ends[3];
    size_t n = three_frames(stream, ends);
    ert_wire_rx rx;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 1000, NULL), ERT_OK);
    feed(&rx, stream, n);
    const uint8_t *p;
    size_t len;
    bool have;
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, NULL), ERT_OK);
    CU_ASSERT(have && len == 5 && p == rx.buf + 1); /* zero-copy: a view into the buffer */
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, NULL), ERT_OK);
    CU_ASSERT(have && len == 300 && p == rx.buf + 8);
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, NULL), ERT_OK);
    CU_ASSERT(have && len == 0);
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, NULL), ERT_OK);
    CU_ASSERT(!have);
    size_t avail;
    ert_wire_rx_space(&rx, &avail);
    CU_ASSERT_EQUAL(avail, 1010); /* everything taken: the whole buffer is free again */
    ert_wire_rx_free(&rx);
}

static void test_wire_rx_rejects_oversize_length_before_the_payload(void)
{
    ert_wire_rx rx;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 100, NULL), ERT_OK);
    uint8_t pre[5];
    size_t k = ert_wire_put_prefix(pre, 101);
    feed(&rx, pre, k);
    const uint8_t *p;
    size_t len;
    bool have = true;
    ert_error err;
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, &err), ERT_EFORMAT);
    CU_ASSERT(!have);
    CU_ASSERT_STRING_EQUAL(err.msg, "wire: frame of 101 bytes exceeds the maximum of 100");
    /* The stream cannot resynchronise: the same error again. */
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, &err), ERT_EFORMAT);
    ert_wire_rx_free(&rx);
}

static void test_wire_rx_rejects_6_byte_varint(void)
{
    ert_wire_rx rx;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 0, NULL), ERT_OK);
    CU_ASSERT_EQUAL(rx.max_frame, ERT_WIRE_MAX_FRAME);
    const uint8_t six[6] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    const uint8_t *p;
    size_t len;
    bool have;
    ert_error err;
    feed(&rx, six, 4);
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, &err), ERT_OK); /* could still end */
    CU_ASSERT(!have);
    feed(&rx, six + 4, 2);
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, &err), ERT_EFORMAT);
    CU_ASSERT(strstr(err.msg, "longer than 5 bytes") != NULL);
    /* A 5-byte varint of 2^32 - 1 is well-formed but oversize. */
    ert_wire_rx_reset(&rx);
    const uint8_t five[5] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    feed(&rx, five, 5);
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, &err), ERT_EFORMAT);
    CU_ASSERT(strstr(err.msg, "frame of 4294967295 bytes exceeds the maximum of 4194304") != NULL);
    ert_wire_rx_free(&rx);
}

static void test_wire_rx_accepts_exact_max_and_non_minimal_prefix(void)
{
    ert_wire_rx rx;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 1000, NULL), ERT_OK);
    uint8_t *frame = calloc(1, 1000 + 5);
    size_t k = ert_wire_put_prefix(frame, 1000);
    CU_ASSERT_EQUAL(k, 2);
    frame[k + 999] = 0xab;
    /* Twice: the second frame needs the buffer compacted after the first was taken. */
    for (int rep = 0; rep < 2; rep++) {
        feed(&rx, frame, 1);
        feed(&rx, frame + 1, k + 999);
        const uint8_t *p;
        size_t len;
        bool have;
        CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, NULL), ERT_OK);
        CU_ASSERT(have && len == 1000 && p[999] == 0xab);
    }
    /* 0x85 0x80 0x00 is a valid (non-minimal) varint 5: accepted as protobuf does. */
    const uint8_t nonmin[] = {0x85, 0x80, 0x00, 1, 2, 3, 4, 5};
    feed(&rx, nonmin, sizeof nonmin);
    const uint8_t *p;
    size_t len;
    bool have;
    CU_ASSERT_EQUAL(ert_wire_rx_frame(&rx, &p, &len, &have, NULL), ERT_OK);
    CU_ASSERT(have && len == 5 && p[4] == 5);
    ert_wire_rx_free(&rx);
    ert_error err;
    CU_ASSERT_EQUAL(ert_wire_rx_init(&rx, ERT_WIRE_MAX_FRAME + 1u, &err), ERT_EINVAL);
    free(frame);
}

static void test_wire_put_prefix_bytes(void)
{
    uint8_t b[5];
    CU_ASSERT_EQUAL(ert_wire_put_prefix(b, 0), 1);
    CU_ASSERT_EQUAL(b[0], 0);
    CU_ASSERT_EQUAL(ert_wire_put_prefix(b, 127), 1);
    CU_ASSERT_EQUAL(b[0], 127);
    CU_ASSERT_EQUAL(ert_wire_put_prefix(b, 300), 2);
    CU_ASSERT(b[0] == 0xac && b[1] == 0x02);
    CU_ASSERT_EQUAL(ert_wire_put_prefix(b, ERT_WIRE_MAX_FRAME), 4);
    CU_ASSERT(b[0] == 0x80 && b[1] == 0x80 && b[2] == 0x80 && b[3] == 0x02);
}

/* ---------------------------------------------------------------- envelopes */

static embedrt_v1_Envelope *new_env(pb_size_t which)
{
    embedrt_v1_Envelope *e = calloc(1, sizeof *e);
    e->seq = 3;
    e->request_id = 1ull << 40;
    e->which_body = which;
    return e;
}

/* Encodes, decodes, compares the struct byte for byte, re-encodes to the same bytes. */
static void round_trip(const embedrt_v1_Envelope *e, const ert_wire_out *bulk, ert_wire_views *views,
                       uint8_t **frame_out)
{
    size_t size = ert_wire_encoded_size(e, bulk);
    CU_ASSERT_FATAL(size > 0);
    uint8_t *frame = malloc(size);
    size_t len;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_wire_encode(e, bulk, frame, size, &len, &err), ERT_OK);
    CU_ASSERT_EQUAL(len, size);
    ert_wire_rx rx;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_init(&rx, 0, NULL), ERT_OK);
    feed(&rx, frame, len);
    const uint8_t *p;
    size_t plen;
    bool have;
    CU_ASSERT_EQUAL_FATAL(ert_wire_rx_frame(&rx, &p, &plen, &have, NULL), ERT_OK);
    CU_ASSERT_FATAL(have);
    /* Decode from the caller's frame so that views stay valid after rx is freed. */
    const uint8_t *payload = frame + (len - plen);
    embedrt_v1_Envelope *d = malloc(sizeof *d);
    ert_status st = ert_wire_decode(payload, plen, d, views, &err);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    if (st == ERT_OK && memcmp(d, e, sizeof *d) != 0)
        fprintf(stderr, "round trip of %s: structs differ\n", ert_wire_body_name(e->which_body));
    CU_ASSERT_EQUAL(memcmp(d, e, sizeof *d), 0);
    uint8_t *again = malloc(size);
    size_t len2;
    CU_ASSERT_EQUAL(ert_wire_encode(d, bulk, again, size, &len2, &err), ERT_OK);
    CU_ASSERT(len2 == len && memcmp(again, frame, len) == 0);
    free(again);
    free(d);
    ert_wire_rx_free(&rx);
    if (frame_out)
        *frame_out = frame;
    else
        free(frame);
}

static void test_wire_round_trips_every_body(void)
{
    embedrt_v1_Envelope *e;
    e = new_env(embedrt_v1_Envelope_client_hello_tag);
    e->body.client_hello.has_hello = true;
    e->body.client_hello.hello.protocol_version = 1;
    strcpy(e->body.client_hello.hello.node_name, "rl-controller");
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_subscribe_tag);
    e->body.subscribe.stream = embedrt_v1_Stream_STREAM_REWARDS;
    strcpy(e->body.subscribe.camera, "scene");
    strcpy(e->body.subscribe.model, "g2v");
    e->body.subscribe.decimation = 5;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_unsubscribe_tag);
    e->body.unsubscribe.stream = embedrt_v1_Stream_STREAM_HEATMAPS;
    strcpy(e->body.unsubscribe.model, "g2v");
    round_trip(e, NULL, NULL, NULL);
    free(e);

    const pb_size_t simple[] = {embedrt_v1_Envelope_clear_goal_tag, embedrt_v1_Envelope_reset_episode_tag,
                                embedrt_v1_Envelope_get_stats_tag, embedrt_v1_Envelope_ack_tag};
    for (size_t i = 0; i < 4; i++) {
        e = new_env(simple[i]);
        if (simple[i] == embedrt_v1_Envelope_clear_goal_tag)
            strcpy(e->body.clear_goal.model, "rig");
        if (simple[i] == embedrt_v1_Envelope_reset_episode_tag)
            strcpy(e->body.reset_episode.model, "ccvae");
        round_trip(e, NULL, NULL, NULL);
        free(e);
    }

    e = new_env(embedrt_v1_Envelope_set_goal_tag);
    strcpy(e->body.set_goal.model, "rig");
    e->body.set_goal.which_source = embedrt_v1_SetGoal_prior_seed_tag;
    e->body.set_goal.source.prior_seed = UINT64_MAX;
    round_trip(e, NULL, NULL, NULL);
    memset(&e->body.set_goal.source, 0, sizeof e->body.set_goal.source);
    e->body.set_goal.which_source = embedrt_v1_SetGoal_camera_tag;
    strcpy(e->body.set_goal.source.camera, "wrist");
    round_trip(e, NULL, NULL, NULL);
    memset(&e->body.set_goal.source, 0, sizeof e->body.set_goal.source);
    e->body.set_goal.which_source = embedrt_v1_SetGoal_embedding_tag;
    e->body.set_goal.source.embedding.vector_count = 2048;
    for (int i = 0; i < 2048; i++)
        e->body.set_goal.source.embedding.vector[i] = (float)i * 0.25f - 100.0f;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_load_demo_tag);
    strcpy(e->body.load_demo.model, "tcn");
    e->body.load_demo.which_source = embedrt_v1_LoadDemo_path_tag;
    strcpy(e->body.load_demo.source.path, "/srv/demos/pour.npy");
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_grasp_event_tag);
    e->body.grasp_event.phase = embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED;
    e->body.grasp_event.success = true;
    e->body.grasp_event.source_time_ns = 123456789012345ull;
    e->body.grasp_event.grasp_id = 77;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_load_model_tag);
    strcpy(e->body.load_model.model, "g2v");
    strcpy(e->body.load_model.blob_path, "/srv/models/g2v-v2.erb");
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_capabilities_tag);
    embedrt_v1_Capabilities *c = &e->body.capabilities;
    c->has_hello = true;
    strcpy(c->hello.node_name, "embedrtd@robot");
    c->cameras_count = 8;
    for (int i = 0; i < 8; i++) {
        snprintf(c->cameras[i].name, sizeof c->cameras[i].name, "cam%d", i);
        strcpy(c->cameras[i].source, "synthetic:bars");
        c->cameras[i].width = 640;
        c->cameras[i].height = 480;
        c->cameras[i].fps = 29.97;
    }
    c->models_count = 8;
    for (int i = 0; i < 8; i++) {
        embedrt_v1_ModelInfo *m = &c->models[i];
        snprintf(m->name, sizeof m->name, "model%d", i);
        strcpy(m->family, "grasp2vec");
        m->roles_count = 2;
        strcpy(m->roles[0], "scene");
        strcpy(m->roles[1], "object");
        m->embedding_dim = 512;
        m->params_count = 16;
        for (int k = 0; k < 16; k++) {
            snprintf(m->params[k].name, sizeof m->params[k].name, "p%d", k);
            strcpy(m->params[k].version, "1.0");
        }
        m->generation = (uint32_t)i;
    }
    c->max_frame_bytes = ERT_WIRE_MAX_FRAME;
    c->client_queue_depth = 256;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_goal_set_tag);
    strcpy(e->body.goal_set.model, "g2v");
    e->body.goal_set.goal_id = 4;
    e->body.goal_set.embedding_count = 1; /* one element: packed like Python's encoder */
    e->body.goal_set.embedding[0] = -0.5f;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_error_tag);
    e->body.error.code = embedrt_v1_StatusCode_STATUS_NOT_FOUND;
    strcpy(e->body.error.message, "SetGoal.model: no model 'g3v' (loaded: g2v, rig)");
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_embedding_tag);
    e->request_id = 0;
    strcpy(e->body.embedding.model, "tcn");
    strcpy(e->body.embedding.camera, "view_a");
    strcpy(e->body.embedding.role, "embedder");
    e->body.embedding.vector_count = 32;
    for (int i = 0; i < 32; i++)
        e->body.embedding.vector[i] = 1.0f / (float)(i + 1);
    e->body.embedding.frame_seq = 9;
    e->body.embedding.capture_ns = 1000;
    e->body.embedding.publish_ns = 2000;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_reward_tag);
    embedrt_v1_Reward *r = &e->body.reward;
    strcpy(r->model, "rig");
    strcpy(r->family, "rig");
    strcpy(r->type, "latent_distance");
    r->value = -1.25;
    r->components_count = 8;
    for (int i = 0; i < 8; i++) {
        snprintf(r->components[i].name, sizeof r->components[i].name, "c%d", i);
        r->components[i].value = i * 0.5;
    }
    r->goal_id = 2;
    strcpy(r->camera, "scene");
    r->frame_seq = 10;
    r->capture_ns = 11;
    r->publish_ns = 12;
    r->grasp_id = 13;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_stats_tag);
    embedrt_v1_Stats *s = &e->body.stats;
    s->cameras_count = 1;
    strcpy(s->cameras[0].name, "scene");
    s->cameras[0].frames_in = 100;
    s->cameras[0].frames_dropped = 3;
    s->cameras[0].ended = true;
    s->models_count = 1;
    strcpy(s->models[0].model, "g2v");
    s->models[0].latency_p99_ms = 12.5;
    s->clients_count = 1;
    s->clients[0].client_id = 7;
    s->clients[0].events_dropped = 5;
    s->uptime_ns = 1;
    round_trip(e, NULL, NULL, NULL);
    free(e);

    e = new_env(embedrt_v1_Envelope_notice_tag);
    e->body.notice.kind = embedrt_v1_Notice_Kind_KIND_EVENTS_DROPPED;
    strcpy(e->body.notice.subject, "client 7");
    strcpy(e->body.notice.message, "queue overflow");
    e->body.notice.count = 5;
    round_trip(e, NULL, NULL, NULL);
    free(e);
}

static void test_wire_bulk_fields_decode_as_views(void)
{
    embedrt_v1_Envelope *e = new_env(embedrt_v1_Envelope_set_goal_tag);
    strcpy(e->body.set_goal.model, "g2v");
    e->body.set_goal.which_source = embedrt_v1_SetGoal_image_tag;
    e->body.set_goal.source.image.encoding = embedrt_v1_Image_Encoding_ENCODING_RGB24;
    e->body.set_goal.source.image.width = 10;
    e->body.set_goal.source.image.height = 10;
    uint8_t img[300];
    for (int i = 0; i < 300; i++)
        img[i] = (uint8_t)(i * 7);
    ert_wire_out bulk = {.image = img, .image_len = sizeof img};
    ert_wire_views v;
    uint8_t *frame;
    round_trip(e, &bulk, &v, &frame);
    CU_ASSERT_EQUAL(v.image.len, 300);
    CU_ASSERT(v.image.data != NULL && memcmp(v.image.data, img, 300) == 0);
    CU_ASSERT(v.image.data > frame && v.image.data < frame + 320); /* points into the frame */
    CU_ASSERT(v.demo.data == NULL && v.heatmap.data == NULL);
    free(frame);
    free(e);

    e = new_env(embedrt_v1_Envelope_load_demo_tag);
    e->body.load_demo.which_source = embedrt_v1_LoadDemo_embeddings_tag;
    e->body.load_demo.source.embeddings.frames = 3;
    e->body.load_demo.source.embeddings.dim = 4;
    float demo[12];
    for (int i = 0; i < 12; i++)
        demo[i] = (float)i - 5.5f;
    bulk = (ert_wire_out){.demo = demo, .demo_count = 12};
    round_trip(e, &bulk, &v, &frame);
    CU_ASSERT_EQUAL(v.demo.count, 12);
    for (size_t i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(ert_wire_float_at(&v.demo, i), demo[i]);
    free(frame);
    free(e);

    e = new_env(embedrt_v1_Envelope_heatmap_tag);
    e->request_id = 0;
    e->body.heatmap.height = 2;
    e->body.heatmap.width = 3;
    e->body.heatmap.keypoint_x = 0.25f;
    e->body.heatmap.keypoint_y = 0.75f;
    float heat[6] = {0.1f, 0.2f, 0.3f, 0.15f, 0.15f, 0.1f};
    bulk = (ert_wire_out){.heatmap = heat, .heatmap_count = 6};
    round_trip(e, &bulk, &v, &frame);
    CU_ASSERT_EQUAL(v.heatmap.count, 6);
    CU_ASSERT_EQUAL(ert_wire_float_at(&v.heatmap, 5), 0.1f);
    free(frame);
    free(e);
}

/* Hand-made payloads (protobuf wire format worked out by hand). */
static ert_status decode_bytes(const uint8_t *b, size_t n, embedrt_v1_Envelope *e, ert_wire_views *v,
                               ert_error *err)
{
    return ert_wire_decode(b, n, e, v, err);
}

static void test_wire_encodes_ack_and_heatmap_byte_exact(void)
{
    embedrt_v1_Envelope *e = new_env(embedrt_v1_Envelope_ack_tag);
    e->seq = 1;
    e->request_id = 7;
    uint8_t out[64];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ert_wire_encode(e, NULL, out, sizeof out, &len, NULL), ERT_OK);
    const uint8_t want_ack[] = {0x07, 0x08, 0x01, 0x10, 0x07, 0xd2, 0x02, 0x00};
    CU_ASSERT_EQUAL(len, sizeof want_ack);
    CU_ASSERT_EQUAL(memcmp(out, want_ack, sizeof want_ack), 0);

    memset(e, 0, sizeof *e);
    e->which_body = embedrt_v1_Envelope_heatmap_tag;
    e->body.heatmap.height = 1;
    e->body.heatmap.width = 2;
    float v[2] = {1.0f, -2.0f};
    ert_wire_out bulk = {.heatmap = v, .heatmap_count = 2};
    CU_ASSERT_EQUAL_FATAL(ert_wire_encode(e, &bulk, out, sizeof out, &len, NULL), ERT_OK);
    const uint8_t want_heat[] = {0x11, 0xf2, 0x02, 0x0e, 0x18, 0x01, 0x20, 0x02, 0x2a, 0x08,
                                 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0};
    CU_ASSERT_EQUAL(len, sizeof want_heat);
    CU_ASSERT_EQUAL(memcmp(out, want_heat, sizeof want_heat), 0);
    free(e);
}

static void test_wire_refuses_hostile_bulk_fields(void)
{
    embedrt_v1_Envelope *e = malloc(sizeof *e);
    ert_wire_views v;
    ert_error err;
    /* Heatmap{height=1 width=2 values unpacked: 2d <f32> 2d <f32>} */
    const uint8_t unpacked[] = {0xf2, 0x02, 0x0e, 0x18, 0x01, 0x20, 0x02, 0x2d, 0, 0, 0x80, 0x3f, 0x2d, 0, 0, 0, 0xc0};
    CU_ASSERT_EQUAL(decode_bytes(unpacked, sizeof unpacked, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT(strstr(err.msg, "Heatmap.values: not a length-delimited field (repeated floats must be packed") !=
              NULL);
    CU_ASSERT_EQUAL(e->which_body, 0); /* no partial state */
    CU_ASSERT(v.heatmap.data == NULL);
    /* packed, 7 bytes */
    const uint8_t odd[] = {0xf2, 0x02, 0x09, 0x2a, 0x07, 0, 0, 0x80, 0x3f, 0, 0, 0};
    CU_ASSERT_EQUAL(decode_bytes(odd, sizeof odd, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "wire: Heatmap.values: 7 bytes is not a whole number of float32s");
    /* packed twice */
    const uint8_t twice[] = {0xf2, 0x02, 0x10, 0x18, 0x01, 0x20, 0x02, 0x2a, 0x04, 0, 0, 0x80, 0x3f,
                             0x2a, 0x04, 0, 0, 0, 0xc0};
    CU_ASSERT_EQUAL(decode_bytes(twice, sizeof twice, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT(strstr(err.msg, "Heatmap.values: appears twice") != NULL);
    /* height x width disagrees with the values */
    const uint8_t shape[] = {0xf2, 0x02, 0x0a, 0x18, 0x02, 0x20, 0x02, 0x2a, 0x04, 0, 0, 0x80, 0x3f};
    CU_ASSERT_EQUAL(decode_bytes(shape, sizeof shape, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "wire: Heatmap: height x width = 2 x 2 but values holds 1 floats");
    /* Image.data sent as a varint */
    const uint8_t img_varint[] = {0x6a, 0x04, 0x12, 0x02, 0x20, 0x05};
    CU_ASSERT_EQUAL(decode_bytes(img_varint, sizeof img_varint, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT(strstr(err.msg, "SetGoal.image.data: not a length-delimited field (wrong wire type)") != NULL);
    /* an image over ERT_WIRE_MAX_IMAGE: the length is checked, not the bytes copied */
    size_t big = ERT_WIRE_MAX_IMAGE + 1u;
    uint8_t *huge = calloc(1, big + 16);
    size_t n = 0;
    huge[n++] = 0x6a; /* Envelope.set_goal */
    n += ert_wire_put_prefix(huge + n, big + 5 + 5);
    huge[n++] = 0x12; /* SetGoal.image */
    n += ert_wire_put_prefix(huge + n, big + 5);
    huge[n++] = 0x22; /* Image.data */
    n += ert_wire_put_prefix(huge + n, big);
    CU_ASSERT_EQUAL(decode_bytes(huge, n + big, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "wire: SetGoal.image.data: 3145729 bytes exceed the maximum of 3145728");
    free(huge);
    /* demo frames x dim must match */
    const uint8_t demo[] = {0x82, 0x01, 0x0c, 0x1a, 0x0a, 0x08, 0x02, 0x10, 0x01, 0x1a, 0x04, 0, 0, 0x80, 0x3f};
    CU_ASSERT_EQUAL(decode_bytes(demo, sizeof demo, e, &v, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "wire: LoadDemo.embeddings: frames x dim = 2 x 1 but values holds 1 floats");
    free(e);
}

static void test_wire_decode_refusals_and_unknown_fields(void)
{
    embedrt_v1_Envelope *e = malloc(sizeof *e);
    ert_error err;
    /* seq only: no body */
    const uint8_t nobody[] = {0x08, 0x05};
    CU_ASSERT_EQUAL(ert_wire_decode(nobody, sizeof nobody, e, NULL, &err), ERT_EFORMAT);
    CU_ASSERT(strstr(err.msg, "(seq 5, request_id 0) has no body") != NULL);
    CU_ASSERT_EQUAL(ert_wire_decode(NULL, 0, e, NULL, &err), ERT_EFORMAT);
    /* an unknown field 99 (a newer peer) before an ack: skipped */
    const uint8_t unknown[] = {0x98, 0x06, 0x2a, 0xd2, 0x02, 0x00};
    CU_ASSERT_EQUAL(ert_wire_decode(unknown, sizeof unknown, e, NULL, &err), ERT_OK);
    CU_ASSERT_EQUAL(e->which_body, embedrt_v1_Envelope_ack_tag);
    /* a string over its bound: named body */
    uint8_t longname[3 + 2 + 40];
    longname[0] = 0x72; /* clear_goal */
    longname[1] = 42;
    longname[2] = 0x0a;
    longname[3] = 40;
    memset(longname + 4, 'm', 40);
    CU_ASSERT_EQUAL(ert_wire_decode(longname, 44, e, NULL, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "wire: Envelope of 44 bytes does not parse in body clear_goal: string overflow");
    CU_ASSERT_EQUAL(e->which_body, 0);
    /* truncated */
    CU_ASSERT_EQUAL(ert_wire_decode(longname, 20, e, NULL, &err), ERT_EFORMAT);
    /* later oneof member replaces the earlier one, with its view dropped */
    const uint8_t replaced[] = {0x6a, 0x06, 0x12, 0x04, 0x22, 0x02, 'h', 'i', 0x6a, 0x02, 0x28, 0x07};
    ert_wire_views v;
    CU_ASSERT_EQUAL(ert_wire_decode(replaced, sizeof replaced, e, &v, &err), ERT_OK);
    CU_ASSERT_EQUAL(e->body.set_goal.which_source, embedrt_v1_SetGoal_prior_seed_tag);
    CU_ASSERT_EQUAL(e->body.set_goal.source.prior_seed, 7);
    CU_ASSERT(v.image.data == NULL && v.image.len == 0);
    free(e);
}

static void test_wire_encode_refusals(void)
{
    embedrt_v1_Envelope *e = calloc(1, sizeof *e);
    uint8_t out[16];
    size_t len = 99;
    ert_error err;
    CU_ASSERT_EQUAL(ert_wire_encode(e, NULL, out, sizeof out, &len, &err), ERT_EINVAL);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(ert_wire_encoded_size(e, NULL), 0);
    e->which_body = 39;
    CU_ASSERT_EQUAL(ert_wire_encode(e, NULL, out, sizeof out, &len, &err), ERT_EINVAL);
    e->which_body = embedrt_v1_Envelope_error_tag;
    strcpy(e->body.error.message, "a message longer than sixteen bytes");
    CU_ASSERT_EQUAL(ert_wire_encode(e, NULL, out, sizeof out, &len, &err), ERT_ENOMEM);
    CU_ASSERT(strstr(err.msg, "does not fit the 16-byte buffer") != NULL);
    ert_wire_out bulk = {.demo = (const float *)out, .demo_count = ERT_WIRE_MAX_DEMO_FLOATS + 1u};
    CU_ASSERT_EQUAL(ert_wire_encode(e, &bulk, out, sizeof out, &len, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(ert_wire_body_name(embedrt_v1_Envelope_reward_tag), "reward");
    CU_ASSERT_STRING_EQUAL(ert_wire_body_name(0), "none");
    free(e);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_wire_rx_frames_at_every_split_point),
    ERT_TEST(test_wire_rx_byte_by_byte),
    ERT_TEST(test_wire_rx_several_frames_in_one_read_are_views),
    ERT_TEST(test_wire_rx_rejects_oversize_length_before_the_payload),
    ERT_TEST(test_wire_rx_rejects_6_byte_varint),
    ERT_TEST(test_wire_rx_accepts_exact_max_and_non_minimal_prefix),
    ERT_TEST(test_wire_put_prefix_bytes),
    ERT_TEST(test_wire_round_trips_every_body),
    ERT_TEST(test_wire_bulk_fields_decode_as_views),
    ERT_TEST(test_wire_encodes_ack_and_heatmap_byte_exact),
    ERT_TEST(test_wire_refuses_hostile_bulk_fields),
    ERT_TEST(test_wire_decode_refusals_and_unknown_fields),
    ERT_TEST(test_wire_encode_refusals),
    ERT_TEST_END,
};

const ert_test_suite ert_suite_wire = {"wire", cases};
