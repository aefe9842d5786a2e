/*
 * fr_instantiate.h - the loops of the canonical algorithm as macros, which
 * each SIMD file (fr_sse2.c, fr_avx2.c, fr_avx512.c, fr_neon.c) instantiates
 * with its own vector type and operations (fr_<isa>_ops.h), and the switches
 * that specialise a kernel per flag combination. The macros name the
 * parameters of the table functions (x, n, what, flags, s, ...); NREG, the
 * number of registers per group, is each file's own. Every ISA switch lives
 * here, in one copy.
 */
#ifndef FR_INSTANTIATE_H
#define FR_INSTANTIATE_H

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

#include <string.h>

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

/*
 * value_and_gradient of 1 .. FR_LANES64 contiguous elements, for the
 * driver's tiny path: the sums of FR_TINY (TINY: the file's tiny_* of this
 * element type), then the gradient, vector by vector in registers (W
 * elements each, a partial last one), specialised per flag combination by
 * FR_TINY_GRAD_SWITCH. One kernel call instead of tiny_* + grad_*, whose
 * block loop (FR_PASS) and flag switches cost more than the arithmetic at
 * these sizes. The sums come first because out may be x; they are tiny_*'s,
 * so the bits are those of fr_reduce. GRAD(v, va, vb, flags) is the file's
 * vector gradient (grad_f32's and grad_f64's, the same bits).
 */
#define FR_TINY_GRAD_RUN(VT, W, SET1, LOAD, LOAD_PART, STORE, STORE_PART, ADD, GRAD, FL)           \
    do {                                                                                           \
        VT va = SET1(a), vb = SET1(b);                                                             \
        int k;                                                                                     \
        FR_UNROLL                                                                                  \
        for (k = 0; k < FR_LANES64 / (W); k++) {                                                   \
            size_t i = (size_t)k * (W);                                                            \
            if (i + (W) <= n) {                                                                    \
                VT g = GRAD(LOAD(x + i), va, vb, FL);                                              \
                if ((FL)&FR_ACC)                                                                   \
                    g = ADD(LOAD(out + i), g);                                                     \
                STORE(out + i, g);                                                                 \
            } else if (i < n) {                                                                    \
                VT g = GRAD(LOAD_PART(x + i, n - i), va, vb, FL);                                  \
                if ((FL)&FR_ACC)                                                                   \
                    g = ADD(LOAD_PART(out + i, n - i), g);                                         \
                STORE_PART(out + i, g, n - i);                                                     \
            }                                                                                      \
        }                                                                                          \
    } while (0)
#define FR_TINY_GRAD_CASE(RUN, FL)                                                                 \
    case FL:                                                                                       \
        RUN(FL);                                                                                   \
        break
/* The body of every tiny_grad_f32 / tiny_grad_f64. RUN(FL) is the file's
   FR_TINY_GRAD_RUN for the flags FL (a constant); every combination, as
   grad_* takes them (FR_CASES8 is defined below, before any use). */
#define FR_TINY_GRAD(TINY, RUN)                                                                    \
    do {                                                                                           \
        if (what)                                                                                  \
            TINY(x, n, what, sa, ss);                                                              \
        switch (flags & (FR_ABS | FR_SQ | FR_ACC)) {                                               \
            FR_CASES8(FR_TINY_GRAD_CASE, RUN, 0);                                                  \
        default:                                                                                   \
            break;                                                                                 \
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
/* The 16 flag combinations an element-wise kernel is specialised for, each a
   `case` made by CASE(K, FL) (K: the kernel or block macro it runs). One
   switch for every ISA and both kernel shapes (blocks here, fr_fused.h's
   one-pass kernels). */
#define FR_CASES8(CASE, K, V)                                                                      \
    CASE(K, (V) + 0);                                                                              \
    CASE(K, (V) + 1);                                                                              \
    CASE(K, (V) + 2);                                                                              \
    CASE(K, (V) + 3);                                                                              \
    CASE(K, (V) + 4);                                                                              \
    CASE(K, (V) + 5);                                                                              \
    CASE(K, (V) + 6);                                                                              \
    CASE(K, (V) + 7)
#define FR_FLAGS_SWITCH(CASE, K)                                                                   \
    switch (flags & (FR_ABS | FR_SQ | FR_ACC | FR_VALUE)) {                                        \
        FR_CASES8(CASE, K, 0);                                                                     \
        FR_CASES8(CASE, K, FR_VALUE);                                                              \
    default:                                                                                       \
        break;                                                                                     \
    }
#define FR_GRAD_SWITCH(BLOCK) FR_FLAGS_SWITCH(FR_GRAD_CASE, BLOCK)

/* The body of every sum_f32 / sum_f64: RUN(x, n, sums, s), the file's block
   of sums, specialised per term combination, so that `sums` is a constant
   in the loop; with no term there is nothing to add. */
#define FR_SUM_SWITCH(RUN)                                                                         \
    switch (what & (FR_ABS | FR_SQ)) {                                                             \
    case FR_ABS:                                                                                   \
        RUN(x, n, FR_ABS, s);                                                                      \
        break;                                                                                     \
    case FR_SQ:                                                                                    \
        RUN(x, n, FR_SQ, s);                                                                       \
        break;                                                                                     \
    case FR_ABS | FR_SQ:                                                                           \
        RUN(x, n, FR_ABS | FR_SQ, s);                                                              \
        break;                                                                                     \
    default:                                                                                       \
        break;                                                                                     \
    }

/* The body of every prox_f32 / prox_f64: RUN (the file's element-wise loop)
   specialised per term combination; with no term the prox is x itself. */
#define FR_PROX_SWITCH(RUN)                                                                        \
    switch (flags & (FR_ABS | FR_SQ)) {                                                            \
    case FR_ABS:                                                                                   \
        RUN(x, out, n, t, r, FR_ABS);                                                              \
        break;                                                                                     \
    case FR_SQ:                                                                                    \
        RUN(x, out, n, t, r, FR_SQ);                                                               \
        break;                                                                                     \
    case FR_ABS | FR_SQ:                                                                           \
        RUN(x, out, n, t, r, FR_ABS | FR_SQ);                                                      \
        break;                                                                                     \
    default: /* a copy (memmove: out may be x) */                                                  \
        memmove(out, x, n * sizeof *x);                                                            \
        break;                                                                                     \
    }

/* The element-wise loop of a prox kernel (RUN of FR_PROX_SWITCH): R
   registers of W elements per iteration, then single vectors, then one
   partial vector. PROX(v, vt, vr, flags) is the file's vector prox. */
#define FR_PROX_RUN(VT, W, R, SET1, LOAD, LOAD_PART, STORE, STORE_PART, PROX)                      \
    do {                                                                                           \
        VT vt = SET1(t), vr = SET1(r);                                                             \
        size_t i = 0;                                                                              \
        int k;                                                                                     \
        for (; i + (R) * (W) <= n; i += (R) * (W)) {                                               \
            FR_UNROLL                                                                              \
            for (k = 0; k < (R); k++)                                                              \
                STORE(out + i + (W)*k, PROX(LOAD(x + i + (W)*k), vt, vr, flags));                  \
        }                                                                                          \
        for (; i + (W) <= n; i += (W))                                                             \
            STORE(out + i, PROX(LOAD(x + i), vt, vr, flags));                                      \
        if (i < n)                                                                                 \
            STORE_PART(out + i, PROX(LOAD_PART(x + i, n - i), vt, vr, flags), n - i);              \
    } while (0)

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

#endif /* FR_INSTANTIATE_H */
