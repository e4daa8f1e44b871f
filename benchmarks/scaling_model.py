#!/usr/bin/env python3
"""The scaling model of docs/CLUSTER.md: step time of synchronous data
parallelism over p machines, on paper.

A step on p machines = the compute of one p-th of the global batch plus the
gradient all-reduce. Ring all-reduce of B bytes (reduce-scatter, then
all-gather, each p - 1 transfers of B/p bytes per machine):

    T_ar(p) = 2 (p - 1) / p * B / bandwidth  +  2 (p - 1) * k * latency

with k the number of separately reduced buckets (1 MiB each, as meld
train's default --bucket-mb 1). Two bounds for the step:

    no overlap      T(p) = T1 / p + T_ar(p)
    full overlap    T(p) = T1 / (3 p) + max(2 T1 / (3 p), T_ar(p))

(backward is about two thirds of a step; the sums can hide behind it, not
behind the forward pass). T1: the step of the whole global batch on one
machine. Efficiency = T1 / (p T(p)). A global batch of n items cannot be
split over more than n machines.

    python3 benchmarks/scaling_model.py [--latency-us 25] [--t1 gru=57,lstm=121,...]
"""
import argparse
import math

# Per model: the megabytes of float gradients all-reduced per step and the
# step of the whole global batch on one machine (T1, ms), both as
# `build-mpi/bench train --mpi --rounds 3` measured them on a 2-core AMD EPYC
# (Zen 5) VM, ISA avx512 (the "1 process x 2 threads" column; that machine
# was loaded by other work: load average 5-10), and the items of the global
# batch (./bench train's batches). --t1 replaces the step times.
MODELS = [
    # name, MB all-reduced, T1 ms, items per global batch
    ("lstm", 27.05, 751.5, 50),
    ("gru", 13.80, 263.1, 50),
    ("melstm", 2.41, 627.3, 32),
    ("cnn", 1.22, 147.4, 32),
    ("fusion", 2.08, 713.2, 32),
]
LINKS_GBIT = [10, 25, 100]
MACHINES = [2, 4, 8, 16, 32, 64]
BUCKET = 1 << 20


def allreduce_s(nbytes, p, gbit, latency_s):
    k = max(1, math.ceil(nbytes / BUCKET))
    return 2 * (p - 1) / p * nbytes / (gbit * 1e9 / 8) + 2 * (p - 1) * k * latency_s


def step_s(t1, nbytes, p, gbit, latency_s, overlap):
    ar = allreduce_s(nbytes, p, gbit, latency_s)
    if not overlap:
        return t1 / p + ar
    return t1 / (3 * p) + max(2 * t1 / (3 * p), ar)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-us", type=float, default=25.0, help="per message, TCP over Ethernet: ~25 us")
    ap.add_argument("--t1", default="", help="step ms on one machine per model, e.g. gru=57,lstm=121")
    a = ap.parse_args()
    t1 = {name: ms for name, _, ms, _ in MODELS}
    t1.update((kv.split("=")[0], float(kv.split("=")[1])) for kv in a.t1.split(",") if kv)
    lat = a.latency_us * 1e-6
    print("| model | MB all-reduced | T1 ms | link | " + " | ".join(f"p={p}" for p in MACHINES) + " | scaling stops |")
    print("|---|---|---|---|" + "---|" * len(MACHINES) + "---|")
    for name, mb, _, items in MODELS:
        t = float(t1[name]) * 1e-3
        nbytes = mb * 1e6
        for gbit in LINKS_GBIT:
            cells, best_p, best_t = [], 1, t
            for p in MACHINES:
                if p > items:
                    cells.append("–")
                    continue
                lo = step_s(t, nbytes, p, gbit, lat, True)
                hi = step_s(t, nbytes, p, gbit, lat, False)
                eff = t / (p * hi)
                cells.append(f"{hi * 1e3:.1f} ({eff:.0%})" + (f" / {lo * 1e3:.1f}" if abs(lo - hi) > 5e-5 else ""))
                if hi < best_t:
                    best_p, best_t = p, hi
            # Where adding machines stops paying: efficiency (no overlap) under 50 %.
            half = next((p for p in MACHINES if p <= items and t / (p * step_s(t, nbytes, p, gbit, lat, False)) < 0.5),
                        None)
            stop = f"fastest at p={best_p}; <50% from p={half}" if half else f"fastest at p={best_p}"
            print(f"| {name} | {nbytes / 1e6:.2f} | {t * 1e3:.0f} | {gbit} Gb/s | " + " | ".join(cells) + f" | {stop} |")


if __name__ == "__main__":
    main()
