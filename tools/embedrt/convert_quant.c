/* `embedrt convert --quantize ...`: marks the weights, measures the quantized blob against
 * the float32 graphs on held-out calibration frames, applies the accuracy gate, and
 * writes the blob with its quantization report (tools/convert/quantize.h, calib.h,
 * qreport.h). */
#include "convert_quant.h"

#include "calib.h"
#include "qcompute.h"
#include "qrange.h"
#include "qreport.h"
#include "quantize.h"
#include "rewrite.h"

#include "embedrt/plan.h"

#include "embedrt/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_QUANT_ELEMS 256 /* smaller weights stay float32: they save nothing worth an error */
#define MAX_ACC 256

ert_status ert_convert_quant_parse(ert_convert_quant *q, const char *opt, const char *val, ert_error *err)
{
    if (strcmp(opt, "--quantize") == 0) {
        if (strcmp(val, "int8-weights") != 0 && strcmp(val, "int8") != 0)
            return ert_fail(err, ERT_EINVAL, "--quantize '%s': expected int8 or int8-weights", val);
        q->mode = val;
    } else if (strcmp(opt, "--calibration-method") == 0) {
        ert_calib_method m;
        if (!ert_calib_method_parse(val, &m))
            return ert_fail(err, ERT_EINVAL, "--calibration-method '%s': expected minmax, percentile or entropy", val);
        q->method = (int)m;
        q->method_set = true;
    } else if (strcmp(opt, "--activation-bits") == 0) {
        if (strcmp(val, "7") != 0 && strcmp(val, "8") != 0)
            return ert_fail(err, ERT_EINVAL, "--activation-bits '%s': expected 7 or 8", val);
        q->act_bits = val[0] - '0';
    } else if (strcmp(opt, "--calibration") == 0) {
        q->calibration = val;
    } else if (strcmp(opt, "--calibration-frames") == 0) {
        char *end;
        long v = strtol(val, &end, 10);
        if (*end || v < 2 || v > 100000)
            return ert_fail(err, ERT_EINVAL, "--calibration-frames '%s': expected a whole number in [2, 100000]", val);
        q->frames = (size_t)v;
    } else if (strcmp(opt, "--keep-fp32") == 0) {
        const char *p = val;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n == 0 || n >= sizeof q->keep[0] || q->n_keep == ERT_CONVERT_MAX_KEEP)
                return ert_fail(err, ERT_EINVAL, "--keep-fp32 '%s': expected NODE[,NODE...] (at most %d names of up "
                                "to %zu bytes)", val, ERT_CONVERT_MAX_KEEP, sizeof q->keep[0] - 1);
            memcpy(q->keep[q->n_keep], p, n);
            q->keep[q->n_keep++][n] = '\0';
            p += n + (e != NULL);
        }
    } else {
        return ert_fail(err, ERT_EINTERNAL, "not a quantization option: %s", opt);
    }
    return ERT_OK;
}

ert_status ert_convert_quant_check(const ert_convert_quant *q, ert_error *err)
{
    if (!q->mode && (q->calibration || q->frames || q->n_keep || q->force || q->method_set))
        return ert_fail(err, ERT_EINVAL, "--calibration, --calibration-frames, --calibration-method, --keep-fp32 and "
                        "--force need --quantize");
    if ((q->frames || q->method_set) && !q->calibration)
        return ert_fail(err, ERT_EINVAL, "--calibration-frames and --calibration-method need --calibration PATH");
    if (q->mode && strcmp(q->mode, "int8") == 0 && !q->calibration)
        return ert_fail(err, ERT_EINVAL, "--quantize int8 needs --calibration PATH (frames to measure activation "
                        "ranges on)");
    if (q->act_bits && !(q->mode && strcmp(q->mode, "int8") == 0))
        return ert_fail(err, ERT_EINVAL, "--activation-bits is for --quantize int8 (the bits of the quantized "
                        "activations)");
    if (q->method_set && q->mode && strcmp(q->mode, "int8-weights") == 0)
        return ert_fail(err, ERT_EINVAL, "--calibration-method is for --quantize int8 (int8-weights has no "
                        "activation ranges)");
    return ERT_OK;
}

/* Every --keep-fp32 name must be a node of some graph: a typo must not pass silently. */
static ert_status check_keep(const ert_convert_quant *q, ert_graph *const *gs, uint32_t n, ert_error *err)
{
    for (size_t k = 0; k < q->n_keep; k++) {
        bool found = false;
        for (uint32_t i = 0; i < n && !found; i++)
            for (uint32_t j = 0; j < gs[i]->n_nodes && !found; j++)
                found = strcmp(gs[i]->nodes[j].name, q->keep[k]) == 0;
        if (!found)
            return ert_fail(err, ERT_EINVAL, "--keep-fp32 %s: no node of that name (see embedrt inspect --nodes)",
                            q->keep[k]);
    }
    return ERT_OK;
}

/* Writes the quantized graphs to a temporary blob, loads it as the runtime will, and
 * compares every output with the float32 graphs on the held-out frames. */
/* Writes graphs to a temporary blob next to out and loads it as the runtime will. */
static ert_status load_as_blob(const char *out, const char *tag, ert_graph *const *gs, uint32_t n,
                               const ert_blob_write_opts *wo, ert_model **m, ert_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%s-%ld", out, tag, (long)getpid());
    ert_blob_write_opts plain = *wo;
    plain.quant_report = NULL;
    plain.quant_report_len = 0;
    ert_model_options mo = {.threads = 1};
    ert_status st = ert_blob_write(tmp, gs, n, &plain, err);
    if (st == ERT_OK)
        st = ert_model_load(tmp, &mo, m, err);
    unlink(tmp);
    return st;
}

/* Per-layer SQNR of int8 node outputs: the float32 run stores each quantized node's output,
 * the int8 run (which follows it on the same frame) measures against it. */
typedef struct sqnr_ctx {
    uint32_t n_graphs;
    uint32_t *n_nodes;
    bool **is_q;       /* [graph][node] */
    float ***ref;      /* [graph][node] -> copy of the float32 output 0 */
    double **sig, **noise;
    bool failed;
} sqnr_ctx;

static void sqnr_free(sqnr_ctx *c)
{
    for (uint32_t g = 0; g < c->n_graphs; g++) {
        for (uint32_t i = 0; c->ref && c->ref[g] && i < c->n_nodes[g]; i++)
            free(c->ref[g][i]);
        if (c->ref)
            free(c->ref[g]);
        if (c->is_q)
            free(c->is_q[g]);
        if (c->sig)
            free(c->sig[g]);
        if (c->noise)
            free(c->noise[g]);
    }
    free(c->ref), free(c->is_q), free(c->sig), free(c->noise), free(c->n_nodes);
    memset(c, 0, sizeof *c);
}

static void obs_fp32(void *ctx, uint32_t gi, uint32_t node, const ert_graph *g)
{
    sqnr_ctx *c = ctx;
    if (gi >= c->n_graphs || node >= c->n_nodes[gi] || !c->is_q[gi][node])
        return;
    const ert_tensor *y = ert_node_output(g, &g->nodes[node], 0);
    if (!c->ref[gi][node] && !(c->ref[gi][node] = malloc(y->nbytes ? y->nbytes : 1))) {
        c->failed = true;
        return;
    }
    memcpy(c->ref[gi][node], y->data, y->nbytes);
}

static void obs_int8(void *ctx, uint32_t gi, uint32_t node, const ert_graph *g)
{
    sqnr_ctx *c = ctx;
    if (gi >= c->n_graphs || node >= c->n_nodes[gi] || !c->is_q[gi][node] || !c->ref[gi][node])
        return;
    const ert_tensor *y = ert_node_output(g, &g->nodes[node], 0);
    const float *a = c->ref[gi][node], *b = y->data;
    for (size_t k = 0; k < y->nbytes / 4; k++) {
        double d = (double)a[k] - b[k];
        c->sig[gi][node] += (double)a[k] * a[k];
        c->noise[gi][node] += d * d;
    }
}

static ert_status measure_models(ert_model *fm, ert_model *qm, ert_graph *const *gs, uint32_t n,
                                 const ert_blob_write_opts *wo, const ert_calib_set *frames, ert_qreport *r,
                                 sqnr_ctx *sq, ert_error *err);

static const ert_preprocess *const *recipes(const ert_blob_write_opts *wo, uint32_t n,
                                           const ert_preprocess *pps[8])
{
    for (uint32_t i = 0; i < 8; i++)
        pps[i] = wo->preprocess && i < n ? wo->preprocess[i] : NULL;
    return pps;
}

static ert_status measure(const char *out, ert_graph *const *gs, uint32_t n, const ert_blob_write_opts *wo,
                          ert_calib_set *frames, ert_qreport *r, ert_error *err)
{
    ert_model *fm = NULL, *qm = NULL;
    ert_model_options mo = {.threads = 1};
    const ert_preprocess *pps[8];
    ert_status st = load_as_blob(out, "measure", gs, n, wo, &qm, err);
    if (st == ERT_OK)
        st = ert_model_from_graphs(gs, n, false, &mo, &fm, err);
    if (st == ERT_OK)
        st = ert_calib_feed_build(fm, recipes(wo, n, pps), frames, err);
    if (st == ERT_OK)
        st = measure_models(fm, qm, gs, n, wo, frames, r, NULL, err);
    ert_model_free(fm);
    ert_model_free(qm);
    return st;
}

static ert_status measure_models(ert_model *fm, ert_model *qm, ert_graph *const *gs, uint32_t n,
                                 const ert_blob_write_opts *wo, const ert_calib_set *frames, ert_qreport *r,
                                 sqnr_ctx *sq, ert_error *err)
{
    ert_status st = ERT_OK;
    if (sq) {
        ert_model_set_observer(fm, obs_fp32, sq);
        ert_model_set_observer(qm, obs_int8, sq);
    }
    const ert_preprocess *pps[8];
    recipes(wo, n, pps);
    ert_calib_accuracy acc[MAX_ACC];
    size_t na = 0;
    if (st == ERT_OK)
        st = ert_calib_compare(fm, qm, pps, frames, acc, MAX_ACC, &na, err);
    for (size_t i = 0; i < na && st == ERT_OK; i++) {
        const ert_graph *g = gs[acc[i].graph];
        ert_qr_output o = {.cosine_mean = acc[i].cosine_mean, .cosine_min = acc[i].cosine_min,
                           .max_rel_err = acc[i].max_rel_err};
        snprintf(o.graph, sizeof o.graph, "%s", g->name);
        snprintf(o.output, sizeof o.output, "%s", g->tensors[g->outputs[acc[i].output]].name);
        st = ert_qreport_add_output(r, &o, err);
        char name[64];
        if (st == ERT_OK && !isnan(acc[i].rank_corr)) {
            snprintf(name, sizeof name, "%.24s.distance_spearman", g->name);
            st = ert_qreport_add_reward(r, name, acc[i].rank_corr, err);
        }
        if (st == ERT_OK && !isnan(acc[i].nn_agree)) {
            snprintf(name, sizeof name, "%.24s.same_nearest", g->name);
            st = ert_qreport_add_reward(r, name, acc[i].nn_agree, err);
        }
    }
    if (sq) {
        ert_model_set_observer(fm, NULL, NULL);
        ert_model_set_observer(qm, NULL, NULL);
        if (sq->failed && st == ERT_OK)
            st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory measuring layer SQNR");
    }
    return st;
}

/* ---- int8 compute ---- */

typedef struct node_stats {
    bool count_ok; /* a candidate for int8 */
    ert_qstats s;
} node_stats;

typedef struct calib_ctx {
    uint32_t n_graphs;
    uint32_t *n_nodes;
    node_stats **st; /* [graph][node] */
    int pass;        /* 1: min/max, 2: histogram */
} calib_ctx;

static void obs_calib(void *ctx, uint32_t gi, uint32_t node, const ert_graph *g)
{
    calib_ctx *c = ctx;
    if (gi >= c->n_graphs || node >= c->n_nodes[gi] || !c->st[gi] || !c->st[gi][node].count_ok)
        return;
    /* The node's input is intact after it ran: the plan never shares an input's bytes
     * with an output of the same node. */
    const ert_tensor *x = ert_node_input(g, &g->nodes[node], 0);
    if (c->pass == 1)
        ert_qstats_minmax(&c->st[gi][node].s, x->data, x->nbytes / 4);
    else
        ert_qstats_hist(&c->st[gi][node].s, x->data, x->nbytes / 4);
}

static bool kept_by_user(const ert_convert_quant *q, const char *name)
{
    for (size_t k = 0; k < q->n_keep; k++)
        if (strcmp(q->keep[k], name) == 0)
            return true;
    return false;
}

#define MAX_FALLBACKS 24
/* --activation-bits 7: while the lowest mean output cosine is below this (the level the
 * 8-bit blobs reach, issue 6), the earliest 7-bit layer goes back to 8 bits (255 levels), at
 * most MAX_8BIT of them, before the float32 fallback and its gate. Earliest, not lowest
 * SQNR: noise added early runs through every later layer, and the deep layers' low output
 * SQNR is mostly noise they inherit. On the fixture mftcn_trunk_64 (7-bit 0.99373, 8-bit
 * 0.99591) eight layers by lowest SQNR gave 0.99383, the eight earliest 0.99524. */
#define Q7_TARGET_COSINE 0.995
#define MAX_8BIT 12

/* A node the float32 fallback takes is no longer one on 8 bits. */
static void drop_kept8(ert_qreport *r, const char *name)
{
    for (size_t i = 0; i < r->n_kept8; i++)
        if (strcmp(r->kept8[i], name) == 0) {
            memmove(r->kept8[i], r->kept8[i + 1], (r->n_kept8 - i - 1) * sizeof r->kept8[0]);
            r->n_kept8--;
            return;
        }
}

static ert_status quantize_int8(const char *out, ert_graph **gs, uint32_t n, ert_blob_write_opts *wo,
                                const ert_convert_quant *q, ert_calib_set *frames, ert_qreport *r,
                                ert_error *err)
{
    ert_status st = ERT_OK;
    ert_graph *orig[8] = {0}, *work[8] = {0};
    ert_model *fm = NULL, *qm = NULL;
    calib_ctx cc = {.n_graphs = n};
    sqnr_ctx sq = {.n_graphs = n};
    bool *keep[8] = {0}, *wino[8] = {0}, *b8[8] = {0}; /* b8: 7-bit run, this node on 8 bits */
    ert_calib_method method = q->method_set ? (ert_calib_method)q->method : ERT_CALIB_PERCENTILE;
    snprintf(r->method, sizeof r->method, "%s", ert_calib_method_name(method));
    const int bits = q->act_bits ? q->act_bits : 8;
    r->activation_bits = (uint32_t)bits;
    if (n > 8)
        return ert_fail(err, ERT_EINVAL, "quantize: at most 8 graphs");
    cc.n_nodes = calloc(n, sizeof *cc.n_nodes);
    cc.st = calloc(n, sizeof *cc.st);
    sq.n_nodes = calloc(n, sizeof *sq.n_nodes);
    sq.is_q = calloc(n, sizeof *sq.is_q);
    sq.ref = calloc(n, sizeof *sq.ref);
    sq.sig = calloc(n, sizeof *sq.sig);
    sq.noise = calloc(n, sizeof *sq.noise);
    if (!cc.n_nodes || !cc.st || !sq.n_nodes || !sq.is_q || !sq.ref || !sq.sig || !sq.noise)
        st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory");
    for (uint32_t i = 0; i < n && st == ERT_OK; i++) {
        uint32_t nn = gs[i]->n_nodes;
        orig[i] = ert_graph_clone(gs[i]);
        cc.n_nodes[i] = sq.n_nodes[i] = nn;
        cc.st[i] = calloc(nn ? nn : 1, sizeof *cc.st[i]);
        keep[i] = calloc(nn ? nn : 1, sizeof *keep[i]);
        wino[i] = calloc(nn ? nn : 1, sizeof *wino[i]);
        b8[i] = calloc(nn ? nn : 1, sizeof *b8[i]);
        sq.is_q[i] = calloc(nn ? nn : 1, sizeof *sq.is_q[i]);
        sq.ref[i] = calloc(nn ? nn : 1, sizeof *sq.ref[i]);
        sq.sig[i] = calloc(nn ? nn : 1, sizeof *sq.sig[i]);
        sq.noise[i] = calloc(nn ? nn : 1, sizeof *sq.noise[i]);
        if (!orig[i] || !cc.st[i] || !keep[i] || !wino[i] || !b8[i] || !sq.is_q[i] || !sq.ref[i] || !sq.sig[i] || !sq.noise[i]) {
            st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory");
            break;
        }
        for (uint32_t k = 0; k < nn; k++) {
            const ert_node *nd = &gs[i]->nodes[k];
            const char *why = ert_qc_why_not(gs[i], nd);
            keep[i][k] = kept_by_user(q, nd->name);
            /* A convolution float32 runs faster than int8 (ert_qc_float_faster: since the
             * int8 Winograd F(2x2,3x3), only F(4x4) layers beyond its channel bound) keeps
             * float32 compute and gets int8 storage below. */
            wino[i][k] = !why && ert_qc_float_faster(gs[i], nd);
            if (!why && !keep[i][k] && !wino[i][k]) {
                ert_qstats_init(&cc.st[i][k].s);
                cc.st[i][k].count_ok = true;
            }
        }
    }
    /* Activation statistics of every candidate's input, on the float32 blob. */
    if (st == ERT_OK)
        st = load_as_blob(out, "fp32", orig, n, wo, &fm, err);
    const ert_preprocess *pps[8];
    recipes(wo, n, pps);
    /* Inputs fed by another graph (a decoder's latent, the mfTCN head's window of trunk
     * maps) are calibrated on that graph's float32 outputs. */
    if (st == ERT_OK)
        st = ert_calib_feed_build(fm, pps, frames, err);
    if (st == ERT_OK) {
        ert_model_set_observer(fm, obs_calib, &cc);
        cc.pass = 1;
        st = ert_calib_run(fm, pps, frames, "calibration pass 1/2 (ranges)", err);
        cc.pass = 2;
        if (st == ERT_OK)
            st = ert_calib_run(fm, pps, frames, "calibration pass 2/2 (histograms)", err);
        ert_model_set_observer(fm, NULL, NULL);
    }
    /* Quantize, measure, and while the gate fails put the layer with the worst output SQNR
     * back to float32 (with 7 bits: first to 8 bits, while below Q7_TARGET_COSINE). */
    size_t n8 = 0;
    for (int iter = 0; st == ERT_OK; iter++) {
        size_t quantized = 0;
        for (uint32_t i = 0; i < n && st == ERT_OK; i++) {
            if (!(work[i] = ert_graph_clone(orig[i]))) {
                st = ert_fail(err, ERT_ENOMEM, "quantize: out of memory");
                break;
            }
            for (uint32_t k = 0; k < work[i]->n_nodes && st == ERT_OK; k++) {
                sq.is_q[i][k] = false;
                if (!cc.st[i][k].count_ok || keep[i][k])
                    continue;
                ert_qparams xp = ert_qstats_params(&cc.st[i][k].s, method);
                if (bits == 7 && !b8[i][k]) /* the same range on 127 levels: q_max 127 (vpmaddubsw-exact) */
                    xp = ert_qparams_levels(xp.lo, xp.hi, 127);
                ert_error e;
                ert_status s2 = ert_qc_rewrite(work[i], k, &xp, &e);
                if (s2 == ERT_EINVAL) { /* this node cannot (bias range...): it stays float32 */
                    keep[i][k] = true;
                    if (iter == 0)
                        fprintf(stderr, "embedrt convert: %s\n", e.msg);
                    continue;
                }
                if (s2 != ERT_OK) {
                    *err = e;
                    st = s2;
                    break;
                }
                sq.is_q[i][k] = true;
                quantized++;
            }
            /* Winograd layers: int8 weights in the blob, float32 once loaded. Layers kept in
             * float32 for accuracy keep float32 weights too. */
            if (st == ERT_OK) {
                const char **names = malloc((work[i]->n_nodes + 1) * sizeof *names);
                size_t nk = 0;
                for (uint32_t k = 0; names && k < work[i]->n_nodes; k++)
                    if (!wino[i][k])
                        names[nk++] = work[i]->nodes[k].name;
                st = names ? ert_quant_mark_weights(work[i], names, nk, MIN_QUANT_ELEMS, NULL, err)
                           : ert_fail(err, ERT_ENOMEM, "quantize: out of memory");
                free(names);
            }
            if (st == ERT_OK)
                st = ert_graph_prune(work[i], err);
            if (st == ERT_OK)
                st = ert_plan_graph(work[i], err);
        }
        if (st == ERT_OK)
            st = load_as_blob(out, "int8", work, n, wo, &qm, err);
        r->n_outputs = r->n_rewards = r->n_layers = 0;
        for (uint32_t i = 0; i < n && st == ERT_OK; i++)
            for (uint32_t k = 0; k < sq.n_nodes[i]; k++)
                sq.sig[i][k] = sq.noise[i][k] = 0;
        if (st == ERT_OK)
            st = measure_models(fm, qm, work, n, wo, frames, r, &sq, err);
        ert_model_free(qm);
        qm = NULL;
        double worst_db = INFINITY;
        uint32_t wg = 0, wk = 0, w7g = 0, w7k = 0;
        bool any7 = false;
        for (uint32_t i = 0; i < n && st == ERT_OK; i++)
            for (uint32_t k = 0; k < sq.n_nodes[i] && st == ERT_OK; k++) {
                if (!sq.is_q[i][k])
                    continue;
                double db = sq.noise[i][k] > 0 ? 10.0 * log10(sq.sig[i][k] / sq.noise[i][k]) : INFINITY;
                ert_qr_layer l = {.sqnr_db = db};
                snprintf(l.graph, sizeof l.graph, "%s", work[i]->name);
                snprintf(l.node, sizeof l.node, "%s", work[i]->nodes[k].name);
                snprintf(l.what, sizeof l.what, "output");
                st = ert_qreport_add_layer(r, &l, err);
                if (db < worst_db)
                    worst_db = db, wg = i, wk = k;
                if (bits == 7 && !b8[i][k] && !any7) /* graphs and nodes run in this order */
                    w7g = i, w7k = k, any7 = true;
            }
        if (st != ERT_OK)
            break;
        size_t nw = 0;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t k = 0; k < sq.n_nodes[i]; k++)
                nw += wino[i][k];
        char on8[48] = "";
        if (bits == 7)
            snprintf(on8, sizeof on8, " (%zu with 8-bit inputs)", r->n_kept8);
        double worst = ert_qreport_min_cosine(r);
        fprintf(stderr, "embedrt convert: int8 try %d: %zu layers int8%s, %zu Winograd layers float32 with int8 "
                "weights, lowest output cosine %.5f\n", iter + 1, quantized, on8, nw, worst);
        if (quantized == 0 || iter + 1 >= MAX_FALLBACKS)
            break;
        if (bits == 7 && worst < Q7_TARGET_COSINE && any7 && n8 < MAX_8BIT) {
            b8[w7g][w7k] = true; /* the earliest 7-bit layer goes back to 8 bits */
            n8++;
            st = ert_qreport_add_kept8(r, orig[w7g]->nodes[w7k].name, err);
        } else if (worst >= ERT_CONVERT_GATE_COSINE) {
            break;
        } else {
            keep[wg][wk] = true; /* the most sensitive layer goes back to float32 */
            drop_kept8(r, orig[wg]->nodes[wk].name);
            st = ert_qreport_add_kept(r, orig[wg]->nodes[wk].name, err);
        }
        for (uint32_t i = 0; i < n; i++) {
            ert_graph_free(work[i]);
            work[i] = NULL;
        }
    }
    if (st == ERT_OK)
        for (uint32_t i = 0; i < n; i++) {
            ert_graph_free(gs[i]);
            gs[i] = work[i];
            work[i] = NULL;
        }
    for (uint32_t i = 0; i < n; i++) {
        ert_graph_free(orig[i]);
        ert_graph_free(work[i]);
        if (cc.st)
            free(cc.st[i]);
        free(keep[i]);
        free(wino[i]);
        free(b8[i]);
    }
    free(cc.st);
    free(cc.n_nodes);
    sqnr_free(&sq);
    ert_model_free(fm);
    return st;
}

ert_status ert_convert_write(const char *out, ert_graph **gs, uint32_t n, ert_blob_write_opts *wo,
                             const ert_convert_quant *q, FILE *report_to, ert_error *err)
{
    if (!q || !q->mode)
        return ert_blob_write(out, gs, n, wo, err);
    ert_qreport r = {0};
    ert_calib_set frames = {0};
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    snprintf(r.mode, sizeof r.mode, "%s", q->mode);
    r.gate_cosine = ERT_CONVERT_GATE_COSINE;
    r.forced = false;
    const char *keep[ERT_CONVERT_MAX_KEEP];
    for (size_t k = 0; k < q->n_keep; k++)
        keep[k] = q->keep[k];
    bool int8 = strcmp(q->mode, "int8") == 0;
    ert_status st = check_keep(q, gs, n, err);
    for (uint32_t i = 0; i < n && st == ERT_OK && !int8; i++) {
        ert_quant_weights_report wr;
        st = ert_quant_mark_weights(gs[i], keep, q->n_keep, MIN_QUANT_ELEMS, &wr, err);
        for (size_t k = 0; k < wr.n && st == ERT_OK; k++) {
            ert_qr_layer l = {.sqnr_db = wr.w[k].sqnr_db};
            snprintf(l.graph, sizeof l.graph, "%s", gs[i]->name);
            snprintf(l.node, sizeof l.node, "%s", gs[i]->nodes[wr.w[k].node].name);
            snprintf(l.what, sizeof l.what, "weight");
            st = ert_qreport_add_layer(&r, &l, err);
        }
        if (st == ERT_OK)
            ert_quant_weights_report_free(&wr);
    }
    for (size_t k = 0; k < q->n_keep && st == ERT_OK; k++)
        st = ert_qreport_add_kept(&r, q->keep[k], err);
    if (st == ERT_OK && q->calibration) {
        st = ert_calib_load(q->calibration, q->frames, &frames, err);
        if (st == ERT_OK) {
            r.heldout_frames = (uint32_t)ert_calib_heldout_count(&frames);
            r.calibration_frames = (uint32_t)(frames.n - r.heldout_frames);
            st = int8 ? quantize_int8(out, gs, n, wo, q, &frames, &r, err) : measure(out, gs, n, wo, &frames, &r, err);
        }
    }
    if (st == ERT_OK) {
        double worst = ert_qreport_min_cosine(&r);
        if (r.n_outputs && worst < ERT_CONVERT_GATE_COSINE) {
            if (!q->force) {
                ert_qreport_print(&r, stderr, 10);
                st = ert_fail(err, ERT_EINVAL, "quantized outputs reach a mean cosine of only %.4f against float32 "
                              "(gate %.2f); keep sensitive layers with --keep-fp32 NODE,... or write it anyway with "
                              "--force", worst, ERT_CONVERT_GATE_COSINE);
            } else {
                r.forced = true;
            }
        }
    }
    if (st == ERT_OK)
        st = ert_qreport_encode(&r, &enc, &enc_len, err);
    if (st == ERT_OK) {
        wo->quant_report = enc;
        wo->quant_report_len = enc_len;
        st = ert_blob_write(out, gs, n, wo, err);
        wo->quant_report = NULL;
        wo->quant_report_len = 0;
    }
    if (st == ERT_OK && report_to)
        ert_qreport_print(&r, report_to, 5);
    free(enc);
    ert_calib_free(&frames);
    ert_qreport_free(&r);
    return st;
}
