/* The rig family's descriptor: roles, parameters with their defaults, conversion check,
 * and the graph checks (rig_graphs.h) the rig and ccvae code share. */
#include "embedrt/family.h"
#include "embedrt/rig.h"
#include "rig_graphs.h"

#include <string.h>

const ert_tensor *ert_rig_graph_output(const ert_graph *g, const char *name)
{
    for (uint32_t i = 0; g && i < g->n_outputs; i++)
        if (g->outputs[i] < g->n_tensors && g->tensors[g->outputs[i]].name &&
            strcmp(g->tensors[g->outputs[i]].name, name) == 0)
            return &g->tensors[g->outputs[i]];
    return NULL;
}

int ert_rig_graph_input_index(const ert_graph *g, const char *name)
{
    for (uint32_t i = 0; g && i < g->n_inputs && i < INT32_MAX; i++)
        if (g->inputs[i] < g->n_tensors && g->tensors[g->inputs[i]].name &&
            strcmp(g->tensors[g->inputs[i]].name, name) == 0)
            return (int)i;
    return -1;
}

ert_status ert_rig_check_vector(const ert_tensor *t, const char *what, size_t *dim, ert_error *err)
{
    char s[128];
    if (t->dtype != ERT_DT_F32 || t->shape.rank != 2 || t->shape.dims[0] != 1 || t->shape.dims[1] < 1)
        return ert_fail(err, ERT_EINVAL, "%s must be float32 [1, N] with N >= 1, not %s %s", what,
                        ert_dtype_name(t->dtype), ert_shape_str(&t->shape, s, sizeof s));
    *dim = (size_t)t->shape.dims[1];
    return ERT_OK;
}

ert_status ert_rig_check_image(const ert_tensor *t, const char *what, ert_error *err)
{
    char s[128];
    if (t->dtype != ERT_DT_F32 || t->shape.rank != 4 || t->shape.dims[0] != 1 || t->shape.dims[1] != 3 ||
        t->shape.dims[2] < 1 || t->shape.dims[3] < 1)
        return ert_fail(err, ERT_EINVAL, "%s must be a float32 [1, 3, H, W] image, not %s %s", what,
                        ert_dtype_name(t->dtype), ert_shape_str(&t->shape, s, sizeof s));
    return ERT_OK;
}

ert_status ert_rig_check_encoder(const ert_graph *g, size_t *latent_dim, bool *has_logvar, ert_error *err)
{
    if (!g)
        return ert_fail(err, ERT_EINVAL, "rig needs an 'encoder' graph (image -> mu, logvar)");
    if (g->n_inputs != 1)
        return ert_fail(err, ERT_EINVAL, "role 'encoder': expected one image input, the graph has %u", g->n_inputs);
    if (g->inputs[0] >= g->n_tensors)
        return ert_fail(err, ERT_EINVAL, "role 'encoder': input tensor id %u out of range", g->inputs[0]);
    ert_status st = ert_rig_check_image(&g->tensors[g->inputs[0]], "role 'encoder' input", err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *mu = ert_rig_graph_output(g, "mu");
    if (!mu)
        return ert_fail(err, ERT_EINVAL, "role 'encoder': the graph has no output named 'mu' (the VAE mean)");
    st = ert_rig_check_vector(mu, "role 'encoder' output 'mu'", latent_dim, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *lv = ert_rig_graph_output(g, "logvar");
    *has_logvar = lv != NULL;
    if (lv) {
        char a[128], b[128];
        if (lv->dtype != ERT_DT_F32 || !ert_shape_equal(&lv->shape, &mu->shape))
            return ert_fail(err, ERT_EINVAL, "role 'encoder': output 'logvar' is %s %s, expected float32 %s like 'mu'",
                            ert_dtype_name(lv->dtype), ert_shape_str(&lv->shape, a, sizeof a),
                            ert_shape_str(&mu->shape, b, sizeof b));
    }
    return ERT_OK;
}

ert_status ert_rig_check_decoder(const ert_graph *g, size_t latent_dim, size_t *image_floats, ert_error *err)
{
    if (g->n_inputs != 1)
        return ert_fail(err, ERT_EINVAL, "role 'decoder': expected one latent input, the graph has %u", g->n_inputs);
    if (g->inputs[0] >= g->n_tensors)
        return ert_fail(err, ERT_EINVAL, "role 'decoder': input tensor id %u out of range", g->inputs[0]);
    size_t l;
    ert_status st = ert_rig_check_vector(&g->tensors[g->inputs[0]], "role 'decoder' input", &l, err);
    if (st != ERT_OK)
        return st;
    if (l != latent_dim)
        return ert_fail(err, ERT_EINVAL, "role 'decoder': input has %zu latent dimensions, the encoder's 'mu' has %zu",
                        l, latent_dim);
    const ert_tensor *im = ert_rig_graph_output(g, "image");
    if (!im)
        return ert_fail(err, ERT_EINVAL, "role 'decoder': the graph has no output named 'image'");
    st = ert_rig_check_image(im, "role 'decoder' output 'image'", err);
    if (st == ERT_OK && !ert_shape_numel(&im->shape, image_floats))
        st = ert_fail(err, ERT_EINVAL, "role 'decoder': output 'image' is too large");
    return st;
}

static ert_status rig_check(const ert_graph *const *graphs, const ert_family_param *params, size_t n_params,
                            ert_error *err)
{
    size_t l, image_floats;
    bool has_logvar;
    ert_status st = ert_rig_check_encoder(graphs[0], &l, &has_logvar, err);
    if (st == ERT_OK && graphs[1])
        st = ert_rig_check_decoder(graphs[1], l, &image_floats, err);
    ert_rig_params p;
    if (st == ERT_OK)
        st = ert_rig_params_parse(params, n_params, &p, err);
    if (st == ERT_OK && p.latent_dim && p.latent_dim != l)
        st = ert_fail(err, ERT_EINVAL,
                      "parameters 'latent_mean'/'latent_std' have %zu values but the encoder's 'mu' has %zu dimensions",
                      p.latent_dim, l);
    return st;
}

static const ert_family_role_def roles[] = {
    {"encoder", true, "VAE encoder: image [1,3,H,W] -> mu [1,L] and optionally logvar [1,L] (rlkit ConvVAE)"},
    {"decoder", false, "VAE decoder: latent [1,L] -> image [1,3,H,W] (to look at goals)"},
    {NULL, false, NULL},
};

/* Imagined-goal statistics are not listed: they have no default. `embedrt convert
 * --latent-stats FILE.npy` stores "latent_mean" and "latent_std" (L values each, the
 * per-dimension mean and std of encoded training means); without them goals come from
 * N(0, I) as in every shipped rlkit example. */
static const ert_family_param_def params[] = {
    {"norm_order",
     "p of the latent distance ||z_g - mu||_p: 1, 2, inf or a real >= 1 (rlkit VAEWrappedEnv norm_order=2)", "2", 0},
    {"epsilon",
     "sparse reward threshold: 0 if ||z_g - mu||_p < epsilon else -1 (CC-RIG success threshold 0.05; "
     "rlkit's constructor default 20 would count nearly every latent as a success)",
     NULL, 0.05},
    {"reward", "reward value: latent_distance (-||z_g - mu||_p, rlkit default) or latent_sparse", "latent_distance", 0},
    {NULL, NULL, NULL, 0},
};

const ert_family_desc ert_family_rig = {"rig", roles, params, rig_check};
