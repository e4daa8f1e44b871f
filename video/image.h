/* 8-bit images and the PNM file format.
 *
 * An Image is HWC interleaved: pixel (x, y), channel c is
 *     pixels[(y * width + x) * channels + c]
 * with channels 1 (grey) or 3 (R, G, B). Rows are packed (no padding).
 *
 * PNM (Netpbm) is the simplest image file there is:
 *     "P5" or "P6", whitespace, width, whitespace, height, whitespace,
 *     maxval, ONE whitespace byte, then height*width*(1 or 3) raw bytes.
 * '#' starts a comment up to the end of the line anywhere in the header.
 * P5 is grey, P6 is RGB. We read maxval 1..255 (rescaled to 0..255) and
 * always write maxval 255. 16-bit PNM (maxval > 255) is refused.
 *
 * Size limit: every reader refuses images wider or taller than
 * IMAGE_MAX_SIDE or with more than IMAGE_MAX_PIXELS pixels, so a corrupt
 * header cannot request a huge allocation. 8K UHD (7680x4320) fits.
 */
#ifndef MELD_VIDEO_IMAGE_H
#define MELD_VIDEO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS 36000000L

typedef struct {
    int width, height, channels;
    uint8_t *pixels;            /* width * height * channels bytes, HWC */
} Image;

/* Allocates an uninitialised width x height x channels image (channels 1
 * or 3, sides 1..IMAGE_MAX_SIDE). On error *im is left zeroed. */
int  image_alloc(Image *im, int width, int height, int channels);
/* Frees the pixels and zeroes *im; safe on a zeroed Image. */
void image_free(Image *im);
/* Checks a size against the limits above; the message names `what`. */
int  image_check_size(int width, int height, int channels, const char *what);
/* Makes *im a width x height x channels image, reusing its buffer when the
 * size already matches (handy for per-frame loops). */
int  image_ensure(Image *im, int width, int height, int channels);
/* Deep copy; *dst must be zeroed or freed by the caller before. */
int  image_copy(Image *dst, const Image *src);

/* Reads a P5/P6 file. *out must be zeroed (or freed) first. */
int  pnm_read(const char *path, Image *out);
/* The same from memory; `name` is used in error messages (fuzzing entry). */
int  pnm_read_memory(const uint8_t *data, size_t size, const char *name, Image *out);
/* Writes P5 (1 channel) or P6 (3 channels), atomically. */
int  pnm_write(const char *path, const Image *im);

#endif
