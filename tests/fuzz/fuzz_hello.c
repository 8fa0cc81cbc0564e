/* libFuzzer target: nanopb decoding of Hello and Status from hostile bytes.
 * Whatever decodes must re-encode and decode back to the same struct. */
#include "embedrt/v1/core.pb.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(const pb_msgdesc_t *fields, const void *msg, size_t size)
{
    uint8_t buf[1024], again[1024];
    void *copy = calloc(1, size);
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    if (!pb_encode(&os, fields, msg))
        abort(); /* a decoded message always fits its own _size bound */
    pb_istream_t is = pb_istream_from_buffer(buf, os.bytes_written);
    if (!pb_decode(&is, fields, copy))
        abort();
    pb_ostream_t os2 = pb_ostream_from_buffer(again, sizeof again);
    if (!pb_encode(&os2, fields, copy) || os2.bytes_written != os.bytes_written ||
        memcmp(buf, again, os.bytes_written) != 0)
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    pb_istream_t is = pb_istream_from_buffer(data, size);
    if (pb_decode(&is, embedrt_v1_Hello_fields, &h))
        round_trip(embedrt_v1_Hello_fields, &h, sizeof h);
    embedrt_v1_Status s = embedrt_v1_Status_init_zero;
    is = pb_istream_from_buffer(data, size);
    if (pb_decode(&is, embedrt_v1_Status_fields, &s))
        round_trip(embedrt_v1_Status_fields, &s, sizeof s);
    return 0;
}
