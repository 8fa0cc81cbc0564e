/* Conv inner loops: im2col (row memcpy when stride 1), col2im for ConvTranspose, and
 * direct depthwise planes with a 3x3 stride-1/2 fast path. Bounds come from ranges
 * computed per row, never from per-element tests. */
#include "conv_kernels.h"

#include "simd.h"

#include <string.h>

void ert_conv_im2col(const float *restrict x, const ert_sp_geom *g, size_t channels, size_t r0, size_t r1,
                     float *restrict col)
{
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    const int64_t OH = g->out[1], OW = g->out[2];
    const size_t t = (r1 - r0) * (size_t)OW;
    const size_t plane = g->in_size;
    float *dst = col;
    for (size_t c = 0; c < channels; c++) {
        const float *xc = x + c * plane;
        for (int64_t kd = 0; kd < g->k[0]; kd++) {
            const int64_t offd = kd * g->d[0] - g->pb[0];
            for (int64_t kh = 0; kh < g->k[1]; kh++) {
                const int64_t offh = kh * g->d[1] - g->pb[1];
                for (int64_t kw = 0; kw < g->k[2]; kw++) {
                    const int64_t offw = kw * g->d[2] - g->pb[2];
                    const int64_t sw = g->s[2];
                    int64_t lo, hi;
                    ert_sp_range(OW, sw, offw, W, &lo, &hi);
                    int64_t od = (int64_t)r0 / OH, oh = (int64_t)r0 % OH;
                    float *drow = dst;
                    for (size_t r = r0; r < r1; r++, drow += OW) {
                        const int64_t id = od * g->s[0] + offd, ih = oh * g->s[1] + offh;
                        if (++oh == OH)
                            oh = 0, od++;
                        if (id < 0 || id >= D || ih < 0 || ih >= H || lo == hi) {
                            memset(drow, 0, (size_t)OW * sizeof *drow);
                            continue;
                        }
                        const float *srow = xc + ((size_t)id * (size_t)H + (size_t)ih) * (size_t)W;
                        if (lo > 0)
                            memset(drow, 0, (size_t)lo * sizeof *drow);
                        if (hi < OW)
                            memset(drow + hi, 0, (size_t)(OW - hi) * sizeof *drow);
                        if (sw == 1) {
                            memcpy(drow + lo, srow + lo + offw, (size_t)(hi - lo) * sizeof *drow);
                        } else {
                            const float *s0 = srow + (lo * sw + offw);
                            float *d0 = drow + lo;
                            const int64_t cnt = hi - lo;
                            int64_t i = 0;
#ifdef ERT_HAVE_SHUFFLE
                            /* Stride 2: four outputs are the even lanes of eight inputs, as long
                             * as those eight stay inside the row. */
                            if (sw == 2) {
                                const int64_t avail = W - (lo * sw + offw);
                                for (; i + 4 <= cnt && 2 * i + 8 <= avail; i += 4)
                                    f4_store(d0 + i, f4_even(f4_load(s0 + 2 * i), f4_load(s0 + 2 * i + 4)));
                            }
#endif
                            for (; i < cnt; i++)
                                d0[i] = s0[i * sw];
                        }
                    }
                    dst += t;
                }
            }
        }
    }
}

void ert_conv_col2im(const float *restrict col, const ert_sp_geom *g, size_t channels, size_t r0, size_t r1,
                     float *restrict y)
{
    /* Here in[] is the ConvTranspose input (the col columns) and out[] its output. */
    const int64_t IH = g->in[1], IW = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const size_t t = (r1 - r0) * (size_t)IW;
    const size_t plane = g->out_size;
    const float *src = col;
    for (size_t c = 0; c < channels; c++) {
        float *yc = y + c * plane;
        for (int64_t kd = 0; kd < g->k[0]; kd++) {
            const int64_t offd = kd * g->d[0] - g->pb[0];
            for (int64_t kh = 0; kh < g->k[1]; kh++) {
                const int64_t offh = kh * g->d[1] - g->pb[1];
                for (int64_t kw = 0; kw < g->k[2]; kw++) {
                    const int64_t offw = kw * g->d[2] - g->pb[2];
                    const int64_t sw = g->s[2];
                    int64_t lo, hi;
                    ert_sp_range(IW, sw, offw, OW, &lo, &hi);
                    int64_t id = (int64_t)r0 / IH, ih = (int64_t)r0 % IH;
                    const float *srow = src;
                    for (size_t r = r0; r < r1; r++, srow += IW) {
                        const int64_t od = id * g->s[0] + offd, oh = ih * g->s[1] + offh;
                        if (++ih == IH)
                            ih = 0, id++;
                        if (od < 0 || od >= OD || oh < 0 || oh >= OH || lo == hi)
                            continue;
                        float *yrow = yc + ((size_t)od * (size_t)OH + (size_t)oh) * (size_t)OW;
                        const int64_t cnt = hi - lo;
                        const float *s0 = srow + lo;
                        float *d0 = yrow + (lo * sw + offw);
                        if (sw == 1) {
                            int64_t i = 0;
                            for (; i + 4 <= cnt; i += 4)
                                f4_store(d0 + i, f4_load(d0 + i) + f4_load(s0 + i));
                            for (; i < cnt; i++)
                                d0[i] += s0[i];
                        } else {
                            for (int64_t i = 0; i < cnt; i++)
                                d0[i * sw] += s0[i];
                        }
                    }
                    src += t;
                }
            }
        }
    }
}

/* One output of a 3x3 window with bounds checks: the few border columns. */
static float dw3x3_edge(const float *const rows[3], const float *w, int64_t iw0, int64_t W)
{
    float acc = 0.0f;
    for (int kw = 0; kw < 3; kw++) {
        int64_t iw = iw0 + kw;
        if (iw < 0 || iw >= W)
            continue;
        acc += w[kw] * rows[0][iw] + w[3 + kw] * rows[1][iw] + w[6 + kw] * rows[2][iw];
    }
    return acc;
}

/* 3x3, dilation 1, stride 1 or 2: nine FMAs and one store per output in the interior;
 * rows outside the input read a zero row so the interior loop has no branches. */
static void dw3x3(const float *restrict x, const float *restrict w, const ert_sp_geom *g, const float *zero_row,
                  float *restrict y)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t s = g->s[2], ph = g->pb[1], pw = g->pb[2];
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
    const ert_f4 v0 = f4_splat(w0), v1 = f4_splat(w1), v2 = f4_splat(w2), v3 = f4_splat(w3), v4 = f4_splat(w4),
                 v5 = f4_splat(w5), v6 = f4_splat(w6), v7 = f4_splat(w7), v8 = f4_splat(w8);
    /* Interior columns: all three taps inside the row. */
    int64_t lo, hi;
    ert_sp_range(OW, s, -pw, W - 2, &lo, &hi);
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *rows[3];
        for (int kh = 0; kh < 3; kh++) {
            int64_t ih = oh * g->s[1] - ph + kh;
            rows[kh] = (ih >= 0 && ih < H) ? x + (size_t)ih * (size_t)W : zero_row;
        }
        const float *restrict a = rows[0], *restrict b = rows[1], *restrict c = rows[2];
        float *restrict yr = y + (size_t)oh * (size_t)OW;
        for (int64_t ow = 0; ow < lo; ow++)
            yr[ow] = dw3x3_edge(rows, w, ow * s - pw, W);
        int64_t ow = lo;
        if (s == 1) {
            for (; ow + 4 <= hi; ow += 4) {
                const int64_t i = ow - pw;
                ert_f4 acc = v0 * f4_load(a + i) + v1 * f4_load(a + i + 1) + v2 * f4_load(a + i + 2);
                acc += v3 * f4_load(b + i) + v4 * f4_load(b + i + 1) + v5 * f4_load(b + i + 2);
                acc += v6 * f4_load(c + i) + v7 * f4_load(c + i + 1) + v8 * f4_load(c + i + 2);
                f4_store(yr + ow, acc);
            }
            for (; ow < hi; ow++) {
                const int64_t i = ow - pw;
                yr[ow] = w0 * a[i] + w1 * a[i + 1] + w2 * a[i + 2] + w3 * b[i] + w4 * b[i + 1] + w5 * b[i + 2] +
                         w6 * c[i] + w7 * c[i + 1] + w8 * c[i + 2];
            }
        } else {
#ifdef ERT_HAVE_SHUFFLE
            /* Four outputs read a[i .. i+8]: even lanes are tap 0, odd lanes tap 1, and tap 2
             * is tap 0 shifted by one lane plus a[i+8] (no load past the window). */
            for (; ow + 4 <= hi; ow += 4) {
                const int64_t i = ow * 2 - pw;
                ert_f4 acc;
                {
                    ert_f4 l0 = f4_load(a + i), l1 = f4_load(a + i + 4), e = f4_even(l0, l1);
                    acc = v0 * e + v1 * f4_odd(l0, l1) + v2 * __builtin_shufflevector(e, f4_splat(a[i + 8]), 1, 2, 3, 4);
                }
                {
                    ert_f4 l0 = f4_load(b + i), l1 = f4_load(b + i + 4), e = f4_even(l0, l1);
                    acc += v3 * e + v4 * f4_odd(l0, l1) + v5 * __builtin_shufflevector(e, f4_splat(b[i + 8]), 1, 2, 3, 4);
                }
                {
                    ert_f4 l0 = f4_load(c + i), l1 = f4_load(c + i + 4), e = f4_even(l0, l1);
                    acc += v6 * e + v7 * f4_odd(l0, l1) + v8 * __builtin_shufflevector(e, f4_splat(c[i + 8]), 1, 2, 3, 4);
                }
                f4_store(yr + ow, acc);
            }
#endif
            for (; ow < hi; ow++) {
                const int64_t i = ow * 2 - pw;
                yr[ow] = w0 * a[i] + w1 * a[i + 1] + w2 * a[i + 2] + w3 * b[i] + w4 * b[i + 1] + w5 * b[i + 2] +
                         w6 * c[i] + w7 * c[i + 1] + w8 * c[i + 2];
            }
        }
        for (ow = hi; ow < OW; ow++)
            yr[ow] = dw3x3_edge(rows, w, ow * s - pw, W);
    }
}

/* Any kernel, stride and dilation: per output row, one axpy per in-range kernel tap. */
static void dw_generic(const float *restrict x, const float *restrict w, const ert_sp_geom *g, float *restrict y)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t KH = g->k[1], KW = g->k[2], sw = g->s[2];
    for (int64_t oh = 0; oh < OH; oh++) {
        float *restrict yr = y + (size_t)oh * (size_t)OW;
        memset(yr, 0, (size_t)OW * sizeof *yr);
        for (int64_t kh = 0; kh < KH; kh++) {
            const int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
            if (ih < 0 || ih >= H)
                continue;
            const float *restrict xr = x + (size_t)ih * (size_t)W;
            for (int64_t kw = 0; kw < KW; kw++) {
                const float wv = w[kh * KW + kw];
                const int64_t off = kw * g->d[2] - g->pb[2];
                int64_t lo, hi;
                ert_sp_range(OW, sw, off, W, &lo, &hi);
                if (lo == hi)
                    continue;
                const float *xs = xr + (lo * sw + off);
                float *yd = yr + lo;
                const int64_t cnt = hi - lo;
                if (sw == 1) {
                    const ert_f4 vw = f4_splat(wv);
                    int64_t i = 0;
                    for (; i + 4 <= cnt; i += 4)
                        f4_store(yd + i, f4_load(yd + i) + vw * f4_load(xs + i));
                    for (; i < cnt; i++)
                        yd[i] += wv * xs[i];
                } else {
                    for (int64_t i = 0; i < cnt; i++)
                        yd[i] += wv * xs[i * sw];
                }
            }
        }
    }
}

void ert_conv_depthwise_plane(const float *restrict x, const float *restrict w, float bias, const ert_sp_geom *g,
                              const float *zero_row, float *restrict y, const ert_node *n)
{
    bool k3 = g->k[1] == 3 && g->k[2] == 3 && g->d[1] == 1 && g->d[2] == 1 && g->in[2] >= 3;
    bool s12 = g->s[1] == g->s[2] && (g->s[2] == 1 || g->s[2] == 2);
    if (k3 && s12 && zero_row)
        dw3x3(x, w, g, zero_row, y);
    else
        dw_generic(x, w, g, y);
    ert_sp_bias_act(y, g->out_size, bias, n);
}
