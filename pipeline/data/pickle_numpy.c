/* The few globals the pickle reader knows, what calling them (REDUCE) and
 * BUILD do to numpy arrays and dtypes, and reading vectors (pickle.h). None
 * of this runs Python: each known call is implemented here. */
#include "pipeline/data/pickle_impl.h"

#include <string.h>

enum { G_RECONSTRUCT, G_NDARRAY, G_DTYPE, G_SCALAR, G_ENCODE, G_BYTES, N_GLOBALS };

static const struct {
    const char *module, *name;
    int id;
} KNOWN[] = {
    {"numpy.core.multiarray", "_reconstruct", G_RECONSTRUCT},
    {"numpy._core.multiarray", "_reconstruct", G_RECONSTRUCT},   /* NumPy 2 */
    {"numpy", "ndarray", G_NDARRAY},
    {"numpy", "dtype", G_DTYPE},
    {"numpy.core.multiarray", "scalar", G_SCALAR},
    {"numpy._core.multiarray", "scalar", G_SCALAR},
    {"_codecs", "encode", G_ENCODE},
    {"__builtin__", "bytes", G_BYTES},   /* Python 3 maps builtins to Python 2's name below protocol 3 */
    {"builtins", "bytes", G_BYTES},
};

static const char *const GLOBAL_NAMES[N_GLOBALS] = {
    "numpy.core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype", "numpy.core.multiarray.scalar",
    "_codecs.encode", "bytes",
};

static bool same(const uint8_t *s, size_t n, const char *z) { return strlen(z) == n && !memcmp(s, z, n); }

int pickle_global_find(const uint8_t *module, size_t module_len, const uint8_t *name, size_t name_len)
{
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        if (same(module, module_len, KNOWN[i].module) && same(name, name_len, KNOWN[i].name)) return KNOWN[i].id;
    return -1;
}

const char *pickle_global_name(int64_t id) { return id >= 0 && id < N_GLOBALS ? GLOBAL_NAMES[id] : "?"; }

static bool is_string(const PickleValue *v) { return v->kind == PICKLE_BYTES || v->kind == PICKLE_TEXT; }
static bool string_is(const PickleValue *v, const char *z) { return is_string(v) && same(v->u.s, v->len, z); }
static bool is_integer(const PickleValue *v) { return v->kind == PICKLE_INT || v->kind == PICKLE_BOOL; }

/* _reconstruct(numpy.ndarray, shape, code): an array waiting for BUILD
 * (shape and code are placeholders numpy overwrites from the state). */
static int reconstruct(PickleReader *r, const PickleValue *args, PickleValue *out)
{
    const PickleValue *cls = pickle_item(args, 0);
    if (pickle_len(args) != 3 || cls->kind != PICKLE_GLOBAL || cls->u.i != G_NDARRAY)
        return pickle_fail(r, "_reconstruct takes (numpy.ndarray, shape, code); got %zu arguments%s", pickle_len(args),
                           pickle_len(args) == 3 ? " not starting with numpy.ndarray" : "");
    PickleObject *a = pickle_new_object(r, PICKLE_ARRAY);
    if (!a) return MELD_ERR;
    *out = (PickleValue){.kind = PICKLE_ARRAY, .u.obj = a};
    return MELD_OK;
}

/* dtype(code, align, copy): code 'f4' or 'f8'; the byte order comes with
 * the state (BUILD). */
static int dtype_new(PickleReader *r, const PickleValue *args, PickleValue *out)
{
    size_t n = pickle_len(args);
    const PickleValue *code = pickle_item(args, 0);
    if (n < 1 || n > 3 || !is_string(code)) return pickle_fail(r, "numpy.dtype takes (code[, align[, copy]])");
    int size = string_is(code, "f4") ? 4 : string_is(code, "f8") ? 8 : 0;
    if (!size)
        return pickle_fail(r, "numpy dtype '%.*s': only float32 ('f4') and float64 ('f8') are supported",
                           code->len > 16 ? 16 : (int)code->len, (const char *)code->u.s);
    PickleObject *d = pickle_new_object(r, PICKLE_DTYPE);
    if (!d) return MELD_ERR;
    d->itemsize = (uint8_t)size;
    *out = (PickleValue){.kind = PICKLE_DTYPE, .u.obj = d};
    return MELD_OK;
}

/* numpy's dtype state: (version 3 or 4, byte order, subarray, names,
 * fields, elsize, alignment, flags[, metadata]). Only a plain '<' or '>'
 * float passes: no subarray, no fields. */
static int dtype_set_state(PickleReader *r, PickleObject *d, const PickleValue *state)
{
    size_t n = pickle_len(state);
    const PickleValue *version = pickle_item(state, 0), *order = pickle_item(state, 1);
    if (state->kind != PICKLE_TUPLE || n < 5 || !is_integer(version) || version->u.i < 3 || version->u.i > 4)
        return pickle_fail(r, "numpy dtype state: expected numpy's (3 or 4, order, ...) tuple");
    for (size_t i = 2; i < 5; i++)
        if (pickle_item(state, i)->kind != PICKLE_NONE)
            return pickle_fail(r, "numpy dtype state: structured and sub-array dtypes are not supported");
    if (!string_is(order, "<") && !string_is(order, ">"))
        return pickle_fail(r, "numpy dtype state: byte order must be '<' or '>'");
    d->big_endian = string_is(order, ">");
    d->built = 1;
    return MELD_OK;
}

static bool is_built_dtype(const PickleValue *v) { return v->kind == PICKLE_DTYPE && v->u.obj->built; }

/* ndarray state: ([1,] shape, dtype, fortran_order, raw bytes). */
static int array_set_state(PickleReader *r, PickleObject *a, const PickleValue *state)
{
    size_t n = pickle_len(state), at = n == 5;
    if (state->kind != PICKLE_TUPLE || (n != 4 && n != 5) || (n == 5 && !is_integer(pickle_item(state, 0))))
        return pickle_fail(r, "numpy array state: expected ([version,] shape, dtype, fortran, data)");
    const PickleValue *shape = pickle_item(state, at), *dtype = pickle_item(state, at + 1);
    const PickleValue *fortran = pickle_item(state, at + 2), *data = pickle_item(state, at + 3);
    if (!is_built_dtype(dtype))
        return pickle_fail(r, "numpy array state: the dtype is a %s", pickle_kind_name(dtype->kind));
    if (shape->kind != PICKLE_TUPLE) return pickle_fail(r, "numpy array state: the shape is not a tuple");
    uint64_t count = 1, limit = UINT64_MAX / 8;
    for (size_t i = 0; i < pickle_len(shape); i++) {
        const PickleValue *dim = pickle_item(shape, i);
        if (dim->kind != PICKLE_INT || dim->u.i < 0) return pickle_fail(r, "numpy array state: bad shape");
        if (dim->u.i && count > limit / (uint64_t)dim->u.i) return pickle_fail(r, "numpy array state: shape too large");
        count *= (uint64_t)dim->u.i;
    }
    if (!is_integer(fortran) || (fortran->u.i && pickle_len(shape) > 1))
        return pickle_fail(r, "numpy array state: only C-order arrays are supported");
    if (data->kind != PICKLE_BYTES)
        return pickle_fail(r, "numpy array state: the data is a %s, not bytes (object arrays are not supported)",
                           pickle_kind_name(data->kind));
    const PickleObject *d = dtype->u.obj;
    if (data->len != count * d->itemsize)
        return pickle_fail(r, "numpy array state: %u data bytes for %llu values of %d bytes", (unsigned)data->len,
                           (unsigned long long)count, d->itemsize);
    a->itemsize = d->itemsize;
    a->big_endian = d->big_endian;
    a->n_elems = count;
    a->data = data->u.s;
    a->built = 1;
    return MELD_OK;
}

/* Element i of raw float data, whatever the machine's byte order. */
static inline double raw_element(const uint8_t *data, int itemsize, bool big_endian, uint64_t i)
{
    const uint8_t *p = data + i * (uint64_t)itemsize;
    uint64_t bits = 0;
    for (int k = 0; k < itemsize; k++) bits = bits << 8 | p[big_endian ? k : itemsize - 1 - k];
    if (itemsize == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* scalar(dtype, raw bytes): one numpy float. */
static int scalar(PickleReader *r, const PickleValue *args, PickleValue *out)
{
    const PickleValue *dtype = pickle_item(args, 0), *data = pickle_item(args, 1);
    if (pickle_len(args) != 2 || !is_built_dtype(dtype) || data->kind != PICKLE_BYTES ||
        data->len != dtype->u.obj->itemsize)
        return pickle_fail(r, "scalar takes (float dtype, its raw bytes)");
    *out = (PickleValue){.kind = PICKLE_FLOAT,
                         .u.f = raw_element(data->u.s, dtype->u.obj->itemsize, dtype->u.obj->big_endian, 0)};
    return MELD_OK;
}

/* _codecs.encode(text, 'latin1'): Python 3's bytes below protocol 3. */
static int encode(PickleReader *r, const PickleValue *args, PickleValue *out)
{
    const PickleValue *text = pickle_item(args, 0), *codec = pickle_item(args, 1);
    bool latin1 = pickle_len(args) == 2 && (string_is(codec, "latin1") || string_is(codec, "latin-1"));
    if (!latin1 || text->kind != PICKLE_TEXT)
        return pickle_fail(r, "_codecs.encode is supported as encode(text, 'latin1') only");
    return pickle_text_to_latin1(r, text, out);
}

int pickle_reduce(PickleReader *r, const PickleValue *callable, const PickleValue *args, PickleValue *out)
{
    if (callable->kind != PICKLE_GLOBAL)
        return pickle_fail(r, "calls a %s; only the known globals can be called", pickle_kind_name(callable->kind));
    if (args->kind != PICKLE_TUPLE)
        return pickle_fail(r, "the arguments of %s are a %s, not a tuple", pickle_global_name(callable->u.i),
                           pickle_kind_name(args->kind));
    switch (callable->u.i) {
    case G_RECONSTRUCT: return reconstruct(r, args, out);
    case G_DTYPE: return dtype_new(r, args, out);
    case G_SCALAR: return scalar(r, args, out);
    case G_ENCODE: return encode(r, args, out);
    case G_BYTES:
        if (pickle_len(args)) return pickle_fail(r, "bytes(...) is supported with no arguments only");
        *out = (PickleValue){.kind = PICKLE_BYTES, .len = 0, .u.s = r->data};
        return MELD_OK;
    default: return pickle_fail(r, "%s cannot be called", pickle_global_name(callable->u.i));
    }
}

int pickle_build(PickleReader *r, PickleValue *target, const PickleValue *state)
{
    if (target->kind != PICKLE_ARRAY && target->kind != PICKLE_DTYPE)
        return pickle_fail(r, "sets the state of a %s; only numpy arrays and dtypes have one here",
                           pickle_kind_name(target->kind));
    PickleObject *o = target->u.obj;
    if (o->built) return pickle_fail(r, "the %s already has its state", pickle_kind_name(target->kind));
    return target->kind == PICKLE_ARRAY ? array_set_state(r, o, state) : dtype_set_state(r, o, state);
}

/* ---- vectors ----------------------------------------------------------- */

int pickle_vector_len(const PickleValue *v, size_t *n)
{
    if (v->kind == PICKLE_ARRAY && v->u.obj->built) {
        *n = (size_t)v->u.obj->n_elems;
        return MELD_OK;
    }
    if (v->kind == PICKLE_LIST || v->kind == PICKLE_TUPLE) {
        *n = pickle_len(v);
        return MELD_OK;
    }
    return meld_errorf("a %s%s is not a vector (a numpy float array or a list of numbers)", pickle_kind_name(v->kind),
                       v->kind == PICKLE_ARRAY ? " without its state" : "");
}

int pickle_vector(const PickleValue *v, float *out, size_t n)
{
    size_t len;
    if (pickle_vector_len(v, &len)) return MELD_ERR;
    if (len != n) return meld_errorf("%zu values, expected %zu", len, n);
    if (v->kind == PICKLE_ARRAY) {
        const PickleObject *a = v->u.obj;
        /* one loop per layout, so the common one (little-endian float32)
         * compiles to plain loads */
        if (a->itemsize == 4 && !a->big_endian)
            for (size_t i = 0; i < n; i++) out[i] = (float)raw_element(a->data, 4, false, i);
        else if (a->itemsize == 4)
            for (size_t i = 0; i < n; i++) out[i] = (float)raw_element(a->data, 4, true, i);
        else if (!a->big_endian)
            for (size_t i = 0; i < n; i++) out[i] = (float)raw_element(a->data, 8, false, i);
        else
            for (size_t i = 0; i < n; i++) out[i] = (float)raw_element(a->data, 8, true, i);
        return MELD_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const PickleValue *x = pickle_item(v, i);
        if (x->kind == PICKLE_INT) out[i] = (float)x->u.i;
        else if (x->kind == PICKLE_FLOAT) out[i] = (float)x->u.f;
        else return meld_errorf("item %zu is a %s, not a number", i, pickle_kind_name(x->kind));
    }
    return MELD_OK;
}
