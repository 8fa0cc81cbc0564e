/* `embedrt convert`: ONNX -> blob. Import, optimize (fold, fuse), plan memory, write. */
#include "cli.h"

#include "onnx_import.h"
#include "rewrite.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "embedrt/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHAPES 32

static void usage(FILE *f)
{
    fputs("usage: embedrt convert MODEL.onnx -o OUT.erb [--input-shape NAME=DIMS]... [--compress]\n"
          "\n"
          "Converts an ONNX model into an embedrt blob: folds constants, folds BatchNorm into\n"
          "convolutions, fuses activations, infers static shapes and plans the memory arena.\n"
          "\n"
          "  -o OUT.erb                 output blob (written atomically)\n"
          "  --input-shape NAME=DIMS    static shape of graph input NAME, e.g. image=1x3x224x224\n"
          "                             (default: the model's; a symbolic batch dim becomes 1)\n"
          "  --compress                 zlib-compress the blob's sections (smaller, loads slower)\n",
          f);
}

int ert_cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    bool compress = false;
    ert_input_shape shapes[MAX_SHAPES];
    char *shape_names[MAX_SHAPES];
    size_t n_shapes = 0;
    ert_error err;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (!val) {
                fprintf(stderr, "embedrt convert: %s needs a file name\n", a);
                goto done;
            }
            out = val;
            i++;
        } else if (strcmp(a, "--input-shape") == 0) {
            const char *eq = val ? strrchr(val, '=') : NULL;
            if (!eq || eq == val) {
                fprintf(stderr, "embedrt convert: --input-shape needs NAME=DIMS, e.g. image=1x3x224x224\n");
                goto done;
            }
            if (n_shapes == MAX_SHAPES) {
                fprintf(stderr, "embedrt convert: more than %d --input-shape options\n", MAX_SHAPES);
                goto done;
            }
            if (ert_parse_dims(eq + 1, &shapes[n_shapes].shape, &err) != ERT_OK) {
                fprintf(stderr, "embedrt convert: --input-shape: %s\n", err.msg);
                goto done;
            }
            shape_names[n_shapes] = strndup(val, (size_t)(eq - val));
            shapes[n_shapes].name = shape_names[n_shapes];
            n_shapes++;
            i++;
        } else if (strcmp(a, "--compress") == 0) {
            compress = true;
        } else if (a[0] == '-') {
            fprintf(stderr, "embedrt convert: unknown option '%s' (see embedrt convert --help)\n", a);
            goto done;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "embedrt convert: unexpected argument '%s'\n", a);
            goto done;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "embedrt convert: need MODEL.onnx and -o OUT.erb (see embedrt convert --help)\n");
        goto done;
    }
    rc = 1;
    ert_graph *g = NULL;
    ert_onnx_info info;
    ert_rewrite_stats rs;
    ert_status st = ert_onnx_import(in, shapes, n_shapes, &g, &info, &err);
    if (st == ERT_OK)
        st = ert_graph_optimize(g, &rs, &err);
    if (st == ERT_OK)
        st = ert_plan_graph(g, &err);
    if (st == ERT_OK) {
        /* Provenance: the exact conversion, so a blob on a robot can be traced back. */
        char options[1024] = "";
        size_t used = 0;
        for (int i = 1; i < argc && used < sizeof options; i++) {
            int w = snprintf(options + used, sizeof options - used, "%s%s", used ? " " : "", argv[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        const char *base = strrchr(in, '/');
        ert_blob_write_opts wo = {
            .compress = compress,
            .source_name = base ? base + 1 : in,
            .source_size = info.file_size,
            .options = options,
            .producer_name = info.producer_name,
            .producer_version = info.producer_version,
            .opset = info.opset,
        };
        st = ert_blob_write(out, &g, 1, &wo, &err);
    }
    if (st != ERT_OK) {
        fprintf(stderr, "embedrt convert: %s\n", err.msg);
    } else {
        uint64_t weights = 0;
        for (uint32_t t = 0; t < g->n_tensors; t++)
            if (g->tensors[t].is_const)
                weights += g->tensors[t].nbytes;
        printf("%s -> %s: %u nodes (from %u: %u folded, %u batchnorm folded, %u activations fused, %u identities, "
               "%u dead), %.1f MMAC, arena %.1f KiB, weights %.1f KiB\n",
               in, out, rs.nodes_out, rs.nodes_in, rs.folded, rs.bn_folded, rs.act_fused, rs.identities, rs.dead,
               (double)ert_graph_macs(g) / 1e6, (double)g->arena_bytes / 1024.0, (double)weights / 1024.0);
        rc = 0;
    }
    ert_graph_free(g);
done:
    for (size_t i = 0; i < n_shapes; i++)
        free(shape_names[i]);
    return rc;
}
