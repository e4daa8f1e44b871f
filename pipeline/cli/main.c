/* ./meld, the command-line front end: the commands are in cli.c (a
 * library of their own, so the tests can walk their option tables).
 *
 * Under mpirun or srun (the MPI build, docs/CLUSTER.md) every process runs
 * this same main: it joins the job first, and a command that fails on one
 * process ends the whole job, since the others would otherwise wait for it
 * in their next collective for ever. */
#include <stdio.h>
#include <stdlib.h>

#include "pipeline/cli/commands.h"
#include "pipeline/dist/comm.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

int main(int argc, char **argv)
{
    if (comm_init(&argc, &argv) != MELD_OK) {
        fprintf(stderr, "meld: %s\n", meld_error());
        return 1;
    }
    /* Processes sharing a machine share its cores (--threads or
     * MELD_THREADS still decide). */
    int local = comm_local_size();
    if (local > 1 && !getenv("MELD_THREADS")) {
        int per = threadpool_online_cores() / local;
        threadpool_set_threads(per > 1 ? per : 1);
    }
    int status = cli_main(argc, argv);
    if (status != 0) comm_abort_job(status);
    comm_finalize();
    return status;
}
