/* The embedrt blob (.erb, format 1.x, spec in proto/blob-format.md): a validating
 * reader that loads graphs ready to plan-bind and run, and the converter's writer. */
#ifndef EMBEDRT_BLOB_H
#define EMBEDRT_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/graph.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ERT_BLOB_FORMAT_MAJOR 1
#define ERT_BLOB_FORMAT_MINOR 1
#define ERT_BLOB_ALIGN 64 /* sections in the file, constants in "weights", arena offsets */

/* Longest strings the format holds (bytes, without the NUL); blob.options agrees. */
#define ERT_BLOB_MAX_NAME 256    /* tensor and node names, provenance source name */
#define ERT_BLOB_MAX_GRAPH_NAME 128
#define ERT_BLOB_MAX_ROLE 64     /* graph roles and the family name */
#define ERT_BLOB_MAX_OP_TYPE 32
#define ERT_BLOB_MAX_OPTIONS 1024
#define ERT_BLOB_MAX_VERSION 32  /* converter version */
#define ERT_BLOB_MAX_SHORT 64    /* converter git describe, producer name and version */
#define ERT_BLOB_SECTION_NAME 16 /* bytes in the table, NUL included: at most 15 characters */

/* ---- the preprocessing recipe of a graph's first input (applied by a later stage) ---- */
typedef enum ert_crop_mode { ERT_CROP_NONE = 0, ERT_CROP_CENTER = 1, ERT_CROP_RECT = 2 } ert_crop_mode;
typedef enum ert_resize_filter {
    ERT_RESIZE_BILINEAR = 0,
    ERT_RESIZE_AREA = 1,
    ERT_RESIZE_NEAREST = 2,
} ert_resize_filter;
typedef enum ert_channel_order { ERT_ORDER_RGB = 0, ERT_ORDER_BGR = 1 } ert_channel_order;
typedef enum ert_flip { ERT_FLIP_NONE = 0, ERT_FLIP_VERTICAL = 1, ERT_FLIP_HORIZONTAL = 2 } ert_flip;

/* Order of application: flip, crop, resize, x * scale, (x - mean[c]) / std[c], order. */
typedef struct ert_preprocess {
    ert_crop_mode crop;
    uint32_t crop_x, crop_y, crop_w, crop_h; /* CENTER uses w, h; RECT all four */
    uint32_t resize_w, resize_h;             /* both 0: no resize */
    ert_resize_filter filter;
    float scale;
    float mean[3], std[3];
    ert_channel_order order;
    ert_flip flip;
} ert_preprocess;

/* ---- what a loaded blob holds besides its graphs ---- */
typedef struct ert_blob_section_info {
    char name[ERT_BLOB_SECTION_NAME];
    uint64_t offset;      /* in the file, a multiple of 64 */
    uint64_t stored_size; /* bytes in the file */
    uint64_t size;        /* bytes after decompression */
    uint32_t crc32;       /* over the stored bytes */
    uint32_t flags;       /* ERT_BLOB_SECTION_* */
    bool compressed, required;
    bool known; /* read by this embedrt ("meta", "weights"); unknown optional ones are skipped */
} ert_blob_section_info;

#define ERT_BLOB_SECTION_ZLIB 0x1u
#define ERT_BLOB_SECTION_REQUIRED 0x2u

typedef struct ert_blob_provenance {
    const char *source_name; /* "" when unknown; never NULL in a loaded blob */
    uint64_t source_size;
    const char *converter_version, *converter_git;
    const char *options;
    const char *producer_name, *producer_version;
    int64_t opset;
} ert_blob_provenance;

typedef struct ert_blob_graph_info {
    const char *name;
    const char *role; /* "" for a plain model */
    bool has_preprocess;
    ert_preprocess preprocess;
} ert_blob_graph_info;

typedef struct ert_blob_info {
    const char *label; /* the path or the label given to ert_blob_open_mem */
    uint16_t major, minor;
    uint64_t file_size;
    uint32_t n_sections;
    const ert_blob_section_info *sections; /* table order */
    ert_blob_provenance provenance;
    const char *family; /* "" for a plain model */
    uint32_t n_graphs;
    const ert_blob_graph_info *graphs; /* same order as ert_blob_graph() */
    uint32_t quantized_constants; /* constants stored as int8 and dequantized at load (1.1) */
    const uint8_t *quant_report;  /* an encoded embedrt.v1.QuantReport, NULL when none */
    size_t quant_report_len;
} ert_blob_info;

typedef struct ert_blob ert_blob;

/* ---- reading: every check in blob-format.md runs before success; on failure
 * nothing stays allocated and *out is NULL ---- */

/* Maps the file read-only (in-place weights: constant tensors point into the
 * mapping unless the weights section is compressed). The file must not be modified
 * in place while open; the writer replaces files atomically. Messages start with path. */
ert_status ert_blob_open(const char *path, ert_blob **out, ert_error *err);
/* Same from memory. The bytes are COPIED into a 64-byte aligned buffer owned by the
 * blob, so the caller may free data at once. label (e.g. a file name; NULL ->
 * "<memory>") starts every message. */
ert_status ert_blob_open_mem(const void *data, size_t len, const char *label, ert_blob **out, ert_error *err);
void ert_blob_close(ert_blob *b);

uint32_t ert_blob_graph_count(const ert_blob *b);
/* Graph i in execution order (NULL when out of range). The graph belongs to the blob
 * and lives in one block with it (heap_owned = false): the executor binds activation
 * data pointers (arena + offset) but must not free, grow or re-parse it. Constants'
 * data is read-only (in place: a read-only file mapping). */
ert_graph *ert_blob_graph(ert_blob *b, uint32_t i);
/* First graph whose name equals name_or_role, else the first whose role does; NULL. */
ert_graph *ert_blob_find_graph(ert_blob *b, const char *name_or_role);
const ert_blob_info *ert_blob_get_info(const ert_blob *b);
/* The bytes of the "family" section (family parameters, embedrt.v1.FamilyParams; CRC
 * checked and decompressed at open), false when the blob has none. */
bool ert_blob_family_section(const ert_blob *b, const void **data, size_t *len);

/* ---- writing (converter) ---- */

/* An extra section written after "meta" and "weights" (forward compatibility tests,
 * future sections); see "Adding a section" in blob-format.md. */
typedef struct ert_blob_extra_section {
    const char *name; /* 1..15 characters of [A-Za-z0-9_.-], not "meta"/"weights" */
    const void *data;
    size_t size;
    bool compress;
    bool required; /* readers that do not know the name refuse the file */
} ert_blob_extra_section;

typedef struct ert_blob_write_opts {
    bool compress;   /* deflate the "meta" and "weights" sections */
    int level;       /* zlib level 1..9; 0 = zlib's default */
    bool fsync;      /* fsync the file and its directory before returning */
    /* provenance (NULL strings are written as ""); the converter version is ert_version()
     * and ert_version_git() of this build */
    const char *source_name;
    uint64_t source_size;
    const char *options;
    const char *producer_name, *producer_version;
    int64_t opset;
    const char *family; /* NULL or "" for a plain model */
    const char *const *roles;         /* NULL or n entries (NULL entry = "") */
    const ert_preprocess *const *preprocess; /* NULL or n entries (NULL entry = none) */
    const ert_blob_extra_section *extra;
    uint32_t n_extra;
    /* An encoded embedrt.v1.QuantReport stored in BlobMeta.quant_report (NULL: none);
     * `embedrt inspect` prints it, the loader skips it. */
    const void *quant_report;
    size_t quant_report_len;
} ert_blob_write_opts;

/* Writes graphs[0..n) (planned: ert_plan_graph) with their constants to a temporary
 * file next to path, then rename()s it over path, so readers never see a partial
 * file. Sets each constant's offset (in the weights section). opts may be NULL. */
ert_status ert_blob_write(const char *path, ert_graph *const *graphs, uint32_t n, const ert_blob_write_opts *opts,
                          ert_error *err);
/* Same into memory: *out (malloc'd, the caller frees) gets the whole file. */
ert_status ert_blob_write_mem(ert_graph *const *graphs, uint32_t n, const ert_blob_write_opts *opts, void **out,
                              size_t *out_len, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
