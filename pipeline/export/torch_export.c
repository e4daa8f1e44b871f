/* model.py: a MELD model as PyTorch source (see torch_export.h).
 *
 * The file is assembled from fixed fragments (below, as Python text) and a
 * few generated parts: the docstring (inputs and outputs), the constants
 * (the checkpoint's configuration and the widths its weights have), and
 * the MeldModel class of the model's kind. Everything the fragments know
 * of the architecture mirrors pipeline/models/ (model_parts.c for the
 * encoders); the tests run the generated modules against meld's own
 * predictions (tests/fixtures/export/). */
#include "pipeline/export/torch_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/rnn_layer.h"
#include "pipeline/data/dataset.h"
#include "pipeline/export/model_io.h"
#include "pipeline/train/checkpoint_io.h"
#include "tensor/error.h"

/* ---- the fixed fragments ------------------------------------------------- */

static const char IMPORTS[] =
    "import array\n"
    "import json\n"
    "import struct\n"
    "import sys\n"
    "\n"
    "import torch\n"
    "from torch import nn\n"
    "from torch.nn import functional as F\n"
    "from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence\n"
    ;

static const char SAFETENSORS[] =
    "_DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8}\n"
    "\n"
    "\n"
    "def load_safetensors(path):\n"
    "    \"\"\"The tensors of a safetensors file, {name: tensor} (a little-endian host).\"\"\"\n"
    "    with open(path, 'rb') as f:\n"
    "        data = f.read()\n"
    "    n = struct.unpack('<Q', data[:8])[0]\n"
    "    base = 8 + n\n"
    "    tensors = {}\n"
    "    for name, info in json.loads(data[8:base]).items():\n"
    "        if name == '__metadata__':\n"
    "            continue\n"
    "        begin, end = info['data_offsets']\n"
    "        dtype = _DTYPES[info['dtype']]\n"
    "        if begin == end:\n"
    "            tensors[name] = torch.zeros(info['shape'], dtype=dtype)\n"
    "        else:\n"
    "            raw = bytearray(data[base + begin:base + end])\n"
    "            tensors[name] = torch.frombuffer(raw, dtype=dtype).reshape(info['shape'])\n"
    "    return tensors\n"
    "\n"
    "\n"
    "def save_safetensors(model, path):\n"
    "    \"\"\"model's state_dict as float32 safetensors with METADATA: the file\n"
    "    `meld predict --model-file` and `meld eval` read.\"\"\"\n"
    "    tensors = {k: v.detach().to(torch.float32).cpu() for k, v in model.state_dict().items()}\n"
    "    header, offset = {'__metadata__': METADATA}, 0\n"
    "    for name, t in tensors.items():\n"
    "        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + 4 * t.numel()]}\n"
    "        offset += 4 * t.numel()\n"
    "    head = json.dumps(header).encode()\n"
    "    head += b' ' * (-len(head) % 8)\n"
    "    with open(path, 'wb') as f:\n"
    "        f.write(struct.pack('<Q', len(head)) + head)\n"
    "        for t in tensors.values():\n"
    "            values = array.array('f', t.reshape(-1).tolist())\n"
    "            if sys.byteorder == 'big':\n"
    "                values.byteswap()\n"
    "            f.write(values.tobytes())\n"
    ;

static const char NORMALISER[] =
    "class Normaliser(nn.Module):\n"
    "    \"\"\"The training split's feature statistics (std floored at 1e-3), as\n"
    "    buffers: x -> (x - mean) / std over the last axis.\"\"\"\n"
    "\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.register_buffer('func_mean', torch.zeros(FUNC_DIM))\n"
    "        self.register_buffer('func_std', torch.ones(FUNC_DIM))\n"
    "        self.register_buffer('mel_mean', torch.zeros(N_MELS))\n"
    "        self.register_buffer('mel_std', torch.ones(N_MELS))\n"
    "\n"
    "    def functionals(self, x):\n"
    "        return (x - self.func_mean) / self.func_std\n"
    "\n"
    "    def log_mel(self, x):\n"
    "        return (x - self.mel_mean) / self.mel_std\n"
    ;

static const char RUN_RNN[] =
    "def run_rnn(rnn, x, lengths):\n"
    "    \"\"\"rnn over the first lengths[n] steps of each row of x [N, T, F]: meld's\n"
    "    masking, the reverse direction starting at each row's last real step.\n"
    "    Outputs at the padded steps are 0.\"\"\"\n"
    "    packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)\n"
    "    return pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=x.shape[1])[0]\n"
    ;

static const char LOG_MEL[] =
    "def steps_mask(lengths, steps, like):\n"
    "    \"\"\"[N, T, 1]: 1 where t < lengths[n].\"\"\"\n"
    "    t = torch.arange(steps, device=lengths.device)\n"
    "    return (t[None, :] < lengths[:, None]).unsqueeze(2).to(like.dtype)\n"
    "\n"
    "\n"
    "def pool_log_mel(mel, lengths):\n"
    "    \"\"\"Averages MEL_POOL frames at a time (the last group over the frames it\n"
    "    has) and keeps MEL_MAX_FRAMES: [N, T, M] -> [N, T', M], new lengths.\"\"\"\n"
    "    n, t, m = mel.shape\n"
    "    mel = F.pad(mel * steps_mask(lengths, t, mel), (0, 0, 0, -t % MEL_POOL))\n"
    "    sums = mel.reshape(n, -1, MEL_POOL, m).sum(2)\n"
    "    start = torch.arange(sums.shape[1], device=mel.device) * MEL_POOL\n"
    "    counts = (lengths[:, None] - start[None, :]).clamp(1, MEL_POOL).to(mel.dtype)\n"
    "    pooled = (sums / counts.unsqueeze(2))[:, :MEL_MAX_FRAMES]\n"
    "    return pooled, torch.div(lengths + MEL_POOL - 1, MEL_POOL, rounding_mode='floor').clamp(max=MEL_MAX_FRAMES)\n"
    "\n"
    "\n"
    "def encode_log_mel(norm, mel_lstm, log_mel, lengths):\n"
    "    \"\"\"The mel encoder: pooled, normalised log-Mel frames -> 2-layer BiLSTM\n"
    "    -> mean over each utterance's real steps [N, 2 * MEL_HIDDEN].\"\"\"\n"
    "    x, lengths = pool_log_mel(log_mel, lengths)\n"
    "    lengths = lengths.clamp(min=1)\n"
    "    h = run_rnn(mel_lstm, norm.log_mel(x), lengths)\n"
    "    return (h * steps_mask(lengths, h.shape[1], h)).sum(1) / lengths.unsqueeze(1).to(h.dtype)\n"
    ;

static const char HEADS[] =
    "class Heads(nn.Module):\n"
    "    \"\"\"Emotion (7) and sentiment (3) logits from one embedding.\"\"\"\n"
    "\n"
    "    def __init__(self, width):\n"
    "        super().__init__()\n"
    "        self.emotion_head = nn.Linear(width, len(EMOTIONS))\n"
    "        self.sentiment_head = nn.Linear(width, len(SENTIMENTS))\n"
    "\n"
    "    def forward(self, x):\n"
    "        return self.emotion_head(x), self.sentiment_head(x)\n"
    ;

static const char FRAME_ENCODER[] =
    "class FrameEncoder(nn.Module):\n"
    "    \"\"\"Face frames [N, K, S, S, C] (bytes) -> four conv blocks (3x3 'same'\n"
    "    conv, BatchNorm from the second, 2x2 max-pool, LeakyReLU 0.1, spatial\n"
    "    dropout 0.2) -> Flatten -> Dense + LeakyReLU 0.1: [N*K, FRAME_EMBED].\"\"\"\n"
    "\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        for b in range(1, 5):\n"
    "            setattr(self, f'conv{b}', nn.Conv2d(CONV_CHANNELS[b - 1], CONV_CHANNELS[b], CONV_KERNEL, padding='same'))\n"
    "            if b > 1:\n"
    "                setattr(self, f'bn{b}', nn.BatchNorm2d(CONV_CHANNELS[b]))\n"
    "        self.frame_dropout = nn.Dropout2d(0.2)\n"
    "        self.dense = nn.Linear(CONV_CHANNELS[4] * (FRAME_SIZE // 16) ** 2, FRAME_EMBED)\n"
    "\n"
    "    def embed_frames(self, frames):\n"
    "        x = frames.reshape(-1, FRAME_SIZE, FRAME_SIZE, FRAME_CHANNELS).permute(0, 3, 1, 2)\n"
    "        x = x.to(torch.float32) / 127.5 - 1\n"
    "        for b in range(1, 5):\n"
    "            x = getattr(self, f'conv{b}')(x)\n"
    "            if b > 1:\n"
    "                x = getattr(self, f'bn{b}')(x)\n"
    "            x = self.frame_dropout(F.leaky_relu(F.max_pool2d(x, 2), 0.1))\n"
    "        return F.leaky_relu(self.dense(x.flatten(1)), 0.1)\n"
    ;

static const char PROBABILITIES[] =
    "\n"
    "    def probabilities(self, *inputs):\n"
    "        \"\"\"Softmax probabilities (emotion, sentiment), as meld predict reports them.\"\"\"\n"
    "        emotion, sentiment = self(*inputs)\n"
    "        return emotion.softmax(-1), sentiment.softmax(-1)\n"
    ;

static const char DROP_ROWS[] =
    "def drop_rows(x, p=0.25):\n"
    "    \"\"\"fusion's modality dropout (training): whole rows zeroed with\n"
    "    probability p, the kept ones scaled by 1 / (1 - p).\"\"\"\n"
    "    keep = (torch.rand(x.shape[0], 1, device=x.device) >= p).to(x.dtype)\n"
    "    return x * keep / (1 - p)\n";

/* ---- the generated parts -------------------------------------------------- */

typedef struct {
    FILE *f;
    const MeldModel *m;
    int failed;
} Py;

/* A Python string literal: single quotes, backslash escapes. */
static void py_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == '\'') fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f) fprintf(f, "\\x%02x", *p);
        else fputc(*p, f);
    }
    fputc('\'', f);
}

/* Size `axis` of tensor `name` (a model's layer widths come from its weights). */
static int width(Py *py, const char *name, int axis)
{
    const Tensor *t = meld_model_tensor(py->m, name);
    if (t && axis < t->ndim) return t->shape[axis];
    if (!py->failed) meld_errorf("export: the model has no tensor '%s'", name);
    py->failed = 1;
    return 0;
}

static const RnnLayer *rnn_layer(Py *py, const char *name)
{
    const Layer *l = meld_model_layer(py->m, name);
    if (l && (!strcmp(l->ops->kind, "LSTM") || !strcmp(l->ops->kind, "GRU"))) return (const RnnLayer *)l;
    if (!py->failed) meld_errorf("export: the model has no recurrent layer '%s'", name);
    py->failed = 1;
    return NULL;
}

static const char *variant(const MeldModel *m)
{
    if (strcmp(m->kind->name, "fusion")) return "";
    return m->cfg.context ? (m->cfg.audio_functionals ? " --context" : " --context --audio mel")
                          : (m->cfg.audio_functionals ? "" : " --audio mel");
}

static void docstring(Py *py)
{
    ModelIo io[MODEL_IO_MAX_INPUTS + 2];
    int n = model_inputs(py->m, io);
    model_outputs(py->m, io + n);
    char shape[128];
    fprintf(py->f, "\"\"\"meld-c model '%s%s' as a PyTorch module, needing nothing but torch.\n\n",
            py->m->kind->name, variant(py->m));
    fprintf(py->f, "%s (written by `meld export --format torch`).\n\n", py->m->kind->description);
    fputs(""
          "    from model import MeldModel, load_safetensors\n"
          "    model = MeldModel()\n"
          "    model.load_state_dict(load_safetensors('model.safetensors'), strict=True)\n"
          "    model.eval()\n",
          py->f);
    fputs("    emotion_probs, sentiment_probs = model.probabilities(", py->f);
    for (int i = 0; i < n; i++) fprintf(py->f, "%s%s", i ? ", " : "", io[i].name);
    fputs(")\n\nInputs, the raw features (the normalisation is inside: buffers norm.*):\n", py->f);
    static const char *const types[] = {"float32", "int64", "uint8"};
    for (int i = 0; i < n + 2; i++) {
        if (i == n) fputs("Outputs of probabilities() (forward() gives the logits):\n", py->f);
        fprintf(py->f, "    %s %s %s\n        %s\n", io[i].name, types[io[i].type], model_io_shape(&io[i], shape, sizeof shape),
                io[i].doc);
    }
    fputs("Labels in the orders of EMOTIONS and SENTIMENTS.\n\n"
          "save_safetensors(model, 'trained.safetensors') writes the weights back with\n"
          "the metadata meld reads: `meld predict --model-file trained.safetensors` and\n"
          "`meld eval` use them.\n\"\"\"\n",
          py->f);
}

static void constants(Py *py)
{
    const MeldModelConfig *c = &py->m->cfg;
    fprintf(py->f, "MODEL = '%s'\n", py->m->kind->name);
    fputs("# The checkpoint's configuration (the classes below are written for it).\n", py->f);
    fprintf(py->f,
            "TASK = %d  # 0 both, 1 emotion, 2 sentiment: the heads trained\n"
            "FUNC_DIM = %d\nN_MELS = %d\nFRAME_SIZE = %d\nFRAME_CHANNELS = %d\n"
            "FRAMES = %d  # face frames per utterance\nRNN_HIDDEN = %d\nMEL_HIDDEN = %d\nMEL_POOL = %d\n"
            "MEL_MAX_FRAMES = %d\nCONTEXT = %s\nAUDIO_FUNCTIONALS = %s\n",
            c->task, c->func_dim, c->n_mels, c->frame_size, c->frame_channels, c->frames_used, c->rnn_hidden,
            c->mel_hidden, c->mel_pool, c->mel_max_frames, c->context ? "True" : "False",
            c->audio_functionals ? "True" : "False");
    fputs("EMOTIONS = ['neutral', 'joy', 'sadness', 'anger', 'surprise', 'fear', 'disgust']\n"
          "SENTIMENTS = ['neutral', 'positive', 'negative']\n",
          py->f);
}

/* What save_safetensors writes as metadata: the fields meld rebuilds the
 * model from (checkpoint_io.c). */
static void metadata(Py *py, uint64_t cache_hash, const char *cache_config)
{
    char cfg[512], hash[32];
    if (config_format(&py->m->cfg, cfg, sizeof cfg)) py->failed = 1;
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)cache_hash);
    const char *meta[][2] = {
        {"format", CHECKPOINT_FORMAT}, {"model", py->m->kind->name}, {"config", cfg}, {"cache_hash", hash},
        {"cache_config", cache_config}, {"emotion_labels", "neutral,joy,sadness,anger,surprise,fear,disgust"},
        {"sentiment_labels", "neutral,positive,negative"},
    };
    fputs("# The metadata save_safetensors writes, from which meld rebuilds the model.\nMETADATA = {\n", py->f);
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        fputs("    ", py->f);
        py_string(py->f, meta[i][0]);
        fputs(": ", py->f);
        py_string(py->f, meta[i][1]);
        fputs(",\n", py->f);
    }
    fputs("}\n", py->f);
}

/* ---- the kinds ------------------------------------------------------------- */

/* The dropout after the dialogue RNN (model_dialogue_rnn.c): it only
 * matters for training in PyTorch. */
static float dialogue_dropout(const char *kind) { return !strcmp(kind, "gru") ? 0.3f : 0.4f; }

static void frame_widths(Py *py, const char *prefix)
{
    char name[96];
    fputs("CONV_CHANNELS = [", py->f);
    for (int b = 1; b <= 4; b++) {
        snprintf(name, sizeof name, "%s%sconv%d.weight", prefix, *prefix ? "." : "", b);
        if (b == 1) fprintf(py->f, "%d, ", width(py, name, 1));
        fprintf(py->f, "%d%s", width(py, name, 0), b < 4 ? ", " : "]\n");
    }
    snprintf(name, sizeof name, "%s%sconv1.weight", prefix, *prefix ? "." : "");
    fprintf(py->f, "CONV_KERNEL = %d\n", width(py, name, 2));
    snprintf(name, sizeof name, "%s%sdense.weight", prefix, *prefix ? "." : "");
    fprintf(py->f, "FRAME_EMBED = %d\n", width(py, name, 0));
}

static void write_dialogue_rnn(Py *py)
{
    const char *kind = py->m->kind->name;   /* also the RNN layer's name */
    const RnnLayer *r = rnn_layer(py, kind);
    if (!r) return;
    fprintf(py->f, "\n\n%s\n\n%s\n\nclass MeldModel(nn.Module):\n", NORMALISER, RUN_RNN);
    fprintf(py->f,
            "    \"\"\"%s: functionals [B, T, F] -> %d-layer bidirectional %s over each dialogue's\n"
            "    real utterances -> dropout -> heads on every utterance.\"\"\"\n\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.norm = Normaliser()\n"
            "        self.%s = nn.%s(FUNC_DIM, RNN_HIDDEN, num_layers=%d, batch_first=True, bidirectional=True,\n"
            "                              dropout=%g)\n"
            "        self.dropout = nn.Dropout(%g)\n"
            "        self.emotion_head = nn.Linear(2 * RNN_HIDDEN, len(EMOTIONS))\n"
            "        self.sentiment_head = nn.Linear(2 * RNN_HIDDEN, len(SENTIMENTS))\n\n"
            "    def forward(self, functionals, dialogue_lengths):\n"
            "        h = run_rnn(self.%s, self.norm.functionals(functionals), dialogue_lengths)\n"
            "        h = self.dropout(h)\n"
            "        return self.emotion_head(h), self.sentiment_head(h)\n",
            kind, r->num_layers, r->base.ops->kind, kind, r->base.ops->kind, r->num_layers, r->dropout,
            dialogue_dropout(kind), kind);
}

/* The mel encoder's LSTM, as the layer was built (levels, dropout). */
static void mel_lstm(Py *py, const RnnLayer *r)
{
    fprintf(py->f,
            "        self.mel_lstm = nn.LSTM(N_MELS, MEL_HIDDEN, num_layers=%d, batch_first=True, bidirectional=True,\n"
            "                                dropout=%g)\n",
            r->num_layers, r->dropout);
}

static void write_melstm(Py *py)
{
    const RnnLayer *r = rnn_layer(py, "mel_lstm");
    if (!r) return;
    fprintf(py->f, "DENSE_WIDTH = %d\n", width(py, "dense.weight", 0));
    fprintf(py->f, "\n\n%s\n\n%s\n\n%s\n\nclass MeldModel(nn.Module):\n", NORMALISER, RUN_RNN, LOG_MEL);
    fputs("    \"\"\"melstm: log-Mel frames -> the mel encoder -> Dense + ReLU + dropout 0.3\n"
          "    -> heads.\"\"\"\n\n"
          "    def __init__(self):\n"
          "        super().__init__()\n"
          "        self.norm = Normaliser()\n",
          py->f);
    mel_lstm(py, r);
    fputs("        self.dense = nn.Linear(2 * MEL_HIDDEN, DENSE_WIDTH)\n"
          "        self.dropout = nn.Dropout(0.3)\n"
          "        self.emotion_head = nn.Linear(DENSE_WIDTH, len(EMOTIONS))\n"
          "        self.sentiment_head = nn.Linear(DENSE_WIDTH, len(SENTIMENTS))\n\n"
          "    def forward(self, log_mel, log_mel_lengths):\n"
          "        x = encode_log_mel(self.norm, self.mel_lstm, log_mel, log_mel_lengths)\n"
          "        x = self.dropout(F.relu(self.dense(x)))\n"
          "        return self.emotion_head(x), self.sentiment_head(x)\n",
          py->f);
}

static void write_cnn(Py *py)
{
    frame_widths(py, "");
    fprintf(py->f, "\n\n%s\n\n%s\n\nclass MeldModel(FrameEncoder):\n", NORMALISER, FRAME_ENCODER);
    fputs("    \"\"\"cnn: every face frame -> the frame encoder -> heads; an utterance's logits\n"
          "    are the mean of its FRAMES frames' logits.\"\"\"\n\n"
          "    def __init__(self):\n"
          "        super().__init__()\n"
          "        self.norm = Normaliser()\n"
          "        self.emotion_head = nn.Linear(FRAME_EMBED, len(EMOTIONS))\n"
          "        self.sentiment_head = nn.Linear(FRAME_EMBED, len(SENTIMENTS))\n\n"
          "    def forward(self, face_frames):\n"
          "        x = self.embed_frames(face_frames)\n"
          "        emotion = self.emotion_head(x).reshape(-1, FRAMES, len(EMOTIONS)).mean(1)\n"
          "        sentiment = self.sentiment_head(x).reshape(-1, FRAMES, len(SENTIMENTS)).mean(1)\n"
          "        return emotion, sentiment\n",
          py->f);
}

/* fusion's audio branch: the mel encoder or the functionals MLP. */
static void write_audio_branch(Py *py)
{
    if (py->m->cfg.audio_functionals) {
        fputs("class Audio(nn.Module):\n"
              "    \"\"\"fusion's audio branch: functionals -> Dense + ReLU + dropout 0.3 -> Dense\n"
              "    + ReLU: [N, AUDIO_WIDTH].\"\"\"\n\n"
              "    def __init__(self):\n"
              "        super().__init__()\n"
              "        self.dense1 = nn.Linear(FUNC_DIM, AUDIO_HIDDEN)\n"
              "        self.dropout = nn.Dropout(0.3)\n"
              "        self.dense2 = nn.Linear(AUDIO_HIDDEN, AUDIO_WIDTH)\n"
              "        self.aux_ = Heads(AUDIO_WIDTH)\n\n"
              "    def forward(self, norm, functionals):\n"
              "        x = self.dropout(F.relu(self.dense1(norm.functionals(functionals))))\n"
              "        return F.relu(self.dense2(x))\n",
              py->f);
        return;
    }
    const RnnLayer *r = rnn_layer(py, "audio.mel_lstm");
    if (!r) return;
    fputs("class Audio(nn.Module):\n"
          "    \"\"\"fusion's audio branch: the mel encoder, [N, AUDIO_WIDTH].\"\"\"\n\n"
          "    def __init__(self):\n"
          "        super().__init__()\n",
          py->f);
    mel_lstm(py, r);
    fputs("        self.aux_ = Heads(AUDIO_WIDTH)\n\n"
          "    def forward(self, norm, log_mel, log_mel_lengths):\n"
          "        return encode_log_mel(norm, self.mel_lstm, log_mel, log_mel_lengths)\n",
          py->f);
}

static void write_fusion(Py *py)
{
    const MeldModelConfig *c = &py->m->cfg;
    frame_widths(py, "video");
    if (c->audio_functionals) fprintf(py->f, "AUDIO_HIDDEN = %d\n", width(py, "audio.dense1.weight", 0));
    fprintf(py->f, "AUDIO_WIDTH = %d\n", width(py, "audio.aux_.emotion_head.weight", 1));
    fprintf(py->f, "FUSION_WIDTH = %d\n", width(py, "fuse.dense.weight", 0));
    if (c->context) fprintf(py->f, "CONTEXT_HIDDEN = %d\n", width(py, "context.lstm.weight_hh_l0", 1));
    fprintf(py->f, "HEAD_WIDTH = %d\n", width(py, "emotion_head.weight", 1));
    fprintf(py->f, "\n\n%s\n\n%s\n\n", NORMALISER, HEADS);
    if (c->context || !c->audio_functionals) fprintf(py->f, "%s\n\n", RUN_RNN);
    if (!c->audio_functionals) fprintf(py->f, "%s\n\n", LOG_MEL);
    fprintf(py->f, "%s\n\n%s\n\n", FRAME_ENCODER, DROP_ROWS);
    write_audio_branch(py);
    const RnnLayer *ctx = c->context ? rnn_layer(py, "context.lstm") : NULL;
    fprintf(py->f,
            "\n\nclass MeldModel(nn.Module):\n"
            "    \"\"\"fusion%s: the audio branch and the video branch (frame encoder,\n"
            "    mean over the frames) -> concat -> Dense + ReLU + dropout 0.3\n"
            "    -> %s.\n"
            "    The auxiliary heads audio.aux_ and video.aux_ are meld's deep\n"
            "    supervision in training, kept here for their weights only.\"\"\"\n\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.norm = Normaliser()\n"
            "        self.video = FrameEncoder()\n"
            "        self.video.aux_ = Heads(FRAME_EMBED)\n"
            "        self.audio = Audio()\n"
            "        self.fuse = nn.ModuleDict({'dense': nn.Linear(AUDIO_WIDTH + FRAME_EMBED, FUSION_WIDTH)})\n"
            "        self.fuse_dropout = nn.Dropout(0.3)\n",
            variant(py->m), c->context ? "a bidirectional LSTM over each dialogue -> heads" : "heads");
    if (ctx)
        fprintf(py->f,
                "        lstm = nn.LSTM(FUSION_WIDTH, CONTEXT_HIDDEN, num_layers=%d, batch_first=True, bidirectional=True)\n"
                "        self.context = nn.ModuleDict({'lstm': lstm})\n",
                ctx->num_layers);
    const char *audio = c->audio_functionals ? "functionals" : "log_mel, log_mel_lengths";
    fprintf(py->f,
            "        self.emotion_head = nn.Linear(HEAD_WIDTH, len(EMOTIONS))\n"
            "        self.sentiment_head = nn.Linear(HEAD_WIDTH, len(SENTIMENTS))\n\n"
            "    def fuse_utterances(self, audio_inputs, face_frames):\n"
            "        \"\"\"[N, FUSION_WIDTH] from each utterance's audio and face frames.\"\"\"\n"
            "        audio = self.audio(self.norm, *audio_inputs)\n"
            "        video = self.video.embed_frames(face_frames).reshape(-1, FRAMES, FRAME_EMBED).mean(1)\n"
            "        if self.training:\n"
            "            audio, video = drop_rows(audio), drop_rows(video)\n"
            "        return self.fuse_dropout(F.relu(self.fuse['dense'](torch.cat([audio, video], 1))))\n\n"
            "    def forward(self, %s, face_frames%s):\n",
            audio, c->context ? ", dialogue_lengths" : "");
    if (!c->context) {
        fprintf(py->f,
                "        x = self.fuse_utterances([%s], face_frames)\n"
                "        return self.emotion_head(x), self.sentiment_head(x)\n",
                audio);
        return;
    }
    fprintf(py->f,
            "        b, t = face_frames.shape[:2]\n"
            "        x = self.fuse_utterances([%s], face_frames.flatten(0, 1))\n"
            "        h = run_rnn(self.context['lstm'], x.reshape(b, t, -1), dialogue_lengths)\n"
            "        return self.emotion_head(h), self.sentiment_head(h)\n",
            c->audio_functionals ? "functionals.flatten(0, 1)" : "log_mel.flatten(0, 1), log_mel_lengths.flatten()");
}

typedef struct {
    const char *kind;
    void (*write)(Py *py);
} KindWriter;

static const KindWriter KIND_WRITERS[] = {
    {"gru", write_dialogue_rnn}, {"lstm", write_dialogue_rnn}, {"melstm", write_melstm}, {"cnn", write_cnn},
    {"fusion", write_fusion},
};

/* ---- the file ------------------------------------------------------------- */

int torch_export_source(const MeldModel *m, uint64_t cache_hash, const char *cache_config, char **text, size_t *len)
{
    const KindWriter *w = NULL;
    for (size_t i = 0; i < sizeof KIND_WRITERS / sizeof KIND_WRITERS[0]; i++)
        if (!strcmp(KIND_WRITERS[i].kind, m->kind->name)) w = &KIND_WRITERS[i];
    if (!w) return meld_errorf("export: no PyTorch code for model kind '%s'", m->kind->name);
    *text = NULL;
    *len = 0;
    Py py = {.f = open_memstream(text, len), .m = m};
    if (!py.f) return meld_errorf("out of memory writing model.py");
    docstring(&py);
    fprintf(py.f, "%s\n", IMPORTS);
    constants(&py);
    metadata(&py, cache_hash, cache_config);
    fputs("# Layer widths, read off the weights.\n", py.f);
    w->write(&py);
    fprintf(py.f, "%s\n\n%s", PROBABILITIES, SAFETENSORS);
    int bad = ferror(py.f);
    if (fclose(py.f) != 0 || bad) {
        free(*text);
        *text = NULL;
        return meld_errorf("out of memory writing model.py");
    }
    if (py.failed) {
        free(*text);
        *text = NULL;
        return meld_error_context("PyTorch export of %s", m->kind->name);
    }
    return MELD_OK;
}

int torch_export_save(const MeldModel *m, uint64_t cache_hash, const char *cache_config, const char *path)
{
    char *text;
    size_t len;
    if (torch_export_source(m, cache_hash, cache_config, &text, &len)) return MELD_ERR;
    int rc = export_write_file(path, text, len);
    free(text);
    return rc;
}
