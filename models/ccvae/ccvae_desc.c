/* The ccvae family's descriptor: roles, parameters with their defaults, conversion check,
 * and the CC-VAE graph checks (ccvae_graphs.h) ert_ccvae_create shares. */
#include "ccvae_graphs.h"
#include "embedrt/ccvae.h"
#include "embedrt/family.h"

#include <stdio.h>
#include <string.h>

static void input_names(const ert_graph *g, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < g->n_inputs && used + 1 < cap; i++) {
        const char *name = g->inputs[i] < g->n_tensors ? g->tensors[g->inputs[i]].name : NULL;
        int w = snprintf(buf + used, cap - used, "%s'%s'", i ? ", " : "", name ? name : "?");
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static ert_status output_vector(const ert_graph *g, const char *role, const char *name, size_t *dim,
                                ert_error *err)
{
    const ert_tensor *t = ert_rig_graph_output(g, name);
    if (!t)
        return ert_fail(err, ERT_EINVAL, "role '%s': the graph has no output named '%s'", role, name);
    char what[96];
    snprintf(what, sizeof what, "role '%s' output '%s'", role, name);
    return ert_rig_check_vector(t, what, dim, err);
}

ert_status ert_ccvae_check_encoder(const ert_graph *g, size_t *mu_dim, size_t *context_dim, ert_error *err)
{
    if (!g)
        return ert_fail(err, ERT_EINVAL, "ccvae needs an 'encoder' graph (x_t, x_0 -> mu, c, latent)");
    char names[256], a[128], b[128];
    const ert_tensor *first = g->n_inputs && g->inputs[0] < g->n_tensors ? &g->tensors[g->inputs[0]] : NULL;
    if (g->n_inputs == 1 && first && first->shape.rank == 4 && first->shape.dims[1] == 6)
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "role 'encoder': one 6-channel input '%s' %s is the six_channel CC-VAE variant, which "
                        "embedrt does not support; export the two-encoder model (inputs x_t and x_0)",
                        first->name ? first->name : "?", ert_shape_str(&first->shape, a, sizeof a));
    int it = ert_rig_graph_input_index(g, "x_t"), i0 = ert_rig_graph_input_index(g, "x_0");
    if (g->n_inputs != 2 || it < 0 || i0 < 0) {
        input_names(g, names, sizeof names);
        return ert_fail(err, ERT_EINVAL, "role 'encoder': expected the inputs 'x_t' and 'x_0', the graph has %u (%s)",
                        g->n_inputs, names);
    }
    const ert_tensor *xt = &g->tensors[g->inputs[it]], *x0 = &g->tensors[g->inputs[i0]];
    ert_status st = ert_rig_check_image(xt, "role 'encoder' input 'x_t'", err);
    if (st == ERT_OK)
        st = ert_rig_check_image(x0, "role 'encoder' input 'x_0'", err);
    if (st != ERT_OK)
        return st;
    /* One recipe per graph preprocesses both frames, so both inputs have one size. */
    if (!ert_shape_equal(&xt->shape, &x0->shape))
        return ert_fail(err, ERT_EINVAL, "role 'encoder': input 'x_t' is %s but 'x_0' is %s; they must match",
                        ert_shape_str(&xt->shape, a, sizeof a), ert_shape_str(&x0->shape, b, sizeof b));
    size_t latent;
    st = output_vector(g, "encoder", "mu", mu_dim, err);
    if (st == ERT_OK)
        st = output_vector(g, "encoder", "c", context_dim, err);
    if (st == ERT_OK)
        st = output_vector(g, "encoder", "latent", &latent, err);
    if (st == ERT_OK && latent != *mu_dim + *context_dim)
        st = ert_fail(err, ERT_EINVAL, "role 'encoder': output 'latent' has %zu values, expected mu %zu + c %zu",
                      latent, *mu_dim, *context_dim);
    return st;
}

ert_status ert_ccvae_check_context(const ert_graph *g, const ert_graph *encoder, size_t context_dim,
                                   ert_error *err)
{
    char a[128], b[128];
    if (g->n_inputs != 1 || g->inputs[0] >= g->n_tensors)
        return ert_fail(err, ERT_EINVAL, "role 'context': expected one image input (x_0), the graph has %u",
                        g->n_inputs);
    const ert_tensor *in = &g->tensors[g->inputs[0]];
    ert_status st = ert_rig_check_image(in, "role 'context' input", err);
    if (st != ERT_OK)
        return st;
    int i0 = ert_rig_graph_input_index(encoder, "x_0");
    const ert_tensor *x0 = i0 >= 0 ? &encoder->tensors[encoder->inputs[i0]] : NULL;
    if (x0 && !ert_shape_equal(&in->shape, &x0->shape))
        return ert_fail(err, ERT_EINVAL, "role 'context': input is %s but the encoder's 'x_0' is %s; they must match",
                        ert_shape_str(&in->shape, a, sizeof a), ert_shape_str(&x0->shape, b, sizeof b));
    size_t c;
    st = output_vector(g, "context", "c", &c, err);
    if (st == ERT_OK && c != context_dim)
        st = ert_fail(err, ERT_EINVAL, "role 'context': output 'c' has %zu values, the encoder's 'c' has %zu", c,
                      context_dim);
    return st;
}

ert_status ert_ccvae_check_state(const ert_graph *g, const ert_graph *context, size_t *mu_dim, size_t *context_dim,
                                 ert_error *err)
{
    char names[256];
    if (!g || !context)
        return ert_fail(err, ERT_EINVAL, "ccvae: a 'state' graph needs its 'context' graph (x_0 -> c)");
    int it = ert_rig_graph_input_index(g, "x_t"), ic = ert_rig_graph_input_index(g, "c");
    if (g->n_inputs != 2 || it < 0 || ic < 0) {
        input_names(g, names, sizeof names);
        return ert_fail(err, ERT_EINVAL, "role 'state': expected the inputs 'x_t' and 'c', the graph has %u (%s)",
                        g->n_inputs, names);
    }
    ert_status st = ert_rig_check_image(&g->tensors[g->inputs[it]], "role 'state' input 'x_t'", err);
    if (st == ERT_OK)
        st = ert_rig_check_vector(&g->tensors[g->inputs[ic]], "role 'state' input 'c'", context_dim, err);
    size_t latent;
    if (st == ERT_OK)
        st = output_vector(g, "state", "mu", mu_dim, err);
    if (st == ERT_OK)
        st = output_vector(g, "state", "latent", &latent, err);
    if (st == ERT_OK && latent != *mu_dim + *context_dim)
        st = ert_fail(err, ERT_EINVAL, "role 'state': output 'latent' has %zu values, expected mu %zu + c %zu", latent,
                      *mu_dim, *context_dim);
    if (st == ERT_OK)
        st = ert_ccvae_check_context(context, NULL, *context_dim, err);
    return st;
}

static ert_status ccvae_check(const ert_graph *const *graphs, const ert_family_param *params, size_t n_params,
                              ert_error *err)
{
    ert_ccvae_params p;
    ert_status st = ert_ccvae_params_parse(params, n_params, &p, err);
    size_t m, c;
    if (st != ERT_OK)
        return st;
    /* roles: [0] encoder, [1] context, [2] state */
    if (graphs[0] && graphs[2])
        return ert_fail(err, ERT_EINVAL, "ccvae: give either an 'encoder' graph or 'state' + 'context' graphs, not both");
    if (!graphs[0] && !graphs[2])
        return ert_fail(err, ERT_EINVAL, "ccvae needs --graph encoder=E.onnx (x_t, x_0 -> mu, c, latent), or "
                                         "--graph state=S.onnx (x_t, c -> mu, latent) with --graph context=C.onnx");
    if (graphs[2])
        return ert_ccvae_check_state(graphs[2], graphs[1], &m, &c, err);
    st = ert_ccvae_check_encoder(graphs[0], &m, &c, err);
    if (st == ERT_OK && graphs[1])
        st = ert_ccvae_check_context(graphs[1], graphs[0], c, err);
    return st;
}

static const ert_family_role_def roles[] = {
    {"encoder", false,
     "CC-VAE encoders: x_t, x_0 [1,3,H,W] -> mu [1,M], c [1,C], latent = concat(mu, c) [1,M+C] (rlkit ccrig)"},
    {"context", false, "context path alone: x_0 [1,3,H,W] -> c [1,C], run once per episode at reset"},
    {"state", false, "state path with c as an input: x_t [1,3,H,W], c [1,C] -> mu [1,M], latent [1,M+C] "
                     "(needs 'context'; replaces 'encoder')"},
    {NULL, false, NULL},
};

static const ert_family_param_def params[] = {
    {"variant",
     "two_encoders: x_t and x_0 as two images (ccrig, the reference graphs); the later six_channel copy (one "
     "6-channel image) is rejected",
     "two_encoders", 0},
    {"norm_order", "p of the reward -||goal - latent||_p: 1, 2, inf or a real >= 1 (ccrig uses 2)", "2", 0},
    {"epsilon", "sparse reward threshold: 0 if ||goal - latent||_p < epsilon else -1 (ccrig success threshold 0.05)",
     NULL, 0.05},
    {"reward", "reward value: latent_distance (-||goal - latent||_p, ccrig) or latent_sparse", "latent_distance", 0},
    {NULL, NULL, NULL, 0},
};

const ert_family_desc ert_family_ccvae = {"ccvae", roles, params, ccvae_check};
