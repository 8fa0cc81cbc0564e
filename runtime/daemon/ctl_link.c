/* Controller links (see ctl_link.h): the port (tty or Unix socket), the ert_link core on
 * the daemon's side, and the mapping between link messages and daemon requests/events. */
#define _DEFAULT_SOURCE /* cfmakeraw, cfsetspeed */
#include "ctl_link.h"

#include "embedrt/util.h"
#include "embedrt/version.h"
#include "ert_link.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define RX_CHUNK 512
#define PENDING_REQS 8 /* grasp requests awaiting the model's reply, for the log line */

typedef struct pending_req {
    uint64_t request_id;
    uint32_t grasp_id;
    int phase;
} pending_req;

struct ert_ctl {
    ert_cfg_link cfg;
    char port[ERT_CFG_PATH_MAX + 32];
    char model[ERT_CFG_NAME_MAX];
    ert_pipeline *pl;
    ert_pub *pub;
    uint32_t client;            /* our publisher client id */
    int fd;
    bool open_failed_logged;
    uint64_t next_open_ns;
    ert_link link;
    char peer[sizeof(((embedrt_v1_LinkHello *)0)->node_name)];
    bool goal_dirty;            /* send a GoalStatus at the next tick */
    uint32_t goal_id;           /* the model's goal (0: none), from GOAL_CHANGED notices */
    uint64_t next_request;
    pending_req reqs[PENDING_REQS];
    size_t req_next;
    uint64_t grasp_reports, rewards_sent, errors;
    ert_wire_rx rx;             /* the publisher's frames for us, re-read as envelopes */
    uint8_t *take;              /* one frame from ert_pub_take */
    uint8_t *enc;               /* encoded requests */
    embedrt_v1_Envelope *env;
};

static uint32_t now_ms(void)
{
    return (uint32_t)(ert_monotonic_ns() / 1000000u);
}

/* ---------------------------------------------------------------- the port */

static speed_t speed_of(uint32_t baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 576000: return B576000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 1152000: return B1152000;
    case 1500000: return B1500000;
    case 2000000: return B2000000;
    case 2500000: return B2500000;
    case 3000000: return B3000000;
    case 3500000: return B3500000;
    default: return B4000000; /* config.c admits only the rates above and 4000000 */
    }
}

/* Opens the tty in raw mode: 8N1, no flow control, no echo or line discipline, reads
 * return what is there (VMIN = VTIME = 0 with O_NONBLOCK). */
static int open_tty(const ert_cfg_link *l, char *why, size_t cap)
{
    int fd = open(l->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return -1;
    }
    struct termios t;
    if (!isatty(fd) || tcgetattr(fd, &t) != 0) {
        snprintf(why, cap, "not a terminal device (use unix:PATH for a socket)");
        close(fd);
        return -1;
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | CRTSCTS);
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (cfsetspeed(&t, speed_of(l->baud)) != 0 || tcsetattr(fd, TCSANOW, &t) != 0) {
        snprintf(why, cap, "cannot set %u baud raw mode: %s", (unsigned)l->baud, strerror(errno));
        close(fd);
        return -1;
    }
    tcflush(fd, TCIOFLUSH); /* bytes from before we opened belong to nobody */
    return fd;
}

static int open_unix(const ert_cfg_link *l, char *why, size_t cap)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(l->path) >= sizeof sa.sun_path) {
        snprintf(why, cap, "path longer than %zu bytes", sizeof sa.sun_path - 1);
        return -1;
    }
    memcpy(sa.sun_path, l->path, strlen(l->path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, cap, "socket: %s", strerror(errno));
        return -1;
    }
    /* A local connect completes or fails at once; non-blocking afterwards. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void try_open(ert_ctl *c)
{
    char why[160];
    c->fd = c->cfg.kind == ERT_PORT_TTY ? open_tty(&c->cfg, why, sizeof why) : open_unix(&c->cfg, why, sizeof why);
    if (c->fd >= 0) {
        ert_log(ERT_LOG_INFO, "link '%s': %s open", c->cfg.name, c->port);
        c->open_failed_logged = false;
        ert_link_start(&c->link, now_ms()); /* hello now rather than at the next heartbeat */
        return;
    }
    if (!c->open_failed_logged)
        ert_log(ERT_LOG_WARN, "link '%s': cannot open %s: %s; retrying every %u ms", c->cfg.name, c->port, why,
                (unsigned)c->cfg.reconnect_ms);
    c->open_failed_logged = true;
    c->next_open_ns = ert_monotonic_ns() + (uint64_t)c->cfg.reconnect_ms * 1000000u;
}

static void close_port(ert_ctl *c, const char *why)
{
    if (c->fd < 0)
        return;
    ert_log(ERT_LOG_WARN, "link '%s': %s %s; reopening in %u ms", c->cfg.name, c->port, why,
            (unsigned)c->cfg.reconnect_ms);
    close(c->fd);
    c->fd = -1;
    c->next_open_ns = ert_monotonic_ns() + (uint64_t)c->cfg.reconnect_ms * 1000000u;
}

/* ert_link's writer: a whole frame or false (the link counts it; reliable messages are
 * retransmitted). A frame is at most ERT_LINK_WIRE_MAX bytes, far below any tty or socket
 * buffer, so a short write only happens when the peer stopped reading. */
static bool port_write(void *ctx, const uint8_t *bytes, size_t n)
{
    ert_ctl *c = ctx;
    size_t off = 0;
    int spins = 0;
    while (c->fd >= 0 && off < n) {
        ssize_t w = write(c->fd, bytes + off, n - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN && off > 0 && spins++ < 100) {
            usleep(100); /* finish a frame we started rather than corrupt the stream */
            continue;
        }
        if (w < 0 && errno != EAGAIN)
            close_port(c, strerror(errno));
        return false;
    }
    return c->fd >= 0 && off == n;
}

/* ---------------------------------------------------------------- link -> daemon */

static void on_hello(void *ctx, const embedrt_v1_LinkHello *m)
{
    ert_ctl *c = ctx;
    if (strcmp(c->peer, m->node_name) != 0 || !m->reply)
        ert_log(ERT_LOG_INFO, "link '%s': peer '%s' (embedrt %u.%u.%u%s%s)%s", c->cfg.name, m->node_name,
                (unsigned)m->embedrt.major, (unsigned)m->embedrt.minor, (unsigned)m->embedrt.patch,
                m->embedrt.describe[0] ? " " : "", m->embedrt.describe, m->reply ? "" : " started");
    ert_str_copy(c->peer, sizeof c->peer, m->node_name);
    if (!m->reply)
        c->goal_dirty = true; /* a (re)started MCU knows nothing of the goal */
}

static void on_link(void *ctx, bool up)
{
    ert_ctl *c = ctx;
    ert_log(up ? ERT_LOG_INFO : ERT_LOG_WARN, "link '%s': %s", c->cfg.name, up ? "up" : "down (no valid frame)");
    if (up)
        c->goal_dirty = true;
}

static void on_grasp(void *ctx, const embedrt_v1_GraspReport *m)
{
    ert_ctl *c = ctx;
    c->grasp_reports++;
    embedrt_v1_Envelope *env = c->env;
    memset(env, 0, sizeof *env);
    env->request_id = ++c->next_request;
    env->which_body = embedrt_v1_Envelope_grasp_event_tag;
    embedrt_v1_GraspEvent *g = &env->body.grasp_event;
    ert_str_copy(g->model, sizeof g->model, c->model);
    g->phase = m->phase == embedrt_v1_GraspPhase_GRASP_PHASE_CLOSED ? embedrt_v1_GraspPhase_GRASP_PHASE_PRE
                                                                      : m->phase;
    g->success = m->success;
    g->grasp_id = m->grasp_id;
    g->source_time_ns = (uint64_t)m->mcu_time_ms * 1000000u;
    ert_log(ERT_LOG_DEBUG, "link '%s': grasp %u %s%s -> %s", c->cfg.name, (unsigned)m->grasp_id,
            ert_wire_grasp_phase_name((int)m->phase), m->phase == embedrt_v1_GraspPhase_GRASP_PHASE_LIFTED
                                           ? (m->success ? " (success)" : " (failed)") : "",
            ert_wire_grasp_phase_name((int)g->phase));
    const uint8_t *p;
    size_t n;
    bool acked;
    ert_error err;
    ert_status st = ert_pub_encode(env, NULL, c->enc, ERT_PUB_MAX_EVENT, &p, &n, &err);
    if (st == ERT_OK)
        st = ert_pipeline_request(c->pl, c->client, env, p, n, &acked, &err);
    if (st != ERT_OK) {
        c->errors++;
        ert_log(ERT_LOG_WARN, "link '%s': grasp %u %s not passed to model '%s': %s", c->cfg.name,
                (unsigned)m->grasp_id, ert_wire_grasp_phase_name((int)m->phase), c->model, err.msg);
        return;
    }
    pending_req *r = &c->reqs[c->req_next++ % PENDING_REQS];
    r->request_id = env->request_id;
    r->grasp_id = m->grasp_id;
    r->phase = (int)m->phase;
}

/* ---------------------------------------------------------------- daemon -> link */

static void send_goal(ert_ctl *c)
{
    embedrt_v1_GoalStatus g = embedrt_v1_GoalStatus_init_zero;
    g.goal_id = c->goal_id;
    g.has_goal = c->goal_id != 0;
    ert_link_send_goal(&c->link, &g, now_ms());
    c->goal_dirty = false;
}

static void handle_event(ert_ctl *c, const embedrt_v1_Envelope *env)
{
    switch (env->which_body) {
    case embedrt_v1_Envelope_reward_tag: {
        const embedrt_v1_Reward *r = &env->body.reward;
        if (r->grasp_id == 0 || strcmp(r->model, c->model) != 0)
            return;
        embedrt_v1_RewardReport m = embedrt_v1_RewardReport_init_zero;
        m.grasp_id = r->grasp_id;
        m.value = (float)r->value;
        ert_str_copy(m.type, sizeof m.type, r->type);
        m.goal_id = r->goal_id;
        m.frame_seq = r->frame_seq;
        if (ert_link_send_reward(&c->link, &m, now_ms()))
            c->rewards_sent++;
        ert_log(ERT_LOG_DEBUG, "link '%s': reward grasp %u %s %.6f", c->cfg.name, (unsigned)r->grasp_id, r->type,
                r->value);
        return;
    }
    case embedrt_v1_Envelope_notice_tag: {
        const embedrt_v1_Notice *n = &env->body.notice;
        if (n->kind == embedrt_v1_Notice_Kind_KIND_GOAL_CHANGED && strcmp(n->subject, c->model) == 0) {
            c->goal_id = (uint32_t)n->count;
            send_goal(c);
        }
        return;
    }
    case embedrt_v1_Envelope_error_tag:
        for (size_t i = 0; i < PENDING_REQS; i++) {
            pending_req *r = &c->reqs[i];
            if (r->request_id && r->request_id == env->request_id) {
                c->errors++;
                ert_log(ERT_LOG_WARN, "link '%s': grasp %u %s: model '%s' refused it: %s", c->cfg.name,
                        (unsigned)r->grasp_id, ert_wire_grasp_phase_name(r->phase), c->model, env->body.error.message);
                r->request_id = 0;
                return;
            }
        }
        ert_log(ERT_LOG_WARN, "link '%s': %s", c->cfg.name, env->body.error.message);
        return;
    default: return; /* Acks */
    }
}

/* Everything the publisher holds for the link: rewards, notices, replies. */
static void drain_events(ert_ctl *c)
{
    for (int k = 0; k < 64; k++) {
        size_t n = ert_pub_take(c->pub, c->client, c->take, ERT_PUB_MAX_EVENT + 32);
        if (n == 0)
            return;
        ert_wire_rx_reset(&c->rx);
        size_t avail;
        uint8_t *space = ert_wire_rx_space(&c->rx, &avail);
        if (n > avail)
            continue; /* cannot happen: rx holds ERT_PUB_MAX_EVENT */
        memcpy(space, c->take, n);
        ert_wire_rx_commit(&c->rx, n);
        const uint8_t *p;
        size_t len;
        bool have = false;
        ert_wire_views views;
        ert_error err;
        if (ert_wire_rx_frame(&c->rx, &p, &len, &have, &err) != ERT_OK || !have ||
            ert_wire_decode(p, len, c->env, &views, &err) != ERT_OK) {
            ert_log(ERT_LOG_ERROR, "link '%s': an event of our own publisher does not decode", c->cfg.name);
            continue;
        }
        handle_event(c, c->env);
    }
}

/* ---------------------------------------------------------------- lifecycle */

ert_status ert_ctl_create(const ert_cfg_link *cfg, ert_pipeline *pl, ert_pub *pub, ert_ctl **out, ert_error *err)
{
    *out = NULL;
    embedrt_v1_Capabilities *cap = calloc(1, sizeof *cap);
    ert_ctl *c = calloc(1, sizeof *c);
    if (!cap || !c) {
        free(cap);
        free(c);
        return ert_fail(err, ERT_ENOMEM, "link '%s': out of memory", cfg->name);
    }
    c->fd = -1;
    c->cfg = *cfg;
    c->pl = pl;
    c->pub = pub;
    ert_cfg_link_port(cfg, c->port, sizeof c->port);
    ert_pipeline_capabilities(pl, cap);
    const char *names[ERT_CFG_MAX_MODELS], *fams[ERT_CFG_MAX_MODELS];
    size_t n = 0;
    for (size_t i = 0; i < cap->models_count && n < ERT_CFG_MAX_MODELS; i++, n++) {
        names[n] = cap->models[i].name;
        fams[n] = cap->models[i].family;
    }
    ert_status st = ert_config_link_model(cfg, names, fams, n, c->model, err);
    free(cap);
    if (st != ERT_OK) {
        free(c);
        return st;
    }
    c->take = malloc(ERT_PUB_MAX_EVENT + 32);
    c->enc = malloc(ERT_PUB_MAX_EVENT);
    c->env = malloc(sizeof *c->env);
    if (!c->take || !c->enc || !c->env) {
        st = ert_fail(err, ERT_ENOMEM, "link '%s': out of memory", cfg->name);
    } else if ((st = ert_wire_rx_init(&c->rx, ERT_PUB_MAX_EVENT, err)) == ERT_OK) {
        if ((st = ert_pub_add_client(pub, &c->client, err)) == ERT_OK) {
            embedrt_v1_Subscribe sub = embedrt_v1_Subscribe_init_zero;
            sub.stream = embedrt_v1_Stream_STREAM_REWARDS;
            ert_str_copy(sub.model, sizeof sub.model, c->model);
            st = ert_pub_subscribe(pub, c->client, &sub, err);
            if (st != ERT_OK)
                ert_pub_remove_client(pub, c->client);
        }
        if (st != ERT_OK)
            ert_wire_rx_free(&c->rx);
    }
    if (st != ERT_OK) {
        free(c->take);
        free(c->enc);
        free(c->env);
        free(c);
        return ert_error_prefix(err, "link '%s'", cfg->name), st;
    }
    ert_link_config lc = {
        .node_name = "embedrtd",
        .version_major = ERT_VERSION_MAJOR,
        .version_minor = ERT_VERSION_MINOR,
        .version_patch = ERT_VERSION_PATCH,
        .version_describe = ert_version_git(),
        .heartbeat_ms = cfg->heartbeat_ms,
        .link_timeout_ms = cfg->timeout_ms,
        .retransmit_ms = cfg->retransmit_ms,
        .retry_limit = (uint8_t)cfg->retries,
    };
    ert_link_io io = {.ctx = c, .write = port_write, .on_hello = on_hello, .on_grasp = on_grasp, .on_link = on_link};
    ert_link_init(&c->link, &lc, &io);
    ert_log(ERT_LOG_INFO, "link '%s': %s, grasp reports to model '%s'", cfg->name, c->port, c->model);
    try_open(c);
    *out = c;
    return ERT_OK;
}

void ert_ctl_free(ert_ctl *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    ert_pub_remove_client(c->pub, c->client);
    ert_wire_rx_free(&c->rx);
    free(c->take);
    free(c->enc);
    free(c->env);
    free(c);
}

const ert_cfg_link *ert_ctl_config(const ert_ctl *c)
{
    return &c->cfg;
}

int ert_ctl_fd(const ert_ctl *c)
{
    return c->fd;
}

void ert_ctl_readable(ert_ctl *c, bool hangup)
{
    uint8_t buf[RX_CHUNK];
    for (int rounds = 0; rounds < 64 && c->fd >= 0; rounds++) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) {
            ert_link_feed(&c->link, buf, (size_t)n, now_ms());
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        /* A raw tty with VMIN = 0 reads 0 when it is merely empty; it is gone when poll says
         * hang-up or the read fails (EIO: USB adapter unplugged, pty master closed). */
        if (n == 0 && c->cfg.kind == ERT_PORT_TTY && !hangup)
            return;
        /* 0 on a socket: the peer closed it (QEMU exited). */
        close_port(c, n == 0 ? "closed by the peer" : strerror(errno));
        return;
    }
}

int ert_ctl_tick(ert_ctl *c)
{
    uint64_t t = ert_monotonic_ns();
    if (c->fd < 0 && t >= c->next_open_ns)
        try_open(c);
    drain_events(c);
    if (c->goal_dirty)
        send_goal(c);
    ert_link_poll(&c->link, now_ms());
    /* Heartbeats and retransmissions fire within a quarter of their period. */
    uint32_t period = c->cfg.heartbeat_ms < c->cfg.retransmit_ms ? c->cfg.heartbeat_ms : c->cfg.retransmit_ms;
    int next = (int)(period / 4 < 5 ? 5 : period / 4);
    if (c->fd < 0) {
        uint64_t left = c->next_open_ns > t ? (c->next_open_ns - t) / 1000000u + 1 : 0;
        next = left < 1000 ? (int)left : 1000;
    }
    return next;
}

void ert_ctl_state(const ert_ctl *c, embedrt_v1_LinkState *out)
{
    memset(out, 0, sizeof *out);
    ert_str_copy(out->name, sizeof out->name, c->cfg.name);
    ert_str_copy(out->port, sizeof out->port, c->port);
    out->connected = c->fd >= 0;
    out->up = ert_link_is_up(&c->link);
    ert_str_copy(out->peer_node, sizeof out->peer_node, c->peer);
    ert_str_copy(out->model, sizeof out->model, c->model);
    out->grasp_reports = c->grasp_reports;
    out->rewards_sent = c->rewards_sent;
    out->errors = c->errors;
    embedrt_v1_LinkStats s;
    ert_link_stats_snapshot(&c->link, &s);
    out->crc_errors = s.crc_errors;
    out->resyncs = s.resyncs;
    out->retransmissions = s.retransmissions;
    out->drops = s.drops;
    out->frames_rx = s.frames_rx;
    out->frames_tx = s.frames_tx;
    out->link_downs = s.link_downs;
}
