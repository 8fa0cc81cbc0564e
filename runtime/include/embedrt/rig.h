/* RIG (Nair et al. 2018, rlkit VAEWrappedEnv): latent rewards between a goal and the VAE
 * mean of a frame, seeded imagined goals, and a thin layer that runs the encoder graph. */
#ifndef EMBEDRT_RIG_H
#define EMBEDRT_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- parameters ---- */

typedef enum ert_rig_reward_kind {
    ERT_RIG_REWARD_DISTANCE = 0, /* "latent_distance": -||g - mu||_p (rlkit default) */
    ERT_RIG_REWARD_SPARSE = 1,   /* "latent_sparse": 0 if ||g - mu||_p < epsilon else -1 */
} ert_rig_reward_kind;

typedef struct ert_rig_params {
    double norm_order;          /* p >= 1, or INFINITY; blob text "1", "2", "inf" or a real */
    double epsilon;             /* sparse success threshold on the same ||.||_p, >= 0 */
    ert_rig_reward_kind reward; /* which reward ert_rig_reward_latent reports as value */
    /* Imagined-goal statistics (blob "latent_mean", "latent_std": per-dimension mean and
     * std of encoded training means, written by `embedrt convert --latent-stats`). NULL
     * with latent_dim 0 when absent: goals then come from N(0, I). The arrays belong to
     * whatever the params were read from (the family model). */
    const double *latent_mean, *latent_std;
    size_t latent_dim;
} ert_rig_params;

/* p = 2, epsilon = 0.05, latent_distance, no latent statistics. */
ert_rig_params ert_rig_params_default(void);
/* Reads and validates the parameters from a list as stored in a blob (absent keys keep
 * their defaults): norm_order text, epsilon finite >= 0, reward text, latent_mean and
 * latent_std both or neither, equal lengths, finite, std >= 0. out points into params. */
ert_status ert_rig_params_parse(const ert_family_param *params, size_t n_params, ert_rig_params *out,
                                ert_error *err);
/* The same from a loaded family blob (out points into fm's parameters). */
ert_status ert_rig_params_from(const ert_family_model *fm, ert_rig_params *out, ert_error *err);
/* "1", "2", "inf"/"infinity" or a real >= 1 -> p; false otherwise (NaN, < 1, trailing text). */
bool ert_rig_parse_norm_order(const char *text, double *p);

/* ---- pure functions over latents (computed in double) ---- */

/* ||a - b||_p for p = 1, 2, INFINITY or any real p >= 1; 0 for n = 0; NaN when p is
 * not >= 1 or an input is NaN. */
double ert_rig_distance(const float *a, const float *b, size_t n, double p);
/* out[i] = -|goal[i] - mu[i]| (float arithmetic; rlkit "vectorized_latent_distance"). */
void ert_rig_reward_per_dim(const float *goal, const float *mu, size_t n, float *out);
/* 0 when ||goal - mu||_p < epsilon (strictly, as rlkit), else -1 (also for NaN). */
double ert_rig_sparse(const float *goal, const float *mu, size_t n, double p, double epsilon);
/* Diagnostic (logged by rlkit, not a reward): sum_i (g_i - mu_i)^2 / (2 max(exp(logvar_i), 1e-3)). */
double ert_rig_mahalanobis(const float *goal, const float *mu, const float *logvar, size_t n);

typedef struct ert_rig_reward {
    double value;       /* the params' reward: -distance, or sparse */
    double distance;    /* ||goal - mu||_p */
    double sparse;      /* 0 or -1 with the params' epsilon */
    double mahalanobis; /* NaN without logvar */
} ert_rig_reward;

/* Every reward of mu against goal with params p; logvar may be NULL; per_dim (n floats)
 * may be NULL. */
void ert_rig_reward_latent(const ert_rig_params *p, const float *goal, const float *mu, const float *logvar,
                           size_t n, ert_rig_reward *out, float *per_dim);

/* Seeded imagined goal: out[i] = float(mean[i] + std[i] * z_i), z ~ N(0, I) drawn from
 * xoshiro256** seeded by splitmix64(seed) with Marsaglia's polar method and a logarithm
 * made of +, -, *, /: the same seed gives bit-identical values on every run, machine,
 * compiler and libm (models/rig/reference/rig_math.py is the bit-exact reference).
 * mean NULL means 0, std NULL means 1. The first k values of a draw of n > k equal a
 * draw of k with the same seed. */
void ert_rig_sample_prior(uint64_t seed, const double *mean, const double *std, size_t n, float *out);

/* ---- model layer: the "encoder" graph (image -> mu [1,L], optional logvar [1,L]) and
 * the optional "decoder" (latent [1,L] -> image [1,3,H,W]) of a rig family blob ---- */

typedef struct ert_rig ert_rig;

/* Binds fm's graphs (fm must outlive r); all state is allocated here. */
ert_status ert_rig_create(ert_family_model *fm, ert_rig **out, ert_error *err);
void ert_rig_free(ert_rig *r);
size_t ert_rig_latent_dim(const ert_rig *r);
bool ert_rig_has_logvar(const ert_rig *r);
/* Floats of a decoded image (3*H*W), 0 without a decoder graph. */
size_t ert_rig_image_floats(const ert_rig *r);

/* mu (L floats) and, when logvar is not NULL, logvar (L floats; EINVAL if the graph has none). */
ert_status ert_rig_encode(ert_rig *r, const ert_frame *frame, float *mu, float *logvar, ert_error *err);
/* Decodes z (L floats) into image (ert_rig_image_floats floats, planar CHW). */
ert_status ert_rig_decode(ert_rig *r, const float *z, float *image, size_t image_floats, ert_error *err);

/* The current goal: the mean of a goal image, a given latent (n must be L, finite),
 * or an imagined goal drawn with seed from p's statistics (N(0, I) without them). */
ert_status ert_rig_set_goal_image(ert_rig *r, const ert_frame *goal, ert_error *err);
ert_status ert_rig_set_goal(ert_rig *r, const float *z, size_t n, ert_error *err);
ert_status ert_rig_set_goal_prior(ert_rig *r, const ert_rig_params *p, uint64_t seed, ert_error *err);
/* L floats, or NULL before any goal was set. */
const float *ert_rig_goal(const ert_rig *r);

/* Encodes frame and rewards it against the current goal. mu and per_dim (L floats each)
 * may be NULL. EINVAL without a goal. */
ert_status ert_rig_reward_frame(ert_rig *r, const ert_rig_params *p, const ert_frame *frame, ert_rig_reward *out,
                                float *mu, float *per_dim, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
