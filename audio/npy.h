/* NumPy .npy files of float32 matrices (format version 1.0), the way
 * feature matrices leave and enter meld-c:
 *
 *   "\x93NUMPY" 0x01 0x00  u16 header_len (little-endian)
 *   header: "{'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }"
 *           padded with spaces and ended by '\n' so that 10 + header_len
 *           is a multiple of 64
 *   data:   R * C little-endian float32 values, row-major (C order).
 *
 * A 1-D array (shape (N,)) is read as 1 x N. Writes are atomic
 * (tensor/atomic_file.h). numpy.load() reads these files directly.
 */
#ifndef MELD_AUDIO_NPY_H
#define MELD_AUDIO_NPY_H

#include <stddef.h>
#include <stdint.h>

int npy_write_f32(const char *path, const float *data, size_t rows, size_t cols);
/* Reads a '<f4' C-order 1-D or 2-D array; *data from meld_malloc (free()). */
int npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols);
/* The same from the size bytes of a file in memory; name is for messages. */
int npy_parse_f32(const uint8_t *bytes, size_t size, const char *name, float **data, size_t *rows, size_t *cols);

#endif
