/* The stand-in for MPI in the default build: a job of one process. Sums
 * over the processes are the identity, a broadcast has no one to reach.
 * The MPI build compiles comm_mpi.c instead (see comm.h). */
#include "pipeline/dist/comm.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/dist/launcher.h"
#include "tensor/error.h"

static const Comm WORLD = {.rank = 0, .size = 1, .impl = NULL};

/* A finished request: comm_wait only has to free it. */
struct CommRequest {
    int unused;
};

int comm_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    int n = launcher_world_size();
    if (n > 1)
        return meld_errorf("started as one of %d processes, but this meld was built without MPI "
                           "(build it with `make MPI=1` and run build-mpi/meld)", n);
    return MELD_OK;
}

void comm_finalize(void) {}
const Comm *comm_world(void) { return &WORLD; }
int comm_local_size(void) { return 1; }
void comm_abort_job(int status) { (void)status; }
const char *comm_backend(void) { return "none"; }

int comm_sum(const Comm *c, void *buf, size_t n, CommType type)
{
    (void)c, (void)buf, (void)n, (void)type;
    return MELD_OK;
}

int comm_sum_start(const Comm *c, float *buf, size_t n, CommRequest **req)
{
    (void)c, (void)buf, (void)n;
    *req = meld_malloc(sizeof **req, "communication request");
    return *req ? MELD_OK : MELD_ERR;
}

bool comm_poll(CommRequest *req)
{
    (void)req;
    return true;
}

int comm_wait(CommRequest *req)
{
    free(req);
    return MELD_OK;
}

int comm_broadcast(const Comm *c, void *buf, size_t bytes, int root)
{
    (void)c, (void)buf, (void)bytes, (void)root;
    return MELD_OK;
}

int comm_gather_u64(const Comm *c, uint64_t value, uint64_t *all)
{
    (void)c;
    all[0] = value;
    return MELD_OK;
}

int comm_barrier(const Comm *c)
{
    (void)c;
    return MELD_OK;
}

int comm_dup(const Comm *c, Comm *out)
{
    *out = *c;
    return MELD_OK;
}

int comm_split(const Comm *c, bool member, Comm *out)
{
    *out = *c;
    if (!member) out->size = 0;
    return MELD_OK;
}

void comm_free(Comm *c) { memset(c, 0, sizeof *c); }
