/* The records of log.jsonl (train.h lists them; docs/RUNS.md every field).
 * Each record is one line, flushed and synced before the function returns,
 * so a record that is in the file is complete. */
#ifndef MELD_TRAIN_LOG_H
#define MELD_TRAIN_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "pipeline/train/train.h"

/* A session begins (a new run, or a resumed one). */
typedef struct {
    const char *event;             /* "start" or "resume" */
    const Provenance *provenance;  /* the run's (its command started the run) */
    const char *command;           /* this session's command line */
    int epoch, epoch_step;         /* where it starts: epochs completed, steps into the next */
    const char *optimiser, *hparams, *schedule;   /* hparams and schedule exact (optim_format_hparams, schedule_format) */
    double clip_norm;
    int epochs, batch, patience, threads;
    uint64_t seed;
    size_t parameters;
    int utterances[3];             /* train, dev, test */
} LogSession;

int log_session(FILE *log, const char *path, const LogSession *s);
/* Writes e's record and points e->json at its text (valid until the next
 * call with the same buffer; *buf is reallocated, free it at the end). */
int log_epoch(FILE *log, const char *path, EpochReport *e, long step, double utterances_per_s, char **buf);
/* A session ends: reason "epochs", "patience", "interrupted" or "error"
 * (message then says why). */
int log_stop(FILE *log, const char *path, const char *reason, const char *message, int epoch, int epoch_step,
             int best_epoch, double best_score);

/* The time now as ISO 8601 UTC, "2024-05-01T12:00:03Z". */
void iso_time_now(char *buf, size_t cap);

#endif
