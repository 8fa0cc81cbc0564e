/* Winograd F(4x4, 3x3) for 2-D convolutions with 3x3 kernels, stride 1, dilation 1 and one
 * group (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016; points
 * 0, +-1, +-2 and infinity). Each 4x4 output tile costs 36 multiplies per (input, output)
 * channel pair instead of 144: the products become 36 independent matrix products
 *     M[xi] (M x T) = U[xi] (M x C) . V[xi] (C x T),   xi = 0..35,
 * where U = G w G^T are the weights transformed once at load (ert_wino_prepare), V = B^T d B
 * the transformed 6x6 input tiles, and the output tile is A^T m A. The products go to
 * OpenBLAS; the transforms run over four tiles at a time in 4-lane vectors.
 *
 * Work is split across the pool in three phases per block of tiles: input transform by
 * channel, products by xi, output transform by output channel; a block is sized so that
 * V and M stay within a few MB. */
#include "conv_kernels.h"
#include "embedrt/gemm.h"
#include "embedrt/pool.h"
#include "simd.h"

#include <string.h>

#define WINO_POS 36
#define WINO_BLOCK_BYTES ((size_t)4 << 20)

/* G (6x3) applied to a 3-vector, in double: the transformed weights are computed once. */
static void g_apply(const double g[3], double u[6])
{
    u[0] = g[0] / 4.0;
    u[1] = -(g[0] + g[1] + g[2]) / 6.0;
    u[2] = -(g[0] - g[1] + g[2]) / 6.0;
    u[3] = g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0;
    u[4] = g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0;
    u[5] = g[2];
}

void ert_wino_prepare(const float *restrict w, size_t m_count, size_t c_count, float *restrict u)
{
    const size_t mc = m_count * c_count;
    for (size_t m = 0; m < m_count; m++)
        for (size_t c = 0; c < c_count; c++) {
            const float *k = w + (m * c_count + c) * 9;
            double cols[6][3], t[3], r[6];
            for (int j = 0; j < 3; j++) { /* G applied to each kernel column */
                for (int i = 0; i < 3; i++)
                    t[i] = k[i * 3 + j];
                g_apply(t, r);
                for (int i = 0; i < 6; i++)
                    cols[i][j] = r[i];
            }
            for (int i = 0; i < 6; i++) { /* then to each row: G w G^T */
                g_apply(cols[i], r);
                for (int j = 0; j < 6; j++)
                    u[(size_t)(i * 6 + j) * mc + m * c_count + c] = (float)r[j];
            }
        }
}

bool ert_wino_geom_init(ert_wino_geom *wg, const ert_sp_geom *g, size_t c_count, size_t m_count)
{
    memset(wg, 0, sizeof *wg);
    if (g->nsp != 2 || g->in[0] != 1 || g->k[1] != 3 || g->k[2] != 3 || g->s[1] != 1 || g->s[2] != 1 ||
        g->d[1] != 1 || g->d[2] != 1 || g->out[1] < 1 || g->out[2] < 1)
        return false;
    wg->C = c_count, wg->M = m_count;
    wg->H = (size_t)g->in[1], wg->W = (size_t)g->in[2];
    wg->OH = (size_t)g->out[1], wg->OW = (size_t)g->out[2];
    wg->pt = g->pb[1], wg->pl = g->pb[2];
    wg->tiles_h = (wg->OH + 3) / 4, wg->tiles_w = (wg->OW + 3) / 4;
    wg->T = wg->tiles_h * wg->tiles_w;
    size_t per_tile = WINO_POS * (c_count + m_count) * sizeof(float);
    size_t b = WINO_BLOCK_BYTES / per_tile;
    b = b < 16 ? 16 : b - b % 4;
    wg->block = b < wg->T ? b : wg->T;
    return true;
}

size_t ert_wino_workspace_floats(const ert_wino_geom *wg)
{
    return WINO_POS * (wg->C + wg->M) * wg->block;
}

typedef struct wino_job {
    const ert_wino_geom *g;
    const float *x, *u, *bias;
    float *y, *v, *mm;
    size_t t0, tb; /* the block's first tile and tile count */
    const ert_node *n;
} wino_job;

/* B^T d over one column of six lane-vectors (in place on r[0..5]). */
static inline void bt_apply(const ert_f4 d[6], ert_f4 r[6])
{
    const ert_f4 four = f4_splat(4.0f), five = f4_splat(5.0f), two = f4_splat(2.0f);
    r[0] = four * d[0] - five * d[2] + d[4];
    r[1] = d[3] + d[4] - four * (d[1] + d[2]);
    r[2] = four * (d[1] - d[2]) + d[4] - d[3];
    r[3] = two * (d[3] - d[1]) + d[4] - d[2];
    r[4] = two * (d[1] - d[3]) + d[4] - d[2];
    r[5] = four * d[1] - five * d[3] + d[5];
}

/* Input transform of channels [c0, c1) for the block's tiles, four tiles per step. */
static void wino_input(void *arg, size_t c0, size_t c1, int worker)
{
    (void)worker;
    const wino_job *j = arg;
    const ert_wino_geom *g = j->g;
    const size_t tb = j->tb, cstride = g->C * tb;
    for (size_t c = c0; c < c1; c++) {
        const float *xc = j->x + c * g->H * g->W;
        for (size_t q = 0; q < tb; q += 4) {
            const size_t lanes = tb - q < 4 ? tb - q : 4;
            float patch[6][6][4];
            for (size_t k = 0; k < 4; k++) {
                if (k >= lanes) {
                    for (int r = 0; r < 6; r++)
                        for (int s = 0; s < 6; s++)
                            patch[r][s][k] = 0.0f;
                    continue;
                }
                size_t t = j->t0 + q + k, ty = t / g->tiles_w, tx = t % g->tiles_w;
                int64_t iy0 = (int64_t)ty * 4 - g->pt, ix0 = (int64_t)tx * 4 - g->pl;
                bool inside = iy0 >= 0 && ix0 >= 0 && iy0 + 6 <= (int64_t)g->H && ix0 + 6 <= (int64_t)g->W;
                for (int r = 0; r < 6; r++) {
                    int64_t iy = iy0 + r;
                    const float *row = xc + (size_t)(inside || (iy >= 0 && iy < (int64_t)g->H) ? iy : 0) * g->W;
                    for (int s = 0; s < 6; s++) {
                        int64_t ix = ix0 + s;
                        patch[r][s][k] = inside || (iy >= 0 && iy < (int64_t)g->H && ix >= 0 && ix < (int64_t)g->W)
                                             ? row[ix]
                                             : 0.0f;
                    }
                }
            }
            /* tmp = B^T d (columns), then V = tmp B (rows). */
            ert_f4 tmp[6][6], col[6], res[6];
            for (int s = 0; s < 6; s++) {
                for (int r = 0; r < 6; r++)
                    col[r] = f4_load(patch[r][s]);
                bt_apply(col, res);
                for (int r = 0; r < 6; r++)
                    tmp[r][s] = res[r];
            }
            float *vq = j->v + c * tb + q;
            for (int r = 0; r < 6; r++) {
                bt_apply(tmp[r], res);
                for (int s = 0; s < 6; s++) {
                    float *dst = vq + (size_t)(r * 6 + s) * cstride;
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

/* A^T m over one column of six lane-vectors. */
static inline void at_apply(const ert_f4 m[6], ert_f4 o[4])
{
    const ert_f4 two = f4_splat(2.0f), four = f4_splat(4.0f), eight = f4_splat(8.0f);
    const ert_f4 a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    o[0] = m[0] + a + c;
    o[1] = b + two * d;
    o[2] = a + four * c;
    o[3] = b + eight * d + m[5];
}

/* Output transform of output channels [m0, m1): A^T m A, bias, fused activation. */
static void wino_output(void *arg, size_t m0, size_t m1, int worker)
{
    (void)worker;
    const wino_job *j = arg;
    const ert_wino_geom *g = j->g;
    const size_t tb = j->tb, mstride = g->M * tb;
    for (size_t m = m0; m < m1; m++) {
        float *ym = j->y + m * g->OH * g->OW;
        const float bias = j->bias ? j->bias[m] : 0.0f;
        for (size_t q = 0; q < tb; q += 4) {
            const size_t lanes = tb - q < 4 ? tb - q : 4;
            const float *mq = j->mm + m * tb + q;
            ert_f4 tmp[4][6], col[6], o[4];
            for (int s = 0; s < 6; s++) {
                for (int r = 0; r < 6; r++) {
                    const float *src = mq + (size_t)(r * 6 + s) * mstride;
                    if (lanes == 4) {
                        col[r] = f4_load(src);
                    } else {
                        float lane[4] = {0, 0, 0, 0};
                        for (size_t k = 0; k < lanes; k++)
                            lane[k] = src[k];
                        col[r] = f4_load(lane);
                    }
                }
                at_apply(col, o);
                for (int i = 0; i < 4; i++)
                    tmp[i][s] = o[i];
            }
            float out[4][4][4]; /* [row][col][lane] */
            const ert_f4 vb = f4_splat(bias);
            for (int i = 0; i < 4; i++) {
                at_apply(tmp[i], o);
                for (int jx = 0; jx < 4; jx++)
                    f4_store(out[i][jx], o[jx] + vb);
            }
            for (size_t k = 0; k < lanes; k++) {
                size_t t = j->t0 + q + k, ty = t / g->tiles_w, tx = t % g->tiles_w;
                size_t oy0 = ty * 4, ox0 = tx * 4;
                size_t rows = g->OH - oy0 < 4 ? g->OH - oy0 : 4, cols = g->OW - ox0 < 4 ? g->OW - ox0 : 4;
                for (size_t i = 0; i < rows; i++) {
                    float *yr = ym + (oy0 + i) * g->OW + ox0;
                    for (size_t jx = 0; jx < cols; jx++)
                        yr[jx] = out[i][jx][k];
                    if (j->n->act != ERT_ACT_NONE)
                        ert_act_apply(yr, cols, j->n->act, j->n->act_alpha, j->n->act_beta);
                }
            }
        }
    }
}

void ert_wino_conv(const ert_wino_geom *g, const float *x, const float *u, const float *bias, float *y, float *ws,
                   struct ert_pool *pool, const ert_node *n)
{
    wino_job j = {.g = g, .x = x, .u = u, .bias = bias, .y = y, .n = n};
    for (size_t t0 = 0; t0 < g->T; t0 += g->block) {
        j.t0 = t0;
        j.tb = g->T - t0 < g->block ? g->T - t0 : g->block;
        j.v = ws;
        j.mm = ws + WINO_POS * g->C * j.tb;
        ert_pool_run(pool, g->C, 4, wino_input, &j);
        ert_pool_run(pool, WINO_POS, 1, wino_gemm, &j);
        ert_pool_run(pool, g->M, 4, wino_output, &j);
    }
}
