/* CC-VAE (Nair et al. 2019, rlkit ccrig): context-conditioned latents [mu(x_t, x_0), c(x_0)]
 * with the episode's first frame cached at reset, goals [z ~ N(0, I), c] and RIG rewards. */
#ifndef EMBEDRT_CCVAE_H
#define EMBEDRT_CCVAE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"
#include "embedrt/rig.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ert_ccvae_variant {
    /* Separate state and context trunks, x_t and x_0 as two [1,3,H,W] inputs (ccrig).
     * The later "six_channel" variant (x_t and x_0 stacked as one 6-channel image) is
     * rejected: no reference graph exists for it. */
    ERT_CCVAE_TWO_ENCODERS = 0,
} ert_ccvae_variant;

typedef struct ert_ccvae_params {
    ert_ccvae_variant variant;  /* blob text "variant" */
    double norm_order;          /* p of ||goal - latent||_p, default 2 */
    double epsilon;             /* sparse success threshold, default 0.05 (ccrig) */
    ert_rig_reward_kind reward; /* latent_distance (default) or latent_sparse */
} ert_ccvae_params;

/* two_encoders, p = 2, epsilon = 0.05, latent_distance. */
ert_ccvae_params ert_ccvae_params_default(void);
/* Reads and validates "variant", "norm_order", "epsilon", "reward" (absent keys keep
 * their defaults; "six_channel" -> EUNSUPPORTED). */
ert_status ert_ccvae_params_parse(const ert_family_param *params, size_t n_params, ert_ccvae_params *out,
                                  ert_error *err);
ert_status ert_ccvae_params_from(const ert_family_model *fm, ert_ccvae_params *out, ert_error *err);

/* ---- pure functions ---- */

/* goal[0..mu_dim) = ert_rig_sample_prior(seed, N(0, I)), goal[mu_dim..mu_dim+context_dim) = context. */
void ert_ccvae_goal(uint64_t seed, const float *context, size_t mu_dim, size_t context_dim, float *goal);
/* Rewards of latent against goal (n = mu_dim + context_dim values each): value, distance
 * ||goal - latent||_p and sparse as in ert_rig_reward_latent; mahalanobis is NaN. */
void ert_ccvae_reward_latent(const ert_ccvae_params *p, const float *goal, const float *latent, size_t n,
                             ert_rig_reward *out);

/* ---- model layer: "encoder" (x_t, x_0 -> mu [1,M], c [1,C], latent [1,M+C]) and the
 * optional "context" (x_0 -> c [1,C]) of a ccvae family blob ---- */

typedef struct ert_ccvae ert_ccvae;

/* Binds fm's graphs (fm must outlive m); all state is allocated here. */
ert_status ert_ccvae_create(ert_family_model *fm, ert_ccvae **out, ert_error *err);
void ert_ccvae_free(ert_ccvae *m);
size_t ert_ccvae_mu_dim(const ert_ccvae *m);
size_t ert_ccvae_context_dim(const ert_ccvae *m);
/* mu_dim + context_dim: the length of latents and goals. */
size_t ert_ccvae_latent_dim(const ert_ccvae *m);

/* Starts an episode: preprocesses first_frame once for the encoder's x_0 (kept for every
 * encode of the episode) and computes c once (the context graph when present, else the
 * encoder on (x_0, x_0)). Clears the goal. */
ert_status ert_ccvae_reset(ert_ccvae *m, const ert_frame *first_frame, ert_error *err);
/* The episode's context c (context_dim floats), or NULL before the first reset. */
const float *ert_ccvae_context(const ert_ccvae *m);
/* latent = concat(mu(frame, x_0), c), the encoder's "latent" output (latent_dim floats).
 * Equals one run of the encoder on (frame, first frame). EINVAL before a reset. */
ert_status ert_ccvae_encode(ert_ccvae *m, const ert_frame *frame, float *latent, ert_error *err);

/* The episode's goal: [z ~ N(0, I) drawn with seed, c] (ert_ccvae_goal), the latent of a
 * goal image under the episode's context, or a given vector: n = latent_dim (used as
 * is) or n = mu_dim (the episode's c appended). All need a reset first. */
ert_status ert_ccvae_set_goal_prior(ert_ccvae *m, uint64_t seed, ert_error *err);
ert_status ert_ccvae_set_goal_image(ert_ccvae *m, const ert_frame *goal, ert_error *err);
ert_status ert_ccvae_set_goal(ert_ccvae *m, const float *z, size_t n, ert_error *err);
/* latent_dim floats, or NULL when the episode has no goal yet. */
const float *ert_ccvae_goal_of(const ert_ccvae *m);

/* Encodes frame and rewards it against the goal; latent (latent_dim floats) may be NULL. */
ert_status ert_ccvae_reward_frame(ert_ccvae *m, const ert_ccvae_params *p, const ert_frame *frame,
                                  ert_rig_reward *out, float *latent, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
