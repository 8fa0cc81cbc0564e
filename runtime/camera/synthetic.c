/* Synthetic source: moving test patterns for tests and demos, deterministic (a frame's
 * bytes depend only on pattern, size, format and seq), any size (odd ones included), in
 * every ert_pixfmt, with padded strides like a real camera's.
 *
 * Patterns, at frame seq (t), pixel (x, y) of a W x H frame:
 * - bars: eight colour bars (white, yellow, cyan, green, magenta, red, blue, black),
 *   bar ((x + t) mod W) * 8 / W: they scroll left one pixel per frame.
 * - checker: white and dark-blue squares of side max(1, min(W, H) / 8), moving one pixel
 *   per frame down and to the right.
 * - noise: R, G, B are bytes of splitmix64(t << 32 | y << 16 | x).
 * Pixels are made as RGB, then converted: YUV formats with the exact BT.601 integer
 * formulas of frame.c (chroma from the mean of the pixels of each 2x2 block, or of each
 * horizontal pair for YUYV; an odd last YUYV pair repeats its Y); GRAY8 is
 * (77 R + 150 G + 29 B + 128) >> 8. Every plane's stride is its packed row rounded up
 * to 64 bytes after at least 16 bytes of padding, filled with 0xA5 (a consumer that
 * ignores strides shows it as stripes). Size: the spec's WxH, else cfg's, else 320x240;
 * format: cfg's, else RGB24; rate: cfg.fps (0: 30, < 0: unpaced). */
#include "source_internal.h"

#include "../image/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum pattern { PAT_BARS, PAT_CHECKER, PAT_NOISE } pattern;

static const char *const pattern_names[] = {"bars", "checker", "noise"};

typedef struct synthetic {
    pattern pat;
    uint32_t width, height;
    ert_pixfmt format;
    double fps;
    ert_pacer pacer;
    bool pacer_ok, started;
    uint32_t stride[3];
    size_t offset[3];
    uint8_t *buf;  /* all planes */
    uint8_t *rows; /* two RGB rows */
    uint64_t seq;
    ert_source_stats stats;
} synthetic;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* RGB of row y at time t into dst (3 * W bytes). */
static void pattern_row(const synthetic *s, uint64_t t, uint32_t y, uint8_t *dst)
{
    static const uint8_t bars[8][3] = {{255, 255, 255}, {255, 255, 0}, {0, 255, 255}, {0, 255, 0},
                                       {255, 0, 255},   {255, 0, 0},   {0, 0, 255},   {0, 0, 0}};
    uint32_t W = s->width, H = s->height;
    uint32_t side = (W < H ? W : H) / 8;
    side = side ? side : 1;
    for (uint32_t x = 0; x < W; x++, dst += 3) {
        switch (s->pat) {
        case PAT_BARS: {
            const uint8_t *c = bars[(uint32_t)(((uint64_t)x + t) % W) * 8u / W];
            dst[0] = c[0], dst[1] = c[1], dst[2] = c[2];
            break;
        }
        case PAT_CHECKER: {
            uint64_t cx = ((uint64_t)x + (2 * (uint64_t)side - t % (2 * side))) / side;
            uint64_t cy = ((uint64_t)y + (2 * (uint64_t)side - t % (2 * side))) / side;
            bool white = ((cx + cy) & 1) == 0;
            dst[0] = white ? 255 : 16, dst[1] = white ? 255 : 32, dst[2] = white ? 255 : 96;
            break;
        }
        case PAT_NOISE: {
            uint64_t h = splitmix64(t << 32 | (uint64_t)y << 16 | x);
            dst[0] = (uint8_t)h, dst[1] = (uint8_t)(h >> 8), dst[2] = (uint8_t)(h >> 16);
            break;
        }
        }
    }
}

/* Renders frame t into buf. */
static void render(synthetic *s, uint64_t t)
{
    uint32_t W = s->width, H = s->height;
    uint8_t *p0 = s->buf + s->offset[0], *p1 = s->buf + s->offset[1], *p2 = s->buf + s->offset[2];
    for (uint32_t y = 0; y < H; y += 2) {
        uint32_t nrows = y + 1 < H ? 2 : 1;
        for (uint32_t r = 0; r < nrows; r++) {
            const uint8_t *rgb = s->rows + (size_t)r * W * 3;
            pattern_row(s, t, y + r, s->rows + (size_t)r * W * 3);
            uint8_t *dst = p0 + (size_t)(y + r) * s->stride[0];
            switch (s->format) {
            case ERT_PIX_RGB24: memcpy(dst, rgb, (size_t)W * 3); break;
            case ERT_PIX_BGR24:
                for (uint32_t x = 0; x < W; x++)
                    dst[3 * x] = rgb[3 * x + 2], dst[3 * x + 1] = rgb[3 * x + 1], dst[3 * x + 2] = rgb[3 * x];
                break;
            case ERT_PIX_GRAY8:
                for (uint32_t x = 0; x < W; x++)
                    dst[x] = (uint8_t)((77u * rgb[3 * x] + 150u * rgb[3 * x + 1] + 29u * rgb[3 * x + 2] + 128u) >> 8);
                break;
            case ERT_PIX_YUV420:
            case ERT_PIX_NV12:
                for (uint32_t x = 0; x < W; x++)
                    dst[x] = ert_rgb_to_y(rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2]);
                break;
            case ERT_PIX_YUYV:
                for (uint32_t x = 0; x < W; x += 2) {
                    const uint8_t *a = rgb + 3 * x, *b = x + 1 < W ? a + 3 : a;
                    uint32_t n = x + 1 < W ? 2 : 1;
                    uint8_t *g = dst + 2 * (size_t)x;
                    g[0] = ert_rgb_to_y(a[0], a[1], a[2]);
                    g[2] = ert_rgb_to_y(b[0], b[1], b[2]);
                    uint32_t sr = a[0], sg = a[1], sb = a[2];
                    if (n == 2)
                        sr += b[0], sg += b[1], sb += b[2];
                    ert_rgb_to_uv(sr, sg, sb, n, &g[1], &g[3]);
                }
                break;
            }
        }
        if (s->format != ERT_PIX_YUV420 && s->format != ERT_PIX_NV12)
            continue;
        uint32_t cy = y / 2;
        for (uint32_t x = 0; x < W; x += 2) {
            uint32_t sr = 0, sg = 0, sb = 0, n = 0;
            for (uint32_t r = 0; r < nrows; r++)
                for (uint32_t dx = 0; dx < 2 && x + dx < W; dx++) {
                    const uint8_t *px = s->rows + (size_t)r * W * 3 + 3 * (size_t)(x + dx);
                    sr += px[0], sg += px[1], sb += px[2], n++;
                }
            uint8_t u, v;
            ert_rgb_to_uv(sr, sg, sb, n, &u, &v);
            if (s->format == ERT_PIX_YUV420) {
                p1[(size_t)cy * s->stride[1] + x / 2] = u;
                p2[(size_t)cy * s->stride[2] + x / 2] = v;
            } else {
                p1[(size_t)cy * s->stride[1] + x] = u;
                p1[(size_t)cy * s->stride[1] + x + 1] = v;
            }
        }
    }
}

static void synthetic_close(void *state)
{
    synthetic *s = state;
    if (!s)
        return;
    if (s->pacer_ok)
        ert_pacer_destroy(&s->pacer);
    free(s->buf);
    free(s->rows);
    free(s);
}

/* Parses "WxH" (each 1..16384) exactly. */
static bool parse_size(const char *str, uint32_t *w, uint32_t *h)
{
    uint32_t v[2] = {0, 0};
    const char *p = str;
    for (int i = 0; i < 2; i++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 5)
                return false;
            v[i] = v[i] * 10 + (uint32_t)(*p++ - '0');
        }
        if (!digits || v[i] == 0 || v[i] > 16384)
            return false;
        if (i == 0 && *p++ != 'x')
            return false;
    }
    if (*p)
        return false;
    *w = v[0], *h = v[1];
    return true;
}

ert_status ert_synthetic_open(const char *args, const ert_source_config *cfg, ert_source *out, ert_error *err)
{
    const char *colon = strchr(args, ':');
    size_t nlen = colon ? (size_t)(colon - args) : strlen(args);
    int pat = -1;
    for (int i = 0; i < 3; i++)
        if (strlen(pattern_names[i]) == nlen && memcmp(pattern_names[i], args, nlen) == 0)
            pat = i;
    if (pat < 0)
        return ert_fail(err, ERT_EINVAL, "synthetic:%s: unknown pattern '%.*s' (bars, checker, noise)", args,
                        (int)(nlen > 64 ? 64 : nlen), args);
    uint32_t w = cfg->width ? cfg->width : 320, h = cfg->height ? cfg->height : 240;
    if (colon && !parse_size(colon + 1, &w, &h))
        return ert_fail(err, ERT_EINVAL, "synthetic:%s: size '%s' is not WxH with both in 1..16384", args, colon + 1);
    if (w > 16384 || h > 16384)
        return ert_fail(err, ERT_EINVAL, "synthetic:%s: size %ux%u is outside 1..16384", args, w, h);
    ert_pixfmt fmt = cfg->format ? cfg->format : ERT_PIX_RGB24;
    if (fmt < ERT_PIX_RGB24 || fmt > ERT_PIX_YUYV)
        return ert_fail(err, ERT_EINVAL, "synthetic:%s: unknown pixel format %d", args, (int)fmt);
    synthetic *s = calloc(1, sizeof *s);
    if (!s)
        return ert_fail(err, ERT_ENOMEM, "synthetic:%s: out of memory", args);
    s->pat = (pattern)pat;
    s->width = w, s->height = h, s->format = fmt;
    s->fps = cfg->fps > 0 ? cfg->fps : cfg->fps < 0 ? 0 : 30;
    ert_status st = ert_pacer_init(&s->pacer, cfg->fps < 0 ? -1 : s->fps, "synthetic", err);
    if (st != ERT_OK) {
        free(s);
        return st;
    }
    s->pacer_ok = true;
    size_t off = 0;
    for (int p = 0; p < 3; p++) {
        size_t row = ert_pixfmt_row_bytes(fmt, w, p);
        if (!row)
            continue;
        s->stride[p] = (uint32_t)((row + 16 + 63) / 64 * 64);
        s->offset[p] = off;
        off += (size_t)s->stride[p] * ert_pixfmt_plane_rows(fmt, h, p);
    }
    out->ops = &ert_synthetic_ops;
    out->state = s;
    return ERT_OK;
}

static size_t total_bytes(const synthetic *s)
{
    size_t n = 0;
    for (int p = 0; p < 3; p++)
        n += (size_t)s->stride[p] * ert_pixfmt_plane_rows(s->format, s->height, p);
    return n;
}

static ert_status synthetic_start(void *state, ert_error *err)
{
    synthetic *s = state;
    if (!s->buf) {
        size_t n = total_bytes(s);
        s->buf = malloc(n);
        s->rows = malloc((size_t)s->width * 6);
        if (!s->buf || !s->rows)
            return ert_fail(err, ERT_ENOMEM, "synthetic: cannot allocate a %ux%u %s frame", s->width, s->height,
                            ert_pixfmt_name(s->format));
        memset(s->buf, 0xA5, n);
    }
    s->seq = 0;
    memset(&s->stats, 0, sizeof s->stats);
    ert_pacer_restart(&s->pacer);
    s->started = true;
    return ERT_OK;
}

static ert_status synthetic_next(void *state, int timeout_ms, ert_frame *frame, ert_source_result *res,
                                 ert_error *err)
{
    synthetic *s = state;
    *res = ERT_SOURCE_END;
    if (!s->started)
        return ert_fail(err, ERT_EINVAL, "synthetic:%s: next() before start()", pattern_names[s->pat]);
    uint64_t t;
    switch (ert_pacer_wait(&s->pacer, timeout_ms, &t)) {
    case ERT_PACE_STOPPED: return ERT_OK;
    case ERT_PACE_TIMEOUT:
        __atomic_store_n(&s->stats.timeouts, s->stats.timeouts + 1, __ATOMIC_RELAXED);
        *res = ERT_SOURCE_TIMEOUT;
        return ERT_OK;
    case ERT_PACE_DUE: break;
    }
    render(s, s->seq);
    memset(frame, 0, sizeof *frame);
    frame->format = s->format;
    frame->width = s->width;
    frame->height = s->height;
    for (int p = 0; p < 3; p++) {
        frame->stride[p] = s->stride[p];
        frame->plane[p] = s->stride[p] ? s->buf + s->offset[p] : NULL;
    }
    frame->seq = s->seq++;
    frame->t_capture_ns = t;
    __atomic_store_n(&s->stats.frames, s->stats.frames + 1, __ATOMIC_RELAXED);
    *res = ERT_SOURCE_FRAME;
    return ERT_OK;
}

static void synthetic_stop(void *state)
{
    ert_pacer_stop(&((synthetic *)state)->pacer);
}

static void synthetic_info(const void *state, ert_source_info *out)
{
    const synthetic *s = state;
    snprintf(out->kind, sizeof out->kind, "synthetic");
    snprintf(out->detail, sizeof out->detail, "%s", pattern_names[s->pat]);
    out->width = s->width;
    out->height = s->height;
    out->format = s->format;
    out->fps = s->fps;
}

void ert_synthetic_stats(const void *state, ert_source_stats *out)
{
    const synthetic *s = state;
    out->frames = __atomic_load_n(&s->stats.frames, __ATOMIC_RELAXED);
    out->timeouts = __atomic_load_n(&s->stats.timeouts, __ATOMIC_RELAXED);
    out->drops = out->errors = 0;
}

const ert_source_ops ert_synthetic_ops = {
    .start = synthetic_start,
    .next = synthetic_next,
    .stop = synthetic_stop,
    .close = synthetic_close,
    .info = synthetic_info,
};
