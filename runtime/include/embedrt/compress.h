/* zlib helpers for blobs: CRC-32 checksums and whole-buffer deflate/inflate with
 * exact-size checks, so a corrupt or hostile section can never overrun a buffer. */
#ifndef EMBEDRT_COMPRESS_H
#define EMBEDRT_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-32 (IEEE 802.3, zlib's), continuing from crc (start with 0). Any length. */
uint32_t ert_crc32(uint32_t crc, const void *data, size_t len);

/* Upper bound of ert_deflate's output for len input bytes (0 when it would overflow). */
size_t ert_deflate_bound(size_t len);

/* Compresses src into dst (capacity cap) as a zlib stream; *out_len gets the size.
 * level: 1 (fast) .. 9 (small); other values mean zlib's default. */
ert_status ert_deflate(const void *src, size_t len, void *dst, size_t cap, size_t *out_len, int level,
                       ert_error *err);

/* Decompresses a zlib stream that must expand to exactly expect bytes and use all of
 * src: trailing bytes, short output, long output and bad checksums are all EFORMAT. */
ert_status ert_inflate(const void *src, size_t len, void *dst, size_t expect, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
