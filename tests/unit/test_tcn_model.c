/* Unit tests (suite "tcn"): the tcn and mftcn model layers on tiny family blobs built
 * here (Flatten + MatMul heads), checked against the same linear maps computed naively. */
#include "family_params.h"
#include "op_util.h"

#include "embedrt/blob.h"
#include "embedrt/image.h"
#include "embedrt/mftcn.h"
#include "embedrt/plan.h"
#include "embedrt/tcn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OK(expr)                                                                                                       \
    do {                                                                                                               \
        ert_error e_;                                                                                                  \
        ert_error_clear(&e_);                                                                                          \
        ert_status s_ = (expr);                                                                                        \
        if (s_ != ERT_OK)                                                                                              \
            fprintf(stderr, "\n  %s: %s\n", #expr, e_.msg);                                                           \
        CU_ASSERT_EQUAL_FATAL(s_, ERT_OK);                                                                             \
    } while (0)

#define SIDE 2 /* frames and graph inputs are 2x2 RGB */
#define PIX (SIDE * SIDE)

/* ---------------------------------------------------------------- blob building */

static void add_node(ert_graph *g, const char *op, const uint32_t *in, uint32_t n_in, uint32_t out, ert_attr *attrs,
                     size_t n_attrs)
{
    uint32_t node;
    OK(ert_graph_add_node(g, op, op, in, n_in, &out, 1, &node, &e_));
    ert_attrs a = {attrs, n_attrs};
    OK(ert_node_parse(g, node, &a, 13, &e_));
    OK(g->nodes[node].def->infer(g, &g->nodes[node], &e_));
}

static void set_io(ert_graph *g, uint32_t in, uint32_t out)
{
    g->inputs = malloc(sizeof *g->inputs);
    g->outputs = malloc(sizeof *g->outputs);
    CU_ASSERT_TRUE_FATAL(g->inputs && g->outputs);
    g->inputs[0] = in;
    g->outputs[0] = out;
    g->n_inputs = g->n_outputs = 1;
}

/* x [in_shape] -> Flatten -> MatMul(w [k, d]) -> out_name [1, d]. */
static ert_graph *linear_graph(const char *in_name, int rank, const int64_t *dims, const float *w, int64_t d,
                               const char *out_name)
{
    ert_graph *g = ert_graph_new("linear");
    ert_shape s = {.rank = rank};
    int64_t k = 1;
    for (int i = 0; i < rank; i++)
        k *= (s.dims[i] = dims[i]);
    uint32_t x;
    OK(ert_graph_add_tensor(g, in_name, ERT_DT_F32, &s, NULL, false, &x, &e_));
    uint32_t wt = tu_f32(g, "w", w, 2, (const int64_t[]){k, d});
    uint32_t flat = tu_out(g, "flat"), out = tu_out(g, out_name);
    ert_attr axis = tu_attr_int("axis", 1);
    add_node(g, "Flatten", &x, 1, flat, &axis, 1);
    add_node(g, "MatMul", (const uint32_t[]){flat, wt}, 2, out, NULL, 0);
    set_io(g, x, out);
    return g;
}

/* image [1,3,2,2] -> Relu -> "features" [1,3,2,2] (the identity on preprocessed pixels). */
static ert_graph *relu_trunk(void)
{
    ert_graph *g = ert_graph_new("trunk");
    ert_shape s = {.rank = 4, .dims = {1, 3, SIDE, SIDE}};
    uint32_t x, f = tu_out(g, "features");
    OK(ert_graph_add_tensor(g, "image", ERT_DT_F32, &s, NULL, false, &x, &e_));
    add_node(g, "Relu", &x, 1, f, NULL, 0);
    set_io(g, x, f);
    return g;
}

static char tmp_dir[64];
static const char *tmp_path(const char *name)
{
    static char path[128];
    if (!tmp_dir[0]) {
        strcpy(tmp_dir, "/tmp/ert-tcnm-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmp_dir));
    }
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

static void cleanup(void)
{
    const char *names[] = {"tcn.erb", "mftcn.erb", "demo.y4m", "demo.npy"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmp_dir);
    tmp_dir[0] = 0;
}

/* Plans the graphs, writes a family blob with the family's defaults overridden by
 * keys/values, frees the graphs and loads the blob. */
static ert_family_model *family_blob(const char *file, const char *family, ert_graph **graphs, const char **roles,
                                     uint32_t n, const char **keys, const double *values, size_t n_values)
{
    ert_family_param_set ps = {0};
    const ert_family_desc *desc = ert_family_find(family);
    CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
    OK(ert_family_params_defaults(&ps, desc, &e_));
    for (size_t i = 0; i < n_values; i++)
        OK(ert_family_params_set(&ps, keys[i], NULL, &values[i], 1, &e_));
    OK(desc->check((const ert_graph *const *)graphs, ps.v, ps.n, &e_));
    void *fam = NULL;
    size_t fam_len = 0;
    OK(ert_family_params_encode(&ps, family, &fam, &fam_len, &e_));
    for (uint32_t i = 0; i < n; i++)
        OK(ert_plan_graph(graphs[i], &e_));
    ert_blob_extra_section extra = {.name = "family", .data = fam, .size = fam_len};
    ert_blob_write_opts wo = {.family = family, .roles = roles, .extra = &extra, .n_extra = 1};
    const char *path = tmp_path(file);
    OK(ert_blob_write(path, graphs, n, &wo, &e_));
    free(fam);
    ert_family_params_free(&ps);
    for (uint32_t i = 0; i < n; i++)
        ert_graph_free(graphs[i]);
    ert_family_model *fm = NULL;
    OK(ert_family_load(path, NULL, &fm, &e_));
    return fm;
}

/* A 2x2 RGB24 frame whose bytes are seed + 17 * i (mod 256). */
typedef struct test_frame {
    uint8_t px[PIX * 3];
    ert_frame f;
} test_frame;

static void make_frame(test_frame *tf, int seed)
{
    for (int i = 0; i < PIX * 3; i++)
        tf->px[i] = (uint8_t)((seed + 17 * i) & 255);
    memset(&tf->f, 0, sizeof tf->f);
    tf->f.format = ERT_PIX_RGB24;
    tf->f.width = tf->f.height = SIDE;
    tf->f.stride[0] = SIDE * 3;
    tf->f.plane[0] = tf->px;
}

/* The default recipe: planar [c][y][x] of pixel / 255. */
static void preprocessed(const ert_frame *f, float *chw)
{
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++)
                chw[c * PIX + y * SIDE + x] = f->plane[0][y * f->stride[0] + x * 3 + c] / 255.0f;
}

static void matvec(const float *x, const float *w, size_t k, size_t d, float *out)
{
    for (size_t j = 0; j < d; j++) {
        double s = 0;
        for (size_t i = 0; i < k; i++)
            s += (double)x[i] * w[i * d + j];
        out[j] = (float)s;
    }
}

static int close_to(const float *got, const float *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol * (1 + fabs((double)want[i])))) {
            fprintf(stderr, "\n  [%zu] got %.9g want %.9g\n", i, (double)got[i], (double)want[i]);
            return 0;
        }
    return 1;
}

/* ---------------------------------------------------------------- tcn */

#define TCN_D 3
static float tcn_w[3 * PIX * TCN_D];

static ert_family_model *tcn_blob(bool l2)
{
    for (size_t i = 0; i < sizeof tcn_w / sizeof tcn_w[0]; i++)
        tcn_w[i] = (float)((int)(i * 7 % 11) - 5) * 0.25f;
    ert_graph *g = linear_graph("image", 4, (const int64_t[]){1, 3, SIDE, SIDE}, tcn_w, TCN_D, "embedding");
    const char *roles[] = {"embedder"};
    const char *keys[] = {"l2_normalize", "alpha"};
    const double values[] = {1, 2};
    return family_blob("tcn.erb", "tcn", &g, roles, 1, keys, values, l2 ? 2 : 0);
}

static void tcn_expected(const ert_frame *f, float *out)
{
    float chw[3 * PIX];
    /* Video frames are YUV: the expectation starts from the RGB the library converts to. */
    test_frame rgb;
    make_frame(&rgb, 0);
    OK(ert_frame_to_rgb(f, rgb.px, &e_));
    preprocessed(&rgb.f, chw);
    matvec(chw, tcn_w, 3 * PIX, TCN_D, out);
}

void test_tcn_model_embeds_frames_with_the_blob_parameters(void);
void test_tcn_model_embeds_frames_with_the_blob_parameters(void)
{
    ert_family_model *fm = tcn_blob(true);
    ert_tcn *m;
    OK(ert_tcn_create(fm, &m, &e_));
    CU_ASSERT_EQUAL(ert_tcn_dim(m), TCN_D);
    const ert_tcn_params *bp = ert_tcn_blob_params(m);
    CU_ASSERT_TRUE(bp->l2_normalize);
    CU_ASSERT_EQUAL(bp->alpha, 2.0f);
    CU_ASSERT_EQUAL(bp->l2_scale, 10.0f);
    test_frame tf;
    make_frame(&tf, 5);
    float got[TCN_D], want[TCN_D];
    tcn_expected(&tf.f, want);
    /* Explicit parameters without normalisation: the graph's output as is. */
    ert_tcn_params raw;
    ert_tcn_params_default(&raw);
    OK(ert_tcn_embed(m, &raw, &tf.f, got, &e_));
    CU_ASSERT_TRUE(close_to(got, want, TCN_D, 1e-5));
    /* The blob's parameters: normalised, times 10. */
    OK(ert_tcn_embed(m, NULL, &tf.f, got, &e_));
    ert_tcn_l2_normalize(want, TCN_D, 10.0f);
    CU_ASSERT_TRUE(close_to(got, want, TCN_D, 1e-5));
    double n2 = 0;
    for (int i = 0; i < TCN_D; i++)
        n2 += (double)got[i] * got[i];
    CU_ASSERT_DOUBLE_EQUAL(sqrt(n2), 10.0, 1e-4);
    /* A frame of the wrong size fails and names the role. */
    ert_frame big = tf.f;
    big.width = 3;
    uint8_t px[3 * 2 * 3] = {0};
    big.plane[0] = px;
    big.stride[0] = 9;
    ert_error e;
    CU_ASSERT_NOT_EQUAL(ert_tcn_embed(m, NULL, &big, got, &e), ERT_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "embedder"));
    ert_tcn_free(m);
    ert_family_free(fm);
    cleanup();
}

void test_tcn_model_demo_from_video_and_tracker(void);
void test_tcn_model_demo_from_video_and_tracker(void)
{
    ert_family_model *fm = tcn_blob(false);
    ert_tcn *m;
    OK(ert_tcn_create(fm, &m, &e_));
    /* A 3-frame demo video. */
    ert_y4m_writer *w;
    OK(ert_y4m_create(tmp_path("demo.y4m"), SIDE, SIDE, 30, 1, &w, &e_));
    for (int k = 0; k < 3; k++) {
        test_frame tf;
        make_frame(&tf, 40 * k);
        OK(ert_y4m_write(w, &tf.f, &e_));
    }
    OK(ert_y4m_finish(w, &e_));
    ert_tcn_demo *demo;
    OK(ert_tcn_demo_from_video(m, NULL, tmp_path("demo.y4m"), &demo, &e_));
    CU_ASSERT_EQUAL_FATAL(ert_tcn_demo_length(demo), 3);
    CU_ASSERT_EQUAL(ert_tcn_demo_dim(demo), TCN_D);
    /* Row k is the embedding of the video's frame k (as the reader decodes it). */
    ert_y4m *y;
    OK(ert_y4m_open(tmp_path("demo.y4m"), &y, &e_));
    float frames[3][TCN_D];
    for (int k = 0; k < 3; k++) {
        ert_frame f;
        bool eof;
        OK(ert_y4m_next(y, &f, &eof, &e_));
        CU_ASSERT_FALSE_FATAL(eof);
        float want[TCN_D];
        tcn_expected(&f, want);
        CU_ASSERT_TRUE(close_to(ert_tcn_demo_frame(demo, (size_t)k), want, TCN_D, 1e-5));
        OK(ert_tcn_embed(m, NULL, &f, frames[k], &e_));
    }
    /* The npy round trip gives the same demo. */
    ert_tcn_demo *again;
    OK(ert_tcn_demo_write_npy(demo, tmp_path("demo.npy"), &e_));
    OK(ert_tcn_demo_load_npy(tmp_path("demo.npy"), ert_tcn_dim(m), &again, &e_));
    CU_ASSERT_EQUAL(memcmp(ert_tcn_demo_frame(again, 0), ert_tcn_demo_frame(demo, 0), 3 * TCN_D * sizeof(float)), 0);
    ert_tcn_demo_free(again);
    /* Live = the demo video replayed, then one more frame: rewards against demo[t] (the
     * last frame at t = 3), nearest frame t. */
    OK(ert_y4m_rewind(y, &e_));
    ert_tcn_tracker tr;
    OK(ert_tcn_tracker_init(&tr, demo, ert_tcn_blob_params(m), &e_));
    for (int t = 0; t < 4; t++) {
        ert_frame f;
        bool eof;
        if (t == 3)
            OK(ert_y4m_rewind(y, &e_)); /* frame 0 again */
        OK(ert_y4m_next(y, &f, &eof, &e_));
        ert_tcn_step s;
        OK(ert_tcn_step_frame(m, &tr, &f, &s, &e_));
        CU_ASSERT_EQUAL(s.t, (uint64_t)t);
        CU_ASSERT_EQUAL(s.demo_index, t < 3 ? (size_t)t : 2);
        float d2;
        float want = ert_tcn_imitation_reward(ert_tcn_demo_frame(demo, s.demo_index), frames[t < 3 ? t : 0], TCN_D,
                                              &tr.params, &d2);
        CU_ASSERT_DOUBLE_EQUAL(s.reward, want, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(s.dist2, d2, 1e-6);
        CU_ASSERT_EQUAL(s.nearest, t < 3 ? (size_t)t : 0);
    }
    ert_y4m_close(y);
    /* Errors name the file. */
    ert_tcn_demo *none = (ert_tcn_demo *)1;
    ert_error e;
    CU_ASSERT_NOT_EQUAL(ert_tcn_demo_from_video(m, NULL, tmp_path("missing.y4m"), &none, &e), ERT_OK);
    CU_ASSERT_PTR_NULL(none);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "missing.y4m"));
    ert_tcn_demo_free(demo);
    ert_tcn_free(m);
    ert_family_free(fm);
    cleanup();
}

/* ---------------------------------------------------------------- mftcn */

#define MF_D 2
#define MF_N 2
static float mf_w[3 * MF_N * PIX * MF_D];

static ert_family_model *mftcn_blob(void)
{
    for (size_t i = 0; i < sizeof mf_w / sizeof mf_w[0]; i++)
        mf_w[i] = (float)((int)(i * 5 % 13) - 6) * 0.125f;
    ert_graph *g[2] = {relu_trunk(), linear_graph("stacked", 5, (const int64_t[]){1, 3, MF_N, SIDE, SIDE}, mf_w,
                                                  MF_D, "embedding")};
    const char *roles[] = {"trunk", "head"};
    const char *keys[] = {"stride"};
    const double values[] = {2};
    return family_blob("mftcn.erb", "mftcn", g, roles, 2, keys, values, 1);
}

/* The head's output for the window of frames[idx[0..n)]: [c][k][pixel] stacking. */
static void mftcn_expected(const test_frame *frames, const int64_t *idx, float *out)
{
    float maps[MF_N][3 * PIX], stacked[3 * MF_N * PIX];
    for (int k = 0; k < MF_N; k++)
        preprocessed(&frames[idx[k]].f, maps[k]);
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < MF_N; k++)
            memcpy(stacked + (c * MF_N + k) * PIX, maps[k] + c * PIX, PIX * sizeof(float));
    matvec(stacked, mf_w, 3 * MF_N * PIX, MF_D, out);
}

void test_mftcn_model_push_embeds_the_causal_window(void);
void test_mftcn_model_push_embeds_the_causal_window(void)
{
    ert_family_model *fm = mftcn_blob();
    ert_mftcn *m;
    OK(ert_mftcn_create(fm, NULL, &m, &e_));
    CU_ASSERT_EQUAL(ert_mftcn_dim(m), MF_D);
    CU_ASSERT_EQUAL(ert_mftcn_params_of(m)->window, 2);
    CU_ASSERT_EQUAL(ert_mftcn_params_of(m)->stride, 2);
    test_frame frames[7];
    for (int t = 0; t < 7; t++)
        make_frame(&frames[t], 13 * t + 1);
    for (int t = 0; t < 7; t++) {
        float got[MF_D], want[MF_D];
        int64_t idx[MF_N];
        OK(ert_mftcn_push(m, &frames[t].f, got, &e_));
        OK(ert_mftcn_window_indices(t, MF_N, 2, idx, &e_));
        mftcn_expected(frames, idx, want);
        CU_ASSERT_TRUE(close_to(got, want, MF_D, 1e-5));
        CU_ASSERT_EQUAL(ert_mftcn_frames(m), (uint64_t)t + 1);
    }
    /* Reset: frame 6 starts a new episode, its window is {6, 6}, not {4, 6}. */
    ert_mftcn_reset(m);
    CU_ASSERT_EQUAL(ert_mftcn_frames(m), 0);
    float got[MF_D], want[MF_D];
    OK(ert_mftcn_push(m, &frames[6].f, got, &e_));
    mftcn_expected(frames, (const int64_t[]){6, 6}, want);
    CU_ASSERT_TRUE(close_to(got, want, MF_D, 1e-5));
    ert_mftcn_free(m);

    /* The stride may be overridden at create; the window must match the head. */
    ert_mftcn_params p = {.window = 2, .stride = 1};
    OK(ert_mftcn_create(fm, &p, &m, &e_));
    for (int t = 0; t < 3; t++)
        OK(ert_mftcn_push(m, &frames[t].f, got, &e_));
    mftcn_expected(frames, (const int64_t[]){1, 2}, want);
    CU_ASSERT_TRUE(close_to(got, want, MF_D, 1e-5));
    ert_mftcn_free(m);
    ert_error e;
    p.window = 3;
    CU_ASSERT_EQUAL(ert_mftcn_create(fm, &p, &m, &e), ERT_EINVAL);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "parameter 'window' is 3"));
    p.window = 0;
    CU_ASSERT_EQUAL(ert_mftcn_create(fm, &p, &m, &e), ERT_EINVAL);
    /* An mftcn blob is not a tcn one. */
    ert_tcn *t;
    CU_ASSERT_EQUAL(ert_tcn_create(fm, &t, &e), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "a mftcn blob, not a tcn one"));
    ert_family_free(fm);
    cleanup();
}
