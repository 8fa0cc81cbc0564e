/* Unit tests: frame sources. Spec errors; replay of generated y4m videos and image
 * folders (exact pixels, seq, END, loop, pacing); synthetic patterns in every format with
 * padded strides; timeouts and stop() waking a blocked next(); libcamera with no cameras. */
#include "harness.h"

#include "embedrt/camera.h"
#include "embedrt/image.h"
#include "embedrt/source.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[2][200];
    static int which;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/ert-source-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
    }
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
    return path[which];
}

/* Removes everything under dir (one level of sub-folders) and dir itself. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char p[400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void cleanup_tmp(void)
{
    if (tmpdir[0])
        remove_tree(tmpdir);
    tmpdir[0] = '\0';
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static ert_status open_spec(const char *spec, const ert_source_config *cfg, ert_source *s, ert_error *err)
{
    ert_error_clear(err);
    return ert_source_open(spec, cfg, s, err);
}

/* A 5x3 I420 frame whose every byte is known: sample i of frame k is (k * 37 + i * 7) & 255. */
enum { VW = 5, VH = 3, VCW = 3, VCH = 2, VBYTES = VW * VH + 2 * VCW * VCH };

static void make_i420(int k, uint8_t *buf, ert_frame *f)
{
    for (int i = 0; i < VBYTES; i++)
        buf[i] = (uint8_t)((k * 37 + i * 7) & 255);
    *f = (ert_frame){.format = ERT_PIX_YUV420,
                     .width = VW,
                     .height = VH,
                     .stride = {VW, VCW, VCW},
                     .plane = {buf, buf + VW * VH, buf + VW * VH + VCW * VCH}};
}

/* Writes n such frames to a y4m file at fps_num/1 and returns its path. */
static const char *write_video(const char *name, int n, uint32_t fps_num)
{
    const char *path = tmp_path(name);
    ert_y4m_writer *w;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_y4m_create(path, VW, VH, fps_num, fps_num ? 1 : 0, &w, &err), ERT_OK);
    uint8_t buf[VBYTES];
    ert_frame f;
    for (int k = 0; k < n; k++) {
        make_i420(k, buf, &f);
        CU_ASSERT_EQUAL_FATAL(ert_y4m_write(w, &f, &err), ERT_OK);
    }
    CU_ASSERT_EQUAL_FATAL(ert_y4m_finish(w, &err), ERT_OK);
    return path;
}

/* True when f holds exactly frame k of make_i420. */
static bool is_i420_frame(const ert_frame *f, int k)
{
    uint8_t want[VBYTES];
    ert_frame w;
    make_i420(k, want, &w);
    if (f->format != ERT_PIX_YUV420 || f->width != VW || f->height != VH)
        return false;
    for (int p = 0; p < 3; p++) {
        uint32_t rows = p ? VCH : VH, cols = p ? VCW : VW;
        for (uint32_t y = 0; y < rows; y++)
            if (memcmp(f->plane[p] + (size_t)y * f->stride[p], w.plane[p] + (size_t)y * w.stride[p], cols) != 0)
                return false;
    }
    return true;
}

static ert_source_result next_frame(ert_source *s, int timeout_ms, ert_frame *f)
{
    ert_error err;
    ert_source_result res = (ert_source_result)-1;
    ert_status st = ert_source_next(s, timeout_ms, f, &res, &err);
    CU_ASSERT_EQUAL(st, ERT_OK);
    if (st != ERT_OK)
        fprintf(stderr, "\n  next: %s\n", err.msg);
    return res;
}

/* Writes a w x h P6 (channels 3) or P5 (1) file whose sample i is (seed + i * 11) & 255. */
static void write_pnm(const char *path, uint32_t w, uint32_t h, int channels, int seed)
{
    FILE *fp = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fprintf(fp, "P%c\n%u %u\n255\n", channels == 3 ? '6' : '5', w, h);
    for (uint32_t i = 0; i < w * h * (uint32_t)channels; i++)
        fputc((seed + (int)i * 11) & 255, fp);
    fclose(fp);
}

/* ---- decoding into a buffer sized at start ---- */

static void test_image_decode_into_uses_caller_memory(void)
{
    /* 3x2 P6, samples 0..17. */
    uint8_t file[64];
    int n = snprintf((char *)file, sizeof file, "P6\n3 2\n255\n");
    for (int i = 0; i < 18; i++)
        file[n + i] = (uint8_t)i;
    size_t len = (size_t)n + 18;
    uint8_t buf[20];
    memset(buf, 0xEE, sizeof buf);
    ert_frame f;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_image_decode_into(file, len, "mem.ppm", buf, 18, &f, &err), ERT_OK);
    CU_ASSERT_PTR_EQUAL(f.plane[0], buf);
    CU_ASSERT_EQUAL(f.format, ERT_PIX_RGB24);
    CU_ASSERT_EQUAL(f.width, 3);
    CU_ASSERT_EQUAL(f.stride[0], 9);
    CU_ASSERT_EQUAL(buf[17], 17);
    CU_ASSERT_EQUAL(buf[18], 0xEE); /* nothing past the image */
    CU_ASSERT_EQUAL(ert_image_decode_into(file, len, "mem.ppm", buf, 17, &f, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_STRING_EQUAL(err.msg, "mem.ppm: image size 3x2 needs 18 bytes, the frame buffer holds 17");
    CU_ASSERT_PTR_NULL(f.plane[0]);
    /* A sample above maxval fails without freeing the caller's memory (ASan would see it). */
    n = snprintf((char *)file, sizeof file, "P5\n2 1\n10\n");
    file[n] = 3, file[n + 1] = 11;
    CU_ASSERT_EQUAL(ert_image_decode_into(file, (size_t)n + 2, "mem.pgm", buf, sizeof buf, &f, &err), ERT_EFORMAT);
    CU_ASSERT_EQUAL(ert_image_decode_into(file, (size_t)n + 2, "mem.pgm", NULL, 4, &f, &err), ERT_EINVAL);
}

/* ---- spec strings ---- */

static void test_source_spec_errors_name_the_problem(void)
{
    ert_source s;
    ert_error err;
    static const struct {
        const char *spec;
        ert_status code;
        const char *needle;
    } cases[] = {
        {"", ERT_EINVAL, "unknown kind"},
        {"webcam:0", ERT_EINVAL, "source 'webcam:0': unknown kind (use libcamera:ID_OR_INDEX"},
        {"replay", ERT_EINVAL, "replay: no path"},
        {"replay:", ERT_EINVAL, "replay: no path"},
        {"replay:/nonexistent/embedrt/video.y4m", ERT_ENOTFOUND, "replay:/nonexistent/embedrt/video.y4m: No such file"},
        {"synthetic:waves", ERT_EINVAL, "unknown pattern 'waves' (bars, checker, noise)"},
        {"synthetic:", ERT_EINVAL, "unknown pattern ''"},
        {"synthetic:bars:0x4", ERT_EINVAL, "size '0x4' is not WxH"},
        {"synthetic:bars:12x", ERT_EINVAL, "size '12x' is not WxH"},
        {"synthetic:bars:4x4x", ERT_EINVAL, "size '4x4x' is not WxH"},
        {"synthetic:bars:16385x2", ERT_EINVAL, "is not WxH with both in 1..16384"},
        {"synthetic:bars:-3x2", ERT_EINVAL, "is not WxH"},
        {"libcamera:", ERT_EINVAL, "no camera (use libcamera:INDEX or libcamera:ID)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&s, 0x5a, sizeof s);
        ert_status st = open_spec(cases[i].spec, NULL, &s, &err);
        CU_ASSERT_EQUAL(st, cases[i].code);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].needle));
        CU_ASSERT_PTR_NULL(s.ops); /* no partial state */
        if (st != cases[i].code || !strstr(err.msg, cases[i].needle))
            fprintf(stderr, "\n  spec '%s': %s %s\n", cases[i].spec, ert_status_name(st), err.msg);
    }
    CU_ASSERT_EQUAL(ert_source_open(NULL, NULL, &s, &err), ERT_EINVAL);
    /* A bad frame rate is refused at open. */
    ert_source_config cfg = {.fps = 1e9};
    CU_ASSERT_EQUAL(open_spec("synthetic:bars", &cfg, &s, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "frame rate"));
    /* A file that is not a video names itself. */
    const char *junk = tmp_path("junk.y4m");
    FILE *fp = fopen(junk, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("hello", fp);
    fclose(fp);
    char spec[256];
    snprintf(spec, sizeof spec, "replay:%s", junk);
    CU_ASSERT_EQUAL(open_spec(spec, NULL, &s, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, junk));
    /* Closing a zeroed source is safe, twice. */
    ert_source z = {0};
    ert_source_close(&z);
    ert_source_close(&z);
    ert_source_info info;
    ert_source_get_info(&z, &info);
    CU_ASSERT_EQUAL(info.width, 0);
    cleanup_tmp();
}

/* ---- replay: y4m ---- */

static void test_source_replay_y4m_exact_frames_seq_and_end(void)
{
    const char *path = write_video("v.y4m", 5, 25);
    char spec[256];
    snprintf(spec, sizeof spec, "replay:%s", path);
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = -1};
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
    ert_source_info info;
    ert_source_get_info(&s, &info);
    CU_ASSERT_STRING_EQUAL(info.kind, "replay");
    CU_ASSERT_STRING_EQUAL(info.detail, path);
    CU_ASSERT_EQUAL(info.width, VW);
    CU_ASSERT_EQUAL(info.height, VH);
    CU_ASSERT_EQUAL(info.format, ERT_PIX_YUV420);
    CU_ASSERT_DOUBLE_EQUAL(info.fps, 0.0, 1e-12); /* unpaced */
    /* next() before start() is an error, not a crash. */
    ert_frame f;
    ert_source_result res;
    CU_ASSERT_EQUAL(ert_source_next(&s, 0, &f, &res, &err), ERT_EINVAL);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    uint64_t last_t = 0;
    for (int k = 0; k < 5; k++) {
        CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
        CU_ASSERT_TRUE(is_i420_frame(&f, k));
        CU_ASSERT_EQUAL(f.seq, (uint64_t)k);
        CU_ASSERT_TRUE(f.t_capture_ns >= last_t && f.t_capture_ns > 0);
        CU_ASSERT_TRUE(f.t_capture_ns <= now_ns());
        CU_ASSERT_EQUAL(ert_frame_check(&f, &err), ERT_OK);
        last_t = f.t_capture_ns;
    }
    CU_ASSERT_EQUAL(next_frame(&s, 1000, &f), ERT_SOURCE_END);
    CU_ASSERT_EQUAL(next_frame(&s, 0, &f), ERT_SOURCE_END);
    ert_source_stats st;
    ert_source_get_stats(&s, &st);
    CU_ASSERT_EQUAL(st.frames, 5);
    CU_ASSERT_EQUAL(st.drops, 0);
    /* start() again replays from the beginning with seq from 0. */
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_TRUE(is_i420_frame(&f, 0));
    CU_ASSERT_EQUAL(f.seq, 0);
    ert_source_close(&s);
    CU_ASSERT_PTR_NULL(s.ops);

    /* The file's own rate is the nominal rate when cfg.fps is 0. */
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, NULL, &s, &err), ERT_OK);
    ert_source_get_info(&s, &info);
    CU_ASSERT_DOUBLE_EQUAL(info.fps, 25.0, 1e-9);
    ert_source_close(&s);
    cleanup_tmp();
}

static void test_source_replay_loop_keeps_counting(void)
{
    const char *path = write_video("loop.y4m", 5, 0);
    char spec[256];
    snprintf(spec, sizeof spec, "replay:%s", path);
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = -1, .loop = true};
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    ert_frame f;
    for (int k = 0; k < 13; k++) {
        CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
        CU_ASSERT_TRUE(is_i420_frame(&f, k % 5));
        CU_ASSERT_EQUAL(f.seq, (uint64_t)k);
    }
    /* stop(): END from then on. */
    ert_source_stop(&s);
    CU_ASSERT_EQUAL(next_frame(&s, 1000, &f), ERT_SOURCE_END);
    ert_source_stop(&s); /* idempotent */
    ert_source_close(&s);
    cleanup_tmp();
}

static void test_source_replay_paces_at_file_and_configured_rate(void)
{
    /* 100 fps from the file: 5 frames take 4 periods, and timestamps are >= 10 ms apart
     * (absolute deadlines: frame k is due 10 k ms after frame 0). */
    const char *path = write_video("pace.y4m", 5, 100);
    char spec[256];
    snprintf(spec, sizeof spec, "replay:%s", path);
    for (int round = 0; round < 2; round++) {
        ert_source s;
        ert_error err;
        ert_source_config cfg = {.fps = round == 0 ? 0 : 50}; /* round 1: configured 50 fps */
        uint64_t period = round == 0 ? 10000000u : 20000000u;
        CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
        CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
        ert_frame f;
        uint64_t t[5], t0 = now_ns();
        for (int k = 0; k < 5; k++) {
            CU_ASSERT_EQUAL_FATAL(next_frame(&s, -1, &f), ERT_SOURCE_FRAME);
            t[k] = f.t_capture_ns;
        }
        uint64_t elapsed = now_ns() - t0;
        CU_ASSERT_TRUE(elapsed >= 4 * period);
        for (int k = 1; k < 5; k++)
            CU_ASSERT_TRUE(t[k] - t[0] >= (uint64_t)k * period);
        CU_ASSERT_TRUE(t[0] >= t0);
        CU_ASSERT_EQUAL(next_frame(&s, -1, &f), ERT_SOURCE_END);
        ert_source_close(&s);
    }
    cleanup_tmp();
}

/* ---- replay: folders ---- */

static void test_source_replay_folder_in_name_order(void)
{
    const char *dir = tmp_path("frames");
    char d[200];
    snprintf(d, sizeof d, "%s", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(d, 0700), 0);
    char p[300];
    /* Written out of order; a grey frame in an RGB sequence is expanded; other files are ignored. */
    snprintf(p, sizeof p, "%s/b.ppm", d);
    write_pnm(p, 3, 2, 3, 100);
    snprintf(p, sizeof p, "%s/a.ppm", d);
    write_pnm(p, 3, 2, 3, 5);
    snprintf(p, sizeof p, "%s/c.pgm", d);
    write_pnm(p, 3, 2, 1, 60);
    snprintf(p, sizeof p, "%s/notes.txt", d);
    write_pnm(p, 9, 9, 1, 0);
    char spec[256];
    snprintf(spec, sizeof spec, "replay:%s", d);
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = -1, .loop = true};
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
    ert_source_info info;
    ert_source_get_info(&s, &info);
    CU_ASSERT_EQUAL(info.width, 3);
    CU_ASSERT_EQUAL(info.height, 2);
    CU_ASSERT_EQUAL(info.format, ERT_PIX_RGB24);
    CU_ASSERT_DOUBLE_EQUAL(info.fps, 0.0, 1e-12);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    static const int seeds[3] = {5, 100, 60};
    ert_frame f;
    for (int k = 0; k < 7; k++) {
        CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
        CU_ASSERT_EQUAL(f.seq, (uint64_t)k);
        CU_ASSERT_EQUAL(f.format, ERT_PIX_RGB24);
        CU_ASSERT_EQUAL(f.stride[0], 9);
        int seed = seeds[k % 3];
        bool ok = true;
        for (int i = 0; i < 18; i++) {
            int sample = k % 3 == 2 ? i / 3 : i; /* grey: one sample per pixel, replicated */
            ok &= f.plane[0][i] == (uint8_t)((seed + sample * 11) & 255);
        }
        CU_ASSERT_TRUE(ok);
    }
    ert_source_close(&s);
    cleanup_tmp();
}

static void test_source_replay_folder_refuses_other_sizes(void)
{
    const char *dir = tmp_path("mixed");
    char d[200], p[300], spec[256];
    snprintf(d, sizeof d, "%s", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(d, 0700), 0);
    snprintf(p, sizeof p, "%s/0001.ppm", d);
    write_pnm(p, 4, 4, 3, 1);
    snprintf(p, sizeof p, "%s/0002.ppm", d);
    write_pnm(p, 4, 4, 3, 2);
    snprintf(p, sizeof p, "%s/0003.ppm", d);
    write_pnm(p, 4, 3, 3, 3); /* smaller */
    snprintf(p, sizeof p, "%s/0004.ppm", d);
    write_pnm(p, 5, 4, 3, 4); /* larger */
    snprintf(spec, sizeof spec, "replay:%s", d);
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = -1};
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    ert_frame f;
    ert_source_result res;
    for (int k = 0; k < 2; k++)
        CU_ASSERT_EQUAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    ert_error_clear(&err);
    CU_ASSERT_EQUAL(ert_source_next(&s, 1000, &f, &res, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "0003.ppm is 4x3, but every frame must have the first frame's size 4x4 (0001.ppm)"));
    ert_source_close(&s);

    /* The larger frame does not fit the buffer allocated at start: the same kind of message. */
    snprintf(p, sizeof p, "%s/0003.ppm", d);
    unlink(p);
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    for (int k = 0; k < 2; k++)
        CU_ASSERT_EQUAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    ert_error_clear(&err);
    CU_ASSERT_NOT_EQUAL(ert_source_next(&s, 1000, &f, &res, &err), ERT_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "every frame must have the first frame's size 4x4 (0001.ppm)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "0004.ppm"));
    ert_source_close(&s);

    /* A colour frame in a grey sequence, and an empty folder. */
    char g[200];
    snprintf(g, sizeof g, "%s", tmp_path("grey"));
    CU_ASSERT_EQUAL_FATAL(mkdir(g, 0700), 0);
    snprintf(spec, sizeof spec, "replay:%s", g);
    CU_ASSERT_EQUAL(open_spec(spec, &cfg, &s, &err), ERT_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "folder has no .ppm, .pgm or .png frames"));
    snprintf(p, sizeof p, "%s/a.pgm", g);
    write_pnm(p, 2, 2, 1, 1);
    snprintf(p, sizeof p, "%s/b.ppm", g);
    write_pnm(p, 2, 2, 3, 1);
    CU_ASSERT_EQUAL_FATAL(open_spec(spec, &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    CU_ASSERT_EQUAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL(f.format, ERT_PIX_GRAY8);
    CU_ASSERT_EQUAL(ert_source_next(&s, 1000, &f, &res, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "b.ppm is colour, but the first frame (a.pgm) is grey"));
    ert_source_close(&s);
    cleanup_tmp();
}

/* ---- synthetic ---- */

static size_t packed_row(ert_pixfmt fmt, uint32_t w, int p)
{
    size_t cw = ((size_t)w + 1) / 2;
    switch (fmt) {
    case ERT_PIX_RGB24:
    case ERT_PIX_BGR24: return p == 0 ? 3 * (size_t)w : 0;
    case ERT_PIX_GRAY8: return p == 0 ? w : 0;
    case ERT_PIX_YUV420: return p == 0 ? w : cw;
    case ERT_PIX_NV12: return p == 0 ? w : p == 1 ? 2 * cw : 0;
    case ERT_PIX_YUYV: return p == 0 ? 4 * cw : 0;
    }
    return 0;
}

static uint32_t rows_of(uint32_t h, int p)
{
    return p == 0 ? h : (h + 1) / 2;
}

/* Packed bytes of every plane of f (rows without padding), into out; returns the size. */
static size_t pack(const ert_frame *f, uint8_t *out)
{
    size_t n = 0;
    for (int p = 0; p < 3; p++) {
        size_t row = packed_row(f->format, f->width, p);
        if (!row)
            continue;
        for (uint32_t y = 0; y < rows_of(f->height, p); y++, n += row)
            memcpy(out + n, f->plane[p] + (size_t)y * f->stride[p], row);
    }
    return n;
}

static void test_source_synthetic_every_format_padded_and_deterministic(void)
{
    static const ert_pixfmt fmts[] = {ERT_PIX_RGB24, ERT_PIX_BGR24, ERT_PIX_YUV420,
                                      ERT_PIX_NV12,  ERT_PIX_YUYV,  ERT_PIX_GRAY8};
    static const char *const specs[] = {"synthetic:bars:7x5", "synthetic:checker:33x17", "synthetic:noise:1x1",
                                         "synthetic:noise:9x4"};
    enum { CAP = 33 * 17 * 3 };
    static uint8_t a[CAP], b[CAP];
    for (size_t fi = 0; fi < sizeof fmts / sizeof fmts[0]; fi++)
        for (size_t si = 0; si < sizeof specs / sizeof specs[0]; si++) {
            ert_source s1, s2;
            ert_error err;
            ert_source_config cfg = {.format = fmts[fi], .fps = -1};
            CU_ASSERT_EQUAL_FATAL(open_spec(specs[si], &cfg, &s1, &err), ERT_OK);
            CU_ASSERT_EQUAL_FATAL(open_spec(specs[si], &cfg, &s2, &err), ERT_OK);
            CU_ASSERT_EQUAL_FATAL(ert_source_start(&s1, &err), ERT_OK);
            CU_ASSERT_EQUAL_FATAL(ert_source_start(&s2, &err), ERT_OK);
            ert_source_info info;
            ert_source_get_info(&s1, &info);
            CU_ASSERT_STRING_EQUAL(info.kind, "synthetic");
            CU_ASSERT_EQUAL(info.format, fmts[fi]);
            size_t prev_n = 0;
            for (int k = 0; k < 3; k++) {
                ert_frame f1, f2;
                CU_ASSERT_EQUAL_FATAL(next_frame(&s1, 1000, &f1), ERT_SOURCE_FRAME);
                CU_ASSERT_EQUAL_FATAL(next_frame(&s2, 1000, &f2), ERT_SOURCE_FRAME);
                CU_ASSERT_EQUAL(ert_frame_check(&f1, &err), ERT_OK);
                CU_ASSERT_EQUAL(f1.seq, (uint64_t)k);
                CU_ASSERT_EQUAL(f1.width, info.width);
                CU_ASSERT_EQUAL(f1.format, fmts[fi]);
                for (int p = 0; p < 3; p++) {
                    size_t row = packed_row(f1.format, f1.width, p);
                    if (row) {
                        CU_ASSERT_TRUE(f1.stride[p] > row);
                    } else {
                        CU_ASSERT_PTR_NULL(f1.plane[p]);
                    }
                }
                size_t n1 = pack(&f1, a), n2 = pack(&f2, b);
                CU_ASSERT_EQUAL(n1, n2);
                CU_ASSERT_EQUAL(memcmp(a, b, n1), 0); /* same spec, same seq: same bytes */
                if (k > 0 && si == 3)
                    CU_ASSERT_TRUE(prev_n == n1); /* noise moves but keeps its size */
                prev_n = n1;
                /* padding bytes stay untouched */
                CU_ASSERT_EQUAL(f1.plane[0][packed_row(f1.format, f1.width, 0)], 0xA5);
            }
            ert_source_close(&s1);
            ert_source_close(&s2);
        }
}

static void test_source_synthetic_bars_known_pixels(void)
{
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = -1};
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:bars:16x2", &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    ert_frame f;
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    /* Frame 0: bars of 2 pixels: white, yellow, cyan, green, magenta, red, blue, black. */
    static const uint8_t want0[8][3] = {{255, 255, 255}, {255, 255, 0}, {0, 255, 255}, {0, 255, 0},
                                        {255, 0, 255},   {255, 0, 0},   {0, 0, 255},   {0, 0, 0}};
    for (int x = 0; x < 16; x++)
        CU_ASSERT_EQUAL(memcmp(f.plane[0] + f.stride[0] + 3 * x, want0[x / 2], 3), 0);
    /* Frame 1: scrolled left by one pixel. */
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL(memcmp(f.plane[0] + 3 * 1, want0[1], 3), 0);
    CU_ASSERT_EQUAL(memcmp(f.plane[0] + 3 * 15, want0[0], 3), 0);
    ert_source_close(&s);

    /* The same bars in YUV420 and GRAY8: white is Y 235 (limited range) and grey 255. */
    cfg.format = ERT_PIX_YUV420;
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:bars:16x2", &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL(f.plane[0][0], 235);
    CU_ASSERT_EQUAL(f.plane[1][0], 128);
    CU_ASSERT_EQUAL(f.plane[2][0], 128);
    CU_ASSERT_EQUAL(f.plane[0][15], 16); /* black */
    ert_source_close(&s);
    cfg.format = ERT_PIX_GRAY8;
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:bars:16x2", &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL(f.plane[0][0], 255);
    CU_ASSERT_EQUAL(f.plane[0][2], 226); /* yellow: (77*255 + 150*255 + 128) >> 8 */
    ert_source_close(&s);
    /* Default size and format. */
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:checker", NULL, &s, &err), ERT_OK);
    ert_source_info info;
    ert_source_get_info(&s, &info);
    CU_ASSERT_EQUAL(info.width, 320);
    CU_ASSERT_EQUAL(info.height, 240);
    CU_ASSERT_EQUAL(info.format, ERT_PIX_RGB24);
    CU_ASSERT_DOUBLE_EQUAL(info.fps, 30.0, 1e-9);
    CU_ASSERT_STRING_EQUAL(info.detail, "checker");
    ert_source_close(&s);
}

/* Frame 0 of bars:16x2 has 2-pixel bars, so every 2x2 block is one colour: the YUV
 * formats convert back to the RGB24 frame within the rounding of Y, U and V (2 per
 * channel), and BGR24 is the exact byte swap. */
static void test_source_synthetic_formats_agree_with_rgb(void)
{
    static const ert_pixfmt fmts[] = {ERT_PIX_BGR24, ERT_PIX_YUV420, ERT_PIX_NV12, ERT_PIX_YUYV};
    uint8_t ref[16 * 2 * 3], got[16 * 2 * 3];
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = -1};
    ert_frame f;
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:bars:16x2", &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL_FATAL(ert_frame_to_rgb(&f, ref, &err), ERT_OK);
    ert_source_close(&s);
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        cfg.format = fmts[i];
        CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:bars:16x2", &cfg, &s, &err), ERT_OK);
        CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
        CU_ASSERT_EQUAL_FATAL(next_frame(&s, 1000, &f), ERT_SOURCE_FRAME);
        CU_ASSERT_EQUAL_FATAL(ert_frame_to_rgb(&f, got, &err), ERT_OK);
        int worst = 0;
        for (size_t k = 0; k < sizeof ref; k++) {
            int d = abs((int)ref[k] - (int)got[k]);
            worst = d > worst ? d : worst;
        }
        CU_ASSERT_TRUE(worst <= (fmts[i] == ERT_PIX_BGR24 ? 0 : 2));
        ert_source_close(&s);
    }
}

/* ---- timeouts and stop ---- */

static void test_source_next_honours_timeout(void)
{
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = 5}; /* 200 ms period */
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:noise:8x8", &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    ert_frame f;
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, 0, &f), ERT_SOURCE_FRAME); /* frame 0 is due at once */
    uint64_t t0 = f.t_capture_ns, before = now_ns();
    CU_ASSERT_EQUAL(next_frame(&s, 20, &f), ERT_SOURCE_TIMEOUT);
    CU_ASSERT_TRUE(now_ns() - before >= 20000000u);
    CU_ASSERT_EQUAL(next_frame(&s, 0, &f), ERT_SOURCE_TIMEOUT);
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, -1, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL(f.seq, 1); /* timeouts do not consume frames */
    CU_ASSERT_TRUE(f.t_capture_ns - t0 >= 200000000u);
    ert_source_stats st;
    ert_source_get_stats(&s, &st);
    CU_ASSERT_EQUAL(st.frames, 2);
    CU_ASSERT_EQUAL(st.timeouts, 2);
    ert_source_close(&s);
}

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    ert_source_stop(arg);
    return NULL;
}

static void test_source_stop_wakes_a_blocked_next(void)
{
    ert_source s;
    ert_error err;
    ert_source_config cfg = {.fps = 0.2}; /* a frame every 5 s */
    CU_ASSERT_EQUAL_FATAL(open_spec("synthetic:bars:4x4", &cfg, &s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    ert_frame f;
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, -1, &f), ERT_SOURCE_FRAME);
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stop_later, &s), 0);
    uint64_t before = now_ns();
    CU_ASSERT_EQUAL(next_frame(&s, -1, &f), ERT_SOURCE_END);
    CU_ASSERT_TRUE(now_ns() - before < 4000000000u);
    pthread_join(th, NULL);
    /* And after stop, a restart hands out frame 0 again. */
    CU_ASSERT_EQUAL_FATAL(ert_source_start(&s, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(next_frame(&s, -1, &f), ERT_SOURCE_FRAME);
    CU_ASSERT_EQUAL(f.seq, 0);
    ert_source_close(&s);
}

/* ---- libcamera ---- */

static void test_source_libcamera_without_cameras(void)
{
    ert_camera_info cams[4];
    size_t n = 0;
    ert_error err;
    ert_status st = ert_camera_list(cams, 4, &n, &err);
    ert_source s;
    if (st == ERT_EUNSUPPORTED) { /* libcamera not built in */
        CU_ASSERT_EQUAL(open_spec("libcamera:0", NULL, &s, &err), ERT_EUNSUPPORTED);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "libcamera is not built in"));
        return;
    }
    CU_ASSERT_EQUAL_FATAL(st, ERT_OK);
    if (n > 0) {
        fprintf(stderr, "\n  (skipped: this machine has %zu camera(s))\n", n);
        return;
    }
    CU_ASSERT_EQUAL(open_spec("libcamera:0", NULL, &s, &err), ERT_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(err.msg, "libcamera: no camera with index 0 (0 cameras found)");
    CU_ASSERT_PTR_NULL(s.ops);
    CU_ASSERT_EQUAL(open_spec("libcamera:/base/soc/i2c0mux/i2c@1/imx219@10", NULL, &s, &err), ERT_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "libcamera: no camera with id '/base/soc/i2c0mux/i2c@1/imx219@10' (0 cameras found)");
    /* The shared camera manager is released and can be started again. */
    CU_ASSERT_EQUAL(ert_camera_list(cams, 4, &n, &err), ERT_OK);
    CU_ASSERT_EQUAL(n, 0);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_image_decode_into_uses_caller_memory),
    ERT_TEST(test_source_spec_errors_name_the_problem),
    ERT_TEST(test_source_replay_y4m_exact_frames_seq_and_end),
    ERT_TEST(test_source_replay_loop_keeps_counting),
    ERT_TEST(test_source_replay_paces_at_file_and_configured_rate),
    ERT_TEST(test_source_replay_folder_in_name_order),
    ERT_TEST(test_source_replay_folder_refuses_other_sizes),
    ERT_TEST(test_source_synthetic_every_format_padded_and_deterministic),
    ERT_TEST(test_source_synthetic_bars_known_pixels),
    ERT_TEST(test_source_synthetic_formats_agree_with_rgb),
    ERT_TEST(test_source_next_honours_timeout),
    ERT_TEST(test_source_stop_wakes_a_blocked_next),
    ERT_TEST(test_source_libcamera_without_cameras),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_source = {"source", cases};
