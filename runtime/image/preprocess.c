/* The preprocessing recipe: parse/format of its CLI form, validation against a frame and
 * a graph input, and the per-frame run (separable resize from precomputed tables).
 *
 * Semantics (tests/unit/preprocess_reference.py computes the expected values):
 * 1. Every pixel is converted to 8-bit RGB (YUV: BT.601 limited range, see frame.c).
 * 2. flip=vertical reverses the rows, flip=horizontal the columns.
 * 3. Crop, in the flipped frame: CENTER without a size is the largest centred square,
 *    CENTER with w x h a centred w x h window; the offset is floor((frame - crop) / 2),
 *    so an odd margin leaves the extra pixel on the right/bottom (as TF's central crop;
 *    torchvision rounds half to even and differs when the margin/2 is an odd k + 0.5).
 *    RECT x, y, w, h must lie inside the frame.
 * 4. Resize (to exactly the graph input size), on the float values, per axis with
 *    in = crop size and out = input size:
 *    - bilinear: source coordinate (o + 0.5) * in / out - 0.5, clamped below at 0; the
 *      two neighbours i0 = floor(s) and min(i0 + 1, in - 1) weighted 1 - (s - i0) and
 *      s - i0. No antialiasing: torch.nn.functional.interpolate(mode='bilinear',
 *      align_corners=False) computed in float64 (torch uses a float32 scale).
 *    - nearest: source index floor(o * in / out) in exact integer arithmetic (PyTorch's
 *      'nearest', except where its float32 scale rounds o * in / out below an integer).
 *    - area: output o covers [o * in / out, (o + 1) * in / out); each input pixel i
 *      [i, i + 1) contributes its overlap with that interval times out / in (weights are
 *      exact rationals, summing to 1). For integer factors in / out this is
 *      F.interpolate(mode='area') / adaptive_avg_pool2d; for other ratios it is the exact
 *      box filter (torch instead averages whole pixels floor(o*in/out)..ceil((o+1)*in/out)).
 *      Upscaling takes the one or two pixels under the box.
 *    The horizontal pass runs first (per needed source row), then the vertical one.
 * 5. out = x * scale / std[c] - mean[c] / std[c] (the same as (x * scale - mean) / std
 *    up to float rounding); mean and std are indexed R, G, B.
 * 6. order=bgr writes channel B to plane 0 and R to plane 2. Layout [3][out_h][out_w].
 * run() never allocates: tables, one RGB row and one resized row live in the scratch
 * (ert_preprocess_scratch bytes, any alignment). YUV frames are converted only where
 * the resize reads them (whole rows otherwise). */
#include "embedrt/preprocess.h"

#include "image_internal.h"

#include "embedrt/tensor.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PP_MAX_DIM 32768u

void ert_preprocess_default(ert_preprocess *pp)
{
    *pp = (ert_preprocess){
        .crop = ERT_CROP_NONE,
        .filter = ERT_RESIZE_BILINEAR,
        .scale = 1.0f / 255.0f,
        .mean = {0.0f, 0.0f, 0.0f},
        .std = {1.0f, 1.0f, 1.0f},
        .order = ERT_ORDER_RGB,
        .flip = ERT_FLIP_NONE,
    };
}

/* ---- geometry and scratch layout ---- */

typedef struct pp_plan {
    uint32_t fw, fh;         /* frame */
    uint32_t cx, cy, cw, ch; /* crop window in the flipped frame */
    uint32_t ow, oh;         /* graph input */
    bool identity;           /* crop size == input size: no resampling */
    uint32_t mtx, mty;       /* most taps of one output column / row */
    size_t off_hrow, off_xfirst, off_xcount, off_xw, off_yfirst, off_ycount, off_yw, off_cols;
    size_t bytes; /* scratch needed, including alignment slack */
} pp_plan;

static uint32_t max_taps(ert_resize_filter filter, uint32_t in, uint32_t out)
{
    if (in == out || filter == ERT_RESIZE_NEAREST)
        return 1;
    if (filter == ERT_RESIZE_BILINEAR)
        return 2;
    return in > out ? (in + out - 1) / out + 1 : 2;
}

/* Appends a 64-byte aligned region of n * size bytes; false on overflow. */
static bool region(size_t *at, size_t n, size_t size, size_t *off)
{
    size_t bytes, end;
    if (!ert_mul_size(n, size, &bytes) || !ert_add_size(*at, bytes, &end) || !ert_add_size(end, 63, &end))
        return false;
    *off = *at;
    *at = end & ~(size_t)63;
    return true;
}

static ert_status plan_recipe(const ert_preprocess *pp, uint32_t fw, uint32_t fh, uint32_t ow, uint32_t oh,
                              pp_plan *pl, ert_error *err)
{
    if (!pp)
        return ert_fail(err, ERT_EINVAL, "preprocess: NULL recipe");
    if ((unsigned)pp->crop > ERT_CROP_RECT)
        return ert_fail(err, ERT_EINVAL, "preprocess: unknown crop mode %u", (unsigned)pp->crop);
    if ((unsigned)pp->filter > ERT_RESIZE_NEAREST)
        return ert_fail(err, ERT_EINVAL, "preprocess: unknown resize filter %u", (unsigned)pp->filter);
    if ((unsigned)pp->order > ERT_ORDER_BGR)
        return ert_fail(err, ERT_EINVAL, "preprocess: unknown channel order %u", (unsigned)pp->order);
    if ((unsigned)pp->flip > ERT_FLIP_HORIZONTAL)
        return ert_fail(err, ERT_EINVAL, "preprocess: unknown flip %u", (unsigned)pp->flip);
    if (!isfinite(pp->scale) || pp->scale == 0.0f)
        return ert_fail(err, ERT_EINVAL, "preprocess: scale %g must be finite and non-zero", (double)pp->scale);
    for (int c = 0; c < 3; c++) {
        if (!isfinite(pp->mean[c]))
            return ert_fail(err, ERT_EINVAL, "preprocess: mean[%d] %g must be finite", c, (double)pp->mean[c]);
        if (!isfinite(pp->std[c]) || pp->std[c] == 0.0f)
            return ert_fail(err, ERT_EINVAL, "preprocess: std[%d] %g must be finite and non-zero", c,
                            (double)pp->std[c]);
        /* run() computes x * (scale / std) - mean / std in float */
        float a = pp->scale / pp->std[c], b = pp->mean[c] / pp->std[c];
        if (!isfinite(a * 255.0f) || !isfinite(b) || !isfinite(a * 255.0f - b))
            return ert_fail(err, ERT_EINVAL, "preprocess: scale %g / std[%d] %g and mean[%d] %g overflow float",
                            (double)pp->scale, c, (double)pp->std[c], c, (double)pp->mean[c]);
    }
    if (fw == 0 || fh == 0 || fw > PP_MAX_DIM || fh > PP_MAX_DIM)
        return ert_fail(err, ERT_EINVAL, "preprocess: frame size %ux%u is outside 1..%u", fw, fh, PP_MAX_DIM);
    if (ow == 0 || oh == 0 || ow > PP_MAX_DIM || oh > PP_MAX_DIM)
        return ert_fail(err, ERT_EINVAL, "preprocess: graph input size %ux%u is outside 1..%u", ow, oh, PP_MAX_DIM);
    memset(pl, 0, sizeof *pl);
    pl->fw = fw;
    pl->fh = fh;
    pl->ow = ow;
    pl->oh = oh;
    pl->cw = fw;
    pl->ch = fh;
    if (pp->crop == ERT_CROP_CENTER) {
        if ((pp->crop_w == 0) != (pp->crop_h == 0))
            return ert_fail(err, ERT_EINVAL, "preprocess: centre crop %ux%u needs both sizes or neither", pp->crop_w,
                            pp->crop_h);
        if (pp->crop_w == 0) {
            pl->cw = pl->ch = fw < fh ? fw : fh;
        } else {
            if (pp->crop_w > fw || pp->crop_h > fh)
                return ert_fail(err, ERT_EINVAL, "preprocess: centre crop %ux%u does not fit the %ux%u frame",
                                pp->crop_w, pp->crop_h, fw, fh);
            pl->cw = pp->crop_w;
            pl->ch = pp->crop_h;
        }
        pl->cx = (fw - pl->cw) / 2;
        pl->cy = (fh - pl->ch) / 2;
    } else if (pp->crop == ERT_CROP_RECT) {
        if (pp->crop_w == 0 || pp->crop_h == 0)
            return ert_fail(err, ERT_EINVAL, "preprocess: crop rectangle %ux%u is empty", pp->crop_w, pp->crop_h);
        if ((uint64_t)pp->crop_x + pp->crop_w > fw || (uint64_t)pp->crop_y + pp->crop_h > fh)
            return ert_fail(err, ERT_EINVAL, "preprocess: crop %ux%u at (%u,%u) does not lie inside the %ux%u frame",
                            pp->crop_w, pp->crop_h, pp->crop_x, pp->crop_y, fw, fh);
        pl->cx = pp->crop_x;
        pl->cy = pp->crop_y;
        pl->cw = pp->crop_w;
        pl->ch = pp->crop_h;
    }
    if ((pp->resize_w == 0) != (pp->resize_h == 0))
        return ert_fail(err, ERT_EINVAL, "preprocess: resize to %ux%u needs both sizes or neither", pp->resize_w,
                        pp->resize_h);
    if (pp->resize_w) {
        if (pp->resize_w != ow || pp->resize_h != oh)
            return ert_fail(err, ERT_EINVAL, "preprocess: resize to %ux%u but the graph input is %ux%u", pp->resize_w,
                            pp->resize_h, ow, oh);
    } else if (pl->cw != ow || pl->ch != oh) {
        return ert_fail(err, ERT_EINVAL,
                        "preprocess: the frame is %ux%u after %s but the graph input is %ux%u and the recipe has no "
                        "resize (add resize=%ux%u or a crop)",
                        pl->cw, pl->ch, pp->crop == ERT_CROP_NONE ? "no crop" : "the crop", ow, oh, ow, oh);
    }
    pl->identity = pl->cw == ow && pl->ch == oh;
    size_t at = 64; /* slack to align the caller's pointer */
    size_t off_rgb;
    bool ok = region(&at, pl->cw, 3, &off_rgb);
    if (!pl->identity) {
        pl->mtx = max_taps(pp->filter, pl->cw, ow);
        pl->mty = max_taps(pp->filter, pl->ch, oh);
        ok = ok && region(&at, (size_t)ow * 3, sizeof(float), &pl->off_hrow) &&
             region(&at, ow, sizeof(uint32_t), &pl->off_xfirst) && region(&at, ow, sizeof(uint32_t), &pl->off_xcount) &&
             region(&at, (size_t)ow * pl->mtx, sizeof(float), &pl->off_xw) &&
             region(&at, oh, sizeof(uint32_t), &pl->off_yfirst) && region(&at, oh, sizeof(uint32_t), &pl->off_ycount) &&
             region(&at, (size_t)oh * pl->mty, sizeof(float), &pl->off_yw) &&
             region(&at, pl->cw, sizeof(uint32_t), &pl->off_cols);
    }
    if (!ok)
        return ert_fail(err, ERT_ENOMEM, "preprocess: scratch size for %ux%u -> %ux%u overflows", fw, fh, ow, oh);
    pl->bytes = at;
    return ERT_OK;
}

ert_status ert_preprocess_check(const ert_preprocess *pp, uint32_t frame_w, uint32_t frame_h, uint32_t out_w,
                                uint32_t out_h, ert_error *err)
{
    pp_plan pl;
    return plan_recipe(pp, frame_w, frame_h, out_w, out_h, &pl, err);
}

size_t ert_preprocess_scratch(const ert_preprocess *pp, uint32_t frame_w, uint32_t frame_h, uint32_t out_w,
                              uint32_t out_h)
{
    pp_plan pl;
    if (plan_recipe(pp, frame_w, frame_h, out_w, out_h, &pl, NULL) != ERT_OK)
        return 0;
    return pl.bytes;
}

/* ---- resampling tables ---- */

/* Taps of every output position along one axis: source positions first[o] ..
 * first[o] + count[o] - 1 with weights w[o * mt + k]; mirrored when the axis is read
 * backwards (horizontal flip of the RGB row). */
static void build_taps(ert_resize_filter filter, uint32_t in, uint32_t out, uint32_t mt, bool mirror, uint32_t *first,
                       uint32_t *count, float *w)
{
    for (uint32_t o = 0; o < out; o++) {
        float *wo = w + (size_t)o * mt;
        if (in == out) {
            first[o] = o;
            count[o] = 1;
            wo[0] = 1.0f;
        } else if (filter == ERT_RESIZE_NEAREST) {
            uint64_t i = (uint64_t)o * in / out;
            first[o] = i < in ? (uint32_t)i : in - 1;
            count[o] = 1;
            wo[0] = 1.0f;
        } else if (filter == ERT_RESIZE_BILINEAR) {
            double s = ((double)o + 0.5) * in / out - 0.5;
            if (s < 0)
                s = 0;
            uint32_t i0 = (uint32_t)s;
            if (i0 >= in - 1) {
                first[o] = in - 1;
                count[o] = 1;
                wo[0] = 1.0f;
            } else {
                double l = s - i0;
                first[o] = i0;
                count[o] = 2;
                wo[0] = (float)(1.0 - l);
                wo[1] = (float)l;
            }
        } else {
            /* Area, in units of 1/out pixel: the box is [o*in, (o+1)*in), pixel i is
             * [i*out, (i+1)*out). */
            uint64_t lo = (uint64_t)o * in, hi = lo + in;
            uint64_t i_lo = lo / out, i_hi = (hi + out - 1) / out;
            if (i_hi > in)
                i_hi = in;
            first[o] = (uint32_t)i_lo;
            count[o] = (uint32_t)(i_hi - i_lo);
            for (uint64_t i = i_lo; i < i_hi; i++) {
                uint64_t a = i * out > lo ? i * out : lo, b = (i + 1) * out < hi ? (i + 1) * out : hi;
                wo[i - i_lo] = (float)((double)(b - a) / in);
            }
        }
        if (mirror) {
            first[o] = in - first[o] - count[o];
            for (uint32_t k = 0; k < count[o] / 2; k++) {
                float t = wo[k];
                wo[k] = wo[count[o] - 1 - k];
                wo[count[o] - 1 - k] = t;
            }
        }
    }
}

/* Cropped row r as packed RGB in the frame's own column order: all of it, or only the
 * n_cols columns listed in cols when n_cols > 0; in rgb, or in place for RGB24 frames. */
static const uint8_t *fetch_row(const ert_preprocess *pp, const pp_plan *pl, const ert_frame *f, uint32_t r,
                                const uint32_t *cols, uint32_t n_cols, uint8_t *rgb)
{
    uint32_t y = pp->flip == ERT_FLIP_VERTICAL ? pl->fh - 1 - (pl->cy + r) : pl->cy + r;
    uint32_t x0 = pp->flip == ERT_FLIP_HORIZONTAL ? pl->fw - pl->cx - pl->cw : pl->cx;
    if (f->format == ERT_PIX_RGB24) /* already what we need: read it in place */
        return f->plane[0] + (size_t)y * f->stride[0] + (size_t)x0 * 3;
    if (n_cols)
        ert_frame_cols_rgb(f, y, x0, cols, n_cols, rgb);
    else
        ert_frame_row_rgb(f, y, x0, pl->cw, rgb);
    return rgb;
}

/* The RGB-row columns the horizontal taps read, ascending and unique. Taps move
 * monotonically (backwards when mirrored), so one pass in the right direction suffices. */
static uint32_t needed_columns(const uint32_t *first, const uint32_t *count, uint32_t ow, bool mirror, uint32_t *cols)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ow; i++) {
        uint32_t o = mirror ? ow - 1 - i : i;
        for (uint32_t k = 0; k < count[o]; k++)
            if (n == 0 || first[o] + k > cols[n - 1])
                cols[n++] = first[o] + k;
    }
    return n;
}

static void horizontal(const uint8_t *restrict row, const uint32_t *restrict first, const uint32_t *restrict count,
                       const float *restrict w, uint32_t mt, uint32_t ow, float *restrict out)
{
    for (uint32_t o = 0; o < ow; o++) {
        const uint8_t *s = row + (size_t)first[o] * 3;
        const float *wo = w + (size_t)o * mt;
        float r = 0.0f, g = 0.0f, b = 0.0f;
        for (uint32_t k = 0; k < count[o]; k++) {
            r += wo[k] * s[3 * k];
            g += wo[k] * s[3 * k + 1];
            b += wo[k] * s[3 * k + 2];
        }
        out[3 * o] = r;
        out[3 * o + 1] = g;
        out[3 * o + 2] = b;
    }
}

static void accumulate(const float *restrict h, float wt, uint32_t ow, float *restrict p0, float *restrict p1,
                       float *restrict p2)
{
    for (uint32_t x = 0; x < ow; x++) {
        p0[x] += wt * h[3 * x];
        p1[x] += wt * h[3 * x + 1];
        p2[x] += wt * h[3 * x + 2];
    }
}

ert_status ert_preprocess_run(const ert_preprocess *pp, const ert_frame *f, float *out, uint32_t out_w, uint32_t out_h,
                              void *scratch, size_t scratch_bytes, ert_error *err)
{
    ert_status st = ert_frame_check(f, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "preprocess");
    pp_plan pl;
    st = plan_recipe(pp, f->width, f->height, out_w, out_h, &pl, err);
    if (st != ERT_OK)
        return st;
    if (!out)
        return ert_fail(err, ERT_EINVAL, "preprocess: NULL output");
    if (!scratch || scratch_bytes < pl.bytes)
        return ert_fail(err, ERT_EINVAL, "preprocess: scratch of %zu bytes is below the %zu needed", scratch_bytes,
                        pl.bytes);
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint8_t *rgb = base; /* the RGB row is the first region */
    float a[3], b[3];
    for (int c = 0; c < 3; c++) {
        a[c] = pp->scale / pp->std[c];
        b[c] = -pp->mean[c] / pp->std[c];
    }
    size_t plane = (size_t)out_w * out_h;
    int pc[3] = {0, 1, 2}; /* output plane of channel R, G, B */
    if (pp->order == ERT_ORDER_BGR) {
        pc[0] = 2;
        pc[2] = 0;
    }
    float *P[3] = {out + pc[0] * plane, out + pc[1] * plane, out + pc[2] * plane};
    bool hflip = pp->flip == ERT_FLIP_HORIZONTAL;

    if (pl.identity) {
        for (uint32_t y = 0; y < out_h; y++) {
            const uint8_t *row = fetch_row(pp, &pl, f, y, NULL, 0, rgb);
            for (int c = 0; c < 3; c++) {
                float *restrict dst = P[c] + (size_t)y * out_w;
                const uint8_t *src = row + c;
                float ac = a[c], bc = b[c];
                if (hflip)
                    for (uint32_t x = 0; x < out_w; x++)
                        dst[x] = (float)src[3 * (size_t)(out_w - 1 - x)] * ac + bc;
                else
                    for (uint32_t x = 0; x < out_w; x++)
                        dst[x] = (float)src[3 * (size_t)x] * ac + bc;
            }
        }
        return ERT_OK;
    }

    float *hrow = (float *)(base + pl.off_hrow - 64);
    uint32_t *xfirst = (uint32_t *)(base + pl.off_xfirst - 64), *xcount = (uint32_t *)(base + pl.off_xcount - 64);
    uint32_t *yfirst = (uint32_t *)(base + pl.off_yfirst - 64), *ycount = (uint32_t *)(base + pl.off_ycount - 64);
    float *xw = (float *)(base + pl.off_xw - 64), *yw = (float *)(base + pl.off_yw - 64);
    build_taps(pp->filter, pl.cw, out_w, pl.mtx, hflip, xfirst, xcount, xw);
    build_taps(pp->filter, pl.ch, out_h, pl.mty, false, yfirst, ycount, yw);
    /* Converting YUV costs far more than reading RGB: when a downscale skips some of each
     * row (over 1/8; a gathered pixel costs about one index load more), convert only what
     * it reads. */
    uint32_t *cols = (uint32_t *)(base + pl.off_cols - 64), n_cols = 0;
    if (f->format == ERT_PIX_YUV420 || f->format == ERT_PIX_NV12 || f->format == ERT_PIX_YUYV) {
        n_cols = needed_columns(xfirst, xcount, out_w, hflip, cols);
        if ((uint64_t)n_cols * 8 > (uint64_t)pl.cw * 7)
            n_cols = 0;
    }

    memset(out, 0, 3 * plane * sizeof *out);
    /* Each needed source row is converted and resized horizontally once, then added to
     * every output row whose window holds it; windows are contiguous and move forward. */
    uint32_t lo = 0, r = 0;
    while (lo < out_h) {
        if (r < yfirst[lo])
            r = yfirst[lo];
        const uint8_t *row = fetch_row(pp, &pl, f, r, cols, n_cols, rgb);
        horizontal(row, xfirst, xcount, xw, pl.mtx, out_w, hrow);
        for (uint32_t o = lo; o < out_h && yfirst[o] <= r; o++) {
            uint32_t k = r - yfirst[o];
            if (k < ycount[o]) {
                size_t at = (size_t)o * out_w;
                accumulate(hrow, yw[(size_t)o * pl.mty + k], out_w, P[0] + at, P[1] + at, P[2] + at);
            }
        }
        r++;
        while (lo < out_h && yfirst[lo] + ycount[lo] <= r)
            lo++;
    }
    for (int c = 0; c < 3; c++) {
        float *restrict p = P[c];
        float ac = a[c], bc = b[c];
        for (size_t i = 0; i < plane; i++)
            p[i] = p[i] * ac + bc;
    }
    return ERT_OK;
}

/* ---- the CLI form ---- */

static const char *const filter_names[] = {"bilinear", "area", "nearest"};
static const char *const order_names[] = {"rgb", "bgr"};
static const char *const flip_names[] = {"none", "vertical", "horizontal"};

typedef struct token {
    const char *s;
    size_t n;
} token;

static bool tok_eq(token t, const char *word)
{
    return strlen(word) == t.n && memcmp(t.s, word, t.n) == 0;
}

static ert_status bad(ert_error *err, const char *key, token t, const char *why)
{
    return ert_fail(err, ERT_EINVAL, "preprocess: %s: '%.*s' %s", key, (int)(t.n > 64 ? 64 : t.n), t.s, why);
}

static bool parse_float(token t, float *out)
{
    char buf[64];
    if (t.n == 0 || t.n >= sizeof buf)
        return false;
    memcpy(buf, t.s, t.n);
    buf[t.n] = '\0';
    if (isspace((unsigned char)buf[0]))
        return false;
    char *end;
    float v = strtof(buf, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Decimal size 1..32768 (no sign). */
static bool parse_size(token t, uint32_t *out)
{
    if (t.n == 0 || t.n > 5)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.s[i] < '0' || t.s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(t.s[i] - '0');
    }
    if (v == 0 || v > PP_MAX_DIM)
        return false;
    *out = v;
    return true;
}

/* Offset 0..32767 (no sign). */
static bool parse_offset(token t, uint32_t *out)
{
    if (tok_eq(t, "0")) {
        *out = 0;
        return true;
    }
    return parse_size(t, out) && *out < PP_MAX_DIM;
}

/* "WxH" */
static bool parse_wxh(token t, uint32_t *w, uint32_t *h)
{
    const char *x = memchr(t.s, 'x', t.n);
    if (!x)
        return false;
    token tw = {t.s, (size_t)(x - t.s)}, th = {x + 1, t.n - (size_t)(x - t.s) - 1};
    return parse_size(tw, w) && parse_size(th, h);
}

static int find_name(token t, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (tok_eq(t, names[i]))
            return i;
    return -1;
}

static token trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return (token){s, n};
}

/* The next comma-separated field at *p (trimmed); false at the end of the string. */
static bool next_field(const char **p, token *t)
{
    if (!*p)
        return false;
    const char *comma = strchr(*p, ',');
    size_t n = comma ? (size_t)(comma - *p) : strlen(*p);
    *t = trim(*p, n);
    *p = comma ? comma + 1 : NULL;
    return true;
}

/* Collects the value's remaining numbers for keys taking several: vals[0] is the value
 * after '=', the others are the following fields, which must not be key=value. */
static ert_status more_values(const char **p, const char *key, token first, token *vals, int want, ert_error *err)
{
    vals[0] = first;
    for (int i = 1; i < want; i++) {
        const char *save = *p;
        token t;
        if (!next_field(p, &t) || memchr(t.s, '=', t.n)) {
            *p = save;
            return ert_fail(err, ERT_EINVAL, "preprocess: %s: needs %d comma-separated numbers, got %d", key, want, i);
        }
        vals[i] = t;
    }
    return ERT_OK;
}

ert_status ert_preprocess_parse(const char *spec, ert_preprocess *pp, ert_error *err)
{
    if (!spec || !pp)
        return ert_fail(err, ERT_EINVAL, "preprocess: NULL %s", spec ? "recipe" : "spec");
    ert_preprocess r;
    ert_preprocess_default(&r);
    const char *p = spec;
    token t;
    unsigned seen = 0;
    if (*trim(spec, strlen(spec)).s == '\0') {
        *pp = r;
        return ERT_OK;
    }
    static const char *const keys[] = {"crop", "resize", "scale", "mean", "std", "order", "flip"};
    while (next_field(&p, &t)) {
        if (t.n == 0)
            return ert_fail(err, ERT_EINVAL, "preprocess: empty field in '%s' (stray comma?)", spec);
        const char *eq = memchr(t.s, '=', t.n);
        if (!eq)
            return ert_fail(err, ERT_EINVAL, "preprocess: '%.*s' is not key=value (keys: crop, resize, scale, mean, "
                                             "std, order, flip)", (int)(t.n > 64 ? 64 : t.n), t.s);
        token k = trim(t.s, (size_t)(eq - t.s)), v = trim(eq + 1, t.n - (size_t)(eq - t.s) - 1);
        int ki = find_name(k, keys, 7);
        if (ki < 0)
            return ert_fail(err, ERT_EINVAL,
                            "preprocess: unknown key '%.*s' (keys: crop, resize, scale, mean, std, order, flip)",
                            (int)(k.n > 64 ? 64 : k.n), k.s);
        const char *key = keys[ki];
        if (seen & (1u << ki))
            return ert_fail(err, ERT_EINVAL, "preprocess: %s: given twice", key);
        seen |= 1u << ki;
        token vals[4];
        ert_status st;
        switch (ki) {
        case 0: /* crop */
            if (tok_eq(v, "none")) {
                r.crop = ERT_CROP_NONE;
                r.crop_x = r.crop_y = r.crop_w = r.crop_h = 0;
            } else if (tok_eq(v, "center")) {
                r.crop = ERT_CROP_CENTER;
            } else if (v.n > 7 && memcmp(v.s, "center:", 7) == 0) {
                token sz = {v.s + 7, v.n - 7};
                if (!parse_wxh(sz, &r.crop_w, &r.crop_h))
                    return bad(err, key, v, "is not center:WxH with sizes 1..32768");
                r.crop = ERT_CROP_CENTER;
            } else {
                if ((st = more_values(&p, key, v, vals, 4, err)) != ERT_OK)
                    return st;
                if (!parse_offset(vals[0], &r.crop_x))
                    return bad(err, "crop x", vals[0], "is not an offset 0..32767");
                if (!parse_offset(vals[1], &r.crop_y))
                    return bad(err, "crop y", vals[1], "is not an offset 0..32767");
                if (!parse_size(vals[2], &r.crop_w))
                    return bad(err, "crop width", vals[2], "is not a size 1..32768");
                if (!parse_size(vals[3], &r.crop_h))
                    return bad(err, "crop height", vals[3], "is not a size 1..32768");
                r.crop = ERT_CROP_RECT;
            }
            break;
        case 1: { /* resize */
            if (tok_eq(v, "none")) {
                r.resize_w = r.resize_h = 0;
                break;
            }
            const char *colon = memchr(v.s, ':', v.n);
            token sz = {v.s, colon ? (size_t)(colon - v.s) : v.n};
            if (!parse_wxh(sz, &r.resize_w, &r.resize_h))
                return bad(err, key, v, "is not WxH[:bilinear|area|nearest] with sizes 1..32768");
            if (colon) {
                int fi = find_name((token){colon + 1, v.n - sz.n - 1}, filter_names, 3);
                if (fi < 0)
                    return bad(err, key, v, "has an unknown filter (bilinear, area, nearest)");
                r.filter = (ert_resize_filter)fi;
            }
            break;
        }
        case 2: { /* scale */
            const char *slash = memchr(v.s, '/', v.n);
            float num, den = 1.0f;
            if (slash ? !parse_float((token){v.s, (size_t)(slash - v.s)}, &num) ||
                            !parse_float((token){slash + 1, v.n - (size_t)(slash - v.s) - 1}, &den) || den == 0.0f
                      : !parse_float(v, &num))
                return bad(err, key, v, "is not a finite number or fraction N/D");
            r.scale = slash ? (float)((double)num / den) : num;
            if (r.scale == 0.0f || !isfinite(r.scale))
                return bad(err, key, v, "must be finite and non-zero");
            break;
        }
        case 3:   /* mean */
        case 4: { /* std */
            float *dst = ki == 3 ? r.mean : r.std;
            if ((st = more_values(&p, key, v, vals, 3, err)) != ERT_OK)
                return st;
            for (int c = 0; c < 3; c++) {
                if (!parse_float(vals[c], &dst[c]))
                    return bad(err, key, vals[c], "is not a finite number");
                if (ki == 4 && dst[c] == 0.0f)
                    return bad(err, key, vals[c], "must be non-zero");
            }
            break;
        }
        case 5: { /* order */
            int oi = find_name(v, order_names, 2);
            if (oi < 0)
                return bad(err, key, v, "is not rgb or bgr");
            r.order = (ert_channel_order)oi;
            break;
        }
        default: { /* flip */
            int fi = find_name(v, flip_names, 3);
            if (fi < 0)
                return bad(err, key, v, "is not none, vertical or horizontal");
            r.flip = (ert_flip)fi;
            break;
        }
        }
    }
    *pp = r;
    return ERT_OK;
}

static const char *name_or(const char *const *names, unsigned n, unsigned i)
{
    return i < n ? names[i] : "invalid";
}

void ert_preprocess_format(const ert_preprocess *pp, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    if (!pp)
        return;
    char crop[64], resize[64];
    if (pp->crop == ERT_CROP_CENTER && pp->crop_w == 0 && pp->crop_h == 0)
        snprintf(crop, sizeof crop, "center");
    else if (pp->crop == ERT_CROP_CENTER)
        snprintf(crop, sizeof crop, "center:%ux%u", pp->crop_w, pp->crop_h);
    else if (pp->crop == ERT_CROP_RECT)
        snprintf(crop, sizeof crop, "%u,%u,%u,%u", pp->crop_x, pp->crop_y, pp->crop_w, pp->crop_h);
    else
        snprintf(crop, sizeof crop, pp->crop == ERT_CROP_NONE ? "none" : "invalid");
    if (pp->resize_w || pp->resize_h)
        snprintf(resize, sizeof resize, "%ux%u:%s", pp->resize_w, pp->resize_h,
                 name_or(filter_names, 3, (unsigned)pp->filter));
    else
        snprintf(resize, sizeof resize, "none");
    snprintf(buf, cap, "crop=%s,resize=%s,scale=%.9g,mean=%.9g,%.9g,%.9g,std=%.9g,%.9g,%.9g,order=%s,flip=%s", crop,
             resize, (double)pp->scale, (double)pp->mean[0], (double)pp->mean[1], (double)pp->mean[2],
             (double)pp->std[0], (double)pp->std[1], (double)pp->std[2], name_or(order_names, 2, (unsigned)pp->order),
             name_or(flip_names, 3, (unsigned)pp->flip));
}
