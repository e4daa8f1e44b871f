/* Child processes of the benchmarks: PyTorch for ./bench train, mpirun
 * for its --mpi variant. Started with posix_spawnp and a fixed argument
 * vector (no shell, no user text in it). */
#ifndef MELD_BENCH_CHILD_H
#define MELD_BENCH_CHILD_H

/* Runs argv (argv[0] a path, or a name looked up in PATH) with env; each
 * line of its stdout and stderr goes to on_line (may be NULL). Returns the
 * exit status (-1 if it did not run or died of a signal). */
int bench_run_child(char *const argv[], char **env, void (*on_line)(void *, const char *), void *ctx);

#endif
