/* The quantization report: lists, nanopb encode/decode, printing (see qreport.h). */
#include "qreport.h"

#include "embedrt/util.h"
#include "embedrt/v1/blob.pb.h"

#include <math.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 100000u

static ert_status grow(void **v, size_t n, size_t elem, ert_error *err)
{
    if (n >= MAX_ITEMS)
        return ert_fail(err, ERT_EINVAL, "quantization report: more than %u entries", MAX_ITEMS);
    if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: double */
        void *p = realloc(*v, (n ? 2 * n : 1) * elem);
        if (!p)
            return ert_fail(err, ERT_ENOMEM, "quantization report: out of memory");
        *v = p;
    }
    return ERT_OK;
}

ert_status ert_qreport_add_output(ert_qreport *r, const ert_qr_output *o, ert_error *err)
{
    ert_status st = grow((void **)&r->outputs, r->n_outputs, sizeof *r->outputs, err);
    if (st == ERT_OK)
        r->outputs[r->n_outputs++] = *o;
    return st;
}

ert_status ert_qreport_add_layer(ert_qreport *r, const ert_qr_layer *l, ert_error *err)
{
    ert_status st = grow((void **)&r->layers, r->n_layers, sizeof *r->layers, err);
    if (st == ERT_OK)
        r->layers[r->n_layers++] = *l;
    return st;
}

ert_status ert_qreport_add_reward(ert_qreport *r, const char *name, double value, ert_error *err)
{
    ert_status st = grow((void **)&r->rewards, r->n_rewards, sizeof *r->rewards, err);
    if (st == ERT_OK) {
        ert_str_copy(r->rewards[r->n_rewards].name, sizeof r->rewards[0].name, name);
        r->rewards[r->n_rewards++].value = value;
    }
    return st;
}

typedef char node_name[257];

static ert_status add_name(node_name **list, size_t *n, const char *node, ert_error *err)
{
    ert_status st = grow((void **)list, *n, sizeof **list, err);
    if (st == ERT_OK)
        ert_str_copy((*list)[(*n)++], sizeof **list, node);
    return st;
}

ert_status ert_qreport_add_kept(ert_qreport *r, const char *node, ert_error *err)
{
    return add_name(&r->kept, &r->n_kept, node, err);
}

ert_status ert_qreport_add_kept8(ert_qreport *r, const char *node, ert_error *err)
{
    return add_name(&r->kept8, &r->n_kept8, node, err);
}

void ert_qreport_free(ert_qreport *r)
{
    free(r->outputs);
    free(r->layers);
    free(r->rewards);
    free(r->kept);
    free(r->kept8);
    memset(r, 0, sizeof *r);
}

/* ---- encoding ---- */

static bool enc_outputs(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_qreport *r = *arg;
    for (size_t i = 0; i < r->n_outputs; i++) {
        embedrt_v1_OutputAccuracy m = embedrt_v1_OutputAccuracy_init_zero;
        ert_str_copy(m.graph, sizeof m.graph, r->outputs[i].graph);
        ert_str_copy(m.output, sizeof m.output, r->outputs[i].output);
        m.cosine_mean = r->outputs[i].cosine_mean;
        m.cosine_min = r->outputs[i].cosine_min;
        m.max_rel_err = r->outputs[i].max_rel_err;
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_OutputAccuracy_fields, &m))
            return false;
    }
    return true;
}

static bool enc_layers(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_qreport *r = *arg;
    for (size_t i = 0; i < r->n_layers; i++) {
        embedrt_v1_LayerSqnr m = embedrt_v1_LayerSqnr_init_zero;
        ert_str_copy(m.graph, sizeof m.graph, r->layers[i].graph);
        ert_str_copy(m.node, sizeof m.node, r->layers[i].node);
        ert_str_copy(m.what, sizeof m.what, r->layers[i].what);
        m.sqnr_db = r->layers[i].sqnr_db;
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_LayerSqnr_fields, &m))
            return false;
    }
    return true;
}

static bool enc_rewards(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_qreport *r = *arg;
    for (size_t i = 0; i < r->n_rewards; i++) {
        embedrt_v1_RewardAgreement m = embedrt_v1_RewardAgreement_init_zero;
        ert_str_copy(m.name, sizeof m.name, r->rewards[i].name);
        m.value = r->rewards[i].value;
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_RewardAgreement_fields, &m))
            return false;
    }
    return true;
}

static bool enc_names(pb_ostream_t *s, const pb_field_iter_t *f, const node_name *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_string(s, (const pb_byte_t *)list[i], strlen(list[i])))
            return false;
    return true;
}

static bool enc_kept(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_qreport *r = *arg;
    return enc_names(s, f, r->kept, r->n_kept);
}

static bool enc_kept8(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg)
{
    const ert_qreport *r = *arg;
    return enc_names(s, f, r->kept8, r->n_kept8);
}

static void to_pb(const ert_qreport *r, embedrt_v1_QuantReport *m)
{
    *m = (embedrt_v1_QuantReport)embedrt_v1_QuantReport_init_zero;
    ert_str_copy(m->mode, sizeof m->mode, r->mode);
    ert_str_copy(m->method, sizeof m->method, r->method);
    m->calibration_frames = r->calibration_frames;
    m->heldout_frames = r->heldout_frames;
    m->outputs = (pb_callback_t){.funcs.encode = enc_outputs, .arg = (void *)(uintptr_t)r};
    m->layers = (pb_callback_t){.funcs.encode = enc_layers, .arg = (void *)(uintptr_t)r};
    m->rewards = (pb_callback_t){.funcs.encode = enc_rewards, .arg = (void *)(uintptr_t)r};
    m->kept_fp32 = (pb_callback_t){.funcs.encode = enc_kept, .arg = (void *)(uintptr_t)r};
    m->kept_8bit = (pb_callback_t){.funcs.encode = enc_kept8, .arg = (void *)(uintptr_t)r};
    m->forced = r->forced;
    m->gate_cosine = r->gate_cosine;
    m->activation_bits = r->activation_bits;
}

ert_status ert_qreport_encode(const ert_qreport *r, uint8_t **out, size_t *len, ert_error *err)
{
    embedrt_v1_QuantReport m;
    to_pb(r, &m);
    size_t size;
    if (!pb_get_encoded_size(&size, embedrt_v1_QuantReport_fields, &m))
        return ert_fail(err, ERT_EINTERNAL, "quantization report: cannot encode");
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return ert_fail(err, ERT_ENOMEM, "quantization report: out of memory");
    pb_ostream_t s = pb_ostream_from_buffer(buf, size);
    if (!pb_encode(&s, embedrt_v1_QuantReport_fields, &m)) {
        free(buf);
        return ert_fail(err, ERT_EINTERNAL, "quantization report: %s", PB_GET_ERROR(&s));
    }
    *out = buf;
    *len = s.bytes_written;
    return ERT_OK;
}

/* ---- decoding ---- */

typedef struct dctx {
    ert_qreport *r;
    ert_error *err;
    bool failed;
} dctx;

static bool dec_outputs(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    dctx *d = *arg;
    embedrt_v1_OutputAccuracy m = embedrt_v1_OutputAccuracy_init_zero;
    if (!pb_decode(s, embedrt_v1_OutputAccuracy_fields, &m))
        return false;
    ert_qr_output o = {.cosine_mean = m.cosine_mean, .cosine_min = m.cosine_min, .max_rel_err = m.max_rel_err};
    ert_str_copy(o.graph, sizeof o.graph, m.graph);
    ert_str_copy(o.output, sizeof o.output, m.output);
    return !(d->failed = ert_qreport_add_output(d->r, &o, d->err) != ERT_OK);
}

static bool dec_layers(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    dctx *d = *arg;
    embedrt_v1_LayerSqnr m = embedrt_v1_LayerSqnr_init_zero;
    if (!pb_decode(s, embedrt_v1_LayerSqnr_fields, &m))
        return false;
    ert_qr_layer l = {.sqnr_db = m.sqnr_db};
    ert_str_copy(l.graph, sizeof l.graph, m.graph);
    ert_str_copy(l.node, sizeof l.node, m.node);
    ert_str_copy(l.what, sizeof l.what, m.what);
    return !(d->failed = ert_qreport_add_layer(d->r, &l, d->err) != ERT_OK);
}

static bool dec_rewards(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    dctx *d = *arg;
    embedrt_v1_RewardAgreement m = embedrt_v1_RewardAgreement_init_zero;
    if (!pb_decode(s, embedrt_v1_RewardAgreement_fields, &m))
        return false;
    return !(d->failed = ert_qreport_add_reward(d->r, m.name, m.value, d->err) != ERT_OK);
}

/* One node name (bounded like the lists' entries) into the list of f's field. */
static bool dec_name(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    dctx *d = *arg;
    node_name name;
    if (s->bytes_left >= sizeof name)
        return false;
    size_t n = s->bytes_left;
    if (!pb_read(s, (pb_byte_t *)name, n))
        return false;
    name[n] = '\0';
    ert_status st = f->tag == embedrt_v1_QuantReport_kept_8bit_tag ? ert_qreport_add_kept8(d->r, name, d->err)
                                                                  : ert_qreport_add_kept(d->r, name, d->err);
    return !(d->failed = st != ERT_OK);
}

ert_status ert_qreport_decode(const uint8_t *data, size_t len, ert_qreport *r, ert_error *err)
{
    memset(r, 0, sizeof *r);
    dctx d = {r, err, false};
    embedrt_v1_QuantReport m = embedrt_v1_QuantReport_init_zero;
    m.outputs = (pb_callback_t){.funcs.decode = dec_outputs, .arg = &d};
    m.layers = (pb_callback_t){.funcs.decode = dec_layers, .arg = &d};
    m.rewards = (pb_callback_t){.funcs.decode = dec_rewards, .arg = &d};
    m.kept_fp32 = (pb_callback_t){.funcs.decode = dec_name, .arg = &d};
    m.kept_8bit = (pb_callback_t){.funcs.decode = dec_name, .arg = &d};
    pb_istream_t s = pb_istream_from_buffer(data, len);
    if (!pb_decode(&s, embedrt_v1_QuantReport_fields, &m)) {
        ert_status st = d.failed ? err->code
                                 : ert_fail(err, ERT_EFORMAT, "quantization report: cannot decode (%s)",
                                            PB_GET_ERROR(&s));
        ert_qreport_free(r);
        return st;
    }
    ert_str_copy(r->mode, sizeof r->mode, m.mode);
    ert_str_copy(r->method, sizeof r->method, m.method);
    r->calibration_frames = m.calibration_frames;
    r->heldout_frames = m.heldout_frames;
    r->forced = m.forced;
    r->gate_cosine = m.gate_cosine;
    r->activation_bits = m.activation_bits;
    return ERT_OK;
}

/* ---- printing ---- */

double ert_qreport_min_cosine(const ert_qreport *r)
{
    double m = 1.0;
    for (size_t i = 0; i < r->n_outputs; i++)
        m = fmin(m, r->outputs[i].cosine_mean);
    return m;
}

static int by_sqnr(const void *a, const void *b)
{
    double x = ((const ert_qr_layer *)a)->sqnr_db, y = ((const ert_qr_layer *)b)->sqnr_db;
    return (x > y) - (x < y);
}

static void print_names(FILE *f, const char *what, const node_name *list, size_t n)
{
    if (!n)
        return;
    fprintf(f, "  %s:", what);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %s", i ? "," : "", list[i]);
    fputc('\n', f);
}

void ert_qreport_print(const ert_qreport *r, FILE *f, size_t max_layers)
{
    fprintf(f, "quantization %s", r->mode);
    if (r->method[0])
        fprintf(f, ", calibration %s on %u frames, %u-bit activations", r->method, r->calibration_frames,
                r->activation_bits ? r->activation_bits : 8);
    if (r->heldout_frames)
        fprintf(f, ", accuracy vs float32 on %u held-out frames", r->heldout_frames);
    else
        fprintf(f, ", accuracy not measured (no --calibration frames)");
    fprintf(f, "%s\n", r->forced ? " (written with --force below the accuracy gate)" : "");
    for (size_t i = 0; i < r->n_outputs; i++) {
        const ert_qr_output *o = &r->outputs[i];
        fprintf(f, "  output %s/%s: cosine mean %.6f min %.6f, max relative error %.4f\n", o->graph, o->output,
                o->cosine_mean, o->cosine_min, o->max_rel_err);
    }
    for (size_t i = 0; i < r->n_rewards; i++)
        fprintf(f, "  reward %s: %.4f\n", r->rewards[i].name, r->rewards[i].value);
    if (r->n_layers) {
        ert_qr_layer *sorted = malloc(r->n_layers * sizeof *sorted);
        const ert_qr_layer *ls = r->layers;
        if (sorted) {
            memcpy(sorted, r->layers, r->n_layers * sizeof *sorted);
            qsort(sorted, r->n_layers, sizeof *sorted, by_sqnr);
            ls = sorted;
        }
        size_t show = r->n_layers < max_layers ? r->n_layers : max_layers;
        double lo = ls[0].sqnr_db, hi = ls[r->n_layers - 1].sqnr_db;
        fprintf(f, "  %zu quantized layers, SQNR %.1f to %.1f dB; lowest:\n", r->n_layers, lo, hi);
        for (size_t i = 0; i < show; i++)
            fprintf(f, "    %s/%s (%s): %.1f dB\n", ls[i].graph, ls[i].node, ls[i].what, ls[i].sqnr_db);
        free(sorted);
    }
    print_names(f, "kept in float32", r->kept, r->n_kept);
    print_names(f, "inputs on 8 bits (accuracy fallback from 7)", r->kept8, r->n_kept8);
}
