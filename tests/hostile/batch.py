#!/usr/bin/env python3
"""Batch robustness tests of `bitfalcon detect` (docs/batch.md).

    batch.py batch  --count N ...   a folder of N good images (hard links of a
                                    few small ones) with a few dozen hostile
                                    entries mixed in: the run finishes, writes
                                    every good result, lists every bad file with
                                    its cause, exits 1; peak RSS stays flat.
    batch.py resume --count N ...   SIGKILL at a random moment after some outputs
                                    appear: no partial output file; a rerun with
                                    --resume processes only the rest and the
                                    results equal an uninterrupted run's.
    batch.py shard  --count N ...   N=3 shards through GNU parallel (77 without
                                    it) merge to exactly one unsharded run.

Common options: --bitfalcon BIN --mkimage BIN --model FILE --assets DIR
--work DIR [--size 320] [--seed S]. Exit 0 pass, 1 fail, 77 skipped.
The hostile entries, and what each must be reported as:
  zero-byte, truncated JPEG/PNG/BMP, wrong magic, absurd or zero dimensions
  in a JPEG/PNG/BMP header, a FIFO named .jpg, a symlink loop, a dangling
  symlink, and (when not running as root, where mode 000 is still readable)
  an unreadable file. Not errors: a folder named x.jpg (walked like any
  folder: its image is processed), a symlink back to an ancestor folder (a
  cycle: skipped), a PNG named .jpg and a JPEG named .png (content decides),
  hidden files (skipped).
"""
import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def png_bytes(w, h, seed=0):
    """A small RGB PNG, written by hand (no PIL on the CI machine)."""
    rows = b"".join(b"\0" + bytes(((x * 13 + y * 7 + seed) & 255) for x in range(w * 3))
                    for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def png_header_only(w, h):
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)


def bmp_header(w, h, pixel_bytes):
    """A 24-bit BMP header (and pixel_bytes of pixels) claiming w x h."""
    dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    size = 14 + len(dib) + pixel_bytes
    return b"BM" + struct.pack("<IHHI", size, 0, 0, 54) + dib + bytes(pixel_bytes)


def jpeg_with_size(jpg, w, h):
    """The JPEG with its SOF0..SOF2 frame header changed to claim w x h."""
    i = 2
    while i + 4 <= len(jpg):
        if jpg[i] != 0xFF:
            break
        marker, length = jpg[i + 1], struct.unpack(">H", jpg[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return jpg[:i + 5] + struct.pack(">HH", h, w) + jpg[i + 9:]
        i += 2 + length
    raise SystemExit("no SOF marker in the base JPEG")


def is_root_readable_anyway():
    return os.geteuid() == 0


class Tree:
    """The input folder: good images and hostile entries, with what to expect."""

    def __init__(self, work, count, mkimage, assets, with_bad=True, per_dir=100):
        self.root = os.path.join(work, "in")
        base_dir = os.path.join(work, "base")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(self.root)
        os.makedirs(base_dir)
        self.base = []
        for name in sorted(os.listdir(assets)):
            if not name.endswith(".jpg"):
                continue
            out = os.path.join(base_dir, name)
            subprocess.run([mkimage, os.path.join(assets, name), out, "160"], check=True)
            self.base.append(out)
        if not self.base:
            raise SystemExit("no .jpg files in " + assets)
        png = os.path.join(base_dir, "synthetic.png")
        with open(png, "wb") as f:
            f.write(png_bytes(48, 32))
        self.good = {}    # relative path -> base file it is a link of
        self.bad = {}     # relative path -> regex its cause must match
        self.notes = []
        for i in range(count - 3):
            rel = "d%03d/img%05d.jpg" % (i // per_dir, i)
            self._link(self.base[i % len(self.base)], rel)
        # Content decides, not the name; a folder named like an image is a folder.
        self._link(png, "d000/png-named.jpg")
        self._link(self.base[0], "d000/jpeg-named.png")
        self._link(self.base[1], "d000/x.jpg/inside.jpg")
        os.symlink("..", os.path.join(self.root, "d000", "back-to-root"))  # a cycle: skipped
        with open(os.path.join(self.root, "d000", ".hidden.jpg"), "wb") as f:
            f.write(b"hidden files are skipped")
        if with_bad:
            self._add_bad()

    def _link(self, src, rel):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.link(src, path)
        self.good[rel] = src

    def _add_bad(self):
        jpg = open(self.base[0], "rb").read()
        png = png_bytes(48, 32)
        kinds = [
            ("zero.jpg", b"", r"^empty file \(0 bytes\)$"),
            ("truncated-jpeg.jpg", jpg[:len(jpg) // 2], r"^JPEG is truncated or corrupt: "),
            ("header-only.jpg", jpg[:300], r"^JPEG (header )?is (corrupt or )?truncated"),
            ("wrong-magic.jpg", b"GIF89a this is not one of ours" * 3, r"^not a JPEG, PNG or BMP image"),
            ("text.png", b"hello\n", r"^not a JPEG, PNG or BMP image"),
            ("huge-side.png", png_header_only(100000, 100000) + b"\0" * 8, r"larger than the 16384 pixel limit"),
            ("huge-area.png", png_header_only(16000, 16000) + b"\0" * 8, r"megapixel limit"),
            ("zero-size.png", png_header_only(0, 10) + b"\0" * 8, r"invalid size 0x10"),
            ("truncated-png.png", png[:70], r"^PNG is corrupt or truncated"),
            ("huge-jpeg.jpg", jpeg_with_size(jpg, 60000, 60000), r"larger than the 16384 pixel limit"),
            ("huge-bmp.bmp", bmp_header(30000, 30000, 64), r"larger than the 16384 pixel limit"),
            ("truncated-bmp.bmp", bmp_header(64, 64, 100), r"^BMP is truncated: "),
        ]
        n = 0
        for copy in range(3):
            folder = "d%03d" % (copy + 1)
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            for name, data, cause in kinds:
                rel = "%s/bad-%d-%s" % (folder, copy, name)
                with open(os.path.join(self.root, rel), "wb") as f:
                    f.write(data)
                self.bad[rel] = cause
                n += 1
            specials = [("fifo.jpg", lambda p: os.mkfifo(p), r"^not a regular file$"),
                        ("loop.jpg", lambda p: os.symlink(os.path.basename(p), p),
                         r"^too many levels of symbolic links$"),
                        ("dangling.jpg", lambda p: os.symlink("does-not-exist.jpg", p),
                         r"^broken symbolic link$")]
            for name, make, cause in specials:
                rel = "%s/bad-%d-%s" % (folder, copy, name)
                make(os.path.join(self.root, rel))
                self.bad[rel] = cause
            rel = "%s/bad-%d-unreadable.jpg" % (folder, copy)
            path = os.path.join(self.root, rel)
            shutil.copyfile(self.base[0], path)
            os.chmod(path, 0)
            if is_root_readable_anyway():
                # root reads mode-000 files: it is a good image then.
                self.good[rel] = self.base[0]
                if copy == 0:
                    self.notes.append("running as root: mode-000 files are readable, "
                                      "the unreadable-file case is not tested")
            else:
                self.bad[rel] = r"^Permission denied$"


def out_rel(rel, ext):
    return os.path.splitext(rel)[0] + ext


def parse_failures(stderr_text, prefix):
    """'bitfalcon: PATH: CAUSE' lines -> {relative path: cause}; other lines listed apart."""
    got, other = {}, []
    for line in stderr_text.splitlines():
        m = re.match(r"^bitfalcon: (.*?): (.*)$", line)
        if m and m.group(1).startswith(prefix):
            rel = m.group(1)[len(prefix):]
            check(rel not in got, "%s reported twice" % rel)
            got[rel] = m.group(2)
        else:
            other.append(line)
    return got, other


def check_failures(tree, stderr_text):
    got, other = parse_failures(stderr_text, tree.root + "/")
    check(not other, "unexpected stderr lines: %r" % other[:5])
    for rel, cause in tree.bad.items():
        if check(rel in got, "bad file %s not reported" % rel):
            check(re.search(cause, got[rel]) is not None,
                  "%s: cause %r does not match %r" % (rel, got[rel], cause))
    extra = sorted(set(got) - set(tree.bad))
    check(not extra, "reported but not bad: %s" % extra[:5])
    return got


def txt_files(out):
    found = {}
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for n in filenames:
            if n.endswith(".txt") and not n.startswith("."):
                p = os.path.join(dirpath, n)
                found[os.path.relpath(p, out)] = p
    return found


def temp_files(out):
    return [os.path.join(d, n) for d, _, ns in os.walk(out) for n in ns if ".tmp-" in n]


def check_txt(path):
    """A YOLO txt with confidences: 'class cx cy w h conf' per line, normalised."""
    text = open(path).read()
    if text and not text.endswith("\n"):
        return False
    for line in text.splitlines():
        f = line.split()
        if len(f) != 6 or not f[0].isdigit():
            return False
        if not all(0.0 <= float(v) <= 1.0 for v in f[1:]):
            return False
    return True


def check_outputs(tree, out, json_path):
    """Every good image has a complete REL.txt, identical among links of one
    base image; no outputs for bad ones; the JSON names good files only."""
    txts = txt_files(out)
    want = {out_rel(r, ".txt") for r in tree.good}
    check(set(txts) == want, "txt outputs: %d missing, %d unexpected (e.g. %s)" % (
        len(want - set(txts)), len(set(txts) - want), sorted(set(txts) ^ want)[:3]))
    by_base = {}
    for rel, src in tree.good.items():
        p = txts.get(out_rel(rel, ".txt"))
        if p is None:
            continue
        content = open(p).read()
        if src in by_base:
            check(by_base[src] == content, "%s differs from other copies of %s" % (rel, src))
        else:
            by_base[src] = content
            check(check_txt(p), "%s is not a valid YOLO txt" % p)
    dets = json.load(open(json_path))
    files = {d["file"] for d in dets}
    good_paths = {os.path.join(tree.root, r) for r in tree.good}
    check(files <= good_paths, "JSON names non-good files: %s" % sorted(files - good_paths)[:3])
    check(not temp_files(out), "temporary files left: %s" % temp_files(out)[:3])
    return dets


class RssSampler:
    """Samples VmRSS of a running process from /proc, with how many images it had
    finished then (its .txt outputs under `out`), so that growth is judged against
    work done, not against wall time: on a loaded machine the first seconds may not
    even reach the first image. The images are counted before the RSS is read, so
    a sample's RSS is from when at least that many were done: counted after, a
    sampler descheduled between the two reads (a loaded machine) credited an RSS
    read during start-up (libraries still mapping) to images done much later."""

    def __init__(self, pid, out):
        self.pid, self.out, self.samples = pid, out, []

    def done(self):
        return len(txt_files(self.out)) if os.path.isdir(self.out) else 0

    def sample(self):
        before = self.done()
        try:
            with open("/proc/%d/status" % self.pid) as f:
                s = f.read()
        except OSError:
            return
        m = re.search(r"VmRSS:\s+(\d+) kB", s)
        h = re.search(r"VmHWM:\s+(\d+) kB", s)
        if m:
            self.samples.append((before, int(m.group(1)), int(h.group(1)) if h else 0))


def run_detect(args, extra, out, stderr_path, sample_rss=False):
    cmd = [args.bitfalcon, "detect", "-m", args.model, "--size", str(args.size),
           "--conf", str(args.conf), "--max-det", "10", "--threads", str(args.threads)] + extra + ["-o", out]
    t0 = time.monotonic()
    with open(stderr_path, "w") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        sampler = RssSampler(p.pid, out)
        # Sampling often enough that even a fast run's tenths get samples (what
        # matters is the images done per sample, never the time between them).
        while p.poll() is None:
            if sample_rss:
                sampler.sample()
            time.sleep(0.1 if sample_rss else 0.2)
    return p.returncode, time.monotonic() - t0, sampler


def cmd_batch(args):
    tree = Tree(args.work, args.count, args.mkimage, args.assets)
    for n in tree.notes:
        print("note: " + n)
    out = os.path.join(args.work, "out")
    js = os.path.join(out, "all.json")
    rc, wall, rss = run_detect(args, ["--txt", "--json", js, tree.root], out,
                               os.path.join(args.work, "stderr.txt"), sample_rss=True)
    err = open(os.path.join(args.work, "stderr.txt")).read()
    check(rc == 1, "exit status %d, expected 1 (some inputs failed)" % rc)
    check_failures(tree, err)
    dets = check_outputs(tree, out, js)
    report_run("batch", args, tree, dets, wall, rss)


def report_run(what, args, tree, dets, wall, rss):
    print("%s: %d good, %d bad, %d detections, %.1f s (%.1f ms/image)" % (
        what, len(tree.good), len(tree.bad), len(dets), wall, 1000 * wall / max(1, len(tree.good))))
    # The baseline is the RSS once a tenth of the images are done: before that the
    # process may still be mapping its libraries (FFmpeg's pull in dozens), reading the
    # model and starting its threads, and any later size would look like growth. The
    # end is the RSS over the last tenth of the images.
    n_good = max(1, len(tree.good))
    early = [v for done, v, _ in rss.samples if n_good // 10 <= done < max(n_good // 5, n_good // 10 + 1)]
    late = [v for done, v, _ in rss.samples if done >= n_good - n_good // 10]
    if early and late and len(rss.samples) >= 10:
        start, end = max(early), max(late)
        hwm = max(h for _, _, h in rss.samples)
        print("rss: at 10-20%% of the images %.1f MB, over the last tenth %.1f MB, peak (VmHWM) %.1f MB, "
              "%d samples" % (start / 1024, end / 1024, hwm / 1024, len(rss.samples)))
        # Flat: the last tenth within 16 MB + 10% of the first (the JSON text grows a
        # little). Not under ASan, whose quarantine keeps freed memory on purpose.
        check(not args.rss_check or end <= start * 1.10 + 16 * 1024,
              "RSS grew from %d kB to %d kB" % (start, end))
    else:
        print("rss: run too short to sample (%d samples, %d at 10-20%%, %d in the last tenth)"
              % (len(rss.samples), len(early), len(late)))


def read_tree_outputs(out):
    return {rel: open(p).read() for rel, p in txt_files(out).items()}


def cmd_resume(args):
    rnd = random.Random(args.seed)
    tree = Tree(args.work, args.count, args.mkimage, args.assets)
    ref_out = os.path.join(args.work, "ref")
    ref_json = os.path.join(ref_out, "all.json")
    rc, wall, rss = run_detect(args, ["--txt", "--json", ref_json, tree.root], ref_out,
                               os.path.join(args.work, "ref.stderr"), sample_rss=True)
    check(rc == 1, "uninterrupted run: exit %d" % rc)
    check_failures(tree, open(os.path.join(args.work, "ref.stderr")).read())
    dets = check_outputs(tree, ref_out, ref_json)
    report_run("uninterrupted run", args, tree, dets, wall, rss)
    ref = read_tree_outputs(ref_out)

    out = os.path.join(args.work, "out")
    js = os.path.join(out, "all.json")
    cmd = [args.bitfalcon, "detect", "-m", args.model, "--size", str(args.size), "--conf",
           str(args.conf), "--max-det", "10", "--threads", str(args.threads), "--resume", "--txt", "--json", js,
           "-o", out, tree.root]
    threshold = rnd.randint(max(1, len(tree.good) // 10), max(2, len(tree.good) * 6 // 10))
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while p.poll() is None and len(txt_files(out)) < threshold:
        time.sleep(rnd.uniform(0.005, 0.05))
    time.sleep(rnd.uniform(0, 0.3))
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    p.wait()
    check(killed, "the run finished before it could be killed (use a larger --count)")
    partial = read_tree_outputs(out)
    print("resume: killed with SIGKILL after %d of %d outputs (threshold %d)" % (
        len(partial), len(tree.good), threshold))
    check(not os.path.exists(js), "a JSON file exists after the kill")
    for rel, text in partial.items():
        check(text == ref.get(rel), "%s is partial or differs after the kill" % rel)
    temps = temp_files(out)
    check(all(os.path.basename(t).startswith(".") for t in temps),
          "a temporary file is not hidden: %s" % temps)
    # An image is finished once its journal entry is written (the last output):
    # one killed between its txt and its journal is rightly done again.
    def journaled(rel_txt):
        src = [r for r in tree.good if out_rel(r, ".txt") == rel_txt][0]
        h = fnv1a64(os.path.join(tree.root, src))
        return os.path.exists(os.path.join(out, ".bitfalcon-journal", "%02x" % (h >> 56),
                                           "%016x.det" % h))
    unfinished = sorted(r for r in partial if not journaled(r))
    check(len(unfinished) <= 1, "%d images have a txt but no journal entry" % len(unfinished))
    print("resume: %d hidden temporary file(s) left by the kill; %d image(s) with a txt but "
          "no journal entry yet (to be redone)" % (len(temps), len(unfinished)))
    inodes = {rel: os.stat(os.path.join(out, rel)).st_ino for rel in partial}
    mtimes = {rel: os.stat(os.path.join(out, rel)).st_mtime_ns for rel in partial}

    rc, wall, _ = run_detect(args, ["--resume", "--txt", "--json", js, tree.root], out,
                             os.path.join(args.work, "resume.stderr"))
    check(rc == 1, "resumed run: exit %d, expected 1 (bad files are retried)" % rc)
    check_failures(tree, open(os.path.join(args.work, "resume.stderr")).read())
    after = read_tree_outputs(out)
    check(after == ref, "after --resume the txt outputs differ from an uninterrupted run's")
    rewritten = [r for r in partial if os.stat(os.path.join(out, r)).st_ino != inodes[r]
                 or os.stat(os.path.join(out, r)).st_mtime_ns != mtimes[r]]
    check(rewritten == unfinished, "--resume redid %s, expected only the unfinished %s" % (
        rewritten[:3], unfinished))
    check(open(js, "rb").read() == open(ref_json, "rb").read(),
          "the resumed JSON differs from the uninterrupted run's")
    print("resume: rerun processed the remaining %d images in %.1f s; txt and JSON equal the "
          "uninterrupted run (%d detections)" % (len(tree.good) - len(partial), wall,
                                                 len(json.load(open(js)))))
    # A second --resume has nothing left to do but retry the bad files; same JSON.
    rc, wall2, _ = run_detect(args, ["--resume", "--txt", "--json", js + ".2", tree.root], out,
                              os.path.join(args.work, "resume2.stderr"))
    check(open(js + ".2", "rb").read() == open(ref_json, "rb").read(), "second resume: JSON differs")
    print("resume: a second --resume took %.1f s" % wall2)

    # A damaged journal entry and a deleted txt: exactly those two images run again.
    journal = sorted(os.path.join(d, n) for d, _, ns in os.walk(os.path.join(out, ".bitfalcon-journal"))
                     for n in ns if n.endswith(".det"))
    check(len(journal) == len(tree.good), "%d journal entries for %d good images" % (
        len(journal), len(tree.good)))
    victim = rnd.choice(journal)
    victim_path = open(victim).read().splitlines()[1][len("path "):]
    with open(victim, "r+b") as f:
        f.truncate(os.path.getsize(victim) - 4)  # "end\n" cut off: not complete
    gone = rnd.choice(sorted(r for r in ref if r != out_rel(os.path.relpath(victim_path, tree.root), ".txt")))
    os.unlink(os.path.join(out, gone))
    before = {r: os.stat(os.path.join(out, r)).st_ino for r in ref if r != gone}
    rc, _, _ = run_detect(args, ["--resume", "--txt", "--json", js + ".3", tree.root], out,
                          os.path.join(args.work, "resume3.stderr"))
    redone = sorted(r for r in before if os.stat(os.path.join(out, r)).st_ino != before[r])
    want = [out_rel(os.path.relpath(victim_path, tree.root), ".txt")]
    check(redone == want, "after damaging one journal entry, redone: %s, expected %s" % (redone[:5], want))
    check(read_tree_outputs(out) == ref, "txt outputs differ after the third resume")
    check(open(js + ".3", "rb").read() == open(ref_json, "rb").read(), "third resume: JSON differs")
    print("resume: a damaged journal entry and a deleted txt file: only those 2 images redone")


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def cmd_shard(args):
    parallel = shutil.which("parallel")
    if not parallel or "GNU parallel" not in subprocess.run(
            [parallel, "--version"], capture_output=True, text=True).stdout:
        print("skipped: GNU parallel is not installed")
        sys.exit(77)
    tree = Tree(args.work, args.count, args.mkimage, args.assets)
    for spec in ("0/3", "4/3", "1/0", "1/", "/3", "a/3", "1/3x", "-1/3", "1/3/5", " 1/3"):
        r = subprocess.run([args.bitfalcon, "detect", "-m", args.model, "--txt", "-o",
                            os.path.join(args.work, "usage"), "--shard", spec, tree.root],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "--shard" in r.stderr, "--shard %r: exit %d, %r" % (
            spec, r.returncode, r.stderr))
    r = subprocess.run([args.bitfalcon, "detect", "-m", args.model, "--resume", tree.root],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "--resume needs" in r.stderr, "--resume without outputs: exit %d" % r.returncode)
    whole = os.path.join(args.work, "whole")
    rc, _, _ = run_detect(args, ["--txt", "--json", os.path.join(whole, "all.json"), tree.root],
                          whole, os.path.join(args.work, "whole.stderr"))
    check(rc == 1, "unsharded run: exit %d" % rc)
    out = os.path.join(args.work, "sharded")
    q = shlex.quote
    # GNU parallel runs this through a shell, {} replaced by 1, 2, 3.
    line = ("%s detect -m %s --size %d --conf %s --max-det 10 --threads 1 --txt -o %s --shard {}/3 "
            "--json %s/shard-{}.json %s 2>%s/shard-{}.stderr") % (
        q(args.bitfalcon), q(args.model), args.size, args.conf, q(out), q(out), q(tree.root),
        q(args.work))
    t0 = time.monotonic()
    r = subprocess.run([parallel, "--will-cite", "-j3", line, ":::", "1", "2", "3"])
    print("shard: 3 shards through GNU parallel in %.1f s (exit %d)" % (time.monotonic() - t0, r.returncode))
    check(r.returncode == 3, "parallel: %d jobs failed, expected 3 (each shard has bad files)" % r.returncode)
    check(read_tree_outputs(out) == read_tree_outputs(whole), "sharded txt outputs differ from one run's")
    merged = []
    for k in (1, 2, 3):
        part = json.load(open(os.path.join(out, "shard-%d.json" % k)))
        merged += part
        for d in part:
            rel = os.path.relpath(d["file"], tree.root)
            check(fnv1a64(rel) % 3 == k - 1, "%s is in shard %d, its hash says %d" % (
                rel, k, fnv1a64(rel) % 3 + 1))
    key = lambda d: json.dumps(d, sort_keys=True)
    wj = json.load(open(os.path.join(whole, "all.json")))
    check(sorted(map(key, merged)) == sorted(map(key, wj)), "merged shard JSON differs from one run's")
    errs = "".join(open(os.path.join(args.work, "shard-%d.stderr" % k)).read() for k in (1, 2, 3))
    check_failures(tree, errs)  # every bad file listed once over the three shards
    print("shard: merged %d txt files and %d detections equal the unsharded run's" % (
        len(txt_files(out)), len(merged)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["batch", "resume", "shard"])
    ap.add_argument("--bitfalcon", required=True)
    ap.add_argument("--mkimage", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--assets", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--conf", type=float, default=0.003)  # the boxes of a low threshold: something to compare
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-rss-check", dest="rss_check", action="store_false",
                    help="report RSS but do not require it flat (sanitizer builds)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("BF_TEST_SEED", "0")) or None)
    args = ap.parse_args()
    if not os.path.isfile(args.model):
        print("skipped: no model at " + args.model)
        sys.exit(77)
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    print("seed %d (BF_TEST_SEED=%d repeats this run)" % (args.seed, args.seed))
    {"batch": cmd_batch, "resume": cmd_resume, "shard": cmd_shard}[args.mode](args)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES), file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
