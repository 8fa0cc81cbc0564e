/* int8 GEMM front end: kernel choice from CPU features, argument checks, packing headers,
 * the reference kernel, the shared (scalar and 4-lane) epilogues and the thread split.
 * Integer sums are exact and wrap modulo 2^32 like the SIMD lanes, so every kernel, every
 * split and every thread count gives the same bits. */
#include "qgemm_impl.h"

#include "embedrt/pool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#endif

typedef float q_f4 __attribute__((vector_size(16)));
typedef int32_t q_i4 __attribute__((vector_size(16)));
typedef uint32_t q_u4 __attribute__((vector_size(16)));

/* ---- kernel choice ---- */

static const char *const kernel_names[] = {"auto", "ref", "avx2", "neon", "sdot", "avx2u7"};
#define QK_LAST ERT_QK_AVX2U7

static atomic_int g_kernel;   /* 0: not chosen yet; else an ert_qkernel */
static atomic_int g_env_bad;  /* ERT_QGEMM_KERNEL named something unusable */
static char g_env_value[32];

bool ert_qgemm_supported(ert_qkernel k)
{
    switch (k) {
    case ERT_QK_AUTO:
    case ERT_QK_REF:
        return true;
#if defined(__x86_64__)
    case ERT_QK_AVX2:
    case ERT_QK_AVX2U7:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
#endif
#if defined(__aarch64__)
    case ERT_QK_NEON:
        return true;
    case ERT_QK_SDOT:
        return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    default:
        return false;
    }
}

static ert_qkernel best_kernel(void)
{
    if (ert_qgemm_supported(ERT_QK_SDOT))
        return ERT_QK_SDOT;
    if (ert_qgemm_supported(ERT_QK_NEON))
        return ERT_QK_NEON;
    if (ert_qgemm_supported(ERT_QK_AVX2U7))
        return ERT_QK_AVX2U7;
    return ERT_QK_REF;
}

static ert_qkernel current(void)
{
    int k = atomic_load(&g_kernel);
    if (k)
        return (ert_qkernel)k;
    ert_qkernel pick = best_kernel();
    const char *env = getenv("ERT_QGEMM_KERNEL");
    if (env && *env) {
        int found = 0;
        for (int i = ERT_QK_REF; i <= QK_LAST; i++)
            if (strcmp(env, kernel_names[i]) == 0)
                found = i;
        if (found && ert_qgemm_supported((ert_qkernel)found)) {
            pick = (ert_qkernel)found;
        } else {
            strncpy(g_env_value, env, sizeof g_env_value - 1);
            atomic_store(&g_env_bad, 1);
        }
    }
    int expected = 0;
    atomic_compare_exchange_strong(&g_kernel, &expected, (int)pick);
    return (ert_qkernel)atomic_load(&g_kernel);
}

ert_qkernel ert_qgemm_kernel(void)
{
    return current();
}

const char *ert_qgemm_kernel_name(void)
{
    return kernel_names[current()];
}

static void list_supported(char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = ERT_QK_REF; i <= QK_LAST; i++)
        if (ert_qgemm_supported((ert_qkernel)i)) {
            size_t len = strlen(buf);
            snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", kernel_names[i]);
        }
}

ert_status ert_qgemm_force(ert_qkernel k, ert_error *err)
{
    if ((int)k < ERT_QK_AUTO || (int)k > QK_LAST)
        return ert_fail(err, ERT_EINVAL, "qgemm: unknown kernel id %d", (int)k);
    if (!ert_qgemm_supported(k)) {
        char avail[64];
        list_supported(avail, sizeof avail);
        return ert_fail(err, ERT_EUNSUPPORTED, "qgemm: kernel '%s' is not supported on this CPU (available: %s)",
                        kernel_names[k], avail);
    }
    atomic_store(&g_env_bad, 0);
    atomic_store(&g_kernel, (int)(k == ERT_QK_AUTO ? best_kernel() : k));
    return ERT_OK;
}

/* The kernel to use, or an error when ERT_QGEMM_KERNEL asked for something unusable. */
static ert_status active(const ert_qk **kd, ert_qkernel *id, ert_error *err)
{
    ert_qkernel k = current();
    *kd = NULL;
    *id = ERT_QK_REF;
    if (atomic_load(&g_env_bad)) {
        char avail[64];
        list_supported(avail, sizeof avail);
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "qgemm: ERT_QGEMM_KERNEL=%s is not a kernel this CPU can run (use one of: %s)", g_env_value,
                        avail);
    }
    *id = k;
#if defined(__x86_64__)
    if (k == ERT_QK_AVX2)
        *kd = &ert_qk_avx2;
    if (k == ERT_QK_AVX2U7) { /* 8-bit products: the vpmaddwd kernel */
        *kd = &ert_qk_avx2;
        *id = ERT_QK_AVX2;
    }
#endif
#if defined(__aarch64__)
    if (k == ERT_QK_NEON)
        *kd = &ert_qk_neon;
    if (k == ERT_QK_SDOT)
        *kd = &ert_qk_sdot;
#endif
    return ERT_OK;
}

/* The kernel for products whose activations are at most q_max (0: 255). */
static ert_status resolve(unsigned q_max, const ert_qk **kd, ert_qkernel *id, ert_error *err)
{
    ert_status st = active(kd, id, err);
#if defined(__x86_64__)
    if (st == ERT_OK && q_max && q_max <= ERT_QMAX_7BIT && current() == ERT_QK_AVX2U7) {
        *kd = &ert_qk_avx2u7;
        *id = ERT_QK_AVX2U7;
    }
#else
    (void)q_max;
#endif
    return st;
}

/* ---- sizes ---- */

static size_t round_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

static size_t kp_of(const ert_qk *kd, size_t k)
{
    return kd ? round_up(k, kd->kalign) : k;
}

static size_t sums_bytes(size_t n)
{
    return round_up(n * sizeof(int32_t), 64);
}

/* Header + sums + panels, or 0 on overflow. */
static size_t packed_size_for(const ert_qk *kd, size_t n, size_t k)
{
    if (n == 0 || k == 0 || k > ERT_QGEMM_K_MAX || n > SIZE_MAX / 64)
        return 0;
    size_t rows = kd ? round_up(n, kd->mr) : n, kp = kp_of(kd, k), w = kd ? kd->wbytes : 1, body, total;
    if (__builtin_mul_overflow(rows, kp, &body) || __builtin_mul_overflow(body, w, &body) ||
        __builtin_add_overflow(body, (size_t)ERT_QW_HEADER + sums_bytes(n), &total))
        return 0;
    return total;
}

size_t ert_qgemm_packed_size_q(size_t n, size_t k, unsigned q_max)
{
    const ert_qk *kd;
    ert_qkernel id;
    if (resolve(q_max, &kd, &id, NULL) != ERT_OK)
        return 0;
    return packed_size_for(kd, n, k);
}

size_t ert_qgemm_packed_size(size_t n, size_t k)
{
    return ert_qgemm_packed_size_q(n, k, ERT_QMAX_8BIT);
}

static size_t x_size_for(const ert_qk *kd, size_t k, size_t p)
{
    if (k == 0 || p == 0 || k > ERT_QGEMM_K_MAX || p > SIZE_MAX / (2 * ERT_QK_NR_MAX * ERT_QGEMM_K_MAX))
        return 0;
    return kd ? kd->x_size(kp_of(kd, k), p) : k * p;
}

size_t ert_qgemm_x_size_q(size_t k, size_t p, unsigned q_max)
{
    const ert_qk *kd;
    ert_qkernel id;
    if (resolve(q_max, &kd, &id, NULL) != ERT_OK)
        return 0;
    return x_size_for(kd, k, p);
}

size_t ert_qgemm_x_size(size_t k, size_t p)
{
    return ert_qgemm_x_size_q(k, p, ERT_QMAX_8BIT);
}

/* ---- packing ---- */

ert_status ert_qgemm_pack(const int8_t *w, size_t n, size_t k, void *dst, size_t cap, ert_error *err)
{
    return ert_qgemm_pack_q(w, n, k, ERT_QMAX_8BIT, dst, cap, err);
}

ert_status ert_qgemm_pack_q(const int8_t *w, size_t n, size_t k, unsigned q_max, void *dst, size_t cap,
                            ert_error *err)
{
    const ert_qk *kd;
    ert_qkernel id;
    ert_status st = resolve(q_max, &kd, &id, err);
    if (st != ERT_OK)
        return st;
    if (k > ERT_QGEMM_K_MAX)
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "qgemm: K = %zu exceeds %u: the int32 accumulator could overflow (split the reduction)", k,
                        ERT_QGEMM_K_MAX);
    if (n == 0 || k == 0)
        return ert_fail(err, ERT_EINVAL, "qgemm: empty weight matrix (N = %zu, K = %zu)", n, k);
    if (!w || !dst)
        return ert_fail(err, ERT_EINVAL, "qgemm: NULL weights or destination");
    if ((uintptr_t)dst % 16)
        return ert_fail(err, ERT_EINVAL, "qgemm: packed weight buffer must be 16-byte aligned");
    size_t need = packed_size_for(kd, n, k);
    if (need == 0)
        return ert_fail(err, ERT_EINVAL, "qgemm: weight matrix %zu x %zu is too large", n, k);
    if (cap < need)
        return ert_fail(err, ERT_EINVAL, "qgemm: packed weight buffer too small (%zu bytes, need %zu)", cap, need);
    /* Check everything before writing anything: no partial state. */
    for (size_t i = 0; i < n * k; i++)
        if (w[i] == INT8_MIN)
            return ert_fail(err, ERT_EINVAL, "qgemm: weight [%zu][%zu] is -128; weights must be in [-127, 127]",
                            i / k, i % k);
    uint8_t *d = dst;
    size_t kp = kp_of(kd, k);
    qw_header h = {ERT_QW_MAGIC, (uint32_t)id, n, k, kp};
    memset(d, 0, ERT_QW_HEADER);
    memcpy(d, &h, sizeof h);
    int32_t *sums = (int32_t *)(d + ERT_QW_HEADER);
    memset(sums, 0, sums_bytes(n));
    for (size_t r = 0; r < n; r++) {
        int32_t s = 0;
        for (size_t j = 0; j < k; j++)
            s += w[r * k + j];
        sums[r] = s;
    }
    uint8_t *body = d + ERT_QW_HEADER + sums_bytes(n);
    if (!kd) {
        memcpy(body, w, n * k);
        return ERT_OK;
    }
    size_t panel = kd->mr * kp * kd->wbytes;
    for (size_t r0 = 0, i = 0; r0 < n; r0 += kd->mr, i++) {
        size_t rows = n - r0 < kd->mr ? n - r0 : kd->mr;
        kd->pack_w_panel(w + r0 * k, k, rows, kp, body + i * panel);
    }
    return ERT_OK;
}

/* The checks both activation packers make after their own K/P minimum: pointers, stride,
 * workspace size. */
static ert_status check_x_args(const ert_qk *kd, const void *x, size_t k, size_t p, size_t ldx, const void *ws,
                               size_t cap, ert_error *err)
{
    if (!x || !ws)
        return ert_fail(err, ERT_EINVAL, "qgemm: NULL activations or workspace");
    if (ldx < p)
        return ert_fail(err, ERT_EINVAL, "qgemm: activation row stride %zu is below P = %zu", ldx, p);
    size_t need = x_size_for(kd, k, p);
    if (need == 0)
        return ert_fail(err, ERT_EINVAL, "qgemm: activation matrix %zu x %zu is too large", k, p);
    if (cap < need)
        return ert_fail(err, ERT_EINVAL, "qgemm: activation workspace too small (%zu bytes, need %zu)", cap, need);
    return ERT_OK;
}

ert_status ert_qgemm_pack_x(const uint8_t *x, size_t k, size_t p, size_t ldx, void *ws, size_t cap, ert_error *err)
{
    return ert_qgemm_pack_x_q(x, k, p, ldx, ERT_QMAX_8BIT, ws, cap, err);
}

ert_status ert_qgemm_pack_x_q(const uint8_t *x, size_t k, size_t p, size_t ldx, unsigned q_max, void *ws,
                              size_t cap, ert_error *err)
{
    const ert_qk *kd;
    ert_qkernel id;
    ert_status st = resolve(q_max, &kd, &id, err);
    if (st != ERT_OK)
        return st;
    if (k > ERT_QGEMM_K_MAX)
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "qgemm: K = %zu exceeds %u: the int32 accumulator could overflow (split the reduction)", k,
                        ERT_QGEMM_K_MAX);
    if (k == 0 || p == 0)
        return ert_fail(err, ERT_EINVAL, "qgemm: empty activation matrix (K = %zu, P = %zu)", k, p);
    st = check_x_args(kd, x, k, p, ldx, ws, cap, err);
    if (st != ERT_OK)
        return st;
    if (!kd) {
        uint8_t *d = ws;
        for (size_t i = 0; i < k; i++)
            memcpy(d + i * p, x + i * ldx, p);
        return ERT_OK;
    }
    kd->pack_x(x, k, p, ldx, kp_of(kd, k), ws);
    return ERT_OK;
}

bool ert_qgemm_has_pack_x_f32(unsigned q_max)
{
    const ert_qk *kd;
    ert_qkernel id;
    return resolve(q_max, &kd, &id, NULL) == ERT_OK && kd && kd->pack_x_f32;
}

ert_status ert_qgemm_pack_x_f32(const float *x, size_t k, size_t p, size_t ldx, float inv_s, uint8_t z,
                                unsigned q_max, void *ws, size_t cap, ert_error *err)
{
    const ert_qk *kd;
    ert_qkernel id;
    ert_status st = resolve(q_max, &kd, &id, err);
    if (st != ERT_OK)
        return st;
    if (!kd || !kd->pack_x_f32)
        return ert_fail(err, ERT_EUNSUPPORTED, "qgemm: kernel '%s' does not pack float activations",
                        kernel_names[id]);
    if (k > ERT_QGEMM_K_MAX)
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "qgemm: K = %zu exceeds %u: the int32 accumulator could overflow (split the reduction)", k,
                        ERT_QGEMM_K_MAX);
    if (k == 0 || p < 2)
        return ert_fail(err, ERT_EINVAL, "qgemm: float packing needs K >= 1 and P >= 2 (K = %zu, P = %zu)", k, p);
    st = check_x_args(kd, x, k, p, ldx, ws, cap, err);
    if (st != ERT_OK)
        return st;
    if (q_max == 0 || q_max > 255)
        q_max = 255;
    if (z > q_max)
        return ert_fail(err, ERT_EINVAL, "qgemm: zero point %u is above q_max = %u", z, q_max);
    kd->pack_x_f32(x, k, p, ldx, kp_of(kd, k), inv_s, z, (uint8_t)q_max, ws);
    return ERT_OK;
}

/* ---- epilogues ---- */

static inline q_f4 f4_load(const float *p)
{
    q_f4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline q_i4 i4_load(const int32_t *p)
{
    q_i4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline q_f4 f4_sel(q_i4 m, q_f4 a, q_f4 b)
{
    return (q_f4)((m & (q_i4)a) | (~m & (q_i4)b));
}

static inline q_i4 i4_sel(q_i4 m, q_i4 a, q_i4 b)
{
    return (m & a) | (~m & b);
}

static inline q_f4 f4_rne_clamped(q_f4 v)
{
    const q_f4 lo = {-Q_CLAMP, -Q_CLAMP, -Q_CLAMP, -Q_CLAMP}, hi = -lo;
    const q_f4 m = {Q_RNE_MAGIC, Q_RNE_MAGIC, Q_RNE_MAGIC, Q_RNE_MAGIC};
    v = f4_sel(v > lo, v, lo);
    v = f4_sel(v < hi, v, hi);
    q_f4 r = v + m;
    ERT_Q_NOFUSE(r);
    return r - m;
}

/* Row n, columns [p0, p0 + cols): acc holds the kernel's raw sums; the correction
 * bias[n] + (zoff - z_x) * sum(W[n]) is added here, modulo 2^32 like the SIMD lanes. */
static void epi_row(const epi_ctx *e, size_t n, size_t p0, size_t cols, const int32_t *acc)
{
    const ert_qgemm_call *c = e->c;
    uint32_t off = ert_q_offset(e, n);
    size_t i = 0;
    if (c->epilogue == ERT_QEPI_F32) {
        float s = c->scale[n], lo = c->lo, hi = c->hi;
        const float *res = c->residual ? c->residual + n * c->ldr + p0 : NULL;
        float *y = c->y + n * c->ldc + p0;
        if (e->vec) {
            const q_f4 sv = {s, s, s, s}, lov = {lo, lo, lo, lo}, hiv = {hi, hi, hi, hi};
            const q_u4 ov = {off, off, off, off};
            for (; i + 4 <= cols; i += 4) {
                q_i4 a = (q_i4)((q_u4)i4_load(acc + i) + ov);
                q_f4 v = __builtin_convertvector(a, q_f4) * sv;
                ERT_Q_NOFUSE(v);
                if (res) {
                    v = v + f4_load(res + i);
                    ERT_Q_NOFUSE(v);
                }
                v = f4_sel(lov > v, lov, v);
                v = f4_sel(hiv < v, hiv, v);
                memcpy(y + i, &v, sizeof v);
            }
        }
        for (; i < cols; i++)
            y[i] = epi_f32_one((int32_t)((uint32_t)acc[i] + off), s, res ? res + i : NULL, lo, hi);
    } else {
        float m = c->mult[n];
        int32_t zy = c->z_y, qlo = c->qlo, qhi = c->qhi;
        uint8_t *q = c->q + n * c->ldc + p0;
        if (e->vec) {
            const q_f4 mv = {m, m, m, m};
            const q_u4 ov = {off, off, off, off};
            const q_i4 zv = {zy, zy, zy, zy}, lov = {qlo, qlo, qlo, qlo}, hiv = {qhi, qhi, qhi, qhi};
            for (; i + 4 <= cols; i += 4) {
                q_i4 a = (q_i4)((q_u4)i4_load(acc + i) + ov);
                q_f4 v = __builtin_convertvector(a, q_f4) * mv;
                ERT_Q_NOFUSE(v);
                q_i4 r = __builtin_convertvector(f4_rne_clamped(v), q_i4) + zv;
                r = i4_sel(r < lov, lov, r);
                r = i4_sel(r > hiv, hiv, r);
                for (int l = 0; l < 4; l++)
                    q[i + (size_t)l] = (uint8_t)r[l];
            }
        }
        for (; i < cols; i++)
            q[i] = epi_u8_one((int32_t)((uint32_t)acc[i] + off), m, zy, qlo, qhi);
    }
}

/* ---- the product ---- */

typedef struct qjob {
    const ert_qgemm_call *c;
    const ert_qk *kd;
    epi_ctx e;
    ert_qk_epi_fn epi;
    const uint8_t *wbody;
    size_t kp, rpanels, cpanels;
    bool split_cols;
    bool fused; /* full tiles take kd->tile_f32 (fp32 epilogue, kernel's own epi_row) */
} qjob;

/* Reference: one exact dot product per output, columns in blocks of 16 for the epilogue. */
static void ref_rows(const qjob *j, size_t n0, size_t n1)
{
    const ert_qgemm_call *c = j->c;
    const int8_t *w = (const int8_t *)j->wbody;
    const uint8_t *x = c->x;
    int32_t acc[16];
    for (size_t n = n0; n < n1; n++)
        for (size_t p0 = 0; p0 < c->p; p0 += 16) {
            size_t cols = c->p - p0 < 16 ? c->p - p0 : 16;
            for (size_t i = 0; i < cols; i++) {
                int32_t s = 0;
                for (size_t k = 0; k < c->k; k++)
                    s += (int32_t)x[k * c->p + p0 + i] * (int32_t)w[n * c->k + k];
                acc[i] = s;
            }
            epi_row(&j->e, n, p0, cols, acc);
        }
}

static void one_tile(const qjob *j, size_t rp, size_t cp)
{
    const ert_qgemm_call *c = j->c;
    const ert_qk *kd = j->kd;
    int32_t acc[ERT_QK_MR_MAX * ERT_QK_NR_MAX] __attribute__((aligned(32)));
    const uint8_t *wp = j->wbody + rp * kd->mr * j->kp * kd->wbytes;
    size_t n0 = rp * kd->mr, rows = c->n - n0 < kd->mr ? c->n - n0 : kd->mr;
    if (c->p == 1) {
        kd->gemv(wp, c->x, j->kp, acc);
        for (size_t r = 0; r < rows; r++)
            j->epi(&j->e, n0 + r, 0, 1, acc + r);
        return;
    }
    const uint8_t *xp = (const uint8_t *)c->x + cp * kd->x_size(j->kp, kd->nr);
    size_t p0 = cp * kd->nr, cols = c->p - p0 < kd->nr ? c->p - p0 : kd->nr;
    if (j->fused && rows == kd->mr && cols == kd->nr) {
        kd->tile_f32(wp, xp, j->kp, &j->e, n0, p0);
        return;
    }
    kd->tile(wp, xp, j->kp, acc);
    for (size_t r = 0; r < rows; r++)
        j->epi(&j->e, n0 + r, p0, cols, acc + r * kd->nr);
}

static void qjob_part(void *arg, size_t begin, size_t end, int worker)
{
    (void)worker;
    const qjob *j = arg;
    if (!j->kd) {
        ref_rows(j, begin, end);
        return;
    }
    if (j->split_cols) {
        /* A block of X panels (<= ~96 kB, L2) is swept by each weight panel in turn, which
         * stays in L1 across the block: neither operand streams from memory per tile. */
        size_t xpanel = j->kd->x_size(j->kp, j->kd->nr), cb = (96u << 10) / (xpanel ? xpanel : 1);
        cb = cb < 1 ? 1 : cb;
        for (size_t c0 = begin; c0 < end; c0 += cb) {
            size_t c1 = end - c0 < cb ? end : c0 + cb;
            for (size_t rp = 0; rp < j->rpanels; rp++)
                for (size_t cp = c0; cp < c1; cp++)
                    one_tile(j, rp, cp);
        }
    } else {
        for (size_t rp = begin; rp < end; rp++)
            for (size_t cp = 0; cp < j->cpanels; cp++)
                one_tile(j, rp, cp);
    }
}

static ert_status check_call(const ert_qgemm_call *c, const ert_qk *kd, ert_qkernel id, const qw_header *h,
                             ert_error *err)
{
    if (c->k > ERT_QGEMM_K_MAX)
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "qgemm: K = %zu exceeds %u: the int32 accumulator could overflow (split the reduction)", c->k,
                        ERT_QGEMM_K_MAX);
    if (c->k == 0)
        return ert_fail(err, ERT_EINVAL, "qgemm: K must be >= 1");
    if (!c->w || !c->x)
        return ert_fail(err, ERT_EINVAL, "qgemm: NULL packed weights or activations");
    if (h->magic != ERT_QW_MAGIC)
        return ert_fail(err, ERT_EINVAL, "qgemm: weights were not packed by ert_qgemm_pack (bad magic)");
    if (h->kernel != (uint32_t)id)
        return ert_fail(err, ERT_EINVAL, "qgemm: weights were packed for kernel '%s' but the active kernel is '%s'; "
                        "repack them", h->kernel <= QK_LAST ? kernel_names[h->kernel] : "?", kernel_names[id]);
    if (h->n != c->n || h->k != c->k || h->kp != kp_of(kd, c->k))
        return ert_fail(err, ERT_EINVAL, "qgemm: packed weights are %llu x %llu but the call says N = %zu, K = %zu",
                        (unsigned long long)h->n, (unsigned long long)h->k, c->n, c->k);
    if (c->ldc < c->p)
        return ert_fail(err, ERT_EINVAL, "qgemm: output row stride %zu is below P = %zu", c->ldc, c->p);
    if (c->epilogue == ERT_QEPI_F32) {
        if (!c->scale || !c->y)
            return ert_fail(err, ERT_EINVAL, "qgemm: fp32 epilogue needs scale[] and an output y");
        if (c->residual && c->ldr < c->p)
            return ert_fail(err, ERT_EINVAL, "qgemm: residual row stride %zu is below P = %zu", c->ldr, c->p);
        if (!(c->lo <= c->hi))
            return ert_fail(err, ERT_EINVAL, "qgemm: clamp range [%g, %g] is empty or NaN", (double)c->lo,
                            (double)c->hi);
    } else if (c->epilogue == ERT_QEPI_U8) {
        if (!c->mult || !c->q)
            return ert_fail(err, ERT_EINVAL, "qgemm: uint8 epilogue needs mult[] and an output q");
        if (c->qlo > c->qhi)
            return ert_fail(err, ERT_EINVAL, "qgemm: uint8 clamp range [%u, %u] is empty", c->qlo, c->qhi);
    } else {
        return ert_fail(err, ERT_EINVAL, "qgemm: unknown epilogue %d", (int)c->epilogue);
    }
    return ERT_OK;
}

ert_status ert_qgemm(const ert_qgemm_call *c, ert_error *err)
{
    const ert_qk *kd;
    ert_qkernel id;
    if (!c)
        return ert_fail(err, ERT_EINVAL, "qgemm: NULL call");
    ert_status st = resolve(c->q_max, &kd, &id, err);
    if (st != ERT_OK)
        return st;
    if (c->n == 0 || c->p == 0)
        return ERT_OK;
    qw_header h = {0, 0, 0, 0, 0};
    if (c->w)
        memcpy(&h, c->w, sizeof h);
    st = check_call(c, kd, id, &h, err);
    if (st != ERT_OK)
        return st;
    const uint8_t *wb = c->w;
    qjob j = {
        .c = c,
        .kd = kd,
        .e = {c, (const int32_t *)(wb + ERT_QW_HEADER), kd ? kd->zoff : 0, kd != NULL},
        .epi = kd && kd->epi_row ? kd->epi_row : epi_row,
        .wbody = wb + ERT_QW_HEADER + sums_bytes(c->n),
        .kp = kp_of(kd, c->k),
        .fused = kd && kd->tile_f32 && kd->epi_row && c->epilogue == ERT_QEPI_F32,
    };
    if (!kd) {
        ert_pool_run(c->pool, c->n, 1, qjob_part, &j);
        return ERT_OK;
    }
    j.rpanels = (c->n + kd->mr - 1) / kd->mr;
    j.cpanels = c->p == 1 ? 1 : (c->p + kd->nr - 1) / kd->nr;
    int threads = ert_pool_size(c->pool);
    double macs = (double)c->n * (double)c->k * (double)c->p;
    if (threads < 2 || macs < 1e6) {
        j.split_cols = true;
        qjob_part(&j, 0, j.cpanels, 0);
        return ERT_OK;
    }
    /* Column panels when they split evenly or are many; else row panels (13 column
     * panels, a 14x14 map, would leave one thread 7 and the other 6). */
    j.split_cols = j.cpanels >= (size_t)threads * 2 &&
                   (j.cpanels % (size_t)threads == 0 || j.cpanels >= (size_t)threads * 8);
    ert_pool_run(c->pool, j.split_cols ? j.cpanels : j.rpanels, 1, qjob_part, &j);
    return ERT_OK;
}

/* ---- quantization ---- */

static inline uint8_t quant_one(float x, float inv_s, int32_t z, int32_t qmax)
{
    float v = x * inv_s;
    if (v != v)
        return (uint8_t)z;
    int32_t q = (int32_t)rne_clamped(v) + z;
    return (uint8_t)(q < 0 ? 0 : q > qmax ? qmax : q);
}

void ert_qquantize(const float *x, size_t count, float inv_s, uint8_t z, uint8_t *q)
{
    ert_qquantize_q(x, count, inv_s, z, 255, q);
}

void ert_qquantize_q(const float *x, size_t count, float inv_s, uint8_t z, uint8_t q_max, uint8_t *q)
{
    size_t i = 0;
    const int32_t t = q_max;
    const q_f4 iv = {inv_s, inv_s, inv_s, inv_s};
    const q_i4 zv = {z, z, z, z}, zero = {0, 0, 0, 0}, top = {t, t, t, t};
    for (; i + 4 <= count; i += 4) {
        q_f4 v = f4_load(x + i) * iv;
        ERT_Q_NOFUSE(v);
        q_i4 nan = v != v;
        q_i4 r = __builtin_convertvector(f4_rne_clamped(v), q_i4) + zv;
        r = i4_sel(r < zero, zero, r);
        r = i4_sel(r > top, top, r);
        r = i4_sel(nan, zv, r);
        for (int l = 0; l < 4; l++)
            q[i + (size_t)l] = (uint8_t)r[l];
    }
    for (; i < count; i++)
        q[i] = quant_one(x[i], inv_s, z, t);
}

void ert_qdequantize(const uint8_t *q, size_t count, float s, uint8_t z, float *y)
{
    for (size_t i = 0; i < count; i++)
        y[i] = (float)((int32_t)q[i] - (int32_t)z) * s;
}
