/*
 * fr_group.c - one call over all the weights of a model (fastreg.h's
 * fr_group): their penalties, their gradients added into the gradient
 * arrays, or a whole SGD / proximal-SGD update, in one pass over memory.
 *
 * Every weight is one contiguous run (the caller checks; weights are
 * long-lived arrays that NumPy allocates contiguous). Each run is cut into
 * superblocks of FR_SUPER blocks, exactly as fr_driver.c cuts it, and the
 * superblocks of all weights are the pieces of one job on the pool of
 * fr_threads.c. A weight of one superblock (most of them) is one piece,
 * which folds its lane sums S and writes the weight's value itself (T = S,
 * fr_driver.c's shortcut). The pieces of a bigger weight keep their S in
 * their own slots; after the job, each such weight's slots are added in
 * superblock order into T and folded (fr_contract.h). Those are the
 * additions fr_reduce makes, in its order, so every value is bit-identical
 * to calling the regularizer on the weight, for any ISA and any thread
 * count.
 *
 * Per block (FR_BLOCK elements, in L1 once read), the kernels of the active
 * table do all the work: the canonical sums, the gradient a*sign(w) + b*w
 * (grad_*), and the steps (sgd_*, pgd_*: fr_update.h), which compute the
 * gradient or the prox in registers in the same pass as the update, in the
 * element type, every product rounded on its own, so that they are what
 * NumPy computes for the same expression:
 *   SGD:      u = g + grad(w); [v = mu*v + u; u = v]; w = w - lr*u
 *   prox-SGD: w = prox(w - lr*g)
 * A weight of 1 .. FR_LANES64 elements takes the kernels' tiny entries for
 * its value and its gradient (piece_tiny), as the single-array calls do.
 * The value is taken from the block before the block is updated (in the
 * update's pass where the ISA has the registers, else a pass of sum_*
 * first, which also brings the block into L1 for the update): the penalty
 * returned is that of the weights the step started from.
 */
#include "fr_kernel_abi.h"
#include "fr_lanes.h"
#include "fr_threads.h"

#include <stdlib.h>

#define SUPER_N ((ptrdiff_t)FR_BLOCK * FR_SUPER)

/* Fewest elements of a group call worth splitting over threads. */
#define GROUP_PAR_MIN ((ptrdiff_t)1 << 16)

/* One superblock of one weight. */
typedef struct {
    ptrdiff_t param, first, m;
} piece;

typedef struct {
    const struct fr_kernels *k; /* read once: every piece uses one ISA */
    fr_param *p;
    piece *pieces;
    fr_lanes *sums; /* piece i's S in sums[i] */
    int op;
    double lr, mu;
} job;

/* One block of c elements of weight p, element offset `at`. */
static void block(const job *j, const fr_param *p, ptrdiff_t at, size_t c, int flags, fr_lanes *s)
{
    const struct fr_kernels *k = j->k;
    int f64 = p->dtype == FR_F64, terms = flags & (FR_ABS | FR_SQ);
    size_t item = f64 ? 8 : 4, off = (size_t)at * item;
    char *w = (char *)p->w + off, *g = p->g ? (char *)p->g + off : NULL;
    char *v = p->v && j->mu != 0.0 ? (char *)p->v + off : NULL;
    double a = p->l1, b = 2.0 * p->l2; /* the gradient's factors, as Penalty.gradient */
    switch (j->op) {
    case FR_GROUP_VALUE:
        if (terms && f64)
            k->sum_f64((const double *)w, c, terms, s);
        else if (terms)
            k->sum_f32((const float *)w, c, terms, s);
        break;
    case FR_GROUP_GRAD: /* g += grad(w), the sums in the same pass */
        if (terms && f64)
            k->grad_f64((const double *)w, (double *)g, c, a, b, flags | FR_ACC | FR_VALUE, s);
        else if (terms)
            k->grad_f32((const float *)w, (float *)g, c, (float)a, (float)b,
                        flags | FR_ACC | FR_VALUE, s);
        break;
    case FR_GROUP_SGD: /* the sums and the update, in one pass where the ISA can */
        if (f64)
            k->sgd_f64((double *)w, (const double *)g, (double *)v, c, a, b, j->lr, j->mu,
                       terms | FR_VALUE, s);
        else
            k->sgd_f32((float *)w, (const float *)g, (float *)v, c, (float)a, (float)b,
                       (float)j->lr, (float)j->mu, terms | FR_VALUE, s);
        break;
    default: { /* FR_GROUP_PROX: the sums, and w = prox(w - lr*g) */
        /* t = lr*l1, d = 1 + 2*lr*l2, as Proximal.prox (lr = 0: the identity),
           and r = 1/d rounded in the element type, as fr_prox */
        double t = j->lr == 0.0 ? 0.0 : j->lr * p->l1;
        double d = j->lr == 0.0 ? 1.0 : 1.0 + 2.0 * j->lr * p->l2;
        double r = fr_prox_recip(d, f64);
        if (f64)
            k->pgd_f64((double *)w, (const double *)g, c, j->lr, t, r, terms | FR_VALUE, s);
        else
            k->pgd_f32((float *)w, (const float *)g, c, (float)j->lr, (float)t, (float)r,
                       terms | FR_VALUE, s);
    }
    }
}

/* Weight q's value from its T (folded in place). */
static void value_of(fr_param *q, fr_lanes *t)
{
    double sa = 0.0, ss = 0.0;
    if (q->terms & FR_ABS)
        sa = lanes_fold(t->abs);
    if (q->terms & FR_SQ)
        ss = lanes_fold(t->sq);
    q->value = fr_penalty_value(q->dtype, sa, ss, q->l1, q->l2, q->terms, q->l1l2);
}

/* A weight of 1 .. FR_LANES64 elements, for its value or its gradient: the
   kernels' tiny entries (fr_tiny.h), which fold the canonical sums in
   registers, as calling the regularizer on such a weight does, instead of a
   block's lanes, flush and fold: 32 float32 weights of 16 took 27,150
   instructions a step, now 17,070 (one thread; python
   tools/callgrind_calls.py). */
static void piece_tiny(const job *j, fr_param *p)
{
    const struct fr_kernels *k = j->k;
    int terms = p->terms & (FR_ABS | FR_SQ);
    double sa = 0.0, ss = 0.0, a = p->l1, b = 2.0 * p->l2; /* as block() */
    size_t n = (size_t)p->n;
    if (j->op == FR_GROUP_VALUE && p->dtype == FR_F64)
        k->tiny_f64((const double *)p->w, n, terms, &sa, &ss);
    else if (j->op == FR_GROUP_VALUE)
        k->tiny_f32((const float *)p->w, n, terms, &sa, &ss);
    else if (p->dtype == FR_F64)
        k->tiny_grad_f64((const double *)p->w, (double *)p->g, n, a, b, terms | FR_ACC, terms, &sa,
                         &ss);
    else
        k->tiny_grad_f32((const float *)p->w, (float *)p->g, n, (float)a, (float)b, terms | FR_ACC,
                         terms, &sa, &ss);
    p->value = fr_penalty_value(p->dtype, sa, ss, p->l1, p->l2, p->terms, p->l1l2);
}

/* A piece of weight p: elements [first, first + m), at most one superblock,
   block by block. Its S goes to `slot` when the weight has more than one
   superblock (finish() adds the slots up); a weight of one superblock has
   T = 0 + S = S, as fr_driver.c's shortcut (lanes are never -0), so its
   piece folds S in a local and writes the weight's value itself: most
   weights of a model are one superblock, and this runs on the pool's
   threads, not after the join. Only the lanes of the terms that are on
   are cleared: the kernels touch no others. */
static void piece_run(const job *j, fr_param *p, ptrdiff_t first, ptrdiff_t m, fr_lanes *slot)
{
    fr_lanes local, *s = slot ? slot : &local;
    int terms = p->reg ? p->terms & (FR_ABS | FR_SQ) : 0, flags = terms;
    ptrdiff_t at = first, end = first + m;
    if (terms && p->n <= FR_LANES64 && (j->op == FR_GROUP_VALUE || j->op == FR_GROUP_GRAD)) {
        piece_tiny(j, p); /* the whole weight: a piece has 1 or more elements */
        return;
    }
    if (p->n > SUPER_N)
        flags |= FR_STREAM; /* a hint about the whole array; never changes a bit */
    lanes_clear(s, terms);
    for (; at < end; at += FR_BLOCK)
        block(j, p, at, (size_t)(end - at < FR_BLOCK ? end - at : FR_BLOCK), flags, s);
    if (!slot && p->reg)
        value_of(p, s);
}

/* Piece i of a job on the pool. */
static void run_piece(void *ctx, ptrdiff_t i)
{
    const job *j = (const job *)ctx;
    const piece *pc = &j->pieces[i];
    fr_param *p = &j->p[pc->param];
    piece_run(j, p, pc->first, pc->m, p->n > SUPER_N ? &j->sums[i] : NULL);
}

/* Weight q's value from its pieces' slots (more than one superblock):
   T = 0; T += S in superblock order; fold, as fr_driver.c. */
static void finish(fr_param *q, fr_lanes *sums)
{
    fr_lanes t;
    ptrdiff_t np = (q->n + SUPER_N - 1) / SUPER_N, i;
    int terms = q->terms & (FR_ABS | FR_SQ);
    lanes_clear(&t, terms); /* (the slots hold only the terms that are on) */
    for (i = 0; i < np; i++)
        lanes_fold_super(&t, &sums[i], terms);
    value_of(q, &t);
}

/* Pieces a job of this many may keep on the stack (24 bytes each). */
#define STACK_PIECES 256

int fr_group(fr_param *p, ptrdiff_t count, int op, double lr, double momentum, double *total)
{
    ptrdiff_t i, np = 0, elems = 0, at, k;
    int multi = 0;
    piece stack[STACK_PIECES];
    void *heap = NULL;
    job j;
    if (count < 0 || op < FR_GROUP_VALUE || op > FR_GROUP_PROX)
        return FR_EARG;
    for (i = 0; i < count; i++) {
        if (p[i].dtype != FR_F32 && p[i].dtype != FR_F64)
            return FR_EDTYPE;
        if (p[i].n < 0 || (op != FR_GROUP_VALUE && !p[i].g))
            return FR_EARG;
        np += (p[i].n + SUPER_N - 1) / SUPER_N;
        elems += p[i].n;
        multi |= p[i].n > SUPER_N;
    }
    j.k = fr_active();
    j.p = p;
    j.op = op;
    j.lr = lr;
    j.mu = momentum;
    j.pieces = stack;
    j.sums = NULL;
    /* Slots only for a weight of more than one superblock (piece i's S in
       sums[i]); the pieces on the stack unless there are many. */
    if (multi || np > STACK_PIECES) {
        heap = malloc((size_t)np * (multi ? sizeof(fr_lanes) + sizeof(piece) : sizeof(piece)));
        if (!heap)
            return FR_ENOMEM;
        if (multi)
            j.sums = (fr_lanes *)heap;
        if (np > STACK_PIECES)
            j.pieces = multi ? (piece *)(j.sums + np) : (piece *)heap;
    }
    /* A group's pieces are its weights (or their superblocks), mostly far
       smaller than fr_driver.c's superblocks, so the threads share even a
       small job evenly: it goes parallel from GROUP_PAR_MIN elements on. */
    if (elems >= GROUP_PAR_MIN && fr_threads_for(np) > 1) {
        for (i = 0, k = 0; i < count; i++)
            for (at = 0; at < p[i].n; at += SUPER_N, k++) {
                j.pieces[k].param = i;
                j.pieces[k].first = at;
                j.pieces[k].m = p[i].n - at < SUPER_N ? p[i].n - at : SUPER_N;
            }
        fr_parallel(np, (elems + SUPER_N - 1) / SUPER_N, run_piece, &j);
    } else {
        for (i = 0, k = 0; i < count; i++)
            for (at = 0; at < p[i].n; at += SUPER_N, k++)
                piece_run(&j, &p[i], at, p[i].n - at < SUPER_N ? p[i].n - at : SUPER_N,
                          p[i].n > SUPER_N ? &j.sums[k] : NULL);
    }
    *total = 0.0;
    for (i = 0, k = 0; i < count; i++) {
        if (!p[i].reg)
            p[i].value = 0.0;
        else if (p[i].n > SUPER_N)
            finish(&p[i], j.sums + k);
        else if (p[i].n == 0) /* no piece: T = 0 */
            p[i].value =
                fr_penalty_value(p[i].dtype, 0.0, 0.0, p[i].l1, p[i].l2, p[i].terms, p[i].l1l2);
        *total = *total + p[i].value; /* in weight order, in float64 */
        k += (p[i].n + SUPER_N - 1) / SUPER_N;
    }
    free(heap);
    return FR_OK;
}
