/* Replay source: a YUV4MPEG2 video or a folder of .ppm/.pgm/.png frames handed out like
 * a camera's: paced (the file's rate, cfg.fps, or unpaced for cfg.fps < 0), with seq
 * counting every hand-out from 0 (loops keep counting) and CLOCK_MONOTONIC hand-out times.
 *
 * - y4m: frames are the reader's views (YUV420, GRAY8 or RGB24 for C444); its one frame
 *   buffer is allocated at open. The rate is the header's F tag, else 30 fps.
 * - Folder: regular files ending in .ppm, .pgm or .png (any case), in strcmp order of
 *   their names, listed at open; the first one is decoded at open to learn the size and
 *   format. Frames are read lazily, each into the one buffer allocated at start(). Every
 *   frame must have the first frame's size; a grey frame in an RGB sequence is expanded,
 *   an RGB frame in a grey sequence is an error naming the file. Rate: 30 fps.
 * - A frame is read before its deadline is awaited, so the timestamp is the deadline
 *   (not the deadline plus the read); a timeout keeps it for the next call. */
#include "source_internal.h"

#include "embedrt/image.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct replay {
    char *path;
    bool loop;
    double fps; /* nominal (info) */
    ert_pacer pacer;
    bool pacer_ok, started;
    /* y4m */
    ert_y4m *y4m;
    /* folder */
    char **names;
    size_t count, next_index;
    char *file; /* path buffer: folder + '/' + the longest name */
    uint8_t *buf;
    size_t buf_cap;
    /* both */
    uint32_t width, height;
    ert_pixfmt format;
    bool have_pending, ended;
    ert_frame pending;
    uint64_t seq;
    ert_source_stats stats;
} replay;

static void count(uint64_t *c)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static bool frame_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 5 || n[0] == '.')
        return false;
    const char *ext = n + len - 4;
    return strcasecmp(ext, ".ppm") == 0 || strcasecmp(ext, ".pgm") == 0 || strcasecmp(ext, ".png") == 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_close(void *state)
{
    replay *r = state;
    if (!r)
        return;
    if (r->pacer_ok)
        ert_pacer_destroy(&r->pacer);
    ert_y4m_close(r->y4m);
    for (size_t i = 0; i < r->count; i++)
        free(r->names[i]);
    free(r->names);
    free(r->file);
    free(r->buf);
    free(r->path);
    free(r);
}

static const char *folder_file(replay *r, size_t i)
{
    sprintf(r->file, "%s/%s", r->path, r->names[i]); /* sized at open for the longest name */
    return r->file;
}

static ert_status list_folder(replay *r, ert_error *err)
{
    DIR *d = opendir(r->path);
    if (!d)
        return ert_fail(err, errno == ENOENT ? ERT_ENOTFOUND : ERT_EIO, "replay:%s: cannot open folder (%s)", r->path,
                        strerror(errno));
    size_t cap = 0, longest = 0;
    ert_status st = ERT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!frame_name(e->d_name))
            continue;
        if (r->count == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            char **n = ncap < ((size_t)1 << 28) ? realloc(r->names, ncap * sizeof *n) : NULL;
            if (!n) {
                st = ert_fail(err, ERT_ENOMEM, "replay:%s: too many frames to list", r->path);
                break;
            }
            r->names = n;
            cap = ncap;
        }
        if (!(r->names[r->count] = strdup(e->d_name))) {
            st = ert_fail(err, ERT_ENOMEM, "replay:%s: out of memory listing frames", r->path);
            break;
        }
        size_t len = strlen(e->d_name);
        longest = len > longest ? len : longest;
        r->count++;
    }
    closedir(d);
    if (st != ERT_OK)
        return st;
    if (r->count == 0)
        return ert_fail(err, ERT_ENOTFOUND, "replay:%s: folder has no .ppm, .pgm or .png frames", r->path);
    qsort(r->names, r->count, sizeof *r->names, name_cmp);
    if (!(r->file = malloc(strlen(r->path) + longest + 2)))
        return ert_fail(err, ERT_ENOMEM, "replay:%s: out of memory", r->path);
    /* The first frame fixes size and format (decoded once, here, so info() knows them). */
    ert_image first;
    st = ert_image_read(folder_file(r, 0), &first, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "replay:%s: first frame", r->path);
    r->width = first.frame.width;
    r->height = first.frame.height;
    r->format = first.frame.format;
    ert_image_free(&first);
    return ERT_OK;
}

ert_status ert_replay_open(const char *path, const ert_source_config *cfg, ert_source *out, ert_error *err)
{
    if (!*path)
        return ert_fail(err, ERT_EINVAL, "replay: no path (use replay:FILE.y4m or replay:FOLDER)");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ert_fail(err, errno == ENOENT ? ERT_ENOTFOUND : ERT_EIO, "replay:%s: %s", path, strerror(errno));
    replay *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return ert_fail(err, ERT_ENOMEM, "replay:%s: out of memory", path);
    }
    r->loop = cfg->loop;
    ert_status st;
    double own_fps = 30.0;
    if (S_ISDIR(sb.st_mode)) {
        st = list_folder(r, err);
    } else {
        st = ert_y4m_open(path, &r->y4m, err);
        if (st == ERT_OK) {
            uint32_t num, den;
            ert_y4m_rate(r->y4m, &num, &den);
            if (num && den)
                own_fps = (double)num / den;
            r->width = ert_y4m_width(r->y4m);
            r->height = ert_y4m_height(r->y4m);
            /* The reader's output format follows from the colour space; peek the first frame. */
            ert_frame f;
            bool eof;
            st = ert_y4m_next(r->y4m, &f, &eof, err);
            if (st == ERT_OK && eof)
                st = ert_fail(err, ERT_EFORMAT, "replay:%s: video has no frames", path);
            if (st == ERT_OK) {
                r->format = f.format;
                st = ert_y4m_rewind(r->y4m, err);
            }
        }
    }
    if (st == ERT_OK) {
        r->fps = cfg->fps > 0 ? cfg->fps : cfg->fps < 0 ? 0 : own_fps;
        st = ert_pacer_init(&r->pacer, cfg->fps < 0 ? -1 : r->fps, path, err);
        r->pacer_ok = st == ERT_OK;
    }
    if (st != ERT_OK) {
        replay_close(r);
        return st;
    }
    out->ops = &ert_replay_ops;
    out->state = r;
    return ERT_OK;
}

static ert_status replay_start(void *state, ert_error *err)
{
    replay *r = state;
    if (r->y4m) {
        ert_status st = ert_y4m_rewind(r->y4m, err);
        if (st != ERT_OK)
            return st;
    } else if (!r->buf) {
        size_t px = (size_t)r->width * r->height;
        r->buf_cap = 3 * px; /* PNG decodes through RGB even for grey images */
        if (!(r->buf = malloc(r->buf_cap)))
            return ert_fail(err, ERT_ENOMEM, "replay:%s: cannot allocate a %ux%u frame buffer", r->path, r->width,
                            r->height);
    }
    r->next_index = 0;
    r->seq = 0;
    r->have_pending = r->ended = false;
    memset(&r->stats, 0, sizeof r->stats);
    ert_pacer_restart(&r->pacer);
    r->started = true;
    return ERT_OK;
}

/* Reads frame next_index of the folder into buf as *f. */
static ert_status read_folder_frame(replay *r, ert_frame *f, ert_error *err)
{
    const char *file = folder_file(r, r->next_index);
    ert_status st = ert_image_read_into(file, r->buf, r->buf_cap, f, err);
    if (st == ERT_EUNSUPPORTED)
        return ert_error_prefix(err, "replay:%s: every frame must have the first frame's size %ux%u (%s)", r->path,
                                r->width, r->height, r->names[0]);
    if (st != ERT_OK)
        return ert_error_prefix(err, "replay:%s", r->path);
    if (f->width != r->width || f->height != r->height)
        return ert_fail(err, ERT_EFORMAT, "replay:%s: %s is %ux%u, but every frame must have the first frame's size %ux%u (%s)",
                        r->path, r->names[r->next_index], f->width, f->height, r->width, r->height, r->names[0]);
    if (f->format != r->format) {
        if (r->format == ERT_PIX_GRAY8)
            return ert_fail(err, ERT_EFORMAT, "replay:%s: %s is colour, but the first frame (%s) is grey", r->path,
                            r->names[r->next_index], r->names[0]);
        /* Grey in an RGB sequence: expand in place, from the end backwards. */
        size_t n = (size_t)r->width * r->height;
        for (size_t i = n; i-- > 0;)
            r->buf[3 * i] = r->buf[3 * i + 1] = r->buf[3 * i + 2] = r->buf[i];
        f->format = ERT_PIX_RGB24;
        f->stride[0] = 3 * r->width;
    }
    return ERT_OK;
}

/* Reads the next frame (looping when configured); *end when there is none. */
static ert_status read_next(replay *r, ert_frame *f, bool *end, ert_error *err)
{
    *end = false;
    for (int pass = 0; pass < 2; pass++) {
        if (r->y4m) {
            bool eof;
            ert_status st = ert_y4m_next(r->y4m, f, &eof, err);
            if (st != ERT_OK)
                return ert_error_prefix(err, "replay");
            if (!eof)
                return ERT_OK;
            if (!r->loop)
                break;
            if ((st = ert_y4m_rewind(r->y4m, err)) != ERT_OK)
                return st;
        } else {
            if (r->next_index < r->count) {
                ert_status st = read_folder_frame(r, f, err);
                if (st == ERT_OK)
                    r->next_index++;
                return st;
            }
            if (!r->loop)
                break;
            r->next_index = 0;
        }
    }
    *end = true;
    return ERT_OK;
}

static ert_status replay_next(void *state, int timeout_ms, ert_frame *frame, ert_source_result *res, ert_error *err)
{
    replay *r = state;
    *res = ERT_SOURCE_END;
    if (!r->started)
        return ert_fail(err, ERT_EINVAL, "replay:%s: next() before start()", r->path);
    if (r->ended || ert_pacer_stopped(&r->pacer))
        return ERT_OK;
    if (!r->have_pending) {
        bool end;
        ert_status st = read_next(r, &r->pending, &end, err);
        if (st != ERT_OK)
            return st;
        if (end) {
            r->ended = true;
            return ERT_OK;
        }
        r->have_pending = true;
    }
    uint64_t t;
    switch (ert_pacer_wait(&r->pacer, timeout_ms, &t)) {
    case ERT_PACE_STOPPED: return ERT_OK;
    case ERT_PACE_TIMEOUT:
        count(&r->stats.timeouts);
        *res = ERT_SOURCE_TIMEOUT;
        return ERT_OK;
    case ERT_PACE_DUE: break;
    }
    *frame = r->pending;
    frame->seq = r->seq++;
    frame->t_capture_ns = t;
    r->have_pending = false;
    count(&r->stats.frames);
    *res = ERT_SOURCE_FRAME;
    return ERT_OK;
}

static void replay_stop(void *state)
{
    ert_pacer_stop(&((replay *)state)->pacer);
}

static void replay_info(const void *state, ert_source_info *out)
{
    const replay *r = state;
    snprintf(out->kind, sizeof out->kind, "replay");
    snprintf(out->detail, sizeof out->detail, "%s", r->path);
    out->width = r->width;
    out->height = r->height;
    out->format = r->format;
    out->fps = r->fps;
}

void ert_replay_stats(const void *state, ert_source_stats *out)
{
    const replay *r = state;
    out->frames = __atomic_load_n(&r->stats.frames, __ATOMIC_RELAXED);
    out->timeouts = __atomic_load_n(&r->stats.timeouts, __ATOMIC_RELAXED);
    out->drops = out->errors = 0;
}

const ert_source_ops ert_replay_ops = {
    .start = replay_start,
    .next = replay_next,
    .stop = replay_stop,
    .close = replay_close,
    .info = replay_info,
};
