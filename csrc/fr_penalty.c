/*
 * fr_penalty.c - a regularizer's value from the kernels' two sums, rounded
 * in the element type as Keras computes it there (fastreg.h's
 * fr_penalty_value): each term is dtype(factor) * dtype(sum), the terms of
 * L1L2 added from 0 in the dtype.
 */
#include <math.h>

#include "fastreg.h"
#include "fr_compiler.h"
#include "fr_float16.h"

/* v rounded to the nearest bfloat16 (ties to even), as a double; bfloat16
   has float32's exponent range and 8 significant bits. frexp gives
   |v| in [2^(e-1), 2^e), where the spacing of bfloat16 is 2^(e-8); below
   float32's smallest normal (2^-126, e = -125) the subnormal spacing stays
   2^-133. Scaling by powers of two is exact, so nearbyint (ties to even in
   the default rounding mode) does the one rounding. */
static double bf16_round(double v)
{
    int e;
    double r;
    if (v == 0.0 || v != v || isinf(v))
        return v;
    frexp(v, &e);
    if (e < -125)
        e = -125;
    r = ldexp(nearbyint(ldexp(v, 8 - e)), e - 8);
    return fabs(r) >= 0x1p128 ? copysign(INFINITY, v) : r; /* past the largest bfloat16 */
}

/* factor * sum rounded as NumPy does in the element type, as a double. */
static double scale_to_dtype(int dtype, double sum, double factor)
{
    if (dtype == FR_F64)
        return factor * sum;
    if (dtype == FR_F32)
        return (double)((float)factor * (float)sum);
    /* float16: both rounded to half; the float product of two halves is exact */
    return (double)fr_h2f(fr_f2h(fr_h2f(fr_f64_to_f16(factor)) * fr_h2f(fr_f64_to_f16(sum))));
}

/* a + b rounded in the element type (a, b already representable). */
static double add_in_dtype(int dtype, double a, double b)
{
    if (dtype == FR_F64)
        return a + b;
    if (dtype == FR_F32)
        return (double)((float)a + (float)b);
    return (double)fr_h2f(fr_f2h((float)a + (float)b));
}

/* The same for bfloat16 (as ml_dtypes computes it): each number rounded to
   bfloat16, products in float (exact: 8 x 8 significant bits) and sums in
   float, each result rounded to bfloat16. Out of line: the float16/32/64
   path above stays small enough to inline. */
static FR_NOINLINE double penalty_bf16(double sum_abs, double sum_sq, double a, double b, int terms,
                                       int l1l2)
{
    double ta = bf16_round((double)((float)bf16_round(a) * (float)bf16_round(sum_abs)));
    double tb = bf16_round((double)((float)bf16_round(b) * (float)bf16_round(sum_sq)));
    double v = 0.0;
    if (!l1l2)
        return (terms & FR_ABS) ? ta : tb;
    if (terms & FR_ABS)
        v = bf16_round((double)((float)v + (float)ta));
    if (terms & FR_SQ)
        v = bf16_round((double)((float)v + (float)tb));
    return v;
}

double fr_penalty_value(int dtype, double sum_abs, double sum_sq, double a, double b, int terms,
                        int l1l2)
{
    double v = 0.0;
    if (dtype == FR_BF16)
        return penalty_bf16(sum_abs, sum_sq, a, b, terms, l1l2);
    if (!l1l2)
        return (terms & FR_ABS) ? scale_to_dtype(dtype, sum_abs, a)
                                : scale_to_dtype(dtype, sum_sq, b);
    if (terms & FR_ABS)
        v = add_in_dtype(dtype, v, scale_to_dtype(dtype, sum_abs, a));
    if (terms & FR_SQ)
        v = add_in_dtype(dtype, v, scale_to_dtype(dtype, sum_sq, b));
    return v;
}
