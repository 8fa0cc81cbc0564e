/* Blob loading: maps or copies the file, validates header, section table, CRCs and
 * compression, then hands "meta" and "weights" to the meta decoder (blob_meta.c). */
#include "blob_internal.h"

#include "embedrt/compress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Constants are used in place and stored little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "embedrt blobs are little-endian; a big-endian reader would need to swap weights"
#endif

/* The container as parsed: section infos in table order (temporary array). */
typedef struct container {
    uint16_t major, minor;
    uint32_t n;
    ert_blob_section_info *sec;
    int meta, weights; /* indices into sec, -1 when absent */
    int family;        /* the optional "family" section (family parameters), -1 when absent */
} container;

static int cmp_by_offset(const void *a, const void *b)
{
    const ert_blob_section_info *x = *(const ert_blob_section_info *const *)a;
    const ert_blob_section_info *y = *(const ert_blob_section_info *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->stored_size < y->stored_size ? -1 : (x->stored_size > y->stored_size);
}

static ert_status parse_header(const uint8_t *f, size_t len, container *c, ert_error *err)
{
    size_t m = len < 8 ? len : 8;
    if (memcmp(f, ert_blob_magic, m) != 0)
        return ert_fail(err, ERT_EFORMAT, "not an embedrt blob (bad magic)");
    if (len >= 12) {
        c->major = ert_get16(f + ERT_HDR_MAJOR);
        c->minor = ert_get16(f + ERT_HDR_MINOR);
        if (c->major > ERT_BLOB_FORMAT_MAJOR)
            return ert_fail(err, ERT_EUNSUPPORTED, "blob format %u.%u is newer than this embedrt (reads %d.x); upgrade embedrt",
                            c->major, c->minor, ERT_BLOB_FORMAT_MAJOR);
        if (c->major < ERT_BLOB_FORMAT_MAJOR)
            return ert_fail(err, ERT_EUNSUPPORTED, "blob format %u.%u is older than this embedrt reads (%d.x); convert the model again",
                            c->major, c->minor, ERT_BLOB_FORMAT_MAJOR);
    }
    if (len < ERT_HDR_SIZE)
        return ert_fail(err, ERT_EFORMAT, "truncated: %zu bytes, shorter than the %d-byte header", len, ERT_HDR_SIZE);
    const uint32_t hsize = ert_get32(f + ERT_HDR_HEADER_SIZE), count = ert_get32(f + ERT_HDR_SECTION_COUNT),
                   esize = ert_get32(f + ERT_HDR_ENTRY_SIZE), flags = ert_get32(f + ERT_HDR_FLAGS),
                   crc = ert_get32(f + ERT_HDR_CRC);
    const uint64_t toff = ert_get64(f + ERT_HDR_TABLE_OFFSET), fsize = ert_get64(f + ERT_HDR_FILE_SIZE);
    if (fsize > len)
        return ert_fail(err, ERT_EFORMAT, "truncated: the header says %llu bytes, the file has %zu",
                        (unsigned long long)fsize, len);
    if (fsize < len)
        return ert_fail(err, ERT_EFORMAT, "%llu unexpected bytes after the end of the blob (%llu bytes)",
                        (unsigned long long)(len - fsize), (unsigned long long)fsize);
    if (hsize < ERT_HDR_SIZE || hsize > len)
        return ert_fail(err, ERT_EFORMAT, "header size %u is out of range (%d..%zu)", hsize, ERT_HDR_SIZE, len);
    if (esize < ERT_SEC_ENTRY_SIZE || esize > 4096)
        return ert_fail(err, ERT_EFORMAT, "section table entry size %u is out of range (%d..4096)", esize,
                        ERT_SEC_ENTRY_SIZE);
    const uint64_t tbytes = (uint64_t)count * esize; /* < 2^44: cannot overflow */
    if (toff < hsize || toff > len || tbytes > len - toff)
        return ert_fail(err, ERT_EFORMAT, "section table (%u entries of %u bytes at %llu) lies outside the file (%zu bytes)",
                        count, esize, (unsigned long long)toff, len);
    uint8_t zero[4] = {0};
    uint32_t got = ert_crc32(0, f, ERT_HDR_CRC);
    got = ert_crc32(got, zero, 4);
    got = ert_crc32(got, f + ERT_HDR_CRC + 4, hsize - ERT_HDR_CRC - 4);
    got = ert_crc32(got, f + toff, (size_t)tbytes);
    if (got != crc)
        return ert_fail(err, ERT_EFORMAT, "header CRC mismatch (expected 0x%08x, got 0x%08x)", crc, got);
    if (flags & ERT_HDR_REQUIRED_FLAGS & ~(uint32_t)ERT_HDR_KNOWN_FLAGS)
        return ert_fail(err, ERT_EUNSUPPORTED, "header flags 0x%08x need features this embedrt (format %d.%d) lacks; upgrade embedrt",
                        flags, ERT_BLOB_FORMAT_MAJOR, ERT_BLOB_FORMAT_MINOR);
    if (count == 0)
        return ert_fail(err, ERT_EFORMAT, "the section table is empty");
    if (count > ERT_BLOB_MAX_SECTIONS)
        return ert_fail(err, ERT_EFORMAT, "the section table has %u entries; at most %d are allowed", count,
                        ERT_BLOB_MAX_SECTIONS);

    c->n = count;
    c->meta = c->weights = c->family = -1;
    c->sec = calloc(count, sizeof *c->sec);
    const ert_blob_section_info **order = calloc(count, sizeof *order);
    if (!c->sec || !order) {
        free(order);
        return ert_fail(err, ERT_ENOMEM, "out of memory for %u sections", count);
    }
    ert_status st = ERT_OK;
    const uint64_t table_end = toff + tbytes;
    for (uint32_t i = 0; i < count && st == ERT_OK; i++) {
        const uint8_t *e = f + toff + (uint64_t)i * esize;
        ert_blob_section_info *s = &c->sec[i];
        size_t nl = strnlen((const char *)e, ERT_BLOB_SECTION_NAME);
        bool padded = nl < ERT_BLOB_SECTION_NAME;
        for (size_t k = nl; k < ERT_BLOB_SECTION_NAME; k++)
            padded = padded && e[k] == 0;
        if (!padded || !ert_blob_name_ok((const char *)e, nl)) {
            st = ert_fail(err, ERT_EFORMAT, "section %u has an invalid name", i);
            break;
        }
        memcpy(s->name, e, ERT_BLOB_SECTION_NAME);
        s->flags = ert_get32(e + ERT_SEC_FLAGS);
        s->crc32 = ert_get32(e + ERT_SEC_CRC);
        s->offset = ert_get64(e + ERT_SEC_OFFSET);
        s->stored_size = ert_get64(e + ERT_SEC_STORED_SIZE);
        s->size = ert_get64(e + ERT_SEC_SIZE);
        s->compressed = s->flags & ERT_BLOB_SECTION_ZLIB;
        s->required = s->flags & ERT_BLOB_SECTION_REQUIRED;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(c->sec[j].name, s->name) == 0)
                st = ert_fail(err, ERT_EFORMAT, "section '%.*s' appears twice", ERT_BLOB_SECTION_NAME, (const char *)e);
        if (st != ERT_OK)
            break;
        if (strcmp(s->name, "meta") == 0)
            c->meta = (int)i;
        else if (strcmp(s->name, "weights") == 0)
            c->weights = (int)i;
        else if (strcmp(s->name, "family") == 0)
            c->family = (int)i;
        s->known = c->meta == (int)i || c->weights == (int)i || c->family == (int)i;
        if (s->offset % ERT_BLOB_ALIGN != 0)
            st = ert_fail(err, ERT_EFORMAT, "section '%s' at offset %llu is not %d-byte aligned", s->name,
                          (unsigned long long)s->offset, ERT_BLOB_ALIGN);
        else if (s->offset > len || s->stored_size > len - s->offset)
            st = ert_fail(err, ERT_EFORMAT, "section '%s' [%llu, +%llu) lies outside the file (%zu bytes)", s->name,
                          (unsigned long long)s->offset, (unsigned long long)s->stored_size, len);
        else if (s->stored_size > 0 &&
                 (s->offset < hsize || (s->offset < table_end && toff < s->offset + s->stored_size)))
            st = ert_fail(err, ERT_EFORMAT, "section '%s' at offset %llu overlaps the header or the section table",
                          s->name, (unsigned long long)s->offset);
        order[i] = s;
    }
    if (st == ERT_OK) {
        qsort(order, count, sizeof *order, cmp_by_offset);
        for (uint32_t i = 1; i < count && st == ERT_OK; i++)
            if (order[i - 1]->offset + order[i - 1]->stored_size > order[i]->offset)
                st = ert_fail(err, ERT_EFORMAT, "sections '%s' and '%s' overlap", order[i - 1]->name, order[i]->name);
    }
    for (uint32_t i = 0; i < count && st == ERT_OK; i++)
        if (!c->sec[i].known && c->sec[i].required)
            st = ert_fail(err, ERT_EUNSUPPORTED,
                          "section '%s' is required but unknown to this embedrt (reads format %d.%d); upgrade embedrt",
                          c->sec[i].name, ERT_BLOB_FORMAT_MAJOR, ERT_BLOB_FORMAT_MINOR);
    if (st == ERT_OK && c->meta < 0)
        st = ert_fail(err, ERT_EFORMAT, "no 'meta' section");
    if (st == ERT_OK && c->weights < 0)
        st = ert_fail(err, ERT_EFORMAT, "no 'weights' section");
    free(order);
    return st;
}

/* Checks a known section's flags, CRC and sizes; *data gets its bytes (in place, or
 * inflated into *heap, 64-byte aligned). */
static ert_status load_section(const uint8_t *f, const ert_blob_section_info *s, uint64_t max_size, const uint8_t **data,
                               void **heap, ert_error *err)
{
    *heap = NULL;
    if (s->flags & ~ERT_BLOB_KNOWN_SECTION_FLAGS)
        return ert_fail(err, ERT_EUNSUPPORTED, "section '%s' has unknown flags 0x%08x (this embedrt reads format %d.%d)",
                        s->name, s->flags, ERT_BLOB_FORMAT_MAJOR, ERT_BLOB_FORMAT_MINOR);
    if (s->size > max_size)
        return ert_fail(err, ERT_EFORMAT, "section '%s' of %llu bytes exceeds the limit of %llu", s->name,
                        (unsigned long long)s->size, (unsigned long long)max_size);
    const uint8_t *stored = f + s->offset;
    uint32_t crc = ert_crc32(0, stored, (size_t)s->stored_size);
    if (crc != s->crc32)
        return ert_fail(err, ERT_EFORMAT, "section '%s' CRC mismatch (expected 0x%08x, got 0x%08x)", s->name, s->crc32,
                        crc);
    if (!s->compressed) {
        if (s->size != s->stored_size)
            return ert_fail(err, ERT_EFORMAT, "section '%s' is stored uncompressed in %llu bytes but claims %llu",
                            s->name, (unsigned long long)s->stored_size, (unsigned long long)s->size);
        *data = stored;
        return ERT_OK;
    }
    if (s->stored_size < (UINT64_MAX - 1024) / ERT_ZLIB_MAX_RATIO &&
        s->size > s->stored_size * ERT_ZLIB_MAX_RATIO + 1024)
        return ert_fail(err, ERT_EFORMAT, "section '%s': %llu bytes cannot come from %llu compressed bytes", s->name,
                        (unsigned long long)s->size, (unsigned long long)s->stored_size);
    void *buf = NULL;
    if (posix_memalign(&buf, ERT_BLOB_ALIGN, s->size ? (size_t)s->size : 1) != 0)
        return ert_fail(err, ERT_ENOMEM, "section '%s': cannot allocate %llu bytes", s->name,
                        (unsigned long long)s->size);
    ert_status st = ert_inflate(stored, (size_t)s->stored_size, buf, (size_t)s->size, err);
    if (st != ERT_OK) {
        free(buf);
        return ert_error_prefix(err, "section '%s'", s->name);
    }
    *data = buf;
    *heap = buf;
    return ERT_OK;
}

static void release_file(void *file, size_t len, bool mapped)
{
    if (!file)
        return;
    if (mapped)
        munmap(file, len);
    else
        free(file);
}

/* Takes ownership of file (mapping or heap copy) whatever the outcome. */
static ert_status open_bytes(void *file, size_t len, bool mapped, const char *label, ert_blob **out, ert_error *err)
{
    const uint8_t *f = file;
    container c = {0};
    void *meta_heap = NULL, *weights_heap = NULL, *family_heap = NULL, *family_copy = NULL;
    size_t family_len = 0;
    const uint8_t *meta = NULL, *weights = NULL, *family = NULL;
    ert_blob *b = NULL;
    ert_status st = parse_header(f, len, &c, err);
    if (st == ERT_OK)
        st = load_section(f, &c.sec[c.meta], ERT_BLOB_MAX_META, &meta, &meta_heap, err);
    if (st == ERT_OK)
        st = load_section(f, &c.sec[c.weights], SIZE_MAX, &weights, &weights_heap, err);
    /* Family parameters are small: checked and copied now, so they outlive the file. */
    if (st == ERT_OK && c.family >= 0)
        st = load_section(f, &c.sec[c.family], ERT_BLOB_MAX_META, &family, &family_heap, err);
    if (st == ERT_OK && family) {
        family_len = (size_t)c.sec[c.family].size;
        family_copy = malloc(family_len ? family_len : 1);
        if (!family_copy)
            st = ert_fail(err, ERT_ENOMEM, "section 'family': out of memory");
        else if (family_len)
            memcpy(family_copy, family, family_len);
    }
    free(family_heap);
    if (st == ERT_OK)
        st = ert_blob_meta_decode(meta, (size_t)c.sec[c.meta].size, weights, c.sec[c.weights].size, c.n, label, &b,
                                  err);
    free(meta_heap);
    if (st != ERT_OK) {
        free(family_copy);
        free(c.sec);
        free(weights_heap);
        release_file(file, len, mapped);
        return ert_error_prefix(err, "%s", label);
    }
    b->info.major = c.major;
    b->info.minor = c.minor;
    b->info.file_size = len;
    b->info.n_sections = c.n;
    memcpy((void *)b->info.sections, c.sec, c.n * sizeof *c.sec);
    free(c.sec);
    b->weights_heap = weights_heap;
    b->family_data = family_copy;
    b->family_len = family_len;
    if (weights_heap) {
        release_file(file, len, mapped); /* nothing points into the file any more */
    } else {
        b->file = file;
        b->file_len = len;
        b->file_mapped = mapped;
    }
    *out = b;
    return ERT_OK;
}

ert_status ert_blob_open_mem(const void *data, size_t len, const char *label, ert_blob **out, ert_error *err)
{
    ert_error local;
    if (!err)
        err = &local;
    ert_error_clear(err);
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_blob_open_mem: out is NULL");
    *out = NULL;
    if (!label)
        label = "<memory>";
    if (!data && len)
        return ert_fail(err, ERT_EINVAL, "%s: no data", label);
    void *copy = NULL;
    if (posix_memalign(&copy, ERT_BLOB_ALIGN, len ? len : 1) != 0)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate %zu bytes", label, len);
    if (len)
        memcpy(copy, data, len);
    return open_bytes(copy, len, false, label, out, err);
}

ert_status ert_blob_open(const char *path, ert_blob **out, ert_error *err)
{
    ert_error local;
    if (!err)
        err = &local;
    ert_error_clear(err);
    if (!out || !path)
        return ert_fail(err, ERT_EINVAL, "ert_blob_open: path or out is NULL");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ert_fail(err, errno == ENOENT ? ERT_ENOTFOUND : ERT_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ert_fail(err, ERT_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ert_fail(err, ERT_EINVAL, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return ert_fail(err, ERT_ENOMEM, "%s: too large to map", path);
    }
    size_t len = (size_t)sb.st_size;
    if (len < ERT_HDR_SIZE) {
        /* mmap cannot map 0 bytes; a short file gets the usual messages from a copy */
        uint8_t small[ERT_HDR_SIZE];
        ssize_t got = len ? read(fd, small, len) : 0;
        close(fd);
        if (got < 0 || (size_t)got != len)
            return ert_fail(err, ERT_EIO, "%s: read failed", path);
        return ert_blob_open_mem(small, len, path, out, err);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return ert_fail(err, ERT_EIO, "%s: mmap: %s", path, strerror(e));
    return open_bytes(map, len, true, path, out, err);
}

void ert_blob_close(ert_blob *b)
{
    if (!b)
        return;
    release_file(b->file, b->file_len, b->file_mapped);
    free(b->weights_heap);
    free(b->family_data);
    free(b); /* the block starts with the blob */
}

uint32_t ert_blob_graph_count(const ert_blob *b)
{
    return b ? b->info.n_graphs : 0;
}

ert_graph *ert_blob_graph(ert_blob *b, uint32_t i)
{
    return b && i < b->info.n_graphs ? &b->graphs[i] : NULL;
}

ert_graph *ert_blob_find_graph(ert_blob *b, const char *name_or_role)
{
    if (!b || !name_or_role)
        return NULL;
    for (uint32_t i = 0; i < b->info.n_graphs; i++)
        if (strcmp(b->info.graphs[i].name, name_or_role) == 0)
            return &b->graphs[i];
    for (uint32_t i = 0; i < b->info.n_graphs; i++)
        if (b->info.graphs[i].role[0] && strcmp(b->info.graphs[i].role, name_or_role) == 0)
            return &b->graphs[i];
    return NULL;
}

const ert_blob_info *ert_blob_get_info(const ert_blob *b)
{
    return b ? &b->info : NULL;
}

bool ert_blob_family_section(const ert_blob *b, const void **data, size_t *len)
{
    if (!b || !b->family_data)
        return false;
    *data = b->family_data;
    *len = b->family_len;
    return true;
}
