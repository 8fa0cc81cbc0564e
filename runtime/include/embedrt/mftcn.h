/* mfTCN (Dwibedi et al. 2018): an embedding of a causal window of n frames spaced s apart,
 * computed from per-frame trunk maps cached in a ring buffer (one trunk pass per frame). */
#ifndef EMBEDRT_MFTCN_H
#define EMBEDRT_MFTCN_H

#include <stddef.h>
#include <stdint.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The family descriptor (roles "trunk": image [1,3,H,W] -> "features" [1,C,h,w] and
 * "head": [1,C,n,h,w] -> "embedding" [1,D]). */
extern const ert_family_desc ert_family_mftcn;

/* Limits: a window of at most 64 frames, a span (n-1)*s+1 of at most 4096 frames. */
#define ERT_MFTCN_MAX_WINDOW 64u
#define ERT_MFTCN_MAX_SPAN 4096u

/* ---- parameters ---- */

typedef struct ert_mftcn_params {
    uint32_t window; /* blob key "window" (converter --window): n, 1..64; must equal the head's dim 2 */
    uint32_t stride; /* blob key "stride" (converter --stride): s >= 1 frames between window members */
} ert_mftcn_params;

/* Defaults n = 2, s = 15 (Dwibedi et al. 2018, families.md). */
void ert_mftcn_params_default(ert_mftcn_params *p);
/* Defaults overridden by stored parameters (keys above; other keys are ignored). Fails
 * naming the key and value on text, a count other than one, a non-integer, window
 * outside 1..64, stride < 1, or a span (n-1)*s+1 above 4096 frames. */
ert_status ert_mftcn_params_parse(const ert_family_param *params, size_t n_params, ert_mftcn_params *p,
                                  ert_error *err);
/* The parameters stored in a loaded mftcn blob (missing keys keep the defaults). */
ert_status ert_mftcn_params_from(const ert_family_model *fm, ert_mftcn_params *p, ert_error *err);

/* ---- the causal window ---- */

/* out[i] = max(0, t - (n-1-i)*s) for i < n: the window ending at frame t (t counted from
 * the episode start), oldest first, indices before the start clamped to frame 0. Fails
 * on NULL out, t < 0, n == 0 or s == 0. */
ert_status ert_mftcn_window_indices(int64_t t, uint32_t n, uint32_t s, int64_t *out, ert_error *err);

/* The ring of per-frame features: (n-1)*s+1 slots of c*hw floats, allocated at create,
 * so every member of the window ending at the newest frame is still held. */
typedef struct ert_mftcn_ring ert_mftcn_ring;

/* Fails on invalid n/s (as params_parse), c or hw == 0, or a size overflow. */
ert_status ert_mftcn_ring_create(uint32_t n, uint32_t s, size_t c, size_t hw, ert_mftcn_ring **out, ert_error *err);
void ert_mftcn_ring_free(ert_mftcn_ring *r);
/* Episode start: forgets every frame (the next push is frame 0). */
void ert_mftcn_ring_reset(ert_mftcn_ring *r);
/* Frames pushed since the last reset. */
uint64_t ert_mftcn_ring_frames(const ert_mftcn_ring *r);
/* Slots in the ring: (n-1)*s+1. */
size_t ert_mftcn_ring_span(const ert_mftcn_ring *r);
/* Stores the features [c][hw] of the next frame (copied). */
ert_status ert_mftcn_ring_push(ert_mftcn_ring *r, const float *features, ert_error *err);
/* Writes the head input for the window ending at the newest frame: out[c][k][hw] =
 * features of frame window_indices(newest)[k] (k = 0 oldest), i.e. the trunk maps
 * stacked on dim 2 of [1, c, n, h, w] as torch.stack(maps, dim=2) in the reference.
 * Fails when nothing was pushed since the reset. */
ert_status ert_mftcn_ring_stack(const ert_mftcn_ring *r, float *out, ert_error *err);

/* ---- the model layer: a loaded mftcn family blob run on frames ---- */

/* Wraps a loaded family blob (not owned: free it after ert_mftcn_free). Owns the ring,
 * sized from the trunk's output at create. Not thread-safe: one per camera stream. */
typedef struct ert_mftcn ert_mftcn;

/* p NULL: the blob's parameters. p->window must equal the head's n; the stride may be
 * overridden. Fails when fm is not an mftcn blob, its graphs break the contract check()
 * enforces, or the parameters are invalid. */
ert_status ert_mftcn_create(ert_family_model *fm, const ert_mftcn_params *p, ert_mftcn **out, ert_error *err);
void ert_mftcn_free(ert_mftcn *m);
/* Embedding size D. */
size_t ert_mftcn_dim(const ert_mftcn *m);
const ert_mftcn_params *ert_mftcn_params_of(const ert_mftcn *m);
/* Episode start: clears the ring. */
void ert_mftcn_reset(ert_mftcn *m);
/* Frames pushed since the last reset. */
uint64_t ert_mftcn_frames(const ert_mftcn *m);
/* Runs the trunk on frame (the next frame of the episode), caches its map, then runs the
 * head on the window ending at this frame and writes embedding[D]. Fails on a bad frame,
 * non-finite trunk features or a non-finite embedding. A failure before the map is cached
 * (bad frame, trunk, non-finite features) leaves the ring unchanged; after it, the frame
 * stays cached (it did happen in the episode). */
ert_status ert_mftcn_push(ert_mftcn *m, const ert_frame *frame, float *embedding, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
