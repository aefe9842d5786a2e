/*
 * fr_penalty.c - a regularizer's value from the kernels' two sums, rounded
 * in the element type as Keras computes it there (fastreg.h's
 * fr_penalty_value): each term is dtype(factor) * dtype(sum), the terms of
 * L1L2 added from 0 in the dtype.
 */
#include "fastreg.h"
#include "fr_float16.h"

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

double fr_penalty_value(int dtype, double sum_abs, double sum_sq, double a, double b, int terms,
                        int l1l2)
{
    double v = 0.0;
    if (!l1l2)
        return (terms & FR_ABS) ? scale_to_dtype(dtype, sum_abs, a)
                                : scale_to_dtype(dtype, sum_sq, b);
    if (terms & FR_ABS)
        v = add_in_dtype(dtype, v, scale_to_dtype(dtype, sum_abs, a));
    if (terms & FR_SQ)
        v = add_in_dtype(dtype, v, scale_to_dtype(dtype, sum_sq, b));
    return v;
}
