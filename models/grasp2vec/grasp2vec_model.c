/* The grasp2vec model layer: runs a family blob's scene (phi_s) and object (phi_o) graphs
 * on frames and feeds the embeddings to the pure functions of grasp2vec.c. */
#include "embedrt/grasp2vec.h"

#include "grasp2vec_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ert_g2v {
    ert_family_model *fm; /* not owned */
    int scene_gi, object_gi;
    ert_g2v_layout lay;
    ert_g2v_params params; /* as stored in the blob */
    /* Per-call buffers, sized at create: phi_o(goal), a second vector (outcome, pre),
     * a third (post, then the difference), the scene's spatial map and a heatmap. */
    float *goal, *vec_a, *vec_b, *spatial, *heat;
};

ert_status ert_g2v_params_from(const ert_family_model *fm, ert_g2v_params *p, ert_error *err)
{
    if (!fm || !p)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_params_from: NULL %s", fm ? "output" : "model");
    static const char *const keys[] = {"similarity", "diff_relu", "heatmap_temperature"};
    ert_family_param stored[sizeof keys / sizeof keys[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const ert_family_param *prm = ert_family_get_param(fm, keys[i]);
        if (prm)
            stored[n++] = *prm;
    }
    return ert_g2v_params_parse(stored, n, p, err);
}

static float *alloc_floats(size_t n)
{
    size_t bytes;
    if (!ert_mul_size(n ? n : 1, sizeof(float), &bytes))
        return NULL;
    return malloc(bytes);
}

ert_status ert_g2v_create(ert_family_model *fm, ert_g2v **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_create: NULL output");
    *out = NULL;
    if (!fm)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_create: NULL model");
    const ert_family_desc *d = ert_family_desc_of(fm);
    if (!d || strcmp(d->name, "grasp2vec") != 0)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_create: a %s blob, not a grasp2vec one", d ? d->name : "non-family");
    ert_g2v *g = calloc(1, sizeof *g);
    if (!g)
        return ert_fail(err, ERT_ENOMEM, "ert_g2v_create: out of memory");
    g->fm = fm;
    g->scene_gi = ert_family_graph(fm, "scene");
    g->object_gi = ert_family_graph(fm, "object");
    ert_model *m = ert_family_engine(fm);
    const ert_graph *scene = g->scene_gi >= 0 ? ert_model_graph(m, (uint32_t)g->scene_gi) : NULL;
    const ert_graph *object = g->object_gi >= 0 ? ert_model_graph(m, (uint32_t)g->object_gi) : NULL;
    /* The converter ran the same check, but a blob is a file: check what we read again. */
    ert_status st = ert_g2v_check_graphs(scene, object, &g->lay, err);
    if (st == ERT_OK)
        st = ert_g2v_params_from(fm, &g->params, err);
    if (st == ERT_OK) {
        const ert_tensor *outs[3] = {&scene->tensors[g->lay.scene_vector], &scene->tensors[g->lay.scene_spatial],
                                     &object->tensors[g->lay.object_vector]};
        for (int i = 0; i < 3 && st == ERT_OK; i++) {
            size_t bytes;
            if (!outs[i]->data || !ert_shape_bytes(&outs[i]->shape, outs[i]->dtype, &bytes) ||
                outs[i]->nbytes < bytes)
                st = ert_fail(err, ERT_EFORMAT, "ert_g2v_create: output '%s' has no buffer of its shape's size",
                              outs[i]->name);
        }
    }
    if (st == ERT_OK) {
        size_t c = g->lay.c, hw = g->lay.h * g->lay.w; /* check() bounded c*h*w */
        g->goal = alloc_floats(c);
        g->vec_a = alloc_floats(c);
        g->vec_b = alloc_floats(c);
        g->spatial = alloc_floats(c * hw);
        g->heat = alloc_floats(hw);
        if (!g->goal || !g->vec_a || !g->vec_b || !g->spatial || !g->heat)
            st = ert_fail(err, ERT_ENOMEM, "ert_g2v_create: out of memory for %zu-d embeddings and a %zux%zux%zu map",
                          c, c, g->lay.h, g->lay.w);
    }
    if (st != ERT_OK) {
        ert_g2v_free(g);
        return st;
    }
    *out = g;
    return ERT_OK;
}

void ert_g2v_free(ert_g2v *g)
{
    if (!g)
        return;
    free(g->goal);
    free(g->vec_a);
    free(g->vec_b);
    free(g->spatial);
    free(g->heat);
    free(g);
}

size_t ert_g2v_dim(const ert_g2v *g)
{
    return g->lay.c;
}

void ert_g2v_spatial_dims(const ert_g2v *g, size_t *c, size_t *h, size_t *w)
{
    if (c)
        *c = g->lay.c;
    if (h)
        *h = g->lay.h;
    if (w)
        *w = g->lay.w;
}

const ert_g2v_params *ert_g2v_blob_params(const ert_g2v *g)
{
    return &g->params;
}

/* Copies a graph output, refusing NaN/inf so no reward or heatmap is built on them. */
static ert_status copy_output(const ert_tensor *t, const char *role, float *dst, size_t n, ert_error *err)
{
    const float *src = t->data;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(src[i]))
            return ert_fail(err, ERT_EFORMAT, "grasp2vec role '%s': output '%s' has %g at index %zu", role, t->name,
                            (double)src[i], i);
        dst[i] = src[i];
    }
    return ERT_OK;
}

static ert_status run_role(ert_g2v *g, int gi, const char *role, const ert_frame *f, ert_error *err)
{
    if (!f)
        return ert_fail(err, ERT_EINVAL, "grasp2vec role '%s': NULL frame", role);
    ert_status st = ert_family_set_image(g->fm, gi, 0, f, err);
    if (st == ERT_OK)
        st = ert_family_run(g->fm, gi, err);
    return st;
}

static const ert_tensor *tensor_of(ert_g2v *g, int gi, uint32_t id)
{
    return &ert_model_graph(ert_family_engine(g->fm), (uint32_t)gi)->tensors[id];
}

ert_status ert_g2v_embed_scene(ert_g2v *g, const ert_frame *f, float *vector, float *spatial, ert_error *err)
{
    if (!g || !vector)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_embed_scene: NULL %s", g ? "vector" : "model");
    ert_status st = run_role(g, g->scene_gi, "scene", f, err);
    if (st == ERT_OK)
        st = copy_output(tensor_of(g, g->scene_gi, g->lay.scene_vector), "scene", vector, g->lay.c, err);
    if (st == ERT_OK && spatial)
        st = copy_output(tensor_of(g, g->scene_gi, g->lay.scene_spatial), "scene", spatial,
                         g->lay.c * g->lay.h * g->lay.w, err);
    return st;
}

ert_status ert_g2v_embed_object(ert_g2v *g, const ert_frame *f, float *vector, ert_error *err)
{
    if (!g || !vector)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_embed_object: NULL %s", g ? "vector" : "model");
    ert_status st = run_role(g, g->object_gi, "object", f, err);
    if (st == ERT_OK)
        st = copy_output(tensor_of(g, g->object_gi, g->lay.object_vector), "object", vector, g->lay.c, err);
    return st;
}

/* Frame-level calls validate the request's parameters like the blob's. */
static ert_status request_params(const ert_g2v *g, const ert_g2v_params *p, const char *fn, ert_g2v_params *out,
                                 ert_error *err)
{
    *out = p ? *p : g->params;
    if (out->similarity != ERT_G2V_COSINE && out->similarity != ERT_G2V_DOT)
        return ert_fail(err, ERT_EINVAL, "%s: unknown similarity %d", fn, (int)out->similarity);
    if (!(isfinite(out->heatmap_temperature) && out->heatmap_temperature > 0.0f))
        return ert_fail(err, ERT_EINVAL, "%s: heatmap temperature %g must be finite and > 0", fn,
                        (double)out->heatmap_temperature);
    return ERT_OK;
}

ert_status ert_g2v_outcome_reward(ert_g2v *g, const ert_g2v_params *p, const ert_frame *goal,
                                  const ert_frame *outcome, ert_g2v_reward *out, ert_error *err)
{
    if (!g || !out)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_outcome_reward: NULL %s", g ? "output" : "model");
    ert_g2v_params prm;
    ert_status st = request_params(g, p, "ert_g2v_outcome_reward", &prm, err);
    if (st == ERT_OK && (st = ert_g2v_embed_object(g, goal, g->goal, err)) != ERT_OK)
        ert_error_prefix(err, "goal image");
    if (st == ERT_OK && (st = ert_g2v_embed_object(g, outcome, g->vec_a, err)) != ERT_OK)
        ert_error_prefix(err, "outcome image");
    if (st == ERT_OK)
        ert_g2v_compare(g->goal, g->vec_a, g->lay.c, prm.similarity, out);
    return st;
}

ert_status ert_g2v_scene_diff_reward(ert_g2v *g, const ert_g2v_params *p, const ert_frame *goal,
                                     const ert_frame *pre, const ert_frame *post, ert_g2v_reward *out,
                                     ert_error *err)
{
    if (!g || !out)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_scene_diff_reward: NULL %s", g ? "output" : "model");
    ert_g2v_params prm;
    ert_status st = request_params(g, p, "ert_g2v_scene_diff_reward", &prm, err);
    if (st == ERT_OK && (st = ert_g2v_embed_object(g, goal, g->goal, err)) != ERT_OK)
        ert_error_prefix(err, "goal image");
    if (st == ERT_OK && (st = ert_g2v_embed_scene(g, pre, g->vec_a, NULL, err)) != ERT_OK)
        ert_error_prefix(err, "pre-grasp scene");
    if (st == ERT_OK && (st = ert_g2v_embed_scene(g, post, g->vec_b, NULL, err)) != ERT_OK)
        ert_error_prefix(err, "post-grasp scene");
    if (st == ERT_OK) {
        ert_g2v_scene_diff(g->vec_a, g->vec_b, g->lay.c, prm.diff_relu, g->vec_b);
        ert_g2v_compare(g->goal, g->vec_b, g->lay.c, prm.similarity, out);
    }
    return st;
}

ert_status ert_g2v_locate(ert_g2v *g, const ert_g2v_params *p, const ert_frame *goal, const ert_frame *scene,
                          float *heat, float *prob, float keypoint[2], ert_error *err)
{
    if (!g || !keypoint)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_locate: NULL %s", g ? "keypoint" : "model");
    ert_g2v_params prm;
    ert_status st = request_params(g, p, "ert_g2v_locate", &prm, err);
    if (st == ERT_OK && (st = ert_g2v_embed_object(g, goal, g->goal, err)) != ERT_OK)
        ert_error_prefix(err, "goal image");
    if (st == ERT_OK && (st = ert_g2v_embed_scene(g, scene, g->vec_a, g->spatial, err)) != ERT_OK)
        ert_error_prefix(err, "scene");
    if (st == ERT_OK)
        st = ert_g2v_heatmap(g->spatial, g->lay.c, g->lay.h, g->lay.w, g->goal, prm.heatmap_temperature,
                             heat ? heat : g->heat, prob, keypoint, err);
    return st;
}
