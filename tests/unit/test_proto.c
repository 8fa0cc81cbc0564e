/* nanopb code generated from proto/embedrt/v1/core.proto: byte-exact encodings
 * (worked out by hand from the protobuf wire format) and bounded decoding. */
#include "harness.h"

#include "embedrt/v1/core.pb.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <string.h>

static embedrt_v1_Hello sample_hello(void)
{
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    h.protocol_version = 1;
    h.has_embedrt = true;
    h.embedrt.minor = 1;
    h.embedrt.patch = 2;
    strcpy(h.embedrt.describe, "v0.1.2");
    strcpy(h.node_name, "robot");
    h.components_count = 1;
    strcpy(h.components[0].name, "zlib");
    strcpy(h.components[0].version, "1.2.13");
    h.capabilities_count = 1;
    strcpy(h.capabilities[0], "camera");
    h.monotonic_ns = 300;
    return h;
}

static const uint8_t sample_hello_wire[] = {
    0x08, 0x01,                                                       /* 1: protocol_version = 1 */
    0x12, 0x0c, 0x10, 0x01, 0x18, 0x02, 0x22, 0x06, 'v', '0', '.', '1', '.', '2', /* 2: Version */
    0x1a, 0x05, 'r', 'o', 'b', 'o', 't',                              /* 3: node_name */
    0x22, 0x0e, 0x0a, 0x04, 'z', 'l', 'i', 'b', 0x12, 0x06, '1', '.', '2', '.', '1', '3', /* 4 */
    0x2a, 0x06, 'c', 'a', 'm', 'e', 'r', 'a',                         /* 5: capabilities[0] */
    0x30, 0xac, 0x02,                                                 /* 6: monotonic_ns = 300 */
};

static void test_hello_encodes_byte_exact(void)
{
    embedrt_v1_Hello h = sample_hello();
    uint8_t buf[embedrt_v1_Hello_size];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    CU_ASSERT_FATAL(pb_encode(&os, embedrt_v1_Hello_fields, &h));
    CU_ASSERT_EQUAL_FATAL(os.bytes_written, sizeof sample_hello_wire);
    CU_ASSERT_EQUAL(memcmp(buf, sample_hello_wire, sizeof sample_hello_wire), 0);
}

static void test_hello_decodes_known_bytes(void)
{
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    pb_istream_t is = pb_istream_from_buffer(sample_hello_wire, sizeof sample_hello_wire);
    CU_ASSERT_FATAL(pb_decode(&is, embedrt_v1_Hello_fields, &h));
    CU_ASSERT_EQUAL(h.protocol_version, 1);
    CU_ASSERT(h.has_embedrt);
    CU_ASSERT_EQUAL(h.embedrt.major, 0);
    CU_ASSERT_EQUAL(h.embedrt.minor, 1);
    CU_ASSERT_EQUAL(h.embedrt.patch, 2);
    CU_ASSERT_STRING_EQUAL(h.embedrt.describe, "v0.1.2");
    CU_ASSERT_STRING_EQUAL(h.node_name, "robot");
    CU_ASSERT_EQUAL(h.components_count, 1);
    CU_ASSERT_STRING_EQUAL(h.components[0].version, "1.2.13");
    CU_ASSERT_EQUAL(h.capabilities_count, 1);
    CU_ASSERT_STRING_EQUAL(h.capabilities[0], "camera");
    CU_ASSERT_EQUAL(h.monotonic_ns, 300);
}

static void test_status_encodes_byte_exact(void)
{
    embedrt_v1_Status s = embedrt_v1_Status_init_zero;
    s.code = embedrt_v1_StatusCode_STATUS_NOT_FOUND;
    strcpy(s.message, "no camera 'wrist'");
    s.request_id = UINT64_MAX;
    uint8_t buf[embedrt_v1_Status_size];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    CU_ASSERT_FATAL(pb_encode(&os, embedrt_v1_Status_fields, &s));
    static const uint8_t want[] = {0x08, 0x02, 0x12, 0x11, 'n', 'o', ' ', 'c', 'a', 'm', 'e', 'r', 'a', ' ', '\'',
                                   'w', 'r', 'i', 's', 't', '\'', 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x01};
    CU_ASSERT_EQUAL_FATAL(os.bytes_written, sizeof want);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof want), 0);
}

static void test_decode_rejects_every_truncation(void)
{
    /* Every strict prefix that ends inside a field must fail, never read past the end. */
    int failures = 0;
    for (size_t cut = 1; cut < sizeof sample_hello_wire; cut++) {
        embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
        pb_istream_t is = pb_istream_from_buffer(sample_hello_wire, cut);
        if (!pb_decode(&is, embedrt_v1_Hello_fields, &h))
            failures++;
    }
    /* Field boundaries (after 2, 16, 23, 39, 47 bytes) are valid shorter messages. */
    CU_ASSERT_EQUAL(failures, (int)sizeof sample_hello_wire - 1 - 5);
}

static void test_decode_rejects_oversize_string(void)
{
    uint8_t buf[80];
    buf[0] = 0x1a; /* node_name, max_size 64 => at most 63 bytes */
    buf[1] = 64;
    memset(buf + 2, 'n', 64);
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    pb_istream_t is = pb_istream_from_buffer(buf, 66);
    CU_ASSERT_FALSE(pb_decode(&is, embedrt_v1_Hello_fields, &h));
    CU_ASSERT_PTR_NOT_NULL(strstr(PB_GET_ERROR(&is), "overflow"));
    buf[1] = 63;
    is = pb_istream_from_buffer(buf, 65);
    CU_ASSERT_TRUE(pb_decode(&is, embedrt_v1_Hello_fields, &h));
    CU_ASSERT_EQUAL(strlen(h.node_name), 63);
}

static void test_decode_rejects_too_many_repeated(void)
{
    uint8_t buf[64];
    size_t n = 0;
    for (int i = 0; i < 9; i++) { /* components max_count is 8 */
        buf[n++] = 0x22;
        buf[n++] = 0x02;
        buf[n++] = 0x0a;
        buf[n++] = 0x00;
    }
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    pb_istream_t is = pb_istream_from_buffer(buf, n);
    CU_ASSERT_FALSE(pb_decode(&is, embedrt_v1_Hello_fields, &h));
    is = pb_istream_from_buffer(buf, n - 4);
    CU_ASSERT_TRUE(pb_decode(&is, embedrt_v1_Hello_fields, &h));
    CU_ASSERT_EQUAL(h.components_count, 8);
}

static void test_decode_skips_unknown_fields(void)
{
    /* A newer peer may add fields: 99 (varint) and 100 (bytes) must be skipped. */
    static const uint8_t buf[] = {0x98, 0x06, 0x05, 0xa2, 0x06, 0x02, 'h', 'i', 0x08, 0x07};
    embedrt_v1_Hello h = embedrt_v1_Hello_init_zero;
    pb_istream_t is = pb_istream_from_buffer(buf, sizeof buf);
    CU_ASSERT_TRUE(pb_decode(&is, embedrt_v1_Hello_fields, &h));
    CU_ASSERT_EQUAL(h.protocol_version, 7);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_hello_encodes_byte_exact),
    ERT_TEST(test_hello_decodes_known_bytes),
    ERT_TEST(test_status_encodes_byte_exact),
    ERT_TEST(test_decode_rejects_every_truncation),
    ERT_TEST(test_decode_rejects_oversize_string),
    ERT_TEST(test_decode_rejects_too_many_repeated),
    ERT_TEST(test_decode_skips_unknown_fields),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_proto = {"proto", cases};
