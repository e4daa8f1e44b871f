/* Stochastic gradient descent with momentum (torch.optim.SGD).
 *
 * For a parameter w with gradient g, weight decay wd, momentum mu,
 * dampening tau and learning rate lr, one step is
 *
 *     d = g + wd * w                          (L2 penalty wd/2 |w|^2)
 *     b = d                     on the first step
 *     b = mu * b + (1 - tau) * d  afterwards    (the momentum buffer)
 *     d = d + mu * b   (Nesterov)   or   d = b   (classical)
 *     w = w - lr * d
 *
 * PyTorch's form differs from the textbook "v = mu v - lr g; w += v": lr
 * multiplies the buffer at use, not at accumulation, so changing lr
 * mid-run does not rescale the velocity already built up. Nesterov's
 * look-ahead becomes "step along g plus mu times the updated buffer"
 * (Sutskever et al. 2013, rewritten in terms of the current weights).
 */
#include "optim/optim_kind.h"

#include "tensor/error.h"

static unsigned sgd_buffers(const OptimHparams *hp) { return hp->momentum != 0 ? 1u : 0u; }

static void sgd_defaults(OptimHparams *hp)
{
    hp->lr = 1e-3;
    hp->momentum = 0;
    hp->dampening = 0;
    hp->weight_decay = 0;
    hp->nesterov = 0;
}

static int sgd_check(const OptimHparams *hp)
{
    if (!(hp->momentum >= 0)) return meld_errorf("sgd: momentum %g must be >= 0", hp->momentum);
    if (hp->nesterov && (hp->momentum <= 0 || hp->dampening != 0))
        return meld_errorf("sgd: nesterov needs momentum > 0 and dampening 0");
    return MELD_OK;
}

static void sgd_update(const OptimHparams *hp, int64_t step, float *const *buf, float *w,
                       const float *g, size_t n)
{
    const float wd = (float)hp->weight_decay, mu = (float)hp->momentum;
    const float keep = (float)(1 - hp->dampening), neg_lr = (float)-hp->lr;
    float *b = buf[0];
    for (size_t i = 0; i < n; i++) {
        float d = g[i];
        if (hp->weight_decay != 0) d = d + wd * w[i];
        if (hp->momentum != 0) {
            b[i] = step == 1 ? d : b[i] * mu + keep * d;
            d = hp->nesterov ? d + mu * b[i] : b[i];
        }
        w[i] = w[i] + neg_lr * d;
    }
}

const OptimKind optim_kind_sgd = {
    .name = "sgd",
    .buffer_names = {"momentum_buffer"},
    .keys = "lr momentum dampening nesterov weight_decay",
    .buffers_used = sgd_buffers,
    .defaults = sgd_defaults,
    .check = sgd_check,
    .update = sgd_update,
};
