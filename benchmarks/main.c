/* ./bench: kernel and pipeline timings. Each subcommand is one entry of
 * the table below, implemented in benchmarks/bench_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "benchmarks/bench.h"

typedef struct {
    const char *name;
    BenchFn run;          /* NULL: not built yet */
    const char *synopsis;
} BenchCommand;

static const BenchCommand BENCHES[] = {
    {"gemm",    bench_gemm, "GEMM GFLOP/s vs this machine's FMA peak, 1 and all threads"},
    {"conv",    bench_conv, "Conv2D / MaxPool kernels on the frame CNN's shapes"},
    {"eltwise", bench_eltwise, "vectorised exp/tanh/sigmoid and fused RNN cells"},
    {"audio",   bench_audio, "log-Mel, MFCC and functionals on one minute of audio"},
    {"video",   bench_video, "Y4M decode + resize + normalise frames per second"},
    {"prepare", bench_prepare, "meld prepare on MELD-format MP4s vs ffmpeg decoding alone and Python"},
    {"train",   bench_train, "training step time per model"},
};
enum { N_BENCHES = sizeof BENCHES / sizeof BENCHES[0] };

static void usage(FILE *out)
{
    fprintf(out, "usage: bench NAME [OPTIONS]\n\nbenchmarks:\n");
    for (int i = 0; i < N_BENCHES; i++)
        fprintf(out, "  %-8s %s%s\n", BENCHES[i].name, BENCHES[i].synopsis,
                BENCHES[i].run ? "" : "  [not built yet]");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < N_BENCHES; i++) {
        if (strcmp(argv[1], BENCHES[i].name) != 0) continue;
        if (!BENCHES[i].run) {
            fprintf(stderr, "bench %s: not built yet\n", argv[1]);
            return 2;
        }
        return BENCHES[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "bench: unknown benchmark '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
