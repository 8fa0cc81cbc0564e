/* main.c: the controller-link application of the gripper MCU (issue 7). Board-agnostic:
 * it uses only ert_board.h and the link core in firmware/core, and runs unchanged on the
 * mps2-an386 board under QEMU and on the POSIX host port (embedrt-fw-host).
 *
 * What it does: brings the link up (ert_link, node "gripper-mcu"), waits for a GoalStatus
 * with a goal, reports one grasp (grasp 1: CLOSED, then ~100 ms later LIFTED with success)
 * and waits for the daemon's RewardReports for that grasp. It prints each reward and checks
 * it: grasp id 1, a finite value, and reliable sequence numbers from the daemon that are
 * consecutive (every delivered goal/reward frame's seq is the previous one + 1, mod 2^16:
 * nothing lost or reordered). When the "outcome" reward has arrived and both grasp reports
 * are acknowledged it prints the link statistics and exits 0.
 *
 * Exit codes (ert_board_exit; QEMU passes them on through semihosting):
 *   0  success: outcome reward received and checked, every grasp report acknowledged
 *   2  timeout: no link, no goal, or no outcome reward within ERT_FW_TIMEOUT_MS of the
 *      previous step (compile-time define, default 60000)
 *   3  wrong reward: grasp id other than 1, a non-finite value, or a gap/reordering in the
 *      daemon's reliable sequence numbers
 *   4  encoding failure: a grasp report did not encode
 *   5  the link went down after being up and did not come back within ERT_FW_TIMEOUT_MS
 * No heap, no printf: console text is built here (including the float formatter). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ert_board.h"
#include "ert_fw_version.h"
#include "ert_link.h"

#ifndef ERT_FW_VERSION_MAJOR
#error "ERT_FW_VERSION_MAJOR/MINOR/PATCH come from the meson build"
#endif
#ifndef ERT_FW_TIMEOUT_MS
#define ERT_FW_TIMEOUT_MS 60000u
#endif

enum {
    ERT_FW_EXIT_OK = 0,
    ERT_FW_EXIT_TIMEOUT = 2,
    ERT_FW_EXIT_BAD_REWARD = 3,
    ERT_FW_EXIT_ENCODE = 4,
    ERT_FW_EXIT_LINK_LOST = 5,
};

#define ERT_FW_GRASP_ID 1u
#define ERT_FW_LIFT_DELAY_MS 100u

/* ---- console text: a fixed line buffer, no printf ---- */

static char line[160];
static size_t line_len;

static void put_str(const char *s)
{
    while (*s && line_len + 1 < sizeof line)
        line[line_len++] = *s++;
}

static void put_u64(uint64_t v)
{
    char d[21];
    int i = (int)sizeof d;
    do {
        d[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    for (; i < (int)sizeof d && line_len + 1 < sizeof line; i++)
        line[line_len++] = d[i];
}

/* Divides the 128-bit number w[0..3] (w[3] most significant) by 10 in place; returns the
 * remainder. */
static uint32_t div10_u128(uint32_t w[4])
{
    uint64_t rem = 0;
    for (int i = 3; i >= 0; i--) {
        uint64_t cur = (rem << 32) | w[i];
        w[i] = (uint32_t)(cur / 10u);
        rem = cur % 10u;
    }
    return (uint32_t)rem;
}

/* Writes an IEEE-754 single as a signed decimal with exactly 6 fractional digits, from its
 * bits (exact: the integer part is a 128-bit integer, the fraction is rounded half to even,
 * which is what C's and Python's "%.6f" do). Non-finite values print as nan/inf. */
static void put_f32(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint32_t exp8 = (bits >> 23) & 0xffu, frac = bits & 0x7fffffu;
    if (bits >> 31)
        put_str("-");
    if (exp8 == 0xffu) {
        put_str(frac ? "nan" : "inf");
        return;
    }
    uint32_t mant = exp8 ? frac | 0x800000u : frac;
    int e = exp8 ? (int)exp8 - 150 : -149; /* f = mant * 2^e */
    uint32_t w[4] = {0, 0, 0, 0};          /* integer part */
    uint64_t frac6 = 0;                    /* fraction * 10^6, rounded */
    if (e >= 0) {
        /* mant < 2^24, e <= 104: mant << e fits 128 bits. */
        uint64_t lo = (uint64_t)mant << (e % 32);
        int word = e / 32;
        w[word] = (uint32_t)lo;
        if (word + 1 < 4)
            w[word + 1] = (uint32_t)(lo >> 32);
    } else {
        int k = -e; /* 1..149 */
        uint64_t fbits = mant;
        if (k < 32) {
            w[0] = mant >> k;
            fbits = mant & ((1u << k) - 1u);
        }
        if (k < 64) {
            uint64_t x = fbits * 1000000u; /* < 2^44 */
            uint64_t q = x >> k, r = x & (((uint64_t)1 << k) - 1u), half = (uint64_t)1 << (k - 1);
            if (r > half || (r == half && (q & 1u)))
                q++;
            frac6 = q;
        }
        if (frac6 == 1000000u) { /* rounded up into the integer part (w[0] < 2^24 here) */
            frac6 = 0;
            w[0]++;
        }
    }
    char d[40];
    int i = (int)sizeof d;
    do {
        d[--i] = (char)('0' + (int)div10_u128(w));
    } while (w[0] | w[1] | w[2] | w[3]);
    for (; i < (int)sizeof d && line_len + 1 < sizeof line; i++)
        line[line_len++] = d[i];
    put_str(".");
    char fd[7];
    for (int j = 5; j >= 0; j--) {
        fd[j] = (char)('0' + (int)(frac6 % 10u));
        frac6 /= 10u;
    }
    fd[6] = '\0';
    put_str(fd);
}

static void end_line(void)
{
    put_str("\r\n");
    line[line_len] = '\0';
    ert_board_puts(ERT_BOARD_CONSOLE, line);
    line_len = 0;
}

/* ---- application state ---- */

typedef enum {
    APP_WAIT_LINK,
    APP_WAIT_GOAL,
    APP_LIFT,    /* CLOSED sent, LIFTED due ERT_FW_LIFT_DELAY_MS later */
    APP_REWARDS, /* both sent: waiting for the outcome reward and the acks */
} app_state;

static ert_link link;
static struct {
    app_state state;
    uint32_t now;          /* the main loop's clock reading, also for the callbacks: a
                              later reading there would make now - state_since wrap */
    uint32_t state_since;  /* when the current state began (its timeout runs from here) */
    bool ever_up, announced;
    uint32_t down_since;
    bool have_rx_seq;      /* a reliable message from this peer was delivered */
    uint16_t last_rx_seq;
    bool goal_seen;
    uint32_t goal_id;
    uint32_t closed_ms;
    bool outcome;
    uint32_t rewards;
} app;

static void enter(app_state s, uint32_t now)
{
    app.state = s;
    app.state_since = now;
}

static void finish(int code)
{
    const ert_link_stats *s = &link.stats;
    put_str("link stats: crc_errors=");
    put_u64(link.rx.stats.crc_errors);
    put_str(" resyncs=");
    put_u64(link.rx.stats.resyncs);
    put_str(" retransmissions=");
    put_u64(s->retransmissions);
    put_str(" drops=");
    put_u64(s->drops);
    put_str(" duplicates=");
    put_u64(s->duplicates);
    put_str(" frames_rx=");
    put_u64(s->frames_rx);
    put_str(" frames_tx=");
    put_u64(s->frames_tx);
    end_line();
    put_str("firmware: ");
    put_str(code == 0 ? "done" : "failed");
    put_str(", exit ");
    put_u64((uint64_t)code);
    end_line();
    ert_board_exit(code);
}

/* Every reliable message the daemon sends (goal, reward) must carry the previous one's
 * seq + 1: the link core already dropped duplicates, so a gap is a lost message and a
 * step back a reordering. */
static void check_rx_seq(void)
{
    uint16_t seq = ert_link_rx_seq(&link);
    if (app.have_rx_seq && seq != (uint16_t)(app.last_rx_seq + 1u)) {
        put_str("link: reliable sequence gap: got seq ");
        put_u64(seq);
        put_str(", expected ");
        put_u64((uint16_t)(app.last_rx_seq + 1u));
        end_line();
        finish(ERT_FW_EXIT_BAD_REWARD);
    }
    app.have_rx_seq = true;
    app.last_rx_seq = seq;
}

static void on_hello(void *ctx, const embedrt_v1_LinkHello *m)
{
    (void)ctx;
    /* The peer (re)started or answered ours: its reliable numbering starts afresh, as in
     * the link core's duplicate window. */
    app.have_rx_seq = false;
    if (app.announced || !ert_link_is_up(&link))
        return;
    app.announced = true;
    put_str("link: up (peer ");
    put_str(m->node_name[0] ? m->node_name : "?");
    put_str(" v");
    put_u64(m->embedrt.major);
    put_str(".");
    put_u64(m->embedrt.minor);
    put_str(".");
    put_u64(m->embedrt.patch);
    put_str(")");
    end_line();
}

static void on_link(void *ctx, bool up)
{
    (void)ctx;
    uint32_t now = app.now;
    if (up) {
        app.ever_up = true;
        if (app.state == APP_WAIT_LINK)
            enter(APP_WAIT_GOAL, now);
        else
            app.state_since = now; /* back after a drop: the step's timeout starts again */
        return;
    }
    app.announced = false;
    app.down_since = now;
    put_str("link: down (no valid frame for ");
    put_u64(link.cfg.link_timeout_ms);
    put_str(" ms)");
    end_line();
}

static void on_goal(void *ctx, const embedrt_v1_GoalStatus *m)
{
    (void)ctx;
    check_rx_seq();
    if (!m->has_goal) {
        put_str("goal: none");
        end_line();
        return;
    }
    put_str("goal: id ");
    put_u64(m->goal_id);
    end_line();
    app.goal_seen = true;
    app.goal_id = m->goal_id;
}

static bool is_finite(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return ((bits >> 23) & 0xffu) != 0xffu;
}

static void on_reward(void *ctx, const embedrt_v1_RewardReport *m)
{
    (void)ctx;
    put_str("reward: grasp ");
    put_u64(m->grasp_id);
    put_str(" ");
    put_str(m->type);
    put_str(" value=");
    put_f32(m->value);
    put_str(" goal=");
    put_u64(m->goal_id);
    put_str(" frame=");
    put_u64(m->frame_seq);
    put_str(" seq=");
    put_u64(ert_link_rx_seq(&link));
    end_line();
    check_rx_seq();
    if (m->grasp_id != ERT_FW_GRASP_ID || !is_finite(m->value)) {
        put_str(m->grasp_id != ERT_FW_GRASP_ID ? "reward: not for grasp 1" : "reward: value is not finite");
        end_line();
        finish(ERT_FW_EXIT_BAD_REWARD);
    }
    app.rewards++;
    if (strcmp(m->type, "outcome") == 0)
        app.outcome = true;
}

static bool write_link(void *ctx, const uint8_t *bytes, size_t n)
{
    (void)ctx;
    ert_board_write(ERT_BOARD_LINK, bytes, n);
    return true;
}

static void send_grasp(embedrt_v1_GraspPhase phase, bool success, uint32_t now)
{
    embedrt_v1_GraspReport g = embedrt_v1_GraspReport_init_zero;
    g.grasp_id = ERT_FW_GRASP_ID;
    g.phase = phase;
    g.success = success;
    g.mcu_time_ms = now;
    if (!ert_link_send_grasp(&link, &g, now)) {
        put_str("grasp: encoding embedrt.v1.GraspReport failed");
        end_line();
        finish(ERT_FW_EXIT_ENCODE);
    }
    put_str("grasp: 1 ");
    put_str(phase == embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED ? "CLOSED" : "LIFTED success");
    put_str(" at ");
    put_u64(now);
    put_str(" ms");
    end_line();
}

static const char *waiting_for(void)
{
    switch (app.state) {
    case APP_WAIT_LINK: return "the link to come up";
    case APP_WAIT_GOAL: return "a GoalStatus with a goal";
    default: return "the outcome reward and the acks of grasp 1";
    }
}

static void step(uint32_t now)
{
    bool up = ert_link_is_up(&link);
    if (app.ever_up && !up) {
        if ((uint32_t)(now - app.down_since) >= ERT_FW_TIMEOUT_MS) {
            put_str("link: down and not back within ");
            put_u64(ERT_FW_TIMEOUT_MS);
            put_str(" ms");
            end_line();
            finish(ERT_FW_EXIT_LINK_LOST);
        }
    } else if ((uint32_t)(now - app.state_since) >= ERT_FW_TIMEOUT_MS) {
        put_str("timeout: no progress for ");
        put_u64(ERT_FW_TIMEOUT_MS);
        put_str(" ms waiting for ");
        put_str(waiting_for());
        end_line();
        finish(ERT_FW_EXIT_TIMEOUT);
    }
    switch (app.state) {
    case APP_WAIT_LINK: break;
    case APP_WAIT_GOAL:
        if (app.goal_seen && up) {
            send_grasp(embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED, false, now);
            app.closed_ms = now;
            enter(APP_LIFT, now);
        }
        break;
    case APP_LIFT:
        if ((uint32_t)(now - app.closed_ms) >= ERT_FW_LIFT_DELAY_MS) {
            send_grasp(embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED, true, now);
            enter(APP_REWARDS, now);
        }
        break;
    case APP_REWARDS:
        if (app.outcome && ert_link_pending_count(&link) == 0)
            finish(ERT_FW_EXIT_OK);
        break;
    }
}

int main(void)
{
    ert_board_init();
    put_str("embedrt firmware " ERT_FW_DESCRIBE " on ");
    put_str(ert_board_name);
    put_str(": link starting");
    end_line();

    static const ert_link_config cfg = {
        .node_name = "gripper-mcu",
        .version_major = ERT_FW_VERSION_MAJOR,
        .version_minor = ERT_FW_VERSION_MINOR,
        .version_patch = ERT_FW_VERSION_PATCH,
        .version_describe = ERT_FW_DESCRIBE,
        .heartbeat_ms = 200,
        .link_timeout_ms = 1500,
        .retransmit_ms = 300,
        .retry_limit = 10,
        .first_seq = 0,
    };
    static const ert_link_io io = {
        .write = write_link,
        .on_hello = on_hello,
        .on_reward = on_reward,
        .on_goal = on_goal,
        .on_link = on_link,
    };
    ert_link_init(&link, &cfg, &io);
    uint32_t now = ert_board_millis();
    app.now = now;
    enter(APP_WAIT_LINK, now);
    ert_link_start(&link, now);
    for (;;) {
        uint8_t rx[64];
        size_t n = 0;
        int c;
        while (n < sizeof rx && (c = ert_board_getc(ERT_BOARD_LINK)) >= 0)
            rx[n++] = (uint8_t)c;
        now = ert_board_millis();
        app.now = now;
        if (n)
            ert_link_feed(&link, rx, n, now);
        ert_link_poll(&link, now);
        step(now);
        if (!n)
            ert_board_idle();
    }
}
