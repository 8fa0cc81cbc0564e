/* Unit tests: tcn and mftcn (suite "tcn"). Expected numbers come from
 * models/tcn/reference/tcn_math.py (the section is named at each use). */
#include "harness.h"

#include "embedrt/mftcn.h"
#include "embedrt/npy.h"
#include "embedrt/tcn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ASSERT_OK(expr)                                                                                                \
    do {                                                                                                               \
        ert_error e_;                                                                                                  \
        ert_error_clear(&e_);                                                                                          \
        ert_status s_ = (expr);                                                                                        \
        if (s_ != ERT_OK)                                                                                              \
            fprintf(stderr, "\n  %s: %s\n", #expr, e_.msg);                                                           \
        CU_ASSERT_EQUAL_FATAL(s_, ERT_OK);                                                                             \
    } while (0)

/* True when the message contains every one of up to three fragments. */
static int mentions(const ert_error *e, const char *a, const char *b, const char *c)
{
    int ok = strstr(e->msg, a) != NULL && (!b || strstr(e->msg, b)) && (!c || strstr(e->msg, c));
    if (!ok)
        fprintf(stderr, "\n  unexpected message: %s\n", e->msg);
    return ok;
}

static ert_family_param num(const char *key, const double *v)
{
    ert_family_param p = {key, NULL, v, 1};
    return p;
}

/* ---------------------------------------------------------------- tcn parameters */

static void test_tcn_params_default_are_literature_values(void)
{
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    CU_ASSERT_EQUAL(p.alpha, 0.5f);
    CU_ASSERT_EQUAL(p.beta, 0.5f);
    CU_ASSERT_EQUAL(p.gamma, 1e-3f);
    CU_ASSERT_FALSE(p.l2_normalize);
    CU_ASSERT_EQUAL(p.l2_scale, 10.0f);
    CU_ASSERT_EQUAL(p.time_window, 0);
    /* The descriptor documents the same defaults the struct gets. */
    const ert_family_param_def *d = ert_family_tcn.params;
    double want[] = {0.5, 0.5, 1e-3, 0, 10, 0};
    const char *keys[] = {"alpha", "beta", "gamma", "l2_normalize", "l2_scale", "time_window"};
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(d[i].key);
        CU_ASSERT_STRING_EQUAL(d[i].key, keys[i]);
        CU_ASSERT_PTR_NULL(d[i].text);
        CU_ASSERT_EQUAL(d[i].value, want[i]);
    }
    CU_ASSERT_PTR_NULL(d[6].key);
    CU_ASSERT_STRING_EQUAL(ert_family_tcn.name, "tcn");
    CU_ASSERT_STRING_EQUAL(ert_family_tcn.roles[0].role, "embedder");
    CU_ASSERT_TRUE(ert_family_tcn.roles[0].required);
    CU_ASSERT_PTR_NULL(ert_family_tcn.roles[1].role);
}

static void test_tcn_params_parse_overrides_and_ignores_unknown_keys(void)
{
    double a = 2, b = 0.25, g = 0.01, on = 1, sc = 1, other = 7, tw = 300;
    ert_family_param prm[] = {num("alpha", &a),    num("beta", &b),         num("gamma", &g),     num("l2_normalize", &on),
                              num("l2_scale", &sc), num("future_key", &other), num("time_window", &tw)};
    ert_tcn_params p;
    ASSERT_OK(ert_tcn_params_parse(prm, 7, &p, &e_));
    CU_ASSERT_EQUAL(p.time_window, 300);
    CU_ASSERT_EQUAL(p.alpha, 2.0f);
    CU_ASSERT_EQUAL(p.beta, 0.25f);
    CU_ASSERT_EQUAL(p.gamma, 0.01f);
    CU_ASSERT_TRUE(p.l2_normalize);
    CU_ASSERT_EQUAL(p.l2_scale, 1.0f);
    /* No parameters: the defaults. */
    ASSERT_OK(ert_tcn_params_parse(NULL, 0, &p, &e_));
    CU_ASSERT_EQUAL(p.alpha, 0.5f);
    CU_ASSERT_FALSE(p.l2_normalize);
}

static void test_tcn_params_parse_rejects_bad_values_naming_the_key(void)
{
    struct {
        ert_family_param p;
        const char *frag;
    } bad[] = {
        {{"alpha", NULL, (const double[]){-0.1}, 1}, "'alpha': -0.1"},
        {{"beta", NULL, (const double[]){NAN}, 1}, "'beta'"},
        {{"gamma", NULL, (const double[]){1e40}, 1}, "'gamma': 1e+40"},
        {{"gamma", "x", NULL, 0}, "'gamma': expected a number, got text 'x'"},
        {{"alpha", NULL, (const double[]){1, 2}, 2}, "'alpha': expected one number, got 2"},
        {{"l2_normalize", NULL, (const double[]){2}, 1}, "'l2_normalize': 2 is not 0 or 1"},
        {{"l2_scale", NULL, (const double[]){0}, 1}, "'l2_scale': 0"},
        {{"l2_scale", NULL, (const double[]){-INFINITY}, 1}, "'l2_scale'"},
        {{"time_window", NULL, (const double[]){-1}, 1}, "'time_window': -1 is not a whole number of frames in 0..300"},
        {{"time_window", NULL, (const double[]){2.5}, 1}, "'time_window': 2.5"},
        {{"time_window", NULL, (const double[]){301}, 1}, "'time_window': 301"},
        {{"time_window", NULL, (const double[]){NAN}, 1}, "'time_window': nan"},
        {{"time_window", "wide", NULL, 0}, "'time_window': expected a number, got text 'wide'"},
        {{NULL, NULL, NULL, 0}, "parameter 0 has no key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ert_error e;
        ert_tcn_params p;
        ert_tcn_params_default(&p);
        p.alpha = 42.0f; /* must stay untouched on failure */
        CU_ASSERT_EQUAL(ert_tcn_params_parse(&bad[i].p, 1, &p, &e), ERT_EINVAL);
        CU_ASSERT_TRUE(mentions(&e, "tcn", bad[i].frag, NULL));
        CU_ASSERT_EQUAL(p.alpha, 42.0f);
    }
    ert_error e;
    CU_ASSERT_EQUAL(ert_tcn_params_parse(NULL, 1, NULL, &e), ERT_EINVAL);
}

/* ---------------------------------------------------------------- imitation reward */

/* tcn_math.py "reward": V, W with dist2 = 1.75. */
static const float V4[] = {0.5f, -1.0f, 2.0f, 0.25f};
static const float W4[] = {1.0f, -0.5f, 1.0f, 0.75f};

static void test_tcn_reward_matches_numpy(void)
{
    struct {
        float alpha, beta, gamma, r;
    } cases[] = {
        {0.5f, 0.5f, 1e-3f, -1.53662678f},
        {2.0f, 0.25f, 0.01f, -3.83166248f},
        {1.0f, 0.0f, 0.0f, -1.75f},       /* quadratic part alone: -alpha dist2 */
        {0.0f, 1.0f, 0.0f, -1.32287566f}, /* robust part alone: -beta sqrt(gamma + dist2) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ert_tcn_params p;
        ert_tcn_params_default(&p);
        p.alpha = cases[i].alpha;
        p.beta = cases[i].beta;
        p.gamma = cases[i].gamma;
        float d2 = -1.0f;
        float r = ert_tcn_imitation_reward(V4, W4, 4, &p, &d2);
        CU_ASSERT_DOUBLE_EQUAL(r, cases[i].r, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(d2, 1.75, 1e-7);
        CU_ASSERT_DOUBLE_EQUAL(ert_tcn_reward_from_dist2(d2, &p), cases[i].r, 1e-6);
        /* Symmetric in its two embeddings. */
        CU_ASSERT_DOUBLE_EQUAL(ert_tcn_imitation_reward(W4, V4, 4, &p, NULL), cases[i].r, 1e-6);
    }
}

static void test_tcn_reward_identical_embeddings_is_minus_beta_sqrt_gamma(void)
{
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    float d2 = -1.0f;
    /* tcn_math.py "reward": identical, defaults: -0.5 * sqrt(1e-3). */
    CU_ASSERT_DOUBLE_EQUAL(ert_tcn_imitation_reward(V4, V4, 4, &p, &d2), -0.0158113883, 1e-8);
    CU_ASSERT_EQUAL(d2, 0.0f);
    p.beta = 2.0f;
    p.gamma = 0.04f;
    CU_ASSERT_DOUBLE_EQUAL(ert_tcn_imitation_reward(V4, V4, 4, &p, NULL), -0.4, 1e-7);
    /* The reward is maximal at distance 0 and strictly decreasing with it. */
    ert_tcn_params_default(&p);
    float prev = ert_tcn_reward_from_dist2(0.0f, &p);
    for (float d = 0.01f; d < 100.0f; d *= 1.7f) {
        float r = ert_tcn_reward_from_dist2(d, &p);
        CU_ASSERT_TRUE(r < prev);
        prev = r;
    }
}

static void test_tcn_reward_edge_cases_are_defined(void)
{
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    float d2 = -1.0f;
    /* d == 0: distance 0 (even with NULL vectors). */
    CU_ASSERT_DOUBLE_EQUAL(ert_tcn_imitation_reward(NULL, NULL, 0, &p, &d2), -0.0158113883, 1e-8);
    CU_ASSERT_EQUAL(d2, 0.0f);
    CU_ASSERT_TRUE(isnan(ert_tcn_imitation_reward(NULL, W4, 4, &p, &d2)));
    CU_ASSERT_TRUE(isnan(d2));
    CU_ASSERT_TRUE(isnan(ert_tcn_imitation_reward(V4, W4, 4, NULL, NULL)));
    CU_ASSERT_TRUE(isnan(ert_tcn_reward_from_dist2(1.0f, NULL)));
    const float nan_live[] = {1.0f, NAN, 1.0f, 0.75f};
    CU_ASSERT_TRUE(isnan(ert_tcn_imitation_reward(V4, nan_live, 4, &p, NULL)));
    /* A distance beyond float range gives -inf, not NaN. */
    const float big_a[] = {3e30f, -3e30f}, big_b[] = {-3e30f, 3e30f};
    float r = ert_tcn_imitation_reward(big_a, big_b, 2, &p, &d2);
    CU_ASSERT_TRUE(isinf(d2) && d2 > 0); /* 7.2e61 does not fit a float */
    CU_ASSERT_TRUE(isinf(r) && r < 0);
}

/* ---------------------------------------------------------------- nearest neighbour */

/* tcn_math.py "nearest": DEMO. */
static const float DEMO5x3[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 2};

static void test_tcn_nearest_matches_numpy(void)
{
    struct {
        float q[3];
        size_t index;
        float dist;
    } cases[] = {
        {{0.9f, 0.1f, 0.0f}, 1, 0.141421356f},
        {{0.0f, 0.0f, 1.0f}, 0, 1.0f},
        {{3.0f, 3.0f, 3.0f}, 3, 4.12310563f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t idx = 99;
        float dist = -1.0f;
        ASSERT_OK(ert_tcn_nearest(DEMO5x3, 5, 3, cases[i].q, &idx, &dist, &e_));
        CU_ASSERT_EQUAL(idx, cases[i].index);
        CU_ASSERT_DOUBLE_EQUAL(dist, cases[i].dist, 1e-6);
    }
}

static void test_tcn_nearest_ties_go_to_lowest_index(void)
{
    /* tcn_math.py "nearest": four-way tie -> 0; 0/1 tie -> 0; 1/3 tie -> 1. */
    const float q4[] = {0.5f, 0.5f, 0.0f}, q01[] = {0.5f, 0.0f, 0.0f}, q13[] = {1.0f, 0.5f, 0.0f};
    size_t idx;
    float dist;
    ASSERT_OK(ert_tcn_nearest(DEMO5x3, 5, 3, q4, &idx, &dist, &e_));
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT_DOUBLE_EQUAL(dist, 0.707106781, 1e-6);
    ASSERT_OK(ert_tcn_nearest(DEMO5x3, 5, 3, q01, &idx, &dist, &e_));
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT_DOUBLE_EQUAL(dist, 0.5, 1e-7);
    ASSERT_OK(ert_tcn_nearest(DEMO5x3, 5, 3, q13, &idx, &dist, &e_));
    CU_ASSERT_EQUAL(idx, 1);
    CU_ASSERT_DOUBLE_EQUAL(dist, 0.5, 1e-7);
    /* Duplicate frames: the first copy wins. */
    const float dup[] = {5, 5, 1, 1, 1, 1};
    const float q[] = {1, 1};
    ASSERT_OK(ert_tcn_nearest(dup, 3, 2, q, &idx, NULL, &e_));
    CU_ASSERT_EQUAL(idx, 1);
}

static void test_tcn_nearest_single_frame_demo(void)
{
    const float demo[] = {2, 0, 0}, q[] = {0, 0, 1};
    size_t idx = 7;
    float dist = 0;
    ASSERT_OK(ert_tcn_nearest(demo, 1, 3, q, &idx, &dist, &e_));
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT_DOUBLE_EQUAL(dist, 2.23606797749979, 1e-6);
    ASSERT_OK(ert_tcn_nearest(demo, 1, 3, q, NULL, NULL, &e_)); /* outputs optional */
}

static void test_tcn_nearest_nan_rows_never_win(void)
{
    const float demo[] = {NAN, 0, 5, 5, 9, 9}, q[] = {0, 0};
    size_t idx;
    float dist;
    ASSERT_OK(ert_tcn_nearest(demo, 3, 2, q, &idx, &dist, &e_));
    CU_ASSERT_EQUAL(idx, 1);
    CU_ASSERT_DOUBLE_EQUAL(dist, sqrt(50.0), 1e-5);
    ert_error e;
    const float qn[] = {NAN, 0};
    CU_ASSERT_EQUAL(ert_tcn_nearest(demo, 3, 2, qn, &idx, &dist, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "ert_tcn_nearest", "NaN", NULL));
}

static void test_tcn_nearest_rejects_empty_null_and_overflow(void)
{
    ert_error e;
    const float q[] = {0, 0, 0};
    CU_ASSERT_EQUAL(ert_tcn_nearest(DEMO5x3, 0, 3, q, NULL, NULL, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "empty demo", NULL, NULL));
    CU_ASSERT_EQUAL(ert_tcn_nearest(DEMO5x3, 5, 0, q, NULL, NULL, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_tcn_nearest(NULL, 5, 3, q, NULL, NULL, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "NULL demo", NULL, NULL));
    CU_ASSERT_EQUAL(ert_tcn_nearest(DEMO5x3, 5, 3, NULL, NULL, NULL, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_tcn_nearest(DEMO5x3, SIZE_MAX / 2, 3, q, NULL, NULL, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "overflow", NULL, NULL));
}

static void test_tcn_alignment_error_matches_numpy(void)
{
    /* tcn_math.py "alignment": A vs B 0, B vs A 0.4, A vs A 0. */
    const float a[] = {0, 0, 1, 0, 2, 0, 3, 0};
    const float b[] = {0, 0.1f, 0.2f, 0, 2.1f, 0, 2.9f, 0, 3.2f, 0};
    double err_frames = -1;
    ASSERT_OK(ert_tcn_alignment_error(a, 4, b, 5, 2, &err_frames, &e_));
    CU_ASSERT_DOUBLE_EQUAL(err_frames, 0.0, 1e-12);
    ASSERT_OK(ert_tcn_alignment_error(b, 5, a, 4, 2, &err_frames, &e_));
    CU_ASSERT_DOUBLE_EQUAL(err_frames, 0.4, 1e-12);
    ASSERT_OK(ert_tcn_alignment_error(a, 4, a, 4, 2, &err_frames, &e_));
    CU_ASSERT_DOUBLE_EQUAL(err_frames, 0.0, 1e-12);
    /* A reversed sequence: frame i aligns with 3 - i: mean |3 - 2i| over i < 4 = 2. */
    const float rev[] = {3, 0, 2, 0, 1, 0, 0, 0};
    ASSERT_OK(ert_tcn_alignment_error(a, 4, rev, 4, 2, &err_frames, &e_));
    CU_ASSERT_DOUBLE_EQUAL(err_frames, 2.0, 1e-12);
    ert_error e;
    CU_ASSERT_EQUAL(ert_tcn_alignment_error(a, 0, b, 5, 2, &err_frames, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_tcn_alignment_error(a, 4, b, 0, 2, &err_frames, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "alignment", "frame 0", "empty demo"));
}

/* ---------------------------------------------------------------- L2 normalisation */

static void test_tcn_l2_normalize_matches_numpy(void)
{
    /* tcn_math.py "l2". */
    float v[] = {3, 4};
    ert_tcn_l2_normalize(v, 2, 10.0f);
    CU_ASSERT_DOUBLE_EQUAL(v[0], 6.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(v[1], 8.0, 1e-6);
    float u[] = {3, 4};
    ert_tcn_l2_normalize(u, 2, 1.0f);
    CU_ASSERT_DOUBLE_EQUAL(u[0], 0.6, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(u[1], 0.8, 1e-7);
    float w[] = {1, -2, 2, 0.5f};
    const float want[] = {3.28797975f, -6.57595949f, 6.57595949f, 1.64398987f};
    ert_tcn_l2_normalize(w, 4, 10.0f);
    double n2 = 0;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_DOUBLE_EQUAL(w[i], want[i], 1e-5);
        n2 += (double)w[i] * w[i];
    }
    CU_ASSERT_DOUBLE_EQUAL(sqrt(n2), 10.0, 1e-5);
}

static void test_tcn_l2_normalize_zero_tiny_and_nan(void)
{
    float z[] = {0, 0, 0};
    ert_tcn_l2_normalize(z, 3, 10.0f);
    CU_ASSERT_TRUE(z[0] == 0 && z[1] == 0 && z[2] == 0 && !signbit(z[0]));
    /* Below the 1e-12 floor on ||v||^2 the vector is divided by 1e-6, as tf does. */
    float t[] = {1e-7f, 0};
    ert_tcn_l2_normalize(t, 2, 1.0f);
    CU_ASSERT_DOUBLE_EQUAL(t[0], 0.1, 1e-6);
    CU_ASSERT_EQUAL(t[1], 0.0f);
    float n[] = {1, NAN, 2};
    ert_tcn_l2_normalize(n, 3, 1.0f);
    CU_ASSERT_TRUE(isnan(n[0]) && isnan(n[1]) && isnan(n[2]));
    ert_tcn_l2_normalize(NULL, 3, 1.0f); /* no-op */
    float one[] = {-5};
    ert_tcn_l2_normalize(one, 1, 10.0f);
    CU_ASSERT_DOUBLE_EQUAL(one[0], -10.0, 1e-6);
}

/* ---------------------------------------------------------------- demonstrations */

/* A fresh temporary directory (removed by rm_tmpdir). */
static char tmpdir_path[64];
static const char *tmpfile_in(const char *name)
{
    static char path[128];
    if (!tmpdir_path[0]) {
        strcpy(tmpdir_path, "/tmp/ert-tcn-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir_path));
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir_path, name);
    return path;
}

static void rm_tmpdir(const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        unlink(tmpfile_in(names[i]));
    rmdir(tmpdir_path);
    tmpdir_path[0] = 0;
}

static void test_tcn_demo_from_array_copies_and_checks(void)
{
    float emb[] = {1, 2, 3, 4, 5, 6};
    ert_tcn_demo *d = NULL;
    ASSERT_OK(ert_tcn_demo_from_array(emb, 3, 2, &d, &e_));
    emb[0] = 100; /* copied */
    CU_ASSERT_EQUAL(ert_tcn_demo_length(d), 3);
    CU_ASSERT_EQUAL(ert_tcn_demo_dim(d), 2);
    CU_ASSERT_EQUAL(ert_tcn_demo_frame(d, 0)[0], 1.0f);
    CU_ASSERT_EQUAL(ert_tcn_demo_frame(d, 2)[1], 6.0f);
    CU_ASSERT_PTR_NULL(ert_tcn_demo_frame(d, 3));
    ert_tcn_demo_free(d);
    ert_error e;
    emb[3] = INFINITY;
    CU_ASSERT_EQUAL(ert_tcn_demo_from_array(emb, 3, 2, &d, &e), ERT_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_TRUE(mentions(&e, "frame 1 value 1 is not finite", NULL, NULL));
    CU_ASSERT_EQUAL(ert_tcn_demo_from_array(emb, 0, 2, &d, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "at least one frame", NULL, NULL));
    CU_ASSERT_EQUAL(ert_tcn_demo_from_array(emb, SIZE_MAX / 4, 8, &d, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "overflow", NULL, NULL));
    CU_ASSERT_EQUAL(ert_tcn_demo_length(NULL), 0);
    ert_tcn_demo_free(NULL);
}

static void test_tcn_demo_npy_loads_float32_2d_and_round_trips(void)
{
    const float emb[] = {0.5f, -1, 2, 3, 4, 5, 6, 7};
    ert_shape s = {.rank = 2, .dims = {4, 2}};
    ASSERT_OK(ert_npy_write(tmpfile_in("demo.npy"), ERT_DT_F32, &s, emb, &e_));
    ert_tcn_demo *d = NULL, *d2 = NULL;
    ASSERT_OK(ert_tcn_demo_load_npy(tmpfile_in("demo.npy"), 2, &d, &e_));
    CU_ASSERT_EQUAL(ert_tcn_demo_length(d), 4);
    CU_ASSERT_EQUAL(ert_tcn_demo_dim(d), 2);
    CU_ASSERT_EQUAL(memcmp(ert_tcn_demo_frame(d, 0), emb, sizeof emb), 0);
    /* dim 0: any D. */
    ASSERT_OK(ert_tcn_demo_load_npy(tmpfile_in("demo.npy"), 0, &d2, &e_));
    CU_ASSERT_EQUAL(ert_tcn_demo_dim(d2), 2);
    ert_tcn_demo_free(d2);
    d2 = NULL;
    ASSERT_OK(ert_tcn_demo_write_npy(d, tmpfile_in("copy.npy"), &e_));
    ASSERT_OK(ert_tcn_demo_load_npy(tmpfile_in("copy.npy"), 2, &d2, &e_));
    CU_ASSERT_EQUAL(memcmp(ert_tcn_demo_frame(d2, 0), emb, sizeof emb), 0);
    ert_tcn_demo_free(d);
    ert_tcn_demo_free(d2);
    rm_tmpdir((const char *const[]){"demo.npy", "copy.npy"}, 2);
}

static void test_tcn_demo_npy_rejects_bad_files_naming_them(void)
{
    const double f64[] = {1, 2, 3, 4};
    const float f32[] = {1, 2, 3, 4, NAN, 6};
    struct {
        const char *file;
        ert_dtype dt;
        ert_shape shape;
        const void *data;
        size_t dim;
        ert_status st;
        const char *frag;
    } cases[] = {
        {"f64.npy", ERT_DT_F64, {2, {2, 2}}, f64, 2, ERT_EFORMAT, "float32 [T, 2] embeddings, got float64 2x2"},
        {"rank1.npy", ERT_DT_F32, {1, {4}}, f32, 0, ERT_EFORMAT, "float32 [T, D] embeddings, got float32 4"},
        {"rank3.npy", ERT_DT_F32, {3, {1, 2, 2}}, f32, 0, ERT_EFORMAT, "got float32 1x2x2"},
        {"empty.npy", ERT_DT_F32, {2, {0, 4}}, f32, 4, ERT_EFORMAT, "at least one frame"},
        {"dim.npy", ERT_DT_F32, {2, {2, 2}}, f32, 32, ERT_EINVAL, "float32 [T, 32] embeddings, got float32 2x2"},
        {"nan.npy", ERT_DT_F32, {2, {3, 2}}, f32, 2, ERT_EFORMAT, "frame 2 value 0 is not finite"},
    };
    const char *names[sizeof cases / sizeof cases[0]];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        names[i] = cases[i].file;
        char path[128];
        snprintf(path, sizeof path, "%s", tmpfile_in(cases[i].file));
        ASSERT_OK(ert_npy_write(path, cases[i].dt, &cases[i].shape, cases[i].data, &e_));
        ert_tcn_demo *d = (ert_tcn_demo *)1;
        ert_error e;
        CU_ASSERT_EQUAL(ert_tcn_demo_load_npy(path, cases[i].dim, &d, &e), cases[i].st);
        CU_ASSERT_PTR_NULL(d);
        CU_ASSERT_TRUE(mentions(&e, path, cases[i].frag, NULL));
    }
    ert_tcn_demo *d = NULL;
    ert_error e;
    CU_ASSERT_NOT_EQUAL(ert_tcn_demo_load_npy(tmpfile_in("missing.npy"), 2, &d, &e), ERT_OK);
    CU_ASSERT_TRUE(mentions(&e, "missing.npy", NULL, NULL));
    rm_tmpdir(names, sizeof names / sizeof names[0]);
}

/* ---------------------------------------------------------------- tracker */

static void test_tcn_tracker_time_index_clamps_to_last_demo_frame(void)
{
    /* Demo of 3 frames [i, 0]; live frames all [1, 0]. */
    const float emb[] = {0, 0, 1, 0, 2, 0};
    const float live[] = {1, 0};
    ert_tcn_demo *d;
    ASSERT_OK(ert_tcn_demo_from_array(emb, 3, 2, &d, &e_));
    ert_tcn_tracker tr;
    ASSERT_OK(ert_tcn_tracker_init(&tr, d, NULL, &e_));
    const size_t want_index[] = {0, 1, 2, 2, 2};
    const float want_d2[] = {1, 0, 1, 1, 1};
    for (int t = 0; t < 5; t++) {
        ert_tcn_step s;
        ASSERT_OK(ert_tcn_tracker_step(&tr, live, 2, &s, &e_));
        CU_ASSERT_EQUAL(s.t, (uint64_t)t);
        CU_ASSERT_EQUAL(s.demo_index, want_index[t]);
        CU_ASSERT_DOUBLE_EQUAL(s.dist2, want_d2[t], 1e-7);
        /* -0.5 d2 - 0.5 sqrt(1e-3 + d2): -1.00024994 at d2 = 1, -0.0158113883 at 0. */
        CU_ASSERT_DOUBLE_EQUAL(s.reward, want_d2[t] ? -1.00024994 : -0.0158113883, 1e-6);
        CU_ASSERT_EQUAL(s.nearest, 1);
        CU_ASSERT_DOUBLE_EQUAL(s.nearest_dist, 0.0, 1e-7);
    }
    CU_ASSERT_EQUAL(tr.t, 5);
    ert_tcn_demo_free(d);
}

static void test_tcn_tracker_time_window_forgives_tempo(void)
{
    /* Demo of 6 frames [i, 0]. A live run that is 2 frames late: live frame t shows
     * [t - 2, 0]. time_window 0 pays for the lag (d2 = 4 every frame after the start);
     * time_window 2 compares with demo frame t - 2 (d2 = 0); time_window 1 gets half-way. */
    const float emb[] = {0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0};
    ert_tcn_demo *d;
    ASSERT_OK(ert_tcn_demo_from_array(emb, 6, 2, &d, &e_));
    for (uint32_t w = 0; w <= 3; w++) {
        ert_tcn_params p;
        ert_tcn_params_default(&p);
        p.time_window = w;
        ert_tcn_tracker tr;
        ASSERT_OK(ert_tcn_tracker_init(&tr, d, &p, &e_));
        for (int t = 0; t < 9; t++) {
            float x = t < 2 ? 0.0f : (float)(t - 2);
            const float live[] = {x, 0};
            ert_tcn_step s;
            ASSERT_OK(ert_tcn_tracker_step(&tr, live, 2, &s, &e_));
            size_t c = t < 6 ? (size_t)t : 5;
            CU_ASSERT_EQUAL(s.time_index, c);
            /* Best frame: x clamped to the window [c - w, c + w] inside the demo [0, 5]. */
            double lo = c >= w ? (double)(c - w) : 0.0, hi = c + w < 5 ? (double)(c + w) : 5.0;
            double want = x < lo ? lo : x > hi ? hi : x;
            CU_ASSERT_EQUAL(s.demo_index, (size_t)want);
            CU_ASSERT_DOUBLE_EQUAL(s.dist2, (want - x) * (want - x), 1e-7);
            CU_ASSERT_DOUBLE_EQUAL(s.reward, ert_tcn_reward_from_dist2(s.dist2, &p), 1e-7);
        }
    }
    /* Ties go to the frame nearest the time index: live [2.5, 0] at t = 2 is 0.25 from
     * demo frames 2 and 3 (W = 1): frame 2; live [3.5, 0] at t = 4: frame 4, not 3. */
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    p.time_window = 1;
    ert_tcn_tracker tr;
    ASSERT_OK(ert_tcn_tracker_init(&tr, d, &p, &e_));
    const float mid[] = {2.5f, 0}, mid2[] = {3.5f, 0};
    ert_tcn_step s;
    tr.t = 2;
    ASSERT_OK(ert_tcn_tracker_step(&tr, mid, 2, &s, &e_));
    CU_ASSERT_EQUAL(s.demo_index, 2);
    tr.t = 4;
    ASSERT_OK(ert_tcn_tracker_step(&tr, mid2, 2, &s, &e_));
    CU_ASSERT_EQUAL(s.demo_index, 4);
    /* Equally good before and after the time index: the earlier frame. */
    const float sym[] = {1, 0, 9, 9, 1, 0};
    ert_tcn_demo *d3;
    ASSERT_OK(ert_tcn_demo_from_array(sym, 3, 2, &d3, &e_));
    ASSERT_OK(ert_tcn_tracker_init(&tr, d3, &p, &e_));
    const float one[] = {1, 0};
    tr.t = 1;
    ASSERT_OK(ert_tcn_tracker_step(&tr, one, 2, &s, &e_));
    CU_ASSERT_EQUAL(s.time_index, 1);
    CU_ASSERT_EQUAL(s.demo_index, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.dist2, 0.0, 1e-12);
    ert_tcn_demo_free(d3);
    /* A window wider than the demo covers it all: the global nearest. */
    p.time_window = 300;
    ASSERT_OK(ert_tcn_tracker_init(&tr, d, &p, &e_));
    const float end[] = {5, 0};
    ASSERT_OK(ert_tcn_tracker_step(&tr, end, 2, &s, &e_));
    CU_ASSERT_EQUAL(s.demo_index, 5);
    CU_ASSERT_EQUAL(s.nearest, 5);
    ert_tcn_demo_free(d);
}

static void test_tcn_tracker_reset_and_params(void)
{
    const float emb[] = {0, 0, 1, 0};
    const float live[] = {1, 0};
    ert_tcn_demo *d;
    ASSERT_OK(ert_tcn_demo_from_array(emb, 2, 2, &d, &e_));
    ert_tcn_params p;
    ert_tcn_params_default(&p);
    p.alpha = 2;
    p.beta = 0;
    ert_tcn_tracker tr;
    ASSERT_OK(ert_tcn_tracker_init(&tr, d, &p, &e_));
    ert_tcn_step s;
    ASSERT_OK(ert_tcn_tracker_step(&tr, live, 2, &s, &e_));
    CU_ASSERT_DOUBLE_EQUAL(s.reward, -2.0, 1e-7); /* against demo frame 0 */
    ASSERT_OK(ert_tcn_tracker_step(&tr, live, 2, &s, &e_));
    CU_ASSERT_DOUBLE_EQUAL(s.reward, 0.0, 1e-7);
    ert_tcn_tracker_reset(&tr);
    ASSERT_OK(ert_tcn_tracker_step(&tr, live, 2, &s, &e_));
    CU_ASSERT_EQUAL(s.t, 0);
    CU_ASSERT_EQUAL(s.demo_index, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.reward, -2.0, 1e-7);
    ert_error e;
    p.gamma = -1;
    CU_ASSERT_EQUAL(ert_tcn_tracker_init(&tr, d, &p, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "ert_tcn_tracker_init", "gamma", NULL));
    ert_tcn_params_default(&p);
    p.time_window = ERT_TCN_MAX_TIME_WINDOW + 1;
    CU_ASSERT_EQUAL(ert_tcn_tracker_init(&tr, d, &p, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "ert_tcn_tracker_init", "time_window 301 is more than 300 frames", NULL));
    CU_ASSERT_EQUAL(ert_tcn_tracker_init(&tr, NULL, NULL, &e), ERT_EINVAL);
    ert_tcn_demo_free(d);
}

static void test_tcn_tracker_rejects_dim_mismatch_and_nan_without_advancing(void)
{
    const float emb[] = {0, 0, 1, 0};
    ert_tcn_demo *d;
    ASSERT_OK(ert_tcn_demo_from_array(emb, 2, 2, &d, &e_));
    ert_tcn_tracker tr;
    ASSERT_OK(ert_tcn_tracker_init(&tr, d, NULL, &e_));
    ert_tcn_step s;
    ert_error e;
    const float live3[] = {1, 0, 0}, nan_live[] = {NAN, 0};
    CU_ASSERT_EQUAL(ert_tcn_tracker_step(&tr, live3, 3, &s, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "3 floats", "have 2", NULL));
    CU_ASSERT_EQUAL(ert_tcn_tracker_step(&tr, nan_live, 2, &s, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "value 0 is not finite", NULL, NULL));
    CU_ASSERT_EQUAL(tr.t, 0);
    ert_tcn_tracker zero = {0};
    CU_ASSERT_EQUAL(ert_tcn_tracker_step(&zero, live3, 2, &s, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "not initialised", NULL, NULL));
    ert_tcn_demo_free(d);
}

/* ---------------------------------------------------------------- graphs for check() */

/* A graph with inputs and outputs only (check() reads no nodes). */
typedef struct io_spec {
    const char *name;
    ert_dtype dt;
    int rank;
    int64_t dims[5];
} io_spec;

static ert_graph *io_graph(const io_spec *in, size_t n_in, const io_spec *out, size_t n_out)
{
    ert_graph *g = ert_graph_new("test");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    g->inputs = calloc(n_in + 1, sizeof *g->inputs);
    g->outputs = calloc(n_out + 1, sizeof *g->outputs);
    CU_ASSERT_TRUE_FATAL(g->inputs && g->outputs);
    for (size_t i = 0; i < n_in + n_out; i++) {
        const io_spec *s = i < n_in ? &in[i] : &out[i - n_in];
        ert_shape sh = {.rank = s->rank};
        memcpy(sh.dims, s->dims, sizeof s->dims);
        uint32_t id;
        ASSERT_OK(ert_graph_add_tensor(g, s->name, s->dt, &sh, NULL, false, &id, &e_));
        if (i < n_in)
            g->inputs[g->n_inputs++] = id;
        else
            g->outputs[g->n_outputs++] = id;
    }
    return g;
}

static const io_spec IMAGE99 = {"image", ERT_DT_F32, 4, {1, 3, 99, 99}};
static const io_spec EMB32 = {"embedding", ERT_DT_F32, 2, {1, 32}};

static ert_status tcn_check(const io_spec *in, size_t n_in, const io_spec *out, size_t n_out,
                            const ert_family_param *prm, size_t n_prm, ert_error *e)
{
    ert_graph *g = io_graph(in, n_in, out, n_out);
    const ert_graph *graphs[] = {g};
    ert_status st = ert_family_tcn.check(graphs, prm, n_prm, e);
    ert_graph_free(g);
    return st;
}

static void test_tcn_check_accepts_the_reference_embedder(void)
{
    /* tcn_99 / tcn_l2_99: image [1,3,99,99] -> embedding [1,32]; extra outputs are fine. */
    io_spec outs[] = {{"softargmax", ERT_DT_F32, 2, {1, 1024}}, EMB32};
    double on = 1;
    ert_family_param prm[] = {num("l2_normalize", &on)};
    ASSERT_OK(tcn_check(&IMAGE99, 1, outs, 2, prm, 1, &e_));
}

static void test_tcn_check_rejects_contract_breaks_naming_role_and_tensor(void)
{
    ert_error e;
    const ert_graph *none[] = {NULL};
    CU_ASSERT_EQUAL(ert_family_tcn.check(none, NULL, 0, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "role 'embedder' is required", NULL, NULL));

    io_spec gray = {"image", ERT_DT_F32, 4, {1, 1, 99, 99}};
    CU_ASSERT_EQUAL(tcn_check(&gray, 1, &EMB32, 1, NULL, 0, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "'embedder'", "input 'image' must be an image float32 [1,3,H,W]", "got 1x1x99x99"));
    io_spec f64 = {"image", ERT_DT_F64, 4, {1, 3, 99, 99}};
    CU_ASSERT_EQUAL(tcn_check(&f64, 1, &EMB32, 1, NULL, 0, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "got float64 1x3x99x99", NULL, NULL));
    io_spec batch2 = {"image", ERT_DT_F32, 4, {2, 3, 99, 99}};
    CU_ASSERT_EQUAL(tcn_check(&batch2, 1, &EMB32, 1, NULL, 0, &e), ERT_EINVAL);
    io_spec two[] = {IMAGE99, {"extra", ERT_DT_F32, 2, {1, 4}}};
    CU_ASSERT_EQUAL(tcn_check(two, 2, &EMB32, 1, NULL, 0, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "exactly one input, it has 2", NULL, NULL));

    io_spec other = {"vector", ERT_DT_F32, 2, {1, 32}};
    CU_ASSERT_EQUAL(tcn_check(&IMAGE99, 1, &other, 1, NULL, 0, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "no output 'embedding'", "(outputs: 'vector')", NULL));
    io_spec rank3 = {"embedding", ERT_DT_F32, 3, {1, 32, 1}};
    CU_ASSERT_EQUAL(tcn_check(&IMAGE99, 1, &rank3, 1, NULL, 0, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "output 'embedding' must be float32 [1,...] of rank 2", "got 1x32x1", NULL));
    io_spec zero = {"embedding", ERT_DT_F32, 2, {1, 0}};
    CU_ASSERT_EQUAL(tcn_check(&IMAGE99, 1, &zero, 1, NULL, 0, &e), ERT_EINVAL);

    double neg = -1;
    ert_family_param prm[] = {num("beta", &neg)};
    CU_ASSERT_EQUAL(tcn_check(&IMAGE99, 1, &EMB32, 1, prm, 1, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "tcn parameter 'beta'", NULL, NULL));
}

/* ---------------------------------------------------------------- mftcn parameters */

static void test_mftcn_params_default_and_parse(void)
{
    ert_mftcn_params p;
    ert_mftcn_params_default(&p);
    CU_ASSERT_EQUAL(p.window, 2);
    CU_ASSERT_EQUAL(p.stride, 15);
    const ert_family_param_def *d = ert_family_mftcn.params;
    CU_ASSERT_STRING_EQUAL(d[0].key, "window");
    CU_ASSERT_EQUAL(d[0].value, 2.0);
    CU_ASSERT_STRING_EQUAL(d[1].key, "stride");
    CU_ASSERT_EQUAL(d[1].value, 15.0);
    CU_ASSERT_STRING_EQUAL(d[2].key, "time_window");
    CU_ASSERT_EQUAL(d[2].value, 0.0);
    CU_ASSERT_PTR_NULL(d[3].key);
    CU_ASSERT_STRING_EQUAL(ert_family_mftcn.roles[0].role, "trunk");
    CU_ASSERT_STRING_EQUAL(ert_family_mftcn.roles[1].role, "head");

    double w = 3, s = 4, other = 0.5;
    ert_family_param prm[] = {num("window", &w), num("stride", &s), num("unrelated", &other)};
    ASSERT_OK(ert_mftcn_params_parse(prm, 3, &p, &e_));
    CU_ASSERT_EQUAL(p.window, 3);
    CU_ASSERT_EQUAL(p.stride, 4);
    /* A one-frame window: any stride, span 1. */
    double one = 1, big = 1e9;
    ert_family_param single[] = {num("window", &one), num("stride", &big)};
    ASSERT_OK(ert_mftcn_params_parse(single, 2, &p, &e_));
    CU_ASSERT_EQUAL(p.stride, 1000000000u);
}

static void test_mftcn_params_parse_rejects_bad_values(void)
{
    struct {
        const char *key;
        double v;
        const char *frag;
    } bad[] = {
        {"window", 0, "'window': 0 is not a whole number >= 1"},
        {"window", 1.5, "'window': 1.5 is not a whole number"},
        {"stride", -2, "'stride': -2"},
        {"stride", NAN, "'stride'"},
        {"window", 65, "window 65 is not in 1..64"},
        {"stride", 4096, "window 2 with stride 4096 spans 4097 frames, more than 4096"},
        {"window", 4294967296.0, "'window'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ert_family_param prm = num(bad[i].key, &bad[i].v);
        ert_mftcn_params p;
        ert_error e;
        CU_ASSERT_EQUAL(ert_mftcn_params_parse(&prm, 1, &p, &e), ERT_EINVAL);
        CU_ASSERT_TRUE(mentions(&e, "mftcn", bad[i].frag, NULL));
    }
    ert_family_param text = {"stride", "fast", NULL, 0};
    ert_mftcn_params p;
    ert_error e;
    CU_ASSERT_EQUAL(ert_mftcn_params_parse(&text, 1, &p, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "'stride': expected a number, got text 'fast'", NULL, NULL));
}

/* ---------------------------------------------------------------- causal window */

static void test_mftcn_window_indices_clamp_at_episode_start(void)
{
    /* tcn_math.py "window" (agrees with models/mftcn/reference/mftcn.py). */
    struct {
        uint32_t n, s;
        int64_t t;
        int64_t want[4];
    } cases[] = {
        {2, 15, 0, {0, 0}},        {2, 15, 1, {0, 1}},          {2, 15, 14, {0, 14}},       {2, 15, 15, {0, 15}},
        {2, 15, 16, {1, 16}},      {2, 15, 100, {85, 100}},     {3, 4, 0, {0, 0, 0}},       {3, 4, 3, {0, 0, 3}},
        {3, 4, 4, {0, 0, 4}},      {3, 4, 8, {0, 4, 8}},        {3, 4, 14, {6, 10, 14}},    {1, 7, 0, {0}},
        {1, 7, 45, {45}},          {4, 1, 1, {0, 0, 0, 1}},     {4, 1, 3, {0, 1, 2, 3}},    {4, 1, 4, {1, 2, 3, 4}},
        {4, 1, 100, {97, 98, 99, 100}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t out[4] = {-1, -1, -1, -1};
        ASSERT_OK(ert_mftcn_window_indices(cases[i].t, cases[i].n, cases[i].s, out, &e_));
        for (uint32_t k = 0; k < cases[i].n; k++)
            CU_ASSERT_EQUAL(out[k], cases[i].want[k]);
        if (cases[i].n < 4)
            CU_ASSERT_EQUAL(out[cases[i].n], -1); /* writes exactly n */
    }
}

static void test_mftcn_window_indices_extremes_and_bad_args(void)
{
    int64_t out[64];
    /* The largest offsets do not overflow: 63 * (2^32 - 1) back from INT64_MAX. */
    ASSERT_OK(ert_mftcn_window_indices(INT64_MAX, 64, UINT32_MAX, out, &e_));
    CU_ASSERT_EQUAL(out[63], INT64_MAX);
    CU_ASSERT_EQUAL(out[0], INT64_MAX - (int64_t)63 * UINT32_MAX);
    ASSERT_OK(ert_mftcn_window_indices(5, 64, UINT32_MAX, out, &e_));
    CU_ASSERT_EQUAL(out[0], 0);
    CU_ASSERT_EQUAL(out[62], 0);
    CU_ASSERT_EQUAL(out[63], 5);
    ert_error e;
    CU_ASSERT_EQUAL(ert_mftcn_window_indices(-1, 2, 15, out, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "negative frame index", NULL, NULL));
    CU_ASSERT_EQUAL(ert_mftcn_window_indices(3, 0, 15, out, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_mftcn_window_indices(3, 2, 0, out, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_mftcn_window_indices(3, 2, 15, NULL, &e), ERT_EINVAL);
}

/* ---------------------------------------------------------------- feature ring */

/* tcn_math.py "stack": frame f's map [C=2][HW=3] holds 100 f + 10 c + j. */
static void frame_map(int f, float *m)
{
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 3; j++)
            m[c * 3 + j] = (float)(100 * f + 10 * c + j);
}

static void push_frames(ert_mftcn_ring *r, int from, int to)
{
    float m[6];
    for (int f = from; f < to; f++) {
        frame_map(f, m);
        ASSERT_OK(ert_mftcn_ring_push(r, m, &e_));
    }
}

static void test_mftcn_ring_stacks_oldest_first_with_clamping(void)
{
    ert_mftcn_ring *r;
    ASSERT_OK(ert_mftcn_ring_create(3, 2, 2, 3, &r, &e_));
    CU_ASSERT_EQUAL(ert_mftcn_ring_span(r), 5);
    /* tcn_math.py "stack" n=3 s=2 at newest = 0, 3, 4, 11. */
    const float want0[] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 10, 11, 12, 10, 11, 12, 10, 11, 12};
    const float want3[] = {0, 1, 2, 100, 101, 102, 300, 301, 302, 10, 11, 12, 110, 111, 112, 310, 311, 312};
    const float want4[] = {0, 1, 2, 200, 201, 202, 400, 401, 402, 10, 11, 12, 210, 211, 212, 410, 411, 412};
    const float want11[] = {700, 701, 702, 900, 901, 902, 1100, 1101, 1102,
                            710, 711, 712, 910, 911, 912, 1110, 1111, 1112};
    float out[18];
    push_frames(r, 0, 1);
    ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
    CU_ASSERT_EQUAL(memcmp(out, want0, sizeof out), 0);
    push_frames(r, 1, 4);
    ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
    CU_ASSERT_EQUAL(memcmp(out, want3, sizeof out), 0);
    push_frames(r, 4, 5);
    ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
    CU_ASSERT_EQUAL(memcmp(out, want4, sizeof out), 0);
    push_frames(r, 5, 12);
    CU_ASSERT_EQUAL(ert_mftcn_ring_frames(r), 12);
    ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
    CU_ASSERT_EQUAL(memcmp(out, want11, sizeof out), 0);
    ert_mftcn_ring_free(r);

    /* n = 1: the newest map alone. */
    ASSERT_OK(ert_mftcn_ring_create(1, 5, 2, 3, &r, &e_));
    CU_ASSERT_EQUAL(ert_mftcn_ring_span(r), 1);
    push_frames(r, 0, 7);
    const float want_n1[] = {600, 601, 602, 610, 611, 612};
    ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
    CU_ASSERT_EQUAL(memcmp(out, want_n1, sizeof want_n1), 0);
    ert_mftcn_ring_free(r);
}

static void test_mftcn_ring_long_episodes_match_naive_window(void)
{
    const uint32_t ns[][2] = {{2, 15}, {4, 1}, {3, 7}, {5, 3}};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        uint32_t n = ns[k][0], s = ns[k][1];
        ert_mftcn_ring *r;
        ASSERT_OK(ert_mftcn_ring_create(n, s, 2, 3, &r, &e_));
        CU_ASSERT_EQUAL(ert_mftcn_ring_span(r), (size_t)(n - 1) * s + 1);
        for (int t = 0; t < 120; t++) {
            push_frames(r, t, t + 1);
            float out[5 * 6], m[6];
            int64_t idx[5];
            ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
            ASSERT_OK(ert_mftcn_window_indices(t, n, s, idx, &e_));
            int ok = 1;
            for (uint32_t i = 0; i < n; i++) {
                frame_map((int)idx[i], m);
                for (int c = 0; c < 2; c++)
                    ok &= memcmp(out + (c * n + i) * 3, m + c * 3, 3 * sizeof(float)) == 0;
            }
            CU_ASSERT_TRUE(ok);
        }
        ert_mftcn_ring_free(r);
    }
}

static void test_mftcn_ring_reset_starts_a_new_episode(void)
{
    ert_mftcn_ring *r;
    ASSERT_OK(ert_mftcn_ring_create(2, 15, 2, 3, &r, &e_));
    push_frames(r, 0, 40);
    ert_mftcn_ring_reset(r);
    CU_ASSERT_EQUAL(ert_mftcn_ring_frames(r), 0);
    float out[12];
    ert_error e;
    CU_ASSERT_EQUAL(ert_mftcn_ring_stack(r, out, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "no frame pushed since the episode start", NULL, NULL));
    /* The first frame of the new episode fills the whole window (clamped), not stale maps. */
    push_frames(r, 7, 8);
    ASSERT_OK(ert_mftcn_ring_stack(r, out, &e_));
    const float want[] = {700, 701, 702, 700, 701, 702, 710, 711, 712, 710, 711, 712};
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
    ert_mftcn_ring_free(r);
}

static void test_mftcn_ring_reproduces_the_reference_head_input(void)
{
    /* mftcn_head_n2's input is two trunk maps stacked on dim 2, the newest (index 1) being
     * mftcn_trunk_64's output: frame 0 = input[:, :, 0], frame 15 = trunk output. */
    ert_npy head_in, trunk_out;
    ASSERT_OK(ert_npy_read(ert_test_fixture("models/mftcn_head_n2/input_features.npy"), &head_in, &e_));
    ASSERT_OK(ert_npy_read(ert_test_fixture("models/mftcn_trunk_64/output_features.npy"), &trunk_out, &e_));
    CU_ASSERT_EQUAL_FATAL(head_in.shape.rank, 5);
    size_t c = (size_t)head_in.shape.dims[1], hw = (size_t)(head_in.shape.dims[3] * head_in.shape.dims[4]);
    CU_ASSERT_EQUAL_FATAL(head_in.shape.dims[2], 2);
    CU_ASSERT_EQUAL_FATAL(trunk_out.nbytes, c * hw * sizeof(float));
    const float *hi = head_in.data;
    float *frame0 = malloc(c * hw * sizeof(float)), *junk = malloc(c * hw * sizeof(float));
    float *stacked = malloc(head_in.nbytes);
    CU_ASSERT_TRUE_FATAL(frame0 && junk && stacked);
    for (size_t ci = 0; ci < c; ci++)
        memcpy(frame0 + ci * hw, hi + (ci * 2 + 0) * hw, hw * sizeof(float));
    ert_mftcn_ring *r;
    ASSERT_OK(ert_mftcn_ring_create(2, 15, c, hw, &r, &e_));
    ASSERT_OK(ert_mftcn_ring_push(r, frame0, &e_));
    for (int f = 1; f < 15; f++) {
        for (size_t i = 0; i < c * hw; i++)
            junk[i] = -(float)f;
        ASSERT_OK(ert_mftcn_ring_push(r, junk, &e_));
    }
    ASSERT_OK(ert_mftcn_ring_push(r, trunk_out.data, &e_));
    ASSERT_OK(ert_mftcn_ring_stack(r, stacked, &e_));
    CU_ASSERT_EQUAL(memcmp(stacked, head_in.data, head_in.nbytes), 0);
    ert_mftcn_ring_free(r);
    free(frame0);
    free(junk);
    free(stacked);
    ert_npy_free(&head_in);
    ert_npy_free(&trunk_out);
}

static void test_mftcn_ring_create_rejects_bad_sizes(void)
{
    ert_mftcn_ring *r = (ert_mftcn_ring *)1;
    ert_error e;
    CU_ASSERT_EQUAL(ert_mftcn_ring_create(0, 15, 2, 3, &r, &e), ERT_EINVAL);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(ert_mftcn_ring_create(2, 0, 2, 3, &r, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_mftcn_ring_create(2, 15, 0, 3, &r, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "empty features", NULL, NULL));
    CU_ASSERT_EQUAL(ert_mftcn_ring_create(2, 15, SIZE_MAX / 8, 4, &r, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "overflow", NULL, NULL));
    CU_ASSERT_EQUAL(ert_mftcn_ring_create(65, 1, 2, 3, &r, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_mftcn_ring_push(NULL, NULL, &e), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_mftcn_ring_stack(NULL, NULL, &e), ERT_EINVAL);
    ert_mftcn_ring_free(NULL);
}

/* ---------------------------------------------------------------- mftcn check() */

static const io_spec IMAGE64 = {"image", ERT_DT_F32, 4, {1, 3, 64, 64}};
static const io_spec FEATURES = {"features", ERT_DT_F32, 4, {1, 128, 4, 4}};
static const io_spec EMB128 = {"embedding", ERT_DT_F32, 2, {1, 128}};

static ert_status mftcn_check(const io_spec *trunk_out, const io_spec *head_in, const ert_family_param *prm,
                              size_t n_prm, bool with_head, ert_error *e)
{
    ert_graph *trunk = io_graph(&IMAGE64, 1, trunk_out, 1);
    ert_graph *head = io_graph(head_in, 1, &EMB128, 1);
    const ert_graph *graphs[] = {trunk, with_head ? head : NULL};
    ert_status st = ert_family_mftcn.check(graphs, prm, n_prm, e);
    ert_graph_free(trunk);
    ert_graph_free(head);
    return st;
}

static void test_mftcn_check_accepts_the_reference_trunk_and_head(void)
{
    /* mftcn_trunk_64 and mftcn_head_n2 with the default window 2. */
    io_spec head_in = {"features", ERT_DT_F32, 5, {1, 128, 2, 4, 4}};
    ASSERT_OK(mftcn_check(&FEATURES, &head_in, NULL, 0, true, &e_));
    io_spec head3 = {"features", ERT_DT_F32, 5, {1, 128, 3, 4, 4}};
    double w = 3;
    ert_family_param prm[] = {num("window", &w)};
    ASSERT_OK(mftcn_check(&FEATURES, &head3, prm, 1, true, &e_));
}

static void test_mftcn_check_rejects_mismatches_naming_role_tensor_and_shapes(void)
{
    ert_error e;
    io_spec head2 = {"features", ERT_DT_F32, 5, {1, 128, 2, 4, 4}};
    double w = 3;
    ert_family_param prm[] = {num("window", &w)};
    CU_ASSERT_EQUAL(mftcn_check(&FEATURES, &head2, prm, 1, true, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "role 'head': input 'features' stacks 2 frames", "parameter 'window' is 3",
                            "needs [1,128,3,4,4]"));

    io_spec head_c = {"features", ERT_DT_F32, 5, {1, 64, 2, 4, 4}};
    CU_ASSERT_EQUAL(mftcn_check(&FEATURES, &head_c, NULL, 0, true, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "must be 1x128x2x4x4", "trunk features 1x128x4x4", "got 1x64x2x4x4"));

    io_spec head_r4 = {"features", ERT_DT_F32, 4, {1, 128, 4, 4}};
    CU_ASSERT_EQUAL(mftcn_check(&FEATURES, &head_r4, NULL, 0, true, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "role 'head': input 'features' must be float32 of rank 5", NULL, NULL));

    io_spec spatial = {"spatial", ERT_DT_F32, 4, {1, 128, 4, 4}};
    CU_ASSERT_EQUAL(mftcn_check(&spatial, &head2, NULL, 0, true, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "role 'trunk': the graph has no output 'features'", "'spatial'", NULL));

    io_spec flat = {"features", ERT_DT_F32, 2, {1, 2048}};
    CU_ASSERT_EQUAL(mftcn_check(&flat, &head2, NULL, 0, true, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "role 'trunk': output 'features' must be float32 [1,...] of rank 4", NULL, NULL));

    CU_ASSERT_EQUAL(mftcn_check(&FEATURES, &head2, NULL, 0, false, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "role 'head' is required", NULL, NULL));

    double s = 0;
    ert_family_param bad[] = {num("stride", &s)};
    CU_ASSERT_EQUAL(mftcn_check(&FEATURES, &head2, bad, 1, true, &e), ERT_EINVAL);
    CU_ASSERT_TRUE(mentions(&e, "mftcn parameter 'stride'", NULL, NULL));
}

/* Model layers on tiny family blobs: test_tcn_model.c. */
void test_tcn_model_embeds_frames_with_the_blob_parameters(void);
void test_tcn_model_demo_from_video_and_tracker(void);
void test_mftcn_model_push_embeds_the_causal_window(void);

static const ert_test_case cases[] = {
    ERT_TEST(test_tcn_params_default_are_literature_values),
    ERT_TEST(test_tcn_params_parse_overrides_and_ignores_unknown_keys),
    ERT_TEST(test_tcn_params_parse_rejects_bad_values_naming_the_key),
    ERT_TEST(test_tcn_reward_matches_numpy),
    ERT_TEST(test_tcn_reward_identical_embeddings_is_minus_beta_sqrt_gamma),
    ERT_TEST(test_tcn_reward_edge_cases_are_defined),
    ERT_TEST(test_tcn_nearest_matches_numpy),
    ERT_TEST(test_tcn_nearest_ties_go_to_lowest_index),
    ERT_TEST(test_tcn_nearest_single_frame_demo),
    ERT_TEST(test_tcn_nearest_nan_rows_never_win),
    ERT_TEST(test_tcn_nearest_rejects_empty_null_and_overflow),
    ERT_TEST(test_tcn_alignment_error_matches_numpy),
    ERT_TEST(test_tcn_l2_normalize_matches_numpy),
    ERT_TEST(test_tcn_l2_normalize_zero_tiny_and_nan),
    ERT_TEST(test_tcn_demo_from_array_copies_and_checks),
    ERT_TEST(test_tcn_demo_npy_loads_float32_2d_and_round_trips),
    ERT_TEST(test_tcn_demo_npy_rejects_bad_files_naming_them),
    ERT_TEST(test_tcn_tracker_time_index_clamps_to_last_demo_frame),
    ERT_TEST(test_tcn_tracker_time_window_forgives_tempo),
    ERT_TEST(test_tcn_tracker_reset_and_params),
    ERT_TEST(test_tcn_tracker_rejects_dim_mismatch_and_nan_without_advancing),
    ERT_TEST(test_tcn_check_accepts_the_reference_embedder),
    ERT_TEST(test_tcn_check_rejects_contract_breaks_naming_role_and_tensor),
    ERT_TEST(test_mftcn_params_default_and_parse),
    ERT_TEST(test_mftcn_params_parse_rejects_bad_values),
    ERT_TEST(test_mftcn_window_indices_clamp_at_episode_start),
    ERT_TEST(test_mftcn_window_indices_extremes_and_bad_args),
    ERT_TEST(test_mftcn_ring_stacks_oldest_first_with_clamping),
    ERT_TEST(test_mftcn_ring_long_episodes_match_naive_window),
    ERT_TEST(test_mftcn_ring_reset_starts_a_new_episode),
    ERT_TEST(test_mftcn_ring_reproduces_the_reference_head_input),
    ERT_TEST(test_mftcn_ring_create_rejects_bad_sizes),
    ERT_TEST(test_mftcn_check_accepts_the_reference_trunk_and_head),
    ERT_TEST(test_mftcn_check_rejects_mismatches_naming_role_tensor_and_shapes),
    ERT_TEST(test_tcn_model_embeds_frames_with_the_blob_parameters),
    ERT_TEST(test_tcn_model_demo_from_video_and_tracker),
    ERT_TEST(test_mftcn_model_push_embeds_the_causal_window),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_tcn = {"tcn", cases};
