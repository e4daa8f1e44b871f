/* tensor/json.h: the reader's syntax check (what it accepts, what it
 * refuses and where), its primitives (strings with escapes and surrogate
 * pairs, integers at the 64-bit limit, numbers, member iteration), and the
 * writer: the three styles byte for byte, null for NaN and Infinity,
 * escaping, U+FFFD for bytes that are not UTF-8, misuse and write errors,
 * and random documents that the reader reads back exactly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/json.h"
#include "tensor/rng.h"
#include "tensor/utf8.h"

static int check(const char *text, const char **problem, size_t *at)
{
    JsonReader j;
    json_reader_init(&j, text, strlen(text));
    int rc = json_check(&j);
    if (problem) *problem = j.problem;
    if (at) *at = j.problem_pos;
    return rc;
}

static void check_accepts_json(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}", "[]", "0", "-0", "1.5e-3", "-2.5E+30", "\"\"", "true", "false", "null", " \t\r\n{} \n",
        "{\"a\": [1, -2.5e3, null, \"x\\n\"], \"b\": {}}",
        "[\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\xc3\xa9\xf0\x9f\x98\x80\"]",
        "{\"\": {\"\": [[[]]]}}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (check(good[i], NULL, NULL)) fail_msg("refused: %s", good[i]);
}

static void check_refuses_broken_json_and_says_where(void **state)
{
    (void)state;
    static const struct {
        const char *text, *problem;
        size_t at;
    } bad[] = {
        {"{\"a\": 1 \"b\": 2}", "expected ',' or '}'", 8},
        {"{\"a\": [1, 2,]}", "unexpected character", 12},
        {"{\"a\": nan}", "unexpected character", 6},
        {"{\"a\": \"tab\there\"}", "control character inside a string", 10},
        {"{\"a\": 01}", "expected ',' or '}'", 7},
        {"{\"a\": 1.}", "bad number", 6},
        {"{\"a\\q\": 1}", "bad escape sequence", 3},
        {"[\"\\ud800x\"]", "bad escape sequence", 2},
        {"[\"\\udc00\"]", "bad escape sequence", 2},
        {"[\"\\u0000\"]", "\\u0000 inside a string is not supported", 2},
        {"[\"\xc0\xaf\"]", "invalid UTF-8 inside a string", 2},
        {"[\"abc", "unterminated string", 1},
        {"[1, 2", "unexpected end of input", 5},
        {"", "unexpected end of input", 0},
        {"{} x", "text after the JSON value", 3},
        {"{1: 2}", "expected a string", 1},
        {"{\"a\" 1}", "expected ':' after a key", 5},
        {"tru", "unexpected character", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *problem;
        size_t at;
        if (!check(bad[i].text, &problem, &at)) fail_msg("accepted: %s", bad[i].text);
        if (strcmp(problem, bad[i].problem) || at != bad[i].at)
            fail_msg("%s: '%s' at %zu, expected '%s' at %zu", bad[i].text, problem, at, bad[i].problem, bad[i].at);
    }
    /* depth: 64 levels are fine, 65 are not */
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    const char *problem;
    assert_int_equal(check(deep, &problem, NULL), -1);
    assert_string_equal(problem, "nesting deeper than 64 levels");
    deep[64] = ' ', deep[65] = ' ';
    assert_int_equal(check(deep, NULL, NULL), 0);
}

static void primitives_read_values(void **state)
{
    (void)state;
    const char *text = "{\"s\": \"a\\u00e9\\ud83d\\ude00\\n\", \"u\": 18446744073709551615, \"x\": -1.5e3, "
                       "\"skip\": [1, {\"a\": \"}\"}], \"last\": true}";
    JsonReader j;
    json_reader_init(&j, text, strlen(text));
    assert_int_equal(json_check(&j), 0);
    assert_int_equal(json_peek(&j), '{');
    j.pos++;
    char *key, *s;
    uint64_t u;
    double x;
    int seen = 0;
    while (json_next_member(&j, &key) > 0) {
        if (!strcmp(key, "s")) {
            assert_int_equal(json_read_string(&j, &s), 0);
            assert_string_equal(s, "a\xc3\xa9\xf0\x9f\x98\x80\n");
            free(s);
        } else if (!strcmp(key, "u")) {
            assert_int_equal(json_read_uint(&j, &u), 0);
            assert_true(u == UINT64_MAX);
        } else if (!strcmp(key, "x")) {
            assert_int_equal(json_read_number(&j, &x), 0);
            assert_true(x == -1500.0);
        } else {
            assert_int_equal(json_skip_value(&j), 0);
        }
        seen++;
        free(key);
    }
    assert_int_equal(seen, 5);
    assert_int_equal(json_peek(&j), -1);
    /* integers past 64 bits, fractions and negatives are not unsigned integers */
    static const char *const not_uint[] = {"18446744073709551616", "1.0", "1e3", "-1"};
    for (int i = 0; i < 4; i++) {
        json_reader_init(&j, not_uint[i], strlen(not_uint[i]));
        if (json_read_uint(&j, &u) != 1) fail_msg("%s read as an unsigned integer", not_uint[i]);
    }
    json_reader_init(&j, "\"x\"", 3);
    assert_int_equal(json_read_number(&j, &x), -1);
    assert_string_equal(j.problem, "expected a number");
}

/* ---- writing ---------------------------------------------------------------- */

static char *write_sample(JsonStyle style)
{
    JsonWriter w;
    json_writer_init(&w, style, NULL);
    json_begin_object(&w, NULL);
    json_string(&w, "name", "a\"b\\c\n\t\x01\x7f\xc3\xa9");
    json_int(&w, "n", -3);
    json_uint(&w, "u", 18446744073709551615ull);
    json_real(&w, "x", 0.25, "%.6f");
    json_real(&w, "nan", NAN, "%.6f");
    json_real(&w, "inf", -INFINITY, "%.10g");
    json_bool(&w, "yes", true);
    json_null(&w, "none");
    json_begin_array_inline(&w, "hist");
    for (int i = 1; i <= 3; i++) json_int(&w, NULL, i);
    json_end_array(&w);
    json_begin_array(&w, "list");
    json_begin_object(&w, NULL);
    json_end_object(&w);
    json_begin_array(&w, NULL);
    json_end_array(&w);
    json_string(&w, NULL, "z");
    json_end_array(&w);
    json_end_object(&w);
    assert_int_equal(json_writer_finish(&w, "test"), MELD_OK);
    return w.buf;
}

static void writer_styles_byte_for_byte(void **state)
{
    (void)state;
    char *pretty = write_sample(JSON_PRETTY), *line = write_sample(JSON_LINE), *mini = write_sample(JSON_MINIFIED);
    assert_string_equal(pretty, "{\n"
                                "  \"name\": \"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\",\n"
                                "  \"n\": -3,\n"
                                "  \"u\": 18446744073709551615,\n"
                                "  \"x\": 0.250000,\n"
                                "  \"nan\": null,\n"
                                "  \"inf\": null,\n"
                                "  \"yes\": true,\n"
                                "  \"none\": null,\n"
                                "  \"hist\": [1, 2, 3],\n"
                                "  \"list\": [\n"
                                "    {},\n"
                                "    [],\n"
                                "    \"z\"\n"
                                "  ]\n"
                                "}");
    assert_string_equal(line, "{\"name\": \"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\", \"n\": -3, "
                              "\"u\": 18446744073709551615, \"x\": 0.250000, \"nan\": null, \"inf\": null, "
                              "\"yes\": true, \"none\": null, \"hist\": [1, 2, 3], \"list\": [{}, [], \"z\"]}");
    assert_string_equal(mini, "{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\",\"n\":-3,"
                              "\"u\":18446744073709551615,\"x\":0.250000,\"nan\":null,\"inf\":null,"
                              "\"yes\":true,\"none\":null,\"hist\":[1,2,3],\"list\":[{},[],\"z\"]}");
    const char *docs[3] = {pretty, line, mini};
    for (int i = 0; i < 3; i++) assert_int_equal(check(docs[i], NULL, NULL), 0);
    free(pretty), free(line), free(mini);
}

static void writer_replaces_what_is_not_utf8(void **state)
{
    (void)state;
    JsonWriter w;
    json_writer_init(&w, JSON_LINE, NULL);
    json_string(&w, NULL, "a\xff" "b\xc0\xaf" "c\xe2\x80");   /* a stray byte, an overlong, a truncated tail */
    assert_int_equal(json_writer_finish(&w, "test"), MELD_OK);
    assert_string_equal(w.buf, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\"");
    assert_int_equal(check(w.buf, NULL, NULL), 0);
    json_writer_free(&w);
}

static void writer_reports_misuse_and_write_errors(void **state)
{
    (void)state;
    JsonWriter w;
    json_writer_init(&w, JSON_LINE, NULL);
    json_begin_array(&w, NULL);
    json_int(&w, "key", 1);
    json_end_array(&w);
    assert_int_equal(json_writer_finish(&w, "t"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "a key inside an array"));
    json_writer_free(&w);
    json_writer_init(&w, JSON_LINE, NULL);
    json_begin_object(&w, NULL);
    json_int(&w, NULL, 1);
    json_end_object(&w);
    assert_int_equal(json_writer_finish(&w, "t"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "without a key"));
    json_writer_free(&w);
    json_writer_init(&w, JSON_LINE, NULL);
    json_begin_object(&w, NULL);
    assert_int_equal(json_writer_finish(&w, "t"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "1 container left open"));
    json_writer_free(&w);
    json_writer_init(&w, JSON_LINE, NULL);
    json_end_array(&w);
    assert_int_equal(json_writer_finish(&w, "t"), MELD_ERR);
    json_writer_free(&w);
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        json_writer_init(&w, JSON_PRETTY, full);
        json_begin_array(&w, NULL);
        for (int i = 0; i < 10000; i++) json_int(&w, NULL, i);
        json_end_array(&w);
        assert_int_equal(json_writer_finish(&w, "eda"), MELD_ERR);
        assert_non_null(strstr(meld_error(), "eda: writing the JSON failed"));
        fclose(full);
    }
}

/* Random text: valid UTF-8 of every length class, control characters,
 * quotes and backslashes. */
static void random_text(Rng *r, char *buf, size_t cap)
{
    size_t n = 0;
    int count = (int)rng_below(r, 12);
    for (int i = 0; i < count && n + 4 < cap; i++) {
        uint32_t kind = rng_below(r, 5), cp;
        if (kind == 0) cp = rng_below(r, 0x80);
        else if (kind == 1) cp = 0x80 + rng_below(r, 0x780);
        else if (kind == 2) cp = 0xE000 + rng_below(r, 0x2000);
        else if (kind == 3) cp = 0x10000 + rng_below(r, 0x100000);
        else cp = "\"\\\n\t\x01/"[rng_below(r, 6)];
        if (cp == 0) cp = 'a';
        n += utf8_encode(cp, buf + n);
    }
    buf[n] = '\0';
}

/* Writes a random object of strings and numbers, reads it back. */
static void random_documents_round_trip(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 18, 4);
    for (int doc = 0; doc < 300; doc++) {
        enum { N = 8 };
        char keys[N][64], vals[N][64];
        double nums[N];
        JsonWriter w;
        json_writer_init(&w, (JsonStyle)(doc % 3), NULL);
        json_begin_object(&w, NULL);
        for (int i = 0; i < N; i++) {
            random_text(&r, keys[i], sizeof keys[i]);
            snprintf(keys[i] + strlen(keys[i]), sizeof keys[i] - strlen(keys[i]), "%d", i);   /* unique */
            random_text(&r, vals[i], sizeof vals[i]);
            nums[i] = (rng_uniform(&r) - 0.5) * pow(10, (int)rng_below(&r, 20) - 10);
            json_begin_object(&w, keys[i]);
            json_string(&w, "s", vals[i]);
            json_real(&w, "x", nums[i], "%.17g");
            json_end_object(&w);
        }
        json_end_object(&w);
        assert_int_equal(json_writer_finish(&w, "t"), MELD_OK);
        JsonReader j;
        json_reader_init(&j, w.buf, w.len);
        if (json_check(&j)) fail_msg("invalid: %s at %zu in %s", j.problem, j.problem_pos, w.buf);
        j.pos++;
        char *key;
        for (int i = 0; json_next_member(&j, &key) > 0; i++) {
            assert_string_equal(key, keys[i]);
            free(key);
            assert_int_equal(json_expect(&j, '{', "object"), 0);
            char *k2, *s;
            double x;
            assert_int_equal(json_next_member(&j, &k2), 1);
            free(k2);
            assert_int_equal(json_read_string(&j, &s), 0);
            assert_string_equal(s, vals[i]);
            free(s);
            assert_int_equal(json_next_member(&j, &k2), 1);
            free(k2);
            assert_int_equal(json_read_number(&j, &x), 0);
            assert_true(x == nums[i]);
            assert_int_equal(json_next_member(&j, &k2), 0);
        }
        json_writer_free(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_accepts_json),
        cmocka_unit_test(check_refuses_broken_json_and_says_where),
        cmocka_unit_test(primitives_read_values),
        cmocka_unit_test(writer_styles_byte_for_byte),
        cmocka_unit_test(writer_replaces_what_is_not_utf8),
        cmocka_unit_test(writer_reports_misuse_and_write_errors),
        cmocka_unit_test(random_documents_round_trip),
    };
    return cmocka_run_group_tests_name("tensor: json", tests, NULL, NULL);
}
