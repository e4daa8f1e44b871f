/* Optimisers: SGD, Adam, AdamW, Adadelta, RMSprop with PyTorch's update
 * rules (torch.optim, single-tensor path), gradient clipping by global norm,
 * and optimiser state that a checkpoint can hold and restore bit for bit.
 *
 * The optimiser knows nothing about the autograd tensor type: it sees the
 * model as an array of ParamRef (name, values, gradient, size). Creating an
 * optimiser binds the names and sizes and allocates its state (moments,
 * step counts); every optim_step then receives the same parameters, in the
 * same order, with their current data and grad pointers (the optimiser
 * keeps no pointer into the model).
 *
 *     OptimHparams hp;
 *     optim_defaults("adam", &hp);          // PyTorch's defaults
 *     hp.lr = 3e-4;                         // or optim_parse_hparams("adam", "lr=3e-4", &hp)
 *     Optimizer *opt = optim_create("adam", &hp, params, n);
 *     for (...) {
 *         ... forward, backward: fill params[i].grad ...
 *         double norm = optim_clip_grad_norm(params, n, 5.0);
 *         optim_step(opt, params, n);
 *     }
 *     optim_export_state(opt, &checkpoint);  // moments, steps, hyper-parameters
 *     optim_free(opt);
 *
 * Each kind is one file (sgd.c, adam.c, adadelta.c, rmsprop.c) that fills an
 * OptimKind record (optim_kind.h); optim.c holds the table of kinds and
 * everything they share. Learning-rate schedules are in optim/schedule.h.
 */
#ifndef MELD_OPTIM_H
#define MELD_OPTIM_H

#include <stddef.h>

#include "tensor/safetensors.h"

/* One trainable tensor, flattened. */
typedef struct {
    const char *name; /* unique, PyTorch style: "lstm.weight_ih_l0_reverse" */
    float *data;      /* size values, updated in place by optim_step */
    float *grad;      /* size values; NULL = no gradient this step: the
                         parameter is skipped and its step count stays put,
                         as PyTorch does for p.grad is None */
    size_t size;
} ParamRef;

/* Hyper-parameters of every kind in one struct; each kind reads only its
 * own (optim_hparam_keys lists them). Doubles, like PyTorch's Python floats,
 * so products such as lr * weight_decay round as they do there. */
typedef struct {
    double lr;           /* learning rate (all) */
    double weight_decay; /* L2 term added to the gradient; AdamW: decoupled */
    double momentum;     /* sgd, rmsprop */
    double dampening;    /* sgd */
    int    nesterov;     /* sgd: 0/1 */
    double beta1, beta2; /* adam, adamw: moment decay rates */
    double eps;          /* adam, adamw, adadelta, rmsprop: denominator term */
    double rho;          /* adadelta: decay of both running averages */
    double alpha;        /* rmsprop: decay of the squared-gradient average */
    int    centered;     /* rmsprop: 0/1, divide by the estimated variance */
} OptimHparams;

typedef struct Optimizer Optimizer;

/* Names of the kinds: "sgd", "adam", "adamw", "adadelta", "rmsprop". */
int optim_kind_count(void);
const char *optim_kind_name(int i);

/* PyTorch's defaults for kind (SGD has no default lr in torch 1.13; we use
 * 1e-3, PyTorch 2.x's). Error on an unknown kind. */
int optim_defaults(const char *kind, OptimHparams *hp);
/* Space-separated keys that kind accepts, e.g. "lr beta1 beta2 eps weight_decay". */
const char *optim_hparam_keys(const char *kind);
/* Applies "key=value,key=value" (flags take 0/1) on top of *hp. Errors
 * name the key: "adam: unknown hyper-parameter 'momentum' (accepts: ...)". */
int optim_parse_hparams(const char *kind, const char *spec, OptimHparams *hp);
/* The inverse: all of kind's keys, with values printed exactly (%.17g). */
int optim_format_hparams(const char *kind, const OptimHparams *hp, char *buf, size_t cap);

/* Validates hp (ranges as PyTorch checks them), binds the parameters' names
 * and sizes, and allocates zeroed state. hp NULL = defaults. Names must be
 * unique and non-empty. NULL on error. */
Optimizer *optim_create(const char *kind, const OptimHparams *hp, const ParamRef *params, int n);
void optim_free(Optimizer *o);

/* One update of every parameter whose grad is not NULL. params must match
 * the ones given to optim_create (count, order, names, sizes). */
int optim_step(Optimizer *o, const ParamRef *params, int n);

const char *optim_kind(const Optimizer *o);
const OptimHparams *optim_hparams(const Optimizer *o);
/* The learning rate is the one hyper-parameter that changes during a run
 * (schedules set it once per epoch). A negative or non-finite lr is an
 * error and leaves the old one. */
double optim_get_lr(const Optimizer *o);
int optim_set_lr(Optimizer *o, double lr);

/* State as named tensors and metadata, for checkpoints:
 *   optim.<kind>.step.<param>      scalar: updates applied to <param>
 *   optim.<kind>.<buffer>.<param>  flat [size]: e.g. optim.adam.exp_avg.fc.weight
 *   metadata optim.kind, optim.hparams ("lr=...,beta1=...", exact)
 * (so checkpoint names starting with "optim." are reserved for this).
 * Buffers per kind: sgd momentum_buffer (when momentum != 0); adam/adamw
 * exp_avg, exp_avg_sq; adadelta square_avg, acc_delta; rmsprop square_avg,
 * momentum_buffer (momentum > 0), grad_avg (centered). Steps are stored as
 * float32, exact up to 2^24 updates (PyTorch also keeps them as float32).
 * On error st may hold part of the state; discard it. */
int optim_export_state(const Optimizer *o, SafeTensors *st);
/* Restores state and hyper-parameters (as torch's load_state_dict does,
 * including lr). Everything is checked first: the kind, every tensor present
 * with the right size, steps whole numbers, no state for unknown parameters;
 * on error the optimiser is unchanged. After import, the next optim_step
 * gives bit for bit what the uninterrupted run would have. */
int optim_import_state(Optimizer *o, const SafeTensors *st);

/* Sets every gradient that is not NULL to zero. */
void optim_zero_grad(const ParamRef *params, int n);

/* Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_):
 *   norm = sqrt(sum over all gradients of g^2)     (accumulated in double)
 *   coef = max_norm / (norm + 1e-6); if coef < 1, every g *= coef
 * Returns norm, measured before clipping. max_norm <= 0 only measures. When
 * norm is inf or NaN the gradients are left as they are (PyTorch would scale
 * them by 0 or NaN); the caller can test isfinite() and skip the step. */
double optim_clip_grad_norm(const ParamRef *params, int n, double max_norm);

#endif
