/*
 * fr_driver.c - turns any NumPy layout into the canonical block sequence
 * and runs the active kernel table over it (see fr_contract.h).
 *
 * Layout: axes are put in K order (decreasing |stride| of x, negative
 * strides flipped, mergeable axes merged), so the result of a reduction
 * depends only on the elements in memory order: x, x.T and x[::-1] give the
 * same bits as np.ascontiguousarray of the memory-order sequence. A block
 * that is contiguous in every operand is used in place; any other block is
 * gathered into a stack buffer of FR_BLOCK elements (never a full copy) and
 * scattered back for outputs. float16 blocks are converted to float32.
 */
#include "fr_compiler.h"
#include "fr_kernel_abi.h"

#include <string.h>

typedef struct {
    int nd, nop;
    ptrdiff_t shape[FR_MAXDIM];
    ptrdiff_t st[2][FR_MAXDIM]; /* bytes; axis nd-1 is the innermost */
    ptrdiff_t idx[FR_MAXDIM];
    char *ptr[2];
    size_t item;
} fr_iter;

/* Set up the iterator; returns the element count (0: nothing to do), or -1. */
static ptrdiff_t iter_init(fr_iter *it, int nop, char *p0, char *p1, int ndim,
                           const ptrdiff_t *shape, const ptrdiff_t *s0, const ptrdiff_t *s1,
                           size_t item)
{
    ptrdiff_t size = 1;
    int i, j, nd = 0;
    if (ndim < 0 || ndim > FR_MAXDIM)
        return -1;
    it->nop = nop;
    it->item = item;
    it->ptr[0] = p0;
    it->ptr[1] = p1;
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        if (shape[i] == 0)
            return 0;
        size *= shape[i];
    }
    for (i = 0; i < ndim; i++) {
        if (shape[i] == 1)
            continue; /* size-1 axes do not move the pointers */
        it->shape[nd] = shape[i];
        it->st[0][nd] = s0[i];
        it->st[1][nd] = nop > 1 ? s1[i] : 0;
        if (s0[i] < 0) { /* flip so that x is read forwards */
            it->ptr[0] += (shape[i] - 1) * s0[i];
            it->st[0][nd] = -s0[i];
            if (nop > 1) {
                it->ptr[1] += (shape[i] - 1) * s1[i];
                it->st[1][nd] = -s1[i];
            }
        }
        nd++;
    }
    /* Stable insertion sort by decreasing |stride of x|. */
    for (i = 1; i < nd; i++) {
        ptrdiff_t sh = it->shape[i], a = it->st[0][i], b = it->st[1][i];
        for (j = i; j > 0 && it->st[0][j - 1] < a; j--) {
            it->shape[j] = it->shape[j - 1];
            it->st[0][j] = it->st[0][j - 1];
            it->st[1][j] = it->st[1][j - 1];
        }
        it->shape[j] = sh;
        it->st[0][j] = a;
        it->st[1][j] = b;
    }
    /* Merge axis i into the next inner one when every operand allows it. */
    for (i = nd - 2; i >= 0; i--) {
        int ok = it->st[0][i] == it->st[0][i + 1] * it->shape[i + 1];
        if (nop > 1)
            ok = ok && it->st[1][i] == it->st[1][i + 1] * it->shape[i + 1];
        if (ok) {
            it->shape[i + 1] *= it->shape[i];
            for (j = i; j < nd - 1; j++) {
                it->shape[j] = it->shape[j + 1];
                it->st[0][j] = it->st[0][j + 1];
                it->st[1][j] = it->st[1][j + 1];
            }
            nd--;
        }
    }
    if (nd == 0) { /* a single element */
        it->shape[0] = 1;
        it->st[0][0] = it->st[1][0] = (ptrdiff_t)item;
        nd = 1;
    }
    it->nd = nd;
    for (i = 0; i < nd; i++)
        it->idx[i] = 0;
    return size;
}

/* Move the iterator k elements forward along the inner axis (k <= what is
   left of that row), carrying into the outer axes. */
static void iter_advance(fr_iter *it, ptrdiff_t k)
{
    int in = it->nd - 1, op, i;
    for (op = 0; op < it->nop; op++)
        it->ptr[op] += k * it->st[op][in];
    it->idx[in] += k;
    if (it->idx[in] < it->shape[in])
        return;
    for (op = 0; op < it->nop; op++)
        it->ptr[op] -= it->shape[in] * it->st[op][in];
    it->idx[in] = 0;
    for (i = in - 1; i >= 0; i--) {
        for (op = 0; op < it->nop; op++)
            it->ptr[op] += it->st[op][i];
        if (++it->idx[i] < it->shape[i])
            return;
        for (op = 0; op < it->nop; op++)
            it->ptr[op] -= it->shape[i] * it->st[op][i];
        it->idx[i] = 0;
    }
}

/* Are the next m elements of operand op one contiguous run? */
static int iter_contiguous(const fr_iter *it, int op, ptrdiff_t m)
{
    int in = it->nd - 1;
    /* the kernels may assume element alignment: a pointer that is not a
       multiple of the element size (a byte-offset view) is gathered */
    return it->st[op][in] == (ptrdiff_t)it->item && it->shape[in] - it->idx[in] >= m &&
           (uintptr_t)it->ptr[op] % it->item == 0;
}

/* Copy m elements of operand op between the array and a packed buffer
   (to_buf: gather; else scatter), without moving the iterator. */
static void iter_copy(const fr_iter *it, int op, ptrdiff_t m, char *buf, int to_buf)
{
    fr_iter c = *it;
    size_t item = it->item;
    int in = it->nd - 1;
    while (m > 0) {
        ptrdiff_t run = c.shape[in] - c.idx[in], s = c.st[op][in], k;
        char *p = c.ptr[op];
        if (run > m)
            run = m;
        if (s == (ptrdiff_t)item) {
            if (to_buf)
                memcpy(buf, p, (size_t)run * item);
            else
                memcpy(p, buf, (size_t)run * item);
        } else {
            for (k = 0; k < run; k++, p += s) {
                if (to_buf)
                    memcpy(buf + (size_t)k * item, p, item);
                else
                    memcpy(p, buf + (size_t)k * item, item);
            }
        }
        buf += (size_t)run * item;
        m -= run;
        if (m > 0)
            iter_advance(&c, run);
    }
}

/* Advance past m elements of a block (the block never spans more than the
   caller asked for). */
static void iter_skip(fr_iter *it, ptrdiff_t m)
{
    int in = it->nd - 1;
    while (m > 0) {
        ptrdiff_t run = it->shape[in] - it->idx[in];
        if (run > m)
            run = m;
        iter_advance(it, run);
        m -= run;
    }
}

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
        left = iter_init(&it, 1, (char *)data, NULL, ndim, shape, strides, NULL, item);
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
            if (!iter_contiguous(&it, 0, m)) {
                iter_copy(&it, 0, m, (char *)&buf, 1);
                p = (const char *)&buf;
            }
            iter_skip(&it, m);
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
        left = iter_init(&it, 2, (char *)x, (char *)out, ndim, shape, xs, os, item);
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
            x_direct = iter_contiguous(&it, 0, m);
            o_direct = iter_contiguous(&it, 1, m);
        }
        if (!x_direct) {
            iter_copy(&it, 0, m, (char *)&xb, 1);
            xp = (const char *)&xb;
        }
        if (!o_direct) {
            if (flags & FR_ACC)
                iter_copy(&it, 1, m, (char *)&ob, 1);
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
            iter_copy(&it, 1, m, (char *)&ob, 0);
        if (run < 0)
            iter_skip(&it, m);
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
