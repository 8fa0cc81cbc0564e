/* Activation ranges for int8 compute (see qrange.h). */
#include "qrange.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool ert_calib_method_parse(const char *s, ert_calib_method *out)
{
    static const char *const names[] = {"minmax", "percentile", "entropy"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (ert_calib_method)i;
            return true;
        }
    return false;
}

const char *ert_calib_method_name(ert_calib_method m)
{
    return m == ERT_CALIB_PERCENTILE ? "percentile" : m == ERT_CALIB_ENTROPY ? "entropy" : "minmax";
}

void ert_qstats_init(ert_qstats *s)
{
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
}

void ert_qstats_minmax(ert_qstats *s, const float *v, size_t n)
{
    float lo = s->min, hi = s->max;
    for (size_t i = 0; i < n; i++) {
        float x = v[i];
        if (!isfinite(x)) {
            s->nonfinite++;
            continue;
        }
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    s->min = lo;
    s->max = hi;
    s->count += n;
}

/* The histogram covers [min(min, 0), max(max, 0)]: zero always has a bin edge near it. */
static void hist_range(const ert_qstats *s, double *lo, double *w)
{
    double a = s->min < 0 ? s->min : 0, b = s->max > 0 ? s->max : 0;
    *lo = a;
    *w = b > a ? (b - a) / ERT_QHIST_BINS : 1.0;
}

void ert_qstats_hist(ert_qstats *s, const float *v, size_t n)
{
    if (!(s->min <= s->max))
        return; /* pass 1 saw no finite value */
    s->hist_ready = true;
    double lo, w;
    hist_range(s, &lo, &w);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        double b = (v[i] - lo) / w;
        size_t k = b <= 0 ? 0 : b >= ERT_QHIST_BINS - 1 ? ERT_QHIST_BINS - 1 : (size_t)b;
        s->bins[k]++;
    }
}

ert_qparams ert_qparams_of(float lo, float hi)
{
    return ert_qparams_levels(lo, hi, 255);
}

ert_qparams ert_qparams_levels(float lo, float hi, uint8_t q_max)
{
    if (!(lo <= 0.0f))
        lo = 0.0f;
    if (!(hi >= 0.0f))
        hi = 0.0f;
    const float levels = (float)q_max;
    ert_qparams p = {.lo = lo, .hi = hi, .q_max = q_max};
    float range = hi - lo;
    if (!(range > 0.0f) || !isfinite(range) || !isfinite(levels / range)) {
        p.scale = 1.0f; /* constant zero (or degenerate): any scale represents it */
        p.inv_scale = 1.0f;
        p.zero_point = 0;
        p.lo = p.hi = 0.0f;
        return p;
    }
    p.scale = range / levels;
    p.inv_scale = 1.0f / p.scale;
    float z = rintf(-lo / p.scale);
    p.zero_point = (uint8_t)(z < 0 ? 0 : z > levels ? levels : z);
    return p;
}

/* Count-weighted quantile q of the histogram, as a value. */
static double quantile(const ert_qstats *s, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < ERT_QHIST_BINS; i++)
        total += s->bins[i];
    double lo, w;
    hist_range(s, &lo, &w);
    if (total == 0)
        return 0;
    double target = q * (double)total, acc = 0;
    for (int i = 0; i < ERT_QHIST_BINS; i++) {
        if (acc + (double)s->bins[i] >= target) {
            double frac = s->bins[i] ? (target - acc) / (double)s->bins[i] : 0;
            return lo + w * (i + frac);
        }
        acc += (double)s->bins[i];
    }
    return lo + w * ERT_QHIST_BINS;
}

/* KL divergence of h[0..i) (outliers folded into the last bin) against its quantization to
 * `levels` levels; the threshold minimising it, in bins (TensorRT's entropy calibration). */
static size_t kl_threshold(const uint64_t *h, size_t n, size_t levels)
{
    if (n <= levels)
        return n;
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    if (!p || !q) {
        free(p);
        free(q);
        return n;
    }
    size_t best = n;
    double best_kl = INFINITY;
    size_t step = n / 128 ? n / 128 : 1;
    for (size_t i = levels; i <= n; i += step) {
        double outliers = 0;
        for (size_t k = i; k < n; k++)
            outliers += (double)h[k];
        double psum = 0;
        for (size_t k = 0; k < i; k++) {
            p[k] = (double)h[k] + (k == i - 1 ? outliers : 0);
            psum += p[k];
        }
        if (psum <= 0)
            continue;
        /* Q: each of `levels` chunks of P spreads its mass over its non-empty bins. */
        for (size_t c = 0; c < levels; c++) {
            size_t a = c * i / levels, b = (c + 1) * i / levels;
            double mass = 0;
            size_t nz = 0;
            for (size_t k = a; k < b; k++) {
                mass += (double)h[k];
                nz += h[k] != 0;
            }
            for (size_t k = a; k < b; k++)
                q[k] = h[k] && nz ? mass / (double)nz : 0;
        }
        double qsum = 0;
        for (size_t k = 0; k < i; k++)
            qsum += q[k];
        double kl = 0;
        for (size_t k = 0; k < i; k++) {
            if (p[k] <= 0)
                continue;
            double pk = p[k] / psum, qk = qsum > 0 ? q[k] / qsum : 0;
            kl += qk > 0 ? pk * log(pk / qk) : pk * 20.0; /* mass Q cannot represent: a large penalty */
        }
        if (kl < best_kl) {
            best_kl = kl;
            best = i;
        }
    }
    free(p);
    free(q);
    return best;
}

static double entropy_side(const ert_qstats *s, bool positive, size_t levels)
{
    double lo, w;
    hist_range(s, &lo, &w);
    long z = lround(-lo / w); /* the bin where 0 is */
    if (z < 0)
        z = 0;
    if (z > ERT_QHIST_BINS)
        z = ERT_QHIST_BINS;
    size_t n = positive ? (size_t)(ERT_QHIST_BINS - z) : (size_t)z;
    if (n == 0)
        return 0;
    uint64_t *h = malloc(n * sizeof *h);
    if (!h)
        return positive ? s->max : s->min;
    for (size_t k = 0; k < n; k++)
        h[k] = positive ? s->bins[z + (long)k] : s->bins[z - 1 - (long)k];
    /* The bin at zero holds what ReLU clamped (often most values): it says nothing about
     * where to clip and would make any clipping look cheap. */
    h[0] = 0;
    size_t t = kl_threshold(h, n, levels);
    free(h);
    return (positive ? 1.0 : -1.0) * (double)t * w;
}

ert_qparams ert_qstats_params(const ert_qstats *s, ert_calib_method m)
{
    if (!(s->min <= s->max))
        return ert_qparams_of(0, 0);
    float lo = s->min, hi = s->max;
    if (m == ERT_CALIB_PERCENTILE && s->hist_ready) {
        lo = (float)quantile(s, 1e-4);
        hi = (float)quantile(s, 1.0 - 1e-4);
    } else if (m == ERT_CALIB_ENTROPY && s->hist_ready) {
        /* 128 levels per side, candidates from 128 of the 2048 bins (TensorRT's choice): a
         * one-sided tensor then gets 256 uint8 levels over the threshold, finer than assumed. */
        size_t levels = 128;
        if (s->max > 0)
            hi = (float)fmin(entropy_side(s, true, levels), s->max);
        if (s->min < 0)
            lo = (float)fmax(entropy_side(s, false, levels), s->min);
    }
    return ert_qparams_of(lo, hi);
}
