#include "pipeline/models/model_parts.h"

#include <stdio.h>

#include "layers/layers.h"
#include "layers/lstm.h"
#include "pipeline/data/dataset.h"
#include "tensor/error.h"
#include "tensor/ops.h"

static const char *join(char *buf, size_t cap, const char *prefix, const char *name)
{
    snprintf(buf, cap, "%s%s%s", prefix, *prefix ? "." : "", name);
    return buf;
}

int heads_add(MeldModel *m, const char *prefix, int in, bool time_distributed, Rng *r)
{
    char name[LAYER_NAME_CAP];
    Layer *e = dense_new(join(name, sizeof name, prefix, "emotion_head"), in, N_EMOTIONS, true, r);
    Layer *s = dense_new(join(name, sizeof name, prefix, "sentiment_head"), in, N_SENTIMENTS, true, r);
    if (time_distributed) {
        e = e ? time_distributed_new(e) : NULL;
        s = s ? time_distributed_new(s) : NULL;
    }
    int first = meld_model_add(m, e);
    if (meld_model_add(m, s) < 0) return -1;
    return first;
}

int heads_forward(MeldModel *m, int first, Graph *g, Tensor *x, Tensor **emotion, Tensor **sentiment)
{
    int e_shape[2] = {-1, N_EMOTIONS}, s_shape[2] = {-1, N_SENTIMENTS};
    *emotion = op_reshape(g, meld_model_call(m, first, g, x, NULL), 2, e_shape);
    *sentiment = op_reshape(g, meld_model_call(m, first + 1, g, x, NULL), 2, s_shape);
    return *emotion && *sentiment ? MELD_OK : MELD_ERR;
}

int mel_encoder_add(MeldModel *m, const char *prefix, Rng *r)
{
    char name[LAYER_NAME_CAP];
    return meld_model_add(m, lstm_new(join(name, sizeof name, prefix, "mel_lstm"), m->cfg.n_mels, m->cfg.mel_hidden, 2,
                                 true, true, 0.2f, true, r));
}

int mel_encoder_width(const MeldModel *m) { return 2 * m->cfg.mel_hidden; }

/* Masked mean over time: sum_t h[n,t,:] mask[n,t] / sum_t mask[n,t]. */
Tensor *mel_encoder_forward(MeldModel *m, int first, Graph *g, Tensor *mel, Tensor *mel_mask)
{
    Tensor *h = meld_model_call(m, first, g, mel, mel_mask);              /* [N, Tm, 2H] */
    return op_masked_mean(g, h, mel_mask);                               /* [N, 2H] */
}

/* Block b: conv 3x3 'same' -> [BatchNorm (b > 1)] -> LeakyReLU 0.1 ->
 * MaxPool 2x2 -> spatial dropout 0.2, with the activation applied after
 * the pooling instead: LeakyReLU is strictly increasing, so
 * max(leaky(a), leaky(b)) = leaky(max(a, b)) exactly, with the same argmax
 * (ties included) and therefore the same gradient, on a quarter of the
 * elements. (It was 28 % of the CNN's training step before the pool.) */
int frame_encoder_add(MeldModel *m, const char *prefix, Rng *r)
{
    static const int channels[5] = {0, 16, 32, 64, 128};
    char name[LAYER_NAME_CAP], part[32];
    int first = -1, in = m->cfg.frame_channels;
    Conv2dSpec spec = {.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .padding = CONV2D_SAME, .bias = true};
    for (int b = 1; b <= 4; b++) {
        snprintf(part, sizeof part, "conv%d", b);
        int i = meld_model_add(m, conv2d_new(join(name, sizeof name, prefix, part), in, channels[b], spec, r));
        if (first < 0) first = i;
        if (b > 1) {
            snprintf(part, sizeof part, "bn%d", b);
            meld_model_add(m, batchnorm2d_new(join(name, sizeof name, prefix, part), channels[b], BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM));
        }
        snprintf(part, sizeof part, "pool%d", b);
        meld_model_add(m, maxpool2d_new(join(name, sizeof name, prefix, part), 2, 2, 2, 2, 0, 0));
        snprintf(part, sizeof part, "act%d", b);
        meld_model_add(m, leaky_relu_new(join(name, sizeof name, prefix, part), FRAME_LEAKY_SLOPE));
        snprintf(part, sizeof part, "drop%d", b);
        if (meld_model_add(m, dropout2d_new(join(name, sizeof name, prefix, part), 0.2f)) < 0) return -1;
        in = channels[b];
    }
    int side = m->cfg.frame_size / 16;
    meld_model_add(m, flatten_new(join(name, sizeof name, prefix, "flatten")));
    meld_model_add(m, dense_new(join(name, sizeof name, prefix, "dense"), 128 * side * side, FRAME_EMBED, true, r));
    if (meld_model_add(m, leaky_relu_new(join(name, sizeof name, prefix, "dense_act"), FRAME_LEAKY_SLOPE)) < 0) return -1;
    return first;
}

Tensor *frame_encoder_forward(MeldModel *m, int first, Graph *g, Tensor *frames)
{
    Tensor *x = frames;
    for (int i = first; i < first + FRAME_ENCODER_LAYERS; i++) x = meld_model_call(m, i, g, x, NULL);
    return x;
}

Tensor *mean_over_frames(Graph *g, Tensor *x, int K)
{
    if (!x) return NULL;
    int s[3] = {-1, K, x->shape[1]};
    return op_mean(g, op_reshape(g, x, 3, s), 1);
}
