/* The tcn family's descriptor: roles, parameters with their defaults, and the conversion
 * check of the embedder graph against what tcn_model.c reads (tcn_internal.h). */
#include "embedrt/tcn.h"

#include "tcn_internal.h"

#include <stdio.h>
#include <string.h>

static const ert_family_role_def roles[] = {
    {"embedder", true, "image float32 [1,3,H,W] -> embedding [1,D] (Inception v3 to Mixed_5d, soft-argmax, FC 32)"},
    {NULL, false, NULL},
};

static const ert_family_param_def params[] = {
    {"alpha",
     "imitation reward weight of ||w_t - v_t||^2; 0.5 from a public reimplementation (the TCN paper publishes none; "
     "families.md)",
     NULL, 0.5},
    {"beta",
     "imitation reward weight of sqrt(gamma + ||w_t - v_t||^2); 0.5 from a public reimplementation (families.md)",
     NULL, 0.5},
    {"gamma", "imitation reward smoothing inside the sqrt; 1e-3 from a public reimplementation (families.md)", NULL,
     1e-3},
    {"l2_normalize",
     "1: the runtime L2-normalises the graph's embedding and multiplies it by l2_scale, for graphs without the "
     "normalisation inside (the tcn_l2 reference graph has it); 0 (default): used as the graph outputs it",
     NULL, 0},
    {"l2_scale",
     "factor after the runtime's L2 normalisation; 10 as in the popular PyTorch port (normalise, then x10; "
     "families.md)",
     NULL, 10},
    {"time_window",
     "imitation reward tempo tolerance in frames: live frame t is compared with the closest demo frame within "
     "t +- time_window (0: demo frame t, the paper's time-indexed reward); whole number 0..300",
     NULL, 0},
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

/* "1x3x99x99", or "float64 1x3x99x99" when the dtype is not float32. */
static const char *describe(const ert_tensor *t, char *buf, size_t cap)
{
    char dims[128];
    ert_shape_str(&t->shape, dims, sizeof dims);
    if (t->dtype == ERT_DT_F32)
        snprintf(buf, cap, "%s", dims);
    else
        snprintf(buf, cap, "%s %s", ert_dtype_name(t->dtype), dims);
    return buf;
}

/* float32, the rank, every dim > 0, and a byte size that fits size_t. */
static bool well_formed(const ert_tensor *t, int rank)
{
    size_t bytes;
    if (t->dtype != ERT_DT_F32 || t->shape.rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (t->shape.dims[i] <= 0)
            return false;
    return ert_shape_bytes(&t->shape, t->dtype, &bytes);
}

static ert_status one_input(const ert_graph *g, const char *family, const char *role, uint32_t *id,
                            ert_error *err)
{
    if (g->n_inputs != 1)
        return ert_fail(err, ERT_EINVAL, "%s role '%s': the graph must have exactly one input, it has %u", family, role,
                        g->n_inputs);
    if (g->inputs[0] >= g->n_tensors)
        return ert_fail(err, ERT_EFORMAT, "%s role '%s': input tensor id %u out of range", family, role,
                        g->inputs[0]);
    *id = g->inputs[0];
    return ERT_OK;
}

ert_status ert_tcn_want_one_input(const ert_graph *g, const char *family, const char *role, int rank, uint32_t *id,
                                  ert_error *err)
{
    ert_status st = one_input(g, family, role, id, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *t = &g->tensors[*id];
    char got[160];
    if (!well_formed(t, rank))
        return ert_fail(err, ERT_EINVAL, "%s role '%s': input '%s' must be float32 of rank %d with dims > 0, got %s",
                        family, role, t->name ? t->name : "?", rank, describe(t, got, sizeof got));
    return ERT_OK;
}

ert_status ert_tcn_want_image_input(const ert_graph *g, const char *family, const char *role, uint32_t *id,
                                    ert_error *err)
{
    ert_status st = one_input(g, family, role, id, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *t = &g->tensors[*id];
    char got[160];
    if (!well_formed(t, 4) || t->shape.dims[0] != 1 || t->shape.dims[1] != 3)
        return ert_fail(err, ERT_EINVAL, "%s role '%s': input '%s' must be an image float32 [1,3,H,W], got %s", family,
                        role, t->name ? t->name : "?", describe(t, got, sizeof got));
    return ERT_OK;
}

ert_status ert_tcn_want_output(const ert_graph *g, const char *family, const char *role, const char *name, int rank,
                               uint32_t *id, ert_error *err)
{
    *id = find_output(g, name);
    if (*id == ERT_NO_TENSOR) {
        char list[512] = "";
        for (uint32_t i = 0; i < g->n_outputs; i++) {
            uint32_t o = g->outputs[i];
            const char *n = o < g->n_tensors && g->tensors[o].name ? g->tensors[o].name : "?";
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s'%s'", i ? ", " : "", n);
        }
        return ert_fail(err, ERT_EINVAL, "%s role '%s': the graph has no output '%s' (outputs: %s)", family, role,
                        name, g->n_outputs ? list : "none");
    }
    const ert_tensor *t = &g->tensors[*id];
    char got[160];
    if (!well_formed(t, rank) || t->shape.dims[0] != 1)
        return ert_fail(err, ERT_EINVAL, "%s role '%s': output '%s' must be float32 [1,...] of rank %d, got %s",
                        family, role, name, rank, describe(t, got, sizeof got));
    return ERT_OK;
}

ert_status ert_tcn_check_graph(const ert_graph *g, ert_tcn_layout *lay, ert_error *err)
{
    if (!g)
        return ert_fail(err, ERT_EINVAL, "tcn: role 'embedder' is required (image -> embedding)");
    ert_status st = ert_tcn_want_image_input(g, "tcn", "embedder", &lay->input, err);
    if (st == ERT_OK)
        st = ert_tcn_want_output(g, "tcn", "embedder", "embedding", 2, &lay->embedding, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *in = &g->tensors[lay->input];
    lay->in_h = (size_t)in->shape.dims[2];
    lay->in_w = (size_t)in->shape.dims[3];
    lay->dim = (size_t)g->tensors[lay->embedding].shape.dims[1];
    return ERT_OK;
}

static ert_status check(const ert_graph *const *graphs, const ert_family_param *prm, size_t n_params, ert_error *err)
{
    ert_tcn_layout lay;
    ert_tcn_params p;
    ert_status st = ert_tcn_check_graph(graphs ? graphs[0] : NULL, &lay, err);
    if (st == ERT_OK)
        st = ert_tcn_params_parse(prm, n_params, &p, err);
    return st;
}

const ert_family_desc ert_family_tcn = {"tcn", roles, params, check};
