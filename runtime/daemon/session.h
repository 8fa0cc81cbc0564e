/* A session: one loaded family blob bound to its cameras, with the episode state the
 * protocol manipulates (goals, demonstrations, grasps, CC-VAE context, mfTCN windows),
 * turning frames and requests into events. Internal to embedrtd.
 *
 * Threading: a session is single-threaded. The daemon gives each session one worker
 * thread that calls ert_session_frame() and ert_session_command() in order, never
 * concurrently; a request that needs inference (a goal image, a camera snapshot, a grasp
 * capture) therefore runs between two frames on the same thread that owns the model's
 * arena. Everything a session emits goes through the emit callback (events and replies
 * alike), which must not block (the publisher copies the encoded bytes into per-client
 * queues). Per-frame work allocates nothing; commands may allocate (a demonstration,
 * a model swap) but leave the session unchanged when they fail. */
#ifndef ERT_DAEMON_SESSION_H
#define ERT_DAEMON_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/frame.h"
#include "embedrt/status.h"
#include "embedrt/wire.h"

#define ERT_SESSION_MAX_CAMERAS 4

typedef struct ert_session ert_session;

typedef struct ert_session_config {
    const char *name;      /* config name of the model ("g2v"); <= 31 bytes */
    const char *blob_path; /* a family blob (embedrt convert --family ...) */
    /* Camera names bound to the model, in role order: grasp2vec [scene, outcome] (the
     * outcome camera defaults to the scene camera), tcn/mftcn/rig/ccvae [the camera]
     * (tcn may list several views; each gets its own embeddings and tracker). */
    const char *cameras[ERT_SESSION_MAX_CAMERAS];
    size_t n_cameras;
    int threads;           /* engine threads for this model (>= 1) */
} ert_session_config;

/* Called for every event or reply. env is complete (the session fills model, camera,
 * frame_seq, capture_ns, publish_ns, request_id; seq is the publisher's). bulk holds the
 * heatmap values when env is a Heatmap, else NULL. Runs on the session's thread. */
typedef struct ert_session_emit {
    void (*fn)(void *ctx, const embedrt_v1_Envelope *env, const ert_wire_out *bulk);
    void *ctx;
} ert_session_emit;

/* Loads the blob and checks it against the config (family known, cameras count fits the
 * family). Fails with the blob path and the problem; nothing is left allocated. */
ert_status ert_session_create(const ert_session_config *cfg, ert_session **out, ert_error *err);
void ert_session_free(ert_session *s);

/* For Capabilities: name, family, blob path, roles, embedding_dim, cameras, params, generation. */
void ert_session_info(const ert_session *s, embedrt_v1_ModelInfo *out);
const char *ert_session_name(const ert_session *s);
/* Index of a camera name in the session's list, or -1. */
int ert_session_camera_index(const ert_session *s, const char *camera);

/* One frame of camera ci: runs the family's per-frame graphs and emits Embedding (and,
 * with a goal/demo, Reward and Heatmap) events. Also services pending captures. */
ert_status ert_session_frame(ert_session *s, size_t ci, const ert_frame *frame, const ert_session_emit *emit,
                             ert_error *err);

/* The latest frame of each bound camera (latest[ci], NULL when none yet) and, for
 * SetGoal.camera naming a camera of another model, that camera's latest frame (snapshot,
 * else NULL). The daemon copies these frames before the call; they stay valid during it. */
typedef struct ert_session_frames {
    const ert_frame *latest[ERT_SESSION_MAX_CAMERAS];
    const ert_frame *snapshot;
} ert_session_frames;

/* A request addressed to this session (set_goal, clear_goal, reset_episode, load_demo,
 * grasp_event). Emits exactly one reply with req->request_id: GoalSet (set_goal), Ack, or
 * Error (code + one line naming the field and the problem); then any events the request
 * causes (grasp2vec rewards after an outcome capture, ...). Returns the status it
 * replied with. LoadModel is not handled here: the daemon creates a new session from the
 * same config with the new blob and swaps it in (ert_session_adopt_state). */
ert_status ert_session_command(ert_session *s, const embedrt_v1_Envelope *req, const ert_wire_views *views,
                               const ert_session_frames *frames, const ert_session_emit *emit, ert_error *err);

/* After a successful hot swap: keep what the client set (goal image/embedding when the
 * dimensions still fit, demo path, episode counters) and bump the generation. Never fails:
 * state that no longer fits is dropped and reported through the returned count. */
size_t ert_session_adopt_state(ert_session *fresh, const ert_session *old);

#endif
