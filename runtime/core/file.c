/* ert_file_map: mmap a file read-only, or read it when it cannot be mapped (pipes). */
#include "embedrt/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t empty_file[1];

ert_status ert_file_map_open(const char *path, ert_file_map *m, ert_error *err)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ert_fail(err, errno == ENOENT ? ERT_ENOTFOUND : ERT_EIO, "%s: cannot open (%s)", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ert_fail(err, ERT_EIO, "%s: cannot stat (%s)", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return ert_fail(err, ERT_EINVAL, "%s: is a directory, not a file", path);
    }
    if (S_ISREG(st.st_mode)) {
        if (st.st_size == 0) {
            close(fd);
            m->data = empty_file;
            return ERT_OK;
        }
        if ((uint64_t)st.st_size > SIZE_MAX) {
            close(fd);
            return ert_fail(err, ERT_ENOMEM, "%s: too large to map", path);
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            m->data = p;
            m->size = (size_t)st.st_size;
            m->mapped = 1;
            return ERT_OK;
        }
    }
    /* Not mappable: read it whole, with a cap to refuse endless streams. */
    size_t cap = 1 << 16, len = 0;
    const size_t limit = (size_t)1 << 32;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            if (cap >= limit) {
                free(buf);
                close(fd);
                return ert_fail(err, ERT_ENOMEM, "%s: larger than %zu bytes", path, limit);
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return ert_fail(err, ERT_EIO, "%s: read failed (%s)", path, strerror(e));
        }
        if (r == 0) {
            close(fd);
            m->data = buf;
            m->size = len;
            return ERT_OK;
        }
        len += (size_t)r;
    }
    free(buf);
    close(fd);
    return ert_fail(err, ERT_ENOMEM, "%s: out of memory reading the file", path);
}

void ert_file_map_close(ert_file_map *m)
{
    if (m->data && m->data != empty_file) {
        if (m->mapped)
            munmap((void *)m->data, m->size);
        else
            free((void *)m->data);
    }
    memset(m, 0, sizeof *m);
}
