/* `embedrt peak`: measures cblas_sgemm throughput on square matrices, the ceiling
 * against which `embedrt bench` reports a model's GFLOP/s. */
#include "cli.h"

#include "embedrt/gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int ert_cmd_peak(int argc, char **argv)
{
    long threads = 1, size = 512, seconds_ms = 500;
    for (int i = 1; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            puts("usage: embedrt peak [--threads N] [--size S] [--time-ms T]\n"
                 "\n"
                 "Times C = A*B on SxS float32 matrices through OpenBLAS for about T ms\n"
                 "(default 512, 500 ms, 1 thread) and prints one JSON line:\n"
                 "{\"threads\":N,\"size\":S,\"gflops\":G,\"best_ms\":M,\"runs\":R}");
            return 0;
        } else if (strcmp(argv[i], "--threads") == 0) {
            if (!ert_cli_parse_int("--threads", val, 1, 256, &threads))
                return 2;
            i++;
        } else if (strcmp(argv[i], "--size") == 0) {
            if (!ert_cli_parse_int("--size", val, 16, 8192, &size))
                return 2;
            i++;
        } else if (strcmp(argv[i], "--time-ms") == 0) {
            if (!ert_cli_parse_int("--time-ms", val, 1, 600000, &seconds_ms))
                return 2;
            i++;
        } else {
            fprintf(stderr, "embedrt peak: unknown option '%s' (see embedrt peak --help)\n", argv[i]);
            return 2;
        }
    }
    size_t n = (size_t)size;
    float *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b), *c = malloc(n * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "embedrt peak: cannot allocate 3 x %zux%zu floats\n", n, n);
        free(a), free(b), free(c);
        return 1;
    }
    for (size_t i = 0; i < n * n; i++) {
        a[i] = (float)((i * 7) % 13) * 0.1f;
        b[i] = (float)((i * 5) % 11) * 0.1f;
    }
    ert_gemm_set_threads((int)threads);
    ert_error err;
    double best = 1e30, start = now_s();
    int runs = 0;
    do {
        double t0 = now_s();
        if (ert_gemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n, &err) != ERT_OK) {
            fprintf(stderr, "embedrt peak: %s\n", err.msg);
            free(a), free(b), free(c);
            return 1;
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        runs++;
    } while (now_s() - start < (double)seconds_ms * 1e-3 || runs < 3);
    double gflops = 2.0 * (double)n * (double)n * (double)n / best * 1e-9;
    printf("{\"threads\":%ld,\"size\":%zu,\"gflops\":%.2f,\"best_ms\":%.3f,\"runs\":%d}\n", threads, n, gflops,
           best * 1e3, runs);
    free(a), free(b), free(c);
    return 0;
}
