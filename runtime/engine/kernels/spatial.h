/* Internals shared by the sliding-window kernels (conv*.c, pool.c): the window-attribute
 * param block, its resolution against input shapes, and the bias+activation epilogue. */
#ifndef ERT_KERNELS_SPATIAL_H
#define ERT_KERNELS_SPATIAL_H

#include "../op.h"

#include <stddef.h>

/* Window param block: the first ERT_SP_INTS of node->ints for Conv, ConvTranspose and
 * the pools (each op appends its own params after it):
 *   [0]        auto_pad: ERT_SP_NOTSET / VALID / SAME_UPPER / SAME_LOWER
 *   [1]        spatial rank the attributes declare (0: none given, take it from X)
 *   [2..5)     kernel_shape per spatial dim (0: take it from W)
 *   [5..8)     strides     [8..11) dilations
 *   [11..14)   pads at the start of each dim   [14..17) pads at the end
 * Slots past the spatial rank hold the defaults (k 0, s 1, d 1, pads 0). */
#define ERT_SP_INTS 17
#define ERT_SP_MAXDIM 3
#define ERT_SP_LIMIT ((int64_t)1 << 31) /* bound on every window attribute value */
/* Bound on spatial sizes: a zero batch lets the other dims of an empty tensor be anything,
 * and window arithmetic (size + pads, size * stride) must stay far from int64 overflow. */
#define ERT_SP_DIM_MAX ((int64_t)1 << 48)

enum { ERT_SP_NOTSET = 0, ERT_SP_VALID = 1, ERT_SP_SAME_UPPER = 2, ERT_SP_SAME_LOWER = 3 };

/* Resolved geometry, normalised to 3 spatial dims (D, H, W): an op of spatial rank
 * r < 3 gets 3 - r leading dims with in = k = out = 1, s = d = 1, no pads. */
typedef struct ert_sp_geom {
    int nsp;                                 /* the op's real spatial rank, 1..3 */
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
    size_t in_size, out_size, k_size;        /* products over the 3 dims */
} ert_sp_geom;

/* Reads auto_pad, kernel_shape, strides, pads and (if with_dilations) dilations into blk
 * (ERT_SP_INTS entries) and validates them. kernel_required: pools. */
ert_status ert_sp_parse(ert_attrs *a, const ert_node *n, bool kernel_required, bool with_dilations, int64_t *blk,
                        ert_error *err);

/* Validates a param block from a hostile source (ranges, spatial rank). */
ert_status ert_sp_check(const ert_node *n, const int64_t *blk, bool kernel_required, ert_error *err);

/* Fills g from blk and the input shape x (rank 2 + r). wk: kernel dims taken from the
 * weight tensor (conv) or NULL (pools: kernel from blk). ceil_mode: pools only.
 * Fails when the window does not fit the (padded) input. blk must be checked. */
ert_status ert_sp_resolve(const ert_node *n, const int64_t *blk, const ert_shape *x, const int64_t *wk,
                          bool ceil_mode, ert_sp_geom *g, ert_error *err);

/* Window positions o in [0, count) with 0 <= o * s + off < limit form [*lo, *hi). */
static inline void ert_sp_range(int64_t count, int64_t s, int64_t off, int64_t limit, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = limit - off <= 0 ? 0 : (limit - 1 - off) / s + 1;
    if (h > count)
        h = count;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* y[i] = act(y[i] + bias) over one contiguous run: the once-per-output epilogue. */
void ert_sp_bias_act(float *restrict y, size_t len, float bias, const ert_node *n);

/* Column buffers of Conv/ConvTranspose are tiled to about this many bytes (cache-sized),
 * but never to fewer than ERT_SP_COL_MIN columns per gemm call. */
#define ERT_SP_COL_CAP ((size_t)1 << 20)
#define ERT_SP_COL_MIN ((size_t)256)

#endif
