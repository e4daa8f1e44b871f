/* The model-ready crop of one frame: the largest face, or the centre.
 *
 *   1. Detect (video/haar.h) faces of at least min_face_frac of the shorter
 *      side, at full resolution: the pyramid starts at the level where the
 *      cascade's window (24 pixels) is the smallest face worth finding, so
 *      that size sets the finest resolution searched and the cost (a 720p
 *      frame with the default 5 % is searched from 795x447 down). What is
 *      found is what OpenCV's detectMultiScale(scaleFactor 1.1,
 *      minNeighbors 3, minSize the same) finds on the same frame.
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
    float min_face_frac;   /* smallest face searched, fraction of the shorter side (0.05) */
    HaarOptions haar;      /* min_size is set from min_face_frac */
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
