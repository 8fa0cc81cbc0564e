/* Cameras as embedrt sees them: enumeration through libcamera (when built in), and
 * counters of the frame sources (the interface itself is embedrt/source.h). */
#ifndef EMBEDRT_CAMERA_H
#define EMBEDRT_CAMERA_H

#include <stddef.h>

#include <stdint.h>

#include "embedrt/source.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ert_camera_info {
    char id[128];      /* libcamera's stable id, e.g. "/base/soc/i2c0mux/i2c@1/imx219@10" */
    char model[64];    /* sensor model when the camera reports it, else "" */
    char location[16]; /* "front", "back", "external" or "" */
} ert_camera_info;

/* libcamera's version string, or NULL when this build has no libcamera backend. */
const char *ert_camera_libcamera_version(void);

/* Lists up to cap cameras into out and sets *count to the number libcamera found
 * (which may exceed cap). Zero cameras is success. ERT_EUNSUPPORTED when libcamera
 * is not built in; ERT_EIO when its camera manager cannot start. */
ert_status ert_camera_list(ert_camera_info *out, size_t cap, size_t *count, ert_error *err);

/* What a source has done since start(); safe to read from any thread while another
 * calls next(). */
typedef struct ert_source_stats {
    uint64_t frames;   /* handed out by next() */
    uint64_t drops;    /* cameras: completed frames replaced by a newer one before next() took them */
    uint64_t errors;   /* cameras: frames the driver marked failed or MJPEG frames that did not decode */
    uint64_t timeouts; /* next() calls that returned ERT_SOURCE_TIMEOUT */
} ert_source_stats;

/* Counters of any source opened by ert_source_open (all zero for a zeroed struct). */
void ert_source_get_stats(const ert_source *s, ert_source_stats *out);

#ifdef __cplusplus
}
#endif
#endif
