#include "pipeline/dist/launcher.h"

#include <stdlib.h>

/* Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; MPICH's Hydra and Slurm's
 * PMI-1/PMI-2 set PMI_SIZE; PMIx launchers (srun --mpi=pmix, Open MPI 5)
 * set PMIX_RANK, with the size in SLURM_NTASKS under Slurm. A variable
 * that is set but not a positive number counts as one process. */
int launcher_world_size(void)
{
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof size_vars / sizeof size_vars[0]; i++) {
        const char *v = getenv(size_vars[i]);
        if (v) return atoi(v) > 0 ? atoi(v) : 1;
    }
    if (!getenv("PMIX_RANK")) return 0;
    const char *tasks = getenv("SLURM_NTASKS");
    return tasks && atoi(tasks) > 0 ? atoi(tasks) : 1;
}
