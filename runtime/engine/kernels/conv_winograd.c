/* Winograd F(4x4, 3x3) and F(2x2, 3x3) for 2-D convolutions with 3x3 kernels, stride 1,
 * dilation 1 and one group (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016; F(4x4) on the points 0, +-1, +-2 and infinity, F(2x2) on 0, +-1 and
 * infinity). An m x m output tile costs (m+2)^2 multiplies per (input, output) channel pair
 * instead of 9 m^2 (36 vs 144 for F(4x4), 16 vs 36 for F(2x2)): the products become
 * (m+2)^2 independent matrix products
 *     M[xi] (M x T) = U[xi] (M x C) . V[xi] (C x T),
 * where U = G w G^T are the weights transformed once at load (ert_wino_prepare), V = B^T d B
 * the transformed (m+2)^2 input tiles, and the output tile is A^T m A. The products go to
 * OpenBLAS; the transforms run over four tiles at a time in 4-lane vectors. F(2x2) serves
 * smaller maps: its tiles cover a 14x14 map with 49 tiles where F(4x4) has 16, and its
 * transformed weights are 16/9 of the originals instead of 4x.
 *
 * Work is split across the pool in three phases per block of tiles: input transform by
 * channel, products by xi, output transform by output channel; a block is sized so that
 * V and M stay within a few MB. */
#include "conv_kernels.h"
#include "embedrt/gemm.h"
#include "embedrt/pool.h"
#include "simd.h"

#include <string.h>

#define WINO_MAXA 6 /* alpha = m + 2 */
#define WINO_BLOCK_BYTES ((size_t)4 << 20)

/* G (alpha x 3) applied to a 3-vector, in double: the transformed weights are computed once. */
static void g_apply(int m, const double g[3], double u[WINO_MAXA])
{
    if (m == 2) {
        u[0] = g[0];
        u[1] = (g[0] + g[1] + g[2]) / 2.0;
        u[2] = (g[0] - g[1] + g[2]) / 2.0;
        u[3] = g[2];
        return;
    }
    u[0] = g[0] / 4.0;
    u[1] = -(g[0] + g[1] + g[2]) / 6.0;
    u[2] = -(g[0] - g[1] + g[2]) / 6.0;
    u[3] = g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0;
    u[4] = g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0;
    u[5] = g[2];
}

void ert_wino_prepare(const ert_wino_geom *wg, const float *restrict w, float *restrict u)
{
    const size_t mc = wg->M * wg->C;
    const int m = wg->m, a = m + 2;
    for (size_t o = 0; o < wg->M; o++)
        for (size_t c = 0; c < wg->C; c++) {
            const float *k = w + (o * wg->C + c) * 9;
            double cols[WINO_MAXA][3], t[3], r[WINO_MAXA];
            for (int j = 0; j < 3; j++) { /* G applied to each kernel column */
                for (int i = 0; i < 3; i++)
                    t[i] = k[i * 3 + j];
                g_apply(m, t, r);
                for (int i = 0; i < a; i++)
                    cols[i][j] = r[i];
            }
            for (int i = 0; i < a; i++) { /* then to each row: G w G^T */
                g_apply(m, cols[i], r);
                for (int j = 0; j < a; j++)
                    u[(size_t)(i * a + j) * mc + o * wg->C + c] = (float)r[j];
            }
        }
}

bool ert_wino_geom_init(ert_wino_geom *wg, const ert_sp_geom *g, size_t c_count, size_t m_count, int tile)
{
    memset(wg, 0, sizeof *wg);
    if (tile != 2 && tile != 4)
        return false;
    if (g->nsp != 2 || g->in[0] != 1 || g->k[1] != 3 || g->k[2] != 3 || g->s[1] != 1 || g->s[2] != 1 ||
        g->d[1] != 1 || g->d[2] != 1 || g->out[1] < 1 || g->out[2] < 1)
        return false;
    wg->C = c_count, wg->M = m_count;
    wg->H = (size_t)g->in[1], wg->W = (size_t)g->in[2];
    wg->OH = (size_t)g->out[1], wg->OW = (size_t)g->out[2];
    wg->pt = g->pb[1], wg->pl = g->pb[2];
    wg->m = tile, wg->pos = (size_t)(tile + 2) * (size_t)(tile + 2);
    wg->tiles_h = (wg->OH + (size_t)tile - 1) / (size_t)tile, wg->tiles_w = (wg->OW + (size_t)tile - 1) / (size_t)tile;
    wg->T = wg->tiles_h * wg->tiles_w;
    size_t per_tile = wg->pos * (c_count + m_count) * sizeof(float);
    size_t b = WINO_BLOCK_BYTES / per_tile;
    b = b < 16 ? 16 : b - b % 4;
    wg->block = b < wg->T ? b : wg->T;
    return true;
}

size_t ert_wino_workspace_floats(const ert_wino_geom *wg)
{
    return wg->pos * (wg->C + wg->M) * wg->block;
}

typedef struct wino_job {
    const ert_wino_geom *g;
    const float *x, *u, *bias, *res;
    float *y, *v, *mm;
    size_t t0, tb; /* the block's first tile and tile count */
    const ert_node *n;
} wino_job;

/* B^T d over one column of alpha lane-vectors. */
static inline __attribute__((always_inline)) void bt_apply(int m, const ert_f4 *d, ert_f4 *r)
{
    if (m == 2) {
        r[0] = d[0] - d[2];
        r[1] = d[1] + d[2];
        r[2] = d[2] - d[1];
        r[3] = d[1] - d[3];
        return;
    }
    const ert_f4 four = f4_splat(4.0f), five = f4_splat(5.0f), two = f4_splat(2.0f);
    r[0] = four * d[0] - five * d[2] + d[4];
    r[1] = d[3] + d[4] - four * (d[1] + d[2]);
    r[2] = four * (d[1] - d[2]) + d[4] - d[3];
    r[3] = two * (d[3] - d[1]) + d[4] - d[2];
    r[4] = two * (d[1] - d[3]) + d[4] - d[2];
    r[5] = four * d[1] - five * d[3] + d[5];
}

/* Input transform of channels [c0, c1) for the block's tiles, four tiles per step; m is a
 * constant in each caller so the loops unroll. */
static inline __attribute__((always_inline)) void wino_input_m(const wino_job *j, size_t c0, size_t c1, const int m)
{
    const ert_wino_geom *g = j->g;
    const int a = m + 2;
    const size_t tb = j->tb, cstride = g->C * tb;
    for (size_t c = c0; c < c1; c++) {
        const float *xc = j->x + c * g->H * g->W;
        for (size_t q = 0; q < tb; q += 4) {
            const size_t lanes = tb - q < 4 ? tb - q : 4;
            float patch[WINO_MAXA][WINO_MAXA][4];
            for (size_t k = 0; k < 4; k++) {
                if (k >= lanes) {
                    for (int r = 0; r < a; r++)
                        for (int s = 0; s < a; s++)
                            patch[r][s][k] = 0.0f;
                    continue;
                }
                size_t t = j->t0 + q + k, ty = t / g->tiles_w, tx = t % g->tiles_w;
                int64_t iy0 = (int64_t)ty * m - g->pt, ix0 = (int64_t)tx * m - g->pl;
                bool inside = iy0 >= 0 && ix0 >= 0 && iy0 + a <= (int64_t)g->H && ix0 + a <= (int64_t)g->W;
                for (int r = 0; r < a; r++) {
                    int64_t iy = iy0 + r;
                    bool row_in = iy >= 0 && iy < (int64_t)g->H;
                    const float *row = xc + (size_t)(row_in ? iy : 0) * g->W;
                    for (int s = 0; s < a; s++) {
                        int64_t ix = ix0 + s;
                        patch[r][s][k] = inside || (row_in && ix >= 0 && ix < (int64_t)g->W) ? row[ix] : 0.0f;
                    }
                }
            }
            /* tmp = B^T d (columns), then V = tmp B (rows). */
            ert_f4 tmp[WINO_MAXA][WINO_MAXA], col[WINO_MAXA], res[WINO_MAXA];
            for (int s = 0; s < a; s++) {
                for (int r = 0; r < a; r++)
                    col[r] = f4_load(patch[r][s]);
                bt_apply(m, col, res);
                for (int r = 0; r < a; r++)
                    tmp[r][s] = res[r];
            }
            float *vq = j->v + c * tb + q;
            for (int r = 0; r < a; r++) {
                bt_apply(m, tmp[r], res);
                for (int s = 0; s < a; s++) {
                    float *dst = vq + (size_t)(r * a + s) * cstride;
                    if (lanes == 4) {
                        f4_store(dst, res[s]);
                    } else {
                        float lane[4];
                        f4_store(lane, res[s]);
                        for (size_t k = 0; k < lanes; k++)
                            dst[k] = lane[k];
                    }
                }
            }
        }
    }
}

static void wino_input(void *arg, size_t c0, size_t c1, int worker)
{
    (void)worker;
    const wino_job *j = arg;
    if (j->g->m == 2)
        wino_input_m(j, c0, c1, 2);
    else
        wino_input_m(j, c0, c1, 4);
}

/* The products of positions [x0, x1). */
static void wino_gemm(void *arg, size_t x0, size_t x1, int worker)
{
    (void)worker;
    const wino_job *j = arg;
    const ert_wino_geom *g = j->g;
    const size_t tb = j->tb;
    for (size_t xi = x0; xi < x1; xi++)
        ert_gemm(false, false, g->M, tb, g->C, 1.0f, j->u + xi * g->M * g->C, g->C, j->v + xi * g->C * tb, tb, 0.0f,
                 j->mm + xi * g->M * tb, tb, NULL); /* sizes checked when the plan was made */
}

/* A^T m over one column of alpha lane-vectors. */
static inline __attribute__((always_inline)) void at_apply(int m, const ert_f4 *v, ert_f4 *o)
{
    if (m == 2) {
        o[0] = v[0] + v[1] + v[2];
        o[1] = v[1] - v[2] - v[3];
        return;
    }
    const ert_f4 two = f4_splat(2.0f), four = f4_splat(4.0f), eight = f4_splat(8.0f);
    const ert_f4 a = v[1] + v[2], b = v[1] - v[2], c = v[3] + v[4], d = v[3] - v[4];
    o[0] = v[0] + a + c;
    o[1] = b + two * d;
    o[2] = a + four * c;
    o[3] = b + eight * d + v[5];
}

/* Output transform of output channels [m0, m1): A^T m A, bias, fused activation. */
static inline __attribute__((always_inline)) void wino_output_m(const wino_job *j, size_t m0, size_t m1, const int m)
{
    const ert_wino_geom *g = j->g;
    const int a = m + 2;
    const size_t tb = j->tb, mstride = g->M * tb;
    for (size_t oc = m0; oc < m1; oc++) {
        float *ym = j->y + oc * g->OH * g->OW;
        const float *rm = j->res ? j->res + oc * g->OH * g->OW : NULL;
        const float bias = j->bias ? j->bias[oc] : 0.0f;
        const ert_f4 vb = f4_splat(bias);
        for (size_t q = 0; q < tb; q += 4) {
            const size_t lanes = tb - q < 4 ? tb - q : 4;
            const float *mq = j->mm + oc * tb + q;
            ert_f4 tmp[4][WINO_MAXA], col[WINO_MAXA], o[4];
            for (int s = 0; s < a; s++) {
                for (int r = 0; r < a; r++) {
                    const float *src = mq + (size_t)(r * a + s) * mstride;
                    if (lanes == 4) {
                        col[r] = f4_load(src);
                    } else {
                        float lane[4] = {0, 0, 0, 0};
                        for (size_t k = 0; k < lanes; k++)
                            lane[k] = src[k];
                        col[r] = f4_load(lane);
                    }
                }
                at_apply(m, col, o);
                for (int i = 0; i < m; i++)
                    tmp[i][s] = o[i];
            }
            float out[4][4][4]; /* [row][col][lane] */
            for (int i = 0; i < m; i++) {
                at_apply(m, tmp[i], o);
                for (int jx = 0; jx < m; jx++)
                    f4_store(out[i][jx], o[jx] + vb);
            }
            for (size_t k = 0; k < lanes; k++) {
                size_t t = j->t0 + q + k, ty = t / g->tiles_w, tx = t % g->tiles_w;
                size_t oy0 = ty * (size_t)m, ox0 = tx * (size_t)m;
                size_t rows = g->OH - oy0 < (size_t)m ? g->OH - oy0 : (size_t)m;
                size_t cols = g->OW - ox0 < (size_t)m ? g->OW - ox0 : (size_t)m;
                for (size_t i = 0; i < rows; i++) {
                    float *yr = ym + (oy0 + i) * g->OW + ox0;
                    if (rm) {
                        const float *rr = rm + (oy0 + i) * g->OW + ox0;
                        for (size_t jx = 0; jx < cols; jx++)
                            yr[jx] = out[i][jx][k] + rr[jx];
                    } else {
                        for (size_t jx = 0; jx < cols; jx++)
                            yr[jx] = out[i][jx][k];
                    }
                    if (j->n->act != ERT_ACT_NONE)
                        ert_act_apply(yr, cols, j->n->act, j->n->act_alpha, j->n->act_beta);
                }
            }
        }
    }
}

static void wino_output(void *arg, size_t m0, size_t m1, int worker)
{
    (void)worker;
    const wino_job *j = arg;
    if (j->g->m == 2)
        wino_output_m(j, m0, m1, 2);
    else
        wino_output_m(j, m0, m1, 4);
}

void ert_wino_conv(const ert_wino_geom *g, const float *x, const float *u, const float *bias, const float *res,
                   float *y, float *ws, struct ert_pool *pool, const ert_node *n)
{
    wino_job j = {.g = g, .x = x, .u = u, .bias = bias, .res = res, .y = y, .n = n};
    for (size_t t0 = 0; t0 < g->T; t0 += g->block) {
        j.t0 = t0;
        j.tb = g->T - t0 < g->block ? g->T - t0 : g->block;
        j.v = ws;
        j.mm = ws + g->pos * g->C * j.tb;
        ert_pool_run(pool, g->C, 4, wino_input, &j);
        ert_pool_run(pool, g->pos, 1, wino_gemm, &j);
        ert_pool_run(pool, g->M, 4, wino_output, &j);
    }
}
