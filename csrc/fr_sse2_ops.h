/*
 * fr_sse2_ops.h - the vector operations fr_sse2.c builds its kernels from:
 * element operations (abs, a*sign, the gradient and prox terms, the lane
 * flush, the final lane fold) and partial vectors, on __m128 / __m128d.
 * SSE2 is part of x86-64: no target attribute. Included by fr_sse2.c only.
 */
#ifndef FR_SSE2_OPS_H
#define FR_SSE2_OPS_H

#include <emmintrin.h>
#include <stddef.h>

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

/* ---- element operations --------------------------------------------- */

FR_INLINE __m128 sign_ps(void)
{
    return _mm_castsi128_ps(_mm_set1_epi32((int)0x80000000u));
}

FR_INLINE __m128d sign_pd(void)
{
    return _mm_castsi128_pd(_mm_set1_epi64x((long long)0x8000000000000000ULL));
}

FR_INLINE __m128 abs_ps(__m128 v)
{
    return _mm_andnot_ps(sign_ps(), v);
}
FR_INLINE __m128d abs_pd(__m128d v)
{
    return _mm_andnot_pd(sign_pd(), v);
}

/*
 * a*sign(v) as fr_scalar.c's sgn32: v > 0 -> a, v < 0 -> -a, +-0 and NaN ->
 * a*v. For ordered non-zero v (0 < |v|: false for +-0 and NaN, the same
 * test as v < 0 or v > 0 in one compare, with the |v| the fused kernels
 * compute for their sums anyway) that is a with v's sign bit xor-ed in (-a
 * is a sign flip in C too); everything else gets a*v.
 */
FR_INLINE __m128 sgn_ps(__m128 v, __m128 va)
{
    __m128 flip = _mm_xor_ps(va, _mm_and_ps(v, sign_ps()));
    __m128 nz = _mm_cmplt_ps(_mm_setzero_ps(), abs_ps(v));
    return _mm_or_ps(_mm_and_ps(nz, flip), _mm_andnot_ps(nz, _mm_mul_ps(va, v)));
}

FR_INLINE __m128d sgn_pd(__m128d v, __m128d va)
{
    __m128d flip = _mm_xor_pd(va, _mm_and_pd(v, sign_pd()));
    __m128d nz = _mm_cmplt_pd(_mm_setzero_pd(), abs_pd(v));
    return _mm_or_pd(_mm_and_pd(nz, flip), _mm_andnot_pd(nz, _mm_mul_pd(va, v)));
}

/* The gradient terms of fr_scalar.c: both, l1 only, else l2 only. */
FR_INLINE __m128 grad_ps(__m128 v, __m128 va, __m128 vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return _mm_add_ps(sgn_ps(v, va), _mm_mul_ps(vb, v));
    if (flags & FR_ABS)
        return sgn_ps(v, va);
    return _mm_mul_ps(vb, v);
}

FR_INLINE __m128d grad_pd(__m128d v, __m128d va, __m128d vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return _mm_add_pd(sgn_pd(v, va), _mm_mul_pd(vb, v));
    if (flags & FR_ABS)
        return sgn_pd(v, va);
    return _mm_mul_pd(vb, v);
}

/*
 * copysign(max(|v| - t, 0), v) [* r]. maxps returns its second operand
 * when either is NaN, so max(0, m) keeps a NaN m as fr_scalar.c's pos32
 * does; for m = -0 it gives -0 where pos32 gives +0, which copysign then
 * overwrites anyway. r is the rounded reciprocal of d (fr_kernel_abi.h):
 * a plain product, as fr_scalar.c's, never an approximate reciprocal.
 */
FR_INLINE __m128 prox_ps(__m128 v, __m128 vt, __m128 vr, int flags)
{
    if (flags & FR_ABS) {
        __m128 m = _mm_max_ps(_mm_setzero_ps(), _mm_sub_ps(abs_ps(v), vt));
        v = _mm_or_ps(_mm_andnot_ps(sign_ps(), m), _mm_and_ps(sign_ps(), v));
    }
    if (flags & FR_SQ)
        v = _mm_mul_ps(v, vr);
    return v;
}

FR_INLINE __m128d prox_pd(__m128d v, __m128d vt, __m128d vr, int flags)
{
    if (flags & FR_ABS) {
        __m128d m = _mm_max_pd(_mm_setzero_pd(), _mm_sub_pd(abs_pd(v), vt));
        v = _mm_or_pd(_mm_andnot_pd(sign_pd(), m), _mm_and_pd(sign_pd(), v));
    }
    if (flags & FR_SQ)
        v = _mm_mul_pd(v, vr);
    return v;
}

/* S[j..j+1] += L[j..j+1]: the block flush of fr_contract.h. */
FR_INLINE void flush_pd(double *dst, __m128d acc)
{
    _mm_storeu_pd(dst, _mm_add_pd(_mm_loadu_pd(dst), acc));
}

/* ---- partial vectors -------------------------------------------------- */

/* The first r (1 .. 3) floats at p, the rest +0. (__m64 is may_alias, so
   the 2-float load is not a strict-aliasing violation.) */
FR_INLINE __m128 load_part_ps(const float *p, size_t r)
{
    __m128 lo;
    if (r == 1)
        return _mm_load_ss(p);
    lo = _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)p);
    return r == 2 ? lo : _mm_movelh_ps(lo, _mm_load_ss(p + 2));
}

FR_INLINE __m128d load_part_pd(const double *p, size_t r)
{
    (void)r; /* always 1 */
    return _mm_load_sd(p);
}

FR_INLINE void store_part_ps(float *o, __m128 v, size_t r)
{
    if (r & 2) {
        _mm_storel_pi((__m64 *)o, v);
        v = _mm_movehl_ps(v, v);
        o += 2;
    }
    if (r & 1)
        _mm_store_ss(o, v);
}

FR_INLINE void store_part_pd(double *o, __m128d v, size_t r)
{
    (void)r; /* always 1 */
    _mm_store_sd(o, v);
}

/* 2 floats widened exactly to the 2 doubles of a lane register: an 8-byte
   load (movlps through the may_alias __m64, no alignment needed); the
   partial one (r is always 1) reads 1 float and leaves the other lane +0. */
FR_INLINE __m128d load_wide(const float *p)
{
    return _mm_cvtps_pd(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)p));
}

FR_INLINE __m128d load_wide_part(const float *p, size_t r)
{
    (void)r; /* always 1 */
    return _mm_cvtps_pd(_mm_load_ss(p));
}

/*
 * The masked loads and stores of FR_FUSED (fr_fused.h): the positions lo ..
 * hi-1 of one vector (clamped to the vector), +0 at the others, and only
 * those stored. SSE2 has no masked moves: a vector that is not whole is
 * assembled from, and stored in, single elements. Only the partial first
 * and last group of a block get here, and their whole vectors are one plain
 * load / store. (A copy through a stack buffer works too, but GCC expands
 * its variable-length memcpy into every specialised kernel: the SSE2
 * float64 kernel with both sums was twice the code, same main loop.)
 */
#define FR_IN(k, lo, hi) ((lo) <= (k) && (k) < (hi))

FR_INLINE __m128 load_range_ps(const float *p, ptrdiff_t lo, ptrdiff_t hi)
{
    __m128 z = _mm_setzero_ps(), e0, e1, e2, e3;
    if (lo <= 0 && hi >= 4)
        return _mm_loadu_ps(p);
    e0 = FR_IN(0, lo, hi) ? _mm_load_ss(p) : z;
    e1 = FR_IN(1, lo, hi) ? _mm_load_ss(p + 1) : z;
    e2 = FR_IN(2, lo, hi) ? _mm_load_ss(p + 2) : z;
    e3 = FR_IN(3, lo, hi) ? _mm_load_ss(p + 3) : z;
    return _mm_movelh_ps(_mm_unpacklo_ps(e0, e1), _mm_unpacklo_ps(e2, e3));
}

FR_INLINE __m128d load_range_pd(const double *p, ptrdiff_t lo, ptrdiff_t hi)
{
    __m128d v = _mm_setzero_pd();
    if (lo <= 0 && hi >= 2)
        return _mm_loadu_pd(p);
    if (FR_IN(0, lo, hi))
        v = _mm_load_sd(p);
    if (FR_IN(1, lo, hi))
        v = _mm_loadh_pd(v, p + 1);
    return v;
}

FR_INLINE void store_range_ps(float *p, __m128 v, ptrdiff_t lo, ptrdiff_t hi)
{
    if (lo <= 0 && hi >= 4) {
        _mm_storeu_ps(p, v);
        return;
    }
    if (FR_IN(0, lo, hi))
        _mm_store_ss(p, v);
    if (FR_IN(1, lo, hi))
        _mm_store_ss(p + 1, _mm_shuffle_ps(v, v, 1));
    if (FR_IN(2, lo, hi))
        _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
    if (FR_IN(3, lo, hi))
        _mm_store_ss(p + 3, _mm_shuffle_ps(v, v, 3));
}

FR_INLINE void store_range_pd(double *p, __m128d v, ptrdiff_t lo, ptrdiff_t hi)
{
    if (lo <= 0 && hi >= 2) {
        _mm_storeu_pd(p, v);
        return;
    }
    if (FR_IN(0, lo, hi))
        _mm_storel_pd(p, v);
    if (FR_IN(1, lo, hi))
        _mm_storeh_pd(p + 1, v);
}

/* The low / high 2 floats of v, widened exactly to float64 (cvtps2pd). */
FR_INLINE __m128d wlo_pd(__m128 v)
{
    return _mm_cvtps_pd(v);
}

FR_INLINE __m128d whi_pd(__m128 v)
{
    return _mm_cvtps_pd(_mm_movehl_ps(v, v));
}

/* Lane 0 after folding the 2 lanes of v: l0 + l1. */
FR_INLINE double hsum_pd(__m128d v)
{
    return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v)));
}

#endif /* FR_SSE2_OPS_H */
