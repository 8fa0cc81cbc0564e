/* Checks of the CC-VAE graphs (encoder on x_t and x_0, optional context on x_0), shared by
 * the descriptor's check() and ert_ccvae_create; built on rig's generic graph checks. */
#ifndef ERT_CCVAE_GRAPHS_H
#define ERT_CCVAE_GRAPHS_H

#include "../rig/rig_graphs.h"

/* "encoder": inputs "x_t", "x_0" (images of one shape), outputs "mu" [1,M], "c" [1,C],
 * "latent" [1,M+C]. A single 6-channel input is reported as the unsupported six_channel
 * variant. */
ert_status ert_ccvae_check_encoder(const ert_graph *g, size_t *mu_dim, size_t *context_dim, ert_error *err);
/* "context": one image input shaped like the encoder's x_0, output "c" [1,C]. */
/* "state" (x_t image [1,3,H,W], c [1,C] -> "mu" [1,M], "latent" [1,M+C]) with its
 * "context" graph (x_0 -> c [1,C]): the split encoder, c computed once per episode. */
ert_status ert_ccvae_check_state(const ert_graph *state, const ert_graph *context, size_t *mu_dim,
                                 size_t *context_dim, ert_error *err);
ert_status ert_ccvae_check_context(const ert_graph *g, const ert_graph *encoder, size_t context_dim,
                                   ert_error *err);

#endif
