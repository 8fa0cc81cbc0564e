/* The quantization options of `embedrt convert` and the blob writing they change. */
#ifndef ERT_CONVERT_QUANT_H
#define ERT_CONVERT_QUANT_H

#include "embedrt/blob.h"
#include "embedrt/graph.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ERT_CONVERT_MAX_KEEP 64
#define ERT_CONVERT_GATE_COSINE 0.99 /* mean cosine of every output vs float32, held-out frames */

typedef struct ert_convert_quant {
    const char *mode;        /* NULL: float32; "int8" (int8 compute) or "int8-weights" (int8 storage) */
    int method;              /* ert_calib_method (tools/convert/qrange.h); percentile unless set */
    bool method_set;
    int act_bits;            /* --activation-bits: 8 (default, 0 = unset) or 7 (q_max 127) */
    const char *calibration; /* folder of images or .y4m */
    size_t frames;           /* --calibration-frames (0: all) */
    char keep[ERT_CONVERT_MAX_KEEP][257];
    size_t n_keep;
    bool force;
} ert_convert_quant;

/* One option (--quantize, --calibration, --calibration-method, --calibration-frames,
 * --activation-bits, --keep-fp32) and its value. */
ert_status ert_convert_quant_parse(ert_convert_quant *q, const char *opt, const char *val, ert_error *err);
/* After all options: the combinations make sense. */
ert_status ert_convert_quant_check(const ert_convert_quant *q, ert_error *err);

/* Writes the blob: as is without --quantize. int8-weights: marks the weights for int8
 * storage and measures the result on the held-out frames (when given). int8: calibrates the
 * inputs of every Conv/Gemm/MatMul that can run int8, rewrites them (gs[i] are replaced by
 * the rewritten graphs) and, while an output's mean cosine is below the gate, puts the layer
 * with the lowest output SQNR back to float32. Refuses below the gate unless --force,
 * stores the report in the blob and prints it to report_to (may be NULL). */
ert_status ert_convert_write(const char *out, ert_graph **gs, uint32_t n, ert_blob_write_opts *wo,
                             const ert_convert_quant *q, FILE *report_to, ert_error *err);

#endif
