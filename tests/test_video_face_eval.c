/* Scoring detections against labelled boxes (video/face_eval.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensor/error.h"
#include "video/face_eval.h"

static void iou_of_boxes(void **state)
{
    (void)state;
    ImageRect a = {0, 0, 10, 10};
    assert_true(rect_iou(a, a) == 1.0);
    assert_true(rect_iou(a, (ImageRect){10, 0, 10, 10}) == 0.0);              /* touching */
    assert_true(rect_iou(a, (ImageRect){5, 0, 10, 10}) == 50.0 / 150.0);      /* half overlap */
    assert_true(rect_iou(a, (ImageRect){2, 2, 6, 6}) == 36.0 / 100.0);        /* inside */
    assert_true(rect_iou((ImageRect){0, 0, 0, 0}, (ImageRect){0, 0, 0, 0}) == 0.0);
    const ImageRect truth[] = {{0, 0, 10, 10}, {100, 100, 20, 20}};
    const ImageRect found[] = {{1, 1, 10, 10}, {50, 50, 5, 5}};
    assert_int_equal(faces_found(truth, 2, found, 2, 0.5), 1);
    assert_int_equal(faces_found(truth, 2, found, 0, 0.5), 0);
}

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/meld-boxes-%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void reads_box_lists(void **state)
{
    (void)state;
    char *path = write_tmp("# comment\n\na.pgm truth 2 1 2 3 4 5 6 7 8\nb.ppm faces 0\n");
    BoxList l;
    if (box_list_read(path, &l)) fail_msg("%s", meld_error());
    assert_int_equal(l.n, 2);
    const BoxRecord *r = box_list_find(&l, "a.pgm", "truth");
    assert_non_null(r);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->boxes[1].x, 5);
    assert_int_equal(r->boxes[1].height, 8);
    assert_int_equal(box_list_find(&l, "b.ppm", "faces")->n, 0);
    assert_null(box_list_find(&l, "a.pgm", "faces"));
    box_list_free(&l);
    static const char *bad[][2] = {
        {"a.pgm truth 1 1 2 3\n", ":1: a.pgm: expected 1 boxes"},
        {"a.pgm truth 1 1 2 3 4 5\n", ":1: a.pgm: more numbers than 1 boxes"},
        {"\na.pgm truth x\n", ":2: expected FILE KIND COUNT"},
        {"a.pgm truth 1 1 -2 3 4\n", "non-negative"},
        {"a.pgm\n", "expected FILE KIND COUNT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        path = write_tmp(bad[i][0]);
        assert_int_equal(box_list_read(path, &l), MELD_ERR);
        if (!strstr(meld_error(), bad[i][1]) || !strstr(meld_error(), path))
            fail_msg("'%s': error '%s' lacks '%s'", bad[i][0], meld_error(), bad[i][1]);
        assert_null(l.r);
    }
    unlink(path);
    assert_int_equal(box_list_read("/nonexistent/boxes.txt", &l), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/nonexistent/boxes.txt: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iou_of_boxes),
        cmocka_unit_test(reads_box_lists),
    };
    return cmocka_run_group_tests_name("video: face eval", tests, NULL, NULL);
}
