/* Exact int8 Winograd F(2x2,3x3) and F(4x4,3x3) for ErtQConv (internal to the kernels;
 * numerics in proto/blob-format.md, "int8 ops"). Results equal the direct int8 path bit
 * for bit. d = Xq - z_x per input tile (0 outside the map: padding is real zero), M =
 * sum_c U .* V in int32 (vpmaddwd, modulo 2^32), S the exact direct sum:
 *
 * F(2x2): 4x4 input tiles at stride 2. V = B^T d B, |V| <= 4 * 255 = 1020 (int16); U =
 *   (2G) g (2G)^T with the integer 2G = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]], |U| <= 9 * 127
 *   = 1143 (int16); Y = A^T M A = 4 S, recovered exactly while |4 S| < 2^31: |S| <= 9 * C *
 *   255 * 127, so C <= ERT_QWINO_MAX_C.
 * F(4x4) (Lavin's B, G, A): 6x6 input tiles at stride 4. V = B^T d B, |V| <= 10 * 10 * 255
 *   = 25500 (int16); U = G' g G'^T with G' = D G, D = diag(4,6,6,24,24,1), the integer
 *   G' = [[1,0,0],[-1,-1,-1],[-1,1,-1],[1,2,4],[1,-2,4],[0,0,1]], |U| <= 7 * 7 * 127 = 6223
 *   (int16; vpmaddwd pair sums stay below 2 * 6223 * 25500 < 2^31); T = A'^T M A' with
 *   A'^T = A^T diag(24 / D) = [[6,4,4,1,1,0],[0,4,-4,2,-2,0],[0,4,4,4,4,0],[0,4,-4,8,-8,24]]
 *   is 576 S modulo 2^32; (T >> 6) * 9^-1 = S modulo 2^26, sign-extended from 26 bits:
 *   exact while |S| < 2^25. |S| <= max_m sum |W_m| * max(z_x, q_max - z_x) is checked on
 *   the real weights when the model is bound (ert_qwino_exact4); where it fails, F(2x2).
 * Then the usual epilogue on S + bias.
 *
 * By default used only with the AVX2 int8 kernel (its 6 x 16 tile on int16 panels) and
 * C >= 32, F(4x4) where the measured rule in qconv_wino.c says so and the bound holds;
 * other kernels keep the direct path. The environment variable ERT_QCONV_WINOGRAD, read
 * when the model is bound: off disables it; on takes it for every eligible shape with any
 * kernel (others than AVX2 run a portable C tile on the same panels: tests), the tile size
 * by the rule; f2 as on, always F(2x2); f4 as on, F(4x4) wherever its bound holds, its
 * scratch planned even where the other paths need less (ert_qwino_plan4; tests). */
#ifndef ERT_QCONV_WINO_H
#define ERT_QCONV_WINO_H

#include "spatial.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 9 * C * 255 * 127 * 4 < 2^31  <=>  C <= 1841. */
#define ERT_QWINO_MAX_C 1841

typedef struct ert_qwino {
    size_t n;         /* outputs per tile side: 2 (F(2x2,3x3)) or 4 (F(4x4,3x3)) */
    size_t np;        /* transformed positions per tile, (n + 2)^2: 16 or 36 */
    size_t C, M, H, W, OH, OW, pt, pl;
    size_t th, tw, T; /* tile rows, tile columns, tiles (n x n outputs each) */
    size_t kp;        /* C rounded up to 8 */
    size_t tb;        /* most tiles per block (multiple of 16) */
} ert_qwino;

/* Shape check: 2-D 3x3, stride 1, dilation 1, one group, 1 <= C <= ERT_QWINO_MAX_C; n is
 * the tile's output side, 2 or 4. */
bool ert_qwino_init(ert_qwino *w, const ert_sp_geom *g, size_t C, size_t M, size_t group, size_t n);

/* Whether the int8 Winograd path runs for this shape on this machine now (kernel, switch,
 * measured rule). Decided when the model is bound. */
bool ert_qwino_wanted(const ert_qwino *w);

/* Whether F(4x4) recovers every sum exactly with these weights (M x C x 3 x 3) and inputs
 * in [0, q_max] around z_x: max_m sum |W_m| * max(z_x, q_max - z_x) < 2^25. */
bool ert_qwino_exact4(const ert_qwino *w, const int8_t *wq, uint8_t zx, uint8_t qmax);

/* The tile size for a shape the path runs (ert_qwino_wanted on w2): 4 when w4 (F(4x4)'s
 * plan of the same shape; NULL: none) is wanted by the switch or the measured rule and
 * the weights pass ert_qwino_exact4, else 2. */
size_t ert_qwino_pick(const ert_qwino *w2, const ert_qwino *w4, const int8_t *wq, uint8_t zx, uint8_t qmax);

size_t ert_qwino_prepared_bytes(const ert_qwino *w);
size_t ert_qwino_scratch(const ert_qwino *w);
/* Lowers w->tb (by whole 16-tile panels) until the scratch fits bytes (blobs planned before
 * this path existed); false when not even 16 tiles fit. */
bool ert_qwino_fit(ert_qwino *w, size_t bytes);
void ert_qwino_prepare(const ert_qwino *w, const int8_t *wq, void *out);
/* F(4x4) in a shape's planned scratch (*scratch: the direct and F(2x2) paths' need): its
 * block lowered to fit; false when not even 16 tiles fit (small maps with many channels:
 * growing the plan would refuse blobs planned before F(4x4)), except under
 * ERT_QCONV_WINOGRAD=f4, which grows *scratch to F(4x4)'s 16 tiles instead (tests). */
bool ert_qwino_plan4(ert_qwino *w4, size_t *scratch);

/* The tile size (2 or 4) prepared holds Winograd weights for, 0 when it holds none. */
size_t ert_qwino_prepared_n(const void *prepared);
/* Whether prepared holds Winograd weights (any kernel); ok: for the active kernel, this
 * shape and w's tile size. */
bool ert_qwino_is_prepared(const void *prepared, const ert_qwino *w, bool *ok);

/* Tiles [t0, t0 + nt) of one image (nt <= w->tb), output channels [6 r0, 6 r1) (to M): xq
 * C x H x W uint8, y and res M x OH x OW. */
void ert_qwino_block(const ert_qwino *w, const void *prepared, const uint8_t *xq, uint8_t zx, size_t t0, size_t nt,
                     size_t r0, size_t r1, const int32_t *bias, const float *scale, const float *res, float lo, float hi,
                     float *y,
                     void *scratch);

#endif
