/* Data parallelism end to end: build-mpi/meld under mpirun against one
 * process, on a tiny synthetic corpus. Needs the MPI build (make MPI=1,
 * which sets MELD_BIN to build-mpi/meld in `make test`) and mpirun; in any
 * other build every test here is skipped.
 *
 * Training: one process and mpirun -np 2 with the same seed and global
 * batch must end with the same parameters up to float reassociation, and
 * so must -np 2 and -np 3. The tolerance, from the arithmetic: the runs sum
 * the same terms in other groupings (a GEMM's sum over the batch rows is
 * split into per-process partial sums, added by the all-reduce; BatchNorm's
 * sums likewise). A sum of n float terms regrouped differs by at most
 * (n - 1) u sum|t| (Higham's gamma_{n-1}, u = 2^-24 = 6.0e-8); the largest
 * sums here, a recurrent weight's gradient over every time step of a batch
 * (n of about 100), are thus exact to 6e-6 of their absolute sum, and a
 * gradient's error reaches a parameter through the optimiser's step (at
 * most lr per step in Adam's worst case, a gradient element near zero).
 * Measured: at most 5e-7 of a tensor's largest value in the runs below,
 * 4.2e-6 in trial runs (a GRU input weight, Adam, batch 4, 2 epochs).
 * Allowed: 5e-5 of the tensor's largest value, and 2e-5 relative on the
 * logged training loss.
 *
 * The CNN runs with SGD: its convolution biases feed BatchNorm, which
 * removes them, so their true gradient is 0 and their float gradient is
 * rounding noise that Adam's g / sqrt(v) would turn into steps of +-lr:
 * those biases (and the running means that absorb them) would then differ
 * by O(lr) between any two summation orders, one process against itself
 * included.
 *
 * A rank killed mid-run ends the job with mpirun's message naming it, the
 * last checkpoint stays readable, and --resume with another process count
 * completes the run (tests/fixtures/dist/kill_and_resume.sh).
 *
 * prepare on 1, 2 and 3 processes writes byte-identical caches, and one
 * with a rank killed mid-run is finished by the next run with the same
 * bytes (tests/fixtures/dist/prepare_kill_resume.sh). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "pipeline/dist/comm.h"
#include "tensor/safetensors.h"

#define PARAM_RTOL 5e-5
#define LOSS_RTOL 2e-5

static char root[64], out[65536];
static const char *meld;
static int ready;   /* MPI build, mpirun and the corpus are there */

/* Runs "cd ROOT && [mpirun -np N] MELD ARGS" (np 1: no mpirun); stdout and
 * stderr into out; returns the exit status. */
static int run(int np, const char *fmt, ...)
{
    char args[1024], cmd[1600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (np > 1) snprintf(cmd, sizeof cmd, "cd %s && mpirun --oversubscribe -np %d %s %s 2>&1", root, np, meld, args);
    else snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", root, meld, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    meld = getenv("MELD_BIN");
    if (!meld || strcmp(comm_backend(), "MPI") || system("mpirun --version > /dev/null 2>&1") != 0) return 0;
    /* Open MPI refuses to start as root (CI containers) without these. */
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    strcpy(root, "/tmp/meld-dist-XXXXXX");
    if (!mkdtemp(root)) return -1;
    if (run(1, "synth --out corpus --dialogues 8 --seed 5 --size 48") ||
        run(1, "prepare --data corpus --frames 2 --size 32 --mels 16")) {
        fprintf(stderr, "%s", out);
        return -1;
    }
    ready = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!ready) return 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd);
}

#define NEED_MPI()                                                                              \
    do {                                                                                        \
        if (!ready) {                                                                           \
            printf("  not the MPI build (make MPI=1) or no mpirun: skipping\n");                \
            skip();                                                                             \
        }                                                                                       \
    } while (0)

/* Largest |a - b| over a tensor, relative to its largest |a| (at least
 * 1e-3, for tensors that are still near zero). */
static double tensor_difference(const StTensor *a, const StTensor *b)
{
    double diff = 0, scale = 1e-3;
    for (size_t i = 0; i < a->numel; i++) {
        diff = fmax(diff, fabs((double)a->data[i] - b->data[i]));
        scale = fmax(scale, fabs((double)a->data[i]));
    }
    return diff / scale;
}

/* Every parameter and buffer of two checkpoints (not the optimiser state,
 * which follows from them) within PARAM_RTOL; the largest difference is
 * printed. */
static void expect_same_model(const char *run_a, const char *run_b)
{
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "%s/%s/last.safetensors", root, run_a);
    snprintf(pb, sizeof pb, "%s/%s/last.safetensors", root, run_b);
    SafeTensors a, b;
    if (st_load(&a, pa) || st_load(&b, pb)) fail_msg("cannot load %s or %s", pa, pb);
    double worst = 0;
    const char *where = "-";
    int compared = 0;
    for (int i = 0; i < a.n_tensors; i++) {
        const StTensor *ta = &a.tensors[i], *tb = st_find(&b, ta->name);
        if (!strncmp(ta->name, "optim.", 6)) continue;
        if (!tb || tb->numel != ta->numel) fail_msg("%s: tensor %s missing or reshaped in %s", run_a, ta->name, run_b);
        double d = tensor_difference(ta, tb);
        if (d > worst) worst = d, where = ta->name;
        compared++;
    }
    printf("  %-14s vs %-14s %3d tensors, largest difference %.2g of the tensor's scale (%s)\n", run_a, run_b,
           compared, worst, where);
    if (worst > PARAM_RTOL) fail_msg("%s and %s differ by %.3g in %s (allowed %.1g)", run_a, run_b, worst, where, PARAM_RTOL);
    st_free(&a);
    st_free(&b);
}

/* The "train_loss" values of a run's log.jsonl, in order; returns how many. */
static int train_losses(const char *run_dir, double *loss, int cap)
{
    char path[256], line[2048];
    snprintf(path, sizeof path, "%s/%s/log.jsonl", root, run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"train_loss\": ");
        if (p) loss[n++] = atof(p + strlen("\"train_loss\": "));
    }
    fclose(f);
    return n;
}

static void expect_same_losses(const char *run_a, const char *run_b)
{
    double la[64], lb[64];
    int na = train_losses(run_a, la, 64), nb = train_losses(run_b, lb, 64);
    assert_true(na > 0);
    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++)
        if (fabs(la[i] - lb[i]) > LOSS_RTOL * fabs(la[i]))
            fail_msg("epoch %d: training loss %.6f (%s) against %.6f (%s)", i + 1, la[i], run_a, lb[i], run_b);
}

/* One model trained by 1, 2 and 3 processes with the same seed and batch. */
static void same_training_on_1_2_3_processes(const char *name, const char *model_args)
{
    char dirs[3][32];
    for (int np = 1; np <= 3; np++) {
        snprintf(dirs[np - 1], sizeof dirs[0], "%s-np%d", name, np);
        int rc = run(np, "train --data corpus --frames 2 --size 32 --mels 16 --seed 3 --threads 1 --out %s %s",
                     dirs[np - 1], model_args);
        if (rc != 0) fail_msg("%s on %d processes: exit %d\n%s", name, np, rc, out);
    }
    expect_same_model(dirs[0], dirs[1]);
    expect_same_model(dirs[1], dirs[2]);
    expect_same_losses(dirs[0], dirs[1]);
    expect_same_losses(dirs[1], dirs[2]);
}

static void gru_trains_the_same_on_1_2_3_processes(void **state)
{
    (void)state;
    NEED_MPI();
    same_training_on_1_2_3_processes("gru", "--model gru --hidden 8 --batch 3 --epochs 2");
}

static void lstm_trains_the_same_on_1_2_3_processes(void **state)
{
    (void)state;
    NEED_MPI();
    same_training_on_1_2_3_processes("lstm", "--model lstm --hidden 8 --batch 3 --epochs 2");
}

static void melstm_trains_the_same_on_1_2_3_processes(void **state)
{
    (void)state;
    NEED_MPI();
    same_training_on_1_2_3_processes("melstm", "--model melstm --hidden 8 --batch 8 --epochs 1");
}

static void cnn_sync_bn_trains_the_same_on_1_2_3_processes(void **state)
{
    (void)state;
    NEED_MPI();
    same_training_on_1_2_3_processes("cnn", "--model cnn --sync-bn --optim sgd --batch 8 --epochs 1");
}

/* Without --sync-bn each process normalises with its share's statistics,
 * so the running estimates differ until rank 0's are broadcast: the
 * end-of-epoch checksum of parameters and buffers fails the run without. */
static void cnn_per_process_batchnorm_keeps_the_replicas_equal(void **state)
{
    (void)state;
    NEED_MPI();
    int rc = run(2, "train --data corpus --frames 2 --size 32 --mels 16 --seed 3 --threads 1 --out cnn-own-bn "
                    "--model cnn --optim sgd --batch 8 --epochs 1");
    if (rc != 0) fail_msg("cnn on 2 processes without --sync-bn: exit %d\n%s", rc, out);
}

/* Evaluation split over the processes prints the report of one process
 * (batches of one dialogue, so that every process has some). */
static void eval_report_is_the_same_on_3_processes(void **state)
{
    (void)state;
    NEED_MPI();
    static char one[sizeof out];
    assert_int_equal(run(1, "eval gru-np1/best.safetensors --data corpus --split test --batch 1 --json"), 0);
    snprintf(one, sizeof one, "%s", out);
    assert_int_equal(run(3, "eval gru-np1/best.safetensors --data corpus --split test --batch 1 --json"), 0);
    assert_string_equal(out, one);
}

/* Runs "sh tests/fixtures/dist/SCRIPT ARGS", shows what it printed, and
 * expects exit status 0. */
static void fixture_passes(const char *fmt, ...)
{
    char args[1024], cmd[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "sh tests/fixtures/dist/%s 2>&1", args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    printf("%s", out);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* prepare on 1, 2 and 3 processes writes the cache of setup()'s single
 * process byte for byte: the shards are the same whoever decodes them, and
 * rank 0 assembles them in the same order. */
static void prepare_writes_the_same_cache_on_1_2_3_processes(void **state)
{
    (void)state;
    NEED_MPI();
    for (int np = 1; np <= 3; np++) {
        int rc = run(np, "prepare --data corpus --frames 2 --size 32 --mels 16 --threads 1 --out cache-np%d", np);
        if (rc != 0) fail_msg("prepare on %d processes: exit %d\n%s", np, rc, out);
        for (int s = 0; s < 3; s++) {
            static const char *const splits[] = {"train", "dev", "test"};
            char cmd[256];
            snprintf(cmd, sizeof cmd, "cmp %s/corpus/cache/%s.meldcache %s/cache-np%d/%s.meldcache", root, splits[s],
                     root, np, splits[s]);
            if (system(cmd) != 0) fail_msg("%s.meldcache of %d processes differs from one process's", splits[s], np);
        }
    }
}

static void killed_rank_in_prepare_ends_the_job_and_a_rerun_finishes_it(void **state)
{
    (void)state;
    NEED_MPI();
    fixture_passes("prepare_kill_resume.sh %s %s %s/corpus/cache", meld, root, root);
}

static void killed_rank_ends_the_job_and_resume_completes(void **state)
{
    (void)state;
    NEED_MPI();
    fixture_passes("kill_and_resume.sh %s %s", meld, root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gru_trains_the_same_on_1_2_3_processes),
        cmocka_unit_test(lstm_trains_the_same_on_1_2_3_processes),
        cmocka_unit_test(melstm_trains_the_same_on_1_2_3_processes),
        cmocka_unit_test(cnn_sync_bn_trains_the_same_on_1_2_3_processes),
        cmocka_unit_test(cnn_per_process_batchnorm_keeps_the_replicas_equal),
        cmocka_unit_test(eval_report_is_the_same_on_3_processes),
        cmocka_unit_test(killed_rank_ends_the_job_and_resume_completes),
        cmocka_unit_test(prepare_writes_the_same_cache_on_1_2_3_processes),
        cmocka_unit_test(killed_rank_in_prepare_ends_the_job_and_a_rerun_finishes_it),
    };
    return cmocka_run_group_tests_name("dist: data parallelism under mpirun", tests, setup, teardown);
}
