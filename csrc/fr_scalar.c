/*
 * fr_scalar.c - portable C99 kernels: the canonical algorithm written out
 * plainly (see fr_contract.h). Every other ISA file must give the same bits.
 * Arrays of logical lanes stand in for vector registers; the compiler may
 * vectorise the lane loops, which keeps every operation and its order.
 */
#include "fr_float16.h"
#include "fr_instantiate.h"

#include <math.h>
#include <string.h>

static double abs64(double v)
{
    return fabs(v);
}

/* sign(x) * a without a multiply by 0 for zeros: x > 0 -> a, x < 0 -> -a,
   +-0 -> a * x (a signed zero), NaN -> NaN. */
static float sgn32(float x, float a)
{
    return x > 0.0f ? a : (x < 0.0f ? -a : a * x);
}
static double sgn64(double x, double a)
{
    return x > 0.0 ? a : (x < 0.0 ? -a : a * x);
}

/* max(m, 0) that keeps NaN. */
static float pos32(float m)
{
    return m > 0.0f ? m : (m != m ? m : 0.0f);
}
static double pos64(double m)
{
    return m > 0.0 ? m : (m != m ? m : 0.0);
}

static void sum_f64(const double *x, size_t n, int what, fr_lanes *s)
{
    double la[FR_LANES64], ls[FR_LANES64];
    size_t i;
    int j;
    for (j = 0; j < FR_LANES64; j++)
        la[j] = ls[j] = 0.0;
    for (i = 0; i < n; i++) {
        double v = x[i];
        j = (int)(i % FR_LANES64);
        if (what & FR_ABS)
            la[j] = la[j] + abs64(v);
        if (what & FR_SQ)
            ls[j] = ls[j] + v * v;
    }
    for (j = 0; j < FR_LANES64; j++) {
        if (what & FR_ABS)
            s->abs[j] = s->abs[j] + la[j];
        if (what & FR_SQ)
            s->sq[j] = s->sq[j] + ls[j];
    }
}

/* float32 is summed as float64: widen the block exactly, then sum_f64. */
static void sum_f32(const float *x, size_t n, int what, fr_lanes *s)
{
    double w[FR_BLOCK]; /* n <= FR_BLOCK */
    size_t i;
    for (i = 0; i < n; i++)
        w[i] = (double)x[i];
    sum_f64(w, n, what, s);
}

/* FR_TINY with one lane per "register": the fold of halves written out. */
static double add64(double a, double b)
{
    return a + b;
}
static double mul64(double a, double b)
{
    return a * b;
}
static double load32(const float *p)
{
    return (double)*p;
}
static double load64(const double *p)
{
    return *p;
}
static double lane0(double v)
{
    return v;
}
/* never called with W = 1 (i < n means i + 1 <= n); here for FR_TINY */
#define load32_part(p, r) load32(p)
#define load64_part(p, r) load64(p)

static void tiny_f32(const float *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(double, 1, 0.0, load32, load32_part, add64, mul64, abs64, lane0);
}

static void tiny_f64(const double *x, size_t n, int what, double *sa, double *ss)
{
    FR_TINY(double, 1, 0.0, load64, load64_part, add64, mul64, abs64, lane0);
}

/* One element's gradient and prox: the loops below and the training steps
   (fr_update.h, at the end of the file) share them. */
static float grad32(float v, float a, float b, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return sgn32(v, a) + b * v;
    return (flags & FR_ABS) ? sgn32(v, a) : b * v;
}

static double grad64(double v, double a, double b, int flags)
{
    if ((flags & FR_ABS) && (flags & FR_SQ))
        return sgn64(v, a) + b * v;
    return (flags & FR_ABS) ? sgn64(v, a) : b * v;
}

/* r is the rounded reciprocal of d (fr_kernel_abi.h): one product per
   element, not a division. */
static float prox32(float v, float t, float r, int flags)
{
    if (flags & FR_ABS)
        v = copysignf(pos32(fabsf(v) - t), v);
    return (flags & FR_SQ) ? v * r : v;
}

static double prox64(double v, double t, double r, int flags)
{
    if (flags & FR_ABS)
        v = copysign(pos64(fabs(v) - t), v);
    return (flags & FR_SQ) ? v * r : v;
}

static void grad_f32(const float *x, float *out, size_t n, float a, float b, int flags, fr_lanes *s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float g = grad32(x[i], a, b, flags);
        out[i] = (flags & FR_ACC) ? out[i] + g : g;
    }
    (void)s;
}

static void grad_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                     fr_lanes *s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double g = grad64(x[i], a, b, flags);
        out[i] = (flags & FR_ACC) ? out[i] + g : g;
    }
    (void)s;
}

/* The fused value + gradient: read x once; the sums are the canonical ones.
   The sums are taken before out is written, so out == x is safe. */
static void grad_value_f32(const float *x, float *out, size_t n, float a, float b, int flags,
                           fr_lanes *s)
{
    if (flags & FR_VALUE)
        sum_f32(x, n, flags & (FR_ABS | FR_SQ), s);
    grad_f32(x, out, n, a, b, flags, s);
}

static void grad_value_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                           fr_lanes *s)
{
    if (flags & FR_VALUE)
        sum_f64(x, n, flags & (FR_ABS | FR_SQ), s);
    grad_f64(x, out, n, a, b, flags, s);
}

static void prox_f32(const float *x, float *out, size_t n, float t, float r, int flags)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = prox32(x[i], t, r, flags);
}

static void prox_f64(const double *x, double *out, size_t n, double t, double r, int flags)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = prox64(x[i], t, r, flags);
}

static void f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        dst[i] = fr_h2f(src[i]);
}

static void f32_to_f16(const float *src, uint16_t *dst, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        dst[i] = fr_f2h(src[i]);
}

/* ---- the training steps (fr_update.h) --------------------------------- */

/* fr_update.h with one element per "vector": the plain C of the steps,
   with grad32 / prox32 and their float64 twins, the elements of grad_* and
   prox_* above. */
#include "fr_update.h"

static float id32(float v)
{
    return v;
}
static double id64(double v)
{
    return v;
}
static float ld32(const float *p)
{
    return *p;
}
static void st32(float *p, float v)
{
    *p = v;
}
static void st64(double *p, double v)
{
    *p = v;
}
static float add32(float a, float b)
{
    return a + b;
}
static float sub32(float a, float b)
{
    return a - b;
}
static double sub64(double a, double b)
{
    return a - b;
}
static float mul32(float a, float b)
{
    return a * b;
}

/* (add64, mul64 and load64 are FR_TINY's, above) */
FR_UPDATE_KERNELS(, 4, FR_UPD_NO_HEAD, sum_f32, float, 1, id32, ld32, st32, add32, sub32, mul32,
                  grad32, prox32, sum_f64, double, 1, id64, load64, st64, add64, sub64, mul64,
                  grad64, prox64)

/* value_and_gradient of 1 .. FR_LANES64 elements: tiny_*'s sums (before
   out may overwrite x), then grad_*'s loop; one call for the driver. */
static void tiny_grad_f32(const float *x, float *out, size_t n, float a, float b, int flags,
                          int what, double *sa, double *ss)
{
    if (what)
        tiny_f32(x, n, what, sa, ss);
    grad_f32(x, out, n, a, b, flags, NULL);
}

static void tiny_grad_f64(const double *x, double *out, size_t n, double a, double b, int flags,
                          int what, double *sa, double *ss)
{
    if (what)
        tiny_f64(x, n, what, sa, ss);
    grad_f64(x, out, n, a, b, flags, NULL);
}

/* grad_f32 / grad_f64 do not take the value: the table's entries are the
   fused grad_value_* that add the sums first. */
const struct fr_kernels fr_kernels_scalar = {
    .name = "scalar",
    .sum_f32 = sum_f32,
    .sum_f64 = sum_f64,
    .tiny_f32 = tiny_f32,
    .tiny_f64 = tiny_f64,
    .grad_f32 = grad_value_f32,
    .grad_f64 = grad_value_f64,
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
