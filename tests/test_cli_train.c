/* The ./meld program end to end on a tiny synthetic corpus: synth, train,
 * resume, eval (text, JSON, HTML), predict, models, summary, and the exit
 * status and one-line message of bad input. Needs MELD_BIN (make test sets it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "tensor/json.h"

static char root[64], out[32768];
static const char *meld;

/* Runs "MELD ARGS" in the temp folder; stdout+stderr into out; returns the exit status. */
static int run(const char *fmt, ...)
{
    char args[1024], cmd[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", root, meld, args);
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
    if (!meld) return 0;
    strcpy(root, "/tmp/meld-cli-XXXXXX");
    if (!mkdtemp(root)) return -1;
    return run("synth --out corpus --dialogues 8 --seed 5 --size 48") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (!meld) return 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd);
}

#define NEED_MELD()                                                        \
    do {                                                                   \
        if (!meld) {                                                       \
            printf("  MELD_BIN not set: skipping (run through make test)\n"); \
            skip();                                                        \
        }                                                                  \
    } while (0)

static void expect(const char *what)
{
    if (!strstr(out, what)) fail_msg("expected '%s' in output:\n%s", what, out);
}

/* Every line of text that starts with '{' is one valid JSON object; returns
 * how many there are. */
static int json_lines(const char *text)
{
    int n = 0;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        if (*line == '{') {
            JsonReader j;
            json_reader_init(&j, line, len);
            if (json_check(&j)) fail_msg("invalid JSON (%s at byte %zu): %.*s", j.problem, j.problem_pos, (int)len, line);
            n++;
        }
        line += len + (line[len] == '\n');
    }
    return n;
}

/* The string member `key` of the JSON object at the start of text (a new
 * string), or NULL. */
static char *json_member_string(const char *text, const char *key)
{
    JsonReader j;
    json_reader_init(&j, text, strcspn(text, "\n"));
    if (json_check(&j) || json_peek(&j) != '{') return NULL;
    j.pos++;
    char *k, *v = NULL;
    while (!v && json_next_member(&j, &k) > 0) {
        if (!strcmp(k, key)) json_read_string(&j, &v);
        else json_skip_value(&j);
        free(k);
    }
    return v;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(o);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, o), n);
    fclose(in);
    assert_int_equal(fclose(o), 0);
}

static void train_eval_predict(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train --data corpus --model gru --hidden 8 --epochs 2 --batch 2 --frames 2 --size 32 "
                         "--mels 16 --out run"),
                     0);
    expect("epoch 2/2  loss ");
    expect("synthetic corpus corpus (seed 5, generated, not MELD)");
    expect("test split:");
    expect("baselines: majority class");
    assert_int_equal(run("train --data=corpus --model gru --hidden 8 --epochs=3 --batch-size 2 --frames 2 --size 32 "
                         "--mels 16 --out run --resume"),
                     0);
    expect("resumed after epoch 2");
    expect("epoch 3/3  loss ");
    expect("trained epoch 3 (resumed after epoch 2)");
    char path[256], log[65536];
    snprintf(path, sizeof path, "%s/run/log.jsonl", root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    log[fread(log, 1, sizeof log - 1, f)] = '\0';
    fclose(f);
    /* Every record a valid object; one epoch record per epoch. */
    int epochs = 0;
    for (const char *p = log; (p = strstr(p, "\"event\": \"epoch\"")); p++) epochs++;
    assert_int_equal(epochs, 3);
    assert_true(json_lines(log) > epochs);   /* the start, resume and stop records too */
    assert_int_equal(run("eval run/best.safetensors --data corpus --split dev --html report.html"), 0);   /* CKPT */
    expect("dev split:");
    expect("precision");
    expect("wrote report.html");
    assert_int_equal(run("eval --model-file run/best.safetensors --data corpus --json"), 0);
    expect("\"weighted_f1\"");
    expect("\"emotion_majority\"");
    assert_int_equal(json_lines(out), 1);
    assert_int_equal(run("predict --model-file run/best.safetensors corpus/train_splits/dia0_utt0.wav "
                         "corpus/train_splits/dia0_utt1.wav"),
                     0);
    expect("dia0_utt1.wav: emotion ");
    assert_int_equal(run("predict --json --model-file run/best.safetensors -- corpus/train_splits/dia0_utt0.wav"), 0);
    expect("\"emotion_probs\"");
    assert_int_equal(json_lines(out), 1);
    /* A clip whose name has a tab and a byte that is not UTF-8: the line is
     * still valid JSON and names the clip (the tab kept, the byte as
     * U+FFFD); the printf-built line before dropped the tab and wrote the
     * raw byte. */
    static const char *const ext[2] = {"wav", "y4m"};
    for (int e = 0; e < 2; e++) {
        char from[256], to[256];
        snprintf(from, sizeof from, "%s/corpus/train_splits/dia0_utt0.%s", root, ext[e]);
        snprintf(to, sizeof to, "%s/corpus/odd\tname\xff.%s", root, ext[e]);
        copy_file(from, to);
    }
    assert_int_equal(run("predict --json --model-file run/best.safetensors 'corpus/odd\tname\xff.wav'"), 0);
    assert_int_equal(json_lines(out), 1);
    char *clip = json_member_string(strchr(out, '{'), "clip");
    assert_non_null(clip);
    assert_string_equal(clip, "corpus/odd\tname\xef\xbf\xbd.wav");
    free(clip);
}

static void models_and_summary(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("models"), 0);
    expect("fusion");
    expect("melstm");
    assert_int_equal(run("summary --model cnn"), 0);
    expect("BatchNorm2d");
    expect("Total params");
    expect("(output shapes on a dummy batch: 2 utterances)\n");   /* no log-Mel frames: the CNN reads none */
    assert_int_equal(run("summary --model fusion --context"), 0);
    expect("context.lstm");
}

static void bad_input_is_one_clear_line(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train --model nosuch"), 2);
    expect("meld train: unknown --model 'nosuch' (gru, lstm, melstm, cnn or fusion)");
    assert_int_equal(run("train --epochs 0"), 2);
    expect("--epochs expects an integer");
    assert_int_equal(run("train --model gru --audio mel"), 2);
    expect("meld train: --audio does not apply to --model gru (only to fusion)");
    assert_int_equal(run("train --hidden 8"), 2);   /* fusion's default audio branch has no LSTM */
    expect("--hidden sizes fusion's --audio mel LSTM");
    assert_int_equal(run("train --seed 1e23"), 2);
    expect("--seed expects an integer in [0, 2147483647], got '1e23'");
    assert_int_equal(run("eval run/best.safetensors --model-file run/best.safetensors"), 2);
    expect("both --model-file");
    assert_int_equal(run("summary --model cnn --context"), 2);
    expect("--context does not apply to --model cnn");
    assert_int_equal(run("eval --model-file missing.safetensors --data corpus"), 1);
    expect("missing.safetensors: cannot open");
    /* A truncated checkpoint and a garbage one. */
    assert_int_equal(run("predict --model-file run/nothing.safetensors corpus/train_splits/dia0_utt0.wav"), 1);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "head -c 100 %s/run/best.safetensors > %s/cut.safetensors", root, root);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run("eval --model-file cut.safetensors --data corpus"), 1);
    expect("cut.safetensors");
    assert_int_equal(run("train --data no/such/folder --model gru"), 1);
    expect("no/such/folder");
    assert_int_equal(run("predict --model-file run/best.safetensors no_such_clip.wav"), 1);
    expect("no_such_clip.wav");
    assert_int_equal(run("nosuchcommand"), 2);
    expect("unknown command");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(train_eval_predict),
        cmocka_unit_test(models_and_summary),
        cmocka_unit_test(bad_input_is_one_clear_line),
    };
    return cmocka_run_group_tests_name("cli: train, eval, predict", tests, setup, teardown);
}
