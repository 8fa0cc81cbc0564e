/* COBS framing with CRC-32 for the controller link (see ert_link_frame.h).
 * Written for an MCU first: no heap, a 16-entry CRC table, one pass per byte. */
#include "ert_link_frame.h"

#include <string.h>

/* Half-byte table for the reflected IEEE polynomial: 64 bytes of flash instead of 1 KiB,
 * two lookups per byte; fast enough for any UART rate. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t ert_link_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    }
    return ~crc;
}

/* Streaming COBS encoder state over the output buffer. */
typedef struct cobs_out {
    uint8_t *out;
    size_t code_pos; /* where the current block's code byte goes */
    size_t pos;      /* next data byte */
    uint8_t code;    /* 1 + data bytes in the current block */
} cobs_out;

static void cobs_put(cobs_out *c, uint8_t b)
{
    if (b == 0) {
        c->out[c->code_pos] = c->code;
        c->code_pos = c->pos++;
        c->code = 1;
        return;
    }
    c->out[c->pos++] = b;
    if (++c->code == 0xFF) {
        c->out[c->code_pos] = c->code;
        c->code_pos = c->pos++;
        c->code = 1;
    }
}

static void cobs_put_all(cobs_out *c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cobs_put(c, p[i]);
}

size_t ert_link_frame_encode(const ert_link_header *h, const uint8_t *payload, size_t payload_len,
                             uint8_t *out, size_t cap)
{
    /* Both checks before any arithmetic that could wrap. */
    if (!h || !out || (payload_len && !payload) || payload_len > SIZE_MAX / 2 ||
        cap < ERT_LINK_WIRE_MAX(payload_len))
        return 0;
    uint8_t hdr[ERT_LINK_HEADER_SIZE] = {h->version, h->type, (uint8_t)(h->seq & 0xFFu),
                                         (uint8_t)(h->seq >> 8)};
    uint32_t crc = ert_link_crc32(0, hdr, sizeof hdr);
    crc = ert_link_crc32(crc, payload, payload_len);
    uint8_t tail[ERT_LINK_CRC_SIZE] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                                       (uint8_t)(crc >> 24)};
    out[0] = 0x00;
    cobs_out c = {out, 1, 2, 1};
    cobs_put_all(&c, hdr, sizeof hdr);
    cobs_put_all(&c, payload, payload_len);
    cobs_put_all(&c, tail, sizeof tail);
    out[c.code_pos] = c.code;
    out[c.pos++] = 0x00;
    return c.pos;
}

void ert_link_deframer_init(ert_link_deframer *d, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->buf = buf;
    d->cap = cap;
}

static void restart(ert_link_deframer *d)
{
    d->len = 0;
    d->remaining = 0;
    d->pending_zero = false;
    d->skipping = false;
    d->started = false;
}

static void fail(ert_link_deframer *d, ert_link_frame_error e)
{
    d->last_error = e;
    d->stats.resyncs++;
    switch (e) {
    case ERT_LINK_FRAME_OVERSIZE: d->stats.oversize++; break;
    case ERT_LINK_FRAME_COBS: d->stats.cobs_errors++; break;
    case ERT_LINK_FRAME_SHORT: d->stats.short_frames++; break;
    case ERT_LINK_FRAME_CRC: d->stats.crc_errors++; break;
    case ERT_LINK_FRAME_VERSION: d->stats.bad_version++; break;
    case ERT_LINK_FRAME_OK: break;
    }
}

static bool store(ert_link_deframer *d, uint8_t b)
{
    if (d->len >= d->cap) {
        fail(d, ERT_LINK_FRAME_OVERSIZE);
        d->skipping = true;
        return false;
    }
    d->buf[d->len++] = b;
    return true;
}

/* A delimiter arrived: check and deliver what was collected. */
static bool finish(ert_link_deframer *d, ert_link_header *h, const uint8_t **payload,
                   size_t *payload_len)
{
    bool was_skipping = d->skipping, started = d->started;
    uint8_t remaining = d->remaining;
    size_t len = d->len;
    restart(d);
    if (was_skipping || !started)
        return false; /* error already counted, or an idle delimiter */
    if (remaining != 0) {
        fail(d, ERT_LINK_FRAME_COBS);
        return false;
    }
    if (len < ERT_LINK_FRAME_OVERHEAD) {
        fail(d, ERT_LINK_FRAME_SHORT);
        return false;
    }
    size_t body = len - ERT_LINK_CRC_SIZE;
    const uint8_t *t = d->buf + body;
    uint32_t want = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (ert_link_crc32(0, d->buf, body) != want) {
        fail(d, ERT_LINK_FRAME_CRC);
        return false;
    }
    if (d->buf[0] != ERT_LINK_PROTOCOL_VERSION) {
        fail(d, ERT_LINK_FRAME_VERSION);
        return false;
    }
    h->version = d->buf[0];
    h->type = d->buf[1];
    h->seq = (uint16_t)(d->buf[2] | d->buf[3] << 8);
    *payload = d->buf + ERT_LINK_HEADER_SIZE;
    *payload_len = body - ERT_LINK_HEADER_SIZE;
    d->last_error = ERT_LINK_FRAME_OK;
    d->stats.frames++;
    return true;
}

bool ert_link_deframer_push(ert_link_deframer *d, uint8_t byte, ert_link_header *h,
                            const uint8_t **payload, size_t *payload_len)
{
    if (byte == 0x00)
        return finish(d, h, payload, payload_len);
    d->started = true;
    if (d->skipping)
        return false;
    if (d->remaining == 0) {
        /* A code byte: the previous block's implied zero is data only now that a block
         * follows it; the last block's implied zero is never stored. */
        if (d->pending_zero && !store(d, 0x00))
            return false;
        d->remaining = (uint8_t)(byte - 1u);
        d->pending_zero = byte != 0xFF;
        return false;
    }
    d->remaining--;
    store(d, byte);
    return false;
}
