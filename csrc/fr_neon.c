/*
 * fr_neon.c - NEON (Advanced SIMD) kernels for AArch64, where NEON is part
 * of the base architecture: no run-time detection, no target attribute.
 *
 * Reproduces the canonical algorithm of fr_contract.h bit for bit: the 32
 * logical float64 lanes are 16 q registers of 2 doubles; element i of a
 * block goes to register (i % 32) / 2, position i % 2. float32 input is
 * widened exactly to float64 as it is loaded (FCVTL of 2 floats per lane
 * register), so its sums are the float64 ones: half the elements per
 * register that float32 lanes would hold, the price of float64 accuracy
 * (see fr_contract.h). The float32 gradient itself is still computed in
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
#include "fr_kernel_abi.h"

#ifdef FR_ARCH_ARM64
#include "fr_float16.h"
#include "fr_fused.h"
#include "fr_instantiate.h"
#include "fr_neon_ops.h"

#define G32  64         /* float32 elements per gradient group: 16 registers */
#define G64  FR_LANES64 /* float64 lanes: 16 registers */
#define NREG 16         /* registers per group */

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
    FR_TINY(float64x2_t, 2, vdupq_n_f64(0.0), load_wide, load_wide_part, vaddq_f64, mul_pd,
            vabsq_f64, hsum_pd);
}

static void tiny_f64(const double *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(float64x2_t, 2, vdupq_n_f64(0.0), vld1q_f64, load_part_pd, vaddq_f64, mul_pd, vabsq_f64,
            hsum_pd);
}

/* value_and_gradient of 1 .. FR_LANES64 elements (FR_TINY_GRAD). */
#define TINY_GRAD_RUN_F32(FL)                                                                      \
    FR_TINY_GRAD_RUN(float32x4_t, 4, vdupq_n_f32, vld1q_f32, load_part_ps, vst1q_f32,              \
                     store_part_ps, vaddq_f32, grad_ps, FL)
#define TINY_GRAD_RUN_F64(FL)                                                                      \
    FR_TINY_GRAD_RUN(float64x2_t, 2, vdupq_n_f64, vld1q_f64, load_part_pd, vst1q_f64,              \
                     store_part_pd, vaddq_f64, grad_pd, FL)

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
 * (R*k) % 16, for float32 its high half (FCVTL2) into the next one. No
 * rotation (q = 0): unaligned q-register loads cost no more than aligned
 * ones unless they cross a cache line, which NumPy's 16-byte aligned data
 * never does.
 *
 * float32: the value's sums are otherwise a second pass over the block
 * (FR_GRAD_F32_BODY). With one sum, 16 accumulators, the factors and the
 * temporaries nearly fit in the 32 q registers (GCC keeps all but 2 there),
 * as on AVX-512 and AVX2, where one sum is always fused. With both, half
 * the 32 accumulators live on the stack; that made AVX2's fused pass
 * (the same ratio of registers to accumulators) the slower one in cache
 * and the faster one from L3 or DRAM, so it runs on streaming arrays only
 * (FR_STREAM), as in fr_avx2.c.
 *
 * float64: with one sum, block_f64 is already one sequential pass with all
 * 16 accumulators in registers (the fused one spills 7 with l1), and
 * stays. With both, block_f64 reads each group in two halves, one per
 * pass, and the fused pass takes streaming arrays only, as on SSE2, where
 * it broke even there and lost in cache (fr_sse2.c; here it spills 16
 * accumulators, not all 32).
 *
 * Not timed on Arm hardware (only run under qemu): these are the rules
 * measured on x86, by register count.
 */
FR_INLINE void fused_f32(const float *x, float *out, size_t n, float a, float b, int FL,
                         fr_lanes *s)
{
    float32x4_t va = vdupq_n_f32(a), vb = vdupq_n_f32(b);
    const size_t q = 0;
    FR_FUSED(float32x4_t, float64x2_t, 2, 2, float, vdupq_n_f64(0.0), vld1q_f32, vst1q_f32,
             load_range_ps, store_range_ps, wlo_pd, whi_pd, vaddq_f64, mul_pd, vabsq_f64, vld1q_f64,
             vst1q_f64, vaddq_f32, grad_ps, flush_pd);
}

FR_INLINE void fused_f64(const double *x, double *out, size_t n, double a, double b, int FL,
                         fr_lanes *s)
{
    float64x2_t va = vdupq_n_f64(a), vb = vdupq_n_f64(b);
    const size_t q = 0;
    FR_FUSED(float64x2_t, float64x2_t, 1, 2, double, vdupq_n_f64(0.0), vld1q_f64, vst1q_f64,
             load_range_pd, store_range_pd, FR_SAME, FR_SAME, vaddq_f64, mul_pd, vabsq_f64,
             vld1q_f64, vst1q_f64, vaddq_f64, grad_pd, flush_pd);
}

static void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags, fr_lanes *s)
{
    /* Fused with one sum, or with both on a streaming array (see above). */
    int both = (flags & FR_ABS) && (flags & FR_SQ);
    if ((flags & FR_VALUE) && (!both || (flags & FR_STREAM))) {
        FR_FUSED_VALUE_SWITCH(fused_f32);
        return;
    }
    FR_GRAD_F32_BODY
}

static void grad_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                     fr_lanes *s)
{
    /* Fused with both sums on a streaming array (see above). */
    int both = (flags & FR_ABS) && (flags & FR_SQ);
    if ((flags & FR_VALUE) && both && (flags & FR_STREAM)) {
        if (flags & FR_ACC)
            fused_f64(x, out, n, a, b, FR_VALUE | FR_ACC | FR_ABS | FR_SQ, s);
        else
            fused_f64(x, out, n, a, b, FR_VALUE | FR_ABS | FR_SQ, s);
        return;
    }
    FR_GRAD_SWITCH(block_f64);
}

/* Element-wise: 8 registers per iteration, single vectors, one partial. */
FR_INLINE void prox_run_f32(const float *x, float *out, size_t n, float t, float r, int flags)
{
    FR_PROX_RUN(float32x4_t, 4, 8, vdupq_n_f32, vld1q_f32, load_part_ps, vst1q_f32, store_part_ps,
                prox_ps);
}

FR_INLINE void prox_run_f64(const double *x, double *out, size_t n, double t, double r, int flags)
{
    FR_PROX_RUN(float64x2_t, 2, 8, vdupq_n_f64, vld1q_f64, load_part_pd, vst1q_f64, store_part_pd,
                prox_pd);
}

static void prox_f32(const float *x, float *out, size_t n, float t, float r, int flags)
{
    FR_PROX_SWITCH(prox_run_f32);
}

static void prox_f64(const double *x, double *out, size_t n, double t, double r, int flags)
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

/* ---- the training steps (fr_update.h) --------------------------------- */

/* Included here, at the end, beside the only code that uses it (and away
   from the gradient code above). 4 registers per iteration. */
#include "fr_update.h"

FR_UPDATE_KERNELS(, 4, FR_UPD_NO_HEAD, sum_f32, float32x4_t, 4, vdupq_n_f32, vld1q_f32, vst1q_f32,
                  vaddq_f32, vsubq_f32, mul_ps, grad_ps, prox_ps, sum_f64, float64x2_t, 2,
                  vdupq_n_f64, vld1q_f64, vst1q_f64, vaddq_f64, vsubq_f64, mul_pd, grad_pd, prox_pd)

const struct fr_kernels fr_kernels_neon = {
    .name = "neon",
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

#else /* !FR_ARCH_ARM64 */
typedef int fr_neon_unused; /* ISO C forbids an empty translation unit */
#endif
