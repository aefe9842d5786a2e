/*
 * fr_avx512.c - AVX-512F kernels (Skylake-SP and later, Zen 4).
 *
 * Reproduces the canonical algorithm of fr_internal.h bit for bit: the 32
 * logical float64 lanes are 4 zmm registers of 8 doubles; element i of a
 * block goes to register (i % 32) / 8, position i % 8. float32 input is
 * widened 8 floats at a time (vcvtps2pd zmm from a 32-byte load, exact)
 * into the same lanes, so its sums are those of the widened float64 block;
 * one conversion per 8 elements is the price of float64 accuracy
 * (fr_internal.h). The float32 gradient and prox stay in float32 (16 per
 * zmm).
 * The 32 lanes make 4 accumulators per sum, and both sums fit in one pass
 * (8 of the 32 zmm registers). Four dependency chains cannot saturate two add
 * ports with a 4-cycle latency, so in L1 this level runs at about one add
 * per cycle; more chains would change which elements share a lane, i.e. the
 * bits. From L2 outwards memory is the limit anyway.
 *
 * Only AVX-512F is used (no DQ/BW/VL, so detection needs only the F bit and
 * the ZMM state in XCR0): bitwise float operations go through the integer
 * forms, and a masked float32 tail is a 512-bit masked load whose low half
 * is widened (a 256-bit masked load would need VL).
 *
 * Tails: whole vectors, then one masked load (masked-off lanes load +0,
 * which adds exactly nothing to a lane) and one masked store. Masked
 * elements are neither read nor written and cannot fault. The float64 sums
 * of a misaligned x use aligned loads with rotated lanes (see below); the
 * float32 sums read 32 bytes per conversion with plain unaligned loads
 * (from NumPy's 16-byte aligned data at most every other one splits a cache
 * line, where every 64-byte load of a misaligned x would).
 *
 * No FMA: every product is rounded on its own (mul, then add). AVX-512F
 * includes FMA instructions, so this file relies on -ffp-contract=off (set
 * by setup.py and the test scripts; the C tests would catch a contraction).
 * float16 uses the exact AVX-512F vcvtph2ps / vcvtps2ph (immediate 0: round
 * to nearest even whatever MXCSR says).
 *
 * FR_SIMDE_EMU (tools/avx512_emu.sh only): compile the same code against
 * SIMDe's portable implementation of the intrinsics, to test it on a CPU
 * without AVX-512. That checks the use of the intrinsics, not the hardware.
 */
#include "fr_internal.h"

#ifdef FR_SIMDE_EMU
/* SIMDe 0.7.4 maps _mm512_* to portable C. It lacks the few intrinsics
   below, which are defined here with the same semantics, element by
   element (masked elements are never touched). */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <string.h>
typedef simde__mmask8 __mmask8;
typedef simde__mmask16 __mmask16;
static __m512 fr_emu_maskz_loadu_ps(__mmask16 k, const void *p)
{
    float v[16];
    int i;
    for (i = 0; i < 16; i++)
        v[i] = (k >> i & 1) ? ((const float *)p)[i] : 0.0f;
    return _mm512_loadu_ps(v);
}
static __m512d fr_emu_maskz_loadu_pd(__mmask8 k, const void *p)
{
    double v[8];
    int i;
    for (i = 0; i < 8; i++)
        v[i] = (k >> i & 1) ? ((const double *)p)[i] : 0.0;
    return _mm512_loadu_pd(v);
}
static void fr_emu_mask_storeu_ps(void *p, __mmask16 k, __m512 a)
{
    float v[16];
    int i;
    _mm512_storeu_ps(v, a);
    for (i = 0; i < 16; i++)
        if (k >> i & 1)
            ((float *)p)[i] = v[i];
}
static void fr_emu_mask_storeu_pd(void *p, __mmask8 k, __m512d a)
{
    double v[8];
    int i;
    _mm512_storeu_pd(v, a);
    for (i = 0; i < 8; i++)
        if (k >> i & 1)
            ((double *)p)[i] = v[i];
}
static __m512d fr_emu_cvtps_pd(__m256 a) /* exact, element by element */
{
    float f[8];
    double v[8];
    int i;
    _mm256_storeu_ps(f, a);
    for (i = 0; i < 8; i++)
        v[i] = (double)f[i];
    return _mm512_loadu_pd(v);
}
static __m512 fr_emu_cvtph_ps(__m256i h) /* two F16C halves, SIMDe's */
{
    __m256 lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    __m256 hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}
static __m256i fr_emu_cvtps_ph(__m512 v)
{
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm256_insertf128_si256(_mm256_castsi128_si256(_mm256_cvtps_ph(lo, 0)),
                                   _mm256_cvtps_ph(hi, 0), 1);
}
/* (SIMDe pulls in <immintrin.h>, whose own definitions these replace.) */
#undef _mm512_maskz_loadu_ps
#undef _mm512_maskz_loadu_pd
#undef _mm512_mask_storeu_ps
#undef _mm512_mask_storeu_pd
#undef _mm512_cvtps_pd
#undef _mm512_cvtph_ps
#undef _mm512_cvtps_ph
#define _mm512_maskz_loadu_ps   fr_emu_maskz_loadu_ps
#define _mm512_maskz_loadu_pd   fr_emu_maskz_loadu_pd
#define _mm512_mask_storeu_ps   fr_emu_mask_storeu_ps
#define _mm512_mask_storeu_pd   fr_emu_mask_storeu_pd
#define _mm512_cvtps_pd         fr_emu_cvtps_pd
#define _mm512_cvtph_ps         fr_emu_cvtph_ps
#define _mm512_cvtps_ph(v, imm) fr_emu_cvtps_ph(v)
#define FR_ARCH_X86_64_EMU      1
#endif

#if defined(FR_ARCH_X86_64) || defined(FR_ARCH_X86_64_EMU)
#ifndef FR_SIMDE_EMU
/* Intrinsics headers come before any target region (simdjson's rule). */
#include <immintrin.h>
#include <string.h>
#endif

#if defined(FR_SIMDE_EMU)
#define FR_TARGET /* portable C: no target */
#define FR_INLINE static inline __attribute__((always_inline))
#elif defined(__GNUC__) || defined(__clang__)
#define FR_TARGET __attribute__((target("avx512f")))
#define FR_INLINE static inline __attribute__((always_inline))
#else /* MSVC: intrinsics need no flag */
#define FR_TARGET
#define FR_INLINE static __forceinline
#endif

#define G32  64         /* float32 elements per gradient group: 4 registers */
#define G64  FR_LANES64 /* float64 lanes: 4 registers */
#define NREG 4          /* registers per group */

/* ---- element operations --------------------------------------------- */

/* Bitwise float operations through the AVX-512F integer forms (the _ps /
   _pd forms need AVX-512DQ). */
FR_INLINE FR_TARGET __m512 and_ps(__m512 a, __m512i m)
{
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), m));
}

FR_INLINE FR_TARGET __m512d and_pd(__m512d a, __m512i m)
{
    return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a), m));
}

FR_INLINE FR_TARGET __m512 xor_ps(__m512 a, __m512 b)
{
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}

FR_INLINE FR_TARGET __m512d xor_pd(__m512d a, __m512d b)
{
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a), _mm512_castpd_si512(b)));
}

/* copysign(m, v): the magnitude of m, the sign of v. */
FR_INLINE FR_TARGET __m512 copysign_ps(__m512 m, __m512 v)
{
    __m512i sm = _mm512_set1_epi32((int)0x80000000u);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(sm, _mm512_castps_si512(m)),
                                               _mm512_and_si512(sm, _mm512_castps_si512(v))));
}

FR_INLINE FR_TARGET __m512d copysign_pd(__m512d m, __m512d v)
{
    __m512i sm = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    return _mm512_castsi512_pd(_mm512_or_si512(_mm512_andnot_si512(sm, _mm512_castpd_si512(m)),
                                               _mm512_and_si512(sm, _mm512_castpd_si512(v))));
}

FR_INLINE FR_TARGET __m512 abs_ps(__m512 v)
{
    return and_ps(v, _mm512_set1_epi32(0x7fffffff));
}

FR_INLINE FR_TARGET __m512d abs_pd(__m512d v)
{
    return and_pd(v, _mm512_set1_epi64(0x7fffffffffffffffLL));
}

/*
 * a*sign(v) as fr_scalar.c's sgn32: v > 0 -> a, v < 0 -> -a, +-0 and NaN ->
 * a*v. For ordered non-zero v that is a with v's sign bit xor-ed in (-a is a
 * sign flip in C too); the NEQ_OQ mask (ordered and not equal to 0) picks
 * it, and every other v gets the product a*v.
 */
FR_INLINE FR_TARGET __m512 sgn_ps(__m512 v, __m512 va)
{
    __m512 flip = xor_ps(va, and_ps(v, _mm512_set1_epi32((int)0x80000000u)));
    __mmask16 nz = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_OQ);
    return _mm512_mask_blend_ps(nz, _mm512_mul_ps(va, v), flip);
}

FR_INLINE FR_TARGET __m512d sgn_pd(__m512d v, __m512d va)
{
    __m512d flip = xor_pd(va, and_pd(v, _mm512_set1_epi64((long long)0x8000000000000000ULL)));
    __mmask8 nz = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_NEQ_OQ);
    return _mm512_mask_blend_pd(nz, _mm512_mul_pd(va, v), flip);
}

/* The gradient terms of fr_scalar.c: both, l1 only, else l2 only. */
FR_INLINE FR_TARGET __m512 grad_ps(__m512 v, __m512 va, __m512 vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return _mm512_add_ps(sgn_ps(v, va), _mm512_mul_ps(vb, v));
    if (flags & FR_ABS)
        return sgn_ps(v, va);
    return _mm512_mul_ps(vb, v);
}

FR_INLINE FR_TARGET __m512d grad_pd(__m512d v, __m512d va, __m512d vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return _mm512_add_pd(sgn_pd(v, va), _mm512_mul_pd(vb, v));
    if (flags & FR_ABS)
        return sgn_pd(v, va);
    return _mm512_mul_pd(vb, v);
}

/*
 * copysign(max(|v| - t, 0), v) [/ d]. vmaxps returns its second operand
 * when either is NaN, so max(0, m) keeps a NaN m as fr_scalar.c's pos32
 * does; for m = -0 it gives -0 where pos32 gives +0, which copysign then
 * overwrites anyway. Division, not a reciprocal.
 */
FR_INLINE FR_TARGET __m512 prox_ps(__m512 v, __m512 vt, __m512 vd, int flags)
{
    if (flags & FR_ABS)
        v = copysign_ps(_mm512_max_ps(_mm512_setzero_ps(), _mm512_sub_ps(abs_ps(v), vt)), v);
    if (flags & FR_SQ)
        v = _mm512_div_ps(v, vd);
    return v;
}

FR_INLINE FR_TARGET __m512d prox_pd(__m512d v, __m512d vt, __m512d vd, int flags)
{
    if (flags & FR_ABS)
        v = copysign_pd(_mm512_max_pd(_mm512_setzero_pd(), _mm512_sub_pd(abs_pd(v), vt)), v);
    if (flags & FR_SQ)
        v = _mm512_div_pd(v, vd);
    return v;
}

/* S[j..j+7] += L[j..j+7]: the block flush of fr_internal.h. */
FR_INLINE FR_TARGET void flush_pd(double *dst, __m512d acc)
{
    _mm512_storeu_pd(dst, _mm512_add_pd(_mm512_loadu_pd(dst), acc));
}

/* ---- partial vectors (masked) ----------------------------------------- */

FR_INLINE FR_TARGET __m512 load_part_ps(const float *p, size_t r)
{
    return _mm512_maskz_loadu_ps((__mmask16)((1u << r) - 1u), p);
}

FR_INLINE FR_TARGET __m512d load_part_pd(const double *p, size_t r)
{
    return _mm512_maskz_loadu_pd((__mmask8)((1u << r) - 1u), p);
}

FR_INLINE FR_TARGET void store_part_ps(float *o, __m512 v, size_t r)
{
    _mm512_mask_storeu_ps(o, (__mmask16)((1u << r) - 1u), v);
}

FR_INLINE FR_TARGET void store_part_pd(double *o, __m512d v, size_t r)
{
    _mm512_mask_storeu_pd(o, (__mmask8)((1u << r) - 1u), v);
}

/* ---- one pass over a block: sums and/or gradient ---------------------- */

/* float32 gradient (no sums: those are taken in float64 by pass_wide). */
FR_INLINE FR_TARGET void pass_f32(const float *x, float *out, size_t n, int flags, float a, float b)
{
    __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    const int f = 0, c = NREG, sums = 0, grad = 1;
    fr_lanes *s = NULL;
    FR_PASS(__m512, 16, G32, _mm512_setzero_ps(), _mm512_loadu_ps, load_part_ps, _mm512_storeu_ps,
            store_part_ps, _mm512_add_ps, _mm512_mul_ps, abs_ps, grad_ps, FR_NO_FLUSH,
            FR_NO_PREFETCH);
}

/* 8 floats widened exactly to the 8 doubles of a lane register; the first
   r (1 .. 7) of them, the rest +0, neither read nor able to fault (a
   512-bit masked load: the 256-bit one needs AVX-512VL). */
FR_INLINE FR_TARGET __m512d load_wide(const float *p)
{
    return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}

FR_INLINE FR_TARGET __m512d load_wide_part(const float *p, size_t r)
{
    return _mm512_cvtps_pd(_mm512_castps512_ps256(load_part_ps(p, r)));
}

/* float32 sums in the float64 lanes (4 + 4 accumulators: one pass). */
FR_INLINE FR_TARGET void pass_wide(const float *x, size_t n, int sums, fr_lanes *s)
{
    __m512d va = _mm512_setzero_pd(), vb = va;
    const int f = 0, c = NREG, grad = 0, flags = 0;
    float *out = NULL;
    FR_PASS(__m512d, 8, G64, _mm512_setzero_pd(), load_wide, load_wide_part, FR_NO_STORE,
            FR_NO_STORE_PART, _mm512_add_pd, _mm512_mul_pd, abs_pd, grad_pd, flush_pd,
            FR_NO_PREFETCH);
}

FR_INLINE FR_TARGET void pass_f64(const double *x, double *out, size_t n, int f, int c, int sums,
                                  int grad, int flags, double a, double b, fr_lanes *s)
{
    __m512d va = _mm512_set1_pd(a), vb = _mm512_set1_pd(b);
    FR_PASS(__m512d, 8, G64, _mm512_setzero_pd(), _mm512_loadu_pd, load_part_pd, _mm512_storeu_pd,
            store_part_pd, _mm512_add_pd, _mm512_mul_pd, abs_pd, grad_pd, flush_pd, FR_NO_PREFETCH);
}

/* The whole block in one pass: at most 4 + 4 accumulators. */
FR_INLINE FR_TARGET void block_f64(const double *x, double *out, size_t n, int sums, int grad,
                                   int flags, double a, double b, fr_lanes *s)
{
    pass_f64(x, out, n, 0, NREG, sums, grad, flags, a, b, s);
}

/* ---- aligned loads for a misaligned x -------------------------------- */

/*
 * float64 sums. NumPy data is often only 16-byte aligned, and then every
 * 64-byte load splits a cache line (30-50 % slower at L2 sizes on Intel).
 * With q = the misalignment in elements, the block is read with aligned
 * loads from xa = x - q instead: element i lands in register
 * ((i + q) / W) % 4, position (i + q) % W. That is a fixed place for each
 * lane j = i % G (flat index (j + q) % G), so every lane still adds its own
 * elements in order, only held in a rotated place; the flush un-rotates.
 * The q elements before x and those past n are masked off (+0, never
 * read). Both sums fit (8 accumulators).
 */
FR_INLINE FR_TARGET __mmask8 range_pd(ptrdiff_t lo, ptrdiff_t hi)
{
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < 0 ? 0 : hi > 8 ? 8 : hi;
    return (__mmask8)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

FR_INLINE FR_TARGET __m512d mload_pd(const double *p, __mmask8 m)
{
    return _mm512_maskz_loadu_pd(m, p);
}

/* The sums (a constant) of a block whose x is misaligned by q (1 .. 7) doubles. */
FR_INLINE FR_TARGET void rot_f64(const double *x, size_t n, size_t q, int sums, fr_lanes *s)
{
    FR_ROT(__m512d, 8, G64, double, _mm512_setzero_pd(), _mm512_load_pd, mload_pd, range_pd,
           _mm512_storeu_pd, _mm512_loadu_pd, _mm512_add_pd, _mm512_mul_pd, abs_pd, flush_pd);
}

/* ---- table entries ---------------------------------------------------- */

/* float32: widened to float64 in the float64 lanes, no aligned-load path
   (see the top of the file). */
static FR_TARGET void sum_f32(const float *x, size_t n, int what, fr_lanes *s)
{
    switch (what & (FR_ABS | FR_SQ)) {
    case FR_ABS:
        pass_wide(x, n, FR_ABS, s);
        break;
    case FR_SQ:
        pass_wide(x, n, FR_SQ, s);
        break;
    case FR_ABS | FR_SQ:
        pass_wide(x, n, FR_ABS | FR_SQ, s);
        break;
    default:
        break;
    }
}

static FR_TARGET void sum_f64(const double *x, size_t n, int what, fr_lanes *s)
{
    uintptr_t addr = (uintptr_t)x;
    size_t q = (size_t)(addr / sizeof *x) % 8;
    if (q && addr % sizeof *x == 0) {
        switch (what & (FR_ABS | FR_SQ)) {
        case FR_ABS:
            rot_f64(x, n, q, FR_ABS, s);
            return;
        case FR_SQ:
            rot_f64(x, n, q, FR_SQ, s);
            return;
        case FR_ABS | FR_SQ:
            rot_f64(x, n, q, FR_ABS | FR_SQ, s);
            return;
        default:
            return;
        }
    }
    switch (what & (FR_ABS | FR_SQ)) {
    case FR_ABS:
        block_f64(x, NULL, n, FR_ABS, 0, 0, 0.0, 0.0, s);
        break;
    case FR_SQ:
        block_f64(x, NULL, n, FR_SQ, 0, 0, 0.0, 0.0, s);
        break;
    case FR_ABS | FR_SQ:
        block_f64(x, NULL, n, FR_ABS | FR_SQ, 0, 0, 0.0, 0.0, s);
        break;
    default:
        break;
    }
}

/* Lane 0 after folding the 8 lanes of v by halves: 4, then 2, then 1. */
FR_INLINE FR_TARGET double hsum_pd(__m512d v)
{
    __m256d q = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(q), _mm256_extractf128_pd(q, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

static FR_TARGET void tiny_f32(const float *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(__m512d, 8, _mm512_setzero_pd(), load_wide, load_wide_part, _mm512_add_pd,
            _mm512_mul_pd, abs_pd, hsum_pd);
}

static FR_TARGET void tiny_f64(const double *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(__m512d, 8, _mm512_setzero_pd(), _mm512_loadu_pd, load_part_pd, _mm512_add_pd,
            _mm512_mul_pd, abs_pd, hsum_pd);
}

static FR_TARGET void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags,
                               fr_lanes *s)
{
    FR_GRAD_F32_BODY
}

static FR_TARGET void grad_f64(const double *x, double *out, size_t n, double a, double b,
                               int flags, fr_lanes *s)
{
    FR_GRAD_SWITCH(block_f64);
}

/* Element-wise: 4 registers (64 floats) per iteration, single vectors,
   one masked partial vector. */
FR_INLINE FR_TARGET void prox_run_f32(const float *x, float *out, size_t n, float t, float d,
                                      int flags)
{
    __m512 vt = _mm512_set1_ps(t), vd = _mm512_set1_ps(d);
    size_t i = 0;
    int k;
    for (; i + G32 <= n; i += G32) {
        FR_UNROLL
        for (k = 0; k < NREG; k++)
            _mm512_storeu_ps(out + i + 16 * k,
                             prox_ps(_mm512_loadu_ps(x + i + 16 * k), vt, vd, flags));
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, prox_ps(_mm512_loadu_ps(x + i), vt, vd, flags));
    if (i < n)
        store_part_ps(out + i, prox_ps(load_part_ps(x + i, n - i), vt, vd, flags), n - i);
}

FR_INLINE FR_TARGET void prox_run_f64(const double *x, double *out, size_t n, double t, double d,
                                      int flags)
{
    __m512d vt = _mm512_set1_pd(t), vd = _mm512_set1_pd(d);
    size_t i = 0;
    int k;
    for (; i + G64 <= n; i += G64) {
        FR_UNROLL
        for (k = 0; k < NREG; k++)
            _mm512_storeu_pd(out + i + 8 * k,
                             prox_pd(_mm512_loadu_pd(x + i + 8 * k), vt, vd, flags));
    }
    for (; i + 8 <= n; i += 8)
        _mm512_storeu_pd(out + i, prox_pd(_mm512_loadu_pd(x + i), vt, vd, flags));
    if (i < n)
        store_part_pd(out + i, prox_pd(load_part_pd(x + i, n - i), vt, vd, flags), n - i);
}

static FR_TARGET void prox_f32(const float *x, float *out, size_t n, float t, float d, int flags)
{
    FR_PROX_SWITCH(prox_run_f32);
}

static FR_TARGET void prox_f64(const double *x, double *out, size_t n, double t, double d,
                               int flags)
{
    FR_PROX_SWITCH(prox_run_f64);
}

/* ---- float16 ------------------------------------------------------------ */

/* vcvtph2ps is exact and keeps NaN payloads (made quiet), as fr_h2f does;
   vcvtps2ph with immediate 0 rounds to nearest even whatever MXCSR says and
   keeps the top payload bits of a NaN, as fr_f2h does. The < 16 element
   tail uses those portable conversions. */
static FR_TARGET void f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    for (; i < n; i++)
        dst[i] = fr_h2f(src[i]);
}

static FR_TARGET void f32_to_f16(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        dst[i] = fr_f2h(src[i]);
}

const struct fr_kernels fr_kernels_avx512 = {
    "avx512", sum_f32,  sum_f64,  tiny_f32,   tiny_f64,   grad_f32,
    grad_f64, prox_f32, prox_f64, f16_to_f32, f32_to_f16,
};

#else /* neither x86-64 nor its emulation */
typedef int fr_avx512_unused; /* ISO C forbids an empty translation unit */
#endif
