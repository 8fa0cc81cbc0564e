/* The C side of the controller-link cross-check with Python (test_link_python.py).
 *   link_peer emit      writes the bytes of a scripted MCU session to stdout
 *   link_peer receive   feeds stdin to an MCU-side link, prints one line per event */
#include "ert_link.h"

#include <pb_decode.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool write_stdout(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    return fwrite(p, 1, n, stdout) == n;
}

/* Receive mode: what the link answers is decoded and printed, not written. */
static bool print_tx(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    uint8_t buf[ERT_LINK_MAX_FRAME];
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, sizeof buf);
    for (size_t i = 0; i < n; i++) {
        ert_link_header h;
        const uint8_t *pl;
        size_t len;
        if (!ert_link_deframer_push(&d, p[i], &h, &pl, &len))
            continue;
        if (h.type == ERT_LINK_MSG_ACK) {
            embedrt_v1_LinkAck a = embedrt_v1_LinkAck_init_zero;
            pb_istream_t is = pb_istream_from_buffer(pl, len);
            if (pb_decode(&is, embedrt_v1_LinkAck_fields, &a))
                printf("tx ack %" PRIu32 "\n", a.acked_seq);
        } else {
            printf("tx type %u\n", h.type);
        }
    }
    return true;
}

static void on_hello(void *ctx, const embedrt_v1_LinkHello *m)
{
    (void)ctx;
    printf("hello node=%s version=%" PRIu32 ".%" PRIu32 ".%" PRIu32 " reply=%d\n", m->node_name,
           m->embedrt.major, m->embedrt.minor, m->embedrt.patch, m->reply);
}

static void on_reward(void *ctx, const embedrt_v1_RewardReport *m)
{
    (void)ctx;
    printf("reward grasp=%" PRIu32 " value=%.6g type=%s goal=%" PRIu32 " frame_seq=%" PRIu64 "\n", m->grasp_id,
           (double)m->value, m->type, m->goal_id, m->frame_seq);
}

static void on_goal(void *ctx, const embedrt_v1_GoalStatus *m)
{
    (void)ctx;
    printf("goal id=%" PRIu32 " has_goal=%d\n", m->goal_id, m->has_goal);
}

static void on_link(void *ctx, bool up)
{
    (void)ctx;
    printf("link %s\n", up ? "up" : "down");
}

static const ert_link_config cfg = {"gripper-mcu", 0, 1, 0, "link-peer", 100, 350, 50, 3, 65534};

int main(int argc, char **argv)
{
    static ert_link l;
    if (argc == 2 && strcmp(argv[1], "emit") == 0) {
        ert_link_io io = {NULL, write_stdout, NULL, NULL, NULL, NULL, NULL};
        ert_link_init(&l, &cfg, &io);
        ert_link_start(&l, 1000);
        embedrt_v1_GraspReport g = {7, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 1010};
        ert_link_send_grasp(&l, &g, 1010);
        g.phase = embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED;
        g.success = true;
        g.mcu_time_ms = 1020;
        ert_link_send_grasp(&l, &g, 1020);
        g.phase = embedrt_v1_GraspPhase_GRASP_PHASE_RELEASED;
        g.success = false;
        g.mcu_time_ms = 1030;
        ert_link_send_grasp(&l, &g, 1030); /* seq wraps to 0 */
        ert_link_poll(&l, 1060);           /* retransmits the first (seq 65534) */
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "receive") == 0) {
        ert_link_io io = {NULL, print_tx, on_hello, NULL, on_reward, on_goal, on_link};
        ert_link_init(&l, &cfg, &io);
        uint8_t buf[256];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
            ert_link_feed(&l, buf, n, 0);
        const ert_link_deframer_stats *s = &l.rx.stats;
        printf("stats frames=%" PRIu32 " crc_errors=%" PRIu32 " resyncs=%" PRIu32 " oversize=%" PRIu32
               " duplicates=%" PRIu32 " bad_payload=%" PRIu32 "\n",
               s->frames, s->crc_errors, s->resyncs, s->oversize, l.stats.duplicates, l.stats.bad_payload);
        return 0;
    }
    fprintf(stderr, "usage: link_peer emit|receive\n");
    return 2;
}
