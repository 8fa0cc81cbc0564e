/* 4-lane float vectors (GCC/clang vector extensions: SSE on x86-64, NEON on aarch64) for
 * the kernels' hot loops: at -O2 GCC leaves loops with unknown trip counts scalar. */
#ifndef ERT_KERNELS_SIMD_H
#define ERT_KERNELS_SIMD_H

#include <stdint.h>
#include <string.h>

typedef float ert_f4 __attribute__((vector_size(16)));
typedef int32_t ert_i4 __attribute__((vector_size(16)));

/* Unaligned load/store: memcpy compiles to one movups / ldr q. */
static inline ert_f4 f4_load(const float *p)
{
    ert_f4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void f4_store(float *p, ert_f4 v)
{
    memcpy(p, &v, sizeof v);
}
static inline ert_f4 f4_splat(float x)
{
    return (ert_f4){x, x, x, x};
}
/* Lane-wise m ? a : b (the ?: operator takes no vector condition in C). */
static inline ert_f4 f4_select(ert_i4 m, ert_f4 a, ert_f4 b)
{
    return (ert_f4)((m & (ert_i4)a) | (~m & (ert_i4)b));
}
/* Same NaN behaviour as the scalar `a > b ? a : b`. */
static inline ert_f4 f4_max(ert_f4 a, ert_f4 b)
{
    return f4_select(a > b, a, b);
}
static inline ert_f4 f4_min(ert_f4 a, ert_f4 b)
{
    return f4_select(a < b, a, b);
}

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define ERT_HAVE_SHUFFLE 1
/* Even / odd lanes of the 8 floats lo:hi (stride-2 windows). */
static inline ert_f4 f4_even(ert_f4 lo, ert_f4 hi)
{
    return __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
}
static inline ert_f4 f4_odd(ert_f4 lo, ert_f4 hi)
{
    return __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
}
#endif
#endif

#endif
