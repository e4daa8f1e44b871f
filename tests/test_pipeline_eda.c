/* `meld eda`: numbers on the hand-written mini MELD (worked out by hand and
 * by tests/eda_oracle.py), on the real MELD annotations in ../shared/meld
 * against the oracle (skipped when absent), the three writers, and the
 * command line ($MELD_BIN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/data/dataset.h"
#include "pipeline/eda/eda.h"
#include "tensor/error.h"
#include "tensor/json.h"

#define TINY "tests/fixtures/pipeline/eda_tiny"
#define MELD_DIR "../shared/meld"

static void load(const char *dir, Dataset *ds, EdaReport *r)
{
    int rc = dataset_load(dir, ds, NULL);
    if (rc) fprintf(stderr, "%s\n", meld_error());
    assert_int_equal(rc, MELD_OK);
    assert_int_equal(eda_compute(ds, r), MELD_OK);
    meld_take_warning();
}

static void words_are_whitespace_tokens(void **state)
{
    (void)state;
    assert_int_equal(eda_count_words(""), 0);
    assert_int_equal(eda_count_words("   "), 0);
    assert_int_equal(eda_count_words("don't stop"), 2);
    assert_int_equal(eda_count_words("  a\tb\r\nc\v\fd  "), 4);
    assert_int_equal(eda_count_words("caf\xC3\xA9\xE2\x80\x94ok"), 1); /* no Unicode breaks */
}

/* Numbers worked out by hand from the fixture files (tests/fixtures/pipeline/README_eda.md). */
static void tiny_numbers_match_hand_computation(void **state)
{
    (void)state;
    Dataset ds;
    EdaReport r;
    load(TINY, &ds, &r);
    const EdaStats *tr = &r.split[SPLIT_TRAIN], *all = &r.all;
    assert_int_equal(tr->utterances, 7);
    assert_int_equal(tr->dialogues, 2);
    assert_int_equal(tr->speakers, 3);               /* Ross, Rachel, Monica */
    assert_int_equal(tr->max_dialogue_length, 5);
    static const size_t emo[N_EMOTIONS] = {1, 2, 1, 1, 1, 1, 0};
    for (int e = 0; e < N_EMOTIONS; e++) assert_int_equal(tr->emotion[e], emo[e]);
    assert_int_equal(tr->sentiment[SENTIMENT_POSITIVE], 3);
    assert_int_equal(tr->sentiment_emotion[SENTIMENT_POSITIVE][EMOTION_SURPRISE], 1);
    /* words 2+2+3+1+1+4+1 = 14 over 7 rows */
    assert_true(fabs(tr->mean_words - 2.0) < 1e-12);
    assert_int_equal(tr->max_words, 4);
    assert_int_equal(tr->words_hist[1], 3);
    /* Ross neutral->anger->surprise (2 shifts), Rachel joy->joy (0),
     * Monica sadness->fear (1): 3 shifts in 4 same-speaker pairs */
    assert_int_equal(tr->emotion_shifts, 3);
    assert_int_equal(tr->same_speaker_pairs, 4);
    /* dialogue 0 has 4 distinct emotions, dialogue 2 has 2 */
    assert_true(fabs(tr->mean_emotions_per_dialogue - 3.0) < 1e-12);
    /* durations 1.5 0.5 2 1 1 4.25 (and 0, an issue): mean 10.25/6 */
    assert_true(fabs(tr->mean_duration_s - 10.25 / 6) < 1e-12);
    assert_true(fabs(tr->max_duration_s - 4.25) < 1e-12);
    assert_int_equal(tr->durations_bad, 1);
    assert_int_equal(tr->gap_dialogues, 1);
    assert_int_equal(tr->missing_utterance_ids, 1);
    assert_int_equal(tr->missing_dialogue_ids, 1);
    assert_true(isinf(tr->imbalance_emotion));       /* no disgust in train */
    assert_true(isnan(tr->weight_emotion[EMOTION_DISGUST]));
    assert_true(fabs(tr->weight_sentiment[SENTIMENT_NEUTRAL] - 7.0 / 3) < 1e-12); /* 7 / (3 * 1) */
    assert_true(fabs(tr->imbalance_sentiment - 3.0) < 1e-12);
    assert_int_equal(r.split[SPLIT_DEV].durations_bad, 1);   /* the 67 s row */
    assert_true(fabs(r.split[SPLIT_TEST].mean_words - 3.5) < 1e-12);
    assert_int_equal(all->utterances, 11);
    assert_int_equal(all->dialogues, 4);
    assert_int_equal(all->speakers, 5);              /* + Joey, Phoebe; Ross and Rachel once */
    assert_true(fabs(all->mean_words - 25.0 / 11) < 1e-12);
    assert_true(fabs(all->mean_emotions_per_dialogue - 2.5) < 1e-12);
    assert_false(all->has_clips);
    int ids[4];
    assert_int_equal(eda_missing_dialogue_ids(&ds.split[SPLIT_TRAIN], ids, 4), 1);
    assert_int_equal(ids[0], 1);
    assert_int_equal(eda_missing_utterance_ids(&ds.split[SPLIT_TRAIN], &ds.split[SPLIT_TRAIN].dialogues[0], ids, 4), 1);
    assert_int_equal(ids[0], 4);
    dataset_free(&ds);
}

/* ---- comparison with tests/eda_oracle.py --------------------------------- */

typedef struct {
    char key[96];
    double v;
} Kv;

typedef struct {
    Kv *kv;
    size_t n, cap;
} KvList;

static void put(KvList *l, double v, const char *fmt, ...) MELD_PRINTF(3, 4);
static void put(KvList *l, double v, const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->kv = realloc(l->kv, l->cap * sizeof *l->kv);
        assert_non_null(l->kv);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->kv[l->n].key, sizeof l->kv[l->n].key, fmt, ap);
    va_end(ap);
    l->kv[l->n++].v = v;
}

/* The same keys as eda_oracle.py's emit(). */
static void flatten_stats(KvList *l, const char *p, const EdaStats *st)
{
    put(l, (double)st->utterances, "%s.utterances", p);
    put(l, (double)st->dialogues, "%s.dialogues", p);
    put(l, (double)st->speakers, "%s.speakers", p);
    put(l, st->max_dialogue_length, "%s.max_dialogue_length", p);
    for (int e = 0; e < N_EMOTIONS; e++) put(l, (double)st->emotion[e], "%s.emotion.%s", p, emotion_name(e));
    for (int s = 0; s < N_SENTIMENTS; s++) put(l, (double)st->sentiment[s], "%s.sentiment.%s", p, sentiment_name(s));
    for (int s = 0; s < N_SENTIMENTS; s++)
        for (int e = 0; e < N_EMOTIONS; e++)
            put(l, (double)st->sentiment_emotion[s][e], "%s.sentiment_emotion.%s.%s", p, sentiment_name(s), emotion_name(e));
    put(l, st->mean_words, "%s.mean_words", p);
    put(l, st->max_words, "%s.max_words", p);
    for (int i = 0; i < EDA_WORD_BINS; i++)
        if (st->words_hist[i]) put(l, (double)st->words_hist[i], "%s.words_histogram.%d", p, i);
    for (int e = 0; e < N_EMOTIONS; e++) put(l, st->mean_words_emotion[e], "%s.mean_words_per_emotion.%s", p, emotion_name(e));
    for (int s = 0; s < N_SENTIMENTS; s++)
        put(l, st->mean_words_sentiment[s], "%s.mean_words_per_sentiment.%s", p, sentiment_name(s));
    put(l, st->mean_emotions_per_dialogue, "%s.mean_emotions_per_dialogue", p);
    for (int i = 0; i < EDA_DIALOGUE_BINS; i++)
        if (st->dialogue_len_hist[i]) put(l, (double)st->dialogue_len_hist[i], "%s.dialogue_length_histogram.%d", p, i);
    put(l, (double)st->emotion_shifts, "%s.emotion_shifts", p);
    put(l, (double)st->same_speaker_pairs, "%s.same_speaker_pairs", p);
    put(l, st->mean_duration_s, "%s.mean_duration_s", p);
    put(l, st->max_duration_s, "%s.max_duration_s", p);
    put(l, (double)st->durations_bad, "%s.duration_issues", p);
    put(l, (double)st->gap_dialogues, "%s.gap_dialogues", p);
    put(l, (double)st->missing_utterance_ids, "%s.missing_utterance_ids", p);
    put(l, (double)st->missing_dialogue_ids, "%s.missing_dialogue_ids", p);
    put(l, st->imbalance_emotion, "%s.imbalance_ratio.emotion", p);
    put(l, st->imbalance_sentiment, "%s.imbalance_ratio.sentiment", p);
    for (int e = 0; e < N_EMOTIONS; e++) put(l, st->weight_emotion[e], "%s.class_weights.emotion.%s", p, emotion_name(e));
    for (int s = 0; s < N_SENTIMENTS; s++)
        put(l, st->weight_sentiment[s], "%s.class_weights.sentiment.%s", p, sentiment_name(s));
}

static void flatten_issues(KvList *l, const char *p, const Split *sp)
{
    for (size_t i = 0; i < sp->n_utts; i++) {
        const Utterance *u = &sp->utts[i];
        if (eda_duration_is_issue(u))
            put(l, (u->end_ms - u->start_ms) / 1000.0, "%s.duration_issue.%d.%d", p, u->dialogue_id, u->utterance_id);
    }
    int ids[2000];
    size_t n = eda_missing_dialogue_ids(sp, ids, 2000);
    assert_true(n <= 2000);
    for (size_t i = 0; i < n; i++) put(l, 1, "%s.missing_dialogue_id.%d", p, ids[i]);
    for (size_t k = 0; k < sp->n_dialogues; k++)
        if (sp->dialogues[k].n_missing_ids) put(l, sp->dialogues[k].n_missing_ids, "%s.gap.%d", p, sp->dialogues[k].id);
}

static int same_number(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

/* Every key of the expected file must be produced with the same value, and
 * every key produced must be in the file. */
static void compare_with_oracle(const EdaReport *r, const char *expected_path)
{
    KvList mine = {0};
    for (int s = 0; s < N_SPLITS; s++) {
        flatten_stats(&mine, split_name(s), &r->split[s]);
        flatten_issues(&mine, split_name(s), &r->ds->split[s]);
    }
    flatten_stats(&mine, "all", &r->all);

    FILE *f = fopen(expected_path, "r");
    assert_non_null(f);
    char line[256], key[128], val[64];
    size_t n_expected = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(sscanf(line, "%127s %63s", key, val), 2);
        double want = strtod(val, NULL); /* also reads "nan" and "inf" */
        n_expected++;
        size_t i = 0;
        while (i < mine.n && strcmp(mine.kv[i].key, key) != 0) i++;
        if (i == mine.n) {
            fprintf(stderr, "%s: not computed by the C code\n", key);
            bad++;
        } else if (!same_number(mine.kv[i].v, want)) {
            fprintf(stderr, "%s: C %.17g, oracle %.17g\n", key, mine.kv[i].v, want);
            bad++;
        }
    }
    fclose(f);
    if (n_expected != mine.n) fprintf(stderr, "oracle has %zu keys, the C code %zu\n", n_expected, mine.n);
    assert_int_equal(bad, 0);
    assert_int_equal(n_expected, mine.n); /* with no key missing above, the sets are equal */
    free(mine.kv);
}

static void tiny_numbers_match_the_oracle(void **state)
{
    (void)state;
    Dataset ds;
    EdaReport r;
    load(TINY, &ds, &r);
    compare_with_oracle(&r, "tests/fixtures/pipeline/eda_tiny_expected.txt");
    dataset_free(&ds);
}

static int have_meld(void)
{
    struct stat st;
    return stat(MELD_DIR "/train_sent_emo.csv", &st) == 0 && stat(MELD_DIR "/dev_sent_emo.csv", &st) == 0 &&
           stat(MELD_DIR "/test_sent_emo.csv", &st) == 0;
}

static void real_meld_matches_the_oracle(void **state)
{
    (void)state;
    if (!have_meld()) {
        fprintf(stderr, "skipped: %s/*_sent_emo.csv not found\n", MELD_DIR);
        skip();
    }
    Dataset ds;
    EdaReport r;
    load(MELD_DIR, &ds, &r);
    compare_with_oracle(&r, "tests/fixtures/pipeline/meld_eda_expected.txt");
    /* And the quirks listed in ../shared/meld/README.md, checked directly. */
    const Split *train = &ds.split[SPLIT_TRAIN], *test = &ds.split[SPLIT_TEST];
    int ids[4];
    assert_int_equal(eda_missing_dialogue_ids(train, ids, 4), 1);
    assert_int_equal(ids[0], 60);
    assert_int_equal(r.split[SPLIT_TRAIN].gap_dialogues, 72);
    assert_int_equal(r.split[SPLIT_TEST].max_dialogue_length, 33);
    assert_int_equal(r.all.max_dialogue_length, 33);
    int nonpositive = 0, near_300 = 0;
    for (size_t i = 0; i < test->n_utts; i++) {
        int d = test->utts[i].end_ms - test->utts[i].start_ms;
        nonpositive += d <= 0;
        near_300 += d > 290000 && d < 310000;
    }
    assert_int_equal(nonpositive, 1);
    assert_int_equal(near_300, 1);
    assert_int_equal(r.split[SPLIT_TRAIN].utterances, 9989);
    assert_int_equal(r.split[SPLIT_DEV].utterances, 1109);
    assert_int_equal(r.split[SPLIT_TEST].utterances, 2610);
    assert_int_equal(r.all.mojibake_repairs, 0);
    dataset_free(&ds);
}

/* ---- writers -------------------------------------------------------------- */

/* The text is one valid JSON document (tensor/json.h's check, whose own
 * tests are in test_tensor_json.c). */
static int json_valid(const char *text)
{
    JsonReader j;
    json_reader_init(&j, text, strlen(text));
    return json_check(&j) == 0;
}

static char *capture(const EdaReport *r, int (*writer)(const EdaReport *, FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(writer(r, mem), MELD_OK);
    assert_int_equal(fclose(mem), 0);
    return text;
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) n++;
    return n;
}

static void json_is_valid_and_has_the_documented_keys(void **state)
{
    (void)state;
    Dataset ds;
    EdaReport r;
    load(TINY, &ds, &r);
    char *json = capture(&r, eda_write_json);
    assert_true(json_valid(json));
    static const char *const keys[] = {
        "\"splits\": {", "\"train\": {", "\"all\": {", "\"utterances\": 7,", "\"dialogues\": 2,",
        "\"speakers\": 3,", "\"max_dialogue_length\": 5,", "\"emotion\": {", "\"sentiment\": {",
        "\"mean_words\": 2,", "\"max_words\": 4,", "\"mean_emotions_per_dialogue\": 3,", "\"emotion_shifts\": 3,",
        "\"mean_duration_s\": 1.708333333,", "\"data_issues\": {", "\"missing_dialogue_ids\": [1]",
        "\"imbalance_ratio\": {", "\"emotion\": null", "\"disgust\": null", "\"clips\": null",
        "\"text\"" /* must NOT appear: see below */};
    for (size_t i = 0; i + 1 < sizeof keys / sizeof keys[0]; i++) {
        if (!strstr(json, keys[i])) fprintf(stderr, "JSON lacks %s\n", keys[i]);
        assert_non_null(strstr(json, keys[i]));
    }
    assert_null(strstr(json, keys[sizeof keys / sizeof keys[0] - 1])); /* no utterance text in the report */
    assert_non_null(strstr(json, "\"dialogue\": 0,\n            \"n_missing\": 1,\n            \"missing\": [4]"));
    assert_non_null(strstr(json, "\"duration_s\": 67"));
    assert_non_null(strstr(json, "\"utterance_id_gaps\": [],")); /* dev has none */
    free(json);
    dataset_free(&ds);
}

static void text_report_lines(void **state)
{
    (void)state;
    Dataset ds;
    EdaReport r;
    load(TINY, &ds, &r);
    char *text = capture(&r, eda_write_text);
    static const char *const lines[] = {
        "utterances                                 7         2         2        11\n",
        "emotion shifts                             3         0         0         3\n",
        "longest dialogue (utterances)              5         2         2         5\n",
        "disgust          0   0.0%       1  50.0%       0   0.0%       1   9.1%    1.00        -     6.0\n",
        "fear             1  14.3%       0   0.0%       0   0.0%       1   9.1%    1.00    1.000    15.0\n",
        "  train line 7: dialogue 2 utterance 1: duration 0.000 s (00:10:05,000 -> 00:10:05,000)\n",
        "  train: 1 missing dialogue id: 1\n",
        "  train: 1 dialogue with utterance-id gaps (dialogue: missing ids): 0:4\n",
        "  dev line 3: dialogue 0 utterance 1: duration 67.000 s",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!strstr(text, lines[i])) fprintf(stderr, "report lacks:\n%s\nreport:\n%s", lines[i], text);
        assert_non_null(strstr(text, lines[i]));
    }
    free(text);
    dataset_free(&ds);
}

static void html_is_one_self_contained_page(void **state)
{
    (void)state;
    Dataset ds;
    EdaReport r;
    load(TINY, &ds, &r);
    char path[] = "/tmp/meld_eda_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(eda_write_html(&r, path), MELD_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char html[1 << 17];
    size_t n = fread(html, 1, sizeof html - 1, f);
    fclose(f);
    remove(path);
    html[n] = '\0';
    assert_true(n < sizeof html - 1);
    assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
    assert_non_null(strstr(html, "</html>\n"));
    /* 2 class charts, 2 histograms, 1 heat map */
    assert_int_equal(count(html, "<svg "), 5);
    assert_int_equal(count(html, "</svg>"), 5);
    /* nothing fetched from anywhere: the only URL is the SVG namespace */
    assert_int_equal(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "url("));
    /* counts are in the hover titles, text is escaped */
    assert_non_null(strstr(html, "<title>train joy: 2 (28.6%)</title>"));
    assert_non_null(strstr(html, "00:10:05,000 -&gt; 00:10:05,000"));
    dataset_free(&ds);
}

static void write_failures_are_reported(void **state)
{
    (void)state;
    Dataset ds;
    EdaReport r;
    load(TINY, &ds, &r);
    FILE *full = fopen("/dev/full", "w");
    if (!full) {
        dataset_free(&ds);
        skip();
    }
    setvbuf(full, NULL, _IONBF, 0);
    assert_int_equal(eda_write_json(&r, full), MELD_ERR);
    assert_non_null(strstr(meld_error(), "writing the JSON failed"));
    fclose(full);
    assert_int_equal(eda_write_html(&r, "/nonexistent/dir/eda.html"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/nonexistent/dir/eda.html"));
    dataset_free(&ds);
}

/* ---- command line ------------------------------------------------------- */

/* Runs cmdline in a shell; its stdout and stderr end up in out. Returns
 * the exit status. */
static int run(const char *cmdline, char *out, size_t cap)
{
    char tmp[] = "/tmp/meld_eda_cli_XXXXXX", full[2048];
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    snprintf(full, sizeof full, "%s > %s 2>&1", cmdline, tmp);
    int status = system(full);
    FILE *f = fopen(tmp, "rb");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    if (f) fclose(f);
    out[n] = '\0';
    remove(tmp);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void command_line(void **state)
{
    (void)state;
    const char *bin = getenv("MELD_BIN");
    if (!bin) {
        fprintf(stderr, "skipped: MELD_BIN is not set\n");
        skip();
    }
    static char out[1 << 16];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' eda --help", bin);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: meld eda"));
    snprintf(cmd, sizeof cmd, "'%s' eda --frobnicate", bin);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown option '--frobnicate'"));

    snprintf(cmd, sizeof cmd, "'%s' eda --data " TINY " --json", bin);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_true(json_valid(out));
    assert_non_null(strstr(out, "\"utterances\": 11,"));

    snprintf(cmd, sizeof cmd, "'%s' eda --data " TINY, bin);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "MELD annotations under " TINY));

    /* strict fails on the bad rows, --lenient goes through */
    char dir[] = "/tmp/meld_eda_cli_XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp tests/fixtures/pipeline/csv_lenient.csv %s/train_sent_emo.csv", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s' eda --data %s", bin, dir);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "meld eda: "));
    assert_non_null(strstr(out, "train_sent_emo.csv: line 3, column 'Emotion': unknown label 'happy'"));
    snprintf(cmd, sizeof cmd, "'%s' eda --data %s --lenient --html %s/eda.html", bin, dir, dir);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "warning: dev_sent_emo.csv not found"));
    assert_non_null(strstr(out, "rows skipped (--lenient)"));
    assert_non_null(strstr(out, "wrote "));

    /* nothing to find: say where we looked and how to get MELD */
    snprintf(cmd, sizeof cmd, "cd %s && env -u MELD_DATA '%s' eda", dir, bin);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "none of ./data, ./MELD.Raw, ./MELD exists"));
    assert_non_null(strstr(out, "declare-lab/MELD"));
    assert_non_null(strstr(out, "MELD_DATA=DIR"));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_are_whitespace_tokens),
        cmocka_unit_test(tiny_numbers_match_hand_computation),
        cmocka_unit_test(tiny_numbers_match_the_oracle),
        cmocka_unit_test(real_meld_matches_the_oracle),
        cmocka_unit_test(json_is_valid_and_has_the_documented_keys),
        cmocka_unit_test(text_report_lines),
        cmocka_unit_test(html_is_one_self_contained_page),
        cmocka_unit_test(write_failures_are_reported),
        cmocka_unit_test(command_line),
    };
    return cmocka_run_group_tests_name("pipeline: eda", tests, NULL, NULL);
}
