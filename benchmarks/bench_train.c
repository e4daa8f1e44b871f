/* ./bench train: time of one training step of each MELD model, at 1 and N
 * threads, beside the same model in PyTorch, in one invocation.
 *
 * A step is exactly what pipeline/train/train.c's train_epoch does per batch:
 *     forward -> meld_model_loss (emotion CE + sentiment CE, masked mean,
 *     no class weights) -> graph_backward -> optim_clip_grad_norm (5)
 *     -> optim_step -> optim_zero_grad -> graph_reset
 * with the model's default optimiser and learning rate (lstm Adadelta,
 * the others Adam). The batch is filled once, by hand, with seeded random
 * data (tensor/rng.h), so no corpus or cache is needed; it lives on the
 * heap, outside the graph's arena, like a torch tensor made once before
 * the loop. Shapes (benchmarks/torch_train.py builds the same):
 *
 *   lstm, gru  50 dialogues x 33 utterances x 1611 features (the MELD
 *              baseline's audio vector), right-padded: dialogue 0 has 33
 *              utterances, dialogue i > 0 has 1 + below(27) drawn from
 *              PCG32(seed 1, stream 7) (59 % of the grid is padding).
 *              rnn_hidden 300.
 *   melstm     32 utterances x 300 log-Mel frames x 40, all frames valid,
 *              mel_hidden 128.
 *   melstm-var the same model and tensors, but utterance u has 75 +
 *              below(226) valid frames (PCG32 seed 1, stream 8), the rest
 *              masked: real clips differ in length, and our masked LSTM
 *              skips the padded frames (torch: padded and packed).
 *   cnn        32 utterances x 1 face frame 3x64x64 (frames_used 1).
 *   fusion     32 utterances: mel 300 x 40 (mel_hidden 64, `meld train`'s
 *              default for fusion --audio mel) + 4 frames 3x64x64 each; no
 *              --context; with its training aids (auxiliary heads, modality
 *              dropout), as torch_train.py's Fusion.
 *
 * Timing: `warmup` steps, then the median (and minimum) of `steps` steps,
 * per thread count (threadpool_set_threads). utterances/s = the batch's
 * real utterances / median step time. The loss of the first and of the
 * last step is printed as a sanity check (the optimiser is fitting one
 * fixed random batch, so it should fall).
 *
 * PyTorch: when `/usr/bin/python3 -c 'import torch'` works, the script
 * benchmarks/torch_train.py times the same steps in subprocesses, one per
 * setting: 1 thread; N threads with the default OpenMP wait policy; N
 * threads with OMP_WAIT_POLICY=PASSIVE (on a small shared machine libgomp's
 * spinning workers can make torch slower with 2 threads than with 1, so the
 * comparison at N threads uses torch's faster setting). Each process also
 * gets OPENBLAS_NUM_THREADS = its thread count and OPENBLAS_CORETYPE = the
 * kernel for this CPU (see child_env): torch as installed here runs its
 * GEMMs in OpenBLAS's SSE3 kernels, which would flatter us 3-7x. For
 * lstm/gru (and melstm-var) torch runs both on the padded batch ("padded":
 * the RNN computes every step, padding included) and with
 * pack_padded_sequence ("packed": only the real steps, which is what our
 * masked RNN does). speedup = torch ms / ours ms. Each model's torch runs
 * come right after ours, so both see the machine in the same state; with
 * --rounds N that pair is repeated N times and the table gives the medians
 * (of the times, and of the rounds' own speed-ups), since this VM's speed
 * drifts by tens of percent over minutes.
 * The subprocess is started by benchmarks/child.c, with a fixed argument vector
 * (model names from the case table in train_cases.c, numbers we format): no shell, no
 * user text in it. No timing is asserted anywhere. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "benchmarks/child.h"
#include "benchmarks/kernel_timing.h"
#include "benchmarks/train_cases.h"
#include "optim/optim.h"
#include "pipeline/models/models.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

extern char **environ;

enum { MAX_THREAD_RUNS = 2, MAX_ROUNDS = 9, MAX_TORCH_ROWS = 6 * 6 * MAX_ROUNDS };

/* ---- one model: train, time ---------------------------------------------------- */

/* One training step; *loss gets its value. */
static int train_step(Trainer *t, float *loss)
{
    MeldModel *m = t->model;
    const Batch *b = &t->batch.b;
    Tensor *le = NULL, *ls = NULL, *l = NULL;
    float parts[2];
    int rc = m->kind->forward(m, &t->g, b, &le, &ls);
    if (rc == MELD_OK && !(l = meld_model_loss(m, &t->g, b, le, ls, NULL, NULL, parts))) rc = MELD_ERR;
    if (rc == MELD_OK) rc = graph_backward(&t->g, l);
    if (rc == MELD_OK) {
        *loss = l->data[0];
        optim_clip_grad_norm(t->params, t->n_params, BENCH_GRAD_CLIP);
        rc = optim_step(t->opt, t->params, t->n_params);
        optim_zero_grad(t->params, t->n_params);
    }
    graph_reset(&t->g);
    return rc;
}

typedef struct {
    int threads;
    double median_ms, min_ms;
    float loss_first, loss_last;
} StepTiming;

static int time_steps(Trainer *t, int threads, int warmup, int steps, StepTiming *out)
{
    if (threadpool_set_threads(threads)) return MELD_ERR;
    double ms[1000];
    float loss = 0;
    out->threads = threads;
    for (int i = 0; i < warmup + steps; i++) {
        double t0 = bench_now();
        if (train_step(t, &loss)) return MELD_ERR;
        if (i >= warmup) ms[i - warmup] = (bench_now() - t0) * 1e3;
        if (i == 0) out->loss_first = loss;
    }
    out->loss_last = loss;
    out->median_ms = bench_median(ms, steps);   /* sorts ms */
    out->min_ms = ms[0];
    return MELD_OK;
}

typedef struct {
    const TrainCase *c;
    size_t n_params;
    int n_utts, grid;
    StepTiming run[MAX_THREAD_RUNS];
    int n_runs;
} CaseResult;

/* Times one case at 1 and max_threads threads, printing a line per run. */
static int bench_case(const TrainCase *c, int max_threads, int warmup, int steps, CaseResult *res)
{
    Trainer t;
    memset(res, 0, sizeof *res);
    res->c = c;
    int rc = trainer_init(&t, c, 0, train_case_items(c));
    if (rc == MELD_OK) {
        res->n_params = meld_model_param_count(t.model);
        res->n_utts = t.batch.b.n_utts;
        res->grid = t.batch.b.B * t.batch.b.T;
        const Batch *b = &t.batch.b;
        double valid = 0;
        for (size_t i = 0; b->mel_mask && i < b->mel_mask->size; i++) valid += b->mel_mask->data[i];
        double pad = b->mel_mask ? 1.0 - valid / (double)b->mel_mask->size : (double)(res->grid - res->n_utts) / res->grid;
        printf("%-10s %s\n           %zu parameters, %d utterances, %.1f%% padding (%s), load %.2f\n", c->name,
               c->input, res->n_params, res->n_utts, 100.0 * pad, b->mel_mask ? "log-Mel frames" : "label grid",
               bench_load_average());
    }
    int threads[MAX_THREAD_RUNS] = {1, max_threads};
    for (int k = 0; rc == MELD_OK && k < (max_threads > 1 ? 2 : 1); k++) {
        StepTiming *s = &res->run[res->n_runs];
        rc = time_steps(&t, threads[k], warmup, steps, s);
        if (rc != MELD_OK) break;
        res->n_runs++;
        printf("           %d thread%s: %9.1f ms/step (min %9.1f)  %8.1f utt/s   loss %.4f -> %.4f\n", s->threads,
               s->threads > 1 ? "s" : " ", s->median_ms, s->min_ms, res->n_utts / (s->median_ms * 1e-3), s->loss_first,
               s->loss_last);
        fflush(stdout);
    }
    trainer_free(&t);
    return rc;
}

/* ---- PyTorch ------------------------------------------------------------------ */

typedef struct {
    char model[16], variant[8];
    int threads, passive, utts, round;
    double median_ms, min_ms;
} TorchRow;

typedef struct {
    TorchRow row[MAX_TORCH_ROWS];
    int n;
} TorchResults;

/* benchmarks/torch_train.py beside the ./bench binary, else in the working directory. */
static void script_path(char *buf, size_t cap)
{
    char exe[1024];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/benchmarks/torch_train.py", exe);
            if (access(buf, R_OK) == 0) return;
        }
    }
    snprintf(buf, cap, "benchmarks/torch_train.py");
}

/* The OpenBLAS kernel for this CPU. Debian's torch does its GEMMs in
 * OpenBLAS, whose run-time CPU detection does not recognise every
 * virtualised CPU: on this project's VM ("Intel Xeon Processor", AVX-512)
 * it falls back to its Prescott (SSE3) kernels, 4x slower than SkylakeX.
 * Naming the core gives torch its real speed; NULL: leave it to OpenBLAS. */
static const char *openblas_core(void)
{
    CpuIsa isa = cpu_isa_detected();
    return isa == CPU_ISA_AVX512 ? "SkylakeX" : isa == CPU_ISA_AVX2 ? "Haswell" : NULL;
}

/* The environment for python: ours without the OpenMP/OpenBLAS thread and
 * wait-policy variables, then
 *   OMP_WAIT_POLICY=PASSIVE         when passive;
 *   OPENBLAS_NUM_THREADS=threads    torch.set_num_threads does not limit
 *                                   OpenBLAS (pthreads build): without this,
 *                                   "1 thread" would run GEMMs on every core;
 *   OPENBLAS_CORETYPE=...           openblas_core(), unless already set.
 * NULL-terminated malloc'd array of borrowed strings (the added ones live
 * in bufs, 2 x 64 bytes). */
static char **child_env(bool passive, int threads, char bufs[2][64])
{
    static const char *const DROP[] = {"OMP_WAIT_POLICY=", "OPENBLAS_NUM_THREADS=", "OMP_NUM_THREADS="};
    static char passive_policy[] = "OMP_WAIT_POLICY=PASSIVE";
    size_t n = 0;
    bool has_core = false;
    while (environ[n]) has_core |= !strncmp(environ[n++], "OPENBLAS_CORETYPE=", 18);
    char **env = calloc(n + 4, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = false;
        for (size_t d = 0; d < sizeof DROP / sizeof DROP[0]; d++) drop |= !strncmp(environ[i], DROP[d], strlen(DROP[d]));
        if (!drop) env[k++] = environ[i];
    }
    if (passive) env[k++] = passive_policy;
    snprintf(bufs[0], 64, "OPENBLAS_NUM_THREADS=%d", threads);
    env[k++] = bufs[0];
    const char *core = has_core ? getenv("OPENBLAS_CORETYPE") : openblas_core();
    snprintf(bufs[1], 64, "OPENBLAS_CORETYPE=%s", core ? core : "(OpenBLAS's own detection)");
    if (!has_core && core) env[k++] = bufs[1];
    return env;
}

static bool torch_available(void)
{
    char py[] = "/usr/bin/python3", c[] = "-c", code[] = "import torch";
    char *argv[] = {py, c, code, NULL}, bufs[2][64];
    char **env = child_env(false, 1, bufs);
    int status = env ? bench_run_child(argv, env, NULL, NULL) : -1;
    free(env);
    return status == 0;
}

typedef struct {
    TorchResults *out;
    bool passive;
    int round;
} TorchParse;

static void torch_line(void *ctx, const char *line)
{
    TorchParse *p = ctx;
    TorchRow r = {.passive = p->passive, .round = p->round};
    if (sscanf(line, "RESULT model=%15s variant=%7s threads=%d median_ms=%lf min_ms=%lf utts=%d", r.model, r.variant,
               &r.threads, &r.median_ms, &r.min_ms, &r.utts) == 6) {
        if (p->out->n < MAX_TORCH_ROWS) p->out->row[p->out->n++] = r;
    } else {
        printf("  torch: %s\n", line);
    }
}

/* One python process: the listed models at one thread count. */
static int torch_run(const char *models, int threads, int warmup, int steps, bool passive, int round,
                     TorchResults *out)
{
    char script[1100], steps_s[16], warm_s[16], m_arg[128], t_arg[16], env_bufs[2][64];
    script_path(script, sizeof script);
    snprintf(steps_s, sizeof steps_s, "%d", steps);
    snprintf(warm_s, sizeof warm_s, "%d", warmup);
    snprintf(m_arg, sizeof m_arg, "%s", models);
    snprintf(t_arg, sizeof t_arg, "%d", threads);
    char py[] = "/usr/bin/python3", o_models[] = "--models", o_threads[] = "--threads", o_steps[] = "--steps",
         o_warm[] = "--warmup";
    char *argv[] = {py, script, o_models, m_arg, o_threads, t_arg, o_steps, steps_s, o_warm, warm_s, NULL};
    char **env = child_env(passive, threads, env_bufs);
    if (!env) return MELD_ERR;
    printf("running PyTorch: %s --threads %d, OMP_WAIT_POLICY=%s %s %s, load %.2f\n", script, threads,
           passive ? "PASSIVE" : "(default)", env_bufs[0], env_bufs[1], bench_load_average());
    fflush(stdout);
    TorchParse p = {out, passive, round};
    int status = bench_run_child(argv, env, torch_line, &p);
    free(env);
    if (status != 0) return meld_errorf("%s exited with status %d", script, status);
    return MELD_OK;
}

/* torch's row for (model, variant, threads) in a round: at 1 thread the
 * default policy, above it the faster of the two policies. NULL if absent. */
static const TorchRow *torch_best(const TorchResults *t, const char *model, const char *variant, int threads,
                                  int round)
{
    const TorchRow *best = NULL;
    for (int i = 0; i < t->n; i++) {
        const TorchRow *r = &t->row[i];
        if (strcmp(r->model, model) || strcmp(r->variant, variant) || r->threads != threads || r->round != round)
            continue;
        if (threads == 1 && r->passive) continue;
        if (!best || r->median_ms < best->median_ms) best = r;
    }
    return best;
}

/* ---- report ------------------------------------------------------------------- */

/* The torch cell of (model, variant, threads) over the rounds: the median
 * torch time and the median of the per-round speed-ups (torch and ours of
 * the same round ran back to back). ours[r] = our median in round r. */
static void print_torch_cell(const TorchResults *t, const char *model, const char *variant, int threads,
                             const double *ours, int rounds)
{
    double tm[MAX_ROUNDS], ratio[MAX_ROUNDS];
    int n = 0, passive = 0;
    for (int r = 0; r < rounds; r++) {
        const TorchRow *row = torch_best(t, model, variant, threads, r);
        if (!row) continue;
        tm[n] = row->median_ms, ratio[n] = row->median_ms / ours[r], passive += row->passive;
        n++;
    }
    if (n == 0) {
        printf(" | %9s %-8s %7s", "-", "", "");
        return;
    }
    printf(" | %9.1f %-8s %6.2fx", bench_median(tm, n), threads == 1 ? "" : 2 * passive > n ? "PASSIVE" : "default",
           bench_median(ratio, n));
}

/* res[i * rounds + r]: case i, round r. */
static void print_comparison(const CaseResult *res, int n, int rounds, const TorchResults *torch)
{
    printf("\nms per training step (median%s), speedup = PyTorch ms / ours ms%s; PyTorch at N threads: its faster "
           "OMP_WAIT_POLICY\n", rounds > 1 ? " over the rounds" : "",
           rounds > 1 ? " (median of the rounds' ratios)" : "");
    printf("%-10s %3s | %9s %9s | %9s %-8s %7s | %9s %-8s %7s\n", "model", "thr", "ours ms", "utt/s", "torch ms",
           "policy", "speedup", "packed ms", "policy", "speedup");
    for (int i = 0; i < n; i++) {
        const CaseResult *first = &res[i * rounds];
        for (int k = 0; k < first->n_runs; k++) {
            double ours[MAX_ROUNDS], sorted[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) ours[r] = sorted[r] = res[i * rounds + r].run[k].median_ms;
            double med = bench_median(sorted, rounds);
            int threads = first->run[k].threads;
            printf("%-10s %3d | %9.1f %9.1f", first->c->name, threads, med, first->n_utts / (med * 1e-3));
            if (torch) {
                print_torch_cell(torch, first->c->name, "padded", threads, ours, rounds);
                if (torch_best(torch, first->c->name, "packed", threads, 0))
                    print_torch_cell(torch, first->c->name, "packed", threads, ours, rounds);
            }
            printf("\n");
        }
    }
}

static void print_torch_raw(const TorchResults *t, const CaseResult *res, int n)
{
    printf("\nPyTorch, every setting (ms per step):\n%-10s %-7s %3s %-8s %5s %9s %9s %6s\n", "model", "variant", "thr",
           "policy", "round", "median", "min", "utts");
    for (int i = 0; i < t->n; i++) {
        const TorchRow *r = &t->row[i];
        printf("%-10s %-7s %3d %-8s %5d %9.1f %9.1f %6d", r->model, r->variant, r->threads,
               r->passive ? "PASSIVE" : "default", r->round + 1, r->median_ms, r->min_ms, r->utts);
        for (int k = 0; k < n; k++)
            if (!strcmp(res[k].c->name, r->model) && res[k].n_utts != r->utts)
                printf("  (ours has %d utterances: inputs differ!)", res[k].n_utts);
        printf("\n");
    }
}

/* ---- command line ------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench train [--model lstm|gru|melstm|melstm-var|cnn|fusion|all] [--threads N]\n"
            "                   [--steps N] [--warmup N] [--rounds N] [--no-torch]\n"
            "       bench train --mpi ...   (data-parallel steps under mpirun: bench train --mpi --help)\n"
            "\n"
            "Median ms per training step (forward + loss + backward + clip + optimiser) of\n"
            "each model on a seeded random batch, at 1 and N threads (default 2), and the same\n"
            "steps in PyTorch (benchmarks/torch_train.py) when /usr/bin/python3 has torch.\n"
            "--rounds N repeats ours-then-PyTorch N times per model and reports medians: the\n"
            "speed of this VM drifts by tens of percent over minutes.\n"
            "Defaults: --model all --steps 10 --warmup 2 --rounds 1.\n");
}

int bench_train(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--mpi") || !strcmp(argv[i], "--mpi-worker")) return bench_train_mpi(argc, argv);
    const char *model = "all";
    int threads = 2, steps = 10, warmup = 2, rounds = 1;
    bool with_torch = true;
    for (int i = 1; i < argc;) {
        const char *a = argv[i++], *v = i < argc ? argv[i] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--no-torch")) { with_torch = false; continue; }
        int bad = 0;
        if (!strcmp(a, "--model") && v) model = v;
        else if (!strcmp(a, "--threads")) bad = bench_train_int_option(a, v, 1, 64, &threads);
        else if (!strcmp(a, "--steps")) bad = bench_train_int_option(a, v, 1, 1000, &steps);
        else if (!strcmp(a, "--warmup")) bad = bench_train_int_option(a, v, 0, 100, &warmup);
        else if (!strcmp(a, "--rounds")) bad = bench_train_int_option(a, v, 1, MAX_ROUNDS, &rounds);
        else {
            fprintf(stderr, "bench train: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) return 2;
        i++; /* the option's value */
    }
    /* The selected cases. */
    const TrainCase *sel[BENCH_TRAIN_CASES];
    int n = 0;
    for (int i = 0; i < BENCH_TRAIN_CASES; i++)
        if (!strcmp(model, "all") || !strcmp(model, BENCH_CASES[i].name)) sel[n++] = &BENCH_CASES[i];
    if (n == 0) {
        fprintf(stderr, "bench train: unknown model '%s' (lstm, gru, melstm, melstm-var, cnn, fusion, all)\n", model);
        return 2;
    }
    printf("bench train: ms per training step = forward + loss + backward + clip_grad_norm(5) + optimiser,\n"
           "median of %d steps after %d warm-up, seeded random batch; %d online cores, load %.2f\n\n", steps, warmup,
           threadpool_online_cores(), bench_load_average());
    /* Each model's torch runs follow ours straight away: this virtual
     * machine's speed drifts by up to 30 % over minutes (other tenants), and
     * adjacent runs see the same machine. */
    static TorchResults torch;
    torch.n = 0;
    bool have_torch = false;
    if (!with_torch) {
        printf("PyTorch: skipped (--no-torch)\n\n");
    } else if (!torch_available()) {
        printf("PyTorch: not available (/usr/bin/python3 -c 'import torch' failed): ours only\n\n");
    } else {
        have_torch = true;
    }
    static CaseResult res[BENCH_TRAIN_CASES * MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rounds; r++) {
            if (rounds > 1) printf("round %d of %d\n", r + 1, rounds);
            if (bench_case(sel[i], threads, warmup, steps, &res[i * rounds + r])) {
                fprintf(stderr, "bench train: %s: %s\n", sel[i]->name, meld_error());
                return 1;
            }
            if (!have_torch) continue;
            const char *name = sel[i]->name;
            have_torch = torch_run(name, 1, warmup, steps, false, r, &torch) == MELD_OK;
            if (have_torch && threads > 1) have_torch = torch_run(name, threads, warmup, steps, false, r, &torch) == MELD_OK;
            if (have_torch && threads > 1) have_torch = torch_run(name, threads, warmup, steps, true, r, &torch) == MELD_OK;
            if (!have_torch) printf("PyTorch: failed (%s): ours only\n", meld_error());
            printf("\n");
        }
    print_comparison(res, n, rounds, have_torch ? &torch : NULL);
    if (have_torch) print_torch_raw(&torch, res, n * rounds);
    printf("\nload at the end: %.2f\n", bench_load_average());
    return 0;
}
