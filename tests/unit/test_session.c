/* Unit tests (suite "session"): daemon sessions on the reference fixtures' family blobs
 * (converted at build time by tests/unit/meson.build). Every reward, heatmap and
 * embedding is compared with the same family API run on a separately loaded copy of the
 * blob, every command must produce exactly one reply with its request_id, failed
 * commands leave the state as it was, and the per-frame path must not allocate. */
#include "harness.h"

#include "session.h"

#include "embedrt/ccvae.h"
#include "embedrt/grasp2vec.h"
#include "embedrt/image.h"
#include "embedrt/mftcn.h"
#include "embedrt/npy.h"
#include "embedrt/rig.h"
#include "embedrt/tcn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- allocation counter */

/* unit_tests links with -Wl,--wrap=malloc,calloc,realloc: every allocation made by
 * embedrt's code goes through these. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
static volatile size_t n_allocs;

void *__wrap_malloc(size_t n)
{
    n_allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    n_allocs++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    n_allocs++;
    return __real_realloc(p, n);
}

/* ---------------------------------------------------------------- helpers */

#define OK(expr)                                                                                                       \
    do {                                                                                                               \
        ert_error e_;                                                                                                  \
        ert_error_clear(&e_);                                                                                          \
        ert_status s_ = (expr);                                                                                        \
        if (s_ != ERT_OK)                                                                                              \
            fprintf(stderr, "\n  %s: %s\n", #expr, e_.msg);                                                           \
        CU_ASSERT_EQUAL_FATAL(s_, ERT_OK);                                                                             \
    } while (0)

static const char *blob(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/session_%s.erb", ERT_SESSION_BLOB_DIR, name);
    return path;
}

static bool close_f(double got, double want, double tol)
{
    bool ok = fabs(got - want) <= tol * (1 + fabs(want));
    if (!ok)
        fprintf(stderr, "\n  got %.9g want %.9g\n", got, want);
    return ok;
}

static double norm_ref(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

static bool close_v(const float *got, const float *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!close_f(got[i], want[i], tol)) {
            fprintf(stderr, "  at [%zu]\n", i);
            return false;
        }
    return true;
}

/* Synthetic RGB24 frames: a seeded pseudo-random texture so every frame embeds differently. */
#define FW 80
#define FH 72
typedef struct tframe {
    uint8_t px[FW * FH * 3];
    ert_frame f;
} tframe;

static void mkframe(tframe *t, int seed, uint64_t seq)
{
    uint32_t x = 2654435761u * (uint32_t)(seed + 1);
    for (size_t i = 0; i < sizeof t->px; i++) {
        x = x * 1664525u + 1013904223u;
        t->px[i] = (uint8_t)((x >> 24) / 2 + (i % (FW * 3)) / 4);
    }
    memset(&t->f, 0, sizeof t->f);
    t->f.format = ERT_PIX_RGB24;
    t->f.width = FW;
    t->f.height = FH;
    t->f.stride[0] = FW * 3;
    t->f.plane[0] = t->px;
    t->f.seq = seq;
    t->f.t_capture_ns = 1000000u * seq + 7;
}

static tframe F[6];

/* The emit callback records every envelope (and heatmap values) it is given. */
#define REC_MAX 16
static struct {
    size_t n;
    embedrt_v1_Envelope ev[REC_MAX];
    float heat[REC_MAX][64];
    size_t heat_n[REC_MAX];
} R;

static void rec_fn(void *ctx, const embedrt_v1_Envelope *env, const ert_wire_out *bulk)
{
    (void)ctx;
    if (R.n < REC_MAX) {
        R.ev[R.n] = *env;
        R.heat_n[R.n] = bulk ? bulk->heatmap_count : 0;
        for (size_t i = 0; bulk && i < bulk->heatmap_count && i < 64; i++)
            R.heat[R.n][i] = bulk->heatmap[i];
    }
    R.n++;
}
static const ert_session_emit EMIT = {rec_fn, NULL};

static bool is_reply(pb_size_t which)
{
    return which == embedrt_v1_Envelope_ack_tag || which == embedrt_v1_Envelope_error_tag ||
           which == embedrt_v1_Envelope_goal_set_tag;
}

static embedrt_v1_Envelope REQ;
static uint64_t next_request = 100;
static ert_error cmd_err;

static embedrt_v1_Envelope *req(pb_size_t which)
{
    memset(&REQ, 0, sizeof REQ);
    REQ.request_id = ++next_request;
    REQ.which_body = which;
    return &REQ;
}

/* Runs a command; asserts one reply, first, with the request's id, and events after it
 * with request_id 0. Returns the status. */
static ert_status command(ert_session *s, const ert_wire_views *views, const ert_session_frames *frames)
{
    R.n = 0;
    ert_error_clear(&cmd_err);
    ert_status st = ert_session_command(s, &REQ, views, frames, &EMIT, &cmd_err);
    CU_ASSERT_TRUE_FATAL(R.n >= 1 && R.n <= REC_MAX);
    CU_ASSERT_TRUE(is_reply(R.ev[0].which_body));
    CU_ASSERT_EQUAL(R.ev[0].request_id, REQ.request_id);
    for (size_t i = 1; i < R.n; i++) {
        CU_ASSERT_FALSE(is_reply(R.ev[i].which_body));
        CU_ASSERT_EQUAL(R.ev[i].request_id, 0);
    }
    CU_ASSERT_EQUAL(st == ERT_OK, R.ev[0].which_body != embedrt_v1_Envelope_error_tag);
    return st;
}

/* The reply was an Error with this code and a message containing text. */
static void expect_error(embedrt_v1_StatusCode code, const char *text)
{
    CU_ASSERT_EQUAL_FATAL(R.ev[0].which_body, embedrt_v1_Envelope_error_tag);
    CU_ASSERT_EQUAL(R.ev[0].body.error.code, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.ev[0].body.error.message, text));
    if (!strstr(R.ev[0].body.error.message, text))
        fprintf(stderr, "\n  error '%s' lacks '%s'\n", R.ev[0].body.error.message, text);
    CU_ASSERT_EQUAL(R.n, 1);
}

static ert_session *open_session(const char *name, const char *b, const char *cam0, const char *cam1)
{
    ert_session_config cfg = {.name = name, .blob_path = b, .cameras = {cam0, cam1}, .n_cameras = cam1 ? 2 : 1,
                              .threads = 1};
    ert_session *s = NULL;
    OK(ert_session_create(&cfg, &s, &e_));
    return s;
}

static void frame(ert_session *s, size_t ci, const tframe *t)
{
    R.n = 0;
    OK(ert_session_frame(s, ci, &t->f, &EMIT, &e_));
}

static const embedrt_v1_Reward *find_reward(const char *type)
{
    for (size_t i = 0; i < R.n && i < REC_MAX; i++)
        if (R.ev[i].which_body == embedrt_v1_Envelope_reward_tag && strcmp(R.ev[i].body.reward.type, type) == 0)
            return &R.ev[i].body.reward;
    return NULL;
}

static double component(const embedrt_v1_Reward *r, const char *name)
{
    for (size_t i = 0; i < r->components_count; i++)
        if (strcmp(r->components[i].name, name) == 0)
            return r->components[i].value;
    return NAN;
}

static void set_goal_embedding(const float *v, size_t n)
{
    req(embedrt_v1_Envelope_set_goal_tag);
    REQ.body.set_goal.which_source = embedrt_v1_SetGoal_embedding_tag;
    REQ.body.set_goal.source.embedding.vector_count = (pb_size_t)n;
    memcpy(REQ.body.set_goal.source.embedding.vector, v, n * sizeof *v);
}

static void set_goal_camera(const char *cam)
{
    req(embedrt_v1_Envelope_set_goal_tag);
    REQ.body.set_goal.which_source = embedrt_v1_SetGoal_camera_tag;
    snprintf(REQ.body.set_goal.source.camera, sizeof REQ.body.set_goal.source.camera, "%s", cam);
}

static void set_goal_prior(uint64_t seed)
{
    req(embedrt_v1_Envelope_set_goal_tag);
    REQ.body.set_goal.which_source = embedrt_v1_SetGoal_prior_seed_tag;
    REQ.body.set_goal.source.prior_seed = seed;
}

static void grasp(int phase, bool success, uint32_t id)
{
    req(embedrt_v1_Envelope_grasp_event_tag);
    REQ.body.grasp_event.phase = (embedrt_v1_GraspPhase)phase;
    REQ.body.grasp_event.success = success;
    REQ.body.grasp_event.grasp_id = id;
}

/* An independently loaded copy of a blob: the reference the session must agree with. */
static ert_family_model *load_ref(const char *name)
{
    ert_family_model *fm = NULL;
    ert_model_options opt = {.threads = 1};
    OK(ert_family_load(blob(name), &opt, &fm, &e_));
    return fm;
}

static void setup_frames(void)
{
    for (int i = 0; i < 6; i++)
        mkframe(&F[i], i, (uint64_t)(10 + i));
}

/* ---------------------------------------------------------------- create, info */

static void test_session_create_checks_config_and_blob(void)
{
    ert_session *s = (ert_session *)1;
    ert_error err;
    ert_session_config cfg = {.name = "m", .blob_path = "/nonexistent/x.erb", .cameras = {"c"}, .n_cameras = 1,
                              .threads = 1};
    CU_ASSERT_NOT_EQUAL(ert_session_create(&cfg, &s, &err), ERT_OK);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/x.erb"));
    cfg.blob_path = blob("rig");
    cfg.cameras[1] = "d";
    cfg.n_cameras = 2;
    CU_ASSERT_EQUAL(ert_session_create(&cfg, &s, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "binds 2 cameras; family rig takes exactly 1"));
    cfg.cameras[1] = "c";
    cfg.blob_path = blob("g2v");
    CU_ASSERT_EQUAL(ert_session_create(&cfg, &s, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lists camera 'c' twice"));
    cfg.n_cameras = 1;
    cfg.threads = 0;
    CU_ASSERT_EQUAL(ert_session_create(&cfg, &s, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "threads must be >= 1"));
    cfg.threads = 1;
    cfg.name = "a_name_that_is_longer_than_31_bytes";
    CU_ASSERT_EQUAL(ert_session_create(&cfg, &s, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model name must be 1..31 bytes"));
}

static void test_session_info_lists_family_roles_dim_cameras_params(void)
{
    ert_session *s = open_session("g2v", blob("g2v"), "scene", "wrist");
    static embedrt_v1_ModelInfo mi;
    ert_session_info(s, &mi);
    CU_ASSERT_STRING_EQUAL(mi.name, "g2v");
    CU_ASSERT_STRING_EQUAL(mi.family, "grasp2vec");
    CU_ASSERT_STRING_EQUAL(mi.blob_path, blob("g2v"));
    CU_ASSERT_EQUAL_FATAL(mi.roles_count, 2);
    CU_ASSERT_STRING_EQUAL(mi.roles[0], "scene");
    CU_ASSERT_STRING_EQUAL(mi.roles[1], "object");
    CU_ASSERT_EQUAL(mi.embedding_dim, 128);
    CU_ASSERT_EQUAL_FATAL(mi.cameras_count, 2);
    CU_ASSERT_STRING_EQUAL(mi.cameras[1], "wrist");
    CU_ASSERT_EQUAL(mi.generation, 0);
    bool sim = false, temp = false;
    for (size_t i = 0; i < mi.params_count; i++) {
        sim |= strcmp(mi.params[i].name, "similarity") == 0 && strcmp(mi.params[i].version, "cosine") == 0;
        temp |= strcmp(mi.params[i].name, "heatmap_temperature") == 0 && strcmp(mi.params[i].version, "0.1") == 0;
    }
    CU_ASSERT_TRUE(sim);
    CU_ASSERT_TRUE(temp);
    CU_ASSERT_STRING_EQUAL(ert_session_name(s), "g2v");
    CU_ASSERT_EQUAL(ert_session_camera_index(s, "wrist"), 1);
    CU_ASSERT_EQUAL(ert_session_camera_index(s, "nope"), -1);
    ert_session_free(s);
}

/* ---------------------------------------------------------------- grasp2vec */

static void test_g2v_scene_embedding_then_goal_heatmap_match_the_model_layer(void)
{
    setup_frames();
    ert_session *s = open_session("g2v", blob("g2v"), "scene", NULL);
    ert_family_model *fm = load_ref("g2v");
    ert_g2v *g = NULL;
    OK(ert_g2v_create(fm, &g, &e_));
    float want[128], goal[128], heat[16], prob[16], kp[2];
    /* No goal: one Embedding (role scene) with the frame's seq and capture time. */
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL_FATAL(R.n, 1);
    const embedrt_v1_Embedding *e = &R.ev[0].body.embedding;
    CU_ASSERT_EQUAL(R.ev[0].which_body, embedrt_v1_Envelope_embedding_tag);
    CU_ASSERT_STRING_EQUAL(e->model, "g2v");
    CU_ASSERT_STRING_EQUAL(e->camera, "scene");
    CU_ASSERT_STRING_EQUAL(e->role, "scene");
    CU_ASSERT_EQUAL(e->frame_seq, 10);
    CU_ASSERT_EQUAL(e->capture_ns, 10000007u);
    CU_ASSERT_TRUE(e->publish_ns > 0);
    CU_ASSERT_EQUAL_FATAL(e->vector_count, 128);
    OK(ert_g2v_embed_scene(g, &F[0].f, want, NULL, &e_));
    CU_ASSERT_TRUE(close_v(e->vector, want, 128, 1e-5));
    /* Goal by uploaded PNG: GoalSet carries phi_o(goal). */
    ert_image png = {0};
    OK(ert_image_read(ert_test_fixture("image/dec_rgb.png"), &png, &e_));
    FILE *fp = fopen(ert_test_fixture("image/dec_rgb.png"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    static uint8_t bytes[4096];
    size_t len = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);
    req(embedrt_v1_Envelope_set_goal_tag);
    REQ.body.set_goal.which_source = embedrt_v1_SetGoal_image_tag;
    REQ.body.set_goal.source.image.encoding = embedrt_v1_Image_Encoding_ENCODING_PNG;
    ert_wire_views views = {.image = {bytes, len}};
    CU_ASSERT_EQUAL(command(s, &views, NULL), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(R.ev[0].which_body, embedrt_v1_Envelope_goal_set_tag);
    const embedrt_v1_GoalSet *gs = &R.ev[0].body.goal_set;
    CU_ASSERT_EQUAL(gs->goal_id, 1);
    CU_ASSERT_STRING_EQUAL(gs->model, "g2v");
    CU_ASSERT_EQUAL_FATAL(gs->embedding_count, 128);
    OK(ert_g2v_embed_object(g, &png.frame, goal, &e_));
    CU_ASSERT_TRUE(close_v(gs->embedding, goal, 128, 1e-5));
    /* With the goal: Embedding then Heatmap equal to ert_g2v_locate's softmax and keypoint. */
    frame(s, 0, &F[1]);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    CU_ASSERT_EQUAL_FATAL(R.ev[1].which_body, embedrt_v1_Envelope_heatmap_tag);
    const embedrt_v1_Heatmap *h = &R.ev[1].body.heatmap;
    OK(ert_g2v_locate(g, NULL, &png.frame, &F[1].f, heat, prob, kp, &e_));
    CU_ASSERT_EQUAL(h->height, 4);
    CU_ASSERT_EQUAL(h->width, 4);
    CU_ASSERT_EQUAL(h->goal_id, 1);
    CU_ASSERT_EQUAL(h->frame_seq, 11);
    CU_ASSERT_EQUAL_FATAL(R.heat_n[1], 16);
    CU_ASSERT_TRUE(close_v(R.heat[1], prob, 16, 1e-5));
    CU_ASSERT_TRUE(close_f(h->keypoint_x, (kp[0] + 1) / 2, 1e-5));
    CU_ASSERT_TRUE(close_f(h->keypoint_y, (kp[1] + 1) / 2, 1e-5));
    CU_ASSERT_TRUE(h->keypoint_x >= 0 && h->keypoint_x <= 1 && h->keypoint_y >= 0 && h->keypoint_y <= 1);
    double total = 0;
    for (int i = 0; i < 16; i++)
        total += R.heat[1][i];
    CU_ASSERT_TRUE(close_f(total, 1.0, 1e-5));
    ert_image_free(&png);
    ert_g2v_free(g);
    ert_family_free(fm);
    ert_session_free(s);
}

static void test_g2v_goal_by_embedding_and_snapshot_and_bad_goals_change_nothing(void)
{
    setup_frames();
    ert_session *s = open_session("g2v", blob("g2v"), "scene", NULL);
    ert_family_model *fm = load_ref("g2v");
    ert_g2v *g = NULL;
    OK(ert_g2v_create(fm, &g, &e_));
    float v[128], snap[128];
    for (int i = 0; i < 128; i++)
        v[i] = (float)sin(i * 0.37);
    set_goal_embedding(v, 128);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.goal_id, 1);
    CU_ASSERT_EQUAL(memcmp(R.ev[0].body.goal_set.embedding, v, sizeof v), 0);
    /* Wrong length, NaN, unknown camera, camera without a frame: errors, goal 1 stays. */
    set_goal_embedding(v, 5);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "set_goal.embedding.vector: 5 values");
    float bad[128];
    memcpy(bad, v, sizeof v);
    bad[3] = NAN;
    set_goal_embedding(bad, 128);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "value 3 is nan");
    ert_session_frames frames = {{NULL}, NULL};
    set_goal_camera("nope");
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_ENOTFOUND);
    expect_error(embedrt_v1_StatusCode_STATUS_NOT_FOUND, "set_goal.camera 'nope'");
    set_goal_camera("scene");
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_ENOTFOUND);
    expect_error(embedrt_v1_StatusCode_STATUS_NOT_FOUND, "has not delivered a frame yet");
    req(embedrt_v1_Envelope_set_goal_tag);
    REQ.body.set_goal.which_source = embedrt_v1_SetGoal_image_tag;
    REQ.body.set_goal.source.image.encoding = embedrt_v1_Image_Encoding_ENCODING_RGB24;
    REQ.body.set_goal.source.image.width = 4;
    REQ.body.set_goal.source.image.height = 4;
    ert_wire_views views = {.image = {F[0].px, 47}};
    CU_ASSERT_EQUAL(command(s, &views, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "RGB24 4x4 needs width*height*3 = 48 bytes");
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    CU_ASSERT_EQUAL(R.ev[1].body.heatmap.goal_id, 1);
    /* Prior goals are not grasp2vec's. */
    set_goal_prior(3);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EUNSUPPORTED);
    expect_error(embedrt_v1_StatusCode_STATUS_UNSUPPORTED, "family grasp2vec");
    /* Snapshot of its own camera, then of another model's camera. */
    frames.latest[0] = &F[2].f;
    set_goal_camera("scene");
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.goal_id, 2);
    OK(ert_g2v_embed_object(g, &F[2].f, snap, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.goal_set.embedding, snap, 128, 1e-5));
    frames.snapshot = &F[3].f;
    set_goal_camera("other_models_cam");
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.goal_id, 3);
    OK(ert_g2v_embed_object(g, &F[3].f, snap, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.goal_set.embedding, snap, 128, 1e-5));
    /* ClearGoal: Ack, and frames carry no heatmap. */
    req(embedrt_v1_Envelope_clear_goal_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].which_body, embedrt_v1_Envelope_ack_tag);
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL(R.n, 1);
    /* Not session requests, or not grasp2vec's. */
    req(embedrt_v1_Envelope_load_demo_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EUNSUPPORTED);
    expect_error(embedrt_v1_StatusCode_STATUS_UNSUPPORTED, "load_demo: model 'g2v' (family grasp2vec)");
    req(embedrt_v1_Envelope_get_stats_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EUNSUPPORTED);
    expect_error(embedrt_v1_StatusCode_STATUS_UNSUPPORTED, "get_stats: not a model request");
    req(embedrt_v1_Envelope_clear_goal_tag);
    strcpy(REQ.body.clear_goal.model, "rig");
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_ENOTFOUND);
    ert_g2v_free(g);
    ert_family_free(fm);
    ert_session_free(s);
}

static void test_g2v_grasp_pre_post_outcome_rewards_equal_embedrt_reward(void)
{
    setup_frames();
    ert_session *s = open_session("g2v", blob("g2v"), "scene", "wrist");
    ert_family_model *fm = load_ref("g2v");
    ert_g2v *g = NULL;
    OK(ert_g2v_create(fm, &g, &e_));
    ert_session_frames frames = {{NULL}, NULL};
    /* Goal: a snapshot of F[5] from the wrist camera. */
    frames.latest[1] = &F[5].f;
    set_goal_camera("wrist");
    CU_ASSERT_EQUAL_FATAL(command(s, NULL, &frames), ERT_OK);
    /* POST before PRE, OUTCOME without a frame: errors. */
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_POST, false, 7);
    frames.latest[0] = &F[1].f;
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "no PRE capture");
    frames.latest[1] = NULL;
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_OUTCOME, false, 7);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_ENOTFOUND);
    expect_error(embedrt_v1_StatusCode_STATUS_NOT_FOUND, "camera 'wrist' has not delivered a frame yet");
    /* PRE on F[1], POST on F[2]: Ack, then the scene-difference reward. */
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_PRE, false, 7);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].which_body, embedrt_v1_Envelope_ack_tag);
    CU_ASSERT_EQUAL(R.n, 1);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_POST, false, 8);
    frames.latest[0] = &F[2].f;
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "the PRE capture belongs to grasp 7");
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_POST, false, 7);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    const embedrt_v1_Reward *r = find_reward("scene_difference");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    ert_g2v_reward want;
    OK(ert_g2v_scene_diff_reward(g, NULL, &F[5].f, &F[1].f, &F[2].f, &want, &e_));
    CU_ASSERT_TRUE(close_f(r->value, want.value, 1e-5));
    CU_ASSERT_TRUE(close_f(component(r, "cosine"), want.cosine, 1e-5));
    CU_ASSERT_TRUE(close_f(component(r, "dot"), want.dot, 1e-5));
    CU_ASSERT_TRUE(close_f(component(r, "goal_norm"), want.norm_goal, 1e-5));
    CU_ASSERT_TRUE(close_f(component(r, "difference_norm"), want.norm_other, 1e-5));
    CU_ASSERT_EQUAL(r->grasp_id, 7);
    CU_ASSERT_EQUAL(r->goal_id, 1);
    CU_ASSERT_STRING_EQUAL(r->family, "grasp2vec");
    CU_ASSERT_STRING_EQUAL(r->camera, "scene");
    CU_ASSERT_EQUAL(r->frame_seq, 12);
    /* The PRE capture is used up. */
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_EINVAL);
    /* OUTCOME on the wrist camera's F[3]. */
    frames.latest[1] = &F[3].f;
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_OUTCOME, false, 7);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    r = find_reward("outcome");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    OK(ert_g2v_outcome_reward(g, NULL, &F[5].f, &F[3].f, &want, &e_));
    CU_ASSERT_TRUE(close_f(r->value, want.value, 1e-5));
    CU_ASSERT_TRUE(close_f(component(r, "outcome_norm"), want.norm_other, 1e-5));
    CU_ASSERT_STRING_EQUAL(r->camera, "wrist");
    CU_ASSERT_EQUAL(r->frame_seq, 13);
    /* LIFTED success after PRE: scene difference and outcome together. */
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_PRE, false, 9);
    frames.latest[0] = &F[4].f;
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    frames.latest[0] = &F[0].f;
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, true, 9);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.n, 3);
    r = find_reward("scene_difference");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    OK(ert_g2v_scene_diff_reward(g, NULL, &F[5].f, &F[4].f, &F[0].f, &want, &e_));
    CU_ASSERT_TRUE(close_f(r->value, want.value, 1e-5));
    CU_ASSERT_EQUAL(r->grasp_id, 9);
    CU_ASSERT_PTR_NOT_NULL(find_reward("outcome"));
    /* LIFTED failure: Ack and a grasp_failed reward of 0; CLOSED/RELEASED: Ack only. */
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, false, 10);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.n, 2);
    r = find_reward("grasp_failed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->value, 0.0);
    CU_ASSERT_EQUAL(r->grasp_id, 10);
    CU_ASSERT_EQUAL(r->goal_id, 1);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 11);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.n, 1);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_RELEASED, false, 11);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(R.n, 1);
    grasp(9, false, 11);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "grasp_event.phase: 9");
    /* Without a goal OUTCOME fails; POST gives the difference embedding. */
    req(embedrt_v1_Envelope_clear_goal_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_OUTCOME, false, 12);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "has no goal");
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_PRE, false, 12);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_POST, false, 12);
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    CU_ASSERT_EQUAL(R.ev[1].which_body, embedrt_v1_Envelope_embedding_tag);
    CU_ASSERT_STRING_EQUAL(R.ev[1].body.embedding.role, "scene_diff");
    /* Outcome-camera frames run nothing; scene frames do. */
    frame(s, 1, &F[0]);
    CU_ASSERT_EQUAL(R.n, 0);
    ert_g2v_free(g);
    ert_family_free(fm);
    ert_session_free(s);
}

/* ---------------------------------------------------------------- rig, ccvae */

static void test_rig_rewards_for_image_snapshot_and_prior_goals_equal_embedrt_reward(void)
{
    setup_frames();
    ert_session *s = open_session("rig", blob("rig"), "cam", NULL);
    ert_family_model *fm = load_ref("rig");
    ert_rig *r = NULL;
    ert_rig_params p;
    OK(ert_rig_create(fm, &r, &e_));
    OK(ert_rig_params_from(fm, &p, &e_));
    CU_ASSERT_EQUAL_FATAL(p.latent_dim, 4); /* the blob has latent statistics */
    float mu[4], z[4];
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL_FATAL(R.n, 1);
    CU_ASSERT_STRING_EQUAL(R.ev[0].body.embedding.role, "encoder");
    CU_ASSERT_EQUAL_FATAL(R.ev[0].body.embedding.vector_count, 4);
    OK(ert_rig_encode(r, &F[0].f, mu, NULL, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, mu, 4, 1e-5));
    /* Goal: RGB24 upload of F[1]. */
    req(embedrt_v1_Envelope_set_goal_tag);
    REQ.body.set_goal.which_source = embedrt_v1_SetGoal_image_tag;
    REQ.body.set_goal.source.image.encoding = embedrt_v1_Image_Encoding_ENCODING_RGB24;
    REQ.body.set_goal.source.image.width = FW;
    REQ.body.set_goal.source.image.height = FH;
    ert_wire_views views = {.image = {F[1].px, sizeof F[1].px}};
    CU_ASSERT_EQUAL_FATAL(command(s, &views, NULL), ERT_OK);
    OK(ert_rig_set_goal_image(r, &F[1].f, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.goal_set.embedding, ert_rig_goal(r), 4, 1e-5));
    frame(s, 0, &F[2]);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    const embedrt_v1_Reward *rw = find_reward("latent_distance");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rw);
    ert_rig_reward want;
    OK(ert_rig_reward_frame(r, &p, &F[2].f, &want, mu, NULL, &e_));
    CU_ASSERT_TRUE(close_f(rw->value, want.value, 1e-5));
    CU_ASSERT_TRUE(close_f(component(rw, "distance"), want.distance, 1e-5));
    CU_ASSERT_EQUAL(component(rw, "sparse"), want.sparse);
    CU_ASSERT_TRUE(close_f(component(rw, "mahalanobis"), want.mahalanobis, 1e-5));
    CU_ASSERT_TRUE(close_f(component(rw, "latent_norm"), sqrt(mu[0] * mu[0] + mu[1] * mu[1] + mu[2] * mu[2] +
                                                               mu[3] * mu[3]), 1e-5));
    CU_ASSERT_EQUAL(rw->goal_id, 1);
    /* Prior goal 42: the blob's statistics, exactly as embedrt reward --prior-goal. */
    set_goal_prior(42);
    CU_ASSERT_EQUAL_FATAL(command(s, NULL, NULL), ERT_OK);
    ert_rig_sample_prior(42, p.latent_mean, p.latent_std, 4, z);
    CU_ASSERT_EQUAL(memcmp(R.ev[0].body.goal_set.embedding, z, sizeof z), 0);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.goal_id, 2);
    OK(ert_rig_set_goal_prior(r, &p, 42, &e_));
    frame(s, 0, &F[3]);
    rw = find_reward("latent_distance");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rw);
    OK(ert_rig_reward_frame(r, &p, &F[3].f, &want, NULL, NULL, &e_));
    CU_ASSERT_TRUE(close_f(rw->value, want.value, 1e-5));
    CU_ASSERT_EQUAL(rw->goal_id, 2);
    /* Snapshot goal; a bad embedding afterwards changes nothing. */
    ert_session_frames frames = {{&F[4].f}, NULL};
    set_goal_camera("cam");
    CU_ASSERT_EQUAL_FATAL(command(s, NULL, &frames), ERT_OK);
    OK(ert_rig_set_goal_image(r, &F[4].f, &e_));
    set_goal_embedding(z, 3);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "3 values; model 'rig' (rig) latents have 4");
    frame(s, 0, &F[0]);
    rw = find_reward("latent_distance");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rw);
    OK(ert_rig_reward_frame(r, &p, &F[0].f, &want, NULL, NULL, &e_));
    CU_ASSERT_TRUE(close_f(rw->value, want.value, 1e-5));
    CU_ASSERT_EQUAL(rw->goal_id, 3);
    /* ResetEpisode is acknowledged; ClearGoal stops the rewards. */
    req(embedrt_v1_Envelope_reset_episode_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    req(embedrt_v1_Envelope_clear_goal_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL(R.n, 1);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_PRE, false, 1);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EUNSUPPORTED);
    expect_error(embedrt_v1_StatusCode_STATUS_UNSUPPORTED, "grasp_event: model 'rig' (family rig)");
    ert_rig_free(r);
    ert_family_free(fm);
    ert_session_free(s);
}

static void test_ccvae_context_from_first_frame_and_after_reset(void)
{
    setup_frames();
    ert_session *s = open_session("cc", blob("ccvae"), "cam", NULL);
    ert_family_model *fm = load_ref("ccvae");
    ert_ccvae *m = NULL;
    ert_ccvae_params p;
    OK(ert_ccvae_create(fm, &m, &e_));
    OK(ert_ccvae_params_from(fm, &p, &e_));
    size_t n = ert_ccvae_latent_dim(m);
    CU_ASSERT_EQUAL_FATAL(n, 10);
    float lat[10], goal[10];
    /* A goal before any frame waits for the context: GoalSet without an embedding. */
    set_goal_prior(7);
    CU_ASSERT_EQUAL_FATAL(command(s, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.goal_id, 1);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.embedding_count, 0);
    /* The first frame is the context; its reward uses [z(7), c(F0)]. */
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    OK(ert_ccvae_reset(m, &F[0].f, &e_));
    OK(ert_ccvae_set_goal_prior(m, 7, &e_));
    ert_rig_reward want;
    OK(ert_ccvae_reward_frame(m, &p, &F[0].f, &want, lat, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, lat, n, 1e-5));
    const embedrt_v1_Reward *rw = find_reward("latent_distance");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rw);
    CU_ASSERT_TRUE(close_f(rw->value, want.value, 1e-5));
    CU_ASSERT_EQUAL(rw->goal_id, 1);
    frame(s, 0, &F[1]);
    OK(ert_ccvae_reward_frame(m, &p, &F[1].f, &want, lat, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, lat, n, 1e-5));
    CU_ASSERT_TRUE(close_f(find_reward("latent_distance")->value, want.value, 1e-5));
    /* With a context, a goal image is encoded under it at once. */
    ert_session_frames frames = {{&F[2].f}, NULL};
    set_goal_camera("cam");
    CU_ASSERT_EQUAL_FATAL(command(s, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(R.ev[0].body.goal_set.embedding_count, 10);
    OK(ert_ccvae_set_goal_image(m, &F[2].f, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.goal_set.embedding, ert_ccvae_goal_of(m), n, 1e-5));
    /* Reset: F[3] becomes the context; the prior goal comes back with the new c. */
    set_goal_prior(7);
    CU_ASSERT_EQUAL_FATAL(command(s, NULL, NULL), ERT_OK);
    req(embedrt_v1_Envelope_reset_episode_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    frame(s, 0, &F[3]);
    OK(ert_ccvae_reset(m, &F[3].f, &e_));
    OK(ert_ccvae_set_goal_prior(m, 7, &e_));
    memcpy(goal, ert_ccvae_goal_of(m), sizeof goal);
    ert_ccvae_goal(7, ert_ccvae_context(m), 6, 4, lat);
    CU_ASSERT_EQUAL(memcmp(goal, lat, sizeof goal), 0);
    OK(ert_ccvae_reward_frame(m, &p, &F[3].f, &want, lat, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, lat, n, 1e-5));
    rw = find_reward("latent_distance");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rw);
    CU_ASSERT_TRUE(close_f(rw->value, want.value, 1e-5));
    CU_ASSERT_TRUE(close_f(component(rw, "goal_norm"), norm_ref(goal, n), 1e-5));
    CU_ASSERT_EQUAL(rw->goal_id, 3);
    /* A mu-only embedding goal gets the episode's c appended; other lengths fail. */
    set_goal_embedding(goal, 5);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "takes 10 (the latent [mu, c]) or 6");
    set_goal_embedding(goal, 6);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(R.ev[0].body.goal_set.embedding_count, 10);
    CU_ASSERT_EQUAL(memcmp(R.ev[0].body.goal_set.embedding + 6, ert_ccvae_context(m), 4 * sizeof(float)), 0);
    ert_ccvae_free(m);
    ert_family_free(fm);
    ert_session_free(s);
}

/* ---------------------------------------------------------------- tcn, mftcn */

static void test_tcn_views_track_an_uploaded_demo_and_reset_to_time_zero(void)
{
    setup_frames();
    ert_session *s = open_session("tcn", blob("tcn"), "left", "right");
    ert_family_model *fm = load_ref("tcn");
    ert_tcn *t = NULL;
    OK(ert_tcn_create(fm, &t, &e_));
    size_t d = ert_tcn_dim(t);
    CU_ASSERT_EQUAL_FATAL(d, 32);
    /* The demo: embeddings of F[0..2], uploaded as little-endian floats. */
    static float demo[3 * 32];
    static uint8_t le[sizeof demo];
    for (int i = 0; i < 3; i++)
        OK(ert_tcn_embed(t, NULL, &F[i].f, demo + i * d, &e_));
    memcpy(le, demo, sizeof demo); /* x86/arm little-endian */
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_embeddings_tag;
    REQ.body.load_demo.source.embeddings.frames = 3;
    REQ.body.load_demo.source.embeddings.dim = 32;
    ert_wire_views views = {.demo = {le, 3 * 32}};
    CU_ASSERT_EQUAL_FATAL(command(s, &views, NULL), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].which_body, embedrt_v1_Envelope_ack_tag);
    /* Offline: tracker over the same demo, as embedrt reward --demo --live. */
    ert_tcn_demo *dm = NULL;
    ert_tcn_tracker trl, trr;
    OK(ert_tcn_demo_from_array(demo, 3, d, &dm, &e_));
    OK(ert_tcn_tracker_init(&trl, dm, ert_tcn_blob_params(t), &e_));
    OK(ert_tcn_tracker_init(&trr, dm, ert_tcn_blob_params(t), &e_));
    float w[32];
    ert_tcn_step st;
    const int left[] = {3, 1, 4, 0}, right[] = {2};
    for (int k = 0; k < 4; k++) {
        frame(s, 0, &F[left[k]]);
        CU_ASSERT_EQUAL_FATAL(R.n, 2);
        OK(ert_tcn_step_frame(t, &trl, &F[left[k]].f, &st, &e_));
        OK(ert_tcn_embed(t, NULL, &F[left[k]].f, w, &e_));
        CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, w, d, 1e-5));
        const embedrt_v1_Reward *r = find_reward("imitation");
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_TRUE(close_f(r->value, st.reward, 1e-5));
        CU_ASSERT_EQUAL(component(r, "frame"), (double)k);
        CU_ASSERT_EQUAL(component(r, "demo_frame"), (double)(k < 2 ? k : 2));
        CU_ASSERT_EQUAL(component(r, "nn_index"), (double)st.nearest);
        CU_ASSERT_TRUE(close_f(component(r, "distance"), sqrt(st.dist2), 1e-5));
        CU_ASSERT_STRING_EQUAL(r->camera, "left");
    }
    /* The right view has its own time. */
    frame(s, 1, &F[right[0]]);
    OK(ert_tcn_step_frame(t, &trr, &F[right[0]].f, &st, &e_));
    CU_ASSERT_EQUAL(component(find_reward("imitation"), "frame"), 0.0);
    CU_ASSERT_TRUE(close_f(find_reward("imitation")->value, st.reward, 1e-5));
    CU_ASSERT_STRING_EQUAL(find_reward("imitation")->camera, "right");
    /* A demo of the wrong size is refused; the loaded one stays. */
    REQ.body.load_demo.source.embeddings.dim = 31;
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_embeddings_tag;
    REQ.body.load_demo.source.embeddings.frames = 3;
    REQ.body.load_demo.source.embeddings.dim = 31;
    CU_ASSERT_EQUAL(command(s, &views, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "load_demo.embeddings.dim: 31");
    REQ.body.load_demo.source.embeddings.dim = 32;
    REQ.body.load_demo.source.embeddings.frames = 2;
    CU_ASSERT_EQUAL(command(s, &views, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "needs 64 values, got 96");
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_path_tag;
    strcpy(REQ.body.load_demo.source.path, "/tmp/demo.txt");
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EINVAL);
    expect_error(embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT, "expected a .npy [T, 32]");
    frame(s, 0, &F[0]);
    CU_ASSERT_EQUAL(component(find_reward("imitation"), "frame"), 4.0);
    /* ResetEpisode: time 0 again on every view. */
    req(embedrt_v1_Envelope_reset_episode_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    frame(s, 0, &F[2]);
    CU_ASSERT_EQUAL(component(find_reward("imitation"), "frame"), 0.0);
    CU_ASSERT_EQUAL(component(find_reward("imitation"), "demo_frame"), 0.0);
    frame(s, 1, &F[2]);
    CU_ASSERT_EQUAL(component(find_reward("imitation"), "frame"), 0.0);
    /* The same demo from a .npy path. */
    char path[64];
    strcpy(path, "/tmp/ert-sess-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(path));
    strcat(path, "/demo.npy");
    ert_shape shp = {.rank = 2, .dims = {3, 32}};
    OK(ert_npy_write(path, ERT_DT_F32, &shp, demo, &e_));
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_path_tag;
    strcpy(REQ.body.load_demo.source.path, path);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    frame(s, 0, &F[1]);
    OK(ert_tcn_tracker_init(&trl, dm, ert_tcn_blob_params(t), &e_));
    OK(ert_tcn_step_frame(t, &trl, &F[1].f, &st, &e_));
    CU_ASSERT_TRUE(close_f(find_reward("imitation")->value, st.reward, 1e-5));
    unlink(path);
    *strrchr(path, '/') = 0;
    rmdir(path);
    /* Goal image for tcn: the embedder; prior: unsupported. */
    set_goal_prior(1);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EUNSUPPORTED);
    ert_session_frames frames = {{&F[4].f, NULL}, NULL};
    set_goal_camera("left");
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_OK);
    OK(ert_tcn_embed(t, NULL, &F[4].f, w, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.goal_set.embedding, w, d, 1e-5));
    frame(s, 0, &F[4]);
    CU_ASSERT_EQUAL(R.n, 3);
    CU_ASSERT_TRUE(close_f(find_reward("goal_imitation")->value, ert_tcn_imitation_reward(w, w, d,
                                                                  ert_tcn_blob_params(t), NULL), 1e-5));
    ert_tcn_demo_free(dm);
    ert_tcn_free(t);
    ert_family_free(fm);
    ert_session_free(s);
}

static void test_mftcn_window_embeddings_and_reset_empties_the_window(void)
{
    setup_frames();
    ert_session *s = open_session("mf", blob("mftcn"), "cam", NULL);
    ert_family_model *fm = load_ref("mftcn");
    ert_mftcn *m = NULL;
    OK(ert_mftcn_create(fm, NULL, &m, &e_));
    size_t d = ert_mftcn_dim(m);
    CU_ASSERT_TRUE_FATAL(d > 0 && d <= 2048);
    float *w = malloc(d * sizeof *w);
    for (int k = 0; k < 4; k++) {
        frame(s, 0, &F[k]);
        CU_ASSERT_EQUAL_FATAL(R.n, 1);
        CU_ASSERT_STRING_EQUAL(R.ev[0].body.embedding.role, "head");
        OK(ert_mftcn_push(m, &F[k].f, w, &e_));
        CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, w, d, 1e-5));
    }
    req(embedrt_v1_Envelope_reset_episode_tag);
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_OK);
    ert_mftcn_reset(m);
    frame(s, 0, &F[5]);
    OK(ert_mftcn_push(m, &F[5].f, w, &e_));
    CU_ASSERT_TRUE(close_v(R.ev[0].body.embedding.vector, w, d, 1e-5));
    /* Image goals and video demos need a window: unsupported, said so. */
    ert_session_frames frames = {{&F[4].f}, NULL};
    set_goal_camera("cam");
    CU_ASSERT_EQUAL(command(s, NULL, &frames), ERT_EUNSUPPORTED);
    expect_error(embedrt_v1_StatusCode_STATUS_UNSUPPORTED, "upload the goal embedding instead");
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_path_tag;
    strcpy(REQ.body.load_demo.source.path, "/tmp/demo.y4m");
    CU_ASSERT_EQUAL(command(s, NULL, NULL), ERT_EUNSUPPORTED);
    expect_error(embedrt_v1_StatusCode_STATUS_UNSUPPORTED, "not videos");
    /* An uploaded demo gives imitation rewards with the TCN defaults. */
    size_t bytes = 2 * d * sizeof(float);
    uint8_t *le = malloc(bytes);
    float *dm = malloc(bytes);
    memcpy(dm, w, d * sizeof *w);
    memcpy(dm + d, w, d * sizeof *w);
    memcpy(le, dm, bytes);
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_embeddings_tag;
    REQ.body.load_demo.source.embeddings.frames = 2;
    REQ.body.load_demo.source.embeddings.dim = (uint32_t)d;
    ert_wire_views views = {.demo = {le, 2 * d}};
    CU_ASSERT_EQUAL(command(s, &views, NULL), ERT_OK);
    frame(s, 0, &F[5]);
    OK(ert_mftcn_push(m, &F[5].f, w, &e_));
    ert_tcn_params tp;
    ert_tcn_params_default(&tp);
    const embedrt_v1_Reward *r = find_reward("imitation");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(close_f(r->value, ert_tcn_imitation_reward(dm, w, d, &tp, NULL), 1e-5));
    free(le);
    free(dm);
    free(w);
    ert_mftcn_free(m);
    ert_family_free(fm);
    ert_session_free(s);
}

/* ---------------------------------------------------------------- allocation, hot swap */

static size_t frames_allocs(ert_session *s, size_t ci)
{
    frame(s, ci, &F[0]); /* warm-up */
    size_t before = n_allocs;
    for (int k = 1; k < 4; k++) {
        R.n = 0; /* the last frame's events stay for the caller to count */
        OK(ert_session_frame(s, ci, &F[k].f, &EMIT, &e_));
    }
    return n_allocs - before;
}

static void test_session_frames_allocate_nothing(void)
{
    setup_frames();
    /* The wrap is live: a command that allocates is counted. */
    size_t before = n_allocs;
    free(malloc(16));
    CU_ASSERT_EQUAL_FATAL(n_allocs, before + 1);
    ert_session_frames frames = {{&F[5].f, &F[5].f}, NULL};
    ert_session *g = open_session("g2v", blob("g2v"), "scene", "wrist");
    set_goal_camera("scene");
    CU_ASSERT_EQUAL_FATAL(command(g, NULL, &frames), ERT_OK);
    CU_ASSERT_EQUAL(frames_allocs(g, 0), 0);
    CU_ASSERT_EQUAL(R.n, 2); /* embedding + heatmap per frame */
    ert_session *r = open_session("rig", blob("rig"), "cam", NULL);
    set_goal_prior(1);
    CU_ASSERT_EQUAL_FATAL(command(r, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(frames_allocs(r, 0), 0);
    ert_session *c = open_session("cc", blob("ccvae"), "cam", NULL);
    set_goal_prior(1);
    CU_ASSERT_EQUAL_FATAL(command(c, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(frames_allocs(c, 0), 0);
    req(embedrt_v1_Envelope_reset_episode_tag);
    CU_ASSERT_EQUAL_FATAL(command(c, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(frames_allocs(c, 0), 0); /* the context frame too */
    ert_session *t = open_session("tcn", blob("tcn"), "cam", NULL);
    static float demo[2 * 32];
    req(embedrt_v1_Envelope_load_demo_tag);
    REQ.body.load_demo.which_source = embedrt_v1_LoadDemo_embeddings_tag;
    REQ.body.load_demo.source.embeddings.frames = 2;
    REQ.body.load_demo.source.embeddings.dim = 32;
    ert_wire_views views = {.demo = {(const uint8_t *)demo, 64}};
    CU_ASSERT_EQUAL_FATAL(command(t, &views, NULL), ERT_OK);
    CU_ASSERT_EQUAL(frames_allocs(t, 0), 0);
    CU_ASSERT_EQUAL(R.n, 2);
    ert_session *m = open_session("mf", blob("mftcn"), "cam", NULL);
    CU_ASSERT_EQUAL(frames_allocs(m, 0), 0);
    ert_session_free(g);
    ert_session_free(r);
    ert_session_free(c);
    ert_session_free(t);
    ert_session_free(m);
}

static void test_session_adopt_state_keeps_goal_and_demo_drops_the_rest(void)
{
    setup_frames();
    ert_session *old = open_session("rig", blob("rig"), "cam", NULL);
    set_goal_prior(42);
    CU_ASSERT_EQUAL_FATAL(command(old, NULL, NULL), ERT_OK);
    set_goal_prior(43);
    CU_ASSERT_EQUAL_FATAL(command(old, NULL, NULL), ERT_OK);
    ert_session *fresh = open_session("rig", blob("rig"), "cam", NULL);
    CU_ASSERT_EQUAL(ert_session_adopt_state(fresh, old), 0);
    static embedrt_v1_ModelInfo mi;
    ert_session_info(fresh, &mi);
    CU_ASSERT_EQUAL(mi.generation, 1);
    frame(old, 0, &F[1]);
    double want = find_reward("latent_distance")->value;
    frame(fresh, 0, &F[1]);
    CU_ASSERT_EQUAL(find_reward("latent_distance")->value, want);
    CU_ASSERT_EQUAL(find_reward("latent_distance")->goal_id, 2);
    set_goal_prior(44);
    CU_ASSERT_EQUAL_FATAL(command(fresh, NULL, NULL), ERT_OK);
    CU_ASSERT_EQUAL(R.ev[0].body.goal_set.goal_id, 3); /* ids go on */
    ert_session_free(old);
    ert_session_free(fresh);
    /* grasp2vec: the goal image is embedded again by the new model; a PRE capture is dropped. */
    old = open_session("g2v", blob("g2v"), "scene", NULL);
    ert_session_frames frames = {{&F[2].f}, NULL};
    set_goal_camera("scene");
    CU_ASSERT_EQUAL_FATAL(command(old, NULL, &frames), ERT_OK);
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_PRE, false, 1);
    CU_ASSERT_EQUAL_FATAL(command(old, NULL, &frames), ERT_OK);
    fresh = open_session("g2v", blob("g2v"), "scene", NULL);
    CU_ASSERT_EQUAL(ert_session_adopt_state(fresh, old), 1);
    frame(old, 0, &F[3]);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    float heat[16];
    memcpy(heat, R.heat[1], sizeof heat);
    frame(fresh, 0, &F[3]);
    CU_ASSERT_EQUAL_FATAL(R.n, 2);
    CU_ASSERT_TRUE(close_v(R.heat[1], heat, 16, 1e-6));
    grasp(embedrt_v1_GraspPhase_GRASP_PHASE_POST, false, 1);
    CU_ASSERT_EQUAL(command(fresh, NULL, &frames), ERT_EINVAL);
    ert_session_free(old);
    ert_session_free(fresh);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_session_create_checks_config_and_blob),
    ERT_TEST(test_session_info_lists_family_roles_dim_cameras_params),
    ERT_TEST(test_g2v_scene_embedding_then_goal_heatmap_match_the_model_layer),
    ERT_TEST(test_g2v_goal_by_embedding_and_snapshot_and_bad_goals_change_nothing),
    ERT_TEST(test_g2v_grasp_pre_post_outcome_rewards_equal_embedrt_reward),
    ERT_TEST(test_rig_rewards_for_image_snapshot_and_prior_goals_equal_embedrt_reward),
    ERT_TEST(test_ccvae_context_from_first_frame_and_after_reset),
    ERT_TEST(test_tcn_views_track_an_uploaded_demo_and_reset_to_time_zero),
    ERT_TEST(test_mftcn_window_embeddings_and_reset_empties_the_window),
    ERT_TEST(test_session_frames_allocate_nothing),
    ERT_TEST(test_session_adopt_state_keeps_goal_and_demo_drops_the_rest),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_session = {"session", cases};
