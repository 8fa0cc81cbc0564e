/* TCN (time-contrastive networks, Sermanet et al. 2018): frame embeddings, the
 * imitation reward against a time-indexed demonstration and nearest-neighbour
 * alignment. Pure functions over embeddings plus a thin layer over a tcn family blob
 * (role "embedder": image [1,3,H,W] -> "embedding" [1,D]). */
#ifndef EMBEDRT_TCN_H
#define EMBEDRT_TCN_H

#include <stdbool.h>
#include <stddef.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ert_family_desc ert_family_tcn;

typedef struct ert_tcn_params {
    double alpha, beta, gamma; /* R = -alpha d^2 - beta sqrt(gamma + d^2) */
    bool l2_normalize;         /* normalise the graph's embedding at run time (PyTorch-port variant) */
    double l2_scale;           /* ... then multiply by this (10 in that port) */
} ert_tcn_params;

/* alpha = beta = 0.5, gamma = 1e-3 (a public reimplementation; the paper gives no
 * constants), no run-time normalisation, scale 10. */
void ert_tcn_params_default(ert_tcn_params *p);
/* Reads keys alpha, beta, gamma (finite, >= 0), l2_normalize (0/1), l2_scale (> 0);
 * other keys are ignored, missing ones keep the defaults. */
ert_status ert_tcn_params_parse(const ert_family_param *params, size_t n, ert_tcn_params *p, ert_error *err);

/* Squared Euclidean distance in double. */
double ert_tcn_dist2(const float *a, const float *b, size_t d);
/* -alpha ||w - v||^2 - beta sqrt(gamma + ||w - v||^2); *dist2 (nullable) gets ||w - v||^2. */
double ert_tcn_imitation_reward(const float *demo_t, const float *live, size_t d, const ert_tcn_params *p,
                                double *dist2);
/* Index of the demo frame (rows of demo [t][d]) nearest to q (ties: lowest index) and its
 * distance. t == 0 gives index 0 and an infinite distance. */
void ert_tcn_nearest(const float *demo, size_t t, size_t d, const float *q, size_t *index, double *dist);
/* v <- scale * v / ||v|| (a zero vector stays zero). */
void ert_tcn_l2_normalize(float *v, size_t d, double scale);

/* ---- model layer ---- */
typedef struct ert_tcn ert_tcn;
ert_status ert_tcn_create(ert_family_model *fm, ert_tcn **out, ert_error *err);
void ert_tcn_free(ert_tcn *t);
size_t ert_tcn_dim(const ert_tcn *t);
const ert_tcn_params *ert_tcn_blob_params(const ert_tcn *t);
/* Embeds a frame (the blob's preprocessing; p's normalisation, NULL: the blob's) into out[D]. */
ert_status ert_tcn_embed(ert_tcn *t, const ert_tcn_params *p, const ert_frame *f, float *out, ert_error *err);

/* A demonstration: T embeddings of D floats, allocated once at load. */
typedef struct ert_tcn_demo {
    float *emb; /* [t][d] */
    size_t t, d;
} ert_tcn_demo;
/* From an embeddings .npy (float32 [T, D] with D == the model's). */
ert_status ert_tcn_demo_load_npy(const ert_tcn *t, const char *path, ert_tcn_demo *demo, ert_error *err);
/* By embedding every frame of a .y4m video. */
ert_status ert_tcn_demo_load_video(ert_tcn *t, const ert_tcn_params *p, const char *path, ert_tcn_demo *demo,
                                   ert_error *err);
void ert_tcn_demo_free(ert_tcn_demo *demo);

#ifdef __cplusplus
}
#endif
#endif
