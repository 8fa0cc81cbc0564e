/* The C client of embedrtd: one non-blocking stream socket driven by poll(), requests
 * matched to responses by request id, events queued in a bounded ring meanwhile. */
#include "embedrt/client.h"

#include "embedrt/version.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct slot {
    uint8_t *buf;
    size_t cap, len;
} slot;

struct ert_client {
    int fd;
    char addr[320];
    ert_wire_rx rx;
    embedrt_v1_Capabilities caps;
    uint32_t seq;
    uint64_t next_id;
    slot *q; /* ring of queued event payloads */
    size_t q_cap, q_head, q_count;
    uint64_t dropped;
    slot cur; /* the payload of the event last returned from the queue */
    uint8_t *tx;
    size_t tx_cap;
    embedrt_v1_Envelope scratch;
    bool broken; /* protocol error or closed: every later call fails with broken_err */
    ert_error broken_err;
};

const char *ert_client_default_address(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int k = (xdg && *xdg) ? snprintf(buf, n, "%s/embedrtd.sock", xdg)
                          : snprintf(buf, n, "/tmp/embedrtd-%u.sock", (unsigned)getuid());
    if (k < 0 || (size_t)k >= n || (size_t)k >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return NULL;
    return buf;
}

ert_status ert_client_status_from_code(int code)
{
    switch (code) {
    case embedrt_v1_StatusCode_STATUS_OK: return ERT_OK;
    case embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT: return ERT_EINVAL;
    case embedrt_v1_StatusCode_STATUS_NOT_FOUND: return ERT_ENOTFOUND;
    case embedrt_v1_StatusCode_STATUS_FORMAT: return ERT_EFORMAT;
    case embedrt_v1_StatusCode_STATUS_UNSUPPORTED: return ERT_EUNSUPPORTED;
    case embedrt_v1_StatusCode_STATUS_IO: return ERT_EIO;
    case embedrt_v1_StatusCode_STATUS_RESOURCE: return ERT_ENOMEM;
    default: return ERT_EINTERNAL;
    }
}

int ert_client_code_from_status(ert_status s)
{
    switch (s) {
    case ERT_OK: return embedrt_v1_StatusCode_STATUS_OK;
    case ERT_EINVAL: return embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT;
    case ERT_ENOTFOUND: return embedrt_v1_StatusCode_STATUS_NOT_FOUND;
    case ERT_EFORMAT: return embedrt_v1_StatusCode_STATUS_FORMAT;
    case ERT_EUNSUPPORTED: return embedrt_v1_StatusCode_STATUS_UNSUPPORTED;
    case ERT_EIO: return embedrt_v1_StatusCode_STATUS_IO;
    case ERT_ENOMEM: return embedrt_v1_StatusCode_STATUS_RESOURCE;
    default: return embedrt_v1_StatusCode_STATUS_INTERNAL;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -1 (forever) stays -1; otherwise what is left of the deadline, >= 0. */
static int remaining(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - now_ms();
    return left < 0 ? 0 : (left > INT32_MAX ? INT32_MAX : (int)left);
}

static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static ert_status broken(ert_client *c, ert_error *err)
{
    if (err)
        *err = c->broken_err;
    return c->broken_err.code;
}

static ert_status breaks(ert_client *c, ert_error *err, ert_status code, const char *fmt, const char *detail)
{
    c->broken = true;
    ert_fail(&c->broken_err, code, fmt, c->addr, detail);
    return broken(c, err);
}

/* ---------------------------------------------------------------- connecting */

static ert_status connect_error(const char *addr, int e, ert_error *err)
{
    if (e == ENOENT)
        return ert_fail(err, ERT_EIO, "%s: no such socket - is embedrtd running?", addr);
    if (e == ECONNREFUSED)
        return ert_fail(err, ERT_EIO, "%s: connection refused - is embedrtd running?", addr);
    if (e == EACCES || e == EPERM)
        return ert_fail(err, ERT_EIO, "%s: permission denied (the socket is mode 0600: connect as the daemon's user)",
                        addr);
    if (e == ETIMEDOUT)
        return ert_fail(err, ERT_EIO, "%s: connection timed out", addr);
    return ert_fail(err, ERT_EIO, "%s: cannot connect: %s", addr, strerror(e));
}

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

static ert_status connect_unix(const char *addr, const char *path, int *fd, ert_error *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!*path)
        return ert_fail(err, ERT_EINVAL, "%s: empty socket path", addr);
    if (strlen(path) >= sizeof sa.sun_path)
        return ert_fail(err, ERT_EINVAL, "%s: socket path longer than %zu bytes", addr, sizeof sa.sun_path - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return ert_fail(err, ERT_EIO, "%s: socket: %s", addr, strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(s);
        return connect_error(addr, e, err);
    }
    *fd = s;
    return ERT_OK;
}

static ert_status connect_tcp(const char *addr, const char *hostport, int timeout_ms, int *fd, ert_error *err)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1])
        return ert_fail(err, ERT_EINVAL, "%s: expected tcp:HOST:PORT", addr);
    size_t hl = (size_t)(colon - hostport);
    if (hostport[0] == '[' && hl >= 2 && hostport[hl - 1] == ']') {
        hostport++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return ert_fail(err, ERT_EINVAL, "%s: host name too long", addr);
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, colon + 1, &hints, &res);
    if (g != 0)
        return ert_fail(err, ERT_EINVAL, "%s: cannot resolve: %s", addr, gai_strerror(g));
    int last = ECONNREFUSED;
    int64_t deadline = deadline_of(timeout_ms);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (s < 0) {
            last = errno;
            continue;
        }
        int r = connect(s, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            if (wait_fd(s, POLLOUT, remaining(deadline)) <= 0) {
                last = ETIMEDOUT;
            } else {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                r = soerr ? -1 : 0;
                last = soerr;
            }
        } else if (r != 0) {
            last = errno;
        }
        if (r == 0) {
            int one = 1;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            freeaddrinfo(res);
            *fd = s;
            return ERT_OK;
        }
        close(s);
    }
    freeaddrinfo(res);
    return connect_error(addr, last, err);
}

/* ---------------------------------------------------------------- I/O */

static ert_status write_all(ert_client *c, const uint8_t *p, size_t n, int64_t deadline, const char *what,
                            ert_error *err)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(c->fd, POLLOUT, remaining(deadline));
            if (r == 0)
                return ert_fail(err, ERT_EIO, "%s: timed out sending %s (the daemon does not read)", c->addr, what);
            continue;
        }
        return breaks(c, err, ERT_EIO, "%s: connection lost while sending: %s", strerror(errno));
    }
    return ERT_OK;
}

/* The next complete frame, reading as needed until deadline; *have = false on timeout. */
static ert_status next_frame(ert_client *c, int64_t deadline, const uint8_t **payload, size_t *len, bool *have,
                             ert_error *err)
{
    for (;;) {
        ert_error ferr;
        if (ert_wire_rx_frame(&c->rx, payload, len, have, &ferr) != ERT_OK)
            return breaks(c, err, ERT_EFORMAT, "%s: the daemon sent a bad frame: %s", ferr.msg);
        if (*have)
            return ERT_OK;
        int r = wait_fd(c->fd, POLLIN, remaining(deadline));
        if (r < 0)
            return ert_fail(err, ERT_EIO, "%s: poll: %s", c->addr, strerror(errno));
        if (r == 0)
            return ERT_OK; /* timeout */
        size_t avail;
        uint8_t *dst = ert_wire_rx_space(&c->rx, &avail);
        ssize_t n = recv(c->fd, dst, avail, 0);
        if (n == 0)
            return breaks(c, err, ERT_EIO, "%s: the daemon closed the connection%s", "");
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return breaks(c, err, ERT_EIO, "%s: connection lost: %s", strerror(errno));
        }
        ert_wire_rx_commit(&c->rx, (size_t)n);
    }
}

static ert_status enqueue(ert_client *c, const uint8_t *p, size_t n, ert_error *err)
{
    if (c->q_count == c->q_cap) { /* full: drop the oldest */
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_count--;
        c->dropped++;
    }
    slot *s = &c->q[(c->q_head + c->q_count) % c->q_cap];
    if (s->cap < n || !s->buf) {
        uint8_t *b = realloc(s->buf, n ? n : 1);
        if (!b)
            return ert_fail(err, ERT_ENOMEM, "%s: cannot queue an event of %zu bytes", c->addr, n);
        s->buf = b;
        s->cap = n ? n : 1;
    }
    memcpy(s->buf, p, n);
    s->len = n;
    c->q_count++;
    return ERT_OK;
}

/* ---------------------------------------------------------------- requests and events */

ert_status ert_client_request(ert_client *c, embedrt_v1_Envelope *env, const ert_wire_out *bulk, int timeout_ms,
                              ert_error *err)
{
    if (c->broken)
        return broken(c, err);
    const char *name = ert_wire_body_name(env->which_body);
    int64_t deadline = deadline_of(timeout_ms);
    env->seq = ++c->seq;
    uint64_t id = env->request_id = ++c->next_id;
    size_t size = ert_wire_encoded_size(env, bulk);
    if (size > c->tx_cap) {
        uint8_t *b = realloc(c->tx, size);
        if (!b)
            return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate %zu bytes for %s", c->addr, size, name);
        c->tx = b;
        c->tx_cap = size;
    }
    size_t len;
    ert_status st = ert_wire_encode(env, bulk, c->tx, c->tx_cap, &len, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "%s", c->addr), st;
    if ((st = write_all(c, c->tx, len, deadline, name, err)) != ERT_OK)
        return st;
    for (;;) {
        const uint8_t *p;
        size_t n;
        bool have;
        if ((st = next_frame(c, deadline, &p, &n, &have, err)) != ERT_OK)
            return st;
        if (!have)
            return ert_fail(err, ERT_EIO, "%s: no answer to %s (request_id %llu) within %d ms", c->addr, name,
                            (unsigned long long)id, timeout_ms);
        ert_error derr;
        if (ert_wire_decode(p, n, &c->scratch, NULL, &derr) != ERT_OK)
            return breaks(c, err, ERT_EFORMAT, "%s: the daemon sent a message that does not decode: %s", derr.msg);
        if (c->scratch.request_id == 0) {
            if ((st = enqueue(c, p, n, err)) != ERT_OK)
                return st;
            continue;
        }
        if (c->scratch.request_id != id)
            continue; /* the late answer of a request that timed out */
        *env = c->scratch;
        if (env->which_body == embedrt_v1_Envelope_error_tag)
            return ert_fail(err, ert_client_status_from_code(env->body.error.code), "%s: %s: %s", c->addr, name,
                            env->body.error.message);
        return ERT_OK;
    }
}

ert_status ert_client_next_event(ert_client *c, embedrt_v1_Envelope *env, ert_wire_views *views, int timeout_ms,
                                 bool *have, ert_error *err)
{
    *have = false;
    if (c->q_count) {
        /* Hand the slot's buffer out (views point into it) and keep the old one for reuse. */
        slot tmp = c->cur;
        c->cur = c->q[c->q_head];
        c->q[c->q_head] = tmp;
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_count--;
        ert_status st = ert_wire_decode(c->cur.buf, c->cur.len, env, views, err);
        if (st != ERT_OK)
            return ert_error_prefix(err, "%s", c->addr), st;
        *have = true;
        return ERT_OK;
    }
    if (c->broken)
        return broken(c, err);
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        const uint8_t *p;
        size_t n;
        bool got;
        ert_status st = next_frame(c, deadline, &p, &n, &got, err);
        if (st != ERT_OK || !got)
            return st;
        ert_error derr;
        if (ert_wire_decode(p, n, env, views, &derr) != ERT_OK)
            return breaks(c, err, ERT_EFORMAT, "%s: the daemon sent a message that does not decode: %s", derr.msg);
        if (env->request_id != 0)
            continue; /* the late answer of a request that timed out */
        *have = true;
        return ERT_OK;
    }
}

/* ---------------------------------------------------------------- lifecycle */

ert_status ert_client_connect(const char *addr, const ert_client_options *opt, ert_client **out, ert_error *err)
{
    *out = NULL;
    ert_client_options o = opt ? *opt : (ert_client_options){0};
    if (o.timeout_ms <= 0)
        o.timeout_ms = 5000;
    if (o.queue_depth == 0)
        o.queue_depth = 256;
    if (!o.node_name)
        o.node_name = "embedrt-client";
    char def[128];
    char shown[320];
    if (!addr) {
        if (!ert_client_default_address(def, sizeof def))
            return ert_fail(err, ERT_EINVAL, "default socket path ($XDG_RUNTIME_DIR/embedrtd.sock) is too long");
        snprintf(shown, sizeof shown, "unix:%s", def);
        addr = shown;
    } else if (strlen(addr) >= sizeof shown) {
        return ert_fail(err, ERT_EINVAL, "address '%.40s...' is too long", addr);
    } else {
        snprintf(shown, sizeof shown, "%s", addr);
    }
    int fd = -1;
    ert_status st;
    if (strncmp(shown, "tcp:", 4) == 0)
        st = connect_tcp(shown, shown + 4, o.timeout_ms, &fd, err);
    else
        st = connect_unix(shown, strncmp(shown, "unix:", 5) == 0 ? shown + 5 : shown, &fd, err);
    if (st != ERT_OK)
        return st;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);

    ert_client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate the client", shown);
    }
    c->fd = fd;
    memcpy(c->addr, shown, sizeof c->addr);
    c->q_cap = o.queue_depth;
    c->q = calloc(c->q_cap, sizeof *c->q);
    if (!c->q) {
        ert_client_close(c);
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate the event queue", shown);
    }
    if ((st = ert_wire_rx_init(&c->rx, o.max_frame, err)) != ERT_OK) {
        ert_client_close(c);
        return ert_error_prefix(err, "%s", shown), st;
    }

    embedrt_v1_Envelope *env = malloc(sizeof *env);
    if (!env) {
        ert_client_close(c);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", shown);
    }
    *env = (embedrt_v1_Envelope)embedrt_v1_Envelope_init_zero;
    env->which_body = embedrt_v1_Envelope_client_hello_tag;
    embedrt_v1_Hello *h = &env->body.client_hello.hello;
    env->body.client_hello.has_hello = true;
    h->protocol_version = 1;
    h->has_embedrt = true;
    h->embedrt.major = ERT_VERSION_MAJOR;
    h->embedrt.minor = ERT_VERSION_MINOR;
    h->embedrt.patch = ERT_VERSION_PATCH;
    snprintf(h->embedrt.describe, sizeof h->embedrt.describe, "%s", ert_version_git());
    snprintf(h->node_name, sizeof h->node_name, "%s", o.node_name);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    h->monotonic_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    st = ert_client_request(c, env, NULL, o.timeout_ms, err);
    if (st == ERT_OK && env->which_body != embedrt_v1_Envelope_capabilities_tag)
        st = ert_fail(err, ERT_EFORMAT, "%s: the daemon answered the hello with %s, not capabilities", shown,
                      ert_wire_body_name(env->which_body));
    if (st != ERT_OK) {
        free(env);
        ert_client_close(c);
        return st;
    }
    c->caps = env->body.capabilities;
    free(env);
    *out = c;
    return ERT_OK;
}

void ert_client_close(ert_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    ert_wire_rx_free(&c->rx);
    for (size_t i = 0; c->q && i < c->q_cap; i++)
        free(c->q[i].buf);
    free(c->q);
    free(c->cur.buf);
    free(c->tx);
    free(c);
}

const embedrt_v1_Capabilities *ert_client_capabilities(const ert_client *c)
{
    return &c->caps;
}

const char *ert_client_address(const ert_client *c)
{
    return c->addr;
}

uint64_t ert_client_dropped(const ert_client *c)
{
    return c->dropped;
}

int ert_client_fd(const ert_client *c)
{
    return c->fd;
}
