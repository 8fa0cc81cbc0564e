/* The preprocessing recipe a blob stores per graph (ert_preprocess, embedrt/blob.h),
 * applied to 8-bit frames exactly as written, never guessed: decode to RGB -> flip ->
 * crop -> resize -> x * scale -> (x - mean[c]) / std[c] -> channel order, planar CHW. */
#ifndef EMBEDRT_PREPROCESS_H
#define EMBEDRT_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "embedrt/blob.h"
#include "embedrt/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No flip, no crop, no resize, scale 1/255, mean 0, std 1, RGB. */
void ert_preprocess_default(ert_preprocess *pp);

/* Parses the CLI form "crop=center|X,Y,W,H,resize=WxH[:bilinear|area|nearest],scale=S,
 * mean=R,G,B,std=R,G,B,order=rgb|bgr,flip=none|vertical|horizontal" (any subset, any
 * order; unspecified fields keep ert_preprocess_default's values). "crop=center" is the
 * largest centred square, "crop=center:WxH" a centred W x H window; "crop=none" and
 * "resize=none" spell the defaults; scale may be a fraction N/D ("2/255"). Errors name
 * the key and the bad value; on error *pp is unchanged. */
ert_status ert_preprocess_parse(const char *spec, ert_preprocess *pp, ert_error *err);
/* The same form back, every key spelled out (round-trips through ert_preprocess_parse;
 * 256 bytes always suffice, a smaller buf gets a terminated prefix). */
void ert_preprocess_format(const ert_preprocess *pp, char *buf, size_t cap);

/* Checks the recipe for frames of frame_w x frame_h feeding an out_w x out_h input:
 * crop inside the (flipped) frame, std != 0, and without crop and resize the frame must
 * already have the input's size. */
ert_status ert_preprocess_check(const ert_preprocess *pp, uint32_t frame_w, uint32_t frame_h, uint32_t out_w,
                                uint32_t out_h, ert_error *err);
/* Scratch bytes ert_preprocess_run needs for such frames (0 if none). */
size_t ert_preprocess_scratch(const ert_preprocess *pp, uint32_t frame_w, uint32_t frame_h, uint32_t out_w,
                              uint32_t out_h);
/* Writes out[3][out_h][out_w] (float32, planar, the recipe's channel order) from f.
 * Never allocates; f may be any ert_pixfmt (YUV is converted with BT.601 limited range). */
ert_status ert_preprocess_run(const ert_preprocess *pp, const ert_frame *f, float *out, uint32_t out_w,
                              uint32_t out_h, void *scratch, size_t scratch_bytes, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
