/* A controller's connection to embedrtd (proto/embedrt/v1/daemon.proto over a Unix or
 * TCP stream): hello/capabilities, requests answered by request id, and the event stream.
 * Single-threaded and poll()-based; events that arrive while a request waits for its
 * answer are queued (bounded: the oldest is dropped and counted). */
#ifndef EMBEDRT_CLIENT_H
#define EMBEDRT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"
#include "embedrt/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The daemon's default socket: $XDG_RUNTIME_DIR/embedrtd.sock, or /tmp/embedrtd-<uid>.sock
 * when XDG_RUNTIME_DIR is unset or empty. A bare path (no "unix:" prefix), so the daemon
 * binds it and clients connect to it. Returns buf, or NULL when it does not fit n bytes
 * or a Unix socket path (108 bytes). */
const char *ert_client_default_address(char *buf, size_t n);

typedef struct ert_client ert_client;

typedef struct ert_client_options {
    const char *node_name; /* ClientHello.hello.node_name; NULL: "embedrt-client" */
    int timeout_ms;        /* connect + hello; 0: 5000 */
    size_t queue_depth;    /* events kept while a request waits; 0: 256 */
    size_t max_frame;      /* largest frame accepted; 0: ERT_WIRE_MAX_FRAME */
} ert_client_options;

/* addr: "unix:/path", "tcp:host:port" (host may be [v6]) or a bare path; NULL: the
 * default address. Connects, sends ClientHello and waits for Capabilities. Errors name
 * the address: "unix:/run/x.sock: connection refused - is embedrtd running?". */
ert_status ert_client_connect(const char *addr, const ert_client_options *opt, ert_client **out, ert_error *err);
void ert_client_close(ert_client *c);

/* The daemon's answer to our hello, kept for the life of the connection. */
const embedrt_v1_Capabilities *ert_client_capabilities(const ert_client *c);
/* The address as given (or the default's "unix:" form). */
const char *ert_client_address(const ert_client *c);
/* Events dropped because the queue was full while a request waited. */
uint64_t ert_client_dropped(const ert_client *c);

/* Sends env (the caller sets the body; bulk may be NULL) with the next seq and a fresh
 * request_id, then waits up to timeout_ms (< 0: forever) for the response with that id.
 * On ERT_OK env holds the response (Ack, GoalSet, Capabilities, Stats...). An Error
 * response returns its code mapped to ert_status with "ADDR: BODY: <daemon message>",
 * and env holds the Error. Timeouts and a closed connection fail with ERT_EIO. */
ert_status ert_client_request(ert_client *c, embedrt_v1_Envelope *env, const ert_wire_out *bulk, int timeout_ms,
                              ert_error *err);

/* The next event (queued ones first), waiting up to timeout_ms (< 0: forever, 0: poll).
 * *have = false on timeout. views (may be NULL) point into the client's buffers and stay
 * valid until the next call on c. */
ert_status ert_client_next_event(ert_client *c, embedrt_v1_Envelope *env, ert_wire_views *views, int timeout_ms,
                                 bool *have, ert_error *err);

/* The socket, for callers that poll() several things; readable means call next_event. */
int ert_client_fd(const ert_client *c);

/* embedrt.v1.StatusCode <-> ert_status, as both ends map errors. */
ert_status ert_client_status_from_code(int code);
int ert_client_code_from_status(ert_status s);

#ifdef __cplusplus
}
#endif
#endif
