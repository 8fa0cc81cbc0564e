/* Activation ranges for int8 compute (issue 6): statistics of a float32 tensor over the
 * calibration frames, the range a calibration method picks from them, and the uint8
 * parameters (scale, zero point) of that range. Two passes over the frames: the first
 * finds min and max, the second fills a histogram over [min, max]. */
#ifndef ERT_QRANGE_H
#define ERT_QRANGE_H

#include "embedrt/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERT_QHIST_BINS 2048

typedef enum ert_calib_method {
    ERT_CALIB_MINMAX = 0,     /* the whole observed range */
    ERT_CALIB_PERCENTILE = 1, /* 0.01% .. 99.99% of the values (outliers clip) */
    ERT_CALIB_ENTROPY = 2,    /* the clipping threshold minimising KL(histogram || its 256-level quantization) */
} ert_calib_method;

typedef struct ert_qstats {
    float min, max;              /* pass 1 */
    bool hist_ready;             /* pass 2 started: bins cover [min, max] */
    uint64_t count, nonfinite;   /* values seen (pass 1), NaN/inf skipped */
    uint64_t bins[ERT_QHIST_BINS];
} ert_qstats;

/* uint8 parameters: q = clamp(rne(x * inv_scale) + zero_point, 0, q_max), x ~ scale * (q - zero_point). */
typedef struct ert_qparams {
    float scale, inv_scale;
    uint8_t zero_point;
    uint8_t q_max;               /* 255 (8-bit activations) or 127 (7-bit) */
    float lo, hi;                /* the range it represents (lo <= 0 <= hi) */
} ert_qparams;

/* "minmax" | "percentile" | "entropy" -> method; false when unknown. */
bool ert_calib_method_parse(const char *s, ert_calib_method *out);
const char *ert_calib_method_name(ert_calib_method m);

void ert_qstats_init(ert_qstats *s);
/* Pass 1: min and max of v (non-finite values are counted and skipped). */
void ert_qstats_minmax(ert_qstats *s, const float *v, size_t n);
/* Pass 2: histogram over the pass-1 range (call after every pass-1 frame is in). */
void ert_qstats_hist(ert_qstats *s, const float *v, size_t n);
/* The range the method picks (always containing 0, the value padding must represent),
 * and the uint8 parameters of it. A tensor that is constant zero gets scale 1. */
ert_qparams ert_qstats_params(const ert_qstats *s, ert_calib_method m);
/* Parameters of a given range [lo, hi] (lo <= 0 <= hi after widening to include 0). */
ert_qparams ert_qparams_of(float lo, float hi);
/* The same on q_max levels (255: ert_qparams_of; 127: 7-bit, scale = range / 127, z <= 127). */
ert_qparams ert_qparams_levels(float lo, float hi, uint8_t q_max);

#endif
