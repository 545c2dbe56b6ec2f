#!/usr/bin/env python3
"""Runs examples/detect_image and examples/detect_buffer on images and checks
that they print the boxes `bitfalcon detect --json` finds on the same images:
the same classes in the same order, scores and corners equal to the printed
precision (3 decimals, 0.1 px). Also the boxes every shipped-model run must
find on assets/ (a person on astronaut, a cat on chelsea, a cup on coffee),
inside the image, and the examples' refusals (usage, a missing file, a
truncated image, a missing model).

    check_examples.py --bitfalcon BF --model M --to-ppm TO_PPM --work DIR
                      [--detect-image P] [--detect-buffer P] IMAGE...

Exit 0 when every check holds, 1 with the differences otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

# What the shipped model finds on assets/ (README, out/assets.json).
EXPECTED = {"astronaut.jpg": "person", "chelsea.jpg": "cat", "coffee.jpg": "cup"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(cmd, expect_rc=0):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != expect_rc:
        fail("%s: exit %d, expected %d; stderr: %s" % (" ".join(cmd), p.returncode, expect_rc, p.stderr.strip()))
    return p


def parse_example(out):
    """'name score x0 y0 x1 y1' lines; a name may hold spaces ("dining table")."""
    boxes = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 6:
            raise ValueError("bad line: %r" % line)
        boxes.append((" ".join(f[:-5]), float(f[-5]), [float(v) for v in f[-4:]]))
    return boxes


def ppm_size(path):
    with open(path, "rb") as f:
        head = f.read(64).split()
    assert head[0] == b"P6", path
    return int(head[1]), int(head[2])


def compare(label, got, want, size):
    if len(got) != len(want):
        fail("%s: %d boxes, bitfalcon detect has %d:\n  %s\n  %s" % (label, len(got), len(want), got, want))
        return
    w, h = size
    for i, ((gn, gs, gb), (wn, ws, wb)) in enumerate(zip(got, want)):
        # Printed with %.3f and %.1f: half a unit of the last digit, plus float slack.
        if gn != wn or abs(gs - ws) > 0.00051 or any(abs(a - b) > 0.051 for a, b in zip(gb, wb)):
            fail("%s box %d: %s %.3f %s, bitfalcon detect: %s %.6f %s" % (label, i, gn, gs, gb, wn, ws, wb))
        x0, y0, x1, y1 = gb
        if not (0 <= x0 < x1 <= w + 0.05 and 0 <= y0 < y1 <= h + 0.05 and 0 < gs <= 1):
            fail("%s box %d: %s %.3f %s is not inside the %dx%d image" % (label, i, gn, gs, gb, w, h))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitfalcon", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--to-ppm", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--detect-image")
    ap.add_argument("--detect-buffer")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    if not os.path.exists(a.model):
        print("no model %s: skipped" % a.model)
        return 77
    os.makedirs(a.work, exist_ok=True)

    # The reference: the program's own detections, in original-image pixels.
    ref_json = os.path.join(a.work, "cli.json")
    run([a.bitfalcon, "detect", "-m", a.model, "--json", ref_json] + a.images)
    want = {}
    with open(ref_json) as f:
        for d in json.load(f):
            x, y, w, h = d["bbox"]
            want.setdefault(d["file"], []).append((d["name"], d["score"], [x, y, x + w, y + h]))

    checked = 0
    for img in a.images:
        base = os.path.basename(img)
        ppm = os.path.join(a.work, base + ".ppm")
        run([a.to_ppm, img, ppm])
        size = ppm_size(ppm)
        ref = want.get(img, [])
        if base in EXPECTED and EXPECTED[base] not in [n for n, _, _ in ref]:
            fail("%s: bitfalcon detect finds no %s (%s)" % (img, EXPECTED[base], ref))
        for prog, arg in ((a.detect_image, img), (a.detect_buffer, ppm)):
            if not prog:
                continue
            p = run([prog, a.model, arg])
            try:
                got = parse_example(p.stdout)
            except ValueError as e:
                fail("%s %s: %s" % (prog, arg, e))
                continue
            compare("%s %s" % (os.path.basename(prog), base), got, ref, size)
            checked += len(got)
    if checked == 0:
        fail("no box printed at all")

    # Refusals: a one-line message and exit 1 (2 for usage), never a crash.
    for prog, suffix in ((a.detect_image, ".jpg"), (a.detect_buffer, ".ppm")):
        if not prog:
            continue
        run([prog], expect_rc=2)
        missing = os.path.join(a.work, "missing" + suffix)
        p = run([prog, a.model, missing], expect_rc=1)
        if missing not in p.stderr:
            fail("%s on a missing file: stderr %r does not name it" % (prog, p.stderr))
        src = a.images[0] if suffix == ".jpg" else os.path.join(a.work, os.path.basename(a.images[0]) + ".ppm")
        with open(src, "rb") as f:
            data = f.read()
        cut = os.path.join(a.work, "truncated" + suffix)
        with open(cut, "wb") as f:
            f.write(data[: len(data) // 2])
        run([prog, a.model, cut], expect_rc=1)
        nomodel = os.path.join(a.work, "no-such-model.bfm")
        p = run([prog, nomodel, a.images[0] if suffix == ".jpg" else src], expect_rc=1)
        if nomodel not in p.stderr:
            fail("%s with a missing model: stderr %r does not name it" % (prog, p.stderr))

    print("%d boxes compared, %d failures" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
