/* zlib-backed CRC-32 and exact-size deflate/inflate, chunked so sizes above 4 GiB
 * (zlib's uInt) are safe. */
#include "embedrt/compress.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

uint32_t ert_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    uLong c = crc;
    while (len > 0) {
        uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;
        c = crc32(c, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)c;
}

size_t ert_deflate_bound(size_t len)
{
    /* zlib's bound for one stream: len + len/1000-ish + small constant; use a
     * conservative form that holds for chunked input too. */
    size_t extra = len / 1000 + (len / 16384 + 1) * 5 + 64;
    if (len > SIZE_MAX - extra)
        return 0;
    return len + extra;
}

ert_status ert_deflate(const void *src, size_t len, void *dst, size_t cap, size_t *out_len, int level,
                       ert_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (level < 1 || level > 9)
        level = Z_DEFAULT_COMPRESSION;
    if (deflateInit(&zs, level) != Z_OK)
        return ert_fail(err, ERT_ENOMEM, "deflate: cannot initialise zlib");
    const unsigned char *in = src;
    unsigned char *out = dst;
    size_t in_left = len, out_left = cap;
    int rc;
    do {
        if (zs.avail_in == 0 && in_left > 0) {
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in += zs.avail_in;
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0) {
            if (out_left == 0) {
                deflateEnd(&zs);
                return ert_fail(err, ERT_ENOMEM, "deflate: output buffer of %zu bytes too small", cap);
            }
            zs.next_out = out;
            zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
            out += zs.avail_out;
            out_left -= zs.avail_out;
        }
        rc = deflate(&zs, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
    } while (rc == Z_OK || rc == Z_BUF_ERROR);
    size_t produced = (size_t)(out - (unsigned char *)dst) - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return ert_fail(err, ERT_EINTERNAL, "deflate: zlib error %d", rc);
    *out_len = produced;
    return ERT_OK;
}

ert_status ert_inflate(const void *src, size_t len, void *dst, size_t expect, ert_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return ert_fail(err, ERT_ENOMEM, "inflate: cannot initialise zlib");
    const unsigned char *in = src;
    unsigned char *out = dst;
    size_t in_left = len, out_left = expect;
    int rc = Z_OK;
    unsigned char spill; /* catches output beyond expect */
    int overflow = 0;
    while (rc == Z_OK) {
        if (zs.avail_in == 0) {
            if (in_left == 0)
                break;
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in += zs.avail_in;
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0) {
            if (out_left == 0) {
                zs.next_out = &spill;
                zs.avail_out = 1;
                overflow = 1;
            } else {
                zs.next_out = out;
                zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
                out += zs.avail_out;
                out_left -= zs.avail_out;
            }
        }
        rc = inflate(&zs, Z_NO_FLUSH);
        if (overflow && zs.avail_out == 0) {
            inflateEnd(&zs);
            return ert_fail(err, ERT_EFORMAT, "inflate: data expands beyond the expected %zu bytes", expect);
        }
    }
    size_t produced = overflow ? expect : (size_t)(out - (unsigned char *)dst) - zs.avail_out;
    size_t unused = zs.avail_in + in_left;
    const char *zmsg = zs.msg;
    inflateEnd(&zs);
    if (rc == Z_DATA_ERROR)
        return ert_fail(err, ERT_EFORMAT, "inflate: corrupt data (%s)", zmsg ? zmsg : "zlib data error");
    if (rc == Z_MEM_ERROR)
        return ert_fail(err, ERT_ENOMEM, "inflate: out of memory");
    if (rc != Z_STREAM_END)
        return ert_fail(err, ERT_EFORMAT, "inflate: truncated stream (%zu of %zu bytes produced)", produced, expect);
    if (produced != expect)
        return ert_fail(err, ERT_EFORMAT, "inflate: expands to %zu bytes, expected %zu", produced, expect);
    if (unused != 0)
        return ert_fail(err, ERT_EFORMAT, "inflate: %zu trailing bytes after the stream", unused);
    return ERT_OK;
}
