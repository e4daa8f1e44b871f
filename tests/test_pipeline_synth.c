/* The synthetic corpus (pipeline/synth/synth.h): deterministic maths, label
 * statistics, dialogue structure, the CSV, the speech plan, what the cues do
 * to the audio and the frames, byte-identical files per seed, and the files
 * read back through the dataset, WAV and Y4M readers (and `meld synth` /
 * `meld eda` when $MELD_BIN is set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "audio/wav.h"
#include "pipeline/data/dataset.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"
#include "video/y4m.h"

static char scratch[64];

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/meld-test-synth-XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
#define FNV_START 0xcbf29ce484222325ULL

static uint64_t hash_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t buf[65536];
    uint64_t h = FNV_START;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) h = fnv1a(h, buf, n);
    fclose(fp);
    return h;
}

static SynthConfig config(int dialogues, uint64_t seed)
{
    SynthConfig cfg;
    synth_config_default(&cfg);
    cfg.n_dialogues = dialogues;
    cfg.seed = seed;
    return cfg;
}

/* ---- Maths ------------------------------------------------------------------ */

static void maths_match_libm(void **state)
{
    (void)state;
    double worst_sin = 0, worst_exp = 0, worst_log = 0;
    for (int i = -20000; i <= 20000; i++) {
        float x = (float)i * 0.000371f; /* -7.4 .. 7.4 turns */
        worst_sin = fmax(worst_sin, fabs(synth_sin2pi(x) - sin(2.0 * M_PI * x)));
        worst_sin = fmax(worst_sin, fabs(synth_cos2pi(x) - cos(2.0 * M_PI * x)));
        float e = (float)i * 0.006f; /* -120 .. 120 */
        worst_exp = fmax(worst_exp, fabs(synth_exp2(e) / exp2((double)e) - 1.0));
    }
    for (int i = 1; i <= 40000; i++) {
        float x = (float)i * (float)i * 1e-6f; /* 1e-6 .. 1600 */
        worst_log = fmax(worst_log, fabs(synth_log2(x) - log2((double)x)));
    }
    /* float rounding of the reduced argument dominates: a few ulps of 1 */
    assert_true(worst_sin < 2e-6);
    assert_true(worst_exp < 2e-6);
    assert_true(worst_log < 2e-6);
    assert_true(synth_sin2pi(0.0f) == 0.0f);
    assert_true(synth_exp2(0.0f) == 1.0f && synth_exp2(3.0f) == 8.0f);
    assert_true(synth_log2(1.0f) == 0.0f && synth_log2(0.125f) == -3.0f);
}

/* Same draws as rng_uniform_range (which this gcc build does not fuse). */
static void uniform_matches_rng(void **state)
{
    (void)state;
    Rng a, b;
    rng_seed(&a, 5, 9);
    rng_seed(&b, 5, 9);
    for (int i = 0; i < 1000; i++) {
        float x = synth_uniform(&a, -3.0f, 7.5f), y = rng_uniform_range(&b, -3.0f, 7.5f);
        assert_memory_equal(&x, &y, sizeof x);
        assert_true(x >= -3.0f && x < 7.5f);
    }
}

static void normal_has_unit_moments(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 11, 5);
    double s = 0, s2 = 0, s4 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = synth_normal(&r);
        s += x;
        s2 += x * x;
        s4 += x * x * x * x;
    }
    assert_true(fabs(s / n) < 0.01);
    assert_true(fabs(s2 / n - 1.0) < 0.02);
    assert_true(fabs(s4 / n - 3.0) < 0.1); /* kurtosis of a normal */
}

/* ---- Corpus structure -------------------------------------------------------------- */

static void shift_kernel_keeps_meld_shares(void **state)
{
    (void)state;
    float q[SYNTH_N_EMOTIONS * SYNTH_N_EMOTIONS];
    synth_shift_kernel(q);
    float total = 0;
    for (int j = 0; j < SYNTH_N_EMOTIONS; j++) total += SYNTH_EMOTION_SHARES[j];
    assert_true(fabsf(total - 1.0f) < 1e-5f);
    for (int i = 0; i < SYNTH_N_EMOTIONS; i++) {
        float row = 0;
        for (int j = 0; j < SYNTH_N_EMOTIONS; j++) {
            assert_true(q[i * SYNTH_N_EMOTIONS + j] >= 0.0f);
            row += q[i * SYNTH_N_EMOTIONS + j];
        }
        assert_true(fabsf(row - 1.0f) < 1e-5f);
    }
    for (int j = 0; j < SYNTH_N_EMOTIONS; j++) { /* (pi Q)_j = pi_j */
        float pq = 0;
        for (int i = 0; i < SYNTH_N_EMOTIONS; i++) pq += SYNTH_EMOTION_SHARES[i] * q[i * SYNTH_N_EMOTIONS + j];
        assert_true(fabsf(pq - SYNTH_EMOTION_SHARES[j]) < 1e-5f);
    }
}

/* 4000 dialogues (about 40k utterances): labels only, no rendering. */
static void labels_follow_meld_shares(void **state)
{
    (void)state;
    SynthConfig cfg = config(4000, 3);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    int count[SYNTH_N_EMOTIONS] = {0}, surprise_pos = 0;
    for (int u = 0; u < c.n_utts; u++) {
        const SynthUtterance *ut = &c.utts[u];
        count[ut->emotion]++;
        switch (ut->emotion) {
        case SYNTH_NEUTRAL: assert_int_equal(ut->sentiment, SYNTH_SENT_NEUTRAL); break;
        case SYNTH_JOY: assert_int_equal(ut->sentiment, SYNTH_SENT_POSITIVE); break;
        case SYNTH_SURPRISE:
            assert_int_not_equal(ut->sentiment, SYNTH_SENT_NEUTRAL);
            surprise_pos += ut->sentiment == SYNTH_SENT_POSITIVE;
            break;
        default: assert_int_equal(ut->sentiment, SYNTH_SENT_NEGATIVE); break;
        }
    }
    /* Utterances within a dialogue are correlated; with ~4000 independent
     * dialogues the share of a class with p = 0.47 has a standard error
     * near 0.005, so 0.02 (0.01 for the rare classes) is about 4 sigma. */
    for (int e = 0; e < SYNTH_N_EMOTIONS; e++) {
        double share = (double)count[e] / c.n_utts, want = SYNTH_EMOTION_SHARES[e];
        assert_true(fabs(share - want) < (want > 0.1 ? 0.02 : 0.01));
    }
    assert_true(fabs((double)surprise_pos / count[SYNTH_SURPRISE] - 0.49) < 0.04);
    synth_corpus_free(&c);
}

static void dialogue_structure_is_meld_like(void **state)
{
    (void)state;
    SynthConfig cfg = config(1000, 4);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    /* Splits in MELD's 1038 : 114 : 280 dialogue proportions. */
    assert_int_equal(c.split_dialogues[SYNTH_DEV], 80);
    assert_int_equal(c.split_dialogues[SYNTH_TEST], 196);
    assert_int_equal(c.split_dialogues[SYNTH_TRAIN], 724);
    long long dur = 0;
    int n_dia = 0, words = 0;
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        int u = c.split_begin[s];
        for (int d = 0; d < c.split_dialogues[s]; d++, n_dia++) {
            int first = u, speakers[8], n_spk = 0;
            for (; u < c.split_end[s] && c.utts[u].dialogue_id == d; u++) {
                const SynthUtterance *ut = &c.utts[u];
                assert_int_equal(ut->split, s);
                assert_int_equal(ut->utterance_id, u - first); /* 0, 1, 2, ... */
                int len = ut->end_ms - ut->start_ms;
                assert_true(len >= 1000 && len <= 8000);
                if (u > first) assert_true(ut->start_ms > c.utts[u - 1].end_ms); /* in order, no overlap */
                dur += len;
                int k = 0;
                while (k < n_spk && speakers[k] != ut->speaker) k++;
                if (k == n_spk) {
                    assert_true(n_spk < 5);
                    speakers[n_spk++] = ut->speaker;
                }
                for (const char *t = synth_text(&c, u); *t; t++) words += *t == ' ';
                words++;
            }
            assert_true(u - first >= 2 && u - first <= 24);
            assert_true(n_spk >= 2 && n_spk <= 5);
        }
        assert_int_equal(u, c.split_end[s]);
    }
    double mean_len = (double)c.n_utts / n_dia, mean_dur = (double)dur / c.n_utts / 1000.0;
    assert_true(mean_len > 8.5 && mean_len < 11.5); /* MELD: 9.6 */
    assert_true(mean_dur > 2.3 && mean_dur < 3.3);  /* MELD: 3.1 s (median 2.5) */
    assert_true((double)words / c.n_utts > 4.0);
    synth_corpus_free(&c);
}

/* A speaker's next emotion repeats their last one far more often than two
 * independent draws would agree (sum pi^2 = 0.27): the context signal. */
static void speakers_persist_their_emotions(void **state)
{
    (void)state;
    SynthConfig cfg = config(2000, 5);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    int same = 0, pairs = 0;
    for (int u = 0; u < c.n_utts; u++) {
        for (int v = u - 1; v >= 0 && c.utts[v].dialogue_id == c.utts[u].dialogue_id &&
                            c.utts[v].split == c.utts[u].split;
             v--) {
            if (c.utts[v].speaker != c.utts[u].speaker) continue;
            same += c.utts[v].emotion == c.utts[u].emotion;
            pairs++;
            break;
        }
    }
    double p = (double)same / pairs, chance = 0;
    for (int e = 0; e < SYNTH_N_EMOTIONS; e++) chance += (double)SYNTH_EMOTION_SHARES[e] * SYNTH_EMOTION_SHARES[e];
    print_message("P(same emotion as the speaker's previous turn) = %.3f (chance %.3f, MELD 0.44)\n", p, chance);
    assert_true(p > chance + 0.15 && p < 0.75);
    synth_corpus_free(&c);
}

/* The CSV text parses with the dataset reader into the same labels. */
static void csv_reads_back_through_the_dataset_parser(void **state)
{
    (void)state;
    SynthConfig cfg = config(40, 6);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        size_t len;
        char *text = synth_csv_text(&c, s, &len);
        assert_non_null(text);
        assert_int_equal(strlen(text), len);
        static const char HEADER[] = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,"
                                     "Episode,StartTime,EndTime\r\n";
        assert_memory_equal(text, HEADER, sizeof HEADER - 1);
        Split sp;
        assert_int_equal(dataset_parse_split(text, len, synth_split_csv(s), NULL, NULL, &sp), MELD_OK);
        assert_int_equal(sp.n_utts, c.split_end[s] - c.split_begin[s]);
        assert_int_equal(sp.n_dialogues, c.split_dialogues[s]);
        for (size_t i = 0; i < sp.n_utts; i++) {
            const Utterance *d = &sp.utts[i];
            const SynthUtterance *u = &c.utts[c.split_begin[s] + (int)i];
            assert_int_equal(d->sr_no, (int)i + 1);
            assert_int_equal(d->dialogue_id, u->dialogue_id);
            assert_int_equal(d->utterance_id, u->utterance_id);
            assert_int_equal(d->emotion, u->emotion);
            assert_int_equal(d->sentiment, u->sentiment);
            assert_int_equal(d->start_ms, u->start_ms);
            assert_int_equal(d->end_ms, u->end_ms);
            assert_int_equal(d->season, u->season);
            assert_int_equal(d->episode, u->episode);
            assert_string_equal(d->text, synth_text(&c, c.split_begin[s] + (int)i));
            assert_string_equal(d->speaker, c.speakers[u->speaker].name);
        }
        split_free(&sp);
        free(text);
    }
    synth_corpus_free(&c);
}

/* ---- Plan, voice, face -------------------------------------------------------------- */

static void plan_covers_the_clip_and_reads_the_text(void **state)
{
    (void)state;
    SynthConfig cfg = config(6, 7);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    SynthPlan *p = malloc(sizeof *p);
    assert_non_null(p);
    for (int u = 0; u < c.n_utts; u++) {
        assert_int_equal(synth_plan(&c, u, p), MELD_OK);
        assert_int_equal(p->n_samples, synth_n_samples(&c, u));
        assert_int_equal(p->seg[0].start, 0);
        assert_int_equal(p->seg[p->n_seg - 1].end, (int)p->n_samples);
        int vowels = 0, letters_vowel = 0;
        for (int i = 0; i < p->n_seg; i++) {
            assert_true(p->seg[i].end >= p->seg[i].start);
            if (i) assert_int_equal(p->seg[i].start, p->seg[i - 1].end);
            vowels += p->seg[i].kind == SEG_VOWEL;
        }
        for (const char *t = synth_text(&c, u); *t; t++) letters_vowel += strchr("aeiouAEIOU", *t) != NULL;
        assert_int_equal(vowels, letters_vowel); /* one vowel sound per vowel letter */
        assert_int_equal(p->seg[0].kind, SEG_SILENCE);
        assert_true(synth_plan_mouth(p, 0) == 0.0f); /* silent lead-in: mouth closed */
        assert_int_equal(p->question, strchr(synth_text(&c, u), '?') != NULL);
    }
    free(p);
    synth_corpus_free(&c);
}

static double render_rms(const SynthCorpus *c, int u, float **keep)
{
    size_t n = synth_n_samples(c, u);
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    assert_int_equal(synth_voice_render(c, u, x, n), MELD_OK);
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(x[i] >= -1.0f && x[i] <= 1.0f);
        s += (double)x[i] * x[i];
    }
    if (keep) *keep = x;
    else free(x);
    return sqrt(s / n);
}

/* With cue strength 0 every label sounds the same; at full strength anger
 * (+7 dB) is much louder than sadness (-5 dB). */
static void voice_cues_drive_the_audio(void **state)
{
    (void)state;
    SynthConfig cfg = config(3, 8);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    for (int u = 0; u < 4; u++) {
        SynthUtterance *ut = &c.utts[u];
        float *a, *b;
        ut->cue_audio = 0.0f;
        ut->emotion = SYNTH_ANGER;
        double r0 = render_rms(&c, u, &a);
        ut->emotion = SYNTH_SADNESS;
        render_rms(&c, u, &b);
        assert_memory_equal(a, b, synth_n_samples(&c, u) * sizeof(float));
        assert_true(r0 > 0.005 && r0 < 0.3);
        free(a);
        free(b);
        ut->cue_audio = 1.0f;
        ut->blend = 0.0f;
        ut->emotion = SYNTH_ANGER;
        double loud = render_rms(&c, u, NULL);
        ut->emotion = SYNTH_SADNESS;
        double quiet = render_rms(&c, u, NULL);
        assert_true(loud > 2.0 * quiet);
    }
    synth_corpus_free(&c);
}

static void render_frame(const SynthCorpus *c, int u, int k, uint8_t *rgb)
{
    SynthFaceClip *fc = synth_face_open(c, u);
    assert_non_null(fc);
    assert_int_equal(synth_face_frame(fc, k, rgb), MELD_OK);
    assert_int_equal(synth_face_frame(fc, synth_n_frames(c, u), rgb), MELD_ERR); /* out of range */
    assert_int_equal(synth_face_frame(fc, k, rgb), MELD_OK);                    /* order does not matter */
    synth_face_close(fc);
}

/* With cue strength 0 every label looks the same; at full strength joy and
 * sadness differ (the audio cue is 0 so both share the same mouth motion). */
static void face_cues_drive_the_frames(void **state)
{
    (void)state;
    SynthConfig cfg = config(3, 9);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    size_t bytes = (size_t)cfg.image_size * cfg.image_size * 3;
    uint8_t *a = malloc(bytes), *b = malloc(bytes);
    assert_non_null(a);
    assert_non_null(b);
    for (int u = 0; u < 3; u++) {
        SynthUtterance *ut = &c.utts[u];
        ut->cue_audio = 0.0f;
        ut->cue_face = 0.0f;
        ut->emotion = SYNTH_JOY;
        render_frame(&c, u, 1, a);
        ut->emotion = SYNTH_SADNESS;
        render_frame(&c, u, 1, b);
        assert_memory_equal(a, b, bytes);
        ut->cue_face = 1.0f;
        ut->blend = 0.0f;
        ut->emotion = SYNTH_JOY;
        render_frame(&c, u, 1, a);
        ut->emotion = SYNTH_SADNESS;
        render_frame(&c, u, 1, b);
        size_t differ = 0;
        for (size_t i = 0; i < bytes; i++) differ += a[i] != b[i];
        assert_true(differ > 30);
    }
    free(a);
    free(b);
    synth_corpus_free(&c);
}

/* The exact bits for seed 1 (3 dialogues): the CSVs, every clip's audio
 * samples and first frame. A different libm, compiler, optimisation level or
 * CPU must not change them (see "Determinism" in synth.h); a deliberate
 * change of the generator updates these numbers. */
static void output_bits_are_pinned(void **state)
{
    (void)state;
    SynthConfig cfg = config(3, 1);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    uint64_t h = FNV_START;
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        size_t len;
        char *text = synth_csv_text(&c, s, &len);
        assert_non_null(text);
        h = fnv1a(h, text, len);
        free(text);
    }
    /* Every clip's samples and first frame, so the rarer paths (laughter,
     * hum, occluders, background heads) are covered too. */
    uint64_t ha = FNV_START, hv = FNV_START;
    size_t bytes = (size_t)cfg.image_size * cfg.image_size * 3;
    uint8_t *rgb = malloc(bytes);
    assert_non_null(rgb);
    for (int u = 0; u < c.n_utts; u++) {
        float *x;
        render_rms(&c, u, &x);
        ha = fnv1a(ha, x, synth_n_samples(&c, u) * sizeof(float));
        free(x);
        render_frame(&c, u, 0, rgb);
        hv = fnv1a(hv, rgb, bytes);
    }
    free(rgb);
    synth_corpus_free(&c);
    print_message("csv %016llx audio %016llx frame %016llx\n", (unsigned long long)h, (unsigned long long)ha,
                  (unsigned long long)hv);
    assert_true(h == 0x47ca8699680260b1ULL);
    assert_true(ha == 0x460bd2f27c6bcd53ULL);
    assert_true(hv == 0x918e2cf2939b3501ULL);
}

/* ---- Files ---------------------------------------------------------------------- */

/* FNV-1a over every file of the corpus (CSVs and clips), in CSV order. */
static uint64_t hash_corpus(const char *dir, const SynthCorpus *c)
{
    char path[512];
    uint64_t h = FNV_START;
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, synth_split_csv(s));
        uint64_t f = hash_file(path);
        h = fnv1a(h, &f, sizeof f);
    }
    for (int u = 0; u < c->n_utts; u++) {
        const SynthUtterance *ut = &c->utts[u];
        for (int kind = 0; kind < 2; kind++) {
            snprintf(path, sizeof path, "%s/%s/dia%d_utt%d.%s", dir, synth_split_folder(ut->split), ut->dialogue_id,
                     ut->utterance_id, kind ? "y4m" : "wav");
            uint64_t f = hash_file(path);
            h = fnv1a(h, &f, sizeof f);
        }
    }
    return h;
}

/* The written corpus loads through pipeline/data/dataset.h with every clip found,
 * and each clip has the stated duration (WAV) and frame count and rate (Y4M). */
static void check_corpus_reads_back(const char *dir, const SynthCorpus *c)
{
    Dataset ds;
    assert_int_equal(dataset_load(dir, &ds, NULL), MELD_OK);
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        const Split *sp = &ds.split[s];
        assert_true(sp->present);
        assert_int_equal(sp->n_utts, c->split_end[s] - c->split_begin[s]);
        assert_int_equal(sp->clips_found, sp->n_utts);
        assert_int_equal(sp->clips_orphan, 0);
        for (size_t i = 0; i < sp->n_utts; i++) {
            const Utterance *d = &sp->utts[i];
            int u = c->split_begin[s] + (int)i;
            assert_int_equal(d->emotion, c->utts[u].emotion);
            assert_true(d->clips == (CLIP_WAV | CLIP_Y4M));
            char path[DATASET_PATH_MAX];
            assert_int_equal(dataset_clip_path(sp, d, CLIP_WAV, path, sizeof path), MELD_OK);
            Audio a;
            assert_int_equal(wav_read(path, &a), MELD_OK);
            assert_int_equal(a.sample_rate, 16000);
            assert_int_equal(a.n_samples, (size_t)(d->end_ms - d->start_ms) * 16);
            audio_free(&a);
            assert_int_equal(dataset_clip_path(sp, d, CLIP_Y4M, path, sizeof path), MELD_OK);
            Y4mReader r;
            assert_int_equal(y4m_open(&r, path), MELD_OK);
            assert_int_equal(r.width, c->cfg.image_size);
            assert_int_equal(r.height, c->cfg.image_size);
            assert_int_equal(r.fps_num, 10);
            assert_int_equal(r.fps_den, 1);
            long frames = y4m_count_frames(&r);
            assert_int_equal(frames, synth_n_frames(c, u));
            /* the clip lasts its duration to within half a frame */
            assert_true(fabs(frames / 10.0 - (d->end_ms - d->start_ms) / 1000.0) <= 0.05 + 1e-9);
            y4m_close(&r);
        }
    }
    dataset_free(&ds);
}

static void corpus_files_are_deterministic_and_readable(void **state)
{
    (void)state;
    char a[128], b[128], d[128];
    snprintf(a, sizeof a, "%s/a", scratch);
    snprintf(b, sizeof b, "%s/b/nested", scratch); /* folders are created as needed */
    snprintf(d, sizeof d, "%s/d", scratch);
    SynthConfig cfg = config(3, 21), other = config(3, 22);
    SynthStats st;
    assert_int_equal(synth_write(&cfg, a, NULL, NULL, &st), MELD_OK);
    assert_int_equal(synth_write(&cfg, b, NULL, NULL, NULL), MELD_OK);
    assert_int_equal(synth_write(&other, d, NULL, NULL, NULL), MELD_OK);

    SynthCorpus c, c2;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    assert_int_equal(synth_corpus_make(&c2, &other), MELD_OK);
    assert_int_equal(st.n_utts[0] + st.n_utts[1] + st.n_utts[2], c.n_utts);
    assert_true(st.bytes > 0 && st.n_frames > 0 && st.audio_seconds >= c.n_utts);
    assert_true(hash_corpus(a, &c) == hash_corpus(b, &c));
    char pa[256], pd[256];
    snprintf(pa, sizeof pa, "%s/train_sent_emo.csv", a);
    snprintf(pd, sizeof pd, "%s/train_sent_emo.csv", d);
    assert_true(hash_file(pa) != hash_file(pd));
    snprintf(pa, sizeof pa, "%s/train_splits/dia0_utt0.wav", a);
    snprintf(pd, sizeof pd, "%s/train_splits/dia0_utt0.wav", d);
    assert_true(hash_file(pa) != hash_file(pd));
    snprintf(pa, sizeof pa, "%s/train_splits/dia0_utt0.y4m", a);
    snprintf(pd, sizeof pd, "%s/train_splits/dia0_utt0.y4m", d);
    assert_true(hash_file(pa) != hash_file(pd));

    check_corpus_reads_back(a, &c);
    check_corpus_reads_back(d, &c2);
    synth_corpus_free(&c);
    synth_corpus_free(&c2);
}

static void bad_configuration_and_paths_are_errors(void **state)
{
    (void)state;
    SynthConfig cfg = config(2, 1);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_ERR);
    assert_non_null(strstr(meld_error(), "dialogues"));
    cfg = config(3, 1);
    cfg.image_size = 95;
    assert_int_equal(synth_config_check(&cfg), MELD_ERR);
    assert_non_null(strstr(meld_error(), "image size"));
    cfg = config(3, 1);
    cfg.fps = 0;
    assert_int_equal(synth_config_check(&cfg), MELD_ERR);
    /* Output under a regular file: a clear error, nothing written. */
    char file[128], dir[160];
    snprintf(file, sizeof file, "%s/plain", scratch);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(dir, sizeof dir, "%s/corpus", file);
    cfg = config(3, 1);
    assert_int_equal(synth_write(&cfg, dir, NULL, NULL, NULL), MELD_ERR);
    assert_non_null(strstr(meld_error(), "plain"));
}

/* ---- Command line ------------------------------------------------------------------ */

static int run_meld(const char *args)
{
    const char *bin = getenv("MELD_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out.txt' 2>'%s/err.txt'", bin, args, scratch, scratch);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cli_writes_a_corpus_that_eda_reads(void **state)
{
    (void)state;
    const char *bin = getenv("MELD_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        print_message("MELD_BIN not set (or not executable): skipping the CLI test\n");
        skip();
    }
    char args[512];
    snprintf(args, sizeof args, "synth --out '%s/cli' --dialogues 3 --seed 21", scratch);
    assert_int_equal(run_meld(args), 0);
    /* the CSV the library makes for seed 21, and the clips beside it */
    char path[256];
    snprintf(path, sizeof path, "%s/cli/test_sent_emo.csv", scratch);
    SynthConfig cfg = config(3, 21);
    SynthCorpus c;
    assert_int_equal(synth_corpus_make(&c, &cfg), MELD_OK);
    size_t len;
    char *want = synth_csv_text(&c, SYNTH_TEST, &len);
    assert_non_null(want);
    uint64_t h = fnv1a(FNV_START, want, len);
    free(want);
    assert_true(hash_file(path) == h);
    snprintf(path, sizeof path, "%s/cli/output_repeated_splits_test/dia0_utt0.y4m", scratch);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    synth_corpus_free(&c);
    snprintf(args, sizeof args, "eda --data '%s/cli'", scratch);
    assert_int_equal(run_meld(args), 0);
    assert_int_equal(run_meld("synth --help"), 0);
    assert_int_equal(run_meld("synth --dialogues 2"), 2);
    assert_int_equal(run_meld("synth --seed -4"), 2);
    assert_int_equal(run_meld("synth --size 95"), 2);
    assert_int_equal(run_meld("synth --bogus"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maths_match_libm),
        cmocka_unit_test(uniform_matches_rng),
        cmocka_unit_test(normal_has_unit_moments),
        cmocka_unit_test(shift_kernel_keeps_meld_shares),
        cmocka_unit_test(labels_follow_meld_shares),
        cmocka_unit_test(dialogue_structure_is_meld_like),
        cmocka_unit_test(speakers_persist_their_emotions),
        cmocka_unit_test(csv_reads_back_through_the_dataset_parser),
        cmocka_unit_test(plan_covers_the_clip_and_reads_the_text),
        cmocka_unit_test(voice_cues_drive_the_audio),
        cmocka_unit_test(face_cues_drive_the_frames),
        cmocka_unit_test(output_bits_are_pinned),
        cmocka_unit_test(corpus_files_are_deterministic_and_readable),
        cmocka_unit_test(bad_configuration_and_paths_are_errors),
        cmocka_unit_test(cli_writes_a_corpus_that_eda_reads),
    };
    return cmocka_run_group_tests_name("pipeline: synth", tests, setup, teardown);
}
