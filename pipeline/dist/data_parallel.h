/* Synchronous data-parallel training: what a step needs beyond one
 * process's (the train loop calls these; alone they cost nothing).
 *
 * Every process holds the whole model and draws the same global batch (the
 * same shuffle of the same seed); process r takes a contiguous share of its
 * items (dp_share), runs forward and backward on it, and the gradients are
 * summed over the processes (grad_sync.h) before every process takes the
 * same optimiser step. For the sum to be the gradient of the global batch's
 * loss, each process scales its share's loss by its count of real
 * utterances over the global count (the loss is a mean over the batch's
 * utterances): sum_r (n_r / n) L_r = L.
 *
 * BatchNorm: by default each process normalises with its own share's
 * statistics (as PyTorch's DistributedDataParallel does). With sync_bn the
 * batch statistics are summed over the processes (Graph.sum_across,
 * tensor/ops_batchnorm.c) on a communicator of their own, so the model
 * trains as on the whole batch in one process.
 *
 * A global batch with fewer items than processes (the last of an epoch)
 * leaves the highest ranks without work: they contribute zero gradients and
 * take no part in the BatchNorm sums (a communicator of the busy ones).
 *
 * The running estimates of BatchNorm are those of process 0, which has
 * work in every step (dp_broadcast_buffers, once an epoch, before
 * evaluating and saving; DDP broadcasts them every step, which leaves the
 * same values since process 0's never depend on the others'). Without
 * sync_bn they are its share's; with it they are the whole batch's, but a
 * process without work in a step has not updated its own.
 */
#ifndef MELD_DATA_PARALLEL_H
#define MELD_DATA_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/dist/comm.h"
#include "pipeline/dist/grad_sync.h"
#include "tensor/autograd.h"

/* Default gradient bucket: 1 MiB (a quarter million floats). */
#define DP_BUCKET_BYTES ((size_t)1 << 20)

typedef struct {
    const Comm *comm;
    bool sync_bn;
    Comm bn_all;         /* sync_bn: every process, a communicator of its own */
    Comm bn_busy;        /* sync_bn: the first bn_busy_n processes */
    int bn_busy_n;
    GradSync grads;
    /* Totals since dp_stats_reset: steps, seconds in backward (with the
     * bucket sums it started) and in finishing the sums after it. */
    int steps, buckets, buckets_early;
    double backward_seconds, finish_seconds;
} DataParallel;

int  dp_init(DataParallel *dp, const Comm *c, Tensor *const *params, int n_params, bool sync_bn,
             size_t bucket_bytes);
void dp_free(DataParallel *dp);

/* Share of a global batch of count items: [*first, *first + *n). Equal
 * shares, one more item for each of the first count % size processes. */
void dp_share(const Comm *c, int count, int *first, int *n);

/* Before the forward pass of a step on a global batch of count items:
 * hooks the graph (BatchNorm sums, gradient buckets). Collective. */
int dp_step_begin(DataParallel *dp, Graph *g, int count);
/* Backward from this process's loss (NULL when it has no items this step)
 * and the gradient sum; *global_loss gets the sum of the processes' losses. */
int dp_backward(DataParallel *dp, Graph *g, Tensor *loss, float *global_loss);

/* Process 0's values of these tensors on every process (BatchNorm running
 * statistics). */
int dp_broadcast_buffers(const DataParallel *dp, Tensor *const *t, int n);
/* The same bits on every process? A 64-bit checksum of the tensors'
 * values is compared; a difference is an error naming the processes. */
int dp_check_replicas(const DataParallel *dp, Tensor *const *t, int n, const char *when);

void dp_stats_reset(DataParallel *dp);

#endif
