/* meld features: the audio features of one WAV, as a .npy file or a short
 * summary. Any WAV the reader accepts is down-mixed to mono and resampled
 * to 16 kHz first (audio/resample.h), like the feature cache does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/functionals.h"
#include "audio/lld.h"
#include "audio/npy.h"
#include "audio/resample.h"
#include "audio/spectral.h"
#include "audio/wav.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/messages.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

static const char *CMD = "features";

/* The words of --kind, in order. */
typedef enum { KIND_LOGMEL, KIND_MFCC, KIND_LLD, KIND_FUNCTIONALS } Kind;

typedef struct {
    const char *path, *kind, *out;
    int mels;
    bool list;
} FeaturesArgs;

#define A(f, T) OPT_AT(FeaturesArgs, f, T)
static const Option OPTIONS[] = {
    {"--kind", OPT_CHOICE, A(kind, const char *), "logmel|mfcc|lld|functionals", .help = "feature kind", .def = "logmel"},
    {"--mels", OPT_INT, A(mels, int), "N", .help = "Mel bands", .lo = 1, .hi = 128, .def_text = "logmel 80, mfcc 40", .only = 1u << KIND_LOGMEL | 1u << KIND_MFCC},
    {"--out", OPT_TEXT, A(out, const char *), "FILE.npy", .help = "write a float32 C-order .npy (numpy.load reads it)", .def_text = "none: print the shape and min/mean/max"},
    {"--list", OPT_FLAG, A(list, bool), .help = "print the name of every functional, in order, and exit"},
};
static const Positional ARGUMENTS[] = {
    {"FILE.wav", A(path, const char *), .help = "the recording"},
};
#undef A

static int run_features(int argc, char **argv);

/* The help names the feature sizes; the build fails if they change. */
_Static_assert(LLD_COUNT == 62 && FUNCTIONALS_DIM == 1771, "update the sizes in CMD_FEATURES.about");

const CommandSpec CMD_FEATURES = {
    .name = "features",
    .summary = "audio features of one WAV (log-Mel, MFCC, LLD, functionals)",
    .about = "Computes one kind of feature for one recording (down-mixed to mono and\n"
             "resampled to 16 kHz; n_fft 400, hop 160, torchaudio conventions):\n"
             "  logmel       frames x N   ln(max(Mel energy, 1e-10)), N = --mels\n"
             "  mfcc         frames x 13  torchaudio MFCC from --mels N bands\n"
             "  lld          frames x 62  per-frame descriptors (energy, ZCR, spectral shape,\n"
             "                            YIN pitch + voicing, 13 MFCC, 40 log-Mel)\n"
             "  functionals  1 x 1771     the utterance vector (see --list)\n",
    .run = run_features,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .positionals = ARGUMENTS,
    .n_positionals = OPT_COUNT(ARGUMENTS),
    .variant_option = "--kind",
    .args_size = sizeof(FeaturesArgs),
};

static int list_names(void)
{
    char name[64];
    for (int i = 0; i < FUNCTIONALS_DIM; i++) {
        if (functional_name(i, name, sizeof name)) return report_error(CMD);
        printf("%s\n", name);
    }
    return 0;
}

/* Computes the matrix for the chosen kind from 16 kHz audio. */
static int compute(Kind kind, int mels, const Audio *a, float **m, size_t *rows, size_t *cols)
{
    *m = NULL;
    if (kind == KIND_FUNCTIONALS) {
        *m = meld_malloc(FUNCTIONALS_DIM * sizeof(float), "functionals");
        if (!*m || audio_functionals(a->samples, a->n_samples, *m)) return MELD_ERR;
        *rows = 1;
        *cols = FUNCTIONALS_DIM;
        return MELD_OK;
    }
    if (kind == KIND_LLD) {
        *cols = LLD_COUNT;
        return lld_compute(a->samples, a->n_samples, m, rows);
    }
    SpectralConfig cfg = spectral_config_default(mels);
    SpectralPlan *p = spectral_plan_create(&cfg);
    if (!p) return MELD_ERR;
    int rc = kind == KIND_LOGMEL ? spectral_log_mel(p, a->samples, a->n_samples, 1e-10f, m, rows)
                                 : spectral_mfcc(p, a->samples, a->n_samples, 13, m, rows);
    *cols = kind == KIND_LOGMEL ? (size_t)mels : 13;
    spectral_plan_free(p);
    return rc;
}

static void summary(Kind kind, const char *name, const float *m, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    double mn = n ? m[0] : 0, mx = mn, sum = 0;
    for (size_t i = 0; i < n; i++) {
        mn = m[i] < mn ? m[i] : mn;
        mx = m[i] > mx ? m[i] : mx;
        sum += m[i];
    }
    printf("%s: %zu x %zu float32\n", name, rows, cols);
    printf("  min %.6g  mean %.6g  max %.6g\n", mn, n ? sum / (double)n : 0.0, mx);
    if (kind != KIND_LLD) return;
    /* The scalar descriptors deserve one line each. */
    printf("  %-11s %12s %12s %12s\n", "column", "min", "mean", "max");
    for (int c = 0; c < LLD_N_SCALAR; c++) {
        char name[32];
        lld_name(c, name, sizeof name);
        double cmn = m[c], cmx = m[c], cs = 0;
        for (size_t r = 0; r < rows; r++) {
            double v = m[r * cols + (size_t)c];
            cmn = v < cmn ? v : cmn;
            cmx = v > cmx ? v : cmx;
            cs += v;
        }
        printf("  %-11s %12.6g %12.6g %12.6g\n", name, cmn, cs / (double)rows, cmx);
    }
}

static const char *format_name(const WavInfo *in)
{
    return in->format == 3 ? "float" : in->bits_per_sample == 8 ? "unsigned PCM" : "PCM";
}

static int run_features(int argc, char **argv)
{
    FeaturesArgs args = {.mels = -1};
    int kind, rc = options_exit_status(options_parse(&CMD_FEATURES, argc, argv, &args, &kind));
    if (rc >= 0) return rc;
    if (args.list) return list_names();
    if (!args.path) {
        fprintf(stderr, "meld %s: no FILE.wav given (meld features --help)\n", CMD);
        return 2;
    }
    const char *path = args.path, *out = args.out;
    int mels = args.mels >= 0 ? args.mels : kind == KIND_MFCC ? 40 : 80;
    if (kind == KIND_MFCC && mels < 13) {
        fprintf(stderr, "meld %s: mfcc needs --mels >= 13 (13 coefficients)\n", CMD);
        return 2;
    }

    Audio a;
    WavInfo info;
    if (wav_read_info(path, &a, &info)) return report_error(CMD);
    report_warnings(CMD);
    int rate_in = a.sample_rate;
    if (audio_to_16k(&a)) {
        audio_free(&a);
        return report_error(CMD);
    }
    char shown[4096];
    fprintf(stderr, "%s: %d-bit %s, %d channel%s, %d Hz, %.3f s%s\n", cli_shown(path, shown, sizeof shown), info.bits_per_sample,
            format_name(&info), info.channels, info.channels == 1 ? "" : "s", rate_in,
            (double)info.n_frames / rate_in, rate_in == 16000 ? "" : " (resampled to 16 kHz)");
    float *m;
    size_t rows, cols;
    rc = compute((Kind)kind, mels, &a, &m, &rows, &cols);
    audio_free(&a);
    if (rc) {
        free(m);
        return report_error(CMD);
    }
    report_warnings(CMD);
    if (out) {
        atomic_file_sweep(out);
        rc = npy_write_f32(out, m, rows, cols);
        if (!rc) printf("wrote %s: %s, %zu x %zu float32\n", cli_shown(out, shown, sizeof shown), args.kind, rows, cols);
    } else {
        summary((Kind)kind, args.kind, m, rows, cols);
    }
    free(m);
    return rc ? report_error(CMD) : 0;
}
