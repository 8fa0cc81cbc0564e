/* Pixel conversions shared by the image readers, the y4m writer and preprocessing:
 * one exact integer definition of BT.601 limited range, used everywhere (see frame.c). */
#ifndef ERT_IMAGE_INTERNAL_H
#define ERT_IMAGE_INTERNAL_H

#include "embedrt/frame.h"

#include <stdint.h>

/* Largest width or height of a decoded image or a y4m stream (frames may be larger). */
#define ERT_IMAGE_MAX_DIM 16384u
/* Largest pixel count: all of 16384 x 16384, except in fuzzing builds, where allocating
 * up to 768 MiB per input would make the fuzzer slow and trip its memory limit. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define ERT_IMAGE_MAX_PIXELS ((size_t)1 << 22)
#else
#define ERT_IMAGE_MAX_PIXELS ((size_t)ERT_IMAGE_MAX_DIM * ERT_IMAGE_MAX_DIM)
#endif

/* One pixel, BT.601 limited range, Y/U/V -> R/G/B. */
void ert_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3]);
/* Luma of one RGB pixel. */
uint8_t ert_rgb_to_y(uint8_t r, uint8_t g, uint8_t b);
/* Chroma of n (1, 2 or 4) pixels whose R, G, B sums are given (their average's U, V). */
void ert_rgb_to_uv(uint32_t sum_r, uint32_t sum_g, uint32_t sum_b, uint32_t n, uint8_t *u, uint8_t *v);

/* Packed RGB24 of pixels [x0, x0 + n) of row y of a frame that passed ert_frame_check
 * (the caller keeps x0 + n <= width and y < height). */
void ert_frame_row_rgb(const ert_frame *f, uint32_t y, uint32_t x0, uint32_t n, uint8_t *dst);
/* The same for the n pixels x0 + cols[i] only, each written at dst + 3 * cols[i] (rows
 * where a downscale reads few columns need not convert the others). */
void ert_frame_cols_rgb(const ert_frame *f, uint32_t y, uint32_t x0, const uint32_t *cols, uint32_t n, uint8_t *dst);

#endif
