#include "tensor/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/error.h"

const char *input_file_kind(unsigned mode)
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

int input_file_open(const char *path, int *fd)
{
    *fd = -1;
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return meld_errorf("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(f, &st) != 0) {
        int saved = errno;
        close(f);
        return meld_errorf("%s: cannot stat: %s", path, strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return meld_errorf("%s: is %s, not a regular file", path, input_file_kind(st.st_mode));
    }
    int flags = fcntl(f, F_GETFL);
    if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int saved = errno;
        close(f);
        return meld_errorf("%s: cannot open: %s", path, strerror(saved));
    }
    *fd = f;
    return MELD_OK;
}

FILE *input_file_fopen(const char *path)
{
    int fd;
    if (input_file_open(path, &fd)) return NULL;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        meld_errorf("%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return fp;
}

int input_file_read_all(const char *path, size_t max_bytes, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd;
    if (input_file_open(path, &fd)) return MELD_ERR;
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? MELD_OK : meld_errorf("%s: cannot stat: %s", path, strerror(errno));
    if (rc == MELD_OK && (unsigned long long)st.st_size > max_bytes)
        rc = meld_errorf("%s: %lld bytes, more than the %zu this kind of file may have", path, (long long)st.st_size,
                         max_bytes);
    size_t n = rc == MELD_OK ? (size_t)st.st_size : 0, got = 0;
    uint8_t *buf = rc == MELD_OK ? meld_malloc(n, "file contents") : NULL;
    if (rc == MELD_OK && !buf) rc = meld_error_context("%s", path);
    /* The size can change under us (a file still being written): read what
     * the size promised, no more. */
    while (rc == MELD_OK && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = meld_errorf("%s: read error: %s", path, strerror(errno));
        else if (r == 0) rc = meld_errorf("%s: file shrank while being read (%zu of %zu bytes)", path, got, n);
        else got += (size_t)r;
    }
    close(fd);
    if (rc != MELD_OK) {
        free(buf);
        return MELD_ERR;
    }
    *data = buf;
    *size = n;
    return MELD_OK;
}
