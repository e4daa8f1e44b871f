/* Finding the corpus and making sure its feature cache is fresh: shared by
 * the commands that read features (train, eval, prepare). */
#ifndef MELD_CLI_CORPUS_H
#define MELD_CLI_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/data/batch.h"
#include "pipeline/data/dataset.h"
#include "pipeline/data/folder_lock.h"
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
    FolderLock lock;          /* shared lock on cache_dir while its caches are read */
} Corpus;

/* Locates (or synthesises) the data, runs prepare when the cache is
 * missing or out of date (pipeline/features/prepare.h: prepare_status),
 * printing progress and the clips left out to stderr. Returns holding a
 * shared lock on the cache folder, so no prepare replaces the caches while
 * they are read (released by corpus_release or at exit). A --cache folder
 * holding another corpus's caches is refused, not overwritten. Returns 0,
 * or prints the error as "meld CMD: ..." and returns 1. Under mpirun every
 * process calls it (a collective): rank 0 writes and speaks, all share
 * prepare's clips. */
int corpus_ready(const char *cmd, const CorpusRequest *req, Corpus *out);
void corpus_release(Corpus *c);

/* Sets frames, size, n_mels and the cascade choice of po from a cache
 * configuration string (as a checkpoint stores it). */
int corpus_features_from_config(const char *config, PrepareOptions *po);

/* --features meld-pickle: MELD's released audio features (pipeline/data/
 * meld_pickle.h) instead of features computed from the clips. No cache and
 * no prepare step: the vectors are read into memory.
 *
 * corpus_pickle_choice checks the options (features NULL: not asked; else
 * "meld-pickle" with --task emotion or sentiment and model gru or lstm)
 * and returns the FEATURE_PICKLE_* to read, -1 when not asked, or -2 after
 * printing a usage error. corpus_pickle_of_config is the FEATURE_PICKLE_*
 * a checkpoint's feature configuration names, or -1.
 *
 * corpus_pickle_ready reads the pickle found beside the CSVs (req->data,
 * searched as dataset.h says) into the three splits, and sets config to
 * what a checkpoint records ("meld-pickle task=emotion dim=1611"), which
 * must equal `expected` (a checkpoint's) when given. Returns 0, or prints
 * the error as "meld CMD: ..." and returns 1. */
int corpus_pickle_choice(const char *cmd, const char *features, int task, const char *model);
int corpus_pickle_of_config(const char *config);
int corpus_pickle_ready(const char *cmd, const CorpusRequest *req, int which, const char *expected,
                        SplitData split[N_SPLITS], char *config, size_t cap);

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
