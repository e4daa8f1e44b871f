#!/usr/bin/python3
"""Times torchaudio 0.13 on the input ./bench audio just timed, in the same run.

Usage (./bench audio runs this itself):
    /usr/bin/python3 benchmarks/torchaudio_logmel.py SIGNAL.wav OURS.npy [REPEATS]

SIGNAL.wav is the bench's 16 kHz float WAV, OURS.npy meld-c's 80-band
log-Mel of it. On one thread (torch.set_num_threads(1)) it times
    log-Mel: MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=80)
             then .clamp(min=1e-10).log()   (what meld-c's spectral_log_mel computes)
    MFCC:    MFCC(16000, n_mfcc=13, melkwargs=dict(n_fft=400, hop_length=160, n_mels=40))
after one warm-up call each, and prints machine-readable lines:
    logmel80_ms MEDIAN MIN
    mfcc13_ms MEDIAN MIN
    logmel80_max_abs_diff D     (meld-c vs torchaudio on this input, natural-log units)
Exit status 3 if torch or torchaudio cannot be imported (the bench reports a skip).
"""
import sys
import time

try:
    import numpy as np
    import torch
    import torchaudio
except ImportError as e:  # the bench prints our message and carries on
    print("skip: %s" % e)
    sys.exit(3)


def time_ms(fn, repeats):
    fn()  # warm-up: first call allocates and initialises
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2], times[0]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    torch.set_num_threads(1)
    wave, sr = torchaudio.load(sys.argv[1])
    x = wave[0]
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=sr, n_fft=400, hop_length=160, n_mels=80)
    mfcc = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=13,
                                      melkwargs=dict(n_fft=400, hop_length=160, n_mels=40))
    with torch.no_grad():
        med, low = time_ms(lambda: mel(x).clamp(min=1e-10).log(), repeats)
        print("logmel80_ms %.4f %.4f" % (med, low))
        med, low = time_ms(lambda: mfcc(x), repeats)
        print("mfcc13_ms %.4f %.4f" % (med, low))
        ref = mel(x).clamp(min=1e-10).log().T.numpy()
    ours = np.load(sys.argv[2])
    if ours.shape != ref.shape:
        print("logmel80_shape_mismatch %s %s" % (ours.shape, ref.shape))
        return 1
    print("logmel80_max_abs_diff %.3g" % np.abs(ours - ref).max())
    return 0


if __name__ == "__main__":
    sys.exit(main())
