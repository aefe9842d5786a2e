/*
 * bench/probe.c: the single-thread read-bandwidth ceiling for `python -m bench`.
 *
 * A plain streaming read of one buffer (the benchmark passes the very NumPy array it
 * times, so the probe sees the same size and the same address alignment). To be a
 * ceiling it reads the way the best kernel could:
 *
 *  - the widest loads this CPU has (AVX-512F 64 bytes, AVX2 32, SSE2 16), one
 *    function per width compiled with a `target` attribute and picked at run time
 *    by probe_best_level(): no global -march flag, so one build runs on any x86-64;
 *  - aligned loads (aligned = 1): one unaligned load covers the head up to the first
 *    vector-aligned address, every load after it is aligned, and one unaligned load of
 *    the last vector covers the tail. NumPy's large arrays usually start 16 bytes past
 *    a 64-byte line, where every unaligned 64-byte load would straddle two lines, and a
 *    kernel that aligns its loads would beat a probe that does not. With aligned = 0
 *    the loads start at buf as it is: from DRAM, on Zen 4, that streams a few percent
 *    faster than aligned loads, so the benchmark times both and takes the faster;
 *  - 8 independent integer accumulators: integer adds have 1-cycle latency and are
 *    associative, so the loop is bound by loads, not by an add chain.
 *
 * `reps` re-reads of the same buffer, like the benchmark's repeated calls on one
 * array, so small buffers measure the cache level they fit in.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PROBE_NACC 8

/* Levels, narrowest first; the Python side names them by index. */
enum { PROBE_GENERIC = 0, PROBE_SSE2 = 1, PROBE_AVX2 = 2, PROBE_AVX512 = 3 };

/*
 * One read loop per vector type V (a GCC / Clang vector extension of 64-bit lanes).
 * A macro rather than a shared inline function: each copy must be compiled for its
 * own target, and vector arguments between functions of different targets change ABI.
 */
#define PROBE_BODY(V)                                                                   \
    const size_t W = sizeof(V);                                                         \
    uint64_t total = 0;                                                                 \
    for (size_t r = 0; r < reps; r++) {                                                 \
        const unsigned char *p = (const unsigned char *)buf;                            \
        const unsigned char *end = p + nbytes;                                          \
        uint64_t s = 0;                                                                 \
        V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0}; \
        if (aligned && nbytes >= W) {                                                   \
            /* head: one unaligned load, then on from the next aligned address */       \
            V h;                                                                        \
            memcpy(&h, p, W);                                                           \
            a1 += h;                                                                    \
            p = (const unsigned char *)(((uintptr_t)p + W) & ~(uintptr_t)(W - 1));      \
        }                                                                               \
        while ((size_t)(end - p) >= PROBE_NACC * W) {                                   \
            /* memcpy: one vector load, aligned or not as p is */                       \
            V v0, v1, v2, v3, v4, v5, v6, v7;                                           \
            memcpy(&v0, p, W);                                                          \
            memcpy(&v1, p + W, W);                                                      \
            memcpy(&v2, p + 2 * W, W);                                                  \
            memcpy(&v3, p + 3 * W, W);                                                  \
            memcpy(&v4, p + 4 * W, W);                                                  \
            memcpy(&v5, p + 5 * W, W);                                                  \
            memcpy(&v6, p + 6 * W, W);                                                  \
            memcpy(&v7, p + 7 * W, W);                                                  \
            a0 += v0;                                                                   \
            a1 += v1;                                                                   \
            a2 += v2;                                                                   \
            a3 += v3;                                                                   \
            a4 += v4;                                                                   \
            a5 += v5;                                                                   \
            a6 += v6;                                                                   \
            a7 += v7;                                                                   \
            p += PROBE_NACC * W;                                                        \
        }                                                                               \
        while ((size_t)(end - p) >= W) {                                                \
            V v;                                                                        \
            memcpy(&v, p, W);                                                           \
            a0 += v;                                                                    \
            p += W;                                                                     \
        }                                                                               \
        if (p < end && nbytes >= W) {                                                   \
            /* tail: one unaligned load of the last W bytes (re-reads a few) */         \
            V t;                                                                        \
            memcpy(&t, end - W, W);                                                     \
            a2 += t;                                                                    \
            p = end;                                                                    \
        }                                                                               \
        V a = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));                        \
        for (size_t i = 0; i < W / sizeof(uint64_t); i++)                               \
            s += a[i];                                                                  \
        for (; end - p >= 8; p += 8) { /* buffers shorter than one vector */            \
            uint64_t w;                                                                 \
            memcpy(&w, p, 8);                                                           \
            s += w;                                                                     \
        }                                                                               \
        while (p < end)                                                                 \
            s += *p++;                                                                  \
        total += s;                                                                     \
        /* the buffer "may have changed": forces a real re-read on every rep */         \
        __asm__ __volatile__("" : "+r"(total) : : "memory");                            \
    }                                                                                   \
    return total;

typedef uint64_t probe_v16 __attribute__((vector_size(16), may_alias));

static uint64_t read_generic(int aligned, const void *buf, size_t nbytes, size_t reps)
{
    PROBE_BODY(probe_v16)
}

#if defined(__x86_64__) || defined(__i386__)
#define PROBE_X86 1
typedef uint64_t probe_v32 __attribute__((vector_size(32), may_alias));
typedef uint64_t probe_v64 __attribute__((vector_size(64), may_alias));

__attribute__((target("sse2"))) static uint64_t read_sse2(int aligned, const void *buf,
                                                          size_t nbytes, size_t reps)
{
    PROBE_BODY(probe_v16)
}

__attribute__((target("avx2"))) static uint64_t read_avx2(int aligned, const void *buf,
                                                          size_t nbytes, size_t reps)
{
    PROBE_BODY(probe_v32)
}

__attribute__((target("avx512f"))) static uint64_t read_avx512(int aligned, const void *buf,
                                                              size_t nbytes, size_t reps)
{
    PROBE_BODY(probe_v64)
}
#endif

/* The widest level this CPU (and OS: __builtin_cpu_supports checks XGETBV) runs. */
int probe_best_level(void)
{
#ifdef PROBE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return PROBE_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return PROBE_AVX2;
    if (__builtin_cpu_supports("sse2"))
        return PROBE_SSE2;
#endif
    return PROBE_GENERIC;
}

/* Bytes per load at a level, 0 if this build has no such level. */
int probe_load_bytes(int level)
{
    switch (level) {
    case PROBE_GENERIC:
        return 16;
#ifdef PROBE_X86
    case PROBE_SSE2:
        return 16;
    case PROBE_AVX2:
        return 32;
    case PROBE_AVX512:
        return 64;
#endif
    default:
        return 0;
    }
}

int probe_accumulators(void) { return PROBE_NACC; }

/* Read buf (nbytes) reps times at a level, with loads aligned to their width or at
   buf's own alignment; the caller checks the CPU has the level. */
uint64_t probe_read(int level, int aligned, const void *buf, size_t nbytes, size_t reps)
{
    switch (level) {
#ifdef PROBE_X86
    case PROBE_SSE2:
        return read_sse2(aligned, buf, nbytes, reps);
    case PROBE_AVX2:
        return read_avx2(aligned, buf, nbytes, reps);
    case PROBE_AVX512:
        return read_avx512(aligned, buf, nbytes, reps);
#endif
    default:
        return read_generic(aligned, buf, nbytes, reps);
    }
}
