/* Helpers shared by the built-in layer constructors (not a public API).
 *
 * PyTorch default initialisation, the one rule most layers use: Linear and
 * Conv2d draw weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)). For
 * the weight this is kaiming_uniform_(a = sqrt(5)): gain = sqrt(2/(1+a^2))
 * = sqrt(1/3), bound = gain * sqrt(3/fan_in) = 1/sqrt(fan_in). fan_in is the
 * number of inputs feeding one output (in for Linear, in_ch*kh*kw for Conv2d).
 */
#ifndef MELD_LAYER_INIT_H
#define MELD_LAYER_INIT_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"
#include "tensor/error.h"

/* Allocates a zeroed concrete layer of `bytes` (whose first member is a
 * Layer), sets its ops and name. NULL (error set) on a bad name or OOM.
 * Dots are allowed ("audio.fc" becomes the torch submodule path audio.fc). */
static inline void *layer_alloc(size_t bytes, const LayerOps *ops, const char *name)
{
    if (!name || !name[0] || strlen(name) >= LAYER_NAME_CAP) {
        meld_errorf("%s: layer name '%s' must be 1..%d characters", ops->kind,
                    name ? name : "(null)", LAYER_NAME_CAP - 1);
        return NULL;
    }
    Layer *l = meld_calloc(1, bytes, ops->kind);
    if (!l) return NULL;
    l->ops = ops;
    strcpy(l->name, name);
    return l;
}

/* U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's Linear/Conv default. */
static inline void layer_init_fan_in(Tensor *t, Rng *r, int fan_in)
{
    float bound = fan_in > 0 ? 1.0f / sqrtf((float)fan_in) : 0.0f;
    tensor_fill_uniform(t, r, -bound, bound);
}

#endif
