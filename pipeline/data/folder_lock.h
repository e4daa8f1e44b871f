/* One process at a time writes a folder: an advisory lock (flock) on
 * FOLDER/lock.
 *
 *   shared     readers (train, eval: the caches they read must not change
 *              under them); any number at once;
 *   exclusive  the writer (prepare); alone.
 * A process that cannot have the lock at once is told who holds it (pid
 * and command line, from /proc/locks and /proc/PID/cmdline on Linux) and
 * then waits: two `meld train` on a fresh corpus is the obvious way to use
 * two cores, and the second should train on what the first prepared, not
 * fail. The lock goes with the process (closing the fd, exit, kill -9), so
 * a crashed holder never leaves a folder locked.
 *
 * flock locks belong to an open file description: a process that holds
 * the shared lock must release it before asking for the exclusive one, or
 * it waits for itself.
 */
#ifndef MELD_FOLDER_LOCK_H
#define MELD_FOLDER_LOCK_H

#include <stddef.h>

typedef struct {
    int fd;                 /* -1 when not held */
    int exclusive;
} FolderLock;

/* Called once, before waiting, with "FOLDER is locked by pid N (COMMAND)". */
typedef void (*FolderLockWaitFn)(void *ctx, const char *message);

/* Takes the lock on dir (created if needed), waiting for it. */
int folder_lock(FolderLock *l, const char *dir, int exclusive, FolderLockWaitFn on_wait, void *ctx);
void folder_unlock(FolderLock *l);

/* "pid N (COMMAND)" for every process holding a lock on dir/lock, or ""
 * when none is known (not Linux, or nobody). */
void folder_lock_holders(const char *dir, char *buf, size_t cap);

#endif
