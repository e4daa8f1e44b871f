/* Gradients summed over the processes of a data-parallel job, bucket by
 * bucket while the backward pass is still running (the idea of PyTorch
 * DDP's gradient buckets and Horovod's tensor fusion).
 *
 * The parameters are grouped, in reverse model order, into buckets of about
 * bucket_bytes: backward produces the last layers' gradients first. The
 * graph announces each parameter whose gradient is final (Graph.grad_ready,
 * autograd.h); once all of the next bucket's are, its gradients are copied
 * into the bucket's buffer and their sum over the processes starts
 * (MPI_Iallreduce) while backward goes on through the earlier layers.
 * grad_sync_finish starts the buckets still waiting, waits for all and
 * copies the sums back into the gradients.
 *
 * Fixed order: buckets start strictly in order 0, 1, 2, ... on every
 * process, however the backward passes are timed; each bucket is one
 * MPI_Iallreduce of the same count over the same processes every step, so
 * MPI runs the same reduction algorithm on it every time (Open MPI chooses
 * by message size and process count, never by timing), and every process
 * receives the same bits. The sums therefore do not depend on timing; they
 * differ from one process's by float reassociation only.
 *
 * A bucket waits only for the parameters this step's tape reads (a head
 * the task does not train, --task emotion, gets no gradient and must not
 * hold its bucket back until the end). bucket_bytes = 0: one bucket,
 * summed after the backward pass (no overlap).
 */
#ifndef MELD_GRAD_SYNC_H
#define MELD_GRAD_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/dist/comm.h"
#include "tensor/autograd.h"

typedef struct {
    int first, count;       /* its parameters: order[first .. first + count) */
    size_t n;               /* floats: the gradients (plus the extras in the last) */
    int waiting;            /* parameters not yet final this step */
    float *buf;
    CommRequest *req;       /* in flight, or NULL */
} GradBucket;

typedef struct {
    const Comm *comm;
    bool overlap;
    Tensor **order;         /* the parameters, in bucket order */
    int n_params;
    int *bucket_of;         /* bucket of order[i] */
    bool *expected, *fired; /* per order[i]: on this step's tape / announced */
    GradBucket *bucket;
    int n_buckets, next;    /* buckets [0, next) have started */
    int n_extra;            /* extra values summed with the last bucket */
    int failed;             /* a sum could not start in the hook: reported by finish */
    char error[256];
    /* This step: buckets started during backward, seconds in finish. */
    int started_early;
    double finish_seconds;
} GradSync;

int  grad_sync_init(GradSync *s, const Comm *c, Tensor *const *params, int n_params, size_t bucket_bytes,
                    int n_extra);
void grad_sync_free(GradSync *s);
/* Before the backward pass of g (after its forward pass): extra[0 ..
 * n_extra) are summed too (a loss). */
void grad_sync_begin(GradSync *s, const Graph *g, const float *extra);
/* The Graph.grad_ready hook (ctx = the GradSync). */
void grad_sync_ready(void *ctx, Tensor *leaf);
/* After the backward pass: every gradient summed over the processes, and
 * extra[0 .. n_extra) the sums of the extras. */
int  grad_sync_finish(GradSync *s, float *extra);

#endif
