/* ./bench audio: feature extraction on one minute of 16 kHz audio, one
 * thread, and torchaudio 0.13 on the same samples in the same run.
 *
 * The input is synthetic but speech-like (seeded, identical every run):
 * a harmonic voice whose f0 glides between 90 and 260 Hz, shaped into
 * ~4 syllables per second, with noise bursts standing in for fricatives,
 * short pauses and a -60 dB noise floor.
 *
 * Timings are the median (and minimum) of --repeats runs after one
 * warm-up run. The torchaudio side (benchmarks/torchaudio_logmel.py, run
 * with /usr/bin/python3) reads the same samples from a temporary float WAV;
 * when python or torchaudio is missing the bench says so and skips it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/functionals.h"
#include "audio/lld.h"
#include "audio/npy.h"
#include "audio/spectral.h"
#include "audio/wav.h"
#include "benchmarks/bench.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/rng.h"

static double now_sec(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The synthetic minute described above. */
static float *speech_like(size_t n, int sr)
{
    float *x = malloc(n * sizeof(float));
    if (!x) return NULL;
    Rng r;
    rng_seed(&r, 2024, 5);
    double phase = 0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr;
        double f0 = 175 + 85 * sin(2 * M_PI * 0.23 * t) * cos(2 * M_PI * 0.071 * t);
        phase += 2 * M_PI * f0 / sr;
        double voice = 0;
        for (int h = 1; h <= 12; h++) voice += sin(h * phase) / (h * h * 0.6 + 0.4);
        double syl = 0.5 - 0.5 * cos(2 * M_PI * 4.1 * t);           /* syllable envelope */
        double pause = fmod(t, 3.7) < 0.45 ? 0.02 : 1.0;              /* a pause every 3.7 s */
        double fric = fmod(t * 4.1, 1.0) > 0.8 ? 1.0 : 0.0;           /* noise at syllable edges */
        double noise = rng_uniform_range(&r, -1, 1);
        x[i] = (float)(pause * (0.15 * syl * voice + 0.05 * fric * noise) + 0.001 * noise);
    }
    return x;
}

typedef struct {
    double median, min;
} Timing;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* What each timed call does. */
typedef enum { JOB_LOGMEL, JOB_MFCC, JOB_LLD, JOB_FUNCTIONALS } Job;

typedef struct {
    const float *x;
    size_t n;
    SpectralPlan *mel80, *mel40;
} Ctx;

static int run_job(Job job, const Ctx *c)
{
    float *m = NULL;
    size_t frames;
    int rc;
    switch (job) {
    case JOB_LOGMEL: rc = spectral_log_mel(c->mel80, c->x, c->n, 1e-10f, &m, &frames); break;
    case JOB_MFCC: rc = spectral_mfcc(c->mel40, c->x, c->n, 13, &m, &frames); break;
    case JOB_LLD: rc = lld_compute(c->x, c->n, &m, &frames); break;
    default: {
        float v[FUNCTIONALS_DIM];
        rc = audio_functionals(c->x, c->n, v);
    }
    }
    free(m);
    return rc;
}

static int time_job(Job job, const Ctx *c, int repeats, Timing *t)
{
    double *s = malloc((size_t)repeats * sizeof(double));
    if (!s || run_job(job, c)) { /* warm-up */
        free(s);
        return MELD_ERR;
    }
    for (int i = 0; i < repeats; i++) {
        double t0 = now_sec();
        if (run_job(job, c)) {
            free(s);
            return MELD_ERR;
        }
        s[i] = now_sec() - t0;
    }
    qsort(s, (size_t)repeats, sizeof(double), cmp_double);
    t->median = s[repeats / 2] * 1e3;
    t->min = s[0] * 1e3;
    free(s);
    return MELD_OK;
}

static void print_row(const char *what, const Timing *t, double seconds)
{
    printf("  %-34s %9.2f ms  (min %8.2f)  %8.0fx real time\n", what, t->median, t->min,
           seconds * 1e3 / t->median);
}

/* ---- torchaudio -------------------------------------------------------- */

/* benchmarks/torchaudio_logmel.py next to the ./bench binary, else in the
 * working directory. */
static void script_path(char *buf, size_t cap)
{
    char exe[1024];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/benchmarks/torchaudio_logmel.py", exe);
            if (access(buf, R_OK) == 0) return;
        }
    }
    snprintf(buf, cap, "benchmarks/torchaudio_logmel.py");
}

typedef struct {
    Timing logmel, mfcc;
    double max_diff;
    int ok;
} TorchResult;

static void run_torchaudio(const Ctx *c, int repeats, TorchResult *tr)
{
    memset(tr, 0, sizeof *tr);
    char script[1200], wav[64], npy[64], cmd[1600];
    script_path(script, sizeof script);
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("torchaudio: skipped (/usr/bin/python3 not found)\n");
        return;
    }
    if (access(script, R_OK) != 0) {
        printf("torchaudio: skipped (%s not found)\n", script);
        return;
    }
    snprintf(wav, sizeof wav, "/tmp/meld-bench-audio-%ld.wav", (long)getpid());
    snprintf(npy, sizeof npy, "/tmp/meld-bench-audio-%ld.npy", (long)getpid());
    float *lm = NULL;
    size_t frames;
    if (wav_write_float(wav, c->x, c->n, 16000) || spectral_log_mel(c->mel80, c->x, c->n, 1e-10f, &lm, &frames) ||
        npy_write_f32(npy, lm, frames, 80)) {
        printf("torchaudio: skipped (cannot write the input: %s)\n", meld_error());
        free(lm);
        remove(wav);
        return;
    }
    free(lm);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' '%s' %d 2>&1", script, wav, npy, repeats);
    FILE *p = popen(cmd, "r");
    char line[512];
    int got = 0;
    while (p && fgets(line, sizeof line, p)) {
        got |= sscanf(line, "logmel80_ms %lf %lf", &tr->logmel.median, &tr->logmel.min) == 2 ? 1 : 0;
        got |= sscanf(line, "mfcc13_ms %lf %lf", &tr->mfcc.median, &tr->mfcc.min) == 2 ? 2 : 0;
        got |= sscanf(line, "logmel80_max_abs_diff %lf", &tr->max_diff) == 1 ? 4 : 0;
        if (!strncmp(line, "skip:", 5)) printf("torchaudio: skipped (%.*s)\n", (int)strcspn(line + 6, "\n"), line + 6);
    }
    int status = p ? pclose(p) : -1;
    remove(wav);
    remove(npy);
    tr->ok = got == 7 && status == 0;
    if (!tr->ok && got != 0) printf("torchaudio: skipped (the script failed, exit status %d)\n", status);
    else if (!tr->ok && status != 3 * 256) printf("torchaudio: skipped (could not run %s)\n", script);
}

/* ---- the benchmark ----------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "usage: bench audio [--seconds S] [--repeats N] [--no-torch]\n"
                 "  --seconds S  length of the synthetic input (default 60)\n"
                 "  --repeats N  timed runs per measurement, median reported (default 20)\n"
                 "  --no-torch   do not run the torchaudio comparison\n");
}

int bench_audio(int argc, char **argv)
{
    double seconds = 60;
    int repeats = 20, torch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) {
            repeats = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--no-torch")) {
            torch = 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!(seconds >= 0.1 && seconds <= 3600) || repeats < 1 || repeats > 1000) {
        fprintf(stderr, "bench audio: --seconds must be in [0.1, 3600] and --repeats in [1, 1000]\n");
        return 2;
    }
    size_t n = (size_t)(seconds * 16000);
    SpectralConfig c80 = spectral_config_default(80), c40 = spectral_config_default(40);
    Ctx c = {speech_like(n, 16000), n, spectral_plan_create(&c80), spectral_plan_create(&c40)};
    if (!c.x || !c.mel80 || !c.mel40) {
        fprintf(stderr, "bench audio: %s\n", c.x ? meld_error() : "out of memory");
        return 1;
    }
    printf("audio features of %.0f s of 16 kHz audio (%zu samples), 1 thread, lane kernels: %s\n", seconds, n,
           cpu_isa_name(cpu_isa()));
    printf("n_fft 400, hop 160 (%zu frames); median of %d runs\n\n", stft_frame_count(n, 400, 160), repeats);
    static const struct {
        Job job;
        const char *name;
    } jobs[] = {
        {JOB_LOGMEL, "log-Mel, 80 bands"},
        {JOB_MFCC, "MFCC 13 (40 bands, dB, DCT)"},
        {JOB_LLD, "LLD matrix (62 columns incl. pitch)"},
        {JOB_FUNCTIONALS, "functionals (1771 values)"},
    };
    Timing t[4];
    printf("meld-c\n");
    for (int j = 0; j < 4; j++) {
        if (time_job(jobs[j].job, &c, repeats, &t[j])) {
            fprintf(stderr, "bench audio: %s\n", meld_error());
            return 1;
        }
        print_row(jobs[j].name, &t[j], seconds);
    }
    /* The same log-Mel through the scalar path's build, for reference. */
    if (cpu_isa() != CPU_ISA_SCALAR) {
        CpuIsa was = cpu_isa();
        cpu_set_isa(CPU_ISA_SCALAR);
        Ctx g = c;
        g.mel80 = spectral_plan_create(&c80);
        Timing tg;
        if (g.mel80 && !time_job(JOB_LOGMEL, &g, repeats, &tg)) print_row("log-Mel, 80 bands, scalar-path kernels", &tg, seconds);
        spectral_plan_free(g.mel80);
        cpu_set_isa(was);
    }
    if (torch) {
        TorchResult tr;
        printf("\n");
        run_torchaudio(&c, repeats, &tr);
        if (tr.ok) {
            printf("torchaudio 0.13 (same samples, torch.set_num_threads(1))\n");
            print_row("log-Mel, 80 bands", &tr.logmel, seconds);
            print_row("MFCC 13 (40 bands)", &tr.mfcc, seconds);
            printf("\nlog-Mel speed-up over torchaudio: %.2fx (median), %.2fx (min)\n", tr.logmel.median / t[0].median,
                   tr.logmel.min / t[0].min);
            printf("MFCC speed-up over torchaudio:    %.2fx (median)\n", tr.mfcc.median / t[1].median);
            printf("log-Mel max |meld-c - torchaudio| on this input: %.3g (natural-log units)\n", tr.max_diff);
        }
    }
    printf("\ntargets: log-Mel >= 2x torchaudio; functionals >= 500x real time (here %.0fx)\n",
           seconds * 1e3 / t[3].median);
    free((void *)c.x);
    spectral_plan_free(c.mel80);
    spectral_plan_free(c.mel40);
    return 0;
}
