/* A persistent pool of worker threads for data-parallel loops.
 *
 *     static void body(void *ctx, int task, int thread) { ... task-th piece ... }
 *     threadpool_parallel_for(n_tasks, body, &ctx);
 *
 * runs body(ctx, t, thread) once for every t in [0, n_tasks) and returns when
 * all have finished. Tasks are handed out dynamically (an atomic counter), so
 * uneven pieces balance themselves. `thread` is in [0, threadpool_threads())
 * and no two tasks running at the same time in one call share it: index
 * per-thread scratch buffers with it. The calling thread works too (as
 * thread 0), so a pool of N threads has N-1 workers.
 *
 * Workers are created once, on first use, and sleep on a condition variable
 * when idle. After a job a worker polls for new work for a short, bounded
 * time first (50 us; MELD_POOL_SPIN_US=0..1000 changes it): waking a
 * sleeping thread costs 5-70 us on this virtual machine, more than a small
 * GEMM, and back-to-back loops are the common case. Unlike OpenMP or
 * OpenBLAS pools, which spin for milliseconds, an idle pool therefore costs
 * no CPU after 50 us. A call made from inside a task, or while another
 * thread is using the pool, runs its tasks serially in the calling thread
 * (thread index 0 ... one at a time), which is correct, never deadlocks, and
 * is the right thing for nested parallelism.
 *
 * Thread count: threadpool_set_threads(n) (the --threads flags), else the
 * MELD_THREADS environment variable, else the number of online cores. If a
 * worker cannot be created the pool keeps the ones it has (at worst the
 * loops run serially); nothing here fails.
 *
 * Built with `make OPENMP=1` (MELD_OPENMP), the same API runs on OpenMP
 * threads instead. Which thread runs a task never changes what it computes,
 * so results are identical.
 *
 * The pool is one of the two pieces of global mutable state allowed in the
 * library (with the error buffer). It is torn down at process exit.
 */
#ifndef MELD_THREADPOOL_H
#define MELD_THREADPOOL_H

#include <stddef.h>

typedef void (*ThreadpoolFn)(void *ctx, int task, int thread);

/* Runs fn(ctx, task, thread) for task in [0, n_tasks) on up to
 * threadpool_threads() threads. n_tasks <= 0 does nothing. */
void threadpool_parallel_for(int n_tasks, ThreadpoolFn fn, void *ctx);

/* The same on at most max_threads threads (>= 1): small problems use fewer
 * threads because waking a worker costs a few microseconds. */
void threadpool_parallel_for_n(int n_tasks, int max_threads, ThreadpoolFn fn,
                               void *ctx);

/* Element-wise loops: runs fn(ctx, lo, hi) over [0, n) split into ranges
 * of at least min_chunk elements (so [0, n) in one call, on the calling
 * thread, when n < 2 * min_chunk). Each element is computed by exactly one
 * call, so the result never depends on the thread count. */
typedef void (*ThreadpoolRangeFn)(void *ctx, size_t lo, size_t hi);
void threadpool_parallel_range(size_t n, size_t min_chunk, ThreadpoolRangeFn fn, void *ctx);
/* The min_chunk the element-wise ops use: 32K floats, ~10 us of work. */
#define THREADPOOL_ELTWISE_CHUNK ((size_t)1 << 15)

/* Number of threads parallel loops use (>= 1). */
int threadpool_threads(void);

/* The most threads a pool runs (threadpool_set_threads, MELD_THREADS). */
#define THREADPOOL_MAX_THREADS 256

/* Sets the thread count (n >= 1; n == 0 restores the default: MELD_THREADS
 * or the online cores). Returns MELD_ERR for n < 0 or n > THREADPOOL_MAX_THREADS. Call it
 * from the main thread when no parallel loop is running (e.g. once, for
 * --threads). */
int threadpool_set_threads(int n);

/* Online cores of this machine (>= 1). */
int threadpool_online_cores(void);

#endif
