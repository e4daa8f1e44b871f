/* The MELD dataset index: splits -> dialogues -> utterances.
 *
 * MELD (Poria et al., ACL 2019) ships one CSV per split with the columns
 *   Sr No., Utterance, Speaker, Emotion, Sentiment, Dialogue_ID,
 *   Utterance_ID, Season, Episode, StartTime, EndTime
 * (checked by name, any order, extra columns ignored) and, in
 * MELD.Raw.tar.gz, one clip per utterance named dia{D}_utt{U}.mp4.
 *
 * Labels have fixed ids, used everywhere in meld-c (models, caches, reports):
 *   emotion:   0 neutral, 1 joy, 2 sadness, 3 anger, 4 surprise, 5 fear, 6 disgust
 *   sentiment: 0 neutral, 1 positive, 2 negative
 * (CSV labels are matched ignoring ASCII case and surrounding spaces.)
 *
 * Timestamps are "h:mm:ss,mmm" as in SRT subtitles: 1 or 2 hour digits,
 * then 2-digit minutes and seconds (< 60), then ',' (or '.') and 1 to 3
 * digits read as a decimal fraction of a second, so ",82" is 820 ms (MELD
 * has three such rows, and the next row's start confirms that reading).
 *
 * Finding the data (dataset_locate):
 *   the folder given (--data DIR), else $MELD_DATA, else the first of
 *   ./data, ./MELD.Raw, ./MELD that exists. It is searched recursively (at
 *   most DATASET_MAX_DEPTH levels; hidden folders, __MACOSX and "._*"
 *   files skipped) for train_sent_emo.csv, dev_sent_emo.csv and
 *   test_sent_emo.csv (the shallowest copy wins, then the first in byte
 *   order) and for each split's clip folder: a folder named as in the
 *   official archive (train_splits, dev_splits_complete,
 *   output_repeated_splits_test) or simply train, dev, test, holding
 *   dia*_utt*.mp4|.wav|.y4m files; the candidate with the most clips wins.
 *   So both of these layouts work:
 *     MELD.Raw/train_sent_emo.csv  MELD.Raw/train/train_splits/dia0_utt0.mp4 ...
 *     DIR/train_sent_emo.csv       DIR/train/dia0_utt0.wav ...
 *   A split whose CSV is missing is absent (present == 0) with a warning;
 *   no CSV at all is an error naming every place searched. The same walk
 *   notes MELD's released audio features if they are there (the shallowest
 *   copy of each): audio_embeddings_feature_selection_emotion.pkl and
 *   ..._sentiment.pkl (pipeline/data/meld_pickle.h reads them).
 *
 * Clips: for utterance (D, U) the clip folder is checked for
 * dia{D}_utt{U}.mp4, .wav and .y4m. A clip that is present but empty, not
 * a regular file or not openable is "unreadable". Missing and unreadable
 * clips are counted and can be listed from the utterances; they are never
 * an error. Clip files that match no CSV row are counted as orphans.
 *
 * Errors: an unknown label, a non-numeric id, a malformed timestamp, a short
 * (or long) row, or a repeated (Dialogue_ID, Utterance_ID) is an error
 * "FILE: line L, column 'NAME': ..." -- unless opt->lenient, in which case
 * the row is skipped, counted and kept in Split.skipped with its reason.
 *
 *     Dataset ds;
 *     if (dataset_load(NULL, &ds, NULL)) { puts(meld_error()); return 1; }
 *     const Split *train = &ds.split[SPLIT_TRAIN];
 *     for (size_t d = 0; d < train->n_dialogues; d++) {
 *         const Dialogue *dia = &train->dialogues[d];
 *         for (int k = 0; k < dia->n_utts; k++) {
 *             const Utterance *u = &train->utts[dia->first + k];
 *             ... u->emotion, u->text, u->clip_path (NULL if no clip) ...
 *         }
 *     }
 *     dataset_free(&ds);
 */
#ifndef MELD_PIPELINE_DATASET_H
#define MELD_PIPELINE_DATASET_H

#include <stddef.h>

#include "pipeline/data/csv.h"

enum { N_EMOTIONS = 7, N_SENTIMENTS = 3 };

typedef enum {
    EMOTION_NEUTRAL = 0,
    EMOTION_JOY = 1,
    EMOTION_SADNESS = 2,
    EMOTION_ANGER = 3,
    EMOTION_SURPRISE = 4,
    EMOTION_FEAR = 5,
    EMOTION_DISGUST = 6,
} Emotion;

typedef enum {
    SENTIMENT_NEUTRAL = 0,
    SENTIMENT_POSITIVE = 1,
    SENTIMENT_NEGATIVE = 2,
} Sentiment;

typedef enum { SPLIT_TRAIN = 0, SPLIT_DEV = 1, SPLIT_TEST = 2, N_SPLITS = 3 } SplitId;

/* Clip kinds, as bits of Utterance.clips. */
enum { CLIP_MP4 = 1, CLIP_WAV = 2, CLIP_Y4M = 4 };

#define DATASET_PATH_MAX 1024
#define DATASET_MAX_DEPTH 6

/* Names ("neutral", "train", ...); "?" for an id out of range. */
const char *emotion_name(int id);
const char *sentiment_name(int id);
const char *split_name(int id);
/* Label id of a CSV label, or -1 when it is not one. */
int emotion_from_name(const char *s);
int sentiment_from_name(const char *s);
/* Parses a timestamp (see above) into milliseconds. */
int dataset_parse_time_ms(const char *s, int *ms);
/* Writes ms as "hh:mm:ss,mmm" into buf (>= 16 bytes). */
void dataset_format_time(int ms, char *buf, size_t cap);

typedef struct {
    int sr_no;                   /* "Sr No." */
    int dialogue_id, utterance_id;
    int season, episode;
    int emotion;                 /* Emotion id 0..6 */
    int sentiment;               /* Sentiment id 0..2 */
    int start_ms, end_ms;        /* StartTime, EndTime in milliseconds */
    const char *text;            /* Utterance, valid UTF-8 (owned by the Split) */
    const char *speaker;         /* Speaker, valid UTF-8 (owned by the Split) */
    char *clip_path;             /* preferred readable clip (.mp4, else .wav, else .y4m) or NULL */
    unsigned clips;              /* CLIP_* bits: readable clip files present */
    unsigned bad_clips;          /* CLIP_* bits: present but empty, not a file, or unopenable */
    long line;                   /* CSV line, for messages */
} Utterance;

typedef struct {
    int id;                      /* Dialogue_ID */
    size_t first;                /* index of its first utterance in Split.utts */
    int n_utts;                  /* utterances, sorted by Utterance_ID */
    int max_utterance_id;
    int n_missing_ids;           /* ids in 0..max_utterance_id with no row (gaps) */
} Dialogue;

typedef struct {
    long line;
    char reason[200];
} SkippedRow;

typedef struct {
    int present;                 /* the CSV was found and loaded */
    char csv_path[DATASET_PATH_MAX];
    char clip_dir[DATASET_PATH_MAX];  /* "" when no clip folder was found */
    Utterance *utts;             /* sorted by (Dialogue_ID, Utterance_ID) */
    size_t n_utts;
    Dialogue *dialogues;         /* sorted by id */
    size_t n_dialogues;
    SkippedRow *skipped;         /* rows skipped in lenient mode */
    size_t n_skipped;
    /* With a clip folder, each utterance is exactly one of: */
    size_t clips_found;          /* clips != 0: at least one readable clip */
    size_t clips_unreadable;     /* clips == 0, bad_clips != 0 */
    size_t clips_missing;        /* no clip file at all */
    size_t clips_orphan;         /* clip files in the folder matching no row */
    CsvTable csv;                /* owns the text of utts[].text / speaker */
} Split;

typedef struct {
    char root[DATASET_PATH_MAX];        /* the folder searched */
    Split split[N_SPLITS];
} Dataset;

typedef struct {
    int lenient;                 /* skip bad rows (counted) instead of failing */
    int skip_clips;              /* do not look for clips */
} DatasetOptions;

/* MELD's released audio features: one pickle per task. */
enum { FEATURE_PICKLE_EMOTION = 0, FEATURE_PICKLE_SENTIMENT = 1, N_FEATURE_PICKLES = 2 };
extern const char *const FEATURE_PICKLE_NAMES[N_FEATURE_PICKLES];

/* Where the CSVs, clip folders and feature pickles are; "" when not found. */
typedef struct {
    char root[DATASET_PATH_MAX];
    char csv[N_SPLITS][DATASET_PATH_MAX];
    char clip_dir[N_SPLITS][DATASET_PATH_MAX];
    char feature_pickle[N_FEATURE_PICKLES][DATASET_PATH_MAX];
} DatasetLocation;

/* Finds the data (see above). data_dir may be NULL. Fails when no CSV is
 * found, with a message listing the places searched. */
int dataset_locate(const char *data_dir, DatasetLocation *loc);

/* dataset_locate + dataset_load_from. opt may be NULL (strict, with
 * clips). On error *out is empty. */
int dataset_load(const char *data_dir, Dataset *out, const DatasetOptions *opt);
/* dataset_load_split for each split of an earlier dataset_locate. */
int dataset_load_from(const DatasetLocation *loc, Dataset *out, const DatasetOptions *opt);

/* Loads one split from its CSV; clip_dir may be NULL or "" (no clips). */
int dataset_load_split(const char *csv_path, const char *clip_dir, const DatasetOptions *opt,
                       Split *out);
/* The same from CSV bytes in memory (name is used in messages). */
int dataset_parse_split(const char *data, size_t len, const char *name, const char *clip_dir,
                        const DatasetOptions *opt, Split *out);

void split_free(Split *s);
void dataset_free(Dataset *ds);

/* Path of one kind of clip of u (e.g. CLIP_WAV for the audio) into buf.
 * Fails when that file is not present. */
int dataset_clip_path(const Split *s, const Utterance *u, unsigned kind, char *buf, size_t cap);

/* 1 if name is "dia<digits>_utt<digits>.mp4|.wav|.y4m". */
int dataset_is_clip_name(const char *name);

/* Speaker index of every utterance within its dialogue, in order of first
 * appearance (0, 1, 2, ...): speaker[i] for s->utts[i]. */
void dataset_speaker_indices(const Split *s, int *speaker);

/* Utterances in the whole dataset, over the splits present. */
size_t dataset_n_utterances(const Dataset *ds);

#endif
