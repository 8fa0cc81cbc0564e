/* The C side of the wire-compatibility test with Python's protobuf library.
 *   proto_peer encode hello|status   nanopb-encodes the canonical sample to stdout
 *   proto_peer decode hello|status   nanopb-decodes stdin, prints the fields as JSON
 *   proto_peer encode envelopes      the sample daemon envelopes as frames (ert_wire_encode)
 *   proto_peer decode envelopes      frames from stdin through ert_wire_rx + ert_wire_decode,
 *                                    each re-encoded (bulk from the views) to stdout
 * Decode failures exit 1 with nanopb's (or ert_wire's) reason on stderr. */
#include "embedrt/v1/core.pb.h"
#include "embedrt/wire.h"

#include <stdlib.h>

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <string.h>

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p); /* UTF-8 passes through */
    }
    putchar('"');
}

/* The sample both sides agree on; test_proto_python.py builds the same in Python. */
static embedrt_v1_Hello sample_hello(void)
{
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    h.protocol_version = 1;
    h.has_embedrt = true;
    h.embedrt = (embedrt_v1_Version){.major = 0, .minor = 1, .patch = 0};
    strcpy(h.embedrt.describe, "v0.1.0-7-g0123abc-dirty");
    strcpy(h.node_name, "embedrtd@r\xc3\xb6" "bot-3"); /* UTF-8 */
    const char *comp[][2] = {{"openblas", "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"},
                             {"zlib", "1.2.13"},
                             {"nanopb", "nanopb-0.4.7"},
                             {"libcamera", ""}};
    h.components_count = 4;
    for (int i = 0; i < 4; i++) {
        strcpy(h.components[i].name, comp[i][0]);
        strcpy(h.components[i].version, comp[i][1]);
    }
    h.capabilities_count = 2;
    strcpy(h.capabilities[0], "camera");
    strcpy(h.capabilities[1], "int8");
    h.monotonic_ns = 18446744073709551615ull;
    return h;
}

static embedrt_v1_Status sample_status(void)
{
    embedrt_v1_Status s = embedrt_v1_Status_init_zero;
    s.code = embedrt_v1_StatusCode_STATUS_FORMAT;
    strcpy(s.message, "g2v.erb: section 'weights' CRC mismatch (expected 0x1234abcd, got 0x0badf00d)");
    s.request_id = 4242;
    return s;
}

static int encode(const pb_msgdesc_t *fields, const void *msg)
{
    uint8_t buf[4096];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    if (!pb_encode(&os, fields, msg)) {
        fprintf(stderr, "proto_peer: encode failed: %s\n", PB_GET_ERROR(&os));
        return 1;
    }
    fwrite(buf, 1, os.bytes_written, stdout);
    return 0;
}

static int decode(const pb_msgdesc_t *fields, void *msg)
{
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    if (n == sizeof buf) {
        fprintf(stderr, "proto_peer: input larger than %zu bytes\n", sizeof buf);
        return 1;
    }
    pb_istream_t is = pb_istream_from_buffer(buf, n);
    if (!pb_decode(&is, fields, msg)) {
        fprintf(stderr, "proto_peer: decode failed: %s\n", PB_GET_ERROR(&is));
        return 1;
    }
    return 0;
}

static void print_hello(const embedrt_v1_Hello *h)
{
    printf("{\"protocol_version\":%u,\"has_embedrt\":%s,", (unsigned)h->protocol_version,
           h->has_embedrt ? "true" : "false");
    printf("\"embedrt\":{\"major\":%u,\"minor\":%u,\"patch\":%u,\"describe\":", (unsigned)h->embedrt.major,
           (unsigned)h->embedrt.minor, (unsigned)h->embedrt.patch);
    json_str(h->embedrt.describe);
    printf("},\"node_name\":");
    json_str(h->node_name);
    printf(",\"components\":[");
    for (pb_size_t i = 0; i < h->components_count; i++) {
        printf("%s{\"name\":", i ? "," : "");
        json_str(h->components[i].name);
        printf(",\"version\":");
        json_str(h->components[i].version);
        printf("}");
    }
    printf("],\"capabilities\":[");
    for (pb_size_t i = 0; i < h->capabilities_count; i++) {
        printf("%s", i ? "," : "");
        json_str(h->capabilities[i]);
    }
    printf("],\"monotonic_ns\":%llu}\n", (unsigned long long)h->monotonic_ns);
}

static void print_status(const embedrt_v1_Status *s)
{
    printf("{\"code\":%d,\"message\":", (int)s->code);
    json_str(s->message);
    printf(",\"request_id\":%llu}\n", (unsigned long long)s->request_id);
}

/* ---- daemon envelopes: test_proto_python.py builds the same list */

static const uint8_t goal_image[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 1, 2, 0xff};
static const float demo_values[6] = {0.5f, -1.0f, 2.0f, 3.25f, 1e-3f, -0.0f};
static const float heat_values[4] = {0.125f, 0.25f, 0.5f, 0.125f};

#define N_ENVELOPES 12

static void sample_envelope(int i, embedrt_v1_Envelope *e, ert_wire_out *bulk)
{
    memset(e, 0, sizeof *e);
    memset(bulk, 0, sizeof *bulk);
    e->seq = (uint32_t)i + 1;
    e->request_id = (uint64_t)i * 1000;
    switch (i) {
    case 0:
        e->which_body = embedrt_v1_Envelope_ack_tag;
        break;
    case 1:
        e->which_body = embedrt_v1_Envelope_subscribe_tag;
        e->body.subscribe.stream = embedrt_v1_Stream_STREAM_HEATMAPS;
        strcpy(e->body.subscribe.camera, "scene");
        e->body.subscribe.decimation = 3;
        break;
    case 2:
        e->which_body = embedrt_v1_Envelope_set_goal_tag;
        strcpy(e->body.set_goal.model, "g2v");
        e->body.set_goal.which_source = embedrt_v1_SetGoal_image_tag;
        e->body.set_goal.source.image.encoding = embedrt_v1_Image_Encoding_ENCODING_PNG;
        bulk->image = goal_image;
        bulk->image_len = sizeof goal_image;
        break;
    case 3:
        e->which_body = embedrt_v1_Envelope_set_goal_tag;
        strcpy(e->body.set_goal.model, "rig");
        e->body.set_goal.which_source = embedrt_v1_SetGoal_prior_seed_tag;
        e->body.set_goal.source.prior_seed = UINT64_MAX;
        break;
    case 4:
        e->which_body = embedrt_v1_Envelope_load_demo_tag;
        strcpy(e->body.load_demo.model, "tcn");
        e->body.load_demo.which_source = embedrt_v1_LoadDemo_embeddings_tag;
        e->body.load_demo.source.embeddings.frames = 2;
        e->body.load_demo.source.embeddings.dim = 3;
        bulk->demo = demo_values;
        bulk->demo_count = 6;
        break;
    case 5:
        e->which_body = embedrt_v1_Envelope_grasp_event_tag;
        e->body.grasp_event.phase = embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED;
        e->body.grasp_event.success = true;
        e->body.grasp_event.source_time_ns = 1234567890123ull;
        e->body.grasp_event.grasp_id = 7;
        break;
    case 6:
        e->which_body = embedrt_v1_Envelope_goal_set_tag;
        strcpy(e->body.goal_set.model, "g2v");
        e->body.goal_set.goal_id = 1;
        e->body.goal_set.embedding_count = 1; /* a single element: packed too */
        e->body.goal_set.embedding[0] = -0.5f;
        break;
    case 7:
        e->which_body = embedrt_v1_Envelope_error_tag;
        e->body.error.code = embedrt_v1_StatusCode_STATUS_NOT_FOUND;
        strcpy(e->body.error.message, "SetGoal.model: no model 'x' (loaded: g2v)");
        break;
    case 8:
        e->which_body = embedrt_v1_Envelope_embedding_tag;
        strcpy(e->body.embedding.model, "tcn");
        strcpy(e->body.embedding.camera, "view_a");
        strcpy(e->body.embedding.role, "embedder");
        e->body.embedding.vector_count = 5;
        for (int k = 0; k < 5; k++)
            e->body.embedding.vector[k] = (float)k * 0.5f - 1.0f;
        e->body.embedding.frame_seq = 42;
        e->body.embedding.capture_ns = 1000000007ull;
        e->body.embedding.publish_ns = 1000500007ull;
        break;
    case 9: {
        e->which_body = embedrt_v1_Envelope_reward_tag;
        embedrt_v1_Reward *r = &e->body.reward;
        strcpy(r->model, "rig");
        strcpy(r->family, "rig");
        strcpy(r->type, "latent_distance");
        r->value = -1.0 / 3.0;
        r->components_count = 2;
        strcpy(r->components[0].name, "distance");
        r->components[0].value = 1.0 / 3.0;
        strcpy(r->components[1].name, "sparse");
        r->components[1].value = 0.0;
        r->goal_id = 2;
        strcpy(r->camera, "scene");
        r->frame_seq = 99;
        r->capture_ns = 5;
        r->publish_ns = 6;
        break;
    }
    case 10:
        e->which_body = embedrt_v1_Envelope_heatmap_tag;
        strcpy(e->body.heatmap.model, "g2v");
        e->body.heatmap.height = 2;
        e->body.heatmap.width = 2;
        e->body.heatmap.keypoint_x = 0.75f;
        e->body.heatmap.keypoint_y = 0.25f;
        e->body.heatmap.frame_seq = 3;
        bulk->heatmap = heat_values;
        bulk->heatmap_count = 4;
        break;
    default: {
        e->which_body = embedrt_v1_Envelope_capabilities_tag;
        embedrt_v1_Capabilities *c = &e->body.capabilities;
        c->has_hello = true;
        c->hello = sample_hello();
        c->cameras_count = 1;
        strcpy(c->cameras[0].name, "scene");
        strcpy(c->cameras[0].source, "replay:/srv/ep1.y4m");
        c->cameras[0].width = 224;
        c->cameras[0].height = 224;
        strcpy(c->cameras[0].pixel_format, "YUV420");
        c->cameras[0].fps = 29.97;
        c->models_count = 1;
        embedrt_v1_ModelInfo *m = &c->models[0];
        strcpy(m->name, "g2v");
        strcpy(m->family, "grasp2vec");
        strcpy(m->blob_path, "/srv/g2v.erb");
        m->roles_count = 2;
        strcpy(m->roles[0], "scene");
        strcpy(m->roles[1], "object");
        m->embedding_dim = 512;
        m->cameras_count = 1;
        strcpy(m->cameras[0], "scene");
        m->params_count = 1;
        strcpy(m->params[0].name, "similarity");
        strcpy(m->params[0].version, "cosine");
        m->generation = 2;
        c->max_frame_bytes = ERT_WIRE_MAX_FRAME;
        c->client_queue_depth = 64;
        break;
    }
    }
}

static int encode_envelopes(void)
{
    static embedrt_v1_Envelope e;
    for (int i = 0; i < N_ENVELOPES; i++) {
        ert_wire_out bulk;
        sample_envelope(i, &e, &bulk);
        uint8_t buf[8192];
        size_t len;
        ert_error err;
        if (ert_wire_encode(&e, &bulk, buf, sizeof buf, &len, &err) != ERT_OK) {
            fprintf(stderr, "proto_peer: envelope %d: %s\n", i, err.msg);
            return 1;
        }
        fwrite(buf, 1, len, stdout);
    }
    return 0;
}

/* Frames in, canonical frames out: the bulk fields travel through the decoded views. */
static int decode_envelopes(void)
{
    ert_wire_rx rx;
    ert_error err;
    if (ert_wire_rx_init(&rx, 0, &err) != ERT_OK) {
        fprintf(stderr, "proto_peer: %s\n", err.msg);
        return 1;
    }
    static embedrt_v1_Envelope e;
    static float demo[ERT_WIRE_MAX_DEMO_FLOATS], heat[ERT_WIRE_MAX_HEATMAP_FLOATS];
    int rc = 0;
    for (bool eof = false; !eof && rc == 0;) {
        size_t avail;
        uint8_t *dst = ert_wire_rx_space(&rx, &avail);
        size_t n = fread(dst, 1, avail < 4096 ? avail : 4096, stdin); /* small reads: frames get split */
        eof = n == 0;
        ert_wire_rx_commit(&rx, n);
        for (;;) {
            const uint8_t *p;
            size_t len;
            bool have;
            ert_wire_views v;
            if (ert_wire_rx_frame(&rx, &p, &len, &have, &err) != ERT_OK ||
                (have && ert_wire_decode(p, len, &e, &v, &err) != ERT_OK)) {
                fprintf(stderr, "proto_peer: decode failed: %s\n", err.msg);
                rc = 1;
                break;
            }
            if (!have)
                break;
            for (size_t i = 0; i < v.demo.count; i++)
                demo[i] = ert_wire_float_at(&v.demo, i);
            for (size_t i = 0; i < v.heatmap.count; i++)
                heat[i] = ert_wire_float_at(&v.heatmap, i);
            ert_wire_out bulk = {v.image.data, v.image.len, demo, v.demo.count, heat, v.heatmap.count};
            size_t size = ert_wire_encoded_size(&e, &bulk);
            uint8_t *out = malloc(size ? size : 1);
            size_t olen;
            if (!out || ert_wire_encode(&e, &bulk, out, size, &olen, &err) != ERT_OK) {
                fprintf(stderr, "proto_peer: re-encode failed: %s\n", err.msg);
                free(out);
                rc = 1;
                break;
            }
            fwrite(out, 1, olen, stdout);
            free(out);
        }
    }
    if (rc == 0 && rx.len != rx.consumed) {
        fprintf(stderr, "proto_peer: decode failed: %zu bytes of an unfinished frame at the end\n",
                rx.len - rx.consumed);
        rc = 1;
    }
    ert_wire_rx_free(&rx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[2], "envelopes") == 0) {
        if (strcmp(argv[1], "encode") == 0)
            return encode_envelopes();
        if (strcmp(argv[1], "decode") == 0)
            return decode_envelopes();
    }
    if (argc != 3) {
        fprintf(stderr, "usage: proto_peer encode|decode hello|status|envelopes\n");
        return 2;
    }
    int hello = strcmp(argv[2], "hello") == 0;
    if (!hello && strcmp(argv[2], "status") != 0) {
        fprintf(stderr, "proto_peer: unknown message '%s'\n", argv[2]);
        return 2;
    }
    if (strcmp(argv[1], "encode") == 0) {
        if (hello) {
            embedrt_v1_Hello h = sample_hello();
            return encode(embedrt_v1_Hello_fields, &h);
        }
        embedrt_v1_Status s = sample_status();
        return encode(embedrt_v1_Status_fields, &s);
    }
    if (strcmp(argv[1], "decode") == 0) {
        if (hello) {
            embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
            if (decode(embedrt_v1_Hello_fields, &h))
                return 1;
            print_hello(&h);
            return 0;
        }
        embedrt_v1_Status s = embedrt_v1_Status_init_zero;
        if (decode(embedrt_v1_Status_fields, &s))
            return 1;
        print_status(&s);
        return 0;
    }
    fprintf(stderr, "proto_peer: unknown mode '%s'\n", argv[1]);
    return 2;
}
