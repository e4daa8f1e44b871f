#!/usr/bin/python3
"""Times OpenCV's face detection on the frames ./bench video just timed, in the same run.

Usage (./bench video runs this itself):
    /usr/bin/python3 benchmarks/opencv_detect.py FRAMES.rgb WIDTH HEIGHT COUNT REPEATS THREADS MINSIZE \\
        CASCADE.xml FIXTURES_DIR

FRAMES.rgb holds COUNT frames of WIDTH x HEIGHT RGB bytes, one after the
other. With cv2.setNumThreads(THREADS), CascadeClassifier(CASCADE.xml)
.detectMultiScale(frame, scaleFactor=1.1, minNeighbors=3, minSize=(MINSIZE,
MINSIZE)) runs on each frame (as BGR, converted to grey by OpenCV itself,
as a Python user would call it), once to warm up, then REPEATS passes over
all frames. Then the same detector, at full resolution, on each fixture of
FIXTURES_DIR/faces_truth.txt, scored against its hand-labelled faces.
Machine-readable lines:
    opencv_version V
    frame_ms MEDIAN MIN CPU    (per frame, over the passes; CPU: the median
                               pass's process CPU time, all threads)
    boxes I N x y w h ...      (frame I's faces, for the agreement check)
    recall FOUND TOTAL         (labelled faces with a detection of IoU >= 0.5)
Exit status 3 if cv2 or numpy cannot be imported (the bench reports a skip).
"""
import os
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:  # the bench prints our message and carries on
    print("skip: %s" % e)
    sys.exit(3)


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def recall(cascade, fixtures):
    found = total = 0
    with open(os.path.join(fixtures, "faces_truth.txt")) as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            n = int(fields[2])
            truth = [tuple(int(v) for v in fields[3 + 4 * i: 7 + 4 * i]) for i in range(n)]
            image = cv2.imread(os.path.join(fixtures, fields[0]), cv2.IMREAD_UNCHANGED)
            boxes = [tuple(int(v) for v in b) for b in cascade.detectMultiScale(image, 1.1, 3)]
            total += n
            found += sum(1 for t in truth if any(iou(t, b) >= 0.5 for b in boxes))
    return found, total


def main():
    if len(sys.argv) != 10:
        print(__doc__)
        return 2
    path, width, height, count, repeats, threads, min_size, cascade_path, fixtures = sys.argv[1:]
    width, height, count, repeats, threads, min_size = (int(v) for v in (width, height, count, repeats, threads,
                                                                          min_size))
    cv2.setNumThreads(threads)
    cascade = cv2.CascadeClassifier(cascade_path)
    if cascade.empty():
        print("skip: cannot load %s" % cascade_path)
        return 3
    rgb = np.fromfile(path, np.uint8).reshape(count, height, width, 3)
    frames = [np.ascontiguousarray(f[:, :, ::-1]) for f in rgb]   # BGR, as cv2.imread gives

    def detect(frame):
        return cascade.detectMultiScale(frame, scaleFactor=1.1, minNeighbors=3, minSize=(min_size, min_size))

    results = [detect(f) for f in frames]   # warm-up, and the boxes
    per_frame, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        for f in frames:
            detect(f)
        per_frame.append((time.perf_counter() - t) * 1e3 / count)
        cpu.append((time.process_time() - c) * 1e3 / count)
    per_frame.sort()
    cpu.sort()
    print("opencv_version %s" % cv2.__version__)
    print("frame_ms %.3f %.3f %.3f" % (per_frame[len(per_frame) // 2], per_frame[0], cpu[len(cpu) // 2]))
    for i, boxes in enumerate(results):
        flat = [str(int(v)) for b in boxes for v in b]
        print("boxes %d %d %s" % (i, len(boxes), " ".join(flat)))
    found, total = recall(cascade, fixtures)
    print("recall %d %d" % (found, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
