/* `embedrt run`: one inference on .npy inputs, every graph output written as .npy. */
#include "cli.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "embedrt/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INPUTS 32

static void usage(FILE *f)
{
    fputs("usage: embedrt run BLOB.erb --input NAME=FILE.npy ... --output-dir DIR [--threads N] [--graph NAME]\n"
          "\n"
          "Runs the model once and writes DIR/<output name>.npy (float32, C order) for every graph\n"
          "output, named as in the ONNX graph ('/' in a name becomes '_').\n"
          "\n"
          "  --input NAME=FILE.npy   value of graph input NAME; dtype and shape must match exactly\n"
          "  --output-dir DIR        where to write the outputs (created if missing)\n"
          "  --threads N             threads (default: all cores)\n"
          "  --graph NAME            graph of a multi-graph blob (default: the first)\n",
          f);
}

int ert_cmd_run(int argc, char **argv)
{
    const char *blob_path = NULL, *out_dir = NULL, *graph_name = NULL;
    const char *in_names[MAX_INPUTS], *in_files[MAX_INPUTS];
    char *in_buf[MAX_INPUTS];
    int n_in = 0, rc = 2;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (strcmp(a, "--input") == 0) {
            const char *eq = val ? strchr(val, '=') : NULL;
            if (!eq || eq == val || !eq[1]) {
                fprintf(stderr, "embedrt run: --input needs NAME=FILE.npy\n");
                goto done;
            }
            if (n_in == MAX_INPUTS) {
                fprintf(stderr, "embedrt run: more than %d inputs\n", MAX_INPUTS);
                goto done;
            }
            in_buf[n_in] = strndup(val, (size_t)(eq - val));
            in_names[n_in] = in_buf[n_in];
            in_files[n_in] = eq + 1;
            n_in++;
            i++;
        } else if (strcmp(a, "--output-dir") == 0 && val) {
            out_dir = val;
            i++;
        } else if (strcmp(a, "--graph") == 0 && val) {
            graph_name = val;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (!ert_cli_parse_int("--threads", val, 1, 256, &threads))
                goto done;
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "embedrt run: unknown option '%s' (see embedrt run --help)\n", a);
            goto done;
        } else if (!blob_path) {
            blob_path = a;
        } else {
            fprintf(stderr, "embedrt run: unexpected argument '%s'\n", a);
            goto done;
        }
    }
    if (!blob_path || !out_dir) {
        fprintf(stderr, "embedrt run: need BLOB.erb and --output-dir DIR (see embedrt run --help)\n");
        goto done;
    }
    rc = 1;
    ert_model *m = ert_cli_load_model("run", blob_path, (int)threads, NULL);
    if (!m)
        goto done;
    uint32_t gi = 0;
    if (graph_name) {
        gi = ert_model_find_graph(m, graph_name);
        if (gi == UINT32_MAX) {
            fprintf(stderr, "embedrt run: %s has no graph '%s'\n", blob_path, graph_name);
            goto free_model;
        }
    }
    ert_graph *g = ert_model_graph(m, gi);
    ert_error err;
    char a[64], b[64];
    for (uint32_t k = 0; k < g->n_inputs; k++) {
        ert_tensor *t = ert_model_input(m, gi, k);
        int found = -1;
        for (int j = 0; j < n_in; j++)
            if (strcmp(in_names[j], t->name) == 0)
                found = j;
        if (found < 0) {
            fprintf(stderr, "embedrt run: missing --input %s=FILE.npy (%s %s)\n", t->name, ert_dtype_name(t->dtype),
                    ert_shape_str(&t->shape, a, sizeof a));
            goto free_model;
        }
        ert_npy npy;
        if (ert_npy_read(in_files[found], &npy, &err) != ERT_OK) {
            fprintf(stderr, "embedrt run: %s\n", err.msg);
            goto free_model;
        }
        if (npy.dtype != t->dtype || !ert_shape_equal(&npy.shape, &t->shape)) {
            fprintf(stderr, "embedrt run: %s: %s %s, but input '%s' is %s %s\n", in_files[found],
                    ert_dtype_name(npy.dtype), ert_shape_str(&npy.shape, a, sizeof a), t->name,
                    ert_dtype_name(t->dtype), ert_shape_str(&t->shape, b, sizeof b));
            ert_npy_free(&npy);
            goto free_model;
        }
        memcpy(t->data, npy.data, npy.nbytes);
        ert_npy_free(&npy);
    }
    for (int j = 0; j < n_in; j++) {
        bool known = false;
        for (uint32_t k = 0; k < g->n_inputs; k++)
            known |= strcmp(in_names[j], ert_model_input(m, gi, k)->name) == 0;
        if (!known) {
            fprintf(stderr, "embedrt run: the model has no input '%s'\n", in_names[j]);
            goto free_model;
        }
    }
    if (ert_model_run(m, gi, &err) != ERT_OK) {
        fprintf(stderr, "embedrt run: %s\n", err.msg);
        goto free_model;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "embedrt run: cannot create %s (%s)\n", out_dir, strerror(errno));
        goto free_model;
    }
    for (uint32_t k = 0; k < g->n_outputs; k++) {
        ert_tensor *t = ert_model_output(m, gi, k);
        char name[512], path[4096];
        snprintf(name, sizeof name, "%s", t->name);
        for (char *p = name; *p; p++)
            if (*p == '/')
                *p = '_';
        snprintf(path, sizeof path, "%s/%s.npy", out_dir, name);
        if (ert_npy_write(path, t->dtype, &t->shape, t->data, &err) != ERT_OK) {
            fprintf(stderr, "embedrt run: %s\n", err.msg);
            goto free_model;
        }
        printf("%s: %s %s\n", path, ert_dtype_name(t->dtype), ert_shape_str(&t->shape, a, sizeof a));
    }
    rc = 0;
free_model:
    ert_model_free(m);
done:
    for (int j = 0; j < n_in; j++)
        free(in_buf[j]);
    return rc;
}
