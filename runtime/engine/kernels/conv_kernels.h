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

#endif
