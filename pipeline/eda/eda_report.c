/* The text and JSON forms of the EDA report. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eda/eda.h"
#include "tensor/error.h"
#include "tensor/json.h"

/* How many entries of a long list the text report shows. */
#define TEXT_LIST_MAX 10

/* The columns of the text report: the splits present, then "all". */
typedef struct {
    const EdaStats *st[N_SPLITS + 1];
    const char *name[N_SPLITS + 1];
    int n;
} Columns;

static Columns columns_of(const EdaReport *r)
{
    Columns c = {{0}, {0}, 0};
    for (int s = 0; s < N_SPLITS; s++) {
        if (!r->split[s].present) continue;
        c.st[c.n] = &r->split[s];
        c.name[c.n++] = split_name(s);
    }
    c.st[c.n] = &r->all;
    c.name[c.n++] = "all";
    return c;
}

/* v with the given decimals; "-" for NAN, "inf" for infinity. */
static const char *num(char *buf, size_t cap, double v, int decimals)
{
    if (isnan(v)) snprintf(buf, cap, "-");
    else if (isinf(v)) snprintf(buf, cap, "inf");
    else snprintf(buf, cap, "%.*f", decimals, v);
    return buf;
}

static void print_row(FILE *fp, const char *label, const double *v, int n, int decimals)
{
    char b[32];
    fprintf(fp, "%-34s", label);
    for (int i = 0; i < n; i++) fprintf(fp, "%10s", num(b, sizeof b, v[i], decimals));
    fputc('\n', fp);
}

/* One row of the summary table: expr is evaluated with st pointing at each
 * column's stats in turn. */
#define ROW(label, expr, decimals)                                     \
    do {                                                               \
        double v_[N_SPLITS + 1] = {0};                                 \
        for (int i_ = 0; i_ < c.n; i_++) {                             \
            const EdaStats *st = c.st[i_];                             \
            v_[i_] = (double)(expr);                                   \
        }                                                              \
        print_row(fp, label, v_, c.n, decimals);                       \
    } while (0)

static void text_sources(const EdaReport *r, FILE *fp)
{
    fprintf(fp, "MELD annotations under %s\n", r->ds->root[0] ? r->ds->root : "(memory)");
    for (int s = 0; s < N_SPLITS; s++) {
        const Split *sp = &r->ds->split[s];
        if (!sp->present) {
            fprintf(fp, "  %-5s not found\n", split_name(s));
            continue;
        }
        fprintf(fp, "  %-5s %zu utterances from %s; clips: %s\n", split_name(s), sp->n_utts,
                sp->csv_path[0] ? sp->csv_path : "(memory)", sp->clip_dir[0] ? sp->clip_dir : "no clip folder");
    }
    fputc('\n', fp);
}

void eda_text_summary(const EdaReport *r, FILE *fp)
{
    Columns c = columns_of(r);
    fprintf(fp, "%-34s", "");
    for (int i = 0; i < c.n; i++) fprintf(fp, "%10s", c.name[i]);
    fputc('\n', fp);
    ROW("utterances", st->utterances, 0);
    ROW("dialogues", st->dialogues, 0);
    ROW("speakers", st->speakers, 0);
    ROW("longest dialogue (utterances)", st->max_dialogue_length, 0);
    ROW("words per utterance, mean", st->mean_words, 2);
    ROW("words per utterance, max", st->max_words, 0);
    ROW("distinct emotions per dialogue", st->mean_emotions_per_dialogue, 2);
    ROW("emotion shifts", st->emotion_shifts, 0);
    ROW("  of same-speaker consecutive pairs", st->same_speaker_pairs, 0);
    ROW("duration s, mean (0 < d <= 60 s)", st->mean_duration_s, 3);
    ROW("duration s, max  (0 < d <= 60 s)", st->max_duration_s, 3);
    ROW("rows with duration <= 0 or > 60 s", st->durations_bad, 0);
    ROW("dialogues with utterance-id gaps", st->gap_dialogues, 0);
    ROW("missing utterance ids", st->missing_utterance_ids, 0);
    ROW("missing dialogue ids", st->missing_dialogue_ids, 0);
    if (r->all.skipped_rows) ROW("rows skipped (--lenient)", st->skipped_rows, 0);
    if (r->all.mojibake_repairs) ROW("mojibake sequences repaired", st->mojibake_repairs, 0);
    if (r->all.cp1252_bytes) ROW("bytes read as cp1252", st->cp1252_bytes, 0);
    if (r->all.has_clips) {
        ROW("clips found", st->clips_found, 0);
        ROW("clips missing", st->clips_missing, 0);
        ROW("clips unreadable", st->clips_unreadable, 0);
        ROW("clip files with no row", st->clips_orphan, 0);
    }
    fputc('\n', fp);
}

/* Class table: count and share per column, then the mean words over all
 * splits and the suggested weights: inverse frequency on the train split
 * (what a trainer would use; all splits if train is absent) and the MELD
 * baseline's. The JSON has the weights of every split. */
void eda_text_classes(const EdaReport *r, FILE *fp, int emotion)
{
    Columns c = columns_of(r);
    int k = emotion ? N_EMOTIONS : N_SENTIMENTS;
    const EdaStats *all = &r->all, *wsrc = r->split[SPLIT_TRAIN].present ? &r->split[SPLIT_TRAIN] : all;
    char b1[32], b2[32], b3[32];
    fprintf(fp, "%-10s", emotion ? "emotion" : "sentiment");
    for (int i = 0; i < c.n; i++) fprintf(fp, "%15s", c.name[i]);
    fprintf(fp, "%8s%9s%s\n", "words", wsrc == all ? "w_all" : "w_train", emotion ? "  w_MELD" : "");
    for (int j = 0; j < k; j++) {
        fprintf(fp, "%-10s", emotion ? emotion_name(j) : sentiment_name(j));
        for (int i = 0; i < c.n; i++) {
            size_t n = emotion ? c.st[i]->emotion[j] : c.st[i]->sentiment[j];
            double share = c.st[i]->utterances ? 100.0 * (double)n / (double)c.st[i]->utterances : NAN;
            fprintf(fp, "%8zu %5s%%", n, num(b1, sizeof b1, share, 1));
        }
        fprintf(fp, "%8s%9s", num(b2, sizeof b2, emotion ? all->mean_words_emotion[j] : all->mean_words_sentiment[j], 2),
                num(b3, sizeof b3, emotion ? wsrc->weight_emotion[j] : wsrc->weight_sentiment[j], 3));
        if (emotion) fprintf(fp, "%8.1f", MELD_BASELINE_EMOTION_WEIGHTS[j]);
        fputc('\n', fp);
    }
    fprintf(fp, "%-10s", "max/min");
    for (int i = 0; i < c.n; i++)
        fprintf(fp, "%15s", num(b1, sizeof b1, emotion ? c.st[i]->imbalance_emotion : c.st[i]->imbalance_sentiment, 2));
    fprintf(fp, "\n\n");
}

void eda_text_crosstab(const EdaReport *r, FILE *fp)
{
    fprintf(fp, "sentiment x emotion (all splits)\n%-10s", "");
    for (int e = 0; e < N_EMOTIONS; e++) fprintf(fp, "%9s", emotion_name(e));
    fputc('\n', fp);
    for (int s = 0; s < N_SENTIMENTS; s++) {
        fprintf(fp, "%-10s", sentiment_name(s));
        for (int e = 0; e < N_EMOTIONS; e++) fprintf(fp, "%9zu", r->all.sentiment_emotion[s][e]);
        fputc('\n', fp);
    }
    fputc('\n', fp);
}

/* Histogram rows of bins [lo, lo+width), lo = first, first+width, ...,
 * with a bar of '#' scaled to the largest row. */
static void text_histogram(FILE *fp, const char *title, const size_t *bins, int n_bins, int first, int width)
{
    size_t grouped[EDA_WORD_BINS] = {0}, top = 0;
    int n_groups = 0;
    for (int b = first; b < n_bins; b++) {
        if (!bins[b]) continue;
        int g = (b - first) / width;
        grouped[g] += bins[b];
        if (g + 1 > n_groups) n_groups = g + 1;
    }
    for (int g = 0; g < n_groups; g++)
        if (grouped[g] > top) top = grouped[g];
    fprintf(fp, "%s\n", title);
    for (int g = 0; g < n_groups; g++) {
        char range[32];
        int lo = first + g * width, hi = lo + width - 1;
        if (hi >= n_bins - 1) snprintf(range, sizeof range, "%d+", lo); /* the last bin is open */
        else snprintf(range, sizeof range, "%d-%d", lo, hi);
        int bar = top ? (int)((50 * grouped[g] + top - 1) / top) : 0;
        fprintf(fp, "  %-7s %7zu%s%.*s\n", range, grouped[g], bar ? "  " : "", bar,
                "##################################################");
    }
    fputc('\n', fp);
}

/* Prints split sp's data issues; returns how many lines it printed. */
static int text_issues_split(const Split *sp, const char *name, FILE *fp)
{
    char t1[32], t2[32];
    int lines = 0;
    for (size_t i = 0; i < sp->n_skipped && i < TEXT_LIST_MAX; i++)
        lines += fprintf(fp, "  %s line %ld: skipped: %s\n", name, sp->skipped[i].line, sp->skipped[i].reason) > 0;
    if (sp->n_skipped > TEXT_LIST_MAX)
        lines += fprintf(fp, "  %s: ... %zu more skipped rows\n", name, sp->n_skipped - TEXT_LIST_MAX) > 0;
    for (size_t i = 0; i < sp->n_utts; i++) {
        const Utterance *u = &sp->utts[i];
        if (!eda_duration_is_issue(u)) continue;
        dataset_format_time(u->start_ms, t1, sizeof t1);
        dataset_format_time(u->end_ms, t2, sizeof t2);
        lines++;
        fprintf(fp, "  %s line %ld: dialogue %d utterance %d: duration %.3f s (%s -> %s)\n", name, u->line,
                u->dialogue_id, u->utterance_id, (u->end_ms - u->start_ms) / 1000.0, t1, t2);
    }
    int ids[TEXT_LIST_MAX];
    size_t n = eda_missing_dialogue_ids(sp, ids, TEXT_LIST_MAX);
    if (n) {
        lines++;
        fprintf(fp, "  %s: %zu missing dialogue id%s:", name, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n && i < TEXT_LIST_MAX; i++) fprintf(fp, " %d", ids[i]);
        fprintf(fp, "%s\n", n > TEXT_LIST_MAX ? " ..." : "");
    }
    size_t gaps = 0;
    for (size_t k = 0; k < sp->n_dialogues; k++) gaps += sp->dialogues[k].n_missing_ids > 0;
    if (gaps) {
        lines++;
        fprintf(fp, "  %s: %zu dialogue%s with utterance-id gaps (dialogue: missing ids):", name, gaps,
                gaps == 1 ? "" : "s");
        size_t shown = 0;
        for (size_t k = 0; k < sp->n_dialogues && shown < TEXT_LIST_MAX / 2; k++) {
            const Dialogue *d = &sp->dialogues[k];
            if (!d->n_missing_ids) continue;
            size_t m = eda_missing_utterance_ids(sp, d, ids, 3);
            fprintf(fp, "%s %d:", shown ? ";" : "", d->id);
            for (size_t j = 0; j < m && j < 3; j++) fprintf(fp, "%s%d", j ? "," : "", ids[j]);
            if (m > 3) fprintf(fp, ",...");
            shown++;
        }
        fprintf(fp, "%s\n", gaps > shown ? "; ..." : "");
    }
    if (sp->clip_dir[0] && (sp->clips_missing || sp->clips_unreadable)) {
        size_t shown = 0;
        lines++;
        fprintf(fp, "  %s: clips missing (%zu) or unreadable (%zu):", name, sp->clips_missing, sp->clips_unreadable);
        for (size_t i = 0; i < sp->n_utts && shown < TEXT_LIST_MAX; i++) {
            const Utterance *u = &sp->utts[i];
            if (u->clips) continue;
            fprintf(fp, " dia%d_utt%d%s", u->dialogue_id, u->utterance_id, u->bad_clips ? "(unreadable)" : "");
            shown++;
        }
        fprintf(fp, "%s\n", sp->clips_missing + sp->clips_unreadable > shown ? " ..." : "");
    }
    return lines;
}

void eda_text_issues(const EdaReport *r, FILE *fp)
{
    int any = 0;
    for (int s = 0; s < N_SPLITS; s++) {
        const Split *sp = &r->ds->split[s];
        if (!sp->present) continue;
        any += text_issues_split(sp, split_name(s), fp);
    }
    if (!any) fprintf(fp, "  none\n");
}

static bool any_features(const EdaReport *r)
{
    for (int k = 0; k < N_FEATURE_PICKLES; k++)
        if (r->features[k].path[0]) return true;
    return false;
}

void eda_text_features(const EdaReport *r, FILE *fp)
{
    if (!any_features(r)) return;
    static const char *const TASKS[N_FEATURE_PICKLES] = {"emotion", "sentiment"};
    fprintf(fp, "MELD's released audio features (one vector per utterance)\n");
    for (int k = 0; k < N_FEATURE_PICKLES; k++) {
        const EdaFeatures *e = &r->features[k];
        const MeldFeatures *f = e->features;
        if (!e->path[0]) fprintf(fp, "  %s: %s not found\n", TASKS[k], FEATURE_PICKLE_NAMES[k]);
        else if (!f) fprintf(fp, "  %s: unreadable: %s\n", TASKS[k], e->error);
        if (!f) continue;
        fprintf(fp, "  %s: %s, %d values per vector\n%-36s", TASKS[k], e->path, f->dim, "");
        for (int s = 0; s < N_SPLITS; s++) fprintf(fp, "%10s", split_name(s));
        const struct {
            const char *label;
            const size_t *n;
        } rows[] = {{"utterances with a vector", f->n_present},
                    {"without (masked in training)", f->n_missing},
                    {"vectors with no CSV row (unused)", f->n_orphans}};
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            fprintf(fp, "\n    %-32s", rows[i].label);
            for (int s = 0; s < N_SPLITS; s++) fprintf(fp, "%10zu", rows[i].n[s]);
        }
        fputc('\n', fp);
        for (int s = 0; s < N_SPLITS; s++) {
            if (!f->n_missing[s]) continue;
            char ids[200];
            meld_features_missing_ids(f, &r->ds->split[s], s, 10, ids, sizeof ids);
            fprintf(fp, "    %s without a vector: %s\n", split_name(s), ids);
        }
    }
    fputc('\n', fp);
}

int eda_write_text(const EdaReport *r, FILE *fp)
{
    text_sources(r, fp);
    eda_text_summary(r, fp);
    eda_text_classes(r, fp, 1);
    eda_text_classes(r, fp, 0);
    eda_text_crosstab(r, fp);
    text_histogram(fp, "words per utterance (all splits)", r->all.words_hist, EDA_WORD_BINS, 0, 5);
    text_histogram(fp, "dialogue length in utterances (all splits)", r->all.dialogue_len_hist, EDA_DIALOGUE_BINS, 1, 4);
    fprintf(fp, "data issues\n");
    eda_text_issues(r, fp);
    if (any_features(r)) fputc('\n', fp);
    eda_text_features(r, fp);
    if (fflush(fp) != 0 || ferror(fp)) return meld_errorf("eda: writing the report failed: %s", strerror(errno));
    return MELD_OK;
}

/* ---- JSON (tensor/json.h, JSON_PRETTY) ----------------------------------- */

/* Non-finite numbers (an empty class's mean, an infinite ratio) are
 * written as null by the writer. */
static void j_num(JsonWriter *j, const char *key, double v)
{
    json_real(j, key, v, "%.10g");
}

/* A whole array of counts on one line. */
static void j_counts(JsonWriter *j, const char *key, const size_t *v, int n)
{
    json_begin_array_inline(j, key);
    for (int i = 0; i < n; i++) json_uint(j, NULL, v[i]);
    json_end_array(j);
}

/* Histogram trimmed after its last non-empty bin. */
static void j_hist(JsonWriter *j, const char *key, const size_t *v, int n)
{
    int last = n;
    while (last > 0 && v[last - 1] == 0) last--;
    j_counts(j, key, v, last);
}

static void j_class_counts(JsonWriter *j, const char *key, const size_t *count, int k, int emotion)
{
    json_begin_object(j, key);
    for (int c = 0; c < k; c++) json_uint(j, emotion ? emotion_name(c) : sentiment_name(c), count[c]);
    json_end_object(j);
}

static void j_class_nums(JsonWriter *j, const char *key, const double *v, int k, int emotion)
{
    json_begin_object(j, key);
    for (int c = 0; c < k; c++) j_num(j, emotion ? emotion_name(c) : sentiment_name(c), v[c]);
    json_end_object(j);
}

static void json_stats(JsonWriter *j, const EdaStats *st)
{
    json_uint(j, "utterances", st->utterances);
    json_uint(j, "dialogues", st->dialogues);
    json_uint(j, "speakers", st->speakers);
    json_int(j, "max_dialogue_length", st->max_dialogue_length);
    j_class_counts(j, "emotion", st->emotion, N_EMOTIONS, 1);
    j_class_counts(j, "sentiment", st->sentiment, N_SENTIMENTS, 0);
    double share_e[N_EMOTIONS], share_s[N_SENTIMENTS];
    for (int e = 0; e < N_EMOTIONS; e++) share_e[e] = st->utterances ? (double)st->emotion[e] / (double)st->utterances : NAN;
    for (int s = 0; s < N_SENTIMENTS; s++)
        share_s[s] = st->utterances ? (double)st->sentiment[s] / (double)st->utterances : NAN;
    j_class_nums(j, "emotion_share", share_e, N_EMOTIONS, 1);
    j_class_nums(j, "sentiment_share", share_s, N_SENTIMENTS, 0);
    json_begin_object(j, "sentiment_emotion");
    for (int s = 0; s < N_SENTIMENTS; s++)
        j_class_counts(j, sentiment_name(s), st->sentiment_emotion[s], N_EMOTIONS, 1);
    json_end_object(j);
    j_num(j, "mean_words", st->mean_words);
    json_int(j, "max_words", st->max_words);
    j_hist(j, "words_histogram", st->words_hist, EDA_WORD_BINS);
    j_class_nums(j, "mean_words_per_emotion", st->mean_words_emotion, N_EMOTIONS, 1);
    j_class_nums(j, "mean_words_per_sentiment", st->mean_words_sentiment, N_SENTIMENTS, 0);
    j_num(j, "mean_emotions_per_dialogue", st->mean_emotions_per_dialogue);
    j_hist(j, "dialogue_length_histogram", st->dialogue_len_hist, EDA_DIALOGUE_BINS);
    json_uint(j, "emotion_shifts", st->emotion_shifts);
    json_uint(j, "same_speaker_pairs", st->same_speaker_pairs);
    j_num(j, "mean_duration_s", st->mean_duration_s);
    j_num(j, "max_duration_s", st->max_duration_s);
    json_uint(j, "duration_issues", st->durations_bad);
    json_uint(j, "gap_dialogues", st->gap_dialogues);
    json_uint(j, "missing_utterance_ids", st->missing_utterance_ids);
    json_uint(j, "missing_dialogue_ids", st->missing_dialogue_ids);
    json_begin_object(j, "imbalance_ratio");
    j_num(j, "emotion", st->imbalance_emotion);
    j_num(j, "sentiment", st->imbalance_sentiment);
    json_end_object(j);
    json_begin_object(j, "class_weights");
    j_class_nums(j, "emotion", st->weight_emotion, N_EMOTIONS, 1);
    j_class_nums(j, "sentiment", st->weight_sentiment, N_SENTIMENTS, 0);
    json_end_object(j);
    if (st->has_clips) {
        json_begin_object(j, "clips");
        json_uint(j, "found", st->clips_found);
        json_uint(j, "missing", st->clips_missing);
        json_uint(j, "unreadable", st->clips_unreadable);
        json_uint(j, "orphans", st->clips_orphan);
        json_end_object(j);
    } else {
        json_null(j, "clips");
    }
    json_uint(j, "skipped_rows", st->skipped_rows);
    json_uint(j, "mojibake_repairs", st->mojibake_repairs);
    json_uint(j, "cp1252_bytes", st->cp1252_bytes);
}

/* Lists of ids in JSON are cut at this length (the counts are exact). */
#define JSON_ID_LIST_MAX 1000

static void json_id_list(JsonWriter *j, const char *key, const int *ids, size_t n)
{
    json_begin_array_inline(j, key);
    for (size_t i = 0; i < n && i < JSON_ID_LIST_MAX; i++) json_int(j, NULL, ids[i]);
    json_end_array(j);
}

static void json_clip_list(JsonWriter *j, const char *key, const Split *sp, int unreadable)
{
    json_begin_array(j, key);
    for (size_t i = 0; i < sp->n_utts; i++) {
        const Utterance *u = &sp->utts[i];
        if (u->clips || (unreadable != (u->bad_clips != 0))) continue;
        char name[48];
        snprintf(name, sizeof name, "dia%d_utt%d", u->dialogue_id, u->utterance_id);
        json_string(j, NULL, name);
    }
    json_end_array(j);
}

static int json_issues(JsonWriter *j, const Split *sp)
{
    int *ids = meld_calloc(JSON_ID_LIST_MAX, sizeof *ids, "id list");
    if (!ids) return MELD_ERR;
    char t1[32], t2[32];
    json_begin_object(j, "data_issues");
    json_begin_array(j, "skipped_rows");
    for (size_t i = 0; i < sp->n_skipped; i++) {
        json_begin_object(j, NULL);
        json_int(j, "line", sp->skipped[i].line);
        json_string(j, "reason", sp->skipped[i].reason);
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_array(j, "durations");
    for (size_t i = 0; i < sp->n_utts; i++) {
        const Utterance *u = &sp->utts[i];
        if (!eda_duration_is_issue(u)) continue;
        dataset_format_time(u->start_ms, t1, sizeof t1);
        dataset_format_time(u->end_ms, t2, sizeof t2);
        json_begin_object(j, NULL);
        json_int(j, "line", u->line);
        json_int(j, "dialogue", u->dialogue_id);
        json_int(j, "utterance", u->utterance_id);
        json_string(j, "start", t1);
        json_string(j, "end", t2);
        j_num(j, "duration_s", (u->end_ms - u->start_ms) / 1000.0);
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_array(j, "utterance_id_gaps");
    for (size_t k = 0; k < sp->n_dialogues; k++) {
        const Dialogue *d = &sp->dialogues[k];
        if (!d->n_missing_ids) continue;
        size_t n = eda_missing_utterance_ids(sp, d, ids, JSON_ID_LIST_MAX);
        json_begin_object(j, NULL);
        json_int(j, "dialogue", d->id);
        json_uint(j, "n_missing", n);
        json_id_list(j, "missing", ids, n);
        json_end_object(j);
    }
    json_end_array(j);
    size_t n = eda_missing_dialogue_ids(sp, ids, JSON_ID_LIST_MAX);
    json_id_list(j, "missing_dialogue_ids", ids, n);
    if (sp->clip_dir[0]) {
        json_clip_list(j, "missing_clips", sp, 0);
        json_clip_list(j, "unreadable_clips", sp, 1);
    }
    json_end_object(j);
    free(ids);
    return MELD_OK;
}

/* "audio_features": per task null (not found) or file, values per vector
 * (null and "error" when unreadable) and per split the counts and the ids
 * of the utterances without a vector. */
static void json_features(JsonWriter *j, const EdaReport *r)
{
    static const char *const TASKS[N_FEATURE_PICKLES] = {"emotion", "sentiment"};
    json_begin_object(j, "audio_features");
    for (int k = 0; k < N_FEATURE_PICKLES; k++) {
        const EdaFeatures *e = &r->features[k];
        const MeldFeatures *f = e->features;
        if (!e->path[0]) {
            json_null(j, TASKS[k]);
            continue;
        }
        json_begin_object(j, TASKS[k]);
        json_string(j, "file", e->path);
        json_string(j, "error", f ? NULL : e->error);
        if (f) {
            json_int(j, "values_per_vector", f->dim);
            json_begin_object(j, "splits");
            for (int s = 0; s < N_SPLITS; s++) {
                const Split *sp = &r->ds->split[s];
                json_begin_object(j, split_name(s));
                json_int(j, "with_vector", (long long)f->n_present[s]);
                json_int(j, "without_vector", (long long)f->n_missing[s]);
                json_int(j, "vectors_without_row", (long long)f->n_orphans[s]);
                json_begin_array(j, "without_vector_ids");
                for (size_t i = 0; i < sp->n_utts && f->row[s]; i++) {
                    if (f->row[s][i] >= 0) continue;
                    char id[32];
                    snprintf(id, sizeof id, "%d_%d", sp->utts[i].dialogue_id, sp->utts[i].utterance_id);
                    json_string(j, NULL, id);
                }
                json_end_array(j);
                json_end_object(j);
            }
            json_end_object(j);
        }
        json_end_object(j);
    }
    json_end_object(j);
}

int eda_write_json(const EdaReport *r, FILE *fp)
{
    JsonWriter j;
    json_writer_init(&j, JSON_PRETTY, fp);
    json_begin_object(&j, NULL);
    json_string(&j, "data_dir", r->ds->root[0] ? r->ds->root : NULL);
    json_begin_object(&j, "splits");
    for (int s = 0; s < N_SPLITS; s++) {
        const Split *sp = &r->ds->split[s];
        if (!sp->present) continue;
        json_begin_object(&j, split_name(s));
        json_string(&j, "csv", sp->csv_path[0] ? sp->csv_path : NULL);
        json_string(&j, "clip_dir", sp->clip_dir[0] ? sp->clip_dir : NULL);
        json_stats(&j, &r->split[s]);
        if (json_issues(&j, sp)) return MELD_ERR;
        json_end_object(&j);
    }
    json_end_object(&j);
    json_begin_object(&j, "all");
    json_stats(&j, &r->all);
    json_end_object(&j);
    json_begin_object(&j, "meld_baseline_class_weights");
    j_class_nums(&j, "emotion", MELD_BASELINE_EMOTION_WEIGHTS, N_EMOTIONS, 1);
    json_end_object(&j);
    if (any_features(r)) json_features(&j, r);
    json_end_object(&j);
    fputc('\n', fp);
    return json_writer_finish(&j, "eda");
}
