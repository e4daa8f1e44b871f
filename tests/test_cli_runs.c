/* `meld train` run folders and what users see, end to end through the
 * ./meld program on a tiny synthetic corpus: an existing run is never
 * overwritten unasked, default folder names, the run folder's lock and its
 * holder's name, the training flags with --flag=value, provenance in every
 * output, SIGINT/SIGTERM (exit 130, the exact command to resume, which
 * then ends with the same bytes as an uninterrupted run), kill -9 at
 * random points followed by --resume (same bytes again), NaN never printed
 * as a number, predict reading only the streams a model needs, an --out
 * longer than any buffer, the progress line on a 60-column terminal, and
 * the HTML report (escaped; rendered in headless chromium when it is
 * installed). Needs MELD_BIN (make test sets it). */
#define _GNU_SOURCE   /* posix_openpt and friends */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/safetensors.h"
#include "video/image.h"

static char root[64], out[65536];
static const char *meld;

/* The small model every run here trains, on the corpus made in setup. */
#define TINY "--data corpus --frames 2 --size 32 --mels 16 --batch 2"
#define GRU TINY " --model gru --hidden 8"
#define FUSION TINY " --model fusion --audio mel --hidden 8"

static void vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
    if ((size_t)vsnprintf(buf, cap, fmt, ap) >= cap) fail_msg("command too long: %s", fmt);
}

/* Runs "sh -c 'cd ROOT && TEXT'", stdout+stderr into out (or only stdout
 * with 2>/dev/null in TEXT); returns the exit status. */
static int shell(const char *fmt, ...)
{
    char text[8192], cmd[8400];
    va_list ap;
    va_start(ap, fmt);
    vformat(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && { %s; }", root, text);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* meld ARGS with stderr too. */
static int run(const char *fmt, ...)
{
    char args[8000];
    va_list ap;
    va_start(ap, fmt);
    vformat(args, sizeof args, fmt, ap);
    va_end(ap);
    return shell("%s %s 2>&1", meld, args);
}

static void expect(const char *what)
{
    if (!strstr(out, what)) fail_msg("expected '%s' in output:\n%s", what, out);
}

static void expect_not(const char *what)
{
    if (strstr(out, what)) fail_msg("did not expect '%s' in output:\n%s", what, out);
}

static void expect_start(const char *what)
{
    if (strncmp(out, what, strlen(what))) fail_msg("expected the output to start with '%s':\n%.300s", what, out);
}

/* No "nan" or "inf" printed as a number (file names may hold the letters). */
static void expect_no_nan(void)
{
    for (const char *p = out; (p = strpbrk(p, "ni")); p++) {
        bool word_start = p == out || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_');
        if (word_start && (!strncmp(p, "nan", 3) || !strncmp(p, "inf", 3)) && p[3] != '.' &&
            !((p[3] >= 'a' && p[3] <= 'z') || p[3] == '_'))
            fail_msg("a non-finite number printed: ...%.40s...", p > out + 20 ? p - 20 : out);
    }
}

/* A file under root into out. */
static void slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: cannot open", path);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
}

static bool same_bytes(const char *a, const char *b)
{
    return shell("cmp -s '%s' '%s'", a, b) == 0;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

static int setup(void **state)
{
    (void)state;
    meld = getenv("MELD_BIN");
    if (!meld) return 0;
    strcpy(root, "/tmp/meld-runs-XXXXXX");
    if (!mkdtemp(root)) return -1;
    /* the corpus and its cache (the first training prepares it) */
    return run("synth --out corpus --dialogues 8 --seed 5 --size 48") == 0 &&
                   run("train " GRU " --epochs 1 --out warmup") == 0
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (!meld) return 0;
    return shell("rm -rf %s", root);
}

#define NEED_MELD()                                                           \
    do {                                                                      \
        if (!meld) {                                                          \
            printf("  MELD_BIN not set: skipping (run through make test)\n"); \
            skip();                                                           \
        }                                                                     \
    } while (0)

/* ---- run folders ------------------------------------------------------------------ */

static void an_existing_run_is_never_overwritten_unasked(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train " GRU " --epochs 2 --out keep"), 0);
    expect("trained 2 epochs");
    assert_int_equal(shell("cp keep/best.safetensors best.copy && cp keep/log.jsonl log.copy"), 0);
    assert_int_equal(run("train " GRU " --epochs 1 --out keep"), 1);
    expect("meld train: keep holds a run (best.safetensors, last.safetensors, log.jsonl): continue it with --resume, "
           "replace it with --overwrite, or choose another --out");
    assert_true(same_bytes("keep/best.safetensors", "best.copy"));
    assert_true(same_bytes("keep/log.jsonl", "log.copy"));
    assert_int_equal(run("train " GRU " --epochs 1 --out keep --resume --overwrite"), 2);
    expect("give one");
    /* --overwrite replaces it: the new log has the new run only */
    assert_int_equal(run("train " GRU " --epochs 1 --out keep --overwrite"), 0);
    expect("trained 1 epoch in");   /* one epoch, not "1 epochs" */
    slurp("keep/log.jsonl");
    assert_int_equal(count(out, "\"event\": \"start\""), 1);
    assert_int_equal(count(out, "\"event\": \"epoch\""), 1);
    /* a resume must continue the same model on the same corpus and cache */
    assert_int_equal(run("train " TINY " --model cnn --epochs 2 --out keep --resume"), 1);
    expect("resuming from keep/last.safetensors: it holds a gru run; this command trains cnn");
    assert_int_equal(shell("cp -r corpus other && rm -rf other/cache && sed -i '3s/,neutral,neutral,/,joy,positive,/' other/train_sent_emo.csv"),
                     0);
    assert_int_equal(run("train " GRU " --data other --epochs 2 --out keep --resume"), 1);
    expect("it was trained on another corpus or feature cache (cache hash ");
    /* --resume where nothing was saved yet starts at epoch 1 */
    assert_int_equal(run("train " GRU " --epochs 1 --out fresh --resume"), 0);
    expect("meld train: warning: fresh has no last.safetensors yet: starting at epoch 1\nmeld train: model gru");
    /* parents are created */
    assert_int_equal(run("train " GRU " --epochs 1 --out a/b/c"), 0);
    assert_int_equal(shell("test -f a/b/c/best.safetensors"), 0);
}

/* Without --out: runs/ plus the model and its variant. */
static void default_folders_name_the_model_and_variant(void **state)
{
    (void)state;
    NEED_MELD();
    const char *cases[][2] = {
        {GRU, "runs/gru"},
        {GRU " --task emotion", "runs/gru-emotion"},
        {FUSION, "runs/fusion-mel"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(run("train %s --epochs 1", cases[i][0]), 0);
        char line[128];
        snprintf(line, sizeof line, "run folder %s,", cases[i][1]);
        expect(line);
        assert_int_equal(shell("test -f %s/best.safetensors", cases[i][1]), 0);
    }
}

/* The lock: another holder is named; two processes never share a folder. */
static void a_locked_run_folder_names_its_holder(void **state)
{
    (void)state;
    NEED_MELD();
    char dir[128], lock[160];
    snprintf(dir, sizeof dir, "%s/held", root);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    const char *who = "pid 4242, started 2024-05-01 12:00:03 UTC: meld train --model gru --out held\n";
    assert_int_equal(write(fd, who, strlen(who)), (ssize_t)strlen(who));
    assert_int_equal(run("train " GRU " --epochs 1 --out held"), 1);
    expect("meld train: held is in use by another run (pid 4242, started 2024-05-01 12:00:03 UTC: meld train "
           "--model gru --out held); wait for it to end or choose another --out");
    assert_int_equal(run("train " GRU " --epochs 1 --out held --resume"), 1);
    expect("in use by another run (pid 4242");
    close(fd);   /* released: the folder is free again */
    assert_int_equal(run("train " GRU " --epochs 1 --out held"), 0);

    /* Two at once into one new folder: one trains, the other is refused,
     * by the lock or (if the first was already done) as a folder that holds a run. */
    assert_int_equal(shell("(%s train " FUSION " --epochs 2 --out twin > twin1.txt 2>&1; echo $? > twin1.rc) & "
                           "(%s train " FUSION " --epochs 2 --out twin > twin2.txt 2>&1; echo $? > twin2.rc) & wait",
                           meld, meld),
                     0);
    assert_int_equal(shell("cat twin1.rc twin2.rc | sort | tr '\\n' ' '"), 0);
    assert_string_equal(out, "0 1 ");
    assert_int_equal(shell("cat twin1.txt twin2.txt"), 0);
    /* (the holder may not have written who it is yet: "its holder has not said") */
    if (!strstr(out, "twin is in use by another run (") && !strstr(out, "twin holds a run"))
        fail_msg("the refused run did not say why:\n%s", out);
    slurp("twin/log.jsonl");
    assert_int_equal(count(out, "\"event\": \"start\""), 1);
}

/* ---- flags ------------------------------------------------------------------------ */

static void training_flags_take_flag_equals_value(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train " TINY " --model=gru --hidden=8 --epochs=2 --batch-size=2 --lr=0.01 --clip-norm=0 "
                         "--weight-decay=0.01 --schedule=step:step_size=1,gamma=0.5 --patience=3 --seed=7 --out flags"),
                     0);
    slurp("flags/log.jsonl");
    expect("\"schedule\": \"step:step_size=1,gamma=0.5\"");
    expect("\"clip_norm\": 0,");
    expect("\"hparams\": \"lr=0.01,weight_decay=0.01,");
    expect("\"batch\": 2,");
    expect("\"patience\": 3,");
    expect("\"seed\": 7,");
    /* the schedule halves the learning rate after every epoch */
    expect("\"epoch\": 1, \"step\": 3, \"lr\": 0.01,");
    expect("\"epoch\": 2, \"step\": 6, \"lr\": 0.005,");
    /* every one in --help with its default */
    assert_int_equal(run("train --help"), 0);
    expect("--clip-norm X");
    expect("0: no clipping\n                          (default: 5)");
    expect("--weight-decay X");
    expect("(default: the optimiser's\n                          own: sgd 0, adam 0, adamw 0.01");
    expect("--schedule SPEC");
    expect("(default:\n                          constant)");
    expect("--batch N, --batch-size N");
    expect("--seed S");
    assert_int_equal(run("train --clip-nrm 3"), 2);
    expect("unknown option '--clip-nrm' (did you mean --clip-norm?)");
    assert_int_equal(run("train --schedule=cosine"), 2);
    expect("meld train: --schedule: ");
    assert_int_equal(run("train --weight-decay=-1"), 2);
    expect("--weight-decay expects a number in [0, 10], got '-1'");
}

/* ---- provenance ------------------------------------------------------------------- */

static void provenance_in_every_output(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(shell("%s train " GRU " --epochs 1 --json --out prov 2>/dev/null", meld), 0);
    expect("{\"event\": \"epoch\", ");
    expect("\"provenance\": {\"corpus\": \"synthetic\", \"data\": \"corpus\", \"seed\": 5, \"cache\": \"corpus/cache\", "
           "\"cache_hash\": \"");
    expect("\"model\": \"gru\", \"command\": \"meld train " GRU " --epochs 1 --json --out prov\", \"version\": \"meld ");
    expect("\"split\": \"test\"");
    slurp("prov/log.jsonl");
    expect("{\"event\": \"start\", ");
    expect("\"provenance\": {\"corpus\": \"synthetic\", \"data\": \"corpus\", \"seed\": 5,");
    expect("\"lr\": ");
    expect("\"train_emotion_accuracy\": ");
    expect("\"train_sentiment_weighted_f1\": ");
    expect("\"seconds\": ");
    expect("\"time\": \"20");
    expect("{\"event\": \"stop\", ");
    /* the checkpoints' metadata */
    const char *files[] = {"best", "last"};
    for (int k = 0; k < 2; k++) {
        char path[256];
        snprintf(path, sizeof path, "%s/prov/%s.safetensors", root, files[k]);
        SafeTensors st;
        st_init(&st);
        assert_int_equal(st_load(&st, path), MELD_OK);
        assert_string_equal(st_get_meta(&st, "provenance.corpus"), "synthetic");
        assert_string_equal(st_get_meta(&st, "provenance.seed"), "5");
        assert_string_equal(st_get_meta(&st, "provenance.data"), "corpus");
        assert_string_equal(st_get_meta(&st, "provenance.model"), "gru");
        assert_string_equal(st_get_meta(&st, "provenance.command"), "meld train " GRU " --epochs 1 --json --out prov");
        assert_non_null(st_get_meta(&st, "provenance.cache_hash"));
        assert_true(!strncmp(st_get_meta(&st, "provenance.version"), "meld ", 5));
        st_free(&st);
    }
    /* eval: text (the first line names the corpus) and JSON */
    assert_int_equal(shell("%s eval prov/best.safetensors --data corpus 2>/dev/null", meld), 0);
    expect_start("synthetic corpus corpus (seed 5, generated, not MELD); cache corpus/cache (hash ");
    expect("\nmodel gru, checkpoint prov/best.safetensors (epoch 1); trained by: meld train ");
    assert_int_equal(shell("%s eval prov/best.safetensors --data corpus --json 2>/dev/null", meld), 0);
    expect("{\"provenance\": {\"corpus\": \"synthetic\", \"data\": \"corpus\", \"seed\": 5,");
    expect("\"command\": \"meld eval prov/best.safetensors --data corpus --json\"");
    expect("\"model\": {\"checkpoint\": \"prov/best.safetensors\", \"epoch\": 1, \"provenance\": {\"corpus\": \"synthetic\"");
    /* A corpus without the synthetic description counts as MELD. */
    assert_int_equal(shell("cp -r corpus plain && rm -rf plain/cache plain/synthetic-corpus.txt"), 0);
    assert_int_equal(shell("%s eval prov/best.safetensors --data plain 2>/dev/null", meld), 0);
    expect_start("MELD corpus plain; cache plain/cache (hash ");
    expect(", trained on synthetic corpus corpus (seed 5, generated, not MELD); trained by: ");
}

/* ---- interruption ----------------------------------------------------------------- */

/* Starts sh -c TEXT in root; returns its pid. */
static pid_t spawn(const char *text)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(root) == 0) execl("/bin/sh", "sh", "-c", text, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_status(pid_t pid, bool *signalled)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) continue;
    if (signalled) *signalled = WIFSIGNALED(st);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR) continue;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* The uninterrupted reference, trained in folder NAME and moved to NAME_ref
 * (the command, which names the folder, is part of the checkpoints);
 * returns its wall time. */
static double reference_run(const char *args, const char *name)
{
    double t0 = now();
    assert_int_equal(run("train %s --out %s", args, name), 0);
    double t = now() - t0;
    assert_int_equal(shell("mv %s %s_ref", name, name), 0);
    return t;
}

static void same_as_reference(const char *name)
{
    char a[128], b[128];
    const char *files[] = {"best.safetensors", "last.safetensors"};
    for (int k = 0; k < 2; k++) {
        snprintf(a, sizeof a, "%s/%s", name, files[k]);
        snprintf(b, sizeof b, "%s_ref/%s", name, files[k]);
        if (!same_bytes(a, b)) fail_msg("%s differs from the uninterrupted run's", a);
    }
}

#define INTERRUPTED FUSION " --epochs 3"

/* SIGINT and SIGTERM: exit 130, where the checkpoint is, the command to
 * resume; that command ends with the uninterrupted run's bytes. */
static void a_signal_leaves_a_resumable_checkpoint_and_the_command(void **state)
{
    (void)state;
    NEED_MELD();
    double t = reference_run(INTERRUPTED, "sig");
    srand(2024);
    const int sigs[] = {SIGINT, SIGTERM, SIGINT, SIGTERM};
    for (int k = 0; k < 4; k++) {
        char text[1024];
        snprintf(text, sizeof text, "exec %s train " INTERRUPTED " --out sig > sig.txt 2>&1", meld);
        pid_t pid = spawn(text);
        /* Training has begun (the handler is in place) once the log exists. */
        for (int i = 0; i < 3000 && shell("test -f sig/log.jsonl") != 0; i++) sleep_ms(10);
        sleep_ms((long)(rand() % (int)(t * 500 + 1)));   /* into the first half of the run */
        kill(pid, sigs[k]);
        int rc = wait_status(pid, NULL);
        slurp("sig.txt");
        if (rc == 0) {   /* the machine outran us: the run finished before the signal */
            printf("  signal %d arrived after the run ended; retried\n", sigs[k]);
            assert_int_equal(shell("rm -rf sig"), 0);
            k--;
            t *= 0.5;
            continue;
        }
        assert_int_equal(rc, 130);
        expect("resumable checkpoint: sig/last.safetensors");
        const char *hint = strstr(out, "meld train: resume with: ");
        assert_non_null(hint);
        char resume[1024];
        snprintf(resume, sizeof resume, "%.*s", (int)strcspn(hint + 25, "\n"), hint + 25);
        printf("  %s: %.*s\n", sigs[k] == SIGINT ? "SIGINT" : "SIGTERM", (int)strcspn(strstr(out, "interrupted"), ";"),
               strstr(out, "interrupted"));
        if (!strstr(resume, " --out sig --resume")) fail_msg("resume command: %s", resume);
        /* (under qemu-user the printed program runs through the emulator) */
        const char *runner = getenv("TEST_RUNNER");
        assert_int_equal(shell("%s%s%s > resumed.txt 2>&1", runner ? runner : "", runner ? " " : "", resume), 0);
        same_as_reference("sig");
        assert_int_equal(shell("rm -rf sig"), 0);
    }
}

/* kill -9 at random moments, twice per trial, then --resume: the same
 * bytes as the uninterrupted run. */
static void kill_9_at_random_points_then_resume_gives_the_same_bytes(void **state)
{
    (void)state;
    NEED_MELD();
    double t = reference_run(INTERRUPTED, "k9");
    srand(99);
    for (int trial = 0; trial < 4; trial++) {
        for (int kill_no = 0; kill_no < 2; kill_no++) {
            char text[1024];
            snprintf(text, sizeof text, "exec %s train " INTERRUPTED " --out k9 --resume > k9.txt 2>&1", meld);
            pid_t pid = spawn(text);
            sleep_ms((long)(rand() % (int)(t * 700)));
            kill(pid, SIGKILL);
            wait_status(pid, NULL);
        }
        assert_int_equal(run("train " INTERRUPTED " --out k9 --resume"), 0);
        same_as_reference("k9");
        assert_int_equal(shell("rm -rf k9"), 0);
    }
}

/* ---- NaN -------------------------------------------------------------------------- */

/* Damaged weights: the checkpoint is refused with a message naming the
 * tensor (checkpoint_io.c), and nothing prints nan, on stdout or stderr. */
static void nan_is_never_printed_as_a_number(void **state)
{
    (void)state;
    NEED_MELD();
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/warmup/best.safetensors", root);
    snprintf(bad, sizeof bad, "%s/nan.safetensors", root);
    SafeTensors st;
    st_init(&st);
    assert_int_equal(st_load(&st, path), MELD_OK);
    for (int i = 0; i < st.n_tensors; i++)
        if (!strncmp(st.tensors[i].name, "gru.", 4)) st.tensors[i].data[0] = NAN;
    assert_int_equal(st_save(&st, bad), MELD_OK);
    st_free(&st);
    assert_int_equal(run("eval nan.safetensors --data corpus --json"), 1);
    expect("holds NaN at index 0: the checkpoint is damaged");
    expect_no_nan();
    assert_int_equal(run("eval nan.safetensors --data corpus"), 1);
    expect("holds NaN at index 0: the checkpoint is damaged");
    expect_no_nan();
    assert_int_equal(run("predict --json --model-file nan.safetensors corpus/train_splits/dia0_utt0.wav"), 1);
    expect("holds NaN at index 0: the checkpoint is damaged");
    expect_no_nan();
}

/* ---- predict ------------------------------------------------------------------------ */

static void predict_reads_only_the_streams_the_model_needs(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(shell("mkdir -p alone && cp corpus/train_splits/dia0_utt0.wav corpus/train_splits/dia0_utt0.y4m alone/ "
                           "&& mv alone/dia0_utt0.y4m alone/video_only.y4m"),
                     0);
    /* an audio model: a WAV alone */
    assert_int_equal(run("predict --model-file warmup/best.safetensors alone/dia0_utt0.wav"), 0);
    expect("alone/dia0_utt0.wav: emotion ");
    /* fusion needs the video too, and says so */
    assert_int_equal(run("train " FUSION " --epochs 1 --out fus"), 0);
    assert_int_equal(run("predict --model-file fus/best.safetensors alone/dia0_utt0.wav"), 1);
    expect("no video: expected alone/dia0_utt0.y4m");
    expect("(model fusion reads audio and video)");
    /* cnn: a video alone */
    assert_int_equal(run("train " TINY " --model cnn --epochs 1 --out cnn"), 0);
    assert_int_equal(run("predict --model-file cnn/best.safetensors alone/video_only.y4m"), 0);
    expect("alone/video_only.y4m: emotion ");
    if (system("ffmpeg -version > /dev/null 2>&1") != 0) {
        printf("  ffmpeg not installed: the MP4 cases skipped\n");
        return;
    }
    assert_int_equal(shell("ffmpeg -v error -y -f lavfi -i testsrc=size=64x64:rate=10 -t 1 -c:v mpeg4 silent.mp4"), 0);
    assert_int_equal(run("predict --model-file fus/best.safetensors silent.mp4"), 1);
    expect("meld predict: silent.mp4: no audio stream (video only) (model fusion reads audio and video)");
    expect_not("Stream map");
    assert_int_equal(run("predict --model-file cnn/best.safetensors silent.mp4"), 0);
    expect("silent.mp4: emotion ");
}

/* ---- paths --------------------------------------------------------------------------- */

/* An --out past any internal limit is an error, and leaves no folder. */
static void an_out_path_too_long_is_an_error(void **state)
{
    (void)state;
    NEED_MELD();
    char longdir[1400] = "";
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(longdir);
        snprintf(longdir + n, sizeof longdir - n, "%s%0220d", i ? "/" : "", i);
    }
    assert_int_equal(run("train " GRU " --epochs 1 --out %s", longdir), 1);
    expect("meld train: run folder path too long (1104 characters) for the checkpoint writer: ");
    char first[240];
    snprintf(first, sizeof first, "%0220d", 0);
    assert_int_equal(shell("test -e %s", first), 1);
}

/* ---- the terminal --------------------------------------------------------------------- */

/* `meld train` on a pseudo-terminal COLS wide; its output (both streams) into out. */
static int train_on_a_terminal(int cols, const char *args)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) return -1;
    struct winsize ws = {.ws_row = 40, .ws_col = (unsigned short)cols};
    ioctl(master, TIOCSWINSZ, &ws);
    const char *slave = ptsname(master);
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int fd = open(slave, O_RDWR);
        if (fd < 0 || chdir(root)) _exit(127);
        ioctl(fd, TIOCSCTTY, 0);
        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec %s train %s", meld, args);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(master, out + n, sizeof out - 1 - n);
        if (got <= 0) break;   /* EIO once the child has closed the terminal */
        n += (size_t)got;
    }
    out[n] = '\0';
    close(master);
    return wait_status(pid, NULL);
}

/* At 60 columns every redraw of the progress line fits in 59 and returns
 * to the line's start (no new line per update); lines end only with the
 * epoch summaries and messages. */
static void the_progress_line_fits_a_60_column_terminal(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(train_on_a_terminal(60, FUSION " --epochs 2 --out tty60"), 0);
    int redraws = 0;
    for (char *line = out; *line;) {
        size_t len = strcspn(line, "\r\n");
        /* strip the erase-line code */
        char seg[512];
        snprintf(seg, sizeof seg, "%.*s", (int)(len < sizeof seg ? len : sizeof seg - 1), line);
        char *esc = strstr(seg, "\033[K");
        if (esc) *esc = '\0';
        if (!strncmp(seg, "epoch 1 [", 9) || !strncmp(seg, "epoch 2 [", 9)) {
            redraws++;
            if (strlen(seg) > 59) fail_msg("progress line of %zu columns: '%s'", strlen(seg), seg);
            if (line[len] == '\n') fail_msg("a progress update ended with a new line: '%s'", seg);
        }
        line += len + (line[len] != '\0');
    }
    assert_true(redraws >= 2);
    expect("epoch 1/2  loss ");
    expect("epoch 2/2  loss ");
    /* not a terminal: no escape codes at all */
    assert_int_equal(run("train " FUSION " --epochs 1 --out notty"), 0);
    expect_not("\033");
    expect_not("\r");
}

/* ---- the HTML report ------------------------------------------------------------------ */

static bool have(const char *program)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", program);
    return system(cmd) == 0;
}

/* Pixels of colour (r, g, b), within 40 in each channel. */
static long pixels_near(const Image *im, int r, int g, int b)
{
    long n = 0;
    for (long i = 0; i < (long)im->width * im->height; i++) {
        const uint8_t *p = im->pixels + i * im->channels;
        n += abs(p[0] - r) < 40 && abs(p[1] - g) < 40 && abs(p[2] - b) < 40;
    }
    return n;
}

static void the_html_report_is_escaped_and_renders(void **state)
{
    (void)state;
    NEED_MELD();
    /* a run folder whose name is markup; one epoch: the curves are single points */
    assert_int_equal(run("train " GRU " --epochs 1 --out '<img src=x onerror=alert(1)>'"), 0);
    assert_int_equal(run("eval '<img src=x onerror=alert(1)>/best.safetensors' --data corpus --html one.html"), 0);
    slurp("one.html");
    expect("&lt;img src=x onerror=alert(1)&gt;/best.safetensors");
    expect_not("<img");
    expect("Synthetic corpus.");
    /* 1 epoch: 2 loss and 4 F1 points, at the middle of the axis */
    assert_int_equal(count(out, "<circle cx='251.0'"), 6);
    /* a longer run for the picture */
    assert_int_equal(run("train " FUSION " --epochs 4 --out html4"), 0);
    assert_int_equal(run("eval html4/best.safetensors --data corpus --html four.html"), 0);
    slurp("four.html");
    expect(">epoch</text>");
    expect(">cross-entropy loss</text>");
    expect(">weighted F1</text>");
    expect("best dev F1: epoch ");
    if (!have("chromium") || !have("ffmpeg")) {
        printf("  chromium or ffmpeg not installed: the rendering check skipped (make deps-html installs chromium)\n");
        return;
    }
    int rc = shell("chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                   "--window-size=1000,2600 --screenshot=%s/four.png file://%s/four.html > chromium.txt 2>&1 && "
                   "ffmpeg -v error -y -i four.png four.ppm",
                   root, root);
    if (rc != 0) {
        shell("cat chromium.txt");
        fail_msg("chromium or ffmpeg failed:\n%s", out);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/four.ppm", root);
    Image im;
    if (pnm_read(path, &im)) fail_msg("%s", meld_error());
    long total = (long)im.width * im.height, white = pixels_near(&im, 255, 255, 255);
    long train_loss = pixels_near(&im, 0x1f, 0x77, 0xb4), dev_emotion = pixels_near(&im, 0x2c, 0xa0, 0x2c);
    long dev_sentiment = pixels_near(&im, 0xd6, 0x27, 0x28), banner = pixels_near(&im, 0xff, 0xf3, 0xcd);
    printf("  rendered %dx%d: %.1f %% not white; curve pixels: train loss %ld, dev emotion %ld, dev sentiment %ld; "
           "banner %ld\n",
           im.width, im.height, 100.0 * (total - white) / total, train_loss, dev_emotion, dev_sentiment, banner);
    image_free(&im);
    assert_true(total - white > total / 50);   /* not blank */
    assert_true(train_loss > 100);            /* the curves were drawn */
    assert_true(dev_emotion > 100);
    assert_true(dev_sentiment > 100);
    assert_true(banner > 1000);               /* the synthetic-corpus banner */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_existing_run_is_never_overwritten_unasked),
        cmocka_unit_test(default_folders_name_the_model_and_variant),
        cmocka_unit_test(a_locked_run_folder_names_its_holder),
        cmocka_unit_test(training_flags_take_flag_equals_value),
        cmocka_unit_test(provenance_in_every_output),
        cmocka_unit_test(a_signal_leaves_a_resumable_checkpoint_and_the_command),
        cmocka_unit_test(kill_9_at_random_points_then_resume_gives_the_same_bytes),
        cmocka_unit_test(nan_is_never_printed_as_a_number),
        cmocka_unit_test(predict_reads_only_the_streams_the_model_needs),
        cmocka_unit_test(an_out_path_too_long_is_an_error),
        cmocka_unit_test(the_progress_line_fits_a_60_column_terminal),
        cmocka_unit_test(the_html_report_is_escaped_and_renders),
    };
    return cmocka_run_group_tests_name("cli: run folders, interruption, provenance, reports", tests, setup, teardown);
}
