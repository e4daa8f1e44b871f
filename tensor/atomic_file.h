/* Atomic file replacement: write everything to "PATH.tmp.PID" in PATH's
 * folder, fsync it, rename it over PATH, fsync the folder. A crash at any
 * moment leaves either the old complete file or the new complete file,
 * never a half-written one; a full disk or any other write error leaves
 * the old file untouched and removes the temporary one.
 *
 *     AtomicFile f;
 *     if (atomic_file_open(&f, path)) return MELD_ERR;
 *     ... atomic_file_write(&f, ...) or fwrite(..., f.fp) ...
 *     return atomic_file_commit(&f);   // checks every write; on error removes the temp file
 *
 * atomic_file_abort() discards the temp file (on an error path).
 *
 * Safety: the temporary file is created with O_CREAT | O_EXCL | O_NOFOLLOW
 * (mode 0666 less the umask, as any new file), so a symlink planted at its
 * name is never followed and a file there is never overwritten; PATH
 * itself is refused when it exists and is not a regular file (a FIFO, a
 * device, a folder: `--out /dev/null` must not replace /dev/null). Errors
 * name PATH, the file the caller asked for, not the temporary name.
 *
 * A process killed while writing (kill -9, a power cut) leaves its
 * PATH.tmp.PID behind. atomic_file_sweep() removes those of processes that
 * no longer run; commands call it once per output before writing (a folder
 * of thousands of shards would make a scan per write quadratic).
 */
#ifndef MELD_ATOMIC_FILE_H
#define MELD_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *fp;
    char path[1024];
    char tmp_path[1100];
} AtomicFile;

int atomic_file_open(AtomicFile *f, const char *path);
/* Checked fwrite into f->fp: sets an error naming the file on a short write. */
int atomic_file_write(AtomicFile *f, const void *data, size_t bytes);
int atomic_file_commit(AtomicFile *f);
void atomic_file_abort(AtomicFile *f);

/* Removes the orphaned temporary files of path: PATH.tmp.PID whose process
 * is gone. Returns how many it removed (an unreadable folder: none). */
int atomic_file_sweep(const char *path);
/* The same for every file of the folder (DIR/NAME.tmp.PID), for folders
 * the program owns: a cache, a run. */
int atomic_file_sweep_folder(const char *dir);

#endif
