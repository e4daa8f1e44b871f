/* Atomic file replacement: write everything to "PATH.tmp.PID", fsync it,
 * rename it over PATH, fsync the folder. A crash at any moment leaves either
 * the old complete file or the new complete file, never a half-written one.
 *
 *     AtomicFile f;
 *     if (atomic_file_open(&f, path)) return MELD_ERR;
 *     ... fwrite(..., f.fp) ...
 *     return atomic_file_commit(&f);   // checks every write; on error removes the temp file
 *
 * atomic_file_abort() discards the temp file (on an error path).
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

#endif
