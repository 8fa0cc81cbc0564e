/* Camera frames and images as every frame source delivers them: 8-bit pixels in one of
 * a few layouts, with real strides, capture timestamps and sequence numbers. */
#ifndef EMBEDRT_FRAME_H
#define EMBEDRT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ert_pixfmt {
    ERT_PIX_RGB24 = 1,  /* R,G,B bytes per pixel, plane 0 */
    ERT_PIX_BGR24 = 2,  /* B,G,R */
    ERT_PIX_GRAY8 = 3,  /* one byte per pixel */
    ERT_PIX_YUV420 = 4, /* I420: Y plane, then U and V planes at half width and height (rounded up) */
    ERT_PIX_NV12 = 5,   /* Y plane, then one interleaved U,V plane at half resolution */
    ERT_PIX_YUYV = 6,   /* Y0,U,Y1,V per two pixels, plane 0 */
} ert_pixfmt;

typedef struct ert_frame {
    ert_pixfmt format;
    uint32_t width, height;
    uint32_t stride[3];        /* bytes per row of each plane (>= the packed row size) */
    const uint8_t *plane[3];   /* planes used by the format; others NULL */
    uint64_t t_capture_ns;     /* CLOCK_MONOTONIC at capture (sensor timestamp when known) */
    uint64_t seq;              /* frame sequence number of its source */
} ert_frame;

/* Checks that f's planes and strides are consistent with its format and size
 * (non-NULL planes, strides >= row bytes, sizes > 0 and <= 32768). */
ert_status ert_frame_check(const ert_frame *f, ert_error *err);
const char *ert_pixfmt_name(ert_pixfmt fmt);
/* Bytes of one packed row of plane p (0, 1, 2) of a frame `width` pixels wide, or 0 when
 * the format does not use plane p. */
size_t ert_pixfmt_row_bytes(ert_pixfmt fmt, uint32_t width, int p);
/* Rows of plane p of a frame `height` rows high (chroma planes of 4:2:0 round up), 0 when unused. */
uint32_t ert_pixfmt_plane_rows(ert_pixfmt fmt, uint32_t height, int p);

#ifdef __cplusplus
}
#endif
#endif
