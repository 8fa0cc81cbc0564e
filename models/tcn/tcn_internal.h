/* What the tcn code reads from its graphs, checked once by the descriptor's check() and
 * again at create (a blob is a file); the graph helpers are shared with mftcn. */
#ifndef ERT_TCN_INTERNAL_H
#define ERT_TCN_INTERNAL_H

#include "embedrt/graph.h"
#include "embedrt/status.h"

#include <stddef.h>
#include <stdint.h>

/* A demonstration: t frames of d floats, one allocation made at load. */
struct ert_tcn_demo {
    size_t t, d;
    float *emb; /* t * d floats, row i = frame i */
};

/* Allocates a demo of t x d (uninitialised values); who starts the error message. */
ert_status ert_tcn_demo_alloc(size_t t, size_t d, const char *who, struct ert_tcn_demo **out, ert_error *err);

/* The embedder graph: one image input [1, 3, in_h, in_w] and the "embedding" [1, dim]. */
typedef struct ert_tcn_layout {
    uint32_t input, embedding; /* tensor ids */
    size_t dim;
    size_t in_h, in_w;
} ert_tcn_layout;

ert_status ert_tcn_check_graph(const ert_graph *g, ert_tcn_layout *lay, ert_error *err);

struct ert_tcn_params;
/* The checks ert_tcn_params_parse makes, for structs callers filled themselves. */
ert_status ert_tcn_params_check(const struct ert_tcn_params *p, const char *who, ert_error *err);
/* Index of the first non-finite value of v[0..n), or n. */
size_t ert_tcn_first_nonfinite(const float *v, size_t n);

/* Shared with mftcn; family and role start every message. */
/* Checks g has exactly one input, float32 [1, 3, H, W] with H, W > 0; returns its id. */
ert_status ert_tcn_want_image_input(const ert_graph *g, const char *family, const char *role, uint32_t *id,
                                    ert_error *err);
/* Checks g has an output called name, float32 of the given rank with dims[0] == 1 and
 * every dim > 0 and a byte size that fits size_t; returns its id. */
ert_status ert_tcn_want_output(const ert_graph *g, const char *family, const char *role, const char *name, int rank,
                               uint32_t *id, ert_error *err);
/* Checks g has exactly one input, float32 of the given rank with every dim > 0. */
ert_status ert_tcn_want_one_input(const ert_graph *g, const char *family, const char *role, int rank, uint32_t *id,
                                  ert_error *err);

#endif
