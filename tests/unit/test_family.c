/* Family parameters: the "family" section round trip, defaults, overrides, and every
 * way a hostile section is refused; the family registry. */
#include "harness.h"

#include "embedrt/family.h"
#include "embedrt/v1/family.pb.h"
#include "family_params.h"

#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

static const ert_family_param_def defs[] = {
    {"alpha", "weight", NULL, 0.5},
    {"similarity", "kind", "cosine", 0},
    {NULL, NULL, NULL, 0},
};
static const ert_family_role_def no_roles[] = {{NULL, false, NULL}};
static const ert_family_desc fake = {"fake", no_roles, defs, NULL};

static void test_params_round_trip_numbers_arrays_and_text(void)
{
    ert_family_param_set ps = {0}, back;
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(ert_family_params_defaults(&ps, &fake, &err), ERT_OK);
    const double stats[3] = {0.25, -1.5, 1e-9};
    CU_ASSERT_EQUAL(ert_family_params_set(&ps, "latent_mean", NULL, stats, 3, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_family_params_set(&ps, "similarity", "dot", NULL, 0, &err), ERT_OK); /* override */
    void *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ert_family_params_encode(&ps, "fake", &buf, &len, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(ert_family_params_decode(buf, len, "fake", &back, &err), ERT_OK);
    CU_ASSERT_EQUAL(back.n, 3);
    const ert_family_param *a = ert_family_params_find(&back, "alpha");
    CU_ASSERT_FATAL(a && !a->text && a->n_values == 1);
    CU_ASSERT_EQUAL(a->values[0], 0.5);
    const ert_family_param *m = ert_family_params_find(&back, "latent_mean");
    CU_ASSERT_FATAL(m && m->n_values == 3);
    CU_ASSERT(memcmp(m->values, stats, sizeof stats) == 0); /* doubles travel bit-exact */
    const ert_family_param *s = ert_family_params_find(&back, "similarity");
    CU_ASSERT_FATAL(s && s->text);
    CU_ASSERT_STRING_EQUAL(s->text, "dot");
    CU_ASSERT_PTR_NULL(ert_family_params_find(&back, "nope"));
    free(buf);
    ert_family_params_free(&ps);
    ert_family_params_free(&back);
}

static void test_params_decode_refuses_other_family(void)
{
    ert_family_param_set ps = {0}, back;
    ert_error err;
    ert_family_params_defaults(&ps, &fake, &err);
    void *buf;
    size_t len;
    ert_family_params_encode(&ps, "fake", &buf, &len, &err);
    CU_ASSERT_EQUAL(ert_family_params_decode(buf, len, "tcn", &back, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "for family 'fake', the blob says 'tcn'"));
    free(buf);
    ert_family_params_free(&ps);
}

static size_t encode_raw(const embedrt_v1_FamilyParam *params, size_t n, uint8_t *out, size_t cap)
{
    pb_ostream_t os = pb_ostream_from_buffer(out, cap);
    const char fam[] = "fake";
    pb_encode_tag(&os, PB_WT_STRING, embedrt_v1_FamilyParams_family_tag);
    pb_encode_string(&os, (const pb_byte_t *)fam, 4);
    for (size_t i = 0; i < n; i++) {
        pb_encode_tag(&os, PB_WT_STRING, embedrt_v1_FamilyParams_params_tag);
        pb_encode_submessage(&os, embedrt_v1_FamilyParam_fields, &params[i]);
    }
    return os.bytes_written;
}

static bool one_value(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    (void)arg;
    double v = 1.0;
    return pb_encode_tag_for_field(s, f) && pb_encode_fixed64(s, &v);
}

static void test_params_decode_refuses_duplicates_and_text_with_values(void)
{
    embedrt_v1_FamilyParam p[2] = {embedrt_v1_FamilyParam_init_zero, embedrt_v1_FamilyParam_init_zero};
    strcpy(p[0].key, "alpha");
    strcpy(p[1].key, "alpha");
    uint8_t buf[256];
    size_t len = encode_raw(p, 2, buf, sizeof buf);
    ert_family_param_set back;
    ert_error err;
    CU_ASSERT_EQUAL(ert_family_params_decode(buf, len, "fake", &back, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'alpha' appears twice"));
    strcpy(p[0].text, "cosine");
    p[0].values.funcs.encode = one_value;
    len = encode_raw(p, 1, buf, sizeof buf);
    CU_ASSERT_EQUAL(ert_family_params_decode(buf, len, "fake", &back, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "both text and values"));
}

static void test_params_decode_refuses_garbage_and_truncation(void)
{
    ert_family_param_set ps = {0}, back;
    ert_error err;
    ert_family_params_defaults(&ps, &fake, &err);
    void *buf;
    size_t len;
    ert_family_params_encode(&ps, "fake", &buf, &len, &err);
    int refused = 0;
    for (size_t cut = 1; cut < len; cut++) {
        ert_status st = ert_family_params_decode(buf, cut, "fake", &back, &err);
        if (st == ERT_OK)
            ert_family_params_free(&back);
        else
            refused++;
    }
    CU_ASSERT(refused > 0);
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
    CU_ASSERT_EQUAL(ert_family_params_decode(junk, sizeof junk, "fake", &back, &err), ERT_EFORMAT);
    free(buf);
    ert_family_params_free(&ps);
}

static void test_params_set_validates_keys(void)
{
    ert_family_param_set ps = {0};
    ert_error err;
    CU_ASSERT_EQUAL(ert_family_params_set(&ps, "", NULL, NULL, 0, &err), ERT_EINVAL);
    char longkey[40];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CU_ASSERT_EQUAL(ert_family_params_set(&ps, longkey, NULL, NULL, 0, &err), ERT_EINVAL);
    ert_family_params_free(&ps);
}

static void test_registry_knows_the_five_families(void)
{
    const char *names[] = {"grasp2vec", "tcn", "mftcn", "rig", "ccvae"};
    for (size_t i = 0; i < 5; i++) {
        const ert_family_desc *d = ert_family_find(names[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_STRING_EQUAL(d->name, names[i]);
    }
    CU_ASSERT_PTR_NULL(ert_family_find("resnet"));
    CU_ASSERT_PTR_NULL(ert_family_find(NULL));
}

static const ert_test_case cases[] = {
    ERT_TEST(test_params_round_trip_numbers_arrays_and_text),
    ERT_TEST(test_params_decode_refuses_other_family),
    ERT_TEST(test_params_decode_refuses_duplicates_and_text_with_values),
    ERT_TEST(test_params_decode_refuses_garbage_and_truncation),
    ERT_TEST(test_params_set_validates_keys),
    ERT_TEST(test_registry_knows_the_five_families),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_family = {"family", cases};
