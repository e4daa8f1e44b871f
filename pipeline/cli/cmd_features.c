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
#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "tensor/error.h"

static const char *CMD = "features";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: meld features FILE.wav [--kind logmel|mfcc|lld|functionals] [--mels N] [--out FILE.npy]\n"
            "       meld features --list\n"
            "\n"
            "Computes one kind of feature for one recording (down-mixed to mono and\n"
            "resampled to 16 kHz; n_fft 400, hop 160, torchaudio conventions):\n"
            "  logmel       frames x N   ln(max(Mel energy, 1e-10)), N = --mels (default 80)\n"
            "  mfcc         frames x 13  torchaudio MFCC from --mels N bands (default 40)\n"
            "  lld          frames x %d  per-frame descriptors (energy, ZCR, spectral shape,\n"
            "                            YIN pitch + voicing, 13 MFCC, 40 log-Mel)\n"
            "  functionals  1 x %d     the utterance vector (see --list)\n"
            "\n"
            "  --kind K     feature kind (default logmel)\n"
            "  --mels N     Mel bands for logmel and mfcc, 1..128\n"
            "  --out F      write a float32 C-order .npy (numpy.load reads it);\n"
            "               without it, print the shape and min/mean/max\n"
            "  --list       print the name of every functional, in order\n",
            LLD_COUNT, FUNCTIONALS_DIM);
}

typedef enum { KIND_LOGMEL, KIND_MFCC, KIND_LLD, KIND_FUNCTIONALS } Kind;
static const char *const KIND_NAMES[] = {"logmel", "mfcc", "lld", "functionals"};

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

static void summary(Kind kind, const float *m, size_t rows, size_t cols)
{
    size_t n = rows * cols;
    double mn = n ? m[0] : 0, mx = mn, sum = 0;
    for (size_t i = 0; i < n; i++) {
        mn = m[i] < mn ? m[i] : mn;
        mx = m[i] > mx ? m[i] : mx;
        sum += m[i];
    }
    printf("%s: %zu x %zu float32\n", KIND_NAMES[kind], rows, cols);
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

int cmd_features(int argc, char **argv)
{
    const char *path = NULL, *out = NULL;
    Kind kind = KIND_LOGMEL;
    int mels = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            return list_names();
        } else if (!strcmp(a, "--kind")) {
            const char *v = arg_value(argc, argv, &i, CMD);
            if (!v) return 2;
            int k = 0;
            while (k < 4 && strcmp(v, KIND_NAMES[k]) != 0) k++;
            if (k == 4) {
                fprintf(stderr, "meld %s: unknown --kind '%s' (logmel, mfcc, lld or functionals)\n", CMD, v);
                return 2;
            }
            kind = (Kind)k;
        } else if (!strcmp(a, "--mels")) {
            const char *v = arg_value(argc, argv, &i, CMD);
            if (!v || arg_int(CMD, "--mels", v, 1, 128, &mels)) return 2;
        } else if (!strcmp(a, "--out")) {
            if (!(out = arg_value(argc, argv, &i, CMD))) return 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "meld %s: unknown option '%s'\n", CMD, a);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "meld %s: one WAV file at a time ('%s' and '%s')\n", CMD, path, a);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (mels >= 0 && kind != KIND_LOGMEL && kind != KIND_MFCC) {
        fprintf(stderr, "meld %s: --mels applies to logmel and mfcc only (%s has a fixed layout)\n", CMD,
                KIND_NAMES[kind]);
        return 2;
    }
    if (mels < 0) mels = kind == KIND_MFCC ? 40 : 80;
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
    fprintf(stderr, "%s: %d-bit %s, %d channel%s, %d Hz, %.3f s%s\n", path, info.bits_per_sample,
            format_name(&info), info.channels, info.channels == 1 ? "" : "s", rate_in,
            (double)info.n_frames / rate_in, rate_in == 16000 ? "" : " (resampled to 16 kHz)");
    float *m;
    size_t rows, cols;
    int rc = compute(kind, mels, &a, &m, &rows, &cols);
    audio_free(&a);
    if (rc) {
        free(m);
        return report_error(CMD);
    }
    report_warnings(CMD);
    if (out) {
        rc = npy_write_f32(out, m, rows, cols);
        if (!rc) printf("wrote %s: %s, %zu x %zu float32\n", out, KIND_NAMES[kind], rows, cols);
    } else {
        summary(kind, m, rows, cols);
    }
    free(m);
    return rc ? report_error(CMD) : 0;
}
