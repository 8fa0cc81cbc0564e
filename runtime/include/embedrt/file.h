/* Read-only whole-file mappings: models and blobs are mmap'd so weights can be used
 * in place; falls back to reading when mmap is not possible. */
#ifndef EMBEDRT_FILE_H
#define EMBEDRT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ert_file_map {
    const uint8_t *data;
    size_t size;
    int mapped; /* 1: munmap on close; 0: free */
} ert_file_map;

/* Maps path read-only. Empty files map to size 0 with a non-NULL data pointer. */
ert_status ert_file_map_open(const char *path, ert_file_map *m, ert_error *err);
void ert_file_map_close(ert_file_map *m);

#ifdef __cplusplus
}
#endif
#endif
