#include "pipeline/cli/corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/messages.h"
#include "pipeline/data/meld_pickle.h"
#include "pipeline/features/clip.h"
#include "pipeline/models/models.h"
#include "pipeline/dist/comm.h"
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
        cli_errorf(cmd, "writing the built-in synthetic corpus (%d dialogues, seed %llu) to %s/",
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
} PrepCtx;

static void prep_progress(void *ctx, int done, int total)
{
    PrepCtx *c = ctx;
    if (c->quiet) return;
    if (done == 0) {   /* the work starts */
        progress_init(&c->bar);
        return;
    }
    progress_update(&c->bar, "prepare", done, total, NULL);
    if (done == total) progress_end(&c->bar);
}

static void prep_wait(void *ctx, const char *message)
{
    PrepCtx *c = ctx;
    cli_errorf(c->cmd, "%s", message);
}

/* The clips left out of the caches, by kind, a few named of each. */
enum { SKIPS_NAMED = 5 };
typedef struct {
    int count[CLIP_N_PROBLEMS + 1];
    char named[CLIP_N_PROBLEMS + 1][SKIPS_NAMED][400];
    int total;
} Skips;

static void collect_skip(void *ctx, const char *split, int dialogue, int utterance, const char *clip_name, int problem,
                         const char *reason)
{
    Skips *k = ctx;
    (void)clip_name;
    int kind = problem > 0 && problem < CLIP_N_PROBLEMS ? problem : CLIP_N_PROBLEMS;
    if (k->count[kind] < SKIPS_NAMED)
        snprintf(k->named[kind][k->count[kind]], sizeof k->named[kind][0], "%s dia%d_utt%d: %s", split, dialogue,
                 utterance, reason);
    k->count[kind]++;
    k->total++;
}

static void print_skips(const char *cmd, const char *cache_dir, size_t n_utts)
{
    Skips k;
    memset(&k, 0, sizeof k);
    if (prepare_list_skips(cache_dir, collect_skip, &k)) {
        report_warnings(cmd);
        cli_errorf(cmd, "cannot list the skipped clips: %s", meld_error());
        return;
    }
    if (k.total == 0) {
        cli_errorf(cmd, "all %zu utterances have features (no clip skipped)", n_utts);
        return;
    }
    fprintf(stderr, "meld %s: %d of %zu utterances have no features and are left out of training and evaluation:\n",
            cmd, k.total, n_utts);
    for (int p = 1; p <= CLIP_N_PROBLEMS; p++) {
        if (!k.count[p]) continue;
        cli_errorf(cmd, "  %s: %d%s", p < CLIP_N_PROBLEMS ? clip_problem_name(p) : "other", k.count[p],
                p == CLIP_NO_TOOL ? " (retried by the next run once the program is installed)" : "");
        for (int i = 0; i < k.count[p] && i < SKIPS_NAMED; i++) cli_errorf(cmd, "    %s", k.named[p][i]);
        if (k.count[p] > SKIPS_NAMED) cli_errorf(cmd, "    ... and %d more", k.count[p] - SKIPS_NAMED);
    }
}

static void print_prepared(const char *cmd, const PrepareOptions *po, const PrepareResult *res)
{
    int done = 0, skipped = 0;
    for (int s = 0; s < N_SPLITS; s++) done += res->done[s], skipped += res->skipped[s];
    const char *faces = res->cascade_used ? "face cascade used"
                        : po->cascade && !*po->cascade ? "face detection off"
                                                       : "face cascade not found";
    fprintf(stderr,
            "meld %s: prepared %d utterances (%d skipped; %d clips computed, %d reused) in %.1f s; cache %.1f MB; "
            "%s, %d frames centre-cropped\n",
            cmd, done, skipped, res->computed, res->reused, res->seconds, res->cache_bytes / 1e6, faces,
            res->face_fallbacks);
    if (res->decoded_twice)
        cli_errorf(cmd, "%d clips were decoded twice: their container miscounts their frames",
                res->decoded_twice);
}

/* Rank 0 (alone: the process): a shared lock on the cache folder when its
 * caches are fresh; else the lock released and, for a --cache folder of
 * another corpus, an error. */
static int lead_check(const char *cmd, const CorpusRequest *req, const Dataset *ds, const PrepareOptions *po,
                      PrepCtx *ctx, Corpus *out, int *fresh)
{
    PrepareStatus st;
    if (folder_lock(&out->lock, out->cache_dir, 0, prep_wait, ctx) || prepare_status(ds, po, &st)) return MELD_ERR;
    *fresh = st.fresh;
    if (st.fresh) return MELD_OK;
    folder_unlock(&out->lock);
    if (req->cache && st.caches_found > 0 && st.same_corpus == 0)
        return meld_errorf("%s holds the features of another corpus (%s); give another --cache folder, or delete "
                           "%s to rebuild it there",
                           out->cache_dir, st.why, out->cache_dir);
    if (!ctx->quiet)
        cli_errorf(cmd, "preparing features of %zu utterances from %s into %s/ (%s)", dataset_n_utterances(ds),
                   ds->root, out->cache_dir, st.why);
    return MELD_OK;
}

/* A shared lock on a fresh cache (rank 0's, for the job), rebuilding it (under
 * the exclusive lock, in prepare_run) as often as another process changes it
 * meanwhile. Collective: every process of an MPI job prepares its share. */
static int ensure_fresh(const char *cmd, const CorpusRequest *req, const Dataset *ds, PrepareOptions *po, Corpus *out)
{
    const Comm *c = comm_world();
    bool lead = c->rank == 0;
    PrepCtx ctx = {.cmd = cmd, .quiet = req->quiet || !lead};
    po->cb_ctx = &ctx;
    po->on_progress = ctx.quiet ? NULL : prep_progress;
    po->on_wait = prep_wait;
    po->comm = c;
    if (lead && mkdir(out->cache_dir, 0777) != 0 && errno != EEXIST)
        return meld_errorf("%s: cannot create the cache folder: %s", out->cache_dir, strerror(errno));
    for (int attempt = 0; attempt < 3; attempt++) {
        int fresh = 0;
        if (lead && lead_check(cmd, req, ds, po, &ctx, out, &fresh)) return MELD_ERR;
        if (comm_broadcast(c, &fresh, sizeof fresh, 0)) return MELD_ERR;
        if (fresh) return MELD_OK;
        PrepareResult res;
        if (prepare_run(ds, po, &res)) return MELD_ERR;
        if (!ctx.quiet && !res.up_to_date) print_prepared(cmd, po, &res);
    }
    return meld_errorf("%s: the cache keeps changing (another process is rebuilding it); try again", out->cache_dir);
}

/* Under mpirun every process runs this (a collective): rank 0 alone writes
 * the built-in corpus and speaks; every process takes its share of
 * prepare's clips (prepare.h). */
int corpus_ready(const char *cmd, const CorpusRequest *req, Corpus *out)
{
    memset(out, 0, sizeof *out);
    out->lock.fd = -1;
    const Comm *c = comm_world();
    bool lead = c->rank == 0, quiet = req->quiet || !lead;
    DatasetLocation loc;
    const char *data = req->data;
    if (!data && !getenv("MELD_DATA") && req->allow_synthetic) {
        /* No explicit data: MELD under ./data or ./MELD.Raw, else the built-in corpus. */
        bool found = dataset_locate(NULL, &loc) == MELD_OK, builtin = !found;
        for (int s = 0; found && s < N_SPLITS; s++) builtin = builtin || strstr(loc.csv[s], BUILTIN_CORPUS_DIR);
        if (builtin) {
            if (!quiet)
                fprintf(stderr, "meld %s: no MELD data found (no --data, MELD_DATA not set, none under ./data, "
                                "./MELD.Raw, ./MELD): using the built-in synthetic corpus in %s/\n",
                        cmd, BUILTIN_CORPUS_DIR);
            if (lead && ensure_builtin(cmd, quiet)) return 1;
            if (comm_barrier(c) != MELD_OK) return report_error(cmd);   /* the others wait for it */
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
    int rc = prepare_config(&po, out->config, sizeof out->config);
    if (rc == MELD_OK) rc = ensure_fresh(cmd, req, &ds, &po, out);
    if (rc == MELD_OK && !quiet) print_skips(cmd, out->cache_dir, dataset_n_utterances(&ds));
    dataset_free(&ds);
    if (rc != MELD_OK) {
        folder_unlock(&out->lock);
        return report_error(cmd);
    }
    return 0;
}

void corpus_release(Corpus *c)
{
    folder_unlock(&c->lock);
}

/* Reads the "frames=K size=S" and "n_mels=M" of a cache configuration. */
int corpus_features_from_config(const char *config, PrepareOptions *po)
{
    if (corpus_pickle_of_config(config) >= 0)
        return meld_errorf("checkpoint: trained on MELD's released audio features (%s), not on features of clips; "
                           "evaluate it with meld eval --data DIR",
                           config);
    const char *m = strstr(config, "n_mels="), *fr = strstr(config, "frames="), *face = strstr(config, "face=");
    if (!m || !fr || !face || sscanf(m, "n_mels=%d", &po->n_mels) != 1 ||
        sscanf(fr, "frames=%d size=%d", &po->frames, &po->size) != 2)
        return meld_errorf("checkpoint: feature configuration '%s' is not understood", config);
    /* The cascade: the default one if the model was trained with one. */
    po->cascade = strncmp(face + 5, "none", 4) ? NULL : "";
    if (prepare_options_check(po)) return meld_error_context("checkpoint: feature configuration");
    return MELD_OK;
}

/* ---- --features meld-pickle ---------------------------------------------- */

static const char *const PICKLE_TASKS[N_FEATURE_PICKLES] = {"emotion", "sentiment"};

int corpus_pickle_choice(const char *cmd, const char *features, int task, const char *model)
{
    if (!features) return -1;
    const char *problem = NULL;
    if (strcmp(features, "meld-pickle"))
        problem = "--features takes meld-pickle (without it, features are computed from the clips)";
    else if (task == TASK_BOTH)
        problem = "--features meld-pickle needs --task emotion or sentiment (a file and a model per task)";
    else if (strcmp(model, "gru") && strcmp(model, "lstm"))
        problem = "--features meld-pickle has one vector per utterance: use --model gru or lstm";
    if (!problem) return task == TASK_EMOTION ? FEATURE_PICKLE_EMOTION : FEATURE_PICKLE_SENTIMENT;
    cli_errorf(cmd, "%s", problem);
    return -2;
}

int corpus_pickle_of_config(const char *config)
{
    for (int k = 0; k < N_FEATURE_PICKLES; k++) {
        char prefix[64];
        int n = snprintf(prefix, sizeof prefix, "meld-pickle task=%s ", PICKLE_TASKS[k]);
        if (!strncmp(config, prefix, (size_t)n)) return k;
    }
    return -1;
}

/* The three splits from the matched features; on error none is left open. */
static int pickle_splits(MeldFeatures *f, const Dataset *ds, const char *config, SplitData split[N_SPLITS])
{
    for (int s = 0; s < N_SPLITS; s++) {
        if (meld_features_split_data(f, &ds->split[s], s, config, &split[s]) == MELD_OK) continue;
        for (int k = 0; k < s; k++) split_data_close(&split[k]);
        return MELD_ERR;
    }
    return MELD_OK;
}

int corpus_pickle_ready(const char *cmd, const CorpusRequest *req, int which, const char *expected,
                        SplitData split[N_SPLITS], char *config, size_t cap)
{
    DatasetLocation loc;
    if (dataset_locate(req->data, &loc)) return report_error(cmd);
    report_warnings(cmd);
    const char *path = loc.feature_pickle[which];
    if (!path[0]) {
        fprintf(stderr, "meld %s: no %s under %s: --features meld-pickle reads MELD's released audio features, "
                        "which go beside the CSVs\n", cmd, FEATURE_PICKLE_NAMES[which], loc.root);
        return 1;
    }
    for (int s = 0; s < N_SPLITS; s++)
        if (!loc.csv[s][0]) {
            cli_errorf(cmd, "no %s split CSV under %s: the features are matched with all three",
                    split_name(s), loc.root);
            return 1;
        }
    Dataset ds;
    DatasetOptions opt = {.lenient = req->lenient, .skip_clips = 1};
    if (dataset_load_from(&loc, &ds, &opt)) return report_error(cmd);
    report_warnings(cmd);
    double t0 = wall_seconds();
    MeldFeatures f;
    int rc = meld_features_read(path, &ds, &f);
    report_warnings(cmd);   /* missing and orphan utterances */
    if (rc == MELD_OK) {
        snprintf(config, cap, "meld-pickle task=%s dim=%d", PICKLE_TASKS[which], f.dim);
        if (expected && strcmp(expected, config))
            rc = meld_errorf("%s: the checkpoint was trained on '%s', this file gives '%s'", path, expected, config);
    }
    if (rc == MELD_OK) rc = pickle_splits(&f, &ds, config, split);
    if (rc == MELD_OK && !req->quiet) {
        char note[48] = "";
        if (f.dim != MELD_PICKLE_RELEASED_DIM[which])
            snprintf(note, sizeof note, " (MELD's release has %d)", MELD_PICKLE_RELEASED_DIM[which]);
        fprintf(stderr, "meld %s: MELD's released audio features for %s: %s, %d values per utterance%s; "
                        "%zu/%zu/%zu train/dev/test utterances have one (%zu masked); read in %.1f s\n",
                cmd, PICKLE_TASKS[which], path, f.dim, note, f.n_present[0], f.n_present[1], f.n_present[2],
                f.n_missing[0] + f.n_missing[1] + f.n_missing[2], wall_seconds() - t0);
    }
    meld_features_free(&f);
    dataset_free(&ds);
    return rc == MELD_OK ? 0 : report_error(cmd);
}
