/* gru and lstm: the MELD dialogue-level baselines (bcLSTM set-up).
 *
 *   func [B, T, F] --mask [B, T]--> BiGRU(300) / 2 x BiLSTM(300)
 *        -> [B, T, 600] -> dropout (0.3 gru, 0.4 lstm) -> TimeDistributed Dense heads
 *        -> logits [B*T, 7], [B*T, 3]
 * Padded utterances are skipped by the masked RNN and excluded from the
 * loss by the batch mask. */
#include "layers/gru.h"
#include "layers/layers.h"
#include "layers/lstm.h"
#include "pipeline/models/model_parts.h"
#include "tensor/error.h"
#include "tensor/ops.h"

enum { L_RNN = 0, L_DROPOUT = 1 };

static void dialogue_layout(const MeldModel *m, BatchSpec *s)
{
    (void)m;
    s->needs = NEED_FUNC;
    s->dialogue_level = true;
}

static int gru_build(MeldModel *m, Rng *r)
{
    int h = m->cfg.rnn_hidden;
    if (meld_model_add(m, gru_new("gru", m->cfg.func_dim, h, 1, true, true, 0.0f, true, r)) != L_RNN) return MELD_ERR;
    if (meld_model_add(m, dropout_new("dropout", 0.3f)) != L_DROPOUT) return MELD_ERR;
    return heads_add(m, "", 2 * h, true, r) < 0 ? MELD_ERR : MELD_OK;
}

static int lstm_build(MeldModel *m, Rng *r)
{
    int h = m->cfg.rnn_hidden;
    if (meld_model_add(m, lstm_new("lstm", m->cfg.func_dim, h, 2, true, true, 0.4f, true, r)) != L_RNN) return MELD_ERR;
    if (meld_model_add(m, dropout_new("dropout", 0.4f)) != L_DROPOUT) return MELD_ERR;
    return heads_add(m, "", 2 * h, true, r) < 0 ? MELD_ERR : MELD_OK;
}

static int dialogue_forward(MeldModel *m, Graph *g, const Batch *b, Tensor **emotion, Tensor **sentiment)
{
    Tensor *h = meld_model_call(m, L_RNN, g, b->func, b->grid_mask);
    h = meld_model_call(m, L_DROPOUT, g, h, NULL);
    return heads_forward(m, L_DROPOUT + 1, g, h, emotion, sentiment);
}

const MeldModelKind MODEL_GRU = {
    "gru", "bidirectional GRU over a dialogue's utterances, time-distributed heads (MELD baseline)",
    "functional vector per utterance, whole dialogue", "adam", 1e-3f, gru_build, dialogue_layout, dialogue_forward};

const MeldModelKind MODEL_LSTM = {
    "lstm", "2-layer bidirectional LSTM over a dialogue's utterances, dropout 0.4, time-distributed heads",
    "functional vector per utterance, whole dialogue", "adadelta", 1.0f, lstm_build, dialogue_layout, dialogue_forward};
