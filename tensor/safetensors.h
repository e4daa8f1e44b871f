/* safetensors: the checkpoint format (the one Hugging Face's `safetensors`
 * package reads and writes), float32 only.
 *
 * A file, byte by byte:
 *
 *   [0, 8)         N = header length, unsigned 64-bit little-endian
 *   [8, 8+N)       header: a UTF-8 JSON object, possibly padded with spaces
 *   [8+N, end)     data section: the raw tensor bytes, little-endian
 *
 * The header maps each tensor name to
 *
 *     {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}
 *
 * BEGIN/END are byte offsets into the data section (END exclusive) and
 * END - BEGIN = 4 * product(shape); the product of an empty shape is 1, a
 * scalar. An optional "__metadata__" entry maps strings to strings (our
 * checkpoints keep the model kind, hyper-parameters, epoch, RNG state and
 * label order there). The tensors tile the data section exactly: no gap, no
 * overlap, no trailing byte (the reference loader enforces the same).
 *
 * Our writer puts "__metadata__" first, then the tensors in the order they
 * were added, packed back to back, and pads the header with spaces so the
 * data section starts at a multiple of 8 bytes. It writes atomically
 * (tensor/atomic_file.h): an interrupted save leaves the old file in place.
 *
 * The loader checks, in this order, and reports the FIRST problem as one line
 * starting with the file name:
 *   1. the file holds the 8-byte length and N fits in what follows (N is also
 *      capped at 100 MB, the reference loader's limit);
 *   2. the header is valid JSON (UTF-8 strings, nesting depth <= 64), an
 *      object, followed only by whitespace;
 *   3. each entry, in header order: dtype "F32", shape a list of at most
 *      ST_MAX_DIMS non-negative integers, data_offsets two integers with
 *      BEGIN <= END <= data size, END - BEGIN matching the shape; metadata
 *      values are strings; no name appears twice;
 *   4. the layout: sorted by offset, the tensors neither overlap nor leave a
 *      gap, and the last one ends where the file ends.
 * Allocation is bounded by the file size, so a hostile header cannot ask for
 * gigabytes. Unknown fields inside a tensor entry are ignored (as the
 * reference loader does).
 *
 *     SafeTensors st;
 *     st_init(&st);
 *     st_add(&st, "fc.weight", 2, (int64_t[]){4, 3}, w);
 *     st_set_meta(&st, "epoch", "12");
 *     if (st_save(&st, "run/model.safetensors")) ... meld_error() ...
 *     st_free(&st);
 *
 *     if (st_load(&st, "run/model.safetensors")) ... meld_error() ...
 *     st_read_into(&st, "fc.weight", 2, (int64_t[]){4, 3}, w);
 *     st_free(&st);
 */
#ifndef MELD_SAFETENSORS_H
#define MELD_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8

typedef struct {
    char    *name;
    int      ndim;                 /* 0 = scalar */
    int64_t  shape[ST_MAX_DIMS];
    size_t   numel;                /* product of shape (1 for a scalar) */
    float   *data;                 /* numel floats */
    int      borrowed;             /* 1: data belongs to the caller (st_add_view) */
} StTensor;

typedef struct {
    char *key;
    char *value;
} StMeta;

typedef struct {
    StTensor *tensors;
    int       n_tensors, cap_tensors;
    StMeta   *meta;
    int       n_meta, cap_meta;
    char      source[256];         /* file it came from, for messages ("" if built in memory) */
} SafeTensors;

void st_init(SafeTensors *st);
/* Frees everything owned (not borrowed data) and leaves st empty. */
void st_free(SafeTensors *st);

/* Adds a tensor, copying data (numel = product of shape floats). Names are
 * non-empty UTF-8, unique, and not "__metadata__". */
int st_add(SafeTensors *st, const char *name, int ndim, const int64_t *shape, const float *data);
/* Same without the copy: data must stay valid until st_save/st_free. For
 * saving large models without doubling their memory. */
int st_add_view(SafeTensors *st, const char *name, int ndim, const int64_t *shape, const float *data);
/* Sets (or replaces) a metadata entry. Key and value are UTF-8. */
int st_set_meta(SafeTensors *st, const char *key, const char *value);

/* Lookups (linear in the number of entries); NULL when absent. */
const StTensor *st_find(const SafeTensors *st, const char *name);
const char *st_get_meta(const SafeTensors *st, const char *key);

/* Copies tensor NAME into dst after checking that its shape is exactly
 * shape[0..ndim): "FILE: tensor 'x' has shape [3, 4], expected [4, 3]" or
 * "FILE: no tensor 'x'" otherwise. For loading a model's parameters. */
int st_read_into(const SafeTensors *st, const char *name, int ndim, const int64_t *shape,
                 float *dst);

/* Writes st to path atomically. */
int st_save(const SafeTensors *st, const char *path);
/* Encodes st as the bytes of a file: *out (free() it) of *size bytes. */
int st_serialize(const SafeTensors *st, uint8_t **out, size_t *size);

/* Reads and validates a file. st needs no st_init; it is empty on failure
 * (st_free is safe either way). */
int st_load(SafeTensors *st, const char *path);
/* The same from memory; label names the source in messages. */
int st_parse(SafeTensors *st, const void *bytes, size_t size, const char *label);

/* "[2, 3]" into buf (for messages). Returns buf. */
const char *st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

#endif
