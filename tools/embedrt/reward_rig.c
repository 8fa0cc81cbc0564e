/* `embedrt reward` for RIG and CC-VAE: latent-distance rewards against an image goal or
 * an imagined goal drawn from the prior with a seed. */
#include "reward_cli.h"

#include "embedrt/ccvae.h"
#include "embedrt/image.h"
#include "embedrt/rig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double norm2(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* type names the reward (as embedrtd's Reward.type does); the goal's source is not part of it. */
static void emit(const ert_reward_args *a, const char *family, ert_rig_reward_kind kind, const ert_rig_reward *r,
                 const float *goal, const float *latent, size_t n)
{
    ert_reward_begin(a, family, kind == ERT_RIG_REWARD_SPARSE ? "latent_sparse" : "latent_distance", r->value);
    ert_reward_field(a, "distance", r->distance);
    ert_reward_field(a, "sparse", r->sparse);
    if (!isnan(r->mahalanobis))
        ert_reward_field(a, "mahalanobis", r->mahalanobis);
    ert_reward_field(a, "goal_norm", norm2(goal, n));
    ert_reward_field(a, "latent_norm", norm2(latent, n));
    ert_reward_end(a);
}

int ert_reward_rig(ert_family_model *fm, const ert_reward_args *a)
{
    if (!a->frame || (!a->goal == !a->has_prior)) {
        fprintf(stderr, "embedrt reward: rig needs --frame IMG and one of --goal IMG, --prior-goal SEED\n");
        return 2;
    }
    ert_error err;
    ert_rig *r = NULL;
    ert_rig_params p;
    ert_image goal = {0}, frame = {0};
    float *mu = NULL;
    int rc = 1;
    ert_status st = ert_rig_create(fm, &r, &err);
    if (st == ERT_OK)
        st = ert_rig_params_parse(a->params, a->n_params, &p, &err);
    if (st == ERT_OK)
        st = ert_image_read(a->frame, &frame, &err);
    if (st == ERT_OK && a->goal && (st = ert_image_read(a->goal, &goal, &err)) == ERT_OK)
        st = ert_rig_set_goal_image(r, &goal.frame, &err);
    if (st == ERT_OK && a->has_prior)
        st = ert_rig_set_goal_prior(r, &p, a->prior_seed, &err);
    size_t n = st == ERT_OK ? ert_rig_latent_dim(r) : 0;
    if (st == ERT_OK && !(mu = malloc(n * sizeof *mu)))
        st = ert_fail(&err, ERT_ENOMEM, "out of memory");
    ert_rig_reward rw;
    if (st == ERT_OK)
        st = ert_rig_reward_frame(r, &p, &frame.frame, &rw, mu, NULL, &err);
    if (st != ERT_OK) {
        fprintf(stderr, "embedrt reward: %s\n", err.msg);
        goto done;
    }
    emit(a, "rig", p.reward, &rw, ert_rig_goal(r), mu, n);
    rc = 0;
done:
    free(mu);
    ert_image_free(&goal);
    ert_image_free(&frame);
    ert_rig_free(r);
    return rc;
}

int ert_reward_ccvae(ert_family_model *fm, const ert_reward_args *a)
{
    if (!a->frame || !a->context || (!a->goal == !a->has_prior)) {
        fprintf(stderr, "embedrt reward: ccvae needs --context IMG (the episode's first frame), --frame IMG and one "
                        "of --goal IMG, --prior-goal SEED\n");
        return 2;
    }
    ert_error err;
    ert_ccvae *m = NULL;
    ert_ccvae_params p;
    ert_image ctx = {0}, goal = {0}, frame = {0};
    float *latent = NULL;
    int rc = 1;
    ert_status st = ert_ccvae_create(fm, &m, &err);
    if (st == ERT_OK)
        st = ert_ccvae_params_parse(a->params, a->n_params, &p, &err);
    if (st == ERT_OK)
        st = ert_image_read(a->context, &ctx, &err);
    if (st == ERT_OK)
        st = ert_image_read(a->frame, &frame, &err);
    if (st == ERT_OK)
        st = ert_ccvae_reset(m, &ctx.frame, &err);
    if (st == ERT_OK && a->goal && (st = ert_image_read(a->goal, &goal, &err)) == ERT_OK)
        st = ert_ccvae_set_goal_image(m, &goal.frame, &err);
    if (st == ERT_OK && a->has_prior)
        st = ert_ccvae_set_goal_prior(m, a->prior_seed, &err);
    size_t n = st == ERT_OK ? ert_ccvae_latent_dim(m) : 0;
    if (st == ERT_OK && !(latent = malloc(n * sizeof *latent)))
        st = ert_fail(&err, ERT_ENOMEM, "out of memory");
    ert_rig_reward rw;
    if (st == ERT_OK)
        st = ert_ccvae_reward_frame(m, &p, &frame.frame, &rw, latent, &err);
    if (st != ERT_OK) {
        fprintf(stderr, "embedrt reward: %s\n", err.msg);
        goto done;
    }
    emit(a, "ccvae", p.reward, &rw, ert_ccvae_goal_of(m), latent, n);
    rc = 0;
done:
    free(latent);
    ert_image_free(&ctx);
    ert_image_free(&goal);
    ert_image_free(&frame);
    ert_ccvae_free(m);
    return rc;
}
