/* qgemm_bench: GOP/s of every int8 GEMM kernel this CPU runs against ert_gemm (OpenBLAS
 * sgemm) on the convolution shapes of the grasp2vec_224 / tcn_299 towers, 1 and 2 threads.
 * int8 times include packing the activations (the conv path pays it per frame); weight
 * packing happens once at load and is not timed. */
#include "embedrt/gemm.h"
#include "embedrt/pool.h"
#include "embedrt/qgemm.h"
#include "embedrt/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shape {
    size_t n, k, p;
    const char *what;
} shape;

static const shape shapes[] = {
    {64, 576, 3136, "3x3 conv 64->64 @56x56"},
    {128, 1152, 784, "3x3 conv 128->128 @28x28"},
    {256, 2304, 196, "3x3 conv 256->256 @14x14"},
    {512, 4608, 49, "3x3 conv 512->512 @7x7"},
    {512, 4608, 1225, "3x3 conv 512->512 @35x35"},
    {256, 64, 3136, "1x1 conv 64->256 @56x56"},
    {64, 256, 3136, "1x1 conv 256->64 @56x56"},
    {1000, 512, 1, "FC 512->1000, one frame"},
};

static double min_seconds = 0.25;

/* --cpu-time: the process's CPU seconds instead of wall-clock seconds. */
static bool cpu_time;

static double clock_s(void)
{
    return (double)(cpu_time ? ert_process_cpu_ns() : ert_monotonic_ns()) * 1e-9;
}

/* Seconds per call: the best of 3 batches, each long enough to be measured. */
typedef int (*bench_fn)(void *ctx);
static double time_it(bench_fn fn, void *ctx)
{
    if (fn(ctx) != 0) /* warm-up (and the check that it works) */
        return NAN;
    double best = INFINITY;
    for (int b = 0; b < 3; b++) {
        double t0 = clock_s(), el;
        size_t it = 0;
        do {
            fn(ctx);
            it++;
            el = clock_s() - t0;
        } while (el < min_seconds / 3);
        if (el / (double)it < best)
            best = el / (double)it;
    }
    return best;
}

typedef struct fctx {
    const shape *s;
    ert_pool *pool;
    float *a, *b, *c;
} fctx;

static int run_sgemm(void *p)
{
    fctx *f = p;
    return ert_gemm_mt(f->pool, false, false, f->s->n, f->s->p, f->s->k, 1.0f, f->a, f->s->k, f->b, f->s->p, 0.0f,
                       f->c, f->s->p, NULL) != ERT_OK;
}

typedef struct qctx {
    const shape *s;
    ert_qgemm_call call;
    const uint8_t *x;
    void *ws;
    size_t ws_size;
} qctx;

static int run_qgemm(void *p)
{
    qctx *q = p;
    ert_error err;
    if (ert_qgemm_pack_x_q(q->x, q->s->k, q->s->p, q->s->p, q->call.q_max, q->ws, q->ws_size, &err) != ERT_OK ||
        ert_qgemm(&q->call, &err) != ERT_OK) {
        fprintf(stderr, "qgemm_bench: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: qgemm_bench [--threads N]... [--seconds S] [--no-ref] [--cpu-time]\n"
               "  Prints GOP/s (2*N*K*P per second) of ert_gemm (OpenBLAS sgemm) and of every int8 kernel this\n"
               "  CPU runs (ref, avx2 / neon, sdot, avx2u7) on conv shapes, and int8 speed-up over sgemm;\n"
               "  avx2u7 multiplies 7-bit activations (the same data masked to 0..127, q_max 127).\n"
               "  --threads N   thread counts to run (default: 1 and 2)\n"
               "  --seconds S   measuring time per cell (default 0.25)\n"
               "  --no-ref      skip the (slow) portable reference kernel\n"
               "  --cpu-time    time on the process's CPU clock (at 1 thread: immune to other jobs' load)\n");
}

int main(int argc, char **argv)
{
    int threads[4], nthreads = 0;
    bool with_ref = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && nthreads < 4) {
            threads[nthreads] = atoi(argv[++i]);
            if (threads[nthreads] < 1) {
                fprintf(stderr, "qgemm_bench: --threads needs a number >= 1\n");
                return 2;
            }
            nthreads++;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            min_seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--cpu-time") == 0) {
            cpu_time = true;
        } else if (strcmp(argv[i], "--no-ref") == 0) {
            with_ref = false;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!nthreads)
        threads[0] = 1, threads[1] = 2, nthreads = 2;
    ert_gemm_set_threads(1); /* embedrt owns the threads */

    ert_qkernel kernels[5];
    int nk = 0;
    for (int k = ERT_QK_REF; k <= ERT_QK_AVX2U7; k++)
        if (ert_qgemm_supported((ert_qkernel)k) && (with_ref || k != ERT_QK_REF))
            kernels[nk++] = (ert_qkernel)k;
    ert_qgemm_force(ERT_QK_AUTO, NULL);
    printf("int8 kernel picked on this CPU: %s; GOP/s = 2*N*K*P / time; int8 includes activation packing\n",
           ert_qgemm_kernel_name());
    printf("%-27s %5s %5s %5s %3s %9s", "shape", "N", "K", "P", "thr", "sgemm");
    for (int k = 0; k < nk; k++) {
        ert_qgemm_force(kernels[k], NULL);
        printf(" %9s", ert_qgemm_kernel_name());
    }
    printf(" %8s\n", "best/f32");

    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const shape *s = &shapes[si];
        size_t n = s->n, k = s->k, p = s->p;
        float *a = malloc(n * k * sizeof *a), *b = malloc(k * p * sizeof *b), *c = malloc(n * p * sizeof *c);
        int8_t *w = malloc(n * k);
        uint8_t *x = malloc(k * p), *x7 = malloc(k * p);
        float *scale = malloc(n * sizeof *scale);
        int32_t *bias = calloc(n, sizeof *bias);
        unsigned st = 7;
        for (size_t i = 0; i < n * k; i++) {
            st = st * 1103515245u + 12345u;
            w[i] = (int8_t)((int)((st >> 8) % 255) - 127);
            a[i] = (float)w[i] / 127.0f;
        }
        for (size_t i = 0; i < k * p; i++) {
            st = st * 1103515245u + 12345u;
            x[i] = (uint8_t)(st >> 8);
            x7[i] = x[i] & 127;
            b[i] = (float)x[i] / 255.0f;
        }
        for (size_t i = 0; i < n; i++)
            scale[i] = 1e-5f;
        double ops = 2.0 * (double)n * (double)k * (double)p;
        for (int ti = 0; ti < nthreads; ti++) {
            ert_pool *pool = NULL;
            ert_error err;
            if (threads[ti] > 1 && ert_pool_create(threads[ti], &pool, &err) != ERT_OK) {
                fprintf(stderr, "qgemm_bench: %s\n", err.msg);
                return 1;
            }
            ert_pool_set_active(pool, true);
            fctx f = {s, pool, a, b, c};
            double tf = time_it(run_sgemm, &f);
            printf("%-27s %5zu %5zu %5zu %3d %9.1f", s->what, n, k, p, threads[ti], ops / tf * 1e-9);
            double best = INFINITY;
            for (int ki = 0; ki < nk; ki++) {
                ert_qgemm_force(kernels[ki], NULL);
                unsigned qm = kernels[ki] == ERT_QK_AVX2U7 ? 127 : 255;
                size_t wsz = ert_qgemm_packed_size_q(n, k, qm), xsz = ert_qgemm_x_size_q(k, p, qm);
                void *wp = aligned_alloc(64, (wsz + 63) / 64 * 64), *ws = aligned_alloc(64, (xsz + 63) / 64 * 64);
                float *y = malloc(n * p * sizeof *y);
                double tq = NAN;
                if (ert_qgemm_pack_q(w, n, k, qm, wp, wsz, &err) == ERT_OK) {
                    qctx q = {s, {.n = n, .k = k, .p = p, .w = wp, .x = ws, .z_x = (uint8_t)(qm / 2 + 1), .q_max = (uint8_t)qm,
                                  .bias = bias,
                                  .epilogue = ERT_QEPI_F32, .scale = scale, .lo = 0.0f, .hi = INFINITY, .y = y,
                                  .ldc = p, .pool = pool},
                              qm == 127 ? x7 : x, ws, xsz};
                    double saved = min_seconds;
                    if (kernels[ki] == ERT_QK_REF)
                        min_seconds = 0.01; /* one or two calls: it is the yardstick for correctness */
                    tq = time_it(run_qgemm, &q);
                    min_seconds = saved;
                } else {
                    fprintf(stderr, "qgemm_bench: %s\n", err.msg);
                }
                printf(" %9.1f", ops / tq * 1e-9);
                if (kernels[ki] != ERT_QK_REF && tq < best)
                    best = tq;
                free(wp), free(ws), free(y);
            }
            printf(" %7.2fx\n", isfinite(best) ? tf / best : NAN);
            fflush(stdout);
            ert_pool_set_active(pool, false);
            ert_pool_destroy(pool);
        }
        free(a), free(b), free(c), free(w), free(x), free(x7), free(scale), free(bias);
    }
    ert_qgemm_force(ERT_QK_AUTO, NULL);
    return 0;
}
