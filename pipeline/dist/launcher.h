/* Was this process started by a parallel launcher (mpirun, mpiexec, srun)?
 * Read from the environment the launchers set, so the answer is the same
 * with and without MPI in the build. */
#ifndef MELD_LAUNCHER_H
#define MELD_LAUNCHER_H

/* Processes the launcher started (>= 1), or 0 when none started this one. */
int launcher_world_size(void);

#endif
