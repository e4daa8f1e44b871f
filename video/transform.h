/* Geometry and tensors: crop, resize, flip, and the conversion of an 8-bit
 * image to the float CHW tensor a CNN takes.
 *
 * Coordinates are pixel indices; pixel (x, y) covers the square
 * [x, x+1) x [y, y+1), so its centre is at (x + 0.5, y + 0.5). Both
 * resizers map output pixel centres to input coordinates by
 *     src = (dst + 0.5) * (src_size / dst_size) - 0.5
 * (the "half-pixel" convention of OpenCV, PIL and PyTorch's
 * align_corners=False), so a resize never shifts the picture.
 */
#ifndef MELD_VIDEO_TRANSFORM_H
#define MELD_VIDEO_TRANSFORM_H

#include "video/image.h"

typedef struct {
    int x, y, width, height;
} ImageRect;

/* Copies the region r (which must lie inside src) into *dst. */
int image_crop(const Image *src, ImageRect r, Image *dst);
/* Like image_crop, but r may extend past the borders: outside pixels take
 * the value `fill` (zero padding). */
int image_crop_pad(const Image *src, ImageRect r, uint8_t fill, Image *dst);
/* The largest square centred in a width x height image. */
ImageRect rect_centre_square(int width, int height);
/* A w x h region centred in src (clamped to the image). */
int image_centre_crop(const Image *src, int w, int h, Image *dst);

/* Bilinear: each output pixel blends the 4 input pixels around its centre
 * (edges clamp). Good for upscaling and mild downscaling; when shrinking by
 * more than 2x it skips input pixels and aliases. */
int image_resize_bilinear(const Image *src, int w, int h, Image *dst);
/* Area (box filter): each output pixel is the mean of the input area it
 * covers, partial pixels weighted by their overlap. The right choice for
 * shrinking (no aliasing); for enlarging it degrades to nearest-like blocks,
 * so image_resize uses bilinear then. */
int image_resize_area(const Image *src, int w, int h, Image *dst);
/* Area when both sides shrink or stay, bilinear otherwise. */
int image_resize(const Image *src, int w, int h, Image *dst);

/* Mirrors left-right in place. */
void image_flip_horizontal(Image *im);

/* 8-bit HWC -> float CHW, per channel:
 *     out[c][y][x] = (pixel / 255 - mean[c]) / std[c]
 * out holds channels * height * width floats. mean/std may be NULL (then
 * 0 and 1: plain scaling to [0, 1]). std values must be > 0. */
int image_to_chw(const Image *im, const float *mean, const float *std, float *out);
/* Per-channel mean and standard deviation of pixel / 255 over n images of
 * the same channel count (for choosing mean/std above). */
int image_channel_stats(const Image *ims, int n, float *mean, float *std);

#endif
