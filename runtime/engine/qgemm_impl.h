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
 *   avx2u7 (7-bit activations only) mr=6, kalign=4: for each group g of 4 k, the 6 rows'
 *         W[r][4g..4g+3] as int8 (24 bytes): one vpbroadcastd per row feeds vpmaddubsw.
 *   neon  mr=8: for each k, the 8 rows' W[r][k] as int16 (16 bytes): smlal by lane.
 *   sdot  mr=8, kalign=4: for each group g of 4 k, rows 0-3 then rows 4-7, each 4 int8
 *         (32 bytes): sdot by lane.
 * Packed activations: ref: X copied to K x P (stride P). Others, P >= 2: ceil(P / nr) panels
 * of nr columns (columns past P zero), kp deep; P = 1: a GEMV layout (see each kernel).
 * Kernel ids in the header are ert_qkernel values (avx2u7 = 5). */
#ifndef ERT_QGEMM_IMPL_H
#define ERT_QGEMM_IMPL_H

#include "embedrt/qgemm.h"

#include <stdbool.h>
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

/* What an epilogue needs besides the tile: the call and the packed row sums. */
typedef struct epi_ctx {
    const ert_qgemm_call *c;
    const int32_t *sums;
    int32_t zoff;
    bool vec;
} epi_ctx;

/* Epilogue of row n, columns [p0, p0 + cols), from the kernel's raw sums in acc. */
typedef void (*ert_qk_epi_fn)(const epi_ctx *e, size_t n, size_t p0, size_t cols, const int32_t *acc);

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
    /* Optional (NULL: none): pack_x of ert_qquantize(x) for p >= 2, bit for bit, without the
     * uint8 matrix in between. */
    void (*pack_x_f32)(const float *x, size_t k, size_t p, size_t ldx, size_t kp, float inv_s, uint8_t z,
                       uint8_t q_max, void *dst);
    /* acc[mr x nr] (row-major, stride nr) = W panel * X panel over kp, before correction. */
    void (*tile)(const void *wp, const void *xp, size_t kp, int32_t *acc);
    /* acc[mr] = W panel * x for P = 1 (x in the GEMV layout). */
    void (*gemv)(const void *wp, const void *xp, size_t kp, int32_t *acc);
    ert_qk_epi_fn epi_row; /* NULL: qgemm.c's 4-lane epilogue */
    /* Optional: a full mr x nr tile (rows n0.., columns p0..) with the fp32 epilogue applied
     * in registers, bit for bit tile() then epi_row() per row (NULL: that pair is used). */
    void (*tile_f32)(const void *wp, const void *xp, size_t kp, const epi_ctx *e, size_t n0, size_t p0);
} ert_qk;

#if defined(__x86_64__)
extern const ert_qk ert_qk_avx2;
extern const ert_qk ert_qk_avx2u7;
#endif
#if defined(__aarch64__)
extern const ert_qk ert_qk_neon;
extern const ert_qk ert_qk_sdot;
#endif

/* Whether k runs the AVX2 vpmaddwd kernel (8-bit products on avx2u7 do). */
static inline bool ert_qk_is_avx2(ert_qkernel k)
{
    return k == ERT_QK_AVX2 || k == ERT_QK_AVX2U7;
}

/* Keeps the compiler from fusing a rounding step into an FMA (the numerics forbid it). */
#if defined(__aarch64__)
#define ERT_Q_NOFUSE(v) __asm__("" : "+w"(v))
#elif defined(__x86_64__)
#define ERT_Q_NOFUSE(v) __asm__("" : "+x"(v))
#else
#define ERT_Q_NOFUSE(v) ((void)0) /* build with -ffp-contract=off */
#endif

/* 1.5 * 2^23: for |v| <= 2^22, (v + M) - M is v rounded to nearest-even in float. */
#define Q_RNE_MAGIC 12582912.0f
/* Float results are clamped to +-Q_CLAMP before rounding: anything beyond lands on the
 * same side of [0, 255] after adding a zero point, and the conversion stays defined. */
#define Q_CLAMP 1024.0f

/* bias[n] + (zoff - z_x) * sum(W[n]): the correction added to raw sums, modulo 2^32 like
 * the SIMD lanes (the true total fits in int32; the parts may not). */
static inline uint32_t ert_q_offset(const epi_ctx *e, size_t n)
{
    const ert_qgemm_call *c = e->c;
    return (c->bias ? (uint32_t)c->bias[n] : 0u) + (uint32_t)(e->zoff - (int32_t)c->z_x) * (uint32_t)e->sums[n];
}

/* The scalar forms are the specification; the 4-lane forms repeat them step by step
 * (same operations, same order, one rounding each) and are checked against them. */
static inline float epi_f32_one(int32_t acc, float scale, const float *res, float lo, float hi)
{
    float y = (float)acc * scale;
    ERT_Q_NOFUSE(y);
    if (res) {
        y = y + *res;
        ERT_Q_NOFUSE(y);
    }
    y = lo > y ? lo : y;
    return hi < y ? hi : y;
}

static inline float rne_clamped(float v)
{
    v = v > -Q_CLAMP ? v : -Q_CLAMP; /* NaN -> -Q_CLAMP */
    v = v < Q_CLAMP ? v : Q_CLAMP;
    float r = v + Q_RNE_MAGIC;
    ERT_Q_NOFUSE(r);
    return r - Q_RNE_MAGIC;
}

static inline uint8_t epi_u8_one(int32_t acc, float mult, int32_t zy, int32_t qlo, int32_t qhi)
{
    float v = (float)acc * mult;
    ERT_Q_NOFUSE(v);
    int32_t q = (int32_t)rne_clamped(v) + zy;
    q = q < qlo ? qlo : q;
    return (uint8_t)(q > qhi ? qhi : q);
}

#if defined(__x86_64__)
#include <immintrin.h>

/* AVX2 form of ert_qquantize_q for 8 floats: int32 lanes in [0, q_max] (top = q_max), NaN
 * -> z. The one vector quantize step of the int8 path (the op's quantize pass and the
 * packers that quantize floats straight into panels). */
__attribute__((target("avx2"))) static inline __m256i ert_q_quant8_avx2(const float *p, __m256 iv, __m256i zv,
                                                                       __m256i top)
{
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(p), iv);
    __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-Q_CLAMP)), _mm256_set1_ps(Q_CLAMP));
    __m256i t = _mm256_add_epi32(_mm256_cvtps_epi32(v), zv);
    t = _mm256_min_epi32(_mm256_max_epi32(t, _mm256_setzero_si256()), top);
    return _mm256_blendv_epi8(t, zv, _mm256_castps_si256(nan));
}
#endif

#endif
