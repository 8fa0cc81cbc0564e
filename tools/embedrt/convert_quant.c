/* `embedrt convert --quantize ...`: marks the weights, measures the quantized blob against
 * the float32 graphs on held-out calibration frames, applies the accuracy gate, and
 * writes the blob with its quantization report (tools/convert/quantize.h, calib.h,
 * qreport.h). */
#include "convert_quant.h"

#include "calib.h"
#include "qreport.h"
#include "quantize.h"

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
        if (strcmp(val, "int8-weights") != 0)
            return ert_fail(err, ERT_EINVAL, "--quantize '%s': expected int8-weights", val);
        q->mode = val;
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
    if (!q->mode && (q->calibration || q->frames || q->n_keep || q->force))
        return ert_fail(err, ERT_EINVAL, "--calibration, --calibration-frames, --keep-fp32 and --force need --quantize");
    if (q->frames && !q->calibration)
        return ert_fail(err, ERT_EINVAL, "--calibration-frames needs --calibration PATH");
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
static ert_status measure(const char *out, ert_graph *const *gs, uint32_t n, const ert_blob_write_opts *wo,
                          const ert_calib_set *frames, ert_qreport *r, ert_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.measure-%ld", out, (long)getpid());
    ert_model *fm = NULL, *qm = NULL;
    ert_model_options mo = {.threads = 1};
    ert_status st = ert_blob_write(tmp, gs, n, wo, err);
    if (st == ERT_OK)
        st = ert_model_load(tmp, &mo, &qm, err);
    unlink(tmp);
    if (st == ERT_OK)
        st = ert_model_from_graphs(gs, n, false, &mo, &fm, err);
    const ert_preprocess *pps[8] = {0};
    for (uint32_t i = 0; i < n && i < 8 && wo->preprocess; i++)
        pps[i] = wo->preprocess[i];
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
    ert_model_free(fm);
    ert_model_free(qm);
    return st;
}

ert_status ert_convert_write(const char *out, ert_graph *const *gs, uint32_t n, ert_blob_write_opts *wo,
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
    ert_status st = check_keep(q, gs, n, err);
    for (uint32_t i = 0; i < n && st == ERT_OK; i++) {
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
            st = measure(out, gs, n, wo, &frames, &r, err);
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
