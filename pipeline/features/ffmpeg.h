/* Running the ffmpeg program as a child process.
 *
 * We do not decode H.264 or AAC ourselves: ffmpeg (Debian package `ffmpeg`)
 * turns a clip into raw frames (Y4M) and raw audio (16-bit PCM) on a pipe,
 * and everything after that is our C code.
 *
 *   - The child is started with posix_spawnp and an argument vector, never
 *     through a shell, so file names with spaces, quotes or '$' are passed
 *     as they are. stdin is /dev/null.
 *   - Its stdout and stderr are pipes, and so are the "sinks": fds 3, 4,
 *     ... in the child (ffmpeg writes to them as pipe:3, pipe:4, ...), each
 *     collected into a growing buffer with a size limit, so one run can
 *     produce many streams at once (frames, audio, counts of many clips).
 *     Every wait on them is a poll() bounded by the run's deadline; past it
 *     the child is killed (SIGKILL) and the run fails with "timed out".
 *   - stderr is drained while we read, so a chatty ffmpeg cannot block on a
 *     full pipe; its last 4 KB are kept, and a failure is reported as
 *         CLIP: ffmpeg failed (exit status 1): LAST NON-EMPTY STDERR LINE
 *   - When the program is not on PATH: "ffmpeg not found: install it with
 *     apt-get install ffmpeg".
 *
 * Usage (streaming stdout, e.g. into y4m_open_source with ffmpeg_read):
 *     FfmpegProc p;
 *     if (ffmpeg_start(&p, argv, "clip.mp4", 60.0, 0)) return MELD_ERR;
 *     ... ffmpeg_read(&p, buf, n) until it returns 0 ...
 *     return ffmpeg_finish(&p, 0);
 * On an error path call ffmpeg_finish(&p, 1) (kills a still-running child,
 * always reaps it and closes the pipes). Either way, ffmpeg_free_sinks(&p)
 * releases what the sinks collected.
 */
#ifndef MELD_PIPELINE_FFMPEG_H
#define MELD_PIPELINE_FFMPEG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FFMPEG_ERR_TAIL 4096
#define FFMPEG_MAX_SINKS 96

/* One extra output of the child: everything it wrote to its fd 3 + index. */
typedef struct {
    uint8_t *data;              /* len bytes (malloc'ed; NULL when nothing came) */
    size_t len, cap, max;       /* more than max bytes is an error */
    int fd;                     /* our read end; -1 once closed */
} FfmpegSink;

typedef struct {
    pid_t pid;                  /* 0 when not running */
    int out_fd, err_fd;         /* read ends; -1 once closed */
    char err_tail[FFMPEG_ERR_TAIL];   /* last bytes of stderr */
    size_t err_len;
    FfmpegSink *sinks;          /* n_sinks: the child's fds 3, 4, ... */
    int n_sinks;
    double deadline;            /* CLOCK_MONOTONIC seconds */
    double timeout_s;
    int timed_out;
    char clip[512];             /* for messages */
} FfmpegProc;

/* 1 if `program` (e.g. "ffmpeg") is an executable file on PATH (or a path
 * to one). */
int ffmpeg_available(const char *program);

/* Starts argv[0] (looked up on PATH) with argv (NULL-terminated).
 * aux_max > 0 opens fd 3 in the child as a second output pipe, collected
 * into p->sinks[0] (at most aux_max bytes, else an error). */
int ffmpeg_start(FfmpegProc *p, const char *const *argv, const char *clip, double timeout_s, size_t aux_max);

/* The same with n_sinks (0..FFMPEG_MAX_SINKS) collected outputs: the
 * child's fd 3 + i goes to p->sinks[i], at most sink_max[i] bytes. */
int ffmpeg_start_sinks(FfmpegProc *p, const char *const *argv, const char *clip, double timeout_s,
                       const size_t *sink_max, int n_sinks);

/* Frees the sinks' buffers (after ffmpeg_finish, once they are read). */
void ffmpeg_free_sinks(FfmpegProc *p);

/* Reads up to n bytes of the child's stdout: > 0 bytes, 0 at its end, -1
 * on timeout or error. Signature matches Y4mReadFn (ctx = the FfmpegProc). */
long ffmpeg_read(void *proc, void *buf, size_t n);

/* Reads stdout to its end into a malloc'ed buffer (at most max bytes). */
int ffmpeg_read_all(FfmpegProc *p, uint8_t **data, size_t *size, size_t max);

/* Closes stdout, drains stderr and the sinks to their end, reaps the child.
 * abandon = 0: the child must have exited with status 0, otherwise the
 * error names the clip and ffmpeg's last message line.
 * abandon = 1: we stopped reading early or hit an error ourselves: the
 * child is killed if still running and its status is ignored (MELD_OK). */
int ffmpeg_finish(FfmpegProc *p, int abandon);

/* The last non-empty line ffmpeg wrote to stderr ("" if none), skipping
 * generic trailers such as "Conversion failed!". */
const char *ffmpeg_last_line(const FfmpegProc *p, char *buf, size_t cap);

#endif
