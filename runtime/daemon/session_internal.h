/* Inside a session: the state session.c shares with the per-family files
 * (session_grasp2vec.c, session_tcn.c, session_rig.c) and the event helpers they emit with. */
#ifndef ERT_DAEMON_SESSION_INTERNAL_H
#define ERT_DAEMON_SESSION_INTERNAL_H

#include "embedrt/client.h"
#include "session.h"

#include "embedrt/ccvae.h"
#include "embedrt/family.h"
#include "embedrt/grasp2vec.h"
#include "embedrt/image.h"
#include "embedrt/mftcn.h"
#include "embedrt/rig.h"
#include "embedrt/tcn.h"

#define ERT_SESS_NAME_MAX 32   /* ModelInfo.name, Embedding.model (nanopb max_size) */
#define ERT_SESS_PATH_MAX 256  /* ModelInfo.blob_path, LoadDemo.path */
#define ERT_SESS_MAX_VECTOR 2048 /* Embedding.vector, GoalSet.embedding max_count */

typedef enum ert_sess_family {
    ERT_SESS_G2V,
    ERT_SESS_TCN,
    ERT_SESS_MFTCN,
    ERT_SESS_RIG,
    ERT_SESS_CCVAE,
} ert_sess_family;

typedef enum ert_goal_kind {
    ERT_GOAL_NONE = 0,
    ERT_GOAL_IMAGE,     /* SetGoal.image */
    ERT_GOAL_EMBEDDING, /* SetGoal.embedding */
    ERT_GOAL_CAMERA,    /* SetGoal.camera: a frame snapshot */
    ERT_GOAL_PRIOR,     /* SetGoal.prior_seed */
} ert_goal_kind;

/* How the client gave a goal, kept so it can be applied again: under a new CC-VAE
 * context, or to the fresh session of a model swap. frame is what to embed now (the
 * request's image or a camera's frame, valid during the call); copy owns the pixels kept
 * for later (NULL pixels when frame already is copy.frame's owner, see session.c). */
typedef struct ert_goal_spec {
    ert_goal_kind kind;
    const ert_frame *frame; /* IMAGE, CAMERA */
    ert_image copy;         /* IMAGE, CAMERA: owned RGB24/GRAY8 pixels */
    float *z;               /* EMBEDDING: owned */
    size_t n;
    uint64_t seed;          /* PRIOR */
} ert_goal_spec;

typedef struct ert_sess_g2v {
    ert_g2v *g;
    ert_g2v_params p; /* the blob's */
    size_t c, h, w;
    size_t outcome_ci; /* camera index of the outcome camera (0 when it is the scene camera) */
    float *spatial, *heat, *prob;
    float *pre, *post, *outcome, *diff, *tmp;
    bool has_pre;
    uint32_t pre_grasp;
    uint32_t last_phase, last_grasp;
    uint64_t events; /* grasp events acknowledged */
} ert_sess_g2v;

typedef struct ert_sess_tcn {
    ert_tcn *t;        /* tcn */
    ert_mftcn *m;      /* mftcn */
    ert_tcn_params p;  /* tcn: the blob's; mftcn: the TCN defaults (its blob has no reward parameters) */
    ert_tcn_demo *demo;
    char demo_path[ERT_SESS_PATH_MAX]; /* empty for uploaded demos */
    ert_tcn_tracker tr[ERT_SESSION_MAX_CAMERAS];
} ert_sess_tcn;

typedef struct ert_sess_rig {
    ert_rig *r;
    ert_rig_params p;
    ert_ccvae *cc;
    ert_ccvae_params cp;
    bool context_pending; /* ccvae: the next frame becomes the episode's context */
} ert_sess_rig;

struct ert_session {
    char name[ERT_SESS_NAME_MAX];
    char blob_path[ERT_SESS_PATH_MAX];
    char cameras[ERT_SESSION_MAX_CAMERAS][ERT_SESS_NAME_MAX];
    size_t n_cameras;
    int threads;
    ert_sess_family fam;
    const char *family; /* the descriptor's name */
    ert_family_model *fm;
    uint32_t generation;
    size_t dim;         /* Embedding events' length */
    const char *role;   /* the graph role that produces them */
    size_t goal_dim;    /* the goal vector's length */
    float *emb;         /* dim floats */
    float *goal;        /* goal_dim floats: what rewards compare against */
    float *goal_tmp;    /* goal_dim floats: a goal being computed */
    bool has_goal;
    bool goal_pending;  /* ccvae: set, but waits for the episode's context */
    uint32_t goal_id, last_goal_id;
    ert_goal_spec spec;
    /* Emitting: one envelope reused for every event and reply (it is large). */
    embedrt_v1_Envelope *env;
    const ert_session_emit *emit;
    uint64_t request_id; /* of the request being handled */
    ert_sess_g2v g2v;
    ert_sess_tcn tcn;
    ert_sess_rig rig;
};

/* ---- per family (session_<family>.c) ---- */

/* Binds the model layer to s->fm; sets dim, role, goal_dim; allocates every buffer. */
ert_status ert_sess_g2v_create(ert_session *s, ert_error *err);
void ert_sess_g2v_free(ert_session *s);
ert_status ert_sess_g2v_frame(ert_session *s, size_t ci, const ert_frame *f, ert_error *err);
/* Computes the goal for spec into s->goal_tmp (unchanged session on failure). */
ert_status ert_sess_g2v_goal(ert_session *s, const ert_goal_spec *spec, ert_error *err);
/* Replies (Ack) and emits on success; emits nothing on failure. */
ert_status ert_sess_g2v_grasp(ert_session *s, const embedrt_v1_GraspEvent *ev, const ert_session_frames *frames,
                              ert_error *err);

ert_status ert_sess_tcn_create(ert_session *s, ert_error *err);
void ert_sess_tcn_free(ert_session *s);
ert_status ert_sess_tcn_frame(ert_session *s, size_t ci, const ert_frame *f, ert_error *err);
ert_status ert_sess_tcn_goal(ert_session *s, const ert_goal_spec *spec, ert_error *err);
void ert_sess_tcn_reset(ert_session *s);
/* Loads a demonstration and restarts the trackers; the session is unchanged on failure. */
ert_status ert_sess_tcn_load_demo(ert_session *s, const embedrt_v1_LoadDemo *req, const ert_wire_views *views,
                                  ert_error *err);
/* Adopts old's demonstration (reloaded from its path, or copied); false when it does not fit. */
bool ert_sess_tcn_adopt_demo(ert_session *fresh, const ert_session *old);

ert_status ert_sess_rig_create(ert_session *s, ert_error *err);
void ert_sess_rig_free(ert_session *s);
ert_status ert_sess_rig_frame(ert_session *s, size_t ci, const ert_frame *f, ert_error *err);
/* Applies spec to the rig/ccvae model (its goal changes only on success) and copies the
 * goal into s->goal_tmp; *deferred when a ccvae episode has no context yet. */
ert_status ert_sess_rig_goal(ert_session *s, const ert_goal_spec *spec, bool *deferred, ert_error *err);
void ert_sess_rig_reset(ert_session *s);

/* ---- shared (session.c) ---- */

/* Applies s->spec again (ccvae after a context change): true when the goal holds. */
bool ert_sess_reapply_goal(ert_session *s, ert_error *err);

void ert_sess_emit_embedding(ert_session *s, size_t ci, const ert_frame *f, const char *role, const float *v,
                             size_t n);
/* Starts a Reward event in s->env (model, family, type, value, goal_id, camera, frame
 * seq/capture, publish time); add components, then send. f may be NULL. */
embedrt_v1_Reward *ert_sess_reward_begin(ert_session *s, size_t ci, const ert_frame *f, const char *type,
                                         double value);
void ert_sess_reward_add(embedrt_v1_Reward *r, const char *name, double value);
void ert_sess_send(ert_session *s);
void ert_sess_emit_heatmap(ert_session *s, size_t ci, const ert_frame *f, size_t h, size_t w, const float *prob,
                           const float kp[2]);
void ert_sess_reply_ack(ert_session *s);
double ert_sess_norm(const float *v, size_t n);

#endif
