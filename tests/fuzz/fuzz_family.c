/* libFuzzer target: the "family" section of a family blob (embedrt.v1.FamilyParams)
 * decoded from hostile bytes; whatever decodes must re-encode and decode to the same set. */
#include "family_params.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ert_family_param_set ps, back;
    if (ert_family_params_decode(data, size, "tcn", &ps, NULL) != ERT_OK)
        return 0;
    void *buf;
    size_t len;
    if (ert_family_params_encode(&ps, "tcn", &buf, &len, NULL) != ERT_OK ||
        ert_family_params_decode(buf, len, "tcn", &back, NULL) != ERT_OK || back.n != ps.n)
        __builtin_trap();
    for (size_t i = 0; i < ps.n; i++) {
        const ert_family_param *a = &ps.v[i], *b = ert_family_params_find(&back, a->key);
        if (!b || (!a->text != !b->text) || a->n_values != b->n_values ||
            (a->n_values && memcmp(a->values, b->values, a->n_values * sizeof *a->values) != 0))
            __builtin_trap();
    }
    free(buf);
    ert_family_params_free(&ps);
    ert_family_params_free(&back);
    return 0;
}
