/* YUV4MPEG2 (.y4m) video: a reader for replaying recorded camera streams and a 4:2:0
 * writer for recording them. Formats and conversions are documented below.
 *
 * Reader:
 * - Header "YUV4MPEG2 W<w> H<h> [F<n>:<d>] [C<colorspace>] ...\n" (at most 4096 bytes;
 *   other tags such as I, A and X are ignored). W and H are required, 1..16384.
 * - C420jpeg, C420mpeg2, C420paldv and C420 (chroma siting differs, the planes do not)
 *   are delivered as ERT_PIX_YUV420 views of the frame buffer; Cmono as ERT_PIX_GRAY8
 *   (the Y samples as they are, no range expansion); C444 is converted to ERT_PIX_RGB24
 *   with the BT.601 limited-range formula of frame.c. No C tag means C420jpeg. Anything
 *   else (C422, C411, 10-bit, alpha) is refused at open.
 * - Frames: "FRAME[ params]\n" (params at most 4096 bytes, ignored) and the planes.
 *   End of file exactly at a frame boundary is the clean end (eof); anything else
 *   (a partial FRAME line or short pixel data) is an error naming the frame number.
 *   After an error, only rewind and close are meaningful.
 * - One buffer is allocated at open; every frame is read into it, so views stay valid
 *   until the next call to next/rewind/close and no frame allocates.
 * - seq counts frames from 0 since open/rewind; t_capture_ns = seq * 1e9 * d / n
 *   rounded to nearest (30 fps when the header has no usable F tag).
 * Writer: C420jpeg (planar I420), BT.601 limited range per frame.c; YUV420 frames are
 * copied untouched, every other format is converted (chroma = 2x2 block average). An
 * RGB frame read back differs by the chroma averaging and, where each 2x2 block has one
 * colour, by at most 2 per channel (rounding of Y, U and V; pinned by the tests). */
#include "embedrt/image.h"

#include "image_internal.h"

#include "embedrt/tensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define Y4M_LINE_MAX 4096

typedef enum y4m_space { SPACE_420, SPACE_444, SPACE_MONO } y4m_space;

struct ert_y4m {
    FILE *fp;
    char *label;
    uint32_t w, h, fps_num, fps_den;
    y4m_space space;
    off_t data_start;
    uint64_t seq;
    size_t frame_bytes;
    uint8_t *buf; /* the planes as stored */
    uint8_t *rgb; /* C444 only: the converted frame */
};

/* Parses all of [s, s+n) as a decimal number 1..999999999 (0 allowed when zero_ok). */
static int parse_uint(const char *s, size_t n, int zero_ok, uint32_t *out)
{
    if (n == 0 || n > 9)
        return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v == 0 && !zero_ok)
        return 0;
    *out = v;
    return 1;
}

/* Reads up to and including '\n' into line (NUL-terminated, without the newline).
 * Returns the length, -1 at EOF before the newline, -2 when longer than cap - 1. */
static long read_line(FILE *fp, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        int c = getc(fp);
        if (c == EOF)
            return -1;
        if (c == '\n')
            break;
        if (n + 1 >= cap)
            return -2;
        line[n++] = (char)c;
    }
    line[n] = '\0';
    return (long)n;
}

static ert_status parse_header(ert_y4m *y, const char *line, ert_error *err)
{
    if (strncmp(line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0'))
        return ert_fail(err, ERT_EFORMAT, "%s: not a YUV4MPEG2 stream (bad signature)", y->label);
    int have_w = 0, have_h = 0;
    const char *space = "420jpeg";
    size_t space_len = 7;
    for (const char *p = line + 9; *p;) {
        while (*p == ' ')
            p++;
        const char *tok = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t)(p - tok);
        if (n == 0)
            break;
        switch (tok[0]) {
        case 'W':
            if (!parse_uint(tok + 1, n - 1, 0, &y->w))
                return ert_fail(err, ERT_EFORMAT, "%s: header tag '%.*s' is not a positive width", y->label, (int)n,
                                tok);
            have_w = 1;
            break;
        case 'H':
            if (!parse_uint(tok + 1, n - 1, 0, &y->h))
                return ert_fail(err, ERT_EFORMAT, "%s: header tag '%.*s' is not a positive height", y->label, (int)n,
                                tok);
            have_h = 1;
            break;
        case 'F': {
            const char *colon = memchr(tok, ':', n);
            uint32_t num, den;
            if (!colon || !parse_uint(tok + 1, (size_t)(colon - tok - 1), 1, &num) ||
                !parse_uint(colon + 1, (size_t)(p - colon - 1), 1, &den))
                return ert_fail(err, ERT_EFORMAT, "%s: header tag '%.*s' is not a frame rate F<num>:<den>", y->label,
                                (int)n, tok);
            y->fps_num = num && den ? num : 0;
            y->fps_den = num && den ? den : 0;
            break;
        }
        case 'C':
            space = tok + 1;
            space_len = n - 1;
            break;
        default: break;
        }
    }
    if (!have_w || !have_h)
        return ert_fail(err, ERT_EFORMAT, "%s: header has no %s tag", y->label, have_w ? "H (height)" : "W (width)");
    if (y->w > ERT_IMAGE_MAX_DIM || y->h > ERT_IMAGE_MAX_DIM || (size_t)y->w * y->h > ERT_IMAGE_MAX_PIXELS)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: frame size %ux%u exceeds the limit of %ux%u", y->label, y->w, y->h,
                        ERT_IMAGE_MAX_DIM, ERT_IMAGE_MAX_DIM);
    static const struct {
        const char *name;
        y4m_space space;
    } spaces[] = {{"420jpeg", SPACE_420}, {"420mpeg2", SPACE_420}, {"420paldv", SPACE_420},
                  {"420", SPACE_420},     {"444", SPACE_444},      {"mono", SPACE_MONO}};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
        if (strlen(spaces[i].name) == space_len && memcmp(spaces[i].name, space, space_len) == 0) {
            y->space = spaces[i].space;
            return ERT_OK;
        }
    return ert_fail(err, ERT_EUNSUPPORTED,
                    "%s: colour space C%.*s is not supported (C420jpeg, C420mpeg2, C420paldv, C420, C444, Cmono are)",
                    y->label, (int)(space_len > 32 ? 32 : space_len), space);
}

static ert_status y4m_fail_open(ert_y4m *y, ert_status st)
{
    ert_y4m_close(y);
    return st;
}

ert_status ert_y4m_open(const char *path, ert_y4m **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "y4m: no output handle");
    *out = NULL;
    if (!path)
        return ert_fail(err, ERT_EINVAL, "y4m: NULL path");
    ert_y4m *y = calloc(1, sizeof *y);
    if (!y || !(y->label = strdup(path))) {
        free(y);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    }
    y->fp = fopen(path, "rb");
    if (!y->fp) {
        int e = errno;
        ert_status st = ert_fail(err, e == ENOENT ? ERT_ENOTFOUND : ERT_EIO, "%s: cannot open (%s)", path, strerror(e));
        return y4m_fail_open(y, st);
    }
    char line[Y4M_LINE_MAX];
    long n = read_line(y->fp, line, sizeof line);
    if (n < 0)
        return y4m_fail_open(y, ert_fail(err, ERT_EFORMAT, "%s: %s", path,
                                         n == -2 ? "header line is longer than 4096 bytes"
                                                 : "not a YUV4MPEG2 stream (no complete header line)"));
    if ((size_t)n != strlen(line))
        return y4m_fail_open(y, ert_fail(err, ERT_EFORMAT, "%s: header line contains a NUL byte", path));
    ert_status st = parse_header(y, line, err);
    if (st != ERT_OK)
        return y4m_fail_open(y, st);
    size_t luma = (size_t)y->w * y->h, cw = ((size_t)y->w + 1) / 2, ch = ((size_t)y->h + 1) / 2;
    y->frame_bytes = y->space == SPACE_MONO ? luma : y->space == SPACE_444 ? 3 * luma : luma + 2 * cw * ch;
    y->buf = malloc(y->frame_bytes);
    if (y->space == SPACE_444 && y->buf)
        y->rgb = malloc(3 * luma);
    if (!y->buf || (y->space == SPACE_444 && !y->rgb))
        return y4m_fail_open(y, ert_fail(err, ERT_ENOMEM, "%s: cannot allocate a %ux%u frame buffer", path, y->w,
                                         y->h));
    y->data_start = ftello(y->fp);
    *out = y;
    return ERT_OK;
}

uint32_t ert_y4m_width(const ert_y4m *y)
{
    return y ? y->w : 0;
}

uint32_t ert_y4m_height(const ert_y4m *y)
{
    return y ? y->h : 0;
}

void ert_y4m_rate(const ert_y4m *y, uint32_t *num, uint32_t *den)
{
    if (num)
        *num = y ? y->fps_num : 0;
    if (den)
        *den = y ? y->fps_den : 0;
}

static uint64_t frame_time_ns(const ert_y4m *y, uint64_t seq)
{
    double num = y->fps_num ? y->fps_num : 30.0, den = y->fps_num ? y->fps_den : 1.0;
    double t = (double)seq * 1e9 * den / num + 0.5;
    return t >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)t;
}

ert_status ert_y4m_next(ert_y4m *y, ert_frame *frame, bool *eof, ert_error *err)
{
    if (!y || !frame || !eof)
        return ert_fail(err, ERT_EINVAL, "y4m next: NULL argument");
    *eof = false;
    memset(frame, 0, sizeof *frame);
    unsigned long long fno = (unsigned long long)y->seq;
    int c = getc(y->fp);
    if (c == EOF) {
        if (ferror(y->fp))
            return ert_fail(err, ERT_EIO, "%s: read error before frame %llu (%s)", y->label, fno, strerror(errno));
        *eof = true;
        return ERT_OK;
    }
    char tag[5] = {(char)c};
    for (int i = 1; i < 5; i++) {
        c = getc(y->fp);
        if (c == EOF)
            return ert_fail(err, ERT_EFORMAT, "%s: frame %llu is truncated (partial FRAME header)", y->label, fno);
        tag[i] = (char)c;
    }
    if (memcmp(tag, "FRAME", 5) != 0)
        return ert_fail(err, ERT_EFORMAT, "%s: frame %llu does not start with FRAME", y->label, fno);
    c = getc(y->fp);
    if (c == ' ') {
        char params[Y4M_LINE_MAX];
        long n = read_line(y->fp, params, sizeof params);
        if (n == -2)
            return ert_fail(err, ERT_EFORMAT, "%s: frame %llu header is longer than 4096 bytes", y->label, fno);
        c = n < 0 ? EOF : '\n';
    }
    if (c != '\n')
        return ert_fail(err, ERT_EFORMAT, "%s: frame %llu is truncated or malformed (FRAME line not ended by newline)",
                        y->label, fno);
    size_t got = fread(y->buf, 1, y->frame_bytes, y->fp);
    if (got != y->frame_bytes) {
        if (ferror(y->fp))
            return ert_fail(err, ERT_EIO, "%s: read error in frame %llu (%s)", y->label, fno, strerror(errno));
        return ert_fail(err, ERT_EFORMAT, "%s: frame %llu is truncated: %zu of %zu bytes", y->label, fno, got,
                        y->frame_bytes);
    }
    uint32_t w = y->w, h = y->h, cw = (w + 1) / 2;
    size_t luma = (size_t)w * h;
    frame->width = w;
    frame->height = h;
    if (y->space == SPACE_420) {
        frame->format = ERT_PIX_YUV420;
        frame->stride[0] = w;
        frame->stride[1] = frame->stride[2] = cw;
        frame->plane[0] = y->buf;
        frame->plane[1] = y->buf + luma;
        frame->plane[2] = y->buf + luma + (size_t)cw * ((h + 1) / 2);
    } else if (y->space == SPACE_MONO) {
        frame->format = ERT_PIX_GRAY8;
        frame->stride[0] = w;
        frame->plane[0] = y->buf;
    } else {
        const uint8_t *py = y->buf, *pu = py + luma, *pv = pu + luma;
        for (size_t i = 0; i < luma; i++)
            ert_yuv_to_rgb(py[i], pu[i], pv[i], y->rgb + 3 * i);
        frame->format = ERT_PIX_RGB24;
        frame->stride[0] = 3 * w;
        frame->plane[0] = y->rgb;
    }
    frame->seq = y->seq;
    frame->t_capture_ns = frame_time_ns(y, y->seq);
    y->seq++;
    return ERT_OK;
}

ert_status ert_y4m_rewind(ert_y4m *y, ert_error *err)
{
    if (!y)
        return ert_fail(err, ERT_EINVAL, "y4m rewind: NULL reader");
    clearerr(y->fp);
    if (y->data_start < 0 || fseeko(y->fp, y->data_start, SEEK_SET) != 0)
        return ert_fail(err, ERT_EIO, "%s: cannot rewind (not a seekable file?)", y->label);
    y->seq = 0;
    return ERT_OK;
}

void ert_y4m_close(ert_y4m *y)
{
    if (!y)
        return;
    if (y->fp)
        fclose(y->fp);
    free(y->buf);
    free(y->rgb);
    free(y->label);
    free(y);
}

/* ---- writer ---- */

struct ert_y4m_writer {
    FILE *fp;
    char *path;
    uint32_t w, h;
    size_t frame_bytes;
    uint64_t frames;
    bool failed;
    uint8_t *yuv; /* one I420 frame */
    uint8_t *rgb; /* two RGB rows */
};

static void writer_free(ert_y4m_writer *w)
{
    if (w->fp)
        fclose(w->fp);
    free(w->yuv);
    free(w->rgb);
    free(w->path);
    free(w);
}

ert_status ert_y4m_create(const char *path, uint32_t width, uint32_t height, uint32_t fps_num, uint32_t fps_den,
                          ert_y4m_writer **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "y4m writer: no output handle");
    *out = NULL;
    if (!path)
        return ert_fail(err, ERT_EINVAL, "y4m writer: NULL path");
    if (width == 0 || height == 0 || width > ERT_IMAGE_MAX_DIM || height > ERT_IMAGE_MAX_DIM)
        return ert_fail(err, ERT_EINVAL, "%s: frame size %ux%u is outside 1..%u", path, width, height,
                        ERT_IMAGE_MAX_DIM);
    if ((fps_num == 0) != (fps_den == 0))
        return ert_fail(err, ERT_EINVAL, "%s: frame rate %u:%u needs both numbers or neither", path, fps_num, fps_den);
    ert_y4m_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    }
    w->w = width;
    w->h = height;
    size_t cw = ((size_t)width + 1) / 2, ch = ((size_t)height + 1) / 2;
    w->frame_bytes = (size_t)width * height + 2 * cw * ch;
    w->yuv = malloc(w->frame_bytes);
    w->rgb = malloc((size_t)width * 6);
    if (!w->yuv || !w->rgb) {
        writer_free(w);
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate a %ux%u frame buffer", path, width, height);
    }
    w->fp = fopen(path, "wb");
    if (!w->fp) {
        int e = errno;
        writer_free(w);
        return ert_fail(err, ERT_EIO, "%s: cannot create (%s)", path, strerror(e));
    }
    char rate[32] = "";
    if (fps_num)
        snprintf(rate, sizeof rate, " F%u:%u", fps_num, fps_den);
    if (fprintf(w->fp, "YUV4MPEG2 W%u H%u%s Ip A1:1 C420jpeg\n", width, height, rate) < 0) {
        int e = errno;
        writer_free(w);
        return ert_fail(err, ERT_EIO, "%s: write failed (%s)", path, strerror(e));
    }
    *out = w;
    return ERT_OK;
}

/* Converts f (not YUV420) into the writer's I420 buffer, two rows at a time. */
static void rgb_frame_to_i420(ert_y4m_writer *w, const ert_frame *f)
{
    uint32_t W = w->w, H = w->h, cw = (W + 1) / 2;
    uint8_t *py = w->yuv, *pu = py + (size_t)W * H, *pv = pu + (size_t)cw * ((H + 1) / 2);
    for (uint32_t y = 0; y < H; y += 2) {
        uint32_t rows = y + 1 < H ? 2 : 1;
        for (uint32_t r = 0; r < rows; r++) {
            const uint8_t *src = w->rgb + (size_t)r * W * 3;
            ert_frame_row_rgb(f, y + r, 0, W, w->rgb + (size_t)r * W * 3);
            for (uint32_t x = 0; x < W; x++)
                py[(size_t)(y + r) * W + x] = ert_rgb_to_y(src[3 * x], src[3 * x + 1], src[3 * x + 2]);
        }
        for (uint32_t cx = 0; cx < cw; cx++) {
            uint32_t sr = 0, sg = 0, sb = 0, n = 0;
            for (uint32_t r = 0; r < rows; r++)
                for (uint32_t x = 2 * cx; x < 2 * cx + 2 && x < W; x++) {
                    const uint8_t *s = w->rgb + ((size_t)r * W + x) * 3;
                    sr += s[0];
                    sg += s[1];
                    sb += s[2];
                    n++;
                }
            size_t at = (size_t)(y / 2) * cw + cx;
            ert_rgb_to_uv(sr, sg, sb, n, &pu[at], &pv[at]);
        }
    }
}

static void copy_i420(ert_y4m_writer *w, const ert_frame *f)
{
    uint32_t W = w->w, H = w->h, cw = (W + 1) / 2, ch = (H + 1) / 2;
    uint8_t *dst = w->yuv;
    for (uint32_t y = 0; y < H; y++, dst += W)
        memcpy(dst, f->plane[0] + (size_t)y * f->stride[0], W);
    for (int p = 1; p < 3; p++)
        for (uint32_t y = 0; y < ch; y++, dst += cw)
            memcpy(dst, f->plane[p] + (size_t)y * f->stride[p], cw);
}

ert_status ert_y4m_write(ert_y4m_writer *w, const ert_frame *f, ert_error *err)
{
    if (!w)
        return ert_fail(err, ERT_EINVAL, "y4m write: NULL writer");
    if (w->failed)
        return ert_fail(err, ERT_EIO, "%s: an earlier write failed", w->path);
    ert_status st = ert_frame_check(f, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "%s: frame %llu", w->path, (unsigned long long)w->frames);
    if (f->width != w->w || f->height != w->h)
        return ert_fail(err, ERT_EINVAL, "%s: frame %llu is %ux%u but the stream is %ux%u", w->path,
                        (unsigned long long)w->frames, f->width, f->height, w->w, w->h);
    if (f->format == ERT_PIX_YUV420)
        copy_i420(w, f);
    else
        rgb_frame_to_i420(w, f);
    if (fputs("FRAME\n", w->fp) < 0 || fwrite(w->yuv, 1, w->frame_bytes, w->fp) != w->frame_bytes) {
        w->failed = true;
        return ert_fail(err, ERT_EIO, "%s: write of frame %llu failed (%s)", w->path, (unsigned long long)w->frames,
                        strerror(errno));
    }
    w->frames++;
    return ERT_OK;
}

ert_status ert_y4m_finish(ert_y4m_writer *w, ert_error *err)
{
    if (!w)
        return ERT_OK;
    bool ok = !w->failed && fflush(w->fp) == 0;
    int e = errno;
    if (fclose(w->fp) != 0 && ok) {
        ok = false;
        e = errno;
    }
    w->fp = NULL;
    ert_status st = ok ? ERT_OK
                       : ert_fail(err, ERT_EIO, "%s: %s", w->path,
                                  w->failed ? "an earlier write failed" : strerror(e));
    writer_free(w);
    return st;
}
