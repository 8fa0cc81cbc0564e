/* The "family" section: FamilyParams encoded and decoded with nanopb. Parameters are
 * few and small; the set owns copies of every string and value array. */
#include "family_params.h"

#include "embedrt/v1/family.pb.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 256
#define MAX_VALUES 65536

static void *own(ert_family_param_set *s, void *p)
{
    if (!p)
        return NULL;
    if (s->n_owned == s->cap_owned) {
        size_t nc = s->cap_owned ? s->cap_owned * 2 : 16;
        void **no = realloc(s->owned, nc * sizeof *no);
        if (!no) {
            free(p);
            return NULL;
        }
        s->owned = no;
        s->cap_owned = nc;
    }
    s->owned[s->n_owned++] = p;
    return p;
}

const ert_family_param *ert_family_params_find(const ert_family_param_set *set, const char *key)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].key, key) == 0)
            return &set->v[i];
    return NULL;
}

ert_status ert_family_params_set(ert_family_param_set *set, const char *key, const char *text, const double *values,
                                 size_t n_values, ert_error *err)
{
    if (!key || !key[0] || strlen(key) > 32)
        return ert_fail(err, ERT_EINVAL, "family parameter key '%s' must have 1..32 characters", key ? key : "");
    if (text && strlen(text) > 64)
        return ert_fail(err, ERT_EINVAL, "family parameter '%s': text longer than 64 characters", key);
    if (n_values > MAX_VALUES)
        return ert_fail(err, ERT_EINVAL, "family parameter '%s': more than %d values", key, MAX_VALUES);
    ert_family_param *p = (ert_family_param *)ert_family_params_find(set, key);
    if (!p) {
        if (set->n >= MAX_PARAMS)
            return ert_fail(err, ERT_EINVAL, "more than %d family parameters", MAX_PARAMS);
        if (set->n == set->cap) {
            size_t nc = set->cap ? set->cap * 2 : 16;
            ert_family_param *nv = realloc(set->v, nc * sizeof *nv);
            if (!nv)
                return ert_fail(err, ERT_ENOMEM, "family parameters: out of memory");
            set->v = nv;
            set->cap = nc;
        }
        p = &set->v[set->n++];
        memset(p, 0, sizeof *p);
        p->key = own(set, strdup(key));
        if (!p->key) {
            set->n--;
            return ert_fail(err, ERT_ENOMEM, "family parameters: out of memory");
        }
    }
    p->text = text ? own(set, strdup(text)) : NULL;
    p->values = NULL;
    p->n_values = 0;
    if (n_values) {
        double *v = own(set, malloc(n_values * sizeof *v));
        if (!v)
            return ert_fail(err, ERT_ENOMEM, "family parameters: out of memory");
        memcpy(v, values, n_values * sizeof *v);
        p->values = v;
        p->n_values = n_values;
    }
    if (text && !p->text)
        return ert_fail(err, ERT_ENOMEM, "family parameters: out of memory");
    return ERT_OK;
}

ert_status ert_family_params_defaults(ert_family_param_set *set, const ert_family_desc *desc, ert_error *err)
{
    for (const ert_family_param_def *d = desc->params; d && d->key; d++) {
        ert_status st = ert_family_params_set(set, d->key, d->text, d->text ? NULL : &d->value, d->text ? 0 : 1, err);
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

void ert_family_params_free(ert_family_param_set *set)
{
    for (size_t i = 0; i < set->n_owned; i++)
        free(set->owned[i]);
    free(set->owned);
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* ---- decoding ---- */

typedef struct values_ctx {
    double *v;
    size_t n, cap;
    bool too_many;
} values_ctx;

static bool values_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    values_ctx *c = *arg;
    double d;
    if (!pb_decode_fixed64(s, &d))
        return false;
    if (c->n >= MAX_VALUES) {
        c->too_many = true;
        return false;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        double *nv = realloc(c->v, nc * sizeof *nv);
        if (!nv)
            return false;
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = d;
    return true;
}

typedef struct params_ctx {
    ert_family_param_set *set;
    ert_error *err;
    bool failed; /* err already set */
} params_ctx;

static bool param_cb(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    (void)f;
    params_ctx *c = *arg;
    values_ctx vc = {0};
    embedrt_v1_FamilyParam p = embedrt_v1_FamilyParam_init_zero;
    p.values.funcs.decode = values_cb;
    p.values.arg = &vc;
    bool ok = pb_decode(s, embedrt_v1_FamilyParam_fields, &p);
    if (ok) {
        if (ert_family_params_find(c->set, p.key)) {
            ert_fail(c->err, ERT_EFORMAT, "family parameter '%s' appears twice", p.key);
            ok = false, c->failed = true;
        } else if (p.text[0] && vc.n) {
            ert_fail(c->err, ERT_EFORMAT, "family parameter '%s' has both text and values", p.key);
            ok = false, c->failed = true;
        } else if (ert_family_params_set(c->set, p.key, p.text[0] ? p.text : NULL, vc.v, vc.n, c->err) != ERT_OK) {
            ok = false, c->failed = true;
        }
    } else if (vc.too_many) {
        ert_fail(c->err, ERT_EFORMAT, "a family parameter has more than %d values", MAX_VALUES);
        c->failed = true;
    }
    free(vc.v);
    return ok;
}

ert_status ert_family_params_decode(const void *data, size_t len, const char *family, ert_family_param_set *set,
                                    ert_error *err)
{
    memset(set, 0, sizeof *set);
    params_ctx c = {set, err, false};
    embedrt_v1_FamilyParams fp = embedrt_v1_FamilyParams_init_zero;
    fp.params.funcs.decode = param_cb;
    fp.params.arg = &c;
    pb_istream_t s = pb_istream_from_buffer(data, len);
    if (!pb_decode(&s, embedrt_v1_FamilyParams_fields, &fp)) {
        if (!c.failed)
            ert_fail(err, ERT_EFORMAT, "section 'family': not valid FamilyParams (%s)", PB_GET_ERROR(&s));
        else
            ert_error_prefix(err, "section 'family'");
        ert_family_params_free(set);
        return err ? err->code : ERT_EFORMAT;
    }
    if (strcmp(fp.family, family) != 0) {
        ert_family_params_free(set);
        return ert_fail(err, ERT_EFORMAT, "section 'family' is for family '%s', the blob says '%s'", fp.family, family);
    }
    return ERT_OK;
}

/* ---- encoding ---- */

static bool values_enc(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const ert_family_param *p = *arg;
    if (!p->n_values)
        return true;
    /* packed repeated double */
    if (!pb_encode_tag(s, PB_WT_STRING, f->tag) || !pb_encode_varint(s, (uint64_t)p->n_values * 8))
        return false;
    for (size_t i = 0; i < p->n_values; i++)
        if (!pb_encode_fixed64(s, &p->values[i]))
            return false;
    return true;
}

typedef struct enc_ctx {
    const ert_family_param_set *set;
} enc_ctx;

static bool params_enc(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const enc_ctx *c = *arg;
    for (size_t i = 0; i < c->set->n; i++) {
        const ert_family_param *p = &c->set->v[i];
        embedrt_v1_FamilyParam m = embedrt_v1_FamilyParam_init_zero;
        strncpy(m.key, p->key, sizeof m.key - 1);
        if (p->text)
            strncpy(m.text, p->text, sizeof m.text - 1);
        m.values.funcs.encode = values_enc;
        m.values.arg = (void *)p;
        if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, embedrt_v1_FamilyParam_fields, &m))
            return false;
    }
    return true;
}

ert_status ert_family_params_encode(const ert_family_param_set *set, const char *family, void **out, size_t *len,
                                    ert_error *err)
{
    embedrt_v1_FamilyParams fp = embedrt_v1_FamilyParams_init_zero;
    strncpy(fp.family, family, sizeof fp.family - 1);
    enc_ctx c = {set};
    fp.params.funcs.encode = params_enc;
    fp.params.arg = &c;
    pb_ostream_t sizing = PB_OSTREAM_SIZING;
    if (!pb_encode(&sizing, embedrt_v1_FamilyParams_fields, &fp))
        return ert_fail(err, ERT_EINTERNAL, "family parameters: encoding failed (%s)", PB_GET_ERROR(&sizing));
    uint8_t *buf = malloc(sizing.bytes_written ? sizing.bytes_written : 1);
    if (!buf)
        return ert_fail(err, ERT_ENOMEM, "family parameters: out of memory");
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizing.bytes_written);
    if (!pb_encode(&os, embedrt_v1_FamilyParams_fields, &fp)) {
        free(buf);
        return ert_fail(err, ERT_EINTERNAL, "family parameters: encoding failed (%s)", PB_GET_ERROR(&os));
    }
    *out = buf;
    *len = os.bytes_written;
    return ERT_OK;
}
