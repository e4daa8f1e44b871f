/* Persistent thread pool (API and behaviour in tensor/threadpool.h).
 *
 * One job at a time: the caller publishes (fn, ctx, n_tasks), bumps a
 * generation counter (job_word) and broadcasts on `wake`; every participating worker
 * (and the caller, as thread 0) then takes task indices from the atomic
 * counter `next` until they run out. Workers that finish decrement `busy`;
 * the last one signals `done`, on which the caller sleeps. Idle workers sleep
 * in pthread_cond_wait, so an idle pool costs no CPU.
 *
 * Short spins. Waking a sleeping thread costs 5 us when its core is busy
 * with something else and 50-70 us when the core is halted (measured on this
 * 2-vCPU KVM machine: the host has to reschedule the virtual CPU), which is
 * longer than a whole small GEMM. So a worker that has just finished a job
 * polls the job word for SPIN_US microseconds (default 50,
 * MELD_POOL_SPIN_US=0..1000 changes it) before it goes to sleep, and the
 * caller polls `busy` for as long before sleeping on `done`. Back-to-back
 * parallel loops (the GEMMs of a training step) then never pay the wake-up,
 * while an idle pool still sleeps after 50 us: the spin is bounded, unlike
 * OpenMP or OpenBLAS pools that spin for milliseconds and starve the other
 * processes of a 2-core machine.
 *
 * Only one thread at a time may own the pool (submit_mu, taken with
 * trylock); any other caller, and any call from inside a task, runs its
 * loop inline. That makes nested or concurrent use safe without deadlock.
 */
#include "tensor/threadpool.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tensor/error.h"

enum { MAX_THREADS = THREADPOOL_MAX_THREADS };

/* Threads requested by threadpool_set_threads (0 = default). */
static atomic_int requested_threads = 0;
/* Default from MELD_THREADS / online cores, computed once (-1 = not yet). */
static atomic_int default_threads = -1;

int threadpool_online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static int compute_default(void)
{
    const char *env = getenv("MELD_THREADS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 1 && n <= MAX_THREADS) return (int)n;
        meld_warnf("MELD_THREADS=%s is not a count in 1..%d; using the online cores",
                   env, MAX_THREADS);
    }
    return threadpool_online_cores();
}

int threadpool_threads(void)
{
    int n = atomic_load(&requested_threads);
    if (n > 0) return n;
    n = atomic_load(&default_threads);
    if (n < 0) {
        n = compute_default();
        atomic_store(&default_threads, n);
    }
    return n;
}

int threadpool_set_threads(int n)
{
    if (n < 0 || n > MAX_THREADS)
        return meld_errorf("threads: %d is not in 0..%d", n, MAX_THREADS);
    atomic_store(&requested_threads, n);
    return MELD_OK;
}

typedef struct {
    size_t n;
    int chunks;
    ThreadpoolRangeFn fn;
    void *ctx;
} RangeJob;

static void range_task(void *ctx, int task, int thread)
{
    (void)thread;
    const RangeJob *j = ctx;
    size_t lo = j->n * (size_t)task / (size_t)j->chunks, hi = j->n * (size_t)(task + 1) / (size_t)j->chunks;
    if (hi > lo) j->fn(j->ctx, lo, hi);
}

void threadpool_parallel_range(size_t n, size_t min_chunk, ThreadpoolRangeFn fn, void *ctx)
{
    if (n == 0) return;
    size_t chunks = min_chunk ? n / min_chunk : n;
    size_t most = 4 * (size_t)threadpool_threads();   /* a few per thread, for balance */
    if (chunks > most) chunks = most;
    if (chunks < 2) {
        fn(ctx, 0, n);
        return;
    }
    RangeJob j = {n, (int)chunks, fn, ctx};
    threadpool_parallel_for((int)chunks, range_task, &j);
}

/* Serial fallback: every task in the calling thread, as thread 0. */
static void run_inline(int n_tasks, ThreadpoolFn fn, void *ctx)
{
    for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
}

#ifdef MELD_OPENMP
#include <omp.h>

void threadpool_parallel_for_n(int n_tasks, int max_threads, ThreadpoolFn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    int t = threadpool_threads();
    if (max_threads < t) t = max_threads < 1 ? 1 : max_threads;
    if (t > n_tasks) t = n_tasks;
    if (t <= 1 || omp_in_parallel()) {
        run_inline(n_tasks, fn, ctx);
        return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(t)
    for (int i = 0; i < n_tasks; i++) fn(ctx, i, omp_get_thread_num());
}

#else
#include <pthread.h>

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_t tid[MAX_THREADS];
    int n_workers;            /* workers created (thread ids 1..n_workers) */
    int started;              /* atexit handler registered */
    int shutdown;
    /* (generation << 16) | job_threads, stored once per job after the job's
     * fields (release). One word, so a worker reads the generation and
     * whether it takes part consistently; a worker that does not take part
     * never reads the other fields (the next job may be writing them). */
    atomic_ullong job_word;
    /* the current job: caller + workers 1..job_threads-1 take part */
    ThreadpoolFn fn;
    void *ctx;
    int n_tasks;
    atomic_int busy;          /* participating workers not finished yet */
    atomic_int next;          /* next task index to hand out */
    long spin_ns;             /* polling time before sleeping */
} Pool;

static Pool pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
                    .wake = PTHREAD_COND_INITIALIZER,
                    .done = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER;
/* Set in workers, and in the caller while it runs tasks: nested calls go inline. */
static _Thread_local int in_task = 0;

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static long spin_ns_from_env(void)
{
    const char *env = getenv("MELD_POOL_SPIN_US");
    if (env && *env) {
        char *end;
        long us = strtol(env, &end, 10);
        if (*end == '\0' && us >= 0 && us <= 1000) return us * 1000;
        meld_warnf("MELD_POOL_SPIN_US=%s is not in 0..1000; using 50", env);
    }
    return 50 * 1000;
}

static void take_tasks(int thread)
{
    for (;;) {
        int t = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (t >= pool.n_tasks) return;
        pool.fn(pool.ctx, t, thread);
    }
}

/* Polls the job word for up to spin_ns; returns the value seen. */
static unsigned long long spin_for_job(unsigned long long seen)
{
    long t0 = now_ns();
    unsigned long long g;
    int i = 0;
    while ((g = atomic_load_explicit(&pool.job_word, memory_order_acquire)) == seen) {
        cpu_relax();
        if (++i % 64 == 0 && now_ns() - t0 > pool.spin_ns) break;
    }
    return g;
}

static void *worker_main(void *arg)
{
    int id = (int)(size_t)arg;
    unsigned long long seen = 0;
    in_task = 1;
    for (;;) {
        unsigned long long g = spin_for_job(seen);
        if (g == seen) {
            /* nothing came while spinning: sleep until the next job */
            pthread_mutex_lock(&pool.mu);
            while ((g = atomic_load(&pool.job_word)) == seen && !pool.shutdown)
                pthread_cond_wait(&pool.wake, &pool.mu);
            int stop = pool.shutdown;
            pthread_mutex_unlock(&pool.mu);
            if (stop) break;
        }
        seen = g;
        if (id >= (int)(g & 0xffff)) continue;   /* not needed for this job */
        take_tasks(id);
        if (atomic_fetch_sub(&pool.busy, 1) == 1) {
            pthread_mutex_lock(&pool.mu);       /* pairs with the caller's check */
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

static void pool_shutdown(void)
{
    pthread_mutex_lock(&submit_mu);
    pthread_mutex_lock(&pool.mu);
    pool.shutdown = 1;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.n_workers; i++) pthread_join(pool.tid[i], NULL);
    pool.n_workers = 0;
    pthread_mutex_unlock(&submit_mu);
}

/* Grows the pool to `want` threads in all (caller included); returns how
 * many it has. Called with submit_mu held. */
static int pool_grow(int want)
{
    if (!pool.started) {
        pool.started = 1;
        pool.spin_ns = spin_ns_from_env();
        atexit(pool_shutdown);
    }
    while (pool.n_workers + 1 < want) {
        size_t id = (size_t)pool.n_workers + 1;
        if (pthread_create(&pool.tid[pool.n_workers], NULL, worker_main, (void *)id) != 0)
            break;   /* keep what we have; fewer threads is still correct */
        pool.n_workers++;
    }
    return pool.n_workers + 1;
}

void threadpool_parallel_for_n(int n_tasks, int max_threads, ThreadpoolFn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    int t = threadpool_threads();
    if (max_threads < t) t = max_threads < 1 ? 1 : max_threads;
    if (t > n_tasks) t = n_tasks;
    if (t <= 1 || in_task || pthread_mutex_trylock(&submit_mu) != 0) {
        run_inline(n_tasks, fn, ctx);
        return;
    }
    int have = pool_grow(t);
    if (t > have) t = have;

    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n_tasks = n_tasks;
    atomic_store(&pool.busy, t - 1);
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    unsigned long long gen = (atomic_load(&pool.job_word) >> 16) + 1;
    atomic_store_explicit(&pool.job_word, gen << 16 | (unsigned)t, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);

    in_task = 1;
    take_tasks(0);
    in_task = 0;

    /* wait for the workers: poll briefly, then sleep */
    long t0 = now_ns();
    for (int i = 1; atomic_load(&pool.busy) > 0; i++) {
        cpu_relax();
        if (i % 64 == 0 && now_ns() - t0 > pool.spin_ns) break;
    }
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&pool.busy) > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
    pthread_mutex_unlock(&submit_mu);
}
#endif

void threadpool_parallel_for(int n_tasks, ThreadpoolFn fn, void *ctx)
{
    threadpool_parallel_for_n(n_tasks, INT_MAX, fn, ctx);
}
