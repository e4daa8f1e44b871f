/* Viola-Jones face detection with OpenCV's trained Haar cascades.
 *
 * A cascade (Viola & Jones 2001, Lienhart's extended features 2002) looks
 * at a W x H window (24 x 24 for frontal faces) of a grey image:
 *   - a Haar feature is 2 or 3 rectangles with weights; its value is
 *         f = sum_r weight_r * (sum of pixels in rect r)
 *     Each rectangle sum costs 4 look-ups in the integral image
 *         II(x, y) = sum of pixels above and left of (x, y)
 *         rectsum  = II(x1,y1) - II(x0,y1) - II(x1,y0) + II(x0,y0).
 *   - lighting is divided out: f is compared with threshold * N, where
 *         N = sqrt(A * sum(p^2) - (sum p)^2) = A * std
 *     over the window's inner (W-2) x (H-2) area A (a second integral
 *     image of squared pixels gives sum(p^2)).
 *   - a weak classifier is a small decision tree over such comparisons
 *     (a stump for the default cascade) with a value at each leaf;
 *   - a stage sums its weak classifiers' leaf values and rejects the
 *     window when the sum is below the stage threshold. A face must pass
 *     every stage; most windows die in the first two cheap stages.
 * The detector slides the window over an image pyramid (the image shrunk
 * by scale_factor^k, so one window size finds faces of every size), then
 * groups overlapping hits: a face is a cluster of more than min_neighbours
 * raw windows, reported as their mean rectangle.
 *
 * File format: OpenCV's XML cascade (opencv_storage / cascade with
 * stageType BOOST, featureType HAAR), as shipped by Debian's opencv-data in
 * /usr/share/opencv4/haarcascades/. Stage: stageThreshold, weakClassifiers;
 * each weak classifier: internalNodes = groups of "left right feature
 * threshold" (a child > 0 is a node index, <= 0 is leaf -child) and
 * leafValues; features: rects of "x y width height weight". Tilted
 * (45-degree) features and the pre-2.0 "opencv-haar-classifier" layout are
 * refused with a message. This is a data file located at run time: nothing
 * requires it.
 */
#ifndef MELD_VIDEO_HAAR_H
#define MELD_VIDEO_HAAR_H

#include <stddef.h>

#include "video/image.h"
#include "video/transform.h"

typedef struct HaarCascade HaarCascade;

/* Loads a cascade (files up to 64 MB). Returns NULL with a message. */
HaarCascade *haar_load(const char *path);
/* The same from memory (name is for messages). */
HaarCascade *haar_load_memory(const char *xml, size_t size, const char *name);
void haar_free(HaarCascade *c);
/* Window size the cascade was trained on, and its number of stages. */
void haar_info(const HaarCascade *c, int *win_width, int *win_height, int *n_stages);

/* The first of the usual install locations of
 * haarcascade_frontalface_default.xml that exists, or NULL. */
const char *haar_default_cascade_path(void);

typedef struct {
    float scale_factor;    /* pyramid step, > 1 (default 1.1) */
    int min_neighbours;    /* keep clusters of more than this many hits (3) */
    int min_size;          /* smallest face side in pixels (0: the window size) */
    int max_size;          /* largest face side (0: no limit) */
    float min_std;         /* skip windows flatter than this std (grey levels, default 4) */
} HaarOptions;

HaarOptions haar_default_options(void);

typedef struct {
    ImageRect box;         /* in the input image's pixels */
    int neighbours;        /* raw windows in the cluster */
} HaarDetection;

/* Detects in a grey or RGB image (RGB is reduced to BT.601 luma first).
 * *dets is a malloc'ed array of *n detections sorted by area, largest
 * first (NULL when none); free() it. */
int haar_detect(const HaarCascade *c, const Image *im, const HaarOptions *opt, HaarDetection **dets, int *n);

/* Groups raw rectangles as haar_detect does (exposed for tests): clusters
 * of rectangles whose edges all lie within eps * mean side of each other,
 * averaged; clusters of <= min_neighbours dropped, then clusters lying
 * inside a stronger one dropped. Writes at most n_raw results into out and
 * returns how many (MELD_ERR if out of memory). */
int haar_group(const ImageRect *raw, int n_raw, int min_neighbours, float eps, HaarDetection *out);

#endif
