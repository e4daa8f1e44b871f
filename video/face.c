#include "video/face.h"

#include <math.h>
#include <stdlib.h>

#include "tensor/error.h"
#include "video/color.h"

FaceCropOptions face_crop_default_options(void)
{
    return (FaceCropOptions){.size = 64, .channels = 3, .margin = 0.2f, .detect_side = 180,
                             .min_face_frac = 0.15f, .haar = haar_default_options()};
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

/* Runs the detector on a shrunk grey copy; on success *found is the
 * largest face in frame coordinates. */
static int detect_largest(const Image *frame, const HaarCascade *cascade, const FaceCropOptions *opt,
                          int *n_faces, ImageRect *found)
{
    Image grey = {0}, small = {0};
    if (image_to_grey(frame, &grey)) return MELD_ERR;
    const int short_side = frame->width < frame->height ? frame->width : frame->height;
    double shrink = 1.0;   /* frame pixels per searched pixel */
    const Image *search = &grey;
    if (opt->detect_side > 0 && short_side > opt->detect_side) {
        shrink = (double)short_side / opt->detect_side;
        int w = (int)lround(frame->width / shrink), h = (int)lround(frame->height / shrink);
        if (image_resize_area(&grey, w < 1 ? 1 : w, h < 1 ? 1 : h, &small)) {
            image_free(&grey);
            return MELD_ERR;
        }
        search = &small;
    }
    HaarOptions h = opt->haar;
    const int search_short = search->width < search->height ? search->width : search->height;
    h.min_size = (int)lround(opt->min_face_frac * search_short);
    HaarDetection *dets = NULL;
    int n = 0;
    int rc = haar_detect(cascade, search, &h, &dets, &n);
    if (rc == MELD_OK && n > 0) {
        /* dets are sorted largest first */
        ImageRect b = dets[0].box;
        *found = (ImageRect){(int)lround(b.x * shrink), (int)lround(b.y * shrink), (int)lround(b.width * shrink),
                             (int)lround(b.height * shrink)};
    }
    *n_faces = n;
    free(dets);
    image_free(&grey);
    image_free(&small);
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
