/* int8 GEMM: the reference against a naive triple loop and hand-computed numbers, every
 * optimized kernel this CPU runs against the reference bit for bit (shapes off every block
 * size, P = 1, saturation traps, both epilogues, residual, clamps, threads), quantization
 * edge values and the refusals. Built for the host here and, without CUnit, for aarch64
 * under qemu by tests/arm64 (same file, ERT_QGEMM_STANDALONE). */
#include "qgemm_test.h"

#include "embedrt/pool.h"
#include "embedrt/qgemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned rnd_state;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static void *alloc64(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
}

/* Everything one product needs besides the kernel. */
typedef struct prob {
    size_t n, k, p, ldx, ldr, ldc;
    int8_t *w;
    uint8_t *x;
    int32_t *bias;
    float *scale, *mult, *res;
    uint8_t z_x, z_y, qlo, qhi;
    uint8_t qmax; /* activations' maximum: 0 (255) or 127 (7-bit: avx2u7 runs its own kernel) */
    float lo, hi;
    ert_qepilogue epi;
    bool use_res, use_bias;
} prob;

/* The same problem with 7-bit activations: X and z_x folded into [0, 127] (255 -> 127). */
static void prob_to7(prob *q)
{
    for (size_t i = 0; i < q->k * q->ldx; i++)
        q->x[i] = q->x[i] == 255 ? 127 : q->x[i] % 128;
    q->z_x = q->z_x == 255 ? 127 : q->z_x % 128;
    q->qmax = 127;
}

static void prob_free(prob *q)
{
    free(q->w), free(q->x), free(q->bias), free(q->scale), free(q->mult), free(q->res);
}

/* wmode/xmode: 0 random, 1 all max (127 / 255), 2 all min (-127 / 0), 3 alternating extremes. */
static prob prob_make(size_t n, size_t k, size_t p, unsigned seed, int wmode, int xmode)
{
    rnd_state = seed;
    prob q = {.n = n, .k = k, .p = p, .ldx = p + (seed % 3), .ldr = p + 1, .ldc = p + 2};
    q.w = malloc(n * k);
    q.x = malloc(k * q.ldx);
    q.bias = malloc(n * sizeof *q.bias);
    q.scale = malloc(n * sizeof(float));
    q.mult = malloc(n * sizeof(float));
    q.res = malloc(n * q.ldr * sizeof(float));
    for (size_t i = 0; i < n * k; i++)
        q.w[i] = wmode == 1 ? 127 : wmode == 2 ? -127 : wmode == 3 ? (i % 2 ? 127 : -127) : (int8_t)((int)(rnd() % 255) - 127);
    for (size_t i = 0; i < k * q.ldx; i++)
        q.x[i] = xmode == 1 ? 255 : xmode == 2 ? 0 : xmode == 3 ? (i % 3 ? 255 : 0) : (uint8_t)(rnd() % 256);
    for (size_t i = 0; i < n; i++) {
        q.bias[i] = (int32_t)(rnd() % 200001) - 100000;
        /* scales small enough that u8 outputs land inside [0, 255] often, not only at the rails */
        q.scale[i] = (float)(rnd() % 1000 + 1) * 1e-6f;
        q.mult[i] = (float)(rnd() % 1000 + 1) / (float)(k * 3000);
    }
    for (size_t i = 0; i < n * q.ldr; i++)
        q.res[i] = (float)((int)(rnd() % 2001) - 1000) / 100.0f;
    q.z_x = (uint8_t)(rnd() % 256);
    q.z_y = (uint8_t)(rnd() % 256);
    q.qlo = 0, q.qhi = 255;
    q.lo = -INFINITY, q.hi = INFINITY;
    q.use_bias = true;
    return q;
}

/* The numerics of proto/blob-format.md written out plainly: int64 sums, volatile floats
 * so that nothing is fused, rintf for round-to-nearest-even. */
static void naive(const prob *q, void *out)
{
    for (size_t n = 0; n < q->n; n++)
        for (size_t p = 0; p < q->p; p++) {
            int64_t s = q->use_bias ? q->bias[n] : 0;
            for (size_t k = 0; k < q->k; k++)
                s += (int64_t)((int)q->x[k * q->ldx + p] - (int)q->z_x) * q->w[n * q->k + k];
            int32_t acc = (int32_t)s;
            if (q->epi == ERT_QEPI_F32) {
                volatile float y = (float)acc * q->scale[n];
                if (q->use_res)
                    y = y + q->res[n * q->ldr + p];
                float v = y;
                if (v < q->lo)
                    v = q->lo;
                if (v > q->hi)
                    v = q->hi;
                ((float *)out)[n * q->ldc + p] = v;
            } else {
                volatile float y = (float)acc * q->mult[n];
                float v = y;
                if (!(v > -1024.0f))
                    v = -1024.0f;
                if (!(v < 1024.0f))
                    v = 1024.0f;
                int32_t r = (int32_t)rintf(v) + q->z_y;
                r = r < q->qlo ? q->qlo : r > q->qhi ? q->qhi : r;
                ((uint8_t *)out)[n * q->ldc + p] = (uint8_t)r;
            }
        }
}

static size_t out_bytes(const prob *q)
{
    return q->n * q->ldc * (q->epi == ERT_QEPI_F32 ? sizeof(float) : 1);
}

/* Packs with kernel `kern` and runs; out must be out_bytes() long (padding left alone). */
static ert_status run(ert_qkernel kern, const prob *q, ert_pool *pool, void *out, ert_error *err)
{
    ert_status st = ert_qgemm_force(kern, err);
    if (st != ERT_OK)
        return st;
    size_t wsz = ert_qgemm_packed_size_q(q->n, q->k, q->qmax), xsz = ert_qgemm_x_size_q(q->k, q->p, q->qmax);
    void *wp = alloc64(wsz), *xp = alloc64(xsz);
    st = ert_qgemm_pack_q(q->w, q->n, q->k, q->qmax, wp, wsz, err);
    if (st == ERT_OK)
        st = ert_qgemm_pack_x_q(q->x, q->k, q->p, q->ldx, q->qmax, xp, xsz, err);
    if (st == ERT_OK) {
        ert_qgemm_call c = {
            .n = q->n, .k = q->k, .p = q->p, .w = wp, .x = xp, .z_x = q->z_x, .q_max = q->qmax,
            .bias = q->use_bias ? q->bias : NULL, .epilogue = q->epi, .scale = q->scale,
            .residual = q->use_res ? q->res : NULL, .ldr = q->ldr, .lo = q->lo, .hi = q->hi, .y = out,
            .mult = q->mult, .z_y = q->z_y, .qlo = q->qlo, .qhi = q->qhi, .q = out, .ldc = q->ldc, .pool = pool,
        };
        st = ert_qgemm(&c, err);
    }
    free(wp), free(xp);
    return st;
}

static const ert_qkernel all_kernels[] = {ERT_QK_REF, ERT_QK_AVX2, ERT_QK_NEON, ERT_QK_SDOT, ERT_QK_AVX2U7};
#define NKERNELS (sizeof all_kernels / sizeof all_kernels[0])
static const char *kname(ert_qkernel k)
{
    return k == ERT_QK_REF ? "ref" : k == ERT_QK_AVX2 ? "avx2" : k == ERT_QK_NEON ? "neon" : k == ERT_QK_SDOT ? "sdot"
                                                                                                    : "avx2u7";
}

static size_t g_compared; /* outputs compared bit for bit, reported by the standalone runner */

/* Runs q with kernel kern and compares against `want` byte for byte. */
static void expect_same(ert_qkernel kern, const prob *q, ert_pool *pool, const void *want)
{
    size_t bytes = out_bytes(q);
    uint8_t *got = malloc(bytes);
    memset(got, 0xA5, bytes);
    ert_error err;
    ert_status st = run(kern, q, pool, got, &err);
    QT_ASSERT_MSG(st == ERT_OK, err.msg);
    size_t es = q->epi == ERT_QEPI_F32 ? 4 : 1;
    size_t bad = 0;
    for (size_t n = 0; n < q->n && st == ERT_OK; n++) {
        if (memcmp(got + n * q->ldc * es, (const uint8_t *)want + n * q->ldc * es, q->p * es) != 0) {
            if (bad++ == 0)
                qt_report("%s differs from the reference at N=%zu K=%zu P=%zu row %zu (epilogue %d, z_x %u)",
                          kname(kern), q->n, q->k, q->p, n, (int)q->epi, q->z_x);
        }
        for (size_t i = q->p * es; i < q->ldc * es; i++) /* stride padding untouched */
            if (got[n * q->ldc * es + i] != 0xA5)
                bad++;
    }
    QT_ASSERT(bad == 0);
    g_compared += q->n * q->p;
    free(got);
}

/* The reference, then every other kernel this CPU has, against naive() bit for bit. */
static void check_all(const prob *q, ert_pool *pool)
{
    size_t bytes = out_bytes(q);
    uint8_t *want = malloc(bytes);
    memset(want, 0xA5, bytes);
    naive(q, want);
    for (size_t i = 0; i < NKERNELS; i++)
        /* avx2u7 runs 8-bit products on the avx2 kernel: only 7-bit ones are new */
        if (ert_qgemm_supported(all_kernels[i]) && (all_kernels[i] != ERT_QK_AVX2U7 || q->qmax == 127))
            expect_same(all_kernels[i], q, pool, want);
    free(want);
    ert_qgemm_force(ERT_QK_AUTO, NULL);
}

static void test_qgemm_hand_computed(void)
{
    /* W = [[1, -2, 3], [127, -127, 0]], X (3 x 2) = [[10, 0], [20, 255], [30, 128]], z_x = 10,
     * bias = [5, -7]:
     *   acc[0] = 5 + [0*1 + 10*-2 + 20*3, -10*1 + 245*-2 + 118*3] = [45, -141]
     *   acc[1] = -7 + [0*127 + 10*-127, -10*127 + 245*-127]       = [-1277, -32392] */
    int8_t w[6] = {1, -2, 3, 127, -127, 0};
    uint8_t x[6] = {10, 0, 20, 255, 30, 128};
    int32_t bias[2] = {5, -7};
    float scale[2] = {0.5f, 0.25f}, mult[2] = {0.1f, 0.01f};
    prob q = {.n = 2, .k = 3, .p = 2, .ldx = 2, .ldr = 2, .ldc = 2, .w = w, .x = x, .bias = bias,
              .scale = scale, .mult = mult, .z_x = 10, .lo = -INFINITY, .hi = INFINITY, .use_bias = true};
    for (size_t i = 0; i < NKERNELS; i++) {
        ert_qkernel kern = all_kernels[i];
        if (!ert_qgemm_supported(kern))
            continue;
        ert_error err;
        float y[4];
        q.epi = ERT_QEPI_F32, q.lo = -INFINITY, q.hi = INFINITY;
        QT_ASSERT(run(kern, &q, NULL, y, &err) == ERT_OK);
        QT_ASSERT(y[0] == 22.5f && y[1] == -70.5f && y[2] == -319.25f && y[3] == -8098.0f);
        q.lo = 0.0f; /* ReLU */
        QT_ASSERT(run(kern, &q, NULL, y, &err) == ERT_OK);
        QT_ASSERT(y[0] == 22.5f && y[1] == 0.0f && y[2] == 0.0f && y[3] == 0.0f);
        /* u8, z_y = 100: 45 * 0.1f = 4.5 exactly in float, a tie: rne -> 4 -> 104;
         * -141 * 0.1 = -14.1 -> 86; -1277 * 0.01 = -12.77 -> 87; -323.92 -> 0 (clamped). */
        uint8_t o[4];
        q.epi = ERT_QEPI_U8, q.z_y = 100, q.qlo = 0, q.qhi = 255;
        QT_ASSERT(run(kern, &q, NULL, o, &err) == ERT_OK);
        QT_ASSERT(o[0] == 104 && o[1] == 86 && o[2] == 87 && o[3] == 0);
        q.qlo = 100, q.qhi = 103; /* ReLU at z_y, and an upper clamp */
        QT_ASSERT(run(kern, &q, NULL, o, &err) == ERT_OK);
        QT_ASSERT(o[0] == 103 && o[1] == 100 && o[2] == 100 && o[3] == 100);
    }
    ert_qgemm_force(ERT_QK_AUTO, NULL);
}

static void test_qgemm_kernels_match_reference_over_shapes(void)
{
    /* Off every block size (avx2 6 x 16, k in 8s; neon/sdot 8 x 8, k in 4s), P = 1 included. */
    static const size_t ns[] = {1, 2, 5, 6, 7, 8, 9, 13, 17, 64, 97};
    static const size_t ks[] = {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 33, 100, 257};
    static const size_t ps[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 50, 129};
    unsigned seed = 1;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++)
            for (size_t c = 0; c < sizeof ps / sizeof ps[0]; c++) {
                /* the full cube is 1859 shapes; every third keeps the suite fast and still hits
                 * each size with each other one */
                if ((a + b + c) % 3 != 0 && !(ps[c] == 1))
                    continue;
                prob q = prob_make(ns[a], ks[b], ps[c], seed++, 0, 0);
                q.epi = seed % 2 ? ERT_QEPI_F32 : ERT_QEPI_U8;
                q.use_res = seed % 4 == 1;
                q.use_bias = seed % 5 != 0;
                check_all(&q, NULL);
                prob_free(&q);
            }
    /* A few of the conv shapes at a few hundred. */
    static const size_t big[][3] = {{64, 288, 200}, {130, 300, 49}, {300, 64, 97}, {250, 512, 1}};
    for (size_t i = 0; i < 4; i++) {
        prob q = prob_make(big[i][0], big[i][1], big[i][2], 100 + (unsigned)i, 0, 0);
        q.epi = ERT_QEPI_F32;
        check_all(&q, NULL);
        q.epi = ERT_QEPI_U8;
        check_all(&q, NULL);
        prob_free(&q);
    }
}

static void test_qgemm_saturation_traps(void)
{
    /* The values that overflow int16 pair sums (vpmaddubsw) or int8 (x - 128): X all 0 / 255,
     * W all -127 / 127, z_x 0, 128, 255, at depths past every unroll. */
    static const uint8_t zs[] = {0, 128, 255};
    unsigned seed = 500;
    for (int wm = 1; wm <= 3; wm++)
        for (int xm = 1; xm <= 3; xm++)
            for (size_t z = 0; z < 3; z++) {
                prob q = prob_make(7, 1031, 19, seed++, wm, xm);
                q.z_x = zs[z];
                q.use_bias = false;
                q.epi = ERT_QEPI_F32;
                for (size_t i = 0; i < q.n; i++)
                    q.scale[i] = 1.0f;
                check_all(&q, NULL);
                prob_free(&q);
            }
    /* The deepest K allowed: 255 * 127 * 65535 = 2122350975 < 2^31, exact in int32; float(acc)
     * is 2122350976 (rounded to 24 bits), for every kernel, P = 1 and P = 3. */
    for (size_t pi = 0; pi < 2; pi++) {
        prob q = prob_make(2, ERT_QGEMM_K_MAX, pi ? 3 : 1, 900, 1, 1);
        q.z_x = 0, q.use_bias = false, q.epi = ERT_QEPI_F32;
        q.scale[0] = q.scale[1] = 1.0f;
        check_all(&q, NULL);
        float y[2 * 5];
        ert_error err;
        QT_ASSERT(run(ERT_QK_AUTO, &q, NULL, y, &err) == ERT_OK);
        QT_ASSERT(y[0] == 2122350976.0f);
        /* and the most negative: z_x = 255 with X = 0 gives (0 - 255) * 127 per term */
        q.z_x = 255;
        memset(q.x, 0, q.k * q.ldx);
        check_all(&q, NULL);
        QT_ASSERT(run(ERT_QK_AUTO, &q, NULL, y, &err) == ERT_OK);
        QT_ASSERT(y[0] == -2122350976.0f);
        prob_free(&q);
    }
    ert_qgemm_force(ERT_QK_AUTO, NULL);
}

static void test_qgemm_residual_and_clamps(void)
{
    static const float los[] = {-INFINITY, 0.0f, 0.0f, -1.5f}, his[] = {INFINITY, INFINITY, 6.0f, 2.25f};
    for (size_t i = 0; i < 4; i++) {
        prob q = prob_make(11, 70, 37, 40 + (unsigned)i, 0, 0);
        q.epi = ERT_QEPI_F32, q.use_res = true, q.lo = los[i], q.hi = his[i];
        for (size_t j = 0; j < q.n; j++)
            q.scale[j] = 1e-4f * (float)(j + 1);
        check_all(&q, NULL);
        /* A NaN and infinities in the residual travel through (NaN passes the clamps). */
        q.res[3] = NAN, q.res[q.ldr + 5] = INFINITY, q.res[2 * q.ldr] = -INFINITY;
        check_all(&q, NULL);
        prob_free(&q);
    }
    static const uint8_t qlos[] = {0, 128, 10}, qhis[] = {255, 255, 20};
    for (size_t i = 0; i < 3; i++) {
        prob q = prob_make(9, 50, 23, 60 + (unsigned)i, 0, 0);
        q.epi = ERT_QEPI_U8, q.z_y = 128, q.qlo = qlos[i], q.qhi = qhis[i];
        check_all(&q, NULL);
        /* huge multipliers: every output on a rail, nothing undefined in the conversion */
        for (size_t j = 0; j < q.n; j++)
            q.mult[j] = j % 2 ? 1e30f : -1e30f;
        check_all(&q, NULL);
        prob_free(&q);
    }
}

static void test_qgemm_full_tiles_fused_epilogue(void)
{
    /* Shapes made of whole 6 x 16 and 8 x 8 tiles only, where the AVX2 kernel applies the
     * fp32 epilogue in registers (tile_f32): residual (with NaN and infinities), bias on and
     * off, clamps, strided output, against the naive form bit for bit. */
    static const size_t shapes[][3] = {{6, 8, 16}, {12, 40, 32}, {24, 129, 48}, {48, 256, 64}};
    static const float los[] = {-INFINITY, 0.0f, -0.5f}, his[] = {INFINITY, INFINITY, 0.75f};
    unsigned seed = 300;
    for (size_t i = 0; i < 4; i++)
        for (size_t c = 0; c < 3; c++) {
            prob q = prob_make(shapes[i][0], shapes[i][1], shapes[i][2], seed++, 0, 0);
            q.epi = ERT_QEPI_F32, q.lo = los[c], q.hi = his[c];
            q.use_res = c != 0, q.use_bias = c != 1;
            for (size_t j = 0; j < q.n; j++)
                q.scale[j] = 1e-4f * (float)(j + 1);
            q.res[1] = NAN, q.res[q.ldr + 2] = INFINITY, q.res[2 * q.ldr + 3] = -INFINITY;
            check_all(&q, NULL);
            prob_free(&q);
        }
}

static void test_qgemm_threads_bit_identical(void)
{
    ert_pool *pool = NULL;
    ert_error err;
    QT_ASSERT(ert_pool_create(2, &pool, &err) == ERT_OK);
    /* split over P (many column panels), over N (P = 1 and few panels; 13 panels of a
     * 14x14 map, which do not split evenly over 2 threads) */
    static const size_t shapes[][3] = {{70, 300, 250}, {200, 300, 1}, {190, 200, 20}, {64, 136, 196}};
    for (size_t i = 0; i < 4; i++) {
        prob q = prob_make(shapes[i][0], shapes[i][1], shapes[i][2], 70 + (unsigned)i, 0, 0);
        q.epi = i == 1 ? ERT_QEPI_U8 : ERT_QEPI_F32;
        q.use_res = i == 0;
        check_all(&q, pool);
        prob_free(&q);
    }
    ert_pool_destroy(pool);
}

static void test_qgemm_quantize_edges(void)
{
    /* inv_s = 1, z = 10: ties go to even, NaN to z, infinities and huge values to the rails */
    const float x[] = {2.5f, 3.5f, -0.5f, NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 244.5f, 245.5f, -10.0f,
                       -10.5f, -11.5f, 0.49999997f, 100.0f, -9.5f, 1.5f};
    const uint8_t want[] = {12, 14, 10, 10, 255, 0, 255, 0, 254, 255, 0, 0, 0, 10, 110, 0, 12};
    size_t count = sizeof x / sizeof x[0];
    uint8_t q[sizeof x / sizeof x[0]];
    ert_qquantize(x, count, 1.0f, 10, q);
    for (size_t i = 0; i < count; i++)
        QT_ASSERT(q[i] == want[i]);
    /* -9.5 + 10: rne(-9.5) = -10 -> 0; the vector lanes (first 16) and the scalar tail agree */
    /* random values against the plain formula, with counts that leave every tail length */
    rnd_state = 5;
    for (size_t len = 1; len < 40; len++) {
        float v[40];
        uint8_t got[40];
        float inv = 0.37f * (float)len;
        for (size_t i = 0; i < len; i++)
            v[i] = (float)((int)(rnd() % 200001) - 100000) / 997.0f;
        ert_qquantize(v, len, inv, (uint8_t)(len * 7), got);
        for (size_t i = 0; i < len; i++) {
            volatile float t = v[i] * inv;
            float c = t < -1024.0f ? -1024.0f : t > 1024.0f ? 1024.0f : t;
            int32_t r = (int32_t)rintf(c) + (int32_t)(len * 7 % 256);
            QT_ASSERT(got[i] == (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r));
        }
    }
    const uint8_t dq[] = {0, 10, 255, 11};
    float y[4];
    ert_qdequantize(dq, 4, 0.5f, 10, y);
    QT_ASSERT(y[0] == -5.0f && y[1] == 0.0f && y[2] == 122.5f && y[3] == 0.5f);
    /* dequantize(quantize(x)) is within half a step */
    float back[1];
    uint8_t one[1];
    ert_qquantize((const float[]){1.3f}, 1, 1.0f / 0.1f, 0, one);
    ert_qdequantize(one, 1, 0.1f, 0, back);
    QT_ASSERT(one[0] == 13 && fabsf(back[0] - 1.3f) < 0.05f);
}

/* ert_qgemm_pack_x_f32 gives the bytes of ert_qquantize then ert_qgemm_pack_x, on every
 * kernel that has it (others refuse it): K odd and even, P off the panel width, row
 * strides above P, NaN, +-inf, huge values and exact ties, three zero points. */
static void test_qgemm_pack_x_f32_same_bytes_as_quantize_then_pack(void)
{
    const size_t ks[] = {1, 2, 3, 7, 8, 9, 16, 33, 64, 101}, ps[] = {2, 3, 15, 16, 17, 31, 32, 33, 50};
    const uint8_t zs[] = {0, 128, 255};
    ert_error err;
    for (size_t ki = 0; ki < NKERNELS; ki++) {
        if (!ert_qgemm_supported(all_kernels[ki]))
            continue;
        QT_ASSERT(ert_qgemm_force(all_kernels[ki], &err) == ERT_OK);
        float one[4] = {0};
        uint8_t small[4096] __attribute__((aligned(64)));
        for (unsigned qm = 127; qm <= 255; qm += 128) {
        if (!ert_qgemm_has_pack_x_f32(qm)) {
            QT_ASSERT(ert_qgemm_pack_x_f32(one, 2, 2, 2, 1.0f, 0, qm, small, sizeof small, &err) == ERT_EUNSUPPORTED);
            continue;
        }
        QT_ASSERT(ert_qgemm_pack_x_f32(one, 4, 1, 1, 1.0f, 0, qm, small, sizeof small, &err) == ERT_EINVAL); /* P = 1 */
        QT_ASSERT(ert_qgemm_pack_x_f32(one, 2, 2, 2, 1.0f, 0, qm, small, 8, &err) == ERT_EINVAL); /* too small */
        if (qm == 127) /* a zero point above q_max */
            QT_ASSERT(ert_qgemm_pack_x_f32(one, 2, 2, 2, 1.0f, 128, qm, small, sizeof small, &err) == ERT_EINVAL);
        rnd_state = 77;
        for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
            for (size_t b = 0; b < sizeof ps / sizeof ps[0]; b++) {
                size_t k = ks[a], p = ps[b], ldx = p + (a + b) % 3;
                uint8_t z = (uint8_t)(zs[(a + b) % 3] * qm / 255);
                float *x = malloc(k * ldx * sizeof *x);
                uint8_t *q = malloc(k * ldx);
                for (size_t i = 0; i < k * ldx; i++) {
                    unsigned r = rnd() % 32;
                    x[i] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY : r == 3 ? 3e38f
                         : (float)((int)(rnd() % 2049) - 1024) / 8.0f; /* ties at inv 4 */
                }
                ert_qquantize_q(x, k * ldx, 4.0f, z, (uint8_t)qm, q);
                size_t need = ert_qgemm_x_size_q(k, p, qm);
                uint8_t *want = alloc64(need), *got = alloc64(need);
                memset(want, 0xAB, need), memset(got, 0xCD, need);
                QT_ASSERT(ert_qgemm_pack_x_q(q, k, p, ldx, qm, want, need, &err) == ERT_OK);
                QT_ASSERT(ert_qgemm_pack_x_f32(x, k, p, ldx, 4.0f, z, qm, got, need, &err) == ERT_OK);
                QT_ASSERT(memcmp(want, got, need) == 0);
                free(x), free(q), free(want), free(got);
            }
        }
    }
    ert_qgemm_force(ERT_QK_AUTO, NULL);
}

static void test_qgemm_refuses_bad_calls(void)
{
    ert_error err;
    /* K over the limit: refused with a message naming it */
    QT_ASSERT(ert_qgemm_packed_size(4, ERT_QGEMM_K_MAX + 1) == 0);
    int8_t w1[4] = {1, 2, 3, 4};
    uint8_t buf[4096] __attribute__((aligned(64)));
    QT_ASSERT(ert_qgemm_pack(w1, 1, ERT_QGEMM_K_MAX + 1, buf, sizeof buf, &err) == ERT_EUNSUPPORTED);
    QT_ASSERT(strstr(err.msg, "K = 65536 exceeds 65535") != NULL);
    QT_ASSERT(ert_qgemm_pack_x((const uint8_t *)w1, ERT_QGEMM_K_MAX + 1, 1, 1, buf, sizeof buf, &err) ==
              ERT_EUNSUPPORTED);
    /* -128 is not a weight */
    int8_t w2[4] = {1, -128, 3, 4};
    QT_ASSERT(ert_qgemm_pack(w2, 2, 2, buf, sizeof buf, &err) == ERT_EINVAL);
    QT_ASSERT(strstr(err.msg, "[0][1] is -128") != NULL);
    /* too small, misaligned */
    QT_ASSERT(ert_qgemm_pack(w1, 2, 2, buf, 10, &err) == ERT_EINVAL && strstr(err.msg, "too small") != NULL);
    QT_ASSERT(ert_qgemm_pack(w1, 2, 2, buf + 1, sizeof buf - 1, &err) == ERT_EINVAL);
    /* a call that does not match the packed shape, bad strides, empty clamp (ref packing) */
    QT_ASSERT(ert_qgemm_force(ERT_QK_REF, &err) == ERT_OK);
    QT_ASSERT(ert_qgemm_pack(w1, 2, 2, buf, sizeof buf, &err) == ERT_OK);
    uint8_t xs[4] = {1, 2, 3, 4}, xw[512] __attribute__((aligned(64)));
    QT_ASSERT(ert_qgemm_pack_x(xs, 2, 2, 2, xw, sizeof xw, &err) == ERT_OK);
    float scale[2] = {1, 1}, y[4];
    ert_qgemm_call c = {.n = 2, .k = 3, .p = 2, .w = buf, .x = xw, .scale = scale, .y = y, .ldc = 2,
                        .lo = -INFINITY, .hi = INFINITY};
    QT_ASSERT(ert_qgemm(&c, &err) == ERT_EINVAL && strstr(err.msg, "K = 3") != NULL);
    c.k = 2, c.ldc = 1;
    QT_ASSERT(ert_qgemm(&c, &err) == ERT_EINVAL && strstr(err.msg, "stride") != NULL);
    c.ldc = 2, c.lo = 1.0f, c.hi = 0.0f;
    QT_ASSERT(ert_qgemm(&c, &err) == ERT_EINVAL);
    c.lo = 0.0f, c.hi = 1.0f;
    QT_ASSERT(ert_qgemm(&c, &err) == ERT_OK);
    QT_ASSERT(y[0] == 1.0f); /* 1*1 + 2*3 = 7, clamped to 1 */
    /* weights packed for another kernel */
    for (size_t i = 1; i < NKERNELS; i++)
        if (ert_qgemm_supported(all_kernels[i])) {
            QT_ASSERT(ert_qgemm_force(all_kernels[i], &err) == ERT_OK);
            QT_ASSERT(ert_qgemm(&c, &err) == ERT_EINVAL && strstr(err.msg, "repack") != NULL);
        }
    /* a kernel this CPU cannot run is refused clearly */
#if defined(__x86_64__)
    QT_ASSERT(ert_qgemm_force(ERT_QK_NEON, &err) == ERT_EUNSUPPORTED);
    QT_ASSERT(strstr(err.msg, "'neon' is not supported") != NULL);
#else
    QT_ASSERT(ert_qgemm_force(ERT_QK_AVX2, &err) == ERT_EUNSUPPORTED);
    QT_ASSERT(strstr(err.msg, "'avx2' is not supported") != NULL);
#endif
    QT_ASSERT(ert_qgemm_force(ERT_QK_AUTO, &err) == ERT_OK);
}

/* ---- 7-bit activations (q_max = 127): the avx2u7 kernel (vpmaddubsw) on x86 ---- */

static void test_qgemm_7bit_picks_avx2u7_and_matches_reference_over_shapes(void)
{
    ert_error err;
    if (ert_qgemm_supported(ERT_QK_AVX2U7)) {
        /* the kernel id in the packed header: avx2u7 for q_max 127 only, and only when chosen */
        int8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        uint8_t buf[4096] __attribute__((aligned(64)));
        uint32_t id;
        QT_ASSERT(ert_qgemm_force(ERT_QK_AUTO, &err) == ERT_OK);
        QT_ASSERT(ert_qgemm_kernel() == ERT_QK_AVX2U7 && strcmp(ert_qgemm_kernel_name(), "avx2u7") == 0);
        QT_ASSERT(ert_qgemm_pack_q(w, 2, 4, 127, buf, sizeof buf, &err) == ERT_OK);
        memcpy(&id, buf + 4, 4);
        QT_ASSERT(id == ERT_QK_AVX2U7);
        QT_ASSERT(ert_qgemm_pack_q(w, 2, 4, 255, buf, sizeof buf, &err) == ERT_OK);
        memcpy(&id, buf + 4, 4);
        QT_ASSERT(id == ERT_QK_AVX2);
        QT_ASSERT(ert_qgemm_force(ERT_QK_AVX2, &err) == ERT_OK);
        QT_ASSERT(ert_qgemm_pack_q(w, 2, 4, 127, buf, sizeof buf, &err) == ERT_OK);
        memcpy(&id, buf + 4, 4);
        QT_ASSERT(id == ERT_QK_AVX2);
        /* K = 5 pads to 8 for avx2u7 (groups of 4): 64 header + 64 sums + 6 rows x 8 */
        QT_ASSERT(ert_qgemm_force(ERT_QK_AVX2U7, &err) == ERT_OK);
        QT_ASSERT(ert_qgemm_packed_size_q(2, 5, 127) == 64 + 64 + 6 * 8);
        QT_ASSERT(ert_qgemm_x_size_q(5, 17, 127) == 2 * 2 * 64); /* 2 panels x 2 groups x 64 bytes */
    }
    /* K off the groups of 4 (1, 2, 3, 5, 6, 7, 9, ...), P = 1 (GEMV, short last block), tails. */
    static const size_t ns[] = {1, 5, 6, 7, 13, 64};
    static const size_t ks[] = {1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 17, 18, 19, 33, 100, 257};
    static const size_t ps[] = {1, 2, 7, 15, 16, 17, 33, 129};
    unsigned seed = 7000;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++)
            for (size_t c = 0; c < sizeof ps / sizeof ps[0]; c++) {
                if ((a + b + c) % 2 != 0 && ps[c] != 1)
                    continue;
                prob q = prob_make(ns[a], ks[b], ps[c], seed++, 0, 0);
                prob_to7(&q);
                q.epi = seed % 2 ? ERT_QEPI_F32 : ERT_QEPI_U8;
                q.use_res = seed % 4 == 1;
                q.use_bias = seed % 5 != 0;
                check_all(&q, NULL);
                prob_free(&q);
            }
    /* whole 6 x 16 tiles (the fused fp32 epilogue) and conv-sized shapes */
    static const size_t big[][3] = {{12, 40, 32}, {48, 259, 64}, {64, 288, 200}, {130, 300, 49}, {250, 514, 1}};
    for (size_t i = 0; i < 5; i++) {
        prob q = prob_make(big[i][0], big[i][1], big[i][2], 7100 + (unsigned)i, 0, 0);
        prob_to7(&q);
        q.epi = ERT_QEPI_F32, q.use_res = i % 2 == 0, q.lo = i == 1 ? 0.0f : -INFINITY;
        check_all(&q, NULL);
        q.epi = ERT_QEPI_U8;
        check_all(&q, NULL);
        prob_free(&q);
    }
}

static void test_qgemm_7bit_saturation_edge(void)
{
    /* vpmaddubsw's worst case: X all 127 against W all 127 / all -127 / alternating, every
     * pair sum +-2 * 127 * 127 = +-32258 (exact; 255 would saturate at 32767), z_x 0, 64,
     * 127, at depths past every unroll (K = 1031: 257 groups and a short one). */
    static const uint8_t zs[] = {0, 64, 127};
    unsigned seed = 7500;
    for (int wm = 1; wm <= 3; wm++)
        for (int xm = 1; xm <= 3; xm++)
            for (size_t z = 0; z < 3; z++)
                for (size_t p = 1; p <= 19; p += 18) {
                    prob q = prob_make(7, 1031, p, seed++, wm, xm);
                    prob_to7(&q);
                    q.z_x = zs[z];
                    q.use_bias = false;
                    q.epi = ERT_QEPI_F32;
                    for (size_t i = 0; i < q.n; i++)
                        q.scale[i] = 1.0f;
                    check_all(&q, NULL);
                    if (wm == 1 && xm == 1 && z == 0) { /* 1031 * 127 * 127 = 16628999 < 2^24: exact */
                        float y[7 * 21];
                        ert_error err;
                        QT_ASSERT(run(ERT_QK_AUTO, &q, NULL, y, &err) == ERT_OK);
                        QT_ASSERT(y[0] == 16628999.0f && y[q.ldc * 6 + q.p - 1] == 16628999.0f);
                    }
                    prob_free(&q);
                }
    /* The deepest K: 127 * 127 * 65535 = 1057014015, float 1057014016 (24 bits). */
    prob q = prob_make(2, ERT_QGEMM_K_MAX, 3, 7900, 1, 1);
    prob_to7(&q);
    q.z_x = 0, q.use_bias = false, q.epi = ERT_QEPI_F32;
    q.scale[0] = q.scale[1] = 1.0f;
    check_all(&q, NULL);
    float y[2 * 5];
    ert_error err;
    QT_ASSERT(run(ERT_QK_AUTO, &q, NULL, y, &err) == ERT_OK);
    QT_ASSERT(y[0] == 1057014016.0f);
    prob_free(&q);
    ert_qgemm_force(ERT_QK_AUTO, NULL);
}

static void test_qgemm_7bit_threads_bit_identical(void)
{
    ert_pool *pool = NULL;
    ert_error err;
    QT_ASSERT(ert_pool_create(2, &pool, &err) == ERT_OK);
    static const size_t shapes[][3] = {{70, 300, 250}, {200, 301, 1}, {190, 202, 20}, {64, 1155, 196}};
    for (size_t i = 0; i < 4; i++) {
        prob q = prob_make(shapes[i][0], shapes[i][1], shapes[i][2], 7700 + (unsigned)i, 0, 0);
        prob_to7(&q);
        q.epi = i == 1 ? ERT_QEPI_U8 : ERT_QEPI_F32;
        q.use_res = i == 0;
        check_all(&q, NULL); /* 1 thread */
        check_all(&q, pool); /* 2 threads */
        prob_free(&q);
    }
    ert_pool_destroy(pool);
}

static void test_qgemm_7bit_quantize_and_refusals(void)
{
    /* q_max 127: the rail moves, ties, NaN and the zero point do not */
    const float x[] = {2.5f, 117.5f, 116.5f, NAN, INFINITY, -INFINITY, 1e30f, 200.0f, -10.5f, 0.0f};
    const uint8_t want[] = {12, 127, 126, 10, 127, 0, 127, 127, 0, 10};
    uint8_t q[10];
    ert_qquantize_q(x, 10, 1.0f, 10, 127, q);
    for (size_t i = 0; i < 10; i++)
        QT_ASSERT(q[i] == want[i]);
    ert_qquantize_q(x, 10, 1.0f, 10, 255, q); /* 255: ert_qquantize's bits */
    uint8_t q8[10];
    ert_qquantize(x, 10, 1.0f, 10, q8);
    QT_ASSERT(memcmp(q, q8, 10) == 0 && q8[7] == 210);
    /* a 7-bit product on weights packed for 8 bits (another kernel on x86) is refused */
    ert_error err;
    if (ert_qgemm_supported(ERT_QK_AVX2U7)) {
        QT_ASSERT(ert_qgemm_force(ERT_QK_AVX2U7, &err) == ERT_OK);
        int8_t w[4] = {1, 2, 3, 4};
        uint8_t xs[4] = {1, 2, 3, 4}, buf[4096] __attribute__((aligned(64))), xw[4096] __attribute__((aligned(64)));
        float scale[2] = {1, 1}, y[4];
        QT_ASSERT(ert_qgemm_pack_q(w, 2, 2, 255, buf, sizeof buf, &err) == ERT_OK);
        QT_ASSERT(ert_qgemm_pack_x_q(xs, 2, 2, 2, 127, xw, sizeof xw, &err) == ERT_OK);
        ert_qgemm_call c = {.n = 2, .k = 2, .p = 2, .w = buf, .x = xw, .q_max = 127, .scale = scale, .y = y,
                            .ldc = 2, .lo = -INFINITY, .hi = INFINITY};
        QT_ASSERT(ert_qgemm(&c, &err) == ERT_EINVAL && strstr(err.msg, "'avx2' but the active kernel is 'avx2u7'"));
        QT_ASSERT(ert_qgemm_pack_q(w, 2, 2, 127, buf, sizeof buf, &err) == ERT_OK);
        QT_ASSERT(ert_qgemm(&c, &err) == ERT_OK);
        QT_ASSERT(y[0] == 7.0f && y[1] == 10.0f && y[2] == 15.0f && y[3] == 22.0f); /* [1 2; 3 4] [1 2; 3 4] */
    }
    ert_qgemm_force(ERT_QK_AUTO, NULL);
}

static const qt_case qgemm_cases[] = {
    QT_CASE(test_qgemm_hand_computed),
    QT_CASE(test_qgemm_kernels_match_reference_over_shapes),
    QT_CASE(test_qgemm_saturation_traps),
    QT_CASE(test_qgemm_residual_and_clamps),
    QT_CASE(test_qgemm_full_tiles_fused_epilogue),
    QT_CASE(test_qgemm_threads_bit_identical),
    QT_CASE(test_qgemm_quantize_edges),
    QT_CASE(test_qgemm_pack_x_f32_same_bytes_as_quantize_then_pack),
    QT_CASE(test_qgemm_refuses_bad_calls),
    QT_CASE(test_qgemm_7bit_picks_avx2u7_and_matches_reference_over_shapes),
    QT_CASE(test_qgemm_7bit_saturation_edge),
    QT_CASE(test_qgemm_7bit_threads_bit_identical),
    QT_CASE(test_qgemm_7bit_quantize_and_refusals),
    QT_END,
};

QT_SUITE(ert_suite_qgemm, "qgemm", qgemm_cases)
