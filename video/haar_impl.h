/* The in-memory Haar cascade, shared by the loader (video/haar_cascade.c)
 * and the detector (video/haar.c). Not part of the public API.
 *
 * Everything here has been validated by the loader: every rectangle lies
 * inside the window, every feature, child and leaf index is in range, and
 * children come after their parent (so a tree walk always ends). The
 * detector relies on it and checks nothing again.
 */
#ifndef MELD_VIDEO_HAAR_IMPL_H
#define MELD_VIDEO_HAAR_IMPL_H

#include "video/haar.h"

#define HAAR_MAX_WINDOW 256    /* trained windows are 20..60 pixels */
#define HAAR_MAX_TREE 64       /* internal nodes per weak classifier */

typedef struct {
    int x, y, w, h;
    float weight;
} HaarRect;

/* Three rectangles always: unused ones are empty (0 x 0 at the origin) with
 * weight 0, as OpenCV stores them, so they add exactly nothing. */
typedef struct {
    HaarRect r[3];
} HaarFeature;

typedef struct {
    int feature;
    float threshold;
    int left, right;           /* > 0: node index in this tree, <= 0: leaf -value */
} HaarNode;

typedef struct {
    int first_node, n_nodes;   /* into nodes[] */
    int first_leaf;            /* into leaves[]; a tree has n_nodes + 1 leaves */
} HaarWeak;

typedef struct {
    int first_weak, n_weak;
    float threshold;           /* as in the file minus 1e-5, as OpenCV reads it */
} HaarStage;

struct HaarCascade {
    int win_w, win_h;
    int stumps;                /* 1 when every weak classifier is one node */
    HaarStage *stages;
    int n_stages;
    HaarWeak *weak;
    int n_weak;
    HaarNode *nodes;
    int n_nodes;
    float *leaves;
    int n_leaves;
    HaarFeature *features;
    int n_features;
};

#endif
