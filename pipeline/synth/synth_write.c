/* Writing the synthetic corpus to disk in MELD.Raw's layout:
 *
 *   DIR/train_sent_emo.csv   DIR/train_splits/dia0_utt0.wav  dia0_utt0.y4m ...
 *   DIR/dev_sent_emo.csv     DIR/dev_splits_complete/...
 *   DIR/test_sent_emo.csv    DIR/output_repeated_splits_test/...
 *
 *   DIR/synthetic-corpus.txt (SYNTH_INFO_FILE: seed and settings)
 *
 * Every file is written atomically (temporary file + rename): clips first,
 * then the description, the CSVs last, so an interrupted run never leaves a
 * corpus whose CSVs promise clips that are not there, nor one without its
 * description.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio/wav.h"
#include "pipeline/synth/synth.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "video/image.h"
#include "video/y4m.h"

enum { PATH_CAP = 1024 };

static int make_dir(const char *path)
{
    struct stat st;
    if (mkdir(path, 0777) == 0) return MELD_OK;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return MELD_OK;
    return meld_errorf("%s: cannot create folder: %s", path, errno == EEXIST ? "a file has that name" : strerror(errno));
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[PATH_CAP];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return meld_errorf("%s: path too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = make_dir(buf);
        *p = '/';
        if (rc) return MELD_ERR;
    }
    return make_dir(buf);
}

static int join(char *out, const char *dir, const char *name)
{
    if (snprintf(out, PATH_CAP, "%s/%s", dir, name) >= PATH_CAP) return meld_errorf("%s/%s: path too long", dir, name);
    return MELD_OK;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static int write_audio(const SynthCorpus *c, int u, const char *path, float *buf)
{
    size_t n = synth_n_samples(c, u);
    if (synth_voice_render(c, u, buf, n)) return MELD_ERR;
    return wav_write_pcm16(path, buf, n, c->cfg.sample_rate);
}

static int write_video(const SynthCorpus *c, int u, const char *path, Image *frame)
{
    SynthFaceClip *fc = synth_face_open(c, u);
    if (!fc) return MELD_ERR;
    Y4mWriter w;
    if (y4m_writer_open(&w, path, c->cfg.image_size, c->cfg.image_size, c->cfg.fps, 1)) {
        synth_face_close(fc);
        return MELD_ERR;
    }
    int n = synth_n_frames(c, u);
    for (int k = 0; k < n; k++) {
        if (synth_face_frame(fc, k, frame->pixels)) {
            y4m_writer_abort(&w);
            synth_face_close(fc);
            return MELD_ERR;
        }
        if (y4m_writer_write_rgb(&w, frame)) { /* the writer aborted itself */
            synth_face_close(fc);
            return MELD_ERR;
        }
    }
    synth_face_close(fc);
    return y4m_writer_close(&w);
}

static int write_csv(const SynthCorpus *c, int split, const char *path)
{
    size_t len;
    char *text = synth_csv_text(c, split, &len);
    if (!text) return MELD_ERR;
    AtomicFile f;
    int rc = atomic_file_open(&f, path);
    if (!rc) {
        rc = atomic_file_write(&f, text, len);
        if (rc) atomic_file_abort(&f);
        else rc = atomic_file_commit(&f);
    }
    free(text);
    return rc;
}

static int write_clips(const SynthCorpus *c, const char *dir, SynthProgressFn progress, void *user,
                       SynthStats *st)
{
    char folder[SYNTH_N_SPLITS][PATH_CAP], path[PATH_CAP], name[64];
    for (int s = 0; s < SYNTH_N_SPLITS; s++) {
        if (join(folder[s], dir, synth_split_folder(s)) || make_dir(folder[s])) return MELD_ERR;
        atomic_file_sweep_folder(folder[s]);
    }
    float *audio = meld_malloc((size_t)8 * (size_t)c->cfg.sample_rate * sizeof(float) + 64, "synth audio");
    Image frame = {0};
    if (!audio || image_alloc(&frame, c->cfg.image_size, c->cfg.image_size, 3)) {
        free(audio);
        return MELD_ERR;
    }
    int rc = MELD_OK;
    for (int u = 0; u < c->n_utts && !rc; u++) {
        const SynthUtterance *ut = &c->utts[u];
        snprintf(name, sizeof name, "dia%d_utt%d.wav", ut->dialogue_id, ut->utterance_id);
        rc = join(path, folder[ut->split], name) || write_audio(c, u, path, audio);
        st->bytes += file_size(path);
        snprintf(name, sizeof name, "dia%d_utt%d.y4m", ut->dialogue_id, ut->utterance_id);
        if (!rc) rc = join(path, folder[ut->split], name) || write_video(c, u, path, &frame);
        st->bytes += file_size(path);
        st->audio_seconds += (double)synth_n_samples(c, u) / (double)c->cfg.sample_rate;
        st->n_frames += synth_n_frames(c, u);
        if (!rc && progress) progress(user, u + 1, c->n_utts);
    }
    free(audio);
    image_free(&frame);
    return rc ? MELD_ERR : MELD_OK;
}

/* DIR/SYNTH_INFO_FILE: what generated the corpus, so that everything
 * trained on it can say so (train.h's provenance). */
static int write_info(const SynthConfig *cfg, const char *path)
{
    char text[512];
    int len = snprintf(text, sizeof text,
                       "meld-c synthetic corpus, written by meld synth: generated from a seed, not MELD\n"
                       "seed %llu\ndialogues %d\nsample_rate %d\nimage_size %d\nfps %d\n",
                       (unsigned long long)cfg->seed, cfg->n_dialogues, cfg->sample_rate, cfg->image_size, cfg->fps);
    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    if (atomic_file_write(&f, text, (size_t)len)) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}

int synth_info_read(const char *dir, SynthConfig *cfg)
{
    char path[PATH_CAP], line[256];
    if (join(path, dir, SYNTH_INFO_FILE)) return MELD_ERR;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    synth_config_default(cfg);
    int got = 0;
    unsigned long long seed;
    bool first = true, ours = false;
    while (fgets(line, sizeof line, f)) {
        if (first) ours = !strncmp(line, "meld-c synthetic corpus", 23);
        first = false;
        if (sscanf(line, "seed %llu", &seed) == 1) cfg->seed = seed, got |= 1;
        else if (sscanf(line, "dialogues %d", &cfg->n_dialogues) == 1) got |= 2;
        else if (sscanf(line, "sample_rate %d", &cfg->sample_rate) == 1) got |= 4;
        else if (sscanf(line, "image_size %d", &cfg->image_size) == 1) got |= 8;
        else if (sscanf(line, "fps %d", &cfg->fps) == 1) got |= 16;
    }
    fclose(f);
    if (!ours || got != 31) return meld_errorf("%s: not a meld synth description (seed, dialogues, sample_rate, image_size, fps)", path);
    return 1;
}

int synth_write(const SynthConfig *cfg, const char *dir, SynthProgressFn progress, void *user, SynthStats *stats)
{
    SynthStats st;
    memset(&st, 0, sizeof st);
    if (stats) *stats = st;
    SynthCorpus c;
    if (synth_corpus_make(&c, cfg)) return MELD_ERR;
    int rc = make_dirs(dir);
    if (!rc) atomic_file_sweep_folder(dir);
    if (!rc) rc = write_clips(&c, dir, progress, user, &st);
    if (!rc) {
        char path[PATH_CAP];
        rc = join(path, dir, SYNTH_INFO_FILE) || write_info(cfg, path);
    }
    for (int s = 0; s < SYNTH_N_SPLITS && !rc; s++) {
        char path[PATH_CAP];
        rc = join(path, dir, synth_split_csv(s)) || write_csv(&c, s, path);
        st.bytes += file_size(path);
        st.n_utts[s] = c.split_end[s] - c.split_begin[s];
        st.n_dialogues[s] = c.split_dialogues[s];
    }
    synth_corpus_free(&c);
    if (stats) *stats = st;
    return rc ? MELD_ERR : MELD_OK;
}
