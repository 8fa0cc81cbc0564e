/* `embedrt convert`: ONNX -> blob. Import, optimize (fold, fuse), plan memory, write.
 * With --family, several graphs by role, their preprocessing recipes and the family's
 * parameters go into one family blob. */
#include "cli.h"
#include "convert_quant.h"

#include "family_params.h"
#include "onnx_import.h"
#include "rewrite.h"

#include "embedrt/blob.h"
#include "embedrt/family.h"
#include "embedrt/model.h"
#include "embedrt/npy.h"
#include "embedrt/plan.h"
#include "embedrt/preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHAPES 32
#define MAX_GRAPHS 8
#define MAX_PARAMS 32

static void usage(FILE *f)
{
    fputs("usage: embedrt convert MODEL.onnx -o OUT.erb [--input-shape NAME=DIMS]... [--compress] [--preprocess RECIPE]\n"
          "               [--quantize int8|int8-weights [--calibration PATH] [--calibration-method M]\n"
          "                [--calibration-frames N] [--activation-bits 7|8] [--keep-fp32 NODE,...] [--force]]\n"
          "       embedrt convert --family FAMILY --graph ROLE=MODEL.onnx... -o OUT.erb\n"
          "               [--preprocess ROLE:RECIPE]... [--param KEY=VALUE]... [--latent-stats FILE.npy]\n"
          "               [--window N] [--stride S] [--input-shape NAME=DIMS]... [--compress]\n"
          "\n"
          "Converts ONNX models into an embedrt blob: folds constants, folds BatchNorm into\n"
          "convolutions, fuses activations, infers static shapes and plans the memory arena.\n"
          "\n"
          "  -o OUT.erb                 output blob (written atomically)\n"
          "  --input-shape NAME=DIMS    static shape of graph input NAME, e.g. image=1x3x224x224\n"
          "                             (default: the model's; a symbolic batch dim becomes 1)\n"
          "  --compress                 zlib-compress the blob's sections (smaller, loads slower)\n"
          "  --preprocess RECIPE        (plain model) how frames become its first input; stored in\n"
          "                             the blob, used by --calibration (keys as for families below)\n"
          "quantization:\n"
          "  --quantize int8            run Conv/Gemm/MatMul on int8 kernels (ErtQConv/ErtQGemm):\n"
          "                             weights int8 per output channel, inputs uint8 with ranges\n"
          "                             calibrated on --calibration frames (required)\n"
          "  --quantize int8-weights    store Conv/Gemm/MatMul weights as int8, symmetric per output\n"
          "                             channel (about 4x smaller); float32 again when loaded\n"
          "  --calibration PATH         folder of .ppm/.pgm/.png or a .y4m video, preprocessed with the\n"
          "                             blob's recipe (plain models: resized to the input, x/255);\n"
          "                             every 4th frame is held out to measure the quantized outputs\n"
          "                             against float32 (cosine, max relative error, in the report)\n"
          "  --calibration-frames N     use the first N frames (default: all)\n"
          "  --calibration-method M     int8 input ranges: minmax, percentile (99.99%, default) or\n"
          "                             entropy (the clipping that minimises KL divergence)\n"
          "  --activation-bits 7|8      int8: quantized inputs on 255 levels (8, default) or 127 (7:\n"
          "                             a little coarser, lets AVX2 use its faster exact vpmaddubsw kernel;\n"
          "                             the earliest layers go back to 8 bits while an output's mean\n"
          "                             cosine is below 0.995)\n"
          "  --keep-fp32 NODE,...       leave these nodes in float32; with int8, layers are also put\n"
          "                             back to float32 automatically (lowest output SQNR first)\n"
          "                             until every output's mean cosine reaches 0.99\n"
          "  --force                    write the blob even when an output's mean cosine is below 0.99\n"
          "family blobs:\n"
          "  --family FAMILY            grasp2vec, tcn, mftcn, rig or ccvae\n"
          "  --graph ROLE=MODEL.onnx    one graph per role: grasp2vec scene, object; tcn embedder;\n"
          "                             mftcn trunk, head; rig encoder[, decoder]; ccvae encoder[, context]\n"
          "  --preprocess ROLE:RECIPE   how camera frames become the role's input, e.g.\n"
          "                             scene:crop=84,20,472,472,scale=0.00392157 or\n"
          "                             embedder:crop=center,resize=299x299:bilinear,scale=0.00784314,mean=1,1,1\n"
          "                             (keys: crop=center|X,Y,W,H resize=WxH[:bilinear|area|nearest] scale=S\n"
          "                             mean=R,G,B std=R,G,B order=rgb|bgr flip=none|vertical|horizontal)\n"
          "  --param KEY=VALUE          override a family parameter (numbers, comma lists or text);\n"
          "                             `embedrt inspect` lists them with their values\n"
          "  --latent-stats FILE.npy    rig: [N, L] float32 encoded training means; their per-dimension\n"
          "                             mean and std parameterise imagined goals\n"
          "  --window N, --stride S     mftcn: frames per window (default 2) and their spacing (15)\n",
          f);
}

typedef struct graph_arg {
    char *role;
    const char *path;
    ert_graph *g;
    ert_preprocess pp;
    bool has_pp;
    ert_rewrite_stats rs;
    uint64_t size; /* bytes of the ONNX file */
} graph_arg;

/* "1,2,3" -> numbers; anything else is text. */
static int parse_values(const char *s, double *v, size_t cap, size_t *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || *n == cap || !isfinite(d))
            return 0;
        v[(*n)++] = d;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return 0;
    }
    return *n > 0;
}

static ert_status convert_one(const char *path, const ert_input_shape *shapes, size_t n_shapes, bool family,
                              ert_graph **g, ert_onnx_info *info, ert_rewrite_stats *rs, ert_error *err)
{
    ert_status st = family ? ert_onnx_import_some_shapes(path, shapes, n_shapes, g, info, err)
                           : ert_onnx_import(path, shapes, n_shapes, g, info, err);
    if (st == ERT_OK)
        st = ert_graph_optimize(*g, rs, err);
    if (st == ERT_OK)
        st = ert_plan_graph(*g, err);
    if (st != ERT_OK)
        ert_error_prefix(err, "%s", path);
    return st;
}

static ert_status check_preprocess(const graph_arg *ga, ert_error *err)
{
    if (!ga->has_pp)
        return ERT_OK;
    const ert_graph *g = ga->g;
    const ert_tensor *t = g->n_inputs ? &g->tensors[g->inputs[0]] : NULL;
    if (!t || t->dtype != ERT_DT_F32 || t->shape.rank != 4 || t->shape.dims[0] != 1 || t->shape.dims[1] != 3)
        return ert_fail(err, ERT_EINVAL, "--preprocess %s: the graph's first input is not a float32 [1,3,H,W] image",
                        ga->role);
    if (ga->pp.resize_w && (ga->pp.resize_w != (uint32_t)t->shape.dims[3] || ga->pp.resize_h != (uint32_t)t->shape.dims[2]))
        return ert_fail(err, ERT_EINVAL, "--preprocess %s: resize=%ux%u but the graph input '%s' is %lldx%lld (WxH)",
                        ga->role, ga->pp.resize_w, ga->pp.resize_h, t->name, (long long)t->shape.dims[3],
                        (long long)t->shape.dims[2]);
    return ERT_OK;
}

/* rig's imagined goals: per-dimension mean and std of the encoded training means. */
static ert_status latent_stats(const char *path, ert_family_param_set *ps, ert_error *err)
{
    ert_npy n;
    ert_status st = ert_npy_read(path, &n, err);
    if (st != ERT_OK)
        return st;
    if (n.dtype != ERT_DT_F32 || n.shape.rank != 2 || n.shape.dims[0] < 2 || n.shape.dims[1] < 1) {
        ert_npy_free(&n);
        return ert_fail(err, ERT_EINVAL, "%s: latent statistics must be float32 [N, L] with N >= 2 encoded means",
                        path);
    }
    size_t rows = (size_t)n.shape.dims[0], l = (size_t)n.shape.dims[1];
    double *mean = calloc(l, sizeof *mean), *sd = calloc(l, sizeof *sd);
    const float *x = n.data;
    if (!mean || !sd) {
        free(mean), free(sd), ert_npy_free(&n);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < l; j++)
            mean[j] += x[r * l + j];
    for (size_t j = 0; j < l; j++)
        mean[j] /= (double)rows;
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < l; j++)
            sd[j] += (x[r * l + j] - mean[j]) * (x[r * l + j] - mean[j]);
    for (size_t j = 0; j < l; j++)
        sd[j] = sqrt(sd[j] / (double)(rows - 1));
    st = ert_family_params_set(ps, "latent_mean", NULL, mean, l, err);
    if (st == ERT_OK)
        st = ert_family_params_set(ps, "latent_std", NULL, sd, l, err);
    free(mean), free(sd), ert_npy_free(&n);
    return st;
}

static void provenance_options(int argc, char **argv, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 1; i < argc && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", used ? " " : "", argv[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void print_summary(const char *in, const char *out, const ert_graph *g, const ert_rewrite_stats *rs)
{
    uint64_t weights = 0;
    for (uint32_t t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].is_const)
            weights += g->tensors[t].store_int8 ? g->tensors[t].nbytes / 4 : g->tensors[t].nbytes;
    printf("%s -> %s: %u nodes (from %u: %u folded, %u batchnorm folded, %u activations fused, %u residual adds "
           "fused, %u identities, %u dead), %.1f MMAC, arena %.1f KiB, weights %.1f KiB\n",
           in, out, rs->nodes_out, rs->nodes_in, rs->folded, rs->bn_folded, rs->act_fused, rs->residual_fused,
           rs->identities, rs->dead,
           (double)ert_graph_macs(g) / 1e6, (double)g->arena_bytes / 1024.0, (double)weights / 1024.0);
}

int ert_cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *family = NULL, *stats = NULL;
    const char *pp_args[MAX_GRAPHS], *param_args[MAX_PARAMS];
    size_t n_pp = 0, n_params = 0;
    long window = -1, stride = -1;
    bool compress = false;
    static ert_convert_quant quant; /* large (the --keep-fp32 names): not on the stack */
    memset(&quant, 0, sizeof quant);
    ert_input_shape shapes[MAX_SHAPES];
    char *shape_names[MAX_SHAPES];
    size_t n_shapes = 0;
    graph_arg ga[MAX_GRAPHS];
    size_t n_graphs = 0;
    ert_family_param_set ps = {0};
    void *fam_data = NULL;
    ert_error err;
    int rc = 2;
    memset(ga, 0, sizeof ga);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (strcmp(a, "--compress") == 0) {
            compress = true;
            takes = false;
        } else if (strcmp(a, "--force") == 0) {
            quant.force = true;
            takes = false;
        } else if (a[0] != '-') {
            if (in) {
                fprintf(stderr, "embedrt convert: unexpected argument '%s'\n", a);
                goto done;
            }
            in = a;
            takes = false;
        } else if (!val) {
            fprintf(stderr, "embedrt convert: %s needs a value (see embedrt convert --help)\n", a);
            goto done;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            out = val;
        } else if (strcmp(a, "--quantize") == 0 || strcmp(a, "--calibration") == 0 ||
                   strcmp(a, "--calibration-frames") == 0 || strcmp(a, "--keep-fp32") == 0 ||
                   strcmp(a, "--calibration-method") == 0 || strcmp(a, "--activation-bits") == 0) {
            if (ert_convert_quant_parse(&quant, a, val, &err) != ERT_OK) {
                fprintf(stderr, "embedrt convert: %s\n", err.msg);
                goto done;
            }
        } else if (strcmp(a, "--family") == 0) {
            family = val;
        } else if (strcmp(a, "--latent-stats") == 0) {
            stats = val;
        } else if (strcmp(a, "--window") == 0 || strcmp(a, "--stride") == 0) {
            if (!ert_cli_parse_int(a, val, 1, 100000, a[2] == 'w' ? &window : &stride))
                goto done;
        } else if (strcmp(a, "--graph") == 0) {
            const char *eq = strchr(val, '=');
            if (!eq || eq == val || !eq[1] || n_graphs == MAX_GRAPHS) {
                fprintf(stderr, "embedrt convert: --graph needs ROLE=MODEL.onnx (at most %d)\n", MAX_GRAPHS);
                goto done;
            }
            ga[n_graphs].role = strndup(val, (size_t)(eq - val));
            ga[n_graphs].path = eq + 1;
            n_graphs++;
        } else if (strcmp(a, "--preprocess") == 0) {
            if (n_pp == MAX_GRAPHS) {
                fprintf(stderr, "embedrt convert: too many --preprocess options\n");
                goto done;
            }
            pp_args[n_pp++] = val;
        } else if (strcmp(a, "--param") == 0) {
            if (n_params == MAX_PARAMS) {
                fprintf(stderr, "embedrt convert: too many --param options\n");
                goto done;
            }
            param_args[n_params++] = val;
        } else if (strcmp(a, "--input-shape") == 0) {
            const char *eq = strrchr(val, '=');
            if (!eq || eq == val || n_shapes == MAX_SHAPES) {
                fprintf(stderr, "embedrt convert: --input-shape needs NAME=DIMS, e.g. image=1x3x224x224\n");
                goto done;
            }
            if (ert_parse_dims(eq + 1, &shapes[n_shapes].shape, &err) != ERT_OK) {
                fprintf(stderr, "embedrt convert: --input-shape: %s\n", err.msg);
                goto done;
            }
            shape_names[n_shapes] = strndup(val, (size_t)(eq - val));
            shapes[n_shapes].name = shape_names[n_shapes];
            n_shapes++;
        } else {
            fprintf(stderr, "embedrt convert: unknown option '%s' (see embedrt convert --help)\n", a);
            goto done;
        }
        if (takes)
            i++;
    }
    if (!out || (!family && !in) || (family && (in || n_graphs == 0))) {
        fprintf(stderr, "embedrt convert: need MODEL.onnx -o OUT.erb, or --family F --graph ROLE=MODEL.onnx... -o "
                        "OUT.erb (see embedrt convert --help)\n");
        goto done;
    }
    if (!family && (n_graphs || n_pp > 1 || n_params || stats || window > 0 || stride > 0)) {
        fprintf(stderr, "embedrt convert: --graph, --param, --latent-stats, --window, --stride and more than one "
                        "--preprocess need --family\n");
        goto done;
    }
    if (ert_convert_quant_check(&quant, &err) != ERT_OK) {
        fprintf(stderr, "embedrt convert: %s\n", err.msg);
        goto done;
    }
    rc = 1;
    char options[1024];
    provenance_options(argc, argv, options, sizeof options);
    ert_status st = ERT_OK;
    ert_onnx_info info = {0};
    if (!family) {
        ga[0].path = in;
        st = convert_one(in, shapes, n_shapes, false, &ga[0].g, &info, &ga[0].rs, &err);
        /* A plain model may carry a recipe too (--preprocess RECIPE, no role): embedrt
         * embed and the calibration frames of --quantize use it. */
        const ert_preprocess *pp1[1] = {NULL};
        if (st == ERT_OK && n_pp == 1) {
            ga[0].role = strdup("model");
            ert_preprocess_default(&ga[0].pp);
            st = ert_preprocess_parse(pp_args[0], &ga[0].pp, &err);
            if (st != ERT_OK)
                ert_error_prefix(&err, "--preprocess");
            ga[0].has_pp = st == ERT_OK;
            if (st == ERT_OK)
                st = check_preprocess(&ga[0], &err);
            pp1[0] = &ga[0].pp;
        }
        if (st == ERT_OK) {
            const char *base = strrchr(in, '/');
            ert_blob_write_opts wo = {
                .preprocess = n_pp == 1 ? pp1 : NULL,
                .compress = compress,
                .source_name = base ? base + 1 : in,
                .source_size = info.file_size,
                .options = options,
                .producer_name = info.producer_name,
                .producer_version = info.producer_version,
                .opset = info.opset,
            };
            st = ert_convert_write(out, &ga[0].g, 1, &wo, &quant, stdout, &err);
        }
        if (st != ERT_OK) {
            fprintf(stderr, "embedrt convert: %s\n", err.msg);
            goto done;
        }
        print_summary(in, out, ga[0].g, &ga[0].rs);
        rc = 0;
        goto done;
    }

    /* ---- family blob ---- */
    const ert_family_desc *desc = ert_family_find(family);
    if (!desc) {
        fprintf(stderr, "embedrt convert: unknown family '%s' (known: %s)\n", family, ert_family_names());
        goto done;
    }
    size_t n_roles = 0;
    while (desc->roles[n_roles].role)
        n_roles++;
    const ert_graph *by_role[MAX_GRAPHS] = {NULL};
    for (size_t i = 0; i < n_graphs && st == ERT_OK; i++) {
        size_t r = 0;
        while (r < n_roles && strcmp(desc->roles[r].role, ga[i].role) != 0)
            r++;
        if (r == n_roles || r >= MAX_GRAPHS) {
            char roles[256] = "";
            for (size_t k = 0; k < n_roles; k++)
                snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s", k ? ", " : "",
                         desc->roles[k].role);
            st = ert_fail(&err, ERT_EINVAL, "--graph %s: family %s has no role '%s' (roles: %s)", ga[i].path, family,
                          ga[i].role, roles);
            break;
        }
        if (by_role[r]) {
            st = ert_fail(&err, ERT_EINVAL, "--graph: role '%s' given twice", ga[i].role);
            break;
        }
        st = convert_one(ga[i].path, shapes, n_shapes, true, &ga[i].g, &info, &ga[i].rs, &err);
        ga[i].size = info.file_size;
        if (st == ERT_OK) {
            /* Graph names must be unique in a blob; the role names the graph. */
            free(ga[i].g->name);
            ga[i].g->name = strdup(ga[i].role);
            by_role[r] = ga[i].g;
        }
    }
    /* Each --input-shape must name an input of at least one of the family's graphs. */
    for (size_t k = 0; st == ERT_OK && k < n_shapes; k++) {
        bool found = false;
        for (size_t i = 0; i < n_graphs && !found; i++)
            for (uint32_t j = 0; j < ga[i].g->n_inputs && !found; j++)
                found = strcmp(ga[i].g->tensors[ga[i].g->inputs[j]].name, shapes[k].name) == 0;
        if (!found)
            st = ert_fail(&err, ERT_EINVAL, "--input-shape names '%s', which is not an input of any --graph",
                          shapes[k].name);
    }
    for (size_t r = 0; st == ERT_OK && r < n_roles && r < MAX_GRAPHS; r++)
        if (desc->roles[r].required && !by_role[r])
            st = ert_fail(&err, ERT_EINVAL, "family %s needs --graph %s=MODEL.onnx (%s)", family, desc->roles[r].role,
                          desc->roles[r].doc);
    /* Preprocessing recipes by role. */
    for (size_t k = 0; st == ERT_OK && k < n_pp; k++) {
        const char *colon = strchr(pp_args[k], ':');
        size_t i = 0;
        while (colon && i < n_graphs && (strlen(ga[i].role) != (size_t)(colon - pp_args[k]) ||
                                         strncmp(ga[i].role, pp_args[k], (size_t)(colon - pp_args[k])) != 0))
            i++;
        if (!colon || i == n_graphs) {
            st = ert_fail(&err, ERT_EINVAL, "--preprocess '%s': expected ROLE:RECIPE with a role given by --graph",
                          pp_args[k]);
            break;
        }
        ert_preprocess_default(&ga[i].pp);
        st = ert_preprocess_parse(colon + 1, &ga[i].pp, &err);
        if (st != ERT_OK) {
            ert_error_prefix(&err, "--preprocess %s", ga[i].role);
            break;
        }
        ga[i].has_pp = true;
        st = check_preprocess(&ga[i], &err);
    }
    /* Parameters: every default, then the overrides. */
    if (st == ERT_OK)
        st = ert_family_params_defaults(&ps, desc, &err);
    for (size_t k = 0; st == ERT_OK && k < n_params; k++) {
        const char *eq = strchr(param_args[k], '=');
        char key[64];
        if (!eq || eq == param_args[k] || (size_t)(eq - param_args[k]) >= sizeof key) {
            st = ert_fail(&err, ERT_EINVAL, "--param '%s': expected KEY=VALUE", param_args[k]);
            break;
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - param_args[k]), param_args[k]);
        const ert_family_param *known = ert_family_params_find(&ps, key);
        if (!known) {
            st = ert_fail(&err, ERT_EINVAL, "--param %s: family %s has no parameter '%s' (see embedrt inspect)", key,
                          family, key);
            break;
        }
        double v[64];
        size_t nv;
        if (known->text)
            st = ert_family_params_set(&ps, key, eq + 1, NULL, 0, &err);
        else if (parse_values(eq + 1, v, 64, &nv))
            st = ert_family_params_set(&ps, key, NULL, v, nv, &err);
        else
            st = ert_fail(&err, ERT_EINVAL, "--param %s: '%s' is not a number or comma list of numbers", key, eq + 1);
    }
    if (st == ERT_OK && stats) {
        if (strcmp(family, "rig") != 0)
            st = ert_fail(&err, ERT_EINVAL, "--latent-stats is for the rig family");
        else
            st = latent_stats(stats, &ps, &err);
    }
    if (st == ERT_OK && (window > 0 || stride > 0)) {
        if (strcmp(family, "mftcn") != 0) {
            st = ert_fail(&err, ERT_EINVAL, "--window and --stride are for the mftcn family");
        } else {
            double w = (double)window, s = (double)stride;
            if (window > 0)
                st = ert_family_params_set(&ps, "window", NULL, &w, 1, &err);
            if (st == ERT_OK && stride > 0)
                st = ert_family_params_set(&ps, "stride", NULL, &s, 1, &err);
        }
    }
    if (st == ERT_OK && desc->check)
        st = desc->check(by_role, ps.v, ps.n, &err);
    size_t fam_len = 0;
    if (st == ERT_OK)
        st = ert_family_params_encode(&ps, family, &fam_data, &fam_len, &err);
    if (st == ERT_OK) {
        ert_graph *graphs[MAX_GRAPHS];
        const char *roles[MAX_GRAPHS];
        const ert_preprocess *pps[MAX_GRAPHS];
        char sources[1024] = "";
        uint64_t source_size = 0;
        for (size_t i = 0; i < n_graphs; i++) {
            graphs[i] = ga[i].g;
            roles[i] = ga[i].role;
            pps[i] = ga[i].has_pp ? &ga[i].pp : NULL;
            const char *base = strrchr(ga[i].path, '/');
            snprintf(sources + strlen(sources), sizeof sources - strlen(sources), "%s%s=%s", i ? "," : "", ga[i].role,
                     base ? base + 1 : ga[i].path);
            source_size += ga[i].size;
        }
        ert_blob_extra_section fam = {.name = "family", .data = fam_data, .size = fam_len, .compress = false};
        ert_blob_write_opts wo = {
            .compress = compress,
            .source_name = sources,
            .source_size = source_size,
            .options = options,
            .producer_name = info.producer_name,
            .producer_version = info.producer_version,
            .opset = info.opset,
            .family = family,
            .roles = roles,
            .preprocess = pps,
            .extra = &fam,
            .n_extra = 1,
        };
        st = ert_convert_write(out, graphs, (uint32_t)n_graphs, &wo, &quant, stdout, &err);
        for (size_t i = 0; i < n_graphs; i++)
            ga[i].g = graphs[i]; /* --quantize int8 replaces the graphs */
    }
    if (st != ERT_OK) {
        fprintf(stderr, "embedrt convert: %s\n", err.msg);
        goto done;
    }
    for (size_t i = 0; i < n_graphs; i++)
        print_summary(ga[i].path, out, ga[i].g, &ga[i].rs);
    rc = 0;
done:
    for (size_t i = 0; i < n_graphs; i++) {
        free(ga[i].role);
        ert_graph_free(ga[i].g);
    }
    if (!n_graphs) {
        ert_graph_free(ga[0].g);
        free(ga[0].role);
    }
    for (size_t i = 0; i < n_shapes; i++)
        free(shape_names[i]);
    ert_family_params_free(&ps);
    free(fam_data);
    return rc;
}
