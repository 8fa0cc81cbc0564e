/* What the frame-source backends share inside runtime/camera: their open functions
 * (called by ert_source_open after the spec is split) and the pacer that turns a frame
 * rate into absolute CLOCK_MONOTONIC deadlines. */
#ifndef ERT_SOURCE_INTERNAL_H
#define ERT_SOURCE_INTERNAL_H

#include "embedrt/camera.h"
#include "embedrt/util.h"
#include "embedrt/source.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>


/* Paces hand-outs at a fixed rate from absolute deadlines: frame k is due at
 * t0 + k * period (t0: the first wait), so sleeping never accumulates drift. A consumer
 * that falls more than one period behind is not caught up with a burst: the schedule
 * restarts one period after the late hand-out. Waiting uses a condition variable on
 * CLOCK_MONOTONIC with absolute deadlines (like clock_nanosleep TIMER_ABSTIME) so that
 * stop() from another thread wakes a sleeping next(). */
typedef struct ert_pacer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t period_ns; /* 0: as fast as possible */
    uint64_t due_ns;    /* deadline of the next hand-out; 0 before the first */
    bool stopped;
} ert_pacer;

typedef enum ert_pace_result { ERT_PACE_DUE, ERT_PACE_TIMEOUT, ERT_PACE_STOPPED } ert_pace_result;

/* fps > 0: that rate; otherwise as fast as possible. */
ert_status ert_pacer_init(ert_pacer *p, double fps, const char *label, ert_error *err);
void ert_pacer_destroy(ert_pacer *p);
/* Back to "first frame due now", not stopped (start() after stop()). */
void ert_pacer_restart(ert_pacer *p);
void ert_pacer_stop(ert_pacer *p);
bool ert_pacer_stopped(ert_pacer *p);
/* Waits until the next frame is due (timeout_ms < 0: no limit). On ERT_PACE_DUE *t_ns is
 * the hand-out time and the schedule moves one period on. */
ert_pace_result ert_pacer_wait(ert_pacer *p, int timeout_ms, uint64_t *t_ns);

/* Backends: each fills *out (ops + state) or fails naming the spec. */
ert_status ert_replay_open(const char *path, const ert_source_config *cfg, ert_source *out, ert_error *err);
ert_status ert_synthetic_open(const char *args, const ert_source_config *cfg, ert_source *out, ert_error *err);

extern const ert_source_ops ert_replay_ops;
extern const ert_source_ops ert_synthetic_ops;
void ert_replay_stats(const void *state, ert_source_stats *out);
void ert_synthetic_stats(const void *state, ert_source_stats *out);

#endif
