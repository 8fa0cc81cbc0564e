/* The contract between qgemm.c (checks, dispatch, threads, epilogues) and the per-ISA kernel
 * files: each kernel packs weight panels and activations in its own layout and computes
 * int32 tiles; qgemm.c does everything else, so the epilogue is shared by construction.
 *
 * Packed weights (all kernels): 64-byte header (qw_header), int32 sum_k W[n][k] for every
 * row (padded to 64 bytes), then ceil(N / mr) panels of mr rows (rows past N are zero) and
 * kp = K rounded up to kalign (columns past K are zero):
 *   ref   mr=1: the row itself, K int8 (kp = K).
 *   avx2  mr=6, kalign=8: for each k pair j, the 6 rows' (W[r][2j], W[r][2j+1]) as int16
 *         pairs (24 bytes): one vpbroadcastd per row feeds vpmaddwd.
 *   neon  mr=8: for each k, the 8 rows' W[r][k] as int16 (16 bytes): smlal by lane.
 *   sdot  mr=8, kalign=4: for each group g of 4 k, rows 0-3 then rows 4-7, each 4 int8
 *         (32 bytes): sdot by lane.
 * Packed activations: ref: X copied to K x P (stride P). Others, P >= 2: ceil(P / nr) panels
 * of nr columns (columns past P zero), kp deep; P = 1: a GEMV layout (see each kernel). */
#ifndef ERT_QGEMM_IMPL_H
#define ERT_QGEMM_IMPL_H

#include "embedrt/qgemm.h"

#include <stddef.h>
#include <stdint.h>

#define ERT_QW_MAGIC 0x31575145u /* "EQW1" */
#define ERT_QW_HEADER 64
#define ERT_QK_MR_MAX 8
#define ERT_QK_NR_MAX 16

typedef struct qw_header {
    uint32_t magic, kernel;
    uint64_t n, k, kp;
} qw_header;

typedef struct ert_qk {
    ert_qkernel id;
    const char *name;
    size_t mr, nr, kalign;
    size_t wbytes;   /* bytes per packed weight (2 for int16, 1 for int8) */
    int32_t zoff;    /* kernels that compute sum (x - zoff) * w: sdot's x - 128 */
    /* One panel: rows (<= mr) rows of W (row stride k) into mr x kp, zero padded. */
    void (*pack_w_panel)(const int8_t *w, size_t k, size_t rows, size_t kp, void *dst);
    size_t (*x_size)(size_t kp, size_t p);
    void (*pack_x)(const uint8_t *x, size_t k, size_t p, size_t ldx, size_t kp, void *dst);
    /* acc[mr x nr] (row-major, stride nr) = W panel * X panel over kp, before correction. */
    void (*tile)(const void *wp, const void *xp, size_t kp, int32_t *acc);
    /* acc[mr] = W panel * x for P = 1 (x in the GEMV layout). */
    void (*gemv)(const void *wp, const void *xp, size_t kp, int32_t *acc);
} ert_qk;

#if defined(__x86_64__)
extern const ert_qk ert_qk_avx2;
#endif
#if defined(__aarch64__)
extern const ert_qk ert_qk_neon;
extern const ert_qk ert_qk_sdot;
#endif

/* Keeps the compiler from fusing a rounding step into an FMA (the numerics forbid it). */
#if defined(__aarch64__)
#define ERT_Q_NOFUSE(v) __asm__("" : "+w"(v))
#elif defined(__x86_64__)
#define ERT_Q_NOFUSE(v) __asm__("" : "+x"(v))
#else
#define ERT_Q_NOFUSE(v) ((void)0) /* build with -ffp-contract=off */
#endif

#endif
