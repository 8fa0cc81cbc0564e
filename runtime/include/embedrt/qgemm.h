/* int8 GEMM: C[N x P] = epilogue(bias + W[N x K] (int8) * (X[K x P] (uint8) - z_x)), exact int32
 * accumulation, with a portable reference kernel and AVX2 / NEON / SDOT kernels picked at run
 * time that match it bit for bit. Numerics: proto/blob-format.md, "int8 arithmetic". */
#ifndef EMBEDRT_QGEMM_H
#define EMBEDRT_QGEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The deepest product accepted: 255 * 127 * 65535 < 2^31, so the int32 accumulator cannot
 * overflow whatever the data. */
#define ERT_QGEMM_K_MAX 65535u

typedef enum ert_qkernel {
    ERT_QK_AUTO = 0, /* the best kernel this CPU supports */
    ERT_QK_REF,      /* portable C, the reference */
    ERT_QK_AVX2,     /* x86-64 with AVX2 */
    ERT_QK_NEON,     /* aarch64 NEON, widening multiply-accumulate (SMLAL) */
    ERT_QK_SDOT,     /* aarch64 with the dot-product extension (SDOT) */
    ERT_QK_AVX2U7,   /* AVX2, plus vpmaddubsw for 7-bit activations (q_max <= 127): the x86 default */
} ert_qkernel;

/* The largest activation value a product may see: 255 (8-bit, the default) or 127 (7-bit).
 * With 7-bit activations the AVX2 CPU runs a vpmaddubsw kernel (its int16 pair sums, at most
 * 2 * 127 * 127, cannot saturate); every other kernel computes the same exact sums. Packed
 * weights and activations are specific to the kernel picked for a q_max (see the _q
 * functions); the product names q_max in ert_qgemm_call. */
#define ERT_QMAX_8BIT 255u
#define ERT_QMAX_7BIT 127u

/* Name of the kernel in use ("ref", "avx2", "neon", "sdot", "avx2u7"). The first call picks
 * it: the best the CPU supports, or the one named in the environment variable
 * ERT_QGEMM_KERNEL (ref|avx2|neon|sdot|avx2u7); an unknown or unsupported name there makes
 * every packing and product call fail with a message saying so. "avx2u7" runs 8-bit
 * products on the avx2 kernel and 7-bit ones on the vpmaddubsw kernel; "avx2" runs both
 * on the vpmaddwd kernel (same bits, for comparisons). */
const char *ert_qgemm_kernel_name(void);
ert_qkernel ert_qgemm_kernel(void);
/* Whether kernel k can run on this CPU (ERT_QK_AUTO and ERT_QK_REF always can). */
bool ert_qgemm_supported(ert_qkernel k);
/* Switches the kernel for the whole process (tests, benchmarks); ERT_QK_AUTO restores the
 * automatic choice. Fails with ERT_EUNSUPPORTED for a kernel this CPU cannot run. Packed
 * weights and activations are kernel-specific: repack after switching. Not thread-safe
 * against concurrent products. */
ert_status ert_qgemm_force(ert_qkernel k, ert_error *err);

/* ---- weights: packed once at model load ---- */

/* Bytes ert_qgemm_pack needs for N x K weights with the current kernel (0 when N or K is 0
 * or K > ERT_QGEMM_K_MAX, or on size overflow). */
size_t ert_qgemm_packed_size(size_t n, size_t k);
/* Packs W (N x K row-major int8, values in [-127, 127]) into dst (cap bytes, 16-byte
 * aligned) for the current kernel: a header naming the kernel and shape, the per-row sums
 * sum_k W[n][k] (so that the z_x correction costs nothing per element), then the weights
 * in the kernel's panel layout (qgemm_impl.h). Refuses -128, K > ERT_QGEMM_K_MAX, a
 * too-small or misaligned dst. */
ert_status ert_qgemm_pack(const int8_t *w, size_t n, size_t k, void *dst, size_t cap, ert_error *err);
/* The same for products whose activations are at most q_max (1..255; 0 means 255). */
size_t ert_qgemm_packed_size_q(size_t n, size_t k, unsigned q_max);
ert_status ert_qgemm_pack_q(const int8_t *w, size_t n, size_t k, unsigned q_max, void *dst, size_t cap,
                            ert_error *err);

/* ---- activations: packed per product into a caller workspace ---- */

/* Bytes of workspace ert_qgemm_pack_x needs for a K x P activation matrix with the current
 * kernel (0 on overflow or K > ERT_QGEMM_K_MAX). */
size_t ert_qgemm_x_size(size_t k, size_t p);
size_t ert_qgemm_x_size_q(size_t k, size_t p, unsigned q_max);
/* Whether the kernel for q_max packs float activations directly (ert_qgemm_pack_x_f32). */
bool ert_qgemm_has_pack_x_f32(unsigned q_max);
/* ert_qgemm_pack_x_q of ert_qquantize_q(x, inv_s, z, q_max) (K x P floats, row stride ldx),
 * the same bytes, in one pass; P >= 2 and a kernel with ert_qgemm_has_pack_x_f32(), else
 * an error. z <= q_max. */
ert_status ert_qgemm_pack_x_f32(const float *x, size_t k, size_t p, size_t ldx, float inv_s, uint8_t z,
                                unsigned q_max, void *ws, size_t cap, ert_error *err);
/* Packs X (K x P row-major uint8, row stride ldx >= P) into ws (cap bytes) for the current
 * kernel. Allocates nothing. */
ert_status ert_qgemm_pack_x(const uint8_t *x, size_t k, size_t p, size_t ldx, void *ws, size_t cap,
                            ert_error *err);
/* The same for the kernel of q_max; every value of X must be <= q_max (the 7-bit kernel's
 * sums are exact only then; the engine's own quantizers guarantee it). */
ert_status ert_qgemm_pack_x_q(const uint8_t *x, size_t k, size_t p, size_t ldx, unsigned q_max, void *ws,
                              size_t cap, ert_error *err);

/* ---- the product ---- */

typedef enum ert_qepilogue {
    ERT_QEPI_F32 = 0, /* y = (float)acc * scale[n] (+ R[n][p]), clamped to [lo, hi] */
    ERT_QEPI_U8,      /* q = clamp(z_y + rne((float)acc * mult[n]), qlo, qhi) */
} ert_qepilogue;

typedef struct ert_qgemm_call {
    size_t n, k, p;
    const void *w;        /* from ert_qgemm_pack (same kernel, same n and k) */
    const void *x;        /* from ert_qgemm_pack_x (same kernel, same k and p) */
    uint8_t z_x;          /* activation zero point */
    uint8_t q_max;        /* activations' maximum as packed (0 = 255; 127: 7-bit), picks the kernel */
    const int32_t *bias;  /* int32[N], NULL for none */
    ert_qepilogue epilogue;
    /* ERT_QEPI_F32 */
    const float *scale;   /* float[N]: s_x * s_w[n] */
    const float *residual; /* optional R (N x P row-major, row stride ldr), added after scaling */
    size_t ldr;
    float lo, hi;         /* clamp: -INFINITY/INFINITY none, 0/INFINITY ReLU, 0/6 ReLU6 */
    float *y;             /* N x P, row stride ldc */
    /* ERT_QEPI_U8 */
    const float *mult;    /* float[N]: s_x * s_w[n] / s_y */
    uint8_t z_y, qlo, qhi; /* qlo <= qhi; ReLU is qlo = z_y */
    uint8_t *q;           /* N x P, row stride ldc */
    size_t ldc;
    struct ert_pool *pool; /* optional: split over P (or N) across its threads, same bits */
} ert_qgemm_call;

/* Runs one product. Checks shapes against the packed headers, strides, pointers and
 * K <= ERT_QGEMM_K_MAX; allocates nothing. */
ert_status ert_qgemm(const ert_qgemm_call *c, ert_error *err);

/* ---- quantization of fp32 tensors ---- */

/* q[i] = clamp(rne(x[i] * inv_s) + z, 0, 255), NaN -> z (vectorized, bit-identical to the
 * scalar formula). inv_s is 1/s as stored by the converter: multiply, never divide. */
void ert_qquantize(const float *x, size_t count, float inv_s, uint8_t z, uint8_t *q);
/* The same clamped to [0, q_max] (7-bit activations: q_max = 127; z <= q_max). */
void ert_qquantize_q(const float *x, size_t count, float inv_s, uint8_t z, uint8_t q_max, uint8_t *q);
/* y[i] = (float)(q[i] - z) * s. */
void ert_qdequantize(const uint8_t *q, size_t count, float s, uint8_t z, float *y);

#ifdef __cplusplus
}
#endif
#endif
