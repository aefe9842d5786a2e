/*
 * bench/widen.c: can an exact float32 -> float64 widening beat vcvtps2pd?
 * (issue 13, item 4; `python -m bench --widening`, and under --targets)
 *
 * Each loop computes the canonical sums of fr_contract.h over a float32 array
 * of n elements (a multiple of 32): blocks of 2048, 32 float64 lanes held as
 * the kernels hold them (AVX-512: 4 zmm of 8 per sum; AVX2: 8 ymm of 4),
 * element i of a block in lane i % 32, each block's lanes flushed into S, S
 * folded by halves at the end. With n at most one superblock (131072) the
 * result is fastreg's sum_abs / sum_squares bit for bit, which the smoke test
 * and every report check: that is how the integer paths are shown exact.
 *
 * The widenings (variant numbers as the Python side names them):
 *
 *  W_CVT   vcvtps2pd, as the kernels do: AVX-512 (csrc/fr_avx512.c's
 *          pass_wide) widens |x| (a 256-bit and first) and squares that,
 *          AVX2 (fr_avx2.c) widens x, takes |v| by an and and squares v.
 *  W_INT   integer bit moves. With b = the bits of |x| (x & 0x7fffffff),
 *          zero-extended to 64 bits and shifted left by 29, the float32
 *          exponent field lands in the low 8 bits of the float64 exponent and
 *          the 23 mantissa bits on top of the float64 mantissa: as a float64,
 *          that is exactly |x| * 2^-896 for every finite x, zero and
 *          subnormals included (a float32 subnormal m*2^-149 becomes the
 *          float64 subnormal m*2^29*2^-1074 = m*2^-1045). One multiply by
 *          2^896 (exact: a power of two, the product is |x|, a normal or zero
 *          float64) gives |x|; |x|*|x| = x*x. Only inf and NaN (exponent field
 *          255) come out wrong (finite): a running unsigned max of b per
 *          block (one vpmaxud per vector of floats) finds them, and a block
 *          holding any is summed again with vcvtps2pd, so the result is exact
 *          for every input. (DAZ, never set by NumPy, would zero the
 *          subnormal float64 intermediate; vcvtps2pd zeroes the same inputs
 *          under DAZ.) widen_exhaustive() checks the bit move on all 2^31
 *          non-negative patterns below inf.
 *  W_INT_NOCHECK  the same without the inf/NaN check: a lower bound of the
 *          integer path's cost, wrong for inf/NaN.
 *  W_PAIR  no shuffle: 2 floats per 64-bit word, the even one by an and and
 *          a left shift, the odd one by an and and a right shift (lanes
 *          permuted, un-permuted at the flush); inf/NaN as W_INT.
 *  W_F64   no widening at all: the same sums over float64 data (the caller
 *          passes a float64 array of n elements), added as the float64
 *          kernels add (mul, then add: v*v is not exact there).
 *
 * With the sum of |x| alone the integer paths skip the multiply by 2^896
 * and scale the lanes at the flush instead (exact: see block512). The lane
 * additions are those of each level's float32 kernel: AVX-512 as FMAs
 * (acc + m*1, acc + v*v: exact products, csrc/fr_avx512.c's pass_wide), AVX2
 * as mul then add. Compiled with -O3 -ffp-contract=off (no other FMA), one function per
 * level with a `target` attribute.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WB 2048 /* FR_BLOCK */
#define WL 32   /* FR_LANES64 */

enum { W_CVT = 0, W_INT = 1, W_INT_NOCHECK = 2, W_PAIR = 3, W_F64 = 4 };
enum { L_AVX2 = 0, L_AVX512 = 1 };

typedef struct {
    double abs[WL], sq[WL];
} wlanes;

static double fold(double *v)
{
    for (int h = WL / 2; h >= 1; h /= 2)
        for (int j = 0; j < h; j++)
            v[j] = v[j] + v[j + h];
    return v[0];
}

/* The flush S[j] += L[j] from the lane registers stored to t in register
   order: for W_PAIR, element e of a group of 32 was in register 2c + (r & 1),
   position r >> 1 (c = e / (2 vw), r = e % (2 vw)), else in place; with
   `scaled` the lanes hold |x| * 2^-896 and are scaled back (exact). */
static void flush(double *S, const double *t, int pair, int vw, int scaled)
{
    for (int e = 0; e < WL; e++) {
        int c = e / (2 * vw), r = e % (2 * vw);
        double l = pair ? t[vw * (2 * c + (r & 1)) + (r >> 1)] : t[e];
        S[e] = S[e] + (scaled ? l * 0x1p896 : l);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define W_X86 1
#include <immintrin.h>

#define T512 __attribute__((target("avx512f")))
#define T256 __attribute__((target("avx2")))

/*
 * One block (n a multiple of 32) of the canonical sums, lanes held as
 * csrc/fr_avx512.c's pass_wide holds them: 4 zmm of 8 per sum, vector k of a
 * group of 32 in register k. m = |x| (or |x| * 2^-896 when `scaled`: the
 * integer paths with the sum of |x| alone skip the multiply by 2^896 and
 * scale the lanes at the flush; scaling by a power of two commutes with every
 * rounded addition of non-negative float32 values, since a partial sum below
 * 2^-126 is an exact multiple of 2^-149 in both domains), v = the value to
 * square. Returns 1 (nothing flushed) when W_INT or W_PAIR met inf or NaN.
 * variant and what are constants at every call.
 */
static inline T512 int block512(const void *xv, size_t n, int variant, int what, wlanes *s)
{
    const float *xf = (const float *)xv;
    const double *xd = (const double *)xv;
    const int integer = variant == W_INT || variant == W_INT_NOCHECK || variant == W_PAIR;
    const int scaled = integer && what == 1;
    const __m512d scale = _mm512_set1_pd(0x1p896);
    const __m512i abs64 = _mm512_set1_epi64(0x7fffffffffffffffLL);
    __m512d a[4], q[4];
    __m512i mx = _mm512_setzero_si512();
    __m256i mx8 = _mm256_setzero_si256();
    double t[WL];
    for (int k = 0; k < 4; k++)
        a[k] = q[k] = _mm512_setzero_pd();
    for (size_t i = 0; i < n; i += 32) {
        __m512d m[4], v[4];
        for (int k = 0; k < 4; k++) {
            if (variant == W_F64) {
                v[k] = _mm512_loadu_pd(xd + i + 8 * k);
                m[k] = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(v[k]), abs64));
            } else if (variant == W_CVT) { /* as pass_wide: |x| in float32, then widened */
                __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(xf + i + 8 * k)),
                                             _mm256_set1_epi32(0x7fffffff));
                v[k] = m[k] = _mm512_cvtps_pd(_mm256_castsi256_ps(b));
            } else if (variant == W_PAIR) {
                if (k % 2)
                    continue;
                __m512i w = _mm512_loadu_si512((const void *)(xf + i + 8 * k));
                __m512i lo = _mm512_and_si512(w, _mm512_set1_epi64(0x7fffffffLL));
                __m512i hi = _mm512_and_si512(w, _mm512_set1_epi64(0x7fffffff00000000LL));
                mx = _mm512_max_epu32(mx, _mm512_or_si512(lo, hi));
                m[k] = _mm512_castsi512_pd(_mm512_slli_epi64(lo, 29));
                m[k + 1] = _mm512_castsi512_pd(_mm512_srli_epi64(hi, 3));
            } else {
                __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(xf + i + 8 * k)),
                                             _mm256_set1_epi32(0x7fffffff));
                if (variant == W_INT)
                    mx8 = _mm256_max_epu32(mx8, b);
                m[k] = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_cvtepu32_epi64(b), 29));
            }
        }
        for (int k = 0; k < 4; k++) {
            if (integer) {
                if (!scaled)
                    m[k] = _mm512_mul_pd(m[k], scale);
                v[k] = m[k];
            }
            /* as csrc/fr_avx512.c's pass_wide: both sums as FMAs (exact products);
               float64 input as its own kernel (pass_f64): mul, then add */
            if (variant == W_F64) {
                if (what & 1)
                    a[k] = _mm512_add_pd(a[k], m[k]);
                if (what & 2)
                    q[k] = _mm512_add_pd(q[k], _mm512_mul_pd(v[k], v[k]));
            } else {
                if (what & 1)
                    a[k] = _mm512_fmadd_pd(m[k], _mm512_set1_pd(1.0), a[k]);
                if (what & 2)
                    q[k] = _mm512_fmadd_pd(v[k], v[k], q[k]);
            }
        }
    }
    if (variant == W_INT &&
        !_mm256_testz_si256(_mm256_cmpgt_epi32(mx8, _mm256_set1_epi32(0x7f7fffff)),
                            _mm256_set1_epi32(-1)))
        return 1; /* inf or NaN in the block: the caller sums it with vcvtps2pd */
    if (variant == W_PAIR && _mm512_cmpgt_epu32_mask(mx, _mm512_set1_epi32(0x7f7fffff)))
        return 1;
    for (int k = 0; k < 4 && (what & 1); k++)
        _mm512_storeu_pd(t + 8 * k, a[k]);
    if (what & 1)
        flush(s->abs, t, variant == W_PAIR, 8, scaled);
    for (int k = 0; k < 4 && (what & 2); k++)
        _mm512_storeu_pd(t + 8 * k, q[k]);
    if (what & 2)
        flush(s->sq, t, variant == W_PAIR, 8, 0);
    return 0;
}

/* AVX2: the same with 8 ymm of 4 lanes per sum (fr_avx2.c's layout). */
static inline T256 int block256(const void *xv, size_t n, int variant, int what, wlanes *s)
{
    const float *xf = (const float *)xv;
    const double *xd = (const double *)xv;
    const int integer = variant == W_INT || variant == W_INT_NOCHECK || variant == W_PAIR;
    const int scaled = integer && what == 1;
    const __m256d scale = _mm256_set1_pd(0x1p896);
    const __m256i abs64 = _mm256_set1_epi64x(0x7fffffffffffffffLL);
    __m256d a[8], q[8];
    __m256i mx = _mm256_setzero_si256();
    __m128i mx4 = _mm_setzero_si128();
    double t[WL];
    for (int k = 0; k < 8; k++)
        a[k] = q[k] = _mm256_setzero_pd();
    for (size_t i = 0; i < n; i += 32) {
        __m256d m[8], v[8];
        for (int k = 0; k < 8; k++) {
            if (variant == W_F64 || variant == W_CVT) {
                v[k] = variant == W_F64 ? _mm256_loadu_pd(xd + i + 4 * k)
                                        : _mm256_cvtps_pd(_mm_loadu_ps(xf + i + 4 * k));
                m[k] = _mm256_castsi256_pd(_mm256_and_si256(_mm256_castpd_si256(v[k]), abs64));
            } else if (variant == W_PAIR) {
                if (k % 2)
                    continue;
                __m256i w = _mm256_loadu_si256((const __m256i *)(xf + i + 4 * k));
                __m256i lo = _mm256_and_si256(w, _mm256_set1_epi64x(0x7fffffffLL));
                __m256i hi = _mm256_and_si256(w, _mm256_set1_epi64x(0x7fffffff00000000LL));
                mx = _mm256_max_epu32(mx, _mm256_or_si256(lo, hi));
                m[k] = _mm256_castsi256_pd(_mm256_slli_epi64(lo, 29));
                m[k + 1] = _mm256_castsi256_pd(_mm256_srli_epi64(hi, 3));
            } else {
                __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(xf + i + 4 * k)),
                                          _mm_set1_epi32(0x7fffffff));
                if (variant == W_INT)
                    mx4 = _mm_max_epu32(mx4, b);
                m[k] = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_cvtepu32_epi64(b), 29));
            }
        }
        for (int k = 0; k < 8; k++) {
            if (integer) {
                if (!scaled)
                    m[k] = _mm256_mul_pd(m[k], scale);
                v[k] = m[k];
            }
            if (what & 1)
                a[k] = _mm256_add_pd(a[k], m[k]);
            if (what & 2)
                q[k] = _mm256_add_pd(q[k], _mm256_mul_pd(v[k], v[k]));
        }
    }
    if (variant == W_INT &&
        !_mm_testz_si128(_mm_cmpgt_epi32(mx4, _mm_set1_epi32(0x7f7fffff)), _mm_set1_epi32(-1)))
        return 1;
    if (variant == W_PAIR &&
        !_mm256_testz_si256(_mm256_cmpgt_epi32(mx, _mm256_set1_epi32(0x7f7fffff)),
                            _mm256_set1_epi32(-1)))
        return 1;
    for (int k = 0; k < 8 && (what & 1); k++)
        _mm256_storeu_pd(t + 4 * k, a[k]);
    if (what & 1)
        flush(s->abs, t, variant == W_PAIR, 4, scaled);
    for (int k = 0; k < 8 && (what & 2); k++)
        _mm256_storeu_pd(t + 4 * k, q[k]);
    if (what & 2)
        flush(s->sq, t, variant == W_PAIR, 4, 0);
    return 0;
}

/* Every block of x; blocks with inf or NaN again with vcvtps2pd. The switch
   makes variant and what constants in each instance of BLOCK. */
#define W_CASE(BLOCK, V)                                                                     \
    case V * 4 + 1: redo = BLOCK(p, c, V, 1, s); break;                                      \
    case V * 4 + 2: redo = BLOCK(p, c, V, 2, s); break;                                      \
    case V * 4 + 3: redo = BLOCK(p, c, V, 3, s); break

#define W_RUN_BLOCKS(BLOCK)                                                                  \
    do {                                                                                     \
        for (size_t off = 0; off < n; off += WB) {                                           \
            size_t c = n - off < WB ? n - off : WB;                                          \
            const char *p = (const char *)x + off * item;                                    \
            int redo = 0;                                                                    \
            switch (variant * 4 + what) {                                                    \
                W_CASE(BLOCK, W_CVT);                                                        \
                W_CASE(BLOCK, W_INT);                                                        \
                W_CASE(BLOCK, W_INT_NOCHECK);                                                \
                W_CASE(BLOCK, W_PAIR);                                                       \
                W_CASE(BLOCK, W_F64);                                                        \
            default:                                                                         \
                break;                                                                       \
            }                                                                                \
            if (redo) {                                                                      \
                specials++;                                                                  \
                if (what == 1)                                                               \
                    BLOCK(p, c, W_CVT, 1, s);                                                \
                else if (what == 2)                                                          \
                    BLOCK(p, c, W_CVT, 2, s);                                                \
                else                                                                         \
                    BLOCK(p, c, W_CVT, 3, s);                                                \
            }                                                                                \
        }                                                                                    \
    } while (0)

static T512 size_t run512(const void *x, size_t n, int variant, int what, wlanes *s)
{
    size_t item = variant == W_F64 ? 8 : 4, specials = 0;
    W_RUN_BLOCKS(block512);
    return specials;
}

static T256 size_t run256(const void *x, size_t n, int variant, int what, wlanes *s)
{
    size_t item = variant == W_F64 ? 8 : 4, specials = 0;
    W_RUN_BLOCKS(block256);
    return specials;
}
#endif /* W_X86 */

/* 1 if this CPU runs the level's loops */
int widen_has(int level)
{
#ifdef W_X86
    __builtin_cpu_init();
    if (level == L_AVX512)
        return __builtin_cpu_supports("avx512f");
    if (level == L_AVX2)
        return __builtin_cpu_supports("avx2");
#endif
    (void)level;
    return 0;
}

/*
 * The canonical sums of x (n elements, a multiple of 32, float32, or float64 for
 * W_F64) `reps` times; out[0] = sum |x|, out[1] = sum x^2 of the last rep
 * (what: 1 abs, 2 squares, 3 both). Returns the blocks summed again with
 * vcvtps2pd (W_INT: blocks holding inf or NaN), or -1 if the level is not here.
 */
long long widen_run(int level, int variant, int what, const void *x, size_t n, size_t reps,
                    double *out)
{
    long long specials = 0;
    wlanes s;
    if (n % 32 || what < 1 || what > 3 || variant < 0 || variant > W_F64)
        return -1;
    for (size_t r = 0; r < reps; r++) {
        memset(&s, 0, sizeof s);
#ifdef W_X86
        if (level == L_AVX512)
            specials = (long long)run512(x, n, variant, what, &s);
        else if (level == L_AVX2)
            specials = (long long)run256(x, n, variant, what, &s);
        else
            return -1;
#else
        (void)level;
        return -1;
#endif
        __asm__ __volatile__("" : : "r"(&s) : "memory");
    }
    out[0] = (what & 1) ? fold(s.abs) : 0.0;
    out[1] = (what & 2) ? fold(s.sq) : 0.0;
    return specials;
}

/* A chain of `iters` x 4 dependent integer adds (1 cycle each on any x86-64 of
   the last decade): the caller times it to get the core clock. */
uint64_t widen_clock(uint64_t iters)
{
    uint64_t v = 0;
    for (uint64_t i = 0; i < iters; i++) {
#ifdef W_X86
        __asm__ __volatile__("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(v));
#else
        __asm__ __volatile__("" : "+r"(v));
        v += 4;
#endif
    }
    return v;
}

/* Every non-negative float32 bit pattern below inf (step 1: all 2^31 - 2^23 of
   them): does (b << 29) as a float64, times 2^896, equal (double)f? Returns the
   number that differ (0: the integer widening is exact for every finite x). */
uint64_t widen_exhaustive(uint32_t step)
{
    uint64_t bad = 0;
    for (uint64_t b = 0; b < 0x7f800000u; b += step ? step : 1) {
        float f;
        uint32_t b32 = (uint32_t)b;
        uint64_t q = (uint64_t)b32 << 29;
        double d;
        memcpy(&f, &b32, 4);
        memcpy(&d, &q, 8);
        d = d * 0x1p896;
        bad += d != (double)f;
    }
    return bad;
}
