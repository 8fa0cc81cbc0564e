/* poll() loop: listeners, client connections, the publisher's wake-up eventfd and a
 * signal self-pipe. Every reply goes through the publisher so that it keeps its place among the
 * client's events and gets the connection's next seq. */
#include "server.h"

#include "ctl_link.h"
#include "embedrt/util.h"
#include "embedrt/version.h"
#include "log.h"

#include <pb_decode.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS ERT_PUB_MAX_CLIENTS
#define TX_CAP (ERT_PUB_MAX_EVENT + 32)
#define CLOSE_GRACE_NS 1000000000ull

typedef struct conn {
    int fd;
    uint32_t id;
    ert_wire_rx rx;
    uint8_t *tx;
    size_t tx_len, tx_off;
    bool closing;          /* send what is queued, then close */
    uint64_t close_deadline;
    char peer[64];
} conn;

struct ert_server {
    ert_config cfg;
    int unix_fd, tcp_fd, wake_fd, sig_fd;
    bool unlink_path;
    conn conns[MAX_CONNS];
    embedrt_v1_Envelope *in, *out;
    uint8_t *enc;
    ert_pipeline *pl;
    ert_pub *pub;
    uint64_t next_stats;
    ert_ctl *links[ERT_CFG_MAX_LINKS];
    size_t n_links;
    int link_next_ms;          /* the links' next timer, from the last tick */
};

/* ---------------------------------------------------------------- listeners */

static ert_status open_unix(ert_server *s, ert_error *err)
{
    const char *path = s->cfg.socket_path;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return ert_fail(err, ERT_EINVAL, "socket %s: path longer than %zu bytes", path, sizeof sa.sun_path - 1);
    memcpy(sa.sun_path, path, strlen(path));
    /* The parent folder (e.g. /run/embedrt): create it for the owner only if missing. */
    char dir[sizeof sa.sun_path];
    ert_str_copy(dir, sizeof dir, path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return ert_fail(err, ERT_EIO, "socket %s: cannot create folder %s: %s", path, dir, strerror(errno));
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return ert_fail(err, ERT_EIO, "socket %s: exists and is not a socket (remove it or choose --socket)", path);
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
            return ert_fail(err, ERT_EIO, "socket: %s", strerror(errno));
        int r = connect(probe, (struct sockaddr *)&sa, sizeof sa);
        int e = errno;
        close(probe);
        if (r == 0)
            return ert_fail(err, ERT_EIO, "socket %s: another embedrtd is answering there (stop it or choose --socket)",
                            path);
        if (e != ECONNREFUSED && e != ENOENT)
            return ert_fail(err, ERT_EIO, "socket %s: cannot tell whether a daemon answers: %s", path, strerror(e));
        if (unlink(path) != 0 && errno != ENOENT)
            return ert_fail(err, ERT_EIO, "socket %s: cannot remove the stale socket: %s", path, strerror(errno));
        ert_log(ERT_LOG_INFO, "removed stale socket %s", path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ert_fail(err, ERT_EIO, "socket: %s", strerror(errno));
    mode_t old = umask(0177); /* no window in which the socket is open to others */
    int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old);
    if (r != 0) {
        close(fd);
        return ert_fail(err, ERT_EIO, "socket %s: bind: %s", path, strerror(e));
    }
    s->unlink_path = true;
    if (chmod(path, s->cfg.socket_mode) != 0 || listen(fd, 16) != 0) {
        e = errno;
        close(fd);
        return ert_fail(err, ERT_EIO, "socket %s: %s", path, strerror(e));
    }
    s->unix_fd = fd;
    return ERT_OK;
}

static ert_status open_tcp(ert_server *s, ert_error *err)
{
    char port[8];
    snprintf(port, sizeof port, "%u", s->cfg.tcp_port);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int r = getaddrinfo(s->cfg.tcp_host, port, &hints, &ai);
    if (r != 0)
        return ert_fail(err, ERT_EINVAL, "tcp %s:%s: %s", s->cfg.tcp_host, port, gai_strerror(r));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return ert_fail(err, ERT_EIO, "tcp %s:%s: %s", s->cfg.tcp_host, port, strerror(e));
    }
    freeaddrinfo(ai);
    s->tcp_fd = fd;
    return ERT_OK;
}

static volatile sig_atomic_t sig_write_fd = -1;

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (sig_write_fd >= 0) {
        ssize_t w = write(sig_write_fd, &b, 1);
        (void)w;
    }
    errno = saved;
}

ert_status ert_server_open(const ert_config *cfg, ert_server **out, ert_error *err)
{
    ert_server *s = calloc(1, sizeof *s);
    if (!s)
        return ert_fail(err, ERT_ENOMEM, "server: out of memory");
    s->cfg = *cfg;
    s->unix_fd = s->tcp_fd = s->wake_fd = s->sig_fd = -1;
    for (size_t i = 0; i < MAX_CONNS; i++)
        s->conns[i].fd = -1;
    s->in = calloc(1, sizeof *s->in);
    s->out = calloc(1, sizeof *s->out);
    s->enc = malloc(TX_CAP);
    ert_status st = ERT_OK;
    if (!s->in || !s->out || !s->enc)
        st = ert_fail(err, ERT_ENOMEM, "server: out of memory");
    /* A self-pipe rather than signalfd: libraries (OpenBLAS) start threads before main()
     * that do not block signals, and a signal may land on any of them. */
    int sp[2];
    if (st == ERT_OK && (pipe2(sp, O_NONBLOCK | O_CLOEXEC) != 0 ||
                         (s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0))
        st = ert_fail(err, ERT_EIO, "server: pipe/eventfd: %s", strerror(errno));
    if (st == ERT_OK) {
        s->sig_fd = sp[0];
        sig_write_fd = sp[1];
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
    }
    if (st == ERT_OK)
        st = open_unix(s, err);
    if (st == ERT_OK && cfg->tcp)
        st = open_tcp(s, err);
    if (st != ERT_OK) {
        ert_server_close(s);
        return st;
    }
    *out = s;
    return ERT_OK;
}

int ert_server_wake_fd(const ert_server *s)
{
    return s->wake_fd;
}

void ert_server_update(ert_server *s, const ert_config *cfg)
{
    s->cfg.stats_interval_ms = cfg->stats_interval_ms;
    s->next_stats = 0;
}

/* ---------------------------------------------------------------- connections */

static void conn_close(ert_server *s, conn *c, const char *why)
{
    if (c->fd < 0)
        return;
    ert_log(ERT_LOG_INFO, "client %u (%s): %s", c->id, c->peer, why);
    close(c->fd);
    c->fd = -1;
    ert_pub_remove_client(s->pub, c->id);
    ert_wire_rx_free(&c->rx);
    free(c->tx);
    c->tx = NULL;
}

static void accept_one(ert_server *s, int lfd, bool tcp)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR)
            ert_log(ERT_LOG_WARN, "accept: %s", strerror(errno));
        return;
    }
    conn *c = NULL;
    for (size_t i = 0; i < MAX_CONNS && !c; i++)
        if (s->conns[i].fd < 0)
            c = &s->conns[i];
    ert_error err;
    if (!c) {
        ert_log(ERT_LOG_WARN, "refusing a connection: %d clients connected already", MAX_CONNS);
        close(fd);
        return;
    }
    memset(c, 0, sizeof *c);
    c->fd = -1;
    if (ert_pub_add_client(s->pub, &c->id, &err) != ERT_OK) {
        ert_log(ERT_LOG_WARN, "refusing a connection: %s", err.msg);
        close(fd);
        return;
    }
    if (ert_wire_rx_init(&c->rx, s->cfg.max_frame_bytes, &err) != ERT_OK || !(c->tx = malloc(TX_CAP))) {
        ert_log(ERT_LOG_WARN, "refusing a connection: out of memory");
        ert_pub_remove_client(s->pub, c->id);
        ert_wire_rx_free(&c->rx);
        close(fd);
        return;
    }
    c->fd = fd;
    if (tcp) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char host[48] = "?";
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof host);
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof host);
        snprintf(c->peer, sizeof c->peer, "tcp %s", host);
    } else {
        snprintf(c->peer, sizeof c->peer, "unix");
    }
    ert_log(ERT_LOG_INFO, "client %u (%s): connected", c->id, c->peer);
}

/* ---------------------------------------------------------------- replies */

static void reply(ert_server *s, conn *c, embedrt_v1_Envelope *env)
{
    const uint8_t *p;
    size_t n;
    ert_error err;
    if (ert_pub_encode(env, NULL, s->enc, TX_CAP, &p, &n, &err) != ERT_OK) {
        ert_log(ERT_LOG_ERROR, "client %u: cannot encode a %s reply: %s", c->id, ert_wire_body_name(env->which_body),
                err.msg);
        return;
    }
    ert_pub_send_to(s->pub, c->id, p, n);
}

static embedrt_v1_StatusCode code_of(ert_status st)
{
    switch (st) {
    case ERT_OK: return embedrt_v1_StatusCode_STATUS_OK;
    case ERT_EINVAL: return embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT;
    case ERT_ENOTFOUND: return embedrt_v1_StatusCode_STATUS_NOT_FOUND;
    case ERT_EFORMAT: return embedrt_v1_StatusCode_STATUS_FORMAT;
    case ERT_EUNSUPPORTED: return embedrt_v1_StatusCode_STATUS_UNSUPPORTED;
    case ERT_EIO: return embedrt_v1_StatusCode_STATUS_IO;
    case ERT_ENOMEM: return embedrt_v1_StatusCode_STATUS_RESOURCE;
    case ERT_EINTERNAL: break;
    }
    return embedrt_v1_StatusCode_STATUS_INTERNAL;
}

static void reply_error(ert_server *s, conn *c, uint64_t request_id, const ert_error *e)
{
    embedrt_v1_Envelope *env = s->out;
    memset(env, 0, sizeof *env);
    env->request_id = request_id;
    env->which_body = embedrt_v1_Envelope_error_tag;
    env->body.error.code = code_of(e->code);
    ert_str_copy(env->body.error.message, sizeof env->body.error.message, e->msg);
    reply(s, c, env);
}

static void reply_ack(ert_server *s, conn *c, uint64_t request_id)
{
    embedrt_v1_Envelope *env = s->out;
    memset(env, 0, sizeof *env);
    env->request_id = request_id;
    env->which_body = embedrt_v1_Envelope_ack_tag;
    reply(s, c, env);
}

static void fill_hello(const ert_server *s, embedrt_v1_Hello *h)
{
    h->protocol_version = 1;
    h->has_embedrt = true;
    h->embedrt.major = ERT_VERSION_MAJOR;
    h->embedrt.minor = ERT_VERSION_MINOR;
    h->embedrt.patch = ERT_VERSION_PATCH;
    ert_str_copy(h->embedrt.describe, sizeof h->embedrt.describe, ert_version_git());
    char host[40] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(h->node_name, sizeof h->node_name, "embedrtd@%s", host);
    ert_component comps[8];
    size_t n = ert_version_components(comps, 8);
    for (size_t i = 0; i < n && i < 8; i++) {
        embedrt_v1_Component *c = &h->components[h->components_count++];
        ert_str_copy(c->name, sizeof c->name, comps[i].name);
        ert_str_copy(c->version, sizeof c->version, comps[i].version ? comps[i].version : "");
    }
    static const char *const caps[] = {"embeddings", "rewards", "heatmaps", "stats", "goals", "episodes",
                                       "demos", "grasp-events", "model-swap"};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        ert_str_copy(h->capabilities[h->capabilities_count++], sizeof h->capabilities[0], caps[i]);
    if (s->cfg.tcp)
        ert_str_copy(h->capabilities[h->capabilities_count++], sizeof h->capabilities[0], "tcp");
    h->monotonic_ns = ert_monotonic_ns();
}

static void fill_stats(ert_server *s, embedrt_v1_Stats *st)
{
    ert_pipeline_stats(s->pl, st);
    ert_pub_client_stats cs[16];
    size_t n = ert_pub_stats(s->pub, cs, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        embedrt_v1_ClientStats *c = &st->clients[st->clients_count++];
        c->client_id = cs[i].id;
        c->events_sent = cs[i].sent;
        c->events_dropped = cs[i].dropped;
    }
    for (size_t i = 0; i < s->n_links && st->links_count < ERT_CFG_MAX_LINKS; i++)
        ert_ctl_state(s->links[i], &st->links[st->links_count++]);
}

/* The request id of an envelope that did not decode, read from its top-level fields with
 * nanopb's field walker (0 when it cannot be read). */
static uint64_t peek_request_id(const uint8_t *p, size_t len)
{
    pb_istream_t in = pb_istream_from_buffer(p, len);
    pb_wire_type_t wt;
    uint32_t tag;
    bool eof;
    while (pb_decode_tag(&in, &wt, &tag, &eof)) {
        if (tag == embedrt_v1_Envelope_request_id_tag && wt == PB_WT_VARINT) {
            uint64_t v;
            return pb_decode_varint(&in, &v) ? v : 0;
        }
        if (!pb_skip_field(&in, wt))
            return 0;
    }
    return 0;
}

static void handle_frame(ert_server *s, conn *c, const uint8_t *payload, size_t len)
{
    embedrt_v1_Envelope *env = s->in;
    ert_wire_views views;
    ert_error err;
    if (ert_wire_decode(payload, len, env, &views, &err) != ERT_OK) {
        uint64_t rid = peek_request_id(payload, len);
        ert_log(ERT_LOG_WARN, "client %u: malformed envelope (request %llu): %s", c->id, (unsigned long long)rid,
                err.msg);
        reply_error(s, c, rid, &err);
        return;
    }
    uint64_t rid = env->request_id;
    ert_log(ERT_LOG_DEBUG, "client %u: %s (request %llu)", c->id, ert_wire_body_name(env->which_body),
            (unsigned long long)rid);
    switch (env->which_body) {
    case embedrt_v1_Envelope_client_hello_tag: {
        embedrt_v1_Envelope *out = s->out;
        memset(out, 0, sizeof *out);
        out->request_id = rid;
        out->which_body = embedrt_v1_Envelope_capabilities_tag;
        embedrt_v1_Capabilities *cap = &out->body.capabilities;
        cap->has_hello = true;
        fill_hello(s, &cap->hello);
        ert_pipeline_capabilities(s->pl, cap);
        cap->max_frame_bytes = s->cfg.max_frame_bytes;
        cap->client_queue_depth = s->cfg.client_queue_depth;
        reply(s, c, out);
        return;
    }
    case embedrt_v1_Envelope_subscribe_tag:
        if (ert_pub_subscribe(s->pub, c->id, &env->body.subscribe, &err) != ERT_OK)
            reply_error(s, c, rid, &err);
        else
            reply_ack(s, c, rid);
        return;
    case embedrt_v1_Envelope_unsubscribe_tag:
        ert_pub_unsubscribe(s->pub, c->id, &env->body.unsubscribe);
        reply_ack(s, c, rid);
        return;
    case embedrt_v1_Envelope_get_stats_tag: {
        embedrt_v1_Envelope *out = s->out;
        memset(out, 0, sizeof *out);
        out->request_id = rid;
        out->which_body = embedrt_v1_Envelope_stats_tag;
        fill_stats(s, &out->body.stats);
        reply(s, c, out);
        return;
    }
    case embedrt_v1_Envelope_set_goal_tag:
    case embedrt_v1_Envelope_clear_goal_tag:
    case embedrt_v1_Envelope_reset_episode_tag:
    case embedrt_v1_Envelope_load_demo_tag:
    case embedrt_v1_Envelope_grasp_event_tag: {
        bool ack = false;
        if (ert_pipeline_request(s->pl, c->id, env, payload, len, &ack, &err) != ERT_OK)
            reply_error(s, c, rid, &err);
        else if (ack)
            reply_ack(s, c, rid);
        return;
    }
    case embedrt_v1_Envelope_load_model_tag:
        if (ert_pipeline_load_model(s->pl, c->id, rid, &env->body.load_model, &err) != ERT_OK)
            reply_error(s, c, rid, &err);
        return;
    default:
        ert_fail(&err, ERT_EINVAL, "envelope body '%s' is sent by the daemon, not by clients",
                 ert_wire_body_name(env->which_body));
        reply_error(s, c, rid, &err);
        return;
    }
}

static void conn_read(ert_server *s, conn *c)
{
    for (int rounds = 0; rounds < 16 && c->fd >= 0 && !c->closing; rounds++) {
        size_t avail;
        uint8_t *space = ert_wire_rx_space(&c->rx, &avail);
        ssize_t n = read(c->fd, space, avail);
        if (n == 0) {
            conn_close(s, c, "disconnected");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            conn_close(s, c, strerror(errno));
            return;
        }
        ert_wire_rx_commit(&c->rx, (size_t)n);
        for (;;) {
            const uint8_t *payload;
            size_t len;
            bool have = false;
            ert_error err;
            if (ert_wire_rx_frame(&c->rx, &payload, &len, &have, &err) != ERT_OK) {
                /* The stream cannot be resynchronised: answer, then close. */
                ert_log(ERT_LOG_WARN, "client %u: %s; closing the connection", c->id, err.msg);
                reply_error(s, c, 0, &err);
                c->closing = true;
                c->close_deadline = ert_monotonic_ns() + CLOSE_GRACE_NS;
                shutdown(c->fd, SHUT_RD);
                return;
            }
            if (!have)
                break;
            handle_frame(s, c, payload, len);
        }
        if ((size_t)n < avail)
            return;
    }
}

/* Sends what the publisher holds for c until the socket would block. */
static void conn_write(ert_server *s, conn *c)
{
    while (c->fd >= 0) {
        if (c->tx_off == c->tx_len) {
            c->tx_off = 0;
            c->tx_len = ert_pub_take(s->pub, c->id, c->tx, TX_CAP);
            if (c->tx_len == 0)
                return;
        }
        ssize_t n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            conn_close(s, c, errno == EPIPE || errno == ECONNRESET ? "disconnected" : strerror(errno));
            return;
        }
        c->tx_off += (size_t)n;
    }
}

static bool conn_wants_write(ert_server *s, conn *c)
{
    return c->tx_off < c->tx_len || ert_pub_pending(s->pub, c->id);
}

/* ---------------------------------------------------------------- loop */

static void publish_stats(ert_server *s)
{
    embedrt_v1_Envelope *out = s->out;
    memset(out, 0, sizeof *out);
    out->which_body = embedrt_v1_Envelope_stats_tag;
    fill_stats(s, &out->body.stats);
    const uint8_t *p;
    size_t n;
    if (ert_pub_encode(out, NULL, s->enc, TX_CAP, &p, &n, NULL) == ERT_OK)
        ert_pub_event(s->pub, embedrt_v1_Stream_STREAM_STATS, "", "", p, n);
}

static void broadcast_notice(ert_server *s, embedrt_v1_Notice_Kind kind, const char *msg)
{
    embedrt_v1_Envelope *out = s->out;
    memset(out, 0, sizeof *out);
    out->which_body = embedrt_v1_Envelope_notice_tag;
    out->body.notice.kind = kind;
    ert_str_copy(out->body.notice.message, sizeof out->body.notice.message, msg);
    const uint8_t *p;
    size_t n;
    if (ert_pub_encode(out, NULL, s->enc, TX_CAP, &p, &n, NULL) == ERT_OK)
        ert_pub_broadcast(s->pub, p, n);
}

/* One poll round; returns false on a stop signal. */
static bool serve_once(ert_server *s, int timeout_ms, ert_server_reload_fn reload, void *ctx)
{
    struct pollfd pfd[4 + ERT_CFG_MAX_LINKS + MAX_CONNS];
    conn *who[4 + ERT_CFG_MAX_LINKS + MAX_CONNS];
    size_t n = 0;
    pfd[n] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
    who[n++] = NULL;
    pfd[n] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
    who[n++] = NULL;
    if (s->unix_fd >= 0) {
        pfd[n] = (struct pollfd){.fd = s->unix_fd, .events = POLLIN};
        who[n++] = NULL;
    }
    if (s->tcp_fd >= 0) {
        pfd[n] = (struct pollfd){.fd = s->tcp_fd, .events = POLLIN};
        who[n++] = NULL;
    }
    size_t first_link = n;
    ert_ctl *link_of[ERT_CFG_MAX_LINKS];
    for (size_t i = 0; i < s->n_links; i++)
        if (ert_ctl_fd(s->links[i]) >= 0) {
            link_of[n - first_link] = s->links[i];
            pfd[n] = (struct pollfd){.fd = ert_ctl_fd(s->links[i]), .events = POLLIN};
            who[n++] = NULL;
        }
    size_t first_conn = n;
    if (s->n_links && s->link_next_ms < timeout_ms)
        timeout_ms = s->link_next_ms;
    uint64_t t = ert_monotonic_ns();
    for (size_t i = 0; i < MAX_CONNS; i++) {
        conn *c = &s->conns[i];
        if (c->fd < 0)
            continue;
        if (c->closing && (t >= c->close_deadline || !conn_wants_write(s, c))) {
            conn_close(s, c, "closed after a protocol error");
            continue;
        }
        short ev = c->closing ? 0 : POLLIN;
        if (conn_wants_write(s, c))
            ev |= POLLOUT;
        pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
        who[n++] = c;
    }
    int r = poll(pfd, n, timeout_ms);
    if (r < 0)
        return errno == EINTR;
    bool keep = true;
    if (pfd[0].revents & POLLIN) {
        unsigned char signo;
        while (read(s->sig_fd, &signo, 1) == 1) {
            if (signo == SIGHUP) {
                ert_log(ERT_LOG_INFO, "SIGHUP: reloading the configuration");
                ert_error err;
                if (reload && reload(ctx, &err) != ERT_OK) {
                    ert_log(ERT_LOG_ERROR, "reload failed, the running configuration stays: %s", err.msg);
                } else {
                    broadcast_notice(s, embedrt_v1_Notice_Kind_KIND_CONFIG_RELOADED, "configuration reloaded");
                }
            } else {
                ert_log(ERT_LOG_INFO, "%s: stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
                keep = false;
            }
        }
    }
    if (pfd[1].revents & POLLIN) {
        uint64_t v;
        ssize_t rr = read(s->wake_fd, &v, sizeof v);
        (void)rr;
    }
    for (size_t i = first_link; i < first_conn; i++)
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
            ert_ctl_readable(link_of[i - first_link], (pfd[i].revents & (POLLHUP | POLLERR)) != 0);
    for (size_t i = 2; i < first_link; i++)
        if (pfd[i].revents & POLLIN)
            for (int k = 0; k < 8; k++)
                accept_one(s, pfd[i].fd, pfd[i].fd == s->tcp_fd);
    for (size_t i = first_conn; i < n; i++) {
        conn *c = who[i];
        if (c->fd != pfd[i].fd)
            continue;
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
            conn_read(s, c);
        if (c->fd >= 0)
            conn_write(s, c);
    }
    /* Link timers, and the events the pipeline queued for the links. */
    s->link_next_ms = 1000;
    for (size_t i = 0; i < s->n_links; i++) {
        int next = ert_ctl_tick(s->links[i]);
        if (next < s->link_next_ms)
            s->link_next_ms = next;
    }
    /* Replies queued while reading go out without waiting for another round. */
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (s->conns[i].fd >= 0 && conn_wants_write(s, &s->conns[i]))
            conn_write(s, &s->conns[i]);
    return keep;
}

ert_status ert_server_open_links(ert_server *s, ert_pipeline *pl, ert_pub *pub, ert_error *err)
{
    for (size_t i = 0; i < s->cfg.n_links; i++) {
        ert_status st = ert_ctl_create(&s->cfg.links[i], pl, pub, &s->links[s->n_links], err);
        if (st != ERT_OK)
            return st;
        s->n_links++;
    }
    return ERT_OK;
}

void ert_server_run(ert_server *s, ert_pipeline *pl, ert_pub *pub, ert_server_reload_fn reload, void *ctx)
{
    s->pl = pl;
    s->pub = pub;
    for (;;) {
        int timeout = 1000;
        if (s->cfg.stats_interval_ms) {
            uint64_t t = ert_monotonic_ns();
            if (s->next_stats == 0)
                s->next_stats = t + (uint64_t)s->cfg.stats_interval_ms * 1000000u;
            if (t >= s->next_stats) {
                publish_stats(s);
                s->next_stats = t + (uint64_t)s->cfg.stats_interval_ms * 1000000u;
            }
            uint64_t left = (s->next_stats - t) / 1000000u + 1;
            timeout = left < 1000 ? (int)left : 1000;
        }
        if (!serve_once(s, timeout, reload, ctx))
            break;
    }
    broadcast_notice(s, embedrt_v1_Notice_Kind_KIND_SHUTDOWN, "embedrtd is stopping");
    /* Flush briefly: a client that does not read is not waited for. */
    uint64_t deadline = ert_monotonic_ns() + 300000000ull;
    while (ert_monotonic_ns() < deadline) {
        bool any = false;
        for (size_t i = 0; i < MAX_CONNS; i++) {
            conn *c = &s->conns[i];
            if (c->fd >= 0 && conn_wants_write(s, c)) {
                conn_write(s, c);
                any |= c->fd >= 0 && conn_wants_write(s, c);
            }
        }
        if (!any)
            break;
        usleep(5000);
    }
}

void ert_server_close(ert_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_links; i++)
        ert_ctl_free(s->links[i]);
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (s->conns[i].fd >= 0) {
            if (s->pub)
                conn_close(s, &s->conns[i], "daemon stopping");
            else
                close(s->conns[i].fd);
        }
    if (s->unix_fd >= 0)
        close(s->unix_fd);
    if (s->unlink_path)
        unlink(s->cfg.socket_path);
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->sig_fd >= 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        int w = sig_write_fd;
        sig_write_fd = -1;
        close(w);
        close(s->sig_fd);
    }
    free(s->in);
    free(s->out);
    free(s->enc);
    free(s);
}
