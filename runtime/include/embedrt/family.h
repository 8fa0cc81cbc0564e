/* Family blobs: one blob holds every graph a model family needs (by role), the
 * preprocessing recipe of each and the family's parameters. This is the layer the
 * per-family APIs (grasp2vec.h, tcn.h, mftcn.h, rig.h, ccvae.h) build on. */
#ifndef EMBEDRT_FAMILY_H
#define EMBEDRT_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

#include "embedrt/frame.h"
#include "embedrt/graph.h"
#include "embedrt/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- what a family is (used by the converter to validate and by inspect) ---- */

typedef struct ert_family_role_def {
    const char *role;     /* "scene", "object", "embedder", "trunk", "head", "encoder", ... */
    bool required;
    const char *doc;      /* one line: what the graph computes, its inputs and outputs */
} ert_family_role_def;

typedef struct ert_family_param_def {
    const char *key;      /* "alpha", "similarity", ... */
    const char *doc;      /* one line, with the literature source of the default */
    const char *text;     /* default for text parameters ("cosine"), NULL for numbers */
    double value;         /* default for numeric parameters */
} ert_family_param_def;

/* A parameter as stored in a blob: numbers (one or more) or text. */
typedef struct ert_family_param {
    const char *key;
    const char *text;     /* NULL for numeric parameters */
    const double *values;
    size_t n_values;
} ert_family_param;

typedef struct ert_family_desc {
    const char *name;                   /* "grasp2vec", "tcn", "mftcn", "rig", "ccvae" */
    const ert_family_role_def *roles;   /* terminated by {NULL} */
    const ert_family_param_def *params; /* terminated by {NULL} */
    /* Conversion-time check of the graphs, indexed like roles (NULL for an absent
     * optional role), against what this family's code reads: outputs by name, their
     * shapes, input layouts, and the parameters (e.g. latent statistics length).
     * Messages name the role, the tensor and the expected vs actual shape. */
    ert_status (*check)(const ert_graph *const *graphs, const ert_family_param *params, size_t n_params,
                        ert_error *err);
} ert_family_desc;

/* Descriptor by name, or NULL; ert_family_names() is "grasp2vec, tcn, mftcn, rig, ccvae". */
const ert_family_desc *ert_family_find(const char *name);
const char *ert_family_names(void);

/* ---- a loaded family blob ---- */

typedef struct ert_family_model ert_family_model;

/* Loads a family blob (fails with a clear message on a plain model or an unknown family). */
ert_status ert_family_load(const char *path, const ert_model_options *opt, ert_family_model **out, ert_error *err);
void ert_family_free(ert_family_model *fm);

const ert_family_desc *ert_family_desc_of(const ert_family_model *fm);
ert_model *ert_family_engine(ert_family_model *fm);
/* Graph index of a role, or -1 when the blob has no graph with that role. */
int ert_family_graph(const ert_family_model *fm, const char *role);

/* Preprocesses frame with graph gi's recipe (stored in the blob) into graph input
 * `input`, which must be float32 [1, 3, H, W]. No allocation (scratch planned at load). */
ert_status ert_family_set_image(ert_family_model *fm, int gi, uint32_t input, const ert_frame *frame,
                                ert_error *err);
ert_tensor *ert_family_input(ert_family_model *fm, int gi, uint32_t i);
/* Output of graph gi by name (as in the ONNX graph), or NULL. */
const ert_tensor *ert_family_output(ert_family_model *fm, int gi, const char *name);
ert_status ert_family_run(ert_family_model *fm, int gi, ert_error *err);

/* Parameters stored in the blob (the converter writes every parameter of the family:
 * defaults and overrides). NULL when absent. */
const ert_family_param *ert_family_get_param(const ert_family_model *fm, const char *key);
/* Every parameter stored in the blob (count returned, array in *out). */
size_t ert_family_params(const ert_family_model *fm, const ert_family_param **out);
/* Convenience: first numeric value, else def. */
double ert_family_num(const ert_family_model *fm, const char *key, double def);
/* Convenience: text value, else def. */
const char *ert_family_text(const ert_family_model *fm, const char *key, const char *def);

#ifdef __cplusplus
}
#endif
#endif
