#!/usr/bin/env python3
"""End-to-end tests of `bitfalcon camera` through the stand-in V4L2 device.

Run by ctest (tests/camera.cmake). Each test starts the camera command with
LD_PRELOAD=libfake_v4l2.so and the device /dev/video-bitfalcon-test, then
checks what it printed and wrote. Standard library only.

    camera_tests.py --exe BIN [--sub camera] --shim SO --work DIR TEST [ARGS]

TEST:
  headless FORMAT N     N JSON lines, well-formed, frames/sequences increasing, FORMAT chosen
  corrupt               truncated MJPEG frames are dropped and counted, never detected on
  vanish                the device vanishes mid-stream and returns: frames flow again
  signal SIGINT|SIGTERM a running camera stops cleanly (exit 0, summary, whole lines)
  latest                a slow detector gets the newest frame: sequences skip, latency bounded
  record                --record writes whole JPEGs atomically (no temporary files left)
  window                window (SDL offscreen or X) + screenshot; boxes checked by --checker
  keys                  + + - space space s q through SDL's event queue (BF_CAMERA_KEYS)
  disconnected          the window says "camera disconnected -- waiting"; q still quits
  resize                the camera returns from an unplug with another size; the loop follows
  vsdetect FORMAT SIZE  detections equal `bitfalcon detect` on the same pixels (needs the model)

Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import glob
import json
import os
import re
import shutil
import select
import signal
import subprocess
import sys
import time

DEVICE = "/dev/video-bitfalcon-test"
SKIP = 77
# Every wait is for a count (lines, frames, a message, a state) with a deadline
# far beyond what the test needs (1-10 s, up to ~60 s under valgrind-like
# slowness): a loaded machine makes a test slower, never failing. The deadlines
# stay below ctest's TIMEOUT (tests/camera.cmake, 300 s) so that a hang is
# reported here with the program's stderr, not as a bare ctest timeout.
DEADLINE = 240
XVFB_DEADLINE = 60


class Fail(Exception):
    pass


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sdl_bmp import read_bmp  # noqa: E402  (tests/sdl_bmp.py, shared by the window tests)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def start_xvfb(xvfb):
    """Starts Xvfb on a display it picks itself (-displayfd: it writes the number once
    it accepts clients), so that concurrent runs never race for one display number as
    `xvfb-run -a` does (a lost race left a test waiting until ctest's timeout).
    Returns the process and the DISPLAY value."""
    r, w = os.pipe()
    p = subprocess.Popen([xvfb, "-displayfd", str(w), "-nolisten", "tcp", "-screen", "0", "1280x720x24"],
                         pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    deadline = time.monotonic() + XVFB_DEADLINE
    while not number.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([r], [], [], left)[0]:
            break  # no display number in time: reported below
        chunk = os.read(r, 16)
        if not chunk:
            break
        number += chunk
    os.close(r)
    if not number.strip().isdigit():
        p.kill()
        p.wait()
        raise Fail("Xvfb did not report a display (exit %r)" % p.poll())
    return p, ":" + number.decode().strip()


def camera_cmd(a, *args):
    cmd = [a.exe] + ([a.sub] if a.sub else []) + ["--device", DEVICE] + list(args)
    if a.model:
        cmd += ["-m", a.model]
    return cmd


def camera_env(a, **extra):
    env = dict(os.environ)
    env["LD_PRELOAD"] = a.shim
    env.setdefault("SDL_VIDEODRIVER", "offscreen")
    for k, v in extra.items():
        env[k] = str(v)
    return env


def popen(cmd, env):
    """The camera command in its own process group, so that a kill on a deadline
    takes its children too (ASan's symbolizer, a helper) and no pipe stays open."""
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def give_up(p, why):
    """A run past its deadline: prints every thread's stack (gdb, where installed:
    a hang on a CI machine is then found from the log alone), kills the process
    group, prints what the program wrote to stderr and fails. Bounded in time, so
    that ctest's own TIMEOUT never fires first."""
    gdb = shutil.which("gdb")
    if gdb and p.poll() is None:  # a program that already exited has no stacks to show
        try:
            st = subprocess.run([gdb, "-p", str(p.pid), "-batch", "-nx", "-ex", "set pagination off",
                                 "-ex", "thread apply all bt 30"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=25)
            sys.stdout.write("--- stacks of the hung program ---\n" +
                             st.stdout.decode("utf-8", "replace") + "--------------\n")
        except subprocess.TimeoutExpired:
            print("(gdb did not finish within 25 s)")
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        err = b"(its stderr stayed open after the kill)\n"
    sys.stdout.write("--- stderr ---\n" + (err or b"").decode("utf-8", "replace") + "--------------\n")
    raise Fail(why + " (killed; its stderr is above)")


def run(a, args, env, timeout=DEADLINE):
    """Runs the camera command to its end; a run past the deadline is killed and
    reported with what it printed."""
    cmd = camera_cmd(a, *args)
    print("$", " ".join(cmd), flush=True)
    p = popen(cmd, env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        give_up(p, "still running after %d s" % timeout)
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    sys.stdout.write("--- stderr ---\n" + err + "--------------\n")
    return p.returncode, out, err


def run_vanishing(a, args, env, lines, trigger):
    """Runs the camera command and makes the stand-in device vanish once it has
    printed `lines` JSON lines (BF_FAKE_V4L2_VANISH_FILE=trigger, created then): the
    unplug comes after the program has used the device, however slowly a loaded
    machine runs it, not after a number of frames served. Returns rc, out, err."""
    if os.path.exists(trigger):
        os.remove(trigger)
    env = dict(env, BF_FAKE_V4L2_VANISH_FILE=trigger)
    cmd = camera_cmd(a, *args)
    print("$", " ".join(cmd), flush=True)
    p = popen(cmd, env)
    first = read_lines(p, lines, DEADLINE / 2)
    open(trigger, "w").close()
    try:
        rest, err = p.communicate(timeout=DEADLINE / 2)
    except subprocess.TimeoutExpired:
        give_up(p, "still running %d s after the unplug" % (DEADLINE / 2))
    err = err.decode("utf-8", "replace")
    sys.stdout.write("--- stderr ---\n" + err + "--------------\n")
    check(first.count(b"\n") >= lines, "fewer than %d lines before the unplug" % lines)
    return p.returncode, (first + rest).decode("utf-8", "replace"), err


def read_lines(p, n, timeout):
    """Up to n whole lines of p's stdout, waiting at most timeout seconds in all
    (select: a silent program cannot block the test past its deadline)."""
    fd, buf, deadline = p.stdout.fileno(), b"", time.monotonic() + timeout
    while buf.count(b"\n") < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    return buf


def parse_lines(out, width=None, height=None):
    """Every stdout line must be one JSON object of the documented shape."""
    lines = [l for l in out.split("\n") if l.strip()]
    check(out == "" or out.endswith("\n"), "stdout does not end with a newline (a cut line)")
    recs = []
    for i, l in enumerate(lines):
        try:
            r = json.loads(l)
        except ValueError as e:
            raise Fail("line %d is not JSON (%s): %r" % (i + 1, e, l[:200]))
        for key, typ in (("frame", int), ("sequence", int), ("timestamp", (int, float)),
                         ("width", int), ("height", int), ("detections", list)):
            check(isinstance(r.get(key), typ), "line %d: %r missing or not %s" % (i + 1, key, typ))
        for d in r["detections"]:
            check(isinstance(d.get("class"), int), "line %d: class" % (i + 1))
            check(d.get("name") is None or isinstance(d["name"], str), "line %d: name" % (i + 1))
            check(isinstance(d.get("score"), (int, float)) and 0 <= d["score"] <= 1, "line %d: score" % (i + 1))
            bb = d.get("bbox")
            check(isinstance(bb, list) and len(bb) == 4, "line %d: bbox" % (i + 1))
            x, y, w, h = bb
            check(w >= 0 and h >= 0 and x >= -1 and y >= -1 and x + w <= r["width"] + 1
                  and y + h <= r["height"] + 1, "line %d: bbox %r outside the frame" % (i + 1, bb))
        if width:
            check(r["width"] == width and r["height"] == height,
                  "line %d: frame %dx%d, expected %dx%d" % (i + 1, r["width"], r["height"], width, height))
        recs.append(r)
    for p, q in zip(recs, recs[1:]):
        check(q["frame"] > p["frame"], "frame numbers not increasing: %d then %d" % (p["frame"], q["frame"]))
        check(q["timestamp"] >= p["timestamp"], "timestamps going back")
    return recs


def summary_numbers(err):
    m = re.search(r"(\d+) frames captured .*?(\d+) detected .*?(\d+) skipped by the detector.*?"
                  r"(\d+) corrupt dropped, (\d+) disconnects, (\d+) reconnects", err)
    check(m, "no summary line on stderr")
    keys = ("captured", "detected", "skipped", "corrupt", "disconnects", "reconnects")
    return dict(zip(keys, map(int, m.groups())))


# --------------------------------------------------------------------- tests

def t_headless(a, fmt, n):
    n = int(n)
    env = camera_env(a, BF_FAKE_V4L2_FORMATS="yuyv" if fmt == "YUYV" else "mjpeg,yuyv",
                     BF_FAKE_V4L2_FPS=60)
    rc, out, err = run(a, ["--headless", "--frames", str(n), "--size", "320x240"], env)
    check(rc == 0, "exit status %d" % rc)
    check(": %s 320x240" % fmt in err, "stderr does not report %s 320x240" % fmt)
    recs = parse_lines(out, 320, 240)
    check(len(recs) == n, "%d lines, expected %d" % (len(recs), n))
    for p, q in zip(recs, recs[1:]):
        check(q["sequence"] > p["sequence"], "sequence not increasing")
    s = summary_numbers(err)
    check(s["detected"] == n, "summary says %d detected" % s["detected"])
    print("ok: %d lines" % n)


def t_corrupt(a):
    every = 4
    env = camera_env(a, BF_FAKE_V4L2_CORRUPT_EVERY=every, BF_FAKE_V4L2_FPS=60)
    rc, out, err = run(a, ["--headless", "--frames", "30"], env)
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out)
    check(len(recs) == 30, "%d lines" % len(recs))
    s = summary_numbers(err)
    check(s["corrupt"] >= 3, "only %d corrupt frames dropped" % s["corrupt"])
    check("truncated MJPEG frame" in err, "the drop is not explained on stderr")
    bad = [r["sequence"] for r in recs if r["sequence"] % every == every - 1]
    check(not bad, "detections on truncated frames: sequences %r" % bad)
    print("ok: %d corrupt frames dropped, none detected on" % s["corrupt"])


def t_vanish(a):
    env = camera_env(a, BF_FAKE_V4L2_VANISH_AFTER=15, BF_FAKE_V4L2_VANISH_MS=800, BF_FAKE_V4L2_FPS=60)
    rc, out, err = run(a, ["--headless", "--frames", "45"], env)
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out)
    check(len(recs) == 45, "%d lines" % len(recs))
    s = summary_numbers(err)
    check(s["disconnects"] == 1 and s["reconnects"] == 1,
          "%d disconnects, %d reconnects" % (s["disconnects"], s["reconnects"]))
    check("reopening every 0.5 s" in err and "reconnected" in err, "no disconnect/reconnect report")
    gaps = [q["timestamp"] - p["timestamp"] for p, q in zip(recs, recs[1:])]
    check(max(gaps) >= 0.7, "no pause in the frames (largest gap %.2f s)" % max(gaps))
    after = [r for r in recs if r["sequence"] >= 15]
    check(len(after) >= 20, "only %d frames after the device returned" % len(after))
    print("ok: gap %.2f s, %d frames after reconnecting" % (max(gaps), len(after)))


def t_signal(a, name):
    sig = getattr(signal, name)
    env = camera_env(a, BF_FAKE_V4L2_FPS=30)
    cmd = camera_cmd(a, "--headless")
    print("$", " ".join(cmd), flush=True)
    p = popen(cmd, env)
    first = read_lines(p, 5, DEADLINE / 2)
    if first.count(b"\n") < 5:
        give_up(p, "fewer than 5 lines before the signal")
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        rest, err = p.communicate(timeout=DEADLINE / 2)
    except subprocess.TimeoutExpired:
        give_up(p, "did not stop within %d s of %s" % (DEADLINE / 2, name))
    dt = time.monotonic() - t0
    err = err.decode("utf-8", "replace")
    sys.stdout.write("--- stderr ---\n" + err + "--------------\n")
    check(p.returncode == 0, "exit status %d after %s" % (p.returncode, name))
    check("%s received, stopping" % name in err, "the signal is not reported")
    summary_numbers(err)
    recs = parse_lines(first.decode() + rest.decode())
    # Stopping is judged by what the program did (exit 0, the message, the summary,
    # whole lines); how soon it stopped is printed, not asserted: the deadline above
    # catches a signal that is ignored.
    print("ok: stopped %.2f s after %s, %d lines" % (dt, name, len(recs)))


def t_latest(a):
    # Camera at 100 fps, detector at <= 10 fps: frames must be skipped, not queued.
    # Judged by counts: each detection lasts 100 ms and until the device has served 3
    # more frames (BF_STUB_WAIT_FRAMES), so at least 2 newer frames reached the slot
    # whatever the load, and the next detection must take a newer one: a sequence gap
    # of at least 2 (about 10 on an idle machine), where a queue gives 1. Latency is
    # judged in detector times: the latest frame keeps it under ~2 of them; a queue's
    # grows by one a result (20 results: about 10).
    n = 20
    env = camera_env(a, BF_FAKE_V4L2_FPS=100, BF_STUB_DELAY_MS=100, BF_STUB_WAIT_FRAMES=3)
    rc, out, err = run(a, ["--headless", "--frames", str(n)], env)
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out)
    check(len(recs) == n, "%d lines, expected %d" % (len(recs), n))
    gaps = [q["sequence"] - p["sequence"] for p, q in zip(recs, recs[1:])]
    check(min(gaps) >= 2, "sequence gaps %r: frames were queued, not skipped" % gaps)
    s = summary_numbers(err)
    check(s["skipped"] >= n - 1, "only %d frames skipped" % s["skipped"])
    m = re.search(r"detector ([\d.]+) ms, capture-to-result latency ([\d.]+) ms", err)
    check(m, "no detector time and latency in the summary")
    det_ms, lat_ms = float(m.group(1)), float(m.group(2))
    check(lat_ms < 5 * det_ms, "latency %.1f ms, %.1f detector times: a queue is growing"
          % (lat_ms, lat_ms / det_ms))
    print("ok: sequence gaps %r, latency %.1f ms (detector %.1f ms)" % (gaps, lat_ms, det_ms))


def t_record(a):
    d = os.path.join(a.work, "rec")
    shutil.rmtree(d, ignore_errors=True)
    env = camera_env(a, BF_FAKE_V4L2_FPS=60)
    rc, out, err = run(a, ["--headless", "--frames", "6", "--record", d], env)
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out)
    names = sorted(os.listdir(d))
    check(len(names) == 6 and all(re.fullmatch(r"frame-\d{8}\.jpg", n) for n in names),
          "recorded files: %r" % names)
    for r in recs:
        check("frame-%08d.jpg" % r["frame"] in names, "frame %d not recorded" % r["frame"])
    for n in names:
        b = open(os.path.join(d, n), "rb").read()
        check(b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9", "%s is not a whole JPEG" % n)
    print("ok: %d whole JPEGs" % len(names))


def t_window(a):
    if a.model and not os.path.exists(a.model):
        print("SKIP: no model file %r yet" % a.model)
        return SKIP
    shot = os.path.join(a.work, "window.bmp")
    if os.path.exists(shot):
        os.remove(shot)
    env = camera_env(a, BF_FAKE_V4L2_FPS=30, BF_FAKE_V4L2_ASSETS=a.assets or "")
    if not a.assets:
        del env["BF_FAKE_V4L2_ASSETS"]
    if a.x11:
        env["SDL_VIDEODRIVER"] = "x11"
    args = ["--frames", str(a.frames), "--json", "--screenshot", shot]
    if a.window:
        args += ["--window", a.window]
    if a.input_size:
        args += ["--input-size", a.input_size]
    if a.model:
        # whatever a young model finds, but few boxes, so that they can be told apart
        args += ["--conf", "0.001", "--max-det", "4"]
    rc, out, err = run(a, args, env)
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out)
    check(len(recs) == a.frames, "%d lines" % len(recs))
    check(os.path.exists(shot), "no screenshot")
    m = re.search(r"display [\d.]+ ms \((\d+) frames shown", err)
    check(m and int(m.group(1)) > 0, "nothing was shown")
    last = os.path.join(a.work, "last.json")
    with open(last, "w") as f:
        f.write(json.dumps(recs[-1]))
    print("last line:", json.dumps(recs[-1])[:300])
    if not recs[-1]["detections"]:
        print("SKIP: the last frame has no detections; nothing to check in the screenshot")
        return SKIP
    p = subprocess.run([a.checker, shot, last])
    check(p.returncode == 0, "the boxes in the screenshot do not match the detections")
    # The checker must notice boxes that are not where the JSON says.
    moved = dict(recs[-1])
    moved["detections"] = [dict(d, bbox=[d["bbox"][0] + 37, d["bbox"][1] + 29] + d["bbox"][2:])
                           for d in recs[-1]["detections"]]
    with open(last + ".moved", "w") as f:
        f.write(json.dumps(moved))
    p = subprocess.run([a.checker, shot, last + ".moved"], stdout=subprocess.DEVNULL)
    check(p.returncode != 0, "the checker accepts boxes moved by (37, 29) pixels")
    if a.png:
        subprocess.run(["/usr/bin/python3", "-c",
                        "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2])",
                        shot, a.png], check=True)
        print("wrote", a.png)
    print("ok")


def t_resize(a):
    # The camera comes back from an unplug offering only 320x240: the loop must
    # follow (new buffers, new texture, boxes in the new frame's pixels). The unplug
    # comes after 3 lines at 640x480 (a count), so both sizes are always seen.
    shot = os.path.join(a.work, "resize.bmp")
    env = camera_env(a, BF_FAKE_V4L2_FPS=30, BF_FAKE_V4L2_VANISH_MS=600,
                     BF_FAKE_V4L2_RETURN_SIZES="320x240")
    rc, out, err = run_vanishing(a, ["--json", "--frames", "40", "--screenshot", shot], env, 3,
                                 os.path.join(a.work, "unplug"))
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out)
    sizes = [(r["width"], r["height"]) for r in recs]
    check(sizes[0] == (640, 480) and sizes[-1] == (320, 240), "frame sizes %r" % sorted(set(sizes)))
    check("reconnected" in err and ": MJPG 320x240 (asked for 640x480)" in err, "the new size is not reported")
    last = os.path.join(a.work, "last.json")
    with open(last, "w") as f:
        f.write(json.dumps(recs[-1]))
    p = subprocess.run([a.checker, shot, last])
    check(p.returncode == 0, "the boxes in the screenshot do not match the detections")
    print("ok: 640x480 -> 320x240 across the reconnect")


def t_disconnected(a):
    # The device vanishes for 20 s after the first JSON line (a count: whatever the
    # load, the program has a frame to show); q is pressed once the program says it
    # is gone ("@gone" in BF_CAMERA_KEYS waits for the disconnected state, not for a
    # time since launch, which a loaded machine or a sanitizer stretches).
    # Each detection takes 1 s (BF_STUB_DELAY_MS): the one running when q comes delays
    # the shutdown's join, so the capture thread has stopped before the final stats
    # are read, and the screenshot must still show the banner (the state it stopped in).
    shot = os.path.join(a.work, "gone.bmp")
    env = camera_env(a, BF_FAKE_V4L2_FPS=30, BF_FAKE_V4L2_VANISH_MS=20000,
                     BF_CAMERA_KEYS="@gone,q", BF_STUB_DELAY_MS=1000)
    rc, out, err = run_vanishing(a, ["--json", "--screenshot", shot, "--window", "640x480"], env, 1,
                                 os.path.join(a.work, "unplug"))
    check(rc == 0, "exit status %d" % rc)
    # Had quitting waited for the device, the loop would have reconnected first (20 s).
    check("reconnected" not in err, "quitting waited for the device to come back")
    check("reopening every 0.5 s" in err, "the disconnect is not reported")
    w, h, rows = read_bmp(shot)
    red = sum(1 for y in range(h // 3, 2 * h // 3) for p in rows[y]
              if abs(p[0] - 160) + abs(p[1] - 20) + abs(p[2] - 20) < 30)
    check(red > 2000, "no 'camera disconnected' banner in the window (%d banner pixels)" % red)
    if a.png:
        subprocess.run(["/usr/bin/python3", "-c",
                        "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2])",
                        shot, a.png], check=True)
    print("ok: banner shown (%d pixels), quit while disconnected" % red)


def t_keys(a):
    d = os.path.join(a.work, "snap")
    shutil.rmtree(d, ignore_errors=True)
    env = camera_env(a, BF_FAKE_V4L2_FPS=30, BF_CAMERA_KEYS="+,+,-,space,space,s,q")
    rc, out, err = run(a, ["--record", d, "--json"], env)
    check(rc == 0, "exit status %d (q should quit cleanly)" % rc)
    parse_lines(out)
    for want in ("confidence threshold 0.30", "confidence threshold 0.35", "paused", "resumed",
                 "snapshot saved to", "stub detector: threshold 0.35", "stub detector: threshold 0.30"):
        check(want in err, "stderr lacks %r" % want)
    check(err.index("threshold 0.35") < err.rindex("confidence threshold 0.30"), "+/- out of order")
    snaps = glob.glob(os.path.join(d, "bitfalcon-*.jpg"))
    check(len(snaps) == 1, "snapshots: %r" % snaps)
    b = open(snaps[0], "rb").read()
    check(b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9", "the snapshot is not a whole JPEG")
    check(not [n for n in os.listdir(d) if n.startswith(".")], "temporary files left")
    print("ok: + - space s q all acted")


def t_vsdetect(a, fmt, size):
    if not a.model or not os.path.exists(a.model):
        print("SKIP: no model file %r yet" % a.model)
        return SKIP
    dump = os.path.join(a.work, "dump-%s-%s" % (fmt, size))
    shutil.rmtree(dump, ignore_errors=True)
    os.makedirs(dump)
    env = camera_env(a, BF_FAKE_V4L2_FORMATS="yuyv" if fmt == "YUYV" else "mjpeg",
                     BF_FAKE_V4L2_DUMP=dump, BF_FAKE_V4L2_FPS=30, BF_FAKE_V4L2_HOLD=2)
    # A very low threshold: the comparison needs detections, and a young model has few.
    conf = "0.001"
    rc, out, err = run(a, ["--headless", "--frames", str(a.frames), "--input-size", size, "--conf", conf],
                       env, timeout=900)
    if rc == 2 and "bitfalcon:" in err:
        print("SKIP: the model does not load yet")
        return SKIP
    check(rc == 0, "exit status %d" % rc)
    recs = parse_lines(out, 640, 480)
    check(len(recs) == a.frames, "%d lines" % len(recs))

    # The exact pixels the camera detected on, as files `bitfalcon detect` reads.
    refs = {}
    if fmt == "MJPEG":
        for f in glob.glob(os.path.join(dump, "*.jpg")):
            refs[int(os.path.basename(f).split("-")[0])] = f
    else:
        for f in glob.glob(os.path.join(dump, "*.yuyv")):
            m = re.match(r"(\d+)-.*-(\d+)x(\d+)\.yuyv$", os.path.basename(f))
            png = f[:-5] + ".png"
            subprocess.run([a.refimg, f, m.group(2), m.group(3), png], check=True)
            refs[int(m.group(1))] = png
    check(refs, "the device dumped no frames")
    det_json = os.path.join(a.work, "detect-%s-%s.json" % (fmt, size))
    cmd = [a.exe, "detect", "-m", a.model, "--size", size, "--conf", conf, "--json", det_json] + \
        [refs[k] for k in sorted(refs)]
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd)
    check(p.returncode == 0, "bitfalcon detect failed")
    by_file = {}
    for d in json.load(open(det_json)):
        by_file.setdefault(d["file"], []).append(d)
    n_assets = len(refs)
    compared = boxes = 0
    for r in recs:
        asset = (r["sequence"] // 2) % n_assets  # HOLD=2
        want = sorted(by_file.get(refs[asset], []), key=lambda d: (-d["score"], d["class"]))
        got = sorted(r["detections"], key=lambda d: (-d["score"], d["class"]))
        check(len(want) == len(got), "frame %d (%s): %d detections, detect found %d"
              % (r["frame"], os.path.basename(refs[asset]), len(got), len(want)))
        for g, w in zip(got, want):
            check(g["class"] == w["class"] and abs(g["score"] - w["score"]) <= 1e-5
                  and all(abs(x - y) <= 1e-2 for x, y in zip(g["bbox"], w["bbox"])),
                  "frame %d (%s): %r != detect's %r" % (r["frame"], os.path.basename(refs[asset]), g, w))
        compared += 1
        boxes += len(got)
    if boxes == 0:
        print("SKIP: %d frames equal to bitfalcon detect, but neither found any object: "
              "the comparison says nothing yet" % compared)
        return SKIP
    print("ok: %d frames (%d boxes) equal to bitfalcon detect (%d reference images)"
          % (compared, boxes, n_assets))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--sub", default="")
    ap.add_argument("--shim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", default="")
    ap.add_argument("--refimg", default="")
    ap.add_argument("--checker", default="")
    ap.add_argument("--assets", default="")
    ap.add_argument("--window", default="")
    ap.add_argument("--input-size", default="")
    ap.add_argument("--frames", type=int, default=15)
    ap.add_argument("--png", default="")
    ap.add_argument("--x11", action="store_true")
    ap.add_argument("--xvfb", default="", help="Xvfb binary: run the test on a private X server (implies --x11)")
    ap.add_argument("test")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    tests = {"headless": t_headless, "corrupt": t_corrupt, "vanish": t_vanish, "signal": t_signal,
             "latest": t_latest, "record": t_record, "window": t_window, "vsdetect": t_vsdetect,
             "keys": t_keys, "disconnected": t_disconnected, "resize": t_resize}
    xserver = None
    try:
        if a.xvfb:
            xserver, os.environ["DISPLAY"] = start_xvfb(a.xvfb)
            a.x11 = True
            print("Xvfb on", os.environ["DISPLAY"])
        r = tests[a.test](a, *a.args)
    except Fail as e:
        print("FAIL:", e)
        return 1
    except subprocess.TimeoutExpired as e:
        print("FAIL: timed out:", e)
        return 1
    finally:
        if xserver is not None:
            xserver.terminate()
            try:
                xserver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                xserver.kill()
    return r or 0


if __name__ == "__main__":
    sys.exit(main())
