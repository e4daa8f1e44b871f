/* MeldModel registry and what every model shares: layer bookkeeping, the
 * loss, the summary. The kinds themselves are in model_*.c. */
#include "pipeline/models/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/data/dataset.h"
#include "tensor/error.h"
#include "tensor/ops.h"

extern const MeldModelKind MODEL_GRU, MODEL_LSTM, MODEL_MELSTM, MODEL_CNN, MODEL_FUSION;

const MeldModelKind *const MELD_MODEL_KINDS[] = {&MODEL_GRU, &MODEL_LSTM, &MODEL_MELSTM, &MODEL_CNN, &MODEL_FUSION};
const int N_MELD_MODEL_KINDS = (int)(sizeof MELD_MODEL_KINDS / sizeof MELD_MODEL_KINDS[0]);

const MeldModelKind *meld_model_kind_find(const char *name)
{
    for (int i = 0; i < N_MELD_MODEL_KINDS; i++)
        if (!strcmp(MELD_MODEL_KINDS[i]->name, name)) return MELD_MODEL_KINDS[i];
    return NULL;
}

BatchSpec meld_model_batch_spec(const MeldModel *m, bool training)
{
    BatchSpec s = {0};
    m->kind->layout(m, &s);
    s.mel_pool = m->cfg.mel_pool;
    s.mel_max_frames = m->cfg.mel_max_frames;
    s.frames_used = m->cfg.frames_used;
    s.augment = training;
    s.func_dim = m->cfg.func_dim;
    s.n_mels = m->cfg.n_mels;
    s.frame_size = m->cfg.frame_size;
    s.frame_channels = m->cfg.frame_channels;
    return s;
}

MeldModel *meld_model_create(const char *kind_name, const MeldModelConfig *cfg, Rng *rng)
{
    const MeldModelKind *kind = meld_model_kind_find(kind_name);
    if (!kind) {
        meld_errorf("unknown model '%s' (models: gru, lstm, melstm, cnn, fusion)", kind_name);
        return NULL;
    }
    MeldModel *m = meld_calloc(1, sizeof *m, "model");
    if (!m) return NULL;
    m->kind = kind;
    m->cfg = *cfg;
    if (kind->build(m, rng) != MELD_OK) {
        meld_error_context("building model %s", kind_name);
        meld_model_free(m);
        return NULL;
    }
    return m;
}

void meld_model_free(MeldModel *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_layers; i++) layer_free(m->layers[i]);
    free(m);
}

int meld_model_add(MeldModel *m, Layer *l)
{
    if (!l) return -1;
    if (m->n_layers == MELD_MODEL_MAX_LAYERS) {
        layer_free(l);
        meld_errorf("model: more than %d layers", MELD_MODEL_MAX_LAYERS);
        return -1;
    }
    m->layers[m->n_layers] = l;
    return m->n_layers++;
}

Tensor *meld_model_call(MeldModel *m, int i, Graph *g, Tensor *x, const Tensor *mask)
{
    Tensor *y = layer_forward(m->layers[i], g, x, mask);
    if (y && m->trace) shape_str(y, m->traced_shape[i], sizeof m->traced_shape[i]);
    return y;
}

size_t meld_model_param_count(const MeldModel *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_layers; i++) n += layer_param_count(m->layers[i]);
    return n;
}

int meld_model_params(const MeldModel *m, Tensor **out)
{
    int n = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int k = 0; k < m->layers[i]->n_params && n < MELD_MODEL_MAX_PARAMS; k++) out[n++] = m->layers[i]->params[k];
    return n;
}

int meld_model_buffers(const MeldModel *m, Tensor **out)
{
    int n = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int k = 0; k < m->layers[i]->n_buffers && n < MELD_MODEL_MAX_PARAMS; k++) out[n++] = m->layers[i]->buffers[k];
    return n;
}

Layer *meld_model_layer(const MeldModel *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++)
        if (!strcmp(m->layers[i]->name, name)) return m->layers[i];
    return NULL;
}

Tensor *meld_model_tensor(const MeldModel *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = m->layers[i];
        for (int k = 0; k < l->n_params; k++)
            if (!strcmp(l->params[k]->name, name)) return l->params[k];
        for (int k = 0; k < l->n_buffers; k++)
            if (!strcmp(l->buffers[k]->name, name)) return l->buffers[k];
    }
    return NULL;
}

Tensor *meld_model_loss(MeldModel *m, Graph *g, const Batch *b, Tensor *emotion, Tensor *sentiment,
                   const float *emotion_weights, const float *sentiment_weights, float parts[2])
{
    Tensor *le = NULL, *ls = NULL;
    if (m->cfg.task != TASK_SENTIMENT) le = op_cross_entropy(g, emotion, b->emotion, emotion_weights, b->mask);
    if (m->cfg.task != TASK_EMOTION) ls = op_cross_entropy(g, sentiment, b->sentiment, sentiment_weights, b->mask);
    parts[0] = le ? le->data[0] : 0.0f;
    parts[1] = ls ? ls->data[0] : 0.0f;
    Tensor *loss = m->cfg.task == TASK_EMOTION ? le : m->cfg.task == TASK_SENTIMENT ? ls : op_add(g, le, ls);
    /* Auxiliary heads: the same cross-entropies on their logits, added. */
    for (int i = 0; i < m->n_aux; i++) {
        if (m->cfg.task != TASK_SENTIMENT)
            loss = op_add(g, loss, op_cross_entropy(g, m->aux_emotion[i], b->emotion, emotion_weights, b->mask));
        if (m->cfg.task != TASK_EMOTION)
            loss = op_add(g, loss, op_cross_entropy(g, m->aux_sentiment[i], b->sentiment, sentiment_weights, b->mask));
    }
    m->n_aux = 0;
    return loss;
}

/* A batch of zeros with the model's input shapes: 2 dialogues of 3
 * utterances (dialogue level) or 2 utterances; 20 log-Mel frames each for
 * the models that read them. */
static int dummy_batch(MeldModel *m, Graph *g, Batch *b)
{
    BatchSpec spec = meld_model_batch_spec(m, false);
    memset(b, 0, sizeof *b);
    b->B = 2;
    b->T = spec.dialogue_level ? 3 : 1;
    b->n_utts = b->B * b->T;
    int grid = b->n_utts;
    b->mask = graph_alloc(g, sizeof(float) * (size_t)grid);
    b->emotion = graph_alloc(g, sizeof(int) * (size_t)grid);
    b->sentiment = graph_alloc(g, sizeof(int) * (size_t)grid);
    b->slot = graph_alloc(g, sizeof(int) * (size_t)grid);
    b->utt_index = graph_alloc(g, sizeof(int) * (size_t)grid);
    if (!b->mask || !b->emotion || !b->sentiment || !b->slot || !b->utt_index) return MELD_ERR;
    for (int i = 0; i < grid; i++) b->mask[i] = 1, b->emotion[i] = b->sentiment[i] = 0, b->slot[i] = i, b->utt_index[i] = i;
    int gs[2] = {b->B, b->T};
    b->grid_mask = tensor_from_buffer(&g->arena, 2, gs, b->mask);
    int fs[3] = {b->B, b->T, m->cfg.func_dim}, ms[3] = {grid, 20, m->cfg.n_mels};
    int S = m->cfg.frame_size, K = m->cfg.frames_used;
    int is[4] = {grid * K, m->cfg.frame_channels, S, S};
    if (spec.needs & NEED_FUNC) b->func = tensor_new(&g->arena, 3, fs);
    if (spec.needs & NEED_MEL) {
        b->mel = tensor_new(&g->arena, 3, ms);
        b->mel_mask = tensor_full(&g->arena, 2, ms, 1.0f);
    }
    if (spec.needs & NEED_FRAMES) b->frames = tensor_new(&g->arena, 4, is);
    return MELD_OK;
}

int meld_model_summary(MeldModel *m, char **text)
{
    Graph g;
    graph_init(&g, 0);
    g.grad_enabled = false;
    g.training = false;
    Batch b;
    Tensor *emo = NULL, *sent = NULL;
    m->trace = true;
    for (int i = 0; i < m->n_layers; i++) strcpy(m->traced_shape[i], "-");
    int rc = dummy_batch(m, &g, &b);
    if (rc == MELD_OK) rc = m->kind->forward(m, &g, &b, &emo, &sent);
    m->trace = false;
    graph_free(&g);
    if (rc != MELD_OK) return meld_error_context("summary of %s", m->kind->name);

    size_t cap = 256 + (size_t)m->n_layers * 160;
    char *s = meld_malloc(cap, "summary");
    if (!s) return MELD_ERR;
    size_t n = 0;
    n += (size_t)snprintf(s + n, cap - n, "Model: %s  (%s)\n", m->kind->name, m->kind->inputs);
    n += (size_t)snprintf(s + n, cap - n, "%-24s %-22s %-18s %10s\n", "Layer", "Kind", "Output shape", "Params");
    n += (size_t)snprintf(s + n, cap - n, "%.*s\n", 81, "=================================================================================");
    for (int i = 0; i < m->n_layers && n < cap; i++)
        n += (size_t)snprintf(s + n, cap - n, "%-24s %-22s %-18s %10zu\n", m->layers[i]->name, m->layers[i]->ops->kind,
                              m->traced_shape[i], layer_param_count(m->layers[i]));
    BatchSpec spec = meld_model_batch_spec(m, false);
    if (n < cap)
        snprintf(s + n, cap - n, "%.*s\nTotal params: %zu  (output shapes on a dummy batch: %s%s)\n", 81,
                 "=================================================================================", meld_model_param_count(m),
                 spec.dialogue_level ? "2 dialogues x 3 utterances" : "2 utterances",
                 spec.needs & NEED_MEL ? ", 20 log-Mel frames each" : "");
    *text = s;
    return MELD_OK;
}
