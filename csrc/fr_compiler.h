/*
 * fr_compiler.h - the few compiler-specific spellings the C files share.
 */
#ifndef FR_COMPILER_H
#define FR_COMPILER_H

/* Loops over the registers of a group must be unrolled completely, or the
   accumulator arrays end up in memory. */
#if defined(__clang__)
#define FR_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define FR_UNROLL _Pragma("GCC unroll 16")
#else
#define FR_UNROLL
#endif

/* The helpers of the kernel files are inlined into every specialised copy
   of a loop: a call would move the accumulators to memory. */
#if defined(__GNUC__) || defined(__clang__)
#define FR_INLINE   static inline __attribute__((always_inline))
#define FR_NOINLINE __attribute__((noinline))
#else /* MSVC */
#define FR_INLINE static __forceinline
#define FR_NOINLINE
#endif

#endif /* FR_COMPILER_H */
