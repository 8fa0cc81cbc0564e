/* Family blobs: the registry of family descriptors, loading a family blob into a
 * runnable model with its roles, recipes and parameters, and running roles on frames. */
#include "embedrt/family.h"

#include "embedrt/blob.h"
#include "embedrt/preprocess.h"
#include "family_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const ert_family_desc ert_family_grasp2vec, ert_family_tcn, ert_family_mftcn, ert_family_rig,
    ert_family_ccvae;

static const ert_family_desc *const families[] = {
    &ert_family_grasp2vec, &ert_family_tcn, &ert_family_mftcn, &ert_family_rig, &ert_family_ccvae,
};
#define N_FAMILIES (sizeof families / sizeof families[0])

const ert_family_desc *ert_family_find(const char *name)
{
    for (size_t i = 0; name && i < N_FAMILIES; i++)
        if (strcmp(families[i]->name, name) == 0)
            return families[i];
    return NULL;
}

const char *ert_family_names(void)
{
    return "grasp2vec, tcn, mftcn, rig, ccvae";
}

struct ert_family_model {
    ert_model *model;
    const ert_family_desc *desc;
    const ert_blob_info *info;
    ert_family_param_set params;
    void *scratch; /* preprocessing scratch, sized for the largest frame seen */
    size_t scratch_bytes;
};

ert_status ert_family_load(const char *path, const ert_model_options *opt, ert_family_model **out, ert_error *err)
{
    *out = NULL;
    ert_family_model *fm = calloc(1, sizeof *fm);
    if (!fm)
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    ert_status st = ert_model_load(path, opt, &fm->model, err);
    if (st != ERT_OK) {
        free(fm);
        return st;
    }
    ert_blob *b = ert_model_blob(fm->model);
    fm->info = ert_blob_get_info(b);
    if (!fm->info->family[0]) {
        st = ert_fail(err, ERT_EINVAL, "%s: a plain model, not a family blob (convert with --family %s)", path,
                      ert_family_names());
    } else if (!(fm->desc = ert_family_find(fm->info->family))) {
        st = ert_fail(err, ERT_EUNSUPPORTED, "%s: family '%s' is unknown to this embedrt (knows %s)", path,
                      fm->info->family, ert_family_names());
    } else {
        const void *data;
        size_t len;
        if (!ert_blob_family_section(b, &data, &len))
            st = ert_fail(err, ERT_EFORMAT, "%s: family blob without a 'family' section (parameters)", path);
        else
            st = ert_family_params_decode(data, len, fm->info->family, &fm->params, err);
        if (st != ERT_OK)
            ert_error_prefix(err, "%s", path);
    }
    for (const ert_family_role_def *r = fm->desc ? fm->desc->roles : NULL; st == ERT_OK && r && r->role; r++)
        if (r->required && ert_family_graph(fm, r->role) < 0)
            st = ert_fail(err, ERT_EFORMAT, "%s: family %s needs a '%s' graph; the blob has none", path,
                          fm->desc->name, r->role);
    if (st != ERT_OK) {
        ert_family_free(fm);
        return st;
    }
    *out = fm;
    return ERT_OK;
}

void ert_family_free(ert_family_model *fm)
{
    if (!fm)
        return;
    ert_family_params_free(&fm->params);
    ert_model_free(fm->model);
    free(fm->scratch);
    free(fm);
}

const ert_family_desc *ert_family_desc_of(const ert_family_model *fm)
{
    return fm->desc;
}

ert_model *ert_family_engine(ert_family_model *fm)
{
    return fm->model;
}

int ert_family_graph(const ert_family_model *fm, const char *role)
{
    for (uint32_t i = 0; i < fm->info->n_graphs; i++)
        if (strcmp(fm->info->graphs[i].role, role) == 0)
            return (int)i;
    return -1;
}

static ert_graph *graph_at(ert_family_model *fm, int gi, const char *fn, ert_error *err)
{
    ert_graph *g = gi >= 0 ? ert_model_graph(fm->model, (uint32_t)gi) : NULL;
    if (!g)
        ert_fail(err, ERT_EINVAL, "%s: no graph %d in this %s blob", fn, gi, fm->desc->name);
    return g;
}

ert_status ert_family_set_image(ert_family_model *fm, int gi, uint32_t input, const ert_frame *frame,
                                ert_error *err)
{
    ert_graph *g = graph_at(fm, gi, "ert_family_set_image", err);
    if (!g)
        return ERT_EINVAL;
    ert_tensor *t = ert_model_input(fm->model, (uint32_t)gi, input);
    if (!t)
        return ert_fail(err, ERT_EINVAL, "graph '%s' has no input %u", g->name, input);
    if (t->dtype != ERT_DT_F32 || t->shape.rank != 4 || t->shape.dims[0] != 1 || t->shape.dims[1] != 3)
        return ert_fail(err, ERT_EINVAL, "graph '%s' input '%s' is not a float32 [1,3,H,W] image", g->name, t->name);
    const ert_blob_graph_info *gin = &fm->info->graphs[gi];
    ert_preprocess pp;
    if (gin->has_preprocess)
        pp = gin->preprocess;
    else
        ert_preprocess_default(&pp);
    uint32_t ow = (uint32_t)t->shape.dims[3], oh = (uint32_t)t->shape.dims[2];
    ert_status st = ert_frame_check(frame, err);
    if (st == ERT_OK)
        st = ert_preprocess_check(&pp, frame->width, frame->height, ow, oh, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "role '%s'", gin->role);
    /* Scratch grows only when a larger frame arrives (once per camera mode), never per frame. */
    size_t need = ert_preprocess_scratch(&pp, frame->width, frame->height, ow, oh);
    if (need > fm->scratch_bytes) {
        void *p = NULL;
        if (posix_memalign(&p, 64, need) != 0)
            return ert_fail(err, ERT_ENOMEM, "role '%s': cannot allocate %zu bytes of preprocessing scratch",
                            gin->role, need);
        free(fm->scratch);
        fm->scratch = p;
        fm->scratch_bytes = need;
    }
    st = ert_preprocess_run(&pp, frame, t->data, ow, oh, fm->scratch, fm->scratch_bytes, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "role '%s'", gin->role);
    return ERT_OK;
}

ert_tensor *ert_family_input(ert_family_model *fm, int gi, uint32_t i)
{
    return gi >= 0 ? ert_model_input(fm->model, (uint32_t)gi, i) : NULL;
}

const ert_tensor *ert_family_output(ert_family_model *fm, int gi, const char *name)
{
    ert_graph *g = gi >= 0 ? ert_model_graph(fm->model, (uint32_t)gi) : NULL;
    for (uint32_t i = 0; g && i < g->n_outputs; i++)
        if (strcmp(g->tensors[g->outputs[i]].name, name) == 0)
            return &g->tensors[g->outputs[i]];
    return NULL;
}

ert_status ert_family_run(ert_family_model *fm, int gi, ert_error *err)
{
    if (!graph_at(fm, gi, "ert_family_run", err))
        return ERT_EINVAL;
    return ert_model_run(fm->model, (uint32_t)gi, err);
}

const ert_family_param *ert_family_get_param(const ert_family_model *fm, const char *key)
{
    return ert_family_params_find(&fm->params, key);
}

double ert_family_num(const ert_family_model *fm, const char *key, double def)
{
    const ert_family_param *p = ert_family_get_param(fm, key);
    return p && !p->text && p->n_values ? p->values[0] : def;
}

const char *ert_family_text(const ert_family_model *fm, const char *key, const char *def)
{
    const ert_family_param *p = ert_family_get_param(fm, key);
    return p && p->text ? p->text : def;
}

size_t ert_family_params(const ert_family_model *fm, const ert_family_param **out)
{
    *out = fm->params.v;
    return fm->params.n;
}
