/* TCN over a family blob: embedding frames and loading demonstrations. */
#include "embedrt/tcn.h"

#include "embedrt/image.h"
#include "embedrt/npy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ert_tcn {
    ert_family_model *fm;
    int gi;
    size_t d;
    ert_tcn_params params;
};

/* The embedder's contract, shared by the converter's check and create (a blob is an
 * untrusted file): one float32 [1,3,H,W] input and an "embedding" [1,D] output. */
static ert_status check_embedder(const ert_graph *g, size_t *d, ert_error *err)
{
    if (!g)
        return ert_fail(err, ERT_EINVAL, "tcn needs an 'embedder' graph");
    const ert_tensor *x = g->n_inputs == 1 ? &g->tensors[g->inputs[0]] : NULL;
    if (!x || x->dtype != ERT_DT_F32 || x->shape.rank != 4 || x->shape.dims[0] != 1 || x->shape.dims[1] != 3)
        return ert_fail(err, ERT_EINVAL, "role 'embedder': needs one float32 [1,3,H,W] image input");
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        const ert_tensor *t = &g->tensors[g->outputs[i]];
        if (strcmp(t->name, "embedding") != 0)
            continue;
        if (t->dtype != ERT_DT_F32 || t->shape.rank != 2 || t->shape.dims[0] != 1 || t->shape.dims[1] < 1)
            return ert_fail(err, ERT_EINVAL, "role 'embedder': output 'embedding' must be float32 [1,D]");
        *d = (size_t)t->shape.dims[1];
        return ERT_OK;
    }
    return ert_fail(err, ERT_EINVAL, "role 'embedder': the graph has no output named 'embedding'");
}

static ert_status tcn_check(const ert_graph *const *graphs, const ert_family_param *params, size_t n_params,
                            ert_error *err)
{
    size_t d;
    ert_tcn_params p;
    ert_status st = check_embedder(graphs[0], &d, err);
    return st == ERT_OK ? ert_tcn_params_parse(params, n_params, &p, err) : st;
}

static const ert_family_role_def roles[] = {
    {"embedder", true, "image float32 [1,3,H,W] -> embedding [1,D]"},
    {NULL, false, NULL},
};
static const ert_family_param_def params[] = {
    {"alpha", "imitation reward -alpha d^2 - beta sqrt(gamma + d^2): alpha (0.5, public reimplementation)", NULL, 0.5},
    {"beta", "imitation reward: beta (0.5, public reimplementation)", NULL, 0.5},
    {"gamma", "imitation reward: gamma (1e-3, public reimplementation)", NULL, 1e-3},
    {"l2_normalize", "1: normalise the embedding at run time (PyTorch-port variant; 0 when the graph does it)", NULL, 0},
    {"l2_scale", "scale after run-time normalisation (10 in the PyTorch port)", NULL, 10},
    {NULL, NULL, NULL, 0},
};
const ert_family_desc ert_family_tcn = {"tcn", roles, params, tcn_check};

ert_status ert_tcn_create(ert_family_model *fm, ert_tcn **out, ert_error *err)
{
    *out = NULL;
    int gi = ert_family_graph(fm, "embedder");
    size_t d = 0;
    ert_status st = check_embedder(gi >= 0 ? ert_model_graph(ert_family_engine(fm), (uint32_t)gi) : NULL, &d, err);
    if (st != ERT_OK)
        return st;
    const ert_family_param *ps;
    size_t np = ert_family_params(fm, &ps);
    ert_tcn *t = calloc(1, sizeof *t);
    if (!t)
        return ert_fail(err, ERT_ENOMEM, "ert_tcn_create: out of memory");
    t->fm = fm, t->gi = gi, t->d = d;
    st = ert_tcn_params_parse(ps, np, &t->params, err);
    if (st != ERT_OK) {
        free(t);
        return st;
    }
    *out = t;
    return ERT_OK;
}

void ert_tcn_free(ert_tcn *t)
{
    free(t);
}

size_t ert_tcn_dim(const ert_tcn *t)
{
    return t->d;
}

const ert_tcn_params *ert_tcn_blob_params(const ert_tcn *t)
{
    return &t->params;
}

ert_status ert_tcn_embed(ert_tcn *t, const ert_tcn_params *p, const ert_frame *f, float *out, ert_error *err)
{
    if (!p)
        p = &t->params;
    ert_status st = ert_family_set_image(t->fm, t->gi, 0, f, err);
    if (st == ERT_OK)
        st = ert_family_run(t->fm, t->gi, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *e = ert_family_output(t->fm, t->gi, "embedding");
    memcpy(out, e->data, t->d * sizeof *out);
    for (size_t i = 0; i < t->d; i++)
        if (!isfinite(out[i]))
            return ert_fail(err, ERT_EFORMAT, "tcn: the embedding has a non-finite value at %zu", i);
    if (p->l2_normalize)
        ert_tcn_l2_normalize(out, t->d, p->l2_scale);
    return ERT_OK;
}

ert_status ert_tcn_demo_load_npy(const ert_tcn *t, const char *path, ert_tcn_demo *demo, ert_error *err)
{
    memset(demo, 0, sizeof *demo);
    ert_npy n;
    ert_status st = ert_npy_read(path, &n, err);
    if (st != ERT_OK)
        return st;
    if (n.dtype != ERT_DT_F32 || n.shape.rank != 2 || n.shape.dims[0] < 1 || (size_t)n.shape.dims[1] != t->d) {
        char s[64];
        ert_shape_str(&n.shape, s, sizeof s);
        ert_npy_free(&n);
        return ert_fail(err, ERT_EINVAL, "%s: a demonstration must be float32 [T, %zu] embeddings, got %s %s", path,
                        t->d, ert_dtype_name(n.dtype), s);
    }
    demo->emb = n.data; /* ownership moves to the demo */
    demo->t = (size_t)n.shape.dims[0];
    demo->d = t->d;
    return ERT_OK;
}

ert_status ert_tcn_demo_load_video(ert_tcn *t, const ert_tcn_params *p, const char *path, ert_tcn_demo *demo,
                                   ert_error *err)
{
    memset(demo, 0, sizeof *demo);
    ert_y4m *y;
    ert_status st = ert_y4m_open(path, &y, err);
    if (st != ERT_OK)
        return st;
    /* Count first, so that the demo is one allocation of the right size. */
    size_t frames = 0;
    bool eof = false;
    ert_frame f;
    while (st == ERT_OK && (st = ert_y4m_next(y, &f, &eof, err)) == ERT_OK && !eof)
        frames++;
    if (st == ERT_OK && frames == 0)
        st = ert_fail(err, ERT_EINVAL, "%s: the demonstration video has no frames", path);
    if (st == ERT_OK)
        st = ert_y4m_rewind(y, err);
    if (st == ERT_OK && !(demo->emb = malloc(frames * t->d * sizeof *demo->emb)))
        st = ert_fail(err, ERT_ENOMEM, "%s: cannot allocate %zu embeddings", path, frames);
    for (size_t i = 0; st == ERT_OK && i < frames; i++) {
        st = ert_y4m_next(y, &f, &eof, err);
        if (st == ERT_OK && eof)
            st = ert_fail(err, ERT_EIO, "%s: the video shrank while reading it", path);
        if (st == ERT_OK && (st = ert_tcn_embed(t, p, &f, demo->emb + i * t->d, err)) != ERT_OK)
            ert_error_prefix(err, "%s: frame %zu", path, i);
    }
    ert_y4m_close(y);
    if (st != ERT_OK) {
        ert_tcn_demo_free(demo);
        return st;
    }
    demo->t = frames;
    demo->d = t->d;
    return ERT_OK;
}

void ert_tcn_demo_free(ert_tcn_demo *demo)
{
    free(demo->emb);
    memset(demo, 0, sizeof *demo);
}
