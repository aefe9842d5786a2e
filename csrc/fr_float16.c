/*
 * fr_float16.c - float16 rounding of a double (fastreg.h's fr_f64_to_f16),
 * for the factors and sums of a float16 regularizer value. The float32
 * conversions the kernels use are in fr_float16.h.
 */
#include "fastreg.h"

/* double -> float16, one rounding (to nearest even), as NumPy casts. */
uint16_t fr_f64_to_f16(double v)
{
    union {
        double d;
        uint64_t u;
    } w;
    uint64_t man;
    uint32_t sign;
    int exp;
    w.d = v;
    sign = (uint32_t)(w.u >> 48) & 0x8000u;
    exp = (int)((w.u >> 52) & 0x7ff);
    man = w.u & 0xfffffffffffffull;
    if (exp == 0x7ff)
        return (uint16_t)(sign | 0x7c00u | (man ? (0x200u | (uint32_t)(man >> 42)) : 0u));
    if (exp > 1038) /* >= 2^16 */
        return (uint16_t)(sign | 0x7c00u);
    if (exp >= 1009) { /* normal half: 52 -> 10 mantissa bits */
        uint64_t h = ((uint64_t)(exp - 1008) << 10) | (man >> 42);
        uint64_t rest = man & ((1ull << 42) - 1), half = 1ull << 41;
        if (rest > half || (rest == half && (h & 1)))
            h++;
        return (uint16_t)(sign | (uint32_t)h);
    }
    if (exp >= 998) { /* subnormal half */
        uint64_t m = man | (1ull << 52);
        int shift = 1051 - exp; /* 43 .. 53 */
        uint64_t h = m >> shift, rest = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
        if (rest > half || (rest == half && (h & 1)))
            h++;
        return (uint16_t)(sign | (uint32_t)h);
    }
    return (uint16_t)sign;
}
