/* The C side of the wire-compatibility test with Python's protobuf library.
 *   proto_peer encode hello|status   nanopb-encodes the canonical sample to stdout
 *   proto_peer decode hello|status   nanopb-decodes stdin, prints the fields as JSON
 * Decode failures exit 1 with nanopb's reason on stderr. */
#include "embedrt/v1/core.pb.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <string.h>

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p); /* UTF-8 passes through */
    }
    putchar('"');
}

/* The sample both sides agree on; test_proto_python.py builds the same in Python. */
static embedrt_v1_Hello sample_hello(void)
{
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    h.protocol_version = 1;
    h.has_embedrt = true;
    h.embedrt = (embedrt_v1_Version){.major = 0, .minor = 1, .patch = 0};
    strcpy(h.embedrt.describe, "v0.1.0-7-g0123abc-dirty");
    strcpy(h.node_name, "embedrtd@r\xc3\xb6" "bot-3"); /* UTF-8 */
    const char *comp[][2] = {{"openblas", "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"},
                             {"zlib", "1.2.13"},
                             {"nanopb", "nanopb-0.4.7"},
                             {"libcamera", ""}};
    h.components_count = 4;
    for (int i = 0; i < 4; i++) {
        strcpy(h.components[i].name, comp[i][0]);
        strcpy(h.components[i].version, comp[i][1]);
    }
    h.capabilities_count = 2;
    strcpy(h.capabilities[0], "camera");
    strcpy(h.capabilities[1], "int8");
    h.monotonic_ns = 18446744073709551615ull;
    return h;
}

static embedrt_v1_Status sample_status(void)
{
    embedrt_v1_Status s = embedrt_v1_Status_init_zero;
    s.code = embedrt_v1_StatusCode_STATUS_FORMAT;
    strcpy(s.message, "g2v.erb: section 'weights' CRC mismatch (expected 0x1234abcd, got 0x0badf00d)");
    s.request_id = 4242;
    return s;
}

static int encode(const pb_msgdesc_t *fields, const void *msg)
{
    uint8_t buf[4096];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    if (!pb_encode(&os, fields, msg)) {
        fprintf(stderr, "proto_peer: encode failed: %s\n", PB_GET_ERROR(&os));
        return 1;
    }
    fwrite(buf, 1, os.bytes_written, stdout);
    return 0;
}

static int decode(const pb_msgdesc_t *fields, void *msg)
{
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    if (n == sizeof buf) {
        fprintf(stderr, "proto_peer: input larger than %zu bytes\n", sizeof buf);
        return 1;
    }
    pb_istream_t is = pb_istream_from_buffer(buf, n);
    if (!pb_decode(&is, fields, msg)) {
        fprintf(stderr, "proto_peer: decode failed: %s\n", PB_GET_ERROR(&is));
        return 1;
    }
    return 0;
}

static void print_hello(const embedrt_v1_Hello *h)
{
    printf("{\"protocol_version\":%u,\"has_embedrt\":%s,", (unsigned)h->protocol_version,
           h->has_embedrt ? "true" : "false");
    printf("\"embedrt\":{\"major\":%u,\"minor\":%u,\"patch\":%u,\"describe\":", (unsigned)h->embedrt.major,
           (unsigned)h->embedrt.minor, (unsigned)h->embedrt.patch);
    json_str(h->embedrt.describe);
    printf("},\"node_name\":");
    json_str(h->node_name);
    printf(",\"components\":[");
    for (pb_size_t i = 0; i < h->components_count; i++) {
        printf("%s{\"name\":", i ? "," : "");
        json_str(h->components[i].name);
        printf(",\"version\":");
        json_str(h->components[i].version);
        printf("}");
    }
    printf("],\"capabilities\":[");
    for (pb_size_t i = 0; i < h->capabilities_count; i++) {
        printf("%s", i ? "," : "");
        json_str(h->capabilities[i]);
    }
    printf("],\"monotonic_ns\":%llu}\n", (unsigned long long)h->monotonic_ns);
}

static void print_status(const embedrt_v1_Status *s)
{
    printf("{\"code\":%d,\"message\":", (int)s->code);
    json_str(s->message);
    printf(",\"request_id\":%llu}\n", (unsigned long long)s->request_id);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: proto_peer encode|decode hello|status\n");
        return 2;
    }
    int hello = strcmp(argv[2], "hello") == 0;
    if (!hello && strcmp(argv[2], "status") != 0) {
        fprintf(stderr, "proto_peer: unknown message '%s'\n", argv[2]);
        return 2;
    }
    if (strcmp(argv[1], "encode") == 0) {
        if (hello) {
            embedrt_v1_Hello h = sample_hello();
            return encode(embedrt_v1_Hello_fields, &h);
        }
        embedrt_v1_Status s = sample_status();
        return encode(embedrt_v1_Status_fields, &s);
    }
    if (strcmp(argv[1], "decode") == 0) {
        if (hello) {
            embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
            if (decode(embedrt_v1_Hello_fields, &h))
                return 1;
            print_hello(&h);
            return 0;
        }
        embedrt_v1_Status s = embedrt_v1_Status_init_zero;
        if (decode(embedrt_v1_Status_fields, &s))
            return 1;
        print_status(&s);
        return 0;
    }
    fprintf(stderr, "proto_peer: unknown mode '%s'\n", argv[1]);
    return 2;
}
