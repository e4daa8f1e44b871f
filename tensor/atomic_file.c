#include "tensor/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tensor/error.h"

int atomic_file_open(AtomicFile *f, const char *path)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path) return meld_errorf("%s: path too long", path);
    strcpy(f->path, path);
    snprintf(f->tmp_path, sizeof f->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp_path, "wb");
    if (!f->fp) return meld_errorf("%s: cannot create: %s", f->tmp_path, strerror(errno));
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
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
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
        remove(f->tmp_path);
        return meld_errorf("%s: write failed: %s", f->path, strerror(saved));
    }
    if (rename(f->tmp_path, f->path) != 0) {
        saved = errno;
        remove(f->tmp_path);
        return meld_errorf("%s: cannot replace: %s", f->path, strerror(saved));
    }
    sync_parent_dir(f->path);
    return MELD_OK;
}

void atomic_file_abort(AtomicFile *f)
{
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    if (f->tmp_path[0]) remove(f->tmp_path);
}
