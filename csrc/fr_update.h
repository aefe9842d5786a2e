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
 * every ISA gives the bits of fr_scalar.c. Elements have no lanes here:
 * there are no sums to keep in order.
 */
#ifndef FR_UPDATE_H
#define FR_UPDATE_H

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

/* A specialisation bit beside FR_ABS | FR_SQ, never passed in by a caller:
   the kernels set it when v is not NULL (heavy-ball momentum), so that the
   loop tests no pointer. */
#define FR_UPD_MOM 32

/* One SGD vector at element offset `at` of wp, gp, vp; FL is a constant. */
#define FR_SGD_VEC(VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX, FL, wp, gp, vp, at)                 \
    do {                                                                                           \
        VT w_ = LOAD((wp) + (at)), u_ = LOAD((gp) + (at));                                         \
        if ((FL) & (FR_ABS | FR_SQ))                                                               \
            u_ = ADD(u_, GRAD(w_, va, vb, (FL)));                                                  \
        if ((FL)&FR_UPD_MOM) {                                                                     \
            u_ = ADD(MUL(vmu, LOAD((vp) + (at))), u_);                                             \
            STORE((vp) + (at), u_);                                                                \
        }                                                                                          \
        STORE((wp) + (at), SUB(w_, MUL(vlr, u_)));                                                 \
    } while (0)

/* One proximal-SGD vector: z = w - lr*g, then the prox of the terms. */
#define FR_PGD_VEC(VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX, FL, wp, gp, vp, at)                 \
    do {                                                                                           \
        VT z_ = SUB(LOAD((wp) + (at)), MUL(vlr, LOAD((gp) + (at))));                               \
        if ((FL) & (FR_ABS | FR_SQ))                                                               \
            z_ = PROX(z_, vt, vd, (FL));                                                           \
        STORE((wp) + (at), z_);                                                                    \
        (void)(vp);                                                                                \
    } while (0)

/*
 * The loop of one kernel over n elements of w, g (and v): first the head,
 * HEAD(w, n) elements (the file's choice, e.g. up to w's next 64-byte line
 * so that the stores of the loop are aligned; 0 for none), then R vectors
 * of W elements per iteration, then single vectors, then the tail. The head
 * and the tail (fewer than W elements each) are copied into one vector of
 * scratch, zero-padded, run through the same VEC and copied back: the same
 * operations on the same values, so the same bits, and nothing outside
 * [0, n) is read or written. VEC is FR_SGD_VEC or FR_PGD_VEC, run with the
 * file's operations, the trailing arguments (VT, LOAD, STORE, ADD, SUB,
 * MUL, GRAD, PROX); ET is the element type.
 */
#define FR_UPD_SPAN(ET, W, VEC, wp, gp, vp, cnt, ...)                                              \
    do {                                                                                           \
        ET bw_[W], bg_[W], bv_[W];                                                                 \
        size_t c_ = (cnt), j_;                                                                     \
        for (j_ = 0; j_ < (W); j_++) /* loops, not memcpy: vp may be a constant NULL */            \
            bw_[j_] = bg_[j_] = bv_[j_] = 0;                                                       \
        for (j_ = 0; j_ < c_; j_++) {                                                              \
            bw_[j_] = (wp)[j_];                                                                    \
            bg_[j_] = (gp)[j_];                                                                    \
            if (vp)                                                                                \
                bv_[j_] = (vp)[j_];                                                                \
        }                                                                                          \
        VEC(__VA_ARGS__, FL, bw_, bg_, bv_, 0);                                                    \
        for (j_ = 0; j_ < c_; j_++) {                                                              \
            (wp)[j_] = bw_[j_];                                                                    \
            if (vp)                                                                                \
                (vp)[j_] = bv_[j_];                                                                \
        }                                                                                          \
    } while (0)
#define FR_UPD_LOOP(ET, W, R, HEAD, VEC, ...)                                                      \
    do {                                                                                           \
        size_t i = HEAD(w, n), k;                                                                  \
        ET *vo = (FL & FR_UPD_MOM) ? v : NULL;                                                     \
        if (i)                                                                                     \
            FR_UPD_SPAN(ET, W, VEC, w, g, vo, i, __VA_ARGS__);                                     \
        for (; i + (size_t)(R) * (W) <= n; i += (size_t)(R) * (W)) {                               \
            FR_UNROLL                                                                              \
            for (k = 0; k < (size_t)(R); k++)                                                      \
                VEC(__VA_ARGS__, FL, w, g, vo, i + (W)*k);                                         \
        }                                                                                          \
        for (; i + (W) <= n; i += (W))                                                             \
            VEC(__VA_ARGS__, FL, w, g, vo, i);                                                     \
        if (i < n)                                                                                 \
            FR_UPD_SPAN(ET, W, VEC, w + i, g + i, vo ? vo + i : NULL, n - i, __VA_ARGS__);         \
    } while (0)

/* No head: every file but fr_avx512.c. */
#define FR_UPD_NO_HEAD(w, n) ((void)(w), (void)(n), (size_t)0)

/* The bodies of the table's sgd_* and pgd_*: RUN(w, g, v, n, ..., FL)
   specialised per term combination (and momentum), so that FL is a
   constant in the loop. */
#define FR_SGD_CASE(RUN, FL)                                                                       \
    case FL:                                                                                       \
        RUN(w, g, v, n, a, b, lr, mu, FL);                                                         \
        break
#define FR_SGD_SWITCH(RUN)                                                                         \
    switch ((flags & (FR_ABS | FR_SQ)) | (v ? FR_UPD_MOM : 0)) {                                   \
        FR_SGD_CASE(RUN, 0);                                                                       \
        FR_SGD_CASE(RUN, FR_ABS);                                                                  \
        FR_SGD_CASE(RUN, FR_SQ);                                                                   \
        FR_SGD_CASE(RUN, FR_ABS | FR_SQ);                                                          \
        FR_SGD_CASE(RUN, FR_UPD_MOM);                                                              \
        FR_SGD_CASE(RUN, FR_UPD_MOM | FR_ABS);                                                     \
        FR_SGD_CASE(RUN, FR_UPD_MOM | FR_SQ);                                                      \
        FR_SGD_CASE(RUN, FR_UPD_MOM | FR_ABS | FR_SQ);                                             \
    default:                                                                                       \
        break;                                                                                     \
    }
#define FR_PGD_CASE(RUN, FL)                                                                       \
    case FL:                                                                                       \
        RUN(w, g, n, lr, t, d, FL);                                                                \
        break
#define FR_PGD_SWITCH(RUN)                                                                         \
    switch (flags & (FR_ABS | FR_SQ)) {                                                            \
        FR_PGD_CASE(RUN, 0);                                                                       \
        FR_PGD_CASE(RUN, FR_ABS);                                                                  \
        FR_PGD_CASE(RUN, FR_SQ);                                                                   \
        FR_PGD_CASE(RUN, FR_ABS | FR_SQ);                                                          \
    default:                                                                                       \
        break;                                                                                     \
    }

/*
 * Everything a file needs: the eight kernels' inline bodies and the four
 * table functions NAME_sgd_f32 .. NAME_pgd_f64 (static; the file puts them
 * in its table as sgd_f32 = fr_upd_sgd_f32, ...). Per element type: the
 * vector type, W, the loads and stores, ADD, SUB, MUL, SET1, the file's
 * GRAD and PROX. R is the vectors per iteration, HEAD as FR_UPD_LOOP, TGT
 * the file's target attribute (or nothing).
 */
#define FR_UPDATE_KERNELS(TGT, R, HEAD, VS, WS, SET1S, LOADS, STORES, ADDS, SUBS, MULS, GRADS,     \
                          PROXS, VD, WD, SET1D, LOADD, STORED, ADDD, SUBD, MULD, GRADD, PROXD)     \
    FR_UPDATE_ONE(TGT, R, HEAD, float, f32, VS, WS, SET1S, LOADS, STORES, ADDS, SUBS, MULS, GRADS, \
                  PROXS)                                                                           \
    FR_UPDATE_ONE(TGT, R, HEAD, double, f64, VD, WD, SET1D, LOADD, STORED, ADDD, SUBD, MULD,       \
                  GRADD, PROXD)

#define FR_UPDATE_ONE(TGT, R, HEAD, ET, SFX, VT, W, SET1, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX)  \
    FR_INLINE TGT void fr_upd_sgd_run_##SFX(ET *w, const ET *g, ET *v, size_t n, ET a, ET b,       \
                                            ET lr, ET mu, int FL)                                  \
    {                                                                                              \
        VT va = SET1(a), vb = SET1(b), vlr = SET1(lr), vmu = SET1(mu);                             \
        (void)va;                                                                                  \
        (void)vb;                                                                                  \
        (void)vmu;                                                                                 \
        FR_UPD_LOOP(ET, W, R, HEAD, FR_SGD_VEC, VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX);       \
    }                                                                                              \
    FR_INLINE TGT void fr_upd_pgd_run_##SFX(ET *w, const ET *g, size_t n, ET lr, ET t, ET d,       \
                                            int FL)                                                \
    {                                                                                              \
        VT vlr = SET1(lr), vt = SET1(t), vd = SET1(d);                                             \
        ET *v = NULL;                                                                              \
        (void)vt;                                                                                  \
        (void)vd;                                                                                  \
        FR_UPD_LOOP(ET, W, R, HEAD, FR_PGD_VEC, VT, LOAD, STORE, ADD, SUB, MUL, GRAD, PROX);       \
    }                                                                                              \
    static TGT void fr_upd_sgd_##SFX(ET *w, const ET *g, ET *v, size_t n, ET a, ET b, ET lr,       \
                                     ET mu, int flags)                                             \
    {                                                                                              \
        FR_SGD_SWITCH(fr_upd_sgd_run_##SFX);                                                       \
    }                                                                                              \
    static TGT void fr_upd_pgd_##SFX(ET *w, const ET *g, size_t n, ET lr, ET t, ET d, int flags)   \
    {                                                                                              \
        FR_PGD_SWITCH(fr_upd_pgd_run_##SFX);                                                       \
    }

#endif /* FR_UPDATE_H */
