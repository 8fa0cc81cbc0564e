/* Thread pool: a job is a range split into chunks the threads claim. While a run is in
 * progress (ert_pool_set_active), a worker that finished a job spins for at most
 * ERT_POOL_SPIN_NS watching for the next one, then sleeps on a condition variable: inside a
 * model run jobs follow each other within microseconds and a wake-up through the kernel
 * costs 20-70 us on a VM (measured). Outside a run nothing spins: an idle embedrt uses no
 * CPU. The caller waits for a job's end the same way. */
#include "embedrt/pool.h"
#include "embedrt/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How long a thread looks for work (or for the end of a job) before it sleeps. */
#define ERT_POOL_SPIN_NS 50000

struct ert_pool {
    int size;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ulong generation; /* bumped per job; workers take a job when it changes */
    atomic_int pending;      /* workers still busy with the current job */
    atomic_int sleepers;     /* workers asleep (or about to be) on `wake` */
    atomic_bool waiting;     /* the caller sleeps on `done` */
    atomic_bool active;      /* a run is in progress: workers may spin between its jobs */
    atomic_bool stop;
    /* current job: written before generation is bumped (release), read after it is seen (acquire) */
    ert_task_fn fn;
    void *arg;
    size_t n, chunk;
    int parts;
    atomic_size_t next; /* next chunk to claim */
};

typedef struct worker_arg {
    ert_pool *p;
    int id;
} worker_arg;

/* Claims chunks until none is left: a thread slowed down by the OS (or a neighbour on a
 * shared machine) takes fewer, instead of holding up the whole job. */
static void run_chunks(ert_pool *p, int worker)
{
    for (;;) {
        size_t c = atomic_fetch_add(&p->next, 1), b = c * p->chunk;
        if (b >= p->n)
            return;
        size_t e = p->n - b < p->chunk ? p->n : b + p->chunk;
        p->fn(p->arg, b, e, worker);
    }
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/* Spins until cond(p, x) holds or ERT_POOL_SPIN_NS pass; true when it holds. */
static bool spin_until(bool (*cond)(ert_pool *, unsigned long), ert_pool *p, unsigned long x)
{
    uint64_t t0 = 0;
    for (unsigned i = 0;; i++) {
        if (cond(p, x))
            return true;
        cpu_relax();
        if ((i & 63) == 63) {
            uint64_t t = ert_monotonic_ns();
            if (!t0)
                t0 = t;
            else if (t - t0 > ERT_POOL_SPIN_NS)
                return false;
        }
    }
}

static bool new_job(ert_pool *p, unsigned long seen)
{
    return atomic_load(&p->generation) != seen || atomic_load(&p->stop);
}

/* Stop spinning when a job arrives, or at once when no run is in progress. */
static bool job_or_idle(ert_pool *p, unsigned long seen)
{
    return new_job(p, seen) || !atomic_load(&p->active);
}

static bool job_done(ert_pool *p, unsigned long unused)
{
    (void)unused;
    return atomic_load(&p->pending) == 0;
}

static void *worker(void *a)
{
    worker_arg *wa = a;
    ert_pool *p = wa->p;
    int id = wa->id;
    free(wa);
    unsigned long seen = 0;
    for (;;) {
        if (!spin_until(job_or_idle, p, seen) || !new_job(p, seen)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            /* seq_cst: either the caller's bump is seen here, or it sees sleepers > 0 and
             * broadcasts under the mutex, after this thread waits. */
            while (!new_job(p, seen))
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            break;
        seen = atomic_load(&p->generation);
        if (id < p->parts)
            run_chunks(p, id);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

ert_status ert_pool_create(int threads, ert_pool **out, ert_error *err)
{
    *out = NULL;
    if (threads < 1 || threads > 256)
        return ert_fail(err, ERT_EINVAL, "thread pool: %d threads requested (1..256)", threads);
    ert_pool *p = calloc(1, sizeof *p);
    if (!p)
        return ert_fail(err, ERT_ENOMEM, "thread pool: out of memory");
    p->size = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->threads = calloc((size_t)threads, sizeof *p->threads);
        if (!p->threads) {
            ert_pool_destroy(p);
            return ert_fail(err, ERT_ENOMEM, "thread pool: out of memory");
        }
        for (int i = 1; i < threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (wa) {
                wa->p = p;
                wa->id = i;
            }
            if (!wa || pthread_create(&p->threads[i], NULL, worker, wa) != 0) {
                free(wa);
                p->size = i; /* destroy joins the ones that started */
                ert_pool_destroy(p);
                return ert_fail(err, ERT_ENOMEM, "thread pool: cannot start thread %d of %d", i, threads);
            }
        }
    }
    *out = p;
    return ERT_OK;
}

void ert_pool_destroy(ert_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->size && p->threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

void ert_pool_set_active(ert_pool *p, bool active)
{
    if (p)
        atomic_store(&p->active, active);
}

int ert_pool_size(const ert_pool *p)
{
    return p ? p->size : 1;
}

void ert_pool_run(ert_pool *p, size_t n, size_t grain, ert_task_fn fn, void *arg)
{
    if (n == 0)
        return;
    if (grain == 0)
        grain = 1;
    size_t parts = p ? (size_t)p->size : 1;
    if (parts > n / grain)
        parts = n / grain;
    if (parts <= 1) {
        fn(arg, 0, n, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    /* Four chunks per thread when the grain allows, else one. */
    size_t chunk = (n + 4 * parts - 1) / (4 * parts);
    if (chunk < grain)
        chunk = (n + parts - 1) / parts;
    p->chunk = chunk;
    p->parts = (int)parts;
    atomic_store(&p->next, 0);
    atomic_store(&p->pending, p->size - 1);
    atomic_fetch_add(&p->generation, 1); /* publishes the job (seq_cst) */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    run_chunks(p, 0);
    if (!spin_until(job_done, p, 0)) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->waiting, true);
        /* seq_cst: a worker finishing now either sees waiting and signals under the mutex
         * (after this thread waits), or its decrement is seen here. */
        while (atomic_load(&p->pending) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->waiting, false);
        pthread_mutex_unlock(&p->mu);
    }
}
