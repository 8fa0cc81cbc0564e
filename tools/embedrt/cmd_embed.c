/* `embedrt embed`: one image through one role of a family blob, with the blob's own
 * preprocessing; prints the outputs (or writes them as .npy). Same path as the daemon. */
#include "cli.h"

#include "embedrt/family.h"
#include "embedrt/image.h"
#include "embedrt/mftcn.h"
#include "embedrt/npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: embedrt embed BLOB.erb --role ROLE --image IMG [--context IMG] [--output FILE.npy] [--json]\n"
          "       embedrt embed MFTCN.erb --video VIDEO.y4m [--json]\n"
          "\n"
          "Preprocesses IMG (PPM/PGM/PNG/JPEG) with the role's recipe from the blob, runs the role's\n"
          "graph and prints every output: shape, L2 norm and values (one JSON object with --json,\n"
          "the default when stdout is not a terminal). A second image input (the CC-VAE context x_0)\n"
          "takes --context (default: the same image).\n"
          "\n"
          "  --output FILE.npy   also write the graph's first output as float32 .npy\n"
          "  --video VIDEO.y4m   mftcn: one line per frame with the embedding of the causal window\n"
          "                      ending at it (window and stride from the blob)\n",
          f);
}

static double norm2(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* mfTCN over a video: the window embedding at every frame. */
static int embed_video(const char *blob, const char *video, bool json)
{
    ert_error err;
    ert_family_model *fm = NULL;
    ert_mftcn *m = NULL;
    ert_y4m *y = NULL;
    float *e = NULL;
    int rc = 1;
    ert_status st = ert_family_load(blob, NULL, &fm, &err);
    if (st == ERT_OK && strcmp(ert_family_desc_of(fm)->name, "mftcn") != 0)
        st = ert_fail(&err, ERT_EINVAL, "%s: --video embeds with an mftcn blob; use --role/--image for family %s", blob,
                      ert_family_desc_of(fm)->name);
    if (st == ERT_OK)
        st = ert_mftcn_create(fm, NULL, &m, &err);
    if (st == ERT_OK)
        st = ert_y4m_open(video, &y, &err);
    if (st == ERT_OK && !(e = malloc(ert_mftcn_dim(m) * sizeof *e)))
        st = ert_fail(&err, ERT_ENOMEM, "out of memory");
    for (uint64_t t = 0; st == ERT_OK; t++) {
        ert_frame f;
        bool eof;
        if ((st = ert_y4m_next(y, &f, &eof, &err)) != ERT_OK || eof)
            break;
        if ((st = ert_mftcn_push(m, &f, e, &err)) != ERT_OK)
            break;
        size_t d = ert_mftcn_dim(m);
        if (json)
            printf("{\"family\":\"mftcn\",\"frame\":%llu,\"norm\":%.9g,\"embedding\":[", (unsigned long long)t,
                   norm2(e, d));
        else
            printf("frame %llu norm %.6g:", (unsigned long long)t, norm2(e, d));
        for (size_t i = 0; i < d; i++)
            printf(json ? "%s%.9g" : "%s%.5g", json ? (i ? "," : "") : " ", e[i]);
        printf(json ? "]}\n" : "\n");
    }
    if (st != ERT_OK)
        fprintf(stderr, "embedrt embed: %s\n", err.msg);
    else
        rc = 0;
    free(e);
    ert_y4m_close(y);
    ert_mftcn_free(m);
    ert_family_free(fm);
    return rc;
}

int ert_cmd_embed(int argc, char **argv)
{
    const char *blob = NULL, *role = NULL, *image = NULL, *context = NULL, *output = NULL, *video = NULL;
    bool json = !isatty(STDOUT_FILENO);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (a[0] != '-') {
            if (blob) {
                fprintf(stderr, "embedrt embed: unexpected argument '%s'\n", a);
                return 2;
            }
            blob = a;
        } else if (!val) {
            fprintf(stderr, "embedrt embed: %s needs a value (see embedrt embed --help)\n", a);
            return 2;
        } else if (strcmp(a, "--role") == 0) {
            role = val, i++;
        } else if (strcmp(a, "--image") == 0) {
            image = val, i++;
        } else if (strcmp(a, "--context") == 0) {
            context = val, i++;
        } else if (strcmp(a, "--output") == 0) {
            output = val, i++;
        } else if (strcmp(a, "--video") == 0) {
            video = val, i++;
        } else {
            fprintf(stderr, "embedrt embed: unknown option '%s' (see embedrt embed --help)\n", a);
            return 2;
        }
    }
    if (!blob || (!video && (!role || !image))) {
        fprintf(stderr, "embedrt embed: need BLOB.erb --role ROLE --image IMG, or --video VIDEO.y4m (see embedrt embed "
                        "--help)\n");
        return 2;
    }
    if (video)
        return embed_video(blob, video, json);
    ert_error err;
    ert_family_model *fm = NULL;
    ert_image img = {0}, ctx = {0};
    int rc = 1;
    if (ert_family_load(blob, NULL, &fm, &err) != ERT_OK || ert_image_read(image, &img, &err) != ERT_OK ||
        (context && ert_image_read(context, &ctx, &err) != ERT_OK)) {
        fprintf(stderr, "embedrt embed: %s\n", err.msg);
        goto done;
    }
    int gi = ert_family_graph(fm, role);
    if (gi < 0) {
        fprintf(stderr, "embedrt embed: %s has no '%s' graph (family %s)\n", blob, role, ert_family_desc_of(fm)->name);
        goto done;
    }
    ert_graph *g = ert_model_graph(ert_family_engine(fm), (uint32_t)gi);
    uint32_t images = 0;
    for (uint32_t k = 0; k < g->n_inputs; k++) {
        const ert_tensor *t = ert_family_input(fm, gi, k);
        if (t->dtype != ERT_DT_F32 || t->shape.rank != 4 || t->shape.dims[1] != 3) {
            fprintf(stderr, "embedrt embed: role '%s' input '%s' is not an image; embed takes image inputs only\n",
                    role, t->name);
            goto done;
        }
        const ert_frame *f = images == 0 || !context ? &img.frame : &ctx.frame;
        if (ert_family_set_image(fm, gi, k, f, &err) != ERT_OK) {
            fprintf(stderr, "embedrt embed: %s: %s\n", images == 0 || !context ? image : context, err.msg);
            goto done;
        }
        images++;
    }
    if (ert_family_run(fm, gi, &err) != ERT_OK) {
        fprintf(stderr, "embedrt embed: %s\n", err.msg);
        goto done;
    }
    if (output) {
        const ert_tensor *t = &g->tensors[g->outputs[0]];
        if (ert_npy_write(output, t->dtype, &t->shape, t->data, &err) != ERT_OK) {
            fprintf(stderr, "embedrt embed: %s\n", err.msg);
            goto done;
        }
    }
    if (json) {
        printf("{\"family\":\"%s\",\"role\":", ert_family_desc_of(fm)->name);
        ert_cli_json_str(stdout, role);
        printf(",\"outputs\":{");
    }
    for (uint32_t k = 0; k < g->n_outputs; k++) {
        const ert_tensor *t = &g->tensors[g->outputs[k]];
        size_t n = 0;
        ert_shape_numel(&t->shape, &n);
        const float *v = t->data;
        char shape[64];
        ert_shape_str(&t->shape, shape, sizeof shape);
        if (json) {
            printf("%s", k ? "," : "");
            ert_cli_json_str(stdout, t->name);
            printf(":{\"shape\":[");
            for (int d = 0; d < t->shape.rank; d++)
                printf("%s%lld", d ? "," : "", (long long)t->shape.dims[d]);
            printf("],\"norm\":%.9g,\"values\":[", norm2(v, n));
            for (size_t i = 0; i < n; i++)
                printf("%s%.9g", i ? "," : "", v[i]);
            printf("]}");
        } else {
            printf("%s %s norm %.6g:", t->name, shape, norm2(v, n));
            for (size_t i = 0; i < n && i < 8; i++)
                printf(" %.5g", v[i]);
            printf("%s\n", n > 8 ? " ..." : "");
        }
    }
    if (json)
        printf("}}\n");
    rc = 0;
done:
    ert_image_free(&img);
    ert_image_free(&ctx);
    ert_family_free(fm);
    return rc;
}
