/* TCN formulas (families.md) and parameters; no model needed. */
#include "embedrt/tcn.h"

#include <math.h>
#include <string.h>

void ert_tcn_params_default(ert_tcn_params *p)
{
    p->alpha = 0.5;
    p->beta = 0.5;
    p->gamma = 1e-3;
    p->l2_normalize = false;
    p->l2_scale = 10.0;
}

static ert_status one(const ert_family_param *prm, double lo, bool lo_open, double *v, ert_error *err)
{
    if (prm->text || prm->n_values != 1 || !isfinite(prm->values[0]) || prm->values[0] < lo ||
        (lo_open && prm->values[0] == lo))
        return ert_fail(err, ERT_EINVAL, "tcn parameter '%s' must be one finite number %s %g", prm->key,
                        lo_open ? ">" : ">=", lo);
    *v = prm->values[0];
    return ERT_OK;
}

ert_status ert_tcn_params_parse(const ert_family_param *params, size_t n, ert_tcn_params *p, ert_error *err)
{
    ert_tcn_params out;
    ert_tcn_params_default(&out);
    for (size_t i = 0; i < n; i++) {
        const ert_family_param *prm = &params[i];
        ert_status st = ERT_OK;
        double v = 0;
        if (strcmp(prm->key, "alpha") == 0)
            st = one(prm, 0, false, &out.alpha, err);
        else if (strcmp(prm->key, "beta") == 0)
            st = one(prm, 0, false, &out.beta, err);
        else if (strcmp(prm->key, "gamma") == 0)
            st = one(prm, 0, false, &out.gamma, err);
        else if (strcmp(prm->key, "l2_scale") == 0)
            st = one(prm, 0, true, &out.l2_scale, err);
        else if (strcmp(prm->key, "l2_normalize") == 0) {
            st = one(prm, 0, false, &v, err);
            if (st == ERT_OK && v != 0 && v != 1)
                st = ert_fail(err, ERT_EINVAL, "tcn parameter 'l2_normalize': %g is not 0 or 1", v);
            out.l2_normalize = v == 1;
        }
        if (st != ERT_OK)
            return st;
    }
    *p = out;
    return ERT_OK;
}

double ert_tcn_dist2(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++) {
        double x = (double)a[i] - b[i];
        s += x * x;
    }
    return s;
}

double ert_tcn_imitation_reward(const float *demo_t, const float *live, size_t d, const ert_tcn_params *p,
                                double *dist2)
{
    double d2 = ert_tcn_dist2(demo_t, live, d);
    if (dist2)
        *dist2 = d2;
    return -p->alpha * d2 - p->beta * sqrt(p->gamma + d2);
}

void ert_tcn_nearest(const float *demo, size_t t, size_t d, const float *q, size_t *index, double *dist)
{
    size_t best = 0;
    double bd = INFINITY;
    for (size_t i = 0; i < t; i++) {
        double d2 = ert_tcn_dist2(demo + i * d, q, d);
        if (d2 < bd) {
            bd = d2;
            best = i;
        }
    }
    *index = best;
    *dist = t ? sqrt(bd) : INFINITY;
}

void ert_tcn_l2_normalize(float *v, size_t d, double scale)
{
    double s = 0;
    for (size_t i = 0; i < d; i++)
        s += (double)v[i] * v[i];
    if (s == 0)
        return;
    double k = scale / sqrt(s);
    for (size_t i = 0; i < d; i++)
        v[i] = (float)(v[i] * k);
}
