/*
 * fr_sse2.c - SSE2 kernels: the x86-64 baseline, for CPUs without AVX2.
 *
 * Reproduces the canonical algorithm of fr_internal.h bit for bit: the 32
 * logical float64 lanes are 16 xmm registers of 2 doubles; element i of a
 * block goes to register (i % 32) / 2, position i % 2. float32 input is
 * summed in the same lanes: 2 floats at a time are read with one 8-byte
 * load and widened exactly by cvtps2pd (fr_internal.h says why float64).
 * x86-64 has only 16 xmm registers, and legacy-SSE arithmetic cannot take
 * an unaligned memory operand, so 16 accumulators plus a load register do
 * not fit. A block is therefore read in passes over a subset of the lanes:
 * 2 passes of 8 accumulators (lanes 0-15, 16-31) for one sum, 4 passes of
 * 4 + 4 accumulators (8 lanes each) with both sums on. Each pass reads its
 * own slice of every 32-element group (float64: 128 or 64 of 256 bytes;
 * float32: 64 or 32 of 128 bytes), so memory is read once (the slices of a
 * block stay in L1 between passes anyway). The float32 gradient has no
 * sums and runs in float32, one pass of 16 registers of 4 floats.
 *
 * Tails: whole vectors, then one partial vector assembled from 1-3 scalar
 * loads (the missing elements are +0, which adds exactly nothing to a
 * lane) and stored back in 2/1-element pieces. Nothing past n is read or
 * written.
 *
 * SSE2 has no blendv and no FMA: selects are and/andnot/or, and every
 * product is rounded on its own. No target attribute is needed: SSE2 is
 * part of x86-64. float16 is converted with integer SIMD (see below).
 */
#include "fr_internal.h"

#ifdef FR_ARCH_X86_64
#include <emmintrin.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FR_INLINE static inline __attribute__((always_inline))
#else
#define FR_INLINE static __forceinline
#endif

#define G32  64         /* float32 elements per gradient group: 16 registers */
#define G64  FR_LANES64 /* float64 lanes: 16 registers */
#define NREG 16         /* registers per group */

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
 * a*v. For ordered non-zero v (v < 0 or v > 0) that is a with v's sign bit
 * xor-ed in (-a is a sign flip in C too); everything else gets a*v.
 */
FR_INLINE __m128 sgn_ps(__m128 v, __m128 va)
{
    __m128 z = _mm_setzero_ps();
    __m128 flip = _mm_xor_ps(va, _mm_and_ps(v, sign_ps()));
    __m128 nz = _mm_or_ps(_mm_cmplt_ps(v, z), _mm_cmpgt_ps(v, z));
    return _mm_or_ps(_mm_and_ps(nz, flip), _mm_andnot_ps(nz, _mm_mul_ps(va, v)));
}

FR_INLINE __m128d sgn_pd(__m128d v, __m128d va)
{
    __m128d z = _mm_setzero_pd();
    __m128d flip = _mm_xor_pd(va, _mm_and_pd(v, sign_pd()));
    __m128d nz = _mm_or_pd(_mm_cmplt_pd(v, z), _mm_cmpgt_pd(v, z));
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
 * copysign(max(|v| - t, 0), v) [/ d]. maxps returns its second operand
 * when either is NaN, so max(0, m) keeps a NaN m as fr_scalar.c's pos32
 * does; for m = -0 it gives -0 where pos32 gives +0, which copysign then
 * overwrites anyway. Division, not a reciprocal.
 */
FR_INLINE __m128 prox_ps(__m128 v, __m128 vt, __m128 vd, int flags)
{
    if (flags & FR_ABS) {
        __m128 m = _mm_max_ps(_mm_setzero_ps(), _mm_sub_ps(abs_ps(v), vt));
        v = _mm_or_ps(_mm_andnot_ps(sign_ps(), m), _mm_and_ps(sign_ps(), v));
    }
    if (flags & FR_SQ)
        v = _mm_div_ps(v, vd);
    return v;
}

FR_INLINE __m128d prox_pd(__m128d v, __m128d vt, __m128d vd, int flags)
{
    if (flags & FR_ABS) {
        __m128d m = _mm_max_pd(_mm_setzero_pd(), _mm_sub_pd(abs_pd(v), vt));
        v = _mm_or_pd(_mm_andnot_pd(sign_pd(), m), _mm_and_pd(sign_pd(), v));
    }
    if (flags & FR_SQ)
        v = _mm_div_pd(v, vd);
    return v;
}

/* S[j..j+1] += L[j..j+1]: the block flush of fr_internal.h. */
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

/* ---- one pass over a block: sums and/or gradient ---------------------- */

/* float32 gradient (no sums: those are taken in float64 by pass_wide). */
FR_INLINE void pass_f32(const float *x, float *out, size_t n, int flags, float a, float b)
{
    __m128 va = _mm_set1_ps(a), vb = _mm_set1_ps(b);
    const int f = 0, c = NREG, sums = 0, grad = 1;
    fr_lanes *s = NULL;
    FR_PASS(__m128, 4, G32, _mm_setzero_ps(), _mm_loadu_ps, load_part_ps, _mm_storeu_ps,
            store_part_ps, _mm_add_ps, _mm_mul_ps, abs_ps, grad_ps, FR_NO_FLUSH, FR_NO_PREFETCH);
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

/* float32 sums in the float64 lanes: registers f .. f+c-1 of each group. */
FR_INLINE void pass_wide(const float *x, size_t n, int f, int c, int sums, fr_lanes *s)
{
    __m128d va = _mm_setzero_pd(), vb = va;
    const int grad = 0, flags = 0;
    float *out = NULL;
    FR_PASS(__m128d, 2, G64, _mm_setzero_pd(), load_wide, load_wide_part, FR_NO_STORE,
            FR_NO_STORE_PART, _mm_add_pd, _mm_mul_pd, abs_pd, grad_pd, flush_pd, FR_NO_PREFETCH);
}

FR_INLINE void pass_f64(const double *x, double *out, size_t n, int f, int c, int sums, int grad,
                        int flags, double a, double b, fr_lanes *s)
{
    __m128d va = _mm_set1_pd(a), vb = _mm_set1_pd(b);
    FR_PASS(__m128d, 2, G64, _mm_setzero_pd(), _mm_loadu_pd, load_part_pd, _mm_storeu_pd,
            store_part_pd, _mm_add_pd, _mm_mul_pd, abs_pd, grad_pd, flush_pd, FR_NO_PREFETCH);
}

/* The whole block: as many passes as it takes to keep at most 8
   accumulators live (see the top of the file). */
#define FR_BLOCK_PASSES(PASS)                                                                      \
    do {                                                                                           \
        if ((sums & FR_ABS) && (sums & FR_SQ)) {                                                   \
            PASS(x, out, n, 0, 4, sums, grad, flags, a, b, s);                                     \
            PASS(x, out, n, 4, 4, sums, grad, flags, a, b, s);                                     \
            PASS(x, out, n, 8, 4, sums, grad, flags, a, b, s);                                     \
            PASS(x, out, n, 12, 4, sums, grad, flags, a, b, s);                                    \
        } else if (sums) {                                                                         \
            PASS(x, out, n, 0, 8, sums, grad, flags, a, b, s);                                     \
            PASS(x, out, n, 8, 8, sums, grad, flags, a, b, s);                                     \
        } else {                                                                                   \
            PASS(x, out, n, 0, 16, sums, grad, flags, a, b, s);                                    \
        }                                                                                          \
    } while (0)

/* float32 sums: the passes of FR_BLOCK_PASSES with sums on. */
FR_INLINE void block_wide(const float *x, size_t n, int sums, fr_lanes *s)
{
    if ((sums & FR_ABS) && (sums & FR_SQ)) {
        pass_wide(x, n, 0, 4, sums, s);
        pass_wide(x, n, 4, 4, sums, s);
        pass_wide(x, n, 8, 4, sums, s);
        pass_wide(x, n, 12, 4, sums, s);
    } else {
        pass_wide(x, n, 0, 8, sums, s);
        pass_wide(x, n, 8, 8, sums, s);
    }
}

FR_INLINE void block_f64(const double *x, double *out, size_t n, int sums, int grad, int flags,
                         double a, double b, fr_lanes *s)
{
    FR_BLOCK_PASSES(pass_f64);
}

/* ---- table entries ---------------------------------------------------- */

static void sum_f32(const float *x, size_t n, int what, fr_lanes *s)
{
    switch (what & (FR_ABS | FR_SQ)) {
    case FR_ABS:
        block_wide(x, n, FR_ABS, s);
        break;
    case FR_SQ:
        block_wide(x, n, FR_SQ, s);
        break;
    case FR_ABS | FR_SQ:
        block_wide(x, n, FR_ABS | FR_SQ, s);
        break;
    default:
        break;
    }
}

static void sum_f64(const double *x, size_t n, int what, fr_lanes *s)
{
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

/* Lane 0 after folding the 2 lanes of v: l0 + l1. */
FR_INLINE double hsum_pd(__m128d v)
{
    return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v)));
}

static void tiny_f32(const float *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(__m128d, 2, _mm_setzero_pd(), load_wide, load_wide_part, _mm_add_pd, _mm_mul_pd, abs_pd,
            hsum_pd);
}

static void tiny_f64(const double *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(__m128d, 2, _mm_setzero_pd(), _mm_loadu_pd, load_part_pd, _mm_add_pd, _mm_mul_pd,
            abs_pd, hsum_pd);
}

static void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags, fr_lanes *s)
{
    FR_GRAD_F32_BODY
}

static void grad_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                     fr_lanes *s)
{
    FR_GRAD_SWITCH(block_f64);
}

/* Element-wise: 8 registers per iteration, single vectors, one partial. */
FR_INLINE void prox_run_f32(const float *x, float *out, size_t n, float t, float d, int flags)
{
    __m128 vt = _mm_set1_ps(t), vd = _mm_set1_ps(d);
    size_t i = 0;
    int k;
    for (; i + 32 <= n; i += 32) {
        FR_UNROLL
        for (k = 0; k < 8; k++)
            _mm_storeu_ps(out + i + 4 * k, prox_ps(_mm_loadu_ps(x + i + 4 * k), vt, vd, flags));
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(out + i, prox_ps(_mm_loadu_ps(x + i), vt, vd, flags));
    if (i < n)
        store_part_ps(out + i, prox_ps(load_part_ps(x + i, n - i), vt, vd, flags), n - i);
}

FR_INLINE void prox_run_f64(const double *x, double *out, size_t n, double t, double d, int flags)
{
    __m128d vt = _mm_set1_pd(t), vd = _mm_set1_pd(d);
    size_t i = 0;
    int k;
    for (; i + 16 <= n; i += 16) {
        FR_UNROLL
        for (k = 0; k < 8; k++)
            _mm_storeu_pd(out + i + 2 * k, prox_pd(_mm_loadu_pd(x + i + 2 * k), vt, vd, flags));
    }
    for (; i + 2 <= n; i += 2)
        _mm_storeu_pd(out + i, prox_pd(_mm_loadu_pd(x + i), vt, vd, flags));
    if (i < n)
        store_part_pd(out + i, prox_pd(load_part_pd(x + i, n - i), vt, vd, flags), n - i);
}

static void prox_f32(const float *x, float *out, size_t n, float t, float d, int flags)
{
    FR_PROX_SWITCH(prox_run_f32);
}

static void prox_f64(const double *x, double *out, size_t n, double t, double d, int flags)
{
    FR_PROX_SWITCH(prox_run_f64);
}

/* ---- float16 ---------------------------------------------------------- */

/*
 * SSE2 has no float16 instructions (F16C comes with the AVX2 level), so the
 * conversions are integer bit manipulation, 8 values at a time, with the
 * exact results of fr_h2f / fr_f2h (the C tests compare all 65536 halves and
 * every rounding boundary).
 */

/* 4 halves (zero-extended in 32-bit lanes) -> 4 floats. Normal numbers
   re-bias the exponent; inf/NaN get exponent 255 (NaN made quiet, payload
   kept); zeros and subnormals are renormalised by one exact float
   subtraction (m * 2^-24 = (2^-14 + m * 2^-24) - 2^-14), which no rounding
   mode or FTZ/DAZ setting can change: every value involved is normal. */
FR_INLINE __m128 h2f4(__m128i h)
{
    const __m128i z = _mm_setzero_si128();
    __m128i em = _mm_and_si128(h, _mm_set1_epi32(0x7fff));
    __m128i sign = _mm_slli_epi32(_mm_xor_si128(h, em), 16);
    __m128i e = _mm_and_si128(em, _mm_set1_epi32(0x7c00));
    __m128i infnan = _mm_cmpeq_epi32(e, _mm_set1_epi32(0x7c00));
    __m128i zsub = _mm_cmpeq_epi32(e, z);
    __m128i nan = _mm_cmpgt_epi32(em, _mm_set1_epi32(0x7c00));
    __m128i o = _mm_add_epi32(_mm_slli_epi32(em, 13), _mm_set1_epi32(112 << 23));
    __m128 sub;
    o = _mm_add_epi32(o, _mm_and_si128(infnan, _mm_set1_epi32(112 << 23)));
    o = _mm_or_si128(o, _mm_and_si128(nan, _mm_set1_epi32(0x00400000)));
    sub = _mm_sub_ps(_mm_castsi128_ps(_mm_add_epi32(o, _mm_set1_epi32(1 << 23))),
                     _mm_castsi128_ps(_mm_set1_epi32(113 << 23)));
    o = _mm_or_si128(_mm_andnot_si128(zsub, o), _mm_and_si128(zsub, _mm_castps_si128(sub)));
    return _mm_castsi128_ps(_mm_or_si128(o, sign));
}

/* 4 floats -> 4 halves in the low 16 bits of 32-bit lanes, sign-extended
   (ready for packs_epi32). Normal halves round to nearest even with an
   integer add (the classic +0xfff + odd bit); >= 2^16, inf and NaN (quiet,
   top payload bits kept) and < 2^-25 (+-0) are selected. Results that are
   float16 subnormals are left to the caller: *slow is set. */
FR_INLINE __m128i f2h4(__m128 f, int *slow)
{
    __m128i u = _mm_castps_si128(f);
    __m128i a = _mm_and_si128(u, _mm_set1_epi32(0x7fffffff));
    __m128i sign = _mm_and_si128(_mm_srli_epi32(u, 16), _mm_set1_epi32(0x8000));
    __m128i odd = _mm_and_si128(_mm_srli_epi32(a, 13), _mm_set1_epi32(1));
    __m128i r = _mm_add_epi32(a, _mm_set1_epi32(0xfff - (112 << 23))); /* re-bias, round */
    __m128i ovf = _mm_cmpgt_epi32(a, _mm_set1_epi32(0x477fffff));      /* >= 2^16 */
    __m128i isnan = _mm_cmpgt_epi32(a, _mm_set1_epi32(0x7f800000));
    __m128i tiny = _mm_cmpgt_epi32(_mm_set1_epi32(102 << 23), a);  /* < 2^-25: +-0 */
    __m128i small = _mm_cmpgt_epi32(_mm_set1_epi32(113 << 23), a); /* < 2^-14 */
    __m128i special = _mm_or_si128(
        _mm_set1_epi32(0x7c00),
        _mm_and_si128(isnan,
                      _mm_or_si128(_mm_set1_epi32(0x200),
                                   _mm_and_si128(_mm_srli_epi32(a, 13), _mm_set1_epi32(0x3ff)))));
    r = _mm_srli_epi32(_mm_add_epi32(r, odd), 13);
    r = _mm_or_si128(_mm_andnot_si128(ovf, r), _mm_and_si128(ovf, special));
    r = _mm_andnot_si128(tiny, r);
    *slow |= _mm_movemask_epi8(_mm_andnot_si128(tiny, small));
    r = _mm_or_si128(r, sign);
    return _mm_srai_epi32(_mm_slli_epi32(r, 16), 16);
}

static void f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    const __m128i z = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_storeu_ps(dst + i, h2f4(_mm_unpacklo_epi16(h, z)));
        _mm_storeu_ps(dst + i + 4, h2f4(_mm_unpackhi_epi16(h, z)));
    }
    for (; i < n; i++)
        dst[i] = fr_h2f(src[i]);
}

static void f32_to_f16(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
    int j;
    for (; i + 8 <= n; i += 8) {
        int slow = 0;
        __m128i lo = f2h4(_mm_loadu_ps(src + i), &slow);
        __m128i hi = f2h4(_mm_loadu_ps(src + i + 4), &slow);
        _mm_storeu_si128((__m128i *)(dst + i), _mm_packs_epi32(lo, hi));
        if (slow) /* a float16 subnormal result: the portable rounding */
            for (j = 0; j < 8; j++)
                dst[i + j] = fr_f2h(src[i + j]);
    }
    for (; i < n; i++)
        dst[i] = fr_f2h(src[i]);
}

const struct fr_kernels fr_kernels_sse2 = {
    "sse2",   sum_f32,  sum_f64,  tiny_f32,   tiny_f64,   grad_f32,
    grad_f64, prox_f32, prox_f64, f16_to_f32, f32_to_f16,
};

#else /* !FR_ARCH_X86_64 */
typedef int fr_sse2_unused; /* ISO C forbids an empty translation unit */
#endif
