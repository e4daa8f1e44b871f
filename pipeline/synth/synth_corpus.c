/* Conversation structure of the synthetic corpus: speakers, dialogues,
 * emotion and sentiment labels, texts, timestamps, and the MELD CSVs.
 * The generative story is in pipeline/synth/synth.h; this file is steps 1-3. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/synth/synth.h"
#include "tensor/error.h"

/* MELD train counts: neutral 4710, joy 1743, sadness 683, anger 1109,
 * surprise 1205, fear 268, disgust 271 (of 9989). */
const float SYNTH_EMOTION_SHARES[SYNTH_N_EMOTIONS] = {
    4710.0f / 9989.0f, 1743.0f / 9989.0f, 683.0f / 9989.0f, 1109.0f / 9989.0f,
    1205.0f / 9989.0f, 268.0f / 9989.0f, 271.0f / 9989.0f,
};

static const char *const EMOTION_NAMES[SYNTH_N_EMOTIONS] = {
    "neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust"};
static const char *const SENTIMENT_NAMES[SYNTH_N_SENTIMENTS] = {"neutral", "positive", "negative"};
static const char *const SPLIT_CSV[SYNTH_N_SPLITS] = {
    "train_sent_emo.csv", "dev_sent_emo.csv", "test_sent_emo.csv"};
static const char *const SPLIT_FOLDER[SYNTH_N_SPLITS] = {
    "train_splits", "dev_splits_complete", "output_repeated_splits_test"};

const char *synth_emotion_name(int e) { return e >= 0 && e < SYNTH_N_EMOTIONS ? EMOTION_NAMES[e] : "?"; }
const char *synth_sentiment_name(int s) { return s >= 0 && s < SYNTH_N_SENTIMENTS ? SENTIMENT_NAMES[s] : "?"; }
const char *synth_split_csv(int s) { return s >= 0 && s < SYNTH_N_SPLITS ? SPLIT_CSV[s] : "?"; }
const char *synth_split_folder(int s) { return s >= 0 && s < SYNTH_N_SPLITS ? SPLIT_FOLDER[s] : "?"; }

/* ---- Tunables of the story (see synth.h) --------------------------------- */
enum { MAIN_CAST = 6, MIN_LEN = 2, MAX_LEN = 24, MAX_SPEAKERS = 5 };
static const float SPLIT_SHARE[SYNTH_N_SPLITS] = {1038.0f / 1432.0f, 114.0f / 1432.0f, 280.0f / 1432.0f};
static const float SPEAKER_COUNT_W[MAX_SPEAKERS + 1] = {0, 0, 0.50f, 0.30f, 0.13f, 0.07f};
#define P_MAIN_CAST 0.85f  /* a dialogue seat goes to one of the main cast */
#define P_REPLY 0.85f      /* a second speaker answers the opening turn */
#define P_INTRODUCE 0.35f  /* next turn brings in a speaker not heard yet */
#define P_OTHER 0.80f      /* next turn goes to another speaker (else the floor is held) */
#define P_STAY 0.40f       /* speaker keeps the emotion of their previous turn */
#define P_COPY 0.15f       /* speaker takes the previous turn's emotion (contagion) */
#define P_SURPRISE_POS 0.49f
#define P_WEAK_CUE 0.20f   /* a modality carries (almost) no cue */
#define MAX_BLEND 0.45f
#define DUR_MEDIAN_S 2.3f  /* lognormal utterance duration, clipped to [1, 8] s */
#define DUR_SIGMA 0.6f
enum { LEXICON = 400, WORD_MAX = 16 };

/* Affinity A between emotions (symmetric; 1 = no preference). Shifts prefer
 * neighbours: anger-disgust, fear-surprise, sadness-fear, anger-fear,
 * joy-surprise; shifts back to neutral are a little rarer than its share.
 * Order: neutral joy sadness anger surprise fear disgust. */
static const float AFFINITY[SYNTH_N_EMOTIONS][SYNTH_N_EMOTIONS] = {
    {1.0f, 0.9f, 0.8f, 0.8f, 0.9f, 0.8f, 0.8f},
    {0.9f, 1.0f, 0.6f, 0.5f, 1.3f, 0.6f, 0.6f},
    {0.8f, 0.6f, 1.0f, 1.3f, 0.8f, 1.8f, 1.0f},
    {0.8f, 0.5f, 1.3f, 1.0f, 0.9f, 1.5f, 1.8f},
    {0.9f, 1.3f, 0.8f, 0.9f, 1.0f, 1.5f, 1.0f},
    {0.8f, 0.6f, 1.8f, 1.5f, 1.5f, 1.0f, 1.0f},
    {0.8f, 0.6f, 1.0f, 1.8f, 1.0f, 1.0f, 1.0f},
};
#define Q_LAMBDA 0.9f

void synth_shift_kernel(float q[SYNTH_N_EMOTIONS * SYNTH_N_EMOTIONS])
{
    /* Off-diagonal Q_ij = lambda pi_j A_ij; the diagonal takes the rest.
     * pi_i Q_ij = lambda pi_i pi_j A_ij is symmetric in (i, j), so the chain
     * is reversible with stationary law pi. lambda keeps every diagonal >= 0. */
    for (int i = 0; i < SYNTH_N_EMOTIONS; i++) {
        float off = 0.0f;
        for (int j = 0; j < SYNTH_N_EMOTIONS; j++) {
            if (j == i) continue;
            q[i * SYNTH_N_EMOTIONS + j] = Q_LAMBDA * SYNTH_EMOTION_SHARES[j] * AFFINITY[i][j];
            off += q[i * SYNTH_N_EMOTIONS + j];
        }
        q[i * SYNTH_N_EMOTIONS + i] = 1.0f - off;
    }
}

void synth_config_default(SynthConfig *cfg)
{
    cfg->n_dialogues = SYNTH_DEFAULT_DIALOGUES;
    cfg->seed = 1;
    cfg->sample_rate = 16000;
    cfg->image_size = 96;
    cfg->fps = 10;
}

int synth_config_check(const SynthConfig *cfg)
{
    if (cfg->n_dialogues < 3 || cfg->n_dialogues > 100000)
        return meld_errorf("synth: dialogues must be in [3, 100000], got %d", cfg->n_dialogues);
    if (cfg->sample_rate < 8000 || cfg->sample_rate > 48000)
        return meld_errorf("synth: sample rate must be in [8000, 48000], got %d", cfg->sample_rate);
    if (cfg->image_size < 48 || cfg->image_size > 256 || cfg->image_size % 2)
        return meld_errorf("synth: image size must be even in [48, 256], got %d", cfg->image_size);
    if (cfg->fps < 1 || cfg->fps > 30)
        return meld_errorf("synth: fps must be in [1, 30], got %d", cfg->fps);
    return MELD_OK;
}

/* ---- Small draws ------------------------------------------------------------ */

static int draw_weighted(Rng *r, const float *w, int n)
{
    float total = 0.0f;
    for (int i = 0; i < n; i++) total += w[i];
    float x = rng_uniform(r) * total;
    for (int i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    for (int i = n - 1; i >= 0; i--)
        if (w[i] > 0.0f) return i; /* rounding left x >= the last weight */
    return 0;
}

static int bernoulli(Rng *r, float p) { return rng_uniform(r) < p; }

/* ---- Made-up words ------------------------------------------------------------ */

/* A syllable: optional onset consonant, a vowel, optional coda. Letters map
 * to sound classes in synth_voice.c (plosive p t k b d g, fricative f s h v z,
 * nasal m n, liquid l r w y). */
static const char ONSETS[] = "bdfghklmnprstvwyz";
static const float ONSET_W[] = {5, 5, 3, 3, 3, 6, 6, 6, 6, 4, 6, 7, 7, 3, 2, 1, 2};
static const char VOWELS[] = "aeiou";
static const float VOWEL_W[] = {8, 7, 6, 5, 3};
static const char CODAS[] = "nmsrltk";

static int append_syllable(Rng *r, char *w, int len, int cap)
{
    if (len + 3 >= cap) return len;
    if (!bernoulli(r, 0.1f)) w[len++] = ONSETS[draw_weighted(r, ONSET_W, (int)sizeof ONSET_W / (int)sizeof ONSET_W[0])];
    w[len++] = VOWELS[draw_weighted(r, VOWEL_W, 5)];
    if (bernoulli(r, 0.25f)) w[len++] = CODAS[rng_below(r, (uint32_t)strlen(CODAS))];
    w[len] = '\0';
    return len;
}

typedef struct {
    char word[LEXICON][WORD_MAX];
    int syllables[LEXICON];
    float cdf[LEXICON]; /* Zipf: weight of rank k is 1 / (k + 3) */
} Lexicon;

static void make_lexicon(Rng *r, Lexicon *lx)
{
    static const float SYL_W[3] = {0.50f, 0.35f, 0.15f};
    float acc = 0.0f;
    for (int k = 0; k < LEXICON; k++) {
        /* Ranks 0 and 1 are a 1- and a 2-syllable word, so any remainder
         * of 1 or 2 syllables can be filled exactly. */
        int n = k < 2 ? k + 1 : 1 + draw_weighted(r, SYL_W, 3);
        int len = 0;
        lx->word[k][0] = '\0';
        for (int s = 0; s < n; s++) len = append_syllable(r, lx->word[k], len, WORD_MAX);
        lx->syllables[k] = n;
        acc += 1.0f / (float)(k + 3);
        lx->cdf[k] = acc;
    }
}

static int draw_word(Rng *r, const Lexicon *lx)
{
    float x = rng_uniform(r) * lx->cdf[LEXICON - 1];
    int lo = 0, hi = LEXICON - 1;
    while (lo < hi) { /* first k with cdf[k] > x */
        int mid = (lo + hi) / 2;
        if (lx->cdf[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* A word of exactly n syllables (n = 1 or 2 exists by construction). */
static int draw_word_with(Rng *r, const Lexicon *lx, int n)
{
    int start = (int)rng_below(r, LEXICON);
    for (int i = 0; i < LEXICON; i++) {
        int k = (start + i) % LEXICON;
        if (lx->syllables[k] == n) return k;
    }
    return n - 1;
}

/* ---- Text pool ------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t len, cap;
} Pool;

static int pool_reserve(Pool *p, size_t more)
{
    if (p->len + more <= p->cap) return MELD_OK;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < p->len + more) cap *= 2;
    char *b = realloc(p->buf, cap);
    if (!b) return meld_errorf("synth: out of memory for %zu bytes of text", cap);
    p->buf = b;
    p->cap = cap;
    return MELD_OK;
}

/* Words totalling exactly n_syll syllables, commas between some words, a
 * capital first letter and a final '.', '?' or '!'. Returns the offset. */
static int make_text(Rng *r, const Lexicon *lx, Pool *pool, int n_syll, float p_question,
                     float p_exclaim, size_t *offset)
{
    if (pool_reserve(pool, (size_t)n_syll * (WORD_MAX + 2) + 4)) return MELD_ERR;
    *offset = pool->len;
    char *out = pool->buf + pool->len;
    size_t n = 0;
    int left = n_syll;
    while (left > 0) {
        int w = draw_word(r, lx);
        if (lx->syllables[w] > left) w = draw_word_with(r, lx, left);
        if (n) {
            if (bernoulli(r, 0.12f)) out[n++] = ',';
            out[n++] = ' ';
        }
        size_t wl = strlen(lx->word[w]);
        memcpy(out + n, lx->word[w], wl);
        n += wl;
        left -= lx->syllables[w];
    }
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
    float x = rng_uniform(r);
    out[n++] = x < p_question ? '?' : x < p_question + p_exclaim ? '!' : '.';
    out[n++] = '\0';
    pool->len += n;
    return MELD_OK;
}

/* ---- Speakers ---------------------------------------------------------------- */

static void make_name(Rng *r, char *name, size_t cap, int guest)
{
    char w[WORD_MAX];
    int len = 0;
    w[0] = '\0';
    int n = 2 + (int)bernoulli(r, 0.3f);
    for (int s = 0; s < n; s++) len = append_syllable(r, w, len, WORD_MAX);
    w[0] = (char)(w[0] - 'a' + 'A');
    snprintf(name, cap, "%s%s", guest && bernoulli(r, 0.3f) ? "The " : "", w);
}

static void mix_rgb(uint8_t out[3], const uint8_t a[3], const uint8_t b[3], float t, Rng *r, float jitter)
{
    for (int c = 0; c < 3; c++) {
        float v = (float)a[c] + t * ((float)b[c] - (float)a[c]) + jitter * synth_normal(r);
        out[c] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v + 0.5f);
    }
}

static void make_speaker(Rng *r, SynthSpeaker *s, int female, int guest)
{
    static const uint8_t SKIN_LIGHT[3] = {242, 208, 184}, SKIN_DARK[3] = {96, 62, 44};
    static const uint8_t HAIR[6][3] = {{25, 20, 18}, {70, 45, 30}, {120, 80, 45},
                                       {215, 180, 110}, {150, 60, 30}, {150, 150, 150}};
    static const uint8_t IRIS[5][3] = {{80, 50, 30}, {60, 110, 170}, {70, 120, 70},
                                       {120, 95, 50}, {35, 25, 20}};
    memset(s, 0, sizeof *s);
    make_name(r, s->name, sizeof s->name, guest);
    s->female = female;
    s->f0_hz = female ? synth_uniform(r, 175.0f, 235.0f) : synth_uniform(r, 95.0f, 140.0f);
    s->formant_scale = female ? synth_uniform(r, 1.08f, 1.20f) : synth_uniform(r, 0.92f, 1.03f);
    s->open_quotient = synth_uniform(r, 0.50f, 0.66f);
    s->breath = synth_uniform(r, 0.04f, 0.22f) + (female ? 0.05f : 0.0f);
    s->jitter = synth_uniform(r, 0.004f, 0.014f);
    s->shimmer = synth_uniform(r, 0.03f, 0.08f);
    s->rate = synth_uniform(r, 3.8f, 5.2f);
    s->gain_db = synth_uniform(r, -3.0f, 3.0f);

    mix_rgb(s->skin, SKIN_LIGHT, SKIN_DARK, rng_uniform(r), r, 6.0f);
    int h = (int)rng_below(r, 6);
    if (h == 5 && !bernoulli(r, 0.3f)) h = (int)rng_below(r, 5); /* grey is rarer */
    mix_rgb(s->hair, HAIR[h], HAIR[h], 0.0f, r, 10.0f);
    int e = (int)rng_below(r, 5);
    mix_rgb(s->iris, IRIS[e], IRIS[e], 0.0f, r, 8.0f);
    s->head_w = synth_uniform(r, 0.78f, 0.92f);
    s->head_h = synth_uniform(r, 1.00f, 1.15f);
    s->eye_gap = synth_uniform(r, 0.32f, 0.40f);
    s->eye_size = synth_uniform(r, 0.85f, 1.15f);
    s->mouth_w = synth_uniform(r, 0.27f, 0.36f);
    s->brow_thick = synth_uniform(r, 0.05f, 0.075f) * (female ? 0.8f : 1.0f);
    float x = rng_uniform(r);
    s->hair_style = female ? (x < 0.7f ? 1 : 0) : (x < 0.7f ? 0 : x < 0.85f ? 1 : 2);
    s->rest_smile = 0.15f * synth_normal(r);
    s->rest_brow = 0.10f * synth_normal(r);
}

/* ---- Dialogues ------------------------------------------------------------------ */

static int draw_length(Rng *r)
{
    /* Flat on 2..12, then tapering linearly to a tenth at 24. */
    float w[MAX_LEN + 1];
    for (int L = 0; L <= MAX_LEN; L++)
        w[L] = L < MIN_LEN ? 0.0f : L <= 12 ? 1.0f : 0.85f - 0.75f * (float)(L - 13) / 11.0f;
    return draw_weighted(r, w, MAX_LEN + 1);
}

static int draw_speaker_count(Rng *r, int len)
{
    float w[MAX_SPEAKERS + 1];
    for (int k = 0; k <= MAX_SPEAKERS; k++) w[k] = k <= len ? SPEAKER_COUNT_W[k] : 0.0f;
    return draw_weighted(r, w, MAX_SPEAKERS + 1);
}

/* Turn order over `len` turns of `k` speakers (0..k-1), each speaking at
 * least once: speakers enter one by one (speaker i before i + 1), the
 * second one usually right away (MELD: 85 % of dialogues open with a
 * single turn); turns mostly alternate, preferring the speaker before the
 * current one (MELD: 22 % of consecutive turns have the same speaker). */
static void draw_turns(Rng *r, int len, int k, int *turn)
{
    int heard = 1;
    turn[0] = 0;
    for (int t = 1; t < len; t++) {
        int must = k - heard == len - t;
        float p_new = heard == 1 ? P_REPLY : P_INTRODUCE;
        if (heard < k && (must || bernoulli(r, p_new))) {
            turn[t] = heard++;
            continue;
        }
        int cur = turn[t - 1];
        if (heard == 1 || !bernoulli(r, P_OTHER)) {
            turn[t] = cur;
        } else if (t >= 2 && turn[t - 2] != cur && bernoulli(r, 0.6f)) {
            turn[t] = turn[t - 2]; /* answer back */
        } else {
            int o = (int)rng_below(r, (uint32_t)heard - 1);
            turn[t] = o >= cur ? o + 1 : o;
        }
    }
}

/* Emotions along the turns (the chain of synth.h, step 2). */
static void draw_emotions(Rng *r, const float *q, int len, const int *turn, int *emo)
{
    int last[MAX_SPEAKERS];
    for (int i = 0; i < MAX_SPEAKERS; i++) last[i] = -1;
    for (int t = 0; t < len; t++) {
        /* Which branch is taken depends on x and the turns only, never on
         * the emotions, and every branch's outcome has law pi (by induction,
         * and pi Q = pi), so each utterance's emotion has law pi. */
        int s = turn[t];
        int can_copy = t > 0 && turn[t - 1] != s;
        float x = rng_uniform(r);
        if (last[s] >= 0) {
            if (x < P_STAY) emo[t] = last[s];
            else if (can_copy && x < P_STAY + P_COPY) emo[t] = emo[t - 1];
            else emo[t] = draw_weighted(r, q + last[s] * SYNTH_N_EMOTIONS, SYNTH_N_EMOTIONS);
        } else {
            if (can_copy && x < P_COPY) emo[t] = emo[t - 1];
            else emo[t] = draw_weighted(r, SYNTH_EMOTION_SHARES, SYNTH_N_EMOTIONS);
        }
        last[s] = emo[t];
    }
}

static int sentiment_of(Rng *r, int e)
{
    switch (e) {
    case SYNTH_NEUTRAL: return SYNTH_SENT_NEUTRAL;
    case SYNTH_JOY: return SYNTH_SENT_POSITIVE;
    case SYNTH_SURPRISE: return bernoulli(r, P_SURPRISE_POS) ? SYNTH_SENT_POSITIVE : SYNTH_SENT_NEGATIVE;
    default: return SYNTH_SENT_NEGATIVE;
    }
}

/* The neighbouring emotion whose display leaks into this one's (step 3). */
static int blend_partner(Rng *r, int e, int sentiment)
{
    switch (e) {
    case SYNTH_NEUTRAL: return 1 + (int)rng_below(r, SYNTH_N_EMOTIONS - 1);
    case SYNTH_JOY: return SYNTH_SURPRISE;
    case SYNTH_SADNESS: return SYNTH_FEAR;
    case SYNTH_ANGER: return SYNTH_DISGUST;
    case SYNTH_SURPRISE: return sentiment == SYNTH_SENT_POSITIVE ? SYNTH_JOY : SYNTH_FEAR;
    case SYNTH_FEAR: return SYNTH_SURPRISE;
    default: return SYNTH_ANGER;
    }
}

static float cue_strength(Rng *r)
{
    return bernoulli(r, P_WEAK_CUE) ? synth_uniform(r, 0.0f, 0.25f) : synth_uniform(r, 0.6f, 1.1f);
}

static void draw_evidence(Rng *r, SynthUtterance *u)
{
    float intensity = synth_uniform(r, 0.5f, 1.0f);
    u->cue_audio = intensity * cue_strength(r);
    u->cue_face = intensity * cue_strength(r);
    u->blend_emotion = blend_partner(r, u->emotion, u->sentiment);
    u->blend = synth_uniform(r, 0.0f, u->emotion == SYNTH_NEUTRAL ? 0.3f : MAX_BLEND);
}

static int draw_duration_ms(Rng *r)
{
    /* lognormal: median * e^(sigma z) = median * 2^(sigma z log2 e) */
    float d = DUR_MEDIAN_S * synth_exp2(DUR_SIGMA * synth_normal(r) * 1.44269504f);
    if (d < 1.0f) d = 1.0f;
    if (d > 8.0f) d = 8.0f;
    return (int)(d * 1000.0f + 0.5f);
}

/* Syllables the speaker fits in the utterance at its emotional rate. The
 * voice spreads them over the duration minus about 0.35 s of silence and
 * the pauses (about 10 %), so syllables per second tracks the rate cue. */
static int syllables_for(Rng *r, const SynthCorpus *c, int u)
{
    SynthVoiceCues vc;
    synth_voice_cues(c, u, &vc);
    const SynthUtterance *ut = &c->utts[u];
    float speech_s = (float)(ut->end_ms - ut->start_ms) * 0.001f - 0.35f;
    float rate = c->speakers[ut->speaker].rate * vc.rate * synth_uniform(r, 0.9f, 1.1f);
    int n = (int)(speech_s * 0.9f * rate + 0.5f);
    return n < 1 ? 1 : n;
}

/* Fills the utterances of one dialogue. */
static int make_dialogue(Rng *r, SynthCorpus *c, const float *q, const Lexicon *lx, Pool *pool,
                         int split, int dia, uint64_t scene)
{
    int turn[MAX_LEN], emo[MAX_LEN], cast[MAX_SPEAKERS];
    int len = draw_length(r), k = draw_speaker_count(r, len);
    int used[MAIN_CAST] = {0};
    for (int i = 0; i < k; i++) {
        int free_main = 0;
        for (int m = 0; m < MAIN_CAST; m++) free_main += !used[m];
        if (free_main && bernoulli(r, P_MAIN_CAST)) {
            int pick = (int)rng_below(r, (uint32_t)free_main), m = 0;
            for (;; m++)
                if (!used[m] && pick-- == 0) break;
            used[m] = 1;
            cast[i] = m;
        } else {
            cast[i] = c->n_speakers;
            make_speaker(r, &c->speakers[c->n_speakers++], bernoulli(r, 0.5f), 1);
        }
    }
    draw_turns(r, len, k, turn);
    draw_emotions(r, q, len, turn, emo);

    int season = 1 + (int)rng_below(r, 10), episode = 1 + (int)rng_below(r, 24);
    int clock_ms = 30000 + (int)rng_below(r, 1230000);
    for (int t = 0; t < len; t++) {
        int ui = c->n_utts++;
        SynthUtterance *u = &c->utts[ui];
        memset(u, 0, sizeof *u);
        u->split = split;
        u->dialogue_id = dia;
        u->utterance_id = t;
        u->speaker = cast[turn[t]];
        u->emotion = emo[t];
        u->sentiment = sentiment_of(r, emo[t]);
        u->season = season;
        u->episode = episode;
        u->start_ms = clock_ms;
        u->end_ms = clock_ms + draw_duration_ms(r);
        clock_ms = u->end_ms + 50 + (int)rng_below(r, 1450);
        u->stream = (uint64_t)ui + 1;
        u->scene = scene;
        u->shot = turn[t];
        draw_evidence(r, u);
        int high_arousal = emo[t] == SYNTH_ANGER || emo[t] == SYNTH_JOY || emo[t] == SYNTH_FEAR;
        float p_q = emo[t] == SYNTH_SURPRISE ? 0.40f : 0.15f;
        float p_x = high_arousal || emo[t] == SYNTH_SURPRISE ? 0.25f : 0.08f;
        size_t off;
        if (make_text(r, lx, pool, syllables_for(r, c, ui), p_q, p_x, &off)) return MELD_ERR;
        u->text = (int)off;
    }
    return MELD_OK;
}

static void split_sizes(int n, int out[SYNTH_N_SPLITS])
{
    out[SYNTH_DEV] = (int)((float)n * SPLIT_SHARE[SYNTH_DEV] + 0.5f);
    out[SYNTH_TEST] = (int)((float)n * SPLIT_SHARE[SYNTH_TEST] + 0.5f);
    if (out[SYNTH_DEV] < 1) out[SYNTH_DEV] = 1;
    if (out[SYNTH_TEST] < 1) out[SYNTH_TEST] = 1;
    out[SYNTH_TRAIN] = n - out[SYNTH_DEV] - out[SYNTH_TEST];
}

int synth_corpus_make(SynthCorpus *c, const SynthConfig *cfg)
{
    memset(c, 0, sizeof *c);
    if (synth_config_check(cfg)) return MELD_ERR;
    c->cfg = *cfg;
    int n = cfg->n_dialogues;
    c->speakers = meld_calloc((size_t)MAIN_CAST + (size_t)n * MAX_SPEAKERS, sizeof *c->speakers, "synth speakers");
    c->utts = meld_calloc((size_t)n * MAX_LEN, sizeof *c->utts, "synth utterances");
    Lexicon *lx = meld_malloc(sizeof *lx, "synth lexicon");
    Pool pool = {0};
    float q[SYNTH_N_EMOTIONS * SYNTH_N_EMOTIONS];
    if (!c->speakers || !c->utts || !lx) goto fail;

    /* Stream 0 of the seed: the whole structure, drawn in one fixed order. */
    Rng r;
    rng_seed(&r, cfg->seed, 0);
    make_lexicon(&r, lx);
    for (int m = 0; m < MAIN_CAST; m++) make_speaker(&r, &c->speakers[c->n_speakers++], m % 2, 0);
    synth_shift_kernel(q);

    int sizes[SYNTH_N_SPLITS], scenes = 0;
    split_sizes(n, sizes);
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        c->split_begin[s] = c->n_utts;
        c->split_dialogues[s] = sizes[s];
        for (int d = 0; d < sizes[s]; d++)
            if (make_dialogue(&r, c, q, lx, &pool, s, d, (uint64_t)++scenes)) goto fail;
        c->split_end[s] = c->n_utts;
    }
    free(lx);
    c->text_pool = pool.buf;
    c->text_len = pool.len;
    return MELD_OK;
fail:
    free(lx);
    free(pool.buf);
    synth_corpus_free(c);
    return MELD_ERR;
}

void synth_corpus_free(SynthCorpus *c)
{
    free(c->speakers);
    free(c->utts);
    free(c->text_pool);
    memset(c, 0, sizeof *c);
}

size_t synth_n_samples(const SynthCorpus *c, int u)
{
    const SynthUtterance *ut = &c->utts[u];
    return (size_t)(ut->end_ms - ut->start_ms) * (size_t)c->cfg.sample_rate / 1000;
}

int synth_n_frames(const SynthCorpus *c, int u)
{
    /* Round to the nearest frame: the clip lasts duration +- half a frame. */
    const SynthUtterance *ut = &c->utts[u];
    int n = ((ut->end_ms - ut->start_ms) * c->cfg.fps + 500) / 1000;
    return n < 1 ? 1 : n;
}

/* ---- CSV ---------------------------------------------------------------------- */

static void format_time(char *out, size_t cap, int ms)
{
    snprintf(out, cap, "%02d:%02d:%02d,%03d", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

/* MELD's own layout: CRLF lines; fields with a comma are double-quoted (our
 * texts and names contain no double quote, so none needs escaping). */
char *synth_csv_text(const SynthCorpus *c, int split, size_t *len)
{
    static const char HEADER[] =
        "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\r\n";
    if (split < 0 || split >= SYNTH_N_SPLITS) {
        meld_errorf("synth: no split %d", split);
        return NULL;
    }
    size_t cap = sizeof HEADER;
    for (int u = c->split_begin[split]; u < c->split_end[split]; u++)
        cap += strlen(synth_text(c, u)) + 160;
    char *buf = meld_malloc(cap, "synth CSV");
    if (!buf) return NULL;
    size_t n = (size_t)snprintf(buf, cap, "%s", HEADER);
    for (int u = c->split_begin[split]; u < c->split_end[split]; u++) {
        const SynthUtterance *ut = &c->utts[u];
        const char *text = synth_text(c, u);
        const char *q = strchr(text, ',') ? "\"" : "";
        char t0[32], t1[32];
        format_time(t0, sizeof t0, ut->start_ms);
        format_time(t1, sizeof t1, ut->end_ms);
        n += (size_t)snprintf(buf + n, cap - n, "%d,%s%s%s,%s,%s,%s,%d,%d,%d,%d,\"%s\",\"%s\"\r\n",
                              u - c->split_begin[split] + 1, q, text, q, c->speakers[ut->speaker].name,
                              synth_emotion_name(ut->emotion), synth_sentiment_name(ut->sentiment),
                              ut->dialogue_id, ut->utterance_id, ut->season, ut->episode, t0, t1);
    }
    *len = n;
    return buf;
}
