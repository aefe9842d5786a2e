/*
 * fr_lanes.h - the lane totals of the canonical algorithm (fr_contract.h):
 * clearing them, the superblock step T += S, and the final fold of halves.
 * Shared by the array driver (fr_driver.c) and the group step (fr_group.c),
 * so both add in exactly the same order.
 */
#ifndef FR_LANES_H
#define FR_LANES_H

#include "fr_compiler.h"
#include "fr_kernel_abi.h"

/* Zero the lane arrays a reduction uses (only those: this is per call and,
   in fr_group.c, per piece), in stores the compiler keeps inline: its
   memset of 256 bytes is a `rep stos`, slow to start. */
static inline void lanes_clear(fr_lanes *l, int what)
{
    int j;
    if (what & FR_ABS) {
        FR_UNROLL
        for (j = 0; j < FR_LANES64; j += 4)
            l->abs[j] = l->abs[j + 1] = l->abs[j + 2] = l->abs[j + 3] = 0.0;
    }
    if (what & FR_SQ) {
        FR_UNROLL
        for (j = 0; j < FR_LANES64; j += 4)
            l->sq[j] = l->sq[j + 1] = l->sq[j + 2] = l->sq[j + 3] = 0.0;
    }
}

/* End of a superblock: T += S, then S = 0. */
static inline void lanes_fold_super(fr_lanes *t, fr_lanes *s, int what)
{
    int j;
    if (what & FR_ABS)
        for (j = 0; j < FR_LANES64; j++) {
            t->abs[j] = t->abs[j] + s->abs[j];
            s->abs[j] = 0.0;
        }
    if (what & FR_SQ)
        for (j = 0; j < FR_LANES64; j++) {
            t->sq[j] = t->sq[j] + s->sq[j];
            s->sq[j] = 0.0;
        }
}

/* Fold halves: for h = lanes/2 ... 1: v[j] += v[j + h]. (A constant lane
   count: the compiler unrolls it into a few vector adds.) */
static inline double lanes_fold(double *v)
{
    int h, j;
    FR_UNROLL
    for (h = FR_LANES64 / 2; h >= 1; h /= 2) {
        FR_UNROLL
        for (j = 0; j < h; j++)
            v[j] = v[j] + v[j + h];
    }
    return v[0];
}

static inline void lanes_result(fr_lanes *t, int what, double *sa, double *ss)
{
    if (sa)
        *sa = (what & FR_ABS) ? lanes_fold(t->abs) : 0.0;
    if (ss)
        *ss = (what & FR_SQ) ? lanes_fold(t->sq) : 0.0;
}

#endif /* FR_LANES_H */
