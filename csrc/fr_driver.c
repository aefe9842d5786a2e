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
 *
 * Threads: a big array's superblocks are the pieces of a job on the pool of
 * fr_threads.c; each keeps its S apart and run_job adds them in order.
 */
#include "fr_compiler.h"
#include "fr_iter.h"
#include "fr_kernel_abi.h"
#include "fr_lanes.h"
#include "fr_threads.h"
#include "fr_tiny.h"

#include <stdlib.h>
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

/* Elements in a superblock: the piece a thread takes. */
#define FR_SUPER_N ((ptrdiff_t)FR_BLOCK * FR_SUPER)

enum { OP_SUM, OP_GRAD, OP_PROX };

/* One call past the tiny path: everything a piece needs to find and compute
   its part, whichever thread runs it. */
typedef struct {
    const struct fr_kernels *k; /* read once per call: every piece uses one ISA */
    int op, dtype, what, flags; /* what: the sums to take (0: none) */
    double a, b;
    size_t item;
    ptrdiff_t n, run; /* run > 0: x (and out) are one run each, else the iterator */
    const char *x;    /* x and out at element 0, when run > 0 */
    char *out;
    const fr_iter *it; /* at element 0, when run <= 0 */
    fr_lanes *sums;    /* parallel reductions: superblock p's S in sums[p] */
} fr_job;

/* Sum m elements (at most a superblock) block by block into s: from p on
   when the array is one run, else from the iterator, which moves on. */
static void walk_sum(const fr_job *j, fr_iter *it, const char *p, ptrdiff_t m, fr_lanes *s)
{
    const struct fr_kernels *k = j->k;
    fr_buf buf;
    struct {
        float f[FR_BLOCK];
    } conv;
    while (m > 0) {
        ptrdiff_t c = m < FR_BLOCK ? m : FR_BLOCK;
        const char *q = p;
        if (j->run > 0) {
            p += (size_t)c * j->item;
        } else {
            q = it->ptr[0];
            if (!fr_iter_contiguous(it, 0, c)) {
                fr_iter_copy(it, 0, c, (char *)&buf, 1);
                q = (const char *)&buf;
            }
            fr_iter_skip(it, c);
        }
        if (j->dtype == FR_F32) {
            k->sum_f32((const float *)q, (size_t)c, j->what, s);
        } else if (j->dtype == FR_F64) {
            k->sum_f64((const double *)q, (size_t)c, j->what, s);
        } else {
            /* float16 -> float32 (exact), then summed as float32 is */
            k->f16_to_f32((const uint16_t *)q, conv.f, (size_t)c);
            k->sum_f32(conv.f, (size_t)c, j->what, s);
        }
        m -= c;
    }
}

/* fr_grad / fr_prox on m elements (at most a superblock), the value's sums
   into s: x and out from xp / op on when they are one run each, else from
   the iterator, which moves on. */
static void walk_elem(const fr_job *j, fr_iter *it, const char *xp, char *op, ptrdiff_t m,
                      fr_lanes *s)
{
    const struct fr_kernels *k = j->k;
    fr_buf xb, ob;
    struct {
        float f[FR_BLOCK];
    } xf, of; /* float16 blocks in float32 */
    int flags = j->flags, prox = j->op == OP_PROX;
    double a = j->a, b = j->b;
    while (m > 0) {
        ptrdiff_t c = m < FR_BLOCK ? m : FR_BLOCK;
        const char *xq = xp;
        char *oq = op;
        int x_direct = 1, o_direct = 1;
        if (j->run > 0) {
            xp += (size_t)c * j->item;
            op += (size_t)c * j->item;
        } else {
            xq = it->ptr[0];
            oq = it->ptr[1];
            x_direct = fr_iter_contiguous(it, 0, c);
            o_direct = fr_iter_contiguous(it, 1, c);
        }
        if (!x_direct) {
            fr_iter_copy(it, 0, c, (char *)&xb, 1);
            xq = (const char *)&xb;
        }
        if (!o_direct) {
            if (flags & FR_ACC)
                fr_iter_copy(it, 1, c, (char *)&ob, 1);
            oq = (char *)&ob;
        }
        if (j->dtype == FR_F32) {
            if (prox)
                k->prox_f32((const float *)xq, (float *)oq, (size_t)c, (float)a, (float)b, flags);
            else
                k->grad_f32((const float *)xq, (float *)oq, (size_t)c, (float)a, (float)b, flags,
                            s);
        } else if (j->dtype == FR_F64) {
            if (prox)
                k->prox_f64((const double *)xq, (double *)oq, (size_t)c, a, b, flags);
            else
                k->grad_f64((const double *)xq, (double *)oq, (size_t)c, a, b, flags, s);
        } else { /* float16: compute in float32, round once */
            k->f16_to_f32((const uint16_t *)xq, xf.f, (size_t)c);
            if (flags & FR_ACC)
                k->f16_to_f32((const uint16_t *)oq, of.f, (size_t)c);
            if (j->what) /* the value is summed as fr_reduce does */
                k->sum_f32(xf.f, (size_t)c, j->what, s);
            if (prox)
                k->prox_f32(xf.f, of.f, (size_t)c, (float)a, (float)b, flags);
            else
                k->grad_f32(xf.f, of.f, (size_t)c, (float)a, (float)b, flags & ~FR_VALUE, s);
            k->f32_to_f16(of.f, (uint16_t *)oq, (size_t)c);
        }
        if (!o_direct)
            fr_iter_copy(it, 1, c, (char *)&ob, 0);
        if (j->run <= 0)
            fr_iter_skip(it, c);
        m -= c;
    }
}

/* Superblock p (elements first .. first + m - 1), its sums into s. */
static void walk(const fr_job *j, fr_iter *it, ptrdiff_t first, ptrdiff_t m, fr_lanes *s)
{
    const char *x = NULL;
    char *out = NULL;
    if (j->run > 0) { /* pointers into other layouts may not be formed past their ends */
        x = j->x + (size_t)first * j->item;
        if (j->out)
            out = j->out + (size_t)first * j->item;
    }
    if (j->op == OP_SUM)
        walk_sum(j, it, x, m, s);
    else
        walk_elem(j, it, x, out, m, s);
}

/* Piece p of a parallel job: superblock p, from a fresh iterator. */
static void run_piece(void *ctx, ptrdiff_t p)
{
    const fr_job *j = (const fr_job *)ctx;
    ptrdiff_t first = p * FR_SUPER_N, m = j->n - first;
    fr_lanes none, *s = j->sums ? &j->sums[p] : &none;
    fr_iter it;
    if (m > FR_SUPER_N)
        m = FR_SUPER_N;
    if (j->run <= 0) {
        it = *j->it;
        fr_iter_seek(&it, first);
    }
    lanes_clear(s, j->what);
    walk(j, &it, first, m, s);
}

/*
 * Run a job superblock by superblock and return T (fr_contract.h): S of
 * each superblock added into T in superblock order. Big enough jobs run
 * their superblocks on the pool, each S in its own slot, and add the slots
 * in order here: the same additions in the same order as one thread, so
 * the same bits for any thread count. `it` is the iterator at element 0.
 */
static void run_job(fr_job *j, fr_iter *it, double *sa, double *ss)
{
    ptrdiff_t nsuper = (j->n + FR_SUPER_N - 1) / FR_SUPER_N, p;
    int what = j->what;
    fr_lanes s, t;
    j->it = it;
    j->sums = NULL;
    if (fr_threads_for(nsuper) > 1 &&
        (!what || (j->sums = (fr_lanes *)malloc((size_t)nsuper * sizeof(fr_lanes))) != NULL)) {
        fr_parallel(nsuper, nsuper, run_piece, j);
        if (what) {
            lanes_clear(&t, what);
            for (p = 0; p < nsuper; p++)
                lanes_fold_super(&t, &j->sums[p], what);
            free(j->sums);
            lanes_result(&t, what, sa, ss);
        }
        return;
    }
    lanes_clear(&s, what);
    if (nsuper <= 1) { /* T = 0 + S = S exactly (lanes are never -0) */
        walk(j, it, 0, j->n, &s);
        lanes_result(&s, what, sa, ss);
        return;
    }
    lanes_clear(&t, what);
    for (p = 0; p < nsuper; p++) {
        ptrdiff_t first = p * FR_SUPER_N, m = j->n - first;
        walk(j, it, first, m < FR_SUPER_N ? m : FR_SUPER_N, &s);
        lanes_fold_super(&t, &s, what);
    }
    lanes_result(&t, what, sa, ss);
}

/* Every input past the tiny path: a run of `run` elements (run > 0) is read
   straight from memory, anything else through the iterator. Kept out of
   line so that tiny inputs never set up its frame. */
static FR_NOINLINE int reduce_blocks(const void *data, int ndim, const ptrdiff_t *shape,
                                     const ptrdiff_t *strides, int dtype, int what, double *sum_abs,
                                     double *sum_sq, ptrdiff_t run)
{
    fr_job j;
    fr_iter it;
    memset(&j, 0, sizeof j);
    j.k = fr_active();
    j.op = OP_SUM;
    j.dtype = dtype;
    j.what = what;
    j.item = item_of(dtype);
    j.run = j.n = run;
    j.x = (const char *)data;
    if (run <= 0) {
        j.n = fr_iter_init(&it, 1, (char *)data, NULL, ndim, shape, strides, NULL, j.item);
        if (j.n < 0)
            return FR_EARG;
    }
    run_job(&j, &it, sum_abs, sum_sq);
    return FR_OK;
}

int fr_reduce(const void *data, int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides,
              int dtype, int what, double *sum_abs, double *sum_sq)
{
    size_t item = item_of(dtype);
    ptrdiff_t run;
    if (!item)
        return FR_EDTYPE;
    run = fr_run_length(data, ndim, shape, strides, item);
    if (run >= 1 && run <= FR_LANES64) {
        fr_reduce_tiny(data, (size_t)run, dtype, what, sum_abs, sum_sq);
        return FR_OK;
    }
    return reduce_blocks(data, ndim, shape, strides, dtype, what, sum_abs, sum_sq, run);
}

/* The run of `run_length` elements for x and out together: x and out one
   run each, element i of one at element i of the other (the same strides),
   read and written straight, without the iterator; -1 for anything else.
   fr_run_length reads only the alignment and the strides of the axes
   longer than 1, so with those strides equal and out aligned, out's run is
   x's: it is not computed a second time. */
static inline ptrdiff_t pair_run(const void *x, const void *out, int ndim, const ptrdiff_t *shape,
                                 const ptrdiff_t *xs, const ptrdiff_t *os, size_t item)
{
    ptrdiff_t run = fr_run_length(x, ndim, shape, xs, item);
    int i;
    if (run <= 0 || ((uintptr_t)out & (item - 1)) != 0)
        return -1;
    if (os != xs)
        for (i = 0; i < ndim; i++)
            if (shape[i] != 1 && xs[i] != os[i])
                return -1;
    return run;
}

/* The element-wise operations past the tiny path: `run` (pair_run) > 0
   elements straight from memory, anything else through the iterator. Kept
   out of line, as reduce_blocks, so that tiny inputs never set up its
   frame (the job, the iterator). */
static FR_NOINLINE int elementwise_blocks(int is_prox, const void *x, void *out, int ndim,
                                          const ptrdiff_t *shape, const ptrdiff_t *xs,
                                          const ptrdiff_t *os, int dtype, double a, double b,
                                          int flags, double *sum_abs, double *sum_sq, ptrdiff_t run)
{
    fr_job j;
    fr_iter it;
    int value = !is_prox && (flags & FR_VALUE);
    memset(&j, 0, sizeof j);
    j.item = item_of(dtype);
    j.run = j.n = run;
    if (run < 0) {
        j.n = fr_iter_init(&it, 2, (char *)x, (char *)out, ndim, shape, xs, os, j.item);
        if (j.n < 0)
            return FR_EARG;
    }
    j.k = fr_active();
    j.op = is_prox ? OP_PROX : OP_GRAD;
    j.dtype = dtype;
    j.what = value ? flags & (FR_ABS | FR_SQ) : 0;
    /* FR_STREAM describes the whole array, whatever piece a thread runs */
    j.flags = j.n > FR_SUPER_N ? flags | FR_STREAM : flags;
    j.a = a;
    j.b = b;
    j.x = (const char *)x;
    j.out = (char *)out;
    run_job(&j, &it, value ? sum_abs : NULL, value ? sum_sq : NULL);
    return FR_OK;
}

/* fr_grad and fr_prox test for the tiny path themselves, before any other
   call: at n = 16 each call and each argument passed on the stack is a
   measurable share of the whole. */
int fr_grad(const void *x, void *out, int ndim, const ptrdiff_t *shape, const ptrdiff_t *xstrides,
            const ptrdiff_t *ostrides, int dtype, double a, double b, int flags, double *sum_abs,
            double *sum_sq)
{
    size_t item = item_of(dtype);
    ptrdiff_t run;
    if (!item)
        return FR_EDTYPE;
    run = pair_run(x, out, ndim, shape, xstrides, ostrides, item);
    if (run >= 1 && run <= FR_LANES64 && dtype != FR_F16) {
        fr_elementwise_tiny(0, x, out, (size_t)run, dtype, a, b, flags, sum_abs, sum_sq);
        return FR_OK;
    }
    return elementwise_blocks(0, x, out, ndim, shape, xstrides, ostrides, dtype, a, b, flags,
                              sum_abs, sum_sq, run);
}

int fr_prox(const void *x, void *out, int ndim, const ptrdiff_t *shape, const ptrdiff_t *xstrides,
            const ptrdiff_t *ostrides, int dtype, double t, double d, int flags)
{
    size_t item = item_of(dtype);
    ptrdiff_t run;
    /* the kernels multiply by r: computed once here, not per block */
    double r = fr_prox_recip(d, dtype == FR_F64);
    if (!item)
        return FR_EDTYPE;
    flags &= FR_ABS | FR_SQ;
    run = pair_run(x, out, ndim, shape, xstrides, ostrides, item);
    if (run >= 1 && run <= FR_LANES64 && dtype != FR_F16) {
        fr_elementwise_tiny(1, x, out, (size_t)run, dtype, t, r, flags, NULL, NULL);
        return FR_OK;
    }
    return elementwise_blocks(1, x, out, ndim, shape, xstrides, ostrides, dtype, t, r, flags, NULL,
                              NULL, run);
}
