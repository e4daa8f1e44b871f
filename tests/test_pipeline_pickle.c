/* The pickle reader (pipeline/data/pickle.h): the fixtures Python 3 wrote at
 * protocols 0-2 and the Python-2-style streams (tests/fixtures/
 * make_pickle_fixtures.py), every supported opcode on hand-assembled
 * streams, and hostile input: each error names the byte offset and the
 * opcode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline/data/pickle.h"
#include "tensor/error.h"
#include "tests/pickle_stream.h"

#define READER "tests/fixtures/pickle/reader/"
enum { DIM = 5 };

/* ---- the fixtures ------------------------------------------------------------- */

/* The "mixed" structure: split s, key "D_U", v[i] = 100 s + 10 D + U + i / 4,
 * as float32 and float64 arrays of both byte orders, lists of floats and
 * lists of numpy scalars (make_pickle_fixtures.py). */
static void check_mixed(const char *file, PickleKind key_kind)
{
    Pickle p;
    if (pickle_read_file(file, &p)) fail_msg("%s", meld_error());
    assert_int_equal(p.root.kind, PICKLE_TUPLE);
    assert_int_equal(pickle_len(&p.root), 3);
    for (int s = 0; s < 3; s++) {
        const PickleValue *dict = pickle_item(&p.root, (size_t)s);
        assert_int_equal(dict->kind, PICKLE_DICT);
        assert_int_equal(pickle_len(dict), 6);
        for (size_t e = 0; e < 6; e++) {
            const PickleValue *key = pickle_key(dict, e), *vec = pickle_value(dict, e);
            int d = (int)e / 3, u = (int)e % 3;
            char want[8];
            snprintf(want, sizeof want, "%d_%d", d, u);
            assert_int_equal(key->kind, key_kind);
            assert_int_equal(key->len, strlen(want));
            assert_memory_equal(key->u.s, want, key->len);
            /* (d, u) = (0, 2) is a list of floats, (1, 2) a list of numpy scalars */
            assert_int_equal(vec->kind, u == 2 ? PICKLE_LIST : PICKLE_ARRAY);
            size_t n;
            float v[DIM];
            assert_int_equal(pickle_vector_len(vec, &n), MELD_OK);
            assert_int_equal(n, DIM);
            assert_int_equal(pickle_vector(vec, v, DIM), MELD_OK);
            for (int i = 0; i < DIM; i++) assert_true(v[i] == 100.0f * s + 10 * d + u + i / 4.0f);
        }
    }
    pickle_free(&p);
}

static void python3_protocols_0_to_2(void **state)
{
    (void)state;
    check_mixed(READER "py3_p0.pkl", PICKLE_TEXT);
    check_mixed(READER "py3_p1.pkl", PICKLE_TEXT);
    check_mixed(READER "py3_p2.pkl", PICKLE_TEXT);
}

static void python2_style_protocols_0_to_2(void **state)
{
    (void)state;
    check_mixed(READER "py2_p0.pkl", PICKLE_BYTES);
    check_mixed(READER "py2_p1.pkl", PICKLE_BYTES);
    check_mixed(READER "py2_p2.pkl", PICKLE_BYTES);
}

/* ---- hand-assembled streams ------------------------------------------------------ */

static int parse(const char *spec, Pickle *p)
{
    size_t n;
    const uint8_t *bytes = pickle_stream(spec, &n);
    return pickle_parse(bytes, n, "t.pkl", p);
}


static const PickleValue *item(const Pickle *p, size_t i) { return pickle_item(&p->root, i); }

static void integers_of_every_opcode(void **state)
{
    (void)state;
    Pickle p;
    /* INT, "I01"/"I00", LONG, BININT (-2), BININT1, BININT2, LONG1 (-129 in two
     * bytes), LONG1 of 9 bytes whose top byte only repeats the sign (-1),
     * LONG4 (2^40), NEWTRUE, NEWFALSE, NONE, LONG1 of zero bytes (0) */
    assert_int_equal(parse("(I-42\nI01\nI00\nL-9223372036854775808L\nJ`feffffff`K`ff`M`ffff`"
                           "`8a027fff8a09ffffffffffffffffff`"
                           "`8b060000000000000000018889`N`8a00`l.",
                           &p),
                     MELD_OK);
    const int64_t want[] = {-42, 1, 0, INT64_MIN, -2, 255, 65535, -129, -1, (int64_t)1 << 40, 1, 0, 0, 0};
    const int kinds[] = {PICKLE_INT, PICKLE_BOOL, PICKLE_BOOL, PICKLE_INT, PICKLE_INT, PICKLE_INT, PICKLE_INT,
                         PICKLE_INT, PICKLE_INT, PICKLE_INT, PICKLE_BOOL, PICKLE_BOOL, PICKLE_NONE, PICKLE_INT};
    assert_int_equal(p.root.kind, PICKLE_LIST);
    assert_int_equal(pickle_len(&p.root), 14);
    for (size_t i = 0; i < 14; i++) {
        assert_int_equal(item(&p, i)->kind, kinds[i]);
        if (kinds[i] != PICKLE_NONE) assert_true(item(&p, i)->u.i == want[i]);
    }
    pickle_free(&p);
}

static void floats_and_strings(void **state)
{
    (void)state;
    Pickle p;
    /* FLOAT, BINFLOAT (big-endian 1.5), STRING with escapes (\x41 \101 \n \q
     * kept as backslash-q), SHORT_BINSTRING, BINSTRING, UNICODE with \u00e9
     * (one escape) and \\u (an even run of backslashes: no escape),
     * BINUNICODE UTF-8, STRING in double quotes */
    assert_int_equal(parse("(F-0.25\nG?`f8000000000000`S'\\x41\\101\\n\\q'\nU`02`hiT`01000000`!"
                           "Vcaf\\u00e9 \\\\u0041\nX`02000000c3a9`S\"it's\"\nt.",
                           &p),
                     MELD_OK);
    assert_int_equal(pickle_len(&p.root), 8);
    assert_true(item(&p, 0)->u.f == -0.25 && item(&p, 1)->u.f == 1.5);
    const struct {
        int kind;
        const char *bytes;
    } want[] = {{PICKLE_BYTES, "AA\n\\q"}, {PICKLE_BYTES, "hi"}, {PICKLE_BYTES, "!"},
                {PICKLE_TEXT, "caf\xc3\xa9 \\\\u0041"}, {PICKLE_TEXT, "\xc3\xa9"}, {PICKLE_BYTES, "it's"}};
    for (size_t i = 0; i < 6; i++) {
        const PickleValue *v = item(&p, i + 2);
        assert_int_equal(v->kind, want[i].kind);
        assert_int_equal(v->len, strlen(want[i].bytes));
        assert_memory_equal(v->u.s, want[i].bytes, v->len);
    }
    pickle_free(&p);
}

static void containers_memo_and_stack_ops(void **state)
{
    (void)state;
    Pickle p;
    /* A list shared through the memo (PUT 0, GET 0, BINGET 0, LONG_BINGET 0)
     * and appended to after being shared: all four references see [7];
     * POP_MARK and POP drop values; TUPLE1-3, DUP; a dict from MARK...DICT,
     * one from SETITEM and SETITEMS, memoised and fetched again. */
    assert_int_equal(parse("(]p0\ng0\nh`00`j`00000000`K`07`a(NN1N0K`0185`K`01`K`0286`K`01`K`02`K`0387`"
                           "2(U`01`kK`05`d}U`01`aK`01`sU`01`bK`02`s(U`01`cK`03`uq`01`h`01`t.",
                           &p),
                     MELD_OK);
    assert_int_equal(p.root.kind, PICKLE_TUPLE);
    assert_int_equal(pickle_len(&p.root), 11);
    for (size_t i = 0; i < 4; i++) assert_ptr_equal(item(&p, i)->u.obj, item(&p, 0)->u.obj);
    assert_int_equal(pickle_len(item(&p, 0)), 1);
    assert_int_equal(pickle_item(item(&p, 0), 0)->u.i, 7);
    for (size_t i = 4; i < 7; i++) {
        assert_int_equal(item(&p, i)->kind, PICKLE_TUPLE);
        assert_int_equal(pickle_len(item(&p, i)), i - 3);
        assert_int_equal(pickle_item(item(&p, i), i - 4)->u.i, i - 3);
    }
    assert_ptr_equal(item(&p, 7)->u.obj, item(&p, 6)->u.obj);   /* DUP */
    assert_int_equal(item(&p, 8)->kind, PICKLE_DICT);
    assert_int_equal(pickle_len(item(&p, 8)), 1);
    assert_int_equal(pickle_value(item(&p, 8), 0)->u.i, 5);
    assert_int_equal(pickle_len(item(&p, 9)), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pickle_key(item(&p, 9), i)->u.s[0], 'a' + (int)i);
        assert_int_equal(pickle_value(item(&p, 9), i)->u.i, i + 1);
    }
    assert_ptr_equal(item(&p, 10)->u.obj, item(&p, 9)->u.obj);
    assert_null(pickle_item(item(&p, 8), 0));   /* a dict has no items, only pairs */
    assert_null(pickle_key(item(&p, 9), 3));
    assert_null(pickle_key(item(&p, 4), 0));
    pickle_free(&p);
}

/* numpy by hand: a float64 big-endian array through _codecs.encode (one
 * character above 127, so the latin-1 conversion runs), a 2 x 2 float32
 * array, a numpy.float32 scalar, and Python 3's empty bytes. */
static void numpy_arrays_scalars_and_bytes(void **state)
{
    (void)state;
    Pickle p;
    assert_int_equal(parse("`8002`(cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK`0085`U`01`b`87`R"
                           "(K`01`K`0185`cnumpy\ndtype\nU`02`f8K`00`K`0187`Rq`00`(K`03`U`01`>NNNJ`ffffffff`"
                           "J`ffffffff`K`00`tb`89`c_codecs\nencode\nX`09000000c38000000000000000`"
                           "X`06000000`latin1`86`RtbcNumpy.core.multiarray\n_reconstruct\n",
                           &p),
                     MELD_ERR);
    assert_non_null(strstr(meld_error(), "global Numpy.core.multiarray._reconstruct is not one"));
    int rc = parse("`8002`(cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK`0085`U`01`b`87`R"
                           "(K`01`K`0185`cnumpy\ndtype\nU`02`f8K`00`K`0187`Rq`00`(K`03`U`01`>NNNJ`ffffffff`"
                           "J`ffffffff`K`00`tb`89`c_codecs\nencode\nX`09000000c38000000000000000`"
                           "X`06000000`latin1`86`Rtb"
                           "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK`0085`U`01`b`87`R"
                           "(K`01`K`02`K`0286`cnumpy\ndtype\nU`02`f4K`00`K`0187`R(K`03`U`01`<NNNJ`ffffffff`"
                           "J`ffffffff`K`00`tb`89`U`10000080`?`000000`@`0000`@@`000080`@tb"
                           "cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nU`02`f4K`00`K`0187`R(K`03`U`01`<NNNJ`ffff`"
                           "`ffff`J`ffffffff`K`00`tbU`040000c0bf86`R"
                           "c__builtin__\nbytes\n)Rt.",
                           &p);
    if (rc) fail_msg("%s", meld_error());
    assert_int_equal(pickle_len(&p.root), 4);
    float v[4];
    size_t n;
    assert_int_equal(item(&p, 0)->kind, PICKLE_ARRAY);
    assert_int_equal(pickle_vector_len(item(&p, 0), &n), MELD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pickle_vector(item(&p, 0), v, 1), MELD_OK);
    assert_true(v[0] == -2.0f);   /* 0xc0 00.. as a big-endian double */
    assert_int_equal(pickle_vector(item(&p, 1), v, 4), MELD_OK);
    for (int i = 0; i < 4; i++) assert_true(v[i] == (float)(i + 1));
    assert_int_equal(item(&p, 2)->kind, PICKLE_FLOAT);
    assert_true(item(&p, 2)->u.f == -1.5);
    assert_int_equal(item(&p, 3)->kind, PICKLE_BYTES);
    assert_int_equal(item(&p, 3)->len, 0);
    assert_int_equal(pickle_vector(item(&p, 1), v, 3), MELD_ERR);
    assert_non_null(strstr(meld_error(), "4 values, expected 3"));
    pickle_free(&p);
}

static void bytes_after_stop_warn(void **state)
{
    (void)state;
    Pickle p;
    (void)meld_take_warning();
    assert_int_equal(parse("N.junk", &p), MELD_OK);
    const char *w = meld_take_warning();
    assert_non_null(w);
    assert_non_null(strstr(w, "4 bytes after the pickle's STOP (byte 1) ignored"));
    pickle_free(&p);
}

/* ---- errors ------------------------------------------------------------------------ */

static void expect_error(const char *stream, size_t len, const char *want)
{
    Pickle p;
    int rc = pickle_parse((const uint8_t *)stream, len, "bad.pkl", &p);
    if (rc != MELD_ERR) fail_msg("expected an error containing '%s'", want);
    if (!strstr(meld_error(), want)) fail_msg("error '%s' lacks '%s'", meld_error(), want);
    if (strncmp(meld_error(), "bad.pkl: byte ", 14)) fail_msg("error '%s' does not name file and byte", meld_error());
    assert_null(p.objects);
    assert_null(p.blobs);
}

static void expect(const char *spec, const char *want)
{
    size_t n;
    const uint8_t *bytes = pickle_stream(spec, &n);
    expect_error((const char *)bytes, n, want);
}


static void hostile_streams_give_errors(void **state)
{
    (void)state;
    expect("", "byte 0: the pickle ends without a STOP opcode");
    expect("NN", "byte 2: the pickle ends without a STOP");
    expect(".", "byte 0: opcode STOP ('.'): leaves 0 values on the stack, expected 1");
    expect("NN.", "leaves 2 values");
    expect("(N.", "byte 2: opcode STOP ('.'): 1 MARK never closed");
    expect("`8003`N.", "byte 0: opcode PROTO (0x80): protocol 3; the reader takes protocols 0-2");
    expect("`80029508`", "byte 2: opcode FRAME (0x95): from protocol 4");
    expect("C`01`x.", "byte 0: opcode SHORT_BINBYTES ('C'): from protocol 3");
    expect("cos\nsystem\n(S'ls'\ntR.", "byte 0: opcode GLOBAL ('c'): global os.system is not one");
    expect("(S'ls'\nios\nsystem\n.", "byte 7: opcode INST ('i'): not supported: it creates an instance");
    expect("`8002`N)`81`.", "opcode NEWOBJ (0x81): not supported");
    expect("S'x'\nQ.", "opcode BINPERSID ('Q'): not supported: it asks the program");
    expect("`ff`", "byte 0: opcode (unknown) (0xff): not a pickle opcode");
    expect("T`ffffffff`", "opcode BINSTRING ('T'): negative byte count");
    expect("T`10000000`ab", "truncated: needs 16 more bytes, the file has 2");
    expect("X`ffffff7f`", "truncated: needs 2147483647 more bytes");
    expect("K", "byte 0: opcode BININT1 ('K'): truncated");
    expect("I12", "opcode INT ('I'): truncated: its argument has no end of line");
    expect("X`02000000c3`(.", "text is not UTF-8");
    expect("X`03000000eda080`.", "text is not UTF-8");   /* a surrogate */
    expect("I12345678901234567890\n.", "12345678901234567890 does not fit in 64 bits");
    expect("I1x\n.", "'1x' is not an integer");
    expect("`8a09000000000000000001`.", "an integer of 9 bytes does not fit in 64 bits");
    expect("`8b00000080`", "opcode LONG4 (0x8b): negative byte count");
    expect("F0x1p3\n.", "'0x1p3' is not a float");
    expect("F 1\n.", "' 1' is not a float");
    expect("Sabc\n.", "opcode STRING ('S'): the argument is not quoted");
    expect("S'a\\'\n.", "a string ends with a lone backslash");
    expect("S'\\x4'\n.", "invalid \\x escape");
    expect("V\\u12\n.", "truncated \\u escape");
    expect("V\\ud800\n.", "code point 0xd800, which UTF-8 cannot hold");
    expect("V\\U00110000\n.", "code point 0x110000");
    expect("h`05`.", "byte 0: opcode BINGET ('h'): memo index 5 was never PUT (0 entries)");
    expect("Nq`05`.", "byte 1: opcode BINPUT ('q'): memo index 5 skips ahead of the 0 entries so far");
    expect("g-1\n.", "negative memo index -1");
    expect("a", "opcode APPEND ('a'): needs 1 value on the stack, there are 0");
    expect("N(Na.", "byte 3: opcode APPEND ('a'): no list to add to");
    expect("Na.", "byte 1: opcode APPEND ('a'): no list to add to");
    expect("N(0.", "byte 2: opcode POP ('0'): needs 1 value on the stack above the marker, there are 0");
    expect("NNa.", "opcode APPEND ('a'): adds to a None, expected a list");
    expect("(Ne.", "opcode APPENDS ('e'): no list to add to");
    expect("}(Nu.", "opcode SETITEMS ('u'): 1 values: keys and values do not pair up");
    expect("(Nd.", "opcode DICT ('d'): 1 values");
    expect("1", "opcode POP_MARK ('1'): no MARK to take the values from");
    expect("N)R.", "opcode REDUCE ('R'): calls a None; only the known globals can be called");
    expect("cnumpy\ndtype\nNR.", "the arguments of numpy.dtype are a None, not a tuple");
    expect("cnumpy\nndarray\n)R.", "numpy.ndarray cannot be called");
    expect("cnumpy\ndtype\n(S'i8'\nI0\nI1\ntR.", "numpy dtype 'i8': only float32 ('f4') and float64");
    expect("NNb.", "opcode BUILD ('b'): sets the state of a None");
    expect("c_codecs\nencode\n(Vx\nVutf8\ntR.", "encode(text, 'latin1') only");
    expect("c_codecs\nencode\n(V\\u20ac\nVlatin1\ntR.", "latin-1 holds U+20AC");
    expect("cbuiltins\nbytes\n(K`01`tR.", "bytes(...) is supported with no arguments only");
}

/* A float32 dtype (its REDUCE and BUILD) as the literal text it takes. */
#define F4 "cnumpy\ndtype\n(U`02`f4K`00`K`01`tR(K`03`U`01`<NNNJ`ffffffff`J`ffffffff`K`00`tb"
#define ARRAY "cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(K`00`tU`01`btR"

static void bad_numpy_states(void **state)
{
    (void)state;
    expect(ARRAY "(K`01`(K`02`t" F4 "I00\nU`0400000000`tb.", "4 data bytes for 2 values of 4 bytes");
    expect(ARRAY "(K`01`(K`02`K`02`t" F4 "I01\nU`100000000000000000000000000000`"
                       "`0000`tb.",
                 "only C-order arrays");
    expect(ARRAY "(K`01`(K`01`t" F4 "I00\n(NltB.", "opcode BINBYTES ('B')");
    expect(ARRAY "(K`01`(K`01`t" F4 "I00\n(ltb.", "the data is a list, not bytes (object arrays");
    expect(ARRAY "(K`01`(J`ffffffff`t" F4 "I00\nU`00`tb.", "bad shape");
    expect(ARRAY "(K`01`(J`ffffff7f`J`ffffff7f`J`ffffff7f`J`ffffff7f`t" F4 "I00\nU`00`tb.",
                 "shape too large");
    expect(ARRAY "(K`01`(K`01`tNI00\nU`0400000000`tb.", "the dtype is a None");
    expect(ARRAY "Nb(K`01`(K`01`t" F4 "I00\nU`0400000000`tb.", "expected ([version,] shape, dtype");
    expect("cnumpy\ndtype\n(U`02`f4K`00`K`01`tR(K`03`U`01`=NNNJ`ffffffff`J`ffffffff`K`00`tb.",
                 "byte order must be '<' or '>'");
    expect("cnumpy\ndtype\n(U`02`f4K`00`K`01`tR(K`03`U`01`<N(tNJ`ffffffff`J`ffffffff`K`00`tb.",
                 "structured and sub-array dtypes are not supported");
    expect(F4 "(K`03`U`01`<NNNJ`ffffffff`J`ffffffff`K`00`tb.", "the numpy dtype already has its state");
    expect(ARRAY "(K`01`(K`01`t" F4 "I00\nU`0400000000`tb(K`01`(K`01`t" F4 "I00\nU`0400000000`tb.",
                 "the numpy array already has its state");
    expect("cnumpy.core.multiarray\nscalar\n(" F4 "U`03000000`tR.", "scalar takes (float dtype, its raw bytes)");
    /* a vector of a list holding a None: an error from pickle_vector, not a crash */
    Pickle p;
    assert_int_equal(parse("(K`01`Nl.", &p), MELD_OK);
    float v[2];
    assert_int_equal(pickle_vector(&p.root, v, 2), MELD_ERR);
    assert_non_null(strstr(meld_error(), "item 1 is a None, not a number"));
    size_t n;
    assert_int_equal(pickle_vector_len(pickle_item(&p.root, 0), &n), MELD_ERR);
    assert_non_null(strstr(meld_error(), "a int is not a vector"));
    pickle_free(&p);
}

/* Markers nest at most PICKLE_MAX_DEPTH deep; containers nest without limit
 * (nothing recurses) but not without paying in bytes. */
static void depth_and_memory_are_bounded(void **state)
{
    (void)state;
    char deep[PICKLE_MAX_DEPTH + 2];
    memset(deep, '(', sizeof deep);
    expect_error(deep, PICKLE_MAX_DEPTH, "byte 64: the pickle ends without a STOP");   /* 64 marks are fine */
    expect_error(deep, PICKLE_MAX_DEPTH + 1, "byte 64: opcode MARK ('('): markers nested more than 64 deep");

    /* lists nested ten thousand deep (Python itself cannot write that):
     * ] ] ] ... then APPEND ten thousand times */
    size_t n = 10000;
    uint8_t *nested = malloc(2 * n + 1);
    assert_non_null(nested);
    memset(nested, ']', n);
    memset(nested + n, 'a', n - 1);
    nested[2 * n - 1] = '.';
    Pickle p;
    assert_int_equal(pickle_parse(nested, 2 * n, "nested.pkl", &p), MELD_OK);
    assert_true(p.memory <= 2 * n * PICKLE_MEMORY_PER_BYTE + PICKLE_MEMORY_BASE);
    const PickleValue *v = &p.root;
    size_t depth = 1;
    while (pickle_len(v) == 1) v = pickle_item(v, 0), depth++;
    assert_int_equal(depth, n);
    pickle_free(&p);

    free(nested);
    /* a million one-byte EMPTY_LISTs: 40 bytes of object and 16 of stack
     * each, over the bound of 32 per byte */
    n = 1000000;
    uint8_t *flood = malloc(n);
    assert_non_null(flood);
    memset(flood, ']', n);
    expect_error((const char *)flood, n, "the values would need more than 33048576 bytes of memory");
    free(flood);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(python3_protocols_0_to_2),
        cmocka_unit_test(python2_style_protocols_0_to_2),
        cmocka_unit_test(integers_of_every_opcode),
        cmocka_unit_test(floats_and_strings),
        cmocka_unit_test(containers_memo_and_stack_ops),
        cmocka_unit_test(numpy_arrays_scalars_and_bytes),
        cmocka_unit_test(bytes_after_stop_warn),
        cmocka_unit_test(hostile_streams_give_errors),
        cmocka_unit_test(bad_numpy_states),
        cmocka_unit_test(depth_and_memory_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
