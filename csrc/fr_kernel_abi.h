/*
 * fr_kernel_abi.h - the table of kernel functions each instruction set
 * fills in (fr_scalar.c, fr_sse2.c, ...), and how the driver finds the
 * active one (fr_dispatch.c).
 */
#ifndef FR_KERNEL_ABI_H
#define FR_KERNEL_ABI_H

#include "fr_contract.h"

#include <stddef.h>
#include <stdint.h>

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
    /* value_and_gradient of 1 .. FR_LANES64 contiguous elements in one call
       (FR_TINY_GRAD): *sa and/or *ss, as `what` names them, get tiny_*'s
       folded sums of x, then out gets grad_*'s result (flags: FR_ABS,
       FR_SQ, FR_ACC; out may be x). */
    void (*tiny_grad_f32)(const float *x, float *out, size_t n, float a, float b, int flags,
                          int what, double *sa, double *ss);
    void (*tiny_grad_f64)(const double *x, double *out, size_t n, double a, double b, int flags,
                          int what, double *sa, double *ss);
    /* out[i] = copysign(max(|x[i]| - t, 0), x[i]) if FR_ABS, then * r if FR_SQ
       (max propagates NaN); out may be x. r = 1/d rounded in the element type
       (the caller's, once per call): the L2 term is a product rounded on its
       own, not a division, the same bits on every ISA. */
    void (*prox_f32)(const float *x, float *out, size_t n, float t, float r, int flags);
    void (*prox_f64)(const double *x, double *out, size_t n, double t, double r, int flags);
    /* Exact float16 -> float32, and float32 -> float16 rounding to nearest even
       (overflow to inf, NaN kept quiet, subnormals kept). */
    void (*f16_to_f32)(const uint16_t *src, float *dst, size_t n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, size_t n);
    /* The training steps of fr_group.c, element-wise in the element type
       (fr_update.h), every product rounded on its own, in NumPy's order:
       sgd: u = g [+ a*sign(w) + b*w, the terms in flags]; if v is not NULL,
       v = mu*v + u and u = v; then w = w - lr*u.
       pgd: w = prox(w - lr*g), the prox of prox_* with t, r and the terms in
       flags (none: w - lr*g). w, g and v do not overlap.
       With FR_VALUE, also flush the lane sums of the terms that are on, of w
       before the step, into s (sum_*'s bits). */
    void (*sgd_f32)(float *w, const float *g, float *v, size_t n, float a, float b, float lr,
                    float mu, int flags, fr_lanes *s);
    void (*sgd_f64)(double *w, const double *g, double *v, size_t n, double a, double b, double lr,
                    double mu, int flags, fr_lanes *s);
    void (*pgd_f32)(float *w, const float *g, size_t n, float lr, float t, float r, int flags,
                    fr_lanes *s);
    void (*pgd_f64)(double *w, const double *g, size_t n, double lr, double t, double r, int flags,
                    fr_lanes *s);
};

/* The r of prox_* and pgd_* for the divisor d: 1/d rounded in the compute
   type, float32 (of d rounded to float32, as the kernels take every factor)
   for float16 and float32, float64 for float64; returned as the double
   that holds it exactly. One correctly rounded division per call, so every
   ISA multiplies by the same r (d = inf gives 0, d = 1 gives 1). */
static inline double fr_prox_recip(double d, int f64)
{
    return f64 ? 1.0 / d : (double)(1.0f / (float)d);
}

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

#endif /* FR_KERNEL_ABI_H */
