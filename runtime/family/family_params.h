/* Encoding and decoding of the "family" section (embedrt.v1.FamilyParams) shared by
 * the converter, inspect and the family loader. */
#ifndef ERT_FAMILY_PARAMS_H
#define ERT_FAMILY_PARAMS_H

#include "embedrt/family.h"

typedef struct ert_family_param_set {
    ert_family_param *v;
    size_t n, cap;
    void **owned; /* strings and value arrays, freed with the set */
    size_t n_owned, cap_owned;
} ert_family_param_set;

/* Decodes data (nanopb) into set; family must match the section's family name. */
ert_status ert_family_params_decode(const void *data, size_t len, const char *family, ert_family_param_set *set,
                                    ert_error *err);
/* Adds or replaces a parameter (copies key, text and values). */
ert_status ert_family_params_set(ert_family_param_set *set, const char *key, const char *text, const double *values,
                                 size_t n_values, ert_error *err);
/* Every parameter of desc at its default. */
ert_status ert_family_params_defaults(ert_family_param_set *set, const ert_family_desc *desc, ert_error *err);
const ert_family_param *ert_family_params_find(const ert_family_param_set *set, const char *key);
/* Encodes set as FamilyParams into a malloc'd buffer. */
ert_status ert_family_params_encode(const ert_family_param_set *set, const char *family, void **out, size_t *len,
                                    ert_error *err);
void ert_family_params_free(ert_family_param_set *set);

#endif
