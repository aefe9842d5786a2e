/*
 * fr_float16.h - float16 <-> float32 in portable C: the reference every
 * ISA's conversions match bit for bit, and their tails.
 */
#ifndef FR_FLOAT16_H
#define FR_FLOAT16_H

#include <stdint.h>

/* Portable scalar float16 conversions, shared reference for every ISA. */
static inline float fr_h2f(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    union {
        uint32_t u;
        float f;
    } r;
    if (exp == 0x1f) { /* inf / NaN: keep the payload, make NaN quiet */
        bits = sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0u);
    } else if (exp != 0) { /* normal */
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) { /* +-0 */
        bits = sign;
    } else { /* subnormal: renormalise */
        uint32_t e = 113u;
        while (!(man & 0x400u)) {
            man <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
    r.u = bits;
    return r.f;
}

static inline uint16_t fr_f2h(float f)
{
    union {
        float f;
        uint32_t u;
    } v;
    uint32_t sign, exp, man;
    v.f = f;
    sign = (v.u >> 16) & 0x8000u;
    exp = (v.u >> 23) & 0xffu;
    man = v.u & 0x7fffffu;
    if (exp == 0xff) /* inf / NaN (quiet, top payload bits kept) */
        return (uint16_t)(sign | 0x7c00u | (man ? (0x200u | (man >> 13)) : 0u));
    if (exp > 142) /* >= 2^16: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (exp >= 113) { /* normal half: round 23 -> 10 mantissa bits, ties to even */
        uint32_t h = ((exp - 112u) << 10) | (man >> 13);
        uint32_t rest = man & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
            h++; /* may carry into the exponent, up to inf: both correct */
        return (uint16_t)(sign | h);
    }
    if (exp >= 102) { /* subnormal half: shift the implicit-1 mantissa */
        uint32_t m = man | 0x800000u;
        uint32_t shift = 126u - exp; /* 14 .. 24 */
        uint32_t h = m >> shift;
        uint32_t rest = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (h & 1u)))
            h++;
        return (uint16_t)(sign | h);
    }
    return (uint16_t)sign; /* below half the smallest subnormal: +-0 */
}

#endif /* FR_FLOAT16_H */
