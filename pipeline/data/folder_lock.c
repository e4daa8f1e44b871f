#include "pipeline/data/folder_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/error.h"

static int lock_path(char *buf, size_t cap, const char *dir)
{
    int n = snprintf(buf, cap, "%s/lock", dir);
    return n > 0 && (size_t)n < cap ? MELD_OK : meld_errorf("%s: path too long", dir);
}

/* The command line of pid, spaces between the arguments. */
static void command_of(long pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    while (n > 0 && buf[n - 1] == '\0') n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0' || buf[i] == '\n') buf[i] = ' ';
    buf[n] = '\0';
}

void folder_lock_holders(const char *dir, char *buf, size_t cap)
{
    char path[1100];
    struct stat st;
    buf[0] = '\0';
    if (lock_path(path, sizeof path, dir) || stat(path, &st)) return;
    /* /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" */
    FILE *f = fopen("/proc/locks", "r");
    if (!f) return;
    char line[256];
    size_t len = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[16];
        long pid;
        unsigned maj, min;
        unsigned long long ino;
        if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", kind, &pid, &maj, &min, &ino) != 5) continue;
        if (strcmp(kind, "FLOCK") || ino != (unsigned long long)st.st_ino || pid == (long)getpid()) continue;
        char cmd[200];
        command_of(pid, cmd, sizeof cmd);
        int w = snprintf(buf + len, cap - len, "%spid %ld (%s)", len ? ", " : "", pid, cmd[0] ? cmd : "?");
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
    fclose(f);
}

int folder_lock(FolderLock *l, const char *dir, int exclusive, FolderLockWaitFn on_wait, void *ctx)
{
    l->fd = -1;
    l->exclusive = exclusive;
    char path[1100];
    if (lock_path(path, sizeof path, dir)) return MELD_ERR;
    /* O_NOFOLLOW: a link planted as the lock file is not followed;
     * O_NONBLOCK: neither is a FIFO waited on (refused below). */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) return meld_errorf("%s: cannot open the lock file: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return meld_errorf("%s: not a regular file", path);
    }
    int op = exclusive ? LOCK_EX : LOCK_SH;
    if (flock(fd, op | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            int e = errno;
            close(fd);
            return meld_errorf("%s: cannot lock: %s", path, strerror(e));
        }
        if (on_wait) {
            char who[600], msg[1400];
            folder_lock_holders(dir, who, sizeof who);
            snprintf(msg, sizeof msg, "%s is %s by %s; waiting for it", dir,
                     exclusive ? "in use" : "being written", who[0] ? who : "another process");
            on_wait(ctx, msg);
        }
        while (flock(fd, op) != 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return meld_errorf("%s: cannot lock: %s", path, strerror(e));
        }
    }
    l->fd = fd;
    return MELD_OK;
}

void folder_unlock(FolderLock *l)
{
    if (l->fd >= 0) close(l->fd);   /* closing releases the flock */
    l->fd = -1;
}
