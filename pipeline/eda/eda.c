/* EDA statistics: one pass over each split's utterances and dialogues.
 * Definitions in eda.h; writers in eda_report.c and eda_html.c. */
#include "pipeline/eda/eda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* declare-lab/MELD README: [4.0, 15.0, 15.0, 3.0, 1.0, 6.0, 3.0] indexed
 * neutral 0, surprise 1, fear 2, sadness 3, joy 4, disgust 5, anger 6. */
const double MELD_BASELINE_EMOTION_WEIGHTS[N_EMOTIONS] = {
    [EMOTION_NEUTRAL] = 4.0, [EMOTION_SURPRISE] = 15.0, [EMOTION_FEAR] = 15.0, [EMOTION_SADNESS] = 3.0,
    [EMOTION_JOY] = 1.0,     [EMOTION_DISGUST] = 6.0,   [EMOTION_ANGER] = 3.0,
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

int eda_count_words(const char *s)
{
    int n = 0;
    for (int in_word = 0; *s; s++) {
        if (is_space(*s)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}

int eda_duration_is_issue(const Utterance *u)
{
    int d = u->end_ms - u->start_ms;
    return d <= 0 || d > EDA_MAX_DURATION_MS;
}

/* The ids lo..hi-1 are missing: stores those that fit in ids[n..max),
 * returns how many there are (without looping over a huge gap). */
static size_t list_range(int lo, int hi, int *ids, size_t n, size_t max)
{
    if (hi <= lo) return 0;
    size_t gap = (size_t)(hi - lo);
    for (size_t j = 0; j < gap && n + j < max; j++) ids[n + j] = lo + (int)j;
    return gap;
}

size_t eda_missing_utterance_ids(const Split *s, const Dialogue *d, int *ids, size_t max)
{
    size_t n = 0;
    int next = 0; /* the id expected if there were no gap */
    for (int k = 0; k < d->n_utts; k++) {
        int id = s->utts[d->first + (size_t)k].utterance_id;
        n += list_range(next, id, ids, n, max);
        next = id + 1;
    }
    return n;
}

size_t eda_missing_dialogue_ids(const Split *s, int *ids, size_t max)
{
    size_t n = 0;
    int next = 0;
    for (size_t k = 0; k < s->n_dialogues; k++) {
        int id = s->dialogues[k].id;
        n += list_range(next, id, ids, n, max);
        next = id + 1;
    }
    return n;
}

/* ---- per-utterance and per-dialogue sums ----------------------------- */

static void add_utterance(EdaStats *st, const Utterance *u)
{
    st->utterances++;
    st->emotion[u->emotion]++;
    st->sentiment[u->sentiment]++;
    st->sentiment_emotion[u->sentiment][u->emotion]++;

    int w = eda_count_words(u->text);
    st->words_total += (uint64_t)w;
    st->words_emotion[u->emotion] += (uint64_t)w;
    st->words_sentiment[u->sentiment] += (uint64_t)w;
    if (w > st->max_words) st->max_words = w;
    st->words_hist[w < EDA_WORD_BINS - 1 ? w : EDA_WORD_BINS - 1]++;

    if (eda_duration_is_issue(u)) {
        st->durations_bad++;
    } else {
        int64_t d = u->end_ms - u->start_ms;
        st->durations_ok++;
        st->duration_ms_total += (uint64_t)d;
        if (d > st->duration_ms_max) st->duration_ms_max = d;
    }
}

typedef struct {
    const Utterance *u;
    int pos;          /* order in the dialogue */
} Turn;

static int by_speaker_then_pos(const void *pa, const void *pb)
{
    const Turn *a = pa, *b = pb;
    int c = strcmp(a->u->speaker, b->u->speaker);
    if (c) return c;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Emotion shifts in one dialogue. Sorting its turns by (speaker, position)
 * puts each speaker's utterances next to each other in dialogue order, so
 * consecutive same-speaker pairs are adjacent entries: O(n log n) even for
 * a pathological dialogue. turns has room for d->n_utts. */
static void add_shifts(EdaStats *st, const Split *s, const Dialogue *d, Turn *turns)
{
    for (int k = 0; k < d->n_utts; k++) turns[k] = (Turn){&s->utts[d->first + (size_t)k], k};
    qsort(turns, (size_t)d->n_utts, sizeof *turns, by_speaker_then_pos);
    for (int k = 1; k < d->n_utts; k++) {
        if (strcmp(turns[k].u->speaker, turns[k - 1].u->speaker) != 0) continue;
        st->same_speaker_pairs++;
        if (turns[k].u->emotion != turns[k - 1].u->emotion) st->emotion_shifts++;
    }
}

static void add_dialogue(EdaStats *st, const Split *s, const Dialogue *d, Turn *turns)
{
    st->dialogues++;
    if (d->n_utts > st->max_dialogue_length) st->max_dialogue_length = d->n_utts;
    st->dialogue_len_hist[d->n_utts < EDA_DIALOGUE_BINS - 1 ? d->n_utts : EDA_DIALOGUE_BINS - 1]++;
    unsigned seen = 0; /* bit e set when emotion e occurs */
    for (int k = 0; k < d->n_utts; k++) seen |= 1u << s->utts[d->first + (size_t)k].emotion;
    for (int e = 0; e < N_EMOTIONS; e++) st->emotions_in_dialogues += (seen >> e) & 1u;
    if (d->n_missing_ids > 0) {
        st->gap_dialogues++;
        st->missing_utterance_ids += (size_t)d->n_missing_ids;
    }
    add_shifts(st, s, d, turns);
}

static int add_split(EdaStats *st, const Split *s)
{
    st->present = 1;
    int longest = 0;
    for (size_t k = 0; k < s->n_dialogues; k++)
        if (s->dialogues[k].n_utts > longest) longest = s->dialogues[k].n_utts;
    Turn *turns = meld_calloc((size_t)longest, sizeof *turns, "dialogue turns");
    if (!turns) return MELD_ERR;
    for (size_t i = 0; i < s->n_utts; i++) add_utterance(st, &s->utts[i]);
    for (size_t k = 0; k < s->n_dialogues; k++) add_dialogue(st, s, &s->dialogues[k], turns);
    free(turns);
    if (s->n_dialogues) {
        /* ids are unique and sorted: absent ones = (max id + 1) - count */
        st->missing_dialogue_ids += (size_t)s->dialogues[s->n_dialogues - 1].id + 1 - s->n_dialogues;
    }
    if (s->clip_dir[0]) {
        st->has_clips = 1;
        st->clips_found += s->clips_found;
        st->clips_missing += s->clips_missing;
        st->clips_unreadable += s->clips_unreadable;
        st->clips_orphan += s->clips_orphan;
    }
    st->skipped_rows += s->n_skipped;
    st->mojibake_repairs += s->csv.mojibake_repairs;
    st->cp1252_bytes += s->csv.cp1252_bytes;
    return MELD_OK;
}

/* ---- derived numbers ----------------------------------------------- */

static double ratio(uint64_t num, size_t den) { return den ? (double)num / (double)den : NAN; }

/* max/min class count; inf when a class is empty, NAN with no samples. */
static double imbalance(const size_t *count, int k)
{
    size_t lo = count[0], hi = count[0];
    for (int c = 1; c < k; c++) {
        if (count[c] < lo) lo = count[c];
        if (count[c] > hi) hi = count[c];
    }
    if (hi == 0) return NAN;
    return lo ? (double)hi / (double)lo : INFINITY;
}

/* w_c = N / (K n_c): a class seen n_c times then carries N/K in total, as
 * if all K classes were equally frequent. */
static void inverse_frequency(const size_t *count, int k, size_t n, double *w)
{
    for (int c = 0; c < k; c++) w[c] = count[c] ? (double)n / ((double)k * (double)count[c]) : NAN;
}

static void finish(EdaStats *st)
{
    st->mean_words = ratio(st->words_total, st->utterances);
    for (int e = 0; e < N_EMOTIONS; e++) st->mean_words_emotion[e] = ratio(st->words_emotion[e], st->emotion[e]);
    for (int s = 0; s < N_SENTIMENTS; s++)
        st->mean_words_sentiment[s] = ratio(st->words_sentiment[s], st->sentiment[s]);
    st->mean_emotions_per_dialogue = ratio(st->emotions_in_dialogues, st->dialogues);
    st->mean_duration_s = ratio(st->duration_ms_total, st->durations_ok) / 1000.0;
    st->max_duration_s = st->durations_ok ? (double)st->duration_ms_max / 1000.0 : NAN;
    st->imbalance_emotion = imbalance(st->emotion, N_EMOTIONS);
    st->imbalance_sentiment = imbalance(st->sentiment, N_SENTIMENTS);
    inverse_frequency(st->emotion, N_EMOTIONS, st->utterances, st->weight_emotion);
    inverse_frequency(st->sentiment, N_SENTIMENTS, st->utterances, st->weight_sentiment);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Distinct speaker names over the given splits. */
static int count_speakers(const Split *const *splits, int n, size_t *out)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) total += splits[i]->n_utts;
    const char **names = meld_calloc(total, sizeof *names, "speaker names");
    if (!names) return MELD_ERR;
    size_t k = 0;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < splits[i]->n_utts; j++) names[k++] = splits[i]->utts[j].speaker;
    qsort(names, total, sizeof *names, cmp_str);
    size_t distinct = 0;
    for (size_t j = 0; j < total; j++)
        if (j == 0 || strcmp(names[j], names[j - 1]) != 0) distinct++;
    free(names);
    *out = distinct;
    return MELD_OK;
}

int eda_compute(const Dataset *ds, EdaReport *out)
{
    memset(out, 0, sizeof *out);
    out->ds = ds;
    const Split *present[N_SPLITS];
    int n_present = 0;
    for (int s = 0; s < N_SPLITS; s++) {
        const Split *sp = &ds->split[s];
        if (!sp->present) continue;
        present[n_present++] = sp;
        if (add_split(&out->split[s], sp) || add_split(&out->all, sp) ||
            count_speakers(&sp, 1, &out->split[s].speakers))
            return MELD_ERR;
        finish(&out->split[s]);
    }
    if (n_present == 0) return meld_errorf("eda: no split loaded");
    if (count_speakers(present, n_present, &out->all.speakers)) return MELD_ERR;
    finish(&out->all);
    return MELD_OK;
}

void eda_add_features(EdaReport *r, const DatasetLocation *loc, MeldFeatures storage[N_FEATURE_PICKLES])
{
    for (int k = 0; k < N_FEATURE_PICKLES; k++) {
        EdaFeatures *e = &r->features[k];
        memset(&storage[k], 0, sizeof storage[k]);
        snprintf(e->path, sizeof e->path, "%s", loc->feature_pickle[k]);
        if (!e->path[0]) continue;
        if (meld_features_read(e->path, r->ds, &storage[k]) == MELD_OK) e->features = &storage[k];
        else snprintf(e->error, sizeof e->error, "%s", meld_error());
        (void)meld_take_warning();   /* the report lists what the warnings would */
    }
}
