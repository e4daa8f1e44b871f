/* Training, evaluation and checkpoints of the MELD models.
 *
 * One epoch: shuffle the training items (dialogues for dialogue-level
 * models, utterances otherwise) with the run's rng, then per batch
 *     forward -> loss (emotion CE + sentiment CE, class-weighted, masked)
 *     -> NaN/Inf check -> backward -> clip the global gradient norm
 *     (clip_norm; a non-finite norm stops the run) -> optimiser step ->
 *     zero gradients -> recycle the graph's arena.
 * Then every parameter is checked finite, the dev split is evaluated (loss,
 * accuracy, weighted and macro F1 per task), the learning-rate schedule
 * steps, one "epoch" record is appended to OUT/log.jsonl and
 * OUT/last.safetensors is written and, when the dev weighted F1 of the
 * monitored task (emotion, or the only task trained) improved,
 * OUT/best.safetensors too. Training stops after `patience` epochs without
 * improvement. At the end the best checkpoint is evaluated on the test split.
 *
 * The run folder (run_folder.h) is locked for the whole run; a new run
 * refuses a folder that holds one, unless it is resumed or overwritten.
 *
 * Checkpoints (safetensors, written atomically; checkpoint_io.h):
 * best.safetensors holds the weights, the normaliser and the metadata
 * (model, configuration, provenance); last.safetensors adds what resuming
 * needs: the optimiser state ("optim.*"), the schedule, the patience
 * counter and both rng states. --resume continues from last.safetensors
 * exactly: same data order, dropout masks and optimiser state, so an
 * interrupted and resumed run ends with the same bytes as an uninterrupted
 * one (same thread count). A stop request (the CLI sets it on SIGINT or
 * SIGTERM) is honoured at the next step boundary: last.safetensors is then
 * written with the position inside the epoch, from which a resume
 * continues as if nothing had happened.
 *
 * log.jsonl, one JSON object per line (docs/RUNS.md lists every field):
 *   {"event": "start" | "resume", ...}  a session begins: time, command,
 *                                       provenance, settings
 *   {"event": "epoch", ...}             an epoch ends: losses, train and dev
 *                                       metrics, learning rate, time
 *   {"event": "stop", ...}              a session ends: the reason
 * A run killed between the epoch record and its checkpoint repeats that
 * epoch when resumed: the later record of an epoch is the valid one.
 * NaN and infinities are never written as numbers (null instead).
 *
 * Data parallelism (opt->comm with more than one process, see
 * pipeline/dist/data_parallel.h): every process draws the same global
 * batches and trains on its share, gradients summed over the processes;
 * dropout and augmentation draw per utterance (batch.h), so the run is the
 * one-process run up to float reassociation. Evaluation is split over the
 * processes and gathered exactly. Only rank 0 writes files and calls the
 * callbacks; every process reads the checkpoints (a shared file system, or
 * the same path on every machine). A run resumes with any process count.
 *
 * The library prints nothing: progress and results reach the caller through
 * the callbacks.
 */
#ifndef MELD_TRAIN_H
#define MELD_TRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pipeline/data/batch.h"
#include "pipeline/dist/comm.h"
#include "pipeline/models/models.h"
#include "pipeline/train/metrics.h"
#include "pipeline/train/provenance.h"
#include "pipeline/train/run_folder.h"

typedef enum { CLASS_WEIGHTS_AUTO = 0, CLASS_WEIGHTS_MELD, CLASS_WEIGHTS_NONE } ClassWeightMode;

typedef struct EpochReport EpochReport;

typedef struct {
    const char *cache_dir;        /* holds train/dev/test.meldcache */
    uint64_t cache_hash;          /* expected configuration (0: any) */
    const char *cache_config;     /* its string, stored in checkpoints (predict, eval use it) */
    SplitData *splits;            /* NULL: open cache_dir's files; else the three splits,
                                     borrowed (features read without a cache, e.g.
                                     pipeline/data/meld_pickle.h) */
    const char *model;            /* gru, lstm, melstm, cnn, fusion */
    MeldModelConfig cfg;          /* feature dims are filled from the cache */
    const char *optim;            /* NULL: the model's default */
    float lr;                     /* 0: the optimiser's default for the model */
    const char *optim_hparams;    /* more optimiser settings, "weight_decay=0.01" (optim_parse_hparams); NULL: none */
    const char *schedule;         /* learning-rate schedule spec (optim/schedule.h); NULL: constant */
    float clip_norm;              /* limit of the global gradient norm; 0: no clipping */
    ClassWeightMode class_weights;
    int epochs, batch, patience;
    uint64_t seed;
    const char *out_dir;
    bool resume;                  /* continue the run in out_dir (from its start if it has no checkpoint yet) */
    bool overwrite;               /* replace the run in out_dir */
    RunFolder *folder;            /* out_dir already opened (locked) by the caller, or NULL */
    /* Corpus, model, command and code version for checkpoints and the log;
     * the cache hash is computed here. NULL: unknown. Its command is the
     * one that trains the run (without --resume), the same in every session. */
    const Provenance *provenance;
    const char *command;          /* this session's command line, for the log (NULL: the provenance's) */
    /* Checked between steps: when it becomes non-zero, the run saves where
     * it stands in last.safetensors and returns with result->interrupted. */
    const volatile sig_atomic_t *stop;
    /* Data parallelism. */
    const Comm *comm;             /* the processes training together (NULL: this one alone) */
    bool sync_bn;                 /* BatchNorm statistics of the whole global batch */
    long bucket_bytes;            /* gradient buckets: 0 DP_BUCKET_BYTES, < 0 one after backward */
    /* Callbacks (any may be NULL), on rank 0 only. */
    void *cb_ctx;
    void (*on_start)(void *ctx, const char *summary_line);
    void (*on_batch)(void *ctx, int epoch, int step, int steps, float loss);
    void (*on_epoch)(void *ctx, const EpochReport *e);
} TrainOptions;

typedef struct {
    Metrics emotion, sentiment;
    double loss;
    int n;
} EvalResult;

/* Reference points for a split: always predicting the training set's most
 * frequent class, and predicting at random with the training class shares
 * (one fixed-seed draw per utterance). */
typedef struct {
    Metrics majority_emotion, majority_sentiment;
    Metrics random_emotion, random_sentiment;
} Baselines;

int baselines_compute(const SplitData *train, const SplitData *eval, Baselines *out);

/* An epoch's results, as on_epoch receives them. */
struct EpochReport {
    int epoch, epochs;            /* this epoch, of at most `epochs` */
    double train_loss;            /* mean over its steps */
    Metrics train_emotion, train_sentiment;   /* on the training batches, in training mode */
    const EvalResult *dev;
    int task;                     /* TASK_BOTH, TASK_EMOTION or TASK_SENTIMENT */
    double lr, seconds;
    bool best;                    /* best dev score so far: best.safetensors written */
    const char *json;             /* its log.jsonl record */
};

typedef struct {
    int first_epoch;              /* the first epoch this call trained (> 1 after a resume) */
    int epochs_run, best_epoch;   /* epochs completed in all, the best one */
    double best_score, seconds;
    const char *stop_reason;      /* "epochs", "patience" or "interrupted" */
    bool interrupted;             /* a stop request ended the run: last.safetensors is where it stood */
    int stop_epoch, stop_step;    /* interrupted: the epoch and the steps of it done */
    EvalResult test;
    Baselines test_baselines;
    char *best_path, *last_path;  /* allocated */
    Provenance provenance;        /* of this run, cache hash included */
} TrainResult;

int train_run(const TrainOptions *opt, TrainResult *result);
void train_result_free(TrainResult *r);

/* A trained model loaded from a checkpoint, ready for evaluation. */
typedef struct {
    MeldModel *model;
    Normaliser norm;
    uint64_t cache_hash;
    char cache_config[512];       /* feature configuration the model was trained on */
    int epoch;                    /* 0 for a weights-only file */
    Provenance provenance;        /* as the checkpoint records it (fields unknown in old ones) */
} LoadedModel;

/* A training checkpoint or a weights-only file (optim.* tensors ignored). */
int  checkpoint_load_model(const char *path, LoadedModel *out);
void loaded_model_free(LoadedModel *lm);

/* Runs the model (eval mode) over a whole split. If pred_emotion /
 * pred_sentiment are non-NULL they receive the argmax per cache entry, and
 * prob_* (n x 7, n x 3) the softmax probabilities. */
int evaluate_split(MeldModel *m, const SplitData *s, const Normaliser *norm, int batch,
                   EvalResult *out, int *pred_emotion, int *pred_sentiment,
                   float *prob_emotion, float *prob_sentiment);
/* The same with the batches split over the processes of c (collective):
 * every process gets the results of the whole split, the same bits as one
 * process computing them all. */
int evaluate_split_on(const Comm *c, MeldModel *m, const SplitData *s, const Normaliser *norm, int batch,
                      EvalResult *out, int *pred_emotion, int *pred_sentiment, float *prob_emotion,
                      float *prob_sentiment);

/* Inverse-frequency class weights w_c = N / (K * n_c) (sklearn's
 * 'balanced'); a class absent from the training set gets weight 1. */
void class_weights_balanced(const int *counts, int k, float *w);

#endif
