/* The executor: binds each planned graph to its arena once, then runs nodes in order. */
#include "embedrt/model.h"

#include "embedrt/blob.h"
#include "embedrt/gemm.h"
#include "embedrt/pool.h"
#include "op.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct model_graph {
    ert_graph *g;
    void *arena;
    uint64_t *node_ns; /* profile counters, allocated at load */
    void *extra_scratch; /* scratch of pool workers 1.., (threads - 1) x scratch_bytes */
    void **worker_scratch; /* threads pointers: the arena's scratch, then extra_scratch slices */
    void *prepared;        /* every node's load-time data (op_def.prepare), one block */
    const void **node_prepared; /* per node: its slice of prepared, or NULL */
    void *workspace;       /* the largest op_def.workspace of any node, shared */
    size_t workspace_bytes;
} model_graph;

struct ert_model {
    model_graph *graphs;
    uint32_t n;
    bool owns;
    int threads;
    bool profile;
    ert_pool *pool;
    ert_blob *blob; /* owned when loaded from a file */
    ert_node_observer observer;
    void *observer_ctx;
};

int ert_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 256 ? 256 : (int)n);
}

static ert_status bind(model_graph *mg, int threads, ert_error *err)
{
    ert_graph *g = mg->g;
    size_t bytes = (size_t)g->arena_bytes;
    if ((uint64_t)bytes != g->arena_bytes)
        return ert_fail(err, ERT_ENOMEM, "graph '%s': arena of %llu bytes does not fit in memory", g->name,
                        (unsigned long long)g->arena_bytes);
    if (posix_memalign(&mg->arena, 64, bytes ? bytes : 64) != 0)
        return ert_fail(err, ERT_ENOMEM, "graph '%s': cannot allocate the %zu-byte arena", g->name, bytes);
    mg->node_ns = calloc(g->n_nodes + 1, sizeof *mg->node_ns);
    if (!mg->node_ns)
        return ert_fail(err, ERT_ENOMEM, "graph '%s': out of memory", g->name);
    /* Kernels that split a node across the pool give each worker its own scratch. */
    size_t per = (size_t)((g->scratch_bytes + 63) / 64 * 64), extra;
    if (threads > 1 && per) {
        if (!ert_mul_size(per, (size_t)threads - 1, &extra) ||
            posix_memalign(&mg->extra_scratch, 64, extra) != 0)
            return ert_fail(err, ERT_ENOMEM, "graph '%s': cannot allocate scratch for %d threads", g->name, threads);
        mg->worker_scratch = calloc((size_t)threads, sizeof *mg->worker_scratch);
        if (!mg->worker_scratch)
            return ert_fail(err, ERT_ENOMEM, "graph '%s': out of memory", g->name);
        mg->worker_scratch[0] = (char *)mg->arena + g->scratch_offset;
        for (int t = 1; t < threads; t++)
            mg->worker_scratch[t] = (char *)mg->extra_scratch + (size_t)(t - 1) * per;
    }
    /* Load-time data derived from the weights, and the shared workspace: sized and filled
     * here once, so that running still allocates nothing. */
    size_t prep_total = 0, ws = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const ert_node *n = &g->nodes[i];
        size_t pb = n->def->prepare_bytes ? n->def->prepare_bytes(g, n) : 0;
        size_t wb = n->def->workspace ? n->def->workspace(g, n) : 0;
        if (__builtin_add_overflow(prep_total, (pb + 63) / 64 * 64, &prep_total))
            return ert_fail(err, ERT_ENOMEM, "graph '%s': prepared weights overflow", g->name);
        ws = wb > ws ? wb : ws;
    }
    if (prep_total) {
        mg->node_prepared = calloc(g->n_nodes, sizeof *mg->node_prepared);
        if (!mg->node_prepared || posix_memalign(&mg->prepared, 64, prep_total) != 0)
            return ert_fail(err, ERT_ENOMEM, "graph '%s': cannot allocate %zu bytes of prepared weights", g->name,
                            prep_total);
        size_t off = 0;
        for (uint32_t i = 0; i < g->n_nodes; i++) {
            const ert_node *n = &g->nodes[i];
            size_t pb = n->def->prepare_bytes ? n->def->prepare_bytes(g, n) : 0;
            if (!pb)
                continue;
            n->def->prepare(g, n, (char *)mg->prepared + off);
            mg->node_prepared[i] = (char *)mg->prepared + off;
            off += (pb + 63) / 64 * 64;
        }
    }
    if (ws) {
        if (posix_memalign(&mg->workspace, 64, ws) != 0)
            return ert_fail(err, ERT_ENOMEM, "graph '%s': cannot allocate a %zu-byte workspace", g->name, ws);
        memset(mg->workspace, 0, ws);
        mg->workspace_bytes = ws;
    }
    /* Zeroed once so that nothing ever reads uninitialised memory, whatever a kernel does. */
    memset(mg->arena, 0, bytes ? bytes : 64);
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        ert_tensor *t = &g->tensors[i];
        if (t->is_const)
            continue;
        uint64_t end;
        if (__builtin_add_overflow(t->offset, t->nbytes, &end) || end > g->arena_bytes)
            return ert_fail(err, ERT_EFORMAT, "graph '%s': tensor '%s' [%llu, +%llu) lies outside the %llu-byte arena",
                            g->name, t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                            (unsigned long long)g->arena_bytes);
        t->data = (char *)mg->arena + t->offset;
    }
    return ERT_OK;
}

ert_status ert_model_from_graphs(ert_graph *const *graphs, uint32_t n, bool take_ownership,
                                 const ert_model_options *opt, ert_model **out, ert_error *err)
{
    *out = NULL;
    ert_model *m = calloc(1, sizeof *m);
    if (!m || !(m->graphs = calloc(n ? n : 1, sizeof *m->graphs))) {
        free(m);
        return ert_fail(err, ERT_ENOMEM, "model: out of memory");
    }
    m->n = n;
    m->owns = take_ownership;
    m->threads = opt && opt->threads > 0 ? opt->threads : ert_cpu_count();
    for (uint32_t i = 0; i < n; i++)
        m->graphs[i].g = graphs[i];
    for (uint32_t i = 0; i < n; i++) {
        ert_status st = bind(&m->graphs[i], m->threads, err);
        if (st != ERT_OK) {
            m->owns = false; /* the caller keeps its graphs on failure */
            ert_model_free(m);
            return st;
        }
    }
    /* One owner of threads: the model's pool. OpenBLAS stays single-threaded (its own
     * workers would spin between calls and fight ours for the cores). */
    ert_status st = ert_pool_create(m->threads, &m->pool, err);
    if (st != ERT_OK) {
        m->owns = false;
        ert_model_free(m);
        return st;
    }
    ert_gemm_set_threads(1);
    *out = m;
    return ERT_OK;
}

ert_status ert_model_load(const char *path, const ert_model_options *opt, ert_model **out, ert_error *err)
{
    *out = NULL;
    ert_blob *b;
    ert_status st = ert_blob_open(path, &b, err);
    if (st != ERT_OK)
        return st;
    uint32_t n = ert_blob_graph_count(b);
    ert_graph **gs = malloc((n ? n : 1) * sizeof *gs);
    if (!gs) {
        ert_blob_close(b);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory", path);
    }
    for (uint32_t i = 0; i < n; i++)
        gs[i] = ert_blob_graph(b, i);
    st = ert_model_from_graphs(gs, n, false, opt, out, err);
    free(gs);
    if (st != ERT_OK) {
        ert_error_prefix(err, "%s", path);
        ert_blob_close(b);
        return st;
    }
    (*out)->blob = b;
    return ERT_OK;
}

struct ert_blob *ert_model_blob(ert_model *m)
{
    return m->blob;
}

void ert_model_free(ert_model *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->n; i++) {
        free(m->graphs[i].arena);
        free(m->graphs[i].node_ns);
        free(m->graphs[i].extra_scratch);
        free(m->graphs[i].worker_scratch);
        free(m->graphs[i].prepared);
        free(m->graphs[i].node_prepared);
        free(m->graphs[i].workspace);
        if (m->owns)
            ert_graph_free(m->graphs[i].g);
    }
    free(m->graphs);
    ert_pool_destroy(m->pool);
    ert_blob_close(m->blob);
    free(m);
}

uint32_t ert_model_graph_count(const ert_model *m)
{
    return m->n;
}

ert_graph *ert_model_graph(ert_model *m, uint32_t i)
{
    return i < m->n ? m->graphs[i].g : NULL;
}

uint32_t ert_model_find_graph(const ert_model *m, const char *name)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(m->graphs[i].g->name, name) == 0)
            return i;
    return UINT32_MAX;
}

ert_tensor *ert_model_input(ert_model *m, uint32_t gi, uint32_t i)
{
    if (gi >= m->n || i >= m->graphs[gi].g->n_inputs)
        return NULL;
    ert_graph *g = m->graphs[gi].g;
    return &g->tensors[g->inputs[i]];
}

ert_tensor *ert_model_output(ert_model *m, uint32_t gi, uint32_t i)
{
    if (gi >= m->n || i >= m->graphs[gi].g->n_outputs)
        return NULL;
    ert_graph *g = m->graphs[gi].g;
    return &g->tensors[g->outputs[i]];
}

ert_status ert_model_run(ert_model *m, uint32_t gi, ert_error *err)
{
    if (gi >= m->n)
        return ert_fail(err, ERT_EINVAL, "model: no graph %u (the model has %u)", gi, m->n);
    model_graph *mg = &m->graphs[gi];
    ert_graph *g = mg->g;
    ert_ctx ctx = {
        .scratch = (char *)mg->arena + g->scratch_offset,
        .scratch_bytes = (size_t)g->scratch_bytes,
        .threads = m->threads,
        .pool = m->pool,
        .worker_scratch = mg->worker_scratch,
        .workspace = mg->workspace,
        .workspace_bytes = mg->workspace_bytes,
    };
    ert_pool_set_active(m->pool, true);
    ert_status st = ERT_OK;
    for (uint32_t i = 0; i < g->n_nodes && st == ERT_OK; i++) {
        const ert_node *n = &g->nodes[i];
        ctx.prepared = mg->node_prepared ? mg->node_prepared[i] : NULL;
        struct timespec t0, t1;
        if (m->profile)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        st = n->def->run(&ctx, g, n, err);
        if (st == ERT_OK && m->profile) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            mg->node_ns[i] += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
        }
        if (st == ERT_OK && m->observer)
            m->observer(m->observer_ctx, gi, i, g);
    }
    ert_pool_set_active(m->pool, false); /* idle: the workers sleep, nothing spins */
    return st;
}

void ert_model_set_observer(ert_model *m, ert_node_observer fn, void *ctx)
{
    m->observer = fn;
    m->observer_ctx = ctx;
}

void ert_model_set_profile(ert_model *m, bool on)
{
    m->profile = on;
}

const uint64_t *ert_model_node_ns(const ert_model *m, uint32_t gi)
{
    return gi < m->n ? m->graphs[gi].node_ns : NULL;
}

void ert_model_reset_profile(ert_model *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        memset(m->graphs[i].node_ns, 0, (m->graphs[i].g->n_nodes + 1) * sizeof *m->graphs[i].node_ns);
}

uint64_t ert_graph_macs(const ert_graph *g)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const ert_node *n = &g->nodes[i];
        const char *op = n->def->name;
        const ert_tensor *y = ert_node_output(g, n, 0);
        size_t ny;
        if (!y || !ert_shape_numel(&y->shape, &ny))
            continue;
        bool conv = strcmp(op, "Conv") == 0 || strcmp(op, "ErtQConv") == 0;
        if (conv || strcmp(op, "ConvTranspose") == 0) {
            /* Each output (conv) or input (transpose) element takes one MAC per weight
             * element of its group's filter: W is [M, C/g, k...] (conv) or [C, M/g, k...]. */
            const ert_tensor *x = ert_node_input(g, n, 0), *w = ert_node_input(g, n, 1);
            size_t nw;
            if (!x || !w || w->shape.rank < 2 || !ert_shape_numel(&w->shape, &nw))
                continue;
            if (conv) {
                uint64_t per_out = w->shape.dims[0] ? nw / (uint64_t)w->shape.dims[0] : 0;
                total += (uint64_t)ny * per_out;
            } else {
                size_t nx;
                uint64_t per_in = w->shape.dims[0] ? nw / (uint64_t)w->shape.dims[0] : 0;
                if (ert_shape_numel(&x->shape, &nx))
                    total += (uint64_t)nx * per_in;
            }
        } else if (strcmp(op, "MatMul") == 0 || strcmp(op, "Gemm") == 0 || strcmp(op, "ErtQGemm") == 0) {
            const ert_tensor *a = ert_node_input(g, n, 0), *b = ert_node_input(g, n, 1);
            if (!a || !b || b->shape.rank < 1)
                continue;
            /* K = the contracted dim: for Gemm with transposes K is the dim shared by A and
             * B's shape product / N; derive it from sizes: numel(A) * N / ... -- simpler:
             * K = numel(B) / N for 2-D B (batch MatMul: per batch). */
            size_t nb;
            if (!ert_shape_numel(&b->shape, &nb) || y->shape.rank < 1)
                continue;
            int64_t ncols = y->shape.dims[y->shape.rank - 1];
            uint64_t k = ncols > 0 ? nb / (uint64_t)ncols : 0;
            if (b->shape.rank > 2) {
                size_t batch = 1;
                for (int d = 0; d < b->shape.rank - 2; d++)
                    batch *= (size_t)b->shape.dims[d];
                k = batch ? k / batch : 0;
            }
            total += (uint64_t)ny * k;
        }
    }
    return total;
}
