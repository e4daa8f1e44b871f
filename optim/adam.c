/* Adam and AdamW (torch.optim.Adam, torch.optim.AdamW; Kingma & Ba 2015,
 * Loshchilov & Hutter 2019).
 *
 * With gradient g, step t (1, 2, ...), decay rates b1, b2:
 *
 *     m = b1 * m + (1 - b1) * g              first moment (exp_avg)
 *     v = b2 * v + (1 - b2) * g^2            second moment (exp_avg_sq)
 *     w = w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * m and v start at 0, so early on they are biased towards 0 by the factors
 * (1 - b^t); dividing by them ("bias correction") removes that bias.
 *
 * eps as PyTorch: it is added to the bias-corrected sqrt(v), outside the
 * square root. (Keras/TF 2 add it to the uncorrected sqrt(v), the paper's
 * "epsilon hat": their eps acts as eps / sqrt(1 - b2^t) in this formula.)
 *
 * Weight decay: Adam adds wd * w to g before the moments (an L2 penalty,
 * which the adaptive scaling then weakens for parameters with large
 * gradients); AdamW instead shrinks the weights directly, decoupled from
 * the gradient statistics: w = w * (1 - lr * wd) before the update. AdamW's
 * default wd is 1e-2, Adam's 0.
 */
#include "optim/optim_kind.h"

#include <math.h>

#include "tensor/error.h"

static unsigned adam_buffers(const OptimHparams *hp)
{
    (void)hp;
    return 3u; /* exp_avg, exp_avg_sq */
}

static void adam_defaults(OptimHparams *hp)
{
    hp->lr = 1e-3;
    hp->beta1 = 0.9;
    hp->beta2 = 0.999;
    hp->eps = 1e-8;
    hp->weight_decay = 0;
}

static void adamw_defaults(OptimHparams *hp)
{
    adam_defaults(hp);
    hp->weight_decay = 1e-2;
}

static int adam_check(const OptimHparams *hp)
{
    if (!(hp->beta1 >= 0 && hp->beta1 < 1)) return meld_errorf("adam: beta1 %g must be in [0, 1)", hp->beta1);
    if (!(hp->beta2 >= 0 && hp->beta2 < 1)) return meld_errorf("adam: beta2 %g must be in [0, 1)", hp->beta2);
    return MELD_OK;
}

/* The moments and the update, shared by both kinds; wd is Adam's coupled
 * weight decay (0 for AdamW, which has already shrunk w). */
static void adam_core(const OptimHparams *hp, double wd_coupled, int64_t step, float *const *buf,
                      float *w, const float *g, size_t n)
{
    float *m = buf[0], *v = buf[1];
    /* Scalars in double as torch does in Python, then rounded once. */
    const double bc1 = 1 - pow(hp->beta1, (double)step);
    const double bc2 = 1 - pow(hp->beta2, (double)step);
    const float neg_step_size = (float)-(hp->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = (float)hp->beta1, a1 = (float)(1 - hp->beta1);
    const float b2 = (float)hp->beta2, a2 = (float)(1 - hp->beta2);
    const float eps = (float)hp->eps, wd = (float)wd_coupled;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        if (wd_coupled != 0) gi = gi + wd * w[i];
        m[i] = m[i] * b1 + a1 * gi;
        v[i] = v[i] * b2 + a2 * gi * gi;
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        w[i] = w[i] + neg_step_size * m[i] / denom;
    }
}

static void adam_update(const OptimHparams *hp, int64_t step, float *const *buf, float *w,
                        const float *g, size_t n)
{
    adam_core(hp, hp->weight_decay, step, buf, w, g, n);
}

static void adamw_update(const OptimHparams *hp, int64_t step, float *const *buf, float *w,
                         const float *g, size_t n)
{
    const float shrink = (float)(1 - hp->lr * hp->weight_decay);
    for (size_t i = 0; i < n; i++) w[i] = w[i] * shrink;
    adam_core(hp, 0, step, buf, w, g, n);
}

const OptimKind optim_kind_adam = {
    .name = "adam",
    .buffer_names = {"exp_avg", "exp_avg_sq"},
    .keys = "lr beta1 beta2 eps weight_decay",
    .buffers_used = adam_buffers,
    .defaults = adam_defaults,
    .check = adam_check,
    .update = adam_update,
};

const OptimKind optim_kind_adamw = {
    .name = "adamw",
    .buffer_names = {"exp_avg", "exp_avg_sq"},
    .keys = "lr beta1 beta2 eps weight_decay",
    .buffers_used = adam_buffers,
    .defaults = adamw_defaults,
    .check = adam_check,
    .update = adamw_update,
};
