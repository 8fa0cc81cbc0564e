/* The grasp2vec session: a scene embedding and, with a goal, the goal heatmap per scene
 * frame; grasp events capture pre/post scenes and the outcome image and emit the
 * scene-difference and outcome rewards (the same calls as `embedrt reward`). */
#include "session_internal.h"

#include <stdlib.h>
#include <string.h>

static float *floats(size_t n)
{
    return calloc(n ? n : 1, sizeof(float));
}

ert_status ert_sess_g2v_create(ert_session *s, ert_error *err)
{
    ert_sess_g2v *G = &s->g2v;
    ert_status st = ert_g2v_create(s->fm, &G->g, err);
    if (st != ERT_OK)
        return st;
    G->p = *ert_g2v_blob_params(G->g);
    ert_g2v_spatial_dims(G->g, &G->c, &G->h, &G->w);
    size_t hw = G->h * G->w; /* the family check bounded c*h*w */
    if (hw > ERT_WIRE_MAX_HEATMAP_FLOATS)
        return ert_fail(err, ERT_EUNSUPPORTED, "grasp2vec spatial map %zux%zu exceeds the %u heatmap values the "
                        "protocol carries", G->h, G->w, ERT_WIRE_MAX_HEATMAP_FLOATS);
    s->dim = s->goal_dim = G->c;
    s->role = "scene";
    G->outcome_ci = s->n_cameras > 1 ? 1 : 0;
    G->spatial = floats(G->c * hw);
    G->heat = floats(hw);
    G->prob = floats(hw);
    G->pre = floats(G->c);
    G->post = floats(G->c);
    G->outcome = floats(G->c);
    G->diff = floats(G->c);
    G->tmp = floats(G->c);
    if (!G->spatial || !G->heat || !G->prob || !G->pre || !G->post || !G->outcome || !G->diff || !G->tmp)
        return ert_fail(err, ERT_ENOMEM, "grasp2vec: out of memory for a %zux%zux%zu map", G->c, G->h, G->w);
    return ERT_OK;
}

void ert_sess_g2v_free(ert_session *s)
{
    ert_sess_g2v *G = &s->g2v;
    ert_g2v_free(G->g);
    free(G->spatial);
    free(G->heat);
    free(G->prob);
    free(G->pre);
    free(G->post);
    free(G->outcome);
    free(G->diff);
    free(G->tmp);
    memset(G, 0, sizeof *G);
}

/* Scene frames (camera 0): the scene vector, and the heatmap of the goal over the frame's
 * spatial map. Frames of a separate outcome camera are only kept by the daemon (latest
 * slot) for OUTCOME captures: nothing runs on them here. */
ert_status ert_sess_g2v_frame(ert_session *s, size_t ci, const ert_frame *f, ert_error *err)
{
    ert_sess_g2v *G = &s->g2v;
    if (ci != 0)
        return ERT_OK;
    bool goal = s->has_goal;
    ert_status st = ert_g2v_embed_scene(G->g, f, s->emb, goal ? G->spatial : NULL, err);
    if (st != ERT_OK)
        return st;
    float kp[2];
    if (goal)
        st = ert_g2v_heatmap(G->spatial, G->c, G->h, G->w, s->goal, G->p.heatmap_temperature, G->heat, G->prob, kp,
                             err);
    ert_sess_emit_embedding(s, 0, f, "scene", s->emb, s->dim);
    if (st == ERT_OK && goal)
        ert_sess_emit_heatmap(s, 0, f, G->h, G->w, G->prob, kp);
    return st;
}

/* Goals are object embeddings: phi_o of an image or snapshot, or an uploaded vector. */
ert_status ert_sess_g2v_goal(ert_session *s, const ert_goal_spec *spec, ert_error *err)
{
    ert_sess_g2v *G = &s->g2v;
    if (spec->kind == ERT_GOAL_EMBEDDING) {
        if (spec->n != G->c)
            return ert_fail(err, ERT_EINVAL, "set_goal.embedding.vector: %zu values; model '%s' (grasp2vec) takes "
                            "object embeddings of %zu", spec->n, s->name, G->c);
        memcpy(s->goal_tmp, spec->z, G->c * sizeof *s->goal_tmp);
        return ERT_OK;
    }
    ert_status st = ert_g2v_embed_object(G->g, spec->frame, s->goal_tmp, err);
    if (st != ERT_OK)
        ert_error_prefix(err, "%s", spec->kind == ERT_GOAL_CAMERA ? "set_goal.camera" : "set_goal.image");
    return st;
}

/* The latest frame of camera ci, or an error naming the camera and the phase. */
static ert_status latest(ert_session *s, const ert_session_frames *frames, size_t ci, int phase,
                         const ert_frame **out, ert_error *err)
{
    *out = frames ? frames->latest[ci] : NULL;
    if (!*out)
        return ert_fail(err, ERT_ENOTFOUND, "grasp_event %s: camera '%s' has not delivered a frame yet",
                        ert_wire_grasp_phase_name(phase), s->cameras[ci]);
    return ERT_OK;
}

static void emit_compare(ert_session *s, size_t ci, const ert_frame *f, const char *type, const ert_g2v_reward *r,
                         const char *other_norm, uint32_t grasp)
{
    embedrt_v1_Reward *m = ert_sess_reward_begin(s, ci, f, type, r->value);
    m->grasp_id = grasp;
    ert_sess_reward_add(m, "cosine", r->cosine);
    ert_sess_reward_add(m, "dot", r->dot);
    ert_sess_reward_add(m, "goal_norm", r->norm_goal);
    ert_sess_reward_add(m, other_norm, r->norm_other);
    ert_sess_send(s);
}

ert_status ert_sess_g2v_grasp(ert_session *s, const embedrt_v1_GraspEvent *ev, const ert_session_frames *frames,
                              ert_error *err)
{
    ert_sess_g2v *G = &s->g2v;
    const int phase = (int)ev->phase;
    const uint32_t gid = ev->grasp_id;
    bool lifted = phase == embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED;
    bool do_post = phase == embedrt_v1_GraspPhase_GRASP_PHASE_POST || (lifted && ev->success && G->has_pre);
    bool do_outcome = phase == embedrt_v1_GraspPhase_GRASP_PHASE_OUTCOME || (lifted && ev->success && s->has_goal);
    const ert_frame *pre_f = NULL, *post_f = NULL, *out_f = NULL;
    ert_status st = ERT_OK;
    switch (phase) {
    case embedrt_v1_GraspPhase_GRASP_PHASE_PRE:
        if ((st = latest(s, frames, 0, phase, &pre_f, err)) == ERT_OK &&
            (st = ert_g2v_embed_scene(G->g, pre_f, G->tmp, NULL, err)) != ERT_OK)
            ert_error_prefix(err, "grasp_event PRE: camera '%s'", s->cameras[0]);
        break;
    case embedrt_v1_GraspPhase_GRASP_PHASE_POST:
    case embedrt_v1_GraspPhase_GRASP_PHASE_OUTCOME:
    case embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED:
    case embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED:
    case embedrt_v1_GraspPhase_GRASP_PHASE_RELEASED: break;
    default:
        return ert_fail(err, ERT_EINVAL, "grasp_event.phase: %d is not a grasp phase (PRE=1 .. RELEASED=6)", phase);
    }
    if (st != ERT_OK)
        return st;
    if (do_post) {
        if (!G->has_pre)
            return ert_fail(err, ERT_EINVAL, "grasp_event POST (grasp %u): no PRE capture to compare with; send PRE "
                            "before the grasp", gid);
        if (G->pre_grasp != gid)
            return ert_fail(err, ERT_EINVAL, "grasp_event POST: grasp_id %u, but the PRE capture belongs to grasp %u",
                            gid, G->pre_grasp);
        if ((st = latest(s, frames, 0, embedrt_v1_GraspPhase_GRASP_PHASE_POST, &post_f, err)) != ERT_OK)
            return st;
        if ((st = ert_g2v_embed_scene(G->g, post_f, G->post, NULL, err)) != ERT_OK) {
            ert_error_prefix(err, "grasp_event POST: camera '%s'", s->cameras[0]);
            return st;
        }
    }
    if (do_outcome) {
        if (!s->has_goal)
            return ert_fail(err, ERT_EINVAL, "grasp_event OUTCOME (grasp %u): model '%s' has no goal to compare the "
                            "outcome with; SetGoal first", gid, s->name);
        if ((st = latest(s, frames, G->outcome_ci, embedrt_v1_GraspPhase_GRASP_PHASE_OUTCOME, &out_f, err)) != ERT_OK)
            return st;
        if ((st = ert_g2v_embed_object(G->g, out_f, G->outcome, err)) != ERT_OK) {
            ert_error_prefix(err, "grasp_event OUTCOME: camera '%s'", s->cameras[G->outcome_ci]);
            return st;
        }
    }
    /* Everything that can fail is done: commit, reply, then the events. */
    G->events++;
    G->last_phase = (uint32_t)phase;
    G->last_grasp = gid;
    if (pre_f) {
        memcpy(G->pre, G->tmp, G->c * sizeof *G->pre);
        G->has_pre = true;
        G->pre_grasp = gid;
    }
    if (do_post || (lifted && !ev->success))
        G->has_pre = false;
    ert_sess_reply_ack(s);
    if (do_post) {
        /* d = phi_s(pre) - phi_s(post), compared with phi_o(goal): ert_g2v_scene_diff_reward. */
        ert_g2v_scene_diff(G->pre, G->post, G->c, G->p.diff_relu, G->diff);
        if (s->has_goal) {
            ert_g2v_reward r;
            ert_g2v_compare(s->goal, G->diff, G->c, G->p.similarity, &r);
            emit_compare(s, 0, post_f, "scene_difference", &r, "difference_norm", gid);
        } else {
            /* No goal: the difference itself, the grasped object's embedding by arithmetic. */
            ert_sess_emit_embedding(s, 0, post_f, "scene_diff", G->diff, G->c);
        }
    }
    if (do_outcome) {
        ert_g2v_reward r;
        ert_g2v_compare(s->goal, G->outcome, G->c, G->p.similarity, &r);
        emit_compare(s, G->outcome_ci, out_f, "outcome", &r, "outcome_norm", gid);
    }
    if (lifted && !ev->success) {
        embedrt_v1_Reward *m = ert_sess_reward_begin(s, G->outcome_ci, NULL, "grasp_failed", 0.0);
        m->grasp_id = gid;
        ert_sess_send(s);
    }
    return ERT_OK;
}
