/* The quantization report (embedrt.v1.QuantReport, proto/embedrt/v1/blob.proto): built by
 * `embedrt convert --quantize`, printed, stored in the blob's meta, printed again by
 * `embedrt inspect`. */
#ifndef ERT_QREPORT_H
#define ERT_QREPORT_H

#include "embedrt/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ert_qr_output {
    char graph[129], output[257];
    double cosine_mean, cosine_min, max_rel_err;
} ert_qr_output;

typedef struct ert_qr_layer {
    char graph[129], node[257], what[16];
    double sqnr_db;
} ert_qr_layer;

typedef struct ert_qr_reward {
    char name[64];
    double value;
} ert_qr_reward;

typedef struct ert_qreport {
    char mode[16], method[16];
    uint32_t calibration_frames, heldout_frames;
    ert_qr_output *outputs;
    size_t n_outputs;
    ert_qr_layer *layers;
    size_t n_layers;
    ert_qr_reward *rewards;
    size_t n_rewards;
    char (*kept)[257];
    size_t n_kept;
    bool forced;
    double gate_cosine;
    uint32_t activation_bits; /* int8: 8 or 7 (0 in older blobs: 8) */
    char (*kept8)[257];       /* activation_bits 7: nodes put back on 8-bit activations */
    size_t n_kept8;
} ert_qreport;

/* Growing the lists (malloc'd; ert_qreport_free releases them). */
ert_status ert_qreport_add_output(ert_qreport *r, const ert_qr_output *o, ert_error *err);
ert_status ert_qreport_add_layer(ert_qreport *r, const ert_qr_layer *l, ert_error *err);
ert_status ert_qreport_add_reward(ert_qreport *r, const char *name, double value, ert_error *err);
ert_status ert_qreport_add_kept(ert_qreport *r, const char *node, ert_error *err);
ert_status ert_qreport_add_kept8(ert_qreport *r, const char *node, ert_error *err);
void ert_qreport_free(ert_qreport *r);

ert_status ert_qreport_encode(const ert_qreport *r, uint8_t **out, size_t *len, ert_error *err);
/* Decodes what a blob stores (hostile: every string bounded, lists capped at 100000). */
ert_status ert_qreport_decode(const uint8_t *data, size_t len, ert_qreport *r, ert_error *err);
/* Human-readable: outputs, the worst layers by SQNR (at most max_layers), rewards. */
void ert_qreport_print(const ert_qreport *r, FILE *f, size_t max_layers);
/* The lowest mean cosine over the outputs (1 when there are none). */
double ert_qreport_min_cosine(const ert_qreport *r);

#endif
