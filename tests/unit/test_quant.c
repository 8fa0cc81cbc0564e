/* The converter's quantization pieces: activation ranges per calibration method (hand-made
 * distributions with known answers), uint8 parameters of a range (zero and constant
 * tensors without infinities), and per-channel weight marking (scales, SQNR, kept nodes,
 * refusal of NaN weights, graph untouched on failure). */
#include "harness.h"
#include "op_util.h"

#include "../../runtime/engine/op.h"

#include "qcompute.h"
#include "qrange.h"
#include "quantize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_quant_params_of_ranges(void)
{
    ert_qparams p = ert_qparams_of(0.0f, 6.0f); /* post-ReLU6 */
    CU_ASSERT_DOUBLE_EQUAL(p.scale, 6.0 / 255.0, 1e-9);
    CU_ASSERT_EQUAL(p.zero_point, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.inv_scale * p.scale, 1.0, 1e-6);
    p = ert_qparams_of(-1.0f, 1.0f); /* symmetric: zero at 127.5 (float rounding decides) */
    CU_ASSERT(p.zero_point == 127 || p.zero_point == 128);
    p = ert_qparams_of(2.0f, 5.0f); /* widened to include 0: padding must be exact */
    CU_ASSERT_EQUAL(p.lo, 0.0f);
    CU_ASSERT_EQUAL(p.zero_point, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.scale, 5.0 / 255.0, 1e-9);
    p = ert_qparams_of(-3.0f, -1.0f);
    CU_ASSERT_EQUAL(p.hi, 0.0f);
    CU_ASSERT_EQUAL(p.zero_point, 255);
    p = ert_qparams_of(0.0f, 0.0f); /* a constant-zero tensor */
    CU_ASSERT_EQUAL(p.scale, 1.0f);
    CU_ASSERT_EQUAL(p.inv_scale, 1.0f);
    CU_ASSERT_EQUAL(p.zero_point, 0);
    p = ert_qparams_of(0.0f, 1e-44f); /* denormal: 255 / range overflows */
    CU_ASSERT(isfinite(p.scale) && isfinite(p.inv_scale) && p.scale > 0);
    p = ert_qparams_of(NAN, INFINITY);
    CU_ASSERT(isfinite(p.scale) && isfinite(p.inv_scale));
}

/* 100000 values uniform in [0, 1] plus 10 outliers at 100. */
static void fill_outliers(ert_qstats *s, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((i * 7919) % 100000) / 100000.0f;
    for (size_t i = 0; i < 10; i++)
        v[i * 9973] = 100.0f;
    ert_qstats_init(s);
    ert_qstats_minmax(s, v, n / 2);
    ert_qstats_minmax(s, v + n / 2, n - n / 2); /* frames arrive in pieces */
    ert_qstats_hist(s, v, n / 2);
    ert_qstats_hist(s, v + n / 2, n - n / 2);
}

static void test_quant_methods_on_outliers(void)
{
    size_t n = 100000;
    float *v = malloc(n * sizeof *v);
    static ert_qstats s;
    fill_outliers(&s, v, n);
    CU_ASSERT(s.min >= 0.0f && s.min < 1e-4f);
    CU_ASSERT_EQUAL(s.max, 100.0f);
    CU_ASSERT_EQUAL(s.count, n);
    ert_qparams mm = ert_qstats_params(&s, ERT_CALIB_MINMAX);
    CU_ASSERT_DOUBLE_EQUAL(mm.hi, 100.0, 1e-6);
    /* 0.01% of the values are outliers: the 99.99th percentile is at their edge, just 1 */
    ert_qparams pc = ert_qstats_params(&s, ERT_CALIB_PERCENTILE);
    CU_ASSERT(pc.hi > 0.9f && pc.hi < 1.2f);
    CU_ASSERT_EQUAL(pc.zero_point, 0);
    /* entropy clips the outliers too, to its smallest candidate (128 of 2048 bins: 6.25) */
    ert_qparams en = ert_qstats_params(&s, ERT_CALIB_ENTROPY);
    CU_ASSERT(en.hi >= 0.9f && en.hi < 10.0f);
    /* and on outlier-free data all three keep (nearly) the whole range */
    for (size_t i = 0; i < 10; i++)
        v[i * 9973] = 0.5f;
    ert_qstats_init(&s);
    ert_qstats_minmax(&s, v, n);
    ert_qstats_hist(&s, v, n);
    CU_ASSERT(ert_qstats_params(&s, ERT_CALIB_ENTROPY).hi > 0.8f);
    CU_ASSERT(ert_qstats_params(&s, ERT_CALIB_PERCENTILE).hi > 0.99f);
    free(v);
}

static void test_quant_signed_and_nonfinite(void)
{
    float v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (float)(i - 500) / 100.0f; /* [-5, 4.99] */
    v[3] = NAN;
    v[4] = INFINITY;
    static ert_qstats s;
    ert_qstats_init(&s);
    ert_qstats_minmax(&s, v, 1000);
    ert_qstats_hist(&s, v, 1000);
    CU_ASSERT_EQUAL(s.nonfinite, 2);
    CU_ASSERT_EQUAL(s.min, -5.0f);
    CU_ASSERT_DOUBLE_EQUAL(s.max, 4.99, 1e-6);
    ert_qparams p = ert_qstats_params(&s, ERT_CALIB_MINMAX);
    CU_ASSERT_EQUAL(p.zero_point, 128); /* 5 / (9.99 / 255) = 127.6 -> 128 */
    ert_qparams e = ert_qstats_params(&s, ERT_CALIB_ENTROPY);
    CU_ASSERT(e.lo < -4.0f && e.hi > 4.0f); /* uniform: nothing worth clipping */
    /* no finite value at all */
    float bad[2] = {NAN, -INFINITY};
    ert_qstats_init(&s);
    ert_qstats_minmax(&s, bad, 2);
    ert_qstats_hist(&s, bad, 2);
    p = ert_qstats_params(&s, ERT_CALIB_PERCENTILE);
    CU_ASSERT_EQUAL(p.scale, 1.0f);
    ert_calib_method m;
    CU_ASSERT_TRUE(ert_calib_method_parse("entropy", &m) && m == ERT_CALIB_ENTROPY);
    CU_ASSERT_FALSE(ert_calib_method_parse("kl", &m));
    CU_ASSERT_STRING_EQUAL(ert_calib_method_name(ERT_CALIB_PERCENTILE), "percentile");
}

static void tu_node(ert_graph *g, const char *name, const char *op, const uint32_t *in, uint32_t n_in, uint32_t out,
                    ert_attr *attrs, size_t n_attrs)
{
    uint32_t node;
    ert_error err;
    ert_attrs a = {attrs, n_attrs};
    if (ert_graph_add_node(g, name, op, in, n_in, &out, 1, &node, &err) != ERT_OK ||
        ert_node_parse(g, node, &a, g->opset, &err) != ERT_OK ||
        g->nodes[node].def->infer(g, &g->nodes[node], &err) != ERT_OK) {
        fprintf(stderr, "tu_node %s: %s\n", name, err.msg);
        CU_FAIL_FATAL("tu_node");
    }
}

/* x[1,2,4,4] -> Conv(3 out, 3x3) with one all-zero output channel -> MatMul [48 -> 4]. */
static ert_graph *small_net(float *w, float *mm)
{
    ert_graph *g = ert_graph_new("net");
    g->opset = 13;
    ert_shape xs = {4, {1, 2, 4, 4}};
    uint32_t x;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &x, &err) == ERT_OK);
    uint32_t tw = tu_f32(g, "w", w, 4, (int64_t[]){3, 2, 3, 3});
    uint32_t tc = tu_out(g, "c");
    uint32_t tshape = tu_i64(g, "shape", (int64_t[]){1, 48}, 1, (int64_t[]){2});
    uint32_t tr = tu_out(g, "r");
    uint32_t tm = tu_f32(g, "m", mm, 2, (int64_t[]){48, 4});
    uint32_t ty = tu_out(g, "y");
    ert_attr conv[] = {tu_attr_ints("kernel_shape", (int64_t[]){3, 3}, 2),
                       tu_attr_ints("pads", (int64_t[]){1, 1, 1, 1}, 4)};
    tu_node(g, "conv", "Conv", (uint32_t[]){x, tw}, 2, tc, conv, 2);
    tu_node(g, "flat", "Reshape", (uint32_t[]){tc, tshape}, 2, tr, NULL, 0);
    tu_node(g, "fc", "MatMul", (uint32_t[]){tr, tm}, 2, ty, NULL, 0);
    return g;
}

static void test_quant_mark_weights(void)
{
    float w[54], mm[192];
    for (int i = 0; i < 54; i++)
        w[i] = i < 18 ? 0.0f : 0.01f * (float)(i % 17) - 0.08f; /* channel 0 all zero */
    for (int i = 0; i < 192; i++)
        mm[i] = sinf((float)i);
    ert_graph *g = small_net(w, mm);
    uint32_t nt = g->n_tensors;
    ert_quant_weights_report r;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_quant_mark_weights(g, NULL, 0, 1, &r, &err), ERT_OK);
    CU_ASSERT_EQUAL(r.n, 2);
    CU_ASSERT_EQUAL(g->n_tensors, nt + 2);
    const ert_tensor *tw = &g->tensors[ert_graph_find_tensor(g, "w")];
    const ert_tensor *tm = &g->tensors[ert_graph_find_tensor(g, "m")];
    CU_ASSERT_TRUE(tw->store_int8 && tw->store_axis == 0);
    CU_ASSERT_TRUE(tm->store_int8 && tm->store_axis == 1); /* MatMul B [K, N]: columns */
    const float *sw = g->tensors[tw->store_scales].data;
    CU_ASSERT_EQUAL(sw[0], 1.0f); /* the zero channel: scale 1, stored exactly */
    CU_ASSERT_DOUBLE_EQUAL(sw[1], 0.08 / 127.0, 1e-9);
    CU_ASSERT_STRING_EQUAL(g->tensors[tw->store_scales].name, "w.scales");
    /* SQNR of 8-bit symmetric quantization: ~40-50 dB; max error half a step */
    for (size_t i = 0; i < r.n; i++) {
        CU_ASSERT(r.w[i].sqnr_db > 35.0 && r.w[i].sqnr_db < 60.0);
        CU_ASSERT(r.w[i].max_abs_err > 0);
    }
    CU_ASSERT(r.w[0].max_abs_err <= 0.5f * 0.08f / 127.0f * 1.001f);
    CU_ASSERT(r.bytes_after < r.bytes_before / 3);
    ert_quant_weights_report_free(&r);
    ert_graph_free(g);

    /* --keep-fp32 and the size floor */
    g = small_net(w, mm);
    const char *keep[] = {"fc"};
    CU_ASSERT_EQUAL(ert_quant_mark_weights(g, keep, 1, 100, &r, &err), ERT_OK);
    CU_ASSERT_EQUAL(r.n, 0);   /* conv: 54 < 100 values; fc: kept */
    CU_ASSERT_EQUAL(r.kept, 2);
    ert_quant_weights_report_free(&r);
    ert_graph_free(g);

    /* NaN in a weight: refused by name, graph untouched */
    mm[5] = NAN;
    g = small_net(w, mm);
    nt = g->n_tensors;
    CU_ASSERT_EQUAL(ert_quant_mark_weights(g, NULL, 0, 1, NULL, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "quantize: weight 'm' of node 'fc' holds NaN or infinity");
    CU_ASSERT_EQUAL(g->n_tensors, nt);
    for (uint32_t t = 0; t < g->n_tensors; t++)
        CU_ASSERT_FALSE(g->tensors[t].store_int8);
    ert_graph_free(g);
}

/* One 3x3 (or 1x1) "same" convolution c -> m on an hw x hw map: does the converter keep it
 * float32 (float32 Winograd faster than int8)? */
static bool wino_keeps_fp32(int64_t c, int64_t m, int64_t hw, int64_t k)
{
    ert_graph *g = ert_graph_new("one");
    g->opset = 13;
    ert_shape xs = {4, {1, c, hw, hw}};
    uint32_t x;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &x, &err) == ERT_OK);
    float *w = calloc((size_t)(c * m * k * k), sizeof *w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    uint32_t tw = tu_f32(g, "w", w, 4, (int64_t[]){m, c, k, k});
    free(w);
    uint32_t ty = tu_out(g, "y");
    ert_attr conv[] = {tu_attr_ints("kernel_shape", (int64_t[]){k, k}, 2),
                       tu_attr_ints("pads", (int64_t[]){k / 2, k / 2, k / 2, k / 2}, 4)};
    tu_node(g, "conv", "Conv", (uint32_t[]){x, tw}, 2, ty, conv, 2);
    bool keep = ert_qc_float_faster(g, &g->nodes[0]);
    ert_graph_free(g);
    return keep;
}

/* The measured rule of qcompute.c: with the int8 Winograd F(2x2,3x3) of ErtQConv, int8 for
 * every 3x3 layer; float32 only for F(4x4) layers beyond its channel bound (1841). */
static void test_quant_winograd_rule(void)
{
    CU_ASSERT_FALSE(wino_keeps_fp32(64, 64, 56, 3));   /* int8 Winograd: 0.69 int8/fp32 */
    CU_ASSERT_FALSE(wino_keeps_fp32(512, 512, 35, 3)); /* tcn conv2: 0.63 */
    CU_ASSERT_FALSE(wino_keeps_fp32(33, 64, 56, 3));
    CU_ASSERT_FALSE(wino_keeps_fp32(32, 64, 56, 3));   /* direct int8 */
    CU_ASSERT_FALSE(wino_keeps_fp32(256, 256, 14, 3)); /* 0.44 */
    CU_ASSERT_FALSE(wino_keeps_fp32(1841, 64, 28, 3));  /* the int8 Winograd bound */
    CU_ASSERT_TRUE(wino_keeps_fp32(1842, 64, 28, 3));   /* beyond it: float32 F(4x4) */
    CU_ASSERT_FALSE(wino_keeps_fp32(64, 64, 4, 3));    /* too few tiles: im2col, not Winograd */
    CU_ASSERT_FALSE(wino_keeps_fp32(64, 64, 56, 1));   /* 1x1 */
}

static const ert_test_case cases[] = {
    ERT_TEST(test_quant_params_of_ranges),
    ERT_TEST(test_quant_methods_on_outliers),
    ERT_TEST(test_quant_signed_and_nonfinite),
    ERT_TEST(test_quant_mark_weights),
    ERT_TEST(test_quant_winograd_rule),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_quant = {"quant", cases};
