/* Writing JSON text: the one place where the training log (log.jsonl),
 * the reports (`meld eval --json`, `meld predict --json`) and the
 * provenance records are turned into JSON.
 *
 *     JsonOut j;
 *     json_init(&j);
 *     json_object_begin(&j);
 *     json_key(&j, "epoch"), json_int(&j, 3);
 *     json_key(&j, "dev_loss"), json_fixed(&j, loss, 6);   // null when not finite
 *     json_key(&j, "lr"), json_real(&j, lr, 7);            // 7 significant digits
 *     json_key(&j, "data"), json_string(&j, path);         // escaped, valid UTF-8
 *     json_object_end(&j);
 *     if (json_ok(&j)) ... use j.text (NUL-terminated), j.len ...
 *     json_free(&j);
 *
 * Guarantees: the text is valid JSON (RFC 8259) whatever the input. NaN
 * and infinities, which JSON cannot hold, are written as null; a string's
 * control characters are escaped and bytes that are not UTF-8 become
 * U+FFFD. Commas between members and elements are placed by the writer.
 * Separators are ", " and ": " (one line, readable). An allocation failure
 * is remembered and reported by json_ok (the writer never fails midway).
 */
#ifndef MELD_JSON_OUT_H
#define MELD_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

enum { JSON_MAX_DEPTH = 16 };

typedef struct {
    char *text;                       /* NUL-terminated once anything is written */
    size_t len, cap;
    bool failed;                      /* out of memory or nesting too deep */
    int depth;
    bool has_item[JSON_MAX_DEPTH];    /* the open object/array already has a member */
    bool after_key;                   /* a key was written: the value needs no comma */
} JsonOut;

void json_init(JsonOut *j);
void json_free(JsonOut *j);
/* MELD_OK, or MELD_ERR with the error set (out of memory, too deep). */
int json_ok(const JsonOut *j);

void json_object_begin(JsonOut *j);
void json_object_end(JsonOut *j);
void json_array_begin(JsonOut *j);
void json_array_end(JsonOut *j);
void json_key(JsonOut *j, const char *key);

void json_string(JsonOut *j, const char *s);     /* NULL: null */
void json_int(JsonOut *j, long long v);
void json_fixed(JsonOut *j, double v, int decimals);   /* "%.{decimals}f", null if not finite */
void json_real(JsonOut *j, double v, int digits);   /* "%.{digits}g", null if not finite */
void json_bool(JsonOut *j, bool v);
void json_null(JsonOut *j);

/* Copies s into out (cap bytes) with every byte sequence that is not
 * UTF-8 replaced by U+FFFD ("\xEF\xBF\xBD"); returns the length it needs
 * (as snprintf). For text that must be UTF-8 (safetensors metadata). */
size_t utf8_sanitize(const char *s, char *out, size_t cap);

#endif
