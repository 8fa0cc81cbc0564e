/* Per-client queues, subscriptions and decimation. One mutex guards the client table and
 * every queue: a push is a bounded memcpy, so the lock is held for microseconds. */
#include "publisher.h"

#include "ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DECIM_SLOTS 8

typedef struct sub {
    embedrt_v1_Stream stream;
    char camera[32], model[32];
    uint32_t decimation;
    uint32_t counter[DECIM_SLOTS]; /* per camera/model pair, by hash */
} sub;

typedef struct client {
    bool used;
    uint32_t id;
    uint32_t seq;
    ert_ring ring;
    sub subs[ERT_PUB_MAX_SUBS];
    size_t n_subs;
    uint64_t sent, dropped, dropped_reported;
} client;

struct ert_pub {
    pthread_mutex_t mu;
    uint32_t depth;
    int wake_fd;
    uint32_t next_id;
    client clients[ERT_PUB_MAX_CLIENTS];
    embedrt_v1_Envelope *notice; /* scratch for drop notices, I/O thread only */
};

ert_status ert_pub_create(uint32_t queue_depth, int wake_fd, ert_pub **out, ert_error *err)
{
    ert_pub *p = calloc(1, sizeof *p);
    if (!p || !(p->notice = calloc(1, sizeof *p->notice))) {
        free(p);
        return ert_fail(err, ERT_ENOMEM, "publisher: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    p->depth = queue_depth;
    p->wake_fd = wake_fd;
    p->next_id = 1;
    *out = p;
    return ERT_OK;
}

void ert_pub_free(ert_pub *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < ERT_PUB_MAX_CLIENTS; i++)
        if (p->clients[i].used)
            ert_ring_free(&p->clients[i].ring);
    pthread_mutex_destroy(&p->mu);
    free(p->notice);
    free(p);
}

static client *find(ert_pub *p, uint32_t id)
{
    for (size_t i = 0; i < ERT_PUB_MAX_CLIENTS; i++)
        if (p->clients[i].used && p->clients[i].id == id)
            return &p->clients[i];
    return NULL;
}

ert_status ert_pub_add_client(ert_pub *p, uint32_t *id, ert_error *err)
{
    pthread_mutex_lock(&p->mu);
    client *c = NULL;
    for (size_t i = 0; i < ERT_PUB_MAX_CLIENTS && !c; i++)
        if (!p->clients[i].used)
            c = &p->clients[i];
    if (!c) {
        pthread_mutex_unlock(&p->mu);
        return ert_fail(err, ERT_ENOMEM, "too many clients (%d connected)", ERT_PUB_MAX_CLIENTS);
    }
    memset(c, 0, sizeof *c);
    ert_status st = ert_ring_init(&c->ring, (size_t)p->depth * ERT_PUB_SLOT_BYTES + ERT_PUB_MAX_EVENT, p->depth, err);
    if (st == ERT_OK) {
        c->used = true;
        c->id = p->next_id++;
        if (p->next_id == 0)
            p->next_id = 1;
        *id = c->id;
    }
    pthread_mutex_unlock(&p->mu);
    return st;
}

void ert_pub_remove_client(ert_pub *p, uint32_t id)
{
    pthread_mutex_lock(&p->mu);
    client *c = find(p, id);
    if (c) {
        ert_ring_free(&c->ring);
        c->used = false;
    }
    pthread_mutex_unlock(&p->mu);
}

ert_status ert_pub_subscribe(ert_pub *p, uint32_t id, const embedrt_v1_Subscribe *s, ert_error *err)
{
    if (s->stream < embedrt_v1_Stream_STREAM_EMBEDDINGS || s->stream > embedrt_v1_Stream_STREAM_STATS)
        return ert_fail(err, ERT_EINVAL, "subscribe.stream: %d is not a stream (embeddings 1, rewards 2, heatmaps 3, "
                        "stats 4)", (int)s->stream);
    ert_status st = ERT_OK;
    pthread_mutex_lock(&p->mu);
    client *c = find(p, id);
    if (c) {
        sub *x = NULL;
        for (size_t i = 0; i < c->n_subs && !x; i++)
            if (c->subs[i].stream == s->stream && !strcmp(c->subs[i].camera, s->camera) &&
                !strcmp(c->subs[i].model, s->model))
                x = &c->subs[i];
        if (!x && c->n_subs == ERT_PUB_MAX_SUBS)
            st = ert_fail(err, ERT_ENOMEM, "subscribe: this connection already has %d subscriptions", ERT_PUB_MAX_SUBS);
        else {
            if (!x)
                x = &c->subs[c->n_subs++];
            memset(x, 0, sizeof *x);
            x->stream = s->stream;
            memcpy(x->camera, s->camera, sizeof x->camera);
            memcpy(x->model, s->model, sizeof x->model);
            x->camera[sizeof x->camera - 1] = x->model[sizeof x->model - 1] = '\0';
            x->decimation = s->decimation;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return st;
}

size_t ert_pub_unsubscribe(ert_pub *p, uint32_t id, const embedrt_v1_Unsubscribe *u)
{
    size_t removed = 0;
    pthread_mutex_lock(&p->mu);
    client *c = find(p, id);
    for (size_t i = 0; c && i < c->n_subs;) {
        sub *x = &c->subs[i];
        bool all = u->stream == embedrt_v1_Stream_STREAM_UNSPECIFIED;
        bool match = all || (x->stream == u->stream &&
                             ((!u->camera[0] && !u->model[0]) ||
                              (!strcmp(x->camera, u->camera) && !strcmp(x->model, u->model))));
        if (match) {
            c->subs[i] = c->subs[--c->n_subs];
            removed++;
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return removed;
}

ert_status ert_pub_encode(const embedrt_v1_Envelope *env, const ert_wire_out *bulk, uint8_t *buf, size_t cap,
                          const uint8_t **payload, size_t *len, ert_error *err)
{
    size_t n;
    ert_status st = ert_wire_encode(env, bulk, buf, cap, &n, err);
    if (st != ERT_OK)
        return st;
    size_t off = 0;
    while (off < n && off < 5 && (buf[off] & 0x80))
        off++;
    off++;
    if (off > n)
        return ert_fail(err, ERT_EINTERNAL, "publisher: encoded frame without a length prefix");
    *payload = buf + off;
    *len = n - off;
    return ERT_OK;
}

static void wake(ert_pub *p)
{
    uint64_t one = 1;
    if (p->wake_fd >= 0) {
        ssize_t w = write(p->wake_fd, &one, sizeof one);
        (void)w;
    }
}

/* Called with the lock held. */
static bool push(client *c, const uint8_t *payload, size_t len)
{
    bool was_empty = c->ring.count == 0;
    uint32_t dropped = 0;
    if (!ert_ring_push(&c->ring, payload, len, &dropped)) {
        c->dropped++;
        return false;
    }
    c->dropped += dropped;
    return was_empty;
}

static uint32_t hash2(const char *a, const char *b)
{
    uint32_t h = 2166136261u;
    for (; *a; a++)
        h = (h ^ (uint8_t)*a) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (; *b; b++)
        h = (h ^ (uint8_t)*b) * 16777619u;
    return h;
}

void ert_pub_event(ert_pub *p, embedrt_v1_Stream stream, const char *model, const char *camera, const uint8_t *payload,
                   size_t len)
{
    bool need_wake = false;
    uint32_t slot = hash2(model, camera) % DECIM_SLOTS;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < ERT_PUB_MAX_CLIENTS; i++) {
        client *c = &p->clients[i];
        if (!c->used)
            continue;
        bool deliver = false;
        for (size_t j = 0; j < c->n_subs; j++) {
            sub *x = &c->subs[j];
            if (x->stream != stream || (x->camera[0] && strcmp(x->camera, camera)) ||
                (x->model[0] && strcmp(x->model, model)))
                continue;
            if (x->decimation > 1) {
                uint32_t k = x->counter[slot]++;
                if (x->counter[slot] >= x->decimation)
                    x->counter[slot] = 0;
                if (k != 0)
                    continue;
            }
            deliver = true;
        }
        if (deliver)
            need_wake |= push(c, payload, len);
    }
    pthread_mutex_unlock(&p->mu);
    if (need_wake)
        wake(p);
}

void ert_pub_broadcast(ert_pub *p, const uint8_t *payload, size_t len)
{
    bool need_wake = false;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < ERT_PUB_MAX_CLIENTS; i++)
        if (p->clients[i].used)
            need_wake |= push(&p->clients[i], payload, len);
    pthread_mutex_unlock(&p->mu);
    if (need_wake)
        wake(p);
}

bool ert_pub_send_to(ert_pub *p, uint32_t id, const uint8_t *payload, size_t len)
{
    bool need_wake = false, found = false;
    pthread_mutex_lock(&p->mu);
    client *c = find(p, id);
    if (c) {
        found = true;
        need_wake = push(c, payload, len);
    }
    pthread_mutex_unlock(&p->mu);
    if (need_wake)
        wake(p);
    return found;
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

/* prefix | 0x08 seq | payload */
static size_t frame_out(client *c, const uint8_t *payload, size_t len, uint8_t *out, size_t cap)
{
    uint8_t seqb[11];
    seqb[0] = 0x08;
    size_t sl = 1 + put_varint(seqb + 1, ++c->seq);
    uint8_t pre[10];
    size_t pl = put_varint(pre, sl + len);
    if (pl + sl + len > cap)
        return 0;
    memcpy(out, pre, pl);
    memcpy(out + pl, seqb, sl);
    memcpy(out + pl + sl, payload, len);
    return pl + sl + len;
}

size_t ert_pub_take(ert_pub *p, uint32_t id, uint8_t *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    client *c = find(p, id);
    if (c && c->dropped > c->dropped_reported) {
        embedrt_v1_Envelope *env = p->notice;
        memset(env, 0, sizeof *env);
        env->which_body = embedrt_v1_Envelope_notice_tag;
        env->body.notice.kind = embedrt_v1_Notice_Kind_KIND_EVENTS_DROPPED;
        env->body.notice.count = c->dropped;
        snprintf(env->body.notice.message, sizeof env->body.notice.message,
                 "%llu events dropped for this client so far: it reads slower than events arrive (queue depth %u)",
                 (unsigned long long)c->dropped, p->depth);
        uint8_t tmp[512];
        const uint8_t *pl;
        size_t len;
        if (ert_pub_encode(env, NULL, tmp, sizeof tmp, &pl, &len, NULL) == ERT_OK)
            n = frame_out(c, pl, len, out, cap);
        c->dropped_reported = c->dropped;
    } else if (c) {
        const uint8_t *pl;
        size_t len;
        if (ert_ring_peek(&c->ring, &pl, &len)) {
            n = frame_out(c, pl, len, out, cap);
            ert_ring_pop(&c->ring);
            c->sent++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool ert_pub_pending(ert_pub *p, uint32_t id)
{
    pthread_mutex_lock(&p->mu);
    client *c = find(p, id);
    bool r = c && (c->ring.count > 0 || c->dropped > c->dropped_reported);
    pthread_mutex_unlock(&p->mu);
    return r;
}

size_t ert_pub_stats(ert_pub *p, ert_pub_client_stats *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < ERT_PUB_MAX_CLIENTS; i++)
        if (p->clients[i].used) {
            if (n < cap) {
                out[n].id = p->clients[i].id;
                out[n].sent = p->clients[i].sent;
                out[n].dropped = p->clients[i].dropped;
            }
            n++;
        }
    pthread_mutex_unlock(&p->mu);
    return n;
}
