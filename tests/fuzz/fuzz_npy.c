/* libFuzzer target: the .npy parser on hostile bytes. */
#include "embedrt/npy.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ert_npy n;
    ert_error err;
    if (ert_npy_parse(data, size, "fuzz.npy", &n, &err) == ERT_OK) {
        size_t want;
        if (!ert_shape_bytes(&n.shape, n.dtype, &want) || want != n.nbytes)
            __builtin_trap();
        ert_npy_free(&n);
    }
    return 0;
}
