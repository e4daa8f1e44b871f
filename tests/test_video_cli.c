/* `meld frames` end to end (needs MELD_BIN, the built ./meld). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tensor/error.h"
#include "video/image.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/meld_video_cli_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs "ENV MELD_BIN frames ARGS" through sh, stdout and stderr into files;
 * returns the exit status. */
static int run(const char *env, const char *args, char *out, size_t out_cap, char *err, size_t err_cap)
{
    const char *bin = getenv("MELD_BIN");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' frames %s > out.txt 2> err.txt", tmpdir, env, bin, args);
    int st = system(cmd);
    char path[512];
    char *bufs[2] = {out, err};
    size_t caps[2] = {out_cap, err_cap};
    const char *names[2] = {"out.txt", "err.txt"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        FILE *fp = fopen(path, "rb");
        size_t n = fp ? fread(bufs[i], 1, caps[i] - 1, fp) : 0;
        bufs[i][n] = '\0';
        if (fp) fclose(fp);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void frames_on_a_photograph(void **state)
{
    (void)state;
    if (!getenv("MELD_BIN")) {
        print_message("skipped: MELD_BIN is not set (run through make test)\n");
        skip();
    }
    char out[4096], err[4096], cwd[1024], args[2048];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(args, sizeof args, "'%s/tests/fixtures/video/hopper_rgb.ppm' --k 2 --size 48 --out crops", cwd);
    int rc = run("", args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(out, "2 sampled, 48x48 RGB crops"));
    assert_non_null(strstr(out, "frame 0: "));
    assert_non_null(strstr(out, "of 2 frames without a face (centre crop)"));
    for (int i = 0; i < 2; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/crops/hopper_rgb_%d.ppm", tmpdir, i);
        Image im;
        if (pnm_read(path, &im)) fail_msg("%s", meld_error());
        assert_int_equal(im.width, 48);
        assert_int_equal(im.height, 48);
        assert_int_equal(im.channels, 3);
        image_free(&im);
    }
    /* issue 17's photograph: a 548x342 frame (here cut to 400x342) whose
     * faces are far below the old 180-pixel search; OpenCV's boxes are
     * 75x75 at 146,66 and 36x36 at 127,94 (tests/fixtures/video/opencv_faces.txt) */
    snprintf(args, sizeof args, "'%s/tests/fixtures/video/messi_grey.pgm' --k 1", cwd);
    rc = run("", args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    if (!strstr(out, "frame 0: face 75x75 at 146,66 (2 found)")) fail_msg("%s", out);
    assert_non_null(strstr(out, "0 of 1 frames without a face"));
    /* a video frame: the face OpenCV finds, 78x78 at 146,62 */
    snprintf(args, sizeof args, "'%s/tests/fixtures/video/megamind120_grey.pgm' --k 1", cwd);
    rc = run("", args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    if (!strstr(out, "frame 0: face 78x78 at 146,62 (1 found)")) fail_msg("%s", out);
    /* grey crops, no face detection */
    snprintf(args, sizeof args, "'%s/tests/fixtures/video/coffee_rgb.ppm' --k 1 --grey --no-face", cwd);
    rc = run("", args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(out, "frame 0: no face, centre crop 100x100 at 25,0 -> runs/frames/coffee_rgb/coffee_rgb_0.pgm"));
    assert_non_null(strstr(out, "1 of 1 frames without a face"));
}

static void frames_usage_and_errors(void **state)
{
    (void)state;
    if (!getenv("MELD_BIN")) {
        print_message("skipped: MELD_BIN is not set (run through make test)\n");
        skip();
    }
    char out[4096], err[4096];
    assert_int_equal(run("", "--help", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "--k K"));
    assert_int_equal(run("", "", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run("", "x.ppm --size 3", out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "meld frames: --size"));
    assert_int_equal(run("", "x.ppm --bogus", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run("", "missing.ppm", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "meld frames: missing.ppm: no such file"));
    /* an MP4 without ffmpeg on PATH says how to get it */
    char mp4[512];
    snprintf(mp4, sizeof mp4, "%s/clip.mp4", tmpdir);
    FILE *fp = fopen(mp4, "wb");
    assert_non_null(fp);
    fputs("....ftypisom", fp);
    fclose(fp);
    assert_int_equal(run("PATH=/nonexistent-meld-test", "clip.mp4", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "meld frames: clip.mp4: ffmpeg not found: install it with apt-get install ffmpeg"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_on_a_photograph),
        cmocka_unit_test(frames_usage_and_errors),
    };
    return cmocka_run_group_tests_name("video: cli", tests, setup_dir, remove_dir);
}
