/* Frame pacing for replay and synthetic sources: absolute CLOCK_MONOTONIC deadlines,
 * interruptible by stop() (see source_internal.h for the rules). */
#include "source_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

ert_status ert_pacer_init(ert_pacer *p, double fps, const char *label, ert_error *err)
{
    memset(p, 0, sizeof *p);
    if (isnan(fps) || fps > 1e6)
        return ert_fail(err, ERT_EINVAL, "%s: frame rate %g is not a number in 0..1000000 (or < 0: unpaced)", label, fps);
    p->period_ns = fps > 0 ? (uint64_t)llround(1e9 / fps) : 0;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot create a condition variable", label);
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot create a monotonic condition variable (%s)", label, strerror(rc));
    if ((rc = pthread_mutex_init(&p->mu, NULL)) != 0) {
        pthread_cond_destroy(&p->cv);
        return ert_fail(err, ERT_ENOMEM, "%s: cannot create a mutex (%s)", label, strerror(rc));
    }
    return ERT_OK;
}

void ert_pacer_destroy(ert_pacer *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

void ert_pacer_restart(ert_pacer *p)
{
    pthread_mutex_lock(&p->mu);
    p->due_ns = 0;
    p->stopped = false;
    pthread_mutex_unlock(&p->mu);
}

void ert_pacer_stop(ert_pacer *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopped = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

bool ert_pacer_stopped(ert_pacer *p)
{
    pthread_mutex_lock(&p->mu);
    bool s = p->stopped;
    pthread_mutex_unlock(&p->mu);
    return s;
}

ert_pace_result ert_pacer_wait(ert_pacer *p, int timeout_ms, uint64_t *t_ns)
{
    pthread_mutex_lock(&p->mu);
    uint64_t now = ert_monotonic_ns();
    uint64_t limit = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * 1000000u;
    if (p->due_ns == 0)
        p->due_ns = now;
    for (;;) {
        if (p->stopped) {
            pthread_mutex_unlock(&p->mu);
            return ERT_PACE_STOPPED;
        }
        now = ert_monotonic_ns();
        if (now >= p->due_ns)
            break;
        if (now >= limit) {
            pthread_mutex_unlock(&p->mu);
            return ERT_PACE_TIMEOUT;
        }
        uint64_t wake = p->due_ns < limit ? p->due_ns : limit;
        struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u), .tv_nsec = (long)(wake % 1000000000u)};
        int rc = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        (void)rc; /* timeouts, wake-ups and EINTR all re-check the clock above */
    }
    p->due_ns += p->period_ns;
    if (p->due_ns <= now)
        p->due_ns = now + p->period_ns;
    *t_ns = now;
    pthread_mutex_unlock(&p->mu);
    return ERT_PACE_DUE;
}
