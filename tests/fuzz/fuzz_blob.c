/* libFuzzer target: the blob loader on hostile bytes, three ways -- as a file, as a
 * file with its CRCs repaired (so mutations reach the meta decoder), and as a bare
 * meta + weights pair wrapped in a valid container. It must never crash or leak, and
 * whatever it accepts must pass the plan verifier and be readable end to end. */
#include "embedrt/blob.h"
#include "embedrt/compress.h"
#include "embedrt/plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static void use(ert_blob *b)
{
    const ert_blob_info *in = ert_blob_get_info(b);
    uint32_t n = ert_blob_graph_count(b);
    if (!in || n == 0 || in->n_graphs != n)
        abort();
    volatile uint8_t sink = 0;
    for (uint32_t i = 0; i < n; i++) {
        ert_graph *g = ert_blob_graph(b, i);
        if (ert_blob_find_graph(b, in->graphs[i].name) != g)
            abort(); /* names are unique */
        if (ert_plan_verify(g, NULL) != ERT_OK)
            abort(); /* the loader already ran it */
        for (uint32_t t = 0; t < g->n_tensors; t++) {
            const ert_tensor *x = &g->tensors[t];
            if (x->is_const)
                for (uint64_t k = 0; k < x->nbytes; k++)
                    sink ^= ((const uint8_t *)x->data)[k];
        }
        for (uint32_t s = 0; s < g->n_nodes; s++) {
            const ert_node *nd = &g->nodes[s];
            for (uint32_t k = 0; k < nd->n_ints; k++)
                sink ^= (uint8_t)nd->ints[k];
        }
    }
    (void)sink;
}

static void load(const uint8_t *data, size_t size)
{
    ert_blob *b = NULL;
    ert_error err;
    ert_status st = ert_blob_open_mem(data, size, "fuzz.erb", &b, &err);
    if (st == ERT_OK) {
        use(b);
        ert_blob_close(b);
    } else if (b || err.code != st || strncmp(err.msg, "fuzz.erb: ", 10) != 0) {
        abort(); /* failures leave nothing behind and always say what went wrong */
    }
}

/* Recomputes the section and header CRCs wherever the (hostile) table allows. */
static void reseal(uint8_t *f, size_t len)
{
    if (len < 64)
        return;
    uint64_t hsize = rd32(f + 12), count = rd32(f + 16), esize = rd32(f + 20), toff = rd64(f + 24);
    if (hsize < 64 || hsize > len || esize < 64 || toff > len || count > (len - toff) / esize)
        return;
    for (uint64_t i = 0; i < count; i++) {
        uint8_t *e = f + toff + i * esize;
        uint64_t off = rd64(e + 24), stored = rd64(e + 32);
        if (off <= len && stored <= len - off)
            wr32(e + 20, ert_crc32(0, f + off, (size_t)stored));
    }
    wr32(f + 44, 0);
    uint32_t crc = ert_crc32(0, f, (size_t)hsize);
    wr32(f + 44, ert_crc32(crc, f + toff, (size_t)(count * esize)));
}

/* input = u32 meta length, meta bytes, weights bytes */
static void wrap(const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    size_t mlen = rd32(data), rest = size - 4;
    if (mlen > rest)
        mlen = rest;
    size_t wlen = rest - mlen, woff = (192 + mlen + 63) / 64 * 64, total = woff + wlen;
    uint8_t *f = calloc(1, total);
    if (!f)
        return;
    memcpy(f, "ERTBLOB\x1a", 8);
    f[8] = 1;
    wr32(f + 12, 64);
    wr32(f + 16, 2);
    wr32(f + 20, 64);
    wr64(f + 24, 64);
    wr64(f + 32, total);
    memcpy(f + 64, "meta", 4);
    wr64(f + 64 + 24, 192);
    wr64(f + 64 + 32, mlen);
    wr64(f + 64 + 40, mlen);
    memcpy(f + 128, "weights", 7);
    wr64(f + 128 + 24, woff);
    wr64(f + 128 + 32, wlen);
    wr64(f + 128 + 40, wlen);
    memcpy(f + 192, data + 4, mlen);
    memcpy(f + woff, data + 4 + mlen, wlen);
    reseal(f, total);
    load(f, total);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy) {
        memcpy(copy, data, size);
        reseal(copy, size);
        load(copy, size);
        free(copy);
    }
    wrap(data, size);
    return 0;
}
