/* Adadelta (torch.optim.Adadelta; Zeiler 2012).
 *
 * Two running averages with decay rho, both starting at 0:
 *
 *     s = rho * s + (1 - rho) * g^2                  (square_avg)
 *     d = sqrt(a + eps) / sqrt(s + eps) * g          the step, in w's units
 *     a = rho * a + (1 - rho) * d^2                  (acc_delta)
 *     w = w - lr * d
 *
 * The ratio of the RMS of past steps to the RMS of gradients gives the
 * step the units of w (a diagonal Newton-like scaling), which is why the
 * paper needs no learning rate: lr = 1 reproduces it. Weight decay, when
 * set, adds wd * w to g first.
 *
 * Defaults are PyTorch's: lr 1.0, rho 0.9, eps 1e-6.
 *
 * Keras note: the MELD baseline trained with Keras's Adadelta, whose
 * defaults were rho 0.95 and epsilon 1e-7 (Keras 2.x: lr 1.0; tf.keras 2.x
 * changed the default learning rate to 0.001). The update rule is the same,
 * so "rho=0.95,eps=1e-7" (and the baseline's lr) reproduces it here; with
 * eps 1e-7 the very first steps are sqrt(10) times smaller than with 1e-6,
 * since they scale with sqrt(eps).
 */
#include "optim/optim_kind.h"

#include <math.h>

#include "tensor/error.h"

static unsigned adadelta_buffers(const OptimHparams *hp)
{
    (void)hp;
    return 3u; /* square_avg, acc_delta */
}

static void adadelta_defaults(OptimHparams *hp)
{
    hp->lr = 1.0;
    hp->rho = 0.9;
    hp->eps = 1e-6;
    hp->weight_decay = 0;
}

static int adadelta_check(const OptimHparams *hp)
{
    if (!(hp->rho >= 0 && hp->rho <= 1)) return meld_errorf("adadelta: rho %g must be in [0, 1]", hp->rho);
    return MELD_OK;
}

static void adadelta_update(const OptimHparams *hp, int64_t step, float *const *buf, float *w,
                            const float *g, size_t n)
{
    (void)step;
    float *s = buf[0], *a = buf[1];
    const float rho = (float)hp->rho, keep = (float)(1 - hp->rho);
    const float eps = (float)hp->eps, wd = (float)hp->weight_decay, neg_lr = (float)-hp->lr;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        if (hp->weight_decay != 0) gi = gi + wd * w[i];
        s[i] = s[i] * rho + keep * gi * gi;
        const float std = sqrtf(s[i] + eps);
        const float d = sqrtf(a[i] + eps) / std * gi;
        a[i] = a[i] * rho + keep * d * d;
        w[i] = w[i] + neg_lr * d;
    }
}

const OptimKind optim_kind_adadelta = {
    .name = "adadelta",
    .buffer_names = {"square_avg", "acc_delta"},
    .keys = "lr rho eps weight_decay",
    .buffers_used = adadelta_buffers,
    .defaults = adadelta_defaults,
    .check = adadelta_check,
    .update = adadelta_update,
};
