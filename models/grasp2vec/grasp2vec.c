/* grasp2vec math without a model: parameters, similarities, the scene difference and
 * the goal heatmap (formulas in grasp2vec.h, checked against reference/grasp2vec_math.py). */
#include "embedrt/grasp2vec.h"

#include "embedrt/tensor.h"

#include <math.h>
#include <string.h>

void ert_g2v_params_default(ert_g2v_params *p)
{
    p->similarity = ERT_G2V_COSINE;
    p->diff_relu = false;
    p->heatmap_temperature = 0.1f;
}

/* A single-number parameter, or an error naming the key. */
static ert_status one_number(const ert_family_param *prm, double *v, ert_error *err)
{
    if (prm->text)
        return ert_fail(err, ERT_EINVAL, "grasp2vec parameter '%s': expected a number, got text '%s'", prm->key,
                        prm->text);
    if (prm->n_values != 1 || !prm->values)
        return ert_fail(err, ERT_EINVAL, "grasp2vec parameter '%s': expected one number, got %zu", prm->key,
                        prm->n_values);
    *v = prm->values[0];
    return ERT_OK;
}

static ert_status apply_param(const ert_family_param *prm, ert_g2v_params *p, ert_error *err)
{
    double v = 0.0;
    ert_status st;
    if (strcmp(prm->key, "similarity") == 0) {
        if (!prm->text)
            return ert_fail(err, ERT_EINVAL, "grasp2vec parameter 'similarity': expected text cosine or dot, got %s",
                            prm->n_values ? "a number" : "nothing");
        if (strcmp(prm->text, "cosine") == 0)
            p->similarity = ERT_G2V_COSINE;
        else if (strcmp(prm->text, "dot") == 0)
            p->similarity = ERT_G2V_DOT;
        else
            return ert_fail(err, ERT_EINVAL, "grasp2vec parameter 'similarity': unknown value '%s' (cosine or dot)",
                            prm->text);
    } else if (strcmp(prm->key, "diff_relu") == 0) {
        if ((st = one_number(prm, &v, err)) != ERT_OK)
            return st;
        if (v != 0.0 && v != 1.0)
            return ert_fail(err, ERT_EINVAL, "grasp2vec parameter 'diff_relu': %g is not 0 or 1", v);
        p->diff_relu = v == 1.0;
    } else if (strcmp(prm->key, "heatmap_temperature") == 0) {
        if ((st = one_number(prm, &v, err)) != ERT_OK)
            return st;
        /* Checked after the cast: 1e-50 or 1e40 are fine doubles but 0 or inf as floats. */
        float t = (float)v;
        if (!(isfinite(t) && t > 0.0f))
            return ert_fail(err, ERT_EINVAL,
                            "grasp2vec parameter 'heatmap_temperature': %g is not a finite float32 > 0", v);
        p->heatmap_temperature = t;
    }
    return ERT_OK;
}

ert_status ert_g2v_params_parse(const ert_family_param *params, size_t n_params, ert_g2v_params *p,
                                ert_error *err)
{
    if (!p || (n_params && !params))
        return ert_fail(err, ERT_EINVAL, "ert_g2v_params_parse: NULL %s", p ? "params" : "output");
    ert_g2v_params out;
    ert_g2v_params_default(&out);
    for (size_t i = 0; i < n_params; i++) {
        if (!params[i].key)
            return ert_fail(err, ERT_EINVAL, "grasp2vec parameter %zu has no key", i);
        ert_status st = apply_param(&params[i], &out, err);
        if (st != ERT_OK)
            return st;
    }
    *p = out;
    return ERT_OK;
}

void ert_g2v_compare(const float *goal, const float *other, size_t n, ert_g2v_sim_kind kind, ert_g2v_reward *out)
{
    memset(out, 0, sizeof *out);
    if (!goal || !other || n == 0) {
        if (kind != ERT_G2V_COSINE && kind != ERT_G2V_DOT)
            out->value = NAN;
        return;
    }
    /* Double sums: float embeddings up to FLT_MAX square without overflow, and 1024-d
     * dots keep full float precision. */
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = goal[i], b = other[i];
        dot += a * b;
        na += a * a;
        nb += b * b;
    }
    na = sqrt(na);
    nb = sqrt(nb);
    /* A zero vector has no direction: cosine 0. NaN norms fall through and propagate. */
    double cosine = (na == 0.0 || nb == 0.0) ? 0.0 : dot / (na * nb);
    if (cosine > 1.0)
        cosine = 1.0;
    else if (cosine < -1.0)
        cosine = -1.0;
    out->cosine = (float)cosine;
    out->dot = (float)dot;
    out->norm_goal = (float)na;
    out->norm_other = (float)nb;
    out->value = kind == ERT_G2V_COSINE ? out->cosine : kind == ERT_G2V_DOT ? out->dot : NAN;
}

float ert_g2v_similarity(const float *a, const float *b, size_t n, ert_g2v_sim_kind kind)
{
    ert_g2v_reward r;
    ert_g2v_compare(a, b, n, kind, &r);
    return r.value;
}

void ert_g2v_scene_diff(const float *pre, const float *post, size_t n, bool relu, float *out)
{
    if (!pre || !post || !out)
        return;
    for (size_t i = 0; i < n; i++) {
        float d = pre[i] - post[i];
        out[i] = relu && d < 0.0f ? 0.0f : d; /* NaN passes through, as in compare */
    }
}

/* Coordinate of cell k of n in [-1, 1] (cell centres of the first and last cells). */
static double grid_coord(size_t k, size_t n)
{
    return n > 1 ? -1.0 + 2.0 * (double)k / (double)(n - 1) : 0.0;
}

ert_status ert_g2v_heatmap(const float *spatial, size_t c, size_t h, size_t w, const float *goal,
                           float temperature, float *heat, float *prob, float keypoint[2], ert_error *err)
{
    if (!spatial || !goal || !heat)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_heatmap: NULL %s", !spatial ? "spatial" : !goal ? "goal" : "heat");
    size_t hw, chw;
    if (c == 0 || h == 0 || w == 0)
        return ert_fail(err, ERT_EINVAL, "ert_g2v_heatmap: empty spatial map %zux%zux%zu", c, h, w);
    if (!ert_mul_size(h, w, &hw) || !ert_mul_size(hw, c, &chw) || !ert_mul_size(chw, sizeof(float), &chw))
        return ert_fail(err, ERT_EINVAL, "ert_g2v_heatmap: spatial map %zux%zux%zu overflows", c, h, w);
    if (!(isfinite(temperature) && temperature > 0.0f))
        return ert_fail(err, ERT_EINVAL, "ert_g2v_heatmap: temperature %g must be finite and > 0",
                        (double)temperature);

    /* Channel-outer so the inner loop runs over contiguous positions (vectorizes). */
    memset(heat, 0, hw * sizeof *heat);
    for (size_t k = 0; k < c; k++) {
        const float *s = spatial + k * hw;
        const float g = goal[k];
        for (size_t p = 0; p < hw; p++)
            heat[p] += s[p] * g;
    }
    float mx = heat[0];
    for (size_t p = 0; p < hw; p++) {
        if (!isfinite(heat[p]))
            return ert_fail(err, ERT_EINVAL,
                            "ert_g2v_heatmap: heat at row %zu col %zu is %g (NaN/inf in the inputs or overflow)",
                            p / w, p % w, (double)heat[p]);
        if (heat[p] > mx)
            mx = heat[p];
    }

    /* Softmaxes with the maximum subtracted (the largest term is exp(0) = 1, so the sum is
     * >= 1 and nothing overflows); differences in double, since two finite floats can
     * differ by more than FLT_MAX. */
    if (prob) {
        double sum = 0.0;
        for (size_t p = 0; p < hw; p++)
            sum += exp((double)heat[p] - mx);
        for (size_t p = 0; p < hw; p++)
            prob[p] = (float)(exp((double)heat[p] - mx) / sum);
    }
    if (keypoint) {
        const double t = temperature;
        double sum = 0.0, sx = 0.0, sy = 0.0;
        for (size_t i = 0; i < h; i++) {
            const double y = grid_coord(i, h);
            for (size_t j = 0; j < w; j++) {
                const double e = exp(((double)heat[i * w + j] - mx) / t);
                sum += e;
                sx += e * grid_coord(j, w);
                sy += e * y;
            }
        }
        keypoint[0] = (float)(sx / sum);
        keypoint[1] = (float)(sy / sum);
    }
    return ERT_OK;
}
