/* Entries are [u32 length][bytes, padded to 4]. When an entry does not fit before the
 * end of the buffer, a 0xffffffff marker (or the end itself) sends both sides back to 0. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

#define WRAP_MARK 0xffffffffu

static size_t entry_size(size_t len)
{
    return 4 + ((len + 3) & ~(size_t)3);
}

ert_status ert_ring_init(ert_ring *r, size_t cap_bytes, uint32_t max_count, ert_error *err)
{
    memset(r, 0, sizeof *r);
    cap_bytes = (cap_bytes + 3) & ~(size_t)3;
    if (cap_bytes < 16 || max_count == 0)
        return ert_fail(err, ERT_EINVAL, "client queue: %zu bytes / %u entries is too small", cap_bytes, max_count);
    r->buf = malloc(cap_bytes);
    if (!r->buf)
        return ert_fail(err, ERT_ENOMEM, "client queue: cannot allocate %zu bytes", cap_bytes);
    r->cap = cap_bytes;
    r->max_count = max_count;
    return ERT_OK;
}

void ert_ring_free(ert_ring *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

size_t ert_ring_max_entry(const ert_ring *r)
{
    return r->cap - 4;
}

static uint32_t load_len(const ert_ring *r, size_t at)
{
    uint32_t v;
    memcpy(&v, r->buf + at, 4);
    return v;
}

/* Moves head past the end marker after a pop or a wrap. */
static void normalize_head(ert_ring *r)
{
    if (r->count == 0) {
        r->head = r->tail = 0;
        return;
    }
    if (r->head == r->cap || load_len(r, r->head) == WRAP_MARK)
        r->head = 0;
}

void ert_ring_pop(ert_ring *r)
{
    if (r->count == 0)
        return;
    r->head += entry_size(load_len(r, r->head));
    r->count--;
    normalize_head(r);
}

bool ert_ring_peek(const ert_ring *r, const uint8_t **p, size_t *len)
{
    if (r->count == 0)
        return false;
    *len = load_len(r, r->head);
    *p = r->buf + r->head + 4;
    return true;
}

bool ert_ring_push(ert_ring *r, const uint8_t *p, size_t len, uint32_t *dropped)
{
    *dropped = 0;
    if (len > r->cap - 4 || len >= WRAP_MARK)
        return false;
    size_t need = entry_size(len);
    size_t at;
    for (;;) {
        if (r->count == 0) {
            r->head = r->tail = 0;
            at = 0;
            break;
        }
        if (r->count < r->max_count) {
            if (r->tail > r->head) {
                if (need <= r->cap - r->tail) {
                    at = r->tail;
                    break;
                }
                if (need <= r->head) {
                    if (r->cap - r->tail >= 4) {
                        uint32_t m = WRAP_MARK;
                        memcpy(r->buf + r->tail, &m, 4);
                    }
                    at = 0;
                    break;
                }
            } else if (r->tail < r->head && need <= r->head - r->tail) {
                at = r->tail;
                break;
            }
        }
        ert_ring_pop(r);
        (*dropped)++;
    }
    uint32_t l = (uint32_t)len;
    memcpy(r->buf + at, &l, 4);
    if (len)
        memcpy(r->buf + at + 4, p, len);
    r->tail = at + need;
    r->count++;
    return true;
}
