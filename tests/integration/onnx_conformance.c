/* ONNX's own backend test suite (Debian libonnx-testdata) through the whole embedrt
 * path: import -> optimize -> plan -> blob write -> blob load -> run, compared with the
 * suite's expected outputs. A case whose ops are all in our registry must pass or be
 * skipped with the unsupported attribute or dtype named; other cases are skipped as
 * "unsupported op". usage: onnx_conformance DATA_DIR [FILTER] [-v] */
#include "onnx_import.h"
#include "rewrite.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "embedrt/plan.h"
#include "op.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RTOL 1e-3
#define ATOL 1e-5

static int verbose;

typedef struct tensor_file {
    ert_dtype dt;
    ert_shape shape;
    void *data;
} tensor_file;

static void free_set(tensor_file *t, int n);

/* Reads <dir>/<prefix>_N.pb for N = 0.. ; -1 (and nothing kept) on an error. */
static int load_set(const char *dir, const char *prefix, tensor_file *out, int cap, ert_error *err)
{
    int n = 0;
    for (; n < cap; n++) {
        char path[2200];
        snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, n);
        if (access(path, R_OK) != 0)
            break;
        if (ert_onnx_read_tensor(path, &out[n].dt, &out[n].shape, &out[n].data, NULL, 0, err) != ERT_OK) {
            free_set(out, n);
            return -1;
        }
    }
    return n;
}

static void free_set(tensor_file *t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i].data);
}

static double as_double(ert_dtype dt, const void *p, size_t i)
{
    switch (dt) {
    case ERT_DT_F32: return ((const float *)p)[i];
    case ERT_DT_F64: return ((const double *)p)[i];
    case ERT_DT_I64: return (double)((const int64_t *)p)[i];
    case ERT_DT_I32: return ((const int32_t *)p)[i];
    case ERT_DT_I8: return ((const int8_t *)p)[i];
    case ERT_DT_U8: case ERT_DT_BOOL: return ((const uint8_t *)p)[i];
    default: return NAN;
    }
}

/* Returns 1 when got matches want, else 0 with a reason in msg. */
static int compare(const ert_tensor *got, const tensor_file *want, char *msg, size_t cap)
{
    char a[64], b[64];
    if (got->dtype != want->dt) {
        snprintf(msg, cap, "output '%s' dtype %s, expected %s", got->name, ert_dtype_name(got->dtype),
                 ert_dtype_name(want->dt));
        return 0;
    }
    if (!ert_shape_equal(&got->shape, &want->shape)) {
        snprintf(msg, cap, "output '%s' shape %s, expected %s", got->name, ert_shape_str(&got->shape, a, sizeof a),
                 ert_shape_str(&want->shape, b, sizeof b));
        return 0;
    }
    size_t n;
    ert_shape_numel(&want->shape, &n);
    bool is_float = want->dt == ERT_DT_F32 || want->dt == ERT_DT_F64;
    for (size_t i = 0; i < n; i++) {
        double g = as_double(got->dtype, got->data, i), w = as_double(want->dt, want->data, i);
        bool ok = is_float ? ((isnan(w) && isnan(g)) || (isinf(w) && g == w) || fabs(g - w) <= ATOL + RTOL * fabs(w))
                           : g == w;
        if (!ok) {
            snprintf(msg, cap, "output '%s'[%zu] = %.9g, expected %.9g", got->name, i, g, w);
            return 0;
        }
    }
    return 1;
}

typedef enum { R_PASS, R_FAIL, R_SKIP } result;

/* Imports with the test's input shapes, freezing the inputs in frozen[] as constants,
 * and optimizes. */
static ert_status convert(const char *path, const ert_input_shape *shapes, const tensor_file *in, int n_in,
                          const bool *frozen, ert_graph **g, ert_error *err)
{
    *g = NULL;
    ert_status st = ert_onnx_import(path, shapes, (size_t)n_in, g, NULL, err);
    for (int i = n_in - 1; st == ERT_OK && i >= 0; i--)
        if (frozen[i])
            st = ert_graph_freeze_input(*g, (uint32_t)i, in[i].data, err);
    if (st == ERT_OK)
        st = ert_graph_optimize(*g, NULL, err);
    if (st != ERT_OK) {
        ert_graph_free(*g);
        *g = NULL;
    }
    return st;
}

static result run_case(const char *dir, char *why, size_t cap)
{
    char path[2100], set[2100];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    snprintf(set, sizeof set, "%s/test_data_set_0", dir);
    ert_error err;
    tensor_file in[32], out[32];
    int n_in = 0, n_out = 0;
    result r = R_FAIL;
    bool frozen[32] = {false};
    ert_graph *g = NULL;
    ert_model *m = NULL;
    ert_blob *blob = NULL;
    char blob_path[] = "/tmp/ert-conformance-XXXXXX";
    int bfd = -1;
    ert_input_shape shapes[32];
    static char names[32][256];
    /* First the model alone: an unsupported op, attribute or dtype is a skip. */
    ert_status st = ert_onnx_import(path, NULL, 0, &g, NULL, &err);
    if (st != ERT_OK) {
        snprintf(why, cap, "%s", err.msg);
        return st == ERT_EUNSUPPORTED ? R_SKIP : R_FAIL;
    }
    n_in = load_set(set, "input", in, 32, &err);
    if (n_in >= 0)
        n_out = load_set(set, "output", out, 32, &err);
    if (n_in < 0 || n_out < 0) {
        snprintf(why, cap, "%s", err.msg);
        r = st == ERT_EUNSUPPORTED || strstr(err.msg, "not supported") ? R_SKIP : R_FAIL;
        n_in = n_in < 0 ? 0 : n_in;
        n_out = n_out < 0 ? 0 : n_out;
        goto done;
    }
    if ((int)g->n_inputs != n_in) {
        snprintf(why, cap, "model has %u inputs, test data %d", g->n_inputs, n_in);
        goto done;
    }
    /* Static shapes come from the test's own inputs. */
    for (int i = 0; i < n_in; i++) {
        snprintf(names[i], sizeof names[i], "%s", g->tensors[g->inputs[i]].name);
        shapes[i].name = names[i];
        shapes[i].shape = in[i].shape;
    }
    ert_graph_free(g);
    /* Many ONNX cases feed shape-determining values (Reshape's shape, Resize's scales...)
     * as graph inputs; embedrt needs those at conversion, so the input the error names
     * is frozen to the test's value and the model converted again. The kernels still
     * compute every output. */
    for (;;) {
        st = convert(path, shapes, in, n_in, frozen, &g, &err);
        if (st == ERT_OK || !strstr(err.msg, "must be a constant"))
            break;
        /* The input named in the message ('name'), else the first integer input. */
        int hit = -1;
        for (int i = 0; i < n_in && hit < 0; i++) {
            char quoted[260];
            snprintf(quoted, sizeof quoted, "'%s'", names[i]);
            if (!frozen[i] && strstr(err.msg, quoted))
                hit = i;
        }
        for (int i = 0; i < n_in && hit < 0; i++)
            if (!frozen[i] && in[i].dt != ERT_DT_F32 && in[i].dt != ERT_DT_F64)
                hit = i;
        if (hit < 0)
            break;
        frozen[hit] = true;
    }
    if (st == ERT_OK)
        st = ert_plan_graph(g, &err);
    if (st == ERT_OK) {
        bfd = mkstemp(blob_path);
        if (bfd < 0) {
            snprintf(why, cap, "cannot create a temporary blob");
            goto done;
        }
        ert_blob_write_opts wo = {0};
        st = ert_blob_write(blob_path, &g, 1, &wo, &err);
    }
    if (st == ERT_OK)
        st = ert_blob_open(blob_path, &blob, &err);
    if (st == ERT_OK) {
        ert_graph *lg = ert_blob_graph(blob, 0);
        ert_model_options mo = {.threads = 1};
        st = ert_model_from_graphs(&lg, 1, false, &mo, &m, &err);
    }
    if (st != ERT_OK) {
        snprintf(why, cap, "%s", err.msg);
        r = (st == ERT_EUNSUPPORTED) ? R_SKIP : R_FAIL;
        goto done;
    }
    ert_graph *lg = ert_model_graph(m, 0);
    /* Feed only the inputs that stayed inputs. */
    tensor_file feed[32];
    int n_feed = 0;
    for (int i = 0; i < n_in; i++)
        if (!frozen[i])
            feed[n_feed++] = in[i];
    if ((int)lg->n_outputs != n_out) {
        snprintf(why, cap, "model has %u outputs, test data %d", lg->n_outputs, n_out);
        goto done;
    }
    if ((int)lg->n_inputs != n_feed) {
        snprintf(why, cap, "model has %u inputs after conversion, test data %d", lg->n_inputs, n_feed);
        goto done;
    }
    for (int i = 0; i < n_feed; i++) {
        ert_tensor *t = ert_model_input(m, 0, (uint32_t)i);
        if (t->dtype != feed[i].dt) {
            snprintf(why, cap, "input %d dtype %s, test data %s", i, ert_dtype_name(t->dtype),
                     ert_dtype_name(feed[i].dt));
            goto done;
        }
        if (t->nbytes)
            memcpy(t->data, feed[i].data, t->nbytes);
    }
    st = ert_model_run(m, 0, &err);
    if (st != ERT_OK) {
        snprintf(why, cap, "run: %s", err.msg);
        goto done;
    }
    for (int i = 0; i < n_out; i++)
        if (!compare(ert_model_output(m, 0, (uint32_t)i), &out[i], why, cap))
            goto done;
    r = R_PASS;
done:
    ert_model_free(m);
    ert_blob_close(blob);
    if (bfd >= 0) {
        close(bfd);
        unlink(blob_path);
    }
    ert_graph_free(g);
    free_set(in, n_in);
    free_set(out, n_out);
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: onnx_conformance DATA_DIR [NAME_FILTER] [-v]\n");
        return 2;
    }
    const char *filter = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            filter = argv[i];
    }
    static const char *suites[] = {"node", "pytorch-converted", "pytorch-operator"};
    int passed = 0, failed = 0, skipped = 0;
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        char sdir[1024];
        snprintf(sdir, sizeof sdir, "%s/%s", argv[1], suites[s]);
        DIR *d = opendir(sdir);
        if (!d) {
            fprintf(stderr, "onnx_conformance: cannot open %s (install libonnx-testdata)\n", sdir);
            return 2;
        }
        char *names[4096];
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < 4096)
            if (strncmp(e->d_name, "test_", 5) == 0 && (!filter || strstr(e->d_name, filter)))
                names[n++] = strdup(e->d_name);
        closedir(d);
        qsort(names, (size_t)n, sizeof names[0], cmp_str);
        for (int i = 0; i < n; i++) {
            char dir[2048], why[ERT_ERROR_MAX + 64] = "";
            snprintf(dir, sizeof dir, "%s/%s", sdir, names[i]);
            result r = run_case(dir, why, sizeof why);
            if (r == R_PASS) {
                passed++;
                if (verbose)
                    printf("  pass  %s/%s\n", suites[s], names[i]);
            } else if (r == R_SKIP) {
                skipped++;
                if (verbose || !strstr(why, "is not supported; supported ops"))
                    printf("  skip  %s/%s: %s\n", suites[s], names[i], why);
            } else {
                failed++;
                printf("  FAIL  %s/%s: %s\n", suites[s], names[i], why);
            }
            free(names[i]);
        }
    }
    printf("onnx-conformance: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
