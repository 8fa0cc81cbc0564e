/* A runnable model: one or more planned graphs, each with its arena allocated once at
 * load. Running never allocates; inputs and outputs live in the arena. */
#ifndef EMBEDRT_MODEL_H
#define EMBEDRT_MODEL_H

#include "embedrt/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ert_model ert_model;

typedef struct ert_model_options {
    int threads; /* threads for this model's kernels (OpenBLAS); 0 = all cores */
} ert_model_options;

/* Wraps already planned graphs (arena_bytes and offsets set, e.g. by ert_plan_graph).
 * With take_ownership the model frees them (ert_graph_free) when it is freed. */
ert_status ert_model_from_graphs(ert_graph *const *graphs, uint32_t n, bool take_ownership,
                                 const ert_model_options *opt, ert_model **out, ert_error *err);
/* Opens a blob (fully validated, see embedrt/blob.h) and makes all its graphs runnable.
 * The model keeps the blob open (weights are used in place) until ert_model_free. */
ert_status ert_model_load(const char *path, const ert_model_options *opt, ert_model **out, ert_error *err);
void ert_model_free(ert_model *m);
/* The blob a model was loaded from (NULL for ert_model_from_graphs). */
struct ert_blob *ert_model_blob(ert_model *m);

uint32_t ert_model_graph_count(const ert_model *m);
ert_graph *ert_model_graph(ert_model *m, uint32_t i);
/* Graph index by name, or UINT32_MAX. */
uint32_t ert_model_find_graph(const ert_model *m, const char *name);

/* Input/output tensors of graph gi: write inputs through ->data before ert_model_run,
 * read outputs after. Pointers stay valid for the model's lifetime. */
ert_tensor *ert_model_input(ert_model *m, uint32_t gi, uint32_t i);
ert_tensor *ert_model_output(ert_model *m, uint32_t gi, uint32_t i);

/* Runs graph gi on its current inputs. No allocation, no thread creation. */
ert_status ert_model_run(ert_model *m, uint32_t gi, ert_error *err);

/* Per-node timing: when enabled, each run adds every node's wall time (ns) to a
 * counter; ert_model_node_ns returns the counters of graph gi (n_nodes entries). */
void ert_model_set_profile(ert_model *m, bool on);
/* Calibration (the converter's quantization): fn runs after every node of every run with
 * the node's index; its outputs are in the arena until a later node overwrites them. NULL
 * switches it off. */
typedef void (*ert_node_observer)(void *ctx, uint32_t gi, uint32_t node, const ert_graph *g);
void ert_model_set_observer(ert_model *m, ert_node_observer fn, void *ctx);
const uint64_t *ert_model_node_ns(const ert_model *m, uint32_t gi);
void ert_model_reset_profile(ert_model *m);

/* Total multiply-accumulates of graph gi (Conv, ConvTranspose, MatMul, Gemm, ErtQConv, ErtQGemm). */
uint64_t ert_graph_macs(const ert_graph *g);

/* Number of threads meaning "all cores" on this machine. */
int ert_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif
