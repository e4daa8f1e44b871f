/* Metrics against scikit-learn (tests/fixtures/pipeline/metrics_cases.txt,
 * made by tests/fixtures/make_metrics_fixtures.py). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline/train/metrics.h"

#define FIXTURE "tests/fixtures/pipeline/metrics_cases.txt"

static void read_ints(FILE *f, const char *key, int *v, int n)
{
    char word[32];
    assert_int_equal(fscanf(f, "%31s", word), 1);
    assert_string_equal(word, key);
    for (int i = 0; i < n; i++) assert_int_equal(fscanf(f, "%d", &v[i]), 1);
}

static void read_doubles(FILE *f, const char *key, double *v, int n)
{
    char word[32];
    assert_int_equal(fscanf(f, "%31s", word), 1);
    assert_string_equal(word, key);
    for (int i = 0; i < n; i++) assert_int_equal(fscanf(f, "%lf", &v[i]), 1);
}

static void matches_sklearn(void **state)
{
    (void)state;
    FILE *f = fopen(FIXTURE, "r");
    assert_non_null(f);
    char name[64];
    int k, n, cases = 0;
    while (fscanf(f, " case %63s %d %d", name, &k, &n) == 3) {
        int *t = malloc(sizeof(int) * (size_t)n), *p = malloc(sizeof(int) * (size_t)n);
        read_ints(f, "truth", t, n);
        read_ints(f, "pred", p, n);
        double acc, macro, weighted, pr[16], rc[16], f1[16];
        int sup[16];
        read_doubles(f, "accuracy", &acc, 1);
        read_doubles(f, "macro_f1", &macro, 1);
        read_doubles(f, "weighted_f1", &weighted, 1);
        read_doubles(f, "precision", pr, k);
        read_doubles(f, "recall", rc, k);
        read_doubles(f, "f1", f1, k);
        read_ints(f, "support", sup, k);
        Metrics m;
        assert_int_equal(metrics_compute(&m, k, t, p, n), 0);
        assert_true(fabs(m.accuracy - acc) < 1e-9);
        assert_true(fabs(m.macro_f1 - macro) < 1e-9);
        assert_true(fabs(m.weighted_f1 - weighted) < 1e-9);
        for (int c = 0; c < k; c++) {
            assert_true(fabs(m.precision[c] - pr[c]) < 1e-9);
            assert_true(fabs(m.recall[c] - rc[c]) < 1e-9);
            assert_true(fabs(m.f1[c] - f1[c]) < 1e-9);
            assert_int_equal(m.support[c], sup[c]);
        }
        printf("  %s: accuracy %.4f weighted F1 %.4f macro F1 %.4f match sklearn\n", name, acc, weighted, macro);
        free(t);
        free(p);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 4);
}

static void rejects_out_of_range_labels(void **state)
{
    (void)state;
    int t[2] = {0, 3}, p[2] = {0, 1};
    Metrics m;
    assert_int_equal(metrics_compute(&m, 3, t, p, 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_sklearn),
        cmocka_unit_test(rejects_out_of_range_labels),
    };
    return cmocka_run_group_tests_name("pipeline: metrics", tests, NULL, NULL);
}
