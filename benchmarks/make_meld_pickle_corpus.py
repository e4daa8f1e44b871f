#!/usr/bin/python3
"""A corpus shaped like MELD with its released audio features, for timing
`meld train --features meld-pickle` at full size (MELD's own pickles are
not public in the way the CSVs are, and the vectors here are generated).

Takes MELD's three annotation CSVs (their dialogue structure and labels:
9,989 / 1,109 / 2,610 utterances) and writes into OUT:
  - the three CSVs, copied unchanged;
  - audio_embeddings_feature_selection_emotion.pkl (1,611 values per
    utterance) and ..._sentiment.pkl (1,422), laid out as MELD's are:
    (train, dev, test), three dicts "<dialogue>_<utterance>" -> numpy
    array, written opcode by opcode the way Python 2 pickles them
    (tests/fixtures/make_pickle_fixtures.py, Py2Stream).
Each vector is N(0, 1) noise plus a fixed random pattern of its class scaled
by --signal, so a model can learn something but not everything. --drop
leaves that share of utterances without a vector (they are masked).

    /usr/bin/python3 benchmarks/make_meld_pickle_corpus.py --csv DIR --out OUT
    ./meld train --features meld-pickle --data OUT --model gru --task emotion

The corpus is large (about 90 MB per file as float32 at protocol 2, four
times that at protocol 0): generate it, do not commit it.
"""
import argparse
import csv
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from make_pickle_fixtures import Py2Stream  # noqa: E402

SPLITS = ("train", "dev", "test")
EMOTIONS = ["neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust"]
SENTIMENTS = ["neutral", "positive", "negative"]
TASKS = {"emotion": (1611, EMOTIONS, "Emotion"), "sentiment": (1422, SENTIMENTS, "Sentiment")}


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(int(r["Dialogue_ID"]), int(r["Utterance_ID"]), r["Emotion"].strip().lower(),
                 r["Sentiment"].strip().lower()) for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True, help="folder with train/dev/test_sent_emo.csv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--protocol", type=int, default=2, choices=(0, 1, 2))
    ap.add_argument("--dtype", default="<f4", choices=("<f4", ">f4", "<f8", ">f8"))
    ap.add_argument("--signal", type=float, default=0.05, help="class pattern scale (noise is 1)")
    ap.add_argument("--drop", type=float, default=0.001, help="share of utterances without a vector")
    ap.add_argument("--seed", type=int, default=23)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    rows = {}
    for s in SPLITS:
        name = "%s_sent_emo.csv" % s
        shutil.copyfile(os.path.join(a.csv, name), os.path.join(a.out, name))
        rows[s] = read_rows(os.path.join(a.csv, name))
    dropped = {s: {(d, u) for d, u, _, _ in rows[s] if rng.random() < a.drop} for s in SPLITS}
    for task, (dim, labels, _) in TASKS.items():
        patterns = rng.standard_normal((len(labels), dim)).astype(np.float32)
        dicts = []
        for s in SPLITS:
            out = {}
            for d, u, emotion, sentiment in rows[s]:
                if (d, u) in dropped[s]:
                    continue
                label = labels.index(emotion if task == "emotion" else sentiment)
                v = rng.standard_normal(dim).astype(np.float32) + a.signal * patterns[label]
                out["%d_%d" % (d, u)] = v.astype(a.dtype)
            dicts.append(out)
        path = os.path.join(a.out, "audio_embeddings_feature_selection_%s.pkl" % task)
        with open(path, "wb") as f:
            f.write(Py2Stream(a.protocol).dump(tuple(dicts)))
        print("%s: %d / %d / %d vectors of %d values, %.1f MB" % (
            path, *(len(x) for x in dicts), dim, os.path.getsize(path) / 1e6))
    print("without a vector (masked): %s" % ", ".join("%s %d" % (s, len(dropped[s])) for s in SPLITS))


if __name__ == "__main__":
    main()
