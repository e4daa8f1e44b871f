/* Finding MELD on disk: the CSVs and each split's clip folder, searched
 * recursively under one root. Rules in dataset.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/data/dataset.h"
#include "tensor/error.h"

static const char *const CSV_NAMES[N_SPLITS] = {"train_sent_emo.csv", "dev_sent_emo.csv", "test_sent_emo.csv"};
const char *const FEATURE_PICKLE_NAMES[N_FEATURE_PICKLES] = {
    "audio_embeddings_feature_selection_emotion.pkl",
    "audio_embeddings_feature_selection_sentiment.pkl",
};
/* Clip folder names: the official MELD.Raw name first, then the plain one. */
static const char *const CLIP_DIRS[N_SPLITS][2] = {
    {"train_splits", "train"},
    {"dev_splits_complete", "dev"},
    {"output_repeated_splits_test", "test"},
};
/* Tried in this order when neither a folder nor MELD_DATA is given. */
static const char *const DEFAULT_DIRS[] = {"data", "MELD.Raw", "MELD"};
enum { N_DEFAULT_DIRS = sizeof DEFAULT_DIRS / sizeof DEFAULT_DIRS[0] };
/* The walk stops after this many folders (someone passing --data /). */
#define MAX_DIRS_VISITED 20000

typedef struct {
    char path[DATASET_PATH_MAX]; /* "" = none yet */
    int depth;
    size_t clips;
    int copies;                  /* how many candidates were seen */
} Candidate;

typedef struct {
    Candidate csv[N_SPLITS];
    Candidate clips[N_SPLITS];
    Candidate pickle[N_FEATURE_PICKLES];
    size_t dirs;
    int truncated;
} Walk;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* CSV or pickle: the shallowest copy, then the first path in byte order. */
static void offer_shallowest(Candidate *c, const char *path, int depth)
{
    c->copies++;
    if (c->path[0] && (depth > c->depth || (depth == c->depth && strcmp(path, c->path) >= 0))) return;
    snprintf(c->path, sizeof c->path, "%s", path);
    c->depth = depth;
}

/* Clip folder: the most clips, then the shallowest, then byte order. */
static void offer_clips(Candidate *c, const char *path, int depth, size_t clips)
{
    c->copies++;
    if (c->path[0]) {
        if (clips < c->clips) return;
        if (clips == c->clips && (depth > c->depth || (depth == c->depth && strcmp(path, c->path) >= 0)))
            return;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    c->depth = depth;
    c->clips = clips;
}

typedef struct {
    char **v;
    size_t n, cap;
} Names;

static int names_push(Names *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **p = realloc(l->v, cap * sizeof *p);
        if (!p) return meld_errorf("out of memory while searching for MELD");
        l->v = p;
        l->cap = cap;
    }
    size_t len = strlen(s);
    char *copy = meld_malloc(len + 1, "folder name");
    if (!copy) return MELD_ERR;
    memcpy(copy, s, len + 1);
    l->v[l->n++] = copy;
    return MELD_OK;
}

static void names_clear(Names *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

/* Visits dir (named base, depth levels below the root): notes CSVs and,
 * if base is a clip folder name, how many clips it holds; then descends.
 * Folders that cannot be opened are passed over. */
static int walk(const char *dir, const char *base, int depth, Walk *w)
{
    if (w->dirs >= MAX_DIRS_VISITED) {
        w->truncated = 1;
        return MELD_OK;
    }
    w->dirs++;
    DIR *d = opendir(dir);
    if (!d) return MELD_OK;
    Names sub = {0};
    size_t clips = 0;
    char path[DATASET_PATH_MAX];
    struct dirent *e;
    int rc = MELD_OK;
    while (rc == MELD_OK && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] == '.' || !strcmp(name, "__MACOSX")) continue; /* hidden, "._*", macOS forks */
        if (dataset_is_clip_name(name)) { /* no stat for each of 10k clips */
            clips++;
            continue;
        }
        int n = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= sizeof path) continue;
        int sub_dir = e->d_type == DT_DIR || ((e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) && is_dir(path));
        if (sub_dir) {
            rc = names_push(&sub, name);
            continue;
        }
        for (int s = 0; s < N_SPLITS; s++)
            if (!strcmp(name, CSV_NAMES[s])) offer_shallowest(&w->csv[s], path, depth);
        for (int k = 0; k < N_FEATURE_PICKLES; k++)
            if (!strcmp(name, FEATURE_PICKLE_NAMES[k])) offer_shallowest(&w->pickle[k], path, depth);
    }
    closedir(d);
    for (int s = 0; clips && s < N_SPLITS; s++)
        for (int k = 0; k < 2; k++)
            if (!strcmp(base, CLIP_DIRS[s][k])) offer_clips(&w->clips[s], dir, depth, clips);
    for (size_t i = 0; rc == MELD_OK && depth < DATASET_MAX_DEPTH && i < sub.n; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", dir, sub.v[i]);
        if (n < 0 || (size_t)n >= sizeof path) continue;
        rc = walk(path, sub.v[i], depth + 1, w);
    }
    names_clear(&sub);
    return rc;
}

/* Picks the root folder: given > $MELD_DATA > first default that exists. */
static int choose_root(const char *data_dir, char *root, const char **origin)
{
    const char *env = getenv("MELD_DATA");
    const char *pick = NULL;
    if (data_dir && data_dir[0]) {
        *origin = "";
        if (!is_dir(data_dir)) return meld_errorf("%s: no such folder", data_dir);
        pick = data_dir;
    } else if (env && env[0]) {
        *origin = " (from MELD_DATA)";
        if (!is_dir(env)) return meld_errorf("MELD_DATA=%s: no such folder", env);
        pick = env;
    } else {
        *origin = "";
        for (int i = 0; i < N_DEFAULT_DIRS && !pick; i++)
            if (is_dir(DEFAULT_DIRS[i])) pick = DEFAULT_DIRS[i];
        if (!pick)
            return meld_errorf("no MELD data found: no folder given, MELD_DATA is not set, and none of "
                               "./data, ./MELD.Raw, ./MELD exists");
    }
    size_t n = strlen(pick);
    while (n > 1 && pick[n - 1] == '/') n--; /* "dir/" -> "dir" for tidy paths */
    if (n >= DATASET_PATH_MAX) return meld_errorf("%s: path too long", pick);
    memcpy(root, pick, n);
    root[n] = '\0';
    return MELD_OK;
}

int dataset_locate(const char *data_dir, DatasetLocation *loc)
{
    memset(loc, 0, sizeof *loc);
    const char *origin;
    if (choose_root(data_dir, loc->root, &origin)) return MELD_ERR;
    Walk *w = meld_calloc(1, sizeof *w, "search state");
    if (!w) return MELD_ERR;
    const char *base = strrchr(loc->root, '/');
    if (walk(loc->root, base ? base + 1 : loc->root, 0, w)) {
        free(w);
        return MELD_ERR;
    }
    int found = 0;
    for (int s = 0; s < N_SPLITS; s++) {
        strcpy(loc->csv[s], w->csv[s].path);
        strcpy(loc->clip_dir[s], w->clips[s].path);
        found |= loc->csv[s][0] != '\0';
        if (w->csv[s].copies > 1)
            meld_warnf("found %d copies of %s under %s; using %s", w->csv[s].copies, CSV_NAMES[s], loc->root,
                       w->csv[s].path);
    }
    for (int k = 0; k < N_FEATURE_PICKLES; k++) strcpy(loc->feature_pickle[k], w->pickle[k].path);
    if (w->truncated)
        meld_warnf("%s: stopped searching after %d folders", loc->root, MAX_DIRS_VISITED);
    size_t dirs = w->dirs;
    free(w);
    if (!found)
        return meld_errorf("no MELD annotation files (train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv) "
                           "in %s%s or its subfolders (%zu folders searched, up to %d levels deep)",
                           loc->root, origin, dirs, DATASET_MAX_DEPTH);
    return MELD_OK;
}
