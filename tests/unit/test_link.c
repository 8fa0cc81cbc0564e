/* Controller link (firmware/core): COBS/CRC framing byte for byte, resynchronisation after
 * every kind of damage, and the link state machine over a simulated lossy wire. */
#include "harness.h"

#include "ert_link.h"
#include "ert_link_frame.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- framing helpers ---- */

typedef struct got_frame {
    ert_link_header h;
    uint8_t payload[600];
    size_t len;
} got_frame;

/* Feeds bytes into d; stores up to max delivered frames in out. Returns the count. */
static size_t feed_all(ert_link_deframer *d, const uint8_t *p, size_t n, got_frame *out, size_t max)
{
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        ert_link_header h;
        const uint8_t *pl;
        size_t len;
        if (ert_link_deframer_push(d, p[i], &h, &pl, &len)) {
            if (got < max) {
                out[got].h = h;
                out[got].len = len;
                memcpy(out[got].payload, pl, len < sizeof out[got].payload ? len : sizeof out[got].payload);
            }
            got++;
        }
    }
    return got;
}

static size_t frame(uint8_t type, uint16_t seq, const uint8_t *payload, size_t n, uint8_t *out, size_t cap)
{
    ert_link_header h = {ERT_LINK_PROTOCOL_VERSION, type, seq};
    return ert_link_frame_encode(&h, payload, n, out, cap);
}

static void test_link_crc32_matches_zlib(void)
{
    CU_ASSERT_EQUAL(ert_link_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    CU_ASSERT_EQUAL(ert_link_crc32(0, NULL, 0), 0u);
    uint8_t buf[1000];
    srand(11);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rand();
    for (size_t n = 0; n <= sizeof buf; n += 37)
        CU_ASSERT_EQUAL(ert_link_crc32(0, buf, n), (uint32_t)crc32(0, buf, (uInt)n));
    /* Continuation over pieces equals one pass. */
    uint32_t c = ert_link_crc32(0, buf, 300);
    CU_ASSERT_EQUAL(ert_link_crc32(c, buf + 300, 700), (uint32_t)crc32(0, buf, 1000));
}

static void test_link_frame_known_bytes(void)
{
    uint8_t out[64];
    const uint8_t pl[] = {0x08, 0x05};
    static const uint8_t want1[] = {0x00, 0x0B, 0x01, 0x03, 0x02, 0x01, 0x08, 0x05, 0xED, 0xD4, 0x46, 0x2E, 0x00};
    size_t n = frame(3, 0x0102, pl, sizeof pl, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(n, sizeof want1);
    CU_ASSERT_EQUAL(memcmp(out, want1, n), 0);
    /* Zeros in the header (seq 0) and an empty payload. */
    static const uint8_t want2[] = {0x00, 0x03, 0x01, 0x04, 0x01, 0x05, 0xA5, 0x10, 0xF1, 0x9E, 0x00};
    n = frame(4, 0, NULL, 0, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(n, sizeof want2);
    CU_ASSERT_EQUAL(memcmp(out, want2, n), 0);

    uint8_t buf[64];
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, sizeof buf);
    got_frame g[2];
    CU_ASSERT_EQUAL_FATAL(feed_all(&d, want1, sizeof want1, g, 2), 1);
    CU_ASSERT_EQUAL(g[0].h.version, 1);
    CU_ASSERT_EQUAL(g[0].h.type, 3);
    CU_ASSERT_EQUAL(g[0].h.seq, 0x0102);
    CU_ASSERT_EQUAL(g[0].len, 2);
    CU_ASSERT_EQUAL(memcmp(g[0].payload, pl, 2), 0);
    CU_ASSERT_EQUAL_FATAL(feed_all(&d, want2, sizeof want2, g, 2), 1);
    CU_ASSERT_EQUAL(g[0].h.type, 4);
    CU_ASSERT_EQUAL(g[0].h.seq, 0);
    CU_ASSERT_EQUAL(g[0].len, 0);
    CU_ASSERT_EQUAL(d.stats.frames, 2);
    CU_ASSERT_EQUAL(d.stats.resyncs, 0);
}

static void test_link_encode_rejects_small_buffer(void)
{
    uint8_t pl[100] = {0}, out[300];
    size_t need = ERT_LINK_WIRE_MAX(sizeof pl);
    CU_ASSERT_EQUAL(frame(1, 1, pl, sizeof pl, out, need - 1), 0);
    CU_ASSERT(frame(1, 1, pl, sizeof pl, out, need) > 0);
    CU_ASSERT_EQUAL(frame(1, 1, NULL, 5, out, sizeof out), 0);
}

/* Round trip of one payload; checks the encoding has no interior zero and fits the bound. */
static void round_trip(const uint8_t *pl, size_t n, uint16_t seq)
{
    static uint8_t out[2000], buf[1200];
    size_t len = frame(2, seq, pl, n, out, sizeof out);
    CU_ASSERT_FATAL(len > 0);
    CU_ASSERT(len <= ERT_LINK_WIRE_MAX(n));
    CU_ASSERT_EQUAL(out[0], 0);
    CU_ASSERT_EQUAL(out[len - 1], 0);
    CU_ASSERT_PTR_NULL(memchr(out + 1, 0, len - 2));
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, n + ERT_LINK_FRAME_OVERHEAD); /* exactly enough */
    static got_frame g[2];
    CU_ASSERT_EQUAL_FATAL(feed_all(&d, out, len, g, 2), 1);
    CU_ASSERT_EQUAL(g[0].h.seq, seq);
    CU_ASSERT_EQUAL_FATAL(g[0].len, n);
    CU_ASSERT_EQUAL(memcmp(g[0].payload, pl, n), 0);
}

/* seq whose header and CRC contain no zero byte, so the decoded frame is one zero-free run. */
static uint16_t zero_free_seq(const uint8_t *pl, size_t n)
{
    for (uint32_t s = 0x0101; s < 0xFFFF; s++) {
        if ((s & 0xFF) == 0 || (s >> 8) == 0)
            continue;
        uint8_t hdr[4] = {1, 2, (uint8_t)s, (uint8_t)(s >> 8)};
        uint32_t c = ert_link_crc32(ert_link_crc32(0, hdr, 4), pl, n);
        if ((c & 0xFF) && (c & 0xFF00) && (c & 0xFF0000) && (c & 0xFF000000u))
            return (uint16_t)s;
    }
    return 0;
}

static void test_link_cobs_edge_cases(void)
{
    uint8_t pl[600];
    /* Zero-free runs around the 254-byte COBS block: the decoded frame is payload + 8. */
    const size_t runs[] = {0, 1, 245, 246, 247, 254, 255, 500, 501, 502, 508};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        size_t n = runs[i];
        memset(pl, 0x11, n);
        uint16_t s = zero_free_seq(pl, n);
        CU_ASSERT_FATAL(s != 0);
        uint8_t out[700];
        size_t len = frame(2, s, pl, n, out, sizeof out);
        size_t m = n + ERT_LINK_FRAME_OVERHEAD;
        /* One code byte per 254 data bytes, plus one; plus both delimiters. */
        CU_ASSERT_EQUAL(len, m + m / 254 + 1 + 2);
        round_trip(pl, n, s);
    }
    /* All-zero payloads: every byte becomes a code byte. */
    const size_t zeros[] = {1, 2, 10, 253, 254, 255, 300};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
        memset(pl, 0, zeros[i]);
        round_trip(pl, zeros[i], 0);
        round_trip(pl, zeros[i], 0x0101);
    }
    /* Mixed: zero every 254th / 255th byte, 0xFF runs. */
    for (size_t i = 0; i < 600; i++)
        pl[i] = (i % 254 == 253) ? 0 : 0xFF;
    round_trip(pl, 600, 7);
    for (size_t i = 0; i < 600; i++)
        pl[i] = (i % 255 == 0) ? 0 : (uint8_t)i;
    round_trip(pl, 600, 0xFFFF);
}

static void test_link_corruption_at_every_byte_is_rejected(void)
{
    uint8_t pl[40];
    for (size_t i = 0; i < sizeof pl; i++)
        pl[i] = (uint8_t)(i * 7); /* includes zeros: several COBS blocks */
    uint8_t good[80], next[80], bad[80];
    size_t n = frame(5, 0x1234, pl, sizeof pl, good, sizeof good);
    const uint8_t next_pl[] = {0x08, 0x2A};
    size_t nn = frame(6, 0x0042, next_pl, sizeof next_pl, next, sizeof next);
    const uint8_t flips[] = {0x01, 0x80, 0xFF, 0x55};
    uint8_t buf[ERT_LINK_MAX_FRAME];
    size_t cases = 0;
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t f = 0; f <= sizeof flips; f++) {
            memcpy(bad, good, n);
            /* f == sizeof flips: the byte becomes a delimiter (or, at the ends, a non-zero). */
            bad[pos] = f < sizeof flips ? (uint8_t)(bad[pos] ^ flips[f]) : (bad[pos] ? 0 : 0x01);
            ert_link_deframer d;
            ert_link_deframer_init(&d, buf, sizeof buf);
            got_frame g[4];
            size_t got = feed_all(&d, bad, n, g, 4);
            got += feed_all(&d, next, nn, g + (got < 4 ? got : 3), 4 - (got < 4 ? got : 3));
            /* The damaged frame never comes out; the next one always does. */
            CU_ASSERT_EQUAL(got, 1);
            CU_ASSERT_EQUAL(g[0].h.type, 6);
            CU_ASSERT_EQUAL(g[0].h.seq, 0x0042);
            CU_ASSERT_EQUAL(g[0].len, 2);
            CU_ASSERT_EQUAL(memcmp(g[0].payload, next_pl, 2), 0);
            CU_ASSERT(d.stats.resyncs >= 1);
            CU_ASSERT_EQUAL(d.stats.resyncs, d.stats.oversize + d.stats.cobs_errors + d.stats.short_frames +
                                                 d.stats.crc_errors + d.stats.bad_version);
            cases++;
        }
    }
    CU_ASSERT_EQUAL(cases, n * 5);
}

static void test_link_garbage_between_frames(void)
{
    static uint8_t stream[20000];
    uint8_t buf[ERT_LINK_MAX_FRAME];
    size_t len = 0;
    srand(5);
    for (int k = 0; k < 50; k++) {
        uint8_t pl[4] = {0x08, (uint8_t)k, 0x10, 0x01};
        len += frame(4, (uint16_t)k, pl, sizeof pl, stream + len, sizeof stream - len);
        size_t junk = (size_t)(rand() % 200);
        for (size_t i = 0; i < junk; i++)
            stream[len++] = (uint8_t)(rand() % 4 == 0 ? 0 : rand());
    }
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, sizeof buf);
    got_frame g[60];
    /* Byte at a time, as from a UART. */
    CU_ASSERT_EQUAL_FATAL(feed_all(&d, stream, len, g, 60), 50);
    for (int k = 0; k < 50; k++) {
        CU_ASSERT_EQUAL(g[k].h.seq, k);
        CU_ASSERT_EQUAL(g[k].payload[1], k);
    }
    CU_ASSERT(d.stats.resyncs > 0);
    CU_ASSERT_EQUAL(d.stats.frames, 50);
}

static void test_link_oversize_frame_checked_before_storing(void)
{
    uint8_t guard[64];
    memset(guard, 0xA5, sizeof guard);
    ert_link_deframer d;
    ert_link_deframer_init(&d, guard, 16); /* bytes 16.. must stay untouched */
    uint8_t pl[30], out[64];
    memset(pl, 0x33, sizeof pl);
    size_t n = frame(2, 9, pl, sizeof pl, out, sizeof out);
    got_frame g[2];
    CU_ASSERT_EQUAL(feed_all(&d, out, n, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.oversize, 1);
    CU_ASSERT_EQUAL(d.stats.resyncs, 1);
    CU_ASSERT_EQUAL(d.last_error, ERT_LINK_FRAME_OVERSIZE);
    for (size_t i = 16; i < sizeof guard; i++)
        CU_ASSERT_EQUAL_FATAL(guard[i], 0xA5);
    /* An endless run without delimiter counts once and stores nothing more. */
    uint8_t run[5000];
    memset(run, 0x01, sizeof run); /* code bytes 0x01: a zero per byte */
    CU_ASSERT_EQUAL(feed_all(&d, run, sizeof run, g, 2), 0);
    memset(run, 0x7E, sizeof run);
    CU_ASSERT_EQUAL(feed_all(&d, run, sizeof run, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.oversize, 2);
    for (size_t i = 16; i < sizeof guard; i++)
        CU_ASSERT_EQUAL_FATAL(guard[i], 0xA5);
    /* A frame of exactly the capacity (8 + 8 bytes) still fits, right after. */
    n = frame(2, 10, pl, 8, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(feed_all(&d, out, n, g, 2), 1);
    CU_ASSERT_EQUAL(g[0].h.seq, 10);
    CU_ASSERT_EQUAL(g[0].len, 8);
    n = frame(2, 11, pl, 9, out, sizeof out);
    CU_ASSERT_EQUAL(feed_all(&d, out, n, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.oversize, 3);
}

static void test_link_deframer_counts_each_error_kind(void)
{
    uint8_t buf[ERT_LINK_MAX_FRAME], out[64];
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, sizeof buf);
    got_frame g[2];
    /* Idle delimiters are not errors. */
    const uint8_t idle[] = {0, 0, 0, 0};
    CU_ASSERT_EQUAL(feed_all(&d, idle, sizeof idle, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.resyncs, 0);
    /* Short: a 3-byte frame. */
    const uint8_t shortf[] = {0, 0x04, 1, 2, 3, 0};
    CU_ASSERT_EQUAL(feed_all(&d, shortf, sizeof shortf, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.short_frames, 1);
    /* COBS: the block announces 9 bytes but the delimiter comes after 3. */
    const uint8_t trunc[] = {0, 0x0A, 1, 2, 3, 0};
    CU_ASSERT_EQUAL(feed_all(&d, trunc, sizeof trunc, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.cobs_errors, 1);
    /* Unknown version with a correct CRC. */
    ert_link_header h = {2, 1, 1};
    size_t n = ert_link_frame_encode(&h, NULL, 0, out, sizeof out);
    CU_ASSERT_EQUAL(feed_all(&d, out, n, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.bad_version, 1);
    CU_ASSERT_EQUAL(d.last_error, ERT_LINK_FRAME_VERSION);
    /* CRC. */
    n = frame(1, 1, NULL, 0, out, sizeof out);
    out[3] ^= 0x40;
    CU_ASSERT_EQUAL(feed_all(&d, out, n, g, 2), 0);
    CU_ASSERT_EQUAL(d.stats.crc_errors, 1);
    CU_ASSERT_EQUAL(d.stats.resyncs, 4);
    CU_ASSERT_EQUAL(d.stats.frames, 0);
    /* Joining mid-frame (no leading delimiter seen): only that frame is lost. */
    n = frame(1, 77, NULL, 0, out, sizeof out);
    CU_ASSERT_EQUAL(feed_all(&d, out + 4, n - 4, g, 2), 0);
    CU_ASSERT_EQUAL(feed_all(&d, out, n, g, 2), 1);
    CU_ASSERT_EQUAL(g[0].h.seq, 77);
}

/* ---- nanopb payloads ---- */

static size_t enc(const pb_msgdesc_t *f, const void *m, uint8_t *out, size_t cap)
{
    pb_ostream_t os = pb_ostream_from_buffer(out, cap);
    CU_ASSERT_FATAL(pb_encode(&os, f, m));
    return os.bytes_written;
}

static bool dec(const pb_msgdesc_t *f, void *m, const uint8_t *p, size_t n)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    return pb_decode(&is, f, m);
}

static void test_link_payloads_encode_exact_bytes(void)
{
    uint8_t b[ERT_LINK_MAX_PAYLOAD];
    embedrt_v1_GraspReport g = {7, embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, true, 1000};
    static const uint8_t gw[] = {0x08, 0x07, 0x10, 0x05, 0x18, 0x01, 0x20, 0xE8, 0x07};
    size_t n = enc(embedrt_v1_GraspReport_fields, &g, b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(n, sizeof gw);
    CU_ASSERT_EQUAL(memcmp(b, gw, n), 0);
    embedrt_v1_LinkAck a = {65535};
    static const uint8_t aw[] = {0x08, 0xFF, 0xFF, 0x03};
    n = enc(embedrt_v1_LinkAck_fields, &a, b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(n, sizeof aw);
    CU_ASSERT_EQUAL(memcmp(b, aw, n), 0);
    embedrt_v1_GoalStatus s = {3, true};
    static const uint8_t sw[] = {0x08, 0x03, 0x10, 0x01};
    n = enc(embedrt_v1_GoalStatus_fields, &s, b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(n, sizeof sw);
    CU_ASSERT_EQUAL(memcmp(b, sw, n), 0);
    /* RewardReport: float 0.5 = 0x3F000000, "outcome", 64-bit frame_seq. */
    embedrt_v1_RewardReport r = {9, 0.5f, "outcome", 2, 0x100000000ull};
    static const uint8_t rw[] = {0x08, 0x09, 0x15, 0x00, 0x00, 0x00, 0x3F, 0x1A, 0x07, 'o', 'u', 't', 'c',
                                 'o', 'm', 'e', 0x20, 0x02, 0x28, 0x80, 0x80, 0x80, 0x80, 0x10};
    n = enc(embedrt_v1_RewardReport_fields, &r, b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(n, sizeof rw);
    CU_ASSERT_EQUAL(memcmp(b, rw, n), 0);
    embedrt_v1_RewardReport r2 = embedrt_v1_RewardReport_init_zero;
    CU_ASSERT_FATAL(dec(embedrt_v1_RewardReport_fields, &r2, b, n));
    CU_ASSERT_EQUAL(r2.grasp_id, 9);
    CU_ASSERT_EQUAL(r2.value, 0.5f);
    CU_ASSERT_STRING_EQUAL(r2.type, "outcome");
    CU_ASSERT_EQUAL(r2.frame_seq, 0x100000000ull);
    /* Bounds from link.options: a 25-byte type string does not decode. */
    static const uint8_t longtype[] = {0x1A, 25, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                                       'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};
    CU_ASSERT_FALSE(dec(embedrt_v1_RewardReport_fields, &r2, longtype, sizeof longtype));
    /* The largest hello and heartbeat fit ERT_LINK_MAX_PAYLOAD. */
    embedrt_v1_LinkHello h = embedrt_v1_LinkHello_init_zero;
    h.protocol_version = 0xFFFFFFFFu;
    h.has_embedrt = true;
    h.embedrt.major = h.embedrt.minor = h.embedrt.patch = 0xFFFFFFFFu;
    memset(h.embedrt.describe, 'd', sizeof h.embedrt.describe - 1);
    memset(h.node_name, 'n', sizeof h.node_name - 1);
    h.max_payload = h.heartbeat_ms = 0xFFFFFFFFu;
    h.reply = true;
    n = enc(embedrt_v1_LinkHello_fields, &h, b, sizeof b);
    CU_ASSERT_EQUAL(n, embedrt_v1_LinkHello_size);
    embedrt_v1_LinkHello h2 = embedrt_v1_LinkHello_init_zero;
    CU_ASSERT_FATAL(dec(embedrt_v1_LinkHello_fields, &h2, b, n));
    CU_ASSERT_EQUAL(memcmp(h2.node_name, h.node_name, sizeof h.node_name), 0);
    CU_ASSERT_EQUAL(h2.embedrt.patch, 0xFFFFFFFFu);
    CU_ASSERT(h2.reply);
    embedrt_v1_Heartbeat hb = {0xFFFFFFFFu, true, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu,
                                                   0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}};
    n = enc(embedrt_v1_Heartbeat_fields, &hb, b, sizeof b);
    CU_ASSERT_EQUAL(n, embedrt_v1_Heartbeat_size);
    CU_ASSERT(ERT_LINK_MAX_PAYLOAD >= embedrt_v1_LinkHello_size);
}

/* ---- link state machine over a simulated wire ---- */

typedef struct side {
    uint8_t wire[16384]; /* bytes written, not yet delivered */
    size_t n;
    bool lose;           /* the line drops everything written while set */
    int hellos, grasps, rewards, goals, ups, downs;
    embedrt_v1_GraspReport grasp[32];
    embedrt_v1_RewardReport reward;
    embedrt_v1_GoalStatus goal;
    embedrt_v1_LinkHello hello;
    int type_count[8];   /* frames written, by type */
    const ert_link *link; /* the link whose callbacks these are */
    uint16_t cb_seq[32];  /* ert_link_rx_seq() inside each reliable callback, in order */
    int cb_seqs;
} side;

static void note_seq(side *s)
{
    if (s->link && s->cb_seqs < 32)
        s->cb_seq[s->cb_seqs++] = ert_link_rx_seq(s->link);
}

static bool w_write(void *ctx, const uint8_t *p, size_t n)
{
    side *s = ctx;
    /* Count types by decoding our own frame (it is one whole frame). */
    uint8_t buf[ERT_LINK_MAX_FRAME];
    ert_link_deframer d;
    ert_link_deframer_init(&d, buf, sizeof buf);
    got_frame g[1];
    if (feed_all(&d, p, n, g, 1) == 1 && g[0].h.type < 8)
        s->type_count[g[0].h.type]++;
    if (s->lose)
        return true;
    if (s->n + n > sizeof s->wire)
        return false;
    memcpy(s->wire + s->n, p, n);
    s->n += n;
    return true;
}

static void w_hello(void *ctx, const embedrt_v1_LinkHello *m)
{
    side *s = ctx;
    s->hellos++;
    s->hello = *m;
}
static void w_grasp(void *ctx, const embedrt_v1_GraspReport *m)
{
    side *s = ctx;
    note_seq(s);
    if (s->grasps < 32)
        s->grasp[s->grasps] = *m;
    s->grasps++;
}
static void w_reward(void *ctx, const embedrt_v1_RewardReport *m)
{
    side *s = ctx;
    note_seq(s);
    s->rewards++;
    s->reward = *m;
}
static void w_goal(void *ctx, const embedrt_v1_GoalStatus *m)
{
    side *s = ctx;
    note_seq(s);
    s->goals++;
    s->goal = *m;
}
static void w_link(void *ctx, bool up)
{
    side *s = ctx;
    if (up)
        s->ups++;
    else
        s->downs++;
}

typedef struct pair {
    ert_link a, b; /* a: the MCU, b: the daemon side */
    side sa, sb;   /* sa: what a wrote and a's callbacks */
} pair;

static const ert_link_config cfg_a = {"gripper-mcu", 0, 1, 0, "test", 100, 350, 50, 3, 0};
static const ert_link_config cfg_b = {"embedrtd", 0, 1, 0, NULL, 100, 350, 50, 3, 0};

static pair *pair_new(const ert_link_config *ca, const ert_link_config *cb)
{
    pair *p = calloc(1, sizeof *p);
    ert_link_io ia = {&p->sa, w_write, w_hello, w_grasp, w_reward, w_goal, w_link};
    ert_link_io ib = {&p->sb, w_write, w_hello, w_grasp, w_reward, w_goal, w_link};
    ert_link_init(&p->a, ca, &ia);
    ert_link_init(&p->b, cb, &ib);
    p->sa.link = &p->a;
    p->sb.link = &p->b;
    return p;
}

/* Moves written bytes across until both directions are quiet (acks answer frames). */
static void deliver(pair *p, uint32_t now)
{
    for (int round = 0; round < 8 && (p->sa.n || p->sb.n); round++) {
        static uint8_t tmp[16384];
        size_t n = p->sa.n;
        memcpy(tmp, p->sa.wire, n);
        p->sa.n = 0;
        ert_link_feed(&p->b, tmp, n, now);
        n = p->sb.n;
        memcpy(tmp, p->sb.wire, n);
        p->sb.n = 0;
        ert_link_feed(&p->a, tmp, n, now);
    }
}

static pair *pair_up(void)
{
    pair *p = pair_new(&cfg_a, &cfg_b);
    ert_link_start(&p->a, 0);
    ert_link_start(&p->b, 0);
    deliver(p, 0);
    return p;
}

static void test_link_hello_brings_both_sides_up(void)
{
    pair *p = pair_up();
    CU_ASSERT(ert_link_is_up(&p->a));
    CU_ASSERT(ert_link_is_up(&p->b));
    CU_ASSERT_EQUAL(p->sa.ups, 1);
    CU_ASSERT_EQUAL(p->sb.ups, 1);
    /* Each side: its own hello plus one reply to the other's; replies are not answered. */
    CU_ASSERT_EQUAL(p->sa.type_count[ERT_LINK_MSG_HELLO], 2);
    CU_ASSERT_EQUAL(p->sb.type_count[ERT_LINK_MSG_HELLO], 2);
    CU_ASSERT_EQUAL(p->sb.hellos, 2);
    CU_ASSERT_STRING_EQUAL(p->sb.hello.node_name, "gripper-mcu");
    CU_ASSERT_STRING_EQUAL(p->sb.hello.embedrt.describe, "test");
    CU_ASSERT_EQUAL(p->sb.hello.embedrt.minor, 1);
    CU_ASSERT_EQUAL(p->sb.hello.heartbeat_ms, 100);
    CU_ASSERT_EQUAL(p->sb.hello.max_payload, ERT_LINK_MAX_PAYLOAD);
    CU_ASSERT_STRING_EQUAL(p->sa.hello.node_name, "embedrtd");
    CU_ASSERT_EQUAL(p->a.stats.frames_rx, 2);
    CU_ASSERT_EQUAL(p->a.stats.frames_tx, 2);
    free(p);
}

static void test_link_grasp_delivered_once_and_acked(void)
{
    pair *p = pair_up();
    embedrt_v1_GraspReport g = {42, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 123456};
    CU_ASSERT(ert_link_send_grasp(&p->a, &g, 10));
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 1);
    deliver(p, 10);
    CU_ASSERT_EQUAL_FATAL(p->sb.grasps, 1);
    CU_ASSERT_EQUAL(p->sb.grasp[0].grasp_id, 42);
    CU_ASSERT_EQUAL(p->sb.grasp[0].phase, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED);
    CU_ASSERT_EQUAL(p->sb.grasp[0].mcu_time_ms, 123456);
    CU_ASSERT_EQUAL(p->sb.type_count[ERT_LINK_MSG_ACK], 1);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    CU_ASSERT_EQUAL(p->a.stats.acks_rx, 1);
    /* Nothing left to resend. */
    ert_link_poll(&p->a, 70);
    CU_ASSERT_EQUAL(p->a.stats.retransmissions, 0);
    /* An invalid phase is refused at the sender. */
    g.phase = embedrt_v1_GraspPhase_GRASP_PHASE_PRE;
    CU_ASSERT_FALSE(ert_link_send_grasp(&p->a, &g, 80));
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_retransmits_until_acknowledged(void)
{
    pair *p = pair_up();
    embedrt_v1_GraspReport g = {1, embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, true, 5};
    p->sa.lose = true;
    ert_link_send_grasp(&p->a, &g, 0);
    ert_link_poll(&p->a, 49); /* not yet due */
    CU_ASSERT_EQUAL(p->a.stats.retransmissions, 0);
    ert_link_poll(&p->a, 50);
    ert_link_poll(&p->a, 100);
    CU_ASSERT_EQUAL(p->a.stats.retransmissions, 2);
    CU_ASSERT_EQUAL(p->sa.type_count[ERT_LINK_MSG_GRASP], 3);
    CU_ASSERT_EQUAL(p->sb.grasps, 0);
    p->sa.lose = false;
    ert_link_poll(&p->a, 150);
    deliver(p, 150);
    CU_ASSERT_EQUAL(p->sb.grasps, 1);
    CU_ASSERT_EQUAL(p->sb.grasp[0].success, true);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    CU_ASSERT_EQUAL(p->a.stats.retransmissions, 3);
    CU_ASSERT_EQUAL(p->a.stats.drops, 0);
    free(p);
}

static void test_link_duplicate_suppressed_when_ack_lost(void)
{
    pair *p = pair_up();
    embedrt_v1_GraspReport g = {2, embedrt_v1_GraspPhase_GRASP_PHASE_RELEASED, false, 9};
    p->sb.lose = true; /* acks get lost */
    ert_link_send_grasp(&p->a, &g, 0);
    deliver(p, 0);
    ert_link_poll(&p->a, 50);
    deliver(p, 50);
    ert_link_poll(&p->a, 100);
    deliver(p, 100);
    CU_ASSERT_EQUAL(p->sb.grasps, 1);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 2);
    CU_ASSERT_EQUAL(p->sb.type_count[ERT_LINK_MSG_ACK], 3); /* every copy is acked */
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 1);
    p->sb.lose = false;
    ert_link_poll(&p->a, 150);
    deliver(p, 150);
    CU_ASSERT_EQUAL(p->sb.grasps, 1);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 3);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_retry_limit_counts_drop(void)
{
    pair *p = pair_up();
    embedrt_v1_GraspReport g = {3, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 1};
    p->sa.lose = true;
    ert_link_send_grasp(&p->a, &g, 0);
    for (uint32_t t = 10; t <= 1000; t += 10)
        ert_link_poll(&p->a, t);
    CU_ASSERT_EQUAL(p->a.stats.retransmissions, 3); /* cfg retry_limit */
    CU_ASSERT_EQUAL(p->sa.type_count[ERT_LINK_MSG_GRASP], 4);
    CU_ASSERT_EQUAL(p->a.stats.drops, 1);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    embedrt_v1_LinkStats s;
    ert_link_stats_snapshot(&p->a, &s);
    CU_ASSERT_EQUAL(s.drops, 1);
    CU_ASSERT_EQUAL(s.retransmissions, 3);
    free(p);
    /* The largest limit (255) still ends: the try counter must not wrap. */
    ert_link_config ca = cfg_a;
    ca.retry_limit = 255;
    p = pair_new(&ca, &cfg_b);
    p->sa.lose = true;
    ert_link_send_grasp(&p->a, &g, 0);
    for (uint32_t t = 50; t <= 300 * 50; t += 50)
        ert_link_poll(&p->a, t);
    CU_ASSERT_EQUAL(p->a.stats.retransmissions, 255);
    CU_ASSERT_EQUAL(p->a.stats.drops, 1);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_full_queue_drops_oldest(void)
{
    pair *p = pair_up();
    p->sa.lose = true;
    for (uint32_t i = 1; i <= ERT_LINK_QUEUE_LEN + 2; i++) {
        embedrt_v1_GraspReport g = {i, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, i};
        CU_ASSERT(ert_link_send_grasp(&p->a, &g, 0));
    }
    CU_ASSERT_EQUAL(p->a.stats.drops, 2);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), ERT_LINK_QUEUE_LEN);
    p->sa.lose = false;
    ert_link_poll(&p->a, 50);
    deliver(p, 50);
    CU_ASSERT_EQUAL_FATAL(p->sb.grasps, (int)ERT_LINK_QUEUE_LEN);
    uint32_t seen = 0;
    for (int i = 0; i < p->sb.grasps; i++)
        seen |= 1u << p->sb.grasp[i].grasp_id;
    CU_ASSERT_EQUAL(seen, 0x78u); /* ids 3..6; 1 and 2 were the oldest */
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_sequence_wraps(void)
{
    ert_link_config ca = cfg_a;
    ca.first_seq = 65533;
    pair *p = pair_new(&ca, &cfg_b);
    ert_link_start(&p->a, 0);
    ert_link_start(&p->b, 0);
    deliver(p, 0);
    uint8_t saved[64];
    size_t saved_n = 0;
    for (uint32_t i = 0; i < 6; i++) { /* seqs 65533, 65534, 65535, 0, 1, 2 */
        embedrt_v1_GraspReport g = {100 + i, embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, true, i};
        ert_link_send_grasp(&p->a, &g, i);
        if (i == 1) { /* keep the frame of seq 65534 to replay after the wrap */
            saved_n = p->sa.n;
            memcpy(saved, p->sa.wire, saved_n);
        }
        deliver(p, i);
    }
    CU_ASSERT_EQUAL_FATAL(p->sb.grasps, 6);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(p->sb.grasp[i].grasp_id, 100u + (uint32_t)i);
    CU_ASSERT_EQUAL(p->b.rx_high, 2);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 0);
    ert_link_feed(&p->b, saved, saved_n, 10);
    CU_ASSERT_EQUAL(p->sb.grasps, 6);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 1);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_out_of_order_retransmission_still_delivered(void)
{
    pair *p = pair_up();
    /* seq 0 lost, seq 1 arrives, then seq 0's retransmission: both delivered once. */
    embedrt_v1_GraspReport g = {1, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 0};
    p->sa.lose = true;
    ert_link_send_grasp(&p->a, &g, 0);
    p->sa.lose = false;
    g.grasp_id = 2;
    ert_link_send_grasp(&p->a, &g, 20);
    deliver(p, 20);
    ert_link_poll(&p->a, 50);
    deliver(p, 50);
    CU_ASSERT_EQUAL_FATAL(p->sb.grasps, 2);
    CU_ASSERT_EQUAL(p->sb.grasp[0].grasp_id, 2);
    CU_ASSERT_EQUAL(p->sb.grasp[1].grasp_id, 1);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 0);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_down_after_silence_up_by_heartbeat(void)
{
    pair *p = pair_up();
    uint32_t t = 0;
    /* Healthy: heartbeats every 100 ms keep both up. */
    for (t = 10; t <= 1000; t += 10) {
        ert_link_poll(&p->a, t);
        ert_link_poll(&p->b, t);
        deliver(p, t);
    }
    CU_ASSERT(ert_link_is_up(&p->a));
    CU_ASSERT_EQUAL(p->sa.type_count[ERT_LINK_MSG_HEARTBEAT], 10);
    CU_ASSERT_EQUAL(p->sb.type_count[ERT_LINK_MSG_HEARTBEAT], 10);
    CU_ASSERT_EQUAL(p->a.peer_stats.frames_tx, p->b.stats.frames_tx - 1); /* snapshot before the send */
    /* The daemon goes silent: a notices after link_timeout_ms (350) of no valid frame. */
    p->sb.lose = true;
    uint32_t last_rx = p->a.last_rx_ms;
    for (; t <= 2000; t += 10) {
        ert_link_poll(&p->a, t);
        ert_link_poll(&p->b, t);
        deliver(p, t);
        if (!ert_link_is_up(&p->a))
            break;
    }
    CU_ASSERT_EQUAL(t, last_rx + 350);
    CU_ASSERT_EQUAL(p->sa.downs, 1);
    CU_ASSERT_EQUAL(p->a.stats.link_downs, 1);
    /* While down a sends hellos instead of heartbeats. */
    int hellos = p->sa.type_count[ERT_LINK_MSG_HELLO];
    int beats = p->sa.type_count[ERT_LINK_MSG_HEARTBEAT];
    for (t += 10; t <= 2500; t += 10) {
        ert_link_poll(&p->a, t);
        deliver(p, t);
    }
    CU_ASSERT(p->sa.type_count[ERT_LINK_MSG_HELLO] > hellos);
    CU_ASSERT_EQUAL(p->sa.type_count[ERT_LINK_MSG_HEARTBEAT], beats);
    /* The daemon's next heartbeat brings the link back. */
    p->sb.lose = false;
    for (; t <= 2700 && !ert_link_is_up(&p->a); t += 10) {
        ert_link_poll(&p->a, t);
        ert_link_poll(&p->b, t);
        deliver(p, t);
    }
    CU_ASSERT(ert_link_is_up(&p->a));
    CU_ASSERT_EQUAL(p->sa.ups, 2);
    CU_ASSERT_EQUAL(p->a.stats.link_ups, 2);
    free(p);
}

static void test_link_timers_survive_clock_wrap(void)
{
    pair *p = pair_new(&cfg_a, &cfg_b);
    uint32_t t0 = 0xFFFFFF00u;
    ert_link_start(&p->a, t0);
    ert_link_start(&p->b, t0);
    deliver(p, t0);
    for (uint32_t i = 1; i <= 100; i++) { /* 1000 ms across the wrap */
        uint32_t t = t0 + i * 10;
        ert_link_poll(&p->a, t);
        ert_link_poll(&p->b, t);
        deliver(p, t);
    }
    CU_ASSERT(ert_link_is_up(&p->a));
    CU_ASSERT_EQUAL(p->sa.type_count[ERT_LINK_MSG_HEARTBEAT], 10);
    CU_ASSERT_EQUAL(p->a.stats.link_downs, 0);
    free(p);
}

static void test_link_reward_and_goal_reach_callbacks(void)
{
    pair *p = pair_up();
    embedrt_v1_RewardReport r = {42, 0.875f, "outcome", 3, 123456789012ull};
    embedrt_v1_GoalStatus s = {3, true};
    CU_ASSERT(ert_link_send_reward(&p->b, &r, 5));
    CU_ASSERT(ert_link_send_goal(&p->b, &s, 5));
    deliver(p, 5);
    CU_ASSERT_EQUAL(p->sa.rewards, 1);
    CU_ASSERT_EQUAL(p->sa.reward.grasp_id, 42);
    CU_ASSERT_EQUAL(p->sa.reward.value, 0.875f);
    CU_ASSERT_STRING_EQUAL(p->sa.reward.type, "outcome");
    CU_ASSERT_EQUAL(p->sa.reward.goal_id, 3);
    CU_ASSERT_EQUAL(p->sa.reward.frame_seq, 123456789012ull);
    CU_ASSERT_EQUAL(p->sa.goals, 1);
    CU_ASSERT_EQUAL(p->sa.goal.goal_id, 3);
    CU_ASSERT(p->sa.goal.has_goal);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->b), 0);
    /* An unterminated type string does not encode: refused, nothing queued. */
    memset(r.type, 'x', sizeof r.type);
    CU_ASSERT_FALSE(ert_link_send_reward(&p->b, &r, 6));
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->b), 0);
    free(p);
}

static void feed_frame(ert_link *l, uint8_t type, uint16_t seq, const uint8_t *pl, size_t n)
{
    uint8_t out[ERT_LINK_WIRE_MAX(ERT_LINK_MAX_PAYLOAD)];
    size_t len = frame(type, seq, pl, n, out, sizeof out);
    CU_ASSERT_FATAL(len > 0);
    ert_link_feed(l, out, len, 0);
}

static void test_link_rejects_bad_payloads_without_ack(void)
{
    pair *p = pair_new(&cfg_a, &cfg_b);
    const uint8_t phase_pre[] = {0x08, 0x01, 0x10, 0x01}; /* GRASP_PHASE_PRE: not a firmware phase */
    feed_frame(&p->b, ERT_LINK_MSG_GRASP, 0, phase_pre, sizeof phase_pre);
    const uint8_t junk[] = {0xFF, 0xFF, 0xFF};
    feed_frame(&p->b, ERT_LINK_MSG_REWARD, 1, junk, sizeof junk);
    const uint8_t hello_v2[] = {0x08, 0x02};
    feed_frame(&p->b, ERT_LINK_MSG_HELLO, 0, hello_v2, sizeof hello_v2);
    const uint8_t big_ack[] = {0x08, 0x80, 0x80, 0x04}; /* acked_seq 65536 */
    feed_frame(&p->b, ERT_LINK_MSG_ACK, 0, big_ack, sizeof big_ack);
    feed_frame(&p->b, 99, 0, NULL, 0);
    CU_ASSERT_EQUAL(p->b.stats.bad_payload, 4);
    CU_ASSERT_EQUAL(p->b.stats.unknown_type, 1);
    CU_ASSERT_EQUAL(p->b.stats.frames_rx, 0);
    CU_ASSERT_EQUAL(p->b.rx.stats.frames, 5);
    CU_ASSERT_FALSE(ert_link_is_up(&p->b));
    CU_ASSERT_EQUAL(p->sb.n, 0); /* nothing acked */
    CU_ASSERT_EQUAL(p->sb.grasps + p->sb.rewards + p->sb.hellos, 0);
    free(p);
}

static void test_link_peer_restart_resets_duplicate_window(void)
{
    pair *p = pair_up();
    embedrt_v1_GraspReport g = {1, embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, 0};
    ert_link_send_grasp(&p->a, &g, 0);
    deliver(p, 0);
    CU_ASSERT_EQUAL(p->sb.grasps, 1);
    /* The MCU reboots: same first seq (0) again, announced by a hello. */
    ert_link_io ia = p->a.io;
    ert_link_init(&p->a, &cfg_a, &ia);
    ert_link_start(&p->a, 10);
    g.grasp_id = 2;
    ert_link_send_grasp(&p->a, &g, 10);
    deliver(p, 10);
    CU_ASSERT_EQUAL_FATAL(p->sb.grasps, 2);
    CU_ASSERT_EQUAL(p->sb.grasp[1].grasp_id, 2);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 0);
    free(p);
}

static void test_link_survives_noisy_line(void)
{
    /* Random corruption of 1 in 50 bytes in both directions; every grasp still arrives
     * exactly once (given enough retries) and the link comes back up. */
    ert_link_config ca = cfg_a, cb = cfg_b;
    ca.retry_limit = cb.retry_limit = 50;
    pair *p = pair_new(&ca, &cb);
    ert_link_start(&p->a, 0);
    ert_link_start(&p->b, 0);
    srand(3);
    uint32_t sent = 0;
    for (uint32_t t = 0; t < 20000; t += 10) {
        if (t % 500 == 0 && sent < 30) {
            embedrt_v1_GraspReport g = {sent, embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, true, t};
            ert_link_send_grasp(&p->a, &g, t);
            sent++;
        }
        ert_link_poll(&p->a, t);
        ert_link_poll(&p->b, t);
        for (size_t i = 0; i < p->sa.n; i++)
            if (rand() % 50 == 0)
                p->sa.wire[i] = (uint8_t)rand();
        for (size_t i = 0; i < p->sb.n; i++)
            if (rand() % 50 == 0)
                p->sb.wire[i] = (uint8_t)rand();
        deliver(p, t);
    }
    CU_ASSERT_EQUAL(sent, 30);
    CU_ASSERT_EQUAL_FATAL(p->sb.grasps, 30);
    uint32_t seen[30] = {0};
    for (int i = 0; i < 30; i++)
        if (p->sb.grasp[i].grasp_id < 30)
            seen[p->sb.grasp[i].grasp_id]++;
    for (int i = 0; i < 30; i++)
        CU_ASSERT_EQUAL(seen[i], 1);
    CU_ASSERT_EQUAL(p->a.stats.drops, 0);
    CU_ASSERT(p->b.rx.stats.crc_errors + p->b.rx.stats.cobs_errors > 0);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->a), 0);
    free(p);
}

static void test_link_reliable_older_than_window_is_not_delivered(void)
{
    pair *p = pair_new(&cfg_a, &cfg_b);
    const uint8_t goal[] = {0x08, 0x01, 0x10, 0x01};
    feed_frame(&p->b, ERT_LINK_MSG_GOAL, 1000, goal, sizeof goal);
    feed_frame(&p->b, ERT_LINK_MSG_GOAL, 1063, goal, sizeof goal);
    feed_frame(&p->b, ERT_LINK_MSG_GOAL, 1000, goal, sizeof goal); /* 63 behind: remembered */
    feed_frame(&p->b, ERT_LINK_MSG_GOAL, 1001, goal, sizeof goal); /* 62 behind, unseen: new */
    feed_frame(&p->b, ERT_LINK_MSG_GOAL, 1064, goal, sizeof goal);
    feed_frame(&p->b, ERT_LINK_MSG_GOAL, 1000, goal, sizeof goal); /* 64 behind: stale */
    CU_ASSERT_EQUAL(p->sb.goals, 4);
    CU_ASSERT_EQUAL(p->b.stats.duplicates, 2);
    CU_ASSERT_EQUAL(p->b.stats.stale, 1);
    free(p);
}

/* The application sees the header seq of the message being delivered: consecutive across
 * the 16-bit wrap, and a duplicate (lost ack, retransmission) neither is delivered nor
 * moves it. */
static void test_link_rx_seq_is_the_delivered_frames_seq(void)
{
    ert_link_config cb = cfg_b;
    cb.first_seq = 65534;
    pair *p = pair_new(&cfg_a, &cb);
    ert_link_start(&p->a, 0);
    ert_link_start(&p->b, 0);
    deliver(p, 0);
    CU_ASSERT_EQUAL(ert_link_rx_seq(&p->a), 0);
    embedrt_v1_RewardReport r = {1, 0.5f, "outcome", 3, 7};
    embedrt_v1_GoalStatus g = {3, true};
    CU_ASSERT(ert_link_send_goal(&p->b, &g, 1));
    deliver(p, 1);
    p->sa.lose = true; /* a's ack of the reward is lost: b retransmits it, a gets it twice */
    CU_ASSERT(ert_link_send_reward(&p->b, &r, 2));
    deliver(p, 2);
    p->sa.lose = false;
    CU_ASSERT_EQUAL(p->sa.rewards, 1);
    CU_ASSERT_EQUAL(ert_link_rx_seq(&p->a), 65535);
    ert_link_poll(&p->b, 60); /* retransmission after 50 ms */
    deliver(p, 60);
    CU_ASSERT_EQUAL(p->sa.rewards, 1);
    CU_ASSERT_EQUAL(p->a.stats.duplicates, 1);
    CU_ASSERT_EQUAL(p->b.stats.retransmissions, 1);
    CU_ASSERT_EQUAL(ert_link_rx_seq(&p->a), 65535);
    CU_ASSERT(ert_link_send_goal(&p->b, &g, 181));
    deliver(p, 181);
    CU_ASSERT_EQUAL(ert_link_pending_count(&p->b), 0);
    CU_ASSERT_EQUAL_FATAL(p->sa.cb_seqs, 3);
    CU_ASSERT_EQUAL(p->sa.cb_seq[0], 65534);
    CU_ASSERT_EQUAL(p->sa.cb_seq[1], 65535);
    CU_ASSERT_EQUAL(p->sa.cb_seq[2], 0);
    CU_ASSERT_EQUAL(ert_link_rx_seq(&p->a), 0);
    free(p);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_link_crc32_matches_zlib),
    ERT_TEST(test_link_frame_known_bytes),
    ERT_TEST(test_link_encode_rejects_small_buffer),
    ERT_TEST(test_link_cobs_edge_cases),
    ERT_TEST(test_link_corruption_at_every_byte_is_rejected),
    ERT_TEST(test_link_garbage_between_frames),
    ERT_TEST(test_link_oversize_frame_checked_before_storing),
    ERT_TEST(test_link_deframer_counts_each_error_kind),
    ERT_TEST(test_link_payloads_encode_exact_bytes),
    ERT_TEST(test_link_hello_brings_both_sides_up),
    ERT_TEST(test_link_grasp_delivered_once_and_acked),
    ERT_TEST(test_link_retransmits_until_acknowledged),
    ERT_TEST(test_link_duplicate_suppressed_when_ack_lost),
    ERT_TEST(test_link_retry_limit_counts_drop),
    ERT_TEST(test_link_full_queue_drops_oldest),
    ERT_TEST(test_link_sequence_wraps),
    ERT_TEST(test_link_out_of_order_retransmission_still_delivered),
    ERT_TEST(test_link_down_after_silence_up_by_heartbeat),
    ERT_TEST(test_link_timers_survive_clock_wrap),
    ERT_TEST(test_link_reward_and_goal_reach_callbacks),
    ERT_TEST(test_link_rejects_bad_payloads_without_ack),
    ERT_TEST(test_link_peer_restart_resets_duplicate_window),
    ERT_TEST(test_link_survives_noisy_line),
    ERT_TEST(test_link_reliable_older_than_window_is_not_delivered),
    ERT_TEST(test_link_rx_seq_is_the_delivered_frames_seq),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_link = {"link", cases};
