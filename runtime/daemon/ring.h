/* A byte ring of variable-size entries with a count limit: the per-client event queue.
 * Pushing into a full ring drops the oldest entries (the caller counts them); entries are
 * stored contiguously so the consumer can write() them straight from the ring. Memory
 * is allocated once at init. Not thread-safe: the publisher holds its lock around it. */
#ifndef ERT_DAEMON_RING_H
#define ERT_DAEMON_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"

typedef struct ert_ring {
    uint8_t *buf;
    size_t cap;             /* bytes, a multiple of 4 */
    size_t head, tail;      /* oldest entry, next write */
    uint32_t count, max_count;
} ert_ring;

ert_status ert_ring_init(ert_ring *r, size_t cap_bytes, uint32_t max_count, ert_error *err);
void ert_ring_free(ert_ring *r);
/* Stores a copy of p[0..len), dropping the oldest entries until it fits (*dropped says
 * how many). False, with nothing changed, when len could never fit. */
bool ert_ring_push(ert_ring *r, const uint8_t *p, size_t len, uint32_t *dropped);
bool ert_ring_peek(const ert_ring *r, const uint8_t **p, size_t *len);
void ert_ring_pop(ert_ring *r);
/* Largest entry a push accepts. */
size_t ert_ring_max_entry(const ert_ring *r);

#endif
