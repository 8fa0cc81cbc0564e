/* RIG's pure functions: latent rewards, the seeded imagined-goal sampler and parameter
 * parsing. No model needed; models/rig/reference/rig_math.py is the numpy reference. */
#include "embedrt/rig.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The sampler promises bit-identical goals everywhere: that needs every double operation
 * rounded once to IEEE double (no x87 excess precision) and no value-changing rewrites. */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "rig_math.c: the seeded sampler needs FLT_EVAL_METHOD == 0 (SSE2/NEON doubles) to be reproducible"
#endif
#ifdef __FAST_MATH__
#error "rig_math.c: -ffast-math would make the seeded sampler differ between builds"
#endif

#define VAR_FLOOR 1e-3
#define ATANH_TERMS 11 /* t^(2k+1)/(2k+1) for k = 0..10; |t| <= 0.1716 leaves < 1e-17 */

ert_rig_params ert_rig_params_default(void)
{
    /* p = 2 and the dense reward: rlkit VAEWrappedEnv defaults (norm_order=2,
     * reward type latent_distance). epsilon: the CC-RIG success threshold 0.05
     * (families.md); rlkit's constructor default of 20 would call every 4-d latent
     * within a standard deviation of the prior a success. */
    ert_rig_params p = {2.0, 0.05, ERT_RIG_REWARD_DISTANCE, NULL, NULL, 0};
    return p;
}

/* ---- rewards ---- */

double ert_rig_distance(const float *a, const float *b, size_t n, double p)
{
    if (!(p >= 1.0))
        return NAN;
    double acc = 0.0;
    if (p == 1.0) {
        for (size_t i = 0; i < n; i++)
            acc += fabs((double)a[i] - (double)b[i]);
        return acc;
    }
    if (p == 2.0) {
        for (size_t i = 0; i < n; i++) {
            double d = (double)a[i] - (double)b[i];
            acc += d * d;
        }
        return sqrt(acc);
    }
    /* inf and general p: scale by the largest difference so |d|^p cannot overflow. */
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d))
            return NAN;
        if (d > m)
            m = d;
    }
    if (isinf(p) || m == 0.0 || isinf(m))
        return m;
    for (size_t i = 0; i < n; i++)
        acc += pow(fabs((double)a[i] - (double)b[i]) / m, p);
    return m * pow(acc, 1.0 / p);
}

void ert_rig_reward_per_dim(const float *goal, const float *mu, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = -fabsf(goal[i] - mu[i]);
}

double ert_rig_sparse(const float *goal, const float *mu, size_t n, double p, double epsilon)
{
    return ert_rig_distance(goal, mu, n, p) < epsilon ? 0.0 : -1.0;
}

double ert_rig_mahalanobis(const float *goal, const float *mu, const float *logvar, size_t n)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)goal[i] - (double)mu[i];
        double var = exp((double)logvar[i]);
        if (var < VAR_FLOOR) /* NaN stays NaN */
            var = VAR_FLOOR;
        acc += d * d / (2.0 * var);
    }
    return acc;
}

void ert_rig_reward_latent(const ert_rig_params *p, const float *goal, const float *mu, const float *logvar,
                           size_t n, ert_rig_reward *out, float *per_dim)
{
    out->distance = ert_rig_distance(goal, mu, n, p->norm_order);
    out->sparse = out->distance < p->epsilon ? 0.0 : -1.0;
    out->value = p->reward == ERT_RIG_REWARD_SPARSE ? out->sparse : -out->distance;
    out->mahalanobis = logvar ? ert_rig_mahalanobis(goal, mu, logvar, n) : NAN;
    if (per_dim)
        ert_rig_reward_per_dim(goal, mu, n, per_dim);
}

/* ---- seeded sampler ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static void rng_seed(rng *r, uint64_t seed)
{
    /* splitmix64 is a bijection of its counter, so the four words are never all zero. */
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5u, 7) * 9u;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* A product rounded to double before any later addition: the volatile round trip keeps
 * compilers from fusing it into an FMA (on by default for some targets and dialects),
 * which would change the last bit on some machines and not others. */
static double mul_rounded(double a, double b)
{
    volatile double p = a * b;
    return p;
}

/* Uniform on [-1, 1) with 2^-53 steps, every value exact in double. */
static double uniform_pm1(rng *r)
{
    int64_t k = (int64_t)(rng_next(r) >> 10) - ((int64_t)1 << 53);
    return (double)k * 0x1p-53;
}

/* ln(s) for 0 < s < 1 without libm's log (whose last bit varies between libms):
 * s = m 2^e with m in [sqrt(1/2), sqrt(2)) (frexp is exact), ln m = 2 atanh((m-1)/(m+1)). */
static double det_log(double s)
{
    int e;
    double m = frexp(s, &e);
    if (m < 0x1.6a09e667f3bcdp-1) {
        m *= 2.0;
        e -= 1;
    }
    double t = (m - 1.0) / (m + 1.0);
    double t2 = mul_rounded(t, t);
    double acc = 1.0 / (double)(2 * (ATANH_TERMS - 1) + 1);
    for (int k = ATANH_TERMS - 2; k >= 0; k--)
        acc = mul_rounded(acc, t2) + 1.0 / (double)(2 * k + 1);
    return mul_rounded((double)e, 0x1.62e42fefa39efp-1) + mul_rounded(2.0 * t, acc);
}

void ert_rig_sample_prior(uint64_t seed, const double *mean, const double *std, size_t n, float *out)
{
    rng r;
    rng_seed(&r, seed);
    size_t i = 0;
    while (i < n) {
        /* Marsaglia's polar method: only +, -, *, /, sqrt (correctly rounded) and det_log. */
        double v1 = uniform_pm1(&r), v2 = uniform_pm1(&r);
        double s = mul_rounded(v1, v1) + mul_rounded(v2, v2);
        if (!(s > 0.0 && s < 1.0))
            continue;
        double f = sqrt(-2.0 * det_log(s) / s);
        double z[2] = {v1 * f, v2 * f};
        for (int k = 0; k < 2 && i < n; k++, i++) {
            double m = mean ? mean[i] : 0.0, sd = std ? std[i] : 1.0;
            out[i] = (float)(m + mul_rounded(sd, z[k]));
        }
    }
}

/* ---- parameters ---- */

bool ert_rig_parse_norm_order(const char *text, double *p)
{
    if (!text || !text[0])
        return false;
    char *end;
    double v = strtod(text, &end);
    if (*end != '\0' || !(v >= 1.0)) /* rejects NaN, -inf and anything below 1 */
        return false;
    *p = v;
    return true;
}

static const ert_family_param *find_param(const ert_family_param *ps, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (ps[i].key && strcmp(ps[i].key, key) == 0)
            return &ps[i];
    return NULL;
}

static ert_status check_stats(const ert_family_param *q, const char *key, bool is_std, ert_error *err)
{
    if (q->text)
        return ert_fail(err, ERT_EINVAL, "parameter '%s' must be numbers, not text '%s'", key, q->text);
    for (size_t i = 0; i < q->n_values; i++)
        if (!isfinite(q->values[i]) || (is_std && q->values[i] < 0.0))
            return ert_fail(err, ERT_EINVAL, "parameter '%s'[%zu] = %g: must be finite%s", key, i, q->values[i],
                            is_std ? " and >= 0" : "");
    return ERT_OK;
}

ert_status ert_rig_params_parse(const ert_family_param *params, size_t n_params, ert_rig_params *out,
                                ert_error *err)
{
    ert_rig_params p = ert_rig_params_default();
    if (n_params && !params)
        return ert_fail(err, ERT_EINVAL, "ert_rig_params_parse: params is NULL with n_params %zu", n_params);
    const ert_family_param *q = find_param(params, n_params, "norm_order");
    if (q) {
        /* Text so that "inf" can be stored (blob numbers are finite); one number also accepted. */
        bool ok;
        if (q->text) {
            ok = ert_rig_parse_norm_order(q->text, &p.norm_order);
        } else {
            ok = q->n_values == 1 && q->values[0] >= 1.0;
            if (ok)
                p.norm_order = q->values[0];
        }
        if (!ok)
            return ert_fail(err, ERT_EINVAL, "parameter 'norm_order' = '%s': must be 1, 2, inf or a real >= 1",
                            q->text ? q->text : "(not one number >= 1)");
    }
    if ((q = find_param(params, n_params, "epsilon"))) {
        if (q->text || q->n_values != 1 || !isfinite(q->values[0]) || q->values[0] < 0.0)
            return ert_fail(err, ERT_EINVAL, "parameter 'epsilon' must be one finite number >= 0");
        p.epsilon = q->values[0];
    }
    if ((q = find_param(params, n_params, "reward"))) {
        if (q->text && strcmp(q->text, "latent_distance") == 0)
            p.reward = ERT_RIG_REWARD_DISTANCE;
        else if (q->text && strcmp(q->text, "latent_sparse") == 0)
            p.reward = ERT_RIG_REWARD_SPARSE;
        else
            return ert_fail(err, ERT_EINVAL, "parameter 'reward' = '%s': must be latent_distance or latent_sparse",
                            q->text ? q->text : "(a number)");
    }
    const ert_family_param *qm = find_param(params, n_params, "latent_mean");
    const ert_family_param *qs = find_param(params, n_params, "latent_std");
    /* A stored key without values or text counts as absent. */
    if (qm && !qm->text && !qm->n_values)
        qm = NULL;
    if (qs && !qs->text && !qs->n_values)
        qs = NULL;
    if (!qm != !qs)
        return ert_fail(err, ERT_EINVAL, "parameters 'latent_mean' and 'latent_std' go together; only '%s' is set",
                        qm ? "latent_mean" : "latent_std");
    if (qm) {
        ert_status st = check_stats(qm, "latent_mean", false, err);
        if (st == ERT_OK)
            st = check_stats(qs, "latent_std", true, err);
        if (st != ERT_OK)
            return st;
        if (qm->n_values != qs->n_values)
            return ert_fail(err, ERT_EINVAL, "parameter 'latent_mean' has %zu values but 'latent_std' has %zu",
                            qm->n_values, qs->n_values);
        p.latent_mean = qm->values;
        p.latent_std = qs->values;
        p.latent_dim = qm->n_values;
    }
    *out = p;
    return ERT_OK;
}
