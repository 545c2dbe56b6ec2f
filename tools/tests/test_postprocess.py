#!/usr/bin/python3
"""postprocess.py unit checks: DFL decode of hand-made logits, anchors and strides, class-aware
NMS on hand-made boxes, max_det, un-letterbox and clipping."""
from __future__ import annotations

import sys

from _setup import need

need("numpy")
import numpy as np  # noqa: E402

from bitfalcon.letterbox import letterbox_params  # noqa: E402
from bitfalcon.postprocess import Level, dfl_decode, nms, postprocess, unletterbox  # noqa: E402


def close(a, b, tol=1e-9) -> bool:
    return bool(np.all(np.abs(np.asarray(a, float) - np.asarray(b, float)) <= tol))


def main() -> int:
    R = 16
    # DFL: a huge logit on one bin gives that bin; equal logits give the mean 7.5;
    # two equal peaks at bins 2 and 5 give 3.5.
    z = np.full(4 * R, -1e4)
    z[0 * R + 3] = 50          # left   -> 3
    z[1 * R:2 * R] = 0.0       # top    -> 7.5
    z[2 * R + 2] = z[2 * R + 5] = 10   # right -> 3.5
    z[3 * R + 15] = 9          # bottom -> 15
    d = dfl_decode(z[None], R)[0]
    assert close(d, [3, 7.5, 3.5, 15], 1e-6), d
    # softmax weights of logits [0, ln 3] on bins 0, 1 -> 0.75
    z2 = np.full(4 * R, -1e4)
    z2[:2] = [0.0, np.log(3.0)]
    z2[R:2 * R] = z2[2 * R:3 * R] = z2[3 * R:] = 0.0
    assert close(dfl_decode(z2[None], R)[0][0], 0.75, 1e-12)
    print("DFL decode OK")

    # one level, stride 8, 2x3 grid; a single confident cell at (gy=1, gx=2)
    box = np.full((2, 3, 4 * R), -1e4)
    for side, v in enumerate([1, 2, 3, 4]):
        box[1, 2, side * R + v] = 100
    cls = np.full((2, 3, 5), -20.0)
    cls[1, 2, 3] = 0.0         # sigmoid 0.5, class 3
    cls[1, 2, 1] = -0.1
    dets = postprocess([Level(8, box, cls)], None, conf=0.25)
    assert len(dets) == 1 and dets[0].class_id == 3 and close(dets[0].score, 0.5)
    ax, ay = 2.5, 1.5
    want = [(ax - 1) * 8, (ay - 2) * 8, (ax + 3) * 8, (ay + 4) * 8]
    assert close([dets[0].x0, dets[0].y0, dets[0].x1, dets[0].y1], want, 1e-9), dets[0]
    assert postprocess([Level(8, box, cls)], None, conf=0.51) == []
    print("decode / anchors OK")

    # NMS: class-aware, greedy by score, suppression when IoU > thr
    boxes = np.array([[0, 0, 10, 10],      # 0 score .9 class 0
                      [1, 0, 11, 10],      # 1 .8 class 0, IoU with 0 = 90/110 = .818 -> suppressed
                      [1, 0, 11, 10],      # 2 .7 class 1 -> kept (other class)
                      [5, 0, 15, 10],      # 3 .6 class 0, IoU with 0 = 50/150 -> kept
                      [20, 20, 30, 30],    # 4 .95 class 0 -> kept, first
                      [0, 0, 10, 10.0]])   # 5 .5 class 0 identical to 0 -> suppressed
    scores = np.array([.9, .8, .7, .6, .95, .5])
    classes = np.array([0, 0, 1, 0, 0, 0])
    keep = nms(boxes, scores, classes, 0.7, 300)
    assert list(keep) == [4, 0, 2, 3], keep
    assert list(nms(boxes, scores, classes, 0.85, 300)) == [4, 0, 1, 2, 3], nms(boxes, scores, classes, 0.85, 300)
    assert list(nms(boxes, scores, classes, 0.7, 2)) == [4, 0]
    # exactly-at-threshold IoU is not suppressed (IoU > thr suppresses)
    b2 = np.array([[0, 0, 10, 10], [0, 0, 10, 5.0]])    # IoU 0.5
    assert list(nms(b2, np.array([.9, .8]), np.array([0, 0]), 0.5, 300)) == [0, 1]
    print("NMS OK")

    # un-letterbox: 200x100 image into 64 -> r 0.32, nw 64, nh 32, left 0, top 16
    lp = letterbox_params(200, 100, 64)
    assert (lp.nw, lp.nh, lp.left, lp.top) == (64, 32, 0, 16)
    ub = unletterbox(np.array([[-5.0, 16.0, 32.0, 48.0], [10, 20, 70, 60]]), lp)
    assert close(ub[0], [0, 0, 100, 100]), ub
    assert close(ub[1], [31.25, 12.5, 200, 100]), ub
    print("un-letterbox OK")

    # multi-label (bitfalcon eval / yolo val): the C test test_evalproto's 2x1 head, 3 classes, reg_max 1:
    # class logits cell 0: 2, 0, -9; cell 1: 1, 3, -9; conf .5 -> single-label 2 boxes, multi-label 4
    lv = Level(8, np.zeros((1, 2, 4)), np.array([[[2.0, 0.0, -9.0], [1.0, 3.0, -9.0]]]))
    single = postprocess([lv], None, conf=0.5, iou=0.7, max_det=300, reg_max=1)
    assert [(d.class_id, d.x0) for d in single] == [(1, 12.0), (0, 4.0)], single
    multi = postprocess([lv], None, conf=0.5, iou=0.7, max_det=300, reg_max=1, multi_label=True)
    assert [(d.class_id, d.x0) for d in multi] == [(1, 12.0), (0, 4.0), (0, 12.0), (1, 4.0)], multi
    print("multi-label OK")
    print("postprocess OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
