/* The dataset index: labels, timestamps, row errors (strict and lenient),
 * dialogue structure, finding the data, and clips in the MELD.Raw layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/data/dataset.h"
#include "pipeline/eda/eda.h"
#include "tensor/error.h"

#define TINY "tests/fixtures/pipeline/eda_tiny"

static void label_orders_are_fixed(void **state)
{
    (void)state;
    static const char *const emo[] = {"neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust"};
    static const char *const sent[] = {"neutral", "positive", "negative"};
    for (int i = 0; i < N_EMOTIONS; i++) {
        assert_string_equal(emotion_name(i), emo[i]);
        assert_int_equal(emotion_from_name(emo[i]), i);
    }
    for (int i = 0; i < N_SENTIMENTS; i++) {
        assert_string_equal(sentiment_name(i), sent[i]);
        assert_int_equal(sentiment_from_name(sent[i]), i);
    }
    assert_int_equal(EMOTION_DISGUST, 6);
    assert_int_equal(SENTIMENT_NEGATIVE, 2);
    assert_int_equal(emotion_from_name(" Surprise "), EMOTION_SURPRISE);
    assert_int_equal(emotion_from_name("happy"), -1);
    assert_int_equal(emotion_from_name("joyful"), -1);
    assert_int_equal(sentiment_from_name(""), -1);
    assert_string_equal(emotion_name(7), "?");
    assert_string_equal(split_name(SPLIT_TEST), "test");
}

static void timestamps_parse_as_srt(void **state)
{
    (void)state;
    int ms = -1;
    assert_int_equal(dataset_parse_time_ms("00:16:16,059", &ms), MELD_OK);
    assert_int_equal(ms, (16 * 60 + 16) * 1000 + 59);
    assert_int_equal(dataset_parse_time_ms("0:36:59,425", &ms), MELD_OK);
    assert_int_equal(ms, (36 * 60 + 59) * 1000 + 425);
    assert_int_equal(dataset_parse_time_ms("00:05:11,82", &ms), MELD_OK); /* decimal fraction */
    assert_int_equal(ms, (5 * 60 + 11) * 1000 + 820);
    assert_int_equal(dataset_parse_time_ms("01:00:00.5", &ms), MELD_OK);
    assert_int_equal(ms, 3600 * 1000 + 500);
    static const char *const bad[] = {"", "00:61:00,000", "00:00:60,000", "00:00:01", "00:00:01,0000",
                                      "100:00:01,000", "aa:00:01,000", "00:0:01,000", "00:00:01,000x",
                                      "-0:00:01,000", "00:00:01,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(dataset_parse_time_ms(bad[i], &ms), MELD_ERR);
    char buf[32];
    dataset_format_time((1 * 3600 + 2 * 60 + 3) * 1000 + 45, buf, sizeof buf);
    assert_string_equal(buf, "01:02:03,045");
}

static void expect_error(const char *path, const char *want)
{
    Split s;
    meld_error_clear();
    assert_int_equal(dataset_load_split(path, NULL, NULL, &s), MELD_ERR);
    if (!strstr(meld_error(), want)) fprintf(stderr, "error '%s' lacks '%s'\n", meld_error(), want);
    assert_non_null(strstr(meld_error(), want));
    assert_int_equal(s.present, 0);
}

static void bad_rows_are_errors_naming_file_line_and_column(void **state)
{
    (void)state;
    expect_error("tests/fixtures/pipeline/csv_missing_column.csv", "csv_missing_column.csv: line 1: missing column 'Speaker'");
    expect_error("tests/fixtures/pipeline/csv_bad_timestamp.csv",
                 "csv_bad_timestamp.csv: line 3, column 'StartTime': malformed timestamp '00:61:00,000'");
    expect_error("tests/fixtures/pipeline/csv_lenient.csv", "csv_lenient.csv: line 3, column 'Emotion': unknown label 'happy'");
    /* from memory: a row with an unquoted comma in the utterance */
    static const char text[] = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,"
                               "StartTime,EndTime\n1,Oh, no,Ross,fear,negative,0,0,1,1,0:00:01,000,0:00:02,000\n";
    Split s;
    assert_int_equal(dataset_parse_split(text, sizeof text - 1, "mem.csv", NULL, NULL, &s), MELD_ERR);
    assert_non_null(strstr(meld_error(), "mem.csv: line 2, row has 14 fields, the header has 11"));
    assert_int_equal(dataset_parse_split("", 0, "empty.csv", NULL, NULL, &s), MELD_ERR);
    assert_non_null(strstr(meld_error(), "empty.csv: empty file (no header row)"));
}

static void lenient_mode_skips_and_lists_bad_rows(void **state)
{
    (void)state;
    DatasetOptions opt = {1, 0};
    Split s;
    assert_int_equal(dataset_load_split("tests/fixtures/pipeline/csv_lenient.csv", NULL, &opt, &s), MELD_OK);
    assert_int_equal(s.n_utts, 2);
    assert_int_equal(s.n_skipped, 5);
    static const struct {
        long line;
        const char *why;
    } want[] = {
        {3, "column 'Emotion': unknown label 'happy'"},
        {4, "column 'Dialogue_ID': 'zero' is not a non-negative integer"},
        {5, "column 'StartTime': malformed timestamp '00:00:04'"},
        {6, "column 'Sentiment': missing (row has 4 fields, the header has 11)"},
        {8, "Dialogue_ID 0, Utterance_ID 4 already on line 7"},
    };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s.skipped[i].line, want[i].line);
        assert_non_null(strstr(s.skipped[i].reason, want[i].why));
    }
    assert_string_equal(s.utts[1].text, "Another good row.");
    const char *w = meld_take_warning();
    assert_non_null(w);
    assert_non_null(strstr(w, "skipped 5 bad rows"));
    split_free(&s);
}

/* The hand-written fixture (see tests/fixtures/pipeline/README_eda.md). */
static void tiny_train_split_has_the_known_structure(void **state)
{
    (void)state;
    Split s;
    assert_int_equal(dataset_load_split(TINY "/train_sent_emo.csv", NULL, NULL, &s), MELD_OK);
    assert_int_equal(s.n_utts, 7);
    assert_int_equal(s.n_dialogues, 2);
    const Dialogue *d0 = &s.dialogues[0], *d2 = &s.dialogues[1];
    assert_int_equal(d0->id, 0);
    assert_int_equal(d0->n_utts, 5);
    assert_int_equal(d0->max_utterance_id, 5);
    assert_int_equal(d0->n_missing_ids, 1); /* id 4 */
    assert_int_equal(d2->id, 2);
    assert_int_equal(d2->first, 5);
    /* rows 6 and 7 are in reverse order in the file; sorted here */
    const Utterance *u = &s.utts[5];
    assert_int_equal(u->utterance_id, 0);
    assert_string_equal(u->text, "Line one\nline two");
    assert_int_equal(u->line, 8);
    assert_int_equal(u->start_ms, 600000);
    assert_int_equal(u->end_ms, 604250); /* "0:10:04,25" */
    assert_int_equal(u->emotion, EMOTION_SADNESS);
    assert_int_equal(u->sentiment, SENTIMENT_NEGATIVE);
    assert_int_equal(u->season, 1);
    assert_int_equal(u->episode, 2);
    assert_int_equal(u->sr_no, 6);
    assert_string_equal(s.utts[2].text, "I said \"no\".");
    assert_string_equal(s.utts[2].speaker, "Ross");
    assert_null(s.utts[0].clip_path);
    split_free(&s);
}

static void columns_in_any_order_with_bom_and_crlf(void **state)
{
    (void)state;
    Split s;
    /* dev: columns reordered plus an extra one */
    assert_int_equal(dataset_load_split(TINY "/dev_sent_emo.csv", NULL, NULL, &s), MELD_OK);
    assert_int_equal(s.n_utts, 2);
    assert_string_equal(s.utts[0].speaker, "Joey");
    assert_string_equal(s.utts[0].text, "How you doin'?");
    assert_int_equal(s.utts[1].emotion, EMOTION_DISGUST);
    assert_int_equal(s.utts[1].sr_no, 2);
    split_free(&s);
    /* test: BOM, CRLF, "Neutral" capitalised */
    assert_int_equal(dataset_load_split(TINY "/test_sent_emo.csv", NULL, NULL, &s), MELD_OK);
    assert_int_equal(s.n_utts, 2);
    assert_int_equal(s.utts[0].sr_no, 1);
    assert_int_equal(s.utts[1].emotion, EMOTION_NEUTRAL);
    assert_string_equal(s.utts[1].text, "  spaced   words  ");
    split_free(&s);
}

/* ---- finding the data and clips, in a scratch folder -------------------- */

static char scratch[256];

static void put_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch, rel);
    /* make the parent folders */
    for (char *p = path + strlen(scratch) + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int make_scratch(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/meld_dataset_test_XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static int remove_scratch(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

/* MELD.Raw layout: CSVs at the top, clips in train/train_splits etc.
 * train (tiny fixture, 7 rows) gets: dia0_utt0.mp4 ok; dia0_utt1.mp4 empty
 * but .wav ok; dia0_utt2.mp4 empty; dia0_utt3.y4m a folder; dia0_utt5 only
 * as a macOS "._" file; nothing for dialogue 2; and an orphan dia9_utt9. */
static void clips_are_found_in_the_meld_raw_layout(void **state)
{
    (void)state;
    put_file("MELD.Raw/train_sent_emo.csv", slurp(TINY "/train_sent_emo.csv"));
    put_file("MELD.Raw/dev_sent_emo.csv", slurp(TINY "/dev_sent_emo.csv"));
    put_file("MELD.Raw/train/train_splits/dia0_utt0.mp4", "video");
    put_file("MELD.Raw/train/train_splits/dia0_utt1.mp4", "");
    put_file("MELD.Raw/train/train_splits/dia0_utt1.wav", "RIFF");
    put_file("MELD.Raw/train/train_splits/dia0_utt2.mp4", "");
    put_file("MELD.Raw/train/train_splits/dia0_utt3.y4m/x", "a folder, not a clip");
    put_file("MELD.Raw/train/train_splits/._dia0_utt5.mp4", "resource fork");
    put_file("MELD.Raw/train/train_splits/dia9_utt9.mp4", "orphan");
    put_file("MELD.Raw/old/train/dia0_utt0.mp4", "a decoy folder with fewer clips");
    put_file("MELD.Raw/dev_splits_complete/dia0_utt0.mp4", "v");
    put_file("MELD.Raw/dev_splits_complete/dia0_utt1.mp4", "v");
    put_file("MELD.Raw/copy/train_sent_emo.csv", "a deeper copy, not used");

    char root[300];
    snprintf(root, sizeof root, "%s/MELD.Raw", scratch);
    Dataset ds;
    assert_int_equal(dataset_load(root, &ds, NULL), MELD_OK);
    const char *w = meld_take_warning();
    assert_non_null(w);
    assert_non_null(strstr(w, "found 2 copies of train_sent_emo.csv"));
    assert_non_null(strstr(w, "test_sent_emo.csv not found"));
    assert_false(ds.split[SPLIT_TEST].present);

    const Split *tr = &ds.split[SPLIT_TRAIN];
    assert_non_null(strstr(tr->csv_path, "MELD.Raw/train_sent_emo.csv"));
    assert_non_null(strstr(tr->clip_dir, "MELD.Raw/train/train_splits"));
    assert_int_equal(tr->clips_found, 2);
    assert_int_equal(tr->clips_unreadable, 2);
    assert_int_equal(tr->clips_missing, 3);
    assert_int_equal(tr->clips_orphan, 1);
    const Utterance *u = tr->utts;
    assert_int_equal(u[0].clips, CLIP_MP4);
    assert_int_equal(u[1].clips, CLIP_WAV);
    assert_int_equal(u[1].bad_clips, CLIP_MP4);
    assert_non_null(strstr(u[1].clip_path, "train_splits/dia0_utt1.wav"));
    assert_null(u[2].clip_path);
    assert_int_equal(u[2].bad_clips, CLIP_MP4);
    assert_int_equal(u[3].bad_clips, CLIP_Y4M);
    assert_int_equal(u[4].utterance_id, 5);
    assert_int_equal(u[4].clips | u[4].bad_clips, 0); /* the "._" file does not count */
    char path[DATASET_PATH_MAX + 64];
    assert_int_equal(dataset_clip_path(tr, &u[1], CLIP_WAV, path, sizeof path), MELD_OK);
    assert_string_equal(path, u[1].clip_path);
    assert_int_equal(dataset_clip_path(tr, &u[1], CLIP_MP4, path, sizeof path), MELD_ERR);
    assert_int_equal(ds.split[SPLIT_DEV].clips_found, 2);
    assert_int_equal(dataset_n_utterances(&ds), 9);

    /* the EDA report sums and lists them */
    EdaReport r;
    assert_int_equal(eda_compute(&ds, &r), MELD_OK);
    assert_true(r.all.has_clips);
    assert_int_equal(r.all.clips_found, 4);
    assert_int_equal(r.all.clips_missing, 3);
    assert_int_equal(r.all.clips_unreadable, 2);
    assert_int_equal(r.all.clips_orphan, 1);
    char *json = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&json, &len);
    assert_non_null(mem);
    assert_int_equal(eda_write_json(&r, mem), MELD_OK);
    assert_int_equal(fclose(mem), 0);
    assert_non_null(strstr(json, "\"missing_clips\": [\n          \"dia0_utt5\",\n          \"dia2_utt0\",\n"));
    assert_non_null(strstr(json, "\"unreadable_clips\": [\n          \"dia0_utt2\",\n          \"dia0_utt3\"\n"));
    assert_non_null(strstr(json, "\"found\": 4,"));
    free(json);
    dataset_free(&ds);

    /* --no-clips */
    DatasetOptions opt = {0, 1};
    assert_int_equal(dataset_load(root, &ds, &opt), MELD_OK);
    assert_int_equal(ds.split[SPLIT_TRAIN].clips_found + ds.split[SPLIT_TRAIN].clips_missing, 0);
    assert_string_equal(ds.split[SPLIT_TRAIN].clip_dir, "");
    assert_null(ds.split[SPLIT_TRAIN].utts[0].clip_path);
    dataset_free(&ds);
    meld_take_warning();
}

/* CSVs and plain split folders side by side, found through MELD_DATA. */
static void meld_data_and_side_by_side_layout(void **state)
{
    (void)state;
    put_file("flat/test_sent_emo.csv", slurp(TINY "/test_sent_emo.csv"));
    put_file("flat/test/dia0_utt1.wav", "RIFF");
    char root[300];
    snprintf(root, sizeof root, "%s/flat/", scratch); /* trailing '/' is tidied away */
    setenv("MELD_DATA", root, 1);
    DatasetLocation loc;
    assert_int_equal(dataset_locate(NULL, &loc), MELD_OK);
    assert_non_null(strstr(loc.csv[SPLIT_TEST], "/flat/test_sent_emo.csv"));
    assert_null(strstr(loc.csv[SPLIT_TEST], "//"));
    assert_non_null(strstr(loc.clip_dir[SPLIT_TEST], "/flat/test"));
    assert_string_equal(loc.csv[SPLIT_TRAIN], "");
    Dataset ds;
    assert_int_equal(dataset_load(NULL, &ds, NULL), MELD_OK);
    assert_int_equal(ds.split[SPLIT_TEST].clips_found, 1);
    assert_int_equal(ds.split[SPLIT_TEST].clips_missing, 1);
    dataset_free(&ds);
    meld_take_warning();

    /* MELD_DATA naming a missing folder, and a folder with no CSVs */
    setenv("MELD_DATA", "/nonexistent/meld", 1);
    assert_int_equal(dataset_locate(NULL, &loc), MELD_ERR);
    assert_non_null(strstr(meld_error(), "MELD_DATA=/nonexistent/meld: no such folder"));
    unsetenv("MELD_DATA");
    put_file("empty/readme.txt", "nothing here");
    snprintf(root, sizeof root, "%s/empty", scratch);
    assert_int_equal(dataset_locate(root, &loc), MELD_ERR);
    assert_non_null(strstr(meld_error(), "no MELD annotation files"));
    assert_non_null(strstr(meld_error(), "folders searched"));
    assert_int_equal(dataset_locate("/nonexistent/meld", &loc), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/nonexistent/meld: no such folder"));
}

/* No folder given, no MELD_DATA: the defaults relative to the current
 * folder are tried, and the message says so; then ./data is found. */
static void defaults_are_tried_and_named(void **state)
{
    (void)state;
    char here[1024], dir[300];
    assert_non_null(getcwd(here, sizeof here));
    put_file("nowhere/x.txt", "");
    snprintf(dir, sizeof dir, "%s/nowhere", scratch);
    unsetenv("MELD_DATA");
    DatasetLocation loc;
    assert_int_equal(chdir(dir), 0);
    int rc = dataset_locate(NULL, &loc);
    assert_int_equal(chdir(here), 0);
    assert_int_equal(rc, MELD_ERR);
    assert_non_null(strstr(meld_error(), "none of ./data, ./MELD.Raw, ./MELD exists"));

    put_file("nowhere/data/MELD/dev_sent_emo.csv", slurp(TINY "/dev_sent_emo.csv"));
    assert_int_equal(chdir(dir), 0);
    rc = dataset_locate(NULL, &loc);
    assert_int_equal(chdir(here), 0);
    assert_int_equal(rc, MELD_OK);
    assert_string_equal(loc.root, "data");
    assert_string_equal(loc.csv[SPLIT_DEV], "data/MELD/dev_sent_emo.csv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_orders_are_fixed),
        cmocka_unit_test(timestamps_parse_as_srt),
        cmocka_unit_test(bad_rows_are_errors_naming_file_line_and_column),
        cmocka_unit_test(lenient_mode_skips_and_lists_bad_rows),
        cmocka_unit_test(tiny_train_split_has_the_known_structure),
        cmocka_unit_test(columns_in_any_order_with_bom_and_crlf),
        cmocka_unit_test(clips_are_found_in_the_meld_raw_layout),
        cmocka_unit_test(meld_data_and_side_by_side_layout),
        cmocka_unit_test(defaults_are_tried_and_named),
    };
    return cmocka_run_group_tests_name("pipeline: dataset", tests, make_scratch, remove_scratch);
}
