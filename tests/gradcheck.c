#include "tests/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/ops.h"

enum { GC_SEED = 1234 };

/* L = sum r_i y_i with r from a fixed generator; returns NAN on failure. */
static double eval_loss(GradcheckFn f, Tensor *const *in, void *ctx, bool training, Graph *g, Tensor **y_out)
{
    graph_init(g, GC_SEED);
    g->training = training;
    Tensor *y = f(g, in, ctx);
    if (!y) return NAN;
    Rng r;
    rng_seed(&r, 99, 7);
    double l = 0;
    for (size_t i = 0; i < y->size; i++) l += (double)rng_uniform_range(&r, -1, 1) * y->data[i];
    if (y_out) *y_out = y;
    return l;
}

int gradcheck(GradcheckFn f, Tensor *const *in, int n, void *ctx, const GradcheckOptions *opt, double *max_err)
{
    double eps = opt && opt->eps > 0 ? opt->eps : 1e-3;
    double tol = opt && opt->tol > 0 ? opt->tol : 2e-3;
    bool training = opt ? opt->training : true;
    *max_err = 0;

    /* Analytic: backward of L = sum r*y, i.e. seed dL/dy = r through an op. */
    for (int k = 0; k < n; k++) tensor_zero_grad(in[k]);
    Graph g;
    Tensor *y = NULL;
    if (isnan(eval_loss(f, in, ctx, training, &g, &y))) {
        fprintf(stderr, "gradcheck: forward failed: %s\n", meld_error());
        graph_free(&g);
        return -1;
    }
    Tensor *r = tensor_new(&g.arena, y->ndim, y->shape);
    Rng rr;
    rng_seed(&rr, 99, 7);
    for (size_t i = 0; i < r->size; i++) r->data[i] = rng_uniform_range(&rr, -1, 1);
    Tensor *loss = op_sum(&g, op_mul(&g, y, r), OP_ALL_AXES);
    if (graph_backward(&g, loss) != MELD_OK) {
        fprintf(stderr, "gradcheck: backward failed: %s\n", meld_error());
        graph_free(&g);
        return -1;
    }
    graph_free(&g);

    int status = 0;
    for (int k = 0; k < n; k++) {
        Tensor *x = in[k];
        if (!x->requires_grad) continue;
        for (size_t j = 0; j < x->size; j++) {
            float keep = x->data[j];
            x->data[j] = (float)(keep + eps);
            double lp = eval_loss(f, in, ctx, training, &g, NULL);
            graph_free(&g);
            x->data[j] = (float)(keep - eps);
            double lm = eval_loss(f, in, ctx, training, &g, NULL);
            graph_free(&g);
            x->data[j] = keep;
            /* The step actually taken in float, not the nominal eps. */
            double h = (double)(float)(keep + eps) - (double)(float)(keep - eps);
            double num = (lp - lm) / h, ana = x->grad[j];
            double scale = fmax(1.0, fmax(fabs(num), fabs(ana)));
            double err = fabs(num - ana) / scale;
            if (err > *max_err) *max_err = err;
            if (err > tol && status == 0) {
                fprintf(stderr, "gradcheck: input %d element %zu: analytic %.6g numeric %.6g (err %.3g > tol %.3g)\n",
                        k, j, ana, num, err, tol);
                status = -1;
            }
        }
    }
    return status;
}

Tensor *gc_param(Rng *r, int ndim, const int *shape, float lo, float hi)
{
    Tensor *t = tensor_new_param("gc", ndim, shape);
    if (t) tensor_fill_uniform(t, r, lo, hi);
    return t;
}
