/* Controller-link state machine (see ert_link.h). Everything is static inside struct
 * ert_link; time only enters through the now_ms arguments and wraps at 2^32 ms. */
#include "ert_link.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <string.h>

_Static_assert(ERT_LINK_RELIABLE_MAX_PAYLOAD <= 255, "ert_link_pending.len is a uint8_t");

/* Elapsed time that survives the 32-bit millisecond wrap. */
static uint32_t since(uint32_t now, uint32_t then)
{
    return (uint32_t)(now - then);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    if (src)
        while (n + 1 < cap && src[n])
            n++;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void ert_link_init(ert_link *l, const ert_link_config *cfg, const ert_link_io *io)
{
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->io = *io;
    l->rel_seq = cfg->first_seq;
    ert_link_deframer_init(&l->rx, l->rx_buf, sizeof l->rx_buf);
}

static void write_frame(ert_link *l, uint8_t type, uint16_t seq, const uint8_t *payload, size_t n)
{
    ert_link_header h = {ERT_LINK_PROTOCOL_VERSION, type, seq};
    size_t len = ert_link_frame_encode(&h, payload, n, l->tx_buf, sizeof l->tx_buf);
    if (len && l->io.write && l->io.write(l->io.ctx, l->tx_buf, len))
        l->stats.frames_tx++;
    else
        l->stats.write_errors++;
}

/* Encodes msg into payload_buf; 0 bytes is a valid (all-default) message, so the length
 * comes back through *n. */
static bool encode(ert_link *l, const pb_msgdesc_t *fields, const void *msg, size_t *n)
{
    pb_ostream_t os = pb_ostream_from_buffer(l->payload_buf, sizeof l->payload_buf);
    if (!pb_encode(&os, fields, msg))
        return false;
    *n = os.bytes_written;
    return true;
}

static void send_unreliable(ert_link *l, uint8_t type, const pb_msgdesc_t *fields, const void *msg)
{
    size_t n;
    if (encode(l, fields, msg, &n))
        write_frame(l, type, l->tx_seq++, l->payload_buf, n);
    else
        l->stats.write_errors++;
}

static void send_hello(ert_link *l, bool reply)
{
    embedrt_v1_LinkHello m = embedrt_v1_LinkHello_init_zero;
    m.protocol_version = ERT_LINK_PROTOCOL_VERSION;
    m.has_embedrt = true;
    m.embedrt.major = l->cfg.version_major;
    m.embedrt.minor = l->cfg.version_minor;
    m.embedrt.patch = l->cfg.version_patch;
    copy_str(m.embedrt.describe, sizeof m.embedrt.describe, l->cfg.version_describe);
    copy_str(m.node_name, sizeof m.node_name, l->cfg.node_name);
    m.max_payload = ERT_LINK_MAX_PAYLOAD;
    m.heartbeat_ms = l->cfg.heartbeat_ms;
    m.reply = reply;
    send_unreliable(l, ERT_LINK_MSG_HELLO, embedrt_v1_LinkHello_fields, &m);
}

void ert_link_stats_snapshot(const ert_link *l, embedrt_v1_LinkStats *out)
{
    embedrt_v1_LinkStats s = embedrt_v1_LinkStats_init_zero;
    s.crc_errors = l->rx.stats.crc_errors;
    s.resyncs = l->rx.stats.resyncs;
    s.retransmissions = l->stats.retransmissions;
    s.drops = l->stats.drops;
    s.frames_rx = l->stats.frames_rx;
    s.frames_tx = l->stats.frames_tx;
    s.link_downs = l->stats.link_downs;
    *out = s;
}

static void send_heartbeat(ert_link *l, uint32_t now_ms)
{
    embedrt_v1_Heartbeat m = embedrt_v1_Heartbeat_init_zero;
    m.monotonic_ms = now_ms;
    m.has_stats = true;
    ert_link_stats_snapshot(l, &m.stats);
    send_unreliable(l, ERT_LINK_MSG_HEARTBEAT, embedrt_v1_Heartbeat_fields, &m);
}

void ert_link_start(ert_link *l, uint32_t now_ms)
{
    l->last_beat_ms = now_ms;
    l->last_rx_ms = now_ms;
    send_hello(l, false);
}

static void transmit(ert_link *l, ert_link_pending *p, uint32_t now_ms)
{
    p->tries++;
    p->last_tx_ms = now_ms;
    write_frame(l, p->type, p->seq, p->payload, p->len);
}

static bool send_reliable(ert_link *l, uint8_t type, const pb_msgdesc_t *fields, const void *msg,
                          uint32_t now_ms)
{
    size_t n;
    if (!encode(l, fields, msg, &n) || n > ERT_LINK_RELIABLE_MAX_PAYLOAD)
        return false;
    ert_link_pending *slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < ERT_LINK_QUEUE_LEN; i++) {
        ert_link_pending *p = &l->queue[i];
        if (!p->used) {
            slot = p;
            break;
        }
        /* Oldest = furthest behind the next sequence number, in 16-bit serial order. */
        if (!oldest || (uint16_t)(l->rel_seq - p->seq) > (uint16_t)(l->rel_seq - oldest->seq))
            oldest = p;
    }
    if (!slot) {
        l->stats.drops++;
        slot = oldest;
    }
    memset(slot, 0, sizeof *slot);
    slot->used = true;
    slot->type = type;
    slot->seq = l->rel_seq++;
    slot->len = (uint8_t)n;
    memcpy(slot->payload, l->payload_buf, n);
    transmit(l, slot, now_ms);
    return true;
}

static bool grasp_phase_ok(embedrt_v1_GraspPhase p)
{
    return p == embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED ||
           p == embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED ||
           p == embedrt_v1_GraspPhase_GRASP_PHASE_RELEASED;
}

bool ert_link_send_grasp(ert_link *l, const embedrt_v1_GraspReport *m, uint32_t now_ms)
{
    if (!grasp_phase_ok(m->phase))
        return false;
    return send_reliable(l, ERT_LINK_MSG_GRASP, embedrt_v1_GraspReport_fields, m, now_ms);
}

bool ert_link_send_reward(ert_link *l, const embedrt_v1_RewardReport *m, uint32_t now_ms)
{
    return send_reliable(l, ERT_LINK_MSG_REWARD, embedrt_v1_RewardReport_fields, m, now_ms);
}

bool ert_link_send_goal(ert_link *l, const embedrt_v1_GoalStatus *m, uint32_t now_ms)
{
    return send_reliable(l, ERT_LINK_MSG_GOAL, embedrt_v1_GoalStatus_fields, m, now_ms);
}

bool ert_link_is_up(const ert_link *l)
{
    return l->up;
}

size_t ert_link_pending_count(const ert_link *l)
{
    size_t n = 0;
    for (size_t i = 0; i < ERT_LINK_QUEUE_LEN; i++)
        n += l->queue[i].used;
    return n;
}

uint16_t ert_link_rx_seq(const ert_link *l)
{
    return l->rx_seq;
}

static void set_up(ert_link *l, bool up)
{
    if (l->up == up)
        return;
    l->up = up;
    if (up)
        l->stats.link_ups++;
    else
        l->stats.link_downs++;
    if (l->io.on_link)
        l->io.on_link(l->io.ctx, up);
}

void ert_link_poll(ert_link *l, uint32_t now_ms)
{
    if (l->up && since(now_ms, l->last_rx_ms) >= l->cfg.link_timeout_ms)
        set_up(l, false);
    if (since(now_ms, l->last_beat_ms) >= l->cfg.heartbeat_ms) {
        l->last_beat_ms = now_ms;
        /* While down, hello instead: a restarted peer learns who we are and resets its
         * duplicate window. */
        if (l->up)
            send_heartbeat(l, now_ms);
        else
            send_hello(l, false);
    }
    for (size_t i = 0; i < ERT_LINK_QUEUE_LEN; i++) {
        ert_link_pending *p = &l->queue[i];
        if (!p->used || since(now_ms, p->last_tx_ms) < l->cfg.retransmit_ms)
            continue;
        if (p->tries > l->cfg.retry_limit) {
            p->used = false;
            l->stats.drops++;
            continue;
        }
        l->stats.retransmissions++;
        transmit(l, p, now_ms);
    }
}

/* True when reliable seq s was already received; records it otherwise. Serial-number
 * arithmetic on 16 bits: s is "newer" when it is less than half the space ahead. */
static bool seen_before(ert_link *l, uint16_t s)
{
    if (!l->rx_window_valid) {
        l->rx_window_valid = true;
        l->rx_high = s;
        l->rx_mask = 1;
        return false;
    }
    uint16_t ahead = (uint16_t)(s - l->rx_high);
    if (ahead != 0 && ahead < 0x8000u) {
        l->rx_mask = ahead >= ERT_LINK_DEDUP_WINDOW ? 0 : l->rx_mask << ahead;
        l->rx_mask |= 1;
        l->rx_high = s;
        return false;
    }
    uint16_t behind = (uint16_t)(l->rx_high - s);
    if (behind >= ERT_LINK_DEDUP_WINDOW) {
        /* Older than anything we remember: a delayed retransmission of something long
         * acknowledged is far more likely than a new message, so do not deliver it. */
        l->stats.stale++;
        return true;
    }
    uint64_t bit = (uint64_t)1 << behind;
    if (l->rx_mask & bit)
        return true;
    l->rx_mask |= bit;
    return false;
}

static bool decode(const uint8_t *p, size_t n, const pb_msgdesc_t *fields, void *msg)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    return pb_decode(&is, fields, msg);
}

static void handle_ack(ert_link *l, const embedrt_v1_LinkAck *a)
{
    for (size_t i = 0; i < ERT_LINK_QUEUE_LEN; i++) {
        ert_link_pending *p = &l->queue[i];
        if (p->used && p->seq == a->acked_seq) {
            p->used = false;
            l->stats.acks_rx++;
            return;
        }
    }
}

static void handle_reliable(ert_link *l, const ert_link_header *h, const void *msg)
{
    embedrt_v1_LinkAck ack = {h->seq};
    send_unreliable(l, ERT_LINK_MSG_ACK, embedrt_v1_LinkAck_fields, &ack);
    if (seen_before(l, h->seq)) {
        l->stats.duplicates++;
        return;
    }
    l->rx_seq = h->seq;
    void *c = l->io.ctx;
    switch (h->type) {
    case ERT_LINK_MSG_GRASP:
        if (l->io.on_grasp)
            l->io.on_grasp(c, msg);
        break;
    case ERT_LINK_MSG_REWARD:
        if (l->io.on_reward)
            l->io.on_reward(c, msg);
        break;
    case ERT_LINK_MSG_GOAL:
        if (l->io.on_goal)
            l->io.on_goal(c, msg);
        break;
    default: break;
    }
}

static void handle_frame(ert_link *l, const ert_link_header *h, const uint8_t *p, size_t n,
                         uint32_t now_ms)
{
    union {
        embedrt_v1_LinkHello hello;
        embedrt_v1_Heartbeat beat;
        embedrt_v1_LinkAck ack;
        embedrt_v1_GraspReport grasp;
        embedrt_v1_RewardReport reward;
        embedrt_v1_GoalStatus goal;
    } m;
    memset(&m, 0, sizeof m);
    const pb_msgdesc_t *fields;
    switch (h->type) {
    case ERT_LINK_MSG_HELLO: fields = embedrt_v1_LinkHello_fields; break;
    case ERT_LINK_MSG_HEARTBEAT: fields = embedrt_v1_Heartbeat_fields; break;
    case ERT_LINK_MSG_ACK: fields = embedrt_v1_LinkAck_fields; break;
    case ERT_LINK_MSG_GRASP: fields = embedrt_v1_GraspReport_fields; break;
    case ERT_LINK_MSG_REWARD: fields = embedrt_v1_RewardReport_fields; break;
    case ERT_LINK_MSG_GOAL: fields = embedrt_v1_GoalStatus_fields; break;
    default:
        l->stats.unknown_type++;
        return;
    }
    if (!decode(p, n, fields, &m) || (h->type == ERT_LINK_MSG_ACK && m.ack.acked_seq > 0xFFFFu) ||
        (h->type == ERT_LINK_MSG_GRASP && !grasp_phase_ok(m.grasp.phase)) ||
        (h->type == ERT_LINK_MSG_HELLO && m.hello.protocol_version != ERT_LINK_PROTOCOL_VERSION)) {
        l->stats.bad_payload++;
        return;
    }
    /* Only a frame we understood proves the peer is alive and speaks our protocol. */
    l->stats.frames_rx++;
    l->last_rx_ms = now_ms;
    set_up(l, true);
    switch (h->type) {
    case ERT_LINK_MSG_HELLO:
        /* The peer (re)started: its reliable sequence numbers start afresh. */
        l->rx_window_valid = false;
        if (!m.hello.reply)
            send_hello(l, true);
        if (l->io.on_hello)
            l->io.on_hello(l->io.ctx, &m.hello);
        break;
    case ERT_LINK_MSG_HEARTBEAT:
        l->peer_stats = m.beat.stats;
        break;
    case ERT_LINK_MSG_ACK: handle_ack(l, &m.ack); break;
    default: handle_reliable(l, h, &m); break;
    }
}

void ert_link_feed(ert_link *l, const uint8_t *bytes, size_t n, uint32_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        ert_link_header h;
        const uint8_t *p;
        size_t len;
        if (ert_link_deframer_push(&l->rx, bytes[i], &h, &p, &len))
            handle_frame(l, &h, p, len, now_ms);
    }
}
