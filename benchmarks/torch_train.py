#!/usr/bin/python3
"""PyTorch side of ./bench train: one training step of each meld-c model,
with the same shapes, in torch (Debian's python3-torch, 1.13 here).

Usage (./bench train runs this itself, once per thread count and OpenMP
wait policy, with OPENBLAS_NUM_THREADS set to the thread count):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_train.py \
        --models lstm,gru,melstm,melstm-var,cnn,fusion --threads 1 --steps 10 --warmup 2

A step is what meld-c's train_epoch does: forward, loss (emotion CE +
sentiment CE, mean over the real utterances), backward,
clip_grad_norm_(5), optimiser step, zero_grad. Random data, created once.

Shapes (must match benchmarks/bench_train.c):
    gru     50 dialogues x 33 utterances x 1611 features, right-padded;
            lengths: length[0] = 33, length[i] = 1 + below(27) from
            meld-c's PCG32 (tensor/rng.c, seed 1, stream 7), reproduced
            below, so both sides see the same padding (about 57 %).
            BiGRU(300) -> time-distributed Linear heads. Adam (lr 1e-3).
    lstm    same input; 2-layer BiLSTM(300), dropout 0.4 between and after,
            time-distributed heads. Adadelta (lr 1.0).
            Both run two variants: "padded" (the RNN runs every step of the
            padded batch) and "packed" (pack_padded_sequence, the RNN skips
            the padding, as meld-c's masked RNN does).
    melstm  32 utterances x 300 log-Mel frames x 40, all frames valid;
            2-layer BiLSTM(128), dropout 0.2 -> masked mean over time ->
            Linear 128 + ReLU + dropout 0.3 -> heads. Adam.
    melstm-var  the same with utterance u's frames valid up to
            75 + below(226) (PCG32 stream 8), the rest zero and masked;
            variants "padded" and "packed" as for gru/lstm.
    cnn     32 frames 3x64x64 (one per utterance); four blocks conv 3x3
            'same' -> [BatchNorm from block 2] -> LeakyReLU 0.1 -> MaxPool 2
            -> Dropout2d 0.2 (16, 32, 64, 128 channels), Flatten, Linear 100
            + LeakyReLU 0.1, heads. Adam.
    fusion  32 utterances: mel 300 x 40 through a 2-layer BiLSTM(64) encoder
            (masked mean) and 4 frames 3x64x64 each through the cnn trunk
            (frame embeddings averaged), modality dropout 0.25 on each,
            concat -> Linear 256 + ReLU + dropout 0.3 -> heads, plus
            auxiliary heads on each branch whose losses are added (as
            pipeline/models/model_fusion.c trains). Adam.

Output, one machine-readable line per measurement:
    RESULT model=M variant=V threads=N median_ms=X min_ms=Y utts=U
plus "INFO ..." lines. Exit status 3 when torch cannot be imported.
The OpenMP wait policy is whatever the environment says (OMP_WAIT_POLICY
is read once, when OpenMP starts, so the bench runs one process per policy).
torch.set_num_threads does not limit OpenBLAS (Debian's torch does its
GEMMs there, pthreads build), hence OPENBLAS_NUM_THREADS; the last INFO
line gives the number of OS threads the process ended with. OpenBLAS's CPU
detection falls back to its SSE3 "Prescott" kernels on CPUs it does not
know (this project's VM): the bench sets OPENBLAS_CORETYPE, and the first
INFO line names the core in use.
"""
import argparse
import ctypes
import os
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
except ImportError as e:
    print("skip: %s" % e)
    sys.exit(3)

N_EMOTIONS, N_SENTIMENTS = 7, 3
DIALOGUES, MAX_UTTS, FUNC_DIM, RNN_HIDDEN = 50, 33, 1611, 300
LENGTH_SEED, LENGTH_STREAM, LENGTH_SPAN = 1, 7, 27
MEL_STREAM, MEL_MIN = 8, 75
UTTS, MEL_FRAMES, N_MELS, MEL_HIDDEN, FUSION_MEL_HIDDEN = 32, 300, 40, 128, 64
FRAME, FUSION_FRAMES = 64, 4
MASK64 = (1 << 64) - 1


class Pcg32:
    """meld-c's tensor/rng.c: PCG32 (XSH RR) and its unbiased rng_below."""

    def __init__(self, seed, stream):
        self.state, self.inc = 0, ((stream << 1) | 1) & MASK64
        self.u32()
        self.state = (self.state + seed) & MASK64
        self.u32()

    def u32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.inc) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & 0xFFFFFFFF

    def below(self, n):
        threshold = ((1 << 32) - n) % n
        while True:
            x = self.u32()
            if x >= threshold:
                return x % n


def dialogue_lengths():
    r = Pcg32(LENGTH_SEED, LENGTH_STREAM)
    return [MAX_UTTS] + [1 + r.below(LENGTH_SPAN) for _ in range(DIALOGUES - 1)]


def mel_lengths():
    """melstm-var: valid frames of each utterance, as bench_train.c draws them."""
    r = Pcg32(LENGTH_SEED, MEL_STREAM)
    return [MEL_MIN + r.below(MEL_FRAMES - MEL_MIN + 1) for _ in range(UTTS)]


class Heads(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.emotion = nn.Linear(width, N_EMOTIONS)
        self.sentiment = nn.Linear(width, N_SENTIMENTS)

    def forward(self, x):
        return self.emotion(x).reshape(-1, N_EMOTIONS), self.sentiment(x).reshape(-1, N_SENTIMENTS)


class DialogueRnn(nn.Module):
    """gru / lstm: func [B, T, F] -> BiRNN -> [B, T, 2H] -> heads per step."""

    def __init__(self, kind, packed):
        super().__init__()
        if kind == "gru":
            self.rnn = nn.GRU(FUNC_DIM, RNN_HIDDEN, batch_first=True, bidirectional=True)
            self.drop = nn.Identity()
        else:
            self.rnn = nn.LSTM(FUNC_DIM, RNN_HIDDEN, num_layers=2, batch_first=True, bidirectional=True,
                               dropout=0.4)
            self.drop = nn.Dropout(0.4)
        self.heads = Heads(2 * RNN_HIDDEN)
        self.packed = packed

    def forward(self, x, lengths):
        if self.packed:
            p = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            h, _ = pad_packed_sequence(self.rnn(p)[0], batch_first=True, total_length=x.shape[1])
        else:
            h = self.rnn(x)[0]
        return self.heads(self.drop(h))


def masked_mean(h, mask):
    return (h * mask.unsqueeze(2)).sum(1) / mask.sum(1, keepdim=True)


class MelEncoder(nn.Module):
    """2-layer BiLSTM over the frames, masked mean. packed: the LSTM sees
    pack_padded_sequence(lengths) and skips the padded frames."""

    def __init__(self, hidden, packed=False):
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, hidden, num_layers=2, batch_first=True, bidirectional=True, dropout=0.2)
        self.packed = packed

    def forward(self, mel, mask):
        if self.packed:
            p = pack_padded_sequence(mel, mask.sum(1).long(), batch_first=True, enforce_sorted=False)
            h, _ = pad_packed_sequence(self.lstm(p)[0], batch_first=True, total_length=mel.shape[1])
        else:
            h = self.lstm(mel)[0]
        return masked_mean(h, mask)


class MeLstm(nn.Module):
    def __init__(self, packed=False):
        super().__init__()
        self.enc = MelEncoder(MEL_HIDDEN, packed)
        self.dense = nn.Sequential(nn.Linear(2 * MEL_HIDDEN, 128), nn.ReLU(), nn.Dropout(0.3))
        self.heads = Heads(128)

    def forward(self, mel, mask):
        return self.heads(self.dense(self.enc(mel, mask)))


def frame_encoder():
    layers, cin = [], 3
    for b, cout in enumerate((16, 32, 64, 128)):
        layers.append(nn.Conv2d(cin, cout, 3, padding=1))
        if b > 0:
            layers.append(nn.BatchNorm2d(cout))
        layers += [nn.LeakyReLU(0.1), nn.MaxPool2d(2), nn.Dropout2d(0.2)]
        cin = cout
    side = FRAME // 16
    layers += [nn.Flatten(), nn.Linear(128 * side * side, 100), nn.LeakyReLU(0.1)]
    return nn.Sequential(*layers)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = frame_encoder()
        self.heads = Heads(100)

    def forward(self, frames):
        return self.heads(self.enc(frames))


def drop_rows(x, p):
    """Modality dropout: each row zeroed with probability p, the rest scaled by 1/(1-p)."""
    return x * (torch.rand(x.shape[0], 1) >= p).to(x.dtype) / (1 - p)


class Fusion(nn.Module):
    def __init__(self):
        super().__init__()
        self.video = frame_encoder()
        self.audio = MelEncoder(FUSION_MEL_HIDDEN)
        self.fuse = nn.Sequential(nn.Linear(2 * FUSION_MEL_HIDDEN + 100, 256), nn.ReLU(), nn.Dropout(0.3))
        self.heads = Heads(256)
        # training aids of pipeline/models/model_fusion.c: per-branch auxiliary heads
        # (their losses are added) and modality dropout 0.25
        self.aux_audio, self.aux_video = Heads(2 * FUSION_MEL_HIDDEN), Heads(100)
        self.aux = []

    def forward(self, mel, mask, frames):
        video = self.video(frames).reshape(mel.shape[0], -1, 100).mean(1)
        audio = self.audio(mel, mask)
        self.aux = [self.aux_audio(audio), self.aux_video(video)] if self.training else []
        if self.training:
            audio, video = drop_rows(audio, 0.25), drop_rows(video, 0.25)
        return self.heads(self.fuse(torch.cat([audio, video], 1)))


def labels(n):
    return torch.randint(0, N_EMOTIONS, (n,)), torch.randint(0, N_SENTIMENTS, (n,))


def masked_ce(logits, target, mask):
    """Mean cross-entropy over the rows whose mask is 1 (meld-c's op_cross_entropy)."""
    return (F.cross_entropy(logits, target, reduction="none") * mask).sum() / mask.sum()


def make_case(name, variant):
    """(model, optimiser, step inputs, mask over the label grid, utterances)."""
    if name in ("gru", "lstm"):
        lengths = dialogue_lengths()
        mask = torch.zeros(DIALOGUES, MAX_UTTS)
        for b, n in enumerate(lengths):
            mask[b, :n] = 1
        x = torch.randn(DIALOGUES, MAX_UTTS, FUNC_DIM) * mask.unsqueeze(2)
        model = DialogueRnn(name, variant == "packed")
        opt = torch.optim.Adam(model.parameters(), lr=1e-3) if name == "gru" else \
            torch.optim.Adadelta(model.parameters(), lr=1.0)
        return model, opt, (x, torch.tensor(lengths)), mask.reshape(-1), sum(lengths)
    if name in ("melstm", "melstm-var", "fusion"):
        mel, mel_mask = torch.randn(UTTS, MEL_FRAMES, N_MELS), torch.ones(UTTS, MEL_FRAMES)
        if name == "melstm-var":
            for u, n in enumerate(mel_lengths()):
                mel_mask[u, n:] = 0
            mel *= mel_mask.unsqueeze(2)
        if name != "fusion":
            model, inputs = MeLstm(variant == "packed"), (mel, mel_mask)
        else:
            model, inputs = Fusion(), (mel, mel_mask, torch.rand(UTTS * FUSION_FRAMES, 3, FRAME, FRAME) * 2 - 1)
        return model, torch.optim.Adam(model.parameters(), lr=1e-3), inputs, torch.ones(UTTS), UTTS
    model = Cnn()
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), (torch.rand(UTTS, 3, FRAME, FRAME) * 2 - 1,), \
        torch.ones(UTTS), UTTS


def time_case(name, variant, steps, warmup):
    torch.manual_seed(1)
    model, opt, inputs, mask, utts = make_case(name, variant)
    y_e, y_s = labels(mask.shape[0])
    model.train()

    def step():
        emotion, sentiment = model(*inputs)
        loss = masked_ce(emotion, y_e, mask) + masked_ce(sentiment, y_s, mask)
        for aux_e, aux_s in getattr(model, "aux", []):
            loss = loss + masked_ce(aux_e, y_e, mask) + masked_ce(aux_s, y_s, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        opt.zero_grad()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2], times[0], utts


def openblas_core():
    """The kernel set OpenBLAS chose (torch's GEMMs run there in Debian's build)."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "(not OpenBLAS)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="lstm,gru,melstm,melstm-var,cnn,fusion")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    print("INFO torch %s, OMP_WAIT_POLICY=%s, interop threads %d, OpenBLAS core %s" %
          (torch.__version__, os.environ.get("OMP_WAIT_POLICY", "(default)"), torch.get_num_interop_threads(),
           openblas_core()))
    sys.stdout.flush()
    for threads in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(threads)
        for name in a.models.split(","):
            for variant in (("padded", "packed") if name in ("gru", "lstm", "melstm-var") else ("padded",)):
                med, low, utts = time_case(name, variant, a.steps, a.warmup)
                print("RESULT model=%s variant=%s threads=%d median_ms=%.3f min_ms=%.3f utts=%d" %
                      (name, variant, threads, med, low, utts))
                sys.stdout.flush()
    # Threads this process ended with (main + OpenMP + OpenBLAS workers): a
    # check that --threads 1 really ran on one thread.
    print("INFO threads %s: %d OS threads at exit, OPENBLAS_NUM_THREADS=%s" %
          (a.threads, len(os.listdir("/proc/self/task")), os.environ.get("OPENBLAS_NUM_THREADS", "(unset)")))


if __name__ == "__main__":
    main()
