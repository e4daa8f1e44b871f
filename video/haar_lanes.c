/* The scalar reference of the lane kernels (see haar_lanes.h), and the
 * choice between the ISA paths. The arithmetic is OpenCV's, window by
 * window (objdetect's HaarEvaluator and predictOrderedStump). */
#include "video/haar_lanes.h"

#include <math.h>

#include "tensor/cpu.h"

uint32_t haar_norms_scalar(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES])
{
    uint32_t keep = 0;
    for (int l = 0; l < HAAR_LANES; l++) {
        /* N^2 = A * sum(p^2) - (sum p)^2, exact in double */
        int32_t sum = haar_rect_sum(s + l, t->norm);
        uint32_t sq = q[l + t->norm[0]] - q[l + t->norm[1]] - q[l + t->norm[2]] + q[l + t->norm[3]];
        double nf = t->area * sq - (double)sum * sum;
        inv[l] = 0;
        if (!(nf > 0)) continue;
        float r = (float)(1.0 / sqrt(nf));
        if (t->area * r < 0.1) {
            inv[l] = r;
            keep |= 1u << l;
        }
    }
    return keep;
}

uint32_t haar_stages_scalar(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive,
                            int first, int last)
{
    for (int l = 0; l < HAAR_LANES; l++) {
        if (!(alive >> l & 1)) continue;
        for (int si = first; si < last; si++) {
            const HaarStage *st = &t->c->stages[si];
            const HaarStump *p = t->stumps + st->first_weak, *end = p + st->n_weak;
            double total = 0;
            for (; p < end; p++) total += haar_feature_value(&p->f, s + l) * inv[l] < p->threshold ? p->left : p->right;
            if (total < st->threshold) {
                alive &= ~(1u << l);
                break;
            }
        }
    }
    return alive;
}

/* Trees (cascades whose weak classifiers have several nodes): each lane
 * walks each tree from its root, left when the feature is below the node's
 * threshold, until a leaf (a child <= 0). */
uint32_t haar_stages_trees(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive,
                           int first, int last)
{
    const HaarCascade *c = t->c;
    for (int l = 0; l < HAAR_LANES; l++) {
        if (!(alive >> l & 1)) continue;
        for (int si = first; si < last; si++) {
            const HaarStage *st = &c->stages[si];
            double total = 0;
            for (int wi = st->first_weak; wi < st->first_weak + st->n_weak; wi++) {
                const HaarWeak *w = &c->weak[wi];
                const HaarNode *nodes = c->nodes + w->first_node;
                int idx = 0;
                do {
                    const HaarNode *nd = &nodes[idx];
                    idx = haar_feature_value(&t->feats[nd->feature], s + l) * inv[l] < nd->threshold ? nd->left
                                                                                                    : nd->right;
                } while (idx > 0);
                total += c->leaves[w->first_leaf - idx];
            }
            if (total < st->threshold) {
                alive &= ~(1u << l);
                break;
            }
        }
    }
    return alive;
}

static const HaarLaneKernels haar_lane_kernels_scalar = {haar_norms_scalar, haar_stages_scalar};
#if defined(__x86_64__)
static const HaarLaneKernels haar_lane_kernels_avx2 = {haar_norms_avx2, haar_stages_avx2};
static const HaarLaneKernels haar_lane_kernels_avx512 = {haar_norms_avx512, haar_stages_avx512};
#elif defined(__aarch64__)
#define haar_lane_kernels_neon haar_lane_kernels_scalar   /* no NEON lanes yet: the reference */
#endif
static const HaarLaneKernels *const KERNELS[CPU_ISA_COUNT] = CPU_ISA_TABLE(haar_lane_kernels);
static const HaarLaneKernels trees = {haar_norms_scalar, haar_stages_trees};

const HaarLaneKernels *haar_lanes_kernels(const HaarLanes *t)
{
    return t->stumps ? KERNELS[cpu_isa()] : &trees;
}
