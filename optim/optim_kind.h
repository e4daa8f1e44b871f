/* The interface each optimiser kind implements (internal to optim/).
 *
 * A kind is a record of data and two functions: which state buffers it keeps
 * per parameter, which hyper-parameters it reads and their defaults, a range
 * check, and the element-wise update. optim.c does the rest once for all
 * kinds (binding parameters, allocating state, stepping, export/import).
 *
 * Arithmetic convention, shared by all update functions: PyTorch computes
 * scalar coefficients (bias corrections, 1 - beta, lr * weight_decay) in
 * double, as Python floats, and rounds each to float when it enters a tensor
 * operation; the per-element work is then float. We round at the same
 * points and evaluate in the same order, e.g. addcmul is `a + (s * b) * c`
 * and addcdiv is `a + (s * b) / c`, so results agree with torch to a few
 * float ulps. (C11 with gcc does not contract a * b + c into an FMA:
 * -std=c11 implies -ffp-contract=off, so our results are also the same on
 * every x86-64 machine.)
 */
#ifndef MELD_OPTIM_KIND_H
#define MELD_OPTIM_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "optim/optim.h"

enum { OPTIM_MAX_BUFFERS = 3 };

typedef struct {
    const char *name;                            /* "adam" */
    const char *buffer_names[OPTIM_MAX_BUFFERS]; /* state names, NULL after the last */
    const char *keys;                            /* hyper-parameters read, space separated */
    /* Which buffers the settings need (bit i = buffer_names[i]); e.g. SGD
     * keeps no momentum buffer when momentum is 0. */
    unsigned (*buffers_used)(const OptimHparams *hp);
    void (*defaults)(OptimHparams *hp);
    /* Kind-specific range checks (lr, eps, weight_decay >= 0 are checked for
     * all kinds in optim.c); meld_errorf on a bad value. */
    int (*check)(const OptimHparams *hp);
    /* One update of n values. step counts this update (1 on the first), buf
     * holds the buffers in buffer_names order (NULL when unused; zero before
     * the first step). Element-wise: value i depends only on w[i], g[i] and
     * buf[.][i], so optim_step may split a parameter into ranges that run
     * on different threads. */
    void (*update)(const OptimHparams *hp, int64_t step, float *const *buf, float *w,
                   const float *g, size_t n);
} OptimKind;

extern const OptimKind optim_kind_sgd;
extern const OptimKind optim_kind_adam;
extern const OptimKind optim_kind_adamw;
extern const OptimKind optim_kind_adadelta;
extern const OptimKind optim_kind_rmsprop;

#endif
