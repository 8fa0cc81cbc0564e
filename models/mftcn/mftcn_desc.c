/* The mftcn family's descriptor: roles, parameters with their defaults, conversion check. */
#include "embedrt/family.h"

static const ert_family_role_def roles[] = {
    {NULL, false, NULL},
};
static const ert_family_param_def params[] = {
    {NULL, NULL, NULL, 0},
};
const ert_family_desc ert_family_mftcn = {"mftcn", roles, params, NULL};
