/*
 * fr_sse2.c - SSE2 kernels: the x86-64 baseline, for CPUs without AVX2.
 *
 * Reproduces the canonical algorithm of fr_contract.h bit for bit: the 32
 * logical float64 lanes are 16 xmm registers of 2 doubles; element i of a
 * block goes to register (i % 32) / 2, position i % 2. float32 input is
 * summed in the same lanes: 2 floats at a time are read with one 8-byte
 * load and widened exactly by cvtps2pd (fr_contract.h says why float64).
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
#include "fr_kernel_abi.h"

#ifdef FR_ARCH_X86_64
#include "fr_float16.h"
#include "fr_fused.h"
#include "fr_instantiate.h"
#include "fr_sse2_ops.h"

#define G32  64         /* float32 elements per gradient group: 16 registers */
#define G64  FR_LANES64 /* float64 lanes: 16 registers */
#define NREG 16         /* registers per group */

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

/* float64 sums: block_f64 without a gradient. */
FR_INLINE void sum_block_f64(const double *x, size_t n, int sums, fr_lanes *s)
{
    block_f64(x, NULL, n, sums, 0, 0, 0.0, 0.0, s);
}

static void sum_f32(const float *x, size_t n, int what, fr_lanes *s)
{
    FR_SUM_SWITCH(block_wide);
}

static void sum_f64(const double *x, size_t n, int what, fr_lanes *s)
{
    FR_SUM_SWITCH(sum_block_f64);
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

/* value_and_gradient of 1 .. FR_LANES64 elements (FR_TINY_GRAD). */
#define TINY_GRAD_RUN_F32(FL)                                                                      \
    FR_TINY_GRAD_RUN(__m128, 4, _mm_set1_ps, _mm_loadu_ps, load_part_ps, _mm_storeu_ps,            \
                     store_part_ps, _mm_add_ps, grad_ps, FL)
#define TINY_GRAD_RUN_F64(FL)                                                                      \
    FR_TINY_GRAD_RUN(__m128d, 2, _mm_set1_pd, _mm_loadu_pd, load_part_pd, _mm_storeu_pd,           \
                     store_part_pd, _mm_add_pd, grad_pd, FL)

static void tiny_grad_f32(const float *x, float *out, size_t n, float a, float b, int flags,
                          int what, double *sa, double *ss)
{
    FR_TINY_GRAD(tiny_f32, TINY_GRAD_RUN_F32);
}

static void tiny_grad_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                          int what, double *sa, double *ss)
{
    FR_TINY_GRAD(tiny_f64, TINY_GRAD_RUN_F64);
}

/*
 * The gradient with the value fused into the same pass (FR_FUSED of
 * fr_fused.h with FR_VALUE): vector k of a group goes to lane register
 * (R*k) % 16, for float32 its high half into the next one. No rotation
 * (q = 0): NumPy's data is 16-byte aligned, so a 16-byte load never splits
 * a cache line.
 *
 * The 32 lanes take all 16 xmm registers per sum, so this pass keeps lane
 * accumulators on the stack, a load and a store per lane update (GCC: all
 * 32 with both sums, 7 of 16 for float64 with l1 alone), where the passes of
 * block_f64 / block_wide over a subset of the lanes keep theirs in
 * registers. Measured on Zen 4 (the kernel table block by block, old and
 * fused calls alternated, median of the paired ratios fused/old; L1L2 with
 * value, with and without accumulate, l1 or l2 alone):
 *   float64, FR_ABS on: 4096 1.04-1.12, 65536 0.96-1.05, 1M 0.99-1.01,
 *     16M 0.94-1.08
 *   float64, FR_SQ alone: 0.84-0.99 in cache (no sign select, so only 2
 *     of the 16 lanes spill), 1.00 at 1M, 0.97 at 16M
 *   float32, FR_ABS on: 1.15-1.3 up to 1M, 0.96-1.13 at 16M
 *   float32, FR_SQ alone: 0.91-1.09 in cache, 1.00-1.01 at 1M and 16M
 * So it runs only where it is not slower: float64 with l2 alone, and on
 * streaming arrays (FR_STREAM) float64 and float32 with l2 alone, where
 * reading x and out as one stream instead of 2-4 passes over parts of
 * each group breaks even; otherwise the passes stay. (Python timings of
 * value_and_gradient on the 2-vCPU test machine are too noisy, +-15 % or
 * more between rounds, to resolve differences this small.)
 */
FR_INLINE void fused_f32(const float *x, float *out, size_t n, float a, float b, int FL,
                         fr_lanes *s)
{
    __m128 va = _mm_set1_ps(a), vb = _mm_set1_ps(b);
    const size_t q = 0;
    FR_FUSED(__m128, __m128d, 2, 2, float, _mm_setzero_pd(), _mm_loadu_ps, _mm_storeu_ps,
             load_range_ps, store_range_ps, wlo_pd, whi_pd, _mm_add_pd, _mm_mul_pd, abs_pd,
             _mm_loadu_pd, _mm_storeu_pd, _mm_add_ps, grad_ps, flush_pd);
}

FR_INLINE void fused_f64(const double *x, double *out, size_t n, double a, double b, int FL,
                         fr_lanes *s)
{
    __m128d va = _mm_set1_pd(a), vb = _mm_set1_pd(b);
    const size_t q = 0;
    FR_FUSED(__m128d, __m128d, 1, 2, double, _mm_setzero_pd(), _mm_loadu_pd, _mm_storeu_pd,
             load_range_pd, store_range_pd, FR_SAME, FR_SAME, _mm_add_pd, _mm_mul_pd, abs_pd,
             _mm_loadu_pd, _mm_storeu_pd, _mm_add_pd, grad_pd, flush_pd);
}

static void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags, fr_lanes *s)
{
    /* Fused only for l2 alone on a streaming array (see above). */
    if ((flags & (FR_VALUE | FR_STREAM | FR_ABS | FR_SQ)) == (FR_VALUE | FR_STREAM | FR_SQ)) {
        if (flags & FR_ACC)
            fused_f32(x, out, n, a, b, FR_VALUE | FR_ACC | FR_SQ, s);
        else
            fused_f32(x, out, n, a, b, FR_VALUE | FR_SQ, s);
        return;
    }
    FR_GRAD_F32_BODY
}

static void grad_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                     fr_lanes *s)
{
    /* Fused on a streaming array or for l2 alone (see above). */
    if ((flags & FR_VALUE) && ((flags & FR_STREAM) || (flags & (FR_ABS | FR_SQ)) == FR_SQ)) {
        FR_FUSED_VALUE_SWITCH(fused_f64);
        return;
    }
    FR_GRAD_SWITCH(block_f64);
}

/* Element-wise: 8 registers per iteration, single vectors, one partial. */
FR_INLINE void prox_run_f32(const float *x, float *out, size_t n, float t, float r, int flags)
{
    FR_PROX_RUN(__m128, 4, 8, _mm_set1_ps, _mm_loadu_ps, load_part_ps, _mm_storeu_ps, store_part_ps,
                prox_ps);
}

FR_INLINE void prox_run_f64(const double *x, double *out, size_t n, double t, double r, int flags)
{
    FR_PROX_RUN(__m128d, 2, 8, _mm_set1_pd, _mm_loadu_pd, load_part_pd, _mm_storeu_pd,
                store_part_pd, prox_pd);
}

static void prox_f32(const float *x, float *out, size_t n, float t, float r, int flags)
{
    FR_PROX_SWITCH(prox_run_f32);
}

static void prox_f64(const double *x, double *out, size_t n, double t, double r, int flags)
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

/* ---- the training steps (fr_update.h) --------------------------------- */

/* Included here, at the end, beside the only code that uses it (and away
   from the gradient code above). 4 registers per iteration. */
#include "fr_update.h"

FR_UPDATE_KERNELS(, 4, FR_UPD_NO_HEAD, sum_f32, __m128, 4, _mm_set1_ps, _mm_loadu_ps, _mm_storeu_ps,
                  _mm_add_ps, _mm_sub_ps, _mm_mul_ps, grad_ps, prox_ps, sum_f64, __m128d, 2,
                  _mm_set1_pd, _mm_loadu_pd, _mm_storeu_pd, _mm_add_pd, _mm_sub_pd, _mm_mul_pd,
                  grad_pd, prox_pd)

const struct fr_kernels fr_kernels_sse2 = {
    .name = "sse2",
    .sum_f32 = sum_f32,
    .sum_f64 = sum_f64,
    .tiny_f32 = tiny_f32,
    .tiny_f64 = tiny_f64,
    .grad_f32 = grad_f32,
    .grad_f64 = grad_f64,
    .tiny_grad_f32 = tiny_grad_f32,
    .tiny_grad_f64 = tiny_grad_f64,
    .prox_f32 = prox_f32,
    .prox_f64 = prox_f64,
    .f16_to_f32 = f16_to_f32,
    .f32_to_f16 = f32_to_f16,
    .sgd_f32 = fr_upd_sgd_f32,
    .sgd_f64 = fr_upd_sgd_f64,
    .pgd_f32 = fr_upd_pgd_f32,
    .pgd_f64 = fr_upd_pgd_f64,
};

#else /* !FR_ARCH_X86_64 */
typedef int fr_sse2_unused; /* ISO C forbids an empty translation unit */
#endif
