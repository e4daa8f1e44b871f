/* Training, evaluation and checkpoints of the MELD models.
 *
 * One epoch: shuffle the training items (dialogues for dialogue-level
 * models, utterances otherwise) with the run's rng, then per batch
 *     forward -> loss (emotion CE + sentiment CE, class-weighted, masked)
 *     -> NaN/Inf check -> backward -> clip the global gradient norm (5)
 *     -> optimiser step -> zero gradients -> recycle the graph's arena.
 * Then the dev split is evaluated (loss, accuracy, weighted and macro F1 per
 * task), one JSON line is appended to OUT/log.jsonl, OUT/last.safetensors
 * is written and, when the dev weighted F1 of the monitored task (emotion,
 * or the only task trained) improved, OUT/best.safetensors too. Training
 * stops after `patience` epochs without improvement. At the end the best
 * checkpoint is evaluated on the test split.
 *
 * Checkpoints (safetensors, written atomically) hold the parameters (torch
 * names), BatchNorm buffers, the feature normaliser ("norm.*"), the
 * optimiser state ("optim.*") and metadata: model kind and configuration,
 * task, label orders, epoch, step, best score, patience counter, both rng
 * states and the cache configuration hash. --resume continues from
 * last.safetensors exactly: same data order, dropout masks and optimiser
 * state, so an interrupted and resumed run ends with the same weights as an
 * uninterrupted one (same thread count).
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

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/data/batch.h"
#include "pipeline/dist/comm.h"
#include "pipeline/train/metrics.h"
#include "pipeline/models/models.h"

typedef enum { CLASS_WEIGHTS_AUTO = 0, CLASS_WEIGHTS_MELD, CLASS_WEIGHTS_NONE } ClassWeightMode;

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
    ClassWeightMode class_weights;
    int epochs, batch, patience;
    uint64_t seed;
    const char *out_dir;
    bool resume;
    /* Data parallelism. */
    const Comm *comm;             /* the processes training together (NULL: this one alone) */
    bool sync_bn;                 /* BatchNorm statistics of the whole global batch */
    long bucket_bytes;            /* gradient buckets: 0 DP_BUCKET_BYTES, < 0 one after backward */
    /* Callbacks (any may be NULL), on rank 0 only. utts: utterances trained
     * on so far this epoch, over every process. */
    void *cb_ctx;
    void (*on_start)(void *ctx, const char *summary_line);
    void (*on_batch)(void *ctx, int epoch, int step, int steps, float loss, int utts);
    void (*on_epoch)(void *ctx, const char *json_line);
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

typedef struct {
    int epochs_run, best_epoch;
    double best_score, seconds;
    EvalResult test;
    Baselines test_baselines;
    char best_path[1100];
} TrainResult;

int train_run(const TrainOptions *opt, TrainResult *result);

/* A trained model loaded from a checkpoint, ready for evaluation. */
typedef struct {
    MeldModel *model;
    Normaliser norm;
    uint64_t cache_hash;
    char cache_config[512];       /* feature configuration the model was trained on */
    int epoch;                    /* 0 for a weights-only file */
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
