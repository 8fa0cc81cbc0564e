/* Frame validation, pixel format names and the colour conversions every image path uses.
 * YUV is BT.601 limited range, computed EXACTLY in integers as defined below.
 *
 * YUV -> RGB (y4m, I420/NV12/YUYV frames), with the six-decimal coefficients scaled by 1e6:
 *   R = (1164383 (Y-16)                  + 1596027 (V-128) + 500000) / 1e6
 *   G = (1164383 (Y-16) -  391762 (U-128) -  812968 (V-128) + 500000) / 1e6
 *   B = (1164383 (Y-16) + 2017232 (U-128)                   + 500000) / 1e6
 * i.e. the real-valued formula rounded to nearest with halves rounded up (towards
 * +infinity), then clamped to [0,255]. No floating point, so every platform and compiler
 * gives the same bytes. Chroma of pixel (x, y) is sample (x/2, y/2): no interpolation.
 *
 * RGB -> YUV (the y4m writer), same rule:
 *   Y = 16  + 0.256788 R + 0.504129 G + 0.097906 B                (per pixel)
 *   U = 128 - 0.148223 R - 0.290993 G + 0.439216 B                (of the block's mean RGB)
 *   V = 128 + 0.439216 R - 0.367788 G - 0.071427 B
 * where chroma averages the pixels of each 2x2 block that lie inside the frame (1, 2 or 4
 * of them at odd right/bottom edges) before the single rounding.
 *
 * GRAY8 -> RGB replicates the byte (no range expansion). YUYV rows with an odd width
 * still hold whole Y0,U,Y1,V groups: a row needs 4 * ceil(width / 2) bytes. */
#include "image_internal.h"

#include "embedrt/tensor.h"

#include <string.h>

#define FRAME_MAX_DIM 32768u

static inline uint8_t fix_round(int32_t n_times_1e6)
{
    int32_t q = n_times_1e6 + 500000;
    if (q < 0)
        return 0;
    uint32_t v = (uint32_t)q / 1000000u;
    return v > 255u ? 255u : (uint8_t)v;
}

static inline void yuv_px(int32_t ty, int32_t u, int32_t v, uint8_t *restrict dst)
{
    dst[0] = fix_round(ty + 1596027 * v);
    dst[1] = fix_round(ty - 391762 * u - 812968 * v);
    dst[2] = fix_round(ty + 2017232 * u);
}

void ert_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3])
{
    yuv_px(1164383 * ((int32_t)y - 16), (int32_t)u - 128, (int32_t)v - 128, rgb);
}

uint8_t ert_rgb_to_y(uint8_t r, uint8_t g, uint8_t b)
{
    uint32_t n = 16000000u + 256788u * r + 504129u * g + 97906u * b + 500000u;
    uint32_t y = n / 1000000u;
    return y > 255u ? 255u : (uint8_t)y;
}

static uint8_t chroma(int64_t num, uint32_t n)
{
    /* num = n * 1e6 * (value - 128) exactly; the offset keeps the division on a positive
     * number so that it rounds halves up like the luma path. */
    int64_t den = (int64_t)n * 1000000;
    int64_t q = num + 128 * den + den / 2;
    if (q < 0)
        return 0;
    int64_t c = q / den;
    return c > 255 ? 255 : (uint8_t)c;
}

void ert_rgb_to_uv(uint32_t sum_r, uint32_t sum_g, uint32_t sum_b, uint32_t n, uint8_t *u, uint8_t *v)
{
    int64_t r = sum_r, g = sum_g, b = sum_b;
    *u = chroma(-148223 * r - 290993 * g + 439216 * b, n);
    *v = chroma(439216 * r - 367788 * g - 71427 * b, n);
}

size_t ert_pixfmt_row_bytes(ert_pixfmt fmt, uint32_t w, int p)
{
    size_t cw = ((size_t)w + 1) / 2;
    switch (fmt) {
    case ERT_PIX_RGB24:
    case ERT_PIX_BGR24: return p == 0 ? (size_t)w * 3 : 0;
    case ERT_PIX_GRAY8: return p == 0 ? w : 0;
    case ERT_PIX_YUV420: return p == 0 ? w : cw;
    case ERT_PIX_NV12: return p == 0 ? w : p == 1 ? cw * 2 : 0;
    case ERT_PIX_YUYV: return p == 0 ? cw * 4 : 0;
    }
    return 0;
}

uint32_t ert_pixfmt_plane_rows(ert_pixfmt fmt, uint32_t h, int p)
{
    return p == 0 ? h : (fmt == ERT_PIX_YUV420 || fmt == ERT_PIX_NV12) ? (h + 1) / 2 : 0;
}

const char *ert_pixfmt_name(ert_pixfmt fmt)
{
    switch (fmt) {
    case ERT_PIX_RGB24: return "rgb24";
    case ERT_PIX_BGR24: return "bgr24";
    case ERT_PIX_GRAY8: return "gray8";
    case ERT_PIX_YUV420: return "yuv420";
    case ERT_PIX_NV12: return "nv12";
    case ERT_PIX_YUYV: return "yuyv";
    }
    return "unknown";
}

ert_status ert_frame_check(const ert_frame *f, ert_error *err)
{
    if (!f)
        return ert_fail(err, ERT_EINVAL, "frame: NULL");
    if (f->format < ERT_PIX_RGB24 || f->format > ERT_PIX_YUYV)
        return ert_fail(err, ERT_EINVAL, "frame: unknown pixel format %d", (int)f->format);
    const char *name = ert_pixfmt_name(f->format);
    if (f->width == 0 || f->height == 0 || f->width > FRAME_MAX_DIM || f->height > FRAME_MAX_DIM)
        return ert_fail(err, ERT_EINVAL, "frame: %s size %ux%u is outside 1..%u", name, f->width, f->height,
                        FRAME_MAX_DIM);
    for (int p = 0; p < 3; p++) {
        size_t row = ert_pixfmt_row_bytes(f->format, f->width, p);
        if (row == 0)
            continue;
        if (!f->plane[p])
            return ert_fail(err, ERT_EINVAL, "frame: %s plane %d is NULL", name, p);
        if (f->stride[p] < row)
            return ert_fail(err, ERT_EINVAL, "frame: %s plane %d stride %u is below its row size %zu (width %u)",
                            name, p, f->stride[p], row, f->width);
        size_t bytes;
        if (!ert_mul_size(f->stride[p], ert_pixfmt_plane_rows(f->format, f->height, p), &bytes))
            return ert_fail(err, ERT_EINVAL, "frame: %s plane %d is larger than memory", name, p);
    }
    return ERT_OK;
}

void ert_frame_row_rgb(const ert_frame *f, uint32_t y, uint32_t x0, uint32_t n, uint8_t *restrict dst)
{
    const uint8_t *p0 = f->plane[0] + (size_t)y * f->stride[0];
    switch (f->format) {
    case ERT_PIX_RGB24: memcpy(dst, p0 + (size_t)x0 * 3, (size_t)n * 3); return;
    case ERT_PIX_BGR24: {
        const uint8_t *s = p0 + (size_t)x0 * 3;
        for (uint32_t i = 0; i < n; i++) {
            dst[3 * i] = s[3 * i + 2];
            dst[3 * i + 1] = s[3 * i + 1];
            dst[3 * i + 2] = s[3 * i];
        }
        return;
    }
    case ERT_PIX_GRAY8: {
        const uint8_t *s = p0 + x0;
        for (uint32_t i = 0; i < n; i++)
            dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = s[i];
        return;
    }
    case ERT_PIX_YUV420: {
        const uint8_t *pu = f->plane[1] + (size_t)(y / 2) * f->stride[1];
        const uint8_t *pv = f->plane[2] + (size_t)(y / 2) * f->stride[2];
        for (uint32_t i = 0; i < n; i++) {
            uint32_t x = x0 + i;
            yuv_px(1164383 * ((int32_t)p0[x] - 16), (int32_t)pu[x / 2] - 128, (int32_t)pv[x / 2] - 128, dst + 3 * i);
        }
        return;
    }
    case ERT_PIX_NV12: {
        const uint8_t *puv = f->plane[1] + (size_t)(y / 2) * f->stride[1];
        for (uint32_t i = 0; i < n; i++) {
            uint32_t x = x0 + i, c = (x / 2) * 2;
            yuv_px(1164383 * ((int32_t)p0[x] - 16), (int32_t)puv[c] - 128, (int32_t)puv[c + 1] - 128, dst + 3 * i);
        }
        return;
    }
    case ERT_PIX_YUYV:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t x = x0 + i, g = (x / 2) * 4;
            yuv_px(1164383 * ((int32_t)p0[2 * (size_t)x] - 16), (int32_t)p0[g + 1] - 128, (int32_t)p0[g + 3] - 128,
                   dst + 3 * i);
        }
        return;
    }
}

void ert_frame_cols_rgb(const ert_frame *f, uint32_t y, uint32_t x0, const uint32_t *cols, uint32_t n,
                        uint8_t *restrict dst)
{
    const uint8_t *p0 = f->plane[0] + (size_t)y * f->stride[0];
    const uint8_t *pu = NULL, *pv = NULL;
    if (f->format == ERT_PIX_YUV420 || f->format == ERT_PIX_NV12) {
        pu = f->plane[1] + (size_t)(y / 2) * f->stride[1];
        pv = f->format == ERT_PIX_YUV420 ? f->plane[2] + (size_t)(y / 2) * f->stride[2] : pu + 1;
    }
    switch (f->format) {
    case ERT_PIX_YUV420:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t x = x0 + cols[i];
            yuv_px(1164383 * ((int32_t)p0[x] - 16), (int32_t)pu[x / 2] - 128, (int32_t)pv[x / 2] - 128,
                   dst + 3 * (size_t)cols[i]);
        }
        return;
    case ERT_PIX_NV12:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t x = x0 + cols[i], c = (x / 2) * 2;
            yuv_px(1164383 * ((int32_t)p0[x] - 16), (int32_t)pu[c] - 128, (int32_t)pv[c] - 128,
                   dst + 3 * (size_t)cols[i]);
        }
        return;
    case ERT_PIX_YUYV:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t x = x0 + cols[i], g = (x / 2) * 4;
            yuv_px(1164383 * ((int32_t)p0[2 * (size_t)x] - 16), (int32_t)p0[g + 1] - 128, (int32_t)p0[g + 3] - 128,
                   dst + 3 * (size_t)cols[i]);
        }
        return;
    default:
        for (uint32_t i = 0; i < n; i++)
            ert_frame_row_rgb(f, y, x0 + cols[i], 1, dst + 3 * (size_t)cols[i]);
        return;
    }
}
