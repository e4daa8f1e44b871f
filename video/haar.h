/* Viola-Jones face detection with OpenCV's trained Haar cascades, computing
 * what OpenCV's CascadeClassifier::detectMultiScale computes.
 *
 * A cascade (Viola & Jones 2001, Lienhart's extended features 2002) looks
 * at a W x H window (24 x 24 for frontal faces) of a grey image:
 *   - a Haar feature is up to 3 rectangles with weights; its value is
 *         f = sum_r weight_r * (sum of pixels in rect r)
 *     Each rectangle sum costs 4 look-ups in the integral image
 *         II(x, y) = sum of pixels above and left of (x, y)
 *         rectsum  = II(x1,y1) - II(x0,y1) - II(x1,y0) + II(x0,y0).
 *   - lighting is divided out: f is compared with threshold * N, where
 *         N = sqrt(A * sum(p^2) - (sum p)^2) = A * std
 *     over the window's inner (W-2) x (H-2) area A (a second integral
 *     image of squared pixels gives sum(p^2)). Windows with std <= 10 grey
 *     levels are skipped (too flat to hold a face).
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
 * Same as OpenCV 4 (objdetect/src/cascadedetect.cpp), so the raw windows
 * and the grouped faces are OpenCV's, window for window (the tests compare
 * them with OpenCV's own on real photographs):
 *   - scales 1, f, f^2, ... while the window fits; a level is the grey
 *     image resized by 1/scale with bilinear interpolation bit-exact with
 *     OpenCV's INTER_LINEAR_EXACT (video/transform.h), grey from RGB as
 *     cvtColor does (video/color.h); levels whose window is below min_size
 *     are never built, so min_size sets the finest resolution searched;
 *   - windows every 2 pixels below scale 2, every pixel from 2 on; a
 *     window that fails the first stage also skips the next one; the rows
 *     are cut into OpenCV's stripes, whose integer arithmetic can leave a
 *     level's last window row unscanned, and so does this;
 *   - feature values in float, stage sums in double, each stage threshold
 *     lowered by 1e-5, the variance gate "A / N < 0.1";
 *   - grouping is OpenCV's groupRectangles with eps 0.2 (haar_group), then
 *     the boxes are clipped to the image.
 * Different: the result is sorted by area, largest first (OpenCV returns
 * clusters in the order it labelled them); windows are searched by several
 * threads level by level (the result never depends on the thread count);
 * tilted (45-degree) features, LBP cascades and the pre-2.0
 * "opencv-haar-classifier" layout are refused with a message.
 *
 * File format: OpenCV's XML cascade (opencv_storage / cascade with
 * stageType BOOST, featureType HAAR), as shipped by Debian's opencv-data in
 * /usr/share/opencv4/haarcascades/. Stage: stageThreshold, weakClassifiers;
 * each weak classifier: internalNodes = groups of "left right feature
 * threshold" (a child > 0 is a node index, <= 0 is leaf -child) and
 * leafValues; features: rects of "x y width height weight". A cascade is
 * untrusted input: every count, index and rectangle is checked when it is
 * loaded, so whatever loads runs safely. It is a data file located at run
 * time: nothing requires it.
 */
#ifndef MELD_VIDEO_HAAR_H
#define MELD_VIDEO_HAAR_H

#include <stddef.h>

#include "video/image.h"
#include "video/transform.h"

typedef struct HaarCascade HaarCascade;

/* Loads a cascade (files up to 16 MB). Returns NULL with a message. */
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
    float scale_factor;    /* pyramid step, in [1.01, 4] (default 1.1) */
    int min_neighbours;    /* keep clusters of more than this many hits (3) */
    int min_size;          /* smallest face side in pixels (0: the window size) */
    int max_size;          /* largest face side (0: no limit) */
} HaarOptions;

HaarOptions haar_default_options(void);

typedef struct {
    ImageRect box;         /* in the input image's pixels */
    int neighbours;        /* raw windows in the cluster */
} HaarDetection;

/* Detects in a grey or RGB image. *dets is a malloc'ed array of *n
 * detections sorted by area, largest first (NULL when none); free() it.
 * With min_neighbours 0 the raw windows come back, ungrouped. */
int haar_detect(const HaarCascade *c, const Image *im, const HaarOptions *opt, HaarDetection **dets, int *n);

/* OpenCV's groupRectangles (exposed for tests): clusters of rectangles
 * linked by "every edge within eps * mean side" (connected parts of that
 * relation), each reported as its mean rectangle; clusters of <=
 * min_neighbours members are dropped, then clusters lying inside a
 * stronger one. Writes at most n_raw results into out, in cluster order,
 * and returns how many (MELD_ERR if out of memory). */
int haar_group(const ImageRect *raw, int n_raw, int min_neighbours, double eps, HaarDetection *out);

#endif
