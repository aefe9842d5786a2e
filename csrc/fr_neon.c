/*
 * fr_neon.c - NEON (Advanced SIMD) kernels for AArch64, where NEON is part
 * of the base architecture: no run-time detection, no target attribute.
 *
 * Reproduces the canonical algorithm of fr_internal.h bit for bit: the 32
 * logical float64 lanes are 16 q registers of 2 doubles; element i of a
 * block goes to register (i % 32) / 2, position i % 2. float32 input is
 * widened exactly to float64 as it is loaded (FCVTL of 2 floats per lane
 * register), so its sums are the float64 ones: half the elements per
 * register that float32 lanes would hold, the price of float64 accuracy
 * (see fr_internal.h). The float32 gradient itself is still computed in
 * q registers of 4 floats.
 * AArch64 has 32 q registers: one sum keeps its 16 accumulators in one pass;
 * with both sums on, a block is read in two passes over the lanes 0-15 and
 * 16-31, 8 + 8 accumulators each, which read disjoint halves of every group
 * (memory is read once).
 *
 * Tails: whole vectors, then one partial vector built with single-lane
 * loads into a zero vector (the +0 lanes add exactly nothing) and written
 * back with single-lane stores. Nothing past n is read or written.
 *
 * No FMA: every product is rounded on its own (vmulq then vaddq; GCC would
 * contract them into fmla without -ffp-contract=off, which setup.py and
 * tools/neon_qemu.sh pass). FMAX propagates NaN like fr_scalar.c's pos32,
 * and max(+0, -0) is +0. The float16 conversions are the native FCVT
 * (exact one way, round to nearest even the other, with the default FPCR:
 * no flush to zero, IEEE half format, NaN payloads kept).
 */
#include "fr_internal.h"

#ifdef FR_ARCH_ARM64
#include <arm_neon.h>
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
 * a*v. For ordered non-zero v (v > 0 or v < 0) that is a with v's sign bit
 * xor-ed in (-a is a sign flip in C too); everything else gets a*v.
 */
FR_INLINE float32x4_t sgn_ps(float32x4_t v, float32x4_t va)
{
    uint32x4_t sv = vandq_u32(vreinterpretq_u32_f32(v), sign_u32());
    float32x4_t flip = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(va), sv));
    uint32x4_t nz = vorrq_u32(vcgtzq_f32(v), vcltzq_f32(v));
    return vbslq_f32(nz, flip, vmulq_f32(va, v));
}

FR_INLINE float64x2_t sgn_pd(float64x2_t v, float64x2_t va)
{
    uint64x2_t sv = vandq_u64(vreinterpretq_u64_f64(v), sign_u64());
    float64x2_t flip = vreinterpretq_f64_u64(veorq_u64(vreinterpretq_u64_f64(va), sv));
    uint64x2_t nz = vorrq_u64(vcgtzq_f64(v), vcltzq_f64(v));
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

/* copysign(max(|v| - t, 0), v) [/ d]: FMAX keeps a NaN m (pos32 does too),
   the bit select takes the sign from v. Division, not a reciprocal. */
FR_INLINE float32x4_t prox_ps(float32x4_t v, float32x4_t vt, float32x4_t vd, int flags)
{
    if (flags & FR_ABS) {
        float32x4_t m = vmaxq_f32(vdupq_n_f32(0.0f), vsubq_f32(vabsq_f32(v), vt));
        v = vbslq_f32(sign_u32(), v, m);
    }
    if (flags & FR_SQ)
        v = vdivq_f32(v, vd);
    return v;
}

FR_INLINE float64x2_t prox_pd(float64x2_t v, float64x2_t vt, float64x2_t vd, int flags)
{
    if (flags & FR_ABS) {
        float64x2_t m = vmaxq_f64(vdupq_n_f64(0.0), vsubq_f64(vabsq_f64(v), vt));
        v = vbslq_f64(sign_u64(), v, m);
    }
    if (flags & FR_SQ)
        v = vdivq_f64(v, vd);
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

/* S[j..j+1] += L[j..j+1]: the block flush of fr_internal.h. */
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

/* ---- one pass over a block: sums and/or gradient ---------------------- */

/* float32 gradient (no sums: those are taken in float64 by pass_wide). */
FR_INLINE void pass_f32(const float *x, float *out, size_t n, int flags, float a, float b)
{
    float32x4_t va = vdupq_n_f32(a), vb = vdupq_n_f32(b);
    const int f = 0, c = NREG, sums = 0, grad = 1;
    fr_lanes *s = NULL;
    FR_PASS(float32x4_t, 4, G32, vdupq_n_f32(0.0f), vld1q_f32, load_part_ps, vst1q_f32,
            store_part_ps, vaddq_f32, mul_ps, vabsq_f32, grad_ps, FR_NO_FLUSH, FR_NO_PREFETCH);
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

/* float32 sums in the float64 lanes: registers f .. f+c-1 of each group. */
FR_INLINE void pass_wide(const float *x, size_t n, int f, int c, int sums, fr_lanes *s)
{
    float64x2_t va = vdupq_n_f64(0.0), vb = va;
    const int grad = 0, flags = 0;
    float *out = NULL;
    FR_PASS(float64x2_t, 2, G64, vdupq_n_f64(0.0), load_wide, load_wide_part, FR_NO_STORE,
            FR_NO_STORE_PART, vaddq_f64, mul_pd, vabsq_f64, grad_pd, flush_pd, FR_NO_PREFETCH);
}

FR_INLINE void pass_f64(const double *x, double *out, size_t n, int f, int c, int sums, int grad,
                        int flags, double a, double b, fr_lanes *s)
{
    float64x2_t va = vdupq_n_f64(a), vb = vdupq_n_f64(b);
    FR_PASS(float64x2_t, 2, G64, vdupq_n_f64(0.0), vld1q_f64, load_part_pd, vst1q_f64,
            store_part_pd, vaddq_f64, mul_pd, vabsq_f64, grad_pd, flush_pd, FR_NO_PREFETCH);
}

/* The whole block: 16 registers in one pass with at most one sum, two
   passes of 8 when both sums are on (see the top of the file). */
FR_INLINE void block_wide(const float *x, size_t n, int sums, fr_lanes *s)
{
    if ((sums & FR_ABS) && (sums & FR_SQ)) {
        pass_wide(x, n, 0, 8, sums, s);
        pass_wide(x, n, 8, 8, sums, s);
    } else {
        pass_wide(x, n, 0, 16, sums, s);
    }
}

FR_INLINE void block_f64(const double *x, double *out, size_t n, int sums, int grad, int flags,
                         double a, double b, fr_lanes *s)
{
    if ((sums & FR_ABS) && (sums & FR_SQ)) {
        pass_f64(x, out, n, 0, 8, sums, grad, flags, a, b, s);
        pass_f64(x, out, n, 8, 8, sums, grad, flags, a, b, s);
    } else {
        pass_f64(x, out, n, 0, 16, sums, grad, flags, a, b, s);
    }
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
FR_INLINE double hsum_pd(float64x2_t v)
{
    return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1);
}

static void tiny_f32(const float *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(float64x2_t, 2, vdupq_n_f64(0.0), load_wide, load_wide_part, vaddq_f64, mul_pd,
            vabsq_f64, hsum_pd);
}

static void tiny_f64(const double *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(float64x2_t, 2, vdupq_n_f64(0.0), vld1q_f64, load_part_pd, vaddq_f64, mul_pd, vabsq_f64,
            hsum_pd);
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
    float32x4_t vt = vdupq_n_f32(t), vd = vdupq_n_f32(d);
    size_t i = 0;
    int k;
    for (; i + 32 <= n; i += 32) {
        FR_UNROLL
        for (k = 0; k < 8; k++)
            vst1q_f32(out + i + 4 * k, prox_ps(vld1q_f32(x + i + 4 * k), vt, vd, flags));
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(out + i, prox_ps(vld1q_f32(x + i), vt, vd, flags));
    if (i < n)
        store_part_ps(out + i, prox_ps(load_part_ps(x + i, n - i), vt, vd, flags), n - i);
}

FR_INLINE void prox_run_f64(const double *x, double *out, size_t n, double t, double d, int flags)
{
    float64x2_t vt = vdupq_n_f64(t), vd = vdupq_n_f64(d);
    size_t i = 0;
    int k;
    for (; i + 16 <= n; i += 16) {
        FR_UNROLL
        for (k = 0; k < 8; k++)
            vst1q_f64(out + i + 2 * k, prox_pd(vld1q_f64(x + i + 2 * k), vt, vd, flags));
    }
    for (; i + 2 <= n; i += 2)
        vst1q_f64(out + i, prox_pd(vld1q_f64(x + i), vt, vd, flags));
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

/* ---- float16: FCVT ------------------------------------------------------ */

static void f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(src + i));
        vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(h)));
        vst1q_f32(dst + i + 4, vcvt_high_f32_f16(h));
    }
    for (; i < n; i++)
        dst[i] = fr_h2f(src[i]);
}

static void f32_to_f16(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x4_t lo = vcvt_f16_f32(vld1q_f32(src + i));
        float16x8_t h = vcvt_high_f16_f32(lo, vld1q_f32(src + i + 4));
        vst1q_u16(dst + i, vreinterpretq_u16_f16(h));
    }
    for (; i < n; i++)
        dst[i] = fr_f2h(src[i]);
}

const struct fr_kernels fr_kernels_neon = {
    "neon",   sum_f32,  sum_f64,  tiny_f32,   tiny_f64,   grad_f32,
    grad_f64, prox_f32, prox_f64, f16_to_f32, f32_to_f16,
};

#else /* !FR_ARCH_ARM64 */
typedef int fr_neon_unused; /* ISO C forbids an empty translation unit */
#endif
