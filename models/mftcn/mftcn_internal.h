/* What the mftcn code reads from its trunk and head graphs, checked by the descriptor's
 * check() at conversion and again at create (a blob is a file). */
#ifndef ERT_MFTCN_INTERNAL_H
#define ERT_MFTCN_INTERNAL_H

#include "embedrt/graph.h"
#include "embedrt/mftcn.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ert_mftcn_layout {
    uint32_t trunk_input, features;    /* trunk tensor ids */
    uint32_t head_input, embedding;    /* head tensor ids */
    size_t c, h, w;                    /* features [1, c, h, w] */
    size_t window;                     /* head input [1, c, window, h, w] */
    size_t dim;                        /* embedding [1, dim] */
} ert_mftcn_layout;

/* The checks ert_mftcn_params_parse makes, for structs callers filled themselves. */
ert_status ert_mftcn_params_check(const ert_mftcn_params *p, const char *who, ert_error *err);

/* Checks both graphs (either may be NULL: "required") against each other and against
 * p->window (valid params), then the ring's size. */
ert_status ert_mftcn_check_graphs(const ert_graph *trunk, const ert_graph *head, const ert_mftcn_params *p,
                                  ert_mftcn_layout *lay, ert_error *err);

#endif
