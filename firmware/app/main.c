/* main.c: first firmware (link smoke test). Boots, prints a hello line on the console,
 * sends an embedrt.v1.Hello on the link UART framed by a varint length prefix, waits for
 * one acknowledgement byte (0x06) and exits through the board: 0 on success, 2 when no
 * byte came within ERT_FW_ACK_TIMEOUT_MS, 3 when a wrong byte came, 4 when encoding failed.
 * The real link (COBS frames, header, CRC-32, state machine) lives in firmware/core/ and
 * replaces the varint framing here when it lands. */
#include <stdbool.h>
#include <stdint.h>

#include <pb_encode.h>

#include "core.pb.h"
#include "ert_board.h"
#include "ert_fw_version.h"

#ifndef ERT_FW_VERSION_MAJOR
#error "ERT_FW_VERSION_MAJOR/MINOR/PATCH come from firmware/meson.build"
#endif

#define ERT_FW_ACK 0x06u
#define ERT_FW_ACK_TIMEOUT_MS 10000u

static bool link_write(pb_ostream_t *stream, const pb_byte_t *buf, size_t count)
{
    (void)stream;
    ert_board_write(ERT_BOARD_LINK, buf, count);
    return true;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; i + 1 < cap && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

/* Static: about 2 KiB with every repeated field at its bound (core.options). */
static embedrt_v1_Hello hello;

static void fill_hello(embedrt_v1_Hello *h)
{
    h->protocol_version = 1;
    h->has_embedrt = true;
    h->embedrt.major = ERT_FW_VERSION_MAJOR;
    h->embedrt.minor = ERT_FW_VERSION_MINOR;
    h->embedrt.patch = ERT_FW_VERSION_PATCH;
    copy_str(h->embedrt.describe, sizeof h->embedrt.describe, ERT_FW_DESCRIBE);
    copy_str(h->node_name, sizeof h->node_name, "gripper-mcu");
    h->components_count = 1;
    copy_str(h->components[0].name, sizeof h->components[0].name, "nanopb");
    copy_str(h->components[0].version, sizeof h->components[0].version, NANOPB_VERSION);
    h->capabilities_count = 2;
    copy_str(h->capabilities[0], sizeof h->capabilities[0], "cortex-m4");
    copy_str(h->capabilities[1], sizeof h->capabilities[1], "board=mps2-an386");
    h->monotonic_ns = (uint64_t)ert_board_millis() * 1000000u;
}

/* Sends hello as <varint length><payload> on the link; returns false if encoding failed. */
static bool send_hello(const embedrt_v1_Hello *h, uint32_t *size_out)
{
    size_t size = 0;
    if (!pb_get_encoded_size(&size, embedrt_v1_Hello_fields, h))
        return false;
    pb_ostream_t link = {link_write, NULL, SIZE_MAX, 0, NULL};
    if (!pb_encode_varint(&link, (uint64_t)size) || !pb_encode(&link, embedrt_v1_Hello_fields, h))
        return false;
    *size_out = (uint32_t)size;
    return true;
}

int main(void)
{
    ert_board_init();
    ert_board_puts(ERT_BOARD_CONSOLE, "embedrt firmware " ERT_FW_DESCRIBE " on ");
    ert_board_puts(ERT_BOARD_CONSOLE, ert_board_name);
    ert_board_puts(ERT_BOARD_CONSOLE, ": hello\r\n");

    fill_hello(&hello);
    uint32_t size = 0;
    if (!send_hello(&hello, &size)) {
        ert_board_puts(ERT_BOARD_CONSOLE, "link: encoding embedrt.v1.Hello failed\r\n");
        return 4;
    }
    ert_board_puts(ERT_BOARD_CONSOLE, "link: sent embedrt.v1.Hello, ");
    ert_board_put_u32(ERT_BOARD_CONSOLE, size);
    ert_board_puts(ERT_BOARD_CONSOLE, " bytes\r\n");

    uint32_t start = ert_board_millis();
    int c;
    while ((c = ert_board_getc(ERT_BOARD_LINK)) < 0) {
        if (ert_board_millis() - start > ERT_FW_ACK_TIMEOUT_MS) {
            ert_board_puts(ERT_BOARD_CONSOLE, "link: no reply byte within 10000 ms\r\n");
            return 2;
        }
    }
    ert_board_puts(ERT_BOARD_CONSOLE, "link: got byte ");
    ert_board_put_u32(ERT_BOARD_CONSOLE, (uint32_t)c);
    ert_board_puts(ERT_BOARD_CONSOLE, " after ");
    ert_board_put_u32(ERT_BOARD_CONSOLE, ert_board_millis() - start);
    ert_board_puts(ERT_BOARD_CONSOLE, " ms\r\n");
    if (c != ERT_FW_ACK) {
        ert_board_puts(ERT_BOARD_CONSOLE, "link: expected 6 (ACK)\r\n");
        return 3;
    }
    ert_board_puts(ERT_BOARD_CONSOLE, "firmware: done, exit 0\r\n");
    return 0;
}
