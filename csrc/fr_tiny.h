/*
 * fr_tiny.h - the driver's short cuts for small arrays (included by
 * fr_driver.c only): an array that is one run in memory skips the n-d
 * iterator, and 1 .. FR_LANES64 such elements go straight to the kernels'
 * tiny entries, before the block machinery sets up its lanes, iterator and
 * buffers (most of an n = 16 call). Inline, because at n = 16 a call more
 * is a measurable share of the whole.
 */
#ifndef FR_TINY_H
#define FR_TINY_H

#include <stddef.h>
#include <stdint.h>

#include "fr_contract.h"
#include "fr_kernel_abi.h"

/*
 * The element count of an array whose elements are one aligned run in
 * memory (C or Fortran order; size-1 axes ignored): its memory order is
 * then the canonical sequence itself. -1 for any other layout (and for a
 * negative dimension, which the iterator reports).
 */
static inline ptrdiff_t fr_run_length(const void *data, int ndim, const ptrdiff_t *shape,
                                      const ptrdiff_t *strides, size_t item)
{
    ptrdiff_t n = 1, expect = (ptrdiff_t)item;
    int i;
    if (((uintptr_t)data & (item - 1)) != 0)
        return -1;
    if (ndim == 1 && strides[0] == expect && shape[0] >= 0)
        return shape[0]; /* the usual small call: what the loop below finds */
    if (ndim < 0 || ndim > FR_MAXDIM)
        return -1;
    for (i = ndim - 1; i >= 0; i--) { /* C order */
        if (shape[i] < 0)
            return -1;
        if (shape[i] != 1 && strides[i] != expect)
            break;
        expect *= shape[i];
        n *= shape[i];
    }
    if (i < 0)
        return n;
    n = 1;
    expect = (ptrdiff_t)item;
    for (i = 0; i < ndim; i++) { /* Fortran order */
        if (shape[i] < 0 || (shape[i] != 1 && strides[i] != expect))
            return -1;
        expect *= shape[i];
        n *= shape[i];
    }
    return n;
}

/*
 * 1 .. FR_LANES64 elements in one run: the kernels' tiny_* entries compute
 * the whole canonical reduction in registers (FR_TINY in fr_instantiate.h),
 * before reduce_blocks sets up its ~27 KiB of lanes, iterator and buffers.
 */
static inline void fr_reduce_tiny(const void *data, size_t n, int dtype, int what, double *sa,
                                  double *ss)
{
    const struct fr_kernels *k = fr_active();
    float f[FR_LANES64];
    /* the kernel writes the sums asked for straight into *sa / *ss */
    if (sa && !(what & FR_ABS))
        *sa = 0.0;
    if (ss && !(what & FR_SQ))
        *ss = 0.0;
    what &= (sa ? FR_ABS : 0) | (ss ? FR_SQ : 0);
    if (dtype == FR_F64) {
        k->tiny_f64((const double *)data, n, what, sa, ss);
    } else if (dtype == FR_F32) {
        k->tiny_f32((const float *)data, n, what, sa, ss);
    } else { /* float16 -> float32 (exact), then summed as float32 is */
        k->f16_to_f32((const uint16_t *)data, f, n);
        k->tiny_f32(f, n, what, sa, ss);
    }
}

/*
 * 1 .. FR_LANES64 float32/float64 elements, x and out one run each (the
 * same strides): one partial block, so the kernels run on it directly. The
 * value's sums are the canonical reduction of tiny_* (as fr_reduce takes
 * them), before the gradient may overwrite x; the gradient itself has no
 * lanes. This skips run_job's lanes, buffers and superblock walk, most of
 * an n = 16 call; tiny_grad_* takes the sums and the gradient in one call
 * (two calls, tiny_* then grad_*'s block loop, cost ~100 instructions more
 * at n = 16). For the prox, a and b are fr_prox's t and r.
 */
static inline void fr_elementwise_tiny(int is_prox, const void *x, void *out, size_t n, int dtype,
                                       double a, double b, int flags, double *sa, double *ss)
{
    const struct fr_kernels *k = fr_active();
    int what = flags & (FR_ABS | FR_SQ);
    if (is_prox) {
        if (dtype == FR_F64)
            k->prox_f64((const double *)x, (double *)out, n, a, b, what);
        else
            k->prox_f32((const float *)x, (float *)out, n, (float)a, (float)b, what);
        return;
    }
    if (flags & FR_VALUE) {
        if (sa)
            *sa = 0.0;
        if (ss)
            *ss = 0.0;
        what &= (sa ? FR_ABS : 0) | (ss ? FR_SQ : 0);
    } else {
        what = 0;
    }
    /* the sums (the kernel writes *sa / *ss as what names them) and the
       gradient in one kernel call: tiny_grad_* (FR_TINY_GRAD) */
    flags &= FR_ABS | FR_SQ | FR_ACC;
    if (dtype == FR_F64)
        k->tiny_grad_f64((const double *)x, (double *)out, n, a, b, flags, what, sa, ss);
    else
        k->tiny_grad_f32((const float *)x, (float *)out, n, (float)a, (float)b, flags, what, sa,
                         ss);
}

#endif /* FR_TINY_H */
