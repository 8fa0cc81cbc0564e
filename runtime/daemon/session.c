/* A session: one family blob, its cameras and the episode state the protocol drives.
 * This file holds what every family shares (creation, requests, goals, replies, events,
 * hot-swap adoption); the family behaviour lives in session_<family>.c. */
#include "session_internal.h"

#include "embedrt/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

double ert_sess_norm(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* Bounded copy into a nanopb string field (always terminated; cut at cap - 1). */
/* Clears the header and only the body member about to be filled: the envelope is tens
 * of kB (Capabilities), an event needs a fraction of it. */
static void *begin(ert_session *s, pb_size_t which, size_t body_size)
{
    embedrt_v1_Envelope *e = s->env;
    e->seq = 0;
    e->request_id = 0;
    e->which_body = which;
    memset(&e->body, 0, body_size);
    return &e->body;
}

void ert_sess_send(ert_session *s)
{
    if (s->emit && s->emit->fn)
        s->emit->fn(s->emit->ctx, s->env, NULL);
}

void ert_sess_emit_embedding(ert_session *s, size_t ci, const ert_frame *f, const char *role, const float *v,
                             size_t n)
{
    embedrt_v1_Embedding *m = begin(s, embedrt_v1_Envelope_embedding_tag, sizeof *m);
    ert_str_copy(m->model, sizeof m->model, s->name);
    ert_str_copy(m->camera, sizeof m->camera, s->cameras[ci]);
    ert_str_copy(m->role, sizeof m->role, role);
    m->vector_count = (pb_size_t)n; /* n <= ERT_SESS_MAX_VECTOR, checked at create */
    memcpy(m->vector, v, n * sizeof *v);
    m->frame_seq = f ? f->seq : 0;
    m->capture_ns = f ? f->t_capture_ns : 0;
    m->publish_ns = ert_monotonic_ns();
    ert_sess_send(s);
}

embedrt_v1_Reward *ert_sess_reward_begin(ert_session *s, size_t ci, const ert_frame *f, const char *type,
                                         double value)
{
    embedrt_v1_Reward *r = begin(s, embedrt_v1_Envelope_reward_tag, sizeof *r);
    ert_str_copy(r->model, sizeof r->model, s->name);
    ert_str_copy(r->family, sizeof r->family, s->family);
    ert_str_copy(r->type, sizeof r->type, type);
    r->value = value;
    r->goal_id = s->has_goal && !s->goal_pending ? s->goal_id : 0;
    ert_str_copy(r->camera, sizeof r->camera, s->cameras[ci]);
    r->frame_seq = f ? f->seq : 0;
    r->capture_ns = f ? f->t_capture_ns : 0;
    r->publish_ns = ert_monotonic_ns();
    return r;
}

void ert_sess_reward_add(embedrt_v1_Reward *r, const char *name, double value)
{
    if (r->components_count >= sizeof r->components / sizeof r->components[0])
        return; /* the family code never adds more than 8 */
    embedrt_v1_RewardComponent *c = &r->components[r->components_count++];
    ert_str_copy(c->name, sizeof c->name, name);
    c->value = value;
}

void ert_sess_emit_heatmap(ert_session *s, size_t ci, const ert_frame *f, size_t h, size_t w, const float *prob,
                           const float kp[2])
{
    embedrt_v1_Heatmap *m = begin(s, embedrt_v1_Envelope_heatmap_tag, sizeof *m);
    ert_str_copy(m->model, sizeof m->model, s->name);
    ert_str_copy(m->camera, sizeof m->camera, s->cameras[ci]);
    m->height = (uint32_t)h;
    m->width = (uint32_t)w;
    /* ert_g2v_heatmap's keypoint runs -1..1 over the first..last cell centres; the wire
     * wants 0..1 of the map. */
    m->keypoint_x = (kp[0] + 1.0f) * 0.5f;
    m->keypoint_y = (kp[1] + 1.0f) * 0.5f;
    m->goal_id = s->goal_id;
    m->frame_seq = f ? f->seq : 0;
    m->capture_ns = f ? f->t_capture_ns : 0;
    ert_wire_out bulk = {.heatmap = prob, .heatmap_count = h * w};
    if (s->emit && s->emit->fn)
        s->emit->fn(s->emit->ctx, s->env, &bulk);
}

void ert_sess_reply_ack(ert_session *s)
{
    begin(s, embedrt_v1_Envelope_ack_tag, sizeof(embedrt_v1_Ack));
    s->env->request_id = s->request_id;
    ert_sess_send(s);
}

static void reply_error(ert_session *s, ert_status st, const char *msg)
{
    embedrt_v1_Error *e = begin(s, embedrt_v1_Envelope_error_tag, sizeof(embedrt_v1_Error));
    s->env->request_id = s->request_id;
    e->code = (embedrt_v1_StatusCode)ert_client_code_from_status(st);
    ert_str_copy(e->message, sizeof e->message, msg);
    size_t n = strlen(e->message);
    if (n == sizeof e->message - 1) /* cut: say so */
        memcpy(e->message + n - 3, "...", 3);
    ert_sess_send(s);
}

static void reply_goal_set(ert_session *s)
{
    embedrt_v1_GoalSet *g = begin(s, embedrt_v1_Envelope_goal_set_tag, sizeof(embedrt_v1_GoalSet));
    s->env->request_id = s->request_id;
    ert_str_copy(g->model, sizeof g->model, s->name);
    g->goal_id = s->goal_id;
    if (!s->goal_pending) {
        g->embedding_count = (pb_size_t)s->goal_dim;
        memcpy(g->embedding, s->goal, s->goal_dim * sizeof *s->goal);
    }
    ert_sess_send(s);
}

/* Every client (and controller link) learns that the goal changed, not only the one that
 * set it: Notice GOAL_CHANGED, count = the new goal_id, 0 when cleared. */
static void notice_goal(ert_session *s, const char *how)
{
    embedrt_v1_Notice *m = begin(s, embedrt_v1_Envelope_notice_tag, sizeof(embedrt_v1_Notice));
    m->kind = embedrt_v1_Notice_Kind_KIND_GOAL_CHANGED;
    ert_str_copy(m->subject, sizeof m->subject, s->name);
    m->count = s->has_goal ? s->goal_id : 0;
    if (s->has_goal)
        snprintf(m->message, sizeof m->message, "model '%s': goal %u set from %s", s->name, (unsigned)s->goal_id,
                 how);
    else
        snprintf(m->message, sizeof m->message, "model '%s': goal cleared", s->name);
    ert_sess_send(s);
}

/* ---------------------------------------------------------------- create, free, info */

static const char *const family_names[] = {"grasp2vec", "tcn", "mftcn", "rig", "ccvae"};

static ert_status check_config(const ert_session_config *cfg, ert_error *err)
{
    if (!cfg || !cfg->blob_path || !cfg->blob_path[0])
        return ert_fail(err, ERT_EINVAL, "session: the model config needs a blob path");
    const char *b = cfg->blob_path;
    if (!cfg->name || !cfg->name[0] || strlen(cfg->name) >= ERT_SESS_NAME_MAX)
        return ert_fail(err, ERT_EINVAL, "%s: model name must be 1..%d bytes", b, ERT_SESS_NAME_MAX - 1);
    if (strlen(b) >= ERT_SESS_PATH_MAX)
        return ert_fail(err, ERT_EINVAL, "model '%s': blob path is longer than %d bytes", cfg->name,
                        ERT_SESS_PATH_MAX - 1);
    if (cfg->n_cameras < 1 || cfg->n_cameras > ERT_SESSION_MAX_CAMERAS)
        return ert_fail(err, ERT_EINVAL, "%s: model '%s' needs 1..%d cameras, the config binds %zu", b, cfg->name,
                        ERT_SESSION_MAX_CAMERAS, cfg->n_cameras);
    for (size_t i = 0; i < cfg->n_cameras; i++) {
        const char *c = cfg->cameras[i];
        if (!c || !c[0] || strlen(c) >= ERT_SESS_NAME_MAX)
            return ert_fail(err, ERT_EINVAL, "%s: model '%s' camera %zu: name must be 1..%d bytes", b, cfg->name, i,
                            ERT_SESS_NAME_MAX - 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->cameras[j], c) == 0)
                return ert_fail(err, ERT_EINVAL, "%s: model '%s' lists camera '%s' twice", b, cfg->name, c);
    }
    if (cfg->threads < 1)
        return ert_fail(err, ERT_EINVAL, "%s: model '%s' threads must be >= 1, got %d", b, cfg->name, cfg->threads);
    return ERT_OK;
}

static void spec_free(ert_goal_spec *sp)
{
    ert_image_free(&sp->copy);
    free(sp->z);
    memset(sp, 0, sizeof *sp);
}

ert_status ert_session_create(const ert_session_config *cfg, ert_session **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_session_create: NULL output");
    *out = NULL;
    ert_status st = check_config(cfg, err);
    if (st != ERT_OK)
        return st;
    ert_session *s = calloc(1, sizeof *s);
    if (!s)
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory for the session", cfg->blob_path);
    ert_str_copy(s->name, sizeof s->name, cfg->name);
    ert_str_copy(s->blob_path, sizeof s->blob_path, cfg->blob_path);
    s->n_cameras = cfg->n_cameras;
    for (size_t i = 0; i < cfg->n_cameras; i++)
        ert_str_copy(s->cameras[i], sizeof s->cameras[i], cfg->cameras[i]);
    s->threads = cfg->threads;
    s->env = calloc(1, sizeof *s->env);
    if (!s->env) {
        free(s);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory for the session", cfg->blob_path);
    }
    ert_model_options opt = {.threads = cfg->threads};
    st = ert_family_load(cfg->blob_path, &opt, &s->fm, err);
    size_t max_cams = 1;
    if (st == ERT_OK) {
        s->family = ert_family_desc_of(s->fm)->name;
        size_t k = 0;
        while (k < sizeof family_names / sizeof family_names[0] && strcmp(family_names[k], s->family) != 0)
            k++;
        s->fam = (ert_sess_family)k;
        max_cams = s->fam == ERT_SESS_G2V ? 2 : s->fam == ERT_SESS_TCN ? ERT_SESSION_MAX_CAMERAS : 1;
        if (k == sizeof family_names / sizeof family_names[0])
            st = ert_fail(err, ERT_EUNSUPPORTED, "%s: family '%s' has no daemon session", cfg->blob_path, s->family);
        else if (cfg->n_cameras > max_cams)
            st = ert_fail(err, ERT_EINVAL, "%s: model '%s' binds %zu cameras; family %s takes %s", cfg->blob_path,
                          cfg->name, cfg->n_cameras, s->family,
                          s->fam == ERT_SESS_G2V   ? "at most 2 (scene, outcome)"
                          : s->fam == ERT_SESS_TCN ? "at most 4 views"
                                                   : "exactly 1");
    }
    if (st == ERT_OK) {
        switch (s->fam) {
        case ERT_SESS_G2V: st = ert_sess_g2v_create(s, err); break;
        case ERT_SESS_TCN:
        case ERT_SESS_MFTCN: st = ert_sess_tcn_create(s, err); break;
        case ERT_SESS_RIG:
        case ERT_SESS_CCVAE: st = ert_sess_rig_create(s, err); break;
        }
        if (st != ERT_OK)
            ert_error_prefix(err, "%s", cfg->blob_path);
    }
    if (st == ERT_OK && (s->dim == 0 || s->dim > ERT_SESS_MAX_VECTOR || s->goal_dim > ERT_SESS_MAX_VECTOR))
        st = ert_fail(err, ERT_EUNSUPPORTED, "%s: embeddings of %zu values (goals %zu); the protocol carries 1..%d",
                      cfg->blob_path, s->dim, s->goal_dim, ERT_SESS_MAX_VECTOR);
    if (st == ERT_OK) {
        s->emb = calloc(s->dim, sizeof *s->emb);
        s->goal = calloc(s->goal_dim ? s->goal_dim : 1, sizeof *s->goal);
        s->goal_tmp = calloc(s->goal_dim ? s->goal_dim : 1, sizeof *s->goal_tmp);
        if (!s->emb || !s->goal || !s->goal_tmp)
            st = ert_fail(err, ERT_ENOMEM, "%s: out of memory for %zu-value embeddings", cfg->blob_path, s->dim);
    }
    if (st != ERT_OK) {
        ert_session_free(s);
        return st;
    }
    *out = s;
    return ERT_OK;
}

void ert_session_free(ert_session *s)
{
    if (!s)
        return;
    ert_sess_g2v_free(s);
    ert_sess_tcn_free(s);
    ert_sess_rig_free(s);
    spec_free(&s->spec);
    ert_family_free(s->fm);
    free(s->emb);
    free(s->goal);
    free(s->goal_tmp);
    free(s->env);
    free(s);
}

const char *ert_session_name(const ert_session *s)
{
    return s->name;
}

int ert_session_camera_index(const ert_session *s, const char *camera)
{
    for (size_t i = 0; camera && i < s->n_cameras; i++)
        if (strcmp(s->cameras[i], camera) == 0)
            return (int)i;
    return -1;
}

void ert_session_info(const ert_session *s, embedrt_v1_ModelInfo *out)
{
    memset(out, 0, sizeof *out);
    ert_str_copy(out->name, sizeof out->name, s->name);
    ert_str_copy(out->family, sizeof out->family, s->family);
    ert_str_copy(out->blob_path, sizeof out->blob_path, s->blob_path);
    const ert_family_desc *d = ert_family_desc_of(s->fm);
    for (const ert_family_role_def *r = d->roles; r->role && out->roles_count < 8; r++)
        if (ert_family_graph(s->fm, r->role) >= 0)
            ert_str_copy(out->roles[out->roles_count++], sizeof out->roles[0], r->role);
    out->embedding_dim = (uint32_t)s->dim;
    for (size_t i = 0; i < s->n_cameras; i++)
        ert_str_copy(out->cameras[out->cameras_count++], sizeof out->cameras[0], s->cameras[i]);
    const ert_family_param *prm;
    size_t n = ert_family_params(s->fm, &prm);
    for (size_t i = 0; i < n && out->params_count < 16; i++) {
        embedrt_v1_Component *c = &out->params[out->params_count++];
        ert_str_copy(c->name, sizeof c->name, prm[i].key);
        if (prm[i].text) {
            ert_str_copy(c->version, sizeof c->version, prm[i].text);
            continue;
        }
        size_t len = 0;
        for (size_t k = 0; k < prm[i].n_values && len < sizeof c->version; k++) {
            int w = snprintf(c->version + len, sizeof c->version - len, "%s%.9g", k ? "," : "", prm[i].values[k]);
            if (w < 0 || (size_t)w >= sizeof c->version - len) { /* a long vector: cut, and say so */
                memcpy(c->version + sizeof c->version - 4, "...", 4);
                break;
            }
            len += (size_t)w;
        }
    }
    out->generation = s->generation;
}

/* ---------------------------------------------------------------- frames */

ert_status ert_session_frame(ert_session *s, size_t ci, const ert_frame *frame, const ert_session_emit *emit,
                             ert_error *err)
{
    if (!s || !frame)
        return ert_fail(err, ERT_EINVAL, "ert_session_frame: NULL %s", s ? "frame" : "session");
    if (ci >= s->n_cameras)
        return ert_fail(err, ERT_EINVAL, "model '%s': camera index %zu, the model has %zu cameras", s->name, ci,
                        s->n_cameras);
    s->emit = emit;
    ert_status st = ERT_OK;
    switch (s->fam) {
    case ERT_SESS_G2V: st = ert_sess_g2v_frame(s, ci, frame, err); break;
    case ERT_SESS_TCN:
    case ERT_SESS_MFTCN: st = ert_sess_tcn_frame(s, ci, frame, err); break;
    case ERT_SESS_RIG:
    case ERT_SESS_CCVAE: st = ert_sess_rig_frame(s, ci, frame, err); break;
    }
    if (st != ERT_OK)
        ert_error_prefix(err, "model '%s' camera '%s' frame %llu", s->name, s->cameras[ci],
                         (unsigned long long)frame->seq);
    s->emit = NULL;
    return st;
}

/* ---------------------------------------------------------------- goals */

static const char *kind_field(ert_goal_kind k)
{
    switch (k) {
    case ERT_GOAL_IMAGE: return "set_goal.image";
    case ERT_GOAL_EMBEDDING: return "set_goal.embedding";
    case ERT_GOAL_CAMERA: return "set_goal.camera";
    case ERT_GOAL_PRIOR: return "set_goal.prior_seed";
    case ERT_GOAL_NONE: break;
    }
    return "set_goal";
}

/* Which goal sources a family takes: rig/ccvae every one; grasp2vec and tcn images,
 * embeddings and snapshots; mftcn embeddings only (its embedding needs a frame window). */
static bool goal_supported(const ert_session *s, ert_goal_kind k)
{
    switch (s->fam) {
    case ERT_SESS_RIG:
    case ERT_SESS_CCVAE: return true;
    case ERT_SESS_G2V:
    case ERT_SESS_TCN: return k != ERT_GOAL_PRIOR;
    case ERT_SESS_MFTCN: return k == ERT_GOAL_EMBEDDING;
    }
    return false;
}

static const char *goal_unsupported_why(const ert_session *s)
{
    if (s->fam == ERT_SESS_MFTCN)
        return "an mfTCN embedding needs a window of frames: upload the goal embedding instead";
    return "prior goals are for rig and ccvae (a VAE prior)";
}

/* Applies spec: computes the goal into s->goal_tmp (the family's own goal changes only on
 * success). */
static ert_status apply_goal(ert_session *s, const ert_goal_spec *spec, bool *deferred, ert_error *err)
{
    *deferred = false;
    if (spec->kind == ERT_GOAL_EMBEDDING) {
        for (size_t i = 0; i < spec->n; i++)
            if (!isfinite(spec->z[i]))
                return ert_fail(err, ERT_EINVAL, "set_goal.embedding: value %zu is %g, not a finite number", i,
                                (double)spec->z[i]);
    }
    switch (s->fam) {
    case ERT_SESS_G2V: return ert_sess_g2v_goal(s, spec, err);
    case ERT_SESS_TCN:
    case ERT_SESS_MFTCN: return ert_sess_tcn_goal(s, spec, err);
    case ERT_SESS_RIG:
    case ERT_SESS_CCVAE: return ert_sess_rig_goal(s, spec, deferred, err);
    }
    return ert_fail(err, ERT_EINTERNAL, "session: unknown family");
}

bool ert_sess_reapply_goal(ert_session *s, ert_error *err)
{
    if (!s->has_goal)
        return true;
    ert_goal_spec sp = s->spec;
    sp.frame = sp.copy.pixels ? &sp.copy.frame : NULL;
    bool deferred;
    if (apply_goal(s, &sp, &deferred, err) != ERT_OK) {
        s->has_goal = s->goal_pending = false;
        spec_free(&s->spec);
        return false;
    }
    s->goal_pending = deferred;
    if (!deferred)
        memcpy(s->goal, s->goal_tmp, s->goal_dim * sizeof *s->goal);
    return true;
}

/* An owned RGB24 copy of f (a snapshot or a view into the request) for later re-application. */
static ert_status copy_frame(const ert_frame *f, ert_image *out, ert_error *err)
{
    memset(out, 0, sizeof *out);
    ert_status st = ert_frame_check(f, err);
    if (st != ERT_OK)
        return st;
    size_t bytes = (size_t)f->width * f->height * 3; /* <= 32768^2 * 3 after the check */
    out->pixels = malloc(bytes);
    if (!out->pixels)
        return ert_fail(err, ERT_ENOMEM, "out of memory for a %ux%u goal image", f->width, f->height);
    st = ert_frame_to_rgb(f, out->pixels, err);
    if (st != ERT_OK) {
        ert_image_free(out);
        return st;
    }
    out->frame.format = ERT_PIX_RGB24;
    out->frame.width = f->width;
    out->frame.height = f->height;
    out->frame.stride[0] = f->width * 3;
    out->frame.plane[0] = out->pixels;
    out->frame.seq = f->seq;
    out->frame.t_capture_ns = f->t_capture_ns;
    return ERT_OK;
}

static ert_status image_spec(const embedrt_v1_Image *im, const ert_wire_views *views, ert_goal_spec *sp,
                             ert_frame *view, ert_error *err)
{
    const uint8_t *data = views ? views->image.data : NULL;
    size_t len = views ? views->image.len : 0;
    if (!data || !len)
        return ert_fail(err, ERT_EINVAL, "set_goal.image.data: empty");
    if (im->encoding == embedrt_v1_Image_Encoding_ENCODING_RGB24) {
        uint64_t want = (uint64_t)im->width * im->height * 3;
        if (!im->width || !im->height || im->width > 32768 || im->height > 32768 || want != len)
            return ert_fail(err, ERT_EINVAL,
                            "set_goal.image: RGB24 %ux%u needs width*height*3 = %llu bytes (1..32768 per side), got %zu",
                            im->width, im->height, (unsigned long long)want, len);
        memset(view, 0, sizeof *view);
        view->format = ERT_PIX_RGB24;
        view->width = im->width;
        view->height = im->height;
        view->stride[0] = im->width * 3;
        view->plane[0] = data;
        sp->frame = view; /* copied after the goal is computed */
        return ERT_OK;
    }
    if ((int)im->encoding < 0 || im->encoding > embedrt_v1_Image_Encoding_ENCODING_PPM)
        return ert_fail(err, ERT_EINVAL, "set_goal.image.encoding: unknown value %d", (int)im->encoding);
    /* PNG/JPEG/PPM (and unspecified) are told apart by their magic bytes. */
    ert_status st = ert_image_decode(data, len, "set_goal.image", &sp->copy, err);
    if (st == ERT_OK)
        sp->frame = &sp->copy.frame;
    return st;
}

static ert_status cmd_set_goal(ert_session *s, const embedrt_v1_SetGoal *g, const ert_wire_views *views,
                               const ert_session_frames *frames, ert_error *err)
{
    ert_goal_spec sp;
    memset(&sp, 0, sizeof sp);
    ert_frame view;
    ert_status st = ERT_OK;
    switch (g->which_source) {
    case embedrt_v1_SetGoal_image_tag: sp.kind = ERT_GOAL_IMAGE; break;
    case embedrt_v1_SetGoal_embedding_tag: sp.kind = ERT_GOAL_EMBEDDING; break;
    case embedrt_v1_SetGoal_camera_tag: sp.kind = ERT_GOAL_CAMERA; break;
    case embedrt_v1_SetGoal_prior_seed_tag: sp.kind = ERT_GOAL_PRIOR; break;
    default: return ert_fail(err, ERT_EINVAL, "set_goal: no source (image, embedding, camera or prior_seed)");
    }
    if (!goal_supported(s, sp.kind))
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: model '%s' (family %s) does not take this goal source; %s",
                        kind_field(sp.kind), s->name, s->family, goal_unsupported_why(s));
    if (sp.kind == ERT_GOAL_IMAGE) {
        st = image_spec(&g->source.image, views, &sp, &view, err);
    } else if (sp.kind == ERT_GOAL_EMBEDDING) {
        const embedrt_v1_Embedding *e = &g->source.embedding;
        size_t n = e->vector_count;
        if (n == 0 || n > ERT_SESS_MAX_VECTOR)
            st = ert_fail(err, ERT_EINVAL, "set_goal.embedding.vector: %zu values; model '%s' goals have %zu", n,
                          s->name, s->goal_dim);
        else if (!(sp.z = malloc(n * sizeof *sp.z)))
            st = ert_fail(err, ERT_ENOMEM, "set_goal.embedding: out of memory");
        else {
            memcpy(sp.z, e->vector, n * sizeof *sp.z);
            sp.n = n;
        }
    } else if (sp.kind == ERT_GOAL_CAMERA) {
        const char *cam = g->source.camera;
        int ci = ert_session_camera_index(s, cam);
        const ert_frame *f = !frames ? NULL : ci >= 0 ? frames->latest[ci] : frames->snapshot;
        if (!f)
            st = ert_fail(err, ERT_ENOTFOUND, "set_goal.camera '%s': %s", cam,
                          ci >= 0 ? "the camera has not delivered a frame yet"
                                  : "no such camera, or it has not delivered a frame yet");
        else
            sp.frame = f;
    } else {
        sp.seed = g->source.prior_seed;
    }
    /* Keep a copy of a borrowed frame for re-application (before anything changes). */
    if (st == ERT_OK && sp.frame && !sp.copy.pixels)
        st = copy_frame(sp.frame, &sp.copy, err);
    bool deferred = false;
    if (st == ERT_OK)
        st = apply_goal(s, &sp, &deferred, err);
    if (st != ERT_OK) {
        spec_free(&sp);
        return st;
    }
    spec_free(&s->spec);
    s->spec = sp;
    s->spec.frame = NULL; /* borrowed frames end with the call */
    s->has_goal = true;
    s->goal_pending = deferred;
    s->goal_id = ++s->last_goal_id;
    if (!deferred)
        memcpy(s->goal, s->goal_tmp, s->goal_dim * sizeof *s->goal);
    reply_goal_set(s);
    notice_goal(s, g->which_source == embedrt_v1_SetGoal_image_tag       ? "an image"
                   : g->which_source == embedrt_v1_SetGoal_embedding_tag ? "an embedding"
                   : g->which_source == embedrt_v1_SetGoal_camera_tag    ? "a camera frame"
                                                                         : "the prior");
    return ERT_OK;
}

/* ---------------------------------------------------------------- requests */

static const char *request_name(pb_size_t which)
{
    switch (which) {
    case embedrt_v1_Envelope_client_hello_tag: return "client_hello";
    case embedrt_v1_Envelope_subscribe_tag: return "subscribe";
    case embedrt_v1_Envelope_unsubscribe_tag: return "unsubscribe";
    case embedrt_v1_Envelope_set_goal_tag: return "set_goal";
    case embedrt_v1_Envelope_clear_goal_tag: return "clear_goal";
    case embedrt_v1_Envelope_reset_episode_tag: return "reset_episode";
    case embedrt_v1_Envelope_load_demo_tag: return "load_demo";
    case embedrt_v1_Envelope_grasp_event_tag: return "grasp_event";
    case embedrt_v1_Envelope_load_model_tag: return "load_model";
    case embedrt_v1_Envelope_get_stats_tag: return "get_stats";
    default: return "a non-request body";
    }
}

/* The model a request names (empty: any), or NULL for bodies without one. */
static const char *request_model(const embedrt_v1_Envelope *req)
{
    switch (req->which_body) {
    case embedrt_v1_Envelope_set_goal_tag: return req->body.set_goal.model;
    case embedrt_v1_Envelope_clear_goal_tag: return req->body.clear_goal.model;
    case embedrt_v1_Envelope_reset_episode_tag: return req->body.reset_episode.model;
    case embedrt_v1_Envelope_load_demo_tag: return req->body.load_demo.model;
    case embedrt_v1_Envelope_grasp_event_tag: return req->body.grasp_event.model;
    default: return NULL;
    }
}

static ert_status dispatch(ert_session *s, const embedrt_v1_Envelope *req, const ert_wire_views *views,
                           const ert_session_frames *frames, ert_error *err)
{
    const char *what = request_name(req->which_body);
    const char *model = request_model(req);
    if (!model)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: not a model request (model '%s' takes set_goal, clear_goal, "
                                               "reset_episode, load_demo, grasp_event)", what, s->name);
    if (model[0] && strcmp(model, s->name) != 0)
        return ert_fail(err, ERT_ENOTFOUND, "%s.model '%.31s' reached model '%s'", what, model, s->name);
    switch (req->which_body) {
    case embedrt_v1_Envelope_set_goal_tag: return cmd_set_goal(s, &req->body.set_goal, views, frames, err);
    case embedrt_v1_Envelope_clear_goal_tag: {
        bool had = s->has_goal;
        s->has_goal = s->goal_pending = false;
        spec_free(&s->spec);
        ert_sess_reply_ack(s);
        if (had)
            notice_goal(s, "");
        return ERT_OK;
    }
    case embedrt_v1_Envelope_reset_episode_tag:
        if (s->fam == ERT_SESS_TCN || s->fam == ERT_SESS_MFTCN)
            ert_sess_tcn_reset(s);
        else if (s->fam == ERT_SESS_RIG || s->fam == ERT_SESS_CCVAE)
            ert_sess_rig_reset(s);
        else
            s->g2v.has_pre = false;
        ert_sess_reply_ack(s);
        return ERT_OK;
    case embedrt_v1_Envelope_load_demo_tag:
        if (s->fam != ERT_SESS_TCN && s->fam != ERT_SESS_MFTCN)
            return ert_fail(err, ERT_EUNSUPPORTED,
                            "load_demo: model '%s' (family %s) has no demonstrations; they are for tcn and mftcn",
                            s->name, s->family);
        return ert_sess_tcn_load_demo(s, &req->body.load_demo, views, err);
    case embedrt_v1_Envelope_grasp_event_tag:
        if (s->fam != ERT_SESS_G2V)
            return ert_fail(err, ERT_EUNSUPPORTED,
                            "grasp_event: model '%s' (family %s) has no grasp rewards; they are for grasp2vec", s->name,
                            s->family);
        return ert_sess_g2v_grasp(s, &req->body.grasp_event, frames, err);
    default: break;
    }
    return ert_fail(err, ERT_EINTERNAL, "session: request %s not dispatched", what);
}

ert_status ert_session_command(ert_session *s, const embedrt_v1_Envelope *req, const ert_wire_views *views,
                               const ert_session_frames *frames, const ert_session_emit *emit, ert_error *err)
{
    ert_error local;
    if (!err)
        err = &local;
    if (!s || !req)
        return ert_fail(err, ERT_EINVAL, "ert_session_command: NULL %s", s ? "request" : "session");
    s->emit = emit;
    s->request_id = req->request_id;
    ert_status st = dispatch(s, req, views, frames, err);
    if (st != ERT_OK)
        reply_error(s, st, err->msg);
    s->emit = NULL;
    s->request_id = 0;
    return st;
}

/* ---------------------------------------------------------------- hot swap */

static bool copy_spec(const ert_goal_spec *from, ert_goal_spec *to)
{
    memset(to, 0, sizeof *to);
    to->kind = from->kind;
    to->seed = from->seed;
    if (from->z) {
        if (!(to->z = malloc(from->n * sizeof *to->z)))
            return false;
        memcpy(to->z, from->z, from->n * sizeof *to->z);
        to->n = from->n;
    }
    if (from->copy.pixels && copy_frame(&from->copy.frame, &to->copy, NULL) != ERT_OK) {
        free(to->z);
        return false;
    }
    return true;
}

size_t ert_session_adopt_state(ert_session *fresh, const ert_session *old)
{
    size_t dropped = 0;
    fresh->generation = old->generation + 1;
    fresh->last_goal_id = old->last_goal_id;
    if (old->has_goal) {
        ert_goal_spec sp;
        bool deferred = false;
        if (!goal_supported(fresh, old->spec.kind) || !copy_spec(&old->spec, &sp)) {
            dropped++;
        } else {
            sp.frame = sp.copy.pixels ? &sp.copy.frame : NULL;
            if (apply_goal(fresh, &sp, &deferred, NULL) != ERT_OK) {
                spec_free(&sp);
                dropped++;
            } else {
                sp.frame = NULL;
                spec_free(&fresh->spec);
                fresh->spec = sp;
                fresh->has_goal = true;
                fresh->goal_pending = deferred;
                fresh->goal_id = old->goal_id;
                if (!deferred)
                    memcpy(fresh->goal, fresh->goal_tmp, fresh->goal_dim * sizeof *fresh->goal);
            }
        }
    }
    bool old_demo = (old->fam == ERT_SESS_TCN || old->fam == ERT_SESS_MFTCN) && old->tcn.demo;
    if (old_demo && !ert_sess_tcn_adopt_demo(fresh, old))
        dropped++;
    /* Episode state computed by the old graphs cannot carry over: a pre-grasp scene
     * embedding, an mfTCN window of trunk maps, a CC-VAE context. */
    if (old->fam == ERT_SESS_G2V && old->g2v.has_pre)
        dropped++;
    if (old->fam == ERT_SESS_MFTCN && old->tcn.m && ert_mftcn_frames(old->tcn.m) > 0)
        dropped++;
    if (old->fam == ERT_SESS_CCVAE && !old->rig.context_pending)
        dropped++;
    return dropped;
}
