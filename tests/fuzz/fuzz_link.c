/* libFuzzer target: hostile bytes into the controller-link deframer and link core.
 * Byte 0 picks the mode: even = raw line bytes (exercises COBS/CRC/resync), odd = records
 * [type, seq lo, seq hi, len, payload...] that the target frames with a valid CRC, so the
 * fuzzer reaches the message handling behind the CRC without the core weakening it.
 * Between chunks the clock advances and the link is polled. Whatever the link writes must
 * be one valid frame of a known type whose payload decodes. */
#include "ert_link.h"
#include "ert_link_frame.h"

#include <pb_decode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool check_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    static uint8_t buf[ERT_LINK_MAX_FRAME];
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, sizeof buf);
    size_t frames = 0;
    for (size_t i = 0; i < n; i++) {
        ert_link_header h;
        const uint8_t *pl;
        size_t len;
        if (!ert_link_deframer_push(&d, p[i], &h, &pl, &len))
            continue;
        frames++;
        const pb_msgdesc_t *f = NULL;
        static union {
            embedrt_v1_LinkHello a;
            embedrt_v1_Heartbeat b;
            embedrt_v1_LinkAck c;
            embedrt_v1_GraspReport d;
            embedrt_v1_RewardReport e;
            embedrt_v1_GoalStatus g;
        } m;
        switch (h.type) {
        case ERT_LINK_MSG_HELLO: f = embedrt_v1_LinkHello_fields; break;
        case ERT_LINK_MSG_HEARTBEAT: f = embedrt_v1_Heartbeat_fields; break;
        case ERT_LINK_MSG_ACK: f = embedrt_v1_LinkAck_fields; break;
        case ERT_LINK_MSG_GRASP: f = embedrt_v1_GraspReport_fields; break;
        case ERT_LINK_MSG_REWARD: f = embedrt_v1_RewardReport_fields; break;
        case ERT_LINK_MSG_GOAL: f = embedrt_v1_GoalStatus_fields; break;
        default: abort();
        }
        pb_istream_t is = pb_istream_from_buffer(pl, len);
        if (len > ERT_LINK_MAX_PAYLOAD || !pb_decode(&is, f, &m))
            abort();
    }
    if (frames != 1 || d.stats.resyncs != 0)
        abort();
    return true;
}

static int replies;

static void on_grasp(void *ctx, const embedrt_v1_GraspReport *m)
{
    ert_link *l = ctx;
    /* The daemon's role: answer a grasp with a reward, from inside the callback. */
    embedrt_v1_RewardReport r = embedrt_v1_RewardReport_init_zero;
    r.grasp_id = m->grasp_id;
    memcpy(r.type, "outcome", 8);
    if (replies++ < 64)
        ert_link_send_reward(l, &r, 0);
}

static void on_reward(void *ctx, const embedrt_v1_RewardReport *m)
{
    (void)ctx;
    if (memchr(m->type, 0, sizeof m->type) == NULL)
        abort();
}

static void check_stats(const ert_link *l)
{
    const ert_link_deframer_stats *s = &l->rx.stats;
    if (s->resyncs != s->oversize + s->cobs_errors + s->short_frames + s->crc_errors + s->bad_version)
        abort();
    if (ert_link_pending_count(l) > ERT_LINK_QUEUE_LEN)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ert_link link;
    static const ert_link_config cfg = {"fuzz", 0, 1, 0, NULL, 100, 350, 50, 2, 65530};
    ert_link_io io = {&link, check_write, NULL, on_grasp, on_reward, NULL, NULL};
    if (size < 1)
        return 0;
    replies = 0;
    ert_link_init(&link, &cfg, &io);
    uint32_t now = 0xFFFFFF00u; /* crosses the 32-bit ms wrap during long inputs */
    ert_link_start(&link, now);
    embedrt_v1_GraspReport g = {1, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 0};
    ert_link_send_grasp(&link, &g, now);
    bool framed = data[0] & 1;
    size_t i = 1;
    while (i < size) {
        if (framed) {
            if (size - i < 4)
                break;
            ert_link_header h = {ERT_LINK_PROTOCOL_VERSION, data[i], (uint16_t)(data[i + 1] | data[i + 2] << 8)};
            size_t len = data[i + 3];
            i += 4;
            if (len > size - i)
                len = size - i;
            uint8_t out[ERT_LINK_WIRE_MAX(255)];
            size_t n = ert_link_frame_encode(&h, data + i, len, out, sizeof out);
            if (n == 0)
                abort();
            ert_link_feed(&link, out, n, now);
            i += len;
        } else {
            size_t chunk = size - i < 16 ? size - i : 16;
            ert_link_feed(&link, data + i, chunk, now);
            i += chunk;
        }
        now += 7;
        ert_link_poll(&link, now);
        check_stats(&link);
    }
    /* Let every retransmission run out: the queue must drain. */
    for (int k = 0; k < 10; k++)
        ert_link_poll(&link, now += 50);
    if (ert_link_pending_count(&link) != 0)
        abort();
    return 0;
}
