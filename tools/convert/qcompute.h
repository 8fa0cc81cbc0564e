/* int8 compute (issue 6): which Conv/Gemm/MatMul nodes can run on the int8 kernels, and
 * the rewrite of such a node into ErtQConv / ErtQGemm (proto/blob-format.md, "int8 ops")
 * given its input's calibrated uint8 parameters: weights symmetric int8 per output channel,
 * bias as int32 in the accumulator's units, per-channel output scales s_x * s_w. */
#ifndef ERT_QCOMPUTE_H
#define ERT_QCOMPUTE_H

#include "embedrt/graph.h"
#include "qrange.h"

#include <stdbool.h>

/* NULL when node n can be quantized, else why not ("depthwise", "activation sigmoid", ...). */
const char *ert_qc_why_not(const ert_graph *g, const ert_node *n);

/* True when the float32 op is faster than direct int8 for this node: a convolution the
 * float32 Conv runs as Winograd F(4x4,3x3) (it prepares transformed weights at bind) with
 * more than 32 input channels (measured rule, see qcompute.c). */
bool ert_qc_float_faster(const ert_graph *g, const ert_node *n);

/* Rewrites node `node` of g in place (same outputs, same position) into its int8 form with
 * input parameters xp. Adds the quantized weight, bias and scales as constants. Fails
 * (graph unchanged) when the node cannot be quantized or its bias does not fit int32 at
 * these scales. Re-plan the graph afterwards (scratch sizes change). */
ert_status ert_qc_rewrite(ert_graph *g, uint32_t node, const ert_qparams *xp, ert_error *err);

#endif
