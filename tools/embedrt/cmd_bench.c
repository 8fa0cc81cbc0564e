/* `embedrt bench`: latency distribution of one graph on synthetic inputs, one JSON line. */
#include "cli.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "embedrt/util.h"
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fputs("usage: embedrt bench BLOB.erb [--threads N] [--iterations K] [--warmup W] [--graph NAME] [--profile]\n"
          "                     [--profile-all] [--compare OTHER.erb]\n"
          "\n"
          "Times K runs (default 50) after W warm-up runs (default 5) on deterministic pseudo-random\n"
          "inputs and prints one JSON line: median_ms, p90_ms, p99_ms, min_ms, mean_ms, cpu_ms (process\n"
          "CPU time per timed run, all threads: at 1 thread the time other jobs cannot inflate), macs,\n"
          "gflops (2*MACs per second at the median), arena_bytes, threads, iterations, graph.\n"
          "  --profile       also print time per op type and the slowest nodes to stderr\n"
          "  --profile-all   also print every node in execution order (index, op, ms per run, output\n"
          "                  shape, name) to stderr, to compare two blobs of one model layer by layer\n"
          "  --compare OTHER.erb  also load OTHER (same threads and graph name), warm both up, then\n"
          "                  alternate one run of BLOB and one of OTHER per iteration, and add to the JSON\n"
          "                  line: compare_model, compare_median_ms, compare_min_ms, compare_cpu_ms, and\n"
          "                  ratio_median / cpu_ratio_median, the medians of the per-iteration ratios\n"
          "                  OTHER/BLOB on wall and on CPU time: a host whose speed swings over seconds\n"
          "                  then slows both sides of each ratio alike (not with --profile)\n",
          f);
}

static double now_ms(void)
{
    return (double)ert_monotonic_ns() * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fill_input(ert_tensor *t, uint32_t seed)
{
    size_t n;
    if (!ert_shape_numel(&t->shape, &n))
        return;
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        float v = (float)(s >> 8) / 16777216.0f; /* [0, 1): every family's image range */
        switch (t->dtype) {
        case ERT_DT_F32: ((float *)t->data)[i] = v; break;
        case ERT_DT_I64: ((int64_t *)t->data)[i] = 0; break;
        default: memset(t->data, 0, t->nbytes); return;
        }
    }
}

typedef struct prof_row {
    const char *name;
    uint64_t ns;
    unsigned count;
} prof_row;

/* CPU time of the whole process (every thread), in ms. */
static double cpu_ms(void)
{
    return (double)ert_process_cpu_ns() * 1e-6;
}

static int cmp_row(const void *a, const void *b)
{
    const prof_row *x = a, *y = b;
    return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

/* Per op type and top nodes, in ms per run, to stderr (stdout stays one JSON line). */
static void print_profile(const ert_graph *g, const uint64_t *ns, long iters, double total_ms, bool all)
{
    prof_row ops[128], nodes[16];
    size_t n_ops = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const char *op = g->nodes[i].def->name;
        size_t k = 0;
        while (k < n_ops && strcmp(ops[k].name, op) != 0)
            k++;
        if (k == n_ops && n_ops < 128)
            ops[n_ops++] = (prof_row){op, 0, 0};
        if (k < n_ops)
            ops[k].ns += ns[i], ops[k].count++;
    }
    qsort(ops, n_ops, sizeof *ops, cmp_row);
    double per = 1e-6 / (double)iters;
    fprintf(stderr, "profile: %.3f ms per run\n  by op type:\n", total_ms / (double)iters);
    for (size_t k = 0; k < n_ops; k++)
        fprintf(stderr, "    %-20s %4u nodes %9.3f ms %5.1f%%\n", ops[k].name, ops[k].count, (double)ops[k].ns * per,
                100.0 * (double)ops[k].ns * per / (total_ms / (double)iters));
    size_t n_top = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        prof_row r = {g->nodes[i].name, ns[i], i};
        if (n_top < 16)
            nodes[n_top++] = r;
        else if (r.ns > nodes[15].ns)
            nodes[15] = r;
        qsort(nodes, n_top, sizeof *nodes, cmp_row);
    }
    if (all) {
        fprintf(stderr, "  every node:\n");
        for (uint32_t i = 0; i < g->n_nodes; i++) {
            const ert_node *nd = &g->nodes[i];
            char shape[96] = "";
            size_t len = 0;
            const ert_tensor *y = nd->n_out ? ert_node_output(g, nd, 0) : NULL;
            for (int d = 0; y && d < y->shape.rank && len + 24 < sizeof shape; d++)
                len += (size_t)snprintf(shape + len, sizeof shape - len, "%s%lld", d ? "x" : "",
                                        (long long)y->shape.dims[d]);
            fprintf(stderr, "    %4u %-20s %9.3f ms  %-16s %s\n", i, nd->def->name, (double)ns[i] * per, shape,
                    nd->name);
        }
    }
    fprintf(stderr, "  slowest nodes:\n");
    for (size_t k = 0; k < n_top; k++)
        fprintf(stderr, "    %-40s %-12s %9.3f ms\n", nodes[k].name, g->nodes[nodes[k].count].def->name,
                (double)nodes[k].ns * per);
}

/* One blob under test: its model, graph and per-run times. */
typedef struct bench_side {
    const char *path;
    ert_model *m;
    uint32_t gi;
    ert_graph *g;
    double *wall, *cpu; /* per timed run, ms */
} bench_side;

static bool side_open(bench_side *s, const char *path, long threads, const char *graph_name, long iters)
{
    s->path = path;
    s->m = ert_cli_load_model("bench", path, (int)threads, NULL);
    if (!s->m)
        return false;
    s->gi = graph_name ? ert_model_find_graph(s->m, graph_name) : 0;
    if (s->gi == UINT32_MAX) {
        fprintf(stderr, "embedrt bench: %s has no graph '%s'\n", path, graph_name);
        return false;
    }
    s->g = ert_model_graph(s->m, s->gi);
    for (uint32_t k = 0; k < s->g->n_inputs; k++)
        fill_input(ert_model_input(s->m, s->gi, k), k);
    s->wall = malloc((size_t)iters * sizeof *s->wall);
    s->cpu = malloc((size_t)iters * sizeof *s->cpu);
    if (!s->wall || !s->cpu) {
        fprintf(stderr, "embedrt bench: out of memory\n");
        return false;
    }
    return true;
}

static void side_close(bench_side *s)
{
    free(s->wall);
    free(s->cpu);
    if (s->m)
        ert_model_free(s->m);
}

/* One run; stores its wall and CPU ms at slot i when i >= 0 (a timed run). */
static bool side_run(bench_side *s, long i)
{
    ert_error err;
    double c0 = cpu_ms(), t0 = now_ms();
    if (ert_model_run(s->m, s->gi, &err) != ERT_OK) {
        fprintf(stderr, "embedrt bench: %s: %s\n", s->path, err.msg);
        return false;
    }
    double t1 = now_ms(), c1 = cpu_ms();
    if (i >= 0)
        s->wall[i] = t1 - t0, s->cpu[i] = c1 - c0;
    return true;
}

static double sum_of(const double *v, long n)
{
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += v[i];
    return sum;
}

/* Median of n values; sorts v in place. */
static double median_of(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int ert_cmd_bench(int argc, char **argv)
{
    const char *blob_path = NULL, *graph_name = NULL, *other_path = NULL;
    long threads = 0, iters = 50, warmup = 5;
    bool profile = false, profile_all = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--threads") == 0) {
            if (!ert_cli_parse_int(a, val, 1, 256, &threads))
                return 2;
            i++;
        } else if (strcmp(a, "--iterations") == 0) {
            if (!ert_cli_parse_int(a, val, 1, 1000000, &iters))
                return 2;
            i++;
        } else if (strcmp(a, "--warmup") == 0) {
            if (!ert_cli_parse_int(a, val, 0, 1000000, &warmup))
                return 2;
            i++;
        } else if (strcmp(a, "--profile") == 0) {
            profile = true;
        } else if (strcmp(a, "--profile-all") == 0) {
            profile = profile_all = true;
        } else if (strcmp(a, "--graph") == 0 && val) {
            graph_name = val;
            i++;
        } else if (strcmp(a, "--compare") == 0) {
            if (!val) {
                fprintf(stderr, "embedrt bench: --compare needs a blob path\n");
                return 2;
            }
            other_path = val;
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "embedrt bench: unknown option '%s' (see embedrt bench --help)\n", a);
            return 2;
        } else if (!blob_path) {
            blob_path = a;
        } else {
            fprintf(stderr, "embedrt bench: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!blob_path) {
        fprintf(stderr, "embedrt bench: need BLOB.erb (see embedrt bench --help)\n");
        return 2;
    }
    if (other_path && profile) {
        fprintf(stderr, "embedrt bench: --compare and --profile do not combine (profiling would slow one side only)\n");
        return 2;
    }
    bench_side a = {0}, b = {0};
    int rc = 1;
    if (!side_open(&a, blob_path, threads, graph_name, iters) ||
        (other_path && !side_open(&b, other_path, threads, graph_name, iters)))
        goto out;
    /* Warm both up first, then alternate A, B within each timed iteration. */
    for (long i = 0; i < warmup; i++)
        if (!side_run(&a, -1) || (b.m && !side_run(&b, -1)))
            goto out;
    if (profile) {
        ert_model_set_profile(a.m, true); /* timed runs only */
        ert_model_reset_profile(a.m);
    }
    for (long i = 0; i < iters; i++)
        if (!side_run(&a, i) || (b.m && !side_run(&b, i)))
            goto out;
    double *ratio = NULL, *cpu_ratio = NULL;
    if (b.m) {
        ratio = malloc((size_t)iters * sizeof *ratio);
        cpu_ratio = malloc((size_t)iters * sizeof *cpu_ratio);
        if (!ratio || !cpu_ratio) {
            free(ratio);
            free(cpu_ratio);
            fprintf(stderr, "embedrt bench: out of memory\n");
            goto out;
        }
        for (long i = 0; i < iters; i++) {
            ratio[i] = a.wall[i] > 0 ? b.wall[i] / a.wall[i] : 0;
            cpu_ratio[i] = a.cpu[i] > 0 ? b.cpu[i] / a.cpu[i] : 0;
        }
    }
    double sum = sum_of(a.wall, iters), cpu = sum_of(a.cpu, iters) / (double)iters;
    double *t = a.wall;
    double median = median_of(t, iters);
    uint64_t macs = ert_graph_macs(a.g);
    int used_threads = threads > 0 ? (int)threads : ert_cpu_count();
    printf("{\"model\":");
    ert_cli_json_str(stdout, blob_path);
    printf(",\"graph\":");
    ert_cli_json_str(stdout, a.g->name);
    printf(",\"threads\":%d,\"iterations\":%ld,\"warmup\":%ld,\"median_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,"
           "\"min_ms\":%.4f,\"mean_ms\":%.4f,\"cpu_ms\":%.4f,\"macs\":%llu,\"gflops\":%.3f,\"arena_bytes\":%llu",
           used_threads, iters, warmup, median, t[(size_t)((double)iters * 0.9)], t[(size_t)((double)iters * 0.99)],
           t[0], sum / (double)iters, cpu, (unsigned long long)macs, median > 0 ? 2.0 * (double)macs / (median * 1e6) : 0.0,
           (unsigned long long)a.g->arena_bytes);
    if (b.m) {
        double b_cpu = sum_of(b.cpu, iters) / (double)iters;
        double b_median = median_of(b.wall, iters);
        printf(",\"compare_model\":");
        ert_cli_json_str(stdout, other_path);
        printf(",\"compare_median_ms\":%.4f,\"compare_min_ms\":%.4f,\"compare_cpu_ms\":%.4f,\"ratio_median\":%.4f,"
               "\"cpu_ratio_median\":%.4f",
               b_median, b.wall[0], b_cpu, median_of(ratio, iters), median_of(cpu_ratio, iters));
        free(ratio);
        free(cpu_ratio);
    }
    printf("}\n");
    if (profile)
        print_profile(a.g, ert_model_node_ns(a.m, a.gi), iters, sum, profile_all);
    rc = 0;
out:
    side_close(&a);
    side_close(&b);
    return rc;
}
