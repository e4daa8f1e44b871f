/* tests/deps.sh (what `make deps` runs) with stand-ins for dpkg-query,
 * apt-get, id and sudo on a PATH of their own: nothing is installed when
 * every package is there; root installs directly; another user goes
 * through sudo; without sudo it says what is needed and fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64], out[8192], script[1024];

static int sh(const char *fmt, ...)
{
    char text[4096], cmd[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && { %s; } 2>&1", dir, text);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A stand-in program bin/NAME running BODY. */
static void fake(const char *name, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "%s/bin/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
}

static void expect(const char *what)
{
    if (!strstr(out, what)) fail_msg("expected '%s' in:\n%s", what, out);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/meld-deps-XXXXXX");
    if (!mkdtemp(dir) || !getcwd(script, sizeof script - 32)) return -1;
    strcat(script, "/tests/deps.sh");
    /* only these programs on PATH: the real grep and env, stand-ins for the rest */
    return sh("mkdir bin && ln -s \"$(command -v grep)\" bin/grep && ln -s \"$(command -v env)\" bin/env");
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* dpkg-query: "ok installed" for the packages listed in installed.txt */
static void installed(const char *packages)
{
    char path[160];
    snprintf(path, sizeof path, "%s/installed.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", packages);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(sh("rm -f log.txt"), 0);
    fake("dpkg-query", "for p; do :; done; grep -qx \"$p\" installed.txt && printf 'install ok installed'; exit 0");
    fake("apt-get", "echo \"apt-get $*\" >> log.txt");
}

static int deps(void)
{
    return sh("PATH=%s/bin /bin/sh %s libcmocka-dev ffmpeg opencv-data; echo \"[log]\"; cat log.txt 2>/dev/null", dir,
              script);
}

static void nothing_to_do_when_everything_is_installed(void **state)
{
    (void)state;
    installed("libcmocka-dev\nffmpeg\nopencv-data");
    fake("id", "echo 1000");
    deps();
    expect("deps: installed already: libcmocka-dev ffmpeg opencv-data");
    expect("[log]\n");
    if (strstr(out, "apt-get")) fail_msg("apt-get ran:\n%s", out);
}

static void root_installs_what_is_missing_directly(void **state)
{
    (void)state;
    installed("libcmocka-dev");
    fake("id", "echo 0");
    assert_int_equal(sh("rm -f bin/sudo"), 0);
    deps();
    expect("deps: installing: ffmpeg opencv-data");
    expect("apt-get update\napt-get install -y ffmpeg opencv-data\n");
}

static void a_user_goes_through_sudo(void **state)
{
    (void)state;
    installed("");
    fake("id", "echo 1000");
    fake("sudo", "echo sudo >> log.txt; exec \"$@\"");
    deps();
    expect("sudo\napt-get update\nsudo\napt-get install -y libcmocka-dev ffmpeg opencv-data\n");
}

static void without_root_or_sudo_it_says_what_to_do(void **state)
{
    (void)state;
    installed("ffmpeg");
    fake("id", "echo 1000");
    assert_int_equal(sh("rm -f bin/sudo"), 0);
    deps();
    expect("deps: missing: libcmocka-dev opencv-data; installing them needs root: run this as root, or install sudo");
    assert_int_equal(sh("PATH=%s/bin /bin/sh %s libcmocka-dev ffmpeg opencv-data", dir, script), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_to_do_when_everything_is_installed),
        cmocka_unit_test(root_installs_what_is_missing_directly),
        cmocka_unit_test(a_user_goes_through_sudo),
        cmocka_unit_test(without_root_or_sudo_it_says_what_to_do),
    };
    return cmocka_run_group_tests_name("build: make deps (tests/deps.sh)", tests, setup, teardown);
}
