/* CRC-32 on published check values; deflate/inflate round trips and every way a
 * stream can lie about its size. */
#include "harness.h"

#include "embedrt/compress.h"

#include <stdlib.h>
#include <string.h>

static void test_crc32_known_vectors(void)
{
    CU_ASSERT_EQUAL(ert_crc32(0, "", 0), 0x00000000u);
    CU_ASSERT_EQUAL(ert_crc32(0, "a", 1), 0xE8B7BE43u);
    CU_ASSERT_EQUAL(ert_crc32(0, "123456789", 9), 0xCBF43926u); /* the CRC-32/ISO-HDLC check value */
    CU_ASSERT_EQUAL(ert_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

static void test_crc32_is_incremental(void)
{
    uint32_t c = ert_crc32(0, "12345", 5);
    c = ert_crc32(c, "6789", 4);
    CU_ASSERT_EQUAL(c, 0xCBF43926u);
}

static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31) ^ (i >> 7));
    return p;
}

static void test_deflate_inflate_round_trip(void)
{
    const size_t sizes[] = {0, 1, 100, 65536, 1000003};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        unsigned char *src = pattern(n ? n : 1);
        size_t cap = ert_deflate_bound(n);
        unsigned char *z = malloc(cap), *back = malloc(n ? n : 1);
        size_t zlen = 0;
        ert_error err;
        CU_ASSERT_EQUAL_FATAL(ert_deflate(src, n, z, cap, &zlen, 6, &err), ERT_OK);
        CU_ASSERT(zlen <= cap);
        CU_ASSERT_EQUAL(ert_inflate(z, zlen, back, n, &err), ERT_OK);
        CU_ASSERT(n == 0 || memcmp(src, back, n) == 0);
        free(src), free(z), free(back);
    }
}

static void test_deflate_compresses_redundant_data(void)
{
    size_t n = 1 << 20;
    unsigned char *src = calloc(n, 1), *z = malloc(ert_deflate_bound(n));
    size_t zlen = 0;
    CU_ASSERT_EQUAL(ert_deflate(src, n, z, ert_deflate_bound(n), &zlen, 9, NULL), ERT_OK);
    CU_ASSERT(zlen < n / 500);
    free(src), free(z);
}

static void test_deflate_reports_small_output_buffer(void)
{
    unsigned char *src = pattern(4096), z[16];
    size_t zlen;
    ert_error err;
    CU_ASSERT_EQUAL(ert_deflate(src, 4096, z, sizeof z, &zlen, 6, &err), ERT_ENOMEM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too small"));
    free(src);
}

/* One compressed stream of 10000 pattern bytes, shared by the failure tests. */
static size_t make_stream(unsigned char **z)
{
    unsigned char *src = pattern(10000);
    *z = malloc(ert_deflate_bound(10000) + 8);
    size_t zlen = 0;
    ert_deflate(src, 10000, *z, ert_deflate_bound(10000), &zlen, 6, NULL);
    free(src);
    return zlen;
}

static void test_inflate_rejects_wrong_expected_size(void)
{
    unsigned char *z, *out = malloc(20000);
    size_t zlen = make_stream(&z);
    ert_error err;
    CU_ASSERT_EQUAL(ert_inflate(z, zlen, out, 9999, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "beyond the expected 9999"));
    CU_ASSERT_EQUAL(ert_inflate(z, zlen, out, 10001, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "10000 bytes, expected 10001"));
    free(z), free(out);
}

static void test_inflate_rejects_truncated_stream(void)
{
    unsigned char *z, *out = malloc(10000);
    size_t zlen = make_stream(&z);
    ert_error err;
    for (size_t cut = 0; cut < zlen; cut += 7)
        CU_ASSERT_EQUAL(ert_inflate(z, cut, out, 10000, &err), ERT_EFORMAT);
    free(z), free(out);
}

static void test_inflate_rejects_trailing_bytes(void)
{
    unsigned char *z, *out = malloc(10000);
    size_t zlen = make_stream(&z);
    memcpy(z + zlen, "JUNK", 4);
    ert_error err;
    CU_ASSERT_EQUAL(ert_inflate(z, zlen + 4, out, 10000, &err), ERT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "4 trailing bytes"));
    free(z), free(out);
}

static void test_inflate_rejects_every_bit_flip_in_checksum(void)
{
    unsigned char *z, *out = malloc(10000);
    size_t zlen = make_stream(&z);
    ert_error err;
    /* The adler32 trailer guards the data: any flip there must be caught. */
    for (size_t i = zlen - 4; i < zlen; i++)
        for (int bit = 0; bit < 8; bit++) {
            z[i] ^= (unsigned char)(1u << bit);
            CU_ASSERT_EQUAL(ert_inflate(z, zlen, out, 10000, &err), ERT_EFORMAT);
            z[i] ^= (unsigned char)(1u << bit);
        }
    CU_ASSERT_EQUAL(ert_inflate(z, zlen, out, 10000, &err), ERT_OK);
    free(z), free(out);
}

static void test_inflate_rejects_garbage(void)
{
    unsigned char junk[64], out[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    ert_error err;
    CU_ASSERT_EQUAL(ert_inflate(junk, sizeof junk, out, sizeof out, &err), ERT_EFORMAT);
    CU_ASSERT_EQUAL(ert_inflate(junk, 0, out, sizeof out, &err), ERT_EFORMAT);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_crc32_known_vectors),
    ERT_TEST(test_crc32_is_incremental),
    ERT_TEST(test_deflate_inflate_round_trip),
    ERT_TEST(test_deflate_compresses_redundant_data),
    ERT_TEST(test_deflate_reports_small_output_buffer),
    ERT_TEST(test_inflate_rejects_wrong_expected_size),
    ERT_TEST(test_inflate_rejects_truncated_stream),
    ERT_TEST(test_inflate_rejects_trailing_bytes),
    ERT_TEST(test_inflate_rejects_every_bit_flip_in_checksum),
    ERT_TEST(test_inflate_rejects_garbage),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_compress = {"compress", cases};
