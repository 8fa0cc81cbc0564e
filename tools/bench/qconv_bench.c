/* qconv_bench: one convolution node run through ert_model (weights prepared at bind, the
 * shared workspace, the pool), fp32 Conv (OpenBLAS im2col/1x1 gemm, or Winograd on 3x3
 * stride-1 maps of 14x14 and more) against ErtQConv (int8, quantizing its float input every
 * run), on the convolution shapes of grasp2vec_224 (ResNet-50-like) and the 3x3 ones of tcn_299, at
 * 1 and 2 threads; --paths times ErtQConv's three 3x3 paths (direct, int8 Winograd F(2x2) and
 * F(4x4), chosen through ERT_QCONV_WINOGRAD) side by side. */
#include "../../runtime/engine/op.h"
#include "embedrt/model.h"
#include "embedrt/plan.h"
#include "embedrt/qgemm.h"
#include "embedrt/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shape {
    int64_t c, m, hw, k, s;
    const char *what;
} shape;

static const shape shapes[] = {
    {64, 64, 56, 3, 1, "3x3 64->64 @56x56"},
    {128, 128, 28, 3, 1, "3x3 128->128 @28x28"},
    {256, 256, 14, 3, 1, "3x3 256->256 @14x14"},
    {512, 512, 7, 3, 1, "3x3 512->512 @7x7"},
    {128, 128, 56, 3, 2, "3x3 s2 128->128 @56->28"},
    {64, 256, 56, 1, 1, "1x1 64->256 @56x56"},
    {256, 64, 56, 1, 1, "1x1 256->64 @56x56"},
    {512, 128, 28, 1, 1, "1x1 512->128 @28x28"},
    {1024, 256, 14, 1, 1, "1x1 1024->256 @14x14"},
    {2048, 512, 7, 1, 1, "1x1 2048->512 @7x7"},
    /* tcn_299 (Inception-v3 base + two 3x3 layers): its 3x3 stride-1 shapes */
    {32, 32, 147, 3, 1, "tcn 3x3 32->32 @147x147"},
    {32, 64, 147, 3, 1, "tcn 3x3 32->64 @147x147"},
    {80, 192, 71, 3, 1, "tcn 3x3 80->192 @71x71"},
    {64, 96, 35, 3, 1, "tcn 3x3 64->96 @35x35"},
    {96, 96, 35, 3, 1, "tcn 3x3 96->96 @35x35"},
    {288, 512, 35, 3, 1, "tcn 3x3 288->512 @35x35"},
    {512, 512, 35, 3, 1, "tcn 3x3 512->512 @35x35"},
    /* small maps, for the int8 Winograd F(4x4)/F(2x2) rule (qconv_wino.c) */
    {256, 256, 7, 3, 1, "rule 3x3 256->256 @7x7"},
    {256, 256, 10, 3, 1, "rule 3x3 256->256 @10x10"},
    {256, 256, 12, 3, 1, "rule 3x3 256->256 @12x12"},
    {128, 128, 21, 3, 1, "rule 3x3 128->128 @21x21"},
    {16, 16, 56, 3, 1, "rule 3x3 16->16 @56x56"},
};

static double min_seconds = 0.3;

static unsigned next(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Whether the last ErtQConv built passes the int8 Winograd F(4x4) bound (qconv_wino.h):
 * max_m sum |Wq_m| * max(z_x, 255 - z_x) < 2^25 (else ERT_QCONV_WINOGRAD=f4 runs F(2x2)). */
static bool last_f4_exact;

/* One node, x a graph input, ReLU fused; quantized = ErtQConv with per-channel int8
 * weights of the same float weights, else Conv. */
static ert_model *make_model(const shape *sh, bool quantized, int threads, const float *w, const float *b)
{
    ert_error err;
    ert_graph *g = ert_graph_new(quantized ? "q" : "f");
    int64_t pad = sh->k / 2;
    size_t K = (size_t)(sh->c * sh->k * sh->k), M = (size_t)sh->m;
    ert_shape xs = {4, {1, sh->c, sh->hw, sh->hw}}, ws = {4, {sh->m, sh->c, sh->k, sh->k}}, bs = {1, {sh->m}};
    uint32_t x, y, wt, bt, st, node;
    ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &x, &err);
    ert_graph_add_tensor(g, "y", ERT_DT_F32, &(ert_shape){0, {0}}, NULL, false, &y, &err);
    int64_t ints[19] = {0};
    ints[1] = 2;
    ints[2] = ints[3] = sh->k;
    ints[5] = ints[6] = sh->s;
    ints[7] = ints[10] = 1;
    ints[8] = ints[9] = 1;
    ints[11] = ints[12] = ints[14] = ints[15] = pad;
    ints[17] = 1;
    ints[18] = 128;
    float inv = 50.0f;
    if (quantized) {
        int8_t *wq = malloc(M * K);
        float *s = malloc(M * sizeof *s);
        int32_t *bq = malloc(M * sizeof *bq);
        for (size_t m = 0; m < M; m++) {
            float mx = 0;
            for (size_t k = 0; k < K; k++)
                mx = fmaxf(mx, fabsf(w[m * K + k]));
            float sw = mx > 0 ? mx / 127.0f : 1.0f;
            for (size_t k = 0; k < K; k++)
                wq[m * K + k] = (int8_t)lrintf(w[m * K + k] / sw);
            s[m] = sw / inv;
            bq[m] = (int32_t)lrintf(b[m] / s[m]);
        }
        last_f4_exact = true;
        for (size_t m = 0; m < M; m++) {
            long sum = 0;
            for (size_t k = 0; k < K; k++)
                sum += labs((long)wq[m * K + k]);
            if (sum * 128 >= 1L << 25)
                last_f4_exact = false;
        }
        ert_graph_add_tensor(g, "wq", ERT_DT_I8, &ws, wq, true, &wt, &err);
        ert_graph_add_tensor(g, "bq", ERT_DT_I32, &bs, bq, true, &bt, &err);
        ert_graph_add_tensor(g, "s", ERT_DT_F32, &bs, s, true, &st, &err);
        uint32_t in[4] = {x, wt, bt, st};
        ert_graph_add_node(g, "conv", "ErtQConv", in, 4, &y, 1, &node, &err);
        ert_node_set_params(&g->nodes[node], ints, 19, &inv, 1, &err);
    } else {
        float *wc = malloc(M * K * sizeof *wc), *bc = malloc(M * sizeof *bc);
        memcpy(wc, w, M * K * sizeof *wc);
        memcpy(bc, b, M * sizeof *bc);
        ert_graph_add_tensor(g, "w", ERT_DT_F32, &ws, wc, true, &wt, &err);
        ert_graph_add_tensor(g, "b", ERT_DT_F32, &bs, bc, true, &bt, &err);
        uint32_t in[3] = {x, wt, bt};
        ert_graph_add_node(g, "conv", "Conv", in, 3, &y, 1, &node, &err);
        ert_node_set_params(&g->nodes[node], ints, 18, NULL, 0, &err);
    }
    g->nodes[node].act = ERT_ACT_RELU;
    g->inputs = malloc(sizeof *g->inputs), g->outputs = malloc(sizeof *g->outputs);
    g->inputs[0] = x, g->outputs[0] = y, g->n_inputs = 1, g->n_outputs = 1;
    ert_model *mdl = NULL;
    ert_model_options opt = {.threads = threads};
    if (g->nodes[node].def->infer(g, &g->nodes[node], &err) != ERT_OK || ert_plan_graph(g, &err) != ERT_OK ||
        ert_model_from_graphs(&g, 1, true, &opt, &mdl, &err) != ERT_OK) {
        fprintf(stderr, "qconv_bench: %s: %s\n", sh->what, err.msg);
        exit(1);
    }
    ert_tensor *xi = ert_model_input(mdl, 0, 0);
    unsigned seed = 7;
    size_t nx = (size_t)(sh->c * sh->hw * sh->hw);
    for (size_t i = 0; i < nx; i++)
        ((float *)xi->data)[i] = (float)(next(&seed) % 2001) / 1000.0f - 1.0f;
    return mdl;
}

/* --cpu-time: the process's CPU seconds instead of wall-clock seconds. */
static bool cpu_time;

static double clock_s(void)
{
    return (double)(cpu_time ? ert_process_cpu_ns() : ert_monotonic_ns()) * 1e-9;
}

/* Seconds per run over a batch of about `seconds`. */
static double time_batch(ert_model *m, double seconds)
{
    ert_error err;
    double t0 = clock_s(), el;
    size_t it = 0;
    do {
        if (ert_model_run(m, 0, &err) != ERT_OK) {
            fprintf(stderr, "qconv_bench: %s\n", err.msg);
            exit(1);
        }
        it++;
        el = clock_s() - t0;
    } while (el < seconds);
    return el / (double)it;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define ROUNDS 5

/* --paths: fp32 and the three int8 paths (bound under ERT_QCONV_WINOGRAD = off, f2, f4)
 * alternate ROUNDS times; medians, and the median per-round int8/fp32 ratios. */
static void time_paths(const shape *sh, int threads, const float *w, const float *b)
{
    static const char *const modes[3] = {"off", "f2", "f4"};
    const char *saved = getenv("ERT_QCONV_WINOGRAD");
    ert_model *f = make_model(sh, false, threads, w, b), *q[3];
    for (int i = 0; i < 3; i++) {
        setenv("ERT_QCONV_WINOGRAD", modes[i], 1);
        q[i] = make_model(sh, true, threads, w, b);
    }
    if (saved)
        setenv("ERT_QCONV_WINOGRAD", saved, 1);
    else
        unsetenv("ERT_QCONV_WINOGRAD");
    double tf[ROUNDS], tq[3][ROUNDS], ratio[3][ROUNDS];
    time_batch(f, 0.02);
    for (int i = 0; i < 3; i++)
        time_batch(q[i], 0.02);
    for (int r = 0; r < ROUNDS; r++) {
        tf[r] = time_batch(f, min_seconds / ROUNDS);
        for (int i = 0; i < 3; i++) {
            tq[i][r] = time_batch(q[i], min_seconds / ROUNDS);
            ratio[i][r] = tq[i][r] / tf[r];
        }
    }
    qsort(tf, ROUNDS, sizeof tf[0], cmp_d);
    for (int i = 0; i < 3; i++)
        qsort(tq[i], ROUNDS, sizeof tq[i][0], cmp_d), qsort(ratio[i], ROUNDS, sizeof ratio[i][0], cmp_d);
    printf("%-26s %7d %9.3f %9.3f %9.3f %8.3f%s %7.2f %7.2f %7.2f\n", sh->what, threads, tf[ROUNDS / 2] * 1e3,
           tq[0][ROUNDS / 2] * 1e3, tq[1][ROUNDS / 2] * 1e3, tq[2][ROUNDS / 2] * 1e3, last_f4_exact ? " " : "*",
           ratio[0][ROUNDS / 2], ratio[1][ROUNDS / 2], ratio[2][ROUNDS / 2]);
    fflush(stdout);
    ert_model_free(f);
    for (int i = 0; i < 3; i++)
        ert_model_free(q[i]);
}

int main(int argc, char **argv)
{
    int threads[4] = {1, 2};
    int nthreads = 2;
    bool user_threads = false, paths = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && nthreads < 4) {
            if (!user_threads)
                nthreads = 0, user_threads = true;
            threads[nthreads++] = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--cpu-time") == 0) {
            cpu_time = true;
        } else if (strcmp(argv[i], "--paths") == 0) {
            paths = true;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            min_seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: qconv_bench [--threads N]... [--seconds S] [--only TEXT] [--cpu-time] [--paths]\n"
                   "  Times one Conv node (fp32: OpenBLAS, Winograd on 3x3 stride-1 maps >= 14x14) against\n"
                   "  ErtQConv (int8, input quantized every run) through ert_model on the grasp2vec_224\n"
                   "  convolution shapes, with ReLU fused. Default threads 1 and 2, ~S seconds per side and\n"
                   "  cell in 5 alternating rounds (default 0.3; medians, ratio = median round's int8/fp32).\n"
                   "  --only runs the shapes whose name contains TEXT. The int8 kernel is the best this CPU\n"
                   "  runs, or the one named by ERT_QGEMM_KERNEL.\n"
                   "  --cpu-time measures the process's CPU time instead of wall time: with --threads 1 the\n"
                   "  op's own time, unaffected by other jobs taking the CPU (with more threads it adds up\n"
                   "  every worker's time, waiting included: not a latency).\n"
                   "  --paths times each 3x3 stride-1 shape's int8 three ways, bound with\n"
                   "  ERT_QCONV_WINOGRAD=off (direct), f2 (Winograd F(2x2)) and f4 (F(4x4)), each against\n"
                   "  fp32 (ratios int8/fp32). F(4x4) falls back to F(2x2) where the weights fail its\n"
                   "  exactness bound (marked *); f4 plans its scratch even where the default does not\n"
                   "  take it (512->512 @35x35 keeps F(2x2) in blobs). Other shapes are skipped.\n");
            return 0;
        } else {
            fprintf(stderr, "qconv_bench: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    printf("int8 kernel: %s\n", ert_qgemm_kernel_name());
    if (paths)
        printf("%-26s %7s %9s %9s %9s %9s %7s %7s %7s\n", "shape", "threads", "fp32 ms", "direct", "F(2x2)", "F(4x4)",
               "direct", "F(2x2)", "F(4x4)");
    else
        printf("%-26s %7s %10s %10s %7s\n", "shape", "threads", "fp32 ms", "int8 ms", "ratio");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *sh = &shapes[i];
        if (only && !strstr(sh->what, only))
            continue;
        size_t K = (size_t)(sh->c * sh->k * sh->k), M = (size_t)sh->m;
        float *w = malloc(M * K * sizeof *w), *b = malloc(M * sizeof *b);
        unsigned seed = 99 + (unsigned)i;
        for (size_t j = 0; j < M * K; j++)
            w[j] = ((float)(next(&seed) % 2001) / 1000.0f - 1.0f) / sqrtf((float)K);
        for (size_t j = 0; j < M; j++)
            b[j] = (float)(next(&seed) % 201) / 1000.0f - 0.1f;
        if (paths) {
            if (sh->k == 3 && sh->s == 1)
                for (int t = 0; t < nthreads; t++)
                    time_paths(sh, threads[t], w, b);
            free(w), free(b);
            continue;
        }
        for (int t = 0; t < nthreads; t++) {
            ert_model *f = make_model(sh, false, threads[t], w, b), *q = make_model(sh, true, threads[t], w, b);
            /* fp32 and int8 alternate ROUNDS times, so a neighbour's burst of load lands on
             * both; the table shows medians and the median of the per-round ratios. */
            double tf[ROUNDS], tq[ROUNDS], ratio[ROUNDS];
            time_batch(f, 0.02), time_batch(q, 0.02); /* warm-up */
            for (int r = 0; r < ROUNDS; r++) {
                tf[r] = time_batch(f, min_seconds / ROUNDS);
                tq[r] = time_batch(q, min_seconds / ROUNDS);
                ratio[r] = tq[r] / tf[r];
            }
            qsort(tf, ROUNDS, sizeof tf[0], cmp_d), qsort(tq, ROUNDS, sizeof tq[0], cmp_d);
            qsort(ratio, ROUNDS, sizeof ratio[0], cmp_d);
            printf("%-26s %7d %10.3f %10.3f %7.2f\n", sh->what, threads[t], tf[ROUNDS / 2] * 1e3, tq[ROUNDS / 2] * 1e3,
                   ratio[ROUNDS / 2]);
            fflush(stdout);
            ert_model_free(f);
            ert_model_free(q);
        }
        free(w), free(b);
    }
    return 0;
}
