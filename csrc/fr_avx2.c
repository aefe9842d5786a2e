/*
 * fr_avx2.c - AVX2 kernels (x86-64-v3 machines: Haswell and later, Zen).
 *
 * Reproduces the canonical algorithm of fr_contract.h bit for bit: the 32
 * logical float64 lanes are 8 ymm registers of 4 doubles; element i of a
 * block goes to register (i % 32) / 4, position i % 4. float32 input is
 * widened 4 floats at a time (vcvtps2pd from a 16-byte load, exact), which
 * is the limit in cache: about 1 conversion per cycle on Zen 3, half the
 * speed of float32 lanes, the price of float64 accuracy (fr_contract.h).
 * Eight independent accumulators per sum also cover the 3-cycle latency of
 * vaddpd on the 2 add ports. With both sums on, 16 accumulators take every
 * ymm register. float64 input then reads a block in two passes over the
 * lanes 0-15 and 16-31 with 4 + 4 accumulators each (the passes read
 * disjoint halves of each group, so memory is still read once). float32
 * input keeps one pass and lets the compiler keep some accumulators on the
 * stack: the conversions, not the spills, are its limit in cache, and one
 * stream keeps DRAM busy. Measured against two passes in alternating runs
 * (float32 sum_abs_squares; L1L2 at 16M): 4096 0.85 vs 1.25 us, 65536
 * equal, 1M ~8 % slower, 4M 0.76-1.04 vs 1.06-1.08 ms, 16M 3.4 vs 4.7 ms.
 * float64 showed no clear difference and keeps two passes.
 *
 * Tails: the last partial group of a block is run with whole vectors, then
 * one vmaskmovps load; masked-off lanes load +0, and adding +0 to a lane is
 * exact (lanes only hold +0, positive values, inf or NaN). vmaskmovps
 * stores are microcoded on AMD (~18 cycles each on Zen 3), so a partial
 * result vector is stored in 4/2/1-element pieces. Nothing past n is read
 * or written. A float64 sum with one term over a misaligned x uses aligned
 * loads and rotated lanes instead (see "aligned loads for a misaligned x");
 * float32 sums read 16 bytes at a time, which NumPy's 16-byte alignment
 * keeps inside a cache line.
 *
 * No FMA: every product is rounded on its own (mul, then add). The target
 * below deliberately leaves out "fma", so the compiler cannot contract a
 * mul+add pair even without -ffp-contract=off. (Detection still asks for FMA
 * with AVX2: the x86-64-v3 bundle; see fr_dispatch.c.) F16C gives the exact
 * float16 <-> float32 conversions with round-to-nearest-even.
 */
#include "fr_kernel_abi.h"

#ifdef FR_ARCH_X86_64
#include "fr_avx2_ops.h"
#include "fr_float16.h"
#include "fr_fused.h"
#include "fr_instantiate.h"

#define G32  64         /* float32 elements per gradient group: 8 registers */
#define G64  FR_LANES64 /* float64 lanes: 8 registers */
#define NREG 8          /* registers per group */

/* ---- one pass over a block: sums and/or gradient ---------------------- */

/*
 * float32 sums spend about 4 instructions per 16 bytes (load + widen, abs
 * or square, add), so the out-of-order window covers only ~1 KiB of the
 * stream, too little to keep enough DRAM lines in flight: sum_abs of 16M
 * floats took ~1.25x the time of OpenBLAS sasum on Zen 3. One prefetch per
 * line FR_PREFETCH bytes ahead, in the first pass of a block, brought that
 * to 1.05-1.15x at 16M and 1.30x to ~1.0x at 4M in alternating runs (1024
 * and 2048 bytes tried), and is neutral in cache. The float32 gradient pass
 * (x and out streams) measured slower with it, so only the sums use it.
 */
#define FR_PREFETCH 2048

FR_INLINE FR_TARGET void prefetch_group(const char *p)
{
    _mm_prefetch(p + FR_PREFETCH, _MM_HINT_T0);
    _mm_prefetch(p + FR_PREFETCH + 64, _MM_HINT_T0);
}

/* float32 gradient (no sums: those are taken in float64 by pass_wide). */
FR_INLINE FR_TARGET void pass_f32(const float *x, float *out, size_t n, int flags, float a, float b)
{
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    const int f = 0, c = NREG, sums = 0, grad = 1;
    fr_lanes *s = NULL;
    FR_PASS(__m256, 8, G32, _mm256_setzero_ps(), _mm256_loadu_ps, load_part_ps, _mm256_storeu_ps,
            store_part_ps, _mm256_add_ps, _mm256_mul_ps, abs_ps, grad_ps, FR_NO_FLUSH,
            FR_NO_PREFETCH);
}

/* float32 sums in the float64 lanes: registers f .. f+c-1 of each group. */
FR_INLINE FR_TARGET void pass_wide(const float *x, size_t n, int f, int c, int sums, fr_lanes *s)
{
    __m256d va = _mm256_setzero_pd(), vb = va;
    const int grad = 0, flags = 0;
    float *out = NULL;
    FR_PASS(__m256d, 4, G64, _mm256_setzero_pd(), load_wide, load_wide_part, FR_NO_STORE,
            FR_NO_STORE_PART, _mm256_add_pd, _mm256_mul_pd, abs_pd, grad_pd, flush_pd,
            prefetch_group);
}

FR_INLINE FR_TARGET void pass_f64(const double *x, double *out, size_t n, int f, int c, int sums,
                                  int grad, int flags, double a, double b, fr_lanes *s)
{
    __m256d va = _mm256_set1_pd(a), vb = _mm256_set1_pd(b);
    FR_PASS(__m256d, 4, G64, _mm256_setzero_pd(), _mm256_loadu_pd, load_part_pd, _mm256_storeu_pd,
            store_part_pd, _mm256_add_pd, _mm256_mul_pd, abs_pd, grad_pd, flush_pd, FR_NO_PREFETCH);
}

/* The whole block: 8 registers in one pass with at most one sum, two
   passes of 4 when both sums are on (see the top of the file). */
FR_INLINE FR_TARGET void block_f64(const double *x, double *out, size_t n, int sums, int grad,
                                   int flags, double a, double b, fr_lanes *s)
{
    if ((sums & FR_ABS) && (sums & FR_SQ)) {
        pass_f64(x, out, n, 0, 4, sums, grad, flags, a, b, s);
        pass_f64(x, out, n, 4, 4, sums, grad, flags, a, b, s);
    } else {
        pass_f64(x, out, n, 0, 8, sums, grad, flags, a, b, s);
    }
}

/* ---- aligned loads for a misaligned x -------------------------------- */

/*
 * NumPy data is often only 16-byte aligned, and then every other 32-byte
 * load splits a cache line (~25 % slower from L1). With q = the
 * misalignment in elements, the block is read with aligned loads from
 * xa = x - q instead: element i lands in register ((i + q) / W) % NREG,
 * position (i + q) % W. That is a fixed place for each lane j = i % G (flat
 * index (j + q) % G), so every lane still adds its own elements in order,
 * only held in a rotated place; the flush un-rotates. The q elements before
 * x and those past n are masked off (+0, never read).
 *
 * The rest after the whole groups works on the lane buffer in memory: a
 * plain loop, whose unrolled form made GCC spill an accumulator of the main
 * loop. Used with one sum on (8 accumulators); with both, the two passes of
 * block_* take over.
 */
FR_INLINE FR_TARGET __m256i range_pd(ptrdiff_t lo, ptrdiff_t hi)
{
    __m256i iota = _mm256_setr_epi64x(0, 1, 2, 3);
    lo = lo < 0 ? 0 : lo > 4 ? 4 : lo;
    hi = hi < 0 ? 0 : hi > 4 ? 4 : hi;
    return _mm256_andnot_si256(_mm256_cmpgt_epi64(_mm256_set1_epi64x(lo), iota),
                               _mm256_cmpgt_epi64(_mm256_set1_epi64x(hi), iota));
}

/* One sum (a constant) of a block whose x is misaligned by q (1 .. 3) doubles. */
FR_INLINE FR_TARGET void rot_f64(const double *x, size_t n, size_t q, int sums, fr_lanes *s)
{
    FR_ROT(__m256d, 4, G64, double, _mm256_setzero_pd(), _mm256_load_pd, _mm256_maskload_pd,
           range_pd, _mm256_storeu_pd, _mm256_loadu_pd, _mm256_add_pd, _mm256_mul_pd, abs_pd,
           flush_pd);
}

/* ---- table entries ---------------------------------------------------- */

/* float32 sums: one pass of 8 registers, both sums too (see the top). */
FR_INLINE FR_TARGET void block_wide(const float *x, size_t n, int sums, fr_lanes *s)
{
    pass_wide(x, n, 0, NREG, sums, s);
}

/* float64 sums: one sum over a misaligned x with aligned loads (8
   accumulators); both sums in the two passes of block_f64. */
FR_INLINE FR_TARGET void sum_block_f64(const double *x, size_t n, int sums, fr_lanes *s)
{
    uintptr_t addr = (uintptr_t)x;
    size_t q = (size_t)(addr / sizeof *x) % 4;
    if (q && addr % sizeof *x == 0 && sums != (FR_ABS | FR_SQ))
        rot_f64(x, n, q, sums, s);
    else
        block_f64(x, NULL, n, sums, 0, 0, 0.0, 0.0, s);
}

static FR_TARGET void sum_f32(const float *x, size_t n, int what, fr_lanes *s)
{
    FR_SUM_SWITCH(block_wide);
}

static FR_TARGET void sum_f64(const double *x, size_t n, int what, fr_lanes *s)
{
    FR_SUM_SWITCH(sum_block_f64);
}

static FR_TARGET void tiny_f32(const float *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(__m256d, 4, _mm256_setzero_pd(), load_wide, load_wide_part, _mm256_add_pd,
            _mm256_mul_pd, abs_pd, hsum_pd);
}

static FR_TARGET void tiny_f64(const double *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(__m256d, 4, _mm256_setzero_pd(), _mm256_loadu_pd, load_part_pd, _mm256_add_pd,
            _mm256_mul_pd, abs_pd, hsum_pd);
}

/* value_and_gradient of 1 .. FR_LANES64 elements (FR_TINY_GRAD). */
#define TINY_GRAD_RUN_F32(FL)                                                                      \
    FR_TINY_GRAD_RUN(__m256, 8, _mm256_set1_ps, _mm256_loadu_ps, load_part_ps, _mm256_storeu_ps,   \
                     store_part_ps, _mm256_add_ps, grad_ps, FL)
#define TINY_GRAD_RUN_F64(FL)                                                                      \
    FR_TINY_GRAD_RUN(__m256d, 4, _mm256_set1_pd, _mm256_loadu_pd, load_part_pd, _mm256_storeu_pd,  \
                     store_part_pd, _mm256_add_pd, grad_pd, FL)

static FR_TARGET void tiny_grad_f32(const float *x, float *out, size_t n, float a, float b,
                                    int flags, int what, double *sa, double *ss)
{
    FR_TINY_GRAD(tiny_f32, TINY_GRAD_RUN_F32);
}

static FR_TARGET void tiny_grad_f64(const double *x, double *out, size_t n, double a, double b,
                                    int flags, int what, double *sa, double *ss)
{
    FR_TINY_GRAD(tiny_f64, TINY_GRAD_RUN_F64);
}

/*
 * float32 gradient with the value fused into the same pass (FR_FUSED of
 * fr_fused.h with FR_VALUE): vector k of each 64-float group holds the
 * lanes (8k .. 8k+7) % 32, its low half widened into lane register
 * 2k % 8, its high half into (2k + 1) % 8. One stream over x and out:
 * without it, the sums were a second pass over the block in L1 (see
 * FR_GRAD_F32_BODY). No rotation (q = 0): unaligned 32-byte loads split a
 * line only every other time, and the masked stores it needs are
 * microcoded on AMD; the partial last group uses the pieces below.
 */
FR_INLINE FR_TARGET __m256 load_upto_ps(const float *p, ptrdiff_t lo, ptrdiff_t hi)
{
    (void)lo; /* <= 0 with q = 0 */
    return hi >= 8  ? _mm256_loadu_ps(p)
           : hi > 0 ? load_part_ps(p, (size_t)hi)
                    : _mm256_setzero_ps();
}

FR_INLINE FR_TARGET void store_upto_ps(float *p, __m256 v, ptrdiff_t lo, ptrdiff_t hi)
{
    (void)lo;
    if (hi >= 8)
        _mm256_storeu_ps(p, v);
    else if (hi > 0)
        store_part_ps(p, v, (size_t)hi);
}

FR_INLINE FR_TARGET __m256d wlo_pd(__m256 v)
{
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}

FR_INLINE FR_TARGET __m256d whi_pd(__m256 v)
{
    return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}

FR_INLINE FR_TARGET void grad_value_f32(const float *x, float *out, size_t n, float a, float b,
                                        int FL, fr_lanes *s)
{
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    const size_t q = 0;
    FR_FUSED(__m256, __m256d, 2, 4, float, _mm256_setzero_pd(), _mm256_loadu_ps, _mm256_storeu_ps,
             load_upto_ps, store_upto_ps, wlo_pd, whi_pd, _mm256_add_pd, _mm256_mul_pd, abs_pd,
             _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_ps, grad_ps, flush_pd);
}

static FR_TARGET void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags,
                               fr_lanes *s)
{
    /* Fused when the lane accumulators fit in registers (one sum), or, with
       both sums, when the array streams from memory: in L2 the spills of 16
       accumulators made the fused pass ~20 % slower than two passes
       (L1L2 value_and_gradient, 65536 floats: 25-26.6 vs 18.5-22.2 us), from
       DRAM one pass was faster (4M: 2.0 vs 2.3 ms). */
    int both = (flags & FR_ABS) && (flags & FR_SQ);
    if (!(flags & FR_VALUE) || (both && !(flags & FR_STREAM))) {
        FR_GRAD_F32_BODY
        return;
    }
    FR_FUSED_VALUE_SWITCH(grad_value_f32);
}

static FR_TARGET void grad_f64(const double *x, double *out, size_t n, double a, double b,
                               int flags, fr_lanes *s)
{
    FR_GRAD_SWITCH(block_f64);
}

/* Element-wise: 8 registers per iteration, single vectors, one partial. */
FR_INLINE FR_TARGET void prox_run_f32(const float *x, float *out, size_t n, float t, float r,
                                      int flags)
{
    FR_PROX_RUN(__m256, 8, NREG, _mm256_set1_ps, _mm256_loadu_ps, load_part_ps, _mm256_storeu_ps,
                store_part_ps, prox_ps);
}

FR_INLINE FR_TARGET void prox_run_f64(const double *x, double *out, size_t n, double t, double r,
                                      int flags)
{
    FR_PROX_RUN(__m256d, 4, NREG, _mm256_set1_pd, _mm256_loadu_pd, load_part_pd, _mm256_storeu_pd,
                store_part_pd, prox_pd);
}

static FR_TARGET void prox_f32(const float *x, float *out, size_t n, float t, float r, int flags)
{
    FR_PROX_SWITCH(prox_run_f32);
}

static FR_TARGET void prox_f64(const double *x, double *out, size_t n, double t, double r,
                               int flags)
{
    FR_PROX_SWITCH(prox_run_f64);
}

/* ---- float16 (F16C) --------------------------------------------------- */

/* vcvtph2ps is exact and keeps NaN payloads (made quiet), as fr_h2f does;
   vcvtps2ph with immediate 0 rounds to nearest even whatever MXCSR says,
   and keeps the top payload bits of a NaN, as fr_f2h does. The < 8 element
   tail uses those portable conversions. */
static FR_TARGET void f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i h0 = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i h1 = _mm_loadu_si128((const __m128i *)(src + i + 8));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h0));
        _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(h1));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++)
        dst[i] = fr_h2f(src[i]);
}

static FR_TARGET void f32_to_f16(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i h0 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        __m128i h1 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 8), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + i), h0);
        _mm_storeu_si128((__m128i *)(dst + i + 8), h1);
    }
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        dst[i] = fr_f2h(src[i]);
}

/* ---- the training steps (fr_update.h) --------------------------------- */

/* Included here, at the end, beside the only code that uses it. 4
   registers per iteration: w, g and the result of each in flight. */
#include "fr_update.h"

FR_UPDATE_KERNELS(FR_TARGET, 4, FR_UPD_NO_HEAD, sum_f32, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps,
                  _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, grad_ps, prox_ps,
                  sum_f64, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd, _mm256_storeu_pd,
                  _mm256_add_pd, _mm256_sub_pd, _mm256_mul_pd, grad_pd, prox_pd)

const struct fr_kernels fr_kernels_avx2 = {
    .name = "avx2",
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
typedef int fr_avx2_unused; /* ISO C forbids an empty translation unit */
#endif
