/* libFuzzer target: the daemon's wire format from hostile bytes. The input (after two
 * seed bytes that choose the read sizes) goes through ert_wire_rx in random splits, and
 * every frame, plus the whole input as one payload, through ert_wire_decode. Whatever
 * decodes must re-encode to a canonical frame that decodes and re-encodes to itself. */
#include "embedrt/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static float demo_f[ERT_WIRE_MAX_DEMO_FLOATS];
static float heat_f[ERT_WIRE_MAX_HEATMAP_FLOATS];

static void check_canonical(const uint8_t *payload, size_t len)
{
    static embedrt_v1_Envelope env, back;
    ert_wire_views v, v2;
    if (ert_wire_decode(payload, len, &env, &v, NULL) != ERT_OK)
        return;
    for (size_t i = 0; i < v.demo.count; i++)
        demo_f[i] = ert_wire_float_at(&v.demo, i);
    for (size_t i = 0; i < v.heatmap.count; i++)
        heat_f[i] = ert_wire_float_at(&v.heatmap, i);
    ert_wire_out bulk = {v.image.data, v.image.len, demo_f, v.demo.count, heat_f, v.heatmap.count};
    size_t size = ert_wire_encoded_size(&env, &bulk);
    if (size == 0)
        __builtin_trap(); /* a decoded envelope always encodes */
    uint8_t *a = malloc(size), *b = malloc(size);
    size_t la, lb;
    if (ert_wire_encode(&env, &bulk, a, size, &la, NULL) != ERT_OK || la != size)
        __builtin_trap();
    ert_wire_rx rx;
    if (ert_wire_rx_init(&rx, 0, NULL) != ERT_OK)
        __builtin_trap();
    size_t avail;
    uint8_t *dst = ert_wire_rx_space(&rx, &avail);
    if (avail < la)
        __builtin_trap();
    memcpy(dst, a, la);
    ert_wire_rx_commit(&rx, la);
    const uint8_t *p;
    size_t pl;
    bool have;
    if (ert_wire_rx_frame(&rx, &p, &pl, &have, NULL) != ERT_OK || !have ||
        ert_wire_decode(p, pl, &back, &v2, NULL) != ERT_OK)
        __builtin_trap();
    /* The bulk views of the re-decoded frame hold the same bytes. */
    if (v2.image.len != v.image.len || (v.image.len && memcmp(v2.image.data, v.image.data, v.image.len)) ||
        v2.demo.count != v.demo.count || v2.heatmap.count != v.heatmap.count)
        __builtin_trap();
    if (ert_wire_encode(&back, &bulk, b, size, &lb, NULL) != ERT_OK || lb != la || memcmp(a, b, la) != 0)
        __builtin_trap();
    ert_wire_rx_free(&rx);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8;
    data += 2;
    size -= 2;
    check_canonical(data, size);

    ert_wire_rx rx;
    if (ert_wire_rx_init(&rx, 1024, NULL) != ERT_OK)
        __builtin_trap();
    size_t off = 0;
    while (off < size) {
        seed = seed * 1103515245u + 12345u;
        size_t want = 1 + (seed >> 16) % 300;
        size_t avail;
        uint8_t *dst = ert_wire_rx_space(&rx, &avail);
        if (avail == 0)
            __builtin_trap(); /* frames were taken: there is always room */
        size_t k = want < avail ? want : avail;
        if (k > size - off)
            k = size - off;
        memcpy(dst, data + off, k);
        ert_wire_rx_commit(&rx, k);
        off += k;
        for (;;) {
            const uint8_t *p;
            size_t len;
            bool have;
            if (ert_wire_rx_frame(&rx, &p, &len, &have, NULL) != ERT_OK)
                goto done; /* protocol error: a daemon closes the connection here */
            if (!have)
                break;
            if (len > 1024)
                __builtin_trap();
            check_canonical(p, len);
        }
    }
done:
    ert_wire_rx_free(&rx);
    return 0;
}
