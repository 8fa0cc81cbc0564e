/* embedrt's one owner of threads: a fixed pool of workers that sleep on a condition
 * variable; only between the jobs of a run in progress (ert_pool_set_active) do they watch
 * for the next job, for at most 50 us, before sleeping (no idle spinning). Kernels split
 * work with ert_pool_run; OpenBLAS is kept single-threaded so the two never oversubscribe
 * the cores. */
#ifndef EMBEDRT_POOL_H
#define EMBEDRT_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ert_pool ert_pool;

/* Work on [begin, end) of a job's range; worker is 0..size-1 (0 = the calling thread). */
typedef void (*ert_task_fn)(void *arg, size_t begin, size_t end, int worker);

/* A pool of `threads` (>= 1) including the caller: threads - 1 workers are started. */
ert_status ert_pool_create(int threads, ert_pool **out, ert_error *err);
void ert_pool_destroy(ert_pool *p);
/* Marks a run (a sequence of jobs, e.g. one model run) as in progress or over. While
 * active, workers spin up to 50 us between jobs instead of sleeping at once; set it false
 * when the run ends so that nothing spins while embedrt is idle. NULL pool: no-op. */
void ert_pool_set_active(ert_pool *p, bool active);

/* Threads that take part in a job (1 for a NULL pool). */
int ert_pool_size(const ert_pool *p);

/* Runs fn over [0, n) and returns when all is done. min(size, n / grain) threads take
 * part; the range is cut into contiguous chunks (four per thread when each still has
 * `grain` items, else one per thread) that the threads claim one after another, so a
 * worker may call fn several times, always with its own worker id. With a NULL pool, one
 * thread, or n < 2 * grain, fn runs once inline on the caller's thread. Not reentrant:
 * one job at a time per pool. */
void ert_pool_run(ert_pool *p, size_t n, size_t grain, ert_task_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
