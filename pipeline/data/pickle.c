/* The pickle machine: the stack, the memo, and one small function per
 * supported opcode, all listed in OPS (format and bounds: pickle.h; where
 * the values live: pickle_store.c). */
#include "pipeline/data/pickle_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- opcode table and messages ---------------------------------------- */

typedef int (*OpFn)(PickleReader *r);

typedef struct {
    const char *name;
    int proto;                 /* protocol that introduced it */
    OpFn run;                  /* NULL: outside the subset */
    const char *refusal;       /* why, for the opcodes of protocols 0-2 left out */
} OpInfo;

static const OpInfo OPS[256];

static void op_label(uint8_t op, char *buf, size_t cap)
{
    const char *name = OPS[op].name ? OPS[op].name : "(unknown)";
    if (op >= 0x20 && op < 0x7f) snprintf(buf, cap, "%s ('%c')", name, op);
    else snprintf(buf, cap, "%s (0x%02x)", name, op);
}

int pickle_fail(PickleReader *r, const char *fmt, ...)
{
    char msg[320], label[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    op_label(r->op, label, sizeof label);
    return meld_errorf("%s: byte %zu: opcode %s: %s", r->name, r->op_pos, label, msg);
}

/* ---- reading arguments ------------------------------------------------ */

static int take(PickleReader *r, size_t n, const uint8_t **p)
{
    *p = r->data + r->pos;
    if (n > r->len - r->pos)
        return pickle_fail(r, "truncated: needs %zu more bytes, the file has %zu", n, r->len - r->pos);
    r->pos += n;
    return MELD_OK;
}

static int take_uint(PickleReader *r, int bytes, uint32_t *v)
{
    const uint8_t *p;
    if (take(r, (size_t)bytes, &p)) return MELD_ERR;
    *v = 0;
    for (int i = bytes - 1; i >= 0; i--) *v = *v << 8 | p[i];   /* little-endian */
    return MELD_OK;
}

/* Protocol 0's arguments: bytes up to '\n' (not included). */
static int take_line(PickleReader *r, const uint8_t **line, size_t *n)
{
    const uint8_t *start = r->data + r->pos, *nl = memchr(start, '\n', r->len - r->pos);
    if (!nl) return pickle_fail(r, "truncated: its argument has no end of line");
    *line = start;
    *n = (size_t)(nl - start);
    r->pos += *n + 1;
    return MELD_OK;
}

/* ---- the stack -------------------------------------------------------- */

/* Opcodes see only the values above the topmost marker. */
static size_t stack_floor(const PickleReader *r) { return r->n_marks ? r->marks[r->n_marks - 1] : 0; }

static int push(PickleReader *r, PickleValue v)
{
    if (pickle_grow(r, (void **)&r->stack, &r->cap_stack, r->n_stack + 1, sizeof v)) return MELD_ERR;
    r->stack[r->n_stack++] = v;
    return MELD_OK;
}

static int need_values(PickleReader *r, size_t n)
{
    if (r->n_stack - stack_floor(r) >= n) return MELD_OK;
    return pickle_fail(r, "needs %zu value%s on the stack%s, there %s %zu", n, n == 1 ? "" : "s",
                       r->n_marks ? " above the marker" : "", r->n_stack - stack_floor(r) == 1 ? "is" : "are",
                       r->n_stack - stack_floor(r));
}

static int pop(PickleReader *r, PickleValue *v)
{
    if (need_values(r, 1)) return MELD_ERR;
    *v = r->stack[--r->n_stack];
    return MELD_OK;
}

static PickleValue *top(PickleReader *r)
{
    return need_values(r, 1) ? NULL : &r->stack[r->n_stack - 1];
}

/* Closes the topmost marker: the values above it are stack[*first ..
 * n_stack), which the caller consumes and then drops. */
static int pop_mark(PickleReader *r, size_t *first)
{
    *first = r->n_stack;
    if (!r->n_marks) return pickle_fail(r, "no MARK to take the values from");
    *first = r->marks[--r->n_marks];
    return MELD_OK;
}

/* The container APPEND(S) and SETITEM(S) add to: the value at
 * stack[first - 1], just below the values they add (and the marker, if
 * any), which must be visible above the enclosing marker. */
static PickleObject *target_below(PickleReader *r, size_t first, PickleKind kind)
{
    if (first == stack_floor(r)) {
        pickle_fail(r, "no %s to add to", pickle_kind_name(kind));
        return NULL;
    }
    const PickleValue *t = &r->stack[first - 1];
    if (t->kind != kind) {
        pickle_fail(r, "adds to a %s, expected a %s", pickle_kind_name(t->kind), pickle_kind_name(kind));
        return NULL;
    }
    return t->u.obj;
}

static int push_int(PickleReader *r, PickleKind kind, int64_t i)
{
    PickleValue v = {.kind = (uint8_t)kind, .u.i = i};
    return push(r, v);
}

static int push_string(PickleReader *r, PickleKind kind, const uint8_t *s, size_t n)
{
    if (n > UINT32_MAX) return pickle_fail(r, "a string of %zu bytes (at most 4 GiB)", n);
    PickleValue v = {.kind = (uint8_t)kind, .len = (uint32_t)n, .u.s = s};
    return push(r, v);
}

/* A new tuple, list or dict of values (copied). The empty tuple needs no
 * object: pickle writes () as one byte and we keep it at that cost. */
static int push_container(PickleReader *r, PickleKind kind, const PickleValue *values, size_t n)
{
    PickleValue v = {.kind = (uint8_t)kind};
    if (kind != PICKLE_TUPLE || n) {
        if (!(v.u.obj = pickle_new_object(r, kind)) || pickle_object_add(r, v.u.obj, values, n)) return MELD_ERR;
    }
    return push(r, v);
}

/* ---- opcodes ---------------------------------------------------------- */

static int op_mark(PickleReader *r)
{
    if (r->n_marks == PICKLE_MAX_DEPTH) return pickle_fail(r, "markers nested more than %d deep", PICKLE_MAX_DEPTH);
    r->marks[r->n_marks++] = r->n_stack;
    return MELD_OK;
}

static int op_pop(PickleReader *r)
{
    PickleValue v;
    return pop(r, &v);
}

static int op_pop_mark(PickleReader *r)
{
    size_t first;
    if (pop_mark(r, &first)) return MELD_ERR;
    r->n_stack = first;
    return MELD_OK;
}

static int op_dup(PickleReader *r)
{
    const PickleValue *t = top(r);
    return t ? push(r, *t) : MELD_ERR;
}

static int op_none(PickleReader *r) { return push_int(r, PICKLE_NONE, 0); }
static int op_newtrue(PickleReader *r) { return push_int(r, PICKLE_BOOL, 1); }
static int op_newfalse(PickleReader *r) { return push_int(r, PICKLE_BOOL, 0); }

/* "I01" and "I00" are Python 2's True and False at protocol 0. */
static int op_int(PickleReader *r)
{
    const uint8_t *s;
    size_t n;
    int64_t v;
    if (take_line(r, &s, &n)) return MELD_ERR;
    if (n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) return push_int(r, PICKLE_BOOL, s[1] == '1');
    return pickle_text_int(r, s, n, &v) ? MELD_ERR : push_int(r, PICKLE_INT, v);
}

static int op_long(PickleReader *r)
{
    const uint8_t *s;
    size_t n;
    int64_t v;
    if (take_line(r, &s, &n)) return MELD_ERR;
    if (n && s[n - 1] == 'L') n--;
    return pickle_text_int(r, s, n, &v) ? MELD_ERR : push_int(r, PICKLE_INT, v);
}

static int op_binint(PickleReader *r)
{
    uint32_t u;
    /* two's complement 32-bit, without implementation-defined conversion */
    return take_uint(r, 4, &u) ? MELD_ERR : push_int(r, PICKLE_INT, (int64_t)u - (u >> 31) * ((int64_t)1 << 32));
}

static int op_binint1(PickleReader *r)
{
    uint32_t u;
    return take_uint(r, 1, &u) ? MELD_ERR : push_int(r, PICKLE_INT, u);
}

static int op_binint2(PickleReader *r)
{
    uint32_t u;
    return take_uint(r, 2, &u) ? MELD_ERR : push_int(r, PICKLE_INT, u);
}

/* LONG1 / LONG4: n bytes of a little-endian two's complement integer. */
static int push_long_bytes(PickleReader *r, size_t n)
{
    const uint8_t *p;
    if (take(r, n, &p)) return MELD_ERR;
    size_t used = n;
    /* Python writes the shortest form; a longer one is fine if the extra
     * high bytes only repeat the sign. */
    while (used > 8 && p[used - 1] == ((p[used - 2] & 0x80) ? 0xff : 0x00)) used--;
    if (used > 8) return pickle_fail(r, "an integer of %zu bytes does not fit in 64 bits", n);
    uint64_t u = 0;
    for (size_t i = used; i-- > 0;) u = u << 8 | p[i];
    if (used && used < 8 && (p[used - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * used);   /* sign-extend */
    int64_t v = u > INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
    return push_int(r, PICKLE_INT, v);
}

static int op_long1(PickleReader *r)
{
    uint32_t n;
    return take_uint(r, 1, &n) ? MELD_ERR : push_long_bytes(r, n);
}

static int op_long4(PickleReader *r)
{
    uint32_t n;
    if (take_uint(r, 4, &n)) return MELD_ERR;
    if (n >> 31) return pickle_fail(r, "negative byte count");
    return push_long_bytes(r, n);
}

static int op_float(PickleReader *r)
{
    const uint8_t *s;
    size_t n;
    PickleValue v = {.kind = PICKLE_FLOAT};
    if (take_line(r, &s, &n) || pickle_text_float(r, s, n, &v.u.f)) return MELD_ERR;
    return push(r, v);
}

static int op_binfloat(PickleReader *r)
{
    const uint8_t *p;
    if (take(r, 8, &p)) return MELD_ERR;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = bits << 8 | p[i];   /* big-endian */
    PickleValue v = {.kind = PICKLE_FLOAT};
    memcpy(&v.u.f, &bits, sizeof bits);
    return push(r, v);
}

static int op_string(PickleReader *r)
{
    const uint8_t *s;
    size_t n;
    PickleValue v;
    if (take_line(r, &s, &n) || pickle_text_string(r, s, n, &v)) return MELD_ERR;
    return push(r, v);
}

static int push_counted(PickleReader *r, PickleKind kind, int count_bytes)
{
    uint32_t n;
    const uint8_t *p;
    if (take_uint(r, count_bytes, &n)) return MELD_ERR;
    if (kind == PICKLE_BYTES && count_bytes == 4 && (n >> 31)) return pickle_fail(r, "negative byte count");
    if (take(r, n, &p)) return MELD_ERR;
    if (kind == PICKLE_TEXT && pickle_check_utf8(r, p, n)) return MELD_ERR;
    return push_string(r, kind, p, n);
}

static int op_binstring(PickleReader *r) { return push_counted(r, PICKLE_BYTES, 4); }
static int op_short_binstring(PickleReader *r) { return push_counted(r, PICKLE_BYTES, 1); }
static int op_binunicode(PickleReader *r) { return push_counted(r, PICKLE_TEXT, 4); }

static int op_unicode(PickleReader *r)
{
    const uint8_t *s;
    size_t n;
    PickleValue v;
    if (take_line(r, &s, &n) || pickle_text_unicode(r, s, n, &v)) return MELD_ERR;
    return push(r, v);
}

static int op_empty_tuple(PickleReader *r) { return push_container(r, PICKLE_TUPLE, NULL, 0); }
static int op_empty_list(PickleReader *r) { return push_container(r, PICKLE_LIST, NULL, 0); }
static int op_empty_dict(PickleReader *r) { return push_container(r, PICKLE_DICT, NULL, 0); }

/* TUPLE, LIST, DICT: a container of the values above the marker. */
static int from_mark(PickleReader *r, PickleKind kind)
{
    size_t first;
    if (pop_mark(r, &first)) return MELD_ERR;
    size_t n = r->n_stack - first;
    if (kind == PICKLE_DICT && n % 2) return pickle_fail(r, "%zu values: keys and values do not pair up", n);
    r->n_stack = first;
    /* push_container copies before push can move the stack (an empty
     * container: the stack may not exist yet) */
    return push_container(r, kind, n ? r->stack + first : NULL, n);
}

static int op_tuple(PickleReader *r) { return from_mark(r, PICKLE_TUPLE); }
static int op_list(PickleReader *r) { return from_mark(r, PICKLE_LIST); }
static int op_dict(PickleReader *r) { return from_mark(r, PICKLE_DICT); }

static int tuple_of_top(PickleReader *r, size_t n)
{
    if (need_values(r, n)) return MELD_ERR;
    r->n_stack -= n;
    return push_container(r, PICKLE_TUPLE, r->stack + r->n_stack, n);
}

static int op_tuple1(PickleReader *r) { return tuple_of_top(r, 1); }
static int op_tuple2(PickleReader *r) { return tuple_of_top(r, 2); }
static int op_tuple3(PickleReader *r) { return tuple_of_top(r, 3); }

static int op_append(PickleReader *r)
{
    PickleValue v;
    if (pop(r, &v)) return MELD_ERR;
    PickleObject *list = target_below(r, r->n_stack, PICKLE_LIST);
    return list ? pickle_object_add(r, list, &v, 1) : MELD_ERR;
}

static int op_appends(PickleReader *r)
{
    size_t first;
    if (pop_mark(r, &first)) return MELD_ERR;
    PickleObject *list = target_below(r, first, PICKLE_LIST);
    if (!list || pickle_object_add(r, list, r->stack + first, r->n_stack - first)) return MELD_ERR;
    r->n_stack = first;
    return MELD_OK;
}

static int op_setitem(PickleReader *r)
{
    if (need_values(r, 2)) return MELD_ERR;
    PickleObject *dict = target_below(r, r->n_stack - 2, PICKLE_DICT);
    if (!dict || pickle_object_add(r, dict, r->stack + r->n_stack - 2, 2)) return MELD_ERR;
    r->n_stack -= 2;
    return MELD_OK;
}

static int op_setitems(PickleReader *r)
{
    size_t first;
    if (pop_mark(r, &first)) return MELD_ERR;
    size_t n = r->n_stack - first;
    if (n % 2) return pickle_fail(r, "%zu values: keys and values do not pair up", n);
    PickleObject *dict = target_below(r, first, PICKLE_DICT);
    if (!dict || pickle_object_add(r, dict, r->stack + first, n)) return MELD_ERR;
    r->n_stack = first;
    return MELD_OK;
}

/* ---- the memo --------------------------------------------------------- */

static int memo_put(PickleReader *r, uint64_t index)
{
    const PickleValue *t = top(r);
    if (!t) return MELD_ERR;
    if (index > r->n_memo)
        return pickle_fail(r, "memo index %llu skips ahead of the %zu entries so far", (unsigned long long)index,
                           r->n_memo);
    if (index == r->n_memo) {
        PickleValue v = *t;
        if (pickle_grow(r, (void **)&r->memo, &r->cap_memo, r->n_memo + 1, sizeof v)) return MELD_ERR;
        r->memo[r->n_memo++] = v;
    } else {
        r->memo[index] = *t;
    }
    return MELD_OK;
}

static int memo_get(PickleReader *r, uint64_t index)
{
    if (index >= r->n_memo)
        return pickle_fail(r, "memo index %llu was never PUT (%zu entries)", (unsigned long long)index, r->n_memo);
    return push(r, r->memo[index]);
}

static int text_index(PickleReader *r, uint64_t *index)
{
    const uint8_t *s;
    size_t n;
    int64_t v;
    if (take_line(r, &s, &n) || pickle_text_int(r, s, n, &v)) return MELD_ERR;
    if (v < 0) return pickle_fail(r, "negative memo index %lld", (long long)v);
    *index = (uint64_t)v;
    return MELD_OK;
}

static int op_put(PickleReader *r)
{
    uint64_t i;
    return text_index(r, &i) ? MELD_ERR : memo_put(r, i);
}

static int op_get(PickleReader *r)
{
    uint64_t i;
    return text_index(r, &i) ? MELD_ERR : memo_get(r, i);
}

static int op_binput(PickleReader *r)
{
    uint32_t i;
    return take_uint(r, 1, &i) ? MELD_ERR : memo_put(r, i);
}

static int op_long_binput(PickleReader *r)
{
    uint32_t i;
    return take_uint(r, 4, &i) ? MELD_ERR : memo_put(r, i);
}

static int op_binget(PickleReader *r)
{
    uint32_t i;
    return take_uint(r, 1, &i) ? MELD_ERR : memo_get(r, i);
}

static int op_long_binget(PickleReader *r)
{
    uint32_t i;
    return take_uint(r, 4, &i) ? MELD_ERR : memo_get(r, i);
}

/* ---- globals and calls ------------------------------------------------ */

static int op_global(PickleReader *r)
{
    const uint8_t *module, *name;
    size_t module_len, name_len;
    if (take_line(r, &module, &module_len) || take_line(r, &name, &name_len)) return MELD_ERR;
    int id = pickle_global_find(module, module_len, name, name_len);
    if (id < 0) {
        int shown_m = module_len > 60 ? 60 : (int)module_len, shown_n = name_len > 60 ? 60 : (int)name_len;
        return pickle_fail(r, "global %.*s.%.*s is not one of the few the reader knows (it never runs code)", shown_m,
                           (const char *)module, shown_n, (const char *)name);
    }
    return push_int(r, PICKLE_GLOBAL, id);
}

static int op_reduce(PickleReader *r)
{
    PickleValue args, result;
    if (pop(r, &args)) return MELD_ERR;
    PickleValue *callable = top(r);
    if (!callable || pickle_reduce(r, callable, &args, &result)) return MELD_ERR;
    *callable = result;
    return MELD_OK;
}

static int op_build(PickleReader *r)
{
    PickleValue state;
    if (pop(r, &state)) return MELD_ERR;
    PickleValue *target = top(r);
    return target ? pickle_build(r, target, &state) : MELD_ERR;
}

static int op_proto(PickleReader *r)
{
    uint32_t v;
    if (take_uint(r, 1, &v)) return MELD_ERR;
    if (v > 2) return pickle_fail(r, "protocol %u; the reader takes protocols 0-2 (MELD's files are protocol 0-2)", v);
    return MELD_OK;
}

static const char *const MAKES_OBJECTS = "it creates an instance of an arbitrary class";
static const char *const PERSISTENT = "it asks the program for a persistent object";
static const char *const EXTENSION = "it refers to the copyreg extension registry";

static const OpInfo OPS[256] = {
    ['('] = {"MARK", 0, op_mark, NULL},
    ['.'] = {"STOP", 0, NULL, NULL},          /* ends the loop in run() */
    ['0'] = {"POP", 0, op_pop, NULL},
    ['1'] = {"POP_MARK", 1, op_pop_mark, NULL},
    ['2'] = {"DUP", 0, op_dup, NULL},
    ['N'] = {"NONE", 0, op_none, NULL},
    [0x88] = {"NEWTRUE", 2, op_newtrue, NULL},
    [0x89] = {"NEWFALSE", 2, op_newfalse, NULL},
    ['I'] = {"INT", 0, op_int, NULL},
    ['J'] = {"BININT", 1, op_binint, NULL},
    ['K'] = {"BININT1", 1, op_binint1, NULL},
    ['M'] = {"BININT2", 1, op_binint2, NULL},
    ['L'] = {"LONG", 0, op_long, NULL},
    [0x8a] = {"LONG1", 2, op_long1, NULL},
    [0x8b] = {"LONG4", 2, op_long4, NULL},
    ['F'] = {"FLOAT", 0, op_float, NULL},
    ['G'] = {"BINFLOAT", 1, op_binfloat, NULL},
    ['S'] = {"STRING", 0, op_string, NULL},
    ['T'] = {"BINSTRING", 1, op_binstring, NULL},
    ['U'] = {"SHORT_BINSTRING", 1, op_short_binstring, NULL},
    ['V'] = {"UNICODE", 0, op_unicode, NULL},
    ['X'] = {"BINUNICODE", 1, op_binunicode, NULL},
    [')'] = {"EMPTY_TUPLE", 1, op_empty_tuple, NULL},
    ['t'] = {"TUPLE", 0, op_tuple, NULL},
    [0x85] = {"TUPLE1", 2, op_tuple1, NULL},
    [0x86] = {"TUPLE2", 2, op_tuple2, NULL},
    [0x87] = {"TUPLE3", 2, op_tuple3, NULL},
    [']'] = {"EMPTY_LIST", 1, op_empty_list, NULL},
    ['l'] = {"LIST", 0, op_list, NULL},
    ['a'] = {"APPEND", 0, op_append, NULL},
    ['e'] = {"APPENDS", 1, op_appends, NULL},
    ['}'] = {"EMPTY_DICT", 1, op_empty_dict, NULL},
    ['d'] = {"DICT", 0, op_dict, NULL},
    ['s'] = {"SETITEM", 0, op_setitem, NULL},
    ['u'] = {"SETITEMS", 1, op_setitems, NULL},
    ['p'] = {"PUT", 0, op_put, NULL},
    ['q'] = {"BINPUT", 1, op_binput, NULL},
    ['r'] = {"LONG_BINPUT", 1, op_long_binput, NULL},
    ['g'] = {"GET", 0, op_get, NULL},
    ['h'] = {"BINGET", 1, op_binget, NULL},
    ['j'] = {"LONG_BINGET", 1, op_long_binget, NULL},
    ['c'] = {"GLOBAL", 0, op_global, NULL},
    ['R'] = {"REDUCE", 0, op_reduce, NULL},
    ['b'] = {"BUILD", 0, op_build, NULL},
    [0x80] = {"PROTO", 2, op_proto, NULL},
    /* protocols 0-2, left out on purpose */
    ['i'] = {"INST", 0, NULL, MAKES_OBJECTS},
    ['o'] = {"OBJ", 1, NULL, MAKES_OBJECTS},
    [0x81] = {"NEWOBJ", 2, NULL, MAKES_OBJECTS},
    ['P'] = {"PERSID", 0, NULL, PERSISTENT},
    ['Q'] = {"BINPERSID", 1, NULL, PERSISTENT},
    [0x82] = {"EXT1", 2, NULL, EXTENSION},
    [0x83] = {"EXT2", 2, NULL, EXTENSION},
    [0x84] = {"EXT4", 2, NULL, EXTENSION},
    /* later protocols, named for the message */
    ['B'] = {"BINBYTES", 3, NULL, NULL},
    ['C'] = {"SHORT_BINBYTES", 3, NULL, NULL},
    [0x8c] = {"SHORT_BINUNICODE", 4, NULL, NULL},
    [0x8d] = {"BINUNICODE8", 4, NULL, NULL},
    [0x8e] = {"BINBYTES8", 4, NULL, NULL},
    [0x8f] = {"EMPTY_SET", 4, NULL, NULL},
    [0x90] = {"ADDITEMS", 4, NULL, NULL},
    [0x91] = {"FROZENSET", 4, NULL, NULL},
    [0x92] = {"NEWOBJ_EX", 4, NULL, NULL},
    [0x93] = {"STACK_GLOBAL", 4, NULL, NULL},
    [0x94] = {"MEMOIZE", 4, NULL, NULL},
    [0x95] = {"FRAME", 4, NULL, NULL},
    [0x96] = {"BYTEARRAY8", 5, NULL, NULL},
    [0x97] = {"NEXT_BUFFER", 5, NULL, NULL},
    [0x98] = {"READONLY_BUFFER", 5, NULL, NULL},
};

static int refuse(PickleReader *r)
{
    const OpInfo *op = &OPS[r->op];
    if (!op->name) return pickle_fail(r, "not a pickle opcode (not a pickle file, or a corrupt one)");
    if (op->refusal) return pickle_fail(r, "not supported: %s", op->refusal);
    return pickle_fail(r, "from protocol %d; the reader takes protocols 0-2", op->proto);
}

/* STOP: the result is the one value left. */
static int finish(PickleReader *r)
{
    if (r->n_marks) return pickle_fail(r, "%d MARK%s never closed", r->n_marks, r->n_marks == 1 ? "" : "s");
    if (r->n_stack != 1) return pickle_fail(r, "leaves %zu values on the stack, expected 1", r->n_stack);
    r->out->root = r->stack[0];
    if (r->pos < r->len)
        meld_warnf("%s: %zu bytes after the pickle's STOP (byte %zu) ignored, as pickle.load does", r->name,
                   r->len - r->pos, r->op_pos);
    return MELD_OK;
}

static int run(PickleReader *r)
{
    while (r->pos < r->len) {
        r->op_pos = r->pos;
        r->op = r->data[r->pos++];
        if (r->op == '.') return finish(r);
        OpFn fn = OPS[r->op].run;
        if (!fn) return refuse(r);
        if (fn(r)) return MELD_ERR;
    }
    return meld_errorf("%s: byte %zu: the pickle ends without a STOP opcode (truncated?)", r->name, r->len);
}

int pickle_parse(const uint8_t *data, size_t len, const char *name, Pickle *out)
{
    memset(out, 0, sizeof *out);
    out->size = len;
    PickleReader r = {.name = name, .data = data, .len = len, .out = out};
    r.budget = len > (SIZE_MAX - PICKLE_MEMORY_BASE) / PICKLE_MEMORY_PER_BYTE
                   ? SIZE_MAX
                   : len * PICKLE_MEMORY_PER_BYTE + PICKLE_MEMORY_BASE;
    int rc = run(&r);
    free(r.stack);
    free(r.memo);
    if (rc != MELD_OK) pickle_free(out);
    return rc;
}

int pickle_read_file(const char *path, Pickle *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return meld_errorf("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX / 2) {
        close(fd);
        return meld_errorf("%s: not a regular file of a readable size", path);
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED) return meld_errorf("%s: cannot map: %s", path, strerror(saved));
    if (pickle_parse(map ? map : (const void *)"", size, path, out)) {
        if (map) munmap(map, size);
        return MELD_ERR;
    }
    out->map = map;
    out->map_size = size;
    return MELD_OK;
}
