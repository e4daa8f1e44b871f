/* The CSV reader: RFC 4180 cases, line ends, BOM, mojibake and cp1252
 * repair, errors with line numbers, a random round trip, and fuzzing of the
 * reader and the dataset/EDA layers above it (run it under SAN=1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline/data/csv.h"
#include "pipeline/data/dataset.h"
#include "pipeline/eda/eda.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/utf8.h"

static void parse_ok(const char *data, CsvTable *t)
{
    int rc = csv_parse(data, strlen(data), "t.csv", t);
    if (rc) fprintf(stderr, "unexpected error: %s\n", meld_error());
    assert_int_equal(rc, MELD_OK);
}

static void parse_fails(const char *data, size_t len, const char *want)
{
    CsvTable t;
    meld_error_clear();
    assert_int_equal(csv_parse(data, len, "t.csv", &t), MELD_ERR);
    if (!strstr(meld_error(), want)) fprintf(stderr, "error '%s' lacks '%s'\n", meld_error(), want);
    assert_non_null(strstr(meld_error(), want));
    assert_null(t.buf);
}

static void quoted_fields_hold_commas_quotes_and_newlines(void **state)
{
    (void)state;
    CsvTable t;
    parse_ok("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,row,here\n", &t);
    assert_int_equal(t.n_rows, 3);
    assert_int_equal(csv_row_fields(&t, 1), 3);
    assert_string_equal(csv_field(&t, 1, 0), "x, y");
    assert_string_equal(csv_field(&t, 1, 1), "say \"hi\"");
    assert_string_equal(csv_field(&t, 1, 2), "two\nlines");
    assert_string_equal(csv_field(&t, 2, 2), "here");
    /* the row after a two-line record starts on line 4 */
    assert_int_equal(t.row_line[1], 2);
    assert_int_equal(t.row_line[2], 4);
    assert_null(csv_field(&t, 1, 3));
    csv_free(&t);
}

static void crlf_lf_and_lone_cr_all_end_records(void **state)
{
    (void)state;
    CsvTable t;
    parse_ok("a,b\r\n1,2\n3,4\r5,6", &t); /* and no line end after the last */
    assert_int_equal(t.n_rows, 4);
    assert_string_equal(csv_field(&t, 0, 1), "b");
    assert_string_equal(csv_field(&t, 1, 1), "2");
    assert_string_equal(csv_field(&t, 2, 0), "3");
    assert_string_equal(csv_field(&t, 3, 1), "6");
    for (int r = 0; r < 4; r++) assert_int_equal(t.row_line[r], r + 1);
    csv_free(&t);
    /* CRLF inside quotes is kept, and counts as one line */
    parse_ok("\"x\r\ny\",2\r\n3,4\r\n", &t);
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(csv_field(&t, 0, 0), "x\r\ny");
    assert_int_equal(t.row_line[1], 3);
    csv_free(&t);
}

static void bom_dropped_blank_lines_skipped_empty_fields_kept(void **state)
{
    (void)state;
    CsvTable t;
    parse_ok("\xEF\xBB\xBFSr No.,b\n\n1,2\r\n\r\n,,\n\"\"\n", &t);
    assert_int_equal(t.n_rows, 4);
    assert_string_equal(csv_field(&t, 0, 0), "Sr No.");
    assert_int_equal(t.row_line[1], 3);
    assert_int_equal(csv_row_fields(&t, 2), 3); /* ",," is three empty fields */
    assert_string_equal(csv_field(&t, 2, 2), "");
    assert_int_equal(csv_row_fields(&t, 3), 1); /* a quoted empty field is a record */
    assert_int_equal(csv_find_column(&t, "SR NO."), 0);
    assert_int_equal(csv_find_column(&t, "B"), 1);
    assert_int_equal(csv_find_column(&t, "c"), -1);
    csv_free(&t);
    parse_ok("", &t);
    assert_int_equal(t.n_rows, 0);
    assert_int_equal(csv_find_column(&t, "a"), -1);
    csv_free(&t);
    parse_ok("x, Emotion \t\n", &t); /* header names are trimmed */
    assert_int_equal(csv_find_column(&t, "emotion"), 1);
    csv_free(&t);
    /* a quote inside an unquoted field is just a character */
    parse_ok("5'11\" tall,x\n", &t);
    assert_string_equal(csv_field(&t, 0, 0), "5'11\" tall");
    csv_free(&t);
}

static void malformed_input_is_an_error_with_its_line(void **state)
{
    (void)state;
    parse_fails("a,b\n1,\"open\n2,3\n", 16, "t.csv: line 4: quoted field never closed (opened on line 2)");
    parse_fails("a,b\n\"x\"y,2\n", 11, "t.csv: line 2, field 1: unexpected character after closing quote");
    parse_fails("a,b\n1,2\nx\0y,3\n", 14, "t.csv: line 3: NUL byte");
    parse_fails("x", CSV_MAX_BYTES + 1, "more than"); /* refused before any byte is read */
    CsvTable t;
    meld_error_clear();
    assert_int_equal(csv_read_file("tests/fixtures/pipeline/no_such_file.csv", &t), MELD_ERR);
    assert_non_null(strstr(meld_error(), "no_such_file.csv: cannot open"));
}

/* Mojibake strings made with Python: s.encode("utf-8").decode("cp1252"). */
static void mojibake_is_repaired(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"It\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2s", "It\xE2\x80\x99s"},         /* â€™ -> ’ */
        {"a \xC3\xA2\xE2\x82\xAC\xE2\x80\x9D b", "a \xE2\x80\x94 b"},       /* â€” -> — */
        {"so\xC3\xA2\xE2\x82\xAC\xC2\xA6", "so\xE2\x80\xA6"},               /* â€¦ -> … */
        {"caf\xC3\x83\xC2\xA9", "caf\xC3\xA9"},                             /* Ã© -> é */
        {"\xC3\xA2\xE2\x82\xAC\xC5\x93q", "\xE2\x80\x9Cq"},                 /* â€œ -> “ */
        {"\xC3\xA2\xE2\x80\x9A\xC2\xAC 5", "\xE2\x82\xAC 5"},               /* â‚¬ -> € */
        {"x\xC3\xA2\xE2\x82\xAC\xC2\x9D", "x\xE2\x80\x9D"},                 /* â€ + U+009D (Latin-1) -> ” */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        strcpy(buf, cases[i][0]);
        assert_int_equal(csv_repair_mojibake(buf), 1);
        assert_string_equal(buf, cases[i][1]);
    }
    /* Correct text is left alone: ’ — … é ü ñ “ ” and plain ASCII. */
    const char *clean = "It\xE2\x80\x99s \xE2\x80\x94 \xE2\x80\xA6 caf\xC3\xA9 \xC3\xBC \xC3\xB1 "
                        "\xE2\x80\x9Cq\xE2\x80\x9D plain, ASCII";
    char buf[128];
    strcpy(buf, clean);
    assert_int_equal(csv_repair_mojibake(buf), 0);
    assert_string_equal(buf, clean);
}

static void double_mojibake_and_cp1252_bytes_are_repaired_by_the_reader(void **state)
{
    (void)state;
    CsvTable t;
    /* ’ mangled twice: Ã¢â‚¬â„¢ */
    parse_ok("h\nIt\xC3\x83\xC2\xA2\xC3\xA2\xE2\x80\x9A\xC2\xAC\xC3\xA2\xE2\x80\x9E\xC2\xA2s\n", &t);
    assert_string_equal(csv_field(&t, 1, 0), "It\xE2\x80\x99s");
    assert_int_equal(t.mojibake_repairs, 4); /* 3 in round 1, then 1 */
    csv_free(&t);
    /* A cp1252 file: 0xE9 is é, 0x92 is ’; neither is valid UTF-8 here. */
    parse_ok("h\ncaf\xE9 it\x92s\n", &t);
    assert_string_equal(csv_field(&t, 1, 0), "caf\xC3\xA9 it\xE2\x80\x99s");
    assert_int_equal(t.cp1252_bytes, 2);
    assert_int_equal(t.mojibake_repairs, 0);
    csv_free(&t);
    assert_non_null(meld_take_warning());
}

static void mojibake_fixture_file_is_repaired(void **state)
{
    (void)state;
    Split s;
    assert_int_equal(dataset_load_split("tests/fixtures/pipeline/csv_mojibake.csv", NULL, NULL, &s), MELD_OK);
    assert_int_equal(s.n_utts, 2);
    /* "Weâ€™re here â€” finally â€¦ cafÃ©" */
    assert_string_equal(s.utts[0].text, "We\xE2\x80\x99re here \xE2\x80\x94 finally \xE2\x80\xA6 caf\xC3\xA9");
    /* the clean line is unchanged */
    assert_string_equal(s.utts[1].text, "Clean line: it\xE2\x80\x99s fine \xE2\x80\x94 really\xE2\x80\xA6 caf\xC3\xA9");
    assert_int_equal(s.csv.mojibake_repairs, 4);
    split_free(&s);
    meld_take_warning();
}

/* ---- random round trip ------------------------------------------------ */

static const char *const PIECES[] = {"a", "b", ",", "\"", "\n", "\r", " ", "\xC3\xA9", "\r\n", "x"};

static void random_field(Rng *r, char *out, size_t cap)
{
    size_t n = rng_below(r, 6), len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *p = PIECES[rng_below(r, sizeof PIECES / sizeof PIECES[0])];
        size_t pl = strlen(p);
        if (len + pl >= cap) break;
        for (size_t k = 0; k <= pl; k++) out[len + k] = p[k];
        len += pl;
    }
}

/* RFC 4180 writer: quote when needed (and sometimes when not). */
static void append_field(char *dst, const char *f, int force_quote)
{
    int quote = force_quote || strpbrk(f, ",\"\r\n") != NULL;
    char *w = dst + strlen(dst);
    if (quote) *w++ = '"';
    for (const char *p = f; *p; p++) {
        if (*p == '"') *w++ = '"';
        *w++ = *p;
    }
    if (quote) *w++ = '"';
    *w = '\0';
}

static void random_tables_survive_a_round_trip(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 20240601, 7);
    static char fields[6][6][32];
    static char text[8192];
    for (int iter = 0; iter < 2000; iter++) {
        int rows = 1 + (int)rng_below(&r, 5), cols = 1 + (int)rng_below(&r, 5);
        text[0] = '\0';
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                random_field(&r, fields[i][j], sizeof fields[i][j]);
                if (j) strcat(text, ",");
                /* a lone empty field must be quoted, or it reads as a blank line */
                append_field(text, fields[i][j], (cols == 1 && !fields[i][j][0]) || rng_below(&r, 4) == 0);
            }
            if (i + 1 < rows || rng_below(&r, 2)) strcat(text, rng_below(&r, 2) ? "\r\n" : "\n");
        }
        CsvTable t;
        parse_ok(text, &t);
        assert_int_equal(t.n_rows, (size_t)rows);
        for (int i = 0; i < rows; i++) {
            assert_int_equal(csv_row_fields(&t, (size_t)i), (size_t)cols);
            for (int j = 0; j < cols; j++) assert_string_equal(csv_field(&t, (size_t)i, (size_t)j), fields[i][j]);
        }
        csv_free(&t);
    }
}

/* ---- fuzzing ------------------------------------------------------------ */

static const char SEED[] =
    "\xEF\xBB\xBFSr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\r\n"
    "1,\"Oh, hi \"\"you\"\"!\",Ross,joy,positive,0,0,1,1,\"00:00:01,000\",\"00:00:02,500\"\r\n"
    "2,We\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2re fine.,Rachel,neutral,neutral,0,1,1,1,\"0:00:02,5\",\"0:00:03,000\"\r\n"
    "3,\"two\nlines\",Ross,anger,negative,0,3,1,1,\"00:00:03,000\",\"00:00:02,000\"\r\n"
    "4,caf\xE9,Monica,surprise,positive,2,0,1,2,\"00:10:00,000\",\"00:11:30,000\"\r\n";

static const unsigned char INTERESTING[] = {',', '"', '\n', '\r', '\0', 0xE2, 0x80, 0x99, 0xC3, 0xA2,
                                            0xFF, ' ', ':', '0', '9', '-', 'j', 0xEF};

static unsigned char random_byte(Rng *r)
{
    if (rng_below(r, 3) == 0) return (unsigned char)rng_below(r, 256);
    return INTERESTING[rng_below(r, sizeof INTERESTING)];
}

/* Applies 1..8 random edits (replace, insert, delete, truncate, repeat). */
static size_t mutate(Rng *r, unsigned char *buf, size_t len, size_t cap)
{
    int edits = 1 + (int)rng_below(r, 8);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = rng_below(r, (uint32_t)len);
        switch (rng_below(r, 5)) {
        case 0: buf[at] = random_byte(r); break;
        case 1:
            if (len < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = random_byte(r);
                len++;
            }
            break;
        case 2:
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
            break;
        case 3: len = at; break;
        default: {
            size_t n = 1 + rng_below(r, 40);
            if (at + n > len) n = len - at;
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n; /* the chunk now appears twice */
            }
        }
        }
    }
    return len;
}

/* What every successful load must satisfy. */
static void check_split(const Split *s, size_t rows)
{
    assert_int_equal(s->n_utts + s->n_skipped, rows);
    size_t covered = 0;
    for (size_t i = 0; i < s->n_utts; i++) {
        const Utterance *u = &s->utts[i];
        assert_true(u->emotion >= 0 && u->emotion < N_EMOTIONS);
        assert_true(u->sentiment >= 0 && u->sentiment < N_SENTIMENTS);
        assert_true(utf8_valid(u->text, strlen(u->text)));
        assert_true(utf8_valid(u->speaker, strlen(u->speaker)));
        if (i) {
            const Utterance *p = &s->utts[i - 1];
            assert_true(p->dialogue_id < u->dialogue_id ||
                        (p->dialogue_id == u->dialogue_id && p->utterance_id < u->utterance_id));
        }
    }
    for (size_t k = 0; k < s->n_dialogues; k++) {
        const Dialogue *d = &s->dialogues[k];
        assert_int_equal(d->first, covered);
        assert_true(d->n_missing_ids >= 0);
        covered += (size_t)d->n_utts;
    }
    assert_int_equal(covered, s->n_utts);
}

static void fuzzed_csv_never_crashes(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 99, 1);
    const size_t seed_len = sizeof SEED - 1, cap = 2 * seed_len;
    unsigned char *work = malloc(cap);
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(work);
    assert_non_null(devnull);
    size_t loaded = 0, failed = 0;
    /* MELD_FUZZ_ITERS=1000000 for a longer run by hand */
    long iters = getenv("MELD_FUZZ_ITERS") ? atol(getenv("MELD_FUZZ_ITERS")) : 20000;
    for (long iter = 0; iter < iters; iter++) {
        memcpy(work, SEED, seed_len);
        size_t len = mutate(&r, work, seed_len, cap);
        /* an exact-size copy so the sanitizer catches any read past len */
        char *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, work, len);
        DatasetOptions opt = {(int)(iter & 1), 1};
        Dataset ds;
        memset(&ds, 0, sizeof ds);
        meld_error_clear();
        if (dataset_parse_split(exact, len, "fuzz.csv", NULL, &opt, &ds.split[SPLIT_TRAIN]) == MELD_OK) {
            loaded++;
            check_split(&ds.split[SPLIT_TRAIN], ds.split[SPLIT_TRAIN].csv.n_rows - 1);
            EdaReport rep;
            assert_int_equal(eda_compute(&ds, &rep), MELD_OK);
            assert_int_equal(eda_write_json(&rep, devnull), MELD_OK);
            assert_int_equal(eda_write_text(&rep, devnull), MELD_OK);
            dataset_free(&ds);
        } else {
            failed++;
            assert_non_null(strstr(meld_error(), "fuzz.csv"));
        }
        meld_take_warning();
        free(exact);
    }
    /* Both paths must have been exercised for the test to mean anything. */
    fprintf(stderr, "fuzz: %zu inputs loaded, %zu rejected\n", loaded, failed);
    assert_true(loaded > (size_t)iters / 20);
    assert_true(failed > (size_t)iters / 20);
    fclose(devnull);
    free(work);
}

static void fuzzed_mojibake_repair_keeps_utf8_valid(void **state)
{
    (void)state;
    static const char *const bits[] = {"\xC3\xA2", "\xE2\x82\xAC", "\xE2\x84\xA2", "\xC3\x83", "\xC2\xA9",
                                       "a",        "\xE2\x80\x99", "\xC2\xA0",     "\xC2\x9D", "\xC3\xAF",
                                       "\xC2\xBB", "\xC2\xBF",     "\xC3\xB0",     "\xC5\xB8", "\xFF"};
    Rng r;
    rng_seed(&r, 5, 5);
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int n = (int)rng_below(&r, 12);
        for (int i = 0; i < n; i++) {
            const char *b = bits[rng_below(&r, sizeof bits / sizeof bits[0])];
            memcpy(buf + len, b, strlen(b));
            len += strlen(b);
        }
        buf[len] = '\0';
        int valid = utf8_valid(buf, len);
        csv_repair_mojibake(buf);
        assert_true(strlen(buf) <= len);
        if (valid) assert_true(utf8_valid(buf, strlen(buf)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoted_fields_hold_commas_quotes_and_newlines),
        cmocka_unit_test(crlf_lf_and_lone_cr_all_end_records),
        cmocka_unit_test(bom_dropped_blank_lines_skipped_empty_fields_kept),
        cmocka_unit_test(malformed_input_is_an_error_with_its_line),
        cmocka_unit_test(mojibake_is_repaired),
        cmocka_unit_test(double_mojibake_and_cp1252_bytes_are_repaired_by_the_reader),
        cmocka_unit_test(mojibake_fixture_file_is_repaired),
        cmocka_unit_test(random_tables_survive_a_round_trip),
        cmocka_unit_test(fuzzed_csv_never_crashes),
        cmocka_unit_test(fuzzed_mojibake_repair_keeps_utf8_valid),
    };
    return cmocka_run_group_tests_name("pipeline: csv", tests, NULL, NULL);
}
