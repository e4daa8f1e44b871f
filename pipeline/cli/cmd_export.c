/* meld export: a trained model as PyTorch code + weights, or as ONNX. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/messages.h"
#include "pipeline/export/onnx_export.h"
#include "pipeline/export/torch_export.h"
#include "pipeline/train/checkpoint_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"

typedef struct {
    const char *model_file, *format, *out;
    bool force;
} ExportArgs;

#define A(f, T) OPT_AT(ExportArgs, f, T)
static const Option OPTIONS[] = {
    {"--model-file", OPT_TEXT, A(model_file, const char *), "CKPT", .help = "the checkpoint, e.g. a run's best.safetensors", .def_text = "none: give one, here or as CKPT"},
    {"--format", OPT_CHOICE, A(format, const char *), "torch|onnx", .help = "torch: a folder with model.py and model.safetensors; onnx: one .onnx file", .def_text = "none: required"},
    {"--out", OPT_TEXT, A(out, const char *), "PATH", .help = "the folder (torch) or the .onnx file (onnx)", .def_text = "none: required"},
    {"--force", OPT_FLAG, A(force, bool), .help = "replace existing files"},
};
static const Positional ARGUMENTS[] = {
    {"CKPT", A(model_file, const char *), .help = "the checkpoint (the same as --model-file)", .same_as = "--model-file"},
};
#undef A

static int run_export(int argc, char **argv);

const CommandSpec CMD_EXPORT = {
    .name = "export",
    .summary = "a trained model as PyTorch code + weights, or as ONNX",
    .about = "Writes a trained model for use outside meld-c (docs/EXPORT.md):\n"
             "  torch  PATH is a folder; it gets model.py, the model as a torch.nn.Module\n"
             "         built with no arguments (only torch needed), and model.safetensors,\n"
             "         its weights and input normalisation without the optimiser state\n"
             "         (meld predict and meld eval read it too)\n"
             "  onnx   PATH is the .onnx file: the inference graph, opset 13, with the\n"
             "         feature normalisation inside\n"
             "Both take the raw features and give emotion and sentiment probabilities.\n"
             "Existing files are only replaced with --force.\n",
    .run = run_export,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .positionals = ARGUMENTS,
    .n_positionals = OPT_COUNT(ARGUMENTS),
    .args_size = sizeof(ExportArgs),
};

/* 1 (and a message) if path exists and may not be replaced. */
static int refuse_existing(const char *path, int force)
{
    if (force || access(path, F_OK) != 0) return 0;
    fprintf(stderr, "meld export: %s exists (use --force to replace it)\n", path);
    return 1;
}

static int export_torch(const LoadedModel *lm, const char *dir, int force)
{
    char py[1100], weights[1100];
    snprintf(py, sizeof py, "%s/model.py", dir);
    snprintf(weights, sizeof weights, "%s/model.safetensors", dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "meld export: %s: cannot create folder: %s\n", dir, strerror(errno));
        return 1;
    }
    if (refuse_existing(py, force) || refuse_existing(weights, force)) return 1;
    if (checkpoint_save_weights(weights, lm->model, &lm->norm, lm->cache_hash, lm->cache_config, NULL, &lm->provenance) ||
        torch_export_save(lm->model, lm->cache_hash, lm->cache_config, py))
        return report_error("export");
    printf("wrote %s and %s\n", py, weights);
    return 0;
}

static int run_export(int argc, char **argv)
{
    ExportArgs a = {0};
    int rc = options_exit_status(options_parse(&CMD_EXPORT, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (!a.model_file || !a.format || !a.out) {
        fprintf(stderr, "meld export: needs a checkpoint (CKPT or --model-file), --format and --out\n");
        return 2;
    }
    const char *model_file = a.model_file, *format = a.format, *out = a.out;
    int force = a.force;
    LoadedModel lm;
    if (checkpoint_load_model(model_file, &lm)) return report_error("export");
    if (!strcmp(format, "torch")) {
        rc = export_torch(&lm, out, force);
    } else if (!(rc = refuse_existing(out, force))) {
        rc = onnx_export_save(lm.model, &lm.norm, lm.cache_config, out) ? report_error("export") : 0;
        if (!rc) printf("wrote %s\n", out);
    }
    loaded_model_free(&lm);
    return rc;
}
