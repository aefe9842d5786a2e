/*
 * fr_avx2_ops.h - the vector operations fr_avx2.c builds its kernels from:
 * element operations (abs, a*sign, the gradient and prox terms, the lane
 * flush, the final lane fold) and partial vectors, on __m256 / __m256d.
 * Every one is compiled for the AVX2 target; included by fr_avx2.c only.
 */
#ifndef FR_AVX2_OPS_H
#define FR_AVX2_OPS_H

/* Intrinsics headers come before any target region (simdjson's rule). */
#include <immintrin.h>

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

/* AVX2 and F16C, deliberately without "fma" (see fr_avx2.c: no product may
   be fused). MSVC needs no flag for intrinsics. */
#if defined(__GNUC__) || defined(__clang__)
#define FR_TARGET __attribute__((target("avx2,f16c")))
#else
#define FR_TARGET
#endif

/* ---- element operations --------------------------------------------- */

FR_INLINE FR_TARGET __m256 abs_ps(__m256 v)
{
    return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}

FR_INLINE FR_TARGET __m256d abs_pd(__m256d v)
{
    return _mm256_and_pd(v, _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL)));
}

FR_INLINE FR_TARGET __m256 sign_ps(void)
{
    return _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
}

FR_INLINE FR_TARGET __m256d sign_pd(void)
{
    return _mm256_castsi256_pd(_mm256_set1_epi64x((long long)0x8000000000000000ULL));
}

/*
 * a*sign(v) as fr_scalar.c's sgn32: v > 0 -> a, v < 0 -> -a, +-0 and NaN ->
 * a*v. For ordered non-zero v that is a with v's sign bit xor-ed in (-a is a
 * sign flip in C too); NEQ_OQ (ordered and not equal to 0) picks it, and
 * every other v gets the product a*v.
 */
FR_INLINE FR_TARGET __m256 sgn_ps(__m256 v, __m256 va)
{
    __m256 flip = _mm256_xor_ps(va, _mm256_and_ps(v, sign_ps()));
    __m256 nz = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(va, v), flip, nz);
}

FR_INLINE FR_TARGET __m256d sgn_pd(__m256d v, __m256d va)
{
    __m256d flip = _mm256_xor_pd(va, _mm256_and_pd(v, sign_pd()));
    __m256d nz = _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_NEQ_OQ);
    return _mm256_blendv_pd(_mm256_mul_pd(va, v), flip, nz);
}

/* The gradient terms of fr_scalar.c: both, l1 only, else l2 only. */
FR_INLINE FR_TARGET __m256 grad_ps(__m256 v, __m256 va, __m256 vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return _mm256_add_ps(sgn_ps(v, va), _mm256_mul_ps(vb, v));
    if (flags & FR_ABS)
        return sgn_ps(v, va);
    return _mm256_mul_ps(vb, v);
}

FR_INLINE FR_TARGET __m256d grad_pd(__m256d v, __m256d va, __m256d vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return _mm256_add_pd(sgn_pd(v, va), _mm256_mul_pd(vb, v));
    if (flags & FR_ABS)
        return sgn_pd(v, va);
    return _mm256_mul_pd(vb, v);
}

/*
 * copysign(max(|v| - t, 0), v) [* r]. vmaxps returns its second operand
 * when either is NaN, so max(0, m) keeps a NaN m as fr_scalar.c's pos32
 * does; for m = -0 it gives -0 where pos32 gives +0, which copysign then
 * overwrites anyway. r is the rounded reciprocal of d (fr_kernel_abi.h):
 * a plain product, as fr_scalar.c's, never an approximate reciprocal.
 */
FR_INLINE FR_TARGET __m256 prox_ps(__m256 v, __m256 vt, __m256 vr, int flags)
{
    if (flags & FR_ABS) {
        __m256 m = _mm256_max_ps(_mm256_setzero_ps(), _mm256_sub_ps(abs_ps(v), vt));
        v = _mm256_or_ps(_mm256_andnot_ps(sign_ps(), m), _mm256_and_ps(sign_ps(), v));
    }
    if (flags & FR_SQ)
        v = _mm256_mul_ps(v, vr);
    return v;
}

FR_INLINE FR_TARGET __m256d prox_pd(__m256d v, __m256d vt, __m256d vr, int flags)
{
    if (flags & FR_ABS) {
        __m256d m = _mm256_max_pd(_mm256_setzero_pd(), _mm256_sub_pd(abs_pd(v), vt));
        v = _mm256_or_pd(_mm256_andnot_pd(sign_pd(), m), _mm256_and_pd(sign_pd(), v));
    }
    if (flags & FR_SQ)
        v = _mm256_mul_pd(v, vr);
    return v;
}

/* S[j..j+3] += L[j..j+3]: the block flush of fr_contract.h. */
FR_INLINE FR_TARGET void flush_pd(double *dst, __m256d acc)
{
    _mm256_storeu_pd(dst, _mm256_add_pd(_mm256_loadu_pd(dst), acc));
}

/* ---- partial vectors -------------------------------------------------- */

/* The first r (1 .. 7) floats at p, the rest +0; masked-off elements are
   neither read nor able to fault. */
FR_INLINE FR_TARGET __m256 load_part_ps(const float *p, size_t r)
{
    __m256i m =
        _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_ps(p, m);
}

FR_INLINE FR_TARGET __m256d load_part_pd(const double *p, size_t r)
{
    __m256i m =
        _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)r), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_maskload_pd(p, m);
}

/* Store the first r (1 .. 7) floats of v. */
FR_INLINE FR_TARGET void store_part_ps(float *o, __m256 v, size_t r)
{
    __m128 h = _mm256_castps256_ps128(v);
    if (r & 4) {
        _mm_storeu_ps(o, h);
        h = _mm256_extractf128_ps(v, 1);
        o += 4;
    }
    if (r & 2) {
        _mm_storel_pi((__m64 *)o, h);
        h = _mm_movehl_ps(h, h);
        o += 2;
    }
    if (r & 1)
        _mm_store_ss(o, h);
}

/* Store the first r (1 .. 3) doubles of v. */
FR_INLINE FR_TARGET void store_part_pd(double *o, __m256d v, size_t r)
{
    __m128d h = _mm256_castpd256_pd128(v);
    if (r & 2) {
        _mm_storeu_pd(o, h);
        h = _mm256_extractf128_pd(v, 1);
        o += 2;
    }
    if (r & 1)
        _mm_store_sd(o, h);
}

/* 4 floats widened exactly to the 4 doubles of a lane register; the first
   r (1 .. 3) of them, the rest +0, neither read nor able to fault. */
FR_INLINE FR_TARGET __m256d load_wide(const float *p)
{
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}

FR_INLINE FR_TARGET __m256d load_wide_part(const float *p, size_t r)
{
    __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32((int)r), _mm_setr_epi32(0, 1, 2, 3));
    return _mm256_cvtps_pd(_mm_maskload_ps(p, m));
}

/* Lane 0 after folding the 4 lanes of v by halves: (l0 + l2) + (l1 + l3). */
FR_INLINE FR_TARGET double hsum_pd(__m256d v)
{
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

#endif /* FR_AVX2_OPS_H */
