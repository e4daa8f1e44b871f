#include "tensor/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/error.h"
#include "tensor/input_file.h"

/* An existing PATH must be a regular file (or a symlink, which rename
 * replaces without touching what it points to). */
static int target_replaceable(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? MELD_OK : meld_errorf("%s: cannot stat: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) return MELD_OK;
    return meld_errorf("%s: is %s; refusing to replace it with a file", path, input_file_kind(st.st_mode));
}

int atomic_file_open(AtomicFile *f, const char *path)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path) return meld_errorf("%.64s...: path too long", path);
    strcpy(f->path, path);
    if (target_replaceable(path)) return MELD_ERR;
    snprintf(f->tmp_path, sizeof f->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(f->tmp_path, flags, 0666);
    /* Our own name taken: left by a dead process that had our PID, or
     * planted. Remove the entry (a symlink goes, not its target) and retry
     * once, still exclusively. */
    if (fd < 0 && errno == EEXIST && unlink(f->tmp_path) == 0) fd = open(f->tmp_path, flags, 0666);
    if (fd < 0) {
        int saved = errno;
        f->tmp_path[0] = '\0';
        return meld_errorf("%s: cannot create a temporary file beside it: %s", path, strerror(saved));
    }
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        int saved = errno;
        close(fd);
        unlink(f->tmp_path);
        f->tmp_path[0] = '\0';
        return meld_errorf("%s: cannot open for writing: %s", path, strerror(saved));
    }
    return MELD_OK;
}

int atomic_file_write(AtomicFile *f, const void *data, size_t bytes)
{
    if (bytes && fwrite(data, 1, bytes, f->fp) != bytes)
        return meld_errorf("%s: write failed: %s", f->path, strerror(errno));
    return MELD_OK;
}

static void sync_parent_dir(const char *path)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* best effort: some file systems refuse fsync on folders */
        close(dfd);
    }
}

int atomic_file_commit(AtomicFile *f)
{
    int bad = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    int saved = errno;
    if (fclose(f->fp) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    f->fp = NULL;
    if (bad) {
        unlink(f->tmp_path);
        return meld_errorf("%s: write failed: %s", f->path, strerror(saved ? saved : EIO));
    }
    if (rename(f->tmp_path, f->path) != 0) {
        saved = errno;
        unlink(f->tmp_path);
        return meld_errorf("%s: cannot replace: %s", f->path, strerror(saved));
    }
    sync_parent_dir(f->path);
    return MELD_OK;
}

void atomic_file_abort(AtomicFile *f)
{
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    if (f->tmp_path[0]) unlink(f->tmp_path);
    f->tmp_path[0] = '\0';
}

/* ---- orphans ------------------------------------------------------------- */

/* The PID of NAME = STEM.tmp.PID (STEM = stem when given), or 0. */
static long orphan_pid(const char *name, const char *stem)
{
    const char *tag = strstr(name, ".tmp.");
    while (tag && strstr(tag + 1, ".tmp.")) tag = strstr(tag + 1, ".tmp.");
    if (!tag || tag == name || (stem && ((size_t)(tag - name) != strlen(stem) || strncmp(name, stem, strlen(stem)))))
        return 0;
    char *end;
    long pid = strtol(tag + 5, &end, 10);
    return tag[5] >= '1' && tag[5] <= '9' && !*end ? pid : 0;
}

/* A process that no longer exists. kill(pid, 0) reports EPERM for a live
 * process of another user: that one is left alone. */
static int process_gone(long pid)
{
    return pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int sweep(const char *dir, const char *stem)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = orphan_pid(e->d_name, stem);
        if (!pid || !process_gone(pid)) continue;
        char path[2200];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        /* Files and symlinks only: never a folder that happens to match. */
        if (lstat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}

int atomic_file_sweep(const char *path)
{
    if (!path || !*path) return 0;
    char dir[1024], base[1024];
    snprintf(dir, sizeof dir, "%s", path);
    snprintf(base, sizeof base, "%s", path);
    return sweep(dirname(dir), basename(base));
}

int atomic_file_sweep_folder(const char *dir)
{
    return dir && *dir ? sweep(dir, NULL) : 0;
}
