/* Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).
 *
 * All gradients are seen as one long vector G; if |G| exceeds max_norm, G
 * is scaled down to length max_norm, keeping its direction (unlike clipping
 * each value, which bends it). The 1e-6 keeps the division finite when G is
 * 0 and makes the clipped norm land just under max_norm, as in PyTorch,
 * whose arithmetic on the coefficient (float32) we follow.
 */
#include <math.h>

#include "optim/optim.h"

double optim_clip_grad_norm(const ParamRef *params, int n, double max_norm)
{
    /* Sum of squares in double: no overflow for float inputs, and error far
     * below float's resolution even over millions of values. */
    double sum = 0;
    for (int i = 0; i < n; i++) {
        const float *g = params[i].grad;
        if (!g) continue;
        for (size_t e = 0; e < params[i].size; e++) sum += (double)g[e] * g[e];
    }
    const double norm = sqrt(sum);
    if (!(max_norm > 0) || !isfinite(norm)) return norm;
    const float coef = (float)max_norm / ((float)norm + 1e-6f);
    if (coef >= 1.0f) return norm;
    for (int i = 0; i < n; i++) {
        float *g = params[i].grad;
        if (!g) continue;
        for (size_t e = 0; e < params[i].size; e++) g[e] *= coef;
    }
    return norm;
}
