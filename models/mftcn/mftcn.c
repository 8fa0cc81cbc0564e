/* mfTCN: causal windows over a ring buffer of per-frame trunk features. */
#include "embedrt/mftcn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ert_mftcn_params_default(ert_mftcn_params *p)
{
    p->window = 2;
    p->stride = 15;
}

ert_status ert_mftcn_params_parse(const ert_family_param *params, size_t n, ert_mftcn_params *p, ert_error *err)
{
    ert_mftcn_params out;
    ert_mftcn_params_default(&out);
    for (size_t i = 0; i < n; i++) {
        const ert_family_param *q = &params[i];
        bool w = strcmp(q->key, "window") == 0, s = strcmp(q->key, "stride") == 0;
        if (!w && !s)
            continue;
        double lim = w ? 64 : 10000;
        if (q->text || q->n_values != 1 || !(q->values[0] >= 1 && q->values[0] <= lim) ||
            q->values[0] != floor(q->values[0]))
            return ert_fail(err, ERT_EINVAL, "mftcn parameter '%s' must be an integer in [1, %g]", q->key, lim);
        *(w ? &out.window : &out.stride) = (size_t)q->values[0];
    }
    *p = out;
    return ERT_OK;
}

void ert_mftcn_window_indices(uint64_t t, size_t n, size_t s, uint64_t *out)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t back = (uint64_t)(n - 1 - k) * s;
        out[k] = t >= back ? t - back : 0;
    }
}

/* ---- graphs ---- */

static const ert_tensor *output_named(const ert_graph *g, const char *name)
{
    for (uint32_t i = 0; g && i < g->n_outputs; i++)
        if (strcmp(g->tensors[g->outputs[i]].name, name) == 0)
            return &g->tensors[g->outputs[i]];
    return NULL;
}

/* trunk: one image input, "features" [1,C,h,w]; head: one input [1,C,n,h,w], "embedding" [1,D]. */
static ert_status check_graphs(const ert_graph *trunk, const ert_graph *head, size_t window, size_t *d,
                               ert_error *err)
{
    if (!trunk || !head)
        return ert_fail(err, ERT_EINVAL, "mftcn needs a 'trunk' and a 'head' graph");
    const ert_tensor *x = trunk->n_inputs == 1 ? &trunk->tensors[trunk->inputs[0]] : NULL;
    if (!x || x->dtype != ERT_DT_F32 || x->shape.rank != 4 || x->shape.dims[0] != 1 || x->shape.dims[1] != 3)
        return ert_fail(err, ERT_EINVAL, "role 'trunk': needs one float32 [1,3,H,W] image input");
    const ert_tensor *f = output_named(trunk, "features");
    if (!f || f->dtype != ERT_DT_F32 || f->shape.rank != 4 || f->shape.dims[0] != 1)
        return ert_fail(err, ERT_EINVAL, "role 'trunk': needs an output 'features' float32 [1,C,h,w]");
    const ert_tensor *hin = head->n_inputs == 1 ? &head->tensors[head->inputs[0]] : NULL;
    if (!hin || hin->dtype != ERT_DT_F32 || hin->shape.rank != 5 || hin->shape.dims[0] != 1 ||
        hin->shape.dims[1] != f->shape.dims[1] || hin->shape.dims[2] != (int64_t)window ||
        hin->shape.dims[3] != f->shape.dims[2] || hin->shape.dims[4] != f->shape.dims[3])
        return ert_fail(err, ERT_EINVAL,
                        "role 'head': its input must be float32 [1,%lld,%zu,%lld,%lld] (trunk features x window)",
                        (long long)f->shape.dims[1], window, (long long)f->shape.dims[2], (long long)f->shape.dims[3]);
    const ert_tensor *e = output_named(head, "embedding");
    if (!e || e->dtype != ERT_DT_F32 || e->shape.rank != 2 || e->shape.dims[0] != 1 || e->shape.dims[1] < 1)
        return ert_fail(err, ERT_EINVAL, "role 'head': needs an output 'embedding' float32 [1,D]");
    *d = (size_t)e->shape.dims[1];
    return ERT_OK;
}

static ert_status mftcn_check(const ert_graph *const *graphs, const ert_family_param *params, size_t n_params,
                              ert_error *err)
{
    ert_mftcn_params p;
    size_t d;
    ert_status st = ert_mftcn_params_parse(params, n_params, &p, err);
    return st == ERT_OK ? check_graphs(graphs[0], graphs[1], p.window, &d, err) : st;
}

static const ert_family_role_def roles[] = {
    {"trunk", true, "image float32 [1,3,H,W] -> features [1,C,h,w], once per frame"},
    {"head", true, "window of trunk features [1,C,n,h,w], oldest first -> embedding [1,D]"},
    {NULL, false, NULL},
};
static const ert_family_param_def params[] = {
    {"window", "frames per window n (2, Dwibedi et al. 2018)", NULL, 2},
    {"stride", "frames between window members s (15, Dwibedi et al. 2018)", NULL, 15},
    {NULL, NULL, NULL, 0},
};
const ert_family_desc ert_family_mftcn = {"mftcn", roles, params, mftcn_check};

/* ---- model layer ---- */

struct ert_mftcn {
    ert_family_model *fm;
    int trunk, head;
    ert_mftcn_params p;
    size_t d, map_floats, slots;
    float *ring;       /* slots x map_floats: frame t lives in slot t % slots */
    uint64_t t;        /* frames pushed this episode */
    uint64_t *window;  /* p.window indices */
};

ert_status ert_mftcn_create(ert_family_model *fm, ert_mftcn **out, ert_error *err)
{
    *out = NULL;
    ert_mftcn *m = calloc(1, sizeof *m);
    if (!m)
        return ert_fail(err, ERT_ENOMEM, "ert_mftcn_create: out of memory");
    m->fm = fm;
    m->trunk = ert_family_graph(fm, "trunk");
    m->head = ert_family_graph(fm, "head");
    const ert_family_param *ps;
    size_t np = ert_family_params(fm, &ps);
    ert_model *eng = ert_family_engine(fm);
    ert_status st = ert_mftcn_params_parse(ps, np, &m->p, err);
    if (st == ERT_OK)
        st = check_graphs(m->trunk >= 0 ? ert_model_graph(eng, (uint32_t)m->trunk) : NULL,
                          m->head >= 0 ? ert_model_graph(eng, (uint32_t)m->head) : NULL, m->p.window, &m->d, err);
    if (st == ERT_OK) {
        const ert_tensor *f = ert_family_output(fm, m->trunk, "features");
        m->map_floats = f->nbytes / sizeof(float);
        m->slots = (m->p.window - 1) * m->p.stride + 1;
        size_t bytes;
        if (!ert_mul_size(m->slots, m->map_floats, &bytes) || !ert_mul_size(bytes, sizeof(float), &bytes) ||
            !(m->ring = malloc(bytes)) || !(m->window = calloc(m->p.window, sizeof *m->window)))
            st = ert_fail(err, ERT_ENOMEM, "ert_mftcn_create: cannot allocate %zu trunk maps", m->slots);
    }
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
    free(m->ring);
    free(m->window);
    free(m);
}

size_t ert_mftcn_dim(const ert_mftcn *m)
{
    return m->d;
}

uint64_t ert_mftcn_frames(const ert_mftcn *m)
{
    return m->t;
}

void ert_mftcn_reset(ert_mftcn *m)
{
    m->t = 0;
}

ert_status ert_mftcn_push(ert_mftcn *m, const ert_frame *frame, float *out, ert_error *err)
{
    ert_status st = ert_family_set_image(m->fm, m->trunk, 0, frame, err);
    if (st == ERT_OK)
        st = ert_family_run(m->fm, m->trunk, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *f = ert_family_output(m->fm, m->trunk, "features");
    uint64_t t = m->t;
    memcpy(m->ring + (t % m->slots) * m->map_floats, f->data, m->map_floats * sizeof(float));
    /* Head input [1, C, n, h, w]: channel-major, the window's frames inside each channel. */
    ert_mftcn_window_indices(t, m->p.window, m->p.stride, m->window);
    float *x = ert_family_input(m->fm, m->head, 0)->data;
    size_t hw = (size_t)f->shape.dims[2] * (size_t)f->shape.dims[3], c_n = (size_t)f->shape.dims[1];
    for (size_t c = 0; c < c_n; c++)
        for (size_t k = 0; k < m->p.window; k++)
            memcpy(x + (c * m->p.window + k) * hw, m->ring + (m->window[k] % m->slots) * m->map_floats + c * hw,
                   hw * sizeof(float));
    st = ert_family_run(m->fm, m->head, err);
    if (st != ERT_OK)
        return st;
    memcpy(out, ert_family_output(m->fm, m->head, "embedding")->data, m->d * sizeof(float));
    m->t = t + 1;
    return ERT_OK;
}
