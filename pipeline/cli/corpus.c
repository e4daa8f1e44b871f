#include "pipeline/cli/corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/messages.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"

double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int terminal_width(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    int cols = env ? atoi(env) : 0;
    return cols > 0 ? cols : 80;
}

void progress_init(Progress *p)
{
    p->tty = isatty(STDERR_FILENO);
    p->start = wall_seconds();
    p->last_print = 0;
    p->last_pct = -1;
    p->drawn = false;
}

/* " 12.3/s ETA 4s", or "" while the rate is not known yet. */
static void speed_text(double rate, double eta, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (rate > 0) snprintf(buf, cap, " %.1f/s ETA %.0fs", rate, eta);
}

/* "label [####....] done/total rate/s ETA Ns extra", the bar as wide as the
 * terminal leaves room for (at most 30, none below 5), cut to the width. */
static void draw(Progress *p, const char *label, int done, int total, double rate, double eta, const char *extra)
{
    int width = terminal_width(STDERR_FILENO);
    char tail[256], bar[32], line[512], speed[48];
    speed_text(rate, eta, speed, sizeof speed);
    snprintf(tail, sizeof tail, " %d/%d%s%s%s", done, total, speed, extra ? " " : "", extra ? extra : "");
    int room = width - 1 - (int)strlen(label) - (int)strlen(tail) - 3;   /* " [" and "]" */
    int bar_w = room > 30 ? 30 : room;
    if (bar_w >= 5) {
        int fill = total ? (int)((long long)bar_w * done / total) : bar_w;
        for (int i = 0; i < bar_w; i++) bar[i] = i < fill ? '#' : '.';
        bar[bar_w] = '\0';
        snprintf(line, sizeof line, "%s [%s]%s", label, bar, tail);
    } else {
        snprintf(line, sizeof line, "%s%s", label, tail);
    }
    if ((int)strlen(line) > width - 1) line[width > 1 ? width - 1 : 0] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->drawn = true;
}

/* A terminal gets a redrawn bar at most 10 times a second; a log gets a line
 * every 10% (or every 30 s). */
void progress_update(Progress *p, const char *label, int done, int total, const char *extra)
{
    double t = wall_seconds(), elapsed = t - p->start;
    int pct = total ? (int)(100.0 * done / total) : 100;
    /* Rates from the first half second are noise: show them once time has
     * passed (or at the end, when the rate is the final one). */
    bool show_rate = elapsed > 0.5 || (done == total && elapsed > 0);
    double rate = show_rate ? done / elapsed : 0, eta = rate > 0 ? (total - done) / rate : 0;
    if (p->tty) {
        if (t - p->last_print < 0.1 && done < total) return;
        draw(p, label, done, total, rate, eta, extra);
    } else {
        if (pct / 10 == p->last_pct / 10 && t - p->last_print < 30 && done < total) return;
        char speed[48];
        speed_text(rate, eta, speed, sizeof speed);
        fprintf(stderr, "%s: %d/%d (%d%%)%s%s%s\n", label, done, total, pct, speed, extra ? " " : "", extra ? extra : "");
    }
    p->last_print = t;
    p->last_pct = pct;
}

void progress_end(Progress *p)
{
    if (p->tty && p->drawn) fputc('\n', stderr);
    p->drawn = false;
}

void progress_clear(Progress *p)
{
    if (p->tty && p->drawn) fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = false;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

typedef struct {
    Progress bar;
    const char *cmd;
} SynthCtx;

static void synth_progress(void *user, int done, int total)
{
    SynthCtx *c = user;
    progress_update(&c->bar, "synth", done, total, NULL);
}

/* Writes the built-in corpus (default size and seed) unless it exists. */
static int ensure_builtin(const char *cmd, bool quiet)
{
    char csv[256];
    snprintf(csv, sizeof csv, "%s/test_sent_emo.csv", BUILTIN_CORPUS_DIR);
    if (exists(csv)) return 0;
    SynthConfig cfg;
    synth_config_default(&cfg);
    if (!quiet)
        fprintf(stderr, "meld %s: writing the built-in synthetic corpus (%d dialogues, seed %llu) to %s/\n", cmd,
                cfg.n_dialogues, (unsigned long long)cfg.seed, BUILTIN_CORPUS_DIR);
    SynthCtx ctx = {.cmd = cmd};
    progress_init(&ctx.bar);
    SynthStats stats;
    if (mkdir("data", 0777) != 0 && !exists("data")) return meld_errorf("data: cannot create folder");
    int rc = synth_write(&cfg, BUILTIN_CORPUS_DIR, quiet ? NULL : synth_progress, &ctx, &stats);
    if (!quiet) progress_end(&ctx.bar);
    return rc ? report_error(cmd) : 0;
}

typedef struct {
    Progress bar;
    const char *cmd;
    bool quiet;
    int skips_shown;
} PrepCtx;

static void prep_progress(void *ctx, const char *split, int done, int total, int skipped)
{
    PrepCtx *c = ctx;
    (void)skipped;
    if (c->quiet) return;
    if (done == 0) {   /* a new split starts */
        progress_init(&c->bar);
        return;
    }
    char label[64];
    snprintf(label, sizeof label, "prepare %s", split);
    progress_update(&c->bar, label, done, total, NULL);
    if (done == total) {
        progress_end(&c->bar);
        progress_init(&c->bar);
    }
}

static void prep_skip(void *ctx, const char *split, int dialogue, int utterance, const char *reason)
{
    PrepCtx *c = ctx;
    if (c->skips_shown++ < 20)
        fprintf(stderr, "meld %s: skipped %s dia%d_utt%d: %s\n", c->cmd, split, dialogue, utterance, reason);
    else if (c->skips_shown == 21)
        fprintf(stderr, "meld %s: (further skipped clips not listed; see the summary)\n", c->cmd);
}

int corpus_ready(const char *cmd, const CorpusRequest *req, Corpus *out)
{
    memset(out, 0, sizeof *out);
    DatasetLocation loc;
    const char *data = req->data;
    if (!data && !getenv("MELD_DATA") && req->allow_synthetic) {
        /* No explicit data: MELD under ./data or ./MELD.Raw, else the built-in corpus. */
        bool found = dataset_locate(NULL, &loc) == MELD_OK, builtin = !found;
        for (int s = 0; found && s < N_SPLITS; s++) builtin = builtin || strstr(loc.csv[s], BUILTIN_CORPUS_DIR);
        if (builtin) {
            if (!req->quiet)
                fprintf(stderr, "meld %s: no MELD data found (no --data, MELD_DATA not set, none under ./data, "
                                "./MELD.Raw, ./MELD): using the built-in synthetic corpus in %s/\n",
                        cmd, BUILTIN_CORPUS_DIR);
            if (ensure_builtin(cmd, req->quiet)) return 1;
            data = BUILTIN_CORPUS_DIR;
            out->synthetic = true;
        }
    }
    Dataset ds;
    DatasetOptions dopt = {.lenient = req->lenient, .skip_clips = 0};
    if (dataset_load(data, &ds, &dopt) != MELD_OK) return report_error(cmd);
    report_warnings(cmd);
    snprintf(out->root, sizeof out->root, "%s", ds.root);
    if (strstr(ds.root, BUILTIN_CORPUS_DIR)) out->synthetic = true;
    SynthConfig synth;
    int described = synth_info_read(ds.root, &synth);
    if (described < 0) {
        dataset_free(&ds);
        return report_error(cmd);
    }
    out->synthetic = out->synthetic || described;
    out->seed = described ? (long long)synth.seed : -1;
    if (req->cache) snprintf(out->cache_dir, sizeof out->cache_dir, "%s", req->cache);
    else snprintf(out->cache_dir, sizeof out->cache_dir, "%s/cache", ds.root);
    PrepareOptions po = req->prep;
    po.cache_dir = out->cache_dir;
    /* The synthetic corpus draws its faces centred in the frame: a centre
     * crop is exact there, and the Haar detector (made for photographs, and
     * most of prepare's time) only adds false detections. Real clips get
     * the detector unless --cascade none. */
    if (out->synthetic && !po.cascade && !req->prep_fixed) po.cascade = "";
    if (prepare_config(&po, out->config, sizeof out->config)) {
        dataset_free(&ds);
        return report_error(cmd);
    }
    if (!prepare_is_fresh(&po)) {
        if (!req->quiet)
            fprintf(stderr, "meld %s: preparing features of %zu utterances from %s into %s/\n", cmd,
                    dataset_n_utterances(&ds), ds.root, out->cache_dir);
        PrepCtx ctx = {.cmd = cmd, .quiet = req->quiet};
        progress_init(&ctx.bar);
        po.cb_ctx = &ctx;
        po.on_progress = prep_progress;
        po.on_skip = prep_skip;
        PrepareResult res;
        int rc = prepare_run(&ds, &po, &res);
        if (rc != MELD_OK) {
            dataset_free(&ds);
            return report_error(cmd);
        }
        if (!req->quiet) {
            int done = 0, skipped = 0;
            for (int s = 0; s < N_SPLITS; s++) done += res.done[s], skipped += res.skipped[s];
            const char *faces = res.cascade_used ? "face cascade used"
                                : po.cascade && !*po.cascade ? "face detection off"
                                                             : "face cascade not found";
            fprintf(stderr,
                    "meld %s: prepared %d utterances (%d skipped) in %.1f s; cache %.1f MB; %s, "
                    "%d frames centre-cropped\n",
                    cmd, done, skipped, res.seconds, res.cache_bytes / 1e6, faces, res.face_fallbacks);
        }
    }
    dataset_free(&ds);
    return 0;
}

/* Reads the "frames=K size=S" and "n_mels=M" of a cache configuration. */
int corpus_features_from_config(const char *config, PrepareOptions *po)
{
    const char *m = strstr(config, "n_mels="), *fr = strstr(config, "frames="), *face = strstr(config, "face=");
    if (!m || !fr || !face || sscanf(m, "n_mels=%d", &po->n_mels) != 1 ||
        sscanf(fr, "frames=%d size=%d", &po->frames, &po->size) != 2)
        return meld_errorf("checkpoint: feature configuration '%s' is not understood", config);
    /* The cascade: the default one if the model was trained with one. */
    po->cascade = strncmp(face + 5, "none", 4) ? NULL : "";
    return MELD_OK;
}

