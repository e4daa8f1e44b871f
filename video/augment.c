#include "video/augment.h"

#include <math.h>

#include "tensor/error.h"
#include "video/transform.h"

AugmentOptions augment_default_options(void)
{
    return (AugmentOptions){.pad = 4, .flip_prob = 0.5f, .brightness = 0.2f, .contrast = 0.2f};
}

/* Mean BT.601 luma of the image, in 0..255 (grey images: the mean value). */
static double mean_luma(const Image *im)
{
    const size_t n = (size_t)im->width * im->height;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = im->pixels + i * im->channels;
        s += im->channels == 1 ? p[0] : 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    }
    return s / (double)n;
}

int image_augment(const Image *src, const AugmentOptions *opt, Rng *rng, Image *dst)
{
    if (src == dst) return meld_errorf("image_augment: source and destination are the same image");
    if (opt->pad < 0 || opt->pad > 4096 || !(opt->flip_prob >= 0 && opt->flip_prob <= 1) ||
        !(opt->brightness >= 0 && opt->brightness < 1) || !(opt->contrast >= 0 && opt->contrast < 1))
        return meld_errorf("image_augment: bad options (pad %d, flip %g, brightness %g, contrast %g)", opt->pad,
                           opt->flip_prob, opt->brightness, opt->contrast);
    /* 1. random crop of the padded image (pad 0 gives a plain copy) */
    int dx = 0, dy = 0;
    if (opt->pad > 0) {
        dx = (int)rng_below(rng, 2u * (uint32_t)opt->pad + 1u);
        dy = (int)rng_below(rng, 2u * (uint32_t)opt->pad + 1u);
    }
    ImageRect r = {dx - opt->pad, dy - opt->pad, src->width, src->height};
    if (image_crop_pad(src, r, 0, dst)) return MELD_ERR;
    /* 2. flip */
    if (opt->flip_prob > 0 && rng_uniform(rng) < opt->flip_prob) image_flip_horizontal(dst);
    /* 3-4. v -> k (b v) + (1 - k) m, with m the mean of b v = b mean(v) */
    float b = 1.0f, k = 1.0f;
    if (opt->brightness > 0) b = rng_uniform_range(rng, 1.0f - opt->brightness, 1.0f + opt->brightness);
    if (opt->contrast > 0) k = rng_uniform_range(rng, 1.0f - opt->contrast, 1.0f + opt->contrast);
    if (b == 1.0f && k == 1.0f) return MELD_OK;
    const float m = (float)(b * mean_luma(dst));
    const float scale = k * b, offset = (1.0f - k) * m;
    const size_t n = (size_t)dst->width * dst->height * dst->channels;
    for (size_t i = 0; i < n; i++) {
        float v = scale * dst->pixels[i] + offset;
        dst->pixels[i] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lrintf(v));
    }
    return MELD_OK;
}
