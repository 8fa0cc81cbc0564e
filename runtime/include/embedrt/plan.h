/* Static memory plan of a graph: every activation gets a 64-byte aligned offset in
 * one arena, shared between tensors whose lifetimes do not overlap, plus kernel scratch. */
#ifndef EMBEDRT_PLAN_H
#define EMBEDRT_PLAN_H

#include "embedrt/graph.h"
#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lifetimes follow execution order: a graph input lives from the start, a tensor from
 * its producer to its last consumer, a graph output to the end. Constants are not in
 * the arena. Needs inferred shapes (dtype and shape of every activation). Sets each
 * activation's offset and nbytes and g->scratch_offset, scratch_bytes (the largest
 * def->scratch() of any node, rounded to 64) and arena_bytes (scratch_offset +
 * scratch_bytes). Activations nothing reads or writes get offset 0. Fails on graphs
 * whose structure makes lifetimes meaningless (a tensor read before it is produced,
 * produced twice, a constant written, ...). */
ert_status ert_plan_graph(ert_graph *g, ert_error *err);

/* Re-checks a plan (the loader runs it on every graph of a blob): the structure as
 * above, every activation's nbytes against its shape, 64-byte alignment, activations
 * inside [0, scratch_offset), scratch inside the arena and at least every node's
 * def->scratch(), and that no two activations that are live at the same time share
 * a byte. Messages start with "plan: ". O(n log n) in the tensor count. */
ert_status ert_plan_verify(const ert_graph *g, ert_error *err);

/* The arena a plan without sharing would need: every activation rounded up to 64 bytes,
 * plus g->scratch_bytes. For reports ("arena 1.2 MB instead of 9.8 MB"). */
uint64_t ert_plan_naive_bytes(const ert_graph *g);

#ifdef __cplusplus
}
#endif
#endif
