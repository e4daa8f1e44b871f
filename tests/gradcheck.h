/* Finite-difference gradient checker for ops and layers.
 *
 * For a function f(inputs) -> tensor y, the checker builds the scalar
 *     L = sum_i r_i * y_i        (r: fixed pseudo-random weights)
 * so dL/dy = r is a generic, non-symmetric upstream gradient. It runs
 * backward once to get the analytic dL/dx for every input that requires a
 * gradient, then for every element x_j the central difference
 *     (L(x_j + eps) - L(x_j - eps)) / (2 eps)
 * with L summed in double. Truncation error is O(eps^2 f'''), round-off
 * about u*|L|/eps with u = 6e-8 (float forward pass): eps = 1e-3 balances
 * them for inputs of size ~1, giving errors ~1e-4 relative; ops with kinks
 * (relu, max) are tested away from the kink.
 *
 * Error measure: max_j |a_j - n_j| / max(1, |a_j|, |n_j|) ... reported as
 * *max_err; the check passes when it is <= tol.
 *
 * The function is called many times, each time with a fresh Graph seeded
 * identically (so dropout masks repeat).
 */
#ifndef MELD_TESTS_GRADCHECK_H
#define MELD_TESTS_GRADCHECK_H

#include "tensor/autograd.h"

typedef Tensor *(*GradcheckFn)(Graph *g, Tensor *const *inputs, void *ctx);

typedef struct {
    double eps;       /* default 1e-3 */
    double tol;       /* default 2e-3 */
    bool training;    /* graph mode (dropout, batch norm); default true */
} GradcheckOptions;

/* Checks d f / d inputs[k] for every input with requires_grad. Returns 0 if
 * all pass, -1 otherwise (and on forward failure). *max_err gets the largest
 * error seen. */
int gradcheck(GradcheckFn f, Tensor *const *inputs, int n_inputs, void *ctx,
              const GradcheckOptions *opt, double *max_err);

/* Heap parameter of the shape, uniform in [lo, hi) from a seeded rng. */
Tensor *gc_param(Rng *r, int ndim, const int *shape, float lo, float hi);

#endif
