/* The reference-architecture fixtures (tests/fixtures/models/<case>/: model.onnx,
 * input_<name>.npy, output_<name>.npy exported from PyTorch) through the whole path:
 * import -> optimize -> plan -> blob write -> blob load -> run. Each output must match
 * PyTorch within max |error| <= 1e-4 * max |expected|.
 * usage: test_models FIXTURE_DIR [CASE_FILTER] [--threads N] */
#include "onnx_import.h"
#include "rewrite.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "embedrt/npy.h"
#include "embedrt/plan.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-4

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one case; returns the number of failed checks (0 = pass). */
static int run_case(const char *dir, const char *name, int threads)
{
    char path[4096 + 512];
    ert_error err;
    ert_graph *g = NULL;
    ert_blob *blob = NULL;
    ert_model *m = NULL;
    int failures = 1;
    ert_npy in_npy[16];
    int n_in = 0;
    ert_input_shape shapes[16];
    char blob_path[] = "/tmp/ert-models-XXXXXX";
    int bfd = -1;
    /* Inputs: input_<name>.npy, in directory order. */
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n_in < 16) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "input_", 6) != 0 || l < 11 || strcmp(e->d_name + l - 4, ".npy") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (ert_npy_read(path, &in_npy[n_in], &err) != ERT_OK) {
            printf("  FAIL  %s: %s\n", name, err.msg);
            goto out;
        }
        shapes[n_in].name = strndup(e->d_name + 6, l - 10);
        shapes[n_in].shape = in_npy[n_in].shape;
        n_in++;
    }
    if (d)
        closedir(d);
    d = NULL;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ert_rewrite_stats rs;
    ert_status st = ert_onnx_import(path, shapes, (size_t)n_in, &g, NULL, &err);
    if (st == ERT_OK)
        st = ert_graph_optimize(g, &rs, &err);
    if (st == ERT_OK)
        st = ert_plan_graph(g, &err);
    if (st == ERT_OK) {
        bfd = mkstemp(blob_path);
        ert_blob_write_opts wo = {.source_name = "model.onnx"};
        st = bfd < 0 ? ert_fail(&err, ERT_EIO, "cannot create a temporary file") : ert_blob_write(blob_path, &g, 1, &wo, &err);
    }
    if (st == ERT_OK)
        st = ert_blob_open(blob_path, &blob, &err);
    if (st == ERT_OK) {
        ert_graph *lg = ert_blob_graph(blob, 0);
        ert_model_options mo = {.threads = threads};
        st = ert_model_from_graphs(&lg, 1, false, &mo, &m, &err);
    }
    if (st != ERT_OK) {
        printf("  FAIL  %s: %s\n", name, err.msg);
        goto out;
    }
    ert_graph *lg = ert_model_graph(m, 0);
    for (int i = 0; i < n_in; i++) {
        bool bound = false;
        for (uint32_t k = 0; k < lg->n_inputs; k++) {
            ert_tensor *t = ert_model_input(m, 0, k);
            if (strcmp(t->name, shapes[i].name) == 0 && t->nbytes == in_npy[i].nbytes) {
                memcpy(t->data, in_npy[i].data, t->nbytes);
                bound = true;
            }
        }
        if (!bound) {
            printf("  FAIL  %s: input '%s' does not match a graph input\n", name, shapes[i].name);
            goto out;
        }
    }
    if (ert_model_run(m, 0, &err) != ERT_OK) {
        printf("  FAIL  %s: %s\n", name, err.msg);
        goto out;
    }
    failures = 0;
    for (uint32_t k = 0; k < lg->n_outputs; k++) {
        ert_tensor *t = ert_model_output(m, 0, k);
        ert_npy want;
        snprintf(path, sizeof path, "%s/output_%s.npy", dir, t->name);
        if (ert_npy_read(path, &want, &err) != ERT_OK) {
            printf("  FAIL  %s: %s\n", name, err.msg);
            failures++;
            continue;
        }
        size_t n;
        char a[64], b[64];
        if (want.dtype != ERT_DT_F32 || t->dtype != ERT_DT_F32 || !ert_shape_equal(&want.shape, &t->shape) ||
            !ert_shape_numel(&t->shape, &n)) {
            printf("  FAIL  %s: output '%s' is %s %s, PyTorch gave %s %s\n", name, t->name, ert_dtype_name(t->dtype),
                   ert_shape_str(&t->shape, a, sizeof a), ert_dtype_name(want.dtype),
                   ert_shape_str(&want.shape, b, sizeof b));
            failures++;
            ert_npy_free(&want);
            continue;
        }
        const float *got = t->data, *ref = want.data;
        double max_ref = 0, max_err = 0;
        for (size_t i = 0; i < n; i++) {
            max_ref = fmax(max_ref, fabs(ref[i]));
            double e2 = fabs((double)got[i] - ref[i]);
            if (!(e2 <= max_err)) /* NaN counts as the worst error */
                max_err = isnan(e2) ? INFINITY : e2;
        }
        double rel = max_ref > 0 ? max_err / max_ref : max_err;
        bool ok = rel <= TOL;
        printf("  %s  %s/%s: %s, max|err| %.3g, max|expected| %.3g, ratio %.2e (limit %.0e)\n", ok ? "ok  " : "FAIL",
               name, t->name, ert_shape_str(&t->shape, a, sizeof a), max_err, max_ref, rel, TOL);
        failures += !ok;
        ert_npy_free(&want);
    }
    if (!failures)
        printf("        %s: %u nodes after rewrites (%u folded, %u bn folded, %u act fused), arena %.1f KiB, %.1f MMAC\n",
               name, rs.nodes_out, rs.folded, rs.bn_folded, rs.act_fused, (double)lg->arena_bytes / 1024.0,
               (double)ert_graph_macs(lg) / 1e6);
out:
    if (d)
        closedir(d);
    ert_model_free(m);
    ert_blob_close(blob);
    if (bfd >= 0) {
        close(bfd);
        unlink(blob_path);
    }
    ert_graph_free(g);
    for (int i = 0; i < n_in; i++) {
        ert_npy_free(&in_npy[i]);
        free((char *)shapes[i].name);
    }
    return failures;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_models FIXTURE_DIR [CASE_FILTER] [--threads N]\n");
        return 2;
    }
    const char *filter = NULL;
    int threads = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else
            filter = argv[i];
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "test_models: cannot open %s\n", argv[1]);
        return 2;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (e->d_name[0] != '.' && e->d_type == DT_DIR && (!filter || strstr(e->d_name, filter)))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%.2000s/%.1000s", argv[1], names[i]);
        if (run_case(dir, names[i], threads) == 0)
            passed++;
        else
            failed++;
        free(names[i]);
    }
    if (n == 0)
        failed++, printf("  FAIL  no fixtures found in %s\n", argv[1]);
    printf("models: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
