/* meld synth: write the built-in synthetic MELD-shaped corpus (pipeline/synth/synth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"

typedef struct {
    const char *out;
    int dialogues, size;
    uint64_t seed;
} SynthArgs;

#define A(f, T) OPT_AT(SynthArgs, f, T)
static const Option OPTIONS[] = {
    {"--out", OPT_TEXT, A(out, const char *), "DIR", .help = "output folder (train, eval and prepare look for the built-in corpus in " BUILTIN_CORPUS_DIR "; existing files are replaced)", .def = BUILTIN_CORPUS_DIR},
    {"--dialogues", OPT_INT, A(dialogues, int), "N", .help = "dialogues over the three splits, 72.6/8.0/19.4 %", .lo = 3, .hi = 100000},
    {"--seed", OPT_U64, A(seed, uint64_t), "S", .help = "random seed"},
    {"--size", OPT_INT, A(size, int), "PX", .help = "frame side in pixels, even", .lo = 48, .hi = 256},
};
#undef A

static int run_synth(int argc, char **argv);

const CommandSpec CMD_SYNTH = {
    .name = "synth",
    .summary = "write the built-in synthetic MELD-shaped corpus",
    .about = "Writes a synthetic corpus shaped like MELD, in MELD.Raw's layout:\n"
             "  DIR/{train,dev,test}_sent_emo.csv (MELD's columns) and one clip per utterance,\n"
             "  diaD_uttU.wav (16 kHz mono speech) + diaD_uttU.y4m (face frames, 10 fps), in\n"
             "  DIR/train_splits, DIR/dev_splits_complete, DIR/output_repeated_splits_test.\n"
             "Emotions follow MELD's class shares and persist per speaker through a dialogue;\n"
             "the voice carries mostly arousal cues, the face mostly valence cues.\n"
             "The same seed gives byte-identical files on any machine.\n",
    .run = run_synth,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .args_size = sizeof(SynthArgs),
};

/* The shared progress display of pipeline/cli/corpus.h: a bar on a
 * terminal, a line every 10 % in a log. */
static void on_progress(void *user, int done, int total)
{
    progress_update(user, "synth", done, total, NULL);
}

static int run_synth(int argc, char **argv)
{
    const char *cmd = "synth";
    SynthConfig cfg;
    synth_config_default(&cfg);
    SynthArgs a = {.dialogues = cfg.n_dialogues, .size = cfg.image_size, .seed = cfg.seed};
    int rc = options_exit_status(options_parse(&CMD_SYNTH, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (a.size % 2) {
        fprintf(stderr, "meld synth: --size must be even, got %d\n", a.size);
        return 2;
    }
    const char *out = a.out;
    cfg.n_dialogues = a.dialogues, cfg.image_size = a.size, cfg.seed = a.seed;

    Progress prog;
    progress_init(&prog);
    SynthStats st;
    rc = synth_write(&cfg, out, on_progress, &prog, &st);
    progress_end(&prog);
    if (rc) return report_error(cmd);
    report_warnings(cmd);
    double secs = wall_seconds() - prog.start;
    int total = st.n_utts[SYNTH_TRAIN] + st.n_utts[SYNTH_DEV] + st.n_utts[SYNTH_TEST];
    char shown[4096];
    printf("wrote %d utterances in %d dialogues to %s (seed %llu)\n", total,
           st.n_dialogues[SYNTH_TRAIN] + st.n_dialogues[SYNTH_DEV] + st.n_dialogues[SYNTH_TEST],
           cli_shown(out, shown, sizeof shown),
           (unsigned long long)cfg.seed);
    static const char *const NAMES[SYNTH_N_SPLITS] = {"train", "dev", "test"};
    for (int s = 0; s < SYNTH_N_SPLITS; s++)
        printf("  %-5s %5d utterances  %4d dialogues  %s/\n", NAMES[s], st.n_utts[s], st.n_dialogues[s],
               synth_split_folder(s));
    printf("  audio %.0f s (mean %.2f s per clip), %lld frames of %dx%d at %d fps, %.1f MB, %.1f s\n",
           st.audio_seconds, total ? st.audio_seconds / total : 0.0, st.n_frames, cfg.image_size, cfg.image_size,
           cfg.fps, (double)st.bytes / 1e6, secs);
    return 0;
}
