#!/usr/bin/python3
"""The features `meld prepare` makes, made the way a Python user would, timed.

Usage (./bench prepare runs this itself, on the same clips, in the same run):
    /usr/bin/python3 benchmarks/opencv_prepare.py CLIPS.txt PROCESSES K SIZE N_MELS DETECT_SIDE MIN_FACE CASCADE

CLIPS.txt lists one MP4 path a line. For every clip:
    video  cv2.VideoCapture: CAP_PROP_FRAME_COUNT frames, the K chosen as
           meld does (frame floor((2k + 1) N / 2K)), every frame grab()bed
           in order and only the chosen ones retrieve()d (the cheapest way
           through a clip with OpenCV); each chosen frame to grey, shrunk
           (INTER_AREA) so its short side is DETECT_SIDE, CascadeClassifier
           .detectMultiScale(scaleFactor=1.1, minNeighbors=3, minSize = MIN_FACE
           of the short side), the largest face grown by 20% a side to a
           square (the centre square when none), cut from the full frame and
           resized (INTER_AREA) to SIZE x SIZE RGB;
    audio  torchaudio.load (48 kHz stereo AAC), mean of the channels,
           torchaudio.functional.resample to 16 kHz, MelSpectrogram(16000,
           n_fft=400, hop_length=160, n_mels=N_MELS) then log(clamp(1e-10));
           meld's functional vector has no torchaudio counterpart and is
           not computed here (the Python side does less audio work);
    out    the arrays kept in memory, as a training script would.
PROCESSES worker processes (multiprocessing.Pool, clips handed out in
order), each with cv2.setNumThreads(1) and torch.set_num_threads(1), so the
core budget is PROCESSES. Prints one machine-readable line:
    python_prepare_s SECONDS CLIPS FACES_FOUND
Exit status 3 if OpenCV, torch or torchaudio cannot be imported.
"""
import sys
import time

try:
    import cv2
    import numpy as np
    import torch
    import torchaudio
except ImportError as e:  # the bench prints our message and carries on
    print("skip: %s" % e)
    sys.exit(3)

ARGS = {}


def init_worker(args):
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    ARGS.update(args)
    ARGS["cascade"] = cv2.CascadeClassifier(args["cascade_path"])
    ARGS["mel"] = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160,
                                                      n_mels=args["n_mels"])


def face_crop(frame):
    h, w = frame.shape[:2]
    short = min(w, h)
    scale = short / ARGS["detect_side"] if short > ARGS["detect_side"] else 1.0
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (round(w / scale), round(h / scale)), interpolation=cv2.INTER_AREA)
    min_side = max(1, round(ARGS["min_face"] * min(small.shape[:2])))
    faces = ARGS["cascade"].detectMultiScale(small, scaleFactor=1.1, minNeighbors=3, minSize=(min_side, min_side))
    if len(faces):
        x, y, fw, fh = max(faces, key=lambda f: f[2] * f[3]) * scale
        side = min(short, round(max(fw, fh) * 1.4))
        cx, cy = x + fw / 2, y + fh / 2
    else:
        side, cx, cy = short, w / 2, h / 2
    x0 = int(min(max(round(cx - side / 2), 0), w - side))
    y0 = int(min(max(round(cy - side / 2), 0), h - side))
    crop = frame[y0:y0 + side, x0:x0 + side]
    out = cv2.resize(crop, (ARGS["size"], ARGS["size"]), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB), len(faces) > 0


def features(path):
    cap = cv2.VideoCapture(path)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    k = ARGS["k"]
    want = sorted({(2 * i + 1) * n // (2 * k) for i in range(k)})
    crops, found, i = [], 0, 0
    for idx in want:
        while i <= idx and cap.grab():
            if i == idx:
                ok, frame = cap.retrieve()
                if ok:
                    crop, hit = face_crop(frame)
                    crops.append(crop)
                    found += hit
            i += 1
    cap.release()
    wave, sr = torchaudio.load(path)
    mono = torchaudio.functional.resample(wave.mean(0), sr, 16000)
    with torch.no_grad():
        logmel = ARGS["mel"](mono).clamp(min=1e-10).log().T.numpy()
    return np.stack(crops) if crops else None, logmel, found


def main():
    if len(sys.argv) != 9:
        print(__doc__)
        return 2
    clips = [line.strip() for line in open(sys.argv[1]) if line.strip()]
    procs = int(sys.argv[2])
    args = dict(k=int(sys.argv[3]), size=int(sys.argv[4]), n_mels=int(sys.argv[5]),
                detect_side=int(sys.argv[6]), min_face=float(sys.argv[7]), cascade_path=sys.argv[8])
    t = time.perf_counter()
    if procs == 1:
        init_worker(args)
        results = [features(c) for c in clips]
    else:
        import multiprocessing
        with multiprocessing.Pool(procs, initializer=init_worker, initargs=(args,)) as pool:
            results = pool.map(features, clips, chunksize=1)
    seconds = time.perf_counter() - t
    print("python_prepare_s %.4f %d %d" % (seconds, len(results), sum(r[2] for r in results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
