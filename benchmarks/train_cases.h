/* The training benchmarks' models and batches (./bench train, and its
 * --mpi variant): the cases, their seeded random batch (or one process's
 * share of it), and a trainer holding model, optimiser and graph. See
 * bench_train.c for the shapes. */
#ifndef MELD_BENCH_TRAIN_CASES_H
#define MELD_BENCH_TRAIN_CASES_H

#include <stdbool.h>

#include "optim/optim.h"
#include "pipeline/models/models.h"

enum { BENCH_TRAIN_CASES = 6, BENCH_GRAD_CLIP = 5 };
/* The models' input and hidden sizes (the work of a step is counted from them). */
enum { FUNC_DIM = 1611, RNN_HIDDEN = 300, N_MELS = 40, FRAME = 64 };

typedef struct {
    const char *name;      /* the case; also torch_train.py's name */
    const char *kind;      /* meld_model_create kind */
    const char *input;     /* the batch, for the header */
    int mel_hidden;        /* 0: no mel input */
    bool mel_var;          /* mel lengths 75 + below(226) instead of all 300 */
    int frames_used;       /* face frames per utterance, 0: none */
} TrainCase;

extern const TrainCase BENCH_CASES[BENCH_TRAIN_CASES];

/* A Batch whose arrays and tensors are on the heap (they outlive every
 * graph_reset); owned[] are the tensors to free. */
typedef struct {
    Batch b;
    Tensor *owned[5];
    int n_owned;
} HeapBatch;

typedef struct {
    MeldModel *model;
    Optimizer *opt;
    ParamRef params[MELD_MODEL_MAX_PARAMS];
    Tensor *param_tensors[MELD_MODEL_MAX_PARAMS];
    int n_params;
    HeapBatch batch;
    Graph g;
} Trainer;

/* Items of the case's whole batch: dialogues or utterances. */
int  train_case_items(const TrainCase *c);
/* The model, its default optimiser (as train.c's create_optimizer) and
 * items [first, first + count) of the batch (the whole batch: 0 and
 * train_case_items). */
int  trainer_init(Trainer *t, const TrainCase *c, int first, int count);
void trainer_free(Trainer *t);

/* An integer option's value v in lo..hi into *out: 0, or -1 after a
 * "bench train: OPT needs an integer in LO..HI" on stderr. */
int bench_train_int_option(const char *opt, const char *v, int lo, int hi, int *out);

/* The 1-minute load average, or -1. */
double bench_load_average(void);

#endif
