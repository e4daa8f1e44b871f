/* Shared declarations of the ./bench program: one function per benchmark. */
#ifndef MELD_BENCH_H
#define MELD_BENCH_H

typedef int (*BenchFn)(int argc, char **argv);

int bench_gemm(int argc, char **argv);
int bench_conv(int argc, char **argv);
int bench_eltwise(int argc, char **argv);
int bench_audio(int argc, char **argv);
int bench_video(int argc, char **argv);
/* bench video's second part: face detection against OpenCV (bench_video_faces.c). */
int bench_video_faces(int repeats, int use_opencv);
int bench_prepare(int argc, char **argv);
int bench_train(int argc, char **argv);
/* bench train --mpi (bench_train_mpi.c): bench_train hands it the arguments. */
int bench_train_mpi(int argc, char **argv);

#endif
