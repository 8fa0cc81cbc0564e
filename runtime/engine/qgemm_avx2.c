/* AVX2 int8 GEMM kernels (x86-64 only; compiled with target attributes so the rest of the
 * build stays generic, called only when the CPU reports AVX2): `avx2` (vpmaddwd, any uint8
 * activations) here, `avx2u7` (vpmaddubsw, 7-bit activations only) below.
 *
 * Exactness: vpmaddubsw multiplies u8 by s8 and adds pairs into int16 with saturation:
 * 255 * 127 * 2 = 64770 > 32767, so it would clip real data (X = 255, W = 127). We widen both
 * operands to int16 at packing time instead and use vpmaddwd: each int32 lane gets
 * x0 * w0 + x1 * w1 with |.| <= 2 * 255 * 127 = 64770, exact, and the lanes add up in int32
 * (K <= 65535 keeps the total below 2^31). Weights are widened once at load; activations
 * are widened while packing, which costs one pass over X, and vpmaddwd then does 16
 * multiply-adds per instruction, as many as vpmaddubsw + vpmaddwd(1) would.
 *
 * Tile: 6 rows x 16 columns, 12 ymm accumulators. Per k pair: two loads of 16 columns of
 * (x[2j][p], x[2j+1][p]) int16 pairs and one vpbroadcastd of (w[r][2j], w[r][2j+1]) per row.
 * GEMV (P = 1): the weight panel is read 96 bytes (4 k pairs x 6 rows) at a time against
 * a packed x that repeats each pair for the 6 rows, so the loop is load, load, vpmaddwd. */
#if defined(__x86_64__)

#include "qgemm_impl.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#define MR 6
#define NR 16
#define KALIGN 8
#define AVX2 __attribute__((target("avx2")))

static void pack_w_panel(const int8_t *w, size_t k, size_t rows, size_t kp, void *dst)
{
    int16_t *d = dst;
    for (size_t j = 0; j < kp / 2; j++)
        for (size_t r = 0; r < MR; r++)
            for (size_t h = 0; h < 2; h++) {
                size_t kk = 2 * j + h;
                *d++ = (int16_t)(r < rows && kk < k ? w[r * k + kk] : 0);
            }
}

static size_t x_size(size_t kp, size_t p)
{
    if (p == 1)
        return kp / 8 * 96;
    return (p + NR - 1) / NR * (kp / 2) * 64;
}

/* P = 1: for each group of 4 k pairs, 24 int32 lanes; lane L holds pair L / 6 (for row L % 6). */
static void pack_x_gemv(const uint8_t *x, size_t k, size_t ldx, size_t kp, int16_t *d)
{
    for (size_t g = 0; g < kp / 8; g++)
        for (size_t lane = 0; lane < 24; lane++) {
            size_t kk = g * 8 + lane / 6 * 2;
            *d++ = (int16_t)(kk < k ? x[kk * ldx] : 0);
            *d++ = (int16_t)(kk + 1 < k ? x[(kk + 1) * ldx] : 0);
        }
}

AVX2 static void pack_x(const uint8_t *x, size_t k, size_t p, size_t ldx, size_t kp, void *dst)
{
    int16_t *d = dst;
    if (p == 1) {
        pack_x_gemv(x, k, ldx, kp, d);
        return;
    }
    uint8_t tail0[NR], tail1[NR];
    for (size_t p0 = 0; p0 < p; p0 += NR) {
        size_t cols = p - p0 < NR ? p - p0 : NR;
        for (size_t j = 0; j < kp / 2; j++, d += 2 * NR) {
            const uint8_t *r0 = NULL, *r1 = NULL;
            if (2 * j < k)
                r0 = x + 2 * j * ldx + p0;
            if (2 * j + 1 < k)
                r1 = x + (2 * j + 1) * ldx + p0;
            if (cols < NR || !r0 || !r1) { /* edge: copy into zero-padded rows first */
                memset(tail0, 0, NR), memset(tail1, 0, NR);
                if (r0)
                    memcpy(tail0, r0, cols);
                if (r1)
                    memcpy(tail1, r1, cols);
                r0 = tail0, r1 = tail1;
            }
            __m128i a = _mm_loadu_si128((const __m128i *)r0), b = _mm_loadu_si128((const __m128i *)r1);
            /* a0 b0 a1 b1 ... widened: the int16 pairs of columns 0-7, then 8-15 */
            _mm256_storeu_si256((__m256i *)d, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b)));
            _mm256_storeu_si256((__m256i *)(d + NR), _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b)));
        }
    }
}

/* pack_x(ert_qquantize(x)) for p >= 2: a full panel's row pair is 4 x 8 quantized int32
 * lanes in [0, 255], and lane i | lane i' << 16 is the int16 pair (row 2j, row 2j + 1) of
 * column i that pack_x stores; edges (a short last panel, an odd last row) go through
 * bytes. Row pairs outside, panels inside: the float rows are read front to back (a
 * panel-first walk reads 64 bytes from each of K rows pages apart, and ran slower). */
AVX2 static void pack_x_f32(const float *x, size_t k, size_t p, size_t ldx, size_t kp, float inv_s, uint8_t z,
                            uint8_t q_max, void *dst)
{
    const __m256 iv = _mm256_set1_ps(inv_s);
    const __m256i zv = _mm256_set1_epi32(z), top = _mm256_set1_epi32(q_max);
    const size_t panels = (p + NR - 1) / NR, full = p / NR, pstride = kp / 2 * 2 * NR; /* int16 per panel */
    for (size_t j = 0; j < kp / 2; j++) {
        int16_t *d = (int16_t *)dst + j * 2 * NR;
        size_t pi = 0;
        if (2 * j + 1 < k) {
            const float *r0 = x + 2 * j * ldx, *r1 = r0 + ldx;
            for (; pi < full; pi++, d += pstride) {
                __m256i a0 = ert_q_quant8_avx2(r0 + pi * NR, iv, zv, top);
                __m256i a1 = ert_q_quant8_avx2(r0 + pi * NR + 8, iv, zv, top);
                __m256i b0 = ert_q_quant8_avx2(r1 + pi * NR, iv, zv, top);
                __m256i b1 = ert_q_quant8_avx2(r1 + pi * NR + 8, iv, zv, top);
                _mm256_storeu_si256((__m256i *)d, _mm256_or_si256(a0, _mm256_slli_epi32(b0, 16)));
                _mm256_storeu_si256((__m256i *)(d + NR), _mm256_or_si256(a1, _mm256_slli_epi32(b1, 16)));
            }
        }
        for (; pi < panels; pi++, d += pstride) {
            size_t p0 = pi * NR, cols = p - p0 < NR ? p - p0 : NR;
            uint8_t t0[NR] = {0}, t1[NR] = {0};
            if (2 * j < k)
                ert_qquantize_q(x + 2 * j * ldx + p0, cols, inv_s, z, q_max, t0);
            if (2 * j + 1 < k)
                ert_qquantize_q(x + (2 * j + 1) * ldx + p0, cols, inv_s, z, q_max, t1);
            for (size_t c = 0; c < NR; c++)
                d[2 * c] = t0[c], d[2 * c + 1] = t1[c];
        }
    }
}

AVX2 static inline __m256i bcast(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* The 6 x 16 product over kp into c[2 * r + h] (row r, columns 8h..8h+7); inlined into
 * both users, so c stays in registers. */
__attribute__((always_inline)) AVX2 static inline void tile_core(const int16_t *w, const int16_t *x, size_t kp,
                                                                  __m256i c[12])
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (size_t j = 0; j < kp / 2; j++, w += 2 * MR, x += 2 * NR) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)x), x1 = _mm256_loadu_si256((const __m256i *)(x + 16));
        __m256i b = bcast(w + 0);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x0, b));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x1, b));
        b = bcast(w + 2);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x0, b));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x1, b));
        b = bcast(w + 4);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x0, b));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x1, b));
        b = bcast(w + 6);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x0, b));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x1, b));
        b = bcast(w + 8);
        c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(x0, b));
        c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(x1, b));
        b = bcast(w + 10);
        c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(x0, b));
        c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(x1, b));
    }
    c[0] = c00, c[1] = c01, c[2] = c10, c[3] = c11, c[4] = c20, c[5] = c21;
    c[6] = c30, c[7] = c31, c[8] = c40, c[9] = c41, c[10] = c50, c[11] = c51;
}

AVX2 static void tile(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    __m256i c[12];
    tile_core(wp, xp, kp, c);
    __m256i *o = (__m256i *)acc;
    for (int i = 0; i < 12; i++)
        _mm256_storeu_si256(o + i, c[i]);
}

/* One 8-column group of the fp32 epilogue (epi_row's vector step, same operations). */
__attribute__((always_inline)) AVX2 static inline void epi_f32_8(__m256i a, __m256i ov, __m256 sv, __m256 lov,
                                                                  __m256 hiv, const float *res, float *y)
{
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a, ov)), sv);
    ERT_Q_NOFUSE(v);
    if (res) {
        v = _mm256_add_ps(v, _mm256_loadu_ps(res));
        ERT_Q_NOFUSE(v);
    }
    v = _mm256_max_ps(lov, v); /* lo > v ? lo : v */
    v = _mm256_min_ps(hiv, v); /* hi < v ? hi : v */
    _mm256_storeu_ps(y, v);
}

/* The fp32 epilogue of a full 6 x 16 tile (rows n0.., columns p0..) from its accumulator
 * registers: the bits of epi_row() on each row, without the int32 round trip through memory
 * and six calls. Shared by both tile kernels. */
AVX2 static inline __attribute__((always_inline)) void tile_epi(const __m256i *acc, const epi_ctx *e, size_t n0,
                                                                size_t p0)
{
    const ert_qgemm_call *c = e->c;
    const __m256 lov = _mm256_set1_ps(c->lo), hiv = _mm256_set1_ps(c->hi);
    for (size_t r = 0; r < MR; r++) {
        size_t n = n0 + r;
        const __m256i ov = _mm256_set1_epi32((int32_t)ert_q_offset(e, n));
        const __m256 sv = _mm256_set1_ps(c->scale[n]);
        const float *res = c->residual ? c->residual + n * c->ldr + p0 : NULL;
        float *y = c->y + n * c->ldc + p0;
        epi_f32_8(acc[2 * r], ov, sv, lov, hiv, res, y);
        epi_f32_8(acc[2 * r + 1], ov, sv, lov, hiv, res ? res + 8 : NULL, y + 8);
    }
}

/* A full 6 x 16 tile with the fp32 epilogue applied from the registers: tile() then
 * epi_row() on each row, the same bits. */
AVX2 static void tile_f32(const void *wp, const void *xp, size_t kp, const epi_ctx *e, size_t n0, size_t p0)
{
    __m256i acc[12];
    tile_core(wp, xp, kp, acc);
    tile_epi(acc, e, n0, p0);
}

AVX2 static void gemv(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    const __m256i *w = wp, *x = xp;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0;
    for (size_t g = 0; g < kp / 8; g++, w += 3, x += 3) {
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256(w), _mm256_loadu_si256(x)));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256(w + 1), _mm256_loadu_si256(x + 1)));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_loadu_si256(w + 2), _mm256_loadu_si256(x + 2)));
    }
    uint32_t t[24];
    _mm256_storeu_si256((__m256i *)t, a0);
    _mm256_storeu_si256((__m256i *)(t + 8), a1);
    _mm256_storeu_si256((__m256i *)(t + 16), a2);
    for (size_t r = 0; r < MR; r++)
        acc[r] = (int32_t)(t[r] + t[r + 6] + t[r + 12] + t[r + 18]);
}

/* The epilogue of qgemm.c's scalar forms, 8 lanes at a time, step for step: max_ps(a, b) is
 * exactly `a > b ? a : b` and min_ps(a, b) `a < b ? a : b` (NaN picks b), cvtps2dq rounds
 * to nearest-even like the magic-number rounding on [-1024, 1024], and the u8 packs cannot
 * saturate values already clamped to [qlo, qhi]. */
AVX2 static void epi_row(const epi_ctx *e, size_t n, size_t p0, size_t cols, const int32_t *acc)
{
    const ert_qgemm_call *c = e->c;
    uint32_t off = ert_q_offset(e, n);
    const __m256i ov = _mm256_set1_epi32((int32_t)off);
    size_t i = 0;
    if (c->epilogue == ERT_QEPI_F32) {
        float s = c->scale[n], lo = c->lo, hi = c->hi;
        const float *res = c->residual ? c->residual + n * c->ldr + p0 : NULL;
        float *y = c->y + n * c->ldc + p0;
        const __m256 sv = _mm256_set1_ps(s), lov = _mm256_set1_ps(lo), hiv = _mm256_set1_ps(hi);
        for (; i + 8 <= cols; i += 8) {
            __m256i a = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), ov);
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), sv);
            ERT_Q_NOFUSE(v);
            if (res) {
                v = _mm256_add_ps(v, _mm256_loadu_ps(res + i));
                ERT_Q_NOFUSE(v);
            }
            v = _mm256_max_ps(lov, v); /* lo > v ? lo : v */
            v = _mm256_min_ps(hiv, v); /* hi < v ? hi : v */
            _mm256_storeu_ps(y + i, v);
        }
        for (; i < cols; i++)
            y[i] = epi_f32_one((int32_t)((uint32_t)acc[i] + off), s, res ? res + i : NULL, lo, hi);
    } else {
        float m = c->mult[n];
        int32_t zy = c->z_y, qlo = c->qlo, qhi = c->qhi;
        uint8_t *q = c->q + n * c->ldc + p0;
        const __m256 mv = _mm256_set1_ps(m), cl = _mm256_set1_ps(-Q_CLAMP), ch = _mm256_set1_ps(Q_CLAMP);
        const __m256i zv = _mm256_set1_epi32(zy), lov = _mm256_set1_epi32(qlo), hiv = _mm256_set1_epi32(qhi);
        for (; i + 8 <= cols; i += 8) {
            __m256i a = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), ov);
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), mv);
            ERT_Q_NOFUSE(v);
            v = _mm256_max_ps(v, cl); /* v > -1024 ? v : -1024 (NaN -> -1024) */
            v = _mm256_min_ps(v, ch);
            __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(v), zv);
            r = _mm256_min_epi32(_mm256_max_epi32(r, lov), hiv);
            __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
            _mm_storel_epi64((__m128i *)(q + i), _mm_packus_epi16(w16, w16));
        }
        for (; i < cols; i++)
            q[i] = epi_u8_one((int32_t)((uint32_t)acc[i] + off), m, zy, qlo, qhi);
    }
}

const ert_qk ert_qk_avx2 = {
    .id = ERT_QK_AVX2,
    .name = "avx2",
    .mr = MR,
    .nr = NR,
    .kalign = KALIGN,
    .wbytes = 2,
    .zoff = 0,
    .pack_w_panel = pack_w_panel,
    .x_size = x_size,
    .pack_x = pack_x,
    .pack_x_f32 = pack_x_f32,
    .tile = tile,
    .tile_f32 = tile_f32,
    .gemv = gemv,
    .epi_row = epi_row,
};


/* ======================================================================== avx2u7
 * 7-bit activations (values 0..127, ErtQConv/ErtQGemm q_max = 127): vpmaddubsw multiplies
 * the u8 activations by the s8 weights and adds pairs into int16, |x0 w0 + x1 w1| <=
 * 2 * 127 * 127 = 32258 < 32767, so it never saturates and the sums stay exact; vpmaddwd
 * with ones adds the pairs into int32 and vpaddd accumulates: 32 multiply-adds in 3
 * instructions (+ the broadcast), against 16 in 2 for the kernel above. Bytes above 127
 * would saturate: only products packed for q_max <= 127 come here (qgemm.c resolve()).
 *
 * Tile: 6 rows x 16 columns, 12 ymm accumulators. Per group g of 4 k: two loads of 16
 * columns of (x[4g..4g+3][p]) u8 quads, one vpbroadcastd of W[r][4g..4g+3] per row.
 * GEMV (P = 1): blocks of 4 groups; 96 bytes of weights (4 groups x 6 rows x 4) against a
 * packed x that repeats each quad for the 6 rows; a short last block goes scalar. */
#define KALIGN7 4

static void pack_w_panel7(const int8_t *w, size_t k, size_t rows, size_t kp, void *dst)
{
    int8_t *d = dst;
    for (size_t g = 0; g < kp / 4; g++)
        for (size_t r = 0; r < MR; r++)
            for (size_t h = 0; h < 4; h++) {
                size_t kk = 4 * g + h;
                *d++ = r < rows && kk < k ? w[r * k + kk] : 0;
            }
}

static size_t x_size7(size_t kp, size_t p)
{
    if (p == 1)
        return (kp / 4 + 3) / 4 * 96;
    return (p + NR - 1) / NR * (kp / 4) * 64;
}

/* P = 1: per block of 4 groups, 24 quads; quad L holds group 4b + L / 6 (for row L % 6). */
static void pack_x_gemv7(const uint8_t *x, size_t k, size_t ldx, size_t kp, uint8_t *d)
{
    for (size_t b = 0; b < (kp / 4 + 3) / 4; b++)
        for (size_t lane = 0; lane < 24; lane++)
            for (size_t h = 0; h < 4; h++) {
                size_t kk = (4 * b + lane / 6) * 4 + h;
                *d++ = kk < k ? x[kk * ldx] : 0;
            }
}

/* Four rows of 16 columns (a short panel or missing rows are zero) into the 64-byte quad
 * layout: columns 0-7 then 8-15, each column's 4 bytes in k order. */
static void quads16(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, uint8_t *d)
{
    __m128i a = _mm_loadu_si128((const __m128i *)r0), b = _mm_loadu_si128((const __m128i *)r1);
    __m128i c = _mm_loadu_si128((const __m128i *)r2), e = _mm_loadu_si128((const __m128i *)r3);
    __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
    __m128i ce0 = _mm_unpacklo_epi8(c, e), ce1 = _mm_unpackhi_epi8(c, e);
    _mm_storeu_si128((__m128i *)d, _mm_unpacklo_epi16(ab0, ce0));
    _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(ab0, ce0));
    _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(ab1, ce1));
    _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(ab1, ce1));
}

static void pack_x7(const uint8_t *x, size_t k, size_t p, size_t ldx, size_t kp, void *dst)
{
    uint8_t *d = dst;
    if (p == 1) {
        pack_x_gemv7(x, k, ldx, kp, d);
        return;
    }
    uint8_t tail[4][NR];
    for (size_t p0 = 0; p0 < p; p0 += NR) {
        size_t cols = p - p0 < NR ? p - p0 : NR;
        for (size_t g = 0; g < kp / 4; g++, d += 4 * NR) {
            const uint8_t *r[4];
            bool edge = cols < NR;
            for (size_t h = 0; h < 4; h++) {
                r[h] = 4 * g + h < k ? x + (4 * g + h) * ldx + p0 : NULL;
                edge = edge || !r[h];
            }
            if (edge) {
                for (size_t h = 0; h < 4; h++) {
                    memset(tail[h], 0, NR);
                    if (r[h])
                        memcpy(tail[h], r[h], cols);
                    r[h] = tail[h];
                }
            }
            quads16(r[0], r[1], r[2], r[3], d);
        }
    }
}

/* pack_x7(ert_qquantize_q(x)) for p >= 2: four quantized rows of 8 columns (int32 lanes in
 * [0, q_max]) make 8 quads as a | b << 8 | c << 16 | e << 24; edges go through bytes. */
AVX2 static void pack_x_f32_7(const float *x, size_t k, size_t p, size_t ldx, size_t kp, float inv_s, uint8_t z,
                              uint8_t q_max, void *dst)
{
    const __m256 iv = _mm256_set1_ps(inv_s);
    const __m256i zv = _mm256_set1_epi32(z), top = _mm256_set1_epi32(q_max);
    const size_t panels = (p + NR - 1) / NR, full = p / NR, pstride = kp / 4 * 4 * NR; /* bytes per panel */
    for (size_t g = 0; g < kp / 4; g++) {
        uint8_t *d = (uint8_t *)dst + g * 4 * NR;
        size_t pi = 0;
        if (4 * g + 3 < k) {
            const float *r0 = x + 4 * g * ldx, *r1 = r0 + ldx, *r2 = r1 + ldx, *r3 = r2 + ldx;
            for (; pi < full; pi++, d += pstride)
                for (size_t h = 0; h < 2; h++) {
                    size_t o = pi * NR + 8 * h;
                    __m256i a = ert_q_quant8_avx2(r0 + o, iv, zv, top), b = ert_q_quant8_avx2(r1 + o, iv, zv, top);
                    __m256i c = ert_q_quant8_avx2(r2 + o, iv, zv, top), e = ert_q_quant8_avx2(r3 + o, iv, zv, top);
                    __m256i v = _mm256_or_si256(_mm256_or_si256(a, _mm256_slli_epi32(b, 8)),
                                                _mm256_or_si256(_mm256_slli_epi32(c, 16), _mm256_slli_epi32(e, 24)));
                    _mm256_storeu_si256((__m256i *)(d + 32 * h), v);
                }
        }
        for (; pi < panels; pi++, d += pstride) {
            size_t p0 = pi * NR, cols = p - p0 < NR ? p - p0 : NR;
            uint8_t t[4][NR];
            memset(t, 0, sizeof t);
            for (size_t h = 0; h < 4; h++)
                if (4 * g + h < k)
                    ert_qquantize_q(x + (4 * g + h) * ldx + p0, cols, inv_s, z, q_max, t[h]);
            quads16(t[0], t[1], t[2], t[3], d);
        }
    }
}

AVX2 static inline __m256i bcast4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* x (u8 quads) times w (s8 quads) summed per int32 lane: vpmaddubsw then vpmaddwd(1). */
#define DOT4(x, w, ones) _mm256_madd_epi16(_mm256_maddubs_epi16((x), (w)), (ones))

__attribute__((always_inline)) AVX2 static inline void tile_core7(const int8_t *w, const uint8_t *x, size_t kp,
                                                                   __m256i c[12])
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (size_t g = 0; g < kp / 4; g++, w += 4 * MR, x += 4 * NR) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)x), x1 = _mm256_loadu_si256((const __m256i *)(x + 32));
        __m256i b = bcast4(w + 0);
        c00 = _mm256_add_epi32(c00, DOT4(x0, b, ones));
        c01 = _mm256_add_epi32(c01, DOT4(x1, b, ones));
        b = bcast4(w + 4);
        c10 = _mm256_add_epi32(c10, DOT4(x0, b, ones));
        c11 = _mm256_add_epi32(c11, DOT4(x1, b, ones));
        b = bcast4(w + 8);
        c20 = _mm256_add_epi32(c20, DOT4(x0, b, ones));
        c21 = _mm256_add_epi32(c21, DOT4(x1, b, ones));
        b = bcast4(w + 12);
        c30 = _mm256_add_epi32(c30, DOT4(x0, b, ones));
        c31 = _mm256_add_epi32(c31, DOT4(x1, b, ones));
        b = bcast4(w + 16);
        c40 = _mm256_add_epi32(c40, DOT4(x0, b, ones));
        c41 = _mm256_add_epi32(c41, DOT4(x1, b, ones));
        b = bcast4(w + 20);
        c50 = _mm256_add_epi32(c50, DOT4(x0, b, ones));
        c51 = _mm256_add_epi32(c51, DOT4(x1, b, ones));
    }
    c[0] = c00, c[1] = c01, c[2] = c10, c[3] = c11, c[4] = c20, c[5] = c21;
    c[6] = c30, c[7] = c31, c[8] = c40, c[9] = c41, c[10] = c50, c[11] = c51;
}

AVX2 static void tile7(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    __m256i c[12];
    tile_core7(wp, xp, kp, c);
    __m256i *o = (__m256i *)acc;
    for (int i = 0; i < 12; i++)
        _mm256_storeu_si256(o + i, c[i]);
}

/* tile7() then epi_row() per row, from the registers (as tile_f32). */
AVX2 static void tile_f32_7(const void *wp, const void *xp, size_t kp, const epi_ctx *e, size_t n0, size_t p0)
{
    __m256i acc[12];
    tile_core7(wp, xp, kp, acc);
    tile_epi(acc, e, n0, p0);
}

AVX2 static void gemv7(const void *wp, const void *xp, size_t kp, int32_t *acc)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t *w = wp;
    const uint8_t *x = xp;
    size_t groups = kp / 4, blocks = groups / 4;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0;
    for (size_t b = 0; b < blocks; b++, w += 96, x += 96) {
        a0 = _mm256_add_epi32(a0, DOT4(_mm256_loadu_si256((const __m256i *)x), _mm256_loadu_si256((const __m256i *)w), ones));
        a1 = _mm256_add_epi32(a1, DOT4(_mm256_loadu_si256((const __m256i *)(x + 32)),
                                       _mm256_loadu_si256((const __m256i *)(w + 32)), ones));
        a2 = _mm256_add_epi32(a2, DOT4(_mm256_loadu_si256((const __m256i *)(x + 64)),
                                       _mm256_loadu_si256((const __m256i *)(w + 64)), ones));
    }
    uint32_t t[24];
    _mm256_storeu_si256((__m256i *)t, a0);
    _mm256_storeu_si256((__m256i *)(t + 8), a1);
    _mm256_storeu_si256((__m256i *)(t + 16), a2);
    for (size_t r = 0; r < MR; r++) {
        uint32_t s = t[r] + t[r + 6] + t[r + 12] + t[r + 18];
        for (size_t g = 0; g < groups % 4; g++) /* the short last block: quad g * 6 + r */
            for (size_t h = 0; h < 4; h++)
                s += (uint32_t)((int32_t)x[(g * 6 + r) * 4 + h] * (int32_t)w[(g * 6 + r) * 4 + h]);
        acc[r] = (int32_t)s;
    }
}

const ert_qk ert_qk_avx2u7 = {
    .id = ERT_QK_AVX2U7,
    .name = "avx2u7",
    .mr = MR,
    .nr = NR,
    .kalign = KALIGN7,
    .wbytes = 1,
    .zoff = 0,
    .pack_w_panel = pack_w_panel7,
    .x_size = x_size7,
    .pack_x = pack_x7,
    .pack_x_f32 = pack_x_f32_7,
    .tile = tile7,
    .tile_f32 = tile_f32_7,
    .gemv = gemv7,
    .epi_row = epi_row,
};

#endif
