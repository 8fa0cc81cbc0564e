/* Still images: PPM/PGM parsed here, PNG through libspng, JPEG through libjpeg-turbo;
 * binary PPM writing and frame -> packed RGB conversion.
 *
 * Decoding rules (pinned by tests/unit/test_image.c):
 * - Format by magic bytes: "P6" PPM, "P5" PGM, "\x89PNG" PNG, FF D8 FF JPEG.
 * - Width and height must be 1..16384 (smaller in fuzzing builds, to keep the fuzzer
 *   fast) and are checked before anything is allocated.
 * - PPM/PGM: maxval 1..65535; samples are rescaled to 8 bits as
 *   (v * 255 + maxval / 2) / maxval (integer division; identity for maxval 255; 16-bit
 *   samples are big-endian); a sample above maxval is an error. Bytes after the raster
 *   (further images of a multi-image file) are ignored.
 * - PNG: decoded by libspng to 8-bit RGB (16-bit samples as spng converts them, palette
 *   expanded, alpha and tRNS dropped, no gamma); grey and grey+alpha images become GRAY8.
 *   Chunk CRC and zlib errors in image data, truncation, and images whose declared size
 *   cannot come from so few bytes (more than 32768 output bytes per input byte: deflate
 *   inflates at most 1032:1, 1-bit pixels expand 24:1 to RGB) are errors.
 * - JPEG: libjpeg-turbo defaults (islow DCT, fancy upsampling, the same as PIL); greyscale
 *   files become GRAY8, YCbCr/RGB become RGB24, CMYK/YCCK are unsupported. libjpeg's
 *   warnings (corrupt data, premature end of file) are errors here: a robot must not act
 *   on a half-grey picture. Errors never reach stderr; more than 500 progressive scans,
 *   or more working memory than twice the output plus 64 MiB, are refused. */
#include "embedrt/image.h"

#include "image_internal.h"

#include "embedrt/file.h"
#include "embedrt/tensor.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>

static const char *lbl(const char *label)
{
    return label ? label : "<memory>";
}

/* Where decoded pixels go: buf NULL allocates them (ert_image owns them); otherwise the
 * caller's cap bytes hold them (ert_image_decode_into) and nothing is allocated. */
typedef struct image_dest {
    uint8_t *buf;
    size_t cap;
} image_dest;

/* Releases out's pixels when it owns them. */
static void image_drop(ert_image *out, const image_dest *dst)
{
    if (dst->buf)
        memset(out, 0, sizeof *out);
    else
        ert_image_free(out);
}

/* Checks the size and allocates (or takes from dst) the packed pixel buffer (channels 1
 * or 3) of out. */
static ert_status image_alloc(ert_image *out, uint64_t w, uint64_t h, int channels, const char *label,
                              const image_dest *dst, ert_error *err)
{
    if (w == 0 || h == 0)
        return ert_fail(err, ERT_EFORMAT, "%s: image size %llux%llu is empty", label, (unsigned long long)w,
                        (unsigned long long)h);
    if (w > ERT_IMAGE_MAX_DIM || h > ERT_IMAGE_MAX_DIM)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: image size %llux%llu exceeds the limit of %ux%u", label,
                        (unsigned long long)w, (unsigned long long)h, ERT_IMAGE_MAX_DIM, ERT_IMAGE_MAX_DIM);
    size_t px, bytes;
    if (!ert_mul_size((size_t)w, (size_t)h, &px) || px > ERT_IMAGE_MAX_PIXELS || !ert_mul_size(px, 3, &bytes))
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: image size %llux%llu has too many pixels", label,
                        (unsigned long long)w, (unsigned long long)h);
    size_t need = channels == 3 ? bytes : px;
    if (dst->buf && need > dst->cap)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: image size %llux%llu needs %zu bytes, the frame buffer holds %zu",
                        label, (unsigned long long)w, (unsigned long long)h, need, dst->cap);
    out->pixels = dst->buf ? dst->buf : malloc(need);
    if (!out->pixels)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate %llux%llu pixels", label, (unsigned long long)w,
                        (unsigned long long)h);
    out->frame = (ert_frame){
        .format = channels == 3 ? ERT_PIX_RGB24 : ERT_PIX_GRAY8,
        .width = (uint32_t)w,
        .height = (uint32_t)h,
        .stride = {(uint32_t)w * (uint32_t)channels, 0, 0},
        .plane = {out->pixels, NULL, NULL},
    };
    return ERT_OK;
}

void ert_image_free(ert_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ---- PPM / PGM ---- */

static int pnm_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and comments (which need at least one whitespace or comment before
 * them), then reads a decimal number of at most 6 digits. */
static int pnm_number(const uint8_t *d, size_t len, size_t *pos, uint32_t *val)
{
    size_t p = *pos;
    int sep = 0;
    while (p < len && (pnm_space(d[p]) || d[p] == '#')) {
        if (d[p] == '#')
            while (p < len && d[p] != '\n' && d[p] != '\r')
                p++;
        else
            p++;
        sep = 1;
    }
    if (!sep || p >= len || d[p] < '0' || d[p] > '9')
        return 0;
    uint32_t v = 0;
    int digits = 0;
    while (p < len && d[p] >= '0' && d[p] <= '9') {
        if (++digits > 6)
            return 0;
        v = v * 10 + (uint32_t)(d[p] - '0');
        p++;
    }
    *pos = p;
    *val = v;
    return 1;
}

static ert_status decode_pnm(const uint8_t *d, size_t len, const char *label, ert_image *out, const image_dest *dst,
                             ert_error *err)
{
    int channels = d[1] == '6' ? 3 : 1;
    const char *kind = channels == 3 ? "PPM" : "PGM";
    size_t pos = 2;
    uint32_t w, h, maxval;
    if (!pnm_number(d, len, &pos, &w) || !pnm_number(d, len, &pos, &h) || !pnm_number(d, len, &pos, &maxval))
        return ert_fail(err, ERT_EFORMAT, "%s: %s header is malformed or truncated (need width, height, maxval)", label,
                        kind);
    if (pos >= len || !pnm_space(d[pos]))
        return ert_fail(err, ERT_EFORMAT, "%s: %s header must end with one whitespace after maxval", label, kind);
    pos++;
    if (maxval == 0 || maxval > 65535)
        return ert_fail(err, ERT_EFORMAT, "%s: %s maxval %u is outside 1..65535", label, kind, maxval);
    if (w == 0 || h == 0 || w > ERT_IMAGE_MAX_DIM || h > ERT_IMAGE_MAX_DIM)
        return image_alloc(out, w, h, channels, label, dst, err); /* reports the size error */
    size_t bps = maxval > 255 ? 2 : 1, n = (size_t)w * h * (size_t)channels, need = n * bps;
    if (len - pos < need)
        return ert_fail(err, ERT_EFORMAT, "%s: %s is truncated: %zu of %zu pixel bytes", label, kind, len - pos, need);
    ert_status st = image_alloc(out, w, h, channels, label, dst, err);
    if (st != ERT_OK)
        return st;
    const uint8_t *s = d + pos;
    if (maxval == 255) {
        memcpy(out->pixels, s, n);
        return ERT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t v = bps == 2 ? (uint32_t)s[2 * i] << 8 | s[2 * i + 1] : s[i];
        if (v > maxval) {
            image_drop(out, dst);
            return ert_fail(err, ERT_EFORMAT, "%s: %s sample %zu is %u, above maxval %u", label, kind, i, v, maxval);
        }
        out->pixels[i] = (uint8_t)((v * 255u + maxval / 2) / maxval);
    }
    return ERT_OK;
}

/* ---- PNG (libspng) ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* spng stops reading at the IEND type: check that the whole IEND chunk, CRC included,
 * is in the file, so that a cut anywhere counts as truncation. */
static bool png_has_iend(const uint8_t *d, size_t len)
{
    size_t at = 8;
    while (len - at >= 12) {
        uint32_t n = be32(d + at);
        if (memcmp(d + at + 4, "IEND", 4) == 0)
            return n == 0 && be32(d + at + 8) == 0xAE426082u;
        if (n > len - at - 12)
            return false;
        at += 12 + (size_t)n;
    }
    return false;
}

static ert_status decode_png(const uint8_t *d, size_t len, const char *label, ert_image *out, const image_dest *dst,
                             ert_error *err)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot create a PNG decoder", label);
    ert_status st = ERT_OK;
    int rc = spng_set_image_limits(ctx, ERT_IMAGE_MAX_DIM, ERT_IMAGE_MAX_DIM);
    /* Text and ICC chunks are decompressed into memory: bound them like the pixels. */
    if (!rc)
        rc = spng_set_chunk_limits(ctx, (size_t)1 << 20, (size_t)4 << 20);
    /* spng only reads the buffer; its API takes a non-const pointer. */
    if (!rc)
        rc = spng_set_png_buffer(ctx, (void *)(uintptr_t)d, len);
    struct spng_ihdr ihdr;
    if (!rc)
        rc = spng_get_ihdr(ctx, &ihdr);
    if (rc) {
        if (rc == SPNG_EUSER_WIDTH || rc == SPNG_EUSER_HEIGHT)
            st = ert_fail(err, ERT_EUNSUPPORTED, "%s: PNG size exceeds the limit of %ux%u (%s)", label,
                          ERT_IMAGE_MAX_DIM, ERT_IMAGE_MAX_DIM, spng_strerror(rc));
        else
            st = ert_fail(err, ERT_EFORMAT, "%s: PNG header: %s", label, spng_strerror(rc));
        spng_ctx_free(ctx);
        return st;
    }
    int gray = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE || ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
    size_t want = 0, bound;
    if (!ert_mul_size(len, 32768, &bound))
        bound = SIZE_MAX;
    if (spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &want) != 0 ||
        want != (size_t)ihdr.width * ihdr.height * 3) {
        st = ert_fail(err, ERT_EFORMAT, "%s: PNG: unexpected decoded size for %ux%u", label, ihdr.width, ihdr.height);
    } else if (want > bound) {
        st = ert_fail(err, ERT_EFORMAT, "%s: PNG declares %ux%u pixels, more than %zu bytes can hold", label, ihdr.width,
                      ihdr.height, len);
    } else {
        st = image_alloc(out, ihdr.width, ihdr.height, 3, label, dst, err);
    }
    if (st == ERT_OK) {
        rc = spng_decode_image(ctx, out->pixels, want, SPNG_FMT_RGB8, 0);
        /* Read on to IEND: a file cut after its pixel data is still truncated. */
        if (!rc)
            rc = spng_decode_chunks(ctx);
        if (rc || !png_has_iend(d, len)) {
            image_drop(out, dst);
            st = ert_fail(err, ERT_EFORMAT, "%s: PNG: %s", label, rc ? spng_strerror(rc) : "truncated IEND chunk");
        }
    }
    spng_ctx_free(ctx);
    if (st == ERT_OK && gray) {
        size_t n = (size_t)ihdr.width * ihdr.height;
        for (size_t i = 0; i < n; i++)
            out->pixels[i] = out->pixels[3 * i];
        out->frame.format = ERT_PIX_GRAY8;
        out->frame.stride[0] = ihdr.width;
        uint8_t *shrunk = dst->buf ? NULL : realloc(out->pixels, n);
        if (shrunk)
            out->pixels = shrunk;
        out->frame.plane[0] = out->pixels;
    }
    return st;
}

/* ---- JPEG (libjpeg-turbo) ---- */

typedef struct jpeg_guard {
    struct jpeg_error_mgr mgr;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX + 64];
} jpeg_guard;

static void jpeg_on_error(j_common_ptr c)
{
    jpeg_guard *g = (jpeg_guard *)c->err;
    c->err->format_message(c, g->msg);
    longjmp(g->jump, 1);
}

static void jpeg_on_message(j_common_ptr c, int level)
{
    /* Negative levels are warnings about corrupt data; positive ones are traces. */
    if (level < 0)
        jpeg_on_error(c);
}

static void jpeg_no_output(j_common_ptr c)
{
    (void)c;
}

static void jpeg_on_progress(j_common_ptr c)
{
    /* Each progressive scan touches the whole coefficient buffer: thousands of tiny scans
     * turn a small file into minutes of CPU. */
    if (c->is_decompressor && ((j_decompress_ptr)c)->input_scan_number > 500) {
        jpeg_guard *g = (jpeg_guard *)c->err;
        snprintf(g->msg, sizeof g->msg, "more than 500 progressive scans");
        longjmp(g->jump, 1);
    }
}

static ert_status decode_jpeg(const uint8_t *d, size_t len, const char *label, ert_image *out, const image_dest *dst,
                              ert_error *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_guard g;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&g, 0, sizeof g);
    cinfo.err = jpeg_std_error(&g.mgr);
    g.mgr.error_exit = jpeg_on_error;
    g.mgr.emit_message = jpeg_on_message;
    g.mgr.output_message = jpeg_no_output;
    g.progress.progress_monitor = jpeg_on_progress;
    /* Written after setjmp and read after longjmp: must live in memory, not a register. */
    volatile ert_status st = ERT_OK;
    volatile int created = 0;
    if (setjmp(g.jump)) {
        if (created)
            jpeg_destroy_decompress(&cinfo);
        image_drop(out, dst);
        if (st == ERT_OK)
            st = ert_fail(err, ERT_EFORMAT, "%s: JPEG: %s", label, g.msg);
        return st;
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    cinfo.progress = &g.progress;
    /* unsigned long is at least as wide as size_t on every Linux ABI. */
    jpeg_mem_src(&cinfo, d, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        st = ert_fail(err, ERT_EFORMAT, "%s: JPEG has tables but no image", label);
        longjmp(g.jump, 1);
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        st = ert_fail(err, ERT_EUNSUPPORTED, "%s: CMYK JPEG is not supported (RGB, YCbCr and greyscale are)", label);
        longjmp(g.jump, 1);
    }
    int channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    ert_status a = image_alloc(out, cinfo.image_width, cinfo.image_height, channels, label, dst, err);
    if (a != ERT_OK) {
        st = a;
        longjmp(g.jump, 1);
    }
    size_t bytes = (size_t)out->frame.stride[0] * out->frame.height;
    size_t cap = bytes < (size_t)LONG_MAX / 4 ? 2 * bytes + ((size_t)64 << 20) : (size_t)LONG_MAX / 2;
    cinfo.mem->max_memory_to_use = (long)(cap < (size_t)LONG_MAX ? cap : (size_t)LONG_MAX);
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width != out->frame.width || cinfo.output_height != out->frame.height ||
        cinfo.output_components != channels) {
        st = ert_fail(err, ERT_EFORMAT, "%s: JPEG decoder output %ux%ux%d does not match the header", label,
                      cinfo.output_width, cinfo.output_height, cinfo.output_components);
        longjmp(g.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out->pixels + (size_t)cinfo.output_scanline * out->frame.stride[0];
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            st = ert_fail(err, ERT_EFORMAT, "%s: JPEG stopped at row %u of %u", label, cinfo.output_scanline,
                          cinfo.output_height);
            longjmp(g.jump, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return ERT_OK;
}

/* ---- entry points ---- */

static ert_status image_decode(const void *data, size_t len, const char *label, ert_image *out, const image_dest *dst,
                               ert_error *err)
{
    label = lbl(label);
    if (!out)
        return ert_fail(err, ERT_EINVAL, "%s: no output image", label);
    memset(out, 0, sizeof *out);
    const uint8_t *d = data;
    if (!d && len)
        return ert_fail(err, ERT_EINVAL, "%s: NULL data", label);
    if (len >= 3 && d[0] == 'P' && (d[1] == '5' || d[1] == '6'))
        return decode_pnm(d, len, label, out, dst, err);
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return decode_png(d, len, label, out, dst, err);
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return decode_jpeg(d, len, label, out, dst, err);
    return ert_fail(err, ERT_EFORMAT, "%s: not a PPM (P6), PGM (P5), PNG or JPEG file", label);
}

ert_status ert_image_decode(const void *data, size_t len, const char *label, ert_image *out, ert_error *err)
{
    const image_dest dst = {NULL, 0};
    return image_decode(data, len, label, out, &dst, err);
}

ert_status ert_image_decode_into(const void *data, size_t len, const char *label, uint8_t *buf, size_t cap,
                                 ert_frame *out, ert_error *err)
{
    if (!out || !buf)
        return ert_fail(err, ERT_EINVAL, "%s: no output frame or buffer", lbl(label));
    memset(out, 0, sizeof *out);
    const image_dest dst = {buf, cap};
    ert_image img;
    ert_status st = image_decode(data, len, label, &img, &dst, err);
    if (st == ERT_OK)
        *out = img.frame;
    return st;
}

ert_status ert_image_read_into(const char *path, uint8_t *buf, size_t cap, ert_frame *out, ert_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path)
        return ert_fail(err, ERT_EINVAL, "image: NULL path");
    ert_file_map m;
    ert_status st = ert_file_map_open(path, &m, err);
    if (st != ERT_OK)
        return st;
    st = ert_image_decode_into(m.data, m.size, path, buf, cap, out, err);
    ert_file_map_close(&m);
    return st;
}

ert_status ert_image_read(const char *path, ert_image *out, ert_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path)
        return ert_fail(err, ERT_EINVAL, "image: NULL path");
    ert_file_map m;
    ert_status st = ert_file_map_open(path, &m, err);
    if (st != ERT_OK)
        return st;
    st = ert_image_decode(m.data, m.size, path, out, err);
    ert_file_map_close(&m);
    return st;
}

ert_status ert_frame_to_rgb(const ert_frame *f, uint8_t *dst, ert_error *err)
{
    ert_status st = ert_frame_check(f, err);
    if (st != ERT_OK)
        return st;
    if (!dst)
        return ert_fail(err, ERT_EINVAL, "frame to RGB: NULL destination");
    for (uint32_t y = 0; y < f->height; y++)
        ert_frame_row_rgb(f, y, 0, f->width, dst + (size_t)y * f->width * 3);
    return ERT_OK;
}

ert_status ert_image_write_ppm(const char *path, const ert_frame *f, ert_error *err)
{
    if (!path)
        return ert_fail(err, ERT_EINVAL, "PPM: NULL path");
    ert_status st = ert_frame_check(f, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "%s", path);
    size_t row = (size_t)f->width * 3;
    uint8_t *buf = malloc(row);
    if (!buf)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate a %zu-byte row", path, row);
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        int e = errno;
        free(buf);
        return ert_fail(err, ERT_EIO, "%s: cannot create (%s)", path, strerror(e));
    }
    int ok = fprintf(fp, "P6\n%u %u\n255\n", f->width, f->height) > 0;
    for (uint32_t y = 0; ok && y < f->height; y++) {
        ert_frame_row_rgb(f, y, 0, f->width, buf);
        ok = fwrite(buf, 1, row, fp) == row;
    }
    int e = errno;
    free(buf);
    if (fclose(fp) != 0 && ok) {
        e = errno;
        ok = 0;
    }
    if (!ok)
        return ert_fail(err, ERT_EIO, "%s: write failed (%s)", path, strerror(e));
    return ERT_OK;
}
