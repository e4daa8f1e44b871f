/* PyTorch parity of every optimiser: 10 steps on the fixed least-squares
 * problem of tests/fixtures/optim/optim_steps.safetensors (made by
 * make_optim_fixtures.py), compared with torch.optim after every step.
 *
 * Error measure per value: |ours - torch| / max(|torch|, 1e-2): relative for
 * the values of size ~0.1-1 that the parameters have, absolute (scaled by
 * 100) for the few that pass near zero, where a relative error means
 * nothing. Tolerance 1e-5; the gradients themselves are recomputed here in
 * float (summation order differs from torch's matmul), so differences of a
 * few ulps enter every step and compound over the 10 steps. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "optim/optim.h"
#include "optim/schedule.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

enum { B = 8, IN = 4, OUT = 3, STEPS = 10 };
static const double TOL = 1e-5;

static SafeTensors fx;

static int load_fixture(void **state)
{
    (void)state;
    if (st_load(&fx, "tests/fixtures/optim/optim_steps.safetensors") != MELD_OK) {
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

static const float *fixture(const char *name, size_t numel)
{
    const StTensor *t = st_find(&fx, name);
    if (!t) fail_msg("fixture has no tensor '%s'", name);
    assert_int_equal(t->numel, numel);
    return t->data;
}

/* loss = mean over the B x OUT values of (X W + b - Y)^2, so with
 * R = X W + b - Y:  dL/dR = 2 R / (B OUT),  dW = X^T dR,  db = sum_rows dR. */
static void lsq_grad(const float *X, const float *Y, const float *W, const float *b, float *gW, float *gb)
{
    float dR[B][OUT];
    for (int i = 0; i < B; i++)
        for (int o = 0; o < OUT; o++) {
            float p = b[o];
            for (int k = 0; k < IN; k++) p += X[i * IN + k] * W[k * OUT + o];
            dR[i][o] = 2.0f * (p - Y[i * OUT + o]) / (float)(B * OUT);
        }
    for (int k = 0; k < IN; k++)
        for (int o = 0; o < OUT; o++) {
            float s = 0;
            for (int i = 0; i < B; i++) s += X[i * IN + k] * dR[i][o];
            gW[k * OUT + o] = s;
        }
    for (int o = 0; o < OUT; o++) {
        float s = 0;
        for (int i = 0; i < B; i++) s += dR[i][o];
        gb[o] = s;
    }
}

typedef struct {
    double rel; /* the measure above */
    double abs; /* plain |ours - torch| */
} Err;

static void track_err(Err *e, const float *ours, const float *ref, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)ours[i] - ref[i]);
        double r = d / fmax(fabs(ref[i]), 1e-2);
        if (!(r <= e->rel)) e->rel = r; /* NaN propagates */
        if (!(d <= e->abs)) e->abs = d;
    }
}

/* Runs configuration NAME; returns the largest errors over all steps. */
static Err run_config(const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "%s.kind", name);
    const char *kind = st_get_meta(&fx, key);
    snprintf(key, sizeof key, "%s.hparams", name);
    const char *spec = st_get_meta(&fx, key);
    snprintf(key, sizeof key, "%s.schedule", name);
    const char *sched_spec = st_get_meta(&fx, key);
    if (!kind || !spec) fail_msg("fixture has no configuration '%s'", name);

    OptimHparams hp;
    assert_int_equal(optim_defaults(kind, &hp), MELD_OK);
    if (optim_parse_hparams(kind, spec, &hp)) fail_msg("%s", meld_error());
    const float *X = fixture("problem.X", B * IN), *Y = fixture("problem.Y", B * OUT);
    float W[IN * OUT], b[OUT], gW[IN * OUT], gb[OUT];
    memcpy(W, fixture("init.W", IN * OUT), sizeof W);
    memcpy(b, fixture("init.b", OUT), sizeof b);
    ParamRef params[2] = {{"W", W, gW, IN * OUT}, {"b", b, gb, OUT}};
    Optimizer *opt = optim_create(kind, &hp, params, 2);
    if (!opt) fail_msg("%s", meld_error());
    Schedule sched;
    if (sched_spec) assert_int_equal(schedule_init(&sched, sched_spec, hp.lr), MELD_OK);

    Err worst = {0, 0};
    for (int k = 1; k <= STEPS; k++) {
        lsq_grad(X, Y, W, b, gW, gb);
        assert_int_equal(optim_step(opt, params, 2), MELD_OK);
        if (sched_spec) optim_set_lr(opt, schedule_step(&sched, 0));
        snprintf(key, sizeof key, "%s.step%d.W", name, k);
        track_err(&worst, W, fixture(key, IN * OUT), IN * OUT);
        snprintf(key, sizeof key, "%s.step%d.b", name, k);
        track_err(&worst, b, fixture(key, OUT), OUT);
    }
    optim_free(opt);
    return worst;
}

static void check_configs(const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        Err e = run_config(names[i]);
        print_message("%-18s max error %.2e (absolute %.2e) over %d steps\n", names[i], e.rel, e.abs, STEPS);
        if (!(e.rel <= TOL)) fail_msg("%s: error %.3e above %.0e", names[i], e.rel, TOL);
    }
}

static void sgd_matches_torch(void **state)
{
    (void)state;
    static const char *const names[] = {"sgd", "sgd_momentum", "sgd_nesterov"};
    check_configs(names, 3);
}

static void adam_matches_torch(void **state)
{
    (void)state;
    static const char *const names[] = {"adam", "adam_l2", "adam_cosine"};
    check_configs(names, 3);
}

static void adamw_matches_torch(void **state)
{
    (void)state;
    static const char *const names[] = {"adamw"};
    check_configs(names, 1);
}

static void adadelta_matches_torch(void **state)
{
    (void)state;
    static const char *const names[] = {"adadelta", "adadelta_keras"};
    check_configs(names, 2);
}

static void rmsprop_matches_torch(void **state)
{
    (void)state;
    static const char *const names[] = {"rmsprop", "rmsprop_centered"};
    check_configs(names, 2);
}

/* The comparison can fail: AdamW's decoupled decay replaced by Adam's L2
 * term (a common mix-up) lands far above the tolerance. */
static void parity_check_detects_a_wrong_rule(void **state)
{
    (void)state;
    const float *X = fixture("problem.X", B * IN), *Y = fixture("problem.Y", B * OUT);
    float W[IN * OUT], b[OUT], gW[IN * OUT], gb[OUT];
    memcpy(W, fixture("init.W", IN * OUT), sizeof W);
    memcpy(b, fixture("init.b", OUT), sizeof b);
    ParamRef params[2] = {{"W", W, gW, IN * OUT}, {"b", b, gb, OUT}};
    OptimHparams hp;
    optim_defaults("adam", &hp);
    optim_parse_hparams("adam", st_get_meta(&fx, "adamw.hparams"), &hp);
    Optimizer *opt = optim_create("adam", &hp, params, 2); /* adam + L2 instead of adamw */
    assert_non_null(opt);
    Err worst = {0, 0};
    for (int k = 1; k <= STEPS; k++) {
        lsq_grad(X, Y, W, b, gW, gb);
        optim_step(opt, params, 2);
        char key[64];
        snprintf(key, sizeof key, "adamw.step%d.W", k);
        track_err(&worst, W, fixture(key, IN * OUT), IN * OUT);
    }
    optim_free(opt);
    print_message("adam+L2 against adamw: error %.2e (must exceed the tolerance)\n", worst.rel);
    assert_true(worst.rel > 100 * TOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgd_matches_torch),
        cmocka_unit_test(adam_matches_torch),
        cmocka_unit_test(adamw_matches_torch),
        cmocka_unit_test(adadelta_matches_torch),
        cmocka_unit_test(rmsprop_matches_torch),
        cmocka_unit_test(parity_check_detects_a_wrong_rule),
    };
    return cmocka_run_group_tests_name("optim: torch parity", tests, load_fixture, free_fixture);
}
