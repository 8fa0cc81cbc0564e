/* The daemon's wire format (proto/embedrt/v1/daemon.proto): varint length-delimited
 * frames, each one nanopb-encoded embedrt.v1.Envelope.
 *
 * Receiving: an ert_wire_rx owns one buffer of max_frame + 10 bytes, sized once; the caller
 * reads socket bytes into ert_wire_rx_space(), commits them, and takes complete frames with
 * ert_wire_rx_frame(). An oversize length or a bad varint is a protocol error (the stream
 * cannot be resynchronised: answer with an Error and close).
 * Decoding: bulk fields (Image.data, DemoEmbeddings.values, Heatmap.values) are nanopb
 * callbacks; ert_wire_decode turns them into views into the frame after checking their
 * lengths, so a decoded envelope is valid while the frame is. No heap anywhere. */
#ifndef EMBEDRT_WIRE_H
#define EMBEDRT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"
#include "embedrt/v1/daemon.pb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ERT_WIRE_MAX_FRAME (4u << 20)    /* default and upper bound of a frame's payload */
#define ERT_WIRE_MAX_IMAGE (3u << 20)    /* Image.data */
#define ERT_WIRE_MAX_DEMO_FLOATS (1u << 18) /* DemoEmbeddings.values */
#define ERT_WIRE_MAX_HEATMAP_FLOATS (1u << 16)

/* ---- framing ---- */

typedef struct ert_wire_rx {
    uint8_t *buf;
    size_t cap, len, max_frame;
    size_t consumed; /* bytes of buf already handed out as frames */
} ert_wire_rx;

ert_status ert_wire_rx_init(ert_wire_rx *rx, size_t max_frame, ert_error *err);
void ert_wire_rx_free(ert_wire_rx *rx);
void ert_wire_rx_reset(ert_wire_rx *rx);
/* Where the next read() may write, and how much (never 0 after frames are taken). */
uint8_t *ert_wire_rx_space(ert_wire_rx *rx, size_t *avail);
void ert_wire_rx_commit(ert_wire_rx *rx, size_t n);
/* The next complete frame's payload (valid until the next call on rx), or *have = false
 * when more bytes are needed. ERT_EFORMAT for a length above max_frame or a varint
 * longer than 5 bytes ("frame of N bytes exceeds the maximum of M"). */
ert_status ert_wire_rx_frame(ert_wire_rx *rx, const uint8_t **payload, size_t *len, bool *have, ert_error *err);

/* Writes the varint length prefix of a payload of n bytes; returns its length (1..5). */
size_t ert_wire_put_prefix(uint8_t out[5], size_t n);

/* ---- envelopes ---- */

/* Views that the bulk callback fields of a decoded envelope point into. */
typedef struct ert_wire_bytes {
    const uint8_t *data;
    size_t len;
} ert_wire_bytes;
typedef struct ert_wire_floats {
    const uint8_t *data; /* little-endian float32s, unaligned: read with memcpy or ert_wire_float_at */
    size_t count;
} ert_wire_floats;

typedef struct ert_wire_views {
    ert_wire_bytes image;    /* SetGoal.image.data */
    ert_wire_floats demo;    /* LoadDemo.embeddings.values */
    ert_wire_floats heatmap; /* Heatmap.values */
} ert_wire_views;

static inline float ert_wire_float_at(const ert_wire_floats *v, size_t i)
{
    uint32_t u = (uint32_t)v->data[4 * i] | (uint32_t)v->data[4 * i + 1] << 8 |
                 (uint32_t)v->data[4 * i + 2] << 16 | (uint32_t)v->data[4 * i + 3] << 24;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
}

/* Decodes one payload into env (zeroed first) and views. Unknown fields are skipped (a
 * newer peer); a message that does not parse, a bulk field over its limit, a packed
 * float field whose length is not a multiple of 4, or an envelope without a body fails
 * with ERT_EFORMAT and a message naming the field. */
ert_status ert_wire_decode(const uint8_t *payload, size_t len, embedrt_v1_Envelope *env, ert_wire_views *views,
                           ert_error *err);

/* What the encoder writes for the bulk callback fields of env. */
typedef struct ert_wire_out {
    const uint8_t *image; size_t image_len;   /* SetGoal.image.data */
    const float *demo; size_t demo_count;     /* LoadDemo.embeddings.values */
    const float *heatmap; size_t heatmap_count;
} ert_wire_out;

/* Encodes env as one frame (length prefix + payload) into out[0 .. cap); *len is the frame
 * size. ERT_ENOMEM when it does not fit, ERT_EINVAL when the payload would exceed
 * ERT_WIRE_MAX_FRAME. bulk may be NULL when env has no bulk field. */
ert_status ert_wire_encode(const embedrt_v1_Envelope *env, const ert_wire_out *bulk, uint8_t *out, size_t cap,
                           size_t *len, ert_error *err);
/* The frame size ert_wire_encode would produce, or 0 when env does not encode. */
size_t ert_wire_encoded_size(const embedrt_v1_Envelope *env, const ert_wire_out *bulk);

/* Name of an envelope's body ("set_goal", "reward", ...) for logs and errors. */
const char *ert_wire_body_name(pb_size_t which_body);
/* "PRE", "LIFTED", ... for a GraspPhase value; "unknown" outside the enum. */
const char *ert_wire_grasp_phase_name(int phase);

#ifdef __cplusplus
}
#endif
#endif
