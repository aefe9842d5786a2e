/*
 * fr_update.h - the element-wise training steps of fr_group.c (the table's
 * sgd_* and pgd_* entries) as macros, which every ISA file (fr_scalar.c,
 * fr_sse2.c, fr_avx2.c, fr_avx512.c, fr_neon.c) instantiates with its own
 * vector type and operations, as it does those of fr_instantiate.h.
 *
 * The regularizer's gradient is computed in registers and used at once: one
 * pass reads w and g and writes w (and v), instead of the gradient stored
 * into a block buffer and read back by a second loop. Each element goes
 * through exactly the operations NumPy applies for
 *   SGD:      u = g + grad(w); [v = mu*v + u; u = v]; w = w - lr*u
 *   prox-SGD: w = prox(w - lr*g)
 * in that order, each rounded on its own in the element type (no FMA: the
 * build has -ffp-contract=off, and the AVX2 target has no "fma"), with the
 * operands in NumPy's order (an x86 or Arm operation on two NaNs returns
 * the first one's payload). GRAD and PROX are the file's own, those of its
 * grad_* and prox_* kernels (the C tests hold them to fr_scalar.c's), so
 * every ISA gives the bits of fr_scalar.c.
 *
 * With FR_VALUE the kernels also add the canonical lane sums of w (before
 * the step) into s, as sum_* would: FR_UPDATE_KERNELS by a sum_* pass over
 * the block first (which also brings it into L1 for the update), and
 * FR_UPDATE_FUSED_KERNELS (fr_avx512.c, which has the registers for it) in
 * the update's own pass, as fr_fused.h's gradient kernels do.
 */
#ifndef FR_UPDATE_H
#define FR_UPDATE_H

#include "fr_compiler.h"
#include "fr_fused.h"
#include "fr_kernel_abi.h"

/* A specialisation bit beside FR_ABS | FR_SQ | FR_VALUE, never passed in by
   a caller: the kernels set it when v is not NULL (heavy-ball momentum), so
   that the loop tests no pointer. */
#define FR_UPD_MOM 32

/* One SGD vector: wv, the vector of w at element offset `at` of wp (already
   loaded), and those of gp, vp; FL is a constant. */
#define FR_SGD_VEC(VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX, FL, wv, wp, gp, vp, at)             \
    do {                                                                                           \
        VT w_ = (wv), u_ = LOAD((gp) + (at));                                                      \
        if ((FL) & (FR_ABS | FR_SQ))                                                               \
            u_ = ADD(u_, GRAD(w_, va, vb, (FL)));                                                  \
        if ((FL)&FR_UPD_MOM) {                                                                     \
            u_ = ADD(MUL(vmu, LOAD((vp) + (at))), u_);                                             \
            STORE((vp) + (at), u_);                                                                \
        }                                                                                          \
        STORE((wp) + (at), SUB(w_, MUL(vlr, u_)));                                                 \
    } while (0)

/* One proximal-SGD vector: z = w - lr*g, then the prox of the terms. */
#define FR_PGD_VEC(VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX, FL, wv, wp, gp, vp, at)             \
    do {                                                                                           \
        VT z_ = SUB((wv), MUL(vlr, LOAD((gp) + (at))));                                            \
        if ((FL) & (FR_ABS | FR_SQ))                                                               \
            z_ = PROX(z_, vt, vr, (FL));                                                           \
        STORE((wp) + (at), z_);                                                                    \
        (void)(vp);                                                                                \
    } while (0)

/* cnt (fewer than N) elements of wp, gp, vp copied into zero-padded
   scratch of N elements, CALL(bw_, bg_, bv_, ...) run on it, and w, v
   copied back: the same operations on the same values, so the same bits,
   and nothing outside [0, cnt) is read or written. Loops, not memcpy: vp
   may be a constant NULL. */
#define FR_UPD_SCRATCH(ET, N, wp, gp, vp, cnt, CALL, ...)                                          \
    do {                                                                                           \
        ET bw_[N], bg_[N], bv_[N];                                                                 \
        size_t c_ = (cnt), j_;                                                                     \
        for (j_ = 0; j_ < (size_t)(N); j_++)                                                       \
            bw_[j_] = bg_[j_] = bv_[j_] = 0;                                                       \
        for (j_ = 0; j_ < c_; j_++) {                                                              \
            bw_[j_] = (wp)[j_];                                                                    \
            bg_[j_] = (gp)[j_];                                                                    \
            if (vp)                                                                                \
                bv_[j_] = (vp)[j_];                                                                \
        }                                                                                          \
        CALL(bw_, bg_, bv_, __VA_ARGS__);                                                          \
        for (j_ = 0; j_ < c_; j_++) {                                                              \
            (wp)[j_] = bw_[j_];                                                                    \
            if (vp)                                                                                \
                (vp)[j_] = bv_[j_];                                                                \
        }                                                                                          \
    } while (0)

/* VEC (FR_SGD_VEC or FR_PGD_VEC) on the vector at `at`, with the file's
   operations; at 0 (for FR_UPD_SCRATCH). */
#define FR_UPD_AT(wp, gp, vp, at, VEC, VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX)                 \
    VEC(VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX, FL, LOAD((wp) + (at)), wp, gp, vp, at)
#define FR_UPD_AT0(wp, gp, vp, ...) FR_UPD_AT(wp, gp, vp, 0, __VA_ARGS__)

/*
 * The loop of one kernel over n elements of w, g (and v): first the head,
 * HEAD(w, n) elements (the file's choice, e.g. up to w's next 64-byte line
 * so that the stores of the loop are aligned; 0 for none), then R vectors
 * of W elements per iteration, then single vectors, then the tail. The head
 * and the tail (fewer than W elements each) go through FR_UPD_SCRATCH. The
 * trailing arguments: VEC, VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX.
 */
#define FR_UPD_LOOP(ET, W, R, HEAD, ...)                                                           \
    do {                                                                                           \
        size_t i = HEAD(w, n), k;                                                                  \
        ET *vo = (FL & FR_UPD_MOM) ? v : NULL;                                                     \
        if (i)                                                                                     \
            FR_UPD_SCRATCH(ET, W, w, g, vo, i, FR_UPD_AT0, __VA_ARGS__);                           \
        for (; i + (size_t)(R) * (W) <= n; i += (size_t)(R) * (W)) {                               \
            FR_UNROLL                                                                              \
            for (k = 0; k < (size_t)(R); k++)                                                      \
                FR_UPD_AT(w, g, vo, i + (W)*k, __VA_ARGS__);                                       \
        }                                                                                          \
        for (; i + (W) <= n; i += (W))                                                             \
            FR_UPD_AT(w, g, vo, i, __VA_ARGS__);                                                   \
        if (i < n)                                                                                 \
            FR_UPD_SCRATCH(ET, W, w + i, g + i, vo ? vo + i : NULL, n - i, FR_UPD_AT0,             \
                           __VA_ARGS__);                                                           \
    } while (0)

/* No head: every file but fr_avx512.c. */
#define FR_UPD_NO_HEAD(w, n) ((void)(w), (void)(n), (size_t)0)

/*
 * The fused loop (FR_UPDATE_FUSED_KERNELS): groups of NREG vectors of R*W
 * elements (the file's NREG), each vector of w loaded once, its lane sums
 * taken as fr_fused.h's FR_FUSED_SUMS does (vector k of a group into the
 * lane registers (R*k) % NREG and (R*k + 1) % NREG, so every lane adds its
 * own elements in order), then VEC on it. The last, partial group goes
 * through zero-padded scratch: +0 adds exactly nothing to a lane. No head:
 * the lanes are fixed by the element positions.
 */
#define FR_UPD_GROUP(wp, gp, vp, base, R, W, VD, WLO, WHI, ADDD, MULD, ABSD, VEC, VT, LOAD, STORE, \
                     ADD, SUB, MUL, GRAD, PROX)                                                    \
    do {                                                                                           \
        int kg_;                                                                                   \
        FR_UNROLL                                                                                  \
        for (kg_ = 0; kg_ < NREG; kg_++) {                                                         \
            size_t at_ = (base) + (size_t)(R) * (W) * (size_t)kg_;                                 \
            VT x_ = LOAD((wp) + at_);                                                              \
            FR_FUSED_SUMS(VD, R, WLO, WHI, ADDD, MULD, ABSD, x_, kg_)                              \
            VEC(VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX, FL, x_, wp, gp, vp, at_);              \
        }                                                                                          \
    } while (0)
#define FR_UPD_GROUP0(wp, gp, vp, ...) FR_UPD_GROUP(wp, gp, vp, 0, __VA_ARGS__)
/* The trailing arguments: WLO, WHI, ADDD, MULD, ABSD, VEC, VT, LOAD, STORE,
   ADD, SUB, MUL, GRAD, PROX. */
#define FR_UPD_FUSED_LOOP(ET, ZEROD, FLUSH, R, W, VD, ...)                                         \
    do {                                                                                           \
        const size_t G_ = (size_t)NREG * (R) * (W);                                                \
        VD acc_a[NREG], acc_s[NREG];                                                               \
        size_t b_ = 0;                                                                             \
        int k_;                                                                                    \
        ET *vo = (FL & FR_UPD_MOM) ? v : NULL;                                                     \
        FR_UNROLL                                                                                  \
        for (k_ = 0; k_ < NREG; k_++)                                                              \
            acc_a[k_] = acc_s[k_] = ZEROD;                                                         \
        for (; b_ + G_ <= n; b_ += G_)                                                             \
            FR_UPD_GROUP(w, g, vo, b_, R, W, VD, __VA_ARGS__);                                     \
        if (b_ < n)                                                                                \
            FR_UPD_SCRATCH(ET, NREG *(R) * (W), w + b_, g + b_, vo ? vo + b_ : NULL, n - b_,       \
                           FR_UPD_GROUP0, R, W, VD, __VA_ARGS__);                                  \
        FR_UNROLL                                                                                  \
        for (k_ = 0; k_ < NREG; k_++) {                                                            \
            if ((FL & FR_VALUE) && (FL & FR_ABS))                                                  \
                FLUSH(s->abs + (W) * (size_t)k_, acc_a[k_]);                                       \
            if ((FL & FR_VALUE) && (FL & FR_SQ))                                                   \
                FLUSH(s->sq + (W) * (size_t)k_, acc_s[k_]);                                        \
        }                                                                                          \
    } while (0)

/* The bodies of the table's sgd_* and pgd_*: RUN(...) specialised per
   term combination and momentum, and with V = FR_VALUE per value flag (the
   fused kernels), so that FL is a constant in the loop. */
#define FR_SGD_CASE(RUN, FL)                                                                       \
    case FL:                                                                                       \
        RUN(w, g, v, n, a, b, lr, mu, FL, s);                                                      \
        break
#define FR_SGD_CASES(RUN, V)                                                                       \
    FR_SGD_CASE(RUN, (V) + 0);                                                                     \
    FR_SGD_CASE(RUN, (V) + FR_ABS);                                                                \
    FR_SGD_CASE(RUN, (V) + FR_SQ);                                                                 \
    FR_SGD_CASE(RUN, (V) + (FR_ABS | FR_SQ));                                                      \
    FR_SGD_CASE(RUN, (V) + FR_UPD_MOM);                                                            \
    FR_SGD_CASE(RUN, (V) + (FR_UPD_MOM | FR_ABS));                                                 \
    FR_SGD_CASE(RUN, (V) + (FR_UPD_MOM | FR_SQ));                                                  \
    FR_SGD_CASE(RUN, (V) + (FR_UPD_MOM | FR_ABS | FR_SQ))
#define FR_PGD_CASE(RUN, FL)                                                                       \
    case FL:                                                                                       \
        RUN(w, g, n, lr, t, r, FL, s);                                                             \
        break
#define FR_PGD_CASES(RUN, V)                                                                       \
    FR_PGD_CASE(RUN, (V) + 0);                                                                     \
    FR_PGD_CASE(RUN, (V) + FR_ABS);                                                                \
    FR_PGD_CASE(RUN, (V) + FR_SQ);                                                                 \
    FR_PGD_CASE(RUN, (V) + (FR_ABS | FR_SQ))

/* The key of those switches: the terms, the value (when `value`), momentum. */
#define FR_UPD_KEY(value, mom)                                                                     \
    ((flags & (FR_ABS | FR_SQ | ((value) ? FR_VALUE : 0))) | ((mom) ? FR_UPD_MOM : 0))

/* The set-up of the run functions: the factors as vectors. */
#define FR_UPD_SGD_SETUP(VT, SET1)                                                                 \
    VT va = SET1(a), vb = SET1(b), vlr = SET1(lr), vmu = SET1(mu);                                 \
    (void)va;                                                                                      \
    (void)vb;                                                                                      \
    (void)vmu;                                                                                     \
    (void)s
#define FR_UPD_PGD_SETUP(ET, VT, SET1)                                                             \
    VT vlr = SET1(lr), vt = SET1(t), vr = SET1(r);                                                 \
    ET *v = NULL;                                                                                  \
    (void)vt;                                                                                      \
    (void)vr;                                                                                      \
    (void)s
#define FR_UPD_SGD_RUN(TGT, ET, SFX)                                                               \
    FR_INLINE TGT void fr_upd_sgd_run_##SFX(ET *w, const ET *g, ET *v, size_t n, ET a, ET b,       \
                                            ET lr, ET mu, int FL, fr_lanes *s)
#define FR_UPD_PGD_RUN(TGT, ET, SFX)                                                               \
    FR_INLINE TGT void fr_upd_pgd_run_##SFX(ET *w, const ET *g, size_t n, ET lr, ET t, ET r,       \
                                            int FL, fr_lanes *s)
/* The table functions: PRE (the file's sum_* pass for FR_VALUE, or
   nothing), then the run function, specialised by a switch over CASES
   (FR_UPD_PLAIN: the terms and momentum; FR_UPD_VALUED: also the value). */
#define FR_UPD_PLAIN(CASES, RUN)                                                                   \
    CASES(RUN, 0);                                                                                 \
    default:                                                                                       \
        break
#define FR_UPD_VALUED(CASES, RUN)                                                                  \
    CASES(RUN, 0);                                                                                 \
    CASES(RUN, FR_VALUE);                                                                          \
    default:                                                                                       \
        break
#define FR_UPD_TABLE_FNS(TGT, ET, SFX, SUM, value, SWITCH)                                         \
    static TGT void fr_upd_sgd_##SFX(ET *w, const ET *g, ET *v, size_t n, ET a, ET b, ET lr,       \
                                     ET mu, int flags, fr_lanes *s)                                \
    {                                                                                              \
        if (!(value) && (flags & FR_VALUE))                                                        \
            SUM(w, n, flags &(FR_ABS | FR_SQ), s);                                                 \
        switch (FR_UPD_KEY(value, v)) {                                                            \
            SWITCH(FR_SGD_CASES, fr_upd_sgd_run_##SFX);                                            \
        }                                                                                          \
    }                                                                                              \
    static TGT void fr_upd_pgd_##SFX(ET *w, const ET *g, size_t n, ET lr, ET t, ET r, int flags,   \
                                     fr_lanes *s)                                                  \
    {                                                                                              \
        if (!(value) && (flags & FR_VALUE))                                                        \
            SUM(w, n, flags &(FR_ABS | FR_SQ), s);                                                 \
        switch (FR_UPD_KEY(value, 0)) {                                                            \
            SWITCH(FR_PGD_CASES, fr_upd_pgd_run_##SFX);                                            \
        }                                                                                          \
    }

/*
 * Everything a file needs: the table functions fr_upd_sgd_f32 ..
 * fr_upd_pgd_f64 (static; the file's table names them) and their inline
 * bodies. Per element type: SUM, the file's sum_* (for FR_VALUE: a pass
 * before the update), the vector type, W, SET1, the loads and stores, ADD,
 * SUB, MUL, the file's GRAD and PROX. R is the vectors per iteration, HEAD
 * as FR_UPD_LOOP, TGT the file's target attribute (or nothing).
 */
#define FR_UPDATE_KERNELS(TGT, R, HEAD, SUMS, VS, WS, SET1S, LOADS, STORES, ADDS, SUBS, MULS,      \
                          GRADS, PROXS, SUMD, VD, WD, SET1D, LOADD, STORED, ADDD, SUBD, MULD,      \
                          GRADD, PROXD)                                                            \
    FR_UPDATE_ONE(TGT, R, HEAD, float, f32, SUMS, VS, WS, SET1S, LOADS, STORES, ADDS, SUBS, MULS,  \
                  GRADS, PROXS)                                                                    \
    FR_UPDATE_ONE(TGT, R, HEAD, double, f64, SUMD, VD, WD, SET1D, LOADD, STORED, ADDD, SUBD, MULD, \
                  GRADD, PROXD)
#define FR_UPDATE_ONE(TGT, R, HEAD, ET, SFX, SUM, VT, W, SET1, LOAD, STORE, ADD, SUB, MUL, GRAD,   \
                      PROX)                                                                        \
    FR_UPD_SGD_RUN(TGT, ET, SFX)                                                                   \
    {                                                                                              \
        FR_UPD_SGD_SETUP(VT, SET1);                                                                \
        FR_UPD_LOOP(ET, W, R, HEAD, FR_SGD_VEC, VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX);       \
    }                                                                                              \
    FR_UPD_PGD_RUN(TGT, ET, SFX)                                                                   \
    {                                                                                              \
        FR_UPD_PGD_SETUP(ET, VT, SET1);                                                            \
        FR_UPD_LOOP(ET, W, R, HEAD, FR_PGD_VEC, VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX);       \
    }                                                                                              \
    FR_UPD_TABLE_FNS(TGT, ET, SFX, SUM, 0, FR_UPD_PLAIN)

/*
 * The same with the value's sums fused into the update pass
 * (FR_UPD_FUSED_LOOP, the file's NREG lane registers per sum), for a file
 * with registers for 2*NREG accumulators beside the update. Per element
 * type: the element vector holds R lane vectors (VD, WD doubles): float32
 * is widened into float64 lanes, R = 2, WLO / WHI giving the low / high
 * lane vector; float64 is R = 1. ADDD, MULD, ABSD work on lane vectors,
 * ZEROD is their zero, FLUSH the file's lane flush.
 */
#define FR_UPDATE_FUSED_KERNELS(TGT, ZEROD, FLUSH, VS, SET1S, LOADS, STORES, ADDS, SUBS, MULS,     \
                                GRADS, PROXS, WLO, WHI, VD, WD, SET1D, LOADD, STORED, ADDD, SUBD,  \
                                MULD, ABSD, GRADD, PROXD)                                          \
    FR_UPDATE_FUSED_ONE(TGT, float, f32, ZEROD, FLUSH, VD, ADDD, MULD, ABSD, VS, WD, 2, WLO, WHI,  \
                        SET1S, LOADS, STORES, ADDS, SUBS, MULS, GRADS, PROXS)                      \
    FR_UPDATE_FUSED_ONE(TGT, double, f64, ZEROD, FLUSH, VD, ADDD, MULD, ABSD, VD, WD, 1, FR_SAME,  \
                        FR_SAME, SET1D, LOADD, STORED, ADDD, SUBD, MULD, GRADD, PROXD)
#define FR_UPDATE_FUSED_ONE(TGT, ET, SFX, ZEROD, FLUSH, VD, ADDD, MULD, ABSD, VT, W, R, WLO, WHI,  \
                            SET1, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX)                          \
    FR_UPD_SGD_RUN(TGT, ET, SFX)                                                                   \
    {                                                                                              \
        FR_UPD_SGD_SETUP(VT, SET1);                                                                \
        FR_UPD_FUSED_LOOP(ET, ZEROD, FLUSH, R, W, VD, WLO, WHI, ADDD, MULD, ABSD, FR_SGD_VEC, VT,  \
                          LOAD, STORE, ADD, SUB, MUL, GRAD, PROX);                                 \
    }                                                                                              \
    FR_UPD_PGD_RUN(TGT, ET, SFX)                                                                   \
    {                                                                                              \
        FR_UPD_PGD_SETUP(ET, VT, SET1);                                                            \
        FR_UPD_FUSED_LOOP(ET, ZEROD, FLUSH, R, W, VD, WLO, WHI, ADDD, MULD, ABSD, FR_PGD_VEC, VT,  \
                          LOAD, STORE, ADD, SUB, MUL, GRAD, PROX);                                 \
    }                                                                                              \
    FR_UPD_TABLE_FNS(TGT, ET, SFX, FR_UPD_NO_SUM, 1, FR_UPD_VALUED)
#define FR_UPD_NO_SUM(w, n, what, s) ((void)(w), (void)(n), (void)(what), (void)(s))

#endif /* FR_UPDATE_H */
