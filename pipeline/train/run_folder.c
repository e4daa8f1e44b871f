/* Run folders: creation, the lock, refusing to overwrite (see run_folder.h). */
#include "pipeline/train/run_folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"

#define LOCK_NAME ".lock"

/* The files of a run, in the order a user would look for them. */
static const char *const RUN_FILES[] = {"best.safetensors", "last.safetensors", "log.jsonl"};
enum { N_RUN_FILES = sizeof RUN_FILES / sizeof RUN_FILES[0] };

char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = meld_malloc(n, "path");
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *run_folder_path(const RunFolder *f, const char *name)
{
    return path_join(f->dir, name);
}

/* ---- creating the folder and its parents --------------------------------- */

typedef struct {
    char **paths;   /* the folders this call created, outermost first */
    int n;
} Created;

static void created_free(Created *c)
{
    for (int i = 0; i < c->n; i++) free(c->paths[i]);
    free(c->paths);
    memset(c, 0, sizeof *c);
}

/* Removes the folders made by make_dirs, innermost first (only if empty). */
static void created_undo(Created *c)
{
    for (int i = c->n - 1; i >= 0; i--) rmdir(c->paths[i]);
    created_free(c);
}

static int remember(Created *c, const char *path)
{
    char **grown = realloc(c->paths, sizeof *grown * (size_t)(c->n + 1));
    char *copy = grown ? malloc(strlen(path) + 1) : NULL;
    if (grown) c->paths = grown;
    if (!copy) return meld_errorf("out of memory creating %s", path);
    strcpy(copy, path);
    c->paths[c->n++] = copy;
    return MELD_OK;
}

static int make_dir(const char *path, Created *c)
{
    struct stat st;
    if (mkdir(path, 0777) == 0) return remember(c, path);
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return MELD_OK;
    return meld_errorf("%s: cannot create folder: %s", path, errno == EEXIST ? "a file has that name" : strerror(errno));
}

/* mkdir -p, remembering what it made. */
static int make_dirs(const char *dir, Created *c)
{
    char *buf = meld_malloc(strlen(dir) + 1, "path");
    if (!buf) return MELD_ERR;
    strcpy(buf, dir);
    int rc = MELD_OK;
    for (char *p = buf + 1; rc == MELD_OK && *p; p++) {
        if (*p != '/' || p[-1] == '/') continue;
        *p = '\0';
        rc = make_dir(buf, c);
        *p = '/';
    }
    if (rc == MELD_OK) rc = make_dir(buf, c);
    free(buf);
    return rc;
}

/* ---- the lock ---------------------------------------------------------------- */

/* The holder's line from the lock file, or "" (a holder that has not
 * written it yet). */
static void read_holder(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

static int write_holder(int fd, const char *lock_path, const char *holder)
{
    char when[40];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    size_t cap = strlen(holder) + 128;
    char *text = meld_malloc(cap, "lock");
    if (!text) return MELD_ERR;
    int n = snprintf(text, cap, "pid %ld, started %s: %s\n", (long)getpid(), when, holder);
    int rc = ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) == n ? MELD_OK
             : meld_errorf("%s: cannot write: %s", lock_path, strerror(errno));
    free(text);
    return rc;
}

/* *contended: another process holds the lock. */
static int take_lock(RunFolder *f, const char *holder, bool *created, bool *contended)
{
    char *path = run_folder_path(f, LOCK_NAME);
    if (!path) return MELD_ERR;
    struct stat st;
    *created = lstat(path, &st) != 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    int rc = MELD_OK;
    if (fd < 0) rc = meld_errorf("%s: cannot open the run folder's lock: %s", path, strerror(errno));
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) rc = meld_errorf("%s: not a regular file", path);
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            *contended = true;
            char who[512];
            read_holder(fd, who, sizeof who);
            rc = meld_errorf("%s is in use by another run (%s); wait for it to end or choose another --out", f->dir,
                             who[0] ? who : "its holder has not said who it is yet");
        } else {
            rc = meld_errorf("%s: cannot lock: %s", path, strerror(errno));
        }
    }
    if (rc == MELD_OK) rc = write_holder(fd, path, holder);
    if (rc != MELD_OK && fd >= 0) close(fd);
    if (rc == MELD_OK) f->lock_fd = fd;
    free(path);
    return rc;
}

/* ---- what is in the folder ------------------------------------------------- */

/* Temporary files of a killed writer ("last.safetensors.tmp.1234"). */
static void sweep_temporaries(const RunFolder *f)
{
    int removed = atomic_file_sweep_folder(f->dir);
    if (removed)
        meld_warnf("%s: removed %d temporary file%s left by an interrupted run", f->dir, removed, removed > 1 ? "s" : "");
}

/* "best.safetensors, log.jsonl" (the run files present), or "" */
static void run_files_present(const RunFolder *f, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int k = 0; k < N_RUN_FILES; k++) {
        struct stat st;
        char *p = run_folder_path(f, RUN_FILES[k]);
        if (p && lstat(p, &st) == 0) snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? ", " : "", RUN_FILES[k]);
        free(p);
    }
}

static int remove_run_files(const RunFolder *f)
{
    for (int k = 0; k < N_RUN_FILES; k++) {
        char *p = run_folder_path(f, RUN_FILES[k]);
        if (!p) return MELD_ERR;
        int rc = unlink(p) == 0 || errno == ENOENT ? MELD_OK : meld_errorf("%s: cannot remove: %s", p, strerror(errno));
        free(p);
        if (rc) return MELD_ERR;
    }
    return MELD_OK;
}

/* A checkpoint can be created here (and its path is not too long). When
 * the atomic writer refuses a file that the folder can hold, its own limit
 * is the reason. Reasons come first in the messages: a long path would
 * push them out of the error buffer. */
static int probe_writable(const RunFolder *f)
{
    char *p = run_folder_path(f, "last.safetensors"), *plain = run_folder_path(f, ".probe");
    int rc = p && plain ? MELD_OK : MELD_ERR;
    AtomicFile af;
    if (rc == MELD_OK && atomic_file_open(&af, p) == MELD_OK) {
        atomic_file_abort(&af);
    } else if (rc == MELD_OK) {
        int fd = open(plain, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        int saved = errno;
        if (fd >= 0) {
            close(fd);
            unlink(plain);
            rc = meld_errorf("run folder path too long (%zu characters) for the checkpoint writer: %s", strlen(f->dir),
                             f->dir);
        } else {
            rc = meld_errorf("cannot create checkpoints in the run folder (%s): %s", strerror(saved), f->dir);
        }
    }
    free(p), free(plain);
    return rc;
}

static int check_mode(RunFolder *f, RunMode mode)
{
    char present[128];
    run_files_present(f, present, sizeof present);
    f->had_run = present[0] != '\0';
    if (mode == RUN_NEW && f->had_run)
        return meld_errorf("%s holds a run (%s): continue it with --resume, replace it with --overwrite, "
                           "or choose another --out",
                           f->dir, present);
    if (mode == RUN_OVERWRITE) return remove_run_files(f);
    return MELD_OK;
}

int run_folder_open(RunFolder *f, const char *dir, RunMode mode, const char *holder)
{
    memset(f, 0, sizeof *f);
    f->lock_fd = -1;
    if (!dir[0]) return meld_errorf("run folder: empty name");
    f->dir = meld_malloc(strlen(dir) + 1, "path");
    if (!f->dir) return MELD_ERR;
    strcpy(f->dir, dir);
    Created made = {0};
    bool lock_created = false, contended = false;
    int rc = make_dirs(dir, &made);
    if (rc == MELD_OK) rc = take_lock(f, holder, &lock_created, &contended);
    if (rc == MELD_OK) sweep_temporaries(f);
    if (rc == MELD_OK) rc = check_mode(f, mode);
    if (rc == MELD_OK) rc = probe_writable(f);
    if (rc == MELD_OK) {
        created_free(&made);
        return MELD_OK;
    }
    /* Leave nothing behind in the folders made here, unless another
     * process holds the lock: then the folder is its, not ours to remove. */
    if (contended) {
        created_free(&made);
    } else {
        if (lock_created && made.n > 0) {
            char *p = run_folder_path(f, LOCK_NAME);
            if (p) unlink(p);
            free(p);
        }
        created_undo(&made);
    }
    run_folder_close(f);
    return MELD_ERR;
}

void run_folder_close(RunFolder *f)
{
    if (f->lock_fd >= 0) close(f->lock_fd);   /* releases the flock */
    free(f->dir);
    memset(f, 0, sizeof *f);
    f->lock_fd = -1;
}
