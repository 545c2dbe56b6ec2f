#!/usr/bin/env python3
"""Runs `bitfalcon bench ... --json` and checks the JSON it prints (fields,
types, consistency); never asserts on speed.

    check_bench_json.py --requant-isas ref,avx2,... BITFALCON MODEL SIZE THREADS [IMAGE]

The requant names come from kernels/i32-requant/i32-requant.inc (tests/bench.cmake).
"""
import argparse
import json
import subprocess


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requant-isas", required=True, help="comma-separated requant path names it may report")
    ap.add_argument("exe", help="the bitfalcon program")
    ap.add_argument("model", help="the .bfm model")
    ap.add_argument("size", help="input size")
    ap.add_argument("threads", help="thread count (0: the default)")
    ap.add_argument("image", nargs="?", help="image to run on (default: the bench's synthetic one)")
    a = ap.parse_args()
    requant_isas = a.requant_isas.split(",")
    threads = a.threads
    cmd = [a.exe, "bench", "-m", a.model, "--size", a.size, "--threads", threads, "--runs", "3", "--warmup", "1",
           "--json"]
    if a.image:
        cmd += ["--image", a.image]
    size = a.size
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, timeout=600).stdout.decode()
    r = json.loads(out)
    for key in ("median_ms", "p90_ms", "min_ms", "mean_ms", "fps", "cpu_ms", "network_ms", "peak_gops"):
        assert isinstance(r[key], (int, float)) and r[key] >= 0, (key, r.get(key))
    assert isinstance(r["isa"], str) and r["isa"], r["isa"]
    # Every SIMD path has a measured peak loop, the one its kernel is built on
    # (kernels/peak.c), so the per-layer % of peak means something there.
    loops = {"neondot": "sdot", "neon": "smlal", "avx512vnni": "vpdpbusd", "avx2": "vpmaddubsw"}
    if r["isa"] in loops:
        assert r["peak_gops"] > 0, ("no measured peak on", r["isa"], r["peak_loop"], r["peak_why"])
        assert r["peak_loop"].startswith(loops[r["isa"]]), (r["isa"], r["peak_loop"])
        assert isinstance(r["peak_why"], str) and r["peak_why"], r["peak_why"]
    assert r["requant_isa"] in requant_isas, (r["requant_isa"], requant_isas)
    assert r["threads"] == (int(threads) or r["threads"]) and r["threads"] >= 1, r["threads"]
    assert r["size"] == int(size) and r["runs"] == 3, (r["size"], r["runs"])
    assert r["median_ms"] > 0 and r["min_ms"] <= r["median_ms"] <= r["p90_ms"] + 1e-9, r
    assert abs(r["fps"] - 1000.0 / r["median_ms"]) < 1e-3 * r["fps"] + 1e-3, r
    layers = r["layers"]
    assert len(layers) > 0 and all(l["ms"] >= 0 for l in layers)
    convs = [l for l in layers if l["op"] == "conv"]
    assert convs and all(l["gops"] >= 0 for l in convs)
    if r["peak_gops"] > 0:
        assert all(0 <= l["peak_pct"] for l in convs) and any(l["peak_pct"] > 0 for l in convs), convs[:3]
    share = sum(l["share_pct"] for l in layers)
    assert abs(share - 100.0) < 0.5 or share == 0, share
    print("bench json ok: %s %d px, %d threads, median %.2f ms, %d layers" %
          (r["isa"], r["size"], r["threads"], r["median_ms"], len(layers)))


if __name__ == "__main__":
    main()
