/* ./meld with --features meld-pickle on the fixture corpus of
 * tests/fixtures/make_pickle_fixtures.py (whose vectors carry their
 * labels): a GRU must learn emotion well above the majority class; eval
 * reads the inputs the checkpoint records; eda lists which utterances have
 * vectors; bad options and mismatched files are one-line errors. Needs
 * MELD_BIN (make test sets it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define CORPUS "tests/fixtures/pickle/corpus"

static char root[64], corpus[1024], out[65536];
static const char *meld;

/* Runs "MELD ARGS" in the temp folder; stdout+stderr into out; returns the exit status. */
static int run(const char *fmt, ...)
{
    char args[2048], cmd[3200];
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

static int shell(const char *fmt, ...)
{
    char cmd[3200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    meld = getenv("MELD_BIN");
    if (!meld) return 0;
    strcpy(root, "/tmp/meld-pickle-XXXXXX");
    if (!mkdtemp(root) || !getcwd(corpus, sizeof corpus - sizeof CORPUS - 1)) return -1;
    strcat(corpus, "/" CORPUS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return meld ? shell("rm -rf %s", root) : 0;
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

/* The number after "key": in the JSON (after `after` if given). */
static double json_number(const char *after, const char *key)
{
    const char *p = after ? strstr(out, after) : out;
    if (!p || !(p = strstr(p, key))) fail_msg("no %s in:\n%s", key, out);
    return strtod(p + strlen(key), NULL);
}

static void gru_learns_emotion_from_the_vectors(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train --features meld-pickle --data %s --model gru --task emotion --hidden 16 --epochs 10 "
                         "--batch 4 --seed 1 --patience 10 --out gru",
                         corpus),
                     0);
    expect("train utterances without a vector, masked (no input, loss or score): 1 of 189 (3_1)");
    expect("dev vectors with no CSV row, unused: 1 (900_0)");
    expect("MELD's released audio features for emotion: ");
    expect("11 values per utterance (MELD's release has 1611); 188/50/59 train/dev/test utterances have one "
           "(2 masked)");
    expect("epoch 10/10  loss ");
    /* eval finds the same inputs from the checkpoint alone */
    assert_int_equal(run("eval --model-file gru/best.safetensors --data %s --json", corpus), 0);
    double accuracy = json_number("\"emotion\": {", "\"accuracy\": ");
    double majority = json_number("\"emotion_majority\": {", "\"accuracy\": ");
    double f1 = json_number("\"emotion\": {", "\"weighted_f1\": ");
    double majority_f1 = json_number("\"emotion_majority\": {", "\"weighted_f1\": ");
    printf("  test emotion accuracy %.3f (majority class %.3f), weighted F1 %.3f (%.3f)\n", accuracy, majority, f1,
           majority_f1);
    assert_true(accuracy > majority + 0.15);
    assert_true(f1 > majority_f1 + 0.3);
    assert_non_null(strstr(out, "\"utterances\": 59"));   /* the masked test utterance is not scored */
    assert_int_equal(run("eval --model-file gru/best.safetensors --data %s --features meld-pickle --split dev", corpus),
                     0);
    expect("dev split: 50 utterances");
    /* predict computes features from clips: it cannot feed this model */
    assert_int_equal(run("predict --model-file gru/best.safetensors x.wav"), 1);
    expect("trained on MELD's released audio features (meld-pickle task=emotion dim=11)");
}

/* The sentiment file (Python 3, protocol 2) and the LSTM; the default
 * output folder is per task, apart from runs trained on clip features. */
static void lstm_trains_on_sentiment(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train --features meld-pickle --data %s --model lstm --task sentiment --hidden 8 --epochs 1 "
                         "--batch 8",
                         corpus),
                     0);
    expect("MELD's released audio features for sentiment: ");
    expect("7 values per utterance (MELD's release has 1422)");
    expect("checkpoint runs/lstm-pickle-sentiment/best.safetensors");
    expect("sentiment: accuracy");
}

static void bad_options_and_mismatched_files(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("train --features meld-pickle --data %s --model cnn --task emotion", corpus), 2);
    expect("meld train: --features meld-pickle has one vector per utterance: use --model gru or lstm\n");
    assert_int_equal(run("train --features meld-pickle --data %s --model gru", corpus), 2);
    expect("needs --task emotion or sentiment");
    assert_int_equal(run("train --features pickle --data %s --model gru --task emotion", corpus), 2);
    expect("meld train: unknown --features 'pickle' (clips or meld-pickle)");
    /* CSVs without the pickles; then an "emotion" file of another dimension */
    assert_int_equal(shell("mkdir -p %s/csv && cp %s/*.csv %s/csv/", root, corpus, root), 0);
    assert_int_equal(run("train --features meld-pickle --data csv --model gru --task emotion"), 1);
    expect("meld train: no audio_embeddings_feature_selection_emotion.pkl under csv: --features meld-pickle reads");
    assert_int_equal(run("train --features meld-pickle --data %s --model gru --task emotion --hidden 4 --epochs 1 "
                         "--out small",
                         corpus),
                     0);
    assert_int_equal(shell("cp %s/audio_embeddings_feature_selection_sentiment.pkl "
                           "%s/csv/audio_embeddings_feature_selection_emotion.pkl",
                           corpus, root),
                     0);
    assert_int_equal(run("eval --model-file small/best.safetensors --data csv"), 1);
    expect("the checkpoint was trained on 'meld-pickle task=emotion dim=11', this file gives "
           "'meld-pickle task=emotion dim=7'");
    assert_int_equal(run("eval --model-file small/best.safetensors --data %s --features clips", corpus), 1);
    expect("not on --features clips");
}

static void eda_lists_utterances_with_vectors(void **state)
{
    (void)state;
    NEED_MELD();
    assert_int_equal(run("eda --data %s --no-clips", corpus), 0);
    expect("MELD's released audio features (one vector per utterance)\n");
    expect("    utterances with a vector               188        50        59\n"
           "    without (masked in training)             1         0         1\n"
           "    vectors with no CSV row (unused)         0         1         0\n"
           "    train without a vector: 3_1\n");
    assert_int_equal(run("eda --data %s --no-clips --json", corpus), 0);
    expect("\"without_vector_ids\": [\n            \"3_1\"\n          ]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gru_learns_emotion_from_the_vectors),
        cmocka_unit_test(lstm_trains_on_sentiment),
        cmocka_unit_test(bad_options_and_mismatched_files),
        cmocka_unit_test(eda_lists_utterances_with_vectors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
