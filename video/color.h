/* Colour conversion, ITU-R BT.601 (the matrix of SD video and JPEG).
 *
 * With Kr = 0.299, Kb = 0.114, Kg = 1 - Kr - Kb and R, G, B in 0..255:
 *     Y' = Kr R + Kg G + Kb B
 *     Cb = (B - Y') / (2 (1 - Kb)),   Cr = (R - Y') / (2 (1 - Kr))
 * Full range (JPEG, XCOLORRANGE=FULL) stores Y = Y', Cb/Cr + 128.
 * Studio range (the video default) squeezes Y' into 16..235 (x 219/255)
 * and Cb/Cr into 16..240 (x 224/255). Inverting the matrix gives, studio:
 *     R = 1.164 (Y-16)                 + 1.596 (Cr-128)
 *     G = 1.164 (Y-16) - 0.392 (Cb-128) - 0.813 (Cr-128)
 *     B = 1.164 (Y-16) + 2.017 (Cb-128)
 * The code uses these in 16.16 fixed point (exact to 1/65536), rounds and
 * clamps to 0..255. The luma of RGB uses OpenCV's 15-bit constants
 * (9798, 19235, 3735) / 2^15, so a grey image is the one OpenCV's cvtColor
 * makes, pixel for pixel (the face detector depends on it).
 *
 * Chroma upsampling (4:2:0 and 4:2:2 to one chroma value per pixel) is
 * bilinear and respects where the layout sites its chroma samples (see
 * video/y4m.h): for JPEG siting, chroma sample i sits at luma coordinate
 * 2i + 0.5, so even luma columns take 3/4 of sample i and 1/4 of i - 1,
 * odd columns 3/4 of i and 1/4 of i + 1 (edges clamp).
 */
#ifndef MELD_VIDEO_COLOR_H
#define MELD_VIDEO_COLOR_H

#include <stdint.h>

#include "video/image.h"
#include "video/y4m.h"

/* Planar YUV -> interleaved RGB / grey (*out reallocated as needed).
 * Grey is the luma, expanded to 0..255 for studio range. */
int yuv_to_rgb(const YuvFrame *f, Image *out);
int yuv_to_grey(const YuvFrame *f, Image *out);

/* RGB (3 channels) -> studio-range 4:2:0 planes with JPEG siting: each
 * chroma sample is the mean over its 2x2 block (the pixels that exist, at
 * odd edges). y holds W*H bytes, cb and cr ceil(W/2)*ceil(H/2). */
void rgb_to_yuv420(const Image *rgb, uint8_t *y, uint8_t *cb, uint8_t *cr);

/* Grey <-> RGB between Images: grey = BT.601 luma Y'; RGB from grey
 * repeats the value. Copies when src already has the asked channels.
 * *dst is reallocated as needed and must not be src. */
int image_to_grey(const Image *src, Image *dst);
int image_to_rgb(const Image *src, Image *dst);
int image_convert(const Image *src, Image *dst, int channels);

#endif
