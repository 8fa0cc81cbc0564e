/* grasp2vec (Jang, Devin et al. 2018): scene and object embeddings, the outcome and
 * scene-difference rewards, and the goal heatmap with its soft-argmax keypoint. */
#ifndef EMBEDRT_GRASP2VEC_H
#define EMBEDRT_GRASP2VEC_H

#include <stdbool.h>
#include <stddef.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The family descriptor (roles "scene" = phi_s and "object" = phi_o, parameters, check). */
extern const ert_family_desc ert_family_grasp2vec;

/* ---- parameters ---- */

typedef enum ert_g2v_sim_kind {
    ERT_G2V_COSINE = 0, /* the paper's reward */
    ERT_G2V_DOT = 1,    /* raw dot product (what the n-pairs loss trains) */
} ert_g2v_sim_kind;

typedef struct ert_g2v_params {
    ert_g2v_sim_kind similarity; /* blob key "similarity": text "cosine" | "dot" */
    bool diff_relu;              /* blob key "diff_relu": 0 | 1; ReLU on phi_s(pre) - phi_s(post) */
    float heatmap_temperature;   /* blob key "heatmap_temperature": > 0, finite */
} ert_g2v_params;

/* Literature defaults: cosine (paper), no ReLU on the scene difference, temperature 0.1. */
void ert_g2v_params_default(ert_g2v_params *p);
/* Defaults overridden by stored parameters (keys above; other keys are ignored). Fails
 * naming the key and value on a wrong type, an unknown similarity, diff_relu not 0/1, or
 * a temperature that is not a finite number > 0. Used by check() and ert_g2v_params_from. */
ert_status ert_g2v_params_parse(const ert_family_param *params, size_t n_params, ert_g2v_params *p,
                                ert_error *err);
/* The parameters stored in a loaded grasp2vec blob (missing keys keep the defaults). */
ert_status ert_g2v_params_from(const ert_family_model *fm, ert_g2v_params *p, ert_error *err);

/* ---- pure functions over embeddings ---- */

/* A reward and its parts. The norms and the dot are always filled; cosine is 0 when
 * either vector is zero (never NaN). value is cosine or dot as asked. */
typedef struct ert_g2v_reward {
    float value;
    float cosine;
    float dot;
    float norm_goal;
    float norm_other;
} ert_g2v_reward;

/* Compares goal with other (n floats each; sums in double, cosine clamped to [-1, 1]).
 * n == 0 or a NULL vector gives all zeros; an unknown kind gives value NaN. NaN in the
 * inputs propagates to the result. */
void ert_g2v_compare(const float *goal, const float *other, size_t n, ert_g2v_sim_kind kind, ert_g2v_reward *out);
/* ert_g2v_compare(...).value */
float ert_g2v_similarity(const float *a, const float *b, size_t n, ert_g2v_sim_kind kind);
/* out = pre - post, then max(0, .) when relu (NaN stays NaN). out may alias pre or post;
 * NULL or n == 0 does nothing. */
void ert_g2v_scene_diff(const float *pre, const float *post, size_t n, bool relu, float *out);

/* The goal heatmap over a scene's spatial map spatial[c][h][w] (the [1,C,h,w] output):
 *   heat[i*w + j] = sum_c spatial[c][i][j] * goal[c]
 *   prob = softmax(heat) over all h*w positions (max subtracted first)
 *   keypoint = sum_ij softmax(heat / temperature)[i,j] * (x_j, y_i), where
 *     x_j = -1 + 2 j / (w - 1), y_i = -1 + 2 i / (h - 1)   (0 when w or h is 1)
 * i.e. keypoint[0] = x (column, left -1 .. right +1), keypoint[1] = y (row, top -1 ..
 * bottom +1), on the centres of the first and last cells like tf.linspace(-1, 1, n).
 * heat (h*w floats) is required; prob (h*w, not aliasing heat) and keypoint may be NULL. Fails on NULL
 * inputs, zero or overflowing sizes, a temperature that is not finite and > 0, and a
 * non-finite heat value (NaN/inf in the inputs or float overflow of the dot). */
ert_status ert_g2v_heatmap(const float *spatial, size_t c, size_t h, size_t w, const float *goal,
                           float temperature, float *heat, float *prob, float keypoint[2], ert_error *err);

/* ---- the model layer: a loaded grasp2vec family blob run on frames ---- */

/* Wraps a loaded family blob (not owned: free it after ert_g2v_free). Knows the
 * embedding size and the spatial map size from the graphs and owns the buffers the
 * frame-level calls need, allocated once at create. Not thread-safe: one per thread. */
typedef struct ert_g2v ert_g2v;

/* Fails when fm is not a grasp2vec blob, its graphs break the contract check()
 * enforces, or its stored parameters are invalid. */
ert_status ert_g2v_create(ert_family_model *fm, ert_g2v **out, ert_error *err);
void ert_g2v_free(ert_g2v *g);

/* Embedding size C (scene and object vectors agree). */
size_t ert_g2v_dim(const ert_g2v *g);
/* Spatial map of the scene tower: [1, c, h, w]. */
void ert_g2v_spatial_dims(const ert_g2v *g, size_t *c, size_t *h, size_t *w);
/* The parameters stored in the blob; callers copy and override per request. */
const ert_g2v_params *ert_g2v_blob_params(const ert_g2v *g);

/* phi_s(frame): vector[C] and, unless NULL, spatial[C*h*w] (layout [c][h][w]). */
ert_status ert_g2v_embed_scene(ert_g2v *g, const ert_frame *f, float *vector, float *spatial, ert_error *err);
/* phi_o(frame): vector[C]. */
ert_status ert_g2v_embed_object(ert_g2v *g, const ert_frame *f, float *vector, ert_error *err);

/* The frame-level calls take params (NULL: the blob's). They fail, like the embeds, on a
 * bad frame or an embedding with a non-finite value. */

/* Outcome reward: similarity(phi_o(goal), phi_o(outcome)). */
ert_status ert_g2v_outcome_reward(ert_g2v *g, const ert_g2v_params *p, const ert_frame *goal,
                                  const ert_frame *outcome, ert_g2v_reward *out, ert_error *err);
/* Scene-difference reward: similarity(phi_o(goal), d), d = phi_s(pre) - phi_s(post),
 * ReLU'd when p->diff_relu. norm_other is |d|. */
ert_status ert_g2v_scene_diff_reward(ert_g2v *g, const ert_g2v_params *p, const ert_frame *goal,
                                     const ert_frame *pre, const ert_frame *post, ert_g2v_reward *out,
                                     ert_error *err);
/* Where the goal object is in the scene: ert_g2v_heatmap of phi_o(goal) over
 * phi_s(scene)'s spatial map with p->heatmap_temperature. heat and prob (h*w floats
 * each) may be NULL; keypoint is required. */
ert_status ert_g2v_locate(ert_g2v *g, const ert_g2v_params *p, const ert_frame *goal, const ert_frame *scene,
                          float *heat, float *prob, float keypoint[2], ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
