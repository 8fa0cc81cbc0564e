/* Cameras, latest-frame slots, session workers, the model loader and hot reload.
 *
 * One mutex (pl->mu) guards the slots, the command queues and the statistics: every
 * critical section is a few assignments, the heavy work (frame copies, inference,
 * encoding) runs outside it. A camera keeps NBUF frame buffers with reference counts;
 * a worker holds at most one buffer per camera, so a free buffer always exists for the
 * capture thread, which never waits for inference. */
#include "pipeline.h"

#include "embedrt/util.h"
#include "embedrt/source.h"
#include "embedrt/version.h"
#include "log.h"
#include "session.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBUF (ERT_CFG_MAX_MODELS + 2)
#define LAT_RING 1024
#define POLL_SLICE_MS 100
#define LOAD_QUEUE 4

/* ---------------------------------------------------------------- types */

typedef struct fbuf {
    uint8_t *mem;
    size_t cap;
    ert_frame f;
    int refs;
} fbuf;

typedef struct camera {
    ert_pipeline *pl;
    ert_cfg_camera cfg;
    ert_source src;
    ert_source_info info;
    fbuf bufs[NBUF];
    int latest;            /* index into bufs, -1 before the first frame */
    bool latest_taken;
    uint64_t published;    /* frames put into the slot */
    uint64_t frames_in, dropped, stalls;
    bool stalled, ended;
    pthread_t th;
    bool running;
    atomic_bool stop;
    pthread_cond_t taken;  /* a worker is idle and the slot's frame taken (paces replays at fps=max) */
    int idle_workers;      /* bound workers waiting for a frame */
    uint8_t scratch[1024]; /* notices */
} camera;

typedef struct lat_ring {
    uint32_t v[LAT_RING]; /* microseconds */
    uint32_t n, at;
} lat_ring;

typedef struct cmd {
    uint32_t client;      /* 0: reply discarded (a request sent to every model; the I/O side acked) */
    size_t len;
    uint8_t payload[];
} cmd;

typedef struct worker {
    ert_pipeline *pl;
    ert_cfg_model cfg;
    ert_session *sess;
    camera *cams[ERT_CFG_MAX_MODEL_CAMERAS];
    size_t n_cams;
    uint64_t seen[ERT_CFG_MAX_MODEL_CAMERAS];
    size_t rr;
    pthread_t th;
    bool running, stop;
    pthread_cond_t cv;
    cmd *q[ERT_PIPE_CMD_QUEUE];
    size_t q_head, q_count;
    ert_session *swap_in;
    uint32_t swap_client;
    uint64_t swap_req;
    char swap_blob[ERT_CFG_PATH_MAX];
    /* worker thread only */
    uint32_t cur_client;
    embedrt_v1_Envelope *req;
    uint8_t *scratch;
    embedrt_v1_Envelope *note;
    /* under pl->mu */
    embedrt_v1_ModelInfo info;
    uint64_t frames_out[ERT_CFG_MAX_MODEL_CAMERAS], drops[ERT_CFG_MAX_MODEL_CAMERAS];
    lat_ring lat[ERT_CFG_MAX_MODEL_CAMERAS], infer[ERT_CFG_MAX_MODEL_CAMERAS];
} worker;

typedef struct load_job {
    uint32_t client;
    uint64_t request_id;
    char model[ERT_CFG_NAME_MAX];
    char blob[ERT_CFG_PATH_MAX];
} load_job;

struct ert_pipeline {
    pthread_mutex_t mu;
    ert_pub *pub;
    ert_config cfg;
    camera *cams[ERT_CFG_MAX_CAMERAS];
    size_t n_cams;
    worker *workers[ERT_CFG_MAX_MODELS];
    size_t n_workers;
    uint64_t t_start;
    /* loader */
    pthread_t loader;
    bool loader_running, loader_stop;
    pthread_cond_t loader_cv;
    load_job jobs[LOAD_QUEUE];
    size_t job_head, job_count;
    embedrt_v1_Envelope *loader_env;
    uint8_t loader_buf[1024];
};

/* ---------------------------------------------------------------- frames */

/* Packed size of a frame's planes (row bytes and rows from frame.h); 0 for an unknown format. */
static size_t plane_bytes(ert_pixfmt fmt, uint32_t w, uint32_t h, size_t rows[3], size_t row_bytes[3])
{
    size_t total = 0;
    for (int p = 0; p < 3; p++) {
        row_bytes[p] = ert_pixfmt_row_bytes(fmt, w, p);
        rows[p] = row_bytes[p] ? ert_pixfmt_plane_rows(fmt, h, p) : 0;
        total += row_bytes[p] * rows[p];
    }
    return total;
}

/* Copies f into b with packed strides; false when it does not fit the buffer sized at start. */
static bool copy_frame(fbuf *b, const ert_frame *f)
{
    size_t rows[3], rb[3];
    size_t total = plane_bytes(f->format, f->width, f->height, rows, rb);
    if (total == 0 || total > b->cap)
        return false;
    uint8_t *dst = b->mem;
    b->f = *f;
    for (int p = 0; p < 3; p++) {
        b->f.plane[p] = NULL;
        b->f.stride[p] = 0;
        if (!rows[p])
            continue;
        if (!f->plane[p] || f->stride[p] < rb[p])
            return false;
        b->f.plane[p] = dst;
        b->f.stride[p] = (uint32_t)rb[p];
        for (size_t y = 0; y < rows[p]; y++)
            memcpy(dst + y * rb[p], f->plane[p] + y * (size_t)f->stride[p], rb[p]);
        dst += rb[p] * rows[p];
    }
    return true;
}

/* ---------------------------------------------------------------- notices */

static void notice(ert_pipeline *pl, embedrt_v1_Envelope *env, uint8_t *buf, size_t cap, embedrt_v1_Notice_Kind kind,
                   const char *subject, uint64_t count, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static void notice(ert_pipeline *pl, embedrt_v1_Envelope *env, uint8_t *buf, size_t cap, embedrt_v1_Notice_Kind kind,
                   const char *subject, uint64_t count, const char *fmt, ...)
{
    memset(env, 0, sizeof *env);
    env->which_body = embedrt_v1_Envelope_notice_tag;
    env->body.notice.kind = kind;
    env->body.notice.count = count;
    ert_str_copy(env->body.notice.subject, sizeof env->body.notice.subject, subject);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(env->body.notice.message, sizeof env->body.notice.message, fmt, ap);
    va_end(ap);
    const uint8_t *p;
    size_t n;
    ert_error err;
    if (ert_pub_encode(env, NULL, buf, cap, &p, &n, &err) == ERT_OK)
        ert_pub_broadcast(pl->pub, p, n);
    else
        ert_log(ERT_LOG_ERROR, "notice for '%s': %s", subject, err.msg);
}

/* ---------------------------------------------------------------- cameras */

static void camera_close(camera *c)
{
    if (!c)
        return;
    ert_source_close(&c->src);
    for (int i = 0; i < NBUF; i++)
        free(c->bufs[i].mem);
    pthread_cond_destroy(&c->taken);
    free(c);
}

static ert_status camera_open(ert_pipeline *pl, const ert_cfg_camera *cfg, camera **out, ert_error *err)
{
    camera *c = calloc(1, sizeof *c);
    if (!c)
        return ert_fail(err, ERT_ENOMEM, "camera '%s': out of memory", cfg->name);
    c->pl = pl;
    c->cfg = *cfg;
    c->latest = -1;
    pthread_cond_init(&c->taken, NULL);
    ert_source_config sc = {.width = cfg->width, .height = cfg->height, .format = cfg->format, .fps = cfg->fps,
                            .loop = cfg->loop};
    ert_status st = ert_source_open(cfg->source, &sc, &c->src, err);
    if (st != ERT_OK) {
        ert_error_prefix(err, "camera '%s'", cfg->name);
        free(c);
        return st;
    }
    ert_source_get_info(&c->src, &c->info);
    size_t rows[3], rb[3];
    size_t bytes = plane_bytes(c->info.format, c->info.width, c->info.height, rows, rb);
    if (bytes == 0) {
        ert_fail(err, ERT_EUNSUPPORTED, "camera '%s': source %s reports %ux%u %s frames", cfg->name, cfg->source,
                 c->info.width, c->info.height, ert_pixfmt_name(c->info.format));
        camera_close(c);
        return ERT_EUNSUPPORTED;
    }
    for (int i = 0; i < NBUF; i++) {
        c->bufs[i].mem = malloc(bytes);
        c->bufs[i].cap = bytes;
        if (!c->bufs[i].mem) {
            camera_close(c);
            return ert_fail(err, ERT_ENOMEM, "camera '%s': cannot allocate %d frame buffers of %zu bytes", cfg->name,
                            NBUF, bytes);
        }
    }
    *out = c;
    return ERT_OK;
}

static void wake_workers_of(ert_pipeline *pl, camera *c)
{
    for (size_t i = 0; i < pl->n_workers; i++)
        for (size_t j = 0; j < pl->workers[i]->n_cams; j++)
            if (pl->workers[i]->cams[j] == c)
                pthread_cond_signal(&pl->workers[i]->cv);
}

static void *capture_main(void *arg)
{
    camera *c = arg;
    ert_pipeline *pl = c->pl;
    embedrt_v1_Envelope *env = calloc(1, sizeof *env);
    uint64_t last = ert_monotonic_ns();
    uint32_t errors = 0;
    while (env && !atomic_load(&c->stop)) {
        if (c->cfg.fps < 0) {
            /* "As fast as possible" means as fast as the models take frames: the next frame
             * is read when a model waits for one (or after half the watchdog), so that frames
             * nobody will see do not steal the cores inference runs on, and the frame a
             * model gets is fresh. */
            pthread_mutex_lock(&pl->mu);
            if (c->latest >= 0 && !(c->latest_taken && c->idle_workers > 0)) {
                struct timespec until;
                clock_gettime(CLOCK_REALTIME, &until);
                uint32_t wait_ms = c->cfg.watchdog_ms / 2 > POLL_SLICE_MS ? c->cfg.watchdog_ms / 2 : POLL_SLICE_MS;
                until.tv_sec += wait_ms / 1000;
                until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
                if (until.tv_nsec >= 1000000000L) {
                    until.tv_sec++;
                    until.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&c->taken, &pl->mu, &until);
            }
            pthread_mutex_unlock(&pl->mu);
        }
        ert_frame f;
        ert_source_result res = ERT_SOURCE_TIMEOUT;
        ert_error err;
        int slice = c->cfg.watchdog_ms < POLL_SLICE_MS ? (int)c->cfg.watchdog_ms : POLL_SLICE_MS;
        ert_status st = ert_source_next(&c->src, slice, &f, &res, &err);
        if (st != ERT_OK) {
            if (errors++ % 100 == 0)
                ert_log(ERT_LOG_WARN, "camera '%s': %s", c->cfg.name, err.msg);
            usleep(10000);
            res = ERT_SOURCE_TIMEOUT;
        }
        uint64_t t = ert_monotonic_ns();
        if (res == ERT_SOURCE_TIMEOUT) {
            if (!c->stalled && t - last >= (uint64_t)c->cfg.watchdog_ms * 1000000u) {
                pthread_mutex_lock(&pl->mu);
                c->stalled = true;
                uint64_t n = ++c->stalls;
                pthread_mutex_unlock(&pl->mu);
                ert_log(ERT_LOG_WARN, "camera '%s': no frame for %u ms (stall %llu)", c->cfg.name,
                        c->cfg.watchdog_ms, (unsigned long long)n);
                notice(pl, env, c->scratch, sizeof c->scratch, embedrt_v1_Notice_Kind_KIND_CAMERA_STALL, c->cfg.name,
                       n, "camera '%s': no frame for %u ms", c->cfg.name, c->cfg.watchdog_ms);
            }
            continue;
        }
        if (res == ERT_SOURCE_END) {
            pthread_mutex_lock(&pl->mu);
            c->ended = true;
            uint64_t n = c->frames_in;
            pthread_mutex_unlock(&pl->mu);
            ert_log(ERT_LOG_INFO, "camera '%s': end of stream after %llu frames", c->cfg.name, (unsigned long long)n);
            notice(pl, env, c->scratch, sizeof c->scratch, embedrt_v1_Notice_Kind_KIND_CAMERA_END, c->cfg.name, n,
                   "camera '%s': end of stream after %llu frames (the daemon keeps serving)", c->cfg.name,
                   (unsigned long long)n);
            break;
        }
        last = t;
        if (c->stalled) {
            pthread_mutex_lock(&pl->mu);
            c->stalled = false;
            uint64_t n = c->stalls;
            pthread_mutex_unlock(&pl->mu);
            ert_log(ERT_LOG_INFO, "camera '%s': frames again", c->cfg.name);
            notice(pl, env, c->scratch, sizeof c->scratch, embedrt_v1_Notice_Kind_KIND_CAMERA_RECOVERED, c->cfg.name,
                   n, "camera '%s': frames again", c->cfg.name);
        }
        /* A buffer nobody holds and that is not the slot's: always exists (NBUF > holders + 1). */
        pthread_mutex_lock(&pl->mu);
        int free_i = -1;
        for (int i = 0; i < NBUF && free_i < 0; i++)
            if (i != c->latest && c->bufs[i].refs == 0)
                free_i = i;
        c->frames_in++;
        pthread_mutex_unlock(&pl->mu);
        if (free_i < 0 || !copy_frame(&c->bufs[free_i], &f)) {
            pthread_mutex_lock(&pl->mu);
            c->dropped++;
            pthread_mutex_unlock(&pl->mu);
            if (errors++ % 100 == 0)
                ert_log(ERT_LOG_WARN, "camera '%s': frame %llu (%ux%u %s) does not match the source's announced "
                        "format; dropped", c->cfg.name, (unsigned long long)f.seq, f.width, f.height,
                        ert_pixfmt_name(f.format));
            continue;
        }
        pthread_mutex_lock(&pl->mu);
        if (c->latest >= 0 && !c->latest_taken)
            c->dropped++;
        c->latest = free_i;
        c->latest_taken = false;
        c->published++;
        wake_workers_of(pl, c);
        pthread_mutex_unlock(&pl->mu);
    }
    ert_source_stop(&c->src);
    free(env);
    return NULL;
}

/* ---------------------------------------------------------------- stats */

static void lat_add(lat_ring *r, uint64_t ns)
{
    uint64_t us = ns / 1000;
    r->v[r->at] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    r->at = (r->at + 1) % LAT_RING;
    if (r->n < LAT_RING)
        r->n++;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentile q in [0,1] of the ring in ms; tmp holds LAT_RING values. */
static double lat_pct(const lat_ring *r, double q, uint32_t *tmp)
{
    if (r->n == 0)
        return 0;
    memcpy(tmp, r->v, r->n * sizeof tmp[0]);
    qsort(tmp, r->n, sizeof tmp[0], cmp_u32);
    size_t i = (size_t)ceil(q * r->n);
    i = i == 0 ? 0 : i - 1;
    if (i >= r->n)
        i = r->n - 1;
    return tmp[i] / 1000.0;
}

/* ---------------------------------------------------------------- workers */

static void emit(void *ctx, const embedrt_v1_Envelope *env, const ert_wire_out *bulk)
{
    worker *w = ctx;
    const uint8_t *p;
    size_t n;
    ert_error err;
    if (ert_pub_encode(env, bulk, w->scratch, ERT_PUB_MAX_EVENT, &p, &n, &err) != ERT_OK) {
        ert_log(ERT_LOG_ERROR, "model '%s': cannot encode a %s event: %s", w->cfg.name,
                ert_wire_body_name(env->which_body), err.msg);
        return;
    }
    switch (env->which_body) {
    case embedrt_v1_Envelope_embedding_tag:
        ert_pub_event(w->pl->pub, embedrt_v1_Stream_STREAM_EMBEDDINGS, env->body.embedding.model,
                      env->body.embedding.camera, p, n);
        return;
    case embedrt_v1_Envelope_reward_tag:
        ert_pub_event(w->pl->pub, embedrt_v1_Stream_STREAM_REWARDS, env->body.reward.model, env->body.reward.camera, p,
                      n);
        return;
    case embedrt_v1_Envelope_heatmap_tag:
        ert_pub_event(w->pl->pub, embedrt_v1_Stream_STREAM_HEATMAPS, env->body.heatmap.model,
                      env->body.heatmap.camera, p, n);
        return;
    case embedrt_v1_Envelope_notice_tag: ert_pub_broadcast(w->pl->pub, p, n); return;
    default: break;
    }
    /* Replies (Ack, Error, GoalSet) go to the requester only. */
    if (w->cur_client)
        ert_pub_send_to(w->pl->pub, w->cur_client, p, n);
    else if (env->which_body == embedrt_v1_Envelope_error_tag)
        ert_log(ERT_LOG_WARN, "model '%s': %s", w->cfg.name, env->body.error.message);
}

static void refresh_info(worker *w)
{
    embedrt_v1_ModelInfo info;
    memset(&info, 0, sizeof info);
    ert_session_info(w->sess, &info);
    pthread_mutex_lock(&w->pl->mu);
    w->info = info;
    pthread_mutex_unlock(&w->pl->mu);
}

/* Called with pl->mu held: takes the slot's newest frame of camera c. */
static fbuf *acquire(camera *c, uint64_t *published)
{
    if (c->latest < 0)
        return NULL;
    fbuf *b = &c->bufs[c->latest];
    b->refs++;
    c->latest_taken = true;
    if (published)
        *published = c->published;
    return b;
}

static camera *find_camera(ert_pipeline *pl, const char *name)
{
    for (size_t i = 0; i < pl->n_cams; i++)
        if (strcmp(pl->cams[i]->cfg.name, name) == 0)
            return pl->cams[i];
    return NULL;
}

static void run_command(worker *w, cmd *c)
{
    ert_pipeline *pl = w->pl;
    ert_wire_views views;
    ert_error err;
    if (ert_wire_decode(c->payload, c->len, w->req, &views, &err) != ERT_OK) {
        ert_log(ERT_LOG_ERROR, "model '%s': a queued request no longer decodes: %s", w->cfg.name, err.msg);
        return;
    }
    ert_session_frames frames;
    memset(&frames, 0, sizeof frames);
    fbuf *held[ERT_CFG_MAX_MODEL_CAMERAS + 1] = {0};
    pthread_mutex_lock(&pl->mu);
    for (size_t i = 0; i < w->n_cams; i++)
        if ((held[i] = acquire(w->cams[i], NULL)))
            frames.latest[i] = &held[i]->f;
    if (w->req->which_body == embedrt_v1_Envelope_set_goal_tag &&
        w->req->body.set_goal.which_source == embedrt_v1_SetGoal_camera_tag) {
        camera *sc = find_camera(pl, w->req->body.set_goal.source.camera);
        if (sc && (held[ERT_CFG_MAX_MODEL_CAMERAS] = acquire(sc, NULL)))
            frames.snapshot = &held[ERT_CFG_MAX_MODEL_CAMERAS]->f;
    }
    pthread_mutex_unlock(&pl->mu);
    w->cur_client = c->client;
    ert_session_emit em = {emit, w};
    ert_session_command(w->sess, w->req, &views, &frames, &em, &err);
    w->cur_client = 0;
    pthread_mutex_lock(&pl->mu);
    for (size_t i = 0; i <= ERT_CFG_MAX_MODEL_CAMERAS; i++)
        if (held[i])
            held[i]->refs--;
    pthread_mutex_unlock(&pl->mu);
}

static void send_reply_error(ert_pipeline *pl, embedrt_v1_Envelope *env, uint8_t *buf, size_t cap, uint32_t client,
                             uint64_t request_id, const ert_error *e);

static void do_swap(worker *w, ert_session *fresh, uint32_t client, uint64_t req, const char *blob)
{
    size_t lost = ert_session_adopt_state(fresh, w->sess);
    ert_session *old = w->sess;
    w->sess = fresh;
    ert_session_free(old);
    pthread_mutex_lock(&w->pl->mu);
    ert_str_copy(w->cfg.blob, sizeof w->cfg.blob, blob);
    pthread_mutex_unlock(&w->pl->mu);
    refresh_info(w);
    ert_log(ERT_LOG_INFO, "model '%s': now %s (generation %u)%s", w->cfg.name, blob, (unsigned)w->info.generation,
            lost ? "; some client state no longer fits and was dropped" : "");
    memset(w->note, 0, sizeof *w->note);
    w->note->request_id = req;
    w->note->which_body = embedrt_v1_Envelope_ack_tag;
    const uint8_t *p;
    size_t n;
    if (client && ert_pub_encode(w->note, NULL, w->scratch, ERT_PUB_MAX_EVENT, &p, &n, NULL) == ERT_OK)
        ert_pub_send_to(w->pl->pub, client, p, n);
    notice(w->pl, w->note, w->scratch, ERT_PUB_MAX_EVENT, embedrt_v1_Notice_Kind_KIND_MODEL_SWAPPED, w->cfg.name,
           lost, "model '%s' now runs %s (generation %u)", w->cfg.name, blob, (unsigned)w->info.generation);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    ert_pipeline *pl = w->pl;
    ert_session_emit em = {emit, w};
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        if (w->stop)
            break;
        if (w->swap_in) {
            ert_session *fresh = w->swap_in;
            uint32_t client = w->swap_client;
            uint64_t req = w->swap_req;
            char blob[ERT_CFG_PATH_MAX];
            ert_str_copy(blob, sizeof blob, w->swap_blob);
            w->swap_in = NULL;
            pthread_mutex_unlock(&pl->mu);
            do_swap(w, fresh, client, req, blob);
            pthread_mutex_lock(&pl->mu);
            continue;
        }
        if (w->q_count) {
            cmd *c = w->q[w->q_head];
            w->q_head = (w->q_head + 1) % ERT_PIPE_CMD_QUEUE;
            w->q_count--;
            pthread_mutex_unlock(&pl->mu);
            run_command(w, c);
            free(c);
            pthread_mutex_lock(&pl->mu);
            continue;
        }
        bool did = false;
        for (size_t k = 0; k < w->n_cams && !did; k++) {
            size_t ci = (w->rr + k) % w->n_cams;
            camera *c = w->cams[ci];
            if (c->published <= w->seen[ci] || c->latest < 0)
                continue;
            uint64_t pub_n;
            fbuf *b = acquire(c, &pub_n);
            if (w->seen[ci] && pub_n > w->seen[ci] + 1)
                w->drops[ci] += pub_n - w->seen[ci] - 1;
            w->seen[ci] = pub_n;
            w->rr = ci + 1;
            pthread_mutex_unlock(&pl->mu);
            uint64_t t0 = ert_monotonic_ns();
            ert_error err;
            ert_status st = ert_session_frame(w->sess, ci, &b->f, &em, &err);
            uint64_t t1 = ert_monotonic_ns();
            if (st != ERT_OK)
                ert_log(ERT_LOG_WARN, "model '%s': camera '%s' frame %llu: %s", w->cfg.name, c->cfg.name,
                        (unsigned long long)b->f.seq, err.msg);
            pthread_mutex_lock(&pl->mu);
            b->refs--;
            if (st == ERT_OK) {
                w->frames_out[ci]++;
                lat_add(&w->lat[ci], t1 > b->f.t_capture_ns ? t1 - b->f.t_capture_ns : 0);
                lat_add(&w->infer[ci], t1 - t0);
            }
            did = true;
        }
        if (!did) {
            for (size_t k = 0; k < w->n_cams; k++) {
                w->cams[k]->idle_workers++;
                if (w->cams[k]->latest_taken || w->cams[k]->latest < 0)
                    pthread_cond_signal(&w->cams[k]->taken);
            }
            pthread_cond_wait(&w->cv, &pl->mu);
            for (size_t k = 0; k < w->n_cams; k++)
                w->cams[k]->idle_workers--;
        }
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

static void worker_free(worker *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->q_count; i++)
        free(w->q[(w->q_head + i) % ERT_PIPE_CMD_QUEUE]);
    if (w->swap_in)
        ert_session_free(w->swap_in);
    ert_session_free(w->sess);
    pthread_cond_destroy(&w->cv);
    free(w->req);
    free(w->note);
    free(w->scratch);
    free(w);
}

static ert_status session_for(const ert_cfg_model *m, const char *blob, ert_session **out, ert_error *err)
{
    ert_session_config sc;
    memset(&sc, 0, sizeof sc);
    sc.name = m->name;
    sc.blob_path = blob;
    for (size_t i = 0; i < m->n_cameras; i++)
        sc.cameras[i] = m->cameras[i];
    sc.n_cameras = m->n_cameras;
    sc.threads = m->threads > 0 ? m->threads : 1;
    ert_status st = ert_session_create(&sc, out, err);
    if (st != ERT_OK && err && !strstr(err->msg, m->name))
        ert_error_prefix(err, "model '%s'", m->name);
    return st;
}

/* A worker with its session created; cameras bound later (by name, against the pipeline's). */
static ert_status worker_new(ert_pipeline *pl, const ert_cfg_model *m, worker **out, ert_error *err)
{
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return ert_fail(err, ERT_ENOMEM, "model '%s': out of memory", m->name);
    w->pl = pl;
    w->cfg = *m;
    pthread_cond_init(&w->cv, NULL);
    w->req = calloc(1, sizeof *w->req);
    w->note = calloc(1, sizeof *w->note);
    w->scratch = malloc(ERT_PUB_MAX_EVENT);
    if (!w->req || !w->note || !w->scratch) {
        worker_free(w);
        return ert_fail(err, ERT_ENOMEM, "model '%s': out of memory", m->name);
    }
    ert_status st = session_for(m, m->blob, &w->sess, err);
    if (st != ERT_OK) {
        worker_free(w);
        return st;
    }
    ert_session_info(w->sess, &w->info);
    *out = w;
    return ERT_OK;
}

static void worker_bind(ert_pipeline *pl, worker *w)
{
    w->n_cams = 0;
    for (size_t i = 0; i < w->cfg.n_cameras; i++)
        w->cams[w->n_cams++] = find_camera(pl, w->cfg.cameras[i]);
}

static ert_status worker_start(worker *w, ert_error *err)
{
    if (pthread_create(&w->th, NULL, worker_main, w) != 0)
        return ert_fail(err, ERT_EIO, "model '%s': cannot start its thread", w->cfg.name);
    w->running = true;
    return ERT_OK;
}

static void worker_join(ert_pipeline *pl, worker *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&pl->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&pl->mu);
    pthread_join(w->th, NULL);
    w->running = false;
}

static ert_status camera_start(camera *c, ert_error *err)
{
    ert_status st = ert_source_start(&c->src, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "camera '%s'", c->cfg.name), st;
    if (pthread_create(&c->th, NULL, capture_main, c) != 0) {
        ert_source_stop(&c->src);
        return ert_fail(err, ERT_EIO, "camera '%s': cannot start its capture thread", c->cfg.name);
    }
    c->running = true;
    return ERT_OK;
}

static void camera_join(camera *c)
{
    if (!c->running)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->th, NULL);
    c->running = false;
}

/* ---------------------------------------------------------------- loader */

static void send_reply_error(ert_pipeline *pl, embedrt_v1_Envelope *env, uint8_t *buf, size_t cap, uint32_t client,
                             uint64_t request_id, const ert_error *e)
{
    memset(env, 0, sizeof *env);
    env->request_id = request_id;
    env->which_body = embedrt_v1_Envelope_error_tag;
    static const embedrt_v1_StatusCode codes[] = {
        [ERT_OK] = embedrt_v1_StatusCode_STATUS_OK,
        [ERT_EINVAL] = embedrt_v1_StatusCode_STATUS_INVALID_ARGUMENT,
        [ERT_ENOTFOUND] = embedrt_v1_StatusCode_STATUS_NOT_FOUND,
        [ERT_EFORMAT] = embedrt_v1_StatusCode_STATUS_FORMAT,
        [ERT_EUNSUPPORTED] = embedrt_v1_StatusCode_STATUS_UNSUPPORTED,
        [ERT_EIO] = embedrt_v1_StatusCode_STATUS_IO,
        [ERT_ENOMEM] = embedrt_v1_StatusCode_STATUS_RESOURCE,
        [ERT_EINTERNAL] = embedrt_v1_StatusCode_STATUS_INTERNAL,
    };
    env->body.error.code = (unsigned)e->code <= ERT_EINTERNAL ? codes[e->code] : embedrt_v1_StatusCode_STATUS_INTERNAL;
    ert_str_copy(env->body.error.message, sizeof env->body.error.message, e->msg);
    const uint8_t *p;
    size_t n;
    if (ert_pub_encode(env, NULL, buf, cap, &p, &n, NULL) == ERT_OK)
        ert_pub_send_to(pl->pub, client, p, n);
}

static worker *find_worker(ert_pipeline *pl, const char *name)
{
    for (size_t i = 0; i < pl->n_workers; i++)
        if (strcmp(pl->workers[i]->cfg.name, name) == 0)
            return pl->workers[i];
    return NULL;
}

static void *loader_main(void *arg)
{
    ert_pipeline *pl = arg;
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        while (!pl->loader_stop && pl->job_count == 0)
            pthread_cond_wait(&pl->loader_cv, &pl->mu);
        if (pl->loader_stop)
            break;
        load_job job = pl->jobs[pl->job_head];
        pl->job_head = (pl->job_head + 1) % LOAD_QUEUE;
        pl->job_count--;
        worker *w = find_worker(pl, job.model);
        ert_cfg_model m;
        if (w)
            m = w->cfg;
        pthread_mutex_unlock(&pl->mu);
        ert_error err;
        ert_session *fresh = NULL;
        ert_status st = w ? session_for(&m, job.blob, &fresh, &err)
                          : ert_fail(&err, ERT_ENOTFOUND, "load_model.model: '%s' is no longer configured", job.model);
        pthread_mutex_lock(&pl->mu);
        if (st == ERT_OK && (w = find_worker(pl, job.model)) && !w->swap_in && ert_cfg_model_equal(&w->cfg, &m)) {
            w->swap_in = fresh;
            w->swap_client = job.client;
            w->swap_req = job.request_id;
            ert_str_copy(w->swap_blob, sizeof w->swap_blob, job.blob);
            pthread_cond_signal(&w->cv);
            continue;
        }
        if (st == ERT_OK) {
            ert_session_free(fresh);
            st = ert_fail(&err, ERT_EINVAL, "load_model: model '%s' changed while %s was loading; try again",
                          job.model, job.blob);
        }
        pthread_mutex_unlock(&pl->mu);
        ert_log(ERT_LOG_WARN, "load_model %s <- %s failed, the old model keeps serving: %s", job.model, job.blob,
                err.msg);
        send_reply_error(pl, pl->loader_env, pl->loader_buf, sizeof pl->loader_buf, job.client, job.request_id, &err);
        pthread_mutex_lock(&pl->mu);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

ert_status ert_pipeline_load_model(ert_pipeline *pl, uint32_t client, uint64_t request_id,
                                   const embedrt_v1_LoadModel *req, ert_error *err)
{
    if (!req->blob_path[0])
        return ert_fail(err, ERT_EINVAL, "load_model.blob_path: empty");
    pthread_mutex_lock(&pl->mu);
    ert_status st = ERT_OK;
    if (!find_worker(pl, req->model))
        st = ert_fail(err, ERT_ENOTFOUND, "load_model.model: '%s' is not a configured model", req->model);
    else if (pl->job_count == LOAD_QUEUE)
        st = ert_fail(err, ERT_ENOMEM, "load_model: %d loads already pending", LOAD_QUEUE);
    else {
        load_job *j = &pl->jobs[(pl->job_head + pl->job_count++) % LOAD_QUEUE];
        j->client = client;
        j->request_id = request_id;
        ert_str_copy(j->model, sizeof j->model, req->model);
        ert_str_copy(j->blob, sizeof j->blob, req->blob_path);
        pthread_cond_signal(&pl->loader_cv);
    }
    pthread_mutex_unlock(&pl->mu);
    return st;
}

/* ---------------------------------------------------------------- requests */

static ert_status enqueue(worker *w, uint32_t client, const uint8_t *payload, size_t len, ert_error *err)
{
    if (w->q_count == ERT_PIPE_CMD_QUEUE)
        return ert_fail(err, ERT_ENOMEM, "model '%s': %d requests already pending", w->cfg.name, ERT_PIPE_CMD_QUEUE);
    cmd *c = malloc(sizeof *c + len);
    if (!c)
        return ert_fail(err, ERT_ENOMEM, "model '%s': out of memory queueing a request", w->cfg.name);
    c->client = client;
    c->len = len;
    memcpy(c->payload, payload, len);
    w->q[(w->q_head + w->q_count++) % ERT_PIPE_CMD_QUEUE] = c;
    pthread_cond_signal(&w->cv);
    return ERT_OK;
}

static void model_names(ert_pipeline *pl, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < pl->n_workers; i++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", i ? ", " : "", pl->workers[i]->cfg.name);
    }
    if (!out[0])
        snprintf(out, cap, "none loaded");
}

ert_status ert_pipeline_request(ert_pipeline *pl, uint32_t client, const embedrt_v1_Envelope *env,
                                const uint8_t *payload, size_t len, bool *acked_by_caller, ert_error *err)
{
    const char *model = NULL, *field = ert_wire_body_name(env->which_body);
    bool every = false, grasp = false;
    switch (env->which_body) {
    case embedrt_v1_Envelope_set_goal_tag: model = env->body.set_goal.model; break;
    case embedrt_v1_Envelope_clear_goal_tag: model = env->body.clear_goal.model; every = true; break;
    case embedrt_v1_Envelope_reset_episode_tag: model = env->body.reset_episode.model; every = true; break;
    case embedrt_v1_Envelope_load_demo_tag: model = env->body.load_demo.model; break;
    case embedrt_v1_Envelope_grasp_event_tag: model = env->body.grasp_event.model; grasp = true; break;
    default: return ert_fail(err, ERT_EINTERNAL, "%s is not a session request", field);
    }
    *acked_by_caller = false;
    char names[ERT_CFG_MAX_MODELS * ERT_CFG_NAME_MAX + 16];
    ert_status st = ERT_OK;
    pthread_mutex_lock(&pl->mu);
    model_names(pl, names, sizeof names);
    if (model[0]) {
        worker *w = find_worker(pl, model);
        st = w ? enqueue(w, client, payload, len, err)
               : ert_fail(err, ERT_ENOTFOUND, "%s.model: '%s' is not loaded (models: %s)", field, model, names);
    } else if (every) {
        /* All or nothing: check room first. */
        for (size_t i = 0; i < pl->n_workers && st == ERT_OK; i++)
            if (pl->workers[i]->q_count == ERT_PIPE_CMD_QUEUE)
                st = ert_fail(err, ERT_ENOMEM, "model '%s': %d requests already pending", pl->workers[i]->cfg.name,
                              ERT_PIPE_CMD_QUEUE);
        for (size_t i = 0; i < pl->n_workers && st == ERT_OK; i++)
            st = enqueue(pl->workers[i], 0, payload, len, err);
        *acked_by_caller = st == ERT_OK;
    } else {
        worker *only = NULL;
        size_t n = 0;
        for (size_t i = 0; i < pl->n_workers; i++)
            if (!grasp || strcmp(pl->workers[i]->info.family, "grasp2vec") == 0) {
                only = pl->workers[i];
                n++;
            }
        if (n == 1)
            st = enqueue(only, client, payload, len, err);
        else
            st = ert_fail(err, ERT_EINVAL, "%s.model: empty, and %zu %smodels could take it (models: %s)", field, n,
                          grasp ? "grasp2vec " : "", names);
    }
    pthread_mutex_unlock(&pl->mu);
    return st;
}

/* ---------------------------------------------------------------- info */

void ert_pipeline_capabilities(ert_pipeline *pl, embedrt_v1_Capabilities *out)
{
    pthread_mutex_lock(&pl->mu);
    for (size_t i = 0; i < pl->n_cams && out->cameras_count < 8; i++) {
        camera *c = pl->cams[i];
        embedrt_v1_CameraInfo *ci = &out->cameras[out->cameras_count++];
        ert_str_copy(ci->name, sizeof ci->name, c->cfg.name);
        ert_str_copy(ci->source, sizeof ci->source, c->cfg.source);
        ci->width = c->info.width;
        ci->height = c->info.height;
        ert_str_copy(ci->pixel_format, sizeof ci->pixel_format, ert_pixfmt_name(c->info.format));
        ci->fps = c->info.fps;
    }
    for (size_t i = 0; i < pl->n_workers && out->models_count < 8; i++)
        out->models[out->models_count++] = pl->workers[i]->info;
    pthread_mutex_unlock(&pl->mu);
}

void ert_pipeline_stats(ert_pipeline *pl, embedrt_v1_Stats *out)
{
    static uint32_t tmp[LAT_RING]; /* I/O thread only */
    pthread_mutex_lock(&pl->mu);
    for (size_t i = 0; i < pl->n_cams && out->cameras_count < 8; i++) {
        camera *c = pl->cams[i];
        embedrt_v1_CameraStats *s = &out->cameras[out->cameras_count++];
        ert_str_copy(s->name, sizeof s->name, c->cfg.name);
        s->frames_in = c->frames_in;
        s->frames_dropped = c->dropped;
        s->stalls = c->stalls;
        s->ended = c->ended;
    }
    for (size_t i = 0; i < pl->n_workers; i++) {
        worker *w = pl->workers[i];
        for (size_t j = 0; j < w->n_cams && out->models_count < 16; j++) {
            embedrt_v1_ModelStats *s = &out->models[out->models_count++];
            ert_str_copy(s->model, sizeof s->model, w->cfg.name);
            ert_str_copy(s->camera, sizeof s->camera, w->cams[j]->cfg.name);
            s->frames_out = w->frames_out[j];
            s->latency_p50_ms = lat_pct(&w->lat[j], 0.50, tmp);
            s->latency_p99_ms = lat_pct(&w->lat[j], 0.99, tmp);
            s->inference_p50_ms = lat_pct(&w->infer[j], 0.50, tmp);
        }
    }
    out->uptime_ns = ert_monotonic_ns() - pl->t_start;
    pthread_mutex_unlock(&pl->mu);
}

/* ---------------------------------------------------------------- lifecycle */

static void free_parts(camera **cams, size_t nc, worker **ws, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        worker_free(ws[i]);
    for (size_t i = 0; i < nc; i++)
        camera_close(cams[i]);
}

ert_status ert_pipeline_create(const ert_config *cfg, ert_pub *pub, ert_pipeline **out, ert_error *err)
{
    ert_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl || !(pl->loader_env = calloc(1, sizeof *pl->loader_env))) {
        free(pl);
        return ert_fail(err, ERT_ENOMEM, "pipeline: out of memory");
    }
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->loader_cv, NULL);
    pl->pub = pub;
    pl->cfg = *cfg;
    ert_status st = ERT_OK;
    for (size_t i = 0; i < cfg->n_cameras && st == ERT_OK; i++)
        if ((st = camera_open(pl, &cfg->cameras[i], &pl->cams[pl->n_cams], err)) == ERT_OK)
            pl->n_cams++;
    for (size_t i = 0; i < cfg->n_models && st == ERT_OK; i++)
        if ((st = worker_new(pl, &cfg->models[i], &pl->workers[pl->n_workers], err)) == ERT_OK)
            worker_bind(pl, pl->workers[pl->n_workers++]);
    if (st != ERT_OK) {
        free_parts(pl->cams, pl->n_cams, pl->workers, pl->n_workers);
        pthread_mutex_destroy(&pl->mu);
        pthread_cond_destroy(&pl->loader_cv);
        free(pl->loader_env);
        free(pl);
        return st;
    }
    *out = pl;
    return ERT_OK;
}

ert_status ert_pipeline_start(ert_pipeline *pl, ert_error *err)
{
    pl->t_start = ert_monotonic_ns();
    if (pthread_create(&pl->loader, NULL, loader_main, pl) != 0)
        return ert_fail(err, ERT_EIO, "pipeline: cannot start the model loader thread");
    pl->loader_running = true;
    for (size_t i = 0; i < pl->n_workers; i++) {
        ert_status st = worker_start(pl->workers[i], err);
        if (st != ERT_OK)
            return st;
    }
    for (size_t i = 0; i < pl->n_cams; i++) {
        ert_status st = camera_start(pl->cams[i], err);
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

void ert_pipeline_free(ert_pipeline *pl)
{
    if (!pl)
        return;
    if (pl->loader_running) {
        pthread_mutex_lock(&pl->mu);
        pl->loader_stop = true;
        pthread_cond_signal(&pl->loader_cv);
        pthread_mutex_unlock(&pl->mu);
        pthread_join(pl->loader, NULL);
    }
    for (size_t i = 0; i < pl->n_workers; i++)
        worker_join(pl, pl->workers[i]);
    for (size_t i = 0; i < pl->n_cams; i++)
        camera_join(pl->cams[i]);
    free_parts(pl->cams, pl->n_cams, pl->workers, pl->n_workers);
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->loader_cv);
    free(pl->loader_env);
    free(pl);
}

ert_status ert_pipeline_reload(ert_pipeline *pl, const ert_config *cfg, ert_error *err)
{
    /* Phase 1: open what is new or changed, touching nothing that runs. */
    camera *new_cams[ERT_CFG_MAX_CAMERAS] = {0};
    worker *new_ws[ERT_CFG_MAX_MODELS] = {0};
    bool cam_changed[ERT_CFG_MAX_CAMERAS] = {0};
    ert_status st = ERT_OK;
    size_t opened_c = 0, opened_w = 0;
    for (size_t i = 0; i < cfg->n_cameras && st == ERT_OK; i++) {
        camera *old = find_camera(pl, cfg->cameras[i].name);
        cam_changed[i] = !old || !ert_cfg_camera_equal(&old->cfg, &cfg->cameras[i]);
        if (cam_changed[i] && (st = camera_open(pl, &cfg->cameras[i], &new_cams[i], err)) == ERT_OK)
            opened_c++;
    }
    for (size_t i = 0; i < cfg->n_models && st == ERT_OK; i++) {
        const ert_cfg_model *m = &cfg->models[i];
        worker *old = find_worker(pl, m->name);
        bool changed = !old || !ert_cfg_model_equal(&old->cfg, m);
        for (size_t j = 0; j < m->n_cameras && !changed; j++)
            for (size_t k = 0; k < cfg->n_cameras; k++)
                if (cam_changed[k] && strcmp(cfg->cameras[k].name, m->cameras[j]) == 0)
                    changed = true;
        if (changed && (st = worker_new(pl, m, &new_ws[i], err)) == ERT_OK)
            opened_w++;
    }
    if (st != ERT_OK) {
        for (size_t i = 0; i < ERT_CFG_MAX_MODELS; i++)
            worker_free(new_ws[i]);
        for (size_t i = 0; i < ERT_CFG_MAX_CAMERAS; i++)
            camera_close(new_cams[i]);
        return st;
    }
    /* Phase 2: stop workers that go or change, then cameras that go or change. */
    worker *keep_w[ERT_CFG_MAX_MODELS];
    camera *keep_c[ERT_CFG_MAX_CAMERAS];
    for (size_t i = 0; i < pl->n_workers; i++) {
        worker *w = pl->workers[i];
        const ert_cfg_model *m = ert_config_model(cfg, w->cfg.name);
        size_t idx = m ? (size_t)(m - cfg->models) : 0;
        keep_w[i] = m && !new_ws[idx] ? w : NULL;
        if (!keep_w[i]) {
            worker_join(pl, w);
            /* A restarted model keeps what clients set, like a hot swap. */
            if (m && new_ws[idx])
                ert_session_adopt_state(new_ws[idx]->sess, w->sess);
        }
    }
    for (size_t i = 0; i < pl->n_cams; i++) {
        camera *c = pl->cams[i];
        const ert_cfg_camera *cc = ert_config_camera(cfg, c->cfg.name);
        keep_c[i] = cc && !new_cams[cc - cfg->cameras] ? c : NULL;
        if (!keep_c[i])
            camera_join(c);
    }
    /* Phase 3: swap the tables under the lock, then free and start. */
    camera *old_cams[ERT_CFG_MAX_CAMERAS];
    worker *old_ws[ERT_CFG_MAX_MODELS];
    size_t n_old_c = pl->n_cams, n_old_w = pl->n_workers;
    memcpy(old_cams, pl->cams, sizeof old_cams);
    memcpy(old_ws, pl->workers, sizeof old_ws);
    pthread_mutex_lock(&pl->mu);
    pl->n_cams = 0;
    for (size_t i = 0; i < cfg->n_cameras; i++) {
        camera *c = new_cams[i];
        for (size_t j = 0; !c && j < n_old_c; j++)
            if (keep_c[j] && strcmp(keep_c[j]->cfg.name, cfg->cameras[i].name) == 0)
                c = keep_c[j];
        pl->cams[pl->n_cams++] = c;
    }
    pl->n_workers = 0;
    for (size_t i = 0; i < cfg->n_models; i++) {
        worker *w = new_ws[i];
        for (size_t j = 0; !w && j < n_old_w; j++)
            if (keep_w[j] && strcmp(keep_w[j]->cfg.name, cfg->models[i].name) == 0)
                w = keep_w[j];
        pl->workers[pl->n_workers++] = w;
        if (new_ws[i])
            worker_bind(pl, w);
    }
    pl->cfg = *cfg;
    pthread_mutex_unlock(&pl->mu);
    for (size_t i = 0; i < n_old_w; i++)
        if (!keep_w[i])
            worker_free(old_ws[i]);
    for (size_t i = 0; i < n_old_c; i++)
        if (!keep_c[i])
            camera_close(old_cams[i]);
    for (size_t i = 0; i < pl->n_workers; i++)
        if (new_ws[i] && worker_start(new_ws[i], err) != ERT_OK)
            ert_log(ERT_LOG_ERROR, "reload: %s", err->msg);
    for (size_t i = 0; i < pl->n_cams; i++)
        if (new_cams[i] && camera_start(new_cams[i], err) != ERT_OK)
            ert_log(ERT_LOG_ERROR, "reload: %s", err->msg);
    ert_log(ERT_LOG_INFO, "reload: %zu camera%s and %zu model%s (re)started, %zu and %zu kept", opened_c,
            opened_c == 1 ? "" : "s", opened_w, opened_w == 1 ? "" : "s", pl->n_cams - opened_c,
            pl->n_workers - opened_w);
    return ERT_OK;
}

ert_status ert_pipeline_check(const ert_config *cfg, FILE *f, ert_error *err)
{
    for (size_t i = 0; i < cfg->n_cameras; i++) {
        const ert_cfg_camera *c = &cfg->cameras[i];
        ert_source src;
        ert_source_config sc = {.width = c->width, .height = c->height, .format = c->format, .fps = c->fps,
                                .loop = c->loop};
        ert_status st = ert_source_open(c->source, &sc, &src, err);
        if (st != ERT_OK)
            return ert_error_prefix(err, "camera '%s'", c->name), st;
        ert_source_info info;
        ert_source_get_info(&src, &info);
        fprintf(f, "camera %-10s %s: %ux%u %s, %.3g fps%s, watchdog %u ms%s\n", c->name, c->source, info.width,
                info.height, ert_pixfmt_name(info.format), info.fps, c->loop ? ", loop" : "", c->watchdog_ms,
                cfg->builtin_camera ? " (built-in default)" : "");
        ert_source_close(&src);
    }
    embedrt_v1_ModelInfo *info = calloc(1, sizeof *info);
    if (!info)
        return ert_fail(err, ERT_ENOMEM, "out of memory");
    char fams[ERT_CFG_MAX_MODELS][sizeof info->family];
    for (size_t i = 0; i < cfg->n_models; i++) {
        const ert_cfg_model *m = &cfg->models[i];
        ert_session *s;
        ert_status st = session_for(m, m->blob, &s, err);
        if (st != ERT_OK) {
            free(info);
            return st;
        }
        memset(info, 0, sizeof *info);
        ert_session_info(s, info);
        fprintf(f, "model  %-10s %s: %s, embedding %u, cameras", m->name, m->blob, info->family,
                (unsigned)info->embedding_dim);
        for (size_t j = 0; j < m->n_cameras; j++)
            fprintf(f, "%s%s", j ? ", " : " ", m->cameras[j]);
        fprintf(f, ", %d thread%s\n", m->threads, m->threads == 1 ? "" : "s");
        ert_str_copy(fams[i], sizeof fams[i], info->family);
        ert_session_free(s);
    }
    free(info);
    /* Links: the model must take grasp reports; the port itself is not opened (it may
     * appear later: embedrtd retries it). */
    const char *names[ERT_CFG_MAX_MODELS], *fp[ERT_CFG_MAX_MODELS];
    for (size_t i = 0; i < cfg->n_models; i++) {
        names[i] = cfg->models[i].name;
        fp[i] = fams[i];
    }
    for (size_t i = 0; i < cfg->n_links; i++) {
        const ert_cfg_link *l = &cfg->links[i];
        char model[ERT_CFG_NAME_MAX], port[ERT_CFG_PATH_MAX + 32];
        ert_status st = ert_config_link_model(l, names, fp, cfg->n_models, model, err);
        if (st != ERT_OK)
            return st;
        ert_cfg_link_port(l, port, sizeof port);
        fprintf(f, "link   %-10s %s: grasp reports to model %s, heartbeat %u ms, timeout %u ms, retransmit %u ms x %u "
                "(port opened at start, retried every %u ms)\n", l->name, port, model, (unsigned)l->heartbeat_ms,
                (unsigned)l->timeout_ms, (unsigned)l->retransmit_ms, (unsigned)l->retries,
                (unsigned)l->reconnect_ms);
    }
    return ERT_OK;
}
