/* The RIG and CC-VAE sessions: the latent of every frame and, with a goal, the latent
 * rewards (the same calls as `embedrt reward`). CC-VAE episodes start with a context
 * frame: the first frame ever and the first after ResetEpisode; a goal survives the
 * reset and is derived again under the new context (a prior goal keeps its seed). */
#include "session_internal.h"

#include <math.h>
#include <string.h>

ert_status ert_sess_rig_create(ert_session *s, ert_error *err)
{
    ert_sess_rig *R = &s->rig;
    ert_status st;
    if (s->fam == ERT_SESS_RIG) {
        if ((st = ert_rig_create(s->fm, &R->r, err)) != ERT_OK || (st = ert_rig_params_from(s->fm, &R->p, err)) != ERT_OK)
            return st;
        s->dim = s->goal_dim = ert_rig_latent_dim(R->r);
        s->role = "encoder";
        return ERT_OK;
    }
    if ((st = ert_ccvae_create(s->fm, &R->cc, err)) != ERT_OK ||
        (st = ert_ccvae_params_from(s->fm, &R->cp, err)) != ERT_OK)
        return st;
    s->dim = s->goal_dim = ert_ccvae_latent_dim(R->cc);
    s->role = ert_family_graph(s->fm, "encoder") >= 0 ? "encoder" : "state";
    R->context_pending = true;
    return ERT_OK;
}

void ert_sess_rig_free(ert_session *s)
{
    ert_sess_rig *R = &s->rig;
    ert_rig_free(R->r);
    ert_ccvae_free(R->cc);
    memset(R, 0, sizeof *R);
}

void ert_sess_rig_reset(ert_session *s)
{
    if (s->fam == ERT_SESS_CCVAE)
        s->rig.context_pending = true;
}

/* Components as `embedrt reward` prints them. */
static void emit_reward(ert_session *s, const ert_frame *f, ert_rig_reward_kind kind, const ert_rig_reward *rw)
{
    embedrt_v1_Reward *r =
        ert_sess_reward_begin(s, 0, f, kind == ERT_RIG_REWARD_SPARSE ? "latent_sparse" : "latent_distance", rw->value);
    ert_sess_reward_add(r, "distance", rw->distance);
    ert_sess_reward_add(r, "sparse", rw->sparse);
    if (!isnan(rw->mahalanobis))
        ert_sess_reward_add(r, "mahalanobis", rw->mahalanobis);
    ert_sess_reward_add(r, "goal_norm", ert_sess_norm(s->goal, s->goal_dim));
    ert_sess_reward_add(r, "latent_norm", ert_sess_norm(s->emb, s->dim));
    ert_sess_send(s);
}

ert_status ert_sess_rig_frame(ert_session *s, size_t ci, const ert_frame *f, ert_error *err)
{
    (void)ci; /* one camera */
    ert_sess_rig *R = &s->rig;
    ert_rig_reward rw;
    ert_status st;
    if (R->r) {
        bool goal = s->has_goal;
        st = goal ? ert_rig_reward_frame(R->r, &R->p, f, &rw, s->emb, NULL, err) : ert_rig_encode(R->r, f, s->emb, NULL, err);
        if (st != ERT_OK)
            return st;
        ert_sess_emit_embedding(s, 0, f, s->role, s->emb, s->dim);
        if (goal)
            emit_reward(s, f, R->p.reward, &rw);
        return ERT_OK;
    }
    if (R->context_pending) {
        /* This frame starts the episode: c once, then the goal under the new context. */
        if ((st = ert_ccvae_reset(R->cc, f, err)) != ERT_OK)
            return st; /* still pending: the next frame tries again */
        R->context_pending = false;
        if (s->has_goal && !ert_sess_reapply_goal(s, err))
            return ert_error_prefix(err, "goal %u dropped under the new context", s->goal_id);
    }
    bool goal = s->has_goal && !s->goal_pending;
    st = goal ? ert_ccvae_reward_frame(R->cc, &R->cp, f, &rw, s->emb, err) : ert_ccvae_encode(R->cc, f, s->emb, err);
    if (st != ERT_OK)
        return st;
    ert_sess_emit_embedding(s, 0, f, s->role, s->emb, s->dim);
    if (goal)
        emit_reward(s, f, R->cp.reward, &rw);
    return ERT_OK;
}

ert_status ert_sess_rig_goal(ert_session *s, const ert_goal_spec *spec, bool *deferred, ert_error *err)
{
    ert_sess_rig *R = &s->rig;
    ert_status st = ERT_OK;
    const char *field = spec->kind == ERT_GOAL_CAMERA ? "set_goal.camera" : "set_goal.image";
    if (R->r) {
        switch (spec->kind) {
        case ERT_GOAL_IMAGE:
        case ERT_GOAL_CAMERA:
            if ((st = ert_rig_set_goal_image(R->r, spec->frame, err)) != ERT_OK)
                ert_error_prefix(err, "%s", field);
            break;
        case ERT_GOAL_EMBEDDING:
            if (spec->n != s->goal_dim)
                return ert_fail(err, ERT_EINVAL, "set_goal.embedding.vector: %zu values; model '%s' (rig) latents "
                                "have %zu", spec->n, s->name, s->goal_dim);
            st = ert_rig_set_goal(R->r, spec->z, spec->n, err);
            break;
        case ERT_GOAL_PRIOR: st = ert_rig_set_goal_prior(R->r, &R->p, spec->seed, err); break;
        case ERT_GOAL_NONE: return ert_fail(err, ERT_EINTERNAL, "session: goal without a source");
        }
        if (st == ERT_OK)
            memcpy(s->goal_tmp, ert_rig_goal(R->r), s->goal_dim * sizeof *s->goal_tmp);
        return st;
    }
    size_t mu = ert_ccvae_mu_dim(R->cc);
    if (spec->kind == ERT_GOAL_EMBEDDING && spec->n != s->goal_dim && spec->n != mu)
        return ert_fail(err, ERT_EINVAL, "set_goal.embedding.vector: %zu values; model '%s' (ccvae) takes %zu (the "
                        "latent [mu, c]) or %zu (mu; the episode's c is appended)", spec->n, s->name, s->goal_dim, mu);
    if (spec->frame && (st = ert_frame_check(spec->frame, err)) != ERT_OK)
        return ert_error_prefix(err, "%s", field);
    if (R->context_pending) {
        /* No context for this episode yet: the goal is derived from the next frame's. */
        *deferred = true;
        return ERT_OK;
    }
    switch (spec->kind) {
    case ERT_GOAL_IMAGE:
    case ERT_GOAL_CAMERA:
        if ((st = ert_ccvae_set_goal_image(R->cc, spec->frame, err)) != ERT_OK)
            ert_error_prefix(err, "%s", field);
        break;
    case ERT_GOAL_EMBEDDING: st = ert_ccvae_set_goal(R->cc, spec->z, spec->n, err); break;
    case ERT_GOAL_PRIOR: st = ert_ccvae_set_goal_prior(R->cc, spec->seed, err); break;
    case ERT_GOAL_NONE: return ert_fail(err, ERT_EINTERNAL, "session: goal without a source");
    }
    if (st == ERT_OK)
        memcpy(s->goal_tmp, ert_ccvae_goal_of(R->cc), s->goal_dim * sizeof *s->goal_tmp);
    return st;
}
