/* TCN math without a model: parameters, the imitation reward, nearest neighbours, L2
 * normalisation, demonstrations and the per-episode tracker (checked by tcn_math.py). */
#include "embedrt/tcn.h"

#include "embedrt/npy.h"
#include "embedrt/tensor.h"

#include "tcn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ert_tcn_params_default(ert_tcn_params *p)
{
    p->alpha = 0.5f;
    p->beta = 0.5f;
    p->gamma = 1e-3f;
    p->l2_normalize = false;
    p->l2_scale = 10.0f;
    p->time_window = 0;
}

/* A single-number parameter, or an error naming the key. */
static ert_status one_number(const ert_family_param *prm, double *v, ert_error *err)
{
    if (prm->text)
        return ert_fail(err, ERT_EINVAL, "tcn parameter '%s': expected a number, got text '%s'", prm->key,
                        prm->text);
    if (prm->n_values != 1 || !prm->values)
        return ert_fail(err, ERT_EINVAL, "tcn parameter '%s': expected one number, got %zu", prm->key,
                        prm->n_values);
    *v = prm->values[0];
    return ERT_OK;
}

static ert_status apply_param(const ert_family_param *prm, ert_tcn_params *p, ert_error *err)
{
    static const char *const weights[] = {"alpha", "beta", "gamma"};
    float *const fields[] = {&p->alpha, &p->beta, &p->gamma};
    double v = 0.0;
    ert_status st;
    for (int i = 0; i < 3; i++) {
        if (strcmp(prm->key, weights[i]) != 0)
            continue;
        if ((st = one_number(prm, &v, err)) != ERT_OK)
            return st;
        /* Checked after the cast: 1e40 is a fine double but inf as a float. */
        float f = (float)v;
        if (!(isfinite(f) && f >= 0.0f))
            return ert_fail(err, ERT_EINVAL, "tcn parameter '%s': %g is not a finite float32 >= 0", prm->key, v);
        *fields[i] = f;
        return ERT_OK;
    }
    if (strcmp(prm->key, "l2_normalize") == 0) {
        if ((st = one_number(prm, &v, err)) != ERT_OK)
            return st;
        if (v != 0.0 && v != 1.0)
            return ert_fail(err, ERT_EINVAL, "tcn parameter 'l2_normalize': %g is not 0 or 1", v);
        p->l2_normalize = v == 1.0;
    } else if (strcmp(prm->key, "l2_scale") == 0) {
        if ((st = one_number(prm, &v, err)) != ERT_OK)
            return st;
        float f = (float)v;
        if (!(isfinite(f) && f > 0.0f))
            return ert_fail(err, ERT_EINVAL, "tcn parameter 'l2_scale': %g is not a finite float32 > 0", v);
        p->l2_scale = f;
    } else if (strcmp(prm->key, "time_window") == 0) {
        if ((st = one_number(prm, &v, err)) != ERT_OK)
            return st;
        if (!(v >= 0.0 && v <= (double)ERT_TCN_MAX_TIME_WINDOW) || floor(v) != v)
            return ert_fail(err, ERT_EINVAL, "tcn parameter 'time_window': %g is not a whole number of frames in 0..%u",
                            v, ERT_TCN_MAX_TIME_WINDOW);
        p->time_window = (uint32_t)v;
    }
    return ERT_OK;
}

ert_status ert_tcn_params_parse(const ert_family_param *params, size_t n_params, ert_tcn_params *p,
                                ert_error *err)
{
    if (!p || (n_params && !params))
        return ert_fail(err, ERT_EINVAL, "ert_tcn_params_parse: NULL %s", p ? "params" : "output");
    ert_tcn_params out;
    ert_tcn_params_default(&out);
    for (size_t i = 0; i < n_params; i++) {
        if (!params[i].key)
            return ert_fail(err, ERT_EINVAL, "tcn parameter %zu has no key", i);
        ert_status st = apply_param(&params[i], &out, err);
        if (st != ERT_OK)
            return st;
    }
    *p = out;
    return ERT_OK;
}

ert_status ert_tcn_params_check(const ert_tcn_params *p, const char *who, ert_error *err)
{
    if (!(isfinite(p->alpha) && p->alpha >= 0.0f && isfinite(p->beta) && p->beta >= 0.0f &&
          isfinite(p->gamma) && p->gamma >= 0.0f))
        return ert_fail(err, ERT_EINVAL, "%s: alpha, beta and gamma must be finite and >= 0 (got %g, %g, %g)", who,
                        (double)p->alpha, (double)p->beta, (double)p->gamma);
    if (p->l2_normalize && !(isfinite(p->l2_scale) && p->l2_scale > 0.0f))
        return ert_fail(err, ERT_EINVAL, "%s: l2_scale must be finite and > 0 (got %g)", who, (double)p->l2_scale);
    if (p->time_window > ERT_TCN_MAX_TIME_WINDOW)
        return ert_fail(err, ERT_EINVAL, "%s: time_window %u is more than %u frames", who, p->time_window,
                        ERT_TCN_MAX_TIME_WINDOW);
    return ERT_OK;
}

static double reward_d(double dist2, const ert_tcn_params *p)
{
    return -(double)p->alpha * dist2 - (double)p->beta * sqrt((double)p->gamma + dist2);
}

float ert_tcn_reward_from_dist2(float dist2, const ert_tcn_params *p)
{
    return p ? (float)reward_d(dist2, p) : NAN;
}

/* Squared Euclidean distance in double: float embeddings square without overflow. */
static double dist2_d(const float *a, const float *b, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < d; i++) {
        double x = (double)a[i] - (double)b[i];
        s += x * x;
    }
    return s;
}

float ert_tcn_imitation_reward(const float *demo_t, const float *live, size_t d, const ert_tcn_params *p,
                               float *dist2_out)
{
    double s = NAN;
    if (d == 0)
        s = 0.0;
    else if (demo_t && live)
        s = dist2_d(demo_t, live, d);
    if (dist2_out)
        *dist2_out = (float)s;
    return p ? (float)reward_d(s, p) : NAN;
}

ert_status ert_tcn_nearest(const float *demo, size_t t, size_t d, const float *q, size_t *index, float *dist,
                           ert_error *err)
{
    size_t n;
    if (!demo || !q)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_nearest: NULL %s", demo ? "query" : "demo");
    if (t == 0 || d == 0)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_nearest: empty %s (%zu frames of %zu floats)",
                        t == 0 ? "demo" : "embeddings", t, d);
    if (!ert_mul_size(t, d, &n))
        return ert_fail(err, ERT_EINVAL, "ert_tcn_nearest: %zu x %zu floats overflow", t, d);
    size_t best_i = SIZE_MAX;
    double best = 0.0;
    for (size_t i = 0; i < t; i++) {
        double s = dist2_d(demo + i * d, q, d);
        /* Strictly smaller: ties keep the lowest index; NaN compares false and never wins. */
        if (!isnan(s) && (best_i == SIZE_MAX || s < best)) {
            best = s;
            best_i = i;
        }
    }
    if (best_i == SIZE_MAX)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_nearest: every distance is NaN (NaN in the query or the demo)");
    if (index)
        *index = best_i;
    if (dist)
        *dist = (float)sqrt(best);
    return ERT_OK;
}

ert_status ert_tcn_alignment_error(const float *a, size_t ta, const float *b, size_t tb, size_t d, double *out,
                                   ert_error *err)
{
    size_t n;
    if (!a || !out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_alignment_error: NULL %s", a ? "output" : "first sequence");
    if (ta == 0 || !ert_mul_size(ta, d, &n))
        return ert_fail(err, ERT_EINVAL, "ert_tcn_alignment_error: first sequence has %zu frames of %zu floats", ta,
                        d);
    double sum = 0.0;
    for (size_t i = 0; i < ta; i++) {
        size_t j;
        ert_status st = ert_tcn_nearest(b, tb, d, a + i * d, &j, NULL, err);
        if (st != ERT_OK)
            return ert_error_prefix(err, "ert_tcn_alignment_error: frame %zu", i);
        sum += j > i ? (double)(j - i) : (double)(i - j);
    }
    *out = sum / (double)ta;
    return ERT_OK;
}

void ert_tcn_l2_normalize(float *v, size_t d, float scale)
{
    if (!v || d == 0)
        return;
    double s = 0.0;
    for (size_t i = 0; i < d; i++)
        s += (double)v[i] * (double)v[i];
    /* Written so a NaN sum stays NaN (fmax would drop it); a zero vector stays zero. */
    double k = (double)scale / sqrt(s < 1e-12 ? 1e-12 : s);
    for (size_t i = 0; i < d; i++)
        v[i] = (float)((double)v[i] * k);
}

/* ---- demonstrations ---- */

ert_status ert_tcn_demo_alloc(size_t t, size_t d, const char *who, struct ert_tcn_demo **out, ert_error *err)
{
    size_t n, bytes;
    if (t == 0 || d == 0)
        return ert_fail(err, ERT_EINVAL, "%s: a demo needs at least one frame of at least one float (got %zu x %zu)",
                        who, t, d);
    if (!ert_mul_size(t, d, &n) || !ert_mul_size(n, sizeof(float), &bytes))
        return ert_fail(err, ERT_EINVAL, "%s: %zu x %zu floats overflow", who, t, d);
    ert_tcn_demo *demo = calloc(1, sizeof *demo);
    float *emb = demo ? malloc(bytes) : NULL;
    if (!emb) {
        free(demo);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory for a %zu x %zu demo", who, t, d);
    }
    demo->t = t;
    demo->d = d;
    demo->emb = emb;
    *out = demo;
    return ERT_OK;
}

size_t ert_tcn_first_nonfinite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return n;
}

ert_status ert_tcn_demo_from_array(const float *emb, size_t t, size_t d, ert_tcn_demo **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_from_array: NULL output");
    *out = NULL;
    if (!emb)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_from_array: NULL embeddings");
    ert_tcn_demo *demo;
    ert_status st = ert_tcn_demo_alloc(t, d, "ert_tcn_demo_from_array", &demo, err);
    if (st != ERT_OK)
        return st;
    size_t n = t * d; /* checked by the allocation */
    size_t bad = ert_tcn_first_nonfinite(emb, n);
    if (bad < n) {
        ert_tcn_demo_free(demo);
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_from_array: frame %zu value %zu is not finite (%g)", bad / d,
                        bad % d, (double)emb[bad]);
    }
    memcpy(demo->emb, emb, n * sizeof *emb);
    *out = demo;
    return ERT_OK;
}

ert_status ert_tcn_demo_load_npy(const char *path, size_t dim, ert_tcn_demo **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_load_npy: NULL output");
    *out = NULL;
    if (!path)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_load_npy: NULL path");
    ert_npy npy;
    ert_status st = ert_npy_read(path, &npy, err);
    if (st != ERT_OK)
        return st;
    char shape[128], want[48];
    ert_shape_str(&npy.shape, shape, sizeof shape);
    if (dim)
        snprintf(want, sizeof want, "[T, %zu]", dim);
    else
        snprintf(want, sizeof want, "[T, D]");
    bool shape_ok = npy.dtype == ERT_DT_F32 && npy.shape.rank == 2;
    if (!shape_ok || (dim && (uint64_t)npy.shape.dims[1] != dim)) {
        /* A wrong D is the caller pairing a demo with another model; the rest is the file. */
        st = ert_fail(err, shape_ok ? ERT_EINVAL : ERT_EFORMAT, "%s: a demo must be float32 %s embeddings, got %s %s",
                      path, want, ert_dtype_name(npy.dtype), shape);
    } else if (npy.shape.dims[0] < 1 || npy.shape.dims[1] < 1) {
        st = ert_fail(err, ERT_EFORMAT, "%s: a demo needs at least one frame of at least one float, got %s", path,
                      shape);
    }
    size_t n = 0;
    if (st == ERT_OK && (!ert_shape_numel(&npy.shape, &n) || npy.nbytes != n * sizeof(float)))
        st = ert_fail(err, ERT_EFORMAT, "%s: data size does not match shape %s", path, shape);
    if (st == ERT_OK) {
        size_t bad = ert_tcn_first_nonfinite(npy.data, n);
        size_t d = (size_t)npy.shape.dims[1];
        if (bad < n)
            st = ert_fail(err, ERT_EFORMAT, "%s: frame %zu value %zu is not finite (%g)", path, bad / d, bad % d,
                          (double)((const float *)npy.data)[bad]);
    }
    ert_tcn_demo *demo = NULL;
    if (st == ERT_OK) {
        demo = calloc(1, sizeof *demo);
        if (!demo)
            st = ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    }
    if (st != ERT_OK) {
        ert_npy_free(&npy);
        return st;
    }
    /* The npy buffer (malloc'd, so float-aligned) becomes the demo: one allocation. */
    demo->t = (size_t)npy.shape.dims[0];
    demo->d = (size_t)npy.shape.dims[1];
    demo->emb = npy.data;
    *out = demo;
    return ERT_OK;
}

ert_status ert_tcn_demo_write_npy(const ert_tcn_demo *demo, const char *path, ert_error *err)
{
    if (!demo || !path)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_demo_write_npy: NULL %s", demo ? "path" : "demo");
    ert_shape s = {.rank = 2, .dims = {(int64_t)demo->t, (int64_t)demo->d}};
    return ert_npy_write(path, ERT_DT_F32, &s, demo->emb, err);
}

size_t ert_tcn_demo_length(const ert_tcn_demo *demo)
{
    return demo ? demo->t : 0;
}

size_t ert_tcn_demo_dim(const ert_tcn_demo *demo)
{
    return demo ? demo->d : 0;
}

const float *ert_tcn_demo_frame(const ert_tcn_demo *demo, size_t i)
{
    return demo && i < demo->t ? demo->emb + i * demo->d : NULL;
}

void ert_tcn_demo_free(ert_tcn_demo *demo)
{
    if (!demo)
        return;
    free(demo->emb);
    free(demo);
}

/* ---- per-episode tracking ---- */

ert_status ert_tcn_tracker_init(ert_tcn_tracker *tr, const ert_tcn_demo *demo, const ert_tcn_params *p,
                                ert_error *err)
{
    if (!tr || !demo)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_tracker_init: NULL %s", tr ? "demo" : "tracker");
    ert_tcn_params params;
    if (p) {
        ert_status st = ert_tcn_params_check(p, "ert_tcn_tracker_init", err);
        if (st != ERT_OK)
            return st;
        params = *p;
    } else {
        ert_tcn_params_default(&params);
    }
    tr->demo = demo;
    tr->params = params;
    tr->t = 0;
    return ERT_OK;
}

void ert_tcn_tracker_reset(ert_tcn_tracker *tr)
{
    if (tr)
        tr->t = 0;
}

ert_status ert_tcn_tracker_step(ert_tcn_tracker *tr, const float *live, size_t d, ert_tcn_step *out,
                                ert_error *err)
{
    if (!tr || !tr->demo || !live || !out)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_tracker_step: NULL %s",
                        !tr         ? "tracker"
                        : !tr->demo ? "demo (tracker not initialised)"
                        : !live     ? "embedding"
                                    : "output");
    const ert_tcn_demo *demo = tr->demo;
    if (d != demo->d)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_tracker_step: live embedding has %zu floats, the demo's have %zu", d,
                        demo->d);
    size_t bad = ert_tcn_first_nonfinite(live, d);
    if (bad < d)
        return ert_fail(err, ERT_EINVAL, "ert_tcn_tracker_step: live embedding value %zu is not finite (%g)", bad,
                        (double)live[bad]);
    ert_tcn_step s;
    s.t = tr->t;
    s.time_index = tr->t < demo->t ? (size_t)tr->t : demo->t - 1;
    /* The closest demo frame within +-W of the time index, scanned outwards from it so
     * that ties keep the frame nearest in time (then the earlier one). Demo and live
     * values are finite (checked at load and above), so every distance is a number. */
    size_t c = s.time_index, w = tr->params.time_window, best = c;
    double best_d2 = dist2_d(demo->emb + c * d, live, d);
    for (size_t k = 1; k <= w; k++) {
        if (k <= c) {
            double x = dist2_d(demo->emb + (c - k) * d, live, d);
            if (x < best_d2) {
                best_d2 = x;
                best = c - k;
            }
        }
        if (c + k < demo->t) {
            double x = dist2_d(demo->emb + (c + k) * d, live, d);
            if (x < best_d2) {
                best_d2 = x;
                best = c + k;
            }
        }
        if (k > c && c + k >= demo->t)
            break;
    }
    s.demo_index = best;
    s.reward = ert_tcn_imitation_reward(demo->emb + s.demo_index * d, live, d, &tr->params, &s.dist2);
    ert_status st = ert_tcn_nearest(demo->emb, demo->t, d, live, &s.nearest, &s.nearest_dist, err);
    if (st != ERT_OK)
        return st;
    if (tr->t != UINT64_MAX)
        tr->t++;
    *out = s;
    return ERT_OK;
}
