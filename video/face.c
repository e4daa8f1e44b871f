#include "video/face.h"

#include <math.h>
#include <stdlib.h>

#include "tensor/error.h"
#include "video/color.h"

FaceCropOptions face_crop_default_options(void)
{
    return (FaceCropOptions){.size = 64, .channels = 3, .margin = 0.2f, .min_face_frac = 0.05f,
                             .haar = haar_default_options()};
}

ImageRect face_square(ImageRect face, float margin, int width, int height)
{
    int limit = width < height ? width : height;
    double side = (face.width > face.height ? face.width : face.height) * (1.0 + 2.0 * margin);
    int s = (int)lround(side);
    if (s > limit) s = limit;
    if (s < 1) s = 1;
    /* centre the square on the face, then slide it back inside the frame */
    int x = (int)lround(face.x + face.width / 2.0 - s / 2.0);
    int y = (int)lround(face.y + face.height / 2.0 - s / 2.0);
    if (x > width - s) x = width - s;
    if (y > height - s) y = height - s;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    return (ImageRect){x, y, s, s};
}

/* The largest face of at least min_face_frac of the shorter side, in
 * frame pixels (*n_faces: how many were found). */
static int detect_largest(const Image *frame, const HaarCascade *cascade, const FaceCropOptions *opt,
                          int *n_faces, ImageRect *found)
{
    const int short_side = frame->width < frame->height ? frame->width : frame->height;
    HaarOptions h = opt->haar;
    h.min_size = (int)lround(opt->min_face_frac * short_side);
    HaarDetection *dets = NULL;
    int rc = haar_detect(cascade, frame, &h, &dets, n_faces);
    if (rc == MELD_OK && *n_faces > 0) *found = dets[0].box;   /* sorted largest first */
    free(dets);
    return rc;
}

int face_crop(const Image *frame, const HaarCascade *cascade, const FaceCropOptions *opt, Image *out,
              FaceCropInfo *info)
{
    FaceCropInfo local = {0};
    if (opt->size < 1 || opt->size > 4096 || (opt->channels != 1 && opt->channels != 3) || !(opt->margin >= 0) ||
        opt->margin > 4 || !(opt->min_face_frac >= 0 && opt->min_face_frac <= 1))
        return meld_errorf("face_crop: bad options (size %d, channels %d, margin %g)", opt->size, opt->channels,
                           opt->margin);
    if (cascade && detect_largest(frame, cascade, opt, &local.n_faces, &local.face)) return MELD_ERR;
    local.face_found = local.n_faces > 0;
    local.crop = local.face_found ? face_square(local.face, opt->margin, frame->width, frame->height)
                                  : rect_centre_square(frame->width, frame->height);
    Image square = {0}, conv = {0};
    int rc = image_crop(frame, local.crop, &square);
    if (rc == MELD_OK) rc = image_convert(&square, &conv, opt->channels);
    if (rc == MELD_OK) rc = image_resize(&conv, opt->size, opt->size, out);
    image_free(&square);
    image_free(&conv);
    if (info) *info = local;
    return rc;
}
