/* aarch64 int8 GEMM kernels: NEON with widening multiply-accumulate (every Armv8-A, e.g.
 * Cortex-A72 on a Raspberry Pi 4) and SDOT (Armv8.2 dot product, chosen when the kernel
 * reports HWCAP_ASIMDDP; the functions carry a target attribute, the build stays generic).
 *
 * neon: both operands are widened to int16 while packing; smlal/smlal2 by lane add
 * x * w (|.| <= 255 * 127) into int32 lanes: exact. Tile 8 rows x 8 columns, 16 q
 * accumulators; per k one load of 8 int16 activations and one of 8 int16 weights.
 * sdot: SDOT takes two signed int8 vectors, so activations are packed as x - 128 (in
 * [-128, 127]) and qgemm.c adds 128 * sum(W[n]) back (zoff = 128): sum (x - 128) * w + 128 *
 * sum w = sum x * w exactly. Each SDOT lane adds four products |.| <= 128 * 127. Tile 8 x 8,
 * per group of 4 k: two 16-byte loads of activations (columns 0-3, 4-7, 4 k each) and two of
 * weights (rows 0-3, 4-7), 16 sdot by lane. */
#if defined(__aarch64__)

#include "qgemm_impl.h"

#include <arm_neon.h>
#include <string.h>

#define MR 8
#define NR 8
#define DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

/* ---- neon (smlal) ---- */

static void neon_pack_w_panel(const int8_t *w, size_t k, size_t rows, size_t kp, void *dst)
{
    int16_t *d = dst;
    for (size_t j = 0; j < kp; j++)
        for (size_t r = 0; r < MR; r++)
            *d++ = (int16_t)(r < rows && j < k ? w[r * k + j] : 0);
}

static size_t neon_x_size(size_t kp, size_t p)
{
    if (p == 1)
        return kp * 2;
    return (p + NR - 1) / NR * kp * NR * 2;
}

static void neon_pack_x(const uint8_t *x, size_t k, size_t p, size_t ldx, size_t kp, void *dst)
{
    int16_t *d = dst;
    if (p == 1) {
        for (size_t j = 0; j < kp; j++)
            d[j] = (int16_t)(j < k ? x[j * ldx] : 0);
        return;
    }
    uint8_t tail[NR];
    for (size_t p0 = 0; p0 < p; p0 += NR) {
        size_t cols = p - p0 < NR ? p - p0 : NR;
        for (size_t j = 0; j < kp; j++, d += NR) {
            const uint8_t *src = x + j * ldx + p0;
            if (cols < NR || j >= k) {
                memset(tail, 0, NR);
                if (j < k)
                    memcpy(tail, src, cols);
                src = tail;
            }
            vst1q_s16(d, vreinterpretq_s16_u16(vmovl_u8(vld1_u8(src))));
        }
    }
}

#define SMLAL_ROW(r)                                                                                                   \
    do {                                                                                                               \
        c[r][0] = vmlal_laneq_s16(c[r][0], vget_low_s16(xv), wv, r);                                                   \
        c[r][1] = vmlal_high_laneq_s16(c[r][1], xv, wv, r);                                                            \
    } while (0)

static void neon_tile(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    const int16_t *w = wp, *x = xp;
    int32x4_t c[MR][2];
    for (int r = 0; r < MR; r++)
        c[r][0] = c[r][1] = vdupq_n_s32(0);
    for (size_t j = 0; j < kp; j++, w += MR, x += NR) {
        int16x8_t xv = vld1q_s16(x), wv = vld1q_s16(w);
        SMLAL_ROW(0);
        SMLAL_ROW(1);
        SMLAL_ROW(2);
        SMLAL_ROW(3);
        SMLAL_ROW(4);
        SMLAL_ROW(5);
        SMLAL_ROW(6);
        SMLAL_ROW(7);
    }
    for (int r = 0; r < MR; r++) {
        vst1q_s32(acc + r * NR, c[r][0]);
        vst1q_s32(acc + r * NR + 4, c[r][1]);
    }
}

static void neon_gemv(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    const int16_t *w = wp, *x = xp;
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
    for (size_t j = 0; j < kp; j++, w += MR) {
        int16x8_t wv = vld1q_s16(w);
        a0 = vmlal_n_s16(a0, vget_low_s16(wv), x[j]);
        a1 = vmlal_high_n_s16(a1, wv, x[j]);
    }
    vst1q_s32(acc, a0);
    vst1q_s32(acc + 4, a1);
}

const ert_qk ert_qk_neon = {
    .id = ERT_QK_NEON,
    .name = "neon",
    .mr = MR,
    .nr = NR,
    .kalign = 1,
    .wbytes = 2,
    .zoff = 0,
    .pack_w_panel = neon_pack_w_panel,
    .x_size = neon_x_size,
    .pack_x = neon_pack_x,
    .tile = neon_tile,
    .gemv = neon_gemv,
};

/* ---- sdot ---- */

static void sdot_pack_w_panel(const int8_t *w, size_t k, size_t rows, size_t kp, void *dst)
{
    int8_t *d = dst;
    for (size_t g = 0; g < kp / 4; g++)
        for (size_t r = 0; r < MR; r++)
            for (size_t t = 0; t < 4; t++) {
                size_t j = 4 * g + t;
                *d++ = (int8_t)(r < rows && j < k ? w[r * k + j] : 0);
            }
}

static size_t sdot_x_size(size_t kp, size_t p)
{
    if (p == 1)
        return kp;
    return (p + NR - 1) / NR * kp * NR;
}

static void sdot_pack_x(const uint8_t *x, size_t k, size_t p, size_t ldx, size_t kp, void *dst)
{
    int8_t *d = dst;
    if (p == 1) {
        for (size_t j = 0; j < kp; j++)
            d[j] = (int8_t)(j < k ? (int)x[j * ldx] - 128 : 0);
        return;
    }
    for (size_t p0 = 0; p0 < p; p0 += NR) {
        size_t cols = p - p0 < NR ? p - p0 : NR;
        for (size_t g = 0; g < kp / 4; g++)
            for (size_t col = 0; col < NR; col++)
                for (size_t t = 0; t < 4; t++) {
                    size_t j = 4 * g + t;
                    *d++ = (int8_t)(col < cols && j < k ? (int)x[j * ldx + p0 + col] - 128 : 0);
                }
    }
}

#define SDOT_ROW(r)                                                                                                    \
    do {                                                                                                               \
        c[r][0] = vdotq_laneq_s32(c[r][0], x0, (r) < 4 ? w0 : w1, (r) & 3);                                           \
        c[r][1] = vdotq_laneq_s32(c[r][1], x1, (r) < 4 ? w0 : w1, (r) & 3);                                           \
    } while (0)

DOTPROD static void sdot_tile(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    const int8_t *w = wp, *x = xp;
    int32x4_t c[MR][2];
    for (int r = 0; r < MR; r++)
        c[r][0] = c[r][1] = vdupq_n_s32(0);
    for (size_t g = 0; g < kp / 4; g++, w += 4 * MR, x += 4 * NR) {
        int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16), w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16);
        SDOT_ROW(0);
        SDOT_ROW(1);
        SDOT_ROW(2);
        SDOT_ROW(3);
        SDOT_ROW(4);
        SDOT_ROW(5);
        SDOT_ROW(6);
        SDOT_ROW(7);
    }
    for (int r = 0; r < MR; r++) {
        vst1q_s32(acc + r * NR, c[r][0]);
        vst1q_s32(acc + r * NR + 4, c[r][1]);
    }
}

DOTPROD static void sdot_gemv(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    const int8_t *w = wp, *x = xp;
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
    for (size_t g = 0; g < kp / 4; g++, w += 4 * MR) {
        int32_t four;
        memcpy(&four, x + 4 * g, sizeof four);
        int8x16_t xg = vreinterpretq_s8_s32(vdupq_n_s32(four));
        a0 = vdotq_s32(a0, vld1q_s8(w), xg);
        a1 = vdotq_s32(a1, vld1q_s8(w + 16), xg);
    }
    vst1q_s32(acc, a0);
    vst1q_s32(acc + 4, a1);
}

const ert_qk ert_qk_sdot = {
    .id = ERT_QK_SDOT,
    .name = "sdot",
    .mr = MR,
    .nr = NR,
    .kalign = 4,
    .wbytes = 1,
    .zoff = 128,
    .pack_w_panel = sdot_pack_w_panel,
    .x_size = sdot_x_size,
    .pack_x = sdot_pack_x,
    .tile = sdot_tile,
    .gemv = sdot_gemv,
};

#endif
