/* Frame sources: one interface, three backends (libcamera, replay, synthetic).
 *
 * A source is a struct of callbacks with a state pointer, like a nanopb stream. The
 * daemon runs one capture thread per source that calls next() in a loop; next() blocks
 * until a frame is ready (or the timeout passes) and hands out a frame that stays valid
 * until the following next() or stop() on the same source. Frames carry the source's
 * own sequence numbers and CLOCK_MONOTONIC capture timestamps (sensor timestamps for
 * cameras). Nothing here allocates per frame: buffers are sized at start(). */
#ifndef EMBEDRT_SOURCE_H
#define EMBEDRT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/frame.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What next() reports besides a frame. */
typedef enum ert_source_result {
    ERT_SOURCE_FRAME = 0,   /* *frame is valid until the next call */
    ERT_SOURCE_TIMEOUT = 1, /* no frame within timeout_ms (the caller's watchdog counts these) */
    ERT_SOURCE_END = 2,     /* end of a replay without loop; further calls keep returning END */
} ert_source_result;

/* Requested capture settings; 0 / ERT_PIX unset means "the source's own". A camera
 * picks the closest configuration it offers and reports it through info(). */
typedef struct ert_source_config {
    uint32_t width, height;
    ert_pixfmt format;      /* 0: source default (cameras prefer RGB24/BGR24, then YUV420, NV12, YUYV, MJPEG) */
    double fps;             /* replay: playback rate (0: the file's own rate; <0: as fast as possible);
                               cameras: frame-rate control when offered; synthetic: rate (0: 30) */
    bool loop;              /* replay: start again at the end */
    uint32_t buffers;       /* camera buffers (0: 4) */
} ert_source_config;

typedef struct ert_source_info {
    char kind[16];          /* "libcamera", "replay", "synthetic" */
    char detail[256];       /* camera id, file or folder path, pattern name */
    uint32_t width, height;
    ert_pixfmt format;      /* of the frames next() hands out (MJPEG is decoded to RGB24) */
    double fps;             /* nominal, 0 when unknown */
} ert_source_info;

typedef struct ert_source_ops {
    ert_status (*start)(void *state, ert_error *err);
    ert_status (*next)(void *state, int timeout_ms, ert_frame *frame, ert_source_result *res, ert_error *err);
    void (*stop)(void *state);     /* idempotent; after it next() returns END */
    void (*close)(void *state);    /* frees everything; state is gone */
    void (*info)(const void *state, ert_source_info *out);
} ert_source_ops;

typedef struct ert_source {
    const ert_source_ops *ops;
    void *state;
} ert_source;

/* Opens a source from a spec string:
 *   libcamera:ID_OR_INDEX      a camera by libcamera id or by index in `embedrtd --list-cameras`
 *   replay:PATH                a .y4m video, or a folder of .ppm/.pgm/.png frames in name order
 *   synthetic:PATTERN[:WxH]    "bars" (moving colour bars), "checker", "noise"; odd sizes allowed
 * Fails with a message naming the spec and the problem (unknown kind, missing file, no such
 * camera, libcamera not built in). The source is opened but not started. */
ert_status ert_source_open(const char *spec, const ert_source_config *cfg, ert_source *out, ert_error *err);

static inline ert_status ert_source_start(ert_source *s, ert_error *err)
{
    return s->ops->start(s->state, err);
}
static inline ert_status ert_source_next(ert_source *s, int timeout_ms, ert_frame *f, ert_source_result *res,
                                         ert_error *err)
{
    return s->ops->next(s->state, timeout_ms, f, res, err);
}
static inline void ert_source_stop(ert_source *s)
{
    s->ops->stop(s->state);
}
/* Closes (stopping first if needed) and clears *s; safe on a zeroed struct. */
void ert_source_close(ert_source *s);
void ert_source_get_info(const ert_source *s, ert_source_info *out);

#ifdef __cplusplus
}
#endif
#endif
