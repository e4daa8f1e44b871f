#include "pipeline/cli/corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/args.h"
#include "pipeline/features/clip.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"

double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void progress_init(Progress *p)
{
    p->tty = isatty(STDERR_FILENO);
    p->start = wall_seconds();
    p->last_print = 0;
    p->last_pct = -1;
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
        char bar[31];
        int fill = total ? 30 * done / total : 30;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %d/%d %.1f/s ETA %.0fs %s\033[K", label, bar, done, total, rate, eta, extra ? extra : "");
    } else {
        if (pct / 10 == p->last_pct / 10 && t - p->last_print < 30 && done < total) return;
        fprintf(stderr, "%s: %d/%d (%d%%) %.1f/s ETA %.0fs %s\n", label, done, total, pct, rate, eta, extra ? extra : "");
    }
    p->last_print = t;
    p->last_pct = pct;
}

void progress_end(Progress *p)
{
    if (p->tty) fputc('\n', stderr);
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
    fprintf(stderr, "meld %s: %s\n", c->cmd, message);
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
        fprintf(stderr, "meld %s: cannot list the skipped clips: %s\n", cmd, meld_error());
        return;
    }
    if (k.total == 0) {
        fprintf(stderr, "meld %s: all %zu utterances have features (no clip skipped)\n", cmd, n_utts);
        return;
    }
    fprintf(stderr, "meld %s: %d of %zu utterances have no features and are left out of training and evaluation:\n",
            cmd, k.total, n_utts);
    for (int p = 1; p <= CLIP_N_PROBLEMS; p++) {
        if (!k.count[p]) continue;
        fprintf(stderr, "meld %s:   %s: %d%s\n", cmd, p < CLIP_N_PROBLEMS ? clip_problem_name(p) : "other", k.count[p],
                p == CLIP_NO_TOOL ? " (retried by the next run once the program is installed)" : "");
        for (int i = 0; i < k.count[p] && i < SKIPS_NAMED; i++) fprintf(stderr, "meld %s:     %s\n", cmd, k.named[p][i]);
        if (k.count[p] > SKIPS_NAMED) fprintf(stderr, "meld %s:     ... and %d more\n", cmd, k.count[p] - SKIPS_NAMED);
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
        fprintf(stderr, "meld %s: %d clips were decoded twice: their container miscounts their frames\n", cmd,
                res->decoded_twice);
}

/* Shared lock on a fresh cache, rebuilding it (under the exclusive lock,
 * in prepare_run) as often as another process changes it meanwhile. */
static int ensure_fresh(const char *cmd, const CorpusRequest *req, const Dataset *ds, PrepareOptions *po, Corpus *out)
{
    PrepCtx ctx = {.cmd = cmd, .quiet = req->quiet};
    po->cb_ctx = &ctx;
    po->on_progress = prep_progress;
    po->on_wait = prep_wait;
    if (mkdir(out->cache_dir, 0777) != 0 && errno != EEXIST)
        return meld_errorf("%s: cannot create the cache folder: %s", out->cache_dir, strerror(errno));
    for (int attempt = 0; attempt < 3; attempt++) {
        PrepareStatus st;
        if (folder_lock(&out->lock, out->cache_dir, 0, prep_wait, &ctx) || prepare_status(ds, po, &st)) return MELD_ERR;
        if (st.fresh) return MELD_OK;
        folder_unlock(&out->lock);
        if (req->cache && st.caches_found > 0 && st.same_corpus == 0)
            return meld_errorf("%s holds the features of another corpus (%s); give another --cache folder, or delete "
                               "%s to rebuild it there",
                               out->cache_dir, st.why, out->cache_dir);
        if (!req->quiet)
            fprintf(stderr, "meld %s: preparing features of %zu utterances from %s into %s/ (%s)\n", cmd,
                    dataset_n_utterances(ds), ds->root, out->cache_dir, st.why);
        PrepareResult res;
        if (prepare_run(ds, po, &res)) return MELD_ERR;
        if (!req->quiet && !res.up_to_date) print_prepared(cmd, po, &res);
    }
    return meld_errorf("%s: the cache keeps changing (another process is rebuilding it); try again", out->cache_dir);
}

int corpus_ready(const char *cmd, const CorpusRequest *req, Corpus *out)
{
    memset(out, 0, sizeof *out);
    out->lock.fd = -1;
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
    if (rc == MELD_OK && !req->quiet) print_skips(cmd, out->cache_dir, dataset_n_utterances(&ds));
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
    const char *m = strstr(config, "n_mels="), *fr = strstr(config, "frames="), *face = strstr(config, "face=");
    if (!m || !fr || !face || sscanf(m, "n_mels=%d", &po->n_mels) != 1 ||
        sscanf(fr, "frames=%d size=%d", &po->frames, &po->size) != 2)
        return meld_errorf("checkpoint: feature configuration '%s' is not understood", config);
    /* The cascade: the default one if the model was trained with one. */
    po->cascade = strncmp(face + 5, "none", 4) ? NULL : "";
    return MELD_OK;
}

