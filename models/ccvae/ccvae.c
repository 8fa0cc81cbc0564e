/* CC-VAE's model layer: the episode's first frame preprocessed once and its context c
 * computed once at reset, latents [mu, c] per frame, goals [z, c] and rewards. */
#include "embedrt/ccvae.h"

#include "ccvae_graphs.h"
#include "embedrt/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ert_ccvae {
    ert_family_model *fm;
    int enc, ctx; /* graph indices; ctx is -1 without a context graph */
    int state;    /* the split layout: "state" (x_t, c) with "context"; enc is -1 then */
    uint32_t in_xt, in_x0, in_c;
    ert_tensor *c_in; /* the state graph's c input */
    size_t mu_dim, context_dim, latent_dim, image_floats;
    ert_tensor *xt_t, *x0_t;
    const ert_tensor *latent_t, *c_t, *ctx_c_t;
    /* The arena may reuse an input's bytes once the graph has read it, so the
     * preprocessed x_0 is kept here and copied in before every encoder run. */
    float *x0;
    float *context, *goal, *latent; /* context_dim, latent_dim, latent_dim floats */
    bool has_context, has_goal;
};

ert_status ert_ccvae_params_from(const ert_family_model *fm, ert_ccvae_params *out, ert_error *err)
{
    if (!fm || !out)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_params_from: fm and out must not be NULL");
    static const char *const keys[] = {"variant", "norm_order", "epsilon", "reward"};
    ert_family_param list[sizeof keys / sizeof keys[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const ert_family_param *q = ert_family_get_param(fm, keys[i]);
        if (q)
            list[n++] = *q;
    }
    return ert_ccvae_params_parse(list, n, out, err);
}

static const ert_graph *graph_of(ert_family_model *fm, int gi)
{
    return ert_model_graph(ert_family_engine(fm), (uint32_t)gi);
}

static ert_status bound(const ert_tensor *t, ert_error *err)
{
    if (!t || !t->data)
        return ert_fail(err, ERT_EINTERNAL, "ccvae: graph tensor '%s' has no buffer", t && t->name ? t->name : "?");
    return ERT_OK;
}

/* The split layout: the state graph runs per frame with the cached c as its input. */
static ert_status create_split(ert_ccvae *m, ert_error *err)
{
    ert_family_model *fm = m->fm;
    const ert_graph *sg = graph_of(fm, m->state), *cg = m->ctx >= 0 ? graph_of(fm, m->ctx) : NULL;
    ert_status st = ert_ccvae_check_state(sg, cg, &m->mu_dim, &m->context_dim, err);
    if (st == ERT_OK && !ert_add_size(m->mu_dim, m->context_dim, &m->latent_dim))
        st = ert_fail(err, ERT_EINVAL, "ert_ccvae_create: mu and c sizes overflow");
    if (st != ERT_OK)
        return st;
    m->in_xt = (uint32_t)ert_rig_graph_input_index(sg, "x_t");
    m->in_c = (uint32_t)ert_rig_graph_input_index(sg, "c");
    m->xt_t = ert_family_input(fm, m->state, m->in_xt);
    m->c_in = ert_family_input(fm, m->state, m->in_c);
    m->latent_t = ert_family_output(fm, m->state, "latent");
    m->ctx_c_t = ert_family_output(fm, m->ctx, "c");
    st = bound(m->xt_t, err);
    if (st == ERT_OK)
        st = bound(m->c_in, err);
    if (st == ERT_OK)
        st = bound(m->latent_t, err);
    if (st == ERT_OK)
        st = bound(m->ctx_c_t, err);
    if (st == ERT_OK) {
        m->context = calloc(m->context_dim, sizeof *m->context);
        m->goal = calloc(m->latent_dim, sizeof *m->goal);
        m->latent = calloc(m->latent_dim, sizeof *m->latent);
        if (!m->context || !m->goal || !m->latent)
            st = ert_fail(err, ERT_ENOMEM, "ert_ccvae_create: out of memory");
    }
    return st;
}

ert_status ert_ccvae_create(ert_family_model *fm, ert_ccvae **out, ert_error *err)
{
    if (!fm || !out)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_create: fm and out must not be NULL");
    *out = NULL;
    const ert_family_desc *d = ert_family_desc_of(fm);
    if (!d || strcmp(d->name, "ccvae") != 0)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_create: the blob is a '%s' family blob, not 'ccvae'",
                        d ? d->name : "?");
    ert_ccvae_params p;
    ert_status st = ert_ccvae_params_from(fm, &p, err); /* rejects the six_channel variant */
    if (st != ERT_OK)
        return st;
    ert_ccvae *m = calloc(1, sizeof *m);
    if (!m)
        return ert_fail(err, ERT_ENOMEM, "ert_ccvae_create: out of memory");
    m->fm = fm;
    m->enc = ert_family_graph(fm, "encoder");
    m->ctx = ert_family_graph(fm, "context");
    m->state = ert_family_graph(fm, "state");
    if (m->enc < 0 && m->state >= 0) {
        st = create_split(m, err);
        if (st != ERT_OK) {
            ert_ccvae_free(m);
            return st;
        }
        *out = m;
        return ERT_OK;
    }
    const ert_graph *eg = m->enc >= 0 ? graph_of(fm, m->enc) : NULL;
    st = ert_ccvae_check_encoder(eg, &m->mu_dim, &m->context_dim, err);
    if (st == ERT_OK && m->ctx >= 0)
        st = ert_ccvae_check_context(graph_of(fm, m->ctx), eg, m->context_dim, err);
    if (st == ERT_OK && !ert_add_size(m->mu_dim, m->context_dim, &m->latent_dim))
        st = ert_fail(err, ERT_EINVAL, "ert_ccvae_create: mu and c sizes overflow");
    if (st == ERT_OK) {
        m->in_xt = (uint32_t)ert_rig_graph_input_index(eg, "x_t");
        m->in_x0 = (uint32_t)ert_rig_graph_input_index(eg, "x_0");
        m->xt_t = ert_family_input(fm, m->enc, m->in_xt);
        m->x0_t = ert_family_input(fm, m->enc, m->in_x0);
        m->latent_t = ert_family_output(fm, m->enc, "latent");
        m->c_t = ert_family_output(fm, m->enc, "c");
        m->ctx_c_t = m->ctx >= 0 ? ert_family_output(fm, m->ctx, "c") : NULL;
        st = bound(m->xt_t, err);
        if (st == ERT_OK)
            st = bound(m->x0_t, err);
        if (st == ERT_OK)
            st = bound(m->latent_t, err);
        if (st == ERT_OK)
            st = bound(m->c_t, err);
        if (st == ERT_OK && m->ctx >= 0)
            st = bound(m->ctx_c_t, err);
        if (st == ERT_OK && !ert_shape_numel(&m->x0_t->shape, &m->image_floats))
            st = ert_fail(err, ERT_EINVAL, "ert_ccvae_create: input 'x_0' is too large");
    }
    if (st == ERT_OK) {
        m->x0 = calloc(m->image_floats, sizeof *m->x0);
        m->context = calloc(m->context_dim, sizeof *m->context);
        m->goal = calloc(m->latent_dim, sizeof *m->goal);
        m->latent = calloc(m->latent_dim, sizeof *m->latent);
        if (!m->x0 || !m->context || !m->goal || !m->latent)
            st = ert_fail(err, ERT_ENOMEM, "ert_ccvae_create: out of memory");
    }
    if (st != ERT_OK) {
        ert_ccvae_free(m);
        return st;
    }
    *out = m;
    return ERT_OK;
}

void ert_ccvae_free(ert_ccvae *m)
{
    if (!m)
        return;
    free(m->x0);
    free(m->context);
    free(m->goal);
    free(m->latent);
    free(m);
}

size_t ert_ccvae_mu_dim(const ert_ccvae *m)
{
    return m->mu_dim;
}

size_t ert_ccvae_context_dim(const ert_ccvae *m)
{
    return m->context_dim;
}

size_t ert_ccvae_latent_dim(const ert_ccvae *m)
{
    return m->latent_dim;
}

ert_status ert_ccvae_reset(ert_ccvae *m, const ert_frame *first_frame, ert_error *err)
{
    if (!m || !first_frame)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_reset: m and first_frame must not be NULL");
    /* A failed reset leaves no episode: encoding against a stale x_0 would be silently wrong. */
    m->has_context = false;
    m->has_goal = false;
    ert_status st = ERT_OK;
    if (m->enc >= 0) {
        st = ert_family_set_image(m->fm, m->enc, m->in_x0, first_frame, err);
        if (st != ERT_OK) {
            ert_error_prefix(err, "ert_ccvae_reset");
            return st;
        }
        memcpy(m->x0, m->x0_t->data, m->image_floats * sizeof *m->x0);
    }
    if (m->ctx >= 0) {
        st = ert_family_set_image(m->fm, m->ctx, 0, first_frame, err);
        if (st == ERT_OK)
            st = ert_family_run(m->fm, m->ctx, err);
        if (st != ERT_OK) {
            ert_error_prefix(err, "ert_ccvae_reset: context");
            return st;
        }
        memcpy(m->context, m->ctx_c_t->data, m->context_dim * sizeof *m->context);
    } else {
        /* c depends on x_0 only: run the encoder once on (x_0, x_0). */
        memcpy(m->xt_t->data, m->x0, m->image_floats * sizeof *m->x0);
        st = ert_family_run(m->fm, m->enc, err);
        if (st != ERT_OK) {
            ert_error_prefix(err, "ert_ccvae_reset");
            return st;
        }
        memcpy(m->context, m->c_t->data, m->context_dim * sizeof *m->context);
    }
    m->has_context = true;
    return ERT_OK;
}

const float *ert_ccvae_context(const ert_ccvae *m)
{
    return m && m->has_context ? m->context : NULL;
}

ert_status ert_ccvae_encode(ert_ccvae *m, const ert_frame *frame, float *latent, ert_error *err)
{
    if (!m || !frame || !latent)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_encode: m, frame and latent must not be NULL");
    if (!m->has_context)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_encode: no episode; call ert_ccvae_reset with its first frame");
    int gi = m->enc >= 0 ? m->enc : m->state;
    ert_status st = ert_family_set_image(m->fm, gi, m->in_xt, frame, err);
    if (st != ERT_OK)
        return st;
    /* Inputs are copied in before every run: the arena may reuse their bytes. */
    if (m->enc >= 0)
        memcpy(m->x0_t->data, m->x0, m->image_floats * sizeof *m->x0);
    else
        memcpy(m->c_in->data, m->context, m->context_dim * sizeof *m->context);
    st = ert_family_run(m->fm, gi, err);
    if (st != ERT_OK)
        return st;
    memcpy(latent, m->latent_t->data, m->latent_dim * sizeof *latent);
    return ERT_OK;
}

ert_status ert_ccvae_set_goal_prior(ert_ccvae *m, uint64_t seed, ert_error *err)
{
    if (!m)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_set_goal_prior: m must not be NULL");
    if (!m->has_context)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_set_goal_prior: no episode context; call ert_ccvae_reset first");
    ert_ccvae_goal(seed, m->context, m->mu_dim, m->context_dim, m->goal);
    m->has_goal = true;
    return ERT_OK;
}

ert_status ert_ccvae_set_goal_image(ert_ccvae *m, const ert_frame *goal, ert_error *err)
{
    ert_status st = ert_ccvae_encode(m, goal, m ? m->latent : NULL, err);
    if (st != ERT_OK) {
        ert_error_prefix(err, "goal image");
        return st;
    }
    memcpy(m->goal, m->latent, m->latent_dim * sizeof *m->goal);
    m->has_goal = true;
    return ERT_OK;
}

ert_status ert_ccvae_set_goal(ert_ccvae *m, const float *z, size_t n, ert_error *err)
{
    if (!m || !z)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_set_goal: m and z must not be NULL");
    if (!m->has_context)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_set_goal: no episode context; call ert_ccvae_reset first");
    if (n != m->latent_dim && n != m->mu_dim)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_set_goal: goal has %zu values, expected %zu (latent) or %zu (mu)",
                        n, m->latent_dim, m->mu_dim);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(z[i]))
            return ert_fail(err, ERT_EINVAL, "ert_ccvae_set_goal: goal[%zu] is not finite", i);
    memcpy(m->goal, z, n * sizeof *z);
    if (n == m->mu_dim)
        memcpy(m->goal + m->mu_dim, m->context, m->context_dim * sizeof *m->goal);
    m->has_goal = true;
    return ERT_OK;
}

const float *ert_ccvae_goal_of(const ert_ccvae *m)
{
    return m && m->has_goal ? m->goal : NULL;
}

ert_status ert_ccvae_reward_frame(ert_ccvae *m, const ert_ccvae_params *p, const ert_frame *frame,
                                  ert_rig_reward *out, float *latent, ert_error *err)
{
    if (!m || !p || !out)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_reward_frame: m, p and out must not be NULL");
    if (!(p->norm_order >= 1.0) || !(p->epsilon >= 0.0) ||
        (p->reward != ERT_RIG_REWARD_DISTANCE && p->reward != ERT_RIG_REWARD_SPARSE))
        return ert_fail(err, ERT_EINVAL,
                        "ert_ccvae_reward_frame: params need norm_order >= 1, epsilon >= 0 and a known reward");
    if (!m->has_goal)
        return ert_fail(err, ERT_EINVAL, "ert_ccvae_reward_frame: no goal for this episode (set one after reset)");
    ert_status st = ert_ccvae_encode(m, frame, m->latent, err);
    if (st != ERT_OK)
        return st;
    ert_ccvae_reward_latent(p, m->goal, m->latent, m->latent_dim, out);
    if (latent)
        memcpy(latent, m->latent, m->latent_dim * sizeof *latent);
    return ERT_OK;
}
