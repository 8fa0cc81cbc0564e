/* `embedrt inspect`: everything a blob says about itself, as text or one JSON object. */
#include "cli.h"
#include "qreport.h"

#include "embedrt/blob.h"
#include "embedrt/model.h"
#include "family_params.h"
#include "op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: embedrt inspect BLOB.erb [--json]\n"
          "\n"
          "Validates the blob fully (as the robot would load it) and prints its format version,\n"
          "sections with CRCs, provenance, and per graph: inputs/outputs with shapes, op counts,\n"
          "parameters, MACs, arena and weight bytes, preprocessing.\n"
          "\n"
          "  --json   one JSON object instead of text\n",
          f);
}

typedef struct op_count {
    const char *op;
    unsigned n;
} op_count;

static int cmp_count(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->op, y->op);
}

static size_t count_ops(const ert_graph *g, op_count *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const char *op = g->nodes[i].def->name;
        size_t k = 0;
        while (k < n && strcmp(out[k].op, op) != 0)
            k++;
        if (k == n) {
            if (n == cap)
                continue;
            out[n++] = (op_count){op, 0};
        }
        out[k].n++;
    }
    qsort(out, n, sizeof *out, cmp_count);
    return n;
}

static void weights(const ert_graph *g, uint64_t *params, uint64_t *bytes)
{
    *params = *bytes = 0;
    for (uint32_t t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].is_const) {
            size_t n = 0;
            ert_shape_numel(&g->tensors[t].shape, &n);
            *params += n;
            *bytes += g->tensors[t].nbytes;
        }
}

static void json_tensor_list(const ert_graph *g, const uint32_t *ids, uint32_t n)
{
    putchar('[');
    for (uint32_t i = 0; i < n; i++) {
        const ert_tensor *t = &g->tensors[ids[i]];
        printf("%s{\"name\":", i ? "," : "");
        ert_cli_json_str(stdout, t->name);
        printf(",\"dtype\":\"%s\",\"shape\":[", ert_dtype_name(t->dtype));
        for (int d = 0; d < t->shape.rank; d++)
            printf("%s%lld", d ? "," : "", (long long)t->shape.dims[d]);
        printf("]}");
    }
    putchar(']');
}

static const char *crop_name(ert_crop_mode c)
{
    return c == ERT_CROP_CENTER ? "center" : c == ERT_CROP_RECT ? "rect" : "none";
}

static const char *filter_name(ert_resize_filter f)
{
    return f == ERT_RESIZE_AREA ? "area" : f == ERT_RESIZE_NEAREST ? "nearest" : "bilinear";
}

static const char *flip_name(ert_flip f)
{
    return f == ERT_FLIP_VERTICAL ? "vertical" : f == ERT_FLIP_HORIZONTAL ? "horizontal" : "none";
}

/* Family parameters from the blob's "family" section (empty set for plain models). */
static ert_status load_params(const ert_blob *b, const ert_blob_info *info, ert_family_param_set *ps, ert_error *err)
{
    const void *data;
    size_t len;
    memset(ps, 0, sizeof *ps);
    if (!ert_blob_family_section(b, &data, &len))
        return ERT_OK;
    return ert_family_params_decode(data, len, info->family, ps, err);
}

static void json_params(const ert_family_param_set *ps)
{
    printf(",\"family_params\":{");
    for (size_t i = 0; i < ps->n; i++) {
        const ert_family_param *p = &ps->v[i];
        printf("%s", i ? "," : "");
        ert_cli_json_str(stdout, p->key);
        putchar(':');
        if (p->text) {
            ert_cli_json_str(stdout, p->text);
        } else if (p->n_values == 1) {
            printf("%.17g", p->values[0]);
        } else {
            putchar('[');
            for (size_t k = 0; k < p->n_values; k++)
                printf("%s%.17g", k ? "," : "", p->values[k]);
            putchar(']');
        }
    }
    putchar('}');
}

static void text_params(const ert_family_param_set *ps)
{
    if (!ps->n)
        return;
    printf("family parameters:");
    for (size_t i = 0; i < ps->n; i++) {
        const ert_family_param *p = &ps->v[i];
        printf(" %s=", p->key);
        if (p->text) {
            printf("%s", p->text);
            continue;
        }
        for (size_t k = 0; k < p->n_values && k < 8; k++)
            printf("%s%g", k ? "," : "", p->values[k]);
        if (p->n_values > 8)
            printf(",...(%zu values)", p->n_values);
    }
    putchar('\n');
}

static void json_quant(const ert_blob_info *info, const ert_qreport *r);

static void print_json(const ert_blob_info *info, ert_blob *b, const ert_family_param_set *ps,
                       const ert_qreport *qr)
{
    printf("{\"file\":");
    ert_cli_json_str(stdout, info->label);
    printf(",\"format_version\":\"%u.%u\",\"file_size\":%llu,\"family\":", info->major, info->minor,
           (unsigned long long)info->file_size);
    ert_cli_json_str(stdout, info->family);
    json_params(ps);
    const ert_blob_provenance *p = &info->provenance;
    printf(",\"provenance\":{\"source_file\":");
    ert_cli_json_str(stdout, p->source_name);
    printf(",\"source_size\":%llu,\"converter_version\":", (unsigned long long)p->source_size);
    ert_cli_json_str(stdout, p->converter_version);
    printf(",\"converter_git\":");
    ert_cli_json_str(stdout, p->converter_git);
    printf(",\"options\":");
    ert_cli_json_str(stdout, p->options);
    printf(",\"producer\":");
    ert_cli_json_str(stdout, p->producer_name);
    printf(",\"producer_version\":");
    ert_cli_json_str(stdout, p->producer_version);
    printf(",\"opset\":%lld}", (long long)p->opset);
    json_quant(info, qr);
    printf(",\"sections\":[");
    for (uint32_t i = 0; i < info->n_sections; i++) {
        const ert_blob_section_info *s = &info->sections[i];
        printf("%s{\"name\":", i ? "," : "");
        ert_cli_json_str(stdout, s->name);
        printf(",\"offset\":%llu,\"size\":%llu,\"stored_size\":%llu,\"crc32\":\"0x%08x\",\"compressed\":%s,"
               "\"required\":%s}",
               (unsigned long long)s->offset, (unsigned long long)s->size, (unsigned long long)s->stored_size,
               s->crc32, s->compressed ? "true" : "false", s->required ? "true" : "false");
    }
    printf("],\"graphs\":[");
    for (uint32_t gi = 0; gi < ert_blob_graph_count(b); gi++) {
        const ert_graph *g = ert_blob_graph(b, gi);
        const ert_blob_graph_info *gin = &info->graphs[gi];
        uint64_t params, wbytes;
        weights(g, &params, &wbytes);
        printf("%s{\"name\":", gi ? "," : "");
        ert_cli_json_str(stdout, g->name);
        printf(",\"role\":");
        ert_cli_json_str(stdout, gin->role);
        printf(",\"opset\":%d,\"inputs\":", g->opset);
        json_tensor_list(g, g->inputs, g->n_inputs);
        printf(",\"outputs\":");
        json_tensor_list(g, g->outputs, g->n_outputs);
        op_count ops[128];
        size_t nops = count_ops(g, ops, 128);
        printf(",\"nodes\":%u,\"op_counts\":{", g->n_nodes);
        for (size_t k = 0; k < nops; k++)
            printf("%s\"%s\":%u", k ? "," : "", ops[k].op, ops[k].n);
        printf("},\"parameters\":%llu,\"weight_bytes\":%llu,\"macs\":%llu,\"arena_bytes\":%llu,\"scratch_bytes\":%llu",
               (unsigned long long)params, (unsigned long long)wbytes, (unsigned long long)ert_graph_macs(g),
               (unsigned long long)g->arena_bytes, (unsigned long long)g->scratch_bytes);
        if (gin->has_preprocess) {
            const ert_preprocess *pp = &gin->preprocess;
            printf(",\"preprocess\":{\"crop\":\"%s\",\"crop_rect\":[%u,%u,%u,%u],\"resize\":[%u,%u],\"filter\":\"%s\","
                   "\"scale\":%.9g,\"mean\":[%.9g,%.9g,%.9g],\"std\":[%.9g,%.9g,%.9g],\"order\":\"%s\",\"flip\":\"%s\"}",
                   crop_name(pp->crop), pp->crop_x, pp->crop_y, pp->crop_w, pp->crop_h, pp->resize_w, pp->resize_h,
                   filter_name(pp->filter), pp->scale, pp->mean[0], pp->mean[1], pp->mean[2], pp->std[0], pp->std[1],
                   pp->std[2], pp->order == ERT_ORDER_BGR ? "bgr" : "rgb", flip_name(pp->flip));
        } else {
            printf(",\"preprocess\":null");
        }
        putchar('}');
    }
    printf("]}\n");
}

static void print_tensors(const char *what, const ert_graph *g, const uint32_t *ids, uint32_t n)
{
    char buf[64];
    printf("  %s:", what);
    for (uint32_t i = 0; i < n; i++) {
        const ert_tensor *t = &g->tensors[ids[i]];
        printf("%s %s %s %s", i ? ";" : "", t->name, ert_dtype_name(t->dtype), ert_shape_str(&t->shape, buf, sizeof buf));
    }
    putchar('\n');
}

/* The quantization report the converter stored (NULL report: none or unreadable). */
static void json_names(const char (*list)[257], size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) {
        printf("%s", i ? "," : "");
        ert_cli_json_str(stdout, list[i]);
    }
    printf("]");
}

static void json_quant(const ert_blob_info *info, const ert_qreport *r)
{
    printf(",\"quantized_constants\":%u,\"quantization\":", info->quantized_constants);
    if (!r) {
        printf("null");
        return;
    }
    printf("{\"mode\":");
    ert_cli_json_str(stdout, r->mode);
    printf(",\"method\":");
    ert_cli_json_str(stdout, r->method);
    printf(",\"calibration_frames\":%u,\"heldout_frames\":%u,\"forced\":%s,\"gate_cosine\":%.17g,"
           "\"activation_bits\":%u,\"outputs\":[",
           r->calibration_frames, r->heldout_frames, r->forced ? "true" : "false", r->gate_cosine,
           strcmp(r->mode, "int8") == 0 ? (r->activation_bits ? r->activation_bits : 8) : 0);
    for (size_t i = 0; i < r->n_outputs; i++) {
        const ert_qr_output *o = &r->outputs[i];
        printf("%s{\"graph\":", i ? "," : "");
        ert_cli_json_str(stdout, o->graph);
        printf(",\"output\":");
        ert_cli_json_str(stdout, o->output);
        printf(",\"cosine_mean\":%.17g,\"cosine_min\":%.17g,\"max_rel_err\":%.17g}", o->cosine_mean,
               o->cosine_min, o->max_rel_err);
    }
    printf("],\"layers\":[");
    for (size_t i = 0; i < r->n_layers; i++) {
        const ert_qr_layer *l = &r->layers[i];
        printf("%s{\"graph\":", i ? "," : "");
        ert_cli_json_str(stdout, l->graph);
        printf(",\"node\":");
        ert_cli_json_str(stdout, l->node);
        printf(",\"what\":");
        ert_cli_json_str(stdout, l->what);
        if (isfinite(l->sqnr_db))
            printf(",\"sqnr_db\":%.17g}", l->sqnr_db);
        else
            printf(",\"sqnr_db\":null}");
    }
    printf("],\"rewards\":[");
    for (size_t i = 0; i < r->n_rewards; i++) {
        printf("%s{\"name\":", i ? "," : "");
        ert_cli_json_str(stdout, r->rewards[i].name);
        printf(",\"value\":%.17g}", r->rewards[i].value);
    }
    printf("],\"kept_fp32\":");
    json_names(r->kept, r->n_kept);
    printf(",\"kept_8bit\":");
    json_names(r->kept8, r->n_kept8);
    printf("}");
}

static void print_text(const ert_blob_info *info, ert_blob *b, const ert_family_param_set *ps,
                       const ert_qreport *qr)
{
    const ert_blob_provenance *p = &info->provenance;
    printf("%s: embedrt blob format %u.%u, %llu bytes%s%s\n", info->label, info->major, info->minor,
           (unsigned long long)info->file_size, info->family[0] ? ", family " : "", info->family);
    printf("provenance: %s (%llu bytes) from %s %s, opset %lld; converted by embedrt %s (git %s)\n",
           p->source_name[0] ? p->source_name : "?", (unsigned long long)p->source_size,
           p->producer_name[0] ? p->producer_name : "?", p->producer_version, (long long)p->opset,
           p->converter_version, p->converter_git);
    if (p->options[0])
        printf("options: %s\n", p->options);
    text_params(ps);
    printf("sections:\n");
    for (uint32_t i = 0; i < info->n_sections; i++) {
        const ert_blob_section_info *s = &info->sections[i];
        printf("  %-10s offset %-9llu size %-10llu stored %-10llu crc32 0x%08x%s%s\n", s->name,
               (unsigned long long)s->offset, (unsigned long long)s->size, (unsigned long long)s->stored_size, s->crc32,
               s->compressed ? " zlib" : "", s->required ? " required" : "");
    }
    if (info->quantized_constants)
        printf("quantized constants: %u stored as int8 (per-channel scales), float32 once loaded\n",
               info->quantized_constants);
    if (qr)
        ert_qreport_print(qr, stdout, 10);
    for (uint32_t gi = 0; gi < ert_blob_graph_count(b); gi++) {
        const ert_graph *g = ert_blob_graph(b, gi);
        const ert_blob_graph_info *gin = &info->graphs[gi];
        uint64_t params, wbytes;
        weights(g, &params, &wbytes);
        printf("graph '%s'%s%s:\n", g->name, gin->role[0] ? " role " : "", gin->role);
        print_tensors("inputs", g, g->inputs, g->n_inputs);
        print_tensors("outputs", g, g->outputs, g->n_outputs);
        op_count ops[128];
        size_t nops = count_ops(g, ops, 128);
        printf("  nodes: %u (", g->n_nodes);
        for (size_t k = 0; k < nops; k++)
            printf("%s%s %u", k ? ", " : "", ops[k].op, ops[k].n);
        printf(")\n  parameters: %llu (%.2f MiB), MACs: %.2f M, arena: %.1f KiB (scratch %.1f KiB)\n",
               (unsigned long long)params, (double)wbytes / 1048576.0, (double)ert_graph_macs(g) / 1e6,
               (double)g->arena_bytes / 1024.0, (double)g->scratch_bytes / 1024.0);
        if (gin->has_preprocess) {
            const ert_preprocess *pp = &gin->preprocess;
            printf("  preprocess: flip %s, crop %s", flip_name(pp->flip), crop_name(pp->crop));
            if (pp->crop == ERT_CROP_CENTER && !pp->crop_w)
                printf(" (largest square)");
            else if (pp->crop == ERT_CROP_CENTER)
                printf(" %ux%u", pp->crop_w, pp->crop_h);
            else if (pp->crop == ERT_CROP_RECT)
                printf(" %ux%u at x=%u y=%u", pp->crop_w, pp->crop_h, pp->crop_x, pp->crop_y);
            if (pp->resize_w)
                printf(", resize %ux%u %s", pp->resize_w, pp->resize_h, filter_name(pp->filter));
            printf(", scale %g, mean %g,%g,%g, std %g,%g,%g, order %s\n", pp->scale, pp->mean[0], pp->mean[1],
                   pp->mean[2], pp->std[0], pp->std[1], pp->std[2], pp->order == ERT_ORDER_BGR ? "bgr" : "rgb");
        } else {
            printf("  preprocess: none recorded\n");
        }
    }
}

int ert_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "embedrt inspect: unknown option '%s' (see embedrt inspect --help)\n", argv[i]);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "embedrt inspect: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "embedrt inspect: need BLOB.erb (see embedrt inspect --help)\n");
        return 2;
    }
    ert_blob *b;
    ert_error err;
    if (ert_blob_open(path, &b, &err) != ERT_OK) {
        fprintf(stderr, "embedrt inspect: %s\n", err.msg);
        return 1;
    }
    const ert_blob_info *info = ert_blob_get_info(b);
    ert_family_param_set ps;
    if (load_params(b, info, &ps, &err) != ERT_OK) {
        fprintf(stderr, "embedrt inspect: %s: %s\n", path, err.msg);
        ert_blob_close(b);
        return 1;
    }
    ert_qreport qr;
    bool has_qr = false;
    if (info->quant_report) {
        if (ert_qreport_decode(info->quant_report, info->quant_report_len, &qr, &err) == ERT_OK)
            has_qr = true;
        else
            fprintf(stderr, "embedrt inspect: %s: the quantization report is unreadable: %s\n", path, err.msg);
    }
    if (json)
        print_json(info, b, &ps, has_qr ? &qr : NULL);
    else
        print_text(info, b, &ps, has_qr ? &qr : NULL);
    if (has_qr)
        ert_qreport_free(&qr);
    ert_family_params_free(&ps);
    ert_blob_close(b);
    return 0;
}
