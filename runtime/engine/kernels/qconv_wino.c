/* Exact int8 Winograd F(2x2,3x3) for ErtQConv: see qconv_wino.h for the numerics.
 *
 * Prepared weights (bind time): a 64-byte header, then for each panel of 6 output channels
 * and each of the 16 transformed positions xi, the AVX2 kernel's weight panel layout
 * (qgemm_impl.h: per channel pair j, the 6 rows' (U[2j], U[2j+1]) int16 pairs), channels
 * past C zero. Per block of tiles (scratch): for each xi, the kernel's activation panels of
 * 16 tiles (per channel pair, the (V[2j][t], V[2j+1][t]) int16 pairs of tiles 0-7, then
 * 8-15). Per (6 channels, 16 tiles): 16 kernel tiles, then the output transform, the exact
 * division by 4 and the scalar epilogue of qgemm_impl.h (the direct path's bits). */
#include "qconv_wino.h"

#include "../qgemm_impl.h"
#include "embedrt/qgemm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define QW_MAGIC 0x57575145u /* "EQWW" */
#define QW_HDR 64
#define QW_MR 6
#define QW_NR 16
/* Bytes of one block's transformed input: with one 6-row weight group (192 x C bytes),
 * well inside a 1 MB L2. */
#define QW_BLOCK_BYTES ((size_t)384 << 10)

typedef struct qw_hdr {
    uint32_t magic, kernel;
    uint64_t C, M, kp;
} qw_hdr;

static size_t ru(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

bool ert_qwino_init(ert_qwino *w, const ert_sp_geom *g, size_t C, size_t M, size_t group)
{
    memset(w, 0, sizeof *w);
    if (g->nsp != 2 || group != 1 || C < 1 || C > ERT_QWINO_MAX_C || M < 1)
        return false;
    if (g->k[0] != 1 || g->k[1] != 3 || g->k[2] != 3)
        return false;
    for (int i = 0; i < 3; i++)
        if (g->s[i] != 1 || g->d[i] != 1)
            return false;
    if (g->pb[0] != 0 || g->pe[0] != 0 || g->in[0] != 1 || g->out[1] < 1 || g->out[2] < 1)
        return false;
    w->C = C, w->M = M;
    w->H = (size_t)g->in[1], w->W = (size_t)g->in[2];
    w->OH = (size_t)g->out[1], w->OW = (size_t)g->out[2];
    w->pt = (size_t)g->pb[1], w->pl = (size_t)g->pb[2];
    w->th = (w->OH + 1) / 2, w->tw = (w->OW + 1) / 2, w->T = w->th * w->tw;
    w->kp = ru(C, 8);
    size_t tb = QW_BLOCK_BYTES / (32 * w->kp) / QW_NR * QW_NR;
    if (tb < QW_NR)
        tb = QW_NR;
    if (tb > ru(w->T, QW_NR))
        tb = ru(w->T, QW_NR);
    w->tb = tb;
    return true;
}

static bool wino_switch_on(void)
{
    const char *e = getenv("ERT_QCONV_WINOGRAD");
    return !(e && strcmp(e, "off") == 0);
}

bool ert_qwino_wanted(const ert_qwino *w)
{
    if (!w->C || !wino_switch_on() || ert_qgemm_kernel() != ERT_QK_AVX2)
        return false;
    return true;
}

static size_t panel_elems(const ert_qwino *w)
{
    return QW_MR * w->kp;
}

size_t ert_qwino_prepared_bytes(const ert_qwino *w)
{
    size_t rp = (w->M + QW_MR - 1) / QW_MR;
    return QW_HDR + rp * 16 * panel_elems(w) * sizeof(int16_t);
}

static size_t v_elems(const ert_qwino *w)
{
    return w->tb * w->kp; /* one xi: tb / 16 panels of kp / 2 x 32 int16 */
}

size_t ert_qwino_scratch(const ert_qwino *w)
{
    return ru(16 * v_elems(w) * sizeof(int16_t), 64) + 16 * QW_MR * QW_NR * sizeof(int32_t);
}

void ert_qwino_prepare(const ert_qwino *w, const int8_t *wq, void *out)
{
    qw_hdr h = {QW_MAGIC, (uint32_t)ert_qgemm_kernel(), w->C, w->M, w->kp};
    memset(out, 0, QW_HDR);
    memcpy(out, &h, sizeof h);
    int16_t *body = (int16_t *)((char *)out + QW_HDR);
    size_t pe = panel_elems(w), rps = (w->M + QW_MR - 1) / QW_MR;
    memset(body, 0, rps * 16 * pe * sizeof *body);
    for (size_t m = 0; m < w->M; m++)
        for (size_t c = 0; c < w->C; c++) {
            const int8_t *g = wq + (m * w->C + c) * 9;
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
            size_t rp = m / QW_MR, r = m % QW_MR;
            for (int xi = 0; xi < 16; xi++) {
                int16_t *panel = body + (rp * 16 + (size_t)xi) * pe;
                panel[(c / 2) * (2 * QW_MR) + r * 2 + (c & 1)] = (int16_t)u[xi / 4][xi % 4];
            }
        }
}

bool ert_qwino_is_prepared(const void *prepared, const ert_qwino *w, bool *ok)
{
    qw_hdr h;
    memcpy(&h, prepared, sizeof h);
    if (h.magic != QW_MAGIC)
        return false;
    *ok = h.kernel == (uint32_t)ert_qgemm_kernel() && h.kernel == ERT_QK_AVX2 && h.C == w->C && h.M == w->M &&
          h.kp == w->kp;
    return true;
}

/* Offset of (channel c, tile t) inside one xi's panels. */
static inline size_t v_off(size_t kp, size_t c, size_t t)
{
    return (t / QW_NR) * (kp / 2) * 32 + (c / 2) * 32 + ((t % QW_NR) >= 8 ? 16 : 0) + (t % 8) * 2 + (c & 1);
}

/* V = B^T d B of one 4x4 tile, B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]. */
static inline void in_tf(const int16_t d[4][4], int16_t v[16])
{
    int16_t t[4][4];
    for (int j = 0; j < 4; j++) {
        t[0][j] = (int16_t)(d[0][j] - d[2][j]);
        t[1][j] = (int16_t)(d[1][j] + d[2][j]);
        t[2][j] = (int16_t)(d[2][j] - d[1][j]);
        t[3][j] = (int16_t)(d[1][j] - d[3][j]);
    }
    for (int i = 0; i < 4; i++) {
        v[4 * i + 0] = (int16_t)(t[i][0] - t[i][2]);
        v[4 * i + 1] = (int16_t)(t[i][1] + t[i][2]);
        v[4 * i + 2] = (int16_t)(t[i][2] - t[i][1]);
        v[4 * i + 3] = (int16_t)(t[i][1] - t[i][3]);
    }
}

static void transform_input(const ert_qwino *w, const uint8_t *xq, uint8_t zx, size_t t0, size_t nt, int16_t *V)
{
    const size_t kp = w->kp, vs = v_elems(w), ntp = ru(nt, QW_NR);
    const int64_t H = (int64_t)w->H, W = (int64_t)w->W;
    for (size_t c = 0; c < kp; c++) {
        const uint8_t *xc = c < w->C ? xq + c * w->H * w->W : xq;
        for (size_t t = 0; t < ntp; t++) {
            int16_t v[16];
            size_t o = v_off(kp, c, t);
            if (c >= w->C || t >= nt) {
                for (int xi = 0; xi < 16; xi++)
                    V[(size_t)xi * vs + o] = 0;
                continue;
            }
            size_t tg = t0 + t, ty = tg / w->tw, tx = tg % w->tw;
            int64_t y0 = (int64_t)(2 * ty) - (int64_t)w->pt, x0 = (int64_t)(2 * tx) - (int64_t)w->pl;
            int16_t d[4][4];
            if (y0 >= 0 && x0 >= 0 && y0 + 4 <= H && x0 + 4 <= W) {
                const uint8_t *s = xc + (size_t)y0 * w->W + (size_t)x0;
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        d[i][j] = (int16_t)((int)s[(size_t)i * w->W + (size_t)j] - (int)zx);
            } else {
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        int64_t yy = y0 + i, xx = x0 + j;
                        d[i][j] = (yy >= 0 && yy < H && xx >= 0 && xx < W)
                                      ? (int16_t)((int)xc[(size_t)yy * w->W + (size_t)xx] - (int)zx)
                                      : 0;
                    }
            }
            in_tf(d, v);
            for (int xi = 0; xi < 16; xi++)
                V[(size_t)xi * vs + o] = v[xi];
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

void ert_qwino_block(const ert_qwino *w, const void *prepared, const uint8_t *xq, uint8_t zx, size_t t0, size_t nt,
                     const int32_t *bias, const float *scale, const float *res, float lo, float hi, float *y,
                     void *scratch)
{
    const size_t kp = w->kp, vs = v_elems(w), pe = panel_elems(w), panel = (kp / 2) * 32;
    int16_t *V = scratch;
    int32_t *acc = (int32_t *)((char *)scratch + ru(16 * vs * sizeof(int16_t), 64));
    const int16_t *U = (const int16_t *)((const char *)prepared + QW_HDR);
    void (*tile)(const void *, const void *, size_t, int32_t *) = NULL;
#if defined(__x86_64__)
    tile = ert_qk_avx2.tile;
#endif
    transform_input(w, xq, zx, t0, nt, V);
    const size_t rps = (w->M + QW_MR - 1) / QW_MR, cps = (nt + QW_NR - 1) / QW_NR, S = w->OH * w->OW;
    for (size_t rp = 0; rp < rps; rp++) {
        size_t rows = w->M - rp * QW_MR < QW_MR ? w->M - rp * QW_MR : QW_MR;
        const int16_t *ur = U + rp * 16 * pe;
        for (size_t cp = 0; cp < cps; cp++) {
            for (size_t xi = 0; xi < 16; xi++) {
                const int16_t *up = ur + xi * pe, *vp = V + xi * vs + cp * panel;
                int32_t *ap = acc + xi * QW_MR * QW_NR;
                if (tile)
                    tile(up, vp, kp, ap);
                else
                    tile_portable(up, vp, kp, ap);
            }
            size_t cols = nt - cp * QW_NR < QW_NR ? nt - cp * QW_NR : QW_NR;
            for (size_t r = 0; r < rows; r++) {
                size_t m = rp * QW_MR + r;
                uint32_t b = bias ? (uint32_t)bias[m] : 0u;
                float s = scale[m];
                float *ym = y + m * S;
                const float *rm = res ? res + m * S : NULL;
                for (size_t tt = 0; tt < cols; tt++) {
                    uint32_t mm[16];
                    for (int xi = 0; xi < 16; xi++)
                        mm[xi] = (uint32_t)acc[(size_t)xi * QW_MR * QW_NR + r * QW_NR + tt];
                    /* A^T = [[1,1,1,0],[0,1,-1,-1]]: rows, then columns. */
                    uint32_t s0[4], s1[4], yv[4];
                    for (int j = 0; j < 4; j++) {
                        s0[j] = mm[j] + mm[4 + j] + mm[8 + j];
                        s1[j] = mm[4 + j] - mm[8 + j] - mm[12 + j];
                    }
                    yv[0] = s0[0] + s0[1] + s0[2];
                    yv[1] = s0[1] - s0[2] - s0[3];
                    yv[2] = s1[0] + s1[1] + s1[2];
                    yv[3] = s1[1] - s1[2] - s1[3];
                    size_t tg = t0 + cp * QW_NR + tt, oy = 2 * (tg / w->tw), ox = 2 * (tg % w->tw);
                    for (int q = 0; q < 4; q++) {
                        size_t yy = oy + (size_t)(q / 2), xx = ox + (size_t)(q % 2);
                        if (yy >= w->OH || xx >= w->OW)
                            continue;
                        assert((yv[q] & 3u) == 0); /* 4 x the exact sum */
                        int32_t sum = (int32_t)yv[q] / 4;
                        size_t o = yy * w->OW + xx;
                        ym[o] = epi_f32_one((int32_t)((uint32_t)sum + b), s, rm ? rm + o : NULL, lo, hi);
                    }
                }
            }
        }
    }
}
