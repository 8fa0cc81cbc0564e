/* Graph rewrites of the converter: shape inference with constant folding, BatchNorm
 * folding into the producing Conv/Gemm/MatMul, activation fusion, identity and dead-node removal. */
#ifndef ERT_REWRITE_H
#define ERT_REWRITE_H

#include "embedrt/graph.h"

typedef struct ert_rewrite_stats {
    uint32_t nodes_in, nodes_out;
    uint32_t folded;      /* nodes evaluated at conversion into constants */
    uint32_t bn_folded;   /* BatchNormalization merged into a Conv/Gemm/MatMul */
    uint32_t act_fused;   /* activations merged into their producer */
    uint32_t residual_fused; /* Add(Conv(...), R) merged into the Conv as its residual input */
    uint32_t identities;  /* Identity/Dropout bypassed */
    uint32_t dead;        /* nodes whose outputs nothing used */
} ert_rewrite_stats;

/* Infers every shape, folds constants and simplifies g in place. Afterwards every
 * tensor has a static shape, every node is live, and unused tensors are gone. */
ert_status ert_graph_optimize(ert_graph *g, ert_rewrite_stats *stats, ert_error *err);

/* Drops the tensors no node, input or output references (constants a rewrite replaced)
 * and renumbers the rest. */
ert_status ert_graph_prune(ert_graph *g, ert_error *err);

/* Infers shapes only (no rewriting): used by tests and tools that keep the graph as is. */
ert_status ert_graph_infer(ert_graph *g, ert_error *err);

#endif
