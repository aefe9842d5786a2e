/*
 * fr_dispatch.c - picks the kernel table at run time.
 *
 * Modelled on xxHash's xxh_x86dispatch.c: cpuid says what the CPU has, and
 * XGETBV says whether the OS saves the wide registers on a context switch
 * (a CPU with AVX2 under an OS that does not enable YMM state must not run
 * AVX2 code). This file is compiled with the baseline flags only: the wide
 * code lives in fr_avx2.c / fr_avx512.c behind per-function target
 * attributes, and nothing here may be auto-vectorised beyond the baseline.
 */
#include "fr_kernel_abi.h"

#include <string.h>

#if defined(FR_ARCH_X86_64) && (defined(__AVX__) || defined(__AVX2__) || defined(__AVX512F__))
#error "fr_dispatch.c must be compiled without -mavx* / -march flags"
#endif

static const char *const isa_names[FR_ISA_COUNT] = {"scalar", "sse2", "avx2", "avx512", "neon"};

static const struct fr_kernels *const isa_tables[FR_ISA_COUNT] = {
    &fr_kernels_scalar,
#ifdef FR_ARCH_X86_64
    &fr_kernels_sse2,   &fr_kernels_avx2, &fr_kernels_avx512, NULL,
#elif defined(FR_ARCH_ARM64)
    NULL,
    NULL,
    NULL,
    &fr_kernels_neon,
#else
    NULL,
    NULL,
    NULL,
    NULL,
#endif
};

/* The active table. Written by fr_init / fr_isa_set (import time, or tests),
   only read by the kernels' callers. */
static const struct fr_kernels *active_table = NULL;
static int active_isa = FR_ISA_SCALAR;
static unsigned detected_mask = 0;

#ifdef FR_ARCH_X86_64
#if defined(_MSC_VER)
#include <intrin.h>
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    int a[4];
    __cpuidex(a, (int)leaf, (int)sub);
    r[0] = (unsigned)a[0];
    r[1] = (unsigned)a[1];
    r[2] = (unsigned)a[2];
    r[3] = (unsigned)a[3];
}
static unsigned long long xgetbv0(void)
{
    return _xgetbv(0);
}
#else
#include <cpuid.h>
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    /* the raw opcode of xgetbv: assemblers without it still build */
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

/* cpuid leaf 1 ECX bits */
#define B1_FMA     (1u << 12)
#define B1_OSXSAVE (1u << 27)
#define B1_AVX     (1u << 28)
#define B1_F16C    (1u << 29)
/* cpuid leaf 7 EBX bits */
#define B7_AVX2    (1u << 5)
#define B7_AVX512F (1u << 16)
/* XCR0: SSE (bit 1) + AVX (bit 2) state; opmask + ZMM0-15 high + ZMM16-31 (bits 5-7) */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xe0u

static unsigned detect(void)
{
    unsigned r[4], max_leaf, ecx1, ebx7 = 0, mask;
    unsigned long long xcr0 = 0;
    mask = (1u << FR_ISA_SCALAR) | (1u << FR_ISA_SSE2); /* SSE2 is part of x86-64 */
    cpuid(0, 0, r);
    max_leaf = r[0];
    if (max_leaf < 1)
        return mask;
    cpuid(1, 0, r);
    ecx1 = r[2];
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        ebx7 = r[1];
    }
    if (!(ecx1 & B1_OSXSAVE)) /* the OS does not use XSAVE: no wide registers */
        return mask;
    xcr0 = xgetbv0();
    if ((xcr0 & XCR0_YMM) != XCR0_YMM)
        return mask;
    /* "avx2" = AVX2 + FMA + F16C (the x86-64-v3 bundle the kernels may use) */
    if ((ecx1 & B1_AVX) && (ecx1 & B1_FMA) && (ecx1 & B1_F16C) && (ebx7 & B7_AVX2))
        mask |= 1u << FR_ISA_AVX2;
    else
        return mask;
#if defined(__APPLE__)
    /* macOS enables AVX-512 state lazily, so XCR0 under-reports it until
       first use; fastreg does not guess and stays on AVX2 there. */
    (void)B7_AVX512F;
#else
    if ((ebx7 & B7_AVX512F) && (xcr0 & XCR0_ZMM) == XCR0_ZMM)
        mask |= 1u << FR_ISA_AVX512;
#endif
    return mask;
}
#elif defined(FR_ARCH_ARM64)
static unsigned detect(void)
{
    return (1u << FR_ISA_SCALAR) | (1u << FR_ISA_NEON);
}
#else
static unsigned detect(void)
{
    return 1u << FR_ISA_SCALAR;
}
#endif

const char *fr_isa_name(int isa)
{
    return isa >= 0 && isa < FR_ISA_COUNT ? isa_names[isa] : NULL;
}

int fr_isa_from_name(const char *name)
{
    int i;
    for (i = 0; name && i < FR_ISA_COUNT; i++)
        if (strcmp(name, isa_names[i]) == 0)
            return i;
    return -1;
}

unsigned fr_isa_compiled(void)
{
    unsigned m = 0;
    int i;
    for (i = 0; i < FR_ISA_COUNT; i++)
        if (isa_tables[i])
            m |= 1u << i;
    return m;
}

unsigned fr_isa_detected(void)
{
    if (!detected_mask)
        detected_mask = detect();
    return detected_mask;
}

static int best_available(void)
{
    unsigned m = fr_isa_detected() & fr_isa_compiled();
    int i, best = FR_ISA_SCALAR;
    for (i = 0; i < FR_ISA_COUNT; i++)
        if (m & (1u << i))
            best = i;
    return best;
}

int fr_isa_set(int isa)
{
    int prev = fr_isa_active();
    if (isa < 0 || isa >= FR_ISA_COUNT || !((fr_isa_detected() & fr_isa_compiled()) >> isa & 1u))
        return -1;
    active_isa = isa;
    active_table = isa_tables[isa];
    return prev;
}

int fr_init(const char *cap)
{
    int isa = best_available();
    if (cap && *cap) {
        int want = fr_isa_from_name(cap);
        if (want < 0)
            return FR_EARG;
        if (!((fr_isa_detected() & fr_isa_compiled()) >> want & 1u))
            return FR_EDTYPE; /* known, but this CPU/build cannot run it */
        isa = want;
    }
    active_isa = isa;
    active_table = isa_tables[isa];
    return FR_OK;
}

int fr_isa_active(void)
{
    if (!active_table)
        fr_init(NULL);
    return active_isa;
}

const struct fr_kernels *fr_active(void)
{
    if (!active_table)
        fr_init(NULL);
    return active_table;
}
