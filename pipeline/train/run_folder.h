/* The run folder (`meld train --out DIR`): one training run's checkpoints
 * and log, owned by one process at a time.
 *
 *   DIR/best.safetensors   weights + normalisation of the best dev epoch
 *   DIR/last.safetensors   everything needed to resume (train.h)
 *   DIR/log.jsonl          one JSON record per line (train.h)
 *   DIR/.lock              the lock file (below); never removed
 *
 * Opening a run folder
 *   1. creates DIR and its parents (those it created are removed again if
 *      opening fails);
 *   2. takes an exclusive flock(2) on DIR/.lock without waiting; when
 *      another process holds it the error names that process (its pid,
 *      start time and command, which every holder writes into the file).
 *      The kernel releases the lock when its holder exits, however it
 *      exits (kill -9 included), so a lock is never stale;
 *   3. removes temporary files that a killed run left behind
 *      ("best.safetensors.tmp.PID" ...): with the lock held, no live
 *      process can be writing them;
 *   4. checks the mode against what is there: a new run refuses a folder
 *      that holds a run (any of best/last/log) — it is never overwritten
 *      unasked; RUN_OVERWRITE removes the old run's files; RUN_RESUME keeps
 *      them;
 *   5. checks a checkpoint can be created there (a temporary file made and
 *      removed), so a path that is too long or a folder that is not
 *      writable fails now, not after the first epoch.
 * Paths have no fixed length limit here (a limit further down, such as the
 * atomic writer's, is reported as an error in step 5, never truncated).
 */
#ifndef MELD_RUN_FOLDER_H
#define MELD_RUN_FOLDER_H

#include <stdbool.h>

typedef enum { RUN_NEW, RUN_RESUME, RUN_OVERWRITE } RunMode;

typedef struct {
    char *dir;
    int lock_fd;       /* -1 when closed */
    bool had_run;      /* the folder held a run when opened */
} RunFolder;

/* holder: one line naming this process's work ("meld train --model gru"),
 * written into the lock file with the pid and the time. */
int run_folder_open(RunFolder *f, const char *dir, RunMode mode, const char *holder);
/* Releases the lock. */
void run_folder_close(RunFolder *f);
/* "DIR/name", allocated (free it); NULL with the error set when out of memory. */
char *run_folder_path(const RunFolder *f, const char *name);

/* "DIR/name" into a new allocation; NULL when out of memory. */
char *path_join(const char *dir, const char *name);

#endif
