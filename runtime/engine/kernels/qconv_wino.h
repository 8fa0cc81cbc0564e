/* Exact int8 Winograd F(2x2,3x3) for ErtQConv (internal to the kernels; numerics in
 * proto/blob-format.md, "int8 ops"). Results equal the direct int8 path bit for bit:
 *
 *   d = Xq - z_x per 4x4 input tile (0 outside the map: padding is real zero), V = B^T d B,
 *   |V| <= 4 * 255 = 1020 (int16); U = (2G) g (2G)^T with the integer 2G = [[2,0,0],
 *   [1,1,1],[1,-1,1],[0,0,2]], |U| <= 9 * 127 = 1143 (int16); M = sum_c U .* V in int32
 *   (vpmaddwd, modulo 2^32); Y = A^T M A = 4 * S with S the exact direct sum. S is
 *   recovered exactly from 4 * S modulo 2^32 while |4 S| < 2^31: |S| <= 9 * C * 255 * 127,
 *   so C <= ERT_QWINO_MAX_C. Then the usual epilogue on S + bias.
 *
 * By default used only with the AVX2 int8 kernel (its 6 x 16 tile on int16 panels) and
 * C >= 32 (the measured rule in qconv_wino.c); other kernels keep the direct path. The
 * environment variable ERT_QCONV_WINOGRAD=off disables it, =on takes it for every eligible
 * shape with any kernel (others than AVX2 run a portable C tile on the same panels: tests),
 * read when the model is bound. */
#ifndef ERT_QCONV_WINO_H
#define ERT_QCONV_WINO_H

#include "spatial.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 9 * C * 255 * 127 * 4 < 2^31  <=>  C <= 1841. */
#define ERT_QWINO_MAX_C 1841

typedef struct ert_qwino {
    size_t C, M, H, W, OH, OW, pt, pl;
    size_t th, tw, T; /* tile rows, tile columns, tiles (2x2 outputs each) */
    size_t kp;        /* C rounded up to 8 */
    size_t tb;        /* most tiles per block (multiple of 16) */
} ert_qwino;

/* Shape check: 2-D 3x3, stride 1, dilation 1, one group, 1 <= C <= ERT_QWINO_MAX_C. */
bool ert_qwino_init(ert_qwino *w, const ert_sp_geom *g, size_t C, size_t M, size_t group);

/* Whether the int8 Winograd path runs for this shape on this machine now (kernel, switch,
 * measured rule). Decided when the model is bound. */
bool ert_qwino_wanted(const ert_qwino *w);

size_t ert_qwino_prepared_bytes(const ert_qwino *w);
size_t ert_qwino_scratch(const ert_qwino *w);
/* Lowers w->tb (by whole 16-tile panels) until the scratch fits bytes (blobs planned before
 * this path existed); false when not even 16 tiles fit. */
bool ert_qwino_fit(ert_qwino *w, size_t bytes);
void ert_qwino_prepare(const ert_qwino *w, const int8_t *wq, void *out);

/* Whether prepared holds Winograd weights (any kernel); ok: for the active kernel and shape. */
bool ert_qwino_is_prepared(const void *prepared, const ert_qwino *w, bool *ok);

/* Tiles [t0, t0 + nt) of one image (nt <= w->tb): xq C x H x W uint8, y and res M x OH x OW. */
void ert_qwino_block(const ert_qwino *w, const void *prepared, const uint8_t *xq, uint8_t zx, size_t t0, size_t nt,
                     const int32_t *bias, const float *scale, const float *res, float lo, float hi, float *y,
                     void *scratch);

#endif
