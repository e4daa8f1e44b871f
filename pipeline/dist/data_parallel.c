#include "pipeline/dist/data_parallel.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/error.h"

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int dp_init(DataParallel *dp, const Comm *c, Tensor *const *params, int n_params, bool sync_bn, size_t bucket_bytes)
{
    memset(dp, 0, sizeof *dp);
    dp->comm = c;
    dp->sync_bn = sync_bn;
    if (c->size == 1) return MELD_OK;   /* alone: nothing to set up */
    /* The extra value summed with the gradients: the loss. */
    if (grad_sync_init(&dp->grads, c, params, n_params, bucket_bytes, 1)) return MELD_ERR;
    if (sync_bn && comm_dup(c, &dp->bn_all)) {
        dp_free(dp);
        return MELD_ERR;
    }
    return MELD_OK;
}

void dp_free(DataParallel *dp)
{
    if (dp->comm && dp->comm->size > 1) grad_sync_free(&dp->grads);
    if (dp->bn_all.impl) comm_free(&dp->bn_all);
    if (dp->bn_busy.impl) comm_free(&dp->bn_busy);
    memset(dp, 0, sizeof *dp);
}

void dp_share(const Comm *c, int count, int *first, int *n)
{
    int base = count / c->size, extra = count % c->size;
    *n = base + (c->rank < extra);
    *first = c->rank * base + (c->rank < extra ? c->rank : extra);
}

static int sum_f64(void *ctx, double *buf, int n) { return comm_sum(ctx, buf, (size_t)n, COMM_F64); }

/* The BatchNorm communicator of a step where `busy` processes have items. */
static int bn_comm(DataParallel *dp, int busy, Comm **out)
{
    if (busy == dp->comm->size) {
        *out = &dp->bn_all;
        return MELD_OK;
    }
    if (busy != dp->bn_busy_n) {   /* every process calls the split: collective */
        comm_free(&dp->bn_busy);
        dp->bn_busy_n = 0;
        if (comm_split(dp->comm, dp->comm->rank < busy, &dp->bn_busy)) return MELD_ERR;
        dp->bn_busy_n = busy;
    }
    *out = &dp->bn_busy;
    return MELD_OK;
}

int dp_step_begin(DataParallel *dp, Graph *g, int count)
{
    g->sum_across = NULL;
    g->grad_ready = NULL;
    if (dp->comm->size == 1) return MELD_OK;
    if (dp->sync_bn) {
        Comm *bn;
        int busy = count < dp->comm->size ? count : dp->comm->size;
        if (bn_comm(dp, busy, &bn)) return MELD_ERR;
        g->sum_across = dp->comm->rank < busy ? sum_f64 : NULL;
        g->sum_ctx = bn;
    }
    g->grad_ready = grad_sync_ready;
    g->grad_ready_ctx = &dp->grads;
    return MELD_OK;
}

int dp_backward(DataParallel *dp, Graph *g, Tensor *loss, float *global_loss)
{
    float value = loss ? loss->data[0] : 0.0f;
    if (dp->comm->size == 1) {
        *global_loss = value;
        return graph_backward(g, loss);
    }
    double t0 = seconds_now();
    grad_sync_begin(&dp->grads, g, &value);
    int rc = loss ? graph_backward(g, loss) : MELD_OK;
    double t1 = seconds_now();
    if (rc == MELD_OK) rc = grad_sync_finish(&dp->grads, global_loss);
    g->grad_ready = NULL;
    g->sum_across = NULL;
    dp->steps++;
    dp->buckets += dp->grads.n_buckets;
    dp->buckets_early += dp->grads.started_early;
    dp->backward_seconds += t1 - t0;
    dp->finish_seconds += dp->grads.finish_seconds;
    return rc;
}

int dp_broadcast_buffers(const DataParallel *dp, Tensor *const *t, int n)
{
    for (int i = 0; i < n; i++)
        if (comm_broadcast(dp->comm, t[i]->data, t[i]->size * sizeof(float), 0))
            return meld_error_context("broadcasting %s", t[i]->name ? t[i]->name : "a buffer");
    return MELD_OK;
}

/* FNV-1a, 64 bits, over the tensors' bytes in order. */
static uint64_t checksum(Tensor *const *t, int n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)t[i]->data;
        for (size_t k = 0; k < t[i]->size * sizeof(float); k++) h = (h ^ p[k]) * 0x100000001b3ULL;
    }
    return h;
}

int dp_check_replicas(const DataParallel *dp, Tensor *const *t, int n, const char *when)
{
    const Comm *c = dp->comm;
    if (c->size == 1) return MELD_OK;
    uint64_t *all = meld_malloc(sizeof(uint64_t) * (size_t)c->size, "checksums");
    if (!all) return MELD_ERR;
    int rc = comm_gather_u64(c, checksum(t, n), all);
    for (int r = 1; rc == MELD_OK && r < c->size; r++)
        if (all[r] != all[0])
            rc = meld_errorf("the model differs between processes %s: rank %d's parameter checksum is %016" PRIx64
                             ", rank 0's %016" PRIx64 " (the replicas diverged; nothing was saved from this epoch)",
                             when, r, all[r], all[0]);
    free(all);
    return rc;
}

void dp_stats_reset(DataParallel *dp)
{
    dp->steps = dp->buckets = dp->buckets_early = 0;
    dp->backward_seconds = dp->finish_seconds = 0;
}
