/* The pipeline: a capture thread per camera filling a latest-frame slot, a worker thread
 * per session (model) consuming its cameras' newest frames and its bounded command
 * queue, and a loader thread that builds replacement sessions for LoadModel off the I/O
 * thread. Events go to the publisher; replies go to the requesting client only.
 * Steady state allocates nothing: frame buffers, scratch encoders and statistics rings
 * are sized when a camera or model starts. */
#ifndef ERT_DAEMON_PIPELINE_H
#define ERT_DAEMON_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "embedrt/status.h"
#include "embedrt/wire.h"
#include "publisher.h"

#define ERT_PIPE_CMD_QUEUE 16 /* pending session requests per model */

typedef struct ert_pipeline ert_pipeline;

/* Opens every source and loads every model of cfg; on failure nothing is left open. */
ert_status ert_pipeline_create(const ert_config *cfg, ert_pub *pub, ert_pipeline **out, ert_error *err);
/* Starts sources and threads. */
ert_status ert_pipeline_start(ert_pipeline *pl, ert_error *err);
/* Stops and joins every thread (sources stopped), then frees everything. */
void ert_pipeline_free(ert_pipeline *pl);

/* A session request (set_goal, clear_goal, reset_episode, load_demo, grasp_event) from
 * client `client`: payload is the request's encoded envelope (copied), env its decoding.
 * Requests naming no model go to the only model (set_goal, load_demo), the only
 * grasp2vec model (grasp_event) or every model (clear_goal, reset_episode: the daemon
 * acks). Fails (nothing queued) for an unknown model or a full queue; the caller replies
 * with the error. *acked tells whether the caller must send the Ack itself. */
ert_status ert_pipeline_request(ert_pipeline *pl, uint32_t client, const embedrt_v1_Envelope *env,
                                const uint8_t *payload, size_t len, bool *acked_by_caller, ert_error *err);
/* LoadModel: queued for the loader thread; the reply (Ack or Error) comes later. */
ert_status ert_pipeline_load_model(ert_pipeline *pl, uint32_t client, uint64_t request_id,
                                   const embedrt_v1_LoadModel *req, ert_error *err);

void ert_pipeline_capabilities(ert_pipeline *pl, embedrt_v1_Capabilities *out);
void ert_pipeline_stats(ert_pipeline *pl, embedrt_v1_Stats *out);

/* SIGHUP: applies a new configuration. Everything new (sources, models) is opened first;
 * on any failure the running pipeline is untouched and err says why. Unchanged cameras
 * and models keep running (and their goals); changed ones restart. */
ert_status ert_pipeline_reload(ert_pipeline *pl, const ert_config *cfg, ert_error *err);

/* Opens every source and model of cfg and prints one line each to f (--check-config). */
ert_status ert_pipeline_check(const ert_config *cfg, FILE *f, ert_error *err);

#endif
