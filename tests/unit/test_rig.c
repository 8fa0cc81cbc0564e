/* Unit tests: rig and ccvae pure functions (rewards, seeded goals, parameters) and the
 * descriptors' graph checks. Expected numbers: models/rig/reference/rig_math.py. */
#include "harness.h"

#include "embedrt/ccvae.h"
#include "embedrt/family.h"
#include "embedrt/graph.h"
#include "embedrt/rig.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const ert_family_desc ert_family_rig, ert_family_ccvae;

/* The vectors of rig_math.py's main(). */
static const float G[5] = {0.5f, -1.25f, 2.0f, 0.125f, -0.3f};
static const float MU[5] = {0.1f, 0.75f, -1.0f, 0.125f, 0.2f};

static void assert_rel(double got, double want, double tol)
{
    CU_ASSERT(fabs(got - want) <= tol * fabs(want));
}

static void assert_bits(const float *x, const uint32_t *bits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], sizeof b);
        CU_ASSERT_EQUAL(b, bits[i]);
    }
}

/* ---- distances and rewards ---- */

static void test_rig_distance_matches_numpy(void)
{
    assert_rel(ert_rig_distance(G, MU, 5, 1.0), 5.9000000134110451, 1e-14);
    assert_rel(ert_rig_distance(G, MU, 5, 2.0), 3.6619666865919287, 1e-14);
    CU_ASSERT_EQUAL(ert_rig_distance(G, MU, 5, INFINITY), 3.0);
    assert_rel(ert_rig_distance(G, MU, 5, 3.0), 3.2769436632975504, 1e-13);
    assert_rel(ert_rig_distance(G, MU, 5, 1.5), 4.207698446466102, 1e-13);
    /* Symmetric. */
    CU_ASSERT_EQUAL(ert_rig_distance(MU, G, 5, 2.0), ert_rig_distance(G, MU, 5, 2.0));
}

static void test_rig_distance_zero_empty_and_invalid(void)
{
    const double ps[] = {1.0, 2.0, INFINITY, 3.0};
    const float nan_v[2] = {0.0f, NAN}, zero[2] = {0.0f, 0.0f};
    for (size_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(ert_rig_distance(G, G, 5, ps[i]), 0.0);
        CU_ASSERT_EQUAL(ert_rig_distance(G, MU, 0, ps[i]), 0.0);
        CU_ASSERT(isnan(ert_rig_distance(nan_v, zero, 2, ps[i])));
    }
    CU_ASSERT(isnan(ert_rig_distance(G, MU, 5, 0.5)));
    CU_ASSERT(isnan(ert_rig_distance(G, MU, 5, NAN)));
    CU_ASSERT(isnan(ert_rig_distance(G, MU, 5, -INFINITY)));
    /* General p must not overflow on large differences: 1e30 * 2^(1/3). */
    const float big[2] = {1e30f, 1e30f};
    assert_rel(ert_rig_distance(big, zero, 2, 3.0), 1e30 * cbrt(2.0), 1e-6);
}

static void test_rig_reward_per_dim_matches_numpy_bits(void)
{
    static const uint32_t per_dim[5] = {0xbecccccdu, 0xc0000000u, 0xc0400000u, 0x80000000u, 0xbf000000u};
    float out[5];
    ert_rig_reward_per_dim(G, MU, 5, out);
    assert_bits(out, per_dim, 5);
}

static void test_rig_sparse_threshold_is_strict(void)
{
    /* [0.375, 0.5] vs 0: exact distances 0.875 (p=1), 0.625 (p=2), 0.5 (inf). */
    const float b[2] = {0.375f, 0.5f}, z[2] = {0.0f, 0.0f};
    CU_ASSERT_EQUAL(ert_rig_distance(b, z, 2, 1.0), 0.875);
    CU_ASSERT_EQUAL(ert_rig_distance(b, z, 2, 2.0), 0.625);
    CU_ASSERT_EQUAL(ert_rig_distance(b, z, 2, INFINITY), 0.5);
    CU_ASSERT_EQUAL(ert_rig_sparse(b, z, 2, 2.0, 0.625), -1.0);
    CU_ASSERT_EQUAL(ert_rig_sparse(b, z, 2, 2.0, nextafter(0.625, 1.0)), 0.0);
    CU_ASSERT_EQUAL(ert_rig_sparse(b, z, 2, 1.0, 0.625), -1.0);
    CU_ASSERT_EQUAL(ert_rig_sparse(b, z, 2, 1.0, 0.876), 0.0);
    CU_ASSERT_EQUAL(ert_rig_sparse(b, z, 2, INFINITY, 0.5), -1.0);
    CU_ASSERT_EQUAL(ert_rig_sparse(b, z, 2, INFINITY, 0.51), 0.0);
    /* Zero distance succeeds for any epsilon > 0, not for 0. */
    CU_ASSERT_EQUAL(ert_rig_sparse(G, G, 5, 2.0, 0.05), 0.0);
    CU_ASSERT_EQUAL(ert_rig_sparse(G, G, 5, 2.0, 0.0), -1.0);
    const float nan_v[2] = {NAN, 0.0f};
    CU_ASSERT_EQUAL(ert_rig_sparse(nan_v, z, 2, 2.0, 1e9), -1.0);
}

static void test_rig_mahalanobis_clamps_tiny_variances(void)
{
    /* rig_math.py: logvar = [log 1e-5 (clamped to 1e-3), 0, 1.5, -2, log 1e-3]. */
    const float lv[5] = {-11.512925148010254f, 0.0f, 1.5f, -2.0f, -6.907755374908447f};
    assert_rel(ert_rig_mahalanobis(G, MU, lv, 5), 208.00409257520221, 1e-12);
    /* By hand: d = 1 over var 1e-3 (clamped from e^-20) -> 500; over var 1 -> 0.5. */
    const float one = 1.0f, zero = 0.0f, tiny = -20.0f, unit = 0.0f, nan_lv = NAN;
    CU_ASSERT_DOUBLE_EQUAL(ert_rig_mahalanobis(&one, &zero, &tiny, 1), 500.0, 1e-9);
    CU_ASSERT_EQUAL(ert_rig_mahalanobis(&one, &zero, &unit, 1), 0.5);
    CU_ASSERT_EQUAL(ert_rig_mahalanobis(G, G, lv, 5), 0.0);
    CU_ASSERT(isnan(ert_rig_mahalanobis(&one, &zero, &nan_lv, 1)));
}

static void test_rig_reward_latent_reports_every_component(void)
{
    ert_rig_params p = ert_rig_params_default();
    ert_rig_reward r;
    float per_dim[5];
    ert_rig_reward_latent(&p, G, MU, NULL, 5, &r, per_dim);
    assert_rel(r.distance, 3.6619666865919287, 1e-14);
    CU_ASSERT_EQUAL(r.value, -r.distance);
    CU_ASSERT_EQUAL(r.sparse, -1.0);
    CU_ASSERT(isnan(r.mahalanobis));
    CU_ASSERT_EQUAL(per_dim[2], -3.0f);

    p.reward = ERT_RIG_REWARD_SPARSE;
    p.norm_order = 1.0;
    p.epsilon = 6.0;
    const float lv[5] = {0, 0, 0, 0, 0};
    ert_rig_reward_latent(&p, G, MU, lv, 5, &r, NULL);
    assert_rel(r.distance, 5.9000000134110451, 1e-14);
    CU_ASSERT_EQUAL(r.sparse, 0.0);
    CU_ASSERT_EQUAL(r.value, 0.0);
    /* logvar 0: the Mahalanobis term is half the squared L2 distance. */
    assert_rel(r.mahalanobis, 0.5 * 3.6619666865919287 * 3.6619666865919287, 1e-12);
}

/* ---- seeded sampler ---- */

static void test_rig_sample_prior_matches_numpy_bits(void)
{
    static const uint32_t seed_0[8] = {0x3f191d41u, 0x3fbb52a8u, 0xbf65222au, 0xbe409387u,
                                       0xc01a994du, 0x3f8db90au, 0xbf433c6bu, 0x3e99b5bfu};
    static const uint32_t seed_1[8] = {0x3ff133e4u, 0x3e4255ecu, 0x3fa6aae5u, 0xbff46858u,
                                       0x3ee06b99u, 0xbf4ad5f5u, 0xbf284470u, 0xbe3a6eb7u};
    static const uint32_t seed_42[8] = {0xbf39e97fu, 0xbe584401u, 0x3e62f110u, 0x3f05d45eu,
                                        0x3eeda8a6u, 0x3f3db0cbu, 0x3fbcf5beu, 0x3ef10757u};
    static const uint32_t seed_max[8] = {0x3ead864au, 0x3fc1b501u, 0x3d4a2c85u, 0x3fd66d07u,
                                         0x3ef382c1u, 0x3fd1dd2bu, 0xbf20ddc6u, 0x3fa609ebu};
    static const uint32_t seed_7_stats[5] = {0x3fbdb81bu, 0xc0841488u, 0x3f000000u, 0x411ffb80u, 0x3f6a1502u};
    float out[8];
    ert_rig_sample_prior(0, NULL, NULL, 8, out);
    assert_bits(out, seed_0, 8);
    ert_rig_sample_prior(1, NULL, NULL, 8, out);
    assert_bits(out, seed_1, 8);
    ert_rig_sample_prior(42, NULL, NULL, 8, out);
    assert_bits(out, seed_42, 8);
    ert_rig_sample_prior(UINT64_MAX, NULL, NULL, 8, out);
    assert_bits(out, seed_max, 8);
    const double mean[5] = {1.0, -2.0, 0.5, 10.0, 0.0}, std[5] = {0.5, 2.0, 0.0, 1e-3, 3.0};
    ert_rig_sample_prior(7, mean, std, 5, out);
    assert_bits(out, seed_7_stats, 5);
    CU_ASSERT_EQUAL(out[2], 0.5f); /* std 0: exactly the mean */
}

static void test_rig_sample_prior_is_repeatable_and_seed_dependent(void)
{
    float a[16], b[16], c[16], d[3];
    ert_rig_sample_prior(123456789, NULL, NULL, 16, a);
    ert_rig_sample_prior(123456789, NULL, NULL, 16, b);
    CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    ert_rig_sample_prior(123456790, NULL, NULL, 16, c);
    size_t same = 0;
    for (size_t i = 0; i < 16; i++)
        same += a[i] == c[i];
    CU_ASSERT_EQUAL(same, 0);
    /* A shorter draw is a prefix of a longer one (odd count drops the spare). */
    ert_rig_sample_prior(123456789, NULL, NULL, 3, d);
    CU_ASSERT_EQUAL(memcmp(a, d, sizeof d), 0);
    ert_rig_sample_prior(5, NULL, NULL, 0, d); /* n = 0 writes nothing */
    CU_ASSERT_EQUAL(memcmp(a, d, sizeof d), 0);
}

static void test_rig_sample_prior_is_standard_normal(void)
{
    enum { N = 100000 };
    float *z = malloc(N * sizeof *z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    ert_rig_sample_prior(2024, NULL, NULL, N, z);
    double s1 = 0, s2 = 0, s4 = 0;
    size_t beyond2 = 0, not_finite = 0;
    for (size_t i = 0; i < N; i++) {
        double v = z[i];
        not_finite += !isfinite(v);
        s1 += v;
        beyond2 += fabs(v) > 2.0;
    }
    CU_ASSERT_EQUAL(not_finite, 0);
    double mean = s1 / N;
    for (size_t i = 0; i < N; i++) {
        double d = z[i] - mean;
        s2 += d * d;
        s4 += d * d * d * d;
    }
    double var = s2 / (N - 1), kurt = s4 / N / (var * var);
    /* Standard errors at N = 1e5: mean 0.0032, std 0.0022, kurtosis 0.015, P(|z| > 2) 0.00066. */
    CU_ASSERT(fabs(mean) < 0.015);
    CU_ASSERT(fabs(sqrt(var) - 1.0) < 0.011);
    CU_ASSERT(fabs(kurt - 3.0) < 0.08);
    CU_ASSERT(fabs((double)beyond2 / N - 0.0455) < 0.0035);
    free(z);
}

/* ---- parameters ---- */

static ert_family_param num(const char *key, const double *v, size_t n)
{
    ert_family_param p = {key, NULL, v, n};
    return p;
}

static ert_family_param text(const char *key, const char *t)
{
    ert_family_param p = {key, t, NULL, 0};
    return p;
}

static void test_rig_params_default_values(void)
{
    ert_rig_params p = ert_rig_params_default();
    CU_ASSERT_EQUAL(p.norm_order, 2.0);
    CU_ASSERT_EQUAL(p.epsilon, 0.05);
    CU_ASSERT_EQUAL(p.reward, ERT_RIG_REWARD_DISTANCE);
    CU_ASSERT_PTR_NULL(p.latent_mean);
    CU_ASSERT_EQUAL(p.latent_dim, 0);
    ert_error err;
    CU_ASSERT_EQUAL(ert_rig_params_parse(NULL, 0, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.norm_order, 2.0);
}

static void test_rig_params_parse_reads_every_key(void)
{
    const double eps = 0.1, mean[3] = {0.5, -1, 2}, std[3] = {1, 0.25, 0};
    ert_family_param ps[] = {text("norm_order", "inf"), num("epsilon", &eps, 1), text("reward", "latent_sparse"),
                             num("latent_mean", mean, 3), num("latent_std", std, 3), text("other", "ignored")};
    ert_rig_params p;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_rig_params_parse(ps, 6, &p, &err), ERT_OK);
    CU_ASSERT(isinf(p.norm_order) && p.norm_order > 0);
    CU_ASSERT_EQUAL(p.epsilon, 0.1);
    CU_ASSERT_EQUAL(p.reward, ERT_RIG_REWARD_SPARSE);
    CU_ASSERT_PTR_EQUAL(p.latent_mean, mean);
    CU_ASSERT_PTR_EQUAL(p.latent_std, std);
    CU_ASSERT_EQUAL(p.latent_dim, 3);
    /* norm_order spellings. */
    double v;
    CU_ASSERT(ert_rig_parse_norm_order("1", &v) && v == 1.0);
    CU_ASSERT(ert_rig_parse_norm_order("3.5", &v) && v == 3.5);
    CU_ASSERT(ert_rig_parse_norm_order("infinity", &v) && isinf(v));
    CU_ASSERT(!ert_rig_parse_norm_order("0.5", &v));
    CU_ASSERT(!ert_rig_parse_norm_order("nan", &v));
    CU_ASSERT(!ert_rig_parse_norm_order("-inf", &v));
    CU_ASSERT(!ert_rig_parse_norm_order("2x", &v));
    CU_ASSERT(!ert_rig_parse_norm_order("", &v));
    /* One stored number is accepted too. */
    const double three = 3.0;
    ert_family_param pn = num("norm_order", &three, 1);
    CU_ASSERT_EQUAL(ert_rig_params_parse(&pn, 1, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.norm_order, 3.0);
}

static void expect_parse_error(const ert_family_param *ps, size_t n, const char *needle)
{
    ert_rig_params p = ert_rig_params_default();
    ert_error err;
    ert_error_clear(&err);
    CU_ASSERT_EQUAL(ert_rig_params_parse(ps, n, &p, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
}

static void test_rig_params_parse_rejects_bad_values(void)
{
    const double mean3[3] = {0, 0, 0}, std2[2] = {1, 1}, neg[3] = {1, -1, 1}, nanv[3] = {0, NAN, 0};
    const double std3[3] = {1, 1, 1}, eps_neg = -1, two[2] = {0.1, 0.2}, one = 1.0;
    ert_family_param mismatch[] = {num("latent_mean", mean3, 3), num("latent_std", std2, 2)};
    expect_parse_error(mismatch, 2, "'latent_mean' has 3 values but 'latent_std' has 2");
    ert_family_param alone[] = {num("latent_mean", mean3, 3)};
    expect_parse_error(alone, 1, "go together");
    ert_family_param negative[] = {num("latent_mean", mean3, 3), num("latent_std", neg, 3)};
    expect_parse_error(negative, 2, "'latent_std'[1]");
    ert_family_param nan_mean[] = {num("latent_mean", nanv, 3), num("latent_std", std3, 3)};
    expect_parse_error(nan_mean, 2, "'latent_mean'[1]");
    ert_family_param text_std[] = {num("latent_mean", mean3, 3), text("latent_std", "1,1,1")};
    expect_parse_error(text_std, 2, "must be numbers");
    ert_family_param p_small = text("norm_order", "0.5");
    expect_parse_error(&p_small, 1, "norm_order");
    ert_family_param p_num = num("norm_order", &eps_neg, 1);
    expect_parse_error(&p_num, 1, "norm_order");
    ert_family_param e_neg = num("epsilon", &eps_neg, 1);
    expect_parse_error(&e_neg, 1, "epsilon");
    ert_family_param e_two = num("epsilon", two, 2);
    expect_parse_error(&e_two, 1, "epsilon");
    ert_family_param e_text = text("epsilon", "small");
    expect_parse_error(&e_text, 1, "epsilon");
    ert_family_param r_bad = text("reward", "cosine");
    expect_parse_error(&r_bad, 1, "'cosine'");
    ert_family_param r_num = num("reward", &one, 1);
    expect_parse_error(&r_num, 1, "reward");
}

/* ---- CC-VAE pure functions ---- */

static void test_ccvae_goal_is_prior_sample_then_context(void)
{
    /* rig_math.py ccvae_goal(5, 6, [0.25, -0.5, 1.0, 2.0]). */
    static const uint32_t goal_bits[10] = {0xbfc86311u, 0x3f415b1eu, 0x3efd1af2u, 0x3f880df8u, 0x3db41482u,
                                           0x3fbf9894u, 0x3e800000u, 0xbf000000u, 0x3f800000u, 0x40000000u};
    const float ctx[4] = {0.25f, -0.5f, 1.0f, 2.0f};
    float goal[10], z[6];
    ert_ccvae_goal(5, ctx, 6, 4, goal);
    assert_bits(goal, goal_bits, 10);
    ert_rig_sample_prior(5, NULL, NULL, 6, z);
    CU_ASSERT_EQUAL(memcmp(goal, z, sizeof z), 0);
    CU_ASSERT_EQUAL(memcmp(goal + 6, ctx, sizeof ctx), 0);
    /* A different episode context changes only the context half. */
    const float ctx2[4] = {9, 9, 9, 9};
    float goal2[10];
    ert_ccvae_goal(5, ctx2, 6, 4, goal2);
    CU_ASSERT_EQUAL(memcmp(goal, goal2, sizeof z), 0);
    CU_ASSERT_EQUAL(goal2[9], 9.0f);
}

static void test_ccvae_reward_matches_numpy(void)
{
    static const uint32_t goal_bits[10] = {0xbfc86311u, 0x3f415b1eu, 0x3efd1af2u, 0x3f880df8u, 0x3db41482u,
                                           0x3fbf9894u, 0x3e800000u, 0xbf000000u, 0x3f800000u, 0x40000000u};
    float goal[10];
    memcpy(goal, goal_bits, sizeof goal);
    const float latent[10] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.25f, -0.5f, 1.0f, 2.0f};
    ert_ccvae_params p = ert_ccvae_params_default();
    ert_rig_reward r;
    ert_ccvae_reward_latent(&p, goal, latent, 10, &r);
    assert_rel(r.value, -2.305166198295312, 1e-14);
    /* Equal contexts: the reward reduces to the 6 state dimensions. */
    assert_rel(r.distance, ert_rig_distance(goal, latent, 6, 2.0), 1e-15);
    CU_ASSERT_EQUAL(r.sparse, -1.0);
    CU_ASSERT(isnan(r.mahalanobis));
    p.reward = ERT_RIG_REWARD_SPARSE;
    p.epsilon = 2.4;
    ert_ccvae_reward_latent(&p, goal, latent, 10, &r);
    CU_ASSERT_EQUAL(r.value, 0.0);
}

static void test_ccvae_params_parse_variants(void)
{
    ert_ccvae_params p = ert_ccvae_params_default();
    CU_ASSERT_EQUAL(p.variant, ERT_CCVAE_TWO_ENCODERS);
    CU_ASSERT_EQUAL(p.norm_order, 2.0);
    CU_ASSERT_EQUAL(p.epsilon, 0.05);
    ert_error err;
    ert_family_param ok[] = {text("variant", "two_encoders"), text("norm_order", "1")};
    CU_ASSERT_EQUAL(ert_ccvae_params_parse(ok, 2, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.norm_order, 1.0);
    ert_family_param six = text("variant", "six_channel");
    CU_ASSERT_EQUAL(ert_ccvae_params_parse(&six, 1, &p, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "six_channel"));
    ert_family_param bad = text("variant", "three_encoders");
    CU_ASSERT_EQUAL(ert_ccvae_params_parse(&bad, 1, &p, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'three_encoders'"));
    ert_family_param bad_p = text("norm_order", "0");
    CU_ASSERT_EQUAL(ert_ccvae_params_parse(&bad_p, 1, &p, &err), ERT_EINVAL);
}

/* ---- descriptors: graphs built here with the reference fixtures' names and shapes ---- */

typedef struct tspec {
    const char *name;
    int rank;
    int64_t d[4];
} tspec;

static ert_graph *make_graph(const tspec *in, uint32_t n_in, const tspec *out, uint32_t n_out)
{
    ert_error err;
    ert_graph *g = ert_graph_new("test");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    g->inputs = calloc(n_in ? n_in : 1, sizeof *g->inputs);
    g->outputs = calloc(n_out ? n_out : 1, sizeof *g->outputs);
    CU_ASSERT_FATAL(g->inputs && g->outputs);
    for (uint32_t k = 0; k < n_in + n_out; k++) {
        const tspec *t = k < n_in ? &in[k] : &out[k - n_in];
        ert_shape s = {.rank = t->rank};
        memcpy(s.dims, t->d, sizeof t->d);
        uint32_t id;
        CU_ASSERT_FATAL(ert_graph_add_tensor(g, t->name, ERT_DT_F32, &s, NULL, false, &id, &err) == ERT_OK);
        if (k < n_in)
            g->inputs[g->n_inputs++] = id;
        else
            g->outputs[g->n_outputs++] = id;
    }
    return g;
}

static const tspec IMAGE48 = {"image", 4, {1, 3, 48, 48}};
static const tspec X_T = {"x_t", 4, {1, 3, 48, 48}}, X_0 = {"x_0", 4, {1, 3, 48, 48}};

static ert_status check_rig(const tspec *eo, uint32_t n_eo, const tspec *dec_in, const tspec *dec_out,
                            const ert_family_param *ps, size_t n_ps, ert_error *err)
{
    ert_graph *enc = make_graph(&IMAGE48, 1, eo, n_eo);
    ert_graph *dec = dec_in ? make_graph(dec_in, 1, dec_out, dec_out ? 1 : 0) : NULL;
    const ert_graph *graphs[2] = {enc, dec};
    ert_error_clear(err);
    ert_status st = ert_family_rig.check(graphs, ps, n_ps, err);
    ert_graph_free(enc);
    ert_graph_free(dec);
    return st;
}

static void test_rig_check_accepts_reference_graphs(void)
{
    const tspec mu_lv[2] = {{"mu", 2, {1, 4}}, {"logvar", 2, {1, 4}}};
    const tspec latent = {"latent", 2, {1, 4}}, image = {"image", 4, {1, 3, 48, 48}};
    ert_error err;
    CU_ASSERT_EQUAL(check_rig(mu_lv, 2, &latent, &image, NULL, 0, &err), ERT_OK);
    CU_ASSERT_EQUAL(check_rig(mu_lv, 1, NULL, NULL, NULL, 0, &err), ERT_OK); /* no logvar, no decoder */
    const double mean[4] = {0, 1, 2, 3}, std[4] = {1, 1, 1, 1};
    ert_family_param stats[] = {num("latent_mean", mean, 4), num("latent_std", std, 4)};
    CU_ASSERT_EQUAL(check_rig(mu_lv, 2, NULL, NULL, stats, 2, &err), ERT_OK);
}

static void test_rig_check_rejects_mismatches(void)
{
    const tspec mu_lv[2] = {{"mu", 2, {1, 4}}, {"logvar", 2, {1, 4}}};
    const tspec image = {"image", 4, {1, 3, 48, 48}};
    ert_error err;
    const double mean[3] = {0, 1, 2}, std[3] = {1, 1, 1};
    ert_family_param stats[] = {num("latent_mean", mean, 3), num("latent_std", std, 3)};
    CU_ASSERT_EQUAL(check_rig(mu_lv, 2, NULL, NULL, stats, 2, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "have 3 values but the encoder's 'mu' has 4"));

    const tspec no_mu[1] = {{"mean", 2, {1, 4}}};
    CU_ASSERT_EQUAL(check_rig(no_mu, 1, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no output named 'mu'"));
    const tspec mu_rank3[1] = {{"mu", 3, {1, 4, 1}}};
    CU_ASSERT_EQUAL(check_rig(mu_rank3, 1, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'mu' must be float32 [1, N]"));
    const tspec lv_bad[2] = {{"mu", 2, {1, 4}}, {"logvar", 2, {1, 5}}};
    CU_ASSERT_EQUAL(check_rig(lv_bad, 2, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'logvar'"));

    const tspec latent5 = {"latent", 2, {1, 5}};
    CU_ASSERT_EQUAL(check_rig(mu_lv, 2, &latent5, &image, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "role 'decoder': input has 5 latent dimensions"));
    const tspec latent4 = {"latent", 2, {1, 4}}, recon = {"recon", 4, {1, 3, 48, 48}};
    CU_ASSERT_EQUAL(check_rig(mu_lv, 2, &latent4, &recon, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no output named 'image'"));

    /* Encoder input: one [1,3,H,W] image. */
    const tspec gray = {"image", 4, {1, 1, 48, 48}};
    ert_graph *enc = make_graph(&gray, 1, mu_lv, 2);
    const ert_graph *graphs[2] = {enc, NULL};
    CU_ASSERT_EQUAL(ert_family_rig.check(graphs, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "role 'encoder' input must be a float32 [1, 3, H, W] image"));
    ert_graph_free(enc);
    const tspec two_in[2] = {X_T, X_0};
    enc = make_graph(two_in, 2, mu_lv, 2);
    graphs[0] = enc;
    CU_ASSERT_EQUAL(ert_family_rig.check(graphs, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected one image input, the graph has 2"));
    ert_graph_free(enc);
    graphs[0] = NULL;
    CU_ASSERT_EQUAL(ert_family_rig.check(graphs, NULL, 0, &err), ERT_EINVAL);
}

static ert_status check_ccvae(const tspec *ein, uint32_t n_ein, const tspec *eout, uint32_t n_eout,
                              const tspec *cin, const tspec *cout, const ert_family_param *ps, size_t n_ps,
                              ert_error *err)
{
    ert_graph *enc = make_graph(ein, n_ein, eout, n_eout);
    ert_graph *ctx = cin ? make_graph(cin, 1, cout, 1) : NULL;
    const ert_graph *graphs[3] = {enc, ctx, NULL}; /* roles: encoder, context, state */
    ert_error_clear(err);
    ert_status st = ert_family_ccvae.check(graphs, ps, n_ps, err);
    ert_graph_free(enc);
    ert_graph_free(ctx);
    return st;
}

static void test_ccvae_check_graphs(void)
{
    const tspec in[2] = {X_T, X_0};
    const tspec out[3] = {{"mu", 2, {1, 6}}, {"c", 2, {1, 4}}, {"latent", 2, {1, 10}}};
    const tspec c4 = {"c", 2, {1, 4}};
    ert_error err;
    CU_ASSERT_EQUAL(check_ccvae(in, 2, out, 3, &X_0, &c4, NULL, 0, &err), ERT_OK);
    CU_ASSERT_EQUAL(check_ccvae(in, 2, out, 3, NULL, NULL, NULL, 0, &err), ERT_OK);

    const tspec bad_latent[3] = {{"mu", 2, {1, 6}}, {"c", 2, {1, 4}}, {"latent", 2, {1, 9}}};
    CU_ASSERT_EQUAL(check_ccvae(in, 2, bad_latent, 3, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'latent' has 9 values, expected mu 6 + c 4"));
    CU_ASSERT_EQUAL(check_ccvae(in, 2, out, 2, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no output named 'latent'"));
    const tspec c3 = {"c", 2, {1, 3}};
    CU_ASSERT_EQUAL(check_ccvae(in, 2, out, 3, &X_0, &c3, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "role 'context': output 'c' has 3 values"));
    const tspec x0_64 = {"x_0", 4, {1, 3, 64, 64}};
    CU_ASSERT_EQUAL(check_ccvae(in, 2, out, 3, &x0_64, &c4, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "role 'context': input is 1x3x64x64"));
    const tspec mixed[2] = {X_T, {"x_0", 4, {1, 3, 64, 64}}};
    CU_ASSERT_EQUAL(check_ccvae(mixed, 2, out, 3, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "they must match"));
    const tspec renamed[2] = {{"obs", 4, {1, 3, 48, 48}}, X_0};
    CU_ASSERT_EQUAL(check_ccvae(renamed, 2, out, 3, NULL, NULL, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected the inputs 'x_t' and 'x_0', the graph has 2 ('obs', 'x_0')"));
    /* The six_channel variant: by its graph and by its parameter. */
    const tspec six = {"x", 4, {1, 6, 48, 48}};
    CU_ASSERT_EQUAL(check_ccvae(&six, 1, out, 3, NULL, NULL, NULL, 0, &err), ERT_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "six_channel"));
    ert_family_param v = text("variant", "six_channel");
    CU_ASSERT_EQUAL(check_ccvae(in, 2, out, 3, NULL, NULL, &v, 1, &err), ERT_EUNSUPPORTED);
}

static void test_descriptors_list_roles_and_defaults(void)
{
    CU_ASSERT_STRING_EQUAL(ert_family_rig.name, "rig");
    CU_ASSERT_STRING_EQUAL(ert_family_rig.roles[0].role, "encoder");
    CU_ASSERT(ert_family_rig.roles[0].required);
    CU_ASSERT_STRING_EQUAL(ert_family_rig.roles[1].role, "decoder");
    CU_ASSERT(!ert_family_rig.roles[1].required);
    CU_ASSERT_PTR_NULL(ert_family_rig.roles[2].role);
    CU_ASSERT_STRING_EQUAL(ert_family_ccvae.roles[0].role, "encoder");
    CU_ASSERT_STRING_EQUAL(ert_family_ccvae.roles[1].role, "context");
    CU_ASSERT(!ert_family_ccvae.roles[1].required);
    /* The defaults as a converter would store them parse to ert_*_params_default(). */
    const ert_family_desc *descs[2] = {&ert_family_rig, &ert_family_ccvae};
    for (int k = 0; k < 2; k++) {
        ert_family_param list[8];
        size_t n = 0;
        for (const ert_family_param_def *d = descs[k]->params; d->key && n < 8; d++)
            list[n++] = d->text ? text(d->key, d->text) : num(d->key, &d->value, 1);
        ert_error err;
        if (k == 0) {
            ert_rig_params p;
            CU_ASSERT_EQUAL(ert_rig_params_parse(list, n, &p, &err), ERT_OK);
            CU_ASSERT_EQUAL(p.norm_order, 2.0);
            CU_ASSERT_EQUAL(p.epsilon, 0.05);
            CU_ASSERT_EQUAL(p.latent_dim, 0);
        } else {
            ert_ccvae_params p;
            CU_ASSERT_EQUAL(ert_ccvae_params_parse(list, n, &p, &err), ERT_OK);
            CU_ASSERT_EQUAL(p.variant, ERT_CCVAE_TWO_ENCODERS);
            CU_ASSERT_EQUAL(p.reward, ERT_RIG_REWARD_DISTANCE);
        }
    }
}

static const ert_test_case cases[] = {
    ERT_TEST(test_rig_distance_matches_numpy),
    ERT_TEST(test_rig_distance_zero_empty_and_invalid),
    ERT_TEST(test_rig_reward_per_dim_matches_numpy_bits),
    ERT_TEST(test_rig_sparse_threshold_is_strict),
    ERT_TEST(test_rig_mahalanobis_clamps_tiny_variances),
    ERT_TEST(test_rig_reward_latent_reports_every_component),
    ERT_TEST(test_rig_sample_prior_matches_numpy_bits),
    ERT_TEST(test_rig_sample_prior_is_repeatable_and_seed_dependent),
    ERT_TEST(test_rig_sample_prior_is_standard_normal),
    ERT_TEST(test_rig_params_default_values),
    ERT_TEST(test_rig_params_parse_reads_every_key),
    ERT_TEST(test_rig_params_parse_rejects_bad_values),
    ERT_TEST(test_ccvae_goal_is_prior_sample_then_context),
    ERT_TEST(test_ccvae_reward_matches_numpy),
    ERT_TEST(test_ccvae_params_parse_variants),
    ERT_TEST(test_rig_check_accepts_reference_graphs),
    ERT_TEST(test_rig_check_rejects_mismatches),
    ERT_TEST(test_ccvae_check_graphs),
    ERT_TEST(test_descriptors_list_roles_and_defaults),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_rig = {"rig", cases};
