/* The tcn model layer: runs a family blob's embedder graph on frames and videos and feeds
 * the embeddings to the demo and reward code of tcn.c. */
#include "embedrt/tcn.h"

#include "embedrt/image.h"

#include "tcn_internal.h"

#include <stdlib.h>
#include <string.h>

/* A demo video longer than this is refused (about 9 hours at 30 fps). */
#define MAX_VIDEO_FRAMES 1000000u

struct ert_tcn {
    ert_family_model *fm; /* not owned */
    int gi;
    ert_tcn_layout lay;
    ert_tcn_params params; /* as stored in the blob */
    const ert_tensor *embedding;
    float *buf; /* one embedding, for ert_tcn_step_frame */
};

ert_status ert_tcn_params_from(const ert_family_model *fm, ert_tcn_params *p, ert_error *err)
{
    if (!fm || !p)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_params_from: NULL %s", fm ? "output" : "model");
    static const char *const keys[] = {"alpha", "beta", "gamma", "l2_normalize", "l2_scale", "time_window"};
    ert_family_param stored[sizeof keys / sizeof keys[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const ert_family_param *prm = ert_family_get_param(fm, keys[i]);
        if (prm)
            stored[n++] = *prm;
    }
    return ert_tcn_params_parse(stored, n, p, err);
}

ert_status ert_tcn_create(ert_family_model *fm, ert_tcn **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_create: NULL output");
    *out = NULL;
    if (!fm)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_create: NULL model");
    const ert_family_desc *d = ert_family_desc_of(fm);
    if (!d || strcmp(d->name, "tcn") != 0)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_create: a %s blob, not a tcn one", d ? d->name : "non-family");
    ert_tcn *m = calloc(1, sizeof *m);
    if (!m)
        return ert_fail(err, ERT_ENOMEM, "ert_tcn_create: out of memory");
    m->fm = fm;
    m->gi = ert_family_graph(fm, "embedder");
    const ert_graph *g = m->gi >= 0 ? ert_model_graph(ert_family_engine(fm), (uint32_t)m->gi) : NULL;
    /* The converter ran the same check, but a blob is a file: check what we read again. */
    ert_status st = ert_tcn_check_graph(g, &m->lay, err);
    if (st == ERT_OK)
        st = ert_tcn_params_from(fm, &m->params, err);
    if (st == ERT_OK) {
        m->embedding = ert_family_output(fm, m->gi, "embedding");
        if (!m->embedding || !m->embedding->data || m->embedding->nbytes < m->lay.dim * sizeof(float))
            st = ert_fail(err, ERT_EFORMAT, "ert_tcn_create: output 'embedding' has no buffer of %zu floats",
                          m->lay.dim);
    }
    if (st == ERT_OK && !(m->buf = malloc(m->lay.dim * sizeof(float)))) /* dim * 4 checked by check() */
        st = ert_fail(err, ERT_ENOMEM, "ert_tcn_create: out of memory");
    if (st != ERT_OK) {
        ert_tcn_free(m);
        return st;
    }
    *out = m;
    return ERT_OK;
}

void ert_tcn_free(ert_tcn *m)
{
    if (!m)
        return;
    free(m->buf);
    free(m);
}

size_t ert_tcn_dim(const ert_tcn *m)
{
    return m ? m->lay.dim : 0;
}

const ert_tcn_params *ert_tcn_blob_params(const ert_tcn *m)
{
    return m ? &m->params : NULL;
}

ert_status ert_tcn_embed(ert_tcn *m, const ert_tcn_params *p, const ert_frame *frame, float *out, ert_error *err)
{
    if (!m || !frame || !out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_embed: NULL %s", !m ? "model" : !frame ? "frame" : "output");
    if (!p)
        p = &m->params;
    ert_status st = ert_tcn_params_check(p, "ert_tcn_embed", err);
    if (st == ERT_OK)
        st = ert_family_set_image(m->fm, m->gi, 0, frame, err);
    if (st == ERT_OK)
        st = ert_family_run(m->fm, m->gi, err);
    if (st != ERT_OK)
        return st;
    size_t dim = m->lay.dim;
    memcpy(out, m->embedding->data, dim * sizeof *out);
    if (p->l2_normalize)
        ert_tcn_l2_normalize(out, dim, p->l2_scale);
    size_t bad = ert_tcn_first_nonfinite(out, dim);
    if (bad < dim)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_embed: embedding value %zu is not finite (%g)", bad,
                        (double)out[bad]);
    return ERT_OK;
}

/* Frames of an open video up to its end (at most MAX_VIDEO_FRAMES + 1, to detect more). */
static ert_status count_frames(ert_y4m *y, const char *path, size_t *n, ert_error *err)
{
    *n = 0;
    for (;;) {
        ert_frame f;
        bool eof = false;
        ert_status st = ert_y4m_next(y, &f, &eof, err);
        if (st != ERT_OK) /* the reader's messages name the file */
            return st;
        if (eof)
            return ERT_OK;
        if (++*n > MAX_VIDEO_FRAMES)
            return ert_fail(err, ERT_EUNSUPPORTED, "%s: more than %u frames: too long for a demo", path,
                            MAX_VIDEO_FRAMES);
    }
}

ert_status ert_tcn_demo_from_video(ert_tcn *m, const ert_tcn_params *p, const char *y4m_path, ert_tcn_demo **out,
                                   ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_from_video: NULL output");
    *out = NULL;
    if (!m || !y4m_path)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_from_video: NULL %s", m ? "path" : "model");
    ert_y4m *y = NULL;
    ert_tcn_demo *demo = NULL;
    size_t n = 0;
    ert_status st = ert_y4m_open(y4m_path, &y, err);
    if (st == ERT_OK)
        st = count_frames(y, y4m_path, &n, err);
    if (st == ERT_OK && n == 0)
        st = ert_fail(err, ERT_EFORMAT, "%s: the video has no frames", y4m_path);
    if (st == ERT_OK)
        st = ert_y4m_rewind(y, err);
    if (st == ERT_OK)
        st = ert_tcn_demo_alloc(n, m->lay.dim, y4m_path, &demo, err);
    for (size_t i = 0; st == ERT_OK && i < n; i++) {
        ert_frame f;
        bool eof = false;
        /* The reader's messages name the file already. */
        st = ert_y4m_next(y, &f, &eof, err);
        if (st == ERT_OK && eof)
            st = ert_fail(err, ERT_EFORMAT, "%s: ended after %zu of %zu frames (changed while reading?)", y4m_path,
                          i, n);
        else if (st == ERT_OK && (st = ert_tcn_embed(m, p, &f, demo->emb + i * demo->d, err)) != ERT_OK)
            ert_error_prefix(err, "%s: frame %zu", y4m_path, i);
    }
    if (y)
        ert_y4m_close(y);
    if (st != ERT_OK) {
        ert_tcn_demo_free(demo);
        return st;
    }
    *out = demo;
    return ERT_OK;
}

ert_status ert_tcn_step_frame(ert_tcn *m, ert_tcn_tracker *tr, const ert_frame *frame, ert_tcn_step *out,
                              ert_error *err)
{
    if (!m || !tr)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_step_frame: NULL %s", m ? "tracker" : "model");
    ert_status st = ert_tcn_embed(m, &tr->params, frame, m->buf, err);
    if (st != ERT_OK)
        return st;
    return ert_tcn_tracker_step(tr, m->buf, m->lay.dim, out, err);
}
