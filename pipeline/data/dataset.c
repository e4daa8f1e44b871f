/* MELD dataset index: CSV rows -> utterances -> dialogues, plus clips.
 * Finding the files is in dataset_find.c. See dataset.h. */
#include "pipeline/data/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/error.h"
#include "tensor/input_file.h"

/* ---- labels, times -------------------------------------------------- */

static const char *const EMOTION_NAMES[N_EMOTIONS] = {"neutral", "joy",  "sadness", "anger",
                                                      "surprise", "fear", "disgust"};
static const char *const SENTIMENT_NAMES[N_SENTIMENTS] = {"neutral", "positive", "negative"};
static const char *const SPLIT_NAMES[N_SPLITS] = {"train", "dev", "test"};

const char *emotion_name(int id) { return id >= 0 && id < N_EMOTIONS ? EMOTION_NAMES[id] : "?"; }
const char *sentiment_name(int id) { return id >= 0 && id < N_SENTIMENTS ? SENTIMENT_NAMES[id] : "?"; }
const char *split_name(int id) { return id >= 0 && id < N_SPLITS ? SPLIT_NAMES[id] : "?"; }

/* s == name ignoring ASCII case and spaces around s. */
static int label_equal(const char *s, const char *name)
{
    while (*s == ' ') s++;
    while (*name) {
        char c = *s++;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != *name++) return 0;
    }
    while (*s == ' ') s++;
    return *s == '\0';
}

static int label_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (label_equal(s, names[i])) return i;
    return -1;
}

int emotion_from_name(const char *s) { return label_index(s, EMOTION_NAMES, N_EMOTIONS); }
int sentiment_from_name(const char *s) { return label_index(s, SENTIMENT_NAMES, N_SENTIMENTS); }

/* Reads between min and max digits at *p into *v; advances *p. */
static int read_digits(const char **p, int min, int max, int *v, int *count)
{
    int n = 0, x = 0;
    while (n < max && **p >= '0' && **p <= '9') {
        x = x * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n < min || (**p >= '0' && **p <= '9')) return MELD_ERR;
    *v = x;
    if (count) *count = n;
    return MELD_OK;
}

int dataset_parse_time_ms(const char *s, int *ms)
{
    int h, m, sec, frac, nfrac;
    const char *p = s;
    while (*p == ' ') p++;
    if (read_digits(&p, 1, 2, &h, NULL) || *p++ != ':') return MELD_ERR;
    if (read_digits(&p, 2, 2, &m, NULL) || *p++ != ':') return MELD_ERR;
    if (read_digits(&p, 2, 2, &sec, NULL) || (*p != ',' && *p != '.')) return MELD_ERR;
    p++;
    if (read_digits(&p, 1, 3, &frac, &nfrac)) return MELD_ERR;
    while (*p == ' ') p++;
    if (*p || m > 59 || sec > 59) return MELD_ERR;
    /* The fraction is decimal: ",8" = 800 ms, ",82" = 820 ms, ",820" = 820 ms. */
    for (int k = nfrac; k < 3; k++) frac *= 10;
    *ms = ((h * 60 + m) * 60 + sec) * 1000 + frac; /* at most 99:59:59,999: fits in int */
    return MELD_OK;
}

void dataset_format_time(int ms, char *buf, size_t cap)
{
    if (ms < 0) ms = 0;
    snprintf(buf, cap, "%02d:%02d:%02d,%03d", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

/* ---- rows -> utterances ---------------------------------------------- */

enum { COL_SR, COL_UTT, COL_SPK, COL_EMO, COL_SENT, COL_DIA, COL_UID, COL_SEASON, COL_EP, COL_START, COL_END, N_COLS };
static const char *const COLUMN_NAMES[N_COLS] = {
    "Sr No.", "Utterance", "Speaker",  "Emotion",   "Sentiment", "Dialogue_ID",
    "Utterance_ID", "Season", "Episode", "StartTime", "EndTime",
};
/* Ids above this are taken as garbage (MELD's largest is 10478). */
#define MAX_ID 100000000

/* A non-negative decimal integer, spaces around allowed. */
static int parse_id(const char *s, int *out)
{
    int v, n;
    while (*s == ' ') s++;
    if (read_digits(&s, 1, 9, &v, &n)) return MELD_ERR;
    while (*s == ' ') s++;
    if (*s || v > MAX_ID) return MELD_ERR;
    *out = v;
    return MELD_OK;
}

/* Fills u from CSV row r; on a bad field writes the reason into why. */
static int parse_row(const CsvTable *t, size_t r, const int col[N_COLS], Utterance *u, char *why, size_t cap)
{
    size_t n = csv_row_fields(t, r), want = csv_row_fields(t, 0);
    if (n < want) { /* name the first column the row lacks */
        snprintf(why, cap, "column '%.40s': missing (row has %zu fields, the header has %zu)", csv_field(t, 0, n), n,
                 want);
        return MELD_ERR;
    }
    if (n > want) {
        snprintf(why, cap, "row has %zu fields, the header has %zu", n, want);
        return MELD_ERR;
    }
    const char *f[N_COLS];
    for (int c = 0; c < N_COLS; c++) f[c] = csv_field(t, r, (size_t)col[c]);

    static const int id_cols[] = {COL_SR, COL_DIA, COL_UID, COL_SEASON, COL_EP};
    int *id_out[] = {&u->sr_no, &u->dialogue_id, &u->utterance_id, &u->season, &u->episode};
    for (int k = 0; k < 5; k++) {
        int c = id_cols[k];
        if (parse_id(f[c], id_out[k])) {
            snprintf(why, cap, "column '%s': '%.40s' is not a non-negative integer", COLUMN_NAMES[c], f[c]);
            return MELD_ERR;
        }
    }
    u->emotion = emotion_from_name(f[COL_EMO]);
    if (u->emotion < 0) {
        snprintf(why, cap, "column 'Emotion': unknown label '%.40s'", f[COL_EMO]);
        return MELD_ERR;
    }
    u->sentiment = sentiment_from_name(f[COL_SENT]);
    if (u->sentiment < 0) {
        snprintf(why, cap, "column 'Sentiment': unknown label '%.40s'", f[COL_SENT]);
        return MELD_ERR;
    }
    if (dataset_parse_time_ms(f[COL_START], &u->start_ms)) {
        snprintf(why, cap, "column 'StartTime': malformed timestamp '%.40s' (want hh:mm:ss,mmm)", f[COL_START]);
        return MELD_ERR;
    }
    if (dataset_parse_time_ms(f[COL_END], &u->end_ms)) {
        snprintf(why, cap, "column 'EndTime': malformed timestamp '%.40s' (want hh:mm:ss,mmm)", f[COL_END]);
        return MELD_ERR;
    }
    u->text = f[COL_UTT];
    u->speaker = f[COL_SPK];
    u->line = t->row_line[r];
    return MELD_OK;
}

/* Maps each required column to its index in the header. */
static int map_columns(const CsvTable *t, const char *name, int col[N_COLS])
{
    if (t->n_rows == 0) return meld_errorf("%s: empty file (no header row)", name);
    char missing[400] = "";
    for (int c = 0; c < N_COLS; c++) {
        col[c] = csv_find_column(t, COLUMN_NAMES[c]);
        if (col[c] < 0) {
            size_t used = strlen(missing);
            snprintf(missing + used, sizeof missing - used, "%s'%s'", used ? ", " : "", COLUMN_NAMES[c]);
        }
    }
    if (missing[0]) return meld_errorf("%s: line %ld: missing column %s", name, t->row_line[0], missing);
    return MELD_OK;
}

/* Lenient mode: remember a skipped row. */
static void note_skipped(Split *s, long line, const char *why)
{
    SkippedRow *row = &s->skipped[s->n_skipped++];
    row->line = line;
    snprintf(row->reason, sizeof row->reason, "%s", why);
}

static int by_dialogue_then_utterance(const void *pa, const void *pb)
{
    const Utterance *a = pa, *b = pb;
    if (a->dialogue_id != b->dialogue_id) return a->dialogue_id < b->dialogue_id ? -1 : 1;
    if (a->utterance_id != b->utterance_id) return a->utterance_id < b->utterance_id ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

/* Sorts the utterances and drops (lenient) or rejects repeated ids. */
static int sort_and_dedupe(Split *s, const char *name, int lenient)
{
    qsort(s->utts, s->n_utts, sizeof *s->utts, by_dialogue_then_utterance);
    size_t w = 0;
    for (size_t i = 0; i < s->n_utts; i++) {
        const Utterance *u = &s->utts[i];
        if (w > 0 && s->utts[w - 1].dialogue_id == u->dialogue_id &&
            s->utts[w - 1].utterance_id == u->utterance_id) {
            char why[160];
            snprintf(why, sizeof why, "Dialogue_ID %d, Utterance_ID %d already on line %ld", u->dialogue_id,
                     u->utterance_id, s->utts[w - 1].line);
            if (!lenient) return meld_errorf("%s: line %ld: %s", name, u->line, why);
            note_skipped(s, u->line, why);
            continue;
        }
        s->utts[w++] = *u;
    }
    s->n_utts = w;
    return MELD_OK;
}

/* Groups the sorted utterances into dialogues and counts id gaps. */
static int build_dialogues(Split *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_utts; i++)
        if (i == 0 || s->utts[i].dialogue_id != s->utts[i - 1].dialogue_id) n++;
    s->dialogues = meld_calloc(n, sizeof *s->dialogues, "dialogues");
    if (!s->dialogues) return MELD_ERR;
    Dialogue *d = NULL;
    for (size_t i = 0; i < s->n_utts; i++) {
        const Utterance *u = &s->utts[i];
        if (!d || u->dialogue_id != d->id) {
            d = &s->dialogues[s->n_dialogues++];
            d->id = u->dialogue_id;
            d->first = i;
        }
        d->n_utts++;
        d->max_utterance_id = u->utterance_id; /* sorted: the last is the largest */
    }
    for (size_t k = 0; k < s->n_dialogues; k++) {
        d = &s->dialogues[k];
        /* ids run 0..max with no repeats, so max+1-n of them are missing */
        d->n_missing_ids = d->max_utterance_id + 1 - d->n_utts;
    }
    return MELD_OK;
}

/* ---- clips ---------------------------------------------------------- */

typedef struct {
    char **names;  /* sorted by strcmp */
    unsigned char *used;
    size_t n;
} NameList;

static void names_free(NameList *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    free(l->used);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Lists dir's entries, skipping hidden ones and the "._*" files macOS
 * leaves in archives. */
static int list_names(const char *dir, NameList *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return meld_errorf("%s: cannot open folder: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    int rc = MELD_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden, "._dia0_utt0.mp4" */
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            char **p = realloc(out->names, ncap * sizeof *p);
            if (!p) {
                rc = meld_errorf("%s: out of memory listing the folder", dir);
                break;
            }
            out->names = p;
            cap = ncap;
        }
        size_t len = strlen(e->d_name);
        char *copy = meld_malloc(len + 1, "file name");
        if (!copy) {
            rc = MELD_ERR;
            break;
        }
        memcpy(copy, e->d_name, len + 1);
        out->names[out->n++] = copy;
    }
    closedir(d);
    if (rc == MELD_OK) {
        out->used = meld_calloc(out->n, 1, "file name flags");
        if (!out->used) rc = MELD_ERR;
    }
    if (rc) {
        names_free(out);
        return MELD_ERR;
    }
    qsort(out->names, out->n, sizeof *out->names, cmp_str);
    return MELD_OK;
}

static const char *const CLIP_EXT[3] = {"mp4", "wav", "y4m"}; /* bit k = 1 << k, preference order */

int dataset_is_clip_name(const char *name)
{
    if (strncmp(name, "dia", 3) != 0) return 0;
    const char *p = name + 3;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
    if (strncmp(p, "_utt", 4) != 0) return 0;
    p += 4;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
    if (*p++ != '.') return 0;
    for (int k = 0; k < 3; k++)
        if (!strcmp(p, CLIP_EXT[k])) return 1;
    return 0;
}

/* A clip is usable when it opens and is a non-empty regular file.
 * O_NONBLOCK: a FIFO opened for reading would wait for a writer forever. */
static int clip_readable(const char *path)
{
    int fd;
    if (input_file_open(path, &fd)) return 0;
    struct stat st;
    int ok = fstat(fd, &st) == 0 && st.st_size > 0;
    close(fd);
    return ok;
}

static int join_path(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) return meld_errorf("%s/%s: path too long", dir, name);
    return MELD_OK;
}

/* Looks up every utterance's clips in s->clip_dir. A folder that cannot be
 * listed is not fatal: the split is left without clips, with a warning. */
static int attach_clips(Split *s)
{
    NameList names;
    if (list_names(s->clip_dir, &names)) {
        meld_warnf("%s; clips not checked", meld_error());
        s->clip_dir[0] = '\0';
        return MELD_OK;
    }
    char name[64], path[DATASET_PATH_MAX + 64];
    int rc = MELD_OK;
    for (size_t i = 0; i < s->n_utts && rc == MELD_OK; i++) {
        Utterance *u = &s->utts[i];
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "dia%d_utt%d.%s", u->dialogue_id, u->utterance_id, CLIP_EXT[k]);
            const char *key = name;
            char **hit = bsearch(&key, names.names, names.n, sizeof *names.names, cmp_str);
            if (!hit) continue;
            names.used[hit - names.names] = 1;
            /* a path too long to build cannot be opened either: unreadable */
            if (join_path(path, sizeof path, s->clip_dir, name) || !clip_readable(path)) {
                u->bad_clips |= 1u << k;
                continue;
            }
            u->clips |= 1u << k;
            if (u->clip_path) continue; /* keep the preferred kind */
            if (!(u->clip_path = meld_malloc(strlen(path) + 1, "clip path"))) {
                rc = MELD_ERR;
                break;
            }
            strcpy(u->clip_path, path);
        }
        if (u->clips) s->clips_found++;
        else if (u->bad_clips) s->clips_unreadable++;
        else s->clips_missing++;
    }
    for (size_t j = 0; j < names.n; j++)
        if (!names.used[j] && dataset_is_clip_name(names.names[j])) s->clips_orphan++;
    names_free(&names);
    return rc;
}

int dataset_clip_path(const Split *s, const Utterance *u, unsigned kind, char *buf, size_t cap)
{
    for (int k = 0; k < 3; k++) {
        if (kind != 1u << k) continue;
        if (!(u->clips & kind))
            return meld_errorf("dia%d_utt%d: no readable .%s clip in '%s'", u->dialogue_id, u->utterance_id,
                               CLIP_EXT[k], s->clip_dir);
        char name[64];
        snprintf(name, sizeof name, "dia%d_utt%d.%s", u->dialogue_id, u->utterance_id, CLIP_EXT[k]);
        return join_path(buf, cap, s->clip_dir, name);
    }
    return meld_errorf("dataset_clip_path: kind %u is not one of CLIP_MP4, CLIP_WAV, CLIP_Y4M", kind);
}

/* ---- loading ---------------------------------------------------------- */

static int copy_path(char *dst, const char *src, const char *what)
{
    if (!src) src = "";
    if (strlen(src) >= DATASET_PATH_MAX) return meld_errorf("%s: %s path too long", src, what);
    strcpy(dst, src);
    return MELD_OK;
}

/* Builds the index from an already parsed table (takes ownership). */
static int index_table(Split *s, const char *name, const DatasetOptions *opt)
{
    int lenient = opt && opt->lenient;
    int col[N_COLS];
    if (map_columns(&s->csv, name, col)) return MELD_ERR;
    size_t rows = s->csv.n_rows - 1;
    s->utts = meld_calloc(rows, sizeof *s->utts, "utterances");
    s->skipped = meld_calloc(rows, sizeof *s->skipped, "skipped rows");
    if (!s->utts || !s->skipped) return MELD_ERR;
    for (size_t r = 1; r < s->csv.n_rows; r++) {
        char why[200];
        Utterance *u = &s->utts[s->n_utts];
        memset(u, 0, sizeof *u);
        if (parse_row(&s->csv, r, col, u, why, sizeof why) == MELD_OK) {
            s->n_utts++;
            continue;
        }
        if (!lenient) return meld_errorf("%s: line %ld, %s", name, s->csv.row_line[r], why);
        note_skipped(s, s->csv.row_line[r], why);
    }
    if (sort_and_dedupe(s, name, lenient) || build_dialogues(s)) return MELD_ERR;
    if (s->n_skipped)
        meld_warnf("%s: skipped %zu bad rows (--lenient); first: line %ld, %s", name, s->n_skipped,
                   s->skipped[0].line, s->skipped[0].reason);
    if (opt && opt->skip_clips) s->clip_dir[0] = '\0';
    return s->clip_dir[0] ? attach_clips(s) : MELD_OK;
}

int dataset_parse_split(const char *data, size_t len, const char *name, const char *clip_dir,
                        const DatasetOptions *opt, Split *out)
{
    memset(out, 0, sizeof *out);
    if (copy_path(out->clip_dir, clip_dir, "clip folder") || csv_parse(data, len, name, &out->csv)) return MELD_ERR;
    out->present = 1;
    if (index_table(out, name, opt)) {
        split_free(out);
        return MELD_ERR;
    }
    return MELD_OK;
}

int dataset_load_split(const char *csv_path, const char *clip_dir, const DatasetOptions *opt, Split *out)
{
    memset(out, 0, sizeof *out);
    if (copy_path(out->csv_path, csv_path, "CSV") || copy_path(out->clip_dir, clip_dir, "clip folder") ||
        csv_read_file(csv_path, &out->csv))
        return MELD_ERR;
    out->present = 1;
    if (index_table(out, csv_path, opt)) {
        split_free(out);
        return MELD_ERR;
    }
    return MELD_OK;
}

void split_free(Split *s)
{
    for (size_t i = 0; i < s->n_utts; i++) free(s->utts[i].clip_path);
    free(s->utts);
    free(s->dialogues);
    free(s->skipped);
    csv_free(&s->csv);
    memset(s, 0, sizeof *s);
}

void dataset_free(Dataset *ds)
{
    for (int s = 0; s < N_SPLITS; s++) split_free(&ds->split[s]);
}

void dataset_speaker_indices(const Split *s, int *speaker)
{
    for (size_t d = 0; d < s->n_dialogues; d++) {
        const Dialogue *dia = &s->dialogues[d];
        for (int k = 0; k < dia->n_utts; k++) {
            const char *name = s->utts[dia->first + (size_t)k].speaker;
            int idx = -1;
            for (int j = 0; j < k && idx < 0; j++)
                if (!strcmp(s->utts[dia->first + (size_t)j].speaker, name)) idx = speaker[dia->first + (size_t)j];
            if (idx < 0) {
                idx = 0;
                for (int j = 0; j < k; j++) idx = speaker[dia->first + (size_t)j] + 1 > idx ? speaker[dia->first + (size_t)j] + 1 : idx;
            }
            speaker[dia->first + (size_t)k] = idx;
        }
    }
}

size_t dataset_n_utterances(const Dataset *ds)
{
    size_t n = 0;
    for (int s = 0; s < N_SPLITS; s++) n += ds->split[s].n_utts;
    return n;
}

int dataset_load_from(const DatasetLocation *loc, Dataset *out, const DatasetOptions *opt)
{
    memset(out, 0, sizeof *out);
    strcpy(out->root, loc->root);
    for (int s = 0; s < N_SPLITS; s++) {
        if (!loc->csv[s][0]) {
            meld_warnf("%s_sent_emo.csv not found under %s: split '%s' left out", split_name(s), loc->root,
                       split_name(s));
            continue;
        }
        if (dataset_load_split(loc->csv[s], loc->clip_dir[s], opt, &out->split[s])) {
            dataset_free(out);
            return MELD_ERR;
        }
    }
    return MELD_OK;
}

int dataset_load(const char *data_dir, Dataset *out, const DatasetOptions *opt)
{
    memset(out, 0, sizeof *out);
    DatasetLocation loc;
    if (dataset_locate(data_dir, &loc)) return MELD_ERR;
    return dataset_load_from(&loc, out, opt);
}
