/* libFuzzer target: the YUV4MPEG2 reader on hostile bytes, through its real file path
 * (an in-memory memfd opened by name). Reads up to 16 frames, rewinds, reads one more,
 * and preprocesses what it gets; nothing may crash, leak or reach past a buffer. */
#include "embedrt/image.h"
#include "embedrt/preprocess.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void preprocess(const ert_frame *f, const char *spec)
{
    ert_error err;
    ert_preprocess pp;
    if (ert_preprocess_parse(spec, &pp, &err) != ERT_OK)
        __builtin_trap();
    size_t bytes = ert_preprocess_scratch(&pp, f->width, f->height, 5, 3);
    void *scratch = malloc(bytes);
    float out[45];
    if (!scratch || ert_preprocess_run(&pp, f, out, 5, 3, scratch, bytes, &err) != ERT_OK)
        __builtin_trap();
    free(scratch);
}

static void use(const ert_frame *f)
{
    ert_error err;
    if (ert_frame_check(f, &err) != ERT_OK)
        __builtin_trap();
    preprocess(f, "crop=center,resize=5x3:area,flip=horizontal");
    preprocess(f, "resize=5x3:bilinear,flip=vertical"); /* converts only the columns it reads */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_y4m", 0);
        if (fd < 0)
            __builtin_trap();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        __builtin_trap();
    ert_y4m *y;
    ert_error err;
    if (ert_y4m_open(path, &y, &err) != ERT_OK)
        return 0;
    ert_frame f;
    bool eof = false;
    for (int i = 0; i < 16 && !eof; i++) {
        if (ert_y4m_next(y, &f, &eof, &err) != ERT_OK)
            break;
        if (!eof)
            use(&f);
    }
    if (ert_y4m_rewind(y, &err) == ERT_OK && ert_y4m_next(y, &f, &eof, &err) == ERT_OK && !eof)
        use(&f);
    ert_y4m_close(y);
    return 0;
}
