/* A reader for a small, safe subset of Python's pickle format: enough for
 * MELD's released feature files (pipeline/data/meld_pickle.h) and nothing
 * more. It never executes anything: pickle's "call this global" opcodes are
 * honoured only for the handful of globals below, each of which the reader
 * implements itself; any other global, and every opcode outside the table,
 * is an error "FILE: byte OFFSET: opcode NAME (CODE): problem".
 *
 * The format (Python's Lib/pickletools.py documents it opcode by opcode) is
 * a program for a stack machine. Values are pushed on a stack; MARK pushes a
 * marker, and the opcodes that build containers take every value above the
 * topmost marker. PUT copies the top of the stack into the "memo" (a table
 * indexed by number) and GET pushes a memo entry back, which is how a
 * pickle refers twice to one object. STOP ends the program; the value on
 * the stack is the result.
 *
 * Supported opcodes (protocols 0-2, as Python 2 and Python 3 write them):
 *
 *   code   name            proto  argument               effect
 *   '('    MARK            0      -                      push a marker
 *   '.'    STOP            0      -                      end; result = the one value on the stack
 *   '0'    POP             0      -                      drop the top value
 *   '1'    POP_MARK        1      -                      drop everything down to the marker
 *   '2'    DUP             0      -                      push the top value again
 *   'N'    NONE            0      -                      push None
 *   0x88   NEWTRUE         2      -                      push True
 *   0x89   NEWFALSE        2      -                      push False
 *   'I'    INT             0      decimal line           push an int ("01"/"00": True/False)
 *   'J'    BININT          1      int32 LE               push an int
 *   'K'    BININT1         1      uint8                  push an int
 *   'M'    BININT2         1      uint16 LE              push an int
 *   'L'    LONG            0      decimal line, 'L'      push an int (must fit in 64 bits)
 *   0x8a   LONG1           2      n:uint8, n bytes       two's complement LE int (<= 64 bits)
 *   0x8b   LONG4           2      n:int32, n bytes       the same with a 4-byte count
 *   'F'    FLOAT           0      decimal line           push a float
 *   'G'    BINFLOAT        1      float64 big-endian     push a float
 *   'S'    STRING          0      quoted, escaped line   push bytes (a Python 2 str)
 *   'T'    BINSTRING       1      n:int32 LE, n bytes    push bytes
 *   'U'    SHORT_BINSTRING 1      n:uint8, n bytes       push bytes
 *   'V'    UNICODE         0      raw-unicode-escape ln  push text
 *   'X'    BINUNICODE      1      n:uint32 LE, UTF-8     push text
 *   ')'    EMPTY_TUPLE     1      -                      push ()
 *   't'    TUPLE           0      -                      tuple of the values above the marker
 *   0x85   TUPLE1          2      -                      tuple of the top value
 *   0x86   TUPLE2          2      -                      tuple of the top two values
 *   0x87   TUPLE3          2      -                      tuple of the top three values
 *   ']'    EMPTY_LIST      1      -                      push []
 *   'l'    LIST            0      -                      list of the values above the marker
 *   'a'    APPEND          0      -                      pop v; append v to the list below it
 *   'e'    APPENDS         1      -                      append the values above the marker
 *   '}'    EMPTY_DICT      1      -                      push {}
 *   'd'    DICT            0      -                      dict of the key, value pairs above the marker
 *   's'    SETITEM         0      -                      pop v, k; set k: v in the dict below them
 *   'u'    SETITEMS        1      -                      set the pairs above the marker
 *   'p'    PUT             0      decimal line           memo[n] = top
 *   'q'    BINPUT          1      uint8                  memo[n] = top
 *   'r'    LONG_BINPUT     1      uint32 LE              memo[n] = top
 *   'g'    GET             0      decimal line           push memo[n]
 *   'h'    BINGET          1      uint8                  push memo[n]
 *   'j'    LONG_BINGET     1      uint32 LE              push memo[n]
 *   'c'    GLOBAL          0      module line, name line push a known global (below)
 *   'R'    REDUCE          0      -                      pop args; call the known global below them
 *   'b'    BUILD           0      -                      pop state; set the state of the array or dtype below it
 *   0x80   PROTO           2      uint8                  protocol number, 0-2
 *
 * Known globals and what calling them (REDUCE) or BUILD does here:
 *   numpy.core.multiarray._reconstruct(numpy.ndarray, shape, code)
 *                          an empty array, to be given its state by BUILD
 *                          (numpy._core.multiarray, NumPy 2's name, too)
 *   numpy.ndarray          only as _reconstruct's first argument
 *   numpy.dtype(code, align, copy)
 *                          code 'f4' or 'f8'; BUILD with numpy's dtype state
 *                          (3 or 4, order '<' or '>', None, None, None, ...)
 *                          sets the byte order
 *   array BUILD            state ([1,] shape, dtype, fortran, raw bytes):
 *                          float32 or float64, either byte order, C order,
 *                          raw bytes exactly shape-product x itemsize long
 *   numpy.core.multiarray.scalar(dtype, raw bytes)
 *                          a float (numpy.float32/float64 in a list)
 *   _codecs.encode(text, 'latin1')
 *                          bytes: how Python 3 writes bytes at protocols
 *                          0-2 (every character must be below 256)
 *   __builtin__.bytes() / builtins.bytes()
 *                          empty bytes (Python 3's b'' at protocols 0-2)
 * Values: None, bool, int (64-bit), float, bytes (Python 2 str, Python 3
 * bytes), text (unicode / Python 3 str, held as UTF-8), tuple, list, dict
 * (its key, value pairs in file order; no hashing, so a repeated key is
 * kept twice), numpy float arrays.
 *
 * Not supported, each a clear error: protocols 3-5 and their opcodes
 * (BINBYTES, FRAME, STACK_GLOBAL, MEMOIZE, ...), and the opcodes that would
 * create arbitrary objects or call back into the program (INST, OBJ,
 * NEWOBJ, PERSID, BINPERSID, EXT1/2/4).
 *
 * Stricter than Python, where pickle.dump never goes: memo indices must be
 * dense (PUT n with n at most the number of entries so far, as pickle.dump
 * numbers them), STOP must leave exactly one value and no open marker.
 * Bytes after STOP are ignored, as pickle.load does, with a warning.
 *
 * Bounds, so that a hostile file gives an error and never a crash, a hang
 * or an allocation it did not pay for (a file truncated by another program
 * while it is mapped is outside this, as for the feature cache):
 *   - every count and length is checked against the bytes that remain
 *     before anything is allocated for it;
 *   - markers nest at most PICKLE_MAX_DEPTH deep; nothing in the reader or
 *     its callers recurses, so nested containers cost no C stack;
 *   - memory: besides the file's own bytes (strings and arrays point into
 *     them), the parsed values may take at most
 *     PICKLE_MEMORY_PER_BYTE x the file size + PICKLE_MEMORY_BASE bytes
 *     (every allocation is counted); beyond that the reader stops with an
 *     error. What pickle.dump writes stays near 21 bytes per input byte at
 *     worst (measured: a list of None or of (), one byte per item, each a
 *     16-byte value in a list that grows by doubling; lists of empty lists
 *     or dicts 14); a MELD-shaped pickle of float32 arrays 0.09 (8 MB of
 *     values for 89 MB), since an array's bytes are read in place. A
 *     hostile stream of one-byte EMPTY_LISTs would take up to 72 and is
 *     stopped.
 *
 *     Pickle p;
 *     if (pickle_read_file("features.pkl", &p)) { puts(meld_error()); return; }
 *     const PickleValue *train = pickle_item(&p.root, 0);
 *     for (size_t i = 0; i < pickle_len(train); i++) {
 *         const PickleValue *key = pickle_key(train, i), *vec = pickle_value(train, i);
 *         ... pickle_vector_len(vec, &n), pickle_vector(vec, out, n) ...
 *     }
 *     pickle_free(&p);
 */
#ifndef MELD_PICKLE_H
#define MELD_PICKLE_H

#include <stddef.h>
#include <stdint.h>

enum { PICKLE_MAX_DEPTH = 64, PICKLE_MEMORY_PER_BYTE = 32 };
#define PICKLE_MEMORY_BASE ((size_t)1 << 20)

typedef enum {
    PICKLE_NONE,
    PICKLE_BOOL,     /* u.i: 0 or 1 */
    PICKLE_INT,      /* u.i */
    PICKLE_FLOAT,    /* u.f */
    PICKLE_BYTES,    /* u.s, len */
    PICKLE_TEXT,     /* u.s, len: UTF-8 */
    PICKLE_TUPLE,    /* u.obj */
    PICKLE_LIST,     /* u.obj */
    PICKLE_DICT,     /* u.obj */
    PICKLE_ARRAY,    /* u.obj: a numpy float array */
    PICKLE_DTYPE,    /* u.obj: a numpy dtype */
    PICKLE_GLOBAL,   /* u.i: which known global (not called) */
    PICKLE_N_KINDS
} PickleKind;

typedef struct PickleObject PickleObject;

/* A value: scalars and strings inline, containers (which pickle can share
 * and mutate through the memo) by reference. 16 bytes. */
typedef struct {
    uint8_t kind;    /* PickleKind */
    uint32_t len;    /* BYTES, TEXT: length in bytes */
    union {
        int64_t i;
        double f;
        const uint8_t *s;
        PickleObject *obj;
    } u;
} PickleValue;

typedef struct PickleChunk PickleChunk;

typedef struct {
    PickleValue root;
    size_t size;            /* bytes parsed */
    size_t memory;          /* bytes held for the values at most (the bound above) */
    /* owned storage */
    void *map;              /* the file, mapped read-only (pickle_read_file) */
    size_t map_size;
    PickleChunk *objects;   /* containers, arrays, dtypes */
    PickleChunk *blobs;     /* decoded strings */
} Pickle;

/* Parses len bytes; name is used in messages. Strings and arrays point into
 * data, which must outlive *out. On error *out is empty. */
int pickle_parse(const uint8_t *data, size_t len, const char *name, Pickle *out);
/* Maps the file and parses it; *out keeps the mapping (the strings and
 * arrays are read from it, and the page cache holds it, not the heap). */
int pickle_read_file(const char *path, Pickle *out);
void pickle_free(Pickle *p);

/* "None", "int", "tuple", "numpy array", ... */
const char *pickle_kind_name(int kind);

/* Tuple, list: items; dict: pairs; bytes, text: bytes; array: elements;
 * anything else 0. */
size_t pickle_len(const PickleValue *v);
/* Item i of a tuple or list, key or value of pair i of a dict; NULL when v
 * is not one or i is out of range. */
const PickleValue *pickle_item(const PickleValue *v, size_t i);
const PickleValue *pickle_key(const PickleValue *v, size_t i);
const PickleValue *pickle_value(const PickleValue *v, size_t i);

/* A vector is a numpy float array (any shape, read in C order) or a tuple
 * or list of ints and floats. pickle_vector_len fails (with a message) on
 * anything else; pickle_vector converts exactly n values to float. */
int pickle_vector_len(const PickleValue *v, size_t *n);
int pickle_vector(const PickleValue *v, float *out, size_t n);

#endif
