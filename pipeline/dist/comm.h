/* Processes working together: an MPI job, or one process alone.
 *
 * Every MPI call of meld-c is in comm_mpi.c, compiled by `make MPI=1`
 * (mpicc, into build-mpi/); the default build compiles comm_single.c
 * instead, the stand-in for a job of one process: rank 0 of 1, where a sum
 * over the processes is the identity and there is nothing to send. The
 * code above calls these functions either way, without #ifdefs.
 *
 * A process joins a job when a launcher started it (mpirun, mpiexec, srun:
 * comm_init looks for their environment variables); started directly, even
 * the MPI build runs alone without initialising MPI.
 *
 * Collectives: every process of the communicator must call the same ones in
 * the same order (MPI's rule). A function that fails returns MELD_ERR with
 * the message set, like the rest of the library; an error on one process
 * leaves the others waiting in their next collective, so the program ends
 * the job then (comm_abort_job) instead of returning.
 *
 * Like the thread pool, the world communicator is process-wide state: MPI
 * is initialised once per process.
 */
#ifndef MELD_COMM_H
#define MELD_COMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CommImpl CommImpl;

typedef struct {
    int rank, size;     /* this process, and how many there are (>= 1) */
    CommImpl *impl;     /* the MPI communicator; NULL for a process alone */
} Comm;

typedef enum { COMM_F32, COMM_F64, COMM_I32, COMM_U64 } CommType;

/* Joins the job when a launcher started this process (MPI_Init_thread),
 * else does nothing. Once, first thing in main. Returns MELD_ERR (message
 * set) if MPI cannot start, or if this build has no MPI but a launcher
 * started more than one process. */
int  comm_init(int *argc, char ***argv);
/* Leaves the job (MPI_Finalize); nothing alone. Once, at the end of main. */
void comm_finalize(void);
/* Every process of the job (rank 0 of 1 when alone). */
const Comm *comm_world(void);
/* Processes of the job on this machine (for the default thread count). */
int  comm_local_size(void);
/* Ends every process of the job now, with this exit status (MPI_Abort).
 * Alone it does nothing and returns: the caller exits as usual. */
void comm_abort_job(int status);
/* "MPI" or "none": what this build can run on. */
const char *comm_backend(void);

/* buf[0..n) summed over the processes, in place, on every process. */
int comm_sum(const Comm *c, void *buf, size_t n, CommType type);
/* The same without waiting: *req is set; finish with comm_wait (the buffer
 * must stay untouched until then). comm_poll lets MPI move the sum along
 * (MPI progresses background collectives only inside its calls); it
 * returns true once the sum is complete. Alone, the sum is complete at once. */
typedef struct CommRequest CommRequest;
int  comm_sum_start(const Comm *c, float *buf, size_t n, CommRequest **req);
bool comm_poll(CommRequest *req);
int  comm_wait(CommRequest *req);   /* frees req */
/* bytes from root's buf to every process's buf. */
int comm_broadcast(const Comm *c, void *buf, size_t bytes, int root);
/* all[r] = process r's value, on every process (all has c->size entries). */
int comm_gather_u64(const Comm *c, uint64_t value, uint64_t *all);
int comm_barrier(const Comm *c);

/* A communicator of its own over the same processes (its collectives never
 * pair with those of c), or over the processes that pass member = true
 * (collective over c; the others get size 0). Free with comm_free. */
int  comm_dup(const Comm *c, Comm *out);
int  comm_split(const Comm *c, bool member, Comm *out);
void comm_free(Comm *c);

#endif
