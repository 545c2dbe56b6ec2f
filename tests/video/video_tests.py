#!/usr/bin/env python3
"""End-to-end tests of videos in `bitfalcon detect` and `bitfalcon camera --source`.

Run by ctest (tests/video.cmake). Clips are made by the test with the ffmpeg
program from assets/chelsea.jpg: a crop window panned across the photo, so the
cat moves from frame to frame. Standard library only.

    video_tests.py --exe BIN --model MODEL --assets DIR --work DIR TEST

TEST:
  formats     H.264 mp4, MJPEG avi, H.264 mkv, VP9 webm: one JSON array, each
              detection with frame/time; frames 0, 7, 19 equal `detect` on the
              same frame extracted as a PNG (same pixels, same size)
  draw        --draw writes REL.mp4 that ffprobe reads: frame count and rate of the source
  stride      --vid-stride 4: only frames 0, 4, 8, ... detected; --txt DIR/REL/NNNNNN.txt
  walk        a folder with a photo and a clip: both found, the photo without frame keys
  damaged     mp4/mkv/avi cut at several lengths: exit 1, "truncated" reported, frames kept
  hostile     zero bytes, random bytes, a huge declared size (y4m): exit 1, reported, no crash
  stream      camera --source tcp://127.0.0.1:PORT --headless --frames N: N JSON lines
  http        camera --source http://127.0.0.1:PORT/cam.mjpg (multipart MJPEG): N JSON lines
  reconnect   the server is killed mid-run and restarted: reconnect counted, frames resume
  hls         ffmpeg writes a live HLS playlist + segments, http.server serves them on
              127.0.0.1: camera --source http://127.0.0.1:PORT/live.m3u8: N JSON lines
  stream_track  camera --source tcp://... --headless --frames 100 --track: 100 lines with track
              IDs, the cat one ID; the same with the server killed and restarted mid-run
  reconnect_growth  5 kills and restarts of the server: /proc/PID/fd count and VmRSS after
              each reconnect (fds equal, RSS < 8 MB growth from reconnect 1 to 5)
  rtsp        GStreamer's RTSP server (rtsp_server.py) serving H.264: camera --source
              rtsp://127.0.0.1:PORT/x gives N lines over TCP; the server killed, restarted,
              stopped (silent), killed, restarted: two reconnects, frames resume
              (skips without the GStreamer Python bindings)
  track       detect --track --json --mot --draw on an 80-frame pan: one ID for the cat in
              every frame; the MOT file parses and agrees with the JSON
  track_camera  camera --source clip --headless --frames N --track: every box has "track",
              the cat one ID
  track_window  the window (SDL offscreen) with --track: the cat's box and label are
              drawn in track 1's colour, not the cat class's (as without --track)
  track_options  --track-high/-low, --new-track, --track-buffer, --match: range checks (exit 2)
              in detect and camera; every detection of a --track run has "track" (ID or null);
              --new-track/--track-high above every score: all null
  mot_multi   --mot DIR/: DIR/REL.txt per video; --mot FILE with two videos: the second refused
  resume      --resume per video: a finished video is skipped, the JSON equals a plain run's,
              a damaged one runs again, other tracker options run the videos again

Exit 0 pass, 1 fail, 77 skipped (no ffmpeg program, no model).
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SKIP = 77
FPS = 10


class Fail(Exception):
    pass


class Skip(Exception):
    pass


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sdl_bmp import read_bmp  # noqa: E402  (tests/sdl_bmp.py, shared by the window tests)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


def ffmpeg(*args):
    r = run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + list(args))
    check(r.returncode == 0, "ffmpeg %s failed: %s" % (" ".join(args), r.stderr))


def make_clip(a, name, seconds, codec_args, extra=()):
    """A 320x240 crop panned right across the photo, FPS frames per second."""
    out = os.path.join(a.work, name)
    ffmpeg("-loop", "1", "-i", os.path.join(a.assets, "chelsea.jpg"),
           "-vf", "crop=320:240:x='10+30*t':y=30", "-t", str(seconds), "-r", str(FPS),
           *codec_args, *extra, out)
    return out


H264 = ["-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p"]
MJPEG = ["-c:v", "mjpeg", "-q:v", "3"]
VP9 = ["-c:v", "libvpx-vp9", "-b:v", "300k", "-g", "10"]


def no_sanitizer_report(err):
    """A sanitizer build exits 1 on an error, which is also "a damaged input": look at the text."""
    check("Sanitizer" not in err and "runtime error:" not in err, "sanitizer report: %s" % err)


def detect(a, *args, expect=0):
    r = run([a.exe, "detect", "-m", a.model, "--size", "320"] + list(args))
    no_sanitizer_report(r.stderr)
    check(r.returncode == expect, "detect %s: exit %d, wanted %d; stderr: %s"
          % (" ".join(args), r.returncode, expect, r.stderr))
    return r


def probe_frames(path):
    r = run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
             "stream=nb_read_frames,r_frame_rate,codec_name", "-of", "json", path])
    check(r.returncode == 0, "ffprobe %s: %s" % (path, r.stderr))
    s = json.loads(r.stdout)["streams"][0]
    return int(s["nb_read_frames"]), s["r_frame_rate"], s["codec_name"]


def load_json(path):
    with open(path) as f:
        return json.load(f)


def key(d):
    return (d["class"], d["score"], tuple(d["bbox"]))


def t_formats(a):
    clips = [make_clip(a, "c.mp4", 2, H264, ["-movflags", "+faststart"]),
             make_clip(a, "c.avi", 2, MJPEG), make_clip(a, "c.mkv", 2, H264),
             make_clip(a, "c.webm", 2, VP9)]
    out = os.path.join(a.work, "all.json")
    detect(a, "--json", out, *clips)
    dets = load_json(out)
    for clip in clips:
        mine = [d for d in dets if d["file"] == clip]
        frames = sorted({d["frame"] for d in mine})
        check(len(frames) >= 15, "%s: detections in only %d of 20 frames" % (clip, len(frames)))
        check(frames[-1] <= 19, "%s: frame %d past the end" % (clip, frames[-1]))
        for d in mine:
            check(abs(d["time"] - d["frame"] / FPS) < 1e-6,
                  "%s: frame %d at time %r, wanted %r" % (clip, d["frame"], d["time"], d["frame"] / FPS))
        for k in (0, 7, 19):
            png = os.path.join(a.work, "frame.png")
            ffmpeg("-i", clip, "-vf", "select=eq(n\\,%d)" % k, "-frames:v", "1", png)
            ref = os.path.join(a.work, "frame.json")
            detect(a, "--json", ref, png)
            want = sorted(key(d) for d in load_json(ref))
            got = sorted(key(d) for d in mine if d["frame"] == k)
            check(want == got, "%s frame %d: video gives %r, the extracted PNG %r" % (clip, k, got, want))
            check(len(want) > 0, "%s frame %d: no detections to compare" % (clip, k))
        print("%s: %d detections over %d frames, frames 0/7/19 equal the extracted PNGs"
              % (os.path.basename(clip), len(mine), len(frames)))


def t_draw(a):
    clip = make_clip(a, "d.mp4", 3, H264)
    outdir = os.path.join(a.work, "out")
    detect(a, "--draw", "-o", outdir, "--json", os.path.join(a.work, "d.json"), clip)
    drawn = os.path.join(outdir, "d.mp4")
    check(os.path.isfile(drawn), "no %s" % drawn)
    n_src, rate_src, _ = probe_frames(clip)
    n, rate, codec = probe_frames(drawn)
    check(n == n_src == 30, "drawn video has %d frames, the source %d (wanted 30)" % (n, n_src))
    check(rate == rate_src == "%d/1" % FPS, "drawn rate %s, source %s" % (rate, rate_src))
    check(codec == "h264", "drawn codec %s" % codec)
    leftovers = [f for f in os.listdir(outdir) if f.startswith(".")]
    check(not leftovers, "temporaries left: %r" % leftovers)
    print("drawn %s: %d frames at %s (%s), like the source" % (drawn, n, rate, codec))


def t_stride(a):
    clip = make_clip(a, "s.mkv", 2, H264)
    outdir = os.path.join(a.work, "out")
    out = os.path.join(a.work, "s.json")
    detect(a, "--vid-stride", "4", "--txt", "-o", outdir, "--json", out, clip)
    frames = sorted({d["frame"] for d in load_json(out)})
    check(frames and all(f % 4 == 0 for f in frames), "frames %r are not multiples of 4" % frames)
    txts = sorted(os.listdir(os.path.join(outdir, "s")))
    want = ["%06d.txt" % f for f in range(0, 20, 4)]
    check(txts == want, "txt files %r, wanted %r" % (txts, want))
    with open(os.path.join(outdir, "s", "000004.txt")) as f:
        lines = f.read().split("\n")
    # %g, as Ultralytics writes them: a box clamped to the frame has width "1".
    unit = r"(?:0\.\d+|1(?:\.0+)?)"
    check(re.match(r"^15 %s %s %s %s 0\.\d+$" % (unit, unit, unit, unit), lines[0]),
          "000004.txt starts %r, wanted a cat line" % lines[0])
    print("--vid-stride 4: frames %r, txt %r" % (frames, txts))


def t_walk(a):
    folder = os.path.join(a.work, "mixed")
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    shutil.copy(os.path.join(a.assets, "coffee.jpg"), folder)
    make_clip(a, "mixed/sub/w.mov", 1, H264)
    out = os.path.join(a.work, "w.json")
    detect(a, "--json", out, folder)
    files = {d["file"]: d for d in load_json(out)}
    check(set(files) == {os.path.join(folder, "coffee.jpg"), os.path.join(folder, "sub/w.mov")},
          "walk found %r" % sorted(files))
    check("frame" not in files[os.path.join(folder, "coffee.jpg")], "an image got a frame key")
    check("frame" in files[os.path.join(folder, "sub/w.mov")], "the video has no frame key")
    print("walk: %r" % sorted(files))


def t_damaged(a):
    clips = [make_clip(a, "x.mp4", 6, H264, ["-movflags", "+faststart"]),
             make_clip(a, "x.mkv", 6, H264, ["-cluster_time_limit", "1000"]),
             make_clip(a, "x.avi", 6, MJPEG)]
    for clip in clips:
        data = open(clip, "rb").read()
        for frac in (0.35, 0.5, 0.8):
            cut = os.path.join(a.work, "cut" + os.path.splitext(clip)[1])
            with open(cut, "wb") as f:
                f.write(data[:int(len(data) * frac)])
            out = os.path.join(a.work, "cut.json")
            r = detect(a, "--json", out, cut, expect=1)
            check("truncated" in r.stderr, "%s at %.2f: no 'truncated' in %r" % (clip, frac, r.stderr))
            frames = {d["frame"] for d in load_json(out)}
            check(len(frames) >= 10 and max(frames) < 60,
                  "%s at %.2f: %d frames kept" % (clip, frac, len(frames)))
            print("%s cut at %.0f%%: exit 1, %d frames kept: %s" % (os.path.basename(clip), frac * 100,
                  len(frames), r.stderr.strip()))


def t_hostile(a):
    zero = os.path.join(a.work, "zero.mp4")
    open(zero, "wb").close()
    rnd = os.path.join(a.work, "random.mp4")
    rng = random.Random(13)
    with open(rnd, "wb") as f:
        f.write(bytes(rng.randrange(256) for _ in range(20000)))
    # 16000 x 7000 (112 Mpixels) passes FFmpeg's own check and is caught by
    # ours; 60000 x 60000 is refused by libavformat itself.
    huge = os.path.join(a.work, "huge.y4m")
    with open(huge, "wb") as f:
        f.write(b"YUV4MPEG2 W16000 H7000 F10:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x80" * 1000)
    huger = os.path.join(a.work, "huger.y4m")
    with open(huger, "wb") as f:
        f.write(b"YUV4MPEG2 W60000 H60000 F10:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x80" * 1000)
    for path, what in ((zero, "not a video"), (rnd, "not a video"), (huge, "over the limit"),
                       (huger, "not a video")):
        out = os.path.join(a.work, "h.json")
        r = detect(a, "--json", out, path, expect=1)
        check(what in r.stderr, "%s: %r not in %r" % (path, what, r.stderr))
        check(load_json(out) == [], "%s: detections from a hostile file" % path)
        print("%s: %s" % (os.path.basename(path), r.stderr.strip()))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, deadline_s=30.0):
    """Waits until something listens on 127.0.0.1:port, read from /proc/net/tcp: a probing
    connect would be the one client ffmpeg's listen mode serves. A fixed sleep (0.5 s) was
    too short on a loaded machine ("Connection refused"); this waits for the state instead.
    ffmpeg's listen mode closes its listening socket once it accepts its one client, so a
    client already retrying (a camera reconnecting) can take it between two looks: an
    established connection on the port counts as listening too."""
    want = ":%04X" % port
    end = time.time() + deadline_s
    while time.time() < end:
        check(proc.poll() is None, "the ffmpeg server exited (%s) before listening" % proc.returncode)
        try:
            with open("/proc/net/tcp") as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] in ("0A", "01"):  # LISTEN, ESTABLISHED
                        return
        except OSError:
            time.sleep(1.0)       # no /proc/net/tcp: fall back to a generous fixed wait
            return
        time.sleep(0.05)
    check(False, "nothing listens on port %d after %.0f s" % (port, deadline_s))


def serve(a, clip, port):
    """ffmpeg serving clip in real time as MPEG-TS on tcp://127.0.0.1:port (listening)."""
    p = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
                          "-i", clip, "-c", "copy", "-f", "mpegts",
                          "tcp://127.0.0.1:%d?listen=1" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, p)
    return p


def camera(a, source, frames, timeout=120):
    return subprocess.Popen([a.exe, "camera", "-m", a.model, "--input-size", "320", "--source", source,
                             "--headless", "--frames", str(frames), "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def parse_lines(text):
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    for l in lines:
        check("frame" in l and "time" in l and "detections" in l, "line without frame/time: %r" % l)
    return lines


def t_stream(a):
    clip = make_clip(a, "live.mp4", 4, H264)
    port = free_port()
    srv = serve(a, clip, port)
    try:
        cam = camera(a, "tcp://127.0.0.1:%d" % port, 20)
        out, err = cam.communicate(timeout=120)
        no_sanitizer_report(err)
        check(cam.returncode == 0, "camera exit %d: %s" % (cam.returncode, err))
        lines = parse_lines(out)
        check(len(lines) == 20, "%d JSON lines, wanted 20" % len(lines))
        frames = [l["frame"] for l in lines]
        check(frames == sorted(frames) and len(set(frames)) == 20, "frames not increasing: %r" % frames)
        cats = sum(1 for l in lines for d in l["detections"] if d["name"] == "cat")
        check(cats >= 10, "only %d cats in 20 frames" % cats)
        print("stream: 20 lines, frames %d..%d, %d cats" % (frames[0], frames[-1], cats))
    finally:
        srv.kill()
        srv.wait()


def t_http(a):
    """HTTP multipart MJPEG, as IP cameras serve it (ffmpeg's one-client HTTP server)."""
    clip = make_clip(a, "live.mp4", 4, H264)
    port = free_port()
    url = "http://127.0.0.1:%d/cam.mjpg" % port
    srv = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
                            "-i", clip, "-c:v", "mjpeg", "-q:v", "4", "-f", "mpjpeg", "-listen", "1", url],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, srv)
    try:
        cam = camera(a, url, 15)
        out, err = cam.communicate(timeout=120)
        no_sanitizer_report(err)
        check(cam.returncode == 0, "camera exit %d: %s" % (cam.returncode, err))
        lines = parse_lines(out)
        check(len(lines) == 15, "%d JSON lines, wanted 15" % len(lines))
        check("mpjpeg" in err, "the source was not read as multipart MJPEG: %s" % err)
        cats = sum(1 for l in lines for d in l["detections"] if d["name"] == "cat")
        check(cats >= 8, "only %d cats in 15 frames" % cats)
        print("http mjpeg: 15 lines, %d cats" % cats)
    finally:
        srv.kill()
        srv.wait()


def t_reconnect(a):
    clip = make_clip(a, "live.mp4", 4, H264)
    port = free_port()
    srv = serve(a, clip, port)
    cam = camera(a, "tcp://127.0.0.1:%d" % port, 60)
    try:
        time.sleep(3)
        srv.kill()
        srv.wait()
        time.sleep(1.5)
        srv = serve(a, clip, port)
        out, err = cam.communicate(timeout=150)
        no_sanitizer_report(err)
        check(cam.returncode == 0, "camera exit %d: %s" % (cam.returncode, err))
        lines = parse_lines(out)
        check(len(lines) == 60, "%d JSON lines, wanted 60" % len(lines))
        check(lines[-1].get("reconnects", 0) >= 1, "no reconnect counted: %r" % lines[-1])
        check(lines[0].get("reconnects", 0) == 0, "reconnect counted at the start")
        print("reconnect: 60 lines, reconnects %d; %s" % (lines[-1]["reconnects"],
              [l for l in err.splitlines() if "reconnect" in l or "lost" in l][:3]))
    finally:
        if cam.poll() is None:
            cam.kill()
        srv.kill()
        srv.wait()


def make_track_clip(a, name, rate=FPS):
    """80 frames (8 s at FPS, longer at a lower rate): the crop pans 1.8 px a frame, the cat
    moves across it."""
    out = os.path.join(a.work, name)
    ffmpeg("-loop", "1", "-i", os.path.join(a.assets, "chelsea.jpg"),
           "-vf", "crop=320:240:x='10+%g*t':y=30" % (1.8 * rate), "-t", "%g" % (80.0 / rate),
           "-r", str(rate), *H264, out)
    return out


def cat_per_frame(dets):
    """frame -> the best-scoring cat detection of that frame."""
    best = {}
    for d in dets:
        if d["name"] == "cat" and (d["frame"] not in best or d["score"] > best[d["frame"]]["score"]):
            best[d["frame"]] = d
    return best


def t_track(a):
    clip = make_track_clip(a, "t.mp4")
    out, mot, outdir = (os.path.join(a.work, n) for n in ("t.json", "t.mot.txt", "out"))
    detect(a, "--track", "--json", out, "--mot", mot, "--draw", "-o", outdir, clip)
    dets = load_json(out)
    cats = cat_per_frame(dets)
    check(len(cats) >= 76, "a cat in only %d of 80 frames" % len(cats))
    ids = {d.get("track") for d in cats.values()}
    check(len(ids) == 1 and None not in ids,
          "the cat got tracks %r (wanted one ID over %d frames)" % (sorted(ids, key=str), len(cats)))
    for d in dets:  # with --track every detection has the key: an ID or null
        check("track" in d, "a detection without \"track\": %r" % d)
        check(d["track"] is None or (isinstance(d["track"], int) and d["track"] >= 1), "bad track %r" % d)
    # MOT Challenge: frame,id,left,top,w,h,conf,-1,-1,-1 with 1-based frames,
    # one line per tracked box, the same boxes and IDs as the JSON.
    with open(mot) as f:
        lines = f.read().splitlines()
    check(lines, "empty MOT file")
    rows = []
    for i, line in enumerate(lines):
        parts = line.split(",")
        check(len(parts) == 10, "MOT line %d has %d fields: %r" % (i + 1, len(parts), line))
        check(parts[7:] == ["-1", "-1", "-1"], "MOT line %d: %r" % (i + 1, line))
        frame, tid = int(parts[0]), int(parts[1])
        left, top, w, h, conf = (float(x) for x in parts[2:7])
        check(1 <= frame <= 80 and tid >= 1 and w > 0 and h > 0 and 0 < conf <= 1,
              "MOT line %d out of range: %r" % (i + 1, line))
        rows.append((frame, tid, left, top, w, h, conf))
    check([r[0] for r in rows] == sorted(r[0] for r in rows), "MOT frames not in order")
    # One box per track and frame, so (frame, id) pairs them; MOT has 2 decimals.
    tracked = sorted((d["frame"] + 1, d["track"], d["bbox"][0], d["bbox"][1], d["bbox"][2], d["bbox"][3])
                     for d in dets if d["track"] is not None)
    from_mot = sorted(r[:6] for r in rows)
    check(len(tracked) == len(from_mot), "JSON has %d tracked boxes, MOT %d lines" % (len(tracked), len(from_mot)))
    far = [(p, q) for p, q in zip(tracked, from_mot)
           if p[:2] != q[:2] or max(abs(x - y) for x, y in zip(p[2:], q[2:])) > 0.0051]
    check(not far, "MOT and JSON disagree: %r" % far[:3])
    cat_id = ids.pop()
    check(sum(1 for r in rows if r[1] == cat_id) == len(cats), "the cat's MOT lines != its frames")
    n, _, _ = probe_frames(os.path.join(outdir, "t.mp4"))
    check(n == 80, "--draw with --track: %d frames" % n)
    print("track: the cat is track %d in all %d frames with a cat; %d MOT lines, %d tracks in all"
          % (cat_id, len(cats), len(rows), len({r[1] for r in rows})))


def t_track_camera(a):
    # The camera reads a file at its frame rate and detects the newest frame, so 25 lines need
    # 25 detections within the clip: at 4 fps (20 s) a sanitizer build on a loaded machine
    # keeps up (at 10 fps it kept 18 of 25); the motion per frame is the same.
    clip = make_track_clip(a, "tc.mp4", rate=4)
    cam = subprocess.Popen([a.exe, "camera", "-m", a.model, "--input-size", "320", "--source", clip,
                            "--headless", "--frames", "25", "--threads", "1", "--track"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = cam.communicate(timeout=180)
    no_sanitizer_report(err)
    check(cam.returncode == 0, "camera exit %d: %s" % (cam.returncode, err))
    lines = parse_lines(out)
    check(len(lines) == 25, "%d JSON lines, wanted 25" % len(lines))
    ids = set()
    for l in lines:
        for d in l["detections"]:
            check("track" in d, "a box without \"track\": %r" % d)
            check(d["track"] is None or (isinstance(d["track"], int) and d["track"] >= 1), "bad track %r" % d)
            if d["name"] == "cat" and d["track"] is not None:
                ids.add(d["track"])
    cats = sum(1 for l in lines for d in l["detections"] if d["name"] == "cat")
    check(cats >= 20, "only %d cats in 25 lines" % cats)
    check(len(ids) == 1, "the cat got tracks %r" % sorted(ids))
    print("camera --track: 25 lines, %d cats, track %r" % (cats, ids))


# src/io/draw.c's palette (Ultralytics'): entry 1 (track 1) and entry 15 (class 15, cat).
TRACK1_COLOUR = (0xFF, 0x9D, 0x97)
CAT_COLOUR = (0x84, 0x38, 0xFF)


def t_track_window(a):
    clip = make_track_clip(a, "tw.mp4")
    counts = {}
    for track in (True, False):
        shot = os.path.join(a.work, "shot-%s.bmp" % ("track" if track else "plain"))
        # LeakSanitizer (sanitizer builds) cannot unwind through SDL's unloaded
        # video driver libraries: their allocations show as "<unknown module>"
        # leaks. The camera window tests run without it too (tests/camera.cmake).
        env = dict(os.environ, SDL_VIDEODRIVER="offscreen",
                   ASAN_OPTIONS=":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"])))
        r = run([a.exe, "camera", "-m", a.model, "--input-size", "320", "--source", clip, "--threads", "1",
                 "--frames", "12", "--screenshot", shot] + (["--track"] if track else []), timeout=180, env=env)
        no_sanitizer_report(r.stderr)
        if r.returncode != 0 and "video" in r.stderr.lower() and "driver" in r.stderr.lower():
            raise Skip("no SDL offscreen driver: %s" % r.stderr)
        check(r.returncode == 0, "camera --screenshot exit %d: %s" % (r.returncode, r.stderr))
        w, h, rows = read_bmp(shot)
        check((w, h) == (320, 240), "screenshot %dx%d" % (w, h))
        # The label sits on the top edge of the cat's box, which fills the frame.
        top = [p for row in rows[:14] for p in row]
        counts[track] = (sum(p == TRACK1_COLOUR for p in top), sum(p == CAT_COLOUR for p in top))
    check(counts[True][0] > 300 and counts[True][1] == 0,
          "with --track: %d pixels of track 1's colour, %d of the cat's" % counts[True])
    check(counts[False][0] == 0 and counts[False][1] > 300,
          "without --track: %d pixels of track 1's colour, %d of the cat's" % counts[False])
    print("window: top rows with --track %d px of track 1's colour (cat's: %d); without %d (cat's: %d)"
          % (counts[True] + counts[False]))


def read_mot(path):
    """MOT Challenge rows (frame, id, left, top, w, h, conf) of a file whose every line has 10 fields."""
    rows = []
    with open(path) as f:
        for i, line in enumerate(f.read().splitlines()):
            parts = line.split(",")
            check(len(parts) == 10 and parts[7:] == ["-1", "-1", "-1"], "%s line %d: %r" % (path, i + 1, line))
            rows.append((int(parts[0]), int(parts[1])) + tuple(float(x) for x in parts[2:7]))
    return rows


def check_mot_is_json(rows, dets, what):
    """The MOT rows are the tracked boxes of the video's JSON detections (frame + 1, ID, box to 0.005)."""
    tracked = sorted((d["frame"] + 1, d["track"]) + tuple(d["bbox"]) for d in dets if d["track"] is not None)
    got = sorted(r[:6] for r in rows)
    check(got and len(tracked) == len(got), "%s: %d MOT lines, %d tracked boxes in the JSON"
          % (what, len(got), len(tracked)))
    far = [(p, q) for p, q in zip(tracked, got)
           if p[:2] != q[:2] or max(abs(x - y) for x, y in zip(p[2:], q[2:])) > 0.0051]
    check(not far, "%s: MOT and JSON disagree: %r" % (what, far[:3]))


def camera_built(a):
    r = run([a.exe, "camera", "--help"])
    return r.returncode == 0


def t_track_options(a):
    """--track-high/--track-low/--new-track/--track-buffer/--match: range checks (exit 2, the
    option named) in detect and camera; every video detection of a --track run has "track" (an
    ID or null); the options reach the tracker (--new-track above every score: no track at all)."""
    clip = make_track_clip(a, "o.mp4")
    cmds = ["detect"] + (["camera"] if camera_built(a) else [])
    bad = [("--track-high", "1.5"), ("--track-low", "-0.1"), ("--new-track", "x"), ("--match", "1.01"),
           ("--track-buffer", "-1"), ("--track-buffer", "2.5"), ("--track-high", "nan")]
    for cmd in cmds:
        tail = [clip] if cmd == "detect" else ["--source", clip, "--headless", "--frames", "3"]
        for opt, val in bad:
            r = run([a.exe, cmd, "-m", a.model, opt, val] + tail)
            no_sanitizer_report(r.stderr)
            check(r.returncode == 2 and opt in r.stderr and "'%s'" % val in r.stderr,
                  "%s %s %s: exit %d, %r" % (cmd, opt, val, r.returncode, r.stderr))
        r = run([a.exe, cmd, "-m", a.model, "--track-low", "0.6", "--track-high", "0.5"] + tail)
        check(r.returncode == 2 and "--track-low 0.6 is above --track-high 0.5" in r.stderr,
              "%s: track-low above track-high: exit %d, %r" % (cmd, r.returncode, r.stderr))
    print("range checks: %d bad values refused (exit 2) by %s" % (len(bad) + 1, " and ".join(cmds)))

    # Defaults, at --conf 0.005: the boxes under track_low 0.1 never get a track: "track": null.
    # (0.005, not 0.02: the all-k=3 model leaves no box between 0.02 and 0.1 on this clip.)
    out = os.path.join(a.work, "o.json")
    detect(a, "--track", "--conf", "0.005", "--json", out, clip)
    dets = load_json(out)
    check(all("track" in d for d in dets), "a detection without \"track\" in a --track run")
    nulls = [d for d in dets if d["track"] is None]
    low_tracked = [d for d in dets if d["track"] is not None and d["score"] < 0.1]
    check(nulls and not low_tracked, "%d null tracks, %d boxes under 0.1 tracked" % (len(nulls), len(low_tracked)))
    cat_ids = {d["track"] for d in cat_per_frame(dets).values()}
    check(len(cat_ids) == 1 and None not in cat_ids, "the cat's tracks %r" % cat_ids)
    cat_max = max(d["score"] for d in dets if d["name"] == "cat")
    check(cat_max < 0.95, "a cat scores %.3f: --new-track 0.95 below would not test anything" % cat_max)
    print("defaults: %d detections, each with \"track\"; %d null, the cat track %r" % (len(dets), len(nulls), cat_ids))

    # --new-track 0.95 (above every score; implies --track): no track is ever born.
    out2 = os.path.join(a.work, "o2.json")
    detect(a, "--new-track", "0.95", "--conf", "0.005", "--json", out2, clip)
    dets2 = load_json(out2)
    check(len(dets2) == len(dets) and all("track" in d and d["track"] is None for d in dets2),
          "--new-track 0.95: tracks %r" % sorted({str(d.get("track", "no key")) for d in dets2}))
    # --track-high 0.95: no box reaches the first stage, so none starts a track either.
    detect(a, "--track-high", "0.95", "--track-low", "0.5", "--json", out2, clip)
    check(all(d["track"] is None for d in load_json(out2)), "--track-high 0.95 gave a track")
    print("--new-track 0.95 / --track-high 0.95: all %d detections \"track\": null" % len(dets2))

    if "camera" in cmds:
        cam = run([a.exe, "camera", "-m", a.model, "--input-size", "320", "--source", clip, "--headless",
                   "--frames", "10", "--threads", "1", "--new-track", "0.95"], timeout=180)
        no_sanitizer_report(cam.stderr)
        check(cam.returncode == 0, "camera --new-track: exit %d: %s" % (cam.returncode, cam.stderr))
        lines = parse_lines(cam.stdout)
        boxes = [d for l in lines for d in l["detections"]]
        check(len(lines) == 10 and len(boxes) >= 8, "camera: %d lines, %d boxes" % (len(lines), len(boxes)))
        check(all("track" in d and d["track"] is None for d in boxes),
              "camera --new-track 0.95: tracks %r" % sorted({str(d.get("track")) for d in boxes}))
        print("camera --new-track 0.95: 10 lines, %d boxes, all \"track\": null" % len(boxes))


def t_mot_multi(a):
    """--mot DIR/ writes DIR/REL.txt per video (the images get none); --mot FILE holds one video
    (the second is reported, exit 1); two videos with one DIR/REL.txt: the second is refused."""
    folder = os.path.join(a.work, "clips")
    os.makedirs(os.path.join(folder, "sub"))
    make_clip(a, "clips/a.mp4", 3, H264)
    make_clip(a, "clips/sub/b.mkv", 3, H264)
    shutil.copy(os.path.join(a.assets, "coffee.jpg"), folder)
    out = os.path.join(a.work, "m.json")
    mot = os.path.join(a.work, "mot")
    detect(a, "--json", out, "--mot", mot + "/", folder)  # --mot implies --track
    dets = load_json(out)

    def mot_files(top):
        return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)
    check(mot_files(mot) == ["a.txt", "sub/b.txt"], "--mot DIR/ wrote %r" % mot_files(mot))
    for video, txt in (("a.mp4", "a.txt"), ("sub/b.mkv", "sub/b.txt")):
        rows = read_mot(os.path.join(mot, txt))
        check_mot_is_json(rows, [d for d in dets if d["file"] == os.path.join(folder, video)], txt)
        check({r[0] for r in rows} <= set(range(1, 31)), "%s: frames %r" % (txt, sorted({r[0] for r in rows})))
    # An existing folder is a folder without the trailing slash too.
    mot2 = os.path.join(a.work, "mot2")
    os.makedirs(mot2)
    detect(a, "--mot", mot2, folder)
    check(mot_files(mot2) == ["a.txt", "sub/b.txt"], "--mot EXISTING_DIR wrote %r" % mot_files(mot2))
    for txt in ("a.txt", "sub/b.txt"):
        check(open(os.path.join(mot, txt)).read() == open(os.path.join(mot2, txt)).read(), "%s differs" % txt)
    print("--mot DIR/: a.txt (%d lines), sub/b.txt (%d lines), each the JSON's tracked boxes"
          % tuple(len(read_mot(os.path.join(mot, t))) for t in ("a.txt", "sub/b.txt")))

    # One FILE for two videos: the first one's tracks, the second reported.
    one = os.path.join(a.work, "one.txt")
    r = detect(a, "--mot", one, folder, expect=1)
    check("holds the tracks of one video" in r.stderr and "sub/b.mkv" in r.stderr, "stderr %r" % r.stderr)
    check(open(one).read() == open(os.path.join(mot, "a.txt")).read(), "--mot FILE is not a.mp4's tracks")
    print("--mot FILE with two videos: exit 1, %s" % r.stderr.strip())

    # x.avi and x.mp4 in one folder would both write DIR/x.txt: the first (walk order) keeps it.
    same = os.path.join(a.work, "same")
    os.makedirs(same)
    make_clip(a, "same/x.avi", 2, MJPEG)
    make_clip(a, "same/x.mp4", 3, H264)
    mot3 = os.path.join(a.work, "mot3") + "/"
    out3 = os.path.join(a.work, "same.json")
    r = detect(a, "--json", out3, "--mot", mot3, same, expect=1)
    check("x.mp4" in r.stderr and "holds the tracks of one video" in r.stderr, "stderr %r" % r.stderr)
    rows = read_mot(os.path.join(mot3, "x.txt"))
    check(max(r_[0] for r_ in rows) <= 20, "x.txt has frames past x.avi's 20")
    check_mot_is_json(rows, [d for d in load_json(out3) if d["file"].endswith("x.avi")], "x.txt")
    print("x.avi + x.mp4 -> one DIR/x.txt: x.avi's, x.mp4 refused")


def stamps(top):
    """(inode, mtime_ns) of every file under top, hidden ones (the journal) included."""
    st = {}
    for d, _, fs in os.walk(top):
        for f in fs:
            p = os.path.join(d, f)
            s = os.stat(p)
            st[os.path.relpath(p, top)] = (s.st_ino, s.st_mtime_ns)
    return st


def t_resume(a):
    """--resume per video file: a video finished whole is skipped (its outputs untouched), the
    JSON is the same as a run without --resume, a damaged video runs again, changed tracker
    options run it again."""
    src = os.path.join(a.work, "F")
    os.makedirs(os.path.join(src, "sub"))
    make_clip(a, "F/a.mp4", 3, H264)
    make_clip(a, "F/sub/b.mkv", 3, H264)
    shutil.copy(os.path.join(a.assets, "coffee.jpg"), src)
    ref_json, ref_out, ref_mot = (os.path.join(a.work, n) for n in ("ref.json", "ref_out", "ref_mot"))
    detect(a, "--track", "--json", ref_json, "--draw", "--txt", "-o", ref_out, "--mot", ref_mot + "/", src)

    g = os.path.join(a.work, "G")  # the same length as F: the JSON text compares after a replace
    os.makedirs(g)
    shutil.copy(os.path.join(src, "a.mp4"), g)
    js, out, mot = (os.path.join(a.work, n) for n in ("r.json", "r_out", "r_mot"))
    args = ["--resume", "--track", "--json", js, "--draw", "--txt", "-o", out, "--mot", mot + "/", g]
    detect(a, *args)
    first = dict(stamps(out), **{"mot/" + k: v for k, v in stamps(mot).items()})
    check("a.mp4" in first and "a/000000.txt" in first and "mot/a.txt" in first, "first run wrote %r" % sorted(first))
    os.makedirs(os.path.join(g, "sub"))
    shutil.copy(os.path.join(src, "sub", "b.mkv"), os.path.join(g, "sub"))
    shutil.copy(os.path.join(src, "coffee.jpg"), g)
    detect(a, *args)
    second = dict(stamps(out), **{"mot/" + k: v for k, v in stamps(mot).items()})
    touched = [k for k in first if second.get(k) != first[k]]
    check(not touched, "the resumed run rewrote a.mp4's outputs: %r" % touched)
    check({"sub/b.mp4", "coffee.jpg", "mot/sub/b.txt"} <= set(second), "second run wrote %r" % sorted(second))
    want = open(ref_json).read().replace(src + "/", g + "/")
    check(open(js).read() == want, "the resumed JSON differs from a run without --resume")
    for t in ("a.txt", "sub/b.txt"):
        check(open(os.path.join(mot, t)).read() == open(os.path.join(ref_mot, t)).read(), "MOT %s differs" % t)
    check(probe_frames(os.path.join(out, "sub", "b.mp4"))[0] == 30, "b.mp4 drawn frames")
    detect(a, *args)
    third = dict(stamps(out), **{"mot/" + k: v for k, v in stamps(mot).items()})
    touched = [k for k in second if third.get(k) != second[k]]
    check(not touched and open(js).read() == want, "a third run rewrote %r" % touched)
    print("--resume: a.mp4 skipped when b.mkv and coffee.jpg were added (%d files untouched), then all "
          "three; the JSON equals the run without --resume (%d detections)" % (len(first), len(load_json(js))))

    # A damaged video keeps its frames in the JSON, and is run again by the next --resume.
    data = open(make_clip(a, "cut_src.mp4", 6, H264, ["-movflags", "+faststart"]), "rb").read()
    with open(os.path.join(g, "c.mp4"), "wb") as f:
        f.write(data[:len(data) // 2])
    runs = []
    for _ in range(2):
        r = detect(a, *args, expect=1)
        check("truncated" in r.stderr, "no 'truncated' in %r" % r.stderr)
        frames = {d["frame"] for d in load_json(js) if d["file"].endswith("/c.mp4")}
        check(len(frames) >= 10, "the damaged video's frames in the JSON: %d" % len(frames))
        runs.append(stamps(out))
    check(runs[0]["c.mp4"] != runs[1]["c.mp4"], "the damaged video was skipped by --resume")
    check(runs[0]["a.mp4"] == runs[1]["a.mp4"] == first["a.mp4"], "a.mp4 rewritten")
    print("damaged c.mp4: exit 1 and run again each time, %d frames in the JSON" % len(frames))

    # Other tracker settings are another run: the videos are detected again.
    os.remove(os.path.join(g, "c.mp4"))
    detect(a, *(args[:1] + ["--track-buffer", "10"] + args[1:]))
    after = stamps(out)
    check(after["a.mp4"] != first["a.mp4"] and after["sub/b.mp4"] != second["sub/b.mp4"],
          "--track-buffer 10 did not run the videos again")
    check(after["coffee.jpg"] == second["coffee.jpg"], "the photo ran again for a tracker option")
    print("--track-buffer 10: both videos run again, the photo not")


def t_hls(a):
    """HLS as a camera or a media server publishes it: ffmpeg writes a live playlist and its
    segments into a folder in real time (-re, looping), Python's http.server serves the folder
    on 127.0.0.1, and `camera --source http://.../live.m3u8` reads it through libavformat's hls
    demuxer (refreshing the playlist, fetching new segments)."""
    clip = make_clip(a, "live.mp4", 4, H264)
    folder = os.path.join(a.work, "hls")
    os.makedirs(folder)
    playlist = os.path.join(folder, "live.m3u8")
    writer = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
                               "-i", clip, "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_list_size", "5",
                               "-hls_flags", "delete_segments", playlist],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cam = None
    try:
        wait_listening(port, server)
        # A live playlist is read from near its end: wait (by state, generous deadline) until
        # it lists 2 segments, so that the reader has something to start on.
        end = time.time() + 60
        while time.time() < end:
            check(writer.poll() is None, "the ffmpeg HLS writer exited (%s)" % writer.returncode)
            try:
                if open(playlist).read().count("#EXTINF") >= 2:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            check(False, "no HLS playlist with 2 segments after 60 s")
        cam = camera(a, "http://127.0.0.1:%d/live.m3u8" % port, 20)
        out, err = cam.communicate(timeout=150)
        no_sanitizer_report(err)
        check(cam.returncode == 0, "camera exit %d: %s" % (cam.returncode, err))
        check(": hls h264 320x240" in err, "the source was not read as HLS: %s" % err)
        lines = parse_lines(out)
        check(len(lines) == 20, "%d JSON lines, wanted 20" % len(lines))
        frames = [l["frame"] for l in lines]
        check(frames == sorted(frames) and len(set(frames)) == 20, "frames not increasing: %r" % frames)
        check(all(l["width"] == 320 and l["height"] == 240 for l in lines), "frame size")
        cats = sum(1 for l in lines for d in l["detections"] if d["name"] == "cat")
        check(cats >= 10, "only %d cats in 20 frames" % cats)
        print("hls: 20 lines, frames %d..%d, %d cats; %s" % (frames[0], frames[-1], cats,
              [l for l in err.splitlines() if "hls" in l][:1]))
    finally:
        if cam and cam.poll() is None:
            cam.kill()
        for p in (writer, server):
            p.kill()
            p.wait()


class LiveCamera:
    """`bitfalcon camera` as a child whose stdout (JSON lines) and stderr lines are collected by
    two threads as they arrive, so that a test can wait for counts (N lines, a reconnect
    reported) with a generous deadline instead of sleeping for a fixed time."""

    def __init__(self, a, source, frames, extra=()):
        self.p = subprocess.Popen([a.exe, "camera", "-m", a.model, "--input-size", "320", "--source", source,
                                   "--headless", "--frames", str(frames), "--threads", "1"] + list(extra),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        self.cv = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(f, into), daemon=True)
                        for f, into in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self.readers:
            t.start()

    def _read(self, f, into):
        for line in f:
            with self.cv:
                into.append(line)
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def lines(self):
        with self.cv:
            return [json.loads(l) for l in self.out if l.strip()]

    def stderr(self):
        with self.cv:
            return "".join(self.err)

    def count_err(self, text):
        with self.cv:
            return sum(text in l for l in self.err)

    def wait(self, cond, what, deadline_s=90.0):
        """Waits until cond() holds (checked on every new line, and every 0.5 s)."""
        end = time.time() + deadline_s
        with self.cv:
            while not cond():
                check(self.p.poll() is None or any(t.is_alive() for t in self.readers),
                      "the camera exited (%s) before %s; stderr: %s" % (self.p.returncode, what, "".join(self.err)))
                left = end - time.time()
                check(left > 0, "no %s after %.0f s; %d lines; stderr: %s"
                      % (what, deadline_s, len(self.out), "".join(self.err)))
                self.cv.wait(min(left, 0.5))

    def finish(self, timeout=150):
        """Waits for the exit; returns the JSON lines (checked: exit 0, no sanitizer report)."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            check(False, "the camera did not finish in %d s; %d lines" % (timeout, len(self.out)))
        for t in self.readers:
            t.join(30)
        err = self.stderr()
        no_sanitizer_report(err)
        check(self.p.returncode == 0, "camera exit %d: %s" % (self.p.returncode, err))
        return parse_lines("".join(self.out))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def make_pingpong_clip(a, name):
    """80 frames (8 s at FPS): the crop pans right 1.8 px a frame for 4 s, then back, so that a
    server looping it (-stream_loop -1) moves the cat smoothly across the loop too."""
    out = os.path.join(a.work, name)
    ffmpeg("-loop", "1", "-i", os.path.join(a.assets, "chelsea.jpg"),
           "-vf", "crop=320:240:x='82-abs(72-18*t)':y=30", "-t", "8", "-r", str(FPS), *H264, out)
    return out


def check_tracks(lines, what):
    """Every detection has "track" (an ID >= 1 or null); returns the cat's IDs and the number
    of lines with a cat."""
    ids, cats = set(), 0
    for l in lines:
        for d in l["detections"]:
            check("track" in d, "%s: a box without \"track\": %r" % (what, d))
            t = d["track"]
            check(t is None or (type(t) is int and t >= 1), "%s: bad track %r" % (what, d))
            if d["name"] == "cat" and t is not None:
                ids.add(t)
        cats += any(d["name"] == "cat" for d in l["detections"])
    return ids, cats


def check_line_frames(lines, n):
    """n JSON lines whose frame numbers strictly increase; returns the frame numbers."""
    check(len(lines) == n, "%d JSON lines, wanted %d" % (len(lines), n))
    frames = [l["frame"] for l in lines]
    check(frames == sorted(frames) and len(set(frames)) == n, "frames not increasing: %r" % frames)
    return frames


def t_stream_track(a):
    """The issue's acceptance line: `camera --source tcp://127.0.0.1:PORT --headless --frames 100
    --track` prints 100 JSON lines with track IDs; the same through a stream that dies and
    comes back (the server killed after 40 lines and restarted)."""
    clip = make_pingpong_clip(a, "pp.mp4")
    n = 100
    # 1. A steady stream: 100 lines, the moving cat one track ID throughout.
    port = free_port()
    srv = serve(a, clip, port)
    cam = LiveCamera(a, "tcp://127.0.0.1:%d" % port, n, ["--track"])
    try:
        lines = cam.finish()
    finally:
        cam.close()
        srv.kill()
        srv.wait()
    frames = check_line_frames(lines, n)
    check(all(l["reconnects"] == 0 for l in lines), "a reconnect on a steady stream")
    ids, cats = check_tracks(lines, "steady")
    tracked = sum(1 for l in lines if any(d["name"] == "cat" and d["track"] is not None for d in l["detections"]))
    check(cats >= 90 and tracked >= cats - 2, "a cat in %d lines, tracked in %d (of %d)" % (cats, tracked, n))
    check(len(ids) == 1, "the cat got tracks %r over %d lines (wanted one ID)" % (sorted(ids), n))
    print("steady: %d lines (frames %d..%d), a cat in %d, tracked in %d, track IDs %r"
          % (n, frames[0], frames[-1], cats, tracked, sorted(ids)))

    # 2. The server dies after 40 lines and comes back at the same port.
    port = free_port()
    srv = serve(a, clip, port)
    cam = LiveCamera(a, "tcp://127.0.0.1:%d" % port, n, ["--track"])
    try:
        cam.wait(lambda: len(cam.out) >= 40, "40 lines")
        srv.kill()
        srv.wait()
        cam.wait(lambda: cam.count_err("stream lost") >= 1, "'stream lost' on stderr")
        srv = serve(a, clip, port)
        lines = cam.finish()
    finally:
        cam.close()
        srv.kill()
        srv.wait()
    frames = check_line_frames(lines, n)
    recs = [l["reconnects"] for l in lines]
    check(recs == sorted(recs) and recs[0] == 0 and recs[-1] >= 1, "reconnects %r" % recs)
    before = [l for l in lines if l["reconnects"] == 0]
    after = [l for l in lines if l["reconnects"] >= 1]
    check(len(before) >= 40 and len(after) >= 20, "%d lines before the reconnect, %d after" % (len(before), len(after)))
    ids_before, cats_before = check_tracks(before, "before the kill")
    ids_after, cats_after = check_tracks(after, "after the reconnect")
    check(cats_before >= 0.9 * len(before) and len(ids_before) == 1,
          "before the kill: a cat in %d of %d lines, tracks %r" % (cats_before, len(before), sorted(ids_before)))
    tracked_after = sum(1 for l in after if any(d["name"] == "cat" and d["track"] is not None
                                                for d in l["detections"]))
    check(cats_after >= 0.9 * len(after) and tracked_after >= len(after) - 3,
          "after the reconnect: a cat in %d of %d lines, tracked in %d" % (cats_after, len(after), tracked_after))
    print("killed and restarted: %d lines, reconnects %d at the end; %d lines before (cat track %r), "
          "%d after (cat tracked in %d, tracks %r); %s"
          % (n, recs[-1], len(before), sorted(ids_before), len(after), tracked_after, sorted(ids_after),
             [l.strip() for l in cam.err if "reconnect" in l]))


def proc_sample(pid):
    """(open fds, VmRSS in kB) of a live process, from /proc."""
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return fds, rss


def uses_asan(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def t_reconnect_growth(a):
    """The stream killed and restarted 5 times: after each reconnect (frames flowing again) the
    camera's open fds and resident memory are read from /proc: the fd count after the last
    reconnect equals the one after the first, and RSS grows less than 8 MB from the first to
    the fifth (an ASan build keeps freed memory in its quarantine: there LeakSanitizer at the
    exit checks the memory instead, and the fds are checked as in any build)."""
    if not os.path.isdir("/proc/self/fd"):
        raise Skip("no /proc")
    clip = make_clip(a, "live.mp4", 4, H264)
    port = free_port()
    srv = serve(a, clip, port)
    cam = LiveCamera(a, "tcp://127.0.0.1:%d" % port, 1000000, ["--track"])
    samples = []
    try:
        cam.wait(lambda: len(cam.out) >= 5, "5 lines")
        asan = uses_asan(cam.p.pid)
        samples.append(proc_sample(cam.p.pid))
        for k in range(1, 6):
            srv.kill()
            srv.wait()
            cam.wait(lambda: cam.count_err("stream lost") >= k, "loss %d reported" % k)
            srv = serve(a, clip, port)
            cam.wait(lambda: cam.count_err("reconnected after") >= k, "reconnect %d reported" % k)
            # Frames flow again: 5 lines that count this reconnect.
            cam.wait(lambda: sum(1 for l in cam.out if '"reconnects": %d,' % k in l) >= 5,
                     "5 lines after reconnect %d" % k)
            samples.append(proc_sample(cam.p.pid))
        cam.p.send_signal(signal.SIGTERM)
        lines = cam.finish()
    finally:
        cam.close()
        srv.kill()
        srv.wait()
    check(lines[-1]["reconnects"] == 5, "reconnects %d at the end, wanted 5" % lines[-1]["reconnects"])
    fds = [s[0] for s in samples]
    rss = [s[1] for s in samples]
    print("fds before the first kill %d, after reconnects 1..5: %r" % (fds[0], fds[1:]))
    print("VmRSS (kB) before %d, after reconnects 1..5: %r; growth 1 -> 5: %d kB%s"
          % (rss[0], rss[1:], rss[5] - rss[1], " (ASan build: not bounded)" if asan else ""))
    check(fds[5] == fds[1], "open fds grew over reconnects: %r" % fds)
    if not asan:
        check(rss[5] - rss[1] < 8 * 1024, "RSS grew %d kB from reconnect 1 to 5: %r" % (rss[5] - rss[1], rss))
    print("%d lines, 5 reconnects; exit 0 on SIGTERM" % len(lines))


RTSP_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtsp_server.py")


def serve_rtsp(a, clip, port=0, deadline_s=60.0):
    """tests/video/rtsp_server.py (GStreamer's RTSP server) serving clip at
    rtsp://127.0.0.1:PORT/x; waits for its "listening PORT" line. Returns (process, port,
    its stdout lines so far and to come, collected by a thread)."""
    log = os.path.join(a.work, "rtsp_server.err")  # GStreamer's warnings, if any: not a pipe that could fill
    with open(log, "a") as errf:
        p = subprocess.Popen([sys.executable, RTSP_SERVER, clip, "--port", str(port)],
                             stdout=subprocess.PIPE, stderr=errf, text=True)
    said = []
    cv = threading.Condition()

    def read():
        for line in p.stdout:
            with cv:
                said.append(line.strip())
                cv.notify_all()
        with cv:
            said.append(None)
            cv.notify_all()
    threading.Thread(target=read, daemon=True).start()
    end = time.time() + deadline_s
    with cv:
        # Its "listening PORT" line, or the end of its output (it exited: 77 when it lacks
        # the GStreamer bindings).
        while not any(l is None or l.startswith("listening ") for l in said):
            check(time.time() < end, "the RTSP server did not listen in %.0f s: %r" % (deadline_s, said))
            cv.wait(0.5)
        first = next(l for l in said if l is None or l.startswith("listening "))
    if first is None:
        rc = p.wait()
        if rc == SKIP:
            raise Skip("%s" % "; ".join(l for l in said if l))
        check(False, "the RTSP server exited %d: %s %s" % (rc, said, open(log).read()))
    return p, int(first.split()[1]), said


def t_rtsp(a):
    """RTSP as IP cameras serve it: GStreamer's RTSP server (tests/video/rtsp_server.py, Debian's
    gir1.2-gst-rtsp-server-1.0) serves an H.264 clip at rtsp://127.0.0.1:PORT/x; `camera
    --source rtsp://...` reads it over TCP (the server logs the SETUP's Transport:
    RTP/AVP/TCP), then the server is killed and restarted at the same port: the camera
    reconnects and frames resume."""
    pp = make_pingpong_clip(a, "pp.mp4")
    # 48 s: the stream ends with the file, and each connection starts it anew; each run here
    # takes well under that (about 8 s and 20 s of wall time in all, less per connection).
    clip = os.path.join(a.work, "long.mp4")
    ffmpeg("-stream_loop", "5", "-i", pp, "-c", "copy", clip)
    srv, port, said = serve_rtsp(a, clip)
    url = "rtsp://127.0.0.1:%d/x" % port
    n = 30
    try:
        cam = LiveCamera(a, url, n, ["--track"])
        try:
            lines = cam.finish()
        finally:
            cam.close()
        err = cam.stderr()
        check(": rtsp h264 320x240" in err, "the source was not read as RTSP: %s" % err)
        check(len(lines) == n, "%d JSON lines, wanted %d" % (len(lines), n))
        frames = [l["frame"] for l in lines]
        check(frames == sorted(frames) and len(set(frames)) == n, "frames not increasing: %r" % frames)
        check(all(l["width"] == 320 and l["height"] == 240 and l["reconnects"] == 0 for l in lines),
              "frame size or reconnects")
        ids, cats = check_tracks(lines, "rtsp")
        check(cats >= 0.9 * n and len(ids) == 1, "a cat in %d of %d lines, tracks %r" % (cats, n, sorted(ids)))
        setups = [s for s in said if s and s.startswith("setup ")]
        check(setups and all(s.startswith("setup RTP/AVP/TCP") for s in setups),
              "the camera's SETUP did not ask for TCP: %r" % setups)
        print("rtsp: %d lines (frames %d..%d), a cat in %d, track %r; %s" % (n, frames[0], frames[-1], cats,
              sorted(ids), setups))

        # The server killed after 15 lines and restarted at the same port: the camera sees the
        # stream end and reconnects. Then it is stopped (SIGSTOP: a silent peer, the socket
        # open): the 5 s timeout must end the read; it is killed and restarted again.
        n = 50
        cam = LiveCamera(a, url, n)
        try:
            cam.wait(lambda: len(cam.out) >= 15, "15 lines")
            srv.kill()
            srv.wait()
            cam.wait(lambda: cam.count_err("stream lost") >= 1, "'stream lost' on stderr")
            srv, _, said = serve_rtsp(a, clip, port)
            cam.wait(lambda: sum(1 for l in cam.out if '"reconnects": 1,' in l) >= 10, "10 lines after reconnect 1")
            os.kill(srv.pid, signal.SIGSTOP)
            stopped_at = time.time()
            cam.wait(lambda: cam.count_err("stream lost") >= 2, "a second 'stream lost' (timeout)", 60)
            silent_s = time.time() - stopped_at
            srv.kill()
            srv.wait()
            srv, _, said = serve_rtsp(a, clip, port)
            lines = cam.finish()
        finally:
            cam.close()
        check(len(lines) == n, "%d JSON lines, wanted %d" % (len(lines), n))
        recs = [l["reconnects"] for l in lines]
        check(recs == sorted(recs) and recs[0] == 0 and recs[-1] >= 2, "reconnects %r" % recs)
        lost = [l.strip() for l in cam.err if "stream lost" in l]
        # A timeout, not the end of the stream: reported no sooner than the 5 s timeout (here
        # "reading the stream: no answer for 5.0 s" after 10 s: two reads of 5 s), and within the
        # wait's 60 s, so the capture thread did not hang on the silent socket.
        check("it ended" not in lost[1] and silent_s >= 4.0, "the silent server: %r after %.1f s" % (lost[1], silent_s))
        for k in (1, 2):
            part = [l for l in lines if l["reconnects"] == k]
            cats = sum(1 for l in part if any(d["name"] == "cat" for d in l["detections"]))
            check(len(part) >= 10 and cats >= 0.9 * len(part),
                  "after reconnect %d: %d lines, a cat in %d" % (k, len(part), cats))
            print("after reconnect %d: %d lines, a cat in %d" % (k, len(part), cats))
        print("rtsp server killed, restarted, stopped (reported lost after %.1f s: %r), killed, restarted: "
              "%d lines, reconnects %d at the end; %s" % (silent_s, lost[1], n, recs[-1],
                                                          [l.strip() for l in cam.err if "reconnect" in l]))
    finally:
        srv.kill()
        srv.wait()


TESTS = {"formats": t_formats, "draw": t_draw, "stride": t_stride, "walk": t_walk,
         "damaged": t_damaged, "hostile": t_hostile, "stream": t_stream, "http": t_http,
         "reconnect": t_reconnect, "track": t_track, "track_camera": t_track_camera,
         "track_window": t_track_window, "track_options": t_track_options, "mot_multi": t_mot_multi,
         "resume": t_resume, "hls": t_hls, "stream_track": t_stream_track,
         "reconnect_growth": t_reconnect_growth, "rtsp": t_rtsp}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--exe", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--assets", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("test", choices=sorted(TESTS))
    a = p.parse_args()
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        print("skipped: no ffmpeg/ffprobe program")
        return SKIP
    if not os.path.isfile(a.model):
        print("skipped: no model %s" % a.model)
        return SKIP
    a.work = os.path.join(a.work, a.test)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    try:
        TESTS[a.test](a)
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    except Skip as e:
        print("skipped: %s" % e)
        return SKIP
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
