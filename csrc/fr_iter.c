/*
 * fr_iter.c - walks an n-d strided array (one operand, or x and out
 * together) in K order: axes sorted by decreasing |stride| of x, negative
 * strides flipped so that x is read forwards, size-1 axes dropped and
 * mergeable axes merged. The driver takes FR_BLOCK elements at a time from
 * it, in place when they are one contiguous run, else gathered.
 */
#include "fr_iter.h"

#include <stdint.h>
#include <string.h>

/* Set up the iterator; returns the element count (0: nothing to do), or -1. */
ptrdiff_t fr_iter_init(fr_iter *it, int nop, char *p0, char *p1, int ndim, const ptrdiff_t *shape,
                       const ptrdiff_t *s0, const ptrdiff_t *s1, size_t item)
{
    ptrdiff_t size = 1;
    int i, j, nd = 0;
    if (ndim < 0 || ndim > FR_MAXDIM)
        return -1;
    it->nop = nop;
    it->item = item;
    it->ptr[0] = p0;
    it->ptr[1] = p1;
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        if (shape[i] == 0)
            return 0;
        size *= shape[i];
    }
    for (i = 0; i < ndim; i++) {
        if (shape[i] == 1)
            continue; /* size-1 axes do not move the pointers */
        it->shape[nd] = shape[i];
        it->st[0][nd] = s0[i];
        it->st[1][nd] = nop > 1 ? s1[i] : 0;
        if (s0[i] < 0) { /* flip so that x is read forwards */
            it->ptr[0] += (shape[i] - 1) * s0[i];
            it->st[0][nd] = -s0[i];
            if (nop > 1) {
                it->ptr[1] += (shape[i] - 1) * s1[i];
                it->st[1][nd] = -s1[i];
            }
        }
        nd++;
    }
    /* Stable insertion sort by decreasing |stride of x|. */
    for (i = 1; i < nd; i++) {
        ptrdiff_t sh = it->shape[i], a = it->st[0][i], b = it->st[1][i];
        for (j = i; j > 0 && it->st[0][j - 1] < a; j--) {
            it->shape[j] = it->shape[j - 1];
            it->st[0][j] = it->st[0][j - 1];
            it->st[1][j] = it->st[1][j - 1];
        }
        it->shape[j] = sh;
        it->st[0][j] = a;
        it->st[1][j] = b;
    }
    /* Merge axis i into the next inner one when every operand allows it. */
    for (i = nd - 2; i >= 0; i--) {
        int ok = it->st[0][i] == it->st[0][i + 1] * it->shape[i + 1];
        if (nop > 1)
            ok = ok && it->st[1][i] == it->st[1][i + 1] * it->shape[i + 1];
        if (ok) {
            it->shape[i + 1] *= it->shape[i];
            for (j = i; j < nd - 1; j++) {
                it->shape[j] = it->shape[j + 1];
                it->st[0][j] = it->st[0][j + 1];
                it->st[1][j] = it->st[1][j + 1];
            }
            nd--;
        }
    }
    if (nd == 0) { /* a single element */
        it->shape[0] = 1;
        it->st[0][0] = it->st[1][0] = (ptrdiff_t)item;
        nd = 1;
    }
    it->nd = nd;
    for (i = 0; i < nd; i++)
        it->idx[i] = 0;
    return size;
}

/* Move the iterator k elements forward along the inner axis (k <= what is
   left of that row), carrying into the outer axes. */
static void iter_advance(fr_iter *it, ptrdiff_t k)
{
    int in = it->nd - 1, op, i;
    for (op = 0; op < it->nop; op++)
        it->ptr[op] += k * it->st[op][in];
    it->idx[in] += k;
    if (it->idx[in] < it->shape[in])
        return;
    for (op = 0; op < it->nop; op++)
        it->ptr[op] -= it->shape[in] * it->st[op][in];
    it->idx[in] = 0;
    for (i = in - 1; i >= 0; i--) {
        for (op = 0; op < it->nop; op++)
            it->ptr[op] += it->st[op][i];
        if (++it->idx[i] < it->shape[i])
            return;
        for (op = 0; op < it->nop; op++)
            it->ptr[op] -= it->shape[i] * it->st[op][i];
        it->idx[i] = 0;
    }
}

/* Are the next m elements of operand op one contiguous run? */
int fr_iter_contiguous(const fr_iter *it, int op, ptrdiff_t m)
{
    int in = it->nd - 1;
    /* the kernels may assume element alignment: a pointer that is not a
       multiple of the element size (a byte-offset view) is gathered */
    return it->st[op][in] == (ptrdiff_t)it->item && it->shape[in] - it->idx[in] >= m &&
           (uintptr_t)it->ptr[op] % it->item == 0;
}

/* Copy m elements of operand op between the array and a packed buffer
   (to_buf: gather; else scatter), without moving the iterator. */
void fr_iter_copy(const fr_iter *it, int op, ptrdiff_t m, char *buf, int to_buf)
{
    fr_iter c = *it;
    size_t item = it->item;
    int in = it->nd - 1;
    while (m > 0) {
        ptrdiff_t run = c.shape[in] - c.idx[in], s = c.st[op][in], k;
        char *p = c.ptr[op];
        if (run > m)
            run = m;
        if (s == (ptrdiff_t)item) {
            if (to_buf)
                memcpy(buf, p, (size_t)run * item);
            else
                memcpy(p, buf, (size_t)run * item);
        } else {
            for (k = 0; k < run; k++, p += s) {
                if (to_buf)
                    memcpy(buf + (size_t)k * item, p, item);
                else
                    memcpy(p, buf + (size_t)k * item, item);
            }
        }
        buf += (size_t)run * item;
        m -= run;
        if (m > 0)
            iter_advance(&c, run);
    }
}

/* Advance past m elements of a block (the block never spans more than the
   caller asked for). */
void fr_iter_skip(fr_iter *it, ptrdiff_t m)
{
    int in = it->nd - 1;
    while (m > 0) {
        ptrdiff_t run = it->shape[in] - it->idx[in];
        if (run > m)
            run = m;
        iter_advance(it, run);
        m -= run;
    }
}

/* Jump from element 0 to element pos: a thread starts its piece there. */
void fr_iter_seek(fr_iter *it, ptrdiff_t pos)
{
    int i, op;
    for (i = it->nd - 1; i >= 0 && pos > 0; i--) {
        ptrdiff_t k = pos % it->shape[i];
        pos /= it->shape[i];
        it->idx[i] = k;
        for (op = 0; op < it->nop; op++)
            it->ptr[op] += k * it->st[op][i];
    }
}
