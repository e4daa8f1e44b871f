/* RMSprop (torch.optim.RMSprop; Hinton's lecture 6e, Graves 2013 for the
 * centered form).
 *
 *     s = alpha * s + (1 - alpha) * g^2              (square_avg)
 *     r = sqrt(s) + eps
 *   centered:
 *     c = alpha * c + (1 - alpha) * g                (grad_avg)
 *     r = sqrt(s - c^2) + eps          an estimate of the std of g, not its RMS
 *   then
 *     w = w - lr * g / r                             without momentum
 *     b = momentum * b + g / r;  w = w - lr * b      with momentum
 *
 * Note that eps is added outside the square root (TF adds it inside).
 * Weight decay, when set, adds wd * w to g first. Defaults: lr 1e-2,
 * alpha 0.99, eps 1e-8.
 */
#include "optim/optim_kind.h"

#include <math.h>

#include "tensor/error.h"

enum { SQUARE_AVG = 1u, MOMENTUM_BUFFER = 2u, GRAD_AVG = 4u };

static unsigned rmsprop_buffers(const OptimHparams *hp)
{
    return SQUARE_AVG | (hp->momentum > 0 ? MOMENTUM_BUFFER : 0u) | (hp->centered ? GRAD_AVG : 0u);
}

static void rmsprop_defaults(OptimHparams *hp)
{
    hp->lr = 1e-2;
    hp->alpha = 0.99;
    hp->eps = 1e-8;
    hp->weight_decay = 0;
    hp->momentum = 0;
    hp->centered = 0;
}

static int rmsprop_check(const OptimHparams *hp)
{
    if (!(hp->alpha >= 0)) return meld_errorf("rmsprop: alpha %g must be >= 0", hp->alpha);
    if (!(hp->momentum >= 0)) return meld_errorf("rmsprop: momentum %g must be >= 0", hp->momentum);
    return MELD_OK;
}

static void rmsprop_update(const OptimHparams *hp, int64_t step, float *const *buf, float *w,
                           const float *g, size_t n)
{
    (void)step;
    float *s = buf[0], *b = buf[1], *c = buf[2];
    const float alpha = (float)hp->alpha, keep = (float)(1 - hp->alpha);
    const float eps = (float)hp->eps, wd = (float)hp->weight_decay;
    const float mu = (float)hp->momentum, neg_lr = (float)-hp->lr;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        if (hp->weight_decay != 0) gi = gi + wd * w[i];
        s[i] = s[i] * alpha + keep * gi * gi;
        float r;
        if (hp->centered) {
            c[i] = c[i] * alpha + keep * gi;
            r = sqrtf(s[i] + -1.0f * c[i] * c[i]);
        } else {
            r = sqrtf(s[i]);
        }
        r = r + eps;
        if (hp->momentum > 0) {
            b[i] = b[i] * mu + gi / r;
            w[i] = w[i] + neg_lr * b[i];
        } else {
            w[i] = w[i] + neg_lr * gi / r;
        }
    }
}

const OptimKind optim_kind_rmsprop = {
    .name = "rmsprop",
    .buffer_names = {"square_avg", "momentum_buffer", "grad_avg"},
    .keys = "lr alpha eps momentum centered weight_decay",
    .buffers_used = rmsprop_buffers,
    .defaults = rmsprop_defaults,
    .check = rmsprop_check,
    .update = rmsprop_update,
};
