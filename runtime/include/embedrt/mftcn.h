/* Multi-frame TCN (Dwibedi et al. 2018): the embedding of a causal window of frames
 * {t-(n-1)s, ..., t-s, t}, clamped at the episode start. Each new frame costs one trunk
 * pass: per-frame trunk features live in a ring buffer and the head runs on the stacked
 * window. Roles: "trunk" (image [1,3,H,W] -> "features" [1,C,h,w]) and "head"
 * ([1,C,n,h,w], oldest frame first -> "embedding" [1,D]). */
#ifndef EMBEDRT_MFTCN_H
#define EMBEDRT_MFTCN_H

#include <stddef.h>
#include <stdint.h>

#include "embedrt/family.h"
#include "embedrt/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ert_family_desc ert_family_mftcn;

typedef struct ert_mftcn_params {
    size_t window; /* n frames per window (2 in the reference) */
    size_t stride; /* s frames between them (15 in the reference) */
} ert_mftcn_params;

void ert_mftcn_params_default(ert_mftcn_params *p);
/* Keys "window" (1..64) and "stride" (1..10000), integers. */
ert_status ert_mftcn_params_parse(const ert_family_param *params, size_t n, ert_mftcn_params *p, ert_error *err);

/* out[k] = max(0, t - (n-1-k) s), k = 0..n-1 (oldest first). */
void ert_mftcn_window_indices(uint64_t t, size_t n, size_t s, uint64_t *out);

typedef struct ert_mftcn ert_mftcn;
/* Checks both graphs against each other and the blob's window; allocates the ring of
 * (n-1)s+1 trunk maps once. */
ert_status ert_mftcn_create(ert_family_model *fm, ert_mftcn **out, ert_error *err);
void ert_mftcn_free(ert_mftcn *m);
size_t ert_mftcn_dim(const ert_mftcn *m);
/* Frames pushed since the last reset. */
uint64_t ert_mftcn_frames(const ert_mftcn *m);
/* Starts a new episode: the next frame is t = 0. */
void ert_mftcn_reset(ert_mftcn *m);
/* Runs the trunk on frame t (the next one), then the head on the window ending at t,
 * writing the embedding to out[D]. No allocation. */
ert_status ert_mftcn_push(ert_mftcn *m, const ert_frame *frame, float *out, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
