/* Exploratory analysis of the MELD annotations (`meld eda`).
 *
 * eda_compute() turns a loaded Dataset into one EdaStats per split plus
 * one over all splits; the writers print it as an aligned text report,
 * one JSON object (schema in README, "meld eda"), or a self-contained HTML
 * page with inline SVG charts. Definitions:
 *
 *   words         whitespace tokens of Utterance: maximal runs of bytes other
 *                 than space, \t, \n, \v, \f, \r (so "don't" is one word)
 *   emotion shift two consecutive utterances of the same speaker in a
 *                 dialogue (others may speak in between) whose emotions
 *                 differ, as in the MELD paper; same_speaker_pairs counts all
 *                 such consecutive pairs
 *   duration      EndTime - StartTime. Rows with duration <= 0 or > 60 s are
 *                 data issues (listed) and left out of the mean and max.
 *   gaps          Utterance_ID values missing from 0..max in a dialogue;
 *                 missing dialogue ids are those absent from 0..max id
 *   imbalance     largest class count / smallest (inf if a class is empty)
 *   weights       inverse frequency w_c = N / (K n_c) (mean weight over the
 *                 samples is then 1; sklearn's "balanced"); NAN if n_c = 0.
 *                 Also MELD's published baseline emotion weights, below.
 * "all" sums the splits; its dialogue count is the sum because dialogue ids
 * are per split; its speaker count is the distinct names over all splits.
 */
#ifndef MELD_PIPELINE_EDA_H
#define MELD_PIPELINE_EDA_H

#include <stdint.h>
#include <stdio.h>

#include "pipeline/data/dataset.h"
#include "pipeline/data/meld_pickle.h"

#define EDA_WORD_BINS 101      /* words 0..99 exactly; bin 100 = 100 or more */
#define EDA_DIALOGUE_BINS 65   /* lengths 0..63 exactly; bin 64 = 64 or more */
#define EDA_MAX_DURATION_MS 60000

/* The class weights of the MELD baseline (declare-lab/MELD README, "Class
 * Weights": [4, 15, 15, 3, 1, 6, 3] in their order neutral, surprise, fear,
 * sadness, joy, disgust, anger), here in our emotion order. */
extern const double MELD_BASELINE_EMOTION_WEIGHTS[N_EMOTIONS];

typedef struct {
    int present;                       /* at least one split contributed */
    size_t utterances, dialogues, speakers;
    int max_dialogue_length;           /* utterances in the longest dialogue */
    size_t emotion[N_EMOTIONS];
    size_t sentiment[N_SENTIMENTS];
    size_t sentiment_emotion[N_SENTIMENTS][N_EMOTIONS];
    /* words per utterance */
    double mean_words;
    int max_words;
    size_t words_hist[EDA_WORD_BINS];
    double mean_words_emotion[N_EMOTIONS];     /* NAN for an empty class */
    double mean_words_sentiment[N_SENTIMENTS];
    /* dialogues */
    double mean_emotions_per_dialogue;        /* distinct emotions per dialogue */
    size_t dialogue_len_hist[EDA_DIALOGUE_BINS];
    size_t emotion_shifts, same_speaker_pairs;
    size_t gap_dialogues;              /* dialogues with Utterance_ID gaps */
    size_t missing_utterance_ids;      /* over those dialogues */
    size_t missing_dialogue_ids;
    /* durations, over rows with 0 < d <= 60 s */
    double mean_duration_s, max_duration_s;
    size_t durations_ok, durations_bad;
    /* balance */
    double imbalance_emotion, imbalance_sentiment;
    double weight_emotion[N_EMOTIONS], weight_sentiment[N_SENTIMENTS];
    /* clips (has_clips: a clip folder was found) */
    int has_clips;
    size_t clips_found, clips_missing, clips_unreadable, clips_orphan;
    /* reading */
    size_t skipped_rows, mojibake_repairs, cp1252_bytes;
    /* sums behind the means */
    uint64_t words_total, words_emotion[N_EMOTIONS], words_sentiment[N_SENTIMENTS];
    uint64_t emotions_in_dialogues, duration_ms_total;
    int64_t duration_ms_max;
} EdaStats;

/* MELD's released audio features, when found beside the CSVs: which
 * utterances have a vector (pipeline/data/meld_pickle.h). */
typedef struct {
    char path[DATASET_PATH_MAX];       /* "" when not found */
    const MeldFeatures *features;      /* NULL when not found or unreadable */
    char error[300];                   /* why it could not be read */
} EdaFeatures;

typedef struct {
    const Dataset *ds;                 /* borrowed: the writers list issues from it */
    EdaStats split[N_SPLITS];
    EdaStats all;
    EdaFeatures features[N_FEATURE_PICKLES];
} EdaReport;

/* Computes every statistic. ds must outlive the report. */
int eda_compute(const Dataset *ds, EdaReport *out);
/* Reads the feature pickles loc found (each into storage[k], which must
 * outlive the report; free with meld_features_free) and notes them in the
 * report. A file that cannot be read is noted with its error, not failed. */
void eda_add_features(EdaReport *r, const DatasetLocation *loc, MeldFeatures storage[N_FEATURE_PICKLES]);

/* Whitespace tokens in s (definition above). */
int eda_count_words(const char *s);
/* 1 if u's duration is a data issue (<= 0 or > 60 s). */
int eda_duration_is_issue(const Utterance *u);

/* Missing Utterance_IDs of dialogue d (gaps in 0..max): writes the first
 * max of them into ids (may be NULL when max is 0); returns how many there
 * are in all. */
size_t eda_missing_utterance_ids(const Split *s, const Dialogue *d, int *ids, size_t max);
/* The same for Dialogue_IDs absent from 0..largest id of the split. */
size_t eda_missing_dialogue_ids(const Split *s, int *ids, size_t max);

/* Sections of the text report (the HTML page embeds them as preformatted
 * text beside its charts). eda_text_classes: emotion != 0 for the emotion
 * table, 0 for sentiment. */
void eda_text_summary(const EdaReport *r, FILE *fp);
void eda_text_classes(const EdaReport *r, FILE *fp, int emotion);
void eda_text_crosstab(const EdaReport *r, FILE *fp);
void eda_text_issues(const EdaReport *r, FILE *fp);
/* Which utterances have one of MELD's released feature vectors; prints
 * nothing when no feature pickle was found. */
void eda_text_features(const EdaReport *r, FILE *fp);

/* Writers. Text and JSON go to fp (checked: a failed write is an error);
 * the HTML page is written atomically to path. */
int eda_write_text(const EdaReport *r, FILE *fp);
int eda_write_json(const EdaReport *r, FILE *fp);
int eda_write_html(const EdaReport *r, const char *path);

#endif
