/* Opening the files a program reads (CSV, checkpoints, WAV, Y4M, .npy,
 * cascades, caches, logs).
 *
 * A path where a file is expected may name something else: a FIFO, whose
 * open() blocks until a writer comes (forever, in practice), a device that
 * streams without end (/dev/zero, /dev/urandom), a socket or a folder. So
 * the file is opened with O_NONBLOCK (a FIFO then opens at once), checked
 * with fstat, refused with "PATH: is a FIFO, not a regular file" unless it
 * is a regular file, and only then switched back to blocking reads. Checking
 * the descriptor itself, not the name beforehand, leaves no window for the
 * name to be swapped between the check and the open.
 *
 *     int fd;
 *     if (input_file_open(path, &fd)) return MELD_ERR;   // message set
 *
 * Every function sets the error (tensor/error.h) naming the path and
 * returns MELD_ERR, or NULL, on failure.
 */
#ifndef MELD_INPUT_FILE_H
#define MELD_INPUT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A read-only descriptor of the regular file at path (O_CLOEXEC). */
int input_file_open(const char *path, int *fd);
/* The same as a FILE* in "rb" mode. */
FILE *input_file_fopen(const char *path);
/* Reads the whole regular file into *data (meld_malloc'd, free()), at most
 * max_bytes (larger files are refused before anything is allocated). */
int input_file_read_all(const char *path, size_t max_bytes, uint8_t **data, size_t *size);
/* What a file of this st_mode is, for messages: "a FIFO", "a folder", ... */
const char *input_file_kind(unsigned mode);

#endif
