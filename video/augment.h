/* Training-time augmentation of frame crops, driven by the engine's seeded
 * generator so a run is reproducible: the same Rng state gives the same
 * augmented image on every machine.
 *
 * Steps, in this order, each drawing from rng exactly as listed:
 *   1. random crop with padding (if pad > 0): conceptually pad the image
 *      with `pad` black pixels on every side and cut a window of the
 *      original size at offset (dx, dy), dx = rng_below(2 pad + 1) then dy
 *      likewise. Output pixel (x, y) = input (x + dx - pad, y + dy - pad).
 *   2. horizontal flip (if flip_prob > 0): flip when rng_uniform < flip_prob.
 *   3. brightness (if brightness > 0): b = uniform in [1 - brightness,
 *      1 + brightness]; every value is multiplied by b.
 *   4. contrast (if contrast > 0): k = uniform in [1 - contrast,
 *      1 + contrast]; v -> k v + (1 - k) m, with m the mean grey level
 *      (BT.601 luma) of the image after step 3. k < 1 flattens towards m.
 * Steps 3-4 are applied together in float, v -> k b v + (1 - k) b mean,
 * then rounded and clamped to 0..255 once (torchvision clamps between the
 * two; we skip that intermediate clamp). Otherwise these follow
 * torchvision's RandomCrop(padding), RandomHorizontalFlip and ColorJitter.
 */
#ifndef MELD_VIDEO_AUGMENT_H
#define MELD_VIDEO_AUGMENT_H

#include "tensor/rng.h"
#include "video/image.h"

typedef struct {
    int pad;            /* pixels of padding for the random crop, 0: off */
    float flip_prob;    /* probability of a horizontal flip, 0: off */
    float brightness;   /* jitter range, 0: off; must be < 1 */
    float contrast;     /* jitter range, 0: off; must be < 1 */
} AugmentOptions;

/* pad 4, flip 0.5, brightness 0.2, contrast 0.2 */
AugmentOptions augment_default_options(void);

/* Writes the augmented src into *dst (same size and channels; dst must not
 * be src). */
int image_augment(const Image *src, const AugmentOptions *opt, Rng *rng, Image *dst);

#endif
