/* Optimiser interface and state: defaults, hyper-parameter text, argument
 * checks, skipped parameters, and the checkpoint contract: 10 steps in one
 * go equal, bit for bit, 5 steps + save + load into a fresh optimiser + 5
 * steps, for every kind; and a bad checkpoint is refused without touching
 * the optimiser. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "optim/optim.h"
#include "optim/schedule.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/safetensors.h"

static void expect_error(int rc, const char *message)
{
    assert_int_equal(rc, MELD_ERR);
    if (strcmp(meld_error(), message) != 0) fail_msg("got '%s'\nexpected '%s'", meld_error(), message);
}

/* ---- hyper-parameters ---- */

static void kinds_and_pytorch_defaults(void **state)
{
    (void)state;
    assert_int_equal(optim_kind_count(), 5);
    const char *names[5] = {"sgd", "adam", "adamw", "adadelta", "rmsprop"};
    for (int i = 0; i < 5; i++) assert_string_equal(optim_kind_name(i), names[i]);
    assert_null(optim_kind_name(5));
    OptimHparams hp;
    /* torch 1.13 signatures: Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
     * weight_decay=0), AdamW(... weight_decay=1e-2), Adadelta(lr=1.0,
     * rho=0.9, eps=1e-6), RMSprop(lr=1e-2, alpha=0.99, eps=1e-8). */
    assert_int_equal(optim_defaults("adam", &hp), MELD_OK);
    assert_true(hp.lr == 1e-3 && hp.beta1 == 0.9 && hp.beta2 == 0.999 && hp.eps == 1e-8 && hp.weight_decay == 0);
    assert_int_equal(optim_defaults("adamw", &hp), MELD_OK);
    assert_true(hp.lr == 1e-3 && hp.weight_decay == 1e-2);
    assert_int_equal(optim_defaults("adadelta", &hp), MELD_OK);
    assert_true(hp.lr == 1.0 && hp.rho == 0.9 && hp.eps == 1e-6);
    assert_int_equal(optim_defaults("rmsprop", &hp), MELD_OK);
    assert_true(hp.lr == 1e-2 && hp.alpha == 0.99 && hp.eps == 1e-8 && hp.momentum == 0 && !hp.centered);
    assert_int_equal(optim_defaults("sgd", &hp), MELD_OK);
    assert_true(hp.lr == 1e-3 && hp.momentum == 0 && !hp.nesterov);
    expect_error(optim_defaults("lion", &hp), "unknown optimiser 'lion' (known: sgd adam adamw adadelta rmsprop)");
    assert_string_equal(optim_hparam_keys("adam"), "lr beta1 beta2 eps weight_decay");
}

static void hparams_text_round_trips_exactly(void **state)
{
    (void)state;
    for (int i = 0; i < optim_kind_count(); i++) {
        const char *kind = optim_kind_name(i);
        OptimHparams a, b;
        optim_defaults(kind, &a);
        a.lr = 0.1 + 0.2; /* not a short decimal */
        a.weight_decay = 1.0 / 3.0;
        a.eps = 1e-7 / 3;
        char text[512], again[512];
        assert_int_equal(optim_format_hparams(kind, &a, text, sizeof text), MELD_OK);
        optim_defaults(kind, &b);
        assert_int_equal(optim_parse_hparams(kind, text, &b), MELD_OK);
        assert_true(b.lr == a.lr && b.weight_decay == a.weight_decay);
        if (strstr(optim_hparam_keys(kind), "eps")) assert_true(b.eps == a.eps);
        assert_int_equal(optim_format_hparams(kind, &b, again, sizeof again), MELD_OK);
        assert_string_equal(text, again);
    }
    OptimHparams hp;
    optim_defaults("sgd", &hp);
    assert_int_equal(optim_parse_hparams("sgd", " lr=0.5 , momentum=0.9,nesterov=1 ,", &hp), MELD_OK);
    assert_true(hp.lr == 0.5 && hp.momentum == 0.9 && hp.nesterov == 1);
}

static void hparams_text_errors_name_the_key(void **state)
{
    (void)state;
    OptimHparams hp;
    optim_defaults("adam", &hp);
    expect_error(optim_parse_hparams("adam", "lr=0.1,momentum=0.9", &hp),
                 "adam: unknown hyper-parameter 'momentum' (accepts: lr beta1 beta2 eps weight_decay)");
    expect_error(optim_parse_hparams("adam", "lr=fast", &hp), "adam: bad value 'fast' for lr");
    expect_error(optim_parse_hparams("adam", "lr=inf", &hp), "adam: bad value 'inf' for lr");
    expect_error(optim_parse_hparams("adam", "lr", &hp), "adam: expected key=value, got 'lr'");
    expect_error(optim_parse_hparams("sgd", "nesterov=2", &hp), "sgd: nesterov takes 0 or 1, not '2'");
}

static void create_checks_ranges_and_names(void **state)
{
    (void)state;
    float w[2] = {0}, g[2] = {0};
    ParamRef p[2] = {{"w", w, g, 2}, {"w", w, g, 2}};
    OptimHparams hp;
    optim_defaults("adam", &hp);
    hp.beta1 = 1.0;
    assert_null(optim_create("adam", &hp, p, 1));
    assert_string_equal(meld_error(), "adam: beta1 1 must be in [0, 1)");
    optim_defaults("adam", &hp);
    hp.lr = -1;
    assert_null(optim_create("adam", &hp, p, 1));
    assert_string_equal(meld_error(), "adam: lr -1 must be >= 0");
    hp.lr = NAN;
    assert_null(optim_create("adam", &hp, p, 1));
    assert_string_equal(meld_error(), "adam: lr is not finite");
    optim_defaults("sgd", &hp);
    hp.nesterov = 1;
    assert_null(optim_create("sgd", &hp, p, 1));
    assert_string_equal(meld_error(), "sgd: nesterov needs momentum > 0 and dampening 0");
    assert_null(optim_create("adam", NULL, p, 2));
    assert_string_equal(meld_error(), "optim_create: parameter name 'w' appears twice");
    p[1].name = "";
    assert_null(optim_create("adam", NULL, p, 2));
    assert_string_equal(meld_error(), "optim_create: parameter 1 has no name");
    assert_null(optim_create("adagrad", NULL, p, 1));
}

static void step_checks_the_parameter_list(void **state)
{
    (void)state;
    float w[3] = {1, 2, 3}, v[2] = {4, 5}, g[3] = {1, 1, 1};
    ParamRef p[2] = {{"w", w, g, 3}, {"v", v, g, 2}};
    Optimizer *o = optim_create("sgd", NULL, p, 2);
    assert_non_null(o);
    expect_error(optim_step(o, p, 1), "optim_step: 1 parameters given, the sgd optimiser holds 2");
    ParamRef q[2] = {p[0], {"v", v, g, 3}};
    expect_error(optim_step(o, q, 2), "optim_step: parameter 1 is 'v' (3 values), expected 'v' (2)");
    q[1] = (ParamRef){"u", v, g, 2};
    expect_error(optim_step(o, q, 2), "optim_step: parameter 1 is 'u' (2 values), expected 'v' (2)");
    /* Checked before anything moves: w is untouched by the failed calls. */
    assert_true(w[0] == 1 && w[1] == 2 && w[2] == 3);
    assert_int_equal(optim_step(o, p, 2), MELD_OK);
    assert_true(w[0] < 1);
    expect_error(optim_set_lr(o, -0.5), "sgd: learning rate -0.5 must be finite and >= 0");
    expect_error(optim_set_lr(o, NAN), "sgd: learning rate nan must be finite and >= 0");
    assert_true(optim_get_lr(o) == 1e-3);
    optim_free(o);
}

static float state_value(const SafeTensors *st, const char *name)
{
    const StTensor *t = st_find(st, name);
    if (!t) fail_msg("no state tensor %s", name);
    return t->data[0];
}

/* A parameter without a gradient is skipped and its step count stays put,
 * so its first real update has step 1 (bias correction of a first step),
 * exactly as a fresh optimiser's. */
static void parameters_without_gradient_are_skipped(void **state)
{
    (void)state;
    float w[2] = {0.5f, -0.5f}, gw[2] = {0.1f, 0.2f};
    float v[2] = {1.0f, 2.0f}, gv[2] = {0.3f, -0.4f}, v2[2] = {1.0f, 2.0f};
    ParamRef p[2] = {{"w", w, gw, 2}, {"v", v, NULL, 2}};
    Optimizer *o = optim_create("adam", NULL, p, 2);
    for (int i = 0; i < 3; i++) assert_int_equal(optim_step(o, p, 2), MELD_OK);
    assert_true(v[0] == 1.0f && v[1] == 2.0f);
    SafeTensors st;
    st_init(&st);
    assert_int_equal(optim_export_state(o, &st), MELD_OK);
    assert_true(state_value(&st, "optim.adam.step.w") == 3.0f);
    assert_true(state_value(&st, "optim.adam.step.v") == 0.0f);
    st_free(&st);

    p[1].grad = gv;
    assert_int_equal(optim_step(o, p, 2), MELD_OK);
    ParamRef fresh = {"v", v2, gv, 2};
    Optimizer *f = optim_create("adam", NULL, &fresh, 1);
    assert_int_equal(optim_step(f, &fresh, 1), MELD_OK);
    assert_memory_equal(v, v2, sizeof v);
    optim_free(f);
    optim_free(o);
}

/* ---- resume: 10 steps == 5 + checkpoint + 5, bit for bit ---- */

enum { NW = 37, NV = 5, HALF = 5 };

typedef struct {
    float w[NW], v[NV], gw[NW], gv[NV];
} Model;

static void model_init(Model *m)
{
    Rng r;
    rng_seed(&r, 99, 3);
    for (int i = 0; i < NW; i++) m->w[i] = rng_normal(&r);
    for (int i = 0; i < NV; i++) m->v[i] = rng_normal(&r);
}

/* A smooth non-quadratic loss sum(w^2/2 + 0.3 sin(3w)) + sum((v-1)^2):
 * gradients change with the weights, so state errors would show. */
static void model_grad(Model *m)
{
    for (int i = 0; i < NW; i++) m->gw[i] = m->w[i] + 0.9f * cosf(3.0f * m->w[i]);
    for (int i = 0; i < NV; i++) m->gv[i] = 2.0f * (m->v[i] - 1.0f);
}

static void model_params(Model *m, ParamRef *p)
{
    p[0] = (ParamRef){"encoder.weight", m->w, m->gw, NW};
    p[1] = (ParamRef){"head.bias", m->v, m->gv, NV};
}

/* One training step as a real loop does it: gradient, clip, update, lr. */
static void train_step(Model *m, Optimizer *o, Schedule *s)
{
    ParamRef p[2];
    model_params(m, p);
    model_grad(m);
    optim_clip_grad_norm(p, 2, 3.0);
    assert_int_equal(optim_step(o, p, 2), MELD_OK);
    optim_set_lr(o, schedule_step(s, 0));
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/meld-optim-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tmpdir);
    remove(path);
    return rmdir(tmpdir);
}

static void resume_case(const char *kind, const char *spec)
{
    OptimHparams hp;
    assert_int_equal(optim_defaults(kind, &hp), MELD_OK);
    assert_int_equal(optim_parse_hparams(kind, spec, &hp), MELD_OK);
    ParamRef p[2];

    /* Straight run. */
    Model a;
    model_init(&a);
    model_params(&a, p);
    Optimizer *oa = optim_create(kind, &hp, p, 2);
    assert_non_null(oa);
    Schedule sa;
    assert_int_equal(schedule_init(&sa, "step:step_size=3,gamma=0.5", hp.lr), MELD_OK);
    for (int k = 0; k < 2 * HALF; k++) train_step(&a, oa, &sa);

    /* Interrupted run: half, checkpoint to disk, everything dropped. */
    Model b;
    model_init(&b);
    model_params(&b, p);
    Optimizer *ob = optim_create(kind, &hp, p, 2);
    Schedule sb;
    assert_int_equal(schedule_init(&sb, "step:step_size=3,gamma=0.5", hp.lr), MELD_OK);
    for (int k = 0; k < HALF; k++) train_step(&b, ob, &sb);
    char path[128];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tmpdir);
    SafeTensors st;
    st_init(&st);
    assert_int_equal(st_add(&st, "encoder.weight", 1, (int64_t[]){NW}, b.w), MELD_OK);
    assert_int_equal(st_add(&st, "head.bias", 1, (int64_t[]){NV}, b.v), MELD_OK);
    assert_int_equal(optim_export_state(ob, &st), MELD_OK);
    assert_int_equal(schedule_export(&sb, &st), MELD_OK);
    assert_int_equal(st_save(&st, path), MELD_OK);
    st_free(&st);
    optim_free(ob);
    memset(&b, 0xff, sizeof b);

    /* Resume: fresh objects with default settings; the checkpoint restores them. */
    Model c;
    memset(&c, 0, sizeof c);
    if (st_load(&st, path) != MELD_OK) fail_msg("%s", meld_error());
    assert_int_equal(st_read_into(&st, "encoder.weight", 1, (int64_t[]){NW}, c.w), MELD_OK);
    assert_int_equal(st_read_into(&st, "head.bias", 1, (int64_t[]){NV}, c.v), MELD_OK);
    model_params(&c, p);
    Optimizer *oc = optim_create(kind, NULL, p, 2);
    if (optim_import_state(oc, &st) != MELD_OK) fail_msg("%s", meld_error());
    Schedule sc;
    assert_int_equal(schedule_import(&sc, &st), MELD_OK);
    st_free(&st);
    for (int k = 0; k < HALF; k++) train_step(&c, oc, &sc);

    assert_memory_equal(a.w, c.w, sizeof a.w);
    assert_memory_equal(a.v, c.v, sizeof a.v);
    /* And the optimiser states themselves are identical. */
    SafeTensors sa_st, sc_st;
    st_init(&sa_st);
    st_init(&sc_st);
    assert_int_equal(optim_export_state(oa, &sa_st), MELD_OK);
    assert_int_equal(optim_export_state(oc, &sc_st), MELD_OK);
    uint8_t *ba, *bc;
    size_t na, nc;
    assert_int_equal(st_serialize(&sa_st, &ba, &na), MELD_OK);
    assert_int_equal(st_serialize(&sc_st, &bc, &nc), MELD_OK);
    assert_int_equal(na, nc);
    assert_memory_equal(ba, bc, na);
    char step_name[96];
    snprintf(step_name, sizeof step_name, "optim.%s.step.encoder.weight", kind);
    assert_true(state_value(&sc_st, step_name) == 2 * HALF);
    free(ba);
    free(bc);
    st_free(&sa_st);
    st_free(&sc_st);
    optim_free(oa);
    optim_free(oc);
}

static void resume_is_bit_exact_for_every_kind(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"sgd", "lr=0.05"},
        {"sgd", "lr=0.05,momentum=0.9,nesterov=1,weight_decay=1e-3"},
        {"sgd", "lr=0.05,momentum=0.5,dampening=0.2"},
        {"adam", "lr=0.01,weight_decay=0.01"},
        {"adamw", "lr=0.01"},
        {"adadelta", "rho=0.95,eps=1e-7"},
        {"rmsprop", "lr=0.01"},
        {"rmsprop", "lr=0.01,momentum=0.5,centered=1,weight_decay=0.01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) resume_case(cases[i][0], cases[i][1]);
}

/* ---- refused checkpoints ---- */

/* A copy of src without the tensor named skip (NULL: none), with tensor
 * patch (if any) given the values patch_data, and metadata kept. */
static void copy_state(const SafeTensors *src, SafeTensors *dst, const char *skip, const char *patch,
                       const float *patch_data)
{
    st_init(dst);
    snprintf(dst->source, sizeof dst->source, "ckpt");
    for (int i = 0; i < src->n_tensors; i++) {
        const StTensor *t = &src->tensors[i];
        if (skip && !strcmp(t->name, skip)) continue;
        const float *data = patch && !strcmp(t->name, patch) ? patch_data : t->data;
        assert_int_equal(st_add(dst, t->name, t->ndim, t->shape, data), MELD_OK);
    }
    for (int i = 0; i < src->n_meta; i++)
        assert_int_equal(st_set_meta(dst, src->meta[i].key, src->meta[i].value), MELD_OK);
}

/* Exports o; the bytes of that export, to compare before and after. */
static uint8_t *state_bytes(const Optimizer *o, size_t *n)
{
    SafeTensors st;
    st_init(&st);
    assert_int_equal(optim_export_state(o, &st), MELD_OK);
    uint8_t *b;
    assert_int_equal(st_serialize(&st, &b, n), MELD_OK);
    st_free(&st);
    return b;
}

static void expect_refused(Optimizer *o, const SafeTensors *st, const char *message)
{
    size_t n0, n1;
    uint8_t *before = state_bytes(o, &n0);
    expect_error(optim_import_state(o, st), message);
    uint8_t *after = state_bytes(o, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0); /* untouched */
    free(before);
    free(after);
}

static void bad_state_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    Model m;
    model_init(&m);
    ParamRef p[2];
    model_params(&m, p);
    OptimHparams hp;
    optim_defaults("adam", &hp);
    hp.lr = 0.02;
    Optimizer *saved = optim_create("adam", &hp, p, 2);
    for (int k = 0; k < 3; k++) {
        model_grad(&m);
        optim_step(saved, p, 2);
    }
    SafeTensors good, bad;
    st_init(&good);
    assert_int_equal(optim_export_state(saved, &good), MELD_OK);

    /* The optimiser that receives the bad checkpoints has its own state. */
    Optimizer *o = optim_create("adam", NULL, p, 2);
    model_grad(&m);
    optim_step(o, p, 2);

    copy_state(&good, &bad, NULL, NULL, NULL);
    Optimizer *sgd = optim_create("sgd", NULL, p, 2);
    expect_refused(sgd, &bad, "ckpt: optimiser state is for adam, this optimiser is sgd");
    optim_free(sgd);
    st_free(&bad);

    copy_state(&good, &bad, "optim.adam.exp_avg_sq.head.bias", NULL, NULL);
    expect_refused(o, &bad, "ckpt: no optim.adam.exp_avg_sq.head.bias");
    st_free(&bad);

    const float half = 2.5f;
    copy_state(&good, &bad, NULL, "optim.adam.step.encoder.weight", &half);
    expect_refused(o, &bad, "ckpt: optim.adam.step.encoder.weight = 2.5 is not a step count");
    st_free(&bad);

    copy_state(&good, &bad, NULL, NULL, NULL);
    assert_int_equal(st_set_meta(&bad, "optim.hparams", "lr=0.02,beta1=1.5"), MELD_OK);
    expect_refused(o, &bad, "ckpt: optim.hparams: adam: beta1 1.5 must be in [0, 1)");
    st_free(&bad);

    copy_state(&good, &bad, NULL, NULL, NULL);
    float extra[3] = {0};
    assert_int_equal(st_add(&bad, "optim.adam.exp_avg.decoder.weight", 1, (int64_t[]){3}, extra), MELD_OK);
    expect_refused(o, &bad, "ckpt: 'optim.adam.exp_avg.decoder.weight' is state of a parameter this model does not have");
    st_free(&bad);

    copy_state(&good, &bad, NULL, NULL, NULL);
    assert_int_equal(st_add(&bad, "optim.sgd.momentum_buffer.head.bias", 1, (int64_t[]){NV}, m.gv), MELD_OK);
    expect_refused(o, &bad, "ckpt: 'optim.sgd.momentum_buffer.head.bias' is not adam state");
    st_free(&bad);

    st_init(&bad);
    snprintf(bad.source, sizeof bad.source, "ckpt");
    expect_refused(o, &bad, "ckpt: no optimiser state (metadata optim.kind/optim.hparams)");
    st_free(&bad);

    /* A model whose encoder has another size. */
    float w2[NW + 1] = {0}, g2[NW + 1] = {0};
    ParamRef q[2] = {{"encoder.weight", w2, g2, NW + 1}, p[1]};
    Optimizer *other = optim_create("adam", NULL, q, 2);
    copy_state(&good, &bad, NULL, NULL, NULL);
    expect_refused(other, &bad, "ckpt: optim.adam.exp_avg.encoder.weight has 37 values, parameter has 38");
    st_free(&bad);
    optim_free(other);

    /* SGD state saved without momentum carries no buffer; with momentum in
     * the file's settings but no buffer, it is refused; a buffer that the
     * settings do not use is refused too. */
    Optimizer *plain = optim_create("sgd", NULL, p, 2);
    SafeTensors sgd_st;
    st_init(&sgd_st);
    assert_int_equal(optim_export_state(plain, &sgd_st), MELD_OK);
    assert_null(st_find(&sgd_st, "optim.sgd.momentum_buffer.head.bias"));
    copy_state(&sgd_st, &bad, NULL, NULL, NULL);
    assert_int_equal(st_set_meta(&bad, "optim.hparams", "lr=0.1,momentum=0.9"), MELD_OK);
    expect_refused(plain, &bad, "ckpt: no optim.sgd.momentum_buffer.encoder.weight");
    st_free(&bad);
    copy_state(&sgd_st, &bad, NULL, NULL, NULL);
    assert_int_equal(st_add(&bad, "optim.sgd.momentum_buffer.head.bias", 1, (int64_t[]){NV}, m.gv), MELD_OK);
    expect_refused(plain, &bad, "ckpt: 'optim.sgd.momentum_buffer.head.bias' is not used by sgd with these settings");
    st_free(&bad);
    st_free(&sgd_st);
    optim_free(plain);

    /* The good one is accepted, settings included. */
    assert_int_equal(optim_import_state(o, &good), MELD_OK);
    assert_true(optim_get_lr(o) == 0.02);
    size_t n0, n1;
    uint8_t *x = state_bytes(o, &n0), *y = state_bytes(saved, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(x, y, n0);
    free(x);
    free(y);
    st_free(&good);
    optim_free(o);
    optim_free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_and_pytorch_defaults),
        cmocka_unit_test(hparams_text_round_trips_exactly),
        cmocka_unit_test(hparams_text_errors_name_the_key),
        cmocka_unit_test(create_checks_ranges_and_names),
        cmocka_unit_test(step_checks_the_parameter_list),
        cmocka_unit_test(parameters_without_gradient_are_skipped),
        cmocka_unit_test(resume_is_bit_exact_for_every_kind),
        cmocka_unit_test(bad_state_is_refused_and_changes_nothing),
    };
    return cmocka_run_group_tests_name("optim: state", tests, make_tmpdir, remove_tmpdir);
}
