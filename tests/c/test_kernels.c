/*
 * test_kernels.c - C harness: every SIMD kernel table against fr_scalar.c,
 * bit for bit, straight through struct fr_kernels (no driver, no Python).
 *
 * Two ways to build it (see tools/avx512_emu.sh, tools/neon_qemu.sh and
 * tests/test_kernels.py):
 *   -DFR_TEST_TABLE=fr_kernels_avx512   compare that one table with scalar;
 *                                       link fr_scalar.c + the ISA file only
 *                                       (the table may be emulated: SIMDe)
 *   (no FR_TEST_TABLE)                  link every csrc/fr_*.c and compare the
 *                                       levels named as arguments, or by
 *                                       default every level the CPU runs
 *
 * What is compared: the flushed lane sums (all 32 abs and 32 sq slots, so a
 * kernel that touches a sum it was not asked for fails; sum_f32 also against
 * the scalar sum_f64 of the widened block, the contract of fr_contract.h), the tiny_*
 * reductions of 1 .. 32 elements against the folded scalar block sums, gradient and prox
 * outputs, the float16 conversions. Values must have the same bits; for NaN
 * only the NaN-ness is compared (payloads after NaN op NaN depend on operand
 * order, which the contract does not fix); the float16 conversions are
 * exact operations and compared with their NaN payloads. Inputs sit in
 * NaN-filled memory that ends at a PROT_NONE page (sums: at every start
 * alignment), and outputs are surrounded by guard elements, so a kernel that
 * reads outside [0, n) gets a NaN or a fault, and one that writes outside
 * fails.
 *
 * The last line is "N passed, N failed"; the exit status is 1 on failure.
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS under -std=c99 */
#include "fr_float16.h"
#include "fr_kernel_abi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define HAVE_MMAN 1
#endif

#ifdef FR_TEST_TABLE
extern const struct fr_kernels FR_TEST_TABLE;
#endif

static long passed, failed;
static const char *cur_isa = "?";

static void check(int ok, const char *what, size_t n, int flags, long idx)
{
    if (ok) {
        passed++;
        return;
    }
    if (failed < 30)
        printf("FAIL %s %s n=%zu flags=%d index=%ld\n", cur_isa, what, n, flags, idx);
    failed++;
}

/* ---- random numbers and test data ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

static float f32_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double f64_bits(uint64_t u)
{
    double f;
    memcpy(&f, &u, 8);
    return f;
}

static uint32_t bits32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t bits64(double f)
{
    uint64_t u;
    memcpy(&u, &f, 8);
    return u;
}

static int same32(float a, float b)
{
    return (a != a && b != b) || bits32(a) == bits32(b);
}
static int same64(double a, double b)
{
    return (a != a && b != b) || bits64(a) == bits64(b);
}

#define NKINDS 6
/* kind 0: uniform [-1, 1); 1: any exponent (subnormal .. near overflow);
   2: uniform with specials (+-0, NaN, +-inf, subnormals, max) mixed in;
   3: random bit patterns (NaN payloads included); 4: one repeated value;
   5: positive values with many equal-exponent ties for the lane sums. */
static double special(int is64)
{
    static const double sp[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.0};
    int k = (int)(rnd() % 12);
    if (k < 6)
        return sp[k];
    switch (k) {
    case 6:
        return NAN;
    case 7:
        return -NAN;
    case 8:
        return INFINITY;
    case 9:
        return -INFINITY;
    case 10:
        return is64 ? 4.9406564584124654e-324 : 1.4012984643e-45;
    default:
        return is64 ? -1.7976931348623157e308 : -3.4028234664e38;
    }
}

static void fill32(float *x, size_t n, int kind)
{
    size_t i;
    float rep = (float)(unif() * 3.0 - 1.5);
    for (i = 0; i < n; i++) {
        switch (kind) {
        case 0:
            x[i] = (float)(unif() * 2.0 - 1.0);
            break;
        case 1:
            x[i] = (float)((unif() - 0.5) * ldexp(1.0, (int)(rnd() % 270) - 150));
            break;
        case 2:
            x[i] = (rnd() % 6 == 0) ? (float)special(0) : (float)(unif() * 2.0 - 1.0);
            break;
        case 3:
            x[i] = f32_bits((uint32_t)rnd());
            break;
        case 4:
            x[i] = rep;
            break;
        default:
            x[i] = (float)(1.0 + (double)(rnd() % 1024) / 1024.0);
            break;
        }
    }
}

static void fill64(double *x, size_t n, int kind)
{
    size_t i;
    double rep = unif() * 3.0 - 1.5;
    for (i = 0; i < n; i++) {
        switch (kind) {
        case 0:
            x[i] = unif() * 2.0 - 1.0;
            break;
        case 1:
            x[i] = (unif() - 0.5) * ldexp(1.0, (int)(rnd() % 2100) - 1075);
            break;
        case 2:
            x[i] = (rnd() % 6 == 0) ? special(1) : unif() * 2.0 - 1.0;
            break;
        case 3:
            x[i] = f64_bits(rnd());
            break;
        case 4:
            x[i] = rep;
            break;
        default:
            x[i] = 1.0 + (double)(rnd() % 1024) / 1048576.0;
            break;
        }
    }
}

/* ---- memory that ends at an inaccessible page ---- */

/* Returns a pointer p with p + bytes + slack exactly at the start of a
   PROT_NONE page (where mmap exists), so any read past the end faults (past
   the slack, which varies the alignment of p). */
static void *guarded_at(size_t bytes, size_t slack, void **base, size_t *len)
{
#ifdef HAVE_MMAN
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body;
    bytes += slack;
    body = (bytes + page - 1) / page * page;
    char *m =
        (char *)mmap(NULL, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == (char *)MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    mprotect(m + body, page, PROT_NONE);
    memset(m, 0xff, body); /* NaN around the data: reading outside it shows */
    *base = m;
    *len = body + page;
    return m + body - bytes;
#else
    char *m = (char *)malloc(bytes + slack + 64);
    memset(m, 0xff, bytes + slack + 64);
    *base = m;
    *len = 0;
    return m;
#endif
}

static void *guarded(size_t bytes, void **base, size_t *len)
{
    return guarded_at(bytes, 0, base, len);
}

static void unguard(void *base, size_t len)
{
#ifdef HAVE_MMAN
    munmap(base, len);
#else
    (void)len;
    free(base);
#endif
}

/* ---- the battery ---- */

static const size_t sizes[] = {0,    1,    2,    3,    4,    5,    7,    8,    9,    15,   16,
                               17,   31,   32,   33,   47,   63,   64,   65,   95,   96,   97,
                               127,  128,  129,  191,  255,  256,  257,  511,  512,  513,  1000,
                               1023, 1024, 1025, 1536, 1999, 2016, 2032, 2040, 2046, 2047, 2048};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define MAXN   FR_BLOCK
#define GUARD  16 /* elements each side of an output */
#define SENT32 0x7fa5a5a5u
#define SENT64 0x7ff5a5a5a5a5a5a5ull

static void lanes_init(fr_lanes *s)
{
    int j;
    for (j = 0; j < FR_LANES64; j++) {
        s->abs[j] = (double)(rnd() % 1000) * 0.25;
        s->sq[j] = (double)(rnd() % 1000) * 0.5;
    }
}

static void lanes_cmp(const fr_lanes *a, const fr_lanes *b, const char *what, size_t n, int fl)
{
    int j;
    for (j = 0; j < FR_LANES64; j++) {
        check(same64(a->abs[j], b->abs[j]), what, n, fl, j);
        check(same64(a->sq[j], b->sq[j]), what, n, fl, FR_LANES64 + j);
    }
}

/* The canonical result of one block from +0 lanes: sum_f64, fold halves. */
static void fold_ref(const struct fr_kernels *ref, const double *y, size_t n, double *sa,
                     double *ss)
{
    fr_lanes s;
    int h, j;
    memset(&s, 0, sizeof s);
    ref->sum_f64(y, n, FR_ABS | FR_SQ, &s);
    for (h = FR_LANES64 / 2; h >= 1; h /= 2)
        for (j = 0; j < h; j++) {
            s.abs[j] = s.abs[j] + s.abs[j + h];
            s.sq[j] = s.sq[j] + s.sq[j + h];
        }
    *sa = s.abs[0];
    *ss = s.sq[0];
}

/* tiny_f32 / tiny_f64 (1 .. FR_LANES64 elements): the folded block sums of
   the reference, bit for bit, and untouched outputs for a term not asked. */
static void test_tiny(const struct fr_kernels *ref, const struct fr_kernels *k, const float *x,
                      const double *y, size_t n)
{
    double wide[FR_LANES64], ea, es, a, q;
    size_t i;
    int what;
    for (i = 0; i < n; i++)
        wide[i] = (double)x[i];
    for (what = 1; what <= 3; what++) {
        fold_ref(ref, wide, n, &ea, &es);
        a = q = 1234.5;
        k->tiny_f32(x, n, what, &a, &q);
        check(what & FR_ABS ? same64(a, ea) : a == 1234.5, "tiny_f32 abs", n, what, 0);
        check(what & FR_SQ ? same64(q, es) : q == 1234.5, "tiny_f32 sq", n, what, 1);
        fold_ref(ref, y, n, &ea, &es);
        a = q = 1234.5;
        k->tiny_f64(y, n, what, &a, &q);
        check(what & FR_ABS ? same64(a, ea) : a == 1234.5, "tiny_f64 abs", n, what, 0);
        check(what & FR_SQ ? same64(q, es) : q == 1234.5, "tiny_f64 sq", n, what, 1);
    }
}

static void test_sums(const struct fr_kernels *ref, const struct fr_kernels *k)
{
    static double wide[MAXN];
    size_t si, off, i;
    int kind, what;
    void *b1, *b2;
    size_t l1, l2;
    for (si = 0; si < NSIZES; si++) {
        size_t n = sizes[si];
        for (kind = 0; kind < NKINDS; kind++) {
            for (off = 0; off < 16; off += (n > 300 ? 5 : 1)) { /* every alignment */
                float *x = (float *)guarded_at(n * 4, off * 4, &b1, &l1);
                double *y = (double *)guarded_at(n * 8, off * 8, &b2, &l2);
                fill32(x, n, kind);
                fill64(y, n, kind);
                if (n >= 1 && n <= FR_LANES64)
                    test_tiny(ref, k, x, y, n);
                for (what = 1; what <= 3; what++) {
                    fr_lanes s1, s2;
                    lanes_init(&s1);
                    s2 = s1;
                    ref->sum_f32(x, n, what, &s1);
                    k->sum_f32(x, n, what, &s2);
                    lanes_cmp(&s1, &s2, "sum_f32", n, what);
                    lanes_init(&s1);
                    s2 = s1;
                    for (i = 0; i < n; i++)
                        wide[i] = (double)x[i];
                    ref->sum_f64(wide, n, what, &s1);
                    k->sum_f32(x, n, what, &s2);
                    lanes_cmp(&s1, &s2, "sum_f32 vs widened sum_f64", n, what);
                    lanes_init(&s1);
                    s2 = s1;
                    ref->sum_f64(y, n, what, &s1);
                    k->sum_f64(y, n, what, &s2);
                    lanes_cmp(&s1, &s2, "sum_f64", n, what);
                }
                unguard(b1, l1);
                unguard(b2, l2);
            }
        }
    }
}

static const float ab32[][2] = {{0.01f, 0.02f},   {-0.3f, 1.5f},   {0.0f, 0.0f},
                                {INFINITY, 0.5f}, {1e-30f, 3e30f}, {2.5f, -0.0f}};
#define NAB (sizeof ab32 / sizeof ab32[0])

static void test_grad(const struct fr_kernels *ref, const struct fr_kernels *k)
{
    static float x32[MAXN], o1[MAXN + 2 * GUARD], o2[MAXN + 2 * GUARD];
    static double x64[MAXN], p1[MAXN + 2 * GUARD], p2[MAXN + 2 * GUARD];
    size_t si, i, ai;
    int kind, flags, inplace;
    void *b1, *b2;
    size_t l1, l2;
    for (si = 0; si < NSIZES; si += (si < 20 ? 1 : 2)) {
        size_t n = sizes[si];
        for (kind = 0; kind < NKINDS; kind += (kind == 3 ? 1 : 2)) {
            float *gx = (float *)guarded(n * 4, &b1, &l1);
            double *gy = (double *)guarded(n * 8, &b2, &l2);
            fill32(x32, n, kind);
            fill64(x64, n, kind);
            for (flags = 0; flags < 32; flags++) { /* FR_STREAM (16) too */
                for (ai = 0; ai < NAB; ai++) {
                    float a = ab32[ai][0], b = ab32[ai][1];
                    for (inplace = 0; inplace < 2; inplace++) {
                        fr_lanes s1, s2;
                        float *out1 = o1 + GUARD, *out2 = o2 + GUARD;
                        double *pout1 = p1 + GUARD, *pout2 = p2 + GUARD;
                        for (i = 0; i < n + 2 * GUARD; i++) {
                            o1[i] = o2[i] = f32_bits(SENT32);
                            p1[i] = p2[i] = f64_bits(SENT64);
                        }
                        fill32(out1, n, 2);
                        memcpy(out2, out1, n * 4);
                        fill64(pout1, n, 2);
                        memcpy(pout2, pout1, n * 8);
                        /* float32 */
                        lanes_init(&s1);
                        s2 = s1;
                        if (inplace) { /* out is x: the kernel gets the same pointer twice */
                            memcpy(out1, x32, n * 4);
                            memcpy(out2, x32, n * 4);
                            ref->grad_f32(out1, out1, n, a, b, flags, &s1);
                            k->grad_f32(out2, out2, n, a, b, flags, &s2);
                        } else {
                            memcpy(gx, x32, n * 4); /* x ends at the guard page */
                            ref->grad_f32(gx, out1, n, a, b, flags, &s1);
                            k->grad_f32(gx, out2, n, a, b, flags, &s2);
                            for (i = 0; i < n; i++)
                                check(bits32(gx[i]) == bits32(x32[i]), "grad_f32 wrote x", n, flags,
                                      (long)i);
                        }
                        for (i = 0; i < n + 2 * GUARD; i++)
                            check(same32(o1[i], o2[i]), "grad_f32", n, flags, (long)i - GUARD);
                        for (i = 0; i < GUARD; i++)
                            check(bits32(o2[i]) == SENT32 && bits32(out2[n + i]) == SENT32,
                                  "grad_f32 guard", n, flags, (long)i);
                        lanes_cmp(&s1, &s2, "grad_f32 sums", n, flags);
                        /* float64 */
                        lanes_init(&s1);
                        s2 = s1;
                        if (inplace) {
                            memcpy(pout1, x64, n * 8);
                            memcpy(pout2, x64, n * 8);
                            ref->grad_f64(pout1, pout1, n, a, b, flags, &s1);
                            k->grad_f64(pout2, pout2, n, a, b, flags, &s2);
                        } else {
                            memcpy(gy, x64, n * 8);
                            ref->grad_f64(gy, pout1, n, a, b, flags, &s1);
                            k->grad_f64(gy, pout2, n, a, b, flags, &s2);
                        }
                        for (i = 0; i < n + 2 * GUARD; i++)
                            check(same64(p1[i], p2[i]), "grad_f64", n, flags, (long)i - GUARD);
                        for (i = 0; i < GUARD; i++)
                            check(bits64(p2[i]) == SENT64 && bits64(pout2[n + i]) == SENT64,
                                  "grad_f64 guard", n, flags, (long)i);
                        lanes_cmp(&s1, &s2, "grad_f64 sums", n, flags);
                    }
                }
            }
            unguard(b1, l1);
            unguard(b2, l2);
        }
    }
}

/* tiny_grad_f32 / tiny_grad_f64 (1 .. FR_LANES64 elements, every flag and
   sum combination, out separate or x itself) against the two calls the
   driver made before them: the reference's tiny_* sums, then its grad_*.
   Same bits for the sums and every output element, guards untouched, a sum
   not asked untouched, x not written when out is separate. */
static void test_tiny_grad(const struct fr_kernels *ref, const struct fr_kernels *k)
{
    static float o1[FR_LANES64 + 2 * GUARD], o2[FR_LANES64 + 2 * GUARD];
    static double p1[FR_LANES64 + 2 * GUARD], p2[FR_LANES64 + 2 * GUARD];
    float x32[FR_LANES64];
    double x64[FR_LANES64];
    size_t n, i, ai;
    int kind, flags, what, inplace;
    void *b1, *b2;
    size_t l1, l2;
    for (n = 1; n <= FR_LANES64; n++) {
        for (kind = 0; kind < NKINDS; kind++) {
            float *gx = (float *)guarded(n * 4, &b1, &l1); /* x ends at the guard page */
            double *gy = (double *)guarded(n * 8, &b2, &l2);
            fill32(x32, n, kind);
            fill64(x64, n, kind);
            for (flags = 0; flags < 8; flags++) {
                for (what = 0; what < 4; what++) {
                    for (ai = 0; ai < NAB; ai++) {
                        float a = ab32[ai][0], b = ab32[ai][1];
                        for (inplace = 0; inplace < 2; inplace++) {
                            float *out1 = o1 + GUARD, *out2 = o2 + GUARD;
                            double *pout1 = p1 + GUARD, *pout2 = p2 + GUARD;
                            double sa1 = 1234.5, ss1 = 1234.5, sa2 = 1234.5, ss2 = 1234.5;
                            fr_lanes unused;
                            for (i = 0; i < FR_LANES64 + 2 * GUARD; i++) {
                                o1[i] = o2[i] = f32_bits(SENT32);
                                p1[i] = p2[i] = f64_bits(SENT64);
                            }
                            fill32(out1, n, 2);
                            memcpy(out2, out1, n * 4);
                            fill64(pout1, n, 2);
                            memcpy(pout2, pout1, n * 8);
                            /* float32 */
                            if (inplace) {
                                memcpy(out1, x32, n * 4);
                                memcpy(out2, x32, n * 4);
                                if (what)
                                    ref->tiny_f32(out1, n, what, &sa1, &ss1);
                                ref->grad_f32(out1, out1, n, a, b, flags, &unused);
                                k->tiny_grad_f32(out2, out2, n, a, b, flags, what, &sa2, &ss2);
                            } else {
                                memcpy(gx, x32, n * 4);
                                if (what)
                                    ref->tiny_f32(gx, n, what, &sa1, &ss1);
                                ref->grad_f32(gx, out1, n, a, b, flags, &unused);
                                k->tiny_grad_f32(gx, out2, n, a, b, flags, what, &sa2, &ss2);
                                for (i = 0; i < n; i++)
                                    check(bits32(gx[i]) == bits32(x32[i]), "tiny_grad_f32 wrote x",
                                          n, flags, (long)i);
                            }
                            for (i = 0; i < FR_LANES64 + 2 * GUARD; i++)
                                check(same32(o1[i], o2[i]), "tiny_grad_f32", n, flags,
                                      (long)i - GUARD);
                            for (i = 0; i < GUARD; i++)
                                check(bits32(o2[i]) == SENT32 && bits32(out2[n + i]) == SENT32,
                                      "tiny_grad_f32 guard", n, flags, (long)i);
                            check(same64(sa1, sa2) && same64(ss1, ss2), "tiny_grad_f32 sums", n,
                                  flags + 8 * what, 0);
                            /* float64 */
                            sa1 = ss1 = sa2 = ss2 = 1234.5;
                            if (inplace) {
                                memcpy(pout1, x64, n * 8);
                                memcpy(pout2, x64, n * 8);
                                if (what)
                                    ref->tiny_f64(pout1, n, what, &sa1, &ss1);
                                ref->grad_f64(pout1, pout1, n, a, b, flags, &unused);
                                k->tiny_grad_f64(pout2, pout2, n, a, b, flags, what, &sa2, &ss2);
                            } else {
                                memcpy(gy, x64, n * 8);
                                if (what)
                                    ref->tiny_f64(gy, n, what, &sa1, &ss1);
                                ref->grad_f64(gy, pout1, n, a, b, flags, &unused);
                                k->tiny_grad_f64(gy, pout2, n, a, b, flags, what, &sa2, &ss2);
                                for (i = 0; i < n; i++)
                                    check(bits64(gy[i]) == bits64(x64[i]), "tiny_grad_f64 wrote x",
                                          n, flags, (long)i);
                            }
                            for (i = 0; i < FR_LANES64 + 2 * GUARD; i++)
                                check(same64(p1[i], p2[i]), "tiny_grad_f64", n, flags,
                                      (long)i - GUARD);
                            for (i = 0; i < GUARD; i++)
                                check(bits64(p2[i]) == SENT64 && bits64(pout2[n + i]) == SENT64,
                                      "tiny_grad_f64 guard", n, flags, (long)i);
                            check(same64(sa1, sa2) && same64(ss1, ss2), "tiny_grad_f64 sums", n,
                                  flags + 8 * what, 0);
                        }
                    }
                }
            }
            unguard(b1, l1);
            unguard(b2, l2);
        }
    }
}

/* (t, r): r is the reciprocal the caller rounds (fr_prox_recip); 0 is that
   of d = inf, 1e-39 a subnormal one (d beyond 2^126), 1/3 one not exact. */
static const float td32[][2] = {{0.1f, 1.5f},     {0.0f, 1.0f},   {-0.2f, 0.7f},
                                {INFINITY, 2.0f}, {NAN, 1.0f},    {1e-40f, 3.0f},
                                {0.5f, 0.0f},     {0.0f, 1e-39f}, {0.25f, 1.0f / 3.0f}};
#define NTD (sizeof td32 / sizeof td32[0])

static void test_prox(const struct fr_kernels *ref, const struct fr_kernels *k)
{
    static float o1[MAXN + 2 * GUARD], o2[MAXN + 2 * GUARD];
    static double p1[MAXN + 2 * GUARD], p2[MAXN + 2 * GUARD];
    size_t si, i, ti;
    int kind, flags, inplace;
    void *b1, *b2;
    size_t l1, l2;
    for (si = 0; si < NSIZES; si++) {
        size_t n = sizes[si];
        for (kind = 0; kind < NKINDS; kind++) {
            float *x = (float *)guarded(n * 4, &b1, &l1);
            double *y = (double *)guarded(n * 8, &b2, &l2);
            fill32(x, n, kind);
            fill64(y, n, kind);
            for (flags = 0; flags < 4; flags++) {
                for (ti = 0; ti < NTD; ti++) {
                    float t = td32[ti][0], r = td32[ti][1];
                    for (inplace = 0; inplace < 2; inplace++) {
                        float *out1 = o1 + GUARD, *out2 = o2 + GUARD;
                        double *pout1 = p1 + GUARD, *pout2 = p2 + GUARD;
                        for (i = 0; i < n + 2 * GUARD; i++) {
                            o1[i] = o2[i] = f32_bits(SENT32);
                            p1[i] = p2[i] = f64_bits(SENT64);
                        }
                        if (inplace) {
                            memcpy(out1, x, n * 4);
                            memcpy(out2, x, n * 4);
                            ref->prox_f32(out1, out1, n, t, r, flags);
                            k->prox_f32(out2, out2, n, t, r, flags);
                            memcpy(pout1, y, n * 8);
                            memcpy(pout2, y, n * 8);
                            ref->prox_f64(pout1, pout1, n, t, r, flags);
                            k->prox_f64(pout2, pout2, n, t, r, flags);
                        } else {
                            ref->prox_f32(x, out1, n, t, r, flags);
                            k->prox_f32(x, out2, n, t, r, flags);
                            ref->prox_f64(y, pout1, n, t, r, flags);
                            k->prox_f64(y, pout2, n, t, r, flags);
                        }
                        for (i = 0; i < n + 2 * GUARD; i++) {
                            check(same32(o1[i], o2[i]), "prox_f32", n, flags, (long)i - GUARD);
                            check(same64(p1[i], p2[i]), "prox_f64", n, flags, (long)i - GUARD);
                        }
                        for (i = 0; i < GUARD; i++) {
                            check(bits32(o2[i]) == SENT32 && bits32(out2[n + i]) == SENT32,
                                  "prox_f32 guard", n, flags, (long)i);
                            check(bits64(p2[i]) == SENT64 && bits64(pout2[n + i]) == SENT64,
                                  "prox_f64 guard", n, flags, (long)i);
                        }
                    }
                }
            }
            unguard(b1, l1);
            unguard(b2, l2);
        }
    }
}

/* The training steps (sgd_*, pgd_*): w, v and g from the same data kinds,
   every term combination, with and without momentum, w and v at every
   start alignment of a 64-byte line (fr_avx512.c's head), outputs between
   guard elements, g in memory that ends at an inaccessible page. */
static const float upd32[][4] = {/* a, b (or t, r for pgd), lr, mu */
                                 {0.01f, 0.02f, 0.05f, 0.9f},
                                 {-0.3f, 1.5f, 1.0f, 0.5f},
                                 {0.0f, 0.0f, 0.0f, 0.0f},
                                 {1e-30f, 3e30f, 1e-3f, 2.0f}};
#define NUPD (sizeof upd32 / sizeof upd32[0])

static int same_lanes(const fr_lanes *a, const fr_lanes *b)
{
    int j, ok = 1;
    for (j = 0; j < FR_LANES64; j++)
        ok &= same64(a->abs[j], b->abs[j]) && same64(a->sq[j], b->sq[j]);
    return ok;
}

static void test_update(const struct fr_kernels *ref, const struct fr_kernels *k)
{
    static float w1[MAXN + 2 * GUARD + 16], w2[MAXN + 2 * GUARD + 16];
    static float v1[MAXN + 2 * GUARD + 16], v2[MAXN + 2 * GUARD + 16];
    static double d1[MAXN + 2 * GUARD + 8], d2[MAXN + 2 * GUARD + 8];
    static double e1[MAXN + 2 * GUARD + 8], e2[MAXN + 2 * GUARD + 8];
    static float w0[MAXN], v0[MAXN];
    static double d0[MAXN], e0[MAXN];
    size_t si, i, pi, off;
    int kind, flags, mom, op, val, j;
    fr_lanes s1, s2;
    void *b1, *b2;
    size_t l1, l2;
    for (si = 0; si < NSIZES; si++) {
        size_t n = sizes[si];
        for (kind = 0; kind < NKINDS; kind++) {
            float *g = (float *)guarded(n * 4, &b1, &l1);
            double *h = (double *)guarded(n * 8, &b2, &l2);
            fill32(g, n, kind);
            fill64(h, n, kind);
            fill32(w0, n, (kind + 1) % NKINDS);
            fill64(d0, n, (kind + 1) % NKINDS);
            fill32(v0, n, (kind + 2) % NKINDS);
            fill64(e0, n, (kind + 2) % NKINDS);
            for (op = 0; op < 2; op++)
                for (flags = 0; flags < 4; flags++)
                    for (mom = 0; mom < 2 - op; mom++)
                        for (pi = 0; pi < NUPD; pi++) {
                            const float *u = upd32[pi];
                            /* FR_VALUE: the sums of w before the step, added into
                               slots that hold something already */
                            int fl = flags | ((val = (int)(pi + (size_t)kind) % 2) ? FR_VALUE : 0);
                            for (j = 0; j < FR_LANES64; j++) {
                                s1.abs[j] = s2.abs[j] = 0.25 * j;
                                s1.sq[j] = s2.sq[j] = 1.0 + j;
                            }
                            off = (size_t)(kind + flags + (int)pi) % 16; /* vary the alignment */
                            float *wa = w1 + GUARD + off, *wb = w2 + GUARD + off;
                            float *va = v1 + GUARD + off, *vb = v2 + GUARD + off;
                            double *da = d1 + GUARD + off % 8, *db = d2 + GUARD + off % 8;
                            double *ea = e1 + GUARD + off % 8, *eb = e2 + GUARD + off % 8;
                            for (i = 0; i < sizeof w1 / sizeof w1[0]; i++) {
                                w1[i] = w2[i] = v1[i] = v2[i] = f32_bits(SENT32);
                                if (i < sizeof d1 / sizeof d1[0])
                                    d1[i] = d2[i] = e1[i] = e2[i] = f64_bits(SENT64);
                            }
                            memcpy(wa, w0, n * 4);
                            memcpy(wb, w0, n * 4);
                            memcpy(va, v0, n * 4);
                            memcpy(vb, v0, n * 4);
                            memcpy(da, d0, n * 8);
                            memcpy(db, d0, n * 8);
                            memcpy(ea, e0, n * 8);
                            memcpy(eb, e0, n * 8);
                            if (op == 0) {
                                ref->sgd_f32(wa, g, mom ? va : NULL, n, u[0], u[1], u[2], u[3], fl,
                                             &s1);
                                k->sgd_f32(wb, g, mom ? vb : NULL, n, u[0], u[1], u[2], u[3], fl,
                                           &s2);
                                check(same_lanes(&s1, &s2), "sgd_f32 sums", n, fl, -1);
                                ref->sgd_f64(da, h, mom ? ea : NULL, n, u[0], u[1], u[2], u[3], fl,
                                             &s1);
                                k->sgd_f64(db, h, mom ? eb : NULL, n, u[0], u[1], u[2], u[3], fl,
                                           &s2);
                                check(same_lanes(&s1, &s2), "sgd_f64 sums", n, fl, -1);
                            } else {
                                ref->pgd_f32(wa, g, n, u[2], u[0], u[1], fl, &s1);
                                k->pgd_f32(wb, g, n, u[2], u[0], u[1], fl, &s2);
                                check(same_lanes(&s1, &s2), "pgd_f32 sums", n, fl, -1);
                                ref->pgd_f64(da, h, n, u[2], u[0], u[1], fl, &s1);
                                k->pgd_f64(db, h, n, u[2], u[0], u[1], fl, &s2);
                                check(same_lanes(&s1, &s2), "pgd_f64 sums", n, fl, -1);
                            }
                            if (!val) /* without FR_VALUE the slots are untouched */
                                for (j = 0; j < FR_LANES64; j++)
                                    check(s2.abs[j] == 0.25 * j && s2.sq[j] == 1.0 + j,
                                          "update sums kept", n, fl, j);
                            /* everything, guards included: a stray write shows */
                            for (i = 0; i < sizeof w1 / sizeof w1[0]; i++) {
                                check(bits32(w1[i]) == bits32(w2[i]) || same32(w1[i], w2[i]),
                                      op ? "pgd_f32" : "sgd_f32", n, flags, (long)i);
                                check(bits32(v1[i]) == bits32(v2[i]) || same32(v1[i], v2[i]),
                                      "sgd_f32 v", n, flags, (long)i);
                            }
                            for (i = 0; i < sizeof d1 / sizeof d1[0]; i++) {
                                check(same64(d1[i], d2[i]), op ? "pgd_f64" : "sgd_f64", n, flags,
                                      (long)i);
                                check(same64(e1[i], e2[i]), "sgd_f64 v", n, flags, (long)i);
                            }
                            for (i = 0; i < GUARD; i++) {
                                check(bits32(wb[(ptrdiff_t)i - GUARD]) == SENT32 &&
                                          bits32(wb[n + i]) == SENT32 &&
                                          bits32(vb[n + i]) == SENT32,
                                      "update f32 guard", n, flags, (long)i);
                                check(bits64(db[(ptrdiff_t)i - GUARD]) == SENT64 &&
                                          bits64(db[n + i]) == SENT64 &&
                                          bits64(eb[n + i]) == SENT64,
                                      "update f64 guard", n, flags, (long)i);
                            }
                            if (!mom) /* v untouched without momentum */
                                for (i = 0; i < n; i++)
                                    check(bits32(vb[i]) == bits32(v0[i]) &&
                                              bits64(eb[i]) == bits64(e0[i]),
                                          "update v kept", n, flags, (long)i);
                        }
            unguard(b1, l1);
            unguard(b2, l2);
        }
    }
}

/* float16: every half value one way; random floats, and every rounding
   boundary (the midpoints between neighbouring halves, and one float ulp
   either side) the other way. Conversions are exact operations, so here
   the bits are compared exactly, NaN payloads included. */
/* 0: compare only the NaN-ness of NaN results of the float16 conversions:
   for tools/avx512_emu.sh's portable build, where SIMDe's software F16C
   drops NaN payloads (native F16C, NEON and fr_h2f / fr_f2h keep them). */
#ifndef FR_TEST_F16_NAN_BITS
#define FR_TEST_F16_NAN_BITS 1
#endif

static void test_f16(const struct fr_kernels *ref, const struct fr_kernels *k)
{
    static uint16_t h[65536], h1[FR_BLOCK + GUARD], h2[FR_BLOCK + GUARD];
    static float f[3 * 65536 + 4096], g1[FR_BLOCK + GUARD], g2[FR_BLOCK + GUARD];
    size_t i, nf = 0, pos, n;
    int j;
    for (i = 0; i < 65536; i++)
        h[i] = (uint16_t)i;
    for (pos = 0; pos < 65536; pos += n) { /* odd chunk sizes: every tail length */
        n = 1 + (pos * 7 + 13) % FR_BLOCK;
        if (n > 65536 - pos)
            n = 65536 - pos;
        for (j = 0; j < GUARD; j++)
            g1[n + j] = g2[n + j] = f32_bits(SENT32);
        ref->f16_to_f32(h + pos, g1, n);
        k->f16_to_f32(h + pos, g2, n);
        for (i = 0; i < n + GUARD; i++)
            check(bits32(g1[i]) == bits32(g2[i]) || (!FR_TEST_F16_NAN_BITS && same32(g1[i], g2[i])),
                  "f16_to_f32", n, 0, (long)(pos + i));
    }
    for (i = 0; i < 65536; i++) { /* rounding boundaries above every half */
        uint32_t lo = bits32(fr_h2f((uint16_t)i));
        uint32_t hi = bits32(fr_h2f((uint16_t)(i + 1)));
        float mid;
        if ((i & 0x7c00u) == 0x7c00u || (i & 0x7fffu) == 0x7bffu)
            continue;
        if ((i & 0x7fffu) == 0x7fffu)
            continue;
        mid = (float)(((double)f32_bits(lo) + (double)f32_bits(hi)) / 2.0);
        f[nf++] = mid;
        f[nf++] = f32_bits(bits32(mid) + 1);
        f[nf++] = f32_bits(bits32(mid) - 1);
    }
    f[nf++] = 65504.0f;
    f[nf++] = 65519.99f;
    f[nf++] = 65520.0f;
    f[nf++] = -65520.0f;
    while (nf < sizeof f / sizeof f[0])
        f[nf++] = f32_bits((uint32_t)rnd());
    for (pos = 0; pos < nf; pos += n) {
        n = 1 + (pos * 5 + 3) % FR_BLOCK;
        if (n > nf - pos)
            n = nf - pos;
        for (j = 0; j < GUARD; j++)
            h1[n + j] = h2[n + j] = 0xabcd;
        ref->f32_to_f16(f + pos, h1, n);
        k->f32_to_f16(f + pos, h2, n);
        for (i = 0; i < n + GUARD; i++)
            check(h1[i] == h2[i] || (!FR_TEST_F16_NAN_BITS && (h1[i] & 0x7fffu) > 0x7c00u &&
                                     (h2[i] & 0x7fffu) > 0x7c00u),
                  "f32_to_f16", n, 0, (long)(pos + i));
    }
}

static void test_table(const struct fr_kernels *k)
{
    long f0 = failed, p0 = passed;
    cur_isa = k->name;
    test_sums(&fr_kernels_scalar, k);
    test_grad(&fr_kernels_scalar, k);
    test_tiny_grad(&fr_kernels_scalar, k);
    test_prox(&fr_kernels_scalar, k);
    test_update(&fr_kernels_scalar, k);
    test_f16(&fr_kernels_scalar, k);
    printf("%s vs scalar: %ld passed, %ld failed\n", k->name, passed - p0, failed - f0);
}

/* With FR_TEST_TABLE: that table. Otherwise the levels named on the command
   line (an unavailable one is a failure), or every level the CPU runs. */
int main(int argc, char **argv)
{
#ifdef FR_TEST_TABLE
    (void)argc;
    (void)argv;
    test_table(&FR_TEST_TABLE);
#else
    int isa, i;
    unsigned avail = fr_isa_detected() & fr_isa_compiled();
    cur_isa = "scalar";
    test_tiny_grad(&fr_kernels_scalar, &fr_kernels_scalar); /* its one call vs its two */
    for (i = 1; i < argc; i++) {
        isa = fr_isa_from_name(argv[i]);
        if (isa < 0 || fr_isa_set(isa) < 0) {
            printf("FAIL level %s is not available here\n", argv[i]);
            failed++;
            continue;
        }
        test_table(fr_active());
    }
    for (isa = FR_ISA_SCALAR + 1; argc == 1 && isa < FR_ISA_COUNT; isa++) {
        if (!(avail >> isa & 1u))
            continue;
        fr_isa_set(isa);
        test_table(fr_active());
    }
#endif
    printf("%ld passed, %ld failed\n", passed, failed);
    return failed ? 1 : 0;
}
