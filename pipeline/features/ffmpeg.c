/* pipe2 and O_CLOEXEC pipes are GNU/Linux extensions. */
#define _GNU_SOURCE
#include "pipeline/features/ffmpeg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tensor/error.h"

extern char **environ;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int ffmpeg_available(const char *program)
{
    if (strchr(program, '/')) return is_executable(program);
    const char *path = getenv("PATH");
    if (!path) return 0;
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        /* an empty PATH entry means the current folder */
        int n = len ? snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, program)
                    : snprintf(buf, sizeof buf, "./%s", program);
        if (n > 0 && (size_t)n < sizeof buf && is_executable(buf)) return 1;
        path += len + (colon ? 1 : 0);
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Keeps the last FFMPEG_ERR_TAIL bytes of stderr. */
static void keep_err(FfmpegProc *p, const char *data, size_t n)
{
    if (n >= FFMPEG_ERR_TAIL) {
        memcpy(p->err_tail, data + n - FFMPEG_ERR_TAIL, FFMPEG_ERR_TAIL);
        p->err_len = FFMPEG_ERR_TAIL;
        return;
    }
    if (p->err_len + n > FFMPEG_ERR_TAIL) {
        size_t drop = p->err_len + n - FFMPEG_ERR_TAIL;
        memmove(p->err_tail, p->err_tail + drop, p->err_len - drop);
        p->err_len -= drop;
    }
    memcpy(p->err_tail + p->err_len, data, n);
    p->err_len += n;
}

/* Lines ffmpeg prints after the real problem, which explain nothing alone. */
static int is_generic_trailer(const char *line, size_t len)
{
    static const char *const generic[] = {"Conversion failed!", "To ignore this, add a trailing '?' to the map."};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (len == strlen(generic[i]) && !memcmp(line, generic[i], len)) return 1;
    return 0;
}

const char *ffmpeg_last_line(const FfmpegProc *p, char *buf, size_t cap)
{
    /* walk back line by line, skipping blank lines and generic trailers */
    size_t end = p->err_len, start = end;
    for (;;) {
        while (end > 0 && (p->err_tail[end - 1] == '\n' || p->err_tail[end - 1] == '\r' || p->err_tail[end - 1] == ' '))
            end--;
        start = end;
        while (start > 0 && p->err_tail[start - 1] != '\n' && p->err_tail[start - 1] != '\r') start--;
        if (start == 0 || !is_generic_trailer(p->err_tail + start, end - start)) break;
        end = start;
    }
    size_t len = end - start;
    if (len >= cap) len = cap - 1;
    memcpy(buf, p->err_tail + start, len);
    buf[len] = '\0';
    return buf;
}

enum { FFMPEG_SINK_AT_ONCE = 32 << 20 };

static int grow_sink(FfmpegProc *p, FfmpegSink *k, size_t need)
{
    if (need > k->max)
        return meld_errorf("%s: ffmpeg output %d is larger than %zu bytes", p->clip, (int)(k - p->sinks) + 3, k->max);
    if (need <= k->cap) return MELD_OK;
    /* A small limit is usually the size expected (a clip's frames): take it
     * at once rather than copy the data at every doubling. */
    size_t cap = k->cap ? k->cap : k->max <= FFMPEG_SINK_AT_ONCE ? k->max : 65536;
    while (cap < need) cap *= 2;
    if (cap > k->max) cap = k->max;
    uint8_t *g = realloc(k->data, cap);
    if (!g) return meld_errorf("%s: out of memory reading ffmpeg output", p->clip);
    k->data = g;
    k->cap = cap;
    return MELD_OK;
}

/* Reads what is available on stderr (sink == NULL) or a sink (called when
 * poll says so). Returns MELD_ERR only for an over-long sink. */
static int drain_side(FfmpegProc *p, int *fd, FfmpegSink *sink)
{
    char buf[65536];
    ssize_t got = read(*fd, buf, sink ? sizeof buf : 8192);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return MELD_OK;
    if (got <= 0) {
        close_fd(fd);
        return MELD_OK;
    }
    if (!sink) {
        keep_err(p, buf, (size_t)got);
        return MELD_OK;
    }
    if (grow_sink(p, sink, sink->len + (size_t)got)) return MELD_ERR;
    memcpy(sink->data + sink->len, buf, (size_t)got);
    sink->len += (size_t)got;
    return MELD_OK;
}

static int timeout_error(FfmpegProc *p)
{
    if (p->pid > 0) kill(p->pid, SIGKILL);
    p->timed_out = 1;
    return meld_errorf("%s: ffmpeg timed out after %g s", p->clip, p->timeout_s);
}

/* Waits until `want` (an fd, or -1 for none) is readable, serving stderr
 * and the sinks meanwhile. Returns 1 when `want` is readable (or at its
 * end), 0 when want == -1 and every side pipe has reached its end, -1 on
 * error. */
static int wait_readable(FfmpegProc *p, int want)
{
    struct pollfd fds[FFMPEG_MAX_SINKS + 2];
    int owner[FFMPEG_MAX_SINKS + 2];   /* -2: want, -1: stderr, i: sink i */
    for (;;) {
        int n = 0;
        if (want >= 0) { owner[n] = -2; fds[n++] = (struct pollfd){want, POLLIN, 0}; }
        if (p->err_fd >= 0) { owner[n] = -1; fds[n++] = (struct pollfd){p->err_fd, POLLIN, 0}; }
        for (int i = 0; i < p->n_sinks; i++)
            if (p->sinks[i].fd >= 0) { owner[n] = i; fds[n++] = (struct pollfd){p->sinks[i].fd, POLLIN, 0}; }
        if (n == 0) return 0;
        double left = p->deadline - now_s();
        if (left <= 0) return timeout_error(p);
        int ms = left > 1e6 ? 1000000000 : (int)(left * 1000.0) + 1;
        int r = poll(fds, (nfds_t)n, ms);
        if (r < 0) {
            if (errno == EINTR) continue;
            return meld_errorf("%s: poll on ffmpeg's pipes failed: %s", p->clip, strerror(errno));
        }
        if (r == 0) continue; /* the deadline check above fires next */
        int want_ready = 0;
        for (int j = 0; j < n; j++) {
            if (!fds[j].revents) continue;
            if (owner[j] == -2) want_ready = 1;
            else if (owner[j] == -1) drain_side(p, &p->err_fd, NULL);
            else if (drain_side(p, &p->sinks[owner[j]].fd, &p->sinks[owner[j]])) return MELD_ERR;
        }
        if (want_ready) return 1;
    }
}

long ffmpeg_read(void *proc, void *buf, size_t n)
{
    FfmpegProc *p = proc;
    if (p->out_fd < 0 || n == 0) return 0;
    for (;;) {
        int r = wait_readable(p, p->out_fd);
        if (r < 0) return -1;
        ssize_t got = read(p->out_fd, buf, n);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got < 0) return meld_errorf("%s: reading ffmpeg's output: %s", p->clip, strerror(errno));
        return (long)got;
    }
}

int ffmpeg_read_all(FfmpegProc *p, uint8_t **data, size_t *size, size_t max)
{
    *data = NULL;
    *size = 0;
    size_t cap = 0, len = 0;
    uint8_t *b = NULL;
    for (;;) {
        if (len == cap) {
            if (cap >= max) {
                free(b);
                return meld_errorf("%s: ffmpeg output larger than %zu bytes", p->clip, max);
            }
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > max) ncap = max;
            uint8_t *g = realloc(b, ncap);
            if (!g) {
                free(b);
                return meld_errorf("%s: out of memory reading ffmpeg output", p->clip);
            }
            b = g;
            cap = ncap;
        }
        long got = ffmpeg_read(p, b + len, cap - len);
        if (got < 0) {
            free(b);
            return MELD_ERR;
        }
        if (got == 0) break;
        len += (size_t)got;
    }
    *data = b;
    *size = len;
    return MELD_OK;
}

void ffmpeg_free_sinks(FfmpegProc *p)
{
    for (int i = 0; i < p->n_sinks && p->sinks; i++) free(p->sinks[i].data);
    free(p->sinks);
    p->sinks = NULL;
    p->n_sinks = 0;
}

static void close_pipes(int (*fds)[2], int n)
{
    for (int i = 0; i < n; i++) {
        close_fd(&fds[i][0]);
        close_fd(&fds[i][1]);
    }
}

/* pipes[0] is stdout, pipes[1] stderr, pipes[2 + i] sink i: [0] our read
 * end, [1] the child's write end. Both close-on-exec. The child's ends are
 * moved above every fd the child will receive (0 .. 2 + n_sinks), so no
 * dup2 of the spawn overwrites an end it has yet to duplicate. */
static int make_pipes(int (*pipes)[2], int n, const char *clip)
{
    for (int i = 0; i < n; i++) pipes[i][0] = pipes[i][1] = -1;
    for (int i = 0; i < n; i++) {
        if (pipe2(pipes[i], O_CLOEXEC)) {
            int e = errno;
            close_pipes(pipes, n);
            return meld_errorf("%s: cannot create pipes for ffmpeg: %s", clip, strerror(e));
        }
        int high = fcntl(pipes[i][1], F_DUPFD_CLOEXEC, 1 + n);
        if (high < 0) {
            int e = errno;
            close_pipes(pipes, n);
            return meld_errorf("%s: cannot create pipes for ffmpeg: %s", clip, strerror(e));
        }
        close(pipes[i][1]);
        pipes[i][1] = high;
    }
    return MELD_OK;
}

int ffmpeg_start(FfmpegProc *p, const char *const *argv, const char *clip, double timeout_s, size_t aux_max)
{
    return ffmpeg_start_sinks(p, argv, clip, timeout_s, &aux_max, aux_max ? 1 : 0);
}

int ffmpeg_start_sinks(FfmpegProc *p, const char *const *argv, const char *clip, double timeout_s,
                       const size_t *sink_max, int n_sinks)
{
    memset(p, 0, sizeof *p);
    p->out_fd = p->err_fd = -1;
    snprintf(p->clip, sizeof p->clip, "%s", clip);
    p->timeout_s = timeout_s;
    p->deadline = now_s() + timeout_s;
    if (n_sinks < 0 || n_sinks > FFMPEG_MAX_SINKS)
        return meld_errorf("%s: %d ffmpeg outputs asked (at most %d)", clip, n_sinks, FFMPEG_MAX_SINKS);
    if (!ffmpeg_available(argv[0]))
        return meld_errorf("%s: %s not found: install it with apt-get install ffmpeg", clip, argv[0]);
    int pipes[FFMPEG_MAX_SINKS + 2][2];
    if (make_pipes(pipes, 2 + n_sinks, clip)) return MELD_ERR;
    if (n_sinks) {
        p->sinks = meld_calloc((size_t)n_sinks, sizeof *p->sinks, "ffmpeg outputs");
        if (!p->sinks) {
            close_pipes(pipes, 2 + n_sinks);
            return MELD_ERR;
        }
        p->n_sinks = n_sinks;
        for (int i = 0; i < n_sinks; i++) p->sinks[i] = (FfmpegSink){.max = sink_max[i], .fd = -1};
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    for (int i = 0; i < 2 + n_sinks; i++) posix_spawn_file_actions_adddup2(&fa, pipes[i][1], 1 + i);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 2 + n_sinks; i++) close_fd(&pipes[i][1]);
    if (rc != 0) {
        close_pipes(pipes, 2 + n_sinks);
        ffmpeg_free_sinks(p);
        if (rc == ENOENT) return meld_errorf("%s: %s not found: install it with apt-get install ffmpeg", clip, argv[0]);
        return meld_errorf("%s: cannot start %s: %s", clip, argv[0], strerror(rc));
    }
    p->pid = pid;
    p->out_fd = pipes[0][0];
    p->err_fd = pipes[1][0];
    for (int i = 0; i < n_sinks; i++) p->sinks[i].fd = pipes[2 + i][0];
    return MELD_OK;
}

/* Waits for the child with the deadline; kills it when abandon or late. */
static int reap(FfmpegProc *p, int abandon, int *status)
{
    if (abandon) kill(p->pid, SIGKILL);
    for (;;) {
        pid_t r = waitpid(p->pid, status, WNOHANG);
        if (r == p->pid) break;
        if (r < 0 && errno != EINTR) {
            p->pid = 0;
            return meld_errorf("%s: waiting for ffmpeg: %s", p->clip, strerror(errno));
        }
        if (now_s() > p->deadline && !p->timed_out) {
            kill(p->pid, SIGKILL);
            p->timed_out = 1;
        }
        struct timespec nap = {0, 2000000}; /* 2 ms */
        nanosleep(&nap, NULL);
    }
    p->pid = 0;
    return MELD_OK;
}

int ffmpeg_finish(FfmpegProc *p, int abandon)
{
    if (p->pid <= 0) {
        close_fd(&p->out_fd);
        close_fd(&p->err_fd);
        for (int i = 0; i < p->n_sinks; i++) close_fd(&p->sinks[i].fd);
        return abandon ? MELD_OK : meld_errorf("%s: ffmpeg was not running", p->clip);
    }
    /* Closing our end of stdout makes a child still writing get EPIPE. */
    close_fd(&p->out_fd);
    int rc = MELD_OK;
    if (!abandon) rc = wait_readable(p, -1) < 0 ? MELD_ERR : MELD_OK;
    close_fd(&p->err_fd);
    for (int i = 0; i < p->n_sinks; i++) close_fd(&p->sinks[i].fd);
    int status = 0;
    if (reap(p, abandon || rc != MELD_OK, &status)) return abandon ? MELD_OK : MELD_ERR;
    if (abandon || rc != MELD_OK) return abandon ? MELD_OK : MELD_ERR;
    if (p->timed_out) return meld_errorf("%s: ffmpeg timed out after %g s", p->clip, p->timeout_s);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return MELD_OK;
    char line[512];
    ffmpeg_last_line(p, line, sizeof line);
    if (WIFSIGNALED(status))
        return meld_errorf("%s: ffmpeg killed by signal %d%s%s", p->clip, WTERMSIG(status), line[0] ? ": " : "", line);
    return meld_errorf("%s: ffmpeg failed (exit status %d): %s", p->clip, WEXITSTATUS(status),
                       line[0] ? line : "(no message)");
}
