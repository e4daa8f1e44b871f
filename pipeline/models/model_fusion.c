/* fusion: audio + video, optionally with dialogue context.
 *
 *   audio  mel [N, Tm, M] -> mel encoder [N, 2H]
 *          (--audio functionals: func -> Dense 256 + ReLU + dropout -> Dense 128 + ReLU)
 *   video  frames [N*K, 3, S, S] -> frame encoder [N*K, 100] -> mean over K [N, 100]
 *   fuse   modality dropout -> concat -> Dense 256 + ReLU + dropout 0.3 -> e [N, 256]
 *          Modality dropout (training only): each utterance's audio and
 *          video embeddings are zeroed, independently, with p = 0.25 (and
 *          the kept ones scaled by 1/(1 - p), as any inverted dropout):
 *          having to predict from either modality alone now and then keeps
 *          the fused layer from settling on one (ModDrop, Neverova et al.
 *          2015). On its own it did not lift fusion above the CNN alone on
 *          the built-in corpus (test emotion wF1 0.539 vs 0.568); the
 *          auxiliary heads below did.
 *   aux    training only: each branch's embedding also feeds its own pair
 *          of heads (Dense -> 7 and -> 3, on the undropped embedding), and
 *          their cross-entropies are added to the loss (deep supervision).
 *          The audio branch fits the training set within a few epochs, the
 *          CNN only starts to learn after about five; with the aux heads the
 *          video branch gets the same direct signal as the CNN trained
 *          alone. Without them it learned far less inside fusion (test F1
 *          for joy, the clearest face cue: 0.40 in fusion against 0.77 for
 *          the CNN alone; fusion's emotion wF1 0.539 -> 0.679 with them).
 *          The aux heads are not used to predict.
 *   heads  directly on e (utterance level), or with --context:
 *          e placed into the dialogue grid [B, T, 256] (gather_rows; padding
 *          rows are zero) -> masked BiLSTM(128) -> [B, T, 256] ->
 *          time-distributed heads.
 * Layer indices are recorded at build time in the slots below, since which
 * layers exist depends on the options. */
#include <string.h>

#include "layers/layers.h"
#include "layers/lstm.h"
#include "pipeline/models/model_parts.h"
#include "tensor/error.h"
#include "tensor/ops.h"

enum { FUSION_WIDTH = 256, CONTEXT_HIDDEN = 128 };
#define MODALITY_DROPOUT 0.25f

typedef struct {
    int video, audio, fuse, context, heads, aux;
} FusionSlots;

static void fusion_slots(const MeldModel *m, FusionSlots *s)
{
    /* MeldModel.layers index of each part, fixed by fusion_build's order: video
 * encoder, audio branch, fusion (dense, relu, dropout), context, heads. */
    s->video = 0;
    s->audio = FRAME_ENCODER_LAYERS;
    s->fuse = s->audio + (m->cfg.audio_functionals ? 5 : 1);
    s->context = s->fuse + 3;
    s->heads = s->context + (m->cfg.context ? 1 : 0);
    s->aux = s->heads + 2;   /* audio emotion, audio sentiment, video emotion, video sentiment */
}

static void fusion_layout(const MeldModel *m, BatchSpec *s)
{
    s->needs = NEED_FRAMES | (m->cfg.audio_functionals ? NEED_FUNC : NEED_MEL);
    s->dialogue_level = m->cfg.context;
}

static int audio_width(const MeldModel *m) { return m->cfg.audio_functionals ? 128 : mel_encoder_width(m); }

static int fusion_build(MeldModel *m, Rng *r)
{
    FusionSlots slot;
    fusion_slots(m, &slot);
    if (frame_encoder_add(m, "video", r) != slot.video || m->n_layers != slot.audio) return MELD_ERR;
    if (m->cfg.audio_functionals) {
        meld_model_add(m, dense_new("audio.dense1", m->cfg.func_dim, 256, true, r));
        meld_model_add(m, relu_new("audio.relu1"));
        meld_model_add(m, dropout_new("audio.dropout", 0.3f));
        meld_model_add(m, dense_new("audio.dense2", 256, 128, true, r));
        meld_model_add(m, relu_new("audio.relu2"));
    } else {
        mel_encoder_add(m, "audio", r);
    }
    if (m->n_layers != slot.fuse) return MELD_ERR;
    meld_model_add(m, dense_new("fuse.dense", audio_width(m) + FRAME_EMBED, FUSION_WIDTH, true, r));
    meld_model_add(m, relu_new("fuse.relu"));
    meld_model_add(m, dropout_new("fuse.dropout", 0.3f));
    if (m->cfg.context)
        meld_model_add(m, lstm_new("context.lstm", FUSION_WIDTH, CONTEXT_HIDDEN, 1, true, true, 0.0f, true, r));
    if (m->n_layers != slot.heads) return MELD_ERR;
    int in = m->cfg.context ? 2 * CONTEXT_HIDDEN : FUSION_WIDTH;
    if (heads_add(m, "", in, m->cfg.context, r) != slot.heads) return MELD_ERR;
    if (heads_add(m, "audio.aux_", audio_width(m), false, r) != slot.aux) return MELD_ERR;
    return heads_add(m, "video.aux_", FRAME_EMBED, false, r) == slot.aux + 2 ? MELD_OK : MELD_ERR;
}

static Tensor *audio_forward(MeldModel *m, const FusionSlots *slot, Graph *g, const Batch *b)
{
    if (!m->cfg.audio_functionals) return mel_encoder_forward(m, slot->audio, g, b->mel, b->mel_mask);
    /* The functional vectors sit in the grid [B, T, F]: take the real rows. */
    int grid_shape[2] = {b->B * b->T, m->cfg.func_dim};
    Tensor *x = op_gather_rows(g, op_reshape(g, b->func, 2, grid_shape), b->slot, b->n_utts);
    for (int i = slot->audio; i < slot->fuse; i++) x = meld_model_call(m, i, g, x, NULL);
    return x;
}

/* x [N, D] with whole rows zeroed with probability p: dropout2d over the
 * [N, 1, D] view drops each (utterance, channel) map, i.e. each row. */
static Tensor *drop_rows(Graph *g, Tensor *x, float p)
{
    if (!x) return NULL;
    int view[3] = {x->shape[0], 1, x->shape[1]}, back[2] = {x->shape[0], x->shape[1]};
    return op_reshape(g, op_dropout2d(g, op_reshape(g, x, 3, view), p), 2, back);
}

/* Grid row r of the batch holds utterance where[r], or -1 (padding). */
static int *grid_rows(Graph *g, const Batch *b)
{
    int grid = b->B * b->T;
    int *where = graph_alloc(g, sizeof(int) * (size_t)grid);
    if (!where) return NULL;
    for (int r = 0; r < grid; r++) where[r] = -1;
    for (int u = 0; u < b->n_utts; u++) where[b->slot[u]] = u;
    return where;
}

/* Branch embedding x [N, D] -> its auxiliary heads, logits placed on the
 * batch grid (padding rows zero, masked out by the loss). */
static int add_aux(MeldModel *m, int first, Graph *g, const Batch *b, const int *where, Tensor *x)
{
    Tensor *e, *s;
    if (heads_forward(m, first, g, x, &e, &s)) return MELD_ERR;
    int grid = b->B * b->T;
    e = op_gather_rows(g, e, where, grid);
    s = op_gather_rows(g, s, where, grid);
    if (!e || !s) return MELD_ERR;
    m->aux_emotion[m->n_aux] = e;
    m->aux_sentiment[m->n_aux++] = s;
    return MELD_OK;
}

static int fusion_forward(MeldModel *m, Graph *g, const Batch *b, Tensor **emotion, Tensor **sentiment)
{
    FusionSlots slot;
    fusion_slots(m, &slot);
    m->n_aux = 0;
    int *where = grid_rows(g, b);
    if (!where) return MELD_ERR;
    int k = b->frames->shape[0] / b->n_utts;
    Tensor *video = mean_over_frames(g, frame_encoder_forward(m, slot.video, g, b->frames), k);
    Tensor *audio = audio_forward(m, &slot, g, b);
    if (g->training && (add_aux(m, slot.aux, g, b, where, audio) || add_aux(m, slot.aux + 2, g, b, where, video)))
        return MELD_ERR;
    Tensor *parts[2] = {drop_rows(g, audio, MODALITY_DROPOUT), drop_rows(g, video, MODALITY_DROPOUT)};
    Tensor *e = op_concat(g, parts, 2, 1);
    for (int i = slot.fuse; i < slot.fuse + 3; i++) e = meld_model_call(m, i, g, e, NULL);   /* [N, 256] */
    if (!m->cfg.context) return heads_forward(m, slot.heads, g, e, emotion, sentiment);

    int grid = b->B * b->T;
    int s3[3] = {b->B, b->T, FUSION_WIDTH};
    Tensor *seq = op_reshape(g, op_gather_rows(g, e, where, grid), 3, s3);
    Tensor *h = meld_model_call(m, slot.context, g, seq, b->grid_mask);
    return heads_forward(m, slot.heads, g, h, emotion, sentiment);
}

const MeldModelKind MODEL_FUSION = {
    "fusion", "audio (mel LSTM or functional MLP) + video (CNN) fused by dense 256; --context adds a dialogue BiLSTM",
    "log-Mel frames (or functionals) + K face frames", "adam", 1e-3f, fusion_build, fusion_layout, fusion_forward};
