/* Status codes and the error buffer.
 *
 * Library code never prints and never exits. A function that can fail
 * returns an int status (MELD_OK = 0, MELD_ERR = -1) or NULL, after writing
 * one line into a per-thread error buffer with meld_errorf(). The CLI reads
 * it with meld_error() and prints it. The buffer is the only mutable global
 * state besides the thread pool (it is _Thread_local, so workers do not race).
 *
 * Warnings (a truncated WAV whose samples are still usable, say) go to a
 * separate per-thread buffer; the caller may print meld_take_warning().
 */
#ifndef MELD_ERROR_H
#define MELD_ERROR_H

#include <stddef.h>

enum { MELD_OK = 0, MELD_ERR = -1 };

#if defined(__GNUC__)
#define MELD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MELD_PRINTF(a, b)
#endif

/* Sets the error message (printf-style) and returns MELD_ERR. The message
 * is kept to one line: control characters in it (from a file name, say)
 * are written as \n, \t or \xNN. */
int meld_errorf(const char *fmt, ...) MELD_PRINTF(1, 2);
/* Prepends "context: " to the current message (for callers adding the file
 * name or op name to an error raised deeper down). Returns MELD_ERR. */
int meld_error_context(const char *fmt, ...) MELD_PRINTF(1, 2);
/* The current message, "" if none. Valid until the next meld_errorf(). */
const char *meld_error(void);
void meld_error_clear(void);

/* Appends a warning line; meld_take_warning() returns and clears them
 * (NULL when there is none). */
void meld_warnf(const char *fmt, ...) MELD_PRINTF(1, 2);
const char *meld_take_warning(void);

/* Checked allocation: on failure sets "out of memory allocating N bytes
 * for WHAT" and returns NULL. meld_calloc zero-fills. Free with free(). */
void *meld_malloc(size_t bytes, const char *what);
void *meld_calloc(size_t count, size_t size, const char *what);
/* 64-byte aligned allocation (SIMD loads, cache lines); free with free(). */
void *meld_aligned_alloc(size_t bytes, const char *what);

#endif
