/* melstm and cnn: utterance-level models on one modality.
 *
 * melstm: mel [N, Tm, M] --mask--> 2 x BiLSTM(H) -> masked mean [N, 2H]
 *         -> Dense 128 + ReLU + dropout 0.3 -> heads [N, 7], [N, 3]
 * cnn:    frames [N*K, 3, S, S] -> conv blocks -> Dense 100 [N*K, 100]
 *         -> heads [N*K, .] -> mean over each utterance's K frames [N, .] */
#include "layers/layers.h"
#include "pipeline/models/model_parts.h"
#include "tensor/error.h"
#include "tensor/ops.h"

static void melstm_layout(const MeldModel *m, BatchSpec *s)
{
    (void)m;
    s->needs = NEED_MEL;
    s->dialogue_level = false;
}

enum { MEL_ENC = 0, MEL_DENSE = 1, MEL_ACT = 2, MEL_DROP = 3, MEL_HEADS = 4 };

static int melstm_build(MeldModel *m, Rng *r)
{
    if (mel_encoder_add(m, "", r) != MEL_ENC) return MELD_ERR;
    meld_model_add(m, dense_new("dense", mel_encoder_width(m), 128, true, r));
    meld_model_add(m, relu_new("relu"));
    meld_model_add(m, dropout_new("dropout", 0.3f));
    return heads_add(m, "", 128, false, r) == MEL_HEADS ? MELD_OK : MELD_ERR;
}

static int melstm_forward(MeldModel *m, Graph *g, const Batch *b, Tensor **emotion, Tensor **sentiment)
{
    Tensor *x = mel_encoder_forward(m, MEL_ENC, g, b->mel, b->mel_mask);
    for (int i = MEL_DENSE; i <= MEL_DROP; i++) x = meld_model_call(m, i, g, x, NULL);
    return heads_forward(m, MEL_HEADS, g, x, emotion, sentiment);
}

const MeldModelKind MODEL_MELSTM = {
    "melstm", "2-layer bidirectional LSTM over log-Mel frames, masked mean pooling, dense + ReLU + dropout",
    "log-Mel frames of one utterance", "adam", 1e-3f, melstm_build, melstm_layout, melstm_forward};

static void cnn_layout(const MeldModel *m, BatchSpec *s)
{
    (void)m;
    s->needs = NEED_FRAMES;
    s->dialogue_level = false;
}

static int cnn_build(MeldModel *m, Rng *r)
{
    if (frame_encoder_add(m, "", r) != 0) return MELD_ERR;
    return heads_add(m, "", FRAME_EMBED, false, r) < 0 ? MELD_ERR : MELD_OK;
}

static int cnn_forward(MeldModel *m, Graph *g, const Batch *b, Tensor **emotion, Tensor **sentiment)
{
    Tensor *x = frame_encoder_forward(m, 0, g, b->frames);
    Tensor *e, *s;
    if (heads_forward(m, m->n_layers - 2, g, x, &e, &s)) return MELD_ERR;
    int k = b->frames->shape[0] / b->n_utts;
    *emotion = mean_over_frames(g, e, k);
    *sentiment = mean_over_frames(g, s, k);
    return *emotion && *sentiment ? MELD_OK : MELD_ERR;
}

const MeldModelKind MODEL_CNN = {
    "cnn", "4 conv blocks (16-32-64-128, BatchNorm, LeakyReLU, max-pool, spatial dropout), dense 100; frame logits averaged",
    "K face frames of one utterance", "adam", 1e-3f, cnn_build, cnn_layout, cnn_forward};
