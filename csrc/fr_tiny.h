/*
 * fr_tiny.h - the driver's small-array short cuts (fr_tiny.c), private to
 * the C library (hidden like every symbol but the extension's init).
 */
#ifndef FR_TINY_H
#define FR_TINY_H

#include <stddef.h>

/* Element count of an array that is one aligned run in C or Fortran order,
   else -1. */
ptrdiff_t fr_run_length(const void *data, int ndim, const ptrdiff_t *shape,
                        const ptrdiff_t *strides, size_t item);
/* fr_reduce of n <= FR_LANES64 elements in one run. */
void fr_reduce_tiny(const void *data, size_t n, int dtype, int what, double *sa, double *ss);
/* fr_grad / fr_prox of n <= FR_LANES64 float32/float64 elements in one run each. */
void fr_elementwise_tiny(int is_prox, const void *x, void *out, size_t n, int dtype, double a,
                         double b, int flags, double *sa, double *ss);

#endif /* FR_TINY_H */
