/* The thread pool: every task runs exactly once, thread indices are in range
 * and never shared by two tasks at the same time, nested and concurrent
 * calls fall back to inline execution without deadlock, and the thread
 * count follows threadpool_set_threads(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/threadpool.h"

enum { N_TASKS = 1000, MAX_T = 8 };

typedef struct {
    atomic_int runs[N_TASKS];
    atomic_int in_use[MAX_T];   /* tasks currently running on each thread index */
    atomic_int bad;             /* index out of range or shared */
    int n_threads;
} Count;

static void count_task(void *ctx, int task, int thread)
{
    Count *c = ctx;
    if (thread < 0 || thread >= c->n_threads) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    if (atomic_fetch_add(&c->in_use[thread], 1) != 0) atomic_fetch_add(&c->bad, 1);
    atomic_fetch_add(&c->runs[task], 1);
    /* a little work so tasks overlap */
    volatile double x = 0;
    for (int i = 0; i < 2000; i++) x = x + i * 0.5;
    (void)x;
    atomic_fetch_sub(&c->in_use[thread], 1);
}

static void run_and_check(int n_threads, int max_threads)
{
    static Count c;
    memset(&c, 0, sizeof c);
    c.n_threads = n_threads < max_threads ? n_threads : max_threads;
    threadpool_set_threads(n_threads);
    assert_int_equal(threadpool_threads(), n_threads);
    threadpool_parallel_for_n(N_TASKS, max_threads, count_task, &c);
    for (int t = 0; t < N_TASKS; t++) assert_int_equal(atomic_load(&c.runs[t]), 1);
    assert_int_equal(atomic_load(&c.bad), 0);
}

static void every_task_runs_once(void **state)
{
    (void)state;
    for (int n = 1; n <= 4; n++) {
        run_and_check(n, 64);
        run_and_check(n, 2);
        run_and_check(n, 1);
    }
    /* many small jobs in a row: workers are reused, nothing is lost */
    for (int rep = 0; rep < 200; rep++) run_and_check(3, 64);
    threadpool_set_threads(0);
}

static void empty_and_single(void **state)
{
    (void)state;
    static Count c;
    memset(&c, 0, sizeof c);
    c.n_threads = MAX_T;
    threadpool_parallel_for(0, count_task, &c);
    threadpool_parallel_for(-3, count_task, &c);
    for (int t = 0; t < N_TASKS; t++) assert_int_equal(atomic_load(&c.runs[t]), 0);
    threadpool_parallel_for(1, count_task, &c);
    assert_int_equal(atomic_load(&c.runs[0]), 1);
}

/* A task that itself calls parallel_for: the inner loop runs inline. */
typedef struct {
    atomic_int inner_runs;
} Nest;

static void inner_task(void *ctx, int task, int thread)
{
    (void)task;
    Nest *n = ctx;
    if (thread == 0) atomic_fetch_add(&n->inner_runs, 1);
}

static void outer_task(void *ctx, int task, int thread)
{
    (void)task, (void)thread;
    threadpool_parallel_for(10, inner_task, ctx);
}

static void nested_calls_run_inline(void **state)
{
    (void)state;
    Nest n;
    atomic_init(&n.inner_runs, 0);
    threadpool_set_threads(3);
    threadpool_parallel_for(20, outer_task, &n);
    assert_int_equal(atomic_load(&n.inner_runs), 200);
    threadpool_set_threads(0);
}

/* Two application threads using the pool at once: both finish correctly. */
static void *client(void *arg)
{
    Count *c = arg;
    for (int rep = 0; rep < 20; rep++) {
        for (int t = 0; t < N_TASKS; t++) atomic_store(&c->runs[t], 0);
        threadpool_parallel_for(N_TASKS, count_task, c);
        for (int t = 0; t < N_TASKS; t++)
            if (atomic_load(&c->runs[t]) != 1) atomic_fetch_add(&c->bad, 1);
    }
    return NULL;
}

static void concurrent_callers(void **state)
{
    (void)state;
    static Count c1, c2;
    memset(&c1, 0, sizeof c1);
    memset(&c2, 0, sizeof c2);
    threadpool_set_threads(2);
    c1.n_threads = c2.n_threads = 2;
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, client, &c1), 0);
    assert_int_equal(pthread_create(&t2, NULL, client, &c2), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(atomic_load(&c1.bad), 0);
    assert_int_equal(atomic_load(&c2.bad), 0);
    threadpool_set_threads(0);
}

static void thread_count_setting(void **state)
{
    (void)state;
    assert_true(threadpool_online_cores() >= 1);
    assert_int_equal(threadpool_set_threads(-1), -1);
    assert_int_equal(threadpool_set_threads(100000), -1);
    assert_int_equal(threadpool_set_threads(5), 0);
    assert_int_equal(threadpool_threads(), 5);
    assert_int_equal(threadpool_set_threads(0), 0);
    assert_true(threadpool_threads() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_task_runs_once),
        cmocka_unit_test(empty_and_single),
        cmocka_unit_test(nested_calls_run_inline),
        cmocka_unit_test(concurrent_callers),
        cmocka_unit_test(thread_count_setting),
    };
    return cmocka_run_group_tests_name("tensor: threadpool", tests, NULL, NULL);
}
