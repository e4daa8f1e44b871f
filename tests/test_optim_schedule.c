/* Learning-rate schedules against torch.optim.lr_scheduler (fixture
 * tests/fixtures/optim/schedules.safetensors), their spec text, and their
 * checkpoint round trip. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "optim/schedule.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

static SafeTensors fx;

static int load_fixture(void **state)
{
    (void)state;
    if (st_load(&fx, "tests/fixtures/optim/schedules.safetensors") != MELD_OK) {
        fprintf(stderr, "%s\n", meld_error());
        return -1;
    }
    return 0;
}

static int free_fixture(void **state)
{
    (void)state;
    st_free(&fx);
    return 0;
}

/* Runs schedule NAME of the fixture; the torch values are stored as
 * float32, so the comparison is relative 1e-6 (float32 rounding is 6e-8;
 * a wrong decision of the plateau logic is off by the factor, >= 2x). */
static double run_schedule(const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "%s.spec", name);
    const char *spec = st_get_meta(&fx, key);
    snprintf(key, sizeof key, "%s.base_lr", name);
    const char *base = st_get_meta(&fx, key);
    snprintf(key, sizeof key, "%s.lr", name);
    const StTensor *lr = st_find(&fx, key);
    snprintf(key, sizeof key, "%s.metric", name);
    const StTensor *metric = st_find(&fx, key);
    if (!spec || !base || !lr) fail_msg("fixture has no schedule '%s'", name);
    Schedule s;
    if (schedule_init(&s, spec, strtod(base, NULL)) != MELD_OK) fail_msg("%s", meld_error());
    double worst = 0;
    for (size_t e = 0; e < lr->numel; e++) {
        double ours = schedule_step(&s, metric ? metric->data[e] : 0.0);
        double err = fabs(ours - lr->data[e]) / fmax(fabs(lr->data[e]), 1e-30);
        if (!(err <= worst)) worst = err;
    }
    print_message("%-16s %zu epochs, max relative error %.2e\n", name, lr->numel, worst);
    return worst;
}

static void schedules_match_torch(void **state)
{
    (void)state;
    static const char *const names[] = {"step", "cosine", "plateau_min", "plateau_max_abs"};
    for (int i = 0; i < 4; i++) {
        double e = run_schedule(names[i]);
        if (!(e <= 1e-6)) fail_msg("%s: error %.3e", names[i], e);
    }
}

static void plateau_reduces_after_patience_and_cools_down(void **state)
{
    (void)state;
    Schedule s;
    assert_int_equal(schedule_init(&s, "plateau:factor=0.5,patience=1,cooldown=2,min_lr=0.03", 0.1), MELD_OK);
    const double metric[] = {1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6};
    const double expect[] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03};
    /* Epoch 4: second bad epoch > patience 1 -> 0.05; epochs 5 and 6 are
     * cooldown (bad epochs ignored); 7, 8 bad again -> 0.025, clamped to
     * min_lr 0.03. */
    for (int e = 0; e < 10; e++) {
        double lr = schedule_step(&s, metric[e]);
        if (fabs(lr - expect[e]) > 1e-15) fail_msg("epoch %d: lr %g, expected %g", e + 1, lr, expect[e]);
    }
    /* NaN metrics count as bad epochs; at min_lr nothing changes. */
    for (int e = 0; e < 5; e++) assert_true(schedule_step(&s, NAN) == 0.03);
}

static void spec_text_and_errors(void **state)
{
    (void)state;
    Schedule s, t;
    assert_int_equal(schedule_init(&s, "plateau:mode=max,threshold_mode=abs,factor=0.3333", 0.5), MELD_OK);
    assert_true(s.mode_max && s.threshold_abs && s.patience == 10 && s.threshold == 1e-4);
    char text[512];
    assert_int_equal(schedule_format(&s, text, sizeof text), MELD_OK);
    assert_string_equal(text, "plateau:mode=max,factor=0.33329999999999999,patience=10,threshold=0.0001,"
                              "threshold_mode=abs,cooldown=0,min_lr=0,eps=1e-08");
    assert_int_equal(schedule_init(&t, text, 0.5), MELD_OK);
    assert_true(t.factor == s.factor && t.eps == s.eps);
    assert_int_equal(schedule_init(&s, "constant", 0.1), MELD_OK);
    assert_true(schedule_step(&s, 0) == 0.1);

    assert_int_equal(schedule_init(&s, "linear", 0.1), MELD_ERR);
    assert_string_equal(meld_error(), "schedule: unknown kind 'linear' (known: constant step cosine plateau)");
    assert_int_equal(schedule_init(&s, "step:gamma=0.5", 0.1), MELD_ERR);
    assert_string_equal(meld_error(), "schedule: step needs step_size > 0");
    assert_int_equal(schedule_init(&s, "step:step_size=2.5", 0.1), MELD_ERR);
    assert_string_equal(meld_error(), "schedule: step_size needs an integer, not '2.5'");
    assert_int_equal(schedule_init(&s, "cosine:t_max=5,gamma=0.1", 0.1), MELD_ERR);
    assert_string_equal(meld_error(), "schedule: cosine has no setting 'gamma'");
    assert_int_equal(schedule_init(&s, "plateau:factor=1", 0.1), MELD_ERR);
    assert_string_equal(meld_error(), "schedule: factor 1 must be in (0, 1)");
    assert_int_equal(schedule_init(&s, "plateau:mode=up", 0.1), MELD_ERR);
    assert_string_equal(meld_error(), "schedule: mode must be min or max, not 'up'");
}

/* Stopped after 7 epochs, saved, loaded: the next epochs are the same. */
static void checkpoint_continues_exactly(void **state)
{
    (void)state;
    const char *specs[] = {"plateau:factor=0.5,patience=1,cooldown=1", "cosine:t_max=9,eta_min=0.001",
                           "step:step_size=4,gamma=0.3"};
    for (int k = 0; k < 3; k++) {
        Schedule a, b;
        assert_int_equal(schedule_init(&a, specs[k], 0.1), MELD_OK);
        double metric = 1.0;
        for (int e = 0; e < 7; e++) schedule_step(&a, metric += (e % 3 == 0 ? -0.2 : 0.01));
        SafeTensors st;
        st_init(&st);
        assert_int_equal(schedule_export(&a, &st), MELD_OK);
        uint8_t *bytes;
        size_t n;
        assert_int_equal(st_serialize(&st, &bytes, &n), MELD_OK);
        st_free(&st);
        assert_int_equal(st_parse(&st, bytes, n, "ckpt"), MELD_OK);
        free(bytes);
        assert_int_equal(schedule_import(&b, &st), MELD_OK);
        st_free(&st);
        for (int e = 7; e < 20; e++) {
            metric += e % 3 == 0 ? -0.2 : 0.01;
            double la = schedule_step(&a, metric), lb = schedule_step(&b, metric);
            assert_memory_equal(&la, &lb, sizeof la);
        }
        assert_memory_equal(&a.best, &b.best, sizeof a.best);
    }
    SafeTensors st;
    st_init(&st);
    snprintf(st.source, sizeof st.source, "run.safetensors");
    Schedule s;
    assert_int_equal(schedule_import(&s, &st), MELD_ERR);
    assert_string_equal(meld_error(), "run.safetensors: no schedule (metadata schedule/schedule.state)");
    st_set_meta(&st, "schedule", "step:step_size=2");
    st_set_meta(&st, "schedule.state", "base_lr=0.1,epoch=-1,lr=0.1,best=inf,num_bad_epochs=0,cooldown_left=0");
    assert_int_equal(schedule_import(&s, &st), MELD_ERR);
    assert_string_equal(meld_error(), "run.safetensors: schedule.state: bad value '-1' for epoch");
    st_set_meta(&st, "schedule.state", "base_lr=0.1,epoch=1,lr=0.1");
    assert_int_equal(schedule_import(&s, &st), MELD_ERR);
    assert_string_equal(meld_error(), "run.safetensors: schedule.state misses a key: 'base_lr=0.1,epoch=1,lr=0.1'");
    st_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedules_match_torch),
        cmocka_unit_test(plateau_reduces_after_patience_and_cools_down),
        cmocka_unit_test(spec_text_and_errors),
        cmocka_unit_test(checkpoint_continues_exactly),
    };
    return cmocka_run_group_tests_name("optim: schedules", tests, load_fixture, free_fixture);
}
