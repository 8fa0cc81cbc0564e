/* Inner loops of Conv and ConvTranspose (conv_kernels.c): im2col, col2im and the direct
 * depthwise kernels. All take geometry already validated by conv.c. */
#ifndef ERT_KERNELS_CONV_KERNELS_H
#define ERT_KERNELS_CONV_KERNELS_H

#include "spatial.h"

/* Column matrix for output rows [r0, r1) (a row = one (od, oh) pair): for each input
 * channel c < channels and kernel offset, one col row of (r1 - r0) * OW values.
 * x: the group's first input channel. */
void ert_conv_im2col(const float *restrict x, const ert_sp_geom *g, size_t channels, size_t r0, size_t r1,
                     float *restrict col);

/* Scatter-adds a ConvTranspose column matrix for input rows [r0, r1) into y (the group's
 * first output channel; channels output channels). Inverse layout of im2col. */
void ert_conv_col2im(const float *restrict col, const ert_sp_geom *g, size_t channels, size_t r0, size_t r1,
                     float *restrict y);

/* Direct depthwise conv of one 2-D plane (g->in[0] == 1, g->k[0] == 1): y = act(x * w + bias).
 * zero_row: g->in[2] zeroed floats (used by the 3x3 fast path). */
void ert_conv_depthwise_plane(const float *restrict x, const float *restrict w, float bias, const ert_sp_geom *g,
                              const float *zero_row, float *restrict y, const ert_node *n);

/* ---- Winograd F(4x4, 3x3) and F(2x2, 3x3) (conv_winograd.c) ---- */
struct ert_pool;

typedef struct ert_wino_geom {
    int m;                   /* output tile: 4 (F(4x4, 3x3)) or 2 (F(2x2, 3x3)) */
    size_t pos;              /* (m + 2)^2 products */
    size_t C, M, H, W, OH, OW;
    int64_t pt, pl;          /* top and left pads */
    size_t tiles_h, tiles_w; /* m x m output tiles */
    size_t T, block;         /* tiles per image; tiles per block (V and M sized for it) */
} ert_wino_geom;

/* Fills wg for output tiles of tile x tile (2 or 4) when g is a 2-D window with a 3x3
 * kernel, stride 1 and dilation 1. */
bool ert_wino_geom_init(ert_wino_geom *wg, const ert_sp_geom *g, size_t c_count, size_t m_count, int tile);
/* Workspace floats ert_wino_conv needs (V and M of one block). */
size_t ert_wino_workspace_floats(const ert_wino_geom *wg);
/* Transformed weights U = G w G^T: pos x M x C floats from w [M, C, 3, 3]. */
void ert_wino_prepare(const ert_wino_geom *wg, const float *restrict w, float *restrict u);
/* One image: y [M, OH, OW] = act(conv(x [C, H, W], w) + bias + res) from U; res (the
 * residual, y's shape) may be NULL; ws: the workspace. */
void ert_wino_conv(const ert_wino_geom *g, const float *x, const float *u, const float *bias, const float *res,
                   float *y, float *ws, struct ert_pool *pool, const ert_node *n);

#endif
