/* meld synth: write the built-in synthetic MELD-shaped corpus (pipeline/synth/synth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: meld synth [--out DIR] [--dialogues N] [--seed S] [--size PX]\n"
            "\n"
            "Writes a synthetic corpus shaped like MELD, in MELD.Raw's layout:\n"
            "  DIR/{train,dev,test}_sent_emo.csv (MELD's columns) and one clip per utterance,\n"
            "  diaD_uttU.wav (16 kHz mono speech) + diaD_uttU.y4m (face frames, 10 fps), in\n"
            "  DIR/train_splits, DIR/dev_splits_complete, DIR/output_repeated_splits_test.\n"
            "Emotions follow MELD's class shares and persist per speaker through a dialogue;\n"
            "the voice carries mostly arousal cues, the face mostly valence cues.\n"
            "The same seed gives byte-identical files on any machine.\n"
            "\n"
            "  --out DIR       output folder (default: " BUILTIN_CORPUS_DIR ", where train, eval and\n"
            "                  prepare look for the built-in corpus; existing files are replaced)\n"
            "  --dialogues N   dialogues over the three splits, 72.6/8.0/19.4 %% (default %d)\n"
            "  --seed S        random seed (default 1)\n"
            "  --size PX       frame side in pixels, even, 48..256 (default 96)\n",
            SYNTH_DEFAULT_DIALOGUES);
}

/* The shared progress display of pipeline/cli/corpus.h: a bar on a
 * terminal, a line every 10 % in a log. */
static void on_progress(void *user, int done, int total)
{
    progress_update(user, "synth", done, total, NULL);
}

int cmd_synth(int argc, char **argv)
{
    const char *cmd = "synth", *out = BUILTIN_CORPUS_DIR;
    SynthConfig cfg;
    synth_config_default(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--out")) {
            if (!(out = arg_value(argc, argv, &i, cmd))) return 2;
        } else if (!strcmp(argv[i], "--dialogues")) {
            if (!(v = arg_value(argc, argv, &i, cmd)) || arg_int(cmd, "--dialogues", v, 3, 100000, &cfg.n_dialogues))
                return 2;
        } else if (!strcmp(argv[i], "--seed")) {
            char *end;
            if (!(v = arg_value(argc, argv, &i, cmd))) return 2;
            unsigned long long s = strtoull(v, &end, 10);
            if (end == v || *end || v[0] == '-') {
                fprintf(stderr, "meld synth: --seed expects a non-negative integer, got '%s'\n", v);
                return 2;
            }
            cfg.seed = (uint64_t)s;
        } else if (!strcmp(argv[i], "--size")) {
            if (!(v = arg_value(argc, argv, &i, cmd)) || arg_int(cmd, "--size", v, 48, 256, &cfg.image_size)) return 2;
            if (cfg.image_size % 2) {
                fprintf(stderr, "meld synth: --size must be even, got %d\n", cfg.image_size);
                return 2;
            }
        } else {
            fprintf(stderr, "meld synth: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    Progress prog;
    progress_init(&prog);
    SynthStats st;
    int rc = synth_write(&cfg, out, on_progress, &prog, &st);
    progress_end(&prog);
    if (rc) return report_error(cmd);
    report_warnings(cmd);
    double secs = wall_seconds() - prog.start;
    int total = st.n_utts[SYNTH_TRAIN] + st.n_utts[SYNTH_DEV] + st.n_utts[SYNTH_TEST];
    printf("wrote %d utterances in %d dialogues to %s (seed %llu)\n", total,
           st.n_dialogues[SYNTH_TRAIN] + st.n_dialogues[SYNTH_DEV] + st.n_dialogues[SYNTH_TEST], out,
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
