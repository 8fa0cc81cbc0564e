/* Controller-link framing: one frame = 0x00, COBS(header | payload | CRC-32), 0x00.
 * Portable C11, no heap, no libc beyond string.h: shared by the MCU firmware and the host.
 *
 * Decoded frame layout (all little-endian):
 *   byte 0     protocol version (ERT_LINK_PROTOCOL_VERSION)
 *   byte 1     message type (ert_link_msg_type)
 *   bytes 2-3  sequence number, u16
 *   bytes 4..  payload (a nanopb-encoded message of that type), may be empty
 *   last 4     CRC-32 (IEEE 802.3, the values of zlib's crc32) over header+payload
 * COBS removes every 0x00 from the frame so 0x00 only ever delimits. The encoder writes a
 * delimiter before and after each frame: garbage on the line then costs only itself. */
#ifndef ERT_LINK_FRAME_H
#define ERT_LINK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERT_LINK_PROTOCOL_VERSION 1u
#define ERT_LINK_HEADER_SIZE 4u
#define ERT_LINK_CRC_SIZE 4u
#define ERT_LINK_FRAME_OVERHEAD (ERT_LINK_HEADER_SIZE + ERT_LINK_CRC_SIZE)
/* Worst-case bytes on the wire for a payload of n bytes: COBS adds one code byte per
 * started run of 254 bytes, plus the two delimiters. */
#define ERT_LINK_WIRE_MAX(n) \
    ((n) + ERT_LINK_FRAME_OVERHEAD + ((n) + ERT_LINK_FRAME_OVERHEAD) / 254u + 3u)

typedef struct ert_link_header {
    uint8_t version;
    uint8_t type;
    uint16_t seq;
} ert_link_header;

/* CRC-32 (reflected 0xEDB88320, init and final xor 0xFFFFFFFF): crc = ert_link_crc32(0, p, n)
 * gives zlib's crc32(0, p, n); pass the previous value to continue over more bytes. */
uint32_t ert_link_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Encodes one frame into out[0..cap). Returns the bytes written, or 0 when cap is smaller
 * than ERT_LINK_WIRE_MAX(payload_len) (nothing useful is written then). */
size_t ert_link_frame_encode(const ert_link_header *h, const uint8_t *payload, size_t payload_len,
                             uint8_t *out, size_t cap);

/* Why a frame was discarded; each kind has a counter in ert_link_deframer_stats. */
typedef enum ert_link_frame_error {
    ERT_LINK_FRAME_OK = 0,
    ERT_LINK_FRAME_OVERSIZE,    /* more decoded bytes than the buffer holds */
    ERT_LINK_FRAME_COBS,        /* a delimiter inside a COBS block (truncated frame) */
    ERT_LINK_FRAME_SHORT,       /* fewer than header+CRC bytes */
    ERT_LINK_FRAME_CRC,         /* CRC-32 mismatch */
    ERT_LINK_FRAME_VERSION,     /* CRC fine, unknown protocol version */
} ert_link_frame_error;

typedef struct ert_link_deframer_stats {
    uint32_t frames;       /* valid frames delivered */
    uint32_t resyncs;      /* bad frames discarded up to the next delimiter, any cause */
    uint32_t oversize;
    uint32_t cobs_errors;
    uint32_t short_frames;
    uint32_t crc_errors;
    uint32_t bad_version;
} ert_link_deframer_stats;

/* Incremental decoder. The caller owns buf; cap is the hard maximum decoded frame size
 * (header + payload + CRC), checked before each byte is stored. */
typedef struct ert_link_deframer {
    uint8_t *buf;
    size_t cap;
    size_t len;         /* decoded bytes so far */
    uint8_t remaining;  /* data bytes left in the current COBS block */
    bool pending_zero;  /* the current block ends in an implied 0x00 (if another block follows) */
    bool skipping;      /* after an error: discard until the next delimiter */
    bool started;       /* a non-delimiter byte arrived since the last delimiter */
    ert_link_frame_error last_error;
    ert_link_deframer_stats stats;
} ert_link_deframer;

void ert_link_deframer_init(ert_link_deframer *d, uint8_t *buf, size_t cap);

/* Feeds one byte. Returns true when it completed a valid frame: *h is its header and
 * *payload and *payload_len its payload inside the deframer's buffer, valid until the next
 * call. Bad frames return false, bump their counter and set d->last_error. */
bool ert_link_deframer_push(ert_link_deframer *d, uint8_t byte, ert_link_header *h,
                            const uint8_t **payload, size_t *payload_len);

#endif
