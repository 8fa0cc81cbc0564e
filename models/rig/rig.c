/* RIG's model layer: runs the encoder (and decoder) graphs of a rig family blob on frames,
 * keeps the current goal and rewards frames against it. Allocates only at create. */
#include "embedrt/rig.h"

#include "embedrt/model.h"
#include "rig_graphs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ert_rig {
    ert_family_model *fm;
    int enc, dec; /* graph indices; dec is -1 without a decoder */
    size_t latent_dim, image_floats;
    bool has_logvar, has_goal;
    const ert_tensor *mu_t, *logvar_t, *image_t;
    ert_tensor *latent_in; /* the decoder's input */
    float *goal, *mu, *logvar; /* latent_dim floats each */
};

ert_status ert_rig_params_from(const ert_family_model *fm, ert_rig_params *out, ert_error *err)
{
    if (!fm || !out)
        return ert_fail(err, ERT_EINVAL, "ert_rig_params_from: fm and out must not be NULL");
    static const char *const keys[] = {"norm_order", "epsilon", "reward", "latent_mean", "latent_std"};
    ert_family_param list[sizeof keys / sizeof keys[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const ert_family_param *q = ert_family_get_param(fm, keys[i]);
        if (q)
            list[n++] = *q;
    }
    /* list holds copies of the entries; their value arrays still belong to fm. */
    return ert_rig_params_parse(list, n, out, err);
}

static const ert_graph *graph_of(ert_family_model *fm, int gi)
{
    return ert_model_graph(ert_family_engine(fm), (uint32_t)gi);
}

/* An output's data as read after a run: bound to the arena at load. */
static ert_status bound(const ert_tensor *t, ert_error *err)
{
    if (!t->data)
        return ert_fail(err, ERT_EINTERNAL, "rig: graph tensor '%s' has no buffer", t->name ? t->name : "?");
    return ERT_OK;
}

ert_status ert_rig_create(ert_family_model *fm, ert_rig **out, ert_error *err)
{
    if (!fm || !out)
        return ert_fail(err, ERT_EINVAL, "ert_rig_create: fm and out must not be NULL");
    *out = NULL;
    const ert_family_desc *d = ert_family_desc_of(fm);
    if (!d || strcmp(d->name, "rig") != 0)
        return ert_fail(err, ERT_EINVAL, "ert_rig_create: the blob is a '%s' family blob, not 'rig'",
                        d ? d->name : "?");
    ert_rig *r = calloc(1, sizeof *r);
    if (!r)
        return ert_fail(err, ERT_ENOMEM, "ert_rig_create: out of memory");
    r->fm = fm;
    r->enc = ert_family_graph(fm, "encoder");
    r->dec = ert_family_graph(fm, "decoder");
    ert_status st = r->enc < 0 ? ert_fail(err, ERT_EFORMAT, "rig blob without an 'encoder' graph")
                               : ert_rig_check_encoder(graph_of(fm, r->enc), &r->latent_dim, &r->has_logvar, err);
    if (st == ERT_OK && r->dec >= 0)
        st = ert_rig_check_decoder(graph_of(fm, r->dec), r->latent_dim, &r->image_floats, err);
    if (st == ERT_OK) {
        r->mu_t = ert_family_output(fm, r->enc, "mu");
        r->logvar_t = r->has_logvar ? ert_family_output(fm, r->enc, "logvar") : NULL;
        st = bound(r->mu_t, err);
        if (st == ERT_OK && r->logvar_t)
            st = bound(r->logvar_t, err);
    }
    if (st == ERT_OK && r->dec >= 0) {
        r->latent_in = ert_family_input(fm, r->dec, 0);
        r->image_t = ert_family_output(fm, r->dec, "image");
        st = bound(r->latent_in, err);
        if (st == ERT_OK)
            st = bound(r->image_t, err);
    }
    if (st == ERT_OK) {
        r->goal = calloc(r->latent_dim, sizeof *r->goal);
        r->mu = calloc(r->latent_dim, sizeof *r->mu);
        r->logvar = calloc(r->latent_dim, sizeof *r->logvar);
        if (!r->goal || !r->mu || !r->logvar)
            st = ert_fail(err, ERT_ENOMEM, "ert_rig_create: out of memory for %zu latent dimensions", r->latent_dim);
    }
    if (st != ERT_OK) {
        ert_rig_free(r);
        return st;
    }
    *out = r;
    return ERT_OK;
}

void ert_rig_free(ert_rig *r)
{
    if (!r)
        return;
    free(r->goal);
    free(r->mu);
    free(r->logvar);
    free(r);
}

size_t ert_rig_latent_dim(const ert_rig *r)
{
    return r->latent_dim;
}

bool ert_rig_has_logvar(const ert_rig *r)
{
    return r->has_logvar;
}

size_t ert_rig_image_floats(const ert_rig *r)
{
    return r->image_floats;
}

ert_status ert_rig_encode(ert_rig *r, const ert_frame *frame, float *mu, float *logvar, ert_error *err)
{
    if (!r || !frame || !mu)
        return ert_fail(err, ERT_EINVAL, "ert_rig_encode: r, frame and mu must not be NULL");
    if (logvar && !r->has_logvar)
        return ert_fail(err, ERT_EINVAL, "ert_rig_encode: the encoder graph has no 'logvar' output");
    ert_status st = ert_family_set_image(r->fm, r->enc, 0, frame, err);
    if (st == ERT_OK)
        st = ert_family_run(r->fm, r->enc, err);
    if (st != ERT_OK)
        return st;
    memcpy(mu, r->mu_t->data, r->latent_dim * sizeof *mu);
    if (logvar)
        memcpy(logvar, r->logvar_t->data, r->latent_dim * sizeof *logvar);
    return ERT_OK;
}

ert_status ert_rig_decode(ert_rig *r, const float *z, float *image, size_t image_floats, ert_error *err)
{
    if (!r || !z || !image)
        return ert_fail(err, ERT_EINVAL, "ert_rig_decode: r, z and image must not be NULL");
    if (r->dec < 0)
        return ert_fail(err, ERT_EINVAL, "ert_rig_decode: the blob has no 'decoder' graph");
    if (image_floats != r->image_floats)
        return ert_fail(err, ERT_EINVAL, "ert_rig_decode: image holds %zu floats, the decoder writes %zu", image_floats,
                        r->image_floats);
    memcpy(r->latent_in->data, z, r->latent_dim * sizeof *z);
    ert_status st = ert_family_run(r->fm, r->dec, err);
    if (st == ERT_OK)
        memcpy(image, r->image_t->data, image_floats * sizeof *image);
    return st;
}

ert_status ert_rig_set_goal_image(ert_rig *r, const ert_frame *goal, ert_error *err)
{
    if (!r)
        return ert_fail(err, ERT_EINVAL, "ert_rig_set_goal_image: r must not be NULL");
    ert_status st = ert_rig_encode(r, goal, r->mu, NULL, err);
    if (st != ERT_OK) {
        ert_error_prefix(err, "goal image");
        return st;
    }
    memcpy(r->goal, r->mu, r->latent_dim * sizeof *r->goal);
    r->has_goal = true;
    return ERT_OK;
}

ert_status ert_rig_set_goal(ert_rig *r, const float *z, size_t n, ert_error *err)
{
    if (!r || !z)
        return ert_fail(err, ERT_EINVAL, "ert_rig_set_goal: r and z must not be NULL");
    if (n != r->latent_dim)
        return ert_fail(err, ERT_EINVAL, "ert_rig_set_goal: goal has %zu values, the latent has %zu", n, r->latent_dim);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(z[i]))
            return ert_fail(err, ERT_EINVAL, "ert_rig_set_goal: goal[%zu] is not finite", i);
    memcpy(r->goal, z, n * sizeof *z);
    r->has_goal = true;
    return ERT_OK;
}

static ert_status check_params(const ert_rig_params *p, const char *fn, ert_error *err)
{
    if (!p)
        return ert_fail(err, ERT_EINVAL, "%s: params must not be NULL", fn);
    if (!(p->norm_order >= 1.0) || !(p->epsilon >= 0.0) ||
        (p->reward != ERT_RIG_REWARD_DISTANCE && p->reward != ERT_RIG_REWARD_SPARSE))
        return ert_fail(err, ERT_EINVAL, "%s: params need norm_order >= 1, epsilon >= 0 and a known reward", fn);
    if (p->latent_dim && (!p->latent_mean || !p->latent_std))
        return ert_fail(err, ERT_EINVAL, "%s: latent_dim %zu without latent_mean and latent_std", fn, p->latent_dim);
    return ERT_OK;
}

ert_status ert_rig_set_goal_prior(ert_rig *r, const ert_rig_params *p, uint64_t seed, ert_error *err)
{
    if (!r)
        return ert_fail(err, ERT_EINVAL, "ert_rig_set_goal_prior: r must not be NULL");
    ert_status st = check_params(p, "ert_rig_set_goal_prior", err);
    if (st != ERT_OK)
        return st;
    if (p->latent_dim && p->latent_dim != r->latent_dim)
        return ert_fail(err, ERT_EINVAL,
                        "ert_rig_set_goal_prior: latent statistics have %zu values, the latent has %zu", p->latent_dim,
                        r->latent_dim);
    ert_rig_sample_prior(seed, p->latent_dim ? p->latent_mean : NULL, p->latent_dim ? p->latent_std : NULL,
                         r->latent_dim, r->goal);
    r->has_goal = true;
    return ERT_OK;
}

const float *ert_rig_goal(const ert_rig *r)
{
    return r && r->has_goal ? r->goal : NULL;
}

ert_status ert_rig_reward_frame(ert_rig *r, const ert_rig_params *p, const ert_frame *frame, ert_rig_reward *out,
                                float *mu, float *per_dim, ert_error *err)
{
    if (!r || !out)
        return ert_fail(err, ERT_EINVAL, "ert_rig_reward_frame: r and out must not be NULL");
    ert_status st = check_params(p, "ert_rig_reward_frame", err);
    if (st != ERT_OK)
        return st;
    if (!r->has_goal)
        return ert_fail(err, ERT_EINVAL, "ert_rig_reward_frame: no goal set (image, latent or prior sample)");
    st = ert_rig_encode(r, frame, r->mu, r->has_logvar ? r->logvar : NULL, err);
    if (st != ERT_OK)
        return st;
    ert_rig_reward_latent(p, r->goal, r->mu, r->has_logvar ? r->logvar : NULL, r->latent_dim, out, per_dim);
    if (mu)
        memcpy(mu, r->mu, r->latent_dim * sizeof *mu);
    return ERT_OK;
}
