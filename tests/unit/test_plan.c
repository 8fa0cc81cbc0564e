/* Arena planner: sharing between tensors whose lifetimes do not overlap, exact layouts
 * on small graphs, and a verifier that agrees with brute force on random plans. */
#include "op_util.h"

#include "embedrt/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t act(ert_graph *g, const char *name, int64_t n)
{
    ert_shape s = {2, {1, n}};
    uint32_t id;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, name, ERT_DT_F32, &s, NULL, false, &id, &err) == ERT_OK);
    return id;
}

/* A node for the planner only: it looks at structure, shapes and def->scratch. */
static void node(ert_graph *g, const char *name, const char *op, const uint32_t *in, uint32_t n_in, const uint32_t *out,
                 uint32_t n_out)
{
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_node(g, name, op, in, n_in, out, n_out, NULL, &err) == ERT_OK);
}

static void set_io(ert_graph *g, const uint32_t *in, uint32_t n_in, const uint32_t *out, uint32_t n_out)
{
    g->inputs = malloc((n_in ? n_in : 1) * sizeof *g->inputs);
    g->outputs = malloc((n_out ? n_out : 1) * sizeof *g->outputs);
    if (n_in)
        memcpy(g->inputs, in, n_in * sizeof *in);
    if (n_out)
        memcpy(g->outputs, out, n_out * sizeof *out);
    g->n_inputs = n_in;
    g->n_outputs = n_out;
}

/* x -> r1 -> r2 -> r3 -> r4 -> r5 -> y, 1 KiB each: two buffers suffice. */
static ert_graph *chain(void)
{
    ert_graph *g = ert_graph_new("chain");
    uint32_t t[7];
    char name[8];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, i == 0 ? "x" : i == 6 ? "y" : "t%d", i);
        t[i] = act(g, name, 256);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "r%d", i + 1);
        node(g, name, "Relu", &t[i], 1, &t[i + 1], 1);
    }
    set_io(g, &t[0], 1, &t[6], 1);
    return g;
}

static void test_plan_chain_ping_pongs_between_two_buffers(void)
{
    ert_graph *g = chain();
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    const uint64_t want[7] = {0, 1024, 0, 1024, 0, 1024, 0};
    for (int i = 0; i < 7; i++) {
        CU_ASSERT_EQUAL(g->tensors[i].offset, want[i]);
        CU_ASSERT_EQUAL(g->tensors[i].nbytes, 1024);
    }
    CU_ASSERT_EQUAL(g->scratch_offset, 2048);
    CU_ASSERT_EQUAL(g->scratch_bytes, 0);
    CU_ASSERT_EQUAL(g->arena_bytes, 2048);
    CU_ASSERT_EQUAL(ert_plan_naive_bytes(g), 7 * 1024);
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_OK);
    ert_graph_free(g);
}

/* Two chains from one input, one after the other: the second chain's intermediates
 * reuse the first's; x lives until the second chain starts, outputs to the end. */
static void test_plan_two_chains_share_memory(void)
{
    ert_graph *g = ert_graph_new("two");
    uint32_t x = act(g, "x", 256);
    uint32_t p1 = act(g, "p1", 512), p2 = act(g, "p2", 512), py = act(g, "py", 16);
    uint32_t q1 = act(g, "q1", 512), q2 = act(g, "q2", 512), qy = act(g, "qy", 16);
    node(g, "p1", "Relu", &x, 1, &p1, 1);
    node(g, "p2", "Relu", &p1, 1, &p2, 1);
    node(g, "py", "Relu", &p2, 1, &py, 1);
    node(g, "q1", "Relu", &x, 1, &q1, 1);
    node(g, "q2", "Relu", &q1, 1, &q2, 1);
    node(g, "qy", "Relu", &q2, 1, &qy, 1);
    set_io(g, &x, 1, (uint32_t[]){py, qy}, 2);
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_OK);
    /* 2 KiB tensors first: p1 at 0, p2 at 2048 (p1 is live), q1 at 0 (p1 and p2 are
     * dead), q2 at 2048; then x (1 KiB, live 0..3) above them; py (live 2..end) above
     * everything; qy (live 5..end) in the smallest gap that fits: x's, dead by then */
    CU_ASSERT_EQUAL(g->tensors[p1].offset, 0);
    CU_ASSERT_EQUAL(g->tensors[p2].offset, 2048);
    CU_ASSERT_EQUAL(g->tensors[q1].offset, 0);
    CU_ASSERT_EQUAL(g->tensors[q2].offset, 2048);
    CU_ASSERT_EQUAL(g->tensors[x].offset, 4096);
    CU_ASSERT_EQUAL(g->tensors[py].offset, 5120);
    CU_ASSERT_EQUAL(g->tensors[qy].offset, 4096);
    CU_ASSERT_EQUAL(g->arena_bytes, 5184);
    CU_ASSERT_EQUAL(ert_plan_naive_bytes(g), 1024 + 4 * 2048 + 2 * 64);
    ert_graph_free(g);
}

/* A small CNN with constants and Conv scratch: report the arena against the naive sum. */
static void test_plan_conv_net_arena_below_naive_sum(void)
{
    ert_graph *g = ert_graph_new("cnn");
    g->opset = 13;
    ert_shape xs = {4, {1, 3, 32, 32}};
    uint32_t x, prev, id;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &x, &err) == ERT_OK);
    prev = x;
    int64_t cin = 3;
    for (int l = 0; l < 4; l++) {
        char name[32];
        int64_t cout = 8 << l;
        float *w = calloc((size_t)(cout * cin * 9), sizeof *w);
        snprintf(name, sizeof name, "w%d", l);
        uint32_t wid = tu_f32(g, name, w, 4, (int64_t[]){cout, cin, 3, 3});
        free(w);
        snprintf(name, sizeof name, "c%d", l);
        uint32_t c = tu_out(g, name);
        ert_attr a[] = {tu_attr_ints("kernel_shape", (int64_t[]){3, 3}, 2),
                        tu_attr_ints("pads", (int64_t[]){1, 1, 1, 1}, 4)};
        ert_attrs attrs = {a, 2};
        uint32_t nid;
        CU_ASSERT_FATAL(ert_graph_add_node(g, name, "Conv", (uint32_t[]){prev, wid}, 2, &c, 1, &nid, &err) == ERT_OK);
        CU_ASSERT_FATAL(ert_node_parse(g, nid, &attrs, 13, &err) == ERT_OK);
        CU_ASSERT_FATAL(g->nodes[nid].def->infer(g, &g->nodes[nid], &err) == ERT_OK);
        snprintf(name, sizeof name, "r%d", l);
        id = tu_out(g, name);
        CU_ASSERT_FATAL(ert_graph_add_node(g, name, "Relu", &c, 1, &id, 1, &nid, &err) == ERT_OK);
        CU_ASSERT_FATAL(g->nodes[nid].def->infer(g, &g->nodes[nid], &err) == ERT_OK);
        prev = id;
        cin = cout;
    }
    set_io(g, &x, 1, &prev, 1);
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_OK);
    uint64_t naive = ert_plan_naive_bytes(g);
    printf("\n    cnn arena: %llu bytes (activations %llu + scratch %llu) vs naive %llu\n",
           (unsigned long long)g->arena_bytes, (unsigned long long)g->scratch_offset,
           (unsigned long long)g->scratch_bytes, (unsigned long long)naive);
    /* activations 12 KiB input, 32/64/128/256 KiB per layer (twice: conv, relu);
     * at most two big ones live at once: 256 + 256 KiB */
    CU_ASSERT_EQUAL(g->scratch_offset, 2 * 262144);
    CU_ASSERT(g->scratch_bytes > 0);
    const ert_node *last_conv = &g->nodes[6];
    CU_ASSERT(g->scratch_bytes >= last_conv->def->scratch(g, last_conv));
    CU_ASSERT_EQUAL(naive, 12288 + 2 * (32768 + 65536 + 131072 + 262144) + g->scratch_bytes);
    CU_ASSERT(g->arena_bytes < naive);
    CU_ASSERT(g->scratch_offset < (naive - g->scratch_bytes) / 1.8); /* activations: 512 KiB of 972 KiB */
    for (uint32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_const)
            CU_ASSERT_EQUAL(g->tensors[i].offset, 0); /* constants are not placed */
    ert_graph_free(g);
}

static void test_plan_verify_catches_hand_made_overlap(void)
{
    ert_graph *g = chain();
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    g->tensors[2].offset = 512; /* t2 [512, 1536) against t1 [1024, 2048), both live at r2 */
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensors 1 't1' [1024, 2048) and 2 't2' [512, 1536) share arena bytes while "
                                    "both are live at node 1 'r2'");
    g->tensors[2].offset = 0;
    g->tensors[0].offset = 1024; /* x and t1 at once at r1 */
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensors 0 'x' [1024, 2048) and 1 't1' [1024, 2048) share arena bytes while "
                                    "both are live at node 0 'r1'");
    g->tensors[0].offset = 0;
    g->tensors[2].offset = 1024 + 2048; /* t2 and t4 are never live together: disjoint in time is fine */
    g->tensors[4].offset = 1024 + 2048;
    g->scratch_offset = g->arena_bytes = 4096;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_OK);
    ert_graph_free(g);
}

static void test_plan_verify_checks_bounds_alignment_and_scratch(void)
{
    ert_graph *g = chain();
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    g->tensors[3].offset = 1056;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensor 3 't3': arena offset 1056 is not a multiple of 64");
    g->tensors[3].offset = 1024;
    g->tensors[3].nbytes = 1028;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensor 3 't3': nbytes 1028 does not match float32 1x256");
    g->tensors[3].nbytes = 1024;
    g->scratch_offset = 2000;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: scratch offset 2000 is not a multiple of 64");
    g->scratch_offset = 1920;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensor 1 't1': offset+nbytes 1024+1024 exceeds the activation region (1920 bytes)");
    g->scratch_offset = 2048;
    g->scratch_bytes = 64;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: scratch [2048, +64) lies outside the 2048-byte arena");
    g->scratch_offset = UINT64_MAX - 63;
    g->arena_bytes = UINT64_MAX;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: scratch [18446744073709551552, +64) lies outside the 18446744073709551615-byte "
                                    "arena");
    ert_graph_free(g);
}

static void test_plan_verify_needs_every_nodes_scratch(void)
{
    ert_graph *g = ert_graph_new("conv");
    g->opset = 13;
    ert_shape xs = {4, {1, 2, 8, 8}};
    float w[4 * 2 * 9] = {0};
    uint32_t x, wid, y, nid;
    ert_error err;
    CU_ASSERT_FATAL(ert_graph_add_tensor(g, "x", ERT_DT_F32, &xs, NULL, false, &x, &err) == ERT_OK);
    wid = tu_f32(g, "w", w, 4, (int64_t[]){4, 2, 3, 3});
    y = tu_out(g, "y");
    ert_attr a[] = {tu_attr_ints("kernel_shape", (int64_t[]){3, 3}, 2)};
    ert_attrs attrs = {a, 1};
    CU_ASSERT_FATAL(ert_graph_add_node(g, "c", "Conv", (uint32_t[]){x, wid}, 2, &y, 1, &nid, &err) == ERT_OK);
    CU_ASSERT_FATAL(ert_node_parse(g, nid, &attrs, 13, &err) == ERT_OK);
    CU_ASSERT_FATAL(g->nodes[0].def->infer(g, &g->nodes[0], &err) == ERT_OK);
    set_io(g, &x, 1, &y, 1);
    CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
    size_t need = g->nodes[0].def->scratch(g, &g->nodes[0]);
    CU_ASSERT(need > 0);
    CU_ASSERT_EQUAL(g->scratch_bytes, (need + 63) / 64 * 64);
    CU_ASSERT_EQUAL(g->arena_bytes, g->scratch_offset + g->scratch_bytes);
    g->scratch_bytes = 0;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    char want[160];
    snprintf(want, sizeof want, "plan: node 0 'c' (Conv) needs %zu bytes of scratch; the plan has 0", need);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    ert_graph_free(g);
}

static void test_plan_refuses_broken_schedules(void)
{
    ert_error err;
    ert_graph *g = chain();
    g->nodes[0].in[0] = 3; /* r1 reads t3, which r3 writes later */
    CU_ASSERT_EQUAL(ert_plan_graph(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: node 0 'r1' reads tensor 3 't3' before any node produces it");
    g->nodes[0].in[0] = 0;
    g->nodes[2].out[0] = 2; /* r3 writes t2 again */
    CU_ASSERT_EQUAL(ert_plan_graph(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensor 2 't2' is written by node 1 'r2' and again by node 2 'r3'");
    g->nodes[2].out[0] = 0; /* r3 writes the graph input */
    CU_ASSERT_EQUAL(ert_plan_graph(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: node 2 'r3' writes tensor 0 'x', which is a graph input or was read before");
    g->nodes[2].out[0] = 3;
    g->outputs[0] = 7;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: graph output 0 is tensor 7; the graph has 7 tensors");
    g->outputs = realloc(g->outputs, 2 * sizeof *g->outputs);
    g->outputs[0] = g->outputs[1] = 6;
    g->n_outputs = 2;
    CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensor 6 'y' is listed twice as a graph output");
    g->n_outputs = 1;
    g->tensors[4].shape.rank = -1;
    CU_ASSERT_EQUAL(ert_plan_graph(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: tensor 4 't4' has no valid inferred shape (float32 ?)");
    ert_graph_free(g);

    g = ert_graph_new("k");
    float one = 1.0f;
    uint32_t k = tu_f32(g, "k", &one, 0, NULL), y = act(g, "y", 1);
    node(g, "r", "Relu", &y, 1, &k, 1);
    set_io(g, NULL, 0, &y, 1);
    CU_ASSERT_EQUAL(ert_plan_graph(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: node 0 'r' reads tensor 1 'y' before any node produces it");
    g->nodes[0].in[0] = k;
    g->nodes[0].out[0] = k;
    CU_ASSERT_EQUAL(ert_plan_graph(g, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "plan: node 0 'r' writes constant 0 'k'");
    ert_graph_free(g);
}

/* ---- random graphs: planner output always verifies, and the O(n log n) verifier
 * agrees with a brute-force pairwise check on randomly corrupted plans ---- */

static uint32_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) % n;
}

/* Live ranges as the planner defines them; -1: not live. */
static void live_ranges(const ert_graph *g, int *first, int *last)
{
    for (uint32_t i = 0; i < g->n_tensors; i++)
        first[i] = last[i] = -1;
    for (uint32_t i = 0; i < g->n_inputs; i++)
        first[g->inputs[i]] = last[g->inputs[i]] = 0;
    for (uint32_t s = 0; s < g->n_nodes; s++) {
        for (uint32_t k = 0; k < g->nodes[s].n_in; k++)
            last[g->nodes[s].in[k]] = (int)s;
        for (uint32_t k = 0; k < g->nodes[s].n_out; k++)
            first[g->nodes[s].out[k]] = last[g->nodes[s].out[k]] = (int)s;
    }
    for (uint32_t i = 0; i < g->n_outputs; i++)
        last[g->outputs[i]] = (int)g->n_nodes;
}

static bool brute_force_ok(const ert_graph *g)
{
    int first[64], last[64];
    live_ranges(g, first, last);
    for (uint32_t a = 0; a < g->n_tensors; a++)
        for (uint32_t b = a + 1; b < g->n_tensors; b++) {
            const ert_tensor *x = &g->tensors[a], *y = &g->tensors[b];
            if (first[a] < 0 || first[b] < 0)
                continue;
            bool time = first[a] <= last[b] && first[b] <= last[a];
            bool mem = x->offset < y->offset + y->nbytes && y->offset < x->offset + x->nbytes;
            if (time && mem)
                return false;
        }
    return true;
}

static ert_graph *random_graph(void)
{
    ert_graph *g = ert_graph_new("rnd");
    uint32_t n_in = 1 + rnd(3), avail[64], n_avail = 0;
    for (uint32_t i = 0; i < n_in; i++)
        avail[n_avail++] = act(g, "in", 16 * (1 + rnd(64)));
    set_io(g, avail, n_in, NULL, 0);
    uint32_t n_nodes = 5 + rnd(20);
    for (uint32_t s = 0; s < n_nodes && g->n_tensors < 60; s++) {
        uint32_t in[3], out[2], ni = 1 + rnd(3), no = 1 + rnd(2);
        for (uint32_t k = 0; k < ni; k++)
            in[k] = avail[n_avail - 1 - rnd(n_avail < 6 ? n_avail : 6)]; /* mostly recent tensors */
        for (uint32_t k = 0; k < no; k++)
            avail[n_avail++] = out[k] = act(g, "t", 16 * (1 + rnd(64)));
        node(g, "n", "Relu", in, ni, out, no);
    }
    uint32_t outs[2] = {avail[n_avail - 1], avail[rnd(n_avail)]};
    g->outputs = realloc(g->outputs, sizeof outs);
    memcpy(g->outputs, outs, sizeof outs);
    g->n_outputs = outs[0] == outs[1] ? 1 : 2;
    return g;
}

static void test_plan_random_graphs_verify_like_brute_force(void)
{
    rng_state = 12345;
    ert_error err;
    unsigned caught = 0, corrupted = 0;
    for (int iter = 0; iter < 300; iter++) {
        ert_graph *g = random_graph();
        CU_ASSERT_EQUAL_FATAL(ert_plan_graph(g, &err), ERT_OK);
        CU_ASSERT(brute_force_ok(g));
        CU_ASSERT_EQUAL(ert_plan_verify(g, &err), ERT_OK);
        CU_ASSERT(g->arena_bytes <= ert_plan_naive_bytes(g));
        for (int k = 0; k < 5; k++) {
            uint32_t a = rnd(g->n_tensors), b = rnd(g->n_tensors);
            uint64_t saved = g->tensors[a].offset;
            g->tensors[a].offset = g->tensors[b].offset + 64 * rnd(3);
            if (g->tensors[a].offset + g->tensors[a].nbytes > g->scratch_offset) {
                g->tensors[a].offset = saved;
                continue;
            }
            bool ok = brute_force_ok(g);
            ert_status st = ert_plan_verify(g, &err);
            CU_ASSERT_EQUAL(st == ERT_OK, ok);
            if (!ok && st != ERT_OK)
                CU_ASSERT(strstr(err.msg, "share arena bytes while both are live") != NULL);
            corrupted++;
            caught += !ok;
            g->tensors[a].offset = saved;
        }
        ert_graph_free(g);
    }
    printf("\n    %u corrupted plans, %u with overlaps, all judged like brute force\n", corrupted, caught);
    CU_ASSERT(caught > 100);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_plan_chain_ping_pongs_between_two_buffers),
    ERT_TEST(test_plan_two_chains_share_memory),
    ERT_TEST(test_plan_conv_net_arena_below_naive_sum),
    ERT_TEST(test_plan_verify_catches_hand_made_overlap),
    ERT_TEST(test_plan_verify_checks_bounds_alignment_and_scratch),
    ERT_TEST(test_plan_verify_needs_every_nodes_scratch),
    ERT_TEST(test_plan_refuses_broken_schedules),
    ERT_TEST(test_plan_random_graphs_verify_like_brute_force),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_plan = {"plan", cases};
