/* Exact int8 Winograd F(2x2,3x3) and F(4x4,3x3) for ErtQConv: see qconv_wino.h for the
 * numerics. One code path with np = 16 or 36 transformed positions per tile; the input and
 * output transforms are per tile size.
 *
 * Prepared weights (bind time): a 64-byte header, then for each panel of 6 output channels
 * and each of the np transformed positions xi, the AVX2 kernel's weight panel layout
 * (qgemm_impl.h: per channel pair j, the 6 rows' (U[2j], U[2j+1]) int16 pairs), channels
 * past C zero. Per block of tiles (scratch): for each xi, the kernel's activation panels of
 * 16 tiles (per channel pair, the (V[2j][t], V[2j+1][t]) int16 pairs of tiles 0-7, then
 * 8-15). Per (6 channels, 16 tiles): np kernel tiles, then the output transform, the exact
 * division (by 4, or by 576 modulo 2^26) and the scalar epilogue of qgemm_impl.h (the direct path's bits). */
#include "qconv_wino.h"

#include "../qgemm_impl.h"
#include "embedrt/qgemm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define QW_MAGIC 0x57575145u /* "EQWW" */
#define QW_HDR 64
#define QW_MR 6
#define QW_NR 16
/* Bytes of one block's transformed input: with one 6-row weight group (192 x C bytes),
 * well inside a 1 MB L2. */
#define QW_BLOCK_BYTES ((size_t)384 << 10)

typedef struct qw_hdr {
    uint32_t magic, kernel;
    uint64_t C, M, kp, n;
} qw_hdr;

static size_t ru(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

bool ert_qwino_init(ert_qwino *w, const ert_sp_geom *g, size_t C, size_t M, size_t group, size_t n)
{
    memset(w, 0, sizeof *w);
    if ((n != 2 && n != 4) || g->nsp != 2 || group != 1 || C < 1 || C > ERT_QWINO_MAX_C || M < 1)
        return false;
    if (g->k[0] != 1 || g->k[1] != 3 || g->k[2] != 3)
        return false;
    for (int i = 0; i < 3; i++)
        if (g->s[i] != 1 || g->d[i] != 1)
            return false;
    if (g->pb[0] != 0 || g->pe[0] != 0 || g->in[0] != 1 || g->out[1] < 1 || g->out[2] < 1)
        return false;
    w->n = n, w->np = (n + 2) * (n + 2);
    w->C = C, w->M = M;
    w->H = (size_t)g->in[1], w->W = (size_t)g->in[2];
    w->OH = (size_t)g->out[1], w->OW = (size_t)g->out[2];
    w->pt = (size_t)g->pb[1], w->pl = (size_t)g->pb[2];
    w->th = (w->OH + n - 1) / n, w->tw = (w->OW + n - 1) / n, w->T = w->th * w->tw;
    w->kp = ru(C, 8);
    size_t tb = QW_BLOCK_BYTES / (2 * w->np * w->kp) / QW_NR * QW_NR;
    if (tb < QW_NR)
        tb = QW_NR;
    if (tb > ru(w->T, QW_NR))
        tb = ru(w->T, QW_NR);
    w->tb = tb;
    return true;
}

/* The measured rule (qconv_bench --cpu-time --threads 1, int8/fp32 op time, 2-core AMD
 * EPYC; int8 Winograd vs direct int8): 64->64 @56x56 0.69 vs 1.07, 128->128 @28x28 0.82 vs
 * 1.26, 256->256 @14x14 0.44 vs 0.82, 512->512 @7x7 0.31 vs 0.62, 80->192 @71x71 0.65 vs
 * 0.96, 64->96 / 96->96 @35x35 0.71 / 0.77 vs 1.01 / 1.07, 288->512 / 512->512 @35x35
 * 0.53 / 0.63 vs 1.00 / 1.09; a tie at 32 input channels (32->32 and 32->64 @147x147 0.56 /
 * 0.63 vs 0.57 / 0.62). Fewer channels (not measured) keep the direct path. */
#define QW_MIN_C 32

/* ERT_QCONV_WINOGRAD: 0 unset (or unknown), 1 off, 2 on, 3 f2, 4 f4. */
static int qw_switch(void)
{
    const char *e = getenv("ERT_QCONV_WINOGRAD");
    if (!e)
        return 0;
    static const char *const names[] = {"off", "on", "f2", "f4"};
    for (int i = 0; i < 4; i++)
        if (strcmp(e, names[i]) == 0)
            return i + 1;
    return 0;
}

bool ert_qwino_wanted(const ert_qwino *w)
{
    int sw = qw_switch();
    if (!w->C || sw == 1)
        return false;
    if (sw >= 2)
        return true; /* any kernel: others than AVX2 run the portable tile (tests) */
    return ert_qk_is_avx2(ert_qgemm_kernel()) && w->C >= QW_MIN_C;
}

/* F(4x4) instead of F(2x2): the kernel runs whole 16-tile panels, so a block costs about
 * np x panels tile products (F(2x2) 16 x ceil(T2 / 16), F(4x4) 36 x ceil(T4 / 16)) plus
 * transforms, and F(4x4)'s time ratio measured about 0.05 above its product ratio; so
 * F(4x4) when its products are at most 0.9x F(2x2)'s (5 x its panels <= 2 x F(2x2)'s).
 * Measured (qconv_bench --paths --cpu-time --threads 1 --seconds 0.5, int8/fp32, F(2x2) vs
 * F(4x4), 2-core AMD EPYC; products ratio in brackets): 64->64 @56x56 0.72 vs 0.47 (0.60),
 * 128->128 @28x28 0.78 vs 0.60 (0.69), 256->256 @14x14 0.50 vs 0.31 (0.56), 256->256
 * @12x12 0.51 vs 0.40 (0.75), 128->128 @21x21 0.64 vs 0.59 (0.84), 80->192 @71x71 0.64 vs
 * 0.45, 64->96 / 96->96 @35x35 0.74 / 0.80 vs 0.53 / 0.51 (0.64), 288->512 @35x35 0.53 vs
 * 0.37, 32->32 / 32->64 @147x147 0.60 / 0.61 vs 0.39 / 0.43 (direct 0.60 / 0.60); F(2x2)
 * keeps 256->256 @10x10 0.36 vs 0.42 (1.13) and @7x7 0.32 vs 0.69 (2.25). (F(4x4) would
 * also beat direct below 32 channels, 16->16 @56x56 0.43 vs 0.66, but QW_MIN_C was left as
 * measured for F(2x2): no such layer in the models.) */
static bool qw_rule4(const ert_qwino *w4)
{
    size_t t2 = ((w4->OH + 1) / 2) * ((w4->OW + 1) / 2);
    size_t p2 = (t2 + QW_NR - 1) / QW_NR, p4 = (w4->T + QW_NR - 1) / QW_NR;
    return 5 * p4 <= 2 * p2;
}

bool ert_qwino_exact4(const ert_qwino *w, const int8_t *wq, uint8_t zx, uint8_t qmax)
{
    const uint64_t dmax = zx > qmax - zx ? zx : (uint64_t)(qmax - zx);
    const size_t K = w->C * 9;
    for (size_t m = 0; m < w->M; m++) {
        uint64_t sum = 0;
        for (size_t k = 0; k < K; k++)
            sum += (uint64_t)(wq[m * K + k] < 0 ? -wq[m * K + k] : wq[m * K + k]);
        if (sum * dmax >= (uint64_t)1 << 25)
            return false;
    }
    return true;
}

size_t ert_qwino_pick(const ert_qwino *w2, const ert_qwino *w4, const int8_t *wq, uint8_t zx, uint8_t qmax)
{
    int sw = qw_switch();
    if (!w4 || sw == 3 || (sw != 4 && !qw_rule4(w4)))
        return 2;
    return ert_qwino_exact4(w2, wq, zx, qmax) ? 4 : 2;
}

static size_t panel_elems(const ert_qwino *w)
{
    return QW_MR * w->kp;
}

size_t ert_qwino_prepared_bytes(const ert_qwino *w)
{
    size_t rp = (w->M + QW_MR - 1) / QW_MR;
    return QW_HDR + rp * w->np * panel_elems(w) * sizeof(int16_t);
}

static size_t v_elems(const ert_qwino *w)
{
    return w->tb * w->kp; /* one xi: tb / 16 panels of kp / 2 x 32 int16 */
}

size_t ert_qwino_scratch(const ert_qwino *w)
{
    return ru(w->np * v_elems(w) * sizeof(int16_t), 64) + w->np * QW_MR * QW_NR * sizeof(int32_t);
}

bool ert_qwino_fit(ert_qwino *w, size_t bytes)
{
    while (ert_qwino_scratch(w) > bytes && w->tb > QW_NR)
        w->tb -= QW_NR;
    return ert_qwino_scratch(w) <= bytes;
}

bool ert_qwino_plan4(ert_qwino *w4, size_t *scratch)
{
    if (ert_qwino_fit(w4, *scratch))
        return true;
    if (qw_switch() != 4)
        return false;
    *scratch = ert_qwino_scratch(w4); /* w4->tb is 16 now */
    return true;
}

void ert_qwino_prepare(const ert_qwino *w, const int8_t *wq, void *out)
{
    qw_hdr h = {QW_MAGIC, (uint32_t)ert_qgemm_kernel(), w->C, w->M, w->kp, w->n};
    memset(out, 0, QW_HDR);
    memcpy(out, &h, sizeof h);
    int16_t *body = (int16_t *)((char *)out + QW_HDR);
    const size_t pe = panel_elems(w), rps = (w->M + QW_MR - 1) / QW_MR, np = w->np;
    memset(body, 0, rps * np * pe * sizeof *body);
    /* F(4x4): G' = D G (qconv_wino.h), U = G' g G'^T, |U| <= 49 * 127 */
    static const int g4[6][3] = {{1, 0, 0}, {-1, -1, -1}, {-1, 1, -1}, {1, 2, 4}, {1, -2, 4}, {0, 0, 1}};
    for (size_t m = 0; m < w->M; m++)
        for (size_t c = 0; c < w->C; c++) {
            const int8_t *g = wq + (m * w->C + c) * 9;
            size_t rp = m / QW_MR, r = m % QW_MR;
            if (w->n == 4) {
                int32_t t[6][3];
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 3; j++)
                        t[i][j] = g4[i][0] * g[j] + g4[i][1] * g[3 + j] + g4[i][2] * g[6 + j];
                for (int i = 0; i < 6; i++)
                    for (int l = 0; l < 6; l++) {
                        int32_t u = t[i][0] * g4[l][0] + t[i][1] * g4[l][1] + t[i][2] * g4[l][2];
                        int16_t *panel = body + (rp * np + (size_t)(6 * i + l)) * pe;
                        panel[(c / 2) * (2 * QW_MR) + r * 2 + (c & 1)] = (int16_t)u;
                    }
                continue;
            }
            int32_t t[4][3], u[4][4];
            for (int j = 0; j < 3; j++) {
                t[0][j] = 2 * g[j];
                t[1][j] = g[j] + g[3 + j] + g[6 + j];
                t[2][j] = g[j] - g[3 + j] + g[6 + j];
                t[3][j] = 2 * g[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                u[i][0] = 2 * t[i][0];
                u[i][1] = t[i][0] + t[i][1] + t[i][2];
                u[i][2] = t[i][0] - t[i][1] + t[i][2];
                u[i][3] = 2 * t[i][2];
            }
            for (int xi = 0; xi < 16; xi++) {
                int16_t *panel = body + (rp * 16 + (size_t)xi) * pe;
                panel[(c / 2) * (2 * QW_MR) + r * 2 + (c & 1)] = (int16_t)u[xi / 4][xi % 4];
            }
        }
}

size_t ert_qwino_prepared_n(const void *prepared)
{
    qw_hdr h;
    memcpy(&h, prepared, sizeof h);
    return h.magic == QW_MAGIC && (h.n == 2 || h.n == 4) ? (size_t)h.n : 0;
}

bool ert_qwino_is_prepared(const void *prepared, const ert_qwino *w, bool *ok)
{
    qw_hdr h;
    memcpy(&h, prepared, sizeof h);
    if (h.magic != QW_MAGIC)
        return false;
    *ok = h.kernel == (uint32_t)ert_qgemm_kernel() && h.C == w->C && h.M == w->M &&
          h.kp == w->kp && h.n == w->n;
    return true;
}

/* Offset of (channel c, tile t) inside one xi's panels. */
static inline size_t v_off(size_t kp, size_t c, size_t t)
{
    return (t / QW_NR) * (kp / 2) * 32 + (c / 2) * 32 + ((t % QW_NR) >= 8 ? 16 : 0) + (t % 8) * 2 + (c & 1);
}

typedef int16_t v8s __attribute__((vector_size(16)));
typedef uint16_t v8u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));

/* d[i][j]: lane k is input (y0 + i, x0 + j) of tile k (minus z_x, 0 outside the map) of
 * 8 tiles; V = B^T d B, B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]. */
static inline void in_tf8(const v8s d[4][4], v8s v[16])
{
    v8s t[4][4];
    for (int j = 0; j < 4; j++) {
        t[0][j] = d[0][j] - d[2][j];
        t[1][j] = d[1][j] + d[2][j];
        t[2][j] = d[2][j] - d[1][j];
        t[3][j] = d[1][j] - d[3][j];
    }
    for (int i = 0; i < 4; i++) {
        v[4 * i + 0] = t[i][0] - t[i][2];
        v[4 * i + 1] = t[i][1] + t[i][2];
        v[4 * i + 2] = t[i][2] - t[i][1];
        v[4 * i + 3] = t[i][1] - t[i][3];
    }
}

/* dst[0 .. len) = columns [x0, x0 + len) of row where inside [0, W) (others untouched). */
static inline void copy_cols(uint8_t *dst, const uint8_t *row, int64_t x0, size_t len, int64_t W)
{
    int64_t lo = x0 > 0 ? x0 : 0, hi = x0 + (int64_t)len < W ? x0 + (int64_t)len : W;
    if (lo < hi)
        memcpy(dst + (lo - x0), row + lo, (size_t)(hi - lo));
}

/* The 4x4 inputs of tiles tg .. tg + 7 (global indices, < T or zero) of channel xc. */
static void load_d8(const ert_qwino *w, const uint8_t *xc, uint8_t zx, size_t tg, size_t count, v8s d[4][4])
{
    const int64_t H = (int64_t)w->H, W = (int64_t)w->W;
    size_t ty = tg / w->tw, tx = tg % w->tw;
    int64_t y0 = (int64_t)(2 * ty) - (int64_t)w->pt, x0 = (int64_t)(2 * tx) - (int64_t)w->pl;
    const v8s z = {zx, zx, zx, zx, zx, zx, zx, zx};
    if (count == 8 && tx + 8 <= w->tw && y0 >= 0 && y0 + 4 <= H && x0 >= 0 && x0 + 18 <= W) {
        /* One tile row, inside the map: 16 bytes at x0 hold columns x0 + 2k (even bytes) and
         * x0 + 2k + 1 (odd bytes) of tiles k = 0..7; 16 bytes at x0 + 2 the next two. */
        const v8u lowb = {255, 255, 255, 255, 255, 255, 255, 255};
        for (int i = 0; i < 4; i++) {
            const uint8_t *row = xc + (size_t)(y0 + i) * w->W + (size_t)x0;
            v8u a, b;
            memcpy(&a, row, sizeof a);
            memcpy(&b, row + 2, sizeof b);
            d[i][0] = (v8s)(a & lowb) - z;
            d[i][1] = (v8s)(a >> 8) - z;
            d[i][2] = (v8s)(b & lowb) - z;
            d[i][3] = (v8s)(b >> 8) - z;
        }
        return;
    }
    /* Elsewhere (a map border, tiles of two tile rows, fewer than 8): the same two 16-byte
     * rows per input row, built from runs of tiles in one tile row; positions outside the
     * map and lanes past count hold z_x, so their d is 0 like real zero padding. */
    uint8_t a8[4][16], b8[4][16];
    const v8u zz = {(uint16_t)(zx * 257u), (uint16_t)(zx * 257u), (uint16_t)(zx * 257u), (uint16_t)(zx * 257u),
                    (uint16_t)(zx * 257u), (uint16_t)(zx * 257u), (uint16_t)(zx * 257u), (uint16_t)(zx * 257u)};
    for (int i = 0; i < 4; i++) /* every byte z_x, without a libc call per group */
        memcpy(a8[i], &zz, sizeof zz), memcpy(b8[i], &zz, sizeof zz);
    for (size_t k = 0; k < count;) {
        size_t run = count - k < w->tw - tx ? count - k : w->tw - tx;
        y0 = (int64_t)(2 * ty) - (int64_t)w->pt, x0 = (int64_t)(2 * tx) - (int64_t)w->pl;
        for (int i = 0; i < 4; i++) {
            int64_t yy = y0 + i;
            if (yy < 0 || yy >= H)
                continue;
            const uint8_t *row = xc + (size_t)yy * w->W;
            copy_cols(a8[i] + 2 * k, row, x0, 2 * run, W);
            copy_cols(b8[i] + 2 * k, row, x0 + 2, 2 * run, W);
        }
        k += run, tx += run;
        if (tx == w->tw)
            tx = 0, ty++;
    }
    const v8u lowb = {255, 255, 255, 255, 255, 255, 255, 255};
    for (int i = 0; i < 4; i++) {
        v8u a, b;
        memcpy(&a, a8[i], sizeof a);
        memcpy(&b, b8[i], sizeof b);
        d[i][0] = (v8s)(a & lowb) - z;
        d[i][1] = (v8s)(a >> 8) - z;
        d[i][2] = (v8s)(b & lowb) - z;
        d[i][3] = (v8s)(b >> 8) - z;
    }
}

typedef uint32_t v8w __attribute__((vector_size(32)));

/* One row of B^T for F(4x4) (or of B, on rows): B^T = [[4,0,-5,0,1,0],[0,-4,-4,1,1,0],
 * [0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]]. int16 lanes: |d| <= 255
 * gives |out| <= 2550, and |d| <= 2550 every partial sum below 32768 (|out| <= 25500). */
static inline void bt6(v8s d0, v8s d1, v8s d2, v8s d3, v8s d4, v8s d5, v8s *o, size_t s)
{
    v8s a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = d3 - d1;
    o[0] = 4 * (d0 - d2) + c;
    o[s] = a + b;
    o[2 * s] = a - b;
    o[3 * s] = c + 2 * e;
    o[4 * s] = c - 2 * e;
    o[5 * s] = 4 * (d1 - d3) + (d5 - d3);
}

/* d[i][0..5] of 8 tiles from 32 bytes a (tile k's columns j < 4 at bytes 4k + j) and b
 * (columns 4, 5 at bytes 4k, 4k + 1), minus z_x. */
static inline void split4(const uint8_t *a32, const uint8_t *b32, v8s z, v8s d[6])
{
    const v8w ff = {255, 255, 255, 255, 255, 255, 255, 255};
    v8w a, b;
    memcpy(&a, a32, sizeof a);
    memcpy(&b, b32, sizeof b);
    d[0] = __builtin_convertvector(a & ff, v8s) - z;
    d[1] = __builtin_convertvector((a >> 8) & ff, v8s) - z;
    d[2] = __builtin_convertvector((a >> 16) & ff, v8s) - z;
    d[3] = __builtin_convertvector(a >> 24, v8s) - z;
    d[4] = __builtin_convertvector(b & ff, v8s) - z;
    d[5] = __builtin_convertvector((b >> 8) & ff, v8s) - z;
}

/* F(4x4): V = B^T d B (36 positions, xi = 6 i + j) of the 6x6 inputs of tiles tg .. tg + 7
 * (global indices, count of them real) of channel xc; 32 bytes at x0 hold columns x0 + 4k
 * + 0..3 of tiles k = 0..7, 32 bytes at x0 + 4 the next two. Borders, tiles of two tile rows
 * and short groups are built from runs of tiles as in load_d8 (z_x elsewhere: d = 0). */
static inline __attribute__((always_inline)) void tf4_body(const ert_qwino *w, const uint8_t *xc, uint8_t zx,
                                                           size_t tg, size_t count, v8s v[36])
{
    const int64_t H = (int64_t)w->H, W = (int64_t)w->W;
    size_t ty = tg / w->tw, tx = tg % w->tw;
    int64_t y0 = (int64_t)(4 * ty) - (int64_t)w->pt, x0 = (int64_t)(4 * tx) - (int64_t)w->pl;
    const v8s z = {zx, zx, zx, zx, zx, zx, zx, zx};
    v8s d[6][6], t[6][6];
    if (count == 8 && tx + 8 <= w->tw && y0 >= 0 && y0 + 6 <= H && x0 >= 0 && x0 + 36 <= W) {
        for (int i = 0; i < 6; i++) {
            const uint8_t *row = xc + (size_t)(y0 + i) * w->W + (size_t)x0;
            split4(row, row + 4, z, d[i]);
        }
    } else {
        uint8_t a32[6][32], b32[6][32];
        memset(a32, zx, sizeof a32), memset(b32, zx, sizeof b32);
        for (size_t k = 0; k < count;) {
            size_t run = count - k < w->tw - tx ? count - k : w->tw - tx;
            y0 = (int64_t)(4 * ty) - (int64_t)w->pt, x0 = (int64_t)(4 * tx) - (int64_t)w->pl;
            for (int i = 0; i < 6; i++) {
                int64_t yy = y0 + i;
                if (yy < 0 || yy >= H)
                    continue;
                const uint8_t *row = xc + (size_t)yy * w->W;
                copy_cols(a32[i] + 4 * k, row, x0, 4 * run, W);
                copy_cols(b32[i] + 4 * k, row, x0 + 4, 4 * run, W);
            }
            k += run, tx += run;
            if (tx == w->tw)
                tx = 0, ty++;
        }
        for (int i = 0; i < 6; i++)
            split4(a32[i], b32[i], z, d[i]);
    }
    for (int j = 0; j < 6; j++) /* columns: t = B^T d */
        bt6(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], &t[0][j], 6);
    for (int i = 0; i < 6; i++) /* rows: V = t B */
        bt6(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], &v[6 * i], 1);
}

static void tf4_generic(const ert_qwino *w, const uint8_t *xc, uint8_t zx, size_t tg, size_t count, v8s v[36])
{
    tf4_body(w, xc, zx, tg, count, v);
}

#if defined(__x86_64__)
/* The same source in AVX2 (32-byte loads, vpackusdw): chosen with the AVX2 kernel. */
__attribute__((target("avx2"))) static void tf4_avx2(const ert_qwino *w, const uint8_t *xc, uint8_t zx, size_t tg,
                                                     size_t count, v8s v[36])
{
    tf4_body(w, xc, zx, tg, count, v);
}
#endif

static void tf2(const ert_qwino *w, const uint8_t *xc, uint8_t zx, size_t tg, size_t count, v8s v[36])
{
    v8s d[4][4];
    load_d8(w, xc, zx, tg, count, d);
    in_tf8(d, v);
}

typedef void (*qw_in_fn)(const ert_qwino *w, const uint8_t *xc, uint8_t zx, size_t tg, size_t count, v8s v[36]);

static void transform_input(const ert_qwino *w, qw_in_fn tf, const uint8_t *xq, uint8_t zx, size_t t0, size_t nt,
                            int16_t *V)
{
    const size_t kp = w->kp, vs = v_elems(w), ntp = ru(nt, QW_NR), np = w->np;
    for (size_t c = 0; c < kp; c += 2) {
        for (size_t t = 0; t < ntp; t += 8) {
            size_t count = t >= nt ? 0 : nt - t < 8 ? nt - t : 8;
            v8s v0[36], v1[36];
            if (c < w->C && count)
                tf(w, xq + c * w->H * w->W, zx, t0 + t, count, v0);
            else
                memset(v0, 0, sizeof v0);
            if (c + 1 < w->C && count)
                tf(w, xq + (c + 1) * w->H * w->W, zx, t0 + t, count, v1);
            else
                memset(v1, 0, sizeof v1);
            size_t o = v_off(kp, c, t);
            for (size_t xi = 0; xi < np; xi++) {
                /* (channel c, c + 1) pairs of tiles 0-3, then 4-7 */
                v8s lo = __builtin_shufflevector(v0[xi], v1[xi], 0, 8, 1, 9, 2, 10, 3, 11);
                v8s hi = __builtin_shufflevector(v0[xi], v1[xi], 4, 12, 5, 13, 6, 14, 7, 15);
                memcpy(V + (size_t)xi * vs + o, &lo, sizeof lo);
                memcpy(V + (size_t)xi * vs + o + 8, &hi, sizeof hi);
            }
        }
    }
}

/* acc[6 x 16] = weight panel x activation panel over kp (int16 pairs, int32 sums mod 2^32). */
static void tile_portable(const int16_t *wp, const int16_t *xp, size_t kp, int32_t *acc)
{
    uint32_t a[QW_MR * QW_NR] = {0};
    for (size_t j = 0; j < kp / 2; j++, wp += 2 * QW_MR, xp += 32)
        for (size_t r = 0; r < QW_MR; r++)
            for (size_t col = 0; col < QW_NR; col++) {
                const int16_t *x = xp + (col >= 8 ? 16 : 0) + (col % 8) * 2;
                a[r * QW_NR + col] += (uint32_t)(wp[2 * r] * x[0] + wp[2 * r + 1] * x[1]);
            }
    memcpy(acc, a, sizeof a);
}

static inline v4f f4_sel(v4i m, v4f a, v4f b)
{
    return (v4f)((m & (v4i)a) | (~m & (v4i)b));
}

/* lo > v ? lo : v, then hi < v ? hi : v (NaN stays NaN): on x86 exactly maxps(lo, v) and
 * minps(hi, v), which return their second operand when the first is not greater / less. */
static inline v4f clamp4(v4f v, v4f lov, v4f hiv)
{
#if defined(__x86_64__)
    return (v4f)_mm_min_ps((__m128)hiv, _mm_max_ps((__m128)lov, (__m128)v));
#else
    v = f4_sel(lov > v, lov, v);
    return f4_sel(hiv < v, hiv, v);
#endif
}

/* Output positions of the n x n outputs (q = row * n + column) of tiles tg .. tg + 15 (S:
 * outside the map or past cols). */
static void out_pos(const ert_qwino *w, size_t tg, size_t cols, size_t pos[16][QW_NR])
{
    const size_t S = w->OH * w->OW, n = w->n;
    size_t ty = tg / w->tw, tx = tg % w->tw;
    for (size_t tt = 0; tt < QW_NR; tt++, tx++) {
        if (tx == w->tw)
            tx = 0, ty++;
        for (size_t r = 0, q = 0; r < n; r++) {
            size_t yy = n * ty + r;
            for (size_t c = 0; c < n; c++, q++) {
                size_t xx = n * tx + c;
                pos[q][tt] = tt < cols && yy < w->OH && xx < w->OW ? yy * w->OW + xx : S;
            }
        }
    }
}

/* Output channel m of the tiles at pos (cols <= 16) from the 16 kernel tiles in
 * acc (xi-th at acc + xi * 96, this channel's row first): Y = A^T M A with A^T =
 * [[1,1,1,0],[0,1,-1,-1]] modulo 2^32, S = Y / 4 exactly (an arithmetic shift of a
 * multiple of 4), then the scalar epilogue of qgemm_impl.h 4 lanes at a time (the same
 * operations in the same order, as qgemm.c's 4-lane form). */
static void out_row(const ert_qwino *w, const int32_t *acc, size_t m, size_t pos[16][QW_NR], size_t cols,
                    const int32_t *bias, const float *scale, const float *res, float lo, float hi, float *y)
{
    const size_t S = w->OH * w->OW;
    const uint32_t b = bias ? (uint32_t)bias[m] : 0u;
    const float s = scale[m];
    const v4u bv = {b, b, b, b};
    const v4f sv = {s, s, s, s}, lov = {lo, lo, lo, lo}, hiv = {hi, hi, hi, hi};
    float f[4][QW_NR], rv[4][QW_NR];
    if (res)
        for (size_t tt = 0; tt < QW_NR; tt++)
            for (int q = 0; q < 4; q++)
                rv[q][tt] = pos[q][tt] < S ? res[m * S + pos[q][tt]] : 0.0f;
    for (size_t l = 0; l < QW_NR; l += 4) {
        v4u mm[16];
        for (int xi = 0; xi < 16; xi++)
            memcpy(&mm[xi], acc + (size_t)xi * QW_MR * QW_NR + l, sizeof mm[xi]);
        v4u s0[4], s1[4], yv[4];
        for (int j = 0; j < 4; j++) {
            s0[j] = mm[j] + mm[4 + j] + mm[8 + j];
            s1[j] = mm[4 + j] - mm[8 + j] - mm[12 + j];
        }
        yv[0] = s0[0] + s0[1] + s0[2];
        yv[1] = s0[1] - s0[2] - s0[3];
        yv[2] = s1[0] + s1[1] + s1[2];
        yv[3] = s1[1] - s1[2] - s1[3];
        for (int q = 0; q < 4; q++) {
#ifndef NDEBUG
            for (int k = 0; k < 4; k++)
                assert((yv[q][k] & 3u) == 0); /* 4 x the exact sum */
#endif
            v4i sum = (v4i)yv[q] >> 2;
            v4i a = (v4i)((v4u)sum + bv);
            v4f v = __builtin_convertvector(a, v4f) * sv;
            ERT_Q_NOFUSE(v);
            if (res) {
                v4f rr;
                memcpy(&rr, &rv[q][l], sizeof rr);
                v = v + rr;
                ERT_Q_NOFUSE(v);
            }
            v = f4_sel(lov > v, lov, v);
            v = f4_sel(hiv < v, hiv, v);
            memcpy(&f[q][l], &v, sizeof v);
        }
    }
    float *ym = y + m * S;
    for (size_t tt = 0; tt < cols;) {
        if (pos[3][tt] >= S) { /* a tile cut by the map's right or bottom edge */
            for (int q = 0; q < 4; q++)
                if (pos[q][tt] < S)
                    ym[pos[q][tt]] = f[q][tt];
            tt++;
            continue;
        }
        /* A run of whole tiles side by side: output rows 2 ty and 2 ty + 1 take the
         * quadrants (0, 1) and (2, 3) interleaved, 4 tiles per step. */
        size_t te = tt + 1;
        while (te < cols && pos[3][te] < S && pos[0][te] == pos[0][te - 1] + 2)
            te++;
        float *r0 = ym + pos[0][tt], *r1 = r0 + w->OW;
        size_t k = tt;
        for (; k + 4 <= te; k += 4, r0 += 8, r1 += 8) {
            v4f q0, q1, q2, q3;
            memcpy(&q0, &f[0][k], sizeof q0), memcpy(&q1, &f[1][k], sizeof q1);
            memcpy(&q2, &f[2][k], sizeof q2), memcpy(&q3, &f[3][k], sizeof q3);
            v4f a = __builtin_shufflevector(q0, q1, 0, 4, 1, 5), b = __builtin_shufflevector(q0, q1, 2, 6, 3, 7);
            v4f c = __builtin_shufflevector(q2, q3, 0, 4, 1, 5), d = __builtin_shufflevector(q2, q3, 2, 6, 3, 7);
            memcpy(r0, &a, sizeof a), memcpy(r0 + 4, &b, sizeof b);
            memcpy(r1, &c, sizeof c), memcpy(r1 + 4, &d, sizeof d);
        }
        for (; k < te; k++, r0 += 2, r1 += 2) {
            r0[0] = f[0][k], r0[1] = f[1][k];
            r1[0] = f[2][k], r1[1] = f[3][k];
        }
        tt = te;
    }
}

typedef uint32_t v8u32 __attribute__((vector_size(32)));

/* 8 tile sums of transformed position xi (stride QW_MR x QW_NR in acc). */
#define LD8(v, acc, xi) memcpy(&(v), (acc) + (size_t)(xi) * QW_MR * QW_NR, sizeof(v))

/* One F(4x4) output row of 8 tiles: T = A'^T M A' (qconv_wino.h) modulo 2^32, 576 S, into
 * yv[4 i + j] (always inlined: no 32-byte vector crosses a call in generic builds). */
static inline __attribute__((always_inline)) void out_tf4(const int32_t *acc, v8u32 *yv)
{
    v8u32 s[4][6];
    for (int j = 0; j < 6; j++) {
        v8u32 m0, m1, m2, m3, m4, m5;
        LD8(m0, acc, j), LD8(m1, acc, 6 + j), LD8(m2, acc, 12 + j);
        LD8(m3, acc, 18 + j), LD8(m4, acc, 24 + j), LD8(m5, acc, 30 + j);
        v8u32 p = m1 + m2, q = m1 - m2, r = m3 + m4, t = m3 - m4;
        s[0][j] = 6 * m0 + 4 * p + r;
        s[1][j] = 4 * q + 2 * t;
        s[2][j] = 4 * (p + r);
        s[3][j] = 4 * q + 8 * t + 24 * m5;
    }
    for (int i = 0; i < 4; i++) {
        v8u32 p = s[i][1] + s[i][2], q = s[i][1] - s[i][2], r = s[i][3] + s[i][4], t = s[i][3] - s[i][4];
        yv[4 * i + 0] = 6 * s[i][0] + 4 * p + r;
        yv[4 * i + 1] = 4 * q + 2 * t;
        yv[4 * i + 2] = 4 * (p + r);
        yv[4 * i + 3] = 4 * q + 8 * t + 24 * s[i][5];
    }
}

/* Output channel m of the F(4x4) tiles at pos (cols <= 16) from the 36 kernel tiles in acc
 * (xi-th at acc + xi * 96, this channel's row first): T = 576 S modulo 2^32, so T >> 6 (a
 * multiple of 64) is 9 S modulo 2^26 and times 9^-1 = 0x38E38E39 (modulo 2^32, so modulo
 * 2^26 too) S modulo 2^26, sign-extended from 26 bits: S exactly while |S| < 2^25 (the
 * bound checked on the weights at bind). Then out_row's epilogue (4-lane floats: the
 * no-FMA barrier takes 16-byte vectors on every target); each tile row is 4 contiguous
 * floats. The integer part runs 8 tiles wide. */
static inline __attribute__((always_inline)) void out_row4_body(const ert_qwino *w, const int32_t *acc, size_t m,
                                                                size_t pos[16][QW_NR], size_t cols,
                                                                const int32_t *bias, const float *scale,
                                                                const float *res, float lo, float hi, float *y)
{
    const size_t S = w->OH * w->OW;
    const uint32_t b = bias ? (uint32_t)bias[m] : 0u;
    const float s = scale[m];
    const v8u32 bv = {b, b, b, b, b, b, b, b};
    const v4f sv = {s, s, s, s}, lov = {lo, lo, lo, lo}, hiv = {hi, hi, hi, hi};
    float f[16][QW_NR];
    const float *rm = res ? res + m * S : NULL;
    for (size_t l = 0; l < cols; l += 8) {
        v8u32 yv[16];
        out_tf4(acc + l, yv);
        for (int q = 0; q < 16; q++) {
#ifndef NDEBUG
            for (int k = 0; k < 8; k++)
                assert((yv[q][k] & 63u) == 0); /* 576 x the exact sum */
#endif
            v8u32 s26 = (yv[q] >> 6) * 0x38E38E39u;
            v8u32 a = (v8u32)((int32_t __attribute__((vector_size(32))))(s26 << 6) >> 6) + bv;
            for (size_t h = 0; h < 8; h += 4) {
                v4i ah = h ? (v4i)__builtin_shufflevector(a, a, 4, 5, 6, 7)
                           : (v4i)__builtin_shufflevector(a, a, 0, 1, 2, 3);
                v4f v = __builtin_convertvector(ah, v4f) * sv;
                ERT_Q_NOFUSE(v);
                if (rm) {
                    v4f rr;
                    for (size_t k = 0; k < 4; k++)
                        rr[k] = pos[q][l + h + k] < S ? rm[pos[q][l + h + k]] : 0.0f;
                    v = v + rr;
                    ERT_Q_NOFUSE(v);
                }
                v = clamp4(v, lov, hiv);
                memcpy(&f[q][l + h], &v, sizeof v);
            }
        }
    }
    float *ym = y + m * S;
    for (size_t l = 0; l < cols; l += 4)
        for (int r = 0; r < 4; r++) {
            /* 4 tiles' row r (f[4 r + column][tile]) transposed: one vector per tile */
            v4f a, bb, c, d;
            memcpy(&a, &f[4 * r][l], sizeof a), memcpy(&bb, &f[4 * r + 1][l], sizeof bb);
            memcpy(&c, &f[4 * r + 2][l], sizeof c), memcpy(&d, &f[4 * r + 3][l], sizeof d);
            v4f t0 = __builtin_shufflevector(a, bb, 0, 4, 1, 5), t1 = __builtin_shufflevector(a, bb, 2, 6, 3, 7);
            v4f t2 = __builtin_shufflevector(c, d, 0, 4, 1, 5), t3 = __builtin_shufflevector(c, d, 2, 6, 3, 7);
            v4f o[4] = {__builtin_shufflevector(t0, t2, 0, 1, 4, 5), __builtin_shufflevector(t0, t2, 2, 3, 6, 7),
                        __builtin_shufflevector(t1, t3, 0, 1, 4, 5), __builtin_shufflevector(t1, t3, 2, 3, 6, 7)};
            for (size_t k = 0; k < 4 && l + k < cols; k++) {
                size_t tt = l + k;
                if (pos[4 * r + 3][tt] < S) { /* the whole tile row inside the map */
                    memcpy(ym + pos[4 * r][tt], &o[k], sizeof o[k]);
                    continue;
                }
                for (int q = 0; q < 4; q++)
                    if (pos[4 * r + q][tt] < S)
                        ym[pos[4 * r + q][tt]] = o[k][q];
            }
        }
}

typedef void (*qw_out_fn)(const ert_qwino *w, const int32_t *acc, size_t m, size_t pos[16][QW_NR], size_t cols,
                          const int32_t *bias, const float *scale, const float *res, float lo, float hi, float *y);

static void out_row4(const ert_qwino *w, const int32_t *acc, size_t m, size_t pos[16][QW_NR], size_t cols,
                     const int32_t *bias, const float *scale, const float *res, float lo, float hi, float *y)
{
    out_row4_body(w, acc, m, pos, cols, bias, scale, res, lo, hi, y);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void out_row4_avx2(const ert_qwino *w, const int32_t *acc, size_t m,
                                                          size_t pos[16][QW_NR], size_t cols, const int32_t *bias,
                                                          const float *scale, const float *res, float lo, float hi,
                                                          float *y)
{
    out_row4_body(w, acc, m, pos, cols, bias, scale, res, lo, hi, y);
}
#endif

void ert_qwino_block(const ert_qwino *w, const void *prepared, const uint8_t *xq, uint8_t zx, size_t t0, size_t nt,
                     size_t r0, size_t r1, const int32_t *bias, const float *scale, const float *res, float lo, float hi,
                     float *y,
                     void *scratch)
{
    const size_t kp = w->kp, vs = v_elems(w), pe = panel_elems(w), panel = (kp / 2) * 32;
    int16_t *V = scratch;
    int32_t *acc = (int32_t *)((char *)scratch + ru(w->np * vs * sizeof(int16_t), 64));
    const int16_t *U = (const int16_t *)((const char *)prepared + QW_HDR);
    void (*tile)(const void *, const void *, size_t, int32_t *) = NULL;
#if defined(__x86_64__)
    if (ert_qk_is_avx2(ert_qgemm_kernel())) /* avx2u7 too: V is int16 whatever the input's bits */
        tile = ert_qk_avx2.tile;
#endif
    qw_in_fn tf = w->n == 2 ? tf2 : tf4_generic;
    qw_out_fn out = w->n == 2 ? out_row : out_row4;
#if defined(__x86_64__)
    if (w->n == 4 && tile)
        tf = tf4_avx2, out = out_row4_avx2;
#endif
    transform_input(w, tf, xq, zx, t0, nt, V);
    const size_t rps = (w->M + QW_MR - 1) / QW_MR, cps = (nt + QW_NR - 1) / QW_NR, np = w->np;
    if (r1 > rps)
        r1 = rps;
    for (size_t rp = r0; rp < r1; rp++) {
        size_t rows = w->M - rp * QW_MR < QW_MR ? w->M - rp * QW_MR : QW_MR;
        const int16_t *ur = U + rp * np * pe;
        for (size_t cp = 0; cp < cps; cp++) {
            for (size_t xi = 0; xi < np; xi++) {
                const int16_t *up = ur + xi * pe, *vp = V + xi * vs + cp * panel;
                int32_t *ap = acc + xi * QW_MR * QW_NR;
                if (tile)
                    tile(up, vp, kp, ap);
                else
                    tile_portable(up, vp, kp, ap);
            }
            size_t cols = nt - cp * QW_NR < QW_NR ? nt - cp * QW_NR : QW_NR, pos[16][QW_NR];
            out_pos(w, t0 + cp * QW_NR, cols, pos);
            for (size_t r = 0; r < rows; r++)
                out(w, acc + r * QW_NR, rp * QW_MR + r, pos, cols, bias, scale, res, lo, hi, y);
        }
    }
}
