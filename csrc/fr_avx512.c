/*
 * fr_avx512.c - AVX-512F kernels (Skylake-SP and later, Zen 4).
 *
 * Reproduces the canonical algorithm of fr_contract.h bit for bit: the 32
 * logical float64 lanes are 4 zmm registers of 8 doubles; element i of a
 * block goes to register (i % 32) / 8, position i % 8. float32 input is
 * widened 8 floats at a time (vcvtps2pd zmm from a 32-byte load, exact)
 * into the same lanes, so its sums are those of the widened float64 block;
 * one conversion per 8 elements is the price of float64 accuracy
 * (fr_contract.h). The float32 gradient and prox stay in float32 (16 per
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
 * No FMA: every product is rounded on its own (mul, then add), except
 * where the product is exact and an FMA gives the same bits (the float32
 * sums, pass_wide). AVX-512F
 * includes FMA instructions, so this file relies on -ffp-contract=off (set
 * by setup.py and the test scripts; the C tests would catch a contraction).
 * float16 uses the exact AVX-512F vcvtph2ps / vcvtps2ph (immediate 0: round
 * to nearest even whatever MXCSR says).
 *
 * FR_SIMDE_EMU (tools/avx512_emu.sh only): compile the same code against
 * SIMDe's portable implementation of the intrinsics, to test it on a CPU
 * without AVX-512. That checks the use of the intrinsics, not the hardware.
 */
#include "fr_kernel_abi.h"

#ifdef FR_SIMDE_EMU /* tools/avx512_emu.sh only */
#include "fr_avx512_simde.h"
#endif

#if defined(FR_ARCH_X86_64) || defined(FR_ARCH_X86_64_EMU)
#include "fr_avx512_ops.h"
#include "fr_float16.h"
/* The float32 lanes of the fused kernels (the gradient's and the training
   steps') add with FMAs, as pass_wide (below) does and for its reasons:
   the same bits, off the add pipes. float32 value_and_gradient(acc),
   medians of 15, ns per element, before -> after, AVX2 in the same runs:
   4K 0.283 -> 0.245 (AVX2 0.263-0.319), 64K 0.278 -> 0.228 (0.218-0.307),
   1M 0.265 -> 0.235 (0.265-0.380), Zen 4, two runs each. */
#define FR_FUSED_ABS_ACC(R, ADDD, ABSD, acc, w)                                                    \
    ((R) == 2 ? abs_acc_pd(acc, ABSD(w)) : ADDD(acc, ABSD(w)))
#define FR_FUSED_SQ_ACC(R, ADDD, MULD, acc, w)                                                     \
    ((R) == 2 ? sq_acc_pd(acc, w) : ADDD(acc, MULD(w, w)))
#include "fr_fused.h"
#include "fr_instantiate.h"

#define G32  64         /* float32 elements per gradient group: 4 registers */
#define G64  FR_LANES64 /* float64 lanes: 4 registers */
#define NREG 4          /* registers per group */

/* ---- one pass over a block: sums and/or gradient ---------------------- */

/*
 * float32 sums in the float64 lanes (4 + 4 accumulators: one pass), written
 * out rather than through FR_PASS, for three changes that keep every bit:
 *
 *  - |x| is taken on the float32 vector (a 256-bit and) before it is
 *    widened, and the one widened w = (double)|x| = |(double)x| serves both
 *    sums: w for sum |x|, w*w = x*x for sum x^2 (a NaN stays a NaN; only its
 *    sign bit, which no result exposes, is cleared). That saves the 512-bit
 *    and of every element (the separate load it costs is cheaper).
 *  - each lane addition is an FMA, acc + w*1 and acc + w*w (vfmadd231pd).
 *    That is fr_contract.h's rounded product, then rounded sum, because both
 *    products are exact: w is a float32 widened exactly (24 significant
 *    bits), so w*w has at most 48 significant bits (float64 has 53) and an
 *    exponent within float64's normal range (float32's largest square is
 *    below 2^256, its smallest non-zero one, 2^-298, above 2^-1022), and
 *    w*1 is w; the FMA's one rounding is then the add's (+0, inf and NaN
 *    included; only a NaN's payload may come from another operand, and no
 *    result exposes one). It does not hold for float64 input: pass_f64 keeps
 *    mul, then add.
 *
 * Why: on Zen 4, zmm additions and vcvtps2pd share two pipes (measured: a
 * zmm vaddpd or vfmadd231pd per cycle, a vcvtps2pd zmm per 1.3 cycles), so
 * the 4 conversions, 4 ands, 4 products and 8 additions of each group of 32
 * held float32 L1L2 to about 2 elements per cycle in L1 and L2 (0.15 ns per
 * element at ~3.3 GHz); as FMAs the additions run on the multiply pipes,
 * beside the conversions. Measured in C on the kernel table called in blocks
 * of 2048 as the driver does, x 16 bytes past a line, ns per element, then ->
 * FMAs -> FMAs and |x| first (same runs):
 *   sum |x| and sum x^2: 4K 0.163 -> 0.131 -> 0.113, 64K 0.163 -> 0.130 ->
 *   0.114, 1M 0.165 -> 0.132 -> 0.116, 4M 0.175 -> 0.142 -> 0.131, 16M
 *   0.20 -> 0.19 (DRAM);
 *   sum |x| alone (first -> last): 4K 0.109 -> 0.085, 64K 0.105 -> 0.084,
 *   1M 0.104 -> 0.087.
 * (FMAs on the squares only, or on half of the |x| lanes, gave no more; a
 * software prefetch as fr_avx2.c's, 1024 or 2048 bytes ahead, was neutral in
 * cache and 20-30 % slower at 4M and 16M.)
 */
FR_INLINE FR_TARGET __m512d widen_abs(__m256 v)
{
    return _mm512_cvtps_pd(_mm256_castsi256_ps(
        _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff))));
}

FR_INLINE FR_TARGET __m512d abs_acc_pd(__m512d acc, __m512d w)
{
    return _mm512_fmadd_pd(w, _mm512_set1_pd(1.0), acc); /* acc + |x|: exact product */
}

FR_INLINE FR_TARGET __m512d sq_acc_pd(__m512d acc, __m512d w)
{
    return _mm512_fmadd_pd(w, w, acc); /* acc + x*x: exact product (see above) */
}

FR_INLINE FR_TARGET void pass_wide(const float *x, size_t n, int sums, fr_lanes *s)
{
    __m512d acc_a[NREG], acc_s[NREG];
    size_t groups = n / G64, r = n % G64, g, i, left;
    int k;
    FR_UNROLL
    for (k = 0; k < NREG; k++)
        acc_a[k] = acc_s[k] = _mm512_setzero_pd();
    for (g = 0; g < groups; g++) {
        FR_UNROLL
        for (k = 0; k < NREG; k++) {
            __m512d v = widen_abs(_mm256_loadu_ps(x + g * G64 + 8 * (size_t)k));
            if (sums & FR_ABS)
                acc_a[k] = abs_acc_pd(acc_a[k], v);
            if (sums & FR_SQ)
                acc_s[k] = sq_acc_pd(acc_s[k], v);
        }
    }
    for (k = 0; k < NREG && 8 * (size_t)k < r; k++) { /* the partial group */
        i = groups * G64 + 8 * (size_t)k;
        left = r - 8 * (size_t)k;
        __m512d v = widen_abs(left >= 8 ? _mm256_loadu_ps(x + i)
                                        : _mm512_castps512_ps256(load_part_ps(x + i, left)));
        if (sums & FR_ABS)
            acc_a[k] = abs_acc_pd(acc_a[k], v);
        if (sums & FR_SQ)
            acc_s[k] = sq_acc_pd(acc_s[k], v);
    }
    for (k = 0; k < NREG; k++) {
        if (sums & FR_ABS)
            flush_pd(s->abs + 8 * k, acc_a[k]);
        if (sums & FR_SQ)
            flush_pd(s->sq + 8 * k, acc_s[k]);
    }
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

/* float64 sums over a misaligned x with aligned loads (both sums fit). */
FR_INLINE FR_TARGET void sum_block_f64(const double *x, size_t n, int sums, fr_lanes *s)
{
    uintptr_t addr = (uintptr_t)x;
    size_t q = (size_t)(addr / sizeof *x) % 8;
    if (q && addr % sizeof *x == 0)
        rot_f64(x, n, q, sums, s);
    else
        block_f64(x, NULL, n, sums, 0, 0, 0.0, 0.0, s);
}

/* float32: widened to float64 in the float64 lanes, no aligned-load path
   (see the top of the file). */
static FR_TARGET void sum_f32(const float *x, size_t n, int what, fr_lanes *s)
{
    FR_SUM_SWITCH(pass_wide);
}

static FR_TARGET void sum_f64(const double *x, size_t n, int what, fr_lanes *s)
{
    FR_SUM_SWITCH(sum_block_f64);
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

/* value_and_gradient of 1 .. FR_LANES64 elements (FR_TINY_GRAD): at most
   two vectors, no rotation (the masked loads and stores take any n). */
#define TINY_GRAD_RUN_F32(FL)                                                                      \
    FR_TINY_GRAD_RUN(__m512, 16, _mm512_set1_ps, _mm512_loadu_ps, load_part_ps, _mm512_storeu_ps,  \
                     store_part_ps, _mm512_add_ps, grad_ps, FL)
#define TINY_GRAD_RUN_F64(FL)                                                                      \
    FR_TINY_GRAD_RUN(__m512d, 8, _mm512_set1_pd, _mm512_loadu_pd, load_part_pd, _mm512_storeu_pd,  \
                     store_part_pd, _mm512_add_pd, grad_pd, FL)

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

/* ---- the gradient, with the value fused and aligned loads ------------ */

/*
 * One pass over x and out per block (FR_FUSED, fr_fused.h), also for
 * float32: 4 + 4 accumulators fit in registers, so the value's sums cost
 * no second pass over the block. NumPy's large arrays start 16 bytes past
 * a 64-byte line, and then every 64-byte load splits a cache line (7-21 %
 * slower, measured on Zen 5): q, x's distance in elements from the line
 * below, rotates the lanes so that the loads are aligned (masked first and
 * last groups), and out is written at the same offsets.
 * Only when out sits where x does modulo 4 KiB (in place, or two of
 * NumPy's page-aligned allocations), so that its stores are aligned too.
 * Rotated with out a little below x modulo 4 KiB (16 .. 192 bytes), the
 * kernel called back to back on one 2048-element block (a C loop, as the
 * pool and ParamGroup call it, with no Python between calls) took 0.44 ..
 * 0.84 ns per float32 element for value_and_gradient(acc) instead of 0.18
 * (Zen 4, in L1; loads of x waiting on stores to out, 4 KiB aliasing),
 * while unrotated blocks and AVX2 kept 0.18 .. 0.23 at every offset.
 * Through Python, with a call's overhead between kernels, neither build
 * showed it; and on Zen 4 the unaligned loads cost nothing measurable, in
 * L1 or from DRAM.
 */
FR_INLINE FR_TARGET size_t rotation(const void *x, const void *out, size_t item)
{
    uintptr_t addr = (uintptr_t)x;
    if (addr % item || (addr - (uintptr_t)out) % 4096)
        return 0;
    return (size_t)(addr % 64) / item;
}

/* (double)|v| of the low / high 8 floats: |x| taken once, in float32, for
   both sums (w*w = x*x), as pass_wide does (abs_ps: fr_avx512_ops.h). */
FR_INLINE FR_TARGET __m512d wlo_abs_pd(__m512 v)
{
    return wlo_pd(abs_ps(v));
}

FR_INLINE FR_TARGET __m512d whi_abs_pd(__m512 v)
{
    return whi_pd(abs_ps(v));
}

FR_INLINE FR_TARGET void fused_f32(const float *x, float *out, size_t n, float a, float b, int FL,
                                   fr_lanes *s)
{
    __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    size_t q = rotation(x, out, sizeof *x);
    FR_FUSED(__m512, __m512d, 2, 8, float, _mm512_setzero_pd(), _mm512_loadu_ps, _mm512_storeu_ps,
             load_range_ps, store_range_ps, wlo_abs_pd, whi_abs_pd, _mm512_add_pd, _mm512_mul_pd,
             FR_SAME, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_add_ps, grad_ps, flush_pd);
}

FR_INLINE FR_TARGET void fused_f64(const double *x, double *out, size_t n, double a, double b,
                                   int FL, fr_lanes *s)
{
    __m512d va = _mm512_set1_pd(a), vb = _mm512_set1_pd(b);
    size_t q = rotation(x, out, sizeof *x);
    FR_FUSED(__m512d, __m512d, 1, 8, double, _mm512_setzero_pd(), _mm512_loadu_pd, _mm512_storeu_pd,
             load_range_pd, store_range_pd, FR_SAME, FR_SAME, _mm512_add_pd, _mm512_mul_pd, abs_pd,
             _mm512_loadu_pd, _mm512_storeu_pd, _mm512_add_pd, grad_pd, flush_pd);
}

static FR_TARGET void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags,
                               fr_lanes *s)
{
    FR_FUSED_SWITCH(fused_f32);
}

static FR_TARGET void grad_f64(const double *x, double *out, size_t n, double a, double b,
                               int flags, fr_lanes *s)
{
    FR_FUSED_SWITCH(fused_f64);
}

/* Element-wise: the head up to out's next 64-byte line as one masked
   vector (elements have no lanes here), so that the stores of the loop
   are aligned; then 4 registers per iteration, single vectors, one masked
   partial vector. */
FR_INLINE FR_TARGET size_t head(const void *out, size_t item, size_t n)
{
    uintptr_t addr = (uintptr_t)out;
    size_t h = addr % item ? 0 : (size_t)((64 - addr % 64) % 64) / item;
    return h < n ? h : n;
}

FR_INLINE FR_TARGET void prox_run_f32(const float *x, float *out, size_t n, float t, float r,
                                      int flags)
{
    size_t h = head(out, sizeof *out, n);
    if (h) {
        store_part_ps(out, prox_ps(load_part_ps(x, h), _mm512_set1_ps(t), _mm512_set1_ps(r), flags),
                      h);
        x += h;
        out += h;
        n -= h;
    }
    FR_PROX_RUN(__m512, 16, NREG, _mm512_set1_ps, _mm512_loadu_ps, load_part_ps, _mm512_storeu_ps,
                store_part_ps, prox_ps);
}

FR_INLINE FR_TARGET void prox_run_f64(const double *x, double *out, size_t n, double t, double r,
                                      int flags)
{
    size_t h = head(out, sizeof *out, n);
    if (h) {
        store_part_pd(out, prox_pd(load_part_pd(x, h), _mm512_set1_pd(t), _mm512_set1_pd(r), flags),
                      h);
        x += h;
        out += h;
        n -= h;
    }
    FR_PROX_RUN(__m512d, 8, NREG, _mm512_set1_pd, _mm512_loadu_pd, load_part_pd, _mm512_storeu_pd,
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

/* ---- the training steps (fr_update.h) --------------------------------- */

/* Included here, at the end, beside the only code that uses it. The value's
   sums are fused into the update pass (4 + 4 accumulators fit beside it, as
   in fused_f32 above), so a step reads each block of w once. Unaligned
   loads: the lanes fix the element positions, and the rotation of
   fused_f32 is not worth its masked groups here (w, g and v streams). */
#include "fr_update.h"

FR_UPDATE_FUSED_KERNELS(FR_TARGET, _mm512_setzero_pd(), flush_pd, __m512, _mm512_set1_ps,
                        _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps,
                        _mm512_mul_ps, grad_ps, prox_ps, wlo_pd, whi_pd, __m512d, 8, _mm512_set1_pd,
                        _mm512_loadu_pd, _mm512_storeu_pd, _mm512_add_pd, _mm512_sub_pd,
                        _mm512_mul_pd, abs_pd, grad_pd, prox_pd)

const struct fr_kernels fr_kernels_avx512 = {
    .name = "avx512",
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

#else /* neither x86-64 nor its emulation */
typedef int fr_avx512_unused; /* ISO C forbids an empty translation unit */
#endif
