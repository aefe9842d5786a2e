/*
 * fr_threads.h - the persistent worker pool of fr_threads.c, as the driver
 * uses it. The settings (fr_set_num_threads, ...) are in fastreg.h.
 */
#ifndef FR_THREADS_H
#define FR_THREADS_H

#include <stddef.h>

/* One piece of a job: fn(ctx, piece) must write only that piece's output
   and result slot, so that the pieces may run in any order on any thread. */
typedef void (*fr_piece_fn)(void *ctx, ptrdiff_t piece);

/* How many threads a job of `pieces` pieces may use: 1 below the parallel
   threshold (fr_set_parallel_min), else min(pieces, fr_get_num_threads()). */
int fr_threads_for(ptrdiff_t pieces);

/* Run fn(ctx, p) for every p in [0, pieces) on the pool and the calling
   thread, and return when all are done. Everything runs in the calling
   thread when fr_threads_for says 1, when the pool is busy with another
   job, or when its workers sleep and the job is under COLD_MIN
   superblocks of work (`size`, in superblocks). */
void fr_parallel(ptrdiff_t pieces, ptrdiff_t size, fr_piece_fn fn, void *ctx);

#endif /* FR_THREADS_H */
