/* Internal: the window evaluation of video/haar.c, 16 windows at a time.
 *
 * The windows at x, x+1, ..., x+15 of one row of a level read the integral
 * images at the same offsets from 16 consecutive entries, so each rect sum
 * is four plain vector loads, one lane per window. A kernel runs the
 * cascade's stages on all 16 lanes and keeps, as a bit mask, those still
 * in the running; the caller (haar.c: scan_row) decides which lanes are real
 * windows of the scan (every 2nd at step 2, OpenCV's skip) from the first
 * stage's answers before the others run.
 *
 * Every path computes what the scalar reference computes, bit for bit: the
 * same float feature values (no fused multiply-add), the same double stage
 * sums in the same order, the same correctly rounded double sqrt and
 * division. tests/test_video_haar.c compares the paths on every fixture.
 * The scalar reference is in haar_lanes.c, AVX2 and AVX-512 beside it;
 * haar_lanes_kernels() picks one by cpu_isa() (tensor/cpu.h).
 */
#ifndef MELD_VIDEO_HAAR_LANES_H
#define MELD_VIDEO_HAAR_LANES_H

#include <stdint.h>

#include "video/haar_impl.h"

#define HAAR_LANES 16

/* A feature placed in the integral images: rect r's sum is
 * p[o[r][0]] - p[o[r][1]] - p[o[r][2]] + p[o[r][3]] from the window's
 * top-left entry p. */
typedef struct {
    int o[3][4];
    float w[3];
} HaarFeat;

/* A stump with its feature inline: one read per weak classifier. */
typedef struct {
    HaarFeat f;
    float threshold, left, right;
} HaarStump;

/* What the kernels read: a cascade placed at one row stride. */
typedef struct {
    const HaarCascade *c;      /* stages, and trees' nodes and leaves */
    const HaarFeat *feats;     /* c's features, placed */
    const HaarStump *stumps;   /* stump cascades: every stump, in stage order */
    int norm[4];               /* the inner (W-2) x (H-2) rect of the variance */
    double area;               /* its pixel count */
} HaarLanes;

static inline int32_t haar_rect_sum(const uint32_t *p, const int o[4])
{
    return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* f = sum_r w_r * rectsum_r in float, in OpenCV's order; an unused third
 * rect (weight 0) is skipped as OpenCV skips it. */
static inline float haar_feature_value(const HaarFeat *f, const uint32_t *p)
{
    float v = f->w[0] * (float)haar_rect_sum(p, f->o[0]) + f->w[1] * (float)haar_rect_sum(p, f->o[1]);
    if (f->w[2] != 0.0f) v += f->w[2] * (float)haar_rect_sum(p, f->o[2]);
    return v;
}

typedef struct {
    /* inv[l] = 1 / N of window l (s, q: the row's sum and square integral
     * images at x), or 0 for a window too flat to search (OpenCV's gate
     * A / N < 0.1); returns the mask of searchable lanes. */
    uint32_t (*norms)(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES]);
    /* Runs stages [first, last) on the lanes in `alive`; returns those that
     * pass every one of them. */
    uint32_t (*stages)(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive, int first,
                       int last);
} HaarLaneKernels;

/* The kernels of the active ISA for a cascade of stumps (t->stumps set);
 * tree cascades (stumps NULL) take the scalar haar_stages_trees on every ISA. */
const HaarLaneKernels *haar_lanes_kernels(const HaarLanes *t);

uint32_t haar_stages_trees(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive,
                           int first, int last);

uint32_t haar_norms_scalar(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES]);
uint32_t haar_stages_scalar(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive,
                            int first, int last);
uint32_t haar_norms_avx2(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES]);
uint32_t haar_stages_avx2(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive, int first,
                          int last);
uint32_t haar_norms_avx512(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES]);
uint32_t haar_stages_avx512(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive,
                            int first, int last);

#endif
