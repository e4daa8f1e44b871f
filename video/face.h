/* The model-ready crop of one frame: the largest face, or the centre.
 *
 *   1. Detect (video/haar.h) on a copy of the frame shrunk so its shorter
 *      side is at most detect_side pixels (TV frames are far larger than a
 *      face needs, and detection time grows with the pixel count); faces
 *      smaller than min_face_frac of the shorter side are not searched for.
 *   2. Face found: take the largest, grow it by `margin` of its size on each
 *      side, make it square around the face centre, shift it inside the
 *      frame (and shrink it to the shorter side if it is still too big).
 *   3. No cascade or no face: the largest centred square.
 *   4. Resize the square to size x size (area filter) in the asked channels.
 */
#ifndef MELD_VIDEO_FACE_H
#define MELD_VIDEO_FACE_H

#include "video/haar.h"
#include "video/image.h"
#include "video/transform.h"

typedef struct {
    int size;              /* output side in pixels (64) */
    int channels;          /* 3: RGB, 1: grey (3) */
    float margin;          /* extra border per side, fraction of the face size (0.2) */
    int detect_side;       /* shorter side of the image searched (180; 0: full size) */
    float min_face_frac;   /* smallest face, fraction of the shorter side (0.15) */
    HaarOptions haar;      /* min_size / max_size are set from the two above */
} FaceCropOptions;

FaceCropOptions face_crop_default_options(void);

typedef struct {
    int face_found;        /* 1 when the crop is centred on a detected face */
    int n_faces;           /* faces detected */
    ImageRect face;        /* the face chosen, in frame pixels (if found) */
    ImageRect crop;        /* the square cut out of the frame */
} FaceCropInfo;

/* cascade may be NULL (centre crop). *out is (re)allocated. */
int face_crop(const Image *frame, const HaarCascade *cascade, const FaceCropOptions *opt, Image *out,
              FaceCropInfo *info);

/* The square cut for a face box (steps 2 of the list above), exposed for
 * tests. */
ImageRect face_square(ImageRect face, float margin, int width, int height);

#endif
