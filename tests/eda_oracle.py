#!/usr/bin/env python3
"""Independent computation of the `meld eda` numbers, with Python's csv module.

The C test tests/test_pipeline_eda.c compares what pipeline/eda/eda.c computes
with the files this script writes, key by key (both ways: a key the C code
emits that is not here fails too). It shares no code with the C side; the
definitions are the ones in pipeline/eda/eda.h:

  words       runs of characters other than space, \\t, \\n, \\v, \\f, \\r
  shifts      per dialogue (sorted by Utterance_ID), remember each speaker's
              last emotion; a new utterance of that speaker with another
              emotion is a shift
  durations   EndTime - StartTime; <= 0 or > 60 s are issues, the rest make
              the mean and max
  gaps        ids missing from 0..max (utterances per dialogue, dialogues
              per split)
  weights     N / (K * n_c)

How it was run (from the repository root; CI never runs Python):

    /usr/bin/python3 tests/eda_oracle.py ../shared/meld \\
        tests/fixtures/pipeline/meld_eda_expected.txt
    /usr/bin/python3 tests/eda_oracle.py tests/fixtures/pipeline/eda_tiny \\
        tests/fixtures/pipeline/eda_tiny_expected.txt

Output: one "key value" pair per line, e.g. "train.emotion.joy 1743".
Integers are exact; floats are written with repr() and compared with a
relative tolerance of 1e-9.
"""
import csv
import math
import re
import sys

EMOTIONS = ["neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust"]
SENTIMENTS = ["neutral", "positive", "negative"]
SPLITS = ["train", "dev", "test"]
WORD_BINS = 101       # 0..99 exact, 100 = "100 or more" (EDA_WORD_BINS)
DIALOGUE_BINS = 65    # 0..63 exact, 64 = "64 or more" (EDA_DIALOGUE_BINS)
TIME = re.compile(r"^ *(\d{1,2}):(\d\d):(\d\d)[,.](\d{1,3}) *$")
WORD = re.compile(r"[^ \t\n\v\f\r]+")


def ms(stamp):
    m = TIME.match(stamp)
    h, mi, s, frac = m.groups()
    assert int(mi) < 60 and int(s) < 60, stamp
    return ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0"))


def read_split(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        r = {k.strip(): v for k, v in r.items()}
        out.append({
            "dia": int(r["Dialogue_ID"]), "utt": int(r["Utterance_ID"]),
            "speaker": r["Speaker"], "text": r["Utterance"],
            "emo": r["Emotion"].strip().lower(), "sent": r["Sentiment"].strip().lower(),
            "start": ms(r["StartTime"]), "end": ms(r["EndTime"]),
        })
    return out


class Stats:
    def __init__(self):
        self.rows = []
        self.dialogues = []   # lists of rows sorted by utt
        self.missing_dialogue_ids = 0


def split_stats(rows):
    st = Stats()
    st.rows = rows
    by_dia = {}
    for r in rows:
        by_dia.setdefault(r["dia"], []).append(r)
    for d in sorted(by_dia):
        st.dialogues.append(sorted(by_dia[d], key=lambda r: r["utt"]))
    if by_dia:
        st.missing_dialogue_ids = max(by_dia) + 1 - len(by_dia)
    return st


def ratio(a, b):
    return a / b if b else None


def emit(out, prefix, sts):
    rows = [r for st in sts for r in st.rows]
    dialogues = [d for st in sts for d in st.dialogues]
    n = len(rows)
    put = lambda k, v: out.append((prefix + "." + k, v))
    put("utterances", n)
    put("dialogues", len(dialogues))
    put("speakers", len({r["speaker"] for r in rows}))
    put("max_dialogue_length", max((len(d) for d in dialogues), default=0))
    emo = {e: sum(r["emo"] == e for r in rows) for e in EMOTIONS}
    sent = {s: sum(r["sent"] == s for r in rows) for s in SENTIMENTS}
    for e in EMOTIONS:
        put("emotion." + e, emo[e])
    for s in SENTIMENTS:
        put("sentiment." + s, sent[s])
    for s in SENTIMENTS:
        for e in EMOTIONS:
            put("sentiment_emotion.%s.%s" % (s, e), sum(r["sent"] == s and r["emo"] == e for r in rows))
    words = [len(WORD.findall(r["text"])) for r in rows]
    put("mean_words", ratio(sum(words), n))
    put("max_words", max(words, default=0))
    hist = [0] * WORD_BINS
    for w in words:
        hist[min(w, WORD_BINS - 1)] += 1
    for i, c in enumerate(hist):
        if c:
            put("words_histogram.%d" % i, c)
    for e in EMOTIONS:
        put("mean_words_per_emotion." + e,
            ratio(sum(w for w, r in zip(words, rows) if r["emo"] == e), emo[e]))
    for s in SENTIMENTS:
        put("mean_words_per_sentiment." + s,
            ratio(sum(w for w, r in zip(words, rows) if r["sent"] == s), sent[s]))
    put("mean_emotions_per_dialogue", ratio(sum(len({r["emo"] for r in d}) for d in dialogues), len(dialogues)))
    dhist = [0] * DIALOGUE_BINS
    for d in dialogues:
        dhist[min(len(d), DIALOGUE_BINS - 1)] += 1
    for i, c in enumerate(dhist):
        if c:
            put("dialogue_length_histogram.%d" % i, c)
    shifts = pairs = 0
    for d in dialogues:
        last = {}
        for r in d:
            if r["speaker"] in last:
                pairs += 1
                shifts += last[r["speaker"]] != r["emo"]
            last[r["speaker"]] = r["emo"]
    put("emotion_shifts", shifts)
    put("same_speaker_pairs", pairs)
    durs = [r["end"] - r["start"] for r in rows]
    ok = [x for x in durs if 0 < x <= 60000]
    put("mean_duration_s", ratio(sum(ok), len(ok)) / 1000 if ok else None)
    put("max_duration_s", max(ok) / 1000 if ok else None)
    put("duration_issues", len(durs) - len(ok))
    gaps = [d[-1]["utt"] + 1 - len(d) for d in dialogues]
    put("gap_dialogues", sum(g > 0 for g in gaps))
    put("missing_utterance_ids", sum(gaps))
    put("missing_dialogue_ids", sum(st.missing_dialogue_ids for st in sts))
    for name, counts in (("emotion", emo), ("sentiment", sent)):
        lo, hi = min(counts.values()), max(counts.values())
        put("imbalance_ratio." + name, (hi / lo if lo else math.inf) if hi else None)
        for c, k in counts.items():
            put("class_weights.%s.%s" % (name, c), n / (len(counts) * k) if k else None)
    if len(sts) == 1:
        # per-split issue lists
        for r, x in zip(rows, durs):
            if not 0 < x <= 60000:
                put("duration_issue.%d.%d" % (r["dia"], r["utt"]), x / 1000)
        present = {d[0]["dia"] for d in dialogues}
        for i in range(max(present, default=-1) + 1):
            if i not in present:
                put("missing_dialogue_id.%d" % i, 1)
        for d, g in zip(dialogues, gaps):
            if g:
                put("gap.%d" % d[0]["dia"], g)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out_path = sys.argv[1], sys.argv[2]
    out, sts = [], []
    for s in SPLITS:
        rows = read_split("%s/%s_sent_emo.csv" % (root, s))
        st = split_stats(rows)
        sts.append(st)
        emit(out, s, [st])
    emit(out, "all", sts)
    with open(out_path, "w") as f:
        for k, v in out:
            if v is None:
                v = "nan"
            elif isinstance(v, float) and math.isinf(v):
                v = "inf"
            f.write("%s %s\n" % (k, repr(v) if isinstance(v, float) else v))
    print("%s: %d values" % (out_path, len(out)))


if __name__ == "__main__":
    main()
