/* ./bench train --mpi: data-parallel training steps on one machine.
 *
 * The same models, batches and steps as ./bench train (train_cases.h), run
 * as pipeline/train/train.c runs them under mpirun: each process takes its
 * share of the batch's items (dp_share), scales its loss by its share of
 * the utterances, and the gradients are summed in buckets during the
 * backward pass (pipeline/dist/data_parallel.h) before the clip and the
 * optimiser step. Per model, in this order, each a child process:
 *
 *   1 process,  2 threads      bench train --mpi-worker --threads 2
 *   -np 1,      1 thread       mpirun -np 1 bench train --mpi-worker
 *   -np 2,      1 thread each  mpirun -np 2 bench train --mpi-worker
 *   -np 2, no overlap          the same with --bucket-mb 0: one sum after
 *                              the backward pass
 *
 * (--rounds N repeats the four, alternating, and the table gives medians:
 * this VM's speed drifts.) Each worker times `steps` steps after `warmup`
 * on rank 0 (a step ends with the same all-reduce everywhere, so rank 0's
 * time is the job's) and prints one line: the median and minimum ms per
 * step, and the mean wait for the sums after the backward pass (both processes past
 * it: see backward_measured). "hidden" is the part of the no-overlap run's
 * wait, the whole sum, that the overlapped run no longer waits for:
 * 1 - wait(overlap) / wait(no overlap).
 *
 * Needs the MPI build (make MPI=1: build-mpi/bench) and mpirun in PATH; as
 * root it passes --allow-run-as-root. Timing is never asserted anywhere. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "benchmarks/child.h"
#include "benchmarks/kernel_timing.h"
#include "benchmarks/train_cases.h"
#include "pipeline/dist/data_parallel.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/threadpool.h"

extern char **environ;

enum { MAX_STEPS = 1000, CONFIGS = 4, MAX_ROUNDS = 9 };

/* ---- the worker: one configuration, under mpirun or alone ---------------------- */

typedef struct {
    double median_ms, min_ms, wait_ms, early;
    int procs, threads;
    long grad_floats;        /* floats all-reduced per step */
} WorkerResult;

/* dp_backward with a barrier between the backward pass and the wait for
 * the sums: the processes finish their backward passes at different times
 * (more so on a loaded machine), and without it the wait would include
 * that, not only the communication still to do. The barrier takes tens of
 * microseconds; it moves the waiting for the slower process, it adds none. */
static int backward_measured(DataParallel *dp, Graph *g, Tensor *loss, float *global_loss, double *wait_s)
{
    float value = loss->data[0];
    grad_sync_begin(&dp->grads, g, &value);
    int rc = graph_backward(g, loss);
    if (rc == MELD_OK) rc = comm_barrier(dp->comm);
    double t0 = bench_now();
    if (rc == MELD_OK) rc = grad_sync_finish(&dp->grads, global_loss);
    *wait_s += bench_now() - t0;
    dp->buckets += dp->grads.n_buckets;
    dp->buckets_early += dp->grads.started_early;
    return rc;
}

/* One data-parallel step of this process's share; total_utts: the whole
 * batch's utterances. */
static int dp_step(Trainer *t, DataParallel *dp, int items, int total_utts, float *loss, double *wait_s)
{
    MeldModel *m = t->model;
    const Batch *b = &t->batch.b;
    Tensor *le = NULL, *ls = NULL, *l = NULL;
    float parts[2];
    int rc = dp_step_begin(dp, &t->g, items);
    if (rc == MELD_OK) rc = m->kind->forward(m, &t->g, b, &le, &ls);
    if (rc == MELD_OK && !(l = meld_model_loss(m, &t->g, b, le, ls, NULL, NULL, parts))) rc = MELD_ERR;
    if (rc == MELD_OK && b->n_utts != total_utts) l = op_scale(&t->g, l, (float)b->n_utts / (float)total_utts);
    if (rc == MELD_OK)
        rc = dp->comm->size > 1 ? backward_measured(dp, &t->g, l, loss, wait_s) : dp_backward(dp, &t->g, l, loss);
    if (rc == MELD_OK) {
        optim_clip_grad_norm(t->params, t->n_params, BENCH_GRAD_CLIP);
        rc = optim_step(t->opt, t->params, t->n_params);
    }
    optim_zero_grad(t->params, t->n_params);
    graph_reset(&t->g);
    return rc;
}

static int worker(const TrainCase *c, int warmup, int steps, size_t bucket_bytes)
{
    const Comm *w = comm_world();
    int items = train_case_items(c), first, mine;
    dp_share(w, items, &first, &mine);
    Trainer t;
    DataParallel dp;
    memset(&dp, 0, sizeof dp);
    int rc = trainer_init(&t, c, first, mine);
    int total = rc == MELD_OK ? t.batch.b.n_utts : 0;
    if (rc == MELD_OK) rc = comm_sum(w, &total, 1, COMM_I32);
    if (rc == MELD_OK) rc = dp_init(&dp, w, t.param_tensors, t.n_params, false, bucket_bytes);
    static double ms[MAX_STEPS];
    float loss = 0;
    double wait_s = 0;
    for (int i = 0; rc == MELD_OK && i < warmup + steps; i++) {
        if (i == warmup) dp_stats_reset(&dp), wait_s = 0;
        double t0 = bench_now();
        rc = dp_step(&t, &dp, items, total, &loss, &wait_s);
        if (i >= warmup) ms[i - warmup] = (bench_now() - t0) * 1e3;
    }
    if (rc == MELD_OK && w->rank == 0) {
        double median = bench_median(ms, steps);   /* sorts ms: ms[0] is the minimum */
        long floats = 0;
        for (int i = 0; i < t.n_params; i++) floats += (long)t.param_tensors[i]->size;
        printf("mpi-result %s procs=%d threads=%d median_ms=%.3f min_ms=%.3f wait_ms=%.3f early=%.3f utts=%d "
               "loss=%.4f floats=%ld\n",
               c->name, w->size, threadpool_threads(), median, ms[0], 1e3 * wait_s / steps,
               dp.buckets ? (double)dp.buckets_early / dp.buckets : 0.0, total, loss, floats);
        fflush(stdout);
    }
    dp_free(&dp);
    trainer_free(&t);
    return rc;
}

/* ---- the orchestrator ------------------------------------------------------------ */

typedef struct {
    const char *label;
    int procs, threads;      /* procs 0: no mpirun */
    bool overlap;
} Config;

static const Config CONFIG[CONFIGS] = {
    {"1 process x 2 threads", 0, 2, true},
    {"-np 1 x 1 thread", 1, 1, true},
    {"-np 2 x 1 thread", 2, 1, true},
    {"-np 2, no overlap", 2, 1, false},
};

typedef struct {
    WorkerResult *out;
    bool found;
} WorkerParse;

static void worker_line(void *ctx, const char *line)
{
    WorkerParse *p = ctx;
    WorkerResult r;
    char name[32];
    int utts;
    float loss;
    if (sscanf(line,
               "mpi-result %31s procs=%d threads=%d median_ms=%lf min_ms=%lf wait_ms=%lf early=%lf utts=%d loss=%f "
               "floats=%ld",
               name, &r.procs, &r.threads, &r.median_ms, &r.min_ms, &r.wait_ms, &r.early, &utts, &loss,
               &r.grad_floats) == 10) {
        *p->out = r;
        p->found = true;
    } else if (*line) {
        printf("    | %s\n", line);
    }
}

/* This program's path, for the children. */
static int self_path(char *buf, size_t cap)
{
    ssize_t len = readlink("/proc/self/exe", buf, cap - 1);
    if (len <= 0) return meld_errorf("bench train --mpi: cannot find this program (/proc/self/exe)");
    buf[len] = '\0';
    return MELD_OK;
}

static int run_config(const char *self, const TrainCase *c, const Config *k, int warmup, int steps, WorkerResult *out)
{
    char np[16], thr[16], st[16], wu[16], bucket[16], model[32];
    snprintf(np, sizeof np, "%d", k->procs);
    snprintf(thr, sizeof thr, "%d", k->threads);
    snprintf(st, sizeof st, "%d", steps);
    snprintf(wu, sizeof wu, "%d", warmup);
    snprintf(bucket, sizeof bucket, "%s", k->overlap ? "1" : "0");
    snprintf(model, sizeof model, "%s", c->name);
    char mpirun[] = "mpirun", o_np[] = "-np", o_root[] = "--allow-run-as-root", o_self[1100], o_train[] = "train",
         o_worker[] = "--mpi-worker", o_model[] = "--model", o_thr[] = "--threads", o_steps[] = "--steps",
         o_warm[] = "--warmup", o_bucket[] = "--bucket-mb";
    snprintf(o_self, sizeof o_self, "%s", self);
    char *argv[20];
    int n = 0;
    if (k->procs > 0) {
        argv[n++] = mpirun, argv[n++] = o_np, argv[n++] = np;
        if (geteuid() == 0) argv[n++] = o_root;
    }
    char *rest[] = {o_self, o_train, o_worker, o_model, model, o_thr, thr, o_steps, st, o_warm, wu, o_bucket, bucket};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) argv[n++] = rest[i];
    argv[n] = NULL;
    WorkerParse p = {out, false};
    int status = bench_run_child(argv, environ, worker_line, &p);
    if (status != 0 || !p.found) return meld_errorf("%s: %s exited with status %d", c->name, k->label, status);
    return MELD_OK;
}

static double median_of(const WorkerResult *r, int rounds, size_t field)
{
    double v[MAX_ROUNDS];
    for (int i = 0; i < rounds; i++) v[i] = *(const double *)((const char *)&r[i] + field);
    return bench_median(v, rounds);
}

static void print_case(const TrainCase *c, WorkerResult res[CONFIGS][MAX_ROUNDS], int rounds)
{
    double wait_overlap = median_of(res[2], rounds, offsetof(WorkerResult, wait_ms));
    double wait_plain = median_of(res[3], rounds, offsetof(WorkerResult, wait_ms));
    printf("%-10s | %6.2f", c->name, 4e-6 * (double)res[0][0].grad_floats);
    for (int k = 0; k < CONFIGS; k++) printf(" | %9.1f", median_of(res[k], rounds, offsetof(WorkerResult, median_ms)));
    printf(" | %7.1f %7.1f %6.0f%% | %5.0f%%\n", wait_overlap, wait_plain,
           wait_plain > 0 ? 100.0 * (1.0 - wait_overlap / wait_plain) : 0.0,
           100.0 * median_of(res[2], rounds, offsetof(WorkerResult, early)));
}

static int orchestrate(const TrainCase *const *sel, int n, int warmup, int steps, int rounds)
{
    char self[1024];
    if (self_path(self, sizeof self)) return MELD_ERR;
    printf("bench train --mpi: ms per data-parallel training step (forward + loss + backward with the gradient\n"
           "sums + clip + optimiser), median of %d steps after %d warm-up (rank 0), medians over %d round%s;\n"
           "%d online cores, ISA %s, load %.2f\n\n", steps, warmup, rounds, rounds > 1 ? "s" : "",
           threadpool_online_cores(), cpu_isa_name(cpu_isa()), bench_load_average());
    static WorkerResult res[BENCH_TRAIN_CASES][CONFIGS][MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < CONFIGS; k++) {
                if (run_config(self, sel[i], &CONFIG[k], warmup, steps, &res[i][k][r])) return MELD_ERR;
                const WorkerResult *w = &res[i][k][r];
                printf("  %-10s %-22s round %d: %8.1f ms/step (min %8.1f), sum wait %7.2f ms, load %.2f\n",
                       sel[i]->name, CONFIG[k].label, r + 1, w->median_ms, w->min_ms, w->wait_ms, bench_load_average());
                fflush(stdout);
            }
    printf("\nms per step                       1 process  |  -np 1     |  -np 2     |  -np 2       | sum wait ms, -np 2"
           "      | buckets\n%-10s | %6s | %9s | %9s | %9s | %9s | %7s %7s %7s | %6s\n", "model", "MB", "2 threads",
           "1 thread", "1 thr each", "no overlap", "overlap", "after", "hidden", "early");
    for (int i = 0; i < n; i++) print_case(sel[i], res[i], rounds);
    printf("\nMB: gradient bytes all-reduced per step. \"after\": the no-overlap run's wait (one sum after the\n"
           "backward pass); \"hidden\": the part of it the overlapped run does not wait for;\n"
           "\"early\": buckets whose sum started during the backward pass.\n"
           "load at the end: %.2f\n", bench_load_average());
    return MELD_OK;
}

/* ---- command line ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench train --mpi [--model lstm|gru|melstm|melstm-var|cnn|fusion|all] [--steps N]\n"
               "                         [--warmup N] [--rounds N]\n"
               "\n"
               "Data-parallel training steps of each model on this machine: one process with 2\n"
               "threads against mpirun -np 1 and -np 2 with one thread each, and -np 2 with the\n"
               "gradient sums after the backward pass instead of during it. Needs the MPI build\n"
               "(make MPI=1, then build-mpi/bench) and mpirun. Defaults: --model all --steps 6\n"
               "--warmup 2 --rounds 1.\n");
}

int bench_train_mpi(int argc, char **argv)
{
    const char *model = "all";
    int threads = 1, steps = 6, warmup = 2, rounds = 1;
    double bucket_mb = 1;
    bool is_worker = false;
    for (int i = 1; i < argc;) {
        const char *a = argv[i++], *v = i < argc ? argv[i] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--mpi")) continue;
        if (!strcmp(a, "--mpi-worker")) { is_worker = true; continue; }
        int bad = 0;
        if (!strcmp(a, "--model") && v) model = v;
        else if (!strcmp(a, "--threads")) bad = bench_train_int_option(a, v, 1, 64, &threads);
        else if (!strcmp(a, "--steps")) bad = bench_train_int_option(a, v, 1, MAX_STEPS, &steps);
        else if (!strcmp(a, "--warmup")) bad = bench_train_int_option(a, v, 0, 100, &warmup);
        else if (!strcmp(a, "--rounds")) bad = bench_train_int_option(a, v, 1, MAX_ROUNDS, &rounds);
        else if (!strcmp(a, "--bucket-mb") && v) bucket_mb = atof(v);
        else {
            fprintf(stderr, "bench train: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) return 2;
        i++; /* the option's value */
    }
    const TrainCase *sel[BENCH_TRAIN_CASES];
    int n = 0;
    for (int i = 0; i < BENCH_TRAIN_CASES; i++)
        if (!strcmp(model, "all") || !strcmp(model, BENCH_CASES[i].name)) sel[n++] = &BENCH_CASES[i];
    if (n == 0 || (is_worker && n != 1)) {
        fprintf(stderr, "bench train: unknown model '%s'\n", model);
        return 2;
    }
    if (strcmp(comm_backend(), "MPI")) {
        fprintf(stderr, "bench train --mpi: this bench was built without MPI: `make MPI=1`, then build-mpi/bench\n");
        return 2;
    }
    int rc;
    if (is_worker) {
        if (threadpool_set_threads(threads)) return 2;
        rc = worker(sel[0], warmup, steps, bucket_mb > 0 ? (size_t)(bucket_mb * 1048576.0) : 0);
    } else {
        rc = orchestrate(sel, n, warmup, steps, rounds);
    }
    if (rc != MELD_OK) fprintf(stderr, "bench train --mpi: %s\n", meld_error());
    return rc == MELD_OK ? 0 : 1;
}
