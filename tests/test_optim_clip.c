/* Gradient clipping by global norm against torch.nn.utils.clip_grad_norm_
 * (fixture tests/fixtures/optim/clip.safetensors), and its edge cases. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "optim/optim.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

static double rel_err(double ours, double ref) { return fabs(ours - ref) / fmax(fabs(ref), 1e-30); }

static void clip_matches_torch(void **state)
{
    (void)state;
    SafeTensors fx;
    if (st_load(&fx, "tests/fixtures/optim/clip.safetensors") != MELD_OK) fail_msg("%s", meld_error());
    double worst = 0;
    for (int k = 0; k < 3; k++) {
        char key[64];
        float g[3][8];
        ParamRef p[3];
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "clip.g%d", i);
            const StTensor *t = st_find(&fx, key);
            assert_non_null(t);
            assert_true(t->numel <= 8);
            memcpy(g[i], t->data, t->numel * sizeof(float));
            p[i] = (ParamRef){"g", g[i], g[i], t->numel};
        }
        snprintf(key, sizeof key, "clip.case%d.max_norm", k);
        const double max_norm = strtod(st_get_meta(&fx, key), NULL);
        const double norm = optim_clip_grad_norm(p, 3, max_norm);
        snprintf(key, sizeof key, "clip.case%d.norm", k);
        worst = fmax(worst, rel_err(norm, st_find(&fx, key)->data[0]));
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "clip.case%d.g%d", k, i);
            const StTensor *t = st_find(&fx, key);
            for (size_t e = 0; e < t->numel; e++) worst = fmax(worst, rel_err(g[i][e], t->data[e]));
        }
    }
    print_message("clip_grad_norm: max relative error %.2e over 3 cases\n", worst);
    assert_true(worst <= 1e-6);
    st_free(&fx);
}

static void clip_edge_cases(void **state)
{
    (void)state;
    float a[2] = {3, 0}, b[1] = {4};
    ParamRef p[3] = {{"a", a, a, 2}, {"b", b, b, 1}, {"frozen", b, NULL, 1}};
    /* Norm 5 (frozen has no gradient), measured without change for max_norm <= 0. */
    assert_true(optim_clip_grad_norm(p, 3, 0) == 5.0);
    assert_true(a[0] == 3 && b[0] == 4);
    /* Below the limit: untouched. */
    assert_true(optim_clip_grad_norm(p, 3, 10) == 5.0);
    assert_true(a[0] == 3 && b[0] == 4);
    /* Above: scaled to just under max_norm, direction kept. */
    assert_true(optim_clip_grad_norm(p, 3, 1) == 5.0);
    assert_true(fabs(a[0] - 0.6) < 1e-6 && fabs(b[0] - 0.8) < 1e-6 && a[1] == 0);
    assert_true(fabs(a[0] / b[0] - 0.75) < 1e-6);
    /* A non-finite norm is returned and the gradients are left alone. */
    a[1] = INFINITY;
    assert_true(isinf(optim_clip_grad_norm(p, 3, 1)));
    assert_true(isinf(a[1]) && fabs(a[0] - 0.6) < 1e-6);
    a[1] = NAN;
    assert_true(isnan(optim_clip_grad_norm(p, 3, 1)));
    /* No parameters: norm 0. */
    assert_true(optim_clip_grad_norm(p, 0, 1) == 0.0);
    /* Large gradients do not overflow: the sum is in double. */
    float big[2] = {3e30f, 4e30f};
    ParamRef q = {"big", big, big, 2};
    assert_true(rel_err(optim_clip_grad_norm(&q, 1, 1), 5e30) < 1e-7);
    assert_true(fabs(big[0] - 0.6) < 1e-6);
}

static void zero_grad_clears_only_gradients(void **state)
{
    (void)state;
    float w[2] = {1, 2}, g[2] = {3, 4};
    ParamRef p[2] = {{"w", w, g, 2}, {"v", w, NULL, 2}};
    optim_zero_grad(p, 2);
    assert_true(g[0] == 0 && g[1] == 0 && w[0] == 1 && w[1] == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clip_matches_torch),
        cmocka_unit_test(clip_edge_cases),
        cmocka_unit_test(zero_grad_clears_only_gradients),
    };
    return cmocka_run_group_tests_name("optim: clipping", tests, NULL, NULL);
}
