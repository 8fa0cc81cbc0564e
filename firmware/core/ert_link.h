/* Controller-link state machine: hello, heartbeats with link-down detection, reliable
 * messages (grasp/reward/goal) retransmitted until acknowledged, duplicate suppression.
 * No heap, no clock and no I/O of its own: the caller passes the time, pushes received
 * bytes in with ert_link_feed() and gets frames out through io.write. The same core runs
 * on the MCU and can run on the host (either side of the link). */
#ifndef ERT_LINK_H
#define ERT_LINK_H

#include "ert_link_frame.h"

#include "embedrt/v1/link.pb.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frame header message types. Reliable types are acknowledged and deduplicated. */
typedef enum ert_link_msg_type {
    ERT_LINK_MSG_HELLO = 1,
    ERT_LINK_MSG_HEARTBEAT = 2,
    ERT_LINK_MSG_ACK = 3,
    ERT_LINK_MSG_GRASP = 4,   /* reliable */
    ERT_LINK_MSG_REWARD = 5,  /* reliable */
    ERT_LINK_MSG_GOAL = 6,    /* reliable */
} ert_link_msg_type;

#define ERT_LINK_MAX2(a, b) ((a) > (b) ? (a) : (b))
/* Largest payload of any link message (LinkHello), from the .options bounds. */
#define ERT_LINK_MAX_PAYLOAD                                                              \
    ERT_LINK_MAX2(embedrt_v1_LinkHello_size,                                              \
                  ERT_LINK_MAX2(embedrt_v1_Heartbeat_size,                                \
                                ERT_LINK_MAX2(embedrt_v1_RewardReport_size,               \
                                              ERT_LINK_MAX2(embedrt_v1_GraspReport_size,  \
                                                            embedrt_v1_GoalStatus_size))))
#define ERT_LINK_RELIABLE_MAX_PAYLOAD                                                     \
    ERT_LINK_MAX2(embedrt_v1_RewardReport_size,                                           \
                  ERT_LINK_MAX2(embedrt_v1_GraspReport_size, embedrt_v1_GoalStatus_size))
/* The deframer's hard limit: header + largest payload + CRC. */
#define ERT_LINK_MAX_FRAME (ERT_LINK_MAX_PAYLOAD + ERT_LINK_FRAME_OVERHEAD)
#define ERT_LINK_QUEUE_LEN 4u   /* reliable messages in flight; full: drop the oldest */
#define ERT_LINK_DEDUP_WINDOW 64u /* received reliable seqs remembered */

typedef struct ert_link_config {
    const char *node_name;     /* sent in LinkHello, truncated to the .options bound */
    uint32_t version_major, version_minor, version_patch;
    const char *version_describe; /* may be NULL */
    uint32_t heartbeat_ms;     /* heartbeat (or hello while down) period */
    uint32_t link_timeout_ms;  /* link down after this long without a valid frame */
    uint32_t retransmit_ms;    /* resend an unacknowledged reliable message after this */
    uint8_t retry_limit;       /* retransmissions before the message counts as dropped */
    uint16_t first_seq;        /* first reliable sequence number (tests use it for wrap) */
} ert_link_config;

/* Callbacks; any may be NULL except write. Received messages arrive decoded and checked;
 * the pointers are valid only during the call. Calling ert_link_send_* from a callback
 * is allowed; calling ert_link_feed or ert_link_poll from one is not. */
typedef struct ert_link_io {
    void *ctx;
    bool (*write)(void *ctx, const uint8_t *bytes, size_t n); /* whole frame or false */
    void (*on_hello)(void *ctx, const embedrt_v1_LinkHello *m);
    void (*on_grasp)(void *ctx, const embedrt_v1_GraspReport *m);
    void (*on_reward)(void *ctx, const embedrt_v1_RewardReport *m);
    void (*on_goal)(void *ctx, const embedrt_v1_GoalStatus *m);
    void (*on_link)(void *ctx, bool up);
} ert_link_io;

/* Link-level counters; the framing ones (crc_errors, resyncs, oversize, ...) are in
 * ert_link.rx.stats. */
typedef struct ert_link_stats {
    uint32_t frames_rx;       /* valid frames of a known type with a valid payload */
    uint32_t frames_tx;
    uint32_t write_errors;
    uint32_t retransmissions;
    uint32_t drops;           /* reliable messages given up: retry limit or queue full */
    uint32_t acks_rx;
    uint32_t duplicates;      /* reliable frames received again (acked, not delivered) */
    uint32_t stale;           /* reliable seq older than the dedup window: counted as dup */
    uint32_t unknown_type;
    uint32_t bad_payload;     /* nanopb decode failed or a field out of range */
    uint32_t link_ups, link_downs;
} ert_link_stats;

typedef struct ert_link_pending {
    bool used;
    uint8_t type;
    uint16_t seq;
    uint16_t tries;           /* transmissions so far (up to retry_limit + 1 = 256) */
    uint8_t len;
    uint32_t last_tx_ms;
    uint8_t payload[ERT_LINK_RELIABLE_MAX_PAYLOAD];
} ert_link_pending;

typedef struct ert_link {
    ert_link_config cfg;
    ert_link_io io;
    ert_link_deframer rx;
    uint8_t rx_buf[ERT_LINK_MAX_FRAME];
    uint8_t tx_buf[ERT_LINK_WIRE_MAX(ERT_LINK_MAX_PAYLOAD)];
    uint8_t payload_buf[ERT_LINK_MAX_PAYLOAD];
    ert_link_pending queue[ERT_LINK_QUEUE_LEN];
    uint16_t tx_seq;          /* unreliable frames (hello, heartbeat, ack) */
    uint16_t rel_seq;         /* next reliable sequence number */
    bool rx_window_valid;
    uint16_t rx_high;         /* highest reliable seq received */
    uint64_t rx_mask;         /* bit i: rx_high - i was received */
    uint16_t rx_seq;          /* header seq of the last reliable message delivered */
    bool up;
    uint32_t last_rx_ms, last_beat_ms;
    embedrt_v1_LinkStats peer_stats; /* from the peer's last heartbeat */
    ert_link_stats stats;
} ert_link;

/* Zeroes the link and copies cfg and io (node_name/version_describe must outlive it). */
void ert_link_init(ert_link *l, const ert_link_config *cfg, const ert_link_io *io);
/* Sends the first hello; the heartbeat timer starts now. The link is down until a valid
 * frame arrives. */
void ert_link_start(ert_link *l, uint32_t now_ms);
/* Received bytes, in any chunking. Completed frames are handled (acks sent, callbacks). */
void ert_link_feed(ert_link *l, const uint8_t *bytes, size_t n, uint32_t now_ms);
/* Timers: heartbeat/hello, retransmissions and retry limit, link-down. Call often. */
void ert_link_poll(ert_link *l, uint32_t now_ms);
/* Queue a reliable message and send it now. False when the message does not encode (a
 * string without terminator inside its bound) or a grasp phase is not CLOSED, LIFTED or
 * RELEASED. A full queue drops the oldest message (counted in drops). */
bool ert_link_send_grasp(ert_link *l, const embedrt_v1_GraspReport *m, uint32_t now_ms);
bool ert_link_send_reward(ert_link *l, const embedrt_v1_RewardReport *m, uint32_t now_ms);
bool ert_link_send_goal(ert_link *l, const embedrt_v1_GoalStatus *m, uint32_t now_ms);
bool ert_link_is_up(const ert_link *l);
size_t ert_link_pending_count(const ert_link *l);
/* Header sequence number of the reliable message (grasp, reward, goal) whose callback is
 * running, so the application can check the peer's numbering (nothing lost or reordered:
 * each delivered seq is the previous one + 1, mod 2^16). Outside a callback: the seq of the
 * last reliable message delivered (0 before any). Duplicates are never delivered, so they
 * never change it. */
uint16_t ert_link_rx_seq(const ert_link *l);
/* The counters in the wire form a Heartbeat carries. */
void ert_link_stats_snapshot(const ert_link *l, embedrt_v1_LinkStats *out);

#endif
