/* Blob format v1: write -> read round trips that keep every field, and refusal of
 * truncated, bit-flipped and crafted files with the exact message each deserves. */
#include "op_util.h"

#include "embedrt/blob.h"
#include "embedrt/compress.h"
#include "embedrt/plan.h"
#include "embedrt/version.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the container layout as blob-format.md documents it (independent of the reader) ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

#define HDR 64
#define ENT 64

static uint8_t *entry(uint8_t *f, uint32_t i)
{
    return f + rd64(f + 24) + (size_t)i * ENT;
}

static uint8_t *section_entry(uint8_t *f, const char *name)
{
    for (uint32_t i = 0; i < rd32(f + 16); i++)
        if (strcmp((const char *)entry(f, i), name) == 0)
            return entry(f, i);
    CU_FAIL_FATAL("no such section");
    return NULL;
}

static uint32_t header_crc(const uint8_t *f)
{
    uint8_t h[HDR];
    memcpy(h, f, HDR);
    wr32(h + 44, 0);
    return ert_crc32(ert_crc32(0, h, HDR), f + rd64(f + 24), (size_t)rd32(f + 16) * ENT);
}

/* Recomputes every section CRC and the header CRC after a test patched the file. */
static void reseal(uint8_t *f, size_t len)
{
    for (uint32_t i = 0; i < rd32(f + 16); i++) {
        uint8_t *e = entry(f, i);
        uint64_t off = rd64(e + 24), stored = rd64(e + 32);
        if (off <= len && stored <= len - off)
            wr32(e + 20, ert_crc32(0, f + off, (size_t)stored));
    }
    wr32(f + 44, header_crc(f));
}

/* ---- a small network that exercises const inputs, params, fused act and scratch ---- */

static void add_op(ert_graph *g, const char *name, const char *op, const uint32_t *in, uint32_t n_in, uint32_t out,
                   ert_attr *attrs, size_t n_attrs)
{
    uint32_t node;
    ert_error err;
    ert_attrs a = {attrs, n_attrs};
    if (ert_graph_add_node(g, name, op, in, n_in, &out, 1, &node, &err) != ERT_OK ||
        ert_node_parse(g, node, &a, g->opset, &err) != ERT_OK ||
        g->nodes[node].def->infer(g, &g->nodes[node], &err) != ERT_OK) {
        fprintf(stderr, "add_op %s: %s\n", name, err.msg);
        CU_FAIL_FATAL("add_op");
    }
}

enum { T_X, T_W, T_B, T_C1, T_K, T_A, T_SHP, T_R, T_Y, T_COUNT };

/* x[1,2,4,4] -> Conv(3x3, pad 1, fused LeakyRelu 0.1) -> +k -> Relu -> Reshape [1,48] */
static ert_graph *build_net(const char *name)
{
    ert_graph *g = ert_graph_new(name);
    g->opset = 13;
    float w[3 * 2 * 3 * 3], b[3] = {0.1f, 0.2f, 0.3f}, k[3] = {1.0f, -2.0f, 3.0f};
    for (int i = 0; i < 54; i++)
        w[i] = 0.01f * (float)i - 0.2f;
    const int64_t shp[2] = {1, 48};
    ert_shape xs = {4, {1, 2, 4, 4}};
    uint32_t id, x;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &x, &err) == ERT_OK);
    tu_f32(g, "conv1.weight", w, 4, (int64_t[]){3, 2, 3, 3});
    tu_f32(g, "conv1.bias", b, 1, (int64_t[]){3});
    tu_out(g, "c1");
    tu_f32(g, "k", k, 4, (int64_t[]){1, 3, 1, 1});
    tu_out(g, "a");
    tu_i64(g, "shape", shp, 1, (int64_t[]){2});
    tu_out(g, "r");
    id = tu_out(g, "y");
    CU_ASSERT_EQUAL_FATAL(id, T_Y);
    ert_attr conv[] = {tu_attr_ints("kernel_shape", (int64_t[]){3, 3}, 2),
                       tu_attr_ints("pads", (int64_t[]){1, 1, 1, 1}, 4)};
    add_op(g, "conv1", "Conv", (uint32_t[]){T_X, T_W, T_B}, 3, T_C1, conv, 2);
    g->nodes[0].act = ERT_ACT_LEAKY_RELU;
    g->nodes[0].act_alpha = 0.1f;
    g->nodes[0].act_beta = -7.5f; /* unused by LeakyRelu, but must survive */
    add_op(g, "add1", "Add", (uint32_t[]){T_C1, T_K}, 2, T_A, NULL, 0);
    add_op(g, "relu1", "Relu", (uint32_t[]){T_A}, 1, T_R, NULL, 0);
    add_op(g, "flat", "Reshape", (uint32_t[]){T_R, T_SHP}, 2, T_Y, NULL, 0);
    g->inputs = malloc(sizeof *g->inputs);
    g->outputs = malloc(sizeof *g->outputs);
    g->inputs[0] = T_X;
    g->outputs[0] = T_Y;
    g->n_inputs = g->n_outputs = 1;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    return g;
}

static const ert_preprocess sample_pp = {
    .crop = ERT_CROP_RECT, .crop_x = 84, .crop_y = 20, .crop_w = 472, .crop_h = 472,
    .resize_w = 224, .resize_h = 224, .filter = ERT_RESIZE_AREA,
    .scale = 1.0f / 255.0f, .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f},
    .order = ERT_ORDER_BGR, .flip = ERT_FLIP_HORIZONTAL,
};

static ert_blob_write_opts sample_opts(bool compress)
{
    static const char *const roles[] = {"scene", "object"};
    static const ert_preprocess *const pps[] = {&sample_pp, NULL};
    return (ert_blob_write_opts){
        .compress = compress,
        .source_name = "net.onnx",
        .source_size = 123456789012ull,
        .options = "--opset 13 --compress",
        .producer_name = "pytorch",
        .producer_version = "1.13.1",
        .opset = 13,
        .family = "demo",
        .roles = roles,
        .preprocess = pps,
    };
}

/* Writes graphs to memory; the caller frees *len bytes. */
static uint8_t *write_blob(ert_graph **gs, uint32_t n, const ert_blob_write_opts *o, size_t *len)
{
    void *data = NULL;
    ert_error err;
    if (ert_blob_write_mem(gs, n, o, &data, len, &err) != ERT_OK) {
        fprintf(stderr, "write: %s\n", err.msg);
        CU_FAIL_FATAL("ert_blob_write_mem");
    }
    return data;
}

static uint8_t *net_blob(size_t *len)
{
    ert_graph *g = build_net("net");
    ert_blob_write_opts o = sample_opts(false);
    uint8_t *f = write_blob(&g, 1, &o, len);
    ert_graph_free(g);
    return f;
}

/* Loads and expects failure with exactly want (NULL: any message). */
static void expect_refused(const uint8_t *f, size_t len, ert_status code, const char *want)
{
    ert_blob *b = (ert_blob *)1;
    ert_error err;
    ert_status st = ert_blob_open_mem(f, len, "m.erb", &b, &err);
    CU_ASSERT_EQUAL(st, code);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_EQUAL(err.code, st);
    if (want && strcmp(err.msg, want) != 0)
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.msg, want);
    if (want)
        CU_ASSERT_STRING_EQUAL(err.msg, want);
}

static bool same_tensor(const ert_tensor *a, const ert_tensor *b)
{
    return strcmp(a->name, b->name) == 0 && a->dtype == b->dtype && ert_shape_equal(&a->shape, &b->shape) &&
           a->is_const == b->is_const && a->offset == b->offset && a->nbytes == b->nbytes &&
           (!a->is_const || memcmp(a->data, b->data, a->nbytes) == 0);
}

static bool same_graph(const ert_graph *a, const ert_graph *b)
{
    if (strcmp(a->name, b->name) != 0 || a->opset != b->opset || a->n_tensors != b->n_tensors ||
        a->n_nodes != b->n_nodes || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs ||
        a->arena_bytes != b->arena_bytes || a->scratch_offset != b->scratch_offset ||
        a->scratch_bytes != b->scratch_bytes)
        return false;
    for (uint32_t i = 0; i < a->n_tensors; i++)
        if (!same_tensor(&a->tensors[i], &b->tensors[i]))
            return false;
    for (uint32_t i = 0; i < a->n_nodes; i++) {
        const ert_node *x = &a->nodes[i], *y = &b->nodes[i];
        if (strcmp(x->name, y->name) != 0 || x->def != y->def || x->n_in != y->n_in || x->n_out != y->n_out ||
            x->n_ints != y->n_ints || x->n_floats != y->n_floats || x->act != y->act ||
            memcmp(&x->act_alpha, &y->act_alpha, 4) != 0 || memcmp(&x->act_beta, &y->act_beta, 4) != 0 ||
            memcmp(x->in, y->in, x->n_in * 4) != 0 || memcmp(x->out, y->out, x->n_out * 4) != 0 ||
            (x->n_ints && memcmp(x->ints, y->ints, x->n_ints * 8) != 0) ||
            (x->n_floats && memcmp(x->floats, y->floats, x->n_floats * 4) != 0))
            return false;
    }
    return memcmp(a->inputs, b->inputs, a->n_inputs * 4) == 0 && memcmp(a->outputs, b->outputs, a->n_outputs * 4) == 0;
}

static void check_round_trip(bool compress)
{
    ert_graph *g[2] = {build_net("scene_net"), build_net("object_net")};
    ((float *)g[1]->tensors[T_W].data)[5] = 42.0f; /* the towers have separate weights */
    ert_blob_write_opts o = sample_opts(compress);
    size_t len;
    uint8_t *f = write_blob(g, 2, &o, &len);
    ert_blob *b = NULL;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_blob_open_mem(f, len, "m.erb", &b, &err), ERT_OK);
    memset(f, 0xee, len); /* open_mem copied: the caller's buffer is free to go */
    free(f);

    CU_ASSERT_EQUAL(ert_blob_graph_count(b), 2);
    for (uint32_t i = 0; i < 2; i++) {
        ert_graph *l = ert_blob_graph(b, i);
        CU_ASSERT_FATAL(l != NULL);
        CU_ASSERT(same_graph(g[i], l));
        CU_ASSERT_FALSE(l->heap_owned);
        for (uint32_t t = 0; t < l->n_tensors; t++) {
            CU_ASSERT(same_tensor(&g[i]->tensors[t], &l->tensors[t]));
            if (l->tensors[t].is_const) {
                CU_ASSERT_EQUAL((uintptr_t)l->tensors[t].data % 64, 0);
            } else {
                CU_ASSERT_PTR_NULL(l->tensors[t].data);
            }
        }
    }
    ert_graph *l = ert_blob_graph(b, 0);
    CU_ASSERT_STRING_EQUAL(l->tensors[T_W].name, "conv1.weight");
    CU_ASSERT_EQUAL(l->tensors[T_SHP].dtype, ERT_DT_I64);
    CU_ASSERT_EQUAL(((const int64_t *)l->tensors[T_SHP].data)[1], 48);
    CU_ASSERT_EQUAL(l->tensors[T_Y].shape.rank, 2);
    CU_ASSERT_EQUAL(l->tensors[T_Y].shape.dims[1], 48);
    CU_ASSERT_EQUAL(l->nodes[0].act, ERT_ACT_LEAKY_RELU);
    CU_ASSERT_EQUAL(l->nodes[0].act_alpha, 0.1f);
    CU_ASSERT_EQUAL(l->nodes[0].act_beta, -7.5f);
    CU_ASSERT_STRING_EQUAL(l->nodes[0].def->name, "Conv");
    CU_ASSERT_EQUAL(l->nodes[0].n_ints, g[0]->nodes[0].n_ints);
    CU_ASSERT(l->scratch_bytes > 0); /* Conv's im2col */
    CU_ASSERT_EQUAL(((const float *)ert_blob_graph(b, 1)->tensors[T_W].data)[5], 42.0f);
    CU_ASSERT_PTR_NULL(ert_blob_graph(b, 2));

    CU_ASSERT_PTR_EQUAL(ert_blob_find_graph(b, "object_net"), ert_blob_graph(b, 1));
    CU_ASSERT_PTR_EQUAL(ert_blob_find_graph(b, "scene"), ert_blob_graph(b, 0));
    CU_ASSERT_PTR_EQUAL(ert_blob_find_graph(b, "object"), ert_blob_graph(b, 1));
    CU_ASSERT_PTR_NULL(ert_blob_find_graph(b, "gripper"));

    const ert_blob_info *in = ert_blob_get_info(b);
    CU_ASSERT_STRING_EQUAL(in->label, "m.erb");
    CU_ASSERT_EQUAL(in->major, 1);
    CU_ASSERT_EQUAL(in->minor, 1);
    CU_ASSERT_EQUAL(in->file_size, len);
    CU_ASSERT_EQUAL_FATAL(in->n_sections, 2);
    CU_ASSERT_STRING_EQUAL(in->sections[0].name, "meta");
    CU_ASSERT_STRING_EQUAL(in->sections[1].name, "weights");
    for (int s = 0; s < 2; s++) {
        CU_ASSERT_EQUAL(in->sections[s].compressed, compress);
        CU_ASSERT(in->sections[s].required && in->sections[s].known);
        CU_ASSERT_EQUAL(in->sections[s].offset % 64, 0);
        if (!compress)
            CU_ASSERT_EQUAL(in->sections[s].stored_size, in->sections[s].size);
    }
    CU_ASSERT_EQUAL(in->sections[1].size, 848); /* per graph 216 -> 256, 12 -> 64, 12 -> 64, 16: 400 -> 448 */
    CU_ASSERT_STRING_EQUAL(in->family, "demo");
    CU_ASSERT_STRING_EQUAL(in->provenance.source_name, "net.onnx");
    CU_ASSERT_EQUAL(in->provenance.source_size, 123456789012ull);
    CU_ASSERT_STRING_EQUAL(in->provenance.options, "--opset 13 --compress");
    CU_ASSERT_STRING_EQUAL(in->provenance.producer_name, "pytorch");
    CU_ASSERT_STRING_EQUAL(in->provenance.producer_version, "1.13.1");
    CU_ASSERT_STRING_EQUAL(in->provenance.converter_version, ert_version());
    CU_ASSERT_STRING_EQUAL(in->provenance.converter_git, ert_version_git());
    CU_ASSERT_EQUAL(in->provenance.opset, 13);
    CU_ASSERT_EQUAL_FATAL(in->n_graphs, 2);
    CU_ASSERT_STRING_EQUAL(in->graphs[0].name, "scene_net");
    CU_ASSERT_STRING_EQUAL(in->graphs[0].role, "scene");
    CU_ASSERT_STRING_EQUAL(in->graphs[1].role, "object");
    CU_ASSERT(in->graphs[0].has_preprocess);
    CU_ASSERT_FALSE(in->graphs[1].has_preprocess);
    CU_ASSERT_EQUAL(memcmp(&in->graphs[0].preprocess, &sample_pp, sizeof sample_pp), 0);
    ert_blob_close(b);
    ert_graph_free(g[0]);
    ert_graph_free(g[1]);
}

static void test_blob_round_trip_keeps_every_field(void)
{
    check_round_trip(false);
}

static void test_blob_round_trip_compressed(void)
{
    check_round_trip(true);
}

static void test_blob_compression_shrinks_redundant_weights(void)
{
    ert_graph *g = ert_graph_new("big");
    g->opset = 13;
    float *z = calloc(4096, sizeof *z);
    ert_shape s = {2, {1, 4096}};
    uint32_t x, c, y;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &s, NULL, false, &x, &err) == ERT_OK);
    c = tu_f32(g, "zeros", z, 2, (int64_t[]){1, 4096});
    y = tu_out(g, "y");
    add_op(g, "add", "Add", (uint32_t[]){x, c}, 2, y, NULL, 0);
    g->inputs = malloc(4), g->outputs = malloc(4);
    g->inputs[0] = x, g->outputs[0] = y, g->n_inputs = g->n_outputs = 1;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    size_t plain_len, z_len;
    uint8_t *plain = write_blob(&g, 1, NULL, &plain_len);
    ert_blob_write_opts o = {.compress = true, .level = 9};
    uint8_t *zf = write_blob(&g, 1, &o, &z_len);
    CU_ASSERT(plain_len > 16384);
    CU_ASSERT(z_len < 1024);
    ert_blob *b;
    CU_ASSERT_EQUAL_FATAL(ert_blob_open_mem(zf, z_len, "z.erb", &b, &err), ERT_OK);
    const ert_blob_info *in = ert_blob_get_info(b);
    CU_ASSERT_EQUAL(in->sections[1].size, 16384);
    CU_ASSERT(in->sections[1].stored_size < 200);
    CU_ASSERT_EQUAL((uintptr_t)ert_blob_graph(b, 0)->tensors[c].data % 64, 0);
    CU_ASSERT_EQUAL(memcmp(ert_blob_graph(b, 0)->tensors[c].data, z, 16384), 0);
    CU_ASSERT_STRING_EQUAL(in->provenance.source_name, "");
    CU_ASSERT_STRING_EQUAL(in->family, "");
    CU_ASSERT_STRING_EQUAL(in->graphs[0].role, "");
    ert_blob_close(b);
    free(plain), free(zf), free(z);
    ert_graph_free(g);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ert-blob-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_blob_file_write_is_atomic_and_maps_weights_in_place(void)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/net.erb", tmpdir);
    ert_graph *g = build_net("net");
    ert_blob_write_opts o = sample_opts(false);
    o.fsync = true;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_blob_write(path, &g, 1, &o, &err), ERT_OK);
    ((float *)g->tensors[T_B].data)[0] = 9.0f;
    CU_ASSERT_EQUAL_FATAL(ert_blob_write(path, &g, 1, &o, &err), ERT_OK); /* replaces the first */
    CU_ASSERT_EQUAL(count_dir_entries(tmpdir), 1);                      /* no temporary left over */
    ert_blob *b = NULL;
    CU_ASSERT_EQUAL_FATAL(ert_blob_open(path, &b, &err), ERT_OK);
    ert_graph *l = ert_blob_graph(b, 0);
    CU_ASSERT(same_graph(g, l));
    CU_ASSERT_EQUAL(((const float *)l->tensors[T_B].data)[0], 9.0f);
    for (uint32_t t = 0; t < l->n_tensors; t++)
        if (l->tensors[t].is_const)
            CU_ASSERT_EQUAL((uintptr_t)l->tensors[t].data % 64, 0);
    CU_ASSERT_STRING_EQUAL(ert_blob_get_info(b)->label, path);
    ert_blob_close(b);

    /* a failing write leaves the old file alone */
    g->nodes[0].name = realloc(g->nodes[0].name, 300);
    memset(g->nodes[0].name, 'n', 299);
    g->nodes[0].name[299] = '\0';
    CU_ASSERT_EQUAL(ert_blob_write(path, &g, 1, &o, &err), ERT_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s: graph 0 node 0 name is 299 bytes long; the blob format allows 256", path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CU_ASSERT_EQUAL(count_dir_entries(tmpdir), 1);
    CU_ASSERT_EQUAL(ert_blob_open(path, &b, &err), ERT_OK);
    ert_blob_close(b);

    snprintf(want, sizeof want, "%s/missing.erb", tmpdir);
    CU_ASSERT_EQUAL(ert_blob_open(want, &b, &err), ERT_ENOTFOUND);
    CU_ASSERT_PTR_NULL(b);
    unlink(path);
    rmdir(tmpdir);
    ert_graph_free(g);
}

/* ---- the container ---- */

static void test_blob_refuses_newer_major_version(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    f[8] = 2, f[9] = 0, f[10] = 0, f[11] = 0;
    reseal(f, len);
    expect_refused(f, len, ERT_EUNSUPPORTED,
                   "m.erb: blob format 2.0 is newer than this embedrt (reads 1.x); upgrade embedrt");
    f[8] = 7, f[10] = 3;
    expect_refused(f, 12, ERT_EUNSUPPORTED, /* even before the rest of the header */
                   "m.erb: blob format 7.3 is newer than this embedrt (reads 1.x); upgrade embedrt");
    f[8] = 0;
    expect_refused(f, len, ERT_EUNSUPPORTED,
                   "m.erb: blob format 0.3 is older than this embedrt reads (1.x); convert the model again");
    free(f);
}

static void test_blob_accepts_newer_minor_version(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    f[10] = 7;
    reseal(f, len);
    ert_blob *b;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_blob_open_mem(f, len, "m.erb", &b, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_blob_get_info(b)->minor, 7);
    ert_blob_close(b);
    free(f);
}

static void test_blob_refuses_bad_magic(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    f[3] ^= 0x20;
    expect_refused(f, len, ERT_EFORMAT, "m.erb: not an embedrt blob (bad magic)");
    expect_refused((const uint8_t *)"PK\3\4", 4, ERT_EFORMAT, "m.erb: not an embedrt blob (bad magic)");
    free(f);
}

static void test_blob_refuses_every_truncation(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    for (size_t n = 0; n < len; n++)
        expect_refused(f, n, ERT_EFORMAT, NULL);
    expect_refused(f, 0, ERT_EFORMAT, "m.erb: truncated: 0 bytes, shorter than the 64-byte header");
    expect_refused(f, 63, ERT_EFORMAT, "m.erb: truncated: 63 bytes, shorter than the 64-byte header");
    char want[128];
    snprintf(want, sizeof want, "m.erb: truncated: the header says %zu bytes, the file has %zu", len, len - 1);
    expect_refused(f, len - 1, ERT_EFORMAT, want);
    uint8_t *longer = calloc(1, len + 5);
    memcpy(longer, f, len);
    snprintf(want, sizeof want, "m.erb: 5 unexpected bytes after the end of the blob (%zu bytes)", len);
    expect_refused(longer, len + 5, ERT_EFORMAT, want);
    free(longer);
    free(f);
}

/* Bytes outside the header, the table and every section: alignment padding, which no
 * CRC covers and the reader never looks at. */
static bool is_padding(uint8_t *f, size_t at)
{
    uint64_t toff = rd64(f + 24);
    uint32_t n = rd32(f + 16);
    if (at < HDR || (at >= toff && at < toff + (uint64_t)n * ENT))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = rd64(entry(f, i) + 24), stored = rd64(entry(f, i) + 32);
        if (at >= off && at < off + stored)
            return false;
    }
    return true;
}

static void check_every_bit_flip(bool compress)
{
    ert_graph *g = build_net("net");
    ert_blob_write_opts o = sample_opts(compress);
    size_t len;
    uint8_t *f = write_blob(&g, 1, &o, &len);
    size_t padding = 0, refused = 0;
    for (size_t i = 0; i < len; i++) {
        bool pad = is_padding(f, i);
        f[i] ^= (uint8_t)(1u << (i % 8));
        ert_blob *b = NULL;
        ert_error err;
        ert_status st = ert_blob_open_mem(f, len, "m.erb", &b, &err);
        f[i] ^= (uint8_t)(1u << (i % 8));
        if (pad) {
            padding++;
            CU_ASSERT_EQUAL(st, ERT_OK);
            CU_ASSERT(b && same_graph(g, ert_blob_graph(b, 0)));
        } else {
            refused += st != ERT_OK;
            CU_ASSERT_NOT_EQUAL(st, ERT_OK);
            CU_ASSERT_PTR_NULL(b);
            CU_ASSERT(strncmp(err.msg, "m.erb: ", 7) == 0);
        }
        ert_blob_close(b);
    }
    /* meta ends wherever it ends; weights start at the next multiple of 64 */
    const uint8_t *m = section_entry(f, "meta"), *w = section_entry(f, "weights");
    CU_ASSERT_EQUAL(padding, rd64(w + 24) - rd64(m + 24) - rd64(m + 32));
    CU_ASSERT_EQUAL(refused, len - padding);
    CU_ASSERT(refused > 1000 || compress);
    free(f);
    ert_graph_free(g);
}

static void test_blob_bit_flip_anywhere_fails_or_lands_in_padding(void)
{
    check_every_bit_flip(false);
}

static void test_blob_bit_flip_compressed(void)
{
    check_every_bit_flip(true);
}

static void test_blob_refuses_header_crc_mismatch(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    uint32_t stored = rd32(f + 44);
    f[60] = 1; /* reserved, but covered */
    char want[128];
    snprintf(want, sizeof want, "m.erb: header CRC mismatch (expected 0x%08x, got 0x%08x)", stored, header_crc(f));
    expect_refused(f, len, ERT_EFORMAT, want);
    free(f);
}

static void test_blob_refuses_section_crc_mismatch(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    uint8_t *w = section_entry(f, "weights");
    uint32_t stored = rd32(w + 20);
    f[rd64(w + 24) + 100] ^= 0x80;
    char want[128];
    snprintf(want, sizeof want, "m.erb: section 'weights' CRC mismatch (expected 0x%08x, got 0x%08x)", stored,
             ert_crc32(0, f + rd64(w + 24), rd64(w + 32)));
    expect_refused(f, len, ERT_EFORMAT, want);
    free(f);
}

static void test_blob_refuses_overlapping_and_misplaced_sections(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    uint8_t *copy = malloc(len);
    uint8_t *m = section_entry(f, "meta"), *w = section_entry(f, "weights");
    memcpy(copy, f, len);
    wr64(section_entry(copy, "weights") + 24, rd64(m + 24) + 64 * ((rd64(m + 32) - 1) / 64));
    wr32(copy + 44, header_crc(copy));
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: sections 'meta' and 'weights' overlap");

    memcpy(copy, f, len);
    wr64(section_entry(copy, "meta") + 24, 64); /* onto the table */
    wr32(copy + 44, header_crc(copy));
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: section 'meta' at offset 64 overlaps the header or the section table");

    memcpy(copy, f, len);
    wr64(section_entry(copy, "weights") + 24, rd64(w + 24) + 8);
    wr32(copy + 44, header_crc(copy));
    char want[160];
    snprintf(want, sizeof want, "m.erb: section 'weights' at offset %llu is not 64-byte aligned",
             (unsigned long long)rd64(w + 24) + 8);
    expect_refused(copy, len, ERT_EFORMAT, want);

    memcpy(copy, f, len);
    wr64(section_entry(copy, "weights") + 32, rd64(w + 32) + 64);
    wr32(copy + 44, header_crc(copy));
    snprintf(want, sizeof want, "m.erb: section 'weights' [%llu, +%llu) lies outside the file (%zu bytes)",
             (unsigned long long)rd64(w + 24), (unsigned long long)rd64(w + 32) + 64, len);
    expect_refused(copy, len, ERT_EFORMAT, want);

    memcpy(copy, f, len);
    memcpy(section_entry(copy, "weights"), "meta\0\0\0", 7);
    wr32(copy + 44, header_crc(copy));
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: section 'meta' appears twice");

    memcpy(copy, f, len);
    memcpy(section_entry(copy, "weights"), "we ights", 8);
    wr32(copy + 44, header_crc(copy));
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: section 1 has an invalid name");

    memcpy(copy, f, len);
    memcpy(section_entry(copy, "weights"), "wexghts", 7);
    wr32(section_entry(copy, "wexghts") + 16, 0); /* not required: an ignored unknown section */
    wr32(copy + 44, header_crc(copy));
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: no 'weights' section");
    free(copy);
    free(f);
}

static void test_blob_unknown_sections_required_refused_optional_ignored(void)
{
    ert_graph *g = build_net("net");
    static const char payload[] = "calibration report v9";
    ert_blob_extra_section x[2] = {{"notes", payload, sizeof payload, true, false},
                                   {"quant", payload, sizeof payload, false, true}};
    ert_blob_write_opts o = {.extra = x, .n_extra = 1};
    size_t len;
    uint8_t *f = write_blob(&g, 1, &o, &len);
    ert_blob *b;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_blob_open_mem(f, len, "m.erb", &b, &err), ERT_OK);
    const ert_blob_info *in = ert_blob_get_info(b);
    CU_ASSERT_EQUAL_FATAL(in->n_sections, 3);
    CU_ASSERT_STRING_EQUAL(in->sections[2].name, "notes");
    CU_ASSERT(in->sections[2].compressed && !in->sections[2].known && !in->sections[2].required);
    CU_ASSERT_EQUAL(in->sections[2].size, sizeof payload);
    ert_blob_close(b);
    free(f);

    o.n_extra = 2;
    f = write_blob(&g, 1, &o, &len);
    expect_refused(f, len, ERT_EUNSUPPORTED,
                   "m.erb: section 'quant' is required but unknown to this embedrt (reads format 1.1); upgrade embedrt");
    free(f);

    x[1].name = "weights";
    void *out;
    CU_ASSERT_EQUAL(ert_blob_write_mem(&g, 1, &o, &out, &len, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "extra section name 'weights' is not allowed");
    ert_graph_free(g);
}

static void test_blob_refuses_unknown_flags_and_impossible_sizes(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    uint8_t *copy = malloc(len);
    memcpy(copy, f, len);
    wr32(section_entry(copy, "meta") + 16, 0x12);
    reseal(copy, len);
    expect_refused(copy, len, ERT_EUNSUPPORTED,
                   "m.erb: section 'meta' has unknown flags 0x00000012 (this embedrt reads format 1.1)");
    memcpy(copy, f, len);
    wr32(copy + 40, 0x4);
    reseal(copy, len);
    expect_refused(copy, len, ERT_EUNSUPPORTED,
                   "m.erb: header flags 0x00000004 need features this embedrt (format 1.1) lacks; upgrade embedrt");
    memcpy(copy, f, len);
    wr32(copy + 40, 0x40000); /* optional feature bits are ignored */
    reseal(copy, len);
    ert_blob *b;
    CU_ASSERT_EQUAL(ert_blob_open_mem(copy, len, "m.erb", &b, NULL), ERT_OK);
    ert_blob_close(b);
    memcpy(copy, f, len);
    uint8_t *w = section_entry(copy, "weights");
    wr64(w + 40, rd64(w + 40) + 1);
    reseal(copy, len);
    char want[160];
    snprintf(want, sizeof want, "m.erb: section 'weights' is stored uncompressed in %llu bytes but claims %llu",
             (unsigned long long)rd64(w + 32), (unsigned long long)rd64(w + 40));
    expect_refused(copy, len, ERT_EFORMAT, want);
    memcpy(copy, f, len);
    wr64(section_entry(copy, "meta") + 40, (16u << 20) + 1);
    reseal(copy, len);
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: section 'meta' of 16777217 bytes exceeds the limit of 16777216");
    uint8_t *many = calloc(1, HDR + 257 * ENT); /* a table of 257 (empty) entries */
    memcpy(many, f, HDR);
    wr32(many + 16, 257);
    wr64(many + 32, HDR + 257 * ENT);
    wr32(many + 44, header_crc(many));
    expect_refused(many, HDR + 257 * ENT, ERT_EFORMAT, "m.erb: the section table has 257 entries; at most 256 are allowed");
    free(many);
    free(copy);
    free(f);

    ert_graph *g = build_net("net");
    ert_blob_write_opts o = {.compress = true};
    f = write_blob(&g, 1, &o, &len);
    w = section_entry(f, "weights");
    wr64(w + 40, rd64(w + 40) - 4);
    reseal(f, len);
    expect_refused(f, len, ERT_EFORMAT, "m.erb: section 'weights': inflate: data expands beyond the expected 396 bytes");
    wr64(w + 40, 1ull << 40);
    reseal(f, len);
    snprintf(want, sizeof want, "m.erb: section 'weights': %llu bytes cannot come from %llu compressed bytes",
             1ull << 40, (unsigned long long)rd64(w + 32));
    expect_refused(f, len, ERT_EFORMAT, want);
    free(f);
    ert_graph_free(g);
}

/* ---- the meta section ---- */

static void expect_graph_refused(ert_graph *g, ert_status code, const char *want)
{
    size_t len;
    uint8_t *f = write_blob(&g, 1, NULL, &len);
    expect_refused(f, len, code, want);
    free(f);
}

static void test_blob_refuses_bad_tensor_id(void)
{
    ert_graph *g = build_net("net");
    g->nodes[1].in[0] = 99;
    expect_graph_refused(g, ERT_EFORMAT, "m.erb: meta: graph 0 'net': node 1 'add1': input 0 is tensor 99; the graph has 9 tensors");
    g->nodes[1].in[0] = T_C1;
    g->nodes[3].out[0] = ERT_NO_TENSOR;
    expect_graph_refused(g, ERT_EFORMAT,
                         "m.erb: meta: graph 0 'net': node 3 'flat': output 0 is tensor 4294967295; the graph has 9 tensors");
    g->nodes[3].out[0] = T_SHP;
    expect_graph_refused(g, ERT_EFORMAT, "m.erb: meta: graph 0 'net': node 3 'flat': output 0 'shape' is a constant");
    g->nodes[3].out[0] = T_Y;
    g->outputs[0] = 9;
    expect_graph_refused(g, ERT_EFORMAT, "m.erb: meta: graph 0 'net': plan: graph output 0 is tensor 9; the graph has 9 tensors");
    ert_graph_free(g);
}

/* Blob 1.1: a float32 constant stored as int8 with per-channel scales (the converter's
 * --quantize int8-weights) is a quarter of the bytes, sets the required header flag, and
 * loads as float32 q * scale[c]; bad scales are refused when writing. */
static void test_blob_int8_storage_dequantizes_at_load(void)
{
    ert_graph *g = build_net("net");
    const float *w = g->tensors[T_W].data;
    float sc[3] = {0};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 18; i++)
            sc[c] = fmaxf(sc[c], fabsf(w[c * 18 + i]) / 127.0f);
    uint32_t sid = tu_f32(g, "conv1.weight.scales", sc, 1, (int64_t[]){3});
    g->tensors[T_W].store_int8 = true;
    g->tensors[T_W].store_axis = 0;
    g->tensors[T_W].store_scales = sid;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &(ert_error){0}), ERT_OK);
    size_t len;
    ert_blob_write_opts o = sample_opts(false);
    uint8_t *f = write_blob(&g, 1, &o, &len);
    CU_ASSERT_EQUAL(rd32(f + 40), 1u); /* ERT_HDR_FLAG_QUANT_STORAGE */
    CU_ASSERT_EQUAL(rd64(section_entry(f, "weights") + 40), 64u * 4 + 12); /* w: 54 B of int8; b, k, shape, scales */
    ert_blob *b = NULL;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_blob_open_mem(f, len, "m.erb", &b, &err), ERT_OK);
    const ert_blob_info *in = ert_blob_get_info(b);
    CU_ASSERT_EQUAL(in->quantized_constants, 1);
    const ert_tensor *t = &ert_blob_graph(b, 0)->tensors[T_W];
    CU_ASSERT_EQUAL(t->dtype, ERT_DT_F32);
    CU_ASSERT_EQUAL(t->nbytes, 54 * 4);
    CU_ASSERT_EQUAL((uintptr_t)t->data % 64, 0);
    const float *d = t->data;
    int exact = 0, within = 0;
    for (int i = 0; i < 54; i++) {
        float q = rintf(w[i] / sc[i / 18]);
        exact += d[i] == q * sc[i / 18];
        within += fabsf(d[i] - w[i]) <= 0.5f * sc[i / 18] * 1.0001f;
    }
    CU_ASSERT_EQUAL(exact, 54);
    CU_ASSERT_EQUAL(within, 54);
    ert_blob_close(b);
    free(f);

    /* A zero or negative scale cannot be stored. */
    ((float *)g->tensors[sid].data)[1] = 0.0f;
    void *data = NULL;
    CU_ASSERT_EQUAL(ert_blob_write_mem(&g, 1, &o, &data, &len, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "graph 0 'net': constant 'conv1.weight' is to be stored as int8 but its scales "
                                    "are not a positive float32 constant along a dimension");
    CU_ASSERT_PTR_NULL(data);
    ert_graph_free(g);
}

static void test_blob_refuses_nbytes_mismatch(void)
{
    ert_graph *g = build_net("net");
    g->tensors[T_C1].nbytes = 100;
    expect_graph_refused(g, ERT_EFORMAT, "m.erb: meta: graph 0 'net': tensor 3 'c1': nbytes 100 but float32 1x3x4x4 is 192 bytes");
    g->tensors[T_C1].nbytes = 192;
    g->tensors[T_C1].dtype = (ert_dtype)99; /* the writer refuses what it cannot encode */
    void *out;
    size_t len;
    ert_error err;
    CU_ASSERT_EQUAL(ert_blob_write_mem(&g, 1, NULL, &out, &len, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "graph 0 'net': tensor 3 'c1' has no known dtype and shape (run infer)");
    ert_graph_free(g);
}

static void test_blob_refuses_const_outside_weights(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    uint8_t *w = section_entry(f, "weights");
    wr64(w + 32, 320), wr64(w + 40, 320); /* cut the weights section after conv1.weight + bias */
    reseal(f, len);
    expect_refused(f, len, ERT_EFORMAT,
                   "m.erb: meta: graph 0 'net': tensor 4 'k': offset+nbytes 320+12 exceeds the weights section (320 bytes)");
    free(f);
}

static void test_blob_refuses_unknown_op_and_bad_activation(void)
{
    ert_graph *g = build_net("net");
    const ert_op_def *relu = g->nodes[2].def;
    static const ert_op_def fake = {.name = "Frobnicate"};
    g->nodes[2].def = &fake;
    expect_graph_refused(g, ERT_EUNSUPPORTED,
                         "m.erb: meta: graph 0 'net': node 2 'relu1': op 'Frobnicate' is not supported by this embedrt");
    g->nodes[2].def = relu;
    g->nodes[2].act = ERT_ACT_SIGMOID;
    expect_graph_refused(g, ERT_EFORMAT,
                         "m.erb: meta: graph 0 'net': node 2 'relu1' (Relu): has a fused activation but the op cannot apply one");
    g->nodes[2].act = ERT_ACT_NONE;
    g->nodes[0].act = (ert_act)6;
    expect_graph_refused(g, ERT_EFORMAT, "m.erb: meta: graph 0 'net': node 0 'conv1' (Conv): unknown fused activation 6");
    ert_graph_free(g);
}

static void test_blob_refuses_shape_that_infer_disagrees_with(void)
{
    ert_graph *g = build_net("net");
    g->tensors[T_R].shape.dims[3] = 5;
    g->tensors[T_R].nbytes = 240;
    expect_graph_refused(g, ERT_EFORMAT,
                         "m.erb: meta: graph 0 'net': node 'relu1' (Relu): output 0 'r' is stored as float32 1x3x4x5 but "
                         "infers as float32 1x3x4x4");
    g->tensors[T_R].shape.dims[3] = 4;
    g->tensors[T_R].nbytes = 192;
    g->nodes[3].ints[0] = 7; /* Reshape's allowzero must be 0 or 1: infer checks hostile params */
    size_t len;
    uint8_t *f = write_blob(&g, 1, NULL, &len);
    ert_blob *b;
    ert_error err;
    CU_ASSERT_EQUAL(ert_blob_open_mem(f, len, "m.erb", &b, &err), ERT_EFORMAT);
    CU_ASSERT(strncmp(err.msg, "m.erb: meta: graph 0 'net': node 'flat' (Reshape): ", 51) == 0);
    free(f);
    ert_graph_free(g);
}

static void test_blob_refuses_bad_plan(void)
{
    ert_graph *g = build_net("net");
    g->arena_bytes -= 64;
    char want[200];
    snprintf(want, sizeof want,
             "m.erb: meta: graph 0 'net': plan: scratch [%llu, +%llu) lies outside the %llu-byte arena",
             (unsigned long long)g->scratch_offset, (unsigned long long)g->scratch_bytes,
             (unsigned long long)g->arena_bytes);
    expect_graph_refused(g, ERT_EFORMAT, want);
    g->scratch_offset = 64;
    g->arena_bytes = 64 + g->scratch_bytes;
    expect_graph_refused(g, ERT_EFORMAT,
                         "m.erb: meta: graph 0 'net': plan: tensor 0 'x': offset+nbytes 192+128 exceeds the activation "
                         "region (64 bytes)");
    ert_graph_free(g);
}

static void test_blob_refuses_bad_preprocess_and_duplicate_graphs(void)
{
    ert_graph *g[2] = {build_net("net"), build_net("net")};
    ert_preprocess pp = sample_pp;
    pp.std[1] = 0.0f;
    const ert_preprocess *pps[] = {&pp};
    ert_blob_write_opts o = {.preprocess = pps};
    void *out;
    size_t len;
    ert_error err;
    CU_ASSERT_EQUAL(ert_blob_write_mem(g, 1, &o, &out, &len, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "graph 0 'net': preprocess: std[1] 0 must be finite and non-zero");
    uint8_t *f = write_blob(g, 2, NULL, &len);
    expect_refused(f, len, ERT_EFORMAT, "m.erb: meta: graphs 0 and 1 are both named 'net'");
    free(f);
    ert_graph_free(g[0]);
    ert_graph_free(g[1]);
}

static uint64_t read_varint(const uint8_t *p, size_t *i)
{
    uint64_t v = 0;
    for (int sh = 0;; sh += 7) {
        v |= (uint64_t)(p[*i] & 0x7f) << sh;
        if (!(p[(*i)++] & 0x80))
            return v;
    }
}

/* Walks protobuf fields (varint and length-delimited only) from *i to the first with
 * this tag byte; leaves *i at its payload and returns the payload length. */
static uint64_t find_field(const uint8_t *p, size_t *i, size_t end, uint8_t tag)
{
    while (*i < end) {
        uint8_t t = p[(*i)++];
        uint64_t v = read_varint(p, i);
        if (t == tag)
            return v;
        CU_ASSERT_FATAL((t & 7) == 0 || (t & 7) == 2);
        if ((t & 7) == 2)
            *i += v;
    }
    CU_FAIL_FATAL("field not found");
    return 0;
}

static void test_blob_refuses_garbage_meta(void)
{
    size_t len;
    uint8_t *f = net_blob(&len);
    uint8_t *m = section_entry(f, "meta");
    uint8_t *meta = f + rd64(m + 24);
    const size_t mlen = rd64(m + 32);
    uint8_t *copy = malloc(len);
    memcpy(copy, f, len);

    /* BlobMeta.graphs (field 3): a length far beyond the section */
    size_t i = 0;
    find_field(meta, &i, mlen, 0x1a);
    size_t graph_at = i; /* the graph is > 127 bytes: its length is the 2-byte varint before */
    CU_ASSERT_FATAL(meta[i - 3] == 0x1a && (meta[i - 2] & 0x80));
    copy[rd64(m + 24) + i - 2] = 0xff, copy[rd64(m + 24) + i - 1] = 0x7f;
    reseal(copy, len);
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: meta: cannot decode (parent stream too short)");

    /* GraphDef.tensors[0].name (field 1) longer than its TensorDef */
    memcpy(copy, f, len);
    i = graph_at;
    find_field(meta, &i, mlen, 0x22);
    CU_ASSERT_EQUAL_FATAL(meta[i], 0x0a);
    copy[rd64(m + 24) + i + 1] = 0x7e;
    reseal(copy, len);
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: meta: graph 0 'net': tensor 0 (end-of-stream)");

    /* an unterminated varint as the first byte */
    memcpy(copy, f, len);
    memset(copy + rd64(m + 24), 0xff, 12);
    reseal(copy, len);
    expect_refused(copy, len, ERT_EFORMAT, NULL);

    memcpy(copy, f, len);
    wr64(section_entry(copy, "meta") + 32, 0), wr64(section_entry(copy, "meta") + 40, 0); /* empty: no graphs */
    reseal(copy, len);
    expect_refused(copy, len, ERT_EFORMAT, "m.erb: meta: the blob holds no graphs");
    free(copy);
    free(f);
}

static void test_blob_refuses_hostile_preprocess(void)
{
    ert_graph *g = build_net("net");
    ert_blob_write_opts o = sample_opts(false);
    size_t len;
    uint8_t *f = write_blob(&g, 1, &o, &len);
    uint8_t *m = section_entry(f, "meta");
    uint8_t *meta = f + rd64(m + 24);
    /* Preprocess.scale is field 9, fixed32: tag 0x4d then 1/255 */
    float scale = 1.0f / 255.0f;
    uint8_t pattern[5] = {0x4d};
    memcpy(pattern + 1, &scale, 4);
    size_t at = 0, mlen = rd64(m + 32);
    while (at + 5 <= mlen && memcmp(meta + at, pattern, 5) != 0)
        at++;
    CU_ASSERT_FATAL(at + 5 <= mlen);
    const float nan = __builtin_nanf("");
    memcpy(meta + at + 1, &nan, 4);
    reseal(f, len);
    expect_refused(f, len, ERT_EFORMAT, "m.erb: meta: graph 0 'net': preprocess: scale nan must be finite and non-zero");
    free(f);
    ert_graph_free(g);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_blob_round_trip_keeps_every_field),
    ERT_TEST(test_blob_round_trip_compressed),
    ERT_TEST(test_blob_compression_shrinks_redundant_weights),
    ERT_TEST(test_blob_file_write_is_atomic_and_maps_weights_in_place),
    ERT_TEST(test_blob_refuses_newer_major_version),
    ERT_TEST(test_blob_accepts_newer_minor_version),
    ERT_TEST(test_blob_refuses_bad_magic),
    ERT_TEST(test_blob_refuses_every_truncation),
    ERT_TEST(test_blob_bit_flip_anywhere_fails_or_lands_in_padding),
    ERT_TEST(test_blob_bit_flip_compressed),
    ERT_TEST(test_blob_refuses_header_crc_mismatch),
    ERT_TEST(test_blob_refuses_section_crc_mismatch),
    ERT_TEST(test_blob_refuses_overlapping_and_misplaced_sections),
    ERT_TEST(test_blob_unknown_sections_required_refused_optional_ignored),
    ERT_TEST(test_blob_refuses_unknown_flags_and_impossible_sizes),
    ERT_TEST(test_blob_refuses_bad_tensor_id),
    ERT_TEST(test_blob_refuses_nbytes_mismatch),
    ERT_TEST(test_blob_int8_storage_dequantizes_at_load),
    ERT_TEST(test_blob_refuses_const_outside_weights),
    ERT_TEST(test_blob_refuses_unknown_op_and_bad_activation),
    ERT_TEST(test_blob_refuses_shape_that_infer_disagrees_with),
    ERT_TEST(test_blob_refuses_bad_plan),
    ERT_TEST(test_blob_refuses_bad_preprocess_and_duplicate_graphs),
    ERT_TEST(test_blob_refuses_hostile_preprocess),
    ERT_TEST(test_blob_refuses_garbage_meta),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_blob = {"blob", cases};
