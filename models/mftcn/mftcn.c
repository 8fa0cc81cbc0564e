/* mfTCN without a model: parameters, the causal window and the ring buffer of per-frame
 * trunk features that builds the head's input (checked by tcn/reference/tcn_math.py). */
#include "embedrt/mftcn.h"

#include "embedrt/tensor.h"

#include "mftcn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ert_mftcn_params_default(ert_mftcn_params *p)
{
    p->window = 2;
    p->stride = 15;
}

/* The span (n-1)*s+1 if n and s are valid, else an error naming who. */
static ert_status check_window(uint32_t n, uint32_t s, const char *who, size_t *span, ert_error *err)
{
    if (n < 1 || n > ERT_MFTCN_MAX_WINDOW)
        return ert_fail(err, ERT_EINVAL, "%s: window %u is not in 1..%u", who, n, ERT_MFTCN_MAX_WINDOW);
    if (s < 1)
        return ert_fail(err, ERT_EINVAL, "%s: stride must be >= 1 frame, got %u", who, s);
    uint64_t frames = (uint64_t)(n - 1) * s + 1; /* < 2^38 */
    if (frames > ERT_MFTCN_MAX_SPAN)
        return ert_fail(err, ERT_EINVAL, "%s: window %u with stride %u spans %llu frames, more than %u", who, n, s,
                        (unsigned long long)frames, ERT_MFTCN_MAX_SPAN);
    *span = (size_t)frames;
    return ERT_OK;
}

ert_status ert_mftcn_params_check(const ert_mftcn_params *p, const char *who, ert_error *err)
{
    size_t span = 0;
    if (!p)
        return ert_fail(err, ERT_EINVAL, "%s: NULL parameters", who);
    return check_window(p->window, p->stride, who, &span, err);
}

/* A positive whole number below 2^32, or an error naming the key. */
static ert_status whole_number(const ert_family_param *prm, uint32_t *v, ert_error *err)
{
    if (prm->text)
        return ert_fail(err, ERT_EINVAL, "mftcn parameter '%s': expected a number, got text '%s'", prm->key,
                        prm->text);
    if (prm->n_values != 1 || !prm->values)
        return ert_fail(err, ERT_EINVAL, "mftcn parameter '%s': expected one number, got %zu", prm->key,
                        prm->n_values);
    double x = prm->values[0];
    if (!(x >= 1.0 && x < 4294967296.0) || floor(x) != x)
        return ert_fail(err, ERT_EINVAL, "mftcn parameter '%s': %g is not a whole number >= 1", prm->key, x);
    *v = (uint32_t)x;
    return ERT_OK;
}

ert_status ert_mftcn_params_parse(const ert_family_param *params, size_t n_params, ert_mftcn_params *p,
                                  ert_error *err)
{
    if (!p || (n_params && !params))
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_params_parse: NULL %s", p ? "params" : "output");
    ert_mftcn_params out;
    ert_mftcn_params_default(&out);
    for (size_t i = 0; i < n_params; i++) {
        const ert_family_param *prm = &params[i];
        ert_status st = ERT_OK;
        if (!prm->key)
            return ert_fail(err, ERT_EINVAL, "mftcn parameter %zu has no key", i);
        if (strcmp(prm->key, "window") == 0)
            st = whole_number(prm, &out.window, err);
        else if (strcmp(prm->key, "stride") == 0)
            st = whole_number(prm, &out.stride, err);
        if (st != ERT_OK)
            return st;
    }
    size_t span = 0;
    ert_status st = check_window(out.window, out.stride, "mftcn parameters", &span, err);
    if (st != ERT_OK)
        return st;
    *p = out;
    return ERT_OK;
}

ert_status ert_mftcn_window_indices(int64_t t, uint32_t n, uint32_t s, int64_t *out, ert_error *err)
{
    if (!out || t < 0 || n == 0 || s == 0)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_window_indices: %s",
                        !out ? "NULL output" : t < 0 ? "negative frame index" : n == 0 ? "window 0" : "stride 0");
    for (uint32_t i = 0; i < n; i++) {
        /* < 2^64: both factors are below 2^32. */
        uint64_t back = (uint64_t)(n - 1 - i) * s;
        out[i] = back >= (uint64_t)t ? 0 : t - (int64_t)back;
    }
    return ERT_OK;
}

struct ert_mftcn_ring {
    uint32_t n, s;
    size_t c, hw, span;
    size_t frame_floats; /* c * hw */
    uint64_t frames;     /* pushed since the reset; frame f lives in slot f % span */
    float *slots;        /* span * frame_floats */
};

ert_status ert_mftcn_ring_create(uint32_t n, uint32_t s, size_t c, size_t hw, ert_mftcn_ring **out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_create: NULL output");
    *out = NULL;
    size_t span = 0, ff = 0, total = 0, bytes = 0;
    ert_status st = check_window(n, s, "ert_mftcn_ring_create", &span, err);
    if (st != ERT_OK)
        return st;
    if (c == 0 || hw == 0)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_create: empty features (%zu channels x %zu pixels)", c, hw);
    if (!ert_mul_size(c, hw, &ff) || !ert_mul_size(ff, span, &total) || !ert_mul_size(total, sizeof(float), &bytes))
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_create: %zu frames of %zu x %zu floats overflow", span, c,
                        hw);
    ert_mftcn_ring *r = calloc(1, sizeof *r);
    if (r)
        r->slots = malloc(bytes);
    if (!r || !r->slots) {
        free(r);
        return ert_fail(err, ERT_ENOMEM, "ert_mftcn_ring_create: out of memory for %zu frames of %zu floats", span,
                        ff);
    }
    r->n = n;
    r->s = s;
    r->c = c;
    r->hw = hw;
    r->span = span;
    r->frame_floats = ff;
    *out = r;
    return ERT_OK;
}

void ert_mftcn_ring_free(ert_mftcn_ring *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

void ert_mftcn_ring_reset(ert_mftcn_ring *r)
{
    if (r)
        r->frames = 0;
}

uint64_t ert_mftcn_ring_frames(const ert_mftcn_ring *r)
{
    return r ? r->frames : 0;
}

size_t ert_mftcn_ring_span(const ert_mftcn_ring *r)
{
    return r ? r->span : 0;
}

ert_status ert_mftcn_ring_push(ert_mftcn_ring *r, const float *features, ert_error *err)
{
    if (!r || !features)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_push: NULL %s", r ? "features" : "ring");
    if (r->frames >= (uint64_t)INT64_MAX) /* window indices are int64 */
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_push: episode too long (reset at each episode start)");
    memcpy(r->slots + (size_t)(r->frames % r->span) * r->frame_floats, features, r->frame_floats * sizeof(float));
    r->frames++;
    return ERT_OK;
}

ert_status ert_mftcn_ring_stack(const ert_mftcn_ring *r, float *out, ert_error *err)
{
    if (!r || !out)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_stack: NULL %s", r ? "output" : "ring");
    if (r->frames == 0)
        return ert_fail(err, ERT_EINVAL, "ert_mftcn_ring_stack: no frame pushed since the episode start");
    /* Frames newest-(span-1) .. newest sit in distinct slots, and every window member is
     * within (n-1)*s of the newest, or clamped to frame 0 while newest < span. */
    int64_t idx[ERT_MFTCN_MAX_WINDOW];
    ert_status st = ert_mftcn_window_indices((int64_t)(r->frames - 1), r->n, r->s, idx, err);
    if (st != ERT_OK)
        return st;
    const float *src[ERT_MFTCN_MAX_WINDOW];
    for (uint32_t k = 0; k < r->n; k++)
        src[k] = r->slots + (size_t)((uint64_t)idx[k] % r->span) * r->frame_floats;
    size_t hw = r->hw;
    for (size_t ci = 0; ci < r->c; ci++)
        for (uint32_t k = 0; k < r->n; k++)
            memcpy(out + (ci * r->n + k) * hw, src[k] + ci * hw, hw * sizeof(float));
    return ERT_OK;
}
