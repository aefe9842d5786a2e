/* PLACEHOLDER: NEON kernels land here (compiled on aarch64 only). */
#include "fr_internal.h"
#ifdef FR_ARCH_ARM64
#error "NEON kernels not written yet"
#endif
typedef int fr_neon_unused; /* ISO C forbids an empty translation unit */
