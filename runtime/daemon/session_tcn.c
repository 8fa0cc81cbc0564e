/* The TCN and mfTCN sessions: an embedding per frame (TCN: per view; mfTCN: of the causal
 * window ending at the frame) and, with a demonstration, the time-indexed imitation
 * reward (within the blob's time_window) through one ert_tcn_tracker per view (the same
 * calls as `embedrt reward`). */
#include "session_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ert_status ert_sess_tcn_create(ert_session *s, ert_error *err)
{
    ert_sess_tcn *T = &s->tcn;
    ert_status st;
    if (s->fam == ERT_SESS_TCN) {
        if ((st = ert_tcn_create(s->fm, &T->t, err)) != ERT_OK)
            return st;
        T->p = *ert_tcn_blob_params(T->t);
        s->dim = ert_tcn_dim(T->t);
        s->role = "embedder";
    } else {
        if ((st = ert_mftcn_create(s->fm, NULL, &T->m, err)) != ERT_OK)
            return st;
        /* An mftcn blob stores window, stride and time_window: the imitation reward uses
         * the TCN defaults (alpha = beta = 0.5, gamma = 1e-3) with the blob's time_window. */
        if ((st = ert_tcn_params_from(s->fm, &T->p, err)) != ERT_OK)
            return st;
        s->dim = ert_mftcn_dim(T->m);
        s->role = "head";
    }
    s->goal_dim = s->dim;
    return ERT_OK;
}

void ert_sess_tcn_free(ert_session *s)
{
    ert_sess_tcn *T = &s->tcn;
    ert_tcn_demo_free(T->demo);
    ert_mftcn_free(T->m);
    ert_tcn_free(T->t);
    memset(T, 0, sizeof *T);
}

void ert_sess_tcn_reset(ert_session *s)
{
    ert_sess_tcn *T = &s->tcn;
    for (size_t i = 0; i < s->n_cameras; i++)
        ert_tcn_tracker_reset(&T->tr[i]);
    if (T->m)
        ert_mftcn_reset(T->m);
}

ert_status ert_sess_tcn_frame(ert_session *s, size_t ci, const ert_frame *f, ert_error *err)
{
    ert_sess_tcn *T = &s->tcn;
    ert_status st = T->t ? ert_tcn_embed(T->t, &T->p, f, s->emb, err) : ert_mftcn_push(T->m, f, s->emb, err);
    if (st != ERT_OK)
        return st;
    ert_tcn_step step;
    if (T->demo && (st = ert_tcn_tracker_step(&T->tr[ci], s->emb, s->dim, &step, err)) != ERT_OK)
        return st;
    double norm = ert_sess_norm(s->emb, s->dim);
    ert_sess_emit_embedding(s, ci, f, s->role, s->emb, s->dim);
    if (T->demo) {
        /* Components as `embedrt reward` prints them. */
        embedrt_v1_Reward *r = ert_sess_reward_begin(s, ci, f, "imitation", step.reward);
        ert_sess_reward_add(r, "frame", (double)step.t);
        ert_sess_reward_add(r, "demo_frame", (double)step.demo_index);
        ert_sess_reward_add(r, "distance", sqrt(step.dist2));
        ert_sess_reward_add(r, "nn_index", (double)step.nearest);
        ert_sess_reward_add(r, "nn_distance", step.nearest_dist);
        ert_sess_reward_add(r, "embedding_norm", norm);
        ert_sess_send(s);
    }
    if (s->has_goal) {
        /* A single goal embedding: the imitation reward against one target frame. */
        float d2;
        float v = ert_tcn_imitation_reward(s->goal, s->emb, s->dim, &T->p, &d2);
        embedrt_v1_Reward *r = ert_sess_reward_begin(s, ci, f, "goal_imitation", v);
        ert_sess_reward_add(r, "distance", sqrt(d2));
        ert_sess_reward_add(r, "goal_norm", ert_sess_norm(s->goal, s->dim));
        ert_sess_reward_add(r, "embedding_norm", norm);
        ert_sess_send(s);
    }
    return ERT_OK;
}

ert_status ert_sess_tcn_goal(ert_session *s, const ert_goal_spec *spec, ert_error *err)
{
    ert_sess_tcn *T = &s->tcn;
    if (spec->kind == ERT_GOAL_EMBEDDING) {
        if (spec->n != s->dim)
            return ert_fail(err, ERT_EINVAL, "set_goal.embedding.vector: %zu values; model '%s' (%s) embeddings have "
                            "%zu", spec->n, s->name, s->family, s->dim);
        memcpy(s->goal_tmp, spec->z, s->dim * sizeof *s->goal_tmp);
        return ERT_OK;
    }
    /* tcn only (goal_supported keeps mftcn to embeddings). */
    ert_status st = ert_tcn_embed(T->t, &T->p, spec->frame, s->goal_tmp, err);
    if (st != ERT_OK)
        ert_error_prefix(err, "%s", spec->kind == ERT_GOAL_CAMERA ? "set_goal.camera" : "set_goal.image");
    return st;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A demo from a path on the robot: .npy embeddings, or (tcn) a .y4m video embedded now. */
static ert_status demo_from_path(ert_session *s, const char *path, ert_tcn_demo **out, ert_error *err)
{
    ert_sess_tcn *T = &s->tcn;
    if (!path[0])
        return ert_fail(err, ERT_EINVAL, "load_demo.path: empty");
    if (ends_with(path, ".npy"))
        return ert_tcn_demo_load_npy(path, s->dim, out, err);
    if (!ends_with(path, ".y4m"))
        return ert_fail(err, ERT_EINVAL, "load_demo.path '%s': expected a .npy [T, %zu] of embeddings or a .y4m video",
                        path, s->dim);
    if (!T->t)
        return ert_fail(err, ERT_EUNSUPPORTED, "load_demo.path '%s': model '%s' (mftcn) takes demonstrations as "
                        ".npy embeddings or uploaded embeddings, not videos", path, s->name);
    return ert_tcn_demo_from_video(T->t, &T->p, path, out, err);
}

/* Installs demo (taking it) with fresh trackers; frees it on failure. */
static ert_status install_demo(ert_session *s, ert_tcn_demo *demo, const char *path, ert_error *err)
{
    ert_sess_tcn *T = &s->tcn;
    ert_tcn_tracker tr[ERT_SESSION_MAX_CAMERAS];
    for (size_t i = 0; i < s->n_cameras; i++) {
        ert_status st = ert_tcn_tracker_init(&tr[i], demo, &T->p, err);
        if (st != ERT_OK) {
            ert_tcn_demo_free(demo);
            return st;
        }
    }
    ert_tcn_demo_free(T->demo);
    T->demo = demo;
    memcpy(T->tr, tr, s->n_cameras * sizeof tr[0]);
    snprintf(T->demo_path, sizeof T->demo_path, "%s", path ? path : "");
    return ERT_OK;
}

ert_status ert_sess_tcn_load_demo(ert_session *s, const embedrt_v1_LoadDemo *req, const ert_wire_views *views,
                                  ert_error *err)
{
    ert_tcn_demo *demo = NULL;
    ert_status st;
    const char *path = NULL;
    if (req->which_source == embedrt_v1_LoadDemo_path_tag) {
        path = req->source.path;
        if ((st = demo_from_path(s, path, &demo, err)) != ERT_OK)
            return st;
    } else if (req->which_source == embedrt_v1_LoadDemo_embeddings_tag) {
        const embedrt_v1_DemoEmbeddings *e = &req->source.embeddings;
        size_t count = views ? views->demo.count : 0;
        if (e->dim != s->dim)
            return ert_fail(err, ERT_EINVAL, "load_demo.embeddings.dim: %u; model '%s' embeddings have %zu", e->dim,
                            s->name, s->dim);
        if (e->frames == 0 || (uint64_t)e->frames * e->dim != count)
            return ert_fail(err, ERT_EINVAL, "load_demo.embeddings: frames %u x dim %u needs %llu values, got %zu",
                            e->frames, e->dim, (unsigned long long)e->frames * e->dim, count);
        float *v = malloc(count * sizeof *v); /* count <= ERT_WIRE_MAX_DEMO_FLOATS (the decoder's limit) */
        if (!v)
            return ert_fail(err, ERT_ENOMEM, "load_demo.embeddings: out of memory for %zu values", count);
        for (size_t i = 0; i < count; i++)
            v[i] = ert_wire_float_at(&views->demo, i);
        st = ert_tcn_demo_from_array(v, e->frames, e->dim, &demo, err);
        free(v);
        if (st != ERT_OK) {
            ert_error_prefix(err, "load_demo.embeddings");
            return st;
        }
    } else {
        return ert_fail(err, ERT_EINVAL, "load_demo: no source (path or embeddings)");
    }
    if ((st = install_demo(s, demo, path, err)) != ERT_OK)
        return st;
    ert_sess_reply_ack(s);
    return ERT_OK;
}

bool ert_sess_tcn_adopt_demo(ert_session *fresh, const ert_session *old)
{
    if (fresh->fam != ERT_SESS_TCN && fresh->fam != ERT_SESS_MFTCN)
        return false;
    const ert_sess_tcn *O = &old->tcn;
    ert_tcn_demo *demo = NULL;
    ert_error err;
    if (O->demo_path[0]) {
        if (demo_from_path(fresh, O->demo_path, &demo, &err) != ERT_OK)
            return false;
    } else {
        if (ert_tcn_demo_dim(O->demo) != fresh->dim ||
            ert_tcn_demo_from_array(ert_tcn_demo_frame(O->demo, 0), ert_tcn_demo_length(O->demo),
                                    ert_tcn_demo_dim(O->demo), &demo, &err) != ERT_OK)
            return false;
    }
    if (install_demo(fresh, demo, O->demo_path[0] ? O->demo_path : NULL, &err) != ERT_OK)
        return false;
    /* The episode goes on: each view keeps its demonstration time. */
    for (size_t i = 0; i < fresh->n_cameras && i < old->n_cameras; i++)
        fresh->tcn.tr[i].t = O->tr[i].t;
    return true;
}
