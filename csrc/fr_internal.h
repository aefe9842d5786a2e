/*
 * fr_internal.h - what the per-ISA kernel files and the driver share.
 *
 * THE CANONICAL ALGORITHM (every ISA reproduces it bit for bit)
 *
 * The driver hands the kernels the elements in "K order" (memory order:
 * axes sorted by decreasing |stride|, negative strides flipped, contiguous
 * axes merged), cut into blocks of FR_BLOCK elements; only the last block
 * may be shorter. Every element is converted exactly to float64 first
 * (float16 and float32 both fit), and all arithmetic is float64. Element i
 * of the sequence belongs to logical lane i % FR_LANES64; FR_BLOCK is a
 * multiple of it, so a block always starts at lane 0.
 *
 *   block:      L[j] = +0
 *               for i in block: L[j] = L[j] + v((double)x_i), j = i % LANES
 *               with v = |x| or x*x (the product rounded to float64, never
 *               fused into an FMA)
 *   flush:      S[j] = S[j] + L[j]                   (done by the kernel)
 *   superblock: every FR_SUPER blocks the driver does T[j] = T[j] + S[j]
 *               and clears S, so a future split over threads at superblock
 *               boundaries gives the same bits
 *   result:     fold halves: for h = LANES/2 ... 1: T[j] = T[j] + T[j + h]
 *
 * Why float64 for float32 input, although float32 lanes run about twice as
 * fast in L1/L2 on AVX2: a float32 lane rounds every addition (and every
 * square) to 24 bits. On random data those errors average out to ~1e-10 at
 * 1e7 elements, but on a constant array (np.full(n, 0.1)) they are the same
 * in every lane and block and never average out: 3e-7 relative at any n.
 * Converting each element keeps the error near 1e-16 for any input and any
 * length. Padding a partial vector with +0 is exact: lanes only ever hold
 * +0, positive values, +inf or NaN.
 *
 * Kernels must be compiled without FP contraction (-ffp-contract=off, or a
 * compiler that does not contract) and must not use FMA for any product
 * that is rounded on its own above.
 */
#ifndef FR_INTERNAL_H
#define FR_INTERNAL_H

#include "fastreg.h"

#include <stddef.h>
#include <stdint.h>

#define FR_LANES64 32   /* logical lanes (float64): 8 ymm, 4 zmm, 16 xmm or 16 NEON q */
#define FR_BLOCK   2048 /* elements per block: 64 per lane */
#define FR_SUPER   64   /* blocks per superblock */

/* Kernel flag beside fastreg.h's FR_ABS .. FR_VALUE, set by the driver: the
   array is larger than a superblock (512 KiB of float32, about L2), so it
   streams from L3 or DRAM. A kernel may then prefer one pass over memory
   even where that costs register spills (fr_avx2.c's grad_value_f32). It
   never changes a result. */
#define FR_STREAM 16

/* Per-lane float64 partial sums a kernel flushes a block into. */
typedef struct fr_lanes {
    double abs[FR_LANES64];
    double sq[FR_LANES64];
} fr_lanes;

/*
 * One table per instruction set. All functions work on contiguous data with
 * n <= FR_BLOCK elements whose first element is at a block boundary of the
 * sequence (lane 0). `what` / `flags` use FR_ABS, FR_SQ, FR_ACC, FR_VALUE.
 */
struct fr_kernels {
    const char *name;
    /* Add one block's lane sums into s (only the arrays named in what).
       sum_f32 widens each element to float64: the bits of sum_f64 on the
       widened block. */
    void (*sum_f32)(const float *x, size_t n, int what, fr_lanes *s);
    void (*sum_f64)(const double *x, size_t n, int what, fr_lanes *s);
    /* The whole reduction of 1 .. FR_LANES64 contiguous elements (FR_TINY):
     *sa and/or *ss, as `what` names them, get the final folded sums. */
    void (*tiny_f32)(const float *x, size_t n, int what, double *sa, double *ss);
    void (*tiny_f64)(const double *x, size_t n, int what, double *sa, double *ss);
    /* out[i] = [out[i] +] (a*sign(x[i]) + b*x[i]), the terms in flags; out may be x.
       With FR_VALUE, also flush the lane sums of the terms that are on into s. */
    void (*grad_f32)(const float *x, float *out, size_t n, float a, float b, int flags,
                     fr_lanes *s);
    void (*grad_f64)(const double *x, double *out, size_t n, double a, double b, int flags,
                     fr_lanes *s);
    /* out[i] = copysign(max(|x[i]| - t, 0), x[i]) if FR_ABS, then / d if FR_SQ
       (max propagates NaN); out may be x. */
    void (*prox_f32)(const float *x, float *out, size_t n, float t, float d, int flags);
    void (*prox_f64)(const double *x, double *out, size_t n, double t, double d, int flags);
    /* Exact float16 -> float32, and float32 -> float16 rounding to nearest even
       (overflow to inf, NaN kept quiet, subnormals kept). */
    void (*f16_to_f32)(const uint16_t *src, float *dst, size_t n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, size_t n);
};

extern const struct fr_kernels fr_kernels_scalar;
#if defined(__x86_64__) || defined(_M_X64)
#define FR_ARCH_X86_64 1
extern const struct fr_kernels fr_kernels_sse2;
extern const struct fr_kernels fr_kernels_avx2;
extern const struct fr_kernels fr_kernels_avx512;
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define FR_ARCH_ARM64 1
extern const struct fr_kernels fr_kernels_neon;
#endif

/* The active table (set by fr_init / fr_isa_set; read once per call). */
const struct fr_kernels *fr_active(void);

/*
 * Macros shared by the SIMD files (fr_sse2.c, fr_avx2.c, fr_avx512.c,
 * fr_neon.c). Each file instantiates FR_PASS (and FR_ROT) with its own
 * vector type and operations, and defines pass_f32, sum_f32 and block_f64;
 * the macros name the parameters of the table functions. NREG, the number
 * of registers per group, is each file's own.
 */

/* Loops over the registers of a group must be unrolled completely, or the
   accumulator arrays end up in memory. */
#if defined(__clang__)
#define FR_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define FR_UNROLL _Pragma("GCC unroll 16")
#else
#define FR_UNROLL
#endif

/*
 * One pass over a block of n elements for the registers f .. f+c-1 of each
 * group of G elements (W per register): the full groups, then the partial
 * group. `sums` names the lane sums to take (flushed into s at the end);
 * with `grad` the gradient (flags as fr_grad) is written to out, each vector
 * of x summed before its result is stored, so out may be x. f, c, sums,
 * grad and flags are compile-time constants at every use, so the
 * accumulators stay in registers and no flag is tested in the loop.
 * PREFETCH(p) is called with the start of each group in the first pass
 * (FR_NO_PREFETCH, or fr_avx2.c's prefetch_group).
 */
#define FR_PASS(VT, W, G, ZERO, LOAD, LOAD_PART, STORE, STORE_PART, ADD, MUL, ABS, GRAD, FLUSH,    \
                PREFETCH)                                                                          \
    do {                                                                                           \
        VT acc_a[NREG], acc_s[NREG], mem_a[NREG], mem_s[NREG];                                     \
        size_t groups = n / (G), r = n % (G), g;                                                   \
        int k;                                                                                     \
        FR_UNROLL                                                                                  \
        for (k = 0; k < c; k++)                                                                    \
            acc_a[k] = acc_s[k] = ZERO;                                                            \
        for (g = 0; g < groups; g++) {                                                             \
            size_t base = g * (G) + (W) * (size_t)f;                                               \
            if (f == 0)                                                                            \
                PREFETCH((const char *)(x + g * (G)));                                             \
            FR_UNROLL                                                                              \
            for (k = 0; k < c; k++) {                                                              \
                VT v = LOAD(x + base + (W)*k);                                                     \
                if (sums & FR_ABS)                                                                 \
                    acc_a[k] = ADD(acc_a[k], ABS(v));                                              \
                if (sums & FR_SQ)                                                                  \
                    acc_s[k] = ADD(acc_s[k], MUL(v, v));                                           \
                if (grad) {                                                                        \
                    VT gv = GRAD(v, va, vb, flags);                                                \
                    if (flags & FR_ACC)                                                            \
                        gv = ADD(LOAD(out + base + (W)*k), gv);                                    \
                    STORE(out + base + (W)*k, gv);                                                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        /* The partial group runs once per block: a plain loop over copies of                      \
           the accumulators in memory keeps the code small. */                                     \
        FR_UNROLL                                                                                  \
        for (k = 0; k < c; k++) {                                                                  \
            mem_a[k] = acc_a[k];                                                                   \
            mem_s[k] = acc_s[k];                                                                   \
        }                                                                                          \
        for (k = 0; k < c && (W) * (size_t)(f + k) < r; k++) {                                     \
            size_t i = groups * (G) + (W) * (size_t)(f + k);                                       \
            size_t lk = r - (W) * (size_t)(f + k); /* elements left, >= 1 */                       \
            VT v = lk >= (W) ? LOAD(x + i) : LOAD_PART(x + i, lk);                                 \
            if (sums & FR_ABS)                                                                     \
                mem_a[k] = ADD(mem_a[k], ABS(v));                                                  \
            if (sums & FR_SQ)                                                                      \
                mem_s[k] = ADD(mem_s[k], MUL(v, v));                                               \
            if (grad) {                                                                            \
                VT gv = GRAD(v, va, vb, flags);                                                    \
                if (lk >= (W)) {                                                                   \
                    if (flags & FR_ACC)                                                            \
                        gv = ADD(LOAD(out + i), gv);                                               \
                    STORE(out + i, gv);                                                            \
                } else {                                                                           \
                    if (flags & FR_ACC)                                                            \
                        gv = ADD(LOAD_PART(out + i, lk), gv);                                      \
                    STORE_PART(out + i, gv, lk);                                                   \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (k = 0; k < c; k++) {                                                                  \
            if (sums & FR_ABS)                                                                     \
                FLUSH(s->abs + (W) * (size_t)(f + k), mem_a[k]);                                   \
            if (sums & FR_SQ)                                                                      \
                FLUSH(s->sq + (W) * (size_t)(f + k), mem_s[k]);                                    \
        }                                                                                          \
    } while (0)

/* One sum of a float64 block whose x is misaligned by q elements, read with
   aligned loads (fr_avx2.c, fr_avx512.c: "aligned loads for a misaligned x"
   there): the element positions [q, q + n) of the aligned vectors at xa are
   the block; vector t goes to register t % NREG. `sums` is a constant. */
#define FR_ROT(VT, W, G, ET, ZERO, LOAD_ALIGNED, MASKLOAD, RANGE, STOREU, LOADU, ADD, MUL, ABS,    \
               FLUSH)                                                                              \
    do {                                                                                           \
        const ET *xa = (const ET *)((uintptr_t)x - q * sizeof(ET));                                \
        size_t end = n + q, nvec = (end + (W)-1) / (W), whole = end / (W), g, t;                   \
        VT acc_a[NREG], acc_s[NREG];                                                               \
        ET buf_a[(G) + (W)], buf_s[(G) + (W)]; /* rotated lanes + a copy of the first vector */    \
        int k;                                                                                     \
        FR_UNROLL                                                                                  \
        for (k = 0; k < NREG; k++) {    /* group 0: the q masked elements first; past nvec the */  \
            VT v = MASKLOAD(xa + (W)*k, /* mask is empty (no access) */                            \
                            RANGE((ptrdiff_t)q - (W)*k, (ptrdiff_t)end - (W)*k));                  \
            acc_a[k] = (sums & FR_ABS) ? ABS(v) : ZERO;                                            \
            acc_s[k] = (sums & FR_SQ) ? MUL(v, v) : ZERO;                                          \
        }                                                                                          \
        for (g = 1; (size_t)NREG * (g + 1) <= whole; g++) { /* whole groups: aligned loads */      \
            FR_UNROLL                                                                              \
            for (k = 0; k < NREG; k++) {                                                           \
                VT v = LOAD_ALIGNED(xa + (G)*g + (W)*k);                                           \
                if (sums & FR_ABS)                                                                 \
                    acc_a[k] = ADD(acc_a[k], ABS(v));                                              \
                if (sums & FR_SQ)                                                                  \
                    acc_s[k] = ADD(acc_s[k], MUL(v, v));                                           \
            }                                                                                      \
        }                                                                                          \
        FR_UNROLL                                                                                  \
        for (k = 0; k < NREG; k++) {                                                               \
            STOREU(buf_a + (W)*k, acc_a[k]);                                                       \
            STOREU(buf_s + (W)*k, acc_s[k]);                                                       \
        }                                                                                          \
        for (t = (size_t)NREG * g; t < nvec; t++) { /* the rest (at most one group) */             \
            VT v = MASKLOAD(xa + (W)*t, RANGE(0, (ptrdiff_t)(end - (W)*t)));                       \
            ET *pa = buf_a + (W) * (t % NREG), *ps = buf_s + (W) * (t % NREG);                     \
            if (sums & FR_ABS)                                                                     \
                STOREU(pa, ADD(LOADU(pa), ABS(v)));                                                \
            if (sums & FR_SQ)                                                                      \
                STOREU(ps, ADD(LOADU(ps), MUL(v, v)));                                             \
        }                                                                                          \
        memcpy(buf_a + (G), buf_a, (W) * sizeof(ET));                                              \
        memcpy(buf_s + (G), buf_s, (W) * sizeof(ET));                                              \
        FR_UNROLL                                                                                  \
        for (k = 0; k < NREG; k++) { /* un-rotate: lane j is at flat index (j + q) % G */          \
            if (sums & FR_ABS)                                                                     \
                FLUSH(s->abs + (W)*k, LOADU(buf_a + (W)*k + q));                                   \
            if (sums & FR_SQ)                                                                      \
                FLUSH(s->sq + (W)*k, LOADU(buf_s + (W)*k + q));                                    \
        }                                                                                          \
    } while (0)

/*
 * The canonical algorithm for 1 .. FR_LANES64 contiguous elements: one
 * partial block with at most one element per lane, so lane j holds element
 * j (as float64, |x| or x*x) or +0, and the result is the fold of halves.
 * In registers of W lanes, the fold steps h >= W add register k + h/W into
 * register k; HSUM folds the last register's own lanes (h = W/2 .. 1) and
 * returns lane 0. This skips the lane arrays, the flush and the driver's
 * block set-up, which cost more than the arithmetic at these sizes.
 * LOAD_PART(p, r) loads the first r < W elements and +0 after them.
 */
#define FR_TINY(VT, W, ZERO, LOAD, LOAD_PART, ADD, MUL, ABS, HSUM)                                 \
    do {                                                                                           \
        VT v[FR_LANES64 / (W)], t[FR_LANES64 / (W)];                                               \
        int k, h, term;                                                                            \
        FR_UNROLL                                                                                  \
        for (k = 0; k < FR_LANES64 / (W); k++) {                                                   \
            size_t i = (size_t)k * (W);                                                            \
            v[k] = i + (W) <= n ? LOAD(x + i) : i < n ? LOAD_PART(x + i, n - i) : ZERO;            \
        }                                                                                          \
        FR_UNROLL                                                                                  \
        for (term = FR_ABS; term <= FR_SQ; term *= 2) {                                            \
            if (!(what & term))                                                                    \
                continue;                                                                          \
            FR_UNROLL                                                                              \
            for (k = 0; k < FR_LANES64 / (W); k++)                                                 \
                t[k] = term == FR_ABS ? ABS(v[k]) : MUL(v[k], v[k]);                               \
            FR_UNROLL                                                                              \
            for (h = FR_LANES64 / (W) / 2; h >= 1; h /= 2) {                                       \
                FR_UNROLL                                                                          \
                for (k = 0; k < h; k++)                                                            \
                    t[k] = ADD(t[k], t[k + h]);                                                    \
            }                                                                                      \
            *(term == FR_ABS ? sa : ss) = HSUM(t[0]);                                              \
        }                                                                                          \
    } while (0)

/* Slots of FR_PASS that a caller compiles out (sums = 0, or grad = 0). */
#define FR_NO_FLUSH(dst, acc)     ((void)(dst), (void)(acc))
#define FR_NO_STORE(o, v)         ((void)(o), (void)(v))
#define FR_NO_STORE_PART(o, v, r) ((void)(o), (void)(v), (void)(r))
#define FR_NO_PREFETCH(p)         ((void)(p))

/* One specialised copy of the block per flag combination (float64: 16,
   float32: 8), so that no flag is tested inside the loop. float64 with
   FR_VALUE takes the sums of the terms that are on in the same pass over x. */
#define FR_GRAD_CASE(BLOCK, FL)                                                                    \
    case FL:                                                                                       \
        BLOCK(x, out, n, ((FL)&FR_VALUE) ? ((FL) & (FR_ABS | FR_SQ)) : 0, 1, FL, a, b, s);         \
        break
#define FR_GRAD_CASES8(BLOCK, V)                                                                   \
    FR_GRAD_CASE(BLOCK, (V) + 0);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 1);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 2);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 3);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 4);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 5);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 6);                                                                  \
    FR_GRAD_CASE(BLOCK, (V) + 7)
#define FR_GRAD_SWITCH(BLOCK)                                                                      \
    switch (flags & (FR_ABS | FR_SQ | FR_ACC | FR_VALUE)) {                                        \
        FR_GRAD_CASES8(BLOCK, 0);                                                                  \
        FR_GRAD_CASES8(BLOCK, FR_VALUE);                                                           \
    default:                                                                                       \
        break;                                                                                     \
    }

/* The body of every prox_f32 / prox_f64: RUN (the file's element-wise loop)
   specialised per term combination; with no term the prox is x itself. */
#define FR_PROX_SWITCH(RUN)                                                                        \
    switch (flags & (FR_ABS | FR_SQ)) {                                                            \
    case FR_ABS:                                                                                   \
        RUN(x, out, n, t, d, FR_ABS);                                                              \
        break;                                                                                     \
    case FR_SQ:                                                                                    \
        RUN(x, out, n, t, d, FR_SQ);                                                               \
        break;                                                                                     \
    case FR_ABS | FR_SQ:                                                                           \
        RUN(x, out, n, t, d, FR_ABS | FR_SQ);                                                      \
        break;                                                                                     \
    default: /* a copy (memmove: out may be x) */                                                  \
        memmove(out, x, n * sizeof *x);                                                            \
        break;                                                                                     \
    }

/* The body of grad_f32 where the value is not fused into the gradient
   pass: pass_f32 specialised per flag combination, and the value's sums
   (the float64 ones of sum_f32) in a second pass over x, now in L1; when
   out is x they must come first, before the gradient overwrites it. */
#define FR_GRAD_F32_CASE(FL)                                                                       \
    case FL:                                                                                       \
        pass_f32(x, out, n, FL, a, b);                                                             \
        break
#define FR_GRAD_F32_BODY                                                                           \
    if ((flags & FR_VALUE) && out == x)                                                            \
        sum_f32(x, n, flags &(FR_ABS | FR_SQ), s);                                                 \
    switch (flags & (FR_ABS | FR_SQ | FR_ACC)) {                                                   \
        FR_GRAD_F32_CASE(0);                                                                       \
        FR_GRAD_F32_CASE(1);                                                                       \
        FR_GRAD_F32_CASE(2);                                                                       \
        FR_GRAD_F32_CASE(3);                                                                       \
        FR_GRAD_F32_CASE(4);                                                                       \
        FR_GRAD_F32_CASE(5);                                                                       \
        FR_GRAD_F32_CASE(6);                                                                       \
        FR_GRAD_F32_CASE(7);                                                                       \
    default:                                                                                       \
        break;                                                                                     \
    }                                                                                              \
    if ((flags & FR_VALUE) && out != x)                                                            \
        sum_f32(x, n, flags &(FR_ABS | FR_SQ), s);

/* Portable scalar float16 conversions, shared reference for every ISA. */
static inline float fr_h2f(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    union {
        uint32_t u;
        float f;
    } r;
    if (exp == 0x1f) { /* inf / NaN: keep the payload, make NaN quiet */
        bits = sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0u);
    } else if (exp != 0) { /* normal */
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) { /* +-0 */
        bits = sign;
    } else { /* subnormal: renormalise */
        uint32_t e = 113u;
        while (!(man & 0x400u)) {
            man <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
    r.u = bits;
    return r.f;
}

static inline uint16_t fr_f2h(float f)
{
    union {
        float f;
        uint32_t u;
    } v;
    uint32_t sign, exp, man;
    v.f = f;
    sign = (v.u >> 16) & 0x8000u;
    exp = (v.u >> 23) & 0xffu;
    man = v.u & 0x7fffffu;
    if (exp == 0xff) /* inf / NaN (quiet, top payload bits kept) */
        return (uint16_t)(sign | 0x7c00u | (man ? (0x200u | (man >> 13)) : 0u));
    if (exp > 142) /* >= 2^16: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (exp >= 113) { /* normal half: round 23 -> 10 mantissa bits, ties to even */
        uint32_t h = ((exp - 112u) << 10) | (man >> 13);
        uint32_t rest = man & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
            h++; /* may carry into the exponent, up to inf: both correct */
        return (uint16_t)(sign | h);
    }
    if (exp >= 102) { /* subnormal half: shift the implicit-1 mantissa */
        uint32_t m = man | 0x800000u;
        uint32_t shift = 126u - exp; /* 14 .. 24 */
        uint32_t h = m >> shift;
        uint32_t rest = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (h & 1u)))
            h++;
        return (uint16_t)(sign | h);
    }
    return (uint16_t)sign; /* below half the smallest subnormal: +-0 */
}

#endif /* FR_INTERNAL_H */
