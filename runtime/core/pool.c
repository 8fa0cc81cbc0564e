/* Condition-variable thread pool: a job is a range split into one chunk per thread;
 * workers sleep between jobs, so an idle embedrt costs no CPU. */
#include "embedrt/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ert_pool {
    int size;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation; /* bumped per job */
    int pending;              /* workers still busy with the current job */
    bool stop;
    /* current job */
    ert_task_fn fn;
    void *arg;
    size_t n, chunk;
    int parts;
};

typedef struct worker_arg {
    ert_pool *p;
    int id;
} worker_arg;

static void run_part(ert_pool *p, int part)
{
    size_t b = (size_t)part * p->chunk, e = b + p->chunk;
    if (e > p->n)
        e = p->n;
    if (b < e)
        p->fn(p->arg, b, e, part);
}

static void *worker(void *a)
{
    worker_arg *wa = a;
    ert_pool *p = wa->p;
    int id = wa->id;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        int parts = p->parts;
        pthread_mutex_unlock(&p->mu);
        if (id < parts)
            run_part(p, id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
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
    p->stop = true;
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
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = (n + parts - 1) / parts;
    p->parts = (int)parts;
    p->pending = p->size - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_part(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
