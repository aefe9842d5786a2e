/*
 * fastreg.h - public C API of the fastreg kernels.
 *
 * Every entry point takes an n-d strided array exactly as NumPy describes it
 * (data pointer, ndim, shape, strides in bytes) and never writes to an input.
 * The functions keep no per-call global state, so they are safe to call from
 * several threads at once, and they never touch the Python API (callers
 * release the GIL around them).
 *
 * Results are bit-identical on every SIMD level: the order of every floating
 * point operation is fixed by the canonical algorithm described in
 * fr_contract.h, and each instruction set reproduces it exactly.
 */
#ifndef FASTREG_H
#define FASTREG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types (the C kernels see only these; byte order must be native).
   FR_BF16 is a value type only: fr_penalty_value rounds in it, no kernel reads it
   (bfloat16 arrays are summed as exact float32 copies). */
enum { FR_F16 = 1, FR_F32 = 2, FR_F64 = 3, FR_BF16 = 4 };

/* Flags shared by the entry points. */
#define FR_ABS   1 /* the |x| / l1 / soft-threshold term is on            */
#define FR_SQ    2 /* the x^2 / l2 / 1/(1+t2) term is on                  */
#define FR_ACC   4 /* fr_grad: add the gradient into out instead of store */
#define FR_VALUE 8 /* fr_grad: also return the sums of the terms that are on */

/* Return codes. */
#define FR_OK     0
#define FR_EDTYPE -1 /* unsupported element type */
#define FR_EARG   -2 /* bad argument (ndim < 0, negative dimension) */
#define FR_ENOMEM -3 /* fr_group: no memory for its per-superblock sums */

/** @brief Sum |x| (FR_ABS) and/or x^2 (FR_SQ) over all elements, in double. */
int fr_reduce(const void *data, int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides,
              int dtype, int what, double *sum_abs, double *sum_sq);

/**
 * @brief out = [out +] a*sign(x) + b*x, the term with a flag off left out.
 *
 * Computed in the element type (float16: in float32, rounded once). With
 * FR_VALUE the sums of |x| and x^2 for the terms that are on are returned in
 * the same pass, bit-identical to fr_reduce. out may be x itself (same
 * pointer and strides); any other overlap must be resolved by the caller.
 */
int fr_grad(const void *x, void *out, int ndim, const ptrdiff_t *shape, const ptrdiff_t *xstrides,
            const ptrdiff_t *ostrides, int dtype, double a, double b, int flags, double *sum_abs,
            double *sum_sq);

/**
 * @brief out = soft_threshold(x, t) [* r]: the proximal step of L1 (FR_ABS)
 * and L2 (FR_SQ, d = 1 + 2*step*l2), where r = 1/d rounded once in the
 * compute type (float32 for float16 and float32, of d rounded to float32;
 * float64 for float64) and the product is rounded on its own. NaN
 * propagates; out may be x.
 */
int fr_prox(const void *x, void *out, int ndim, const ptrdiff_t *shape, const ptrdiff_t *xstrides,
            const ptrdiff_t *ostrides, int dtype, double t, double d, int flags);

/*
 * fr_group (fr_group.c): one call over all the weights of a model. Each
 * weight (and its gradient and velocity) is n contiguous elements of one
 * dtype, none overlapping any other array of the call (the caller checks).
 * The regularizer of a weight with reg != 0 is a built-in one: l1, l2,
 * terms and l1l2 as fr_penalty_value takes them (the gradient is
 * l1*sign(w) + 2*l2*w, the terms in `terms`).
 */
typedef struct fr_param {
    void *w;         /* the weight (updated in place by the steps) */
    void *g;         /* its gradient: += by FR_GROUP_GRAD, read by the steps */
    void *v;         /* FR_GROUP_SGD with momentum: the velocity, else NULL */
    ptrdiff_t n;     /* elements */
    int dtype;       /* FR_F32 or FR_F64 */
    int reg;         /* 0: no regularizer (value 0, gradient 0) */
    int terms, l1l2; /* FR_ABS | FR_SQ; Keras's L1L2 rule */
    double l1, l2;   /* the factors as stored */
    double value;    /* out: the weight's penalty, as fr_penalty_value */
} fr_param;

enum {
    FR_GROUP_VALUE = 0, /* the values only; g may be NULL */
    FR_GROUP_GRAD,      /* g += grad R(w) */
    FR_GROUP_SGD,       /* u = g + grad R(w); [v = mu*v + u; u = v]; w = w - lr*u */
    FR_GROUP_PROX       /* w = prox_{lr*R}(w - lr*g) */
};

/**
 * @brief One op over count weights in one pass over memory; *total = the
 * float64 sum of the values, in weight order, from +0. Each value is that
 * of the weight before the op, bit-identical to fr_reduce +
 * fr_penalty_value on it. lr and momentum are finite and >= 0 (the caller
 * checks); v is used only when momentum is not 0 and v is not NULL.
 */
int fr_group(fr_param *p, ptrdiff_t count, int op, double lr, double momentum, double *total);

/** @brief Lowest and one-past-highest byte an n-d strided array touches. */
void fr_extent(const void *data, int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides,
               size_t item, const char **lo, const char **hi);
/** @brief 1 if two elements of the array may share memory (e.g. a zero stride). */
int fr_self_overlap(int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides, size_t item);

/**
 * @brief A regularizer's value from the two sums, rounded as Keras rounds
 * in the element type: each term is dtype(factor) * dtype(sum); L1 / L2
 * (l1l2 = 0) return their one term (FR_ABS: a * sum_abs, else b * sum_sq),
 * L1L2 starts from 0 and adds the terms named in `terms`, in the dtype.
 */
double fr_penalty_value(int dtype, double sum_abs, double sum_sq, double a, double b, int terms,
                        int l1l2);
/** @brief double -> float16 bits, round to nearest even (NumPy's cast). */
uint16_t fr_f64_to_f16(double v);

/*
 * Threads (fr_threads.c). An array of at least fr_set_parallel_min
 * superblocks is split into superblocks over a persistent pool; their sums
 * are combined in superblock order, so no result depends on the thread
 * count (fr_contract.h). The two count functions are exported from the
 * extension module (the rest of the library is hidden) so that
 * threadpoolctl can call them through ctypes.
 */
#if defined(__GNUC__) || defined(__clang__)
#define FR_EXPORT __attribute__((visibility("default")))
#else
#define FR_EXPORT
#endif
#define FR_MAX_THREADS 256
/** @brief Use n threads (1 .. FR_MAX_THREADS); returns the previous count, or FR_EARG. */
FR_EXPORT int fr_set_num_threads(int n);
/** @brief The thread count (1 until set). */
FR_EXPORT int fr_get_num_threads(void);
/** @brief Fewest superblocks (>= 2) that go parallel; returns the previous value, or FR_EARG. */
int fr_set_parallel_min(int superblocks);

/* SIMD levels, lowest first. */
enum { FR_ISA_SCALAR = 0, FR_ISA_SSE2, FR_ISA_AVX2, FR_ISA_AVX512, FR_ISA_NEON, FR_ISA_COUNT };

/** @brief Detect the CPU, apply the FASTREG_SIMD cap; 0 or an FR_E* code. */
int fr_init(const char *cap);
/** @brief Name of a level ("scalar", "sse2", ...), NULL if out of range. */
const char *fr_isa_name(int isa);
/** @brief Level id for a name, -1 if unknown. */
int fr_isa_from_name(const char *name);
/** @brief Bit mask of the levels this CPU and OS can run. */
unsigned fr_isa_detected(void);
/** @brief Bit mask of the levels compiled into this build. */
unsigned fr_isa_compiled(void);
/** @brief Active level. */
int fr_isa_active(void);
/** @brief Force a level; returns the previous one, or -1 if unavailable. */
int fr_isa_set(int isa);

#ifdef __cplusplus
}
#endif
#endif /* FASTREG_H */
