/* The grasp2vec family's descriptor: roles, parameters with their defaults, and the
 * conversion check of the graphs against what grasp2vec.c reads (grasp2vec_internal.h). */
#include "embedrt/grasp2vec.h"

#include "grasp2vec_internal.h"

#include <stdio.h>
#include <string.h>

static const ert_family_role_def roles[] = {
    {"scene", true,
     "phi_s: image float32 [1,3,H,W] -> vector [1,C], spatial [1,C,h,w] (pre/post-grasp scenes, heatmaps)"},
    {"object", true, "phi_o: image float32 [1,3,H,W] -> vector [1,C] (goal and outcome images)"},
    {NULL, false, NULL},
};

static const ert_family_param_def params[] = {
    {"similarity",
     "reward similarity, cosine or dot; cosine as in Jang et al. 2018 (grasp2vec paper, no released code fixes it)",
     "cosine", 0},
    {"diff_relu",
     "1: ReLU on phi_s(pre) - phi_s(post) in the scene-difference reward (a variant); 0 (default): plain difference",
     NULL, 0},
    {"heatmap_temperature",
     "temperature of the heatmap keypoint soft-argmax; 0.1 as in tensor2robot research/grasp2vec (families.md)", NULL,
     0.1},
    {NULL, NULL, NULL, 0},
};

/* Id of the graph output called name, or ERT_NO_TENSOR. */
static uint32_t find_output(const ert_graph *g, const char *name)
{
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        uint32_t id = g->outputs[i];
        if (id < g->n_tensors && g->tensors[id].name && strcmp(g->tensors[id].name, name) == 0)
            return id;
    }
    return ERT_NO_TENSOR;
}

static ert_status no_output(const ert_graph *g, const char *role, const char *name, ert_error *err)
{
    char list[512] = "";
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        uint32_t id = g->outputs[i];
        const char *n = id < g->n_tensors && g->tensors[id].name ? g->tensors[id].name : "?";
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s'%s'", i ? ", " : "", n);
    }
    return ert_fail(err, ERT_EINVAL, "grasp2vec role '%s': the graph has no output '%s' (outputs: %s)", role, name,
                    g->n_outputs ? list : "none");
}

/* Checks t is float32 [1, dim1, ...] of the given rank with every dim > 0; dim1 < 0
 * accepts any dims[1]. expect is the shape as the message shows it. */
static ert_status want(const ert_tensor *t, const char *role, const char *what, int rank, int64_t dim1,
                       const char *expect, ert_error *err)
{
    char buf[128];
    if (t->dtype == ERT_DT_F32 && t->shape.rank == rank && t->shape.dims[0] == 1 &&
        (dim1 < 0 || t->shape.dims[1] == dim1)) {
        bool ok = true;
        for (int d = 1; d < rank; d++)
            ok = ok && t->shape.dims[d] > 0;
        if (ok)
            return ERT_OK;
    }
    return ert_fail(err, ERT_EINVAL, "grasp2vec role '%s': %s '%s' must be float32 %s, got %s %s", role, what,
                    t->name ? t->name : "?", expect, ert_dtype_name(t->dtype),
                    ert_shape_str(&t->shape, buf, sizeof buf));
}

static ert_status check_input(const ert_graph *g, const char *role, ert_error *err)
{
    if (g->n_inputs != 1 || g->inputs[0] >= g->n_tensors)
        return ert_fail(err, ERT_EINVAL, "grasp2vec role '%s': the graph must have one image input, it has %u", role,
                        g->n_inputs);
    const ert_tensor *t = &g->tensors[g->inputs[0]];
    return want(t, role, "input", 4, 3, "[1,3,H,W]", err);
}

/* Finds "vector" [1,C]; C is returned in *c. */
static ert_status check_vector(const ert_graph *g, const char *role, uint32_t *id, size_t *c, ert_error *err)
{
    *id = find_output(g, "vector");
    if (*id == ERT_NO_TENSOR)
        return no_output(g, role, "vector", err);
    const ert_tensor *t = &g->tensors[*id];
    ert_status st = want(t, role, "output", 2, -1, "[1,C]", err);
    if (st == ERT_OK)
        *c = (size_t)t->shape.dims[1];
    return st;
}

ert_status ert_g2v_check_graphs(const ert_graph *scene, const ert_graph *object, ert_g2v_layout *out,
                                ert_error *err)
{
    if (!scene || !object)
        return ert_fail(err, ERT_EINVAL, "family grasp2vec needs a '%s' graph", !scene ? "scene" : "object");
    ert_g2v_layout l;
    size_t co = 0;
    ert_status st = check_input(scene, "scene", err);
    if (st == ERT_OK)
        st = check_input(object, "object", err);
    if (st == ERT_OK)
        st = check_vector(scene, "scene", &l.scene_vector, &l.c, err);
    if (st == ERT_OK)
        st = check_vector(object, "object", &l.object_vector, &co, err);
    if (st != ERT_OK)
        return st;
    if (co != l.c)
        return ert_fail(err, ERT_EINVAL,
                        "grasp2vec: the object vector has %zu values but the scene vector %zu (both towers must "
                        "embed into the same space)",
                        co, l.c);
    l.scene_spatial = find_output(scene, "spatial");
    if (l.scene_spatial == ERT_NO_TENSOR)
        return no_output(scene, "scene", "spatial", err);
    const ert_tensor *t = &scene->tensors[l.scene_spatial];
    char expect[64];
    snprintf(expect, sizeof expect, "[1,%zu,h,w]", l.c);
    if ((st = want(t, "scene", "output", 4, (int64_t)l.c, expect, err)) != ERT_OK)
        return st;
    size_t numel;
    if (!ert_shape_numel(&t->shape, &numel) || numel > SIZE_MAX / sizeof(float))
        return ert_fail(err, ERT_EINVAL, "grasp2vec role 'scene': output 'spatial' is too large");
    l.h = (size_t)t->shape.dims[2];
    l.w = (size_t)t->shape.dims[3];
    if (out)
        *out = l;
    return ERT_OK;
}

static ert_status check(const ert_graph *const *graphs, const ert_family_param *prm, size_t n_params,
                        ert_error *err)
{
    if (!graphs)
        return ert_fail(err, ERT_EINVAL, "grasp2vec check: no graphs");
    ert_status st = ert_g2v_check_graphs(graphs[0], graphs[1], NULL, err);
    if (st != ERT_OK)
        return st;
    ert_g2v_params p;
    return ert_g2v_params_parse(prm, n_params, &p, err);
}

const ert_family_desc ert_family_grasp2vec = {"grasp2vec", roles, params, check};
