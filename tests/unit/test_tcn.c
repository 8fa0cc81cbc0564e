/* TCN formulas: imitation reward, nearest neighbour, normalisation, parameters, and the
 * descriptor's graph check. Expected values worked out by hand (shown inline). */
#include "harness.h"

#include "embedrt/mftcn.h"
#include "embedrt/tcn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_imitation_reward_by_hand(void)
{
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    const float v[3] = {1, 2, 3}, w[3] = {1, 0, 1}; /* d^2 = 0 + 4 + 4 = 8 */
    double d2;
    double r = ert_tcn_imitation_reward(v, w, 3, &p, &d2);
    CU_ASSERT_DOUBLE_EQUAL(d2, 8.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(r, -0.5 * 8 - 0.5 * sqrt(8.001), 1e-12);
    /* identical embeddings: -beta sqrt(gamma) */
    r = ert_tcn_imitation_reward(v, v, 3, &p, NULL);
    CU_ASSERT_DOUBLE_EQUAL(r, -0.5 * sqrt(1e-3), 1e-15);
    p.alpha = 2, p.beta = 0, p.gamma = 0;
    CU_ASSERT_DOUBLE_EQUAL(ert_tcn_imitation_reward(v, w, 3, &p, NULL), -16.0, 0);
}

static void test_reward_decreases_with_distance(void)
{
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    const float v[2] = {0, 0};
    double prev = 1;
    for (int k = 0; k < 10; k++) {
        const float w[2] = {(float)k * 0.5f, 0};
        double r = ert_tcn_imitation_reward(v, w, 2, &p, NULL);
        CU_ASSERT(r < prev);
        prev = r;
    }
}

static void test_nearest_ties_and_distance(void)
{
    const float demo[4][2] = {{0, 0}, {1, 0}, {1, 0}, {5, 5}};
    const float q[2] = {1, 0.5f};
    size_t idx;
    double dist;
    ert_tcn_nearest(&demo[0][0], 4, 2, q, &idx, &dist);
    CU_ASSERT_EQUAL(idx, 1); /* rows 1 and 2 tie: lowest index */
    CU_ASSERT_DOUBLE_EQUAL(dist, 0.5, 1e-12);
    ert_tcn_nearest(&demo[0][0], 1, 2, q, &idx, &dist);
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT_DOUBLE_EQUAL(dist, sqrt(1.25), 1e-12);
    ert_tcn_nearest(&demo[0][0], 0, 2, q, &idx, &dist);
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT(isinf(dist));
}

static void test_l2_normalize_scale_and_zero(void)
{
    float v[2] = {3, 4};
    ert_tcn_l2_normalize(v, 2, 10);
    CU_ASSERT_DOUBLE_EQUAL(v[0], 6.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(v[1], 8.0, 1e-6);
    float z[3] = {0, 0, 0};
    ert_tcn_l2_normalize(z, 3, 10);
    CU_ASSERT(z[0] == 0 && z[1] == 0 && z[2] == 0);
}

static void test_params_parse_and_reject(void)
{
    const double a = 2, g = 0.1, on = 1, bad = -1, two = 2;
    ert_family_param ps[] = {{"alpha", NULL, &a, 1}, {"gamma", NULL, &g, 1}, {"l2_normalize", NULL, &on, 1},
                             {"other", "x", NULL, 0}};
    ert_tcn_params p;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_tcn_params_parse(ps, 4, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.alpha, 2);
    CU_ASSERT_EQUAL(p.beta, 0.5);
    CU_ASSERT_EQUAL(p.gamma, 0.1);
    CU_ASSERT(p.l2_normalize);
    ert_family_param neg = {"beta", NULL, &bad, 1};
    CU_ASSERT_EQUAL(ert_tcn_params_parse(&neg, 1, &p, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'beta'"));
    ert_family_param flag = {"l2_normalize", NULL, &two, 1};
    CU_ASSERT_EQUAL(ert_tcn_params_parse(&flag, 1, &p, &err), ERT_EINVAL);
    ert_family_param txt = {"alpha", "big", NULL, 0};
    CU_ASSERT_EQUAL(ert_tcn_params_parse(&txt, 1, &p, &err), ERT_EINVAL);
}

static ert_graph *embedder(const char *out_name, int64_t d)
{
    ert_graph *g = ert_graph_new("embedder");
    ert_shape xs = {.rank = 4, .dims = {1, 3, 8, 8}}, es = {.rank = 2, .dims = {1, d}};
    uint32_t x, e;
    ert_graph_add_tensor(g, "image", ERT_DT_F32, &xs, NULL, false, &x, NULL);
    ert_graph_add_tensor(g, out_name, ERT_DT_F32, &es, NULL, false, &e, NULL);
    g->inputs = malloc(sizeof *g->inputs);
    g->outputs = malloc(sizeof *g->outputs);
    g->inputs[0] = x, g->n_inputs = 1;
    g->outputs[0] = e, g->n_outputs = 1;
    return g;
}

static void test_descriptor_checks_the_embedder(void)
{
    ert_error err;
    ert_graph *good = embedder("embedding", 32), *bad = embedder("features", 32);
    const ert_graph *gs[1] = {good};
    CU_ASSERT_EQUAL(ert_family_tcn.check(gs, NULL, 0, &err), ERT_OK);
    gs[0] = bad;
    CU_ASSERT_EQUAL(ert_family_tcn.check(gs, NULL, 0, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no output named 'embedding'"));
    CU_ASSERT_STRING_EQUAL(ert_family_tcn.roles[0].role, "embedder");
    ert_graph_free(good);
    ert_graph_free(bad);
}

static void test_mftcn_window_indices_clamp_at_episode_start(void)
{
    uint64_t w[3];
    ert_mftcn_window_indices(0, 2, 15, w);
    CU_ASSERT(w[0] == 0 && w[1] == 0);
    ert_mftcn_window_indices(14, 2, 15, w);
    CU_ASSERT(w[0] == 0 && w[1] == 14);
    ert_mftcn_window_indices(15, 2, 15, w);
    CU_ASSERT(w[0] == 0 && w[1] == 15);
    ert_mftcn_window_indices(40, 2, 15, w);
    CU_ASSERT(w[0] == 25 && w[1] == 40);
    ert_mftcn_window_indices(5, 3, 4, w); /* 5-8 -> 0, 5-4 = 1, 5 */
    CU_ASSERT(w[0] == 0 && w[1] == 1 && w[2] == 5);
    ert_mftcn_window_indices(7, 1, 15, w);
    CU_ASSERT(w[0] == 7);
}

static void test_mftcn_params(void)
{
    ert_mftcn_params p;
    ert_mftcn_params_default(&p);
    CU_ASSERT(p.window == 2 && p.stride == 15);
    const double three = 3, half = 0.5;
    ert_family_param ok = {"window", NULL, &three, 1}, bad = {"stride", NULL, &half, 1};
    ert_error err;
    CU_ASSERT_EQUAL(ert_mftcn_params_parse(&ok, 1, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.window, 3);
    CU_ASSERT_EQUAL(ert_mftcn_params_parse(&bad, 1, &p, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'stride'"));
}

static const ert_test_case cases[] = {
    ERT_TEST(test_mftcn_window_indices_clamp_at_episode_start),
    ERT_TEST(test_mftcn_params),
    ERT_TEST(test_imitation_reward_by_hand),
    ERT_TEST(test_reward_decreases_with_distance),
    ERT_TEST(test_nearest_ties_and_distance),
    ERT_TEST(test_l2_normalize_scale_and_zero),
    ERT_TEST(test_params_parse_and_reject),
    ERT_TEST(test_descriptor_checks_the_embedder),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_tcn = {"tcn", cases};
