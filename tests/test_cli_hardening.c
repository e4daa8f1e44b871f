/* ./meld against hostile input, neighbours and disks (issue: "nothing
 * silently wrong, nothing lost, nothing crashes"), end to end:
 *   - every command whose stdout fails (a full disk) exits non-zero;
 *   - a WAV declaring 2 Hz is refused, not resampled into gigabytes;
 *   - FIFOs where a file is expected (CSV, checkpoint, WAV, Y4M, cascade,
 *     clips, log, --out targets) are refused at once;
 *   - HTML reports escape names from outside; predict --json writes no NaN;
 *   - names with newlines or bytes that are not UTF-8 show escaped;
 *   - crafted checkpoints (sizes the cache does not have, no configuration,
 *     a crafted feature configuration) are one clear line;
 *   - faults: a full disk during a checkpoint, cache, report or .npy write
 *     keeps the previous file byte for byte; two processes writing one file
 *     leave one complete version; SIGINT/SIGTERM during training leave
 *     loadable checkpoints, and the next run sweeps the orphans.
 * Every command runs under `timeout`: a hang is a failure, not a stuck suite.
 * Needs MELD_BIN (make test sets it). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/train/checkpoint_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

static char root[64], out[65536];
static const char *meld;

/* Runs the shell command line (MELD stands for the program) in the temp
 * folder, stdout+stderr into out; returns the exit status. */
static int sh(const char *fmt, ...)
{
    char line[2048], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Every MELD becomes "timeout 120 $MELD_BIN". */
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "cd %s && { ", root);
    for (const char *p = line; *p && n < sizeof cmd - 300;) {
        if (!strncmp(p, "MELD", 4)) {
            n += (size_t)snprintf(cmd + n, sizeof cmd - n, "timeout 120 %s", meld);
            p += 4;
        } else {
            cmd[n++] = *p++;
        }
    }
    snprintf(cmd + n, sizeof cmd - n, "; } 2>&1");
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define NEED_MELD()                                                           \
    do {                                                                      \
        if (!meld) {                                                          \
            printf("  MELD_BIN not set: skipping (run through make test)\n"); \
            skip();                                                           \
        }                                                                     \
    } while (0)

static void expect(const char *what)
{
    if (!strstr(out, what)) fail_msg("expected '%s' in output:\n%s", what, out);
}

static void expect_not(const char *what)
{
    if (strstr(out, what)) fail_msg("did not expect '%s' in output:\n%s", what, out);
}

static const char *path_of(const char *name)
{
    static char p[4][512];
    static int turn;
    turn = (turn + 1) % 4;
    snprintf(p[turn], sizeof p[turn], "%s/%s", root, name);
    return p[turn];
}

static const char *TRAIN = "--model gru --hidden 8 --batch 4 --frames 2 --size 32 --mels 16";

static int setup(void **state)
{
    (void)state;
    meld = getenv("MELD_BIN");
    if (!meld) return 0;
    strcpy(root, "/tmp/meld-hard-XXXXXX");
    if (!mkdtemp(root)) return -1;
    if (sh("MELD synth --out corpus --dialogues 8 --seed 5 --size 48") != 0) return -1;
    if (sh("MELD train --data corpus %s --epochs 1 --out run", TRAIN) != 0) {
        fprintf(stderr, "%s\n", out);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!meld) return 0;
    return sh("rm -rf %s", root);
}

/* ---- helpers: files ------------------------------------------------------- */

static void put_le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A mono 16-bit WAV of n samples at rate Hz, with an optional LIST chunk
 * before the data whose size field says list_size. */
static void write_wav(const char *name, uint32_t rate, uint32_t n, int list_size)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    uint8_t h[44 + 8];
    size_t hl = 0;
    memcpy(h, "RIFF", 4);
    put_le(h + 4, 36 + 2 * n, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le(h + 16, 16, 4);
    put_le(h + 20, 1, 2);
    put_le(h + 22, 1, 2);
    put_le(h + 24, rate, 4);
    put_le(h + 28, rate * 2, 4);
    put_le(h + 32, 2, 2);
    put_le(h + 34, 16, 2);
    hl = 36;
    if (list_size >= 0) {
        memcpy(h + hl, "LIST", 4);
        put_le(h + hl + 4, (uint32_t)list_size, 4);
        hl += 8;
    }
    memcpy(h + hl, "data", 4);
    put_le(h + hl + 4, 2 * n, 4);
    hl += 8;
    assert_int_equal(fwrite(h, 1, hl, f), hl);
    for (uint32_t i = 0; i < n; i++) {
        int16_t s = (int16_t)((i * 37) % 2000 - 1000);
        assert_int_equal(fwrite(&s, 2, 1, f), 1);
    }
    assert_int_equal(fclose(f), 0);
}

static int files_equal(const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static int temp_files_in(const char *folder)
{
    return sh("ls -a %s | grep -c '\\.tmp\\.'", folder) == 0 ? atoi(out) : 0;
}

/* A checkpoint equal to run/best.safetensors but for one metadata entry
 * (value NULL: without it). */
static void checkpoint_with_meta(const char *name, const char *key, const char *value)
{
    SafeTensors st;
    assert_int_equal(st_load(&st, path_of("run/best.safetensors")), MELD_OK);
    if (value) {
        assert_int_equal(st_set_meta(&st, key, value), MELD_OK);
    } else {
        for (int i = 0; i < st.n_meta; i++)
            if (!strcmp(st.meta[i].key, key)) {
                free(st.meta[i].key);
                free(st.meta[i].value);
                memmove(&st.meta[i], &st.meta[i + 1], sizeof st.meta[i] * (size_t)(st.n_meta - i - 1));
                st.n_meta--;
                break;
            }
    }
    assert_int_equal(st_save(&st, path_of(name)), MELD_OK);
    st_free(&st);
}

/* ---- stdout -------------------------------------------------------------- */

static void a_full_stdout_is_a_failure(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(sh("MELD eval run/best.safetensors --data corpus >/dev/full"), 1);
    expect("meld eval: standard output: write failed: No space left on device");
    assert_int_equal(sh("MELD predict --model-file run/best.safetensors corpus/train_splits/dia0_utt0.wav >/dev/full"), 1);
    expect("meld predict: standard output: write failed");
    assert_int_equal(sh("MELD features corpus/train_splits/dia0_utt0.wav >/dev/full"), 1);
    expect("meld features: standard output: write failed");
    assert_int_equal(sh("MELD train --data corpus %s --epochs 1 --out run-full >/dev/full", TRAIN), 1);
    expect("meld train: standard output: write failed");
    assert_int_equal(sh("MELD models >/dev/full"), 1);
    /* A closed stdout too. */
    assert_int_equal(sh("MELD --version >&-"), 1);
    expect("meld: standard output: write failed");
    assert_int_equal(sh("MELD eval run/best.safetensors --data corpus >/dev/null"), 0);
}

/* ---- audio the file cannot justify --------------------------------------- */

static void a_wav_declaring_2_hz_is_refused(void **state)
{
    (void)state;
    NEED_MELD();
    /* 40 KB: 20000 samples, 10000 s at 2 Hz, 160 million at 16 kHz. */
    write_wav("two_hz.wav", 2, 20000, -1);
    assert_int_equal(sh("MELD features two_hz.wav"), 1);
    expect("2 Hz is too low a sample rate to convert to 16000 Hz (at least 1000 Hz)");
    write_wav("one_khz.wav", 1000, 2000, -1);
    assert_int_equal(sh("MELD features one_khz.wav"), 0);
    expect("resampled to 16 kHz");
    /* A clip (WAV + Y4M) longer than any clip may be: 1201 s at 8 Hz. */
    write_wav("long.wav", 8, 9608, -1);
    assert_int_equal(sh("cp corpus/train_splits/dia0_utt0.y4m long.y4m"), 0);
    assert_int_equal(sh("MELD predict --model-file run/best.safetensors long.wav"), 1);
    expect("long.wav: 1201 s of audio, longer than a clip may be (1200 s)");
}

static void a_bogus_list_chunk_says_so(void **state)
{
    (void)state;
    NEED_MELD();
    write_wav("list.wav", 16000, 800, 0x7ffffff0);
    assert_int_equal(sh("MELD features list.wav"), 1);
    expect("list.wav: chunk 'LIST' at byte 36 declares 2147483632 bytes but only");
}

/* ---- FIFOs where files are expected -------------------------------------- */

static void fifos_are_refused_everywhere(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(sh("mkfifo fifo.safetensors fifo.wav fifo.xml fifo.npy fifo.html && mkdir -p fifoclip fifocsv && "
                        "mkfifo fifoclip/a.wav && cp corpus/train_splits/dia0_utt0.y4m fifoclip/a.y4m && "
                        "cp corpus/dev_sent_emo.csv corpus/test_sent_emo.csv fifocsv/ && "
                        "mkfifo fifocsv/train_sent_emo.csv"),
                     0);
    assert_int_equal(sh("MELD eval fifo.safetensors --data corpus"), 1);
    expect("fifo.safetensors: is a FIFO, not a regular file");
    assert_int_equal(sh("MELD features fifo.wav"), 1);
    expect("fifo.wav: is a FIFO, not a regular file");
    /* run/ holds a gru, an audio model: the audio beside a Y4M is read */
    assert_int_equal(sh("MELD predict --model-file run/best.safetensors fifoclip/a.y4m"), 1);
    expect("a.wav: is a FIFO, not a regular file");
    assert_int_equal(sh("MELD frames corpus/train_splits/dia0_utt0.y4m --cascade fifo.xml"), 1);
    expect("fifo.xml: is a FIFO, not a regular file");
    assert_int_equal(sh("MELD eda --data fifocsv"), 1);
    expect("train_sent_emo.csv: is a FIFO, not a regular file");
    /* --out targets: refused, and the FIFO stays a FIFO. */
    assert_int_equal(sh("MELD features corpus/train_splits/dia0_utt0.wav --out fifo.npy"), 1);
    expect("fifo.npy: is a FIFO; refusing to replace it with a file");
    assert_int_equal(sh("MELD eval run/best.safetensors --data corpus --html fifo.html"), 1);
    expect("fifo.html: is a FIFO; refusing to replace it");
    assert_int_equal(sh("test -p fifo.npy && test -p fifo.html"), 0);
    /* A clip of the corpus replaced by a FIFO: prepare skips it and ends. */
    assert_int_equal(sh("cp -r corpus fifocorpus && rm -rf fifocorpus/cache && rm fifocorpus/train_splits/dia0_utt1.wav "
                        "&& mkfifo fifocorpus/train_splits/dia0_utt1.wav"),
                     0);
    assert_int_equal(sh("MELD prepare --data fifocorpus --frames 2 --size 32 --mels 16"), 0);
    expect("prepared");
    /* log.jsonl a FIFO beside the checkpoint: the report has no curves. */
    assert_int_equal(sh("mkdir -p fiforun && cp run/best.safetensors fiforun/ && mkfifo fiforun/log.jsonl"), 0);
    assert_int_equal(sh("MELD eval fiforun/best.safetensors --data corpus --html fiforun.html"), 0);
}

/* ---- what reports write --------------------------------------------------- */

static void html_reports_escape_names(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(sh("mkdir -p '<img src=x onerror=alert(1)>' && cp run/best.safetensors '<img src=x onerror=alert(1)>/'"), 0);
    assert_int_equal(sh("MELD eval '<img src=x onerror=alert(1)>/best.safetensors' --data corpus --html xss.html"), 0);
    assert_int_equal(sh("cat xss.html"), 0);
    expect("&lt;img src=x onerror=alert(1)&gt;/best.safetensors");
    expect_not("<img");
    /* EDA: the data folder's name. */
    assert_int_equal(sh("mkdir -p 'eda<script>alert(1)' && cp corpus/*.csv 'eda<script>alert(1)'/"), 0);
    assert_int_equal(sh("MELD eda --data 'eda<script>alert(1)' --html eda.html"), 0);
    assert_int_equal(sh("cat eda.html"), 0);
    expect("eda&lt;script&gt;alert(1)");
    expect_not("<script>");
}

static void predict_json_never_writes_nan(void **state)
{
    (void)state;
    NEED_MELD();
    SafeTensors st;
    assert_int_equal(st_load(&st, path_of("run/best.safetensors")), MELD_OK);
    for (int i = 0; i < st.n_tensors; i++)
        if (strstr(st.tensors[i].name, "emotion_head"))
            for (size_t k = 0; k < st.tensors[i].numel; k++) st.tensors[i].data[k] = 3e38f;   /* finite, overflowing */
    assert_int_equal(st_save(&st, path_of("huge.safetensors")), MELD_OK);
    st_free(&st);
    assert_int_equal(sh("MELD predict --json --model-file huge.safetensors corpus/train_splits/dia0_utt0.wav"), 1);
    expect("is not a number (NaN or infinite)");
    expect_not("nan");
    assert_int_equal(sh("MELD eval huge.safetensors --data corpus --json"), 1);
    expect("is not a number");
    expect_not("accuracy");
    /* A clip name that needs escaping in JSON. */
    assert_int_equal(sh("cp corpus/train_splits/dia0_utt0.wav 'q\"uote.wav' && cp corpus/train_splits/dia0_utt0.y4m "
                        "'q\"uote.y4m'"),
                     0);
    assert_int_equal(sh("MELD predict --json --model-file run/best.safetensors 'q\"uote.wav'"), 0);
    expect("{\"clip\": \"q\\\"uote.wav\", ");
}

static void names_are_shown_escaped(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(sh("MELD features \"$(printf 'bad\\nname\\377\\033[31m.wav')\""), 1);
    expect("meld features: bad\\nname\\xff\\x1b[31m.wav: cannot open: No such file or directory\n");
    /* One line: the message is all there is. */
    assert_null(strchr(strchr(out, '\n') + 1, '\n'));
    assert_int_equal(sh("MELD eval --model-file \"$(printf 'x\\ny')\" --data corpus"), 1);
    expect("x\\ny: cannot open");
    assert_int_equal(sh("MELD train --bogus \"$(printf 'a\\tb')\""), 2);
    expect("unknown option '--bogus'");
}

/* ---- crafted checkpoints ----------------------------------------------------- */

static void crafted_checkpoints_are_one_clear_line(void **state)
{
    (void)state;
    NEED_MELD();
    checkpoint_with_meta("noconfig.safetensors", "config", NULL);
    assert_int_equal(sh("MELD eval noconfig.safetensors --data corpus"), 1);
    expect("meld eval: noconfig.safetensors: metadata 'config' missing: the checkpoint does not say which model it holds");
    checkpoint_with_meta("frames0.safetensors", "cache_config",
                         "meld-cache v1 audio: n_mels=16; video: frames=0 size=32 rgb face=none");
    assert_int_equal(sh("MELD predict --model-file frames0.safetensors corpus/train_splits/dia0_utt0.wav"), 1);
    expect("feature configuration: frames=0 is outside 1..64");
    /* A configuration the cache does not match (hash check off): refused
     * before a row is read. A model made for 3000 functionals, saved
     * consistently, then run on the 1771 prepare computes. */
    MeldModelConfig c = {.task = TASK_BOTH, .func_dim = 3000, .n_mels = 16, .frame_size = 32, .frame_channels = 3,
                         .frames_used = 2, .rnn_hidden = 4, .mel_hidden = 4, .mel_pool = 4, .mel_max_frames = 200,
                         .audio_functionals = true};
    Rng r;
    rng_seed(&r, 1, 1);
    MeldModel *m = meld_model_create("gru", &c, &r);
    assert_non_null(m);
    Normaliser n = {.func_dim = 3000, .n_mels = 16};
    n.func_mean = calloc(3000, sizeof(float));
    n.func_std = calloc(3000, sizeof(float));
    n.mel_mean = calloc(16, sizeof(float));
    n.mel_std = calloc(16, sizeof(float));
    for (int i = 0; i < 3000; i++) n.func_std[i] = 1;
    for (int i = 0; i < 16; i++) n.mel_std[i] = 1;
    TrainState ts = {.best_score = -1};
    LoadedModel real;
    assert_int_equal(checkpoint_load_model(path_of("run/best.safetensors"), &real), MELD_OK);
    snprintf(ts.cache_config, sizeof ts.cache_config, "%s", real.cache_config);
    loaded_model_free(&real);
    assert_int_equal(checkpoint_save(path_of("f3000.safetensors"), m, &n, NULL, NULL, &ts, NULL), MELD_OK);
    normaliser_free(&n);
    meld_model_free(m);
    assert_int_equal(sh("MELD predict --model-file f3000.safetensors corpus/train_splits/dia0_utt0.wav"), 1);
    expect("f3000.safetensors: the model reads 3000 functionals per utterance, its normaliser 3000, but the feature "
           "cache holds 1771");
    assert_int_equal(sh("MELD eval f3000.safetensors --data corpus"), 1);
    expect("holds 1771");
}

/* ---- faults --------------------------------------------------------------------- */

/* "ulimit -f" in 512-byte blocks; SIGXFSZ ignored so that the write fails
 * with EFBIG the way a full disk fails with ENOSPC. */
#define FULL_DISK(blocks) "ulimit -f " #blocks " && trap '' XFSZ && "

static void a_full_disk_loses_nothing_already_written(void **state)
{
    (void)state;
    NEED_MELD();
    /* Checkpoints: a second run into the folder cannot write them. */
    assert_int_equal(sh("MELD train --data corpus %s --epochs 1 --out disk", TRAIN), 0);
    assert_int_equal(sh("cp disk/last.safetensors last.before && cp disk/best.safetensors best.before"), 0);
    assert_int_equal(sh(FULL_DISK(200) "MELD train --data corpus %s --epochs 2 --out disk --resume", TRAIN), 1);
    expect(".safetensors: write failed: File too large");
    assert_true(files_equal(path_of("disk/last.safetensors"), path_of("last.before")));
    assert_true(files_equal(path_of("disk/best.safetensors"), path_of("best.before")));
    assert_int_equal(temp_files_in("disk"), 0);
    /* The feature cache: a rebuild (its train CSV changed) that cannot be
     * written keeps the old one. */
    assert_int_equal(sh("cp -r corpus diskcorpus && cp diskcorpus/cache/train.meldcache train.before && "
                        "printf '\\n' >> diskcorpus/train_sent_emo.csv"),
                     0);
    assert_int_equal(sh(FULL_DISK(100) "MELD prepare --data diskcorpus"), 1);
    expect("write failed: File too large");
    assert_true(files_equal(path_of("diskcorpus/cache/train.meldcache"), path_of("train.before")));
    assert_int_equal(temp_files_in("diskcorpus/cache"), 0);
    /* An HTML report and a .npy. */
    assert_int_equal(sh("MELD eval run/best.safetensors --data corpus --html disk.html"), 0);
    assert_int_equal(sh("cp disk.html disk.html.before"), 0);
    assert_int_equal(sh(FULL_DISK(1) "MELD eval run/best.safetensors --data corpus --split dev --html disk.html"), 1);
    expect("disk.html: write failed");
    assert_true(files_equal(path_of("disk.html"), path_of("disk.html.before")));
    assert_int_equal(sh("MELD features corpus/train_splits/dia0_utt0.wav --out disk.npy"), 0);
    assert_int_equal(sh("cp disk.npy disk.npy.before"), 0);
    assert_int_equal(sh(FULL_DISK(1) "MELD features corpus/train_splits/dia0_utt3.wav --out disk.npy"), 1);
    expect("disk.npy: write failed");
    assert_true(files_equal(path_of("disk.npy"), path_of("disk.npy.before")));
    assert_int_equal(temp_files_in("."), 0);
}

/* Two processes write one output at once, many times: the file is always
 * one of the two complete results, and no temporary file is left. */
static void two_processes_on_one_output(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(sh("MELD features corpus/train_splits/dia0_utt0.wav --out a.npy && "
                        "MELD features corpus/train_splits/dia1_utt0.wav --out b.npy"),
                     0);
    assert_int_equal(sh("for i in 1 2 3 4 5 6; do "
                        "MELD features corpus/train_splits/dia0_utt0.wav --out same.npy >/dev/null & "
                        "MELD features corpus/train_splits/dia1_utt0.wav --out same.npy >/dev/null & wait; "
                        "cmp -s same.npy a.npy || cmp -s same.npy b.npy || exit 1; done"),
                     0);
    assert_int_equal(temp_files_in("."), 0);
}

/* Starts `meld train ... --out dir` with default signal handling, stdout
 * and stderr to /dev/null; returns its PID. */
static pid_t start_training(const char *dir)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || chdir(root) != 0) _exit(127);
        dup2(null, 1);
        dup2(null, 2);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execl(meld, "meld", "train", "--data", "corpus", "--model", "gru", "--hidden", "8", "--batch", "4", "--frames",
              "2", "--size", "32", "--mels", "16", "--epochs", "200", "--out", dir, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* A run stopped by SIGINT or SIGTERM while it trains and writes
 * checkpoints: whatever is in the folder loads; an orphaned temporary file
 * is swept by the next run, which resumes. */
static void signals_during_training_leave_loadable_checkpoints(void **state)
{
    (void)state;
    NEED_MELD();
    const int sigs[] = {SIGINT, SIGTERM};
    for (int s = 0; s < 2; s++) {
        char dir[32], ckpt[600];
        snprintf(dir, sizeof dir, "sig%d", sigs[s]);
        snprintf(ckpt, sizeof ckpt, "%s/last.safetensors", path_of(dir));
        pid_t pid = start_training(dir);
        /* Wait for the first checkpoint, then stop the run mid-way. */
        struct stat st;
        for (int i = 0; i < 1200 && stat(ckpt, &st) != 0; i++) usleep(100000);
        assert_int_equal(stat(ckpt, &st), 0);
        usleep(300000);
        assert_int_equal(kill(pid, sigs[s]), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* Killed by the signal, or finished in between: either way, no hang. */
        assert_true(WIFSIGNALED(status) || WIFEXITED(status));
        LoadedModel lm;
        if (checkpoint_load_model(ckpt, &lm)) fail_msg("%s", meld_error());
        loaded_model_free(&lm);
        /* Plant an orphan as a kill -9 leaves it: the next run sweeps it. */
        assert_int_equal(sh("cp %s/last.safetensors %s/last.safetensors.tmp.999999999", dir, dir), 0);
        assert_int_equal(sh("MELD train --data corpus %s --epochs 1 --out %s --resume", TRAIN, dir), 0);
        assert_int_equal(temp_files_in(dir), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_stdout_is_a_failure),
        cmocka_unit_test(a_wav_declaring_2_hz_is_refused),
        cmocka_unit_test(a_bogus_list_chunk_says_so),
        cmocka_unit_test(fifos_are_refused_everywhere),
        cmocka_unit_test(html_reports_escape_names),
        cmocka_unit_test(predict_json_never_writes_nan),
        cmocka_unit_test(names_are_shown_escaped),
        cmocka_unit_test(crafted_checkpoints_are_one_clear_line),
        cmocka_unit_test(a_full_disk_loses_nothing_already_written),
        cmocka_unit_test(two_processes_on_one_output),
        cmocka_unit_test(signals_during_training_leave_loadable_checkpoints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
