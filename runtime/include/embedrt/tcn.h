/* TCN (Sermanet et al. 2018): single-frame embeddings, the time-indexed imitation reward
 * against a demonstration, and nearest-neighbour alignment between embedding sequences. */
#ifndef EMBEDRT_TCN_H
#define EMBEDRT_TCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The family descriptor (role "embedder": image [1,3,H,W] -> "embedding" [1,D]). */
extern const ert_family_desc ert_family_tcn;

/* ---- parameters ---- */

typedef struct ert_tcn_params {
    float alpha;       /* blob key "alpha": finite, >= 0; weight of the squared distance */
    float beta;        /* blob key "beta": finite, >= 0; weight of the robust (sqrt) term */
    float gamma;       /* blob key "gamma": finite, >= 0; keeps the sqrt smooth at distance 0 */
    bool l2_normalize; /* blob key "l2_normalize": 0 | 1; normalise the graph's output */
    float l2_scale;    /* blob key "l2_scale": finite, > 0; multiplies the normalised output */
    uint32_t time_window; /* blob key "time_window": whole number 0..ERT_TCN_MAX_TIME_WINDOW; the
                           * imitation reward at live frame t compares with the closest demo frame
                           * within +-time_window of t (0: demo frame t, the paper's reward) */
} ert_tcn_params;

/* Largest time_window (frames): 10 s at 30 fps. */
#define ERT_TCN_MAX_TIME_WINDOW 300u

/* Defaults: alpha = beta = 0.5, gamma = 1e-3 (the public reimplementation families.md
 * cites; the paper publishes no constants); l2_normalize off, l2_scale 10 (the PyTorch
 * port's "normalise then multiply by 10" variant, used only when l2_normalize is on);
 * time_window 0 (the paper's strictly time-indexed reward). */
void ert_tcn_params_default(ert_tcn_params *p);
/* Defaults overridden by stored parameters (keys above; other keys are ignored). Fails
 * naming the key and value on text where a number is expected, a count other than one,
 * a negative or non-finite alpha/beta/gamma, l2_normalize not 0/1, l2_scale not a
 * finite float > 0, or time_window not a whole number in 0..ERT_TCN_MAX_TIME_WINDOW. Used by check() and ert_tcn_params_from. */
ert_status ert_tcn_params_parse(const ert_family_param *params, size_t n_params, ert_tcn_params *p,
                                ert_error *err);
/* The parameters stored in a loaded tcn or mftcn blob (missing keys keep the defaults). */
ert_status ert_tcn_params_from(const ert_family_model *fm, ert_tcn_params *p, ert_error *err);

/* ---- pure functions over embeddings ---- */

/* The imitation reward from a squared distance:
 *   R = -alpha * dist2 - beta * sqrt(gamma + dist2)
 * Identical embeddings give -beta * sqrt(gamma). NaN dist2 gives NaN. */
float ert_tcn_reward_from_dist2(float dist2, const ert_tcn_params *p);
/* R(v_t, w_t) with v_t = demo_t (the demonstration's embedding for time t) and w_t = live
 * (the robot's), d floats each; dist2 = ||live - demo_t||^2 summed in double. dist2_out
 * may be NULL. d == 0 gives dist2 0; NULL vectors (with d > 0) or NULL p give NaN. NaN in
 * the inputs propagates. */
float ert_tcn_imitation_reward(const float *demo_t, const float *live, size_t d, const ert_tcn_params *p,
                               float *dist2_out);

/* Nearest demo frame to q: argmin over i < t of ||demo[i*d .. i*d+d) - q||_2 (Euclidean,
 * summed in double); ties go to the lowest index. A row whose distance is NaN never wins.
 * index and dist may be NULL. Fails on NULL demo or q, t == 0 (empty demo), d == 0, a
 * t*d overflow, or when every distance is NaN. */
ert_status ert_tcn_nearest(const float *demo, size_t t, size_t d, const float *q, size_t *index, float *dist,
                           ert_error *err);
/* Cross-view alignment error: mean over i < ta of |nearest(b, a_i) - i| in frames, with
 * a [ta, d] and b [tb, d] (e.g. two views of one episode, which should align frame by
 * frame). Costs ta * tb * d. Fails like ert_tcn_nearest. */
ert_status ert_tcn_alignment_error(const float *a, size_t ta, const float *b, size_t tb, size_t d, double *out,
                                   ert_error *err);

/* In place: v = scale * v / sqrt(max(||v||^2, 1e-12)), the max as tf.nn.l2_normalize and
 * the tcn_l2 reference graph. A zero vector stays zero; NaN propagates. NULL or d == 0
 * does nothing. */
void ert_tcn_l2_normalize(float *v, size_t d, float scale);

/* ---- demonstrations: [T, D] float32 embeddings, allocated once at load ---- */

typedef struct ert_tcn_demo ert_tcn_demo;

/* Copies t frames of d floats. Fails on t == 0, d == 0, overflow, or a non-finite value. */
ert_status ert_tcn_demo_from_array(const float *emb, size_t t, size_t d, ert_tcn_demo **out, ert_error *err);
/* Loads an embeddings .npy: float32, 2-D [T, D] with T >= 1, D == dim (dim 0: any D >= 1),
 * every value finite. The values are used as stored (no normalisation: they must come
 * from the same model and options as the live embeddings). Errors name the file. */
ert_status ert_tcn_demo_load_npy(const char *path, size_t dim, ert_tcn_demo **out, ert_error *err);
/* Writes the demo as a float32 [T, D] .npy (e.g. to embed a demo video once). */
ert_status ert_tcn_demo_write_npy(const ert_tcn_demo *demo, const char *path, ert_error *err);
size_t ert_tcn_demo_length(const ert_tcn_demo *demo);
size_t ert_tcn_demo_dim(const ert_tcn_demo *demo);
/* Embedding of frame i (D floats), or NULL when i >= length. */
const float *ert_tcn_demo_frame(const ert_tcn_demo *demo, size_t i);
void ert_tcn_demo_free(ert_tcn_demo *demo);

/* ---- per-episode tracking of the imitation reward ---- */

/* One live frame scored against the demo. */
typedef struct ert_tcn_step {
    uint64_t t;          /* live frame index since the episode start (0-based) */
    size_t time_index;   /* c = min(t, T - 1): the time-aligned demo frame */
    size_t demo_index;   /* the demo frame the reward compares with: the closest to live
                          * (least dist2) among frames c - W .. c + W inside the demo, W =
                          * time_window; ties go to the frame nearest c, then the earlier */
    float reward;        /* ert_tcn_imitation_reward(demo[demo_index], live) */
    float dist2;         /* ||live - demo[demo_index]||^2 */
    size_t nearest;      /* ert_tcn_nearest(demo, live): where the live frame aligns */
    float nearest_dist;
} ert_tcn_step;

/* Plain state, no allocation: the demo is borrowed (must outlive the tracker), the
 * parameters are copied. When the live episode runs longer than the demo, the time
 * index is clamped to the demo's last frame (the robot is asked to hold the final pose).
 * A time_window W > 0 forgives tempo: a robot that runs the demonstration a few frames
 * early or late is compared with the demo frame it is at, not penalised for timing; it
 * costs 2W + 1 distances per frame. */
typedef struct ert_tcn_tracker {
    const ert_tcn_demo *demo;
    ert_tcn_params params;
    uint64_t t; /* frames scored since the last reset */
} ert_tcn_tracker;

/* p NULL: the defaults. Fails on NULL demo or invalid params. */
ert_status ert_tcn_tracker_init(ert_tcn_tracker *tr, const ert_tcn_demo *demo, const ert_tcn_params *p,
                                ert_error *err);
/* Episode start: the next frame is t = 0 again. */
void ert_tcn_tracker_reset(ert_tcn_tracker *tr);
/* Scores live (d floats, d must equal the demo's D) as frame t and advances t. Fails,
 * leaving the tracker unchanged, on a dim mismatch or a non-finite live value. */
ert_status ert_tcn_tracker_step(ert_tcn_tracker *tr, const float *live, size_t d, ert_tcn_step *out,
                                ert_error *err);

/* ---- the model layer: a loaded tcn family blob run on frames ---- */

/* Wraps a loaded family blob (not owned: free it after ert_tcn_free). Not thread-safe. */
typedef struct ert_tcn ert_tcn;

/* Fails when fm is not a tcn blob, its graph breaks the contract check() enforces, or
 * its stored parameters are invalid. */
ert_status ert_tcn_create(ert_family_model *fm, ert_tcn **out, ert_error *err);
void ert_tcn_free(ert_tcn *m);
/* Embedding size D. */
size_t ert_tcn_dim(const ert_tcn *m);
/* The parameters stored in the blob; callers copy and override per request. */
const ert_tcn_params *ert_tcn_blob_params(const ert_tcn *m);

/* Embeds frame into out[D]; with p->l2_normalize (p NULL: the blob's parameters) the
 * graph's output is L2-normalised and scaled by p->l2_scale. The tcn_l2 reference graph
 * already normalises inside the graph (scale 1): the option is for graphs that do not.
 * Fails on a bad frame or a non-finite embedding. */
ert_status ert_tcn_embed(ert_tcn *m, const ert_tcn_params *p, const ert_frame *frame, float *out, ert_error *err);
/* Embeds every frame of a .y4m video into a new demo (the file is read twice: frames
 * are counted first so the [T, D] matrix is allocated once). Errors name the file and
 * the frame. At most 1,000,000 frames. */
ert_status ert_tcn_demo_from_video(ert_tcn *m, const ert_tcn_params *p, const char *y4m_path, ert_tcn_demo **out,
                                   ert_error *err);
/* Embeds frame (ert_tcn_embed with the tracker's parameters) and scores it. */
ert_status ert_tcn_step_frame(ert_tcn *m, ert_tcn_tracker *tr, const ert_frame *frame, ert_tcn_step *out,
                              ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
