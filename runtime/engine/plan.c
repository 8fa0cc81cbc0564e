/* Arena planning: lifetimes from execution order, greedy best-fit placement (largest
 * first), and an O(n log n) verifier the blob loader runs on untrusted plans. */
#include "embedrt/plan.h"

#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64u

typedef struct life {
    uint32_t first, last; /* steps: node i runs at step i; the end is step n_nodes */
    bool used;            /* read or written by a node, or a graph input/output */
    bool output;          /* listed as a graph output (duplicates are refused) */
} life;

static bool align_up(uint64_t x, uint64_t *out)
{
    if (x > UINT64_MAX - (ALIGN - 1))
        return false;
    *out = (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
    return true;
}

static const char *tname(const ert_graph *g, uint32_t id)
{
    return g->tensors[id].name ? g->tensors[id].name : "";
}

static const char *nname(const ert_node *n)
{
    return n->name ? n->name : "";
}

/* Checks that every tensor id is in range and that the graph is a proper schedule
 * (inputs produced before use, one producer each, constants never written), and
 * fills L (zeroed by the caller) with the live range of every activation. */
static ert_status lifetimes(const ert_graph *g, life *L, uint32_t *producer, ert_error *err)
{
    const uint32_t nt = g->n_tensors, end = g->n_nodes;
    for (uint32_t i = 0; i < nt; i++)
        producer[i] = ERT_NO_TENSOR;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        uint32_t id = g->inputs[i];
        if (id >= nt)
            return ert_fail(err, ERT_EFORMAT, "plan: graph input %u is tensor %u; the graph has %u tensors", i, id, nt);
        if (g->tensors[id].is_const)
            return ert_fail(err, ERT_EFORMAT, "plan: graph input %u '%s' is a constant", i, tname(g, id));
        if (L[id].used)
            return ert_fail(err, ERT_EFORMAT, "plan: tensor %u '%s' is listed twice as a graph input", id, tname(g, id));
        L[id] = (life){0, 0, true, false};
    }
    for (uint32_t s = 0; s < g->n_nodes; s++) {
        const ert_node *n = &g->nodes[s];
        for (uint32_t k = 0; k < n->n_in; k++) {
            uint32_t id = n->in[k];
            if (id == ERT_NO_TENSOR)
                continue;
            if (id >= nt)
                return ert_fail(err, ERT_EFORMAT, "plan: node %u '%s': input %u is tensor %u; the graph has %u tensors",
                                s, nname(n), k, id, nt);
            if (g->tensors[id].is_const)
                continue;
            if (!L[id].used)
                return ert_fail(err, ERT_EFORMAT, "plan: node %u '%s' reads tensor %u '%s' before any node produces it",
                                s, nname(n), id, tname(g, id));
            L[id].last = s;
        }
        for (uint32_t k = 0; k < n->n_out; k++) {
            uint32_t id = n->out[k];
            if (id >= nt)
                return ert_fail(err, ERT_EFORMAT, "plan: node %u '%s': output %u is tensor %u; the graph has %u tensors",
                                s, nname(n), k, id, nt);
            if (g->tensors[id].is_const)
                return ert_fail(err, ERT_EFORMAT, "plan: node %u '%s' writes constant %u '%s'", s, nname(n), id,
                                tname(g, id));
            if (producer[id] != ERT_NO_TENSOR)
                return ert_fail(err, ERT_EFORMAT, "plan: tensor %u '%s' is written by node %u '%s' and again by node %u '%s'",
                                id, tname(g, id), producer[id], nname(&g->nodes[producer[id]]), s, nname(n));
            if (L[id].used)
                return ert_fail(err, ERT_EFORMAT, "plan: node %u '%s' writes tensor %u '%s', which is %s", s, nname(n), id,
                                tname(g, id), "a graph input or was read before");
            producer[id] = s;
            L[id] = (life){s, s, true, false};
        }
    }
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        uint32_t id = g->outputs[i];
        if (id >= nt)
            return ert_fail(err, ERT_EFORMAT, "plan: graph output %u is tensor %u; the graph has %u tensors", i, id, nt);
        if (L[id].output)
            return ert_fail(err, ERT_EFORMAT, "plan: tensor %u '%s' is listed twice as a graph output", id,
                            tname(g, id));
        L[id].output = true;
        if (g->tensors[id].is_const)
            continue; /* a folded-away output is read from the weights */
        if (!L[id].used)
            return ert_fail(err, ERT_EFORMAT, "plan: graph output %u '%s' is never produced", i, tname(g, id));
        L[id].last = end;
    }
    return ERT_OK;
}

/* ---------------------------------------------------------------- planning ---- */

typedef struct cand {
    uint32_t id, first;
    uint64_t size; /* rounded up to 64 */
} cand;

typedef struct span {
    uint64_t lo, hi;
} span;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : (x->hi > y->hi);
}

ert_status ert_plan_graph(ert_graph *g, ert_error *err)
{
    const uint32_t nt = g->n_tensors;
    size_t n = nt ? nt : 1;
    life *L = calloc(n, sizeof *L);
    uint32_t *producer = malloc(n * sizeof *producer);
    cand *c = malloc(n * sizeof *c);
    uint32_t *placed = malloc(n * sizeof *placed);
    span *busy = malloc(n * sizeof *busy);
    ert_status st = ERT_OK;
    if (!L || !producer || !c || !placed || !busy) {
        st = ert_fail(err, ERT_ENOMEM, "plan: out of memory for %u tensors", nt);
        goto out;
    }
    st = lifetimes(g, L, producer, err);
    if (st != ERT_OK)
        goto out;

    uint32_t nc = 0;
    uint64_t act_end = 0;
    for (uint32_t i = 0; i < nt; i++) {
        ert_tensor *t = &g->tensors[i];
        if (t->is_const)
            continue;
        size_t nb;
        uint64_t rounded;
        if (!ert_shape_bytes(&t->shape, t->dtype, &nb) || !align_up(nb, &rounded)) {
            char sh[96];
            st = ert_fail(err, ERT_EFORMAT, "plan: tensor %u '%s' has no valid inferred shape (%s %s)", i, tname(g, i),
                          ert_dtype_name(t->dtype), ert_shape_str(&t->shape, sh, sizeof sh));
            goto out;
        }
        t->nbytes = nb;
        t->offset = 0;
        if (L[i].used && nb > 0)
            c[nc++] = (cand){i, L[i].first, rounded};
        else if (rounded > act_end)
            act_end = rounded; /* never live: parked at 0, the region must still hold it */
    }
    qsort(c, nc, sizeof *c, cmp_cand);

    /* Best fit: among the gaps left by already placed tensors whose lifetimes overlap
     * this one, take the smallest that fits; else go above all of them. */
    for (uint32_t k = 0; k < nc; k++) {
        const uint32_t id = c[k].id;
        const life me = L[id];
        uint32_t nb = 0;
        for (uint32_t j = 0; j < k; j++) {
            const life o = L[placed[j]];
            if (o.first <= me.last && me.first <= o.last) {
                const ert_tensor *p = &g->tensors[placed[j]];
                uint64_t hi = 0;
                align_up(p->offset + p->nbytes, &hi); /* placed tensors were checked to fit */
                busy[nb++] = (span){p->offset, hi};
            }
        }
        qsort(busy, nb, sizeof *busy, cmp_span);
        uint64_t cursor = 0, best = UINT64_MAX, best_gap = UINT64_MAX;
        for (uint32_t j = 0; j < nb; j++) {
            if (busy[j].lo > cursor) {
                uint64_t gap = busy[j].lo - cursor;
                if (gap >= c[k].size && gap < best_gap) {
                    best_gap = gap;
                    best = cursor;
                }
            }
            if (busy[j].hi > cursor)
                cursor = busy[j].hi;
        }
        if (best == UINT64_MAX)
            best = cursor;
        if (best > UINT64_MAX - c[k].size) {
            st = ert_fail(err, ERT_ENOMEM, "plan: arena size overflows at tensor %u '%s'", id, tname(g, id));
            goto out;
        }
        g->tensors[id].offset = best;
        if (best + c[k].size > act_end)
            act_end = best + c[k].size;
        placed[k] = id;
    }

    size_t scratch = 0;
    for (uint32_t s = 0; s < g->n_nodes; s++) {
        const ert_node *nd = &g->nodes[s];
        size_t need = nd->def && nd->def->scratch ? nd->def->scratch(g, nd) : 0;
        if (need > scratch)
            scratch = need;
    }
    uint64_t sb;
    if (!align_up(scratch, &sb) || act_end > UINT64_MAX - sb || act_end + sb > SIZE_MAX) {
        st = ert_fail(err, ERT_ENOMEM, "plan: arena of %llu + %zu bytes does not fit in memory",
                      (unsigned long long)act_end, scratch);
        goto out;
    }
    g->scratch_offset = act_end;
    g->scratch_bytes = sb;
    g->arena_bytes = act_end + sb;
out:
    free(L), free(producer), free(c), free(placed), free(busy);
    return st;
}

uint64_t ert_plan_naive_bytes(const ert_graph *g)
{
    uint64_t sum = g->scratch_bytes;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        const ert_tensor *t = &g->tensors[i];
        uint64_t r;
        if (!t->is_const && align_up(t->nbytes, &r) && sum <= UINT64_MAX - r)
            sum += r;
    }
    return sum;
}

/* ---------------------------------------------------------------- verifying ---- */

/* Max-coverage segment tree over compressed address cells with range add. */
typedef struct segtree {
    int32_t *max, *add;
    uint32_t cells;
} segtree;

static void seg_update(segtree *t, uint32_t node, uint32_t lo, uint32_t hi, uint32_t a, uint32_t b, int32_t v)
{
    if (b <= lo || hi <= a)
        return;
    if (a <= lo && hi <= b) {
        t->max[node] += v;
        t->add[node] += v;
        return;
    }
    uint32_t mid = lo + (hi - lo) / 2;
    seg_update(t, 2 * node, lo, mid, a, b, v);
    seg_update(t, 2 * node + 1, mid, hi, a, b, v);
    int32_t l = t->max[2 * node], r = t->max[2 * node + 1];
    t->max[node] = (l > r ? l : r) + t->add[node];
}

static int32_t seg_query(const segtree *t, uint32_t node, uint32_t lo, uint32_t hi, uint32_t a, uint32_t b)
{
    if (b <= lo || hi <= a)
        return INT32_MIN / 2;
    if (a <= lo && hi <= b)
        return t->max[node];
    uint32_t mid = lo + (hi - lo) / 2;
    int32_t l = seg_query(t, 2 * node, lo, mid, a, b), r = seg_query(t, 2 * node + 1, mid, hi, a, b);
    return (l > r ? l : r) + t->add[node];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : (x > y);
}

static uint32_t cell_of(const uint64_t *coord, uint32_t m, uint64_t v)
{
    uint32_t lo = 0, hi = m; /* coord[lo..hi) sorted, v is present */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (coord[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static ert_status report_overlap(const ert_graph *g, const life *L, uint32_t a, ert_error *err)
{
    const ert_tensor *ta = &g->tensors[a];
    for (uint32_t b = 0; b < g->n_tensors; b++) {
        const ert_tensor *tb = &g->tensors[b];
        if (b == a || tb->is_const || !L[b].used || tb->nbytes == 0)
            continue;
        bool time = L[b].first <= L[a].last && L[a].first <= L[b].last;
        bool mem = tb->offset < ta->offset + ta->nbytes && ta->offset < tb->offset + tb->nbytes;
        if (time && mem) {
            uint32_t step = L[a].first > L[b].first ? L[a].first : L[b].first;
            char when[300];
            if (step < g->n_nodes)
                snprintf(when, sizeof when, "node %u '%s'", step, nname(&g->nodes[step]));
            else
                snprintf(when, sizeof when, "the start");
            return ert_fail(err, ERT_EFORMAT,
                            "plan: tensors %u '%s' [%llu, %llu) and %u '%s' [%llu, %llu) share arena bytes while both "
                            "are live at %s",
                            b, tname(g, b), (unsigned long long)tb->offset, (unsigned long long)(tb->offset + tb->nbytes),
                            a, tname(g, a), (unsigned long long)ta->offset, (unsigned long long)(ta->offset + ta->nbytes),
                            when);
        }
    }
    return ert_fail(err, ERT_EINTERNAL, "plan: tensor %u '%s' overlaps a live tensor", a, tname(g, a));
}

/* Sweeps execution steps; at each, adds the tensors that become live after removing
 * those that died, and refuses one whose address range is already covered. */
static ert_status check_overlaps(const ert_graph *g, const life *L, ert_error *err)
{
    const uint32_t nt = g->n_tensors;
    uint32_t nl = 0;
    for (uint32_t i = 0; i < nt; i++)
        if (!g->tensors[i].is_const && L[i].used && g->tensors[i].nbytes > 0)
            nl++;
    if (nl < 2)
        return ERT_OK;
    ert_status st = ERT_OK;
    /* (step << 32 | tensor id): sorts by step, then id, with no comparator context */
    uint64_t *byf = malloc(nl * sizeof *byf), *byl = malloc(nl * sizeof *byl);
    uint64_t *coord = malloc(2 * (size_t)nl * sizeof *coord);
    segtree t = {calloc(8 * (size_t)nl, sizeof(int32_t)), calloc(8 * (size_t)nl, sizeof(int32_t)), 0};
    if (!byf || !byl || !coord || !t.max || !t.add) {
        st = ert_fail(err, ERT_ENOMEM, "plan: out of memory verifying %u tensors", nt);
        goto out;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const ert_tensor *x = &g->tensors[i];
        if (!x->is_const && L[i].used && x->nbytes > 0) {
            byf[k] = (uint64_t)L[i].first << 32 | i;
            byl[k] = (uint64_t)L[i].last << 32 | i;
            coord[2 * k] = x->offset; /* offset + nbytes was checked not to overflow */
            coord[2 * k + 1] = x->offset + x->nbytes;
            k++;
        }
    }
    qsort(coord, 2 * (size_t)nl, sizeof *coord, cmp_u64);
    uint32_t m = 0;
    for (uint32_t i = 0; i < 2 * nl; i++)
        if (m == 0 || coord[m - 1] != coord[i])
            coord[m++] = coord[i];
    t.cells = m - 1; /* at least one: every range is non-empty */
    qsort(byf, nl, sizeof *byf, cmp_u64);
    qsort(byl, nl, sizeof *byl, cmp_u64);
    uint32_t dead = 0;
    for (uint32_t i = 0; i < nl; i++) {
        const uint32_t id = (uint32_t)byf[i];
        const ert_tensor *x = &g->tensors[id];
        while (dead < nl && (byl[dead] >> 32) < L[id].first) {
            const ert_tensor *d = &g->tensors[(uint32_t)byl[dead]];
            seg_update(&t, 1, 0, t.cells, cell_of(coord, m, d->offset), cell_of(coord, m, d->offset + d->nbytes), -1);
            dead++;
        }
        uint32_t a = cell_of(coord, m, x->offset), b = cell_of(coord, m, x->offset + x->nbytes);
        if (seg_query(&t, 1, 0, t.cells, a, b) > 0) {
            st = report_overlap(g, L, id, err);
            goto out;
        }
        seg_update(&t, 1, 0, t.cells, a, b, +1);
    }
out:
    free(byf), free(byl), free(coord), free(t.max), free(t.add);
    return st;
}

ert_status ert_plan_verify(const ert_graph *g, ert_error *err)
{
    const uint32_t nt = g->n_tensors;
    size_t n = nt ? nt : 1;
    life *L = calloc(n, sizeof *L);
    uint32_t *producer = malloc(n * sizeof *producer);
    ert_status st = ERT_OK;
    if (!L || !producer) {
        st = ert_fail(err, ERT_ENOMEM, "plan: out of memory for %u tensors", nt);
        goto out;
    }
    st = lifetimes(g, L, producer, err);
    if (st != ERT_OK)
        goto out;
    const unsigned long long so = g->scratch_offset, sb = g->scratch_bytes, ab = g->arena_bytes;
    if (so % ALIGN != 0) {
        st = ert_fail(err, ERT_EFORMAT, "plan: scratch offset %llu is not a multiple of %u", so, ALIGN);
        goto out;
    }
    if (so > ab || sb > ab - so) {
        st = ert_fail(err, ERT_EFORMAT, "plan: scratch [%llu, +%llu) lies outside the %llu-byte arena", so, sb, ab);
        goto out;
    }
    if (ab > SIZE_MAX) {
        st = ert_fail(err, ERT_EFORMAT, "plan: arena of %llu bytes does not fit in memory", ab);
        goto out;
    }
    for (uint32_t i = 0; i < nt; i++) {
        const ert_tensor *t = &g->tensors[i];
        if (t->is_const)
            continue;
        size_t nb;
        char sh[96];
        if (!ert_shape_bytes(&t->shape, t->dtype, &nb) || nb != t->nbytes) {
            st = ert_fail(err, ERT_EFORMAT, "plan: tensor %u '%s': nbytes %llu does not match %s %s", i, tname(g, i),
                          (unsigned long long)t->nbytes, ert_dtype_name(t->dtype),
                          ert_shape_str(&t->shape, sh, sizeof sh));
            goto out;
        }
        if (t->offset % ALIGN != 0) {
            st = ert_fail(err, ERT_EFORMAT, "plan: tensor %u '%s': arena offset %llu is not a multiple of %u", i,
                          tname(g, i), (unsigned long long)t->offset, ALIGN);
            goto out;
        }
        if (t->offset > so || t->nbytes > so - t->offset) {
            st = ert_fail(err, ERT_EFORMAT,
                          "plan: tensor %u '%s': offset+nbytes %llu+%llu exceeds the activation region (%llu bytes)", i,
                          tname(g, i), (unsigned long long)t->offset, (unsigned long long)t->nbytes, so);
            goto out;
        }
    }
    for (uint32_t s = 0; s < g->n_nodes; s++) {
        const ert_node *nd = &g->nodes[s];
        if (!nd->def) {
            st = ert_fail(err, ERT_EFORMAT, "plan: node %u '%s' has no op", s, nname(nd));
            goto out;
        }
        size_t need = nd->def->scratch ? nd->def->scratch(g, nd) : 0;
        if (need > sb) {
            st = ert_fail(err, ERT_EFORMAT, "plan: node %u '%s' (%s) needs %zu bytes of scratch; the plan has %llu", s,
                          nname(nd), nd->def->name, need, sb);
            goto out;
        }
    }
    st = check_overlaps(g, L, err);
out:
    free(L), free(producer);
    return st;
}
