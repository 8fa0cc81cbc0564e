/* CC-VAE's pure functions: goal composition [z, c], rewards and parameter parsing (the
 * distances and the seeded sampler are RIG's, models/rig/rig_math.c). */
#include "embedrt/ccvae.h"

#include <math.h>
#include <string.h>

ert_ccvae_params ert_ccvae_params_default(void)
{
    ert_rig_params r = ert_rig_params_default();
    ert_ccvae_params p = {ERT_CCVAE_TWO_ENCODERS, r.norm_order, r.epsilon, r.reward};
    return p;
}

ert_status ert_ccvae_params_parse(const ert_family_param *params, size_t n_params, ert_ccvae_params *out,
                                  ert_error *err)
{
    ert_rig_params r;
    ert_status st = ert_rig_params_parse(params, n_params, &r, err);
    if (st != ERT_OK)
        return st;
    ert_ccvae_params p = {ERT_CCVAE_TWO_ENCODERS, r.norm_order, r.epsilon, r.reward};
    for (size_t i = 0; i < n_params; i++) {
        const ert_family_param *q = &params[i];
        if (!q->key || strcmp(q->key, "variant") != 0)
            continue;
        if (q->text && strcmp(q->text, "two_encoders") == 0)
            continue;
        if (q->text && strcmp(q->text, "six_channel") == 0)
            return ert_fail(err, ERT_EUNSUPPORTED,
                            "parameter 'variant' = 'six_channel' (x_t and x_0 as one 6-channel image) is not "
                            "supported; embedrt runs the two_encoders variant (inputs x_t and x_0)");
        return ert_fail(err, ERT_EINVAL, "parameter 'variant' = '%s': must be two_encoders",
                        q->text ? q->text : "(a number)");
    }
    *out = p;
    return ERT_OK;
}

void ert_ccvae_goal(uint64_t seed, const float *context, size_t mu_dim, size_t context_dim, float *goal)
{
    ert_rig_sample_prior(seed, NULL, NULL, mu_dim, goal);
    if (context_dim)
        memcpy(goal + mu_dim, context, context_dim * sizeof *goal);
}

void ert_ccvae_reward_latent(const ert_ccvae_params *p, const float *goal, const float *latent, size_t n,
                             ert_rig_reward *out)
{
    ert_rig_params r = ert_rig_params_default();
    r.norm_order = p->norm_order;
    r.epsilon = p->epsilon;
    r.reward = p->reward;
    ert_rig_reward_latent(&r, goal, latent, NULL, n, out, NULL);
}
