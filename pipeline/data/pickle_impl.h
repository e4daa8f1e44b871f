/* Inside the pickle reader: the machine's state and the helpers its files
 * share (pickle.c: the opcodes; pickle_store.c: where values live and the
 * memory bound; pickle_text.c: protocol 0's text arguments and string
 * decoding; pickle_numpy.c: the known globals, REDUCE, BUILD and vectors).
 * Not for use outside them. */
#ifndef MELD_PICKLE_IMPL_H
#define MELD_PICKLE_IMPL_H

#include <stdbool.h>

#include "pipeline/data/pickle.h"
#include "tensor/error.h"

struct PickleObject {
    uint8_t kind;          /* TUPLE, LIST, DICT, ARRAY, DTYPE */
    uint8_t built;         /* ARRAY, DTYPE: BUILD has given it its state */
    uint8_t itemsize;      /* ARRAY, DTYPE: 4 (float32) or 8 (float64) */
    uint8_t big_endian;    /* ARRAY, DTYPE */
    uint32_t count, cap;   /* TUPLE, LIST, DICT: values in items (a dict: key, value, key, ...) */
    PickleValue *items;
    uint64_t n_elems;      /* ARRAY */
    const uint8_t *data;   /* ARRAY: n_elems * itemsize raw bytes */
};

typedef struct {
    const char *name;
    const uint8_t *data;
    size_t len, pos;
    size_t op_pos;         /* offset of the opcode being run, for messages */
    uint8_t op;
    Pickle *out;           /* memory is counted in out->memory */
    size_t budget;
    PickleValue *stack;
    size_t n_stack, cap_stack;
    size_t marks[PICKLE_MAX_DEPTH];   /* stack heights at each MARK */
    int n_marks;
    PickleValue *memo;
    size_t n_memo, cap_memo;
} PickleReader;

/* Sets "NAME: byte OFFSET: opcode OP: MESSAGE" and returns MELD_ERR. */
int pickle_fail(PickleReader *r, const char *fmt, ...) MELD_PRINTF(2, 3);

/* pickle_store.c. Counted allocation (fails past the memory bound). */
int pickle_charge(PickleReader *r, size_t bytes);
/* Grows *items (of `elem` bytes each) to hold at least `need`. */
int pickle_grow(PickleReader *r, void **items, size_t *cap, size_t need, size_t elem);
PickleObject *pickle_new_object(PickleReader *r, PickleKind kind);
uint8_t *pickle_new_blob(PickleReader *r, size_t n);
/* Appends values to a tuple, list or dict under construction. */
int pickle_object_add(PickleReader *r, PickleObject *o, const PickleValue *v, size_t n);

/* pickle_text.c: protocol 0's line arguments and string decoding. */
int pickle_text_int(PickleReader *r, const uint8_t *s, size_t n, int64_t *v);
int pickle_text_float(PickleReader *r, const uint8_t *s, size_t n, double *v);
int pickle_text_string(PickleReader *r, const uint8_t *s, size_t n, PickleValue *out);
int pickle_text_unicode(PickleReader *r, const uint8_t *s, size_t n, PickleValue *out);
int pickle_check_utf8(PickleReader *r, const uint8_t *s, size_t n);
int pickle_text_to_latin1(PickleReader *r, const PickleValue *text, PickleValue *out);

/* pickle_numpy.c: the known globals. */
int pickle_global_find(const uint8_t *module, size_t module_len, const uint8_t *name, size_t name_len);
const char *pickle_global_name(int64_t id);
int pickle_reduce(PickleReader *r, const PickleValue *callable, const PickleValue *args, PickleValue *out);
int pickle_build(PickleReader *r, PickleValue *target, const PickleValue *state);

#endif
