/* comm.h on MPI: the only file of meld-c that calls MPI (built by
 * `make MPI=1`; the default build compiles comm_single.c instead).
 *
 * Errors: MPI's default handler aborts the job on any error; the
 * communicators here return error codes instead (MPI_ERRORS_RETURN), which
 * become messages naming the call, so the program reports them like any
 * other. Threads: only the thread that called comm_init calls MPI (the
 * thread pool's workers never do), hence MPI_THREAD_FUNNELED. */
#include "pipeline/dist/comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/dist/launcher.h"
#include "tensor/error.h"

struct CommImpl {
    MPI_Comm comm;
};

struct CommRequest {
    MPI_Request req;
    bool done;
};

static Comm world = {.rank = 0, .size = 1, .impl = NULL};
static CommImpl world_impl;
static int local_size = 1;

/* MELD_ERR with "CALL: MPI's message" when rc is not MPI_SUCCESS. */
static int check(int rc, const char *call)
{
    if (rc == MPI_SUCCESS) return MELD_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error %d", rc);
    return meld_errorf("%s: %s", call, text);
}

int comm_init(int *argc, char ***argv)
{
    if (launcher_world_size() == 0) return MELD_OK;   /* started directly: alone, MPI untouched */
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return meld_errorf("MPI_Init_thread failed");
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return meld_errorf("this MPI library gives no MPI_THREAD_FUNNELED support");
    }
    world_impl.comm = MPI_COMM_WORLD;
    int rc = check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    if (rc == MELD_OK) rc = check(MPI_Comm_rank(MPI_COMM_WORLD, &world.rank), "MPI_Comm_rank");
    if (rc == MELD_OK) rc = check(MPI_Comm_size(MPI_COMM_WORLD, &world.size), "MPI_Comm_size");
    /* The processes sharing this machine's memory: how many split its cores. */
    MPI_Comm node;
    if (rc == MELD_OK)
        rc = check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank, MPI_INFO_NULL, &node),
                   "MPI_Comm_split_type");
    if (rc == MELD_OK) {
        rc = check(MPI_Comm_size(node, &local_size), "MPI_Comm_size");
        MPI_Comm_free(&node);
    }
    world.impl = &world_impl;
    return rc;
}

void comm_finalize(void)
{
    if (!world.impl) return;
    MPI_Finalize();
    world.impl = NULL;
}

const Comm *comm_world(void) { return &world; }
int comm_local_size(void) { return local_size; }
const char *comm_backend(void) { return "MPI"; }

void comm_abort_job(int status)
{
    if (world.impl && world.size > 1) MPI_Abort(MPI_COMM_WORLD, status);
}

static MPI_Datatype mpi_type(CommType t)
{
    switch (t) {
    case COMM_F32: return MPI_FLOAT;
    case COMM_F64: return MPI_DOUBLE;
    case COMM_I32: return MPI_INT;
    case COMM_U64: return MPI_UINT64_T;
    }
    return MPI_DATATYPE_NULL;
}

static int count_fits(size_t n, const char *call)
{
    return n <= INT_MAX ? MELD_OK : meld_errorf("%s: %zu elements exceed MPI's int count", call, n);
}

/* Alone (no MPI communicator, or a job of one), a collective has nothing to do. */
static bool alone(const Comm *c) { return !c->impl || c->size <= 1; }

int comm_sum(const Comm *c, void *buf, size_t n, CommType type)
{
    if (alone(c) || n == 0) return MELD_OK;
    if (count_fits(n, "MPI_Allreduce")) return MELD_ERR;
    return check(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, mpi_type(type), MPI_SUM, c->impl->comm), "MPI_Allreduce");
}

int comm_sum_start(const Comm *c, float *buf, size_t n, CommRequest **req)
{
    *req = meld_calloc(1, sizeof **req, "communication request");
    if (!*req) return MELD_ERR;
    if (alone(c) || n == 0) {
        (*req)->done = true;
        return MELD_OK;
    }
    int rc = count_fits(n, "MPI_Iallreduce");
    if (rc == MELD_OK)
        rc = check(MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, c->impl->comm, &(*req)->req),
                   "MPI_Iallreduce");
    if (rc != MELD_OK) {
        free(*req);
        *req = NULL;
    }
    return rc;
}

bool comm_poll(CommRequest *req)
{
    int flag = 0;
    if (!req->done && MPI_Test(&req->req, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag) req->done = true;
    return req->done;
}

int comm_wait(CommRequest *req)
{
    int rc = req->done ? MELD_OK : check(MPI_Wait(&req->req, MPI_STATUS_IGNORE), "MPI_Wait (MPI_Iallreduce)");
    free(req);
    return rc;
}

int comm_broadcast(const Comm *c, void *buf, size_t bytes, int root)
{
    if (alone(c) || bytes == 0) return MELD_OK;
    if (count_fits(bytes, "MPI_Bcast")) return MELD_ERR;
    return check(MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, c->impl->comm), "MPI_Bcast");
}

int comm_gather_u64(const Comm *c, uint64_t value, uint64_t *all)
{
    if (alone(c)) {
        all[0] = value;
        return MELD_OK;
    }
    return check(MPI_Allgather(&value, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, c->impl->comm), "MPI_Allgather");
}

int comm_barrier(const Comm *c)
{
    return alone(c) ? MELD_OK : check(MPI_Barrier(c->impl->comm), "MPI_Barrier");
}

/* A Comm over new_comm (MPI_COMM_NULL: not a member, size 0). */
static int wrap(MPI_Comm new_comm, Comm *out)
{
    memset(out, 0, sizeof *out);
    if (new_comm == MPI_COMM_NULL) return MELD_OK;
    out->impl = meld_malloc(sizeof *out->impl, "communicator");
    if (!out->impl) {
        MPI_Comm_free(&new_comm);
        return MELD_ERR;
    }
    out->impl->comm = new_comm;
    int rc = check(MPI_Comm_set_errhandler(new_comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    if (rc == MELD_OK) rc = check(MPI_Comm_rank(new_comm, &out->rank), "MPI_Comm_rank");
    if (rc == MELD_OK) rc = check(MPI_Comm_size(new_comm, &out->size), "MPI_Comm_size");
    if (rc != MELD_OK) comm_free(out);
    return rc;
}

int comm_dup(const Comm *c, Comm *out)
{
    if (alone(c)) {
        *out = (Comm){.rank = 0, .size = 1, .impl = NULL};
        return MELD_OK;
    }
    MPI_Comm d;
    if (check(MPI_Comm_dup(c->impl->comm, &d), "MPI_Comm_dup")) return MELD_ERR;
    return wrap(d, out);
}

int comm_split(const Comm *c, bool member, Comm *out)
{
    if (alone(c)) {
        *out = (Comm){.rank = 0, .size = member ? 1 : 0, .impl = NULL};
        return MELD_OK;
    }
    MPI_Comm s;
    if (check(MPI_Comm_split(c->impl->comm, member ? 0 : MPI_UNDEFINED, c->rank, &s), "MPI_Comm_split"))
        return MELD_ERR;
    return wrap(s, out);
}

void comm_free(Comm *c)
{
    if (c->impl && c->impl != &world_impl) {
        MPI_Comm_free(&c->impl->comm);
        free(c->impl);
    }
    memset(c, 0, sizeof *c);
}
