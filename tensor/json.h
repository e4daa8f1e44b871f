/* JSON (RFC 8259): a reader for the safetensors header and the training
 * log, and a writer for every JSON the program prints or saves (the
 * safetensors header, `meld eda --json`, `meld eval --json`, `meld predict
 * --json`, the lines of log.jsonl).
 *
 * Reading is a cursor over the text (which need not end in a NUL). A
 * reader first checks the whole text once (json_check: the syntax, strings
 * that are valid UTF-8, at most JSON_MAX_DEPTH levels), which records the
 * first problem and its byte offset; the caller then walks the known-good
 * text with the same primitives, reading what it needs and skipping the
 * rest:
 *
 *     JsonReader j;
 *     json_reader_init(&j, text, n);
 *     if (json_check(&j)) ... j.problem at byte j.problem_pos ...
 *     if (json_peek(&j) != '{') ... not an object ...
 *     j.pos++;
 *     char *key;
 *     while (json_next_member(&j, &key) > 0) {
 *         double v;
 *         if (!strcmp(key, "loss")) json_read_number(&j, &v); else json_skip_value(&j);
 *         free(key);
 *     }
 *
 * Writing streams members in order, the separators and indentation
 * following the style; keys are given with each member of an object and
 * NULL inside arrays. The writer never emits NaN or Infinity: a number
 * that is not finite is written as null (the document stays valid JSON,
 * and the reader of an EDA report or a training log sees "no value").
 * Strings are escaped (quote, backslash, control characters and DEL;
 * \n \r \t in their short forms, the rest as \u00XX) and must be UTF-8: a
 * byte that is not part of a valid sequence is written as U+FFFD.
 */
#ifndef MELD_JSON_H
#define MELD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { JSON_MAX_DEPTH = 64 };

/* ---- reading -------------------------------------------------------------- */

typedef struct {
    const uint8_t *s;
    size_t n, pos;
    const char *problem;   /* first syntax problem (static text), NULL if none */
    size_t problem_pos;    /* its byte offset */
} JsonReader;

void json_reader_init(JsonReader *j, const void *text, size_t n);

/* Checks that the text is one JSON value and blanks: 0, or -1 with
 * j->problem and j->problem_pos set ("unexpected end of input", "expected
 * ',' or '}'", "invalid UTF-8 inside a string", ...). "\u0000" in a string
 * is refused (the strings are read as C strings). The cursor goes back to
 * the start. */
int json_check(JsonReader *j);

/* The next non-blank byte, not consumed; -1 at the end. */
int json_peek(JsonReader *j);
/* Consumes byte c after blanks, or fails (-1) with problem `what`. */
int json_expect(JsonReader *j, int c, const char *what);
/* The string at the cursor. With out, its decoded text is returned as a
 * new NUL-terminated string (the caller frees it). 0 or -1. */
int json_read_string(JsonReader *j, char **out);
/* Steps over one value of any kind, checking its syntax. 0 or -1. */
int json_skip_value(JsonReader *j);
/* A non-negative integer that fits 64 bits: 0, or 1 when the number at
 * the cursor is not one. */
int json_read_uint(JsonReader *j, uint64_t *out);
/* Any number, as the nearest double: 0, or -1 when the value at the
 * cursor is not a number. */
int json_read_number(JsonReader *j, double *out);
/* Inside an object (the cursor after its '{', or after a member's value):
 * reads the next key (a new string, the caller frees it) and its ':' and
 * returns 1; consumes the closing '}' and returns 0; -1 on bad syntax. */
int json_next_member(JsonReader *j, char **key);

/* ---- writing -------------------------------------------------------------- */

typedef enum {
    JSON_PRETTY,    /* one member per line, indented by 2 per level */
    JSON_LINE,      /* one line, ", " and ": " (a log line, a report) */
    JSON_MINIFIED,  /* one line, "," and ":" (the safetensors header) */
} JsonStyle;

typedef struct {
    JsonStyle style;
    FILE *fp;               /* the output, or NULL: the text grows in buf */
    char *buf;              /* NUL-terminated text of a buffer writer */
    size_t len, cap;
    int depth;              /* open containers */
    int inline_depth;       /* JSON_PRETTY: depth of the outermost one-line container, 0 = none */
    uint64_t arrays;        /* bit d: the container at depth d + 1 is an array */
    bool need_comma;
    const char *misuse;     /* first wrong call (static text), NULL if none */
    bool out_of_memory;
} JsonWriter;

/* fp NULL: into w->buf (free it with json_writer_free). */
void json_writer_init(JsonWriter *w, JsonStyle style, FILE *fp);
void json_writer_free(JsonWriter *w);

/* Every call below writes one member: `key` inside an object, NULL in an
 * array and for the top-level value. */
void json_begin_object(JsonWriter *w, const char *key);
void json_begin_array(JsonWriter *w, const char *key);
/* An array whose elements stay on one line in JSON_PRETTY (a histogram). */
void json_begin_array_inline(JsonWriter *w, const char *key);
void json_end_object(JsonWriter *w);
void json_end_array(JsonWriter *w);
void json_int(JsonWriter *w, const char *key, long long v);
void json_uint(JsonWriter *w, const char *key, unsigned long long v);
/* format: one printf conversion of a double ("%.6f", "%.10g"); a value
 * that is not finite is written as null. */
void json_real(JsonWriter *w, const char *key, double v, const char *format);
/* NULL is written as null. */
void json_string(JsonWriter *w, const char *key, const char *s);
void json_bool(JsonWriter *w, const char *key, bool v);
void json_null(JsonWriter *w, const char *key);

/* Ends the document: MELD_OK, or MELD_ERR with the error set ("WHAT: ...")
 * when a container is still open, a call was misplaced (a key in an array,
 * none in an object), memory ran out or the stream reported an error. */
int json_writer_finish(JsonWriter *w, const char *what);

#endif
