/* The mftcn model layer: runs the trunk once per frame into the ring of mftcn.c, then the
 * head on the stacked window ending at that frame. */
#include "embedrt/mftcn.h"

#include "mftcn_internal.h"
#include "../tcn/tcn_internal.h"

#include <stdlib.h>
#include <string.h>

struct ert_mftcn {
    ert_family_model *fm; /* not owned */
    int trunk_gi, head_gi;
    ert_mftcn_layout lay;
    ert_mftcn_params params;
    const ert_tensor *features, *embedding;
    ert_tensor *head_input;
    ert_mftcn_ring *ring;
};

ert_status ert_mftcn_params_from(const ert_family_model *fm, ert_mftcn_params *p, ert_error *err)
{
    if (!fm || !p)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_params_from: NULL %s", fm ? "output" : "model");
    static const char *const keys[] = {"window", "stride"};
    ert_family_param stored[2];
    size_t n = 0;
    for (size_t i = 0; i < 2; i++) {
        const ert_family_param *prm = ert_family_get_param(fm, keys[i]);
        if (prm)
            stored[n++] = *prm;
    }
    return ert_mftcn_params_parse(stored, n, p, err);
}

/* t is a float32 tensor of fm with a buffer of at least floats floats. */
static bool has_buffer(const ert_tensor *t, size_t floats)
{
    return t && t->data && t->dtype == ERT_DT_F32 && t->nbytes / sizeof(float) >= floats;
}

ert_status ert_mftcn_create(ert_family_model *fm, const ert_mftcn_params *p, ert_mftcn **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_create: NULL output");
    *out = NULL;
    if (!fm)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_create: NULL model");
    const ert_family_desc *d = ert_family_desc_of(fm);
    if (!d || strcmp(d->name, "mftcn") != 0)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_create: a %s blob, not an mftcn one", d ? d->name : "non-family");
    ert_mftcn *m = calloc(1, sizeof *m);
    if (!m)
        return ert_fail(err, ERT_ENOMEM, "ert_mftcn_create: out of memory");
    m->fm = fm;
    ert_status st = p ? ert_mftcn_params_check(p, "ert_mftcn_create", err) : ert_mftcn_params_from(fm, &m->params, err);
    if (st == ERT_OK && p)
        m->params = *p;
    m->trunk_gi = ert_family_graph(fm, "trunk");
    m->head_gi = ert_family_graph(fm, "head");
    ert_model *engine = ert_family_engine(fm);
    const ert_graph *trunk = m->trunk_gi >= 0 ? ert_model_graph(engine, (uint32_t)m->trunk_gi) : NULL;
    const ert_graph *head = m->head_gi >= 0 ? ert_model_graph(engine, (uint32_t)m->head_gi) : NULL;
    /* The converter ran the same check, but a blob is a file: check what we read again. */
    if (st == ERT_OK)
        st = ert_mftcn_check_graphs(trunk, head, &m->params, &m->lay, err);
    size_t hw = m->lay.h * m->lay.w, per_frame = m->lay.c * hw; /* bounded by check_graphs */
    if (st == ERT_OK) {
        m->features = ert_family_output(fm, m->trunk_gi, "features");
        m->embedding = ert_family_output(fm, m->head_gi, "embedding");
        m->head_input = ert_family_input(fm, m->head_gi, 0);
        if (!has_buffer(m->features, per_frame) || !has_buffer(m->embedding, m->lay.dim) ||
            !has_buffer(m->head_input, per_frame * m->lay.window))
            st = ert_fail(err, ERT_EFORMAT, "ert_mftcn_create: trunk features, head input or embedding has no buffer "
                                            "of its shape's size");
    }
    if (st == ERT_OK)
        st = ert_mftcn_ring_create(m->params.window, m->params.stride, m->lay.c, hw, &m->ring, err);
    if (st != ERT_OK) {
        ert_mftcn_free(m);
        return st;
    }
    *out = m;
    return ERT_OK;
}

void ert_mftcn_free(ert_mftcn *m)
{
    if (!m)
        return;
    ert_mftcn_ring_free(m->ring);
    free(m);
}

size_t ert_mftcn_dim(const ert_mftcn *m)
{
    return m ? m->lay.dim : 0;
}

const ert_mftcn_params *ert_mftcn_params_of(const ert_mftcn *m)
{
    return m ? &m->params : NULL;
}

void ert_mftcn_reset(ert_mftcn *m)
{
    if (m)
        ert_mftcn_ring_reset(m->ring);
}

uint64_t ert_mftcn_frames(const ert_mftcn *m)
{
    return m ? ert_mftcn_ring_frames(m->ring) : 0;
}

ert_status ert_mftcn_push(ert_mftcn *m, const ert_frame *frame, float *embedding, ert_error *err)
{
    if (!m || !frame || !embedding)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_push: NULL %s", !m ? "model" : !frame ? "frame" : "output");
    ert_status st = ert_family_set_image(m->fm, m->trunk_gi, 0, frame, err);
    if (st == ERT_OK)
        st = ert_family_run(m->fm, m->trunk_gi, err);
    if (st != ERT_OK)
        return st;
    size_t per_frame = m->lay.c * m->lay.h * m->lay.w;
    /* A NaN map would poison the next (n-1)*s windows and the head's max-pool may hide it. */
    size_t bad = ert_tcn_first_nonfinite(m->features->data, per_frame);
    if (bad < per_frame)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_push: trunk feature %zu is not finite (%g)", bad,
                        (double)((const float *)m->features->data)[bad]);
    st = ert_mftcn_ring_push(m->ring, m->features->data, err);
    if (st == ERT_OK)
        st = ert_mftcn_ring_stack(m->ring, m->head_input->data, err);
    if (st == ERT_OK)
        st = ert_family_run(m->fm, m->head_gi, err);
    if (st != ERT_OK)
        return st;
    size_t dim = m->lay.dim;
    memcpy(embedding, m->embedding->data, dim * sizeof *embedding);
    bad = ert_tcn_first_nonfinite(embedding, dim);
    if (bad < dim)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_push: embedding value %zu is not finite (%g)", bad,
                        (double)embedding[bad]);
    return ERT_OK;
}
