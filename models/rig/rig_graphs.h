/* Checks of the graphs the rig and ccvae code reads (outputs by name, [1,N] vectors,
 * [1,3,H,W] images), shared by the descriptors' check() and the model layers' create
 * (ccvae reuses the generic ones). */
#ifndef ERT_RIG_GRAPHS_H
#define ERT_RIG_GRAPHS_H

#include "embedrt/graph.h"
#include "embedrt/status.h"

#include <stdbool.h>
#include <stddef.h>

/* Graph output `name`, or NULL. */
const ert_tensor *ert_rig_graph_output(const ert_graph *g, const char *name);
/* Index of graph input `name` in g->inputs, or -1. */
int ert_rig_graph_input_index(const ert_graph *g, const char *name);
/* t is float32 [1, D] with D >= 1: *dim = D. what names it ("role 'encoder' output 'mu'"). */
ert_status ert_rig_check_vector(const ert_tensor *t, const char *what, size_t *dim, ert_error *err);
/* t is float32 [1, 3, H, W] with H, W >= 1. */
ert_status ert_rig_check_image(const ert_tensor *t, const char *what, ert_error *err);

/* RIG "encoder": one image input, output "mu" [1,L], optional "logvar" of the same shape. */
ert_status ert_rig_check_encoder(const ert_graph *g, size_t *latent_dim, bool *has_logvar, ert_error *err);
/* RIG "decoder": one input [1,L] (L from the encoder), output "image" [1,3,H,W]. */
ert_status ert_rig_check_decoder(const ert_graph *g, size_t latent_dim, size_t *image_floats, ert_error *err);

#endif
