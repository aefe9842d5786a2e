/*
 * fr_fused.h - the one-pass fused gradient + value kernel of every SIMD
 * file (FR_FUSED), a macro like those of fr_instantiate.h: each file
 * instantiates it with its own vector types and operations. It names the
 * parameters of the table's grad_* functions (x, out, n, s), the file's
 * NREG, and the caller's va, vb (the gradient factors as vectors) and q
 * (the rotation, see below).
 */
#ifndef FR_FUSED_H
#define FR_FUSED_H

#include "fr_compiler.h"
#include "fr_instantiate.h"
#include "fr_kernel_abi.h"

#include <stdint.h>
#include <string.h>

/* WLO / WHI of a float64 vector: the vector itself (R = 1). */
#define FR_SAME(v) (v)

/*
 * The gradient of a block with the value's sums (FR_VALUE) fused into the
 * same pass: one stream over x and out, each vector summed before its
 * gradient is stored (so out may be x). A vector of x holds R*W elements
 * (R = 2: float32 widened by WLO / WHI into two lane registers of W
 * doubles; R = 1: float64, WLO = WHI = itself); a group is NREG vectors,
 * R*FR_LANES64 elements, and its vector k goes to the lane registers
 * (R*k) % NREG and (R*k + 1) % NREG, so every lane adds its own elements
 * in order.
 *
 * With q > 0 the block is read from x - q and written to out - q, so that
 * every load of x is aligned when x starts q elements past a vector
 * boundary. Element i then sits at flat lane index (i + q) % FR_LANES64:
 * the same place for every element of lane j = i % FR_LANES64, so the
 * lanes only sit rotated, and the flush un-rotates them. The first group
 * (positions [q, ...)) and the last (positions [..., q + n)) are masked:
 * MLOAD(p, lo, hi) loads the positions lo .. hi-1 of one vector (clamped to
 * 0 .. R*W) and +0 at the others, MSTORE(p, v, lo, hi) stores those
 * positions only; neither touches the others. The +0 of a masked-off
 * element adds exactly nothing to a lane (lanes hold +0, positive values,
 * inf or NaN) and its gradient is never stored, so the bits are the
 * canonical ones for any q. FL (the flags) is a constant at every use.
 */
/* How a lane register adds |w| and w*w: the product rounded, then the sum
   (fr_contract.h). A file may define these before including this header
   to add its float32 lanes (R = 2) otherwise with the same bits
   (fr_avx512.c: FMAs, whose single rounding is the add's there). */
#ifndef FR_FUSED_ABS_ACC
#define FR_FUSED_ABS_ACC(R, ADDD, ABSD, acc, w) ADDD(acc, ABSD(w))
#endif
#ifndef FR_FUSED_SQ_ACC
#define FR_FUSED_SQ_ACC(R, ADDD, MULD, acc, w) ADDD(acc, MULD(w, w))
#endif
#define FR_FUSED_SUMS(VD, R, WLO, WHI, ADDD, MULD, ABSD, v, k)                                     \
    if (FL & FR_VALUE) {                                                                           \
        VD lo_ = WLO(v), hi_ = WHI(v);                                                             \
        int r0_ = ((R) * (k)) % NREG, r1_ = ((R) * (k) + 1) % NREG;                                \
        if (FL & FR_ABS)                                                                           \
            acc_a[r0_] = FR_FUSED_ABS_ACC(R, ADDD, ABSD, acc_a[r0_], lo_);                         \
        if (FL & FR_SQ)                                                                            \
            acc_s[r0_] = FR_FUSED_SQ_ACC(R, ADDD, MULD, acc_s[r0_], lo_);                          \
        if ((FL & FR_ABS) && (R) == 2)                                                             \
            acc_a[r1_] = FR_FUSED_ABS_ACC(R, ADDD, ABSD, acc_a[r1_], hi_);                         \
        if ((FL & FR_SQ) && (R) == 2)                                                              \
            acc_s[r1_] = FR_FUSED_SQ_ACC(R, ADDD, MULD, acc_s[r1_], hi_);                          \
    }
#define FR_FUSED(VS, VD, R, W, ET, ZEROD, LOADU, STOREU, MLOAD, MSTORE, WLO, WHI, ADDD, MULD,      \
                 ABSD, LOADD, STORED, ADDS, GRAD, FLUSH)                                           \
    do {                                                                                           \
        const ET *xa = (const ET *)((uintptr_t)x - q * sizeof(ET));                                \
        ET *oa = (ET *)((uintptr_t)out - q * sizeof(ET));                                          \
        const size_t V = (size_t)(R) * (W), G = NREG * V, end = n + q;                             \
        VD acc_a[NREG], acc_s[NREG];                                                               \
        double buf[2 * FR_LANES64]; /* the rotated lanes, twice */                                 \
        size_t g;                                                                                  \
        int k, h;                                                                                  \
        FR_UNROLL                                                                                  \
        for (k = 0; k < NREG; k++)                                                                 \
            acc_a[k] = acc_s[k] = ZEROD;                                                           \
        for (g = 0; g * G < end; g++) {                                                            \
            if ((g || !q) && (g + 1) * G <= end) {                                                 \
                FR_UNROLL                                                                          \
                for (k = 0; k < NREG; k++) {                                                       \
                    size_t at = g * G + V * (size_t)k;                                             \
                    VS v = LOADU(xa + at), gv;                                                     \
                    FR_FUSED_SUMS(VD, R, WLO, WHI, ADDD, MULD, ABSD, v, k)                         \
                    gv = GRAD(v, va, vb, FL);                                                      \
                    if (FL & FR_ACC)                                                               \
                        gv = ADDS(LOADU(oa + at), gv);                                             \
                    STOREU(oa + at, gv);                                                           \
                }                                                                                  \
            } else { /* the first group (q > 0) or the last, partial, one */                       \
                FR_UNROLL                                                                          \
                for (k = 0; k < NREG; k++) {                                                       \
                    size_t at = g * G + V * (size_t)k;                                             \
                    ptrdiff_t lo = (ptrdiff_t)q - (ptrdiff_t)at, hi = (ptrdiff_t)(end - at);       \
                    VS v = MLOAD(xa + at, lo, hi), gv;                                             \
                    FR_FUSED_SUMS(VD, R, WLO, WHI, ADDD, MULD, ABSD, v, k)                         \
                    gv = GRAD(v, va, vb, FL);                                                      \
                    if (FL & FR_ACC)                                                               \
                        gv = ADDS(MLOAD(oa + at, lo, hi), gv);                                     \
                    MSTORE(oa + at, gv, lo, hi);                                                   \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        FR_UNROLL                                                                                  \
        for (h = 0; h < 2; h++) { /* un-rotate: lane j is at flat index (j + q) % 32 */            \
            double *dst = h ? s->sq : s->abs;                                                      \
            if (!(FL & FR_VALUE) || !(FL & (h ? FR_SQ : FR_ABS)))                                  \
                continue;                                                                          \
            FR_UNROLL                                                                              \
            for (k = 0; k < NREG; k++)                                                             \
                STORED(buf + (W) * (size_t)k, h ? acc_s[k] : acc_a[k]);                            \
            memcpy(buf + FR_LANES64, buf, FR_LANES64 * sizeof(double));                            \
            FR_UNROLL                                                                              \
            for (k = 0; k < NREG; k++)                                                             \
                FLUSH(dst + (W) * (size_t)k, LOADD(buf + (W) * (size_t)k + q));                    \
        }                                                                                          \
    } while (0)

/* Every flag combination of a fused kernel RUN(x, out, n, a, b, FL, s). */
#define FR_FUSED_CASE(RUN, FL)                                                                     \
    case FL:                                                                                       \
        RUN(x, out, n, a, b, FL, s);                                                               \
        break
#define FR_FUSED_SWITCH(RUN) FR_FLAGS_SWITCH(FR_FUSED_CASE, RUN)
/* Only the FR_VALUE combinations (a file that runs plain gradients elsewhere). */
#define FR_FUSED_VALUE_SWITCH(RUN)                                                                 \
    switch (flags & (FR_ABS | FR_SQ | FR_ACC | FR_VALUE)) {                                        \
        FR_CASES8(FR_FUSED_CASE, RUN, FR_VALUE);                                                   \
    default:                                                                                       \
        break;                                                                                     \
    }

#endif /* FR_FUSED_H */
