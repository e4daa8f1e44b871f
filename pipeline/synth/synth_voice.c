/* Speech-like audio for the synthetic corpus: a source-filter synthesiser
 * (in the spirit of Klatt 1980, much reduced) that reads the utterance's
 * made-up text.
 *
 *   glottal pulses --tilt--+--> F1 -> F2 -> F3 -> F4 --+--> gain --+--> soft clip
 *   aspiration noise ------+    (cascade resonators)   |           |
 *   frication noise ---> place resonator --------------+           |
 *   background: white + rumble + hum + laughter -------------------+
 *
 * Source: one glottal cycle per period T = 1/f0, flow U(x) = x^2 (1 - x) for
 * x = phase / OQ < 1 (open phase, KLGLOTT88), closed after. We emit its
 * derivative 2x - 3x^2 (the lips radiate roughly the derivative of the
 * flow); it integrates to 0 over the cycle, so the signal has no DC, and its
 * jump back to 0 at closure is the main excitation. A small open quotient OQ
 * (pressed voice) makes that closure sharper: brighter and louder. Each
 * cycle's period and amplitude get jitter and shimmer (normal, relative).
 *
 * Resonator (two poles at radius r, angle theta = 2 pi F / fs):
 *     y[n] = a x[n] + b y[n-1] + c y[n-2],  b = 2 r cos theta,  c = -r^2,
 *     r = e^(-pi B / fs) for bandwidth B.
 * In the vocal-tract cascade a = 1 - b - c (unit gain at 0 Hz, as Klatt's),
 * so the formant peaks stack like a real tract's. The noise resonators are
 * normalised to unit gain at their peak instead:
 *     |H(theta)| = 1 / ((1 - r) sqrt(1 - 2 r cos 2theta + r^2)).
 *
 * Control values (f0, formants) are updated every BLOCK samples (2 ms at
 * 16 kHz) and smoothed by one-pole filters, v += k (target - v), with
 * k = 1 - e^(-dt / tau): formants glide between sounds like a tongue does.
 *
 * Emotion acts only through SynthVoiceCues (pitch level and range, rate,
 * loudness, jitter, shimmer, open quotient, breath, final rise or fall,
 * pauses); see synth.h. All maths is float + - * / sqrt and the
 * polynomials of synth_math.c, so the output is the same bits everywhere.
 */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/synth/synth.h"
#include "tensor/error.h"

#define PI_F 3.14159265358979f
#define LOG2E_F 1.44269504088896f
#define PLAN_SALT 0x706c616eULL  /* "plan": seeds of the per-clip streams */
#define VOICE_SALT 0x766f6963ULL /* "voic" */
#define ROOM_SALT 0x726f6f6dULL  /* "room": the scene's acoustics */
enum { BLOCK = 32 };

/* ---- Emotion profiles ----------------------------------------------------
 * Arousal first: anger, joy, surprise, fear are higher, louder, faster
 * (fear less loud, breathier, trembling); sadness lower, quieter, slower,
 * breathy and monotone; disgust a little low, slow, creaky. Joy and anger
 * differ mostly in voice quality (anger pressed and harsh) and contour. */
static const SynthVoiceCues VOICE_PROFILE[SYNTH_N_EMOTIONS] = {
    /*            pitch range rate   loud  jitter shimmer  OQ     breath final pause */
    /* neutral  */ {0.0f, 1.0f, 1.00f, 0.0f, 0.000f, 0.00f, 0.00f, 0.00f, -1.0f, 1.0f},
    /* joy      */ {5.0f, 2.0f, 1.12f, 6.0f, 0.000f, 0.00f, -0.05f, 0.00f, -0.5f, 0.9f},
    /* sadness  */ {-4.0f, 0.35f, 0.68f, -9.0f, 0.010f, 0.05f, 0.18f, 0.45f, -2.5f, 2.0f},
    /* anger    */ {4.0f, 1.5f, 1.18f, 11.0f, 0.005f, 0.10f, -0.20f, -0.05f, -3.0f, 0.7f},
    /* surprise */ {9.0f, 2.5f, 1.00f, 6.0f, 0.000f, 0.02f, -0.02f, 0.05f, 7.0f, 1.0f},
    /* fear     */ {7.0f, 0.5f, 1.25f, 1.0f, 0.020f, 0.06f, 0.12f, 0.50f, 1.5f, 1.4f},
    /* disgust  */ {-3.0f, 0.7f, 0.78f, 0.0f, 0.005f, 0.08f, -0.05f, 0.18f, -2.5f, 1.4f},
};
enum { N_VOICE_CUES = sizeof(SynthVoiceCues) / sizeof(float) };

void synth_voice_cues(const SynthCorpus *c, int u, SynthVoiceCues *out)
{
    const SynthUtterance *ut = &c->utts[u];
    const float *n = (const float *)&VOICE_PROFILE[SYNTH_NEUTRAL];
    const float *p = (const float *)&VOICE_PROFILE[ut->emotion];
    const float *q = (const float *)&VOICE_PROFILE[ut->blend_emotion];
    float *o = (float *)out;
    for (int i = 0; i < N_VOICE_CUES; i++)
        o[i] = n[i] + ut->cue_audio * ((1.0f - ut->blend) * (p[i] - n[i]) + ut->blend * (q[i] - n[i]));
}

/* ---- Letters to sounds ------------------------------------------------------
 * place: plosive 0 labial (p b), 1 alveolar (t d), 2 velar (k g);
 * fricative 0 labiodental (f v), 1 alveolar (s z), 2 glottal (h);
 * nasal 0 (m), 1 (n); liquid 0 (l), 1 (r), 2 (w), 3 (y). */
static int letter_sound(char ch, SynthSegment *s)
{
    static const char *const VOWEL = "aeiou";
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
    const char *v = ch ? strchr(VOWEL, ch) : NULL;
    memset(s, 0, sizeof *s);
    if (v) {
        s->kind = SEG_VOWEL;
        s->sound = (uint8_t)(v - VOWEL);
        s->voiced = 1;
        return 1;
    }
    switch (ch) {
    case 'p': case 'b': s->kind = SEG_PLOSIVE; s->sound = 0; s->voiced = ch == 'b'; return 1;
    case 't': case 'd': s->kind = SEG_PLOSIVE; s->sound = 1; s->voiced = ch == 'd'; return 1;
    case 'k': case 'g': s->kind = SEG_PLOSIVE; s->sound = 2; s->voiced = ch == 'g'; return 1;
    case 'f': case 'v': s->kind = SEG_FRICATIVE; s->sound = 0; s->voiced = ch == 'v'; return 1;
    case 's': case 'z': s->kind = SEG_FRICATIVE; s->sound = 1; s->voiced = ch == 'z'; return 1;
    case 'h': s->kind = SEG_FRICATIVE; s->sound = 2; return 1;
    case 'm': case 'n': s->kind = SEG_NASAL; s->sound = ch == 'n'; s->voiced = 1; return 1;
    case 'l': s->kind = SEG_LIQUID; s->sound = 0; s->voiced = 1; return 1;
    case 'r': s->kind = SEG_LIQUID; s->sound = 1; s->voiced = 1; return 1;
    case 'w': s->kind = SEG_LIQUID; s->sound = 2; s->voiced = 1; return 1;
    case 'y': s->kind = SEG_LIQUID; s->sound = 3; s->voiced = 1; return 1;
    default: return 0;
    }
}

/* Relative length of each kind of segment (a vowel is 1). */
static const float KIND_WEIGHT[] = {0.06f, 0.35f, 0.50f, 0.40f, 0.30f, 1.00f};

/* ---- Plan ---------------------------------------------------------------------- */

static int plan_push(SynthPlan *p, float *w, const SynthSegment *s, float weight)
{
    if (p->n_seg >= SYNTH_MAX_SEGMENTS - 1) return meld_errorf("synth: utterance text has too many sounds");
    p->seg[p->n_seg] = *s;
    w[p->n_seg++] = weight;
    return MELD_OK;
}

/* Segments of the text with relative weights; returns their count or -1. */
static int plan_parse(const char *text, Rng *r, float pause_mult, SynthPlan *p, float *w)
{
    SynthSegment s;
    int word_start = 1, last_vowel = -1;
    for (const char *ch = text; *ch; ch++) {
        if (*ch == ' ') {
            memset(&s, 0, sizeof s);
            if (plan_push(p, w, &s, KIND_WEIGHT[SEG_SILENCE])) return -1;
            word_start = 1;
        } else if (*ch == ',') {
            memset(&s, 0, sizeof s);
            if (plan_push(p, w, &s, 1.5f * pause_mult * synth_uniform(r, 0.7f, 1.3f))) return -1;
        } else if (*ch == '?') {
            p->question = 1;
        } else if (letter_sound(*ch, &s)) {
            float weight = KIND_WEIGHT[s.kind] * synth_uniform(r, 0.8f, 1.2f);
            if (s.kind == SEG_VOWEL) {
                /* Pitch accent on some words' first vowel (most often the first word's). */
                if (word_start) s.accent = (uint8_t)(rng_uniform(r) < (p->n_seg <= 2 ? 0.8f : 0.45f));
                if (s.accent) weight *= 1.3f;
                word_start = 0;
                last_vowel = p->n_seg;
            }
            if (plan_push(p, w, &s, weight)) return -1;
        }
    }
    if (last_vowel >= 0) w[last_vowel] *= 1.4f; /* phrase-final lengthening */
    return p->n_seg;
}

int synth_plan(const SynthCorpus *c, int u, SynthPlan *p)
{
    const SynthUtterance *ut = &c->utts[u];
    float w[SYNTH_MAX_SEGMENTS];
    SynthVoiceCues vc;
    synth_voice_cues(c, u, &vc);
    memset(p, 0, sizeof *p);
    Rng r;
    rng_seed(&r, c->cfg.seed ^ PLAN_SALT, ut->stream);

    size_t n = synth_n_samples(c, u);
    float fs = (float)c->cfg.sample_rate;
    size_t lead = (size_t)(synth_uniform(&r, 0.08f, 0.30f) * fs);
    size_t trail = (size_t)(synth_uniform(&r, 0.06f, 0.25f) * fs);
    if (2 * (lead + trail) > n) { /* keep at least half of the clip for speech */
        lead = n / 6;
        trail = n / 8;
    }
    p->n_samples = n;
    /* seg[0] is the leading silence; the text's segments follow. */
    p->n_seg = 1;
    w[0] = 0.0f;
    if (plan_parse(synth_text(c, u), &r, vc.pause, p, w) < 0) return MELD_ERR;

    /* Spread the speech span [lead, n - trail) over the weights. */
    float total = 0.0f;
    for (int i = 1; i < p->n_seg; i++) total += w[i];
    size_t span = n - lead - trail;
    float acc = 0.0f;
    p->seg[0].start = 0;
    p->seg[0].end = (int)lead;
    for (int i = 1; i < p->n_seg; i++) {
        p->seg[i].start = p->seg[i - 1].end;
        acc += w[i];
        p->seg[i].end = (int)lead + (int)((float)span * (acc / total));
    }
    p->seg[p->n_seg - 1].end = (int)(n - trail);
    SynthSegment tail;
    memset(&tail, 0, sizeof tail);
    tail.start = (int)(n - trail);
    tail.end = (int)n;
    p->seg[p->n_seg++] = tail;
    return MELD_OK;
}

static int plan_find(const SynthPlan *p, size_t t)
{
    int lo = 0, hi = p->n_seg - 1;
    while (lo < hi) { /* last segment with start <= t */
        int mid = (lo + hi + 1) / 2;
        if ((size_t)p->seg[mid].start <= t) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Position of t in its segment, 0..1. */
static float seg_pos(const SynthSegment *s, size_t t)
{
    int len = s->end - s->start;
    return len > 0 ? (float)((int)t - s->start) / (float)len : 0.0f;
}

float synth_plan_mouth(const SynthPlan *p, size_t t)
{
    static const float OPENNESS[5] = {1.0f, 0.65f, 0.35f, 0.75f, 0.40f}; /* a e i o u */
    const SynthSegment *s = &p->seg[plan_find(p, t)];
    switch (s->kind) {
    case SEG_VOWEL: /* opens and closes over the vowel: 0.3 + 0.7 sin(pi x) */
        return OPENNESS[s->sound] * (0.3f + 0.7f * synth_sin2pi(0.5f * seg_pos(s, t)));
    case SEG_PLOSIVE:
    case SEG_NASAL: return s->sound == 0 ? 0.0f : 0.2f; /* lips closed on p b m */
    case SEG_FRICATIVE: return s->sound == 0 ? 0.05f : 0.2f;
    case SEG_LIQUID: return 0.25f;
    default: return 0.0f;
    }
}

/* ---- Filters ---------------------------------------------------------------- */

typedef struct {
    float a, b, c, y1, y2;
} Resonator;

/* Pole radius and b, c for centre freq (Hz) and bandwidth bw (Hz). */
static float reso_poles(Resonator *rs, float freq, float bw, float fs)
{
    if (freq > 0.45f * fs) freq = 0.45f * fs;
    float r = synth_exp2(-PI_F * bw / fs * LOG2E_F);
    rs->b = 2.0f * r * synth_cos2pi(freq / fs);
    rs->c = -r * r;
    return r;
}

static void reso_tract(Resonator *rs, float freq, float bw, float fs)
{
    reso_poles(rs, freq, bw, fs);
    rs->a = 1.0f - rs->b - rs->c;
}

static void reso_peak(Resonator *rs, float freq, float bw, float fs)
{
    if (freq > 0.45f * fs) freq = 0.45f * fs;
    float r = reso_poles(rs, freq, bw, fs);
    rs->a = (1.0f - r) * sqrtf(1.0f - 2.0f * r * synth_cos2pi(2.0f * freq / fs) + r * r);
}

/* A resonator left without input decays towards 0 through subnormal
 * numbers, which x86 processes about 100 times slower: flush them. */
static void reso_flush(Resonator *rs)
{
    if (fabsf(rs->y1) < 1e-20f) rs->y1 = 0.0f;
    if (fabsf(rs->y2) < 1e-20f) rs->y2 = 0.0f;
}

static inline float reso_run(Resonator *rs, float x)
{
    float y = rs->a * x + rs->b * rs->y1 + rs->c * rs->y2;
    rs->y2 = rs->y1;
    rs->y1 = y;
    return y;
}

/* Sine oscillator by recurrence: s[n+1] = 2 cos(w) s[n] - s[n-1]. */
typedef struct {
    float k, s1, s0;
} Oscillator;

static void osc_init(Oscillator *o, float freq, float fs, float phase)
{
    float w = freq / fs;
    o->k = 2.0f * synth_cos2pi(w);
    o->s0 = synth_sin2pi(phase - w);
    o->s1 = synth_sin2pi(phase);
}

static inline float osc_run(Oscillator *o)
{
    float s = o->s1;
    float next = o->k * o->s1 - o->s0;
    o->s0 = o->s1;
    o->s1 = next;
    return s;
}

/* One-pole glide v += k (target - v), snapping onto the target when close
 * (otherwise v creeps through subnormal numbers towards a 0 target). */
static inline void glide(float *v, float target, float k)
{
    *v += k * (target - *v);
    if (fabsf(*v - target) < 1e-6f) *v = target;
}

/* ---- Targets per sound --------------------------------------------------------- */

/* Formants F1..F4 (Hz, adult male; times the speaker's formant scale). */
static const float VOWEL_F[5][4] = {
    {730, 1090, 2440, 3300}, /* a */
    {530, 1840, 2480, 3300}, /* e */
    {270, 2290, 3010, 3500}, /* i */
    {570, 840, 2410, 3300},  /* o */
    {300, 870, 2240, 3300},  /* u */
};
static const float TRACT_BW[4] = {80, 90, 150, 200};
static const float F2_LOCUS[3] = {800, 1700, 2000}; /* labial, alveolar, velar */
static const float FRIC_F[3] = {3500, 5000, 1500};  /* f/v, s/z, h */
static const float FRIC_BW[3] = {3000, 1500, 2500};
static const float FRIC_AMP[3] = {0.25f, 0.60f, 0.20f};
static const float BURST_F[3] = {1000, 4000, 2300};

typedef struct {
    float formant[4]; /* formant targets */
    float voice;      /* voicing amplitude */
    float fric;       /* frication amplitude */
    float burst;      /* plosive release amplitude */
    int fric_place, burst_place;
} Target;

/* The vowel that a consonant leans towards (next vowel, else previous). */
static int neighbour_vowel(const SynthPlan *p, int i)
{
    for (int j = i; j < p->n_seg; j++)
        if (p->seg[j].kind == SEG_VOWEL) return p->seg[j].sound;
    for (int j = i; j >= 0; j--)
        if (p->seg[j].kind == SEG_VOWEL) return p->seg[j].sound;
    return 0;
}

static void target_of(const SynthPlan *p, int i, float pos, float scale, Target *t)
{
    const SynthSegment *s = &p->seg[i];
    int v = neighbour_vowel(p, i);
    memset(t, 0, sizeof *t);
    for (int k = 0; k < 4; k++) t->formant[k] = VOWEL_F[v][k];
    switch (s->kind) {
    case SEG_VOWEL:
        t->voice = 1.0f;
        break;
    case SEG_NASAL: /* murmur: low F1, weak */
        t->formant[0] = 250.0f;
        t->formant[1] = s->sound ? 1400.0f : 1000.0f;
        t->voice = 0.30f;
        break;
    case SEG_LIQUID: { /* a vowel-like glide */
        static const float F2L[4] = {1100, 1200, 700, 2200};
        t->formant[0] = 350.0f;
        t->formant[1] = F2L[s->sound];
        t->voice = 0.6f;
        break;
    }
    case SEG_FRICATIVE:
        t->formant[0] *= 0.6f;
        t->fric = FRIC_AMP[s->sound];
        t->fric_place = s->sound;
        t->voice = s->voiced ? 0.3f : 0.0f;
        break;
    case SEG_PLOSIVE:
        /* closure (silent, or a weak voice bar), release burst in the last quarter */
        t->formant[0] *= 0.5f;
        t->formant[1] = 0.5f * (t->formant[1] + F2_LOCUS[s->sound]);
        t->voice = s->voiced ? 0.12f : 0.0f;
        t->burst = pos > 0.75f ? 0.8f : 0.0f;
        t->burst_place = s->sound;
        break;
    default:
        break;
    }
    for (int k = 0; k < 4; k++) t->formant[k] *= scale;
}

/* ---- Rendering ----------------------------------------------------------------- */

typedef struct {
    /* per utterance */
    float fs, f0_base, accent_st, wander_st, final_st, oq, breath, jitter, shimmer, tilt_k, level;
    float noise_white, noise_rumble, hum_amp, laugh_amp;
    float wander_f1, wander_f2, wander_p1, wander_p2;
    size_t speech_start, speech_end, laugh_start, laugh_end;
    int has_hum, has_laugh;
    float k_formant, k_pitch, k_amp; /* one-pole glide constants */
    /* state */
    Target tg;                /* the current segment's targets */
    float f0;                 /* this block's pitch */
    float phase, cycle_f0, cycle_amp, st_smooth, tilt_y, rumble;
    int open;                 /* the folds are open (phase < OQ) */
    float voice_a, fric_a, burst_a, formant[4];
    Resonator tract[4], fric, burst, laugh;
    Oscillator hum1, hum3, laugh_am;
} Voice;

static float db_to_gain(float db) { return synth_exp2(db * 0.16609640474f); } /* 10^(db/20) */

static void voice_setup(Voice *v, const SynthCorpus *c, int u, const SynthPlan *p, Rng *r)
{
    const SynthUtterance *ut = &c->utts[u];
    const SynthSpeaker *sp = &c->speakers[ut->speaker];
    SynthVoiceCues vc;
    synth_voice_cues(c, u, &vc);
    memset(v, 0, sizeof *v);
    v->fs = (float)c->cfg.sample_rate;

    /* Pitch: speaker base times the emotional shift and a per-utterance wobble. */
    float st = vc.pitch_st + 0.6f * synth_normal(r);
    v->f0_base = sp->f0_hz * synth_exp2(st / 12.0f);
    v->accent_st = 2.2f * vc.range * synth_uniform(r, 0.7f, 1.3f);
    v->wander_st = 0.6f * vc.range;
    v->final_st = vc.final_st + (p->question ? 3.0f : 0.0f);
    v->wander_f1 = synth_uniform(r, 0.4f, 1.0f);
    v->wander_f2 = synth_uniform(r, 1.5f, 2.5f);
    v->wander_p1 = rng_uniform(r);
    v->wander_p2 = rng_uniform(r);

    /* Voice quality. */
    v->oq = sp->open_quotient + vc.open_quotient;
    if (v->oq < 0.3f) v->oq = 0.3f;
    if (v->oq > 0.85f) v->oq = 0.85f;
    v->breath = sp->breath + vc.breath;
    if (v->breath < 0.0f) v->breath = 0.0f;
    if (v->breath > 1.0f) v->breath = 1.0f;
    v->jitter = sp->jitter + vc.jitter;
    v->shimmer = sp->shimmer + vc.shimmer;
    /* Spectral tilt: one-pole low-pass, darker for open (breathy) voices. */
    v->tilt_k = 1.25f - v->oq - 0.3f * v->breath;
    if (v->tilt_k < 0.2f) v->tilt_k = 0.2f;
    if (v->tilt_k > 0.95f) v->tilt_k = 0.95f;

    /* The room and the recording chain belong to the scene (the dialogue):
     * channel gain, background level and colour, mains hum. */
    Rng room;
    rng_seed(&room, c->cfg.seed ^ ROOM_SALT, ut->scene);
    float channel_db = 2.0f * synth_normal(&room), snr_db = synth_uniform(&room, 8.0f, 35.0f);
    float mix = rng_uniform(&room);
    v->has_hum = rng_uniform(&room) < 0.2f;
    float hum = synth_uniform(&room, 0.3f, 1.0f);
    float mains = rng_uniform(&room) < 0.5f ? 50.0f : 60.0f;

    /* Level: habitual loudness + emotion + the recording's gain (mic
     * distance, channel), which hides part of the loudness cue. */
    float channel = db_to_gain(channel_db + 0.7f * synth_normal(r));
    v->level = 0.05f * channel * db_to_gain(sp->gain_db + vc.loud_db);

    /* Background at an SNR relative to a nominal (not emotional) level. */
    float noise = 0.05f * channel * db_to_gain(-(snr_db + synth_uniform(r, -3.0f, 3.0f)));
    v->noise_white = noise * mix;
    v->noise_rumble = noise * (1.0f - mix) * 6.0f;
    v->hum_amp = noise * hum;
    osc_init(&v->hum1, mains, v->fs, 0.0f);
    osc_init(&v->hum3, 3.0f * mains, v->fs, 0.0f);
    /* A burst of studio-audience laughter somewhere in a fifth of the clips. */
    v->has_laugh = rng_uniform(r) < 0.2f;
    size_t n = p->n_samples;
    v->laugh_start = (size_t)(rng_uniform(r) * (float)n);
    v->laugh_end = v->laugh_start + (size_t)(synth_uniform(r, 0.3f, 1.0f) * v->fs);
    v->laugh_amp = 0.05f * channel * db_to_gain(-synth_uniform(r, 6.0f, 20.0f)) * 3.0f;
    reso_peak(&v->laugh, synth_uniform(r, 700.0f, 1300.0f), 900.0f, v->fs);
    /* Two draws in one call's arguments would run in a compiler-chosen
     * order (gcc: right to left), so they are sequenced here, phase first. */
    float laugh_phase = rng_uniform(r);
    float laugh_rate = synth_uniform(r, 4.0f, 6.0f);
    osc_init(&v->laugh_am, laugh_rate, v->fs, laugh_phase);

    v->speech_start = (size_t)p->seg[0].end;
    v->speech_end = (size_t)p->seg[p->n_seg - 1].start;
    for (int k = 0; k < 4; k++) v->formant[k] = VOWEL_F[neighbour_vowel(p, 0)][k] * sp->formant_scale;
    v->cycle_f0 = v->f0 = v->f0_base;
    v->cycle_amp = 1.0f;
    /* Glides: k = 1 - e^(-dt / tau) for a step dt; formants and pitch move
     * once per block (tau 12 and 30 ms), amplitudes every sample (4 ms). */
    v->k_formant = 1.0f - synth_exp2(-(float)BLOCK / (0.012f * v->fs) * LOG2E_F);
    v->k_pitch = 1.0f - synth_exp2(-(float)BLOCK / (0.030f * v->fs) * LOG2E_F);
    v->k_amp = 1.0f - synth_exp2(-1.0f / (0.004f * v->fs) * LOG2E_F);
}

/* Pitch in semitones above the base at sample t: declination, accents,
 * slow wander, and the final rise or fall over the last 0.4 s of speech. */
static float pitch_st(const Voice *v, const SynthPlan *p, const SynthSegment *s, size_t t)
{
    float tn = (float)t / (float)p->n_samples;
    float st = -1.5f * tn;
    if (s->kind == SEG_VOWEL && s->accent) st += v->accent_st * synth_sin2pi(0.5f * seg_pos(s, t));
    float ts = (float)t / v->fs;
    st += v->wander_st * (0.6f * synth_sin2pi(v->wander_f1 * ts + v->wander_p1) +
                          0.4f * synth_sin2pi(v->wander_f2 * ts + v->wander_p2));
    size_t ramp = (size_t)(0.4f * v->fs);
    size_t from = v->speech_end > v->speech_start + ramp ? v->speech_end - ramp : v->speech_start;
    if (t > from) {
        float x = t >= v->speech_end ? 1.0f : (float)(t - from) / (float)(v->speech_end - from);
        st += v->final_st * x;
    }
    return st;
}

/* Control values at the start b0 of a block: the segment's targets, the
 * formant glide and the resonators, the pitch. */
static void voice_block(Voice *v, const SynthPlan *p, int seg, size_t b0, float formant_scale)
{
    const SynthSegment *s = &p->seg[seg];
    target_of(p, seg, seg_pos(s, b0), formant_scale, &v->tg);
    for (int k = 0; k < 4; k++) reso_flush(&v->tract[k]);
    if (fabsf(v->tilt_y) < 1e-20f) v->tilt_y = 0.0f;
    for (int k = 0; k < 4; k++) {
        v->formant[k] += v->k_formant * (v->tg.formant[k] - v->formant[k]);
        float bw = TRACT_BW[k] * (k == 0 && s->kind == SEG_NASAL ? 3.0f : 1.0f);
        reso_tract(&v->tract[k], v->formant[k], bw, v->fs);
    }
    reso_peak(&v->fric, FRIC_F[v->tg.fric_place], FRIC_BW[v->tg.fric_place], v->fs);
    reso_peak(&v->burst, BURST_F[v->tg.burst_place], 2000.0f, v->fs);
    v->st_smooth += v->k_pitch * (pitch_st(v, p, s, b0) - v->st_smooth);
    v->f0 = v->f0_base * synth_exp2(v->st_smooth / 12.0f);
}

/* The next glottal-flow-derivative sample (see the top of the file); sets
 * v->open while the folds are open. */
static float glottal(Voice *v, Rng *r)
{
    v->phase += v->cycle_f0 / v->fs;
    if (v->phase >= 1.0f) { /* a new cycle: its own period and amplitude */
        v->phase -= 1.0f;
        v->cycle_f0 = v->f0 * (1.0f + v->jitter * synth_normal(r));
        v->cycle_amp = 1.0f + v->shimmer * synth_normal(r);
    }
    float x = v->phase / v->oq;
    v->open = x < 1.0f;
    return v->open ? (2.0f * x - 3.0f * x * x) * v->cycle_amp : 0.0f;
}

/* Room noise at sample t from the uniform noise n: white and low-passed
 * ("rumble") noise, mains hum, the laughter burst. */
static float background(Voice *v, float n, size_t t)
{
    v->rumble += 0.02f * (n - v->rumble);
    float bg = v->noise_white * n + v->noise_rumble * v->rumble;
    if (v->has_hum) bg += v->hum_amp * (osc_run(&v->hum1) + 0.3f * osc_run(&v->hum3));
    float lg = reso_run(&v->laugh, n);
    if (v->has_laugh && t >= v->laugh_start && t < v->laugh_end) {
        float am = osc_run(&v->laugh_am); /* "ha-ha": sin^2 bursts */
        bg += v->laugh_amp * lg * (0.5f + 0.5f * am * am);
    }
    return bg;
}

/* Soft clip: linear up to 0.8, then 0.8 + 0.2 d / (1 + d), below 1. */
static float soft_clip(float y)
{
    float a = y < 0.0f ? -y : y;
    if (a <= 0.8f) return y;
    float d = (a - 0.8f) / 0.2f;
    a = 0.8f + 0.2f * d / (1.0f + d);
    return y < 0.0f ? -a : a;
}

/* Sample t: source -> tract (+ frication, burst) -> level, + background. */
static float voice_sample(Voice *v, Rng *r, size_t t)
{
    /* Two uniform noises in [-1, 1) from one draw. */
    uint32_t bits = rng_u32(r);
    float n1 = (float)(int)(bits & 0xffff) * (1.0f / 32768.0f) - 1.0f;
    float n2 = (float)(int)(bits >> 16) * (1.0f / 32768.0f) - 1.0f;

    float g = glottal(v, r);
    v->tilt_y += v->tilt_k * (g - v->tilt_y);
    float open = v->open ? 1.0f : 0.0f;
    float asp = n1 * v->breath * (0.3f + 0.7f * open); /* aspiration, stronger while open */
    glide(&v->voice_a, v->tg.voice, v->k_amp);
    glide(&v->fric_a, v->tg.fric, v->k_amp);
    glide(&v->burst_a, v->tg.burst, v->k_amp);
    float y = v->voice_a * (v->tilt_y + 0.5f * asp);
    if (v->tg.fric_place == 2) y += v->fric_a * n1 * 0.6f; /* h: noise through the tract */
    for (int k = 0; k < 4; k++) y = reso_run(&v->tract[k], y);
    float fr = reso_run(&v->fric, n1);
    float bu = reso_run(&v->burst, n1);
    if (v->tg.fric_place != 2) y += v->fric_a * fr;
    y += v->burst_a * bu;
    y *= v->level;
    y += background(v, n2, t);
    return soft_clip(y);
}

int synth_voice_render(const SynthCorpus *c, int u, float *out, size_t n)
{
    if (u < 0 || u >= c->n_utts) return meld_errorf("synth: no utterance %d", u);
    if (n != synth_n_samples(c, u))
        return meld_errorf("synth: utterance %d has %zu samples, buffer has %zu", u, synth_n_samples(c, u), n);
    SynthPlan *p = meld_malloc(sizeof *p, "synth plan");
    if (!p) return MELD_ERR;
    if (synth_plan(c, u, p)) {
        free(p);
        return MELD_ERR;
    }
    const SynthSpeaker *sp = &c->speakers[c->utts[u].speaker];
    Rng r;
    rng_seed(&r, c->cfg.seed ^ VOICE_SALT, c->utts[u].stream);
    Voice v;
    voice_setup(&v, c, u, p, &r);
    int seg = 0;
    for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
        while (seg + 1 < p->n_seg && (size_t)p->seg[seg].end <= b0) seg++;
        voice_block(&v, p, seg, b0, sp->formant_scale);
        size_t b1 = b0 + BLOCK < n ? b0 + BLOCK : n;
        for (size_t t = b0; t < b1; t++) out[t] = voice_sample(&v, &r, t);
    }
    free(p);
    return MELD_OK;
}
