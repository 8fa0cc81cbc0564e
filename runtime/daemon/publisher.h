/* The publisher: one bounded queue per client, filled by the pipeline's threads and
 * drained by the I/O thread. Events are encoded once (without the per-connection seq,
 * which the I/O thread prepends when it sends) and copied into the queue of every
 * client whose subscriptions match; a full queue drops that client's oldest events and
 * the client later gets a Notice KIND_EVENTS_DROPPED with the count. Producers never
 * block on a client: a push is a memcpy under a short lock. */
#ifndef ERT_DAEMON_PUBLISHER_H
#define ERT_DAEMON_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"
#include "embedrt/wire.h"

#define ERT_PUB_MAX_CLIENTS 32
#define ERT_PUB_MAX_SUBS 16
/* Largest encoded event: a heatmap at its limit plus the envelope around it. */
#define ERT_PUB_MAX_EVENT (ERT_WIRE_MAX_HEATMAP_FLOATS * 4u + 16384u)
/* Average event size the queue memory is planned for (depth x this, plus one largest). */
#define ERT_PUB_SLOT_BYTES 4096u

typedef struct ert_pub ert_pub;

/* wake_fd: written (8 bytes, eventfd style) when a client's queue goes from empty to
 * non-empty, so that the I/O thread polls for POLLOUT. */
ert_status ert_pub_create(uint32_t queue_depth, int wake_fd, ert_pub **out, ert_error *err);
void ert_pub_free(ert_pub *p);

/* Allocates the client's queue (once per connection, not per event). */
ert_status ert_pub_add_client(ert_pub *p, uint32_t *id, ert_error *err);
void ert_pub_remove_client(ert_pub *p, uint32_t id);
ert_status ert_pub_subscribe(ert_pub *p, uint32_t id, const embedrt_v1_Subscribe *s, ert_error *err);
/* Removes the subscriptions with this stream/camera/model (empty camera and model: every
 * subscription of the stream; STREAM_UNSPECIFIED: all). Returns how many. */
size_t ert_pub_unsubscribe(ert_pub *p, uint32_t id, const embedrt_v1_Unsubscribe *u);

/* Encodes env (seq must be 0) into buf[0..cap) and sets the payload view (the frame
 * without its length prefix) that the push functions take. */
ert_status ert_pub_encode(const embedrt_v1_Envelope *env, const ert_wire_out *bulk, uint8_t *buf, size_t cap,
                          const uint8_t **payload, size_t *len, ert_error *err);

/* An event of `stream` from model/camera to every subscribed client. */
void ert_pub_event(ert_pub *p, embedrt_v1_Stream stream, const char *model, const char *camera, const uint8_t *payload,
                   size_t len);
/* To every client (notices). */
void ert_pub_broadcast(ert_pub *p, const uint8_t *payload, size_t len);
/* To one client (replies); false when the client is gone. */
bool ert_pub_send_to(ert_pub *p, uint32_t id, const uint8_t *payload, size_t len);

/* I/O thread: the next frame for the client, complete with length prefix and seq, copied
 * into out[0..cap) (cap >= ERT_PUB_MAX_EVENT + 16). A pending drop count goes out first
 * as a Notice. Returns the frame size, 0 when the queue is empty. */
size_t ert_pub_take(ert_pub *p, uint32_t id, uint8_t *out, size_t cap);
bool ert_pub_pending(ert_pub *p, uint32_t id);

typedef struct ert_pub_client_stats {
    uint32_t id;
    uint64_t sent, dropped;
} ert_pub_client_stats;
size_t ert_pub_stats(ert_pub *p, ert_pub_client_stats *out, size_t cap);

#endif
