/*
 * fr_avx512_simde.h - for tools/avx512_emu.sh only (FR_SIMDE_EMU): the
 * AVX-512 intrinsics of fr_avx512.c from SIMDe's portable C, so that its
 * kernels run on a CPU without AVX-512 (the intrinsics are emulated, not
 * the hardware).
 */
#ifndef FR_AVX512_SIMDE_H
#define FR_AVX512_SIMDE_H

/* SIMDe 0.7.4 maps _mm512_* to portable C. It lacks the few intrinsics
   below, which are defined here with the same semantics, element by
   element (masked elements are never touched). */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <string.h>
typedef simde__mmask8 __mmask8;
typedef simde__mmask16 __mmask16;
static __m512 fr_emu_maskz_loadu_ps(__mmask16 k, const void *p)
{
    float v[16];
    int i;
    for (i = 0; i < 16; i++)
        v[i] = (k >> i & 1) ? ((const float *)p)[i] : 0.0f;
    return _mm512_loadu_ps(v);
}
static __m512d fr_emu_maskz_loadu_pd(__mmask8 k, const void *p)
{
    double v[8];
    int i;
    for (i = 0; i < 8; i++)
        v[i] = (k >> i & 1) ? ((const double *)p)[i] : 0.0;
    return _mm512_loadu_pd(v);
}
static void fr_emu_mask_storeu_ps(void *p, __mmask16 k, __m512 a)
{
    float v[16];
    int i;
    _mm512_storeu_ps(v, a);
    for (i = 0; i < 16; i++)
        if (k >> i & 1)
            ((float *)p)[i] = v[i];
}
static void fr_emu_mask_storeu_pd(void *p, __mmask8 k, __m512d a)
{
    double v[8];
    int i;
    _mm512_storeu_pd(v, a);
    for (i = 0; i < 8; i++)
        if (k >> i & 1)
            ((double *)p)[i] = v[i];
}
static __m512d fr_emu_cvtps_pd(__m256 a) /* exact, element by element */
{
    float f[8];
    double v[8];
    int i;
    _mm256_storeu_ps(f, a);
    for (i = 0; i < 8; i++)
        v[i] = (double)f[i];
    return _mm512_loadu_pd(v);
}
static __m512 fr_emu_cvtph_ps(__m256i h) /* two F16C halves, SIMDe's */
{
    __m256 lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    __m256 hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}
static __m256i fr_emu_cvtps_ph(__m512 v)
{
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm256_insertf128_si256(_mm256_castsi128_si256(_mm256_cvtps_ph(lo, 0)),
                                   _mm256_cvtps_ph(hi, 0), 1);
}
/* (SIMDe pulls in <immintrin.h>, whose own definitions these replace.) */
#undef _mm512_maskz_loadu_ps
#undef _mm512_maskz_loadu_pd
#undef _mm512_mask_storeu_ps
#undef _mm512_mask_storeu_pd
#undef _mm512_cvtps_pd
#undef _mm512_cvtph_ps
#undef _mm512_cvtps_ph
#define _mm512_maskz_loadu_ps   fr_emu_maskz_loadu_ps
#define _mm512_maskz_loadu_pd   fr_emu_maskz_loadu_pd
#define _mm512_mask_storeu_ps   fr_emu_mask_storeu_ps
#define _mm512_mask_storeu_pd   fr_emu_mask_storeu_pd
#define _mm512_cvtps_pd         fr_emu_cvtps_pd
#define _mm512_cvtph_ps         fr_emu_cvtph_ps
#define _mm512_cvtps_ph(v, imm) fr_emu_cvtps_ph(v)
#define FR_ARCH_X86_64_EMU      1

#endif /* FR_AVX512_SIMDE_H */
