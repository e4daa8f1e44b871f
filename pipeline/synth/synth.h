/* The built-in synthetic MELD-shaped corpus (`meld synth`).
 *
 * MELD's clips (about 10 GB of MP4 from the sitcom Friends) cannot ship with
 * the code, so `meld synth` generates, from a seed, a corpus with the same
 * shape and file layout: three annotation CSVs with MELD's columns and one
 * clip per utterance (diaD_uttU.wav, 16 kHz mono PCM16, and diaD_uttU.y4m,
 * square RGB face frames at about 10 fps). Everything the models learn from
 * is drawn here, so the generative story below is the "ground truth" a good
 * model can at best recover.
 *
 * Generative story
 * ----------------
 * 1. Conversations (synth_corpus.c). Dialogue lengths 2..24 utterances, flat
 *    up to 12 then tapering (MELD: mean 9.6, flat-ish to 12, max 24 in train).
 *    2..5 speakers per dialogue (shares 50/30/13/7 %, as MELD's multi-speaker
 *    dialogues), drawn from a recurring main cast of 6 (about 85 % of turns,
 *    like Friends' six) plus one-off guests. Turns alternate (a second
 *    speaker usually answers the opening turn; about 18 % of consecutive
 *    turns keep the speaker, MELD 22 %). Dialogues split 72.6 / 8.0 /
 *    19.4 % into train / dev / test (MELD: 1038 / 114 / 280 dialogues).
 * 2. Emotions: a Markov chain per speaker whose stationary law is exactly
 *    MELD's train class shares pi. A speaker's first utterance draws from pi
 *    (or copies the previous turn's emotion, p_copy = 0.15); later ones keep
 *    the speaker's previous emotion with p_stay = 0.4, copy the previous
 *    turn's (contagion) with p_copy, else shift with a kernel
 *    Q(i,j) = lambda * pi_j * A_ij (i != j), A symmetric, larger between
 *    neighbouring emotions (anger-disgust, fear-surprise, sadness-fear...).
 *    pi_i Q_ij = pi_j Q_ji (detailed balance) so pi Q = pi: every utterance
 *    has marginal law pi, whatever its position. A speaker repeats their
 *    previous emotion about 65 % of the time (MELD: 44 %; chance 29 %), a
 *    little more than MELD so that dialogue context carries a clear signal.
 *    Sentiment follows emotion as in MELD: joy positive; anger, sadness,
 *    fear, disgust negative; neutral neutral; surprise positive with
 *    p = 0.49.
 * 3. Evidence. Each utterance has an expression intensity I ~ U(0.5, 1) and
 *    per-modality cue strengths cue_a, cue_f = I * m, with m ~ U(0.6, 1.1)
 *    normally but m ~ U(0, 0.25) on 20 % of utterances per modality (flat
 *    voice; hidden or poker face), independently. The displayed expression
 *    mixes the label's profile with a neighbouring emotion's (anger<->
 *    disgust, fear<->surprise, sadness->fear, joy->surprise, negative
 *    surprise -> fear, positive surprise -> joy) by a weight U(0, 0.45), and
 *    neutral utterances lean up to 30 % towards a random emotion, so classes
 *    overlap.
 *    - Audio carries arousal (synth_voice.c): pitch level and range, speaking
 *      rate, loudness, voice quality (open quotient: pressed vs breathy,
 *      jitter, shimmer, aspiration), final rise or fall. It separates anger /
 *      joy / surprise / fear from sadness / neutral / disgust, much less
 *      joy from anger. Speaker voice, channel gain and noise vary, so
 *      absolute levels are only partial evidence.
 *    - The face carries valence (synth_face.c): mouth-corner curvature,
 *      brow angle and height, eye opening, an asymmetric lip raise for
 *      disgust. It separates joy from anger / disgust / sadness, much less
 *      anger from sadness or joy from surprise. Pose, scale, lighting,
 *      clutter, occluders and sensor noise vary.
 *    - Scenes: a dialogue keeps one room and recording chain (wall, light,
 *      exposure, colour cast, sensor noise; channel gain, background noise
 *      level and colour, mains hum) and each speaker keeps a camera framing
 *      and clothes through it, with small per-clip variations, as in a
 *      sitcom scene. A model that reads the whole dialogue can judge an
 *      utterance against the others of the same scene and speaker.
 *    Fusion therefore beats each modality, and the neighbouring utterances
 *    carry information about the current one.
 * 4. Speech (synth_voice.c) reads the utterance's text: the made-up words
 *    are syllables whose letters choose the sounds (vowel formants,
 *    plosive / fricative / nasal / liquid onsets), commas are pauses and a
 *    final '?' rises. The face's mouth opens on the same vowels. Durations
 *    are lognormal (median 2.3 s) clipped to [1, 8] s; the speaking rate
 *    sets how many syllables fill them (about 6.5 words per utterance,
 *    MELD 7.9).
 *
 * Determinism: the same seed gives byte-identical files on any machine. All
 * randomness comes from tensor/rng.h (PCG32, integers only), with separate
 * streams per clip, scene and shot (so a clip does not depend on which
 * other clips were rendered before it), and all maths is IEEE
 * single-precision + - * / and sqrt, which are exactly rounded everywhere.
 * The generators never call libm's transcendental functions (their last bits
 * differ between libm versions): sine, exp2 and log2 are the small
 * polynomials below, and normals come from synth_normal(), not rng_normal()
 * (which uses libm). Nothing may be contracted into a fused multiply-add:
 * gcc does not under -std=c11, the synth files carry a pragma for clang,
 * and uniforms come from synth_uniform() rather than tensor/rng.c's
 * rng_uniform_range() (which clang would fuse where FMA exists). And no
 * call takes two random draws as arguments: C leaves their order to the
 * compiler (gcc and clang differ). Checked: gcc -O0/-O2/-O3 -mavx2 -mfma
 * and clang -O0/-O2/-O3 -mavx2 -mfma give the same samples and pixels.
 */
#ifndef MELD_PIPELINE_SYNTH_H
#define MELD_PIPELINE_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/rng.h"

/* Label orders are those of pipeline/data/dataset.h. */
enum { SYNTH_N_EMOTIONS = 7, SYNTH_N_SENTIMENTS = 3 };
enum { SYNTH_NEUTRAL, SYNTH_JOY, SYNTH_SADNESS, SYNTH_ANGER, SYNTH_SURPRISE, SYNTH_FEAR, SYNTH_DISGUST };
enum { SYNTH_SENT_NEUTRAL, SYNTH_SENT_POSITIVE, SYNTH_SENT_NEGATIVE };
enum { SYNTH_TRAIN, SYNTH_DEV, SYNTH_TEST, SYNTH_N_SPLITS };

/* MELD's train class shares (9989 utterances), in the emotion order above:
 * the stationary law of the emotion chain. Sums to 1. */
extern const float SYNTH_EMOTION_SHARES[SYNTH_N_EMOTIONS];

const char *synth_emotion_name(int emotion);     /* "neutral", ... */
const char *synth_sentiment_name(int sentiment); /* "neutral", "positive", "negative" */
const char *synth_split_csv(int split);          /* "train_sent_emo.csv", ... */
const char *synth_split_folder(int split);       /* "train_splits", "dev_splits_complete",
                                                    "output_repeated_splits_test" (MELD.Raw) */

/* ---- Deterministic maths (synth_math.c) --------------------------------
 * Polynomials on a reduced range; max errors (measured against libm in
 * tests/test_pipeline_synth.c) are far below anything audible or visible. */
float synth_sin2pi(float x);  /* sin(2 pi x), any x: |err| < 1e-6 */
float synth_cos2pi(float x);  /* cos(2 pi x) */
float synth_exp2(float x);    /* 2^x, x in [-126, 127]: rel err < 1e-6 */
float synth_log2(float x);    /* log2 x, x > 0 normal: |err| < 1e-6 */
/* Standard normal by Box-Muller on two rng_u32 draws (like rng_normal, but
 * with the polynomials above, so identical on every libm). */
float synth_normal(Rng *r);
/* Uniform in [lo, hi): rng_uniform_range without any fused multiply-add. */
float synth_uniform(Rng *r, float lo, float hi);

/* ---- Configuration ------------------------------------------------------ */
typedef struct {
    int n_dialogues;   /* total over the three splits, >= 3 */
    uint64_t seed;
    int sample_rate;   /* Hz (16000) */
    int image_size;    /* frames are image_size^2 RGB (96), 48..256, even */
    int fps;           /* frames per second (10) */
} SynthConfig;

enum { SYNTH_DEFAULT_DIALOGUES = 260 };
void synth_config_default(SynthConfig *cfg);
/* Checks ranges; sets an error naming the bad field. */
int synth_config_check(const SynthConfig *cfg);

/* ---- Corpus structure (synth_corpus.c) ---------------------------------- */
typedef struct {
    char name[24];
    int female;
    /* voice */
    float f0_hz;          /* base pitch */
    float formant_scale;  /* vocal-tract length: formants times this */
    float open_quotient;  /* fraction of the glottal cycle the folds are open */
    float breath;         /* aspiration noise level, 0..1 */
    float jitter;         /* cycle-to-cycle period perturbation (fraction) */
    float shimmer;        /* cycle-to-cycle amplitude perturbation (fraction) */
    float rate;           /* syllables per second when neutral */
    float gain_db;        /* habitual loudness */
    /* face */
    uint8_t skin[3], hair[3], iris[3];
    float head_w, head_h; /* half-axes of the head ellipse, face units */
    float eye_gap, eye_size, mouth_w, brow_thick;
    int hair_style;       /* 0 short, 1 long, 2 bald */
    float rest_smile;     /* resting mouth curvature (idiosyncrasy) */
    float rest_brow;      /* resting brow height */
} SynthSpeaker;

typedef struct {
    int split, dialogue_id, utterance_id;
    int speaker;          /* index into SynthCorpus.speakers */
    int emotion, sentiment;
    int season, episode;
    int start_ms, end_ms; /* position in the episode; duration = end - start */
    int text;             /* offset of the utterance text in text_pool */
    float cue_audio;      /* strength of the emotion's audio cues, 0..1.1 */
    float cue_face;       /* strength of the facial cues, 0..1.1 */
    int blend_emotion;    /* neighbouring emotion mixed into the display */
    float blend;          /* its weight, 0..0.45 */
    uint64_t stream;      /* rng stream of this clip's rendering */
    uint64_t scene;       /* rng stream of its dialogue's room, light, recording */
    int shot;             /* the speaker's seat in the dialogue (0..4): camera framing */
} SynthUtterance;

typedef struct {
    SynthConfig cfg;
    SynthSpeaker *speakers;
    int n_speakers;
    SynthUtterance *utts;       /* split-major, then dialogue, then utterance */
    int n_utts;
    int split_begin[SYNTH_N_SPLITS], split_end[SYNTH_N_SPLITS]; /* ranges of utts */
    int split_dialogues[SYNTH_N_SPLITS];
    char *text_pool;            /* NUL-separated utterance texts */
    size_t text_len;
} SynthCorpus;

/* Draws speakers, dialogues, labels, texts and durations (cheap: no audio or
 * video). Free with synth_corpus_free. */
int synth_corpus_make(SynthCorpus *c, const SynthConfig *cfg);
void synth_corpus_free(SynthCorpus *c);
static inline const char *synth_text(const SynthCorpus *c, int u) { return c->text_pool + c->utts[u].text; }

/* The emotion-shift kernel Q (row-stochastic, pi Q = pi) described above,
 * exposed for the tests. q[i * 7 + j]. */
void synth_shift_kernel(float q[SYNTH_N_EMOTIONS * SYNTH_N_EMOTIONS]);

/* MELD-format CSV of one split into memory (malloc'd, NUL-terminated). */
char *synth_csv_text(const SynthCorpus *c, int split, size_t *len);

/* Samples and frames of utterance u (from its duration). */
size_t synth_n_samples(const SynthCorpus *c, int u);
int synth_n_frames(const SynthCorpus *c, int u);

/* ---- Emotion cues -------------------------------------------------------
 * What an utterance's emotion does to the voice and the face: the label's
 * profile mixed with its blend partner's, scaled by the cue strength:
 *     cue = neutral + strength * ((1 - b) (P[e] - neutral) + b (P[e'] - neutral))
 * so strength 0 gives the neutral values whatever the label. */
typedef struct {
    float pitch_st;      /* pitch level shift, semitones */
    float range;         /* pitch movement (accents, wander) multiplier */
    float rate;          /* speaking-rate multiplier */
    float loud_db;       /* loudness shift, dB */
    float jitter;        /* added period perturbation (fraction) */
    float shimmer;       /* added amplitude perturbation (fraction) */
    float open_quotient; /* added to the speaker's: < 0 pressed, > 0 breathy */
    float breath;        /* added aspiration */
    float final_st;      /* pitch movement over the last 0.4 s: rise > 0, fall < 0 */
    float pause;         /* pause-length multiplier */
} SynthVoiceCues;
void synth_voice_cues(const SynthCorpus *c, int u, SynthVoiceCues *out);

typedef struct {
    float smile;         /* mouth-corner curvature: up > 0, down < 0 */
    float mouth_open;    /* added jaw opening */
    float mouth_width;   /* relative change of mouth width */
    float brow_raise;    /* whole brow up > 0, down < 0 */
    float brow_inner;    /* inner ends up > 0 (sad, afraid), down < 0 (angry) */
    float eye_open;      /* wide > 0, narrowed < 0 */
    float lip_raise;     /* one-sided upper-lip raise (disgust) */
} SynthFaceCues;
void synth_face_cues(const SynthCorpus *c, int u, SynthFaceCues *out);

/* ---- Speech plan, shared by voice and face (synth_voice.c) -------------- */
enum { SEG_SILENCE, SEG_PLOSIVE, SEG_FRICATIVE, SEG_NASAL, SEG_LIQUID, SEG_VOWEL };
enum { SYNTH_MAX_SEGMENTS = 400 };
typedef struct {
    uint8_t kind;         /* SEG_* */
    uint8_t voiced;       /* fricatives/plosives: voiced (z v b d g) or not */
    uint8_t sound;        /* vowel: 0..4 = a e i o u; consonant: place (see synth_voice.c) */
    uint8_t accent;       /* pitch accent on this vowel */
    int start, end;       /* sample range [start, end) */
} SynthSegment;

typedef struct {
    SynthSegment seg[SYNTH_MAX_SEGMENTS];
    int n_seg;
    size_t n_samples;
    int question;         /* text ends in '?': final rise */
} SynthPlan;

/* Timing of utterance u: the text's syllables spread over its duration. */
int synth_plan(const SynthCorpus *c, int u, SynthPlan *plan);
/* Mouth opening 0..1 at sample t (vowel openness, closed on m/b/p). */
float synth_plan_mouth(const SynthPlan *plan, size_t t);

/* ---- Rendering ----------------------------------------------------------- */
/* Audio of utterance u into out[0 .. synth_n_samples), values in [-1, 1]. */
int synth_voice_render(const SynthCorpus *c, int u, float *out, size_t n);

/* Face clip of utterance u, frame by frame (synth_face.c). */
typedef struct SynthFaceClip SynthFaceClip;
SynthFaceClip *synth_face_open(const SynthCorpus *c, int u);
/* Frame k (0 <= k < synth_n_frames) as image_size^2 RGB, HWC. Frames depend
 * only on (clip, k), not on the call order. */
int synth_face_frame(SynthFaceClip *fc, int k, uint8_t *rgb);
void synth_face_close(SynthFaceClip *fc);

/* ---- Whole corpus on disk (synth_write.c) -------------------------------- */
typedef struct {
    int n_utts[SYNTH_N_SPLITS];
    int n_dialogues[SYNTH_N_SPLITS];
    double audio_seconds;
    long long n_frames;
    long long bytes;
} SynthStats;

/* Called after each clip with (done, total); may be NULL. */
typedef void (*SynthProgressFn)(void *user, int done, int total);

/* Writes DIR/{train,dev,test}_sent_emo.csv and one diaD_uttU.wav + .y4m per
 * utterance in DIR/{train_splits,dev_splits_complete,
 * output_repeated_splits_test}/ and DIR/SYNTH_INFO_FILE, creating the
 * folders. The CSVs are written last (atomically), so a corpus whose CSVs
 * exist is complete. */
int synth_write(const SynthConfig *cfg, const char *dir, SynthProgressFn progress, void *user,
                SynthStats *stats);

/* The description synth_write leaves in the corpus folder (text: a title
 * line, then "seed S", "dialogues N", "sample_rate R", "image_size P",
 * "fps F"), which marks the folder as a synthetic corpus. */
#define SYNTH_INFO_FILE "synthetic-corpus.txt"
/* Reads DIR's description into cfg: 1 when there is one, 0 when there is
 * none (not a synthetic corpus, or one written before descriptions
 * existed), MELD_ERR when it is malformed. */
int synth_info_read(const char *dir, SynthConfig *cfg);

#endif
