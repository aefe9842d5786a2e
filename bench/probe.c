/*
 * bench/probe.c: the single-thread read-bandwidth ceiling for `python -m bench`.
 *
 * A plain streaming read of one buffer: unaligned vector loads into 8 independent
 * integer accumulators (integer adds have 1-cycle latency and are associative, so
 * the loop is bound by loads, not by an add chain, and no -ffast-math is needed).
 * `reps` re-reads of the same buffer, like the benchmark's repeated calls on one
 * array, so small buffers measure the cache level they fit in.
 *
 * Built by bench/_probe.py at run time with the system C compiler:
 *     cc -O3 -march=native -shared -fPIC probe.c
 * (GCC / Clang vector extensions; 64-byte vectors when AVX-512F is on, else 32.)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__)
#define PROBE_VBYTES 64
#else
#define PROBE_VBYTES 32
#endif
#define PROBE_NACC 8

typedef uint64_t probe_vec __attribute__((vector_size(PROBE_VBYTES)));

int probe_vector_bytes(void) { return PROBE_VBYTES; }
int probe_accumulators(void) { return PROBE_NACC; }

static inline probe_vec probe_load(const unsigned char *p)
{
    probe_vec v;
    memcpy(&v, p, sizeof v); /* compiles to one unaligned vector load */
    return v;
}

uint64_t probe_read(const void *buf, size_t nbytes, size_t reps)
{
    const size_t V = sizeof(probe_vec);
    uint64_t total = 0;
    for (size_t r = 0; r < reps; r++) {
        const unsigned char *p = (const unsigned char *)buf;
        size_t left = nbytes;
        probe_vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        probe_vec a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
        while (left >= PROBE_NACC * V) {
            a0 += probe_load(p);
            a1 += probe_load(p + V);
            a2 += probe_load(p + 2 * V);
            a3 += probe_load(p + 3 * V);
            a4 += probe_load(p + 4 * V);
            a5 += probe_load(p + 5 * V);
            a6 += probe_load(p + 6 * V);
            a7 += probe_load(p + 7 * V);
            p += PROBE_NACC * V;
            left -= PROBE_NACC * V;
        }
        while (left >= V) {
            a0 += probe_load(p);
            p += V;
            left -= V;
        }
        probe_vec a = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
        uint64_t s = 0;
        for (size_t i = 0; i < V / sizeof(uint64_t); i++)
            s += a[i];
        while (left >= sizeof(uint64_t)) {
            uint64_t w;
            memcpy(&w, p, sizeof w);
            s += w;
            p += sizeof w;
            left -= sizeof w;
        }
        while (left) {
            s += *p++;
            left--;
        }
        total += s;
        /* the buffer "may have changed": forces a real re-read on every rep */
        __asm__ __volatile__("" : "+r"(total) : : "memory");
    }
    return total;
}
