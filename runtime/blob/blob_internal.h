/* Byte layout of the blob container (header, section table) and the pieces the
 * reader and writer share, so the two can never disagree. Spec: proto/blob-format.md. */
#ifndef ERT_BLOB_INTERNAL_H
#define ERT_BLOB_INTERNAL_H

#include "embedrt/blob.h"

#include <stdint.h>
#include <string.h>

static const uint8_t ert_blob_magic[8] = {'E', 'R', 'T', 'B', 'L', 'O', 'B', 0x1a};

/* header (64 bytes in 1.0; a later minor may grow it, header_size says how much) */
enum {
    ERT_HDR_MAGIC = 0,          /* 8 bytes */
    ERT_HDR_MAJOR = 8,          /* u16 */
    ERT_HDR_MINOR = 10,         /* u16 */
    ERT_HDR_HEADER_SIZE = 12,   /* u32 */
    ERT_HDR_SECTION_COUNT = 16, /* u32 */
    ERT_HDR_ENTRY_SIZE = 20,    /* u32 */
    ERT_HDR_TABLE_OFFSET = 24,  /* u64 */
    ERT_HDR_FILE_SIZE = 32,     /* u64 */
    ERT_HDR_FLAGS = 40,         /* u32: bits 0-15 must be understood, 16-31 may be ignored */
    ERT_HDR_CRC = 44,           /* u32: crc32 of header (this field zero) + section table */
    ERT_HDR_SIZE = 64,          /* bytes 48..63 reserved, written as zero */
};

/* section table entry (64 bytes in 1.0) */
enum {
    ERT_SEC_NAME = 0,         /* 16 bytes, NUL-terminated, NUL-padded */
    ERT_SEC_FLAGS = 16,       /* u32 ERT_BLOB_SECTION_* */
    ERT_SEC_CRC = 20,         /* u32 crc32 of the stored bytes */
    ERT_SEC_OFFSET = 24,      /* u64, multiple of 64 */
    ERT_SEC_STORED_SIZE = 32, /* u64 */
    ERT_SEC_SIZE = 40,        /* u64 uncompressed */
    ERT_SEC_ENTRY_SIZE = 64,  /* bytes 48..63 reserved, written as zero */
};

#define ERT_HDR_REQUIRED_FLAGS 0x0000ffffu
/* Required header flags this reader understands. */
#define ERT_HDR_FLAG_QUANT_STORAGE 0x1u /* 1.1: some constants are stored as int8 (TensorDef.storage_*) */
#define ERT_HDR_KNOWN_FLAGS ERT_HDR_FLAG_QUANT_STORAGE
#define ERT_BLOB_KNOWN_SECTION_FLAGS (ERT_BLOB_SECTION_ZLIB | ERT_BLOB_SECTION_REQUIRED)
/* Decoded meta bytes. Real models need well under 1 MiB; the cap bounds what a hostile
 * (possibly compressed) meta can make the loader allocate: about 17x this. */
#define ERT_BLOB_MAX_META (16u << 20)
#define ERT_BLOB_MAX_GRAPHS 256 /* a family has a few graphs; keeps name checks cheap */
#define ERT_BLOB_MAX_SECTIONS 256 /* format 1.0 uses 2; keeps the name checks cheap */
#define ERT_ZLIB_MAX_RATIO 1032u     /* deflate cannot expand data more than this */

static inline uint16_t ert_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ert_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ert_get64(const uint8_t *p)
{
    return (uint64_t)ert_get32(p) | (uint64_t)ert_get32(p + 4) << 32;
}
static inline void ert_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void ert_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void ert_put64(uint8_t *p, uint64_t v)
{
    ert_put32(p, (uint32_t)v);
    ert_put32(p + 4, (uint32_t)(v >> 32));
}

/* Section names: 1..15 characters of [A-Za-z0-9_.-]. */
static inline bool ert_blob_name_ok(const char *s, size_t len)
{
    if (len == 0 || len >= ERT_BLOB_SECTION_NAME)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return false;
    }
    return true;
}

/* A loaded blob. It lives at the start of the one block that also holds the
 * graphs, tensors, nodes, id lists, parameters, strings and info. */
struct ert_blob {
    ert_blob_info info;
    ert_graph *graphs;
    void *file;          /* the mapping (or the open_mem copy); NULL once released */
    size_t file_len;
    bool file_mapped;    /* munmap, else free */
    void *weights_heap;  /* inflated weights; NULL when they are used in place */
    void *family_data;   /* copy of the CRC-checked "family" section, or NULL */
    size_t family_len;
};

/* Decodes and fully validates the meta section (nanopb, two passes) against the
 * weights, then re-infers and verifies every graph. On success *out is the block
 * (ert_blob at its start, with room for n_sections section infos, which the caller
 * fills); label is copied. Messages carry no label: the caller prefixes it. */
ert_status ert_blob_meta_decode(const uint8_t *meta, size_t meta_len, const uint8_t *weights, uint64_t weights_len,
                                uint32_t n_sections, const char *label, ert_blob **out, ert_error *err);

/* Per graph: names unique, node ids in range, every node's infer() agreeing with the
 * stored outputs, then ert_plan_verify. Messages start with "meta: ". */
ert_status ert_blob_check_graphs(ert_blob *b, ert_error *err);

/* The recipe rules both sides enforce; messages start with "preprocess: ". */
ert_status ert_blob_check_preprocess(const ert_preprocess *p, ert_error *err);

#endif
