/*
 * fr_iter.h - the n-d iterator of the driver (fr_iter.c): any NumPy layout
 * of up to FR_MAXDIM axes, in K order.
 */
#ifndef FR_ITER_H
#define FR_ITER_H

#include "fr_contract.h"

#include <stddef.h>

typedef struct {
    int nd, nop;
    ptrdiff_t shape[FR_MAXDIM];
    ptrdiff_t st[2][FR_MAXDIM]; /* bytes; axis nd-1 is the innermost */
    ptrdiff_t idx[FR_MAXDIM];
    char *ptr[2];
    size_t item;
} fr_iter;

/* Set up the iterator over nop (1 or 2) operands; returns the element count
   (0: nothing to do), or -1 for a bad ndim or a negative dimension. */
ptrdiff_t fr_iter_init(fr_iter *it, int nop, char *p0, char *p1, int ndim, const ptrdiff_t *shape,
                       const ptrdiff_t *s0, const ptrdiff_t *s1, size_t item);
/* Are the next m elements of operand op one contiguous, aligned run? */
int fr_iter_contiguous(const fr_iter *it, int op, ptrdiff_t m);
/* Gather (to_buf) or scatter m elements of operand op; the iterator stays. */
void fr_iter_copy(const fr_iter *it, int op, ptrdiff_t m, char *buf, int to_buf);
/* Move the iterator m elements on. */
void fr_iter_skip(fr_iter *it, ptrdiff_t m);
/* Move an iterator that is at element 0 to element pos (< the count). */
void fr_iter_seek(fr_iter *it, ptrdiff_t pos);

#endif /* FR_ITER_H */
