/* Finding the corpus and making sure its feature cache is fresh: shared by
 * the commands that read features (train, eval, prepare). */
#ifndef MELD_CLI_CORPUS_H
#define MELD_CLI_CORPUS_H

#include <stdbool.h>

#include "pipeline/features/prepare.h"

#define BUILTIN_CORPUS_DIR "data/synthetic"

typedef struct {
    const char *data;         /* --data, or NULL */
    const char *cache;        /* --cache, or NULL: ROOT/cache */
    bool allow_synthetic;     /* no MELD found: make/use the built-in corpus */
    bool lenient;             /* --lenient CSV rows */
    bool quiet;
    bool prep_fixed;          /* prep comes from a checkpoint: use it as is */
    PrepareOptions prep;      /* frames, size, mels, cascade */
} CorpusRequest;

typedef struct {
    char root[1024];
    char cache_dir[1100];
    char config[512];         /* cache configuration string */
    bool synthetic;           /* written by meld synth (its description found), or the built-in folder */
    long long seed;           /* the synthetic corpus's seed; -1: not synthetic, or unknown */
} Corpus;

/* Locates (or synthesises) the data, runs prepare when the cache is missing
 * or stale, printing progress to stderr. Returns 0, or prints the error as
 * "meld CMD: ..." and returns 1. */
int corpus_ready(const char *cmd, const CorpusRequest *req, Corpus *out);

/* Sets frames, size, n_mels and the cascade choice of po from a cache
 * configuration string (as a checkpoint stores it). */
int corpus_features_from_config(const char *config, PrepareOptions *po);

/* Progress on stderr: on a terminal one line redrawn in place, cut to the
 * terminal's width (no escape codes otherwise); elsewhere (a log file) a
 * plain line every 10 %. */
typedef struct {
    bool tty;
    double start, last_print;
    int last_pct;
    bool drawn;               /* a line is on screen, unfinished */
} Progress;
void progress_init(Progress *p);
void progress_update(Progress *p, const char *label, int done, int total, const char *extra);
/* Ends the line (a finished bar stays on screen). */
void progress_end(Progress *p);
/* Erases the unfinished line, so that other output can take its place. */
void progress_clear(Progress *p);
double wall_seconds(void);
/* Columns of the terminal on fd (TIOCGWINSZ, else $COLUMNS, else 80). */
int terminal_width(int fd);

#endif
