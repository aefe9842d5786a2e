/*
 * fr_avx512_ops.h - the vector operations fr_avx512.c builds its kernels
 * from: element operations (bitwise float forms, abs, a*sign, the gradient
 * and prox terms, the lane flush, the final lane fold) and masked partial
 * vectors, on __m512 / __m512d. Every one is compiled for the AVX-512F
 * target (or, with FR_SIMDE_EMU, as SIMDe's portable C); included by
 * fr_avx512.c only.
 */
#ifndef FR_AVX512_OPS_H
#define FR_AVX512_OPS_H

#ifndef FR_SIMDE_EMU
/* Intrinsics headers come before any target region (simdjson's rule). */
#include <immintrin.h>
#endif

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

/* Only AVX-512F (see fr_avx512.c); MSVC needs no flag for intrinsics. */
#if defined(FR_SIMDE_EMU)
#define FR_TARGET /* portable C: no target */
#elif defined(__GNUC__) || defined(__clang__)
#define FR_TARGET __attribute__((target("avx512f")))
#else
#define FR_TARGET
#endif

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
 * sign flip in C too); the EQ_UQ mask (0 or unordered) picks the lanes that
 * get the product a*v instead, as one masked multiply (a multiply and a
 * blend were one more instruction on the busiest pipes of the fused
 * gradient).
 */
FR_INLINE FR_TARGET __m512 sgn_ps(__m512 v, __m512 va)
{
    __m512 flip = xor_ps(va, and_ps(v, _mm512_set1_epi32((int)0x80000000u)));
    __mmask16 z = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_EQ_UQ);
    return _mm512_mask_mul_ps(flip, z, va, v);
}

FR_INLINE FR_TARGET __m512d sgn_pd(__m512d v, __m512d va)
{
    __m512d flip = xor_pd(va, and_pd(v, _mm512_set1_epi64((long long)0x8000000000000000ULL)));
    __mmask8 z = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_EQ_UQ);
    return _mm512_mask_mul_pd(flip, z, va, v);
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
 * copysign(max(|v| - t, 0), v) [* r]. vmaxps returns its second operand
 * when either is NaN, so max(0, m) keeps a NaN m as fr_scalar.c's pos32
 * does; for m = -0 it gives -0 where pos32 gives +0, which copysign then
 * overwrites anyway. r is the rounded reciprocal of d (fr_kernel_abi.h):
 * a plain product, as fr_scalar.c's, never an approximate reciprocal.
 */
FR_INLINE FR_TARGET __m512 prox_ps(__m512 v, __m512 vt, __m512 vr, int flags)
{
    if (flags & FR_ABS)
        v = copysign_ps(_mm512_max_ps(_mm512_setzero_ps(), _mm512_sub_ps(abs_ps(v), vt)), v);
    if (flags & FR_SQ)
        v = _mm512_mul_ps(v, vr);
    return v;
}

FR_INLINE FR_TARGET __m512d prox_pd(__m512d v, __m512d vt, __m512d vr, int flags)
{
    if (flags & FR_ABS)
        v = copysign_pd(_mm512_max_pd(_mm512_setzero_pd(), _mm512_sub_pd(abs_pd(v), vt)), v);
    if (flags & FR_SQ)
        v = _mm512_mul_pd(v, vr);
    return v;
}

/* S[j..j+7] += L[j..j+7]: the block flush of fr_contract.h. */
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

/* Positions lo .. hi-1 of a vector (clamped to its width), for FR_FUSED:
   loaded with +0 at the others, or stored alone; masked-off elements are
   neither read nor written and cannot fault. */
FR_INLINE FR_TARGET unsigned range_bits(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t w)
{
    lo = lo < 0 ? 0 : lo > w ? w : lo;
    hi = hi < 0 ? 0 : hi > w ? w : hi;
    return ((1u << hi) - 1u) & ~((1u << lo) - 1u);
}

FR_INLINE FR_TARGET __m512 load_range_ps(const float *p, ptrdiff_t lo, ptrdiff_t hi)
{
    return _mm512_maskz_loadu_ps((__mmask16)range_bits(lo, hi, 16), p);
}

FR_INLINE FR_TARGET __m512d load_range_pd(const double *p, ptrdiff_t lo, ptrdiff_t hi)
{
    return _mm512_maskz_loadu_pd((__mmask8)range_bits(lo, hi, 8), p);
}

FR_INLINE FR_TARGET void store_range_ps(float *p, __m512 v, ptrdiff_t lo, ptrdiff_t hi)
{
    _mm512_mask_storeu_ps(p, (__mmask16)range_bits(lo, hi, 16), v);
}

FR_INLINE FR_TARGET void store_range_pd(double *p, __m512d v, ptrdiff_t lo, ptrdiff_t hi)
{
    _mm512_mask_storeu_pd(p, (__mmask8)range_bits(lo, hi, 8), v);
}

/* The low / high 8 floats of v, widened exactly to float64. */
FR_INLINE FR_TARGET __m512d wlo_pd(__m512 v)
{
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}

FR_INLINE FR_TARGET __m512d whi_pd(__m512 v)
{
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/* Lane 0 after folding the 8 lanes of v by halves: 4, then 2, then 1. */
FR_INLINE FR_TARGET double hsum_pd(__m512d v)
{
    __m256d q = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(q), _mm256_extractf128_pd(q, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

#endif /* FR_AVX512_OPS_H */
