/* Still images and videos on disk: PPM/PGM natively, PNG (libspng) and JPEG
 * (libjpeg-turbo) through Debian's libraries, YUV4MPEG2 (.y4m) video natively. */
#ifndef EMBEDRT_IMAGE_H
#define EMBEDRT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A decoded image: frame (RGB24 or GRAY8, packed rows) plus the pixel memory it owns. */
typedef struct ert_image {
    ert_frame frame;
    uint8_t *pixels;
} ert_image;

/* Reads PPM (P6), PGM (P5), PNG or JPEG, chosen by content (magic bytes), into RGB24
 * (grayscale files become GRAY8). Size limit 16384 x 16384. Errors name the file. */
ert_status ert_image_read(const char *path, ert_image *out, ert_error *err);
/* Same from memory; label names the source in messages. */
ert_status ert_image_decode(const void *data, size_t len, const char *label, ert_image *out, ert_error *err);
/* The same into caller memory (cap bytes, packed rows) instead of allocating the pixels:
 * for sources that decode every frame into one buffer sized at start. PNG needs 3 bytes
 * per pixel even for grey images (it is decoded as RGB, then packed). An image that
 * does not fit is ERT_EUNSUPPORTED naming both sizes; *out views buf. The decoders'
 * own working memory (libspng, libjpeg) is still allocated and freed per call. */
ert_status ert_image_decode_into(const void *data, size_t len, const char *label, uint8_t *buf, size_t cap,
                                 ert_frame *out, ert_error *err);
ert_status ert_image_read_into(const char *path, uint8_t *buf, size_t cap, ert_frame *out, ert_error *err);
/* Writes a frame as binary PPM (P6; any format is converted to RGB first). */
ert_status ert_image_write_ppm(const char *path, const ert_frame *f, ert_error *err);
/* Converts any frame to packed RGB24 in dst (width*height*3 bytes). */
ert_status ert_frame_to_rgb(const ert_frame *f, uint8_t *dst, ert_error *err);
void ert_image_free(ert_image *img);

/* YUV4MPEG2 reader: 4:2:0 (C420jpeg/C420mpeg2/C420paldv/C420), 4:4:4 (C444) and mono
 * streams; frames are delivered as views valid until the next call. */
typedef struct ert_y4m ert_y4m;
ert_status ert_y4m_open(const char *path, ert_y4m **out, ert_error *err);
uint32_t ert_y4m_width(const ert_y4m *y);
uint32_t ert_y4m_height(const ert_y4m *y);
/* Frame rate as a fraction (0/0 when the header has none). */
void ert_y4m_rate(const ert_y4m *y, uint32_t *num, uint32_t *den);
/* Next frame; *eof is set (and OK returned) at the clean end of the stream. seq counts
 * from 0 and t_capture_ns follows the frame rate (30 fps when unknown). */
ert_status ert_y4m_next(ert_y4m *y, ert_frame *frame, bool *eof, ert_error *err);
/* Back to the first frame (for looping replays). */
ert_status ert_y4m_rewind(ert_y4m *y, ert_error *err);
void ert_y4m_close(ert_y4m *y);

/* YUV4MPEG2 writer (4:2:0 C420jpeg from RGB frames, BT.601 limited range). */
typedef struct ert_y4m_writer ert_y4m_writer;
ert_status ert_y4m_create(const char *path, uint32_t width, uint32_t height, uint32_t fps_num, uint32_t fps_den,
                          ert_y4m_writer **out, ert_error *err);
ert_status ert_y4m_write(ert_y4m_writer *w, const ert_frame *f, ert_error *err);
ert_status ert_y4m_finish(ert_y4m_writer *w, ert_error *err); /* flushes, closes, frees */

#ifdef __cplusplus
}
#endif
#endif
