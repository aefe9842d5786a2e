/*
 * fr_driver.c - turns any NumPy layout into the canonical block sequence
 * and runs the active kernel table over it (see fr_contract.h).
 *
 * Layout: axes are put in K order (decreasing |stride| of x, negative
 * strides flipped, mergeable axes merged), so the result of a reduction
 * depends only on the elements in memory order: x, x.T and x[::-1] give the
 * same bits as np.ascontiguousarray of the memory-order sequence (the
 * iterator of fr_iter.c). A block that is contiguous in every operand is
 * used in place; any other block is gathered into a stack buffer of
 * FR_BLOCK elements (never a full copy) and scattered back for outputs.
 * float16 blocks are converted to float32. An array that is one run in
 * memory skips the iterator, and 1 .. FR_LANES64 elements skip the blocks.
 */
#include "fr_compiler.h"
#include "fr_iter.h"
#include "fr_kernel_abi.h"

#include <string.h>

typedef union {
    double d[FR_BLOCK];
    float f[2 * FR_BLOCK];
    uint16_t h[4 * FR_BLOCK];
} fr_buf;

static size_t item_of(int dtype)
{
    return dtype == FR_F64 ? 8 : dtype == FR_F32 ? 4 : dtype == FR_F16 ? 2 : 0;
}

/* Zero the lane arrays a reduction uses (only those: this is per call). */
static void lanes_clear(fr_lanes *l, int what)
{
    if (what & FR_ABS)
        memset(l->abs, 0, FR_LANES64 * sizeof(double));
    if (what & FR_SQ)
        memset(l->sq, 0, FR_LANES64 * sizeof(double));
}

/* End of a superblock: T += S, then S = 0. */
static void lanes_fold_super(fr_lanes *t, fr_lanes *s, int what)
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
static double lanes_fold(double *v)
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

static void lanes_result(fr_lanes *t, int what, double *sa, double *ss)
{
    if (sa)
        *sa = (what & FR_ABS) ? lanes_fold(t->abs) : 0.0;
    if (ss)
        *ss = (what & FR_SQ) ? lanes_fold(t->sq) : 0.0;
}

/*
 * The element count of an array whose elements are one aligned run in
 * memory (C or Fortran order; size-1 axes ignored): its memory order is
 * then the canonical sequence itself. -1 for any other layout (and for a
 * negative dimension, which the iterator reports).
 */
static ptrdiff_t run_length(const void *data, int ndim, const ptrdiff_t *shape,
                            const ptrdiff_t *strides, size_t item)
{
    ptrdiff_t n = 1, expect = (ptrdiff_t)item;
    int i;
    if (ndim < 0 || ndim > FR_MAXDIM || ((uintptr_t)data & (item - 1)) != 0)
        return -1;
    for (i = ndim - 1; i >= 0; i--) { /* C order */
        if (shape[i] < 0)
            return -1;
        if (shape[i] != 1 && strides[i] != expect)
            break;
        expect *= shape[i];
        n *= shape[i];
    }
    if (i < 0)
        return n;
    n = 1;
    expect = (ptrdiff_t)item;
    for (i = 0; i < ndim; i++) { /* Fortran order */
        if (shape[i] < 0 || (shape[i] != 1 && strides[i] != expect))
            return -1;
        expect *= shape[i];
        n *= shape[i];
    }
    return n;
}

/*
 * 1 .. FR_LANES64 elements in one run: the kernels' tiny_* entries compute
 * the whole canonical reduction in registers (FR_TINY in fr_instantiate.h),
 * before reduce_blocks sets up its ~27 KiB of lanes, iterator and buffers.
 */
static void reduce_tiny(const void *data, size_t n, int dtype, int what, double *sa, double *ss)
{
    const struct fr_kernels *k = fr_active();
    float f[FR_LANES64];
    /* the kernel writes the sums asked for straight into *sa / *ss */
    if (sa && !(what & FR_ABS))
        *sa = 0.0;
    if (ss && !(what & FR_SQ))
        *ss = 0.0;
    what &= (sa ? FR_ABS : 0) | (ss ? FR_SQ : 0);
    if (dtype == FR_F64) {
        k->tiny_f64((const double *)data, n, what, sa, ss);
    } else if (dtype == FR_F32) {
        k->tiny_f32((const float *)data, n, what, sa, ss);
    } else { /* float16 -> float32 (exact), then summed as float32 is */
        k->f16_to_f32((const uint16_t *)data, f, n);
        k->tiny_f32(f, n, what, sa, ss);
    }
}

/* Every other input, block by block: a run of `run` elements (run > 0) is
   read straight from memory, anything else through the iterator. Kept out
   of line so that tiny inputs never set up its frame. */
static FR_NOINLINE int reduce_blocks(const void *data, int ndim, const ptrdiff_t *shape,
                                     const ptrdiff_t *strides, int dtype, int what, double *sum_abs,
                                     double *sum_sq, ptrdiff_t run)
{
    const struct fr_kernels *k = fr_active();
    size_t item = item_of(dtype);
    const char *next = (const char *)data;
    fr_iter it;
    fr_lanes s, t;
    fr_buf buf;
    struct {
        float f[FR_BLOCK];
    } conv;
    ptrdiff_t left = run;
    int blocks = 0, single;
    if (run <= 0) {
        left = fr_iter_init(&it, 1, (char *)data, NULL, ndim, shape, strides, NULL, item);
        if (left < 0)
            return FR_EARG;
    }
    lanes_clear(&s, what);
    /* One superblock or less: T = 0 + S = S exactly (lanes are never -0), so
       the total need not exist. */
    single = left <= (ptrdiff_t)FR_BLOCK * FR_SUPER;
    if (!single)
        lanes_clear(&t, what);
    while (left > 0) {
        ptrdiff_t m = left < FR_BLOCK ? left : FR_BLOCK;
        const char *p = next;
        if (run > 0) {
            next += (size_t)m * item;
        } else {
            p = it.ptr[0];
            if (!fr_iter_contiguous(&it, 0, m)) {
                fr_iter_copy(&it, 0, m, (char *)&buf, 1);
                p = (const char *)&buf;
            }
            fr_iter_skip(&it, m);
        }
        if (dtype == FR_F32) {
            k->sum_f32((const float *)p, (size_t)m, what, &s);
        } else if (dtype == FR_F64) {
            k->sum_f64((const double *)p, (size_t)m, what, &s);
        } else {
            /* float16 -> float32 (exact), then summed as float32 is */
            k->f16_to_f32((const uint16_t *)p, conv.f, (size_t)m);
            k->sum_f32(conv.f, (size_t)m, what, &s);
        }
        left -= m;
        if (++blocks == FR_SUPER && !single) {
            lanes_fold_super(&t, &s, what);
            blocks = 0;
        }
    }
    if (single) {
        lanes_result(&s, what, sum_abs, sum_sq);
    } else {
        lanes_fold_super(&t, &s, what);
        lanes_result(&t, what, sum_abs, sum_sq);
    }
    return FR_OK;
}

int fr_reduce(const void *data, int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides,
              int dtype, int what, double *sum_abs, double *sum_sq)
{
    size_t item = item_of(dtype);
    ptrdiff_t run;
    if (!item)
        return FR_EDTYPE;
    run = run_length(data, ndim, shape, strides, item);
    if (run >= 1 && run <= FR_LANES64) {
        reduce_tiny(data, (size_t)run, dtype, what, sum_abs, sum_sq);
        return FR_OK;
    }
    return reduce_blocks(data, ndim, shape, strides, dtype, what, sum_abs, sum_sq, run);
}

/* Shared driver of the two element-wise operations. */
static int elementwise(int is_prox, const void *x, void *out, int ndim, const ptrdiff_t *shape,
                       const ptrdiff_t *xs, const ptrdiff_t *os, int dtype, double a, double b,
                       int flags, double *sum_abs, double *sum_sq)
{
    const struct fr_kernels *k = fr_active();
    size_t item = item_of(dtype);
    fr_iter it;
    fr_lanes s, t;
    fr_buf xb, ob;
    struct {
        float f[FR_BLOCK];
    } xf, of; /* float16 blocks in float32 */
    ptrdiff_t left, run;
    int blocks = 0, single, i;
    int value = !is_prox && (flags & FR_VALUE), what = flags & (FR_ABS | FR_SQ);
    if (!item)
        return FR_EDTYPE;
    /* x and out one run each, element i of one at element i of the other
       (the same strides): read and written straight, without the iterator */
    run = run_length(x, ndim, shape, xs, item);
    if (run > 0 && run_length(out, ndim, shape, os, item) == run) {
        for (i = 0; i < ndim; i++)
            if (shape[i] != 1 && xs[i] != os[i])
                run = -1;
    } else {
        run = -1;
    }
    left = run;
    if (run < 0) {
        left = fr_iter_init(&it, 2, (char *)x, (char *)out, ndim, shape, xs, os, item);
        if (left < 0)
            return FR_EARG;
    }
    if (!value)
        what = 0;
    if (left > (ptrdiff_t)FR_BLOCK * FR_SUPER)
        flags |= FR_STREAM;
    /* one superblock or less: T = S (see reduce_blocks) */
    single = left <= (ptrdiff_t)FR_BLOCK * FR_SUPER;
    lanes_clear(&s, what);
    if (!single)
        lanes_clear(&t, what);
    while (left > 0) {
        ptrdiff_t m = left < FR_BLOCK ? left : FR_BLOCK;
        const char *xp = (const char *)x;
        char *op = (char *)out;
        int x_direct = 1, o_direct = 1;
        if (run > 0) {
            x = xp + (size_t)m * item;
            out = op + (size_t)m * item;
        } else {
            xp = it.ptr[0];
            op = it.ptr[1];
            x_direct = fr_iter_contiguous(&it, 0, m);
            o_direct = fr_iter_contiguous(&it, 1, m);
        }
        if (!x_direct) {
            fr_iter_copy(&it, 0, m, (char *)&xb, 1);
            xp = (const char *)&xb;
        }
        if (!o_direct) {
            if (flags & FR_ACC)
                fr_iter_copy(&it, 1, m, (char *)&ob, 1);
            op = (char *)&ob;
        }
        if (dtype == FR_F32) {
            if (is_prox)
                k->prox_f32((const float *)xp, (float *)op, (size_t)m, (float)a, (float)b, flags);
            else
                k->grad_f32((const float *)xp, (float *)op, (size_t)m, (float)a, (float)b, flags,
                            &s);
        } else if (dtype == FR_F64) {
            if (is_prox)
                k->prox_f64((const double *)xp, (double *)op, (size_t)m, a, b, flags);
            else
                k->grad_f64((const double *)xp, (double *)op, (size_t)m, a, b, flags, &s);
        } else { /* float16: compute in float32, round once */
            k->f16_to_f32((const uint16_t *)xp, xf.f, (size_t)m);
            if (flags & FR_ACC)
                k->f16_to_f32((const uint16_t *)op, of.f, (size_t)m);
            if (value) /* the value is summed as fr_reduce does */
                k->sum_f32(xf.f, (size_t)m, what, &s);
            if (is_prox)
                k->prox_f32(xf.f, of.f, (size_t)m, (float)a, (float)b, flags);
            else
                k->grad_f32(xf.f, of.f, (size_t)m, (float)a, (float)b, flags & ~FR_VALUE, &s);
            k->f32_to_f16(of.f, (uint16_t *)op, (size_t)m);
        }
        if (!o_direct)
            fr_iter_copy(&it, 1, m, (char *)&ob, 0);
        if (run < 0)
            fr_iter_skip(&it, m);
        left -= m;
        if (++blocks == FR_SUPER && !single) {
            lanes_fold_super(&t, &s, what);
            blocks = 0;
        }
    }
    if (!single)
        lanes_fold_super(&t, &s, what);
    if (value)
        lanes_result(single ? &s : &t, what, sum_abs, sum_sq);
    return FR_OK;
}

int fr_grad(const void *x, void *out, int ndim, const ptrdiff_t *shape, const ptrdiff_t *xstrides,
            const ptrdiff_t *ostrides, int dtype, double a, double b, int flags, double *sum_abs,
            double *sum_sq)
{
    return elementwise(0, x, out, ndim, shape, xstrides, ostrides, dtype, a, b, flags, sum_abs,
                       sum_sq);
}

int fr_prox(const void *x, void *out, int ndim, const ptrdiff_t *shape, const ptrdiff_t *xstrides,
            const ptrdiff_t *ostrides, int dtype, double t, double d, int flags)
{
    return elementwise(1, x, out, ndim, shape, xstrides, ostrides, dtype, t, d,
                       flags & (FR_ABS | FR_SQ), NULL, NULL);
}
