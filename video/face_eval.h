/* Scoring a face detector against labelled boxes.
 *
 * A detection finds a labelled face when their boxes overlap with
 * intersection over union
 *     IoU(a, b) = area(a & b) / area(a | b) >= 0.5
 * (the PASCAL VOC rule); recall is the share of labelled faces found.
 *
 * Box lists are text files, one record per line, '#' starts a comment:
 *     FILE KIND COUNT x y w h x y w h ...
 * e.g. tests/fixtures/video/faces_truth.txt (hand-labelled faces, KIND
 * "truth") and opencv_faces.txt (OpenCV's detections on the same images).
 */
#ifndef MELD_VIDEO_FACE_EVAL_H
#define MELD_VIDEO_FACE_EVAL_H

#include "video/transform.h"

double rect_iou(ImageRect a, ImageRect b);

/* How many of the nt labelled boxes overlap some detection with IoU >= min_iou. */
int faces_found(const ImageRect *truth, int nt, const ImageRect *found, int nf, double min_iou);

typedef struct {
    char file[128];
    char kind[16];
    int n;
    ImageRect *boxes;
} BoxRecord;

typedef struct {
    BoxRecord *r;
    int n;
} BoxList;

/* Reads a box list; a malformed line is an error naming the file and line. */
int box_list_read(const char *path, BoxList *out);
void box_list_free(BoxList *l);
/* The record for (file, kind), or NULL. */
const BoxRecord *box_list_find(const BoxList *l, const char *file, const char *kind);

#endif
