/* Controller links: embedrtd's side of proto/embedrt/v1/link.proto. A microcontroller
 * (gripper/arm) on a serial line (termios raw mode) or a Unix socket (QEMU's
 * -serial unix:...,server=on) runs firmware/core's ert_link; the daemon runs the same core.
 *
 * Mapping, both directions (the link is a client of the daemon like any other):
 *   MCU GraspReport CLOSED   -> GraspEvent PRE     (the pre-grasp scene is captured now)
 *   MCU GraspReport LIFTED   -> GraspEvent LIFTED  (success: scene-difference and outcome
 *                                                   rewards; failure: grasp_failed)
 *   MCU GraspReport RELEASED -> GraspEvent RELEASED
 *   Reward with a grasp_id of the link's model -> RewardReport (reliable)
 *   Notice GOAL_CHANGED of the link's model, link up, MCU restart -> GoalStatus (reliable)
 * A grasp report the model refuses (no goal, no frame yet) is logged with the reason and
 * counted in LinkState.errors; the MCU gets no reward for it.
 *
 * Everything runs on the daemon's I/O thread (server.c polls the fd and calls tick). A
 * missing tty or socket is retried every reconnect_ms; the link state and its queued
 * reliable messages survive reconnects. */
#ifndef ERT_DAEMON_CTL_LINK_H
#define ERT_DAEMON_CTL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "embedrt/status.h"
#include "pipeline.h"
#include "publisher.h"

typedef struct ert_ctl ert_ctl;

/* Resolves the link's model against the pipeline (must be grasp2vec), becomes a publisher
 * client (rewards of that model, notices, replies) and tries to open the port once (a
 * missing port is not an error: it is retried). Nothing is left behind on failure. */
ert_status ert_ctl_create(const ert_cfg_link *cfg, ert_pipeline *pl, ert_pub *pub, ert_ctl **out, ert_error *err);
void ert_ctl_free(ert_ctl *c);
const ert_cfg_link *ert_ctl_config(const ert_ctl *c);

/* The fd to poll for input (-1 while the port is closed). */
int ert_ctl_fd(const ert_ctl *c);
/* Input is ready (hangup: poll reported POLLHUP/POLLERR): reads everything, feeds the
 * link, closes the port (to be reopened) when it is gone. */
void ert_ctl_readable(ert_ctl *c, bool hangup);
/* Timers (heartbeats, retransmissions, link-down, reconnect) and the daemon's events
 * queued for the link. Call on every poll round; returns the ms until the next timer. */
int ert_ctl_tick(ert_ctl *c);

/* For Stats. */
void ert_ctl_state(const ert_ctl *c, embedrt_v1_LinkState *out);

#endif
