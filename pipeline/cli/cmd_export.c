/* meld export: a trained model as PyTorch code + weights, or as ONNX. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/export/onnx_export.h"
#include "pipeline/export/torch_export.h"
#include "pipeline/train/checkpoint_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"

static const char *USAGE =
    "usage: meld export --model-file CKPT --format torch|onnx --out PATH [--force]\n"
    "\n"
    "Writes a trained model for use outside meld-c (docs/EXPORT.md):\n"
    "  torch  PATH is a folder; it gets model.py, the model as a torch.nn.Module\n"
    "         built with no arguments (only torch needed), and model.safetensors,\n"
    "         its weights and input normalisation without the optimiser state\n"
    "         (meld predict and meld eval read it too)\n"
    "  onnx   PATH is the .onnx file: the inference graph, opset 13, with the\n"
    "         feature normalisation inside\n"
    "Both take the raw features and give emotion and sentiment probabilities.\n"
    "Existing files are only replaced with --force.\n";

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
    if (checkpoint_save_weights(weights, lm->model, &lm->norm, lm->cache_hash, lm->cache_config) ||
        torch_export_save(lm->model, lm->cache_hash, lm->cache_config, py))
        return report_error("export");
    printf("wrote %s and %s\n", py, weights);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *model_file = NULL, *format = NULL, *out = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(USAGE, stdout); return 0; }
        if (!strcmp(a, "--force")) { force = 1; continue; }
        if (!(v = arg_value(argc, argv, &i, "export"))) return 2;
        if (!strcmp(a, "--model-file")) model_file = v;
        else if (!strcmp(a, "--format")) format = v;
        else if (!strcmp(a, "--out")) out = v;
        else { fprintf(stderr, "meld export: unknown option '%s'\n%s", a, USAGE); return 2; }
    }
    if (!model_file || !format || !out) {
        fprintf(stderr, "meld export: needs --model-file, --format and --out\n%s", USAGE);
        return 2;
    }
    if (strcmp(format, "torch") && strcmp(format, "onnx")) {
        fprintf(stderr, "meld export: --format must be torch or onnx, got '%s'\n", format);
        return 2;
    }
    LoadedModel lm;
    if (checkpoint_load_model(model_file, &lm)) return report_error("export");
    int rc;
    if (!strcmp(format, "torch")) {
        rc = export_torch(&lm, out, force);
    } else if (!(rc = refuse_existing(out, force))) {
        rc = onnx_export_save(lm.model, &lm.norm, lm.cache_config, out) ? report_error("export") : 0;
        if (!rc) printf("wrote %s\n", out);
    }
    loaded_model_free(&lm);
    return rc;
}
