/*
 * fr_neon_ops.h - the vector operations fr_neon.c builds its kernels from:
 * element operations (a*sign, the gradient and prox terms, the lane flush,
 * the final lane fold) and partial vectors, on float32x4_t / float64x2_t.
 * NEON is part of AArch64: no target attribute. Included by fr_neon.c only.
 */
#ifndef FR_NEON_OPS_H
#define FR_NEON_OPS_H

#include <arm_neon.h>
#include <stddef.h>

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

/* ---- element operations --------------------------------------------- */

FR_INLINE uint32x4_t sign_u32(void)
{
    return vdupq_n_u32(0x80000000u);
}
FR_INLINE uint64x2_t sign_u64(void)
{
    return vdupq_n_u64(0x8000000000000000ull);
}

/*
 * a*sign(v) as fr_scalar.c's sgn32: v > 0 -> a, v < 0 -> -a, +-0 and NaN ->
 * a*v. For ordered non-zero v (|v| > 0, one FACGT against +0: false for +-0
 * and NaN, the same lanes as v > 0 or v < 0, which took three instructions)
 * that is a with v's sign bit xor-ed in (-a is a sign flip in C too);
 * everything else gets a*v.
 */
FR_INLINE float32x4_t sgn_ps(float32x4_t v, float32x4_t va)
{
    uint32x4_t sv = vandq_u32(vreinterpretq_u32_f32(v), sign_u32());
    float32x4_t flip = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(va), sv));
    uint32x4_t nz = vcagtq_f32(v, vdupq_n_f32(0.0f));
    return vbslq_f32(nz, flip, vmulq_f32(va, v));
}

FR_INLINE float64x2_t sgn_pd(float64x2_t v, float64x2_t va)
{
    uint64x2_t sv = vandq_u64(vreinterpretq_u64_f64(v), sign_u64());
    float64x2_t flip = vreinterpretq_f64_u64(veorq_u64(vreinterpretq_u64_f64(va), sv));
    uint64x2_t nz = vcagtq_f64(v, vdupq_n_f64(0.0));
    return vbslq_f64(nz, flip, vmulq_f64(va, v));
}

/* The gradient terms of fr_scalar.c: both, l1 only, else l2 only. */
FR_INLINE float32x4_t grad_ps(float32x4_t v, float32x4_t va, float32x4_t vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return vaddq_f32(sgn_ps(v, va), vmulq_f32(vb, v));
    if (flags & FR_ABS)
        return sgn_ps(v, va);
    return vmulq_f32(vb, v);
}

FR_INLINE float64x2_t grad_pd(float64x2_t v, float64x2_t va, float64x2_t vb, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return vaddq_f64(sgn_pd(v, va), vmulq_f64(vb, v));
    if (flags & FR_ABS)
        return sgn_pd(v, va);
    return vmulq_f64(vb, v);
}

/* copysign(max(|v| - t, 0), v) [* r]: FMAX keeps a NaN m (pos32 does too),
   the bit select takes the sign from v. r is the rounded reciprocal of d
   (fr_kernel_abi.h): a plain product, never FRECPE's estimate. */
FR_INLINE float32x4_t prox_ps(float32x4_t v, float32x4_t vt, float32x4_t vr, int flags)
{
    if (flags & FR_ABS) {
        float32x4_t m = vmaxq_f32(vdupq_n_f32(0.0f), vsubq_f32(vabsq_f32(v), vt));
        v = vbslq_f32(sign_u32(), v, m);
    }
    if (flags & FR_SQ)
        v = vmulq_f32(v, vr);
    return v;
}

FR_INLINE float64x2_t prox_pd(float64x2_t v, float64x2_t vt, float64x2_t vr, int flags)
{
    if (flags & FR_ABS) {
        float64x2_t m = vmaxq_f64(vdupq_n_f64(0.0), vsubq_f64(vabsq_f64(v), vt));
        v = vbslq_f64(sign_u64(), v, m);
    }
    if (flags & FR_SQ)
        v = vmulq_f64(v, vr);
    return v;
}

FR_INLINE float32x4_t mul_ps(float32x4_t a, float32x4_t b)
{
    return vmulq_f32(a, b);
}
FR_INLINE float64x2_t mul_pd(float64x2_t a, float64x2_t b)
{
    return vmulq_f64(a, b);
}

/* S[j..j+1] += L[j..j+1]: the block flush of fr_contract.h. */
FR_INLINE void flush_pd(double *dst, float64x2_t acc)
{
    vst1q_f64(dst, vaddq_f64(vld1q_f64(dst), acc));
}

/* ---- partial vectors -------------------------------------------------- */

/* The first r (1 .. 3) floats at p, the rest +0. */
FR_INLINE float32x4_t load_part_ps(const float *p, size_t r)
{
    float32x4_t v = vld1q_lane_f32(p, vdupq_n_f32(0.0f), 0);
    if (r > 1)
        v = vld1q_lane_f32(p + 1, v, 1);
    if (r > 2)
        v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}

FR_INLINE float64x2_t load_part_pd(const double *p, size_t r)
{
    (void)r; /* always 1 */
    return vld1q_lane_f64(p, vdupq_n_f64(0.0), 0);
}

FR_INLINE void store_part_ps(float *o, float32x4_t v, size_t r)
{
    vst1q_lane_f32(o, v, 0);
    if (r > 1)
        vst1q_lane_f32(o + 1, v, 1);
    if (r > 2)
        vst1q_lane_f32(o + 2, v, 2);
}

FR_INLINE void store_part_pd(double *o, float64x2_t v, size_t r)
{
    (void)r; /* always 1 */
    vst1q_lane_f64(o, v, 0);
}

/* 2 floats widened exactly to the 2 doubles of a lane register; for a
   partial one only the first (r is always 1), the other +0, never read. */
FR_INLINE float64x2_t load_wide(const float *p)
{
    return vcvt_f64_f32(vld1_f32(p));
}

FR_INLINE float64x2_t load_wide_part(const float *p, size_t r)
{
    (void)r; /* always 1 */
    return vcvt_f64_f32(vld1_lane_f32(p, vdup_n_f32(0.0f), 0));
}

/*
 * The masked loads and stores of FR_FUSED (fr_fused.h): the positions lo ..
 * hi-1 of one vector (clamped to the vector), +0 at the others, and only
 * those stored. NEON has no masked moves: a vector that is not whole is
 * built from, and stored in, single lanes. Only the partial first and last
 * group of a block get here, and their whole vectors are one plain load /
 * store. (Single lanes rather than a copy through a stack buffer: GCC
 * expands a variable-length memcpy into every specialised kernel.)
 */
#define FR_IN(k, lo, hi) ((lo) <= (k) && (k) < (hi))

FR_INLINE float32x4_t load_range_ps(const float *p, ptrdiff_t lo, ptrdiff_t hi)
{
    float32x4_t v = vdupq_n_f32(0.0f);
    if (lo <= 0 && hi >= 4)
        return vld1q_f32(p);
    if (FR_IN(0, lo, hi))
        v = vld1q_lane_f32(p, v, 0);
    if (FR_IN(1, lo, hi))
        v = vld1q_lane_f32(p + 1, v, 1);
    if (FR_IN(2, lo, hi))
        v = vld1q_lane_f32(p + 2, v, 2);
    if (FR_IN(3, lo, hi))
        v = vld1q_lane_f32(p + 3, v, 3);
    return v;
}

FR_INLINE float64x2_t load_range_pd(const double *p, ptrdiff_t lo, ptrdiff_t hi)
{
    float64x2_t v = vdupq_n_f64(0.0);
    if (lo <= 0 && hi >= 2)
        return vld1q_f64(p);
    if (FR_IN(0, lo, hi))
        v = vld1q_lane_f64(p, v, 0);
    if (FR_IN(1, lo, hi))
        v = vld1q_lane_f64(p + 1, v, 1);
    return v;
}

FR_INLINE void store_range_ps(float *p, float32x4_t v, ptrdiff_t lo, ptrdiff_t hi)
{
    if (lo <= 0 && hi >= 4) {
        vst1q_f32(p, v);
        return;
    }
    if (FR_IN(0, lo, hi))
        vst1q_lane_f32(p, v, 0);
    if (FR_IN(1, lo, hi))
        vst1q_lane_f32(p + 1, v, 1);
    if (FR_IN(2, lo, hi))
        vst1q_lane_f32(p + 2, v, 2);
    if (FR_IN(3, lo, hi))
        vst1q_lane_f32(p + 3, v, 3);
}

FR_INLINE void store_range_pd(double *p, float64x2_t v, ptrdiff_t lo, ptrdiff_t hi)
{
    if (lo <= 0 && hi >= 2) {
        vst1q_f64(p, v);
        return;
    }
    if (FR_IN(0, lo, hi))
        vst1q_lane_f64(p, v, 0);
    if (FR_IN(1, lo, hi))
        vst1q_lane_f64(p + 1, v, 1);
}

/* The low / high 2 floats of v, widened exactly to float64 (FCVTL, FCVTL2). */
FR_INLINE float64x2_t wlo_pd(float32x4_t v)
{
    return vcvt_f64_f32(vget_low_f32(v));
}

FR_INLINE float64x2_t whi_pd(float32x4_t v)
{
    return vcvt_high_f64_f32(v);
}

/* Lane 0 after folding the 2 lanes of v: l0 + l1. */
FR_INLINE double hsum_pd(float64x2_t v)
{
    return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1);
}

#endif /* FR_NEON_OPS_H */
