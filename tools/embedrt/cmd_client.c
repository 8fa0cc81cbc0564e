/* `embedrt client`: talks to a running embedrtd through the C client library
 * (runtime/include/embedrt/client.h): requests, and events printed as JSON lines. */
#include "cli.h"

#include "embedrt/client.h"
#include "embedrt/file.h"
#include "embedrt/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: embedrt client [--connect ADDR] [--timeout S] ACTION [options]\n"
    "\n"
    "Talks to a running embedrtd. ADDR: unix:/path, tcp:HOST:PORT or a bare socket path\n"
    "(default: $XDG_RUNTIME_DIR/embedrtd.sock, else /tmp/embedrtd-$UID.sock). Requests wait\n"
    "up to --timeout seconds (5) for the answer and print it as one JSON line.\n"
    "\n"
    "actions:\n"
    "  hello                                  the daemon's capabilities (cameras, models) as JSON\n"
    "  subscribe [--stream rewards|embeddings|heatmaps|stats]... [--camera C] [--model M]\n"
    "            [--decimation N] [--count N]  print one JSON line per event; stops after N events,\n"
    "                                         or when none arrives for --timeout seconds\n"
    "  goal --model M (--image FILE | --camera C | --prior-seed N | --embedding-npy F)\n"
    "                                         set a goal (PNG/JPEG/PPM image; a camera's current\n"
    "                                         frame; an imagined rig/ccvae goal; a [D] float32 .npy)\n"
    "  clear-goal [--model M]                 forget the goal (every model without --model)\n"
    "  reset [--model M]                      episode reset\n"
    "  demo --model M (--path P | --npy F)    TCN demonstration: a path on the robot, or a [T, D] .npy uploaded\n"
    "  grasp --model M --phase pre|post|outcome|closed|lifted|released [--success] [--grasp-id N]\n"
    "  load-model --model M --blob PATH       swap a model's blob (the old one keeps running on failure)\n"
    "  stats                                  the daemon's statistics\n"
    "\n"
    "Exit status: 0 success, 1 the daemon or the connection failed (one line on stderr), 2 usage.\n";

typedef struct opts {
    const char *connect, *camera, *model, *image, *emb_npy, *path, *npy, *blob, *phase;
    int streams[4];
    int n_streams;
    long decimation, count, grasp_id;
    unsigned long long prior_seed;
    bool has_seed, success;
    double timeout_s;
} opts;

/* ---------------------------------------------------------------- JSON */

static void jkey(const char *k, int *first)
{
    printf("%s\"%s\":", *first ? "" : ",", k);
    *first = 0;
}
static void jstr(const char *k, const char *v, int *first)
{
    jkey(k, first);
    ert_cli_json_str(stdout, v);
}
static void jnum(const char *k, double v, int *first)
{
    jkey(k, first);
    printf("%.9g", v);
}
static void ju64(const char *k, unsigned long long v, int *first)
{
    jkey(k, first);
    printf("%llu", v);
}
static void jfloats(const char *k, const float *v, size_t n, int *first)
{
    jkey(k, first);
    putchar('[');
    for (size_t i = 0; i < n; i++)
        printf("%s%.9g", i ? "," : "", (double)v[i]);
    putchar(']');
}
static void jviews(const char *k, const ert_wire_floats *v, int *first)
{
    jkey(k, first);
    putchar('[');
    for (size_t i = 0; i < v->count; i++)
        printf("%s%.9g", i ? "," : "", (double)ert_wire_float_at(v, i));
    putchar(']');
}

static const char *stream_name(int s)
{
    static const char *names[] = {"unspecified", "embeddings", "rewards", "heatmaps", "stats"};
    return s >= 0 && s <= 4 ? names[s] : "unknown";
}

static void print_caps(const embedrt_v1_Capabilities *c)
{
    int f = 1;
    putchar('{');
    jstr("type", "capabilities", &f);
    jstr("node", c->hello.node_name, &f);
    jstr("embedrt", c->hello.embedrt.describe, &f);
    ju64("protocol_version", c->hello.protocol_version, &f);
    ju64("max_frame_bytes", c->max_frame_bytes, &f);
    ju64("client_queue_depth", c->client_queue_depth, &f);
    jkey("cameras", &f);
    putchar('[');
    for (pb_size_t i = 0; i < c->cameras_count; i++) {
        const embedrt_v1_CameraInfo *k = &c->cameras[i];
        int g = 1;
        printf("%s{", i ? "," : "");
        jstr("name", k->name, &g);
        jstr("source", k->source, &g);
        ju64("width", k->width, &g);
        ju64("height", k->height, &g);
        jstr("pixel_format", k->pixel_format, &g);
        jnum("fps", k->fps, &g);
        putchar('}');
    }
    printf("]");
    jkey("models", &f);
    putchar('[');
    for (pb_size_t i = 0; i < c->models_count; i++) {
        const embedrt_v1_ModelInfo *m = &c->models[i];
        int g = 1;
        printf("%s{", i ? "," : "");
        jstr("name", m->name, &g);
        jstr("family", m->family, &g);
        jstr("blob_path", m->blob_path, &g);
        ju64("embedding_dim", m->embedding_dim, &g);
        ju64("generation", m->generation, &g);
        jkey("roles", &g);
        putchar('[');
        for (pb_size_t r = 0; r < m->roles_count; r++) {
            printf("%s", r ? "," : "");
            ert_cli_json_str(stdout, m->roles[r]);
        }
        printf("]");
        jkey("cameras", &g);
        putchar('[');
        for (pb_size_t r = 0; r < m->cameras_count; r++) {
            printf("%s", r ? "," : "");
            ert_cli_json_str(stdout, m->cameras[r]);
        }
        printf("]");
        jkey("params", &g);
        putchar('{');
        for (pb_size_t r = 0; r < m->params_count; r++) {
            printf("%s", r ? "," : "");
            ert_cli_json_str(stdout, m->params[r].name);
            putchar(':');
            ert_cli_json_str(stdout, m->params[r].version);
        }
        printf("}}");
    }
    printf("]}\n");
}

static void print_stats(const embedrt_v1_Stats *s)
{
    int f = 1;
    putchar('{');
    jstr("type", "stats", &f);
    ju64("uptime_ns", s->uptime_ns, &f);
    jkey("cameras", &f);
    putchar('[');
    for (pb_size_t i = 0; i < s->cameras_count; i++) {
        const embedrt_v1_CameraStats *c = &s->cameras[i];
        int g = 1;
        printf("%s{", i ? "," : "");
        jstr("name", c->name, &g);
        ju64("frames_in", c->frames_in, &g);
        ju64("frames_dropped", c->frames_dropped, &g);
        ju64("stalls", c->stalls, &g);
        jkey("ended", &g);
        printf("%s}", c->ended ? "true" : "false");
    }
    printf("]");
    jkey("models", &f);
    putchar('[');
    for (pb_size_t i = 0; i < s->models_count; i++) {
        const embedrt_v1_ModelStats *m = &s->models[i];
        int g = 1;
        printf("%s{", i ? "," : "");
        jstr("model", m->model, &g);
        jstr("camera", m->camera, &g);
        ju64("frames_out", m->frames_out, &g);
        jnum("latency_p50_ms", m->latency_p50_ms, &g);
        jnum("latency_p99_ms", m->latency_p99_ms, &g);
        jnum("inference_p50_ms", m->inference_p50_ms, &g);
        putchar('}');
    }
    printf("]");
    jkey("clients", &f);
    putchar('[');
    for (pb_size_t i = 0; i < s->clients_count; i++) {
        const embedrt_v1_ClientStats *c = &s->clients[i];
        int g = 1;
        printf("%s{", i ? "," : "");
        ju64("client_id", c->client_id, &g);
        ju64("events_sent", c->events_sent, &g);
        ju64("events_dropped", c->events_dropped, &g);
        putchar('}');
    }
    printf("]");
    jkey("links", &f);
    putchar('[');
    for (pb_size_t i = 0; i < s->links_count; i++) {
        const embedrt_v1_LinkState *l = &s->links[i];
        int g = 1;
        printf("%s{", i ? "," : "");
        jstr("name", l->name, &g);
        jstr("port", l->port, &g);
        jkey("connected", &g);
        printf("%s", l->connected ? "true" : "false");
        jkey("up", &g);
        printf("%s", l->up ? "true" : "false");
        jstr("peer_node", l->peer_node, &g);
        jstr("model", l->model, &g);
        ju64("grasp_reports", l->grasp_reports, &g);
        ju64("rewards_sent", l->rewards_sent, &g);
        ju64("errors", l->errors, &g);
        ju64("crc_errors", l->crc_errors, &g);
        ju64("resyncs", l->resyncs, &g);
        ju64("retransmissions", l->retransmissions, &g);
        ju64("drops", l->drops, &g);
        ju64("frames_rx", l->frames_rx, &g);
        ju64("frames_tx", l->frames_tx, &g);
        ju64("link_downs", l->link_downs, &g);
        putchar('}');
    }
    printf("]}\n");
}

/* One JSON line for any envelope the daemon sends. */
static void print_env(const embedrt_v1_Envelope *e, const ert_wire_views *v)
{
    int f = 1;
    switch (e->which_body) {
    case embedrt_v1_Envelope_capabilities_tag:
        print_caps(&e->body.capabilities);
        return;
    case embedrt_v1_Envelope_stats_tag:
        print_stats(&e->body.stats);
        return;
    case embedrt_v1_Envelope_reward_tag: {
        const embedrt_v1_Reward *r = &e->body.reward;
        putchar('{');
        jstr("type", "reward", &f);
        jstr("model", r->model, &f);
        jstr("family", r->family, &f);
        jstr("reward_type", r->type, &f);
        jnum("value", r->value, &f);
        jkey("components", &f);
        putchar('{');
        for (pb_size_t i = 0; i < r->components_count; i++) {
            printf("%s", i ? "," : "");
            ert_cli_json_str(stdout, r->components[i].name);
            printf(":%.17g", r->components[i].value);
        }
        putchar('}');
        ju64("goal_id", r->goal_id, &f);
        jstr("camera", r->camera, &f);
        ju64("frame_seq", r->frame_seq, &f);
        ju64("capture_ns", r->capture_ns, &f);
        ju64("publish_ns", r->publish_ns, &f);
        ju64("grasp_id", r->grasp_id, &f);
        break;
    }
    case embedrt_v1_Envelope_embedding_tag: {
        const embedrt_v1_Embedding *m = &e->body.embedding;
        putchar('{');
        jstr("type", "embedding", &f);
        jstr("model", m->model, &f);
        jstr("camera", m->camera, &f);
        jstr("role", m->role, &f);
        ju64("frame_seq", m->frame_seq, &f);
        ju64("capture_ns", m->capture_ns, &f);
        ju64("publish_ns", m->publish_ns, &f);
        jfloats("vector", m->vector, m->vector_count, &f);
        break;
    }
    case embedrt_v1_Envelope_heatmap_tag: {
        const embedrt_v1_Heatmap *h = &e->body.heatmap;
        putchar('{');
        jstr("type", "heatmap", &f);
        jstr("model", h->model, &f);
        jstr("camera", h->camera, &f);
        ju64("height", h->height, &f);
        ju64("width", h->width, &f);
        jnum("keypoint_x", h->keypoint_x, &f);
        jnum("keypoint_y", h->keypoint_y, &f);
        ju64("goal_id", h->goal_id, &f);
        ju64("frame_seq", h->frame_seq, &f);
        ju64("capture_ns", h->capture_ns, &f);
        jviews("values", &v->heatmap, &f);
        break;
    }
    case embedrt_v1_Envelope_notice_tag: {
        static const char *kinds[] = {"unspecified", "camera_stall",    "camera_recovered", "camera_end",
                                      "model_swapped", "config_reloaded", "events_dropped",  "shutdown"};
        const embedrt_v1_Notice *n = &e->body.notice;
        putchar('{');
        jstr("type", "notice", &f);
        jstr("kind", n->kind >= 0 && n->kind <= 7 ? kinds[n->kind] : "unknown", &f);
        jstr("subject", n->subject, &f);
        jstr("message", n->message, &f);
        ju64("count", n->count, &f);
        break;
    }
    case embedrt_v1_Envelope_goal_set_tag: {
        const embedrt_v1_GoalSet *g = &e->body.goal_set;
        putchar('{');
        jstr("type", "goal_set", &f);
        jstr("model", g->model, &f);
        ju64("goal_id", g->goal_id, &f);
        jfloats("embedding", g->embedding, g->embedding_count, &f);
        break;
    }
    default:
        putchar('{');
        jstr("type", ert_wire_body_name(e->which_body), &f);
        break;
    }
    ju64("request_id", e->request_id, &f);
    printf("}\n");
}

/* ---------------------------------------------------------------- options */

static int parse(int argc, char **argv, int start, opts *o)
{
    for (int i = start; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field)                                                                                              \
    do {                                                                                                         \
        if (!v) {                                                                                                \
            fprintf(stderr, "embedrt client: %s needs a value\n", a);                                            \
            return 0;                                                                                            \
        }                                                                                                        \
        o->field = v;                                                                                            \
        i++;                                                                                                     \
    } while (0)
        if (!strcmp(a, "--camera")) TAKE(camera);
        else if (!strcmp(a, "--model")) TAKE(model);
        else if (!strcmp(a, "--image")) TAKE(image);
        else if (!strcmp(a, "--embedding-npy")) TAKE(emb_npy);
        else if (!strcmp(a, "--path")) TAKE(path);
        else if (!strcmp(a, "--npy")) TAKE(npy);
        else if (!strcmp(a, "--blob")) TAKE(blob);
        else if (!strcmp(a, "--phase")) TAKE(phase);
        else if (!strcmp(a, "--connect")) TAKE(connect);
        else if (!strcmp(a, "--success")) o->success = true;
        else if (!strcmp(a, "--timeout")) {
            char *end;
            o->timeout_s = v ? strtod(v, &end) : 0;
            if (!v || *end || !(o->timeout_s > 0 && o->timeout_s < 1e6)) {
                fprintf(stderr, "embedrt client: --timeout: '%s' is not a number of seconds > 0\n", v ? v : "");
                return 0;
            }
            i++;
        }
        else if (!strcmp(a, "--stream")) {
            static const char *names[] = {"embeddings", "rewards", "heatmaps", "stats"};
            int s = 0;
            for (int k = 0; k < 4; k++)
                if (v && !strcmp(v, names[k]))
                    s = k + 1;
            if (!s) {
                fprintf(stderr, "embedrt client: --stream: '%s' is not rewards, embeddings, heatmaps or stats\n",
                        v ? v : "");
                return 0;
            }
            if (o->n_streams == 4) {
                fprintf(stderr, "embedrt client: at most 4 --stream options\n");
                return 0;
            }
            o->streams[o->n_streams++] = s;
            i++;
        } else if (!strcmp(a, "--decimation")) {
            if (!ert_cli_parse_int(a, v, 0, 1000000, &o->decimation)) return 0;
            i++;
        } else if (!strcmp(a, "--count")) {
            if (!ert_cli_parse_int(a, v, 1, 1L << 40, &o->count)) return 0;
            i++;
        } else if (!strcmp(a, "--grasp-id")) {
            if (!ert_cli_parse_int(a, v, 0, UINT32_MAX, &o->grasp_id)) return 0;
            i++;
        } else if (!strcmp(a, "--prior-seed")) {
            char *end;
            if (!v || !*v || *v == '-' || (o->prior_seed = strtoull(v, &end, 10), *end)) {
                fprintf(stderr, "embedrt client: --prior-seed: '%s' is not an unsigned integer\n", v ? v : "");
                return 0;
            }
            o->has_seed = true;
            i++;
        } else {
            fprintf(stderr, "embedrt client: unknown option '%s' (see embedrt client --help)\n", a);
            return 0;
        }
#undef TAKE
    }
    return 1;
}

static int need(const char *v, const char *opt, const char *action)
{
    if (!v)
        fprintf(stderr, "embedrt client %s: %s is required\n", action, opt);
    return v != NULL;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---------------------------------------------------------------- actions */

static int fail(const ert_error *err)
{
    fprintf(stderr, "embedrt client: %s\n", err->msg);
    return 1;
}

static int do_request(ert_client *c, embedrt_v1_Envelope *env, const ert_wire_out *bulk, int timeout_ms)
{
    ert_error err;
    if (ert_client_request(c, env, bulk, timeout_ms, &err) != ERT_OK)
        return fail(&err);
    ert_wire_views none = {0};
    print_env(env, &none);
    return 0;
}

static int subscribe(ert_client *c, const opts *o, embedrt_v1_Envelope *env, int timeout_ms)
{
    int streams[4] = {embedrt_v1_Stream_STREAM_REWARDS};
    int n = o->n_streams ? o->n_streams : 1;
    if (o->n_streams)
        memcpy(streams, o->streams, sizeof streams);
    ert_error err;
    for (int i = 0; i < n; i++) {
        memset(env, 0, sizeof *env);
        env->which_body = embedrt_v1_Envelope_subscribe_tag;
        env->body.subscribe.stream = (embedrt_v1_Stream)streams[i];
        copy_name(env->body.subscribe.camera, sizeof env->body.subscribe.camera, o->camera);
        copy_name(env->body.subscribe.model, sizeof env->body.subscribe.model, o->model);
        env->body.subscribe.decimation = (uint32_t)o->decimation;
        if (ert_client_request(c, env, NULL, timeout_ms, &err) != ERT_OK) {
            fprintf(stderr, "embedrt client: subscribe %s: %s\n", stream_name(streams[i]), err.msg);
            return 1;
        }
    }
    long got = 0;
    while (!o->count || got < o->count) {
        ert_wire_views v;
        bool have;
        if (ert_client_next_event(c, env, &v, timeout_ms, &have, &err) != ERT_OK)
            return fail(&err);
        if (!have) {
            if (o->count) {
                fprintf(stderr, "embedrt client: %s: only %ld of %ld events within %g s of each other\n",
                        ert_client_address(c), got, o->count, o->timeout_s);
                return 1;
            }
            return 0;
        }
        print_env(env, &v);
        fflush(stdout);
        got++;
    }
    return 0;
}

static int goal(ert_client *c, const opts *o, embedrt_v1_Envelope *env, int timeout_ms)
{
    if (!need(o->model, "--model", "goal"))
        return 2;
    int sources = !!o->image + !!o->camera + o->has_seed + !!o->emb_npy;
    if (sources != 1) {
        fprintf(stderr, "embedrt client goal: give exactly one of --image, --camera, --prior-seed, --embedding-npy\n");
        return 2;
    }
    env->which_body = embedrt_v1_Envelope_set_goal_tag;
    embedrt_v1_SetGoal *g = &env->body.set_goal;
    copy_name(g->model, sizeof g->model, o->model);
    ert_error err;
    int rc;
    if (o->image) {
        ert_file_map m;
        if (ert_file_map_open(o->image, &m, &err) != ERT_OK)
            return fail(&err);
        embedrt_v1_Image_Encoding enc = embedrt_v1_Image_Encoding_ENCODING_UNSPECIFIED;
        if (m.size >= 8 && !memcmp(m.data, "\x89PNG\r\n\x1a\n", 8))
            enc = embedrt_v1_Image_Encoding_ENCODING_PNG;
        else if (m.size >= 3 && !memcmp(m.data, "\xff\xd8\xff", 3))
            enc = embedrt_v1_Image_Encoding_ENCODING_JPEG;
        else if (m.size >= 2 && m.data[0] == 'P' && (m.data[1] == '5' || m.data[1] == '6'))
            enc = embedrt_v1_Image_Encoding_ENCODING_PPM;
        if (enc == embedrt_v1_Image_Encoding_ENCODING_UNSPECIFIED) {
            ert_file_map_close(&m);
            fprintf(stderr, "embedrt client goal: %s: not a PNG, JPEG or binary PPM/PGM file (by its first bytes)\n",
                    o->image);
            return 1;
        }
        g->which_source = embedrt_v1_SetGoal_image_tag;
        g->source.image.encoding = enc;
        ert_wire_out bulk = {.image = m.data, .image_len = m.size};
        rc = do_request(c, env, &bulk, timeout_ms);
        ert_file_map_close(&m);
        return rc;
    }
    if (o->camera) {
        g->which_source = embedrt_v1_SetGoal_camera_tag;
        copy_name(g->source.camera, sizeof g->source.camera, o->camera);
    } else if (o->has_seed) {
        g->which_source = embedrt_v1_SetGoal_prior_seed_tag;
        g->source.prior_seed = o->prior_seed;
    } else {
        ert_npy n;
        if (ert_npy_read(o->emb_npy, &n, &err) != ERT_OK)
            return fail(&err);
        size_t count = n.shape.rank == 1 ? (size_t)n.shape.dims[0]
                       : n.shape.rank == 2 && n.shape.dims[0] == 1 ? (size_t)n.shape.dims[1] : 0;
        size_t cap = sizeof g->source.embedding.vector / sizeof g->source.embedding.vector[0];
        if (n.dtype != ERT_DT_F32 || count == 0 || count > cap) {
            fprintf(stderr, "embedrt client goal: %s: expected a float32 [D] or [1, D] array with D <= %zu\n",
                    o->emb_npy, cap);
            ert_npy_free(&n);
            return 1;
        }
        g->which_source = embedrt_v1_SetGoal_embedding_tag;
        memcpy(g->source.embedding.vector, n.data, count * sizeof(float));
        g->source.embedding.vector_count = (pb_size_t)count;
        ert_npy_free(&n);
    }
    return do_request(c, env, NULL, timeout_ms);
}

static int demo(ert_client *c, const opts *o, embedrt_v1_Envelope *env, int timeout_ms)
{
    if (!need(o->model, "--model", "demo"))
        return 2;
    if (!o->path == !o->npy) {
        fprintf(stderr, "embedrt client demo: give exactly one of --path and --npy\n");
        return 2;
    }
    env->which_body = embedrt_v1_Envelope_load_demo_tag;
    embedrt_v1_LoadDemo *d = &env->body.load_demo;
    copy_name(d->model, sizeof d->model, o->model);
    if (o->path) {
        if (strlen(o->path) >= sizeof d->source.path) {
            fprintf(stderr, "embedrt client demo: --path longer than %zu bytes\n", sizeof d->source.path - 1);
            return 2;
        }
        d->which_source = embedrt_v1_LoadDemo_path_tag;
        copy_name(d->source.path, sizeof d->source.path, o->path);
        return do_request(c, env, NULL, timeout_ms);
    }
    ert_npy n;
    ert_error err;
    if (ert_npy_read(o->npy, &n, &err) != ERT_OK)
        return fail(&err);
    if (n.dtype != ERT_DT_F32 || n.shape.rank != 2 || n.shape.dims[0] > UINT32_MAX || n.shape.dims[1] > UINT32_MAX) {
        fprintf(stderr, "embedrt client demo: %s: expected a float32 [T, D] array\n", o->npy);
        ert_npy_free(&n);
        return 1;
    }
    d->which_source = embedrt_v1_LoadDemo_embeddings_tag;
    d->source.embeddings.frames = (uint32_t)n.shape.dims[0];
    d->source.embeddings.dim = (uint32_t)n.shape.dims[1];
    ert_wire_out bulk = {.demo = n.data, .demo_count = n.nbytes / sizeof(float)};
    int rc = do_request(c, env, &bulk, timeout_ms);
    ert_npy_free(&n);
    return rc;
}

static int grasp(ert_client *c, const opts *o, embedrt_v1_Envelope *env, int timeout_ms)
{
    static const char *phases[] = {"pre", "post", "outcome", "closed", "lifted", "released"};
    if (!need(o->model, "--model", "grasp") || !need(o->phase, "--phase", "grasp"))
        return 2;
    int ph = 0;
    for (int k = 0; k < 6; k++)
        if (!strcmp(o->phase, phases[k]))
            ph = k + 1;
    if (!ph) {
        fprintf(stderr, "embedrt client grasp: --phase '%s' is not pre, post, outcome, closed, lifted or released\n",
                o->phase);
        return 2;
    }
    env->which_body = embedrt_v1_Envelope_grasp_event_tag;
    embedrt_v1_GraspEvent *g = &env->body.grasp_event;
    copy_name(g->model, sizeof g->model, o->model);
    g->phase = (embedrt_v1_GraspPhase)ph;
    g->success = o->success;
    g->grasp_id = (uint32_t)o->grasp_id;
    return do_request(c, env, NULL, timeout_ms);
}

int ert_cmd_client(int argc, char **argv)
{
    opts o = {.timeout_s = 5.0};
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--connect") && i + 1 < argc) {
            o.connect = argv[++i];
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            char *end;
            o.timeout_s = strtod(argv[++i], &end);
            if (*end || !(o.timeout_s > 0 && o.timeout_s < 1e6)) {
                fprintf(stderr, "embedrt client: --timeout: '%s' is not a number of seconds > 0\n", argv[i]);
                return 2;
            }
        } else {
            break;
        }
    }
    if (i >= argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *action = argv[i];
    static const char *actions[] = {"hello", "subscribe", "goal", "clear-goal", "reset",
                                    "demo", "grasp", "load-model", "stats"};
    int known = 0;
    for (size_t k = 0; k < sizeof actions / sizeof actions[0]; k++)
        known |= !strcmp(action, actions[k]);
    if (!known) {
        fprintf(stderr, "embedrt client: unknown action '%s' (see embedrt client --help)\n", action);
        return 2;
    }
    for (int k = i + 1; k < argc; k++)
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
    if (!parse(argc, argv, i + 1, &o))
        return 2;
    if ((o.model && strlen(o.model) > 31) || (o.camera && strlen(o.camera) > 31) ||
        (o.blob && strlen(o.blob) > 255)) {
        fprintf(stderr, "embedrt client: --model and --camera hold at most 31 bytes, --blob 255\n");
        return 2;
    }
    int timeout_ms = (int)(o.timeout_s * 1000.0);

    ert_client *c;
    ert_error err;
    ert_client_options copt = {.node_name = "embedrt-client-cli", .timeout_ms = timeout_ms};
    if (ert_client_connect(o.connect, &copt, &c, &err) != ERT_OK)
        return fail(&err);
    embedrt_v1_Envelope *env = calloc(1, sizeof *env);
    int rc = 1;
    if (!env) {
        fprintf(stderr, "embedrt client: out of memory\n");
    } else if (!strcmp(action, "hello")) {
        print_caps(ert_client_capabilities(c));
        rc = 0;
    } else if (!strcmp(action, "subscribe")) {
        rc = subscribe(c, &o, env, timeout_ms);
    } else if (!strcmp(action, "goal")) {
        rc = goal(c, &o, env, timeout_ms);
    } else if (!strcmp(action, "demo")) {
        rc = demo(c, &o, env, timeout_ms);
    } else if (!strcmp(action, "grasp")) {
        rc = grasp(c, &o, env, timeout_ms);
    } else if (!strcmp(action, "clear-goal") || !strcmp(action, "reset")) {
        bool clear = !strcmp(action, "clear-goal");
        env->which_body = clear ? embedrt_v1_Envelope_clear_goal_tag : embedrt_v1_Envelope_reset_episode_tag;
        copy_name(clear ? env->body.clear_goal.model : env->body.reset_episode.model, 32, o.model);
        rc = do_request(c, env, NULL, timeout_ms);
    } else if (!strcmp(action, "load-model")) {
        if (need(o.model, "--model", action) && need(o.blob, "--blob", action)) {
            env->which_body = embedrt_v1_Envelope_load_model_tag;
            copy_name(env->body.load_model.model, sizeof env->body.load_model.model, o.model);
            copy_name(env->body.load_model.blob_path, sizeof env->body.load_model.blob_path, o.blob);
            rc = do_request(c, env, NULL, timeout_ms);
        } else {
            rc = 2;
        }
    } else if (!strcmp(action, "stats")) {
        env->which_body = embedrt_v1_Envelope_get_stats_tag;
        rc = do_request(c, env, NULL, timeout_ms);
    }
    free(env);
    ert_client_close(c);
    return rc;
}
