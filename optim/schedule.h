/* Learning-rate schedules, as torch.optim.lr_scheduler computes them.
 *
 * A Schedule is a plain struct (settings plus a little state); call
 * schedule_step once at the end of every epoch and give the result to
 * optim_set_lr. With e = number of schedule_step calls so far:
 *
 *   constant  lr = base_lr
 *   step      lr = base_lr * gamma^floor(e / step_size)            (StepLR)
 *   cosine    lr = eta_min + (base_lr - eta_min) (1 + cos(pi e / t_max)) / 2
 *             (CosineAnnealingLR's closed form: from base_lr down to eta_min
 *             at e = t_max; past t_max it rises again, as PyTorch's does)
 *   plateau   (ReduceLROnPlateau) watches a metric: when it has not improved
 *             for more than `patience` epochs, lr = max(lr * factor, min_lr)
 *             (skipped if that changes lr by eps or less), then waits
 *             `cooldown` epochs before counting again. "Improved" means
 *             below best * (1 - threshold) in mode min with relative
 *             threshold; best - threshold with absolute; mirrored for max.
 *
 * Specs (CLI and checkpoints): "constant", "step:step_size=10,gamma=0.5",
 * "cosine:t_max=50,eta_min=0", "plateau:mode=max,factor=0.5,patience=3,
 * threshold=1e-4,threshold_mode=rel,cooldown=0,min_lr=0,eps=1e-8"; omitted
 * keys take PyTorch's defaults (step: gamma 0.1; cosine: eta_min 0; plateau
 * as written above with mode min and patience 10). step_size and t_max have
 * no default.
 */
#ifndef MELD_SCHEDULE_H
#define MELD_SCHEDULE_H

#include "tensor/safetensors.h"

typedef enum { SCHEDULE_CONSTANT, SCHEDULE_STEP, SCHEDULE_COSINE, SCHEDULE_PLATEAU } ScheduleKind;

typedef struct {
    ScheduleKind kind;
    double base_lr;
    int    step_size;      /* step */
    double gamma;          /* step */
    int    t_max;          /* cosine */
    double eta_min;        /* cosine */
    int    mode_max;       /* plateau: 1 = the metric should grow (accuracy) */
    double factor;         /* plateau, in (0, 1) */
    int    patience;       /* plateau */
    double threshold;      /* plateau */
    int    threshold_abs;  /* plateau: 1 = absolute, 0 = relative */
    int    cooldown;       /* plateau */
    double min_lr;         /* plateau */
    double eps;            /* plateau */
    /* state */
    int    epoch;          /* schedule_step calls so far */
    double lr;             /* current learning rate */
    double best;           /* plateau: best metric so far (+-inf at first) */
    int    num_bad_epochs; /* plateau */
    int    cooldown_left;  /* plateau */
} Schedule;

/* Parses spec (see above) and starts at epoch 0 with lr = base_lr. */
int schedule_init(Schedule *s, const char *spec, double base_lr);
/* Ends an epoch; metric is read only by plateau (its validation loss or
 * accuracy). Returns the learning rate for the next epoch. */
double schedule_step(Schedule *s, double metric);
/* The spec back, all settings exact (%.17g). */
int schedule_format(const Schedule *s, char *buf, size_t cap);

/* Metadata "schedule" (the spec) and "schedule.state"
 * ("epoch=..,lr=..,best=..,num_bad_epochs=..,cooldown_left=.."), so a
 * resumed run continues the schedule exactly. */
int schedule_export(const Schedule *s, SafeTensors *st);
int schedule_import(Schedule *s, const SafeTensors *st);

#endif
