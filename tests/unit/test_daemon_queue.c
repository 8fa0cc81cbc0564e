/* The per-client event queue (byte ring, drop-oldest) and the publisher around it:
 * subscriptions, decimation, replies, drop notices and per-connection seq numbers. */
#include "harness.h"

#include "publisher.h"
#include "ring.h"

#include <pb_decode.h>
#include <stdlib.h>
#include <string.h>

static void test_ring_fifo_and_wrap(void)
{
    ert_ring r;
    CU_ASSERT_EQUAL_FATAL(ert_ring_init(&r, 64, 100, NULL), ERT_OK);
    uint8_t msg[20];
    uint32_t dropped, total_dropped = 0;
    uint32_t next_out = 0;
    /* 1000 pushes of varying sizes, popping every other time: contents stay in order. */
    for (uint32_t i = 0; i < 1000; i++) {
        size_t len = 1 + i % 19;
        memset(msg, (int)(i & 0xff), len);
        CU_ASSERT_TRUE_FATAL(ert_ring_push(&r, msg, len, &dropped));
        total_dropped += dropped;
        next_out += dropped;
        if (i % 2) {
            const uint8_t *p;
            size_t n;
            CU_ASSERT_TRUE_FATAL(ert_ring_peek(&r, &p, &n));
            CU_ASSERT_EQUAL(n, 1 + next_out % 19);
            CU_ASSERT_EQUAL(p[0], next_out & 0xff);
            CU_ASSERT_EQUAL(p[n - 1], next_out & 0xff);
            ert_ring_pop(&r);
            next_out++;
        }
    }
    CU_ASSERT(total_dropped > 0);
    CU_ASSERT_EQUAL(next_out + r.count, 1000);
    ert_ring_free(&r);
}

static void test_ring_drops_oldest_at_count_limit(void)
{
    ert_ring r;
    CU_ASSERT_EQUAL_FATAL(ert_ring_init(&r, 4096, 4, NULL), ERT_OK);
    uint32_t dropped, sum = 0;
    for (uint8_t i = 0; i < 10; i++) {
        CU_ASSERT_TRUE(ert_ring_push(&r, &i, 1, &dropped));
        sum += dropped;
    }
    CU_ASSERT_EQUAL(sum, 6);
    CU_ASSERT_EQUAL(r.count, 4);
    const uint8_t *p;
    size_t n;
    CU_ASSERT_TRUE(ert_ring_peek(&r, &p, &n));
    CU_ASSERT_EQUAL(p[0], 6);
    /* An entry larger than the ring is refused and nothing changes. */
    uint8_t big[5000] = {0};
    CU_ASSERT_FALSE(ert_ring_push(&r, big, sizeof big, &dropped));
    CU_ASSERT_EQUAL(r.count, 4);
    ert_ring_free(&r);
}

/* Encoded event payloads for the publisher tests. */
static size_t event(embedrt_v1_Envelope *env, pb_size_t which, const char *model, const char *camera, uint64_t seq,
                    uint8_t *buf, size_t cap, const uint8_t **payload)
{
    memset(env, 0, sizeof *env);
    env->which_body = which;
    if (which == embedrt_v1_Envelope_reward_tag) {
        strcpy(env->body.reward.model, model);
        strcpy(env->body.reward.camera, camera);
        env->body.reward.frame_seq = seq;
    } else {
        strcpy(env->body.embedding.model, model);
        strcpy(env->body.embedding.camera, camera);
        env->body.embedding.frame_seq = seq;
    }
    size_t len = 0;
    CU_ASSERT_EQUAL(ert_pub_encode(env, NULL, buf, cap, payload, &len, NULL), ERT_OK);
    return len;
}

/* Takes every pending frame of a client and decodes it; returns how many. */
static size_t drain(ert_pub *p, uint32_t id, embedrt_v1_Envelope *out, size_t cap, uint8_t *buf)
{
    size_t k = 0, n;
    while ((n = ert_pub_take(p, id, buf, ERT_PUB_MAX_EVENT + 32)) > 0) {
        size_t pre = 0;
        while (buf[pre] & 0x80)
            pre++;
        pre++;
        if (k < cap) {
            ert_wire_views v;
            CU_ASSERT_EQUAL(ert_wire_decode(buf + pre, n - pre, &out[k], &v, NULL), ERT_OK);
        }
        k++;
    }
    return k;
}

static void test_publisher_filters_decimates_and_numbers(void)
{
    ert_pub *p;
    CU_ASSERT_EQUAL_FATAL(ert_pub_create(16, -1, &p, NULL), ERT_OK);
    uint32_t a, b;
    CU_ASSERT_EQUAL_FATAL(ert_pub_add_client(p, &a, NULL), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_pub_add_client(p, &b, NULL), ERT_OK);
    embedrt_v1_Subscribe s = {.stream = embedrt_v1_Stream_STREAM_REWARDS};
    CU_ASSERT_EQUAL(ert_pub_subscribe(p, a, &s, NULL), ERT_OK);
    s = (embedrt_v1_Subscribe){.stream = embedrt_v1_Stream_STREAM_EMBEDDINGS, .decimation = 3};
    strcpy(s.camera, "wrist");
    CU_ASSERT_EQUAL(ert_pub_subscribe(p, b, &s, NULL), ERT_OK);
    s = (embedrt_v1_Subscribe){.stream = (embedrt_v1_Stream)9};
    ert_error err;
    CU_ASSERT_EQUAL(ert_pub_subscribe(p, b, &s, &err), ERT_EINVAL);

    embedrt_v1_Envelope *env = malloc(sizeof *env), *got = malloc(8 * sizeof *got);
    uint8_t *buf = malloc(ERT_PUB_MAX_EVENT + 32), enc[512];
    const uint8_t *pl;
    for (uint64_t i = 0; i < 7; i++) {
        size_t n = event(env, embedrt_v1_Envelope_embedding_tag, "g2v", i % 2 ? "wrist" : "scene", i, enc, sizeof enc,
                         &pl);
        ert_pub_event(p, embedrt_v1_Stream_STREAM_EMBEDDINGS, "g2v", i % 2 ? "wrist" : "scene", pl, n);
        n = event(env, embedrt_v1_Envelope_reward_tag, "g2v", "scene", i, enc, sizeof enc, &pl);
        ert_pub_event(p, embedrt_v1_Stream_STREAM_REWARDS, "g2v", "scene", pl, n);
    }
    /* a: 7 rewards, seq 1..7. b: wrist embeddings 1, 3, 5 -> every third: frame 1 only... */
    CU_ASSERT_EQUAL(drain(p, a, got, 8, buf), 7);
    CU_ASSERT_EQUAL(got[0].seq, 1);
    CU_ASSERT_EQUAL(got[6].seq, 7);
    CU_ASSERT_EQUAL(got[6].body.reward.frame_seq, 6);
    size_t nb = drain(p, b, got, 8, buf);
    CU_ASSERT_EQUAL_FATAL(nb, 1);
    CU_ASSERT_EQUAL(got[0].which_body, embedrt_v1_Envelope_embedding_tag);
    CU_ASSERT_EQUAL(got[0].body.embedding.frame_seq, 1);
    CU_ASSERT_EQUAL(got[0].seq, 1);

    /* Replies go to one client only; unsubscribe stops the stream. */
    memset(env, 0, sizeof *env);
    env->request_id = 42;
    env->which_body = embedrt_v1_Envelope_ack_tag;
    size_t n;
    CU_ASSERT_EQUAL(ert_pub_encode(env, NULL, enc, sizeof enc, &pl, &n, NULL), ERT_OK);
    CU_ASSERT_TRUE(ert_pub_send_to(p, b, pl, n));
    CU_ASSERT_FALSE(ert_pub_send_to(p, 999, pl, n));
    CU_ASSERT_EQUAL(drain(p, a, got, 8, buf), 0);
    CU_ASSERT_EQUAL(drain(p, b, got, 8, buf), 1);
    CU_ASSERT_EQUAL(got[0].request_id, 42);
    CU_ASSERT_EQUAL(got[0].seq, 2);
    embedrt_v1_Unsubscribe u = {.stream = embedrt_v1_Stream_STREAM_REWARDS};
    CU_ASSERT_EQUAL(ert_pub_unsubscribe(p, a, &u), 1);
    n = event(env, embedrt_v1_Envelope_reward_tag, "g2v", "scene", 9, enc, sizeof enc, &pl);
    ert_pub_event(p, embedrt_v1_Stream_STREAM_REWARDS, "g2v", "scene", pl, n);
    CU_ASSERT_EQUAL(drain(p, a, got, 8, buf), 0);
    free(env);
    free(got);
    free(buf);
    ert_pub_free(p);
}

static void test_publisher_slow_client_drops_oldest_and_is_told(void)
{
    ert_pub *p;
    CU_ASSERT_EQUAL_FATAL(ert_pub_create(8, -1, &p, NULL), ERT_OK);
    uint32_t slow, fast;
    CU_ASSERT_EQUAL_FATAL(ert_pub_add_client(p, &slow, NULL), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_pub_add_client(p, &fast, NULL), ERT_OK);
    embedrt_v1_Subscribe s = {.stream = embedrt_v1_Stream_STREAM_REWARDS};
    ert_pub_subscribe(p, slow, &s, NULL);
    ert_pub_subscribe(p, fast, &s, NULL);
    embedrt_v1_Envelope *env = malloc(sizeof *env), *got = malloc(10 * sizeof *got);
    uint8_t *buf = malloc(ERT_PUB_MAX_EVENT + 32), enc[512];
    const uint8_t *pl;
    size_t fast_got = 0;
    for (uint64_t i = 0; i < 20; i++) {
        size_t n = event(env, embedrt_v1_Envelope_reward_tag, "g2v", "scene", i, enc, sizeof enc, &pl);
        ert_pub_event(p, embedrt_v1_Stream_STREAM_REWARDS, "g2v", "scene", pl, n);
        fast_got += drain(p, fast, got, 10, buf);
    }
    CU_ASSERT_EQUAL(fast_got, 20);
    ert_pub_client_stats cs[4];
    CU_ASSERT_EQUAL(ert_pub_stats(p, cs, 4), 2);
    CU_ASSERT_EQUAL(cs[0].dropped, 12);
    CU_ASSERT_EQUAL(cs[1].dropped, 0);
    CU_ASSERT_EQUAL(cs[1].sent, 20);
    /* The slow client first hears how many it lost, then gets the 8 newest. */
    CU_ASSERT_EQUAL_FATAL(drain(p, slow, got, 10, buf), 9);
    CU_ASSERT_EQUAL(got[0].which_body, embedrt_v1_Envelope_notice_tag);
    CU_ASSERT_EQUAL(got[0].body.notice.kind, embedrt_v1_Notice_Kind_KIND_EVENTS_DROPPED);
    CU_ASSERT_EQUAL(got[0].body.notice.count, 12);
    CU_ASSERT_EQUAL(got[1].body.reward.frame_seq, 12);
    CU_ASSERT_EQUAL(got[8].body.reward.frame_seq, 19);
    CU_ASSERT_EQUAL(got[8].seq, 9);
    free(env);
    free(got);
    free(buf);
    ert_pub_free(p);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_ring_fifo_and_wrap),
    ERT_TEST(test_ring_drops_oldest_at_count_limit),
    ERT_TEST(test_publisher_filters_decimates_and_numbers),
    ERT_TEST(test_publisher_slow_client_drops_oldest_and_is_told),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_daemon_queue = {"daemon_queue", cases};
