/* The transports and the I/O thread: a Unix socket listener (and an optional TCP one),
 * every client connection, envelope dispatch, and the signals (SIGTERM/SIGINT stop,
 * SIGHUP reload) - all on one thread with poll(). Client bytes are hostile: framing
 * errors and oversize frames get an Error and a close, malformed envelopes an Error
 * with the request id when it can be read. */
#ifndef ERT_DAEMON_SERVER_H
#define ERT_DAEMON_SERVER_H

#include <stdbool.h>

#include "config.h"
#include "pipeline.h"
#include "publisher.h"

typedef struct ert_server ert_server;

/* Binds the listeners (refusing to start if another daemon answers on the socket) and
 * takes over SIGTERM, SIGINT and SIGHUP (handled on the I/O thread through a self-pipe). */
ert_status ert_server_open(const ert_config *cfg, ert_server **out, ert_error *err);
/* The eventfd the publisher writes when a client queue becomes non-empty. */
int ert_server_wake_fd(const ert_server *s);

/* Called on SIGHUP; returns the pipeline to use from now on (the same one, reloaded). */
typedef ert_status (*ert_server_reload_fn)(void *ctx, ert_error *err);

/* Opens the controller links of the config ([link NAME], --link; ctl_link.h) once the
 * pipeline runs. A port that is not there yet is retried, not an error; a link whose
 * model cannot take grasp reports is. The server serves and closes them. */
ert_status ert_server_open_links(ert_server *s, ert_pipeline *pl, ert_pub *pub, ert_error *err);

/* Serves until SIGTERM/SIGINT, then sends Notice SHUTDOWN and flushes briefly. */
void ert_server_run(ert_server *s, ert_pipeline *pl, ert_pub *pub, ert_server_reload_fn reload, void *ctx);
/* Closes every connection and listener and unlinks the socket. */
void ert_server_close(ert_server *s);
/* Applies settings that can change at run time (stats interval). */
void ert_server_update(ert_server *s, const ert_config *cfg);

#endif
