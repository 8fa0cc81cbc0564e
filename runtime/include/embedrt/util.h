/* Two helpers every module needs: a monotonic clock and a bounded string copy. */
#ifndef EMBEDRT_UTIL_H
#define EMBEDRT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in nanoseconds (the clock frame timestamps use). */
uint64_t ert_monotonic_ns(void);
/* CPU time of the whole process (every thread) in nanoseconds (benchmarks on shared machines). */
uint64_t ert_process_cpu_ns(void);
/* Copies src (NULL: "") into dst[cap] (cap >= 1), truncating; dst is always terminated. */
void ert_str_copy(char *dst, size_t cap, const char *src);

#ifdef __cplusplus
}
#endif
#endif
