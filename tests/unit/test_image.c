/* Unit tests: image. Frames and colour conversion, image decoding (PIL fixtures), y4m
 * reading and writing, and the preprocessing recipe against tests/unit/preprocess_reference.py. */
#include "harness.h"

#include "embedrt/image.h"
#include "embedrt/npy.h"
#include "embedrt/preprocess.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h> /* before jpeglib.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <jpeglib.h>

/* ---- helpers ---- */

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[2][160];
    static int which;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/ert-image-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
    }
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
    return path[which];
}

/* Removes the temporary directory and everything in it (end of each test using it). */
static void cleanup_tmp(void)
{
    if (!tmpdir[0])
        return;
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char p[400];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static uint8_t *fixture_bytes(const char *name, size_t *len)
{
    char rel[128];
    snprintf(rel, sizeof rel, "image/%s", name);
    return read_all(ert_test_fixture(rel), len);
}

static ert_npy fixture_npy(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "image/%s", name);
    ert_npy n;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_npy_read(ert_test_fixture(rel), &n, &err), ERT_OK);
    return n;
}

static ert_frame rgb_frame(const uint8_t *px, uint32_t w, uint32_t h, uint32_t stride)
{
    return (ert_frame){.format = ERT_PIX_RGB24, .width = w, .height = h, .stride = {stride}, .plane = {px}};
}

/* The RGB of one Y, U, V sample through the public API (a 1x1 I420 frame). */
static void yuv1(uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3])
{
    ert_frame f = {.format = ERT_PIX_YUV420, .width = 1, .height = 1, .stride = {1, 1, 1}, .plane = {&y, &u, &v}};
    ert_error err;
    CU_ASSERT_EQUAL(ert_frame_to_rgb(&f, rgb, &err), ERT_OK);
}

/* ---- frames and colour ---- */

static void test_pixfmt_names_are_stable(void)
{
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name(ERT_PIX_RGB24), "rgb24");
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name(ERT_PIX_BGR24), "bgr24");
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name(ERT_PIX_GRAY8), "gray8");
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name(ERT_PIX_YUV420), "yuv420");
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name(ERT_PIX_NV12), "nv12");
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name(ERT_PIX_YUYV), "yuyv");
    CU_ASSERT_STRING_EQUAL(ert_pixfmt_name((ert_pixfmt)99), "unknown");
}

static void test_frame_check_rejects_inconsistent_frames(void)
{
    static uint8_t buf[4096];
    ert_error err;
    ert_frame f = {.format = ERT_PIX_YUV420, .width = 7, .height = 5, .stride = {7, 4, 4}, .plane = {buf, buf, buf}};
    CU_ASSERT_EQUAL(ert_frame_check(&f, &err), ERT_OK);
    f.stride[1] = 3; /* chroma rows need ceil(7/2) = 4 bytes */
    CU_ASSERT_EQUAL(ert_frame_check(&f, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "frame: yuv420 plane 1 stride 3 is below its row size 4 (width 7)");
    f.stride[1] = 4;
    f.plane[2] = NULL;
    CU_ASSERT_EQUAL(ert_frame_check(&f, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "frame: yuv420 plane 2 is NULL");
    ert_frame y = {.format = ERT_PIX_YUYV, .width = 7, .height = 1, .stride = {14}, .plane = {buf}};
    CU_ASSERT_EQUAL(ert_frame_check(&y, &err), ERT_EINVAL); /* 4 whole Y0,U,Y1,V groups = 16 bytes */
    y.stride[0] = 16;
    CU_ASSERT_EQUAL(ert_frame_check(&y, &err), ERT_OK);
    ert_frame n = {.format = ERT_PIX_NV12, .width = 5, .height = 3, .stride = {5, 5}, .plane = {buf, buf}};
    CU_ASSERT_EQUAL(ert_frame_check(&n, &err), ERT_EINVAL); /* interleaved U,V of 3 samples = 6 bytes */
    n.stride[1] = 6;
    CU_ASSERT_EQUAL(ert_frame_check(&n, &err), ERT_OK);
    ert_frame r = rgb_frame(buf, 0, 1, 3);
    CU_ASSERT_EQUAL(ert_frame_check(&r, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "frame: rgb24 size 0x1 is outside 1..32768");
    r = rgb_frame(buf, 32769, 1, 3 * 32769);
    CU_ASSERT_EQUAL(ert_frame_check(&r, &err), ERT_EINVAL);
    r = rgb_frame(buf, 4, 1, 11);
    CU_ASSERT_EQUAL(ert_frame_check(&r, &err), ERT_EINVAL);
    r.format = (ert_pixfmt)0;
    CU_ASSERT_EQUAL(ert_frame_check(&r, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "frame: unknown pixel format 0");
    CU_ASSERT_EQUAL(ert_frame_check(NULL, &err), ERT_EINVAL);
}

/* Known values: tests/fixtures/image/yuv_cases.txt from preprocess_reference.py. */
static void test_yuv_to_rgb_known_values(void)
{
    FILE *f = fopen(ert_test_fixture("image/yuv_cases.txt"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned y, u, v, r, g, b;
    int rows = 0;
    while (fscanf(f, "%u %u %u %u %u %u", &y, &u, &v, &r, &g, &b) == 6) {
        uint8_t got[3];
        yuv1((uint8_t)y, (uint8_t)u, (uint8_t)v, got);
        CU_ASSERT(got[0] == r && got[1] == g && got[2] == b);
        rows++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(rows, 12);
    /* the anchors of limited range, by hand */
    uint8_t px[3];
    yuv1(16, 128, 128, px);
    CU_ASSERT(px[0] == 0 && px[1] == 0 && px[2] == 0);
    yuv1(235, 128, 128, px);
    CU_ASSERT(px[0] == 255 && px[1] == 255 && px[2] == 255);
}

/* Every Y, U, V combination against the real-valued formula rounded to nearest: the
 * integer definition agrees except on exact halves (which it rounds up). */
static void test_yuv_to_rgb_sweep_matches_formula(void)
{
    /* 512x512 I420: chroma sample (cx, cy) = (U, V); the four luma pixels of each block
     * take Y = 4k .. 4k+3 for k = 0..63 over 64 frames. */
    const uint32_t W = 512, H = 512;
    uint8_t *yp = malloc(W * H), *up = malloc(256 * 256), *vp = malloc(256 * 256), *rgb = malloc(W * H * 3);
    CU_ASSERT_FATAL(yp && up && vp && rgb);
    for (uint32_t i = 0; i < 256 * 256; i++) {
        up[i] = (uint8_t)(i % 256);
        vp[i] = (uint8_t)(i / 256);
    }
    ert_frame f = {.format = ERT_PIX_YUV420, .width = W, .height = H, .stride = {W, 256, 256}, .plane = {yp, up, vp}};
    long worse = 0, off_by_one = 0;
    for (int k = 0; k < 64; k++) {
        for (uint32_t yy = 0; yy < H; yy++)
            for (uint32_t x = 0; x < W; x++)
                yp[yy * W + x] = (uint8_t)(4 * k + (yy % 2) * 2 + x % 2);
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_frame_to_rgb(&f, rgb, &err), ERT_OK);
        for (uint32_t i = 0; i < W * H; i++) {
            double Y = yp[i] - 16.0, U = up[(i / W / 2) * 256 + (i % W) / 2] - 128.0,
                   V = vp[(i / W / 2) * 256 + (i % W) / 2] - 128.0;
            double want[3] = {1.164383 * Y + 1.596027 * V, 1.164383 * Y - 0.391762 * U - 0.812968 * V,
                              1.164383 * Y + 2.017232 * U};
            for (int c = 0; c < 3; c++) {
                double w = floor(want[c] + 0.5);
                w = w < 0 ? 0 : w > 255 ? 255 : w;
                double d = fabs(rgb[3 * i + c] - w);
                worse += d > 1;
                off_by_one += d == 1 && fabs(want[c] - floor(want[c]) - 0.5) > 1e-9;
            }
        }
    }
    CU_ASSERT_EQUAL(worse, 0);
    CU_ASSERT_EQUAL(off_by_one, 0);
    free(yp), free(up), free(vp), free(rgb);
}

/* Frame of w x h in any format, built from logical Y/U/V (chroma at half resolution)
 * with strides padded by 5 bytes of 0xAA; returns the owning buffer. */
static uint8_t *build_frame(ert_pixfmt fmt, uint32_t w, uint32_t h, const uint8_t *Y, const uint8_t *U,
                            const uint8_t *V, const uint8_t *rgb, ert_frame *f)
{
    uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
    uint8_t *buf = malloc(16384);
    memset(buf, 0xAA, 16384);
    *f = (ert_frame){.format = fmt, .width = w, .height = h};
    switch (fmt) {
    case ERT_PIX_RGB24:
    case ERT_PIX_BGR24:
        f->stride[0] = 3 * w + 5;
        f->plane[0] = buf;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    buf[y * f->stride[0] + 3 * x + (fmt == ERT_PIX_BGR24 ? 2 - c : c)] = rgb[(y * w + x) * 3 + c];
        break;
    case ERT_PIX_GRAY8:
        f->stride[0] = w + 5;
        f->plane[0] = buf;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                buf[y * f->stride[0] + x] = Y[y * w + x];
        break;
    case ERT_PIX_YUV420: {
        f->stride[0] = w + 5;
        f->stride[1] = cw + 5;
        f->stride[2] = cw + 6;
        f->plane[0] = buf;
        f->plane[1] = buf + 4096;
        f->plane[2] = buf + 8192;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                buf[y * f->stride[0] + x] = Y[y * w + x];
        for (uint32_t y = 0; y < ch; y++)
            for (uint32_t x = 0; x < cw; x++) {
                buf[4096 + y * f->stride[1] + x] = U[y * cw + x];
                buf[8192 + y * f->stride[2] + x] = V[y * cw + x];
            }
        break;
    }
    case ERT_PIX_NV12:
        f->stride[0] = w + 5;
        f->stride[1] = 2 * cw + 5;
        f->plane[0] = buf;
        f->plane[1] = buf + 4096;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                buf[y * f->stride[0] + x] = Y[y * w + x];
        for (uint32_t y = 0; y < ch; y++)
            for (uint32_t x = 0; x < cw; x++) {
                buf[4096 + y * f->stride[1] + 2 * x] = U[y * cw + x];
                buf[4096 + y * f->stride[1] + 2 * x + 1] = V[y * cw + x];
            }
        break;
    case ERT_PIX_YUYV:
        /* horizontal chroma only: the frame's rows y and y^1 share nothing, so take
         * U/V of the row pair like the others */
        f->stride[0] = 4 * cw + 5;
        f->plane[0] = buf;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint8_t *g = buf + y * f->stride[0] + 4 * (x / 2);
                g[2 * (x % 2)] = Y[y * w + x];
                g[1] = U[(y / 2) * cw + x / 2];
                g[3] = V[(y / 2) * cw + x / 2];
            }
        break;
    }
    return buf;
}

static void test_frame_to_rgb_every_format_odd_sizes_padded_strides(void)
{
    enum { W = 7, H = 5, CW = 4, CH = 3 };
    uint8_t Y[W * H], U[CW * CH], V[CW * CH], rgb[W * H * 3];
    for (int i = 0; i < W * H; i++)
        Y[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < CW * CH; i++) {
        U[i] = (uint8_t)(i * 53 + 40);
        V[i] = (uint8_t)(250 - i * 29);
    }
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (uint8_t)(i * 13 + 7);
    ert_pixfmt fmts[] = {ERT_PIX_RGB24, ERT_PIX_BGR24, ERT_PIX_GRAY8, ERT_PIX_YUV420, ERT_PIX_NV12, ERT_PIX_YUYV};
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        ert_frame f;
        uint8_t *buf = build_frame(fmts[k], W, H, Y, U, V, rgb, &f);
        uint8_t got[W * H * 3 + 1];
        got[W * H * 3] = 0x5C;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_frame_to_rgb(&f, got, &err), ERT_OK);
        CU_ASSERT_EQUAL(got[W * H * 3], 0x5C);
        int bad = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint8_t want[3];
                const uint8_t *g = got + (y * W + x) * 3;
                if (fmts[k] == ERT_PIX_RGB24 || fmts[k] == ERT_PIX_BGR24)
                    memcpy(want, rgb + (y * W + x) * 3, 3);
                else if (fmts[k] == ERT_PIX_GRAY8)
                    want[0] = want[1] = want[2] = Y[y * W + x];
                else
                    yuv1(Y[y * W + x], U[(y / 2) * CW + x / 2], V[(y / 2) * CW + x / 2], want);
                bad += memcmp(g, want, 3) != 0;
            }
        CU_ASSERT_EQUAL(bad, 0);
        free(buf);
    }
    ert_error err;
    CU_ASSERT_EQUAL(ert_frame_to_rgb(NULL, rgb, &err), ERT_EINVAL);
}

/* ---- image files ---- */

static void expect_image(const ert_image *img, const ert_npy *want, ert_pixfmt fmt)
{
    uint32_t ch = fmt == ERT_PIX_GRAY8 ? 1 : 3;
    CU_ASSERT_EQUAL(img->frame.format, fmt);
    CU_ASSERT_EQUAL_FATAL(want->dtype, ERT_DT_U8);
    CU_ASSERT_EQUAL(img->frame.height, (uint32_t)want->shape.dims[0]);
    CU_ASSERT_EQUAL(img->frame.width, (uint32_t)want->shape.dims[1]);
    CU_ASSERT_EQUAL(img->frame.stride[0], img->frame.width * ch);
    CU_ASSERT_PTR_EQUAL(img->frame.plane[0], img->pixels);
    CU_ASSERT_EQUAL_FATAL(want->nbytes, (size_t)img->frame.width * img->frame.height * ch);
    CU_ASSERT_EQUAL(memcmp(img->pixels, want->data, want->nbytes), 0);
}

static void test_image_decodes_ppm_and_pgm(void)
{
    static const char ppm[] = "P6\n# a comment\n3 2 # trailing comment\n255\n"
                              "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12";
    ert_image img;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_image_decode(ppm, sizeof ppm - 1, "a.ppm", &img, &err), ERT_OK);
    CU_ASSERT_EQUAL(img.frame.format, ERT_PIX_RGB24);
    CU_ASSERT(img.frame.width == 3 && img.frame.height == 2 && img.frame.stride[0] == 9);
    CU_ASSERT(img.pixels[0] == 1 && img.pixels[17] == 18);
    ert_image_free(&img);
    CU_ASSERT_PTR_NULL(img.pixels);
    /* maxval 15: v * 255 / 15 rounded; PGM -> GRAY8 */
    static const char pgm[] = "P5 2 2 15\n\x00\x01\x07\x0f";
    CU_ASSERT_EQUAL_FATAL(ert_image_decode(pgm, sizeof pgm - 1, "a.pgm", &img, &err), ERT_OK);
    CU_ASSERT_EQUAL(img.frame.format, ERT_PIX_GRAY8);
    CU_ASSERT(img.pixels[0] == 0 && img.pixels[1] == 17 && img.pixels[2] == 119 && img.pixels[3] == 255);
    ert_image_free(&img);
    /* 16-bit samples, big-endian: (v * 255 + 500) / 1000 */
    static const char pgm16[] = "P5 2 1 1000\n\x03\xe8\x01\xf4";
    CU_ASSERT_EQUAL_FATAL(ert_image_decode(pgm16, sizeof pgm16 - 1, "b.pgm", &img, &err), ERT_OK);
    CU_ASSERT(img.pixels[0] == 255 && img.pixels[1] == 128);
    ert_image_free(&img);
    static const char above[] = "P5 2 1 15\n\x01\x10";
    CU_ASSERT_EQUAL(ert_image_decode(above, sizeof above - 1, "c.pgm", &img, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "c.pgm: PGM sample 1 is 16, above maxval 15");
    CU_ASSERT_PTR_NULL(img.pixels);
}

static void test_image_decodes_png_like_pil(void)
{
    static const struct {
        const char *file, *npy;
        ert_pixfmt fmt;
    } cases[] = {
        {"dec_rgb.png", "dec_rgb.npy", ERT_PIX_RGB24},
        {"dec_rgba.png", "dec_rgb.npy", ERT_PIX_RGB24}, /* alpha dropped */
        {"dec_palette.png", "dec_palette.npy", ERT_PIX_RGB24},
        {"dec_gray.png", "dec_gray.npy", ERT_PIX_GRAY8},
        {"dec_gray16.png", "dec_gray16.npy", ERT_PIX_GRAY8}, /* high byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "image/%s", cases[i].file);
        ert_image img;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_image_read(ert_test_fixture(rel), &img, &err), ERT_OK);
        ert_npy want = fixture_npy(cases[i].npy);
        expect_image(&img, &want, cases[i].fmt);
        ert_npy_free(&want);
        ert_image_free(&img);
    }
}

/* PIL decodes with the same libjpeg-turbo and defaults: the pixels are identical. */
static void test_image_decodes_jpeg_exactly_like_pil(void)
{
    static const char *names[] = {"dec_baseline", "dec_progressive", "dec_444", "dec_grayjpg"};
    for (size_t i = 0; i < 4; i++) {
        char file[64], npy[64];
        snprintf(file, sizeof file, "%s.jpg", names[i]);
        snprintf(npy, sizeof npy, "%s.npy", names[i]);
        size_t len;
        uint8_t *data = fixture_bytes(file, &len);
        ert_image img;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_image_decode(data, len, file, &img, &err), ERT_OK);
        ert_npy want = fixture_npy(npy);
        expect_image(&img, &want, i == 3 ? ERT_PIX_GRAY8 : ERT_PIX_RGB24);
        ert_npy_free(&want);
        ert_image_free(&img);
        free(data);
    }
}

static void test_image_rejects_every_truncation(void)
{
    static const char *files[] = {"dec_rgb.png", "dec_gray16.png", "dec_baseline.jpg", "dec_progressive.jpg",
                                  "pp_src.ppm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        uint8_t *data = fixture_bytes(files[i], &len);
        int accepted = 0, unlabelled = 0;
        for (size_t n = 0; n < len; n++) {
            uint8_t *cut = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
            memcpy(cut, data, n);
            ert_image img;
            ert_error err;
            if (ert_image_decode(cut, n, files[i], &img, &err) == ERT_OK) {
                accepted++;
                ert_image_free(&img);
            } else {
                unlabelled += strncmp(err.msg, files[i], strlen(files[i])) != 0;
                CU_ASSERT_PTR_NULL(img.pixels);
            }
            free(cut);
        }
        CU_ASSERT_EQUAL(accepted, 0);
        CU_ASSERT_EQUAL(unlabelled, 0);
        free(data);
    }
}

static void test_image_rejects_corrupt_data(void)
{
    ert_image img;
    ert_error err;
    size_t len;
    uint8_t *png = fixture_bytes("dec_rgb.png", &len);
    png[len / 2] ^= 0x55; /* inside IDAT: the chunk CRC no longer matches */
    CU_ASSERT_EQUAL(ert_image_decode(png, len, "bad.png", &img, &err), ERT_EFORMAT);
    CU_ASSERT_NSTRING_EQUAL(err.msg, "bad.png: PNG", 12);
    free(png);

    uint8_t *jpg = fixture_bytes("dec_baseline.jpg", &len);
    /* a reserved marker in the middle of the entropy-coded data */
    jpg[len - 40] = 0xFF;
    jpg[len - 39] = 0xC8;
    CU_ASSERT_EQUAL(ert_image_decode(jpg, len, "bad.jpg", &img, &err), ERT_EFORMAT);
    CU_ASSERT_NSTRING_EQUAL(err.msg, "bad.jpg: JPEG: ", 15);
    free(jpg);

    static const char gif[] = "GIF89a\x01\x00\x01\x00";
    CU_ASSERT_EQUAL(ert_image_decode(gif, sizeof gif - 1, "x.gif", &img, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "x.gif: not a PPM (P6), PGM (P5), PNG or JPEG file");
    static const char nospace[] = "P6 1 1 255";
    CU_ASSERT_EQUAL(ert_image_decode(nospace, sizeof nospace - 1, "n.ppm", &img, &err), ERT_EFORMAT);
    static const char zero[] = "P6 1 1 0\n\x01\x02\x03";
    CU_ASSERT_EQUAL(ert_image_decode(zero, sizeof zero - 1, "z.ppm", &img, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "z.ppm: PPM maxval 0 is outside 1..65535");
    CU_ASSERT_EQUAL(ert_image_read(tmp_path("missing.png"), &img, &err), ERT_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing.png: cannot open"));
    cleanup_tmp();
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void test_image_rejects_oversized_before_allocating(void)
{
    ert_image img;
    ert_error err;
    static const char ppm[] = "P6 16385 1 255\n";
    CU_ASSERT_EQUAL(ert_image_decode(ppm, sizeof ppm - 1, "big.ppm", &img, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_STRING_EQUAL(err.msg, "big.ppm: image size 16385x1 exceeds the limit of 16384x16384");
    static const char huge[] = "P6 99999999 1 255\n";
    CU_ASSERT_EQUAL(ert_image_decode(huge, sizeof huge - 1, "huge.ppm", &img, &err), ERT_EFORMAT);
    /* 16384 x 16384 claimed by a few bytes: refused without allocating 768 MiB */
    static const char short_ppm[] = "P6 16384 16384 255\n\x01\x02";
    CU_ASSERT_EQUAL(ert_image_decode(short_ppm, sizeof short_ppm - 1, "s.ppm", &img, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "s.ppm: PPM is truncated: 2 of 805306368 pixel bytes");

    size_t len;
    uint8_t *png = fixture_bytes("dec_rgb.png", &len);
    put_be32(png + 16, 20000); /* IHDR width, then a valid CRC over "IHDR" + data */
    put_be32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    CU_ASSERT_EQUAL(ert_image_decode(png, len, "wide.png", &img, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_NSTRING_EQUAL(err.msg, "wide.png: PNG size exceeds the limit of 16384x16384", 51);
    put_be32(png + 16, 16384); /* allowed size, but 348 bytes cannot inflate to 16384 * 7 * 3 */
    put_be32(png + 20, 16384);
    put_be32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    CU_ASSERT_EQUAL(ert_image_decode(png, len, "bomb.png", &img, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than 348 bytes can hold"));
    free(png);

    uint8_t *jpg = fixture_bytes("dec_baseline.jpg", &len);
    size_t sof = 2;
    while (sof + 9 < len && !(jpg[sof] == 0xFF && jpg[sof + 1] == 0xC0))
        sof++;
    CU_ASSERT_FATAL(sof + 9 < len);
    jpg[sof + 7] = 0x40; /* width 0x4001 = 16385 */
    jpg[sof + 8] = 0x01;
    CU_ASSERT_EQUAL(ert_image_decode(jpg, len, "wide.jpg", &img, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_STRING_EQUAL(err.msg, "wide.jpg: image size 16385x13 exceeds the limit of 16384x16384");
    free(jpg);
}

/* A valid progressive JPEG with 631 scans (DC, then each AC coefficient alone, sent in
 * 10 successive-approximation passes), written with libjpeg's own encoder. */
static uint8_t *jpeg_with_many_scans(unsigned long *len)
{
    static jpeg_scan_info scans[1 + 63 * 10];
    int n = 0;
    scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .component_index = {0}, .Ss = 0, .Se = 0, .Ah = 0, .Al = 0};
    for (int k = 1; k <= 63; k++) {
        scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .Ss = k, .Se = k, .Ah = 0, .Al = 9};
        for (int a = 9; a >= 1; a--)
            scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .Ss = k, .Se = k, .Ah = a, .Al = a - 1};
    }
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    uint8_t *buf = NULL;
    jpeg_mem_dest(&c, &buf, len);
    c.image_width = 8;
    c.image_height = 8;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    c.scan_info = scans;
    c.num_scans = n;
    jpeg_start_compress(&c, TRUE);
    uint8_t row[8] = {0, 200, 30, 255, 90, 10, 160, 70};
    for (int y = 0; y < 8; y++) {
        JSAMPROW r = row;
        row[y] ^= 0x5A;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return buf;
}

static void test_image_refuses_jpeg_with_too_many_scans(void)
{
    unsigned long len = 0;
    uint8_t *jpg = jpeg_with_many_scans(&len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jpg);
    ert_image img;
    ert_error err;
    CU_ASSERT_EQUAL(ert_image_decode(jpg, len, "scans.jpg", &img, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "scans.jpg: JPEG: more than 500 progressive scans");
    CU_ASSERT_PTR_NULL(img.pixels);
    free(jpg);
}

static void test_ppm_write_read_roundtrip(void)
{
    enum { W = 5, H = 3, S = 19 };
    uint8_t px[S * H];
    for (int i = 0; i < S * H; i++)
        px[i] = (uint8_t)(i * 31);
    ert_frame f = rgb_frame(px, W, H, S);
    ert_error err;
    const char *path = tmp_path("rt.ppm");
    CU_ASSERT_EQUAL_FATAL(ert_image_write_ppm(path, &f, &err), ERT_OK);
    ert_image img;
    CU_ASSERT_EQUAL_FATAL(ert_image_read(path, &img, &err), ERT_OK);
    CU_ASSERT(img.frame.width == W && img.frame.height == H && img.frame.format == ERT_PIX_RGB24);
    for (int y = 0; y < H; y++)
        CU_ASSERT_EQUAL(memcmp(img.pixels + y * W * 3, px + y * S, W * 3), 0);
    ert_image_free(&img);

    /* any format is written as its RGB conversion */
    uint8_t Y[35], U[12], V[12], rgb[105] = {0}, want[105];
    for (int i = 0; i < 35; i++)
        Y[i] = (uint8_t)(i * 7 + 20);
    for (int i = 0; i < 12; i++)
        U[i] = (uint8_t)(90 + i * 9), V[i] = (uint8_t)(200 - i * 11);
    ert_frame yf;
    uint8_t *buf = build_frame(ERT_PIX_NV12, 7, 5, Y, U, V, rgb, &yf);
    CU_ASSERT_EQUAL(ert_frame_to_rgb(&yf, want, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_image_write_ppm(path, &yf, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_image_read(path, &img, &err), ERT_OK);
    CU_ASSERT_EQUAL(memcmp(img.pixels, want, sizeof want), 0);
    ert_image_free(&img);
    free(buf);
    cleanup_tmp();
    CU_ASSERT_EQUAL(ert_image_write_ppm("/nonexistent-dir/x.ppm", &f, &err), ERT_EIO);
    CU_ASSERT_NSTRING_EQUAL(err.msg, "/nonexistent-dir/x.ppm: cannot create", 37);
}

/* ---- y4m ---- */

static void test_y4m_writer_converts_rgb_exactly(void)
{
    /* WRITER_FRAME of preprocess_reference.py and its Y, U, V (3x3: edge blocks average
     * 2 pixels, the corner block 1) */
    static const uint8_t px[27] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0,  0,
                                   128, 64, 32, 10, 200, 30, 90, 90, 90, 250, 128, 5};
    static const uint8_t want[17] = {81, 145, 41, 235, 16, 84, 122, 93, 145, 100, 172, 105, 56, 133, 134, 92, 190};
    ert_frame f = rgb_frame(px, 3, 3, 9);
    ert_y4m_writer *w;
    ert_error err;
    const char *path = tmp_path("w.y4m");
    CU_ASSERT_EQUAL_FATAL(ert_y4m_create(path, 3, 3, 25, 1, &w, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_write(w, &f, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_finish(w, &err), ERT_OK);
    size_t len;
    uint8_t *data = read_all(path, &len);
    static const char head[] = "YUV4MPEG2 W3 H3 F25:1 Ip A1:1 C420jpeg\nFRAME\n";
    CU_ASSERT_EQUAL_FATAL(len, sizeof head - 1 + 17);
    CU_ASSERT_EQUAL(memcmp(data, head, sizeof head - 1), 0);
    CU_ASSERT_EQUAL(memcmp(data + sizeof head - 1, want, 17), 0);
    free(data);
    cleanup_tmp();
}

/* Round trip RGB -> y4m -> RGB on content that is constant over 2x2 blocks (so chroma
 * averaging loses nothing): only rounding remains, |error| <= 2 (Y, U and V each off by
 * at most 1/2 code; B = 1.164 dY + 2.017 dU moves by at most 1.59 before its rounding). */
static void test_y4m_write_read_roundtrip_420(void)
{
    enum { W = 9, H = 7, N = 3 };
    uint8_t px[N][W * H * 3];
    for (int k = 0; k < N; k++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++)
                    px[k][(y * W + x) * 3 + c] = (uint8_t)((x / 2) * 41 + (y / 2) * 67 + c * 85 + k * 29);
    const char *path = tmp_path("rt.y4m");
    ert_y4m_writer *w;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_create(path, W, H, 30000, 1001, &w, &err), ERT_OK);
    for (int k = 0; k < N; k++) {
        ert_frame f = rgb_frame(px[k], W, H, W * 3);
        CU_ASSERT_EQUAL(ert_y4m_write(w, &f, &err), ERT_OK);
    }
    CU_ASSERT_EQUAL(ert_y4m_finish(w, &err), ERT_OK);
    ert_y4m *y;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    CU_ASSERT(ert_y4m_width(y) == W && ert_y4m_height(y) == H);
    uint32_t num, den;
    ert_y4m_rate(y, &num, &den);
    CU_ASSERT(num == 30000 && den == 1001);
    int maxd = 0;
    for (int k = 0; k < N; k++) {
        ert_frame f;
        bool eof;
        CU_ASSERT_EQUAL_FATAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
        CU_ASSERT_FATAL(!eof);
        CU_ASSERT_EQUAL(f.format, ERT_PIX_YUV420);
        CU_ASSERT_EQUAL(f.seq, (uint64_t)k);
        CU_ASSERT_EQUAL(f.t_capture_ns, (uint64_t)llround(k * 1e9 * 1001 / 30000)); /* 0, 33366667, 66733333 */
        uint8_t got[W * H * 3];
        CU_ASSERT_EQUAL(ert_frame_to_rgb(&f, got, &err), ERT_OK);
        for (int i = 0; i < W * H * 3; i++) {
            int d = abs((int)got[i] - px[k][i]);
            maxd = d > maxd ? d : maxd;
        }
    }
    CU_ASSERT(maxd <= 2);
    CU_ASSERT(maxd >= 1); /* the conversion is not secretly lossless */
    ert_frame f;
    bool eof;
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(eof);
    ert_y4m_close(y);
    cleanup_tmp();
}

static void test_y4m_yuv420_frames_pass_through_exactly(void)
{
    enum { W = 7, H = 5 };
    uint8_t Y[W * H], U[12], V[12], rgb[W * H * 3] = {0};
    for (int i = 0; i < W * H; i++)
        Y[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 12; i++)
        U[i] = (uint8_t)(i * 21), V[i] = (uint8_t)(255 - i * 19);
    ert_frame in;
    uint8_t *buf = build_frame(ERT_PIX_YUV420, W, H, Y, U, V, rgb, &in);
    const char *path = tmp_path("pass.y4m");
    ert_y4m_writer *w;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_create(path, W, H, 0, 0, &w, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_write(w, &in, &err), ERT_OK);
    ert_frame small = rgb_frame(rgb, 3, 3, 9);
    CU_ASSERT_EQUAL(ert_y4m_write(w, &small, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "frame 1 is 3x3 but the stream is 7x5"));
    CU_ASSERT_EQUAL(ert_y4m_finish(w, &err), ERT_OK);
    ert_y4m *y;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    uint32_t num = 1, den = 1;
    ert_y4m_rate(y, &num, &den);
    CU_ASSERT(num == 0 && den == 0);
    ert_frame f;
    bool eof;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(f.stride[0] == W && f.stride[1] == 4 && f.stride[2] == 4);
    for (int r = 0; r < H; r++)
        CU_ASSERT_EQUAL(memcmp(f.plane[0] + r * W, Y + r * W, W), 0);
    CU_ASSERT_EQUAL(memcmp(f.plane[1], U, 12), 0);
    CU_ASSERT_EQUAL(memcmp(f.plane[2], V, 12), 0);
    CU_ASSERT_EQUAL(f.t_capture_ns, 0);
    ert_y4m_close(y);
    free(buf);
    cleanup_tmp();
}

/* A y4m file from a header and n frames of frame_bytes each (byte i of frame k = k*31+i),
 * optionally cut short by `cut` bytes. */
static const char *make_y4m(const char *name, const char *header, const char *frame_line, int n,
                            size_t frame_bytes, size_t cut)
{
    size_t cap = strlen(header) + (size_t)n * (strlen(frame_line) + frame_bytes) + 1;
    uint8_t *b = malloc(cap);
    size_t len = 0;
    memcpy(b, header, strlen(header));
    len += strlen(header);
    for (int k = 0; k < n; k++) {
        memcpy(b + len, frame_line, strlen(frame_line));
        len += strlen(frame_line);
        for (size_t i = 0; i < frame_bytes; i++)
            b[len++] = (uint8_t)(k * 31 + i);
    }
    const char *path = tmp_path(name);
    write_file(path, b, len - cut);
    free(b);
    return path;
}

static void test_y4m_reads_every_colour_space(void)
{
    static const char *i420[] = {"C420jpeg", "C420mpeg2", "C420paldv", "C420", ""};
    ert_error err;
    for (int i = 0; i < 5; i++) {
        char header[128];
        snprintf(header, sizeof header, "YUV4MPEG2 W5 H3 F25:1 It A1:1 %s XYSCSS=420JPEG XCOLORRANGE=LIMITED\n",
                 i420[i]);
        const char *path = make_y4m("cs.y4m", header, "FRAME Ixyz Xabc\n", 2, 15 + 2 * 6, 0);
        ert_y4m *y;
        CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
        ert_frame f;
        bool eof;
        CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
        CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
        CU_ASSERT(!eof && f.format == ERT_PIX_YUV420 && f.width == 5 && f.height == 3);
        CU_ASSERT(f.plane[0][0] == 31 && f.plane[1][0] == 46 && f.plane[2][5] == (uint8_t)(31 + 26));
        CU_ASSERT_EQUAL(f.t_capture_ns, 40000000u);
        CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
        CU_ASSERT(eof);
        ert_y4m_close(y);
    }
    /* mono: the raw Y samples as GRAY8; no F tag: 0/0, timestamps at 30 fps */
    const char *path = make_y4m("mono.y4m", "YUV4MPEG2 W4 H2 Cmono\n", "FRAME\n", 2, 8, 0);
    ert_y4m *y;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    ert_frame f;
    bool eof;
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(f.format == ERT_PIX_GRAY8 && f.stride[0] == 4 && f.plane[0][7] == 38);
    CU_ASSERT_EQUAL(f.t_capture_ns, 33333333u);
    ert_y4m_close(y);
    /* 4:4:4: converted to RGB24 with the same formula as every YUV frame */
    path = make_y4m("444.y4m", "YUV4MPEG2 W3 H2 F30:1 C444\n", "FRAME\n", 1, 18, 0);
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(f.format == ERT_PIX_RGB24 && f.stride[0] == 9);
    for (int i = 0; i < 6; i++) {
        uint8_t want[3];
        yuv1((uint8_t)i, (uint8_t)(6 + i), (uint8_t)(12 + i), want);
        CU_ASSERT_EQUAL(memcmp(f.plane[0] + 3 * i, want, 3), 0);
    }
    ert_y4m_close(y);
    path = make_y4m("422.y4m", "YUV4MPEG2 W4 H2 C422\n", "FRAME\n", 1, 16, 0);
    CU_ASSERT_EQUAL(ert_y4m_open(path, &y, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "colour space C422 is not supported"));
    cleanup_tmp();
}

static void test_y4m_eof_truncation_and_rewind(void)
{
    ert_error err;
    ert_frame f;
    bool eof;
    ert_y4m *y;
    /* two whole frames and 5 bytes of the third: frames 0 and 1, then an error naming 2 */
    const char *path = make_y4m("cut.y4m", "YUV4MPEG2 W4 H2 F10:1\n", "FRAME\n", 3, 12, 7);
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT_EQUAL(f.seq, 1);
    CU_ASSERT_EQUAL(f.t_capture_ns, 100000000u);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cut.y4m: frame 2 is truncated: 5 of 12 bytes"));
    /* rewind restarts at frame 0 with the same pixels */
    CU_ASSERT_EQUAL(ert_y4m_rewind(y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(!eof && f.seq == 0 && f.t_capture_ns == 0 && f.plane[0][3] == 3 && f.plane[2][1] == 11);
    ert_y4m_close(y);
    /* cut inside the FRAME line */
    path = make_y4m("cut2.y4m", "YUV4MPEG2 W4 H2\n", "FRAME\n", 2, 12, 12 + 3);
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "frame 1 is truncated (partial FRAME header)"));
    ert_y4m_close(y);
    /* garbage where a frame should start */
    path = make_y4m("junk.y4m", "YUV4MPEG2 W4 H2\n", "FRAMX\n", 1, 12, 0);
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "frame 0 does not start with FRAME"));
    ert_y4m_close(y);
    /* a header and no frames: eof at once, and again after rewind */
    path = make_y4m("empty.y4m", "YUV4MPEG2 W4 H2\n", "FRAME\n", 0, 12, 0);
    CU_ASSERT_EQUAL_FATAL(ert_y4m_open(path, &y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(eof);
    CU_ASSERT_EQUAL(ert_y4m_rewind(y, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_y4m_next(y, &f, &eof, &err), ERT_OK);
    CU_ASSERT(eof);
    ert_y4m_close(y);
    cleanup_tmp();
}

static void test_y4m_rejects_bad_headers(void)
{
    static const struct {
        const char *header, *msg;
        ert_status st;
    } cases[] = {
        {"YUV4MPEG W4 H2\n", "not a YUV4MPEG2 stream (bad signature)", ERT_EFORMAT},
        {"YUV4MPEG2 W4\n", "header has no H (height) tag", ERT_EFORMAT},
        {"YUV4MPEG2 H4\n", "header has no W (width) tag", ERT_EFORMAT},
        {"YUV4MPEG2 W0 H2\n", "header tag 'W0' is not a positive width", ERT_EFORMAT},
        {"YUV4MPEG2 W-4 H2\n", "header tag 'W-4' is not a positive width", ERT_EFORMAT},
        {"YUV4MPEG2 W16385 H2\n", "frame size 16385x2 exceeds the limit of 16384x16384", ERT_EUNSUPPORTED},
        {"YUV4MPEG2 W4 H2 F25\n", "header tag 'F25' is not a frame rate F<num>:<den>", ERT_EFORMAT},
        {"YUV4MPEG2 W4 H2 C420p10\n", "colour space C420p10 is not supported", ERT_EUNSUPPORTED},
        {"YUV4MPEG2 W4 H2", "no complete header line", ERT_EFORMAT},
        {"", "no complete header line", ERT_EFORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = tmp_path("bad.y4m");
        write_file(path, cases[i].header, strlen(cases[i].header));
        ert_y4m *y = (ert_y4m *)1;
        ert_error err;
        CU_ASSERT_EQUAL(ert_y4m_open(path, &y, &err), cases[i].st);
        CU_ASSERT_PTR_NULL(y);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].msg));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad.y4m: "));
        unlink(path);
    }
    char *longh = malloc(5000);
    memset(longh, 'X', 5000);
    memcpy(longh, "YUV4MPEG2 W4 H2 ", 16);
    longh[4999] = '\n';
    const char *path = tmp_path("long.y4m");
    write_file(path, longh, 5000);
    free(longh);
    ert_y4m *y;
    ert_error err;
    CU_ASSERT_EQUAL(ert_y4m_open(path, &y, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "header line is longer than 4096 bytes"));
    CU_ASSERT_EQUAL(ert_y4m_open(tmp_path("none.y4m"), &y, &err), ERT_ENOTFOUND);
    ert_y4m_writer *w;
    CU_ASSERT_EQUAL(ert_y4m_create(path, 4, 2, 0, 1, &w, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "frame rate 0:1 needs both numbers or neither"));
    CU_ASSERT_EQUAL(ert_y4m_create(path, 0, 2, 25, 1, &w, &err), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_y4m_create("/nonexistent-dir/a.y4m", 4, 2, 25, 1, &w, &err), ERT_EIO);
    CU_ASSERT_PTR_NULL(w);
    cleanup_tmp();
}

/* ---- preprocessing ---- */

static ert_image load_src(void)
{
    ert_image img;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_image_read(ert_test_fixture("image/pp_src.ppm"), &img, &err), ERT_OK);
    CU_ASSERT_FATAL(img.frame.width == 37 && img.frame.height == 29);
    return img;
}

/* Runs pp on f into a fresh [3][oh][ow] buffer with exactly the scratch asked for, at an
 * odd address. */
static float *run_pp(const ert_preprocess *pp, const ert_frame *f, uint32_t ow, uint32_t oh, ert_error *err,
                     ert_status *st)
{
    size_t bytes = ert_preprocess_scratch(pp, f->width, f->height, ow, oh);
    uint8_t *scratch = malloc(bytes + 1);
    float *out = malloc((size_t)3 * ow * oh * sizeof *out);
    *st = ert_preprocess_run(pp, f, out, ow, oh, scratch + 1, bytes, err);
    free(scratch);
    return out;
}

static void test_preprocess_matches_reference_cases(void)
{
    ert_image src = load_src();
    /* the same pixels as BGR24 with padded rows: the output must not change */
    uint32_t bs = 37 * 3 + 7;
    uint8_t *bgr = malloc((size_t)bs * 29);
    for (uint32_t y = 0; y < 29; y++)
        for (uint32_t x = 0; x < 37; x++)
            for (int c = 0; c < 3; c++)
                bgr[y * bs + 3 * x + 2 - c] = src.pixels[(y * 37 + x) * 3 + c];
    ert_frame fb = {.format = ERT_PIX_BGR24, .width = 37, .height = 29, .stride = {bs}, .plane = {bgr}};
    FILE *cf = fopen(ert_test_fixture("image/preprocess_cases.txt"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
    char name[64], spec[512];
    unsigned ow, oh;
    int cases = 0;
    while (fscanf(cf, "%63s %u %u %511s", name, &ow, &oh, spec) == 4) {
        ert_preprocess pp;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_preprocess_parse(spec, &pp, &err), ERT_OK);
        CU_ASSERT_EQUAL(ert_preprocess_check(&pp, 37, 29, ow, oh, &err), ERT_OK);
        char npy[96];
        snprintf(npy, sizeof npy, "pp_%s.npy", name);
        ert_npy want = fixture_npy(npy);
        CU_ASSERT_EQUAL_FATAL(want.nbytes, (size_t)3 * ow * oh * sizeof(float));
        for (int k = 0; k < 2; k++) {
            ert_status st;
            float *got = run_pp(&pp, k ? &fb : &src.frame, ow, oh, &err, &st);
            CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
            double maxd = 0;
            for (size_t i = 0; i < (size_t)3 * ow * oh; i++) {
                double d = fabs((double)got[i] - ((const float *)want.data)[i]);
                maxd = d > maxd ? d : maxd;
            }
            if (maxd > 1e-5)
                fprintf(stderr, "\n  preprocess case %s (%s frame): max abs error %.3g\n", name, k ? "bgr" : "rgb",
                        maxd);
            CU_ASSERT(maxd <= 1e-5);
            free(got);
        }
        ert_npy_free(&want);
        cases++;
    }
    fclose(cf);
    CU_ASSERT_EQUAL(cases, 14);
    free(bgr);
    ert_image_free(&src);
}

/* A YUV, grey or BGR frame gives exactly what its RGB conversion gives, for every filter. */
static void test_preprocess_yuv_frame_equals_its_rgb_conversion(void)
{
    enum { W = 23, H = 17 };
    uint8_t Y[W * H], U[12 * 9], V[12 * 9], rgb[W * H * 3] = {0};
    for (int i = 0; i < W * H; i++)
        Y[i] = (uint8_t)(i * 19 + 3);
    for (int i = 0; i < 12 * 9; i++)
        U[i] = (uint8_t)(i * 7 + 60), V[i] = (uint8_t)(200 - i * 5);
    /* the last two read under half of each row: only those pixels are converted */
    static const char *specs[] = {"resize=10x8:bilinear,flip=vertical", "crop=center,resize=6x6:area",
                                  "crop=2,3,9,7,resize=13x11:nearest,order=bgr", "crop=center:10x8,flip=horizontal",
                                  "resize=5x4:bilinear,flip=horizontal", "crop=1,1,21,15,resize=4x3:nearest"};
    static const uint32_t sizes[][2] = {{10, 8}, {6, 6}, {13, 11}, {10, 8}, {5, 4}, {4, 3}};
    ert_pixfmt fmts[] = {ERT_PIX_YUV420, ERT_PIX_NV12, ERT_PIX_YUYV, ERT_PIX_GRAY8, ERT_PIX_BGR24};
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (uint8_t)(i * 11 + 5);
    for (size_t s = 0; s < 6; s++) {
        ert_preprocess pp;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_preprocess_parse(specs[s], &pp, &err), ERT_OK);
        uint32_t ow = sizes[s][0], oh = sizes[s][1];
        for (size_t k = 0; k < 5; k++) {
            ert_frame f;
            uint8_t *buf = build_frame(fmts[k], W, H, Y, U, V, rgb, &f);
            uint8_t conv[W * H * 3];
            CU_ASSERT_EQUAL(ert_frame_to_rgb(&f, conv, &err), ERT_OK);
            ert_frame r = rgb_frame(conv, W, H, W * 3);
            ert_status st1, st2;
            float *a = run_pp(&pp, &f, ow, oh, &err, &st1), *b = run_pp(&pp, &r, ow, oh, &err, &st2);
            CU_ASSERT(st1 == ERT_OK && st2 == ERT_OK);
            CU_ASSERT_EQUAL(memcmp(a, b, (size_t)3 * ow * oh * sizeof(float)), 0);
            free(a), free(b), free(buf);
        }
    }
}

/* Whole-frame properties: area to 1x1 is the mean of every pixel; a constant frame stays
 * constant through every filter and any ratio. */
static void test_preprocess_area_to_one_pixel_is_the_mean(void)
{
    ert_image src = load_src();
    ert_preprocess pp;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_preprocess_parse("resize=1x1:area,scale=1", &pp, &err), ERT_OK);
    ert_status st;
    float *o = run_pp(&pp, &src.frame, 1, 1, &err, &st);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    for (int c = 0; c < 3; c++) {
        double sum = 0;
        for (int i = 0; i < 37 * 29; i++)
            sum += src.pixels[3 * i + c];
        CU_ASSERT_DOUBLE_EQUAL(o[c], sum / (37 * 29), 1e-3);
    }
    free(o);
    ert_image_free(&src);
    static uint8_t flat[41 * 23 * 3];
    for (size_t i = 0; i < sizeof flat; i++)
        flat[i] = (uint8_t)(i % 3 == 0 ? 17 : i % 3 == 1 ? 128 : 240);
    ert_frame f = rgb_frame(flat, 41, 23, 41 * 3);
    static const char *specs[] = {"resize=7x3:area,scale=1", "resize=97x61:area,scale=1", "resize=7x3,scale=1",
                                  "resize=97x61,scale=1", "resize=7x3:nearest,scale=1", "resize=97x61:nearest,scale=1"};
    for (int s = 0; s < 6; s++) {
        CU_ASSERT_EQUAL_FATAL(ert_preprocess_parse(specs[s], &pp, &err), ERT_OK);
        uint32_t ow = pp.resize_w, oh = pp.resize_h;
        o = run_pp(&pp, &f, ow, oh, &err, &st);
        CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
        float maxd = 0;
        for (uint32_t i = 0; i < ow * oh; i++)
            for (int c = 0; c < 3; c++) {
                float d = fabsf(o[c * ow * oh + i] - (c == 0 ? 17.0f : c == 1 ? 128.0f : 240.0f));
                maxd = d > maxd ? d : maxd;
            }
        CU_ASSERT(maxd <= 1e-4f);
        free(o);
    }
}

/* Hand-checked: a 3x2 frame, no resize: flips, BGR order, mean/std. */
static void test_preprocess_flips_order_and_normalisation_by_hand(void)
{
    static const uint8_t px[18] = {/* row 0 */ 10, 20, 30, 40, 50, 60, 70, 80, 90,
                                   /* row 1 */ 100, 110, 120, 130, 140, 150, 160, 170, 180};
    ert_frame f = rgb_frame(px, 3, 2, 9);
    ert_preprocess pp;
    ert_preprocess_default(&pp);
    pp.scale = 1.0f;
    ert_error err;
    ert_status st;
    float *o = run_pp(&pp, &f, 3, 2, &err, &st);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    static const float plain[18] = {10, 40, 70, 100, 130, 160, 20, 50, 80, 110, 140, 170, 30, 60, 90, 120, 150, 180};
    CU_ASSERT_EQUAL(memcmp(o, plain, sizeof plain), 0);
    free(o);
    pp.flip = ERT_FLIP_VERTICAL;
    o = run_pp(&pp, &f, 3, 2, &err, &st);
    static const float vflip[18] = {100, 130, 160, 10, 40, 70, 110, 140, 170, 20, 50, 80, 120, 150, 180, 30, 60, 90};
    CU_ASSERT_EQUAL(memcmp(o, vflip, sizeof vflip), 0);
    free(o);
    pp.flip = ERT_FLIP_HORIZONTAL;
    pp.order = ERT_ORDER_BGR;
    o = run_pp(&pp, &f, 3, 2, &err, &st);
    static const float hflip_bgr[18] = {90, 60, 30, 180, 150, 120, 80, 50, 20, 170, 140, 110, 70, 40, 10, 160, 130, 100};
    CU_ASSERT_EQUAL(memcmp(o, hflip_bgr, sizeof hflip_bgr), 0);
    free(o);
    /* (x * 0.5 - mean) / std, mean/std indexed R, G, B before the BGR swap; crop 1,1,2,1 */
    pp = (ert_preprocess){.crop = ERT_CROP_RECT, .crop_x = 1, .crop_y = 1, .crop_w = 2, .crop_h = 1, .scale = 0.5f,
                          .mean = {10, 20, 30}, .std = {2, 4, 5}, .order = ERT_ORDER_BGR};
    o = run_pp(&pp, &f, 2, 1, &err, &st);
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    /* B plane: (150*.5-30)/5=9, (180*.5-30)/5=12; G: (140*.5-20)/4=12.5, 16.25; R: (130*.5-10)/2=27.5, 35 */
    static const float norm[6] = {9, 12, 12.5f, 16.25f, 27.5f, 35};
    for (int i = 0; i < 6; i++)
        CU_ASSERT_DOUBLE_EQUAL(o[i], norm[i], 1e-5);
    free(o);
}

static void test_preprocess_check_reports_mismatches(void)
{
    static const struct {
        const char *spec;
        uint32_t fw, fh, ow, oh;
        const char *msg;
    } cases[] = {
        {"", 640, 480, 224, 224,
         "preprocess: the frame is 640x480 after no crop but the graph input is 224x224 and the recipe has no resize "
         "(add resize=224x224 or a crop)"},
        {"resize=100x100", 640, 480, 224, 224, "preprocess: resize to 100x100 but the graph input is 224x224"},
        {"crop=600,0,100,100,resize=224x224", 640, 480, 224, 224,
         "preprocess: crop 100x100 at (600,0) does not lie inside the 640x480 frame"},
        {"crop=0,400,100,100,resize=224x224", 640, 480, 224, 224,
         "preprocess: crop 100x100 at (0,400) does not lie inside the 640x480 frame"},
        {"crop=center:500x500,resize=224x224", 640, 480, 224, 224,
         "preprocess: centre crop 500x500 does not fit the 640x480 frame"},
        {"crop=center", 640, 480, 224, 224,
         "preprocess: the frame is 480x480 after the crop but the graph input is 224x224 and the recipe has no "
         "resize (add resize=224x224 or a crop)"},
        {"crop=center", 0, 480, 224, 224, "preprocess: frame size 0x480 is outside 1..32768"},
        {"crop=center", 640, 480, 0, 224, "preprocess: graph input size 0x224 is outside 1..32768"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ert_preprocess pp;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_preprocess_parse(cases[i].spec, &pp, &err), ERT_OK);
        CU_ASSERT_EQUAL(ert_preprocess_check(&pp, cases[i].fw, cases[i].fh, cases[i].ow, cases[i].oh, &err),
                        ERT_EINVAL);
        CU_ASSERT_STRING_EQUAL(err.msg, cases[i].msg);
        CU_ASSERT_EQUAL(ert_preprocess_scratch(&pp, cases[i].fw, cases[i].fh, cases[i].ow, cases[i].oh), 0);
    }
    ert_preprocess pp;
    ert_error err;
    ert_preprocess_default(&pp);
    CU_ASSERT_EQUAL(ert_preprocess_check(&pp, 48, 48, 48, 48, &err), ERT_OK);
    pp.std[1] = 0.0f;
    CU_ASSERT_EQUAL(ert_preprocess_check(&pp, 48, 48, 48, 48, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "preprocess: std[1] 0 must be finite and non-zero");
    ert_preprocess_default(&pp);
    pp.std[2] = 1e-30f;
    pp.scale = 1e30f;
    CU_ASSERT_EQUAL(ert_preprocess_check(&pp, 48, 48, 48, 48, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "preprocess: scale 1e+30 / std[2] 1e-30 and mean[2] 0 overflow float");
    ert_preprocess_default(&pp);
    pp.filter = (ert_resize_filter)7;
    CU_ASSERT_EQUAL(ert_preprocess_check(&pp, 48, 48, 48, 48, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "preprocess: unknown resize filter 7");
    ert_preprocess_default(&pp);
    pp.crop = ERT_CROP_CENTER;
    pp.crop_w = 10;
    CU_ASSERT_EQUAL(ert_preprocess_check(&pp, 48, 48, 10, 10, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "preprocess: centre crop 10x0 needs both sizes or neither");
    /* run: too little scratch, and a broken frame */
    ert_preprocess_parse("resize=4x4", &pp, &err);
    static uint8_t px[8 * 8 * 3];
    ert_frame f = rgb_frame(px, 8, 8, 24);
    size_t need = ert_preprocess_scratch(&pp, 8, 8, 4, 4);
    CU_ASSERT(need > 0);
    uint8_t *scratch = malloc(need);
    float out[48];
    CU_ASSERT_EQUAL(ert_preprocess_run(&pp, &f, out, 4, 4, scratch, need - 1, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "scratch of"));
    CU_ASSERT_EQUAL(ert_preprocess_run(&pp, &f, out, 4, 4, scratch, need, &err), ERT_OK);
    f.stride[0] = 5;
    CU_ASSERT_EQUAL(ert_preprocess_run(&pp, &f, out, 4, 4, scratch, need, &err), ERT_EINVAL);
    CU_ASSERT_NSTRING_EQUAL(err.msg, "preprocess: frame: rgb24 plane 0 stride 5", 41);
    free(scratch);
}

static void test_preprocess_default_values(void)
{
    ert_preprocess pp;
    ert_preprocess_default(&pp);
    CU_ASSERT(pp.crop == ERT_CROP_NONE && pp.resize_w == 0 && pp.resize_h == 0 && pp.flip == ERT_FLIP_NONE &&
              pp.order == ERT_ORDER_RGB && pp.filter == ERT_RESIZE_BILINEAR);
    CU_ASSERT_EQUAL(pp.scale, 1.0f / 255.0f);
    for (int c = 0; c < 3; c++)
        CU_ASSERT(pp.mean[c] == 0.0f && pp.std[c] == 1.0f);
    char buf[256];
    ert_preprocess_format(&pp, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "crop=none,resize=none,scale=0.00392156886,mean=0,0,0,std=1,1,1,order=rgb,flip=none");
    ert_preprocess q;
    ert_error err;
    CU_ASSERT_EQUAL(ert_preprocess_parse("  ", &q, &err), ERT_OK);
    CU_ASSERT_EQUAL(memcmp(&pp, &q, sizeof pp), 0);
}

static bool same_recipe(const ert_preprocess *a, const ert_preprocess *b)
{
    bool same = a->crop == b->crop && a->resize_w == b->resize_w && a->resize_h == b->resize_h &&
                a->scale == b->scale && a->order == b->order && a->flip == b->flip;
    if (a->crop != ERT_CROP_NONE)
        same = same && a->crop_w == b->crop_w && a->crop_h == b->crop_h;
    if (a->crop == ERT_CROP_RECT)
        same = same && a->crop_x == b->crop_x && a->crop_y == b->crop_y;
    if (a->resize_w)
        same = same && a->filter == b->filter;
    for (int c = 0; c < 3; c++)
        same = same && a->mean[c] == b->mean[c] && a->std[c] == b->std[c];
    return same;
}

static void test_preprocess_parse_format_roundtrip(void)
{
    static const struct {
        const char *spec, *formatted;
    } cases[] = {
        {"crop=84,20,472,472,scale=1/255",
         "crop=84,20,472,472,resize=none,scale=0.00392156886,mean=0,0,0,std=1,1,1,order=rgb,flip=none"},
        {"crop=center,resize=299x299:bilinear,scale=2/255,mean=1,1,1",
         "crop=center,resize=299x299:bilinear,scale=0.00784313772,mean=1,1,1,std=1,1,1,order=rgb,flip=none"},
        {" flip=vertical , resize=48x48:area ,order=bgr,std=0.229, 0.224,0.225,mean=0.485,0.456,0.406",
         "crop=none,resize=48x48:area,scale=0.00392156886,mean=0.485000014,0.456,0.405999988,"
         "std=0.229000002,0.224000007,0.224999994,order=bgr,flip=vertical"},
        {"crop=center:300x200,resize=64x32:nearest,scale=0.5,flip=horizontal",
         "crop=center:300x200,resize=64x32:nearest,scale=0.5,mean=0,0,0,std=1,1,1,order=rgb,flip=horizontal"},
        {"crop=0,0,1,1,resize=none,crop=none", NULL}, /* duplicate key */
        {"resize=7x9,scale=-1e-3,mean=-1,-2.5,3e2,std=-1,1,0.5",
         "crop=none,resize=7x9:bilinear,scale=-0.00100000005,mean=-1,-2.5,300,std=-1,1,0.5,order=rgb,flip=none"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ert_preprocess a, b;
        ert_error err;
        ert_status st = ert_preprocess_parse(cases[i].spec, &a, &err);
        if (!cases[i].formatted) {
            CU_ASSERT_EQUAL(st, ERT_EINVAL);
            CU_ASSERT_STRING_EQUAL(err.msg, "preprocess: crop: given twice");
            continue;
        }
        CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
        char buf[256];
        ert_preprocess_format(&a, buf, sizeof buf);
        CU_ASSERT_STRING_EQUAL(buf, cases[i].formatted);
        CU_ASSERT_EQUAL_FATAL(ert_preprocess_parse(buf, &b, &err), ERT_OK);
        CU_ASSERT(same_recipe(&a, &b));
        char again[256];
        ert_preprocess_format(&b, again, sizeof again);
        CU_ASSERT_STRING_EQUAL(again, buf);
    }
    /* a truncating buffer stays a terminated prefix */
    ert_preprocess pp;
    ert_preprocess_default(&pp);
    char small[10];
    ert_preprocess_format(&pp, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "crop=none");
}

static void test_preprocess_parse_errors_name_the_key(void)
{
    static const struct {
        const char *spec, *msg;
    } cases[] = {
        {"crop=center,size=3", "preprocess: unknown key 'size' (keys: crop, resize, scale, mean, std, order, flip)"},
        {"mean=0.5,0.5", "preprocess: mean: needs 3 comma-separated numbers, got 2"},
        {"mean=0.5,0.5,order=bgr", "preprocess: mean: needs 3 comma-separated numbers, got 2"},
        {"std=1,0,1", "preprocess: std: '0' must be non-zero"},
        {"std=1,x,1", "preprocess: std: 'x' is not a finite number"},
        {"mean=1,nan,1", "preprocess: mean: 'nan' is not a finite number"},
        {"resize=-3x4", "preprocess: resize: '-3x4' is not WxH[:bilinear|area|nearest] with sizes 1..32768"},
        {"resize=0x4", "preprocess: resize: '0x4' is not WxH[:bilinear|area|nearest] with sizes 1..32768"},
        {"resize=10", "preprocess: resize: '10' is not WxH[:bilinear|area|nearest] with sizes 1..32768"},
        {"resize=10x10:cubic", "preprocess: resize: '10x10:cubic' has an unknown filter (bilinear, area, nearest)"},
        {"crop=1,2,3", "preprocess: crop: needs 4 comma-separated numbers, got 3"},
        {"crop=1,2,-3,4", "preprocess: crop width: '-3' is not a size 1..32768"},
        {"crop=1,2,3,0", "preprocess: crop height: '0' is not a size 1..32768"},
        {"crop=-1,2,3,4", "preprocess: crop x: '-1' is not an offset 0..32767"},
        {"crop=middle", "preprocess: crop: needs 4 comma-separated numbers, got 1"},
        {"crop=center:0x5", "preprocess: crop: 'center:0x5' is not center:WxH with sizes 1..32768"},
        {"scale=0", "preprocess: scale: '0' must be finite and non-zero"},
        {"scale=1/0", "preprocess: scale: '1/0' is not a finite number or fraction N/D"},
        {"scale=abc", "preprocess: scale: 'abc' is not a finite number or fraction N/D"},
        {"order=rgba", "preprocess: order: 'rgba' is not rgb or bgr"},
        {"flip=diagonal", "preprocess: flip: 'diagonal' is not none, vertical or horizontal"},
        {"order=rgb,,flip=none", "preprocess: empty field in 'order=rgb,,flip=none' (stray comma?)"},
        {"order=rgb,", "preprocess: empty field in 'order=rgb,' (stray comma?)"},
        {"bgr", "preprocess: 'bgr' is not key=value (keys: crop, resize, scale, mean, std, order, flip)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ert_preprocess pp;
        ert_preprocess_default(&pp);
        pp.scale = 3.0f; /* untouched on error */
        ert_error err;
        CU_ASSERT_EQUAL(ert_preprocess_parse(cases[i].spec, &pp, &err), ERT_EINVAL);
        if (strcmp(err.msg, cases[i].msg) != 0)
            fprintf(stderr, "\n  parse '%s': got \"%s\"\n", cases[i].spec, err.msg);
        CU_ASSERT_STRING_EQUAL(err.msg, cases[i].msg);
        CU_ASSERT_EQUAL(pp.scale, 3.0f);
    }
}

static const ert_test_case cases[] = {
    ERT_TEST(test_pixfmt_names_are_stable),
    ERT_TEST(test_frame_check_rejects_inconsistent_frames),
    ERT_TEST(test_yuv_to_rgb_known_values),
    ERT_TEST(test_yuv_to_rgb_sweep_matches_formula),
    ERT_TEST(test_frame_to_rgb_every_format_odd_sizes_padded_strides),
    ERT_TEST(test_image_decodes_ppm_and_pgm),
    ERT_TEST(test_image_decodes_png_like_pil),
    ERT_TEST(test_image_decodes_jpeg_exactly_like_pil),
    ERT_TEST(test_image_rejects_every_truncation),
    ERT_TEST(test_image_rejects_corrupt_data),
    ERT_TEST(test_image_rejects_oversized_before_allocating),
    ERT_TEST(test_image_refuses_jpeg_with_too_many_scans),
    ERT_TEST(test_ppm_write_read_roundtrip),
    ERT_TEST(test_y4m_writer_converts_rgb_exactly),
    ERT_TEST(test_y4m_write_read_roundtrip_420),
    ERT_TEST(test_y4m_yuv420_frames_pass_through_exactly),
    ERT_TEST(test_y4m_reads_every_colour_space),
    ERT_TEST(test_y4m_eof_truncation_and_rewind),
    ERT_TEST(test_y4m_rejects_bad_headers),
    ERT_TEST(test_preprocess_matches_reference_cases),
    ERT_TEST(test_preprocess_yuv_frame_equals_its_rgb_conversion),
    ERT_TEST(test_preprocess_area_to_one_pixel_is_the_mean),
    ERT_TEST(test_preprocess_flips_order_and_normalisation_by_hand),
    ERT_TEST(test_preprocess_check_reports_mismatches),
    ERT_TEST(test_preprocess_default_values),
    ERT_TEST(test_preprocess_parse_format_roundtrip),
    ERT_TEST(test_preprocess_parse_errors_name_the_key),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_image = {"image", cases};
