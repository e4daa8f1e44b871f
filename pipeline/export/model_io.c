/* The exported models' inputs and outputs, and inputs files (model_io.h). */
#include "pipeline/export/model_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/data/dataset.h"
#include "pipeline/train/train.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

#define INPUTS_FORMAT "meld-c model inputs 1"

/* The leading dims every per-utterance input starts with. */
static int leading(const MeldModel *m, ModelIo *io)
{
    bool dia = meld_model_batch_spec(m, false).dialogue_level;
    io->dims[0] = -1;
    io->dim_names[0] = dia ? "dialogues" : "utterances";
    if (dia) {
        io->dims[1] = -1;
        io->dim_names[1] = "utterances";
    }
    return dia ? 2 : 1;
}

static void add_dims(ModelIo *io, int n, const int64_t *dims, const char *const *names)
{
    for (int i = 0; i < n; i++) {
        io->dims[io->ndim + i] = dims[i];
        io->dim_names[io->ndim + i] = names ? names[i] : NULL;
    }
    io->ndim += n;
}

static ModelIo utterance_input(const MeldModel *m, ModelInputKind kind, const char *name, ModelIoType type,
                               const char *doc)
{
    ModelIo io = {.kind = kind, .name = name, .type = type, .doc = doc};
    io.ndim = leading(m, &io);
    return io;
}

int model_inputs(const MeldModel *m, ModelIo out[MODEL_IO_MAX_INPUTS])
{
    BatchSpec spec = meld_model_batch_spec(m, false);
    const MeldModelConfig *c = &m->cfg;
    int n = 0;
    if (spec.needs & NEED_FUNC) {
        out[n] = utterance_input(m, IN_FUNCTIONALS, "functionals", IO_FLOAT32,
                                 "functional vector of each utterance (meld features --kind functionals), not normalised");
        add_dims(&out[n++], 1, (int64_t[]){c->func_dim}, NULL);
    }
    if (spec.needs & NEED_MEL) {
        out[n] = utterance_input(m, IN_LOG_MEL, "log_mel", IO_FLOAT32,
                                 "log-Mel frames of each utterance (meld features --kind logmel), right-padded, not normalised");
        add_dims(&out[n++], 2, (int64_t[]){-1, c->n_mels}, (const char *[]){"mel_frames", NULL});
        out[n++] = utterance_input(m, IN_LOG_MEL_LENGTHS, "log_mel_lengths", IO_INT64,
                                   "real frames in each log_mel row (padding utterances: 0)");
    }
    if (spec.needs & NEED_FRAMES) {
        out[n] = utterance_input(m, IN_FACE_FRAMES, "face_frames", IO_UINT8,
                                 "face crops of each utterance, RGB bytes, each frame rows x columns x channels");
        add_dims(&out[n++], 4, (int64_t[]){c->frames_used, c->frame_size, c->frame_size, c->frame_channels}, NULL);
    }
    if (spec.dialogue_level) {
        out[n] = (ModelIo){.kind = IN_DIALOGUE_LENGTHS, .name = "dialogue_lengths", .type = IO_INT64, .ndim = 1,
                           .doc = "real utterances in each dialogue (the rest of its rows are padding)"};
        out[n].dims[0] = -1;
        out[n++].dim_names[0] = "dialogues";
    }
    return n;
}

void model_outputs(const MeldModel *m, ModelIo out[2])
{
    out[0] = utterance_input(m, 0, "emotion_probs", IO_FLOAT32,
                             "probabilities of neutral, joy, sadness, anger, surprise, fear, disgust");
    add_dims(&out[0], 1, (int64_t[]){N_EMOTIONS}, NULL);
    out[1] = utterance_input(m, 0, "sentiment_probs", IO_FLOAT32, "probabilities of neutral, positive, negative");
    add_dims(&out[1], 1, (int64_t[]){N_SENTIMENTS}, NULL);
}

const char *model_io_shape(const ModelIo *io, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < io->ndim && n < cap; d++) {
        if (io->dims[d] >= 0) n += (size_t)snprintf(buf + n, cap - n, "%s%lld", d ? ", " : "", (long long)io->dims[d]);
        else n += (size_t)snprintf(buf + n, cap - n, "%s%s", d ? ", " : "", io->dim_names[d]);
    }
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

/* ---- writing an inputs file ----------------------------------------------- */

/* Where utterance e of the cache goes: row (d, t), or (e) at utterance level. */
typedef struct {
    bool dialogue_level;
    int B, T, N;            /* dialogues and their padded length, or N utterances */
    int *row;               /* [cache.n] flat row of each cache entry */
    int Tm;                 /* longest log-Mel sequence */
} Layout;

static int layout_of(const MeldModel *m, const SplitData *s, Layout *l)
{
    memset(l, 0, sizeof *l);
    l->dialogue_level = meld_model_batch_spec(m, false).dialogue_level;
    l->row = meld_malloc(sizeof(int) * (size_t)(s->cache.n ? s->cache.n : 1), "inputs layout");
    if (!l->row) return MELD_ERR;
    l->B = s->n_dialogues;
    for (int d = 0; d < s->n_dialogues; d++) l->T = s->dia_len[d] > l->T ? s->dia_len[d] : l->T;
    for (int d = 0; d < s->n_dialogues; d++)
        for (int t = 0; t < s->dia_len[d]; t++) {
            int e = s->dia_first[d] + t;
            l->row[e] = l->dialogue_level ? d * l->T + t : e;
        }
    l->N = l->dialogue_level ? l->B * l->T : s->cache.n;
    for (int e = 0; e < s->cache.n; e++)
        l->Tm = s->cache.entries[e].n_mel_frames > l->Tm ? s->cache.entries[e].n_mel_frames : l->Tm;
    return MELD_OK;
}

/* Dims before an utterance's own: [B] for the dialogue lengths, else [B, T] or [N]. */
static int leading_dims(const ModelIo *io, const Layout *l)
{
    return io->kind == IN_DIALOGUE_LENGTHS ? 1 : l->dialogue_level ? 2 : 1;
}

/* Shape of input io for this layout (its symbolic sizes filled in). */
static int concrete_shape(const ModelIo *io, const Layout *l, int64_t *shape)
{
    for (int d = 0; d < io->ndim; d++) shape[d] = io->dims[d];
    if (io->kind == IN_DIALOGUE_LENGTHS) shape[0] = l->B;
    else if (l->dialogue_level) shape[0] = l->B, shape[1] = l->T;
    else shape[0] = l->N;
    if (io->kind == IN_LOG_MEL) shape[leading_dims(io, l)] = l->Tm;
    return io->ndim;
}

static void fill_input(const ModelIo *io, const SplitData *s, const Layout *l, int64_t row_size, float *dst)
{
    const Cache *c = &s->cache;
    if (io->kind == IN_DIALOGUE_LENGTHS) {
        for (int d = 0; d < l->B; d++) dst[d] = (float)s->dia_len[d];
        return;
    }
    for (int e = 0; e < c->n; e++) {
        float *y = dst + (size_t)l->row[e] * (size_t)row_size;
        const CacheEntry *ce = &c->entries[e];
        if (io->kind == IN_FUNCTIONALS) memcpy(y, cache_functional(c, e), sizeof(float) * (size_t)row_size);
        else if (io->kind == IN_LOG_MEL)
            memcpy(y, cache_mel(c, e), sizeof(float) * (size_t)ce->n_mel_frames * (size_t)c->cfg.n_mels);
        else if (io->kind == IN_LOG_MEL_LENGTHS) y[0] = (float)ce->n_mel_frames;
        else
            for (int64_t k = 0; k < row_size; k++) y[k] = cache_frames(c, e)[k];
    }
}

int model_inputs_save(const char *path, const MeldModel *m, const SplitData *s)
{
    ModelIo in[MODEL_IO_MAX_INPUTS];
    int n_in = model_inputs(m, in);
    if ((meld_model_batch_spec(m, false).needs & NEED_FRAMES) && s->cache.cfg.n_frames != m->cfg.frames_used)
        return meld_errorf("%s: the model takes %d face frames per utterance, the features have %d", path,
                           m->cfg.frames_used, s->cache.cfg.n_frames);
    Layout l;
    if (layout_of(m, s, &l)) return MELD_ERR;
    SafeTensors st;
    st_init(&st);
    int rc = st_set_meta(&st, "format", INPUTS_FORMAT) || st_set_meta(&st, "model", m->kind->name);
    for (int i = 0; rc == MELD_OK && i < n_in; i++) {
        int64_t shape[MODEL_IO_MAX_DIMS];
        int ndim = concrete_shape(&in[i], &l, shape), lead = leading_dims(&in[i], &l);
        size_t total = 1, row = 1;
        for (int d = 0; d < ndim; d++) total *= (size_t)shape[d];
        for (int d = lead; d < ndim; d++) row *= (size_t)shape[d];
        float *data = meld_calloc(total ? total : 1, sizeof(float), "model inputs");
        if (!data) rc = MELD_ERR;
        else fill_input(&in[i], s, &l, (int64_t)row, data);
        if (rc == MELD_OK) rc = st_add(&st, in[i].name, ndim, shape, data);
        free(data);
    }
    if (rc == MELD_OK) rc = st_save(&st, path);
    st_free(&st);
    free(l.row);
    return rc ? MELD_ERR : MELD_OK;
}

/* ---- reading one back --------------------------------------------------- */

/* Checks the file's tensor against io: rank, fixed sizes, and the symbolic
 * ones agreeing with what earlier inputs set (sizes[name index]). */
typedef struct {
    const char *name;
    int64_t value;           /* -1: not seen yet */
} SymbolicSize;

static const StTensor *find_input(const SafeTensors *st, const ModelIo *io, SymbolicSize *sizes, int *n_sizes)
{
    const StTensor *t = st_find(st, io->name);
    char want[160], got[160];
    if (!t) {
        meld_errorf("%s: no input '%s' (the model needs %s %s)", st->source, io->name, io->name,
                    model_io_shape(io, want, sizeof want));
        return NULL;
    }
    bool ok = t->ndim == io->ndim;
    for (int d = 0; ok && d < io->ndim; d++) {
        if (io->dims[d] >= 0) {
            ok = t->shape[d] == io->dims[d];
            continue;
        }
        int k = 0;
        while (k < *n_sizes && strcmp(sizes[k].name, io->dim_names[d])) k++;
        if (k == *n_sizes) sizes[(*n_sizes)++] = (SymbolicSize){io->dim_names[d], t->shape[d]};
        ok = sizes[k].value == t->shape[d];
    }
    if (!ok) {
        meld_errorf("%s: input '%s' has shape %s, the model needs %s (sizes shared with the other inputs)", st->source,
                    io->name, st_shape_str(t->ndim, t->shape, got, sizeof got), model_io_shape(io, want, sizeof want));
        return NULL;
    }
    return t;
}

/* An integer-valued input: every value an integer in [lo, hi]. */
static int check_integers(const SafeTensors *st, const StTensor *t, double lo, double hi)
{
    for (size_t i = 0; i < t->numel; i++) {
        double v = t->data[i];
        if (!(v >= lo && v <= hi) || v != floor(v))
            return meld_errorf("%s: input '%s' holds %g at position %zu, expected an integer in [%g, %g]", st->source,
                               t->name, v, i, lo, hi);
    }
    return MELD_OK;
}

typedef struct {
    const StTensor *t[MODEL_IO_MAX_INPUTS + 1];   /* by ModelInputKind */
    int B, T, N;
} FoundInputs;

static int find_all(const SafeTensors *st, const MeldModel *m, FoundInputs *f)
{
    ModelIo in[MODEL_IO_MAX_INPUTS];
    int n_in = model_inputs(m, in), n_sizes = 0;
    SymbolicSize sizes[8];
    memset(f, 0, sizeof *f);
    for (int i = 0; i < n_in; i++)
        if (!(f->t[in[i].kind] = find_input(st, &in[i], sizes, &n_sizes))) return MELD_ERR;
    const StTensor *lead = f->t[IN_FUNCTIONALS] ? f->t[IN_FUNCTIONALS] : f->t[IN_LOG_MEL] ? f->t[IN_LOG_MEL] : f->t[IN_FACE_FRAMES];
    bool dia = f->t[IN_DIALOGUE_LENGTHS] != NULL;
    f->B = dia ? (int)lead->shape[0] : 1;
    f->T = dia ? (int)lead->shape[1] : (int)lead->shape[0];
    f->N = f->B * f->T;
    if (dia && check_integers(st, f->t[IN_DIALOGUE_LENGTHS], 1, f->T)) return MELD_ERR;
    if (f->t[IN_LOG_MEL_LENGTHS] && check_integers(st, f->t[IN_LOG_MEL_LENGTHS], 0, (double)f->t[IN_LOG_MEL]->shape[dia ? 2 : 1]))
        return MELD_ERR;
    if (f->t[IN_FACE_FRAMES] && check_integers(st, f->t[IN_FACE_FRAMES], 0, 255)) return MELD_ERR;
    return MELD_OK;
}

/* Utterance row r (of the N padded rows) as a cache item. */
static int add_item(ModelInputItems *in, const FoundInputs *f, int r, int dialogue, int utterance, size_t frame_bytes)
{
    CacheItem *it = &in->items[in->n++];
    memset(it, 0, sizeof *it);
    it->dialogue_id = dialogue;
    it->utterance_id = utterance;
    if (f->t[IN_FUNCTIONALS]) it->functional = f->t[IN_FUNCTIONALS]->data + (size_t)r * (size_t)in->cfg.functional_dim;
    if (f->t[IN_LOG_MEL]) {
        const StTensor *mel = f->t[IN_LOG_MEL];
        int64_t Tm = mel->shape[mel->ndim - 2];
        it->n_mel_frames = (int)f->t[IN_LOG_MEL_LENGTHS]->data[r];
        if (it->n_mel_frames < 1)
            return meld_errorf("%s: utterance %d has no log-Mel frames (log_mel_lengths is 0)", in->st.source, in->n - 1);
        it->mel = mel->data + (size_t)r * (size_t)Tm * (size_t)in->cfg.n_mels;
    }
    if (f->t[IN_FACE_FRAMES]) it->frames = in->frames + (size_t)r * frame_bytes;
    return MELD_OK;
}

static int build_items(ModelInputItems *in, const MeldModel *m, const FoundInputs *f)
{
    CacheConfig *c = &in->cfg;
    memset(c, 0, sizeof *c);
    c->n_mels = m->cfg.n_mels;
    c->functional_dim = f->t[IN_FUNCTIONALS] ? m->cfg.func_dim : 0;
    c->n_frames = f->t[IN_FACE_FRAMES] ? m->cfg.frames_used : 0;
    c->frame_size = m->cfg.frame_size;
    c->frame_channels = m->cfg.frame_channels;
    snprintf(c->config, sizeof c->config, "%s", INPUTS_FORMAT);
    size_t frame_bytes = (size_t)c->n_frames * (size_t)c->frame_size * (size_t)c->frame_size * (size_t)c->frame_channels;
    in->items = meld_calloc((size_t)(f->N ? f->N : 1), sizeof *in->items, "model inputs");
    if (!in->items) return MELD_ERR;
    if (f->t[IN_FACE_FRAMES]) {
        const StTensor *fr = f->t[IN_FACE_FRAMES];
        if (!(in->frames = meld_malloc(fr->numel ? fr->numel : 1, "face frames"))) return MELD_ERR;
        for (size_t i = 0; i < fr->numel; i++) in->frames[i] = (uint8_t)fr->data[i];
    }
    for (int b = 0; b < f->B; b++) {
        int len = f->t[IN_DIALOGUE_LENGTHS] ? (int)f->t[IN_DIALOGUE_LENGTHS]->data[b] : f->T;
        for (int t = 0; t < len; t++)
            if (add_item(in, f, b * f->T + t, f->t[IN_DIALOGUE_LENGTHS] ? b : 0, t, frame_bytes)) return MELD_ERR;
    }
    return MELD_OK;
}

int model_inputs_load(const char *path, const MeldModel *m, ModelInputItems *out)
{
    memset(out, 0, sizeof *out);
    if (st_load(&out->st, path)) return MELD_ERR;
    const char *format = st_get_meta(&out->st, "format");
    FoundInputs f;
    int rc = format && !strcmp(format, INPUTS_FORMAT)
                 ? MELD_OK
                 : meld_errorf("%s: not a meld-c inputs file (metadata 'format' is %s)", path, format ? format : "missing");
    if (rc == MELD_OK) rc = find_all(&out->st, m, &f);
    if (rc == MELD_OK && f.N == 0) rc = meld_errorf("%s: no utterances", path);
    if (rc == MELD_OK) rc = build_items(out, m, &f);
    if (rc != MELD_OK) model_input_items_free(out);
    return rc;
}

void model_input_items_free(ModelInputItems *in)
{
    free(in->items);
    free(in->frames);
    st_free(&in->st);
    memset(in, 0, sizeof *in);
}

/* Orders source rows by (dialogue, utterance), as the cache's table is. */
static int cmp_source(const void *a, const void *b)
{
    const CacheSource *x = a, *y = b;
    if (x->dialogue_id != y->dialogue_id) return x->dialogue_id < y->dialogue_id ? -1 : 1;
    return (x->utterance_id > y->utterance_id) - (x->utterance_id < y->utterance_id);
}

int model_io_predict(MeldModel *m, const Normaliser *norm, const CacheConfig *cfg, const CacheItem *items, int n,
                     float *prob_emotion, float *prob_sentiment, const char *save_inputs)
{
    const char *tmp = getenv("TMPDIR");
    char dir[1024], path[1100];
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/meld-predict-XXXXXX", tmp);
    if (!mkdtemp(dir)) return meld_errorf("cannot create a temporary folder in %s: %s", tmp, strerror(errno));
    snprintf(path, sizeof path, "%s/utterances.meldcache", dir);
    SplitData s;
    EvalResult r;
    /* The cache's source table: one row per utterance, from no CSV. */
    CacheSource *rows = meld_calloc((size_t)(n ? n : 1), sizeof *rows, "source table");
    for (int i = 0; rows && i < n; i++)
        rows[i] = (CacheSource){.dialogue_id = items[i].dialogue_id, .utterance_id = items[i].utterance_id,
                                .clip_name = "", .reason = ""};
    if (rows) qsort(rows, (size_t)n, sizeof *rows, cmp_source);
    CacheProvenance src = {.rows = rows, .n_rows = n};
    int rc = rows ? cache_write(path, cfg, &src, items, n) : MELD_ERR;
    free(rows);
    if (rc == MELD_OK && (rc = split_data_open(&s, path, 0, NULL)) == MELD_OK) {
        rc = evaluate_split(m, &s, norm, 32, &r, NULL, NULL, prob_emotion, prob_sentiment);
        if (rc == MELD_OK && save_inputs) rc = model_inputs_save(save_inputs, m, &s);
        split_data_close(&s);
    }
    remove(path);
    rmdir(dir);
    return rc;
}

int export_write_file(const char *path, const void *bytes, size_t n)
{
    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    if (atomic_file_write(&f, bytes, n)) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}
