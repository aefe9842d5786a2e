/*
 * fr_contract.h - the canonical algorithm: what every kernel computes, and
 * in which order, so that every instruction set gives the same bits.
 *
 * THE CANONICAL ALGORITHM (every ISA reproduces it bit for bit)
 *
 * The driver hands the kernels the elements in "K order" (memory order:
 * axes sorted by decreasing |stride|, negative strides flipped, contiguous
 * axes merged), cut into blocks of FR_BLOCK elements; only the last block
 * may be shorter. Every element is converted exactly to float64 first
 * (float16 and float32 both fit), and all arithmetic is float64. Element i
 * of the sequence belongs to logical lane i % FR_LANES64; FR_BLOCK is a
 * multiple of it, so a block always starts at lane 0.
 *
 *   block:      L[j] = +0
 *               for i in block: L[j] = L[j] + v((double)x_i), j = i % LANES
 *               with v = |x| or x*x (the product rounded to float64, never
 *               fused into an FMA)
 *   flush:      S[j] = S[j] + L[j]                   (done by the kernel)
 *   superblock: every FR_SUPER blocks the driver does T[j] = T[j] + S[j]
 *               and clears S, so a future split over threads at superblock
 *               boundaries gives the same bits
 *   result:     fold halves: for h = LANES/2 ... 1: T[j] = T[j] + T[j + h]
 *
 * Why float64 for float32 input, although float32 lanes run about twice as
 * fast in L1/L2 on AVX2: a float32 lane rounds every addition (and every
 * square) to 24 bits. On random data those errors average out to ~1e-10 at
 * 1e7 elements, but on a constant array (np.full(n, 0.1)) they are the same
 * in every lane and block and never average out: 3e-7 relative at any n.
 * Converting each element keeps the error near 1e-16 for any input and any
 * length. Padding a partial vector with +0 is exact: lanes only ever hold
 * +0, positive values, +inf or NaN.
 *
 * Kernels must be compiled without FP contraction (-ffp-contract=off, or a
 * compiler that does not contract) and must not use FMA for any product
 * that is rounded on its own above.
 */
#ifndef FR_CONTRACT_H
#define FR_CONTRACT_H

#include "fastreg.h"

#define FR_LANES64 32   /* logical lanes (float64): 8 ymm, 4 zmm, 16 xmm or 16 NEON q */
#define FR_BLOCK   2048 /* elements per block: 64 per lane */
#define FR_SUPER   64   /* blocks per superblock */
#define FR_MAXDIM  64   /* most axes the driver takes: NumPy 2's NPY_MAXDIMS (NumPy 1: 32) */

#endif /* FR_CONTRACT_H */
