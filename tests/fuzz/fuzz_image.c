/* libFuzzer target: the still-image decoders (PPM/PGM, PNG via libspng, JPEG via
 * libjpeg-turbo) on hostile bytes. Must never crash, leak or write to stderr; whatever
 * decodes must be a consistent frame whose every byte is readable. */
#include "embedrt/image.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ert_image img;
    ert_error err;
    if (ert_image_decode(data, size, "fuzz", &img, &err) != ERT_OK) {
        if (img.pixels)
            __builtin_trap();
        return 0;
    }
    const ert_frame *f = &img.frame;
    if (ert_frame_check(f, &err) != ERT_OK || f->plane[0] != img.pixels ||
        (f->format != ERT_PIX_RGB24 && f->format != ERT_PIX_GRAY8))
        __builtin_trap();
    size_t bytes = (size_t)f->stride[0] * f->height;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < bytes; i++) /* ASan: the whole frame lies inside the buffer */
        sink ^= img.pixels[i];
    (void)sink;
    ert_image_free(&img);
    return 0;
}
