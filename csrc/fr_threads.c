/*
 * fr_threads.c - a persistent pool of worker threads (plain pthreads) that
 * runs the pieces of one driver call at a time.
 *
 * Results never depend on the pool: the driver cuts a job into fixed pieces
 * (superblocks), each piece writes only its own slot, and the driver adds
 * the slots in piece order afterwards. So pieces are handed out first come,
 * first served, which keeps every thread busy when another process takes a
 * core for a while, and the thread count changes no bit.
 *
 * No oversubscription: the pool runs one job at a time, with at most
 * num_threads - 1 workers plus the calling thread. A caller that finds the
 * pool busy (another thread of the program is in fastreg with a big array)
 * runs its pieces itself rather than queue or start threads.
 *
 * The caller works on its own job and then waits only for the workers that
 * took a piece: a worker slow to wake finds the job closed and sleeps
 * again, so a late wake-up never adds to a call.
 * Waking a sleeping thread is slow (a futex wake-up and a reschedule: tens
 * of microseconds on a VM, a superblock's worth of work), so a worker that
 * finished a job looks for the next one for SPIN_NS before it sleeps, and
 * the caller looks for its workers to finish as long before it sleeps:
 * back-to-back calls (a training loop) meet without a wake-up. The cost is
 * at most SPIN_NS of one core after each parallel call.
 *
 * fork(): only the forking thread lives on in the child. pthread_atfork
 * holds the pool lock across fork() (so its state is consistent) and gives
 * the child an empty pool, whose workers start on its first big call.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* sched_getcpu, sched_setaffinity */
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "fr_threads.h"
#include "fastreg.h"

/* Fewest superblocks (128 Ki elements each) worth splitting. Measured on a
   shared 2-core Zen 4 (python -m bench.threads --sweep, float32): 2 threads
   lost at 2 .. 3 superblocks (0.8x, waking a worker is not free), broke
   even at 4, and won at every op from 5 on (1.14 .. 1.31x). float64 takes
   longer per superblock, so the float32 threshold is the safe one. */
#define PAR_MIN_DEFAULT 5

#if defined(_WIN32) && !defined(__MINGW32__)
/* No pthreads (MSVC): every job runs in the calling thread. */
static int num_threads = 1, par_min = PAR_MIN_DEFAULT;
#define LOAD(v)     (v)
#define STORE(v, x) ((v) = (x))
#else
#include <pthread.h>
#include <signal.h>
#include <time.h>
#if defined(__linux__)
#include <sched.h>
#define FR_CPUS 1 /* the CPU a thread runs on, and its CPU mask */
#endif
#define FR_POOL     1
/* The settings are read without the lock by every call. */
#define LOAD(v)     __atomic_load_n(&(v), __ATOMIC_RELAXED)
#define STORE(v, x) __atomic_store_n(&(v), (x), __ATOMIC_RELAXED)
static int num_threads = 1, par_min = PAR_MIN_DEFAULT;
#endif

int fr_set_num_threads(int n)
{
    int prev = LOAD(num_threads);
    if (n < 1 || n > FR_MAX_THREADS)
        return FR_EARG;
    STORE(num_threads, n);
    return prev;
}

int fr_get_num_threads(void)
{
    return LOAD(num_threads);
}

int fr_set_parallel_min(int superblocks)
{
    int prev = LOAD(par_min);
    if (superblocks < 2)
        return FR_EARG;
    STORE(par_min, superblocks);
    return prev;
}

int fr_threads_for(ptrdiff_t pieces)
{
    int n = LOAD(num_threads);
    if (n < 2 || pieces < LOAD(par_min))
        return 1;
    return pieces < n ? (int)pieces : n;
}

#ifndef FR_POOL
void fr_parallel(ptrdiff_t pieces, ptrdiff_t size, fr_piece_fn fn, void *ctx)
{
    ptrdiff_t p;
    for (p = 0; p < pieces; p++)
        fn(ctx, p);
}
#else

/* Everything below is guarded by mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t posted = PTHREAD_COND_INITIALIZER; /* a new job is open */
static pthread_cond_t left = PTHREAD_COND_INITIALIZER;   /* a worker left the job */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int started;         /* workers alive */
static int busy;            /* a caller owns the pool */
static unsigned long jobno; /* number of the current job (also read by spinning workers) */
/* The current job. */
static fr_piece_fn job_fn;
static void *job_ctx;
static ptrdiff_t job_next, job_pieces;
static int job_open;             /* workers may still join */
static int job_seats;            /* how many workers may join */
static int job_cpu;              /* the CPU the caller posted the job from */
static ptrdiff_t job_threads;    /* the caller and the workers it asked for */
static unsigned long job_inside; /* workers in the job now (also read by a spinning caller) */
static int spinners;             /* workers looking for the next job (not asleep) */
static long last_end = -1;       /* when the last call big enough for threads ended (ns) */
static long crowded_at = -1;     /* when the last back-off began (ns): see BACKOFF_MIN_NS */
static long backoff_ns;          /* how long it lasts: small calls run alone until its end */

/* How long a thread looks for what it waits for before it sleeps. Measured
   with python -m bench.threads (2-core Zen 4 VM, float32, speedup of 2
   threads over 1, medians of 11 alternating rounds), sleeping at once ->
   spinning first: 1M L1L2 1.25 -> 1.40, value_and_gradient 1.33 -> 1.63,
   prox 1.31 -> 1.47; 4M 1.62 -> 1.97, 1.67 -> 1.90, 1.74 -> 1.58 (noise:
   one-thread times moved 15 % between the runs). */
#define SPIN_NS        100000L

/* Fewest superblocks worth waking sleeping workers for. A wake-up is
   slow on a VM (the futex call alone took the caller 11 us, and the woken
   worker lands on the caller's CPU first), so a call after a pause (a
   training loop doing other work between calls: python -m bench.threads'
   "+pause" rows, 2-core Zen 4 VM, float32) was slower with 2 threads than
   with 1 at 8 and 16 superblocks (0.72 .. 0.96x), and faster at 32
   (1.10 .. 1.21x) and 64 (1.28 .. 1.41x). Below this, a call runs alone
   unless the workers are awake: looking for work after a call, or the last
   such call ended less than SPIN_NS ago (back-to-back calls, whose second
   call wakes them for the rest). */
#define COLD_MIN       32

/* When another process keeps the workers' CPUs busy, a worker can be
   preempted in the middle of its share and the caller waits a whole time
   slice (milliseconds) for a call that takes microseconds: with a second
   process busy on this 2-core VM, 32 x 4096-element ParamGroup steps took
   326 us instead of 20 us. So when a call waited for its workers longer
   than it worked itself, calls under COLD_MIN superblocks run alone for a
   while, and then try the pool again.
   How long: a VM stalls a worker now and then even on an idle machine (the
   host runs other guests): 12 stalls of 0.05 .. 3.7 ms in 3,000 such
   ParamGroup steps. A fixed 50 ms back-off after each of them kept that
   loop alone 84 % of the time. So the back-off starts at BACKOFF_MIN_NS
   and doubles, up to BACKOFF_MAX_NS, only while stalls come back soon
   (within twice the last back-off after it began): a busy neighbour, not
   a passing stall. */
#define BACKOFF_MIN_NS 1000000L
#define BACKOFF_MAX_NS 64000000L

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Start a back-off at `now` (mu held): see BACKOFF_MIN_NS. */
static void back_off(long now)
{
    if (crowded_at >= 0 && now - crowded_at < 2 * backoff_ns)
        backoff_ns = backoff_ns < BACKOFF_MAX_NS / 2 ? 2 * backoff_ns : BACKOFF_MAX_NS;
    else
        backoff_ns = BACKOFF_MIN_NS;
    crowded_at = now;
}

/* Spin (mu not held) until *v != unwanted, for at most SPIN_NS: 1 when it
   changed. The clock is read once every 256 looks. */
static int spin_until(const unsigned long *v, unsigned long unwanted)
{
    long t0 = now_ns();
    unsigned i;
    for (i = 1;; i++) {
        if (__atomic_load_n(v, __ATOMIC_ACQUIRE) != unwanted)
            return 1;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause(); /* leave the core's resources to its other thread */
#endif
        if (i % 256 == 0 && now_ns() - t0 > SPIN_NS)
            return 0;
    }
}

static unsigned long job_inside_now(void)
{
    return __atomic_load_n(&job_inside, __ATOMIC_ACQUIRE);
}

/* Take pieces of the current job until there are none left; mu is held on
   entry and exit, never while a piece runs. The caller takes pieces from
   the front and the workers from the back, so that with two threads each
   one runs the same half of an array call after call (its cache keeps that
   half), while a thread that is late or slowed still leaves the rest of
   the job to the other. */
static void take_pieces(fr_piece_fn fn, void *ctx, int front)
{
    while (job_next < job_pieces) {
        /* a share of what is left (guided scheduling): few trips through
           mu for many small pieces, small shares again near the end */
        ptrdiff_t c = (job_pieces - job_next) / (4 * job_threads), lo, hi;
        if (c < 1)
            c = 1;
        if (front) {
            lo = job_next;
            job_next = hi = lo + c;
        } else {
            hi = job_pieces;
            job_pieces = lo = hi - c;
        }
        pthread_mutex_unlock(&mu);
        for (; lo < hi; lo++)
            fn(ctx, lo);
        pthread_mutex_lock(&mu);
    }
}

/* The CPU the calling thread runs on; -1 where that is not known. */
static int current_cpu(void)
{
#ifdef FR_CPUS
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Move the calling worker off CPU `cpu` (the caller's, where it runs). On
   a VM an idle vCPU looks preempted to Linux, so a worker woken by the
   caller is often queued on the caller's own CPU, where the two would only
   take turns: a cold call with two threads then took 1.5x as long as with
   one. Narrowing the worker's CPU mask moves it at once; the mask is given
   back right away, so the worker stays movable. */
static void leave_cpu(int cpu)
{
#ifdef FR_CPUS
    cpu_set_t all, others;
    if (sched_getaffinity(0, sizeof all, &all) != 0)
        return;
    others = all;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) > 0 && sched_setaffinity(0, sizeof others, &others) == 0)
        sched_setaffinity(0, sizeof all, &all);
#else
    (void)cpu;
#endif
}

static void *worker(void *arg)
{
    unsigned long seen = 0; /* jobs are numbered from 1: a new worker joins the open one */
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        if (seen == jobno) { /* look for the next job a while before sleeping */
            spinners++;
            pthread_mutex_unlock(&mu);
            spin_until(&jobno, seen);
            pthread_mutex_lock(&mu);
            spinners--;
        }
        while (!job_open || seen == jobno || job_seats == 0)
            pthread_cond_wait(&posted, &mu);
        if (job_cpu >= 0 && current_cpu() == job_cpu) {
            /* Move first, join after: a worker that joined would be waited
               for, and the move may leave it queued behind another process
               on the other CPU. By then the job may be closed (or another
               open): look again. */
            int cpu = job_cpu;
            pthread_mutex_unlock(&mu);
            leave_cpu(cpu);
            pthread_mutex_lock(&mu);
            if (!job_open || seen == jobno || job_seats == 0)
                continue;
        }
        seen = jobno;
        job_seats--;
        __atomic_store_n(&job_inside, job_inside + 1, __ATOMIC_RELEASE);
        take_pieces(job_fn, job_ctx, 0);
        __atomic_store_n(&job_inside, job_inside - 1, __ATOMIC_RELEASE);
        if (job_inside == 0)
            pthread_cond_signal(&left);
    }
    return NULL; /* not reached: workers sleep until the process ends */
}

/* Start one detached worker with every signal blocked (signals are for the
   program's own threads); 0 on success. */
static int spawn(void)
{
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t all, old;
    int err;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* the driver keeps ~60 KiB of buffers on the stack; some libcs (musl)
       give new threads only 128 KiB */
    pthread_attr_setstacksize(&attr, 1 << 20);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&tid, &attr, worker, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return err;
}

static void before_fork(void)
{
    pthread_mutex_lock(&mu);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

/* The child has no workers and no job; its lock and conditions are made
   anew (another thread's waits in the parent may show in their state). */
static void after_fork_child(void)
{
    started = busy = job_open = job_seats = job_inside = spinners = 0;
    last_end = crowded_at = -1;
    job_next = job_pieces = 0;
    pthread_mutex_init(&mu, NULL);
    pthread_cond_init(&posted, NULL);
    pthread_cond_init(&left, NULL);
}

static void install_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void fr_parallel(ptrdiff_t pieces, ptrdiff_t size, fr_piece_fn fn, void *ctx)
{
    const int want = fr_threads_for(pieces) - 1; /* workers this job could use */
    int seats = want;
    ptrdiff_t p;
    long t_post, t_done;
    if (seats > 0) {
        pthread_once(&once, install_fork_handlers);
        pthread_mutex_lock(&mu);
        if (busy) {
            seats = 0;
        } else if (size < COLD_MIN) {
            long now = now_ns();
            int asleep = spinners == 0 && (last_end < 0 || now - last_end > SPIN_NS);
            if (asleep || (crowded_at >= 0 && now - crowded_at < backoff_ns))
                seats = 0; /* not worth waking them, or crowded out: run alone */
        }
        if (seats > 0) {
            while (started < seats && spawn() == 0)
                started++;
            if (seats > started) /* no more threads to be had: use those we have */
                seats = started;
        }
        if (seats > 0) {
            busy = 1;
            job_fn = fn;
            job_cpu = current_cpu();
            job_ctx = ctx;
            job_next = 0;
            job_pieces = pieces;
            job_seats = seats;
            job_threads = seats + 1;
            job_open = 1;
            __atomic_store_n(&jobno, jobno + 1, __ATOMIC_RELEASE);
            t_post = now_ns();
            pthread_cond_broadcast(&posted);
            take_pieces(fn, ctx, 1);
            t_done = now_ns();
            /* every piece is taken: only workers inside may still be running one */
            job_open = 0;
            if (job_inside > 0) { /* look a while for them to finish, then sleep */
                unsigned long inside = job_inside;
                pthread_mutex_unlock(&mu);
                while (spin_until(&job_inside, inside) && (inside = job_inside_now()) > 0)
                    ;
                pthread_mutex_lock(&mu);
            }
            while (job_inside > 0)
                pthread_cond_wait(&left, &mu);
            busy = 0;
            last_end = now_ns();
            if (last_end - t_done > t_done - t_post) /* waited longer than it worked */
                back_off(last_end);
            pthread_mutex_unlock(&mu);
            return;
        }
        pthread_mutex_unlock(&mu);
    }
    for (p = 0; p < pieces; p++)
        fn(ctx, p);
    if (want > 0) { /* big enough for the pool, run alone: its end counts too */
        pthread_mutex_lock(&mu);
        last_end = now_ns();
        pthread_mutex_unlock(&mu);
    }
}
#endif /* FR_POOL */
