/* Files the programs read and write, against hostile neighbours:
 *   input_file: a FIFO, a device or a folder where a file is expected is
 *     refused at once (never a hang), with a message naming it;
 *   atomic_file: a symlink planted at the temporary name is never followed,
 *     a special file at the target is never replaced, errors name the
 *     target, a full disk leaves the old file and no temporary one, orphans
 *     of dead processes are swept and those of live ones kept, two writers
 *     of one file leave one complete version, a writer killed by SIGTERM or
 *     SIGKILL leaves the old file complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/input_file.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/meld-files-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static const char *in_dir(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Files in dir whose name contains ".tmp.". */
static int count_temp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static int atomic_write_text(const char *path, const char *text)
{
    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    if (atomic_file_write(&f, text, strlen(text))) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}

/* A watchdog: a test that would hang dies instead. */
static void fail_on_hang(int sig)
{
    (void)sig;
    static const char msg[] = "timed out: a FIFO or device open blocked\n";
    if (write(2, msg, sizeof msg - 1)) {}
    _exit(3);
}

/* ---- input_file ---------------------------------------------------------- */

static void special_files_are_refused_without_blocking(void **state)
{
    (void)state;
    char fifo[128];
    in_dir("input.fifo", fifo, sizeof fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    signal(SIGALRM, fail_on_hang);
    alarm(10);
    int fd;
    /* Nobody writes to the FIFO: a plain open() would wait forever. */
    assert_int_equal(input_file_open(fifo, &fd), MELD_ERR);
    assert_non_null(strstr(meld_error(), "input.fifo: is a FIFO, not a regular file"));
    assert_null(input_file_fopen(fifo));
    uint8_t *data;
    size_t n;
    assert_int_equal(input_file_read_all("/dev/zero", 1 << 20, &data, &n), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/dev/zero: is a character device"));
    assert_int_equal(input_file_open(dir, &fd), MELD_ERR);
    assert_non_null(strstr(meld_error(), "is a folder"));
    alarm(0);
    char missing[128];
    assert_int_equal(input_file_open(in_dir("missing", missing, sizeof missing), &fd), MELD_ERR);
    assert_non_null(strstr(meld_error(), "missing: cannot open: No such file"));
    unlink(fifo);
}

static void read_all_reads_regular_files_and_caps_them(void **state)
{
    (void)state;
    char path[128];
    in_dir("ten.txt", path, sizeof path);
    write_text(path, "0123456789");
    uint8_t *data;
    size_t n;
    assert_int_equal(input_file_read_all(path, 10, &data, &n), MELD_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(data, "0123456789", 10);
    free(data);
    /* One byte over the cap: refused before anything is allocated. */
    assert_int_equal(input_file_read_all(path, 9, &data, &n), MELD_ERR);
    assert_null(data);
    assert_non_null(strstr(meld_error(), "ten.txt: 10 bytes, more than the 9"));
    int fd;
    assert_int_equal(input_file_open(path, &fd), MELD_OK);
    /* Blocking again: a read returns data, not EAGAIN. */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
}

/* ---- atomic_file: links, special targets, messages ---------------------- */

static void a_planted_symlink_is_never_followed(void **state)
{
    (void)state;
    char victim[128], out[128], tmp[160];
    in_dir("victim.txt", victim, sizeof victim);
    in_dir("out.npy", out, sizeof out);
    write_text(victim, "precious");
    /* The attacker knows our PID, hence our temporary name. */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(atomic_write_text(out, "result"), MELD_OK);
    assert_string_equal(read_text(victim), "precious");
    assert_string_equal(read_text(out), "result");
    struct stat st;
    assert_int_equal(lstat(out, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(count_temp_files(), 0);
    unlink(out);
    unlink(victim);
}

static void special_targets_are_not_replaced(void **state)
{
    (void)state;
    char fifo[128];
    in_dir("out.fifo", fifo, sizeof fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(atomic_write_text(fifo, "x"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "out.fifo: is a FIFO; refusing to replace it"));
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(count_temp_files(), 0);
    unlink(fifo);
    assert_int_equal(atomic_write_text(dir, "x"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "is a folder"));
}

/* A folder that cannot hold the temporary file (here: the "folder" is a
 * file, which stops root too): the message names x.npy, never the
 * temporary name. */
static void errors_name_the_target_not_the_temporary_file(void **state)
{
    (void)state;
    char plain[128], out[160];
    in_dir("plain.txt", plain, sizeof plain);
    write_text(plain, "a file, not a folder");
    snprintf(out, sizeof out, "%s/x.npy", plain);
    assert_int_equal(atomic_write_text(out, "x"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "plain.txt/x.npy: "));
    assert_non_null(strstr(meld_error(), "Not a directory"));
    assert_null(strstr(meld_error(), ".tmp."));
    unlink(plain);
}

/* Mode 0666 less the umask, as any file the user creates. */
static void new_files_get_the_umask_mode(void **state)
{
    (void)state;
    char out[128];
    in_dir("mode.txt", out, sizeof out);
    mode_t old = umask(027);
    assert_int_equal(atomic_write_text(out, "x"), MELD_OK);
    umask(old);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    unlink(out);
}

/* ---- atomic_file: a full disk, orphans ------------------------------------ */

static void a_full_disk_keeps_the_old_file_and_no_temporary(void **state)
{
    (void)state;
    char out[128];
    in_dir("report.html", out, sizeof out);
    assert_int_equal(atomic_write_text(out, "old complete report"), MELD_OK);
    static char big[64 * 1024];
    memset(big, 'x', sizeof big - 1);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 8192;   /* the disk is "full" after 8 KB */
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = atomic_write_text(out, big);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, handler);
    assert_int_equal(rc, MELD_ERR);
    assert_non_null(strstr(meld_error(), "report.html: write failed"));
    assert_string_equal(read_text(out), "old complete report");
    assert_int_equal(count_temp_files(), 0);
    unlink(out);
}

/* The PID of a process that has exited (and been reaped). */
static long dead_pid(void)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

static void orphans_of_dead_processes_are_swept(void **state)
{
    (void)state;
    char out[128], p[200];
    in_dir("x.npy", out, sizeof out);
    long dead = dead_pid(), live = (long)getppid();
    snprintf(p, sizeof p, "%s.tmp.%ld", out, dead);
    write_text(p, "orphan");
    snprintf(p, sizeof p, "%s.tmp.%ld", out, live);
    write_text(p, "someone is writing this right now");
    in_dir("other.npy.tmp.1x", p, sizeof p);   /* not a PID: not ours to remove */
    write_text(p, "keep");
    in_dir("y.npy", out, sizeof out);
    snprintf(p, sizeof p, "%s.tmp.%ld", out, dead);
    write_text(p, "orphan of another target");
    in_dir("x.npy", out, sizeof out);
    assert_int_equal(atomic_file_sweep(out), 1);   /* only x.npy's dead one */
    assert_int_equal(count_temp_files(), 3);
    assert_int_equal(atomic_file_sweep_folder(dir), 1);   /* y.npy's */
    assert_int_equal(count_temp_files(), 2);
    snprintf(p, sizeof p, "%s.tmp.%ld", out, live);
    assert_string_equal(read_text(p), "someone is writing this right now");
    unlink(p);
    in_dir("other.npy.tmp.1x", p, sizeof p);
    unlink(p);
}

/* ---- atomic_file: neighbours and signals ----------------------------------- */

/* Each writer rewrites the file many times with its own complete text. */
static void two_writers_leave_one_complete_version(void **state)
{
    (void)state;
    char out[128];
    in_dir("shared.txt", out, sizeof out);
    static char text[2][20000];
    for (int w = 0; w < 2; w++) {
        memset(text[w], 'a' + w, sizeof text[w] - 1);
        text[w][sizeof text[w] - 1] = '\0';
    }
    fflush(NULL);
    pid_t pid[2];
    for (int w = 0; w < 2; w++) {
        pid[w] = fork();
        assert_true(pid[w] >= 0);
        if (pid[w] == 0) {
            for (int i = 0; i < 40; i++)
                if (atomic_write_text(out, text[w])) _exit(1);
            _exit(0);
        }
    }
    /* Meanwhile a reader only ever sees a whole version. */
    for (int i = 0; i < 200; i++) {
        const char *now = read_text(out);
        if (now && *now) assert_true(!strcmp(now, text[0]) || !strcmp(now, text[1]));
    }
    for (int w = 0; w < 2; w++) {
        int status;
        assert_int_equal(waitpid(pid[w], &status, 0), pid[w]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const char *end = read_text(out);
    assert_true(!strcmp(end, text[0]) || !strcmp(end, text[1]));
    assert_int_equal(count_temp_files(), 0);
    unlink(out);
}

/* A writer stopped by a signal in the middle of a write: the target holds
 * a complete version; its orphan is swept on the next run. */
static void killed_writers_leave_a_complete_file(void **state)
{
    (void)state;
    const int sigs[] = {SIGTERM, SIGINT, SIGKILL};
    char out[128];
    in_dir("ckpt.bin", out, sizeof out);
    static char text[1 << 16];
    memset(text, 'n', sizeof text - 1);
    for (size_t s = 0; s < sizeof sigs / sizeof sigs[0]; s++) {
        assert_int_equal(atomic_write_text(out, "old"), MELD_OK);
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            signal(sigs[s], SIG_DFL);
            AtomicFile f;
            if (atomic_file_open(&f, out)) _exit(1);
            for (int i = 0; i < 4; i++) atomic_file_write(&f, text, 1000);
            fflush(f.fp);
            if (write(ready[1], "w", 1) != 1) _exit(1);   /* mid-write now */
            for (;;) pause();
        }
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        assert_int_equal(kill(pid, sigs[s]), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == sigs[s]);
        close(ready[0]);
        close(ready[1]);
        assert_string_equal(read_text(out), "old");
        assert_int_equal(count_temp_files(), 1);
        assert_int_equal(atomic_file_sweep(out), 1);
        assert_int_equal(count_temp_files(), 0);
    }
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(special_files_are_refused_without_blocking),
        cmocka_unit_test(read_all_reads_regular_files_and_caps_them),
        cmocka_unit_test(a_planted_symlink_is_never_followed),
        cmocka_unit_test(special_targets_are_not_replaced),
        cmocka_unit_test(errors_name_the_target_not_the_temporary_file),
        cmocka_unit_test(new_files_get_the_umask_mode),
        cmocka_unit_test(a_full_disk_keeps_the_old_file_and_no_temporary),
        cmocka_unit_test(orphans_of_dead_processes_are_swept),
        cmocka_unit_test(two_writers_leave_one_complete_version),
        cmocka_unit_test(killed_writers_leave_a_complete_file),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
