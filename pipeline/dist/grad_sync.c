#include "pipeline/dist/grad_sync.h"

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

/* Buckets over the parameters in reverse order: a bucket closes when the
 * next parameter would take it past bucket_bytes (a parameter larger than
 * that is a bucket alone); bucket_bytes = 0 makes one bucket. */
static int make_buckets(GradSync *s, size_t bucket_bytes)
{
    s->bucket = meld_calloc((size_t)s->n_params + 1, sizeof *s->bucket, "gradient buckets");
    if (!s->bucket) return MELD_ERR;
    size_t cap = bucket_bytes / sizeof(float);
    GradBucket *b = NULL;
    for (int i = 0; i < s->n_params; i++) {
        size_t size = s->order[i]->size;
        if (!b || (cap && b->n + size > cap)) {
            b = &s->bucket[s->n_buckets++];
            b->first = i;
        }
        b->count++;
        b->n += size;
        s->bucket_of[i] = s->n_buckets - 1;
    }
    if (!s->n_buckets) s->n_buckets = 1;   /* no parameters: the extras alone */
    s->bucket[s->n_buckets - 1].n += (size_t)s->n_extra;
    for (int k = 0; k < s->n_buckets; k++) {
        s->bucket[k].buf = meld_malloc(sizeof(float) * (s->bucket[k].n + 1), "gradient bucket");
        if (!s->bucket[k].buf) return MELD_ERR;
    }
    return MELD_OK;
}

int grad_sync_init(GradSync *s, const Comm *c, Tensor *const *params, int n_params, size_t bucket_bytes,
                   int n_extra)
{
    memset(s, 0, sizeof *s);
    s->comm = c;
    s->overlap = bucket_bytes > 0;
    s->n_params = n_params;
    s->n_extra = n_extra;
    size_t n = (size_t)n_params + 1;
    s->order = meld_malloc(sizeof *s->order * n, "gradient buckets");
    s->bucket_of = meld_malloc(sizeof *s->bucket_of * n, "gradient buckets");
    s->expected = meld_malloc(sizeof *s->expected * n, "gradient buckets");
    s->fired = meld_malloc(sizeof *s->fired * n, "gradient buckets");
    if (!s->order || !s->bucket_of || !s->expected || !s->fired) {
        grad_sync_free(s);
        return MELD_ERR;
    }
    for (int i = 0; i < n_params; i++) s->order[i] = params[n_params - 1 - i];
    if (make_buckets(s, bucket_bytes)) {
        grad_sync_free(s);
        return MELD_ERR;
    }
    return MELD_OK;
}

void grad_sync_free(GradSync *s)
{
    for (int k = 0; s->bucket && k < s->n_buckets; k++) {
        if (s->bucket[k].req) comm_wait(s->bucket[k].req);
        free(s->bucket[k].buf);
    }
    free(s->bucket), free(s->order), free(s->bucket_of), free(s->expected), free(s->fired);
    memset(s, 0, sizeof *s);
}

/* Index of parameter t in s->order, or -1. */
static int param_index(const GradSync *s, const Tensor *t)
{
    for (int i = 0; i < s->n_params; i++)
        if (s->order[i] == t) return i;
    return -1;
}

void grad_sync_begin(GradSync *s, const Graph *g, const float *extra)
{
    for (int i = 0; i < s->n_params; i++) s->expected[i] = s->fired[i] = false;
    for (int t = 0; t < g->n_tape; t++)
        for (int k = 0; k < g->tape[t]->nsrc; k++) {
            const Tensor *src = g->tape[t]->src[k];
            int i = src->op ? -1 : param_index(s, src);
            if (i >= 0) s->expected[i] = true;
        }
    for (int k = 0; k < s->n_buckets; k++) s->bucket[k].waiting = 0;
    for (int i = 0; i < s->n_params; i++) s->bucket[s->bucket_of[i]].waiting += s->expected[i];
    GradBucket *last = &s->bucket[s->n_buckets - 1];
    memcpy(last->buf + last->n - (size_t)s->n_extra, extra, sizeof(float) * (size_t)s->n_extra);
    s->next = 0;
    s->failed = 0;
    s->started_early = 0;
    s->finish_seconds = 0;
}

/* Copies bucket k's gradients into its buffer and starts their sum. */
static int start_bucket(GradSync *s, int k)
{
    GradBucket *b = &s->bucket[k];
    float *dst = b->buf;
    for (int i = b->first; i < b->first + b->count; i++) {
        memcpy(dst, s->order[i]->grad, sizeof(float) * s->order[i]->size);
        dst += s->order[i]->size;
    }
    return comm_sum_start(s->comm, b->buf, b->n, &b->req);
}

void grad_sync_ready(void *ctx, Tensor *leaf)
{
    GradSync *s = ctx;
    int i = param_index(s, leaf);
    if (i < 0 || s->fired[i] || !s->expected[i]) return;   /* not one of ours (or told twice) */
    s->fired[i] = true;
    s->bucket[s->bucket_of[i]].waiting--;
    if (!s->overlap || s->failed) return;
    /* Start every complete bucket whose turn has come, in order. */
    while (s->next < s->n_buckets && s->bucket[s->next].waiting == 0) {
        if (start_bucket(s, s->next)) {
            s->failed = 1;
            snprintf(s->error, sizeof s->error, "%s", meld_error());
            return;
        }
        s->next++;
        s->started_early++;
    }
    /* MPI advances the sums in flight only inside its calls. */
    for (int k = 0; k < s->next; k++)
        if (s->bucket[k].req) comm_poll(s->bucket[k].req);
}

int grad_sync_finish(GradSync *s, float *extra)
{
    double t0 = seconds_now();
    int rc = s->failed ? meld_errorf("%s", s->error) : MELD_OK;
    for (; rc == MELD_OK && s->next < s->n_buckets; s->next++) rc = start_bucket(s, s->next);
    for (int k = 0; k < s->n_buckets; k++) {
        GradBucket *b = &s->bucket[k];
        if (!b->req) continue;
        int w = comm_wait(b->req);
        b->req = NULL;
        rc = rc ? rc : w;
    }
    for (int k = 0; rc == MELD_OK && k < s->n_buckets; k++) {
        const float *src = s->bucket[k].buf;
        for (int i = s->bucket[k].first; i < s->bucket[k].first + s->bucket[k].count; i++) {
            memcpy(s->order[i]->grad, src, sizeof(float) * s->order[i]->size);
            src += s->order[i]->size;
        }
    }
    if (rc == MELD_OK) {
        const GradBucket *last = &s->bucket[s->n_buckets - 1];
        memcpy(extra, last->buf + last->n - (size_t)s->n_extra, sizeof(float) * (size_t)s->n_extra);
    }
    s->finish_seconds = seconds_now() - t0;
    return rc;
}
