/* Weight quantization of the converter (issue 6): symmetric int8 per output channel,
 * scale = max|w_c| / 127 (an all-zero channel gets 1, so nothing divides by zero), stored
 * in the blob as int8 and dequantized at load (blob 1.1, proto/blob-format.md). */
#ifndef ERT_QUANTIZE_H
#define ERT_QUANTIZE_H

#include "embedrt/graph.h"

#include <stddef.h>

/* One quantized weight, for the accuracy report. */
typedef struct ert_quant_weight {
    uint32_t node;        /* the Conv/Gemm/MatMul using it */
    uint32_t tensor;
    int axis;             /* the output-channel axis */
    size_t channels, elems;
    double sqnr_db;       /* 10 log10(sum w^2 / sum (w - q s)^2); inf when exact */
    float max_abs_err;    /* max |w - q s| */
} ert_quant_weight;

typedef struct ert_quant_weights_report {
    ert_quant_weight *w;  /* malloc'd, n of them */
    size_t n;
    size_t kept;          /* weights left in float32 (--keep-fp32, too small, not float32) */
    uint64_t bytes_before, bytes_after; /* constants of the graph, float32 vs as stored */
} ert_quant_weights_report;

/* Marks the weights of every Conv, Gemm and MatMul (a constant float32 second input of at
 * least min_elems values) to be stored as int8, adding their scales as constants named
 * "<weight>.scales". Nodes named in keep (n_keep names) stay float32. Refuses weights
 * holding NaN or infinity (naming the tensor). report may be NULL; else its w is malloc'd
 * (ert_quant_weights_report_free). On failure the graph is unchanged. */
ert_status ert_quant_mark_weights(ert_graph *g, const char *const *keep, size_t n_keep, size_t min_elems,
                                  ert_quant_weights_report *report, ert_error *err);
void ert_quant_weights_report_free(ert_quant_weights_report *r);

/* The output-channel axis of node's weight input, or -1 when the node has no weight we
 * quantize (not Conv/Gemm/MatMul, weight not a constant float32 matrix). */
int ert_quant_weight_axis(const ert_graph *g, const ert_node *n);

#endif
