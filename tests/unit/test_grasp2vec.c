/* Unit tests: grasp2vec similarities, scene difference, heatmap/keypoint and parameters
 * against models/grasp2vec/reference/grasp2vec_math.py, and the descriptor's check(). */
#include "harness.h"

#include "embedrt/grasp2vec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-6

/* ((i * mul) % mod - off) / div, the pattern() of grasp2vec_math.py (exact in float32). */
static void pattern(float *x, int n, int mul, int mod, int off, float div)
{
    for (int i = 0; i < n; i++)
        x[i] = (float)((i * mul) % mod - off) / div;
}

static void assert_floats(const float *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_DOUBLE_EQUAL(got[i], want[i], tol);
}

/* ---- similarities ---- */

/* grasp2vec_math.py "sim a.b cosine": value 0.365486942, dot 12, norms 3.74165739, 8.77496439 */
static void test_similarity_cosine_matches_numpy(void)
{
    const float a[] = {1, 2, 3}, b[] = {4, -5, 6};
    ert_g2v_reward r;
    ert_g2v_compare(a, b, 3, ERT_G2V_COSINE, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.value, 0.365486942, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.cosine, 0.365486942, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.dot, 12.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_goal, 3.74165739, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_other, 8.77496439, TOL);
    CU_ASSERT_DOUBLE_EQUAL(ert_g2v_similarity(a, b, 3, ERT_G2V_COSINE), 0.365486942, TOL);
}

/* "sim a.b dot": value 12 (the cosine is still reported). */
static void test_similarity_dot_is_plain_dot(void)
{
    const float a[] = {1, 2, 3}, b[] = {4, -5, 6};
    ert_g2v_reward r;
    ert_g2v_compare(a, b, 3, ERT_G2V_DOT, &r);
    CU_ASSERT_EQUAL(r.value, 12.0f);
    CU_ASSERT_DOUBLE_EQUAL(r.cosine, 0.365486942, TOL);
    CU_ASSERT_EQUAL(ert_g2v_similarity(b, a, 3, ERT_G2V_DOT), 12.0f);
}

/* "sim a.-2a cosine": value -1, dot -28, norm_other 7.48331477 */
static void test_similarity_opposite_vectors_is_minus_one(void)
{
    const float a[] = {1, 2, 3}, b[] = {-2, -4, -6};
    ert_g2v_reward r;
    ert_g2v_compare(a, b, 3, ERT_G2V_COSINE, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.value, -1.0, TOL);
    CU_ASSERT(r.value >= -1.0f);
    CU_ASSERT_DOUBLE_EQUAL(r.dot, -28.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_other, 7.48331477, TOL);
    /* Same direction: exactly 1 after clamping, never above. */
    CU_ASSERT(ert_g2v_similarity(a, a, 3, ERT_G2V_COSINE) <= 1.0f);
    CU_ASSERT_DOUBLE_EQUAL(ert_g2v_similarity(a, a, 3, ERT_G2V_COSINE), 1.0, TOL);
}

/* "sim zero.b cosine": value 0, dot 0, norm_goal 0, norm_other 8.77496439 */
static void test_similarity_zero_vector_is_zero_not_nan(void)
{
    const float z[] = {0, 0, 0}, b[] = {4, -5, 6};
    ert_g2v_reward r;
    ert_g2v_compare(z, b, 3, ERT_G2V_COSINE, &r);
    CU_ASSERT_EQUAL(r.value, 0.0f);
    CU_ASSERT_EQUAL(r.dot, 0.0f);
    CU_ASSERT_EQUAL(r.norm_goal, 0.0f);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_other, 8.77496439, TOL);
    CU_ASSERT_EQUAL(ert_g2v_similarity(b, z, 3, ERT_G2V_COSINE), 0.0f);
    CU_ASSERT_EQUAL(ert_g2v_similarity(z, z, 3, ERT_G2V_COSINE), 0.0f);
    CU_ASSERT_EQUAL(ert_g2v_similarity(z, b, 3, ERT_G2V_DOT), 0.0f);
    /* A denormal vector still has a direction (norms are summed in double). */
    const float tiny[] = {1e-40f, 0, 0}, x[] = {1, 0, 0};
    CU_ASSERT_DOUBLE_EQUAL(ert_g2v_similarity(tiny, x, 3, ERT_G2V_COSINE), 1.0, TOL);
}

static void test_similarity_empty_or_null_is_zero(void)
{
    const float a[] = {1, 2};
    ert_g2v_reward r = {1, 1, 1, 1, 1};
    ert_g2v_compare(a, a, 0, ERT_G2V_COSINE, &r);
    CU_ASSERT(r.value == 0 && r.cosine == 0 && r.dot == 0 && r.norm_goal == 0 && r.norm_other == 0);
    CU_ASSERT_EQUAL(ert_g2v_similarity(NULL, a, 2, ERT_G2V_COSINE), 0.0f);
    CU_ASSERT_EQUAL(ert_g2v_similarity(a, NULL, 2, ERT_G2V_DOT), 0.0f);
}

/* "sim huge cosine": value 0.447213595 while the dot (6e76) overflows float32. */
static void test_similarity_huge_values_keep_a_finite_cosine(void)
{
    const float a[] = {3e38f, 3e38f}, b[] = {3e38f, -1e38f};
    ert_g2v_reward r;
    ert_g2v_compare(a, b, 2, ERT_G2V_COSINE, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.value, 0.447213595, TOL);
    CU_ASSERT(isinf(r.dot) && r.dot > 0);
    CU_ASSERT(isinf(r.norm_goal)); /* 4.24e38 > FLT_MAX */
    CU_ASSERT(isinf(ert_g2v_similarity(a, b, 2, ERT_G2V_DOT)));
}

/* "sim 1024 cosine": value -0.00332080144, dot -5.42773438, norms 29.166849, 56.0384564 */
static void test_similarity_1024d_matches_numpy(void)
{
    float a[1024], b[1024];
    pattern(a, 1024, 37, 101, 50, 32.0f);
    pattern(b, 1024, 53, 97, 48, 16.0f);
    ert_g2v_reward r;
    ert_g2v_compare(a, b, 1024, ERT_G2V_COSINE, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.value, -0.00332080144, 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(r.dot, -5.42773438, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_goal, 29.166849, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_other, 56.0384564, 1e-5);
}

static void test_similarity_nan_propagates_and_unknown_kind_is_nan(void)
{
    const float a[] = {1, NAN}, b[] = {1, 2};
    CU_ASSERT(isnan(ert_g2v_similarity(a, b, 2, ERT_G2V_COSINE)));
    CU_ASSERT(isnan(ert_g2v_similarity(b, a, 2, ERT_G2V_DOT)));
    CU_ASSERT(isnan(ert_g2v_similarity(b, b, 2, (ert_g2v_sim_kind)7)));
    CU_ASSERT(isnan(ert_g2v_similarity(b, b, 0, (ert_g2v_sim_kind)7)));
}

/* ---- scene difference ---- */

/* "diff relu=0": {0.5, -0.5, 1, 0}; "diff relu=1": {0.5, 0, 1, 0} */
static void test_scene_diff_plain_and_relu(void)
{
    const float pre[] = {1, 0.5f, -2, 3}, post[] = {0.5f, 1, -3, 3};
    float d[4];
    ert_g2v_scene_diff(pre, post, 4, false, d);
    assert_floats(d, (const double[]){0.5, -0.5, 1, 0}, 4, 0);
    ert_g2v_scene_diff(pre, post, 4, true, d);
    assert_floats(d, (const double[]){0.5, 0, 1, 0}, 4, 0);
    /* In place over post (what the model layer does). */
    float post2[] = {0.5f, 1, -3, 3};
    ert_g2v_scene_diff(pre, post2, 4, true, post2);
    assert_floats(post2, (const double[]){0.5, 0, 1, 0}, 4, 0);
    /* NULL or empty: nothing written. */
    float keep[] = {7, 7};
    ert_g2v_scene_diff(NULL, post, 2, false, keep);
    ert_g2v_scene_diff(pre, post, 0, false, keep);
    CU_ASSERT(keep[0] == 7 && keep[1] == 7);
    /* NaN is not hidden by the ReLU: it propagates like in ert_g2v_compare. */
    const float nan_pre[] = {NAN};
    const float zero[] = {0};
    ert_g2v_scene_diff(nan_pre, zero, 1, true, keep);
    CU_ASSERT(isnan(keep[0]));
    ert_g2v_scene_diff(nan_pre, zero, 1, false, keep);
    CU_ASSERT(isnan(keep[0]));
}

/* "diff reward relu=0 cosine": 0.40824829 (dot 1, norm_other 1.22474487);
 * "diff reward relu=1 cosine": 0.670820393 (dot 1.5, norm_other 1.11803399). */
static void test_scene_diff_reward_matches_numpy(void)
{
    const float pre[] = {1, 0.5f, -2, 3}, post[] = {0.5f, 1, -3, 3}, goal[] = {1, 1, 1, 1};
    float d[4];
    ert_g2v_reward r;
    ert_g2v_scene_diff(pre, post, 4, false, d);
    ert_g2v_compare(goal, d, 4, ERT_G2V_COSINE, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.value, 0.40824829, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_goal, 2.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_other, 1.22474487, TOL);
    CU_ASSERT_EQUAL(ert_g2v_similarity(goal, d, 4, ERT_G2V_DOT), 1.0f);
    ert_g2v_scene_diff(pre, post, 4, true, d);
    ert_g2v_compare(goal, d, 4, ERT_G2V_COSINE, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.value, 0.670820393, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.norm_other, 1.11803399, TOL);
    CU_ASSERT_EQUAL(ert_g2v_similarity(goal, d, 4, ERT_G2V_DOT), 1.5f);
}

/* ---- heatmap ---- */

/* The [3,2,2] map of grasp2vec_math.py: heat = 2*c0 + c1 - c2 = [[1.5, 0.5], [-1, 2]]. */
static const float tiny_spatial[12] = {1, 0, 0, 0, /**/ 0, 1, 0, 2, /**/ 0.5f, 0.5f, 1, 0};
static const float tiny_goal[3] = {2, 1, -1};
/* By hand: exp(heat - 2) = {e^-.5, e^-1.5, e^-3, 1} / 1.87945; the numpy script agrees:
 * "tiny T=... prob": {0.322717466, 0.118721121, 0.0264902627, 0.53207115} */
static const double tiny_prob[4] = {0.322717466, 0.118721121, 0.0264902627, 0.53207115};

/* T = 0.1: weights {e^-5, e^-15, e^-30, 1} on corners (-1,-1), (1,-1), (-1,1), (1,1);
 * x = (1 - e^-5 + e^-15 - e^-30) / sum = 0.986614302, y = 0.986613695 ("tiny T=0.1 keypoint"). */
static void test_heatmap_tiny_map_by_hand(void)
{
    float heat[4], prob[4], kp[2];
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 0.1f, heat, prob, kp, &err), ERT_OK);
    assert_floats(heat, (const double[]){1.5, 0.5, -1, 2}, 4, 0);
    assert_floats(prob, tiny_prob, 4, TOL);
    double e5 = exp(-5.0), e15 = exp(-15.0), e30 = exp(-30.0), sum = 1 + e5 + e15 + e30;
    CU_ASSERT_DOUBLE_EQUAL(kp[0], (1 - e5 + e15 - e30) / sum, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[0], 0.986614302, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[1], 0.986613695, TOL);
}

/* "tiny T=1 keypoint": {0.301584543, 0.117122826}; "tiny T=10 keypoint": {0.0474731023,
 * -0.0200180333}. prob does not depend on T. */
static void test_heatmap_temperature_sharpens_keypoint(void)
{
    float heat[4], prob[4], k1[2], k10[2], k01[2];
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 1.0f, heat, prob, k1, &err), ERT_OK);
    assert_floats(prob, tiny_prob, 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(k1[0], 0.301584543, TOL);
    CU_ASSERT_DOUBLE_EQUAL(k1[1], 0.117122826, TOL);
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 10.0f, heat, prob, k10, &err), ERT_OK);
    assert_floats(prob, tiny_prob, 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(k10[0], 0.0474731023, TOL);
    CU_ASSERT_DOUBLE_EQUAL(k10[1], -0.0200180333, TOL);
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 0.1f, heat, NULL, k01, &err), ERT_OK);
    /* Colder -> closer to the argmax corner (1, 1); hotter -> closer to the centre. */
    CU_ASSERT(k01[0] > k1[0] && k1[0] > k10[0] && k10[0] > 0);
    /* 1e-3 is as good as the argmax. */
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 1e-3f, heat, NULL, k01, &err), ERT_OK);
    CU_ASSERT_DOUBLE_EQUAL(k01[0], 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(k01[1], 1.0, 1e-12);
}

/* spatial [2,3,1] and [2,1,3] with values {1,-1,2, 0.5,0,-1}, goal {1,2}, T = 0.5:
 * "w1 prob"/"h1 prob": {0.843794734, 0.0420100661, 0.114195199};
 * "w1 keypoint": {0, -0.961686672}; "h1 keypoint": {-0.961686672, 0}. */
static void test_heatmap_single_column_and_single_row(void)
{
    const float sp[6] = {1, -1, 2, 0.5f, 0, -1}, goal[2] = {1, 2};
    const double want_prob[3] = {0.843794734, 0.0420100661, 0.114195199};
    float heat[3], prob[3], kp[2];
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(sp, 2, 3, 1, goal, 0.5f, heat, prob, kp, &err), ERT_OK);
    assert_floats(heat, (const double[]){2, -1, 0}, 3, 0);
    assert_floats(prob, want_prob, 3, TOL);
    CU_ASSERT_EQUAL(kp[0], 0.0f);
    CU_ASSERT_DOUBLE_EQUAL(kp[1], -0.961686672, TOL);
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(sp, 2, 1, 3, goal, 0.5f, heat, prob, kp, &err), ERT_OK);
    assert_floats(prob, want_prob, 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[0], -0.961686672, TOL);
    CU_ASSERT_EQUAL(kp[1], 0.0f);
}

static void test_heatmap_1x1_map_is_certain_at_the_centre(void)
{
    const float sp[3] = {2, -3, 0.5f}, goal[3] = {1, 1, 4};
    float heat[1], prob[1], kp[2];
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(sp, 3, 1, 1, goal, 0.1f, heat, prob, kp, &err), ERT_OK);
    CU_ASSERT_EQUAL(heat[0], 1.0f);
    CU_ASSERT_EQUAL(prob[0], 1.0f);
    CU_ASSERT(kp[0] == 0.0f && kp[1] == 0.0f);
}

/* A [5,3,4] map: spatial = pattern(60, 7, 23, 11, 8), goal = pattern(5, 3, 7, 3, 2), T = 0.5
 * ("5x3x4 heat", "5x3x4 prob", "5x3x4 keypoint" of grasp2vec_math.py). */
static void test_heatmap_5x3x4_matches_numpy(void)
{
    float sp[60], goal[5], heat[12], prob[12], kp[2];
    pattern(sp, 60, 7, 23, 11, 8.0f);
    pattern(goal, 5, 3, 7, 3, 2.0f);
    static const double want_heat[12] = {1, 2.875, 0.4375, -3.4375, 2.75, 0.3125, -3.5625, 2.625, 0.1875, -3.6875,
                                         2.5, 2.9375};
    static const double want_prob[12] = {0.0319236504, 0.20816835,   0.0181895477,   0.000377512018,
                                         0.183707924,  0.0160522195, 0.000333153187, 0.162121674,
                                         0.014166034,  0.000294006655, 0.143071875,  0.221594055};
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(sp, 5, 3, 4, goal, 0.5f, heat, prob, kp, &err), ERT_OK);
    assert_floats(heat, want_heat, 12, 0);
    assert_floats(prob, want_prob, 12, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[0], 0.18782454, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[1], 0.143578349, TOL);
    double sum = 0;
    for (int i = 0; i < 12; i++)
        sum += prob[i];
    CU_ASSERT_DOUBLE_EQUAL(sum, 1.0, 1e-6);
}

/* "huge prob": {0.5, 0.5, 0, 0}, "huge keypoint": {0, -1}: ties at 3e38 whose differences
 * (6e38) overflow float32; plus a 1e30-scale map at a cold temperature. */
static void test_heatmap_large_magnitudes_stay_finite(void)
{
    const float sp[4] = {3e38f, 3e38f, -3e38f, 0}, one[1] = {1};
    float heat[4], prob[4], kp[2];
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(sp, 1, 2, 2, one, 0.1f, heat, prob, kp, &err), ERT_OK);
    assert_floats(prob, (const double[]){0.5, 0.5, 0, 0}, 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[0], 0.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(kp[1], -1.0, TOL);

    const float big[4] = {1e30f, -1e30f, 5e29f, 0}, g[1] = {2};
    CU_ASSERT_EQUAL_FATAL(ert_g2v_heatmap(big, 1, 2, 2, g, 1e-3f, heat, prob, kp, &err), ERT_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT(isfinite(prob[i]));
    assert_floats(prob, (const double[]){1, 0, 0, 0}, 4, 0);
    CU_ASSERT(kp[0] == -1.0f && kp[1] == -1.0f);
}

static void test_heatmap_optional_outputs(void)
{
    float heat[4], prob[4] = {9, 9, 9, 9}, kp[2] = {9, 9};
    ert_error err;
    CU_ASSERT_EQUAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 0.1f, heat, NULL, NULL, &err), ERT_OK);
    assert_floats(heat, (const double[]){1.5, 0.5, -1, 2}, 4, 0);
    CU_ASSERT_EQUAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 0.1f, heat, prob, NULL, &err), ERT_OK);
    assert_floats(prob, tiny_prob, 4, TOL);
    CU_ASSERT_EQUAL(ert_g2v_heatmap(tiny_spatial, 3, 2, 2, tiny_goal, 0.1f, heat, NULL, kp, &err), ERT_OK);
    CU_ASSERT_DOUBLE_EQUAL(kp[0], 0.986614302, TOL);
}

static void expect_heatmap_error(const float *sp, size_t c, size_t h, size_t w, const float *goal, float t,
                                 float *heat, const char *text)
{
    ert_error err;
    float kp[2];
    CU_ASSERT_EQUAL(ert_g2v_heatmap(sp, c, h, w, goal, t, heat, NULL, kp, &err), ERT_EINVAL);
    CU_ASSERT_EQUAL(err.code, ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, text));
    if (!strstr(err.msg, text))
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.msg, text);
}

static void test_heatmap_rejects_bad_arguments(void)
{
    float heat[4];
    expect_heatmap_error(NULL, 3, 2, 2, tiny_goal, 0.1f, heat, "ert_g2v_heatmap: NULL spatial");
    expect_heatmap_error(tiny_spatial, 3, 2, 2, NULL, 0.1f, heat, "NULL goal");
    expect_heatmap_error(tiny_spatial, 3, 2, 2, tiny_goal, 0.1f, NULL, "NULL heat");
    expect_heatmap_error(tiny_spatial, 0, 2, 2, tiny_goal, 0.1f, heat, "empty spatial map 0x2x2");
    expect_heatmap_error(tiny_spatial, 3, 0, 2, tiny_goal, 0.1f, heat, "empty spatial map 3x0x2");
    expect_heatmap_error(tiny_spatial, 3, 2, 0, tiny_goal, 0.1f, heat, "empty spatial map 3x2x0");
    expect_heatmap_error(tiny_spatial, 3, SIZE_MAX / 2, 4, tiny_goal, 0.1f, heat, "overflows");
    expect_heatmap_error(tiny_spatial, SIZE_MAX / 4, 2, 2, tiny_goal, 0.1f, heat, "overflows");
    expect_heatmap_error(tiny_spatial, 3, 2, 2, tiny_goal, 0.0f, heat, "temperature 0 must be finite and > 0");
    expect_heatmap_error(tiny_spatial, 3, 2, 2, tiny_goal, -1.0f, heat, "temperature -1");
    expect_heatmap_error(tiny_spatial, 3, 2, 2, tiny_goal, NAN, heat, "temperature nan");
    expect_heatmap_error(tiny_spatial, 3, 2, 2, tiny_goal, INFINITY, heat, "temperature inf");
    /* 1e30 * 1e30 overflows float32: refused, with the position. */
    const float big[4] = {1, 1, 1, 1e30f}, g[1] = {1e30f};
    expect_heatmap_error(big, 1, 2, 2, g, 0.1f, heat, "heat at row 1 col 1 is inf");
    const float nan_goal[3] = {2, NAN, -1};
    expect_heatmap_error(tiny_spatial, 3, 2, 2, nan_goal, 0.1f, heat, "heat at row 0 col 0 is nan");
}

/* ---- parameters ---- */

static void test_params_default_is_literature(void)
{
    ert_g2v_params p;
    ert_g2v_params_default(&p);
    CU_ASSERT_EQUAL(p.similarity, ERT_G2V_COSINE);
    CU_ASSERT_FALSE(p.diff_relu);
    CU_ASSERT_EQUAL(p.heatmap_temperature, 0.1f);
    /* The descriptor documents the same defaults the converter stores. */
    const ert_family_param_def *d = ert_family_grasp2vec.params;
    CU_ASSERT_STRING_EQUAL(d[0].key, "similarity");
    CU_ASSERT_STRING_EQUAL(d[0].text, "cosine");
    CU_ASSERT_STRING_EQUAL(d[1].key, "diff_relu");
    CU_ASSERT(d[1].text == NULL && d[1].value == 0.0);
    CU_ASSERT_STRING_EQUAL(d[2].key, "heatmap_temperature");
    CU_ASSERT(d[2].text == NULL && d[2].value == 0.1);
    CU_ASSERT_PTR_NULL(d[3].key);
}

static void test_params_parse_reads_blob_keys(void)
{
    const double one = 1, t = 0.25;
    const ert_family_param prm[] = {
        {"similarity", "dot", NULL, 0},
        {"diff_relu", NULL, &one, 1},
        {"heatmap_temperature", NULL, &t, 1},
        {"some_future_key", "x", NULL, 0}, /* ignored */
    };
    ert_g2v_params p;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_g2v_params_parse(prm, 4, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.similarity, ERT_G2V_DOT);
    CU_ASSERT_TRUE(p.diff_relu);
    CU_ASSERT_EQUAL(p.heatmap_temperature, 0.25f);
    /* Missing keys keep the defaults. */
    CU_ASSERT_EQUAL_FATAL(ert_g2v_params_parse(prm + 1, 1, &p, &err), ERT_OK);
    CU_ASSERT_EQUAL(p.similarity, ERT_G2V_COSINE);
    CU_ASSERT_TRUE(p.diff_relu);
    CU_ASSERT_EQUAL(p.heatmap_temperature, 0.1f);
    CU_ASSERT_EQUAL_FATAL(ert_g2v_params_parse(NULL, 0, &p, &err), ERT_OK);
    CU_ASSERT_FALSE(p.diff_relu);
}

static void expect_param_error(const ert_family_param *prm, const char *text)
{
    ert_g2v_params p, before;
    ert_g2v_params_default(&p);
    p.heatmap_temperature = 7.0f;
    before = p;
    ert_error err;
    CU_ASSERT_EQUAL(ert_g2v_params_parse(prm, 1, &p, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, text));
    if (!strstr(err.msg, text))
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.msg, text);
    CU_ASSERT(memcmp(&p, &before, sizeof p) == 0); /* untouched on error */
}

static void test_params_parse_rejects_bad_values(void)
{
    const double two = 2, zero = 0, neg = -0.5, huge = 1e40, small = 1e-50, nan = NAN, pair[2] = {0.1, 0.2};
    expect_param_error(&(ert_family_param){"similarity", "euclidean", NULL, 0},
                       "grasp2vec parameter 'similarity': unknown value 'euclidean' (cosine or dot)");
    expect_param_error(&(ert_family_param){"similarity", NULL, &two, 1}, "expected text cosine or dot, got a number");
    expect_param_error(&(ert_family_param){"diff_relu", NULL, &two, 1}, "'diff_relu': 2 is not 0 or 1");
    expect_param_error(&(ert_family_param){"diff_relu", "yes", NULL, 0}, "'diff_relu': expected a number, got text");
    expect_param_error(&(ert_family_param){"diff_relu", NULL, NULL, 0}, "'diff_relu': expected one number, got 0");
    expect_param_error(&(ert_family_param){"heatmap_temperature", NULL, &zero, 1},
                       "'heatmap_temperature': 0 is not a finite float32 > 0");
    expect_param_error(&(ert_family_param){"heatmap_temperature", NULL, &neg, 1}, "-0.5 is not");
    expect_param_error(&(ert_family_param){"heatmap_temperature", NULL, &huge, 1}, "1e+40 is not");
    expect_param_error(&(ert_family_param){"heatmap_temperature", NULL, &small, 1}, "1e-50 is not");
    expect_param_error(&(ert_family_param){"heatmap_temperature", NULL, &nan, 1}, "nan is not");
    expect_param_error(&(ert_family_param){"heatmap_temperature", NULL, pair, 2}, "expected one number, got 2");
    expect_param_error(&(ert_family_param){NULL, "x", NULL, 0}, "grasp2vec parameter 0 has no key");
    ert_error err;
    CU_ASSERT_EQUAL(ert_g2v_params_parse(NULL, 0, NULL, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "ert_g2v_params_parse: NULL output");
    ert_g2v_params p;
    CU_ASSERT_EQUAL(ert_g2v_params_parse(NULL, 2, &p, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "ert_g2v_params_parse: NULL params");
}

/* ---- descriptor check() on graphs shaped like the converter's ---- */

typedef struct tspec {
    const char *name;
    ert_dtype dt;
    int rank;
    int64_t d[4];
} tspec;

#define IMAGE {"image", ERT_DT_F32, 4, {1, 3, 64, 64}}
#define VEC(c) {"vector", ERT_DT_F32, 2, {1, c}}
#define SPATIAL(c, h, w) {"spatial", ERT_DT_F32, 4, {1, c, h, w}}

/* A graph with the given inputs and outputs and no nodes: check() reads only those. */
static ert_graph *tower(const char *name, const tspec *in, int n_in, const tspec *out, int n_out)
{
    ert_graph *g = ert_graph_new(name);
    ert_error err;
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    g->inputs = malloc((size_t)(n_in ? n_in : 1) * sizeof *g->inputs);
    g->outputs = malloc((size_t)(n_out ? n_out : 1) * sizeof *g->outputs);
    CU_ASSERT_FATAL(g->inputs && g->outputs);
    for (int k = 0; k < n_in + n_out; k++) {
        const tspec *s = k < n_in ? &in[k] : &out[k - n_in];
        ert_shape sh = {.rank = s->rank};
        memcpy(sh.dims, s->d, sizeof s->d);
        uint32_t id;
        CU_ASSERT_EQUAL_FATAL(ert_graph_add_tensor(g, s->name, s->dt, &sh, NULL, false, &id, &err), ERT_OK);
        if (k < n_in)
            g->inputs[g->n_inputs++] = id;
        else
            g->outputs[g->n_outputs++] = id;
    }
    /* An internal tensor called "spatial" must not count as the output. */
    uint32_t id;
    ert_shape sh = {.rank = 4, .dims = {1, 128, 4, 4}};
    CU_ASSERT_EQUAL_FATAL(ert_graph_add_tensor(g, "spatial_pre_relu", ERT_DT_F32, &sh, NULL, false, &id, &err),
                          ERT_OK);
    return g;
}

/* The converter's parameter list: every default of the descriptor. */
static size_t default_params(ert_family_param *out, double *values)
{
    size_t n = 0;
    for (const ert_family_param_def *d = ert_family_grasp2vec.params; d->key; d++, n++) {
        values[n] = d->value;
        out[n] = (ert_family_param){d->key, d->text, d->text ? NULL : &values[n], d->text ? 0 : 1};
    }
    return n;
}

/* Runs check() on scene/object (either may be NULL) with the default parameters. */
static ert_status run_check(ert_graph *scene, ert_graph *object, ert_error *err)
{
    const ert_graph *graphs[2] = {scene, object};
    ert_family_param prm[8];
    double values[8];
    size_t n = default_params(prm, values);
    ert_status st = ert_family_grasp2vec.check(graphs, prm, n, err);
    ert_graph_free(scene);
    ert_graph_free(object);
    return st;
}

static void expect_check_error(ert_graph *scene, ert_graph *object, const char *text)
{
    ert_error err;
    CU_ASSERT_EQUAL(run_check(scene, object, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, text));
    if (!strstr(err.msg, text))
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.msg, text);
}

static void test_desc_roles_are_scene_and_object(void)
{
    const ert_family_role_def *r = ert_family_grasp2vec.roles;
    CU_ASSERT_STRING_EQUAL(ert_family_grasp2vec.name, "grasp2vec");
    CU_ASSERT_STRING_EQUAL(r[0].role, "scene");
    CU_ASSERT_TRUE(r[0].required);
    CU_ASSERT_STRING_EQUAL(r[1].role, "object");
    CU_ASSERT_TRUE(r[1].required);
    CU_ASSERT_PTR_NULL(r[2].role);
    CU_ASSERT_PTR_NOT_NULL(ert_family_grasp2vec.check);
}

/* The layout of tests/fixtures/models/grasp2vec_64: [1,3,64,64] -> vector [1,128], spatial [1,128,4,4]. */
static void test_check_accepts_reference_layout(void)
{
    const tspec in[] = {IMAGE}, both[] = {VEC(128), SPATIAL(128, 4, 4)}, vec_only[] = {VEC(128)};
    const tspec spatial_first[] = {SPATIAL(128, 4, 4), VEC(128)};
    ert_error err;
    CU_ASSERT_EQUAL(run_check(tower("scene", in, 1, both, 2), tower("object", in, 1, both, 2), &err), ERT_OK);
    CU_ASSERT_EQUAL(run_check(tower("scene", in, 1, spatial_first, 2), tower("object", in, 1, vec_only, 1), &err),
                    ERT_OK);
    /* Towers may take different image sizes; only C must agree. */
    const tspec in_big[] = {{"x", ERT_DT_F32, 4, {1, 3, 472, 472}}}, big[] = {VEC(128), SPATIAL(128, 30, 30)};
    CU_ASSERT_EQUAL(run_check(tower("scene", in_big, 1, big, 2), tower("object", in, 1, vec_only, 1), &err), ERT_OK);
}

static void test_check_missing_output_names_role_and_output(void)
{
    const tspec in[] = {IMAGE}, both[] = {VEC(128), SPATIAL(128, 4, 4)}, vec_only[] = {VEC(128)};
    const tspec spatial_only[] = {SPATIAL(128, 4, 4)}, renamed[] = {{"embedding", ERT_DT_F32, 2, {1, 128}}};
    expect_check_error(tower("scene", in, 1, vec_only, 1), tower("object", in, 1, vec_only, 1),
                       "grasp2vec role 'scene': the graph has no output 'spatial' (outputs: 'vector')");
    expect_check_error(tower("scene", in, 1, both, 2), tower("object", in, 1, spatial_only, 1),
                       "grasp2vec role 'object': the graph has no output 'vector' (outputs: 'spatial')");
    expect_check_error(tower("scene", in, 1, renamed, 1), tower("object", in, 1, both, 2),
                       "role 'scene': the graph has no output 'vector' (outputs: 'embedding')");
    expect_check_error(tower("scene", in, 1, both, 0), tower("object", in, 1, both, 2), "(outputs: none)");
    expect_check_error(tower("scene", in, 1, both, 2), NULL, "family grasp2vec needs a 'object' graph");
    expect_check_error(NULL, tower("object", in, 1, both, 2), "needs a 'scene' graph");
}

static void test_check_rejects_mismatched_channels(void)
{
    const tspec in[] = {IMAGE}, both[] = {VEC(128), SPATIAL(128, 4, 4)}, vec64[] = {VEC(64)};
    const tspec spatial64[] = {VEC(128), SPATIAL(64, 4, 4)};
    expect_check_error(tower("scene", in, 1, both, 2), tower("object", in, 1, vec64, 1),
                       "grasp2vec: the object vector has 64 values but the scene vector 128");
    expect_check_error(tower("scene", in, 1, spatial64, 2), tower("object", in, 1, both, 2),
                       "grasp2vec role 'scene': output 'spatial' must be float32 [1,128,h,w], got float32 1x64x4x4");
}

static void test_check_rejects_bad_shapes_and_dtypes(void)
{
    const tspec in[] = {IMAGE}, both[] = {VEC(128), SPATIAL(128, 4, 4)};
    const tspec gray[] = {{"image", ERT_DT_F32, 4, {1, 1, 64, 64}}};
    const tspec batch2[] = {{"image", ERT_DT_F32, 4, {2, 3, 64, 64}}};
    const tspec u8[] = {{"image", ERT_DT_U8, 4, {1, 3, 64, 64}}};
    const tspec two_inputs[] = {IMAGE, {"depth", ERT_DT_F32, 4, {1, 1, 64, 64}}};
    const tspec vec3d[] = {{"vector", ERT_DT_F32, 3, {1, 128, 1}}, SPATIAL(128, 4, 4)};
    const tspec vec_i64[] = {{"vector", ERT_DT_I64, 2, {1, 128}}};
    const tspec spatial3d[] = {VEC(128), {"spatial", ERT_DT_F32, 3, {1, 128, 16}}};
    const tspec spatial_empty[] = {VEC(128), SPATIAL(128, 0, 4)};
    expect_check_error(tower("scene", gray, 1, both, 2), tower("object", in, 1, both, 2),
                       "grasp2vec role 'scene': input 'image' must be float32 [1,3,H,W], got float32 1x1x64x64");
    expect_check_error(tower("scene", in, 1, both, 2), tower("object", batch2, 1, both, 2),
                       "role 'object': input 'image' must be float32 [1,3,H,W], got float32 2x3x64x64");
    expect_check_error(tower("scene", u8, 1, both, 2), tower("object", in, 1, both, 2), "got uint8 1x3x64x64");
    expect_check_error(tower("scene", two_inputs, 2, both, 2), tower("object", in, 1, both, 2),
                       "grasp2vec role 'scene': the graph must have one image input, it has 2");
    expect_check_error(tower("scene", in, 1, vec3d, 2), tower("object", in, 1, both, 2),
                       "role 'scene': output 'vector' must be float32 [1,C], got float32 1x128x1");
    expect_check_error(tower("scene", in, 1, both, 2), tower("object", in, 1, vec_i64, 1),
                       "role 'object': output 'vector' must be float32 [1,C], got int64 1x128");
    expect_check_error(tower("scene", in, 1, spatial3d, 2), tower("object", in, 1, both, 2),
                       "output 'spatial' must be float32 [1,128,h,w], got float32 1x128x16");
    expect_check_error(tower("scene", in, 1, spatial_empty, 2), tower("object", in, 1, both, 2),
                       "got float32 1x128x0x4");
}

static void test_check_rejects_bad_parameters(void)
{
    const tspec in[] = {IMAGE}, both[] = {VEC(128), SPATIAL(128, 4, 4)};
    ert_graph *scene = tower("scene", in, 1, both, 2), *object = tower("object", in, 1, both, 2);
    const ert_graph *graphs[2] = {scene, object};
    ert_family_param prm[8];
    double values[8];
    size_t n = default_params(prm, values);
    ert_error err;
    prm[0].text = "l2";
    CU_ASSERT_EQUAL(ert_family_grasp2vec.check(graphs, prm, n, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown value 'l2'"));
    prm[0].text = "dot";
    values[2] = -1;
    CU_ASSERT_EQUAL(ert_family_grasp2vec.check(graphs, prm, n, &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'heatmap_temperature': -1 is not"));
    values[2] = 0.5;
    CU_ASSERT_EQUAL(ert_family_grasp2vec.check(graphs, prm, n, &err), ERT_OK);
    ert_graph_free(scene);
    ert_graph_free(object);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_similarity_cosine_matches_numpy),
    ERT_TEST(test_similarity_dot_is_plain_dot),
    ERT_TEST(test_similarity_opposite_vectors_is_minus_one),
    ERT_TEST(test_similarity_zero_vector_is_zero_not_nan),
    ERT_TEST(test_similarity_empty_or_null_is_zero),
    ERT_TEST(test_similarity_huge_values_keep_a_finite_cosine),
    ERT_TEST(test_similarity_1024d_matches_numpy),
    ERT_TEST(test_similarity_nan_propagates_and_unknown_kind_is_nan),
    ERT_TEST(test_scene_diff_plain_and_relu),
    ERT_TEST(test_scene_diff_reward_matches_numpy),
    ERT_TEST(test_heatmap_tiny_map_by_hand),
    ERT_TEST(test_heatmap_temperature_sharpens_keypoint),
    ERT_TEST(test_heatmap_single_column_and_single_row),
    ERT_TEST(test_heatmap_1x1_map_is_certain_at_the_centre),
    ERT_TEST(test_heatmap_5x3x4_matches_numpy),
    ERT_TEST(test_heatmap_large_magnitudes_stay_finite),
    ERT_TEST(test_heatmap_optional_outputs),
    ERT_TEST(test_heatmap_rejects_bad_arguments),
    ERT_TEST(test_params_default_is_literature),
    ERT_TEST(test_params_parse_reads_blob_keys),
    ERT_TEST(test_params_parse_rejects_bad_values),
    ERT_TEST(test_desc_roles_are_scene_and_object),
    ERT_TEST(test_check_accepts_reference_layout),
    ERT_TEST(test_check_missing_output_names_role_and_output),
    ERT_TEST(test_check_rejects_mismatched_channels),
    ERT_TEST(test_check_rejects_bad_shapes_and_dtypes),
    ERT_TEST(test_check_rejects_bad_parameters),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_grasp2vec = {"grasp2vec", cases};
