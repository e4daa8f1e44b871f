/* Face frames for the synthetic corpus: a cartoon portrait in a cluttered
 * room, drawn per frame with anti-aliased shapes.
 *
 * Coordinates. Shapes live in "face units": origin at the centre of the
 * head ellipse, x to the right, y down, the head about 0.85 x 1.07 units
 * (half-axes). A pixel centre (px + 1/2, py + 1/2) maps to face units by
 *     (u, v) = R(-roll) ((px + 1/2, py + 1/2) - centre) / unit
 * where `unit` is the size of one face unit in pixels (scale) and R a
 * rotation. Head yaw and pitch are approximated by sliding the features
 * (eyes, brows, nose, mouth) across the head and narrowing the far eye.
 *
 * Anti-aliasing. A shape gives a coverage in [0, 1] from an approximate
 * signed distance d to its edge (face units, negative inside):
 *     coverage = clamp(1/2 - d / pixel, 0, 1),   pixel = 1 / unit,
 * and colours blend by coverage, back to front (painter's order). For an
 * ellipse with half-axes a, b: d ~ (sqrt((x/a)^2 + (y/b)^2) - 1) min(a, b).
 *
 * Light. Skin and hair are shaded as an ellipsoid: normal
 * n = (x/a, y/b, sqrt(1 - (x/a)^2 - (y/b)^2)), brightness
 * ambient + diffuse max(0, n . l) for a light direction l drawn per scene
 * (dialogue), times shallow eye sockets, then the scene's exposure and
 * colour cast, then sensor noise.
 *
 * Expression (SynthFaceCues, see synth.h) moves the mouth corners, the jaw,
 * the mouth width, the brows (height and inner-end tilt), the eyelids and a
 * one-sided upper-lip raise. The mouth also opens on the vowels of the
 * speech plan, so lips move with the audio, and the eyes blink.
 *
 * Nuisances that weaken the evidence on purpose: pose, distance, dim light,
 * clutter and background heads, an occluder in front of the face on some
 * clips, noise. A frame depends only on its scene, shot, clip and index,
 * never on which frames or clips were drawn before.
 */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/synth/synth.h"
#include "tensor/error.h"

#define FACE_SALT 0x66616365ULL  /* "face" */
#define NOISE_SALT 0x6e6f6973ULL /* "nois" */
#define SCENE_SALT 0x7363656eULL /* "scen" */
#define SHOT_SALT 0x73686f74ULL  /* "shot" */

/* ---- Emotion profiles -------------------------------------------------------
 * Valence first: the mouth corners (joy up; sadness, disgust, anger down)
 * and the brows (anger and disgust lowered and knitted, sadness and fear
 * inner ends up). Surprise and fear widen the eyes and raise the brows
 * less strongly, so they overlap with each other and with neutral. */
static const SynthFaceCues FACE_PROFILE[SYNTH_N_EMOTIONS] = {
    /*            smile  open  width  brow  inner   eye   lip */
    /* neutral  */ {0.00f, 0.00f, 0.00f, 0.00f, 0.00f, 0.00f, 0.00f},
    /* joy      */ {1.00f, 0.35f, 0.25f, 0.10f, 0.00f, -0.30f, 0.00f},
    /* sadness  */ {-0.80f, -0.05f, -0.10f, -0.10f, 1.00f, -0.35f, 0.00f},
    /* anger    */ {-0.50f, 0.05f, -0.10f, -0.80f, -1.00f, -0.40f, 0.15f},
    /* surprise */ {0.05f, 0.45f, -0.20f, 0.70f, 0.15f, 0.50f, 0.00f},
    /* fear     */ {-0.30f, 0.25f, 0.25f, 0.50f, 0.60f, 0.45f, 0.00f},
    /* disgust  */ {-0.60f, 0.00f, 0.00f, -0.45f, -0.50f, -0.45f, 0.90f},
};
enum { N_FACE_CUES = sizeof(SynthFaceCues) / sizeof(float) };

void synth_face_cues(const SynthCorpus *c, int u, SynthFaceCues *out)
{
    const SynthUtterance *ut = &c->utts[u];
    const float *n = (const float *)&FACE_PROFILE[SYNTH_NEUTRAL];
    const float *p = (const float *)&FACE_PROFILE[ut->emotion];
    const float *q = (const float *)&FACE_PROFILE[ut->blend_emotion];
    float *o = (float *)out;
    for (int i = 0; i < N_FACE_CUES; i++)
        o[i] = n[i] + ut->cue_face * ((1.0f - ut->blend) * (p[i] - n[i]) + ut->blend * (q[i] - n[i]));
}

/* ---- Clip state -------------------------------------------------------------- */

enum { MAX_BLINKS = 8, SPRITE = 4 /* floats per sprite cell, see "Layers" */ };

struct SynthFaceClip {
    int size, fps, n_frames;
    float fs;                   /* audio sample rate: frame time -> plan sample */
    const SynthSpeaker *sp;
    SynthFaceCues cue;
    SynthPlan plan;
    uint64_t seed, stream;
    uint8_t *background;        /* size^2 RGB, lit, static over the clip */
    float *work;                /* size^2 RGB, the frame being painted */
    float *sprite;              /* size^2 x (P, A): the static part of the portrait */
    /* camera and lighting */
    float cx, cy, unit;         /* head centre (pixels), pixels per face unit */
    float roll0, yaw0, pitch0;  /* base pose (roll in turns, yaw/pitch as offsets) */
    float cos_roll, sin_roll, base_shift_y;
    float sway_f[3], sway_p[3]; /* head-motion frequencies (Hz) and phases */
    float light[3], ambient, diffuse, exposure, cast[3], noise;
    float clothes[3];
    float wall[3], wall_top, wall_bottom;
    struct {                    /* colours times exposure and cast */
        float skin[3], hair[3], brow[3], lips[3], iris[3], sclera[3], clothes[3], occluder[3];
    } lit;
    uint32_t *noise_bits;       /* size^2 draws for the sensor noise */
    float gaze_x, gaze_y;
    /* occluder in pixels (x0 >= x1: none) */
    float occ_x0, occ_y0, occ_x1, occ_y1, occ_col[3];
    int n_blinks;
    float blink_t[MAX_BLINKS];
};

/* Per-frame geometry. */
typedef struct {
    int ox, oy;                 /* head sway in whole pixels */
    float cosr, sinr, shift_x, shift_y, yaw;
    float eye_h[2], eye_w[2], brow_in[2], brow_out[2];
    float mouth_w, mouth_y, open, smile, lip_raise;
} Pose;

static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }

static inline float coverage(float d, float pixel) { return clampf(0.5f - d / pixel, 0.0f, 1.0f); }

static inline float maxf(float a, float b) { return a > b ? a : b; }

/* Approximate signed distance to an ellipse centred at (cx, cy). */
static float ellipse_d(float x, float y, float cx, float cy, float a, float b)
{
    float dx = (x - cx) / a, dy = (y - cy) / b;
    return (sqrtf(dx * dx + dy * dy) - 1.0f) * (a < b ? a : b);
}

/* coverage(ellipse_d(...), pixel), but without the square root away from
 * the edge: with q = (x/a)^2 + (y/b)^2 and m = min(a, b), the coverage is 1
 * for sqrt q <= 1 - pixel / 2m and 0 for sqrt q >= 1 + pixel / 2m. Most
 * pixels are far from any edge. */
static inline float ellipse_cov(float x, float y, float cx, float cy, float a, float b, float pixel)
{
    float m = a < b ? a : b, h = 0.5f * pixel / m;
    float dx = (x - cx) / a, dy = (y - cy) / b;
    if (dx > 1.0f + h || dx < -1.0f - h || dy > 1.0f + h || dy < -1.0f - h) return 0.0f;
    float q = dx * dx + dy * dy;
    if (q >= (1.0f + h) * (1.0f + h)) return 0.0f;
    if (h < 1.0f && q <= (1.0f - h) * (1.0f - h)) return 1.0f;
    return clampf(0.5f - (sqrtf(q) - 1.0f) * m / pixel, 0.0f, 1.0f);
}

static inline void blend(float col[3], const float c[3], float k)
{
    for (int i = 0; i < 3; i++) col[i] += k * (c[i] - col[i]);
}

static void rgb_f(float out[3], const uint8_t in[3])
{
    for (int i = 0; i < 3; i++) out[i] = (float)in[i];
}

/* ---- Background ----------------------------------------------------------------- */

static void fill_rect(float *img, int s, float x0, float y0, float x1, float y1, const float c[3])
{
    int ix0 = (int)clampf(x0, 0, (float)s), ix1 = (int)clampf(x1, 0, (float)s);
    int iy0 = (int)clampf(y0, 0, (float)s), iy1 = (int)clampf(y1, 0, (float)s);
    for (int y = iy0; y < iy1; y++)
        for (int x = ix0; x < ix1; x++) memcpy(img + 3 * (y * s + x), c, 3 * sizeof(float));
}

static void fill_ellipse(float *img, int s, float cx, float cy, float a, float b, const float c[3])
{
    for (int y = (int)clampf(cy - b - 1, 0, (float)s); y < (int)clampf(cy + b + 2, 0, (float)s); y++)
        for (int x = (int)clampf(cx - a - 1, 0, (float)s); x < (int)clampf(cx + a + 2, 0, (float)s); x++) {
            float k = ellipse_cov((float)x + 0.5f, (float)y + 0.5f, cx, cy, a, b, 1.0f);
            if (k > 0.0f) blend(img + 3 * (y * s + x), c, k);
        }
}

static void random_colour(Rng *r, float c[3], float lo, float hi)
{
    float base = synth_uniform(r, lo, hi);
    for (int i = 0; i < 3; i++) c[i] = clampf(base * synth_uniform(r, 0.7f, 1.3f), 0, 255);
}

/* A featureless head in the background (another character, out of focus). */
static void background_head(Rng *r, float *img, int s)
{
    static const uint8_t SKINS[3][3] = {{225, 185, 160}, {170, 120, 90}, {110, 75, 55}};
    float skin[3], hair[3];
    rgb_f(skin, SKINS[rng_below(r, 3)]);
    random_colour(r, hair, 20, 120);
    float sz = (float)s * synth_uniform(r, 0.10f, 0.18f);
    float x = rng_uniform(r) < 0.5f ? synth_uniform(r, -0.05f, 0.12f) * (float)s
                                    : synth_uniform(r, 0.88f, 1.05f) * (float)s;
    float y = synth_uniform(r, 0.25f, 0.6f) * (float)s;
    float shirt[3];
    random_colour(r, shirt, 40, 200);
    fill_ellipse(img, s, x, y + 2.2f * sz, 1.6f * sz, 1.2f * sz, shirt);
    fill_ellipse(img, s, x, y, 0.85f * sz, 1.05f * sz, skin);
    fill_ellipse(img, s, x, y - 0.55f * sz, 0.9f * sz, 0.6f * sz, hair);
}

/* The scene's wall, then (from the shot) furniture, frames, windows, lamps,
 * maybe background people; then the scene's vertical light gradient,
 * exposure and colour cast. */
static int make_background(SynthFaceClip *fc, Rng *r)
{
    int s = fc->size;
    float *img = meld_malloc((size_t)s * (size_t)s * 3 * sizeof(float), "synth background");
    if (!img) return MELD_ERR;
    fill_rect(img, s, 0, 0, (float)s, (float)s, fc->wall);
    int n_shapes = 3 + (int)rng_below(r, 6);
    for (int i = 0; i < n_shapes; i++) {
        float c[3];
        float x = rng_uniform(r) * (float)s, y = rng_uniform(r) * (float)s;
        float w = synth_uniform(r, 0.08f, 0.5f) * (float)s, h = synth_uniform(r, 0.08f, 0.6f) * (float)s;
        switch (rng_below(r, 4)) {
        case 0: /* furniture / door */
            random_colour(r, c, 30, 200);
            fill_rect(img, s, x - w / 2, y - h / 2, x + w / 2, y + h / 2, c);
            break;
        case 1: { /* picture frame: border and picture */
            float in[3];
            random_colour(r, c, 20, 120);
            random_colour(r, in, 60, 240);
            fill_rect(img, s, x - w / 3, y - h / 3, x + w / 3, y + h / 3, c);
            fill_rect(img, s, x - w / 3 + 2, y - h / 3 + 2, x + w / 3 - 2, y + h / 3 - 2, in);
            break;
        }
        case 2: /* bright window */
            random_colour(r, c, 200, 255);
            fill_rect(img, s, x - w / 2, y - h / 2, x + w / 2, y + h / 2, c);
            break;
        default: /* lamp, plant, vase */
            random_colour(r, c, 30, 230);
            fill_ellipse(img, s, x, y, w / 3, h / 3, c);
            break;
        }
    }
    int heads = rng_uniform(r) < 0.35f ? 1 + (int)rng_below(r, 2) : 0;
    for (int i = 0; i < heads; i++) background_head(r, img, s);

    float top = fc->wall_top, bottom = fc->wall_bottom;
    fc->background = meld_malloc((size_t)s * (size_t)s * 3, "synth background");
    if (!fc->background) {
        free(img);
        return MELD_ERR;
    }
    for (int y = 0; y < s; y++) {
        float g = (top + (bottom - top) * (float)y / (float)(s - 1)) * fc->exposure;
        for (int x = 0; x < s; x++)
            for (int ch = 0; ch < 3; ch++) {
                float v = img[3 * (y * s + x) + ch] * g * fc->cast[ch];
                fc->background[3 * (y * s + x) + ch] = (uint8_t)(clampf(v, 0, 255) + 0.5f);
            }
    }
    free(img);
    return MELD_OK;
}

/* ---- Opening a clip --------------------------------------------------------------- */

/* Framing: the shot (this speaker's camera in this scene) plus a little
 * per-clip variation. */
static void draw_camera(SynthFaceClip *fc, Rng *shot, Rng *r)
{
    float s = (float)fc->size;
    /* Mostly a close-up (the face about 60-80 % of the frame's height);
     * one shot in twenty is from a distance. */
    float unit = rng_uniform(shot) < 0.05f ? synth_uniform(shot, 0.20f, 0.26f) : synth_uniform(shot, 0.30f, 0.40f);
    float cx = synth_uniform(shot, -0.08f, 0.08f), cy = synth_uniform(shot, -0.05f, 0.08f);
    float yaw = 0.15f * synth_normal(shot);
    fc->unit = s * unit * synth_uniform(r, 0.95f, 1.05f);
    fc->cx = s * (0.5f + cx + synth_uniform(r, -0.02f, 0.02f));
    fc->cy = s * (0.45f + cy + synth_uniform(r, -0.02f, 0.02f));
    fc->roll0 = 0.012f * synth_normal(r); /* turns: about 4.3 degrees */
    fc->yaw0 = yaw + 0.05f * synth_normal(r);
    fc->pitch0 = 0.06f * synth_normal(r);
    fc->cos_roll = synth_cos2pi(fc->roll0);
    fc->sin_roll = synth_sin2pi(fc->roll0);
    fc->base_shift_y = 0.3f * fc->pitch0;
    for (int i = 0; i < 3; i++) {
        fc->sway_f[i] = synth_uniform(r, 0.15f, 0.7f);
        fc->sway_p[i] = rng_uniform(r);
    }
    fc->gaze_x = 0.03f * synth_normal(r);
    fc->gaze_y = 0.015f * synth_normal(r);
}

/* Light, exposure, colour cast, sensor noise and the wall: one per scene. */
static void draw_lighting(SynthFaceClip *fc, Rng *r)
{
    float lx = synth_uniform(r, -0.8f, 0.8f), ly = synth_uniform(r, -0.8f, 0.3f), lz = 1.0f;
    float norm = sqrtf(lx * lx + ly * ly + lz * lz);
    fc->light[0] = lx / norm;
    fc->light[1] = ly / norm;
    fc->light[2] = lz / norm;
    fc->ambient = synth_uniform(r, 0.35f, 0.6f);
    fc->diffuse = synth_uniform(r, 0.4f, 0.7f);
    fc->exposure = synth_uniform(r, 0.7f, 1.15f);
    for (int i = 0; i < 3; i++) fc->cast[i] = synth_uniform(r, 0.92f, 1.08f);
    fc->noise = synth_uniform(r, 2.0f, 7.0f);
    random_colour(r, fc->wall, 60, 220);
    fc->wall_top = synth_uniform(r, 0.8f, 1.2f);
    fc->wall_bottom = synth_uniform(r, 0.7f, 1.1f);
}

static void draw_occluder(SynthFaceClip *fc, Rng *r)
{
    fc->occ_x0 = fc->occ_x1 = 0.0f;
    if (rng_uniform(r) >= 0.15f) return;
    /* A hand, a mug or someone's shoulder across part of the face. */
    float u = fc->unit, w = u * synth_uniform(r, 0.6f, 1.4f), h = u * synth_uniform(r, 0.5f, 1.2f);
    float x = fc->cx + u * synth_uniform(r, -1.0f, 1.0f), y = fc->cy + u * synth_uniform(r, -0.2f, 1.2f);
    fc->occ_x0 = x - w / 2;
    fc->occ_x1 = x + w / 2;
    fc->occ_y0 = y - h / 2;
    fc->occ_y1 = y + h / 2;
    random_colour(r, fc->occ_col, 40, 220);
}

static void draw_blinks(SynthFaceClip *fc, Rng *r)
{
    /* About one blink every 3 s, lasting 0.15 s. */
    float dur = (float)fc->plan.n_samples / fc->fs, t = synth_uniform(r, 0.0f, 3.0f);
    fc->n_blinks = 0;
    while (t < dur && fc->n_blinks < MAX_BLINKS) {
        fc->blink_t[fc->n_blinks++] = t;
        t += synth_uniform(r, 1.5f, 4.5f);
    }
}

static void lit_colour(const SynthFaceClip *fc, float out[3], const float c[3])
{
    for (int i = 0; i < 3; i++) out[i] = c[i] * fc->exposure * fc->cast[i];
}

static void light_colours(SynthFaceClip *fc)
{
    static const float SCLERA[3] = {232, 226, 220}, RED[3] = {165, 60, 70};
    const SynthSpeaker *sp = fc->sp;
    float skin[3], hair[3], brow[3], lips[3], iris[3];
    for (int i = 0; i < 3; i++) {
        skin[i] = (float)sp->skin[i];
        hair[i] = (float)sp->hair[i];
        brow[i] = 0.45f * (float)sp->hair[i];
        lips[i] = 0.7f * (float)sp->skin[i] + 0.3f * RED[i];
        iris[i] = (float)sp->iris[i];
    }
    lit_colour(fc, fc->lit.skin, skin);
    lit_colour(fc, fc->lit.hair, hair);
    lit_colour(fc, fc->lit.brow, brow);
    lit_colour(fc, fc->lit.lips, lips);
    lit_colour(fc, fc->lit.iris, iris);
    lit_colour(fc, fc->lit.sclera, SCLERA);
    lit_colour(fc, fc->lit.clothes, fc->clothes);
    for (int i = 0; i < 3; i++) fc->lit.occluder[i] = fc->occ_col[i] * fc->exposure;
}

static void paint_sprite(SynthFaceClip *fc, const Pose *p);

SynthFaceClip *synth_face_open(const SynthCorpus *c, int u)
{
    if (u < 0 || u >= c->n_utts) {
        meld_errorf("synth: no utterance %d", u);
        return NULL;
    }
    SynthFaceClip *fc = meld_calloc(1, sizeof *fc, "synth face clip");
    if (!fc) return NULL;
    const SynthUtterance *ut = &c->utts[u];
    fc->size = c->cfg.image_size;
    fc->fps = c->cfg.fps;
    fc->n_frames = synth_n_frames(c, u);
    fc->fs = (float)c->cfg.sample_rate;
    fc->sp = &c->speakers[ut->speaker];
    fc->seed = c->cfg.seed;
    fc->stream = ut->stream;
    synth_face_cues(c, u, &fc->cue);
    if (synth_plan(c, u, &fc->plan)) {
        free(fc);
        return NULL;
    }
    /* Three streams: the scene (dialogue), the shot (speaker in the scene)
     * and the clip, so a dialogue keeps its room and light and a speaker
     * their framing and clothes. */
    Rng scene, shot, r;
    rng_seed(&scene, c->cfg.seed ^ SCENE_SALT, ut->scene);
    rng_seed(&shot, c->cfg.seed ^ SHOT_SALT, ut->scene * 8 + (uint64_t)ut->shot);
    rng_seed(&r, c->cfg.seed ^ FACE_SALT, ut->stream);
    draw_lighting(fc, &scene);
    draw_camera(fc, &shot, &r);
    random_colour(&shot, fc->clothes, 30, 220);
    draw_occluder(fc, &r);
    draw_blinks(fc, &r);
    light_colours(fc);
    size_t n = (size_t)fc->size * (size_t)fc->size;
    fc->work = meld_malloc(n * 3 * sizeof(float), "synth frame");
    fc->noise_bits = meld_malloc(n * sizeof(uint32_t), "synth frame noise");
    fc->sprite = meld_calloc(n * SPRITE, sizeof(float), "synth sprite");
    if (!fc->work || !fc->noise_bits || !fc->sprite || make_background(fc, &shot)) {
        synth_face_close(fc);
        return NULL;
    }
    /* The base pose: no sway. */
    Pose p0;
    memset(&p0, 0, sizeof p0);
    p0.cosr = fc->cos_roll;
    p0.sinr = fc->sin_roll;
    p0.shift_x = 0.3f * fc->sp->head_w * fc->yaw0;
    p0.shift_y = fc->base_shift_y;
    paint_sprite(fc, &p0);
    return fc;
}

void synth_face_close(SynthFaceClip *fc)
{
    if (!fc) return;
    free(fc->background);
    free(fc->work);
    free(fc->noise_bits);
    free(fc->sprite);
    free(fc);
}

/* ---- One frame ------------------------------------------------------------------- */

static void frame_pose(const SynthFaceClip *fc, int k, Pose *p)
{
    const SynthSpeaker *sp = fc->sp;
    const SynthFaceCues *e = &fc->cue;
    float t = ((float)k + 0.5f) / (float)fc->fps;
    /* Head sway: the whole head drifts by whole pixels (ox, oy) while the
     * features slide a little with yaw and pitch; the roll stays put. */
    p->ox = (int)floorf(0.06f * fc->unit * synth_sin2pi(fc->sway_f[0] * t + fc->sway_p[0]) + 0.5f);
    p->oy = (int)floorf(0.04f * fc->unit * synth_sin2pi(fc->sway_f[2] * t + fc->sway_p[2]) + 0.5f);
    p->yaw = fc->yaw0 + 0.08f * synth_sin2pi(fc->sway_f[1] * t + fc->sway_p[1]);
    float pitch = fc->pitch0 + 0.03f * synth_sin2pi(fc->sway_f[2] * t + fc->sway_p[2] + 0.25f);
    p->cosr = fc->cos_roll;
    p->sinr = fc->sin_roll;
    p->shift_x = 0.3f * sp->head_w * p->yaw;
    p->shift_y = 0.3f * pitch;

    /* Eyes: opening from the cue, shut during a blink; the far eye narrows. */
    float blink = 1.0f;
    for (int i = 0; i < fc->n_blinks; i++)
        if (t >= fc->blink_t[i] && t < fc->blink_t[i] + 0.15f) blink = 0.08f;
    for (int side = 0; side < 2; side++) {
        float s = side ? 1.0f : -1.0f;
        p->eye_h[side] = 0.075f * sp->eye_size * clampf(1.0f + 1.5f * e->eye_open, 0.25f, 2.6f) * blink;
        p->eye_w[side] = 0.15f * sp->eye_size * clampf(1.0f - 0.6f * p->yaw * s, 0.35f, 1.3f);
        /* Brows: height of the inner and outer ends above the eye centre. */
        float base = 0.17f + 0.30f * e->brow_raise + 0.05f * sp->rest_brow + 0.3f * (p->eye_h[side] - 0.075f);
        p->brow_in[side] = base + 0.28f * e->brow_inner;
        p->brow_out[side] = base - 0.03f * e->brow_inner;
    }

    /* Mouth: speech opening from the plan at this frame's time, plus the cue. */
    size_t sample = (size_t)(t * fc->fs);
    float speech = sample < fc->plan.n_samples ? synth_plan_mouth(&fc->plan, sample) : 0.0f;
    p->open = clampf(0.012f + 0.13f * speech + 0.20f * e->mouth_open, 0.0f, 0.3f);
    p->mouth_w = sp->mouth_w * clampf(1.0f + 0.35f * e->mouth_width, 0.6f, 1.5f);
    p->smile = e->smile + sp->rest_smile;
    p->lip_raise = e->lip_raise;
    p->mouth_y = 0.55f;
}

/* Lambert shading of an ellipsoid part of half-axes (a, b) at (x, y). */
static inline float shade(const SynthFaceClip *fc, float x, float y, float a, float b)
{
    float nx = x / a, ny = y / b, r2 = nx * nx + ny * ny;
    float nz = r2 < 1.0f ? sqrtf(1.0f - r2) : 0.0f;
    float d = nx * fc->light[0] + ny * fc->light[1] + nz * fc->light[2];
    return fc->ambient + fc->diffuse * (d > 0.0f ? d : 0.0f);
}

/* Blends a colour lit by the clip's exposure and cast (lit[] =
 * colour * exposure * cast, precomputed) times a shading factor. */
static inline void paint_lit(float col[3], const float lit[3], float k, float light)
{
    for (int i = 0; i < 3; i++) col[i] += k * (lit[i] * light - col[i]);
}

static void paint_eye(const SynthFaceClip *fc, const Pose *p, float col[3], float x, float y, int side,
                      float px)
{
    float s = side ? 1.0f : -1.0f;
    float ex = s * fc->sp->eye_gap, ey = -0.12f;
    float w = p->eye_w[side], h = p->eye_h[side];
    if (x < ex - w - px || x > ex + w + px || y < ey - h - 0.05f || y > ey + h + px) return;
    float d = ellipse_d(x, y, ex, ey, w, h);
    float k = coverage(d, px);
    if (k > 0.0f) {
        blend(col, fc->lit.sclera, k);
        /* Iris and pupil, clipped to the opening. */
        float ix = ex + fc->gaze_x, iy = ey + fc->gaze_y;
        float ki = k * ellipse_cov(x, y, ix, iy, 0.075f, 0.075f, px);
        if (ki > 0.0f) blend(col, fc->lit.iris, ki);
        float kp = k * ellipse_cov(x, y, ix, iy, 0.035f, 0.035f, px);
        static const float PUPIL[3] = {15, 12, 12};
        if (kp > 0.0f) blend(col, PUPIL, kp);
    }
    /* Upper lid and lashes: a dark band along the top of the opening. */
    if (y < ey + 0.2f * h) {
        float kl = coverage(fabsf(d) - 0.018f, px);
        static const float LASH[3] = {35, 25, 25};
        if (kl > 0.0f) blend(col, LASH, kl);
    }
}

static void paint_brow(const SynthFaceClip *fc, const Pose *p, float col[3], float x, float y, int side,
                       float px)
{
    float s = side ? 1.0f : -1.0f;
    float ex = s * fc->sp->eye_gap, ey = -0.12f;
    /* Along the brow: t = 0 at the inner end (nearer the nose), 1 outside. */
    float t = (s * (x - ex) + 0.12f) / 0.34f;
    if (t < -0.1f || t > 1.1f) return;
    float tc = clampf(t, 0.0f, 1.0f);
    float height = p->brow_in[side] + (p->brow_out[side] - p->brow_in[side]) * tc + 0.12f * tc * (1.0f - tc);
    float centre = ey - height;
    float half = 0.5f * fc->sp->brow_thick * (1.0f - 0.4f * tc);
    float d = fabsf(y - centre) - half;
    if (t < 0.0f) d += -t * 0.34f;
    if (t > 1.0f) d += (t - 1.0f) * 0.34f;
    float k = coverage(d, px);
    if (k > 0.0f) blend(col, fc->lit.brow, k);
}

static void paint_mouth(const SynthFaceClip *fc, const Pose *p, float col[3], float x, float y, float px)
{
    float w = p->mouth_w, my = p->mouth_y;
    if (x < -w - 0.05f || x > w + 0.05f || y < my - 0.65f || y > my + 0.7f) return;
    float xn = x / w, edge = 1.0f - xn * xn; /* 1 at the centre, 0 at the corners */
    if (edge < -0.2f) return;
    float e = edge > 0.0f ? edge : 0.0f;
    /* Mid-line: corners lifted by the smile (y is down, so minus). */
    float mid = my - 0.55f * p->smile * xn * xn;
    float lift = 0.15f * p->lip_raise * (xn > 0.0f ? xn : 0.0f);
    float upper = mid - 0.4f * p->open * e - lift, lower = mid + 0.6f * p->open * e;
    float lip = 0.035f * sqrtf(e);
    const SynthSpeaker *sp = fc->sp;
    float lit = shade(fc, x, y, sp->head_w, sp->head_h);
    float side_d = (fabsf(xn) - 1.0f) * w; /* distance past the corners */
    /* Lips: bands above the upper and below the lower boundary. */
    float d_lips = maxf(maxf(upper - lip - y, y - lower - 1.3f * lip), side_d);
    float k = coverage(d_lips, px);
    if (k > 0.0f) paint_lit(col, fc->lit.lips, k, lit);
    /* Opening: dark inside, upper teeth when open enough. */
    float d_in = maxf(maxf(upper - y, y - lower), side_d);
    float ko = coverage(d_in, px) * clampf((p->open - 0.01f) * 60.0f, 0.0f, 1.0f);
    if (ko > 0.0f) {
        static const float INSIDE[3] = {70, 20, 25}, TEETH[3] = {225, 220, 205};
        blend(col, INSIDE, ko);
        float kt = ko * coverage(y - (upper + 0.35f * (lower - upper)), px) * clampf(p->open * 20.0f - 0.4f, 0, 1);
        if (kt > 0.0f) blend(col, TEETH, kt * fc->exposure);
    }
    /* Seam between closed lips. */
    float ks = coverage(fabsf(y - (upper + lower) * 0.5f) - 0.006f, px) * coverage(side_d, px) *
               clampf(1.0f - p->open * 40.0f, 0.0f, 1.0f);
    static const float SEAM[3] = {80, 35, 35};
    if (ks > 0.0f) blend(col, SEAM, ks * 0.8f);
}

/* Eyes, brows, nose and mouth, slid by yaw and pitch. */
static void paint_features(const SynthFaceClip *fc, const Pose *p, float col[3], float x, float y, float px)
{
    float fx = x - p->shift_x, fy = y - p->shift_y;
    for (int side = 0; side < 2; side++) {
        paint_eye(fc, p, col, fx, fy, side, px);
        paint_brow(fc, p, col, fx, fy, side, px);
    }
    /* Nose: a side shadow away from the light and two nostrils. */
    if (fabsf(fx) < 0.15f && fy > 0.05f && fy < 0.4f) {
        static const float DARK[3] = {60, 35, 30};
        float kn = ellipse_cov(fx, fy, -0.05f * (fc->light[0] > 0 ? 1.0f : -1.0f), 0.22f, 0.04f, 0.13f, px);
        blend(col, DARK, 0.25f * kn);
        for (int side = 0; side < 2; side++) {
            float kk = ellipse_cov(fx, fy, (side ? 0.06f : -0.06f), 0.33f, 0.025f, 0.015f, px);
            blend(col, DARK, 0.6f * kk);
        }
    }
    paint_mouth(fc, p, col, fx, fy, px);
}

/* ---- Layers ------------------------------------------------------------------
 * The portrait is painted back to front, one part at a time, each over the
 * pixels of its own bounding box only. What does not change during a clip
 * (hair, shoulders, neck, ears, the head's skin) is painted once, at
 * synth_face_open, into a transparent layer ("sprite") with premultiplied
 * colour P and coverage A: painting colour c with coverage k is
 *     P <- P + k (c - P),   A <- A + k (1 - A),
 * and a frame shows it shifted by the head's sway (ox, oy) over the
 * background b as  b (1 - A) + P. The features, which move, are then
 * painted on the frame itself. A painter blends its part into the cell at
 * face point (x, y); sprite cells are 4 floats (P, A), frame cells 3. */
typedef void (*Painter)(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px);

static inline void over(float cell[SPRITE], const float lit[3], float k, float light)
{
    for (int i = 0; i < 3; i++) cell[i] += k * (lit[i] * light - cell[i]);
    cell[3] += k * (1.0f - cell[3]);
}

static void paint_shoulders(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    (void)p;
    float k = ellipse_cov(x, y, 0.0f, fc->sp->head_h + 1.25f, 1.9f, 0.9f, px);
    if (k > 0.0f) over(cell, fc->lit.clothes, k, 1.0f);
}

static void paint_neck(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    (void)p;
    float k = coverage(maxf(fabsf(x) - 0.3f, maxf(y - fc->sp->head_h - 0.6f, 0.5f - y)), px);
    if (k > 0.0f) over(cell, fc->lit.skin, k, 0.75f * shade(fc, x, 0.0f, 0.4f, 1.0f));
}

static void paint_hair_back(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    (void)p;
    float a = fc->sp->head_w * 1.2f, b = fc->sp->head_h * 1.25f;
    float k = ellipse_cov(x, y, 0.0f, 0.2f, a, b, px);
    if (k > 0.0f) over(cell, fc->lit.hair, k, 0.8f * shade(fc, x, y - 0.2f, a, b));
}

static void paint_ear(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px, float side)
{
    float k = ellipse_cov(x, y, side * fc->sp->head_w - 0.5f * p->shift_x, 0.05f, 0.12f, 0.2f, px);
    if (k > 0.0f) over(cell, fc->lit.skin, k, 0.85f * fc->ambient + 0.3f);
}

static void paint_ear_left(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    paint_ear(fc, p, cell, x, y, px, -1.0f);
}

static void paint_ear_right(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    paint_ear(fc, p, cell, x, y, px, 1.0f);
}

/* Eye sockets: the skin darkens smoothly towards each eye,
 * by 1 - depth (1 - q) for q = (dx/a)^2 + (dy/b)^2 < 1. */
static float socket_shade(const SynthFaceClip *fc, const Pose *p, float x, float y)
{
    float dy = (y - p->shift_y + 0.13f) / 0.17f, s = 1.0f;
    if (dy <= -1.0f || dy >= 1.0f) return 1.0f;
    for (int side = 0; side < 2; side++) {
        float dx = (x - p->shift_x - (side ? 1.0f : -1.0f) * fc->sp->eye_gap) / 0.26f;
        float q = dx * dx + dy * dy;
        if (q < 1.0f) s -= 0.5f * (1.0f - q);
    }
    return s;
}

static void paint_skin(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    float hw = fc->sp->head_w, hh = fc->sp->head_h;
    float k = ellipse_cov(x, y, 0.0f, 0.0f, hw, hh, px);
    if (k > 0.0f) over(cell, fc->lit.skin, k, shade(fc, x, y, hw, hh) * socket_shade(fc, p, x, y));
}

/* Short and long styles: the part of a slightly larger ellipse above a
 * curved hairline (which follows the clip's base pitch). */
static float hair_top_cov(const SynthFaceClip *fc, float x, float y, float px)
{
    float hw = fc->sp->head_w, hh = fc->sp->head_h;
    float line = -0.42f * hh + 0.30f * (x / hw) * (x / hw) - 0.05f * fc->base_shift_y;
    if (y >= line + px) return 0.0f;
    return coverage(maxf(ellipse_d(x, y, 0.0f, -0.03f, hw * 1.07f, hh * 1.07f), y - line), px);
}

static void paint_hair_top(const SynthFaceClip *fc, const Pose *p, float *cell, float x, float y, float px)
{
    (void)p;
    float hw = fc->sp->head_w, hh = fc->sp->head_h;
    float k = hair_top_cov(fc, x, y, px);
    if (k > 0.0f) over(cell, fc->lit.hair, k, shade(fc, x, y, hw * 1.07f, hh * 1.07f));
}

/* Features on a frame cell, shown where the head's skin is and the hair is
 * not: they fade out at the head's edge (a turned head hides them) and
 * under the fringe. */
static void paint_face_cell(const SynthFaceClip *fc, const Pose *p, float *col, float x, float y, float px)
{
    float show = ellipse_cov(x, y, 0.0f, 0.0f, fc->sp->head_w, fc->sp->head_h, px);
    if (show <= 0.0f) return;
    if (fc->sp->hair_style != 2) show *= 1.0f - hair_top_cov(fc, x, y, px);
    float before[3] = {col[0], col[1], col[2]};
    paint_features(fc, p, col, x, y, px);
    if (show < 1.0f)
        for (int i = 0; i < 3; i++) col[i] = before[i] + show * (col[i] - before[i]);
}

/* Runs fn on the cells (stride floats each) of buf whose pixel centres may
 * fall in the face-unit box [x0, x1] x [y0, y1] (grown by two pixels), for
 * a head centred at pixel (cx, cy). Pixel <-> face units:
 *     (dx, dy) = unit R(roll) (u, v),   (u, v) = R(-roll) (dx, dy) / unit. */
static void paint_layer(const SynthFaceClip *fc, const Pose *p, float cx, float cy, float *buf, int stride,
                        float x0, float y0, float x1, float y1, Painter fn)
{
    int s = fc->size;
    float px = 1.0f / fc->unit, m = 2.0f * px;
    float bx[2] = {x0 - m, x1 + m}, by[2] = {y0 - m, y1 + m};
    float lo_x = 1e30f, hi_x = -1e30f, lo_y = 1e30f, hi_y = -1e30f;
    for (int i = 0; i < 4; i++) {
        float u = bx[i & 1], v = by[i >> 1];
        float X = cx + fc->unit * (p->cosr * u - p->sinr * v);
        float Y = cy + fc->unit * (p->sinr * u + p->cosr * v);
        lo_x = X < lo_x ? X : lo_x;
        hi_x = X > hi_x ? X : hi_x;
        lo_y = Y < lo_y ? Y : lo_y;
        hi_y = Y > hi_y ? Y : hi_y;
    }
    int ix0 = (int)clampf(floorf(lo_x), 0, (float)s), ix1 = (int)clampf(floorf(hi_x) + 1, 0, (float)s);
    int iy0 = (int)clampf(floorf(lo_y), 0, (float)s), iy1 = (int)clampf(floorf(hi_y) + 1, 0, (float)s);
    for (int y = iy0; y < iy1; y++) {
        float dy = (float)y + 0.5f - cy;
        for (int x = ix0; x < ix1; x++) {
            float dx = (float)x + 0.5f - cx;
            float u = (p->cosr * dx + p->sinr * dy) * px, v = (-p->sinr * dx + p->cosr * dy) * px;
            fn(fc, p, buf + (size_t)stride * (size_t)(y * s + x), u, v, px);
        }
    }
}

/* The static part of the portrait, at the clip's base pose. */
static void paint_sprite(SynthFaceClip *fc, const Pose *p)
{
    const SynthSpeaker *sp = fc->sp;
    float hw = sp->head_w, hh = sp->head_h, ear = hw + 0.12f + fabsf(p->shift_x);
    float *b = fc->sprite, cx = fc->cx, cy = fc->cy;
    if (sp->hair_style == 1)
        paint_layer(fc, p, cx, cy, b, SPRITE, -1.2f * hw, 0.2f - 1.25f * hh, 1.2f * hw, 0.2f + 1.25f * hh, paint_hair_back);
    paint_layer(fc, p, cx, cy, b, SPRITE, -1.9f, hh + 0.35f, 1.9f, hh + 2.15f, paint_shoulders);
    paint_layer(fc, p, cx, cy, b, SPRITE, -0.3f, 0.5f, 0.3f, hh + 0.6f, paint_neck);
    paint_layer(fc, p, cx, cy, b, SPRITE, -ear, -0.15f, -hw + 0.12f + fabsf(p->shift_x), 0.25f, paint_ear_left);
    paint_layer(fc, p, cx, cy, b, SPRITE, hw - 0.12f - fabsf(p->shift_x), -0.15f, ear, 0.25f, paint_ear_right);
    paint_layer(fc, p, cx, cy, b, SPRITE, -hw, -hh, hw, hh, paint_skin);
    if (sp->hair_style != 2)
        paint_layer(fc, p, cx, cy, b, SPRITE, -1.07f * hw, -0.03f - 1.07f * hh, 1.07f * hw,
                    -0.42f * hh + 0.35f + fabsf(fc->base_shift_y), paint_hair_top);
}

/* The features of frame pose p, in one box from the raised brows to the
 * lowest mouth (one box, so no pixel is painted twice). */
static void paint_face_frame(SynthFaceClip *fc, const Pose *p)
{
    const SynthSpeaker *sp = fc->sp;
    float cx = fc->cx + (float)p->ox, cy = fc->cy + (float)p->oy;
    float half = maxf(sp->eye_gap + 0.3f, 1.5f * p->mouth_w + 0.05f);
    paint_layer(fc, p, cx, cy, fc->work, 3, p->shift_x - half, p->shift_y - 0.62f, p->shift_x + half, p->shift_y + 1.25f,
                paint_face_cell);
}

/* Background, then the sprite shifted by (ox, oy): b (1 - A) + P. Per row,
 * the columns whose sprite cell x - ox lies inside the sprite are blended,
 * the others copied. */
static void compose(SynthFaceClip *fc, int ox, int oy)
{
    int s = fc->size;
    int x0 = ox > 0 ? ox : 0, x1 = ox < 0 ? s + ox : s;
    for (int y = 0; y < s; y++) {
        const uint8_t *bg = fc->background + (size_t)3 * y * s;
        float *out = fc->work + (size_t)3 * y * s;
        int sy = y - oy;
        if (sy < 0 || sy >= s || x0 >= x1) {
            for (int i = 0; i < 3 * s; i++) out[i] = (float)bg[i];
            continue;
        }
        for (int i = 0; i < 3 * x0; i++) out[i] = (float)bg[i];
        const float *c = fc->sprite + (size_t)SPRITE * ((size_t)sy * s + (x0 - ox));
        for (int x = x0; x < x1; x++, c += SPRITE)
            for (int i = 0; i < 3; i++) out[3 * x + i] = (float)bg[3 * x + i] * (1.0f - c[3]) + c[i];
        for (int i = 3 * x1; i < 3 * s; i++) out[i] = (float)bg[i];
    }
}

/* Paints the occluder (a rectangle in pixels) over the frame. */
static void paint_occluder(SynthFaceClip *fc)
{
    int s = fc->size;
    int x0 = (int)clampf(ceilf(fc->occ_x0 - 0.5f), 0, (float)s), x1 = (int)clampf(ceilf(fc->occ_x1 - 0.5f), 0, (float)s);
    int y0 = (int)clampf(ceilf(fc->occ_y0 - 0.5f), 0, (float)s), y1 = (int)clampf(ceilf(fc->occ_y1 - 0.5f), 0, (float)s);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) memcpy(fc->work + 3 * (y * s + x), fc->lit.occluder, sizeof fc->lit.occluder);
}

int synth_face_frame(SynthFaceClip *fc, int k, uint8_t *rgb)
{
    if (k < 0 || k >= fc->n_frames) return meld_errorf("synth: frame %d outside [0, %d)", k, fc->n_frames);
    Pose p;
    frame_pose(fc, k, &p);
    int n = fc->size * fc->size;
    compose(fc, p.ox, p.oy);
    paint_face_frame(fc, &p);
    paint_occluder(fc);

    /* Sensor noise: one draw per pixel gives a luma and two chroma offsets
     * (10 bits each, uniform, scaled to the clip's noise level). The draws
     * come first so that the arithmetic loop below has no dependency chain. */
    Rng noise;
    rng_seed(&noise, (fc->seed ^ NOISE_SALT) + (uint64_t)k, fc->stream);
    for (int i = 0; i < n; i++) fc->noise_bits[i] = rng_u32(&noise);
    const float luma = 1.7f * fc->noise / 1023.0f, chroma = 0.6f * fc->noise / 1023.0f;
    for (int i = 0; i < n; i++) {
        uint32_t bits = fc->noise_bits[i];
        const float *col = fc->work + 3 * i;
        float nl = ((float)(int)(bits & 1023) - 511.5f) * luma;
        float n1 = ((float)(int)((bits >> 10) & 1023) - 511.5f) * chroma;
        float n2 = ((float)(int)((bits >> 20) & 1023) - 511.5f) * chroma;
        rgb[3 * i + 0] = (uint8_t)(int)(clampf(col[0] + nl + n1, 0, 255) + 0.5f);
        rgb[3 * i + 1] = (uint8_t)(int)(clampf(col[1] + nl, 0, 255) + 0.5f);
        rgb[3 * i + 2] = (uint8_t)(int)(clampf(col[2] + nl + n2, 0, 255) + 0.5f);
    }
    return MELD_OK;
}
